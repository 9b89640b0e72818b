//! Settings from the README's Configuration table, seen from outside: the largest
//! plugin upload, how many deliveries are in flight at once, readiness when the
//! store fails, and the metrics for unrouted orders and delivery attempts.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::delivery::{
    SECRET, WAIT, gateway, metrics_text, verified_ids, wait_order_status, webhook_craftsman,
};
use crate::harness::{Gateway, Options, expect_problem, fixture, json_of};
use crate::peers::WebhookReceiver;

#[test]
fn max_plugin_bytes_refuses_a_bigger_upload_with_413() {
    let at_limit = fixture("plugins/dist/json-map.wasm");
    let bigger = fixture("plugins/dist/canonical-json.wasm");
    assert!(bigger.len() > at_limit.len());
    let limit = at_limit.len().to_string();
    let gw = Gateway::start_with(Options {
        env: vec![("JEMBATAN_MAX_PLUGIN_BYTES".into(), limit.clone())],
        ..Options::default()
    });
    // Exactly the limit is allowed: the stock bytes are recognised (200).
    let same = json_of(gw.upload_plugin(at_limit.clone()), 200);
    assert_eq!(same["name"], "json-map");
    let problem = expect_problem(gw.upload_plugin(bigger.clone()), 413);
    assert!(
        problem["type"]
            .as_str()
            .unwrap()
            .ends_with("/payload-too-large"),
        "{problem}"
    );
    let detail = problem["detail"].as_str().unwrap();
    assert!(
        detail.contains(&format!("limit of {limit} bytes")),
        "{detail}"
    );
    // One byte over is refused for its size before it is even read as wasm (it
    // would be a 422, not a component, if it were).
    let mut one_over = at_limit;
    one_over.push(0);
    expect_problem(gw.upload_plugin(one_over), 413);
    drop(gw);

    // The default (64 MiB) takes it.
    let gw = Gateway::start();
    let installed = json_of(gw.upload_plugin(bigger), 200);
    assert_eq!(installed["name"], "canonical-json");
}

#[test]
fn delivery_concurrency_bounds_the_sends_in_flight() {
    let receiver = WebhookReceiver::start(SECRET);
    // Each answer takes a while, so sends that may overlap do.
    receiver.control(json!({"delay_ms": 500}));
    let gw = gateway("1s", None, &[("JEMBATAN_DELIVERY_CONCURRENCY", "2")]);
    let key = gw.create_buyer("mitra-otoparts", "canonical-json", json!({}));
    let orders: Vec<String> = (0..6)
        .map(|n| gw.post_canonical_order(&key, &format!("PO-CONC-{n}"), "PBG-017"))
        .collect();
    // Routed together, all six are due at once, however slowly they were posted.
    webhook_craftsman(&gw, &receiver.url("/hook"));

    receiver.wait_for(|r| verified_ids(r).len() == orders.len(), WAIT);
    let stats = receiver.stats();
    assert_eq!(stats["arrived"], 6, "{stats}");
    // Two at once, never more: the setting, not the receiver, is the bound.
    assert_eq!(stats["max_in_flight"], 2, "{stats}");
    for order in &orders {
        wait_order_status(&gw, order, "delivered");
    }
}

/// The value of one series (`name{labels}`) in the Prometheus text, if present.
fn metric(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .map(|value| value.trim().parse().unwrap())
}

#[test]
fn metrics_count_unrouted_orders_and_every_delivery_attempt() {
    let receiver = WebhookReceiver::start(SECRET);
    receiver.fail_next(2, 500);
    let gw = gateway("100ms,100ms,100ms", None, &[]);
    let key = gw.create_buyer("mitra-otoparts", "canonical-json", json!({}));
    let attempts = r#"jembatan_delivery_attempts_total{channel="webhook"}"#;
    let text = metrics_text(&gw);
    assert_eq!(
        metric(&text, "jembatan_orders_unrouted"),
        Some(0.0),
        "{text}"
    );
    assert_eq!(metric(&text, attempts), None, "nothing sent yet: {text}");

    let orders = [
        gw.post_canonical_order(&key, "PO-M-1", "PBG-017"),
        gw.post_canonical_order(&key, "PO-M-2", "PBG-017"),
    ];
    let text = metrics_text(&gw);
    assert_eq!(
        metric(&text, "jembatan_orders_unrouted"),
        Some(2.0),
        "{text}"
    );

    // The route takes both: none is waiting any more, and both are sent, two
    // tries failing (500) on the way.
    webhook_craftsman(&gw, &receiver.url("/hook"));
    let text = metrics_text(&gw);
    assert_eq!(
        metric(&text, "jembatan_orders_unrouted"),
        Some(0.0),
        "{text}"
    );
    receiver.wait_for(|r| verified_ids(r).len() == 2, WAIT);
    let mut logged = 0;
    for order in &orders {
        let order = wait_order_status(&gw, order, "delivered");
        let id = order["deliveries"][0]["id"].as_str().unwrap();
        let detail = gw.admin_get(&format!("/v1/admin/deliveries/{id}"));
        logged += detail["attempt_log"].as_array().unwrap().len();
    }
    assert_eq!(logged, 4, "two failures and two deliveries");
    assert_eq!(receiver.received().len(), 4);
    let text = metrics_text(&gw);
    assert_eq!(metric(&text, attempts), Some(4.0), "{text}");
    let successes = r#"jembatan_delivery_successes_total{channel="webhook"}"#;
    assert_eq!(metric(&text, successes), Some(2.0), "{text}");
    let failures = r#"jembatan_delivery_failures_total{channel="webhook"}"#;
    assert_eq!(metric(&text, failures), Some(2.0), "{text}");
}

/// Overwrites the database, its WAL and its WAL index with zeros, in place (the
/// gateway's open files see it), as a failing disk or a stray `dd` would: the
/// next read finds no valid WAL frame and no SQLite header.
fn wreck_the_store(data_dir: &std::path::Path) {
    for name in ["jembatan.db", "jembatan.db-wal", "jembatan.db-shm"] {
        let path = data_dir.join(name);
        let len = std::fs::metadata(&path)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
            .len();
        let mut file = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
        std::io::Write::write_all(&mut file, &vec![0; len as usize]).unwrap();
        file.sync_all().unwrap();
    }
}

#[test]
fn readyz_fails_while_the_store_is_broken_and_healthz_does_not() {
    if !crate::harness::sqlite_only("readyz_fails_while_the_store_is_broken_and_healthz_does_not") {
        return;
    }
    let gw = Gateway::start();
    let ready = json_of(gw.client.get(gw.url("/readyz")).send().unwrap(), 200);
    assert_eq!(ready["status"], "ready");

    wreck_the_store(&gw.data_dir);
    let deadline = Instant::now() + WAIT;
    let res = loop {
        let res = gw.client.get(gw.url("/readyz")).send().unwrap();
        if res.status() != 200 {
            break res;
        }
        assert!(
            Instant::now() < deadline,
            "still ready with a wrecked store"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    expect_problem(res, 503);
    // Alive all the same: a restart would not mend the store.
    let health = json_of(gw.client.get(gw.url("/healthz")).send().unwrap(), 200);
    assert_eq!(health["status"], "ok");
}
