//! How values cross into and out of the engines' columns, the same for every engine:
//! times as fixed-width RFC 3339 text, JSON as text, and the row structs that turn
//! into the store's types. Each engine reads its rows into these structs (SQLite's
//! `from_row` in `sqlite::codec`, PostgreSQL's in `postgres::codec`); turning one into
//! the store's type can fail, with a [`StoreError::Database`]: a stored value that
//! cannot be decoded means the schema's invariants were broken.

use chrono::{DateTime, SecondsFormat, SubsecRound, Utc};
use jembatan_schemas::{PurchaseOrderV2, upgrade_v1};

use crate::model::{ChannelTarget, Language};
use crate::orders::OrderSchema;
use crate::store::{
    AdminAlert, BindingChange, Buyer, Channel, ClaimedDelivery, Craftsman, Delivery,
    DeliveryAttempt, EngineError, MAX_PAGE, Message, MessageAttempt, MessageSummary, OrderRecord,
    PluginArtifact, PluginRef, Receipt, Route, RoutedOrder, StoreError, StoreResult,
    StoredResponse, TransactionRecord, WhatsAppContact, WhatsAppStatus,
};

/// Now, at the precision we store, so a returned record equals the stored one.
pub(in crate::store) fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(3)
}

pub(in crate::store) fn time_text(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

pub(in crate::store) fn parse_time(text: &str) -> Result<DateTime<Utc>, StoreError> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| decode(format!("bad time {text:?}: {e}")))
}

pub(in crate::store) fn json_text<T: serde::Serialize>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| StoreError::Database(EngineError::new(e)))
}

pub(in crate::store) fn parse_json<T: serde::de::DeserializeOwned>(
    text: &str,
) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|e| decode(e.to_string()))
}

/// A stored value we cannot read back: the schema's invariants were broken.
pub(in crate::store) fn decode(why: impl Into<String>) -> StoreError {
    StoreError::Database(EngineError::msg(why))
}

pub(in crate::store) struct BuyerRow {
    pub(in crate::store) id: String,
    pub(in crate::store) name: String,
    pub(in crate::store) plugin: String,
    pub(in crate::store) plugin_version: Option<String>,
    pub(in crate::store) plugin_config: String,
    pub(in crate::store) limits: Option<String>,
    pub(in crate::store) callback_url: Option<String>,
    pub(in crate::store) created_at: String,
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

pub(in crate::store) struct BindingRow {
    pub(in crate::store) buyer_id: String,
    pub(in crate::store) plugin: String,
    pub(in crate::store) plugin_version: Option<String>,
    pub(in crate::store) plugin_config: String,
    pub(in crate::store) changed_at: String,
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

pub(in crate::store) struct PluginRow {
    pub(in crate::store) sha256: String,
    pub(in crate::store) name: String,
    pub(in crate::store) version: String,
    pub(in crate::store) description: String,
    pub(in crate::store) content_types: String,
    pub(in crate::store) size_bytes: i64,
    pub(in crate::store) uploaded_at: String,
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
pub(in crate::store) struct PluginWasmRow {
    pub(in crate::store) plugin: PluginRow,
    pub(in crate::store) wasm: Vec<u8>,
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

pub(in crate::store) fn count(value: i64) -> Result<u32, StoreError> {
    u32::try_from(value).map_err(|e| decode(e.to_string()))
}

/// Every column of a message but its body.
pub(in crate::store) struct MessageMetaRow {
    pub(in crate::store) id: String,
    pub(in crate::store) buyer_id: String,
    pub(in crate::store) received_via: String,
    pub(in crate::store) content_type: String,
    pub(in crate::store) headers: String,
    pub(in crate::store) body_sha256: String,
    pub(in crate::store) idempotency_key: Option<String>,
    pub(in crate::store) status: String,
    pub(in crate::store) error: Option<String>,
    pub(in crate::store) response_status: Option<i64>,
    pub(in crate::store) response_body: Option<String>,
    pub(in crate::store) attempts: i64,
    pub(in crate::store) plugin_name: Option<String>,
    pub(in crate::store) plugin_version: Option<String>,
    pub(in crate::store) received_at: String,
    pub(in crate::store) processed_at: Option<String>,
    pub(in crate::store) warnings: String,
    pub(in crate::store) body_purged_at: Option<String>,
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

pub(in crate::store) struct MessageRow {
    pub(in crate::store) meta: MessageMetaRow,
    pub(in crate::store) body: Vec<u8>,
}

impl MessageRow {
    pub(in crate::store) fn into_message(
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
pub(in crate::store) use transaction_columns;

/// A stored transaction, with its order's number and status when it is one.
pub(in crate::store) struct TransactionRow {
    pub(in crate::store) idx: i64,
    pub(in crate::store) control_number: Option<String>,
    pub(in crate::store) status: String,
    pub(in crate::store) order_id: Option<String>,
    pub(in crate::store) buyer_order_number: Option<String>,
    pub(in crate::store) order_status: Option<String>,
    pub(in crate::store) error: Option<String>,
    pub(in crate::store) kind: Option<String>,
    pub(in crate::store) reason: Option<String>,
    pub(in crate::store) warnings: String,
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
pub(in crate::store) struct MessageSummaryRow {
    pub(in crate::store) meta: MessageMetaRow,
    pub(in crate::store) body_size: i64,
}

impl MessageSummaryRow {
    pub(in crate::store) fn into_summary(
        self,
        order_ids: Vec<String>,
    ) -> Result<MessageSummary, StoreError> {
        let body_size = u64::try_from(self.body_size).map_err(|e| decode(e.to_string()))?;
        // The row has the body's size, not the body.
        let message = self.meta.into_message(Vec::new(), order_ids, Vec::new())?;
        Ok(MessageSummary {
            body_size,
            ..message.into()
        })
    }
}

pub(in crate::store) struct AttemptRow {
    pub(in crate::store) message_id: String,
    pub(in crate::store) attempt: i64,
    pub(in crate::store) status: String,
    pub(in crate::store) error: Option<String>,
    pub(in crate::store) plugin_name: Option<String>,
    pub(in crate::store) plugin_version: Option<String>,
    pub(in crate::store) processed_at: String,
    pub(in crate::store) reopened_at: String,
    pub(in crate::store) note: Option<String>,
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

pub(in crate::store) struct OrderRow {
    pub(in crate::store) id: String,
    pub(in crate::store) message_id: String,
    pub(in crate::store) buyer_id: String,
    pub(in crate::store) buyer_order_number: String,
    pub(in crate::store) supplier_code: String,
    pub(in crate::store) craftsman_id: Option<String>,
    pub(in crate::store) status: String,
    pub(in crate::store) response: Option<String>,
    pub(in crate::store) routed_at: Option<String>,
    pub(in crate::store) reminded_at: Option<String>,
    pub(in crate::store) body: String,
    pub(in crate::store) schema_version: i64,
    pub(in crate::store) created_at: String,
    pub(in crate::store) updated_at: String,
}

/// The canonical order version new rows are written in (`orders.schema_version`).
pub(in crate::store) const STORED_ORDER_VERSION: i64 = 2;

impl OrderRow {
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

pub(in crate::store) struct DeliveryRow {
    pub(in crate::store) id: String,
    pub(in crate::store) order_id: String,
    pub(in crate::store) kind: String,
    pub(in crate::store) craftsman_id: String,
    pub(in crate::store) channel_id: Option<String>,
    pub(in crate::store) response_id: Option<String>,
    pub(in crate::store) channel: String,
    pub(in crate::store) state: String,
    pub(in crate::store) attempts: i64,
    pub(in crate::store) next_attempt_at: Option<String>,
    pub(in crate::store) last_status_code: Option<i64>,
    pub(in crate::store) last_error: Option<String>,
    pub(in crate::store) created_at: String,
    pub(in crate::store) updated_at: String,
    pub(in crate::store) delivered_at: Option<String>,
}

pub(in crate::store) fn status_code(code: Option<i64>) -> Result<Option<u16>, StoreError> {
    code.map(|c| u16::try_from(c).map_err(|e| decode(e.to_string())))
        .transpose()
}

impl TryFrom<DeliveryRow> for Delivery {
    type Error = StoreError;

    fn try_from(row: DeliveryRow) -> Result<Self, Self::Error> {
        Ok(Delivery {
            kind: row.kind.parse().map_err(decode)?,
            state: row.state.parse().map_err(decode)?,
            attempts: count(row.attempts)?,
            next_attempt_at: row.next_attempt_at.as_deref().map(parse_time).transpose()?,
            last_status_code: status_code(row.last_status_code)?,
            created_at: parse_time(&row.created_at)?,
            updated_at: parse_time(&row.updated_at)?,
            delivered_at: row.delivered_at.as_deref().map(parse_time).transpose()?,
            id: row.id,
            order_id: row.order_id,
            craftsman_id: row.craftsman_id,
            channel_id: row.channel_id,
            response_id: row.response_id,
            channel: row.channel,
            last_error: row.last_error,
        })
    }
}

pub(in crate::store) struct DeliveryAttemptRow {
    pub(in crate::store) delivery_id: String,
    pub(in crate::store) attempt: i64,
    pub(in crate::store) started_at: String,
    pub(in crate::store) duration_ms: i64,
    pub(in crate::store) outcome: String,
    pub(in crate::store) status_code: Option<i64>,
    pub(in crate::store) error: Option<String>,
    pub(in crate::store) message_id: Option<String>,
    pub(in crate::store) receipt: Option<String>,
    pub(in crate::store) receipt_at: Option<String>,
}

impl TryFrom<DeliveryAttemptRow> for DeliveryAttempt {
    type Error = StoreError;

    fn try_from(row: DeliveryAttemptRow) -> Result<Self, Self::Error> {
        Ok(DeliveryAttempt {
            attempt: count(row.attempt)?,
            started_at: parse_time(&row.started_at)?,
            duration_ms: u64::try_from(row.duration_ms).map_err(|e| decode(e.to_string()))?,
            outcome: row.outcome.parse().map_err(decode)?,
            status_code: status_code(row.status_code)?,
            receipt: row
                .receipt
                .as_deref()
                .map(str::parse)
                .transpose()
                .map_err(decode)?,
            receipt_at: row.receipt_at.as_deref().map(parse_time).transpose()?,
            delivery_id: row.delivery_id,
            error: row.error,
            message_id: row.message_id,
        })
    }
}

pub(in crate::store) struct CraftsmanRow {
    pub(in crate::store) id: String,
    pub(in crate::store) name: String,
    pub(in crate::store) language: String,
    pub(in crate::store) created_at: String,
}

pub(in crate::store) struct ChannelRow {
    pub(in crate::store) id: String,
    pub(in crate::store) craftsman_id: String,
    pub(in crate::store) target: String,
    pub(in crate::store) disabled_at: Option<String>,
    pub(in crate::store) disabled_reason: Option<String>,
    pub(in crate::store) created_at: String,
}

impl TryFrom<ChannelRow> for Channel {
    type Error = StoreError;

    fn try_from(row: ChannelRow) -> Result<Self, Self::Error> {
        Ok(Channel {
            target: parse_json(&row.target)?,
            disabled_at: row.disabled_at.as_deref().map(parse_time).transpose()?,
            created_at: parse_time(&row.created_at)?,
            id: row.id,
            craftsman_id: row.craftsman_id,
            disabled_reason: row.disabled_reason,
        })
    }
}

pub(in crate::store) fn parse_language(text: &str) -> Result<Language, StoreError> {
    Language::from_tag(text).ok_or_else(|| decode(format!("unknown language {text:?}")))
}

impl CraftsmanRow {
    pub(in crate::store) fn into_craftsman(
        self,
        channels: Vec<Channel>,
    ) -> Result<Craftsman, StoreError> {
        Ok(Craftsman {
            language: parse_language(&self.language)?,
            created_at: parse_time(&self.created_at)?,
            id: self.id,
            name: self.name,
            channels,
        })
    }
}

pub(in crate::store) struct RouteRow {
    pub(in crate::store) buyer_id: String,
    pub(in crate::store) supplier_code: String,
    pub(in crate::store) craftsman_id: String,
    pub(in crate::store) updated_at: String,
}

impl TryFrom<RouteRow> for Route {
    type Error = StoreError;

    fn try_from(row: RouteRow) -> Result<Self, Self::Error> {
        Ok(Route {
            updated_at: parse_time(&row.updated_at)?,
            buyer_id: row.buyer_id,
            supplier_code: row.supplier_code,
            craftsman_id: row.craftsman_id,
        })
    }
}

/// A `whatsapp_contacts` row, its columns read with a prefix (`wa_`) when it comes
/// from a join that may find none.
pub(in crate::store) struct WhatsAppContactRow {
    pub(in crate::store) wa_id: String,
    pub(in crate::store) opted_in_at: Option<String>,
    pub(in crate::store) opt_in_source: Option<String>,
    pub(in crate::store) last_inbound_at: Option<String>,
}

impl TryFrom<WhatsAppContactRow> for WhatsAppContact {
    type Error = StoreError;

    fn try_from(row: WhatsAppContactRow) -> Result<Self, Self::Error> {
        Ok(Self {
            opted_in_at: row.opted_in_at.as_deref().map(parse_time).transpose()?,
            last_inbound_at: row.last_inbound_at.as_deref().map(parse_time).transpose()?,
            wa_id: row.wa_id,
            opt_in_source: row.opt_in_source,
        })
    }
}

/// A `whatsapp_early_statuses` row: a status kept for a message no recorded
/// attempt names yet.
pub(in crate::store) struct EarlyStatusRow {
    pub(in crate::store) wamid: String,
    pub(in crate::store) status: String,
    pub(in crate::store) status_at: String,
    pub(in crate::store) recipient_id: String,
    pub(in crate::store) error_code: Option<i64>,
    pub(in crate::store) error_text: Option<String>,
}

impl TryFrom<EarlyStatusRow> for WhatsAppStatus {
    type Error = StoreError;

    fn try_from(row: EarlyStatusRow) -> Result<Self, Self::Error> {
        Ok(Self {
            receipt: row.status.parse::<Receipt>().map_err(decode)?,
            at: parse_time(&row.status_at)?,
            wamid: row.wamid,
            recipient_id: row.recipient_id,
            error_code: row.error_code,
            error: row.error_text,
        })
    }
}

pub(in crate::store) struct AlertRow {
    pub(in crate::store) id: String,
    pub(in crate::store) event: String,
    pub(in crate::store) channel: String,
    pub(in crate::store) reason: Option<String>,
    pub(in crate::store) occurred_at: String,
    pub(in crate::store) state: String,
    pub(in crate::store) attempts: i64,
    pub(in crate::store) next_attempt_at: Option<String>,
    pub(in crate::store) last_error: Option<String>,
    pub(in crate::store) sent_at: Option<String>,
}

impl AlertRow {
    pub(in crate::store) fn into_alert(self) -> StoreResult<AdminAlert> {
        let time = |t: Option<String>| t.as_deref().map(parse_time).transpose();
        Ok(AdminAlert {
            id: self.id,
            event: self.event.parse().map_err(decode)?,
            channel: self.channel,
            reason: self.reason,
            occurred_at: parse_time(&self.occurred_at)?,
            state: self.state.parse().map_err(decode)?,
            attempts: count(self.attempts)?,
            next_attempt_at: time(self.next_attempt_at)?,
            last_error: self.last_error,
            sent_at: time(self.sent_at)?,
        })
    }
}

/// Cuts the rows an engine fetched for a newest-first page (one more than
/// `limit`) to `limit`, and returns the cursor of the next page if there is one.
pub(in crate::store) fn split_page<T>(
    mut rows: Vec<T>,
    limit: u32,
    id: impl Fn(&T) -> &str,
) -> (Vec<T>, Option<String>) {
    if rows.len() > limit as usize {
        rows.truncate(limit as usize);
        let cursor = rows.last().map(|row| id(row).to_owned());
        (rows, cursor)
    } else {
        (rows, None)
    }
}

/// The page size a query asked for, within bounds.
pub(in crate::store) fn page_limit(limit: u32) -> u32 {
    limit.clamp(1, MAX_PAGE)
}

/// A claimed delivery with what its worker needs, as the engines read it.
pub(in crate::store) struct ClaimRow {
    pub(in crate::store) delivery_id: String,
    pub(in crate::store) kind: String,
    pub(in crate::store) attempts: i64,
    pub(in crate::store) schedule_base: i64,
    pub(in crate::store) delivered_parts: String,
    pub(in crate::store) channel_id: Option<String>,
    pub(in crate::store) target: Option<String>,
    pub(in crate::store) callback_url: Option<String>,
    pub(in crate::store) callback_secret: Option<String>,
    pub(in crate::store) response: Option<String>,
    pub(in crate::store) buyer_name: String,
    pub(in crate::store) craftsman_name: String,
    pub(in crate::store) language: String,
    pub(in crate::store) whatsapp: Option<WhatsAppContactRow>,
    pub(in crate::store) order: OrderRow,
}

impl TryFrom<ClaimRow> for ClaimedDelivery {
    type Error = StoreError;

    fn try_from(row: ClaimRow) -> Result<Self, Self::Error> {
        let attempts = count(row.attempts)?;
        let target = match row.target {
            Some(target) => parse_json(&target)?,
            // A response to the buyer: its callback as it is now, as a webhook
            // carrying v2. A callback removed since the claim has no URL, which
            // the webhook channel refuses for good.
            None => ChannelTarget::Webhook {
                url: row.callback_url.unwrap_or_default(),
                secret: row.callback_secret,
                order_schema: Some(OrderSchema::V2),
            },
        };
        Ok(ClaimedDelivery {
            attempt: attempts + 1,
            kind: row.kind.parse().map_err(decode)?,
            attempts_in_schedule: attempts.saturating_sub(count(row.schedule_base)?),
            target,
            response: row.response.as_deref().map(parse_json).transpose()?,
            language: parse_language(&row.language)?,
            order: OrderRecord::try_from(row.order)?,
            id: row.delivery_id,
            channel_id: row.channel_id,
            buyer_name: row.buyer_name,
            craftsman_name: row.craftsman_name,
            whatsapp: row.whatsapp.map(WhatsAppContact::try_from).transpose()?,
            delivered_parts: parse_json(&row.delivered_parts)?,
        })
    }
}
