//! Proof that the v2 Rust types and `purchase-order-v2.schema.json` say the same
//! thing, as `crate::agreement` proves it for v1.
//!
//! A *maximal* order (every optional field set, at every level) and a *minimal* one
//! (none set) are built in Rust and serialized. Walking the schema beside the maximal
//! one, each object's `properties` must be exactly the keys of the value. Then every
//! key of every object of the maximal order is removed in turn: the schema must
//! refuse the result exactly when the Rust types do (a required field), so `required`
//! and optionality agree at every level, including objects that an optional field
//! holds (v1 compares against the minimal order instead, which reaches only objects
//! whose fields are all optional). Both orders, and the example order of the design
//! (section 2, read from `docs/canonical-order-v2.md`), must validate and come back
//! unchanged from the types. Enumerations are compared value by value. Rules across
//! fields, which the types do not express, are tested on the schema alone.

use std::collections::{BTreeMap, BTreeSet};
use std::str::FromStr;
use std::sync::OnceLock;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::*;
use crate::PURCHASE_ORDER_V2_SCHEMA;

/// The design; section 2 holds the example order.
const DESIGN: &str = include_str!("../../../docs/canonical-order-v2.md");

fn date(s: &str) -> NaiveDate {
    NaiveDate::from_str(s).unwrap()
}

fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

fn s(text: &str) -> Option<String> {
    Some(text.to_owned())
}

pub(super) fn schema() -> Value {
    serde_json::from_str(PURCHASE_ORDER_V2_SCHEMA).unwrap()
}

/// Schema errors of `value`, empty when it is valid v2.
pub(super) fn errors(value: &Value) -> Vec<String> {
    static VALIDATOR: OnceLock<jsonschema::Validator> = OnceLock::new();
    VALIDATOR
        .get_or_init(|| jsonschema::validator_for(&schema()).unwrap())
        .iter_errors(value)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

pub(super) fn assert_valid(value: &Value) {
    let errors = errors(value);
    assert!(errors.is_empty(), "{errors:#?}\n{value:#}");
}

/// The example order of section 2, as the design page has it.
pub(super) fn design_example() -> Value {
    let section = DESIGN
        .split_once("\n## 2. ")
        .expect("the design has a section 2")
        .1;
    let block = section
        .split_once("```json\n")
        .expect("section 2 has a JSON block")
        .1
        .split_once("\n```")
        .unwrap()
        .0;
    serde_json::from_str(block).expect("the example is JSON")
}

fn address() -> Address {
    Address {
        lines: vec!["Kawasan Industri Jababeka".into()],
        street: s("Jl. Jababeka Raya Blok F"),
        building_number: s("12"),
        additional_street: s("Kawasan Industri Jababeka II"),
        city: s("Cikarang"),
        postal_code: s("17530"),
        region: s("Jawa Barat"),
        country: s("ID"),
        attention: vec!["Pak Darto, QC incoming".into()],
    }
}

fn contact() -> Contact {
    Contact {
        name: s("Rina Kusuma"),
        role: s("purchasing"),
        phone: s("+62 21 8983 1100"),
        email: s("rina.kusuma@mitra-otoparts.co.id"),
        fax: s("+62 21 8983 1101"),
        department: s("Procurement"),
    }
}

fn party_id(scheme: &str, value: &str) -> PartyId {
    PartyId {
        scheme: scheme.into(),
        value: value.into(),
        qualifier: s("0088"),
    }
}

fn party() -> Party {
    Party {
        name: s("PT Mitra Otoparts (Plant Cikarang)"),
        legal_name: s("PT Mitra Otoparts"),
        ids: vec![party_id("GLN", "8991234000019")],
        address: Some(address()),
        contacts: vec![contact()],
        source: Some(PartySource::Document),
    }
}

fn document() -> Document {
    Document {
        id: s("MO-DRW-4471"),
        kind: DocumentType::Drawing,
        type_text: s("Drawing"),
        revision: s("C"),
        description: s("Gambar kerja flange Ø51"),
        uri: s("https://supplier.mitra-otoparts.co.id/drw/MO-DRW-4471-C.pdf"),
        filename: s("MO-DRW-4471-C.pdf"),
        mime_type: s("application/pdf"),
        content_base64: s("JVBERi0xLjcK"),
        size: Some(9),
        sha256: s("9f2c4d0e5b1a7c3e8d6f2a4b0c9e7d5f3a1b8c6e4d2f0a9b7c5e3d1f8a6b4c2e"),
        href: s("/v1/orders/ord_01JDZ6K3M9/documents/1"),
    }
}

fn delivery() -> Delivery {
    Delivery {
        requested_date: Some(date("2026-12-16")),
        earliest: Some(date("2026-12-14")),
        latest: Some(date("2026-12-18")),
        ship_not_before: Some(date("2026-12-10")),
        ship_no_later: Some(date("2026-12-12")),
        cancel_after: Some(date("2026-12-31")),
        location: Some(Location {
            ids: vec![party_id("GLN", "8991234000026")],
            name: s("Gudang 2 (penerimaan barang)"),
            address: Some(address()),
        }),
        party: Some(party()),
        contacts: vec![contact()],
        transport: Some(Transport {
            mode: s("J"),
            carrier: s("JNE Trucking"),
            routing: s("via Semarang"),
            service_level: s("REG"),
        }),
    }
}

fn allowance_charge(level: AllowanceChargeLevel) -> AllowanceCharge {
    AllowanceCharge {
        kind: AllowanceChargeKind::Allowance,
        level: Some(level),
        reason_code: s("95"),
        reason_code_list: s("UNCL5189"),
        reason: s("Diskon kontrak 2%"),
        amount: Some(dec("337600")),
        percent: Some(dec("2")),
        base_amount: Some(dec("16880000")),
        rate: Some(dec("50")),
        rate_quantity: Some(dec("1")),
        rate_unit: s("KGM"),
        sequence: Some(1),
        tax: Some(TaxCategory {
            category: "S".into(),
            rate: dec("11"),
        }),
    }
}

fn reference(kind: ReferenceType) -> Reference {
    Reference {
        kind,
        value: "KTR-MO-2026-004".into(),
        issue_date: Some(date("2026-01-05")),
        line_number: s("3"),
        qualifier: s("CT"),
        description: s("Kontrak tahunan"),
    }
}

fn note() -> Note {
    Note {
        text: "Mohon cantumkan nomor PO pada surat jalan.".into(),
        subject: s("GEN"),
    }
}

fn extension() -> Extension {
    Extension {
        namespace: "ubl".into(),
        path: "/Order/cac:Delivery[2]/cbc:ID".into(),
        value: "D-2".into(),
        attributes: BTreeMap::from([("schemeID".into(), "0088".into())]),
    }
}

fn original(code: &str, list: &str) -> OriginalCode {
    OriginalCode {
        code: code.into(),
        list: list.into(),
    }
}

pub(super) fn maximal() -> PurchaseOrder {
    PurchaseOrder {
        version: Version::V2,
        buyer_order_number: "PO-MO-2026-1127".into(),
        issue_date: date("2026-11-27"),
        purpose: Some(Purpose::Replace),
        order_type: Some(OrderType {
            code: "220".into(),
            list: "UNCL1001".into(),
            text: s("Order"),
        }),
        currency: "IDR".into(),
        source: Source {
            format: "ubl-order".into(),
            syntax: "UBL 2.1".into(),
            customization: s("urn:fdc:peppol.eu:poacc:trns:order:3"),
            profile: s("urn:fdc:peppol.eu:poacc:bis:order_only:3"),
            control_number: s("PO-MO-2026-1127"),
        },
        buyer: Some(party()),
        supplier: Supplier {
            code: "PBG-017".into(),
            name: s("Bengkel Knalpot Jaya"),
            legal_name: s("CV Knalpot Jaya"),
            ids: vec![party_id("SUPPLIER_ASSIGNED", "PBG-017")],
            address: Some(address()),
            contacts: vec![contact()],
            source: Some(PartySource::Config),
        },
        other_parties: vec![OtherParty {
            role: "invoicee".into(),
            role_code: s("IV"),
            party: party(),
        }],
        delivery: Some(delivery()),
        delivery_terms: Some(DeliveryTerms {
            incoterm: s("FCA"),
            incoterms_version: s("2020"),
            place: s("Purbalingga"),
            text: s("Diambil ekspedisi pembeli di bengkel"),
            transport_payment: s("CC"),
        }),
        payment_terms: vec![PaymentTerms {
            text: s("30 hari setelah faktur diterima"),
            net_days: Some(30),
            due_date: Some(date("2027-01-31")),
            discount_percent: Some(dec("2")),
            discount_days: Some(10),
            discount_due_date: Some(date("2027-01-10")),
            discount_amount: Some(dec("370571.28")),
            code: s("01"),
        }],
        allowances_charges: vec![allowance_charge(AllowanceChargeLevel::Order)],
        taxes: vec![TaxSubtotal {
            scheme: "VAT".into(),
            category: s("S"),
            rate: Some(dec("11")),
            taxable_amount: Some(dec("16692400")),
            amount: Some(dec("1836164")),
            exemption_reason: s("none"),
        }],
        totals: Some(Totals {
            line_extension: Some(dec("16880000")),
            allowance_total: Some(dec("337600")),
            charge_total: Some(dec("150000")),
            tax_exclusive: Some(dec("16692400")),
            tax_total: Some(dec("1836164")),
            tax_inclusive: Some(dec("18528564.30")),
            prepaid: Some(dec("0")),
            rounding: Some(dec("-0.30")),
            payable: Some(dec("18528564")),
        }),
        references: vec![reference(ReferenceType::Contract)],
        documents: vec![document()],
        notes: vec![note()],
        lines: vec![OrderLine {
            line_number: "1".into(),
            parent_line_number: s("KIT-1"),
            item: Item {
                name: s("Flange knalpot 2 baut Ø51"),
                description: s("Flange dudukan knalpot, 2 lubang M8"),
                ids: vec![ItemId {
                    role: ItemIdRole::Standard,
                    scheme: s("GTIN"),
                    value: "08991234000033".into(),
                    qualifier: s("EN"),
                }],
                properties: vec![ItemProperty {
                    name: "Tebal".into(),
                    value: "8".into(),
                    unit: s("MMT"),
                    code: s("THK"),
                }],
                classifications: vec![Classification {
                    scheme: "UNSPSC".into(),
                    code: "40142000".into(),
                }],
                documents: vec![document()],
                origin_country: s("ID"),
            },
            quantity: dec("400"),
            unit: "ZZ".into(),
            unit_original: Some(original("GBND", "X12-355")),
            price: Some(Price {
                amount: dec("185000.00"),
                base_quantity: dec("100"),
                base_unit: s("ZZ"),
                base_unit_original: Some(original("GBND", "X12-355")),
                kind: Some(PriceKind::Net),
                basis_code: s("HP"),
            }),
            line_total: Some(dec("740000.00")),
            delivery: Some(delivery()),
            schedule: vec![ScheduleLine {
                quantity: dec("200"),
                requested_date: Some(date("2026-12-14")),
                earliest: Some(date("2026-12-13")),
                latest: Some(date("2026-12-15")),
            }],
            partial_delivery_allowed: Some(true),
            packaging: Some(Packaging {
                pack: Some(dec("10")),
                size: Some(dec("2.5")),
                size_unit: s("KGM"),
                package_code: s("XPK"),
                text: s("Peti kayu"),
            }),
            allowances_charges: vec![allowance_charge(AllowanceChargeLevel::Price)],
            taxes: vec![LineTax {
                scheme: "VAT".into(),
                category: s("S"),
                rate: Some(dec("11")),
                amount: Some(dec("81400")),
            }],
            references: vec![reference(ReferenceType::CostCentre)],
            notes: vec![note()],
            extensions: vec![extension()],
        }],
        extensions: vec![extension()],
        warnings: vec![Warning {
            code: "buyer-differs-from-registration".into(),
            message: "the document names the buyer 'PT Mitra Otoparts (Plant Cikarang)'".into(),
            path: s("/Order/cac:BuyerCustomerParty"),
            field: s("/buyer/name"),
        }],
        received: Some(Received {
            buyer_account: BuyerAccount {
                id: "mitra-otoparts".into(),
                name: "PT Mitra Otoparts".into(),
            },
            message_id: "msg_01JDZ6K2X4".into(),
            transaction: ReceivedTransaction {
                index: 0,
                control_number: s("PO-MO-2026-1127"),
            },
            plugin: ReceivedPlugin {
                name: "ubl-order".into(),
                version: "2.0.0".into(),
            },
        }),
    }
}

pub(super) fn minimal() -> PurchaseOrder {
    PurchaseOrder {
        version: Version::V2,
        buyer_order_number: "PO-1".into(),
        issue_date: date("2026-11-27"),
        purpose: None,
        order_type: None,
        currency: "IDR".into(),
        source: Source {
            format: "x12-850".into(),
            syntax: "X12 004010".into(),
            customization: None,
            profile: None,
            control_number: None,
        },
        buyer: None,
        supplier: Supplier {
            code: "PBG-017".into(),
            ..Default::default()
        },
        other_parties: vec![],
        delivery: None,
        delivery_terms: None,
        payment_terms: vec![],
        allowances_charges: vec![],
        taxes: vec![],
        totals: None,
        references: vec![],
        documents: vec![],
        notes: vec![],
        lines: vec![OrderLine {
            line_number: "1".into(),
            parent_line_number: None,
            item: Item {
                name: s("Knalpot"),
                ..Default::default()
            },
            quantity: dec("1"),
            unit: "H87".into(),
            unit_original: None,
            price: None,
            line_total: None,
            delivery: None,
            schedule: vec![],
            partial_delivery_allowed: None,
            packaging: None,
            allowances_charges: vec![],
            taxes: vec![],
            references: vec![],
            notes: vec![],
            extensions: vec![],
        }],
        extensions: vec![],
        warnings: vec![],
        received: None,
    }
}

/// Follows `$ref`s (local `#/$defs/…` only, which is all the schema uses).
pub(crate) fn resolve<'a>(root: &'a Value, mut node: &'a Value) -> &'a Value {
    while let Some(reference) = node.get("$ref").and_then(Value::as_str) {
        let name = reference.strip_prefix("#/$defs/").expect("local ref");
        node = &root["$defs"][name];
    }
    node
}

pub(crate) fn keys(value: &Value) -> BTreeSet<String> {
    value.as_object().unwrap().keys().cloned().collect()
}

/// Compares every object of `schema_node` with the maximal value's, and collects
/// their JSON pointers. A map (`additionalProperties` a schema, no `properties`)
/// has no fixed keys and is not compared.
pub(crate) fn compare(
    root: &Value,
    schema_node: &Value,
    max: &Value,
    at: &str,
    objects: &mut Vec<String>,
) {
    let node = resolve(root, schema_node);
    match node.get("type").and_then(Value::as_str) {
        Some("object") if node.get("properties").is_some() => {
            let declared = keys(&node["properties"]);
            assert_eq!(declared, keys(max), "properties of {at:?}");
            objects.push(at.to_owned());
            for name in declared {
                let child = format!("{at}/{name}");
                compare(
                    root,
                    &node["properties"][&name],
                    &max[&name],
                    &child,
                    objects,
                );
            }
        }
        Some("array") => {
            assert!(max.get(0).is_some(), "{at:?} is empty in the maximal order");
            compare(root, &node["items"], &max[0], &format!("{at}/0"), objects);
        }
        _ => {}
    }
}

/// Removes every key of every object of the maximal value (`objects` are their
/// pointers) in turn, and checks that the schema refuses the result exactly when
/// the type `T` does (a required field). `cross_field` keys are required only by
/// a rule across fields, which the types leave to the schema: the types accept
/// their removal and the schema refuses it. Answers how many removals it checked.
pub(crate) fn removals_agree<T: DeserializeOwned>(
    max: &Value,
    objects: &[String],
    cross_field: &[&str],
    schema_accepts: impl Fn(&Value) -> bool,
) -> usize {
    let mut checked = 0;
    for object in objects {
        for key in keys(max.pointer(object).unwrap()) {
            let mut value = max.clone();
            value
                .pointer_mut(object)
                .unwrap()
                .as_object_mut()
                .unwrap()
                .remove(&key);
            let field = format!("{object}/{key}");
            let rust_accepts = serde_json::from_value::<T>(value.clone()).is_ok();
            let schema_accepts = schema_accepts(&value);
            if cross_field.contains(&field.as_str()) {
                assert!(rust_accepts && !schema_accepts, "{field}");
            } else {
                assert_eq!(
                    rust_accepts,
                    schema_accepts,
                    "{field}: the types {}, the schema {}",
                    if rust_accepts {
                        "may leave it out"
                    } else {
                        "require it"
                    },
                    if schema_accepts {
                        "may leave it out"
                    } else {
                        "requires it"
                    },
                );
            }
            checked += 1;
        }
    }
    checked
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
    // Every object in the schema is reached: each `$defs` object is compared somewhere.
    let root = schema();
    let max = serde_json::to_value(maximal()).unwrap();
    let mut objects = Vec::new();
    compare(&root, &root, &max, "", &mut objects);
    assert!(objects.len() > 40, "{objects:?}");
}

#[test]
fn required_fields_agree_at_every_level() {
    let max = serde_json::to_value(maximal()).unwrap();
    assert_valid(&max);
    // `received` makes `buyer` required (a stored order has one): a rule across two
    // fields, which the types leave to the schema.
    let cross_field = ["/buyer"];
    let checked = removals_agree::<PurchaseOrder>(&max, &object_pointers(), &cross_field, |v| {
        errors(v).is_empty()
    });
    assert!(checked > 250, "{checked}");
}

#[test]
fn serialized_orders_validate_and_round_trip() {
    for order in [maximal(), minimal()] {
        let value = serde_json::to_value(&order).unwrap();
        assert_valid(&value);
        let back: PurchaseOrder = serde_json::from_value(value).unwrap();
        assert_eq!(back, order);
    }
}

#[test]
fn the_design_example_validates_and_round_trips_unchanged() {
    let example = design_example();
    assert_valid(&example);
    let order: PurchaseOrder = serde_json::from_value(example.clone()).unwrap();
    assert_eq!(serde_json::to_value(&order).unwrap(), example);
    // Typed, to be sure it was read as meant.
    assert_eq!(order.purpose(), Purpose::Original);
    let bolts = &order.lines[1];
    let price = bolts.price.as_ref().unwrap();
    assert_eq!(
        (price.amount, price.base_quantity),
        (dec("185000"), dec("100"))
    );
    assert_eq!(
        order.lines[0].item.documents[0].size,
        Some(184233),
        "stored documents carry size, sha256 and href"
    );
    assert_eq!(order.received.as_ref().unwrap().transaction.index, 0);

    // "The plugin's own output is the same without `received`, and with
    // `content_base64` in place of `size`/`sha256`/`href`."
    let mut output = example;
    output.as_object_mut().unwrap().remove("received");
    let drawing = output
        .pointer_mut("/lines/0/item/documents/0")
        .unwrap()
        .as_object_mut()
        .unwrap();
    for stored in ["size", "sha256", "href"] {
        drawing.remove(stored);
    }
    drawing.insert("content_base64".into(), json!("JVBERi0xLjcK"));
    assert_valid(&output);
    let order: PurchaseOrder = serde_json::from_value(output.clone()).unwrap();
    assert_eq!(serde_json::to_value(&order).unwrap(), output);
}

#[test]
fn money_is_written_as_decimal_strings_and_dates_as_iso_8601() {
    let value = serde_json::to_value(maximal()).unwrap();
    assert_eq!(value["lines"][0]["price"]["amount"], "185000.00");
    assert_eq!(value["lines"][0]["packaging"]["size"], "2.5");
    assert_eq!(value["totals"]["rounding"], "-0.30");
    assert_eq!(value["issue_date"], "2026-11-27");
    assert_eq!(value["version"], "2");
    // Trailing zeros stay as written.
    let mut order = minimal();
    order.lines[0].quantity = dec("50.000");
    let value = serde_json::to_value(&order).unwrap();
    assert_eq!(value["lines"][0]["quantity"], "50.000");
    // Integers are integers (counts, sizes), not strings.
    let value = serde_json::to_value(maximal()).unwrap();
    assert_eq!(value["payment_terms"][0]["net_days"], 30);
    assert_eq!(value["documents"][0]["size"], 9);
}

#[test]
fn optional_objects_serialize_empty() {
    let empty = json!({});
    assert_eq!(serde_json::to_value(Delivery::default()).unwrap(), empty);
    assert_eq!(serde_json::to_value(Totals::default()).unwrap(), empty);
    assert_eq!(serde_json::to_value(Address::default()).unwrap(), empty);
    assert_eq!(serde_json::to_value(Contact::default()).unwrap(), empty);
    assert_eq!(serde_json::to_value(Transport::default()).unwrap(), empty);
    assert_eq!(
        serde_json::to_value(DeliveryTerms::default()).unwrap(),
        empty
    );
    assert_eq!(
        serde_json::to_value(PaymentTerms::default()).unwrap(),
        empty
    );
    assert_eq!(serde_json::to_value(Packaging::default()).unwrap(), empty);
    assert_eq!(serde_json::to_value(Party::default()).unwrap(), empty);
    assert_eq!(serde_json::to_value(Location::default()).unwrap(), empty);
    assert_eq!(serde_json::to_value(Item::default()).unwrap(), empty);
}

/// Each variant as serialized, listed by an exhaustive `match` so that a variant
/// added to the type and not here fails to compile.
fn serialized<T: Serialize>(variants: &[T]) -> BTreeSet<String> {
    variants
        .iter()
        .map(|v| {
            serde_json::to_value(v)
                .unwrap()
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect()
}

fn schema_enum(pointer: &str) -> BTreeSet<String> {
    let root = schema();
    let node = resolve(&root, root.pointer(pointer).unwrap());
    let values = node
        .get("enum")
        .map(|e| e.as_array().unwrap().clone())
        .unwrap_or_else(|| vec![node["const"].clone()]);
    values
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn enumerations_agree() {
    macro_rules! all {
        ($ty:ident: $($variant:ident),+) => {{
            let all = [$($ty::$variant),+];
            for v in &all {
                match v { $($ty::$variant)|+ => {} }
            }
            serialized(&all)
        }};
    }
    let cases = [
        ("/properties/version", all!(Version: V2)),
        (
            "/properties/purpose",
            all!(Purpose: Original, Replace, Copy),
        ),
        (
            "/$defs/party/properties/source",
            all!(PartySource: Document, Registration, Config),
        ),
        (
            "/$defs/allowance_charge/properties/kind",
            all!(AllowanceChargeKind: Allowance, Charge),
        ),
        (
            "/$defs/allowance_charge/properties/level",
            all!(AllowanceChargeLevel: Order, Line, Price),
        ),
        (
            "/$defs/reference/properties/type",
            all!(ReferenceType: Contract, Project, CostCentre, Quotation, PreviousOrder,
                CustomerReference, Requisition, BlanketOrder, Release, SalesOrder, Originator,
                Promotion, DeliverySchedule, Other),
        ),
        (
            "/$defs/document/properties/type",
            all!(DocumentType: Drawing, Specification, Sketch, Photo, Certificate, Other),
        ),
        (
            "/$defs/item_id/properties/role",
            all!(ItemIdRole: Buyer, Supplier, Manufacturer, Standard, Other),
        ),
        ("/$defs/price/properties/kind", all!(PriceKind: Net, Gross)),
    ];
    for (pointer, rust) in cases {
        assert_eq!(rust, schema_enum(pointer), "{pointer}");
    }
    // The supplier is a party plus a code: the same sources.
    assert_eq!(
        schema_enum("/$defs/supplier/properties/source"),
        schema_enum("/$defs/party/properties/source")
    );
    assert_eq!(
        schema()["properties"]["purpose"]["default"],
        serde_json::to_value(Purpose::default()).unwrap()
    );
    // The party id tokens the types name are the schema's.
    let root = schema();
    let pattern = root["$defs"]["party_id"]["properties"]["scheme"]["pattern"]
        .as_str()
        .unwrap();
    let pattern =
        jsonschema::validator_for(&json!({"type": "string", "pattern": pattern})).unwrap();
    for token in [
        party_scheme::GLN,
        party_scheme::DUNS,
        party_scheme::DUNS_PLUS_4,
        party_scheme::TAX,
        party_scheme::COMPANY,
        party_scheme::BUYER_ASSIGNED,
        party_scheme::SUPPLIER_ASSIGNED,
        party_scheme::SAN,
        party_scheme::JEMBATAN,
        party_scheme::UNSPECIFIED,
        "ICD:0088",
        "ENDPOINT:iso6523-actorid-upis",
    ] {
        assert!(pattern.is_valid(&json!(token)), "{token}");
    }
    for token in ["gln", "VAT", "ICD:88", "ENDPOINT:", ""] {
        assert!(!pattern.is_valid(&json!(token)), "{token}");
    }
}

/// Sets `pointer` in a copy of the minimal order (`None` removes it) and answers
/// whether the schema accepts the result.
fn schema_accepts_minimal_with(changes: &[(&str, Option<Value>)]) -> bool {
    let mut value = serde_json::to_value(minimal()).unwrap();
    for (pointer, new) in changes {
        let (parent, key) = pointer.rsplit_once('/').unwrap();
        let parent = value.pointer_mut(parent).unwrap();
        match (parent, new) {
            (Value::Object(map), Some(new)) => {
                map.insert(key.to_owned(), new.clone());
            }
            (Value::Object(map), None) => {
                map.remove(key);
            }
            (Value::Array(items), Some(new)) => items[key.parse::<usize>().unwrap()] = new.clone(),
            _ => panic!("{pointer}"),
        }
    }
    errors(&value).is_empty()
}

#[test]
fn the_schema_holds_the_rules_across_fields() {
    let yes = |v: Value| Some(v);
    assert!(schema_accepts_minimal_with(&[]));
    // A stored order (with `received`) has a buyer; plugin output need not.
    let received = serde_json::to_value(maximal().received).unwrap();
    assert!(!schema_accepts_minimal_with(&[(
        "/received",
        yes(received.clone())
    )]));
    assert!(schema_accepts_minimal_with(&[
        ("/received", yes(received)),
        ("/buyer", yes(json!({"name": "CV Maju Motor"}))),
    ]));
    // A party: a name or an id, not both required; not nothing.
    for buyer in [
        json!({"name": "CV Maju Motor"}),
        json!({"legal_name": "CV Maju Motor"}),
        json!({"ids": [{"scheme": "GLN", "value": "8991234000019"}]}),
    ] {
        assert!(
            schema_accepts_minimal_with(&[("/buyer", yes(buyer.clone()))]),
            "{buyer}"
        );
    }
    for buyer in [
        json!({}),
        json!({"ids": []}),
        json!({"address": {"city": "Cikarang"}}),
    ] {
        assert!(
            !schema_accepts_minimal_with(&[("/buyer", yes(buyer.clone()))]),
            "{buyer}"
        );
    }
    // An item: a name, a description or an id.
    assert!(schema_accepts_minimal_with(&[(
        "/lines/0/item",
        yes(json!({"ids": [{"role": "buyer", "value": "MO-EXH-2207"}]}))
    )]));
    assert!(!schema_accepts_minimal_with(&[(
        "/lines/0/item",
        yes(json!({"origin_country": "ID"}))
    )]));
    // A unit ZZ may carry the code as written, or be what was written (v1 orders).
    assert!(schema_accepts_minimal_with(&[(
        "/lines/0/unit",
        yes(json!("ZZ"))
    )]));
    assert!(schema_accepts_minimal_with(&[
        ("/lines/0/unit", yes(json!("ZZ"))),
        (
            "/lines/0/unit_original",
            yes(json!({"code": "GBND", "list": "X12-355"}))
        ),
    ]));
    // A document: an id, a link or the bytes.
    for document in [
        json!({"type": "drawing", "id": "MO-DRW-4471"}),
        json!({"type": "other", "uri": "https://example.com/a.pdf"}),
        json!({"type": "photo", "content_base64": "iVBORw0KGgo=", "mime_type": "image/png"}),
        json!({"type": "drawing", "sha256": "9f2c4d0e5b1a7c3e8d6f2a4b0c9e7d5f3a1b8c6e4d2f0a9b7c5e3d1f8a6b4c2e", "size": 1, "href": "/v1/orders/o/documents/1"}),
    ] {
        assert!(
            schema_accepts_minimal_with(&[("/documents", yes(json!([document.clone()])))]),
            "{document}"
        );
    }
    assert!(!schema_accepts_minimal_with(&[(
        "/documents",
        yes(json!([{"type": "drawing", "description": "the drawing"}]))
    )]));
    // An allowance or charge says how much: an amount, a percent or a rate.
    assert!(!schema_accepts_minimal_with(&[(
        "/allowances_charges",
        yes(json!([{"kind": "charge", "reason": "Packing"}]))
    )]));
    assert!(schema_accepts_minimal_with(&[(
        "/allowances_charges",
        yes(json!([{"kind": "charge", "percent": "2.5"}]))
    )]));
    // A location is somewhere.
    assert!(!schema_accepts_minimal_with(&[(
        "/delivery",
        yes(json!({"location": {}}))
    )]));
}

#[test]
fn the_schema_keeps_v1_conventions() {
    let no = |pointer: &str, v: Value| !schema_accepts_minimal_with(&[(pointer, Some(v))]);
    assert!(no("/version", json!("1")));
    assert!(no("/version", json!(2)));
    assert!(!schema_accepts_minimal_with(&[("/version", None)]));
    assert!(no("/lines/0/quantity", json!(1.5)));
    assert!(no("/lines/0/quantity", json!("-1")));
    assert!(no("/lines/0/quantity", json!("1,5")));
    assert!(no("/lines/0/line_total", json!(null)));
    assert!(no("/issue_date", json!("27.11.2026")));
    assert!(no("/currency", json!("Rp")));
    assert!(!schema_accepts_minimal_with(&[("/currency", None)]));
    assert!(no("/surprise", json!("unknown properties are refused")));
    assert!(no("/lines/0/item/colour", json!("red")));
    assert!(no("/lines", json!([])));
    assert!(no("/totals", json!({"payable": "-1"})));
    assert!(!no("/totals", json!({"rounding": "-0.01"})));
    assert!(no(
        "/extensions",
        json!([{"namespace": "acme", "path": "x", "value": "y"}])
    ));
    assert!(!no(
        "/extensions",
        json!([{"namespace": "plugin:buyer-mitra-otoparts", "path": "x", "value": ""}])
    ));
    assert!(no(
        "/warnings",
        json!([{"code": "Not Kebab", "message": "m"}])
    ));
    // Serde refuses the same things the types can express.
    let mut value = serde_json::to_value(minimal()).unwrap();
    value["version"] = json!("1");
    assert!(serde_json::from_value::<PurchaseOrder>(value).is_err());
    let mut value = serde_json::to_value(minimal()).unwrap();
    value["lines"][0]["item"]["colour"] = json!("red");
    assert!(serde_json::from_value::<PurchaseOrder>(value).is_err());
    let mut value = serde_json::to_value(minimal()).unwrap();
    value["lines"][0]["quantity"] = json!(1.5);
    assert!(serde_json::from_value::<PurchaseOrder>(value).is_err());
}
