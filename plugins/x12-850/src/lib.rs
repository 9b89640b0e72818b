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
//! | X12 | canonical |
//! |-----|-----------|
//! | (the plugin), `ST02` | `source`: `format` `x12-850`, `syntax` `X12`, `control_number` |
//! | `BEG03`, `BEG05` (CCYYMMDD; YYMMDD in 003xxx) | `buyer_order_number`, `issue_date` |
//! | `BEG01` `05` (replace) | `purpose` `replace`; `01` (cancellation) is refused as `unsupported-purpose` |
//! | header `CUR02`, else config `default_currency`, else IDR | `currency` |
//! | header `DTM*002` (`DTM02`, or `DTM05` D8 + `DTM06`) | `delivery.requested_date` |
//! | header `NTE02` / `MSG01` | `notes[].text` |
//! | `N1*BY`: `N102`; `N104`; its `N3`, `N4`; its `REF*TJ` | `buyer.name`; `buyer.ids[]` scheme `UNSPECIFIED`; `buyer.address`; `buyer.ids[]` scheme `TAX` |
//! | no `N1*BY` | config `buyer_name`, else no `buyer`: the gateway fills it from the buyer's registration |
//! | header `PER` or `PER` in `N1*BY`: `PER02`, `TE`/`EM` pairs | `buyer.contacts[0]` |
//! | `N1*SE` or `N1*VN`: `N104`, `N102`; else header `REF*VR`; else config `supplier_code` | `supplier.code`, `supplier.name` |
//! | `N1*ST`: `N301`, `N302`, `N401` city, `N402` region, `N403` postal code, `N404` country | `delivery.location.address` |
//! | each `PO1`: `PO101` (else its position), `PO102`, `PO103` (unit, below), `PO104` | `lines[]`: `line_number`, `quantity`, `unit`, `price` (`amount`, `base_quantity` 1) |
//! | `PO106`/`PO107` … pairs: `BP`/`IN` → buyer, `VP`/`VN` → supplier (first of each) | `item.ids[]` with `role` |
//! | `PID*F` `PID05` (several joined by newlines); `AMT*1`; `DTM*002`; `NTE`/`MSG` in the PO1 loop | `item.description`, `line_total`, `delivery.requested_date`, `notes[]` |
//! | `AMT*TT` (header or after CTT) | `totals.payable` |
//! | `CTT01` | checked against the number of PO1 (`bad-line-count`); `CTT02`, a hash total, is not checked |
//!
//! A buyer contact or address (`PER`, `N3`/`N4`) with no buyer name or id is refused
//! (`missing-segment`): a party needs one, and the contact must not be dropped.
//!
//! Units (`PO103`, X12 element 355) map through the config's `unit_map` first, then
//! a small table of codes that mean the same in both lists (`EA`→EA, `PC`→H87,
//! `UN`→C62, `BX`→BX, `CA`→CS, `DZ`→DZN, `PR`→PR, `ST`→SET, `KG`→KGM, `LB`→LBR,
//! `MR`→MTR, `FT`→FOT, … see `units.rs`); anything else is `unknown-unit`. A line
//! without `PO103` gets config `default_unit`, else H87. Decimals are read exactly as
//! explicit decimal text; N1 loops inside a PO1 loop (a line's own ship-to) are read past.
//!
//! # Config
//!
//! `{"default_currency", "default_unit", "unit_map": {"X12": "REC20"},
//! "supplier_code", "buyer_name", "strict"}`, every key optional. `strict: true`
//! refuses an interchange whose envelope counts or control numbers disagree
//! (`bad-segment-count`, `control-number-mismatch`, with the trailer's path such
//! as `GS[1]/GE/GE01` or `ISA[2]/IEA/IEA02`) instead of reading past them.
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
