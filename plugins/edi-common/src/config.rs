//! The buyer's plugin config, the same keys for both EDI plugins.

use std::collections::BTreeMap;

use jembatan_plugin_sdk::draft::{DEFAULT_UNIT, Defaults};
use jembatan_plugin_sdk::{
    PluginError, check_defaults, check_not_blank, invalid_config, parse_config,
};
use serde::Deserialize;

use crate::values;

/// The buyer's plugin config. Every key is optional; buyer-specific knowledge (a
/// private unit code, which supplier a buyer means when it names none) lives here,
/// never in the plugin's code.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Currency when the document states none; IDR if absent.
    pub default_currency: Option<String>,
    /// Unit (UN/ECE Rec 20) when a quantity has none; H87 (piece) if absent.
    pub default_unit: Option<String>,
    /// The document's unit codes → UN/ECE Rec 20, consulted before the plugin's
    /// own table, so a buyer can override a standard code or add a private one.
    #[serde(default)]
    pub unit_map: BTreeMap<String, String>,
    /// Supplier code when the document names no supplier.
    pub supplier_code: Option<String>,
    /// Buyer name when the document names no buyer party (many senders leave it
    /// to the envelope's sender id). Without it such an order has no buyer and the
    /// gateway takes it from the buyer's registration.
    pub buyer_name: Option<String>,
    /// Refuse the orders of an envelope whose bookkeeping disagrees with its
    /// content instead of reading past it with a warning: segment, set and group
    /// counts and control numbers (X12 SE01/SE02, GE01/GE02, IEA01/IEA02;
    /// EDIFACT UNT, UNE, UNZ), a missing trailer (GE, IEA; UNE, UNZ), a segment
    /// outside any transaction. A transaction's own trailer (SE, UNT) refuses
    /// that transaction, a group's every order of the group, an interchange's
    /// every order of the interchange; other envelopes of the body go through.
    /// It also refuses a unit outside Rec 20 instead of reading it as `ZZ`.
    /// False if absent.
    #[serde(default)]
    pub strict: bool,
}

impl Config {
    /// Parses and checks the config text; errors are `invalid-config` with the key.
    pub fn parse(text: &str) -> Result<Self, PluginError> {
        let config: Self = parse_config(text)?;
        check_defaults(
            config.default_currency.as_deref(),
            config.default_unit.as_deref(),
        )?;
        for (from, to) in &config.unit_map {
            values::unit(to).map_err(|m| invalid_config(&format!("unit_map/{from}"), m))?;
        }
        check_not_blank([
            ("supplier_code", &config.supplier_code),
            ("buyer_name", &config.buyer_name),
        ])?;
        Ok(config)
    }

    /// What a finished order takes from the config where the message is silent.
    /// Both standards let the line number and unit be left out.
    pub fn defaults(&self) -> Defaults<'_> {
        Defaults {
            buyer_name: self.buyer_name.as_deref(),
            supplier_code: self.supplier_code.as_deref(),
            currency: self.default_currency.as_deref(),
            unit: Some(self.default_unit.as_deref().unwrap_or(DEFAULT_UNIT)),
            number_lines_by_position: true,
        }
    }

    /// The buyer's mapping of a unit code, if it has one.
    pub fn mapped_unit(&self, code: &str) -> Option<&str> {
        self.unit_map.get(code).map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_is_checked() {
        assert!(Config::parse("").unwrap().unit_map.is_empty());
        let ok = Config::parse(r#"{"unit_map":{"PCS":"H87"},"default_currency":"USD"}"#).unwrap();
        assert_eq!(ok.mapped_unit("PCS"), Some("H87"));
        for bad in [
            r#"{"unit_map":{"PCS":"piece"}}"#,
            r#"{"default_currency":"Rp"}"#,
            r#"{"default_unit":"x"}"#,
            r#"{"supplier_code":" "}"#,
            r#"{"units":{}}"#,
        ] {
            assert_eq!(
                Config::parse(bad).unwrap_err().code,
                "invalid-config",
                "{bad}"
            );
        }
    }
}
