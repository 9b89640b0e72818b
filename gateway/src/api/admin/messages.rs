//! `/v1/admin/messages`: every buyer's inbound messages, and replaying the ones
//! that failed through the buyer's current plugin.

use actix_web::{get, post, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::api::auth::{AdminAuth, UNAUTHORIZED_ADMIN};
use crate::api::messages::TransactionView;
use crate::api::{AppState, BAD_LISTING_QUERY, page_limit};
use crate::error::{ApiError, Problem};
use crate::store::{
    EmailReply, MessageAttempt, MessageQuery, MessageStatus, MessageSummary, ReceivedVia,
};

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    /// `received`, `normalized` or `failed`.
    #[param(value_type = Option<String>)]
    status: Option<MessageStatus>,
    /// Only this buyer's messages.
    buyer: Option<String>,
    /// `true`: only messages with a refused transaction; with
    /// `status=normalized`, those whose refused transactions can be replayed
    /// beside their orders.
    refused: Option<bool>,
    /// Page size, 1 to 200 (default 50).
    limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    after: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MessagePageView {
    #[schema(value_type = Vec<Object>)]
    pub messages: Vec<MessageSummary>,
    pub next_cursor: Option<String>,
}

/// A message with the outcomes it had before each replay.
#[derive(Debug, Serialize, ToSchema)]
pub struct MessageDetail {
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub message: MessageSummary,
    /// What became of each transaction of the message, by index.
    pub transactions: Vec<TransactionView>,
    /// Earlier outcomes, oldest first.
    #[schema(value_type = Vec<Object>)]
    pub attempts_history: Vec<MessageAttempt>,
    /// For a message that came by e-mail: what was verified of its sender, and
    /// its one reply.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<EmailDetail>,
}

/// What the gateway verified of an e-mailed message, and how it answered.
#[derive(Debug, Serialize, ToSchema)]
pub struct EmailDetail {
    /// The DKIM, SPF and DMARC results (RFC 8601 `Authentication-Results`,
    /// under the gateway's host name) when the operator requires any; else null.
    pub authentication_results: Option<String>,
    /// The one reply to the sender, if one was written. Its `attempt` and
    /// `outcome` say which outcome it told: a replay since (the message's
    /// `attempts` higher) sent no second reply.
    pub reply: Option<EmailReply>,
}

/// List messages of every buyer, newest first; `status=failed` finds the ones to
/// replay.
#[utoipa::path(
    tag = "admin",
    params(ListParams),
    responses(
        (status = 200, description = "A page of messages, newest first.", body = MessagePageView),
        (status = 400, description = BAD_LISTING_QUERY, body = Problem, content_type = "application/problem+json"),
        (status = 401, description = UNAUTHORIZED_ADMIN, body = Problem, content_type = "application/problem+json"),
    ),
    security(("admin_token" = []))
)]
#[get("/admin/messages")]
pub async fn list_messages(
    state: web::Data<AppState>,
    _admin: AdminAuth,
    params: web::Query<ListParams>,
) -> Result<web::Json<MessagePageView>, ApiError> {
    let params = params.into_inner();
    let limit = page_limit(params.limit)?;
    let page = state
        .store
        .list_messages(MessageQuery {
            buyer_id: params.buyer,
            status: params.status,
            with_refused: params.refused.unwrap_or(false),
            limit,
            after: params.after,
        })
        .await?;
    Ok(web::Json(MessagePageView {
        messages: page.messages,
        next_cursor: page.next_cursor,
    }))
}

async fn detail(state: &AppState, id: &str) -> Result<MessageDetail, ApiError> {
    let m = state
        .store
        .get_message(None, id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no message '{id}'")))?;
    let attempts_history = state.store.message_attempts(id).await?;
    let transactions = m.transactions.clone().into_iter().map(Into::into).collect();
    let email = match m.received_via {
        ReceivedVia::Email => Some(EmailDetail {
            authentication_results: authentication_results(
                &m.headers,
                state.config.inbound_email.hostname(),
            ),
            reply: state.store.email_reply(id).await?,
        }),
        ReceivedVia::Http => None,
    };
    let message = MessageSummary::from(m);
    Ok(MessageDetail {
        message,
        transactions,
        attempts_history,
        email,
    })
}

/// The `Authentication-Results` the gateway recorded first among a message's
/// stored headers (`[name, value]` pairs), under its own host name.
fn authentication_results(headers: &serde_json::Value, hostname: &str) -> Option<String> {
    let (name, value) = headers.get(0)?.as_array().map(|h| (h.first(), h.get(1)))?;
    let (name, value) = (name?.as_str()?, value?.as_str()?);
    let ours = name.eq_ignore_ascii_case("authentication-results")
        && value
            .split(';')
            .next()
            .is_some_and(|id| id.trim().eq_ignore_ascii_case(hostname));
    ours.then(|| value.to_owned())
}

/// Read any buyer's message, with its earlier outcomes.
#[utoipa::path(
    tag = "admin",
    // The buyer API has a `get_message` too; operation ids are unique in a document.
    operation_id = "admin_get_message",
    params(("id" = String, Path)),
    responses(
        (status = 200, description = "The message with its earlier outcomes.", body = MessageDetail),
        (status = 401, description = UNAUTHORIZED_ADMIN, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such message.", body = Problem, content_type = "application/problem+json"),
    ),
    security(("admin_token" = []))
)]
#[get("/admin/messages/{id}")]
pub async fn get_message(
    state: web::Data<AppState>,
    _admin: AdminAuth,
    id: web::Path<String>,
) -> Result<web::Json<MessageDetail>, ApiError> {
    Ok(web::Json(detail(&state, &id).await?))
}

/// Replay a message through its buyer's current plugin binding.
///
/// A `failed` message is read again whole; a `normalized` one with refused
/// transactions has only those taken from the new reading, matched by index and
/// control number: an accepted transaction's order is never made twice. The
/// earlier outcome is kept in the message's history. Answers the message as it is
/// after the replay.
#[utoipa::path(
    tag = "admin",
    params(("id" = String, Path)),
    responses(
        (status = 200, description = "The message after the replay: `normalized` with its orders, or `failed` again with the new error.", body = MessageDetail),
        (status = 401, description = UNAUTHORIZED_ADMIN, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such message.", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Nothing to replay (the message is waiting, or every transaction is an order or not an order), or the plugin no longer reads the transactions as they were stored (nothing was changed).", body = Problem, content_type = "application/problem+json"),
    ),
    security(("admin_token" = []))
)]
#[post("/admin/messages/{id}/replay")]
pub async fn replay_message(
    state: web::Data<AppState>,
    _admin: AdminAuth,
    id: web::Path<String>,
) -> Result<web::Json<MessageDetail>, ApiError> {
    state.ingest.replay(&id).await?;
    Ok(web::Json(detail(&state, &id).await?))
}
