//! Stock plugin `edifact-orders`: UN/EDIFACT ORDERS to canonical purchase orders
//! (v2, `schemas/purchase-order-v2.schema.json`).
//!
//! # Input
//!
//! Content types `application/edifact`, `application/edi-edifact`, `text/plain`.
//! The body is one or more interchanges (UNA? UNB … UNZ, optionally with UNG … UNE
//! groups) of messages (UNH … UNT), directory D (tested with D96A, D96B, D01B and
//! D03B). Each message is one transaction, counted through the body (index 0,
//! 1, …; control number UNH 0062; location the UNH): an ORDERS message is an
//! order, or refused with the first error found in it and its place; an ORDCHG
//! (order change) is refused `unsupported-purpose` (design decision 14); another
//! type (INVOIC, DESADV …) is not an order, of kind UNH 0065. One bad message
//! never refuses its siblings; `envelope.rs` has the rules, the README the table.
//!
//! The UNA service string advice, when present, sets the component and element
//! separators, the decimal mark, the release character, the repetition separator
//! (syntax version 4; `*` without a UNA) and the segment terminator; otherwise they
//! are `:+.? '`. Released characters (`?'`, `?+`, `?:`, `??`) are data. Numbers
//! take either `.` or `,` as their decimal mark, whatever the UNA says (ISO 9735
//! syntax version 4). A byte-order mark, line breaks between segments and trailing
//! blanks are ignored. Text is decoded per UNB 0001: UNOA/UNOB ASCII, UNOC ISO
//! 8859-1 (read as UTF-8, with a warning, when its bytes are UTF-8), UNOW/UNOY
//! UTF-8. The envelopes are checked as they close: UNT segment count (UNH to UNT)
//! and reference (= UNH 0062), UNE and UNZ counts and references (= UNG 0048, UNB
//! 0020), a missing UNE or UNZ after the last message. A disagreement is read past
//! with a warning (UNT's on its message, the others on the message as a whole)
//! unless the config says `"strict": true`: then it refuses the orders of the
//! envelope it is about.
//!
//! # Mapping (EDIFACT → canonical v2)
//!
//! The table is in `plugins/edifact-orders/README.md`. In short: every ORDERS
//! segment group (BGM, DTM, FTX, RFF, NAD with CTA/COM/RFF, TAX, CUX, PAT, TDT,
//! TOD, ALC, LIN with PIA, IMD, MEA, QTY, ALI, MOA, PRI, RFF, PAC, LOC, TAX, NAD,
//! ALC, SCC, and the summary MOA and CNT) is read into the canonical v2 field it has
//! (docs/canonical-order-v2.md §4.4); whatever a segment carries beyond those
//! fields is kept whole as an extension (namespace `edifact`, path such as
//! `LIN[2]/PRI`), so nothing read is dropped silently. A message without NAD+BY
//! gets the interchange sender (UNB S002) as the buyer's id.
//!
//! A buyer address or contact with no buyer name or id is refused
//! (`missing-segment`): a party needs one, and the address must not be dropped.
//!
//! DTM formats 102 (CCYYMMDD), 203 (CCYYMMDDHHMM), 204 (CCYYMMDDHHMMSS), 101
//! (YYMMDD, read as 20YY) and 718 (a period: earliest and latest) become ISO
//! dates; a time of day other than midnight is kept with its segment as an
//! extension and warned about (`time-dropped`). Units (6411) map through config
//! `unit_map` first; EDIFACT already uses UN/ECE Rec 20, so a well-formed code
//! passes through, the old piece codes PCE/PCS become H87, and any other code
//! becomes `ZZ` with the code in `unit_original` and the warning `unit-not-rec20`
//! (refused as `unknown-unit` when the config is strict). A quantity without a
//! unit gets config `default_unit`, else H87. Decimals are read exactly, with `.`
//! or `,` as the decimal mark. Warnings about the content are the order's
//! `warnings`; those about the envelope are the transaction's or the message's.
//!
//! # Config
//!
//! `{"default_currency", "default_unit", "unit_map": {"PCE": "H87"},
//! "supplier_code", "buyer_name", "strict"}`, every key optional. `"strict": true`
//! refuses the orders of an envelope whose counts, references or trailers disagree
//! with its content (`bad-segment-count`, `control-number-mismatch`, `truncated`
//! for a missing UNZ, `missing-segment` for a missing UNE, `unexpected-segment`
//! for a segment outside any message), where by default they are read past with a
//! warning: UNT's refuses its message, a group's every order of the group, an
//! interchange's every order of the interchange. It also refuses a unit outside
//! Rec 20 (`unknown-unit`) instead of reading it as `ZZ`.
//!
//! # Errors
//!
//! Each names what is wrong and where: offset, line and column of the component,
//! and a path such as `UNH[1]/LIN[3]/QTY/6060` or `UNH[2]/UNT/0074`. Codes of a
//! refused message: `invalid-value`, `missing-segment`, `unexpected-segment`,
//! `truncated`, `bad-segment-count`, `control-number-mismatch`, `bad-line-count`,
//! `unsupported-version`, `unsupported-purpose`, `unknown-unit`,
//! `invalid-encoding`. The whole body is refused only when it holds no message:
//! `empty-body`, `not-edifact` (saying what the input looks like instead),
//! `invalid-encoding`, `truncated` (a cut UNA), `unexpected-segment`,
//! `missing-segment`; and for `invalid-config`.

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
pub struct EdifactOrders;

impl Plugin for EdifactOrders {
    fn info() -> Info {
        Info {
            name: "edifact-orders",
            version: env!("CARGO_PKG_VERSION"),
            description: "UN/EDIFACT ORDERS interchanges, directories D96A to D03B, any UNA.",
            content_types: &[
                "application/edifact",
                "application/edi-edifact",
                "text/plain",
            ],
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

/// Answers an order with an ORDRSP; see `render.rs`.
impl RenderResponse for EdifactOrders {
    fn render_response(request: &ResponseRequest) -> Result<Rendered, PluginError> {
        render::render(request)
    }
}

#[cfg(feature = "component")]
jembatan_plugin_sdk::export_plugin!(EdifactOrders, render_response);

#[cfg(test)]
mod tests;
