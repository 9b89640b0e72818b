//! The one place that turns the plugin WIT worlds into Rust: every version of
//! the contract, side by side, so that a plugin built against an earlier one
//! keeps running after a later one arrived.
//!
//! - [`v1`]: `jembatan:plugin@0.1.0` (`schemas/wit/v1`), world `normalizer`:
//!   `normalize` returns a list of orders or one error for the whole message.
//! - [`v2`]: `jembatan:plugin@0.2.0` (`schemas/wit/v2`), world `plugin`: one
//!   outcome per transaction, with warnings.
//! - [`v3`]: `jembatan:plugin@0.3.0` (`schemas/wit/v3`), world `plugin`: the
//!   same, and an e-mail's `date` and `html`.
//! - [`v4`]: `jembatan:plugin@0.4.0` (`schemas/wit/v4`), world `plugin`: 0.3's
//!   world in the new package, for a plugin that renders nothing.
//! - [`v4r`]: the same package's world `plugin-with-responses`, which also
//!   exports `render-response`; its types are [`v4`]'s (`with`), so one set of
//!   conversions serves both 0.4 worlds.
//!
//! `bindgen!` needs a literal path, resolved from the gateway crate's manifest
//! directory. Imports are synchronous and cannot trap: the only import is `log`,
//! which the host bounds and never fails.

pub mod v1 {
    wasmtime::component::bindgen!({
        path: "../schemas/wit/v1",
        world: "normalizer",
    });

    // The world `use`s `message`, `plugin-error`, `plugin-info` and `log-level`,
    // so those are already at this module's root; the rest live in the interface.
    pub use self::jembatan::plugin::types::Host as TypesHost;
    pub use self::jembatan::plugin::types::{Attachment, Email, Header, Location};
}

pub mod v2 {
    wasmtime::component::bindgen!({
        path: "../schemas/wit/v2",
        world: "plugin",
    });

    pub use self::jembatan::plugin::types::Host as TypesHost;
    pub use self::jembatan::plugin::types::{
        Attachment, Email, Header, Location, Outcome, Transaction, Warning,
    };
}

pub mod v3 {
    wasmtime::component::bindgen!({
        path: "../schemas/wit/v3",
        world: "plugin",
    });

    pub use self::jembatan::plugin::types::Host as TypesHost;
    pub use self::jembatan::plugin::types::{
        Attachment, Email, Header, Location, Outcome, Transaction, Warning,
    };
}

pub mod v4 {
    wasmtime::component::bindgen!({
        path: "../schemas/wit/v4",
        world: "plugin",
    });

    pub use self::jembatan::plugin::types::Host as TypesHost;
    pub use self::jembatan::plugin::types::{
        Attachment, ControlNumbers, Email, Header, Location, Outcome, ResponseRequest, Transaction,
        Warning,
    };
}

pub mod v4r {
    wasmtime::component::bindgen!({
        path: "../schemas/wit/v4",
        world: "plugin-with-responses",
        with: {
            "jembatan:plugin/types": super::v4::jembatan::plugin::types,
        },
    });
}

/// The log level as the host's log takes it; every version has the same four.
pub use v1::LogLevel;

impl From<v4::LogLevel> for LogLevel {
    fn from(level: v4::LogLevel) -> Self {
        match level {
            v4::LogLevel::Debug => Self::Debug,
            v4::LogLevel::Info => Self::Info,
            v4::LogLevel::Warn => Self::Warn,
            v4::LogLevel::Error => Self::Error,
        }
    }
}

impl From<v3::LogLevel> for LogLevel {
    fn from(level: v3::LogLevel) -> Self {
        match level {
            v3::LogLevel::Debug => Self::Debug,
            v3::LogLevel::Info => Self::Info,
            v3::LogLevel::Warn => Self::Warn,
            v3::LogLevel::Error => Self::Error,
        }
    }
}

impl From<v2::LogLevel> for LogLevel {
    fn from(level: v2::LogLevel) -> Self {
        match level {
            v2::LogLevel::Debug => Self::Debug,
            v2::LogLevel::Info => Self::Info,
            v2::LogLevel::Warn => Self::Warn,
            v2::LogLevel::Error => Self::Error,
        }
    }
}
