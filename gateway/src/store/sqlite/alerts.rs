//! Paused channels and the admin's alerts about them.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, Row, params};

use super::codec::{AlertRow, parse_time, time_text};
use crate::secrets::new_id;
use crate::store::{AdminAlert, AlertEvent, AlertOutcome, ChannelPause, StoreResult};

/// Queues an alert, due now.
fn queue(
    conn: &Connection,
    event: AlertEvent,
    channel: &str,
    reason: Option<&str>,
    at: DateTime<Utc>,
) -> StoreResult<()> {
    let at = time_text(at);
    conn.prepare_cached(
        "INSERT INTO admin_alerts (id, event, channel, reason, occurred_at, state, \
         next_attempt_at) VALUES (?1, ?2, ?3, ?4, ?5, 'pending', ?5)",
    )?
    .execute(params![new_id("alr"), event.as_str(), channel, reason, at])?;
    Ok(())
}

pub(super) fn pause(
    conn: &Connection,
    channel: &str,
    reason: &str,
    at: DateTime<Utc>,
    alert: bool,
) -> StoreResult<bool> {
    let at_text = time_text(at);
    let new = conn
        .prepare_cached(
            "INSERT INTO channel_pauses (channel, reason, since, last_failure_at) \
             VALUES (?1, ?2, ?3, ?3) ON CONFLICT (channel) DO NOTHING",
        )?
        .execute(params![channel, reason, at_text])?
        == 1;
    if new {
        if alert {
            queue(conn, AlertEvent::ChannelPaused, channel, Some(reason), at)?;
        }
    } else {
        conn.prepare_cached(
            "UPDATE channel_pauses SET reason = ?2, last_failure_at = ?3 WHERE channel = ?1",
        )?
        .execute(params![channel, reason, at_text])?;
    }
    Ok(new)
}

pub(super) fn resume(
    conn: &Connection,
    channel: &str,
    at: DateTime<Utc>,
    alert: bool,
) -> StoreResult<bool> {
    let was = conn
        .prepare_cached("DELETE FROM channel_pauses WHERE channel = ?1")?
        .execute(params![channel])?
        == 1;
    if was && alert {
        queue(conn, AlertEvent::ChannelResumed, channel, None, at)?;
    }
    Ok(was)
}

pub(super) fn paused(conn: &Connection) -> StoreResult<Vec<ChannelPause>> {
    let rows = conn
        .prepare_cached(
            "SELECT p.channel, p.reason, p.since, p.last_failure_at, \
             (SELECT count(*) FROM deliveries d JOIN channels c ON c.id = d.channel_id \
              WHERE d.state = 'pending' AND c.kind = p.channel) AS pending \
             FROM channel_pauses p ORDER BY p.channel",
        )?
        .query_map([], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, String>(2)?,
                row.get::<_, String>(3)?,
                row.get::<_, i64>(4)?,
            ))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    rows.into_iter()
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
    fn from_row(row: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            id: row.get("id")?,
            event: row.get("event")?,
            channel: row.get("channel")?,
            reason: row.get("reason")?,
            occurred_at: row.get("occurred_at")?,
            state: row.get("state")?,
            attempts: row.get("attempts")?,
            next_attempt_at: row.get("next_attempt_at")?,
            last_error: row.get("last_error")?,
            sent_at: row.get("sent_at")?,
        })
    }
}

pub(super) fn claim(
    conn: &Connection,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
    limit: u32,
) -> StoreResult<Vec<AdminAlert>> {
    let rows = conn
        .prepare_cached(&format!(
            "UPDATE admin_alerts SET next_attempt_at = ?2 WHERE id IN ( \
               SELECT id FROM admin_alerts WHERE state = 'pending' AND next_attempt_at <= ?1 \
               ORDER BY next_attempt_at LIMIT ?3) \
             RETURNING {ALERT_COLUMNS}"
        ))?
        .query_map(
            params![time_text(now), time_text(until), i64::from(limit)],
            AlertRow::from_row,
        )?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    rows.into_iter().map(AlertRow::into_alert).collect()
}

pub(super) fn record(conn: &Connection, id: &str, outcome: AlertOutcome) -> StoreResult<()> {
    let now = time_text(super::codec::now());
    match outcome {
        AlertOutcome::Sent => conn
            .prepare_cached(
                "UPDATE admin_alerts SET state = 'sent', attempts = attempts + 1, \
                 next_attempt_at = NULL, sent_at = ?2 WHERE id = ?1",
            )?
            .execute(params![id, now])?,
        AlertOutcome::Failed { error, retry_at } => conn
            .prepare_cached(
                "UPDATE admin_alerts SET attempts = attempts + 1, last_error = ?2, \
                 state = CASE WHEN ?3 IS NULL THEN 'dead' ELSE 'pending' END, \
                 next_attempt_at = ?3 WHERE id = ?1",
            )?
            .execute(params![id, error, retry_at.map(time_text)])?,
    };
    Ok(())
}

pub(super) fn list(conn: &Connection, limit: u32) -> StoreResult<Vec<AdminAlert>> {
    let rows = conn
        .prepare_cached(&format!(
            "SELECT {ALERT_COLUMNS} FROM admin_alerts ORDER BY occurred_at DESC, id DESC LIMIT ?1"
        ))?
        .query_map(params![i64::from(limit)], AlertRow::from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    rows.into_iter().map(AlertRow::into_alert).collect()
}
