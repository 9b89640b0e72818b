//! `/v1/whatsapp/webhook`: where Meta tells the gateway what became of the WhatsApp
//! messages it sent, and what craftsmen wrote to the business number (issue 13).
//! The operator sets it as the callback URL of the Meta app's WhatsApp webhook,
//! subscribed to the `messages` field.
//!
//! - `GET` is Meta's verification request: "hub.mode … This value will always be set
//!   to subscribe", "hub.challenge … An int you must pass back to us", and the
//!   endpoint must "Verify that the hub.verify_token value matches the string you set
//!   in the Verify Token field" (developers.facebook.com/docs/graph-api/webhooks/
//!   getting-started, "Verification Requests"; docs/services.md W10).
//! - `POST` carries events, signed with the app secret in `X-Hub-Signature-256`
//!   (docs/services.md W11): an event whose signature does not match is refused
//!   with 401 and never read. A `messages` item opens its sender's customer-service
//!   window; a `statuses` item goes to the delivery layer
//!   ([`crate::delivery::whatsapp_status`]), which records it with the attempt that
//!   sent the message, reopens a delivered delivery on a `failed` one, and keeps
//!   in the store a status that came before its attempt was recorded.

use std::collections::HashMap;

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::Utc;

use crate::api::AppState;
use crate::chat_answers::Tap;
use crate::delivery::channels::whatsapp::{self, Notification, Status, event_time};
use crate::delivery::whatsapp_status::{self, Taken};
use crate::error::{ApiError, Problem};
use crate::model::{ChatKind, Language};
use crate::secrets;

/// Answer Meta's webhook verification request.
///
/// Answers `hub.challenge` as plain text when `hub.mode` is `subscribe` and
/// `hub.verify_token` is the configured verify token.
#[utoipa::path(
    tag = "channels",
    params(
        ("hub.mode" = String, Query, description = "Always `subscribe`."),
        ("hub.verify_token" = String, Query, description = "The verify token set in the Meta app dashboard."),
        ("hub.challenge" = String, Query, description = "What to answer."),
    ),
    responses(
        (status = 200, description = "The challenge, as plain text.", body = String, content_type = "text/plain"),
        (status = 403, description = "A wrong mode or verify token, or none configured.", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/whatsapp/webhook")]
pub async fn verify_whatsapp_webhook(
    state: web::Data<AppState>,
    query: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, ApiError> {
    let expected = state
        .config
        .delivery
        .whatsapp
        .as_ref()
        .and_then(|w| w.verify_token.as_deref())
        .ok_or_else(|| {
            ApiError::Forbidden(
                "this gateway has no WhatsApp verify token: the operator must set \
                 [delivery.whatsapp] verify_token"
                    .into(),
            )
        })?;
    let given = |name: &str| query.get(name).map(String::as_str).unwrap_or_default();
    if given("hub.mode") != "subscribe" || !secrets::matches(given("hub.verify_token"), expected) {
        tracing::warn!("a WhatsApp webhook verification with a wrong mode or token");
        return Err(ApiError::Forbidden(
            "hub.mode must be subscribe and hub.verify_token the configured verify token".into(),
        ));
    }
    Ok(HttpResponse::Ok()
        .content_type("text/plain; charset=utf-8")
        .body(given("hub.challenge").to_owned()))
}

/// Take Meta's WhatsApp webhook events.
///
/// The body must be signed (`X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the
/// body, keyed with the app secret>`). Answered 200 once read, whatever it held:
/// Meta retries an event it could not deliver.
#[utoipa::path(
    tag = "channels",
    request_body(content = serde_json::Value, content_type = "application/json", description = "A `whatsapp_business_account` notification."),
    responses(
        (status = 200, description = "Taken."),
        (status = 400, description = "A signed body that is not a notification.", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No signature, or a wrong one.", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "No app secret is configured, so no event can be trusted.", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/whatsapp/webhook")]
pub async fn whatsapp_webhook(
    state: web::Data<AppState>,
    request: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let secret = state
        .config
        .delivery
        .whatsapp
        .as_ref()
        .and_then(|w| w.app_secret.as_deref())
        .ok_or_else(|| {
            ApiError::Unavailable(
                "this gateway has no WhatsApp app secret to check events with: the operator \
                 must set JEMBATAN_WHATSAPP_APP_SECRET"
                    .into(),
            )
        })?;
    let signature = request
        .headers()
        .get("x-hub-signature-256")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if !whatsapp::signature_is_valid(secret, &body, signature) {
        tracing::warn!("a WhatsApp webhook event without a valid X-Hub-Signature-256");
        return Err(ApiError::Unauthorized(
            "X-Hub-Signature-256 is missing or does not match the body".into(),
        ));
    }
    let notification: Notification = serde_json::from_slice(&body)
        .map_err(|e| ApiError::BadRequest(format!("not a WhatsApp notification: {e}")))?;
    if notification.object != "whatsapp_business_account" {
        return Err(ApiError::BadRequest(format!(
            "object is {:?}, not whatsapp_business_account",
            notification.object
        )));
    }
    let now = Utc::now();
    for change in notification.entry.iter().flat_map(|e| &e.changes) {
        if change.field != "messages" {
            continue;
        }
        for message in &change.value.messages {
            let at = event_time(&message.timestamp, now);
            let known = state
                .store
                .record_whatsapp_inbound(&message.from, at)
                .await?;
            tracing::info!(from = %message.from, known, "a WhatsApp message to the business number");
            take_answer(&state, message, at, now).await?;
        }
        for status in &change.value.statuses {
            take_status(&state, status).await?;
        }
        for error in &change.value.errors {
            // Tied to no message, so to no delivery: the operator's to see.
            tracing::error!(error = %error.text(), "WhatsApp reports an error on the business number");
        }
    }
    Ok(HttpResponse::Ok().finish())
}

/// Acts on a craftsman's message: a tapped reply button (`interactive`
/// `button_reply`) or template quick reply (`button`) answers the order it names,
/// and a text is the reason for a rejection waiting in that chat
/// ([`crate::chat_answers`]). A message older than `[chat_answers] event_max_age`
/// changes nothing: a captured event replayed later is refused by its own
/// `timestamp`, which the signature covers; a repeated one within the bound is
/// known by its `wamid`.
async fn take_answer(
    state: &AppState,
    message: &whatsapp::InboundMessage,
    at: chrono::DateTime<Utc>,
    now: chrono::DateTime<Utc>,
) -> Result<(), ApiError> {
    let payload = match (&message.interactive, &message.button) {
        (Some(interactive), _) if interactive.kind == "button_reply" => {
            interactive.button_reply.as_ref().map(|b| b.id.as_str())
        }
        (_, Some(button)) => Some(button.payload.as_str()),
        _ => None,
    };
    let text = message.text.as_ref().map(|t| t.body.as_str());
    if payload.is_none() && text.is_none() {
        return Ok(());
    }
    let max_age = chrono::Duration::from_std(state.config.chat_answers.event_max_age)
        .unwrap_or(chrono::TimeDelta::minutes(15));
    if at < now - max_age {
        tracing::warn!(from = %message.from, wamid = %message.id, sent_at = %at,
            "a WhatsApp message older than the chat event bound (replayed?); nothing changed");
        return Ok(());
    }
    let answers = &state.chat_answers;
    let reply = match (payload, text) {
        (Some(payload), _) => Some(
            answers
                .tap(Tap {
                    kind: ChatKind::WhatsApp,
                    chat_id: &message.from,
                    payload,
                    event_key: format!("whatsapp:{}", message.id),
                    fallback_language: Language::Indonesian,
                })
                .await?,
        ),
        (None, Some(text)) => {
            answers
                .text(ChatKind::WhatsApp, &message.from, text)
                .await?
        }
        (None, None) => None,
    };
    if let Some(reply) = reply {
        answers
            .say(ChatKind::WhatsApp, &message.from, &reply.text())
            .await;
    }
    Ok(())
}

/// Hands one status to the delivery layer; rings the worker when it reopened a
/// delivery.
async fn take_status(state: &AppState, status: &Status) -> Result<(), ApiError> {
    let Some(status) = whatsapp_status::read(status, Utc::now()) else {
        tracing::debug!(status = %status.status, "a WhatsApp status this gateway does not keep");
        return Ok(());
    };
    let schedule = &state.config.delivery.retry_schedule;
    if let Taken::Applied { reopened: true } =
        whatsapp_status::take(&*state.store, schedule, status).await?
    {
        state.bell.ring();
    }
    Ok(())
}
