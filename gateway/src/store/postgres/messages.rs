//! Inbound messages: stored raw, completed once with their orders, reopened for a
//! replay only when they failed. The SQLite engine's `messages`, statement for
//! statement.

use std::collections::{HashMap, VecDeque};

use super::codec::{
    AttemptRow, MessageRow, MessageSummaryRow, STORED_ORDER_VERSION, TransactionRow, classify,
    json_text, now, time_text, transaction_columns,
};
use super::deliveries::{channel_states, write_deliveries};
use super::{Db, fetch_count, page_limit, page_params, page_query, rows, split_page};
use crate::store::outcome::{Outcome, Route, plan};
use crate::store::routing;
use crate::store::{
    InsertedMessage, Message, MessageAttempt, MessageOutcome, MessagePage, MessageQuery,
    MessageStatus, NewMessage, NewOrder, NewTransactionOutcome, OrderStatus, PluginRef, Purged,
    RecordedMessage, Retention, StoreError, StoreResult, StoredResponse, TransactionRecord,
};

/// The ids of a message's orders, read on the caller's connection or transaction so
/// they agree with the message row read beside them.
async fn order_ids_of(db: &dyn Db, message_id: &str) -> StoreResult<Vec<String>> {
    let found = db
        .query(
            "SELECT id FROM orders WHERE message_id = $1 ORDER BY id",
            &[&message_id],
        )
        .await?;
    rows(found, |row| row.try_get(0))
}

/// A message's transactions by index, with their orders as they are now.
async fn transactions_of(db: &dyn Db, message_id: &str) -> StoreResult<Vec<TransactionRecord>> {
    let found = db
        .query(
            concat!(
                "SELECT ",
                transaction_columns!(),
                " FROM transactions t LEFT JOIN orders o ON o.id = t.order_id \
                 WHERE t.message_id = $1 ORDER BY t.idx"
            ),
            &[&message_id],
        )
        .await?;
    rows(found, TransactionRow::from_pg)?
        .into_iter()
        .map(TransactionRecord::try_from)
        .collect()
}

/// A message row with its orders and transactions, read on one connection.
async fn complete_row(db: &dyn Db, row: MessageRow) -> StoreResult<Message> {
    let order_ids = order_ids_of(db, &row.meta.id).await?;
    let transactions = transactions_of(db, &row.meta.id).await?;
    row.into_message(order_ids, transactions)
}

/// Why a guarded update of message `id` matched no row: it is in another state
/// (`Conflict`, explained by `why`) or it does not exist.
async fn missing_or_conflict(
    db: &dyn Db,
    id: &str,
    why: impl FnOnce(&str) -> String,
) -> StoreResult<StoreError> {
    let status: Option<String> = db
        .query_opt("SELECT status FROM messages WHERE id = $1", &[&id])
        .await?
        .map(|row| row.try_get(0))
        .transpose()?;
    Ok(match status {
        Some(status) => StoreError::Conflict(why(&status)),
        None => StoreError::NotFound,
    })
}

/// The message a buyer stored before under `idempotency_key`.
async fn existing(db: &dyn Db, message: &NewMessage) -> StoreResult<Message> {
    let row = db
        .query_first(
            concat!(
                "SELECT ",
                message_columns!(),
                " FROM messages WHERE buyer_id = $1 AND idempotency_key = $2"
            ),
            &[&message.buyer_id, &message.idempotency_key],
        )
        .await?;
    complete_row(db, MessageRow::from_pg(&row)?).await
}

/// Inserts `message`, unless its buyer used its idempotency key before (`false`).
/// `outcome` is what to store as its outcome already, if it has one.
async fn insert_row(
    db: &dyn Db,
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
    // A concurrent insert with the same key waits for the first to commit, then
    // does nothing.
    let inserted = db
        .execute(
            "INSERT INTO messages (id, buyer_id, received_via, content_type, headers, body, \
             body_sha256, idempotency_key, status, error, response_status, response_body, \
             attempts, plugin_name, plugin_version, received_at, processed_at, warnings) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, \
             $18) \
             ON CONFLICT (buyer_id, idempotency_key) DO NOTHING",
            &[
                &message.id,
                &message.buyer_id,
                &message.received_via.as_str(),
                &message.content_type,
                &json_text(&message.headers)?,
                &message.body,
                &message.body_sha256,
                &message.idempotency_key,
                &status.as_str(),
                &error,
                &response.map(|r| i64::from(r.status)),
                &response.map(|r| json_text(&r.body)).transpose()?,
                &i64::from(outcome.is_some()),
                &plugin.map(|p| &p.name),
                &plugin.map(|p| &p.version),
                &received_text,
                &outcome.map(|_| received_text),
                &warnings,
            ],
        )
        .await
        .map_err(|e| classify(&format!("message {}", message.id), e))?;
    Ok(inserted == 1)
}

pub(super) async fn insert(db: &dyn Db, message: NewMessage) -> StoreResult<InsertedMessage> {
    let received_at = now();
    if !insert_row(db, &message, &time_text(received_at), None).await? {
        return Ok(InsertedMessage::Existing(existing(db, &message).await?));
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

/// The routes of the outcome's orders, in its order, read before it is planned:
/// `plan` asks for them one order at a time, as the SQLite engine reads them, but a
/// read here is asynchronous.
async fn routes_of(db: &dyn Db, outcome: &MessageOutcome) -> StoreResult<VecDeque<Route>> {
    let mut routes = VecDeque::new();
    if let MessageOutcome::Normalized { transactions, .. } = outcome {
        for transaction in transactions {
            if let NewTransactionOutcome::Order(order) = &transaction.outcome {
                routes.push_back(route(db, order).await?);
            }
        }
    }
    Ok(routes)
}

/// [`plan`] with the routes [`routes_of`] read.
async fn plan_routed(
    db: &dyn Db,
    id: &str,
    buyer_id: &str,
    plugin: Option<&PluginRef>,
    stored: Vec<TransactionRecord>,
    outcome: MessageOutcome,
) -> StoreResult<Outcome> {
    let mut routes = routes_of(db, &outcome).await?;
    plan(id, buyer_id, plugin, stored, outcome, &mut |order| {
        routes.pop_front().ok_or_else(|| {
            StoreError::Invalid(format!("order {} was not routed before its plan", order.id))
        })
    })
}

/// Writes the outcome's orders (with their deliveries), then its transaction rows,
/// which refer to them; a row of an earlier attempt at the same index (never an
/// order: [`plan`] checked) is replaced.
async fn write_outcome(
    db: &dyn Db,
    id: &str,
    outcome: &Outcome,
    now_text: &str,
) -> StoreResult<()> {
    for (order, route) in &outcome.orders {
        insert_order(db, order, route, now_text).await?;
    }
    for t in &outcome.transactions {
        db.execute(
            "INSERT INTO transactions (message_id, idx, control_number, status, order_id, error, \
             kind, reason, warnings) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
             ON CONFLICT (message_id, idx) DO UPDATE SET \
             control_number = excluded.control_number, status = excluded.status, \
             order_id = excluded.order_id, error = excluded.error, kind = excluded.kind, \
             reason = excluded.reason, warnings = excluded.warnings",
            &[
                &id,
                &i64::from(t.index),
                &t.control_number,
                &t.status.as_str(),
                &t.order.as_ref().map(|o| &o.id),
                &t.error.as_ref().map(json_text).transpose()?,
                &t.kind,
                &t.reason,
                &json_text(&t.warnings)?,
            ],
        )
        .await
        .map_err(|e| classify(&format!("transaction {} of message {id}", t.index), e))?;
    }
    Ok(())
}

/// Stores a new message and, when it has one, its outcome (orders routed, with their
/// deliveries), as one write: see [`crate::store::MessageStore::record_message`].
pub(super) async fn record(
    db: &dyn Db,
    message: NewMessage,
    processed: Option<(Option<PluginRef>, MessageOutcome)>,
) -> StoreResult<RecordedMessage> {
    let now_text = time_text(now());
    let Some((plugin, outcome)) = processed else {
        return Ok(match insert_row(db, &message, &now_text, None).await? {
            true => RecordedMessage::Stored(None),
            false => RecordedMessage::Existing(Box::new(existing(db, &message).await?)),
        });
    };
    // Route first (reads), so the message row is written once, answer included; the
    // orders follow it (they refer to it). A new message has no transactions yet.
    let outcome = plan_routed(
        db,
        &message.id,
        &message.buyer_id,
        plugin.as_ref(),
        Vec::new(),
        outcome,
    )
    .await?;
    if !insert_row(db, &message, &now_text, Some((&outcome, &plugin))).await? {
        return Ok(RecordedMessage::Existing(Box::new(
            existing(db, &message).await?,
        )));
    }
    write_outcome(db, &message.id, &outcome, &now_text).await?;
    Ok(RecordedMessage::Stored(Some(outcome.response)))
}

pub(super) async fn complete(
    db: &dyn Db,
    id: &str,
    plugin: Option<PluginRef>,
    outcome: MessageOutcome,
) -> StoreResult<StoredResponse> {
    let processed_text = time_text(now());
    let found = db
        .query_opt(
            "SELECT buyer_id, status FROM messages WHERE id = $1",
            &[&id],
        )
        .await?;
    let Some(found) = found else {
        return Err(StoreError::NotFound);
    };
    let (buyer_id, status): (String, String) = (found.try_get(0)?, found.try_get(1)?);
    // Said before the plan, which would find its transactions already written.
    if status != MessageStatus::Received.as_str() {
        return Err(StoreError::Conflict(format!(
            "message {id} is already complete ({status})"
        )));
    }
    let stored = transactions_of(db, id).await?;
    let outcome = plan_routed(db, id, &buyer_id, plugin.as_ref(), stored, outcome).await?;
    let (plugin_name, plugin_version) = plugin.map(|p| (p.name, p.version)).unzip();

    // The message first, guarded on its status, which makes completion happen once;
    // then its orders. Any early return is an `Err`, which rolls back everything
    // this wrote.
    let updated = db
        .execute(
            "UPDATE messages SET status = $1, error = $2, response_status = $3, \
             response_body = $4, processed_at = $5, attempts = attempts + 1, \
             plugin_name = $6, plugin_version = $7, warnings = $9 \
             WHERE id = $8 AND status = 'received'",
            &[
                &outcome.status.as_str(),
                &outcome.error.as_ref().map(json_text).transpose()?,
                &i64::from(outcome.response.status),
                &json_text(&outcome.response.body)?,
                &processed_text,
                &plugin_name,
                &plugin_version,
                &id,
                &json_text(&outcome.warnings)?,
            ],
        )
        .await?;
    if updated == 0 {
        return Err(missing_or_conflict(db, id, |status| {
            format!("message {id} is already complete ({status})")
        })
        .await?);
    }
    write_outcome(db, id, &outcome, &processed_text).await?;
    Ok(outcome.response)
}

/// Where a new order goes: its buyer's route for its supplier code names the
/// craftsman, and [`routing::route`] its status and deliveries, decided in the
/// transaction that stores it. Without a route it waits, `unrouted`.
async fn route(db: &dyn Db, order: &NewOrder) -> StoreResult<Route> {
    let craftsman: Option<String> = db
        .query_opt(
            "SELECT craftsman_id FROM routes WHERE buyer_id = $1 AND supplier_code = $2",
            &[&order.buyer_id, &order.supplier_code],
        )
        .await?
        .map(|row| row.try_get(0))
        .transpose()?;
    let (status, deliveries) = match &craftsman {
        Some(craftsman) => routing::route(&channel_states(db, craftsman).await?),
        None => (OrderStatus::Unrouted, Vec::new()),
    };
    Ok(Route {
        craftsman,
        status,
        deliveries,
    })
}

/// Writes a new order as [`route`] decided, with its deliveries.
async fn insert_order(
    db: &dyn Db,
    order: &NewOrder,
    route: &Route,
    now_text: &str,
) -> StoreResult<()> {
    db.execute(
        "INSERT INTO orders (id, message_id, buyer_id, buyer_order_number, supplier_code, \
         craftsman_id, status, body, schema_version, created_at, updated_at, routed_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10, \
                 CASE WHEN $6::text IS NULL THEN NULL ELSE $10 END)",
        &[
            &order.id,
            &order.message_id,
            &order.buyer_id,
            &order.buyer_order_number,
            &order.supplier_code,
            &route.craftsman,
            &route.status.as_str(),
            &json_text(&order.order)?,
            &STORED_ORDER_VERSION,
            &now_text,
        ],
    )
    .await
    .map_err(|e| classify(&format!("order {}", order.id), e))?;
    write_deliveries(db, &order.id, &route.deliveries, now_text).await
}

/// Called on one snapshot: the status and the order ids agree.
pub(super) async fn get(
    db: &dyn Db,
    buyer_id: Option<&str>,
    id: &str,
) -> StoreResult<Option<Message>> {
    let row = db
        .query_opt(
            concat!(
                "SELECT ",
                message_columns!(),
                " FROM messages WHERE id = $1 AND ($2::text IS NULL OR buyer_id = $2)"
            ),
            &[&id, &buyer_id],
        )
        .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    Ok(Some(complete_row(db, MessageRow::from_pg(&row)?).await?))
}

pub(super) async fn reopen(
    db: &dyn Db,
    id: &str,
    note: Option<serde_json::Value>,
) -> StoreResult<Message> {
    // Archive the outcome; the guard is what keeps a message whose every transaction
    // is an order from ever being processed again.
    let archived = db
        .execute(
            "INSERT INTO message_attempts (message_id, attempt, status, error, plugin_name, \
             plugin_version, processed_at, reopened_at, note) \
             SELECT id, attempts, status, error, plugin_name, plugin_version, processed_at, \
             $2::text, $3::text \
             FROM messages WHERE id = $1 AND (status = 'failed' OR (status = 'normalized' \
             AND EXISTS (SELECT 1 FROM transactions \
                         WHERE message_id = $1 AND status = 'refused')))",
            &[
                &id,
                &time_text(now()),
                &note.as_ref().map(json_text).transpose()?,
            ],
        )
        .await?;
    if archived == 0 {
        return Err(missing_or_conflict(db, id, |status| {
            format!(
                "message {id} is {status} with no refused transaction; only a failed message, \
                 or one with refused transactions, can be reopened"
            )
        })
        .await?);
    }
    let row = db
        .query_first(
            concat!(
                "UPDATE messages SET status = 'received', error = NULL, response_status = NULL, \
                 response_body = NULL, plugin_name = NULL, plugin_version = NULL, \
                 processed_at = NULL WHERE id = $1 RETURNING ",
                message_columns!()
            ),
            &[&id],
        )
        .await?;
    complete_row(db, MessageRow::from_pg(&row)?).await
}

pub(super) async fn attempts(db: &dyn Db, message_id: &str) -> StoreResult<Vec<MessageAttempt>> {
    let found = db
        .query(
            "SELECT message_id, attempt, status, error, plugin_name, plugin_version, \
             processed_at, reopened_at, note \
             FROM message_attempts WHERE message_id = $1 ORDER BY attempt",
            &[&message_id],
        )
        .await?;
    rows(found, AttemptRow::from_pg)?
        .into_iter()
        .map(MessageAttempt::try_from)
        .collect()
}

/// Called on one snapshot: the messages and their order ids agree.
pub(super) async fn list(db: &dyn Db, query: MessageQuery) -> StoreResult<MessagePage> {
    let limit = page_limit(query.limit);
    let (sql, params) = page_query(
        concat!(
            "SELECT ",
            message_meta_columns!(),
            ", length(body)::bigint AS body_size FROM messages"
        ),
        "id",
        [
            ("buyer_id", query.buyer_id),
            ("status", query.status.map(|s| s.as_str().to_owned())),
            // A filter compares a column with a text parameter: the test is cast to
            // text ('true') to be one.
            (
                "CAST(EXISTS (SELECT 1 FROM transactions t WHERE t.message_id = messages.id \
                 AND t.status = 'refused') AS TEXT)",
                query.with_refused.then(|| "true".to_owned()),
            ),
        ],
        query.after,
    );
    let fetch = fetch_count(limit);
    let found = db.query(&sql, &page_params(&params, &fetch)).await?;
    let found = rows(found, MessageSummaryRow::from_pg)?;
    let (found, next_cursor) = split_page(found, limit, |row| &row.meta.id);

    // A failed message has no orders; fetch the others' in one query (a received
    // one has orders while a replay of its refused transactions is under way).
    let normalized: Vec<&str> = found
        .iter()
        .filter(|row| row.meta.status != MessageStatus::Failed.as_str())
        .map(|row| row.meta.id.as_str())
        .collect();
    let mut order_ids: HashMap<String, Vec<String>> = HashMap::new();
    if !normalized.is_empty() {
        let pairs = db
            .query(
                "SELECT message_id, id FROM orders WHERE message_id = ANY($1) ORDER BY id",
                &[&normalized],
            )
            .await?;
        for pair in pairs {
            let (message_id, order_id): (String, String) = (pair.try_get(0)?, pair.try_get(1)?);
            order_ids.entry(message_id).or_default().push(order_id);
        }
    }

    let messages = found
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

pub(super) async fn pending(
    db: &dyn Db,
    after: Option<&str>,
    limit: u32,
) -> StoreResult<Vec<Message>> {
    // The status is a literal, not a parameter, so the planner can use the partial
    // index.
    let found = db
        .query(
            concat!(
                "SELECT ",
                message_columns!(),
                " FROM messages WHERE status = 'received' AND ($1::text IS NULL OR id > $1) \
                 ORDER BY id LIMIT $2"
            ),
            &[&after, &i64::from(limit)],
        )
        .await?;
    // Read with its orders and transactions: one reopened for a replay of its refused
    // transactions has both, and its completion must know them.
    let mut messages = Vec::with_capacity(found.len());
    for row in rows(found, MessageRow::from_pg)? {
        messages.push(complete_row(db, row).await?);
    }
    Ok(messages)
}

pub(super) async fn stored_body_bytes(db: &dyn Db, buyer_id: &str) -> StoreResult<u64> {
    let bytes: i64 = db
        .query_first(
            "SELECT COALESCE(SUM(length(body)), 0)::bigint FROM messages WHERE buyer_id = $1",
            &[&buyer_id],
        )
        .await?
        .try_get(0)?;
    u64::try_from(bytes).map_err(|e| super::codec::decode(e.to_string()))
}

/// One batch of each kind retention deletes; see
/// [`crate::store::MessageStore::purge`]. A body is emptied, never its row: the
/// message's hash, outcome, transactions and orders stay.
pub(super) async fn purge(db: &dyn Db, retention: &Retention) -> StoreResult<Purged> {
    let now_text = time_text(now());
    let batch = i64::from(retention.batch);
    let failed_bodies = db
        .execute(
            "UPDATE messages SET body = ''::bytea, body_purged_at = $1 WHERE id IN (\
             SELECT id FROM messages WHERE body_purged_at IS NULL AND received_at < $2 \
             AND status = 'failed' ORDER BY received_at LIMIT $3)",
            &[
                &now_text,
                &time_text(retention.failed_bodies_before),
                &batch,
            ],
        )
        .await?;
    let finished_bodies = db
        .execute(
            "UPDATE messages SET body = ''::bytea, body_purged_at = $1 WHERE id IN (\
             SELECT m.id FROM messages m WHERE m.body_purged_at IS NULL AND m.received_at < $2 \
             AND m.status = 'normalized' \
             AND NOT EXISTS (SELECT 1 FROM transactions t \
                             WHERE t.message_id = m.id AND t.status = 'refused') \
             AND NOT EXISTS (SELECT 1 FROM orders o \
                             WHERE o.message_id = m.id AND o.status IN ('unrouted', 'received')) \
             ORDER BY m.received_at LIMIT $3)",
            &[
                &now_text,
                &time_text(retention.finished_bodies_before),
                &batch,
            ],
        )
        .await?;
    let attempts = db
        .execute(
            "DELETE FROM delivery_attempts WHERE (delivery_id, attempt) IN (\
             SELECT a.delivery_id, a.attempt FROM delivery_attempts a \
             JOIN deliveries d ON d.id = a.delivery_id \
             WHERE a.started_at < $1 AND d.state IN ('succeeded', 'dead') \
             ORDER BY a.started_at LIMIT $2)",
            &[&time_text(retention.attempts_before), &batch],
        )
        .await?;
    let early_statuses = db
        .execute(
            "DELETE FROM whatsapp_early_statuses WHERE wamid IN (\
             SELECT wamid FROM whatsapp_early_statuses WHERE received_at < $1 \
             ORDER BY received_at LIMIT $2)",
            &[&time_text(retention.early_statuses_before), &batch],
        )
        .await?;
    Ok(Purged {
        failed_bodies,
        finished_bodies,
        attempts,
        early_statuses,
    })
}
