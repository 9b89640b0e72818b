//! Stock plugin `json-map`: a buyer's own JSON, mapped to canonical purchase
//! orders (v2, `schemas/purchase-order-v2.schema.json`) by the buyer's plugin
//! config, with no code per buyer.
//!
//! # Input
//!
//! Content type `application/json`: one JSON document holding one order, or
//! several (config `orders`). Numbers are read exactly as written, never through
//! a float, and every value keeps its position, so errors name the JSON pointer,
//! line and column of the value in the body.
//!
//! # Config
//!
//! ```json
//! {
//!   "orders": "$.purchase_orders[*]",
//!   "fields": {
//!     "buyer_order_number": "$.header.po_no",
//!     "issue_date": {"path": "$.header.po_date", "date_format": "%d/%m/%Y"},
//!     "currency": {"path": "$.header.currency", "default": "IDR"},
//!     "buyer.name": "$.buyer.name",
//!     "buyer.id": {"const": "BKS-01"},
//!     "supplier.code": "/vendor/code",
//!     "totals.payable": "$.grand_total",
//!     "notes": "$.remarks"
//!   },
//!   "lines": {
//!     "path": "$.items[*]",
//!     "fields": {
//!       "line_number": "$.no",
//!       "supplier_item_code": "$.part_no",
//!       "description": "$.name",
//!       "quantity": "$.qty",
//!       "unit": "$.uom",
//!       "unit_price": {"path": "$.price", "decimal_format": {"thousands": ".", "decimal": ",", "symbol": "Rp"}}
//!     }
//!   },
//!   "units": {"PCS": "H87", "KG": "KGM"},
//!   "date_format": "%Y-%m-%d",
//!   "decimal_format": {"thousands": ".", "decimal": ","},
//!   "default_unit": "H87"
//! }
//! ```
//!
//! - **Paths** are RFC 6901 JSON pointers (`/vendor/code`, `""` for the whole
//!   value) or `$`-paths: `$` is the value itself, `.name` a member, `["a b"]` or
//!   `['a b']` a member with any name, `[3]` an array element. `[*]` may end
//!   `orders` and `lines.path` only, where it says "each element" (which they do
//!   anyway). No wildcards, filters or recursion: one path, one value.
//! - **`orders`** (optional) points at an array of orders or at one order; without
//!   it the whole body is the order, or, if the body is an array, each element is.
//!   Paths in `fields` are relative to each order; `lines.path` is too, and the
//!   paths in `lines.fields` are relative to each line.
//! - **A field** is a path string, or an object with exactly one of `path` and
//!   `const` (a fixed value, e.g. `{"const": "IDR"}`), and optionally `default`
//!   (used when the path finds nothing or `null`), `date_format` and
//!   `decimal_format`. Constants and defaults are checked like input when the
//!   config is read.
//! - **Fields** are named as in canonical order v1, so configs written for it
//!   keep working: `buyer_order_number`, `issue_date`, `supplier.code`
//!   (required); `buyer.name`, `currency` (else IDR), `buyer.id`, `buyer.tax_id`,
//!   `buyer.contact.{name,phone,email}`, `buyer.address.*`, `supplier.name`,
//!   `delivery.requested_date`, `delivery.address.*` (`street`,
//!   `additional_street`, `city`, `postal_code`, `region`, `country`), `notes` (a
//!   string or an array of strings), `totals.{line_extension,tax,payable}`. Lines:
//!   `quantity` (required), `line_number` (else the position, from 1),
//!   `buyer_item_code`, `supplier_item_code`, `description` (a line needs one of
//!   these three), `unit` (through `units`, then checked as UN/ECE Rec 20; else
//!   `default_unit`, else H87), `unit_price`, `line_total`, `requested_date`,
//!   `note`.
//! - **Where they land in v2**: `buyer.id` and `buyer.tax_id` are `buyer.ids[]`
//!   (scheme `UNSPECIFIED`, `TAX`), `buyer.contact.*` is `buyer.contacts[0]`,
//!   `delivery.address.*` is `delivery.location.address`, `notes` and `note` are
//!   `notes[].text`, `totals.tax` is `totals.tax_total`; on a line,
//!   `buyer_item_code` and `supplier_item_code` are `item.ids[]` (role `buyer`,
//!   `supplier`), `description` is `item.description`, `unit_price` is `price`
//!   (`amount` for a `base_quantity` of 1), `requested_date` is
//!   `delivery.requested_date`. `source` is `format` `json-map`, `syntax` `JSON`.
//!   Without `buyer.name`, `buyer.id` or `buyer.tax_id` the order has no `buyer`
//!   and the gateway fills it from the buyer's registration; a buyer contact or
//!   address without them is refused (`missing-field`).
//! - **Dates**: with a `date_format` (chrono strftime, per field or for all) a
//!   string is read with it; without one, ISO 8601 (`2026-11-03`, or a datetime
//!   whose day is taken as written).
//! - **Decimals**: a JSON number is taken exactly; a string is read with the
//!   field's or the global `decimal_format` (`thousands`, `decimal` mark,
//!   optional currency `symbol` before the number), else plainly (`1250000.50`).
//!   Thousands groups must be three digits, so `1.25` is never read as 125.
//! - Text fields take strings or numbers (a number's text as written). Blank
//!   strings count as absent. Nothing is computed: a line total is only what the
//!   buyer stated.
//!
//! # Outcomes
//!
//! Each order is one transaction: index 0 for a single order, else the position
//! in the orders array, whose pointer (`/purchase_orders/1`) and position are the
//! transaction's location. An order that cannot be mapped is refused on its own
//! (`missing-field`, `invalid-value`, with the JSON pointer in the input,
//! `/purchase_orders/1/items/0/qty`), and the other orders go through. json-map
//! never answers "not an order", and has no control numbers.
//!
//! # Errors
//!
//! The whole message is refused only when no order can be found in it:
//! `invalid-config` naming the config key (`lines.fields.qty: not a field that can
//! be mapped`); `empty-body`; `malformed-json` with line and column;
//! `missing-field` or `invalid-value` when `orders` finds nothing, an empty array
//! or neither an array nor an object.

mod config;
mod json;
mod map;
mod path;

use jembatan_plugin_sdk::{Info, Message, Normalized, Plugin, PluginError};

/// The unit of a line with no unit when the config names no `default_unit`.
pub const DEFAULT_UNIT: &str = "H87";

/// The plugin; see the crate documentation.
pub struct JsonMap;

impl Plugin for JsonMap {
    fn info() -> Info {
        Info {
            name: "json-map",
            version: env!("CARGO_PKG_VERSION"),
            description: "A buyer's own JSON orders, mapped field by field by the buyer's config.",
            content_types: &["application/json"],
        }
    }

    /// The config as [`Plugin::normalize`] reads it, refused at bind time.
    fn check_config(config: &str) -> Result<(), PluginError> {
        config::Config::parse(config).map(drop)
    }

    fn normalize(message: &Message, config: &str) -> Result<Normalized, PluginError> {
        let config = config::Config::parse(config)?;
        map::map_orders(&message.body, &config)
    }
}

jembatan_plugin_sdk::export_plugin!(JsonMap);

#[cfg(test)]
mod tests;
