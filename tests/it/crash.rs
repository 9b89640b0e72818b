//! SIGKILL under load loses nothing that was acknowledged.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde_json::{Value, json};

use crate::harness::{Gateway, Options, fixture, json_of};

#[test]
fn every_order_that_got_a_201_survives_sigkill() {
    let gw = Gateway::start();
    let key = gw.create_buyer("steady", "ubl-order", json!({}));
    let body = fixture("tests/fixtures/ubl-every-field.xml");

    let url = gw.url("/v1/orders");
    let mut running = Some(gw);
    let acknowledged = Mutex::new(Vec::<String>::new());
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
                    if let Ok(res) = res
                        && res.status() == 201
                        && let Ok(accepted) = res.json::<Value>()
                    {
                        let id = accepted["orders"][0]["id"].as_str().unwrap().to_owned();
                        acknowledged.lock().unwrap().push(id);
                    }
                }
            });
        }
        // Kill once a good number of orders are in flight and acknowledged.
        while acknowledged.lock().unwrap().len() < 50 {
            std::thread::sleep(Duration::from_millis(20));
        }
        let data_dir = running.take().unwrap().kill();
        stop.store(true, Ordering::Relaxed);
        data_dir
    });

    let acknowledged = acknowledged.into_inner().unwrap();
    let gw = Gateway::start_with(Options {
        data_dir: Some(data_dir),
        ..Default::default()
    });
    for id in &acknowledged {
        let order = json_of(gw.get(&key, &format!("/v1/orders/{id}")), 200);
        assert_eq!(order["order"]["buyer_order_number"], "PO-MO-2026-1127");
    }
    // And the restarted gateway carries on.
    json_of(gw.post_order(&key, "application/xml", body), 201);
}
