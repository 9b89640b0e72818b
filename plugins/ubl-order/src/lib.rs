//! Stock plugin `ubl-order`: UBL 2.0/2.1 and Peppol BIS Order 3 `Order` XML, bare
//! or inside a Standard Business Document Header, to canonical purchase orders (v2,
//! `schemas/purchase-order-v2.schema.json`).
//!
//! Elements are matched by namespace and local name, so any prefixes (or a default
//! namespace) work. The mapping table (UBL path → canonical v2 field), the config
//! and the errors are in this crate's `README.md`; what no field takes is kept as
//! an extension with its path, never dropped.
//!
//! A body is one document, so one transaction: the order, refused (an Order that
//! does not map; an `OrderCancellation` or `OrderChange`, `unsupported-purpose`),
//! or not an order (any other UBL document, kind `Invoice` …). The message is
//! refused whole only when it is empty, not well-formed, or not UBL.

mod attributes;
mod draft;
mod map;
mod names;
mod ns;
mod parse;
mod render;

use jembatan_plugin_sdk::{
    Info, Message, Normalized, Plugin, PluginError, RenderResponse, Rendered, ResponseRequest,
    check_defaults, check_not_blank, parse_config,
};
use serde::Deserialize;

/// The plugin; see the crate documentation.
pub struct UblOrder;

/// The buyer's plugin config; see the crate documentation.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Currency when the document has no `cbc:DocumentCurrencyCode` and its amounts
    /// do not share one `@currencyID`; IDR if absent.
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
            description: "UBL 2.0/2.1 and Peppol BIS Order 3 XML (OASIS), bare or in an SBDH, any namespace prefixes.",
            content_types: &["application/xml", "text/xml", "application/ubl+xml"],
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

/// Answers an order with a UBL 2.1 OrderResponse; see `render.rs`.
impl RenderResponse for UblOrder {
    fn render_response(request: &ResponseRequest) -> Result<Rendered, PluginError> {
        Config::parse(&request.config)?;
        render::render(request)
    }
}

#[cfg(feature = "component")]
jembatan_plugin_sdk::export_plugin!(UblOrder, render_response);

#[cfg(test)]
mod tests;

#[cfg(test)]
mod corpus_tests;
