//! Telling the admin that a channel stopped, and that it works again.
//!
//! A channel whose credentials the service refused (an expired WhatsApp token, a
//! revoked Telegram bot token) pauses for every delivery rather than killing them
//! (`Channels`); only the operator can mend it, so the operator must hear of it. The
//! pause is stored (`AlertStore`), shown at `GET /v1/admin/channels/paused`, in
//! `/readyz` and as the `jembatan_channel_paused` metric, and one alert per pause
//! and one per resume go to the operator's `[delivery.alerts]` targets: a webhook
//! signed like every other (Standard Webhooks) and/or an e-mail through
//! `[delivery.email]`. Alerts are rows written with the pause in one transaction and
//! sent by their own small loop, retried on the delivery schedule, so a restart or
//! an admin receiver that is down loses none.

use std::collections::HashSet;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use chrono::Utc;
use reqwest::header::CONTENT_TYPE;
use serde::{Deserialize, Serialize};

use super::channels::webhook::{check_secret, sign};
use super::channels::{ChannelConfigError, excerpt, http_client_builder, transport_error_text};
use super::{AutoSubmitted, Channels, ReplyMail, RetrySchedule};
use crate::store::{AdminAlert, AlertEvent, AlertOutcome, Store};
use crate::telemetry::RepeatedStep;

/// Where the admin's alerts go (`[delivery.alerts]`). Without a target the pauses
/// are still stored and shown, and nothing is sent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AlertsConfig {
    /// A URL the operator chose (any address, private ones too) that receives
    /// `channel.paused` and `channel.resumed` events as signed webhooks.
    pub webhook_url: Option<String>,
    /// The Standard Webhooks secret (`whsec_…`) the alert webhook is signed with
    /// (`JEMBATAN_ALERTS_WEBHOOK_SECRET`); required with `webhook_url`.
    pub webhook_secret: Option<String>,
    /// An address that receives the alerts by e-mail, through `[delivery.email]`.
    pub email: Option<String>,
}

impl AlertsConfig {
    /// Whether any alert is sent at all.
    pub fn any(&self) -> bool {
        self.webhook_url.is_some() || self.email.is_some()
    }

    fn check(&self, email_configured: bool) -> Result<(), ChannelConfigError> {
        let refuse = |why: String| Err(ChannelConfigError::new("alerts", why));
        if let Some(url) = &self.webhook_url {
            if reqwest::Url::parse(url).is_err() {
                return refuse(format!(
                    "[delivery.alerts] webhook_url {url:?} is not a URL"
                ));
            }
            match &self.webhook_secret {
                None => {
                    return refuse(
                        "[delivery.alerts] webhook_url needs webhook_secret \
                         (or JEMBATAN_ALERTS_WEBHOOK_SECRET)"
                            .into(),
                    );
                }
                Some(secret) => {
                    if let Err(why) = check_secret(secret) {
                        return refuse(format!("[delivery.alerts] webhook_secret: {why}"));
                    }
                }
            }
        }
        if let Some(to) = &self.email {
            if !email_configured {
                return refuse(
                    "[delivery.alerts] email needs [delivery.email] to send through".into(),
                );
            }
            if let Err(e) = to.parse::<lettre::Address>() {
                return refuse(format!(
                    "[delivery.alerts] email {to:?} is not an address: {e}"
                ));
            }
        }
        Ok(())
    }
}

/// The alert webhook's body: `{"type":"channel.paused","timestamp":…,"data":{…}}`.
#[derive(Serialize)]
struct Envelope<'a> {
    #[serde(rename = "type")]
    kind: AlertEvent,
    timestamp: chrono::DateTime<Utc>,
    data: Data<'a>,
}

#[derive(Serialize)]
struct Data<'a> {
    channel: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'a str>,
}

/// How long a claimed alert is not sent again while its send is under way.
const LEASE: Duration = Duration::from_secs(120);

/// How often the alert loop looks for due alerts.
const POLL: Duration = Duration::from_millis(200);

/// Records pauses and resumes and sends the admin's alerts.
pub struct Alerts {
    store: Arc<dyn Store>,
    channels: Arc<Channels>,
    config: AlertsConfig,
    schedule: RetrySchedule,
    client: reqwest::Client,
    /// The channels stored as paused, so a send that goes through costs a write
    /// only when it ends a pause.
    paused: Mutex<HashSet<String>>,
}

impl Alerts {
    /// Checks the config; the stored pauses are read by [`Alerts::load`].
    pub fn new(
        store: Arc<dyn Store>,
        channels: Arc<Channels>,
        config: &super::DeliveryConfig,
    ) -> Result<Self, ChannelConfigError> {
        config.alerts.check(config.email.is_some())?;
        let client = http_client_builder(config.webhook.timeout)
            .build()
            .map_err(|e| ChannelConfigError::new("alerts", transport_error_text(e)))?;
        Ok(Self {
            store,
            channels,
            config: config.alerts.clone(),
            schedule: config.retry_schedule.clone(),
            client,
            paused: Mutex::new(HashSet::new()),
        })
    }

    /// Reads which channels are paused, from the store: a restart still ends them
    /// (and says so) when their first send goes through.
    pub async fn load(&self) {
        match self.store.paused_channels().await {
            Ok(pauses) => {
                let mut paused = self.paused.lock().unwrap_or_else(PoisonError::into_inner);
                for pause in pauses {
                    tracing::warn!(channel = %pause.channel, reason = %pause.reason,
                        since = %pause.since, "the channel is paused: its credentials were refused");
                    paused.insert(pause.channel);
                }
            }
            Err(error) => tracing::error!(%error, "reading the paused channels"),
        }
    }

    fn known_paused(&self, kind: &str) -> bool {
        self.paused
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .contains(kind)
    }

    /// The service refused the channel's credentials: the first refusal stores the
    /// pause and queues its alert.
    pub async fn credentials_refused(&self, kind: &str, reason: &str) {
        if self.known_paused(kind) {
            return;
        }
        match self
            .store
            .pause_channel(kind, reason, Utc::now(), self.config.any())
            .await
        {
            Ok(new) => {
                if new {
                    tracing::error!(channel = kind, %reason,
                        "the channel is paused until its credentials are fixed; the admin is alerted");
                }
                self.paused
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .insert(kind.to_owned());
            }
            Err(error) => tracing::error!(channel = kind, %error, "storing a channel's pause"),
        }
    }

    /// A send on the channel went through: a stored pause ends and its alert is
    /// queued.
    pub async fn sent(&self, kind: &str) {
        if !self.known_paused(kind) {
            return;
        }
        match self
            .store
            .resume_channel(kind, Utc::now(), self.config.any())
            .await
        {
            Ok(_) => {
                tracing::info!(channel = kind, "the paused channel works again; resumed");
                self.paused
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .remove(kind);
            }
            Err(error) => tracing::error!(channel = kind, %error, "ending a channel's pause"),
        }
    }

    /// Sends due alerts until the process ends (nothing to do without a target).
    pub async fn run(self: Arc<Self>) {
        if !self.config.any() {
            return;
        }
        let lease = chrono::Duration::from_std(LEASE).expect("a short lease");
        let mut claiming = RepeatedStep::new("claiming admin alerts");
        loop {
            match self.store.claim_alerts(Utc::now(), lease, 16).await {
                Ok(alerts) => {
                    claiming.worked();
                    for alert in alerts {
                        self.send(alert).await;
                    }
                }
                Err(error) => claiming.failed(&error),
            }
            tokio::time::sleep(POLL).await;
        }
    }

    async fn send(&self, alert: AdminAlert) {
        let mut failed = Vec::new();
        // An alert is sent to every target each attempt: a receiver that sees it
        // twice tells by its id (`webhook-id`, the same every attempt).
        if let Some(url) = &self.config.webhook_url
            && let Err(why) = self.send_webhook(url, &alert).await
        {
            failed.push(why);
        }
        if let Some(to) = &self.config.email
            && let Err(why) = self.send_email(to, &alert).await
        {
            failed.push(why);
        }
        let outcome = if failed.is_empty() {
            tracing::info!(alert_id = %alert.id, event = %alert.event, channel = %alert.channel,
                "the admin was alerted");
            AlertOutcome::Sent
        } else {
            let error = failed.join("; ");
            let retry_at = self
                .schedule
                .wait_after(alert.attempts + 1)
                .and_then(|wait| chrono::Duration::from_std(wait).ok())
                .map(|wait| Utc::now() + wait);
            tracing::warn!(alert_id = %alert.id, event = %alert.event, %error,
                retry_at = ?retry_at, "an admin alert was not taken");
            AlertOutcome::Failed { error, retry_at }
        };
        if let Err(error) = self.store.record_alert_attempt(&alert.id, outcome).await {
            tracing::error!(alert_id = %alert.id, %error, "recording an admin alert's attempt");
        }
    }

    async fn send_webhook(&self, url: &str, alert: &AdminAlert) -> Result<(), String> {
        let secret = self.config.webhook_secret.as_deref().unwrap_or_default();
        let body = serde_json::to_vec(&Envelope {
            kind: alert.event,
            timestamp: alert.occurred_at,
            data: Data {
                channel: &alert.channel,
                reason: alert.reason.as_deref(),
            },
        })
        .expect("an alert serializes");
        let timestamp = Utc::now().timestamp();
        let signature = sign(secret, &alert.id, timestamp, &body).map_err(|e| e.to_string())?;
        let response = self
            .client
            .post(url)
            .header(CONTENT_TYPE, "application/json")
            .header("webhook-id", &alert.id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(body)
            .send()
            .await
            .map_err(|e| format!("the alert webhook: {}", transport_error_text(e)))?;
        if response.status().is_success() {
            Ok(())
        } else {
            Err(format!(
                "the alert webhook answered HTTP {}",
                response.status().as_u16()
            ))
        }
    }

    async fn send_email(&self, to: &str, alert: &AdminAlert) -> Result<(), String> {
        let mail = alert_mail(to, alert);
        self.channels
            .send_reply(&mail)
            .await
            .map(drop)
            .map_err(|e| format!("the alert e-mail: {e}"))
    }
}

/// The admin's alert as an e-mail: `Auto-Submitted: auto-generated` (RFC 3834
/// §5.1, a notice no mail asked for). The channel's name and the service's reason
/// are text from outside (a remote server wrote the reason); each is put on one
/// line of at most a few hundred characters, so neither can end the subject and
/// start a header of its own, nor forge lines in the body.
fn alert_mail(to: &str, alert: &AdminAlert) -> ReplyMail {
    let channel = excerpt(alert.channel.as_bytes(), 40);
    let at = alert.occurred_at.to_rfc3339();
    let (subject, text) = match alert.event {
        AlertEvent::ChannelPaused => (
            format!("jembatan: the {channel} channel is paused"),
            format!(
                "The {channel} channel was paused at {at}: the service refused the \
                 gateway's credentials.\n\n{reason}\n\nIts deliveries wait; none is lost. \
                 Fix the credentials in the gateway's configuration and restart it; \
                 the channel resumes at its first send that goes through.\n",
                reason = excerpt(alert.reason.as_deref().unwrap_or_default().as_bytes(), 500),
            ),
        ),
        AlertEvent::ChannelResumed => (
            format!("jembatan: the {channel} channel works again"),
            format!("The {channel} channel sent again at {at}; its waiting deliveries go out.\n"),
        ),
    };
    ReplyMail {
        to: to.to_owned(),
        subject,
        text,
        in_reply_to: None,
        auto_submitted: AutoSubmitted::Generated,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::AlertState;

    fn sample_alert() -> AdminAlert {
        AdminAlert {
            id: "alert_1".into(),
            event: AlertEvent::ChannelPaused,
            channel: "whatsapp".into(),
            reason: None,
            occurred_at: Utc::now(),
            state: AlertState::Pending,
            attempts: 0,
            next_attempt_at: None,
            last_error: None,
            sent_at: None,
        }
    }

    #[test]
    fn an_alert_mail_is_auto_generated_and_keeps_outside_text_on_one_line() {
        let alert = AdminAlert {
            channel: "whatsapp\r\nBcc: victim@example.com".into(),
            reason: Some("Graph 190: token expired\r\n\r\nX-Injected: yes\n.\nRCPT".into()),
            ..sample_alert()
        };
        let mail = alert_mail("ops@example.com", &alert);
        assert_eq!(mail.auto_submitted, AutoSubmitted::Generated);
        assert_eq!(mail.in_reply_to, None);
        assert!(!mail.subject.contains(['\r', '\n']), "{:?}", mail.subject);
        assert_eq!(
            mail.subject,
            "jembatan: the whatsapp Bcc: victim@example.com channel is paused"
        );
        assert!(
            mail.text
                .contains("\n\nGraph 190: token expired X-Injected: yes . RCPT\n\n"),
            "{:?}",
            mail.text
        );
        assert!(!mail.text.contains('\r'), "{:?}", mail.text);
        assert!(!mail.text.lines().any(|l| l.starts_with("X-Injected")));
    }
}
