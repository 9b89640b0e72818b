//! The `jembatan` command; everything it does lives in the library.

/// mimalloc rather than glibc's malloc: a request allocates on the HTTP worker and
/// frees on the plugin and writer threads (and back), which glibc serves from
/// per-thread arenas with locks and consolidation passes.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    jembatan::cli::main()
}
