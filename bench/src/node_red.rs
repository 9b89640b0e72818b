//! The Node-RED yardstick (`--only node-red`): Node-RED 4 running the flow an
//! integrator would write instead of the gateway, `http in` POST /orders → a
//! function node that normalizes the bench's canonical JSON order (maps its
//! fields, checks every line, totals it) → `http response`, storing nothing
//! (`bench/node-red/flow.json`, settings beside it). It is driven by the same load
//! generator as the gateway and its CPU time read the same way, so the figures
//! stand beside the gateway's. Not part of the product: npm installs `node-red@4`
//! into `target/node-red` the first time.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};

use crate::load::Request;

/// The npm package, the major version the issue names.
const PACKAGE: &str = "node-red@4";
/// How long Node-RED may take to start and answer its first order right.
const START_LIMIT: Duration = Duration::from_secs(60);

/// A running Node-RED; killed when dropped.
pub struct NodeRed {
    child: Child,
    /// `http://127.0.0.1:PORT/orders`.
    pub url: String,
    /// The installed version, e.g. `4.1.2`.
    pub version: String,
    /// Its user directory and log, deleted after it is killed.
    home: tempfile::TempDir,
}

impl NodeRed {
    /// Installs Node-RED if `target/node-red` lacks it, then starts the flow on a
    /// free loopback port.
    pub fn start() -> anyhow::Result<Self> {
        let install = install()?;
        let red = install.join("node_modules/node-red/red.js");
        let version = installed_version(&install)?;
        let here = Path::new(env!("CARGO_MANIFEST_DIR")).join("node-red");
        let home = tempfile::tempdir()?;
        let log = std::fs::File::create(home.path().join("node-red.log"))?;
        // Node-RED binds the port itself; one the kernel just handed out and
        // released is free unless something else takes it in between.
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let child = Command::new("node")
            .arg(&red)
            .arg("--settings")
            .arg(here.join("settings.js"))
            .arg("--userDir")
            .arg(home.path())
            .arg(here.join("flow.json"))
            .env("PORT", port.to_string())
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .with_context(|| format!("starting node {}", red.display()))?;
        Ok(Self {
            child,
            url: format!("http://127.0.0.1:{port}/orders"),
            version,
            home,
        })
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits until the flow answers `request` right.
    pub async fn wait_until_up(
        &mut self,
        client: &reqwest::Client,
        request: &Request,
    ) -> anyhow::Result<()> {
        let started = Instant::now();
        let mut last = String::from("no answer yet");
        while started.elapsed() < START_LIMIT {
            if let Some(status) = self.child.try_wait()? {
                bail!("Node-RED exited ({status}); its log:\n{}", self.log());
            }
            match request.check_once(client).await {
                Ok(()) => return Ok(()),
                Err(wrong) => last = wrong,
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        bail!(
            "Node-RED's flow did not answer right within {} s ({last}); its log:\n{}",
            START_LIMIT.as_secs(),
            self.log()
        )
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.home.path().join("node-red.log")).unwrap_or_default()
    }
}

impl Drop for NodeRed {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `target/node-red`, with Node-RED installed in it.
fn install() -> anyhow::Result<PathBuf> {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"));
    let dir = target.join("node-red");
    if dir.join("node_modules/node-red/red.js").is_file() {
        return Ok(dir);
    }
    std::fs::create_dir_all(&dir)?;
    eprintln!("installing {PACKAGE} with npm into {}", dir.display());
    let status = Command::new("npm")
        .args(["install", "--no-audit", "--no-fund", "--prefix"])
        .arg(&dir)
        .arg(PACKAGE)
        // npm's progress goes to the terminal; the tables stay on stdout.
        .stdout(Stdio::null())
        .status()
        .context("running npm (the Node-RED yardstick needs node and npm)")?;
    ensure!(status.success(), "npm install {PACKAGE} failed ({status})");
    Ok(dir)
}

fn installed_version(install: &Path) -> anyhow::Result<String> {
    let path = install.join("node_modules/node-red/package.json");
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let package: serde_json::Value = serde_json::from_str(&text)?;
    let version = package["version"]
        .as_str()
        .with_context(|| format!("{} has no version", path.display()))?;
    ensure!(
        version.starts_with("4."),
        "{} is Node-RED {version}, not 4",
        install.display()
    );
    Ok(version.to_owned())
}
