//! The gateway under test, as a process of its own: the bench runs itself again
//! with [`SERVE_ARG`], and that process serves exactly as `jembatan serve` does
//! (config from `JEMBATAN_*`, logs to stderr at `info`, the same `serve`). A
//! process of its own lets [`crate::cpu`] count the server's CPU time apart from
//! the load generator's.
//!
//! On PostgreSQL ([`FreshDatabase`]) several instances may share the database,
//! as a deployment behind a load balancer does ([`Cluster`]), each optionally
//! pinned to a core of its own with `taskset`.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use anyhow::{Context, bail, ensure};

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
    /// Starts the gateway on a free loopback port with its data in `data_dir`
    /// (and its store there, unless `env` names a database); `env` are the
    /// `JEMBATAN_*` settings of this run (any the bench's own environment has are
    /// left out, so a run is what it says). With a `core`, the process runs on
    /// that CPU only (`taskset -c`).
    pub fn start(
        data_dir: &Path,
        env: &[(&str, &str)],
        core: Option<usize>,
    ) -> anyhow::Result<Self> {
        std::fs::create_dir_all(data_dir)?;
        let log = data_dir.join("gateway.log");
        let exe = std::env::current_exe()?;
        let mut command = match core {
            // taskset execs the gateway: the child's pid is the gateway's.
            Some(core) => {
                let mut command = Command::new("taskset");
                command.arg("-c").arg(core.to_string()).arg(exe);
                command
            }
            None => Command::new(exe),
        };
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

/// The gateway's instances of one run, all on one store; stopped when dropped.
pub struct Cluster {
    gateways: Vec<Gateway>,
}

impl Cluster {
    /// Starts `instances` gateways, each with a data directory of its own under
    /// `data_dir` and the settings `env`; with `pin`, instance `n` runs on core
    /// `n` only.
    pub fn start(
        data_dir: &Path,
        env: &[(&str, &str)],
        instances: usize,
        pin: bool,
    ) -> anyhow::Result<Self> {
        ensure!(instances >= 1, "at least one instance");
        let mut gateways = Vec::with_capacity(instances);
        for n in 0..instances {
            let dir = data_dir.join(format!("instance-{n}"));
            let core = pin.then_some(n);
            gateways.push(
                Gateway::start(&dir, env, core)
                    .with_context(|| format!("starting instance {n}"))?,
            );
        }
        Ok(Self { gateways })
    }

    /// `http://127.0.0.1:PORT` of each instance; the first is where the bench
    /// sets up buyers and reads back.
    pub fn bases(&self) -> Vec<String> {
        self.gateways.iter().map(|g| g.base.clone()).collect()
    }

    pub fn pids(&self) -> Vec<u32> {
        self.gateways.iter().map(Gateway::pid).collect()
    }
}

/// A PostgreSQL database made for one run on the server a `postgres://` URL
/// names, and dropped after it (with whatever the run left connected).
pub struct FreshDatabase {
    /// The server's maintenance database, where the run's is created and dropped.
    admin: String,
    name: String,
    /// The run's database, with the given URL's parameters (`pool_size=N`).
    pub url: String,
}

impl FreshDatabase {
    /// `server`: `postgres://USER[:PASSWORD]@HOST[:PORT][/DATABASE][?PARAMS]`;
    /// DATABASE (default `postgres`) is the one connected to for creating.
    pub fn create(server: &str) -> anyhow::Result<Self> {
        let (scheme, rest) = server
            .split_once("://")
            .filter(|(scheme, _)| matches!(*scheme, "postgres" | "postgresql"))
            .context("--database takes postgres://USER@HOST[:PORT][/DATABASE][?pool_size=N]")?;
        let (rest, params) = match rest.split_once('?') {
            Some((rest, params)) => (rest, Some(params)),
            None => (rest, None),
        };
        let (authority, database) = rest.split_once('/').unwrap_or((rest, ""));
        let database = if database.is_empty() {
            "postgres"
        } else {
            database
        };
        let stamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)?
            .as_millis();
        let name = format!("jembatan_bench_{}_{stamp}", std::process::id());
        let fresh = Self {
            admin: format!("{scheme}://{authority}/{database}"),
            url: match params {
                Some(params) => format!("{scheme}://{authority}/{name}?{params}"),
                None => format!("{scheme}://{authority}/{name}"),
            },
            name,
        };
        fresh.admin_sql(&format!("CREATE DATABASE {}", fresh.name))?;
        Ok(fresh)
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    fn admin_sql(&self, sql: &str) -> anyhow::Result<()> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        runtime.block_on(async {
            let (client, connection) = tokio_postgres::connect(&self.admin, tokio_postgres::NoTls)
                .await
                .with_context(|| {
                    format!("connecting to {}", jembatan::store::redact_url(&self.admin))
                })?;
            let connection = tokio::spawn(connection);
            client.batch_execute(sql).await.context(sql.to_owned())?;
            drop(client);
            let _ = connection.await;
            anyhow::Ok(())
        })
    }
}

impl Drop for FreshDatabase {
    fn drop(&mut self) {
        let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
        if let Err(error) = self.admin_sql(&sql) {
            eprintln!(
                "the run's database {} was left behind: {error:#}",
                self.name
            );
        }
    }
}
