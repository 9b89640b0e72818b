//! The outbox: routing an order writes its deliveries; workers claim the due ones,
//! and every attempt is recorded with what it decided, in one transaction with the
//! order's status.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, Row, params, params_from_iter};

use super::codec::{
    ClaimRow, DeliveryAttemptRow, DeliveryRow, OrderRow, WhatsAppContactRow, classify, count,
    decode, now, parse_time, time_text,
};
use super::{page_limit, page_query, split_page, status_condition};
use crate::secrets::new_id;
use crate::store::routing::{self, ChannelState, NewDelivery};
use crate::store::{
    ClaimedDelivery, Delivery, DeliveryAttempt, DeliveryPage, DeliveryQuery, DeliveryState,
    DeliveryStats, NewAttempt, NextStep, Receipt, Reopen, SentMessage, StoreError, StoreResult,
};

/// The number a WhatsApp target's JSON (in `$col`) sends to, as `whatsapp_contacts`
/// keys it: without the `+`, spaces and dashes a channel registered before numbers
/// were normalized may still hold.
macro_rules! target_wa_id {
    ($col:literal) => {
        concat!(
            "replace(replace(replace(json_extract(",
            $col,
            ", '$.to'), '+', ''), ' ', ''), '-', '')"
        )
    };
}
pub(super) use target_wa_id;

impl DeliveryRow {
    fn from_row(row: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            id: row.get("id")?,
            order_id: row.get("order_id")?,
            kind: row.get("kind")?,
            craftsman_id: row.get("craftsman_id")?,
            channel_id: row.get("channel_id")?,
            response_id: row.get("response_id")?,
            channel: row.get("channel")?,
            state: row.get("state")?,
            attempts: row.get("attempts")?,
            next_attempt_at: row.get("next_attempt_at")?,
            last_status_code: row.get("last_status_code")?,
            last_error: row.get("last_error")?,
            created_at: row.get("created_at")?,
            updated_at: row.get("updated_at")?,
            delivered_at: row.get("delivered_at")?,
        })
    }
}

impl DeliveryAttemptRow {
    fn from_row(row: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            delivery_id: row.get("delivery_id")?,
            attempt: row.get("attempt")?,
            started_at: row.get("started_at")?,
            duration_ms: row.get("duration_ms")?,
            outcome: row.get("outcome")?,
            status_code: row.get("status_code")?,
            error: row.get("error")?,
            message_id: row.get("message_id")?,
            receipt: row.get("receipt")?,
            receipt_at: row.get("receipt_at")?,
        })
    }
}

/// A craftsman's channels, as routing needs them: id, and why it is disabled.
pub(super) fn channel_states(
    conn: &Connection,
    craftsman_id: &str,
) -> StoreResult<Vec<ChannelState>> {
    // disabled_reason is set exactly when disabled_at is.
    Ok(conn
        .prepare_cached(
            "SELECT id, disabled_reason FROM channels WHERE craftsman_id = ?1 ORDER BY id",
        )?
        .query_map(params![craftsman_id], |row| {
            Ok(ChannelState {
                id: row.get(0)?,
                disabled_reason: row.get(1)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?)
}

/// Writes the deliveries routing decided for `order_id`.
pub(super) fn write_deliveries(
    conn: &Connection,
    order_id: &str,
    deliveries: &[NewDelivery],
    now_text: &str,
) -> StoreResult<()> {
    let mut insert = conn.prepare_cached(
        "INSERT INTO deliveries (id, order_id, kind, channel_id, state, next_attempt_at, \
         last_error, created_at, updated_at) VALUES (?1, ?2, 'order', ?3, ?4, ?5, ?6, ?7, ?7)",
    )?;
    for delivery in deliveries {
        let due = (delivery.state == DeliveryState::Pending).then_some(now_text);
        insert
            .execute(params![
                new_id("dlv"),
                order_id,
                &delivery.channel_id,
                delivery.state.as_str(),
                due,
                &delivery.error,
                now_text,
            ])
            .map_err(|e| classify(&format!("delivery of order {order_id}"), e))?;
    }
    Ok(())
}

/// Routes an order stored `unrouted` to `craftsman_id`, with its deliveries, as
/// [`routing::route`] decides. Runs inside the caller's write. (A new order is
/// written routed at once, see `messages::complete`.)
pub(super) fn route(
    conn: &Connection,
    order_id: &str,
    craftsman_id: &str,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let now_text = time_text(now);
    let (status, deliveries) = routing::route(&channel_states(conn, craftsman_id)?);
    conn.prepare_cached(
        "UPDATE orders SET craftsman_id = ?2, status = ?3, routed_at = ?4, updated_at = ?4 \
         WHERE id = ?1",
    )?
    .execute(params![order_id, craftsman_id, status.as_str(), &now_text])?;
    write_deliveries(conn, order_id, &deliveries, &now_text)
}

/// Makes a routed order's status follow its deliveries to its craftsman, as
/// [`routing::status_of`] derives it (the deliveries of its responses to the buyer
/// and of its reminder are not the order's delivery). Writes only when it changes.
fn sync_order_status(conn: &Connection, order_id: &str, now_text: &str) -> StoreResult<()> {
    let states = conn
        .prepare_cached("SELECT state FROM deliveries WHERE order_id = ?1 AND kind = 'order'")?
        .query_map(params![order_id], |row| row.get::<_, String>(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let states = states
        .iter()
        .map(|state| state.parse::<DeliveryState>().map_err(decode))
        .collect::<Result<Vec<_>, _>>()?;
    let status = routing::status_of(states);
    conn.prepare_cached(
        "UPDATE orders SET status = ?2, updated_at = ?3 \
         WHERE id = ?1 AND craftsman_id IS NOT NULL AND status <> ?2",
    )?
    .execute(params![order_id, status.as_str(), now_text])?;
    Ok(())
}

/// Claims up to `?3` due deliveries, oldest first, until `?2`. Both this and
/// [`NEXT_DUE`] are answered by the index `deliveries_due` alone (migration 18;
/// `tests::the_worker_s_queries_read_the_due_index_in_order`).
pub(super) const CLAIM: &str = "UPDATE deliveries SET claimed_until = ?2 WHERE id IN ( \
     SELECT id FROM deliveries WHERE state = 'pending' AND next_attempt_at <= ?1 \
     AND (claimed_until IS NULL OR claimed_until <= ?1) \
     ORDER BY next_attempt_at LIMIT ?3) \
     RETURNING id";

/// When the next unclaimed pending delivery is due.
pub(super) const NEXT_DUE: &str = "SELECT next_attempt_at FROM deliveries \
     WHERE state = 'pending' AND claimed_until IS NULL ORDER BY next_attempt_at LIMIT 1";

/// Takes the oldest due deliveries for a lease; returns their ids.
pub(super) fn claim(
    conn: &Connection,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
    limit: u32,
) -> StoreResult<Vec<String>> {
    let now_text = time_text(now);
    Ok(conn
        .prepare_cached(CLAIM)?
        .query_map(
            params![&now_text, time_text(until), i64::from(limit)],
            |row| row.get::<_, String>(0),
        )?
        .collect::<rusqlite::Result<Vec<_>>>()?)
}

impl ClaimRow {
    fn from_row(row: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            delivery_id: row.get("delivery_id")?,
            kind: row.get("kind")?,
            attempts: row.get("attempts")?,
            schedule_base: row.get("schedule_base")?,
            delivered_parts: row.get("delivered_parts")?,
            channel_id: row.get("channel_id")?,
            target: row.get("target")?,
            callback_url: row.get("callback_url")?,
            callback_secret: row.get("callback_secret")?,
            response: row.get("response_body")?,
            buyer_name: row.get("buyer_name")?,
            craftsman_name: row.get("craftsman_name")?,
            language: row.get("language")?,
            whatsapp: WhatsAppContactRow::from_prefixed_row(row, "wa_")?,
            order: OrderRow::from_row(row)?,
        })
    }
}

/// What a worker needs to send the claimed deliveries `ids`, read after the claim
/// is committed.
pub(super) fn claimed(conn: &Connection, ids: &[String]) -> StoreResult<Vec<ClaimedDelivery>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    // The ids as one JSON array: one statement text whatever their number, so it is
    // prepared once and cached.
    let rows = conn
        .prepare_cached(concat!(
            "SELECT d.id AS delivery_id, d.kind, d.attempts, d.schedule_base, d.delivered_parts, \
             d.channel_id, c.target, b.callback_url, b.callback_secret, \
             r.body AS response_body, \
             b.name AS buyer_name, k.name AS craftsman_name, k.language, \
             o.id, o.message_id, o.buyer_id, o.buyer_order_number, o.supplier_code, \
             o.craftsman_id, o.status, o.response, o.routed_at, o.reminded_at, o.body, \
             o.schema_version, o.created_at, o.updated_at, \
             w.wa_id AS wa_wa_id, w.opted_in_at AS wa_opted_in_at, \
             w.opt_in_source AS wa_opt_in_source, w.last_inbound_at AS wa_last_inbound_at \
             FROM deliveries d LEFT JOIN channels c ON c.id = d.channel_id \
             LEFT JOIN order_responses r ON r.id = d.response_id \
             JOIN orders o ON o.id = d.order_id JOIN buyers b ON b.id = o.buyer_id \
             JOIN craftsmen k ON k.id = o.craftsman_id \
             LEFT JOIN whatsapp_contacts w ON c.kind = 'whatsapp' AND w.wa_id = ",
            target_wa_id!("c.target"),
            " WHERE d.id IN (SELECT value FROM json_each(?1)) \
             ORDER BY d.next_attempt_at", // oldest due first, as they were chosen
        ))?
        .query_map([super::codec::json_text(&ids)?], ClaimRow::from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    rows.into_iter().map(ClaimedDelivery::try_from).collect()
}

pub(super) fn record_attempt(conn: &Connection, attempt: NewAttempt) -> StoreResult<Delivery> {
    let now_text = time_text(now());
    let (state, next_at, delivered_at) = match attempt.next {
        NextStep::Succeeded => ("succeeded", None, Some(&now_text)),
        NextStep::RetryAt(at) => ("pending", Some(time_text(at)), None),
        NextStep::Dead => ("dead", None, None),
    };
    // The guard on state and attempts records each attempt once, even if a lease
    // ran out and another claim sent the delivery again.
    let updated: Option<(String, Option<String>)> = conn
        .prepare_cached(
            "UPDATE deliveries SET state = ?2, attempts = ?3, next_attempt_at = ?4, \
             claimed_until = NULL, last_status_code = ?5, last_error = ?6, updated_at = ?7, \
             delivered_at = coalesce(?8, delivered_at), \
             schedule_base = schedule_base + CASE WHEN ?9 THEN 0 ELSE 1 END, \
             delivered_parts = ?10 \
             WHERE id = ?1 AND state = 'pending' AND attempts = ?3 - 1 \
             RETURNING order_id, channel_id",
        )?
        .query_row(
            params![
                &attempt.delivery_id,
                state,
                i64::from(attempt.attempt),
                next_at,
                attempt.status_code.map(i64::from),
                &attempt.error,
                &now_text,
                delivered_at,
                attempt.spends_schedule,
                super::codec::json_text(&attempt.delivered_parts)?,
            ],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .optional()?;
    let Some((order_id, channel_id)) = updated else {
        let exists: Option<String> = conn
            .prepare_cached("SELECT state FROM deliveries WHERE id = ?1")?
            .query_row(params![&attempt.delivery_id], |row| row.get(0))
            .optional()?;
        return Err(match exists {
            Some(state) => StoreError::Conflict(format!(
                "delivery {} is {state}, not pending at attempt {}",
                attempt.delivery_id, attempt.attempt
            )),
            None => StoreError::NotFound,
        });
    };
    conn.prepare_cached(
        "INSERT INTO delivery_attempts (delivery_id, attempt, started_at, duration_ms, \
         outcome, status_code, error, message_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?
    .execute(params![
        &attempt.delivery_id,
        i64::from(attempt.attempt),
        time_text(attempt.started_at),
        i64::try_from(attempt.duration_ms).unwrap_or(i64::MAX),
        attempt.outcome.as_str(),
        attempt.status_code.map(i64::from),
        &attempt.error,
        &attempt.message_id,
    ])?;
    sync_order_status(conn, &order_id, &now_text)?;

    // A buyer's callback that answers 410 has no channel to disable: the delivery
    // is dead, and later responses are still sent there until the admin removes it.
    if attempt.outcome == crate::store::AttemptOutcome::Disable
        && let Some(channel_id) = channel_id
    {
        let reason = attempt
            .error
            .clone()
            .unwrap_or_else(|| "the receiver asked to be left alone".into());
        disable_channel(conn, &channel_id, &reason, &now_text)?;
    }
    get_on(conn, &attempt.delivery_id)?.ok_or(StoreError::NotFound)
}

/// Disables a channel and kills its other pending deliveries, which would only be
/// refused too; an admin enables the channel and retries them.
fn disable_channel(
    conn: &Connection,
    channel_id: &str,
    reason: &str,
    now_text: &str,
) -> StoreResult<()> {
    conn.prepare_cached(
        "UPDATE channels SET disabled_at = ?2, disabled_reason = ?3 \
         WHERE id = ?1 AND disabled_at IS NULL",
    )?
    .execute(params![channel_id, now_text, reason])?;
    let orders = conn
        .prepare_cached(
            "UPDATE deliveries SET state = 'dead', next_attempt_at = NULL, claimed_until = NULL, \
             last_error = ?2, updated_at = ?3 WHERE channel_id = ?1 AND state = 'pending' \
             RETURNING order_id",
        )?
        .query_map(
            params![channel_id, format!("channel disabled: {reason}"), now_text],
            |row| row.get::<_, String>(0),
        )?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    for order_id in orders {
        sync_order_status(conn, &order_id, now_text)?;
    }
    Ok(())
}

/// Kills a buyer's pending callback deliveries: its callback is gone. An admin
/// retries them once it has one again.
pub(super) fn kill_callbacks(conn: &Connection, buyer_id: &str, reason: &str) -> StoreResult<()> {
    conn.prepare_cached(
        "UPDATE deliveries SET state = 'dead', next_attempt_at = NULL, claimed_until = NULL, \
         last_error = ?2, updated_at = ?3 WHERE state = 'pending' AND response_id IS NOT NULL \
         AND order_id IN (SELECT id FROM orders WHERE buyer_id = ?1)",
    )?
    .execute(params![buyer_id, reason, time_text(now())])?;
    Ok(())
}

pub(super) fn release_claims(conn: &Connection) -> StoreResult<u64> {
    let released = conn
        .prepare_cached(
            "UPDATE deliveries SET claimed_until = NULL \
             WHERE state = 'pending' AND claimed_until IS NOT NULL",
        )?
        .execute([])?;
    Ok(released as u64)
}

pub(super) fn next_due_at(conn: &Connection) -> StoreResult<Option<DateTime<Utc>>> {
    let due: Option<String> = conn
        .prepare_cached(NEXT_DUE)?
        .query_row([], |row| row.get(0))
        .optional()?;
    due.as_deref().map(parse_time).transpose()
}

pub(super) fn retry(conn: &Connection, id: String) -> StoreResult<Delivery> {
    let now_text = time_text(now());
    // In an UPDATE every right-hand side sees the row as it was: `state` below is
    // the old state. An in-flight (claimed) pending delivery keeps its claim.
    let order_id: Option<String> = conn
        .prepare_cached(
            "UPDATE deliveries SET \
               schedule_base = CASE WHEN state = 'dead' THEN attempts ELSE schedule_base END, \
               claimed_until = CASE WHEN state = 'dead' THEN NULL ELSE claimed_until END, \
               state = 'pending', next_attempt_at = ?2, updated_at = ?2 \
             WHERE id = ?1 AND state IN ('pending', 'dead') AND (channel_id IN \
               (SELECT id FROM channels WHERE disabled_at IS NULL) \
               OR response_id IS NOT NULL AND order_id IN (SELECT o.id FROM orders o \
                 JOIN buyers b ON b.id = o.buyer_id WHERE b.callback_url IS NOT NULL)) \
             RETURNING order_id",
        )?
        .query_row(params![&id, &now_text], |row| row.get(0))
        .optional()?;
    let Some(order_id) = order_id else {
        let found: Option<(String, Option<String>, bool)> = conn
            .prepare_cached(
                "SELECT d.state, c.disabled_reason, \
                 d.response_id IS NOT NULL AND b.callback_url IS NULL \
                 FROM deliveries d LEFT JOIN channels c ON c.id = d.channel_id \
                 JOIN orders o ON o.id = d.order_id JOIN buyers b ON b.id = o.buyer_id \
                 WHERE d.id = ?1",
            )?
            .query_row(params![&id], |row| {
                Ok((row.get(0)?, row.get(1)?, row.get(2)?))
            })
            .optional()?;
        return Err(match found {
            None => StoreError::NotFound,
            Some((_, Some(reason), _)) => StoreError::Conflict(format!(
                "the delivery's channel is disabled ({reason}); enable the channel first"
            )),
            Some((_, None, true)) => {
                StoreError::Conflict("the buyer has no callback_url; set one first".into())
            }
            Some((state, None, false)) => {
                StoreError::Conflict(format!("delivery {id} is {state}; nothing to retry"))
            }
        });
    };
    sync_order_status(conn, &order_id, &now_text)?;
    get_on(conn, &id)?.ok_or(StoreError::NotFound)
}

fn get_on(conn: &Connection, id: &str) -> StoreResult<Option<Delivery>> {
    let row = conn
        .prepare_cached(concat!(
            "SELECT ",
            delivery_columns!(),
            " FROM ",
            delivery_tables!(),
            " WHERE d.id = ?1"
        ))?
        .query_row(params![id], DeliveryRow::from_row)
        .optional()?;
    row.map(Delivery::try_from).transpose()
}

pub(super) fn get(conn: &Connection, id: &str) -> StoreResult<Option<Delivery>> {
    get_on(conn, id)
}

pub(super) fn attempts(conn: &Connection, delivery_id: &str) -> StoreResult<Vec<DeliveryAttempt>> {
    let rows = conn
        .prepare_cached(
            "SELECT delivery_id, attempt, started_at, duration_ms, outcome, status_code, error, \
             message_id, receipt, receipt_at \
             FROM delivery_attempts WHERE delivery_id = ?1 ORDER BY attempt",
        )?
        .query_map(params![delivery_id], DeliveryAttemptRow::from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    rows.into_iter().map(DeliveryAttempt::try_from).collect()
}

pub(super) fn list(conn: &Connection, query: DeliveryQuery) -> StoreResult<DeliveryPage> {
    let limit = page_limit(query.limit);
    let (sql, params) = list_query(query, limit);
    let rows = conn
        .prepare_cached(&sql)?
        .query_map(params_from_iter(params), DeliveryRow::from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let deliveries = rows
        .into_iter()
        .map(Delivery::try_from)
        .collect::<Result<Vec<_>, _>>()?;
    let (deliveries, next_cursor) = split_page(deliveries, limit, |d| &d.id);
    Ok(DeliveryPage {
        deliveries,
        next_cursor,
    })
}

pub(super) fn stats(conn: &Connection) -> StoreResult<DeliveryStats> {
    let tx = conn.unchecked_transaction()?;
    // Pending and dead deliveries are counted in their partial indexes; the
    // rest have succeeded (migration 19 keeps no index of every state).
    let (all, pending, dead): (i64, i64, i64) = tx
        .prepare_cached(
            "SELECT (SELECT count(*) FROM deliveries), \
             (SELECT count(*) FROM deliveries WHERE state = 'pending'), \
             (SELECT count(*) FROM deliveries WHERE state = 'dead')",
        )?
        .query_row([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))?;
    let oldest: Option<String> = tx
        .prepare_cached(
            "SELECT next_attempt_at FROM deliveries WHERE state = 'pending' \
             ORDER BY next_attempt_at LIMIT 1",
        )?
        .query_row([], |row| row.get(0))
        .optional()?;
    let unrouted: i64 = tx
        .prepare_cached("SELECT count(*) FROM orders WHERE status = 'unrouted'")?
        .query_row([], |row| row.get(0))?;
    tx.commit()?;
    let count = |n: i64| u64::try_from(n).unwrap_or(0);
    Ok(DeliveryStats {
        pending: count(pending),
        succeeded: count(all - pending - dead),
        dead: count(dead),
        oldest_due_at: oldest.as_deref().map(parse_time).transpose()?,
        unrouted_orders: count(unrouted),
    })
}

pub(super) fn sent_message(
    conn: &Connection,
    message_id: &str,
) -> StoreResult<Option<SentMessage>> {
    let row = conn
        .prepare_cached(
            "SELECT a.delivery_id, a.attempt, a.receipt, d.attempts, d.schedule_base, d.state \
             FROM delivery_attempts a JOIN deliveries d ON d.id = a.delivery_id \
             WHERE a.message_id = ?1 ORDER BY a.attempt DESC LIMIT 1",
        )?
        .query_row(params![message_id], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, i64>(1)?,
                row.get::<_, Option<String>>(2)?,
                row.get::<_, i64>(3)?,
                row.get::<_, i64>(4)?,
                row.get::<_, String>(5)?,
            ))
        })
        .optional()?;
    let Some((delivery_id, attempt, receipt, attempts, schedule_base, state)) = row else {
        return Ok(None);
    };
    let attempts = count(attempts)?;
    Ok(Some(SentMessage {
        delivery_id,
        attempt: count(attempt)?,
        attempts,
        attempts_in_schedule: attempts.saturating_sub(count(schedule_base)?),
        state: state.parse().map_err(decode)?,
        receipt: receipt
            .as_deref()
            .map(str::parse)
            .transpose()
            .map_err(decode)?,
    }))
}

pub(super) fn record_receipt(
    conn: &Connection,
    message_id: &str,
    receipt: Receipt,
    at: DateTime<Utc>,
) -> StoreResult<bool> {
    // The rank, spelled out in SQL: a receipt never moves back.
    let changed = conn
        .prepare_cached(
            "UPDATE delivery_attempts SET receipt = ?2, receipt_at = ?3 \
             WHERE message_id = ?1 AND ?4 > CASE receipt WHEN 'sent' THEN 1 \
               WHEN 'delivered' THEN 2 WHEN 'read' THEN 3 WHEN 'failed' THEN 4 ELSE 0 END",
        )?
        .execute(params![
            message_id,
            receipt.as_str(),
            time_text(at),
            i64::from(receipt.rank())
        ])?;
    Ok(changed > 0)
}

pub(super) fn reopen(conn: &Connection, reopen: Reopen) -> StoreResult<Option<Delivery>> {
    let now_text = time_text(now());
    let (state, next_at) = match reopen.next {
        NextStep::RetryAt(at) => ("pending", Some(time_text(at))),
        NextStep::Dead => ("dead", None),
        NextStep::Succeeded => {
            return Err(StoreError::Invalid(
                "a reopened delivery is pending or dead, not succeeded".into(),
            ));
        }
    };
    let order_id: Option<String> = conn
        .prepare_cached(
            "UPDATE deliveries SET state = ?3, next_attempt_at = ?4, claimed_until = NULL, \
             last_error = ?5, delivered_at = NULL, updated_at = ?6 \
             WHERE id = ?1 AND state = 'succeeded' AND attempts = ?2 RETURNING order_id",
        )?
        .query_row(
            params![
                &reopen.delivery_id,
                i64::from(reopen.attempt),
                state,
                next_at,
                &reopen.error,
                &now_text,
            ],
            |row| row.get(0),
        )
        .optional()?;
    let Some(order_id) = order_id else {
        return Ok(None);
    };
    conn.prepare_cached(
        "UPDATE delivery_attempts SET outcome = ?3, error = ?4, receipt = 'failed', \
         receipt_at = ?5 WHERE delivery_id = ?1 AND attempt = ?2",
    )?
    .execute(params![
        &reopen.delivery_id,
        i64::from(reopen.attempt),
        reopen.outcome.as_str(),
        &reopen.error,
        time_text(reopen.failed_at),
    ])?;
    sync_order_status(conn, &order_id, &now_text)?;
    get_on(conn, &reopen.delivery_id)
}

/// The statement of a page of [`list`] and its parameters.
pub(super) fn list_query(
    query: DeliveryQuery,
    limit: u32,
) -> (String, Vec<rusqlite::types::Value>) {
    page_query(
        concat!("SELECT ", delivery_columns!(), " FROM ", delivery_tables!()),
        "d.id",
        // Pending and dead deliveries have partial indexes (`deliveries_due`,
        // `deliveries_dead`); succeeded ones, most, are read in id order.
        query
            .state
            .map(|state| status_condition("d.state", state.as_str())),
        [("d.order_id", query.order_id)],
        query.after,
        limit,
    )
}
