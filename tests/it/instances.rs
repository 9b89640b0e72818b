//! Several gateway instances on one PostgreSQL database, as behind a load
//! balancer (issue 11): orders posted to any of them are delivered, one killed
//! mid-stream loses nothing it acknowledged, and its claims pass to the others.
//! Only on PostgreSQL (`JEMBATAN_TEST_DATABASE=postgres`): a SQLite file belongs
//! to one process.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::delivery::{SECRET, verified_ids, webhook_craftsman};
use crate::harness::{
    Gateway, Options, PostgresDatabase, built_plugin, canonical_order, eventually, json_of,
    test_database,
};
use crate::peers::WebhookReceiver;

/// Orders posted in all, round-robin over the instances.
const POSTS: usize = 300;
/// The instance killed once this many posts were sent, and restarted at
/// [`RESTART_AT`].
const KILL_AT: usize = 100;
const RESTART_AT: usize = 180;
const WAIT: Duration = Duration::from_secs(40);

/// A short lease, so the killed instance's claims pass to the others within the
/// test; the send deadlines are kept at half of it, as the gateway requires.
fn instance_options(database: &PostgresDatabase) -> Options {
    Options {
        env: vec![
            database.env(),
            ("JEMBATAN_ALLOW_PRIVATE_TARGETS".into(), "1".into()),
            ("JEMBATAN_DELIVERY_RETRY_SCHEDULE".into(), "200ms,500ms,1s,1s,1s,1s".into()),
            ("JEMBATAN_DELIVERY_LEASE".into(), "4s".into()),
        ],
        config: Some(
            "[delivery.deadlines]\nwebhook = \"2s\"\nemail = \"2s\"\nwhatsapp = \"2s\"\ntelegram = \"2s\"\n"
                .into(),
        ),
        ..Options::default()
    }
}

#[test]
fn three_instances_deliver_every_acknowledged_order_through_a_sigkill() {
    if test_database() != "postgres" {
        eprintln!("several instances share a PostgreSQL database only; skipped on SQLite");
        return;
    }
    let database = PostgresDatabase::create();
    let receiver = WebhookReceiver::start(SECRET);
    let mut instances: Vec<Option<Gateway>> = (0..3)
        .map(|_| Some(Gateway::start_with(instance_options(&database))))
        .collect();
    let first = instances[0].as_ref().unwrap();
    let key = first.create_buyer("mitra-otoparts", "canonical-json", json!({}));
    webhook_craftsman(first, &receiver.url("/hook"));

    // Where each instance listens; `None` while it is down, when its share goes
    // to the next one, as a load balancer does.
    let bases: Mutex<Vec<Option<String>>> = Mutex::new(
        instances
            .iter()
            .map(|gw| Some(gw.as_ref().unwrap().base.clone()))
            .collect(),
    );
    let restarted = AtomicBool::new(false);
    let next = AtomicUsize::new(0);
    let acknowledged = Mutex::new(Vec::<String>::new());
    // Answers that were neither a 201 nor a connection the kill refused or cut.
    let refused = Mutex::new(Vec::<String>::new());
    let started = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..3 {
            scope.spawn(|| {
                let client = reqwest::blocking::Client::builder()
                    .timeout(Duration::from_secs(10))
                    .build()
                    .unwrap();
                loop {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    if n >= POSTS {
                        return;
                    }
                    // The last posts wait for the restarted instance, so it takes
                    // its share too.
                    while n >= RESTART_AT && !restarted.load(Ordering::Relaxed) {
                        if started.elapsed() > WAIT {
                            return; // the restart failed; the main thread says why
                        }
                        std::thread::sleep(Duration::from_millis(5));
                    }
                    let base = {
                        let bases = bases.lock().unwrap();
                        (0..3).find_map(|i| bases[(n + i) % 3].clone()).unwrap()
                    };
                    let res = client
                        .post(format!("{base}/v1/orders"))
                        .bearer_auth(&key)
                        .header("content-type", "application/json")
                        .body(canonical_order(&format!("PO-MULTI-{n}"), "PBG-017").to_string())
                        .send();
                    let Ok(res) = res else { continue };
                    let status = res.status();
                    let body: Value = res.json().unwrap_or(Value::Null);
                    if status == 201 {
                        let id = body["orders"][0]["id"].as_str().unwrap().to_owned();
                        acknowledged.lock().unwrap().push(id);
                    } else {
                        refused.lock().unwrap().push(format!("{status}: {body}"));
                    }
                }
            });
        }
        let wait_for_posts = |count: usize| {
            while next.load(Ordering::Relaxed) < count {
                assert!(started.elapsed() < WAIT, "posting stalled");
                std::thread::sleep(Duration::from_millis(5));
            }
        };
        wait_for_posts(KILL_AT);
        // Killed mid-stream: posts to it are cut or refused; the balancer then
        // sends its share to the others.
        let data_dir = instances[1].take().unwrap().kill();
        bases.lock().unwrap()[1] = None;
        wait_for_posts(RESTART_AT);
        let gw = Gateway::start_with(Options {
            data_dir: Some(data_dir),
            ..instance_options(&database)
        });
        bases.lock().unwrap()[1] = Some(gw.base.clone());
        instances[1] = Some(gw);
        restarted.store(true, Ordering::Relaxed);
    });

    let refused = refused.into_inner().unwrap();
    assert!(refused.is_empty(), "refused: {refused:#?}");
    let acknowledged = acknowledged.into_inner().unwrap();
    assert!(
        acknowledged.len() >= POSTS * 9 / 10,
        "only {} of {POSTS} posts acknowledged",
        acknowledged.len()
    );

    // Every acknowledged order arrives, signed, at least once.
    let received = receiver.wait_for(
        |r| {
            let got: BTreeSet<String> = verified_ids(r).into_iter().collect();
            acknowledged.iter().all(|id| got.contains(id))
        },
        WAIT,
    );
    // A duplicate is the same delivery sent again: under the webhook-id it had.
    let mut webhook_ids: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for hook in received.iter().filter(|r| r["verified"] == true) {
        let order = hook["body"]["data"]["id"].as_str().unwrap().to_owned();
        let id = hook["webhook_id"].as_str().unwrap().to_owned();
        webhook_ids.entry(order).or_default().insert(id);
    }
    for (order, ids) in &webhook_ids {
        assert_eq!(
            ids.len(),
            1,
            "order {order} came under several webhook-ids: {ids:?}"
        );
    }

    // And nothing stays claimed, by the killed instance or any other.
    let deadline = Instant::now() + WAIT;
    loop {
        let left = database.query(
            "SELECT count(*) FROM deliveries WHERE claimed_by IS NOT NULL \
             OR claimed_until IS NOT NULL OR state <> 'succeeded'",
        );
        if left.trim() == "0" {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{} deliveries still claimed or not succeeded",
            left.trim()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    drop(instances);
}

/// A plugin uploaded through one instance is served by another at once: the
/// upload is stored, and every instance sharing the database loads it when told.
#[test]
fn a_plugin_uploaded_on_one_instance_is_served_by_another_at_once() {
    if test_database() != "postgres" {
        eprintln!("several instances share a PostgreSQL database only; skipped on SQLite");
        return;
    }
    let database = PostgresDatabase::create();
    // Without the test plugin directory: the upload is the only way in.
    let options = || {
        let mut options = instance_options(&database);
        options
            .env
            .push(("JEMBATAN_PLUGIN_DIRS".into(), String::new()));
        options
    };
    let (a, b) = (
        Gateway::start_with(options()),
        Gateway::start_with(options()),
    );
    let wasm = std::fs::read(built_plugin("test_hostile")).unwrap();
    json_of(a.upload_plugin(wasm), 201);
    let key = a.create_buyer("uploaded", "test-hostile", json!({"mode": "ok"}));

    let mut last = String::new();
    let served = eventually(Duration::from_secs(10), || {
        let res = b.post_order(&key, "application/json", "{}");
        let status = res.status();
        last = format!("{status}: {}", res.text().unwrap_or_default());
        status == 201
    });
    assert!(served, "the other instance never served the upload: {last}");
    assert!(
        b.logs()
            .contains("plugin loaded, uploaded on another instance"),
        "{}",
        b.logs()
    );
}
