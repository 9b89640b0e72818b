//! Inbound messages: stored raw, completed once with their orders, reopened for a
//! replay only when they failed.

use std::collections::HashMap;

use rusqlite::{Connection, OptionalExtension, params};

use super::codec::{
    AttemptRow, MessageRow, MessageSummaryRow, STORED_ORDER_VERSION, TransactionRow, classify,
    json_text, now, time_text, transaction_columns,
};
use super::deliveries::{channel_states, write_deliveries};
use super::{buyer_filter, page_limit, page_query, split_page, status_condition};
use crate::store::outcome::{Outcome, Route, plan};
use crate::store::routing;
use crate::store::{
    InsertedMessage, Message, MessageAttempt, MessageOutcome, MessagePage, MessageQuery,
    MessageStatus, NewMessage, NewOrder, OrderStatus, PluginRef, Purged, RecordedMessage,
    Retention, StoreError, StoreResult, StoredResponse, TransactionRecord,
};

/// A message's transactions by index, with their orders as they are now, read on
/// the caller's connection or transaction.
fn transactions_of(conn: &Connection, message_id: &str) -> StoreResult<Vec<TransactionRecord>> {
    let rows = conn
        .prepare_cached(concat!(
            "SELECT ",
            transaction_columns!(),
            " FROM transactions t LEFT JOIN orders o ON o.id = t.order_id \
             WHERE t.message_id = ?1 ORDER BY t.idx"
        ))?
        .query_map([message_id], TransactionRow::from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    rows.into_iter().map(TransactionRecord::try_from).collect()
}

/// A message row with its orders and transactions, read on one connection. Every
/// order is a transaction's (migration 20 gave the oldest messages theirs), so the
/// order ids are those of its transactions, in id order.
fn complete_row(conn: &Connection, row: MessageRow) -> StoreResult<Message> {
    let transactions = transactions_of(conn, &row.meta.id)?;
    let mut order_ids: Vec<String> = transactions
        .iter()
        .filter_map(|t| t.order.as_ref().map(|order| order.id.clone()))
        .collect();
    order_ids.sort_unstable();
    row.into_message(order_ids, transactions)
}

/// Why a guarded update of message `id` matched no row: it is in another state
/// (`Conflict`, explained by `why`) or it does not exist.
fn missing_or_conflict(
    conn: &Connection,
    id: &str,
    why: impl FnOnce(&str) -> String,
) -> StoreResult<StoreError> {
    let status: Option<String> = conn
        .prepare_cached("SELECT status FROM messages WHERE id = ?1")?
        .query_row([id], |row| row.get(0))
        .optional()?;
    Ok(match status {
        Some(status) => StoreError::Conflict(why(&status)),
        None => StoreError::NotFound,
    })
}

/// The message a buyer stored before under `idempotency_key`, perhaps earlier in
/// this write batch and not yet committed, so read here, where it is visible; the
/// caller hears of it only once it is committed.
fn existing(conn: &Connection, message: &NewMessage) -> StoreResult<Message> {
    let row = conn
        .prepare_cached(concat!(
            "SELECT ",
            message_columns!(),
            " FROM messages WHERE buyer_id = ?1 AND idempotency_key = ?2"
        ))?
        .query_row(
            params![message.buyer_id, message.idempotency_key],
            MessageRow::from_row,
        )?;
    complete_row(conn, row)
}

/// Inserts `message`, unless its buyer used its idempotency key before (`false`).
/// `outcome` is what to store as its outcome already, if it has one.
fn insert_row(
    conn: &Connection,
    message: &NewMessage,
    received_text: &str,
    outcome: Option<(&Outcome, &Option<PluginRef>)>,
) -> StoreResult<bool> {
    let (status, error, response, warnings) = match outcome {
        Some((outcome, _)) => (
            outcome.status,
            outcome.error.as_ref().map(json_text).transpose()?,
            Some(&outcome.response),
            json_text(&outcome.warnings)?,
        ),
        None => (MessageStatus::Received, None, None, "[]".to_owned()),
    };
    let plugin = outcome.and_then(|(_, plugin)| plugin.as_ref());
    // Only the idempotency index is a tolerated conflict; a duplicate id still fails.
    let inserted = conn
        .prepare_cached(
            "INSERT INTO messages (id, buyer_id, received_via, content_type, headers, body, \
             body_sha256, idempotency_key, status, error, response_status, response_body, \
             attempts, plugin_name, plugin_version, received_at, processed_at, warnings) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, \
             ?18) \
             ON CONFLICT (buyer_id, idempotency_key) WHERE idempotency_key IS NOT NULL \
             DO NOTHING",
        )?
        .execute(params![
            message.id,
            message.buyer_id,
            message.received_via.as_str(),
            message.content_type,
            json_text(&message.headers)?,
            message.body,
            message.body_sha256,
            message.idempotency_key,
            status.as_str(),
            error,
            response.map(|r| i64::from(r.status)),
            response.map(|r| json_text(&r.body)).transpose()?,
            i64::from(outcome.is_some()),
            plugin.map(|p| &p.name),
            plugin.map(|p| &p.version),
            received_text,
            outcome.map(|_| received_text),
            warnings,
        ])
        .map_err(|e| classify(&format!("message {}", message.id), e))?;
    Ok(inserted == 1)
}

pub(super) fn insert(conn: &Connection, message: NewMessage) -> StoreResult<InsertedMessage> {
    let received_at = now();
    // One statement: the common case (a new message) is one write. It is the only
    // write, and a failed one writes nothing, so this runs without a savepoint
    // (`Writer::run_single_write`).
    if !insert_row(conn, &message, &time_text(received_at), None)? {
        return Ok(InsertedMessage::Existing(existing(conn, &message)?));
    }
    Ok(InsertedMessage::Inserted(Message {
        id: message.id,
        buyer_id: message.buyer_id,
        received_via: message.received_via,
        content_type: message.content_type,
        headers: message.headers,
        body: message.body,
        body_sha256: message.body_sha256,
        idempotency_key: message.idempotency_key,
        status: MessageStatus::Received,
        error: None,
        response: None,
        attempts: 0,
        processed_by: None,
        order_ids: Vec::new(),
        warnings: Vec::new(),
        body_purged_at: None,
        transactions: Vec::new(),
        received_at,
        processed_at: None,
    }))
}

/// Writes the outcome's orders (with their deliveries), then its transaction rows,
/// which refer to them; a row of an earlier attempt at the same index (never an
/// order: [`plan`] checked) is replaced.
fn write_outcome(
    conn: &Connection,
    id: &str,
    outcome: &Outcome,
    now_text: &str,
) -> StoreResult<()> {
    for (order, route) in &outcome.orders {
        insert_order(conn, order, route, now_text)?;
    }
    let mut statement = conn.prepare_cached(
        "INSERT INTO transactions (message_id, idx, control_number, status, order_id, error, \
         kind, reason, warnings) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) \
         ON CONFLICT (message_id, idx) DO UPDATE SET control_number = excluded.control_number, \
         status = excluded.status, order_id = excluded.order_id, error = excluded.error, \
         kind = excluded.kind, reason = excluded.reason, warnings = excluded.warnings",
    )?;
    for t in &outcome.transactions {
        statement
            .execute(params![
                id,
                i64::from(t.index),
                t.control_number,
                t.status.as_str(),
                t.order.as_ref().map(|o| &o.id),
                t.error.as_ref().map(json_text).transpose()?,
                t.kind,
                t.reason,
                json_text(&t.warnings)?,
            ])
            .map_err(|e| classify(&format!("transaction {} of message {id}", t.index), e))?;
    }
    Ok(())
}

/// Stores a new message and, when it has one, its outcome (orders routed, with their
/// deliveries), as one write: see [`crate::store::MessageStore::record_message`].
pub(super) fn record(
    conn: &Connection,
    message: NewMessage,
    processed: Option<(Option<PluginRef>, MessageOutcome)>,
) -> StoreResult<RecordedMessage> {
    let now_text = time_text(now());
    let Some((plugin, outcome)) = processed else {
        return Ok(match insert_row(conn, &message, &now_text, None)? {
            true => RecordedMessage::Stored(None),
            false => RecordedMessage::Existing(Box::new(existing(conn, &message)?)),
        });
    };
    // Route first (reads), so the message row is written once, answer included; the
    // orders follow it (they refer to it). A new message has no transactions yet.
    let outcome = plan(
        &message.id,
        &message.buyer_id,
        plugin.as_ref(),
        Vec::new(),
        outcome,
        &mut |order| route(conn, order),
    )?;
    if !insert_row(conn, &message, &now_text, Some((&outcome, &plugin)))? {
        return Ok(RecordedMessage::Existing(Box::new(existing(
            conn, &message,
        )?)));
    }
    write_outcome(conn, &message.id, &outcome, &now_text)?;
    Ok(RecordedMessage::Stored(Some(outcome.response)))
}

pub(super) fn complete(
    conn: &Connection,
    id: String,
    plugin: Option<PluginRef>,
    outcome: MessageOutcome,
) -> StoreResult<StoredResponse> {
    let processed_text = time_text(now());
    let found: Option<(String, String)> = conn
        .prepare_cached("SELECT buyer_id, status FROM messages WHERE id = ?1")?
        .query_row([&id], |row| Ok((row.get(0)?, row.get(1)?)))
        .optional()?;
    let Some((buyer_id, status)) = found else {
        return Err(StoreError::NotFound);
    };
    // Said before the plan, which would find its transactions already written.
    if status != MessageStatus::Received.as_str() {
        return Err(StoreError::Conflict(format!(
            "message {id} is already complete ({status})"
        )));
    }
    let stored = transactions_of(conn, &id)?;
    let outcome = plan(
        &id,
        &buyer_id,
        plugin.as_ref(),
        stored,
        outcome,
        &mut |order| route(conn, order),
    )?;
    let (plugin_name, plugin_version) = plugin.map(|p| (p.name, p.version)).unzip();

    // The message first, guarded on its status, which makes completion happen once;
    // then its orders. Any early return is an `Err`, so the writer rolls back
    // everything this wrote.
    let updated = conn
        .prepare_cached(
            "UPDATE messages SET status = ?1, error = ?2, response_status = ?3, \
             response_body = ?4, processed_at = ?5, attempts = attempts + 1, \
             plugin_name = ?6, plugin_version = ?7, warnings = ?9 \
             WHERE id = ?8 AND status = 'received'",
        )?
        .execute(params![
            outcome.status.as_str(),
            outcome.error.as_ref().map(json_text).transpose()?,
            i64::from(outcome.response.status),
            json_text(&outcome.response.body)?,
            processed_text,
            plugin_name,
            plugin_version,
            id,
            json_text(&outcome.warnings)?,
        ])?;
    if updated == 0 {
        return Err(missing_or_conflict(conn, &id, |status| {
            format!("message {id} is already complete ({status})")
        })?);
    }
    write_outcome(conn, &id, &outcome, &processed_text)?;
    Ok(outcome.response)
}

/// Where a new order goes: its buyer's route for its supplier code names the
/// craftsman, and [`routing::route`] its status and deliveries, decided in the
/// transaction that stores it, so the outbox holds the deliveries the moment the
/// order exists. Without a route it waits, `unrouted`.
fn route(conn: &Connection, order: &NewOrder) -> StoreResult<Route> {
    let craftsman: Option<String> = conn
        .prepare_cached(
            "SELECT craftsman_id FROM routes WHERE buyer_id = ?1 AND supplier_code = ?2",
        )?
        .query_row([&order.buyer_id, &order.supplier_code], |row| row.get(0))
        .optional()?;
    let (status, deliveries) = match &craftsman {
        Some(craftsman) => routing::route(&channel_states(conn, craftsman)?),
        None => (OrderStatus::Unrouted, Vec::new()),
    };
    Ok(Route {
        craftsman,
        status,
        deliveries,
    })
}

/// Writes a new order as [`route`] decided, with its deliveries.
fn insert_order(
    conn: &Connection,
    order: &NewOrder,
    route: &Route,
    now_text: &str,
) -> StoreResult<()> {
    conn.prepare_cached(
        "INSERT INTO orders (id, message_id, buyer_id, buyer_order_number, supplier_code, \
         craftsman_id, status, body, schema_version, created_at, updated_at, routed_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10, \
                 CASE WHEN ?6 IS NULL THEN NULL ELSE ?10 END)",
    )?
    .execute(params![
        order.id,
        order.message_id,
        order.buyer_id,
        order.buyer_order_number,
        order.supplier_code,
        route.craftsman,
        route.status.as_str(),
        json_text(&order.order)?,
        STORED_ORDER_VERSION,
        now_text,
    ])
    .map_err(|e| classify(&format!("order {}", order.id), e))?;
    write_deliveries(conn, &order.id, &route.deliveries, now_text)
}

pub(super) fn get(
    conn: &Connection,
    buyer_id: Option<&str>,
    id: &str,
) -> StoreResult<Option<Message>> {
    // One read transaction: the status and the order ids come from one snapshot.
    let tx = conn.unchecked_transaction()?;
    let row = tx
        .prepare_cached(concat!(
            "SELECT ",
            message_columns!(),
            " FROM messages WHERE id = ?1 AND (?2 IS NULL OR buyer_id = ?2)"
        ))?
        .query_row(params![id, buyer_id], MessageRow::from_row)
        .optional()?;
    let Some(row) = row else {
        return Ok(None);
    };
    let message = complete_row(&tx, row)?;
    tx.commit()?;
    Ok(Some(message))
}

pub(super) fn reopen(
    conn: &Connection,
    id: String,
    note: Option<serde_json::Value>,
) -> StoreResult<Message> {
    // Archive the outcome; the guard is what keeps a message whose every transaction
    // is an order from ever being processed again.
    let archived = conn
        .prepare_cached(
            "INSERT INTO message_attempts (message_id, attempt, status, error, plugin_name, \
             plugin_version, processed_at, reopened_at, note) \
             SELECT id, attempts, status, error, plugin_name, plugin_version, processed_at, ?2, ?3 \
             FROM messages WHERE id = ?1 AND (status = 'failed' OR (status = 'normalized' \
             AND EXISTS (SELECT 1 FROM transactions \
                         WHERE message_id = ?1 AND status = 'refused')))",
        )?
        .execute(params![
            id,
            time_text(now()),
            note.as_ref().map(json_text).transpose()?
        ])?;
    if archived == 0 {
        return Err(missing_or_conflict(conn, &id, |status| {
            format!(
                "message {id} is {status} with no refused transaction; only a failed message, \
                 or one with refused transactions, can be reopened"
            )
        })?);
    }
    let row = conn
        .prepare_cached(concat!(
            "UPDATE messages SET status = 'received', error = NULL, response_status = NULL, \
             response_body = NULL, plugin_name = NULL, plugin_version = NULL, \
             processed_at = NULL WHERE id = ?1 RETURNING ",
            message_columns!()
        ))?
        .query_row([&id], MessageRow::from_row)?;
    complete_row(conn, row)
}

pub(super) fn attempts(conn: &Connection, message_id: &str) -> StoreResult<Vec<MessageAttempt>> {
    let rows = conn
        .prepare_cached(
            "SELECT message_id, attempt, status, error, plugin_name, plugin_version, \
             processed_at, reopened_at, note \
             FROM message_attempts WHERE message_id = ?1 ORDER BY attempt",
        )?
        .query_map([message_id], AttemptRow::from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    rows.into_iter().map(MessageAttempt::try_from).collect()
}

pub(super) fn list(conn: &Connection, query: MessageQuery) -> StoreResult<MessagePage> {
    let limit = page_limit(query.limit);
    let (sql, params) = list_query(query, limit);
    // One snapshot for the messages and their order ids.
    let tx = conn.unchecked_transaction()?;
    let rows = tx
        .prepare_cached(&sql)?
        .query_map(
            rusqlite::params_from_iter(params),
            MessageSummaryRow::from_row,
        )?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let (rows, next_cursor) = split_page(rows, limit, |row| &row.meta.id);

    // A failed message has no orders; fetch the others' in one query (a received
    // one has orders while a replay of its refused transactions is under way).
    let normalized: Vec<&str> = rows
        .iter()
        .filter(|row| row.meta.status != MessageStatus::Failed.as_str())
        .map(|row| row.meta.id.as_str())
        .collect();
    let mut order_ids: HashMap<String, Vec<String>> = HashMap::new();
    if !normalized.is_empty() {
        let placeholders = (1..=normalized.len())
            .map(|i| format!("?{i}"))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "SELECT message_id, order_id FROM transactions \
             WHERE message_id IN ({placeholders}) AND order_id IS NOT NULL ORDER BY order_id"
        );
        let mut statement = tx.prepare(&sql)?;
        let pairs = statement.query_map(rusqlite::params_from_iter(&normalized), |row| {
            Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?))
        })?;
        for pair in pairs {
            let (message_id, order_id) = pair?;
            order_ids.entry(message_id).or_default().push(order_id);
        }
    }
    tx.commit()?;

    let messages = rows
        .into_iter()
        .map(|row| {
            let ids = order_ids.remove(&row.meta.id).unwrap_or_default();
            row.into_summary(ids)
        })
        .collect::<Result<_, _>>()?;
    Ok(MessagePage {
        messages,
        next_cursor,
    })
}

pub(super) fn pending(
    conn: &Connection,
    after: Option<&str>,
    limit: u32,
) -> StoreResult<Vec<Message>> {
    // The status is a literal, not a parameter, so SQLite can use the partial index.
    let rows = conn
        .prepare_cached(concat!(
            "SELECT ",
            message_columns!(),
            " FROM messages WHERE status = 'received' AND (?1 IS NULL OR id > ?1) \
             ORDER BY id LIMIT ?2"
        ))?
        .query_map(params![after, i64::from(limit)], MessageRow::from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    // Read with its orders and transactions: one reopened for a replay of its refused
    // transactions has both, and its completion must know them.
    rows.into_iter()
        .map(|row| complete_row(conn, row))
        .collect()
}

pub(super) fn stored_body_bytes(conn: &Connection, buyer_id: &str) -> StoreResult<u64> {
    let bytes: i64 = conn
        .prepare_cached("SELECT COALESCE(SUM(length(body)), 0) FROM messages WHERE buyer_id = ?1")?
        .query_row([buyer_id], |row| row.get(0))?;
    u64::try_from(bytes).map_err(|e| super::codec::decode(e.to_string()))
}

/// One batch of each kind retention deletes; see
/// [`crate::store::MessageStore::purge`]. A body is emptied, never its row: the
/// message's hash, outcome, transactions and orders stay.
pub(super) fn purge(conn: &Connection, retention: &Retention) -> StoreResult<Purged> {
    let now_text = time_text(now());
    let batch = i64::from(retention.batch);
    let failed_bodies = conn
        .prepare_cached(
            "UPDATE messages SET body = X'', body_purged_at = ?1 WHERE id IN (\
             SELECT id FROM messages WHERE body_purged_at IS NULL AND received_at < ?2 \
             AND status = 'failed' ORDER BY received_at LIMIT ?3)",
        )?
        .execute(params![
            now_text,
            time_text(retention.failed_bodies_before),
            batch
        ])?;
    let finished_bodies = conn
        .prepare_cached(
            "UPDATE messages SET body = X'', body_purged_at = ?1 WHERE id IN (\
             SELECT m.id FROM messages m WHERE m.body_purged_at IS NULL AND m.received_at < ?2 \
             AND m.status = 'normalized' \
             AND NOT EXISTS (SELECT 1 FROM transactions t \
                             WHERE t.message_id = m.id AND t.status = 'refused') \
             AND NOT EXISTS (SELECT 1 FROM transactions t JOIN orders o ON o.id = t.order_id \
                             WHERE t.message_id = m.id AND o.status IN ('unrouted', 'received')) \
             ORDER BY m.received_at LIMIT ?3)",
        )?
        .execute(params![
            now_text,
            time_text(retention.finished_bodies_before),
            batch
        ])?;
    let attempts = conn
        .prepare_cached(
            "DELETE FROM delivery_attempts WHERE rowid IN (\
             SELECT a.rowid FROM delivery_attempts a JOIN deliveries d ON d.id = a.delivery_id \
             WHERE a.started_at < ?1 AND d.state IN ('succeeded', 'dead') \
             ORDER BY a.started_at LIMIT ?2)",
        )?
        .execute(params![time_text(retention.attempts_before), batch])?;
    let early_statuses = conn
        .prepare_cached(
            "DELETE FROM whatsapp_early_statuses WHERE wamid IN (\
             SELECT wamid FROM whatsapp_early_statuses WHERE received_at < ?1 \
             ORDER BY received_at LIMIT ?2)",
        )?
        .execute(params![time_text(retention.early_statuses_before), batch])?;
    Ok(Purged {
        failed_bodies: failed_bodies as u64,
        finished_bodies: finished_bodies as u64,
        attempts: attempts as u64,
        early_statuses: early_statuses as u64,
    })
}

/// The statement of a page of [`list`] and its parameters.
pub(super) fn list_query(query: MessageQuery, limit: u32) -> (String, Vec<rusqlite::types::Value>) {
    page_query(
        concat!(
            "SELECT ",
            message_meta_columns!(),
            ", length(body) AS body_size FROM messages"
        ),
        "id",
        query
            .status
            .map(|status| status_condition("status", status.as_str())),
        [
            (
                buyer_filter(query.status.is_some_and(uncommon)),
                query.buyer_id,
            ),
            // A filter compares a column with a text parameter: the test is cast to
            // text ('1') to be one.
            (
                "CAST(EXISTS (SELECT 1 FROM transactions t WHERE t.message_id = messages.id \
                 AND t.status = 'refused') AS TEXT)",
                query.with_refused.then(|| "1".to_owned()),
            ),
        ],
        query.after,
        limit,
    )
}

/// Whether messages in `status` are few and have a partial index of their own
/// (`messages_received`, `messages_failed`); most messages end `normalized`.
fn uncommon(status: MessageStatus) -> bool {
    match status {
        MessageStatus::Received | MessageStatus::Failed => true,
        MessageStatus::Normalized => false,
    }
}
