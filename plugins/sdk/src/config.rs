//! Reading the buyer's plugin config.

use serde::de::DeserializeOwned;

use crate::PluginError;
use crate::values::{currency, unit};

/// Parses the buyer's plugin config (JSON) into the plugin's own config type.
///
/// An empty config (`""`, whitespace or `null`) gives `T::default()`, so a buyer
/// needs no config for the defaults. Errors have code `invalid-config`, with the
/// line and column in the config text; give `T` `#[serde(deny_unknown_fields)]` so a
/// misspelt key is reported rather than ignored.
pub fn parse_config<T: DeserializeOwned + Default>(config: &str) -> Result<T, PluginError> {
    let trimmed = config.trim();
    if trimmed.is_empty() || trimmed == "null" {
        return Ok(T::default());
    }
    serde_json::from_str(trimmed).map_err(|e| {
        PluginError::new(
            "invalid-config",
            format!("the plugin config is invalid: {e}"),
        )
        .with_line_column(
            u32::try_from(e.line()).unwrap_or(u32::MAX),
            u32::try_from(e.column()).unwrap_or(u32::MAX),
        )
    })
}

/// An `invalid-config` error about `key`: the message starts with the key and the
/// path is `/{key}`, so the buyer sees which setting to fix.
pub fn invalid_config(key: &str, problem: impl std::fmt::Display) -> PluginError {
    PluginError::new("invalid-config", format!("{key}: {problem}")).at_path(format!("/{key}"))
}

/// Checks the keys most plugin configs share, when given: `default_currency` (an
/// ISO 4217 code) and `default_unit` (a UN/ECE Rec 20 code), in that order.
pub fn check_defaults(
    default_currency: Option<&str>,
    default_unit: Option<&str>,
) -> Result<(), PluginError> {
    if let Some(c) = default_currency {
        currency(c).map_err(|m| invalid_config("default_currency", m))?;
    }
    if let Some(u) = default_unit {
        unit(u).map_err(|m| invalid_config("default_unit", m))?;
    }
    Ok(())
}

/// Fails with `invalid-config` ("must not be empty") for the first key whose value
/// is given but blank: a blank default would only hide a missing one.
pub fn check_not_blank<'a>(
    keys: impl IntoIterator<Item = (&'a str, &'a Option<String>)>,
) -> Result<(), PluginError> {
    for (key, value) in keys {
        if value.as_deref().is_some_and(|v| v.trim().is_empty()) {
            return Err(invalid_config(key, "must not be empty"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Default, PartialEq, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Config {
        default_currency: Option<String>,
    }

    #[test]
    fn empty_config_is_default() {
        for text in ["", "  ", "null", "{}"] {
            assert_eq!(parse_config::<Config>(text).unwrap(), Config::default());
        }
    }

    #[test]
    fn unknown_key_is_invalid_config() {
        let err = parse_config::<Config>(r#"{"default_curency":"USD"}"#).unwrap_err();
        assert_eq!(err.code, "invalid-config");
        assert!(err.message.contains("default_curency"), "{err}");
    }

    #[test]
    fn shared_checks_name_the_key() {
        assert!(check_defaults(Some("IDR"), Some("H87")).is_ok());
        let err = check_defaults(Some("rupiah"), None).unwrap_err();
        assert_eq!(err.code, "invalid-config");
        assert!(err.message.starts_with("default_currency: "), "{err}");
        assert_eq!(
            err.location.unwrap().path.as_deref(),
            Some("/default_currency")
        );

        let blank = Some(" ".to_owned());
        assert!(check_not_blank([("a", &None), ("b", &Some("x".to_owned()))]).is_ok());
        let err = check_not_blank([("a", &None), ("b", &blank)]).unwrap_err();
        assert_eq!(err.message, "b: must not be empty");
        assert_eq!(err.location.unwrap().path.as_deref(), Some("/b"));
    }
}
