//! Realistic purchase orders of any number of lines, in every format a stock
//! plugin reads: an auto-parts distributor in Bekasi orders exhaust parts from a
//! workshop in Purbalingga, in IDR.
//!
//! `ubl` and `canonical_json` are the bodies the HTTP scenarios post; they keep
//! their original one-part-per-line shape so HTTP figures stay comparable across
//! runs. The other formats render the same [`Line`]s from a small catalogue
//! modelled on the plugins' fixtures (mixed units, prices from Rp 1.250 to
//! Rp 1.150.000), so their sizes and costs can be compared with each other.

mod cxml;
mod edifact;
mod json;
mod ubl;
mod x12;

pub use json::{MINIMAL_CANONICAL, canonical_json};
pub use ubl::ubl;

use jembatan_schemas::PurchaseOrder;

/// The canonical order that [`ubl`] and [`canonical_json`] of `lines` lines both
/// stand for (same number, supplier, date, currency and lines): what the checks
/// expect the gateway to answer and store for either.
pub fn http_canonical(lines: usize) -> PurchaseOrder {
    serde_json::from_slice(&canonical_json(lines)).expect("the bench's canonical order parses")
}

/// One stock plugin and how to feed it an order of any size.
pub struct Format {
    /// The stock plugin's name.
    pub plugin: &'static str,
    /// The content type the message arrives with.
    pub content_type: &'static str,
    /// The buyer's plugin config the gateway would pass.
    pub config: &'static str,
    /// An order of the given number of lines, as the plugin reads it.
    pub order: fn(usize) -> Vec<u8>,
}

/// Every stock plugin, each with a generator its fixtures are the model for.
pub const FORMATS: [Format; 6] = [
    Format {
        plugin: "ubl-order",
        content_type: "application/xml",
        config: "{}",
        order: ubl,
    },
    Format {
        plugin: "canonical-json",
        content_type: "application/json",
        config: "{}",
        order: canonical_json,
    },
    Format {
        plugin: "cxml-order",
        content_type: "application/xml",
        config: cxml::CONFIG,
        order: cxml::order_request,
    },
    Format {
        plugin: "x12-850",
        content_type: "application/edi-x12",
        config: "{}",
        order: x12::interchange,
    },
    Format {
        plugin: "edifact-orders",
        content_type: "application/edifact",
        config: "{}",
        order: edifact::interchange,
    },
    Format {
        plugin: "json-map",
        content_type: "application/json",
        config: json::MAP_CONFIG,
        order: json::buyer_erp,
    },
];

/// The order's own number, the same in every format.
const ORDER_NUMBER: &str = "PO-MO-2026-11-0917";
/// Buyer and supplier, as their documents name them.
const BUYER_NAME: &str = "PT Mitra Otoparts Indonesia";
const BUYER_ID: &str = "MO-BKS";
const SUPPLIER_CODE: &str = "PBG-017";
const SUPPLIER_NAME: &str = "Bengkel Knalpot Sumber Rejeki";

/// A unit of measure, spelled differently by each format.
#[derive(Clone, Copy)]
enum Unit {
    Piece,
    Kilogram,
    Set,
    Metre,
    Pair,
}

impl Unit {
    /// UN/ECE Recommendation 20, as UBL, cXML and EDIFACT write it.
    fn rec20(self) -> &'static str {
        match self {
            Unit::Piece => "H87",
            Unit::Kilogram => "KGM",
            Unit::Set => "SET",
            Unit::Metre => "MTR",
            Unit::Pair => "PR",
        }
    }

    /// X12 data element 355.
    fn x12(self) -> &'static str {
        match self {
            Unit::Piece => "PC",
            Unit::Kilogram => "KG",
            Unit::Set => "ST",
            Unit::Metre => "MR",
            Unit::Pair => "PR",
        }
    }

    /// The buyer ERP's own codes, which json-map's fixture config maps.
    fn erp(self) -> &'static str {
        match self {
            Unit::Piece => "PCS",
            Unit::Kilogram => "KG",
            Unit::Set => "SET",
            Unit::Metre => "MTR",
            Unit::Pair => "PSG",
        }
    }
}

/// Supplier part, description, unit and unit price in whole rupiah.
const CATALOGUE: [(&str, &str, Unit, u64); 8] = [
    (
        "KNL-RXK-304",
        "Knalpot racing Yamaha RX-King, stainless 304",
        Unit::Piece,
        385_000,
    ),
    (
        "KNL-SPX-125",
        "Knalpot standar Honda Supra X 125",
        Unit::Piece,
        245_000,
    ),
    (
        "BRK-BEAT-01",
        "Braket footstep Honda Beat",
        Unit::Piece,
        18_500,
    ),
    (
        "PLT-GRD-3MM",
        "Pelat besi guard mesin 3 mm",
        Unit::Kilogram,
        32_000,
    ),
    (
        "SET-VSP-01",
        // The `+` needs EDIFACT's release character: a generator that forgets
        // it makes the plugin fail, not the figure look good.
        "Knalpot set Vespa Sprint (leher + silencer)",
        Unit::Set,
        1_150_000,
    ),
    ("PIPA-SS-32", "Pipa stainless 32 mm", Unit::Metre, 96_000),
    ("GSK-KNL-02", "Gasket knalpot tembaga", Unit::Pair, 7_500),
    ("BAUT-M8-50", "Baut M8x50 galvanis", Unit::Piece, 1_250),
];

/// One order line; line `n` of every order is the same.
struct Line {
    number: usize,
    supplier_item: String,
    buyer_item: String,
    description: &'static str,
    unit: Unit,
    quantity: u64,
    unit_price: u64,
}

impl Line {
    fn nth(number: usize) -> Self {
        let (part, description, unit, unit_price) = CATALOGUE[(number - 1) % CATALOGUE.len()];
        Self {
            number,
            // A size or colour variant per line, so no two lines share a part.
            supplier_item: format!("LJ-{part}-{number:03}"),
            buyer_item: format!("MO-{}", 10_000 + number),
            description,
            unit,
            quantity: 4 + (number as u64 * 37) % 120,
            unit_price,
        }
    }

    /// The stated line total in whole rupiah.
    fn total(&self) -> u64 {
        self.quantity * self.unit_price
    }
}

/// Lines 1 to `count`.
fn lines(count: usize) -> impl Iterator<Item = Line> {
    (1..=count).map(Line::nth)
}

/// The sum of the line totals of an order of `count` lines.
fn subtotal(count: usize) -> u64 {
    lines(count).map(|line| line.total()).sum()
}

/// An amount in sen as plain decimal text: `1250000.50`.
fn decimal(sen: u64) -> String {
    format!("{}.{:02}", sen / 100, sen % 100)
}
