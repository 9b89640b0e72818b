//! Helpers for the EDI plugins' unit tests (feature `testing`, for
//! `dev-dependencies` only).

use jembatan_plugin_sdk::{Message, Plugin, PluginError, PurchaseOrder};

/// What plugin `P` returns for `body` under `config`, as the host receives it;
/// the message carries `P`'s first content type.
pub fn json<P: Plugin>(body: &[u8], config: &str) -> Result<Vec<String>, PluginError> {
    P::normalize_json(&message::<P>(body), config)
}

/// The orders plugin `P` reads from `body` under `config`; panics on an error.
pub fn orders<P: Plugin>(body: &[u8], config: &str) -> Vec<PurchaseOrder> {
    P::normalize(&message::<P>(body), config).unwrap_or_else(|e| panic!("{e}"))
}

/// The error plugin `P` returns for `body` under `config`; panics if it succeeds.
pub fn error<P: Plugin>(body: &[u8], config: &str) -> PluginError {
    json::<P>(body, config).expect_err("should fail")
}

fn message<P: Plugin>(body: &[u8]) -> Message {
    Message::new(P::info().content_types[0], body)
}

/// The error's path, or `""` when it has none.
pub fn path(err: &PluginError) -> &str {
    err.location
        .as_ref()
        .and_then(|l| l.path.as_deref())
        .unwrap_or("")
}

/// The error's byte offset; panics when it has none.
pub fn offset(err: &PluginError) -> usize {
    err.location
        .as_ref()
        .and_then(|l| l.offset)
        .expect("offset") as usize
}

/// A fixture as text; panics unless it is UTF-8.
pub fn text(body: &[u8]) -> &str {
    std::str::from_utf8(body).unwrap()
}

/// The body with `from` replaced by `to` once; panics if `from` is not there.
pub fn edit(body: &[u8], from: &str, to: &str) -> Vec<u8> {
    assert!(text(body).contains(from), "fixture has no {from:?}");
    text(body).replacen(from, to, 1).into_bytes()
}
