//! Compiled plugin code, cached on disk.
//!
//! Compiling a plugin with Cranelift takes from tens of milliseconds to seconds;
//! loading precompiled code is a `mmap`. The cache file is named by the plugin's
//! sha256 *and* a fingerprint of the engine, so code compiled by another wasmtime
//! version or another engine configuration is never loaded: it simply misses.

use std::hash::{Hash, Hasher};
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

/// Where compiled components live: `<dir>/<sha256>-<fingerprint>.cwasm`.
pub(crate) struct CodeCache {
    dir: PathBuf,
    fingerprint: String,
}

/// How a component was obtained; reported for logs and tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CacheOutcome {
    /// Loaded from a file this cache wrote earlier.
    Hit,
    /// Compiled now (and written to the cache if there is one).
    Compiled,
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

    /// The compiled component for `wasm` (whose sha256 is `sha256`): from the
    /// cache when present and loadable, else compiled and written back.
    pub(crate) fn load_or_compile(
        &self,
        engine: &Engine,
        wasm: &[u8],
        sha256: &str,
    ) -> wasmtime::Result<(Component, CacheOutcome)> {
        let path = self.path_for(sha256);
        if path.is_file() {
            // SAFETY: `deserialize_file` trusts the file to be code wasmtime
            // produced, since it maps it executable without re-validating it.
            // The file is one this cache wrote: its name carries the sha256 of the
            // source and the engine fingerprint, it is written whole via a
            // temporary file and a rename, and the cache directory belongs to the
            // gateway. wasmtime still checks the header and engine compatibility
            // and fails (rather than misbehaves) on a mismatch.
            match unsafe { Component::deserialize_file(engine, &path) } {
                Ok(component) => return Ok((component, CacheOutcome::Hit)),
                Err(error) => {
                    tracing::warn!(
                        path = %path.display(),
                        error = %error,
                        "discarding unloadable compiled plugin; recompiling"
                    );
                    let _ = std::fs::remove_file(&path);
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
        Ok((component, CacheOutcome::Compiled))
    }

    fn store(&self, component: &Component, path: &Path) -> std::io::Result<()> {
        let bytes = component
            .serialize()
            .map_err(|e| std::io::Error::other(format!("{e:#}")))?;
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
        let result = std::fs::write(&tmp, &bytes).and_then(|()| std::fs::rename(&tmp, path));
        if result.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        result
    }
}
