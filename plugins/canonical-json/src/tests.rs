use jembatan_plugin_sdk::testing::{self, assert_schema_valid, outcomes};
use jembatan_plugin_sdk::{Decimal, Message, NaiveDate, Plugin, PluginError};

use crate::CanonicalJson;

/// The orders as the host receives them; every transaction must be one.
fn run(body: &[u8], config: &str) -> Vec<String> {
    testing::orders_json::<CanonicalJson>(body, config)
}

/// The error the whole message is refused with.
fn run_err(body: &[u8]) -> PluginError {
    testing::error::<CanonicalJson>(body, "{}")
}

/// The refusal of the body's (first refused) order.
fn refused(body: &[u8]) -> PluginError {
    testing::refused::<CanonicalJson>(body, "{}")
}

fn path(err: &PluginError) -> Option<&str> {
    err.location.as_ref()?.path.as_deref()
}

fn line_column(err: &PluginError) -> (Option<u32>, Option<u32>) {
    let location = err.location.as_ref().expect("location");
    (location.line, location.column)
}

#[test]
fn full_v1_order_is_upgraded_losing_nothing() {
    let body = include_bytes!("../fixtures/full.json");
    let out = run(body, "{}");
    assert_eq!(out.len(), 1);
    assert_schema_valid(&out);
    // Every field of the v1 schema is in the fixture; the expectation moves each
    // where docs/canonical-order-v2.md §3 says, so equality proves none is lost
    // and no decimal changes its scale ("385000.00" stays "385000.00").
    let expected: serde_json::Value =
        serde_json::from_slice(include_bytes!("../fixtures/full.expected.v2.json")).unwrap();
    let actual: serde_json::Value = serde_json::from_str(&out[0]).unwrap();
    assert_eq!(actual, expected);

    let normalized =
        CanonicalJson::normalize(&Message::new("application/json", &body[..]), "").unwrap();
    let order = normalized.orders().next().unwrap();
    assert_eq!(order.buyer_order_number, "PO-AST-2026-11-0042");
    assert_eq!(
        order.issue_date,
        NaiveDate::from_ymd_opt(2026, 11, 3).unwrap()
    );
    assert_eq!(
        order.lines[0].price.as_ref().map(|p| p.amount),
        Some(Decimal::new(38_500_000, 2))
    );
    assert_eq!(order.lines[1].quantity, Decimal::new(25, 1));
    assert_eq!(order.notes.len(), 2);
}

#[test]
fn v2_order_passes_through_unchanged() {
    // The design's example order (docs/canonical-order-v2.md §2) as a plugin
    // would send it: with the drawing's bytes, without what the gateway adds.
    let body = include_bytes!("../fixtures/v2-order.json");
    let out = run(body, "{}");
    assert_schema_valid(&out);
    let expected: serde_json::Value = serde_json::from_slice(body).unwrap();
    let actual: serde_json::Value = serde_json::from_str(&out[0]).unwrap();
    assert_eq!(actual, expected);

    let text = std::str::from_utf8(body).unwrap();
    let numbered = text.replacen(r#""quantity": "400""#, r#""quantity": 400"#, 1);
    let err = refused(numbered.as_bytes());
    assert_eq!(
        (err.code.as_str(), path(&err)),
        ("invalid-order", Some("/lines/0/quantity"))
    );
    let stored = text.replacen(
        r#""version": "2","#,
        r#""version": "2", "received": {"buyer_account": {"id": "a", "name": "A"}, "message_id": "m", "transaction": {"index": 0}, "plugin": {"name": "p", "version": "1"}},"#,
        1,
    );
    let err = refused(stored.as_bytes());
    assert_eq!(
        (err.code.as_str(), path(&err)),
        ("invalid-order", Some("/received"))
    );
    // Each element of an array is read in the version it names.
    let mixed = format!("[{text}, {}]", include_str!("../fixtures/minimal.json"));
    let out = run(mixed.as_bytes(), "");
    assert_schema_valid(&out);
    assert_eq!(
        actual,
        serde_json::from_str::<serde_json::Value>(&out[0]).unwrap()
    );
    assert!(out[1].contains(r#""syntax":"canonical v1""#), "{}", out[1]);
}

#[test]
fn minimal_order_gets_idr() {
    let out = run(include_bytes!("../fixtures/minimal.json"), "");
    assert_schema_valid(&out);
    let order: serde_json::Value = serde_json::from_str(&out[0]).unwrap();
    assert_eq!(order["currency"], "IDR");
    assert_eq!(order["version"], "2");
    assert_eq!(order["source"]["format"], "canonical-json");
    assert!(order.get("delivery").is_none(), "absent stays absent");
}

#[test]
fn configured_default_currency_applies_only_where_absent() {
    let out = run(
        include_bytes!("../fixtures/array.json"),
        r#"{"default_currency":"SGD"}"#,
    );
    assert_eq!(out.len(), 2);
    assert_schema_valid(&out);
    let currencies: Vec<String> = out
        .iter()
        .map(|o| serde_json::from_str::<serde_json::Value>(o).unwrap()["currency"].to_string())
        .collect();
    assert_eq!(currencies, [r#""USD""#, r#""SGD""#]);

    let single = run(
        include_bytes!("../fixtures/minimal.json"),
        r#"{"default_currency":"SGD"}"#,
    );
    assert!(single[0].contains(r#""currency":"SGD""#), "{}", single[0]);
}

#[test]
fn bad_config_is_invalid_config() {
    let body = include_bytes!("../fixtures/minimal.json");
    for config in [
        r#"{"default_currency":"rupiah"}"#,
        r#"{"currency":"IDR"}"#,
        "{",
    ] {
        let err = testing::error::<CanonicalJson>(body, config);
        assert_eq!(err.code, "invalid-config", "{config}: {err}");
    }
}

#[test]
fn empty_body_is_empty_body() {
    assert_eq!(run_err(b"").code, "empty-body");
    assert_eq!(run_err(b" \n\t ").code, "empty-body");
}

#[test]
fn syntax_error_is_malformed_json_with_line_and_column() {
    let err = run_err(include_bytes!("../fixtures/invalid-syntax.json"));
    assert_eq!(err.code, "malformed-json", "{err}");
    assert_eq!(line_column(&err), (Some(4), Some(3)));
    assert!(!err.message.contains(" at line "), "{}", err.message);

    let err = run_err(br#"{"buyer_order_number": "PO"#);
    assert_eq!(err.code, "malformed-json");
    let err = run_err(b"[] trailing");
    assert_eq!(err.code, "malformed-json");
}

#[test]
fn unknown_field_names_its_pointer() {
    let err = refused(include_bytes!("../fixtures/invalid-unknown-field.json"));
    assert_eq!(err.code, "invalid-order");
    assert_eq!(path(&err), Some("/lines/0/colour"));
    assert!(err.message.contains("colour"), "{}", err.message);
    assert_eq!(line_column(&err).0, Some(7));
}

#[test]
fn numeric_quantity_is_refused_with_its_pointer() {
    let body = include_bytes!("../fixtures/invalid-number-quantity.json");
    let err = refused(body);
    assert_eq!(err.code, "invalid-order");
    assert_eq!(path(&err), Some("/lines/1/quantity"));
    assert_eq!(line_column(&err), (Some(8), Some(64)));
}

#[test]
fn missing_lines_and_bad_date_are_invalid_order() {
    let err = refused(include_bytes!("../fixtures/invalid-missing-lines.json"));
    assert_eq!(err.code, "invalid-order");
    assert!(err.message.contains("lines"), "{}", err.message);

    let err = refused(include_bytes!("../fixtures/invalid-date.json"));
    assert_eq!(err.code, "invalid-order");
    assert_eq!(path(&err), Some("/issue_date"));
}

#[test]
fn array_errors_point_into_the_array() {
    let err = refused(br#"[{"buyer_order_number": 7}]"#);
    assert_eq!(err.code, "invalid-order");
    assert_eq!(path(&err), Some("/0/buyer_order_number"));
    assert_eq!(run_err(b"[]").code, "invalid-order");
    assert_eq!(run_err(b"42").code, "invalid-order");
    assert_eq!(run_err(b"[{}, 4").code, "malformed-json");
}

#[test]
fn one_bad_element_of_an_array_is_refused_alone() {
    // The array fixture's two orders around a third whose quantity is a number.
    let array = include_str!("../fixtures/array.json");
    let bad = r#"{"buyer_order_number": "PO-X", "issue_date": "2026-11-05",
        "buyer": {"name": "CV Maju Motor"}, "supplier": {"code": "PBG-03"},
        "lines": [{"line_number": "1", "description": "Baut", "quantity": 4, "unit": "H87"}]}"#;
    let (first, second) = array.split_once("},\n  {").unwrap();
    let body = format!("{first}}},\n  {bad},\n  {{{second}");
    let out = testing::json::<CanonicalJson>(body.as_bytes(), "").unwrap();
    assert_eq!(
        outcomes(&out),
        [
            "0 - order PO-A",
            "1 - refused invalid-order at /1/lines/0/quantity",
            "2 - order PO-B"
        ]
    );
    // Each transaction says where its element starts; the refusal where the
    // number is, in the whole body.
    let second = out.transactions[1].id.location.as_ref().unwrap();
    assert_eq!(second.path.as_deref(), Some("/1"));
    assert_eq!(&body[second.offset.unwrap() as usize..][..20], &bad[..20]);
    let jembatan_plugin_sdk::Outcome::Refused(err) = &out.transactions[1].outcome else {
        panic!("refused")
    };
    let offset = err.location.as_ref().unwrap().offset.unwrap() as usize;
    assert_eq!(&body[offset..offset + 1], "4");
    assert_eq!(line_column(err), (Some(12), Some(75)));

    // A v2 element is refused alone just as well, with its own pointer.
    let v2 = include_str!("../fixtures/v2-order.json");
    let stored = v2.replacen(
        r#""version": "2","#,
        r#""version": "2", "received": {},"#,
        1,
    );
    let body = format!("[{v2}, {stored}]");
    let out = testing::json::<CanonicalJson>(body.as_bytes(), "").unwrap();
    assert_eq!(out.transactions.len(), 2);
    assert!(out.transactions[0].order().is_some());
    let jembatan_plugin_sdk::Outcome::Refused(err) = &out.transactions[1].outcome else {
        panic!("refused")
    };
    assert_eq!(path(err), Some("/1/received"));
}
