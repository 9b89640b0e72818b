//! The gateway under test, as a process of its own: the bench runs itself again
//! with [`SERVE_ARG`], and that process serves exactly as `jembatan serve` does
//! (config from `JEMBATAN_*`, logs to stderr at `info`, the same `serve`). A
//! process of its own lets [`crate::cpu`] count the server's CPU time apart from
//! the load generator's.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use anyhow::{Context, bail};

/// The first argument that makes the bench the gateway instead.
pub const SERVE_ARG: &str = "__serve-gateway";

/// What `jembatan::serve` prints once it listens, followed by its address.
const LISTENING: &str = "jembatan listening on ";

/// How long the gateway may take to open its store, load the stock plugins and
/// listen.
const START_LIMIT: Duration = Duration::from_secs(120);

/// In the child: the gateway, as `jembatan serve` runs it.
pub fn serve() -> anyhow::Result<()> {
    let config = jembatan::config::Config::load(None)?;
    jembatan::telemetry::init(config.log_format);
    let listener = std::net::TcpListener::bind(config.listen)
        .with_context(|| format!("listening on {}", config.listen))?;
    actix_web::rt::System::new().block_on(jembatan::serve(config, listener))
}

/// A running gateway; killed when dropped.
pub struct Gateway {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// Where its stderr (its log) goes.
    log: PathBuf,
}

impl Gateway {
    /// Starts the gateway on a free loopback port with a fresh store in
    /// `data_dir`; `env` are the `JEMBATAN_*` settings of this run (any the
    /// bench's own environment has are left out, so a run is what it says).
    pub fn start(data_dir: &Path, env: &[(&str, &str)]) -> anyhow::Result<Self> {
        let log = data_dir.join("gateway.log");
        let mut command = Command::new(std::env::current_exe()?);
        command.arg(SERVE_ARG);
        for (name, _) in std::env::vars() {
            if name.starts_with("JEMBATAN_") {
                command.env_remove(name);
            }
        }
        command
            .env("JEMBATAN_LISTEN", "127.0.0.1:0")
            .env("JEMBATAN_DATA_DIR", data_dir)
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log)?);
        let mut child = command.spawn().context("starting the gateway")?;
        let stdout = child.stdout.take().context("the gateway's stdout")?;
        let (tx, rx) = mpsc::channel();
        // Reads stdout to the end, so the gateway never blocks on a full pipe.
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(base) = line.strip_prefix(LISTENING) {
                    let _ = tx.send(base.trim().to_owned());
                }
            }
        });
        let mut gateway = Self {
            child,
            base: String::new(),
            log,
        };
        match rx.recv_timeout(START_LIMIT) {
            Ok(base) => gateway.base = base,
            Err(_) => bail!(
                "the gateway did not print {LISTENING:?} within {} s; its log ends:\n{}",
                START_LIMIT.as_secs(),
                gateway.log_tail()
            ),
        }
        Ok(gateway)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The last lines of its log, to say why it failed.
    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
