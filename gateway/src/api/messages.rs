//! `/v1/messages`: the inbound messages as received, and what became of them.

use actix_web::{get, web};
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::AppState;
use super::auth::{BuyerAuth, UNAUTHORIZED_BUYER};
use crate::error::{ApiError, Problem};
use crate::store::{Message, MessageStatus, ReceivedVia};

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
    /// `received` (not yet processed), `normalized` or `failed`.
    #[schema(value_type = String)]
    pub status: MessageStatus,
    /// The orders made from this message.
    pub order_ids: Vec<String>,
    /// Why the message failed (the problem document that was answered).
    #[schema(value_type = Option<Object>)]
    pub error: Option<serde_json::Value>,
    pub received_at: DateTime<Utc>,
    pub processed_at: Option<DateTime<Utc>>,
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
