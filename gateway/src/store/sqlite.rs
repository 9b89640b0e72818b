//! The embedded engine: one SQLite file in WAL mode.
//!
//! SQLite allows one writer at a time. Rather than let many pooled connections race
//! for the write lock (and fail with `SQLITE_BUSY` when a deferred transaction cannot
//! upgrade), every write goes to one task that owns the one write connection
//! (`writer`): writes queue in-process, in order, and the writes queued together
//! share a `BEGIN IMMEDIATE` transaction and its fsync (group commit). Reads use a
//! separate pool of several `query_only` connections; WAL lets them read a consistent
//! snapshot while the writer commits.
//!
//! Times are stored as RFC 3339 UTC text with exactly three fractional digits
//! (`2026-11-01T08:00:00.123Z`), so text order is time order and the file is readable
//! with the `sqlite3` shell.
//!
//! The SQL lives in one file per concern (`buyers`, `plugins`, `messages`, `orders`);
//! this file opens the database and maps the [`Store`] trait onto them. A write there
//! is a function of a `&mut SqliteConnection`, run by the writer inside its batch's
//! transaction; a read takes the read pool.

use std::str::FromStr;
use std::time::Duration;

use serde::Deserialize;
use sqlx::migrate::Migrator;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{ConnectOptions, QueryBuilder, Sqlite};

use chrono::{DateTime, Utc};

use super::{
    BindingChange, Buyer, BuyerUpdate, Channel, ClaimedDelivery, Craftsman, Delivery,
    DeliveryAttempt, DeliveryPage, DeliveryQuery, DeliveryStats, InsertedMessage, MAX_PAGE,
    Message, MessageAttempt, MessageOutcome, MessagePage, MessageQuery, NewAttempt, NewBuyer,
    NewCraftsman, NewInboxSession, NewMessage, NewPluginArtifact, OrderPage, OrderQuery,
    OrderRecord, OrderScope, PluginArtifact, PluginRef, Route, RouteChange, Store, StoreResult,
    StoredResponse,
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
    /// The task that owns SQLite's single writer connection; see `writer`.
    writer: writer::Writer,
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
        // It is kept (with its statement cache) for the process's life.
        let mut writer = base
            .clone()
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // Keeps the journal of the writer's savepoints (one per job of a batch) in
            // memory rather than a temporary file: +50% posts/s measured.
            .pragma("temp_store", "MEMORY")
            .connect()
            .await?;
        MIGRATOR.run(&mut writer).await?;
        let writer = writer::Writer::spawn(writer).await?;

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
// Defined before the submodules so that they can use them.
macro_rules! buyer_columns {
    () => {
        "id, name, plugin, plugin_version, plugin_config, limits, created_at"
    };
}
/// Every message column but the body (see `codec::MessageMetaRow`).
macro_rules! message_meta_columns {
    () => {
        "id, buyer_id, received_via, content_type, headers, body_sha256, idempotency_key, \
         status, error, response_status, response_body, attempts, plugin_name, \
         plugin_version, received_at, processed_at"
    };
}
macro_rules! message_columns {
    () => {
        concat!(message_meta_columns!(), ", body")
    };
}
macro_rules! order_columns {
    () => {
        "id, message_id, buyer_id, buyer_order_number, supplier_code, craftsman_id, status, \
         body, created_at, updated_at"
    };
}
macro_rules! plugin_columns {
    () => {
        "sha256, name, version, description, content_types, size_bytes, uploaded_at"
    };
}

macro_rules! craftsman_columns {
    () => {
        "id, name, language, created_at"
    };
}
macro_rules! channel_columns {
    () => {
        "id, craftsman_id, target, disabled_at, disabled_reason, created_at"
    };
}
/// A delivery's columns, with its channel's kind and craftsman, from
/// `deliveries d JOIN channels c ON c.id = d.channel_id`.
macro_rules! delivery_columns {
    () => {
        "d.id, d.order_id, c.craftsman_id, d.channel_id, c.kind AS channel, d.state, \
         d.attempts, d.next_attempt_at, d.last_status_code, d.last_error, d.created_at, \
         d.updated_at, d.delivered_at"
    };
}

mod buyers;
mod codec;
mod craftsmen;
mod deliveries;
mod messages;
mod orders;
mod plugins;
mod writer;

/// Adds the filters, order and limit of a newest-first page to a `SELECT … FROM t`
/// over a table with a time-ordered `id` column: `filters` are (column, value)
/// equalities, `None` values skipped. Conditions
/// are added only when present, rather than `(? IS NULL OR …)`, so that the planner
/// can pick the matching index. One row more than `limit` is asked for, to tell
/// whether another page follows (see [`split_page`]).
fn push_page_filters(
    sql: &mut QueryBuilder<Sqlite>,
    id_column: &'static str,
    filters: [(&'static str, Option<String>); 3],
    after: Option<String>,
    limit: u32,
) {
    let mut joiner = " WHERE ";
    for (column, value) in filters {
        if let Some(value) = value {
            sql.push(joiner).push(column).push(" = ").push_bind(value);
            joiner = " AND ";
        }
    }
    if let Some(after) = after {
        sql.push(joiner)
            .push(id_column)
            .push(" < ")
            .push_bind(after);
    }
    sql.push(" ORDER BY ")
        .push(id_column)
        .push(" DESC LIMIT ")
        .push_bind(i64::from(limit) + 1);
}

/// Cuts rows fetched by [`push_page_filters`] to `limit`, and returns the cursor of
/// the next page if there is one.
fn split_page<T>(
    mut rows: Vec<T>,
    limit: u32,
    id: impl Fn(&T) -> &str,
) -> (Vec<T>, Option<String>) {
    if rows.len() > limit as usize {
        rows.truncate(limit as usize);
        let cursor = rows.last().map(|row| id(row).to_owned());
        (rows, cursor)
    } else {
        (rows, None)
    }
}

/// The page size a query asked for, within bounds.
fn page_limit(limit: u32) -> u32 {
    limit.clamp(1, MAX_PAGE)
}

#[async_trait::async_trait]
impl Store for SqliteStore {
    async fn create_buyer(&self, buyer: NewBuyer) -> StoreResult<Buyer> {
        self.writer
            .run(move |conn| Box::pin(buyers::create(conn, buyer)))
            .await
    }

    async fn buyer_by_api_key_hash(&self, api_key_hash: &str) -> StoreResult<Option<Buyer>> {
        buyers::by_api_key_hash(self, api_key_hash).await
    }

    async fn get_buyer(&self, id: &str) -> StoreResult<Option<Buyer>> {
        buyers::get(self, id).await
    }

    async fn list_buyers(&self) -> StoreResult<Vec<Buyer>> {
        buyers::list(self).await
    }

    async fn update_buyer(&self, id: &str, update: BuyerUpdate) -> StoreResult<Buyer> {
        let id = id.to_owned();
        self.writer
            .run(move |conn| Box::pin(buyers::update(conn, id, update)))
            .await
    }

    async fn buyer_plugin_history(&self, buyer_id: &str) -> StoreResult<Vec<BindingChange>> {
        buyers::history(self, buyer_id).await
    }

    async fn set_buyer_api_key_hash(
        &self,
        id: &str,
        api_key_hash: Option<String>,
    ) -> StoreResult<()> {
        let id = id.to_owned();
        self.writer
            .run(move |conn| Box::pin(buyers::set_api_key_hash(conn, id, api_key_hash)))
            .await
    }

    async fn insert_plugin(&self, plugin: NewPluginArtifact) -> StoreResult<PluginArtifact> {
        self.writer
            .run(move |conn| Box::pin(plugins::insert(conn, plugin)))
            .await
    }

    async fn list_plugins(&self) -> StoreResult<Vec<PluginArtifact>> {
        plugins::list(self).await
    }

    async fn plugin_wasm(&self, sha256: &str) -> StoreResult<Option<Vec<u8>>> {
        plugins::wasm(self, sha256).await
    }

    async fn all_plugin_wasm(&self) -> StoreResult<Vec<(PluginArtifact, Vec<u8>)>> {
        plugins::all_with_wasm(self).await
    }

    async fn insert_message(&self, message: NewMessage) -> StoreResult<InsertedMessage> {
        self.writer
            .run_single_write(move |conn| Box::pin(messages::insert(conn, message)))
            .await
    }

    async fn get_message(&self, buyer_id: Option<&str>, id: &str) -> StoreResult<Option<Message>> {
        messages::get(self, buyer_id, id).await
    }

    async fn complete_message_by(
        &self,
        id: &str,
        plugin: Option<PluginRef>,
        outcome: MessageOutcome,
    ) -> StoreResult<StoredResponse> {
        let id = id.to_owned();
        self.writer
            .run(move |conn| Box::pin(messages::complete(conn, id, plugin, outcome)))
            .await
    }

    async fn reopen_message(
        &self,
        id: &str,
        note: Option<serde_json::Value>,
    ) -> StoreResult<Message> {
        let id = id.to_owned();
        self.writer
            .run(move |conn| Box::pin(messages::reopen(conn, id, note)))
            .await
    }

    async fn message_attempts(&self, message_id: &str) -> StoreResult<Vec<MessageAttempt>> {
        messages::attempts(self, message_id).await
    }

    async fn list_messages(&self, query: MessageQuery) -> StoreResult<MessagePage> {
        messages::list(self, query).await
    }

    async fn pending_messages(&self, limit: u32) -> StoreResult<Vec<Message>> {
        messages::pending(self, limit).await
    }

    async fn get_order(&self, scope: OrderScope<'_>, id: &str) -> StoreResult<Option<OrderRecord>> {
        orders::get(self, scope, id).await
    }

    async fn list_orders(&self, query: OrderQuery) -> StoreResult<OrderPage> {
        orders::list(self, query).await
    }

    async fn create_craftsman(&self, craftsman: NewCraftsman) -> StoreResult<Craftsman> {
        self.writer
            .run(move |conn| Box::pin(craftsmen::create(conn, craftsman)))
            .await
    }

    async fn get_craftsman(&self, id: &str) -> StoreResult<Option<Craftsman>> {
        craftsmen::get(self, id).await
    }

    async fn craftsman_by_token_hash(&self, token_hash: &str) -> StoreResult<Option<Craftsman>> {
        craftsmen::by_token_hash(self, token_hash).await
    }

    async fn list_craftsmen(&self) -> StoreResult<Vec<Craftsman>> {
        craftsmen::list(self).await
    }

    async fn set_channel_enabled(
        &self,
        craftsman_id: &str,
        channel_id: &str,
        enabled: bool,
    ) -> StoreResult<Channel> {
        let (craftsman_id, channel_id) = (craftsman_id.to_owned(), channel_id.to_owned());
        self.writer
            .run(move |conn| {
                Box::pin(craftsmen::set_channel_enabled(
                    conn,
                    craftsman_id,
                    channel_id,
                    enabled,
                ))
            })
            .await
    }

    async fn set_craftsman_token_hash(
        &self,
        id: &str,
        token_hash: Option<String>,
    ) -> StoreResult<u64> {
        let id = id.to_owned();
        self.writer
            .run(move |conn| Box::pin(craftsmen::set_token_hash(conn, id, token_hash)))
            .await
    }

    async fn create_inbox_session(&self, session: NewInboxSession) -> StoreResult<()> {
        self.writer
            .run(move |conn| Box::pin(craftsmen::create_session(conn, session)))
            .await
    }

    async fn craftsman_by_session_hash(
        &self,
        id_hash: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<Craftsman>> {
        craftsmen::by_session_hash(self, id_hash, now).await
    }

    async fn end_inbox_session(&self, id_hash: &str) -> StoreResult<bool> {
        let id_hash = id_hash.to_owned();
        self.writer
            .run(move |conn| Box::pin(craftsmen::end_session(conn, id_hash)))
            .await
    }

    async fn put_route(
        &self,
        buyer_id: &str,
        supplier_code: &str,
        craftsman_id: &str,
    ) -> StoreResult<RouteChange> {
        let (buyer_id, supplier_code, craftsman_id) = (
            buyer_id.to_owned(),
            supplier_code.to_owned(),
            craftsman_id.to_owned(),
        );
        self.writer
            .run(move |conn| {
                Box::pin(craftsmen::put_route(
                    conn,
                    buyer_id,
                    supplier_code,
                    craftsman_id,
                ))
            })
            .await
    }

    async fn list_routes(&self, buyer_id: &str) -> StoreResult<Vec<Route>> {
        craftsmen::routes(self, buyer_id).await
    }

    async fn claim_deliveries(
        &self,
        now: DateTime<Utc>,
        lease: Duration,
        limit: u32,
    ) -> StoreResult<Vec<ClaimedDelivery>> {
        let until = now + lease;
        // The claim is a small write; what the workers need is read afterwards on
        // the read pool, keeping the single writer's transaction short.
        let ids = self
            .writer
            .run_single_write(move |conn| Box::pin(deliveries::claim(conn, now, until, limit)))
            .await?;
        deliveries::claimed(self, &ids).await
    }

    async fn record_attempt(&self, attempt: NewAttempt) -> StoreResult<Delivery> {
        self.writer
            .run(move |conn| Box::pin(deliveries::record_attempt(conn, attempt)))
            .await
    }

    async fn release_claims(&self) -> StoreResult<u64> {
        self.writer
            .run_single_write(|conn| Box::pin(deliveries::release_claims(conn)))
            .await
    }

    async fn next_due_at(&self) -> StoreResult<Option<DateTime<Utc>>> {
        deliveries::next_due_at(self).await
    }

    async fn retry_delivery(&self, id: &str) -> StoreResult<Delivery> {
        let id = id.to_owned();
        self.writer
            .run(move |conn| Box::pin(deliveries::retry(conn, id)))
            .await
    }

    async fn get_delivery(&self, id: &str) -> StoreResult<Option<Delivery>> {
        deliveries::get(self, id).await
    }

    async fn delivery_attempts(&self, delivery_id: &str) -> StoreResult<Vec<DeliveryAttempt>> {
        deliveries::attempts(self, delivery_id).await
    }

    async fn list_deliveries(&self, query: DeliveryQuery) -> StoreResult<DeliveryPage> {
        deliveries::list(self, query).await
    }

    async fn delivery_stats(&self) -> StoreResult<DeliveryStats> {
        deliveries::stats(self).await
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
