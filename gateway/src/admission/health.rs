//! Whether the gateway can store messages now: it fails closed.
//!
//! A background check looks, every `interval`, at the free space on the data
//! directory's disk, at the database file, and writes one probe row through the
//! store's write path; at start and every `integrity_interval` it also reads the
//! whole database for damaged pages. While any of them fails, posts are answered 503 with
//! `Retry-After` and `/readyz` fails; a write that fails in between for the same
//! reasons ([`Health::store_failed`]) says so at once. One log line is written
//! when the gateway stops taking messages and one when it takes them again, never
//! per request, and the next good check takes the gateway back without a restart.
//!
//! On PostgreSQL the probe row is written on the server: a server that is stopped,
//! refuses connections, is starting up or shutting down, or cannot give a
//! connection within the pool's timeouts fails the check (see
//! `store::postgres::engine_error`), and so does any write that meets it.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use crate::store::{Store, StoreError};

/// What the check watches.
#[derive(Debug, Clone)]
pub struct HealthConfig {
    /// The data directory, whose disk must keep `min_free_disk_bytes` free.
    pub data_dir: PathBuf,
    /// The database file, which must still exist (SQLite; `None` for a server).
    pub database_file: Option<PathBuf>,
    /// Below this many free bytes on the data directory's disk, no message is
    /// taken: SQLite must never meet a full disk mid-write.
    pub min_free_disk_bytes: u64,
    /// How often the check runs; also the `Retry-After` of a refusal.
    pub interval: Duration,
    /// How often the whole database is read for damage (at start, then this
    /// often): a damaged page is otherwise found only by the request that
    /// reads it.
    pub integrity_interval: Duration,
}

/// The gateway's state: ready, or not, and why.
#[derive(Debug)]
pub struct Health {
    state: Mutex<Result<(), String>>,
    retry_after: Duration,
}

impl Health {
    /// Ready until a check says otherwise.
    pub fn new(retry_after: Duration) -> Self {
        Self {
            state: Mutex::new(Ok(())),
            retry_after,
        }
    }

    /// `Err(why)` while the gateway cannot store messages.
    pub fn state(&self) -> Result<(), String> {
        self.state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// When a refused sender should try again: the next check.
    pub fn retry_after(&self) -> Duration {
        self.retry_after.max(Duration::from_secs(1))
    }

    /// A write failed because the database as a whole cannot be used: stop taking
    /// messages now rather than at the next check, which also takes the gateway
    /// back once it can write again.
    pub fn store_failed(&self, error: &StoreError) {
        if error.is_unavailable() {
            self.set(Err(format!("the database cannot be written: {error}")));
        }
    }

    fn set(&self, verdict: Result<(), String>) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if *state == verdict {
            return;
        }
        match (&*state, &verdict) {
            (Ok(()), Err(reason)) => {
                tracing::error!(%reason, "not taking messages until this is fixed");
            }
            // Still failing, for a reason told otherwise (a database server that
            // refused connections and now says it is starting up): `/readyz` shows
            // the latest, and the log keeps one line per outage.
            (Err(_), Err(reason)) => tracing::debug!(%reason, "still not taking messages"),
            (Err(was), Ok(())) => tracing::info!(%was, "taking messages again"),
            (Ok(()), Ok(())) => {}
        }
        *state = verdict;
    }
}

/// Runs the check every `config.interval`, for as long as the gateway runs.
pub fn watch(
    health: Arc<Health>,
    store: Arc<dyn Store>,
    config: HealthConfig,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut integrity: Result<(), String> = Ok(());
        let mut integrity_checked: Option<tokio::time::Instant> = None;
        loop {
            if integrity_checked.is_none_or(|at| at.elapsed() >= config.integrity_interval) {
                integrity = match store.check_integrity().await {
                    Ok(None) => Ok(()),
                    Ok(Some(problem)) => Err(format!("the database is damaged: {problem}")),
                    Err(e) => Err(format!("the database cannot be read whole: {e}")),
                };
                integrity_checked = Some(tokio::time::Instant::now());
            }
            let verdict = match &integrity {
                Err(damaged) => Err(damaged.clone()),
                Ok(()) => check(&*store, &config).await,
            };
            health.set(verdict);
            tokio::time::sleep(config.interval).await;
        }
    })
}

async fn check(store: &dyn Store, config: &HealthConfig) -> Result<(), String> {
    let free = free_bytes(&config.data_dir).map_err(|e| {
        format!(
            "the data directory {} cannot be examined: {e}",
            config.data_dir.display()
        )
    })?;
    if free < config.min_free_disk_bytes {
        return Err(format!(
            "{} bytes are free on the disk of the data directory {}, under the {} the gateway \
             keeps free (JEMBATAN_MIN_FREE_DISK_BYTES)",
            free,
            config.data_dir.display(),
            config.min_free_disk_bytes
        ));
    }
    if let Some(file) = &config.database_file
        && !file.exists()
    {
        return Err(format!("the database file {} is gone", file.display()));
    }
    store
        .check_writable()
        .await
        .map_err(|e| format!("the database cannot be written: {e}"))
}

/// Bytes an unprivileged process may still write on `path`'s file system.
fn free_bytes(path: &std::path::Path) -> std::io::Result<u64> {
    let stats = rustix::fs::statvfs(path)?;
    Ok(stats.f_bavail.saturating_mul(stats.f_frsize))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_state_changes_once_per_cause() {
        let health = Health::new(Duration::from_secs(2));
        assert_eq!(health.state(), Ok(()));
        health.set(Err("disk".into()));
        health.set(Err("disk".into()));
        assert_eq!(health.state(), Err("disk".into()));
        health.set(Ok(()));
        assert_eq!(health.state(), Ok(()));
        assert_eq!(health.retry_after(), Duration::from_secs(2));
    }

    #[test]
    fn free_space_is_read_from_the_file_system() {
        let dir = tempfile::tempdir().unwrap();
        assert!(free_bytes(dir.path()).unwrap() > 0);
        assert!(free_bytes(&dir.path().join("missing")).is_err());
    }
}
