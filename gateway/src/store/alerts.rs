//! The store's types for paused channels and the admin's alerts about them: a
//! channel whose credentials the service refused is paused for every delivery
//! until a send on it goes through, and the admin hears of both, once each.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::StoreResult;

/// A channel paused because the service refused the gateway's own credentials.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ChannelPause {
    /// `webhook`, `email`, `whatsapp` or `telegram`.
    pub channel: String,
    /// The refusal that paused it, as the service said it (never a secret).
    pub reason: String,
    /// When it was paused.
    pub since: DateTime<Utc>,
    /// The latest refusal since.
    pub last_failure_at: DateTime<Utc>,
    /// The channel's deliveries that wait for it.
    pub pending_deliveries: u64,
}

/// What an admin alert says happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, utoipa::ToSchema)]
pub enum AlertEvent {
    /// A channel was paused: its credentials were refused.
    #[serde(rename = "channel.paused")]
    ChannelPaused,
    /// A paused channel sent again: it works.
    #[serde(rename = "channel.resumed")]
    ChannelResumed,
}

text_enum!(AlertEvent { ChannelPaused => "channel.paused", ChannelResumed => "channel.resumed" });

/// Where an alert is on its way to the admin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum AlertState {
    Pending,
    /// Every configured target took it.
    Sent,
    /// Out of attempts.
    Dead,
}

text_enum!(AlertState { Pending => "pending", Sent => "sent", Dead => "dead" });

/// One alert to the admin, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct AdminAlert {
    /// Also the alert webhook's `webhook-id`: the same on every attempt.
    pub id: String,
    pub event: AlertEvent,
    pub channel: String,
    /// Why the channel paused; `None` for a resume.
    pub reason: Option<String>,
    pub occurred_at: DateTime<Utc>,
    pub state: AlertState,
    pub attempts: u32,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub sent_at: Option<DateTime<Utc>>,
}

/// How one attempt to send an alert ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AlertOutcome {
    Sent,
    /// Failed; tried again at the time, or dead without one.
    Failed {
        error: String,
        retry_at: Option<DateTime<Utc>>,
    },
}

/// Paused channels and the alerts that tell the admin about them. Every method is
/// one atomic step.
#[async_trait::async_trait]
pub trait AlertStore: Send + Sync {
    /// Pauses `channel` for `reason` at `at`: `true` when it was not paused before,
    /// and then (with `alert`) an alert is queued in the same step. A channel
    /// already paused only keeps the latest refusal.
    async fn pause_channel(
        &self,
        channel: &str,
        reason: &str,
        at: DateTime<Utc>,
        alert: bool,
    ) -> StoreResult<bool>;

    /// Ends the pause of `channel`: `true` when it was paused, and then (with
    /// `alert`) an alert is queued in the same step.
    async fn resume_channel(
        &self,
        channel: &str,
        at: DateTime<Utc>,
        alert: bool,
    ) -> StoreResult<bool>;

    /// The paused channels, with how many deliveries wait for each.
    async fn paused_channels(&self) -> StoreResult<Vec<ChannelPause>>;

    /// Claims up to `limit` pending alerts due at `now`: each is not due again
    /// until `now + lease`, so a slow send is not sent twice at once.
    async fn claim_alerts(
        &self,
        now: DateTime<Utc>,
        lease: chrono::Duration,
        limit: u32,
    ) -> StoreResult<Vec<AdminAlert>>;

    /// Records one attempt of an alert.
    async fn record_alert_attempt(&self, id: &str, outcome: AlertOutcome) -> StoreResult<()>;

    /// The latest alerts, newest first.
    async fn list_alerts(&self, limit: u32) -> StoreResult<Vec<AdminAlert>>;
}
