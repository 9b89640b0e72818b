//! A plugin's log: its `log` import and whatever it writes to stdout/stderr,
//! turned into bounded `tracing` events tagged with the buyer, plugin and
//! message.
//!
//! A plugin must not be able to flood the gateway's log, so each call may emit
//! at most [`MAX_LINES`] lines and [`MAX_BYTES`] bytes; after that one
//! "log truncated" line is written and the rest is dropped. Writes are never
//! refused: a Rust guest's `println!` panics when stdout fails, and a log limit
//! must not turn into a trap.

use std::sync::{Arc, Mutex, MutexGuard};

use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamResult};

use super::bindings::LogLevel;

/// Lines one call may log.
pub(crate) const MAX_LINES: usize = 200;
/// Bytes one call may log.
pub(crate) const MAX_BYTES: usize = 64 << 10;
/// Stderr lines quoted in a trap's message.
const STDERR_SUMMARY_LINES: usize = 2;
/// Longest single line kept; longer lines are cut (and marked with `…`).
const MAX_LINE: usize = 4 << 10;

/// Who a plugin call's log lines are about; every line carries these fields.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogContext {
    /// The buyer whose message is being normalized.
    pub buyer_id: String,
    /// The plugin's name, as it declared in `info()`.
    pub plugin_name: String,
    /// The plugin's version, as it declared in `info()`.
    pub plugin_version: String,
    /// The inbound message being normalized.
    pub message_id: String,
}

/// Where a line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    Log,
    Stdout,
    Stderr,
}

impl Source {
    fn as_str(self) -> &'static str {
        match self {
            Source::Log => "log",
            Source::Stdout => "stdout",
            Source::Stderr => "stderr",
        }
    }
}

/// The bounded log of one call, shared by the `log` import and the captured
/// stdout/stderr streams.
pub(crate) struct PluginLog {
    context: LogContext,
    state: Mutex<LogState>,
}

#[derive(Default)]
struct LogState {
    lines: usize,
    bytes: usize,
    truncated: bool,
    /// Partial lines written to stdout/stderr and not yet ended by a newline.
    stdout: Vec<u8>,
    stderr: Vec<u8>,
    /// The first lines written to stderr: a panicking Rust guest writes
    /// `thread '…' panicked at src/lib.rs:12:5:` and then the message, which
    /// is worth quoting in the trap that follows.
    stderr_head: Vec<String>,
    /// For a call that may be abandoned and run again elsewhere
    /// ([`PluginLog::held`]): its lines, kept until [`PluginLog::release`]
    /// emits them (an abandoned call's log is dropped unreleased).
    held: Option<Vec<(LogLevel, Source, String)>>,
}

impl PluginLog {
    /// A fresh log for one call.
    pub(crate) fn new(context: LogContext) -> Arc<Self> {
        Arc::new(Self {
            context,
            state: Mutex::new(LogState::default()),
        })
    }

    /// A fresh log for one call that may be abandoned and run again from the
    /// start (a call run inline that moves to the blocking pool): its lines are
    /// emitted by [`PluginLog::release`], and dropped with the log when the call
    /// is abandoned, so a call run twice logs once.
    pub(crate) fn held(context: LogContext) -> Arc<Self> {
        Arc::new(Self {
            context,
            state: Mutex::new(LogState {
                held: Some(Vec::new()),
                ..LogState::default()
            }),
        })
    }

    fn state(&self) -> MutexGuard<'_, LogState> {
        // A poisoned lock only means another thread panicked mid-write; the
        // counters are still usable and the host must not panic in turn.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A line from the guest's `log` import.
    pub(crate) fn log(&self, level: LogLevel, message: &str) {
        let mut state = self.state();
        self.emit(&mut state, Source::Log, level, message);
    }

    /// The captured standard output, to hand to `WasiCtxBuilder::stdout`.
    pub(crate) fn stdout(self: &Arc<Self>) -> CapturedOutput {
        CapturedOutput {
            log: self.clone(),
            source: Source::Stdout,
        }
    }

    /// The captured standard error, to hand to `WasiCtxBuilder::stderr`.
    pub(crate) fn stderr(self: &Arc<Self>) -> CapturedOutput {
        CapturedOutput {
            log: self.clone(),
            source: Source::Stderr,
        }
    }

    /// Emits any unterminated stdout/stderr line; called when the call ends.
    pub(crate) fn finish(&self) {
        let mut state = self.state();
        for source in [Source::Stdout, Source::Stderr] {
            let pending = std::mem::take(buffer(&mut state, source));
            if !pending.is_empty() {
                self.emit_output_line(&mut state, source, &pending);
            }
        }
    }

    /// Emits the lines a held log kept, once its call is known to stand.
    pub(crate) fn release(&self) {
        let held = self.state().held.take().unwrap_or_default();
        for (level, source, message) in held {
            self.event(level, source, &message);
        }
    }

    /// The first lines the guest wrote to stderr, joined; `None` if it wrote
    /// nothing there.
    pub(crate) fn stderr_summary(&self) -> Option<String> {
        let state = self.state();
        (!state.stderr_head.is_empty()).then(|| state.stderr_head.join(" "))
    }

    fn write_output(&self, source: Source, mut bytes: &[u8]) {
        let mut state = self.state();
        while let Some(newline) = bytes.iter().position(|&b| b == b'\n') {
            let (line, rest) = bytes.split_at(newline);
            bytes = &rest[1..];
            let mut pending = std::mem::take(buffer(&mut state, source));
            append_bounded(&mut pending, line);
            self.emit_output_line(&mut state, source, &pending);
        }
        append_bounded(buffer(&mut state, source), bytes);
    }

    fn emit_output_line(&self, state: &mut LogState, source: Source, line: &[u8]) {
        let line = String::from_utf8_lossy(line);
        let line = line.trim_end_matches('\r');
        // Rust's hint about RUST_BACKTRACE says nothing about the plugin.
        if source == Source::Stderr
            && state.stderr_head.len() < STDERR_SUMMARY_LINES
            && !line.trim().is_empty()
            && !line.starts_with("note: run with `RUST_BACKTRACE")
        {
            state.stderr_head.push(cut(line.trim(), 256).into_owned());
        }
        let level = if source == Source::Stderr {
            LogLevel::Warn
        } else {
            LogLevel::Info
        };
        self.emit(state, source, level, line);
    }

    fn emit(&self, state: &mut LogState, source: Source, level: LogLevel, message: &str) {
        if state.truncated {
            return;
        }
        let message = cut(message, MAX_LINE);
        if state.lines >= MAX_LINES || state.bytes + message.len() > MAX_BYTES {
            state.truncated = true;
            let notice = format!(
                "log truncated: a plugin call may log at most {MAX_LINES} lines and {} KiB",
                MAX_BYTES >> 10
            );
            self.emit_or_hold(state, LogLevel::Warn, source, notice.into());
            return;
        }
        state.lines += 1;
        state.bytes += message.len();
        self.emit_or_hold(state, level, source, message);
    }

    /// Emits a line, or keeps it for [`PluginLog::release`] if the log is held.
    fn emit_or_hold(
        &self,
        state: &mut LogState,
        level: LogLevel,
        source: Source,
        message: std::borrow::Cow<'_, str>,
    ) {
        match &mut state.held {
            Some(held) => held.push((level, source, message.into_owned())),
            None => self.event(level, source, &message),
        }
    }

    fn event(&self, level: LogLevel, source: Source, message: &str) {
        let c = &self.context;
        macro_rules! event {
            ($level:expr) => {
                tracing::event!(
                    target: "plugin",
                    $level,
                    buyer_id = %c.buyer_id,
                    plugin_name = %c.plugin_name,
                    plugin_version = %c.plugin_version,
                    message_id = %c.message_id,
                    stream = source.as_str(),
                    "{message}"
                )
            };
        }
        match level {
            LogLevel::Debug => event!(tracing::Level::DEBUG),
            LogLevel::Info => event!(tracing::Level::INFO),
            LogLevel::Warn => event!(tracing::Level::WARN),
            LogLevel::Error => event!(tracing::Level::ERROR),
        }
    }
}

fn buffer(state: &mut LogState, source: Source) -> &mut Vec<u8> {
    match source {
        Source::Stderr => &mut state.stderr,
        Source::Stdout | Source::Log => &mut state.stdout,
    }
}

/// Appends to a pending line, keeping at most [`MAX_LINE`] bytes of it.
fn append_bounded(pending: &mut Vec<u8>, bytes: &[u8]) {
    let room = MAX_LINE.saturating_sub(pending.len());
    pending.extend_from_slice(&bytes[..bytes.len().min(room)]);
}

/// `text` cut to at most `max` bytes on a character boundary.
fn cut(text: &str, max: usize) -> std::borrow::Cow<'_, str> {
    if text.len() <= max {
        return text.into();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end]).into()
}

/// A guest's stdout or stderr, captured into the call's [`PluginLog`].
pub(crate) struct CapturedOutput {
    log: Arc<PluginLog>,
    source: Source,
}

impl IsTerminal for CapturedOutput {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for CapturedOutput {
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(CapturedStream {
            log: self.log.clone(),
            source: self.source,
        })
    }

    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        // Only WASIp3 guests use the async form, and the linker only offers
        // WASIp2; discarding keeps the trait satisfied without a second path.
        StdoutStream::async_stream(&wasmtime_wasi::p2::pipe::SinkOutputStream)
    }
}

struct CapturedStream {
    log: Arc<PluginLog>,
    source: Source,
}

/// How much a guest may write per `write` call; it is always ready for more.
const WRITE_BUDGET: usize = 64 << 10;

#[wasmtime_wasi::async_trait]
impl OutputStream for CapturedStream {
    fn write(&mut self, bytes: bytes::Bytes) -> StreamResult<()> {
        self.log.write_output(self.source, &bytes);
        Ok(())
    }

    fn flush(&mut self) -> StreamResult<()> {
        Ok(())
    }

    fn check_write(&mut self) -> StreamResult<usize> {
        Ok(WRITE_BUDGET)
    }
}

#[wasmtime_wasi::async_trait]
impl Pollable for CapturedStream {
    async fn ready(&mut self) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    fn log() -> Arc<PluginLog> {
        PluginLog::new(LogContext::default())
    }

    #[test]
    fn output_is_split_into_lines_and_flushed_at_the_end() {
        let log = log();
        log.write_output(Source::Stderr, b"pan");
        log.write_output(Source::Stderr, b"icked at x:\n");
        assert_eq!(log.stderr_summary().as_deref(), Some("panicked at x:"));
        log.write_output(Source::Stderr, b"note: run with `RUST_BACKTRACE=1`\nboom");
        log.finish();
        assert_eq!(log.stderr_summary().as_deref(), Some("panicked at x: boom"));
        assert_eq!(log.state().lines, 3);
    }

    #[test]
    fn lines_are_bounded_and_truncation_is_said_once() {
        let log = log();
        for _ in 0..1000 {
            log.log(LogLevel::Info, "spam");
        }
        let state = log.state();
        assert_eq!(state.lines, MAX_LINES);
        assert!(state.truncated);
    }

    #[test]
    fn bytes_are_bounded() {
        let log = log();
        let big = "x".repeat(MAX_LINE * 2);
        for _ in 0..100 {
            log.log(LogLevel::Info, &big);
        }
        let state = log.state();
        assert!(state.bytes <= MAX_BYTES);
        assert!(state.truncated);
    }

    #[test]
    fn a_held_log_keeps_its_lines_until_released() {
        let log = PluginLog::held(LogContext::default());
        log.log(LogLevel::Info, "one");
        log.write_output(Source::Stdout, b"two");
        log.finish();
        let held: Vec<String> = log
            .state()
            .held
            .iter()
            .flatten()
            .map(|l| l.2.clone())
            .collect();
        assert_eq!(held, ["one", "two"]);
        log.release();
        assert!(log.state().held.is_none());
        // A log that is not held keeps nothing back.
        let plain = PluginLog::new(LogContext::default());
        plain.log(LogLevel::Info, "one");
        assert!(plain.state().held.is_none());
        assert_eq!(plain.state().lines, 1);
    }

    #[test]
    fn cut_respects_char_boundaries() {
        assert_eq!(cut("héllo", 2), "h…");
        assert_eq!(cut("abc", 3), "abc");
    }
}
