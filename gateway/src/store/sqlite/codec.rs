//! How values cross into and out of SQLite columns: times as fixed-width RFC 3339
//! text, JSON as text, and rows decoded into the store's types. A row struct reads its
//! columns by name (`from_row`); turning it into the store's type can fail, with a
//! [`StoreError::Database`]: a stored value that cannot be decoded means the schema's
//! invariants were broken.

use chrono::{DateTime, SecondsFormat, SubsecRound, Utc};
use jembatan_schemas::{PurchaseOrderV2, upgrade_v1};
use rusqlite::Row;

use crate::store::{
    BindingChange, Buyer, EngineError, Message, MessageAttempt, MessageSummary, OrderRecord,
    PluginArtifact, PluginRef, RoutedOrder, StoreError, StoredResponse, TransactionRecord,
};

/// Now, at the precision we store, so a returned record equals the stored one.
pub(super) fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(3)
}

pub(super) fn time_text(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

pub(super) fn parse_time(text: &str) -> Result<DateTime<Utc>, StoreError> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| decode(format!("bad time {text:?}: {e}")))
}

pub(super) fn json_text<T: serde::Serialize>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| StoreError::Database(EngineError::new(e)))
}

pub(super) fn parse_json<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|e| decode(e.to_string()))
}

/// A stored value we cannot read back: the schema's invariants were broken.
pub(super) fn decode(why: impl Into<String>) -> StoreError {
    StoreError::Database(EngineError::msg(why))
}

/// Turns constraint violations into the store's own errors, naming what was written.
pub(super) fn classify(what: &str, e: rusqlite::Error) -> StoreError {
    use rusqlite::ffi;
    if let rusqlite::Error::SqliteFailure(failure, message) = &e {
        let message = message.as_deref().unwrap_or("constraint failed");
        match failure.extended_code {
            ffi::SQLITE_CONSTRAINT_UNIQUE | ffi::SQLITE_CONSTRAINT_PRIMARYKEY => {
                return StoreError::Conflict(format!("{what}: {message}"));
            }
            ffi::SQLITE_CONSTRAINT_FOREIGNKEY => {
                return StoreError::Invalid(format!("{what}: {message}"));
            }
            _ => {}
        }
    }
    e.into()
}

pub(super) struct BuyerRow {
    pub(super) id: String,
    pub(super) name: String,
    pub(super) plugin: String,
    pub(super) plugin_version: Option<String>,
    pub(super) plugin_config: String,
    pub(super) limits: Option<String>,
    pub(super) callback_url: Option<String>,
    pub(super) created_at: String,
}

impl BuyerRow {
    pub(super) fn from_row(row: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            id: row.get("id")?,
            name: row.get("name")?,
            plugin: row.get("plugin")?,
            plugin_version: row.get("plugin_version")?,
            plugin_config: row.get("plugin_config")?,
            limits: row.get("limits")?,
            callback_url: row.get("callback_url")?,
            created_at: row.get("created_at")?,
        })
    }
}

impl TryFrom<BuyerRow> for Buyer {
    type Error = StoreError;

    fn try_from(row: BuyerRow) -> Result<Self, Self::Error> {
        Ok(Buyer {
            plugin_config: parse_json(&row.plugin_config)?,
            limits: row.limits.as_deref().map(parse_json).transpose()?,
            created_at: parse_time(&row.created_at)?,
            id: row.id,
            name: row.name,
            plugin: row.plugin,
            plugin_version: row.plugin_version,
            callback_url: row.callback_url,
        })
    }
}

pub(super) struct BindingRow {
    pub(super) buyer_id: String,
    pub(super) plugin: String,
    pub(super) plugin_version: Option<String>,
    pub(super) plugin_config: String,
    pub(super) changed_at: String,
}

impl BindingRow {
    pub(super) fn from_row(row: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            buyer_id: row.get("buyer_id")?,
            plugin: row.get("plugin")?,
            plugin_version: row.get("plugin_version")?,
            plugin_config: row.get("plugin_config")?,
            changed_at: row.get("changed_at")?,
        })
    }
}

impl TryFrom<BindingRow> for BindingChange {
    type Error = StoreError;

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

pub(super) struct PluginRow {
    pub(super) sha256: String,
    pub(super) name: String,
    pub(super) version: String,
    pub(super) description: String,
    pub(super) content_types: String,
    pub(super) size_bytes: i64,
    pub(super) uploaded_at: String,
}

impl PluginRow {
    pub(super) fn from_row(row: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            sha256: row.get("sha256")?,
            name: row.get("name")?,
            version: row.get("version")?,
            description: row.get("description")?,
            content_types: row.get("content_types")?,
            size_bytes: row.get("size_bytes")?,
            uploaded_at: row.get("uploaded_at")?,
        })
    }
}

impl TryFrom<PluginRow> for PluginArtifact {
    type Error = StoreError;

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
pub(super) struct PluginWasmRow {
    pub(super) plugin: PluginRow,
    pub(super) wasm: Vec<u8>,
}

impl PluginWasmRow {
    pub(super) fn from_row(row: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            plugin: PluginRow::from_row(row)?,
            wasm: row.get("wasm")?,
        })
    }
}

/// The plugin named by a pair of nullable columns; both or neither.
fn plugin_ref(
    what: &str,
    name: Option<String>,
    version: Option<String>,
) -> Result<Option<PluginRef>, StoreError> {
    match (name, version) {
        (Some(name), Some(version)) => Ok(Some(PluginRef { name, version })),
        (None, None) => Ok(None),
        _ => Err(decode(format!("{what}: half a plugin reference"))),
    }
}

pub(super) fn count(value: i64) -> Result<u32, StoreError> {
    u32::try_from(value).map_err(|e| decode(e.to_string()))
}

/// Every column of a message but its body.
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
    pub(super) warnings: String,
    pub(super) body_purged_at: Option<String>,
}

impl MessageMetaRow {
    pub(super) fn from_row(row: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            id: row.get("id")?,
            buyer_id: row.get("buyer_id")?,
            received_via: row.get("received_via")?,
            content_type: row.get("content_type")?,
            headers: row.get("headers")?,
            body_sha256: row.get("body_sha256")?,
            idempotency_key: row.get("idempotency_key")?,
            status: row.get("status")?,
            error: row.get("error")?,
            response_status: row.get("response_status")?,
            response_body: row.get("response_body")?,
            attempts: row.get("attempts")?,
            plugin_name: row.get("plugin_name")?,
            plugin_version: row.get("plugin_version")?,
            received_at: row.get("received_at")?,
            processed_at: row.get("processed_at")?,
            warnings: row.get("warnings")?,
            body_purged_at: row.get("body_purged_at")?,
        })
    }
}

impl MessageMetaRow {
    fn into_message(
        self,
        body: Vec<u8>,
        order_ids: Vec<String>,
        transactions: Vec<TransactionRecord>,
    ) -> Result<Message, StoreError> {
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
            warnings: parse_json(&self.warnings)?,
            body_purged_at: self.body_purged_at.as_deref().map(parse_time).transpose()?,
            transactions,
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

pub(super) struct MessageRow {
    pub(super) meta: MessageMetaRow,
    pub(super) body: Vec<u8>,
}

impl MessageRow {
    pub(super) fn from_row(row: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            meta: MessageMetaRow::from_row(row)?,
            body: row.get("body")?,
        })
    }
}

impl MessageRow {
    pub(super) fn into_message(
        self,
        order_ids: Vec<String>,
        transactions: Vec<TransactionRecord>,
    ) -> Result<Message, StoreError> {
        self.meta.into_message(self.body, order_ids, transactions)
    }
}

/// The columns of a transaction with its order's number and status: the query
/// joins `orders`.
macro_rules! transaction_columns {
    () => {
        "t.idx, t.control_number, t.status, t.order_id, o.buyer_order_number, \
         o.status AS order_status, t.error, t.kind, t.reason, t.warnings"
    };
}
pub(super) use transaction_columns;

/// A stored transaction, with its order's number and status when it is one.
pub(super) struct TransactionRow {
    idx: i64,
    control_number: Option<String>,
    status: String,
    order_id: Option<String>,
    buyer_order_number: Option<String>,
    order_status: Option<String>,
    error: Option<String>,
    kind: Option<String>,
    reason: Option<String>,
    warnings: String,
}

impl TransactionRow {
    pub(super) fn from_row(row: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            idx: row.get("idx")?,
            control_number: row.get("control_number")?,
            status: row.get("status")?,
            order_id: row.get("order_id")?,
            buyer_order_number: row.get("buyer_order_number")?,
            order_status: row.get("order_status")?,
            error: row.get("error")?,
            kind: row.get("kind")?,
            reason: row.get("reason")?,
            warnings: row.get("warnings")?,
        })
    }
}

impl TryFrom<TransactionRow> for TransactionRecord {
    type Error = StoreError;

    fn try_from(row: TransactionRow) -> Result<Self, StoreError> {
        let order = match (row.order_id, row.buyer_order_number, row.order_status) {
            (Some(id), Some(buyer_order_number), Some(status)) => Some(RoutedOrder {
                id,
                buyer_order_number,
                status: status.parse().map_err(decode)?,
            }),
            (None, _, _) => None,
            (Some(id), _, _) => return Err(decode(format!("transaction order {id} is missing"))),
        };
        Ok(Self {
            index: u32::try_from(row.idx).map_err(|e| decode(e.to_string()))?,
            control_number: row.control_number,
            status: row.status.parse().map_err(decode)?,
            order,
            error: row.error.as_deref().map(parse_json).transpose()?,
            kind: row.kind,
            reason: row.reason,
            warnings: parse_json(&row.warnings)?,
        })
    }
}

/// A message without its body, for listings.
pub(super) struct MessageSummaryRow {
    pub(super) meta: MessageMetaRow,
    pub(super) body_size: i64,
}

impl MessageSummaryRow {
    pub(super) fn from_row(row: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            meta: MessageMetaRow::from_row(row)?,
            body_size: row.get("body_size")?,
        })
    }
}

impl MessageSummaryRow {
    pub(super) fn into_summary(self, order_ids: Vec<String>) -> Result<MessageSummary, StoreError> {
        let body_size = u64::try_from(self.body_size).map_err(|e| decode(e.to_string()))?;
        // The row has the body's size, not the body.
        let message = self.meta.into_message(Vec::new(), order_ids, Vec::new())?;
        Ok(MessageSummary {
            body_size,
            ..message.into()
        })
    }
}

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

impl AttemptRow {
    pub(super) fn from_row(row: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            message_id: row.get("message_id")?,
            attempt: row.get("attempt")?,
            status: row.get("status")?,
            error: row.get("error")?,
            plugin_name: row.get("plugin_name")?,
            plugin_version: row.get("plugin_version")?,
            processed_at: row.get("processed_at")?,
            reopened_at: row.get("reopened_at")?,
            note: row.get("note")?,
        })
    }
}

impl TryFrom<AttemptRow> for MessageAttempt {
    type Error = StoreError;

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

pub(super) struct OrderRow {
    pub(super) id: String,
    pub(super) message_id: String,
    pub(super) buyer_id: String,
    pub(super) buyer_order_number: String,
    pub(super) supplier_code: String,
    pub(super) craftsman_id: Option<String>,
    pub(super) status: String,
    pub(super) response: Option<String>,
    pub(super) routed_at: Option<String>,
    pub(super) reminded_at: Option<String>,
    pub(super) body: String,
    pub(super) schema_version: i64,
    pub(super) created_at: String,
    pub(super) updated_at: String,
}

/// The canonical order version new rows are written in (`orders.schema_version`).
pub(super) const STORED_ORDER_VERSION: i64 = 2;

impl OrderRow {
    pub(super) fn from_row(row: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            id: row.get("id")?,
            message_id: row.get("message_id")?,
            buyer_id: row.get("buyer_id")?,
            buyer_order_number: row.get("buyer_order_number")?,
            supplier_code: row.get("supplier_code")?,
            craftsman_id: row.get("craftsman_id")?,
            status: row.get("status")?,
            response: row.get("response")?,
            routed_at: row.get("routed_at")?,
            reminded_at: row.get("reminded_at")?,
            body: row.get("body")?,
            schema_version: row.get("schema_version")?,
            created_at: row.get("created_at")?,
            updated_at: row.get("updated_at")?,
        })
    }

    /// The stored order as v2: a row written before v2 holds a v1 order, read with
    /// the v1 types and upgraded (losslessly); its bytes stay as they were sent.
    fn order(&self) -> Result<PurchaseOrderV2, StoreError> {
        match self.schema_version {
            1 => parse_json(&self.body).map(upgrade_v1),
            STORED_ORDER_VERSION => parse_json(&self.body),
            other => Err(decode(format!(
                "order {} has schema version {other}, which this build cannot read",
                self.id
            ))),
        }
    }
}

impl TryFrom<OrderRow> for OrderRecord {
    type Error = StoreError;

    fn try_from(row: OrderRow) -> Result<Self, Self::Error> {
        Ok(OrderRecord {
            status: row.status.parse().map_err(decode)?,
            response: row
                .response
                .as_deref()
                .map(str::parse)
                .transpose()
                .map_err(decode)?,
            routed_at: row.routed_at.as_deref().map(parse_time).transpose()?,
            reminded_at: row.reminded_at.as_deref().map(parse_time).transpose()?,
            order: row.order()?,
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
