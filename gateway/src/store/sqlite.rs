//! The embedded engine: one SQLite file in WAL mode, driven by `rusqlite`.
//!
//! SQLite allows one writer at a time. Rather than let many connections race for the
//! write lock (and fail with `SQLITE_BUSY` when a deferred transaction cannot
//! upgrade), every write goes to one thread that owns the one write connection
//! (`writer`): writes queue in-process, in order, and the writes queued together
//! share a `BEGIN IMMEDIATE` transaction and its fsync (group commit). Reads run on
//! the calling thread on `query_only` connections of their own (see
//! [`SqliteStore::read`]); WAL lets them read a consistent snapshot while the writer
//! commits, so they never wait for writes.
//!
//! Times are stored as RFC 3339 UTC text with exactly three fractional digits
//! (`2026-11-01T08:00:00.123Z`), so text order is time order and the file is readable
//! with the `sqlite3` shell.
//!
//! The SQL lives in one file per concern (`buyers`, `plugins`, `messages`, `orders`,
//! `craftsmen`, `deliveries`); this file opens the database and maps [`Store`] and
//! its area traits onto them. Every function there is a plain (synchronous) function
//! of a `&Connection`: a write is run by the writer inside its batch's transaction, a
//! read by [`SqliteStore::read`]. Statements are prepared once per connection and
//! cached.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use rusqlite::config::DbConfig;
use rusqlite::{Connection, OpenFlags};
use serde::Deserialize;

use chrono::{DateTime, Utc};

use crate::model::{ChannelTarget, ChatKind, Language, RenderedResponse};

use jembatan_schemas::OrderResponse;

use super::{
    AdminAlert, AlertOutcome, AlertStore, BindingChange, Buyer, BuyerCallback, BuyerStore,
    BuyerUpdate, Channel, ChannelPause, ChatStore, ClaimedDelivery, Craftsman, CraftsmanStore,
    DecidedReminder, Delivery, DeliveryAttempt, DeliveryPage, DeliveryQuery, DeliveryStats,
    EarlyStatusKept, EmailReply, EmailSettings, EngineError, InsertedMessage, MailStore, Message,
    MessageAttempt, MessageOutcome, MessagePage, MessageQuery, MessageStore, NewAttempt, NewBuyer,
    NewCraftsman, NewInboxSession, NewMessage, NewPluginArtifact, NewResponse, OrderPage,
    OrderQuery, OrderRecord, OrderScope, Outbox, PluginArtifact, PluginRef, Purged, ReasonQuestion,
    Receipt, RecordedMessage, RecordedResponse, ReminderStore, ReminderWindow, Reopen, ReplyState,
    ResponseStore, Retention, Route, RouteChange, SentMessage, Store, StoreError, StoreResult,
    StoredResponse, WhatsAppContact, WhatsAppStatus,
};

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
    /// Read connections kept open between reads (writes always use one connection).
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

impl From<rusqlite::Error> for StoreError {
    fn from(error: rusqlite::Error) -> Self {
        StoreError::Database(engine_error(error))
    }
}

/// A SQLite error as the store reports it: one that means the database cannot be
/// used at all (its disk full, its file read-only, gone, damaged or not a database)
/// is marked unavailable, so the gateway fails closed until it is fixed.
pub(super) fn engine_error(error: rusqlite::Error) -> EngineError {
    use rusqlite::ErrorCode;
    match error.sqlite_error_code() {
        Some(
            ErrorCode::DiskFull
            | ErrorCode::ReadOnly
            | ErrorCode::SystemIoFailure
            | ErrorCode::DatabaseCorrupt
            | ErrorCode::NotADatabase
            | ErrorCode::CannotOpen,
        ) => EngineError::unavailable(error),
        _ => EngineError::new(error),
    }
}

/// Statements each connection keeps prepared: every query the store runs fits.
const STATEMENT_CACHE: usize = 128;

/// [`Store`] on one SQLite file.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    /// The thread that owns SQLite's single writer connection; see `writer`.
    writer: writer::Writer,
    /// Read-only (`query_only`) connections; see [`SqliteStore::read`].
    readers: std::sync::Arc<Readers>,
}

/// Idle read connections, taken by a read and put back after it.
#[derive(Debug)]
struct Readers {
    path: PathBuf,
    options: SqliteOptions,
    idle: Mutex<Vec<Connection>>,
}

impl SqliteStore {
    /// Opens (creating if missing, with its directory) the database at `url`, e.g.
    /// `sqlite://data/jembatan.db`, with default [`SqliteOptions`], and migrates it.
    pub async fn open(url: &str) -> StoreResult<Self> {
        Self::open_with(url, SqliteOptions::default()).await
    }

    /// Like [`SqliteStore::open`] with explicit options.
    pub async fn open_with(url: &str, options: SqliteOptions) -> StoreResult<Self> {
        let path = path_of(url)?;
        let opened = tokio::task::spawn_blocking(move || {
            open_writer(&path, &options).map(|conn| (conn, path, options))
        })
        .await
        .map_err(|e| StoreError::Database(EngineError::new(e)))?;
        let (writer, path, options) = opened?;
        let writer = writer::Writer::spawn(writer)?;
        let readers = Readers {
            path,
            options,
            idle: Mutex::new(Vec::new()),
        };
        // Fail now, not at the first read, if the file cannot be read.
        readers.put(readers.take()?);
        Ok(Self {
            writer,
            readers: std::sync::Arc::new(readers),
        })
    }

    /// Runs `op` on a read connection, on the calling thread.
    ///
    /// Reads run where they are asked for rather than on a thread of their own: a read
    /// of a few rows from the page cache takes microseconds, less than handing it to
    /// another thread and back would. WAL lets them read committed data while the
    /// writer writes, so they never queue behind writes. An `op` that reads more than
    /// once and needs the reads to agree opens a read transaction
    /// (`Connection::unchecked_transaction`).
    fn read<T>(&self, op: impl FnOnce(&Connection) -> StoreResult<T>) -> StoreResult<T> {
        let conn = self.readers.take()?;
        let result = op(&conn);
        self.readers.put(conn);
        result
    }
}

impl Readers {
    fn take(&self) -> StoreResult<Connection> {
        let idle = self
            .idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        match idle {
            Some(conn) => Ok(conn),
            None => open_reader(&self.path, &self.options),
        }
    }

    fn put(&self, conn: Connection) {
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        // A connection left in a transaction (an `op` that returned early) is dropped.
        if conn.is_autocommit() && idle.len() < self.options.read_connections.max(1) as usize {
            idle.push(conn);
        }
    }
}

/// The file a `sqlite://PATH` (or `sqlite:PATH`) URL names; query parameters (sqlx's
/// `?mode=rwc`, say) are ignored: the store always creates a missing file.
pub(super) fn path_of(url: &str) -> StoreResult<PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .ok_or_else(|| StoreError::Invalid(format!("not a sqlite:// URL: {url}")))?;
    let path = rest.split('?').next().unwrap_or_default();
    if path.is_empty() || path == ":memory:" {
        return Err(StoreError::Invalid(format!(
            "a SQLite store needs a file (sqlite://PATH), not {url}"
        )));
    }
    Ok(PathBuf::from(path))
}

/// The write connection: it creates the file (and its directory), switches it to WAL
/// (a persistent property of the file) and migrates, so readers find a ready schema.
fn open_writer(path: &Path, options: &SqliteOptions) -> StoreResult<Connection> {
    if let Some(dir) = path.parent()
        && !dir.as_os_str().is_empty()
    {
        std::fs::create_dir_all(dir).map_err(|e| StoreError::Database(EngineError::new(e)))?;
    }
    let conn = Connection::open(path)?;
    configure(&conn, options)?;
    let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(StoreError::Database(EngineError::msg(format!(
            "{} cannot use WAL (journal_mode is {mode})",
            path.display()
        ))));
    }
    // Keeps the journal of the writer's savepoints (one per job of a batch) in
    // memory rather than a temporary file: +50% posts/s measured.
    conn.execute_batch("PRAGMA temp_store = MEMORY")?;
    migrations::run(&conn)?;
    Ok(conn)
}

/// A connection to an existing database file, its schema brought up to date, for
/// `store::transfer` to read it whole.
pub(super) fn open_existing(path: &Path) -> StoreResult<Connection> {
    open_writer(path, &SqliteOptions::default())
}

fn open_reader(path: &Path, options: &SqliteOptions) -> StoreResult<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    configure(&conn, options)?;
    // A write through a read connection is a bug; make it fail loudly.
    conn.execute_batch("PRAGMA query_only = ON")?;
    Ok(conn)
}

/// What every connection sets.
fn configure(conn: &Connection, options: &SqliteOptions) -> StoreResult<()> {
    conn.busy_timeout(options.busy_timeout)?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    // The query planner's stability guarantee: plans do not depend on the values
    // bound. Without it, SQLite compares a bound parameter with the constants in a
    // partial index's WHERE (`deliveries_due`, `orders_unrouted`, ...) while
    // planning, and then prepares the statement again whenever that parameter is
    // bound anew: every claim, attempt and status update was compiled afresh.
    // Measured (bench, quiet, three paired runs): 270-300 vs 297-345 µs of CPU per
    // JSON order. Every query names the partial indexes' states as literals, so
    // none loses its index.
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
    conn.execute_batch(match options.synchronous {
        Synchronous::Full => "PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL",
        Synchronous::Normal => "PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL",
    })?;
    Ok(())
}

mod alerts;
mod buyers;
mod chat;
mod codec;
mod craftsmen;
mod deliveries;
mod mail;
mod messages;
mod migrations;
mod orders;
mod plugins;
mod reminders;
mod responses;
mod whatsapp;
mod writer;

use super::rows::{page_limit, split_page};

/// A listing's status filter, written out with the status's text (migration 19):
/// SQLite uses a partial index (`WHERE status = 'failed'`) only for a query that
/// states its condition as written, so the status is not a parameter.
fn status_condition(column: &str, status: &str) -> String {
    format!("{column} = '{status}'")
}

/// The buyer filter beside a status filter. The few rows in an uncommon status sit
/// in a partial index of that status, in id order, holding the buyer; there the
/// filter is written `+buyer_id`, which keeps SQLite from reading all of the
/// buyer's rows from the buyer's index instead. A common status has no index: its
/// rows are read in id order, a buyer's from the buyer's index.
fn buyer_filter(uncommon_status: bool) -> &'static str {
    if uncommon_status {
        "+buyer_id = ?"
    } else {
        "buyer_id"
    }
}

/// A newest-first page query: `base` (`SELECT … FROM t`) with the filters, order and
/// limit added, over a table with a time-ordered `id_column`. `filters` are
/// (column, value) equalities, `None` values skipped. Conditions are added only when
/// present, rather than `(? IS NULL OR …)`, so that the planner can pick the matching
/// index. One row more than `limit` is asked for, to tell whether another page
/// follows (see [`split_page`]). A "column" holding a `?` is a condition of its
/// own, its `?` the value's place (`routed_at <= ?`). `written` is a condition
/// written out whole, with no parameter: a status filter ([`status_condition`]).
/// Returns the SQL and its parameters, in order.
fn page_query<const N: usize>(
    base: &str,
    id_column: &'static str,
    written: Option<String>,
    filters: [(&'static str, Option<String>); N],
    after: Option<String>,
    limit: u32,
) -> (String, Vec<rusqlite::types::Value>) {
    use rusqlite::types::Value;
    let mut sql = String::from(base);
    let mut params = Vec::new();
    let mut joiner = " WHERE ";
    if let Some(condition) = written {
        sql.push_str(&format!("{joiner}{condition}"));
        joiner = " AND ";
    }
    let conditions = filters
        .into_iter()
        .chain([(id_column, after)])
        .filter_map(|(column, value)| value.map(|value| (column, value)));
    for (column, value) in conditions {
        params.push(Value::Text(value));
        let place = format!("?{}", params.len());
        if column.contains('?') {
            sql.push_str(&format!("{joiner}{}", column.replace('?', &place)));
        } else {
            let op = if column == id_column { " < " } else { " = " };
            sql.push_str(&format!("{joiner}{column}{op}{place}"));
        }
        joiner = " AND ";
    }
    params.push(Value::Integer(i64::from(limit) + 1));
    sql.push_str(&format!(
        " ORDER BY {id_column} DESC LIMIT ?{}",
        params.len()
    ));
    (sql, params)
}

#[async_trait::async_trait]
impl BuyerStore for SqliteStore {
    async fn create_buyer(&self, buyer: NewBuyer) -> StoreResult<Buyer> {
        self.writer
            .run(move |conn| buyers::create(conn, buyer))
            .await
    }

    async fn buyer_by_api_key_hash(&self, api_key_hash: &str) -> StoreResult<Option<Buyer>> {
        self.read(|conn| buyers::by_api_key_hash(conn, api_key_hash))
    }

    async fn get_buyer(&self, id: &str) -> StoreResult<Option<Buyer>> {
        self.read(|conn| buyers::get(conn, id))
    }

    async fn list_buyers(&self) -> StoreResult<Vec<Buyer>> {
        self.read(buyers::list)
    }

    async fn update_buyer(&self, id: &str, update: BuyerUpdate) -> StoreResult<Buyer> {
        let id = id.to_owned();
        self.writer
            .run(move |conn| buyers::update(conn, id, update))
            .await
    }

    async fn buyer_plugin_history(&self, buyer_id: &str) -> StoreResult<Vec<BindingChange>> {
        self.read(|conn| buyers::history(conn, buyer_id))
    }

    async fn set_buyer_api_key_hash(
        &self,
        id: &str,
        api_key_hash: Option<String>,
    ) -> StoreResult<()> {
        let id = id.to_owned();
        self.writer
            .run(move |conn| buyers::set_api_key_hash(conn, id, api_key_hash))
            .await
    }

    async fn set_buyer_callback(
        &self,
        id: &str,
        callback: Option<BuyerCallback>,
    ) -> StoreResult<Buyer> {
        let id = id.to_owned();
        self.writer
            .run(move |conn| buyers::set_callback(conn, id, callback))
            .await
    }

    async fn insert_plugin(&self, plugin: NewPluginArtifact) -> StoreResult<PluginArtifact> {
        self.writer
            .run(move |conn| plugins::insert(conn, plugin))
            .await
    }

    async fn list_plugins(&self) -> StoreResult<Vec<PluginArtifact>> {
        self.read(plugins::list)
    }

    async fn plugin_wasm(&self, sha256: &str) -> StoreResult<Option<Vec<u8>>> {
        self.read(|conn| plugins::wasm(conn, sha256))
    }

    async fn all_plugin_wasm(&self) -> StoreResult<Vec<(PluginArtifact, Vec<u8>)>> {
        self.read(plugins::all_with_wasm)
    }
}

#[async_trait::async_trait]
impl MessageStore for SqliteStore {
    async fn insert_message(&self, message: NewMessage) -> StoreResult<InsertedMessage> {
        self.writer
            .run_single_write(move |conn| messages::insert(conn, message))
            .await
    }

    async fn record_message(
        &self,
        message: NewMessage,
        processed: Option<(Option<PluginRef>, MessageOutcome)>,
    ) -> StoreResult<RecordedMessage> {
        self.writer
            .run(move |conn| messages::record(conn, message, processed))
            .await
    }

    async fn get_message(&self, buyer_id: Option<&str>, id: &str) -> StoreResult<Option<Message>> {
        self.read(|conn| messages::get(conn, buyer_id, id))
    }

    async fn complete_message_by(
        &self,
        id: &str,
        plugin: Option<PluginRef>,
        outcome: MessageOutcome,
    ) -> StoreResult<StoredResponse> {
        let id = id.to_owned();
        self.writer
            .run(move |conn| messages::complete(conn, id, plugin, outcome))
            .await
    }

    async fn reopen_message(
        &self,
        id: &str,
        note: Option<serde_json::Value>,
    ) -> StoreResult<Message> {
        let id = id.to_owned();
        self.writer
            .run(move |conn| messages::reopen(conn, id, note))
            .await
    }

    async fn message_attempts(&self, message_id: &str) -> StoreResult<Vec<MessageAttempt>> {
        self.read(|conn| messages::attempts(conn, message_id))
    }

    async fn list_messages(&self, query: MessageQuery) -> StoreResult<MessagePage> {
        self.read(|conn| messages::list(conn, query))
    }

    async fn pending_messages(&self, after: Option<&str>, limit: u32) -> StoreResult<Vec<Message>> {
        self.read(|conn| messages::pending(conn, after, limit))
    }

    async fn stored_body_bytes(&self, buyer_id: &str) -> StoreResult<u64> {
        self.read(|conn| messages::stored_body_bytes(conn, buyer_id))
    }

    async fn purge(&self, retention: &Retention) -> StoreResult<Purged> {
        let retention = retention.clone();
        self.writer
            .run(move |conn| messages::purge(conn, &retention))
            .await
    }

    async fn get_order(&self, scope: OrderScope<'_>, id: &str) -> StoreResult<Option<OrderRecord>> {
        self.read(|conn| orders::get(conn, scope, id))
    }

    async fn list_orders(&self, query: OrderQuery) -> StoreResult<OrderPage> {
        self.read(|conn| orders::list(conn, query))
    }
}

#[async_trait::async_trait]
impl ResponseStore for SqliteStore {
    async fn record_response(&self, response: NewResponse) -> StoreResult<RecordedResponse> {
        self.writer
            .run(move |conn| responses::record(conn, response))
            .await
    }

    async fn order_responses(&self, order_id: &str) -> StoreResult<Vec<OrderResponse>> {
        self.read(|conn| responses::of_order(conn, order_id))
    }

    async fn response_by_event(&self, event_key: &str) -> StoreResult<Option<OrderResponse>> {
        self.read(|conn| responses::by_event(conn, event_key))
    }

    async fn next_control_number(&self, buyer_id: &str) -> StoreResult<u32> {
        let buyer_id = buyer_id.to_owned();
        self.writer
            .run(move |conn| responses::next_control_number(conn, &buyer_id))
            .await
    }

    async fn rendered_response(&self, response_id: &str) -> StoreResult<Option<RenderedResponse>> {
        self.read(|conn| responses::rendered(conn, response_id))
    }

    async fn keep_rendered_response(
        &self,
        rendered: RenderedResponse,
    ) -> StoreResult<RenderedResponse> {
        self.writer
            .run(move |conn| responses::keep_rendered(conn, rendered))
            .await
    }
}

#[async_trait::async_trait]
impl ReminderStore for SqliteStore {
    async fn decide_reminders(
        &self,
        window: ReminderWindow,
        now: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Vec<DecidedReminder>> {
        self.writer
            .run(move |conn| reminders::decide(conn, window, now, limit))
            .await
    }

    async fn next_reminder_from(
        &self,
        routed_after: DateTime<Utc>,
    ) -> StoreResult<Option<DateTime<Utc>>> {
        self.read(|conn| reminders::next_from(conn, routed_after))
    }
}

#[async_trait::async_trait]
impl CraftsmanStore for SqliteStore {
    async fn create_craftsman(&self, craftsman: NewCraftsman) -> StoreResult<Craftsman> {
        self.writer
            .run(move |conn| craftsmen::create(conn, craftsman))
            .await
    }

    async fn get_craftsman(&self, id: &str) -> StoreResult<Option<Craftsman>> {
        self.read(|conn| craftsmen::get(conn, id))
    }

    async fn craftsman_by_token_hash(&self, token_hash: &str) -> StoreResult<Option<Craftsman>> {
        self.read(|conn| craftsmen::by_token_hash(conn, token_hash))
    }

    async fn list_craftsmen(&self) -> StoreResult<Vec<Craftsman>> {
        self.read(craftsmen::list)
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
                craftsmen::set_channel_enabled(conn, craftsman_id, channel_id, enabled)
            })
            .await
    }

    async fn enable_telegram_chat(&self, chat_id: &str) -> StoreResult<Vec<String>> {
        let chat_id = chat_id.to_owned();
        self.writer
            .run(move |conn| craftsmen::enable_telegram_chat(conn, chat_id))
            .await
    }

    async fn move_channel(&self, channel_id: &str, target: ChannelTarget) -> StoreResult<()> {
        let channel_id = channel_id.to_owned();
        self.writer
            .run(move |conn| craftsmen::move_channel(conn, channel_id, target))
            .await
    }

    async fn set_craftsman_token_hash(
        &self,
        id: &str,
        token_hash: Option<String>,
    ) -> StoreResult<u64> {
        let id = id.to_owned();
        self.writer
            .run(move |conn| craftsmen::set_token_hash(conn, id, token_hash))
            .await
    }

    async fn create_inbox_session(&self, session: NewInboxSession) -> StoreResult<()> {
        self.writer
            .run(move |conn| craftsmen::create_session(conn, session))
            .await
    }

    async fn craftsman_by_session_hash(
        &self,
        id_hash: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<Craftsman>> {
        self.read(|conn| craftsmen::by_session_hash(conn, id_hash, now))
    }

    async fn end_inbox_session(&self, id_hash: &str) -> StoreResult<bool> {
        let id_hash = id_hash.to_owned();
        self.writer
            .run(move |conn| craftsmen::end_session(conn, id_hash))
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
            .run(move |conn| craftsmen::put_route(conn, buyer_id, supplier_code, craftsman_id))
            .await
    }

    async fn list_routes(&self, buyer_id: &str) -> StoreResult<Vec<Route>> {
        self.read(|conn| craftsmen::routes(conn, buyer_id))
    }
}

#[async_trait::async_trait]
impl Outbox for SqliteStore {
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
            .run_single_write(move |conn| deliveries::claim(conn, now, until, limit))
            .await?;
        self.read(|conn| deliveries::claimed(conn, &ids))
    }

    async fn record_attempt(&self, attempt: NewAttempt) -> StoreResult<Delivery> {
        self.writer
            .run(move |conn| deliveries::record_attempt(conn, attempt))
            .await
    }

    async fn release_claims(&self) -> StoreResult<u64> {
        self.writer
            .run_single_write(deliveries::release_claims)
            .await
    }

    async fn next_due_at(&self) -> StoreResult<Option<DateTime<Utc>>> {
        self.read(deliveries::next_due_at)
    }

    async fn retry_delivery(&self, id: &str) -> StoreResult<Delivery> {
        let id = id.to_owned();
        self.writer
            .run(move |conn| deliveries::retry(conn, id))
            .await
    }

    async fn get_delivery(&self, id: &str) -> StoreResult<Option<Delivery>> {
        self.read(|conn| deliveries::get(conn, id))
    }

    async fn delivery_attempts(&self, delivery_id: &str) -> StoreResult<Vec<DeliveryAttempt>> {
        self.read(|conn| deliveries::attempts(conn, delivery_id))
    }

    async fn list_deliveries(&self, query: DeliveryQuery) -> StoreResult<DeliveryPage> {
        self.read(|conn| deliveries::list(conn, query))
    }

    async fn delivery_stats(&self) -> StoreResult<DeliveryStats> {
        self.read(deliveries::stats)
    }

    async fn sent_message(&self, message_id: &str) -> StoreResult<Option<SentMessage>> {
        self.read(|conn| deliveries::sent_message(conn, message_id))
    }

    async fn record_receipt(
        &self,
        message_id: &str,
        receipt: Receipt,
        at: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let message_id = message_id.to_owned();
        self.writer
            .run(move |conn| deliveries::record_receipt(conn, &message_id, receipt, at))
            .await
    }

    async fn reopen_delivery(&self, reopen: Reopen) -> StoreResult<Option<Delivery>> {
        self.writer
            .run(move |conn| deliveries::reopen(conn, reopen))
            .await
    }

    async fn whatsapp_contact(&self, wa_id: &str) -> StoreResult<Option<WhatsAppContact>> {
        self.read(|conn| whatsapp::contact(conn, wa_id))
    }

    async fn set_whatsapp_opt_in(
        &self,
        wa_id: &str,
        source: Option<String>,
    ) -> StoreResult<WhatsAppContact> {
        let wa_id = wa_id.to_owned();
        self.writer
            .run(move |conn| whatsapp::set_opt_in(conn, wa_id, source))
            .await
    }

    async fn record_whatsapp_inbound(&self, wa_id: &str, at: DateTime<Utc>) -> StoreResult<bool> {
        let wa_id = wa_id.to_owned();
        self.writer
            .run(move |conn| whatsapp::record_inbound(conn, wa_id, at))
            .await
    }

    async fn close_whatsapp_window(&self, wa_id: &str, at: DateTime<Utc>) -> StoreResult<()> {
        let wa_id = wa_id.to_owned();
        self.writer
            .run(move |conn| whatsapp::close_window(conn, wa_id, at))
            .await
    }

    async fn keep_early_whatsapp_status(
        &self,
        status: WhatsAppStatus,
        max_kept: u32,
    ) -> StoreResult<EarlyStatusKept> {
        self.writer
            .run(move |conn| whatsapp::keep_early_status(conn, status, max_kept))
            .await
    }

    async fn early_whatsapp_status(&self, wamid: &str) -> StoreResult<Option<WhatsAppStatus>> {
        self.read(|conn| whatsapp::early_status(conn, wamid))
    }

    async fn forget_early_whatsapp_status(&self, wamid: &str) -> StoreResult<()> {
        let wamid = wamid.to_owned();
        self.writer
            .run(move |conn| whatsapp::forget_early_status(conn, wamid))
            .await
    }

    async fn named_early_whatsapp_statuses(&self, limit: u32) -> StoreResult<Vec<String>> {
        self.read(|conn| whatsapp::named_early_statuses(conn, limit))
    }
}

#[async_trait::async_trait]
impl ChatStore for SqliteStore {
    async fn ask_reason(&self, question: ReasonQuestion) -> StoreResult<bool> {
        self.writer.run(move |conn| chat::ask(conn, question)).await
    }

    async fn waiting_reason(
        &self,
        chat_kind: ChatKind,
        chat_id: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<ReasonQuestion>> {
        self.read(|conn| chat::waiting(conn, chat_kind, chat_id, now))
    }

    async fn expired_reasons(
        &self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Vec<ReasonQuestion>> {
        self.read(|conn| chat::expired(conn, now, limit))
    }

    async fn drop_reason(&self, id: &str) -> StoreResult<()> {
        let id = id.to_owned();
        self.writer.run(move |conn| chat::drop_one(conn, &id)).await
    }

    async fn drop_reasons_of_order(&self, order_id: &str) -> StoreResult<()> {
        let order_id = order_id.to_owned();
        self.writer
            .run(move |conn| chat::drop_of_order(conn, &order_id))
            .await
    }

    async fn see_telegram_update(&self, update_id: i64, at: DateTime<Utc>) -> StoreResult<bool> {
        self.writer
            .run(move |conn| chat::see_update(conn, update_id, at))
            .await
    }
}

#[async_trait::async_trait]
impl MailStore for SqliteStore {
    async fn email_settings(&self, buyer_id: &str) -> StoreResult<EmailSettings> {
        self.read(|conn| mail::settings(conn, buyer_id))
    }

    async fn put_email_settings(
        &self,
        buyer_id: &str,
        senders: Vec<String>,
        language: Language,
    ) -> StoreResult<EmailSettings> {
        let buyer_id = buyer_id.to_owned();
        self.writer
            .run(move |conn| mail::put_settings(conn, buyer_id, senders, language))
            .await
    }

    async fn set_inbound_address_hash(
        &self,
        buyer_id: &str,
        token_hash: String,
    ) -> StoreResult<()> {
        let buyer_id = buyer_id.to_owned();
        self.writer
            .run(move |conn| mail::set_address_hash(conn, buyer_id, token_hash))
            .await
    }

    async fn buyer_by_inbound_address_hash(&self, token_hash: &str) -> StoreResult<Option<Buyer>> {
        self.read(|conn| mail::buyer_by_address_hash(conn, token_hash))
    }

    async fn claim_reply(&self, message_id: &str, recipient: &str) -> StoreResult<bool> {
        let (message_id, recipient) = (message_id.to_owned(), recipient.to_owned());
        self.writer
            .run(move |conn| mail::claim_reply(conn, message_id, recipient))
            .await
    }

    async fn finish_reply(
        &self,
        message_id: &str,
        state: ReplyState,
        detail: &str,
    ) -> StoreResult<()> {
        let (message_id, detail) = (message_id.to_owned(), detail.to_owned());
        self.writer
            .run(move |conn| mail::finish_reply(conn, message_id, state, detail))
            .await
    }

    async fn email_reply(&self, message_id: &str) -> StoreResult<Option<EmailReply>> {
        self.read(|conn| mail::reply(conn, message_id))
    }
}

#[async_trait::async_trait]
impl AlertStore for SqliteStore {
    async fn pause_channel(
        &self,
        channel: &str,
        reason: &str,
        at: DateTime<Utc>,
        alert: bool,
    ) -> StoreResult<bool> {
        let (channel, reason) = (channel.to_owned(), reason.to_owned());
        self.writer
            .run(move |conn| alerts::pause(conn, &channel, &reason, at, alert))
            .await
    }

    async fn resume_channel(
        &self,
        channel: &str,
        at: DateTime<Utc>,
        alert: bool,
    ) -> StoreResult<bool> {
        let channel = channel.to_owned();
        self.writer
            .run(move |conn| alerts::resume(conn, &channel, at, alert))
            .await
    }

    async fn paused_channels(&self) -> StoreResult<Vec<ChannelPause>> {
        self.read(alerts::paused)
    }

    async fn claim_alerts(
        &self,
        now: DateTime<Utc>,
        lease: chrono::Duration,
        limit: u32,
    ) -> StoreResult<Vec<AdminAlert>> {
        self.writer
            .run(move |conn| alerts::claim(conn, now, now + lease, limit))
            .await
    }

    async fn record_alert_attempt(&self, id: &str, outcome: AlertOutcome) -> StoreResult<()> {
        let id = id.to_owned();
        self.writer
            .run(move |conn| alerts::record(conn, &id, outcome))
            .await
    }

    async fn list_alerts(&self, limit: u32) -> StoreResult<Vec<AdminAlert>> {
        self.read(|conn| alerts::list(conn, limit))
    }
}

#[async_trait::async_trait]
impl Store for SqliteStore {
    async fn ping(&self) -> StoreResult<()> {
        // The read pool only: the writer may be queued behind a burst of writes, and a
        // busy gateway is still a ready one. A touch of the schema proves the file is open.
        self.read(|conn| {
            conn.prepare_cached("SELECT 1 FROM buyers LIMIT 1")?
                .exists([])
                .map(drop)
                .map_err(StoreError::from)
        })
    }

    async fn check_integrity(&self) -> StoreResult<Option<String>> {
        self.read(|conn| {
            let first: String = conn
                .prepare_cached("PRAGMA quick_check(1)")?
                .query_row([], |row| row.get(0))?;
            Ok((first != "ok").then_some(first))
        })
    }

    async fn check_writable(&self) -> StoreResult<()> {
        let now = codec::time_text(codec::now());
        self.writer
            .run_single_write(move |conn| {
                conn.prepare_cached(
                    "INSERT INTO health_probe (id, checked_at) VALUES (1, ?1) \
                     ON CONFLICT (id) DO UPDATE SET checked_at = excluded.checked_at",
                )?
                .execute([now])?;
                Ok(())
            })
            .await
    }

    async fn close(&self) {
        self.readers
            .idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
        // The last connection to close checkpoints the WAL into the main file.
        self.writer.close().await;
    }
}

#[cfg(test)]
mod tests;
