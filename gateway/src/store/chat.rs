//! The store's types for answers given in a chat (issue 10, part 2): the reason a
//! rejection waits for, and the Telegram updates already taken.

use chrono::{DateTime, Utc};

use super::StoreResult;
use crate::model::ChatKind;

/// A rejection tapped in a chat, waiting for its reason: the craftsman's next text
/// in that chat, until `expires_at`.
#[derive(Debug, Clone, PartialEq)]
pub struct ReasonQuestion {
    pub id: String,
    pub chat_kind: ChatKind,
    /// The WhatsApp number (digits) or the Telegram chat id the tap came from.
    pub chat_id: String,
    pub order_id: String,
    pub craftsman_id: String,
    /// The tap that asked it; the rejection is stored under the same key.
    pub event_key: String,
    pub asked_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// Chat answers' state. Every method is one atomic step.
#[async_trait::async_trait]
pub trait ChatStore: Send + Sync {
    /// Stores a question, replacing any other waiting for the same order; `false`
    /// (nothing changed) when a question with its `event_key` was stored before.
    async fn ask_reason(&self, question: ReasonQuestion) -> StoreResult<bool>;

    /// The latest question asked in this chat that has not expired at `now`.
    async fn waiting_reason(
        &self,
        chat_kind: ChatKind,
        chat_id: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<ReasonQuestion>>;

    /// Questions that expired at `now`, oldest first, at most `limit`.
    async fn expired_reasons(
        &self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Vec<ReasonQuestion>>;

    /// Forgets one question (answered, expired and recorded, or moot).
    async fn drop_reason(&self, id: &str) -> StoreResult<()>;

    /// Forgets every question about an order (it was answered another way).
    async fn drop_reasons_of_order(&self, order_id: &str) -> StoreResult<()>;

    /// Records a Telegram `update_id` as taken at `at`: `false` when it was taken
    /// before. Forgets ids taken more than two days before `at`.
    async fn see_telegram_update(&self, update_id: i64, at: DateTime<Utc>) -> StoreResult<bool>;
}
