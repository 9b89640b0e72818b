//! Stock plugin `edifact-orders`: UN/EDIFACT ORDERS to canonical purchase orders
//! (v2, `schemas/purchase-order-v2.schema.json`).
//!
//! # Input
//!
//! Content types `application/edifact`, `application/edi-edifact`, `text/plain`.
//! The body is one or more interchanges (UNA? UNB … UNZ, optionally with UNG … UNE
//! groups) of messages (UNH … UNT), directory D (tested with D96A, D96B, D01B and
//! D03B). Every ORDERS message becomes one order, in order; a message of another
//! type (e.g. INVOIC) is skipped with a warning in the log.
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
//! with a warning in the gateway's log unless the config says `"strict": true`.
//!
//! # Mapping (EDIFACT → canonical v2)
//!
//! | EDIFACT | canonical |
//! |---------|-----------|
//! | (the plugin), `UNH` 0062 | `source`: `format` `edifact-orders`, `syntax` `EDIFACT`, `control_number` |
//! | `BGM` 1004; 1225 `5` (replace); `1`/`3` (cancel, delete) refused | `buyer_order_number`; `purpose` `replace` |
//! | `DTM+137`, else `DTM+4` (order date, as some senders write it) | `issue_date` |
//! | `DTM+2` (header) | `delivery.requested_date` |
//! | `CUX` C504 6345 (first), else config `default_currency`, else IDR | `currency` |
//! | header `FTX` C108 texts (joined by spaces) | `notes[].text` |
//! | `NAD+BY`: C082 3039, C080 name (else C058), C059 street, 3164, C819, 3251, 3207; its `RFF+VA`; its `CTA` 3412 and `COM` TE/EM | `buyer`: `ids[]` scheme `UNSPECIFIED`, `name`, `address`; `ids[]` scheme `TAX`; `contacts[0]` |
//! | no `NAD+BY` | config `buyer_name`, else no `buyer`: the gateway fills it from the buyer's registration |
//! | `NAD+SU`: C082 3039 (else config `supplier_code`), name | `supplier.code`, `supplier.name` |
//! | `NAD+DP` or `NAD+ST` (first): street (C059 1; 2–4 joined), city, region (C819 3228 name, else 3229 code), postal code, country | `delivery.location.address` |
//! | each `LIN`: 1082 (else its position); C212 7140 by 7143 and `PIA` C212s: `SA`/`VN`/`VP` → supplier, `IN`/`BP` → buyer, `EN`/`SRV` → standard `GTIN`, `UP` → standard `UPC`, `IB` → standard `ISBN` (the first of each, in document order) | `lines[]`: `line_number`, `item.ids[]` with `role` (and `scheme`, `qualifier` 7143 for a standard id) |
//! | `IMD` C273 7008 (both, joined by a space; several IMD by newlines) | `item.description` |
//! | `QTY+21` (else `QTY+1`, as some senders write it) 6060 and 6411 (unit, below) | `quantity`, `unit` |
//! | `PRI+AAA` (net) else `PRI+AAB` (gross) 5118, for 5284 units (price basis, else 1), never divided | `price`: `amount`, `base_quantity`, `kind` `net`/`gross` |
//! | `MOA+203`, `DTM+2`, `FTX` in the LIN group | `line_total`, `delivery.requested_date`, `notes[]` |
//! | `MOA+79`; `MOA+86` else `+128`; `MOA+124` else `+176` | `totals.line_extension`, `.payable`, `.tax_total` |
//! | `CNT+2` | checked against the number of LIN (`bad-line-count`) |
//!
//! A buyer address or contact with no buyer name or id is refused
//! (`missing-segment`): a party needs one, and the address must not be dropped.
//!
//! DTM formats 102 (CCYYMMDD), 203 (CCYYMMDDHHMM), 204 (CCYYMMDDHHMMSS), 101
//! (YYMMDD, read as 20YY) and 718 (a period: its start) become ISO dates; a time
//! of day is dropped, as the canonical order has dates only. Units (6411) map
//! through config `unit_map` first; EDIFACT already uses UN/ECE Rec 20, so a
//! well-formed code passes through, and the old piece codes PCE/PCS become H87.
//! A quantity without a unit gets config `default_unit`, else H87. Decimals are
//! read exactly, with `.` or `,` as the decimal mark.
//!
//! # Config
//!
//! `{"default_currency", "default_unit", "unit_map": {"PCE": "H87"},
//! "supplier_code", "buyer_name", "strict"}`, every key optional. `"strict": true`
//! refuses an interchange whose envelope counts or references disagree with its
//! content (`bad-segment-count`, `control-number-mismatch`, `truncated` for a
//! missing UNZ), where by default they are read past with a logged warning.
//!
//! # Errors
//!
//! Each names what is wrong and where: offset, line and column of the component,
//! and a path such as `UNH[1]/LIN[3]/QTY/6060` or `UNH[2]/UNT/0074`. Codes:
//! `empty-body`, `not-edifact` (saying what the input looks like instead),
//! `invalid-encoding`, `truncated` (no UNZ, a cut UNA), `bad-segment-count`,
//! `control-number-mismatch`, `bad-line-count`, `missing-segment`,
//! `unexpected-segment`, `unsupported-message`, `unsupported-version`,
//! `unsupported-purpose`, `invalid-value`, `unknown-unit`, `invalid-config`.

mod envelope;
mod lex;
mod map;
mod units;

use edi_common::Config;
use jembatan_plugin_sdk::{Info, Message, Plugin, PluginError, PurchaseOrder};

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

    fn normalize(message: &Message, config: &str) -> Result<Vec<PurchaseOrder>, PluginError> {
        let config = Config::parse(config)?;
        envelope::read(&message.body, &config)
    }
}

jembatan_plugin_sdk::export_plugin!(EdifactOrders);

#[cfg(test)]
mod tests;
