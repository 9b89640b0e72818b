//! Compiled plugin code, cached on disk.
//!
//! Compiling a plugin with Cranelift takes from tens of milliseconds to seconds;
//! loading precompiled code is a `mmap`. The cache file is named by the plugin's
//! sha256 *and* a fingerprint of the engine, so code compiled by another wasmtime
//! version or another engine configuration is never loaded: it simply misses.
//!
//! wasmtime maps cached code executable without validating it, so a damaged file
//! would crash the gateway at every start. A file is therefore loaded only when
//! its whole content hashes to the sha256 written beside it; any other file is
//! discarded, with a warning, and the plugin compiled again from its component.

use std::hash::{Hash, Hasher};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use sha2::{Digest, Sha256};
use wasmtime::Engine;
use wasmtime::component::Component;

/// A short, stable fingerprint of everything that makes compiled code
/// compatible with `engine` (wasmtime version, target, compiler settings).
pub(crate) fn engine_fingerprint(engine: &Engine) -> String {
    // `precompile_compatibility_hash` only implements `Hash`; feed it to sha256
    // rather than `DefaultHasher`, whose output is not promised to be stable.
    let mut hasher = Sha256Hasher(Sha256::new());
    engine.precompile_compatibility_hash().hash(&mut hasher);
    hex::encode(&hasher.0.finalize()[..8])
}

struct Sha256Hasher(Sha256);

impl Hasher for Sha256Hasher {
    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }

    fn finish(&self) -> u64 {
        // Unused: the fingerprint takes the full digest.
        0
    }
}

/// Where compiled components live: `<dir>/<sha256>-<fingerprint>.cwasm`, each
/// beside `<same>.cwasm.sha256`, the hex sha256 of the compiled file.
pub(crate) struct CodeCache {
    dir: PathBuf,
    fingerprint: String,
}

/// How a component was obtained; reported for logs and tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum CacheOutcome {
    /// Loaded from a file this cache wrote earlier, whose hash matched.
    Hit,
    /// Compiled now (and written to the cache if there is one).
    Compiled,
    /// A cached file was there but could not be trusted (why is given); it was
    /// thrown away, and the component compiled again and written back.
    Replaced(String),
}

impl CodeCache {
    /// A cache in `dir` (created if missing) for code compiled by `engine`.
    pub(crate) fn new(dir: PathBuf, engine: &Engine) -> std::io::Result<Self> {
        std::fs::create_dir_all(&dir)?;
        Ok(Self {
            dir,
            fingerprint: engine_fingerprint(engine),
        })
    }

    /// The cache file for the plugin with this sha256.
    pub(crate) fn path_for(&self, sha256: &str) -> PathBuf {
        self.dir
            .join(format!("{sha256}-{}.cwasm", self.fingerprint))
    }

    /// The file holding the hex sha256 of the compiled file at `path`.
    pub(crate) fn hash_path_for(path: &Path) -> PathBuf {
        let mut name = path.as_os_str().to_owned();
        name.push(".sha256");
        PathBuf::from(name)
    }

    /// The compiled component for `wasm` (whose sha256 is `sha256`): from the
    /// cache when present and its hash matches, else compiled and written back.
    pub(crate) fn load_or_compile(
        &self,
        engine: &Engine,
        wasm: &[u8],
        sha256: &str,
    ) -> wasmtime::Result<(Component, CacheOutcome)> {
        let path = self.path_for(sha256);
        let mut outcome = CacheOutcome::Compiled;
        if path.is_file() {
            match self.load_verified(engine, &path) {
                Ok(component) => return Ok((component, CacheOutcome::Hit)),
                Err(why) => {
                    tracing::warn!(
                        path = %path.display(),
                        reason = %why,
                        "discarding an untrusted compiled plugin; recompiling it"
                    );
                    let _ = std::fs::remove_file(Self::hash_path_for(&path));
                    let _ = std::fs::remove_file(&path);
                    outcome = CacheOutcome::Replaced(why);
                }
            }
        }
        let component = Component::new(engine, wasm)?;
        if let Err(error) = self.store(&component, &path) {
            // A cache that cannot be written costs speed on the next start, not
            // correctness: keep the compiled component and say so.
            tracing::warn!(
                path = %path.display(),
                error = %error,
                "could not write compiled plugin to the cache"
            );
        }
        Ok((component, outcome))
    }

    /// The component in `path`, only if the whole file hashes to what its hash
    /// file says; otherwise why not.
    fn load_verified(&self, engine: &Engine, path: &Path) -> Result<Component, String> {
        let hash_path = Self::hash_path_for(path);
        let expected = std::fs::read_to_string(&hash_path)
            .map_err(|e| format!("reading its hash file '{}': {e}", hash_path.display()))?;
        let bytes = std::fs::read(path).map_err(|e| format!("reading it: {e}"))?;
        let actual = crate::secrets::hash_bytes(&bytes);
        if actual != expected.trim() {
            return Err(format!(
                "its sha256 is {actual}, its hash file says {}",
                expected.trim()
            ));
        }
        // SAFETY: `deserialize` trusts the bytes to be code wasmtime produced and
        // maps them executable without re-validating them: a damaged file can crash
        // the process (it did: every start segfaulted on one). These are the very
        // bytes just hashed (not the file, which could change in between), and the
        // hash matches the one this cache wrote, after the code, when it compiled
        // them. wasmtime still checks the header and engine compatibility.
        unsafe { Component::deserialize(engine, &bytes) }.map_err(|e| format!("loading it: {e:#}"))
    }

    /// Writes the compiled code, then its hash, each via a temporary file that is
    /// synced before it is renamed into place, then syncs the directory: after a
    /// crash or power loss a hash file never vouches for code that is not whole.
    fn store(&self, component: &Component, path: &Path) -> std::io::Result<()> {
        let bytes = component
            .serialize()
            .map_err(|e| std::io::Error::other(format!("{e:#}")))?;
        let hash = crate::secrets::hash_bytes(&bytes);
        self.write_durably(path, &bytes)?;
        self.write_durably(&Self::hash_path_for(path), hash.as_bytes())?;
        std::fs::File::open(&self.dir)?.sync_all()
    }

    fn write_durably(&self, path: &Path, bytes: &[u8]) -> std::io::Result<()> {
        // Unique per process and call, so concurrent loads of the same plugin
        // never write the same temporary file; the rename is atomic, so readers
        // see either no file or a whole one.
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let tmp = self.dir.join(format!(
            ".{}.{}.{}.tmp",
            path.file_name()
                .and_then(|n| n.to_str())
                .unwrap_or("plugin"),
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        let result = (|| {
            let mut file = std::fs::File::create(&tmp)?;
            file.write_all(bytes)?;
            file.sync_all()?;
            std::fs::rename(&tmp, path)
        })();
        if result.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        result
    }
}
