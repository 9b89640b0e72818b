//! jembatan's contracts, in one place.
//!
//! - [`PURCHASE_ORDER_SCHEMA`]: the canonical purchase order as JSON Schema 2020-12,
//!   the source of truth. [`PurchaseOrder`] and friends are its Rust form; the tests
//!   at the bottom prove the two agree.
//! - [`PURCHASE_ORDER_V2_SCHEMA`]: canonical order v2 (`docs/canonical-order-v2.md`),
//!   with its Rust form in [`v2`] ([`PurchaseOrderV2`]) and the conversions
//!   [`upgrade_v1`] (lossless) and [`downgrade_v2`] (lossy, documented). An order
//!   without a `version` key is v1.
//! - [`ORDER_RESPONSE_SCHEMA`]: a craftsman's answer to an order (accepted, rejected
//!   with a reason, or accepted with changes), modelled on UBL 2.1 OrderResponse, with
//!   its Rust form in [`order_response`] ([`OrderResponse`]).
//! - `wit/v3/plugin.wit`: the plugin world `jembatan:plugin/plugin@0.3.0`, one outcome
//!   per transaction and an e-mail's parts whole, which the SDK builds plugins
//!   against; `wit/v2/plugin.wit` (`@0.2.0`, without an e-mail's date and HTML) and
//!   `wit/v1/plugin.wit` (`jembatan:plugin/normalizer@0.1.0`): the earlier worlds,
//!   which the host still runs.

pub mod order_response;
mod purchase_order;
pub mod v2;

pub use order_response::{OrderResponse, ResponseStatus};
pub use purchase_order::*;
pub use v2::{PurchaseOrder as PurchaseOrderV2, downgrade_v2, upgrade_v1};

/// `schemas/purchase-order.schema.json`, verbatim.
pub const PURCHASE_ORDER_SCHEMA: &str = include_str!("../purchase-order.schema.json");

/// `schemas/purchase-order-v2.schema.json`, verbatim.
pub const PURCHASE_ORDER_V2_SCHEMA: &str = include_str!("../purchase-order-v2.schema.json");

/// `schemas/order-response.schema.json`, verbatim.
pub const ORDER_RESPONSE_SCHEMA: &str = include_str!("../order-response.schema.json");

#[cfg(test)]
mod agreement;
