//! Issue 10, closing the loop: a craftsman answers an order (accepts, changes,
//! rejects) and the buyer hears it, in its `GET /v1/orders/{id}` and at its
//! `callback_url` as signed `order.response` events, verified by the independent
//! `standardwebhooks` package in `tests/peers/webhook_receiver.py`.

use reqwest::Method;
use serde_json::{Value, json};

use crate::delivery::{SECRET, WAIT, gateway, wait_order};
use crate::harness::{Gateway, expect_problem, json_of};
use crate::peers::WebhookReceiver;

/// Events the receiver got with a good signature, as `(webhook-id, body)`.
fn verified_events(received: &[Value]) -> Vec<(String, Value)> {
    received
        .iter()
        .filter(|r| r["verified"] == true && r["status"].as_u64().is_some_and(|s| s < 300))
        .map(|r| {
            (
                r["webhook_id"].as_str().unwrap().to_owned(),
                r["body"].clone(),
            )
        })
        .collect()
}

/// Buyer `mitra-otoparts` with its callback at `callback_url`, craftsman `jaya`
/// (inbox only) and `lain`, both routed; returns (buyer key, callback secret,
/// jaya's token, lain's token).
fn buyer_with_callback(gw: &Gateway, callback_url: &str) -> (String, String, String, String) {
    let created = json_of(
        gw.admin(
            Method::POST,
            "/v1/admin/buyers",
            Some(json!({"id": "mitra-otoparts", "name": "PT Mitra Otoparts",
                        "plugin": "canonical-json", "callback_url": callback_url})),
        ),
        201,
    );
    assert_eq!(created["callback_url"], callback_url);
    let secret = created["callback_secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_"), "{secret}");
    // Shown once: reading the buyer does not show it.
    let shown = gw.admin_get("/v1/admin/buyers/mitra-otoparts");
    assert_eq!(shown["callback_url"], callback_url);
    assert!(shown.get("callback_secret").is_none(), "{shown}");
    let jaya = gw.create_craftsman(json!({"id": "jaya", "name": "Bengkel Jaya"}));
    let lain = gw.create_craftsman(json!({"id": "lain", "name": "Bengkel Lain"}));
    gw.route("mitra-otoparts", "PBG-017", "jaya");
    gw.route("mitra-otoparts", "PBG-018", "lain");
    (
        created["api_key"].as_str().unwrap().to_owned(),
        secret,
        jaya["token"].as_str().unwrap().to_owned(),
        lain["token"].as_str().unwrap().to_owned(),
    )
}

fn answer(gw: &Gateway, token: &str, order_id: &str, body: Value) -> reqwest::blocking::Response {
    gw.client
        .post(gw.url(&format!("/v1/inbox/{order_id}/response")))
        .bearer_auth(token)
        .json(&body)
        .send()
        .unwrap()
}

fn listed(gw: &Gateway, key: &str, query: &str) -> Vec<String> {
    json_of(gw.get(key, &format!("/v1/orders?{query}")), 200)["orders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn a_craftsman_answers_and_the_buyer_hears_every_answer_signed() {
    let receiver = WebhookReceiver::start(SECRET);
    let gw = gateway("1s", None, &[]);
    let (key, secret, token, other_token) = buyer_with_callback(&gw, &receiver.url("/responses"));
    receiver.set_secret(&secret);
    let order_id = gw.post_canonical_order(&key, "PO-ANS-1", "PBG-017");
    let waiting = gw.post_canonical_order(&key, "PO-ANS-2", "PBG-017");
    let order = json_of(gw.get(&key, &format!("/v1/orders/{order_id}")), 200);
    assert_eq!(order["response"], Value::Null);
    assert_eq!(order["responses"], json!([]));

    // Accepted: the first response.
    let accepted = json_of(
        answer(&gw, &token, &order_id, json!({"status": "accepted"})),
        201,
    );
    assert_eq!(accepted["status"], "accepted");
    assert_eq!(accepted["sequence"], 1);
    assert_eq!(accepted["order_id"], order_id.as_str());
    assert_eq!(accepted["buyer_order_number"], "PO-ANS-1");
    assert_eq!(accepted["responder"]["craftsman_id"], "jaya");
    assert_eq!(accepted["via"], "api");
    let events = receiver.wait_for(|r| verified_events(r).len() == 1, WAIT);
    let (webhook_id, event) = &verified_events(&events)[0];
    assert_eq!(event["type"], "order.response");
    assert_eq!(event["data"]["order_id"], order_id.as_str());
    assert_eq!(event["data"]["buyer_order_number"], "PO-ANS-1");
    assert_eq!(event["data"]["response"], accepted);
    assert_eq!(event["timestamp"], accepted["issued_at"]);
    // Carried by the outbox: a delivery of the order, to the callback, succeeded.
    let admin_view = wait_order(&gw, &order_id, "had its answer delivered", |o| {
        o["deliveries"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["channel"] == "callback" && d["state"] == "succeeded")
    });
    let callback = admin_view["deliveries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["channel"] == "callback")
        .unwrap();
    assert_eq!(&callback["id"], webhook_id);
    assert_eq!(callback["response_id"], accepted["id"]);
    assert_eq!(callback["channel_id"], Value::Null);
    assert_eq!(
        admin_view["status"], "delivered",
        "the order's own delivery"
    );

    // Changed: a promised date and one line, superseding the acceptance.
    let changed = json_of(
        answer(
            &gw,
            &token,
            &order_id,
            json!({"status": "accepted_with_changes", "promised_delivery_date": "2026-12-20",
                   "reason": "Bahan SS304 datang minggu depan",
                   "lines": [{"line_number": "1", "quantity": "8", "price": "190000.00"}]}),
        ),
        201,
    );
    assert_eq!(changed["sequence"], 2);
    assert_eq!(changed["supersedes"], accepted["id"]);
    assert_eq!(changed["lines"][0]["quantity"], "8");
    assert_eq!(changed["lines"][0]["price"], "190000.00");
    let events = receiver.wait_for(|r| verified_events(r).len() == 2, WAIT);
    assert_eq!(verified_events(&events)[1].1["data"]["response"], changed);

    let order = json_of(gw.get(&key, &format!("/v1/orders/{order_id}")), 200);
    assert_eq!(order["response"], "accepted_with_changes");
    assert_eq!(order["responses"], json!([accepted, changed]));
    assert_eq!(
        listed(&gw, &key, "response=accepted_with_changes"),
        [order_id.as_str()]
    );
    assert_eq!(listed(&gw, &key, "response=none"), [waiting.as_str()]);
    assert_eq!(listed(&gw, &key, "response=accepted"), Vec::<String>::new());
    let listing = json_of(gw.get(&key, "/v1/orders"), 200);
    assert_eq!(listing["orders"][1]["response"], "accepted_with_changes");
    assert!(listing["orders"][1].get("responses").is_none());
    let bad = expect_problem(gw.get(&key, "/v1/orders?response=maybe"), 400);
    assert!(
        bad["detail"].as_str().unwrap().contains("none, accepted"),
        "{bad}"
    );

    // What an answer cannot be: 422 naming the field, 400 for a body that is not
    // an answer; nothing stored.
    for (body, field) in [
        (json!({"status": "rejected"}), "reason"),
        (json!({"status": "rejected", "reason": "   "}), "reason"),
        (json!({"status": "accepted_with_changes"}), "lines"),
        (
            json!({"status": "accepted", "promised_delivery_date": "2026-12-20"}),
            "promised_delivery_date",
        ),
        (
            json!({"status": "accepted_with_changes", "lines": [{"line_number": "9", "quantity": "1"}]}),
            "lines[0].line_number",
        ),
        (
            json!({"status": "accepted_with_changes", "lines": [{"line_number": "1", "quantity": "0"}]}),
            "lines[0].quantity",
        ),
    ] {
        let problem = expect_problem(answer(&gw, &token, &order_id, body.clone()), 422);
        assert_eq!(problem["field"], field, "{body}: {problem}");
        assert!(
            problem["type"]
                .as_str()
                .unwrap()
                .ends_with("/invalid-response")
        );
    }
    for body in [
        json!({"status": "accepted_with_changes", "lines": [{"line_number": "1", "quantity": 8}]}),
        json!({"status": "maybe"}),
        json!({"status": "accepted", "colour": "red"}),
    ] {
        expect_problem(answer(&gw, &token, &order_id, body), 400);
    }
    // Only the order's craftsman, with their token: another's is a 404, as is an
    // unknown order; the buyer's key is no craftsman's.
    expect_problem(
        answer(&gw, &other_token, &order_id, json!({"status": "accepted"})),
        404,
    );
    expect_problem(
        answer(&gw, &token, "ord_unknown", json!({"status": "accepted"})),
        404,
    );
    expect_problem(
        answer(&gw, &key, &order_id, json!({"status": "accepted"})),
        401,
    );

    // Rejected, with a reason; a rejection is final.
    let rejected = json_of(
        answer(
            &gw,
            &token,
            &order_id,
            json!({"status": "rejected", "reason": "Mesin bubut rusak"}),
        ),
        201,
    );
    assert_eq!(rejected["sequence"], 3);
    let refused = expect_problem(
        answer(&gw, &token, &order_id, json!({"status": "accepted"})),
        409,
    );
    assert!(
        refused["type"]
            .as_str()
            .unwrap()
            .ends_with("/order-already-rejected"),
        "{refused}"
    );
    let events = receiver.wait_for(|r| verified_events(r).len() == 3, WAIT);
    assert_eq!(verified_events(&events)[2].1["data"]["response"], rejected);
    let order = json_of(gw.get(&key, &format!("/v1/orders/{order_id}")), 200);
    assert_eq!(order["response"], "rejected");
    assert_eq!(order["responses"].as_array().unwrap().len(), 3);
    // The craftsman reads their answers too.
    let mine = json_of(gw.get(&token, &format!("/v1/inbox/{order_id}")), 200);
    assert_eq!(mine["response"], "rejected");
    assert_eq!(mine["responses"][2], rejected);
    // The schema every response follows is published.
    let schema = gw
        .client
        .get(gw.url("/v1/schemas/order-response.schema.json"))
        .send()
        .unwrap();
    assert_eq!(schema.status(), 200);
    assert_eq!(schema.json::<Value>().unwrap()["title"], "OrderResponse");
    let logs = gw.logs();
    for secret in [&secret, &token, &key] {
        assert!(!logs.contains(secret.as_str()), "a secret is in the logs");
    }
    assert_eq!(receiver.received().len(), 3, "each answer once");
}

#[test]
fn a_failing_callback_is_retried_then_dead_and_an_admin_retry_delivers_it() {
    let receiver = WebhookReceiver::start(SECRET);
    receiver.set_status(500);
    let gw = gateway("100ms,100ms", None, &[]);
    let (key, secret, token, _) = buyer_with_callback(&gw, &receiver.url("/responses"));
    receiver.set_secret(&secret);
    let order_id = gw.post_canonical_order(&key, "PO-ANS-3", "PBG-017");
    json_of(
        answer(&gw, &token, &order_id, json!({"status": "accepted"})),
        201,
    );
    let order = wait_order(&gw, &order_id, "had its answer die", |o| {
        o["deliveries"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["channel"] == "callback" && d["state"] == "dead")
    });
    let dead = order["deliveries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["channel"] == "callback")
        .unwrap()
        .clone();
    assert_eq!(dead["attempts"], 3, "the same schedule as orders");
    assert_eq!(
        order["status"], "delivered",
        "the order itself was delivered"
    );
    let listed = gw.admin_get("/v1/admin/deliveries?state=dead");
    assert_eq!(listed["deliveries"][0]["id"], dead["id"]);

    // A new secret: the waiting event is signed with it from its next attempt.
    let rotated = json_of(
        gw.admin(
            Method::POST,
            "/v1/admin/buyers/mitra-otoparts/callback/secret",
            None,
        ),
        200,
    );
    let new_secret = rotated["secret"].as_str().unwrap().to_owned();
    assert_ne!(new_secret, secret);
    receiver.set_secret(&new_secret);
    receiver.set_status(204);
    let id = dead["id"].as_str().unwrap();
    json_of(
        gw.admin(
            Method::POST,
            &format!("/v1/admin/deliveries/{id}/retry"),
            None,
        ),
        202,
    );
    let events = receiver.wait_for(|r| !verified_events(r).is_empty(), WAIT);
    assert!(
        events.iter().all(|r| r["webhook_id"] == id),
        "one webhook-id"
    );
    assert_eq!(verified_events(&events)[0].1["type"], "order.response");

    // Without a callback, an answer is kept but goes nowhere; a callback set again
    // (with a new secret, shown once) takes the next one.
    let res = gw.admin(
        Method::DELETE,
        "/v1/admin/buyers/mitra-otoparts/callback",
        None,
    );
    assert_eq!(res.status(), 204);
    json_of(
        answer(
            &gw,
            &token,
            &order_id,
            json!({"status": "rejected", "reason": "Bahan habis"}),
        ),
        201,
    );
    let order = gw.admin_get(&format!("/v1/admin/orders/{order_id}"));
    let callbacks = order["deliveries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["channel"] == "callback")
        .count();
    assert_eq!(
        callbacks, 1,
        "no delivery for the answer without a callback"
    );
    let refused = gw.admin(
        Method::PUT,
        "/v1/admin/buyers/mitra-otoparts/callback",
        Some(json!({"url": "ftp://buyer.example/x"})),
    );
    assert_eq!(expect_problem(refused, 422)["field"], "url");
    let set = json_of(
        gw.admin(
            Method::PUT,
            "/v1/admin/buyers/mitra-otoparts/callback",
            Some(json!({"url": receiver.url("/v2/responses")})),
        ),
        201,
    );
    assert!(set["secret"].as_str().unwrap().starts_with("whsec_"));
    let moved = json_of(
        gw.admin(
            Method::PUT,
            "/v1/admin/buyers/mitra-otoparts/callback",
            Some(json!({"url": receiver.url("/v3/responses")})),
        ),
        200,
    );
    assert!(moved.get("secret").is_none(), "the secret is kept: {moved}");
    let logs = gw.logs();
    for secret in [&secret, &new_secret, set["secret"].as_str().unwrap()] {
        assert!(!logs.contains(secret), "a secret is in the logs");
    }
}
