//! The one storage boundary: every step of the flow writes its result here before the
//! next step begins, so a crash loses nothing and a failed step can be replayed.
//!
//! [`Store`] is object safe and used as `Arc<dyn Store>`. Engines are sibling files
//! behind it: [`sqlite`] (one file, WAL) is the embedded default; PostgreSQL will join
//! it with the same trait and the same tests. The types here are engine-neutral: ids
//! are strings made by the caller (time-ordered, e.g. `msg_<uuid v7>`, so id order is
//! creation order), times are UTC, JSON is [`serde_json::Value`].

pub mod sqlite;

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use jembatan_schemas::PurchaseOrder;
use serde::{Deserialize, Serialize};

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
    /// buyer, an order whose buyer is not its message's buyer). A bug, not user input.
    #[error("invalid: {0}")]
    Invalid(String),
    /// The database failed, or a stored value could not be decoded.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// The schema could not be brought up to date at start.
    #[error("migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
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
    pub plugin_config: serde_json::Value,
    pub limits: Option<serde_json::Value>,
    pub created_at: DateTime<Utc>,
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

/// Where an order is in its delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OrderStatus {
    Received,
    Delivered,
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
text_enum!(OrderStatus { Received => "received", Delivered => "delivered", Failed => "failed" });

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
    /// The orders normalized from this message, in id order.
    pub order_ids: Vec<String>,
    pub received_at: DateTime<Utc>,
    pub processed_at: Option<DateTime<Utc>>,
}

/// The result of [`Store::insert_message`].
#[derive(Debug, Clone, PartialEq)]
pub enum InsertedMessage {
    /// The message is new and now stored.
    Inserted(Message),
    /// The buyer already sent a message with this idempotency key; nothing was stored.
    /// The caller compares `body_sha256` to tell a replay from a conflicting reuse.
    Existing(Message),
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
    pub order: PurchaseOrder,
}

/// A stored order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OrderRecord {
    pub id: String,
    pub message_id: String,
    pub buyer_id: String,
    pub buyer_order_number: String,
    pub supplier_code: String,
    pub status: OrderStatus,
    pub order: PurchaseOrder,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// How a message ended, stored in one transaction with its orders.
#[derive(Debug, Clone, PartialEq)]
pub enum MessageOutcome {
    /// The plugin produced these orders (validated by the caller).
    Normalized {
        orders: Vec<NewOrder>,
        response: StoredResponse,
    },
    /// The message could not be turned into orders.
    Failed {
        /// Problem details.
        error: serde_json::Value,
        response: StoredResponse,
    },
}

/// The largest page [`Store::list_orders`] returns.
pub const MAX_PAGE: u32 = 200;

/// A page request for [`Store::list_orders`], newest first.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OrderQuery {
    /// Only this buyer's orders; `None` for all (admin).
    pub buyer_id: Option<String>,
    pub status: Option<OrderStatus>,
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

/// The storage boundary. Every method is one atomic step.
#[async_trait::async_trait]
pub trait Store: Send + Sync {
    /// Creates a buyer; [`StoreError::Conflict`] if the id or API key hash exists.
    async fn create_buyer(&self, buyer: NewBuyer) -> StoreResult<Buyer>;

    /// The buyer whose API key hashes to `api_key_hash`, for authentication.
    async fn buyer_by_api_key_hash(&self, api_key_hash: &str) -> StoreResult<Option<Buyer>>;

    /// One buyer by id.
    async fn get_buyer(&self, id: &str) -> StoreResult<Option<Buyer>>;

    /// All buyers, in id order.
    async fn list_buyers(&self) -> StoreResult<Vec<Buyer>>;

    /// Stores a raw message with status `received`, or returns the buyer's existing
    /// message with the same idempotency key. Atomic: two concurrent posts with one key
    /// store one message. [`StoreError::Invalid`] if the buyer does not exist,
    /// [`StoreError::Conflict`] if the id does.
    async fn insert_message(&self, message: NewMessage) -> StoreResult<InsertedMessage>;

    /// One message with its order ids. `buyer_id: Some` sees only that buyer's
    /// messages; `None` sees all (admin).
    async fn get_message(&self, buyer_id: Option<&str>, id: &str) -> StoreResult<Option<Message>>;

    /// Records a message's outcome and inserts its orders, all in one transaction.
    /// Only a `received` message can be completed: [`StoreError::Conflict`] if it
    /// already was (so orders are never stored twice), [`StoreError::NotFound`] if it
    /// does not exist, [`StoreError::Invalid`] if an order names another message or buyer.
    async fn complete_message(&self, id: &str, outcome: MessageOutcome) -> StoreResult<()>;

    /// Up to `limit` messages still `received`, oldest first: work a crash interrupted.
    async fn pending_messages(&self, limit: u32) -> StoreResult<Vec<Message>>;

    /// One order. `buyer_id: Some` sees only that buyer's orders; `None` sees all.
    async fn get_order(&self, buyer_id: Option<&str>, id: &str)
    -> StoreResult<Option<OrderRecord>>;

    /// A page of orders, newest first (descending id), see [`OrderQuery`].
    async fn list_orders(&self, query: OrderQuery) -> StoreResult<OrderPage>;

    /// Checks the database answers, for `/readyz`.
    async fn ping(&self) -> StoreResult<()>;

    /// Closes the connections, waiting for in-flight work; for graceful shutdown.
    async fn close(&self);
}
