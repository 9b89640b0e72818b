//! The plugin host: runs a buyer's sandboxed WebAssembly component to turn an
//! inbound message into canonical purchase orders.
//!
//! - [`PluginHost`] owns one wasmtime engine (see `engine.rs` for every knob),
//!   the linker, the on-disk code cache and the epoch ticker.
//! - [`PluginHost::load`] compiles (or loads from cache), links and
//!   pre-instantiates a plugin and reads its `info()`: a [`LoadedPlugin`].
//! - [`PluginHost::normalize`] runs one message through a fresh instance under
//!   the call's [`Limits`]; it is synchronous. Async callers first try
//!   [`PluginHost::normalize_inline`], which runs the call on their own thread
//!   for at most [`INLINE_TIME`] (a small order takes well under a millisecond,
//!   less than the two thread hand-offs of `spawn_blocking` cost), and run the
//!   few that move in `tokio::task::spawn_blocking`.
//! - [`PluginRegistry`] keeps the loaded plugins by name and sha256.
//!
//! The contract is `schemas/wit/v4/plugin.wit` (`jembatan:plugin@0.4.0`, one
//! outcome per transaction; an e-mail with its date and HTML; and, in world
//! `plugin-with-responses`, the optional `render-response` that
//! [`PluginHost::render_response`] calls); plugins built against the earlier
//! versions (`schemas/wit/v3`, `schemas/wit/v2`, `schemas/wit/v1`) still load and
//! run. All are bound in `bindings.rs`, and [`Normalized`] is what any made of a
//! message.
//!
//! # Speed
//!
//! Measured on the 2-core dev machine, release build, under other load
//! (`cargo test --release -p jembatan --lib plugin_host::tests::per_call_cost
//! -- --ignored --nocapture --test-threads=1`):
//!
//! - fresh store + instance alone: ~8 us; plus a trivial `info()` call: ~20-25 us;
//! - canonical-json, minimal order: ~30 us per call (p50);
//! - ubl-order, 10-line order (13 KB of XML): ~190-200 us per call (p50), of
//!   which the host's share is the ~25 us above: the rest is the plugin's own
//!   parsing and serialisation.
//!
//! What buys this: pre-instantiation (`PluginPre`, linked once), the pooling
//! allocator with copy-on-write memory images, and a `WasiCtx` that is only a
//! few boxed stubs.

mod bindings;
mod cache;
mod engine;
mod error;
mod input;
mod limits;
mod log;
mod output;
mod permits;
mod registry;
mod sandbox;
mod sync_io;

#[cfg(test)]
mod tests;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use wasmtime::Engine;
use wasmtime::component::{Component, Linker};

pub use error::{ErrorLocation, LoadError, NormalizeError};
pub use input::{EmailAttachment, EmailInput, PluginInput};
pub use limits::Limits;
pub use log::LogContext;
pub use output::{Normalized, PluginRefusal, PluginWarning, Transaction, TransactionOutcome};
pub use registry::{PluginRegistry, RegistryError};

use bindings::{v1, v2, v3, v4, v4r};
use cache::{CacheOutcome, CodeCache};
use engine::EpochTicker;
use error::{FailureContext, classify};
use log::PluginLog;
use permits::Permits;
use sandbox::{CallState, World};

/// How long [`PluginHost::normalize_inline`] lets a call hold the calling
/// thread before abandoning it: between this and one epoch tick more. An order
/// of hundreds of lines takes a few milliseconds; only the exceptional call,
/// or one that would run into its limit, moves to a thread of the pool.
pub const INLINE_TIME: Duration = engine::EPOCH_TICK;

/// The largest input [`PluginHost::normalize_inline`] takes: bigger ones would
/// likely overrun [`INLINE_TIME`] and only waste the attempt.
pub const INLINE_INPUT_BYTES: u64 = 256 << 10;

/// What [`PluginHost::normalize_inline`] did.
#[derive(Debug)]
pub enum InlineCall {
    /// The call ran to its end (or was refused): its answer.
    Finished(Result<Normalized, NormalizeError>),
    /// Not run to its end here: run [`PluginHost::normalize`] where it may
    /// block.
    Move,
}

/// How the plugin host is sized. One per gateway process.
#[derive(Debug, Clone)]
pub struct PluginHostConfig {
    /// Directory for compiled plugin code (`<sha256>-<engine>.cwasm`). `None`
    /// compiles every plugin on each load, which is slow but needs no disk.
    pub cache_dir: Option<PathBuf>,
    /// Plugin calls that may run at once; the size of the instance pool. A
    /// call beyond it waits for a free slot. Each slot reserves address space
    /// (not RAM) for its linear memories.
    pub max_concurrent_instances: u32,
    /// The most linear memory any buyer's limit may grant, in bytes; a buyer's
    /// `Limits::memory_bytes` above it is clamped to it.
    pub max_memory_bytes_cap: u64,
    /// Who is told the names of the plugins' compiled functions.
    pub profiler: Profiler,
}

impl Default for PluginHostConfig {
    fn default() -> Self {
        Self {
            cache_dir: None,
            max_concurrent_instances: 64,
            max_memory_bytes_cap: 256 << 20,
            profiler: Profiler::None,
        }
    }
}

/// Where the plugins' compiled functions are named, so that a profiler of the
/// gateway's process shows a plugin's own functions (`JEMBATAN_PLUGIN_PROFILER`).
/// Without it, `perf` shows all of a plugin's time as one anonymous `[JIT]` block.
/// The names are those of the plugin's `name` section: a plugin built with
/// `strip = true` (as the stock ones are) shows `wasm[0]::function[N]`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Profiler {
    #[default]
    None,
    /// `/tmp/perf-<pid>.map`, read by `perf report` as it is.
    #[value(name = "perfmap")]
    PerfMap,
    /// wasmtime's jitdump file, `./jit-<pid>.dump`, for `perf inject --jit`.
    #[value(name = "jitdump")]
    JitDump,
}

/// What a plugin says it is; read once from its `info()` at load.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PluginInfo {
    /// The plugin's name, e.g. `ubl-order`; buyers are bound to it.
    pub name: String,
    /// The plugin's version, e.g. `0.1.0`.
    pub version: String,
    /// One line about what the plugin reads.
    pub description: String,
    /// Media types the plugin reads; `*/*` and `type/*` are allowed.
    pub content_types: Vec<String>,
}

/// A compiled, linked and pre-instantiated plugin, ready to run calls.
///
/// Usually held as `Arc<LoadedPlugin>`; a clone shares the compiled code and
/// only copies the small `info`.
#[derive(Clone)]
pub struct LoadedPlugin {
    /// What the plugin says it is.
    pub info: PluginInfo,
    /// Hex sha256 of the plugin's wasm bytes: its identity.
    pub sha256: String,
    /// Size of the plugin's wasm bytes.
    pub size_bytes: usize,
    pre: Pre,
    /// `content_types` lower-cased once, for [`LoadedPlugin::accepts`].
    patterns: Vec<String>,
}

impl std::fmt::Debug for LoadedPlugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadedPlugin")
            .field("info", &self.info)
            .field("sha256", &self.sha256)
            .field("size_bytes", &self.size_bytes)
            .finish_non_exhaustive()
    }
}

/// A plugin pre-instantiated in the world it was built against.
#[derive(Clone)]
enum Pre {
    V1(v1::NormalizerPre<CallState>),
    V2(v2::PluginPre<CallState>),
    V3(v3::PluginPre<CallState>),
    V4(v4::PluginPre<CallState>),
    /// Built against world `plugin-with-responses`: it can render responses.
    V4Responses(v4r::PluginWithResponsesPre<CallState>),
}

impl Pre {
    fn engine(&self) -> &Engine {
        match self {
            Self::V1(pre) => pre.engine(),
            Self::V2(pre) => pre.engine(),
            Self::V3(pre) => pre.engine(),
            Self::V4(pre) => pre.engine(),
            Self::V4Responses(pre) => pre.engine(),
        }
    }
}

impl LoadedPlugin {
    /// The version of the plugin contract it was built against: `0.1.0` or
    /// `0.2.0`, `0.3.0` or `0.4.0` (the WIT package `jembatan:plugin@…`). A
    /// component built against 0.3.0 reports `0.4.0`: 0.4's world `plugin` has
    /// exactly 0.3's shape, and components are linked by shape.
    pub fn wit_version(&self) -> &'static str {
        match self.pre {
            Pre::V1(_) => "0.1.0",
            Pre::V2(_) => "0.2.0",
            Pre::V3(_) => "0.3.0",
            Pre::V4(_) | Pre::V4Responses(_) => "0.4.0",
        }
    }

    /// Whether the plugin exports `render-response` (world
    /// `plugin-with-responses` of `jembatan:plugin@0.4.0`): it can write a
    /// craftsman's answer in its buyers' format.
    pub fn renders_responses(&self) -> bool {
        matches!(self.pre, Pre::V4Responses(_))
    }

    /// Whether the plugin reads `content_type` (parameters such as `charset`
    /// ignored, case-insensitive), by its declared media types and patterns.
    pub fn accepts(&self, content_type: &str) -> bool {
        let essence = input::media_type_essence(content_type);
        let Some((ty, _)) = essence.split_once('/') else {
            return false;
        };
        self.patterns.iter().any(|pattern| {
            pattern == "*/*"
                || *pattern == essence
                || pattern
                    .strip_suffix("/*")
                    .is_some_and(|pattern_ty| pattern_ty == ty)
        })
    }
}

/// Runs plugins. Cheap to clone (one shared engine); all methods take `&self`
/// and are safe to call from many threads at once.
#[derive(Clone)]
pub struct PluginHost {
    inner: Arc<HostInner>,
}

struct HostInner {
    engine: Engine,
    linker_v1: Linker<CallState>,
    linker_v2: Linker<CallState>,
    linker_v3: Linker<CallState>,
    linker_v4: Linker<CallState>,
    linker_v4_responses: Linker<CallState>,
    cache: Option<CodeCache>,
    permits: Permits,
    memory_cap: u64,
    // Last: dropped after everything else, and stops the ticking thread.
    _ticker: EpochTicker,
}

impl std::fmt::Debug for PluginHost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PluginHost")
            .field("memory_cap", &self.inner.memory_cap)
            .finish_non_exhaustive()
    }
}

/// A call in a fresh instance: it did not get as far as the plugin, or it ran.
enum Call {
    NotInstantiated(wasmtime::Error),
    Ran(wasmtime::Result<Result<Normalized, NormalizeError>>),
}

/// The plugin's refusal of the whole message.
fn rejected(code: String, message: String, location: Option<ErrorLocation>) -> NormalizeError {
    NormalizeError::Rejected {
        code,
        message,
        location,
    }
}

/// A 0.4 plugin's answer to `normalize`, in the host's types.
fn from_v4_answer(
    answer: Result<v4::Normalized, v4::PluginError>,
) -> Result<Normalized, NormalizeError> {
    answer.map(Normalized::from_v4).map_err(v4_rejected)
}

/// A 0.4 plugin's `err`, in the host's types.
fn v4_rejected(e: v4::PluginError) -> NormalizeError {
    rejected(e.code, e.message, e.location.map(output::location_v4))
}

/// What [`PluginHost::render_response`] gives the plugin's `render-response`.
#[derive(Debug, Clone)]
pub struct RenderRequest {
    /// The response, canonical JSON (`schemas/order-response.schema.json`).
    pub response_json: String,
    /// The order answered, canonical JSON (v2) as stored.
    pub order_json: String,
    /// The stored inbound message the order came in.
    pub original: PluginInput,
    /// The buyer's plugin config as JSON.
    pub config_json: String,
    /// Fresh from the buyer's sequence in the store.
    pub control_numbers: ControlNumbers,
}

/// The control numbers one rendered document may use, never given twice for a
/// buyer (`ResponseStore::next_control_number`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ControlNumbers {
    pub interchange: u32,
    pub group: u32,
    pub transaction: u32,
}

impl RenderRequest {
    fn size_bytes(&self) -> u64 {
        (self.response_json.len() + self.order_json.len() + self.config_json.len()) as u64
            + self.original.size_bytes()
    }

    fn into_wit(self) -> v4::ResponseRequest {
        v4::ResponseRequest {
            response: self.response_json,
            order: self.order_json,
            original: self.original.into_wit_v4(),
            config: self.config_json,
            control_numbers: v4::ControlNumbers {
                interchange: self.control_numbers.interchange,
                group: self.control_numbers.group,
                transaction: self.control_numbers.transaction,
            },
        }
    }
}

/// A response written in the buyer's format by its plugin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedDocument {
    /// Media type, e.g. `application/edi-x12`.
    pub content_type: String,
    pub body: Vec<u8>,
}

impl PluginHost {
    /// Builds the engine, linker and cache, and starts the epoch ticker.
    pub fn new(config: PluginHostConfig) -> Result<Self, LoadError> {
        let host_error =
            |what: &str, e: &dyn std::fmt::Display| LoadError::Host(format!("{what}: {e}"));
        let engine = engine::build_engine(
            config.max_concurrent_instances,
            config.max_memory_bytes_cap,
            config.profiler,
        )
        .map_err(|e| host_error("building the wasm engine", &format!("{e:#}")))?;
        let linker = |world| {
            sandbox::linker(&engine, world)
                .map_err(|e| host_error("linking the plugin imports", &format!("{e:#}")))
        };
        let (linker_v1, linker_v2, linker_v3) =
            (linker(World::V1)?, linker(World::V2)?, linker(World::V3)?);
        let (linker_v4, linker_v4_responses) = (linker(World::V4)?, linker(World::V4Responses)?);
        let cache = match config.cache_dir {
            Some(dir) => Some(CodeCache::new(dir.clone(), &engine).map_err(|e| {
                host_error(&format!("creating plugin cache '{}'", dir.display()), &e)
            })?),
            None => None,
        };
        let ticker =
            EpochTicker::start(&engine).map_err(|e| host_error("starting the epoch thread", &e))?;
        Ok(Self {
            inner: Arc::new(HostInner {
                engine,
                linker_v1,
                linker_v2,
                linker_v3,
                linker_v4,
                linker_v4_responses,
                cache,
                permits: Permits::new(config.max_concurrent_instances.max(1)),
                memory_cap: config.max_memory_bytes_cap,
                _ticker: ticker,
            }),
        })
    }

    /// The most linear memory any call may be given (`max_memory_bytes_cap`).
    pub fn memory_cap(&self) -> u64 {
        self.inner.memory_cap
    }

    /// Compiles (or loads from the disk cache), links and pre-instantiates the
    /// plugin in `wasm`, and reads its `info()`.
    pub fn load(&self, wasm: &[u8]) -> Result<Arc<LoadedPlugin>, LoadError> {
        self.load_reporting(wasm).map(|(plugin, _)| plugin)
    }

    fn load_reporting(&self, wasm: &[u8]) -> Result<(Arc<LoadedPlugin>, CacheOutcome), LoadError> {
        input::check_component_header(wasm)?;
        let inner = &*self.inner;
        let sha256 = crate::secrets::hash_bytes(wasm);
        let compiled = match &inner.cache {
            Some(cache) => cache.load_or_compile(&inner.engine, wasm, &sha256),
            None => Component::new(&inner.engine, wasm).map(|c| (c, CacheOutcome::Compiled)),
        };
        let (component, outcome) = compiled.map_err(|e| LoadError::Invalid(format!("{e:#}")))?;
        let pre = self.pre_instantiate(&component)?;
        let info = self.read_info(&pre)?;
        let patterns = info
            .content_types
            .iter()
            .map(|t| input::media_type_essence(t))
            .collect();
        let plugin = LoadedPlugin {
            info,
            sha256,
            size_bytes: wasm.len(),
            pre,
            patterns,
        };
        if let CacheOutcome::Replaced(reason) = &outcome {
            // Named here, where the plugin is known: the cache knows only a hash.
            tracing::warn!(
                plugin = %plugin.info.name,
                version = %plugin.info.version,
                sha256 = %plugin.sha256,
                %reason,
                "the cached compiled code of this plugin could not be trusted; recompiled it from its component"
            );
        }
        tracing::info!(
            plugin = %plugin.info.name,
            version = %plugin.info.version,
            sha256 = %plugin.sha256,
            cache = ?outcome,
            "plugin loaded"
        );
        Ok((Arc::new(plugin), outcome))
    }

    /// Links `component` in the newest world whose exports it has, falling back
    /// to the first version's: a plugin built against `jembatan:plugin@0.1.0`
    /// keeps loading. Within 0.4, the world with `render-response` is tried
    /// first, then the one without.
    fn pre_instantiate(&self, component: &Component) -> Result<Pre, LoadError> {
        let inner = &*self.inner;
        let v4_responses = inner
            .linker_v4_responses
            .instantiate_pre(component)
            .and_then(v4r::PluginWithResponsesPre::new);
        if let Ok(pre) = v4_responses {
            return Ok(Pre::V4Responses(pre));
        }
        let v4 = inner
            .linker_v4
            .instantiate_pre(component)
            .and_then(v4::PluginPre::new);
        let v4_error = match v4 {
            Ok(pre) => return Ok(Pre::V4(pre)),
            Err(e) => e,
        };
        let v3 = inner
            .linker_v3
            .instantiate_pre(component)
            .and_then(v3::PluginPre::new);
        let v3_error = match v3 {
            Ok(pre) => return Ok(Pre::V3(pre)),
            Err(e) => e,
        };
        let v2 = inner
            .linker_v2
            .instantiate_pre(component)
            .and_then(v2::PluginPre::new);
        let v2_error = match v2 {
            Ok(pre) => return Ok(Pre::V2(pre)),
            Err(e) => e,
        };
        inner
            .linker_v1
            .instantiate_pre(component)
            .and_then(v1::NormalizerPre::new)
            .map(Pre::V1)
            .map_err(|v1_error| {
                LoadError::NotAPlugin(format!(
                    "it fits none of jembatan:plugin@0.4.0 ({v4_error:#}), \
                     jembatan:plugin@0.3.0 ({v3_error:#}), \
                     jembatan:plugin@0.2.0 ({v2_error:#}) and jembatan:plugin@0.1.0 \
                     ({v1_error:#})"
                ))
            })
    }

    /// Calls the guest's `info()` in a fresh store under default limits: a
    /// plugin that loops or traps here is refused at load, not at first use.
    fn read_info(&self, pre: &Pre) -> Result<PluginInfo, LoadError> {
        let context = LogContext {
            plugin_name: "(loading)".into(),
            ..LogContext::default()
        };
        let result = self.in_fresh_store(context, &Limits::default(), |store| match pre {
            Pre::V1(pre) => pre
                .instantiate(&mut *store)
                .and_then(|plugin| plugin.call_info(store))
                .map(|i| (i.name, i.version, i.description, i.content_types)),
            Pre::V2(pre) => pre
                .instantiate(&mut *store)
                .and_then(|plugin| plugin.call_info(store))
                .map(|i| (i.name, i.version, i.description, i.content_types)),
            Pre::V3(pre) => pre
                .instantiate(&mut *store)
                .and_then(|plugin| plugin.call_info(store))
                .map(|i| (i.name, i.version, i.description, i.content_types)),
            Pre::V4(pre) => pre
                .instantiate(&mut *store)
                .and_then(|plugin| plugin.call_info(store))
                .map(|i| (i.name, i.version, i.description, i.content_types)),
            Pre::V4Responses(pre) => pre
                .instantiate(&mut *store)
                .and_then(|plugin| plugin.call_info(store))
                .map(|i| (i.name, i.version, i.description, i.content_types)),
        });
        let (name, version, description, content_types) =
            result.map_err(|e| LoadError::NotAPlugin(format!("its info() failed: {e}")))?;
        if name.trim().is_empty() || version.trim().is_empty() {
            return Err(LoadError::NotAPlugin(
                "its info() gives an empty name or version".into(),
            ));
        }
        Ok(PluginInfo {
            name,
            version,
            description,
            content_types,
        })
    }

    /// Runs `call` in a fresh store under `limits` (its memory within the host's
    /// cap), holding a pool slot: what the call returned, or why it failed.
    fn in_fresh_store<T>(
        &self,
        context: LogContext,
        limits: &Limits,
        call: impl FnOnce(&mut wasmtime::Store<CallState>) -> wasmtime::Result<T>,
    ) -> Result<T, NormalizeError> {
        let inner = &*self.inner;
        let memory_limit = limits.memory_bytes.min(inner.memory_cap);
        let _permit = inner.permits.acquire();
        let log = PluginLog::new(context);
        let mut store = sandbox::new_store(&inner.engine, log.clone(), memory_limit, limits.time);
        let result = call(&mut store);
        log.finish();
        result.map_err(|e| classify(&e, self.failure_context(&store, limits, memory_limit, &log)))
    }

    /// Normalizes one message with `plugin`, in a fresh instance, under
    /// `limits`. `config_json` is the buyer's plugin config. Synchronous: it
    /// blocks for up to `limits.time` (plus a wait for a free pool slot), so
    /// async callers run it in `tokio::task::spawn_blocking`, or first try
    /// [`PluginHost::normalize_inline`].
    ///
    /// On success, one outcome per transaction of the message; the orders in it
    /// are canonical JSON not yet validated against the schema.
    pub fn normalize(
        &self,
        plugin: &LoadedPlugin,
        input: PluginInput,
        config_json: &str,
        limits: &Limits,
        log: LogContext,
    ) -> Result<Normalized, NormalizeError> {
        self.admit(plugin, &input, limits)?;
        let _permit = self.inner.permits.acquire();
        let log = PluginLog::new(log);
        self.run_normalize(plugin, input, config_json, limits, &log, limits.time)
    }

    /// [`PluginHost::normalize`] on the calling thread, for an async caller that
    /// would rather not hand a short call to another thread and back (on a busy
    /// gateway those two hand-offs cost more CPU than a small order's call).
    /// It never blocks the caller for long: a call that runs over
    /// [`INLINE_TIME`] is abandoned ([`InlineCall::Move`]; the plugin's output
    /// depends on its input alone, so running it again from the start gives
    /// what it would have given, and its log is kept until it finishes, so
    /// nothing is logged twice). So is one whose input is over
    /// [`INLINE_INPUT_BYTES`] or that finds no free pool slot: those go to
    /// [`PluginHost::normalize`] on a thread that may wait.
    pub fn normalize_inline(
        &self,
        plugin: &LoadedPlugin,
        input: &PluginInput,
        config_json: &str,
        limits: &Limits,
        log: LogContext,
    ) -> InlineCall {
        if let Err(refused) = self.admit(plugin, input, limits) {
            return InlineCall::Finished(Err(refused));
        }
        if input.size_bytes() > INLINE_INPUT_BYTES {
            return InlineCall::Move;
        }
        let Some(_permit) = self.inner.permits.try_acquire() else {
            return InlineCall::Move;
        };
        let log = PluginLog::held(log);
        let deadline = limits.time.min(INLINE_TIME);
        match self.run_normalize(plugin, input.clone(), config_json, limits, &log, deadline) {
            // Stopped at the inline deadline, short of the call's own limit.
            Err(NormalizeError::Timeout { .. }) if deadline < limits.time => InlineCall::Move,
            finished => {
                log.release();
                InlineCall::Finished(finished)
            }
        }
    }

    /// Refuses a call that must not start: a plugin of another host, or an
    /// input over the limit.
    fn admit(
        &self,
        plugin: &LoadedPlugin,
        input: &PluginInput,
        limits: &Limits,
    ) -> Result<(), NormalizeError> {
        if !Engine::same(plugin.pre.engine(), &self.inner.engine) {
            // Mixing engines would make wasmtime panic; refuse instead.
            return Err(NormalizeError::Host {
                message: format!(
                    "plugin '{}' was loaded by another PluginHost",
                    plugin.info.name
                ),
            });
        }
        let size = input.size_bytes();
        if size > limits.input_bytes {
            return Err(NormalizeError::InputTooLarge {
                size,
                limit: limits.input_bytes,
            });
        }
        Ok(())
    }

    /// One normalize call in a fresh store, interrupted after `deadline`
    /// (`limits.time`, or less for an inline call); the caller holds a permit.
    fn run_normalize(
        &self,
        plugin: &LoadedPlugin,
        input: PluginInput,
        config_json: &str,
        limits: &Limits,
        log: &Arc<PluginLog>,
        deadline: Duration,
    ) -> Result<Normalized, NormalizeError> {
        let inner = &*self.inner;
        let memory_limit = limits.memory_bytes.min(inner.memory_cap);
        let mut store = sandbox::new_store(&inner.engine, log.clone(), memory_limit, deadline);
        // Each world's call, its answer in the host's types: `Ran(Err)` is
        // wasmtime's (a trap, an interrupt), `Ran(Ok(Err))` the plugin's refusal.
        let call = match &plugin.pre {
            Pre::V1(pre) => match pre.instantiate(&mut store) {
                Err(e) => Call::NotInstantiated(e),
                Ok(p) => Call::Ran(
                    p.call_normalize(&mut store, &input.into_wit_v1(), config_json)
                        .map(|answer| {
                            answer.map(Normalized::from_v1).map_err(|e| {
                                rejected(e.code, e.message, e.location.map(output::location_v1))
                            })
                        }),
                ),
            },
            Pre::V2(pre) => match pre.instantiate(&mut store) {
                Err(e) => Call::NotInstantiated(e),
                Ok(p) => Call::Ran(
                    p.call_normalize(&mut store, &input.into_wit_v2(), config_json)
                        .map(|answer| {
                            answer.map(Normalized::from_v2).map_err(|e| {
                                rejected(e.code, e.message, e.location.map(output::location_v2))
                            })
                        }),
                ),
            },
            Pre::V3(pre) => match pre.instantiate(&mut store) {
                Err(e) => Call::NotInstantiated(e),
                Ok(p) => Call::Ran(
                    p.call_normalize(&mut store, &input.into_wit_v3(), config_json)
                        .map(|answer| {
                            answer.map(Normalized::from_v3).map_err(|e| {
                                rejected(e.code, e.message, e.location.map(output::location_v3))
                            })
                        }),
                ),
            },
            Pre::V4(pre) => match pre.instantiate(&mut store) {
                Err(e) => Call::NotInstantiated(e),
                Ok(p) => Call::Ran(
                    p.call_normalize(&mut store, &input.into_wit_v4(), config_json)
                        .map(from_v4_answer),
                ),
            },
            Pre::V4Responses(pre) => match pre.instantiate(&mut store) {
                Err(e) => Call::NotInstantiated(e),
                Ok(p) => Call::Ran(
                    p.call_normalize(&mut store, &input.into_wit_v4(), config_json)
                        .map(from_v4_answer),
                ),
            },
        };
        let result = match call {
            Call::Ran(result) => result,
            Call::NotInstantiated(e)
                if e.downcast_ref::<wasmtime::Trap>().is_none()
                    && !store.data().limiter.denied() =>
            {
                // Every plugin was instantiated once at load, so failing now
                // is the host's doing (e.g. the pool could not map memory).
                log.finish();
                return Err(NormalizeError::Host {
                    message: format!("instantiating plugin '{}': {e:#}", plugin.info.name),
                });
            }
            Call::NotInstantiated(e) => Err(e),
        };
        log.finish();
        match result {
            Ok(Ok(normalized)) => {
                let size = normalized.size_bytes();
                if size > limits.output_bytes {
                    return Err(NormalizeError::OutputTooLarge {
                        size,
                        limit: limits.output_bytes,
                    });
                }
                Ok(normalized)
            }
            Ok(Err(refusal)) => Err(refusal),
            Err(e) => Err(classify(
                &e,
                self.failure_context(&store, limits, memory_limit, log),
            )),
        }
    }

    /// Asks `plugin` whether it can work with `config_json` (its `check-config`),
    /// in a fresh instance under the default limits. `Ok` for a plugin built
    /// against the first contract, which has no way to say. Synchronous, like
    /// [`PluginHost::normalize`].
    pub fn check_config(
        &self,
        plugin: &LoadedPlugin,
        config_json: &str,
    ) -> Result<(), NormalizeError> {
        let context = LogContext {
            plugin_name: plugin.info.name.clone(),
            plugin_version: plugin.info.version.clone(),
            ..LogContext::default()
        };
        match &plugin.pre {
            Pre::V1(_) => Ok(()),
            Pre::V2(pre) => self
                .in_fresh_store(context, &Limits::default(), |store| {
                    pre.instantiate(&mut *store)
                        .and_then(|instance| instance.call_check_config(store, config_json))
                })?
                .map_err(|e| rejected(e.code, e.message, e.location.map(output::location_v2))),
            Pre::V3(pre) => self
                .in_fresh_store(context, &Limits::default(), |store| {
                    pre.instantiate(&mut *store)
                        .and_then(|instance| instance.call_check_config(store, config_json))
                })?
                .map_err(|e| rejected(e.code, e.message, e.location.map(output::location_v3))),
            Pre::V4(pre) => self
                .in_fresh_store(context, &Limits::default(), |store| {
                    pre.instantiate(&mut *store)
                        .and_then(|instance| instance.call_check_config(store, config_json))
                })?
                .map_err(v4_rejected),
            Pre::V4Responses(pre) => self
                .in_fresh_store(context, &Limits::default(), |store| {
                    pre.instantiate(&mut *store)
                        .and_then(|instance| instance.call_check_config(store, config_json))
                })?
                .map_err(v4_rejected),
        }
    }

    /// Renders a craftsman's answer in the buyer's format with `plugin`'s
    /// `render-response`, in a fresh instance under `limits`: the same sandbox,
    /// memory, time and output bounds as [`PluginHost::normalize`] (the request's
    /// size counts against `input_bytes`). Synchronous like it.
    /// [`NormalizeError::Host`] when the plugin does not render
    /// ([`LoadedPlugin::renders_responses`]); the plugin's own `err` is
    /// [`NormalizeError::Rejected`].
    pub fn render_response(
        &self,
        plugin: &LoadedPlugin,
        request: RenderRequest,
        limits: &Limits,
        log: LogContext,
    ) -> Result<RenderedDocument, NormalizeError> {
        let Pre::V4Responses(pre) = &plugin.pre else {
            return Err(NormalizeError::Host {
                message: format!("plugin '{}' does not render responses", plugin.info.name),
            });
        };
        if !Engine::same(pre.engine(), &self.inner.engine) {
            return Err(NormalizeError::Host {
                message: format!(
                    "plugin '{}' was loaded by another PluginHost",
                    plugin.info.name
                ),
            });
        }
        let size = request.size_bytes();
        if size > limits.input_bytes {
            return Err(NormalizeError::InputTooLarge {
                size,
                limit: limits.input_bytes,
            });
        }
        let request = request.into_wit();
        let answer = self.in_fresh_store(log, limits, |store| {
            pre.instantiate(&mut *store)
                .and_then(|instance| instance.call_render_response(store, &request))
        })?;
        let rendered = answer.map_err(v4_rejected)?;
        let size = (rendered.content_type.len() + rendered.body.len()) as u64;
        if size > limits.output_bytes {
            return Err(NormalizeError::OutputTooLarge {
                size,
                limit: limits.output_bytes,
            });
        }
        Ok(RenderedDocument {
            content_type: rendered.content_type,
            body: rendered.body,
        })
    }

    fn failure_context(
        &self,
        store: &wasmtime::Store<CallState>,
        limits: &Limits,
        memory_limit: u64,
        log: &PluginLog,
    ) -> FailureContext {
        FailureContext {
            time_limit: limits.time,
            memory_limit,
            memory_denied: store.data().limiter.denied(),
            stderr: log.stderr_summary(),
        }
    }
}
