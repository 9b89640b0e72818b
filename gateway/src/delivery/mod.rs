//! Getting every routed order to its craftsman: the outbox, the workers that drain it,
//! and the channels they send on.
//!
//! An order is routed when it is stored (or when an admin adds the route it lacked):
//! one delivery row per (order, channel) is written in the same transaction. Workers
//! claim due rows, send, record the attempt and either finish the delivery or
//! schedule the next try (`schedule`); after the last it is dead until an admin
//! retries it. Delivery is at least once: the delivery id is stable across attempts
//! so receivers can drop duplicates.

pub mod alerts;
pub mod channels;
pub mod render;
pub mod schedule;
pub mod targets;
pub mod whatsapp_status;
pub mod worker;

pub use channels::email::{AutoSubmitted, ReplyMail};
use channels::email::{EmailChannel, EmailConfig, EmailTarget};
use channels::telegram::{TelegramChannel, TelegramConfig, TelegramTarget};
use channels::webhook::{WebhookChannel, WebhookConfig, WebhookTarget};
use channels::whatsapp::{WhatsAppChannel, WhatsAppConfig, WhatsAppTarget};
use channels::{Channel, ChannelConfigError};
use channels::{ChannelTarget, Failure, MAX_RETRY_HINT, Outgoing, SendError, Sent};
use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use serde::Deserialize;

use crate::orders::OrderSchema;
use crate::store::WhatsAppContact;

pub use alerts::{Alerts, AlertsConfig};
pub use schedule::RetrySchedule;
pub use worker::{Bell, Worker};

/// Writes a craftsman's response in its buyer's own format, for the
/// `order.response` event that carries it; implemented above delivery
/// (`crate::response_render`), which runs the buyer's plugin.
#[async_trait::async_trait]
pub trait ResponseRenderer: Send + Sync {
    /// What the buyer's plugin made of `response` (the same on every call once
    /// made), or `None` when it renders nothing.
    async fn rendered(
        &self,
        response: &jembatan_schemas::OrderResponse,
        order: &crate::store::OrderRecord,
    ) -> Option<channels::RenderOutcome>;
}

/// How the gateway delivers: the `[delivery]` section of the config.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DeliveryConfig {
    /// The waits between attempts of a failed delivery, e.g. `["5s", "5m", "30m"]`;
    /// after the last the delivery is dead (`JEMBATAN_DELIVERY_RETRY_SCHEDULE`,
    /// comma-separated). The default spans about a day and a half.
    pub retry_schedule: RetrySchedule,
    /// Deliveries sent at once (`JEMBATAN_DELIVERY_CONCURRENCY`).
    pub concurrency: u32,
    /// How long a worker's claim holds a delivery (`JEMBATAN_DELIVERY_LEASE`, e.g.
    /// `"5m"`, the default): when gateways share a database, a delivery claimed
    /// by one that died is sent by another once this runs out. At least twice the
    /// longest send deadline (`[delivery.deadlines]`), as a claimed delivery may
    /// wait for a slot while one send finishes, then be sent.
    #[serde(with = "humantime_serde")]
    pub lease: Duration,
    /// Webhooks; always on.
    pub webhook: WebhookConfig,
    /// The SMTP server e-mail goes through; without it no craftsman can choose e-mail.
    pub email: Option<EmailConfig>,
    /// The WhatsApp Cloud API business number; without it no craftsman can choose WhatsApp.
    pub whatsapp: Option<WhatsAppConfig>,
    /// The Telegram bot; without it no craftsman can choose Telegram.
    pub telegram: Option<TelegramConfig>,
    /// How long one whole send may take on each channel (`[delivery.deadlines]`).
    pub deadlines: SendDeadlines,
    /// How long a channel whose credentials were refused (an expired WhatsApp
    /// token, a revoked Telegram bot token) pauses before it tries them again, e.g.
    /// `"1m"`. Its deliveries wait, without spending their retry schedule.
    #[serde(with = "humantime_serde")]
    pub credential_pause: Duration,
    /// Where the admin hears that a channel paused for its credentials, and that it
    /// resumed (`[delivery.alerts]`).
    pub alerts: AlertsConfig,
}

impl Default for DeliveryConfig {
    fn default() -> Self {
        Self {
            retry_schedule: RetrySchedule::default(),
            concurrency: 32,
            lease: Duration::from_secs(300),
            webhook: WebhookConfig::default(),
            email: None,
            whatsapp: None,
            telegram: None,
            deadlines: SendDeadlines::default(),
            credential_pause: Duration::from_secs(60),
            alerts: AlertsConfig::default(),
        }
    }
}

/// How long one whole send may take on each channel, every request, upload and
/// SMTP command of it together (`[delivery.deadlines]`, e.g. `email = "2m"`). A
/// channel's own `timeout` bounds one request; this bounds the send, which may be
/// several (a WhatsApp text, its uploads and documents), or a conversation the
/// request timeout does not cover: lettre's async SMTP `timeout` bounds only the
/// TCP connect, "while everything else is left unchecked" (lettre issue #1027,
/// docs/services.md S1), so a server that stalls mid-conversation would hold the
/// delivery's slot for ever. A send that hits its deadline is retried on the
/// schedule. At most [`MAX_SEND_DEADLINE`], so a send ends well within its claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SendDeadlines {
    #[serde(with = "humantime_serde")]
    pub webhook: Duration,
    /// Below RFC 5321's 10 minutes for the reply to the message's final dot: a slow
    /// but valid relay cut off after it took the message gets it again on the
    /// retry, which at-least-once delivery allows (docs/services.md S3).
    #[serde(with = "humantime_serde")]
    pub email: Duration,
    #[serde(with = "humantime_serde")]
    pub whatsapp: Duration,
    #[serde(with = "humantime_serde")]
    pub telegram: Duration,
}

impl Default for SendDeadlines {
    fn default() -> Self {
        Self {
            webhook: Duration::from_secs(60),
            email: Duration::from_secs(120),
            whatsapp: Duration::from_secs(120),
            telegram: Duration::from_secs(120),
        }
    }
}

/// The longest a send's deadline may be: half the worker's default claim on a
/// delivery, which a claimed delivery may spend waiting for a slot before it is
/// sent.
pub const MAX_SEND_DEADLINE: Duration = Duration::from_secs(150);

impl SendDeadlines {
    fn of(&self, kind: &str) -> Duration {
        match kind {
            "email" => self.email,
            "whatsapp" => self.whatsapp,
            "telegram" => self.telegram,
            _ => self.webhook,
        }
    }

    fn longest(&self) -> Duration {
        [self.webhook, self.email, self.whatsapp, self.telegram]
            .into_iter()
            .max()
            .unwrap_or_default()
    }

    fn check(&self) -> Result<(), ChannelConfigError> {
        for (kind, deadline) in [
            ("webhook", self.webhook),
            ("email", self.email),
            ("whatsapp", self.whatsapp),
            ("telegram", self.telegram),
        ] {
            if deadline.is_zero() || deadline > MAX_SEND_DEADLINE {
                return Err(ChannelConfigError::new(
                    kind,
                    format!(
                        "[delivery.deadlines] {kind} is {}; it must be above zero and at most {}",
                        humantime::format_duration(deadline),
                        humantime::format_duration(MAX_SEND_DEADLINE)
                    ),
                ));
            }
        }
        Ok(())
    }
}

/// A channel paused for every delivery: its credentials were refused, or the
/// service limits it as a whole.
struct Pause {
    until: Instant,
    failure: Failure,
    reason: String,
}

/// How long a channel limited as a whole pauses when the service names no wait
/// (Graph's rate-limit codes carry none).
const THROTTLE_PAUSE: Duration = Duration::from_secs(10);

/// Every channel the gateway is configured for, ready to send.
pub struct Channels {
    webhook: WebhookChannel,
    email: Option<EmailChannel>,
    whatsapp: Option<WhatsAppChannel>,
    telegram: Option<TelegramChannel>,
    deadlines: SendDeadlines,
    credential_pause: Duration,
    /// The paused channels: until when, why, and the failure that paused them.
    paused: Mutex<HashMap<&'static str, Pause>>,
}

impl Channels {
    pub fn new(config: &DeliveryConfig) -> Result<Self, ChannelConfigError> {
        config.deadlines.check()?;
        if config.credential_pause.is_zero() || config.credential_pause > MAX_RETRY_HINT {
            return Err(ChannelConfigError::new(
                "delivery",
                format!(
                    "credential_pause is {}; it must be above zero and at most {}",
                    humantime::format_duration(config.credential_pause),
                    humantime::format_duration(MAX_RETRY_HINT)
                ),
            ));
        }
        let shortest_lease = config.deadlines.longest() * 2;
        if config.lease < shortest_lease {
            return Err(ChannelConfigError::new(
                "delivery",
                format!(
                    "lease is {}; it must be at least twice the longest send deadline, {}",
                    humantime::format_duration(config.lease),
                    humantime::format_duration(shortest_lease)
                ),
            ));
        }
        Ok(Self {
            deadlines: config.deadlines,
            credential_pause: config.credential_pause,
            paused: Mutex::new(HashMap::new()),
            webhook: WebhookChannel::new(&config.webhook)?,
            email: config.email.as_ref().map(EmailChannel::new).transpose()?,
            whatsapp: config
                .whatsapp
                .as_ref()
                .map(WhatsAppChannel::new)
                .transpose()?,
            telegram: config
                .telegram
                .as_ref()
                .map(TelegramChannel::new)
                .transpose()?,
        })
    }

    /// Why a craftsman cannot have this target on this gateway, if they cannot: its
    /// channel is not configured, or its address is refused.
    pub fn refuse(&self, target: &ChannelTarget) -> Option<String> {
        let missing = |section: &str| {
            Some(format!(
                "this gateway has no {} channel: the operator must configure [delivery.{section}]",
                target.kind()
            ))
        };
        match target {
            ChannelTarget::Webhook { url, secret, .. } => {
                if let Err(e) = self.webhook.check_url(url) {
                    return Some(e.to_string());
                }
                secret
                    .as_deref()
                    .and_then(|s| channels::webhook::check_secret(s).err())
            }
            ChannelTarget::Email { to } => match &self.email {
                None => missing("email"),
                Some(_) => to
                    .parse::<lettre::Address>()
                    .err()
                    .map(|e| format!("'{to}' is not an e-mail address: {e}")),
            },
            ChannelTarget::Whatsapp { .. } if self.whatsapp.is_none() => missing("whatsapp"),
            ChannelTarget::Whatsapp { to } => channels::whatsapp::normalize_number(to).err(),
            ChannelTarget::Telegram { .. } if self.telegram.is_none() => missing("telegram"),
            ChannelTarget::Telegram { .. } => None,
        }
    }

    /// A target as it is stored: a WhatsApp number in the form the Cloud API
    /// takes (digits with country code). Call after [`Channels::refuse`] passed.
    pub fn normalize(&self, target: &mut ChannelTarget) {
        if let ChannelTarget::Whatsapp { to } = target
            && let Ok(number) = channels::whatsapp::normalize_number(to)
        {
            *to = number;
        }
    }

    /// Writes `text` to a chat outside any delivery (a chat answer's confirmation,
    /// the question for a rejection's reason), under the channel's deadline.
    pub async fn chat_text(
        &self,
        kind: crate::model::ChatKind,
        chat_id: &str,
        text: &str,
    ) -> Result<(), SendError> {
        let missing =
            |name: &str| SendError::permanent(None, format!("this gateway has no {name} channel"));
        let (deadline, send) = match kind {
            crate::model::ChatKind::Telegram => {
                let telegram = self.telegram.as_ref().ok_or_else(|| missing("telegram"))?;
                (
                    self.deadlines.of("telegram"),
                    futures_boxed(telegram.send_text(chat_id, text)),
                )
            }
            crate::model::ChatKind::WhatsApp => {
                let whatsapp = self.whatsapp.as_ref().ok_or_else(|| missing("whatsapp"))?;
                (
                    self.deadlines.of("whatsapp"),
                    futures_boxed(whatsapp.send_text(chat_id, text)),
                )
            }
        };
        tokio::time::timeout(deadline, send)
            .await
            .map_err(|_| SendError::retry(None, "the chat did not answer in time"))?
    }

    /// Answers a Telegram callback query (the spinner on the tapped button stops,
    /// and `text` shows), under the Telegram deadline.
    pub async fn answer_callback(&self, query_id: &str, text: &str) -> Result<(), SendError> {
        let telegram = self
            .telegram
            .as_ref()
            .ok_or_else(|| SendError::permanent(None, "this gateway has no telegram channel"))?;
        tokio::time::timeout(
            self.deadlines.of("telegram"),
            telegram.answer_callback_query(query_id, text),
        )
        .await
        .map_err(|_| SendError::retry(None, "Telegram did not answer in time"))?
    }

    /// Sends one order to one target on its channel.
    /// `whatsapp` is what the store knows of a WhatsApp target's number. The whole
    /// send runs under its channel's deadline ([`SendDeadlines`]).
    pub async fn send(
        &self,
        target: &ChannelTarget,
        whatsapp: Option<&WhatsAppContact>,
        out: &Outgoing<'_>,
    ) -> Result<Sent, SendError> {
        let kind = target.kind();
        if let Some(paused) = self.paused(kind) {
            return Err(paused);
        }
        let deadline = self.deadlines.of(kind);
        match tokio::time::timeout(deadline, self.send_unbounded(target, whatsapp, out)).await {
            Ok(mut result) => {
                self.follow_pauses(kind, &mut result);
                result
            }
            Err(_elapsed) => {
                if let (ChannelTarget::Email { .. }, Some(email)) = (target, &self.email) {
                    email.discard_connections();
                }
                Err(SendError::retry(
                    None,
                    format!(
                        "the {kind} send did not finish within its deadline of {} \
                         ([delivery.deadlines] {kind}); it was cut off and will be retried",
                        humantime::format_duration(deadline)
                    ),
                ))
            }
        }
    }

    /// Sends the reply to an e-mailed order through `[delivery.email]`, under the
    /// e-mail deadline, like an order's send.
    pub async fn send_reply(&self, reply: &ReplyMail) -> Result<Sent, SendError> {
        let Some(email) = &self.email else {
            return Err(SendError::permanent(
                None,
                "this gateway has no email channel ([delivery.email]) to reply through",
            ));
        };
        let deadline = self.deadlines.email;
        match tokio::time::timeout(deadline, email.send_reply(reply)).await {
            Ok(result) => result,
            Err(_elapsed) => {
                email.discard_connections();
                Err(SendError::permanent(
                    None,
                    format!(
                        "the reply did not finish within {} ([delivery.deadlines] email)",
                        humantime::format_duration(deadline)
                    ),
                ))
            }
        }
    }

    /// The refusal of a send on a paused channel, while it is paused: the pause's
    /// failure, and the time left as the wait.
    fn paused(&self, kind: &str) -> Option<SendError> {
        let paused = self.paused.lock().unwrap_or_else(PoisonError::into_inner);
        let pause = paused.get(kind)?;
        let left = pause.until.checked_duration_since(Instant::now())?;
        Some(
            SendError::new(
                pause.failure,
                None,
                format!("the {kind} channel is paused: {}", pause.reason),
            )
            .with_retry_after(Some(left)),
        )
    }

    /// Pauses a channel for every delivery when its credentials were refused (for
    /// [`DeliveryConfig::credential_pause`]) or the service limits it as a whole
    /// (for as long as it asked, [`THROTTLE_PAUSE`] when it did not say), so its
    /// other deliveries do not all try the same bad token or push the same limit;
    /// the pause is the failure's wait. A send that goes through ends a pause.
    fn follow_pauses(&self, kind: &'static str, result: &mut Result<Sent, SendError>) {
        let mut paused = self.paused.lock().unwrap_or_else(PoisonError::into_inner);
        match result {
            Err(error) if matches!(error.failure, Failure::Credentials | Failure::Throttled) => {
                let wait = if error.failure == Failure::Credentials {
                    tracing::error!(channel = kind, error = %error.error,
                        pause = %humantime::format_duration(self.credential_pause),
                        "the channel's credentials were refused; the channel is paused and its deliveries wait: fix the token");
                    self.credential_pause
                } else {
                    let wait = error
                        .retry_after
                        .unwrap_or(THROTTLE_PAUSE)
                        .min(MAX_RETRY_HINT);
                    tracing::warn!(channel = kind, error = %error.error,
                        pause = %humantime::format_duration(wait),
                        "the service limits the channel; it is paused");
                    wait
                };
                error.retry_after = Some(wait);
                paused.insert(
                    kind,
                    Pause {
                        until: Instant::now() + wait,
                        failure: error.failure,
                        reason: error.error.clone(),
                    },
                );
            }
            Ok(_) if paused.remove(kind).is_some() => {
                tracing::info!(channel = kind, "the channel works again; resumed");
            }
            _ => {}
        }
    }

    async fn send_unbounded(
        &self,
        target: &ChannelTarget,
        whatsapp: Option<&WhatsAppContact>,
        out: &Outgoing<'_>,
    ) -> Result<Sent, SendError> {
        // A channel configured when the craftsman chose it may be gone after a
        // restart with another config: retried, so a corrected config still delivers.
        let unconfigured = || {
            SendError::retry(
                None,
                format!("the {} channel is not configured", target.kind()),
            )
        };
        // A response goes back to its buyer's callback, which is a webhook; any other
        // channel would send the order instead.
        if out.response.is_some() && !matches!(target, ChannelTarget::Webhook { .. }) {
            return Err(SendError::permanent(
                None,
                format!("a response cannot go to a {} channel", target.kind()),
            ));
        }
        match target {
            ChannelTarget::Webhook {
                url,
                secret,
                order_schema,
            } => {
                let target = WebhookTarget {
                    url: url.clone(),
                    secret: secret.clone().unwrap_or_default(),
                    order_schema: order_schema.unwrap_or(OrderSchema::V1),
                };
                self.webhook.send(&target, out).await
            }
            ChannelTarget::Email { to } => {
                let channel = self.email.as_ref().ok_or_else(unconfigured)?;
                channel.send(&EmailTarget { to: to.clone() }, out).await
            }
            ChannelTarget::Whatsapp { to } => {
                let channel = self.whatsapp.as_ref().ok_or_else(unconfigured)?;
                // A number stored before numbers were normalized is normalized now;
                // one that cannot be is refused for good.
                let to = channels::whatsapp::normalize_number(to)
                    .map_err(|why| SendError::permanent(None, why))?;
                let target = WhatsAppTarget {
                    to,
                    contact: whatsapp.cloned(),
                };
                channel.send(&target, out).await
            }
            ChannelTarget::Telegram { chat_id } => {
                let channel = self.telegram.as_ref().ok_or_else(unconfigured)?;
                let target = TelegramTarget {
                    chat_id: chat_id.clone(),
                };
                channel.send(&target, out).await
            }
        }
    }
}

/// A chat send as one boxed future, so both chats' sends fit one variable.
fn futures_boxed<'a>(
    send: impl std::future::Future<Output = Result<(), SendError>> + Send + 'a,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), SendError>> + Send + 'a>> {
    Box::pin(send)
}
