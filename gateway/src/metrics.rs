//! `/metrics` in the Prometheus text format: counters the delivery workers keep,
//! and gauges read from the store when scraped (so they hold across restarts and
//! across gateway instances sharing a store).

use std::sync::atomic::AtomicU64;

use chrono::Utc;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::store::{AttemptOutcome, ChannelPause, DeliveryStats};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ChannelLabel {
    /// `webhook`, `email`, `whatsapp` or `telegram`.
    pub channel: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReasonLabel {
    /// `rate`, `storage` or `unavailable`.
    pub reason: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StateLabel {
    pub state: String,
}

/// Every metric the gateway exports.
pub struct Metrics {
    registry: Registry,
    attempts: Family<ChannelLabel, Counter>,
    successes: Family<ChannelLabel, Counter>,
    failures: Family<ChannelLabel, Counter>,
    dead: Family<ChannelLabel, Counter>,
    attempt_seconds: Family<ChannelLabel, Histogram>,
    deliveries: Family<StateLabel, Gauge>,
    oldest_due_age: Gauge<f64, AtomicU64>,
    unrouted: Gauge,
    paused: Family<ChannelLabel, Gauge>,
    refused: Family<ReasonLabel, Counter>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("jembatan");
        let attempts = Family::<ChannelLabel, Counter>::default();
        let successes = Family::<ChannelLabel, Counter>::default();
        let failures = Family::<ChannelLabel, Counter>::default();
        let dead = Family::<ChannelLabel, Counter>::default();
        let attempt_seconds = Family::<ChannelLabel, Histogram>::new_with_constructor(|| {
            // 1 ms to about 33 s.
            Histogram::new(exponential_buckets(0.001, 2.0, 16))
        });
        let deliveries = Family::<StateLabel, Gauge>::default();
        let oldest_due_age = Gauge::<f64, AtomicU64>::default();
        let unrouted = Gauge::default();
        let paused = Family::<ChannelLabel, Gauge>::default();
        let refused = Family::<ReasonLabel, Counter>::default();
        registry.register(
            "messages_refused_at_the_door",
            "Posts refused before their body was read: a buyer over its rate or storage \
             limit (429), or a gateway that cannot store (503)",
            refused.clone(),
        );
        registry.register(
            "delivery_attempts",
            "Delivery attempts made by this process",
            attempts.clone(),
        );
        registry.register(
            "delivery_successes",
            "Delivery attempts that delivered",
            successes.clone(),
        );
        registry.register(
            "delivery_failures",
            "Delivery attempts that failed (to be retried, or not)",
            failures.clone(),
        );
        registry.register(
            "delivery_dead",
            "Deliveries that ran out of attempts or were refused for good",
            dead.clone(),
        );
        registry.register(
            "delivery_attempt_duration_seconds",
            "How long one delivery attempt took",
            attempt_seconds.clone(),
        );
        registry.register(
            "deliveries",
            "Deliveries in the store, by state",
            deliveries.clone(),
        );
        registry.register(
            "delivery_oldest_due_age_seconds",
            "How long the longest-waiting due delivery has been due (0 if none)",
            oldest_due_age.clone(),
        );
        registry.register(
            "orders_unrouted",
            "Orders waiting for a route to a craftsman",
            unrouted.clone(),
        );
        registry.register(
            "channel_paused",
            "1 while a channel is paused because the service refused the gateway's \
             credentials (its deliveries wait), 0 once it works again",
            paused.clone(),
        );
        Self {
            registry,
            attempts,
            successes,
            failures,
            dead,
            attempt_seconds,
            deliveries,
            oldest_due_age,
            unrouted,
            paused,
            refused,
        }
    }

    /// Counts one post refused by admission, by why.
    pub fn refused(&self, reason: &str) {
        self.refused
            .get_or_create(&ReasonLabel {
                reason: reason.to_owned(),
            })
            .inc();
    }

    /// Counts one attempt on `channel` and how it ended.
    pub fn attempt(&self, channel: &str, outcome: AttemptOutcome, seconds: f64, dead: bool) {
        let label = ChannelLabel {
            channel: channel.to_owned(),
        };
        self.attempts.get_or_create(&label).inc();
        self.attempt_seconds.get_or_create(&label).observe(seconds);
        match outcome {
            AttemptOutcome::Succeeded => self.successes.get_or_create(&label).inc(),
            _ => self.failures.get_or_create(&label).inc(),
        };
        if dead {
            self.dead.get_or_create(&label).inc();
        }
    }

    /// The text exposition, with the store's gauges as they are now.
    /// `paused` is every channel paused now; one paused before and not now reads 0.
    pub fn render(&self, stats: &DeliveryStats, paused: &[ChannelPause]) -> String {
        for channel in ["webhook", "email", "whatsapp", "telegram"] {
            let now = paused.iter().any(|p| p.channel == channel);
            self.paused
                .get_or_create(&ChannelLabel {
                    channel: channel.to_owned(),
                })
                .set(i64::from(now));
        }
        for (state, n) in [
            ("pending", stats.pending),
            ("succeeded", stats.succeeded),
            ("dead", stats.dead),
        ] {
            self.deliveries
                .get_or_create(&StateLabel {
                    state: state.to_owned(),
                })
                .set(i64::try_from(n).unwrap_or(i64::MAX));
        }
        let age = stats
            .oldest_due_at
            .map(|due| (Utc::now() - due).as_seconds_f64().max(0.0))
            .unwrap_or(0.0);
        self.oldest_due_age.set(age);
        self.unrouted
            .set(i64::try_from(stats.unrouted_orders).unwrap_or(i64::MAX));
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry)
            .expect("writing to a String cannot fail");
        text
    }
}
