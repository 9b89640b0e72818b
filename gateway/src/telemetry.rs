//! Logs: structured `tracing` events, as text for people or JSON for machines.

use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

/// Installs the global subscriber. `RUST_LOG` picks what is logged (default
/// `info`); logs go to stderr so stdout stays for the program's own output.
pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}

/// A step a background task repeats (claiming deliveries, say) that can fail for
/// a while, as it does while the database is unreachable: its first failure is
/// logged as an error and its recovery once, not every retry in between (those
/// only at debug), so an outage of an hour is two lines, not thousands.
#[derive(Debug)]
pub struct RepeatedStep {
    /// What the step does, as a log line says it ("claiming deliveries").
    what: &'static str,
    failing: bool,
}

impl RepeatedStep {
    pub const fn new(what: &'static str) -> Self {
        Self {
            what,
            failing: false,
        }
    }

    /// The step failed with `error`; it is tried again later.
    pub fn failed(&mut self, error: &dyn std::fmt::Display) {
        let step = self.what;
        if self.failing {
            tracing::debug!(step, %error, "still failing");
        } else {
            tracing::error!(step, %error, "failed; tried again until it works");
        }
        self.failing = true;
    }

    /// The step worked.
    pub fn worked(&mut self) {
        if std::mem::take(&mut self.failing) {
            tracing::info!(step = self.what, "works again");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::RepeatedStep;

    #[test]
    fn a_step_is_failing_from_its_first_failure_until_it_works() {
        let mut step = RepeatedStep::new("claiming deliveries");
        step.worked();
        assert!(!step.failing);
        step.failed(&"connection refused");
        step.failed(&"connection refused");
        assert!(step.failing);
        step.worked();
        assert!(!step.failing);
    }
}
