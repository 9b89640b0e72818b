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
//! The writer is a thread of its own, and a job is a plain function of the connection:
//! the whole job (every statement of it) runs on that thread, so a write costs one
//! hand-off to the thread and one back, however many statements it runs. (With sqlx,
//! each statement was a round trip to the driver's thread; under load those hand-offs
//! cost more than the statements.) A job that writes nothing when it fails
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

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use rusqlite::Connection;
use tokio::sync::{mpsc, oneshot};

use crate::store::{EngineError, StoreError, StoreResult};

/// The most jobs one transaction takes. Enough to share an fsync among all the writes
/// a busy gateway queues while the previous one runs; small enough that a batch holds
/// the write lock (and its callers wait) for a few milliseconds at most.
const MAX_BATCH: usize = 128;

/// Jobs that may wait for the writer before callers wait to queue more.
const QUEUE: usize = 1024;

/// How a job's batch ended: `Ok` once committed, or the error that stands for the
/// whole batch.
type Settled = StoreResult<()>;

/// Hands a job's own result to its caller once its batch has settled.
type Answer = Box<dyn FnOnce(Settled) + Send>;

/// A job with its caller's result type erased: runs the operation, keeps its result
/// for [`Answer`], and says whether it succeeded (so its writes are kept).
type Run = Box<dyn FnOnce(&Connection) -> bool + Send>;

struct Job {
    run: Run,
    /// Called exactly once, whether or not `run` ran (a refused or aborted job).
    answer: Answer,
    /// Whether the job needs a savepoint to undo its writes when it fails.
    savepoint: bool,
}

enum Request {
    Write(Job),
    /// Finish what is queued, close the connection, then answer.
    Close(oneshot::Sender<()>),
}

/// A handle on the writer thread; clones share it.
#[derive(Debug, Clone)]
pub(super) struct Writer {
    requests: mpsc::Sender<Request>,
}

impl Writer {
    /// Starts the writer thread on `conn`, which must not be in a transaction.
    pub(super) fn spawn(mut conn: Connection) -> StoreResult<Self> {
        let rolled_back = Arc::new(AtomicBool::new(false));
        let hook = rolled_back.clone();
        // Relaxed is enough: the hook runs on the writer thread, which reads the flag.
        conn.rollback_hook(Some(move || hook.store(true, Ordering::Relaxed)))?;
        let (requests, queue) = mpsc::channel(QUEUE);
        std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || serve(conn, &rolled_back, queue))
            .map_err(|e| StoreError::Database(EngineError::new(e)))?;
        Ok(Self { requests })
    }

    /// Runs `op` on the write connection, in a transaction shared with other writes,
    /// and returns its result once that transaction is committed. An `Err` from `op`
    /// rolls back everything `op` wrote.
    pub(super) async fn run<T, F>(&self, op: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
    {
        self.submit(true, op).await
    }

    /// [`Writer::run`] for an `op` that has written nothing when it returns `Err`: it
    /// writes with one statement, which SQLite undoes by itself when it fails, and
    /// returns as soon as that statement has written. It needs no savepoint.
    pub(super) async fn run_single_write<T, F>(&self, op: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
    {
        self.submit(false, op).await
    }

    async fn submit<T, F>(&self, savepoint: bool, op: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
    {
        let (reply, replied) = oneshot::channel();
        let result = Arc::new(Mutex::new(None));
        let kept_result = result.clone();
        let run: Run = Box::new(move |conn| {
            let result = op(conn);
            let kept = result.is_ok();
            *kept_result.lock().unwrap_or_else(PoisonError::into_inner) = Some(result);
            kept
        });
        let answer: Answer = Box::new(move |settled: Settled| {
            let result = result.lock().unwrap_or_else(PoisonError::into_inner).take();
            // Settled `Ok` means the job ran and its batch committed.
            let result = settled.and_then(|()| result.unwrap_or(Err(StoreError::Closed)));
            // The caller may have gone (a dropped request); the write stands anyway.
            let _ = reply.send(result);
        });
        self.requests
            .send(Request::Write(Job {
                run,
                answer,
                savepoint,
            }))
            .await
            .map_err(|_| StoreError::Closed)?;
        // Every job is answered; a dropped answer means the thread died.
        replied.await.map_err(|_| StoreError::Closed)?
    }

    /// Lets the queued writes finish, then closes the connection. Later writes fail
    /// with [`StoreError::Closed`].
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

/// The writer thread: one batch at a time until closed or every handle is gone.
fn serve(conn: Connection, rolled_back: &AtomicBool, mut queue: mpsc::Receiver<Request>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    let mut closing: Option<oneshot::Sender<()>> = None;
    while closing.is_none() {
        let Some(first) = queue.blocking_recv() else {
            break;
        };
        let mut next = Some(first);
        while let Some(request) = next.take() {
            match request {
                Request::Write(job) => batch.push(job),
                Request::Close(done) => {
                    closing = Some(done);
                    break;
                }
            }
            if batch.len() < MAX_BATCH {
                next = queue.try_recv().ok();
            }
        }
        if !batch.is_empty() {
            run_batch(&conn, rolled_back, std::mem::take(&mut batch));
        }
    }
    queue.close();
    while let Ok(request) = queue.try_recv() {
        match request {
            Request::Write(job) => (job.answer)(Err(StoreError::Closed)),
            Request::Close(done) => drop(done),
        }
    }
    // The last connection to close checkpoints the WAL into the main file.
    if let Err((_, error)) = conn.close() {
        tracing::warn!(%error, "closing the write connection");
    }
    if let Some(done) = closing {
        let _ = done.send(());
    }
}

/// Runs `jobs` in one transaction and tells each how it ended.
fn run_batch(conn: &Connection, rolled_back: &AtomicBool, jobs: Vec<Job>) {
    let size = jobs.len();
    let mut runs = Vec::with_capacity(size);
    let mut answers = Vec::with_capacity(size);
    for job in jobs {
        runs.push((job.run, job.savepoint));
        answers.push(job.answer);
    }
    match commit(conn, rolled_back, runs) {
        Ok(()) => {
            for answer in answers {
                answer(Ok(()));
            }
        }
        Err(error) => {
            tracing::error!(%error, jobs = size, "a write batch was rolled back");
            // Leave the connection out of any transaction for the next batch. This
            // fails harmlessly when SQLite already rolled back (on an I/O error, say).
            if let Err(error) = conn.execute_batch("ROLLBACK") {
                tracing::debug!(%error, "rolling back the failed batch");
            }
            for answer in answers {
                answer(Err(StoreError::Aborted(error.clone())));
            }
        }
    }
}

/// The batch's transaction. An `Err` leaves the transaction to the caller to roll
/// back.
fn commit(
    conn: &Connection,
    rolled_back: &AtomicBool,
    runs: Vec<(Run, bool)>,
) -> Result<(), EngineError> {
    // Alone in its transaction, a job is undone by rolling that back.
    let savepoints = runs.len() > 1;
    let mut kept_any = false;
    execute(conn, "BEGIN IMMEDIATE")?;
    rolled_back.store(false, Ordering::Relaxed);
    for (run, needs_savepoint) in runs {
        let savepoint = savepoints && needs_savepoint;
        if savepoint {
            execute(conn, "SAVEPOINT job")?;
        }
        let kept = catch_unwind(AssertUnwindSafe(|| run(conn)))
            .map_err(|_| EngineError::msg("a write job panicked"))?;
        if rolled_back.load(Ordering::Relaxed) {
            // Whatever the job says, the batch's earlier writes are gone, and the next
            // statements would each commit on their own.
            return Err(EngineError::msg(
                "SQLite rolled back the batch's transaction",
            ));
        }
        if savepoint {
            if !kept {
                execute(conn, "ROLLBACK TO job")?;
            }
            execute(conn, "RELEASE job")?;
        }
        kept_any |= kept;
    }
    // A lone job that failed has no savepoint; nothing at all to keep, nothing to sync.
    execute(conn, if kept_any { "COMMIT" } else { "ROLLBACK" })
}

fn execute(conn: &Connection, sql: &'static str) -> Result<(), EngineError> {
    conn.prepare_cached(sql)
        .and_then(|mut statement| statement.execute([]))
        .map(drop)
        .map_err(super::engine_error)
}
