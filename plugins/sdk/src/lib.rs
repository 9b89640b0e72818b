//! Write a jembatan normalizer plugin as one Rust function.
//!
//! A plugin turns one inbound message in a buyer's format into canonical purchase
//! orders, version 2 (`schemas/purchase-order-v2.schema.json`, designed in
//! `docs/canonical-order-v2.md`), with one outcome per transaction of the message
//! (WIT `jembatan:plugin@0.4.0`, `schemas/wit/v4/plugin.wit`). With this crate it
//! is a type that implements [`Plugin`] and one line that exports it as a
//! WebAssembly component:
//!
//! ```
//! use jembatan_plugin_sdk::draft::{Defaults, LineDraft, OrderDraft, item_id};
//! use jembatan_plugin_sdk::values::{date, decimal};
//! use jembatan_plugin_sdk::{Info, ItemIdRole, Message, Normalized, Outcome, Plugin, PluginError};
//!
//! struct MyPlugin;
//!
//! impl Plugin for MyPlugin {
//!     fn info() -> Info {
//!         Info {
//!             name: "my-plugin",
//!             version: env!("CARGO_PKG_VERSION"),
//!             description: "Orders from ACME's ERP: `PO;date;supplier;part;quantity`.",
//!             content_types: &["text/plain"],
//!         }
//!     }
//!
//!     fn normalize(message: &Message, _config: &str) -> Result<Normalized, PluginError> {
//!         let text = std::str::from_utf8(&message.body)
//!             .map_err(|_| PluginError::new("not-utf8", "the body is not UTF-8 text"))?;
//!         let invalid = |e: String| PluginError::new("invalid-value", e);
//!         let fields: Vec<&str> = text.trim().split(';').collect();
//!         let [number, day, supplier, part, quantity] = fields[..] else {
//!             return Err(PluginError::new("invalid-value", "expected five fields"));
//!         };
//!         let mut order = OrderDraft::new("my-plugin", "ACME text");
//!         order.number = Some(number.to_owned());
//!         order.issue_date = Some(date(day).map_err(invalid)?);
//!         order.supplier_code = Some(supplier.to_owned());
//!         let mut line = LineDraft {
//!             quantity: Some(decimal(quantity).map_err(invalid)?),
//!             ..LineDraft::default()
//!         };
//!         line.item.ids.push(item_id(ItemIdRole::Buyer, part));
//!         order.lines.push(line);
//!         let order = order.finish(&Defaults::default(), |field, _| {
//!             PluginError::new("missing-field", format!("no {field:?}"))
//!         })?;
//!         // One order: one transaction, at index 0.
//!         Ok(order.into())
//!     }
//! }
//!
//! jembatan_plugin_sdk::export_plugin!(MyPlugin);
//!
//! let message = Message::new("text/plain", "PO-7;2026-11-03;PBG-017;MO-EXH-125;150");
//! let out = MyPlugin::normalize_json(&message, "").unwrap();
//! let Outcome::Order(json) = &out.transactions[0].outcome else { panic!() };
//! assert!(json.starts_with(r#"{"version":"2","buyer_order_number":"PO-7""#));
//! ```
//!
//! Most plugins, like this one, fill a [`draft::OrderDraft`] while reading and
//! let [`draft::OrderDraft::finish`] check and build the order. The buyer is
//! optional: an order without one gets it from the buyer's registration.
//!
//! A message that carries several transactions (X12 ST … SE, EDIFACT UNH … UNT,
//! a JSON array) gets one [`Transaction`] each, with an [`Outcome`]: the order,
//! a refusal naming what is wrong and where ([`Outcome::Refused`]), or
//! [`Outcome::NotAnOrder`] for a document of another kind (an invoice). A
//! plugin returns `Err` only when nothing in the message could be read at all;
//! one bad transaction never refuses its siblings. What the plugin read past is a
//! [`Warning`]: in the order's `warnings` when it is about the order, in the
//! transaction's or the message's `warnings` when it is about an envelope.
//!
//! Everything a plugin sees is a plain Rust type ([`Message`], [`PluginError`],
//! [`Location`]), so plugins are unit-tested natively with `cargo test`; the
//! wit-bindgen glue that turns them into the WIT world `jembatan:plugin/plugin`
//! is compiled only for `target_arch = "wasm32"`.

mod config;
pub mod draft;
mod error;
mod log;
mod message;
mod normalized;
mod plugin;
mod response;
#[cfg(feature = "testing")]
pub mod testing;
pub mod values;
#[cfg(feature = "xml")]
pub mod xml;

#[cfg(target_arch = "wasm32")]
#[doc(hidden)]
pub mod __private;

pub use config::{check_defaults, check_not_blank, invalid_config, parse_config};
pub use draft::DEFAULT_UNIT;
pub use error::{Location, PluginError, line_column};
pub use jembatan_schemas::OrderResponse;
/// The craftsman's answer a renderer writes, and its parts.
pub use jembatan_schemas::order_response::{LineChange, ResponseStatus};
pub use log::{LogLevel, log};
pub use message::{Attachment, Email, Header, Message};
pub use normalized::{Normalized, Outcome, Transaction, TransactionId};
pub use plugin::{Info, Plugin};
pub use response::{ControlNumbers, RenderResponse, Rendered, ResponseRequest};

/// Re-exported because every plugin builds dates.
pub use chrono::NaiveDate;
/// The currency of an order that names none, as in canonical order v1.
pub use jembatan_schemas::DEFAULT_CURRENCY;
/// Every type of canonical order v2, for the few not re-exported by name here.
pub use jembatan_schemas::v2;
/// The canonical purchase order (v2) and its parts, re-exported from
/// `jembatan-schemas` so a plugin needs no other dependency to build one. A
/// delivery's place is [`v2::Location`]: the crate's own [`Location`] is where an
/// error is in the message.
pub use jembatan_schemas::v2::{
    Address, AllowanceCharge, AllowanceChargeKind, AllowanceChargeLevel, Classification, Contact,
    Delivery, DeliveryTerms, Document, DocumentType, Extension, Item, ItemId, ItemIdRole,
    ItemProperty, LineTax, Note, OrderLine, OrderType, OriginalCode, OtherParty, Packaging, Party,
    PartyId, PartySource, PaymentTerms, Price, PriceKind, PurchaseOrder, Purpose, Reference,
    ReferenceType, ScheduleLine, Source, Supplier, TaxCategory, TaxSubtotal, Totals, Transport,
    Version, Warning, party_scheme,
};
/// Re-exported because every plugin builds amounts.
pub use rust_decimal::Decimal;

/// Export a [`Plugin`] as the component's `info`, `normalize` and
/// `check-config` functions (world `plugin`), and with `, render_response` also
/// its [`RenderResponse`] as `render-response` (world `plugin-with-responses`).
///
/// Use it once per plugin crate, at the top level: `export_plugin!(MyPlugin);`
/// or `export_plugin!(MyPlugin, render_response);`. It expands to nothing
/// outside wasm, so native builds and tests are unaffected.
#[macro_export]
macro_rules! export_plugin {
    ($plugin:ty) => {
        #[cfg(target_arch = "wasm32")]
        const _: () = {
            // A private type carries the generated `Guest` impl, so the plugin's own
            // type never has two `info`/`normalize` methods in scope.
            struct JembatanGuest;

            impl $crate::__private::Guest for JembatanGuest {
                $crate::__guest_functions!($plugin);
            }

    $crate::__private::export!(JembatanGuest with_types_in $crate::__private::bindings);
        };
    };
    ($plugin:ty, render_response) => {
        #[cfg(target_arch = "wasm32")]
        const _: () = {
            struct JembatanGuest;

            impl $crate::__private::responses::Guest for JembatanGuest {
                $crate::__guest_functions!($plugin);

                fn render_response(
                    request: $crate::__private::WitResponseRequest,
                ) -> ::std::result::Result<
                    $crate::__private::WitRendered,
                    $crate::__private::WitError,
                > {
                    $crate::__private::render_response::<$plugin>(request)
                }
            }

    $crate::__private::responses::export!(JembatanGuest with_types_in $crate::__private::responses);
        };
    };
}

/// The functions both worlds export; only [`export_plugin!`] uses it.
#[doc(hidden)]
#[macro_export]
macro_rules! __guest_functions {
    ($plugin:ty) => {
        fn info() -> $crate::__private::WitInfo {
            $crate::__private::info::<$plugin>()
        }

        fn normalize(
            message: $crate::__private::WitMessage,
            config: ::std::string::String,
        ) -> ::std::result::Result<$crate::__private::WitNormalized, $crate::__private::WitError> {
            $crate::__private::normalize::<$plugin>(message, config)
        }

        fn check_config(
            config: ::std::string::String,
        ) -> ::std::result::Result<(), $crate::__private::WitError> {
            $crate::__private::check_config::<$plugin>(config)
        }
    };
}
