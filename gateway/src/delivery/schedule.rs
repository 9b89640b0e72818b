//! When to try a failed delivery again: the retry policy every channel shares.
//!
//! The default is in the spirit of Svix's: a quick retry for a blip, then minutes,
//! then hours, about a day and a half in all (5 s, 5 min, 30 min, 2 h, 5 h, 10 h,
//! 10 h, 10 h = 37 h 35 min 5 s over 9 attempts), so a workshop whose ERP is off over
//! a long weekend day still gets its orders. Each wait is jittered by ±20% so that
//! the deliveries a receiver's outage piled up do not all come back at one instant.

use std::fmt;
use std::time::Duration;

use rand::Rng;
use serde::{Deserialize, Deserializer};

/// The waits between attempts; after the last, a delivery is dead.
#[derive(Clone, PartialEq, Eq)]
pub struct RetrySchedule {
    waits: Vec<Duration>,
}

/// How far a wait may stray from the schedule, as a fraction of it.
const JITTER: f64 = 0.2;

impl Default for RetrySchedule {
    fn default() -> Self {
        let minutes = |m: u64| Duration::from_secs(m * 60);
        let hours = |h: u64| Duration::from_secs(h * 3600);
        Self {
            waits: vec![
                Duration::from_secs(5),
                minutes(5),
                minutes(30),
                hours(2),
                hours(5),
                hours(10),
                hours(10),
                hours(10),
            ],
        }
    }
}

impl RetrySchedule {
    pub fn new(waits: Vec<Duration>) -> Self {
        Self { waits }
    }

    /// Parses `5s,5m,30m` (humantime durations, comma-separated; empty for no retries).
    pub fn parse(text: &str) -> Result<Self, String> {
        Self::from_waits(
            text.split(',')
                .map(str::trim)
                .filter(|part| !part.is_empty()),
        )
    }

    fn from_waits<'a>(waits: impl Iterator<Item = &'a str>) -> Result<Self, String> {
        waits
            .map(|wait| humantime::parse_duration(wait).map_err(|e| format!("{wait:?}: {e}")))
            .collect::<Result<_, _>>()
            .map(Self::new)
    }

    /// Attempts a delivery gets in all: the first and one per wait.
    pub fn attempts(&self) -> u32 {
        u32::try_from(self.waits.len()).map_or(u32::MAX, |n| n.saturating_add(1))
    }

    /// The whole span from the first attempt to the last, without jitter.
    pub fn span(&self) -> Duration {
        self.waits.iter().sum()
    }

    /// The wait before the next attempt once `failed` attempts of this schedule have
    /// failed, jittered; `None` when the schedule is spent and the delivery is dead.
    pub fn wait_after(&self, failed: u32) -> Option<Duration> {
        let wait = *self
            .waits
            .get(usize::try_from(failed).ok()?.checked_sub(1)?)?;
        let factor = rand::rng().random_range((1.0 - JITTER)..=(1.0 + JITTER));
        Some(wait.mul_f64(factor))
    }
}

impl fmt::Debug for RetrySchedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let waits: Vec<_> = self
            .waits
            .iter()
            .map(|w| humantime::format_duration(*w).to_string())
            .collect();
        write!(f, "RetrySchedule[{}]", waits.join(", "))
    }
}

/// In the config file: a list of durations, `["5s", "5m", "30m"]`.
impl<'de> Deserialize<'de> for RetrySchedule {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let waits = Vec::<String>::deserialize(deserializer)?;
        Self::from_waits(waits.iter().map(String::as_str)).map_err(serde::de::Error::custom)
    }
}

/// From the environment: `5s,5m,30m`.
impl std::str::FromStr for RetrySchedule {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        Self::parse(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_spans_about_a_day_and_a_half() {
        let schedule = RetrySchedule::default();
        assert_eq!(schedule.attempts(), 9);
        let hours = schedule.span().as_secs_f64() / 3600.0;
        assert!((36.0..40.0).contains(&hours), "{hours} h");
    }

    #[test]
    fn waits_follow_the_schedule_with_jitter_then_stop() {
        let schedule = RetrySchedule::parse("10s, 1m").unwrap();
        assert_eq!(schedule.wait_after(0), None, "nothing failed yet");
        for _ in 0..100 {
            let first = schedule.wait_after(1).unwrap().as_secs_f64();
            assert!((8.0..=12.0).contains(&first), "{first}");
            let second = schedule.wait_after(2).unwrap().as_secs_f64();
            assert!((48.0..=72.0).contains(&second), "{second}");
        }
        assert_eq!(schedule.wait_after(3), None, "spent: dead");
        assert_eq!(RetrySchedule::parse("").unwrap().wait_after(1), None);
    }

    #[test]
    fn bad_durations_are_named() {
        let err = RetrySchedule::parse("5s,soon").unwrap_err();
        assert!(err.contains("soon"), "{err}");
    }
}
