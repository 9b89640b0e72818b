//! Ingest: one inbound message from a buyer, through the buyer's plugin, to stored
//! canonical orders.
//!
//! The order of steps is the durability contract: the message is normalized in
//! memory, then the raw message, its outcome (orders, or the error), the orders'
//! routes and their deliveries are stored in one transaction, and only then answered.
//! A crash before that commit loses only a message that was never acknowledged; one
//! commit per message is what lets a busy gateway share fsyncs among many posts. A
//! message the plugin host could not run (its own fault, not the buyer's) is still
//! stored, `received`, so [`Ingest::recover`] (run at start, and by
//! [`Ingest::run_recovery`] for those left a while), a retry with the same
//! `Idempotency-Key` or an admin's replay processes it again.
//!
//! A message carries one or more transactions (X12 ST…SE, EDIFACT UNH…UNT, a JSON
//! array), and each gets its own outcome: an order, refused, or not an order. Good
//! orders are taken beside a bad sibling; a replay rereads the message and writes
//! only the transactions that are not orders yet, matched by index and control
//! number, so an accepted order is never made twice.
//!
//! Ingest knows nothing of HTTP, so the HTTP API and the e-mail intake share it: it
//! answers an [`Outcome`] (the message's answer as stored) or an [`IngestError`],
//! and each caller shows them its own way (`api` as `application/problem+json`).

mod answer;
pub mod email;

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use jembatan_schemas::v2;
use serde_json::json;
use tokio::sync::Semaphore;

use crate::delivery::Bell;
use crate::error::Problem;
use crate::orders::{Checked, CheckedMessage, CheckedTransaction, OrderValidator, Receipt};
use crate::plugin_host::{
    ControlNumbers, EmailInput, InlineCall, Limits, LoadedPlugin, LogContext, NormalizeError,
    PluginHost, PluginInput, PluginRegistry, PluginWarning, RenderRequest, RenderedDocument,
};
use crate::secrets::new_id;
use crate::store::{
    Buyer, Leadership, Message, MessageOutcome, MessageStatus, NewMessage, NewOrder,
    NewTransaction, NewTransactionOutcome, PluginRef, ReceivedVia, RecordedMessage, Store,
    StoreError, StoredResponse, TransactionRecord, TransactionStatus,
};

use answer::REFUSED_STATUS;
pub use answer::{Accepted, AcceptedOrder, OtherDocument, RefusedTransaction, TransactionRef};

/// A message as it arrived, before anything is stored.
pub struct Inbound {
    pub received_via: ReceivedVia,
    /// Media type without parameters, lower case.
    pub content_type: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub idempotency_key: Option<String>,
    /// For a message that came by e-mail, its parts as the plugin gets them,
    /// already read by the door ([`email::parse`]); without them, a
    /// `message/rfc822` body is read here ([`email::parts_for`]).
    pub email: Option<EmailInput>,
}

/// What became of a message, with its answer as stored: the status and JSON body
/// every idempotent retry of the message is answered with, unchanged.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// At least one of its transactions is a stored order; the answer is the 201
    /// [`Accepted`], which also lists the refused transactions.
    Accepted(StoredResponse),
    /// None of its transactions is an order, or the plugin could read nothing of
    /// it, or failed on it; the answer is the 422 problem, with `message_id`.
    Refused(StoredResponse),
}

impl Outcome {
    /// How a message whose stored answer is `response` is answered.
    fn answering(response: StoredResponse) -> Self {
        if response.status == answer::ACCEPTED_STATUS {
            Self::Accepted(response)
        } else {
            Self::Refused(response)
        }
    }

    /// The outcome of a message in `status` with its stored answer, if it has one.
    pub fn stored(status: MessageStatus, response: Option<StoredResponse>) -> Option<Self> {
        match (status, response?) {
            (MessageStatus::Normalized, response) => Some(Self::Accepted(response)),
            (MessageStatus::Failed, response) => Some(Self::Refused(response)),
            // A message is `received` only while it has no outcome.
            (MessageStatus::Received, _) => None,
        }
    }
}

/// Why a message got no [`Outcome`]. The display is the sentence to show the
/// sender, except for [`IngestError::Internal`], whose cause is for the log only.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// The buyer's plugin does not read the message's media type.
    #[error("this buyer's plugin '{plugin}' reads {}, not '{content_type}'", .reads.join(", "))]
    UnsupportedType {
        plugin: String,
        /// The media types the plugin reads.
        reads: Vec<String>,
        content_type: String,
    },
    /// The plugin the buyer is bound to is not installed: the operator's problem,
    /// not the buyer's.
    #[error(
        "plugin '{plugin}' {} of buyer '{buyer_id}' is not installed on this gateway",
        .version.as_deref().unwrap_or("(latest)")
    )]
    PluginMissing {
        plugin: String,
        /// The pinned version; `None` for the latest installed.
        version: Option<String>,
        buyer_id: String,
    },
    /// The plugin host, not the plugin, failed; the message is kept `received`
    /// for recovery, a retry or a replay.
    #[error("the plugin host could not run this message ({0}); it is kept and can be retried")]
    HostFailed(NormalizeError),
    /// The `Idempotency-Key` was already used for a message with another body.
    #[error(
        "Idempotency-Key '{key}' was already used for message {message_id} with a different body"
    )]
    KeyReused { key: String, message_id: String },
    /// Only a failed message, or one with refused transactions, can be replayed.
    #[error(
        "message {message_id} is {} with no refused transaction; only a failed message, or one \
         with refused transactions, can be replayed",
        .status.as_str()
    )]
    NotReplayable {
        message_id: String,
        status: MessageStatus,
    },
    /// Retention deleted the message's body, so there is nothing to read again.
    #[error(
        "message {message_id} cannot be replayed: its body was deleted by retention at \
         {purged_at}"
    )]
    BodyPurged {
        message_id: String,
        purged_at: chrono::DateTime<chrono::Utc>,
    },
    /// The plugin no longer reads the message's transactions as they were stored,
    /// so a replay cannot tell which outcome belongs to which; nothing was changed.
    #[error("message {message_id} cannot be replayed with this plugin: {why}; nothing was changed")]
    ReplayMismatch { message_id: String, why: String },
    /// No message with this id.
    #[error("no message '{0}'")]
    NoMessage(String),
    /// No buyer with this id.
    #[error("no buyer '{0}'")]
    NoBuyer(String),
    /// The message this retry found under its idempotency key is gone.
    #[error("message vanished")]
    MessageVanished,
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A bug or a failure of the gateway itself.
    #[error(transparent)]
    Internal(anyhow::Error),
}

impl IngestError {
    fn internal(err: impl Into<anyhow::Error>) -> Self {
        Self::Internal(err.into())
    }
}

/// Told when a stored message gets its outcome after it was first taken in:
/// recovery at start, a retry that found it still waiting, an admin's replay.
/// The e-mail door answers the sender from it ([`crate::mail::reply::Replier`]),
/// so every path that finishes an e-mailed message writes its one reply.
pub trait Finished: Send + Sync {
    /// `message_id` has an outcome now, stored. Must not block.
    fn finished(&self, message_id: &str);
}

pub struct Ingest {
    store: Arc<dyn Store>,
    host: Arc<PluginHost>,
    plugins: Arc<PluginRegistry>,
    validator: OrderValidator,
    default_limits: Limits,
    /// Bounds concurrent plugin calls to the instance pool's size, so a burst waits
    /// for a slot instead of failing to instantiate.
    slots: Semaphore,
    /// Rung when orders are stored, so their deliveries start at once.
    bell: Arc<Bell>,
    /// Told of each message finished after it was first taken in.
    finished: std::sync::OnceLock<Arc<dyn Finished>>,
}

impl Ingest {
    pub fn new(
        store: Arc<dyn Store>,
        host: Arc<PluginHost>,
        plugins: Arc<PluginRegistry>,
        default_limits: Limits,
        concurrency: u32,
        bell: Arc<Bell>,
    ) -> Self {
        Self {
            store,
            host,
            plugins,
            validator: OrderValidator::new(),
            default_limits,
            slots: Semaphore::new(concurrency.max(1) as usize),
            bell,
            finished: std::sync::OnceLock::new(),
        }
    }

    /// Sets who is told when a message is finished after it was first taken in
    /// ([`Finished`]); once, at start (the e-mail door is built after ingest).
    pub fn on_finished(&self, listener: Arc<dyn Finished>) {
        if self.finished.set(listener).is_err() {
            tracing::warn!("ingest already has a listener for finished messages; kept the first");
        }
    }

    /// The plugin a buyer is bound to; its absence is the operator's problem, not
    /// the buyer's ([`IngestError::PluginMissing`]).
    pub fn plugin_for(&self, buyer: &Buyer) -> Result<Arc<LoadedPlugin>, IngestError> {
        let found = match &buyer.plugin_version {
            Some(version) => self.plugins.get_version(&buyer.plugin, version),
            None => self.plugins.get(&buyer.plugin),
        };
        found.ok_or_else(|| IngestError::PluginMissing {
            plugin: buyer.plugin.clone(),
            version: buyer.plugin_version.clone(),
            buyer_id: buyer.id.clone(),
        })
    }

    /// Replays a message through its buyer's current plugin binding: a failed one
    /// whole, or the refused transactions of one with orders. The message is read
    /// again first, and nothing is changed unless each transaction it had still
    /// stands at its index with its control number
    /// ([`IngestError::ReplayMismatch`]); accepted transactions are never made
    /// again. Any other message is [`IngestError::NotReplayable`].
    pub async fn replay(&self, message_id: &str) -> Result<Outcome, IngestError> {
        let mut message = self
            .store
            .get_message(None, message_id)
            .await?
            .ok_or_else(|| IngestError::NoMessage(message_id.to_owned()))?;
        if let Some(purged_at) = message.body_purged_at {
            return Err(IngestError::BodyPurged {
                message_id: message_id.to_owned(),
                purged_at,
            });
        }
        let has_refused = message
            .transactions
            .iter()
            .any(|t| t.status == TransactionStatus::Refused);
        if !(message.status == MessageStatus::Failed
            || message.status == MessageStatus::Normalized && has_refused)
        {
            return Err(IngestError::NotReplayable {
                message_id: message_id.to_owned(),
                status: message.status,
            });
        }
        let buyer = self
            .store
            .get_buyer(&message.buyer_id)
            .await?
            .ok_or_else(|| IngestError::NoBuyer(message.buyer_id.clone()))?;
        let plugin = self.plugin_for(&buyer)?;
        // Read and matched before the message is reopened, so a mismatch changes
        // nothing.
        let read = self
            .normalize(&buyer, &plugin, message_id, input_of(&mut message))
            .await?;
        let read = remaining(&message, read)?;
        let note =
            json!({"replay_with": {"name": plugin.info.name, "version": plugin.info.version}});
        match self.store.reopen_message(message_id, Some(note)).await {
            Ok(_) => {}
            Err(StoreError::Conflict(_)) => {
                return Err(IngestError::NotReplayable {
                    message_id: message_id.to_owned(),
                    status: message.status,
                });
            }
            Err(other) => return Err(other.into()),
        }
        tracing::info!(message_id, buyer_id = %buyer.id, plugin = %plugin.info.name, version = %plugin.info.version, "replaying");
        self.complete(&buyer, &plugin, message_id, read).await
    }

    /// The buyer's plugin, if it reads `content_type`
    /// ([`IngestError::UnsupportedType`] if not).
    pub fn plugin_accepting(
        &self,
        buyer: &Buyer,
        content_type: &str,
    ) -> Result<Arc<LoadedPlugin>, IngestError> {
        let plugin = self.plugin_for(buyer)?;
        if !plugin.accepts(content_type) {
            return Err(IngestError::UnsupportedType {
                plugin: plugin.info.name.clone(),
                reads: plugin.info.content_types.clone(),
                content_type: content_type.to_owned(),
            });
        }
        Ok(plugin)
    }

    /// Accepts one message from `buyer` through `plugin` (see
    /// [`Ingest::plugin_accepting`]): the whole path, answered as stored.
    pub async fn accept(
        &self,
        buyer: &Buyer,
        plugin: &Arc<LoadedPlugin>,
        inbound: Inbound,
    ) -> Result<Outcome, IngestError> {
        let body_sha256 = crate::secrets::hash_bytes(&inbound.body);
        let input = PluginInput {
            content_type: inbound.content_type.clone(),
            headers: inbound.headers.clone(),
            body: inbound.body.clone(),
            email: inbound
                .email
                .clone()
                .or_else(|| email::parts_for(&inbound.content_type, &inbound.body)),
        };
        let new = new_message(buyer, inbound, body_sha256.clone());
        let (processed, unavailable) = match self.normalize(buyer, plugin, &new.id, input).await {
            Ok(read) => {
                let plugin = plugin_ref(plugin);
                let receipt = Receipt {
                    buyer,
                    message_id: &new.id,
                    plugin: &plugin,
                };
                let outcome = outcome(&receipt, read)?;
                (Some((Some(plugin), outcome)), None)
            }
            Err(unavailable) => (None, Some(unavailable)),
        };
        match self.store.record_message(new, processed).await? {
            RecordedMessage::Stored(Some(answer)) => {
                self.bell.ring();
                Ok(Outcome::answering(answer))
            }
            RecordedMessage::Stored(None) => Err(unavailable
                .unwrap_or_else(|| IngestError::internal(anyhow::anyhow!("stored unprocessed")))),
            RecordedMessage::Existing(existing) => {
                self.replay_idempotent(buyer, plugin, *existing, &body_sha256)
                    .await
            }
        }
    }

    /// Stores a message from `buyer` as refused with `problem`, without running
    /// its plugin: e-mail from a sender the buyer does not accept. It is kept
    /// like any failed message (an admin can read it, and replay it through the
    /// plugin if the sender was in fact the buyer's). A retry of the same message
    /// (its idempotency key) gets the first answer.
    pub async fn refuse(
        &self,
        buyer: &Buyer,
        inbound: Inbound,
        problem: Problem,
    ) -> Result<Outcome, IngestError> {
        let body_sha256 = crate::secrets::hash_bytes(&inbound.body);
        let new = new_message(buyer, inbound, body_sha256.clone());
        let body = serde_json::to_value(problem.with("message_id", &new.id))
            .map_err(IngestError::internal)?;
        let outcome = MessageOutcome::Failed {
            error: body.clone(),
            response: StoredResponse {
                status: REFUSED_STATUS,
                body,
            },
        };
        match self
            .store
            .record_message(new, Some((None, outcome)))
            .await?
        {
            RecordedMessage::Stored(Some(answer)) => Ok(Outcome::answering(answer)),
            RecordedMessage::Stored(None) => Err(IngestError::internal(anyhow::anyhow!(
                "a refused message was stored without its answer"
            ))),
            RecordedMessage::Existing(existing) if existing.body_sha256 != body_sha256 => {
                Err(IngestError::KeyReused {
                    key: existing.idempotency_key.unwrap_or_default(),
                    message_id: existing.id,
                })
            }
            RecordedMessage::Existing(existing) => {
                let (id, status, response) = (existing.id, existing.status, existing.response);
                Outcome::stored(status, response).ok_or_else(|| {
                    IngestError::internal(anyhow::anyhow!("message {id} has no stored answer"))
                })
            }
        }
    }

    /// A second post with a known `Idempotency-Key`: the first answer if the body is
    /// the same, [`IngestError::KeyReused`] if not. A message still `received` (its
    /// first attempt crashed or is in flight) is processed now; the store lets only
    /// one outcome win.
    async fn replay_idempotent(
        &self,
        buyer: &Buyer,
        plugin: &Arc<LoadedPlugin>,
        existing: Message,
        body_sha256: &str,
    ) -> Result<Outcome, IngestError> {
        if existing.body_sha256 != body_sha256 {
            return Err(IngestError::KeyReused {
                key: existing.idempotency_key.unwrap_or_default(),
                message_id: existing.id,
            });
        }
        if let Some(outcome) = Outcome::stored(existing.status, existing.response) {
            return Ok(outcome);
        }
        let existing = self
            .store
            .get_message(Some(&buyer.id), &existing.id)
            .await?
            .ok_or(IngestError::MessageVanished)?;
        self.process(buyer, plugin, existing).await
    }

    /// Processes every message left `received` (by a crash, or a plugin host that
    /// failed). Run at start.
    pub async fn recover(&self) -> Result<usize, StoreError> {
        self.recover_received_before(None).await
    }

    /// Processes the messages left `received` that came in before `before` (every
    /// one without it), in pages: a message that cannot be finished now stays
    /// behind, and the next page starts after it. Returns how many it tried.
    pub async fn recover_received_before(
        &self,
        before: Option<DateTime<Utc>>,
    ) -> Result<usize, StoreError> {
        const PAGE: u32 = 1000;
        let mut count = 0;
        let mut after: Option<String> = None;
        loop {
            let pending = self.store.pending_messages(after.as_deref(), PAGE).await?;
            let Some(last) = pending.last() else {
                return Ok(count);
            };
            after = Some(last.id.clone());
            for message in pending {
                // Ids are ordered by the clock of the instance that made them, and
                // clocks differ a little: each message's own time decides.
                if before.is_some_and(|before| message.received_at >= before) {
                    continue;
                }
                count += 1;
                let Some(buyer) = self.store.get_buyer(&message.buyer_id).await? else {
                    continue;
                };
                let id = message.id.clone();
                match self.plugin_for(&buyer) {
                    Ok(plugin) => {
                        if let Err(err) = self.process(&buyer, &plugin, message).await {
                            tracing::warn!(message_id = %id, error = %err, "recovery failed; left for replay");
                        }
                    }
                    Err(err) => tracing::warn!(message_id = %id, error = %err, "recovery skipped"),
                }
            }
        }
    }

    /// While this instance leads the scheduled work, finishes every message left
    /// `received` for longer than `after`, looking every `after / 2` (1 s to 1 min):
    /// those whose plugin host failed when they came and that no retry of the
    /// buyer's finished, so no instance's restart is needed. One that a retry is
    /// finishing meanwhile loses nothing: the store takes one outcome, and the
    /// other answers what was stored.
    pub async fn run_recovery(self: Arc<Self>, after: Duration, mut leadership: Leadership) {
        let mut ticks = tokio::time::interval(
            (after / 2).clamp(Duration::from_secs(1), Duration::from_secs(60)),
        );
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let age = chrono::Duration::from_std(after).unwrap_or(chrono::Duration::MAX);
        let mut recovering =
            crate::telemetry::RepeatedStep::new("finishing messages left unprocessed");
        loop {
            ticks.tick().await;
            leadership.held().await;
            let before = Utc::now().checked_sub_signed(age);
            match self.recover_received_before(before).await {
                Ok(count) => {
                    recovering.worked();
                    if count > 0 {
                        tracing::info!(count, "finished messages left unprocessed");
                    }
                }
                Err(error) => recovering.failed(&error),
            }
        }
    }

    async fn stored_answer(
        &self,
        buyer_id: &str,
        message_id: &str,
    ) -> Result<Outcome, IngestError> {
        self.store
            .get_message(Some(buyer_id), message_id)
            .await?
            .and_then(|m| Outcome::stored(m.status, m.response))
            .ok_or_else(|| {
                IngestError::internal(anyhow::anyhow!("message {message_id} has no stored answer"))
            })
    }

    /// Runs a stored `received` message through the plugin and stores its outcome;
    /// for one reopened by a replay, only its transactions that are not orders yet.
    async fn process(
        &self,
        buyer: &Buyer,
        plugin: &Arc<LoadedPlugin>,
        mut message: Message,
    ) -> Result<Outcome, IngestError> {
        let input = input_of(&mut message);
        let read = self.normalize(buyer, plugin, &message.id, input).await?;
        let read = remaining(&message, read)?;
        self.complete(buyer, plugin, &message.id, read).await
    }

    /// Stores what the plugin made of a `received` message and answers it.
    async fn complete(
        &self,
        buyer: &Buyer,
        plugin: &Arc<LoadedPlugin>,
        message_id: &str,
        read: Result<CheckedMessage, Problem>,
    ) -> Result<Outcome, IngestError> {
        let plugin = plugin_ref(plugin);
        let receipt = Receipt {
            buyer,
            message_id,
            plugin: &plugin,
        };
        let outcome = outcome(&receipt, read)?;
        match self
            .store
            .complete_message_by(message_id, Some(plugin), outcome)
            .await
        {
            Ok(answer) => {
                self.bell.ring();
                if let Some(listener) = self.finished.get() {
                    listener.finished(message_id);
                }
                Ok(Outcome::answering(answer))
            }
            // Someone else (a concurrent retry, or recovery) finished it first:
            // answer what they stored so both clients see the same result.
            Err(StoreError::Conflict(_)) => self.stored_answer(&buyer.id, message_id).await,
            Err(other) => Err(other.into()),
        }
    }

    async fn normalize(
        &self,
        buyer: &Buyer,
        plugin: &Arc<LoadedPlugin>,
        message_id: &str,
        input: PluginInput,
    ) -> Result<Result<CheckedMessage, Problem>, IngestError> {
        let limits = self.limits_for(buyer)?;
        let log = LogContext {
            buyer_id: buyer.id.clone(),
            plugin_name: plugin.info.name.clone(),
            plugin_version: plugin.info.version.clone(),
            message_id: message_id.to_owned(),
        };
        let config = buyer.plugin_config.to_string();
        let _slot = self.slots.acquire().await.map_err(IngestError::internal)?;
        // Most calls are short enough to run right here; see
        // `PluginHost::normalize_inline` for the few that are not.
        let result = match self
            .host
            .normalize_inline(plugin, &input, &config, &limits, log.clone())
        {
            InlineCall::Finished(result) => result,
            InlineCall::Move => {
                let host = self.host.clone();
                let call_plugin = plugin.clone();
                tokio::task::spawn_blocking(move || {
                    host.normalize(&call_plugin, input, &config, &limits, log)
                })
                .await
                .map_err(IngestError::internal)?
            }
        };
        Ok(match result {
            Ok(normalized) => self.validator.check(normalized).map_err(|violations| {
                Problem::new(
                    crate::orders::INVALID_PLUGIN_OUTPUT,
                    "The plugin's output is not a valid canonical order",
                    REFUSED_STATUS,
                    format!(
                        "plugin '{}' returned {} violation(s) of the plugin contract; first: {} {}",
                        plugin.info.name,
                        violations.len(),
                        violations[0].pointer,
                        violations[0].reason
                    ),
                )
                .with("message_id", message_id)
                .with("errors", &violations)
            }),
            // The host, not the plugin, failed: leave the message `received` for
            // recovery or a retry rather than blame the buyer's input.
            Err(err) if !err.is_plugin_fault() => return Err(IngestError::HostFailed(err)),
            Err(err) => Err(plugin_problem(plugin, message_id, &err)),
        })
    }

    /// Writes a craftsman's answer to one of `buyer`'s orders in the buyer's format
    /// with its plugin's `render-response` (`crate::response_render`), under the
    /// buyer's limits and in a pool slot, as a message is normalized.
    /// `original` is the stored message the order came in.
    pub async fn render_response(
        &self,
        buyer: &Buyer,
        plugin: &Arc<LoadedPlugin>,
        mut original: Message,
        response_json: String,
        order_json: String,
        control_numbers: ControlNumbers,
    ) -> Result<Result<RenderedDocument, NormalizeError>, IngestError> {
        let limits = self.limits_for(buyer)?;
        let log = LogContext {
            buyer_id: buyer.id.clone(),
            plugin_name: plugin.info.name.clone(),
            plugin_version: plugin.info.version.clone(),
            message_id: original.id.clone(),
        };
        let request = RenderRequest {
            response_json,
            order_json,
            original: input_of(&mut original),
            config_json: buyer.plugin_config.to_string(),
            control_numbers,
        };
        let _slot = self.slots.acquire().await.map_err(IngestError::internal)?;
        let host = self.host.clone();
        let call_plugin = plugin.clone();
        tokio::task::spawn_blocking(move || {
            host.render_response(&call_plugin, request, &limits, log)
        })
        .await
        .map_err(IngestError::internal)
    }

    /// The gateway's limits, with the fields the buyer's own limits name replaced.
    fn limits_for(&self, buyer: &Buyer) -> Result<Limits, IngestError> {
        let Some(serde_json::Value::Object(own)) = &buyer.limits else {
            return Ok(self.default_limits.clone());
        };
        // The buyer's quota is admission's, not the plugin call's.
        let (own, _) = crate::admission::split_limits(own);
        let mut merged =
            serde_json::to_value(&self.default_limits).map_err(IngestError::internal)?;
        for (key, value) in own {
            merged[key] = value;
        }
        serde_json::from_value(merged).map_err(IngestError::internal)
    }
}

/// The message to store for `inbound`, with a new id.
fn new_message(buyer: &Buyer, inbound: Inbound, body_sha256: String) -> NewMessage {
    NewMessage {
        id: new_id("msg"),
        buyer_id: buyer.id.clone(),
        received_via: inbound.received_via,
        content_type: inbound.content_type,
        headers: json!(
            inbound
                .headers
                .iter()
                .map(|(k, v)| json!([k, v]))
                .collect::<Vec<_>>()
        ),
        body: inbound.body,
        body_sha256,
        idempotency_key: inbound.idempotency_key,
    }
}

/// Who made an outcome.
fn plugin_ref(plugin: &LoadedPlugin) -> PluginRef {
    PluginRef {
        name: plugin.info.name.clone(),
        version: plugin.info.version.clone(),
    }
}

/// The outcome to store for the message of `receipt`, from what its plugin made
/// of it: one outcome per transaction, its orders stamped with their receipt and
/// given ids, or the problem to answer when nothing could be read.
fn outcome(
    receipt: &Receipt,
    read: Result<CheckedMessage, Problem>,
) -> Result<MessageOutcome, IngestError> {
    let checked = match read {
        Ok(checked) => checked,
        Err(problem) => {
            let response = StoredResponse {
                status: problem.status,
                body: serde_json::to_value(&problem).map_err(IngestError::internal)?,
            };
            return Ok(MessageOutcome::Failed {
                error: response.body.clone(),
                response,
            });
        }
    };
    let transactions = checked
        .transactions
        .into_iter()
        .map(|t| transaction(receipt, t))
        .collect();
    // The store routes the orders in the transaction that stores them and builds
    // the answer from what it stored, so the answer reports each order's status
    // exactly as stored.
    Ok(MessageOutcome::Normalized {
        transactions,
        warnings: checked.warnings.iter().map(warning_json).collect(),
        answer: answer::answer,
    })
}

/// One checked transaction as the store keeps it. An order gets its id and its
/// receipt, and the warnings the plugin gave for its transaction join its own.
fn transaction(receipt: &Receipt, t: CheckedTransaction) -> NewTransaction {
    let outcome = match t.outcome {
        Checked::Order(order) => {
            let mut order = receipt.stamp(*order, t.index, t.control_number.clone());
            order
                .warnings
                .extend(t.warnings.iter().map(|w| v2::Warning {
                    code: w.code.clone(),
                    message: w.message.clone(),
                    path: w.location.as_ref().and_then(|l| l.path.clone()),
                    field: None,
                }));
            NewTransactionOutcome::Order(Box::new(NewOrder {
                id: new_id("ord"),
                message_id: receipt.message_id.to_owned(),
                buyer_id: receipt.buyer.id.clone(),
                buyer_order_number: order.buyer_order_number.clone(),
                supplier_code: order.supplier.code.clone(),
                order,
            }))
        }
        Checked::Refused(error) => NewTransactionOutcome::Refused { error },
        Checked::NotAnOrder { kind, reason } => NewTransactionOutcome::NotAnOrder { kind, reason },
    };
    NewTransaction {
        index: t.index,
        control_number: t.control_number,
        outcome,
        warnings: t.warnings.iter().map(warning_json).collect(),
    }
}

fn warning_json(warning: &PluginWarning) -> serde_json::Value {
    serde_json::to_value(warning).expect("a warning serializes")
}

/// What is left to write of a new reading of `message`: its transactions that are
/// not stored as orders. Each stored transaction must still stand at its index with
/// its control number, or the new reading cannot be matched to it; and a message
/// with orders cannot become unreadable as a whole.
fn remaining(
    message: &Message,
    read: Result<CheckedMessage, Problem>,
) -> Result<Result<CheckedMessage, Problem>, IngestError> {
    let stored = &message.transactions;
    let mismatch = |why: String| IngestError::ReplayMismatch {
        message_id: message.id.clone(),
        why,
    };
    let mut checked = match read {
        Ok(checked) => checked,
        Err(problem) if stored.iter().any(|t| t.status == TransactionStatus::Ok) => {
            return Err(mismatch(format!(
                "the plugin now refuses the whole message ({}), which already has orders",
                problem.detail.as_deref().unwrap_or(&problem.title)
            )));
        }
        Err(problem) => return Ok(Err(problem)),
    };
    for old in stored {
        let new = checked.transactions.iter().find(|t| t.index == old.index);
        match new {
            Some(new) if new.control_number == old.control_number => {}
            Some(new) => {
                return Err(mismatch(format!(
                    "transaction {} had control number {}, and now has {}",
                    old.index,
                    shown(&old.control_number),
                    shown(&new.control_number)
                )));
            }
            None if old.status == TransactionStatus::Ok => {}
            None => {
                return Err(mismatch(format!(
                    "transaction {} ({}) is no longer read",
                    old.index,
                    shown(&old.control_number)
                )));
            }
        }
    }
    checked.transactions.retain(|t| !is_order(stored, t.index));
    Ok(Ok(checked))
}

fn is_order(stored: &[TransactionRecord], index: u32) -> bool {
    stored
        .iter()
        .any(|t| t.index == index && t.status == TransactionStatus::Ok)
}

fn shown(control_number: &Option<String>) -> &str {
    control_number.as_deref().unwrap_or("none")
}

/// The plugin's input for a stored message, whose body moves into it (the rest
/// of the message is still read after the plugin ran, the body is not).
fn input_of(message: &mut Message) -> PluginInput {
    // An e-mail's parts are made again from the raw message, as they were the
    // first time.
    let email = email::parts_for(&message.content_type, &message.body);
    PluginInput {
        content_type: message.content_type.clone(),
        headers: headers_of(message),
        body: std::mem::take(&mut message.body),
        email,
    }
}

fn headers_of(message: &Message) -> Vec<(String, String)> {
    serde_json::from_value(message.headers.clone()).unwrap_or_default()
}

/// The 422 for a plugin that failed: its own error, or the sandbox's reason.
fn plugin_problem(plugin: &Arc<LoadedPlugin>, message_id: &str, err: &NormalizeError) -> Problem {
    let title = match err {
        NormalizeError::Rejected { .. } => "The buyer's plugin rejected the message",
        _ => "The buyer's plugin failed",
    };
    let mut problem = Problem::new(
        err.code(),
        title,
        REFUSED_STATUS,
        format!(
            "plugin '{}' {}: {err}",
            plugin.info.name, plugin.info.version
        ),
    )
    .with("message_id", message_id)
    .with(
        "plugin",
        json!({"name": plugin.info.name, "version": plugin.info.version}),
    );
    if let NormalizeError::Rejected {
        code,
        message,
        location,
    } = err
    {
        problem = problem.with(
            "plugin_error",
            json!({"code": code, "message": message, "location": location}),
        );
    }
    problem
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::RoutedOrder;

    fn stored(index: u32, control_number: &str, status: TransactionStatus) -> TransactionRecord {
        TransactionRecord {
            index,
            control_number: Some(control_number.to_owned()),
            status,
            order: (status == TransactionStatus::Ok).then(|| RoutedOrder {
                id: format!("ord_{index}"),
                buyer_order_number: format!("PO-{index}"),
                status: crate::store::OrderStatus::Unrouted,
            }),
            error: (status == TransactionStatus::Refused).then(|| json!({"code": "x"})),
            kind: None,
            reason: None,
            warnings: Vec::new(),
        }
    }

    fn message(transactions: Vec<TransactionRecord>) -> Message {
        Message {
            id: "msg_1".into(),
            buyer_id: "byr_a".into(),
            received_via: ReceivedVia::Http,
            content_type: "application/edi-x12".into(),
            headers: json!([]),
            body: Vec::new(),
            body_sha256: String::new(),
            idempotency_key: None,
            status: MessageStatus::Received,
            error: None,
            response: None,
            attempts: 1,
            processed_by: None,
            order_ids: Vec::new(),
            warnings: Vec::new(),
            body_purged_at: None,
            transactions,
            received_at: chrono::Utc::now(),
            processed_at: None,
        }
    }

    fn read(transactions: &[(u32, &str)]) -> Result<CheckedMessage, Problem> {
        Ok(CheckedMessage {
            transactions: transactions
                .iter()
                .map(|&(index, control_number)| CheckedTransaction {
                    index,
                    control_number: Some(control_number.into()),
                    outcome: Checked::NotAnOrder {
                        kind: "810".into(),
                        reason: None,
                    },
                    warnings: Vec::new(),
                })
                .collect(),
            warnings: Vec::new(),
        })
    }

    fn indexes(left: Result<CheckedMessage, Problem>) -> Vec<u32> {
        left.unwrap().transactions.iter().map(|t| t.index).collect()
    }

    #[test]
    fn a_replay_writes_only_what_is_not_an_order_yet() {
        let before = message(vec![
            stored(0, "0001", TransactionStatus::Ok),
            stored(1, "0002", TransactionStatus::Refused),
            stored(2, "0003", TransactionStatus::NotAnOrder),
        ]);
        let left = remaining(&before, read(&[(0, "0001"), (1, "0002"), (2, "0003")])).unwrap();
        assert_eq!(indexes(left), [1, 2]);
        // A transaction the plugin now finds beyond the stored ones is new: kept.
        let left = remaining(&before, read(&[(1, "0002"), (2, "0003"), (3, "0004")])).unwrap();
        assert_eq!(indexes(left), [1, 2, 3]);
    }

    #[test]
    fn a_replay_that_cannot_be_matched_changes_nothing() {
        let before = message(vec![
            stored(0, "0001", TransactionStatus::Ok),
            stored(1, "0002", TransactionStatus::Refused),
        ]);
        // Another control number at a stored index: which outcome is whose?
        let err = remaining(&before, read(&[(0, "0001"), (1, "0009")])).unwrap_err();
        assert!(
            matches!(&err, IngestError::ReplayMismatch { why, .. } if why.contains("0009")),
            "{err}"
        );
        // A refused transaction no longer read.
        let err = remaining(&before, read(&[(0, "0001")])).unwrap_err();
        assert!(matches!(err, IngestError::ReplayMismatch { .. }), "{err}");
        // A message with orders cannot become unreadable as a whole.
        let refused = Problem::new("plugin-rejected", "no", 422u16, "broken envelope");
        let err = remaining(&before, Err(refused.clone())).unwrap_err();
        assert!(err.to_string().contains("broken envelope"), "{err}");
        // Without orders, it simply fails again.
        let failed = message(vec![stored(0, "0001", TransactionStatus::Refused)]);
        assert!(remaining(&failed, Err(refused)).unwrap().is_err());
    }

    /// A message the plugin host could not run is stored `received` (its buyer
    /// was answered 503); recovery finishes those received before its cutoff
    /// and leaves younger ones, which a buyer's retry may still be finishing.
    #[tokio::test]
    async fn recovery_finishes_the_messages_left_received_before_its_cutoff() {
        let dir = tempfile::tempdir().unwrap();
        let state = crate::build_state(crate::config::Config {
            data_dir: dir.path().to_owned(),
            ..Default::default()
        })
        .await
        .unwrap();
        let store = &state.store;
        let buyer = store
            .create_buyer(crate::store::NewBuyer {
                id: "byr_recovery".into(),
                name: "Recovery".into(),
                plugin: "canonical-json".into(),
                plugin_version: None,
                plugin_config: json!({}),
                api_key_hash: "0".repeat(64),
                limits: None,
            })
            .await
            .unwrap();
        let body = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../tests/fixtures/canonical-every-field.json"
        ))
        .unwrap();
        let left_received = |key: &str| {
            let inbound = Inbound {
                received_via: ReceivedVia::Http,
                content_type: "application/json".into(),
                headers: Vec::new(),
                body: body.clone(),
                idempotency_key: Some(key.into()),
                email: None,
            };
            new_message(&buyer, inbound, crate::secrets::hash_bytes(&body))
        };
        let status = |id: String| async move {
            let message = store.get_message(None, &id).await.unwrap().unwrap();
            (message.status, message.order_ids.len())
        };
        let old = left_received("old");
        let old_id = old.id.clone();
        store.record_message(old, None).await.unwrap();
        tokio::time::sleep(Duration::from_millis(20)).await;
        let cutoff = Utc::now();
        tokio::time::sleep(Duration::from_millis(20)).await;
        let young = left_received("young");
        let young_id = young.id.clone();
        store.record_message(young, None).await.unwrap();

        assert_eq!(
            state
                .ingest
                .recover_received_before(Some(cutoff))
                .await
                .unwrap(),
            1
        );
        assert_eq!(status(old_id.clone()).await, (MessageStatus::Normalized, 1));
        assert_eq!(status(young_id.clone()).await, (MessageStatus::Received, 0));
        // Finished, it is not taken again; recovery at start takes the rest.
        assert_eq!(state.ingest.recover().await.unwrap(), 1);
        assert_eq!(status(young_id).await, (MessageStatus::Normalized, 1));
        assert_eq!(status(old_id).await, (MessageStatus::Normalized, 1));
    }
}
