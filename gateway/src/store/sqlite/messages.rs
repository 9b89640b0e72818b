//! Inbound messages: stored raw, completed once with their orders, reopened for a
//! replay only when they failed.

use std::collections::HashMap;

use sqlx::{QueryBuilder, Sqlite, SqliteConnection};

use super::codec::{
    AttemptRow, MessageRow, MessageSummaryRow, classify, json_text, now, time_text,
};
use super::deliveries::{channel_states, write_deliveries};
use super::{SqliteStore, page_limit, push_page_filters, split_page};
use crate::store::routing;
use crate::store::{
    InsertedMessage, Message, MessageAttempt, MessageOutcome, MessagePage, MessageQuery,
    MessageStatus, NewMessage, NewOrder, OrderStatus, PluginRef, RoutedOrder, StoreError,
    StoreResult, StoredResponse,
};

/// The ids of a message's orders, read on the caller's connection or transaction so
/// they agree with the message row read beside them.
async fn order_ids_of(
    conn: &mut SqliteConnection,
    message_id: &str,
) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT id FROM orders WHERE message_id = ?1 ORDER BY id")
        .bind(message_id)
        .fetch_all(conn)
        .await
}

/// Why a guarded update of message `id` matched no row: it is in another state
/// (`Conflict`, explained by `why`) or it does not exist.
async fn missing_or_conflict(
    conn: &mut SqliteConnection,
    id: &str,
    why: impl FnOnce(&str) -> String,
) -> StoreResult<StoreError> {
    let status: Option<String> = sqlx::query_scalar("SELECT status FROM messages WHERE id = ?1")
        .bind(id)
        .fetch_optional(conn)
        .await?;
    Ok(match status {
        Some(status) => StoreError::Conflict(why(&status)),
        None => StoreError::NotFound,
    })
}

pub(super) async fn insert(
    conn: &mut SqliteConnection,
    message: NewMessage,
) -> StoreResult<InsertedMessage> {
    let received_at = now();
    // One statement: the common case (a new message) is one round trip. Only the
    // idempotency index is a tolerated conflict; a duplicate id still fails. It is the
    // only write, and a failed one writes nothing, so this runs without a savepoint
    // (`Writer::run_single_write`).
    let inserted = sqlx::query(
        "INSERT INTO messages (id, buyer_id, received_via, content_type, headers, body, \
         body_sha256, idempotency_key, status, received_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'received', ?9) \
         ON CONFLICT (buyer_id, idempotency_key) DO NOTHING",
    )
    .bind(&message.id)
    .bind(&message.buyer_id)
    .bind(message.received_via.as_str())
    .bind(&message.content_type)
    .bind(json_text(&message.headers)?)
    .bind(&message.body)
    .bind(&message.body_sha256)
    .bind(&message.idempotency_key)
    .bind(time_text(received_at))
    .execute(&mut *conn)
    .await
    .map_err(|e| classify(&format!("message {}", message.id), e))?
    .rows_affected()
        == 1;

    if inserted {
        return Ok(InsertedMessage::Inserted(Message {
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
        }));
    }

    // The key collided with a message stored before, perhaps earlier in this write
    // batch and not yet committed, so read it here, where it is visible; the caller
    // hears of it only once it is committed.
    let row: MessageRow = sqlx::query_as(concat!(
        "SELECT ",
        message_columns!(),
        " FROM messages WHERE buyer_id = ?1 AND idempotency_key = ?2"
    ))
    .bind(&message.buyer_id)
    .bind(&message.idempotency_key)
    .fetch_one(&mut *conn)
    .await?;
    let order_ids = order_ids_of(conn, &row.meta.id).await?;
    Ok(InsertedMessage::Existing(row.into_message(order_ids)?))
}

pub(super) async fn get(
    store: &SqliteStore,
    buyer_id: Option<&str>,
    id: &str,
) -> StoreResult<Option<Message>> {
    // One read transaction: the status and the order ids come from one snapshot.
    let mut tx = store.reader.begin().await?;
    let row: Option<MessageRow> = sqlx::query_as(concat!(
        "SELECT ",
        message_columns!(),
        " FROM messages WHERE id = ?1 AND (?2 IS NULL OR buyer_id = ?2)"
    ))
    .bind(id)
    .bind(buyer_id)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let order_ids = order_ids_of(&mut tx, id).await?;
    tx.commit().await?;
    Ok(Some(row.into_message(order_ids)?))
}

pub(super) async fn complete(
    conn: &mut SqliteConnection,
    id: String,
    plugin: Option<PluginRef>,
    outcome: MessageOutcome,
) -> StoreResult<StoredResponse> {
    let (plugin_name, plugin_version) = plugin.map(|p| (p.name, p.version)).unzip();
    let processed_text = time_text(now());

    // The orders first, each routed, since the answer reports them as stored; then
    // the message, guarded on its status, which makes completion happen once. Any
    // early return is an `Err`, so the writer rolls back everything this wrote.
    let (status, error, response, orders) = match outcome {
        MessageOutcome::Normalized { orders, answer } => {
            let mut routed = Vec::with_capacity(orders.len());
            for order in &orders {
                if order.message_id != id {
                    return Err(StoreError::Invalid(format!(
                        "order {} names message {}, not {id}",
                        order.id, order.message_id
                    )));
                }
                routed.push(insert_routed(conn, order, &processed_text).await?);
            }
            let response = answer(&id, &routed);
            (MessageStatus::Normalized, None, response, orders)
        }
        MessageOutcome::Failed { error, response } => {
            (MessageStatus::Failed, Some(error), response, Vec::new())
        }
    };
    let buyer_id: Option<String> = sqlx::query_scalar(
        "UPDATE messages SET status = ?1, error = ?2, response_status = ?3, \
         response_body = ?4, processed_at = ?5, attempts = attempts + 1, \
         plugin_name = ?6, plugin_version = ?7 \
         WHERE id = ?8 AND status = 'received' RETURNING buyer_id",
    )
    .bind(status.as_str())
    .bind(error.as_ref().map(json_text).transpose()?)
    .bind(i64::from(response.status))
    .bind(json_text(&response.body)?)
    .bind(&processed_text)
    .bind(plugin_name)
    .bind(plugin_version)
    .bind(&id)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(buyer_id) = buyer_id else {
        return Err(missing_or_conflict(conn, &id, |status| {
            format!("message {id} is already complete ({status})")
        })
        .await?);
    };
    if let Some(order) = orders.iter().find(|order| order.buyer_id != buyer_id) {
        return Err(StoreError::Invalid(format!(
            "order {} names buyer {}, not {buyer_id}, the buyer of message {id}",
            order.id, order.buyer_id
        )));
    }
    Ok(response)
}

/// Inserts a new order routed at once: its buyer's route for its supplier code
/// names the craftsman, and [`routing::route`] its status and deliveries, in the
/// same transaction, so the outbox holds the deliveries the moment the order
/// exists. Without a route it waits, `unrouted`.
async fn insert_routed(
    conn: &mut SqliteConnection,
    order: &NewOrder,
    now_text: &str,
) -> StoreResult<RoutedOrder> {
    let craftsman: Option<String> = sqlx::query_scalar(
        "SELECT craftsman_id FROM routes WHERE buyer_id = ?1 AND supplier_code = ?2",
    )
    .bind(&order.buyer_id)
    .bind(&order.supplier_code)
    .fetch_optional(&mut *conn)
    .await?;
    let (status, deliveries) = match &craftsman {
        Some(craftsman) => routing::route(&channel_states(conn, craftsman).await?),
        None => (OrderStatus::Unrouted, Vec::new()),
    };
    sqlx::query(concat!(
        "INSERT INTO orders (",
        order_columns!(),
        ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9)"
    ))
    .bind(&order.id)
    .bind(&order.message_id)
    .bind(&order.buyer_id)
    .bind(&order.buyer_order_number)
    .bind(&order.supplier_code)
    .bind(&craftsman)
    .bind(status.as_str())
    .bind(json_text(&order.order)?)
    .bind(now_text)
    .execute(&mut *conn)
    .await
    .map_err(|e| classify(&format!("order {}", order.id), e))?;
    write_deliveries(conn, &order.id, &deliveries, now_text).await?;
    Ok(RoutedOrder {
        id: order.id.clone(),
        buyer_order_number: order.buyer_order_number.clone(),
        status,
    })
}

pub(super) async fn reopen(
    conn: &mut SqliteConnection,
    id: String,
    note: Option<serde_json::Value>,
) -> StoreResult<Message> {
    // Archive the failed outcome; the status guard is what keeps a normalized message
    // (whose orders exist) from ever being processed again.
    let archived = sqlx::query(
        "INSERT INTO message_attempts (message_id, attempt, status, error, plugin_name, \
         plugin_version, processed_at, reopened_at, note) \
         SELECT id, attempts, status, error, plugin_name, plugin_version, processed_at, ?2, ?3 \
         FROM messages WHERE id = ?1 AND status = 'failed'",
    )
    .bind(&id)
    .bind(time_text(now()))
    .bind(note.as_ref().map(json_text).transpose()?)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if archived == 0 {
        return Err(missing_or_conflict(conn, &id, |status| {
            format!("message {id} is {status}; only a failed message can be reopened")
        })
        .await?);
    }
    let row: MessageRow = sqlx::query_as(concat!(
        "UPDATE messages SET status = 'received', error = NULL, response_status = NULL, \
         response_body = NULL, plugin_name = NULL, plugin_version = NULL, \
         processed_at = NULL WHERE id = ?1 RETURNING ",
        message_columns!()
    ))
    .bind(&id)
    .fetch_one(&mut *conn)
    .await?;
    // A failed message has no orders: they are only written with a normalized outcome.
    Ok(row.into_message(Vec::new())?)
}

pub(super) async fn attempts(
    store: &SqliteStore,
    message_id: &str,
) -> StoreResult<Vec<MessageAttempt>> {
    let rows: Vec<AttemptRow> = sqlx::query_as(
        "SELECT message_id, attempt, status, error, plugin_name, plugin_version, \
         processed_at, reopened_at, note \
         FROM message_attempts WHERE message_id = ?1 ORDER BY attempt",
    )
    .bind(message_id)
    .fetch_all(&store.reader)
    .await?;
    Ok(rows
        .into_iter()
        .map(MessageAttempt::try_from)
        .collect::<Result<_, _>>()?)
}

pub(super) async fn list(store: &SqliteStore, query: MessageQuery) -> StoreResult<MessagePage> {
    let limit = page_limit(query.limit);
    let mut sql = QueryBuilder::<Sqlite>::new(concat!(
        "SELECT ",
        message_meta_columns!(),
        ", length(body) AS body_size FROM messages"
    ));
    push_page_filters(
        &mut sql,
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
    let mut tx = store.reader.begin().await?;
    let rows: Vec<MessageSummaryRow> = sql.build_query_as().fetch_all(&mut *tx).await?;
    let (rows, next_cursor) = split_page(rows, limit, |row| &row.meta.id);

    // Only a normalized message has orders; fetch them all in one query.
    let normalized: Vec<&str> = rows
        .iter()
        .filter(|row| row.meta.status == MessageStatus::Normalized.as_str())
        .map(|row| row.meta.id.as_str())
        .collect();
    let mut order_ids: HashMap<String, Vec<String>> = HashMap::new();
    if !normalized.is_empty() {
        let mut sql =
            QueryBuilder::<Sqlite>::new("SELECT message_id, id FROM orders WHERE message_id IN (");
        let mut ids = sql.separated(", ");
        for id in normalized {
            ids.push_bind(id);
        }
        sql.push(") ORDER BY id");
        let pairs: Vec<(String, String)> = sql.build_query_as().fetch_all(&mut *tx).await?;
        for (message_id, order_id) in pairs {
            order_ids.entry(message_id).or_default().push(order_id);
        }
    }
    tx.commit().await?;

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

pub(super) async fn pending(store: &SqliteStore, limit: u32) -> StoreResult<Vec<Message>> {
    // The status is a literal, not a parameter, so SQLite can use the partial index.
    let rows: Vec<MessageRow> = sqlx::query_as(concat!(
        "SELECT ",
        message_columns!(),
        " FROM messages WHERE status = 'received' ORDER BY id LIMIT ?1"
    ))
    .bind(i64::from(limit))
    .fetch_all(&store.reader)
    .await?;
    // A received message has no orders: they are written with its completion.
    Ok(rows
        .into_iter()
        .map(|row| row.into_message(Vec::new()))
        .collect::<Result<_, _>>()?)
}
