//! The shared engine: PostgreSQL, for several gateway instances on one database.
//!
//! The driver is `tokio-postgres`, with `deadpool-postgres` for the pool: the
//! maintained async client of the Rust PostgreSQL project (sfackler's `postgres`
//! crates), pipelined, with no macros or compile-time query checking to build, so it
//! adds little to a build on two cores (sqlx with only its postgres feature would
//! bring its macro and runtime layers too). deadpool-postgres keeps each pooled
//! connection's prepared statements (`prepare_cached`), so every query below is
//! parsed and planned once per connection.
//!
//! The schema and the values are the SQLite engine's (see
//! `migrations/postgres/0001_init.sql`): times as fixed-width RFC 3339 text, JSON as
//! text, read into the same engine-neutral row structs (`store::rows`). The SQL lives
//! in one file per concern, as in `sqlite/`, each function an `async fn` of a
//! [`Db`]: a pooled connection for a read, or the write's transaction.
//!
//! Writes. SQLite has one writer, so the SQLite engine's read-then-write steps
//! (update a buyer, complete a message, route the orders that waited for a route,
//! bring an order's status in line with its deliveries) never interleave. Here every
//! such write takes one transaction-scoped advisory lock first ([`WRITE_LOCK`]), so
//! they run one after the other across every instance sharing the database, as they
//! do on SQLite, and each step means what it means there. Storing a new message
//! with its routed orders takes the lock shared: it reads the routes and channels
//! the ordered writes change, but nothing another new message changes (their
//! idempotency keys meet in a unique index), so new messages are stored side by
//! side and PostgreSQL flushes their commits together; with the lock held alone
//! by every write, each waited for the previous one's flush (547 vs 1,236 canonical
//! JSON orders a second, `bench --database`, one instance). The writes that are one
//! statement and need no such order take no lock: storing a message unprocessed,
//! the write probe, and the outbox's claims, which take their rows with `FOR UPDATE
//! SKIP LOCKED` so that instances claiming at once each get different deliveries.
//! A delivery's attempt takes it shared too, unless it disables its channel: it
//! changes its own delivery and brings its order's status in line with the
//! sibling deliveries, under a lock on the order's row, so two attempts of one
//! order go in turn and the later one reads the earlier one's state.
//!
//! Claims are leases: a claim records the instance that holds it (`claimed_by`) and
//! until when (`claimed_until`); one whose lease ran out is claimed again by whoever
//! looks next. See [`Outbox::release_claims`] below for why an instance's start
//! releases only leases that ran out.

use std::str::FromStr;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use chrono::{DateTime, Utc};
use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, RecyclingMethod};
use jembatan_schemas::OrderResponse;
use tokio::task::AbortHandle;
use tokio_postgres::types::ToSql;
use tokio_postgres::{IsolationLevel, NoTls, Row};

use crate::model::{ChannelTarget, ChatKind, Language, RenderedResponse};

use super::{
    AdminAlert, AlertOutcome, AlertStore, BindingChange, Buyer, BuyerCallback, BuyerStore,
    BuyerUpdate, Channel, ChannelPause, ChatStore, ClaimedDelivery, Craftsman, CraftsmanStore,
    DecidedReminder, Delivery, DeliveryAttempt, DeliveryPage, DeliveryQuery, DeliveryStats,
    EarlyStatusKept, EmailReply, EmailSettings, EngineError, InsertedMessage, Leadership,
    MailStore, Message, MessageAttempt, MessageOutcome, MessagePage, MessageQuery, MessageStore,
    NewAttempt, NewBuyer, NewCraftsman, NewInboxSession, NewMessage, NewPluginArtifact,
    NewResponse, OrderPage, OrderQuery, OrderRecord, OrderScope, Outbox, PluginArtifact, PluginRef,
    Purged, ReasonQuestion, Receipt, RecordedMessage, RecordedResponse, ReminderStore,
    ReminderWindow, Reopen, ReplyState, ResponseStore, Retention, Route, RouteChange, SentMessage,
    Store, StoreError, StoreResult, StoredResponse, WhatsAppContact, WhatsAppStatus,
};

/// tokio-postgres's error, as the engine's functions return it before it is
/// classified.
pub(super) type PgError = tokio_postgres::Error;

/// One statement parameter.
pub(super) type Param<'a> = &'a (dyn ToSql + Sync);

/// Tuning for [`PostgresStore::open_with`]; the defaults are safe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostgresOptions {
    /// The most connections this instance holds; a `pool_size=N` parameter in the
    /// URL overrides it. Every instance sharing the database holds its own, so
    /// their sum must stay under the server's `max_connections`.
    pub pool_size: u32,
}

impl Default for PostgresOptions {
    fn default() -> Self {
        Self { pool_size: 10 }
    }
}

/// How long a connection may take to be made before the database counts as
/// unavailable: a server that is down refuses at once, but one whose host drops
/// packets would otherwise hold the request for the system's TCP timeout (minutes).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// How long a request may wait for a connection of a busy pool before the
/// database counts as unavailable (503) rather than the request hanging.
const POOL_WAIT_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a statement's bytes may stay unacknowledged by the server's host
/// before the connection is dropped (Linux `TCP_USER_TIMEOUT`): a server that
/// vanished from the network fails its requests in this time, not hours later.
const TCP_USER_TIMEOUT: Duration = Duration::from_secs(30);

/// The advisory lock every ordered write takes for its transaction; see the module
/// documentation. Any 64-bit number no other program on the database uses: these
/// are "jmbtn" and 1.
pub(super) const WRITE_LOCK: i64 = 0x6a6d_6274_6e00_0001;

/// The advisory lock held while the schema is migrated, so instances starting at
/// once migrate one after the other (the later ones find nothing left to do).
const MIGRATION_LOCK: i64 = 0x6a6d_6274_6e00_0002;

impl From<PgError> for StoreError {
    fn from(error: PgError) -> Self {
        StoreError::Database(engine_error(error))
    }
}

/// A PostgreSQL error as the store reports it: one that means the database cannot
/// be used at all (the connection is gone or cannot be made, the server is shutting
/// down, out of disk or connections, or read-only) is marked unavailable, so the
/// gateway fails closed until it comes back.
pub(super) fn engine_error(error: PgError) -> EngineError {
    use std::error::Error as _;
    let unavailable = error.is_closed()
        || error
            .source()
            .is_some_and(|source| source.downcast_ref::<std::io::Error>().is_some())
        || error.code().is_some_and(|code| {
            let code = code.code();
            // 08: connection exception; 53: insufficient resources (disk full, too
            // many connections); 57P: operator intervention (shutdown, crash
            // recovery); 25006: read-only transaction (a standby).
            code.starts_with("08")
                || code.starts_with("53")
                || code.starts_with("57P")
                || code == "25006"
        });
    let error = Described(error);
    if unavailable {
        EngineError::unavailable(error)
    } else {
        EngineError::new(error)
    }
}

/// A PostgreSQL error whose text says what happened: tokio-postgres's own text is
/// only its kind ("db error", "error connecting to server"), and the server's
/// message ("the database system is shutting down") or the system's error
/// ("Connection refused") is its source, which neither a log line nor a 503's
/// detail would show.
#[derive(Debug)]
struct Described(PgError);

impl std::fmt::Display for Described {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use std::error::Error as _;
        self.0.fmt(f)?;
        match self.0.source() {
            Some(source) => write!(f, ": {source}"),
            None => Ok(()),
        }
    }
}

/// Its text has its source's already.
impl std::error::Error for Described {}

/// The pool could not give a connection: the server is unreachable (or the pool
/// timed out waiting for one), which is the database being unavailable.
fn pool_error(error: deadpool_postgres::PoolError) -> StoreError {
    match error {
        deadpool_postgres::PoolError::Backend(error) => error.into(),
        deadpool_postgres::PoolError::Closed => StoreError::Closed,
        other => StoreError::Database(EngineError::unavailable(other)),
    }
}

/// Where the engine's functions run their statements: a pooled connection (a read,
/// each statement on its own) or a transaction (a write, or a read that needs one
/// snapshot). Every statement is prepared once per connection and cached.
#[async_trait::async_trait]
pub(super) trait Db: Send + Sync {
    async fn query(&self, sql: &str, params: &[Param<'_>]) -> Result<Vec<Row>, PgError>;

    async fn execute(&self, sql: &str, params: &[Param<'_>]) -> Result<u64, PgError>;

    /// The first row, if any (as SQLite's `query_row(...).optional()`).
    async fn query_opt(&self, sql: &str, params: &[Param<'_>]) -> Result<Option<Row>, PgError> {
        Ok(self.query(sql, params).await?.into_iter().next())
    }

    /// The first row of a query that always has one (an aggregate).
    async fn query_first(&self, sql: &str, params: &[Param<'_>]) -> StoreResult<Row> {
        self.query_opt(sql, params)
            .await?
            .ok_or_else(|| StoreError::Database(EngineError::msg(format!("no row from {sql}"))))
    }

    /// Says that the instances are to be told on `channel` once this write has
    /// committed (`instances::announce`). Only a write's transaction ([`WriteTx`])
    /// has anything to tell.
    fn tell_after_commit(&self, channel: &'static str) {
        unreachable!("only a write tells the instances, not a read on {channel}");
    }

    /// Says that this write added due deliveries.
    fn outbox_changed(&self) {
        self.tell_after_commit(instances::OUTBOX_CHANNEL);
    }
}

#[async_trait::async_trait]
impl Db for deadpool_postgres::ClientWrapper {
    async fn query(&self, sql: &str, params: &[Param<'_>]) -> Result<Vec<Row>, PgError> {
        let statement = self.prepare_cached(sql).await?;
        tokio_postgres::Client::query(self, &statement, params).await
    }

    async fn execute(&self, sql: &str, params: &[Param<'_>]) -> Result<u64, PgError> {
        let statement = self.prepare_cached(sql).await?;
        tokio_postgres::Client::execute(self, &statement, params).await
    }
}

#[async_trait::async_trait]
impl Db for deadpool_postgres::Transaction<'_> {
    async fn query(&self, sql: &str, params: &[Param<'_>]) -> Result<Vec<Row>, PgError> {
        let statement = self.prepare_cached(sql).await?;
        tokio_postgres::Transaction::query(self, &statement, params).await
    }

    async fn execute(&self, sql: &str, params: &[Param<'_>]) -> Result<u64, PgError> {
        let statement = self.prepare_cached(sql).await?;
        tokio_postgres::Transaction::execute(self, &statement, params).await
    }
}

/// A write's transaction, and what the instances are to be told once it commits
/// (due deliveries added, a plugin stored). They are told after the commit, not by
/// a `NOTIFY` inside the transaction:
/// PostgreSQL serializes the commits of notifying transactions under one
/// database-wide lock held through the commit's WAL flush, so every write that
/// routed an order would wait for the previous one's flush. Told after, a
/// notification lost with a crash between commit and telling is made up for by
/// the workers' poll.
pub(super) struct WriteTx<'a> {
    tx: deadpool_postgres::Transaction<'a>,
    /// The channels to notify, each once.
    tell: Mutex<Vec<&'static str>>,
}

impl<'a> WriteTx<'a> {
    fn new(tx: deadpool_postgres::Transaction<'a>) -> Self {
        Self {
            tx,
            tell: Mutex::default(),
        }
    }

    /// The transaction, and the channels to notify once it has committed.
    fn into_parts(self) -> (deadpool_postgres::Transaction<'a>, Vec<&'static str>) {
        let tell = self.tell.into_inner().expect("never poisoned");
        (self.tx, tell)
    }
}

#[async_trait::async_trait]
impl Db for WriteTx<'_> {
    async fn query(&self, sql: &str, params: &[Param<'_>]) -> Result<Vec<Row>, PgError> {
        Db::query(&self.tx, sql, params).await
    }

    async fn execute(&self, sql: &str, params: &[Param<'_>]) -> Result<u64, PgError> {
        Db::execute(&self.tx, sql, params).await
    }

    fn tell_after_commit(&self, channel: &'static str) {
        let mut tell = self.tell.lock().expect("never poisoned");
        if !tell.contains(&channel) {
            tell.push(channel);
        }
    }
}

/// Decodes every row with `decode` (a row struct's `from_pg`).
pub(super) fn rows<T>(
    rows: Vec<Row>,
    decode: impl Fn(&Row) -> Result<T, PgError>,
) -> StoreResult<Vec<T>> {
    rows.iter()
        .map(|row| decode(row).map_err(StoreError::from))
        .collect()
}

/// [`PostgresStore`] on one PostgreSQL database, shared by every gateway instance
/// that opens it.
#[derive(Clone)]
pub struct PostgresStore {
    pool: Pool,
    /// Who holds this instance's claims (`deliveries.claimed_by`): made at open, so
    /// a restarted instance is another holder.
    instance: String,
    /// For the connections outside the pool (`instances`): the listener, the
    /// scheduled work's lead, recovery's lock.
    config: tokio_postgres::Config,
    /// The lead of the scheduled work, sought once per instance (a second session
    /// would compete with the first for the same lock).
    leadership: Arc<OnceLock<Leadership>>,
    /// The tasks of those connections, ended at [`Store::close`].
    tasks: Arc<Mutex<Vec<AbortHandle>>>,
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresStore")
            .field("instance", &self.instance)
            .finish_non_exhaustive()
    }
}

impl PostgresStore {
    /// Opens the database at `url` (`postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE`,
    /// with libpq's parameters, plus `pool_size=N`) and brings its schema up to date.
    /// The database must exist; its tables are created.
    pub async fn open_with(url: &str, options: PostgresOptions) -> StoreResult<Self> {
        let (url, pool_size) = pool_size_of(url, options.pool_size)?;
        let mut config = tokio_postgres::Config::from_str(&url).map_err(|e| {
            // The parser's message names the part it could not read, never the URL.
            StoreError::Invalid(format!("not a PostgreSQL URL: {e}"))
        })?;
        // A URL's own `connect_timeout` or `tcp_user_timeout` wins.
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        if config.get_tcp_user_timeout().is_none() {
            config.tcp_user_timeout(TCP_USER_TIMEOUT);
        }
        // The listener's and the leader's own connections get the same timeouts.
        let own_connections = config.clone();
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(pool_size.max(1) as usize)
            .runtime(deadpool_postgres::Runtime::Tokio1)
            // A server that does not answer is unavailable, not a hang; a broken
            // connection is dropped when it is next taken (`RecyclingMethod::Fast`
            // checks it is open) and a new one made, so the pool heals on its own
            // once the server is back.
            .create_timeout(Some(CONNECT_TIMEOUT))
            .wait_timeout(Some(POOL_WAIT_TIMEOUT))
            .build()
            .map_err(|e| StoreError::Invalid(format!("the PostgreSQL pool: {e}")))?;
        let store = Self {
            pool,
            instance: crate::secrets::new_id("ins"),
            config: own_connections,
            leadership: Arc::default(),
            tasks: Arc::default(),
        };
        let mut client = store.client().await?;
        migrations::run(&mut client).await?;
        Ok(store)
    }

    pub(super) async fn client(&self) -> StoreResult<Object> {
        self.pool.get().await.map_err(pool_error)
    }

    /// Runs `task` until [`Store::close`].
    fn keep(&self, task: impl Future<Output = ()> + Send + 'static) {
        let task = tokio::spawn(task).abort_handle();
        self.tasks.lock().expect("never poisoned").push(task);
    }
}

/// The URL without its `pool_size` parameter (which libpq does not know), and the
/// pool size it gives, else `default`.
fn pool_size_of(url: &str, default: u32) -> StoreResult<(String, u32)> {
    let Some((base, query)) = url.split_once('?') else {
        return Ok((url.to_owned(), default));
    };
    let mut size = default;
    let mut kept = Vec::new();
    for pair in query.split('&') {
        match pair.strip_prefix("pool_size=") {
            Some(value) => {
                size = value.parse().map_err(|_| {
                    StoreError::Invalid(format!("pool_size={value} is not a number"))
                })?;
            }
            None => kept.push(pair),
        }
    }
    let url = if kept.is_empty() {
        base.to_owned()
    } else {
        format!("{base}?{}", kept.join("&"))
    };
    Ok((url, size))
}

/// Runs `$body` (an expression using `$db: &dyn Db`) in a write transaction that
/// first takes [`WRITE_LOCK`], and commits it when `$body` is `Ok`; an `Err` rolls
/// back everything it wrote. A caller that goes away mid-write drops the
/// transaction, which rolls it back before the connection is used again.
///
/// `ordered_write!(shared self, …)` takes the lock shared: for storing a new
/// message with its routed orders, which reads what the ordered writes change
/// (routes, channels) but changes nothing another new message reads, so new
/// messages are stored side by side and PostgreSQL flushes their commits
/// together, while an ordered write waits for those under way and they for it.
macro_rules! ordered_write {
    ($self:ident, |$db:ident| $body:expr) => {
        transaction_write!($self, Some("SELECT pg_advisory_xact_lock($1)"), |$db| $body)
    };
    (shared $self:ident, |$db:ident| $body:expr) => {
        transaction_write!(
            $self,
            Some("SELECT pg_advisory_xact_lock_shared($1)"),
            |$db| $body
        )
    };
}

/// Runs `$body` in a transaction without the write lock: for a write that is one
/// statement, or whose statements need no order with other writes.
macro_rules! unordered_write {
    ($self:ident, |$db:ident| $body:expr) => {
        transaction_write!($self, None, |$db| $body)
    };
}

/// [`ordered_write`] and [`unordered_write`]: a write transaction, `$lock` taken
/// first when given; once it committed, the instances are told what it asked
/// ([`WriteTx`]).
macro_rules! transaction_write {
    ($self:ident, $lock:expr, |$db:ident| $body:expr) => {{
        let mut client = $self.client().await?;
        let (value, tell) = {
            let tx = WriteTx::new(client.transaction().await?);
            let lock: Option<&str> = $lock;
            if let Some(lock) = lock {
                tx.execute(lock, &[&WRITE_LOCK]).await?;
            }
            let result = {
                let $db: &dyn Db = &tx;
                $body.await
            };
            let (tx, tell) = tx.into_parts();
            (finish(tx, result).await?, tell)
        };
        for channel in tell {
            instances::announce(&*client, channel).await;
        }
        Ok(value)
    }};
}

/// Runs `$body` on one read-only snapshot: for a read of several statements that
/// must agree (a message and its orders).
macro_rules! snapshot_read {
    ($self:ident, |$db:ident| $body:expr) => {{
        let mut client = $self.client().await?;
        let tx = client
            .build_transaction()
            .isolation_level(IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()
            .await?;
        let result = {
            let $db: &dyn Db = &tx;
            $body.await
        };
        finish(tx, result).await
    }};
}

/// Runs `$body` on a pooled connection, each statement on its own.
macro_rules! read {
    ($self:ident, |$db:ident| $body:expr) => {{
        let client = $self.client().await?;
        let $db: &dyn Db = &*client;
        $body.await
    }};
}

/// Commits `tx` if `result` is `Ok`, else rolls it back. A commit that fails stored
/// nothing: [`StoreError::Aborted`], safe to retry.
async fn finish<T>(
    tx: deadpool_postgres::Transaction<'_>,
    result: StoreResult<T>,
) -> StoreResult<T> {
    match result {
        Ok(value) => {
            tx.commit()
                .await
                .map_err(|e| StoreError::Aborted(engine_error(e)))?;
            Ok(value)
        }
        Err(error) => {
            if let Err(rollback) = tx.rollback().await {
                tracing::debug!(error = %rollback, "rolling back a failed write");
            }
            Err(error)
        }
    }
}

mod alerts;
mod buyers;
mod chat;
mod codec;
mod craftsmen;
mod deliveries;
mod instances;
mod mail;
mod messages;
mod migrations;
pub(super) use migrations::TABLES;
mod orders;
mod plugins;
mod reminders;
mod responses;
mod whatsapp;

use super::rows::{page_limit, split_page};

/// A newest-first page query, as `sqlite::page_query` builds it, in PostgreSQL's
/// `$n` placeholders: `base` with the filters (`(column, value)` equalities, `None`
/// skipped; a "column" holding a `?` is a condition of its own, its `?` the value's
/// place), the cursor, the order and one row more than `limit`. Returns the SQL and
/// its text parameters; the limit is the last parameter, given by the caller as
/// [`page_params`] does.
fn page_query<const N: usize>(
    base: &str,
    id_column: &'static str,
    filters: [(&'static str, Option<String>); N],
    after: Option<String>,
) -> (String, Vec<String>) {
    let mut sql = String::from(base);
    let mut params = Vec::new();
    let mut joiner = " WHERE ";
    let conditions = filters
        .into_iter()
        .chain([(id_column, after)])
        .filter_map(|(column, value)| value.map(|value| (column, value)));
    for (column, value) in conditions {
        params.push(value);
        let place = format!("${}", params.len());
        if column.contains('?') {
            sql.push_str(&format!("{joiner}{}", column.replace('?', &place)));
        } else {
            let op = if column == id_column { " < " } else { " = " };
            sql.push_str(&format!("{joiner}{column}{op}{place}"));
        }
        joiner = " AND ";
    }
    sql.push_str(&format!(
        " ORDER BY {id_column} DESC LIMIT ${}",
        params.len() + 1
    ));
    (sql, params)
}

/// The parameters of a [`page_query`]: its text values, then the row count
/// (`limit` and one more, to tell whether another page follows).
fn page_params<'a>(params: &'a [String], fetch: &'a i64) -> Vec<Param<'a>> {
    params
        .iter()
        .map(|p| p as Param<'_>)
        .chain([fetch as Param<'_>])
        .collect()
}

/// How many rows a page of `limit` fetches: one more, to tell whether another
/// page follows.
fn fetch_count(limit: u32) -> i64 {
    i64::from(limit) + 1
}

#[async_trait::async_trait]
impl BuyerStore for PostgresStore {
    async fn create_buyer(&self, buyer: NewBuyer) -> StoreResult<Buyer> {
        ordered_write!(self, |db| buyers::create(db, buyer))
    }

    async fn buyer_by_api_key_hash(&self, api_key_hash: &str) -> StoreResult<Option<Buyer>> {
        read!(self, |db| buyers::by_api_key_hash(db, api_key_hash))
    }

    async fn get_buyer(&self, id: &str) -> StoreResult<Option<Buyer>> {
        read!(self, |db| buyers::get(db, id))
    }

    async fn list_buyers(&self) -> StoreResult<Vec<Buyer>> {
        read!(self, |db| buyers::list(db))
    }

    async fn update_buyer(&self, id: &str, update: BuyerUpdate) -> StoreResult<Buyer> {
        ordered_write!(self, |db| buyers::update(db, id, update))
    }

    async fn buyer_plugin_history(&self, buyer_id: &str) -> StoreResult<Vec<BindingChange>> {
        read!(self, |db| buyers::history(db, buyer_id))
    }

    async fn set_buyer_api_key_hash(
        &self,
        id: &str,
        api_key_hash: Option<String>,
    ) -> StoreResult<()> {
        ordered_write!(self, |db| buyers::set_api_key_hash(db, id, api_key_hash))
    }

    async fn set_buyer_callback(
        &self,
        id: &str,
        callback: Option<BuyerCallback>,
    ) -> StoreResult<Buyer> {
        ordered_write!(self, |db| buyers::set_callback(db, id, callback))
    }

    async fn insert_plugin(&self, plugin: NewPluginArtifact) -> StoreResult<PluginArtifact> {
        ordered_write!(self, |db| async move {
            let artifact = plugins::insert(db, plugin).await?;
            // Stored: the other instances load it now (`watch_plugins`).
            db.tell_after_commit(instances::PLUGINS_CHANNEL);
            Ok(artifact)
        })
    }

    async fn list_plugins(&self) -> StoreResult<Vec<PluginArtifact>> {
        read!(self, |db| plugins::list(db))
    }

    async fn plugin_wasm(&self, sha256: &str) -> StoreResult<Option<Vec<u8>>> {
        read!(self, |db| plugins::wasm(db, sha256))
    }

    async fn all_plugin_wasm(&self) -> StoreResult<Vec<(PluginArtifact, Vec<u8>)>> {
        read!(self, |db| plugins::all_with_wasm(db))
    }
}

#[async_trait::async_trait]
impl MessageStore for PostgresStore {
    async fn insert_message(&self, message: NewMessage) -> StoreResult<InsertedMessage> {
        // One statement, kept once by the idempotency index whoever inserts at once.
        unordered_write!(self, |db| messages::insert(db, message))
    }

    async fn record_message(
        &self,
        message: NewMessage,
        processed: Option<(Option<PluginRef>, MessageOutcome)>,
    ) -> StoreResult<RecordedMessage> {
        ordered_write!(shared self, |db| messages::record(db, message, processed))
    }

    async fn get_message(&self, buyer_id: Option<&str>, id: &str) -> StoreResult<Option<Message>> {
        snapshot_read!(self, |db| messages::get(db, buyer_id, id))
    }

    async fn complete_message_by(
        &self,
        id: &str,
        plugin: Option<PluginRef>,
        outcome: MessageOutcome,
    ) -> StoreResult<StoredResponse> {
        ordered_write!(self, |db| messages::complete(db, id, plugin, outcome))
    }

    async fn reopen_message(
        &self,
        id: &str,
        note: Option<serde_json::Value>,
    ) -> StoreResult<Message> {
        ordered_write!(self, |db| messages::reopen(db, id, note))
    }

    async fn message_attempts(&self, message_id: &str) -> StoreResult<Vec<MessageAttempt>> {
        read!(self, |db| messages::attempts(db, message_id))
    }

    async fn list_messages(&self, query: MessageQuery) -> StoreResult<MessagePage> {
        snapshot_read!(self, |db| messages::list(db, query))
    }

    async fn pending_messages(&self, after: Option<&str>, limit: u32) -> StoreResult<Vec<Message>> {
        snapshot_read!(self, |db| messages::pending(db, after, limit))
    }

    async fn stored_body_bytes(&self, buyer_id: &str) -> StoreResult<u64> {
        read!(self, |db| messages::stored_body_bytes(db, buyer_id))
    }

    async fn purge(&self, retention: &Retention) -> StoreResult<Purged> {
        ordered_write!(self, |db| messages::purge(db, retention))
    }

    async fn get_order(&self, scope: OrderScope<'_>, id: &str) -> StoreResult<Option<OrderRecord>> {
        read!(self, |db| orders::get(db, scope, id))
    }

    async fn list_orders(&self, query: OrderQuery) -> StoreResult<OrderPage> {
        read!(self, |db| orders::list(db, query))
    }
}

#[async_trait::async_trait]
impl ResponseStore for PostgresStore {
    async fn record_response(&self, response: NewResponse) -> StoreResult<RecordedResponse> {
        ordered_write!(self, |db| responses::record(db, response))
    }

    async fn order_responses(&self, order_id: &str) -> StoreResult<Vec<OrderResponse>> {
        read!(self, |db| responses::of_order(db, order_id))
    }

    async fn response_by_event(&self, event_key: &str) -> StoreResult<Option<OrderResponse>> {
        read!(self, |db| responses::by_event(db, event_key))
    }

    async fn next_control_number(&self, buyer_id: &str) -> StoreResult<u32> {
        // One upsert: its row lock orders concurrent takers, each gets its own number.
        unordered_write!(self, |db| responses::next_control_number(db, buyer_id))
    }

    async fn rendered_response(&self, response_id: &str) -> StoreResult<Option<RenderedResponse>> {
        read!(self, |db| responses::rendered(db, response_id))
    }

    async fn keep_rendered_response(
        &self,
        rendered: RenderedResponse,
    ) -> StoreResult<RenderedResponse> {
        ordered_write!(self, |db| responses::keep_rendered(db, rendered))
    }
}

#[async_trait::async_trait]
impl ReminderStore for PostgresStore {
    async fn decide_reminders(
        &self,
        window: ReminderWindow,
        now: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Vec<DecidedReminder>> {
        ordered_write!(self, |db| reminders::decide(db, window, now, limit))
    }

    async fn next_reminder_from(
        &self,
        routed_after: DateTime<Utc>,
    ) -> StoreResult<Option<DateTime<Utc>>> {
        read!(self, |db| reminders::next_from(db, routed_after))
    }
}

#[async_trait::async_trait]
impl CraftsmanStore for PostgresStore {
    async fn create_craftsman(&self, craftsman: NewCraftsman) -> StoreResult<Craftsman> {
        ordered_write!(self, |db| craftsmen::create(db, craftsman))
    }

    async fn get_craftsman(&self, id: &str) -> StoreResult<Option<Craftsman>> {
        snapshot_read!(self, |db| craftsmen::get(db, id))
    }

    async fn craftsman_by_token_hash(&self, token_hash: &str) -> StoreResult<Option<Craftsman>> {
        snapshot_read!(self, |db| craftsmen::by_token_hash(db, token_hash))
    }

    async fn list_craftsmen(&self) -> StoreResult<Vec<Craftsman>> {
        snapshot_read!(self, |db| craftsmen::list(db))
    }

    async fn set_channel_enabled(
        &self,
        craftsman_id: &str,
        channel_id: &str,
        enabled: bool,
    ) -> StoreResult<Channel> {
        ordered_write!(self, |db| craftsmen::set_channel_enabled(
            db,
            craftsman_id,
            channel_id,
            enabled
        ))
    }

    async fn enable_telegram_chat(&self, chat_id: &str) -> StoreResult<Vec<String>> {
        ordered_write!(self, |db| craftsmen::enable_telegram_chat(db, chat_id))
    }

    async fn move_channel(&self, channel_id: &str, target: ChannelTarget) -> StoreResult<()> {
        ordered_write!(self, |db| craftsmen::move_channel(db, channel_id, target))
    }

    async fn set_craftsman_token_hash(
        &self,
        id: &str,
        token_hash: Option<String>,
    ) -> StoreResult<u64> {
        ordered_write!(self, |db| craftsmen::set_token_hash(db, id, token_hash))
    }

    async fn create_inbox_session(&self, session: NewInboxSession) -> StoreResult<()> {
        ordered_write!(self, |db| craftsmen::create_session(db, session))
    }

    async fn craftsman_by_session_hash(
        &self,
        id_hash: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<Craftsman>> {
        snapshot_read!(self, |db| craftsmen::by_session_hash(db, id_hash, now))
    }

    async fn end_inbox_session(&self, id_hash: &str) -> StoreResult<bool> {
        ordered_write!(self, |db| craftsmen::end_session(db, id_hash))
    }

    async fn put_route(
        &self,
        buyer_id: &str,
        supplier_code: &str,
        craftsman_id: &str,
    ) -> StoreResult<RouteChange> {
        ordered_write!(self, |db| craftsmen::put_route(
            db,
            buyer_id,
            supplier_code,
            craftsman_id
        ))
    }

    async fn list_routes(&self, buyer_id: &str) -> StoreResult<Vec<Route>> {
        read!(self, |db| craftsmen::routes(db, buyer_id))
    }
}

#[async_trait::async_trait]
impl Outbox for PostgresStore {
    async fn claim_deliveries(
        &self,
        now: DateTime<Utc>,
        lease: Duration,
        limit: u32,
    ) -> StoreResult<Vec<ClaimedDelivery>> {
        let until = now + lease;
        // The claim is one statement that skips rows another instance is claiming.
        // What the workers need is read in its transaction: a claim committed whose
        // deliveries could not then be read (the server stopped in between) would
        // hold them for no one until the lease ran out.
        unordered_write!(self, |db| async move {
            let ids = deliveries::claim(db, now, until, &self.instance, limit).await?;
            deliveries::claimed(db, &ids).await
        })
    }

    async fn record_attempt(&self, attempt: NewAttempt) -> StoreResult<Delivery> {
        // An attempt that disables its channel kills the channel's other deliveries:
        // it takes the write lock alone. Any other changes only its delivery and its
        // order's status, so attempts are recorded side by side, the attempts of one
        // order in turn (`deliveries::record_attempt` locks the order's row).
        if attempt.outcome == crate::store::AttemptOutcome::Disable {
            ordered_write!(self, |db| deliveries::record_attempt(db, attempt))
        } else {
            ordered_write!(shared self, |db| deliveries::record_attempt(db, attempt))
        }
    }

    /// Releases only the leases that ran out. On SQLite one gateway process owns
    /// the file, so at its start every claim is a dead run's and all are released.
    /// Here other instances share the outbox, and a claim may be a live instance's
    /// delivery in flight: releasing it would send that delivery twice. A claim of
    /// an instance that died is taken over when its lease runs out
    /// ([`Outbox::claim_deliveries`] takes those too); this only clears the leases
    /// already out, so that [`Outbox::next_due_at`] sees their deliveries again.
    async fn release_claims(&self) -> StoreResult<u64> {
        let now = codec::now();
        unordered_write!(self, |db| deliveries::release_lapsed_claims(db, now))
    }

    async fn next_due_at(&self) -> StoreResult<Option<DateTime<Utc>>> {
        read!(self, |db| deliveries::next_due_at(db))
    }

    async fn retry_delivery(&self, id: &str) -> StoreResult<Delivery> {
        ordered_write!(self, |db| deliveries::retry(db, id))
    }

    async fn get_delivery(&self, id: &str) -> StoreResult<Option<Delivery>> {
        read!(self, |db| deliveries::get(db, id))
    }

    async fn delivery_attempts(&self, delivery_id: &str) -> StoreResult<Vec<DeliveryAttempt>> {
        read!(self, |db| deliveries::attempts(db, delivery_id))
    }

    async fn list_deliveries(&self, query: DeliveryQuery) -> StoreResult<DeliveryPage> {
        read!(self, |db| deliveries::list(db, query))
    }

    async fn delivery_stats(&self) -> StoreResult<DeliveryStats> {
        snapshot_read!(self, |db| deliveries::stats(db))
    }

    async fn sent_message(&self, message_id: &str) -> StoreResult<Option<SentMessage>> {
        read!(self, |db| deliveries::sent_message(db, message_id))
    }

    async fn record_receipt(
        &self,
        message_id: &str,
        receipt: Receipt,
        at: DateTime<Utc>,
    ) -> StoreResult<bool> {
        ordered_write!(self, |db| deliveries::record_receipt(
            db, message_id, receipt, at
        ))
    }

    async fn reopen_delivery(&self, reopen: Reopen) -> StoreResult<Option<Delivery>> {
        ordered_write!(self, |db| deliveries::reopen(db, reopen))
    }

    async fn whatsapp_contact(&self, wa_id: &str) -> StoreResult<Option<WhatsAppContact>> {
        read!(self, |db| whatsapp::contact(db, wa_id))
    }

    async fn set_whatsapp_opt_in(
        &self,
        wa_id: &str,
        source: Option<String>,
    ) -> StoreResult<WhatsAppContact> {
        ordered_write!(self, |db| whatsapp::set_opt_in(db, wa_id, source))
    }

    async fn record_whatsapp_inbound(&self, wa_id: &str, at: DateTime<Utc>) -> StoreResult<bool> {
        ordered_write!(self, |db| whatsapp::record_inbound(db, wa_id, at))
    }

    async fn close_whatsapp_window(&self, wa_id: &str, at: DateTime<Utc>) -> StoreResult<()> {
        ordered_write!(self, |db| whatsapp::close_window(db, wa_id, at))
    }

    /// An ordered write, as on SQLite's one writer: [`Outbox::record_attempt`]
    /// takes the same lock, so the check that no attempt names the message and
    /// the status kept are one step against it.
    async fn keep_early_whatsapp_status(
        &self,
        status: WhatsAppStatus,
        max_kept: u32,
    ) -> StoreResult<EarlyStatusKept> {
        ordered_write!(self, |db| whatsapp::keep_early_status(
            db, &status, max_kept
        ))
    }

    async fn early_whatsapp_status(&self, wamid: &str) -> StoreResult<Option<WhatsAppStatus>> {
        read!(self, |db| whatsapp::early_status(db, wamid))
    }

    async fn forget_early_whatsapp_status(&self, wamid: &str) -> StoreResult<()> {
        ordered_write!(self, |db| whatsapp::forget_early_status(db, wamid))
    }

    async fn named_early_whatsapp_statuses(&self, limit: u32) -> StoreResult<Vec<String>> {
        read!(self, |db| whatsapp::named_early_statuses(db, limit))
    }
}

#[async_trait::async_trait]
impl ChatStore for PostgresStore {
    async fn ask_reason(&self, question: ReasonQuestion) -> StoreResult<bool> {
        ordered_write!(self, |db| chat::ask(db, question))
    }

    async fn waiting_reason(
        &self,
        chat_kind: ChatKind,
        chat_id: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<ReasonQuestion>> {
        read!(self, |db| chat::waiting(db, chat_kind, chat_id, now))
    }

    async fn expired_reasons(
        &self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Vec<ReasonQuestion>> {
        read!(self, |db| chat::expired(db, now, limit))
    }

    async fn drop_reason(&self, id: &str) -> StoreResult<()> {
        ordered_write!(self, |db| chat::drop_one(db, id))
    }

    async fn drop_reasons_of_order(&self, order_id: &str) -> StoreResult<()> {
        ordered_write!(self, |db| chat::drop_of_order(db, order_id))
    }

    async fn see_telegram_update(&self, update_id: i64, at: DateTime<Utc>) -> StoreResult<bool> {
        ordered_write!(self, |db| chat::see_update(db, update_id, at))
    }
}

#[async_trait::async_trait]
impl MailStore for PostgresStore {
    async fn email_settings(&self, buyer_id: &str) -> StoreResult<EmailSettings> {
        read!(self, |db| mail::settings(db, buyer_id))
    }

    async fn put_email_settings(
        &self,
        buyer_id: &str,
        senders: Vec<String>,
        language: Language,
    ) -> StoreResult<EmailSettings> {
        ordered_write!(self, |db| mail::put_settings(
            db, buyer_id, senders, language
        ))
    }

    async fn set_inbound_address_hash(
        &self,
        buyer_id: &str,
        token_hash: String,
    ) -> StoreResult<()> {
        ordered_write!(self, |db| mail::set_address_hash(db, buyer_id, token_hash))
    }

    async fn buyer_by_inbound_address_hash(&self, token_hash: &str) -> StoreResult<Option<Buyer>> {
        read!(self, |db| mail::buyer_by_address_hash(db, token_hash))
    }

    async fn claim_reply(&self, message_id: &str, recipient: &str) -> StoreResult<bool> {
        ordered_write!(self, |db| mail::claim_reply(db, message_id, recipient))
    }

    async fn finish_reply(
        &self,
        message_id: &str,
        state: ReplyState,
        detail: &str,
    ) -> StoreResult<()> {
        ordered_write!(self, |db| mail::finish_reply(db, message_id, state, detail))
    }

    async fn email_reply(&self, message_id: &str) -> StoreResult<Option<EmailReply>> {
        read!(self, |db| mail::reply(db, message_id))
    }
}

#[async_trait::async_trait]
impl AlertStore for PostgresStore {
    async fn pause_channel(
        &self,
        channel: &str,
        reason: &str,
        at: DateTime<Utc>,
        alert: bool,
    ) -> StoreResult<bool> {
        ordered_write!(self, |db| alerts::pause(db, channel, reason, at, alert))
    }

    async fn resume_channel(
        &self,
        channel: &str,
        at: DateTime<Utc>,
        alert: bool,
    ) -> StoreResult<bool> {
        ordered_write!(self, |db| alerts::resume(db, channel, at, alert))
    }

    async fn paused_channels(&self) -> StoreResult<Vec<ChannelPause>> {
        read!(self, |db| alerts::paused(db))
    }

    async fn claim_alerts(
        &self,
        now: DateTime<Utc>,
        lease: chrono::Duration,
        limit: u32,
    ) -> StoreResult<Vec<AdminAlert>> {
        ordered_write!(self, |db| alerts::claim(db, now, now + lease, limit))
    }

    async fn record_alert_attempt(&self, id: &str, outcome: AlertOutcome) -> StoreResult<()> {
        ordered_write!(self, |db| alerts::record(db, id, outcome))
    }

    async fn list_alerts(&self, limit: u32) -> StoreResult<Vec<AdminAlert>> {
        read!(self, |db| alerts::list(db, limit))
    }
}

#[async_trait::async_trait]
impl Store for PostgresStore {
    async fn ping(&self) -> StoreResult<()> {
        // A pooled connection and a touch of the schema prove the database answers.
        read!(self, |db| async move {
            db.query("SELECT 1 FROM buyers LIMIT 1", &[]).await?;
            Ok(())
        })
    }

    /// PostgreSQL keeps its own pages' checksums (when the cluster has them on) and
    /// has no cheap whole-database check like SQLite's `quick_check`; what the
    /// store can check is that every table reads.
    async fn check_integrity(&self) -> StoreResult<Option<String>> {
        snapshot_read!(self, |db| migrations::check_tables(db))
    }

    async fn check_writable(&self) -> StoreResult<()> {
        let now = codec::time_text(codec::now());
        unordered_write!(self, |db| async move {
            db.execute(
                "INSERT INTO health_probe (id, checked_at) VALUES (1, $1) \
                 ON CONFLICT (id) DO UPDATE SET checked_at = excluded.checked_at",
                &[&now],
            )
            .await?;
            Ok(())
        })
    }

    async fn close(&self) {
        for task in self.tasks.lock().expect("never poisoned").drain(..) {
            task.abort();
        }
        self.pool.close();
    }

    fn watch_outbox(&self, changed: Arc<dyn Fn() + Send + Sync>) {
        self.keep(instances::listen(
            self.config.clone(),
            instances::OUTBOX_CHANNEL,
            changed,
        ));
    }

    fn watch_plugins(&self, changed: Arc<dyn Fn() + Send + Sync>) {
        self.keep(instances::listen(
            self.config.clone(),
            instances::PLUGINS_CHANNEL,
            changed,
        ));
    }

    fn scheduled_work(&self) -> Leadership {
        self.leadership
            .get_or_init(|| {
                let (held, leadership) = tokio::sync::watch::channel(false);
                self.keep(instances::lead(self.config.clone(), held));
                Leadership::following(leadership)
            })
            .clone()
    }

    async fn recovering_alone(&self) -> StoreResult<Box<dyn Send + Sync>> {
        Ok(Box::new(instances::recovering_alone(&self.config).await?))
    }
}

/// A database of its own for one test, on the PostgreSQL server the tests use:
/// `JEMBATAN_TEST_POSTGRES_URL` (a server URL without a database, e.g.
/// `postgres://postgres@127.0.0.1:5432`), else that one. Created empty, with a
/// unique name, and dropped (with whatever connections are left) when this is.
#[cfg(test)]
pub(crate) struct TestDatabase {
    server: String,
    name: String,
    url: String,
}

#[cfg(test)]
impl TestDatabase {
    pub(crate) async fn create() -> Self {
        let server = std::env::var("JEMBATAN_TEST_POSTGRES_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".to_owned());
        let name = format!("jembatan_test_{}", uuid::Uuid::now_v7().simple());
        administer(&server, &format!("CREATE DATABASE {name}")).await;
        Self {
            url: format!("{server}/{name}"),
            server,
            name,
        }
    }

    pub(crate) fn url(&self) -> &str {
        &self.url
    }
}

#[cfg(test)]
impl Drop for TestDatabase {
    fn drop(&mut self) {
        // Drop runs inside the test's runtime, which cannot block on itself; the
        // drop gets a thread and a runtime of its own.
        let (server, name) = (self.server.clone(), self.name.clone());
        let dropped = std::thread::spawn(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime to drop the test database")
                .block_on(administer(
                    &server,
                    &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
                ));
        })
        .join();
        if dropped.is_err() {
            eprintln!("the test database {} was left behind", self.name);
        }
    }
}

/// Runs `sql` on the server's `postgres` database.
#[cfg(test)]
async fn administer(server: &str, sql: &str) {
    let (client, connection) = tokio_postgres::connect(&format!("{server}/postgres"), NoTls)
        .await
        .unwrap_or_else(|e| panic!("the tests' PostgreSQL server at {server}: {e}"));
    let connection = tokio::spawn(connection);
    client
        .batch_execute(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    drop(client);
    let _ = connection.await;
}

#[cfg(test)]
mod tests;
