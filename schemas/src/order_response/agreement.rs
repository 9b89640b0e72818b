//! Proof that the Rust types and `order-response.schema.json` say the same thing,
//! as `crate::v2::agreement` proves it for orders: a maximal response (every
//! optional field set) walked beside the schema, each object's `properties` exactly
//! the keys of the value; every key of every object removed in turn, the schema
//! refusing the result exactly when the types do, except for the rules across
//! fields, which the types leave to the schema and which are tested on the schema
//! alone; enumerations compared value by value.

use std::collections::BTreeSet;
use std::str::FromStr;
use std::sync::OnceLock;

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde_json::{Value, json};

use super::*;
use crate::ORDER_RESPONSE_SCHEMA;
// The same walk as the orders' proof, so the two cannot drift apart.
use crate::v2::agreement::{compare, removals_agree, resolve};

fn schema() -> Value {
    serde_json::from_str(ORDER_RESPONSE_SCHEMA).unwrap()
}

fn errors(value: &Value) -> Vec<String> {
    static VALIDATOR: OnceLock<jsonschema::Validator> = OnceLock::new();
    VALIDATOR
        .get_or_init(|| jsonschema::validator_for(&schema()).unwrap())
        .iter_errors(value)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

fn assert_valid(value: &Value) {
    let errors = errors(value);
    assert!(errors.is_empty(), "{errors:#?}\n{value:#}");
}

fn date(s: &str) -> NaiveDate {
    NaiveDate::from_str(s).unwrap()
}

fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

fn time(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().to_utc()
}

/// A second response with changes: every optional field set.
fn maximal() -> OrderResponse {
    OrderResponse {
        version: ResponseVersion::V1,
        id: "rsp_0002".into(),
        order_id: "ord_0001".into(),
        buyer_order_number: "PO-MO-2026-1127".into(),
        sequence: 2,
        issued_at: time("2026-11-28T08:15:00.123Z"),
        status: ResponseStatus::AcceptedWithChanges,
        reason: Some("Bahan SS304 baru datang minggu depan".into()),
        promised_delivery_date: Some(date("2026-12-20")),
        lines: vec![LineChange {
            line_number: "1".into(),
            quantity: Some(dec("300")),
            delivery_date: Some(date("2026-12-22")),
            price: Some(dec("190000.00")),
        }],
        responder: Responder {
            craftsman_id: "jaya".into(),
            name: "Bengkel Knalpot Jaya".into(),
        },
        via: ResponseVia::Inbox,
        supersedes: Some("rsp_0001".into()),
    }
}

/// A first acceptance: nothing optional.
fn minimal() -> OrderResponse {
    OrderResponse {
        version: ResponseVersion::V1,
        id: "rsp_0001".into(),
        order_id: "ord_0001".into(),
        buyer_order_number: "PO-1".into(),
        sequence: 1,
        issued_at: time("2026-11-28T08:00:00Z"),
        status: ResponseStatus::Accepted,
        reason: None,
        promised_delivery_date: None,
        lines: Vec::new(),
        responder: Responder {
            craftsman_id: "jaya".into(),
            name: "Bengkel Knalpot Jaya".into(),
        },
        via: ResponseVia::Api,
        supersedes: None,
    }
}

fn object_pointers() -> Vec<String> {
    let root = schema();
    let max = serde_json::to_value(maximal()).unwrap();
    let mut objects = Vec::new();
    compare(&root, &root, &max, "", &mut objects);
    objects
}

#[test]
fn rust_types_and_json_schema_agree() {
    let objects = object_pointers();
    assert_eq!(objects, ["", "/lines/0", "/responder"]);
}

#[test]
fn required_fields_agree_at_every_level() {
    let max = serde_json::to_value(maximal()).unwrap();
    assert_valid(&max);
    // Rules across fields: a second response names what it supersedes; a response
    // with changes has a promised date or a line (the maximal one has both, so
    // either alone may go). Removing `status` leaves nothing for the rules to test.
    let cross_field = ["/supersedes"];
    let checked = removals_agree::<OrderResponse>(&max, &object_pointers(), &cross_field, |v| {
        errors(v).is_empty()
    });
    assert_eq!(checked, 13 + 4 + 2);
}

#[test]
fn serialized_responses_validate_and_round_trip() {
    for response in [maximal(), minimal()] {
        let value = serde_json::to_value(&response).unwrap();
        assert_valid(&value);
        let back: OrderResponse = serde_json::from_value(value).unwrap();
        assert_eq!(back, response);
    }
    let value = serde_json::to_value(maximal()).unwrap();
    assert_eq!(value["lines"][0]["price"], "190000.00");
    assert_eq!(value["lines"][0]["quantity"], "300");
    assert_eq!(value["promised_delivery_date"], "2026-12-20");
    assert_eq!(value["issued_at"], "2026-11-28T08:15:00.123Z");
    assert_eq!(value["version"], "1");
    assert_eq!(
        serde_json::to_value(minimal()).unwrap()["issued_at"],
        "2026-11-28T08:00:00Z"
    );
}

#[test]
fn enumerations_agree() {
    let root = schema();
    let schema_enum = |pointer: &str| -> BTreeSet<String> {
        let node = resolve(&root, root.pointer(pointer).unwrap());
        let values = node
            .get("enum")
            .map(|e| e.as_array().unwrap().clone())
            .unwrap_or_else(|| vec![node["const"].clone()]);
        values
            .iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect()
    };
    let serialized = |values: Vec<Value>| -> BTreeSet<String> {
        values
            .into_iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect()
    };
    // Exhaustive matches: a variant added to a type and not here fails to compile.
    let statuses = ResponseStatus::ALL.map(|s| {
        match s {
            ResponseStatus::Accepted
            | ResponseStatus::Rejected
            | ResponseStatus::AcceptedWithChanges => {}
        }
        serde_json::to_value(s).unwrap()
    });
    assert_eq!(
        serialized(statuses.to_vec()),
        schema_enum("/properties/status")
    );
    for status in ResponseStatus::ALL {
        assert_eq!(serde_json::to_value(status).unwrap(), status.as_str());
        assert_eq!(status.as_str().parse::<ResponseStatus>(), Ok(status));
    }
    let vias = [
        ResponseVia::Api,
        ResponseVia::Inbox,
        ResponseVia::Whatsapp,
        ResponseVia::Telegram,
    ];
    for via in vias {
        match via {
            ResponseVia::Api
            | ResponseVia::Inbox
            | ResponseVia::Whatsapp
            | ResponseVia::Telegram => {}
        }
    }
    assert_eq!(
        serialized(
            vias.iter()
                .map(|v| serde_json::to_value(v).unwrap())
                .collect()
        ),
        schema_enum("/properties/via")
    );
    assert_eq!(
        serialized(vec![serde_json::to_value(ResponseVersion::V1).unwrap()]),
        schema_enum("/properties/version")
    );
}

/// Sets (`Some`) or removes (`None`) members of the minimal response and answers
/// whether the schema accepts the result.
fn schema_accepts_minimal_with(changes: &[(&str, Option<Value>)]) -> bool {
    let mut value = serde_json::to_value(minimal()).unwrap();
    for (key, new) in changes {
        let map = value.as_object_mut().unwrap();
        match new {
            Some(new) => map.insert((*key).to_owned(), new.clone()),
            None => map.remove(*key),
        };
    }
    errors(&value).is_empty()
}

#[test]
fn the_schema_holds_the_rules_across_fields() {
    let yes = |v: Value| Some(v);
    let changes = || yes(json!("accepted_with_changes"));
    let rejected = || yes(json!("rejected"));
    let line = |l: Value| yes(json!([l]));
    // Accepted as ordered: nothing else to say.
    assert!(schema_accepts_minimal_with(&[]));
    assert!(schema_accepts_minimal_with(&[(
        "reason",
        yes(json!("siap"))
    )]));
    assert!(!schema_accepts_minimal_with(&[(
        "promised_delivery_date",
        yes(json!("2026-12-20"))
    )]));
    assert!(!schema_accepts_minimal_with(&[(
        "lines",
        line(json!({"line_number": "1", "quantity": "3"}))
    )]));
    // Rejected: with a reason, without changes.
    assert!(!schema_accepts_minimal_with(&[("status", rejected())]));
    assert!(schema_accepts_minimal_with(&[
        ("status", rejected()),
        ("reason", yes(json!("Mesin bubut rusak")))
    ]));
    assert!(!schema_accepts_minimal_with(&[
        ("status", rejected()),
        ("reason", yes(json!("   ")))
    ]));
    assert!(!schema_accepts_minimal_with(&[
        ("status", rejected()),
        ("reason", yes(json!("Mesin bubut rusak"))),
        ("promised_delivery_date", yes(json!("2026-12-20")))
    ]));
    // With changes: a promised date, or lines, each changing something.
    assert!(!schema_accepts_minimal_with(&[("status", changes())]));
    assert!(schema_accepts_minimal_with(&[
        ("status", changes()),
        ("promised_delivery_date", yes(json!("2026-12-20")))
    ]));
    for good in [
        json!({"line_number": "1", "quantity": "0.5"}),
        json!({"line_number": "1", "delivery_date": "2026-12-22"}),
        json!({"line_number": "1", "price": "0"}),
    ] {
        assert!(
            schema_accepts_minimal_with(&[("status", changes()), ("lines", line(good.clone()))]),
            "{good}"
        );
    }
    for bad in [
        json!({"line_number": "1"}),
        json!({"line_number": "1", "quantity": "0"}),
        json!({"line_number": "1", "quantity": "0.000"}),
        json!({"line_number": "1", "quantity": 3}),
        json!({"line_number": "1", "quantity": "-1"}),
        json!({"line_number": "1", "quantity": "1,5"}),
        json!({"line_number": "1", "delivery_date": "22.12.2026"}),
        json!({"line_number": "1", "price": "Rp 190.000"}),
        json!({"line_number": "1", "colour": "red"}),
    ] {
        assert!(
            !schema_accepts_minimal_with(&[("status", changes()), ("lines", line(bad.clone()))]),
            "{bad}"
        );
    }
    assert!(!schema_accepts_minimal_with(&[
        ("status", changes()),
        ("lines", yes(json!([])))
    ]));
    // A later response names the one it supersedes, and only a later one does.
    assert!(!schema_accepts_minimal_with(&[("sequence", yes(json!(2)))]));
    assert!(schema_accepts_minimal_with(&[
        ("sequence", yes(json!(2))),
        ("supersedes", yes(json!("rsp_0001")))
    ]));
    assert!(!schema_accepts_minimal_with(&[(
        "supersedes",
        yes(json!("rsp_0000"))
    )]));
    assert!(!schema_accepts_minimal_with(&[("sequence", yes(json!(0)))]));
    // Conventions shared with the orders.
    assert!(!schema_accepts_minimal_with(&[(
        "version",
        yes(json!("2"))
    )]));
    assert!(!schema_accepts_minimal_with(&[("surprise", yes(json!(1)))]));
    assert!(!schema_accepts_minimal_with(&[(
        "issued_at",
        yes(json!("2026-11-28 08:00"))
    )]));
    assert!(!schema_accepts_minimal_with(&[("via", yes(json!("sms")))]));
    // Serde refuses what the types can express.
    let mut value = serde_json::to_value(maximal()).unwrap();
    value["lines"][0]["quantity"] = json!(300);
    assert!(serde_json::from_value::<OrderResponse>(value).is_err());
    let mut value = serde_json::to_value(minimal()).unwrap();
    value["status"] = json!("maybe");
    assert!(serde_json::from_value::<OrderResponse>(value).is_err());
}
