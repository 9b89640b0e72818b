//! Admission: whether the gateway takes a message now, before it reads the body.
//!
//! One buyer must not take the gateway down for the others (issue 8):
//! - each buyer has a rate ([`Quota::messages_per_minute`], with a
//!   [`Quota::burst`]) and a storage limit ([`Quota::stored_bytes`], the bodies
//!   of its messages that are kept); over either it gets 429 with `Retry-After`,
//!   and the other buyers go on;
//! - the gateway as a whole stops taking messages while it cannot store them
//!   ([`Health`]): a disk nearly full, a database that is read-only, gone or
//!   damaged, a PostgreSQL server that cannot be reached. Then every post gets 503 with `Retry-After`, `/readyz` fails, and it
//!   recovers on its own when the cause goes away.
//!
//! [`retention`] deletes what the operator does not want kept, in small batches.

pub mod health;
pub mod retention;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

pub use health::{Health, HealthConfig};

use crate::store::Store;

/// What one buyer may send and keep. The gateway's defaults apply unless the
/// buyer's `limits` name a field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Quota {
    /// Messages a minute, on average (default 600: ten a second).
    pub messages_per_minute: u32,
    /// Messages that may come at once above the average (default 60).
    pub burst: u32,
    /// Bytes of message bodies kept for the buyer (default 2 GiB); retention
    /// frees them.
    pub stored_bytes: u64,
}

impl Default for Quota {
    fn default() -> Self {
        Self {
            messages_per_minute: 600,
            burst: 60,
            stored_bytes: 2 << 30,
        }
    }
}

/// The keys of a buyer's `limits` that are its [`Quota`]; the others are its
/// plugin's per-call limits.
pub const QUOTA_KEYS: [&str; 3] = ["messages_per_minute", "burst", "stored_bytes"];

/// A buyer's `limits` object split into its plugin's part and its quota's part.
pub fn split_limits(
    limits: &serde_json::Map<String, serde_json::Value>,
) -> (
    serde_json::Map<String, serde_json::Value>,
    serde_json::Map<String, serde_json::Value>,
) {
    limits
        .clone()
        .into_iter()
        .partition(|(key, _)| !QUOTA_KEYS.contains(&key.as_str()))
}

impl Quota {
    /// The gateway's quota with the fields the buyer's `limits` name replaced. Runs
    /// on every post, so it reads the three keys, not the whole object.
    pub fn for_buyer(&self, limits: Option<&serde_json::Value>) -> Result<Self, serde_json::Error> {
        let mut quota = self.clone();
        let Some(serde_json::Value::Object(own)) = limits else {
            return Ok(quota);
        };
        if let Some(v) = own.get("messages_per_minute") {
            quota.messages_per_minute = u32::deserialize(v)?;
        }
        if let Some(v) = own.get("burst") {
            quota.burst = u32::deserialize(v)?;
        }
        if let Some(v) = own.get("stored_bytes") {
            quota.stored_bytes = u64::deserialize(v)?;
        }
        Ok(quota)
    }

    /// The first field out of its range, as `(field, why)`: a rate of 0 would
    /// refuse every message, a limit too high would not protect anyone.
    pub fn out_of_range(&self) -> Option<(&'static str, String)> {
        if !(1..=600_000).contains(&self.messages_per_minute) {
            return Some((
                "messages_per_minute",
                format!(
                    "messages_per_minute must be 1 to 600000, not {}",
                    self.messages_per_minute
                ),
            ));
        }
        if !(1..=100_000).contains(&self.burst) {
            return Some((
                "burst",
                format!("burst must be 1 to 100000, not {}", self.burst),
            ));
        }
        if !(1 << 20..=1 << 40).contains(&self.stored_bytes) {
            return Some((
                "stored_bytes",
                format!(
                    "stored_bytes must be 1 MiB to 1 TiB, not {}",
                    self.stored_bytes
                ),
            ));
        }
        None
    }
}

/// Why a message is not taken now; each says when to try again.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Refusal {
    /// The buyer sent faster than its rate.
    #[error(
        "buyer '{buyer_id}' sent more than {per_minute} messages a minute (burst {burst}); \
         try again in {} s", retry_after.as_secs()
    )]
    Rate {
        buyer_id: String,
        per_minute: u32,
        burst: u32,
        retry_after: Duration,
    },
    /// The buyer's kept message bodies reached its storage limit.
    #[error(
        "buyer '{buyer_id}' has {used} bytes of messages stored, at or over its limit of \
         {limit}; older bodies are freed by retention"
    )]
    Storage {
        buyer_id: String,
        used: u64,
        limit: u64,
        retry_after: Duration,
    },
    /// The gateway cannot store anything now.
    #[error("the gateway cannot store messages now: {reason}")]
    Unavailable {
        reason: String,
        retry_after: Duration,
    },
}

impl Refusal {
    pub fn retry_after(&self) -> Duration {
        match self {
            Self::Rate { retry_after, .. }
            | Self::Storage { retry_after, .. }
            | Self::Unavailable { retry_after, .. } => *retry_after,
        }
    }

    /// The label counted in `/metrics`.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::Rate { .. } => "rate",
            Self::Storage { .. } => "storage",
            Self::Unavailable { .. } => "unavailable",
        }
    }
}

/// How long a buyer's stored bytes, read from the store, are trusted before they
/// are read again; in between, each accepted body is added to them.
const STORED_BYTES_TTL: Duration = Duration::from_secs(30);

/// When a buyer over its storage limit should try again: retention runs hourly.
const STORAGE_RETRY_AFTER: Duration = Duration::from_secs(3600);

/// A token bucket: `tokens` refill at the rate up to the burst.
#[derive(Debug)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// Every buyer's bucket.
#[derive(Debug, Default)]
struct Rates {
    buckets: Mutex<HashMap<String, Bucket>>,
}

impl Rates {
    /// Takes one message from `buyer_id`'s bucket at `now`, or says how long until
    /// one is there.
    fn take(&self, buyer_id: &str, quota: &Quota, now: Instant) -> Result<(), Refusal> {
        let rate = f64::from(quota.messages_per_minute) / 60.0;
        let burst = f64::from(quota.burst);
        let mut buckets = self.buckets.lock().unwrap_or_else(PoisonError::into_inner);
        let bucket = buckets.entry(buyer_id.to_owned()).or_insert(Bucket {
            tokens: burst,
            at: now,
        });
        let elapsed = now.saturating_duration_since(bucket.at).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * rate).min(burst);
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            return Ok(());
        }
        let wait = (1.0 - bucket.tokens) / rate;
        Err(Refusal::Rate {
            buyer_id: buyer_id.to_owned(),
            per_minute: quota.messages_per_minute,
            burst: quota.burst,
            retry_after: Duration::from_secs_f64(wait.ceil().max(1.0)),
        })
    }
}

/// A buyer's stored bytes as last read, plus what was stored since.
#[derive(Debug)]
struct Stored {
    bytes: u64,
    read_at: Instant,
}

/// Admission control for the whole gateway. Cheap to share; every method takes
/// `&self`.
pub struct Admission {
    store: Arc<dyn Store>,
    defaults: Quota,
    health: Arc<Health>,
    rates: Rates,
    stored: Mutex<HashMap<String, Stored>>,
}

impl Admission {
    pub fn new(store: Arc<dyn Store>, defaults: Quota, health: Arc<Health>) -> Self {
        Self {
            store,
            defaults,
            health,
            rates: Rates::default(),
            stored: Mutex::new(HashMap::new()),
        }
    }

    pub fn health(&self) -> &Arc<Health> {
        &self.health
    }

    /// Whether `buyer_id`, whose own limits are `limits`, may post a message now.
    /// Takes one message from its rate when it may.
    pub async fn admit(
        &self,
        buyer_id: &str,
        limits: Option<&serde_json::Value>,
    ) -> Result<(), Refusal> {
        if let Err(reason) = self.health.state() {
            return Err(Refusal::Unavailable {
                reason,
                retry_after: self.health.retry_after(),
            });
        }
        // Checked when the buyer was saved; a quota that no longer reads (an older
        // release's keys) falls back to the gateway's.
        let quota = self
            .defaults
            .for_buyer(limits)
            .unwrap_or_else(|_| self.defaults.clone());
        self.rates.take(buyer_id, &quota, Instant::now())?;
        let used = self.stored_bytes(buyer_id).await;
        if used >= quota.stored_bytes {
            return Err(Refusal::Storage {
                buyer_id: buyer_id.to_owned(),
                used,
                limit: quota.stored_bytes,
                retry_after: STORAGE_RETRY_AFTER,
            });
        }
        Ok(())
    }

    /// Counts a stored body against its buyer until the store is read again.
    pub fn stored(&self, buyer_id: &str, bytes: usize) {
        let mut stored = self.stored.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(entry) = stored.get_mut(buyer_id) {
            entry.bytes += bytes as u64;
        }
    }

    /// Forgets every buyer's stored bytes (retention freed some).
    pub fn forget_stored(&self) {
        self.stored
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }

    /// The buyer's stored bytes: from the cache while it is fresh, else from the
    /// store. A store that cannot say does not refuse the buyer: the health check
    /// decides whether the store can be used at all.
    async fn stored_bytes(&self, buyer_id: &str) -> u64 {
        {
            let stored = self.stored.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some(entry) = stored.get(buyer_id)
                && entry.read_at.elapsed() < STORED_BYTES_TTL
            {
                return entry.bytes;
            }
        }
        match self.store.stored_body_bytes(buyer_id).await {
            Ok(bytes) => {
                self.stored
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .insert(
                        buyer_id.to_owned(),
                        Stored {
                            bytes,
                            read_at: Instant::now(),
                        },
                    );
                bytes
            }
            Err(error) => {
                tracing::debug!(%error, buyer_id, "could not read the buyer's stored bytes");
                0
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_buyer_gets_its_burst_then_its_rate_and_others_are_not_touched() {
        let rates = Rates::default();
        let quota = Quota {
            messages_per_minute: 60,
            burst: 3,
            ..Quota::default()
        };
        let start = Instant::now();
        for _ in 0..3 {
            rates.take("a", &quota, start).unwrap();
        }
        let refused = rates.take("a", &quota, start).unwrap_err();
        assert_eq!(refused.retry_after(), Duration::from_secs(1));
        assert!(
            refused.to_string().contains("60 messages a minute"),
            "{refused}"
        );
        // Another buyer has its own bucket.
        rates.take("b", &quota, start).unwrap();
        // One message a second comes back, and no more than the burst piles up.
        let later = start + Duration::from_millis(1500);
        rates.take("a", &quota, later).unwrap();
        assert!(rates.take("a", &quota, later).is_err());
        let much_later = start + Duration::from_secs(3600);
        for _ in 0..3 {
            rates.take("a", &quota, much_later).unwrap();
        }
        assert!(rates.take("a", &quota, much_later).is_err());
    }

    #[test]
    fn a_buyers_quota_replaces_only_the_fields_it_names() {
        let defaults = Quota::default();
        let limits = json!({"memory_bytes": 1048576, "messages_per_minute": 6});
        let quota = defaults.for_buyer(Some(&limits)).unwrap();
        assert_eq!(quota.messages_per_minute, 6);
        assert_eq!(quota.burst, defaults.burst);
        assert_eq!(quota.stored_bytes, defaults.stored_bytes);
        let (plugin, own) = split_limits(limits.as_object().unwrap());
        assert_eq!(plugin.keys().collect::<Vec<_>>(), ["memory_bytes"]);
        assert_eq!(own.keys().collect::<Vec<_>>(), ["messages_per_minute"]);
        assert!(
            Quota {
                messages_per_minute: 0,
                ..Quota::default()
            }
            .out_of_range()
            .is_some()
        );
    }
}
