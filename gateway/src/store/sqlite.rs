//! The embedded engine: one SQLite file in WAL mode.
//!
//! SQLite allows one writer at a time. Rather than let many pooled connections race
//! for the write lock (and fail with `SQLITE_BUSY` when a deferred transaction cannot
//! upgrade), every write goes through a pool of exactly one connection, so writers
//! queue in-process, in order, and each write transaction starts with
//! `BEGIN IMMEDIATE`. Reads use a separate pool of several `query_only` connections;
//! WAL lets them read a consistent snapshot while the writer commits.
//!
//! Times are stored as RFC 3339 UTC text with exactly three fractional digits
//! (`2026-11-01T08:00:00.123Z`), so text order is time order and the file is readable
//! with the `sqlite3` shell.

use std::str::FromStr;
use std::time::Duration;

use serde::Deserialize;
use sqlx::migrate::Migrator;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{QueryBuilder, Sqlite};

mod codec;

use self::codec::{BuyerRow, MessageRow, OrderRow, classify, json_text, now, time_text};
use super::{
    Buyer, InsertedMessage, MAX_PAGE, Message, MessageOutcome, MessageStatus, NewBuyer, NewMessage,
    OrderPage, OrderQuery, OrderRecord, Store, StoreError, StoreResult,
};

/// The SQLite schema, embedded at build time; run by [`SqliteStore::open`].
///
/// PostgreSQL gets its own directory beside it: the two dialects differ in types.
static MIGRATOR: Migrator = sqlx::migrate!("migrations/sqlite");

/// How hard SQLite works to make a commit survive a power cut.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Synchronous {
    /// fsync the WAL on every commit: an acknowledged order survives power loss.
    #[default]
    Full,
    /// fsync only at checkpoints: commits survive a crash of the gateway (kill -9)
    /// but the last ones may be lost on power loss or an OS crash. Faster on slow disks.
    Normal,
}

/// Tuning for [`SqliteStore::open_with`]; the defaults are safe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqliteOptions {
    /// Durability of commits; see [`Synchronous`].
    pub synchronous: Synchronous,
    /// Connections in the read pool (writes always use one connection).
    pub read_connections: u32,
    /// How long a connection waits for a lock held by another process before failing.
    pub busy_timeout: Duration,
}

impl Default for SqliteOptions {
    fn default() -> Self {
        Self {
            synchronous: Synchronous::Full,
            read_connections: 4,
            busy_timeout: Duration::from_secs(5),
        }
    }
}

/// [`Store`] on one SQLite file.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    /// Exactly one connection: SQLite's single writer, queued in-process.
    writer: SqlitePool,
    /// Read-only (`query_only`) connections.
    reader: SqlitePool,
}

impl SqliteStore {
    /// Opens (creating if missing, with its directory) the database at `url`, e.g.
    /// `sqlite://data/jembatan.db`, with default [`SqliteOptions`], and migrates it.
    pub async fn open(url: &str) -> StoreResult<Self> {
        Self::open_with(url, SqliteOptions::default()).await
    }

    /// Like [`SqliteStore::open`] with explicit options.
    pub async fn open_with(url: &str, options: SqliteOptions) -> StoreResult<Self> {
        let synchronous = match options.synchronous {
            Synchronous::Full => SqliteSynchronous::Full,
            Synchronous::Normal => SqliteSynchronous::Normal,
        };
        let base = SqliteConnectOptions::from_str(url)?
            .foreign_keys(true)
            .busy_timeout(options.busy_timeout)
            .synchronous(synchronous);

        if let Some(dir) = base.get_filename().parent()
            && !dir.as_os_str().is_empty()
        {
            tokio::fs::create_dir_all(dir)
                .await
                .map_err(sqlx::Error::Io)?;
        }

        // The writer opens first: it creates the file, switches it to WAL (a persistent
        // property of the file) and migrates, so readers find a ready schema.
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            // Keep the one connection (and its statement cache) for the process's life.
            .idle_timeout(None)
            .max_lifetime(None)
            .connect_with(
                base.clone()
                    .create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal),
            )
            .await?;
        MIGRATOR.run(&writer).await?;

        let reader = SqlitePoolOptions::new()
            .max_connections(options.read_connections.max(1))
            // A write through the read pool is a bug; make it fail loudly.
            .connect_with(base.pragma("query_only", "ON"))
            .await?;

        Ok(Self { writer, reader })
    }
}

// Column lists as macros so that `concat!` can build `&'static str` queries (sqlx only
// takes static or explicitly asserted SQL) and the row structs in `codec` stay in step.
macro_rules! buyer_columns {
    () => {
        "id, name, plugin, plugin_config, limits, created_at"
    };
}
macro_rules! message_columns {
    () => {
        "id, buyer_id, received_via, content_type, headers, body, body_sha256, \
         idempotency_key, status, error, response_status, response_body, received_at, \
         processed_at"
    };
}
macro_rules! order_columns {
    () => {
        "id, message_id, buyer_id, buyer_order_number, supplier_code, status, body, \
         created_at, updated_at"
    };
}

/// The ids of a message's orders, read on the caller's connection or transaction so
/// they agree with the message row read beside them.
async fn order_ids_of(
    conn: &mut sqlx::SqliteConnection,
    message_id: &str,
) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT id FROM orders WHERE message_id = ?1 ORDER BY id")
        .bind(message_id)
        .fetch_all(conn)
        .await
}

#[async_trait::async_trait]
impl Store for SqliteStore {
    async fn create_buyer(&self, buyer: NewBuyer) -> StoreResult<Buyer> {
        let created_at = now();
        sqlx::query(concat!(
            "INSERT INTO buyers (",
            buyer_columns!(),
            ", api_key_hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
        ))
        .bind(&buyer.id)
        .bind(&buyer.name)
        .bind(&buyer.plugin)
        .bind(json_text(&buyer.plugin_config)?)
        .bind(buyer.limits.as_ref().map(json_text).transpose()?)
        .bind(time_text(created_at))
        .bind(&buyer.api_key_hash)
        .execute(&self.writer)
        .await
        .map_err(|e| classify(&format!("buyer {}", buyer.id), e))?;
        Ok(Buyer {
            id: buyer.id,
            name: buyer.name,
            plugin: buyer.plugin,
            plugin_config: buyer.plugin_config,
            limits: buyer.limits,
            created_at,
        })
    }

    async fn buyer_by_api_key_hash(&self, api_key_hash: &str) -> StoreResult<Option<Buyer>> {
        let row: Option<BuyerRow> = sqlx::query_as(concat!(
            "SELECT ",
            buyer_columns!(),
            " FROM buyers WHERE api_key_hash = ?1"
        ))
        .bind(api_key_hash)
        .fetch_optional(&self.reader)
        .await?;
        Ok(row.map(Buyer::try_from).transpose()?)
    }

    async fn get_buyer(&self, id: &str) -> StoreResult<Option<Buyer>> {
        let row: Option<BuyerRow> = sqlx::query_as(concat!(
            "SELECT ",
            buyer_columns!(),
            " FROM buyers WHERE id = ?1"
        ))
        .bind(id)
        .fetch_optional(&self.reader)
        .await?;
        Ok(row.map(Buyer::try_from).transpose()?)
    }

    async fn list_buyers(&self) -> StoreResult<Vec<Buyer>> {
        let rows: Vec<BuyerRow> = sqlx::query_as(concat!(
            "SELECT ",
            buyer_columns!(),
            " FROM buyers ORDER BY id"
        ))
        .fetch_all(&self.reader)
        .await?;
        Ok(rows
            .into_iter()
            .map(Buyer::try_from)
            .collect::<Result<_, _>>()?)
    }

    async fn insert_message(&self, message: NewMessage) -> StoreResult<InsertedMessage> {
        let received_at = now();
        // One autocommit statement, no explicit transaction: the common case (a new
        // message) costs one round trip to the writer. Only the idempotency index is a
        // tolerated conflict; a duplicate id still fails.
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
        .execute(&self.writer)
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
                order_ids: Vec::new(),
                received_at,
                processed_at: None,
            }));
        }

        // Nothing inserted, so the key collided with a committed message (messages are
        // never deleted), which any snapshot from now on sees. Read it and its orders
        // in one snapshot.
        let mut tx = self.reader.begin().await?;
        let row: MessageRow = sqlx::query_as(concat!(
            "SELECT ",
            message_columns!(),
            " FROM messages WHERE buyer_id = ?1 AND idempotency_key = ?2"
        ))
        .bind(&message.buyer_id)
        .bind(&message.idempotency_key)
        .fetch_one(&mut *tx)
        .await?;
        let order_ids = order_ids_of(&mut tx, &row.id).await?;
        tx.commit().await?;
        Ok(InsertedMessage::Existing(row.into_message(order_ids)?))
    }

    async fn get_message(&self, buyer_id: Option<&str>, id: &str) -> StoreResult<Option<Message>> {
        // One read transaction: the status and the order ids come from one snapshot.
        let mut tx = self.reader.begin().await?;
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

    async fn complete_message(&self, id: &str, outcome: MessageOutcome) -> StoreResult<()> {
        let (status, error, response, orders) = match outcome {
            MessageOutcome::Normalized { orders, response } => {
                (MessageStatus::Normalized, None, response, orders)
            }
            MessageOutcome::Failed { error, response } => {
                (MessageStatus::Failed, Some(error), response, Vec::new())
            }
        };
        let processed_at = now();
        let processed_text = time_text(processed_at);

        let mut tx = self.writer.begin_with("BEGIN IMMEDIATE").await?;
        // The guard on status makes completion happen once: a second attempt matches no
        // row and stores nothing. Dropping `tx` on any early return rolls back.
        let buyer_id: Option<String> = sqlx::query_scalar(
            "UPDATE messages SET status = ?1, error = ?2, response_status = ?3, \
             response_body = ?4, processed_at = ?5 \
             WHERE id = ?6 AND status = 'received' RETURNING buyer_id",
        )
        .bind(status.as_str())
        .bind(error.as_ref().map(json_text).transpose()?)
        .bind(i64::from(response.status))
        .bind(json_text(&response.body)?)
        .bind(&processed_text)
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(buyer_id) = buyer_id else {
            let exists: Option<i64> = sqlx::query_scalar("SELECT 1 FROM messages WHERE id = ?1")
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
            return Err(match exists {
                Some(_) => StoreError::Conflict(format!("message {id} is already complete")),
                None => StoreError::NotFound,
            });
        };

        for order in &orders {
            if order.message_id != id || order.buyer_id != buyer_id {
                return Err(StoreError::Invalid(format!(
                    "order {} names message {} of buyer {}, not message {id} of buyer {buyer_id}",
                    order.id, order.message_id, order.buyer_id
                )));
            }
            sqlx::query(concat!(
                "INSERT INTO orders (",
                order_columns!(),
                ") VALUES (?1, ?2, ?3, ?4, ?5, 'received', ?6, ?7, ?7)"
            ))
            .bind(&order.id)
            .bind(&order.message_id)
            .bind(&order.buyer_id)
            .bind(&order.buyer_order_number)
            .bind(&order.supplier_code)
            .bind(json_text(&order.order)?)
            .bind(&processed_text)
            .execute(&mut *tx)
            .await
            .map_err(|e| classify(&format!("order {}", order.id), e))?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn pending_messages(&self, limit: u32) -> StoreResult<Vec<Message>> {
        // The status is a literal, not a parameter, so SQLite can use the partial index.
        let rows: Vec<MessageRow> = sqlx::query_as(concat!(
            "SELECT ",
            message_columns!(),
            " FROM messages WHERE status = 'received' ORDER BY id LIMIT ?1"
        ))
        .bind(i64::from(limit))
        .fetch_all(&self.reader)
        .await?;
        // A received message has no orders: they are written with its completion.
        Ok(rows
            .into_iter()
            .map(|row| row.into_message(Vec::new()))
            .collect::<Result<_, _>>()?)
    }

    async fn get_order(
        &self,
        buyer_id: Option<&str>,
        id: &str,
    ) -> StoreResult<Option<OrderRecord>> {
        let row: Option<OrderRow> = sqlx::query_as(concat!(
            "SELECT ",
            order_columns!(),
            " FROM orders WHERE id = ?1 AND (?2 IS NULL OR buyer_id = ?2)"
        ))
        .bind(id)
        .bind(buyer_id)
        .fetch_optional(&self.reader)
        .await?;
        Ok(row.map(OrderRecord::try_from).transpose()?)
    }

    async fn list_orders(&self, query: OrderQuery) -> StoreResult<OrderPage> {
        let limit = query.limit.clamp(1, MAX_PAGE);
        // Conditions are added only when present, rather than `(? IS NULL OR …)`, so the
        // planner can pick the (buyer_id, status, id) indexes.
        let mut sql =
            QueryBuilder::<Sqlite>::new(concat!("SELECT ", order_columns!(), " FROM orders"));
        let mut joiner = " WHERE ";
        if let Some(buyer_id) = query.buyer_id {
            sql.push(joiner).push("buyer_id = ").push_bind(buyer_id);
            joiner = " AND ";
        }
        if let Some(status) = query.status {
            sql.push(joiner)
                .push("status = ")
                .push_bind(status.as_str());
            joiner = " AND ";
        }
        if let Some(after) = query.after {
            sql.push(joiner).push("id < ").push_bind(after);
        }
        // One extra row tells whether another page follows.
        sql.push(" ORDER BY id DESC LIMIT ")
            .push_bind(i64::from(limit) + 1);

        let rows: Vec<OrderRow> = sql.build_query_as().fetch_all(&self.reader).await?;
        let mut orders = rows
            .into_iter()
            .map(OrderRecord::try_from)
            .collect::<Result<Vec<_>, _>>()?;
        let next_cursor = if orders.len() > limit as usize {
            orders.truncate(limit as usize);
            orders.last().map(|order| order.id.clone())
        } else {
            None
        };
        Ok(OrderPage {
            orders,
            next_cursor,
        })
    }

    async fn ping(&self) -> StoreResult<()> {
        // The read pool only: the writer may be queued behind a burst of writes, and a
        // busy gateway is still a ready one. A touch of the schema proves the file is open.
        sqlx::query("SELECT 1 FROM buyers LIMIT 1")
            .execute(&self.reader)
            .await?;
        Ok(())
    }

    async fn close(&self) {
        self.reader.close().await;
        // The last connection to close checkpoints the WAL into the main file.
        self.writer.close().await;
    }
}

#[cfg(test)]
mod tests;
