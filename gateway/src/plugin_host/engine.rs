//! The wasmtime [`Engine`] behind every plugin, narrowed to safe defaults.
//!
//! Everything a plugin can consume is bounded here or per call: code runs under
//! epoch interruption (so a loop cannot hold a thread), instances come from a
//! fixed-size pooling allocator (so a burst of messages cannot exhaust the host),
//! and each linear memory is capped by the operator's upper bound.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use wasmtime::{
    Config, Enabled, Engine, InstanceAllocationStrategy, OptLevel, PoolingAllocationConfig,
    ProfilingStrategy,
};

use super::Profiler;

/// How often the background thread advances the engine's epoch. A plugin's time
/// limit is enforced with this granularity: a call overruns its limit by at most
/// about one tick.
pub(crate) const EPOCH_TICK: Duration = Duration::from_millis(10);

/// Core wasm instances one component may create. A Rust `wasm32-wasip2` plugin
/// has one main module plus a few small shim/adapter modules; 16 leaves room for
/// composed components without letting one plugin eat the pool.
const MAX_CORE_INSTANCES_PER_COMPONENT: u32 = 16;

/// Linear memories one component may hold. Plugins built with the SDK have one;
/// a second allows a composed component (e.g. with a WASI adapter that owns its
/// own memory). Each memory slot reserves address space (not RAM), so keep it low.
const MAX_MEMORIES_PER_COMPONENT: u32 = 2;

/// Tables one component may hold: the main module's function table plus the
/// indirect-call tables of the shim modules `wit-component` generates.
const MAX_TABLES_PER_COMPONENT: u32 = 8;

/// Bytes of each linear memory (and of each table) that a released pool slot
/// keeps mapped, resetting only the pages the call dirtied, where the kernel can
/// say which those are (Linux 6.7+, `PAGEMAP_SCAN`).
///
/// Without it, every release `madvise`s the memory away and the next call
/// faults its pages back in, copy-on-write from the plugin's image; each of those
/// page-table changes interrupts every other core to flush its TLB (in a profile
/// of 32 concurrent posts, the IPIs were 17% of the gateway's CPU). With it, a
/// slot keeps its working set and a release copies back only the dirty pages:
/// 1.3x to 1.7x the orders per second in paired `bench` runs. 4 MiB covers a
/// stock plugin's working set for an ordinary order; pages past it are released
/// as before, so 64 slots keep at most 256 MiB resident.
const KEEP_RESIDENT_WITH_PAGEMAP: usize = 4 << 20;

/// The same without `PAGEMAP_SCAN`: `memset`-ing a fixed prefix costs more than
/// the page faults it saves (measured on a single thread: 0 gives ~30 us per
/// call, 1 MiB ~44 us; a Rust guest starts with ~1 MiB of memory).
const KEEP_RESIDENT_WITHOUT_PAGEMAP: usize = 0;

/// Frames captured for a trap's backtrace. Only the first is reported; the cap
/// keeps a deep recursion trap from costing a large capture.
const MAX_BACKTRACE_FRAMES: usize = 16;

/// Builds the engine for `max_concurrent_instances` simultaneous plugin calls,
/// with no linear memory allowed past `max_memory_bytes_cap`, its compiled code
/// named for `profiler`.
pub(crate) fn build_engine(
    max_concurrent_instances: u32,
    max_memory_bytes_cap: u64,
    profiler: Profiler,
) -> wasmtime::Result<Engine> {
    let instances = max_concurrent_instances.max(1);
    let mut pool = PoolingAllocationConfig::new();
    // One component instance per call; the host's semaphore guarantees no more
    // than `instances` calls are live, so the pool can never be exhausted.
    pool.total_component_instances(instances)
        .total_core_instances(instances * MAX_CORE_INSTANCES_PER_COMPONENT)
        .max_core_instances_per_component(MAX_CORE_INSTANCES_PER_COMPONENT)
        .total_memories(instances * MAX_MEMORIES_PER_COMPONENT)
        .max_memories_per_component(MAX_MEMORIES_PER_COMPONENT)
        .total_tables(instances * MAX_TABLES_PER_COMPONENT)
        .max_tables_per_component(MAX_TABLES_PER_COMPONENT)
        // The hard ceiling for any buyer's memory limit; the per-call limiter
        // enforces the buyer's own (lower) limit.
        .max_memory_size(usize::try_from(max_memory_bytes_cap).unwrap_or(usize::MAX));
    if PoolingAllocationConfig::is_pagemap_scan_available() {
        pool.pagemap_scan(Enabled::Yes)
            .linear_memory_keep_resident(KEEP_RESIDENT_WITH_PAGEMAP)
            .table_keep_resident(KEEP_RESIDENT_WITH_PAGEMAP);
    } else {
        pool.linear_memory_keep_resident(KEEP_RESIDENT_WITHOUT_PAGEMAP);
    }

    let mut config = Config::new();
    config
        .wasm_component_model(true)
        // (wasm threads stay off: the `threads` cargo feature is not enabled, so a
        // plugin can never spawn work that outlives its call.)
        .epoch_interruption(true)
        .cranelift_opt_level(OptLevel::Speed)
        // Map initial memory images copy-on-write: instantiation does not copy
        // a plugin's data segments. (The default on Linux; stated so it stays.)
        .memory_init_cow(true)
        .wasm_backtrace_max_frames(std::num::NonZeroUsize::new(MAX_BACKTRACE_FRAMES))
        .allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    config.profiler(match profiler {
        Profiler::None => ProfilingStrategy::None,
        Profiler::PerfMap => ProfilingStrategy::PerfMap,
        Profiler::JitDump => ProfilingStrategy::JitDump,
    });
    Engine::new(&config)
}

/// Advances an engine's epoch every [`EPOCH_TICK`] until dropped.
///
/// Each call's store sets its deadline in ticks, so this thread is what turns a
/// plugin's infinite loop into a `Timeout`.
pub(crate) struct EpochTicker {
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<()>>,
}

impl EpochTicker {
    /// Starts ticking `engine`.
    pub(crate) fn start(engine: &Engine) -> std::io::Result<Self> {
        let stop = Arc::new(AtomicBool::new(false));
        let engine = engine.clone();
        let thread_stop = stop.clone();
        let handle = std::thread::Builder::new()
            .name("plugin-epoch".into())
            .spawn(move || {
                while !thread_stop.load(Ordering::Relaxed) {
                    std::thread::sleep(EPOCH_TICK);
                    engine.increment_epoch();
                }
            })?;
        Ok(Self {
            stop,
            handle: Some(handle),
        })
    }
}

impl Drop for EpochTicker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(handle) = self.handle.take() {
            // The thread only sleeps and ticks; joining waits at most one tick.
            let _ = handle.join();
        }
    }
}

/// Ticks to allow for `limit`: rounded up, plus one because the first tick may
/// come at any moment after the deadline is set.
pub(crate) fn deadline_ticks(limit: Duration) -> u64 {
    let tick = EPOCH_TICK.as_nanos();
    let ticks = limit.as_nanos().div_ceil(tick);
    u64::try_from(ticks)
        .unwrap_or(u64::MAX / 2)
        .saturating_add(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deadline_rounds_up_and_adds_one_tick() {
        assert_eq!(deadline_ticks(Duration::from_secs(2)), 201);
        assert_eq!(deadline_ticks(Duration::from_millis(15)), 3);
        assert_eq!(deadline_ticks(Duration::ZERO), 1);
    }
}
