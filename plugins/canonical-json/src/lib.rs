//! Stock plugin `canonical-json`: orders that already are canonical JSON.
//!
//! # Input
//!
//! Content type `application/json`. The body is either **one canonical order
//! object** or **a JSON array of them** (one message may carry several orders);
//! each order is one transaction (index 0 for a single object, the array index
//! otherwise), in the version it names:
//!
//! - **v2** (`"version": "2"`, `schemas/purchase-order-v2.schema.json`): passed
//!   through as written, except that `received` is refused (the gateway writes it).
//! - **v1** (no `version`, `schemas/purchase-order.schema.json`): upgraded to v2
//!   field by field, losing nothing (`upgrade_v1`, docs/canonical-order-v2.md §3),
//!   with `source` `{"format": "canonical-json", "syntax": "canonical v1"}`.
//!
//! Unknown fields are refused, and amounts, quantities and prices are decimal
//! *strings* (`"12.50"`), never JSON numbers, so no value passes through a float.
//! The output is canonical order v2.
//!
//! # Config
//!
//! `{}` or empty for the defaults; optionally `{"default_currency": "IDR"}`, the
//! currency of a v1 order that does not name one (IDR when not configured; a v2
//! order always names its currency).
//!
//! # Errors
//!
//! The whole message is refused only when nothing in it can be read:
//!
//! - `empty-body`: nothing but whitespace.
//! - `malformed-json`: not JSON; with line and column.
//! - `invalid-order`: neither an object nor an array, or an empty array.
//! - `invalid-config`: the plugin config is wrong.
//!
//! An object that is not a canonical order is refused on its own (`invalid-order`,
//! with the JSON pointer of the offending field, e.g. `/lines/0/quantity`, or
//! `/1/lines/0/quantity` in an array, and line and column); the other orders of
//! the array go through.

mod json;

use jembatan_plugin_sdk::{Info, Message, Normalized, Plugin, PluginError, parse_config};
use serde::Deserialize;

/// The plugin; see the crate documentation.
pub struct CanonicalJson;

/// The buyer's plugin config.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    /// Currency of v1 orders that do not state one; IDR when absent.
    default_currency: Option<String>,
}

impl Plugin for CanonicalJson {
    fn info() -> Info {
        Info {
            name: "canonical-json",
            version: env!("CARGO_PKG_VERSION"),
            description: "Purchase orders already in jembatan's canonical JSON form: one order object or an array of them.",
            content_types: &["application/json"],
        }
    }

    fn normalize(message: &Message, config: &str) -> Result<Normalized, PluginError> {
        let default_currency = default_currency(config)?;
        json::read(
            &message.body,
            default_currency.as_deref(),
            Self::info().name,
        )
    }

    fn check_config(config: &str) -> Result<(), PluginError> {
        default_currency(config).map(drop)
    }
}

/// The config's `default_currency`, checked.
fn default_currency(config: &str) -> Result<Option<String>, PluginError> {
    let config: Config = parse_config(config)?;
    match config.default_currency {
        Some(c) if is_currency_code(&c) => Ok(Some(c)),
        Some(c) => Err(PluginError::new(
            "invalid-config",
            format!("default_currency {c:?} is not an ISO 4217 code such as \"IDR\""),
        )
        .at_path("/default_currency")),
        None => Ok(None),
    }
}

fn is_currency_code(code: &str) -> bool {
    code.len() == 3 && code.bytes().all(|b| b.is_ascii_uppercase())
}

jembatan_plugin_sdk::export_plugin!(CanonicalJson);

#[cfg(test)]
mod tests;
