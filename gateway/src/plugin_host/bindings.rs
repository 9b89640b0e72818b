//! The one place that turns the plugin WIT world into Rust.
//!
//! `bindgen!` needs a literal path, so it cannot use `jembatan_schemas::WIT_DIR`;
//! the relative path below is resolved from the gateway crate's manifest directory
//! and points at the same `schemas/wit` folder.
//!
//! Imports are synchronous and cannot trap: the only import is `log`, which the
//! host bounds and never fails.

wasmtime::component::bindgen!({
    path: "../schemas/wit",
    world: "normalizer",
});

// The world `use`s `message`, `plugin-error`, `plugin-info` and `log-level`, so
// those are already at this module's root; the rest live in the interface.
pub use self::jembatan::plugin::types::Host as TypesHost;
pub use self::jembatan::plugin::types::{Attachment, Email, Header};
