//! jembatan's contracts, in one place.
//!
//! - [`PURCHASE_ORDER_SCHEMA`]: the canonical purchase order as JSON Schema 2020-12,
//!   the source of truth. [`PurchaseOrder`] and friends are its Rust form; the tests
//!   at the bottom prove the two agree.
//! - `wit/plugin.wit`: the plugin world, found by the host's `bindgen!` and the SDK's
//!   `generate!` through [`WIT_DIR`].

mod purchase_order;

pub use purchase_order::*;

/// `schemas/purchase-order.schema.json`, verbatim.
pub const PURCHASE_ORDER_SCHEMA: &str = include_str!("../purchase-order.schema.json");

/// Absolute path of the directory holding the plugin WIT world.
pub const WIT_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/wit");

#[cfg(test)]
mod agreement;
