//! `/v1/messages`: the inbound messages as received, and what became of them.

use actix_web::{get, web};
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::AppState;
use super::auth::{BuyerAuth, UNAUTHORIZED_BUYER};
use crate::error::{ApiError, Problem};
use crate::store::{Message, MessageStatus, ReceivedVia, TransactionRecord, TransactionStatus};

/// An inbound message and its outcome.
#[derive(Debug, Serialize, ToSchema)]
pub struct MessageView {
    pub id: String,
    /// `http` or `email`.
    #[schema(value_type = String)]
    pub received_via: ReceivedVia,
    pub content_type: String,
    pub size_bytes: usize,
    /// Hex SHA-256 of the body as received.
    pub body_sha256: String,
    pub idempotency_key: Option<String>,
    /// `received` (not yet processed, or being replayed), `normalized` (at least
    /// one of its transactions is an order) or `failed` (none is).
    #[schema(value_type = String)]
    pub status: MessageStatus,
    /// The orders made from this message.
    pub order_ids: Vec<String>,
    /// Why the message failed (the problem document that was answered).
    #[schema(value_type = Option<Object>)]
    pub error: Option<serde_json::Value>,
    /// What the plugin read past in the message as a whole (e.g. an envelope
    /// whose group code does not match its transactions): `{code, message,
    /// location}`. Never a refusal.
    #[schema(value_type = Vec<Object>)]
    pub warnings: Vec<serde_json::Value>,
    /// What became of each transaction of the message (an X12 ST…SE, an EDIFACT
    /// UNH…UNT, a document, an item of a JSON array), by index. Empty while the
    /// message waits, and when the plugin could read nothing of it.
    pub transactions: Vec<TransactionView>,
    /// When retention deleted the body; the message can then not be replayed.
    pub body_purged_at: Option<DateTime<Utc>>,
    pub received_at: DateTime<Utc>,
    pub processed_at: Option<DateTime<Utc>>,
}

/// One transaction of a message and what became of it.
#[derive(Debug, Serialize, ToSchema)]
pub struct TransactionView {
    /// 0-based position among the message's transactions.
    pub index: u32,
    /// Its own control number as written: X12 ST02, EDIFACT UNH 0062, cXML
    /// payloadID.
    pub control_number: Option<String>,
    /// `ok` (an order), `refused` (can be replayed) or `not_an_order`.
    #[schema(value_type = String)]
    pub status: TransactionStatus,
    /// The order made of it.
    pub order_id: Option<String>,
    /// Why it was refused: `{code, message, location}`, with `errors` when the
    /// plugin's order broke the canonical order contract.
    #[schema(value_type = Option<Object>)]
    pub error: Option<serde_json::Value>,
    /// What a document that is not an order is: `810`, `INVOIC`.
    pub kind: Option<String>,
    pub reason: Option<String>,
    /// What the plugin read past in this transaction.
    #[schema(value_type = Vec<Object>)]
    pub warnings: Vec<serde_json::Value>,
}

impl From<TransactionRecord> for TransactionView {
    fn from(t: TransactionRecord) -> Self {
        Self {
            index: t.index,
            control_number: t.control_number,
            status: t.status,
            order_id: t.order.map(|o| o.id),
            error: t.error,
            kind: t.kind,
            reason: t.reason,
            warnings: t.warnings,
        }
    }
}

impl From<Message> for MessageView {
    fn from(m: Message) -> Self {
        Self {
            size_bytes: m.body.len(),
            id: m.id,
            received_via: m.received_via,
            content_type: m.content_type,
            body_sha256: m.body_sha256,
            idempotency_key: m.idempotency_key,
            status: m.status,
            order_ids: m.order_ids,
            error: m.error,
            warnings: m.warnings,
            transactions: m.transactions.into_iter().map(Into::into).collect(),
            body_purged_at: m.body_purged_at,
            received_at: m.received_at,
            processed_at: m.processed_at,
        }
    }
}

/// Read one inbound message.
///
/// A buyer sees only its own messages; another buyer's id is a 404.
#[utoipa::path(
    tag = "messages",
    params(("id" = String, Path, description = "Message id, `msg_…`.")),
    responses(
        (status = 200, description = "The message, its status, its error and the orders made from it.", body = MessageView),
        (status = 401, description = UNAUTHORIZED_BUYER, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such message of this buyer.", body = Problem, content_type = "application/problem+json"),
    ),
    security(("buyer_key" = []))
)]
#[get("/messages/{id}")]
pub async fn get_message(
    state: web::Data<AppState>,
    BuyerAuth(buyer): BuyerAuth,
    id: web::Path<String>,
) -> Result<web::Json<MessageView>, ApiError> {
    state
        .store
        .get_message(Some(&buyer.id), &id)
        .await?
        .map(|m| web::Json(m.into()))
        .ok_or_else(|| ApiError::NotFound(format!("no message '{id}'")))
}
