//! The `jembatan` command; everything it does lives in the library.

fn main() -> std::process::ExitCode {
    jembatan::cli::main()
}
