//! A test-only plugin that attacks its host, for the gateway's sandbox tests.
//!
//! The buyer's plugin config picks the attack: `{"mode": "<mode>"}`.
//!
//! | mode             | what it does                                                      |
//! |------------------|-------------------------------------------------------------------|
//! | `ok`             | returns one fixed, valid order (proves the plugin itself works)   |
//! | `loop`           | spins forever (CPU limit: epoch interruption or fuel)             |
//! | `memory-bomb`    | allocates 1 MiB blocks without end, touching each (memory limit)  |
//! | `huge-output`    | returns about `bytes` (default 100 MB) of output (output limit)   |
//! | `trap`           | panics, which aborts to a wasm `unreachable` trap                 |
//! | `invalid-output` | returns JSON that is not a canonical order (float quantity, no lines) |
//! | `not-json`       | returns a string that is not JSON                                 |
//! | `log-spam`       | logs `lines` (default 10,000) lines, then returns the `ok` order  |
//! | `read-file`      | lists the preopens, reads `/`, `.`, `/etc/passwd`, writes under `/tmp` |
//! | `env`            | reads the environment, the arguments and the initial directory    |
//! | `clock`          | reads the wall clock, and the monotonic clock around busy work    |
//! | `random`         | reads `std`'s hash map keys and every WASI random source          |
//! | `random-bytes`   | asks `wasi:random/random` for `bytes` (default 65,536) bytes at once |
//! | `network`        | TCP connect and UDP send to 127.0.0.1:`port`, UDP bind, DNS lookup |
//! | `sleep`          | `std::thread::sleep` for `ms` (default 3,000) milliseconds        |
//! | `poll`           | `wasi:io/poll.poll` on a clock pollable `ms` milliseconds away    |
//!
//! The probing modes (`read-file` to `poll`) return the `ok` order with what
//! they saw in its `notes`, one finding per note's `text` (see `probes.rs`), so a
//! test reads them from the stored order as a user would. Orders are canonical
//! order v2.
//!
//! An unknown or missing mode is a plugin error with code `unknown-mode`.

use std::hint::black_box;

use jembatan_plugin_sdk::{
    Info, LogLevel, Message, Plugin, PluginError, PurchaseOrder, log, parse_config,
};
use serde::Deserialize;

mod probes;

/// The plugin; see the crate documentation.
pub struct TestHostile;

/// The attack to run.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    mode: Option<String>,
    /// Output size for `huge-output`; bytes asked for by `random-bytes`.
    bytes: Option<usize>,
    /// Number of lines for `log-spam`.
    lines: Option<usize>,
    /// Loopback port `network` tries to reach.
    port: Option<u16>,
    /// Milliseconds `sleep` and `poll` wait.
    ms: Option<u64>,
}

/// The order `ok` and `log-spam` return, valid against the canonical order v2
/// schema.
pub const OK_ORDER: &str = r#"{"version":"2","buyer_order_number":"HOSTILE-OK-1","issue_date":"2026-11-03","currency":"IDR","source":{"format":"test-hostile","syntax":"none"},"buyer":{"name":"Hostile Test Buyer"},"supplier":{"code":"HOSTILE-SUPPLIER"},"lines":[{"line_number":"1","item":{"description":"Knalpot uji"},"quantity":"1","unit":"H87","price":{"amount":"1000.00","base_quantity":"1"},"line_total":"1000.00"}]}"#;

/// JSON that says it is a v2 order but is not one: a float quantity and no lines.
pub const INVALID_ORDER: &str = r#"{"version":"2","buyer_order_number":"HOSTILE-BAD-1","issue_date":"2026-11-03","currency":"IDR","source":{"format":"test-hostile","syntax":"none"},"buyer":{"name":"Hostile Test Buyer"},"supplier":{"code":"HOSTILE-SUPPLIER"},"lines":[],"quantity":1.5}"#;

const MIB: usize = 1 << 20;

impl Plugin for TestHostile {
    fn info() -> Info {
        Info {
            name: "test-hostile",
            version: env!("CARGO_PKG_VERSION"),
            description: "Test-only plugin that misbehaves as its config says (loop, memory-bomb, huge-output, trap, ...).",
            content_types: &["application/json", "text/plain"],
        }
    }

    fn normalize(message: &Message, config: &str) -> Result<Vec<PurchaseOrder>, PluginError> {
        // Only reached through `normalize_json`'s `ok` path in tests; keep it honest.
        Self::normalize_json(message, config)?
            .iter()
            .map(|json| {
                serde_json::from_str(json)
                    .map_err(|e| PluginError::new("invalid-output", e.to_string()))
            })
            .collect()
    }

    // Overridden because most attacks return what typed orders cannot express.
    fn normalize_json(_message: &Message, config: &str) -> Result<Vec<String>, PluginError> {
        let config: Config = parse_config(config)?;
        match config.mode.as_deref().unwrap_or("") {
            "ok" => Ok(vec![OK_ORDER.to_owned()]),
            "loop" => spin(),
            "memory-bomb" => memory_bomb(),
            "huge-output" => Ok(huge_output(config.bytes.unwrap_or(100_000_000))),
            "trap" => panic!("test-hostile: trap requested"),
            "invalid-output" => Ok(vec![INVALID_ORDER.to_owned()]),
            "not-json" => Ok(vec!["this is not JSON {".to_owned()]),
            "log-spam" => {
                for i in 0..config.lines.unwrap_or(10_000) {
                    log(LogLevel::Info, &format!("test-hostile log line {i}"));
                }
                Ok(vec![OK_ORDER.to_owned()])
            }
            "read-file" => Ok(with_notes(probes::files())),
            "env" => Ok(with_notes(probes::env())),
            "clock" => Ok(with_notes(probes::clock())),
            "random" => Ok(with_notes(probes::random())),
            "random-bytes" => Ok(with_notes(probes::random_bytes(
                config.bytes.unwrap_or(65_536),
            ))),
            "network" => Ok(with_notes(probes::network(config.port.unwrap_or(9)))),
            "sleep" => Ok(with_notes(probes::sleep(config.ms.unwrap_or(3000)))),
            "poll" => Ok(with_notes(probes::poll(config.ms.unwrap_or(3000)))),
            other => Err(PluginError::new(
                "unknown-mode",
                format!(
                    "mode {other:?} is not one of ok, loop, memory-bomb, huge-output, trap, \
                     invalid-output, not-json, log-spam, read-file, env, clock, random, \
                     random-bytes, network, sleep, poll"
                ),
            )),
        }
    }
}

/// The `ok` order with `notes`: what a probing mode saw, one finding per note's
/// `text`.
fn with_notes(notes: Vec<String>) -> Vec<String> {
    let mut order: serde_json::Value = serde_json::from_str(OK_ORDER).expect("OK_ORDER is JSON");
    order["notes"] = notes
        .into_iter()
        .map(|text| serde_json::json!({ "text": text }))
        .collect();
    vec![order.to_string()]
}

fn spin() -> ! {
    let mut n: u64 = 0;
    loop {
        // black_box keeps the loop from being optimized into something the
        // interrupt check might not see; a real runaway loop does work too.
        n = black_box(n.wrapping_add(1));
    }
}

fn memory_bomb() -> ! {
    let mut hoard: Vec<Vec<u8>> = Vec::new();
    loop {
        // Filled, not just reserved, so the pages are really used.
        hoard.push(black_box(vec![0xA5; MIB]));
    }
}

/// `bytes` of output as 1 MiB strings, each a JSON order padded with a long note.
///
/// Built directly as JSON text so the plugin holds the output once, not twice;
/// the host's output limit, not its memory limit, should be what stops it.
fn huge_output(bytes: usize) -> Vec<String> {
    let prefix = &OK_ORDER[..OK_ORDER.len() - 1];
    let chunks = bytes.div_ceil(MIB).max(1);
    (0..chunks)
        .map(|_| {
            let mut order = String::with_capacity(MIB + OK_ORDER.len() + 16);
            order.push_str(prefix);
            order.push_str(r#","notes":[{"text":""#);
            let pad = MIB.saturating_sub(order.len() + 4);
            order.extend(std::iter::repeat_n('x', pad));
            order.push_str(r#""}]}"#);
            order
        })
        .collect()
}

jembatan_plugin_sdk::export_plugin!(TestHostile);

#[cfg(test)]
mod tests {
    use super::*;

    fn run(config: &str) -> Result<Vec<String>, PluginError> {
        TestHostile::normalize_json(&Message::new("application/json", "{}"), config)
    }

    #[test]
    fn ok_order_is_canonical() {
        let orders = TestHostile::normalize(&Message::default(), r#"{"mode":"ok"}"#).unwrap();
        assert_eq!(orders[0].buyer_order_number, "HOSTILE-OK-1");
        jembatan_plugin_sdk::testing::assert_schema_valid(&run(r#"{"mode":"ok"}"#).unwrap());
    }

    #[test]
    fn invalid_output_is_json_but_not_an_order() {
        let out = run(r#"{"mode":"invalid-output"}"#).unwrap();
        serde_json::from_str::<serde_json::Value>(&out[0]).expect("JSON");
        assert!(!jembatan_plugin_sdk::testing::schema_errors(&out[0]).is_empty());
    }

    #[test]
    fn not_json_is_not_json() {
        let out = run(r#"{"mode":"not-json"}"#).unwrap();
        assert!(serde_json::from_str::<serde_json::Value>(&out[0]).is_err());
    }

    #[test]
    fn huge_output_is_as_big_as_asked_and_each_part_is_json() {
        let out = run(r#"{"mode":"huge-output","bytes":3000000}"#).unwrap();
        let total: usize = out.iter().map(String::len).sum();
        assert_eq!(out.len(), 3);
        assert!(total >= 3_000_000, "{total}");
        serde_json::from_str::<serde_json::Value>(&out[0]).expect("JSON");
    }

    #[test]
    fn log_spam_returns_ok() {
        let out = run(r#"{"mode":"log-spam","lines":3}"#).unwrap();
        assert_eq!(out, [OK_ORDER]);
    }

    #[test]
    #[should_panic(expected = "trap requested")]
    fn trap_panics() {
        let _ = run(r#"{"mode":"trap"}"#);
    }

    #[test]
    fn probes_return_a_canonical_order_with_their_findings() {
        // Natively the probes see this machine; what matters here is the shape.
        // What they see inside the sandbox is tested by the gateway.
        for mode in ["read-file", "env", "clock", "random", "random-bytes"] {
            let out = run(&format!(r#"{{"mode":"{mode}"}}"#)).unwrap();
            jembatan_plugin_sdk::testing::assert_schema_valid(&out);
            let order: serde_json::Value = serde_json::from_str(&out[0]).unwrap();
            let notes = order["notes"].as_array().unwrap();
            assert!(!notes.is_empty(), "{mode}: {order}");
            assert!(
                notes.iter().all(|n| n["text"].is_string()),
                "{mode}: {order}"
            );
        }
    }

    #[test]
    fn unknown_mode_is_an_error() {
        assert_eq!(run(r#"{"mode":"nope"}"#).unwrap_err().code, "unknown-mode");
        assert_eq!(run("{}").unwrap_err().code, "unknown-mode");
    }
}
