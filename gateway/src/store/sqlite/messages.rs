//! Inbound messages: stored raw, completed once with their orders, reopened for a
//! replay only when they failed.

use std::collections::HashMap;

use rusqlite::{Connection, OptionalExtension, params};

use super::codec::{
    AttemptRow, MessageRow, MessageSummaryRow, STORED_ORDER_VERSION, classify, json_text, now,
    time_text,
};
use super::deliveries::{channel_states, write_deliveries};
use super::{page_limit, page_query, split_page};
use crate::store::routing::{self, NewDelivery};
use crate::store::{
    InsertedMessage, Message, MessageAttempt, MessageOutcome, MessagePage, MessageQuery,
    MessageStatus, NewMessage, NewOrder, OrderStatus, PluginRef, RecordedMessage, RoutedOrder,
    StoreError, StoreResult, StoredResponse,
};

/// The ids of a message's orders, read on the caller's connection or transaction so
/// they agree with the message row read beside them.
fn order_ids_of(conn: &Connection, message_id: &str) -> StoreResult<Vec<String>> {
    Ok(conn
        .prepare_cached("SELECT id FROM orders WHERE message_id = ?1 ORDER BY id")?
        .query_map([message_id], |row| row.get(0))?
        .collect::<rusqlite::Result<_>>()?)
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
    let order_ids = order_ids_of(conn, &row.meta.id)?;
    row.into_message(order_ids)
}

/// Inserts `message`, unless its buyer used its idempotency key before (`false`).
/// `outcome` is what to store as its outcome already, if it has one.
fn insert_row(
    conn: &Connection,
    message: &NewMessage,
    received_text: &str,
    outcome: Option<(&Outcome, &Option<PluginRef>)>,
) -> StoreResult<bool> {
    let (status, error, response) = match outcome {
        Some((outcome, _)) => (
            outcome.status,
            outcome.error.as_ref().map(json_text).transpose()?,
            Some(&outcome.response),
        ),
        None => (MessageStatus::Received, None, None),
    };
    let plugin = outcome.and_then(|(_, plugin)| plugin.as_ref());
    // Only the idempotency index is a tolerated conflict; a duplicate id still fails.
    let inserted = conn
        .prepare_cached(
            "INSERT INTO messages (id, buyer_id, received_via, content_type, headers, body, \
             body_sha256, idempotency_key, status, error, response_status, response_body, \
             attempts, plugin_name, plugin_version, received_at, processed_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17) \
             ON CONFLICT (buyer_id, idempotency_key) DO NOTHING",
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
        received_at,
        processed_at: None,
    }))
}

/// An outcome as the message row stores it, with its orders routed.
struct Outcome {
    status: MessageStatus,
    error: Option<serde_json::Value>,
    response: StoredResponse,
    orders: Vec<(NewOrder, Route)>,
}

/// Where an order goes, decided before it is written.
struct Route {
    craftsman: Option<String>,
    status: OrderStatus,
    deliveries: Vec<NewDelivery>,
}

/// Routes the outcome's orders (reads only) and builds its answer from them, after
/// checking that every order belongs to message `id` of `buyer_id`.
fn plan(
    conn: &Connection,
    id: &str,
    buyer_id: &str,
    outcome: MessageOutcome,
) -> StoreResult<Outcome> {
    Ok(match outcome {
        MessageOutcome::Normalized { orders, answer } => {
            let mut routed = Vec::with_capacity(orders.len());
            let mut planned = Vec::with_capacity(orders.len());
            for order in orders {
                if order.message_id != id {
                    return Err(StoreError::Invalid(format!(
                        "order {} names message {}, not {id}",
                        order.id, order.message_id
                    )));
                }
                if order.buyer_id != buyer_id {
                    return Err(StoreError::Invalid(format!(
                        "order {} names buyer {}, not {buyer_id}, the buyer of message {id}",
                        order.id, order.buyer_id
                    )));
                }
                let route = route(conn, &order)?;
                routed.push(RoutedOrder {
                    id: order.id.clone(),
                    buyer_order_number: order.buyer_order_number.clone(),
                    status: route.status,
                });
                planned.push((order, route));
            }
            Outcome {
                status: MessageStatus::Normalized,
                error: None,
                response: answer(id, &routed),
                orders: planned,
            }
        }
        MessageOutcome::Failed { error, response } => Outcome {
            status: MessageStatus::Failed,
            error: Some(error),
            response,
            orders: Vec::new(),
        },
    })
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
    // orders follow it (they refer to it).
    let outcome = plan(conn, &message.id, &message.buyer_id, outcome)?;
    if !insert_row(conn, &message, &now_text, Some((&outcome, &plugin)))? {
        return Ok(RecordedMessage::Existing(Box::new(existing(
            conn, &message,
        )?)));
    }
    for (order, route) in &outcome.orders {
        insert_order(conn, order, route, &now_text)?;
    }
    Ok(RecordedMessage::Stored(Some(outcome.response)))
}

pub(super) fn complete(
    conn: &Connection,
    id: String,
    plugin: Option<PluginRef>,
    outcome: MessageOutcome,
) -> StoreResult<StoredResponse> {
    let (plugin_name, plugin_version) = plugin.map(|p| (p.name, p.version)).unzip();
    let processed_text = time_text(now());
    let buyer_id: Option<String> = conn
        .prepare_cached("SELECT buyer_id FROM messages WHERE id = ?1")?
        .query_row([&id], |row| row.get(0))
        .optional()?;
    let Some(buyer_id) = buyer_id else {
        return Err(StoreError::NotFound);
    };
    let outcome = plan(conn, &id, &buyer_id, outcome)?;

    // The message first, guarded on its status, which makes completion happen once;
    // then its orders. Any early return is an `Err`, so the writer rolls back
    // everything this wrote.
    let updated = conn
        .prepare_cached(
            "UPDATE messages SET status = ?1, error = ?2, response_status = ?3, \
             response_body = ?4, processed_at = ?5, attempts = attempts + 1, \
             plugin_name = ?6, plugin_version = ?7 \
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
        ])?;
    if updated == 0 {
        return Err(missing_or_conflict(conn, &id, |status| {
            format!("message {id} is already complete ({status})")
        })?);
    }
    for (order, route) in &outcome.orders {
        insert_order(conn, order, route, &processed_text)?;
    }
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
    conn.prepare_cached(concat!(
        "INSERT INTO orders (",
        order_columns!(),
        ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10)"
    ))?
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
    let order_ids = order_ids_of(&tx, id)?;
    tx.commit()?;
    Ok(Some(row.into_message(order_ids)?))
}

pub(super) fn reopen(
    conn: &Connection,
    id: String,
    note: Option<serde_json::Value>,
) -> StoreResult<Message> {
    // Archive the failed outcome; the status guard is what keeps a normalized message
    // (whose orders exist) from ever being processed again.
    let archived = conn
        .prepare_cached(
            "INSERT INTO message_attempts (message_id, attempt, status, error, plugin_name, \
             plugin_version, processed_at, reopened_at, note) \
             SELECT id, attempts, status, error, plugin_name, plugin_version, processed_at, ?2, ?3 \
             FROM messages WHERE id = ?1 AND status = 'failed'",
        )?
        .execute(params![
            id,
            time_text(now()),
            note.as_ref().map(json_text).transpose()?
        ])?;
    if archived == 0 {
        return Err(missing_or_conflict(conn, &id, |status| {
            format!("message {id} is {status}; only a failed message can be reopened")
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
    // A failed message has no orders: they are only written with a normalized outcome.
    row.into_message(Vec::new())
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
    let (sql, params) = page_query(
        concat!(
            "SELECT ",
            message_meta_columns!(),
            ", length(body) AS body_size FROM messages"
        ),
        "id",
        [
            ("buyer_id", query.buyer_id),
            ("status", query.status.map(|s| s.as_str().to_owned())),
            ("", None),
        ],
        query.after,
        limit,
    );
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

    // Only a normalized message has orders; fetch them all in one query.
    let normalized: Vec<&str> = rows
        .iter()
        .filter(|row| row.meta.status == MessageStatus::Normalized.as_str())
        .map(|row| row.meta.id.as_str())
        .collect();
    let mut order_ids: HashMap<String, Vec<String>> = HashMap::new();
    if !normalized.is_empty() {
        let placeholders = (1..=normalized.len())
            .map(|i| format!("?{i}"))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "SELECT message_id, id FROM orders WHERE message_id IN ({placeholders}) ORDER BY id"
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

pub(super) fn pending(conn: &Connection, limit: u32) -> StoreResult<Vec<Message>> {
    // The status is a literal, not a parameter, so SQLite can use the partial index.
    let rows = conn
        .prepare_cached(concat!(
            "SELECT ",
            message_columns!(),
            " FROM messages WHERE status = 'received' ORDER BY id LIMIT ?1"
        ))?
        .query_map([i64::from(limit)], MessageRow::from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    // A received message has no orders: they are written with its completion.
    rows.into_iter()
        .map(|row| row.into_message(Vec::new()))
        .collect()
}
