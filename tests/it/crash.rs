//! SIGKILL under load loses nothing that was acknowledged, in both durability
//! modes the README offers: `full` (the default) and `normal`, which survives a
//! crash of the process.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::harness::{Gateway, Options, fixture, json_of};

/// How many acknowledged orders to wait for before the kill, and for how long.
const ACKNOWLEDGED_BEFORE_KILL: usize = 50;
const WAIT: Duration = Duration::from_secs(60);

#[test]
fn every_order_that_got_a_201_survives_sigkill() {
    survives_sigkill(None);
}

#[test]
fn every_order_that_got_a_201_survives_sigkill_with_synchronous_normal() {
    survives_sigkill(Some("normal"));
}

fn survives_sigkill(synchronous: Option<&str>) {
    let env: Vec<(String, String)> = synchronous
        .map(|mode| ("JEMBATAN_SQLITE_SYNCHRONOUS".to_owned(), mode.to_owned()))
        .into_iter()
        .collect();
    let gw = Gateway::start_with(Options {
        env: env.clone(),
        ..Options::default()
    });
    let key = gw.create_buyer("steady", "ubl-order", json!({}));
    let body = fixture("tests/fixtures/ubl-every-field.xml");

    let url = gw.url("/v1/orders");
    let mut running = Some(gw);
    let acknowledged = Mutex::new(Vec::<String>::new());
    // Answers before the kill that were neither a 201 nor cut by the kill.
    let refused = Mutex::new(Vec::<String>::new());
    let stop = AtomicBool::new(false);
    let data_dir = std::thread::scope(|scope| {
        for _ in 0..4 {
            scope.spawn(|| {
                let client = reqwest::blocking::Client::builder()
                    .timeout(Duration::from_secs(5))
                    .build()
                    .unwrap();
                while !stop.load(Ordering::Relaxed) {
                    let res = client
                        .post(&url)
                        .bearer_auth(&key)
                        .header("content-type", "application/xml")
                        .body(body.clone())
                        .send();
                    // Requests cut by the kill fail; only a 201 is a promise.
                    let Ok(res) = res else { continue };
                    let status = res.status();
                    match res.json::<Value>() {
                        Ok(accepted) if status == 201 => {
                            let id = accepted["orders"][0]["id"].as_str().unwrap().to_owned();
                            acknowledged.lock().unwrap().push(id);
                        }
                        Ok(other) if !stop.load(Ordering::Relaxed) => {
                            refused.lock().unwrap().push(format!("{status}: {other}"));
                        }
                        _ => {}
                    }
                }
            });
        }
        // Kill once a good number of orders are in flight and acknowledged.
        let deadline = Instant::now() + WAIT;
        while acknowledged.lock().unwrap().len() < ACKNOWLEDGED_BEFORE_KILL {
            let refused = refused.lock().unwrap();
            if !refused.is_empty() || Instant::now() > deadline {
                stop.store(true, Ordering::Relaxed);
                panic!(
                    "{} orders acknowledged in {WAIT:?}; refused: {refused:?}",
                    acknowledged.lock().unwrap().len()
                );
            }
            drop(refused);
            std::thread::sleep(Duration::from_millis(20));
        }
        let data_dir = running.take().unwrap().kill();
        stop.store(true, Ordering::Relaxed);
        data_dir
    });

    let acknowledged = acknowledged.into_inner().unwrap();
    assert!(acknowledged.len() >= ACKNOWLEDGED_BEFORE_KILL);
    let gw = Gateway::start_with(Options {
        data_dir: Some(data_dir),
        env,
        ..Options::default()
    });
    for id in &acknowledged {
        let order = json_of(gw.get(&key, &format!("/v1/orders/{id}")), 200);
        assert_eq!(order["order"]["buyer_order_number"], "PO-MO-2026-1127");
    }
    // And the restarted gateway carries on.
    json_of(gw.post_order(&key, "application/xml", body), 201);
}
