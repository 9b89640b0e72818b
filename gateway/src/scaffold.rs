//! `jembatan plugin new NAME`: a new plugin crate, copied from `plugins/template`.
//!
//! The template is a member of this workspace (so its test runs with everyone
//! else's); the copy becomes a workspace of its own that depends on this
//! checkout's SDK by path, with this workspace's lockfile so it builds with the
//! very dependency versions the stock plugins use.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

const CARGO_TOML: &str = include_str!("../../plugins/template/Cargo.toml");
const LIB_RS: &str = include_str!("../../plugins/template/src/lib.rs");
const EXAMPLE: &str = include_str!("../../plugins/template/fixtures/example.csv");
const LOCKFILE: &str = include_str!("../../Cargo.lock");
/// The SDK of the checkout this binary was built from.
const SDK_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../plugins/sdk");

/// What a stand-alone plugin crate adds to the template's manifest: its own
/// workspace, and a release profile that makes small, fast components.
const STANDALONE: &str = r#"
# A workspace of its own, so that it never joins an enclosing one.
[workspace]

[profile.release]
opt-level = 3
lto = true
codegen-units = 1
strip = true
panic = "abort"
"#;

/// The stand-alone crate's cargo config: its component starts with 4 MiB of
/// linear memory, as the stock plugins do (`plugins/build`), so an ordinary
/// order never grows it; a memory that grew must be re-protected before its
/// pool slot serves the next call, which costs every call a TLB flush.
const CARGO_CONFIG: &str = r#"[target.wasm32-wasip2]
rustflags = ["-C", "link-arg=--initial-memory=4194304"]
"#;

/// Writes the crate `NAME` under `parent`; returns its directory.
pub fn new_plugin(name: &str, parent: &Path, sdk: Option<&Path>) -> anyhow::Result<PathBuf> {
    let valid = !name.is_empty()
        && name.len() <= 64
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if !valid {
        bail!(
            "plugin name '{name}' must be lower-case letters, digits and '-', starting with a letter"
        );
    }
    let dir = parent.join(name);
    if dir.exists() {
        bail!("{} already exists", dir.display());
    }
    let sdk = std::fs::canonicalize(sdk.unwrap_or(Path::new(SDK_DIR)))
        .context("finding the plugin SDK (pass --sdk PATH to the checkout's plugins/sdk)")?;

    let manifest: String = CARGO_TOML
        .lines()
        .skip_while(|line| line.starts_with('#'))
        .map(|line| format!("{line}\n"))
        .collect::<String>()
        .replace("name = \"plugin-template\"", &format!("name = \"{name}\""))
        .replace(
            "path = \"../sdk\"",
            &format!("path = {:?}", sdk.display().to_string()),
        )
        + STANDALONE;
    let type_name: String = name
        .split('-')
        .map(|part| {
            let mut chars = part.chars();
            chars
                .next()
                .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect::<String>()
        + "Plugin";
    let lib = LIB_RS.replace("TemplatePlugin", &type_name);

    std::fs::create_dir_all(dir.join("src"))?;
    std::fs::create_dir_all(dir.join("fixtures"))?;
    std::fs::create_dir_all(dir.join(".cargo"))?;
    std::fs::write(dir.join(".cargo/config.toml"), CARGO_CONFIG)?;
    std::fs::write(dir.join("Cargo.toml"), manifest)?;
    std::fs::write(dir.join("Cargo.lock"), LOCKFILE)?;
    std::fs::write(dir.join("src/lib.rs"), lib)?;
    std::fs::write(dir.join("fixtures/example.csv"), EXAMPLE)?;
    std::fs::write(dir.join(".gitignore"), "/target\n")?;
    Ok(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_copy_is_renamed_and_stands_alone() {
        let parent = tempfile::tempdir().unwrap();
        let dir = new_plugin("acme-orders", parent.path(), None).unwrap();
        let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).unwrap();
        assert!(manifest.contains("name = \"acme-orders\""));
        assert!(manifest.contains("[workspace]"));
        assert!(!manifest.contains("../sdk"));
        let lib = std::fs::read_to_string(dir.join("src/lib.rs")).unwrap();
        assert!(lib.contains("struct AcmeOrdersPlugin"));
        let cargo_config = std::fs::read_to_string(dir.join(".cargo/config.toml")).unwrap();
        assert!(cargo_config.contains("--initial-memory=4194304"));
        assert!(new_plugin("acme-orders", parent.path(), None).is_err());
        assert!(new_plugin("Bad Name", parent.path(), None).is_err());
    }
}
