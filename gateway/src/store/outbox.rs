//! The store's types for delivery: craftsmen and their channels, routes, and the
//! outbox of deliveries with their attempts. The outbox carries orders to craftsmen's
//! channels and, the same way, craftsmen's responses to their buyers' callbacks.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use jembatan_schemas::OrderResponse;

use super::OrderRecord;
use crate::model::{ChannelTarget, Failure, Language};

/// A craftsman to create, with the channels they chose.
#[derive(Debug, Clone, PartialEq)]
pub struct NewCraftsman {
    /// Caller-made id, e.g. `crf_…` or the admin's own.
    pub id: String,
    pub name: String,
    pub language: Language,
    /// Hex SHA-256 of the craftsman's token; the token itself is never stored.
    pub token_hash: String,
    pub channels: Vec<NewChannel>,
}

/// A channel to create for a craftsman.
#[derive(Debug, Clone, PartialEq)]
pub struct NewChannel {
    /// Caller-made id, e.g. `chn_…`.
    pub id: String,
    /// Complete: a webhook's secret is set.
    pub target: ChannelTarget,
}

/// A stored craftsman. The token hash stays inside the store.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Craftsman {
    pub id: String,
    pub name: String,
    pub language: Language,
    pub channels: Vec<Channel>,
    pub created_at: DateTime<Utc>,
}

/// One of a craftsman's channels.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Channel {
    pub id: String,
    pub craftsman_id: String,
    /// Holds a webhook's secret: callers showing it to anyone but the admin who
    /// created it must redact it.
    pub target: ChannelTarget,
    /// When the receiver asked not to be sent to again; `None` while enabled.
    pub disabled_at: Option<DateTime<Utc>>,
    pub disabled_reason: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// The reason a channel an admin disabled gives
/// ([`CraftsmanStore::set_channel_enabled`](super::CraftsmanStore::set_channel_enabled)).
/// Any other reason is the receiver's (an attempt whose outcome was `disable`).
pub const DISABLED_BY_ADMIN: &str = "disabled by an admin";

/// A buyer's supplier code mapped to a craftsman.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Route {
    pub buyer_id: String,
    pub supplier_code: String,
    pub craftsman_id: String,
    pub updated_at: DateTime<Utc>,
}

/// What [`CraftsmanStore::put_route`](super::CraftsmanStore::put_route) did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RouteChange {
    pub route: Route,
    /// The orders that waited for this route and are now routed by it.
    pub routed_orders: Vec<String>,
}

/// Where a delivery is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryState {
    /// Waiting for its next attempt (or being attempted).
    Pending,
    Succeeded,
    /// Out of attempts, refused for good, or its channel was disabled: waits for an
    /// admin's retry.
    Dead,
}

text_enum!(DeliveryState { Pending => "pending", Succeeded => "succeeded", Dead => "dead" });

/// What a delivery carries to its buyer's callback: [`Delivery::channel`].
pub const CALLBACK_CHANNEL: &str = "callback";

/// What a delivery carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryKind {
    /// An order, to one of its craftsman's channels.
    Order,
    /// A craftsman's response, to the order's buyer's callback.
    Response,
    /// A reminder that an order still has no answer, to one of its craftsman's
    /// channels (see `crate::reminders`). It does not count in the order's status.
    Reminder,
}

text_enum!(DeliveryKind { Order => "order", Response => "response", Reminder => "reminder" });

/// One order's way to one channel, or one response's way to its buyer's callback.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Delivery {
    /// Also the `webhook-id`: the same on every attempt.
    pub id: String,
    pub order_id: String,
    pub kind: DeliveryKind,
    /// The order's craftsman.
    pub craftsman_id: String,
    /// The craftsman's channel an order goes to; `None` for a response.
    pub channel_id: Option<String>,
    /// The response that goes to the buyer's callback; `None` for an order.
    pub response_id: Option<String>,
    /// The channel's kind: `webhook`, `email`, `whatsapp`, `telegram`; or
    /// `callback` ([`CALLBACK_CHANNEL`]) for a response to the buyer.
    pub channel: String,
    pub state: DeliveryState,
    pub attempts: u32,
    /// When the next attempt is due, while pending.
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub last_status_code: Option<u16>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub delivered_at: Option<DateTime<Utc>>,
}

/// How one attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum AttemptOutcome {
    Succeeded,
    /// Failed; worth trying again.
    Retry,
    /// Refused for good.
    Permanent,
    /// The receiver asked to be left alone; the channel was disabled.
    Disable,
}

text_enum!(AttemptOutcome {
    Succeeded => "succeeded",
    Retry => "retry",
    Permanent => "permanent",
    Disable => "disable",
});

impl From<Failure> for AttemptOutcome {
    fn from(failure: Failure) -> Self {
        match failure {
            Failure::Retry => Self::Retry,
            Failure::Permanent => Self::Permanent,
            Failure::Disable => Self::Disable,
            // Recorded as a retry; the attempt does not count against the
            // schedule (`NewAttempt::spends_schedule`).
            Failure::Credentials | Failure::Throttled => Self::Retry,
        }
    }
}

/// One attempt of a delivery, as recorded.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeliveryAttempt {
    pub delivery_id: String,
    /// 1 for the first.
    pub attempt: u32,
    pub started_at: DateTime<Utc>,
    pub duration_ms: u64,
    pub outcome: AttemptOutcome,
    pub status_code: Option<u16>,
    pub error: Option<String>,
    /// The id the channel's service gave the message (WhatsApp's wamid), when its
    /// later status events name it.
    pub message_id: Option<String>,
    /// What the service said of the message afterwards (WhatsApp's status webhooks).
    pub receipt: Option<Receipt>,
    pub receipt_at: Option<DateTime<Utc>>,
}

/// What a channel's service said of a message after it took it: WhatsApp's status
/// webhooks (`sent`, `delivered`, `read`, `failed`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Receipt {
    Sent,
    Delivered,
    Read,
    Failed,
}

text_enum!(Receipt {
    Sent => "sent",
    Delivered => "delivered",
    Read => "read",
    Failed => "failed",
});

impl Receipt {
    /// How far along a message is: statuses arrive out of order (a `read` can come
    /// before its `delivered`, or without one), and a receipt never moves back.
    pub fn rank(self) -> u8 {
        match self {
            Self::Sent => 1,
            Self::Delivered => 2,
            Self::Read => 3,
            Self::Failed => 4,
        }
    }
}

/// A message an attempt sent, found by the id its service gave it
/// ([`Outbox::sent_message`](super::Outbox::sent_message)).
#[derive(Debug, Clone, PartialEq)]
pub struct SentMessage {
    pub delivery_id: String,
    /// The attempt that sent it.
    pub attempt: u32,
    /// The delivery's attempts so far.
    pub attempts: u32,
    /// Attempts made since the retry schedule last (re)started.
    pub attempts_in_schedule: u32,
    pub state: DeliveryState,
    pub receipt: Option<Receipt>,
}

/// A delivery whose message the service failed after taking it (a late `failed`
/// status): the attempt's outcome becomes `outcome`, and the delivery pending again
/// (`next` is [`NextStep::RetryAt`]) or dead. See
/// [`Outbox::reopen_delivery`](super::Outbox::reopen_delivery).
#[derive(Debug, Clone, PartialEq)]
pub struct Reopen {
    pub delivery_id: String,
    /// The attempt that sent the message; it must still be the delivery's last.
    pub attempt: u32,
    pub outcome: AttemptOutcome,
    pub error: String,
    pub next: NextStep,
    /// When the service says the message failed.
    pub failed_at: DateTime<Utc>,
}

/// A status WhatsApp sent for a message (its status webhook), as the gateway keeps
/// it when no recorded attempt names the message yet
/// ([`Outbox::keep_early_whatsapp_status`](super::Outbox::keep_early_whatsapp_status)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WhatsAppStatus {
    /// The message's `wamid`.
    pub wamid: String,
    pub receipt: Receipt,
    /// When WhatsApp says it happened.
    pub at: DateTime<Utc>,
    /// The `wa_id` the message went to.
    pub recipient_id: String,
    /// For a `failed` status: WhatsApp's error code and the error as the attempt log
    /// shows it.
    pub error_code: Option<i64>,
    pub error: Option<String>,
}

/// What [`Outbox::keep_early_whatsapp_status`](super::Outbox::keep_early_whatsapp_status) did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EarlyStatusKept {
    /// Kept until the attempt naming its message is recorded.
    Kept,
    /// An attempt names the message already: nothing was kept, the caller applies it.
    AttemptKnown,
    /// As many are kept as the caller allows: nothing was kept.
    Full,
}

/// A WhatsApp user as the gateway knows them, by the number the Cloud API writes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct WhatsAppContact {
    /// Digits only, country code first (`6281234567890`).
    pub wa_id: String,
    /// When an admin recorded the user's opt-in; without one the gateway does not
    /// message them.
    pub opted_in_at: Option<DateTime<Utc>>,
    /// How the consent was given, as the admin said.
    pub opt_in_source: Option<String>,
    /// When the user last wrote to the business number: the customer-service window
    /// runs for 24 hours from it.
    pub last_inbound_at: Option<DateTime<Utc>>,
}

/// What happens to a delivery after an attempt, decided by the worker from the
/// attempt's outcome and the retry schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NextStep {
    Succeeded,
    RetryAt(DateTime<Utc>),
    Dead,
}

/// An attempt to record with [`Outbox::record_attempt`](super::Outbox::record_attempt).
#[derive(Debug, Clone, PartialEq)]
pub struct NewAttempt {
    pub delivery_id: String,
    /// Must be the delivery's attempts + 1, as claimed.
    pub attempt: u32,
    pub started_at: DateTime<Utc>,
    pub duration_ms: u64,
    pub outcome: AttemptOutcome,
    pub status_code: Option<u16>,
    pub error: Option<String>,
    /// The id the service gave the message, when its status events will name it.
    pub message_id: Option<String>,
    /// Every part of the delivery delivered so far, this attempt's and earlier
    /// ones' (a chat's text, then its documents), so a retry sends only the rest.
    pub delivered_parts: Vec<String>,
    /// `false` for an attempt that says nothing of the delivery (its channel was
    /// paused: the gateway's own credentials were refused): the retry schedule
    /// goes on as if it had not been made.
    pub spends_schedule: bool,
    pub next: NextStep,
}

/// A due delivery a worker has claimed, with everything it needs to send it.
#[derive(Debug, Clone, PartialEq)]
pub struct ClaimedDelivery {
    pub id: String,
    /// The number of the attempt about to be made (1 for the first).
    pub attempt: u32,
    pub kind: DeliveryKind,
    /// Attempts made since the retry schedule last (re)started, before this one.
    pub attempts_in_schedule: u32,
    /// The craftsman's channel; `None` for a response to the buyer.
    pub channel_id: Option<String>,
    /// The channel's target; for a response, the buyer's callback as a webhook
    /// (its URL and secret as they are at the claim, the order schema v2).
    pub target: ChannelTarget,
    pub order: OrderRecord,
    /// The response this delivery carries to the buyer; `None` for an order.
    pub response: Option<OrderResponse>,
    pub buyer_name: String,
    pub craftsman_name: String,
    pub language: Language,
    /// For a WhatsApp target: what is known of its number (opt-in, last message);
    /// `None` when nothing is.
    pub whatsapp: Option<WhatsAppContact>,
    /// The parts earlier attempts delivered (see [`NewAttempt::delivered_parts`]).
    pub delivered_parts: Vec<String>,
}

/// A page request for [`Outbox::list_deliveries`](super::Outbox::list_deliveries), newest first.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DeliveryQuery {
    pub state: Option<DeliveryState>,
    pub order_id: Option<String>,
    /// Page size, clamped to `1..=MAX_PAGE`.
    pub limit: u32,
    /// The `next_cursor` of the previous page.
    pub after: Option<String>,
}

/// One page of deliveries, newest first.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeliveryPage {
    pub deliveries: Vec<Delivery>,
    pub next_cursor: Option<String>,
}

/// Counts for `/metrics`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct DeliveryStats {
    pub pending: u64,
    pub succeeded: u64,
    pub dead: u64,
    /// The due time of the pending delivery that has waited longest.
    pub oldest_due_at: Option<DateTime<Utc>>,
    /// Orders waiting for a route.
    pub unrouted_orders: u64,
}
