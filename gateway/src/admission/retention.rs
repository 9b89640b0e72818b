//! Retention: what the gateway stops keeping, and when.
//!
//! Every `interval`, a background task deletes, in batches of `batch` rows so no
//! write holds the database long: the bodies of failed messages older than
//! `failed` (they can no longer be replayed), the bodies of finished messages
//! older than `finished` (every order delivered or given up, nothing refused),
//! and the attempts of finished deliveries older than `attempts`. A message's
//! hash, headers, outcome, transactions and orders are always kept. A period of 0
//! keeps that kind for ever. WhatsApp statuses kept for messages no attempt named
//! go after [`EARLY_STATUSES_KEPT`].

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::Admission;
use crate::store::{Leadership, Purged, Retention, Store, StoreResult};

/// How long each kind is kept (`[retention]`, `JEMBATAN_RETENTION_*`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RetentionConfig {
    /// Bodies of failed messages (`JEMBATAN_RETENTION_FAILED`, default 30 days).
    #[serde(with = "humantime_serde")]
    pub failed: Duration,
    /// Bodies of finished messages (`JEMBATAN_RETENTION_FINISHED`, default 90 days).
    #[serde(with = "humantime_serde")]
    pub finished: Duration,
    /// Attempts of finished deliveries (`JEMBATAN_RETENTION_ATTEMPTS`, default 90
    /// days).
    #[serde(with = "humantime_serde")]
    pub attempts: Duration,
    /// How often retention runs (`JEMBATAN_RETENTION_INTERVAL`, default 1 hour).
    #[serde(with = "humantime_serde")]
    pub interval: Duration,
    /// Rows of each kind one write deletes (default 500).
    pub batch: u32,
}

const DAY: Duration = Duration::from_secs(24 * 60 * 60);

/// How long a WhatsApp status for a message no recorded attempt names is kept
/// (`crate::delivery::whatsapp_status`): the attempt is recorded when its send ends,
/// within minutes (`crate::delivery::MAX_SEND_DEADLINE`) of the status, unless the
/// gateway stopped meanwhile; an hour covers a restart. Later, the status names a
/// message the gateway will never know.
pub const EARLY_STATUSES_KEPT: Duration = Duration::from_secs(60 * 60);

impl Default for RetentionConfig {
    fn default() -> Self {
        Self {
            failed: 30 * DAY,
            finished: 90 * DAY,
            attempts: 90 * DAY,
            interval: Duration::from_secs(60 * 60),
            batch: 500,
        }
    }
}

impl RetentionConfig {
    /// The cutoffs at `now`: what is older goes.
    pub fn at(&self, now: DateTime<Utc>) -> Retention {
        let before = |kept: Duration| {
            if kept.is_zero() {
                return DateTime::<Utc>::MIN_UTC;
            }
            chrono::Duration::from_std(kept)
                .ok()
                .and_then(|kept| now.checked_sub_signed(kept))
                .unwrap_or(DateTime::<Utc>::MIN_UTC)
        };
        Retention {
            failed_bodies_before: before(self.failed),
            finished_bodies_before: before(self.finished),
            attempts_before: before(self.attempts),
            early_statuses_before: before(EARLY_STATUSES_KEPT),
            batch: self.batch.max(1),
        }
    }
}

/// Deletes everything `config` allows at `now`, batch after batch.
pub async fn purge_all(
    store: &dyn Store,
    config: &RetentionConfig,
    now: DateTime<Utc>,
) -> StoreResult<Purged> {
    let retention = config.at(now);
    let mut total = Purged::default();
    loop {
        let purged = store.purge(&retention).await?;
        total.failed_bodies += purged.failed_bodies;
        total.finished_bodies += purged.finished_bodies;
        total.attempts += purged.attempts;
        total.early_statuses += purged.early_statuses;
        if purged.total() == 0 {
            return Ok(total);
        }
        // Let other writes in between batches.
        tokio::task::yield_now().await;
    }
}

/// Runs retention every `config.interval`, for as long as the gateway runs, while
/// this instance leads the scheduled work.
pub fn run(
    store: Arc<dyn Store>,
    admission: Arc<Admission>,
    config: RetentionConfig,
    mut leadership: Leadership,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(config.interval).await;
            leadership.held().await;
            match purge_all(&*store, &config, Utc::now()).await {
                Ok(purged) if purged.total() > 0 => {
                    // The buyers' stored bytes went down: read them again.
                    admission.forget_stored();
                    tracing::info!(
                        failed_bodies = purged.failed_bodies,
                        finished_bodies = purged.finished_bodies,
                        attempts = purged.attempts,
                        early_whatsapp_statuses = purged.early_statuses,
                        "retention deleted what is kept no longer"
                    );
                }
                Ok(_) => {}
                Err(error) => {
                    admission.health().store_failed(&error);
                    tracing::warn!(%error, "retention failed; it runs again later");
                }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cutoffs_are_the_periods_before_now_and_zero_keeps_for_ever() {
        let now = DateTime::parse_from_rfc3339("2026-11-30T12:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let config = RetentionConfig {
            attempts: Duration::ZERO,
            ..RetentionConfig::default()
        };
        let cutoffs = config.at(now);
        assert_eq!(
            cutoffs.failed_bodies_before.to_rfc3339(),
            "2026-10-31T12:00:00+00:00"
        );
        assert_eq!(
            cutoffs.finished_bodies_before.to_rfc3339(),
            "2026-09-01T12:00:00+00:00"
        );
        assert_eq!(cutoffs.attempts_before, DateTime::<Utc>::MIN_UTC);
        assert_eq!(
            cutoffs.early_statuses_before.to_rfc3339(),
            "2026-11-30T11:00:00+00:00"
        );
        assert_eq!(cutoffs.batch, 500);
    }
}
