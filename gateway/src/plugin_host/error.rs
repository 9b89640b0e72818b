//! Why a plugin could not be loaded, or could not normalize a message.
//!
//! Every failure names its cause in words a buyer's developer can act on and
//! carries a stable `code()` for problem+json and metrics. Classifying a failed
//! call (timeout, memory, trap) happens here, in one place.

use std::time::Duration;

use super::limits::format_duration;

/// Why a plugin could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The bytes are not a WebAssembly component (garbage, truncated, or a
    /// component wasmtime cannot compile).
    #[error("not a valid WebAssembly component: {0}")]
    Invalid(String),
    /// A valid component (or core module) that is not a jembatan plugin: it
    /// does not export the `normalizer` world, imports something the sandbox
    /// does not provide, or its `info()` fails.
    #[error("not a jembatan plugin: {0}")]
    NotAPlugin(String),
    /// The host itself failed (e.g. the engine could not be built).
    #[error("plugin host error: {0}")]
    Host(String),
}

impl LoadError {
    /// A stable, machine-readable code for this error.
    pub fn code(&self) -> &'static str {
        match self {
            LoadError::Invalid(_) => "invalid-plugin",
            LoadError::NotAPlugin(_) => "not-a-plugin",
            LoadError::Host(_) => "plugin-host-error",
        }
    }
}

/// Where in the input a plugin found a problem; every part is optional.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ErrorLocation {
    /// 1-based line in a text input.
    pub line: Option<u32>,
    /// 1-based column in a text input.
    pub column: Option<u32>,
    /// 0-based byte offset into the body.
    pub offset: Option<u64>,
    /// A path into the document (XPath-like, JSON pointer, EDI segment).
    pub path: Option<String>,
}

impl std::fmt::Display for ErrorLocation {
    /// `line 3, column 7, offset 52, path /Order/cac:OrderLine[2]`; only the
    /// parts that are known.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut parts = Vec::new();
        if let Some(line) = self.line {
            parts.push(format!("line {line}"));
        }
        if let Some(column) = self.column {
            parts.push(format!("column {column}"));
        }
        if let Some(offset) = self.offset {
            parts.push(format!("offset {offset}"));
        }
        if let Some(path) = &self.path {
            parts.push(format!("path {path}"));
        }
        if parts.is_empty() {
            f.write_str("unknown location")
        } else {
            f.write_str(&parts.join(", "))
        }
    }
}

/// Why a plugin call produced no orders.
#[derive(Debug, thiserror::Error)]
pub enum NormalizeError {
    /// The plugin understood the request and refused the message with its own
    /// structured error (e.g. `malformed-xml`).
    #[error("plugin rejected the message ({code}): {message}")]
    Rejected {
        /// The plugin's own kebab-case code.
        code: String,
        /// The plugin's explanation.
        message: String,
        /// Where in the input, if the plugin said.
        location: Option<ErrorLocation>,
    },
    /// The plugin ran past its time limit and was interrupted.
    #[error("plugin exceeded its time limit of {}", format_duration(*limit))]
    Timeout {
        /// The limit that applied.
        limit: Duration,
    },
    /// The plugin tried to use more memory than its limit allows.
    #[error("plugin exceeded its memory limit of {}", format_bytes(*limit))]
    MemoryLimit {
        /// The limit that applied, in bytes.
        limit: u64,
    },
    /// The plugin crashed (a wasm trap: panic, unreachable, out-of-bounds...).
    #[error("plugin crashed: {message}")]
    Trap {
        /// The trap, where it happened, and the plugin's last stderr line.
        message: String,
    },
    /// The message is larger than the plugin may be given.
    #[error("message of {size} bytes exceeds the plugin input limit of {limit} bytes")]
    InputTooLarge {
        /// The message's size in bytes.
        size: u64,
        /// The limit, in bytes.
        limit: u64,
    },
    /// The plugin returned more than the output limit allows.
    #[error("plugin output of {size} bytes exceeds the output limit of {limit} bytes")]
    OutputTooLarge {
        /// Total bytes of the returned orders.
        size: u64,
        /// The limit, in bytes.
        limit: u64,
    },
    /// Not the plugin's fault: the host could not run it (e.g. the plugin came
    /// from another `PluginHost`, or the instance pool failed).
    #[error("plugin host error: {message}")]
    Host {
        /// What went wrong.
        message: String,
    },
}

impl NormalizeError {
    /// A stable, machine-readable code for this class of error. For
    /// [`NormalizeError::Rejected`] the plugin's own code is in the variant.
    pub fn code(&self) -> &'static str {
        match self {
            NormalizeError::Rejected { .. } => "plugin-rejected",
            NormalizeError::Timeout { .. } => "plugin-timeout",
            NormalizeError::MemoryLimit { .. } => "plugin-memory-limit",
            NormalizeError::Trap { .. } => "plugin-trap",
            NormalizeError::InputTooLarge { .. } => "input-too-large",
            NormalizeError::OutputTooLarge { .. } => "output-too-large",
            NormalizeError::Host { .. } => "plugin-host-error",
        }
    }

    /// Whether the fault lies with the plugin or its input (as opposed to the
    /// host): such a message should fail, not be retried.
    pub fn is_plugin_fault(&self) -> bool {
        !matches!(self, NormalizeError::Host { .. })
    }
}

/// `64 MiB` when whole mebibytes, else bytes.
fn format_bytes(bytes: u64) -> String {
    if bytes >= 1 << 20 && bytes.is_multiple_of(1 << 20) {
        format!("{} MiB", bytes >> 20)
    } else {
        format!("{bytes} bytes")
    }
}

/// What the store knew when a call failed, for classifying the error.
pub(crate) struct FailureContext {
    pub(crate) time_limit: Duration,
    pub(crate) memory_limit: u64,
    pub(crate) memory_denied: bool,
    /// The start of what the guest wrote to stderr (a panic message).
    pub(crate) stderr: Option<String>,
}

/// Turns a failed wasmtime call into the error the caller sees.
///
/// Order matters: an epoch interrupt is a timeout whatever else happened; a
/// refused memory growth explains the trap that usually follows it.
pub(crate) fn classify(error: &wasmtime::Error, ctx: FailureContext) -> NormalizeError {
    let trap = error.downcast_ref::<wasmtime::Trap>();
    if trap == Some(&wasmtime::Trap::Interrupt) {
        return NormalizeError::Timeout {
            limit: ctx.time_limit,
        };
    }
    if ctx.memory_denied {
        return NormalizeError::MemoryLimit {
            limit: ctx.memory_limit,
        };
    }
    let mut message = match trap {
        Some(trap) => trap.to_string(),
        None => error.root_cause().to_string(),
    };
    if let Some(frame) = error
        .downcast_ref::<wasmtime::WasmBacktrace>()
        .and_then(|bt| bt.frames().first())
    {
        let func = frame
            .func_name()
            .map(|name| name.to_string())
            .unwrap_or_else(|| format!("function #{}", frame.func_index()));
        message.push_str(&format!(" at {func}"));
        if let Some(offset) = frame.module_offset() {
            message.push_str(&format!(" (offset {offset:#x})"));
        }
    }
    if let Some(stderr) = ctx.stderr {
        message.push_str(&format!("; stderr: {stderr}"));
    }
    NormalizeError::Trap { message }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_cause() {
        let e = NormalizeError::Timeout {
            limit: Duration::from_secs(2),
        };
        assert_eq!(e.to_string(), "plugin exceeded its time limit of 2s");
        assert_eq!(e.code(), "plugin-timeout");
        let e = NormalizeError::MemoryLimit { limit: 64 << 20 };
        assert_eq!(e.to_string(), "plugin exceeded its memory limit of 64 MiB");
        let e = NormalizeError::MemoryLimit { limit: 1000 };
        assert_eq!(
            e.to_string(),
            "plugin exceeded its memory limit of 1000 bytes"
        );
        let at = ErrorLocation {
            line: Some(3),
            path: Some("/a".into()),
            ..ErrorLocation::default()
        };
        assert_eq!(at.to_string(), "line 3, path /a");
    }

    #[test]
    fn interrupt_is_a_timeout_even_when_memory_was_denied() {
        let error = wasmtime::Error::new(wasmtime::Trap::Interrupt);
        let ctx = FailureContext {
            time_limit: Duration::from_millis(100),
            memory_limit: 1,
            memory_denied: true,
            stderr: None,
        };
        assert!(matches!(
            classify(&error, ctx),
            NormalizeError::Timeout { .. }
        ));
    }

    #[test]
    fn other_traps_quote_stderr() {
        let error = wasmtime::Error::new(wasmtime::Trap::UnreachableCodeReached);
        let ctx = FailureContext {
            time_limit: Duration::from_secs(1),
            memory_limit: 1,
            memory_denied: false,
            stderr: Some("panicked at boom".into()),
        };
        let NormalizeError::Trap { message } = classify(&error, ctx) else {
            panic!("not a trap");
        };
        assert!(message.contains("unreachable"), "{message}");
        assert!(message.ends_with("stderr: panicked at boom"), "{message}");
    }
}
