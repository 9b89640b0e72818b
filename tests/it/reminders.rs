//! Issue 10, part 4: an order its craftsman leaves unanswered for `[responses]
//! remind_after` reminds them once, on their webhook as a signed `order.reminder`
//! event (verified by the independent `standardwebhooks` package in
//! `tests/peers/webhook_receiver.py`), and is listed for the admin with
//! `awaiting_response=true`. The reminder is decided once, survives a SIGKILL
//! between its decision and its delivery, and is never sent twice.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::delivery::{SECRET, WAIT, wait_order, webhook_craftsman};
use crate::harness::{Gateway, Options, expect_problem, json_of};
use crate::peers::WebhookReceiver;

/// A gateway that may send to loopback, retries every second and reminds after
/// `remind_after` (a humantime duration), on `data_dir` when given.
fn gateway(remind_after: &str, data_dir: Option<PathBuf>) -> Gateway {
    Gateway::start_with(Options {
        data_dir,
        env: [
            ("JEMBATAN_ALLOW_PRIVATE_TARGETS", "1"),
            ("JEMBATAN_DELIVERY_RETRY_SCHEDULE", "1s"),
            ("JEMBATAN_RESPONSES_REMIND_AFTER", remind_after),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect(),
        ..Options::default()
    })
}

/// Buyer `mitra-otoparts` and craftsman `jaya`, whose one channel is a webhook
/// to `receiver`; returns (buyer key, jaya's token).
fn buyer_and_craftsman(gw: &Gateway, receiver: &WebhookReceiver) -> (String, String) {
    let key = gw.create_buyer("mitra-otoparts", "canonical-json", json!({}));
    let craftsman = webhook_craftsman(gw, &receiver.url("/jaya"));
    (key, craftsman["token"].as_str().unwrap().to_owned())
}

/// What the receiver got of one event type, as delivered with a good signature
/// and taken (2xx): `(webhook-id, body)`.
fn taken(received: &[Value], event: &str) -> Vec<(String, Value)> {
    received
        .iter()
        .filter(|r| r["body"]["type"] == event)
        .filter(|r| r["verified"] == true && r["status"].as_u64().is_some_and(|s| s < 300))
        .map(|r| {
            (
                r["webhook_id"].as_str().unwrap().to_owned(),
                r["body"].clone(),
            )
        })
        .collect()
}

/// The ids of `awaiting_response=true` orders, with `more` query filters.
fn awaiting(gw: &Gateway, more: &str) -> Vec<String> {
    gw.admin_get(&format!("/v1/admin/orders?awaiting_response=true{more}"))["orders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].as_str().unwrap().to_owned())
        .collect()
}

/// An order's deliveries of `kind`, as the admin sees them.
fn deliveries_of(order: &Value, kind: &str) -> Vec<Value> {
    order["deliveries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["kind"] == kind)
        .cloned()
        .collect()
}

#[test]
fn an_unanswered_order_reminds_its_craftsman_once_and_is_listed_for_the_admin() {
    const REMIND_AFTER: Duration = Duration::from_secs(3);
    let receiver = WebhookReceiver::start(SECRET);
    let gw = gateway("3s", None);
    let (key, token) = buyer_and_craftsman(&gw, &receiver);
    let posted = Instant::now();
    let unanswered = gw.post_canonical_order(&key, "PO-REM-1", "PBG-017");
    let answered = gw.post_canonical_order(&key, "PO-REM-2", "PBG-017");
    let res = gw
        .client
        .post(gw.url(&format!("/v1/inbox/{answered}/response")))
        .bearer_auth(&token)
        .json(&json!({"status": "accepted"}))
        .send()
        .unwrap();
    json_of(res, 201);
    let listed_early = awaiting(&gw, "");
    if posted.elapsed() < REMIND_AFTER {
        assert_eq!(listed_early, Vec::<String>::new(), "listed before the wait");
    }

    // The reminder comes once the wait is over: signed, naming the order and how
    // to answer it.
    let received = receiver.wait_for(|r| !taken(r, "order.reminder").is_empty(), WAIT);
    assert!(posted.elapsed() >= REMIND_AFTER, "{:?}", posted.elapsed());
    let (webhook_id, event) = taken(&received, "order.reminder").remove(0);
    assert_eq!(event["data"]["id"], unanswered.as_str());
    assert_eq!(event["data"]["buyer_order_number"], "PO-REM-1");
    assert_eq!(event["data"]["buyer_id"], "mitra-otoparts");
    assert_eq!(event["data"]["supplier_code"], "PBG-017");
    assert_eq!(
        event["data"]["answer"],
        json!({"method": "POST", "path": format!("/v1/inbox/{unanswered}/response")})
    );
    assert_eq!(event["timestamp"], event["data"]["reminded_at"]);
    assert!(event["data"].get("order").is_none(), "{event}");
    let reminder_request = received
        .iter()
        .find(|r| r["webhook_id"] == webhook_id.as_str())
        .unwrap();
    assert!(
        reminder_request["headers"]
            .get("jembatan-order-schema")
            .is_none(),
        "{reminder_request}"
    );

    // The admin sees the reminder as a delivery of the order, and the order as
    // awaiting its answer, with when its craftsman was reminded.
    let order = wait_order(&gw, &unanswered, "had its reminder delivered", |o| {
        deliveries_of(o, "reminder")
            .iter()
            .any(|d| d["state"] == "succeeded")
    });
    let reminders = deliveries_of(&order, "reminder");
    assert_eq!(reminders.len(), 1, "{order:#}");
    assert_eq!(reminders[0]["id"], webhook_id.as_str());
    assert_eq!(reminders[0]["channel"], "webhook");
    assert_eq!(deliveries_of(&order, "order").len(), 1, "{order:#}");
    // The reminder is not the order's delivery: the order is delivered.
    assert_eq!(order["status"], "delivered");
    assert_eq!(order["response"], Value::Null);
    assert!(order["reminded_at"].is_string(), "{order:#}");
    assert_eq!(order["reminded_at"], event["data"]["reminded_at"]);
    let page = gw.admin_get("/v1/admin/orders?awaiting_response=true");
    assert_eq!(page["orders"].as_array().unwrap().len(), 1, "{page:#}");
    assert_eq!(page["orders"][0]["id"], unanswered.as_str());
    assert_eq!(page["orders"][0]["reminded_at"], order["reminded_at"]);
    // Combined with the listing's other filters.
    assert_eq!(
        awaiting(&gw, "&buyer=mitra-otoparts&craftsman=jaya&status=delivered"),
        [unanswered.as_str()]
    );
    assert_eq!(
        awaiting(&gw, "&craftsman=someone-else"),
        Vec::<String>::new()
    );
    assert_eq!(awaiting(&gw, "&status=failed"), Vec::<String>::new());
    // `false` filters nothing.
    let all = gw.admin_get("/v1/admin/orders?awaiting_response=false");
    assert_eq!(all["orders"].as_array().unwrap().len(), 2, "{all:#}");
    let bad = expect_problem(
        gw.admin_request(
            reqwest::Method::GET,
            "/v1/admin/orders?awaiting_response=maybe",
        )
        .send()
        .unwrap(),
        400,
    );
    assert!(
        bad["detail"]
            .as_str()
            .unwrap()
            .contains("awaiting_response"),
        "{bad}"
    );
    // The OpenAPI document describes the filter.
    let doc: Value = gw
        .client
        .get(gw.url("/v1/openapi.json"))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let parameters = doc["paths"]["/v1/admin/orders"]["get"]["parameters"]
        .as_array()
        .unwrap();
    let filter = parameters
        .iter()
        .find(|p| p["name"] == "awaiting_response")
        .unwrap_or_else(|| panic!("{parameters:#?}"));
    assert_eq!(filter["in"], "query");
    assert!(filter["schema"].to_string().contains("boolean"), "{filter}");

    // The answered order never gets one; the unanswered one gets no second, and
    // answering it now changes nothing of the first.
    let res = gw
        .client
        .post(gw.url(&format!("/v1/inbox/{unanswered}/response")))
        .bearer_auth(&token)
        .json(&json!({"status": "rejected", "reason": "Bahan habis"}))
        .send()
        .unwrap();
    json_of(res, 201);
    assert_eq!(awaiting(&gw, ""), Vec::<String>::new());
    std::thread::sleep(REMIND_AFTER);
    let received = receiver.received();
    let reminders = taken(&received, "order.reminder");
    assert_eq!(reminders.len(), 1, "{received:#?}");
    assert!(
        received
            .iter()
            .all(|r| r["body"]["type"] != "order.reminder"
                || r["body"]["data"]["id"] == unanswered.as_str()),
        "{received:#?}"
    );
    let answered_view = gw.admin_get(&format!("/v1/admin/orders/{answered}"));
    assert_eq!(
        answered_view["reminded_at"],
        Value::Null,
        "{answered_view:#}"
    );
    assert!(deliveries_of(&answered_view, "reminder").is_empty());
}

#[test]
fn a_reminder_decided_before_a_kill_is_delivered_once_after_the_restart() {
    let receiver = WebhookReceiver::start(SECRET);
    let gw = gateway("2s", None);
    let (key, _token) = buyer_and_craftsman(&gw, &receiver);
    let order_id = gw.post_canonical_order(&key, "PO-REM-KILL", "PBG-017");
    receiver.wait_for(|r| taken(r, "order.created").len() == 1, WAIT);
    // From now on the craftsman's endpoint fails: the reminder is decided and
    // tried, never delivered.
    receiver.set_status(503);
    let order = wait_order(&gw, &order_id, "had its reminder tried", |o| {
        deliveries_of(o, "reminder")
            .iter()
            .any(|d| d["attempts"].as_u64() >= Some(1))
    });
    let reminder = deliveries_of(&order, "reminder").remove(0);
    assert_eq!(reminder["state"], "pending", "{order:#}");
    let reminder_id = reminder["id"].as_str().unwrap().to_owned();
    let reminded_at = order["reminded_at"].clone();
    assert!(reminded_at.is_string(), "{order:#}");
    let data_dir = gw.kill();
    let failed = receiver.received();
    assert!(taken(&failed, "order.reminder").is_empty(), "{failed:#?}");
    assert!(
        failed
            .iter()
            .any(|r| r["webhook_id"] == reminder_id.as_str() && r["status"] == 503),
        "{failed:#?}"
    );

    // Restarted, with the endpoint healed: the same reminder, once.
    receiver.set_status(204);
    let gw = gateway("2s", Some(data_dir));
    let received = receiver.wait_for(|r| !taken(r, "order.reminder").is_empty(), WAIT);
    let reminders = taken(&received, "order.reminder");
    assert_eq!(reminders.len(), 1, "{received:#?}");
    assert_eq!(reminders[0].0, reminder_id);
    assert_eq!(reminders[0].1["data"]["id"], order_id.as_str());
    let order = wait_order(&gw, &order_id, "had its reminder delivered", |o| {
        deliveries_of(o, "reminder")
            .iter()
            .any(|d| d["state"] == "succeeded")
    });
    assert_eq!(deliveries_of(&order, "reminder").len(), 1, "{order:#}");
    assert_eq!(order["reminded_at"], reminded_at);

    // Another restart after it was delivered sends nothing more.
    let data_dir = gw.kill();
    let gw = gateway("2s", Some(data_dir));
    std::thread::sleep(Duration::from_secs(4));
    let received = receiver.received();
    assert_eq!(taken(&received, "order.reminder").len(), 1, "{received:#?}");
    assert_eq!(taken(&received, "order.created").len(), 1, "{received:#?}");
    let order = gw.admin_get(&format!("/v1/admin/orders/{order_id}"));
    assert_eq!(deliveries_of(&order, "reminder").len(), 1, "{order:#}");
    assert_eq!(awaiting(&gw, ""), [order_id]);
}

#[test]
fn without_a_wait_no_reminder_is_sent() {
    let receiver = WebhookReceiver::start(SECRET);
    let gw = gateway("0", None);
    let (key, _token) = buyer_and_craftsman(&gw, &receiver);
    let order_id = gw.post_canonical_order(&key, "PO-REM-OFF", "PBG-017");
    receiver.wait_for(|r| taken(r, "order.created").len() == 1, WAIT);
    std::thread::sleep(Duration::from_secs(2));
    assert!(taken(&receiver.received(), "order.reminder").is_empty());
    let order = gw.admin_get(&format!("/v1/admin/orders/{order_id}"));
    assert_eq!(order["reminded_at"], Value::Null, "{order:#}");
    // With no wait set, every routed order without an answer awaits one.
    assert_eq!(awaiting(&gw, ""), [order_id]);
}
