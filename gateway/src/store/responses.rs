//! The store's types for order responses: what craftsmen answered, kept whole, and
//! where their buyers hear of it.

use std::fmt;

use jembatan_schemas::{OrderResponse, ResponseStatus};

use super::StoreResult;
use crate::model::RenderedResponse;

/// A response to store with [`ResponseStore::record_response`]: made and checked by
/// the caller (`crate::responses`), which also decided that it may follow the
/// order's earlier ones.
#[derive(Debug, Clone, PartialEq)]
pub struct NewResponse {
    /// Its `sequence` must be the order's next: one more than its latest response's,
    /// 1 for the first.
    pub response: OrderResponse,
    /// The chat event it came from (a Telegram callback query id, a WhatsApp
    /// message id), so that a replayed event stores nothing; `None` from the API and
    /// the inbox page.
    pub event_key: Option<String>,
}

/// What [`ResponseStore::record_response`] stored.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedResponse {
    pub response: OrderResponse,
    /// The delivery that carries it to the buyer's callback; `None` when the buyer
    /// has none.
    pub callback_delivery: Option<String>,
}

/// Where a buyer hears of its orders' responses.
#[derive(Clone, PartialEq, Eq)]
pub struct BuyerCallback {
    /// `https://…` (or `http://…`), checked by the caller as a webhook URL is.
    pub url: String,
    /// `whsec_…`: the Standard Webhooks secret the events are signed with; `None`
    /// keeps the buyer's current one (a new URL, the same secret).
    pub secret: Option<String>,
}

impl fmt::Debug for BuyerCallback {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BuyerCallback")
            .field("url", &self.url)
            .field("secret", &"[redacted]")
            .finish()
    }
}

/// A filter of orders by their answer, for [`super::OrderQuery::response`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseFilter {
    /// No response yet.
    Awaiting,
    /// The latest response has this status.
    Latest(ResponseStatus),
}

impl ResponseFilter {
    /// The query-string form: `none`, or a status.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "none" => Some(Self::Awaiting),
            other => other.parse().ok().map(Self::Latest),
        }
    }
}

/// Craftsmen's responses to orders. Every method is one atomic step.
#[async_trait::async_trait]
pub trait ResponseStore: Send + Sync {
    /// Stores a response, makes it the order's answer, and, when the order's buyer
    /// has a callback, writes the delivery that carries it there (due at once); all
    /// in one transaction. [`super::StoreError::Conflict`] when the order already has
    /// a response at this `sequence` (another answer came first) or the event was
    /// stored before; [`super::StoreError::NotFound`] when the order does not exist.
    async fn record_response(&self, response: NewResponse) -> StoreResult<RecordedResponse>;

    /// Every response to an order, oldest first; the last is its answer now.
    async fn order_responses(&self, order_id: &str) -> StoreResult<Vec<OrderResponse>>;

    /// The response a chat event made, if one did.
    async fn response_by_event(&self, event_key: &str) -> StoreResult<Option<OrderResponse>>;

    /// The buyer's next control number for a rendered document: one more than the
    /// last one given (1 for the first), never given twice.
    async fn next_control_number(&self, buyer_id: &str) -> StoreResult<u32>;

    /// What the buyer's plugin made of a response, if it ran.
    async fn rendered_response(&self, response_id: &str) -> StoreResult<Option<RenderedResponse>>;

    /// Keeps what the buyer's plugin made of a response, unless something is kept
    /// for it already; returns what is kept, so that two renders racing agree on
    /// the first.
    async fn keep_rendered_response(
        &self,
        rendered: RenderedResponse,
    ) -> StoreResult<RenderedResponse>;
}
