//! The admin API's listings and their filters, the inbox's pages, retrying a
//! pending delivery, and a buyer's name and limits, each through the real binary
//! and compared with what the test set up.

use std::collections::BTreeSet;

use reqwest::Method;
use serde_json::{Value, json};

use crate::delivery::{
    SECRET, WAIT, gateway, verified_ids, wait_order, wait_order_status, webhook_craftsman,
};
use crate::harness::{Gateway, canonical_order, expect_problem, fixture, json_of};
use crate::peers::WebhookReceiver;

/// The `id` of every item under `key` in a page or list, in the order given.
fn ids(page: &Value, key: &str) -> Vec<String> {
    let items = if key.is_empty() { page } else { &page[key] };
    items
        .as_array()
        .unwrap_or_else(|| panic!("no list under {key:?}: {page}"))
        .iter()
        .map(|item| item["id"].as_str().unwrap().to_owned())
        .collect()
}

/// Posts the canonical test order with this number and supplier code; returns
/// the 201's `(message_id, order id)`.
fn post_to(gw: &Gateway, key: &str, number: &str, supplier_code: &str) -> (String, String) {
    let order = canonical_order(number, supplier_code);
    let accepted = json_of(
        gw.post_order(key, "application/json", order.to_string()),
        201,
    );
    (
        accepted["message_id"].as_str().unwrap().to_owned(),
        accepted["orders"][0]["id"].as_str().unwrap().to_owned(),
    )
}

/// One page after another from `path` (which has a `?`), `limit` at a time,
/// following `next_cursor` until there is none; returns the ids of each page.
fn pages(gw: &Gateway, token: &str, path: &str, limit: u32) -> Vec<Vec<String>> {
    let mut pages = Vec::new();
    let mut url = format!("{path}&limit={limit}");
    loop {
        let page = json_of(gw.get(token, &url), 200);
        pages.push(ids(&page, "orders"));
        assert!(pages.len() <= 100, "next_cursor never ends: {page}");
        match page["next_cursor"].as_str() {
            Some(cursor) => url = format!("{path}&limit={limit}&after={cursor}"),
            None => return pages,
        }
    }
}

#[test]
fn craftsmen_routes_and_one_message_are_shown_to_the_admin() {
    let gw = gateway("1h", None, &[]);
    let alpha = gw.create_buyer("alpha", "canonical-json", json!({}));
    gw.create_buyer("beta", "canonical-json", json!({}));
    gw.create_craftsman(json!({"id": "jaya", "name": "Bengkel Jaya"}));
    let hook = "http://127.0.0.1:9/sinar";
    gw.create_craftsman(
        json!({"id": "sinar", "name": "Sinar Metal", "language": "en",
        "channels": [{"type": "webhook", "url": hook, "secret": SECRET}]}),
    );

    // Every craftsman with their channels, and no token or secret.
    let craftsmen = gw.admin_get("/v1/admin/craftsmen");
    let listed: BTreeSet<String> = ids(&craftsmen, "").into_iter().collect();
    assert_eq!(listed, BTreeSet::from(["jaya".into(), "sinar".into()]));
    for craftsman in craftsmen.as_array().unwrap() {
        assert!(craftsman.get("token").is_none(), "{craftsman}");
        let (name, language, channels) = match craftsman["id"].as_str().unwrap() {
            "jaya" => ("Bengkel Jaya", "id", json!([])),
            _ => (
                "Sinar Metal",
                "en",
                json!([{"type": "webhook", "url": hook, "enabled": true}]),
            ),
        };
        assert_eq!(craftsman["name"], name);
        assert_eq!(craftsman["language"], language);
        let shown: Vec<Value> = craftsman["channels"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| json!({"type": c["type"], "url": c["url"], "enabled": c["enabled"]}))
            .collect();
        assert_eq!(Value::Array(shown), channels, "{craftsman}");
        for channel in craftsman["channels"].as_array().unwrap() {
            assert!(channel.get("secret").is_none(), "{channel}");
        }
    }

    // A buyer's routes; a route set again names its new craftsman.
    gw.route("alpha", "PBG-017", "jaya");
    gw.route("alpha", "PBG-018", "jaya");
    gw.route("alpha", "PBG-018", "sinar");
    let routes = gw.admin_get("/v1/admin/buyers/alpha/suppliers");
    let pairs: BTreeSet<(String, String, String)> = routes
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            assert!(r.get("routed_orders").is_none(), "{r}");
            (
                r["buyer"].as_str().unwrap().to_owned(),
                r["supplier_code"].as_str().unwrap().to_owned(),
                r["craftsman"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let expected = [("alpha", "PBG-017", "jaya"), ("alpha", "PBG-018", "sinar")]
        .map(|(b, c, k)| (b.to_owned(), c.to_owned(), k.to_owned()));
    assert_eq!(pairs, BTreeSet::from(expected), "{routes}");
    assert_eq!(gw.admin_get("/v1/admin/buyers/beta/suppliers"), json!([]));
    expect_problem(
        gw.admin(Method::GET, "/v1/admin/buyers/nobody/suppliers", None),
        404,
    );

    // One message, failed and then a normalized one, as the admin reads them.
    let problem = expect_problem(
        gw.post_order(&alpha, "application/json", "{\"buyer_order_number\": "),
        422,
    );
    let failed_id = problem["message_id"].as_str().unwrap();
    let failed = gw.admin_get(&format!("/v1/admin/messages/{failed_id}"));
    assert_eq!(failed["id"], failed_id);
    assert_eq!(failed["buyer_id"], "alpha");
    assert_eq!(failed["status"], "failed");
    assert_eq!(failed["response_status"], 422);
    assert_eq!(failed["order_ids"], json!([]));
    assert_eq!(failed["error"]["plugin_error"], problem["plugin_error"]);
    assert_eq!(failed["attempts_history"], json!([]), "never replayed");

    let (message_id, order_id) = post_to(&gw, &alpha, "PO-ADMIN-1", "PBG-017");
    let normalized = gw.admin_get(&format!("/v1/admin/messages/{message_id}"));
    assert_eq!(normalized["status"], "normalized");
    assert_eq!(normalized["buyer_id"], "alpha");
    assert_eq!(normalized["order_ids"], json!([order_id]));
    assert_eq!(normalized["content_type"], "application/json");
    assert!(normalized.get("body").is_none(), "{normalized}");
    expect_problem(
        gw.admin(Method::GET, "/v1/admin/messages/msg_nothing", None),
        404,
    );
}

/// An order as the test posted it: whose, to whom, and its ids.
struct Posted {
    buyer: &'static str,
    craftsman: Option<&'static str>,
    message_id: String,
    order_id: String,
}

#[test]
fn admin_listings_filter_by_buyer_craftsman_and_order() {
    let receiver = WebhookReceiver::start(SECRET);
    let gw = gateway("1h", None, &[]);
    let keys = [
        (
            "alpha",
            gw.create_buyer("alpha", "canonical-json", json!({})),
        ),
        ("beta", gw.create_buyer("beta", "canonical-json", json!({}))),
    ];
    let webhook =
        |path: &str| json!({"type": "webhook", "url": receiver.url(path), "secret": SECRET});
    gw.create_craftsman(
        json!({"id": "jaya", "name": "Jaya", "channels": [webhook("/jaya-a"), webhook("/jaya-b")]}),
    );
    gw.create_craftsman(json!({"id": "sinar", "name": "Sinar", "channels": [webhook("/sinar")]}));
    gw.route("alpha", "PBG-017", "jaya");
    gw.route("alpha", "PBG-018", "sinar");
    gw.route("beta", "PBG-017", "sinar");

    let plan = [
        ("alpha", "PBG-017", Some("jaya")),
        ("beta", "PBG-017", Some("sinar")),
        ("alpha", "PBG-018", Some("sinar")),
        ("beta", "PBG-099", None),
        ("alpha", "PBG-017", Some("jaya")),
    ];
    let posted: Vec<Posted> = plan
        .iter()
        .enumerate()
        .map(|(n, &(buyer, code, craftsman))| {
            let key = &keys.iter().find(|(b, _)| *b == buyer).unwrap().1;
            let (message_id, order_id) = post_to(&gw, key, &format!("PO-F-{n}"), code);
            Posted {
                buyer,
                craftsman,
                message_id,
                order_id,
            }
        })
        .collect();
    // Newest first: the reverse of the order they were posted in.
    let messages = |keep: &dyn Fn(&Posted) -> bool| -> Vec<String> {
        let kept = posted.iter().rev().filter(|p| keep(p));
        kept.map(|p| p.message_id.clone()).collect()
    };
    let orders = |keep: &dyn Fn(&Posted) -> bool| -> Vec<String> {
        let kept = posted.iter().rev().filter(|p| keep(p));
        kept.map(|p| p.order_id.clone()).collect()
    };

    for buyer in ["alpha", "beta"] {
        assert_eq!(
            ids(
                &gw.admin_get(&format!("/v1/admin/messages?buyer={buyer}")),
                "messages"
            ),
            messages(&|p| p.buyer == buyer),
            "messages?buyer={buyer}"
        );
        assert_eq!(
            ids(
                &gw.admin_get(&format!("/v1/admin/orders?buyer={buyer}")),
                "orders"
            ),
            orders(&|p| p.buyer == buyer),
            "orders?buyer={buyer}"
        );
    }
    for craftsman in ["jaya", "sinar"] {
        let page = gw.admin_get(&format!("/v1/admin/orders?craftsman={craftsman}"));
        assert_eq!(
            ids(&page, "orders"),
            orders(&|p| p.craftsman == Some(craftsman)),
            "orders?craftsman={craftsman}"
        );
    }
    assert_eq!(
        ids(
            &gw.admin_get("/v1/admin/orders?buyer=beta&craftsman=sinar"),
            "orders"
        ),
        orders(&|p| p.buyer == "beta" && p.craftsman == Some("sinar"))
    );
    assert_eq!(
        ids(
            &gw.admin_get("/v1/admin/orders?buyer=beta&status=unrouted"),
            "orders"
        ),
        orders(&|p| p.buyer == "beta" && p.craftsman.is_none())
    );
    for empty in [
        "/v1/admin/orders?buyer=beta&craftsman=jaya",
        "/v1/admin/orders?buyer=nobody",
        "/v1/admin/orders?craftsman=nobody",
        "/v1/admin/messages?buyer=nobody",
        "/v1/admin/deliveries?order=ord_nothing",
    ] {
        let page = gw.admin_get(empty);
        let list = page.as_object().unwrap().values().find(|v| v.is_array());
        assert_eq!(list, Some(&json!([])), "{empty}: {page}");
        assert!(page["next_cursor"].is_null(), "{empty}: {page}");
    }

    // Deliveries of one order: exactly those the receiver got for it (the
    // webhook-id is the delivery id), one per channel of its craftsman.
    let routed: Vec<&Posted> = posted.iter().filter(|p| p.craftsman.is_some()).collect();
    let received = receiver.wait_for(|r| verified_ids(r).len() == 6, WAIT);
    assert_eq!(received.len(), 6, "{received:#?}");
    let everything = gw.admin_get("/v1/admin/deliveries");
    assert_eq!(everything["deliveries"].as_array().unwrap().len(), 6);
    for p in &routed {
        let sent: BTreeSet<String> = received
            .iter()
            .filter(|r| r["body"]["data"]["id"] == p.order_id.as_str())
            .map(|r| r["webhook_id"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(sent.len(), if p.craftsman == Some("jaya") { 2 } else { 1 });
        let page = gw.admin_get(&format!("/v1/admin/deliveries?order={}", p.order_id));
        let listed: BTreeSet<String> = ids(&page, "deliveries").into_iter().collect();
        assert_eq!(listed, sent, "deliveries?order={}: {page:#}", p.order_id);
        for delivery in page["deliveries"].as_array().unwrap() {
            assert_eq!(delivery["order_id"], p.order_id.as_str());
            assert_eq!(delivery["craftsman_id"], p.craftsman.unwrap());
        }
    }
    let unrouted = posted.iter().find(|p| p.craftsman.is_none()).unwrap();
    let page = gw.admin_get(&format!("/v1/admin/deliveries?order={}", unrouted.order_id));
    assert_eq!(page["deliveries"], json!([]), "an unrouted order has none");
}

#[test]
fn the_inbox_pages_through_every_order_newest_first() {
    let gw = Gateway::start();
    let key = gw.create_buyer("alpha", "canonical-json", json!({}));
    let jaya = gw.create_craftsman(json!({"id": "jaya", "name": "Jaya"}));
    let sinar = gw.create_craftsman(json!({"id": "sinar", "name": "Sinar"}));
    gw.route("alpha", "PBG-017", "jaya");
    gw.route("alpha", "PBG-018", "sinar");
    let (mut to_jaya, mut to_sinar) = (Vec::new(), Vec::new());
    for n in 0..7 {
        to_jaya.push(post_to(&gw, &key, &format!("PO-J-{n}"), "PBG-017").1);
        if n % 3 == 0 {
            to_sinar.push(post_to(&gw, &key, &format!("PO-S-{n}"), "PBG-018").1);
        }
    }
    to_jaya.reverse();
    to_sinar.reverse();

    let jaya = jaya["token"].as_str().unwrap();
    let by_three = pages(&gw, jaya, "/v1/inbox?", 3);
    let sizes: Vec<usize> = by_three.iter().map(Vec::len).collect();
    assert_eq!(sizes, [3, 3, 1], "{by_three:?}");
    assert_eq!(by_three.concat(), to_jaya, "each once, newest first");
    // A page exactly as long as the inbox is the last one.
    assert_eq!(pages(&gw, jaya, "/v1/inbox?", 7), [to_jaya.clone()]);

    let sinar = sinar["token"].as_str().unwrap();
    let by_one = pages(&gw, sinar, "/v1/inbox?", 1);
    assert_eq!(by_one.len(), 3);
    assert_eq!(by_one.concat(), to_sinar);
    expect_problem(gw.get(sinar, "/v1/inbox?limit=0"), 400);
}

#[test]
fn retrying_a_pending_delivery_sends_it_now() {
    let receiver = WebhookReceiver::start(SECRET);
    receiver.set_status(500);
    // After a failure the next try is an hour away: only the retry can bring it sooner.
    let gw = gateway("1h,1h", None, &[]);
    let key = gw.create_buyer("mitra-otoparts", "canonical-json", json!({}));
    webhook_craftsman(&gw, &receiver.url("/hook"));
    let order_id = gw.post_canonical_order(&key, "PO-PENDING-1", "PBG-017");

    let order = wait_order(&gw, &order_id, "had its first attempt", |order| {
        order["deliveries"][0]["attempts"] == 1
    });
    let delivery = &order["deliveries"][0];
    assert_eq!(delivery["state"], "pending");
    let next: chrono::DateTime<chrono::Utc> = delivery["next_attempt_at"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        next > chrono::Utc::now() + chrono::Duration::minutes(30),
        "an hour away, less its jitter: {delivery}"
    );

    receiver.set_status(204);
    let id = delivery["id"].as_str().unwrap();
    let retry = format!("/v1/admin/deliveries/{id}/retry");
    let retried = json_of(gw.admin(Method::POST, &retry, None), 202);
    assert_eq!(retried["id"], id);
    assert_eq!(retried["state"], "pending");
    let received = receiver.wait_for(|r| verified_ids(r) == [order_id.clone()], WAIT);
    assert_eq!(received.len(), 2, "the 500, then the retry: {received:#?}");
    assert!(received.iter().all(|r| r["webhook_id"] == id));
    wait_order_status(&gw, &order_id, "delivered");

    let detail = gw.admin_get(&format!("/v1/admin/deliveries/{id}"));
    assert_eq!(detail["state"], "succeeded");
    let log: Vec<(Value, Value)> = detail["attempt_log"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["outcome"].clone(), a["status_code"].clone()))
        .collect();
    assert_eq!(
        log,
        [
            (json!("retry"), json!(500)),
            (json!("succeeded"), json!(204))
        ],
        "{detail:#}"
    );
    // Delivered: nothing left to retry; an unknown delivery is not there.
    expect_problem(gw.admin(Method::POST, &retry, None), 409);
    expect_problem(
        gw.admin(Method::POST, "/v1/admin/deliveries/dlv_nothing/retry", None),
        404,
    );
}

/// The canonical test order, padded with trailing spaces (still the same JSON)
/// to `size` bytes.
fn padded_order(size: usize) -> Vec<u8> {
    let mut body = fixture("tests/fixtures/canonical-every-field.json");
    assert!(body.len() < size);
    body.resize(size, b' ');
    body
}

/// Asserts the post was refused for its size by the buyer's input limit, before
/// the plugin ran, and that the message is kept as failed.
#[track_caller]
fn assert_input_too_large(gw: &Gateway, res: reqwest::blocking::Response, limit: u64) {
    let problem = expect_problem(res, 422);
    let kind = problem["type"].as_str().unwrap();
    assert!(kind.ends_with("/input-too-large"), "{problem}");
    let detail = problem["detail"].as_str().unwrap();
    assert!(
        detail.contains(&format!("input limit of {limit} bytes")),
        "{problem}"
    );
    let message_id = problem["message_id"].as_str().unwrap();
    let message = gw.admin_get(&format!("/v1/admin/messages/{message_id}"));
    assert_eq!(message["status"], "failed", "{message}");
}

#[test]
fn a_buyers_own_input_limit_refuses_a_bigger_body_over_http() {
    let gw = Gateway::start();
    let small = gw.create_buyer_with(json!({"id": "small", "name": "Small",
        "plugin": "canonical-json", "limits": {"input_bytes": 4096}}));
    let roomy = gw.create_buyer("roomy", "canonical-json", json!({}));
    let buyer = gw.admin_get("/v1/admin/buyers/small");
    assert_eq!(buyer["limits"], json!({"input_bytes": 4096}));

    // The headers count too, so the unpadded order (under 2 KB) is well under.
    let over = padded_order(5000);
    assert_input_too_large(
        &gw,
        gw.post_order(&small, "application/json", over.clone()),
        4096,
    );
    json_of(
        gw.post_order(
            &small,
            "application/json",
            fixture("tests/fixtures/canonical-every-field.json"),
        ),
        201,
    );
    // The same body from a buyer with the default limit (10 MiB) is an order.
    json_of(gw.post_order(&roomy, "application/json", over), 201);
}

#[test]
fn patch_renames_a_buyer_and_changes_its_limits_from_its_next_message() {
    let gw = Gateway::start();
    let key = gw.create_buyer("alpha", "canonical-json", json!({}));
    let before = gw.admin_get("/v1/admin/buyers/alpha");

    let path = "/v1/admin/buyers/alpha";
    let patch = |body: Value| json_of(gw.admin(Method::PATCH, path, Some(body)), 200);
    let renamed = patch(json!({"name": "PT Alpha Baru"}));
    assert_eq!(renamed["name"], "PT Alpha Baru");
    let after = gw.admin_get(path);
    assert_eq!(after["name"], "PT Alpha Baru");
    for kept in ["plugin", "plugin_version", "plugin_config", "limits"] {
        assert_eq!(after[kept], before[kept], "{kept}");
    }
    expect_problem(
        gw.admin(Method::PATCH, path, Some(json!({"name": " "}))),
        400,
    );

    let over = padded_order(5000);
    json_of(gw.post_order(&key, "application/json", over.clone()), 201);
    let limited = patch(json!({"limits": {"input_bytes": 4096}}));
    assert_eq!(limited["limits"], json!({"input_bytes": 4096}));
    assert_input_too_large(
        &gw,
        gw.post_order(&key, "application/json", over.clone()),
        4096,
    );
    json_of(
        gw.post_order(
            &key,
            "application/json",
            fixture("tests/fixtures/canonical-every-field.json"),
        ),
        201,
    );
    // Limits the plugin host does not know are refused, and change nothing.
    expect_problem(
        gw.admin(
            Method::PATCH,
            path,
            Some(json!({"limits": {"input_megabytes": 1}})),
        ),
        422,
    );
    assert_eq!(gw.admin_get(path)["limits"], json!({"input_bytes": 4096}));
    // `null` goes back to the gateway's defaults.
    let reset = patch(json!({"limits": null}));
    assert!(reset["limits"].is_null(), "{reset}");
    json_of(gw.post_order(&key, "application/json", over), 201);

    // The memory limit the plugin runs under follows the buyer's limits too.
    let bomb = gw.create_buyer("bomb", "test-hostile", json!({"mode": "memory-bomb"}));
    let memory_problem = || {
        let problem = expect_problem(gw.post_order(&bomb, "application/json", "{}"), 422);
        assert!(
            problem["type"]
                .as_str()
                .unwrap()
                .ends_with("/plugin-memory-limit"),
            "{problem}"
        );
        problem["detail"].as_str().unwrap().to_owned()
    };
    assert!(memory_problem().contains("memory limit of 64 MiB"));
    json_of(
        gw.admin(
            Method::PATCH,
            "/v1/admin/buyers/bomb",
            Some(json!({"limits": {"memory_bytes": 33554432}})),
        ),
        200,
    );
    let detail = memory_problem();
    assert!(detail.contains("memory limit of 32 MiB"), "{detail}");
}
