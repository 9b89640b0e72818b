//! Getting every routed order to its craftsman: the outbox, the workers that drain it,
//! and the channels they send on.
//!
//! An order is routed when it is stored (or when an admin adds the route it lacked):
//! one delivery row per (order, channel) is written in the same transaction. Workers
//! claim due rows, send, record the attempt and either finish the delivery or
//! schedule the next try (`schedule`); after the last it is dead until an admin
//! retries it. Delivery is at least once: the delivery id is stable across attempts
//! so receivers can drop duplicates.

pub mod channels;
pub mod render;
pub mod schedule;
pub mod targets;
pub mod worker;

use channels::email::{EmailChannel, EmailConfig, EmailTarget};
use channels::telegram::{TelegramChannel, TelegramConfig, TelegramTarget};
use channels::webhook::{WebhookChannel, WebhookConfig, WebhookTarget};
use channels::whatsapp::{WhatsAppChannel, WhatsAppConfig, WhatsAppTarget};
use channels::{Channel, ChannelConfigError};
use channels::{ChannelTarget, Outgoing, SendError, Sent};
use serde::Deserialize;

use crate::orders::OrderSchema;
use crate::store::WhatsAppContact;

pub use schedule::RetrySchedule;
pub use worker::{Bell, Worker};

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
    /// Webhooks; always on.
    pub webhook: WebhookConfig,
    /// The SMTP server e-mail goes through; without it no craftsman can choose e-mail.
    pub email: Option<EmailConfig>,
    /// The WhatsApp Cloud API business number; without it no craftsman can choose WhatsApp.
    pub whatsapp: Option<WhatsAppConfig>,
    /// The Telegram bot; without it no craftsman can choose Telegram.
    pub telegram: Option<TelegramConfig>,
}

impl Default for DeliveryConfig {
    fn default() -> Self {
        Self {
            retry_schedule: RetrySchedule::default(),
            concurrency: 32,
            webhook: WebhookConfig::default(),
            email: None,
            whatsapp: None,
            telegram: None,
        }
    }
}

/// Every channel the gateway is configured for, ready to send.
pub struct Channels {
    webhook: WebhookChannel,
    email: Option<EmailChannel>,
    whatsapp: Option<WhatsAppChannel>,
    telegram: Option<TelegramChannel>,
}

impl Channels {
    pub fn new(config: &DeliveryConfig) -> Result<Self, ChannelConfigError> {
        Ok(Self {
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

    /// Sends one order to one target on its channel.
    /// `whatsapp` is what the store knows of a WhatsApp target's number.
    pub async fn send(
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
