//! The Telegram channel: the operator's bot writes the order's summary to the
//! craftsman's chat (`sendMessage`, plain text), then sends the lines as a CSV
//! document (`sendDocument`).
//!
//! The bot token is part of every Bot API URL (`/bot{token}/…`), so no URL ever
//! reaches an error or a log: reqwest's errors are stripped of theirs, and text a
//! server sends back is masked for the token too.
//!
//! Both calls must succeed for the delivery to succeed. If the document fails after
//! the message went out, the retry sends the message again: at least once, as
//! everywhere, and the craftsman sees the same order twice rather than an order
//! without its lines file.

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use rand::RngCore;
use reqwest::header::CONTENT_TYPE;
use serde::Deserialize;

use super::{
    Channel, ChannelConfigError, ChannelTarget, Failure, Outgoing, SendError, Sent,
    api_status_failure, excerpt, http_client_builder, read_capped, redact, transport_error_text,
};
use crate::chat_answers::{Action, button_payload};
use crate::delivery::render;

/// Telegram's limit on a message's text.
pub const MAX_TEXT_CHARS: usize = 4096;

/// Telegram's limit on a document's caption.
pub const MAX_CAPTION_CHARS: usize = 1024;

/// The operator's Telegram bot (`[delivery.telegram]`).
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TelegramConfig {
    /// The Bot API's address; changed only for tests or a local Bot API server.
    #[serde(default = "default_base_url")]
    pub base_url: String,
    /// The token @BotFather gave, `123456:ABC-…`. Never logged, nor shown by `Debug`.
    pub bot_token: String,
    /// How long one request may take, e.g. `"15s"`.
    #[serde(default = "default_timeout", with = "humantime_serde")]
    pub timeout: Duration,
    /// The `secret_token` given to `setWebhook`, which Telegram sends back in
    /// `X-Telegram-Bot-Api-Secret-Token` with every update: 1-256 of `A-Z a-z 0-9 _ -`
    /// (docs/services.md T11). Without it `POST /v1/telegram/webhook` refuses every
    /// update (`JEMBATAN_TELEGRAM_SECRET_TOKEN`). Never logged, nor shown by `Debug`.
    #[serde(default)]
    pub secret_token: Option<String>,
}

fn default_base_url() -> String {
    "https://api.telegram.org".into()
}

fn default_timeout() -> Duration {
    Duration::from_secs(15)
}

impl fmt::Debug for TelegramConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TelegramConfig")
            .field("base_url", &self.base_url)
            .field("bot_token", &"[redacted]")
            .field("timeout", &self.timeout)
            .field(
                "secret_token",
                &self.secret_token.as_ref().map(|_| "[redacted]"),
            )
            .finish()
    }
}

/// Where one Telegram message goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TelegramTarget {
    /// The chat the bot writes to: a numeric id (`123456789`, `-100…` for a group)
    /// or a public `@channelusername`.
    pub chat_id: String,
}

/// Sends orders through a Telegram bot.
#[derive(Clone)]
pub struct TelegramChannel {
    client: reqwest::Client,
    /// The Bot API's address, without the token.
    base_url: String,
    token: String,
}

impl fmt::Debug for TelegramChannel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TelegramChannel")
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

impl TelegramChannel {
    /// Checks the config and builds the HTTP client.
    pub fn new(config: &TelegramConfig) -> Result<Self, ChannelConfigError> {
        let error = |message: String| ChannelConfigError::new("telegram", message);
        let token = config.bot_token.trim();
        // The token goes into URL paths: anything but its own alphabet would change
        // the path (and an error about it must not quote it).
        let well_formed = token.split_once(':').is_some_and(|(bot, key)| {
            !bot.is_empty()
                && bot.chars().all(|c| c.is_ascii_digit())
                && !key.is_empty()
                && key
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        });
        if !well_formed {
            return Err(error(
                "`bot_token` is not a bot token (digits, `:`, then letters, digits, `_` and `-`)"
                    .into(),
            ));
        }
        if let Some(secret) = &config.secret_token
            && !secret_token_is_valid(secret)
        {
            return Err(error(
                "`secret_token` must be 1 to 256 of `A-Z`, `a-z`, `0-9`, `_` and `-` \
                 (what setWebhook accepts)"
                    .into(),
            ));
        }
        let base_url = config.base_url.trim().trim_end_matches('/').to_owned();
        reqwest::Url::parse(&base_url).map_err(|e| error(format!("`base_url`: {e}")))?;
        let client = http_client_builder(config.timeout)
            .build()
            .map_err(|e| error(transport_error_text(e)))?;
        Ok(Self {
            client,
            base_url,
            token: token.to_owned(),
        })
    }

    fn method_url(&self, method: &str) -> String {
        format!("{}/bot{}/{method}", self.base_url, self.token)
    }

    /// Calls one Bot API method and returns the sent message's id.
    async fn call(&self, method: &str, request: reqwest::RequestBuilder) -> Result<i64, Refusal> {
        let response = request.send().await.map_err(|e| {
            SendError::retry(
                None,
                self.clean(format!("Telegram {method}: {}", transport_error_text(e))),
            )
        })?;
        let status = response.status().as_u16();
        let body = read_capped(response, 64 * 1024).await.map_err(|e| {
            SendError::retry(
                Some(status),
                self.clean(format!("Telegram {method}: {}", transport_error_text(e))),
            )
        })?;
        let answer: Answer = serde_json::from_slice(&body).unwrap_or_default();
        if (200..300).contains(&status)
            && answer.ok
            && let Some(id) = answer.result.and_then(|r| r.message_id)
        {
            return Ok(id);
        }
        let parameters = answer.parameters.unwrap_or_default();
        // "migrate_to_chat_id: The group has been migrated to a supergroup with the
        // specified identifier", with 400 "Bad Request: group chat was upgraded to
        // a supergroup chat" (docs/services.md T5): the same order goes there.
        if let Some(chat_id) = parameters.migrate_to_chat_id {
            return Err(Refusal::Migrated(chat_id.to_string()));
        }
        let unreachable = answer.description.as_deref().and_then(unreachable_chat);
        let failure = if unreachable.is_some() {
            // This one chat is gone for the bot, whatever the status, until a person
            // acts: dead at once and never retried, and the craftsman's channel is
            // disabled with the reason (`Failure::Disable`), so their next orders
            // show why without one more refused request each. Never a pause: the
            // bot works for everyone else. The channel is enabled again when the
            // chat writes to the bot (`api::telegram`) or an admin enables it.
            Failure::Disable
        } else if (200..300).contains(&status) {
            // A 2xx that is not `ok`: go by the error code inside, if any.
            answer
                .error_code
                .and_then(|c| u16::try_from(c).ok())
                .map_or(Failure::Retry, api_status_failure)
        } else if status == 429 {
            // Flood control is the bot's: "the number of seconds left to wait
            // before the request can be repeated" (docs/services.md T4).
            Failure::Throttled
        } else if status == 401 {
            // "Unauthorized": the bot's token is wrong or revoked (docs/services.md
            // T10), which no delivery can mend: the channel pauses.
            Failure::Credentials
        } else {
            api_status_failure(status)
        };
        let mut text = format!("Telegram {method} answered HTTP {status}: ");
        match &answer.description {
            Some(description) => text.push_str(&excerpt(description.as_bytes(), 300)),
            None => text.push_str(&excerpt(&body, 200)),
        }
        // "retry_after: In case of exceeding flood control, the number of seconds
        // left to wait before the request can be repeated" (core.telegram.org/bots/
        // api#responseparameters, docs/services.md T4).
        if let Some(reason) = unreachable {
            text.push_str(" — ");
            text.push_str(reason);
        }
        let retry_after = parameters.retry_after;
        if let Some(seconds) = retry_after {
            text.push_str(&format!(" (retry after {seconds}s)"));
        }
        Err(Refusal::Failed(
            SendError::new(failure, Some(status), self.clean(text))
                .with_retry_after(retry_after.map(Duration::from_secs)),
        ))
    }

    fn clean(&self, text: String) -> String {
        redact(&text, &self.token)
    }

    /// Calls a method whose answer is only `ok` (`answerCallbackQuery`'s `true`).
    async fn call_ok(&self, method: &str, body: serde_json::Value) -> Result<(), SendError> {
        let response = self
            .client
            .post(self.method_url(method))
            .json(&body)
            .send()
            .await
            .map_err(|e| {
                SendError::retry(
                    None,
                    self.clean(format!("Telegram {method}: {}", transport_error_text(e))),
                )
            })?;
        let status = response.status().as_u16();
        let body = read_capped(response, 64 * 1024).await.unwrap_or_default();
        let ok = serde_json::from_slice::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| v.get("ok").and_then(serde_json::Value::as_bool))
            .unwrap_or(false);
        if (200..300).contains(&status) && ok {
            return Ok(());
        }
        Err(SendError::new(
            api_status_failure(status),
            Some(status),
            self.clean(format!(
                "Telegram {method} answered HTTP {status}: {}",
                excerpt(&body, 300)
            )),
        ))
    }

    /// Writes `text` to a chat, outside any delivery.
    pub async fn send_text(&self, chat_id: &str, text: &str) -> Result<(), SendError> {
        let request = self.client.post(self.method_url("sendMessage")).json(
            &serde_json::json!({ "chat_id": chat_id, "text": truncate_chars(text, MAX_TEXT_CHARS) }),
        );
        match self.call("sendMessage", request).await {
            Ok(_) => Ok(()),
            Err(Refusal::Failed(error)) => Err(error),
            Err(Refusal::Migrated(to)) => Err(SendError::permanent(
                Some(400),
                format!("the chat became supergroup {to}"),
            )),
        }
    }

    /// Answers a callback query: "Telegram clients will display a progress bar
    /// until you call answerCallbackQuery" (docs/services.md T12); `text` is the
    /// notification shown, at most 200 characters.
    pub async fn answer_callback_query(&self, query_id: &str, text: &str) -> Result<(), SendError> {
        self.call_ok(
            "answerCallbackQuery",
            serde_json::json!({
                "callback_query_id": query_id,
                "text": truncate_chars(text, MAX_CALLBACK_ANSWER_CHARS),
            }),
        )
        .await
    }
}

/// What an admin is told when the Bot API says the bot can no longer reach a
/// chat, by the answer's `description` (docs/services.md T6-T9): each is this
/// chat's alone and lasts until a person acts, so the delivery is dead at once
/// and the channel disabled.
/// `None` for any other answer.
fn unreachable_chat(description: &str) -> Option<&'static str> {
    let reasons: [(&str, &str); 7] = [
        // T6, `USER_IS_BLOCKED`.
        (
            "bot was blocked by the user",
            "the craftsman blocked the bot; they must unblock it in Telegram",
        ),
        // T7: a bot may write only to users who started it.
        (
            "bot can't initiate conversation",
            "the craftsman must open the bot in Telegram and press Start",
        ),
        // T9: "bot was kicked from the group chat" / "… from the supergroup chat".
        (
            "bot was kicked from the",
            "the bot was removed from the craftsman's group; someone must add it back",
        ),
        (
            "bot is not a member of the",
            "the bot is not a member of the craftsman's group; someone must add it",
        ),
        (
            "the group chat was deleted",
            "the craftsman's group was deleted; the craftsman needs a new chat",
        ),
        // T9, `USER_DEACTIVATED`.
        (
            "user is deactivated",
            "the craftsman's Telegram account was deleted",
        ),
        // T8: "chat not found" and "private chat not found".
        (
            "chat not found",
            "Telegram knows no such chat: the chat id is wrong, or the bot was never in it",
        ),
    ];
    reasons
        .into_iter()
        .find(|(said, _)| description.contains(said))
        .map(|(_, reason)| reason)
}

/// The longest notification `answerCallbackQuery` shows ("0-200 characters").
pub const MAX_CALLBACK_ANSWER_CHARS: usize = 200;

/// Whether `secret` is a `secret_token` `setWebhook` takes: 1-256 characters of
/// `A-Z`, `a-z`, `0-9`, `_` and `-` (docs/services.md T11).
pub fn secret_token_is_valid(secret: &str) -> bool {
    (1..=256).contains(&secret.len())
        && secret
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// The order message's inline keyboard: accept and reject, in the craftsman's
/// language, each with `callback_data` naming the action and the delivery (at most
/// 64 bytes, "callback_data … 1-64 bytes", docs/services.md T12).
fn answer_keyboard(out: &Outgoing<'_>) -> serde_json::Value {
    let button = |action: Action| {
        serde_json::json!({
            "text": action.title(out.language),
            "callback_data": button_payload(action, out.delivery_id),
        })
    };
    serde_json::json!({
        "inline_keyboard": [[button(Action::Accept), button(Action::Reject)]]
    })
}

/// A Bot API answer: `{"ok":true,"result":{…}}` or
/// `{"ok":false,"error_code":…,"description":…,"parameters":{"retry_after":…}}`.
#[derive(Deserialize, Default)]
#[serde(default)]
struct Answer {
    ok: bool,
    result: Option<SentMessage>,
    error_code: Option<i64>,
    description: Option<String>,
    parameters: Option<Parameters>,
}

#[derive(Deserialize)]
struct SentMessage {
    message_id: Option<i64>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Parameters {
    retry_after: Option<u64>,
    migrate_to_chat_id: Option<i64>,
}

/// Why a Bot API call did not send.
enum Refusal {
    Failed(SendError),
    /// The group is a supergroup now, with this chat id.
    Migrated(String),
}

impl From<SendError> for Refusal {
    fn from(error: SendError) -> Self {
        Self::Failed(error)
    }
}

#[async_trait]
impl Channel for TelegramChannel {
    type Target = TelegramTarget;

    async fn send(&self, target: &TelegramTarget, out: &Outgoing<'_>) -> Result<Sent, SendError> {
        match self.send_to(&target.chat_id, out).await {
            Ok(sent) => Ok(sent),
            Err(Refusal::Failed(error)) => Err(error),
            Err(Refusal::Migrated(chat_id)) => {
                tracing::info!(delivery_id = out.delivery_id, from = %target.chat_id, to = %chat_id,
                    "the Telegram group became a supergroup; sending there");
                match self.send_to(&chat_id, out).await {
                    Ok(sent) => Ok(Sent {
                        moved_to: Some(ChannelTarget::Telegram { chat_id }),
                        ..sent
                    }),
                    Err(Refusal::Failed(error)) => Err(error),
                    Err(Refusal::Migrated(again)) => Err(SendError::retry(
                        Some(400),
                        format!(
                            "Telegram moved chat {} to {chat_id}, then {chat_id} to {again}",
                            target.chat_id
                        ),
                    )),
                }
            }
        }
    }
}

impl TelegramChannel {
    /// The summary, the CSV and the embedded files, to one chat: each part a
    /// request of its own, skipped when an earlier attempt delivered it, so a
    /// failed document is sent again without the text before it.
    async fn send_to(&self, chat_id: &str, out: &Outgoing<'_>) -> Result<Sent, Refusal> {
        let mut delivered = Vec::new();
        let mut detail = Vec::new();
        let result = self
            .send_parts(chat_id, out, &mut delivered, &mut detail)
            .await;
        match result {
            Ok(()) => Ok(Sent {
                status_code: Some(200),
                detail: Some(if detail.is_empty() {
                    "every part was delivered by an earlier attempt".to_owned()
                } else {
                    detail.join(", ")
                }),
                message_id: None,
                moved_to: None,
            }),
            Err(Refusal::Failed(error)) => Err(Refusal::Failed(error.after_delivering(delivered))),
            Err(migrated) => Err(migrated),
        }
    }

    /// `sendMessage` of `text` with the order's answer buttons; the message id.
    /// Plain text (no `parse_mode`): buyer text cannot break Markdown or HTML.
    async fn send_with_answer_buttons(
        &self,
        chat_id: &str,
        text: &str,
        out: &Outgoing<'_>,
    ) -> Result<i64, Refusal> {
        let message = self
            .client
            .post(self.method_url("sendMessage"))
            .json(&serde_json::json!({
                "chat_id": chat_id,
                "text": text,
                "reply_markup": answer_keyboard(out),
            }));
        self.call("sendMessage", message).await
    }

    /// Sends each part not yet delivered, noting each as it goes.
    async fn send_parts(
        &self,
        chat_id: &str,
        out: &Outgoing<'_>,
        delivered: &mut Vec<String>,
        detail: &mut Vec<String>,
    ) -> Result<(), Refusal> {
        if out.reminder {
            // One short message; the order and its files went before. It carries
            // the answer buttons too, so the craftsman answers where reminded
            // (the reminder's delivery names the same order and chat).
            if !out.delivered(PART_TEXT) {
                let text = truncate_chars(&render::reminder_text(out), MAX_TEXT_CHARS);
                let message_id = self.send_with_answer_buttons(chat_id, &text, out).await?;
                delivered.push(PART_TEXT.to_owned());
                detail.push(format!("reminder {message_id}"));
            }
            return Ok(());
        }
        if !out.delivered(PART_TEXT) {
            let text = render::summary(out, MAX_TEXT_CHARS);
            let message_id = self.send_with_answer_buttons(chat_id, &text, out).await?;
            delivered.push(PART_TEXT.to_owned());
            detail.push(format!("message {message_id}"));
        }
        if !out.delivered(PART_CSV) {
            let filename = format!(
                "order-{}.csv",
                render::file_stem(&out.order.buyer_order_number)
            );
            let caption = truncate_chars(&render::subject(out), MAX_CAPTION_CHARS);
            let csv = render::csv(&out.order.order);
            let (content_type, body) = multipart_form(
                &[("chat_id", chat_id), ("caption", &caption)],
                ("document", &filename, "text/csv", csv.as_bytes()),
            );
            let document = self
                .client
                .post(self.method_url("sendDocument"))
                .header(CONTENT_TYPE, content_type)
                .body(body);
            let document_id = self.call("sendDocument", document).await?;
            delivered.push(PART_CSV.to_owned());
            detail.push(format!("document {document_id}"));
        }
        // Then the drawings and specifications the buyer embedded, one document each.
        for (n, file) in render::embedded_files(&out.order.order).iter().enumerate() {
            let part = format!("file:{n}");
            if out.delivered(&part) {
                continue;
            }
            let (content_type, body) = multipart_form(
                &[("chat_id", chat_id)],
                ("document", &file.name, &file.media_type, &file.bytes),
            );
            let request = self
                .client
                .post(self.method_url("sendDocument"))
                .header(CONTENT_TYPE, content_type)
                .body(body);
            let id = self.call("sendDocument", request).await?;
            delivered.push(part);
            detail.push(format!("{} {id}", file.name));
        }
        Ok(())
    }
}

/// The parts of a Telegram delivery, as kept between attempts: the text, the CSV,
/// and `file:<n>` for the n-th embedded file.
const PART_TEXT: &str = "text";
const PART_CSV: &str = "csv";

fn truncate_chars(text: &str, max: usize) -> String {
    text.chars().take(max).collect()
}

/// A `multipart/form-data` body of text fields and one file, and its content type.
/// Written here rather than with reqwest's `multipart` feature, which this one
/// request does not justify. Field names and the file name are ours (safe
/// characters); the boundary is random, so no value can contain it by accident.
pub(super) fn multipart_form(
    fields: &[(&str, &str)],
    (file_field, filename, file_type, content): (&str, &str, &str, &[u8]),
) -> (String, Vec<u8>) {
    let mut random = [0u8; 16];
    rand::rng().fill_bytes(&mut random);
    let boundary = format!("jembatan-{}", hex::encode(random));
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{file_field}\"; filename=\"{filename}\"\r\n\
             Content-Type: {file_type}\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(content);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::delivery::channels::Language;
    use crate::delivery::channels::testing::{
        Reply, Request, TestServer, closed_url, outgoing, sample_record,
    };

    const TOKEN: &str = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw";

    fn channel(base_url: String, timeout: Duration) -> TelegramChannel {
        TelegramChannel::new(&TelegramConfig {
            base_url,
            bot_token: TOKEN.into(),
            timeout,
            secret_token: None,
        })
        .unwrap()
    }

    async fn send_with(base_url: String, timeout: Duration) -> Result<Sent, SendError> {
        let record = sample_record();
        channel(base_url, timeout)
            .send(
                &TelegramTarget {
                    chat_id: "-1001234567890".into(),
                },
                &outgoing(&record, Language::English),
            )
            .await
    }

    async fn send(base_url: String) -> Result<Sent, SendError> {
        send_with(base_url, Duration::from_secs(5)).await
    }

    fn ok(message_id: i64) -> Reply {
        Reply::json(
            200,
            json!({"ok": true, "result": {"message_id": message_id, "chat": {"id": -1001234567890i64}}}),
        )
    }

    /// The parts of a multipart/form-data body, by name: (filename, content).
    fn form_parts(request: &Request) -> Vec<(String, Option<String>, String)> {
        let content_type = request.header("content-type").unwrap();
        let boundary = content_type.split("boundary=").nth(1).unwrap();
        let body = String::from_utf8(request.body.clone()).unwrap();
        body.split(&format!("--{boundary}"))
            .skip(1)
            .filter(|p| !p.starts_with("--"))
            .map(|part| {
                let (head, content) = part
                    .trim_start_matches("\r\n")
                    .split_once("\r\n\r\n")
                    .unwrap();
                let name = head
                    .split("name=\"")
                    .nth(1)
                    .unwrap()
                    .split('"')
                    .next()
                    .unwrap()
                    .to_owned();
                let filename = head
                    .split("filename=\"")
                    .nth(1)
                    .map(|f| f.split('"').next().unwrap().to_owned());
                (
                    name,
                    filename,
                    content.strip_suffix("\r\n").unwrap().to_owned(),
                )
            })
            .collect()
    }

    #[tokio::test]
    async fn a_reminder_is_one_short_message() {
        let server = TestServer::start(|_| ok(9));
        let record = sample_record();
        let mut out = outgoing(&record, Language::Indonesian);
        out.reminder = true;
        let sent = channel(server.url(), Duration::from_secs(5))
            .send(
                &TelegramTarget {
                    chat_id: "-1001234567890".into(),
                },
                &out,
            )
            .await
            .unwrap();
        assert_eq!(sent.detail.as_deref(), Some("reminder 9"));
        let requests = server.requests();
        assert_eq!(requests.len(), 1);
        assert_eq!(requests[0].path, format!("/bot{TOKEN}/sendMessage"));
        let body = requests[0].json();
        assert_eq!(body["text"], render::reminder_text(&out).as_str());
        assert!(body.get("parse_mode").is_none());
        let buttons = &body["reply_markup"]["inline_keyboard"][0];
        assert_eq!(
            buttons[0]["callback_data"],
            format!("accept:{}", out.delivery_id)
        );
        assert_eq!(
            buttons[1]["callback_data"],
            format!("reject:{}", out.delivery_id)
        );
    }

    #[tokio::test]
    async fn sends_the_summary_then_the_csv() {
        let server = TestServer::start(|request| {
            if request.path.ends_with("/sendMessage") {
                ok(7)
            } else {
                ok(8)
            }
        });
        let sent = send(server.url()).await.unwrap();
        assert_eq!(sent.status_code, Some(200));
        assert_eq!(sent.detail.as_deref(), Some("message 7, document 8"));

        let requests = server.requests();
        assert_eq!(requests.len(), 2);
        let message = &requests[0];
        assert_eq!(message.method, "POST");
        assert_eq!(message.path, format!("/bot{TOKEN}/sendMessage"));
        let body = message.json();
        assert_eq!(body["chat_id"], "-1001234567890");
        assert!(body.get("parse_mode").is_none());
        let text = body["text"].as_str().unwrap();
        assert!(
            text.starts_with("New order PO-2026/0042 from PT Mitra Otoparts"),
            "{text}"
        );
        assert!(text.encode_utf16().count() <= MAX_TEXT_CHARS);

        let document = &requests[1];
        assert_eq!(document.path, format!("/bot{TOKEN}/sendDocument"));
        assert!(
            document
                .header("content-type")
                .unwrap()
                .starts_with("multipart/form-data; boundary=")
        );
        let parts = form_parts(document);
        assert_eq!(parts[0], ("chat_id".into(), None, "-1001234567890".into()));
        assert_eq!(parts[1].0, "caption");
        assert_eq!(parts[1].2, "New order PO-2026/0042 from PT Mitra Otoparts");
        assert_eq!(parts[2].0, "document");
        assert_eq!(parts[2].1.as_deref(), Some("order-PO-2026_0042.csv"));
        assert_eq!(parts[2].2, render::csv(&sample_record().order));
    }

    #[tokio::test]
    async fn an_embedded_drawing_follows_as_its_own_document() {
        let server = TestServer::start(|request| {
            if request.path.ends_with("/sendMessage") {
                ok(7)
            } else {
                ok(8)
            }
        });
        let mut record = sample_record();
        let drawing = &mut record.order.lines[0].item.documents[0];
        drawing.filename = Some("kursi.pdf".into());
        drawing.mime_type = Some("application/pdf".into());
        drawing.content_base64 = Some("JVBERi0xLjQK".into());
        let sent = channel(server.url(), Duration::from_secs(5))
            .send(
                &TelegramTarget {
                    chat_id: "-1001234567890".into(),
                },
                &outgoing(&record, Language::English),
            )
            .await
            .unwrap();
        assert_eq!(
            sent.detail.as_deref(),
            Some("message 7, document 8, kursi.pdf 8")
        );
        let requests = server.requests();
        assert_eq!(requests.len(), 3);
        assert_eq!(requests[2].path, format!("/bot{TOKEN}/sendDocument"));
        let parts = form_parts(&requests[2]);
        assert_eq!(parts[0], ("chat_id".into(), None, "-1001234567890".into()));
        assert_eq!(parts[1].0, "document");
        assert_eq!(parts[1].1.as_deref(), Some("kursi.pdf"));
        assert_eq!(parts[1].2, "%PDF-1.4\n");
        assert!(
            String::from_utf8_lossy(&requests[2].body).contains("Content-Type: application/pdf")
        );
    }

    #[tokio::test]
    async fn a_group_that_became_a_supergroup_gets_the_order_at_its_new_id() {
        let server = TestServer::start(|request| {
            let body = String::from_utf8_lossy(&request.body).into_owned();
            if body.contains("-1001234567890") {
                Reply::json(
                    400,
                    json!({"ok": false, "error_code": 400,
                           "description": "Bad Request: group chat was upgraded to a supergroup chat",
                           "parameters": {"migrate_to_chat_id": -1009876543210i64}}),
                )
            } else {
                ok(9)
            }
        });
        let sent = send(server.url()).await.unwrap();
        assert_eq!(
            sent.moved_to,
            Some(ChannelTarget::Telegram {
                chat_id: "-1009876543210".into()
            })
        );
        let requests = server.requests();
        assert_eq!(
            requests.len(),
            3,
            "the refused message, then message and CSV"
        );
        assert_eq!(requests[1].json()["chat_id"], "-1009876543210");
    }

    #[tokio::test]
    async fn answers_are_classified() {
        let error = |code: u16, description: &str| {
            Reply::json(
                code,
                json!({"ok": false, "error_code": code, "description": description}),
            )
        };
        let cases = [
            (
                error(400, "Bad Request: chat not found"),
                Failure::Disable,
                "chat not found",
            ),
            (
                error(403, "Forbidden: bot was blocked by the user"),
                Failure::Disable,
                "the craftsman blocked the bot",
            ),
            (
                error(403, "Forbidden: bot was kicked from the supergroup chat"),
                Failure::Disable,
                "the bot was removed from the craftsman's group",
            ),
            (
                error(403, "Forbidden: user is deactivated"),
                Failure::Disable,
                "account was deleted",
            ),
            (
                error(403, "Forbidden: bot is not a member of the group chat"),
                Failure::Disable,
                "the bot is not a member of the craftsman's group",
            ),
            (
                error(403, "Forbidden: the group chat was deleted"),
                Failure::Disable,
                "the craftsman's group was deleted",
            ),
            (
                // A chat that is gone is this chat's, even in a 2xx that is not `ok`.
                error(200, "Bad Request: chat not found"),
                Failure::Disable,
                "Telegram knows no such chat",
            ),
            (
                Reply::json(
                    429,
                    json!({"ok": false, "error_code": 429, "description": "Too Many Requests: retry after 5", "parameters": {"retry_after": 5}}),
                ),
                Failure::Throttled,
                "(retry after 5s)",
            ),
            (
                error(500, "Internal Server Error"),
                Failure::Retry,
                "Internal",
            ),
            (
                error(401, "Unauthorized"),
                Failure::Credentials,
                "Unauthorized",
            ),
            (
                Reply::text(502, "<html>Bad Gateway</html>"),
                Failure::Retry,
                "Bad Gateway",
            ),
        ];
        for (reply, expected, needle) in cases {
            let server = TestServer::start(move |_| reply.clone());
            let err = send(server.url()).await.unwrap_err();
            assert_eq!(err.failure, expected, "{err}");
            assert!(err.error.contains("sendMessage"), "{err}");
            assert!(err.error.contains(needle), "{err}");
            // The document is not sent when the message was not.
            assert_eq!(server.requests().len(), 1);
        }
    }

    #[tokio::test]
    async fn a_failed_document_fails_the_delivery() {
        let server = TestServer::start(|request| {
            if request.path.ends_with("/sendMessage") {
                ok(7)
            } else {
                Reply::json(
                    400,
                    json!({"ok": false, "error_code": 400, "description": "Bad Request: file is too big"}),
                )
            }
        });
        let err = send(server.url()).await.unwrap_err();
        assert_eq!(err.failure, Failure::Permanent);
        assert!(err.error.contains("sendDocument"), "{err}");
    }

    #[tokio::test]
    async fn a_failure_never_shows_the_token() {
        // No answer at all: reqwest's error would name the URL, which holds the token.
        let err = send(closed_url()).await.unwrap_err();
        assert_eq!(err.failure, Failure::Retry);
        assert!(!err.error.contains(TOKEN), "{err}");
        assert!(!err.error.contains("AAHdqTcv"), "{err}");
        assert!(!format!("{err:?}").contains("AAHdqTcv"));

        // A timeout.
        let server = TestServer::start(|_| {
            let mut reply = ok(1);
            reply.delay = Duration::from_secs(3);
            reply
        });
        let err = send_with(server.url(), Duration::from_millis(300))
            .await
            .unwrap_err();
        assert_eq!(err.failure, Failure::Retry);
        assert!(err.error.contains("timed out"), "{err}");
        assert!(!err.error.contains("AAHdqTcv"), "{err}");

        // A server that echoes the path it was called on.
        let server = TestServer::start(|request| {
            Reply::json(
                404,
                json!({"ok": false, "error_code": 404, "description": format!("Not Found: {}", request.path)}),
            )
        });
        let err = send(server.url()).await.unwrap_err();
        assert_eq!(err.failure, Failure::Permanent);
        assert!(!err.error.contains("AAHdqTcv"), "{err}");
        assert!(err.error.contains("[redacted]"), "{err}");
    }

    #[test]
    fn config_is_checked_and_the_token_hidden() {
        let config = TelegramConfig {
            base_url: default_base_url(),
            bot_token: TOKEN.into(),
            timeout: default_timeout(),
            secret_token: Some("tg-secret_0123".into()),
        };
        assert!(!format!("{config:?}").contains("AAHdqTcv"));
        assert!(!format!("{config:?}").contains("tg-secret_0123"));
        for bad in ["", "has space", "ü", &"x".repeat(257)] {
            let config = TelegramConfig {
                secret_token: Some(bad.to_owned()),
                ..config.clone()
            };
            assert!(TelegramChannel::new(&config).is_err(), "{bad:?}");
        }
        let channel = TelegramChannel::new(&config).unwrap();
        assert!(!format!("{channel:?}").contains("AAHdqTcv"));

        for bad in ["", "AAHdqTcv", "123:abc/../x", "123:abc def", ":abc"] {
            let mut config = config.clone();
            config.bot_token = bad.into();
            let err = TelegramChannel::new(&config).unwrap_err().to_string();
            assert!(err.contains("bot_token"), "{err}");
            if !bad.is_empty() {
                assert!(!err.contains(bad), "{err}");
            }
        }

        let parsed: TelegramConfig = toml::from_str(&format!("bot_token = \"{TOKEN}\"")).unwrap();
        assert_eq!(parsed.base_url, "https://api.telegram.org");
        assert_eq!(parsed.timeout, Duration::from_secs(15));
    }
}
