//! Proof that the Rust types and `purchase-order.schema.json` say the same thing.
//!
//! A *maximal* order (every optional field set) and a *minimal* one (none set) are
//! built in Rust and serialized. Walking the schema beside them, each object's
//! `properties` must be exactly the keys of the maximal value and its `required`
//! exactly the keys of the minimal one; both must validate. A field added, renamed
//! or made optional on one side only fails here.

use std::collections::BTreeSet;
use std::str::FromStr;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde_json::Value;

use crate::*;

fn date(s: &str) -> NaiveDate {
    NaiveDate::from_str(s).unwrap()
}

fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

fn address() -> Address {
    Address {
        street: Some("Jl. Raya Kalimanah No. 12".into()),
        additional_street: Some("Desa Kalimanah Wetan".into()),
        city: Some("Purbalingga".into()),
        postal_code: Some("53371".into()),
        region: Some("Jawa Tengah".into()),
        country: Some("ID".into()),
    }
}

fn maximal() -> PurchaseOrder {
    PurchaseOrder {
        buyer_order_number: "PO-2026-0001".into(),
        issue_date: date("2026-11-27"),
        currency: "IDR".into(),
        buyer: Party {
            id: Some("BUYER-01".into()),
            name: "PT Mitra Otoparts".into(),
            tax_id: Some("01.234.567.8-901.000".into()),
            address: Some(address()),
            contact: Some(Contact {
                name: Some("Sari".into()),
                phone: Some("+62 281 000000".into()),
                email: Some("sari@example.co.id".into()),
            }),
        },
        supplier: Supplier {
            code: "PBG-017".into(),
            name: Some("Bengkel Knalpot Jaya".into()),
        },
        delivery: Some(Delivery {
            address: Some(address()),
            requested_date: Some(date("2026-12-10")),
        }),
        lines: vec![OrderLine {
            line_number: "1".into(),
            buyer_item_code: Some("MO-EXH-125".into()),
            supplier_item_code: Some("KJ-125".into()),
            description: Some("Knalpot racing 125cc".into()),
            quantity: dec("150"),
            unit: "H87".into(),
            unit_price: Some(dec("185000.00")),
            line_total: Some(dec("27750000.00")),
            requested_date: Some(date("2026-12-08")),
            note: Some("Finishing hitam doff".into()),
        }],
        notes: vec!["Kirim via ekspedisi".into()],
        totals: Some(Totals {
            line_extension: Some(dec("27750000.00")),
            tax: Some(dec("3052500.00")),
            payable: Some(dec("30802500.00")),
        }),
    }
}

fn minimal() -> PurchaseOrder {
    PurchaseOrder {
        buyer_order_number: "PO-1".into(),
        issue_date: date("2026-11-27"),
        currency: DEFAULT_CURRENCY.into(),
        buyer: Party {
            name: "PT Mitra Otoparts".into(),
            ..Default::default()
        },
        supplier: Supplier {
            code: "PBG-017".into(),
            name: None,
        },
        delivery: None,
        lines: vec![OrderLine {
            line_number: "1".into(),
            buyer_item_code: None,
            supplier_item_code: None,
            description: Some("Knalpot".into()),
            quantity: dec("1"),
            unit: "H87".into(),
            unit_price: None,
            line_total: None,
            requested_date: None,
            note: None,
        }],
        notes: vec![],
        totals: None,
    }
}

fn schema() -> Value {
    serde_json::from_str(PURCHASE_ORDER_SCHEMA).unwrap()
}

/// Follows `$ref`s (local `#/$defs/…` only, which is all the schema uses).
fn resolve<'a>(root: &'a Value, mut node: &'a Value) -> &'a Value {
    while let Some(reference) = node.get("$ref").and_then(Value::as_str) {
        let name = reference.strip_prefix("#/$defs/").expect("local ref");
        node = &root["$defs"][name];
    }
    node
}

fn keys(value: &Value) -> BTreeSet<String> {
    value.as_object().unwrap().keys().cloned().collect()
}

/// Compares every object of `schema_node` with the maximal and minimal values.
fn compare(root: &Value, schema_node: &Value, max: &Value, min: Option<&Value>, at: &str) {
    let node = resolve(root, schema_node);
    match node.get("type").and_then(Value::as_str) {
        Some("object") => {
            let declared = keys(&node["properties"]);
            assert_eq!(declared, keys(max), "properties of {at}");
            if let Some(min) = min {
                let required: BTreeSet<String> = node
                    .get("required")
                    .and_then(Value::as_array)
                    .map(|r| r.iter().map(|v| v.as_str().unwrap().to_owned()).collect())
                    .unwrap_or_default();
                // `anyOf: [{required: [a]}, …]` (a line needs a code or a
                // description) has no Rust form; the minimal value carries one branch.
                let mut expected = required;
                let present = keys(min);
                if let Some(branches) = node.get("anyOf").and_then(Value::as_array) {
                    let branch = branches
                        .iter()
                        .flat_map(|b| b["required"].as_array().unwrap())
                        .map(|v| v.as_str().unwrap().to_owned())
                        .find(|name| present.contains(name))
                        .unwrap_or_else(|| panic!("{at} satisfies no anyOf branch"));
                    expected.insert(branch);
                }
                assert_eq!(expected, present, "required of {at}");
            }
            for name in declared {
                // An optional object left out of the minimal order is compared as
                // `{}`: its type's all-empty value, which serializes so (checked
                // by `optional_objects_serialize_empty`).
                let empty = Value::Object(Default::default());
                let child_min = min.map(|m| m.get(&name).unwrap_or(&empty));
                compare(
                    root,
                    &node["properties"][&name],
                    &max[&name],
                    child_min,
                    &format!("{at}/{name}"),
                );
            }
        }
        Some("array") => {
            let item_min = min.and_then(|m| m.get(0));
            compare(root, &node["items"], &max[0], item_min, &format!("{at}/0"));
        }
        _ => {}
    }
}

#[test]
fn rust_types_and_json_schema_agree() {
    let root = schema();
    let max = serde_json::to_value(maximal()).unwrap();
    let min = serde_json::to_value(minimal()).unwrap();
    compare(&root, &root, &max, Some(&min), "");
}

#[test]
fn serialized_orders_validate_and_round_trip() {
    let validator = jsonschema::validator_for(&schema()).unwrap();
    for order in [maximal(), minimal()] {
        let value = serde_json::to_value(&order).unwrap();
        let errors: Vec<String> = validator
            .iter_errors(&value)
            .map(|e| e.to_string())
            .collect();
        assert!(errors.is_empty(), "{errors:?}\n{value:#}");
        let back: PurchaseOrder = serde_json::from_value(value).unwrap();
        assert_eq!(back, order);
    }
}

#[test]
fn money_is_written_as_decimal_strings_and_dates_as_iso_8601() {
    let value = serde_json::to_value(maximal()).unwrap();
    assert_eq!(value["lines"][0]["unit_price"], "185000.00");
    assert_eq!(value["issue_date"], "2026-11-27");
    // A missing currency means rupiah, as the schema's default says.
    let mut no_currency = serde_json::to_value(minimal()).unwrap();
    no_currency.as_object_mut().unwrap().remove("currency");
    let order: PurchaseOrder = serde_json::from_value(no_currency).unwrap();
    assert_eq!(order.currency, "IDR");
    assert_eq!(
        schema()["properties"]["currency"]["default"],
        DEFAULT_CURRENCY
    );
}

#[test]
fn optional_objects_serialize_empty() {
    let empty = serde_json::json!({});
    assert_eq!(serde_json::to_value(Delivery::default()).unwrap(), empty);
    assert_eq!(serde_json::to_value(Totals::default()).unwrap(), empty);
    assert_eq!(serde_json::to_value(Address::default()).unwrap(), empty);
    assert_eq!(serde_json::to_value(Contact::default()).unwrap(), empty);
}
