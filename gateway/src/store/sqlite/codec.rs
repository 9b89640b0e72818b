//! How values cross into and out of SQLite columns: times as fixed-width RFC 3339
//! text, JSON as text, and rows decoded into the store's types. A stored value that
//! cannot be decoded is a [`sqlx::Error::Decode`]: the schema's invariants were broken.

use chrono::{DateTime, SecondsFormat, SubsecRound, Utc};

use crate::store::{
    BindingChange, Buyer, Message, MessageAttempt, MessageSummary, OrderRecord, PluginArtifact,
    PluginRef, StoreError, StoredResponse,
};

/// Now, at the precision we store, so a returned record equals the stored one.
pub(super) fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(3)
}

pub(super) fn time_text(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

pub(super) fn parse_time(text: &str) -> Result<DateTime<Utc>, sqlx::Error> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| decode(format!("bad time {text:?}: {e}")))
}

pub(super) fn json_text<T: serde::Serialize>(value: &T) -> Result<String, sqlx::Error> {
    serde_json::to_string(value).map_err(|e| sqlx::Error::Encode(Box::new(e)))
}

pub(super) fn parse_json<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, sqlx::Error> {
    serde_json::from_str(text).map_err(|e| decode(e.to_string()))
}

/// A stored value we cannot read back: the schema's invariants were broken.
pub(super) fn decode(why: impl Into<String>) -> sqlx::Error {
    sqlx::Error::Decode(why.into().into())
}

/// Turns constraint violations into the store's own errors, naming what was written.
pub(super) fn classify(what: &str, e: sqlx::Error) -> StoreError {
    if let sqlx::Error::Database(db) = &e {
        if db.is_unique_violation() {
            return StoreError::Conflict(format!("{what}: {}", db.message()));
        }
        if db.is_foreign_key_violation() {
            return StoreError::Invalid(format!("{what}: {}", db.message()));
        }
    }
    StoreError::Database(e)
}

#[derive(sqlx::FromRow)]
pub(super) struct BuyerRow {
    pub(super) id: String,
    pub(super) name: String,
    pub(super) plugin: String,
    pub(super) plugin_version: Option<String>,
    pub(super) plugin_config: String,
    pub(super) limits: Option<String>,
    pub(super) created_at: String,
}

impl TryFrom<BuyerRow> for Buyer {
    type Error = sqlx::Error;

    fn try_from(row: BuyerRow) -> Result<Self, Self::Error> {
        Ok(Buyer {
            plugin_config: parse_json(&row.plugin_config)?,
            limits: row.limits.as_deref().map(parse_json).transpose()?,
            created_at: parse_time(&row.created_at)?,
            id: row.id,
            name: row.name,
            plugin: row.plugin,
            plugin_version: row.plugin_version,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct BindingRow {
    pub(super) buyer_id: String,
    pub(super) plugin: String,
    pub(super) plugin_version: Option<String>,
    pub(super) plugin_config: String,
    pub(super) changed_at: String,
}

impl TryFrom<BindingRow> for BindingChange {
    type Error = sqlx::Error;

    fn try_from(row: BindingRow) -> Result<Self, Self::Error> {
        Ok(BindingChange {
            plugin_config: parse_json(&row.plugin_config)?,
            changed_at: parse_time(&row.changed_at)?,
            buyer_id: row.buyer_id,
            plugin: row.plugin,
            plugin_version: row.plugin_version,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct PluginRow {
    pub(super) sha256: String,
    pub(super) name: String,
    pub(super) version: String,
    pub(super) description: String,
    pub(super) content_types: String,
    pub(super) size_bytes: i64,
    pub(super) uploaded_at: String,
}

impl TryFrom<PluginRow> for PluginArtifact {
    type Error = sqlx::Error;

    fn try_from(row: PluginRow) -> Result<Self, Self::Error> {
        Ok(PluginArtifact {
            content_types: parse_json(&row.content_types)?,
            size_bytes: u64::try_from(row.size_bytes).map_err(|e| decode(e.to_string()))?,
            uploaded_at: parse_time(&row.uploaded_at)?,
            sha256: row.sha256,
            name: row.name,
            version: row.version,
            description: row.description,
        })
    }
}

/// A plugin with its component bytes.
#[derive(sqlx::FromRow)]
pub(super) struct PluginWasmRow {
    #[sqlx(flatten)]
    pub(super) plugin: PluginRow,
    pub(super) wasm: Vec<u8>,
}

/// The plugin named by a pair of nullable columns; both or neither.
fn plugin_ref(
    what: &str,
    name: Option<String>,
    version: Option<String>,
) -> Result<Option<PluginRef>, sqlx::Error> {
    match (name, version) {
        (Some(name), Some(version)) => Ok(Some(PluginRef { name, version })),
        (None, None) => Ok(None),
        _ => Err(decode(format!("{what}: half a plugin reference"))),
    }
}

pub(super) fn count(value: i64) -> Result<u32, sqlx::Error> {
    u32::try_from(value).map_err(|e| decode(e.to_string()))
}

/// Every column of a message but its body.
#[derive(sqlx::FromRow)]
pub(super) struct MessageMetaRow {
    pub(super) id: String,
    pub(super) buyer_id: String,
    pub(super) received_via: String,
    pub(super) content_type: String,
    pub(super) headers: String,
    pub(super) body_sha256: String,
    pub(super) idempotency_key: Option<String>,
    pub(super) status: String,
    pub(super) error: Option<String>,
    pub(super) response_status: Option<i64>,
    pub(super) response_body: Option<String>,
    pub(super) attempts: i64,
    pub(super) plugin_name: Option<String>,
    pub(super) plugin_version: Option<String>,
    pub(super) received_at: String,
    pub(super) processed_at: Option<String>,
}

impl MessageMetaRow {
    fn into_message(self, body: Vec<u8>, order_ids: Vec<String>) -> Result<Message, sqlx::Error> {
        let response = match (self.response_status, self.response_body.as_deref()) {
            (Some(status), Some(body)) => Some(StoredResponse {
                status: u16::try_from(status).map_err(|e| decode(e.to_string()))?,
                body: parse_json(body)?,
            }),
            (None, None) => None,
            _ => return Err(decode(format!("message {}: half a response", self.id))),
        };
        Ok(Message {
            received_via: self.received_via.parse().map_err(decode)?,
            headers: parse_json(&self.headers)?,
            status: self.status.parse().map_err(decode)?,
            error: self.error.as_deref().map(parse_json).transpose()?,
            response,
            attempts: count(self.attempts)?,
            processed_by: plugin_ref(
                &format!("message {}", self.id),
                self.plugin_name,
                self.plugin_version,
            )?,
            order_ids,
            received_at: parse_time(&self.received_at)?,
            processed_at: self.processed_at.as_deref().map(parse_time).transpose()?,
            id: self.id,
            buyer_id: self.buyer_id,
            content_type: self.content_type,
            body,
            body_sha256: self.body_sha256,
            idempotency_key: self.idempotency_key,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct MessageRow {
    #[sqlx(flatten)]
    pub(super) meta: MessageMetaRow,
    pub(super) body: Vec<u8>,
}

impl MessageRow {
    pub(super) fn into_message(self, order_ids: Vec<String>) -> Result<Message, sqlx::Error> {
        self.meta.into_message(self.body, order_ids)
    }
}

/// A message without its body, for listings.
#[derive(sqlx::FromRow)]
pub(super) struct MessageSummaryRow {
    #[sqlx(flatten)]
    pub(super) meta: MessageMetaRow,
    pub(super) body_size: i64,
}

impl MessageSummaryRow {
    pub(super) fn into_summary(
        self,
        order_ids: Vec<String>,
    ) -> Result<MessageSummary, sqlx::Error> {
        let body_size = u64::try_from(self.body_size).map_err(|e| decode(e.to_string()))?;
        // The row has the body's size, not the body.
        let message = self.meta.into_message(Vec::new(), order_ids)?;
        Ok(MessageSummary {
            body_size,
            ..message.into()
        })
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct AttemptRow {
    pub(super) message_id: String,
    pub(super) attempt: i64,
    pub(super) status: String,
    pub(super) error: Option<String>,
    pub(super) plugin_name: Option<String>,
    pub(super) plugin_version: Option<String>,
    pub(super) processed_at: String,
    pub(super) reopened_at: String,
    pub(super) note: Option<String>,
}

impl TryFrom<AttemptRow> for MessageAttempt {
    type Error = sqlx::Error;

    fn try_from(row: AttemptRow) -> Result<Self, Self::Error> {
        let what = format!("message {} attempt {}", row.message_id, row.attempt);
        Ok(MessageAttempt {
            attempt: count(row.attempt)?,
            status: row.status.parse().map_err(decode)?,
            error: row.error.as_deref().map(parse_json).transpose()?,
            processed_by: plugin_ref(&what, row.plugin_name, row.plugin_version)?,
            processed_at: parse_time(&row.processed_at)?,
            reopened_at: parse_time(&row.reopened_at)?,
            note: row.note.as_deref().map(parse_json).transpose()?,
            message_id: row.message_id,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct OrderRow {
    pub(super) id: String,
    pub(super) message_id: String,
    pub(super) buyer_id: String,
    pub(super) buyer_order_number: String,
    pub(super) supplier_code: String,
    pub(super) craftsman_id: Option<String>,
    pub(super) status: String,
    pub(super) body: String,
    pub(super) created_at: String,
    pub(super) updated_at: String,
}

impl TryFrom<OrderRow> for OrderRecord {
    type Error = sqlx::Error;

    fn try_from(row: OrderRow) -> Result<Self, Self::Error> {
        Ok(OrderRecord {
            status: row.status.parse().map_err(decode)?,
            order: parse_json(&row.body)?,
            created_at: parse_time(&row.created_at)?,
            updated_at: parse_time(&row.updated_at)?,
            id: row.id,
            message_id: row.message_id,
            buyer_id: row.buyer_id,
            buyer_order_number: row.buyer_order_number,
            supplier_code: row.supplier_code,
            craftsman_id: row.craftsman_id,
        })
    }
}
