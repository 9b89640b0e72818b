//! Stock plugin `x12-850`: ANSI X12 850 Purchase Order to canonical purchase orders
//! (v2, `schemas/purchase-order-v2.schema.json`).
//!
//! # Input
//!
//! Content types `application/edi-x12`, `application/edi`, `text/plain`. The body
//! is one or more X12 interchanges (ISA … IEA) holding functional groups (GS … GE)
//! of transaction sets (ST … SE), in versions 003xxx (six-digit dates), 004xxx and
//! 005xxx (GS08).
//!
//! The delimiters come from the ISA: the byte after `ISA` separates elements, ISA16
//! separates components, and the byte after ISA16 ends segments (`*`/`>`/`~` and
//! `|`/`^`/newline alike), read per interchange; see `lex.rs` for what is tolerated
//! (short ISAs, non-breaking-space padding, a space terminator, control characters).
//!
//! # Outcomes
//!
//! One per transaction set, counted through the whole body (index 0, 1, …; control
//! number ST02; location the ST): an 850 is an order, or refused with the first
//! error found in it and its place; an 860 (order change) is refused
//! `unsupported-purpose`; any other set (810, 855, 997 …) is not an order, of
//! kind ST01. One bad set never refuses its siblings. `envelope.rs` has the rules
//! and the README the table.
//!
//! The envelopes are checked as they close: SE01 (segments from ST to SE), GE01
//! (sets), IEA01 (groups) and the control numbers ST02 = SE02, GS06 = GE02,
//! ISA13 = IEA02, the trailers GE and IEA, and segments outside any set. What
//! disagrees is read past with a warning (on the set for SE, else on the
//! message), or with config `strict` refuses the orders of that envelope.
//!
//! # Mapping (X12 → canonical v2)
//!
//! The table, element by element with its sources, is in the crate's `README.md`.
//! In short: BEG, CUR, REF/N9, PER, FOB, ITD, DTM, TD5, N1 loops (N2, N3, N4), MSG/NTE,
//! SAC, TXI, AMT and CTT of the header, and per PO1 loop PO1 (unit, price with its
//! PO105 basis, the ten id pairs), PID, MEA, PO4, SCH, REF, DTM, SAC, TXI, AMT and
//! the line's N1*ST, each to its v2 field; whatever has no field becomes an
//! extension (`x12`, path `PO1[3]/PO110`), so nothing read is dropped. Without an
//! N1*BY the interchange sender (ISA05/ISA06, GS02) is the buyer's id. A unit
//! outside the tables is kept as `ZZ` with `unit_original` and a warning
//! `unit-not-rec20` (refused with `strict`). Decimals are read exactly as written.
//!
//! # Config
//!
//! `{"default_currency", "default_unit", "unit_map": {"X12": "REC20"},
//! "supplier_code", "buyer_name", "strict"}`, every key optional (`buyer_name` is
//! deprecated: the envelope names the buyer). `strict: true` refuses, instead of
//! reading past, envelope counts, control numbers and trailers that disagree
//! (`bad-segment-count`, `control-number-mismatch`, `missing-segment`,
//! `truncated`, `unexpected-segment`, with the path such as `GS[1]/GE/GE01` or
//! `ISA[2]/IEA/IEA02`): the set's own (SE) refuses the set, a group's every order
//! of the group, an interchange's every order of the interchange. It also refuses
//! a unit outside the tables (`unknown-unit`) in the set that has it.
//!
//! # Errors
//!
//! Each names what is wrong and where: the offset, line and column of the element,
//! and a path such as `ST[2]/PO1[3]/PO102` or `GS[1]/GE/GE01`. Codes of a refused
//! set: `invalid-value`, `missing-segment`, `unexpected-segment`, `truncated`,
//! `bad-segment-count`, `control-number-mismatch`, `bad-line-count`,
//! `unsupported-version`, `unsupported-purpose`, `unknown-unit`,
//! `invalid-encoding`. The whole message is refused only when the body holds no
//! transaction set: `empty-body`, `not-x12` (saying what the input looks like
//! instead), `truncated` (a cut ISA), `invalid-value` (an ISA that cannot be read),
//! `unexpected-segment`, `missing-segment`; and for `invalid-config`.

mod codes;
mod envelope;
mod lex;
mod map;
mod render;
mod units;

use edi_common::Config;
use jembatan_plugin_sdk::{
    Info, Message, Normalized, Plugin, PluginError, RenderResponse, Rendered, ResponseRequest,
};

/// The plugin; see the crate documentation.
pub struct X12Order;

impl Plugin for X12Order {
    fn info() -> Info {
        Info {
            name: "x12-850",
            version: env!("CARGO_PKG_VERSION"),
            description: "ANSI X12 850 Purchase Order interchanges, versions 003xxx to 005xxx.",
            content_types: &["application/edi-x12", "application/edi", "text/plain"],
        }
    }

    /// The config as [`Plugin::normalize`] reads it, refused at bind time.
    fn check_config(config: &str) -> Result<(), PluginError> {
        Config::parse(config).map(drop)
    }

    fn normalize(message: &Message, config: &str) -> Result<Normalized, PluginError> {
        let config = Config::parse(config)?;
        envelope::read(&message.body, &config)
    }
}

/// Answers an order with an X12 855; see `render.rs`.
impl RenderResponse for X12Order {
    fn render_response(request: &ResponseRequest) -> Result<Rendered, PluginError> {
        render::render(request)
    }
}

#[cfg(feature = "component")]
jembatan_plugin_sdk::export_plugin!(X12Order, render_response);

#[cfg(test)]
mod corpus_tests;
#[cfg(test)]
mod tests;
