//! What the EDI stock plugins share.
//!
//! `x12-850` and `edifact-orders` read different syntaxes but build the same thing:
//! an [`OrderDraft`] (the SDK's) filled segment by segment, finished into a canonical
//! order v2 ([`PurchaseOrder`](jembatan_plugin_sdk::PurchaseOrder)) once the message ends with
//! [`Config::defaults`]. The value readers (decimals, dates, codes), the plugin config and the
//! "what does this input look like instead" sniffing live here once, so the two
//! plugins cannot drift apart on them. Everything syntax-specific (separators,
//! envelopes, segment names, paths) stays in the plugin crates.

mod config;
pub mod envelope;
mod outcomes;
mod sniff;
#[cfg(feature = "testing")]
pub mod testing;
pub mod values;

pub use config::Config;
/// The draft is the SDK's, shared with every other stock plugin.
pub use jembatan_plugin_sdk::draft::{
    DEFAULT_UNIT, Field, LineDraft, OrderDraft, append, first, has_item_id, item_id, note,
    party_id, set_once, unit_price,
};
pub use outcomes::Outcomes;
pub use sniff::{describe, skip_preamble};

use jembatan_plugin_sdk::PluginError;

/// An error at `offset` of `body`, with a path such as `ST[2]/PO1[3]/PO102`.
pub fn error_at(
    code: &str,
    message: impl Into<String>,
    body: &[u8],
    offset: usize,
    path: impl Into<String>,
) -> PluginError {
    PluginError::at_offset(code, message, body, offset).at_path(path)
}

/// The byte offset of `part` in `body`; `part` must be a slice of `body`'s text
/// (the lexers hand out such slices, so the offset costs nothing to keep).
pub fn offset_of(body: &[u8], part: &str) -> usize {
    (part.as_ptr() as usize)
        .saturating_sub(body.as_ptr() as usize)
        .min(body.len())
}
