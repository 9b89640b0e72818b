//! Readiness follows PostgreSQL (issue 11): a gateway whose database server stops
//! answers posts 503 with `Retry-After`, never another 5xx, fails `/readyz`, loses
//! nothing it acknowledged, and takes messages again once the server is back,
//! without a restart.
//!
//! The test makes its own PostgreSQL cluster in a temporary directory (`initdb`
//! and `pg_ctl` on PATH), so it runs on either test engine and stops and starts a
//! server no other test uses.

use std::collections::HashSet;
use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::delivery::{SECRET, WAIT, verified_ids, webhook_craftsman};
use crate::harness::{Gateway, HeldPort, Options, canonical_order, eventually, json_of};
use crate::peers::WebhookReceiver;

/// How long the server stays down.
const OUTAGE: Duration = Duration::from_secs(4);

/// A PostgreSQL cluster of the test's own, on a free loopback port, with its
/// socket in its own directory; stopped when dropped, whatever the test did.
struct Cluster {
    dir: tempfile::TempDir,
    port: u16,
    /// The `uid:gid` the server runs as when the test runs as root, which
    /// PostgreSQL refuses to be.
    owner: Option<(u32, u32)>,
}

impl Cluster {
    /// A new cluster (`initdb`, trust authentication), started.
    fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let owner = unprivileged_owner();
        if let Some((uid, gid)) = owner {
            std::os::unix::fs::chown(dir.path(), Some(uid), Some(gid)).unwrap();
        }
        let port = HeldPort::new().release();
        let cluster = Self { dir, port, owner };
        cluster.run(
            "initdb",
            &[
                "-D",
                &cluster.data().to_string_lossy(),
                "-A",
                "trust",
                "-U",
                "postgres",
                "--no-sync",
                "--no-instructions",
            ],
        );
        cluster.start_again();
        cluster
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// The URL of its `postgres` database, for the gateway.
    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Starts the server and waits until it takes connections.
    fn start_again(&self) {
        // fsync off: the test stops the server cleanly (a checkpoint), and a
        // server that syncs every commit only makes it slower.
        let options = format!(
            "-p {} -c listen_addresses=127.0.0.1 -k {} -c fsync=off",
            self.port,
            self.dir.path().display()
        );
        self.run(
            "pg_ctl",
            &[
                "-D",
                &self.data().to_string_lossy(),
                "-l",
                &self.dir.path().join("server.log").to_string_lossy(),
                "-o",
                &options,
                "-w",
                "start",
            ],
        );
    }

    /// Stops the server as an operator would for maintenance: `-m fast` ends the
    /// open connections at once.
    fn stop(&self, mode: &str) -> Output {
        self.command("pg_ctl")
            .args([
                "-D",
                &self.data().to_string_lossy(),
                "-m",
                mode,
                "-w",
                "stop",
            ])
            .output()
            .expect("pg_ctl")
    }

    fn command(&self, program: &str) -> Command {
        let mut command = Command::new(program);
        command.current_dir(self.dir.path());
        if let Some((uid, gid)) = self.owner {
            use std::os::unix::process::CommandExt as _;
            command.uid(uid).gid(gid);
        }
        command
    }

    #[track_caller]
    fn run(&self, program: &str, args: &[&str]) {
        let output = self.command(program).args(args).output().expect(program);
        assert!(
            output.status.success(),
            "{program} {args:?}: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr),
        );
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if self.data().join("postmaster.pid").exists() {
            let stopped = self.stop("immediate");
            if !stopped.status.success() {
                eprintln!(
                    "the test's PostgreSQL in {} did not stop: {}",
                    self.dir.path().display(),
                    String::from_utf8_lossy(&stopped.stderr)
                );
            }
        }
    }
}

/// The ids of the `postgres` user (else `nobody`) when the test runs as root.
fn unprivileged_owner() -> Option<(u32, u32)> {
    let id = |args: &[&str]| -> Option<u32> {
        let output = Command::new("id").args(args).output().ok()?;
        String::from_utf8_lossy(&output.stdout).trim().parse().ok()
    };
    if id(&["-u"])? != 0 {
        return None;
    }
    ["postgres", "nobody"]
        .iter()
        .find_map(|user| Some((id(&["-u", user])?, id(&["-g", user])?)))
}

/// What one post was answered.
enum Answer {
    /// 201: the id of its order.
    Acknowledged(String),
    /// 503 with `Retry-After`, as a problem document.
    Refused,
    /// Anything else: what it was, for the failure message.
    Wrong(String),
}

fn post(client: &reqwest::blocking::Client, url: &str, key: &str, number: &str) -> Answer {
    let res = client
        .post(url)
        .bearer_auth(key)
        .header("content-type", "application/json")
        .body(canonical_order(number, "PBG-017").to_string())
        .send();
    let res = match res {
        Ok(res) => res,
        Err(error) => return Answer::Wrong(format!("{number}: no answer: {error}")),
    };
    let status = res.status().as_u16();
    let header = |name: &str| {
        res.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let retry_after = header("retry-after");
    let content_type = header("content-type").unwrap_or_default();
    let body = res.text().unwrap_or_default();
    match status {
        201 => {
            let accepted: Value = serde_json::from_str(&body).unwrap();
            Answer::Acknowledged(accepted["orders"][0]["id"].as_str().unwrap().to_owned())
        }
        503 if retry_after.is_some() && content_type == "application/problem+json" => {
            Answer::Refused
        }
        _ => Answer::Wrong(format!(
            "{number}: {status} ({content_type}, Retry-After {retry_after:?}): {body}"
        )),
    }
}

fn readyz(gw: &Gateway) -> u16 {
    gw.get("", "/readyz").status().as_u16()
}

#[test]
fn stopping_and_starting_postgresql_answers_503_loses_nothing_and_recovers_without_a_restart() {
    let cluster = Cluster::start();
    let receiver = WebhookReceiver::start(SECRET);
    let gw = Gateway::start_with(Options {
        env: [
            ("JEMBATAN_DATABASE_URL", cluster.url().as_str()),
            ("JEMBATAN_HEALTH_CHECK_MS", "200"),
            ("JEMBATAN_ALLOW_PRIVATE_TARGETS", "1"),
            ("JEMBATAN_DELIVERY_RETRY_SCHEDULE", "1s"),
            ("RUST_LOG", "info,jembatan::delivery=debug"),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .to_vec(),
        ..Options::default()
    });
    let key = gw.create_buyer("mitra-otoparts", "canonical-json", serde_json::json!({}));
    webhook_craftsman(&gw, &receiver.url("/orders"));

    let url = gw.url("/v1/orders");
    let acknowledged = Mutex::new(Vec::<String>::new());
    let refused = Mutex::new(0usize);
    let wrong = Mutex::new(Vec::<String>::new());
    let stop = AtomicBool::new(false);
    // How many were acknowledged when the server came back.
    let acknowledged_at_restart = std::thread::scope(|scope| {
        for poster in 0..2 {
            let (url, key) = (&url, &key);
            let (acknowledged, refused, wrong, stop) = (&acknowledged, &refused, &wrong, &stop);
            scope.spawn(move || {
                // No request may hang: a refusal comes at once, not after a
                // long wait for the database.
                let client = reqwest::blocking::Client::builder()
                    .timeout(Duration::from_secs(15))
                    .build()
                    .unwrap();
                for n in 0.. {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    match post(&client, url, key, &format!("PO-PG-{poster}-{n}")) {
                        Answer::Acknowledged(id) => acknowledged.lock().unwrap().push(id),
                        Answer::Refused => *refused.lock().unwrap() += 1,
                        Answer::Wrong(what) => wrong.lock().unwrap().push(what),
                    }
                    std::thread::sleep(Duration::from_millis(20));
                }
            });
        }
        let count = || acknowledged.lock().unwrap().len();
        let stopped_early = |why: &str| {
            stop.store(true, Ordering::Relaxed);
            panic!("{why}; wrong answers: {:?}", wrong.lock().unwrap());
        };
        if !eventually(WAIT, || count() >= 20) {
            stopped_early("20 orders were not acknowledged with the server up");
        }

        let stopped_at = Instant::now();
        let stopped = cluster.stop("fast");
        assert!(
            stopped.status.success(),
            "{}",
            String::from_utf8_lossy(&stopped.stderr)
        );
        if !eventually(Duration::from_secs(10), || readyz(&gw) == 503) {
            stopped_early("/readyz stayed ready with PostgreSQL stopped");
        }
        let refused_before = *refused.lock().unwrap();
        if !eventually(Duration::from_secs(10), || {
            *refused.lock().unwrap() >= refused_before + 5
        }) {
            stopped_early("posts were not refused with PostgreSQL stopped");
        }
        // Down long enough for every background task to meet the outage a few
        // times (the delivery worker polls every second).
        std::thread::sleep(OUTAGE.saturating_sub(stopped_at.elapsed()));

        cluster.start_again();
        let at_restart = count();
        if !eventually(Duration::from_secs(20), || {
            readyz(&gw) == 200 && count() >= at_restart + 10
        }) {
            stopped_early("the gateway did not take posts again once PostgreSQL was back");
        }
        stop.store(true, Ordering::Relaxed);
        at_restart
    });

    let wrong = wrong.into_inner().unwrap();
    assert!(
        wrong.is_empty(),
        "answers other than 201 and 503: {wrong:#?}"
    );
    let acknowledged = acknowledged.into_inner().unwrap();
    assert!(acknowledged.len() > acknowledged_at_restart);
    assert!(refused.into_inner().unwrap() > 0);
    assert_eq!(readyz(&gw), 200);

    // Every order acknowledged is stored and reaches its craftsman, the ones
    // taken before the outage included, and is shown delivered: a send the
    // outage kept from being recorded is recorded once the server is back.
    let deadline = Instant::now() + WAIT;
    for id in &acknowledged {
        loop {
            let order = json_of(gw.get(&key, &format!("/v1/orders/{id}")), 200);
            if order["status"] == "delivered" {
                break;
            }
            if Instant::now() > deadline {
                let view = gw.admin_get(&format!("/v1/admin/orders/{id}"));
                panic!("never delivered: {:#}", view["deliveries"]);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    let expected: HashSet<&str> = acknowledged.iter().map(String::as_str).collect();
    receiver.wait_for(
        |received| {
            let delivered = verified_ids(received);
            let delivered: HashSet<&str> = delivered.iter().map(String::as_str).collect();
            expected.is_subset(&delivered)
        },
        WAIT,
    );
    // The outage is in the log once when it starts and once when it ends, not
    // at every retry of the background tasks.
    let logs = gw.logs();
    assert!(!logs.contains("panicked"), "{logs}");
    let lines = |words: &[&str]| {
        logs.lines()
            .filter(|line| words.iter().all(|word| line.contains(word)))
            .count()
    };
    assert_eq!(lines(&["not taking messages"]), 1, "{logs}");
    assert_eq!(lines(&["taking messages again"]), 1, "{logs}");
    assert_eq!(lines(&["claiming deliveries", "failed"]), 1, "{logs}");
    assert_eq!(lines(&["claiming deliveries", "works again"]), 1, "{logs}");
}
