//! The one write connection, with group commit.
//!
//! SQLite has one writer at a time, and under `synchronous = FULL` every commit waits
//! for an fsync of the WAL. With one transaction per write, concurrent requests queued
//! behind each other's fsyncs: an order post (two writes) cost two of them. So one
//! task owns the write connection and takes writes as jobs from a queue: it takes the
//! first, drains whatever else is already waiting (up to [`MAX_BATCH`]), runs them all
//! in one `BEGIN IMMEDIATE` transaction, each inside its own `SAVEPOINT`, commits once,
//! and only then answers every caller. Under load one fsync is shared by many writes;
//! a write alone costs what it did before (a batch of one needs no savepoint).
//!
//! Every statement is a round trip to the connection's thread, which under load costs
//! about as much as the statement, so a job that writes nothing when it fails
//! ([`Writer::run_single_write`]) gets no savepoint. A savepoint is released as soon
//! as its job succeeds, though the commit would do it: that keeps SQLite's savepoint
//! journal to one job's pages (measured: without it, a third fewer posts per second).
//! SQLite rolls the whole transaction back on some errors (I/O, a full disk); a
//! rollback hook tells the writer, so a batch never goes on as if it still held.
//!
//! The contract each caller sees is the one a transaction of its own would give:
//! - A job that fails (a conflict, a guard that matches no row) rolls back to its
//!   savepoint, so it leaves nothing behind, and its caller gets its own error; the
//!   other jobs of the batch are not affected.
//! - Nothing is acknowledged before it is committed. If the batch cannot commit (or a
//!   job panics, or the connection fails), the whole batch is rolled back and every
//!   job in it gets [`StoreError::Aborted`], even one that had failed on its own: its
//!   error may have come from a write of the batch that is now gone.
//! - Jobs run in the order they were queued, and a job sees the writes of the jobs
//!   before it in its batch; readers see them only after the commit.
//!
//! A job runs inside the batch's transaction, so it must not begin or end transactions.
//!
//! Measured with `store_throughput` (release, 2 cores shared with other builds, so
//! noisy; 32 concurrent posts of one order; medians of 8 runs, alternating with the
//! build before this change):
//! - `synchronous = FULL`: ~5x the posts per second of one transaction per write
//!   (753 -> 3,773; 3.7x to 5.4x in paired runs); p50 ~30 ms -> ~8 ms, p99 ~40 ms
//!   (up to 200 ms) -> ~15 ms.
//! - `synchronous = NORMAL`: ~1.9x (1,763 -> 3,393).
//!
//! Batches averaged 16 jobs. Of that, measured one change at a time: the batching
//! itself; then +50% from no savepoint for the message insert, releasing savepoints
//! and `temp_store = MEMORY` on this connection (`SqliteStore::open_with`) together.
//! `wal_autocheckpoint = 10000` made no difference beyond the noise, so it is left at
//! SQLite's default.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use futures_util::FutureExt;
use futures_util::future::BoxFuture;
use sqlx::SqliteConnection;
use tokio::sync::{mpsc, oneshot};

use crate::store::{StoreError, StoreResult};

/// The most jobs one transaction takes. Enough to share an fsync among all the writes
/// a busy gateway queues while the previous one runs; small enough that a batch holds
/// the write lock (and its callers wait) for a few milliseconds at most.
const MAX_BATCH: usize = 128;

/// Jobs that may wait for the writer before callers wait to queue more.
const QUEUE: usize = 1024;

/// A job with its caller's result type erased: runs the operation, hands the result
/// to the caller's channel, and says whether it succeeded (so its writes are kept).
type Run = Box<dyn for<'c> FnOnce(&'c mut SqliteConnection) -> BoxFuture<'c, bool> + Send>;

/// How a job's batch ended: `Ok` once committed (the caller then reads its result),
/// or the error that stands for the whole batch.
type Settled = StoreResult<()>;

struct Job {
    run: Run,
    /// Whether the job needs a savepoint to undo its writes when it fails.
    savepoint: bool,
    settled: oneshot::Sender<Settled>,
}

enum Request {
    Write(Job),
    /// Finish what is queued, close the connection, then answer.
    Close(oneshot::Sender<()>),
}

/// A handle on the writer task; clones share it.
#[derive(Debug, Clone)]
pub(super) struct Writer {
    requests: mpsc::Sender<Request>,
}

impl Writer {
    /// Starts the writer task on `conn`, which must not be in a transaction.
    pub(super) async fn spawn(mut conn: SqliteConnection) -> Result<Self, sqlx::Error> {
        let rolled_back = Arc::new(AtomicBool::new(false));
        let hook = rolled_back.clone();
        // Relaxed is enough: the hook runs on the connection's thread before the
        // statement's result is sent back, and that channel orders the two.
        conn.lock_handle()
            .await?
            .set_rollback_hook(move || hook.store(true, Ordering::Relaxed));
        let (requests, queue) = mpsc::channel(QUEUE);
        tokio::spawn(serve(conn, rolled_back, queue));
        Ok(Self { requests })
    }

    /// Runs `op` on the write connection, in a transaction shared with other writes,
    /// and returns its result once that transaction is committed. An `Err` from `op`
    /// rolls back everything `op` wrote.
    pub(super) async fn run<T, F>(&self, op: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut SqliteConnection) -> BoxFuture<'c, StoreResult<T>>
            + Send
            + 'static,
    {
        self.submit(true, op).await
    }

    /// [`Writer::run`] for an `op` that has written nothing when it returns `Err`: it
    /// writes with one statement, which SQLite undoes by itself when it fails, and
    /// returns as soon as that statement has written. It needs no savepoint.
    pub(super) async fn run_single_write<T, F>(&self, op: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut SqliteConnection) -> BoxFuture<'c, StoreResult<T>>
            + Send
            + 'static,
    {
        self.submit(false, op).await
    }

    async fn submit<T, F>(&self, savepoint: bool, op: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut SqliteConnection) -> BoxFuture<'c, StoreResult<T>>
            + Send
            + 'static,
    {
        let (result_tx, result_rx) = oneshot::channel();
        let (settled, settled_rx) = oneshot::channel();
        let run = erase(move |conn| {
            Box::pin(async move {
                let result = op(conn).await;
                let succeeded = result.is_ok();
                // The caller may have gone (a dropped request); the write stands anyway.
                let _ = result_tx.send(result);
                succeeded
            })
        });
        self.requests
            .send(Request::Write(Job {
                run,
                savepoint,
                settled,
            }))
            .await
            .map_err(|_| sqlx::Error::PoolClosed)?;
        // The task answers every job it takes; a dropped channel means it died.
        settled_rx.await.map_err(|_| sqlx::Error::WorkerCrashed)??;
        result_rx.await.map_err(|_| sqlx::Error::WorkerCrashed)?
    }

    /// Lets the queued writes finish, then closes the connection. Later writes fail
    /// with [`sqlx::Error::PoolClosed`], as they would on a closed pool.
    pub(super) async fn close(&self) {
        let (done, done_rx) = oneshot::channel();
        if self.requests.send(Request::Close(done)).await.is_ok() {
            let _ = done_rx.await;
        }
    }

    /// How many requests wait in the queue.
    #[cfg(test)]
    pub(super) fn queued(&self) -> usize {
        self.requests.max_capacity() - self.requests.capacity()
    }
}

/// Pins down the closure's higher-ranked signature, which inference alone misses.
fn erase<F>(run: F) -> Run
where
    F: for<'c> FnOnce(&'c mut SqliteConnection) -> BoxFuture<'c, bool> + Send + 'static,
{
    Box::new(run)
}

/// The writer task: one batch at a time until closed or every handle is gone.
async fn serve(
    mut conn: SqliteConnection,
    rolled_back: Arc<AtomicBool>,
    mut queue: mpsc::Receiver<Request>,
) {
    let mut requests = Vec::with_capacity(MAX_BATCH);
    let mut closing = None;
    while closing.is_none() && queue.recv_many(&mut requests, MAX_BATCH).await > 0 {
        let mut batch = Vec::with_capacity(requests.len());
        for request in requests.drain(..) {
            match request {
                Request::Write(job) if closing.is_none() => batch.push(job),
                Request::Write(job) => refuse(job),
                Request::Close(done) => closing = Some(done),
            }
        }
        if !batch.is_empty() {
            run_batch(&mut conn, &rolled_back, batch).await;
        }
    }
    queue.close();
    while let Ok(request) = queue.try_recv() {
        match request {
            Request::Write(job) => refuse(job),
            Request::Close(done) => drop(done),
        }
    }
    // The last connection to close checkpoints the WAL into the main file.
    if let Err(error) = sqlx::Connection::close(conn).await {
        tracing::warn!(%error, "closing the write connection");
    }
    if let Some(done) = closing {
        let _ = done.send(());
    }
}

fn refuse(job: Job) {
    let _ = job.settled.send(Err(sqlx::Error::PoolClosed.into()));
}

/// Runs `jobs` in one transaction and tells each how it ended.
async fn run_batch(conn: &mut SqliteConnection, rolled_back: &AtomicBool, jobs: Vec<Job>) {
    let size = jobs.len();
    let (runs, settled): (Vec<_>, Vec<_>) = jobs
        .into_iter()
        .map(|job| ((job.run, job.savepoint), job.settled))
        .unzip();
    match commit(conn, rolled_back, runs).await {
        Ok(()) => {
            for job in settled {
                let _ = job.send(Ok(()));
            }
        }
        Err(error) => {
            tracing::error!(%error, jobs = size, "a write batch was rolled back");
            // Leave the connection out of any transaction for the next batch. This
            // fails harmlessly when SQLite already rolled back (on an I/O error, say).
            if let Err(error) = execute(conn, "ROLLBACK").await {
                tracing::debug!(%error, "rolling back the failed batch");
            }
            let error = Arc::new(error);
            for job in settled {
                let _ = job.send(Err(StoreError::Aborted(error.clone())));
            }
        }
    }
}

/// The batch's transaction. An `Err` leaves the transaction to the caller to roll back.
async fn commit(
    conn: &mut SqliteConnection,
    rolled_back: &AtomicBool,
    runs: Vec<(Run, bool)>,
) -> Result<(), sqlx::Error> {
    // Alone in its transaction, a job is undone by rolling that back.
    let savepoints = runs.len() > 1;
    let mut kept_any = false;
    execute(conn, "BEGIN IMMEDIATE").await?;
    rolled_back.store(false, Ordering::Relaxed);
    for (run, needs_savepoint) in runs {
        let savepoint = savepoints && needs_savepoint;
        if savepoint {
            execute(conn, "SAVEPOINT job").await?;
        }
        let kept = AssertUnwindSafe(run(conn))
            .catch_unwind()
            .await
            .map_err(|_| sqlx::Error::AnyDriverError("a write job panicked".into()))?;
        if rolled_back.load(Ordering::Relaxed) {
            // Whatever the job says, the batch's earlier writes are gone, and the next
            // statements would each commit on their own.
            return Err(sqlx::Error::AnyDriverError(
                "SQLite rolled back the batch's transaction".into(),
            ));
        }
        if savepoint {
            if !kept {
                execute(conn, "ROLLBACK TO job").await?;
            }
            execute(conn, "RELEASE job").await?;
        }
        kept_any |= kept;
    }
    // A lone job that failed has no savepoint; nothing at all to keep, nothing to sync.
    execute(conn, if kept_any { "COMMIT" } else { "ROLLBACK" }).await
}

async fn execute(conn: &mut SqliteConnection, sql: &'static str) -> Result<(), sqlx::Error> {
    sqlx::query(sql).execute(conn).await.map(drop)
}
