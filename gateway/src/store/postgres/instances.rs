//! What the instances sharing the database tell each other, each over a dedicated
//! connection outside the pool (a pooled connection goes back to the pool, and
//! with it whatever its session held):
//!
//! - New due deliveries: once the write that adds them has committed, its
//!   connection notifies [`OUTBOX_CHANNEL`] ([`announce`]); every instance
//!   listens ([`listen`]) and rings its worker. A listener whose connection
//!   drops connects again with backoff, and rings once connected, for what it
//!   may have missed; meanwhile the worker's poll finds the work.
//! - A plugin upload: once stored, [`PLUGINS_CHANNEL`]; every instance listens on
//!   a second connection and loads the uploads it lacks, so a buyer bound to the
//!   new plugin is served by any instance at once.
//! - The scheduled work's leader: the instance whose session holds the
//!   session-level advisory lock [`SCHEDULED_WORK_LOCK`] ([`lead`]). The lock
//!   goes with the session, so when the leader dies (or its connection does) the
//!   server releases it and the next instance to try takes it.
//! - Recovery at start, one instance at a time: [`RECOVERY_LOCK`], held for the
//!   recovery ([`recovering_alone`]).

use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_postgres::{AsyncMessage, Client, Config, NoTls};

use super::{Db, PgError};
use crate::store::StoreResult;

/// The channel a write that adds due deliveries notifies.
pub(super) const OUTBOX_CHANNEL: &str = "jembatan_outbox";

/// The channel a stored plugin upload notifies.
pub(super) const PLUGINS_CHANNEL: &str = "jembatan_plugins";

/// Held, for its session, by the instance that runs the scheduled work ("jmbtn", 3).
const SCHEDULED_WORK_LOCK: i64 = 0x6a6d_6274_6e00_0003;

/// Held while an instance recovers the messages left `received` ("jmbtn", 4).
const RECOVERY_LOCK: i64 = 0x6a6d_6274_6e00_0004;

/// How often an instance that does not lead tries for the lead: how long the
/// scheduled work may wait after its leader died.
const TRY_TO_LEAD: Duration = Duration::from_secs(2);

/// How often the leader checks that its session, and so its lock, still stands.
const CHECK_LEAD: Duration = Duration::from_secs(2);

/// The first wait before connecting again, doubled after each failure up to
/// [`MOST_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(250);
const MOST_BACKOFF: Duration = Duration::from_secs(15);

/// Notifies the instances (this one too) on `channel`, on `db`, a pooled
/// connection, after the write it tells of committed (see `WriteTx`). A
/// notification that cannot be sent is only logged: the write stands, and the
/// outbox's poll finds the deliveries, or a listener's next reconnection the
/// plugin.
pub(super) async fn announce(db: &dyn Db, channel: &str) {
    if let Err(error) = db.execute("SELECT pg_notify($1, '')", &[&channel]).await {
        tracing::debug!(%error, channel, "telling the instances");
    }
}

/// A connection of its own: the client, and the task driving the connection,
/// which calls `on_notification` for each notification that comes and ends when
/// the connection does. Dropping it closes the connection (and so ends its
/// session, with the locks it holds).
pub(super) struct Session {
    pub(super) client: Client,
    driver: JoinHandle<Result<(), PgError>>,
}

impl Drop for Session {
    fn drop(&mut self) {
        self.driver.abort();
    }
}

impl Session {
    pub(super) async fn open(
        config: &Config,
        on_notification: impl Fn() + Send + 'static,
    ) -> Result<Self, PgError> {
        let (client, mut connection) = config.connect(NoTls).await?;
        let driver = tokio::spawn(async move {
            while let Some(message) = std::future::poll_fn(|cx| connection.poll_message(cx)).await {
                if let AsyncMessage::Notification(_) = message? {
                    on_notification();
                }
            }
            Ok(())
        });
        Ok(Self { client, driver })
    }

    /// Waits until the connection ends; why, if it failed.
    async fn ended(&mut self) -> Option<PgError> {
        match (&mut self.driver).await {
            Ok(Ok(())) => None,
            Ok(Err(error)) => Some(error),
            Err(_) => None,
        }
    }
}

/// The waits between attempts to connect.
struct Backoff(Duration);

impl Backoff {
    fn new() -> Self {
        Self(FIRST_BACKOFF)
    }

    async fn wait(&mut self) {
        tokio::time::sleep(self.0).await;
        self.0 = (self.0 * 2).min(MOST_BACKOFF);
    }
}

/// Listens on `channel` ([`OUTBOX_CHANNEL`], [`PLUGINS_CHANNEL`]) for as long
/// as the process runs, on a connection of its own, calling `changed` for each
/// notification, and once after each (re)connection.
pub(super) async fn listen(
    config: Config,
    channel: &'static str,
    changed: std::sync::Arc<dyn Fn() + Send + Sync>,
) {
    let mut backoff = Backoff::new();
    loop {
        let ring = changed.clone();
        let listening = async {
            let session = Session::open(&config, move || ring()).await?;
            session
                .client
                .batch_execute(&format!("LISTEN {channel}"))
                .await?;
            Ok::<_, PgError>(session)
        };
        match listening.await {
            Ok(mut session) => {
                backoff = Backoff::new();
                // What came while no one listened is found now.
                changed();
                let why = session
                    .ended()
                    .await
                    .map_or_else(|| "closed".to_owned(), |error| error.to_string());
                tracing::warn!(error = %why, channel,
                    "the connection listening to the other instances ended; connecting again");
            }
            Err(error) => {
                tracing::warn!(%error, channel, "listening to the other instances; trying again");
            }
        }
        backoff.wait().await;
    }
}

/// Tries for [`SCHEDULED_WORK_LOCK`] for as long as the process runs, and says
/// in `held` whether this instance holds it.
pub(super) async fn lead(config: Config, held: watch::Sender<bool>) {
    let held = Unheld(held);
    let held = &held.0;
    let mut backoff = Backoff::new();
    loop {
        match Session::open(&config, || {}).await {
            Ok(session) => {
                backoff = Backoff::new();
                let error = hold_lead(&session, held).await;
                held.send_replace(false);
                drop(session);
                tracing::warn!(%error, "the connection holding or seeking the lead of the scheduled work failed; connecting again");
            }
            Err(error) => {
                tracing::warn!(%error, "seeking the lead of the scheduled work; trying again");
            }
        }
        backoff.wait().await;
    }
}

/// Says the lead is not held when the task seeking it ends (the store closes):
/// its session is gone.
struct Unheld(watch::Sender<bool>);

impl Drop for Unheld {
    fn drop(&mut self) {
        self.0.send_replace(false);
    }
}

/// Seeks the lead on `session`, then holds it, until the session fails; why.
async fn hold_lead(session: &Session, held: &watch::Sender<bool>) -> String {
    loop {
        let got = session
            .client
            .query_one("SELECT pg_try_advisory_lock($1)", &[&SCHEDULED_WORK_LOCK])
            .await
            .and_then(|row| row.try_get::<_, bool>(0));
        match got {
            Ok(true) => break,
            Ok(false) => tokio::time::sleep(TRY_TO_LEAD).await,
            Err(error) => return error.to_string(),
        }
    }
    tracing::info!("this instance leads the scheduled work");
    held.send_replace(true);
    loop {
        tokio::time::sleep(CHECK_LEAD).await;
        // A check that does not come back in time counts as a lost session: the
        // server may already have let another instance take the lock.
        match tokio::time::timeout(CHECK_LEAD, session.client.simple_query("SELECT 1")).await {
            Ok(Ok(_)) => {}
            Ok(Err(error)) => return error.to_string(),
            Err(_) => return format!("no answer within {CHECK_LEAD:?}"),
        }
    }
}

/// Waits for [`RECOVERY_LOCK`] on a session of its own; the session holds it
/// until dropped.
pub(super) async fn recovering_alone(config: &Config) -> StoreResult<Session> {
    let session = Session::open(config, || {}).await?;
    session
        .client
        .execute("SELECT pg_advisory_lock($1)", &[&RECOVERY_LOCK])
        .await?;
    Ok(session)
}
