//! The store's types for orders by e-mail: a buyer's inbound address and the
//! senders it accepts, and the one reply each e-mailed message may get.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::{Buyer, MessageStatus, StoreResult};
use crate::model::Language;

/// A buyer's e-mail settings, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EmailSettings {
    /// Addresses (`budi@mitra.co.id`) and domains (`mitra.co.id`) whose mail the
    /// buyer accepts, lower case; empty accepts any sender.
    pub senders: Vec<String>,
    /// The language the buyer's senders are answered in.
    pub language: Language,
    /// Whether the buyer has an inbound address (its token is shown only when made).
    pub has_address: bool,
}

impl Default for EmailSettings {
    fn default() -> Self {
        Self {
            senders: Vec::new(),
            language: Language::Indonesian,
            has_address: false,
        }
    }
}

/// How a reply to an e-mailed message ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplyState {
    /// The relay took it.
    Sent,
    /// It could not be sent; it is not tried again (at most one reply).
    Failed,
}

/// The one reply to an e-mailed message, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct EmailReply {
    /// The sender it went to.
    pub recipient: String,
    /// `sending` (claimed; a crash may have cut it off, and it is not sent
    /// again), `sent` (the relay took it) or `failed`.
    pub state: String,
    /// The relay's answer, or why it failed.
    pub detail: Option<String>,
    /// The message's `attempts` when the reply was written: it told that
    /// outcome. A replay since (`attempts` higher now) sent no second reply.
    pub attempt: Option<u32>,
    /// The message's status the reply told: `normalized` or `failed`.
    #[schema(value_type = Option<String>)]
    pub outcome: Option<MessageStatus>,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

/// Buyers' inbound addresses, their accepted senders, and replies.
#[async_trait::async_trait]
pub trait MailStore: Send + Sync {
    /// The buyer's settings; the defaults when none were saved.
    async fn email_settings(&self, buyer_id: &str) -> StoreResult<EmailSettings>;

    /// Saves the senders and language of an existing buyer
    /// ([`super::StoreError::NotFound`] if there is none).
    async fn put_email_settings(
        &self,
        buyer_id: &str,
        senders: Vec<String>,
        language: Language,
    ) -> StoreResult<EmailSettings>;

    /// Puts a new inbound address token's hash in place of the buyer's old one,
    /// which is refused from then on.
    async fn set_inbound_address_hash(&self, buyer_id: &str, token_hash: String)
    -> StoreResult<()>;

    /// The buyer whose inbound address token has this hash.
    async fn buyer_by_inbound_address_hash(&self, token_hash: &str) -> StoreResult<Option<Buyer>>;

    /// Claims the one reply of a message: `true` the first time, `false` ever
    /// after, whatever became of the first (so a reply is sent at most once).
    /// The message's attempt and status are kept with it ([`EmailReply`]).
    async fn claim_reply(&self, message_id: &str, recipient: &str) -> StoreResult<bool>;

    /// Records how the claimed reply ended.
    async fn finish_reply(
        &self,
        message_id: &str,
        state: ReplyState,
        detail: &str,
    ) -> StoreResult<()>;

    /// The reply of a message, if one was claimed.
    async fn email_reply(&self, message_id: &str) -> StoreResult<Option<EmailReply>>;
}
