//! Real receivers on loopback for the gateway to deliver to: a webhook endpoint
//! that checks Standard Webhooks signatures with an independent implementation,
//! an SMTP server, and the WhatsApp Cloud and Telegram Bot APIs.
//!
//! Each is a small Python program under `tests/peers/` (its docstring says what
//! it records and how to switch failures on). The handles here start one, read
//! where it listens from the line it prints, talk to its `/_received` and
//! `/_control` endpoints, and kill it when dropped.

// Handles for the delivery tests; not every method has a caller yet.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::thread;
use std::time::{Duration, Instant};

use reqwest::blocking::Client;
use serde_json::{Value, json};

use crate::harness::{repo_root, spawn_until_ready};

/// The command `.ci/run` installs the peers' Python packages with (a test
/// below holds the two together); `openapi-spec-validator` is for
/// `tests/tools/validate_openapi.py`, `openpyxl` for the XLSX files
/// `tests/peers/send_mail.py` attaches, `dkimpy` for the DKIM signatures it makes,
/// `dnslib` for `tests/peers/dns_server.py`, `pyx12`, `pydifact` and `lxml`
/// for `tests/tools/read_response.py`, and `pypdf` for `tests/tools/read_pdf.py`.
pub const PIP_INSTALL: &str = "python3 -m pip install --quiet 'standardwebhooks==1.1.0' 'aiosmtpd==1.4.6' 'openapi-spec-validator==0.9.0' 'openpyxl==3.1.5' 'dkimpy==1.1.8' 'dnslib==0.9.26' 'pyx12==4.0.0' 'pydifact==0.2.3' 'lxml==6.1.3' 'pypdf==6.19.0'";

/// How long a peer may take to say it listens.
const READY_TIMEOUT: Duration = Duration::from_secs(20);
/// How often `wait_for` asks a peer what it has received.
const POLL_INTERVAL: Duration = Duration::from_millis(50);

/// A craftsman's webhook endpoint; see `tests/peers/webhook_receiver.py`.
///
/// Records `{path, webhook_id, webhook_timestamp, verified, verify_error,
/// status, headers, body}` per delivery; answers 204 when the signature
/// verifies, 400 when it does not.
pub struct WebhookReceiver {
    peer: Peer,
    port: u16,
}

impl WebhookReceiver {
    /// Starts a receiver on a free port, verifying with `secret` (`whsec_…`).
    pub fn start(secret: &str) -> Self {
        Self::start_on(0, secret)
    }

    /// Starts a receiver on `port`: one brought back up where a stopped one was.
    pub fn start_on(port: u16, secret: &str) -> Self {
        Self::start_on_with(port, secret, json!({}))
    }

    /// Starts a receiver on `port` that applies the control document `control`
    /// before its first request: one that comes back up failing, with no window
    /// in which a retry could land before the failure is switched on.
    pub fn start_on_with(port: u16, secret: &str, control: Value) -> Self {
        let (peer, address) = Peer::start(
            "webhook-receiver",
            "webhook_receiver.py",
            &[
                "--secret",
                secret,
                "--port",
                &port.to_string(),
                "--control",
                &control.to_string(),
            ],
        );
        Self {
            port: port_of(&address),
            peer,
        }
    }

    /// Deliveries counted as they arrive, before any delay or answer:
    /// `{"arrived", "in_flight", "max_in_flight"}`.
    pub fn stats(&self) -> Value {
        self.peer.stats()
    }

    /// The URL of `path` on this receiver, to register as a webhook endpoint.
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Every delivery so far, in arrival order, failed ones included.
    pub fn received(&self) -> Vec<Value> {
        self.peer.received()
    }

    /// Answers `status` to every delivery from now on (410 for Gone); 200 or
    /// 204 switch back to normal.
    pub fn set_status(&self, status: u16) {
        self.peer.control(json!({ "status": status }));
    }

    /// Answers `status` to the next `n` deliveries, then normally again.
    pub fn fail_next(&self, n: u32, status: u16) {
        self.peer
            .control(json!({ "fail_next": n, "status": status }));
    }

    /// Verifies with `secret` from now on (for a secret the gateway makes only
    /// once it knows the receiver's URL).
    pub fn set_secret(&self, secret: &str) {
        self.peer.control(json!({ "secret": secret }));
    }

    /// Sends any control document (`delay_ms`, `clear`, …; see `peerlib.py`).
    pub fn control(&self, doc: Value) {
        self.peer.control(doc);
    }

    /// Polls `received()` until `done` holds; panics with what arrived if it
    /// does not within `timeout`.
    #[track_caller]
    pub fn wait_for(&self, done: impl Fn(&[Value]) -> bool, timeout: Duration) -> Vec<Value> {
        self.peer.wait_for(|| self.received(), done, timeout)
    }

    /// Kills the receiver (so deliveries meet a closed port) and returns what
    /// it had received. `start_on(port, …)` brings one back.
    pub fn stop(mut self) -> Vec<Value> {
        let received = self.received();
        self.peer.kill();
        received
    }
}

/// A craftsman's mail server; see `tests/peers/smtp_sink.py`.
///
/// Records `{mail_from, rcpt_tos, auth_user, status, tls, message_id, subject,
/// from, to, headers, text, html, attachments: [{filename, content_type,
/// content, content_encoding}]}` per message; `tls` is null for plain text, else
/// `{version, cipher, starttls}` as the server's own TLS layer saw it.
pub struct SmtpSink {
    peer: Peer,
    port: u16,
}

impl SmtpSink {
    /// Starts a sink that offers no AUTH and takes every message.
    pub fn start() -> Self {
        Self::start_with(&[])
    }

    /// Starts a sink that requires AUTH PLAIN or LOGIN with these credentials
    /// (over plain loopback) before MAIL.
    pub fn start_with_auth(username: &str, password: &str) -> Self {
        Self::start_with(&["--username", username, "--password", password])
    }

    /// Starts a sink that speaks TLS with `certificates`' server certificate:
    /// [`SmtpSinkTls::Starttls`] (required before MAIL, AUTH offered only after
    /// it) or [`SmtpSinkTls::Implicit`] (SMTPS). With `auth`, it requires these
    /// credentials before MAIL.
    pub fn start_tls(
        tls: SmtpSinkTls,
        certificates: &TestCertificates,
        auth: Option<(&str, &str)>,
    ) -> Self {
        let (cert, key) = (certificates.server_cert(), certificates.server_key());
        let mut args = vec![
            "--tls",
            match tls {
                SmtpSinkTls::Starttls => "starttls",
                SmtpSinkTls::Implicit => "implicit",
            },
            "--cert",
            cert.to_str().unwrap(),
            "--key",
            key.to_str().unwrap(),
        ];
        if let Some((username, password)) = auth {
            args.extend(["--username", username, "--password", password]);
        }
        Self::start_with(&args)
    }

    fn start_with(args: &[&str]) -> Self {
        let (mut peer, address) = Peer::start("smtp-sink", "smtp_sink.py", args);
        // "smtp://127.0.0.1:PORT control http://127.0.0.1:CPORT"
        let (smtp, control) = address
            .split_once(" control ")
            .unwrap_or_else(|| panic!("smtp-sink: unexpected ready line {address:?}"));
        peer.control_url = control.to_owned();
        Self {
            port: port_of(smtp),
            peer,
        }
    }

    /// The SMTP port, on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The messages accepted (answered 250) so far.
    pub fn messages(&self) -> Vec<Value> {
        accepted(self.attempts())
    }

    /// Every message that reached the end of DATA, rejected ones included
    /// (their `status` says how they were answered).
    pub fn attempts(&self) -> Vec<Value> {
        self.peer.received()
    }

    /// Answers the next `n` messages with `status` after their DATA (451 is
    /// transient, 550 permanent), then 250 again.
    pub fn fail_next(&self, n: u32, status: u16) {
        self.peer
            .control(json!({ "fail_next": n, "status": status }));
    }

    /// Answers every message with `status` from now on; 250 switches back.
    pub fn set_status(&self, status: u16) {
        self.peer.control(json!({ "status": status }));
    }

    /// Stalls from now on: `Some("greeting")` accepts connections and never
    /// greets, `Some("data")` never answers a message's final dot; `None` heals.
    pub fn stall(&self, mode: Option<&str>) {
        self.peer.control(json!({ "stall": mode }));
    }

    /// Polls `messages()` (the accepted ones) until `done` holds; panics with
    /// every attempt if it does not within `timeout`.
    #[track_caller]
    pub fn wait_for(&self, done: impl Fn(&[Value]) -> bool, timeout: Duration) -> Vec<Value> {
        let attempts = self.peer.wait_for(
            || self.attempts(),
            |all| done(&accepted(all.to_vec())),
            timeout,
        );
        accepted(attempts)
    }
}

/// How a sink from [`SmtpSink::start_tls`] encrypts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpSinkTls {
    /// Plain text until STARTTLS, which it requires (usually port 587).
    Starttls,
    /// TLS from the first byte, SMTPS (usually port 465).
    Implicit,
}

/// A throwaway certificate authority and a server certificate it signed for
/// `localhost` and `127.0.0.1`, made with the `openssl` command line (as an
/// operator would for a private relay); the files last as long as this value.
pub struct TestCertificates {
    dir: tempfile::TempDir,
}

impl TestCertificates {
    pub fn generate() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let path = |name: &str| dir.path().join(name).to_str().unwrap().to_owned();
        // What WebPKI asks of a CA and a server certificate: v3, a CA that says it
        // is one, a leaf that says it is not, for serverAuth, its names as SANs.
        std::fs::write(
            path("server.ext"),
            "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n\
             extendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n",
        )
        .unwrap();
        let p256 = [
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
        ];
        openssl(&[
            &["req", "-x509"],
            &p256[..],
            &[
                "-keyout",
                &path("ca.key"),
                "-out",
                &path("ca.pem"),
                "-days",
                "2",
                "-subj",
                "/CN=jembatan test CA",
                "-addext",
                "basicConstraints=critical,CA:TRUE",
                "-addext",
                "keyUsage=critical,keyCertSign,cRLSign",
            ],
        ]);
        openssl(&[
            &["req", "-new"],
            &p256[..],
            &[
                "-keyout",
                &path("server.key"),
                "-out",
                &path("server.csr"),
                "-subj",
                "/CN=localhost",
            ],
        ]);
        openssl(&[&[
            "x509",
            "-req",
            "-in",
            &path("server.csr"),
            "-CA",
            &path("ca.pem"),
            "-CAkey",
            &path("ca.key"),
            "-set_serial",
            "2",
            "-days",
            "2",
            "-extfile",
            &path("server.ext"),
            "-out",
            &path("server.pem"),
        ]]);
        Self { dir }
    }

    /// The CA's certificate (PEM): what a client is told to trust.
    pub fn ca_cert(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }

    /// The server's certificate (PEM), signed by the CA.
    pub fn server_cert(&self) -> PathBuf {
        self.dir.path().join("server.pem")
    }

    /// The server certificate's private key (PEM).
    pub fn server_key(&self) -> PathBuf {
        self.dir.path().join("server.key")
    }
}

/// Runs `openssl` with these arguments; panics with its stderr if it fails.
/// A DKIM signing key (RSA 2048, PKCS#1 PEM, as `dkimpy` reads it) made with
/// the `openssl` command line; the file lasts as long as this value.
pub struct DkimKey {
    dir: tempfile::TempDir,
}

impl DkimKey {
    pub fn generate() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let key = dir.path().join("dkim.pem");
        let public = dir.path().join("dkim.pub.der");
        openssl(&[&[
            "genrsa",
            "-traditional",
            "-out",
            key.to_str().unwrap(),
            "2048",
        ]]);
        openssl(&[&[
            "rsa",
            "-in",
            key.to_str().unwrap(),
            "-pubout",
            "-outform",
            "DER",
            "-out",
            public.to_str().unwrap(),
        ]]);
        Self { dir }
    }

    /// The private key's file.
    pub fn private_key(&self) -> PathBuf {
        self.dir.path().join("dkim.pem")
    }

    /// The TXT record publishing the public key (RFC 6376 §3.6.1).
    pub fn dns_record(&self) -> String {
        use base64::Engine;
        let der = std::fs::read(self.dir.path().join("dkim.pub.der")).unwrap();
        format!(
            "v=DKIM1; k=rsa; p={}",
            base64::engine::general_purpose::STANDARD.encode(der)
        )
    }
}

/// The name server of the buyers' mail domains; see `tests/peers/dns_server.py`.
pub struct DnsServer {
    peer: Peer,
    address: String,
    _zone: tempfile::TempDir,
}

impl DnsServer {
    /// Serves `zone` (`{"name": {"TXT": ["…"]}}`); every other name is NXDOMAIN.
    pub fn start(zone: Value) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("zone.json");
        std::fs::write(&path, zone.to_string()).unwrap();
        let (peer, address) =
            Peer::start("dns", "dns_server.py", &["--zone", path.to_str().unwrap()]);
        Self {
            peer,
            address,
            _zone: dir,
        }
    }

    /// A server that reads every query and never answers.
    pub fn silent() -> Self {
        let (peer, address) = Peer::start("dns", "dns_server.py", &["--silent"]);
        Self {
            peer,
            address,
            _zone: tempfile::tempdir().unwrap(),
        }
    }

    /// Where it listens, `127.0.0.1:PORT` (UDP and TCP).
    pub fn address(&self) -> &str {
        &self.address
    }
}

fn openssl(args: &[&[&str]]) {
    let args = args.concat();
    let out = Command::new("openssl")
        .args(&args)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| {
            panic!("the TLS tests need the `openssl` command (apt-get install openssl): {e}")
        });
    assert!(
        out.status.success(),
        "openssl {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn accepted(attempts: Vec<Value>) -> Vec<Value> {
    attempts
        .into_iter()
        .filter(|m| m["status"] == 250)
        .collect()
}

/// The WhatsApp Cloud API and the Telegram Bot API on one port; see
/// `tests/peers/chat_apis.py`.
///
/// Records `{api, method, path (bot token redacted), content_type, json,
/// fields, document, status}` per request.
pub struct ChatApis {
    peer: Peer,
    base_url: String,
}

impl ChatApis {
    /// Starts the APIs, accepting only these tokens (WhatsApp's bearer token,
    /// Telegram's bot token).
    pub fn start(whatsapp_token: &str, telegram_token: &str) -> Self {
        let (peer, address) = Peer::start(
            "chat-apis",
            "chat_apis.py",
            &[
                "--whatsapp-token",
                whatsapp_token,
                "--telegram-token",
                telegram_token,
            ],
        );
        Self {
            base_url: address,
            peer,
        }
    }

    /// `http://127.0.0.1:PORT`: what the gateway uses in place of
    /// `https://graph.facebook.com` and `https://api.telegram.org`.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Every request so far, in arrival order, refused ones included.
    pub fn received(&self) -> Vec<Value> {
        self.peer.received()
    }

    /// Answers `status` to the next `n` requests of either API (429 carries a
    /// one-second `retry_after`), then normally again.
    pub fn fail_next(&self, n: u32, status: u16) {
        self.peer
            .control(json!({ "fail_next": n, "status": status }));
    }

    /// Answers `status` to every request from now on; 200 switches back.
    pub fn set_status(&self, status: u16) {
        self.peer.control(json!({ "status": status }));
    }

    /// Sends any control document (`retry_after`, `delay_ms`, …); returns the
    /// peer's answer.
    pub fn control(&self, doc: Value) -> Value {
        self.peer.control(doc)
    }

    /// Where the WhatsApp side sends its signed webhooks (statuses, user
    /// messages): the gateway's endpoint, signed with `app_secret`.
    pub fn whatsapp_webhook(&self, url: &str, app_secret: &str) {
        self.peer
            .control(json!({"whatsapp_webhook": {"url": url, "app_secret": app_secret}}));
    }

    /// The craftsman at `number` writes to the business number: the peer opens
    /// their window and sends the gateway the `messages` event; returns the
    /// status the gateway answered it.
    pub fn whatsapp_user_writes(&self, number: &str) -> u16 {
        let answer = self
            .peer
            .control(json!({"whatsapp_user_writes": {"from": number}}));
        answer["webhook_status"].as_u64().unwrap() as u16
    }

    /// A late `failed` status with Graph error `code` for a message the peer
    /// took; returns the status the gateway answered it.
    pub fn whatsapp_fail(&self, wamid: &str, code: u32) -> u16 {
        let answer = self
            .peer
            .control(json!({"whatsapp_fail": {"id": wamid, "code": code}}));
        answer["webhook_status"].as_u64().unwrap() as u16
    }

    /// The webhooks the WhatsApp side sent the gateway: `{kind, status, body}`.
    pub fn whatsapp_events(&self) -> Vec<Value> {
        self.peer.get_json("/_events")
    }

    /// Polls `received()` until `done` holds; panics with what arrived if it
    /// does not within `timeout`.
    #[track_caller]
    pub fn wait_for(&self, done: impl Fn(&[Value]) -> bool, timeout: Duration) -> Vec<Value> {
        self.peer.wait_for(|| self.received(), done, timeout)
    }
}

/// One running peer process; killed when dropped.
struct Peer {
    name: &'static str,
    child: Child,
    /// Where its `/_received` and `/_control` are.
    control_url: String,
    client: Client,
}

impl Peer {
    /// Starts `tests/peers/{script}` and waits for its ready line; returns the
    /// peer and what follows "listening on " in that line.
    fn start(name: &'static str, script: &str, args: &[&str]) -> (Self, String) {
        require_python_packages();
        let mut command = Command::new("python3");
        command
            .arg(repo_root().join("tests/peers").join(script))
            .args(args)
            // No __pycache__ left in the source tree.
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .env("PYTHONUNBUFFERED", "1")
            .stdin(Stdio::null());
        let (child, address) =
            spawn_until_ready(name, &mut command, "listening on ", READY_TIMEOUT, None);
        let peer = Self {
            name,
            child,
            control_url: address.clone(),
            client: Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .unwrap(),
        };
        (peer, address)
    }

    fn received(&self) -> Vec<Value> {
        self.get_json("/_received")
    }

    fn stats(&self) -> Value {
        self.get_json("/_stats")
    }

    /// `GET` of one of the peer's own endpoints, as JSON.
    fn get_json<T: serde::de::DeserializeOwned>(&self, path: &str) -> T {
        let url = format!("{}{path}", self.control_url);
        let res = self
            .client
            .get(&url)
            .send()
            .unwrap_or_else(|e| panic!("{}: GET {url}: {e}", self.name));
        res.json()
            .unwrap_or_else(|e| panic!("{}: GET {url}: {e}", self.name))
    }

    /// Posts a control document; returns the peer's answer.
    fn control(&self, doc: Value) -> Value {
        let url = format!("{}/_control", self.control_url);
        let res = self
            .client
            .post(&url)
            .json(&doc)
            .send()
            .unwrap_or_else(|e| panic!("{}: POST {url}: {e}", self.name));
        let status = res.status();
        let body = res.text().unwrap_or_default();
        assert_eq!(status, 200, "{}: control {doc} refused: {body}", self.name);
        serde_json::from_str(&body).unwrap_or(Value::Null)
    }

    #[track_caller]
    fn wait_for(
        &self,
        fetch: impl Fn() -> Vec<Value>,
        done: impl Fn(&[Value]) -> bool,
        timeout: Duration,
    ) -> Vec<Value> {
        let deadline = Instant::now() + timeout;
        loop {
            let seen = fetch();
            if done(&seen) {
                return seen;
            }
            if Instant::now() >= deadline {
                panic!(
                    "{}: still waiting after {timeout:?}; received so far:\n{}",
                    self.name,
                    serde_json::to_string_pretty(&seen).unwrap()
                );
            }
            thread::sleep(POLL_INTERVAL);
        }
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The port at the end of `scheme://127.0.0.1:PORT`.
fn port_of(address: &str) -> u16 {
    address
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("no port in {address:?}"))
}

/// Makes sure python3 can import the packages the peers and `tests/tools` use: if
/// it cannot, they are installed once per run with [`PIP_INSTALL`]; if that
/// fails, the test panics saying what to install.
pub fn require_python_packages() {
    static CHECK: OnceLock<Result<(), String>> = OnceLock::new();
    let importable = || {
        match Command::new("python3")
        .args([
            "-c",
            "import standardwebhooks, aiosmtpd, openapi_spec_validator, openpyxl, dkim, dnslib, pyx12, pydifact, lxml, pypdf",
        ])
        .output()
    {
        Ok(out) if out.status.success() => Ok(()),
        Ok(out) => Err(String::from_utf8_lossy(&out.stderr).into_owned()),
        Err(e) => Err(format!("cannot run python3: {e}")),
    }
    };
    let check = CHECK.get_or_init(|| {
        // Like plugins/build with its rustup target: `cargo test` on a fresh
        // machine installs what it needs, once, with the very command CI uses.
        importable().or_else(|_| {
            eprintln!("installing the loopback peers' Python packages: {PIP_INSTALL}");
            let status = Command::new("sh").args(["-c", PIP_INSTALL]).status();
            match status {
                Ok(status) if status.success() => importable(),
                other => Err(format!("`{PIP_INSTALL}` failed: {other:?}")),
            }
        })
    });
    if let Err(why) = check {
        panic!("the loopback peers need Python packages (`{PIP_INSTALL}`)\n{why}");
    }
}

mod tests;

/// Runs `tests/tools/<script>` with `args` and `input` on its standard input, and
/// reads what it printed as JSON: an independent reader's view of a document.
/// Panics with what the tool said when it refuses the input.
#[track_caller]
pub fn read_with_tool(script: &str, args: &[&str], input: &[u8]) -> Value {
    require_python_packages();
    let mut child = Command::new("python3")
        .arg(repo_root().join("tests/tools").join(script))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), input).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{script} {args:?} refused the document: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}
