//! Admission and failing closed (issue 8), through the real binary: a buyer over
//! its rate or storage limit gets 429 while the others post; retention frees what
//! is kept no longer; a disk that fills up stops the gateway taking messages (503,
//! `/readyz` failing) without losing anything acknowledged, and it takes them again
//! once there is room, with no restart.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::{Gateway, Options, canonical_order, eventually, expect_problem, json_of};

fn post(gw: &Gateway, key: &str, number: &str) -> reqwest::blocking::Response {
    gw.post_order(
        key,
        "application/json",
        canonical_order(number, "CRAFT-1").to_string(),
    )
}

#[test]
fn a_buyer_over_its_rate_gets_429_while_another_buyer_posts() {
    let gw = Gateway::start();
    let fast = gw.create_buyer_with(json!({
        "id": "fast", "name": "Fast", "plugin": "canonical-json",
        "limits": {"messages_per_minute": 60, "burst": 2},
    }));
    let other = gw.create_buyer("other", "canonical-json", json!({}));
    json_of(post(&gw, &fast, "PO-FAST-1"), 201);
    json_of(post(&gw, &fast, "PO-FAST-2"), 201);
    let refused = post(&gw, &fast, "PO-FAST-3");
    assert_eq!(refused.headers()["retry-after"], "1");
    let problem = expect_problem(refused, 429);
    assert!(
        problem["type"].as_str().unwrap().ends_with("/rate-limited"),
        "{problem}"
    );
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("60 messages a minute"),
        "{problem}"
    );
    // The other buyer is not slowed by it.
    for n in 0..5 {
        json_of(post(&gw, &other, &format!("PO-OTHER-{n}")), 201);
    }
    // Nothing of the refused post was stored, and the refusal is counted.
    let messages = gw.admin_get("/v1/admin/messages?buyer=fast");
    assert_eq!(messages["messages"].as_array().unwrap().len(), 2);
    let metrics = gw.get("", "/metrics").text().unwrap();
    assert!(
        metrics.contains("jembatan_messages_refused_at_the_door_total{reason=\"rate\"} 1"),
        "{metrics}"
    );
    // A second later the bucket has one message again.
    std::thread::sleep(Duration::from_millis(1100));
    json_of(post(&gw, &fast, "PO-FAST-4"), 201);

    // Limits out of range are refused by name.
    let refused = gw.admin(
        Method::PATCH,
        "/v1/admin/buyers/fast",
        Some(json!({"limits": {"messages_per_minute": 0}})),
    );
    let problem = expect_problem(refused, 422);
    assert_eq!(problem["field"], "limits.messages_per_minute", "{problem}");
}

#[test]
fn a_buyer_over_its_storage_limit_gets_429_until_retention_frees_room() {
    let gw = Gateway::start_with(Options {
        env: vec![
            ("JEMBATAN_RETENTION_FAILED".into(), "1s".into()),
            ("JEMBATAN_RETENTION_FINISHED".into(), "1s".into()),
            ("JEMBATAN_RETENTION_INTERVAL".into(), "1s".into()),
        ],
        ..Options::default()
    });
    let hoarder = gw.create_buyer_with(json!({
        "id": "hoarder", "name": "Hoarder", "plugin": "canonical-json",
        "limits": {"stored_bytes": 1048576},
    }));
    // 700 KB that the plugin refuses: kept, for a replay, so it counts.
    let big = json!({"note": "x".repeat(700 * 1024)}).to_string();
    let first = expect_problem(
        gw.post_order(&hoarder, "application/json", big.clone()),
        422,
    );
    let failed_id = first["message_id"].as_str().unwrap().to_owned();
    expect_problem(
        gw.post_order(&hoarder, "application/json", big.clone()),
        422,
    );
    let refused = gw.post_order(&hoarder, "application/json", big.clone());
    assert_eq!(refused.headers()["retry-after"], "3600");
    let problem = expect_problem(refused, 429);
    assert!(
        problem["type"]
            .as_str()
            .unwrap()
            .ends_with("/storage-limit"),
        "{problem}"
    );
    // An order whose delivery is not finished (it waits for a route) keeps its body.
    let other = gw.create_buyer("patient", "canonical-json", json!({}));
    let accepted = json_of(post(&gw, &other, "PO-KEPT-1"), 201);
    let kept_id = accepted["message_id"].as_str().unwrap().to_owned();

    // Retention empties the failed bodies a second later; the messages stay.
    let message = |key: &str, id: &str| json_of(gw.get(key, &format!("/v1/messages/{id}")), 200);
    assert!(
        eventually(Duration::from_secs(15), || {
            !message(&hoarder, &failed_id)["body_purged_at"].is_null()
        }),
        "the failed body was never purged"
    );
    let purged = message(&hoarder, &failed_id);
    assert_eq!(purged["status"], "failed");
    assert_eq!(purged["size_bytes"], 0);
    assert!(message(&other, &kept_id)["body_purged_at"].is_null());
    // A message without its body cannot be replayed, and says why.
    let replay = gw.admin(
        Method::POST,
        &format!("/v1/admin/messages/{failed_id}/replay"),
        None,
    );
    let problem = expect_problem(replay, 409);
    assert!(
        problem["detail"].as_str().unwrap().contains("retention"),
        "{problem}"
    );
    // And the buyer has room again.
    assert!(
        eventually(Duration::from_secs(5), || {
            gw.post_order(&hoarder, "application/json", "{}").status() == 422
        }),
        "the buyer never got room again"
    );
}

/// A small tmpfs, unmounted when dropped (after the gateway on it is killed: drop
/// the gateway first).
struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    fn mount(mib: u64) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={mib}m"), "tmpfs"])
            .arg(dir.path())
            .status()
            .expect("running mount");
        assert!(
            status.success(),
            "this test needs to mount a tmpfs (root, or CAP_SYS_ADMIN): {status}"
        );
        Self { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn free_bytes(&self) -> u64 {
        let out = Command::new("df")
            .args(["--output=avail", "-B1"])
            .arg(self.path())
            .output()
            .unwrap();
        String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .nth(1)
            .unwrap()
            .trim()
            .parse()
            .unwrap()
    }

    /// Fills the file system until `leave` bytes are free (or it is full).
    fn fill(&self, leave: u64) -> PathBuf {
        let filler = self.path().join("filler");
        let size = self.free_bytes().saturating_sub(leave);
        let file = std::fs::File::create(&filler).unwrap();
        let chunk = vec![0xA5u8; 1 << 16];
        let mut file = std::io::BufWriter::new(file);
        let mut written = 0;
        while written < size {
            let n = chunk.len().min((size - written) as usize);
            if std::io::Write::write_all(&mut file, &chunk[..n]).is_err() {
                break;
            }
            written += n as u64;
        }
        let _ = std::io::Write::flush(&mut file);
        filler
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.dir.path()).status();
    }
}

fn readyz(gw: &Gateway) -> (u16, Value) {
    let res = gw.get("", "/readyz");
    let status = res.status().as_u16();
    (status, res.json().unwrap_or(Value::Null))
}

#[test]
fn a_filling_disk_fails_closed_loses_nothing_and_recovers_without_a_restart() {
    let disk = Tmpfs::mount(48);
    let gw = Gateway::start_with(Options {
        data_dir: Some(disk.path().join("data")),
        env: vec![
            (
                "JEMBATAN_MIN_FREE_DISK_BYTES".into(),
                (8u64 << 20).to_string(),
            ),
            ("JEMBATAN_HEALTH_CHECK_MS".into(), "200".into()),
        ],
        ..Options::default()
    });
    let key = gw.create_buyer("steady", "canonical-json", json!({}));
    json_of(post(&gw, &key, "PO-DISK-1"), 201);
    assert_eq!(readyz(&gw).0, 200);

    // Under the free-space guard: no message is taken, and readiness says why.
    let filler = disk.fill(4 << 20);
    assert!(
        eventually(Duration::from_secs(5), || readyz(&gw).0 == 503),
        "/readyz stayed ready on a nearly full disk"
    );
    let (_, why) = readyz(&gw);
    assert!(
        why["detail"].as_str().is_some_and(|r| r.contains("free")),
        "{why}"
    );
    let refused = post(&gw, &key, "PO-DISK-2");
    assert!(refused.headers().contains_key("retry-after"));
    let problem = expect_problem(refused, 503);
    assert!(
        problem["type"].as_str().unwrap().ends_with("/unavailable"),
        "{problem}"
    );

    // Room again: taken again, with no restart.
    std::fs::remove_file(&filler).unwrap();
    assert!(
        eventually(Duration::from_secs(5), || readyz(&gw).0 == 200),
        "/readyz did not recover"
    );
    json_of(post(&gw, &key, "PO-DISK-3"), 201);

    // Every message acknowledged is there, and the one refused is not.
    let orders = json_of(gw.get(&key, "/v1/orders"), 200);
    let numbers: Vec<&str> = orders["orders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["buyer_order_number"].as_str().unwrap())
        .collect();
    assert_eq!(numbers, ["PO-DISK-3", "PO-DISK-1"]);
    assert!(!gw.logs().contains("panicked"));
}

#[test]
fn a_database_that_cannot_be_written_answers_503_never_500_and_recovers() {
    if !crate::harness::sqlite_only(
        "a_database_that_cannot_be_written_answers_503_never_500_and_recovers",
    ) {
        return;
    }
    let disk = Tmpfs::mount(48);
    // No free-space guard: SQLite itself meets the full disk.
    let gw = Gateway::start_with(Options {
        data_dir: Some(disk.path().join("data")),
        env: vec![
            ("JEMBATAN_MIN_FREE_DISK_BYTES".into(), "0".into()),
            ("JEMBATAN_HEALTH_CHECK_MS".into(), "200".into()),
        ],
        ..Options::default()
    });
    let key = gw.create_buyer("steady", "canonical-json", json!({}));
    let mut acknowledged = Vec::new();
    acknowledged.push(json_of(post(&gw, &key, "PO-FULL-0"), 201)["orders"][0]["id"].clone());
    let filler = disk.fill(0);
    // Each post is stored, or refused with 503; never a 500, and not for ever 201.
    let mut refused = None;
    for n in 1..200 {
        let res = post(&gw, &key, &format!("PO-FULL-{n}"));
        match res.status().as_u16() {
            201 => acknowledged.push(res.json::<Value>().unwrap()["orders"][0]["id"].clone()),
            503 => {
                refused = Some(res.json::<Value>().unwrap());
                break;
            }
            other => panic!(
                "post {n} on a full disk answered {other}: {}",
                res.text().unwrap()
            ),
        }
    }
    let refused = refused.expect("a full disk never refused a post");
    assert!(
        refused["detail"].as_str().unwrap().contains("cannot store"),
        "{refused}"
    );
    assert!(
        eventually(Duration::from_secs(5), || readyz(&gw).0 == 503),
        "/readyz stayed ready with a database that cannot be written"
    );

    std::fs::remove_file(&filler).unwrap();
    assert!(
        eventually(Duration::from_secs(5), || readyz(&gw).0 == 200),
        "/readyz did not recover"
    );
    acknowledged.push(json_of(post(&gw, &key, "PO-FULL-AFTER"), 201)["orders"][0]["id"].clone());
    for id in &acknowledged {
        json_of(
            gw.get(&key, &format!("/v1/orders/{}", id.as_str().unwrap())),
            200,
        );
    }
}

#[test]
fn a_vanished_database_file_fails_closed() {
    if !crate::harness::sqlite_only("a_vanished_database_file_fails_closed") {
        return;
    }
    let disk = Tmpfs::mount(48);
    let gw = Gateway::start_with(Options {
        data_dir: Some(disk.path().join("data")),
        env: vec![("JEMBATAN_HEALTH_CHECK_MS".into(), "200".into())],
        ..Options::default()
    });
    let key = gw.create_buyer("steady", "canonical-json", json!({}));
    json_of(post(&gw, &key, "PO-RO-1"), 201);
    assert_eq!(readyz(&gw).0, 200);

    // The database file is deleted from under it: SQLite would go on writing to a
    // file nobody can open again, so the gateway stops taking messages.
    std::fs::remove_file(disk.path().join("data/jembatan.db")).unwrap();
    assert!(
        eventually(Duration::from_secs(5), || readyz(&gw).0 == 503),
        "/readyz stayed ready with its database file gone"
    );
    let (_, why) = readyz(&gw);
    assert!(
        why["detail"].as_str().is_some_and(|d| d.contains("gone")),
        "{why}"
    );
    expect_problem(post(&gw, &key, "PO-RO-4"), 503);
}

#[test]
fn a_damaged_database_fails_closed_from_the_start() {
    if !crate::harness::sqlite_only("a_damaged_database_fails_closed_from_the_start") {
        return;
    }
    let gw = Gateway::start();
    let key = gw.create_buyer("steady", "canonical-json", json!({}));
    for n in 0..40 {
        json_of(post(&gw, &key, &format!("PO-DAMAGE-{n}")), 201);
    }
    // A clean stop writes everything into the database file.
    let data_dir = gw.stop();
    let file = data_dir.join("jembatan.db");
    let size = std::fs::metadata(&file).unwrap().len();
    assert!(size >= 16 * 4096, "the database is {size} bytes");
    // A disk error garbles a page near the end, where the newest rows are.
    let page = size / 4096 - 2;
    let mut bytes = std::fs::read(&file).unwrap();
    let start = usize::try_from(page * 4096).unwrap();
    bytes[start..start + 4096].fill(0xA5);
    std::fs::write(&file, &bytes).unwrap();

    let gw = Gateway::start_with(Options {
        data_dir: Some(data_dir),
        env: vec![("JEMBATAN_HEALTH_CHECK_MS".into(), "200".into())],
        ..Options::default()
    });
    assert!(
        eventually(Duration::from_secs(10), || readyz(&gw).0 == 503),
        "/readyz stayed ready on a damaged database"
    );
    let (_, why) = readyz(&gw);
    assert!(
        why["detail"]
            .as_str()
            .is_some_and(|d| d.contains("damaged")),
        "{why}"
    );
    expect_problem(post(&gw, &key, "PO-DAMAGE-AFTER"), 503);
}
