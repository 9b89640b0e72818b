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
//! escape would use), since `std` may refuse some things without asking.

use std::fmt::Debug;
use std::hash::{BuildHasher, Hasher};
use std::hint::black_box;
use std::time::{Duration, Instant, SystemTime};

/// One probe's outcome, as a finding.
fn finding<T, E: Debug>(
    what: &str,
    result: Result<T, E>,
    granted: impl FnOnce(T) -> String,
) -> String {
    match result {
        Ok(value) => format!("{what}: GRANTED {}", granted(value)),
        Err(e) => format!("{what}: refused ({e:?})"),
    }
}

/// `read-file`: the preopened directories, then reading and writing files.
pub fn files() -> Vec<String> {
    let mut found = Vec::new();
    #[cfg(target_arch = "wasm32")]
    {
        let dirs = wasip2::filesystem::preopens::get_directories();
        let names: Vec<&str> = dirs.iter().map(|(_, name)| name.as_str()).collect();
        found.push(format!("wasi preopened directories: {names:?}"));
    }
    for dir in ["/", "."] {
        found.push(finding(
            &format!("std read_dir {dir}"),
            std::fs::read_dir(dir),
            |entries| format!("{} entries", entries.count()),
        ));
    }
    found.push(finding(
        "std read /etc/passwd",
        std::fs::read("/etc/passwd"),
        |bytes| format!("{} bytes", bytes.len()),
    ));
    found.push(finding(
        "std write /tmp/jembatan-test-hostile",
        std::fs::write("/tmp/jembatan-test-hostile", "escaped"),
        |()| "written".to_owned(),
    ));
    // Not a capability: wasi-libc's own default when the host gives no
    // initial directory (the `env` mode asks the host).
    found.push(format!("std current_dir: {:?}", std::env::current_dir()));
    found
}

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

/// `network`: connect to, send to and look up loopback, through `std` and
/// through `wasi:sockets` directly. `port` is where the test listens.
pub fn network(port: u16) -> Vec<String> {
    use std::net::{SocketAddr, TcpStream, ToSocketAddrs, UdpSocket};
    let target = SocketAddr::from(([127, 0, 0, 1], port));
    let mut found = vec![
        finding(
            &format!("std tcp connect {target}"),
            TcpStream::connect_timeout(&target, Duration::from_secs(1)),
            |_| "connected".to_owned(),
        ),
        finding(
            "std udp bind 127.0.0.1:0",
            UdpSocket::bind("127.0.0.1:0"),
            |_| "bound".to_owned(),
        ),
    ];
    if let Ok(socket) = UdpSocket::bind("127.0.0.1:0") {
        found.push(finding(
            &format!("std udp send to {target}"),
            socket.send_to(b"escaped", target),
            |n| format!("{n} bytes sent"),
        ));
    }
    found.push(finding(
        "std lookup localhost",
        ("localhost", 80).to_socket_addrs(),
        |addrs| format!("{:?}", addrs.collect::<Vec<_>>()),
    ));
    #[cfg(target_arch = "wasm32")]
    found.extend(wasi_network(port));
    found
}

#[cfg(target_arch = "wasm32")]
fn wasi_network(port: u16) -> Vec<String> {
    use wasip2::sockets::instance_network::instance_network;
    use wasip2::sockets::ip_name_lookup::resolve_addresses;
    use wasip2::sockets::network::{IpAddressFamily, IpSocketAddress, Ipv4SocketAddress};
    use wasip2::sockets::tcp_create_socket::create_tcp_socket;
    use wasip2::sockets::udp_create_socket::create_udp_socket;

    let network = instance_network();
    let target = IpSocketAddress::Ipv4(Ipv4SocketAddress {
        port,
        address: (127, 0, 0, 1),
    });
    let name = |code: wasip2::sockets::network::ErrorCode| code.name();
    let mut found = Vec::new();
    match create_tcp_socket(IpAddressFamily::Ipv4) {
        Err(code) => found.push(format!("wasi tcp create: refused ({})", name(code))),
        Ok(socket) => {
            found.push("wasi tcp create: GRANTED a socket".to_owned());
            let connected = socket.start_connect(&network, target).and_then(|()| {
                socket.subscribe().block();
                socket.finish_connect()
            });
            found.push(match connected {
                Err(code) => format!(
                    "wasi tcp connect 127.0.0.1:{port}: refused ({})",
                    name(code)
                ),
                Ok(_) => format!("wasi tcp connect 127.0.0.1:{port}: GRANTED connected"),
            });
        }
    }
    found.push(match create_udp_socket(IpAddressFamily::Ipv4) {
        Err(code) => format!("wasi udp create: refused ({})", name(code)),
        Ok(_) => "wasi udp create: GRANTED a socket".to_owned(),
    });
    found.push(match resolve_addresses(&network, "localhost") {
        Err(code) => format!("wasi lookup localhost: refused ({})", name(code)),
        Ok(stream) => {
            stream.subscribe().block();
            match stream.resolve_next_address() {
                Err(code) => format!("wasi lookup localhost: refused ({})", name(code)),
                Ok(addr) => format!("wasi lookup localhost: GRANTED {addr:?}"),
            }
        }
    });
    found
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
