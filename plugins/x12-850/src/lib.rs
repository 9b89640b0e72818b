//! Stock plugin `x12-850`: ANSI X12 850 Purchase Order to canonical purchase orders
//! (v2, `schemas/purchase-order-v2.schema.json`).
//!
//! # Input
//!
//! Content types `application/edi-x12`, `application/edi`, `text/plain`. The body
//! is one or more X12 interchanges (ISA … IEA) holding functional groups (GS … GE)
//! of transaction sets (ST … SE). Every 850 becomes one order, in order, whatever
//! its group's GS01 (`PO`, but `IN` and `OW` are sent too), in versions 003xxx
//! (six-digit dates), 004xxx and 005xxx (GS08). Other transaction sets (an 810
//! beside the 850s) are read past and logged at warn level.
//!
//! The delimiters come from the ISA: the byte after `ISA` separates elements, ISA16
//! separates components, and the byte after ISA16 ends segments (`*`/`>`/`~` and
//! `|`/`^`/newline alike), read per interchange; see `lex.rs` for what is tolerated
//! (short ISAs, non-breaking-space padding, a space terminator, control characters).
//! The envelopes are checked as they close: SE01 (segments from ST to SE), GE01
//! (sets), IEA01 (groups) and the control numbers ST02 = SE02, GS06 = GE02,
//! ISA13 = IEA02; a mismatch is logged at warn level and read past, or refused
//! with config `strict`.
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
//! deprecated: the envelope names the buyer). `strict: true` refuses an interchange
//! whose envelope counts or control numbers disagree (`bad-segment-count`,
//! `control-number-mismatch`, with the trailer's path such as `GS[1]/GE/GE01` or
//! `ISA[2]/IEA/IEA02`) instead of reading past them, and a unit outside the tables
//! (`unknown-unit`).
//!
//! # Errors
//!
//! Each names what is wrong and where: the offset, line and column of the element,
//! and a path such as `ST[2]/PO1[3]/PO102` or `GS[1]/GE/GE01`. Codes: `empty-body`,
//! `not-x12` (saying what the input looks like instead), `invalid-encoding`,
//! `truncated` (no IEA, a cut ISA), `bad-segment-count`, `control-number-mismatch`,
//! `bad-line-count`, `missing-segment`, `unexpected-segment`,
//! `unsupported-transaction` (no 850 in the body), `unsupported-version`, `unsupported-purpose`,
//! `invalid-value`, `unknown-unit`, `invalid-config`.

mod codes;
mod envelope;
mod lex;
mod map;
mod units;

use edi_common::Config;
use jembatan_plugin_sdk::{Info, Message, Plugin, PluginError, PurchaseOrder};

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

    fn normalize(message: &Message, config: &str) -> Result<Vec<PurchaseOrder>, PluginError> {
        let config = Config::parse(config)?;
        envelope::read(&message.body, &config)
    }
}

jembatan_plugin_sdk::export_plugin!(X12Order);

#[cfg(test)]
mod corpus_tests;
#[cfg(test)]
mod tests;
