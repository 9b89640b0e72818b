//! The outbox: routing an order writes its deliveries; workers claim the due ones,
//! and every attempt is recorded with what it decided, in one transaction with the
//! order's status.

use chrono::{DateTime, Utc};
use sqlx::{QueryBuilder, Sqlite, SqliteConnection};

use super::codec::{OrderRow, classify, count, decode, now, parse_time, time_text};
use super::craftsmen::parse_language;
use super::{SqliteStore, page_limit, push_page_filters, split_page};
use crate::secrets::new_id;
use crate::store::routing::{self, ChannelState, NewDelivery};
use crate::store::{
    ClaimedDelivery, Delivery, DeliveryAttempt, DeliveryPage, DeliveryQuery, DeliveryState,
    DeliveryStats, NewAttempt, NextStep, OrderRecord, StoreError, StoreResult,
};

#[derive(sqlx::FromRow)]
struct DeliveryRow {
    id: String,
    order_id: String,
    craftsman_id: String,
    channel_id: String,
    channel: String,
    state: String,
    attempts: i64,
    next_attempt_at: Option<String>,
    last_status_code: Option<i64>,
    last_error: Option<String>,
    created_at: String,
    updated_at: String,
    delivered_at: Option<String>,
}

fn status_code(code: Option<i64>) -> Result<Option<u16>, sqlx::Error> {
    code.map(|c| u16::try_from(c).map_err(|e| decode(e.to_string())))
        .transpose()
}

impl TryFrom<DeliveryRow> for Delivery {
    type Error = sqlx::Error;

    fn try_from(row: DeliveryRow) -> Result<Self, Self::Error> {
        Ok(Delivery {
            state: row.state.parse().map_err(decode)?,
            attempts: count(row.attempts)?,
            next_attempt_at: row.next_attempt_at.as_deref().map(parse_time).transpose()?,
            last_status_code: status_code(row.last_status_code)?,
            created_at: parse_time(&row.created_at)?,
            updated_at: parse_time(&row.updated_at)?,
            delivered_at: row.delivered_at.as_deref().map(parse_time).transpose()?,
            id: row.id,
            order_id: row.order_id,
            craftsman_id: row.craftsman_id,
            channel_id: row.channel_id,
            channel: row.channel,
            last_error: row.last_error,
        })
    }
}

#[derive(sqlx::FromRow)]
struct AttemptRow {
    delivery_id: String,
    attempt: i64,
    started_at: String,
    duration_ms: i64,
    outcome: String,
    status_code: Option<i64>,
    error: Option<String>,
}

impl TryFrom<AttemptRow> for DeliveryAttempt {
    type Error = sqlx::Error;

    fn try_from(row: AttemptRow) -> Result<Self, Self::Error> {
        Ok(DeliveryAttempt {
            attempt: count(row.attempt)?,
            started_at: parse_time(&row.started_at)?,
            duration_ms: u64::try_from(row.duration_ms).map_err(|e| decode(e.to_string()))?,
            outcome: row.outcome.parse().map_err(decode)?,
            status_code: status_code(row.status_code)?,
            delivery_id: row.delivery_id,
            error: row.error,
        })
    }
}

/// A craftsman's channels, as routing needs them: id, and why it is disabled.
pub(super) async fn channel_states(
    conn: &mut SqliteConnection,
    craftsman_id: &str,
) -> Result<Vec<ChannelState>, sqlx::Error> {
    // disabled_reason is set exactly when disabled_at is.
    let rows: Vec<(String, Option<String>)> = sqlx::query_as(
        "SELECT id, disabled_reason FROM channels WHERE craftsman_id = ?1 ORDER BY id",
    )
    .bind(craftsman_id)
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, disabled_reason)| ChannelState {
            id,
            disabled_reason,
        })
        .collect())
}

/// Writes the deliveries routing decided for `order_id`.
pub(super) async fn write_deliveries(
    conn: &mut SqliteConnection,
    order_id: &str,
    deliveries: &[NewDelivery],
    now_text: &str,
) -> StoreResult<()> {
    for delivery in deliveries {
        let due = (delivery.state == DeliveryState::Pending).then_some(now_text);
        sqlx::query(
            "INSERT INTO deliveries (id, order_id, channel_id, state, next_attempt_at, \
             last_error, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)",
        )
        .bind(new_id("dlv"))
        .bind(order_id)
        .bind(&delivery.channel_id)
        .bind(delivery.state.as_str())
        .bind(due)
        .bind(&delivery.error)
        .bind(now_text)
        .execute(&mut *conn)
        .await
        .map_err(|e| classify(&format!("delivery of order {order_id}"), e))?;
    }
    Ok(())
}

/// Routes an order stored `unrouted` to `craftsman_id`, with its deliveries, as
/// [`routing::route`] decides. Runs inside the caller's write. (A new order is
/// written routed at once, see `messages::complete`.)
pub(super) async fn route(
    conn: &mut SqliteConnection,
    order_id: &str,
    craftsman_id: &str,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let now_text = time_text(now);
    let (status, deliveries) = routing::route(&channel_states(conn, craftsman_id).await?);
    sqlx::query("UPDATE orders SET craftsman_id = ?2, status = ?3, updated_at = ?4 WHERE id = ?1")
        .bind(order_id)
        .bind(craftsman_id)
        .bind(status.as_str())
        .bind(&now_text)
        .execute(&mut *conn)
        .await?;
    write_deliveries(conn, order_id, &deliveries, &now_text).await
}

/// Makes a routed order's status follow its deliveries, as [`routing::status_of`]
/// derives it. Writes only when it changes.
async fn sync_order_status(
    conn: &mut SqliteConnection,
    order_id: &str,
    now_text: &str,
) -> StoreResult<()> {
    let states: Vec<String> =
        sqlx::query_scalar("SELECT state FROM deliveries WHERE order_id = ?1")
            .bind(order_id)
            .fetch_all(&mut *conn)
            .await?;
    let states = states
        .iter()
        .map(|state| state.parse::<DeliveryState>().map_err(decode))
        .collect::<Result<Vec<_>, _>>()?;
    let status = routing::status_of(states);
    sqlx::query(
        "UPDATE orders SET status = ?2, updated_at = ?3 \
         WHERE id = ?1 AND craftsman_id IS NOT NULL AND status <> ?2",
    )
    .bind(order_id)
    .bind(status.as_str())
    .bind(now_text)
    .execute(conn)
    .await?;
    Ok(())
}

/// Takes the oldest due deliveries for a lease; returns their ids.
pub(super) async fn claim(
    conn: &mut SqliteConnection,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
    limit: u32,
) -> StoreResult<Vec<String>> {
    let now_text = time_text(now);
    Ok(sqlx::query_scalar(
        "UPDATE deliveries SET claimed_until = ?2 WHERE id IN ( \
           SELECT id FROM deliveries WHERE state = 'pending' AND next_attempt_at <= ?1 \
           AND (claimed_until IS NULL OR claimed_until <= ?1) \
           ORDER BY next_attempt_at LIMIT ?3) \
         RETURNING id",
    )
    .bind(&now_text)
    .bind(time_text(until))
    .bind(i64::from(limit))
    .fetch_all(conn)
    .await?)
}

#[derive(sqlx::FromRow)]
struct ClaimRow {
    delivery_id: String,
    attempts: i64,
    schedule_base: i64,
    channel_id: String,
    target: String,
    buyer_name: String,
    craftsman_name: String,
    language: String,
    #[sqlx(flatten)]
    order: OrderRow,
}

/// What a worker needs to send the claimed deliveries `ids`, read after the claim
/// is committed.
pub(super) async fn claimed(
    store: &SqliteStore,
    ids: &[String],
) -> StoreResult<Vec<ClaimedDelivery>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut sql = QueryBuilder::<Sqlite>::new(
        "SELECT d.id AS delivery_id, d.attempts, d.schedule_base, d.channel_id, c.target, \
         b.name AS buyer_name, k.name AS craftsman_name, k.language, \
         o.id, o.message_id, o.buyer_id, o.buyer_order_number, o.supplier_code, \
         o.craftsman_id, o.status, o.body, o.created_at, o.updated_at \
         FROM deliveries d JOIN channels c ON c.id = d.channel_id \
         JOIN orders o ON o.id = d.order_id JOIN buyers b ON b.id = o.buyer_id \
         JOIN craftsmen k ON k.id = c.craftsman_id WHERE d.id IN (",
    );
    let mut list = sql.separated(", ");
    for id in ids {
        list.push_bind(id);
    }
    // Oldest due first, as they were chosen.
    sql.push(") ORDER BY d.next_attempt_at");
    let rows: Vec<ClaimRow> = sql.build_query_as().fetch_all(&store.reader).await?;
    let claimed = rows
        .into_iter()
        .map(|row| {
            let attempts = count(row.attempts)?;
            Ok(ClaimedDelivery {
                attempt: attempts + 1,
                attempts_in_schedule: attempts.saturating_sub(count(row.schedule_base)?),
                target: super::codec::parse_json(&row.target)?,
                language: parse_language(&row.language)?,
                order: OrderRecord::try_from(row.order)?,
                id: row.delivery_id,
                channel_id: row.channel_id,
                buyer_name: row.buyer_name,
                craftsman_name: row.craftsman_name,
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
    Ok(claimed)
}

pub(super) async fn record_attempt(
    conn: &mut SqliteConnection,
    attempt: NewAttempt,
) -> StoreResult<Delivery> {
    let now_text = time_text(now());
    let (state, next_at, delivered_at) = match attempt.next {
        NextStep::Succeeded => ("succeeded", None, Some(&now_text)),
        NextStep::RetryAt(at) => ("pending", Some(time_text(at)), None),
        NextStep::Dead => ("dead", None, None),
    };
    // The guard on state and attempts records each attempt once, even if a lease
    // ran out and another claim sent the delivery again.
    let updated: Option<(String, String)> = sqlx::query_as(
        "UPDATE deliveries SET state = ?2, attempts = ?3, next_attempt_at = ?4, \
         claimed_until = NULL, last_status_code = ?5, last_error = ?6, updated_at = ?7, \
         delivered_at = coalesce(?8, delivered_at) \
         WHERE id = ?1 AND state = 'pending' AND attempts = ?3 - 1 \
         RETURNING order_id, channel_id",
    )
    .bind(&attempt.delivery_id)
    .bind(state)
    .bind(i64::from(attempt.attempt))
    .bind(next_at)
    .bind(attempt.status_code.map(i64::from))
    .bind(&attempt.error)
    .bind(&now_text)
    .bind(delivered_at)
    .fetch_optional(&mut *conn)
    .await?;
    let Some((order_id, channel_id)) = updated else {
        let exists: Option<String> =
            sqlx::query_scalar("SELECT state FROM deliveries WHERE id = ?1")
                .bind(&attempt.delivery_id)
                .fetch_optional(&mut *conn)
                .await?;
        return Err(match exists {
            Some(state) => StoreError::Conflict(format!(
                "delivery {} is {state}, not pending at attempt {}",
                attempt.delivery_id, attempt.attempt
            )),
            None => StoreError::NotFound,
        });
    };
    sqlx::query(
        "INSERT INTO delivery_attempts (delivery_id, attempt, started_at, duration_ms, \
         outcome, status_code, error) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )
    .bind(&attempt.delivery_id)
    .bind(i64::from(attempt.attempt))
    .bind(time_text(attempt.started_at))
    .bind(i64::try_from(attempt.duration_ms).unwrap_or(i64::MAX))
    .bind(attempt.outcome.as_str())
    .bind(attempt.status_code.map(i64::from))
    .bind(&attempt.error)
    .execute(&mut *conn)
    .await?;
    sync_order_status(conn, &order_id, &now_text).await?;

    if attempt.outcome == crate::store::AttemptOutcome::Disable {
        let reason = attempt
            .error
            .clone()
            .unwrap_or_else(|| "the receiver asked to be left alone".into());
        disable_channel(conn, &channel_id, &reason, &now_text).await?;
    }
    get_on(conn, &attempt.delivery_id)
        .await?
        .ok_or(StoreError::NotFound)
}

/// Disables a channel and kills its other pending deliveries, which would only be
/// refused too; an admin enables the channel and retries them.
async fn disable_channel(
    conn: &mut SqliteConnection,
    channel_id: &str,
    reason: &str,
    now_text: &str,
) -> StoreResult<()> {
    sqlx::query(
        "UPDATE channels SET disabled_at = ?2, disabled_reason = ?3 \
         WHERE id = ?1 AND disabled_at IS NULL",
    )
    .bind(channel_id)
    .bind(now_text)
    .bind(reason)
    .execute(&mut *conn)
    .await?;
    let orders: Vec<String> = sqlx::query_scalar(
        "UPDATE deliveries SET state = 'dead', next_attempt_at = NULL, claimed_until = NULL, \
         last_error = ?2, updated_at = ?3 WHERE channel_id = ?1 AND state = 'pending' \
         RETURNING order_id",
    )
    .bind(channel_id)
    .bind(format!("channel disabled: {reason}"))
    .bind(now_text)
    .fetch_all(&mut *conn)
    .await?;
    for order_id in orders {
        sync_order_status(conn, &order_id, now_text).await?;
    }
    Ok(())
}

pub(super) async fn release_claims(conn: &mut SqliteConnection) -> StoreResult<u64> {
    Ok(sqlx::query(
        "UPDATE deliveries SET claimed_until = NULL \
         WHERE state = 'pending' AND claimed_until IS NOT NULL",
    )
    .execute(conn)
    .await?
    .rows_affected())
}

pub(super) async fn next_due_at(store: &SqliteStore) -> StoreResult<Option<DateTime<Utc>>> {
    let due: Option<String> = sqlx::query_scalar(
        "SELECT next_attempt_at FROM deliveries WHERE state = 'pending' \
         AND claimed_until IS NULL ORDER BY next_attempt_at LIMIT 1",
    )
    .fetch_optional(&store.reader)
    .await?;
    Ok(due.as_deref().map(parse_time).transpose()?)
}

pub(super) async fn retry(conn: &mut SqliteConnection, id: String) -> StoreResult<Delivery> {
    let now_text = time_text(now());
    // In an UPDATE every right-hand side sees the row as it was: `state` below is
    // the old state. An in-flight (claimed) pending delivery keeps its claim.
    let order_id: Option<String> = sqlx::query_scalar(
        "UPDATE deliveries SET \
           schedule_base = CASE WHEN state = 'dead' THEN attempts ELSE schedule_base END, \
           claimed_until = CASE WHEN state = 'dead' THEN NULL ELSE claimed_until END, \
           state = 'pending', next_attempt_at = ?2, updated_at = ?2 \
         WHERE id = ?1 AND state IN ('pending', 'dead') AND channel_id IN \
           (SELECT id FROM channels WHERE disabled_at IS NULL) \
         RETURNING order_id",
    )
    .bind(&id)
    .bind(&now_text)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(order_id) = order_id else {
        let found: Option<(String, Option<String>)> = sqlx::query_as(
            "SELECT d.state, c.disabled_reason FROM deliveries d \
             JOIN channels c ON c.id = d.channel_id WHERE d.id = ?1",
        )
        .bind(&id)
        .fetch_optional(&mut *conn)
        .await?;
        return Err(match found {
            None => StoreError::NotFound,
            Some((_, Some(reason))) => StoreError::Conflict(format!(
                "the delivery's channel is disabled ({reason}); enable the channel first"
            )),
            Some((state, None)) => {
                StoreError::Conflict(format!("delivery {id} is {state}; nothing to retry"))
            }
        });
    };
    sync_order_status(conn, &order_id, &now_text).await?;
    get_on(conn, &id).await?.ok_or(StoreError::NotFound)
}

async fn get_on(conn: &mut SqliteConnection, id: &str) -> StoreResult<Option<Delivery>> {
    let row: Option<DeliveryRow> = sqlx::query_as(concat!(
        "SELECT ",
        delivery_columns!(),
        " FROM deliveries d JOIN channels c ON c.id = d.channel_id WHERE d.id = ?1"
    ))
    .bind(id)
    .fetch_optional(conn)
    .await?;
    Ok(row.map(Delivery::try_from).transpose()?)
}

pub(super) async fn get(store: &SqliteStore, id: &str) -> StoreResult<Option<Delivery>> {
    let mut conn = store.reader.acquire().await?;
    get_on(&mut conn, id).await
}

pub(super) async fn attempts(
    store: &SqliteStore,
    delivery_id: &str,
) -> StoreResult<Vec<DeliveryAttempt>> {
    let rows: Vec<AttemptRow> = sqlx::query_as(
        "SELECT delivery_id, attempt, started_at, duration_ms, outcome, status_code, error \
         FROM delivery_attempts WHERE delivery_id = ?1 ORDER BY attempt",
    )
    .bind(delivery_id)
    .fetch_all(&store.reader)
    .await?;
    Ok(rows
        .into_iter()
        .map(DeliveryAttempt::try_from)
        .collect::<Result<_, _>>()?)
}

pub(super) async fn list(store: &SqliteStore, query: DeliveryQuery) -> StoreResult<DeliveryPage> {
    let limit = page_limit(query.limit);
    let mut sql = QueryBuilder::<Sqlite>::new(concat!(
        "SELECT ",
        delivery_columns!(),
        " FROM deliveries d JOIN channels c ON c.id = d.channel_id"
    ));
    push_page_filters(
        &mut sql,
        "d.id",
        [
            ("d.state", query.state.map(|s| s.as_str().to_owned())),
            ("d.order_id", query.order_id),
            ("", None),
        ],
        query.after,
        limit,
    );
    let rows: Vec<DeliveryRow> = sql.build_query_as().fetch_all(&store.reader).await?;
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

pub(super) async fn stats(store: &SqliteStore) -> StoreResult<DeliveryStats> {
    let mut tx = store.reader.begin().await?;
    let counts: Vec<(String, i64)> =
        sqlx::query_as("SELECT state, count(*) FROM deliveries GROUP BY state")
            .fetch_all(&mut *tx)
            .await?;
    let oldest: Option<String> = sqlx::query_scalar(
        "SELECT next_attempt_at FROM deliveries WHERE state = 'pending' \
         ORDER BY next_attempt_at LIMIT 1",
    )
    .fetch_optional(&mut *tx)
    .await?;
    let unrouted: i64 = sqlx::query_scalar("SELECT count(*) FROM orders WHERE status = 'unrouted'")
        .fetch_one(&mut *tx)
        .await?;
    tx.commit().await?;
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
            other => return Err(decode(format!("unknown delivery state {other:?}")).into()),
        }
    }
    Ok(stats)
}
