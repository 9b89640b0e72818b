//! The one trait a plugin implements.

use crate::{Message, Normalized, PluginError};

/// What a plugin is; the gateway reads it once when it loads the plugin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Info {
    /// Stable name, kebab-case, e.g. `ubl-order`.
    pub name: &'static str,
    /// The plugin's version, usually `env!("CARGO_PKG_VERSION")`.
    pub version: &'static str,
    /// One sentence saying what the plugin reads.
    pub description: &'static str,
    /// Media types this plugin reads; the gateway refuses anything else with 415
    /// before the plugin runs.
    pub content_types: &'static [&'static str],
}

/// A normalizer: one inbound message in, one outcome per transaction out.
///
/// Implement it on a unit struct and export it with [`export_plugin!`](crate::export_plugin).
/// A plugin is pure: it sees the message and the buyer's config, may call
/// [`log`](crate::log), and nothing else. Each call runs in a fresh instance, so
/// there is no state to keep between calls.
pub trait Plugin {
    /// Name, version and accepted content types.
    fn info() -> Info;

    /// Normalizes one message. `config` is the buyer's plugin config as JSON text
    /// (possibly empty); read it with [`parse_config`](crate::parse_config).
    ///
    /// `Ok` holds one outcome per transaction of the message (an order, a
    /// refusal, or not an order; see [`Normalized`]); a plugin that reads one
    /// order per message returns `Ok(order.into())`. `Err` only when nothing in
    /// the message could be read at all: an empty body, not the plugin's format,
    /// an envelope broken before its first transaction, a bad config.
    fn normalize(message: &Message, config: &str) -> Result<Normalized, PluginError>;

    /// What the component returns: [`Plugin::normalize`]'s outcomes with each
    /// order as canonical JSON, carrying `"version": "2"`, which tells the host to
    /// check it against the v2 schema.
    ///
    /// The default is what every ordinary plugin wants; tests call it to see
    /// exactly what the host receives. Override it only to return something the
    /// typed orders cannot express (the hostile test plugin does, to return
    /// garbage).
    fn normalize_json(message: &Message, config: &str) -> Result<Normalized<String>, PluginError> {
        Self::normalize(message, config).map(Normalized::into_json)
    }

    /// Whether `config` is one this plugin can work with. The gateway asks when
    /// an admin binds a buyer to the plugin or changes the buyer's config, and
    /// refuses a config that fails (422), so it cannot fail every message later.
    /// Name the key in the error's location path (`/unit_map/KGM`).
    ///
    /// The default accepts any config; a plugin with a config implements it with
    /// the same parsing [`Plugin::normalize`] does.
    fn check_config(config: &str) -> Result<(), PluginError> {
        let _ = config;
        Ok(())
    }
}
