//! The per-call store: what a plugin instance can see and call.
//!
//! A plugin gets a `WasiCtx` that grants nothing: no preopened directories,
//! no environment, no arguments, no network, closed stdin; stdout and stderr go
//! to the call's bounded log. WASI is linked only because a `wasm32-wasip2`
//! guest built with `std` imports `wasi:cli/*` and `wasi:io/*` even when it
//! uses none of them.

use std::sync::Arc;

use wasmtime::component::{HasSelf, Linker, ResourceTable};
use wasmtime::{Engine, Store};
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

use super::bindings::{LogLevel, Normalizer, NormalizerImports, TypesHost};
use super::engine::deadline_ticks;
use super::limits::CallLimiter;
use super::log::PluginLog;

/// The data of one call's `Store`.
pub(crate) struct CallState {
    wasi: WasiCtx,
    table: ResourceTable,
    pub(crate) limiter: CallLimiter,
    pub(crate) log: Arc<PluginLog>,
}

impl WasiView for CallState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl NormalizerImports for CallState {
    fn log(&mut self, level: LogLevel, message: String) {
        self.log.log(level, &message);
    }
}

/// The `types` interface has no functions; the trait only marks the store.
impl TypesHost for CallState {}

/// The linker every plugin is pre-instantiated against: the world's `log`
/// import plus synchronous WASIp2. Built once per host, never per call.
pub(crate) fn linker(engine: &Engine) -> wasmtime::Result<Linker<CallState>> {
    let mut linker = Linker::new(engine);
    wasmtime_wasi::p2::add_to_linker_sync(&mut linker)?;
    Normalizer::add_to_linker::<_, HasSelf<CallState>>(&mut linker, |state| state)?;
    Ok(linker)
}

/// A fresh store for one call: nothing granted, memory limited to
/// `memory_limit` bytes, interrupted after `time_limit`.
pub(crate) fn new_store(
    engine: &Engine,
    log: Arc<PluginLog>,
    memory_limit: u64,
    time_limit: std::time::Duration,
) -> Store<CallState> {
    let wasi = WasiCtxBuilder::new()
        .stdout(log.stdout())
        .stderr(log.stderr())
        // Explicit even where it is the default: the sandbox must not widen
        // if a wasmtime-wasi default changes.
        .allow_tcp(false)
        .allow_udp(false)
        .allow_ip_name_lookup(false)
        .build();
    let state = CallState {
        wasi,
        table: ResourceTable::new(),
        limiter: CallLimiter::new(memory_limit),
        log,
    };
    let mut store = Store::new(engine, state);
    store.limiter(|state| &mut state.limiter);
    store.set_epoch_deadline(deadline_ticks(time_limit));
    store.epoch_deadline_trap();
    store
}
