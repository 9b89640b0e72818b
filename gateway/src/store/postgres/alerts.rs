//! Paused channels and the admin's alerts about them.

use chrono::{DateTime, Utc};
use tokio_postgres::Row;

use super::codec::{AlertRow, parse_time, time_text};
use super::{Db, PgError, rows};
use crate::secrets::new_id;
use crate::store::{AdminAlert, AlertEvent, AlertOutcome, ChannelPause, StoreResult};

/// Queues an alert, due now.
async fn queue(
    db: &dyn Db,
    event: AlertEvent,
    channel: &str,
    reason: Option<&str>,
    at: DateTime<Utc>,
) -> StoreResult<()> {
    let at = time_text(at);
    db.execute(
        "INSERT INTO admin_alerts (id, event, channel, reason, occurred_at, state, \
         next_attempt_at) VALUES ($1, $2, $3, $4, $5, 'pending', $5)",
        &[&new_id("alr"), &event.as_str(), &channel, &reason, &at],
    )
    .await?;
    Ok(())
}

pub(super) async fn pause(
    db: &dyn Db,
    channel: &str,
    reason: &str,
    at: DateTime<Utc>,
    alert: bool,
) -> StoreResult<bool> {
    let at_text = time_text(at);
    let new = db
        .execute(
            "INSERT INTO channel_pauses (channel, reason, since, last_failure_at) \
             VALUES ($1, $2, $3, $3) ON CONFLICT (channel) DO NOTHING",
            &[&channel, &reason, &at_text],
        )
        .await?
        == 1;
    if new {
        if alert {
            queue(db, AlertEvent::ChannelPaused, channel, Some(reason), at).await?;
        }
    } else {
        db.execute(
            "UPDATE channel_pauses SET reason = $2, last_failure_at = $3 WHERE channel = $1",
            &[&channel, &reason, &at_text],
        )
        .await?;
    }
    Ok(new)
}

pub(super) async fn resume(
    db: &dyn Db,
    channel: &str,
    at: DateTime<Utc>,
    alert: bool,
) -> StoreResult<bool> {
    let was = db
        .execute("DELETE FROM channel_pauses WHERE channel = $1", &[&channel])
        .await?
        == 1;
    if was && alert {
        queue(db, AlertEvent::ChannelResumed, channel, None, at).await?;
    }
    Ok(was)
}

pub(super) async fn paused(db: &dyn Db) -> StoreResult<Vec<ChannelPause>> {
    let found = db
        .query(
            "SELECT p.channel, p.reason, p.since, p.last_failure_at, \
             (SELECT count(*) FROM deliveries d JOIN channels c ON c.id = d.channel_id \
              WHERE d.state = 'pending' AND c.kind = p.channel) AS pending \
             FROM channel_pauses p ORDER BY p.channel",
            &[],
        )
        .await?;
    rows(found, |row| {
        Ok((
            row.try_get::<_, String>(0)?,
            row.try_get::<_, String>(1)?,
            row.try_get::<_, String>(2)?,
            row.try_get::<_, String>(3)?,
            row.try_get::<_, i64>(4)?,
        ))
    })?
    .into_iter()
    .map(|(channel, reason, since, last, pending)| {
        Ok(ChannelPause {
            channel,
            reason,
            since: parse_time(&since)?,
            last_failure_at: parse_time(&last)?,
            pending_deliveries: u64::try_from(pending).unwrap_or_default(),
        })
    })
    .collect()
}

const ALERT_COLUMNS: &str = "id, event, channel, reason, occurred_at, state, attempts, \
                             next_attempt_at, last_error, sent_at";

impl AlertRow {
    fn from_pg(row: &Row) -> Result<Self, PgError> {
        Ok(Self {
            id: row.try_get("id")?,
            event: row.try_get("event")?,
            channel: row.try_get("channel")?,
            reason: row.try_get("reason")?,
            occurred_at: row.try_get("occurred_at")?,
            state: row.try_get("state")?,
            attempts: row.try_get("attempts")?,
            next_attempt_at: row.try_get("next_attempt_at")?,
            last_error: row.try_get("last_error")?,
            sent_at: row.try_get("sent_at")?,
        })
    }
}

pub(super) async fn claim(
    db: &dyn Db,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
    limit: u32,
) -> StoreResult<Vec<AdminAlert>> {
    let found = db
        .query(
            &format!(
                "UPDATE admin_alerts SET next_attempt_at = $2 WHERE id IN ( \
                   SELECT id FROM admin_alerts WHERE state = 'pending' AND next_attempt_at <= $1 \
                   ORDER BY next_attempt_at LIMIT $3) \
                 RETURNING {ALERT_COLUMNS}"
            ),
            &[&time_text(now), &time_text(until), &i64::from(limit)],
        )
        .await?;
    rows(found, AlertRow::from_pg)?
        .into_iter()
        .map(AlertRow::into_alert)
        .collect()
}

pub(super) async fn record(db: &dyn Db, id: &str, outcome: AlertOutcome) -> StoreResult<()> {
    let now = time_text(super::codec::now());
    match outcome {
        AlertOutcome::Sent => {
            db.execute(
                "UPDATE admin_alerts SET state = 'sent', attempts = attempts + 1, \
                 next_attempt_at = NULL, sent_at = $2 WHERE id = $1",
                &[&id, &now],
            )
            .await?
        }
        AlertOutcome::Failed { error, retry_at } => {
            db.execute(
                "UPDATE admin_alerts SET attempts = attempts + 1, last_error = $2, \
                 state = CASE WHEN $3::text IS NULL THEN 'dead' ELSE 'pending' END, \
                 next_attempt_at = $3 WHERE id = $1",
                &[&id, &error, &retry_at.map(time_text)],
            )
            .await?
        }
    };
    Ok(())
}

pub(super) async fn list(db: &dyn Db, limit: u32) -> StoreResult<Vec<AdminAlert>> {
    let found = db
        .query(
            &format!(
                "SELECT {ALERT_COLUMNS} FROM admin_alerts \
                 ORDER BY occurred_at DESC, id DESC LIMIT $1"
            ),
            &[&i64::from(limit)],
        )
        .await?;
    rows(found, AlertRow::from_pg)?
        .into_iter()
        .map(AlertRow::into_alert)
        .collect()
}
