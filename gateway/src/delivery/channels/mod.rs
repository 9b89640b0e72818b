//! The channels craftsmen receive orders on. Each is one small adapter with the same
//! shape (after Vector's sinks): a documented config struct, a [`Channel`] impl that
//! sends one order to one target and classifies its own failures, and tests beside it.
//! The retry *policy* (when to try again) is shared and lives in `delivery::schedule`;
//! the *classification* (whether trying again can help) belongs to each adapter.
//!
//! The inbox is not an adapter: every routed order is in its craftsman's inbox the
//! moment it is stored (`api::inbox`).

pub mod email;
pub mod telegram;
pub mod webhook;
pub mod whatsapp;

#[cfg(test)]
pub(crate) mod testing;

use std::error::Error as _;
use std::time::Duration;

use jembatan_schemas::OrderResponse;

use crate::store::OrderRecord;

// The targets, languages and failure kinds are shared with the store, which keeps
// them: they live in the neutral `model` module so the store never imports delivery.
pub use crate::model::{ChannelTarget, Failure, Language, RenderOutcome};

/// One order on its way to one channel of one craftsman.
#[derive(Debug, Clone, Copy)]
pub struct Outgoing<'a> {
    /// The delivery's id: the same on every attempt, so receivers can drop
    /// duplicates (the webhook's `webhook-id`, the e-mail's Message-ID).
    pub delivery_id: &'a str,
    /// 1 for the first attempt.
    pub attempt: u32,
    /// The order, as stored.
    pub order: &'a OrderRecord,
    /// The buyer's display name, for the text a person reads.
    pub buyer_name: &'a str,
    /// Who the text greets.
    pub craftsman_name: &'a str,
    /// The craftsman's language.
    pub language: Language,
    /// Parts of this delivery earlier attempts delivered (`text`, `csv`,
    /// `file:<name>` …): a channel that sends several requests skips them.
    pub delivered_before: &'a [String],
    /// The craftsman's response this delivery carries to the buyer's callback (an
    /// `order.response` webhook) instead of the order; only ever on a webhook.
    pub response: Option<&'a OrderResponse>,
    /// What the buyer's plugin made of `response`, when it renders responses.
    pub rendered: Option<&'a RenderOutcome>,
    /// Whether this delivery is the reminder that the order still has no answer
    /// (`crate::reminders`): each channel sends a short note naming the order and
    /// how to answer it, instead of the order.
    pub reminder: bool,
}

impl Outgoing<'_> {
    /// Whether an earlier attempt delivered `part`.
    pub fn delivered(&self, part: &str) -> bool {
        self.delivered_before.iter().any(|p| p == part)
    }
}

/// What a receiver said when it took the order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sent {
    /// The HTTP status, or the SMTP reply code.
    pub status_code: Option<u16>,
    /// Anything worth keeping from the answer (a message id), short.
    pub detail: Option<String>,
    /// The id the service gave the message, when its later status events will name
    /// it (WhatsApp's `wamid`): kept with the attempt so they can be matched to it.
    pub message_id: Option<String>,
    /// Where the service said the recipient moved, and the order went: the
    /// channel's target from now on (a Telegram group upgraded to a supergroup).
    pub moved_to: Option<ChannelTarget>,
}

/// A failed send, classified by the adapter that saw it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{error}")]
pub struct SendError {
    /// Whether trying again can help.
    pub failure: Failure,
    /// The HTTP status, or the SMTP reply code, when there was one.
    pub status_code: Option<u16>,
    /// What went wrong, for the attempt log; never holds a secret.
    pub error: String,
    /// How long the receiver asked us to wait before trying again (an HTTP
    /// `Retry-After`, Telegram's `parameters.retry_after`): the next attempt is
    /// never earlier, within [`MAX_RETRY_HINT`].
    pub retry_after: Option<Duration>,
    /// The parts this attempt delivered before it failed, so the retry skips them.
    pub delivered: Vec<String>,
}

/// The longest wait a receiver's retry hint can impose: a hint of a week is taken
/// as a day, and the schedule goes on from there.
pub const MAX_RETRY_HINT: Duration = Duration::from_secs(24 * 3600);

impl SendError {
    /// A failure that may pass: try again on the schedule.
    pub fn retry(status_code: Option<u16>, error: impl Into<String>) -> Self {
        Self::new(Failure::Retry, status_code, error)
    }

    /// A refusal that trying again will not change.
    pub fn permanent(status_code: Option<u16>, error: impl Into<String>) -> Self {
        Self::new(Failure::Permanent, status_code, error)
    }

    /// The receiver asked not to be sent to again.
    pub fn disable(status_code: Option<u16>, error: impl Into<String>) -> Self {
        Self::new(Failure::Disable, status_code, error)
    }

    /// A failure of the given kind.
    pub fn new(failure: Failure, status_code: Option<u16>, error: impl Into<String>) -> Self {
        Self {
            failure,
            status_code,
            error: error.into(),
            retry_after: None,
            delivered: Vec::new(),
        }
    }

    /// The same failure, with the receiver's hint of when to try again.
    pub fn with_retry_after(mut self, wait: Option<Duration>) -> Self {
        self.retry_after = wait;
        self
    }

    /// The same failure, after `parts` were delivered in this attempt.
    pub fn after_delivering(mut self, parts: Vec<String>) -> Self {
        self.delivered = parts;
        self
    }
}

/// An HTTP `Retry-After` value: "Retry-After = HTTP-date / delay-seconds", where
/// "A delay-seconds value is a non-negative decimal integer, representing time in
/// seconds" (RFC 9110 §10.2.3, docs/services.md H1). The date is read in the
/// preferred IMF-fixdate form (`Fri, 31 Dec 1999 23:59:59 GMT`); a date in the
/// past is no wait; anything unreadable is no hint.
pub fn parse_retry_after(value: &str, now: chrono::DateTime<chrono::Utc>) -> Option<Duration> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        return Some(Duration::from_secs(value.parse().unwrap_or(u64::MAX)));
    }
    let date = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    Some(
        (date.with_timezone(&chrono::Utc) - now)
            .to_std()
            .unwrap_or_default(),
    )
}

/// One kind of channel.
#[async_trait::async_trait]
pub trait Channel: Send + Sync {
    /// The part of a [`ChannelTarget`] this channel reads.
    type Target: Send + Sync;

    /// Sends one order to one target, once. Errors are classified; the caller
    /// records the attempt and schedules any retry.
    async fn send(&self, target: &Self::Target, out: &Outgoing<'_>) -> Result<Sent, SendError>;
}

/// A channel that could not be set up from its configuration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{channel} channel: {message}")]
pub struct ChannelConfigError {
    /// `webhook`, `email`, `whatsapp` or `telegram`.
    pub channel: &'static str,
    /// What is wrong; never holds a secret.
    pub message: String,
}

impl ChannelConfigError {
    pub(crate) fn new(channel: &'static str, message: impl Into<String>) -> Self {
        Self {
            channel,
            message: message.into(),
        }
    }
}

/// The `User-Agent` of every HTTP channel.
pub const USER_AGENT: &str = concat!("jembatan/", env!("CARGO_PKG_VERSION"));

/// What every HTTP channel's client shares: our user agent, one timeout for the
/// whole request, and no redirects. A redirect is not followed: for a webhook,
/// Standard Webhooks asks senders to treat a 3xx as a failure (and a redirect
/// could lead past the address policy); for the chat APIs, it would carry a
/// token-bearing request somewhere we did not choose.
pub(crate) fn http_client_builder(timeout: Duration) -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .user_agent(USER_AGENT)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(timeout)
}

/// How a chat API (WhatsApp Cloud, Telegram Bot) answer that is not a 2xx is
/// classified: rate limits (429), request timeouts (408, 425), server errors and
/// anything unexpected (a 3xx) may pass, so they are retried; any other 4xx says
/// the request itself is wrong (a bad number, a chat that blocked the bot, a
/// revoked token) and is permanent until someone fixes it.
pub fn api_status_failure(status: u16) -> Failure {
    match status {
        408 | 425 | 429 => Failure::Retry,
        400..=499 => Failure::Permanent,
        _ => Failure::Retry,
    }
}

/// A request that got no answer (refused, reset, timed out, a name that does not
/// resolve), as text for the attempt log: reqwest's own message *without the URL*
/// (the Telegram URL holds the bot token), then its causes.
pub(crate) fn transport_error_text(err: reqwest::Error) -> String {
    let err = err.without_url();
    let mut text = if err.is_timeout() {
        "timed out".to_owned()
    } else {
        err.to_string()
    };
    let mut source = err.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        // hyper repeats the same io error at several levels.
        if !text.ends_with(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

/// Reads at most `cap` bytes of a response body; an answer is only ever read for
/// its status, an id and an error message, so a huge or endless body costs nothing.
pub(crate) async fn read_capped(
    mut response: reqwest::Response,
    cap: usize,
) -> Result<Vec<u8>, reqwest::Error> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        let room = cap - body.len();
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if body.len() == cap {
            break;
        }
    }
    Ok(body)
}

/// A short, one-line excerpt of an answer's body for the attempt log.
pub(crate) fn excerpt(body: &[u8], max_chars: usize) -> String {
    let text = String::from_utf8_lossy(body);
    let line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if line.chars().count() <= max_chars {
        line
    } else {
        let mut cut: String = line.chars().take(max_chars).collect();
        cut.push('…');
        cut
    }
}

/// `text` with every occurrence of `secret` masked. Adapters never put a secret in
/// an error on purpose; this is the second lock, for text a remote server wrote
/// (an API that echoes the request back). Secrets too short to be real are left
/// alone rather than masking every matching letter.
pub(crate) fn redact(text: &str, secret: &str) -> String {
    if secret.len() < 6 {
        return text.to_owned();
    }
    text.replace(secret, "[redacted]")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chat_api_statuses_are_classified() {
        for status in [429, 408, 500, 502, 503, 504, 301] {
            assert_eq!(api_status_failure(status), Failure::Retry, "{status}");
        }
        for status in [400, 401, 403, 404, 410, 413] {
            assert_eq!(api_status_failure(status), Failure::Permanent, "{status}");
        }
    }

    #[test]
    fn retry_after_is_seconds_or_a_date() {
        let now = chrono::DateTime::parse_from_rfc3339("1999-12-31T23:57:59Z")
            .unwrap()
            .with_timezone(&chrono::Utc);
        assert_eq!(
            parse_retry_after("120", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(parse_retry_after(" 0 ", now), Some(Duration::ZERO));
        assert_eq!(
            parse_retry_after("Fri, 31 Dec 1999 23:59:59 GMT", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            parse_retry_after("Fri, 31 Dec 1999 23:00:00 GMT", now),
            Some(Duration::ZERO),
            "a date gone by"
        );
        for nothing in ["", "-5", "1.5", "soon"] {
            assert_eq!(parse_retry_after(nothing, now), None, "{nothing:?}");
        }
    }

    #[test]
    fn excerpts_are_short_and_on_one_line() {
        assert_eq!(excerpt(b"  a\n b  ", 10), "a b");
        assert_eq!(excerpt("é".repeat(20).as_bytes(), 3), "ééé…");
    }

    #[test]
    fn redact_masks_real_secrets_only() {
        assert_eq!(
            redact("bad token 123:abcdef!", "123:abcdef"),
            "bad token [redacted]!"
        );
        assert_eq!(redact("abc", "a"), "abc");
    }

    #[test]
    fn a_languages_tag_is_its_wire_form() {
        for language in [Language::Indonesian, Language::English] {
            assert_eq!(serde_json::to_value(language).unwrap(), language.tag());
            assert_eq!(Language::from_tag(language.tag()), Some(language));
        }
        assert_eq!(Language::from_tag("fr"), None);
    }

    #[test]
    fn channel_targets_keep_their_wire_form() {
        let target: ChannelTarget =
            serde_json::from_str(r#"{"type":"telegram","chat_id":"42"}"#).unwrap();
        assert_eq!(target.kind(), "telegram");
        assert_eq!(
            serde_json::to_string(&ChannelTarget::Webhook {
                url: "https://x.example/hook".into(),
                secret: None,
                order_schema: None,
            })
            .unwrap(),
            r#"{"type":"webhook","url":"https://x.example/hook"}"#
        );
    }
}
