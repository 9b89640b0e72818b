//! The 201 answer to a post reports each order's status exactly as it was stored,
//! whatever routing made of it: `unrouted` (no route), `received` (a delivery is
//! pending), `delivered` (the craftsman has only the inbox), `failed` (every
//! channel of the craftsman is disabled).

use serde_json::{Value, json};

use crate::delivery::{SECRET, gateway, wait_order_status};
use crate::harness::{Gateway, canonical_order, json_of};
use crate::peers::WebhookReceiver;

/// A craftsman `id` whose one webhook goes to `receiver`, routed from `code`.
fn webhook_craftsman(gw: &Gateway, id: &str, code: &str, receiver: &WebhookReceiver) {
    gw.create_craftsman(json!({"id": id, "name": id, "channels": [
        {"type": "webhook", "url": receiver.url(&format!("/{id}")), "secret": SECRET}]}));
    gw.route("mitra-otoparts", code, id);
}

#[test]
fn the_answer_to_a_post_reports_each_orders_status_as_stored() {
    // Failing receivers, and retries an hour apart: nothing changes while we look.
    let gone = WebhookReceiver::start(SECRET);
    gone.set_status(410);
    let failing = WebhookReceiver::start(SECRET);
    failing.set_status(500);
    let gw = gateway("1h", None, &[]);
    let key = gw.create_buyer("mitra-otoparts", "canonical-json", json!({}));
    gw.create_craftsman(json!({"id": "inbox-only", "name": "Inbox only"}));
    gw.route("mitra-otoparts", "PBG-INBOX", "inbox-only");
    webhook_craftsman(&gw, "gone", "PBG-GONE", &gone);
    webhook_craftsman(&gw, "failing", "PBG-FAILING", &failing);
    // The first order to `gone` meets its 410, which disables the webhook.
    let first = gw.post_canonical_order(&key, "PO-GONE-0", "PBG-GONE");
    wait_order_status(&gw, &first, "failed");

    // One message, four orders, four outcomes.
    let orders = json!([
        canonical_order("PO-NOWHERE", "PBG-NOWHERE"),
        canonical_order("PO-FAILING", "PBG-FAILING"),
        canonical_order("PO-INBOX", "PBG-INBOX"),
        canonical_order("PO-GONE", "PBG-GONE"),
    ]);
    let post = || {
        gw.client
            .post(gw.url("/v1/orders"))
            .bearer_auth(&key)
            .header("content-type", "application/json")
            .header("idempotency-key", "PO-MIXED-1")
            .body(orders.to_string())
            .send()
            .unwrap()
    };
    let accepted = json_of(post(), 201);
    let answered: Vec<(&str, &str)> = accepted["orders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            (
                o["buyer_order_number"].as_str().unwrap(),
                o["status"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        answered,
        [
            ("PO-NOWHERE", "unrouted"),
            ("PO-FAILING", "received"),
            ("PO-INBOX", "delivered"),
            ("PO-GONE", "failed"),
        ]
    );
    for order in accepted["orders"].as_array().unwrap() {
        let id = order["id"].as_str().unwrap();
        let stored: Value = json_of(gw.get(&key, &format!("/v1/orders/{id}")), 200);
        assert_eq!(stored["status"], order["status"], "{stored:#}");
    }
    // And a retry with the same Idempotency-Key gets the very same answer.
    assert_eq!(json_of(post(), 201), accepted);
}
