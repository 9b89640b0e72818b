//! `/v1/telegram/webhook`: where Telegram sends the bot's updates (issue 10, part
//! 2). The operator registers it with `setWebhook` (`url` this endpoint,
//! `secret_token` the configured one, `allowed_updates` `["callback_query",
//! "message"]`); Telegram then sends the token back in
//! `X-Telegram-Bot-Api-Secret-Token` with every update ("If specified, the request
//! will contain a header "X-Telegram-Bot-Api-Secret-Token" with the secret token as
//! content", core.telegram.org/bots/api#setwebhook, docs/services.md T11). An
//! update without it, or with another, is refused with 401 and never read.
//!
//! - A `callback_query` (a tapped inline button under an order) becomes a response
//!   to that order through [`crate::chat_answers`], and is always answered with
//!   `answerCallbackQuery` ("Telegram clients will display a progress bar until you
//!   call answerCallbackQuery", docs/services.md T12), saying what was recorded or
//!   why not.
//! - A `message` with text is the reason for a rejection when one waits in that
//!   chat.
//!
//! A replayed update changes nothing: each `update_id` is taken once (kept two
//! days; Telegram keeps an undelivered update at most 24 hours), and each callback
//! query id makes at most one response.

use actix_web::{HttpRequest, HttpResponse, post, web};
use chrono::Utc;
use serde::Deserialize;

use crate::api::AppState;
use crate::chat_answers::Tap;
use crate::error::{ApiError, Problem};
use crate::model::{ChatKind, Language};
use crate::secrets;

/// A Telegram `Update`, the parts the gateway reads.
#[derive(Debug, Deserialize)]
pub struct Update {
    pub update_id: i64,
    #[serde(default)]
    pub callback_query: Option<CallbackQuery>,
    #[serde(default)]
    pub message: Option<Message>,
}

#[derive(Debug, Deserialize)]
pub struct CallbackQuery {
    pub id: String,
    pub from: User,
    /// The message whose button was tapped; absent for an inline-mode message.
    #[serde(default)]
    pub message: Option<Message>,
    #[serde(default)]
    pub data: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct User {
    pub id: i64,
    #[serde(default)]
    pub language_code: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct Message {
    pub chat: Chat,
    /// Unix seconds.
    #[serde(default)]
    pub date: i64,
    #[serde(default)]
    pub text: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct Chat {
    pub id: i64,
}

fn language_of(user: &User) -> Language {
    match user.language_code.as_deref() {
        Some(code) if code.starts_with("en") => Language::English,
        _ => Language::Indonesian,
    }
}

/// Take a Telegram update.
///
/// The `X-Telegram-Bot-Api-Secret-Token` header must be the configured
/// `secret_token`. Answered 200 once read, whatever it held (a tap on an unknown
/// order, a replayed update): Telegram retries an update it could not deliver.
#[utoipa::path(
    tag = "channels",
    request_body(content = serde_json::Value, content_type = "application/json", description = "A Telegram `Update`."),
    responses(
        (status = 200, description = "Taken."),
        (status = 400, description = "A body that is not an update.", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No secret token, or a wrong one.", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "No secret token is configured, so no update can be trusted.", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/telegram/webhook")]
pub async fn telegram_webhook(
    state: web::Data<AppState>,
    request: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let expected = state
        .config
        .delivery
        .telegram
        .as_ref()
        .and_then(|t| t.secret_token.as_deref())
        .ok_or_else(|| {
            ApiError::Unavailable(
                "this gateway has no Telegram secret token to check updates with: the operator \
                 must set JEMBATAN_TELEGRAM_SECRET_TOKEN and give it to setWebhook"
                    .into(),
            )
        })?;
    let given = request
        .headers()
        .get("x-telegram-bot-api-secret-token")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if !secrets::matches(given, expected) {
        tracing::warn!(
            present = !given.is_empty(),
            "a Telegram update without the right X-Telegram-Bot-Api-Secret-Token"
        );
        return Err(ApiError::Unauthorized(
            "X-Telegram-Bot-Api-Secret-Token is missing or wrong".into(),
        ));
    }
    let update: Update = serde_json::from_slice(&body)
        .map_err(|e| ApiError::BadRequest(format!("not a Telegram update: {e}")))?;
    let now = Utc::now();
    if !state
        .store
        .see_telegram_update(update.update_id, now)
        .await?
    {
        tracing::warn!(
            update_id = update.update_id,
            "a Telegram update taken before (replayed?); nothing changed"
        );
        return Ok(HttpResponse::Ok().finish());
    }
    let max_age = chrono::Duration::from_std(state.config.chat_answers.event_max_age)
        .unwrap_or(chrono::TimeDelta::minutes(15));
    // A tap, or a message written lately (not one from before the bot lost the
    // chat that Telegram hands over late).
    let writing = update
        .callback_query
        .as_ref()
        .and_then(|query| query.message.as_ref())
        .or(update.message.as_ref().filter(|m| {
            chrono::DateTime::from_timestamp(m.date, 0).is_some_and(|at| at >= now - max_age)
        }));
    if let Some(message) = writing {
        // The chat reaches the bot again (unblocked, the bot added back): the
        // channels its refusals disabled go on.
        let chat_id = message.chat.id.to_string();
        let enabled = state.store.enable_telegram_chat(&chat_id).await?;
        if !enabled.is_empty() {
            tracing::info!(%chat_id, channels = ?enabled,
                "a Telegram chat the bot could not reach wrote again; its channels are enabled");
        }
    }
    let answers = &state.chat_answers;
    if let Some(query) = update.callback_query {
        let language = language_of(&query.from);
        let reply = match (&query.message, &query.data) {
            (Some(message), Some(data)) => {
                let chat_id = message.chat.id.to_string();
                let reply = answers
                    .tap(Tap {
                        kind: ChatKind::Telegram,
                        chat_id: &chat_id,
                        payload: data,
                        event_key: format!("telegram:{}", query.id),
                        fallback_language: language,
                    })
                    .await?;
                if matches!(reply.said, crate::chat_answers::Said::AskedReason { .. }) {
                    answers
                        .say(ChatKind::Telegram, &chat_id, &reply.text())
                        .await;
                }
                reply
            }
            _ => {
                tracing::warn!(
                    from = query.from.id,
                    "a Telegram callback query without its message or data"
                );
                crate::chat_answers::Reply {
                    said: crate::chat_answers::Said::NotFound,
                    language,
                }
            }
        };
        if let Err(error) = state
            .channels
            .answer_callback(&query.id, &reply.text())
            .await
        {
            tracing::warn!(%error, "could not answer a Telegram callback query");
        }
    } else if let Some(message) = update.message {
        let sent_at = chrono::DateTime::from_timestamp(message.date, 0).unwrap_or(now);
        let chat_id = message.chat.id.to_string();
        match message.text {
            Some(_) if sent_at < now - max_age => {
                tracing::warn!(
                    update_id = update.update_id,
                    "a Telegram message older than the chat event bound; not taken as a reason"
                );
            }
            Some(text) => {
                if let Some(reply) = answers.text(ChatKind::Telegram, &chat_id, &text).await? {
                    answers
                        .say(ChatKind::Telegram, &chat_id, &reply.text())
                        .await;
                }
            }
            None => {}
        }
    }
    Ok(HttpResponse::Ok().finish())
}
