//! The one thing a plugin may call on the host: a line in the gateway's log.

use std::fmt;

/// How important a log line is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum LogLevel {
    Debug,
    Info,
    Warn,
    Error,
}

impl fmt::Display for LogLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Debug => "debug",
            Self::Info => "info",
            Self::Warn => "warn",
            Self::Error => "error",
        })
    }
}

/// Writes a line to the gateway's log, tagged by the host with the buyer, plugin and
/// message. The host bounds how much a plugin may log.
///
/// In a native build (unit tests) the line goes to stderr, where the test harness
/// captures it.
pub fn log(level: LogLevel, message: &str) {
    #[cfg(target_arch = "wasm32")]
    crate::__private::log(level, message);
    #[cfg(not(target_arch = "wasm32"))]
    eprintln!("[plugin {level}] {message}");
}
