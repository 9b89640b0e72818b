//! The per-call store: what a plugin instance can see and call.
//!
//! A plugin gets a `WasiCtx` that grants nothing a normalizer needs, so that
//! its orders depend only on its input (a replayed message gives the same
//! orders) and it can learn nothing about the host:
//!
//! - no files and no network at all: `wasi:filesystem` and `wasi:sockets` are
//!   not linked (`add_wasi`), so a component that imports them is refused at
//!   load; the context also grants no preopened directory and no socket, in
//!   case a later wasmtime-wasi links more than asked;
//! - no environment, no arguments, no initial directory, closed stdin; stdout
//!   and stderr go to the call's bounded log;
//! - a wall clock stopped at the Unix epoch and a monotonic clock stopped at
//!   0, so a plugin cannot read the date or time itself;
//! - randomness from fixed seeds: every call reads the same bytes from
//!   `wasi:random/random` and `wasi:random/insecure`, and the same
//!   `insecure-seed`. Randomness is no secret a plugin has to keep; its one
//!   use in a normalizer is `std`'s hash map keys, and a plugin fed input that
//!   collides those keys only burns its own time limit;
//! - waiting takes no time: `wasi:clocks/monotonic-clock`'s
//!   `subscribe-duration` and `subscribe-instant` give a pollable that is
//!   ready at once, whatever the duration or instant, so `std::thread::sleep`,
//!   `wasi:io/poll.poll` and `pollable.block` on a clock return at once and
//!   the clock still reads 0 afterwards (no time passed on a stopped clock).
//!   wasmtime-wasi's own pollables wait in real time (tokio's clock) inside a
//!   blocking host call that epoch interruption cannot stop, so a plugin that
//!   slept for a year held its thread and its pool slot for a year (issue 8).
//!   A plugin that sleeps in a loop is a loop: the time limit stops it. The
//!   other pollables a plugin can reach are ready at once too (stdout and
//!   stderr always take more, stdin is closed; no sockets or files exist);
//! - at most `MAX_RANDOM_BYTES` (64 KiB) per `get-random-bytes` or
//!   `get-insecure-random-bytes` call; more traps. The bytes are allocated on
//!   the host, outside the plugin's memory limit (wasmtime-wasi's default
//!   allows 64 MiB).
//!
//! WASI is linked only because a `wasm32-wasip2` guest built with `std`
//! imports `wasi:cli/*` and `wasi:io/*` even when it uses none of them. What is
//! linked is tried by the `test-hostile` plugin's probing modes, and what is not
//! by the `test-escape` plugin, refused at load (tests.rs).

use std::sync::Arc;
use std::time::Duration;

use wasmtime::component::{HasData, HasSelf, Linker, Resource, ResourceTable};
use wasmtime::{Engine, Store};
use wasmtime_wasi::p2::bindings::clocks::monotonic_clock;
use wasmtime_wasi::p2::{DynPollable, Pollable, subscribe};
use wasmtime_wasi::{
    Deterministic, HostMonotonicClock, HostWallClock, WasiCtx, WasiCtxBuilder, WasiCtxView,
    WasiView,
};

use super::bindings::{v1, v2, v3, v4, v4r};
use super::engine::deadline_ticks;
use super::limits::CallLimiter;
use super::log::PluginLog;
use super::sync_io::{HasSyncTable, SyncTable};

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

impl v1::NormalizerImports for CallState {
    fn log(&mut self, level: v1::LogLevel, message: String) {
        self.log.log(level, &message);
    }
}

impl v2::PluginImports for CallState {
    fn log(&mut self, level: v2::LogLevel, message: String) {
        self.log.log(level.into(), &message);
    }
}

impl v3::PluginImports for CallState {
    fn log(&mut self, level: v3::LogLevel, message: String) {
        self.log.log(level.into(), &message);
    }
}

impl v4::PluginImports for CallState {
    fn log(&mut self, level: v4::LogLevel, message: String) {
        self.log.log(level.into(), &message);
    }
}

impl v4r::PluginWithResponsesImports for CallState {
    fn log(&mut self, level: v4::LogLevel, message: String) {
        self.log.log(level.into(), &message);
    }
}

/// The `types` interfaces have no functions; the traits only mark the store.
impl v1::TypesHost for CallState {}
impl v2::TypesHost for CallState {}
impl v3::TypesHost for CallState {}
impl v4::TypesHost for CallState {}

/// Which version of the plugin contract a linker serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum World {
    /// `jembatan:plugin@0.1.0`, world `normalizer`.
    V1,
    /// `jembatan:plugin@0.2.0`, world `plugin`.
    V2,
    /// `jembatan:plugin@0.3.0`, world `plugin`.
    V3,
    /// `jembatan:plugin@0.4.0`, world `plugin`.
    V4,
    /// `jembatan:plugin@0.4.0`, world `plugin-with-responses`.
    V4Responses,
}

/// A linker plugins of `world` are pre-instantiated against: the world's `log`
/// import plus synchronous WASIp2, with the monotonic clock replaced by
/// `StoppedMonotonicClock`. Built once per host and world, never per call. The
/// two worlds need a linker each because both import a root `log` of their own
/// package's types.
pub(crate) fn linker(engine: &Engine, world: World) -> wasmtime::Result<Linker<CallState>> {
    let mut linker = Linker::<CallState>::new(engine);
    add_wasi(&mut linker)?;
    match world {
        World::V1 => v1::Normalizer::add_to_linker::<_, HasSelf<CallState>>(&mut linker, |s| s)?,
        World::V2 => v2::Plugin::add_to_linker::<_, HasSelf<CallState>>(&mut linker, |s| s)?,
        World::V3 => v3::Plugin::add_to_linker::<_, HasSelf<CallState>>(&mut linker, |s| s)?,
        World::V4 => v4::Plugin::add_to_linker::<_, HasSelf<CallState>>(&mut linker, |s| s)?,
        World::V4Responses => {
            v4r::PluginWithResponses::add_to_linker::<_, HasSelf<CallState>>(&mut linker, |s| s)?
        }
    }
    Ok(linker)
}

/// The WASI interfaces a `std` guest imports, and nothing else: `wasi:cli`
/// (environment, exit, the standard streams and terminals), `wasi:io`, the
/// clocks (stopped) and randomness (fixed). `wasi:filesystem` and
/// `wasi:sockets` are not linked at all, so a component that imports them, a
/// plugin written to reach files or the network, is refused at load ("not a
/// jembatan plugin") rather than given a refusal at each call. The stock plugins
/// import `wasi:cli` and `wasi:io` only.
fn add_wasi(linker: &mut Linker<CallState>) -> wasmtime::Result<()> {
    use wasmtime_wasi::cli::{WasiCli, WasiCliView};
    use wasmtime_wasi::clocks::{WasiClocks, WasiClocksView};
    use wasmtime_wasi::p2::bindings::sync::io as sync_io;
    use wasmtime_wasi::p2::bindings::{cli, clocks, random};
    use wasmtime_wasi::random::WasiRandom;

    let l = linker;
    type S = CallState;
    wasmtime_wasi::p2::bindings::io::error::add_to_linker::<S, HasTable>(l, |s| &mut s.table)?;
    // Streams and poll without tokio: see `sync_io.rs`.
    sync_io::poll::add_to_linker::<S, HasSyncTable>(l, |s| SyncTable(&mut s.table))?;
    sync_io::streams::add_to_linker::<S, HasSyncTable>(l, |s| SyncTable(&mut s.table))?;
    cli::exit::add_to_linker::<S, WasiCli>(l, WasiCliView::cli)?;
    cli::environment::add_to_linker::<S, WasiCli>(l, WasiCliView::cli)?;
    cli::stdin::add_to_linker::<S, WasiCli>(l, WasiCliView::cli)?;
    cli::stdout::add_to_linker::<S, WasiCli>(l, WasiCliView::cli)?;
    cli::stderr::add_to_linker::<S, WasiCli>(l, WasiCliView::cli)?;
    cli::terminal_input::add_to_linker::<S, WasiCli>(l, WasiCliView::cli)?;
    cli::terminal_output::add_to_linker::<S, WasiCli>(l, WasiCliView::cli)?;
    cli::terminal_stdin::add_to_linker::<S, WasiCli>(l, WasiCliView::cli)?;
    cli::terminal_stdout::add_to_linker::<S, WasiCli>(l, WasiCliView::cli)?;
    cli::terminal_stderr::add_to_linker::<S, WasiCli>(l, WasiCliView::cli)?;
    clocks::wall_clock::add_to_linker::<S, WasiClocks>(l, WasiClocksView::clocks)?;
    // `wasi:clocks/monotonic-clock` on the stopped clock, which waits for nothing.
    monotonic_clock::add_to_linker::<_, StoppedMonotonicClock>(l, |state| StoppedMonotonicClock {
        table: &mut state.table,
    })?;
    random::random::add_to_linker::<S, WasiRandom>(l, |s| s.wasi.random())?;
    random::insecure::add_to_linker::<S, WasiRandom>(l, |s| s.wasi.random())?;
    random::insecure_seed::add_to_linker::<S, WasiRandom>(l, |s| s.wasi.random())?;
    Ok(())
}

/// The resource table, as the `wasi:io` bindings reach it.
struct HasTable;

impl HasData for HasTable {
    type Data<'a> = &'a mut ResourceTable;
}

/// A fresh store for one call: nothing granted, memory limited to
/// `memory_limit` bytes, interrupted after `time_limit`.
pub(crate) fn new_store(
    engine: &Engine,
    log: Arc<PluginLog>,
    memory_limit: u64,
    time_limit: Duration,
) -> Store<CallState> {
    let wasi = WasiCtxBuilder::new()
        .stdout(log.stdout())
        .stderr(log.stderr())
        // Explicit even where it is the default: the sandbox must not widen
        // if a wasmtime-wasi default changes.
        .allow_tcp(false)
        .allow_udp(false)
        .allow_ip_name_lookup(false)
        .wall_clock(StoppedClock)
        .monotonic_clock(StoppedClock)
        .secure_random(Deterministic::new(RANDOM_BYTES.to_vec()))
        .insecure_random(Deterministic::new(INSECURE_RANDOM_BYTES.to_vec()))
        .insecure_random_seed(INSECURE_SEED)
        .max_random_size(MAX_RANDOM_BYTES)
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

/// Both of a plugin's clocks: stopped at 0, which the wall clock reads as
/// 1970-01-01T00:00:00Z. (A plugin that needs a date reads it from the message.)
struct StoppedClock;

impl HostWallClock for StoppedClock {
    fn resolution(&self) -> Duration {
        Duration::from_nanos(1)
    }

    fn now(&self) -> Duration {
        Duration::ZERO
    }
}

impl HostMonotonicClock for StoppedClock {
    fn resolution(&self) -> u64 {
        1
    }

    fn now(&self) -> u64 {
        0
    }
}

/// `wasi:clocks/monotonic-clock` on the stopped clock: it reads 0, and a
/// pollable for any duration or instant is ready at once. wasmtime-wasi's
/// implementation waits for the duration (or the instant's distance from our
/// clock's 0) in real time inside a blocking host call, which the time limit
/// cannot interrupt; a far-future one waits for ever.
struct StoppedMonotonicClock<'a> {
    table: &'a mut ResourceTable,
}

impl HasData for StoppedMonotonicClock<'static> {
    type Data<'a> = StoppedMonotonicClock<'a>;
}

impl StoppedMonotonicClock<'_> {
    fn ready_pollable(&mut self) -> wasmtime::Result<Resource<DynPollable>> {
        let ready = self.table.push(Ready)?;
        subscribe(self.table, ready)
    }
}

impl monotonic_clock::Host for StoppedMonotonicClock<'_> {
    fn now(&mut self) -> wasmtime::Result<monotonic_clock::Instant> {
        Ok(HostMonotonicClock::now(&StoppedClock))
    }

    fn resolution(&mut self) -> wasmtime::Result<monotonic_clock::Duration> {
        Ok(HostMonotonicClock::resolution(&StoppedClock))
    }

    fn subscribe_instant(
        &mut self,
        _when: monotonic_clock::Instant,
    ) -> wasmtime::Result<Resource<DynPollable>> {
        self.ready_pollable()
    }

    fn subscribe_duration(
        &mut self,
        _duration: monotonic_clock::Duration,
    ) -> wasmtime::Result<Resource<DynPollable>> {
        self.ready_pollable()
    }
}

/// A clock pollable: always ready.
struct Ready;

#[wasmtime_wasi::async_trait]
impl Pollable for Ready {
    async fn ready(&mut self) {}
}

/// The most bytes one `get-random-bytes` or `get-insecure-random-bytes` call
/// may ask for; a bigger ask traps. `std` asks for 16.
const MAX_RANDOM_BYTES: u64 = 64 * 1024;

/// Bytes `wasi:random/random` hands out, over and over, on every call.
/// `Deterministic` cycles through them; 4 KiB is far more than `std` takes
/// (16 bytes of hash map keys) and costs a copy of ~0.1 us per call.
static RANDOM_BYTES: [u8; 4096] = splitmix64_bytes(0x6a65_6d62_6174_616e);
/// The same for `wasi:random/insecure`, from another seed.
static INSECURE_RANDOM_BYTES: [u8; 4096] = splitmix64_bytes(0x696e_7365_6375_7265);
/// What `wasi:random/insecure-seed` returns.
const INSECURE_SEED: u128 = 0x6a65_6d62_6174_616e_2d73_6565_6421_2121;

/// `N` bytes of SplitMix64 output from `seed`: evenly spread bits from a fixed
/// start, computed at compile time.
const fn splitmix64_bytes<const N: usize>(seed: u64) -> [u8; N] {
    let mut bytes = [0u8; N];
    let mut state = seed;
    let mut i = 0;
    while i < N {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        let word = z.to_le_bytes();
        let mut j = 0;
        while j < 8 && i < N {
            bytes[i] = word[j];
            i += 1;
            j += 1;
        }
    }
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_bytes_are_splitmix64() {
        // The first output of SplitMix64 from seed 0, as its reference code gives.
        assert_eq!(
            splitmix64_bytes::<8>(0),
            0xe220_a839_7b1d_cdaf_u64.to_le_bytes()
        );
        assert_ne!(RANDOM_BYTES, INSECURE_RANDOM_BYTES);
    }
}
