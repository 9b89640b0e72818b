//! Ingest: one inbound message from a buyer, through the buyer's plugin, to stored
//! canonical orders.
//!
//! The order of steps is the durability contract: the message is normalized in
//! memory, then the raw message, its outcome (orders, or the error), the orders'
//! routes and their deliveries are stored in one transaction, and only then answered.
//! A crash before that commit loses only a message that was never acknowledged; one
//! commit per message is what lets a busy gateway share fsyncs among many posts. A
//! message the plugin host could not run (its own fault, not the buyer's) is still
//! stored, `received`, so [`Ingest::recover`] (run at start), a retry with the same
//! `Idempotency-Key` or an admin's replay processes it again.
//!
//! Ingest knows nothing of HTTP, so the HTTP API and the e-mail intake share it: it
//! answers an [`Outcome`] (the message's answer as stored) or an [`IngestError`],
//! and each caller shows them its own way (`api` as `application/problem+json`).

use std::sync::Arc;

use jembatan_schemas::PurchaseOrderV2;
use serde::Serialize;
use serde_json::json;
use tokio::sync::Semaphore;
use utoipa::ToSchema;

use crate::delivery::Bell;
use crate::error::Problem;
use crate::orders::{OrderValidator, Receipt};
use crate::plugin_host::{
    Limits, LoadedPlugin, LogContext, NormalizeError, PluginHost, PluginInput, PluginRegistry,
};
use crate::secrets::new_id;
use crate::store::{
    Buyer, Message, MessageOutcome, MessageStatus, NewMessage, NewOrder, OrderStatus, PluginRef,
    ReceivedVia, RecordedMessage, RoutedOrder, Store, StoreError, StoredResponse,
};

/// A message as it arrived, before anything is stored.
pub struct Inbound {
    pub received_via: ReceivedVia,
    /// Media type without parameters, lower case.
    pub content_type: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub idempotency_key: Option<String>,
}

/// The 201 answer to an accepted message.
#[derive(Debug, Serialize, ToSchema)]
pub struct Accepted {
    pub message_id: String,
    pub orders: Vec<AcceptedOrder>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AcceptedOrder {
    pub id: String,
    pub buyer_order_number: String,
    /// The order's status as stored: `unrouted` while no route names its craftsman;
    /// routed, `received` while a delivery is pending, `delivered` when the craftsman
    /// has only the inbox, `failed` when every channel of theirs is disabled.
    #[schema(value_type = String, example = "received")]
    pub status: OrderStatus,
}

/// The status of an accepted message's answer: 201 Created.
const ACCEPTED_STATUS: u16 = 201;

/// The status of a refused message's answer: 422 Unprocessable Content.
const REFUSED_STATUS: u16 = 422;

/// What became of a message, with its answer as stored: the status and JSON body
/// every idempotent retry of the message is answered with, unchanged.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// The plugin made orders of it and they are stored; the answer is the 201
    /// [`Accepted`].
    Accepted(StoredResponse),
    /// The plugin rejected the message or failed on it, or its output is not a
    /// valid canonical order; the answer is the 422 problem, with `message_id`.
    Refused(StoredResponse),
}

impl Outcome {
    /// How a message stored with `outcome` is answered.
    fn answering(outcome: &MessageOutcome) -> fn(StoredResponse) -> Self {
        match outcome {
            MessageOutcome::Normalized { .. } => Self::Accepted,
            MessageOutcome::Failed { .. } => Self::Refused,
        }
    }

    /// The outcome of a message in `status` with its stored answer, if it has one.
    fn stored(status: MessageStatus, response: Option<StoredResponse>) -> Option<Self> {
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
    /// Only a failed message can be replayed.
    #[error("message {message_id} is {}; only a failed message can be replayed", .status.as_str())]
    NotReplayable {
        message_id: String,
        status: MessageStatus,
    },
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

    /// Replays a failed message through its buyer's current plugin binding. The
    /// store refuses any message that has not failed
    /// ([`IngestError::NotReplayable`]), so orders are never made twice.
    pub async fn replay(&self, message_id: &str) -> Result<Outcome, IngestError> {
        let message = self
            .store
            .get_message(None, message_id)
            .await?
            .ok_or_else(|| IngestError::NoMessage(message_id.to_owned()))?;
        let buyer = self
            .store
            .get_buyer(&message.buyer_id)
            .await?
            .ok_or_else(|| IngestError::NoBuyer(message.buyer_id.clone()))?;
        let plugin = self.plugin_for(&buyer)?;
        let note =
            json!({"replay_with": {"name": plugin.info.name, "version": plugin.info.version}});
        let message = match self.store.reopen_message(message_id, Some(note)).await {
            Ok(message) => message,
            Err(StoreError::Conflict(_)) => {
                return Err(IngestError::NotReplayable {
                    message_id: message_id.to_owned(),
                    status: message.status,
                });
            }
            Err(other) => return Err(other.into()),
        };
        tracing::info!(message_id, buyer_id = %buyer.id, plugin = %plugin.info.name, version = %plugin.info.version, "replaying");
        self.process(&buyer, &plugin, message).await
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
            email: None,
        };
        let new = NewMessage {
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
            body_sha256: body_sha256.clone(),
            idempotency_key: inbound.idempotency_key,
        };
        let (processed, unavailable) = match self.normalize(buyer, plugin, &new.id, input).await {
            Ok(normalized) => {
                let plugin = plugin_ref(plugin);
                let receipt = Receipt {
                    buyer,
                    message_id: &new.id,
                    plugin: &plugin,
                };
                let outcome = outcome(&receipt, normalized)?;
                (Some((Some(plugin), outcome)), None)
            }
            Err(unavailable) => (None, Some(unavailable)),
        };
        // Taken before `processed` moves into the store, which answers only the
        // stored response.
        let answering = processed
            .as_ref()
            .map(|(_, outcome)| Outcome::answering(outcome));
        match (self.store.record_message(new, processed).await?, answering) {
            (RecordedMessage::Stored(Some(answer)), Some(answering)) => {
                self.bell.ring();
                Ok(answering(answer))
            }
            (RecordedMessage::Stored(_), _) => Err(unavailable
                .unwrap_or_else(|| IngestError::internal(anyhow::anyhow!("stored unprocessed")))),
            (RecordedMessage::Existing(existing), _) => {
                self.replay_idempotent(buyer, plugin, *existing, &body_sha256)
                    .await
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

    /// Processes every message left `received` by a crash. Run once at start.
    pub async fn recover(&self) -> Result<usize, StoreError> {
        let pending = self.store.pending_messages(1000).await?;
        let count = pending.len();
        for message in pending {
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
        Ok(count)
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

    /// Runs a stored message through the plugin and stores its outcome.
    async fn process(
        &self,
        buyer: &Buyer,
        plugin: &Arc<LoadedPlugin>,
        message: Message,
    ) -> Result<Outcome, IngestError> {
        let input = PluginInput {
            content_type: message.content_type.clone(),
            headers: headers_of(&message),
            body: message.body,
            email: None,
        };
        let message_id = message.id;
        let normalized = self.normalize(buyer, plugin, &message_id, input).await?;
        let plugin = plugin_ref(plugin);
        let receipt = Receipt {
            buyer,
            message_id: &message_id,
            plugin: &plugin,
        };
        let outcome = outcome(&receipt, normalized)?;
        let answering = Outcome::answering(&outcome);
        match self
            .store
            .complete_message_by(&message_id, Some(plugin), outcome)
            .await
        {
            Ok(answer) => {
                self.bell.ring();
                Ok(answering(answer))
            }
            // Someone else (a concurrent retry, or recovery) finished it first:
            // answer what they stored so both clients see the same result.
            Err(StoreError::Conflict(_)) => self.stored_answer(&buyer.id, &message_id).await,
            Err(other) => Err(other.into()),
        }
    }

    async fn normalize(
        &self,
        buyer: &Buyer,
        plugin: &Arc<LoadedPlugin>,
        message_id: &str,
        input: PluginInput,
    ) -> Result<Result<Vec<PurchaseOrderV2>, Problem>, IngestError> {
        let limits = self.limits_for(buyer)?;
        let log = LogContext {
            buyer_id: buyer.id.clone(),
            plugin_name: plugin.info.name.clone(),
            plugin_version: plugin.info.version.clone(),
            message_id: message_id.to_owned(),
        };
        let config = buyer.plugin_config.to_string();
        let _slot = self.slots.acquire().await.map_err(IngestError::internal)?;
        let host = self.host.clone();
        let call_plugin = plugin.clone();
        let result = tokio::task::spawn_blocking(move || {
            host.normalize(&call_plugin, input, &config, &limits, log)
        })
        .await
        .map_err(IngestError::internal)?;
        Ok(match result {
            Ok(outputs) => self.validator.validate(&outputs).map_err(|violations| {
                Problem::new(
                    "invalid-plugin-output",
                    "The plugin's output is not a valid canonical order",
                    REFUSED_STATUS,
                    format!(
                        "plugin '{}' returned {} violation(s) of the canonical order schema; first: {} {}",
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

    /// The gateway's limits, with the fields the buyer's own limits name replaced.
    fn limits_for(&self, buyer: &Buyer) -> Result<Limits, IngestError> {
        let Some(serde_json::Value::Object(own)) = &buyer.limits else {
            return Ok(self.default_limits.clone());
        };
        let mut merged =
            serde_json::to_value(&self.default_limits).map_err(IngestError::internal)?;
        for (key, value) in own {
            merged[key] = value.clone();
        }
        serde_json::from_value(merged).map_err(IngestError::internal)
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
/// of it: orders, or the problem to answer.
fn outcome(
    receipt: &Receipt,
    normalized: Result<Vec<PurchaseOrderV2>, Problem>,
) -> Result<MessageOutcome, IngestError> {
    Ok(match normalized {
        Ok(orders) => accepted(receipt, orders),
        Err(problem) => {
            let response = StoredResponse {
                status: problem.status,
                body: serde_json::to_value(&problem).map_err(IngestError::internal)?,
            };
            MessageOutcome::Failed {
                error: response.body.clone(),
                response,
            }
        }
    })
}

/// The outcome of a message whose plugin made `orders`: the orders as the gateway
/// stores them, with their new ids, and [`accepted_answer`] for the store to build
/// the 201 from them as routed.
fn accepted(receipt: &Receipt, orders: Vec<PurchaseOrderV2>) -> MessageOutcome {
    let orders = orders
        .into_iter()
        .zip(0u32..)
        .map(|(order, index)| {
            let order = receipt.stamp(order, index);
            NewOrder {
                id: new_id("ord"),
                message_id: receipt.message_id.to_owned(),
                buyer_id: receipt.buyer.id.clone(),
                buyer_order_number: order.buyer_order_number.clone(),
                supplier_code: order.supplier.code.clone(),
                order,
            }
        })
        .collect();
    // The store routes the orders in the transaction that stores them and builds
    // the answer from what it stored, so the 201 reports each order's status
    // exactly as stored.
    MessageOutcome::Normalized {
        orders,
        answer: accepted_answer,
    }
}

/// The 201 for a normalized message, from its orders as the store routed them.
fn accepted_answer(message_id: &str, orders: &[RoutedOrder]) -> StoredResponse {
    let accepted = Accepted {
        message_id: message_id.to_owned(),
        orders: orders
            .iter()
            .map(|order| AcceptedOrder {
                id: order.id.clone(),
                buyer_order_number: order.buyer_order_number.clone(),
                status: order.status,
            })
            .collect(),
    };
    StoredResponse {
        status: ACCEPTED_STATUS,
        body: serde_json::to_value(&accepted).expect("serializable"),
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
