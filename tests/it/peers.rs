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

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{OnceLock, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use reqwest::blocking::Client;
use serde_json::{Value, json};

use crate::harness::repo_root;

/// The command `.ci/run` installs the peers' Python packages with (a test
/// below holds the two together).
pub const PIP_INSTALL: &str =
    "python3 -m pip install --quiet 'standardwebhooks==1.1.0' 'aiosmtpd==1.4.6'";

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
        let (peer, address) = Peer::start(
            "webhook-receiver",
            "webhook_receiver.py",
            &["--secret", secret, "--port", &port.to_string()],
        );
        Self {
            port: port_of(&address),
            peer,
        }
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
/// Records `{mail_from, rcpt_tos, auth_user, status, message_id, subject,
/// from, to, headers, text, html, attachments: [{filename, content_type,
/// content, content_encoding}]}` per message.
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

    /// Sends any control document (`retry_after`, `delay_ms`, …).
    pub fn control(&self, doc: Value) {
        self.peer.control(doc);
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
        let mut child = Command::new("python3")
            .arg(repo_root().join("tests/peers").join(script))
            .args(args)
            // No __pycache__ left in the source tree.
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .env("PYTHONUNBUFFERED", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {name}: {e}"));
        let stderr = child.stderr.take().unwrap();
        let stderr_done = thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                eprintln!("[{name}] {line}");
            }
        });
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        thread::spawn(move || {
            // Read to the end so the peer never writes into a closed pipe.
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(address) = line.strip_prefix("listening on ") {
                    let _ = tx.send(address.trim().to_owned());
                }
            }
        });
        let Ok(address) = rx.recv_timeout(READY_TIMEOUT) else {
            let _ = child.kill();
            let status = child.wait();
            let _ = stderr_done.join(); // so its stderr is printed above the panic
            panic!(
                "{name} did not say it listens within {READY_TIMEOUT:?} ({status:?}); its stderr is above"
            );
        };
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
        let url = format!("{}/_received", self.control_url);
        let res = self
            .client
            .get(&url)
            .send()
            .unwrap_or_else(|e| panic!("{}: GET {url}: {e}", self.name));
        res.json()
            .unwrap_or_else(|e| panic!("{}: GET {url}: {e}", self.name))
    }

    fn control(&self, doc: Value) {
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

/// Panics, saying what to install, unless python3 can import the packages the
/// peers use. Tests never install anything themselves.
fn require_python_packages() {
    static CHECK: OnceLock<Result<(), String>> = OnceLock::new();
    let importable = || match Command::new("python3")
        .args(["-c", "import standardwebhooks, aiosmtpd"])
        .output()
    {
        Ok(out) if out.status.success() => Ok(()),
        Ok(out) => Err(String::from_utf8_lossy(&out.stderr).into_owned()),
        Err(e) => Err(format!("cannot run python3: {e}")),
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

/// Each peer on its own, without the gateway.
mod tests {
    use std::io::{BufRead, BufReader, Write};
    use std::net::TcpStream;
    use std::time::{Duration, SystemTime, UNIX_EPOCH};

    use base64::Engine;
    use base64::engine::general_purpose::STANDARD as BASE64;
    use hmac::{Hmac, Mac};
    use reqwest::blocking::Client;
    use serde_json::{Value, json};

    use super::*;

    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const OTHER_SECRET: &str = "whsec_c2VjcmV0IG9mIHNvbWVib2R5IGVsc2U=";
    const QUICK: Duration = Duration::from_secs(2);

    #[test]
    fn pip_command_is_the_one_ci_runs() {
        let ci = std::fs::read_to_string(repo_root().join(".ci/run")).unwrap();
        assert!(ci.contains(PIP_INSTALL), ".ci/run must run `{PIP_INSTALL}`");
    }

    /// A Standard Webhooks signature, computed here rather than by the gateway.
    fn sign(secret: &str, id: &str, timestamp: u64, body: &str) -> String {
        let key = BASE64
            .decode(secret.strip_prefix("whsec_").unwrap())
            .unwrap();
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(&key).unwrap();
        mac.update(format!("{id}.{timestamp}.{body}").as_bytes());
        format!("v1,{}", BASE64.encode(mac.finalize().into_bytes()))
    }

    fn post_signed(client: &Client, url: &str, secret: &str, body: &str) -> u16 {
        let timestamp = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs();
        client
            .post(url)
            .header("webhook-id", "msg_1")
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", sign(secret, "msg_1", timestamp, body))
            .header("content-type", "application/json")
            .body(body.to_owned())
            .send()
            .unwrap()
            .status()
            .as_u16()
    }

    fn statuses(records: &[Value]) -> Vec<u64> {
        records
            .iter()
            .map(|r| r["status"].as_u64().unwrap())
            .collect()
    }

    #[test]
    fn webhook_receiver_verifies_signatures_and_fails_on_demand() {
        let receiver = WebhookReceiver::start(SECRET);
        let client = Client::new();
        let url = receiver.url("/orders");
        let order = r#"{"order":"PO-1"}"#;

        assert_eq!(post_signed(&client, &url, SECRET, order), 204);
        assert_eq!(post_signed(&client, &url, OTHER_SECRET, order), 400);
        receiver.set_status(500);
        assert_eq!(post_signed(&client, &url, SECRET, order), 500);
        receiver.set_status(204);
        receiver.fail_next(1, 503);
        assert_eq!(post_signed(&client, &url, SECRET, order), 503);
        assert_eq!(post_signed(&client, &url, SECRET, order), 204);

        let received = receiver.wait_for(|r| r.len() == 5, QUICK);
        assert_eq!(statuses(&received), [204, 400, 500, 503, 204]);
        let first = &received[0];
        assert_eq!(first["verified"], true, "{first}");
        assert_eq!(first["path"], "/orders");
        assert_eq!(first["webhook_id"], "msg_1");
        assert_eq!(first["body"], json!({"order": "PO-1"}));
        let forged = &received[1];
        assert_eq!(forged["verified"], false);
        assert!(
            forged["verify_error"]
                .as_str()
                .unwrap()
                .contains("No matching signature"),
            "{forged}"
        );
        assert_eq!(
            received[2]["verified"], true,
            "a forced failure is still verified"
        );
    }

    #[test]
    fn webhook_receiver_comes_back_up_on_the_same_port() {
        let receiver = WebhookReceiver::start(SECRET);
        let (port, url) = (receiver.port(), receiver.url("/hook"));
        assert!(receiver.stop().is_empty());
        let client = Client::new();
        assert!(
            client.post(&url).send().is_err(),
            "nothing listens while it is down"
        );

        let receiver = WebhookReceiver::start_on(port, SECRET);
        let unsigned = client.post(&url).body("{}").send().unwrap();
        assert_eq!(unsigned.status(), 400);
        let received = receiver.received();
        assert_eq!(received.len(), 1);
        assert_eq!(received[0]["verified"], false);
        assert_eq!(received[0]["body"], json!({}));
    }

    /// Just enough of an SMTP client to hold a conversation by hand.
    struct RawSmtp {
        reader: BufReader<TcpStream>,
        writer: TcpStream,
    }

    impl RawSmtp {
        fn connect(port: u16) -> Self {
            let stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
            stream
                .set_read_timeout(Some(Duration::from_secs(5)))
                .unwrap();
            let mut smtp = Self {
                reader: BufReader::new(stream.try_clone().unwrap()),
                writer: stream,
            };
            assert_eq!(smtp.reply().0, 220);
            smtp
        }

        /// The reply's code and all its lines.
        fn reply(&mut self) -> (u16, String) {
            let mut text = String::new();
            loop {
                let mut line = String::new();
                self.reader.read_line(&mut line).unwrap();
                text.push_str(&line);
                // "250-more follows" / "250 last line"
                if line.as_bytes().get(3) != Some(&b'-') {
                    return (line[..3].parse().unwrap(), text);
                }
            }
        }

        fn command(&mut self, line: &str) -> (u16, String) {
            write!(self.writer, "{line}\r\n").unwrap();
            self.reply()
        }

        /// Sends one message; returns the code its DATA was answered with.
        fn send(&mut self, from: &str, to: &str, message: &str) -> u16 {
            assert_eq!(self.command(&format!("MAIL FROM:<{from}>")).0, 250);
            assert_eq!(self.command(&format!("RCPT TO:<{to}>")).0, 250);
            assert_eq!(self.command("DATA").0, 354);
            self.command(&format!("{message}\r\n.")).0
        }
    }

    #[test]
    fn smtp_sink_parses_a_multipart_message() {
        let sink = SmtpSink::start();
        let mut smtp = RawSmtp::connect(sink.port());
        let (code, ehlo) = smtp.command("EHLO test.example");
        assert_eq!(code, 250);
        assert!(
            !ehlo.contains("AUTH"),
            "no AUTH without credentials: {ehlo}"
        );
        let csv = "sku,qty\nKRS,2\n";
        let message = [
            "From: Jembatan <orders@jembatan.test>",
            "To: Pak Budi <budi@craft.test>",
            "Subject: Pesanan PO-7",
            "Message-ID: <po-7@jembatan.test>",
            "MIME-Version: 1.0",
            "Content-Type: multipart/mixed; boundary=\"outer\"",
            "",
            "--outer",
            "Content-Type: multipart/alternative; boundary=\"inner\"",
            "",
            "--inner",
            "Content-Type: text/plain; charset=utf-8",
            "",
            "2 x Keris",
            "--inner",
            "Content-Type: text/html; charset=utf-8",
            "",
            "<p>2 x Keris</p>",
            "--inner--",
            "--outer",
            "Content-Type: text/csv; charset=utf-8",
            "Content-Disposition: attachment; filename=\"po-7.csv\"",
            "Content-Transfer-Encoding: base64",
            "",
            &BASE64.encode(csv),
            "--outer--",
        ]
        .join("\r\n");
        assert_eq!(
            smtp.send("orders@jembatan.test", "budi@craft.test", &message),
            250
        );
        smtp.command("QUIT");

        let mail = &sink.wait_for(|m| m.len() == 1, QUICK)[0];
        assert_eq!(mail["mail_from"], "orders@jembatan.test");
        assert_eq!(mail["rcpt_tos"], json!(["budi@craft.test"]));
        assert_eq!(mail["message_id"], "<po-7@jembatan.test>");
        assert_eq!(mail["subject"], "Pesanan PO-7");
        assert_eq!(mail["to"], "Pak Budi <budi@craft.test>");
        assert_eq!(mail["text"].as_str().unwrap().trim_end(), "2 x Keris");
        assert_eq!(
            mail["html"].as_str().unwrap().trim_end(),
            "<p>2 x Keris</p>"
        );
        assert_eq!(
            mail["attachments"],
            json!([{"filename": "po-7.csv", "content_type": "text/csv",
                    "content": csv, "content_encoding": "text"}])
        );
    }

    #[test]
    fn smtp_sink_requires_auth_when_asked_and_fails_on_demand() {
        let sink = SmtpSink::start_with_auth("jembatan", "rahasia");
        let mut smtp = RawSmtp::connect(sink.port());
        let (_, ehlo) = smtp.command("EHLO test.example");
        assert!(ehlo.contains("AUTH LOGIN PLAIN"), "{ehlo}");
        assert_eq!(smtp.command("MAIL FROM:<orders@jembatan.test>").0, 530);
        let plain = |password: &str| {
            format!(
                "AUTH PLAIN {}",
                BASE64.encode(format!("\0jembatan\0{password}"))
            )
        };
        assert_eq!(smtp.command(&plain("salah")).0, 535);
        assert_eq!(smtp.command(&plain("rahasia")).0, 235);

        sink.fail_next(1, 451);
        let (from, to) = ("orders@jembatan.test", "budi@craft.test");
        assert_eq!(smtp.send(from, to, "Subject: first\r\n\r\nhello"), 451);
        assert_eq!(smtp.send(from, to, "Subject: second\r\n\r\nhello"), 250);

        let messages = sink.wait_for(|m| m.len() == 1, QUICK);
        assert_eq!(messages[0]["subject"], "second");
        assert_eq!(messages[0]["auth_user"], "jembatan");
        assert_eq!(statuses(&sink.attempts()), [451, 250]);
    }

    const WHATSAPP_TOKEN: &str = "wa-test-token";
    const TELEGRAM_TOKEN: &str = "123456:telegram-test-token";

    #[test]
    fn chat_apis_answer_like_the_whatsapp_cloud_api() {
        let apis = ChatApis::start(WHATSAPP_TOKEN, TELEGRAM_TOKEN);
        let client = Client::new();
        let url = format!("{}/v21.0/1098765/messages", apis.base_url());
        let send = |token: &str, body: Value| {
            let res = client
                .post(&url)
                .bearer_auth(token)
                .json(&body)
                .send()
                .unwrap();
            (res.status().as_u16(), res.json::<Value>().unwrap())
        };
        let text = |body: &str| json!({"messaging_product": "whatsapp", "to": "6281234567", "type": "text", "text": {"body": body}});

        let (status, answer) = send(WHATSAPP_TOKEN, text("Pesanan PO-7: 2 x Keris"));
        assert_eq!(status, 200, "{answer}");
        assert_eq!(answer["contacts"][0]["wa_id"], "6281234567");
        assert!(
            answer["messages"][0]["id"]
                .as_str()
                .unwrap()
                .starts_with("wamid."),
            "{answer}"
        );
        let (status, answer) = send("wrong", text("hi"));
        assert_eq!(
            (status, &answer["error"]["code"]),
            (401, &json!(190)),
            "{answer}"
        );
        let (status, answer) = send(WHATSAPP_TOKEN, text(&"x".repeat(4097)));
        assert_eq!(
            (status, &answer["error"]["code"]),
            (400, &json!(100)),
            "{answer}"
        );

        let received = apis.wait_for(|r| r.len() == 3, QUICK);
        assert_eq!(statuses(&received), [200, 401, 400]);
        assert_eq!(received[0]["api"], "whatsapp");
        assert_eq!(
            received[0]["json"]["text"]["body"],
            "Pesanan PO-7: 2 x Keris"
        );
    }

    #[test]
    fn chat_apis_answer_like_the_telegram_bot_api() {
        let apis = ChatApis::start(WHATSAPP_TOKEN, TELEGRAM_TOKEN);
        let client = Client::new();
        let url = |token: &str, method: &str| format!("{}/bot{token}/{method}", apis.base_url());

        let res = client
            .post(url(TELEGRAM_TOKEN, "sendMessage"))
            .json(&json!({"chat_id": 42, "text": "Pesanan PO-7"}))
            .send()
            .unwrap();
        let answer: Value = res.json().unwrap();
        assert_eq!(answer["ok"], true, "{answer}");
        assert!(answer["result"]["message_id"].is_u64(), "{answer}");

        let csv = "sku,qty\nKRS,2\n";
        let multipart = format!(
            "--b\r\nContent-Disposition: form-data; name=\"chat_id\"\r\n\r\n42\r\n\
             --b\r\nContent-Disposition: form-data; name=\"document\"; filename=\"po-7.csv\"\r\n\
             Content-Type: text/csv\r\n\r\n{csv}\r\n--b--\r\n"
        );
        let res = client
            .post(url(TELEGRAM_TOKEN, "sendDocument"))
            .header("content-type", "multipart/form-data; boundary=b")
            .body(multipart)
            .send()
            .unwrap();
        assert_eq!(res.status(), 200, "{}", res.text().unwrap());

        let res = client
            .post(url("654321:wrong", "sendMessage"))
            .json(&json!({"chat_id": 42, "text": "hi"}))
            .send()
            .unwrap();
        assert_eq!(res.status(), 401);
        apis.fail_next(1, 429);
        let res = client
            .post(url(TELEGRAM_TOKEN, "sendMessage"))
            .json(&json!({"chat_id": 42, "text": "hi"}))
            .send()
            .unwrap();
        assert_eq!(res.status(), 429);
        assert_eq!(res.json::<Value>().unwrap()["parameters"]["retry_after"], 1);

        let received = apis.wait_for(|r| r.len() == 4, QUICK);
        assert_eq!(statuses(&received), [200, 200, 401, 429]);
        assert_eq!(received[0]["path"], "/bot<redacted>/sendMessage");
        assert_eq!(received[1]["fields"]["chat_id"], "42");
        assert_eq!(received[1]["document"]["filename"], "po-7.csv");
        assert_eq!(received[1]["document"]["content"], csv);
        let recorded = serde_json::to_string(&received).unwrap();
        assert!(
            !recorded.contains("telegram-test-token"),
            "the bot token leaked: {recorded}"
        );
    }
}
