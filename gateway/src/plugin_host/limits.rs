//! Per-call limits on what a plugin may consume, and the resource limiter that
//! enforces the memory part inside wasmtime.

use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

const MIB: u64 = 1 << 20;

/// What one plugin call may consume. Configurable per buyer; every field is
/// optional in config and falls back to the safe default below.
///
/// In config, `time` is either a number of milliseconds or a string such as
/// `"2s"` or `"500ms"`:
///
/// ```toml
/// [limits]
/// memory_bytes = 134217728
/// time = "5s"
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Total linear memory the plugin may hold, in bytes (default 64 MiB).
    /// Clamped to the host's `max_memory_bytes_cap`. Growing past it fails
    /// and the call ends with `MemoryLimit`.
    pub memory_bytes: u64,
    /// Wall-clock time for the whole call, instantiation included (default 2 s).
    /// Enforced by epoch interruption with about 10 ms granularity.
    #[serde(serialize_with = "ser_duration", deserialize_with = "de_duration")]
    pub time: Duration,
    /// Largest inbound message, in bytes: body plus headers plus e-mail parts
    /// (default 10 MiB). Checked before the plugin runs.
    pub input_bytes: u64,
    /// Largest total size of the orders a plugin returns, in bytes (default
    /// 8 MiB). The memory limit already bounds what can be lifted out of the
    /// guest; this bounds what the gateway goes on to validate and store.
    pub output_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            memory_bytes: 64 * MIB,
            time: Duration::from_secs(2),
            input_bytes: 10 * MIB,
            output_bytes: 8 * MIB,
        }
    }
}

/// The range a buyer's own limits must fall in (the admin API checks them), so a
/// typo cannot give one buyer a terabyte or an hour of a shared host. The memory
/// ceiling is the host's `max_memory_bytes_cap`, passed in.
pub mod range {
    use std::time::Duration;

    use super::MIB;

    /// Below this no Rust plugin starts (its stack alone is 1 MiB).
    pub const MIN_MEMORY_BYTES: u64 = MIB;
    /// The epoch tick is 10 ms; a shorter limit could not be kept.
    pub const MIN_TIME: Duration = Duration::from_millis(10);
    /// A call holds one of the host's few instance slots for this long at most.
    pub const MAX_TIME: Duration = Duration::from_secs(60);
    /// Largest `input_bytes` and `output_bytes`: six times the default body
    /// limit, far above any purchase order, far below a disk.
    pub const MAX_IO_BYTES: u64 = 64 * MIB;
}

impl Limits {
    /// The first field outside [`range`] among `named` (the fields a buyer set;
    /// the others are the gateway's own defaults), as `(field, why)`.
    pub fn out_of_range(&self, named: &[&str], memory_cap: u64) -> Option<(&'static str, String)> {
        let checks: [(&'static str, bool, String); 4] = [
            (
                "memory_bytes",
                (range::MIN_MEMORY_BYTES..=memory_cap).contains(&self.memory_bytes),
                format!(
                    "memory_bytes must be {} to {memory_cap} (the host's cap), not {}",
                    range::MIN_MEMORY_BYTES,
                    self.memory_bytes
                ),
            ),
            (
                "time",
                (range::MIN_TIME..=range::MAX_TIME).contains(&self.time),
                format!(
                    "time must be {} to {}, not {}",
                    format_duration(range::MIN_TIME),
                    format_duration(range::MAX_TIME),
                    format_duration(self.time)
                ),
            ),
            (
                "input_bytes",
                (1..=range::MAX_IO_BYTES).contains(&self.input_bytes),
                format!(
                    "input_bytes must be 1 to {}, not {}",
                    range::MAX_IO_BYTES,
                    self.input_bytes
                ),
            ),
            (
                "output_bytes",
                (1..=range::MAX_IO_BYTES).contains(&self.output_bytes),
                format!(
                    "output_bytes must be 1 to {}, not {}",
                    range::MAX_IO_BYTES,
                    self.output_bytes
                ),
            ),
        ];
        checks
            .into_iter()
            .find(|(field, ok, _)| !ok && named.contains(field))
            .map(|(field, _, why)| (field, why))
    }
}

/// Formats a duration the way config writes it: `2s`, `500ms`.
pub(crate) fn format_duration(d: Duration) -> String {
    let ms = d.as_millis();
    if ms.is_multiple_of(1000) {
        format!("{}s", ms / 1000)
    } else {
        format!("{ms}ms")
    }
}

fn ser_duration<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format_duration(*d))
}

fn de_duration<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Millis(u64),
        Text(String),
    }
    match Raw::deserialize(d)? {
        Raw::Millis(ms) => Ok(Duration::from_millis(ms)),
        Raw::Text(text) => parse_duration(&text).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "invalid duration '{text}': expected e.g. \"2s\", \"500ms\" or milliseconds"
            ))
        }),
    }
}

fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    let (number, unit) = text.split_at(text.find(|c: char| !c.is_ascii_digit())?);
    let n: u64 = number.parse().ok()?;
    match unit.trim() {
        "ms" => Some(Duration::from_millis(n)),
        "s" => Some(Duration::from_secs(n)),
        "m" | "min" => Some(Duration::from_secs(n.checked_mul(60)?)),
        _ => None,
    }
}

/// The store's resource limiter for one call.
///
/// Counts the total of all linear memories (a component may have more than
/// one) against the call's limit, and remembers whether it ever said no, so a
/// trap that follows a refused `memory.grow` (a Rust guest aborts on allocation
/// failure) is reported as `MemoryLimit` rather than a generic trap.
pub(crate) struct CallLimiter {
    limit: usize,
    used: usize,
    denied: bool,
}

impl CallLimiter {
    /// A limiter allowing `limit` bytes of linear memory in total.
    pub(crate) fn new(limit: u64) -> Self {
        Self {
            limit: usize::try_from(limit).unwrap_or(usize::MAX),
            used: 0,
            denied: false,
        }
    }

    /// Whether a memory growth was refused during this call.
    pub(crate) fn denied(&self) -> bool {
        self.denied
    }
}

impl wasmtime::ResourceLimiter for CallLimiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let growth = desired.saturating_sub(current);
        let total = self.used.saturating_add(growth);
        if total > self.limit || maximum.is_some_and(|max| desired > max) {
            self.denied = true;
            return Ok(false);
        }
        self.used = total;
        Ok(true)
    }

    fn memory_grow_failed(&mut self, _error: wasmtime::Error) -> wasmtime::Result<()> {
        // The pool's own cap (`max_memory_size`) refused the growth: still the
        // plugin hitting a memory limit.
        self.denied = true;
        Ok(())
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        // The pool bounds table size; honour the table's own maximum too.
        Ok(maximum.is_none_or(|max| desired <= max))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasmtime::ResourceLimiter;

    #[test]
    fn defaults_apply_to_missing_fields() {
        let limits: Limits = serde_json::from_str(r#"{"time": "5s"}"#).unwrap();
        assert_eq!(limits.time, Duration::from_secs(5));
        assert_eq!(limits.memory_bytes, 64 * MIB);
        assert_eq!(limits.input_bytes, 10 * MIB);
        assert_eq!(limits.output_bytes, 8 * MIB);
        let limits: Limits = serde_json::from_str(r#"{"time": 1500}"#).unwrap();
        assert_eq!(limits.time, Duration::from_millis(1500));
        assert_eq!(
            serde_json::from_str::<Limits>("{}").unwrap(),
            Limits::default()
        );
    }

    #[test]
    fn bad_duration_and_unknown_fields_are_refused() {
        let err = serde_json::from_str::<Limits>(r#"{"time": "soon"}"#).unwrap_err();
        assert!(err.to_string().contains("invalid duration 'soon'"), "{err}");
        assert!(serde_json::from_str::<Limits>(r#"{"memory": 1}"#).is_err());
    }

    #[test]
    fn durations_round_trip() {
        assert_eq!(format_duration(Duration::from_secs(2)), "2s");
        assert_eq!(format_duration(Duration::from_millis(250)), "250ms");
        assert_eq!(parse_duration("250ms"), Some(Duration::from_millis(250)));
        assert_eq!(parse_duration("2 s"), Some(Duration::from_secs(2)));
        assert_eq!(parse_duration("2"), None);
    }

    #[test]
    fn limiter_counts_all_memories_and_remembers_denial() {
        let mut limiter = CallLimiter::new(100);
        assert!(limiter.memory_growing(0, 60, None).unwrap());
        assert!(!limiter.denied());
        assert!(!limiter.memory_growing(0, 60, None).unwrap());
        assert!(limiter.denied());
        assert!(limiter.memory_growing(60, 100, None).unwrap());
    }
}
