//! The one storage boundary: every step of the flow writes its result here before the
//! next step begins, so a crash loses nothing and a failed step can be replayed.
//!
//! [`Store`] is object safe and used as `Arc<dyn Store>`. It is the sum of one narrow
//! trait per area: [`BuyerStore`] (buyers and plugins), [`MessageStore`] (messages and
//! orders), [`CraftsmanStore`] (craftsmen, inbox sessions and routes), [`Outbox`]
//! (deliveries), [`ResponseStore`] (craftsmen's answers to orders), [`ReminderStore`]
//! (reminders of unanswered orders) and [`MailStore`]
//! (inbound e-mail addresses, accepted senders and replies), with `ping` and `close`
//! for the database as a whole. Engines are
//! sibling files behind it: [`sqlite`] (one file, WAL) is the embedded default;
//! [`postgres`] is the database several gateway instances share, with the same
//! traits and the same tests (the `contract` test module runs every test on every
//! engine). [`open`] picks the engine by the
//! database URL's scheme. The types here are engine-neutral: ids are strings made by
//! the caller (time-ordered, e.g. `msg_<uuid v7>`, so id order is creation order),
//! times are UTC, JSON is [`serde_json::Value`].

#[macro_use]
mod columns;
pub mod postgres;
mod rows;
pub mod sqlite;
pub mod transfer;

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use jembatan_schemas::{PurchaseOrderV2, ResponseStatus};
use serde::{Deserialize, Serialize};

use crate::model::ChannelTarget;

pub use postgres::{PostgresOptions, PostgresStore};
pub use sqlite::{SqliteOptions, SqliteStore, Synchronous};

/// What can go wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A uniqueness rule was broken (an id or API key hash already exists), or a state
    /// transition was refused because the row is no longer in the state it needs.
    #[error("conflict: {0}")]
    Conflict(String),
    /// The row the operation needs does not exist.
    #[error("not found")]
    NotFound,
    /// The caller passed data that breaks an invariant the store keeps (an unknown
    /// buyer, an order whose buyer is not its message's buyer). A bug, not user input;
    /// or, at [`open`], a database URL the store cannot open (a configuration error).
    #[error("invalid: {0}")]
    Invalid(String),
    /// The database failed, or a stored value could not be decoded.
    #[error("database error: {0}")]
    Database(#[source] EngineError),
    /// The write ran but was not stored: the transaction it shared with other writes
    /// failed as a whole (see `sqlite::writer`), so none of them was. Every caller of
    /// that transaction gets the one error. Retrying is safe.
    #[error("write rolled back with its batch: {0}")]
    Aborted(#[source] EngineError),
    /// The store was closed (the gateway is shutting down); nothing was written.
    #[error("the store is closed")]
    Closed,
    /// The schema could not be brought up to date at start.
    #[error("migration failed: {0}")]
    Migration(String),
}

/// An engine's own failure, opaque above the store: callers decide on the
/// [`StoreError`] variant, never on a driver's error type. Clones share the error, so
/// one failure can be handed to every write of a batch.
#[derive(Debug, Clone)]
pub struct EngineError {
    error: Arc<dyn std::error::Error + Send + Sync>,
    /// The database could not be written or read at all (see
    /// [`StoreError::is_unavailable`]), as opposed to one statement failing.
    unavailable: bool,
}

impl EngineError {
    pub fn new(error: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self {
            error: Arc::new(error),
            unavailable: false,
        }
    }

    /// A failure of the database as a whole: its disk is full, its file is
    /// read-only, gone or damaged, it cannot be opened, or its server cannot be
    /// reached.
    pub fn unavailable(error: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self {
            error: Arc::new(error),
            unavailable: true,
        }
    }

    /// An error with only a message (a stored value that cannot be decoded, say).
    pub fn msg(message: impl Into<String>) -> Self {
        #[derive(Debug, thiserror::Error)]
        #[error("{0}")]
        struct Message(String);
        Self::new(Message(message.into()))
    }
}

impl fmt::Display for EngineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.error.fmt(f)
    }
}

impl std::error::Error for EngineError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.error.source()
    }
}

impl StoreError {
    /// Whether the database itself is failing (a full disk, a read-only, vanished
    /// or damaged file, a server that is down or gives no connection in time)
    /// rather than one operation: nothing can be stored until the
    /// cause goes away, so the gateway stops taking messages (503) meanwhile.
    pub fn is_unavailable(&self) -> bool {
        matches!(self, Self::Database(e) | Self::Aborted(e) if e.unavailable)
    }
}

/// Shorthand for results from the store.
pub type StoreResult<T> = Result<T, StoreError>;

/// A buyer to create.
#[derive(Debug, Clone, PartialEq)]
pub struct NewBuyer {
    /// Caller-made id, e.g. `byr_…`.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Name of the plugin that normalizes this buyer's messages.
    pub plugin: String,
    /// The version of that plugin; `None` follows the latest.
    pub plugin_version: Option<String>,
    /// The buyer's configuration for that plugin.
    pub plugin_config: serde_json::Value,
    /// Hex SHA-256 of the buyer's API key; the key itself is never stored.
    pub api_key_hash: String,
    /// Per-buyer sandbox limits; `None` means the gateway's defaults.
    pub limits: Option<serde_json::Value>,
}

/// A stored buyer. The API key hash stays inside the store.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Buyer {
    pub id: String,
    pub name: String,
    pub plugin: String,
    /// `None`: the latest version of `plugin`; `Some`: pinned to this version.
    pub plugin_version: Option<String>,
    pub plugin_config: serde_json::Value,
    pub limits: Option<serde_json::Value>,
    /// Where the buyer hears of its orders' responses; its secret stays inside the
    /// store (see [`BuyerStore::set_buyer_callback`]).
    pub callback_url: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// A change to a buyer for [`BuyerStore::update_buyer`]; each `None` leaves the field as it
/// is. The binding (plugin, version, config) changes in one transaction, so a message
/// is never normalized by a new plugin with the old config or the reverse.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BuyerUpdate {
    pub name: Option<String>,
    /// Another plugin name. A version pin belongs to a plugin name, so changing the
    /// name without giving `plugin_version` clears the pin (the new plugin's latest).
    pub plugin: Option<String>,
    /// `Some(None)` follows the latest version, `Some(Some(v))` pins `v`.
    pub plugin_version: Option<Option<String>>,
    pub plugin_config: Option<serde_json::Value>,
    /// `Some(None)` goes back to the gateway's default limits.
    pub limits: Option<Option<serde_json::Value>>,
}

impl Buyer {
    /// The buyer as `update` leaves it: the rule each engine applies inside its
    /// write, after reading the buyer as it is.
    pub(crate) fn updated(&self, update: BuyerUpdate) -> Buyer {
        let current = self;
        let mut next = current.clone();
        if let Some(name) = update.name {
            next.name = name;
        }
        if let Some(plugin) = update.plugin
            && plugin != current.plugin
        {
            next.plugin = plugin;
            // A pin names a version of the old plugin; see `BuyerUpdate::plugin`.
            next.plugin_version = None;
        }
        if let Some(version) = update.plugin_version {
            next.plugin_version = version;
        }
        if let Some(config) = update.plugin_config {
            next.plugin_config = config;
        }
        if let Some(limits) = update.limits {
            next.limits = limits;
        }
        next
    }
}

/// One binding a buyer had: made when the buyer was created and at every
/// [`BuyerStore::update_buyer`] that changed the plugin, its version or its config.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BindingChange {
    pub buyer_id: String,
    pub plugin: String,
    pub plugin_version: Option<String>,
    pub plugin_config: serde_json::Value,
    pub changed_at: DateTime<Utc>,
}

/// An uploaded plugin component to store.
#[derive(Debug, Clone, PartialEq)]
pub struct NewPluginArtifact {
    /// Hex SHA-256 of `wasm`, computed by the caller.
    pub sha256: String,
    pub name: String,
    pub version: String,
    pub description: String,
    /// The media types the plugin reads.
    pub content_types: Vec<String>,
    /// The component's bytes.
    pub wasm: Vec<u8>,
}

/// A stored plugin component, without its bytes (see [`BuyerStore::plugin_wasm`]).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PluginArtifact {
    pub sha256: String,
    pub name: String,
    pub version: String,
    pub description: String,
    pub content_types: Vec<String>,
    pub size_bytes: u64,
    pub uploaded_at: DateTime<Utc>,
}

/// Which plugin made a message's outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PluginRef {
    pub name: String,
    pub version: String,
}

/// How a message reached the gateway.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ReceivedVia {
    Http,
    Email,
}

/// Where a message is in its life: waiting for the plugin, or done one way or the other.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MessageStatus {
    Received,
    Normalized,
    Failed,
}

/// What became of one transaction of a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TransactionStatus {
    /// It is an order, stored.
    Ok,
    /// The plugin could not make an order of it, or its order broke the contract;
    /// it can be replayed alone.
    Refused,
    /// A document that is not an order (an X12 810, an EDIFACT INVOIC).
    NotAnOrder,
}

/// Where an order is in its delivery; it follows the order's deliveries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OrderStatus {
    /// No route names a craftsman for its supplier code yet; it is kept, and routed
    /// when an admin adds the route.
    Unrouted,
    /// Routed; some delivery is still pending.
    Received,
    /// Every delivery succeeded (or the craftsman has only the inbox).
    Delivered,
    /// Nothing is pending and some delivery is dead.
    Failed,
}

/// Text forms shared by serde, the database columns and query strings, so that the
/// three can never disagree.
macro_rules! text_enum {
    ($ty:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        impl $ty {
            /// The lowercase name, as stored and as serialized.
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $text),+ }
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $ty {
            type Err = String;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($text => Ok(Self::$variant),)+
                    other => Err(format!(concat!("unknown ", stringify!($ty), " {:?}"), other)),
                }
            }
        }
    };
}

text_enum!(ReceivedVia { Http => "http", Email => "email" });
text_enum!(MessageStatus { Received => "received", Normalized => "normalized", Failed => "failed" });
text_enum!(TransactionStatus { Ok => "ok", Refused => "refused", NotAnOrder => "not_an_order" });
text_enum!(OrderStatus {
    Unrouted => "unrouted",
    Received => "received",
    Delivered => "delivered",
    Failed => "failed",
});

mod alerts;
mod chat;
mod mail;
mod outbox;
mod outcome;
pub use alerts::*;
pub use chat::*;
pub use mail::*;
pub use outbox::*;
mod reminders;
pub use reminders::*;
mod responses;
pub use responses::*;
pub mod routing;
mod shared;
pub use shared::Leadership;

/// A raw inbound message to store before anything else happens to it.
#[derive(Debug, Clone, PartialEq)]
pub struct NewMessage {
    /// Caller-made id, e.g. `msg_…`.
    pub id: String,
    pub buyer_id: String,
    pub received_via: ReceivedVia,
    pub content_type: String,
    /// The request or e-mail headers worth keeping, as JSON.
    pub headers: serde_json::Value,
    pub body: Vec<u8>,
    /// Hex SHA-256 of `body`; compared on an idempotency-key hit to tell a replay of
    /// the same request from a different request reusing the key.
    pub body_sha256: String,
    pub idempotency_key: Option<String>,
}

/// What the gateway answered for a message, kept so an idempotent replay gets the
/// same answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredResponse {
    /// HTTP status code.
    pub status: u16,
    pub body: serde_json::Value,
}

/// A stored inbound message.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Message {
    pub id: String,
    pub buyer_id: String,
    pub received_via: ReceivedVia,
    pub content_type: String,
    pub headers: serde_json::Value,
    /// The raw bytes; not serialized, because they need not be text: the API serves
    /// them on their own with their content type.
    #[serde(skip_serializing)]
    pub body: Vec<u8>,
    pub body_sha256: String,
    pub idempotency_key: Option<String>,
    pub status: MessageStatus,
    /// Problem details when the message failed.
    pub error: Option<serde_json::Value>,
    /// What we answered, once the message is complete.
    pub response: Option<StoredResponse>,
    /// How many times the message was processed to an outcome: 0 while it waits for
    /// its first, 1 after it, one more after each replay.
    pub attempts: u32,
    /// The plugin that made the current outcome, when the caller named it
    /// (see [`MessageStore::complete_message_by`]).
    pub processed_by: Option<PluginRef>,
    /// The orders normalized from this message, in id order.
    pub order_ids: Vec<String>,
    /// What the plugin read past in the message as a whole (its envelopes), as
    /// `{code, message, location}`.
    pub warnings: Vec<serde_json::Value>,
    /// When retention deleted the body (`body` is then empty); such a message
    /// cannot be replayed.
    pub body_purged_at: Option<DateTime<Utc>>,
    /// One outcome per transaction of the message, by index; empty while it waits
    /// for its first outcome, when the plugin could read nothing of it, and for a
    /// message stored before transactions were kept.
    pub transactions: Vec<TransactionRecord>,
    pub received_at: DateTime<Utc>,
    pub processed_at: Option<DateTime<Utc>>,
}

/// One transaction of a message (an X12 ST…SE, an EDIFACT UNH…UNT, a document, an
/// item of a JSON array) and what became of it, as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TransactionRecord {
    /// 0-based position among the message's transactions.
    pub index: u32,
    /// Its own control number as written (X12 ST02, EDIFACT UNH 0062).
    pub control_number: Option<String>,
    pub status: TransactionStatus,
    /// The order made of it, as it was routed when stored.
    pub order: Option<RoutedOrder>,
    /// Why it was refused: `{code, message, location}` and, for an order that broke
    /// the contract, `errors`.
    pub error: Option<serde_json::Value>,
    /// What a document that is not an order is, e.g. `810`.
    pub kind: Option<String>,
    /// Why it is not taken, when the plugin said more than its kind.
    pub reason: Option<String>,
    /// What the plugin read past in it.
    pub warnings: Vec<serde_json::Value>,
}

/// A message in a listing: everything but the body, which can be large and is read
/// with [`MessageStore::get_message`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MessageSummary {
    pub id: String,
    pub buyer_id: String,
    pub received_via: ReceivedVia,
    pub content_type: String,
    pub body_size: u64,
    pub body_sha256: String,
    pub idempotency_key: Option<String>,
    pub status: MessageStatus,
    pub error: Option<serde_json::Value>,
    /// The HTTP status we answered, once the message is complete.
    pub response_status: Option<u16>,
    pub attempts: u32,
    pub processed_by: Option<PluginRef>,
    pub order_ids: Vec<String>,
    pub warnings: Vec<serde_json::Value>,
    pub body_purged_at: Option<DateTime<Utc>>,
    pub received_at: DateTime<Utc>,
    pub processed_at: Option<DateTime<Utc>>,
}

impl From<Message> for MessageSummary {
    /// The message without its body, whose size it keeps.
    fn from(m: Message) -> Self {
        Self {
            body_size: m.body.len() as u64,
            response_status: m.response.map(|r| r.status),
            id: m.id,
            buyer_id: m.buyer_id,
            received_via: m.received_via,
            content_type: m.content_type,
            body_sha256: m.body_sha256,
            idempotency_key: m.idempotency_key,
            status: m.status,
            error: m.error,
            attempts: m.attempts,
            processed_by: m.processed_by,
            order_ids: m.order_ids,
            warnings: m.warnings,
            body_purged_at: m.body_purged_at,
            received_at: m.received_at,
            processed_at: m.processed_at,
        }
    }
}

/// An outcome a message had before [`MessageStore::reopen_message`] sent it back for another
/// attempt.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MessageAttempt {
    pub message_id: String,
    /// 1 for the first attempt; [`Message::attempts`] at the time it was reopened.
    pub attempt: u32,
    pub status: MessageStatus,
    pub error: Option<serde_json::Value>,
    pub processed_by: Option<PluginRef>,
    pub processed_at: DateTime<Utc>,
    pub reopened_at: DateTime<Utc>,
    /// What the caller of [`MessageStore::reopen_message`] wrote down (who, why).
    pub note: Option<serde_json::Value>,
}

/// The result of [`MessageStore::insert_message`].
#[derive(Debug, Clone, PartialEq)]
pub enum InsertedMessage {
    /// The message is new and now stored.
    Inserted(Message),
    /// The buyer already sent a message with this idempotency key; nothing was stored.
    /// The caller compares `body_sha256` to tell a replay from a conflicting reuse.
    Existing(Message),
}

/// The result of [`MessageStore::record_message`].
#[derive(Debug, Clone, PartialEq)]
pub enum RecordedMessage {
    /// The message is new and now stored, with the answer stored for its outcome
    /// (`None` when it was stored unprocessed).
    Stored(Option<StoredResponse>),
    /// The buyer already sent a message with this idempotency key; nothing was stored.
    Existing(Box<Message>),
}

/// An order normalized from a message, to store with the message's outcome.
#[derive(Debug, Clone, PartialEq)]
pub struct NewOrder {
    /// Caller-made id, e.g. `ord_…`.
    pub id: String,
    pub message_id: String,
    /// Must be the message's buyer.
    pub buyer_id: String,
    pub buyer_order_number: String,
    /// The buyer's code for the craftsman; orders are routed on it.
    pub supplier_code: String,
    pub order: PurchaseOrderV2,
}

/// A stored order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OrderRecord {
    pub id: String,
    pub message_id: String,
    pub buyer_id: String,
    pub buyer_order_number: String,
    pub supplier_code: String,
    /// The craftsman the order is routed to; `None` while unrouted.
    pub craftsman_id: Option<String>,
    pub status: OrderStatus,
    /// Its craftsman's answer now (the latest response's status); `None` while
    /// unanswered.
    pub response: Option<ResponseStatus>,
    /// When it reached its craftsman (was routed): its wait for an answer starts
    /// then. `None` while unrouted.
    pub routed_at: Option<DateTime<Utc>>,
    /// When the reminder that it has no answer was decided (and its deliveries
    /// written); `None` while it was not.
    pub reminded_at: Option<DateTime<Utc>>,
    pub order: PurchaseOrderV2,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// An order as it was routed when its message was stored: what the answer to the
/// post reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RoutedOrder {
    pub id: String,
    pub buyer_order_number: String,
    /// `unrouted`, or what [`routing::route`] made of its craftsman's channels.
    pub status: OrderStatus,
}

/// One transaction's outcome, to store with its message's.
#[derive(Debug, Clone, PartialEq)]
pub struct NewTransaction {
    /// 0-based position among the message's transactions.
    pub index: u32,
    pub control_number: Option<String>,
    pub outcome: NewTransactionOutcome,
    /// What the plugin read past in it, as `{code, message, location}`.
    pub warnings: Vec<serde_json::Value>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum NewTransactionOutcome {
    /// An order, validated by the caller.
    Order(Box<NewOrder>),
    Refused {
        error: serde_json::Value,
    },
    NotAnOrder {
        kind: String,
        reason: Option<String>,
    },
}

impl NewTransaction {
    /// An accepted transaction at `index` without a control number: what every
    /// order of a plugin that cannot name its transactions is.
    pub fn order(index: u32, order: NewOrder) -> Self {
        Self {
            index,
            control_number: None,
            outcome: NewTransactionOutcome::Order(Box::new(order)),
            warnings: Vec::new(),
        }
    }
}

/// What the answer to a read message is built from: all its transactions as stored
/// (those of earlier attempts too), with their orders as routed, its warnings and
/// the plugin that read it.
#[derive(Debug, Clone, Copy)]
pub struct AnswerInput<'a> {
    pub message_id: &'a str,
    pub plugin: Option<&'a PluginRef>,
    pub transactions: &'a [TransactionRecord],
    pub warnings: &'a [serde_json::Value],
}

/// Builds the answer to a read message. The engine calls it inside the transaction
/// that stores the outcome, so the stored answer (given again to an idempotent
/// retry) says exactly what was stored, and the store needs to know nothing of the
/// answer's format.
pub type AnswerFn = fn(AnswerInput<'_>) -> StoredResponse;

/// How a message ended, stored in one transaction with its orders.
#[derive(Debug, Clone)]
pub enum MessageOutcome {
    /// The plugin read the message: one outcome per transaction. The message is
    /// `normalized` when any of its transactions (of this attempt or an earlier
    /// one) is an order, `failed` when none is; then its error is the answer's
    /// body. A transaction already stored as an order is never written again: the
    /// store refuses the whole outcome.
    Normalized {
        transactions: Vec<NewTransaction>,
        /// About the message as a whole, as `{code, message, location}`; they
        /// replace an earlier attempt's.
        warnings: Vec<serde_json::Value>,
        answer: AnswerFn,
    },
    /// The message could not be read at all.
    Failed {
        /// Problem details.
        error: serde_json::Value,
        response: StoredResponse,
    },
}

/// What retention may delete: everything older than its cutoff, in batches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Retention {
    /// Bodies of `failed` messages received before this (a failed message's body is
    /// what a replay needs; after this, it cannot be replayed).
    pub failed_bodies_before: DateTime<Utc>,
    /// Bodies of finished messages received before this: `normalized`, with no
    /// refused transaction, every order delivered or failed (none unrouted or
    /// pending).
    pub finished_bodies_before: DateTime<Utc>,
    /// Attempts of deliveries that succeeded or are dead, started before this.
    pub attempts_before: DateTime<Utc>,
    /// WhatsApp statuses kept for messages no attempt named, taken before this
    /// ([`Outbox::keep_early_whatsapp_status`]).
    pub early_statuses_before: DateTime<Utc>,
    /// The most rows of each kind one [`MessageStore::purge`] deletes.
    pub batch: u32,
}

/// What one [`MessageStore::purge`] deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Purged {
    pub failed_bodies: u64,
    pub finished_bodies: u64,
    pub attempts: u64,
    pub early_statuses: u64,
}

impl Purged {
    pub fn total(&self) -> u64 {
        self.failed_bodies + self.finished_bodies + self.attempts + self.early_statuses
    }
}

/// Whose orders a caller may see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderScope<'a> {
    /// Every order (admin).
    All,
    /// The orders this buyer sent.
    Buyer(&'a str),
    /// The orders routed to this craftsman.
    Craftsman(&'a str),
}

/// The largest page [`MessageStore::list_orders`] and [`MessageStore::list_messages`] return.
pub const MAX_PAGE: u32 = 200;

/// A page request for [`MessageStore::list_orders`], newest first.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OrderQuery {
    /// Only this buyer's orders; `None` for all (admin).
    pub buyer_id: Option<String>,
    /// Only the orders routed to this craftsman (an inbox).
    pub craftsman_id: Option<String>,
    pub status: Option<OrderStatus>,
    /// Only orders with this answer (or none yet).
    pub response: Option<ResponseFilter>,
    /// Only routed orders without an answer that reached their craftsman at or
    /// before this time: those past the wait for an answer (the admin's
    /// `awaiting_response=true`).
    pub awaiting_response_since: Option<DateTime<Utc>>,
    /// Page size, clamped to `1..=MAX_PAGE`.
    pub limit: u32,
    /// The `next_cursor` of the previous page: only orders older than this id.
    pub after: Option<String>,
}

/// One page of orders, newest first.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OrderPage {
    pub orders: Vec<OrderRecord>,
    /// Pass as [`OrderQuery::after`] for the next page; `None` on the last page.
    pub next_cursor: Option<String>,
}

/// A page request for [`MessageStore::list_messages`], newest first.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MessageQuery {
    /// Only this buyer's messages; `None` for all (admin).
    pub buyer_id: Option<String>,
    pub status: Option<MessageStatus>,
    /// Only messages with at least one refused transaction: with `status`
    /// `normalized`, those that can be replayed beside their orders.
    pub with_refused: bool,
    /// Page size, clamped to `1..=MAX_PAGE`.
    pub limit: u32,
    /// The `next_cursor` of the previous page: only messages older than this id.
    pub after: Option<String>,
}

/// One page of messages, newest first.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MessagePage {
    pub messages: Vec<MessageSummary>,
    /// Pass as [`MessageQuery::after`] for the next page; `None` on the last page.
    pub next_cursor: Option<String>,
}

/// An inbox session to open: the page's cookie holds a random id, the store its hash.
#[derive(Debug, Clone, PartialEq)]
pub struct NewInboxSession {
    /// Hex SHA-256 of the session id in the cookie.
    pub id_hash: String,
    pub craftsman_id: String,
    pub expires_at: DateTime<Utc>,
}

/// Buyers, their plugin bindings and the plugin components they bind to: who may
/// send, and what turns their messages into orders. Every method is one atomic step.
#[async_trait::async_trait]
pub trait BuyerStore: Send + Sync {
    /// Creates a buyer and the first entry of its binding history;
    /// [`StoreError::Conflict`] if the id or API key hash exists.
    async fn create_buyer(&self, buyer: NewBuyer) -> StoreResult<Buyer>;

    /// The buyer whose API key hashes to `api_key_hash`, for authentication.
    async fn buyer_by_api_key_hash(&self, api_key_hash: &str) -> StoreResult<Option<Buyer>>;

    /// One buyer by id.
    async fn get_buyer(&self, id: &str) -> StoreResult<Option<Buyer>>;

    /// All buyers, in id order.
    async fn list_buyers(&self) -> StoreResult<Vec<Buyer>>;

    /// Changes a buyer in one transaction and returns it as it now is;
    /// [`StoreError::NotFound`] if it does not exist. A change of binding (plugin,
    /// version or config, compared by value) adds an entry to its history.
    async fn update_buyer(&self, id: &str, update: BuyerUpdate) -> StoreResult<Buyer>;

    /// The bindings a buyer has had, newest (the current one) first; empty if the
    /// buyer does not exist.
    async fn buyer_plugin_history(&self, buyer_id: &str) -> StoreResult<Vec<BindingChange>>;

    /// Replaces a buyer's API key hash, effective for the next request: `Some` is a
    /// rotated key, `None` revokes the key so that no key is the buyer's until the
    /// next rotation. [`StoreError::NotFound`] if the buyer does not exist,
    /// [`StoreError::Conflict`] if the hash is another's.
    async fn set_buyer_api_key_hash(
        &self,
        id: &str,
        api_key_hash: Option<String>,
    ) -> StoreResult<()>;

    /// Sets (`Some`) or removes (`None`) where a buyer hears of responses, and returns
    /// the buyer. Pending deliveries to the callback go to the new URL with the new
    /// secret from their next attempt; removing it kills them (dead, for an admin to
    /// retry once a callback is set again). [`StoreError::NotFound`] if the buyer does
    /// not exist, [`StoreError::Invalid`] for a callback without a secret when the
    /// buyer has none to keep.
    async fn set_buyer_callback(
        &self,
        id: &str,
        callback: Option<BuyerCallback>,
    ) -> StoreResult<Buyer>;

    /// Stores an uploaded plugin. Uploading a (name, version) again with the same
    /// sha256 stores nothing and returns the existing artifact; with another sha256,
    /// or the same bytes under another (name, version), is [`StoreError::Conflict`]:
    /// a version, once published, never changes.
    async fn insert_plugin(&self, plugin: NewPluginArtifact) -> StoreResult<PluginArtifact>;

    /// Every stored plugin, by name, then in upload order.
    async fn list_plugins(&self) -> StoreResult<Vec<PluginArtifact>>;

    /// The component bytes of one stored plugin.
    async fn plugin_wasm(&self, sha256: &str) -> StoreResult<Option<Vec<u8>>>;

    /// Every stored plugin with its bytes, in [`BuyerStore::list_plugins`] order; for
    /// loading them all at start.
    async fn all_plugin_wasm(&self) -> StoreResult<Vec<(PluginArtifact, Vec<u8>)>>;
}

/// Inbound messages, their outcomes and the orders normalized from them: what a
/// buyer sent, and what became of it. Every method is one atomic step.
#[async_trait::async_trait]
pub trait MessageStore: Send + Sync {
    /// Stores a raw message with status `received`, or returns the buyer's existing
    /// message with the same idempotency key. Atomic: two concurrent posts with one key
    /// store one message. [`StoreError::Invalid`] if the buyer does not exist,
    /// [`StoreError::Conflict`] if the id does.
    async fn insert_message(&self, message: NewMessage) -> StoreResult<InsertedMessage>;

    /// Stores a new message and its outcome as one write: the message, and, when it
    /// was `processed` (by the plugin named, to this outcome), its outcome and its
    /// orders routed as [`MessageStore::complete_message`] does, in one transaction,
    /// so an order post costs one commit. Unprocessed (`None`: the plugin host could
    /// not run it), the message is stored `received`, for recovery or a retry to
    /// finish. If the buyer already sent a message with this idempotency key, nothing
    /// is stored and that message is returned, as [`MessageStore::insert_message`]
    /// does. Errors as [`MessageStore::insert_message`] and
    /// [`MessageStore::complete_message`].
    async fn record_message(
        &self,
        message: NewMessage,
        processed: Option<(Option<PluginRef>, MessageOutcome)>,
    ) -> StoreResult<RecordedMessage>;

    /// One message with its order ids. `buyer_id: Some` sees only that buyer's
    /// messages; `None` sees all (admin).
    async fn get_message(&self, buyer_id: Option<&str>, id: &str) -> StoreResult<Option<Message>>;

    /// Records a message's outcome and inserts its orders, each routed as
    /// [`routing::route`] decides, all in one transaction, and counts the attempt;
    /// returns the answer as stored (for a read message, the one its [`AnswerFn`]
    /// built from all its transactions as stored). Only a `received` message can be
    /// completed: [`StoreError::Conflict`] if it already was, [`StoreError::NotFound`]
    /// if it does not exist, [`StoreError::Invalid`] if an order names another
    /// message or buyer, or a transaction is already stored as an order (so orders
    /// are never stored twice).
    async fn complete_message(
        &self,
        id: &str,
        outcome: MessageOutcome,
    ) -> StoreResult<StoredResponse> {
        self.complete_message_by(id, None, outcome).await
    }

    /// [`MessageStore::complete_message`], also recording which plugin made the
    /// outcome (kept on the message, and in its attempt history if it is reopened).
    async fn complete_message_by(
        &self,
        id: &str,
        plugin: Option<PluginRef>,
        outcome: MessageOutcome,
    ) -> StoreResult<StoredResponse>;

    /// Sends a message back to `received` for another attempt (a replay, e.g.
    /// through a newer plugin version): a `failed` one, or a `normalized` one with
    /// refused transactions. Its outcome and `note` are kept in
    /// [`MessageStore::message_attempts`]; the error, response and plugin are
    /// cleared, the attempt count, its transactions and its orders kept. Finish it
    /// with [`MessageStore::complete_message`] as usual, which writes only the
    /// transactions that are not orders yet. [`StoreError::Conflict`] for any other
    /// message: one whose every transaction is an order is never reprocessed.
    /// [`StoreError::NotFound`] if it does not exist.
    async fn reopen_message(
        &self,
        id: &str,
        note: Option<serde_json::Value>,
    ) -> StoreResult<Message>;

    /// The outcomes a message had before it was reopened, oldest first; its current
    /// outcome is on the message itself.
    async fn message_attempts(&self, message_id: &str) -> StoreResult<Vec<MessageAttempt>>;

    /// A page of messages, newest first (descending id), see [`MessageQuery`].
    async fn list_messages(&self, query: MessageQuery) -> StoreResult<MessagePage>;

    /// Up to `limit` messages still `received`, oldest first, after the message id
    /// `after` when given (to page through them all): work a crash interrupted.
    async fn pending_messages(&self, after: Option<&str>, limit: u32) -> StoreResult<Vec<Message>>;

    /// The bytes of the message bodies kept for `buyer_id`: what its storage
    /// limit counts.
    async fn stored_body_bytes(&self, buyer_id: &str) -> StoreResult<u64>;

    /// One batch of what `retention` allows to delete: the bodies of failed messages
    /// and of finished ones received before its cutoffs, and the attempts of finished
    /// deliveries started before its cutoff; at most `retention.batch` of each. The
    /// caller repeats until a batch deletes nothing, so no write holds the database
    /// long.
    async fn purge(&self, retention: &Retention) -> StoreResult<Purged>;

    /// One order, as `scope` may see it.
    async fn get_order(&self, scope: OrderScope<'_>, id: &str) -> StoreResult<Option<OrderRecord>>;

    /// A page of orders, newest first (descending id), see [`OrderQuery`].
    async fn list_orders(&self, query: OrderQuery) -> StoreResult<OrderPage>;
}

/// Craftsmen, their channels, their inbox sessions, and the routes that send a
/// buyer's orders to them. Every method is one atomic step.
#[async_trait::async_trait]
pub trait CraftsmanStore: Send + Sync {
    /// Creates a craftsman with their channels; [`StoreError::Conflict`] if the id,
    /// a channel id or the token hash exists.
    async fn create_craftsman(&self, craftsman: NewCraftsman) -> StoreResult<Craftsman>;

    /// One craftsman with their channels.
    async fn get_craftsman(&self, id: &str) -> StoreResult<Option<Craftsman>>;

    /// The craftsman whose token hashes to `token_hash`, for the inbox.
    async fn craftsman_by_token_hash(&self, token_hash: &str) -> StoreResult<Option<Craftsman>>;

    /// All craftsmen, in id order.
    async fn list_craftsmen(&self) -> StoreResult<Vec<Craftsman>>;

    /// Enables or disables one of a craftsman's channels and returns it;
    /// [`StoreError::NotFound`] if the craftsman has no such channel.
    async fn set_channel_enabled(
        &self,
        craftsman_id: &str,
        channel_id: &str,
        enabled: bool,
    ) -> StoreResult<Channel>;

    /// Chat `chat_id` wrote to the Telegram bot: each Telegram channel to that chat
    /// that a refused attempt disabled (the bot could not reach the chat; not one
    /// an admin disabled, [`DISABLED_BY_ADMIN`]) is enabled again. Their ids.
    async fn enable_telegram_chat(&self, chat_id: &str) -> StoreResult<Vec<String>>;

    /// Points a channel at a new target of the same kind: where the service says
    /// the recipient moved (a Telegram group upgraded to a supergroup has a new
    /// chat id). [`StoreError::NotFound`] if there is no such channel, and
    /// [`StoreError::Invalid`] for a target of another kind.
    async fn move_channel(&self, channel_id: &str, target: ChannelTarget) -> StoreResult<()>;

    /// Replaces a craftsman's token hash (`None` revokes the token) and, in the same
    /// transaction, ends every inbox session of theirs: a session opened with the old
    /// token must not outlive it. Returns how many sessions it ended.
    /// [`StoreError::NotFound`] if the craftsman does not exist.
    async fn set_craftsman_token_hash(
        &self,
        id: &str,
        token_hash: Option<String>,
    ) -> StoreResult<u64>;

    /// Opens an inbox session (and forgets the sessions that expired or ended).
    async fn create_inbox_session(&self, session: NewInboxSession) -> StoreResult<()>;

    /// The craftsman whose session id hashes to `id_hash`, if that session has
    /// neither ended nor expired at `now`.
    async fn craftsman_by_session_hash(
        &self,
        id_hash: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<Craftsman>>;

    /// Ends an inbox session (logout); `false` if it was unknown or already ended.
    async fn end_inbox_session(&self, id_hash: &str) -> StoreResult<bool>;

    /// Maps a buyer's supplier code to a craftsman and, in the same transaction,
    /// routes the buyer's orders that waited for it (writing their deliveries).
    /// Orders already routed keep their craftsman. [`StoreError::Invalid`] if the
    /// buyer or the craftsman does not exist.
    async fn put_route(
        &self,
        buyer_id: &str,
        supplier_code: &str,
        craftsman_id: &str,
    ) -> StoreResult<RouteChange>;

    /// A buyer's routes, by supplier code.
    async fn list_routes(&self, buyer_id: &str) -> StoreResult<Vec<Route>>;
}

/// The outbox: the deliveries of routed orders to craftsmen's channels, claimed by
/// the delivery workers, and their attempts. Every method is one atomic step.
#[async_trait::async_trait]
pub trait Outbox: Send + Sync {
    /// Claims up to `limit` deliveries due at `now` for `lease`, oldest due first:
    /// no other claim takes them until the lease ends or an attempt is recorded.
    async fn claim_deliveries(
        &self,
        now: DateTime<Utc>,
        lease: std::time::Duration,
        limit: u32,
    ) -> StoreResult<Vec<ClaimedDelivery>>;

    /// Records an attempt of a claimed delivery and applies its [`NextStep`], then
    /// brings the order's status in line with its deliveries; all in one
    /// transaction. An attempt whose outcome is `Disable` also disables the channel.
    /// [`StoreError::Conflict`] if the delivery is not pending at that attempt
    /// (another claim recorded it first).
    async fn record_attempt(&self, attempt: NewAttempt) -> StoreResult<Delivery>;

    /// Ends the claims an instance's start may take back. On an engine that one
    /// gateway process owns (SQLite), every claim: the workers of an earlier run of
    /// this process are gone. On an engine several instances share (PostgreSQL),
    /// only the claims whose lease ran out: the others may be a live instance's.
    async fn release_claims(&self) -> StoreResult<u64>;

    /// When the next pending, unclaimed delivery is due; `None` if none is pending.
    async fn next_due_at(&self) -> StoreResult<Option<DateTime<Utc>>>;

    /// Sends a delivery back for an attempt now: a dead one starts the retry schedule
    /// anew, a pending one is made due at once. [`StoreError::Conflict`] for a
    /// succeeded delivery or a disabled channel; [`StoreError::NotFound`].
    async fn retry_delivery(&self, id: &str) -> StoreResult<Delivery>;

    /// One delivery.
    async fn get_delivery(&self, id: &str) -> StoreResult<Option<Delivery>>;

    /// A delivery's attempts, oldest first.
    async fn delivery_attempts(&self, delivery_id: &str) -> StoreResult<Vec<DeliveryAttempt>>;

    /// A page of deliveries, newest first, see [`DeliveryQuery`].
    async fn list_deliveries(&self, query: DeliveryQuery) -> StoreResult<DeliveryPage>;

    /// Counts of deliveries by state, for `/metrics`.
    async fn delivery_stats(&self) -> StoreResult<DeliveryStats>;

    /// The attempt that sent the message the service knows as `message_id`.
    async fn sent_message(&self, message_id: &str) -> StoreResult<Option<SentMessage>>;

    /// Records what the service said of a message, unless the attempt already has a
    /// receipt as far along ([`Receipt::rank`]); `false` when nothing changed or no
    /// attempt sent `message_id`.
    async fn record_receipt(
        &self,
        message_id: &str,
        receipt: Receipt,
        at: DateTime<Utc>,
    ) -> StoreResult<bool>;

    /// A succeeded delivery whose message failed afterwards is pending again or
    /// dead, as `reopen` says, with its order's status; `None` (nothing changed)
    /// when the delivery is not succeeded, or `reopen.attempt` is not its last.
    async fn reopen_delivery(&self, reopen: Reopen) -> StoreResult<Option<Delivery>>;

    /// What is known of a WhatsApp number.
    async fn whatsapp_contact(&self, wa_id: &str) -> StoreResult<Option<WhatsAppContact>>;

    /// Records (`Some(source)`) or withdraws (`None`) a WhatsApp user's opt-in.
    async fn set_whatsapp_opt_in(
        &self,
        wa_id: &str,
        source: Option<String>,
    ) -> StoreResult<WhatsAppContact>;

    /// A WhatsApp user wrote to the business number at `at`, which opens their
    /// service window. Kept only for a number some craftsman's WhatsApp channel
    /// sends to (`false` otherwise: a stranger's message is not stored).
    async fn record_whatsapp_inbound(&self, wa_id: &str, at: DateTime<Utc>) -> StoreResult<bool>;

    /// The service said the window of `wa_id` was closed at `at` (a free-form message
    /// failed with "re-engagement"): an inbound time up to `at` is forgotten.
    async fn close_whatsapp_window(&self, wa_id: &str, at: DateTime<Utc>) -> StoreResult<()>;

    /// Keeps a status for a message no recorded attempt names yet, in one step with
    /// that check, so a status is either kept before the attempt is recorded (and
    /// found by [`Outbox::early_whatsapp_status`] after it) or answered
    /// [`EarlyStatusKept::AttemptKnown`]. A message keeps one status, the one
    /// furthest along ([`Receipt::rank`]); a new message's is not kept when
    /// `max_kept` are ([`EarlyStatusKept::Full`]). Retention deletes them
    /// ([`Retention::early_statuses_before`]).
    async fn keep_early_whatsapp_status(
        &self,
        status: WhatsAppStatus,
        max_kept: u32,
    ) -> StoreResult<EarlyStatusKept>;

    /// The status kept for message `wamid`, if any.
    async fn early_whatsapp_status(&self, wamid: &str) -> StoreResult<Option<WhatsAppStatus>>;

    /// Deletes the status kept for message `wamid` (it was applied).
    async fn forget_early_whatsapp_status(&self, wamid: &str) -> StoreResult<()>;

    /// The messages with a status kept that a recorded attempt names: those whose
    /// status was not applied when the attempt was recorded (the gateway stopped in
    /// between). At most `limit`.
    async fn named_early_whatsapp_statuses(&self, limit: u32) -> StoreResult<Vec<String>>;
}

/// The storage boundary: every area's trait, plus what concerns the database as a
/// whole. This is the one object the gateway holds (`Arc<dyn Store>`); the area
/// traits' methods are called on it directly, and an `Arc<dyn Store>` upcasts to
/// an `Arc<dyn Outbox>` (say) for a part that needs only one area. An engine
/// implements the seven traits; [`open`] picks the engine by the URL's scheme.
#[async_trait::async_trait]
pub trait Store:
    BuyerStore
    + MessageStore
    + CraftsmanStore
    + Outbox
    + ResponseStore
    + ReminderStore
    + MailStore
    + ChatStore
    + AlertStore
    + Send
    + Sync
{
    /// Checks the database answers, for `/readyz`.
    async fn ping(&self) -> StoreResult<()>;

    /// Reads the whole database looking for damage (SQLite's `quick_check`): `None`
    /// when it is sound, else the first problem found. Costs a read of every page,
    /// so it runs now and then, not per request.
    async fn check_integrity(&self) -> StoreResult<Option<String>>;

    /// Writes one small row through the ordinary write path: whether anything can be
    /// stored now. An [`StoreError::is_unavailable`] error means the database as a
    /// whole cannot be written (full disk, read-only or vanished file).
    async fn check_writable(&self) -> StoreResult<()>;

    /// Closes the connections, waiting for in-flight work; for graceful shutdown.
    async fn close(&self);

    /// Calls `changed` whenever another instance sharing the database may have
    /// made deliveries due (a new order, a response, a reminder), so this
    /// instance's worker looks at once rather than at its next poll. An engine one
    /// process owns has no other instances and never calls it.
    fn watch_outbox(&self, changed: std::sync::Arc<dyn Fn() + Send + Sync>) {
        let _ = changed;
    }

    /// Calls `changed` whenever another instance sharing the database may have
    /// stored a plugin upload, so this instance loads it at once, and once after
    /// each reconnection, for what came meanwhile. An engine one process owns
    /// never calls it.
    fn watch_plugins(&self, changed: std::sync::Arc<dyn Fn() + Send + Sync>) {
        let _ = changed;
    }

    /// Whether this instance leads the scheduled work: one instance of those
    /// sharing the database at a time (see [`Leadership`]). An engine one process
    /// owns always leads.
    fn scheduled_work(&self) -> Leadership {
        Leadership::sole()
    }

    /// Waits until no other instance sharing the database recovers messages left
    /// `received`, and holds that off until the returned guard is dropped: two
    /// instances starting at once recover one after the other. The store lets only
    /// one outcome of a message win anyway ([`MessageStore::complete_message`]);
    /// this spares running its plugin twice. An engine one process owns gives a
    /// guard at once.
    async fn recovering_alone(&self) -> StoreResult<Box<dyn Send + Sync>> {
        Ok(Box::new(()))
    }
}

/// How to open a store, for [`open`]: each engine's own tuning, used when the URL
/// names that engine. The defaults are safe.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoreOptions {
    /// For a `sqlite:` URL.
    pub sqlite: SqliteOptions,
    /// For a `postgres:` or `postgresql:` URL.
    pub postgres: PostgresOptions,
}

/// The database URLs [`open`] takes, for its errors.
const ACCEPTED_URLS: &str =
    "sqlite://PATH (or sqlite:PATH) or postgres://USER@HOST/DATABASE (or postgresql://…)";

/// Opens the store that `url` names, choosing the engine by the URL's scheme, and
/// brings its schema up to date:
///
/// - `sqlite://PATH` or `sqlite:PATH`: the embedded [`SqliteStore`], a file created
///   (with its directory) if missing;
/// - `postgres://…` or `postgresql://…`: the shared [`PostgresStore`], on a database
///   that must exist (its tables are created);
/// - anything else: [`StoreError::Invalid`], naming the accepted URLs.
///
/// The errors name the scheme, never the whole URL, which may hold a password.
pub async fn open(url: &str, options: StoreOptions) -> StoreResult<Arc<dyn Store>> {
    match url.split_once(':').map(|(scheme, _)| scheme) {
        Some("sqlite") => Ok(Arc::new(SqliteStore::open_with(url, options.sqlite).await?)),
        Some("postgres" | "postgresql") => Ok(Arc::new(
            PostgresStore::open_with(url, options.postgres).await?,
        )),
        Some(scheme) => Err(StoreError::Invalid(format!(
            "unsupported database URL scheme {scheme:?}; use {ACCEPTED_URLS}"
        ))),
        None => Err(StoreError::Invalid(format!(
            "the database URL has no scheme; use {ACCEPTED_URLS}"
        ))),
    }
}

/// `url` as it may be shown (in an error, a log): a password in it
/// (`scheme://user:password@host/…`) is replaced by `***`.
pub fn redact_url(url: &str) -> std::borrow::Cow<'_, str> {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.into();
    };
    let authority = &rest[..rest.find('/').unwrap_or(rest.len())];
    match authority.rfind('@').map(|at| &authority[..at]) {
        Some(userinfo) => match userinfo.split_once(':') {
            Some((user, _password)) => {
                let after = &rest[userinfo.len()..];
                format!("{scheme}://{user}:***{after}").into()
            }
            None => url.into(),
        },
        None => url.into(),
    }
}

#[cfg(test)]
mod contract;

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal(result: StoreResult<Arc<dyn Store>>) -> String {
        match result {
            Err(StoreError::Invalid(why)) => why,
            Err(other) => panic!("expected Invalid, got {other:?}"),
            Ok(_) => panic!("expected Invalid, got a store"),
        }
    }

    #[tokio::test]
    async fn open_refuses_unknown_schemes_by_name() {
        let why = refusal(open("mysql://u:s3cret@h/db", StoreOptions::default()).await);
        assert!(
            why.contains("\"mysql\"")
                && why.contains("sqlite://PATH")
                && why.contains("postgres://"),
            "{why}"
        );
        assert!(!why.contains("s3cret"), "{why}");
        let why = refusal(open("data/jembatan.db", StoreOptions::default()).await);
        assert!(
            why.contains("no scheme") && why.contains("sqlite://PATH"),
            "{why}"
        );
    }

    /// Both PostgreSQL schemes reach the PostgreSQL engine: with nothing listening
    /// (port 1 on loopback), the database is unavailable, and the error keeps the
    /// password to itself.
    #[tokio::test]
    async fn open_takes_both_postgres_schemes() {
        for url in [
            "postgres://app:s3cret@127.0.0.1:1/jembatan",
            "postgresql://app:s3cret@127.0.0.1:1/jembatan",
        ] {
            let error = match open(url, StoreOptions::default()).await {
                Err(error) => error,
                Ok(_) => panic!("nothing listens on port 1"),
            };
            assert!(error.is_unavailable(), "{url}: {error:?}");
            assert!(
                !format!("{error} {error:?}").contains("s3cret"),
                "{error:?}"
            );
        }
    }

    #[tokio::test]
    async fn open_takes_both_sqlite_url_forms() {
        let dir = tempfile::tempdir().unwrap();
        for url in [
            format!("sqlite://{}/a.db", dir.path().display()),
            format!("sqlite:{}/b.db", dir.path().display()),
        ] {
            let store = open(&url, StoreOptions::default()).await.unwrap();
            store.ping().await.unwrap();
            store.close().await;
        }
        assert!(dir.path().join("a.db").exists() && dir.path().join("b.db").exists());
    }

    #[test]
    fn redact_url_hides_only_a_password() {
        let cases = [
            (
                "postgres://app:s3cret@db.example:5432/jembatan?sslmode=require",
                "postgres://app:***@db.example:5432/jembatan?sslmode=require",
            ),
            ("postgres://app@db.example/j", "postgres://app@db.example/j"),
            ("postgres://db.example/j", "postgres://db.example/j"),
            (
                "sqlite:///var/lib/jembatan/jembatan.db",
                "sqlite:///var/lib/jembatan/jembatan.db",
            ),
            ("sqlite:data/jembatan.db", "sqlite:data/jembatan.db"),
            ("sqlite://data/a@b:c.db", "sqlite://data/a@b:c.db"),
        ];
        for (url, shown) in cases {
            assert_eq!(redact_url(url), shown, "{url}");
        }
    }
}
