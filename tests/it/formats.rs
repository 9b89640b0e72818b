//! Every stock plugin (and the worked-example buyer plugin) end to end through the
//! real server: several documents per format are posted by a buyer bound to the
//! plugin, and the orders read back equal the hand-checked expectations beside the
//! fixtures; wrong documents get a 422 whose error says what and where.

use serde_json::{Value, json};

use crate::harness::{Gateway, as_written_by_plugin, expect_problem, fixture, json_of};

/// A buyer of one format: its plugin, config, content type and fixture directory.
struct Format {
    plugin: &'static str,
    config: &'static str,
    content_type: &'static str,
    dir: &'static str,
    /// Documents that must be accepted, with the expectations when there are some.
    good: &'static [(&'static str, Option<&'static str>)],
    /// Wrong documents and the plugin error code each must give.
    wrong: &'static [(&'static str, &'static str)],
}

const FORMATS: &[Format] = &[
    Format {
        plugin: "ubl-order",
        config: "{}",
        content_type: "application/xml",
        dir: "plugins/ubl-order/fixtures",
        good: &[
            ("ubl-10-lines.xml", Some("ubl-10-lines.expected.v2.json")),
            ("ubl-minimal.xml", None),
            ("ubl-other-prefixes.xml", None),
            (
                "peppol-bis3-order.xml",
                Some("peppol-bis3-order.expected.v2.json"),
            ),
        ],
        wrong: &[
            ("ubl-truncated.xml", "malformed-xml"),
            ("ubl-malformed.xml", "malformed-xml"),
            ("ubl-invalid-quantity.xml", "invalid-value"),
            ("cxml-order-request.xml", "not-an-order"),
        ],
    },
    Format {
        plugin: "cxml-order",
        // The buyer's config says which credential is the supplier's and which
        // Extrinsic states line totals.
        config: r#"{"line_total_extrinsic":"LineTotal","supplier_domain":"SupplierID","buyer_name":"CV Maju Motor"}"#,
        content_type: "text/xml",
        dir: "plugins/cxml-order/fixtures",
        good: &[
            ("cxml-10-lines.xml", Some("cxml-10-lines.expected.v2.json")),
            ("cxml-minimal.xml", None),
            ("cxml-prefixed.xml", None),
        ],
        wrong: &[
            ("cxml-ubl-order.xml", "not-an-order"),
            ("cxml-truncated.xml", "malformed-xml"),
            ("cxml-bad-date.xml", "invalid-value"),
        ],
    },
    Format {
        plugin: "x12-850",
        config: "{}",
        content_type: "application/edi-x12",
        dir: "plugins/x12-850/fixtures",
        good: &[
            (
                "x12-4010-10-lines.edi",
                Some("x12-4010-10-lines.expected.v2.json"),
            ),
            (
                "x12-5010-two-orders.edi",
                Some("x12-5010-two-orders.expected.v2.json"),
            ),
            ("x12-minimal.edi", None),
        ],
        wrong: &[
            ("x12-truncated.edi", "truncated"),
            ("x12-order.xml", "not-x12"),
        ],
    },
    Format {
        plugin: "edifact-orders",
        config: r#"{"unit_map": {"Btl": "BO"}}"#,
        content_type: "application/edifact",
        dir: "plugins/edifact-orders/fixtures",
        good: &[
            (
                "edifact-d96a-10-lines.edi",
                Some("edifact-d96a-10-lines.expected.v2.json"),
            ),
            (
                "edifact-d01b-two-messages.edi",
                Some("edifact-d01b-two-messages.expected.v2.json"),
            ),
            ("edifact-una-comma.edi", None),
        ],
        wrong: &[
            ("edifact-truncated.edi", "truncated"),
            ("edifact-order.xml", "not-edifact"),
        ],
    },
    Format {
        plugin: "canonical-json",
        config: "{}",
        content_type: "application/json",
        dir: "plugins/canonical-json/fixtures",
        good: &[
            ("full.json", Some("full.expected.v2.json")),
            ("minimal.json", None),
            ("array.json", None),
        ],
        wrong: &[
            ("invalid-syntax.json", "malformed-json"),
            ("invalid-unknown-field.json", "invalid-order"),
            ("invalid-number-quantity.json", "invalid-order"),
        ],
    },
];

fn read_json(path: &str) -> Value {
    serde_json::from_slice(&fixture(path)).unwrap()
}

/// Posts a good document; returns the orders as read back one by one.
fn post_and_read(gw: &Gateway, key: &str, content_type: &str, path: &str) -> Vec<Value> {
    let accepted = json_of(gw.post_order(key, content_type, fixture(path)), 201);
    accepted["orders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            let id = o["id"].as_str().unwrap();
            as_written_by_plugin(
                json_of(gw.get(key, &format!("/v1/orders/{id}")), 200)["order"].clone(),
            )
        })
        .collect()
}

fn check_format(gw: &Gateway, format: &Format, key: &str) {
    for (doc, expected) in format.good {
        let path = format!("{}/{doc}", format.dir);
        let orders = post_and_read(gw, key, format.content_type, &path);
        assert!(!orders.is_empty(), "{path}");
        if let Some(expected) = expected {
            let expected = match read_json(&format!("{}/{expected}", format.dir)) {
                Value::Array(orders) => orders,
                one => vec![one],
            };
            assert_eq!(orders, expected, "{path}");
        }
    }
    for (doc, code) in format.wrong {
        let path = format!("{}/{doc}", format.dir);
        let problem = expect_problem(gw.post_order(key, format.content_type, fixture(&path)), 422);
        let error = &problem["plugin_error"];
        assert_eq!(error["code"], *code, "{path}: {problem}");
        let location = &error["location"];
        assert!(
            location["line"].is_number()
                || location["path"].is_string()
                || location["offset"].is_number(),
            "{path}: the error does not say where: {problem}"
        );
    }
}

/// Envelope counts and control numbers that disagree with what they count: read
/// past (real partners send such interchanges, and the orders in them are whole),
/// unless the buyer's config asks for strict mode, which refuses them, saying where.
#[test]
fn envelope_disagreements_are_read_past_unless_the_buyer_is_strict() {
    let gw = Gateway::start();
    for (plugin, content_type, document, code) in [
        (
            "x12-850",
            "application/edi-x12",
            "plugins/x12-850/fixtures/x12-bad-segment-count.edi",
            "bad-segment-count",
        ),
        (
            "x12-850",
            "application/edi-x12",
            "plugins/x12-850/fixtures/x12-control-mismatch.edi",
            "control-number-mismatch",
        ),
        (
            "edifact-orders",
            "application/edifact",
            "plugins/edifact-orders/fixtures/edifact-bad-segment-count.edi",
            "bad-segment-count",
        ),
    ] {
        let tolerant = gw.create_buyer(&format!("tolerant-{plugin}-{code}"), plugin, json!({}));
        let accepted = json_of(
            gw.post_order(&tolerant, content_type, fixture(document)),
            201,
        );
        assert!(
            !accepted["orders"].as_array().unwrap().is_empty(),
            "{document}: {accepted}"
        );
        let strict = gw.create_buyer(
            &format!("strict-{plugin}-{code}"),
            plugin,
            json!({"strict": true}),
        );
        // Strict refuses what the disagreement is about (its transaction, or every
        // order of its envelope), never the siblings elsewhere in the body.
        let res = gw.post_order(&strict, content_type, fixture(document));
        let status = res.status().as_u16();
        let answer: Value = res.json().unwrap();
        assert!(matches!(status, 201 | 422), "{document}: {status} {answer}");
        let refused = answer["refused"].as_array().unwrap();
        let refusal = refused
            .iter()
            .find(|t| t["error"]["code"] == code)
            .unwrap_or_else(|| panic!("{document}: no {code} refusal in {answer}"));
        assert!(
            refusal["error"]["location"]["path"].is_string(),
            "{document}: {answer}"
        );
        let strict_orders = answer["orders"].as_array().map_or(0, Vec::len);
        assert!(
            strict_orders < accepted["orders"].as_array().unwrap().len(),
            "{document}: strict took {strict_orders} orders: {answer}"
        );
    }
}

#[test]
fn every_stock_format_is_normalized_end_to_end() {
    let gw = Gateway::start();
    for format in FORMATS {
        let config: Value = serde_json::from_str(format.config).unwrap();
        let key = gw.create_buyer(&format!("buyer-{}", format.plugin), format.plugin, config);
        check_format(&gw, format, &key);
    }
}

#[test]
fn json_map_and_the_custom_buyer_plugin_work_from_their_configs() {
    let gw = Gateway::start();
    let json_map = "plugins/json-map/fixtures";
    for (doc, expected) in [
        ("json-two-orders", true),
        ("json-minimal", false),
        ("json-edge", false),
    ] {
        let config = read_json(&format!("{json_map}/{doc}.config.json"));
        let key = gw.create_buyer(&format!("map-{doc}"), "json-map", config);
        let orders = post_and_read(
            &gw,
            &key,
            "application/json",
            &format!("{json_map}/{doc}.json"),
        );
        if expected {
            let expected = read_json(&format!("{json_map}/{doc}.expected.v2.json"));
            assert_eq!(Value::Array(orders), expected, "{doc}");
        }
        let problem = expect_problem(
            gw.post_order(
                &key,
                "application/json",
                fixture(&format!("{json_map}/json-truncated.json")),
            ),
            422,
        );
        assert!(
            problem["plugin_error"]["location"]["line"].is_number(),
            "{problem}"
        );
    }

    let mitra = "plugins/buyer-mitra-otoparts";
    let key = gw.create_buyer(
        "mitra",
        "buyer-mitra-otoparts",
        read_json(&format!("{mitra}/config.example.json")),
    );
    let orders = post_and_read(
        &gw,
        &key,
        "application/xml",
        &format!("{mitra}/fixtures/mitra-10-lines.xml"),
    );
    let expected = match read_json(&format!("{mitra}/fixtures/mitra-10-lines.expected.v2.json")) {
        Value::Array(orders) => orders,
        one => vec![one],
    };
    assert_eq!(orders, expected);
    for doc in ["mitra-minimal.xml", "mitra-edge.xml"] {
        json_of(
            gw.post_order(
                &key,
                "application/xml",
                fixture(&format!("{mitra}/fixtures/{doc}")),
            ),
            201,
        );
    }
    for doc in [
        "mitra-bad-price.xml",
        "mitra-bad-date.xml",
        "mitra-truncated.xml",
    ] {
        let problem = expect_problem(
            gw.post_order(
                &key,
                "application/xml",
                fixture(&format!("{mitra}/fixtures/{doc}")),
            ),
            422,
        );
        assert!(
            problem["plugin_error"]["code"].is_string(),
            "{doc}: {problem}"
        );
    }
    // A cXML sent to this buyer is refused as what it is.
    let problem = expect_problem(
        gw.post_order(
            &key,
            "application/xml",
            fixture("plugins/cxml-order/fixtures/cxml-10-lines.xml"),
        ),
        422,
    );
    assert_eq!(problem["plugin_error"]["code"], "not-an-order", "{problem}");
}
