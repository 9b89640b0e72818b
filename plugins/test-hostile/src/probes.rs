//! The capability probes: each mode tries what a plugin should not have and
//! reports what it saw, one finding per line, in the order it tried.
//!
//! A finding reads `<what was tried>: <what came back>`. Anything refused reads
//! `refused (<reason>)`; anything the host gave reads `GRANTED ...`, so a test
//! can tell the two apart without knowing every error text. Values (clock
//! readings, random numbers) are printed as they came, for the test to compare.
//!
//! Each probe goes through `std` (what an ordinary plugin would use) and, in the
//! wasm build, asks the WASI 0.2 host directly as well (what a plugin written to
//! escape would use), since `std` may refuse some things without asking. Files
//! and sockets are not probed here: a plugin that imports them is refused at load
//! (see the `test-escape` plugin), so this one must not.

use std::hash::{BuildHasher, Hasher};
use std::hint::black_box;
use std::time::{Duration, Instant, SystemTime};

/// `env`: environment variables, arguments and the initial directory.
pub fn env() -> Vec<String> {
    let vars: Vec<String> = std::env::vars_os()
        .map(|(name, _)| name.to_string_lossy().into_owned())
        .collect();
    let args: Vec<String> = std::env::args_os()
        .map(|arg| arg.to_string_lossy().into_owned())
        .collect();
    #[allow(unused_mut)]
    let mut found = vec![
        format!("std env vars: {vars:?}"),
        format!("std args: {args:?}"),
    ];
    #[cfg(target_arch = "wasm32")]
    {
        use wasip2::cli::environment;
        let vars: Vec<String> = environment::get_environment()
            .into_iter()
            .map(|(name, _)| name)
            .collect();
        found.push(format!("wasi environment: {vars:?}"));
        found.push(format!(
            "wasi arguments: {:?}",
            environment::get_arguments()
        ));
        found.push(format!(
            "wasi initial cwd: {:?}",
            environment::initial_cwd()
        ));
    }
    found
}

/// `clock`: the wall clock, and the monotonic clock around some busy work.
pub fn clock() -> Vec<String> {
    let wall = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH);
    let before = Instant::now();
    busy_work();
    let after = Instant::now();
    #[allow(unused_mut)]
    let mut found = vec![
        format!("std wall clock since the Unix epoch: {wall:?}"),
        format!(
            "std monotonic clock over busy work: {:?}",
            after.duration_since(before)
        ),
    ];
    #[cfg(target_arch = "wasm32")]
    {
        use wasip2::clocks::{monotonic_clock, wall_clock};
        let now = wall_clock::now();
        found.push(format!(
            "wasi wall clock: {}s {}ns",
            now.seconds, now.nanoseconds
        ));
        let before = monotonic_clock::now();
        busy_work();
        let after = monotonic_clock::now();
        found.push(format!(
            "wasi monotonic clock over busy work: {before}ns then {after}ns"
        ));
    }
    found
}

/// Work long enough for any real clock to move (tens of milliseconds).
fn busy_work() {
    let mut n: u64 = 0;
    for i in 0..20_000_000u64 {
        n = black_box(n.wrapping_add(i));
    }
    black_box(n);
}

/// `random`: what `std` seeds its hash maps with, and each WASI random source.
pub fn random() -> Vec<String> {
    // A fresh `RandomState` takes its keys from the host's randomness once per
    // instance: the hash of a fixed string shows them.
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write(b"jembatan");
    #[allow(unused_mut)]
    let mut found = vec![format!("std hash map keys hash: {:016x}", hasher.finish())];
    #[cfg(target_arch = "wasm32")]
    {
        use wasip2::random::{insecure, insecure_seed, random};
        found.push(format!(
            "wasi random u64: {:016x}",
            random::get_random_u64()
        ));
        found.push(format!(
            "wasi random bytes: {:02x?}",
            random::get_random_bytes(8)
        ));
        found.push(format!(
            "wasi insecure random u64: {:016x}",
            insecure::get_insecure_random_u64()
        ));
        let (a, b) = insecure_seed::insecure_seed();
        found.push(format!("wasi insecure seed: {a:016x}{b:016x}"));
    }
    found
}

/// `random-bytes`: one `wasi:random/random.get-random-bytes` call for
/// `bytes` bytes, which the host allocates outside the plugin's memory.
pub fn random_bytes(bytes: usize) -> Vec<String> {
    #[cfg(target_arch = "wasm32")]
    let got = wasip2::random::random::get_random_bytes(bytes as u64).len();
    #[cfg(not(target_arch = "wasm32"))]
    let got = vec![0u8; bytes].len();
    vec![format!("wasi random bytes {bytes}: got {got}")]
}

/// `sleep`: `std::thread::sleep` for `ms`, then the time the plugin thinks passed.
pub fn sleep(ms: u64) -> Vec<String> {
    let before = Instant::now();
    std::thread::sleep(Duration::from_millis(ms));
    vec![format!(
        "std sleep {ms}ms: returned, monotonic clock moved {:?}",
        before.elapsed()
    )]
}

/// `poll`: `wasi:io/poll.poll` on a monotonic-clock pollable `ms` from now
/// (past `u64::MAX` nanoseconds, `u64::MAX` nanoseconds: about 584 years).
pub fn poll(ms: u64) -> Vec<String> {
    #[cfg(target_arch = "wasm32")]
    {
        use wasip2::clocks::monotonic_clock;
        let pollable = monotonic_clock::subscribe_duration(ms.saturating_mul(1_000_000));
        let ready = wasip2::io::poll::poll(&[&pollable]);
        vec![format!("wasi poll {ms}ms: returned {ready:?}")]
    }
    #[cfg(not(target_arch = "wasm32"))]
    sleep(ms)
}

/// Counts calls in a zero-initialized static (memory outside the plugin's data
/// image) and in one initialized to 100 (inside it).
static CALLS_ZEROED: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
static CALLS_FROM_IMAGE: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(100);

/// `memory`: what this instance's statics held before this call wrote them. A
/// fresh instance reads 0 and 100 every time; anything more is memory left over
/// from an earlier call (the pool reuses memory slots and must reset them).
pub fn memory() -> Vec<String> {
    use std::sync::atomic::Ordering::Relaxed;
    vec![
        format!("zeroed static: {}", CALLS_ZEROED.fetch_add(1, Relaxed)),
        format!(
            "initialized static: {}",
            CALLS_FROM_IMAGE.fetch_add(1, Relaxed)
        ),
    ]
}
