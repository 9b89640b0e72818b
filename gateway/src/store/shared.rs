//! What a store shared by several gateway instances offers them, engine-neutral:
//! news that the outbox changed or a plugin was uploaded in another instance, and
//! who runs the scheduled work. An engine that one process owns (SQLite) has no other instances: nothing
//! changes elsewhere, and this instance always leads.

use tokio::sync::watch;

/// Whether this instance runs the scheduled work (retention, reminders, the
/// expiry of chat questions) now: one instance of those sharing a database at a
/// time, another taking over when it dies. Cloned by each job.
#[derive(Debug, Clone)]
pub struct Leadership(watch::Receiver<bool>);

impl Leadership {
    /// The instance is the only one: it always leads.
    pub fn sole() -> Self {
        let (_, held) = watch::channel(true);
        Self(held)
    }

    /// Follows `held`, which the engine's task sets while it holds the lead.
    pub fn following(held: watch::Receiver<bool>) -> Self {
        Self(held)
    }

    /// Whether this instance leads now.
    pub fn holds(&self) -> bool {
        *self.0.borrow()
    }

    /// Returns once this instance leads (at once if it does). If the engine's task
    /// is gone, the last word stands: a lead lost for good is waited for forever.
    pub async fn held(&mut self) {
        if self.0.wait_for(|held| *held).await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}
