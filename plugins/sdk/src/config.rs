//! Reading the buyer's plugin config.

use serde::de::DeserializeOwned;

use crate::PluginError;

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
}
