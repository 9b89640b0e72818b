//! The canonical purchase order as Rust types, mirroring `purchase-order.schema.json`.
//!
//! Field names, optionality and nesting follow the schema one to one. Money and
//! quantities are [`Decimal`] (serialized as strings), dates are [`NaiveDate`]
//! (serialized as `YYYY-MM-DD`). Optional fields are omitted, never `null`, because
//! the schema does not allow `null`.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// The currency an order is in when the buyer's document does not say.
pub const DEFAULT_CURRENCY: &str = "IDR";

fn default_currency() -> String {
    DEFAULT_CURRENCY.to_owned()
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PurchaseOrder {
    pub buyer_order_number: String,
    pub issue_date: NaiveDate,
    #[serde(default = "default_currency")]
    pub currency: String,
    pub buyer: Party,
    pub supplier: Supplier,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery: Option<Delivery>,
    pub lines: Vec<OrderLine>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub totals: Option<Totals>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Party {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tax_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<Address>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<Contact>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Supplier {
    /// The buyer's code for the craftsman; orders are routed on it.
    pub code: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Address {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub street: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub additional_street: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postal_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Contact {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Delivery {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<Address>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requested_date: Option<NaiveDate>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderLine {
    pub line_number: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub buyer_item_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supplier_item_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub quantity: Decimal,
    /// UN/ECE Recommendation 20 code, e.g. `H87` (piece), `KGM`, `SET`.
    pub unit: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit_price: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line_total: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requested_date: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Totals {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line_extension: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tax: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payable: Option<Decimal>,
}
