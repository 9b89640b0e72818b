//! The types that both the store and the delivery side speak of: where a craftsman's
//! channel sends to, the language a craftsman reads, and whether a failed send can be
//! tried again. They live here, below both, so that dependencies point one way: the
//! store keeps these values without knowing how a channel sends.

use serde::{Deserialize, Serialize};

use crate::orders::OrderSchema;

/// Where one of a craftsman's channels sends to, as the admin API takes it and the
/// store keeps it. Operator-wide settings (the SMTP server, the WhatsApp business
/// number, the Telegram bot) are in the gateway's config, not here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "type", rename_all = "lowercase", deny_unknown_fields)]
pub enum ChannelTarget {
    /// POST the order as JSON, signed per Standard Webhooks, to the craftsman's ERP.
    Webhook {
        /// `https://…` (or `http://…`); private addresses only if the operator allows.
        url: String,
        /// `whsec_` + base64 of the signing key; made by the gateway when not given.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        secret: Option<String>,
        /// `v2` or `v1`: the canonical order version the webhook carries (and names in
        /// its `Jembatan-Order-Schema` header). A new webhook gets `v2` unless told
        /// otherwise; one made before v2 existed has none stored and keeps `v1`, so
        /// an ERP that reads v1 is not broken by an upgrade.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[schema(value_type = Option<String>)]
        order_schema: Option<OrderSchema>,
    },
    /// An e-mail with the order readable, and attached as JSON and CSV.
    Email {
        /// The craftsman's address.
        to: String,
    },
    /// A WhatsApp text message through the WhatsApp Cloud API.
    Whatsapp {
        /// The craftsman's number in international form, e.g. `6281234567890`.
        to: String,
    },
    /// A Telegram message (and the CSV as a document) through the Bot API.
    Telegram {
        /// The chat the bot writes to.
        chat_id: String,
    },
}

impl ChannelTarget {
    /// The channel's kind, as stored and shown: `webhook`, `email`, `whatsapp`, `telegram`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Webhook { .. } => "webhook",
            Self::Email { .. } => "email",
            Self::Whatsapp { .. } => "whatsapp",
            Self::Telegram { .. } => "telegram",
        }
    }
}

/// The language of craftsman-facing text.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema,
)]
pub enum Language {
    /// Bahasa Indonesia, the default.
    #[default]
    #[serde(rename = "id")]
    Indonesian,
    /// English.
    #[serde(rename = "en")]
    English,
}

impl Language {
    /// The language's tag, as the API, the store and an HTML `lang` attribute
    /// write it: `id`, `en` (the same as its serde form, a test checks).
    pub fn tag(self) -> &'static str {
        match self {
            Self::Indonesian => "id",
            Self::English => "en",
        }
    }

    /// The language whose [`tag`](Self::tag) this is.
    pub fn from_tag(tag: &str) -> Option<Self> {
        [Self::Indonesian, Self::English]
            .into_iter()
            .find(|language| language.tag() == tag)
    }
}

/// Whether trying the same delivery again can help.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Failure {
    /// Down, slow, overloaded or a 5xx: try again on the schedule.
    Retry,
    /// The receiver refused this request for good (a bad address, a 4xx that says so):
    /// the delivery is dead at once and waits for an admin's retry.
    Permanent,
    /// The receiver asked never to be sent to again (a webhook's 410 Gone): the
    /// channel is disabled and the delivery is dead.
    Disable,
    /// The service refused the gateway's own credentials (an expired token): no
    /// delivery is at fault. The channel pauses, and its deliveries wait without
    /// spending their retry schedule until the credentials work again.
    Credentials,
    /// The service limits the whole channel (a bot's or a business number's rate
    /// limit), not this delivery: the channel pauses for as long as the service
    /// asked, and its deliveries wait without spending their retry schedule.
    Throttled,
}

/// A chat a craftsman answers orders from (issue 10, part 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChatKind {
    WhatsApp,
    Telegram,
}

impl ChatKind {
    /// As the store keeps it: `whatsapp`, `telegram` (a channel's kind, too).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::WhatsApp => "whatsapp",
            Self::Telegram => "telegram",
        }
    }
}

impl std::str::FromStr for ChatKind {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, ()> {
        match s {
            "whatsapp" => Ok(Self::WhatsApp),
            "telegram" => Ok(Self::Telegram),
            _ => Err(()),
        }
    }
}

/// A craftsman's response written in the buyer's own format by the buyer's plugin
/// (`render-response`), or why it could not be: kept with the response, written
/// once, so every attempt of its `order.response` event carries the same bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedResponse {
    pub response_id: String,
    /// The plugin that wrote it, and its version.
    pub plugin_name: String,
    pub plugin_version: String,
    pub outcome: RenderOutcome,
}

/// What the buyer's plugin made of a response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RenderOutcome {
    /// The document, e.g. an X12 855 as `application/edi-x12`.
    Rendered { content_type: String, body: Vec<u8> },
    /// Why there is none, in a sentence the buyer's developer can act on.
    Failed { error: String },
}
