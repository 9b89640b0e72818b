//! The WhatsApp channel, as Meta runs the Cloud API (Meta's Graph API): orders go
//! from the operator's business number to the craftsman's, in one of two ways.
//!
//! - **Inside the craftsman's customer-service window**, which "starts or refreshes"
//!   for 24 hours "when a user messages you" (docs/services.md W1), free-form
//!   messages may be sent: the order's summary as text, then the whole order and the
//!   drawings the buyer embedded as documents (uploaded first, W6).
//! - **Outside it**, "template messages are the only type of message that can be
//!   sent" (issue 13, W1): the order goes as the operator's approved template
//!   (`[delivery.whatsapp.templates.<language>]`), its body parameters filled from
//!   the order, and only to a user whose opt-in an admin recorded: "Businesses are
//!   required to obtain opt-in before messaging people on WhatsApp"
//!   (developers.secure.facebook.com/docs/whatsapp/overview/getting-opt-in/).
//!
//! The window is known from the `messages` webhook (`api::whatsapp`), which records
//! when a craftsman last wrote; the answer's `wamid` is kept with the attempt, so a
//! `failed` status that arrives later can reopen the delivery.
//!
//! `POST {base_url}/{api_version}/{phone_number_id}/messages` (and `/media` for an
//! upload) with a bearer token.

use std::collections::HashMap;
use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderValue};
use serde::Deserialize;
use sha2::Sha256;

use super::{
    Channel, ChannelConfigError, Failure, Language, Outgoing, SendError, Sent, api_status_failure,
    excerpt, http_client_builder, read_capped, redact, transport_error_text,
};
use crate::chat_answers::{Action, button_payload};
use crate::delivery::render;
use crate::store::WhatsAppContact;

/// WhatsApp's limit on a text message's body (docs/services.md W7).
pub const MAX_TEXT_CHARS: usize = 4096;

/// How long each template body parameter may be: the whole body of a template is
/// at most 1024 characters (docs/services.md W8, the MPM template page:
/// "1024 characters maximum"), so no one value may take it all.
pub const MAX_PARAMETER_CHARS: usize = 200;

/// How long the customer-service window stays open after the user's last message.
pub const SERVICE_WINDOW: chrono::TimeDelta = chrono::TimeDelta::hours(24);

/// The document types WhatsApp takes: "Only the above listed document types are
/// officially supported" (docs/services.md W5, Meta's "Supported document types":
/// .txt, .xls, .xlsx, .doc, .docx, .ppt, .pptx, .pdf). `text/csv` is not one, so
/// the order's CSV is never sent here; the whole order goes as a PDF document
/// instead (the text the e-mail carries, [`render::pdf`]).
pub const DOCUMENT_TYPES: [&str; 8] = [
    "text/plain",
    "application/pdf",
    "application/vnd.ms-excel",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/msword",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.ms-powerpoint",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
];

/// The operator's WhatsApp business number (`[delivery.whatsapp]`).
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WhatsAppConfig {
    /// The Graph API's address; changed only for tests or a proxy.
    #[serde(default = "default_base_url")]
    pub base_url: String,
    /// The Graph API version in the path, e.g. `"v21.0"`.
    #[serde(default = "default_api_version")]
    pub api_version: String,
    /// The business number's id in the WhatsApp Business account (not the number).
    pub phone_number_id: String,
    /// A system user's access token with `whatsapp_business_messaging`. Never
    /// logged, nor shown by `Debug`.
    pub access_token: String,
    /// How long one request may take, e.g. `"15s"`.
    #[serde(default = "default_timeout", with = "humantime_serde")]
    pub timeout: Duration,
    /// The Meta app's secret, which signs every webhook Meta sends
    /// (`X-Hub-Signature-256`); without it the webhook endpoint refuses every
    /// event (`JEMBATAN_WHATSAPP_APP_SECRET`).
    #[serde(default)]
    pub app_secret: Option<String>,
    /// The verify token typed into the app dashboard's webhook settings, which Meta
    /// sends back in the `hub.challenge` handshake (`JEMBATAN_WHATSAPP_VERIFY_TOKEN`).
    #[serde(default)]
    pub verify_token: Option<String>,
    /// The approved template each craftsman language gets outside the service
    /// window, keyed by the language's tag (`id`, `en`). A craftsman whose language
    /// has none gets another language's; with none at all, orders reach only
    /// craftsmen whose window is open.
    #[serde(default)]
    pub templates: HashMap<Language, TemplateConfig>,
    /// The approved template the reminder that an order has no answer yet goes as
    /// outside the service window (`[delivery.whatsapp.reminder_templates.id]`),
    /// keyed and chosen like `templates`, its parameters filled from the order the
    /// same way. Without one, a reminder reaches only craftsmen whose window is
    /// open; for the others its delivery is dead at once and says why.
    #[serde(default)]
    pub reminder_templates: HashMap<Language, TemplateConfig>,
}

/// One approved message template (`[delivery.whatsapp.templates.id]`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TemplateConfig {
    /// The template's name as approved in WhatsApp Manager, e.g. `pesanan_baru`.
    pub name: String,
    /// Its language and locale code, e.g. `id` or `en_US`.
    pub language: String,
    /// What fills the body's `{{1}}`, `{{2}}`…, in order; their number must be the
    /// template's, or Meta refuses the send (error 132000, docs/services.md 1.2).
    pub parameters: Vec<TemplateParameter>,
    /// The template's quick-reply buttons, in order: each gets the payload
    /// `<action>:<delivery id>`, which comes back in the `button` message when the
    /// craftsman taps it (docs/services.md W8, W14), e.g. `["terima", "tolak"]`. A
    /// word that means accept (`accept`, `terima`, `yes`, `ya`) or reject (`reject`,
    /// `tolak`, `decline`, `no`, `tidak`) answers the order with one tap
    /// ([`crate::chat_answers`]); any other word is carried as it is and only logged.
    #[serde(default)]
    pub quick_replies: Vec<String>,
}

/// WhatsApp's limits on an interactive reply-buttons message: "up to three
/// predefined replies", each button's `title` "Maximum length of 20 characters"
/// and its `id` "Maximum length of 256 characters", the body text at most 1024
/// characters (docs/services.md W15).
pub const MAX_REPLY_BUTTONS: usize = 3;
pub const MAX_BUTTON_TITLE_CHARS: usize = 20;
pub const MAX_BUTTON_ID_CHARS: usize = 256;
pub const MAX_INTERACTIVE_BODY_CHARS: usize = 1024;

/// An order field a template body parameter can carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TemplateParameter {
    OrderNumber,
    Buyer,
    Craftsman,
    Lines,
    DeliveryDate,
    Total,
}

impl TemplateParameter {
    fn value(self, values: &render::TemplateValues) -> &str {
        match self {
            Self::OrderNumber => &values.order_number,
            Self::Buyer => &values.buyer,
            Self::Craftsman => &values.craftsman,
            Self::Lines => &values.lines,
            Self::DeliveryDate => &values.delivery_date,
            Self::Total => &values.total,
        }
    }
}

fn default_base_url() -> String {
    "https://graph.facebook.com".into()
}

fn default_api_version() -> String {
    "v21.0".into()
}

fn default_timeout() -> Duration {
    Duration::from_secs(15)
}

impl fmt::Debug for WhatsAppConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hidden = |secret: &Option<String>| secret.as_ref().map(|_| "[redacted]");
        f.debug_struct("WhatsAppConfig")
            .field("base_url", &self.base_url)
            .field("api_version", &self.api_version)
            .field("phone_number_id", &self.phone_number_id)
            .field("access_token", &"[redacted]")
            .field("timeout", &self.timeout)
            .field("app_secret", &hidden(&self.app_secret))
            .field("verify_token", &hidden(&self.verify_token))
            .field("templates", &self.templates)
            .field("reminder_templates", &self.reminder_templates)
            .finish()
    }
}

/// A WhatsApp number as the Cloud API takes it, from what a person typed: digits
/// only, country code first (`6281234567890`), 8 to 15 digits (E.164 allows at
/// most 15). An Indonesian national number (`0812-3456-7890`) gets the country
/// code 62; `+` or `00` marks an international one; spaces, dashes, dots and
/// parentheses are dropped. Meta's examples write the number in E.164
/// (docs/services.md W4); its answer's `wa_id` is the digits alone.
pub fn normalize_number(input: &str) -> Result<String, String> {
    let compact: String = input
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '.' | '(' | ')'))
        .collect();
    let digits = if let Some(rest) = compact.strip_prefix('+') {
        rest.to_owned()
    } else if let Some(rest) = compact.strip_prefix("00") {
        rest.to_owned()
    } else if let Some(rest) = compact.strip_prefix('0') {
        format!("62{rest}")
    } else {
        compact
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
        return Err(format!(
            "'{input}' is not a phone number: write it with its country code, e.g. +6281234567890"
        ));
    }
    if digits.starts_with('0') {
        return Err(format!("'{input}' has no country code"));
    }
    if !(8..=15).contains(&digits.len()) {
        return Err(format!(
            "'{input}' has {} digits; a number with its country code has 8 to 15",
            digits.len()
        ));
    }
    Ok(digits)
}

/// Where one WhatsApp order goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WhatsAppTarget {
    /// The craftsman's number, digits with country code (see [`normalize_number`]).
    pub to: String,
    /// What the store knows of the number: opt-in and last message.
    pub contact: Option<WhatsAppContact>,
}

impl WhatsAppTarget {
    /// Whether the customer-service window is open at `now`.
    pub fn window_open(&self, now: DateTime<Utc>) -> bool {
        self.contact
            .as_ref()
            .and_then(|c| c.last_inbound_at)
            .is_some_and(|at| now < at + SERVICE_WINDOW)
    }

    fn opted_in(&self) -> bool {
        self.contact
            .as_ref()
            .is_some_and(|c| c.opted_in_at.is_some())
    }
}

/// Sends orders over the WhatsApp Cloud API.
#[derive(Clone)]
pub struct WhatsAppChannel {
    client: reqwest::Client,
    /// `{base}/{version}/{phone_number_id}/messages`.
    endpoint: String,
    /// `{base}/{version}/{phone_number_id}/media`.
    media_endpoint: String,
    /// `Bearer …`, marked sensitive.
    authorization: HeaderValue,
    /// Kept only to mask it in errors a server might echo it into.
    access_token: String,
    templates: HashMap<Language, TemplateConfig>,
    reminder_templates: HashMap<Language, TemplateConfig>,
}

impl fmt::Debug for WhatsAppChannel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WhatsAppChannel")
            .field("endpoint", &self.endpoint)
            .finish_non_exhaustive()
    }
}

impl WhatsAppChannel {
    /// Checks the config and builds the HTTP client.
    pub fn new(config: &WhatsAppConfig) -> Result<Self, ChannelConfigError> {
        let error = |message: &str| ChannelConfigError::new("whatsapp", message);
        if config.access_token.trim().is_empty() {
            return Err(error("`access_token` is not set"));
        }
        if config
            .access_token
            .chars()
            .any(|c| c.is_whitespace() || c.is_control())
        {
            return Err(error("`access_token` contains whitespace"));
        }
        let id = config.phone_number_id.trim();
        if id.is_empty() || !id.chars().all(|c| c.is_ascii_digit()) {
            return Err(error(
                "`phone_number_id` must be the number's id, all digits",
            ));
        }
        let all_templates = config.templates.iter().map(|t| ("templates", t)).chain(
            config
                .reminder_templates
                .iter()
                .map(|t| ("reminder_templates", t)),
        );
        for (section, (language, template)) in all_templates {
            // "Can only contain lowercase alphanumeric characters and underscores"
            // (developers.facebook.com/docs/whatsapp/message-templates/creation).
            let name_ok = !template.name.is_empty()
                && template
                    .name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
            if !name_ok {
                return Err(ChannelConfigError::new(
                    "whatsapp",
                    format!(
                        "{section}.{}.name {:?}: a template name is lower-case letters, digits and `_`",
                        language.tag(),
                        template.name
                    ),
                ));
            }
            if let Some(bad) = template.quick_replies.iter().find(|answer| {
                answer.is_empty()
                    || !answer
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            }) {
                return Err(ChannelConfigError::new(
                    "whatsapp",
                    format!(
                        "{section}.{}.quick_replies: {bad:?} is not a word of letters, digits, `_` and `-`",
                        language.tag()
                    ),
                ));
            }
            if template.language.trim().is_empty() {
                return Err(ChannelConfigError::new(
                    "whatsapp",
                    format!("{section}.{}.language is empty", language.tag()),
                ));
            }
        }
        let version = config.api_version.trim().trim_matches('/');
        let base = format!(
            "{}/{version}/{id}",
            config.base_url.trim().trim_end_matches('/')
        );
        let endpoint = format!("{base}/messages");
        reqwest::Url::parse(&endpoint)
            .map_err(|e| ChannelConfigError::new("whatsapp", format!("`base_url`: {e}")))?;
        let mut authorization =
            HeaderValue::from_str(&format!("Bearer {}", config.access_token))
                .map_err(|_| error("`access_token` has characters a header cannot carry"))?;
        authorization.set_sensitive(true);
        let client = http_client_builder(config.timeout)
            .build()
            .map_err(|e| ChannelConfigError::new("whatsapp", transport_error_text(e)))?;
        Ok(Self {
            client,
            endpoint,
            media_endpoint: format!("{base}/media"),
            authorization,
            access_token: config.access_token.clone(),
            templates: config.templates.clone(),
            reminder_templates: config.reminder_templates.clone(),
        })
    }

    /// The template for `out` (an order's, or a reminder's) to a craftsman of its
    /// language: theirs, else any configured of that kind.
    fn template_for(&self, out: &Outgoing<'_>) -> Option<&TemplateConfig> {
        let templates = if out.reminder {
            &self.reminder_templates
        } else {
            &self.templates
        };
        templates.get(&out.language).or_else(|| {
            [Language::Indonesian, Language::English]
                .iter()
                .find_map(|other| templates.get(other))
        })
    }
}

/// A Graph API answer: `{"messages":[{"id":…}]}`, `{"id":…}` (an upload) or
/// `{"error":{…}}`.
#[derive(Deserialize, Default)]
#[serde(default)]
struct Answer {
    messages: Vec<MessageId>,
    id: Option<String>,
    error: Option<GraphError>,
}

#[derive(Deserialize)]
struct MessageId {
    id: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct GraphError {
    message: String,
    code: Option<i64>,
    error_data: Option<serde_json::Value>,
}

/// Graph error codes that mean "not now" even when the HTTP status is a 4xx (Meta
/// answers throttling with 400): rate limits (4, 80007, 130429, 131056), and
/// "temporarily unavailable" (1, 2, 131000, 133004); docs/services.md 1.4.
const TRANSIENT_GRAPH_CODES: [i64; 8] = [1, 2, 4, 80007, 130429, 131000, 131056, 133004];

/// Of those, the limits on the app, the business account or the number as a
/// whole: "API Too Many Calls" (4), the WABA's rate limit (80007) and the number's
/// throughput (130429), docs/services.md 1.4. They pause the channel for every
/// delivery. The pair limit (131056) is one recipient's and stays a retry of the
/// delivery.
const CHANNEL_LIMIT_CODES: [i64; 3] = [4, 80007, 130429];

/// The pair rate limit (131056): "too many messages sent from this phone number
/// to the same phone number in a short period of time", about one message every
/// 6 seconds to one user (docs/services.md 1.4). Only that recipient waits: the
/// delivery is retried no earlier than this, and the channel goes on.
const PAIR_RATE_LIMIT: i64 = 131056;

/// How long a recipient's delivery waits after the pair rate limit: Meta's pace
/// of one message every 6 seconds to the same user.
const PAIR_RATE_WAIT: Duration = Duration::from_secs(6);

/// "Template is paused due to low quality so it cannot be sent in a template
/// message": a pause of hours, then the template works again or is disabled
/// (docs/services.md 1.2). Retried, not permanent.
pub const PAUSED_TEMPLATE: i64 = 132015;

/// Graph's `OAuthException` for an access token that expired or was revoked.
pub const EXPIRED_TOKEN: i64 = 190;

/// "Re-engagement message": a free-form message outside the service window
/// (docs/services.md W2). Not a failure of the order: it needs a template.
pub const REENGAGEMENT: i64 = 131047;

/// Whether a message that failed with Graph error `code` can be sent again: the
/// transient codes and re-engagement (the next attempt goes as a template) may
/// pass, spam limits (131048, 131049: "not delivered to maintain healthy
/// ecosystem engagement") pass with time; anything else (131026 undeliverable,
/// template errors 132000–132016, bad parameters) is the same next time. Used for
/// the `failed` status webhooks, which carry a code and no HTTP status.
pub fn code_failure(code: i64) -> Failure {
    if TRANSIENT_GRAPH_CODES.contains(&code)
        || matches!(code, REENGAGEMENT | 131048 | 131049 | PAUSED_TEMPLATE)
    {
        Failure::Retry
    } else {
        Failure::Permanent
    }
}

/// How long a message that failed with Graph error `code` asks its delivery to
/// wait, whether the failure came in the send's answer or a later `failed` status:
/// [`PAIR_RATE_WAIT`] after the pair rate limit; `None` when the code says nothing.
pub fn code_retry_after(code: i64) -> Option<Duration> {
    (code == PAIR_RATE_LIMIT).then_some(PAIR_RATE_WAIT)
}

/// A Graph API refusal: the classified error, and Graph's code when it gave one.
struct Refusal {
    error: SendError,
    code: Option<i64>,
}

/// The text part of a free-form WhatsApp delivery, as kept between attempts; the
/// documents are `document:<n>`, the whole order first.
const PART_TEXT: &str = "text";
const PART_BUTTONS: &str = "buttons";

/// `text` cut to at most `max` characters.
fn truncate_chars(text: &str, max: usize) -> String {
    text.chars().take(max).collect()
}

/// The interactive message under an order sent inside the window: accept and
/// reject as reply buttons, each `id` naming the action and the delivery.
fn answer_buttons(to: &str, out: &Outgoing<'_>) -> serde_json::Value {
    let question = match out.language {
        Language::Indonesian => format!(
            "Pesanan {}: terima atau tolak?",
            out.order.buyer_order_number
        ),
        Language::English => format!("Order {}: accept or reject?", out.order.buyer_order_number),
    };
    let button = |action: Action| {
        serde_json::json!({
            "type": "reply",
            "reply": {
                "id": button_payload(action, out.delivery_id),
                "title": action.title(out.language),
            },
        })
    };
    serde_json::json!({
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to,
        "type": "interactive",
        "interactive": {
            "type": "button",
            "body": { "text": truncate_chars(&question, MAX_INTERACTIVE_BODY_CHARS) },
            "action": { "buttons": [button(Action::Accept), button(Action::Reject)] },
        },
    })
}

impl From<SendError> for Refusal {
    fn from(error: SendError) -> Self {
        Self { error, code: None }
    }
}

#[async_trait]
impl Channel for WhatsAppChannel {
    type Target = WhatsAppTarget;

    async fn send(&self, target: &WhatsAppTarget, out: &Outgoing<'_>) -> Result<Sent, SendError> {
        if target.window_open(Utc::now()) {
            match self.send_free_form(target, out).await {
                // Our clock and Meta's disagree on the window: a template now,
                // rather than the same refusal on the retry schedule.
                Err(Refusal {
                    code: Some(REENGAGEMENT),
                    error,
                }) => {
                    tracing::info!(delivery_id = out.delivery_id, %error,
                        "WhatsApp says the service window is closed; sending the template");
                }
                other => return other.map_err(|r| r.error),
            }
        }
        self.send_template(target, out).await.map_err(|r| r.error)
    }
}

impl WhatsAppChannel {
    /// The order's summary as text, then the whole order and each embedded drawing
    /// of a supported type as a document. The text's `wamid` is the attempt's.
    /// Each part is skipped when an earlier attempt delivered it, so a failed
    /// document is sent again without the text before it.
    async fn send_free_form(
        &self,
        target: &WhatsAppTarget,
        out: &Outgoing<'_>,
    ) -> Result<Sent, Refusal> {
        if out.reminder {
            return self.send_reminder_text(target, out).await;
        }
        let mut delivered = Vec::new();
        self.send_parts(target, out, &mut delivered)
            .await
            .map_err(|refusal| Refusal {
                error: refusal.error.after_delivering(delivered.clone()),
                ..refusal
            })
    }

    async fn send_parts(
        &self,
        target: &WhatsAppTarget,
        out: &Outgoing<'_>,
        delivered: &mut Vec<String>,
    ) -> Result<Sent, Refusal> {
        let mut wamid = None;
        if !out.delivered(PART_TEXT) {
            let text = serde_json::json!({
                "messaging_product": "whatsapp",
                "recipient_type": "individual",
                "to": target.to,
                "type": "text",
                "text": { "preview_url": false, "body": render::summary(out, MAX_TEXT_CHARS) },
            });
            wamid = Some(self.send_message(&text).await?);
            delivered.push(PART_TEXT.to_owned());
        }
        let stem = render::file_stem(&out.order.buyer_order_number);
        // A PDF, not the `.txt` of the same text: a phone opens a PDF in its
        // viewer, where a text file is one more thing to download and open.
        let mut documents = vec![render::EmbeddedFile {
            name: format!("order-{stem}.pdf"),
            media_type: "application/pdf".into(),
            bytes: render::pdf(out),
        }];
        let mut skipped = Vec::new();
        for file in render::embedded_files(&out.order.order) {
            if DOCUMENT_TYPES.contains(&file.media_type.as_str()) {
                documents.push(file);
            } else {
                // The text names every document; the e-mail and the inbox carry it.
                skipped.push(file.name);
            }
        }
        let mut sent_documents = 0;
        for (n, file) in documents.iter().enumerate() {
            let part = format!("document:{n}");
            if out.delivered(&part) {
                continue;
            }
            let media_id = self.upload(file).await?;
            let document = serde_json::json!({
                "messaging_product": "whatsapp",
                "recipient_type": "individual",
                "to": target.to,
                "type": "document",
                "document": { "id": media_id, "filename": file.name },
            });
            self.send_message(&document).await?;
            delivered.push(part);
            sent_documents += 1;
        }
        // Last, so the buttons are what the craftsman sees at the bottom of the chat.
        if !out.delivered(PART_BUTTONS) {
            self.send_message(&answer_buttons(&target.to, out)).await?;
            delivered.push(PART_BUTTONS.to_owned());
        }
        let text = match &wamid {
            Some(wamid) => format!("text {wamid}"),
            None => "the text went with an earlier attempt".to_owned(),
        };
        let mut detail = format!("{text} and {sent_documents} document(s)");
        if !skipped.is_empty() {
            detail.push_str(&format!(
                "; not a WhatsApp document type: {}",
                skipped.join(", ")
            ));
        }
        Ok(Sent {
            status_code: Some(200),
            detail: Some(detail),
            message_id: wamid,
            moved_to: None,
        })
    }

    /// The reminder that an order has no answer yet, as one text message.
    async fn send_reminder_text(
        &self,
        target: &WhatsAppTarget,
        out: &Outgoing<'_>,
    ) -> Result<Sent, Refusal> {
        let text = serde_json::json!({
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": target.to,
            "type": "text",
            "text": { "preview_url": false, "body": render::reminder_text(out) },
        });
        let wamid = self.send_message(&text).await?;
        Ok(Sent {
            status_code: Some(200),
            detail: Some(format!("reminder text {wamid}")),
            message_id: Some(wamid),
            moved_to: None,
        })
    }

    /// The approved template of the craftsman's language (a reminder's, for a
    /// reminder), to an opted-in number.
    async fn send_template(
        &self,
        target: &WhatsAppTarget,
        out: &Outgoing<'_>,
    ) -> Result<Sent, Refusal> {
        if !target.opted_in() {
            return Err(SendError::permanent(
                None,
                format!(
                    "no WhatsApp opt-in is recorded for {}, and their service window is closed: \
                     Meta requires a user's opt-in before a business messages them first; an admin \
                     records it (PUT /v1/admin/craftsmen/{{id}}/channels/{{channel_id}}/whatsapp-opt-in) \
                     and retries the delivery",
                    target.to
                ),
            )
            .into());
        }
        let Some(template) = self.template_for(out) else {
            let (what, section) = if out.reminder {
                ("reminder template", "reminder_templates")
            } else {
                ("template", "templates")
            };
            return Err(SendError::permanent(
                None,
                format!(
                    "{}'s service window is closed (they have not written to the business number \
                     in the last 24 hours) and this gateway has no approved {what} to send \
                     instead: the operator must configure [delivery.whatsapp.{section}.{}]",
                    target.to,
                    out.language.tag()
                ),
            )
            .into());
        };
        let values = render::template_values(out, MAX_PARAMETER_CHARS);
        let parameters: Vec<_> = template
            .parameters
            .iter()
            .map(|p| serde_json::json!({ "type": "text", "text": p.value(&values) }))
            .collect();
        let mut components = Vec::new();
        if !parameters.is_empty() {
            components.push(serde_json::json!({ "type": "body", "parameters": parameters }));
        }
        for (index, answer) in template.quick_replies.iter().enumerate() {
            components.push(serde_json::json!({
                "type": "button",
                "sub_type": "quick_reply",
                "index": index.to_string(),
                "parameters": [{
                    "type": "payload",
                    // Our own word for the action when the operator's is one we
                    // know, so every chat's button reads the same.
                    "payload": match Action::from_word(answer) {
                        Some(action) => button_payload(action, out.delivery_id),
                        None => format!("{answer}:{}", out.delivery_id),
                    },
                }],
            }));
        }
        let request = serde_json::json!({
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": target.to,
            "type": "template",
            "template": {
                "name": template.name,
                "language": { "code": template.language },
                "components": components,
            },
        });
        let wamid = self.send_message(&request).await?;
        Ok(Sent {
            status_code: Some(200),
            detail: Some(format!(
                "template {} ({}) {wamid}",
                template.name, template.language
            )),
            message_id: Some(wamid),
            moved_to: None,
        })
    }

    /// Writes `text` to a number, outside any delivery (inside the window: the
    /// craftsman has just written).
    pub async fn send_text(&self, to: &str, text: &str) -> Result<(), SendError> {
        let body = serde_json::json!({
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": to,
            "type": "text",
            "text": { "preview_url": false, "body": truncate_chars(text, MAX_TEXT_CHARS) },
        });
        self.send_message(&body)
            .await
            .map(|_| ())
            .map_err(|r| r.error)
    }

    /// One `messages` request; its `wamid`.
    async fn send_message(&self, body: &serde_json::Value) -> Result<String, Refusal> {
        let request = self.client.post(&self.endpoint).json(body);
        let (status, answer, raw) = self.call(request).await?;
        match answer.messages.into_iter().next() {
            Some(message) => Ok(message.id),
            // Taken, but we cannot tell it was: better a duplicate than a loss.
            None => Err(SendError::retry(
                Some(status),
                format!(
                    "WhatsApp answered HTTP {status} without a message id: {}",
                    excerpt(&raw, 200)
                ),
            )
            .into()),
        }
    }

    /// Uploads one document (`POST /{phone-number-id}/media`, multipart:
    /// `messaging_product`, `type`, `file`; docs/services.md W6); its media id.
    async fn upload(&self, file: &render::EmbeddedFile) -> Result<String, Refusal> {
        let (content_type, body) = super::telegram::multipart_form(
            &[
                ("messaging_product", "whatsapp"),
                ("type", &file.media_type),
            ],
            ("file", &file.name, &file.media_type, &file.bytes),
        );
        let request = self
            .client
            .post(&self.media_endpoint)
            .header(CONTENT_TYPE, content_type)
            .body(body);
        let (status, answer, raw) = self.call(request).await?;
        answer.id.ok_or_else(|| {
            SendError::retry(
                Some(status),
                format!(
                    "WhatsApp answered the upload of {} with HTTP {status} and no media id: {}",
                    file.name,
                    excerpt(&raw, 200)
                ),
            )
            .into()
        })
    }

    /// Sends a request with the token; a 2xx answer, or the refusal classified.
    async fn call(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<(u16, Answer, Vec<u8>), Refusal> {
        let response = request
            .header(AUTHORIZATION, self.authorization.clone())
            .send()
            .await
            .map_err(|e| SendError::retry(None, self.clean(transport_error_text(e))))?;
        let status = response.status().as_u16();
        let body = read_capped(response, 64 * 1024)
            .await
            .map_err(|e| SendError::retry(Some(status), self.clean(transport_error_text(e))))?;
        let answer: Answer = serde_json::from_slice(&body).unwrap_or_default();
        if (200..300).contains(&status) {
            return Ok((status, answer, body));
        }
        let code = answer.error.as_ref().and_then(|e| e.code);
        let (failure, text) = match &answer.error {
            Some(error) => {
                let failure = match error.code {
                    Some(code) if CHANNEL_LIMIT_CODES.contains(&code) => Failure::Throttled,
                    Some(code) if TRANSIENT_GRAPH_CODES.contains(&code) => Failure::Retry,
                    // "the login status or access token has expired, been revoked,
                    // or is otherwise invalid. Get a new access token" (Graph API
                    // error handling, docs/services.md 1.4): the operator's token,
                    // not the order. By code: the HTTP status Meta uses with it is
                    // not documented.
                    Some(EXPIRED_TOKEN) => Failure::Credentials,
                    Some(PAUSED_TEMPLATE) => Failure::Retry,
                    _ => api_status_failure(status),
                };
                let mut text = format!("WhatsApp answered HTTP {status}");
                if let Some(code) = error.code {
                    text.push_str(&format!(" (error {code})"));
                }
                text.push_str(": ");
                text.push_str(&excerpt(error.message.as_bytes(), 300));
                if let Some(details) = error
                    .error_data
                    .as_ref()
                    .and_then(|d| d.get("details"))
                    .and_then(|d| d.as_str())
                {
                    text.push_str(" — ");
                    text.push_str(&excerpt(details.as_bytes(), 300));
                }
                if code == Some(PAIR_RATE_LIMIT) {
                    text.push_str(
                        " — too many messages to this craftsman's number in a short time; \
                         only this recipient waits",
                    );
                }
                (failure, text)
            }
            None => (
                api_status_failure(status),
                format!("WhatsApp answered HTTP {status}: {}", excerpt(&body, 200)),
            ),
        };
        let wait = code.and_then(code_retry_after);
        Err(Refusal {
            error: SendError::new(failure, Some(status), self.clean(text)).with_retry_after(wait),
            code,
        })
    }

    fn clean(&self, text: String) -> String {
        redact(&text, &self.access_token)
    }
}

/// Whether `signature` (the `X-Hub-Signature-256` header) is `sha256=` and the hex
/// HMAC-SHA256 of `body` keyed with the app secret, compared in constant time.
/// Meta's official SDK strips `sha256=` from the header and compares the rest with
/// the HMAC of the raw body keyed with the app secret (docs/services.md W11;
/// github.com/WhatsApp/WhatsApp-Nodejs-SDK `src/api/webhooks.ts`), which is why the
/// raw bytes are checked, before any parsing.
pub fn signature_is_valid(app_secret: &str, body: &[u8], signature: &str) -> bool {
    let Some(hex_digest) = signature.trim().strip_prefix("sha256=") else {
        return false;
    };
    let Ok(expected) = hex::decode(hex_digest) else {
        return false;
    };
    let mut mac = Hmac::<Sha256>::new_from_slice(app_secret.as_bytes())
        .expect("HMAC takes a key of any length");
    mac.update(body);
    mac.verify_slice(&expected).is_ok()
}

/// A webhook event from Meta: `{"object":"whatsapp_business_account","entry":[{
/// "changes":[{"field":"messages","value":{"messages":[…],"statuses":[…]}}]}]}`
/// (docs/services.md W12, W14).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Notification {
    pub object: String,
    pub entry: Vec<Entry>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Entry {
    pub changes: Vec<Change>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Change {
    pub field: String,
    pub value: ChangeValue,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ChangeValue {
    /// What users sent to the business number.
    pub messages: Vec<InboundMessage>,
    /// What became of the messages the business sent.
    pub statuses: Vec<Status>,
    /// Errors about the business number, tied to no message (docs/services.md W13).
    pub errors: Vec<StatusError>,
}

/// A message a user sent: it opens (or refreshes) their service window.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct InboundMessage {
    /// The user's number, digits (`wa_id`).
    pub from: String,
    /// Unix seconds, as a string.
    pub timestamp: String,
    /// `text`, `button` (a tapped quick reply), …
    #[serde(rename = "type")]
    pub kind: String,
    /// A tapped quick-reply button: its payload and text.
    pub button: Option<ButtonReply>,
    /// The message's `wamid`.
    pub id: String,
    /// A text message's body.
    pub text: Option<TextBody>,
    /// A tapped reply button of an interactive message.
    pub interactive: Option<InteractiveReply>,
}

/// `{"body": …}` of a text message.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct TextBody {
    pub body: String,
}

/// `{"type": "button_reply", "button_reply": {"id", "title"}}`: a tapped reply
/// button (docs/services.md W15).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct InteractiveReply {
    #[serde(rename = "type")]
    pub kind: String,
    pub button_reply: Option<ButtonReplyId>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ButtonReplyId {
    pub id: String,
    pub title: String,
}

/// `{"payload": …, "text": …}` of a tapped template button (docs/services.md W14).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ButtonReply {
    pub payload: String,
    pub text: String,
}

/// A status of a message the business sent.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Status {
    /// The `wamid` the send was answered with.
    pub id: String,
    /// `sent`, `delivered`, `read` or `failed`.
    pub status: String,
    /// Unix seconds, as a string.
    pub timestamp: String,
    pub recipient_id: String,
    /// Why a `failed` message failed.
    pub errors: Vec<StatusError>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct StatusError {
    pub code: Option<i64>,
    pub title: String,
    pub message: String,
    pub error_data: Option<serde_json::Value>,
}

impl StatusError {
    /// `error 131026: Message undeliverable — <details>`, for the attempt log.
    pub fn text(&self) -> String {
        let mut text = match self.code {
            Some(code) => format!("error {code}"),
            None => "an error".to_owned(),
        };
        let title = if self.title.is_empty() {
            &self.message
        } else {
            &self.title
        };
        if !title.is_empty() {
            text.push_str(": ");
            text.push_str(&excerpt(title.as_bytes(), 200));
        }
        if let Some(details) = self
            .error_data
            .as_ref()
            .and_then(|d| d.get("details"))
            .and_then(|d| d.as_str())
        {
            text.push_str(" — ");
            text.push_str(&excerpt(details.as_bytes(), 300));
        }
        text
    }
}

/// A webhook's Unix-seconds timestamp; `now` when it is missing or unreadable.
pub fn event_time(timestamp: &str, now: DateTime<Utc>) -> DateTime<Utc> {
    timestamp
        .trim()
        .parse::<i64>()
        .ok()
        .and_then(|seconds| DateTime::from_timestamp(seconds, 0))
        .unwrap_or(now)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::delivery::channels::Language;
    use crate::delivery::channels::testing::{
        Reply, Request, TestServer, closed_url, outgoing, sample_record,
    };

    const TOKEN: &str = "EAAGm0PX4ZCpsBAKZC-test-token";

    fn config(base_url: String) -> WhatsAppConfig {
        WhatsAppConfig {
            base_url,
            api_version: default_api_version(),
            phone_number_id: "106540352242922".into(),
            access_token: TOKEN.into(),
            timeout: Duration::from_secs(5),
            app_secret: None,
            verify_token: None,
            templates: HashMap::from([(
                Language::Indonesian,
                TemplateConfig {
                    name: "pesanan_baru".into(),
                    language: "id".into(),
                    parameters: vec![
                        TemplateParameter::OrderNumber,
                        TemplateParameter::Buyer,
                        TemplateParameter::Lines,
                        TemplateParameter::DeliveryDate,
                    ],
                    quick_replies: Vec::new(),
                },
            )]),
            reminder_templates: HashMap::from([(
                Language::Indonesian,
                TemplateConfig {
                    name: "pesanan_menunggu".into(),
                    language: "id".into(),
                    parameters: vec![TemplateParameter::OrderNumber, TemplateParameter::Buyer],
                    quick_replies: vec!["terima".into(), "tolak".into()],
                },
            )]),
        }
    }

    fn contact(opted_in: bool, wrote_hours_ago: Option<i64>) -> WhatsAppContact {
        WhatsAppContact {
            wa_id: "6281234567890".into(),
            opted_in_at: opted_in.then(Utc::now),
            opt_in_source: opted_in.then(|| "form".into()),
            last_inbound_at: wrote_hours_ago.map(|h| Utc::now() - chrono::TimeDelta::hours(h)),
        }
    }

    async fn send_with(
        config: WhatsAppConfig,
        contact: Option<WhatsAppContact>,
    ) -> Result<Sent, SendError> {
        let record = sample_record();
        WhatsAppChannel::new(&config)
            .unwrap()
            .send(
                &WhatsAppTarget {
                    to: "6281234567890".into(),
                    contact,
                },
                &outgoing(&record, Language::Indonesian),
            )
            .await
    }

    /// A Graph API that takes everything: `messages` gets a wamid, `media` an id.
    fn graph_ok(request: &Request) -> Reply {
        if request.path.ends_with("/media") {
            Reply::json(200, json!({"id": "4490709327384033"}))
        } else {
            Reply::json(
                200,
                json!({"messaging_product": "whatsapp",
                       "contacts": [{"input": "6281234567890", "wa_id": "6281234567890"}],
                       "messages": [{"id": "wamid.HBgLNjI4MTIzNDU2Nzg5MBUCABEYEjE="}]}),
            )
        }
    }

    #[tokio::test]
    async fn inside_the_window_the_summary_goes_as_text_and_the_order_as_a_document() {
        let server = TestServer::start(graph_ok);
        let sent = send_with(config(server.url()), Some(contact(false, Some(2))))
            .await
            .unwrap();
        assert_eq!(
            sent.message_id.as_deref(),
            Some("wamid.HBgLNjI4MTIzNDU2Nzg5MBUCABEYEjE=")
        );

        let requests = server.requests();
        let paths: Vec<_> = requests.iter().map(|r| r.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "/v21.0/106540352242922/messages",
                "/v21.0/106540352242922/media",
                "/v21.0/106540352242922/messages",
                "/v21.0/106540352242922/messages"
            ]
        );
        for request in &requests {
            assert_eq!(
                request.header("authorization"),
                Some(format!("Bearer {TOKEN}").as_str())
            );
        }
        let text = requests[0].json();
        assert_eq!(text["to"], "6281234567890");
        assert_eq!(text["type"], "text");
        let body = text["text"]["body"].as_str().unwrap();
        assert!(body.starts_with("Pesanan baru PO-2026/0042"), "{body}");
        assert!(body.chars().count() <= MAX_TEXT_CHARS);

        let upload = String::from_utf8_lossy(&requests[1].body).into_owned();
        assert!(upload.contains("name=\"messaging_product\"\r\n\r\nwhatsapp"));
        assert!(upload.contains("name=\"type\"\r\n\r\napplication/pdf"));
        assert!(
            upload.contains("filename=\"order-PO-2026_0042.pdf\""),
            "{upload}"
        );
        assert!(upload.contains("%PDF-1."), "{upload}");
        let document = requests[2].json();
        assert_eq!(document["type"], "document");
        assert_eq!(document["document"]["id"], "4490709327384033");
        assert_eq!(document["document"]["filename"], "order-PO-2026_0042.pdf");
        // Last, the buttons that answer the order (docs/services.md W15).
        let buttons = requests[3].json();
        assert_eq!(buttons["type"], "interactive");
        let interactive = &buttons["interactive"];
        assert_eq!(interactive["type"], "button");
        let replies = interactive["action"]["buttons"].as_array().unwrap();
        assert!(replies.len() <= MAX_REPLY_BUTTONS);
        let ids: Vec<_> = replies
            .iter()
            .map(|b| b["reply"]["id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, ["accept:dlv_0001", "reject:dlv_0001"]);
        for reply in replies {
            let title = reply["reply"]["title"].as_str().unwrap();
            assert!(title.chars().count() <= MAX_BUTTON_TITLE_CHARS);
            assert!(reply["reply"]["id"].as_str().unwrap().len() <= MAX_BUTTON_ID_CHARS);
        }
        assert_eq!(replies[0]["reply"]["title"], "Terima");
    }

    #[tokio::test]
    async fn embedded_drawings_go_as_documents_when_whatsapp_takes_their_type() {
        let server = TestServer::start(graph_ok);
        let mut record = sample_record();
        let drawing = &mut record.order.lines[0].item.documents[0];
        drawing.filename = Some("kursi.pdf".into());
        drawing.mime_type = Some("application/pdf".into());
        drawing.content_base64 = Some("JVBERi0xLjQK".into());
        let mut model = drawing.clone();
        model.filename = Some("kursi.step".into());
        model.mime_type = Some("model/step".into());
        record.order.lines[0].item.documents.push(model);
        let sent = WhatsAppChannel::new(&config(server.url()))
            .unwrap()
            .send(
                &WhatsAppTarget {
                    to: "6281234567890".into(),
                    contact: Some(contact(false, Some(1))),
                },
                &outgoing(&record, Language::Indonesian),
            )
            .await
            .unwrap();
        let detail = sent.detail.unwrap();
        assert!(detail.contains("2 document(s)"), "{detail}");
        assert!(
            detail.contains("not a WhatsApp document type: kursi.step"),
            "{detail}"
        );
        let uploads: Vec<String> = server
            .requests()
            .iter()
            .filter(|r| r.path.ends_with("/media"))
            .map(|r| String::from_utf8_lossy(&r.body).into_owned())
            .collect();
        assert_eq!(uploads.len(), 2);
        assert!(
            uploads[1].contains("filename=\"kursi.pdf\""),
            "{}",
            uploads[1]
        );
        assert!(uploads[1].contains("%PDF-1.4"));
    }

    #[tokio::test]
    async fn outside_the_window_an_opted_in_craftsman_gets_the_template() {
        let server = TestServer::start(graph_ok);
        let mut config = config(server.url());
        config
            .templates
            .get_mut(&Language::Indonesian)
            .unwrap()
            .quick_replies = vec!["accept".into(), "decline".into()];
        let sent = send_with(config, Some(contact(true, Some(30))))
            .await
            .unwrap();
        assert!(
            sent.detail
                .unwrap()
                .starts_with("template pesanan_baru (id)")
        );
        let requests = server.requests();
        assert_eq!(requests.len(), 1);
        let body = requests[0].json();
        assert_eq!(body["type"], "template");
        assert_eq!(body["template"]["name"], "pesanan_baru");
        assert_eq!(body["template"]["language"]["code"], "id");
        let parameters = body["template"]["components"][0]["parameters"]
            .as_array()
            .unwrap();
        assert_eq!(body["template"]["components"][0]["type"], "body");
        let texts: Vec<_> = parameters
            .iter()
            .map(|p| p["text"].as_str().unwrap())
            .collect();
        assert_eq!(texts.len(), 4);
        assert_eq!(texts[0], "PO-2026/0042");
        assert_eq!(texts[1], "PT Mitra Otoparts");
        assert!(
            texts[2].starts_with("1. 10 buah — Kursi rotan"),
            "{}",
            texts[2]
        );
        assert!(texts[3].contains("2026"), "{}", texts[3]);
        for text in texts {
            assert!(
                !text.contains(['\n', '\t']) && !text.contains("     "),
                "{text:?}"
            );
            assert!(text.chars().count() <= MAX_PARAMETER_CHARS);
        }
        let components = body["template"]["components"].as_array().unwrap();
        assert_eq!(components.len(), 3);
        // The operator's words become the gateway's own actions.
        for (index, answer) in [Action::Accept, Action::Reject].into_iter().enumerate() {
            let button = &components[index + 1];
            assert_eq!(button["type"], "button");
            assert_eq!(button["sub_type"], "quick_reply");
            assert_eq!(button["index"], index.to_string());
            let payload = button["parameters"][0]["payload"].as_str().unwrap();
            assert_eq!(
                crate::chat_answers::parse_payload(payload),
                Some((answer, "dlv_0001")),
                "{payload}"
            );
        }
    }

    /// A reminder: its text inside the window, its own template outside it, and
    /// dead with the reason when there is no reminder template.
    #[tokio::test]
    async fn a_reminder_is_a_short_text_or_the_reminder_template() {
        let server = TestServer::start(graph_ok);
        let record = sample_record();
        let mut out = outgoing(&record, Language::Indonesian);
        out.reminder = true;
        let send = |config: WhatsAppConfig, contact: WhatsAppContact| {
            let out = out;
            async move {
                WhatsAppChannel::new(&config)
                    .unwrap()
                    .send(
                        &WhatsAppTarget {
                            to: "6281234567890".into(),
                            contact: Some(contact),
                        },
                        &out,
                    )
                    .await
            }
        };
        // Inside the window: one text, the reminder, no document.
        let sent = send(config(server.url()), contact(false, Some(2)))
            .await
            .unwrap();
        assert!(sent.detail.unwrap().starts_with("reminder text wamid."));
        let requests = server.requests();
        assert_eq!(requests.len(), 1);
        let body = requests[0].json();
        assert_eq!(body["type"], "text");
        let text = body["text"]["body"].as_str().unwrap();
        assert_eq!(text, render::reminder_text(&out));
        assert!(text.contains("belum Anda jawab") && text.contains("/inbox/ord_0001"));
        // Outside it: the reminder template, never the order's.
        let sent = send(config(server.url()), contact(true, Some(30)))
            .await
            .unwrap();
        assert!(
            sent.detail
                .unwrap()
                .starts_with("template pesanan_menunggu (id)")
        );
        let body = server.requests()[1].json();
        assert_eq!(body["template"]["name"], "pesanan_menunggu");
        let components = body["template"]["components"].as_array().unwrap();
        assert_eq!(components[0]["parameters"][0]["text"], "PO-2026/0042");
        assert_eq!(components[0]["parameters"][1]["text"], "PT Mitra Otoparts");
        let payload = components[1]["parameters"][0]["payload"].as_str().unwrap();
        assert_eq!(
            crate::chat_answers::parse_payload(payload),
            Some((Action::Accept, "dlv_0001"))
        );
        // No reminder template: dead at once, saying what to configure; the order's
        // template is not sent in its place.
        let mut no_template = config(server.url());
        no_template.reminder_templates.clear();
        let err = send(no_template, contact(true, Some(30)))
            .await
            .unwrap_err();
        assert_eq!(err.failure, Failure::Permanent);
        assert!(
            err.error
                .contains("[delivery.whatsapp.reminder_templates.id]"),
            "{err}"
        );
        assert_eq!(server.requests().len(), 2);
    }

    #[tokio::test]
    async fn outside_the_window_without_opt_in_or_template_nothing_is_sent() {
        let server = TestServer::start(graph_ok);
        for contact in [None, Some(contact(false, Some(25)))] {
            let err = send_with(config(server.url()), contact).await.unwrap_err();
            assert_eq!(err.failure, Failure::Permanent);
            assert!(err.error.contains("no WhatsApp opt-in"), "{err}");
        }
        let mut no_template = config(server.url());
        no_template.templates.clear();
        let err = send_with(no_template, Some(contact(true, None)))
            .await
            .unwrap_err();
        assert_eq!(err.failure, Failure::Permanent);
        assert!(
            err.error.contains("[delivery.whatsapp.templates.id]"),
            "{err}"
        );
        assert!(server.requests().is_empty());
    }

    #[tokio::test]
    async fn a_reengagement_refusal_of_the_text_sends_the_template_at_once() {
        let server = TestServer::start(|request| {
            if request.json()["type"] == "text" {
                Reply::json(
                    400,
                    json!({"error": {"message": "(#131047) Re-engagement message",
                                     "type": "OAuthException", "code": 131047}}),
                )
            } else {
                graph_ok(request)
            }
        });
        let sent = send_with(config(server.url()), Some(contact(true, Some(23))))
            .await
            .unwrap();
        assert!(sent.detail.unwrap().starts_with("template "));
        let types: Vec<_> = server
            .requests()
            .iter()
            .map(|r| r.json()["type"].clone())
            .collect();
        assert_eq!(types, [json!("text"), json!("template")]);
    }

    #[tokio::test]
    async fn answers_are_classified() {
        let graph_error = |code: i64, message: &str| json!({"error": {"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "A1"}});
        let cases = [
            (
                429,
                graph_error(130429, "(#130429) Rate limit hit"),
                Failure::Throttled,
            ),
            (
                400,
                graph_error(80007, "(#80007) Rate limit issues"),
                Failure::Throttled,
            ),
            (
                500,
                graph_error(131000, "(#131000) Something went wrong"),
                Failure::Retry,
            ),
            (503, json!({}), Failure::Retry),
            // Meta answers throttling with a 400: the code decides.
            (
                400,
                graph_error(131056, "(#131056) pair rate limit hit"),
                Failure::Retry,
            ),
            (
                400,
                graph_error(
                    131030,
                    "(#131030) Recipient phone number not in allowed list",
                ),
                Failure::Permanent,
            ),
            (
                401,
                graph_error(190, "Error validating access token: Session has expired"),
                Failure::Credentials,
            ),
            (
                400,
                graph_error(190, "Error validating access token: Session has expired"),
                Failure::Credentials,
            ),
            (404, json!({}), Failure::Permanent),
        ];
        for (status, body, expected) in cases {
            let message = body["error"]["message"].as_str().map(str::to_owned);
            let server = TestServer::start(move |_| Reply::json(status, body.clone()));
            let err = send_with(config(server.url()), Some(contact(true, None)))
                .await
                .unwrap_err();
            assert_eq!(err.failure, expected, "{status}: {err}");
            assert_eq!(err.status_code, Some(status));
            if let Some(message) = message {
                assert!(err.error.contains(&message), "{err}");
            }
            // Only the pair limit names its wait: Meta's one message per 6 s.
            let pair = err.error.contains("131056");
            assert_eq!(err.retry_after, pair.then_some(PAIR_RATE_WAIT), "{err}");
        }
    }

    #[test]
    fn failed_status_codes_are_classified() {
        for code in [131047, 130429, 131056, 131049, 132015, 1, 2] {
            assert_eq!(code_failure(code), Failure::Retry, "{code}");
        }
        for code in [131026, 132000, 132001, 100, 131030] {
            assert_eq!(code_failure(code), Failure::Permanent, "{code}");
        }
    }

    #[tokio::test]
    async fn a_success_without_an_id_is_retried() {
        let server = TestServer::start(|_| Reply::json(200, json!({"ok": true})));
        let err = send_with(config(server.url()), Some(contact(true, None)))
            .await
            .unwrap_err();
        assert_eq!(err.failure, Failure::Retry);
    }

    #[tokio::test]
    async fn no_answer_is_retried_and_the_token_never_shows() {
        let err = send_with(config(closed_url()), Some(contact(true, None)))
            .await
            .unwrap_err();
        assert_eq!(err.failure, Failure::Retry);
        assert_eq!(err.status_code, None);
        assert!(!err.error.contains(TOKEN));

        // A server that echoes the request's token back.
        let server = TestServer::start(|request| {
            let auth = request
                .header("authorization")
                .unwrap_or_default()
                .to_owned();
            Reply::json(
                400,
                json!({"error": {"message": format!("bad header {auth}"), "code": 100}}),
            )
        });
        let err = send_with(config(server.url()), Some(contact(true, None)))
            .await
            .unwrap_err();
        assert_eq!(err.failure, Failure::Permanent);
        assert!(!err.error.contains(TOKEN), "{err}");
        assert!(!format!("{err:?}").contains(TOKEN));
    }

    #[test]
    fn numbers_are_normalized_to_what_the_cloud_api_takes() {
        for (input, number) in [
            ("0812-3456-7890", "6281234567890"),
            ("+62 812 3456 7890", "6281234567890"),
            ("6281234567890", "6281234567890"),
            ("(0812) 345.678", "62812345678"),
            ("0044 20 7946 0958", "442079460958"),
        ] {
            assert_eq!(normalize_number(input).as_deref(), Ok(number), "{input}");
        }
        for garbage in [
            "()",
            "",
            "+",
            "08abc",
            "+0812345678",
            "0812",
            "+1234567890123456",
        ] {
            assert!(normalize_number(garbage).is_err(), "{garbage:?}");
        }
    }

    #[test]
    fn signatures_are_checked_over_the_raw_body() {
        let body = br#"{"object":"whatsapp_business_account"}"#;
        let mut mac = Hmac::<Sha256>::new_from_slice(b"app-secret").unwrap();
        mac.update(body);
        let good = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
        assert!(signature_is_valid("app-secret", body, &good));
        assert!(!signature_is_valid("other-secret", body, &good));
        assert!(!signature_is_valid("app-secret", b"{}", &good));
        assert!(!signature_is_valid(
            "app-secret",
            body,
            good.trim_start_matches("sha256=")
        ));
        assert!(!signature_is_valid("app-secret", body, "sha256=zz"));
        assert!(!signature_is_valid("app-secret", body, ""));
    }

    #[test]
    fn config_is_checked_and_secrets_hidden() {
        let mut config = config(default_base_url());
        config.app_secret = Some("app-secret-value".into());
        config.verify_token = Some("verify-token-value".into());
        let shown = format!("{config:?}");
        for secret in [TOKEN, "app-secret-value", "verify-token-value"] {
            assert!(!shown.contains(secret), "{shown}");
        }
        let channel = WhatsAppChannel::new(&config).unwrap();
        assert!(!format!("{channel:?}").contains(TOKEN));
        assert_eq!(
            channel.endpoint,
            "https://graph.facebook.com/v21.0/106540352242922/messages"
        );

        let mut bad = config.clone();
        bad.access_token = String::new();
        assert!(WhatsAppChannel::new(&bad).is_err());
        let mut bad = config.clone();
        bad.phone_number_id = "+62 812".into();
        assert!(WhatsAppChannel::new(&bad).is_err());
        let mut bad = config.clone();
        bad.templates.get_mut(&Language::Indonesian).unwrap().name = "Pesanan Baru".into();
        assert!(WhatsAppChannel::new(&bad).is_err());

        let parsed: WhatsAppConfig = toml::from_str(
            "phone_number_id = \"1065\"\naccess_token = \"t\"\n\
             [templates.en]\nname = \"new_order\"\nlanguage = \"en_US\"\n\
             parameters = [\"order_number\", \"total\"]\n",
        )
        .unwrap();
        assert_eq!(parsed.base_url, "https://graph.facebook.com");
        assert_eq!(parsed.api_version, "v21.0");
        assert_eq!(parsed.timeout, Duration::from_secs(15));
        let template = &parsed.templates[&Language::English];
        assert_eq!(template.language, "en_US");
        assert_eq!(
            template.parameters,
            [TemplateParameter::OrderNumber, TemplateParameter::Total]
        );
        // A craftsman whose language has no template gets another's.
        let channel = WhatsAppChannel::new(&parsed).unwrap();
        let record = sample_record();
        let mut out = outgoing(&record, Language::Indonesian);
        assert_eq!(channel.template_for(&out).unwrap().name, "new_order");
        // A reminder takes only a reminder template.
        out.reminder = true;
        assert_eq!(channel.template_for(&out), None);
        let bad_reminder: WhatsAppConfig = toml::from_str(
            "phone_number_id = \"1065\"\naccess_token = \"t\"\n\
             [reminder_templates.id]\nname = \"Pengingat\"\nlanguage = \"id\"\n\
             parameters = []\n",
        )
        .unwrap();
        let refused = WhatsAppChannel::new(&bad_reminder).unwrap_err().to_string();
        assert!(refused.contains("reminder_templates.id.name"), "{refused}");
    }
}
