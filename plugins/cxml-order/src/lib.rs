//! Stock plugin `cxml-order`: cXML `OrderRequest` documents to canonical purchase
//! orders (v2, `schemas/purchase-order-v2.schema.json`).
//!
//! # Input
//!
//! Content types `application/xml`, `text/xml`. The body is one cXML document
//! (any 1.2.x version) whose `Request` holds an `OrderRequest`. A `DOCTYPE` is
//! skipped, never fetched. Elements are matched by local name, so a document that
//! puts cXML in a namespace or under a prefix reads the same; an element the
//! mapping does not name is kept whole as an extension.
//!
//! # Mapping
//!
//! The mapping table (cXML path → canonical v2 field, with the DTD references) is
//! in this crate's `README.md`. In short: everything the order carries that
//! canonical order v2 has a field for goes there; every other element and
//! attribute is kept as a `cxml` extension with its source path; card data
//! (`Payment/PCard`) is never stored, a `sensitive-data-dropped` warning says so.
//!
//! # Config
//!
//! Every key optional: `{"default_currency": "IDR", "default_unit": "H87",
//! "supplier_code": "PBG-01", "supplier_domain": "SupplierID", "buyer_name":
//! "PT Mitra Otoparts", "buyer_id": "MO-JKT", "line_total_extrinsic": "LineTotal"}`.
//!
//! # Outcomes
//!
//! One document, one transaction, named by its `payloadID`: the order; refused
//! (`missing-field` naming the cXML path, `/cXML/Request/OrderRequest/ItemOut[2]/@quantity`;
//! `invalid-value` for a bad decimal, date, code or a second currency, with its
//! path, line and column; `unsupported-purpose` for `type="delete"`); or not an
//! order (another request, a message, a response: kind `ProfileRequest` …).
//!
//! # Errors
//!
//! The whole message is refused only when it cannot be read as cXML:
//! `empty-body`; `malformed-xml` with line and column; `not-an-order` naming the
//! root element found when it is not `cXML` (a UBL `<Order>`, say), or for cXML
//! with no request, response or message; `invalid-config`.

mod draft;
mod names;
mod parse;

use jembatan_plugin_sdk::{
    Info, Message, Normalized, Plugin, PluginError, check_defaults, check_not_blank, parse_config,
};
use serde::Deserialize;

/// The plugin; see the crate documentation.
pub struct CxmlOrder;

/// The buyer's plugin config; see the crate documentation.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Currency when no `Money` has a `currency`; IDR if absent.
    pub default_currency: Option<String>,
    /// Unit when an item has no `UnitOfMeasure`; H87 (piece) if absent.
    pub default_unit: Option<String>,
    /// Supplier code when the header's `To` names no identity.
    pub supplier_code: Option<String>,
    /// Only a `To/Credential` of this `domain` names the supplier.
    pub supplier_domain: Option<String>,
    /// Buyer name when there is no `BillTo/Address/Name`.
    pub buyer_name: Option<String>,
    /// Buyer id when there is neither `BillTo/Address@addressID` nor a `From` identity.
    pub buyer_id: Option<String>,
    /// The `Extrinsic@name` that states a line's total; it goes before a line's
    /// one `Distribution/Charge`.
    pub line_total_extrinsic: Option<String>,
}

impl Config {
    fn parse(text: &str) -> Result<Self, PluginError> {
        let config: Self = parse_config(text)?;
        check_defaults(
            config.default_currency.as_deref(),
            config.default_unit.as_deref(),
        )?;
        check_not_blank([
            ("supplier_code", &config.supplier_code),
            ("supplier_domain", &config.supplier_domain),
            ("buyer_name", &config.buyer_name),
            ("buyer_id", &config.buyer_id),
            ("line_total_extrinsic", &config.line_total_extrinsic),
        ])?;
        Ok(config)
    }
}

impl Plugin for CxmlOrder {
    fn info() -> Info {
        Info {
            name: "cxml-order",
            version: env!("CARGO_PKG_VERSION"),
            description: "cXML 1.2 OrderRequest documents, with or without DOCTYPE or prefixes.",
            content_types: &["application/xml", "text/xml"],
        }
    }

    /// The config as [`Plugin::normalize`] reads it, refused at bind time.
    fn check_config(config: &str) -> Result<(), PluginError> {
        Config::parse(config).map(drop)
    }

    fn normalize(message: &Message, config: &str) -> Result<Normalized, PluginError> {
        let config = Config::parse(config)?;
        parse::parse(&message.body, &config)
    }
}

#[cfg(feature = "component")]
jembatan_plugin_sdk::export_plugin!(CxmlOrder);

#[cfg(test)]
mod tests;
