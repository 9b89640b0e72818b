//! The loaded plugins, by name and by sha256.
//!
//! Buyers name a plugin; the registry answers with the version registered last
//! under that name, so registering a new version switches every buyer on it
//! atomically while the old version stays reachable by sha256 (and by
//! name + version) for rollback and replay.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use super::{LoadError, LoadedPlugin, PluginHost};

/// The stock plugins, built by `plugins/build` and shipped inside the binary.
const STOCK: &[(&str, &[u8])] = &[
    (
        "canonical-json.wasm",
        include_bytes!("../../../plugins/dist/canonical-json.wasm"),
    ),
    (
        "ubl-order.wasm",
        include_bytes!("../../../plugins/dist/ubl-order.wasm"),
    ),
    (
        "cxml-order.wasm",
        include_bytes!("../../../plugins/dist/cxml-order.wasm"),
    ),
    (
        "json-map.wasm",
        include_bytes!("../../../plugins/dist/json-map.wasm"),
    ),
    (
        "x12-850.wasm",
        include_bytes!("../../../plugins/dist/x12-850.wasm"),
    ),
    (
        "edifact-orders.wasm",
        include_bytes!("../../../plugins/dist/edifact-orders.wasm"),
    ),
    (
        "email-order.wasm",
        include_bytes!("../../../plugins/dist/email-order.wasm"),
    ),
];

/// Why a plugin could not be added from a file or directory.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// A file or directory could not be read.
    #[error("reading '{}': {source}", path.display())]
    Io {
        /// What was being read.
        path: PathBuf,
        /// Why it failed.
        source: std::io::Error,
    },
    /// A file was read but is not a loadable plugin.
    #[error("loading plugin '{}': {source}", path.display())]
    Load {
        /// The plugin file (or `<stock>/name.wasm` for a built-in one).
        path: PathBuf,
        /// Why it failed.
        source: LoadError,
    },
}

/// Thread-safe set of loaded plugins. Cheap to clone (shared); lookups take a
/// read lock and clone an `Arc`.
#[derive(Clone, Default)]
pub struct PluginRegistry {
    inner: Arc<RwLock<Inner>>,
}

#[derive(Default)]
struct Inner {
    by_sha: HashMap<String, Arc<LoadedPlugin>>,
    /// Every version of a name, in registration order; the last one wins.
    by_name: HashMap<String, Vec<Arc<LoadedPlugin>>>,
}

impl std::fmt::Debug for PluginRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.list()).finish()
    }
}

impl PluginRegistry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// A registry holding the stock plugins shipped with the gateway.
    pub fn with_stock(host: &PluginHost) -> Result<Self, RegistryError> {
        let registry = Self::new();
        for (name, wasm) in STOCK {
            let plugin = host.load(wasm).map_err(|source| RegistryError::Load {
                path: Path::new("<stock>").join(name),
                source,
            })?;
            registry.register(plugin);
        }
        Ok(registry)
    }

    /// Loads and registers every `*.wasm` file in `dir` (not recursive), in
    /// file-name order; returns what was loaded. Stops at the first file that
    /// fails, naming it: an operator's broken plugin should stop the start,
    /// not be skipped silently.
    pub fn load_dir(
        &self,
        host: &PluginHost,
        dir: &Path,
    ) -> Result<Vec<Arc<LoadedPlugin>>, RegistryError> {
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| RegistryError::Io { path, source }
        };
        let mut files = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(io(dir))? {
            let path = entry.map_err(io(dir))?.path();
            if path.extension().is_some_and(|ext| ext == "wasm") && path.is_file() {
                files.push(path);
            }
        }
        files.sort();
        let mut loaded = Vec::with_capacity(files.len());
        for path in files {
            let wasm = std::fs::read(&path).map_err(io(&path))?;
            let plugin = host.load(&wasm).map_err(|source| RegistryError::Load {
                path: path.clone(),
                source,
            })?;
            self.register(plugin.clone());
            loaded.push(plugin);
        }
        Ok(loaded)
    }

    /// Adds a plugin. It becomes the one `get(name)` returns; registering the
    /// same bytes again just makes them the latest again.
    pub fn register(&self, plugin: Arc<LoadedPlugin>) {
        let mut inner = self.write();
        let versions = inner.by_name.entry(plugin.info.name.clone()).or_default();
        versions.retain(|p| p.sha256 != plugin.sha256);
        versions.push(plugin.clone());
        inner.by_sha.insert(plugin.sha256.clone(), plugin);
    }

    /// The latest registered plugin called `name`.
    pub fn get(&self, name: &str) -> Option<Arc<LoadedPlugin>> {
        self.read().by_name.get(name)?.last().cloned()
    }

    /// The latest registered plugin called `name` with exactly `version`.
    pub fn get_version(&self, name: &str, version: &str) -> Option<Arc<LoadedPlugin>> {
        self.read()
            .by_name
            .get(name)?
            .iter()
            .rev()
            .find(|p| p.info.version == version)
            .cloned()
    }

    /// The plugin whose wasm has this hex sha256.
    pub fn get_by_sha(&self, sha256: &str) -> Option<Arc<LoadedPlugin>> {
        self.read().by_sha.get(sha256).cloned()
    }

    /// Every registered plugin (all versions), sorted by name, then in
    /// registration order.
    pub fn list(&self) -> Vec<Arc<LoadedPlugin>> {
        let inner = self.read();
        let mut names: Vec<&String> = inner.by_name.keys().collect();
        names.sort();
        names
            .into_iter()
            .flat_map(|name| inner.by_name[name].iter().cloned())
            .collect()
    }

    fn read(&self) -> RwLockReadGuard<'_, Inner> {
        // Writers only push to maps; a panic mid-write leaves them usable.
        self.inner.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, Inner> {
        self.inner.write().unwrap_or_else(|p| p.into_inner())
    }
}
