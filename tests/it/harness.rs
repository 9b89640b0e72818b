//! Boots the real `jembatan` binary on a free loopback port with a fresh data
//! directory, and talks to it over HTTP like any client would.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use reqwest::Method;
use reqwest::blocking::{Client, RequestBuilder, Response};
use serde_json::{Value, json};

/// The repository's root.
pub fn repo_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap()
}

/// Directory holding the test-only plugins, built once per test run by
/// `plugins/build` (the same script that makes the stock plugins).
pub fn test_plugins_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let status = Command::new(repo_root().join("plugins/build"))
            .arg("--no-dist")
            .status()
            .expect("running plugins/build");
        assert!(status.success(), "plugins/build failed");
        let dir = repo_root().join("target/test-plugins");
        std::fs::create_dir_all(&dir).unwrap();
        // Under nextest every test is a process of its own, each staging these
        // files while others' gateways load them: a copy is written beside its
        // place and renamed into it, so a reader never sees a half-written file.
        for (built, name) in [
            ("test_hostile", "test-hostile"),
            ("buyer_mitra_otoparts", "buyer-mitra-otoparts"),
        ] {
            let partial = dir.join(format!(".{name}.wasm.{}", std::process::id()));
            std::fs::copy(built_plugin(built), &partial).unwrap();
            std::fs::rename(&partial, dir.join(format!("{name}.wasm"))).unwrap();
        }
        dir
    })
}

/// A plugin as `plugins/build` left it in its target directory
/// (`JEMBATAN_PLUGIN_TARGET_DIR`, else `target/plugins`, as the script chooses).
pub fn built_plugin(crate_name: &str) -> PathBuf {
    let dir = std::env::var_os("JEMBATAN_PLUGIN_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("target/plugins"));
    dir.join(format!("wasm32-wasip2/plugin/{crate_name}.wasm"))
}

/// The canonical test order (`tests/fixtures/canonical-every-field.json`)
/// numbered `number`, for the supplier `supplier_code`.
pub fn canonical_order(number: &str, supplier_code: &str) -> Value {
    let mut order: Value =
        serde_json::from_slice(&fixture("tests/fixtures/canonical-every-field.json")).unwrap();
    order["buyer_order_number"] = json!(number);
    order["supplier"]["code"] = json!(supplier_code);
    order
}

/// A stored order (canonical order v2, as the API answers it) as its plugin wrote
/// it: without what the gateway adds when it stores it (`received`, the buyer
/// taken from the registration and the warnings saying so). Plugin expectations
/// (`*.expected.v2.json`) describe what the plugin writes.
pub fn as_written_by_plugin(mut order: Value) -> Value {
    let object = order.as_object_mut().expect("an order is an object");
    object.remove("received");
    if object["buyer"]["source"] == "registration" {
        object.remove("buyer");
    }
    if let Some(Value::Array(warnings)) = object.get_mut("warnings") {
        warnings.retain(|w| {
            !matches!(
                w["code"].as_str(),
                Some("buyer-from-registration" | "buyer-differs-from-registration")
            )
        });
        if warnings.is_empty() {
            object.remove("warnings");
        }
    }
    order
}

pub fn fixture(path: &str) -> Vec<u8> {
    let full = repo_root().join(path);
    std::fs::read(&full).unwrap_or_else(|e| panic!("reading {}: {e}", full.display()))
}

/// A running gateway; killed when dropped.
pub struct Gateway {
    child: Child,
    pub base: String,
    pub admin_token: String,
    pub data_dir: PathBuf,
    _temp: Option<tempfile::TempDir>,
    pub client: Client,
    /// Everything the gateway logged, for checks that no secret leaks.
    logs: Arc<Mutex<String>>,
    /// The PostgreSQL database this gateway's data directory has, when the run uses
    /// PostgreSQL (see [`test_database`]).
    postgres: Option<TestPostgres>,
    /// Set by [`Gateway::kill`] and [`Gateway::stop`], which keep the data (and so
    /// the database) for a gateway restarted on it.
    keeps_data: bool,
}

/// Which engine the gateways of this run store in: `JEMBATAN_TEST_DATABASE=postgres`
/// gives each data directory a PostgreSQL database of its own on the server at
/// `JEMBATAN_TEST_POSTGRES_URL` (else `postgres://postgres@127.0.0.1:5432`, trust
/// auth), in place of the SQLite file in it; unset or `sqlite`, the SQLite file.
pub fn test_database() -> &'static str {
    static ENGINE: OnceLock<String> = OnceLock::new();
    ENGINE.get_or_init(|| {
        let engine = std::env::var("JEMBATAN_TEST_DATABASE").unwrap_or_else(|_| "sqlite".into());
        assert!(
            matches!(engine.as_str(), "sqlite" | "postgres"),
            "JEMBATAN_TEST_DATABASE is sqlite or postgres, not {engine:?}"
        );
        engine
    })
}

/// Whether this run stores in SQLite; if not, says that `test` is left out. A test
/// of what happens to the SQLite file itself (damaged, vanished, on a full disk)
/// has no meaning on PostgreSQL, where an outage of the server stands for them.
pub fn sqlite_only(test: &str) -> bool {
    let sqlite = test_database() == "sqlite";
    if !sqlite {
        eprintln!("{test}: a test of the SQLite file, left out on PostgreSQL");
    }
    sqlite
}

/// A data directory's PostgreSQL database: named after the directory, so a gateway
/// restarted on the same directory finds the same database.
struct TestPostgres {
    server: String,
    name: String,
}

impl TestPostgres {
    /// The database of `data_dir`, created if it does not exist yet.
    fn of(data_dir: &Path) -> Self {
        use sha2::Digest as _;
        let digest = sha2::Sha256::digest(data_dir.as_os_str().as_encoded_bytes());
        Self::named(format!("jembatan_it_{}", &hex::encode(digest)[..24]))
    }

    /// The database `name`, created if it does not exist yet.
    fn named(name: String) -> Self {
        let server = std::env::var("JEMBATAN_TEST_POSTGRES_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into());
        let database = Self { server, name };
        let exists = database.psql(&format!(
            "SELECT 1 FROM pg_database WHERE datname = '{}'",
            database.name
        ));
        if exists.trim() != "1" {
            database.psql(&format!("CREATE DATABASE {}", database.name));
        }
        database
    }

    fn url(&self) -> String {
        format!("{}/{}", self.server, self.name)
    }

    /// Runs `sql` with `psql` on the server's `postgres` database; its output.
    fn psql(&self, sql: &str) -> String {
        self.psql_on(&format!("{}/postgres", self.server), sql)
    }

    /// Runs `sql` with `psql` on the database at `url`; its output.
    fn psql_on(&self, url: &str, sql: &str) -> String {
        let output = Command::new("psql")
            .args(["-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", "-d"])
            .arg(url)
            .args(["-c", sql])
            .output()
            .expect("psql, to make the tests' PostgreSQL databases");
        assert!(
            output.status.success(),
            "{sql}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// Drops the database, saying so if it cannot (a drop must not panic).
    fn drop_database(&self) {
        let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
        let dropped = Command::new("psql")
            .args(["-X", "-q", "-d"])
            .arg(format!("{}/postgres", self.server))
            .args(["-c", &sql])
            .status();
        if !dropped.is_ok_and(|status| status.success()) {
            eprintln!("the test database {} was left behind", self.name);
        }
    }
}

/// A PostgreSQL database of a test's own on the tests' server (as
/// [`test_database`] finds it), made empty and dropped with this value, whatever
/// engine the run's other gateways use: for several gateways sharing one, as
/// instances behind a load balancer do (each started with [`Self::env`] and a
/// data directory of its own), or for a test that moves data into one.
pub struct PostgresDatabase(TestPostgres);

impl PostgresDatabase {
    pub fn create() -> Self {
        let name = format!("jembatan_it_shared_{}", uuid::Uuid::now_v7().simple());
        Self(TestPostgres::named(name))
    }

    pub fn url(&self) -> String {
        self.0.url()
    }

    /// The setting that points a gateway at this database.
    pub fn env(&self) -> (String, String) {
        ("JEMBATAN_DATABASE_URL".to_owned(), self.0.url())
    }

    /// Runs `sql` on the database; its output, one row a line (`|` between columns).
    pub fn query(&self, sql: &str) -> String {
        self.0.psql_on(&self.0.url(), sql)
    }
}

impl Drop for PostgresDatabase {
    fn drop(&mut self) {
        self.0.drop_database();
    }
}

/// On PostgreSQL, makes the delivery claims in the database of `data_dir` as if
/// their leases had run out: a killed gateway's claims are taken back only then
/// (a start there takes back only leases that ran out, as another live instance
/// may hold the rest), which is minutes after the kill. Nothing on SQLite, where a
/// start takes back every claim.
pub fn lapse_claims(data_dir: &Path) {
    if test_database() != "postgres" {
        return;
    }
    let database = TestPostgres::of(data_dir);
    database.psql_on(
        &database.url(),
        "UPDATE deliveries SET claimed_until = '1970-01-01T00:00:00.000Z' \
         WHERE claimed_until IS NOT NULL",
    );
}

/// How to start a gateway; `Default` is a fresh one with the test plugins.
#[derive(Default, Clone)]
pub struct Options {
    /// Reuse this data directory (to restart a gateway on the same store).
    pub data_dir: Option<PathBuf>,
    pub env: Vec<(String, String)>,
    /// A TOML config file's text, written beside the data and passed with
    /// `JEMBATAN_CONFIG`.
    pub config: Option<String>,
    /// Start with no admin token at all (the admin API is then disabled).
    pub without_admin_token: bool,
    /// Cache compiled plugins in the data directory, as a gateway does by default,
    /// rather than in the run's shared cache: for tests that damage or inspect it.
    pub own_plugin_cache: bool,
}

/// One compiled-plugin cache for every gateway of the run (and the next runs, as
/// long as the plugins and the engine are the same): compiling the stock plugins
/// costs a gateway seconds of CPU at start, loading them a few milliseconds.
fn shared_plugin_cache() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("plugin-cache")
}

impl Gateway {
    pub fn start() -> Self {
        Self::start_with(Options::default())
    }

    pub fn start_with(options: Options) -> Self {
        let (temp, data_dir) = match options.data_dir {
            Some(dir) => (None, dir),
            None => {
                let temp = tempfile::tempdir().unwrap();
                let dir = temp.path().to_owned();
                (Some(temp), dir)
            }
        };
        let admin_token = "test-admin-token".to_owned();
        let mut command = Command::new(env!("CARGO_BIN_EXE_jembatan"));
        command
            .arg("serve")
            .env("JEMBATAN_LISTEN", "127.0.0.1:0")
            .env("JEMBATAN_DATA_DIR", &data_dir)
            .env("JEMBATAN_ADMIN_TOKEN", &admin_token)
            .env("JEMBATAN_PLUGIN_DIRS", test_plugins_dir())
            .env("JEMBATAN_HTTP_WORKERS", "2")
            // Tests post in tight loops from one buyer, on machines whose disks may be
            // small: admission's defaults would refuse what they test. The admission
            // tests set their own.
            .env("JEMBATAN_BUYER_MESSAGES_PER_MINUTE", "600000")
            .env("JEMBATAN_BUYER_BURST", "100000")
            .env("JEMBATAN_MIN_FREE_DISK_BYTES", "16777216")
            .env("RUST_LOG", "info");
        if !options.own_plugin_cache {
            command.env("JEMBATAN_PLUGIN_CACHE_DIR", shared_plugin_cache());
        }
        if let Some(config) = &options.config {
            std::fs::create_dir_all(&data_dir).unwrap();
            let path = data_dir.join("jembatan.toml");
            std::fs::write(&path, config).unwrap();
            command.env("JEMBATAN_CONFIG", &path);
        }
        let chooses_database = options
            .env
            .iter()
            .any(|(k, _)| k == "JEMBATAN_DATABASE_URL");
        let postgres = (test_database() == "postgres" && !chooses_database)
            .then(|| TestPostgres::of(&data_dir));
        if let Some(postgres) = &postgres {
            command.env("JEMBATAN_DATABASE_URL", postgres.url());
        }
        for (k, v) in &options.env {
            command.env(k, v);
        }
        if options.without_admin_token {
            command.env_remove("JEMBATAN_ADMIN_TOKEN");
        }
        let logs = Arc::new(Mutex::new(String::new()));
        let (child, base) = spawn_until_ready(
            "gateway",
            &mut command,
            "jembatan listening on ",
            Duration::from_secs(120),
            Some(logs.clone()),
        );
        Self {
            child,
            base,
            admin_token,
            data_dir,
            _temp: temp,
            client: Client::builder()
                .timeout(Duration::from_secs(60))
                .build()
                .unwrap(),
            logs,
            postgres,
            keeps_data: false,
        }
    }

    /// What the gateway has logged so far.
    pub fn logs(&self) -> String {
        self.logs.lock().unwrap().clone()
    }

    /// The port of the gateway's SMTP listener (`JEMBATAN_SMTP_LISTEN`), from the
    /// line it prints before it says it listens for HTTP.
    pub fn smtp_port(&self) -> u16 {
        let logs = self.logs();
        let line = logs
            .lines()
            .find_map(|line| line.strip_prefix("jembatan smtp listening on smtp://"))
            .expect("the gateway runs an SMTP listener");
        line.rsplit(':').next().unwrap().parse().unwrap()
    }

    /// The gateway's process id (to read its memory from `/proc`).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Kills the process the hard way (SIGKILL) and waits for it.
    pub fn kill(mut self) -> PathBuf {
        self.keeps_data = true;
        self.child.kill().unwrap();
        self.child.wait().unwrap();
        std::mem::take(&mut self._temp)
            .map(|t| t.keep())
            .unwrap_or(self.data_dir.clone())
    }

    /// Stops the process as an operator does (SIGTERM), waits for it to finish
    /// its shutdown (the store checkpoints its log into the database file), and
    /// keeps its data directory.
    pub fn stop(mut self) -> PathBuf {
        self.keeps_data = true;
        let pid = nix::unistd::Pid::from_raw(i32::try_from(self.child.id()).unwrap());
        nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).unwrap();
        let status = self.child.wait().unwrap();
        assert!(status.success(), "the gateway stopped with {status}");
        std::mem::take(&mut self._temp)
            .map(|t| t.keep())
            .unwrap_or(self.data_dir.clone())
    }

    /// Creates a buyer; returns its API key.
    pub fn create_buyer(&self, id: &str, plugin: &str, config: Value) -> String {
        self.create_buyer_with(json!({"id": id, "name": format!("Buyer {id}"), "plugin": plugin, "plugin_config": config}))
    }

    pub fn create_buyer_with(&self, body: Value) -> String {
        let created = json_of(
            self.admin(Method::POST, "/v1/admin/buyers", Some(body)),
            201,
        );
        created["api_key"].as_str().unwrap().to_owned()
    }

    /// Creates a craftsman; returns the answer (with their `token`, and any
    /// webhook's `secret`).
    pub fn create_craftsman(&self, body: Value) -> Value {
        json_of(
            self.admin(Method::POST, "/v1/admin/craftsmen", Some(body)),
            201,
        )
    }

    /// Routes the buyer's supplier code to the craftsman; returns the answer.
    pub fn route(&self, buyer: &str, code: &str, craftsman: &str) -> Value {
        let path = format!("/v1/admin/buyers/{buyer}/suppliers/{code}");
        json_of(
            self.admin(Method::PUT, &path, Some(json!({ "craftsman": craftsman }))),
            200,
        )
    }

    /// Uploads a plugin component through the admin API.
    pub fn upload_plugin(&self, wasm: Vec<u8>) -> Response {
        self.admin_request(Method::POST, "/v1/admin/plugins")
            .header("content-type", "application/wasm")
            .body(wasm)
            .send()
            .unwrap()
    }

    /// A request to the admin API, with the admin token, for the caller to finish.
    pub fn admin_request(&self, method: Method, path: &str) -> RequestBuilder {
        self.client
            .request(method, self.url(path))
            .bearer_auth(&self.admin_token)
    }

    /// Calls the admin API, with `body` as JSON when there is one.
    pub fn admin(&self, method: Method, path: &str, body: Option<Value>) -> Response {
        let mut req = self.admin_request(method, path);
        if let Some(body) = body {
            req = req.json(&body);
        }
        req.send().unwrap()
    }

    /// `GET` on the admin API; the answer must be 200 and JSON.
    pub fn admin_get(&self, path: &str) -> Value {
        json_of(self.admin(Method::GET, path, None), 200)
    }

    /// Posts the canonical test order (`tests/fixtures/canonical-every-field.json`)
    /// numbered `number`, for the supplier `supplier_code`; returns its id.
    pub fn post_canonical_order(&self, key: &str, number: &str, supplier_code: &str) -> String {
        let body = canonical_order(number, supplier_code).to_string();
        let accepted = json_of(self.post_order(key, "application/json", body), 201);
        accepted["orders"][0]["id"].as_str().unwrap().to_owned()
    }

    pub fn post_order(&self, key: &str, content_type: &str, body: impl Into<Vec<u8>>) -> Response {
        self.client
            .post(self.url("/v1/orders"))
            .bearer_auth(key)
            .header("content-type", content_type)
            .body(body.into())
            .send()
            .unwrap()
    }

    pub fn get(&self, key: &str, path: &str) -> Response {
        self.client
            .get(self.url(path))
            .bearer_auth(key)
            .send()
            .unwrap()
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        // A database goes with the gateway, unless it was killed or stopped to be
        // restarted on its data, which then keeps the database as it keeps the
        // directory; the restarted gateway drops it.
        if !self.keeps_data
            && let Some(postgres) = &self.postgres
        {
            postgres.drop_database();
        }
    }
}

/// Spawns `command` (the gateway, a loopback peer) with its stdout and stderr
/// piped, and waits up to `timeout` for a stdout line starting with `ready_prefix`;
/// returns the child and the rest of that line (where it listens).
///
/// Its stderr is passed through, each line tagged `[name]`, so a failing test
/// shows it, and also appended to `log` when one is given (the gateway's, for the
/// checks that no secret is logged). Its stdout is read to the end, so the child
/// never writes into a closed pipe. If the line does not come, the child is killed
/// and the test fails below its stderr.
pub fn spawn_until_ready(
    name: &str,
    command: &mut Command,
    ready_prefix: &str,
    timeout: Duration,
    log: Option<Arc<Mutex<String>>>,
) -> (Child, String) {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("starting {name}: {e}"));
    let stderr = child.stderr.take().unwrap();
    let tag = name.to_owned();
    let stdout_log = log.clone();
    let stderr_done = thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            eprintln!("[{tag}] {line}");
            if let Some(log) = &log {
                let mut log = log.lock().unwrap();
                log.push_str(&line);
                log.push('\n');
            }
        }
    });
    let stdout = child.stdout.take().unwrap();
    let prefix = ready_prefix.to_owned();
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let mut ready = Some(tx);
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            // Kept before the ready line is acted on, so what was printed before it
            // (the SMTP listener's address) is in the log once the child is ready.
            if let Some(log) = &stdout_log {
                let mut log = log.lock().unwrap();
                log.push_str(&line);
                log.push('\n');
            }
            if let Some(rest) = line.strip_prefix(&prefix)
                && let Some(tx) = ready.take()
            {
                let _ = tx.send(rest.trim().to_owned());
            }
        }
    });
    match rx.recv_timeout(timeout) {
        Ok(rest) => (child, rest),
        Err(_) => {
            let _ = child.kill();
            let status = child.wait();
            let _ = stderr_done.join(); // so its stderr is printed above the panic
            panic!(
                "{name} did not say {ready_prefix:?} within {timeout:?} ({status:?}); its stderr is above"
            );
        }
    }
}

/// Asserts the response is a problem document with this status; returns it.
pub fn expect_problem(res: Response, status: u16) -> Value {
    assert_eq!(res.status().as_u16(), status, "status");
    let content_type = res
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let body = res.text().unwrap();
    assert_eq!(content_type, "application/problem+json", "{body}");
    let problem: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(problem["status"], status, "{problem}");
    assert!(problem["type"].as_str().unwrap().starts_with("https://"));
    assert!(
        problem["title"].is_string() && problem["detail"].is_string(),
        "{problem}"
    );
    problem
}

/// Waits up to `bound` for `done`, polling every 100 ms.
pub fn eventually(bound: Duration, mut done: impl FnMut() -> bool) -> bool {
    let started = Instant::now();
    while started.elapsed() < bound {
        if done() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    done()
}

pub fn json_of(res: Response, status: u16) -> Value {
    let actual = res.status().as_u16();
    let body = res.text().unwrap();
    assert_eq!(actual, status, "{body}");
    serde_json::from_str(&body).unwrap()
}

/// A loopback port held bound but not listening: a connection to it is refused,
/// as to a receiver that is down, and no other test can bind it (the socket has
/// no `SO_REUSEADDR`) until [`HeldPort::release`] hands it to the receiver that
/// comes up there.
pub struct HeldPort {
    socket: std::os::fd::OwnedFd,
    port: u16,
}

impl HeldPort {
    pub fn new() -> Self {
        use nix::sys::socket::{
            AddressFamily, SockFlag, SockType, SockaddrIn, bind, getsockname, socket,
        };
        use std::os::fd::AsRawFd;
        let socket = socket(
            AddressFamily::Inet,
            SockType::Stream,
            SockFlag::SOCK_CLOEXEC,
            None,
        )
        .expect("a TCP socket");
        bind(socket.as_raw_fd(), &SockaddrIn::new(127, 0, 0, 1, 0)).expect("bind 127.0.0.1:0");
        let port = getsockname::<SockaddrIn>(socket.as_raw_fd())
            .expect("getsockname")
            .port();
        Self { socket, port }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Frees the port, for a receiver to be started on it at once.
    pub fn release(self) -> u16 {
        drop(self.socket);
        self.port
    }
}
