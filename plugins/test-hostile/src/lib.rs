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
//! | `env`            | reads the environment, the arguments and the initial directory    |
//! | `clock`          | reads the wall clock, and the monotonic clock around busy work    |
//! | `random`         | reads `std`'s hash map keys and every WASI random source          |
//! | `random-bytes`   | asks `wasi:random/random` for `bytes` (default 65,536) bytes at once |
//! | `sleep`          | `std::thread::sleep` for `ms` (default 3,000) milliseconds        |
//! | `poll`           | `wasi:io/poll.poll` on a clock pollable `ms` milliseconds away    |
//! | `mixed`          | four transactions: the `ok` order, the `invalid-output` one, a refusal, an 810 |
//! | `duplicate-index`| two `ok` orders, both at index 0                                  |
//! | `no-transactions`| succeeds with no transaction at all                              |
//!
//! Every mode that returns orders returns them as one transaction each, at
//! index 0, 1, … (WIT `jembatan:plugin@0.2.0`); `huge-output` returns one
//! transaction per MiB. The probing modes (`env` to `poll`) return the
//! `ok` order with what they saw in its `notes`, one finding per note's `text`
//! (see `probes.rs`), so a test reads them from the stored order as a user
//! would. The last three break the contract's rules on outcomes, for the host's
//! checks of them: `mixed` (control numbers `0001` to `0004`, a warning on the
//! refused transaction and one on the message) needs the host to refuse only
//! the invalid order; the other two break "indexes unique and ascending" and
//! "at least one transaction". Orders are canonical order v2.
//!
//! An unknown or missing mode is a plugin error with code `unknown-mode`.

use std::hint::black_box;

use jembatan_plugin_sdk::{
    Info, LogLevel, Message, Normalized, Outcome, Plugin, PluginError, Transaction, TransactionId,
    Warning, log, parse_config,
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

    fn normalize(message: &Message, config: &str) -> Result<Normalized, PluginError> {
        // Only reached through `normalize_json`'s `ok` path in tests; keep it honest:
        // what is no order in the JSON is refused, as the host would.
        let json = Self::normalize_json(message, config)?;
        Ok(Normalized {
            transactions: json
                .transactions
                .into_iter()
                .map(|t| Transaction {
                    id: t.id,
                    outcome: match t.outcome {
                        Outcome::Order(json) => match serde_json::from_str(&json) {
                            Ok(order) => Outcome::Order(Box::new(order)),
                            Err(e) => {
                                Outcome::Refused(PluginError::new("invalid-output", e.to_string()))
                            }
                        },
                        Outcome::Refused(error) => Outcome::Refused(error),
                        Outcome::NotAnOrder { kind, reason } => {
                            Outcome::NotAnOrder { kind, reason }
                        }
                    },
                    warnings: t.warnings,
                })
                .collect(),
            warnings: json.warnings,
        })
    }

    // Overridden because most attacks return what typed orders cannot express.
    fn normalize_json(_message: &Message, config: &str) -> Result<Normalized<String>, PluginError> {
        let config: Config = parse_config(config)?;
        let orders = match config.mode.as_deref().unwrap_or("") {
            "ok" => vec![OK_ORDER.to_owned()],
            "loop" => spin(),
            "memory-bomb" => memory_bomb(),
            "huge-output" => huge_output(config.bytes.unwrap_or(100_000_000)),
            "trap" => panic!("test-hostile: trap requested"),
            "invalid-output" => vec![INVALID_ORDER.to_owned()],
            "not-json" => vec!["this is not JSON {".to_owned()],
            "log-spam" => {
                for i in 0..config.lines.unwrap_or(10_000) {
                    log(LogLevel::Info, &format!("test-hostile log line {i}"));
                }
                vec![OK_ORDER.to_owned()]
            }
            "env" => with_notes(probes::env()),
            "clock" => with_notes(probes::clock()),
            "random" => with_notes(probes::random()),
            "random-bytes" => with_notes(probes::random_bytes(config.bytes.unwrap_or(65_536))),
            "sleep" => with_notes(probes::sleep(config.ms.unwrap_or(3000))),
            "poll" => with_notes(probes::poll(config.ms.unwrap_or(3000))),
            "memory" => with_notes(probes::memory()),
            "mixed" => return Ok(mixed()),
            "duplicate-index" => {
                let at_zero =
                    || Transaction::new(TransactionId::new(0), Outcome::Order(OK_ORDER.to_owned()));
                return Ok(Normalized::new(vec![at_zero(), at_zero()]));
            }
            "no-transactions" => return Ok(Normalized::new(Vec::new())),
            other => {
                return Err(PluginError::new(
                    "unknown-mode",
                    format!(
                        "mode {other:?} is not one of ok, loop, memory-bomb, huge-output, trap, \
                         invalid-output, not-json, log-spam, env, clock, random, random-bytes, \
                         sleep, poll, memory, mixed, duplicate-index, no-transactions"
                    ),
                ));
            }
        };
        Ok(Normalized::new(
            orders
                .into_iter()
                .zip(0..)
                .map(|(json, index)| {
                    Transaction::new(TransactionId::new(index), Outcome::Order(json))
                })
                .collect(),
        ))
    }
}

/// `mixed`: one transaction of each kind, the second an order the host must
/// refuse (`invalid-output`'s), with warnings on a transaction and the message.
fn mixed() -> Normalized<String> {
    let id =
        |index: u32| TransactionId::new(index).with_control_number(format!("000{}", index + 1));
    let warning = |code: &str, message: &str| Warning {
        code: code.to_owned(),
        message: message.to_owned(),
        path: Some("ST[3]".to_owned()),
        field: None,
    };
    let mut refused = Transaction::refused(
        id(2),
        PluginError::new("test-refused", "test-hostile refuses this transaction").at_path("ST[3]"),
    );
    refused.warnings.push(warning(
        "test-warning",
        "a warning on a refused transaction",
    ));
    Normalized {
        transactions: vec![
            Transaction::new(id(0), Outcome::Order(OK_ORDER.to_owned())),
            Transaction::new(id(1), Outcome::Order(INVALID_ORDER.to_owned())),
            refused,
            Transaction::not_an_order(id(3), "810", Some("an invoice, for the test".to_owned())),
        ],
        warnings: vec![warning("test-message-warning", "a warning on the message")],
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

    fn normalized(config: &str) -> Result<Normalized<String>, PluginError> {
        TestHostile::normalize_json(&Message::new("application/json", "{}"), config)
    }

    /// The orders returned, one transaction each at index 0, 1, ….
    fn run(config: &str) -> Result<Vec<String>, PluginError> {
        let out = normalized(config)?;
        Ok(out
            .transactions
            .into_iter()
            .zip(0..)
            .map(|(t, index)| {
                assert_eq!(t.id, TransactionId::new(index));
                match t.outcome {
                    Outcome::Order(json) => json,
                    other => panic!("{other:?}"),
                }
            })
            .collect())
    }

    #[test]
    fn ok_order_is_canonical() {
        let out = TestHostile::normalize(&Message::default(), r#"{"mode":"ok"}"#).unwrap();
        let order = out.orders().next().unwrap();
        assert_eq!(order.buyer_order_number, "HOSTILE-OK-1");
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
        for mode in ["env", "clock", "random", "random-bytes"] {
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
    fn outcome_modes_break_the_rules_they_name() {
        let mixed = normalized(r#"{"mode":"mixed"}"#).unwrap();
        assert_eq!(
            jembatan_plugin_sdk::testing::outcomes(&mixed),
            [
                "0 0001 order HOSTILE-OK-1",
                "1 0002 order HOSTILE-BAD-1",
                "2 0003 refused test-refused at ST[3]",
                "3 0004 not-an-order 810"
            ]
        );
        assert_eq!(
            (mixed.transactions[2].warnings.len(), mixed.warnings.len()),
            (1, 1)
        );
        // The typed reading refuses the order that is not one, as the host will.
        let typed = TestHostile::normalize(&Message::default(), r#"{"mode":"mixed"}"#).unwrap();
        assert!(
            matches!(&typed.transactions[1].outcome, Outcome::Refused(e) if e.code == "invalid-output")
        );

        let duplicate = normalized(r#"{"mode":"duplicate-index"}"#).unwrap();
        let indexes: Vec<u32> = duplicate.transactions.iter().map(|t| t.id.index).collect();
        assert_eq!(indexes, [0, 0]);
        let none = normalized(r#"{"mode":"no-transactions"}"#).unwrap();
        assert!(none.transactions.is_empty());
    }

    #[test]
    fn unknown_mode_is_an_error() {
        assert_eq!(run(r#"{"mode":"nope"}"#).unwrap_err().code, "unknown-mode");
        assert_eq!(run("{}").unwrap_err().code, "unknown-mode");
    }
}
