//! Every public 850 of `tests/corpus/x12-850` against what its hand-written
//! `.expected.json` says the document carries (tests/corpus/README.md): order
//! numbers, dates, purpose, type, currency, parties, references, notes, terms,
//! totals, and per line its number, item name and ids, quantity, unit, price with
//! its basis, dates, references, notes and packaging. The expectation names X12
//! codes as written (`"unit": "KI"`, `"qualifier": "DP"`, `"002 (delivery
//! requested)"`), so each is looked up where the v2 mapping puts that code.

use jembatan_plugin_sdk::testing;
use jembatan_plugin_sdk::{Decimal, Outcome, PurchaseOrder};
use serde_json::Value;

use crate::X12Order;

macro_rules! corpus {
    ($name:literal) => {
        (
            $name,
            include_bytes!(concat!("../../../tests/corpus/x12-850/", $name, ".edi")) as &[u8],
            include_str!(concat!(
                "../../../tests/corpus/x12-850/",
                $name,
                ".expected.json"
            )),
        )
    };
}

/// Only routing is configured: most documents name no supplier.
const CONFIG: &str = r#"{"supplier_code":"SUPPLIER-FROM-CONFIG"}"#;

const DOCUMENTS: [(&str, &[u8], &str); 16] = [
    corpus!("eddy-bam850-favy-two-orders"),
    corpus!("eddy-bam850-rl1y-many-orders"),
    corpus!("edinet-850-bom-nbsp"),
    corpus!("edinet-850-issue135-tilde-isa16"),
    corpus!("edinet-850a-tabs-by-id-only"),
    corpus!("node-x12-850-newline-terminator"),
    corpus!("node-x12-850-petco"),
    corpus!("node-x12-850-two-interchanges"),
    corpus!("node-x12-850-vics"),
    corpus!("oopfactory-850-adobe-clp-star-terminator"),
    corpus!("oopfactory-850-adobe-shrinkwrapped-space-terminator"),
    corpus!("oopfactory-850-adobe-tlp-tilde-elements"),
    corpus!("oopfactory-850-aojuk-indented"),
    corpus!("oopfactory-850-pgwglass-pipe-terminator"),
    corpus!("staedi-810-and-850-groups"),
    corpus!("stedi-bootstrap-5010-dropship"),
];

#[test]
fn every_public_document_gives_what_its_expectation_says() {
    for (name, body, expected) in DOCUMENTS {
        let expected: Value = serde_json::from_str(expected).unwrap();
        let transactions = expected["transactions"].as_array().unwrap();
        // One outcome per transaction set, in order, with its ST02: an order or,
        // for a set of another kind, not an order.
        let out = testing::json::<X12Order>(body, CONFIG).unwrap();
        let kinds: Vec<(&str, Option<&str>)> = out
            .transactions
            .iter()
            .map(|t| {
                let kind = match &t.outcome {
                    Outcome::Order(_) => "order",
                    Outcome::NotAnOrder { .. } => "not-an-order",
                    Outcome::Refused(e) => panic!("{name}: refused: {e}"),
                };
                (kind, t.id.control_number.as_deref())
            })
            .collect();
        let expected_kinds: Vec<(&str, Option<&str>)> = transactions
            .iter()
            .map(|t| (t["kind"].as_str().unwrap(), t["control_number"].as_str()))
            .collect();
        assert_eq!(kinds, expected_kinds, "{name}");
        let json: Vec<String> = out.orders().cloned().collect();
        testing::assert_schema_valid(&json);
        let normalized = testing::normalized::<X12Order>(body, CONFIG).unwrap();
        let orders: Vec<&PurchaseOrder> = normalized.orders().map(|o| &**o).collect();
        let expected_orders: Vec<&Value> = transactions
            .iter()
            .filter(|t| t["kind"] == "order")
            .map(|t| &t["order"])
            .collect();
        for (i, (order, expected)) in orders.iter().zip(expected_orders).enumerate() {
            let actual = serde_json::to_value(order).unwrap();
            check_order(&format!("{name} order {i}"), expected, &actual, order);
        }
    }
}

/// `"002 (delivery requested)"` → `002`; `"N9 ZZ"` → `ZZ`; `"BEG06 contract"` →
/// `BEG06`: the X12 code an expectation names.
fn code(text: &str) -> &str {
    let mut words = text.split_whitespace();
    match words.next() {
        Some("N9") => words.next().unwrap_or(""),
        Some(first) => first,
        None => "",
    }
}

/// Two decimal strings are the same number (`"0008"` and `"8"`; `"157.50"` and
/// `"157.50"`); the expectation normalises leading zeros only.
fn same_number(actual: &Value, expected: &Value) -> bool {
    let parse = |v: &Value| v.as_str().and_then(|s| s.parse::<Decimal>().ok());
    parse(actual).is_some() && parse(actual) == parse(expected)
}

/// `CCYYMMDD` as X12 writes it, from an expectation's ISO date.
fn as_written(date: &Value) -> String {
    date.as_str().unwrap().replace('-', "")
}

fn texts<'a>(list: &'a Value, key: &str) -> Vec<&'a str> {
    list.as_array()
        .map(|items| items.iter().filter_map(|i| i[key].as_str()).collect())
        .unwrap_or_default()
}

fn has_extension(extensions: &Value, value: &str) -> bool {
    texts(extensions, "value").contains(&value)
}

/// The v2 delivery field of an X12 date qualifier (element 374), if it has one.
fn date_field(qualifier: &str) -> Option<&'static str> {
    Some(match qualifier {
        "002" => "requested_date",
        "064" => "earliest",
        "063" => "latest",
        "037" => "ship_not_before",
        "038" => "ship_no_later",
        "001" | "061" => "cancel_after",
        _ => return None,
    })
}

/// A date with its qualifier: in its delivery field, or kept as written.
fn check_date(what: &str, qualifier: &str, date: &Value, delivery: &Value, extensions: &Value) {
    match date_field(qualifier) {
        Some(field) => assert_eq!(&delivery[field], date, "{what}: DTM {qualifier}"),
        None => assert!(
            has_extension(extensions, &as_written(date)),
            "{what}: DTM {qualifier} {date} kept as an extension"
        ),
    }
}

fn check_ids(what: &str, expected: &Value, actual: &Value) {
    for id in expected.as_array().into_iter().flatten() {
        assert!(
            texts(actual, "value").contains(&id["value"].as_str().unwrap()),
            "{what}: id {id} in {actual}"
        );
    }
}

fn check_address(what: &str, expected: &Value, actual: &Value) {
    let Some(expected) = expected.as_object() else {
        return;
    };
    for (key, value) in expected {
        let field = if key == "street2" {
            "additional_street"
        } else {
            key
        };
        assert_eq!(&actual[field], value, "{what}: address {key}");
    }
}

/// A party as the expectation writes it (`name`, `name2` for N2, `ids`,
/// `address`) against a v2 party or location.
fn check_party(what: &str, expected: &Value, actual: &Value) {
    if let Some(name) = expected["name"].as_str() {
        let actual_name = actual["name"].as_str().unwrap_or_default();
        assert!(
            actual_name.starts_with(name),
            "{what}: name {actual_name:?}"
        );
        if let Some(name2) = expected["name2"].as_str() {
            assert!(actual_name.ends_with(name2), "{what}: N2 {actual_name:?}");
        }
    }
    check_ids(what, &expected["ids"], &actual["ids"]);
    check_address(what, &expected["address"], &actual["address"]);
}

fn check_references(what: &str, expected: &Value, actual: &Value) {
    for reference in expected.as_array().into_iter().flatten() {
        let qualifier = code(reference["qualifier"].as_str().unwrap());
        let found = actual.as_array().into_iter().flatten().any(|r| {
            r["qualifier"].as_str() == Some(qualifier) && r["value"] == reference["value"]
        });
        assert!(found, "{what}: reference {reference} in {actual}");
    }
}

fn check_notes(what: &str, expected: &Value, actual: &Value) {
    for note in expected.as_array().into_iter().flatten() {
        assert!(
            texts(actual, "text").contains(&note.as_str().unwrap()),
            "{what}: note {note}"
        );
    }
}

fn check_order(what: &str, expected: &Value, actual: &Value, order: &PurchaseOrder) {
    for key in ["buyer_order_number", "issue_date", "currency"] {
        if !expected[key].is_null() {
            assert_eq!(actual[key], expected[key], "{what}: {key}");
        }
    }
    assert_eq!(
        Some(order.lines.len() as u64),
        expected["line_count"].as_u64(),
        "{what}: line count"
    );
    if let Some(purpose) = expected["purpose"].as_str() {
        let replaces = purpose.starts_with("BEG01 05");
        assert_eq!(
            actual["purpose"] == "replace",
            replaces,
            "{what}: {purpose}"
        );
    }
    if let Some(order_type) = expected["order_type"].as_str() {
        assert_eq!(actual["order_type"]["code"], code(order_type), "{what}");
        assert_eq!(actual["order_type"]["list"], "X12-92", "{what}");
    }
    if let Some(total) = expected.get("total") {
        let totals = &actual["totals"];
        assert!(
            same_number(&totals["payable"], total) || same_number(&totals["line_extension"], total),
            "{what}: total {total} in {totals}"
        );
    }
    if !expected["buyer"].is_null() {
        check_party(
            &format!("{what}: buyer"),
            &expected["buyer"],
            &actual["buyer"],
        );
    }
    if let Some(contact) = expected["contact"].as_object() {
        let found = actual["buyer"]["contacts"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|c| contact.iter().all(|(k, v)| &c[k.as_str()] == v));
        assert!(found, "{what}: buyer contact {contact:?}");
    }
    for key in ["supplier", "seller"] {
        let expected = &expected[key];
        if expected.is_null() {
            continue;
        }
        // N1*SE/VN is the supplier; a supplier written as N1*SF is the ship-from.
        let role = code(expected["role"].as_str().unwrap_or("SE"));
        let party = if matches!(role, "SE" | "VN") {
            actual["supplier"].clone()
        } else {
            other_party(actual, role)
        };
        check_party(&format!("{what}: {key}"), expected, &party);
    }
    if !expected["ship_to"].is_null() {
        let location = &actual["delivery"]["location"];
        check_party(&format!("{what}: ship-to"), &expected["ship_to"], location);
        if let Some(contact) = expected["ship_to"]["contact"].as_object() {
            let contacts = &actual["delivery"]["contacts"];
            let found = contacts
                .as_array()
                .into_iter()
                .flatten()
                .any(|c| contact.iter().all(|(k, v)| &c[k.as_str()] == v));
            assert!(found, "{what}: ship-to contact {contact:?} in {contacts}");
        }
    }
    for other in expected["other_parties"].as_array().into_iter().flatten() {
        let role = code(other["role"].as_str().unwrap());
        check_party(
            &format!("{what}: {role}"),
            other,
            &other_party(actual, role),
        );
    }
    if !expected["bill_to"].is_null() {
        check_party(
            &format!("{what}: bill-to"),
            &expected["bill_to"],
            &other_party(actual, "BT"),
        );
    }
    check_references(what, &expected["references"], &actual["references"]);
    if let Some(release) = expected["release_number"].as_str() {
        check_references(
            what,
            &serde_json::json!([{"qualifier": "BEG04", "value": release}]),
            &actual["references"],
        );
    }
    check_notes(what, &expected["notes"], &actual["notes"]);
    let delivery = &actual["delivery"];
    if let Some(qualifier) = expected["delivery"]["date_qualifier"].as_str() {
        let date = &expected["delivery"]["date"];
        check_date(what, code(qualifier), date, delivery, &actual["extensions"]);
    }
    for date in expected["dates"].as_array().into_iter().flatten() {
        let qualifier = code(date["qualifier"].as_str().unwrap());
        check_date(
            what,
            qualifier,
            &date["date"],
            delivery,
            &actual["extensions"],
        );
    }
    if let Some(carrier) = expected["carrier"].as_str() {
        let transport = &delivery["transport"];
        let found = ["carrier", "routing", "mode", "service_level"]
            .iter()
            .any(|k| transport[k] == carrier);
        assert!(found, "{what}: carrier {carrier} in {transport}");
    }
    check_payment_terms(
        what,
        &expected["payment_terms"],
        &actual["payment_terms"][0],
    );
    check_delivery_terms(what, &expected["delivery_terms"], &actual["delivery_terms"]);
    let expected_lines = expected["lines"].as_array().unwrap();
    for (n, expected) in expected_lines.iter().enumerate() {
        let line = &actual["lines"][n];
        check_line(
            &format!("{what} line {n}"),
            expected,
            line,
            &actual["currency"],
        );
    }
}

/// The first other party with N101 `role`.
fn other_party(order: &Value, role: &str) -> Value {
    order["other_parties"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|p| p["role_code"] == role)
        .map(|p| p["party"].clone())
        .unwrap_or(Value::Null)
}

fn check_payment_terms(what: &str, expected: &Value, actual: &Value) {
    let Some(expected) = expected.as_object() else {
        return;
    };
    for key in ["discount_percent", "discount_days", "net_days"] {
        if let Some(value) = expected.get(key) {
            let actual = &actual[key];
            let same = same_number(actual, value)
                || actual.as_u64().map(|n| n.to_string()).as_deref() == value.as_str();
            assert!(same, "{what}: payment terms {key} {actual} ≠ {value}");
        }
    }
    if let Some(text) = expected.get("description") {
        assert_eq!(&actual["text"], text, "{what}: payment terms text");
    }
}

fn check_delivery_terms(what: &str, expected: &Value, actual: &Value) {
    let Some(expected) = expected.as_object() else {
        return;
    };
    for (key, field) in [
        ("incoterm", "incoterm"),
        ("location", "place"),
        ("FOB", "transport_payment"),
    ] {
        if let Some(value) = expected.get(key) {
            assert_eq!(&actual[field], value, "{what}: delivery terms {key}");
        }
    }
}

fn check_line(what: &str, expected: &Value, actual: &Value, order_currency: &Value) {
    if let Some(number) = expected.get("line_number") {
        assert_eq!(&actual["line_number"], number, "{what}");
    }
    assert!(
        same_number(&actual["quantity"], &expected["quantity"]),
        "{what}: quantity {}",
        actual["quantity"]
    );
    // The expectation writes the X12 unit code (355) as sent.
    let unit = actual["unit_original"]["code"]
        .as_str()
        .or(actual["unit"].as_str());
    assert_eq!(unit, expected["unit"].as_str(), "{what}: unit");
    if actual["unit"] == "ZZ" {
        assert!(actual["unit_original"].is_object(), "{what}");
    }
    if let Some(price) = expected.get("unit_price") {
        assert!(
            same_number(&actual["price"]["amount"], price),
            "{what}: price {}",
            actual["price"]
        );
        match expected.get("price_basis") {
            Some(basis) => assert_eq!(&actual["price"]["basis_code"], basis, "{what}"),
            None => assert_eq!(actual["price"]["base_quantity"], "1", "{what}"),
        }
    } else {
        assert!(actual["price"].is_null(), "{what}: no price");
    }
    if let Some(name) = expected.get("item_name") {
        assert_eq!(&actual["item"]["name"], name, "{what}: item name");
    }
    for id in expected["ids"].as_array().unwrap() {
        let found = actual["item"]["ids"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|a| a["value"] == id["value"] && a["qualifier"] == id["qualifier"]);
        // PD (part description) is the item's name, not an id.
        let named = id["qualifier"] == "PD" && actual["item"]["name"] == id["value"];
        assert!(found || named, "{what}: id {id} in {}", actual["item"]);
    }
    let delivery = &actual["delivery"];
    if let Some(date) = expected.get("delivery_date") {
        assert_eq!(&delivery["requested_date"], date, "{what}: delivery date");
    }
    for date in expected["dates"].as_array().into_iter().flatten() {
        let qualifier = code(date["qualifier"].as_str().unwrap());
        check_date(
            what,
            qualifier,
            &date["date"],
            delivery,
            &actual["extensions"],
        );
    }
    check_references(what, &expected["references"], &actual["references"]);
    check_notes(what, &expected["notes"], &actual["notes"]);
    if let Some(packaging) = expected["packaging"].as_object() {
        for key in ["pack", "size"] {
            if let Some(value) = packaging.get(key) {
                assert!(
                    same_number(&actual["packaging"][key], value),
                    "{what}: packaging {key}"
                );
            }
        }
    }
    for property in expected["properties"].as_array().into_iter().flatten() {
        assert!(
            texts(&actual["item"]["properties"], "value")
                .contains(&property["value"].as_str().unwrap()),
            "{what}: property {property}"
        );
    }
    // A line's CUR is the order's currency, or kept beside the line.
    if let Some(currency) = expected["line_currency"].as_str() {
        assert!(
            order_currency == currency || has_extension(&actual["extensions"], currency),
            "{what}: line currency"
        );
    }
    if let Some(classification) = expected["classification"]["value"].as_str() {
        assert!(
            has_extension(&actual["extensions"], classification),
            "{what}"
        );
    }
    for party in expected["line_parties"].as_array().into_iter().flatten() {
        let name = party["name"].as_str().unwrap();
        if party["role"] == "ST" {
            check_party(what, party, &delivery["location"]);
        } else {
            assert!(has_extension(&actual["extensions"], name), "{what}: {name}");
        }
    }
}
