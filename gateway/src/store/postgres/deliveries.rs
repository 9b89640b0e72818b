//! The outbox: routing an order writes its deliveries; workers claim the due ones
//! with a lease, and every attempt is recorded with what it decided, in one
//! transaction with the order's status.

use chrono::{DateTime, Utc};
use tokio_postgres::Row;

use super::codec::{
    ClaimRow, DeliveryAttemptRow, DeliveryRow, OrderRow, WhatsAppContactRow, classify, count,
    decode, json_text, now, parse_time, time_text,
};
use super::{Db, PgError, fetch_count, page_limit, page_params, page_query, rows, split_page};
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
            "replace(replace(replace((",
            $col,
            "::jsonb ->> 'to'), '+', ''), ' ', ''), '-', '')"
        )
    };
}
pub(super) use target_wa_id;

impl DeliveryRow {
    fn from_pg(row: &Row) -> Result<Self, PgError> {
        Ok(Self {
            id: row.try_get("id")?,
            order_id: row.try_get("order_id")?,
            kind: row.try_get("kind")?,
            craftsman_id: row.try_get("craftsman_id")?,
            channel_id: row.try_get("channel_id")?,
            response_id: row.try_get("response_id")?,
            channel: row.try_get("channel")?,
            state: row.try_get("state")?,
            attempts: row.try_get("attempts")?,
            next_attempt_at: row.try_get("next_attempt_at")?,
            last_status_code: row.try_get("last_status_code")?,
            last_error: row.try_get("last_error")?,
            created_at: row.try_get("created_at")?,
            updated_at: row.try_get("updated_at")?,
            delivered_at: row.try_get("delivered_at")?,
        })
    }
}

impl DeliveryAttemptRow {
    fn from_pg(row: &Row) -> Result<Self, PgError> {
        Ok(Self {
            delivery_id: row.try_get("delivery_id")?,
            attempt: row.try_get("attempt")?,
            started_at: row.try_get("started_at")?,
            duration_ms: row.try_get("duration_ms")?,
            outcome: row.try_get("outcome")?,
            status_code: row.try_get("status_code")?,
            error: row.try_get("error")?,
            message_id: row.try_get("message_id")?,
            receipt: row.try_get("receipt")?,
            receipt_at: row.try_get("receipt_at")?,
        })
    }
}

/// A craftsman's channels, as routing needs them: id, and why it is disabled.
pub(super) async fn channel_states(
    db: &dyn Db,
    craftsman_id: &str,
) -> StoreResult<Vec<ChannelState>> {
    // disabled_reason is set exactly when disabled_at is.
    let found = db
        .query(
            "SELECT id, disabled_reason FROM channels WHERE craftsman_id = $1 ORDER BY id",
            &[&craftsman_id],
        )
        .await?;
    rows(found, |row| {
        Ok(ChannelState {
            id: row.try_get(0)?,
            disabled_reason: row.try_get(1)?,
        })
    })
}

/// Writes the deliveries routing decided for `order_id`.
pub(super) async fn write_deliveries(
    db: &dyn Db,
    order_id: &str,
    deliveries: &[NewDelivery],
    now_text: &str,
) -> StoreResult<()> {
    for delivery in deliveries {
        let due = (delivery.state == DeliveryState::Pending).then_some(now_text);
        db.execute(
            "INSERT INTO deliveries (id, order_id, kind, channel_id, state, next_attempt_at, \
             last_error, created_at, updated_at) \
             VALUES ($1, $2, 'order', $3, $4, $5, $6, $7, $7)",
            &[
                &new_id("dlv"),
                &order_id,
                &delivery.channel_id,
                &delivery.state.as_str(),
                &due,
                &delivery.error,
                &now_text,
            ],
        )
        .await
        .map_err(|e| classify(&format!("delivery of order {order_id}"), e))?;
    }
    if deliveries
        .iter()
        .any(|delivery| delivery.state == DeliveryState::Pending)
    {
        db.outbox_changed();
    }
    Ok(())
}

/// Routes an order stored `unrouted` to `craftsman_id`, with its deliveries, as
/// [`routing::route`] decides. Runs inside the caller's write.
pub(super) async fn route(
    db: &dyn Db,
    order_id: &str,
    craftsman_id: &str,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let now_text = time_text(now);
    let (status, deliveries) = routing::route(&channel_states(db, craftsman_id).await?);
    db.execute(
        "UPDATE orders SET craftsman_id = $2, status = $3, routed_at = $4, updated_at = $4 \
         WHERE id = $1",
        &[&order_id, &craftsman_id, &status.as_str(), &now_text],
    )
    .await?;
    write_deliveries(db, order_id, &deliveries, &now_text).await
}

/// Makes a routed order's status follow its deliveries to its craftsman, as
/// [`routing::status_of`] derives it. Writes only when it changes.
async fn sync_order_status(db: &dyn Db, order_id: &str, now_text: &str) -> StoreResult<()> {
    let found = db
        .query(
            "SELECT state FROM deliveries WHERE order_id = $1 AND kind = 'order'",
            &[&order_id],
        )
        .await?;
    let states = rows(found, |row| row.try_get::<_, String>(0))?
        .iter()
        .map(|state| state.parse::<DeliveryState>().map_err(decode))
        .collect::<Result<Vec<_>, _>>()?;
    let status = routing::status_of(states);
    db.execute(
        "UPDATE orders SET status = $2, updated_at = $3 \
         WHERE id = $1 AND craftsman_id IS NOT NULL AND status <> $2",
        &[&order_id, &status.as_str(), &now_text],
    )
    .await?;
    Ok(())
}

/// Takes the oldest due deliveries for a lease held by `instance`; returns their
/// ids. A delivery whose lease ran out is due again. Rows another instance is
/// claiming (or recording an attempt of) at this moment are skipped, not waited
/// for, so instances claiming at once each take different deliveries.
pub(super) async fn claim(
    db: &dyn Db,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
    instance: &str,
    limit: u32,
) -> StoreResult<Vec<String>> {
    let now_text = time_text(now);
    let found = db
        .query(
            "UPDATE deliveries SET claimed_until = $2, claimed_by = $4 WHERE id IN ( \
               SELECT id FROM deliveries WHERE state = 'pending' AND next_attempt_at <= $1 \
               AND (claimed_until IS NULL OR claimed_until <= $1) \
               ORDER BY next_attempt_at LIMIT $3 FOR UPDATE SKIP LOCKED) \
             RETURNING id",
            &[&now_text, &time_text(until), &i64::from(limit), &instance],
        )
        .await?;
    rows(found, |row| row.try_get::<_, String>(0))
}

impl ClaimRow {
    fn from_pg(row: &Row) -> Result<Self, PgError> {
        Ok(Self {
            delivery_id: row.try_get("delivery_id")?,
            kind: row.try_get("kind")?,
            attempts: row.try_get("attempts")?,
            schedule_base: row.try_get("schedule_base")?,
            delivered_parts: row.try_get("delivered_parts")?,
            channel_id: row.try_get("channel_id")?,
            target: row.try_get("target")?,
            callback_url: row.try_get("callback_url")?,
            callback_secret: row.try_get("callback_secret")?,
            response: row.try_get("response_body")?,
            buyer_name: row.try_get("buyer_name")?,
            craftsman_name: row.try_get("craftsman_name")?,
            language: row.try_get("language")?,
            whatsapp: WhatsAppContactRow::from_prefixed_pg(row, "wa_")?,
            order: OrderRow::from_pg(row)?,
        })
    }
}

/// What a worker needs to send the claimed deliveries `ids`, read after the claim
/// is committed.
pub(super) async fn claimed(db: &dyn Db, ids: &[String]) -> StoreResult<Vec<ClaimedDelivery>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let found = db
        .query(
            concat!(
                "SELECT d.id AS delivery_id, d.kind, d.attempts, d.schedule_base, \
                 d.delivered_parts, d.channel_id, c.target, b.callback_url, b.callback_secret, \
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
                " WHERE d.id = ANY($1) \
                 ORDER BY d.next_attempt_at", // oldest due first, as they were chosen
            ),
            &[&ids],
        )
        .await?;
    rows(found, ClaimRow::from_pg)?
        .into_iter()
        .map(ClaimedDelivery::try_from)
        .collect()
}

pub(super) async fn record_attempt(db: &dyn Db, attempt: NewAttempt) -> StoreResult<Delivery> {
    let now_text = time_text(now());
    let (state, next_at, delivered_at) = match attempt.next {
        NextStep::Succeeded => ("succeeded", None, Some(&now_text)),
        NextStep::RetryAt(at) => ("pending", Some(time_text(at)), None),
        NextStep::Dead => ("dead", None, None),
    };
    // The guard on state and attempts records each attempt once, even if a lease
    // ran out and another claim sent the delivery again.
    let updated = db
        .query_opt(
            "UPDATE deliveries SET state = $2, attempts = $3::bigint, next_attempt_at = $4, \
             claimed_until = NULL, claimed_by = NULL, last_status_code = $5, last_error = $6, \
             updated_at = $7, delivered_at = coalesce($8, delivered_at), \
             schedule_base = schedule_base + CASE WHEN $9 THEN 0 ELSE 1 END, \
             delivered_parts = $10 \
             WHERE id = $1 AND state = 'pending' AND attempts = $3::bigint - 1 \
             RETURNING order_id, channel_id",
            &[
                &attempt.delivery_id,
                &state,
                &i64::from(attempt.attempt),
                &next_at,
                &attempt.status_code.map(i64::from),
                &attempt.error,
                &now_text,
                &delivered_at,
                &attempt.spends_schedule,
                &json_text(&attempt.delivered_parts)?,
            ],
        )
        .await?;
    let Some(updated) = updated else {
        let exists: Option<String> = db
            .query_opt(
                "SELECT state FROM deliveries WHERE id = $1",
                &[&attempt.delivery_id],
            )
            .await?
            .map(|row| row.try_get(0))
            .transpose()?;
        return Err(match exists {
            Some(state) => StoreError::Conflict(format!(
                "delivery {} is {state}, not pending at attempt {}",
                attempt.delivery_id, attempt.attempt
            )),
            None => StoreError::NotFound,
        });
    };
    let (order_id, channel_id): (String, Option<String>) =
        (updated.try_get(0)?, updated.try_get(1)?);
    db.execute(
        "INSERT INTO delivery_attempts (delivery_id, attempt, started_at, duration_ms, \
         outcome, status_code, error, message_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        &[
            &attempt.delivery_id,
            &i64::from(attempt.attempt),
            &time_text(attempt.started_at),
            &i64::try_from(attempt.duration_ms).unwrap_or(i64::MAX),
            &attempt.outcome.as_str(),
            &attempt.status_code.map(i64::from),
            &attempt.error,
            &attempt.message_id,
        ],
    )
    .await?;
    // Attempts are recorded side by side (see `PostgresStore::record_attempt`):
    // those of one order wait here for each other, so the status below is made
    // from every sibling's committed state.
    db.execute(
        "SELECT 1 FROM orders WHERE id = $1 FOR UPDATE",
        &[&order_id],
    )
    .await?;
    sync_order_status(db, &order_id, &now_text).await?;

    // A buyer's callback that answers 410 has no channel to disable: the delivery
    // is dead, and later responses are still sent there until the admin removes it.
    if attempt.outcome == crate::store::AttemptOutcome::Disable
        && let Some(channel_id) = channel_id
    {
        let reason = attempt
            .error
            .clone()
            .unwrap_or_else(|| "the receiver asked to be left alone".into());
        disable_channel(db, &channel_id, &reason, &now_text).await?;
    }
    get(db, &attempt.delivery_id)
        .await?
        .ok_or(StoreError::NotFound)
}

/// Disables a channel and kills its other pending deliveries, which would only be
/// refused too; an admin enables the channel and retries them.
async fn disable_channel(
    db: &dyn Db,
    channel_id: &str,
    reason: &str,
    now_text: &str,
) -> StoreResult<()> {
    db.execute(
        "UPDATE channels SET disabled_at = $2, disabled_reason = $3 \
         WHERE id = $1 AND disabled_at IS NULL",
        &[&channel_id, &now_text, &reason],
    )
    .await?;
    let found = db
        .query(
            "UPDATE deliveries SET state = 'dead', next_attempt_at = NULL, claimed_until = NULL, \
             claimed_by = NULL, last_error = $2, updated_at = $3 \
             WHERE channel_id = $1 AND state = 'pending' RETURNING order_id",
            &[
                &channel_id,
                &format!("channel disabled: {reason}"),
                &now_text,
            ],
        )
        .await?;
    for order_id in rows(found, |row| row.try_get::<_, String>(0))? {
        sync_order_status(db, &order_id, now_text).await?;
    }
    Ok(())
}

/// Kills a buyer's pending callback deliveries: its callback is gone. An admin
/// retries them once it has one again.
pub(super) async fn kill_callbacks(db: &dyn Db, buyer_id: &str, reason: &str) -> StoreResult<()> {
    db.execute(
        "UPDATE deliveries SET state = 'dead', next_attempt_at = NULL, claimed_until = NULL, \
         claimed_by = NULL, last_error = $2, updated_at = $3 \
         WHERE state = 'pending' AND response_id IS NOT NULL \
         AND order_id IN (SELECT id FROM orders WHERE buyer_id = $1)",
        &[&buyer_id, &reason, &time_text(now())],
    )
    .await?;
    Ok(())
}

/// Clears the leases that ran out by `now`; see `PostgresStore::release_claims`.
pub(super) async fn release_lapsed_claims(db: &dyn Db, now: DateTime<Utc>) -> StoreResult<u64> {
    Ok(db
        .execute(
            "UPDATE deliveries SET claimed_until = NULL, claimed_by = NULL \
             WHERE state = 'pending' AND claimed_until IS NOT NULL AND claimed_until <= $1",
            &[&time_text(now)],
        )
        .await?)
}

pub(super) async fn next_due_at(db: &dyn Db) -> StoreResult<Option<DateTime<Utc>>> {
    let due: Option<String> = db
        .query_opt(
            "SELECT next_attempt_at FROM deliveries WHERE state = 'pending' \
             AND claimed_until IS NULL ORDER BY next_attempt_at LIMIT 1",
            &[],
        )
        .await?
        .map(|row| row.try_get(0))
        .transpose()?;
    due.as_deref().map(parse_time).transpose()
}

pub(super) async fn retry(db: &dyn Db, id: &str) -> StoreResult<Delivery> {
    let now_text = time_text(now());
    // In an UPDATE every right-hand side sees the row as it was: `state` below is
    // the old state. An in-flight (claimed) pending delivery keeps its claim.
    let order_id: Option<String> = db
        .query_opt(
            "UPDATE deliveries SET \
               schedule_base = CASE WHEN state = 'dead' THEN attempts ELSE schedule_base END, \
               claimed_until = CASE WHEN state = 'dead' THEN NULL ELSE claimed_until END, \
               claimed_by = CASE WHEN state = 'dead' THEN NULL ELSE claimed_by END, \
               state = 'pending', next_attempt_at = $2, updated_at = $2 \
             WHERE id = $1 AND state IN ('pending', 'dead') AND (channel_id IN \
               (SELECT id FROM channels WHERE disabled_at IS NULL) \
               OR response_id IS NOT NULL AND order_id IN (SELECT o.id FROM orders o \
                 JOIN buyers b ON b.id = o.buyer_id WHERE b.callback_url IS NOT NULL)) \
             RETURNING order_id",
            &[&id, &now_text],
        )
        .await?
        .map(|row| row.try_get(0))
        .transpose()?;
    let Some(order_id) = order_id else {
        let found = db
            .query_opt(
                "SELECT d.state, c.disabled_reason, \
                 d.response_id IS NOT NULL AND b.callback_url IS NULL \
                 FROM deliveries d LEFT JOIN channels c ON c.id = d.channel_id \
                 JOIN orders o ON o.id = d.order_id JOIN buyers b ON b.id = o.buyer_id \
                 WHERE d.id = $1",
                &[&id],
            )
            .await?;
        let found: Option<(String, Option<String>, bool)> = found
            .map(|row| -> Result<_, PgError> {
                Ok((row.try_get(0)?, row.try_get(1)?, row.try_get(2)?))
            })
            .transpose()?;
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
    db.outbox_changed();
    sync_order_status(db, &order_id, &now_text).await?;
    get(db, id).await?.ok_or(StoreError::NotFound)
}

pub(super) async fn get(db: &dyn Db, id: &str) -> StoreResult<Option<Delivery>> {
    let row = db
        .query_opt(
            concat!(
                "SELECT ",
                delivery_columns!(),
                " FROM ",
                delivery_tables!(),
                " WHERE d.id = $1"
            ),
            &[&id],
        )
        .await?;
    row.as_ref()
        .map(DeliveryRow::from_pg)
        .transpose()?
        .map(Delivery::try_from)
        .transpose()
}

pub(super) async fn attempts(db: &dyn Db, delivery_id: &str) -> StoreResult<Vec<DeliveryAttempt>> {
    let found = db
        .query(
            "SELECT delivery_id, attempt, started_at, duration_ms, outcome, status_code, error, \
             message_id, receipt, receipt_at \
             FROM delivery_attempts WHERE delivery_id = $1 ORDER BY attempt",
            &[&delivery_id],
        )
        .await?;
    rows(found, DeliveryAttemptRow::from_pg)?
        .into_iter()
        .map(DeliveryAttempt::try_from)
        .collect()
}

pub(super) async fn list(db: &dyn Db, query: DeliveryQuery) -> StoreResult<DeliveryPage> {
    let limit = page_limit(query.limit);
    let (sql, params) = page_query(
        concat!("SELECT ", delivery_columns!(), " FROM ", delivery_tables!()),
        "d.id",
        [
            ("d.state", query.state.map(|s| s.as_str().to_owned())),
            ("d.order_id", query.order_id),
        ],
        query.after,
    );
    let fetch = fetch_count(limit);
    let found = db.query(&sql, &page_params(&params, &fetch)).await?;
    let deliveries = rows(found, DeliveryRow::from_pg)?
        .into_iter()
        .map(Delivery::try_from)
        .collect::<Result<Vec<_>, _>>()?;
    let (deliveries, next_cursor) = split_page(deliveries, limit, |d| &d.id);
    Ok(DeliveryPage {
        deliveries,
        next_cursor,
    })
}

/// Called on one snapshot: the counts agree.
pub(super) async fn stats(db: &dyn Db) -> StoreResult<DeliveryStats> {
    let counts = db
        .query("SELECT state, count(*) FROM deliveries GROUP BY state", &[])
        .await?;
    let counts = rows(counts, |row| {
        Ok((row.try_get::<_, String>(0)?, row.try_get::<_, i64>(1)?))
    })?;
    let oldest: Option<String> = db
        .query_opt(
            "SELECT next_attempt_at FROM deliveries WHERE state = 'pending' \
             ORDER BY next_attempt_at LIMIT 1",
            &[],
        )
        .await?
        .map(|row| row.try_get(0))
        .transpose()?;
    let unrouted: i64 = db
        .query_first("SELECT count(*) FROM orders WHERE status = 'unrouted'", &[])
        .await?
        .try_get(0)?;
    let mut stats = DeliveryStats {
        oldest_due_at: oldest.as_deref().map(parse_time).transpose()?,
        unrouted_orders: u64::try_from(unrouted).unwrap_or(0),
        ..DeliveryStats::default()
    };
    for (state, n) in counts {
        let n = u64::try_from(n).unwrap_or(0);
        match state.as_str() {
            "pending" => stats.pending = n,
            "succeeded" => stats.succeeded = n,
            "dead" => stats.dead = n,
            other => return Err(decode(format!("unknown delivery state {other:?}"))),
        }
    }
    Ok(stats)
}

pub(super) async fn sent_message(
    db: &dyn Db,
    message_id: &str,
) -> StoreResult<Option<SentMessage>> {
    let row = db
        .query_opt(
            "SELECT a.delivery_id, a.attempt, a.receipt, d.attempts, d.schedule_base, d.state \
             FROM delivery_attempts a JOIN deliveries d ON d.id = a.delivery_id \
             WHERE a.message_id = $1 ORDER BY a.attempt DESC LIMIT 1",
            &[&message_id],
        )
        .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let (delivery_id, attempt, receipt, attempts, schedule_base, state): (
        String,
        i64,
        Option<String>,
        i64,
        i64,
        String,
    ) = (
        row.try_get(0)?,
        row.try_get(1)?,
        row.try_get(2)?,
        row.try_get(3)?,
        row.try_get(4)?,
        row.try_get(5)?,
    );
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

pub(super) async fn record_receipt(
    db: &dyn Db,
    message_id: &str,
    receipt: Receipt,
    at: DateTime<Utc>,
) -> StoreResult<bool> {
    // The rank, spelled out in SQL: a receipt never moves back.
    let changed = db
        .execute(
            "UPDATE delivery_attempts SET receipt = $2, receipt_at = $3 \
             WHERE message_id = $1 AND $4::bigint > CASE receipt WHEN 'sent' THEN 1 \
               WHEN 'delivered' THEN 2 WHEN 'read' THEN 3 WHEN 'failed' THEN 4 ELSE 0 END",
            &[
                &message_id,
                &receipt.as_str(),
                &time_text(at),
                &i64::from(receipt.rank()),
            ],
        )
        .await?;
    Ok(changed > 0)
}

pub(super) async fn reopen(db: &dyn Db, reopen: Reopen) -> StoreResult<Option<Delivery>> {
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
    let order_id: Option<String> = db
        .query_opt(
            "UPDATE deliveries SET state = $3, next_attempt_at = $4, claimed_until = NULL, \
             claimed_by = NULL, last_error = $5, delivered_at = NULL, updated_at = $6 \
             WHERE id = $1 AND state = 'succeeded' AND attempts = $2 RETURNING order_id",
            &[
                &reopen.delivery_id,
                &i64::from(reopen.attempt),
                &state,
                &next_at,
                &reopen.error,
                &now_text,
            ],
        )
        .await?
        .map(|row| row.try_get(0))
        .transpose()?;
    let Some(order_id) = order_id else {
        return Ok(None);
    };
    db.execute(
        "UPDATE delivery_attempts SET outcome = $3, error = $4, receipt = 'failed', \
         receipt_at = $5 WHERE delivery_id = $1 AND attempt = $2",
        &[
            &reopen.delivery_id,
            &i64::from(reopen.attempt),
            &reopen.outcome.as_str(),
            &reopen.error,
            &time_text(reopen.failed_at),
        ],
    )
    .await?;
    sync_order_status(db, &order_id, &now_text).await?;
    get(db, &reopen.delivery_id).await
}
