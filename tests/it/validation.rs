//! Validation at the door (issue 8, item 7): what a request gets wrong is a
//! problem that says so, admin input has ranges, `PATCH` changes only what it
//! names, no control or bidi-override character reaches a person, and UTF-16 XML
//! is read.

use reqwest::Method;
use reqwest::header::HeaderValue;
use serde_json::{Value, json};

use crate::delivery::{SECRET, WAIT, gateway, verified_ids};
use crate::harness::{Gateway, canonical_order, expect_problem, fixture, json_of};
use crate::peers::{SmtpSink, WebhookReceiver};

/// The `Allow` header of a 405 problem, after checking it is one.
#[track_caller]
fn allowed(res: reqwest::blocking::Response) -> String {
    let allow = res
        .headers()
        .get("allow")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let problem = expect_problem(res, 405);
    assert!(
        problem["type"]
            .as_str()
            .unwrap()
            .ends_with("/method-not-allowed"),
        "{problem}"
    );
    allow
}

#[test]
fn a_wrong_method_is_405_with_allow_and_malformed_requests_are_problems() {
    let gw = Gateway::start();
    let request = |method: Method, path: &str| gw.admin_request(method, path).send().unwrap();

    assert_eq!(allowed(request(Method::DELETE, "/v1/orders")), "GET, POST");
    assert_eq!(allowed(request(Method::PUT, "/v1/orders/ord_1")), "GET");
    assert_eq!(
        allowed(request(Method::DELETE, "/v1/admin/buyers/acme")),
        "GET, PATCH"
    );
    assert_eq!(allowed(request(Method::POST, "/v1/openapi.json")), "GET");
    assert_eq!(allowed(request(Method::POST, "/healthz")), "GET");
    // The inbox page's own resources say the same, as problems too.
    assert_eq!(allowed(request(Method::DELETE, "/inbox")), "GET");
    // A path that is not ours is still a 404, whatever the method.
    expect_problem(request(Method::DELETE, "/v1/nothing-here"), 404);
    expect_problem(request(Method::GET, "/v1/orders/a/b"), 404);

    // JSON that is not JSON, and JSON sent as something else.
    let post_buyer = |content_type: &str, body: &str| {
        gw.admin_request(Method::POST, "/v1/admin/buyers")
            .header("content-type", content_type)
            .body(body.to_owned())
            .send()
            .unwrap()
    };
    let problem = expect_problem(post_buyer("application/json", "{\"id\": "), 400);
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("JSON body cannot be read"),
        "{problem}"
    );
    let good = r#"{"id":"acme","name":"ACME","plugin":"ubl-order"}"#;
    let problem = expect_problem(post_buyer("text/plain", good), 415);
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("application/json"),
        "{problem}"
    );
    // A query string that does not parse.
    let problem = expect_problem(request(Method::GET, "/v1/admin/orders?limit=many"), 400);
    assert!(
        problem["detail"].as_str().unwrap().contains("query string"),
        "{problem}"
    );
    // Nothing above created anything.
    expect_problem(request(Method::GET, "/v1/admin/buyers/acme"), 404);
}

#[test]
fn an_idempotency_key_is_1_to_255_visible_ascii_characters() {
    let gw = Gateway::start();
    let key = gw.create_buyer("mitra-otoparts", "canonical-json", json!({}));
    let post = |number: &str, keys: &[HeaderValue]| {
        let mut req = gw
            .client
            .post(gw.url("/v1/orders"))
            .bearer_auth(&key)
            .header("content-type", "application/json")
            .body(canonical_order(number, "PBG-017").to_string());
        for value in keys {
            req = req.header("idempotency-key", value.clone());
        }
        req.send().unwrap()
    };
    let text = |s: &str| HeaderValue::from_str(s).unwrap();

    for (refused, why) in [
        (vec![text("")], "1 to 255"),
        (vec![text(&"k".repeat(256))], "1 to 255"),
        (vec![text(&"k".repeat(40 * 1024))], "1 to 255"),
        (vec![text("two words")], "visible ASCII"),
        (
            vec![HeaderValue::from_bytes(b"kunci-\xc3\xbc").unwrap()],
            "visible ASCII",
        ),
        (vec![text("a"), text("b")], "not several"),
    ] {
        let problem = expect_problem(post("PO-REFUSED", &refused), 400);
        assert!(
            problem["detail"].as_str().unwrap().contains(why),
            "{refused:?}: {problem}"
        );
    }
    // The longest key is taken, and is a key: the retry gets the same message.
    let longest = text(&format!("{}~", "K!".repeat(127)));
    let first = json_of(post("PO-KEYED", std::slice::from_ref(&longest)), 201);
    let again = json_of(post("PO-KEYED", &[longest]), 201);
    assert_eq!(first["message_id"], again["message_id"]);
    let orders = json_of(gw.get(&key, "/v1/orders"), 200);
    let numbers: Vec<&str> = orders["orders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["buyer_order_number"].as_str().unwrap())
        .collect();
    assert_eq!(numbers, ["PO-KEYED"], "nothing refused was stored");
}

#[test]
fn admin_names_and_limits_have_ranges_and_the_problem_names_the_field() {
    let gw = Gateway::start();
    let create = |id: &str, name: &str, limits: Value| {
        gw.admin(
            Method::POST,
            "/v1/admin/buyers",
            Some(json!({"id": id, "name": name, "plugin": "canonical-json", "limits": limits})),
        )
    };
    let tib = 1u64 << 40;
    for (limits, field) in [
        (json!({"memory_bytes": tib}), "limits.memory_bytes"),
        (
            json!({"memory_bytes": 268_435_457u64}),
            "limits.memory_bytes",
        ),
        (json!({"memory_bytes": 1024}), "limits.memory_bytes"),
        (json!({"time": "60min"}), "limits.time"),
        (json!({"time": 60_001}), "limits.time"),
        (json!({"time": "1ms"}), "limits.time"),
        (json!({"input_bytes": 0}), "limits.input_bytes"),
        (json!({"output_bytes": tib}), "limits.output_bytes"),
    ] {
        let problem = expect_problem(create("big", "Big", limits.clone()), 422);
        assert_eq!(problem["field"], field, "{limits}: {problem}");
        assert!(
            problem["type"]
                .as_str()
                .unwrap()
                .ends_with("/invalid-buyer"),
            "{problem}"
        );
    }
    let problem = expect_problem(create("big", &"N".repeat(201), json!({})), 400);
    assert_eq!(problem["field"], "name", "{problem}");
    let problem = expect_problem(create("Big!", "Big", json!({})), 400);
    assert_eq!(problem["field"], "id", "{problem}");
    expect_problem(gw.admin(Method::GET, "/v1/admin/buyers/big", None), 404);

    // The edges are inside.
    let edges = json!({"memory_bytes": 268_435_456u64, "time": "60s",
        "input_bytes": 67_108_864u64, "output_bytes": 1});
    let created = json_of(create("big", &"N".repeat(200), edges.clone()), 201);
    assert_eq!(created["limits"], edges);
    // A PATCH is held to the same ranges, and a refused one changes nothing.
    let problem = expect_problem(
        gw.admin(
            Method::PATCH,
            "/v1/admin/buyers/big",
            Some(json!({"limits": {"time": "61s"}})),
        ),
        422,
    );
    assert_eq!(problem["field"], "limits.time", "{problem}");
    let problem = expect_problem(
        gw.admin(
            Method::PATCH,
            "/v1/admin/buyers/big",
            Some(json!({"name": "M".repeat(201)})),
        ),
        400,
    );
    assert_eq!(problem["field"], "name", "{problem}");
    let kept = gw.admin_get("/v1/admin/buyers/big");
    assert_eq!(kept["limits"], edges);
    assert_eq!(kept["name"], "N".repeat(200));
}

#[test]
fn patch_changes_only_the_fields_and_config_members_it_names() {
    let gw = Gateway::start();
    let key = gw.create_buyer("hostile", "test-hostile", json!({"mode": "ok"}));
    let path = "/v1/admin/buyers/hostile";
    let patch = |body: Value| json_of(gw.admin(Method::PATCH, path, Some(body)), 200);
    let accepted = |number: &str| {
        let body = json!({"buyer_order_number": number}).to_string();
        json_of(gw.post_order(&key, "application/json", body), 201)
    };
    accepted("PO-BEFORE");

    // What the author's guide shows: `{}` keeps the config the plugin needs.
    let same = patch(json!({"plugin_config": {}}));
    assert_eq!(same["plugin_config"], json!({"mode": "ok"}));
    assert_eq!(gw.admin_get(path)["plugin_config"], json!({"mode": "ok"}));
    accepted("PO-AFTER-EMPTY-PATCH");

    // Members merge (RFC 7396): set, nested, removed with null.
    patch(json!({"plugin_config": {"extra": {"a": 1, "b": 2}, "gone": true}}));
    let merged = patch(json!({"plugin_config": {"extra": {"b": 3}, "gone": null}}));
    assert_eq!(
        merged["plugin_config"],
        json!({"mode": "ok", "extra": {"a": 1, "b": 3}})
    );
    // Limits merge the same way; a rename touches neither.
    patch(json!({"limits": {"time": "5s"}}));
    let renamed = patch(json!({"name": "Hostile Ltd", "limits": {"input_bytes": 4096}}));
    assert_eq!(
        renamed["limits"],
        json!({"time": "5s", "input_bytes": 4096})
    );
    assert_eq!(renamed["plugin_config"], merged["plugin_config"]);
    // `null` starts afresh.
    let emptied = patch(json!({"plugin_config": null, "limits": null}));
    assert_eq!(emptied["plugin_config"], json!({}));
    assert!(emptied["limits"].is_null(), "{emptied}");
}

#[test]
fn nul_and_bidi_override_characters_never_reach_a_person_but_data_keeps_them() {
    let receiver = WebhookReceiver::start(SECRET);
    let sink = SmtpSink::start();
    let config = format!(
        "[delivery.email]\nhost = \"127.0.0.1\"\nport = {}\ntls = \"none\"\nfrom = \"jembatan <orders@jembatan.test>\"\n",
        sink.port()
    );
    let gw = gateway("200ms,200ms", Some(config), &[]);
    let key = gw.create_buyer("mitra-otoparts", "canonical-json", json!({}));
    let jaya = gw.create_craftsman(json!({"id": "jaya", "name": "Jaya", "channels": [
        {"type": "webhook", "url": receiver.url("/orders"), "secret": SECRET},
        {"type": "email", "to": "jaya@bengkel.test"}]}));
    gw.route("mitra-otoparts", "PBG-017", "jaya");

    // A description that would read "Knalpot gpj.exe" with the override obeyed.
    let sneaky = "Knalpot\u{0}\u{1b}[2J \u{202E}exe.jpg\u{2066}";
    let mut order = canonical_order("PO-\u{202E}1", "PBG-017");
    order["lines"][0]["description"] = json!(sneaky);
    order["notes"] = json!([format!("catatan\u{0}\u{2069}\tbaris")]);
    let accepted = json_of(
        gw.post_order(&key, "application/json", order.to_string()),
        201,
    );
    let order_id = accepted["orders"][0]["id"].as_str().unwrap().to_owned();

    let unfit = |text: &str| {
        text.chars().find(|&c| {
            (c.is_control() && c != '\t' && c != '\n' && c != '\r')
                || ('\u{202A}'..='\u{202E}').contains(&c)
                || ('\u{2066}'..='\u{2069}').contains(&c)
        })
    };
    // The inbox page.
    let page = gw
        .client
        .get(gw.url(&format!("/inbox/{order_id}")))
        .bearer_auth(jaya["token"].as_str().unwrap())
        .send()
        .unwrap();
    assert_eq!(page.status(), 200);
    let page = page.text().unwrap();
    assert!(page.contains("Knalpot [2J exe.jpg"), "{page}");
    assert_eq!(unfit(&page), None, "{page:?}");

    // The e-mail: subject, text and HTML.
    let mails = sink.wait_for(|m| !m.is_empty(), WAIT);
    for part in ["subject", "text", "html"] {
        let text = mails[0][part].as_str().unwrap();
        assert_eq!(unfit(text), None, "{part}: {text:?}");
    }
    let text = mails[0]["text"].as_str().unwrap();
    assert!(text.contains("Knalpot [2J exe.jpg"), "{text}");
    assert!(text.contains("catatan\tbaris"), "{text}");
    assert!(mails[0]["subject"].as_str().unwrap().contains("PO-1"));

    // The webhook carries data for programs: the buyer's text as it came.
    let received = receiver.wait_for(|r| !verified_ids(r).is_empty(), WAIT);
    let data = &received[0]["body"]["data"];
    assert_eq!(data["order"]["lines"][0]["item"]["description"], sneaky);
    assert_eq!(data["buyer_order_number"], "PO-\u{202E}1");
}

#[test]
fn utf16_ubl_orders_are_read_like_their_utf8_original() {
    let gw = Gateway::start();
    let utf8 = String::from_utf8(fixture("tests/fixtures/ubl-every-field.xml")).unwrap();
    let declared = utf8.replacen("encoding=\"UTF-8\"", "encoding=\"UTF-16\"", 1);
    assert_ne!(declared, utf8, "the fixture declares its encoding");
    let encode = |little_endian: bool| -> Vec<u8> {
        std::iter::once(0xFEFF)
            .chain(declared.encode_utf16())
            .flat_map(|u: u16| {
                if little_endian {
                    u.to_le_bytes()
                } else {
                    u.to_be_bytes()
                }
            })
            .collect()
    };
    let order_of = |buyer: &str, body: Vec<u8>| -> Value {
        let key = gw.create_buyer(buyer, "ubl-order", json!({}));
        let accepted = json_of(gw.post_order(&key, "application/xml", body), 201);
        let id = accepted["orders"][0]["id"].as_str().unwrap().to_owned();
        json_of(gw.get(&key, &format!("/v1/orders/{id}?schema=v1")), 200)["order"].clone()
    };
    let original = order_of("utf8", utf8.clone().into_bytes());
    assert_eq!(order_of("utf16le", encode(true)), original);
    assert_eq!(order_of("utf16be", encode(false)), original);

    // UTF-16 cut mid-character is malformed XML, not a crash or a guess.
    let key = gw.create_buyer("broken", "ubl-order", json!({}));
    let mut cut = encode(true);
    cut.pop();
    let problem = expect_problem(gw.post_order(&key, "application/xml", cut), 422);
    assert_eq!(
        problem["plugin_error"]["code"], "malformed-xml",
        "{problem}"
    );
}

/// A config the plugin cannot use is refused when it is bound (issue 8), by the
/// plugin itself (its `check-config`), naming the key; not accepted and then
/// failing every message.
#[test]
fn a_plugin_config_the_plugin_cannot_use_is_refused_when_bound() {
    let gw = Gateway::start();
    let bad_unit = json!({"id": "edi-buyer", "name": "EDI buyer", "plugin": "x12-850",
                          "plugin_config": {"unit_map": {"KG": "NOT-A-UNIT"}}});
    let problem = expect_problem(
        gw.admin(Method::POST, "/v1/admin/buyers", Some(bad_unit)),
        422,
    );
    assert_eq!(problem["field"], "plugin_config.unit_map.KG", "{problem}");
    assert!(
        problem["detail"].as_str().unwrap().contains("NOT-A-UNIT"),
        "{problem}"
    );
    // A key the plugin does not know is refused too.
    let unknown = json!({"id": "edi-buyer", "name": "EDI buyer", "plugin": "x12-850",
                         "plugin_config": {"suplier_code": "X"}});
    let problem = expect_problem(
        gw.admin(Method::POST, "/v1/admin/buyers", Some(unknown)),
        422,
    );
    assert!(
        problem["detail"].as_str().unwrap().contains("suplier_code"),
        "{problem}"
    );

    // A good one is taken; a PATCH that would break it is refused and changes nothing.
    let key = gw.create_buyer("edi-buyer", "x12-850", json!({"supplier_code": "CRAFT-1"}));
    let problem = expect_problem(
        gw.admin(
            Method::PATCH,
            "/v1/admin/buyers/edi-buyer",
            Some(json!({"plugin_config": {"default_currency": "rupiah"}})),
        ),
        422,
    );
    assert_eq!(
        problem["field"], "plugin_config.default_currency",
        "{problem}"
    );
    let buyer = gw.admin_get("/v1/admin/buyers/edi-buyer");
    assert_eq!(buyer["plugin_config"], json!({"supplier_code": "CRAFT-1"}));
    // Rebinding to another plugin checks the config against that plugin.
    let problem = expect_problem(
        gw.admin(
            Method::PATCH,
            "/v1/admin/buyers/edi-buyer",
            Some(json!({"plugin": "canonical-json"})),
        ),
        422,
    );
    assert_eq!(problem["field"], "plugin_config", "{problem}");
    assert!(!key.is_empty());
}
