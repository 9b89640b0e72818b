//! Stock plugin `ubl-order`: UBL 2.1 Order XML to canonical purchase orders (v2,
//! `schemas/purchase-order-v2.schema.json`).
//!
//! # Input
//!
//! Content types `application/xml`, `text/xml`, `application/ubl+xml`. The body is
//! one UBL 2.1 `Order` document, plain or as profiled by Peppol BIS Order 3.0. Elements are matched by namespace and local name,
//! so any prefixes (or a default namespace) work; elements the mapping does not
//! name, and extensions in other namespaces, are skipped.
//!
//! # Mapping (UBL path → canonical v2 field)
//!
//! | UBL | canonical |
//! |-----|-----------|
//! | (the plugin) | `source`: `format` `ubl-order`, `syntax` `UBL` |
//! | `cbc:ID`, `cbc:IssueDate`, `cbc:DocumentCurrencyCode`, `cbc:Note` (each) | `buyer_order_number`, `issue_date`, `currency`, `notes[].text` |
//! | `cac:BuyerCustomerParty/cac:Party`: `PartyIdentification/ID`, `PartyTaxScheme/CompanyID`, `PartyName/Name`, `PartyLegalEntity/RegistrationName`, `PostalAddress`, `Contact` | `buyer`: `ids[]` (scheme `UNSPECIFIED`, `TAX`), `name`, `legal_name`, `address`, `contacts[0]` |
//! | no `cac:BuyerCustomerParty` | no `buyer`: the gateway fills it from the buyer's registration |
//! | `cac:SellerSupplierParty`: `CustomerAssignedAccountID`, else `Party/PartyIdentification/ID`, else config `supplier_code`; `Party/PartyName/Name`; `Party/PartyLegalEntity/RegistrationName` (Peppol) | `supplier.code`; `supplier.name`; `supplier.legal_name` |
//! | each `cac:AllowanceCharge` (order level; and in a `LineItem`): `ChargeIndicator`, `AllowanceChargeReason`, `Amount` | `allowances_charges[]` (`kind`, `level` `order`/`line`, `reason`, `amount`) of the order or the line; one without an `Amount` becomes a note |
//! | first order-level `cac:Delivery`: `DeliveryAddress` or `DeliveryLocation/Address`; `RequestedDeliveryPeriod/StartDate`, `EndDate` | `delivery.location.address`; `delivery.earliest`, `.latest` (`requested_date` when they are the same day) |
//! | `cac:AnticipatedMonetaryTotal/LineExtensionAmount`, `/PayableAmount`; `cac:TaxTotal/cbc:TaxAmount` | `totals.line_extension`, `.payable`; `.tax_total` |
//! | each `cac:OrderLine/cac:LineItem`: `ID`, `Quantity` (`@unitCode`, else config `default_unit`, else `H87`), `Price/PriceAmount`, `LineExtensionAmount` | `lines[]`: `line_number`, `quantity`, `unit`, `price` (`amount`, `base_quantity` 1), `line_total` |
//! | `Item/Name`; `Item/Description` (several joined by newlines); `Item/BuyersItemIdentification/ID`, `Item/SellersItemIdentification/ID` | `item.name`; `item.description`; `item.ids[]` with `role` `buyer`, `supplier` |
//! | `LineItem/Delivery/RequestedDeliveryPeriod/StartDate`, `EndDate`; `cbc:Note` of the OrderLine and the LineItem | the line's `delivery` (as the order's); `notes[]` |
//!
//! An address maps `StreetName`, `AdditionalStreetName`, `CityName`, `PostalZone`,
//! `CountrySubentity` (→ `region`) and `Country/IdentificationCode`; a contact maps
//! `Name`, `Telephone`, `ElectronicMail`. Single-valued fields take their first
//! occurrence. Amounts and quantities are read exactly as decimals, never floats.
//!
//! # Config
//!
//! `{"default_currency": "IDR", "default_unit": "H87", "supplier_code": "..."}`,
//! every key optional: the currency when the document has no
//! `DocumentCurrencyCode` (else IDR), the unit when a quantity has no `unitCode`
//! (else H87, piece), and the supplier code when the document names none.
//!
//! # Errors
//!
//! `empty-body`; `malformed-xml` with line and column; `not-an-order` naming the
//! root element found; `missing-field` naming the UBL path; `invalid-value` for a
//! bad decimal, date or code, with its path, line and column; `invalid-config`.

mod draft;
mod map;
mod names;
mod ns;
mod parse;

use jembatan_plugin_sdk::{
    Info, Message, Plugin, PluginError, PurchaseOrder, check_defaults, check_not_blank,
    parse_config,
};
use serde::Deserialize;

/// The plugin; see the crate documentation.
pub struct UblOrder;

/// The buyer's plugin config; see the crate documentation.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Currency when the document has no `cbc:DocumentCurrencyCode`; IDR if absent.
    pub default_currency: Option<String>,
    /// Unit when a `cbc:Quantity` has no `unitCode`; H87 (piece) if absent.
    pub default_unit: Option<String>,
    /// Supplier code when the document names no supplier.
    pub supplier_code: Option<String>,
}

impl Config {
    fn parse(text: &str) -> Result<Self, PluginError> {
        let config: Self = parse_config(text)?;
        check_defaults(
            config.default_currency.as_deref(),
            config.default_unit.as_deref(),
        )?;
        check_not_blank([("supplier_code", &config.supplier_code)])?;
        Ok(config)
    }
}

impl Plugin for UblOrder {
    fn info() -> Info {
        Info {
            name: "ubl-order",
            version: env!("CARGO_PKG_VERSION"),
            description: "UBL 2.1 Order XML documents (OASIS), any namespace prefixes.",
            content_types: &["application/xml", "text/xml", "application/ubl+xml"],
        }
    }

    fn normalize(message: &Message, config: &str) -> Result<Vec<PurchaseOrder>, PluginError> {
        let config = Config::parse(config)?;
        Ok(vec![parse::parse_order(&message.body, &config)?])
    }
}

jembatan_plugin_sdk::export_plugin!(UblOrder);

#[cfg(test)]
mod tests;

#[cfg(test)]
mod corpus_tests;
