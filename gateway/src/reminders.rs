//! Reminders (issue 10, part 4): an order with no answer `remind_after` after it
//! reached its craftsman reminds them once, on each of their enabled channels, and
//! is listed for the admin (`GET /v1/admin/orders?awaiting_response=true`).
//!
//! A background task decides the due reminders in the store
//! ([`ReminderStore::decide_reminders`]): one transaction marks each order
//! reminded and writes a delivery of kind `reminder` per channel into the outbox,
//! so the reminder is sent like an order (the same worker, retries, dead letters
//! and, on a webhook, a signed `order.reminder` event) and a crash or restart
//! neither loses it (it is pending in the outbox) nor repeats it (the order is
//! marked). An answer that comes first takes the order out of the scan: no
//! reminder is decided for it. One that comes after changes nothing.
//!
//! The task does not poll the orders: it asks the store when the first order that
//! may need a reminder was routed (one index lookup) and sleeps until that order's
//! reminder is due, or for the wait itself when none waits: an order routed later
//! is due no earlier than that.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::delivery::Bell;
use crate::store::{Leadership, ReminderWindow, Store};

/// What the gateway does about orders their craftsmen do not answer
/// (`[responses]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ResponsesConfig {
    /// How long an order may wait for its craftsman's answer before they are
    /// reminded, once, e.g. `"24h"` (`JEMBATAN_RESPONSES_REMIND_AFTER`). `"0s"`,
    /// the default, sends no reminders: each is a message on the craftsman's
    /// channels, on WhatsApp outside the service window a paid template the
    /// operator must have had approved, and the right wait depends on the trade,
    /// so the operator turns them on. The admin listing of orders awaiting an
    /// answer uses this wait too (with none, every unanswered routed order).
    #[serde(with = "humantime_serde")]
    pub remind_after: Duration,
}

impl Default for ResponsesConfig {
    fn default() -> Self {
        Self {
            remind_after: Duration::ZERO,
        }
    }
}

/// How late a reminder may still be sent: an order that began waiting longer ago
/// than the wait and this is not reminded any more (it is still listed for the
/// admin). Turning reminders on, or a gateway stopped for weeks, would otherwise
/// remind craftsmen of every order they never answered, back to the first.
pub const HORIZON: Duration = Duration::from_secs(7 * 24 * 3600);

/// Reminders decided in one transaction.
const BATCH: u32 = 100;

/// The longest the task sleeps without looking (a clock set forward, a store that
/// failed).
const MAX_SLEEP: Duration = Duration::from_secs(60);

/// The shortest: a due order the last decision did not see yet is taken soon.
const MIN_SLEEP: Duration = Duration::from_millis(50);

impl ResponsesConfig {
    /// Whether reminders are sent at all.
    pub fn reminders_on(&self) -> bool {
        !self.remind_after.is_zero()
    }

    fn wait(&self) -> chrono::Duration {
        chrono::Duration::from_std(self.remind_after).unwrap_or(chrono::Duration::MAX)
    }

    /// Orders routed at or before this and still unanswered at `now` are past the
    /// wait for an answer.
    pub fn awaiting_since(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        now.checked_sub_signed(self.wait())
            .unwrap_or(DateTime::<Utc>::MIN_UTC)
    }

    /// The orders whose reminder is due at `now`.
    pub fn window(&self, now: DateTime<Utc>) -> ReminderWindow {
        let routed_by = self.awaiting_since(now);
        let horizon = chrono::Duration::from_std(HORIZON).expect("a week fits");
        ReminderWindow {
            routed_by,
            routed_after: routed_by
                .checked_sub_signed(horizon)
                .unwrap_or(DateTime::<Utc>::MIN_UTC),
        }
    }
}

/// Decides the reminders due now, batch after batch; rings the delivery worker
/// when one was. Returns how many orders were reminded.
pub async fn decide_due(store: &dyn Store, config: &ResponsesConfig, bell: &Bell) -> usize {
    let mut total = 0;
    loop {
        let now = Utc::now();
        match store.decide_reminders(config.window(now), now, BATCH).await {
            Ok(decided) => {
                for reminder in &decided {
                    tracing::info!(order_id = %reminder.order_id,
                        craftsman_id = %reminder.craftsman_id,
                        deliveries = reminder.deliveries.len(),
                        "the order has no answer yet; its craftsman is reminded");
                }
                total += decided.len();
                if !decided.is_empty() {
                    bell.ring();
                }
                if decided.len() < BATCH as usize {
                    return total;
                }
            }
            Err(error) => {
                tracing::warn!(%error, "deciding reminders failed; tried again later");
                return total;
            }
        }
    }
}

/// How long to sleep before the next reminder may be due.
async fn until_next(store: &dyn Store, config: &ResponsesConfig) -> Duration {
    let now = Utc::now();
    let due = match store
        .next_reminder_from(config.window(now).routed_after)
        .await
    {
        Ok(Some(routed_at)) => routed_at
            .checked_add_signed(config.wait())
            .unwrap_or(DateTime::<Utc>::MAX_UTC),
        // Nothing waits: an order routed from now on is due the wait from now.
        Ok(None) => now
            .checked_add_signed(config.wait())
            .unwrap_or(DateTime::<Utc>::MAX_UTC),
        Err(error) => {
            tracing::warn!(%error, "reading when the next reminder is due");
            return MAX_SLEEP;
        }
    };
    (due - Utc::now())
        .to_std()
        .unwrap_or_default()
        .clamp(MIN_SLEEP, MAX_SLEEP)
}

/// Runs the reminders until the process ends, while this instance leads the
/// scheduled work; does nothing when they are off.
pub fn run(
    store: Arc<dyn Store>,
    config: ResponsesConfig,
    bell: Arc<Bell>,
    mut leadership: Leadership,
) -> Option<tokio::task::JoinHandle<()>> {
    if !config.reminders_on() {
        return None;
    }
    tracing::info!(remind_after = %humantime::format_duration(config.remind_after),
        "craftsmen are reminded of orders they do not answer");
    Some(tokio::spawn(async move {
        loop {
            leadership.held().await;
            decide_due(&*store, &config, &bell).await;
            tokio::time::sleep(until_next(&*store, &config).await).await;
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    #[test]
    fn the_window_is_the_wait_back_and_a_week_before_that() {
        let config = ResponsesConfig {
            remind_after: Duration::from_secs(24 * 3600),
        };
        assert!(config.reminders_on());
        let window = config.window(at("2026-11-30T12:00:00Z"));
        assert_eq!(window.routed_by, at("2026-11-29T12:00:00Z"));
        assert_eq!(window.routed_after, at("2026-11-22T12:00:00Z"));
        assert!(!ResponsesConfig::default().reminders_on());
        // Off, the admin's listing takes every unanswered order.
        let now = at("2026-11-30T12:00:00Z");
        assert_eq!(ResponsesConfig::default().awaiting_since(now), now);
    }

    #[test]
    fn the_config_reads_a_wait_or_zero() {
        let config: ResponsesConfig = toml::from_str("remind_after = \"90m\"").unwrap();
        assert_eq!(config.remind_after, Duration::from_secs(5400));
        let config: ResponsesConfig = toml::from_str("remind_after = \"0s\"").unwrap();
        assert!(!config.reminders_on());
        assert!(toml::from_str::<ResponsesConfig>("remind_every = \"1h\"").is_err());
    }
}
