//! Stock plugin `cxml-order`: cXML `OrderRequest` documents to canonical purchase
//! orders (v2, `schemas/purchase-order-v2.schema.json`).
//!
//! # Input
//!
//! Content types `application/xml`, `text/xml`. The body is one cXML document
//! (any 1.2.x version) whose `Request` holds an `OrderRequest`. A `DOCTYPE` is
//! skipped, never fetched. Elements are matched by local name, so a document that
//! puts cXML in a namespace or under a prefix reads the same; elements the mapping
//! does not name are skipped with their subtree.
//!
//! # Mapping (cXML path → canonical v2 field)
//!
//! Paths below `OrderRequest` are abbreviated: `ORH` is `OrderRequestHeader`.
//!
//! | cXML | canonical |
//! |------|-----------|
//! | (the plugin) | `source`: `format` `cxml-order`, `syntax` `cXML` |
//! | `ORH@orderID` | `buyer_order_number` |
//! | `ORH@orderDate` (ISO 8601 date or datetime; the day as written, zone not applied) | `issue_date` |
//! | `ORH/Total/Money@currency`, else the first other `Money@currency`, else config `default_currency`, else IDR | `currency` (every `Money` must agree) |
//! | `ORH/Total/Money`, `ORH/Tax/Money` | `totals.payable`, `totals.tax_total` |
//! | `ORH/ShipTo/Address/PostalAddress` | `delivery.location.address` |
//! | `ORH/BillTo/Address`: `Name` (else config `buyer_name`), `@addressID` (else `Header/From/Credential/Identity`, else config `buyer_id`), `PostalAddress`, `Email`, `Phone/TelephoneNumber` | `buyer.name`, `buyer.ids[0]` (scheme `UNSPECIFIED`), `buyer.address`, `buyer.contacts[0]`; with neither a name nor an id there is no `buyer` and the gateway fills it from the buyer's registration |
//! | `Header/To/Credential/Identity` (of domain config `supplier_domain`, if set), else config `supplier_code` | `supplier.code` |
//! | each `ORH/Comments` | `notes[].text` |
//! | each `ItemOut`: `@lineNumber` (else its position), `@quantity`, `@requestedDeliveryDate` | `line_number`, `quantity`, `delivery.requested_date` |
//! | `ItemOut/ItemID/SupplierPartID`, `SupplierPartAuxiliaryID`, `BuyerPartID`; `ItemDetail/ManufacturerPartID` | `item.ids[]`: role `supplier`, `supplier` (qualifier `SupplierPartAuxiliaryID`), `buyer`; `manufacturer` |
//! | `ItemOut/ItemDetail`: `UnitPrice/Money`, `Description` text, its `ShortName`, `UnitOfMeasure` (else config `default_unit`, else H87) | `price` (`amount`, `base_quantity` 1), `item.description`, `item.name`, `unit` |
//! | `ItemOut/Comments`; `ItemDetail/ManufacturerName` | `notes[]`; `extensions[]` (namespace `cxml`, with its path) |
//! | the `ItemOut/Extrinsic` or `ItemDetail/Extrinsic` whose `@name` is config `line_total_extrinsic` | `line_total` |
//!
//! A `PostalAddress` maps its first `Street` to `street`, further ones (joined by
//! `, `) to `additional_street`, `City`, `State` (→ `region`), `PostalCode` and
//! `Country@isoCountryCode`. `UnitOfMeasure` is already UN/ECE Rec 20 in cXML
//! (`EA`, `H87`, `KGM`) and is only checked. Single-valued fields take their first
//! occurrence.
//!
//! Not mapped, on purpose: the line total is never computed as quantity × unit
//! price, because the canonical `line_total` is what the buyer *stated*; cXML has
//! no line total, so it comes only from an `Extrinsic` the buyer's config names.
//! `ShipTo` names (`Address/Name`, `DeliverTo`) have no canonical field, nor has
//! a line-level `ShipTo`; `Shipping` is a charge, not a total.
//!
//! # Config
//!
//! Every key optional: `{"default_currency": "IDR", "default_unit": "H87",
//! "supplier_code": "PBG-01", "supplier_domain": "SupplierID", "buyer_name":
//! "PT Mitra Otoparts", "buyer_id": "MO-JKT", "line_total_extrinsic": "LineTotal"}`.
//!
//! # Errors
//!
//! `empty-body`; `malformed-xml` with line and column; `not-an-order` naming the
//! root element found (a UBL `<Order>`, say) or the request a cXML document
//! carries instead; `missing-field` naming the cXML path
//! (`/cXML/Request/OrderRequest/ItemOut[2]/@quantity`); `invalid-value` for a bad
//! decimal, date, code or a second currency, with its path, line and column;
//! `invalid-config`.

mod draft;
mod names;
mod parse;

use jembatan_plugin_sdk::{
    Info, Message, Plugin, PluginError, PurchaseOrder, check_defaults, check_not_blank,
    parse_config,
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
    /// The `Extrinsic@name` that states a line's total.
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

    fn normalize(message: &Message, config: &str) -> Result<Vec<PurchaseOrder>, PluginError> {
        let config = Config::parse(config)?;
        Ok(vec![parse::parse_order(&message.body, &config)?])
    }
}

jembatan_plugin_sdk::export_plugin!(CxmlOrder);

#[cfg(test)]
mod tests;
