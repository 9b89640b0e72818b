//! The command line: `jembatan serve` runs the gateway, `jembatan plugin test`
//! runs a plugin on one input the way the gateway would, for plugin authors, and
//! `jembatan store migrate` moves an SQLite deployment's data to PostgreSQL.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};

use crate::config::{Config, DEMO_ADMIN_TOKEN};
use crate::orders::{Checked, OrderValidator, Violation};
use crate::plugin_host::{
    ErrorLocation, Limits, LogContext, NormalizeError, PluginHost, PluginHostConfig, PluginInput,
    Profiler,
};

#[derive(Parser)]
#[command(
    name = "jembatan",
    version,
    about = "Carries purchase orders from buyers to craftsmen."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the gateway.
    Serve {
        /// A TOML config file; JEMBATAN_* variables override it.
        #[arg(long, short, env = "JEMBATAN_CONFIG")]
        config: Option<PathBuf>,
        /// Demo setup: the admin token defaults to `demo-admin-token`. Not for
        /// production: it listens only on a loopback address.
        #[arg(long)]
        demo: bool,
    },
    /// Tools for plugin authors.
    Plugin {
        #[command(subcommand)]
        command: PluginCommand,
    },
    /// The gateway's database.
    Store {
        #[command(subcommand)]
        command: StoreCommand,
    },
}

#[derive(Subcommand)]
enum StoreCommand {
    /// Copy an SQLite deployment's data into an empty PostgreSQL database, in one
    /// transaction. Stop the gateway first: orders it takes during the copy stay
    /// behind.
    Migrate {
        /// The SQLite database, `sqlite://PATH`.
        #[arg(long)]
        from: String,
        /// The PostgreSQL database, `postgres://USER@HOST/DATABASE`; it must exist
        /// and hold no data (its tables are created).
        #[arg(long)]
        to: String,
    },
}

#[derive(Subcommand)]
enum PluginCommand {
    /// Start a new plugin crate from the template (see plugins/README.md).
    New {
        /// The plugin's name, e.g. `acme-orders`.
        name: String,
        /// Where to create the crate's directory.
        #[arg(long, default_value = ".")]
        dir: PathBuf,
        /// The plugin SDK to depend on; this checkout's `plugins/sdk` by default.
        #[arg(long)]
        sdk: Option<PathBuf>,
    },
    /// Run a plugin on one input: prints the canonical orders, or the error.
    Test {
        /// The plugin component (`.wasm`).
        wasm: PathBuf,
        /// The input message; `-` reads standard input.
        input: PathBuf,
        /// The buyer's plugin config, as JSON or `@FILE`.
        #[arg(long, default_value = "{}")]
        config: String,
        /// Content type of the input; guessed from its extension if absent.
        #[arg(long)]
        content_type: Option<String>,
        /// Runs the plugin this many times on the input, each call in a fresh
        /// instance as in the gateway, and says how long a call took: something
        /// for a profiler to see (`perf record -g -- jembatan plugin test
        /// --repeat 10000 --profiler perfmap …`).
        #[arg(long, default_value_t = 1)]
        repeat: u32,
        /// Names the plugin's compiled functions for a profiler, as
        /// `JEMBATAN_PLUGIN_PROFILER` does in the gateway.
        #[arg(long, value_enum, default_value = "none")]
        profiler: Profiler,
    },
}

/// Parses the command line and runs it; errors are printed, not panicked.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve { config, demo } => serve(config.as_deref(), demo),
        Command::Plugin {
            command: PluginCommand::New { name, dir, sdk },
        } => crate::scaffold::new_plugin(&name, &dir, sdk.as_deref()).map(|path| {
            println!("created {}", path.display());
            println!(
                "next: cd {} && cargo test && cargo build --release --target wasm32-wasip2",
                path.display()
            );
            ExitCode::SUCCESS
        }),
        Command::Plugin {
            command:
                PluginCommand::Test {
                    wasm,
                    input,
                    config,
                    content_type,
                    repeat,
                    profiler,
                },
        } => plugin_test(
            &wasm,
            &input,
            &config,
            content_type,
            Repeat {
                calls: repeat,
                profiler,
            },
        ),
        Command::Store {
            command: StoreCommand::Migrate { from, to },
        } => store_migrate(&from, &to),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn serve(file: Option<&Path>, demo: bool) -> anyhow::Result<ExitCode> {
    let mut config = Config::load(file)?;
    // The demo's admin token is printed in the README: reachable from another
    // machine, it would hand the gateway to anyone.
    if demo && !config.listen.ip().is_loopback() {
        bail!(
            "--demo listens only on a loopback address (such as 127.0.0.1:8080), not {}: \
             its admin token is public; run without --demo, with your own admin token",
            config.listen
        );
    }
    if demo && config.admin_token.is_none() {
        config.admin_token = Some(DEMO_ADMIN_TOKEN.to_owned());
        eprintln!(
            "demo mode: the admin token is '{DEMO_ADMIN_TOKEN}'; data in {}",
            config.data_dir.display()
        );
    }
    crate::telemetry::init(config.log_format);
    if config.admin_token.is_none() {
        tracing::warn!("no admin token is configured: the admin API is disabled");
    }
    if let Some(why) = config.weak_admin_token() {
        tracing::warn!(
            "the admin token is weak: {why}; anyone who guesses it controls the gateway \
             (use 32 random bytes, e.g. `openssl rand -base64 32`)"
        );
    }
    let listener = std::net::TcpListener::bind(config.listen)
        .with_context(|| format!("listening on {}", config.listen))?;
    actix_web::rt::System::new().block_on(crate::serve(config, listener))?;
    Ok(ExitCode::SUCCESS)
}

fn store_migrate(from: &str, to: &str) -> anyhow::Result<ExitCode> {
    crate::telemetry::init(crate::config::LogFormat::Text);
    if !from.starts_with("sqlite:") {
        bail!("--from takes an SQLite database, sqlite://PATH");
    }
    if !(to.starts_with("postgres://") || to.starts_with("postgresql://")) {
        bail!("--to takes a PostgreSQL database, postgres://USER@HOST/DATABASE");
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let copied = runtime
        .block_on(crate::store::transfer::sqlite_to_postgres(from, to))
        .with_context(|| {
            format!(
                "copying {from} to {}; no data was copied",
                crate::store::redact_url(to)
            )
        })?;
    println!(
        "copied {from} to {} (row counts checked):",
        crate::store::redact_url(to)
    );
    let width = copied.iter().map(|c| c.table.len()).max().unwrap_or(0);
    for table in &copied {
        println!("  {:<width$}  {:>9}", table.table, table.rows);
    }
    println!(
        "  {:<width$}  {:>9}",
        "total",
        copied.iter().map(|c| c.rows).sum::<u64>()
    );
    Ok(ExitCode::SUCCESS)
}

/// How `plugin test` runs the plugin: how many calls, and for which profiler.
struct Repeat {
    calls: u32,
    profiler: Profiler,
}

fn plugin_test(
    wasm: &Path,
    input: &Path,
    config: &str,
    content_type: Option<String>,
    repeat: Repeat,
) -> anyhow::Result<ExitCode> {
    crate::telemetry::init(crate::config::LogFormat::Text);
    let bytes = std::fs::read(wasm).with_context(|| format!("reading {}", wasm.display()))?;
    let body = if input == Path::new("-") {
        let mut body = Vec::new();
        std::io::stdin().read_to_end(&mut body)?;
        body
    } else {
        std::fs::read(input).with_context(|| format!("reading {}", input.display()))?
    };
    let config = match config.strip_prefix('@') {
        Some(path) => std::fs::read_to_string(path).with_context(|| format!("reading {path}"))?,
        None => config.to_owned(),
    };
    serde_json::from_str::<serde_json::Value>(&config).context("--config is not JSON")?;
    let content_type = match content_type {
        Some(ct) => ct,
        None => guess_content_type(input)?,
    };

    let host = PluginHost::new(PluginHostConfig {
        cache_dir: None,
        max_concurrent_instances: 1,
        profiler: repeat.profiler,
        ..Default::default()
    })?;
    let plugin = host.load(&bytes)?;
    eprintln!(
        "plugin {} {} (sha256 {})",
        plugin.info.name, plugin.info.version, plugin.sha256
    );
    if !plugin.accepts(&content_type) {
        bail!(
            "the plugin reads {}, not '{content_type}' (set --content-type)",
            plugin.info.content_types.join(", ")
        );
    }
    let input = PluginInput {
        email: crate::ingest::email::parts_for(&content_type, &body),
        content_type,
        headers: Vec::new(),
        body,
    };
    let log = LogContext {
        buyer_id: "plugin-test".into(),
        plugin_name: plugin.info.name.clone(),
        plugin_version: plugin.info.version.clone(),
        message_id: "msg_plugin_test".into(),
    };
    let mut times = Vec::with_capacity(repeat.calls as usize);
    let mut result = None;
    for _ in 0..repeat.calls.max(1) {
        let started = std::time::Instant::now();
        result = Some(host.normalize(
            &plugin,
            input.clone(),
            &config,
            &Limits::default(),
            log.clone(),
        ));
        times.push(started.elapsed());
    }
    if repeat.calls > 1 {
        times.sort_unstable();
        let at = |q: f64| times[((times.len() - 1) as f64 * q) as usize].as_secs_f64() * 1e6;
        eprintln!(
            "{} calls, each in a fresh instance: median {:.1} us, p99 {:.1} us",
            times.len(),
            at(0.5),
            at(0.99)
        );
    }
    let normalized = match result.expect("at least one call") {
        Ok(normalized) => normalized,
        Err(err) => {
            eprintln!("{}", describe(&err));
            return Ok(ExitCode::from(2));
        }
    };
    let checked = match OrderValidator::new().check(normalized) {
        Ok(checked) => checked,
        Err(violations) => {
            eprintln!("the plugin's output breaks the plugin contract:");
            print_violations(&violations);
            return Ok(ExitCode::from(2));
        }
    };
    for warning in &checked.warnings {
        eprintln!(
            "warning [{}]: {}{}",
            warning.code,
            warning.message,
            at(&warning.location)
        );
    }
    let mut orders = Vec::new();
    for t in checked.transactions {
        let name = match &t.control_number {
            Some(number) => format!("transaction {} ({number})", t.index),
            None => format!("transaction {}", t.index),
        };
        for warning in &t.warnings {
            eprintln!(
                "{name}: warning [{}]: {}{}",
                warning.code,
                warning.message,
                at(&warning.location)
            );
        }
        match t.outcome {
            Checked::Order(order) => orders.push(order),
            Checked::Refused(error) => {
                let text = |key: &str| error[key].as_str().unwrap_or_default().to_owned();
                eprintln!("{name}: refused [{}]: {}", text("code"), text("message"));
                if let Some(path) = error["location"]["path"].as_str() {
                    eprintln!("  at path {path}");
                }
                if let Some(line) = error["location"]["line"].as_u64() {
                    eprintln!("  at line {line}");
                }
                if let Ok(violations) =
                    serde_json::from_value::<Vec<Violation>>(error["errors"].clone())
                {
                    print_violations(&violations);
                }
            }
            Checked::NotAnOrder { kind, reason } => eprintln!(
                "{name}: not an order: {kind}{}",
                reason.map(|r| format!(" ({r})")).unwrap_or_default()
            ),
        }
    }
    if orders.is_empty() {
        eprintln!("no transaction of the message is an order");
        return Ok(ExitCode::from(2));
    }
    println!("{}", serde_json::to_string_pretty(&orders)?);
    Ok(ExitCode::SUCCESS)
}

fn print_violations(violations: &[Violation]) {
    for v in violations {
        let pointer = if v.pointer.is_empty() {
            "/"
        } else {
            &v.pointer
        };
        eprintln!("  {pointer}: {}", v.reason);
    }
}

/// `  (at line 3, path ISA[1]/GS[1])` for a known location; nothing otherwise.
fn at(location: &Option<ErrorLocation>) -> String {
    location
        .as_ref()
        .map(|l| format!(" (at {l})"))
        .unwrap_or_default()
}

fn describe(err: &NormalizeError) -> String {
    match err {
        NormalizeError::Rejected {
            code,
            message,
            location,
        } => {
            let mut text = format!("plugin error [{code}]: {message}");
            if let Some(at) = location {
                text.push_str(&format!("\n  at {at}"));
            }
            text
        }
        other => format!("plugin failed [{}]: {other}", other.code()),
    }
}

fn guess_content_type(input: &Path) -> anyhow::Result<String> {
    let ext = input
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or_default();
    Ok(match ext.to_ascii_lowercase().as_str() {
        "xml" => "application/xml",
        "json" => "application/json",
        "edi" | "x12" | "txt" | "edifact" => "text/plain",
        "csv" => "text/csv",
        "eml" => crate::ingest::email::MESSAGE_RFC822,
        _ => bail!(
            "cannot guess the content type of {}; pass --content-type",
            input.display()
        ),
    }
    .to_owned())
}
