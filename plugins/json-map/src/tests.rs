use jembatan_plugin_sdk::testing::{self, assert_schema_valid, outcomes};
use jembatan_plugin_sdk::{Decimal, NaiveDate, Plugin, PluginError, PurchaseOrder};
use serde_json::Value;

use crate::JsonMap;

const TWO: &[u8] = include_bytes!("../fixtures/json-two-orders.json");
const TWO_CONFIG: &str = include_str!("../fixtures/json-two-orders.config.json");
const MINIMAL: &[u8] = include_bytes!("../fixtures/json-minimal.json");
const MINIMAL_CONFIG: &str = include_str!("../fixtures/json-minimal.config.json");
const EDGE: &[u8] = include_bytes!("../fixtures/json-edge.json");
const EDGE_CONFIG: &str = include_str!("../fixtures/json-edge.config.json");

/// The orders as the host receives them; every transaction must be one.
fn json(body: &[u8], config: &str) -> Vec<String> {
    testing::orders_json::<JsonMap>(body, config)
}

fn orders(body: &[u8], config: &str) -> Vec<PurchaseOrder> {
    let out = json(body, config);
    assert_schema_valid(&out);
    out.iter()
        .map(|o| serde_json::from_str(o).unwrap())
        .collect()
}

/// The error the whole message is refused with: code, path and message.
fn error(body: &[u8], config: &str) -> (String, String, String) {
    parts(testing::error::<JsonMap>(body, config))
}

/// The same of the first refused order.
fn refused(body: &[u8], config: &str) -> (String, String, String) {
    parts(testing::refused::<JsonMap>(body, config))
}

fn parts(err: PluginError) -> (String, String, String) {
    let path = err
        .location
        .as_ref()
        .and_then(|l| l.path.clone())
        .unwrap_or_default();
    (err.code, path, err.message)
}

#[test]
fn two_orders_map_every_field() {
    let out = json(TWO, TWO_CONFIG);
    assert_schema_valid(&out);
    let actual: Vec<Value> = out
        .iter()
        .map(|o| serde_json::from_str(o).unwrap())
        .collect();
    // Written from the JSON and its config: dd/mm/yyyy dates, Indonesian decimals
    // in strings ("Rp 87.500,50", "12,5"), JSON numbers taken exactly, units through
    // the table (PSG → PR) or already Rec 20 (SET, MTR), notes from an array and
    // from a string, the second order's null currency falling back to its default.
    // The v2 expectation is the v1 one (`.expected.json`) moved field by field as
    // docs/canonical-order-v2.md §3 says.
    let expected: Value = serde_json::from_slice(include_bytes!(
        "../fixtures/json-two-orders.expected.v2.json"
    ))
    .unwrap();
    assert_eq!(Value::Array(actual), expected);
}

#[test]
fn minimal_order_with_json_pointers() {
    let [order] = &orders(MINIMAL, MINIMAL_CONFIG)[..] else {
        panic!("one order")
    };
    assert_eq!(order.buyer_order_number, "PO-77");
    assert_eq!(
        order.issue_date,
        NaiveDate::from_ymd_opt(2026, 11, 5).unwrap()
    );
    assert_eq!(
        (
            order.currency.as_str(),
            order.delivery.as_ref(),
            order.totals.as_ref()
        ),
        ("IDR", None, None)
    );
    let line = &order.lines[0];
    assert_eq!(
        (line.line_number.as_str(), line.unit.as_str()),
        ("1", "H87")
    );
    assert_eq!(line.quantity, Decimal::from(10));

    // buyer.name is optional: without a buyer the gateway takes it from the
    // buyer's registration.
    let config = MINIMAL_CONFIG.replace(r#""buyer.name": "/buyer","#, "");
    let out = json(MINIMAL, &config);
    assert_schema_valid(&out);
    assert_eq!(orders(MINIMAL, &config)[0].buyer, None);
    // A buyer's contact with no name or id cannot be kept without a party.
    let config = MINIMAL_CONFIG.replace(
        r#""buyer.name": "/buyer","#,
        r#""buyer.contact.name": "/buyer","#,
    );
    let (code, path, message) = refused(MINIMAL, &config);
    assert_eq!((code.as_str(), path.as_str()), ("missing-field", ""));
    assert!(message.contains("buyer.name"), "{message}");
}

#[test]
fn root_array_constants_defaults_and_exact_numbers() {
    let orders = orders(EDGE, EDGE_CONFIG);
    assert_eq!(orders.len(), 2, "a root array is several orders");
    let first = &orders[0];
    assert_eq!(
        first.buyer_order_number, "880123",
        "a number's text as written"
    );
    assert_eq!(
        first.issue_date,
        NaiveDate::from_ymd_opt(2026, 11, 4).unwrap()
    );
    let buyer = first.buyer.as_ref().unwrap();
    assert_eq!(
        buyer.name.as_deref(),
        Some("Bengkel \"Roda Mas\" Purbalingga"),
        "escapes, trimmed"
    );
    assert_eq!(buyer.ids[0].value, "RODA-MAS", "null → default");
    assert!(first.notes.is_empty(), "a blank string is absent");
    let region = first
        .delivery
        .as_ref()
        .and_then(|d| d.location.as_ref())
        .and_then(|l| l.address.as_ref())
        .and_then(|a| a.region.as_deref());
    assert_eq!(region, Some("Jawa Tengah"), "const");
    let [klem, pelat] = &first.lines[..] else {
        panic!("two lines")
    };
    assert_eq!(
        klem.item.description.as_deref(),
        Some("Klem knalpot édition spéciale")
    );
    assert_eq!(
        (klem.quantity, klem.unit.as_str()),
        (Decimal::from(15), "DZN")
    );
    assert_eq!(
        klem.price.as_ref().map(|p| (p.amount, p.base_quantity)),
        Some((Decimal::from(25000), Decimal::ONE))
    );
    assert_eq!(
        (pelat.quantity.to_string().as_str(), pelat.unit.as_str()),
        ("0.75", "KGM")
    );
    assert_eq!(orders[1].lines[0].unit, "PR");
}

#[test]
fn input_errors_name_the_json_pointer() {
    let (code, path, message) =
        refused(include_bytes!("../fixtures/json-bad-date.json"), TWO_CONFIG);
    assert_eq!(
        (code.as_str(), path.as_str()),
        ("invalid-value", "/purchase_orders/0/header/po_date")
    );
    assert!(message.contains("%d/%m/%Y"), "{message}");
    let (code, path, _) = refused(
        include_bytes!("../fixtures/json-bad-decimal.json"),
        TWO_CONFIG,
    );
    assert_eq!(
        (code.as_str(), path.as_str()),
        ("invalid-value", "/purchase_orders/0/barang/2/harga")
    );
    let err = testing::error::<JsonMap>(
        include_bytes!("../fixtures/json-truncated.json"),
        TWO_CONFIG,
    );
    assert_eq!(err.code, "malformed-json");
    assert!(err.location.unwrap().line.is_some());

    let text = std::str::from_utf8(MINIMAL).unwrap();
    for (from, to, code, path) in [
        (
            r#""qty": 10"#,
            r#""qty": -1"#,
            "invalid-value",
            "/lines/0/qty",
        ),
        (
            r#""qty": 10"#,
            r#""qty": true"#,
            "invalid-value",
            "/lines/0/qty",
        ),
        (
            r#""qty": 10"#,
            r#""qty": null"#,
            "missing-field",
            "/lines/0/qty",
        ),
        (r#""po": "PO-77", "#, "", "missing-field", "/po"),
        (r#""po": "PO-77""#, r#""po": "  ""#, "missing-field", "/po"),
        (r#""sku": "KNL-SPX-125", "#, "", "missing-field", "/lines/0"),
        (
            r#"[{"sku": "KNL-SPX-125", "qty": 10}]"#,
            r#"{"x": 1}"#,
            "invalid-value",
            "/lines",
        ),
        (
            r#"[{"sku": "KNL-SPX-125", "qty": 10}]"#,
            "[]",
            "missing-field",
            "/lines",
        ),
        (
            r#""date": "2026-11-05""#,
            r#""date": "05-11-2026""#,
            "invalid-value",
            "/date",
        ),
    ] {
        assert!(text.contains(from), "{from}");
        let body = text.replacen(from, to, 1);
        let (got_code, got_path, message) = refused(body.as_bytes(), MINIMAL_CONFIG);
        assert_eq!(
            (got_code.as_str(), got_path.as_str()),
            (code, path),
            "{to}: {message}"
        );
    }
    assert_eq!(error(b"", MINIMAL_CONFIG).0, "empty-body");
    assert_eq!(error(b"<Order/>", MINIMAL_CONFIG).0, "malformed-json");
    assert_eq!(
        error(b"\"just a string\"", MINIMAL_CONFIG).0,
        "invalid-value"
    );
}

#[test]
fn one_order_that_cannot_be_mapped_is_refused_alone() {
    let out =
        testing::json::<JsonMap>(include_bytes!("../fixtures/json-bad-date.json"), TWO_CONFIG)
            .unwrap();
    assert_eq!(
        outcomes(&out),
        [
            "0 - refused invalid-value at /purchase_orders/0/header/po_date",
            "1 - order MJ/PO/2026/11/0458"
        ]
    );
    // Each transaction is located at its element of the orders array.
    let location = out.transactions[1].id.location.as_ref().unwrap();
    assert_eq!(location.path.as_deref(), Some("/purchase_orders/1"));
    let body = include_bytes!("../fixtures/json-bad-date.json");
    assert_eq!(body[location.offset.unwrap() as usize], b'{');
    // A single order is one transaction at index 0, refused or not.
    let single = testing::json::<JsonMap>(MINIMAL, MINIMAL_CONFIG).unwrap();
    assert_eq!(outcomes(&single), ["0 - order PO-77"]);
}

#[test]
fn config_errors_name_the_key() {
    let base: Value = serde_json::from_str(MINIMAL_CONFIG).unwrap();
    let cases: &[(&str, Value, &str)] = &[
        (
            "/fields/buyer_order_number",
            Value::Null,
            "fields.buyer_order_number",
        ),
        ("/fields/qty", "/qty".into(), "fields.qty"),
        (
            "/lines/fields/quantity",
            "qty".into(),
            "lines.fields.quantity",
        ),
        (
            "/lines/fields/unit",
            serde_json::json!({"path": "/u", "const": "H87"}),
            "lines.fields.unit",
        ),
        (
            "/lines/fields/unit",
            serde_json::json!({"const": "pieces"}),
            "lines.fields.unit.const",
        ),
        (
            "/fields/issue_date",
            serde_json::json!({"path": "/date", "date_format": "%d/%m"}),
            "fields.issue_date.date_format",
        ),
        (
            "/fields/currency",
            serde_json::json!({"path": "/c", "default": "Rp"}),
            "fields.currency.default",
        ),
        (
            "/decimal_format",
            serde_json::json!({"thousands": ".", "decimal": "."}),
            "decimal_format",
        ),
        (
            "/decimal_format",
            serde_json::json!({"decimal": ",,"}),
            "decimal_format.decimal",
        ),
        ("/units", serde_json::json!({"PCS": "pieces"}), "units.PCS"),
        ("/orders", "$.orders[*].x".into(), "orders"),
        ("/lines/path", Value::Null, "lines.path"),
        ("/colour", "x".into(), "colour"),
    ];
    for (pointer, value, key) in cases {
        let mut config = base.clone();
        let (parent, name) = pointer.rsplit_once('/').unwrap();
        let target = config.pointer_mut(parent).unwrap().as_object_mut().unwrap();
        if value.is_null() {
            target.remove(name);
        } else {
            target.insert(name.to_owned(), value.clone());
        }
        let (code, _, message) = error(MINIMAL, &config.to_string());
        assert_eq!(code, "invalid-config", "{pointer}");
        assert!(
            message.starts_with(&format!("{key}:")),
            "{pointer}: {message}"
        );
    }
    assert_eq!(
        error(MINIMAL, "").0,
        "invalid-config",
        "fields are required"
    );
    assert_eq!(error(MINIMAL, "[1]").0, "invalid-config");
}

#[test]
fn info_names_the_content_type() {
    let info = JsonMap::info();
    assert_eq!(
        (info.name, info.content_types),
        ("json-map", &["application/json"][..])
    );
}

/// Nothing a buyer sent is dropped silently: a member the config maps to no field
/// is kept as an extension with its JSON pointer and its text as written, at the
/// order or at its line.
#[test]
fn members_the_config_does_not_map_are_kept_as_extensions() {
    let body = br#"{"po": "PO-78", "date": "2026-11-05", "buyer": "CV Maju Motor",
        "supplier": "PBG-01", "gudang": {"catatan": "Bongkar pagi", "dok": 3},
        "urgent": true,
        "lines": [{"sku": "KNL-SPX-125", "qty": 10, "warna": "hitam", "ukuran": [32, 38]}]}"#;
    let [order] = &orders(body, MINIMAL_CONFIG)[..] else {
        panic!("one order")
    };
    let kept = |extensions: &[jembatan_plugin_sdk::Extension]| -> Vec<(String, String)> {
        extensions
            .iter()
            .map(|e| {
                assert_eq!(e.namespace, "json");
                (e.path.clone(), e.value.clone())
            })
            .collect()
    };
    assert_eq!(
        kept(&order.extensions),
        [
            ("/gudang/catatan".to_owned(), "Bongkar pagi".to_owned()),
            ("/gudang/dok".to_owned(), "3".to_owned()),
            ("/urgent".to_owned(), "true".to_owned()),
        ]
    );
    assert_eq!(
        kept(&order.lines[0].extensions),
        [
            ("/lines/0/warna".to_owned(), "hitam".to_owned()),
            ("/lines/0/ukuran/0".to_owned(), "32".to_owned()),
            ("/lines/0/ukuran/1".to_owned(), "38".to_owned()),
        ]
    );
    // What the config maps is not repeated as an extension.
    assert!(orders(MINIMAL, MINIMAL_CONFIG)[0].extensions.is_empty());
}
