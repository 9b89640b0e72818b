//! Helpers for the EDI plugins' unit tests (feature `testing`, for
//! `dev-dependencies` only); the ones every plugin wants (running it, an error's
//! path) are the SDK's, in `jembatan_plugin_sdk::testing`.

use jembatan_plugin_sdk::PluginError;

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
