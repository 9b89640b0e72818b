//! `upgrade_v1` is lossless over every v1 order in the repository and over hand-made
//! edge cases; `downgrade_v2` loses only what its documentation says.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::OnceLock;

use rust_decimal::Decimal;
use serde_json::{Value, json};

use super::agreement::{design_example, maximal, minimal};
use super::*;
use crate::PURCHASE_ORDER_SCHEMA;
use crate::purchase_order as v1;

fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

fn v1_errors(value: &Value) -> Vec<String> {
    static VALIDATOR: OnceLock<jsonschema::Validator> = OnceLock::new();
    VALIDATOR
        .get_or_init(|| {
            jsonschema::validator_for(&serde_json::from_str(PURCHASE_ORDER_SCHEMA).unwrap())
                .unwrap()
        })
        .iter_errors(value)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

fn assert_valid_v1(value: &Value) {
    let errors = v1_errors(value);
    assert!(errors.is_empty(), "{errors:#?}\n{value:#}");
}

/// The whole property for one v1 order, written as JSON (`what` names it). The
/// order is what v1's types read (plugin inputs may leave out `currency`, which they
/// default), and is checked to be valid v1 as such.
fn assert_lossless(what: &str, written: &Value) {
    let order: v1::PurchaseOrder =
        serde_json::from_value(written.clone()).unwrap_or_else(|e| panic!("{what}: {e}"));
    assert_valid_v1(&serde_json::to_value(&order).unwrap());
    let upgraded = upgrade_v1(order.clone());
    let v2_value = serde_json::to_value(&upgraded).unwrap();
    let errors = super::agreement::errors(&v2_value);
    assert!(
        errors.is_empty(),
        "{what}: upgraded, not v2: {errors:#?}\n{v2_value:#}"
    );
    // Stored and read back as v2 text, then downgraded.
    let reread: PurchaseOrder = serde_json::from_value(v2_value).unwrap();
    assert_eq!(reread, upgraded, "{what}");
    let back = downgrade_v2(&reread);
    assert_eq!(back, order, "{what}");
    // Equal as JSON too: every decimal written with the same digits (`Decimal`'s `==`
    // would call 185000.00 and 185000 equal).
    assert_eq!(
        serde_json::to_value(&back).unwrap(),
        serde_json::to_value(&order).unwrap(),
        "{what}"
    );
}

pub(super) fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_owned()
}

pub(super) fn json_files(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy();
        if path.is_dir() {
            if !matches!(name.as_ref(), "target" | "dist" | "node_modules")
                && !name.starts_with('.')
            {
                json_files(&path, found);
            }
        } else if name.ends_with(".json") {
            found.push(path);
        }
    }
}

/// An object that looks like a v1 order: `buyer_order_number` at its top and no
/// `version`. Corpus expectations (`transactions`), configs and schemas are not.
fn looks_like_v1_order(value: &Value) -> bool {
    value.get("buyer_order_number").is_some() && value.get("version").is_none()
}

#[test]
fn upgrade_then_downgrade_is_lossless_for_every_v1_order_in_the_repository() {
    let root = repo_root();
    let mut files = Vec::new();
    for dir in ["schemas", "tests", "plugins", "gateway", "docs"] {
        json_files(&root.join(dir), &mut files);
    }
    files.sort();
    let mut orders = 0;
    let mut tested_files = Vec::new();
    for path in files {
        let relative = path.strip_prefix(&root).unwrap().display().to_string();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(&path).unwrap();
        if !text.contains("buyer_order_number") {
            continue;
        }
        // Fixtures that are meant to be refused by v1.
        let negative = name.starts_with("invalid-");
        let Ok(value) = serde_json::from_str::<Value>(&text) else {
            assert!(negative, "{relative} is not JSON");
            continue;
        };
        let candidates: Vec<&Value> = match &value {
            Value::Array(items) if items.iter().all(looks_like_v1_order) => items.iter().collect(),
            single if looks_like_v1_order(single) => vec![single],
            _ => continue,
        };
        if negative {
            assert!(
                candidates.iter().any(|o| !v1_errors(o).is_empty()),
                "{relative} is valid v1 although named invalid-"
            );
            continue;
        }
        for (i, order) in candidates.iter().enumerate() {
            assert_lossless(&format!("{relative}[{i}]"), order);
            orders += 1;
        }
        tested_files.push(relative);
    }
    // The fixtures this was written against; more may come, none may go unnoticed.
    for expected in [
        "tests/fixtures/canonical-every-field.json",
        "tests/fixtures/ubl-every-field.expected.json",
        "plugins/canonical-json/fixtures/minimal.json",
        "plugins/canonical-json/fixtures/full.json",
        "plugins/canonical-json/fixtures/array.json",
        "plugins/json-map/fixtures/json-two-orders.expected.json",
        "plugins/x12-850/fixtures/x12-4010-10-lines.expected.json",
        "plugins/x12-850/fixtures/x12-5010-two-orders.expected.json",
        "plugins/edifact-orders/fixtures/edifact-d96a-10-lines.expected.json",
        "plugins/edifact-orders/fixtures/edifact-d01b-two-messages.expected.json",
        "plugins/ubl-order/fixtures/ubl-10-lines.expected.json",
        "plugins/ubl-order/fixtures/peppol-bis3-order.expected.json",
        "plugins/cxml-order/fixtures/cxml-10-lines.expected.json",
        "plugins/buyer-mitra-otoparts/fixtures/mitra-10-lines.expected.json",
    ] {
        assert!(
            tested_files.iter().any(|f| f == expected),
            "{expected} not tested: {tested_files:#?}"
        );
    }
    assert!(orders >= 18, "{orders} orders");
}

/// Every optional v1 field set.
fn v1_every_field() -> Value {
    json!({
        "buyer_order_number": "PO-2026-0001",
        "issue_date": "2026-11-27",
        "currency": "USD",
        "buyer": {
            "id": "BUYER-01", "name": "PT Mitra Otoparts", "tax_id": "01.234.567.8-901.000",
            "address": {"street": "Jl. Raya Kalimanah No. 12", "additional_street": "Desa Kalimanah Wetan",
                        "city": "Purbalingga", "postal_code": "53371", "region": "Jawa Tengah", "country": "ID"},
            "contact": {"name": "Sari", "phone": "+62 281 000000", "email": "sari@example.co.id"}
        },
        "supplier": {"code": "PBG-017", "name": "Bengkel Knalpot Jaya"},
        "delivery": {"address": {"street": "Jl. Gudang Timur 8", "city": "Bekasi"}, "requested_date": "2026-12-10"},
        "lines": [{
            "line_number": "1", "buyer_item_code": "MO-EXH-125", "supplier_item_code": "KJ-125",
            "description": "Knalpot racing 125cc", "quantity": "150", "unit": "H87",
            "unit_price": "185000.00", "line_total": "27750000.00", "requested_date": "2026-12-08",
            "note": "Finishing hitam doff"
        }],
        "notes": ["Kirim via ekspedisi", "Hubungi Sari sebelum kirim"],
        "totals": {"line_extension": "27750000.00", "tax": "3052500.00", "payable": "30802500.00"}
    })
}

fn with(mut base: Value, pointer: &str, new: Value) -> Value {
    let (parent, key) = pointer.rsplit_once('/').unwrap();
    let parent = base.pointer_mut(parent).unwrap();
    match parent {
        Value::Object(map) if new.is_null() => {
            map.remove(key);
        }
        Value::Object(map) => {
            map.insert(key.to_owned(), new);
        }
        Value::Array(items) => items[key.parse::<usize>().unwrap()] = new,
        _ => panic!("{pointer}"),
    }
    base
}

#[test]
fn upgrade_then_downgrade_is_lossless_for_edge_cases() {
    let minimal = json!({
        "buyer_order_number": "1", "issue_date": "2026-01-01", "currency": "IDR",
        "buyer": {"name": "B"}, "supplier": {"code": "S"},
        "lines": [{"line_number": "1", "description": "D", "quantity": "1", "unit": "H87"}]
    });
    let long = |n: usize| "Ø".repeat(n);
    let cases = [
        ("every field", v1_every_field()),
        ("minimal", minimal.clone()),
        (
            "tax id without id",
            with(minimal.clone(), "/buyer/tax_id", json!("NPWP-1")),
        ),
        (
            "id without tax id",
            with(minimal.clone(), "/buyer/id", json!("GLN-1")),
        ),
        (
            "id and tax id equal",
            with(
                with(minimal.clone(), "/buyer/id", json!("X")),
                "/buyer/tax_id",
                json!("X"),
            ),
        ),
        (
            "empty contact and address",
            with(
                with(minimal.clone(), "/buyer/contact", json!({})),
                "/buyer/address",
                json!({}),
            ),
        ),
        (
            "empty delivery",
            with(minimal.clone(), "/delivery", json!({})),
        ),
        (
            "delivery with an empty address",
            with(minimal.clone(), "/delivery", json!({"address": {}})),
        ),
        (
            "delivery date only",
            with(
                minimal.clone(),
                "/delivery",
                json!({"requested_date": "2026-02-28"}),
            ),
        ),
        ("empty totals", with(minimal.clone(), "/totals", json!({}))),
        (
            "totals tax only",
            with(minimal.clone(), "/totals", json!({"tax": "0.00"})),
        ),
        (
            "empty notes",
            with(minimal.clone(), "/notes", json!(["", ""])),
        ),
        (
            "empty line note",
            with(minimal.clone(), "/lines/0/note", json!("")),
        ),
        (
            "line note with newlines",
            with(minimal.clone(), "/lines/0/note", json!("a\nb\n\nc")),
        ),
        (
            "supplier name",
            with(minimal.clone(), "/supplier/name", json!("Bengkel")),
        ),
        (
            "buyer code only",
            with(
                minimal.clone(),
                "/lines/0",
                json!({"line_number": "1", "buyer_item_code": "B-1", "quantity": "1", "unit": "H87"}),
            ),
        ),
        (
            "supplier code only",
            with(
                minimal.clone(),
                "/lines/0",
                json!({"line_number": "1", "supplier_item_code": "S-1", "quantity": "1", "unit": "H87"}),
            ),
        ),
        (
            "line date without order delivery",
            with(
                minimal.clone(),
                "/lines/0/requested_date",
                json!("2026-03-01"),
            ),
        ),
        (
            "trailing zeros",
            with(
                with(minimal.clone(), "/lines/0/quantity", json!("50.000")),
                "/lines/0/unit_price",
                json!("1000.0000"),
            ),
        ),
        (
            "zero price",
            with(minimal.clone(), "/lines/0/unit_price", json!("0")),
        ),
        (
            "smallest price",
            with(
                minimal.clone(),
                "/lines/0/unit_price",
                json!("0.000000000001"),
            ),
        ),
        (
            "28 digits",
            with(
                minimal.clone(),
                "/lines/0/line_total",
                json!("9999999999999999999999999999"),
            ),
        ),
        (
            "28 digits and 12 decimals",
            with(
                minimal.clone(),
                "/lines/0/unit_price",
                json!("1234567890123456.123456789012"),
            ),
        ),
        (
            "a unit v1 does not know",
            with(minimal.clone(), "/lines/0/unit", json!("ZZ")),
        ),
        (
            "longest texts",
            with(
                with(
                    with(minimal.clone(), "/lines/0/description", json!(long(2000))),
                    "/lines/0/note",
                    json!(long(4000)),
                ),
                "/buyer/name",
                json!(long(512)),
            ),
        ),
        (
            "many notes",
            with(minimal.clone(), "/notes", json!(vec!["n"; 50])),
        ),
        (
            "several lines",
            with(
                minimal.clone(),
                "/lines",
                json!([
                    {"line_number": "10", "description": "A", "quantity": "1", "unit": "H87", "requested_date": "2026-01-02"},
                    {"line_number": "20", "buyer_item_code": "B", "supplier_item_code": "S", "quantity": "2.5", "unit": "KGM", "unit_price": "3", "line_total": "7.5"},
                    {"line_number": "20", "description": "same number again", "quantity": "0", "unit": "C62", "note": "x"}
                ]),
            ),
        ),
        (
            "another currency",
            with(minimal.clone(), "/currency", json!("JPY")),
        ),
    ];
    for (what, order) in cases {
        assert_lossless(what, &order);
    }
}

#[test]
fn upgrade_follows_the_table() {
    let order: v1::PurchaseOrder = serde_json::from_value(v1_every_field()).unwrap();
    let upgraded = serde_json::to_value(upgrade_v1(order)).unwrap();
    let expected = json!({
        "version": "2",
        "buyer_order_number": "PO-2026-0001",
        "issue_date": "2026-11-27",
        "purpose": "original",
        "currency": "USD",
        "source": {"format": "unknown", "syntax": "canonical v1"},
        "buyer": {
            "name": "PT Mitra Otoparts",
            "ids": [{"scheme": "UNSPECIFIED", "value": "BUYER-01"},
                    {"scheme": "TAX", "value": "01.234.567.8-901.000"}],
            "address": {"street": "Jl. Raya Kalimanah No. 12", "additional_street": "Desa Kalimanah Wetan",
                        "city": "Purbalingga", "postal_code": "53371", "region": "Jawa Tengah", "country": "ID"},
            "contacts": [{"name": "Sari", "phone": "+62 281 000000", "email": "sari@example.co.id"}],
            "source": "document"
        },
        "supplier": {"code": "PBG-017", "name": "Bengkel Knalpot Jaya"},
        "delivery": {"requested_date": "2026-12-10",
                     "location": {"address": {"street": "Jl. Gudang Timur 8", "city": "Bekasi"}}},
        "totals": {"line_extension": "27750000.00", "tax_total": "3052500.00", "payable": "30802500.00"},
        "notes": [{"text": "Kirim via ekspedisi"}, {"text": "Hubungi Sari sebelum kirim"}],
        "lines": [{
            "line_number": "1",
            "item": {"description": "Knalpot racing 125cc",
                     "ids": [{"role": "buyer", "value": "MO-EXH-125"}, {"role": "supplier", "value": "KJ-125"}]},
            "quantity": "150",
            "unit": "H87",
            "price": {"amount": "185000.00", "base_quantity": "1"},
            "line_total": "27750000.00",
            "delivery": {"requested_date": "2026-12-08"},
            "notes": [{"text": "Finishing hitam doff"}]
        }]
    });
    assert_eq!(upgraded, expected);
}

fn line_with(item: Item) -> OrderLine {
    let mut line = minimal().lines.remove(0);
    line.item = item;
    line
}

fn downgrade_line(line: OrderLine) -> v1::OrderLine {
    let mut order = minimal();
    order.lines = vec![line];
    let v1 = downgrade_v2(&order);
    assert_valid_v1(&serde_json::to_value(&v1).unwrap());
    v1.lines.into_iter().next().unwrap()
}

fn item_id(role: ItemIdRole, value: &str) -> ItemId {
    ItemId {
        role,
        scheme: None,
        value: value.into(),
        qualifier: None,
    }
}

#[test]
fn downgrade_puts_the_name_before_the_description() {
    let both = downgrade_line(line_with(Item {
        name: Some("Flange knalpot".into()),
        description: Some("dibubut dari SS304".into()),
        ..Default::default()
    }));
    assert_eq!(
        both.description.as_deref(),
        Some("Flange knalpot — dibubut dari SS304")
    );
    let name_only = downgrade_line(line_with(Item {
        name: Some("Flange knalpot".into()),
        ..Default::default()
    }));
    assert_eq!(name_only.description.as_deref(), Some("Flange knalpot"));
    // Cut to v1's 2000 characters, and said so.
    let long = downgrade_line(line_with(Item {
        name: Some("N".repeat(512)),
        description: Some("D".repeat(4000)),
        ..Default::default()
    }));
    let description = long.description.unwrap();
    assert_eq!(description.chars().count(), 2000);
    assert!(description.ends_with('…'));
}

#[test]
fn downgrade_maps_item_ids_by_role() {
    let line = downgrade_line(line_with(Item {
        description: Some("Baut".into()),
        ids: vec![
            ItemId {
                scheme: Some("GTIN".into()),
                qualifier: Some("EN".into()),
                ..item_id(ItemIdRole::Standard, "08991234000033")
            },
            item_id(ItemIdRole::Supplier, "KJ-1"),
            item_id(ItemIdRole::Buyer, "MO-1"),
            item_id(ItemIdRole::Buyer, "MO-1-OLD"),
            item_id(ItemIdRole::Manufacturer, "M-1"),
        ],
        ..Default::default()
    }));
    assert_eq!(line.buyer_item_code.as_deref(), Some("MO-1"));
    assert_eq!(line.supplier_item_code.as_deref(), Some("KJ-1"));
    assert_eq!(
        line.note.as_deref(),
        Some("Item ids: standard GTIN (EN) 08991234000033; buyer MO-1-OLD; manufacturer M-1")
    );
    // With neither code nor description, the other ids say what the item is.
    let line = downgrade_line(line_with(Item {
        ids: vec![item_id(ItemIdRole::Manufacturer, "M-1")],
        ..Default::default()
    }));
    assert_eq!(line.buyer_item_code, None);
    assert_eq!(line.description.as_deref(), Some("manufacturer M-1"));
    assert_eq!(line.note, None);
}

fn price(amount: &str, base: &str, base_unit: Option<&str>) -> Price {
    Price {
        amount: dec(amount),
        base_quantity: dec(base),
        base_unit: base_unit.map(str::to_owned),
        base_unit_original: None,
        kind: None,
        basis_code: None,
    }
}

#[test]
fn downgrade_divides_a_price_only_when_exact() {
    let unit_price = |p: Price| {
        let mut line = line_with(Item {
            name: Some("Baut".into()),
            ..Default::default()
        });
        line.price = Some(p);
        let line = downgrade_line(line);
        let written = line.unit_price.map(|d| serde_json::to_value(d).unwrap());
        (written, line.note)
    };
    assert_eq!(
        unit_price(price("185000", "100", None)),
        (Some(json!("1850")), None)
    );
    assert_eq!(
        unit_price(price("185000.00", "100", Some("H87"))),
        (Some(json!("1850.00")), None)
    );
    assert_eq!(
        unit_price(price("38500.00", "1", None)),
        (Some(json!("38500.00")), None)
    );
    assert_eq!(
        unit_price(price("1", "1000", None)),
        (Some(json!("0.001")), None)
    );
    assert_eq!(
        unit_price(price("12", "12", None)),
        (Some(json!("1")), None)
    );
    // Not exact: no unit price, the price as stated in the note.
    assert_eq!(
        unit_price(price("100", "3", None)),
        (None, Some("Price: 100 per 3 H87".to_owned()))
    );
    // More than v1's 12 decimals.
    assert_eq!(unit_price(price("1", "8192", None)).0, None);
    // For another unit than the line's: not a price of one line unit.
    assert_eq!(
        unit_price(price("50000", "1", Some("KGM"))),
        (None, Some("Price: 50000 per 1 KGM".to_owned()))
    );
    assert_eq!(unit_price(price("5", "0", None)).0, None);
}

#[test]
fn downgrade_of_the_design_example() {
    let order: PurchaseOrder = serde_json::from_value(design_example()).unwrap();
    let v1 = serde_json::to_value(downgrade_v2(&order)).unwrap();
    assert_valid_v1(&v1);
    // The ids: the first non-tax id and the tax id.
    assert_eq!(v1["buyer"]["id"], "MO-CKR");
    assert_eq!(v1["buyer"]["tax_id"], "0012345678012000");
    assert_eq!(v1["buyer"]["name"], "PT Mitra Otoparts (Plant Cikarang)");
    assert_eq!(
        v1["buyer"]["contact"],
        json!({"name": "Rina Kusuma", "phone": "+62 21 8983 1100", "email": "rina.kusuma@mitra-otoparts.co.id"})
    );
    assert_eq!(
        v1["supplier"],
        json!({"code": "PBG-017", "name": "Bengkel Knalpot Jaya"})
    );
    // The window has no v1 field: no requested date is made up, the window is a note.
    assert_eq!(v1["delivery"].get("requested_date"), None);
    assert_eq!(
        v1["delivery"]["address"]["street"],
        "Jl. Jababeka Raya Blok F 12"
    );
    assert_eq!(
        v1["totals"],
        json!({"line_extension": "16880000", "tax": "1836164", "payable": "18528564"})
    );
    let notes: Vec<&str> = v1["notes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap())
        .collect();
    assert_eq!(
        notes,
        [
            "Mohon cantumkan nomor PO pada surat jalan.",
            "Order type: UNCL1001 220",
            "Delivery: between 2026-12-14 and 2026-12-18; deliver to Gudang 2 (penerimaan barang); contact Darto, +62 812 2100 4471",
            "Delivery attention: Pak Darto, QC incoming",
            "Delivery terms: FCA Purbalingga (Incoterms 2020); Diambil ekspedisi pembeli di bengkel",
            "Payment terms: 30 hari setelah faktur diterima; net 30 days",
            "Allowance: Diskon kontrak 2%; 337600, 2% of 16880000; tax S 11%",
            "Charge: Peti kayu (packing); 150000; tax S 11%",
            "Tax VAT S 11%: 1836164 on 16692400",
            "Totals: allowances 337600, charges 150000, tax exclusive 16692400, tax inclusive 18528564",
            "Contract: KTR-MO-2026-004",
            "Project: PRJ-NMAX-EXH-27",
            "Cost centre: CC-410-PROD",
            "Quotation: Q-KJ-2611-88",
            "Specification QA-SPEC-07: Standar inspeksi las dan visual: https://supplier.mitra-otoparts.co.id/spec/QA-SPEC-07.pdf",
        ]
    );
    let flange = &v1["lines"][0];
    assert_eq!(
        flange["description"],
        "Flange knalpot 2 baut Ø51 — Flange dudukan knalpot, 2 lubang M8, dibubut dari pelat SS304 tebal 8 mm"
    );
    assert_eq!(flange["buyer_item_code"], "MO-EXH-2207");
    assert_eq!(flange["supplier_item_code"], "KJ-FL51-8");
    assert_eq!(flange["unit_price"], "38500");
    assert_eq!(
        flange["note"],
        "Tanpa gerinda di permukaan dudukan gasket.\n\
         Properties: Bahan: SS304; Tebal: 8 MMT; Diameter dalam: 51.2 MMT; Toleransi: ±0.1 mm; Finishing: bead blast\n\
         Drawing MO-DRW-4471 rev. C: Gambar kerja flange Ø51: MO-DRW-4471-C.pdf: /v1/orders/ord_01JDZ6K3M9/documents/1\n\
         Origin: ID\n\
         No partial delivery\n\
         Tax VAT S 11%\n\
         Cost centre: CC-410-PROD"
    );
    // Bolts at 185000 per 100: 1850 each.
    let bolts = &v1["lines"][1];
    assert_eq!(bolts["unit_price"], "1850");
    assert_eq!(bolts["description"], "Baut M8x25 SS304");
    assert_eq!(
        bolts["note"],
        "Properties: Standar: DIN 933\nDelivery: between 2026-12-14 and 2026-12-16\nTax VAT S 11%"
    );
    // Extensions, warnings, received and source are not v1's.
    let text = v1.to_string();
    for dropped in [
        "LOT-2611-A",
        "buyer-differs-from-registration",
        "msg_01JDZ6K2X4",
        "peppol",
    ] {
        assert!(!text.contains(dropped), "{dropped}");
    }
}

#[test]
fn downgrade_is_valid_v1_for_the_maximal_and_minimal_orders() {
    for order in [maximal(), minimal()] {
        let v1 = serde_json::to_value(downgrade_v2(&order)).unwrap();
        assert_valid_v1(&v1);
    }
    let v1 = downgrade_v2(&maximal());
    assert!(
        v1.notes
            .iter()
            .any(|n| n == "Replaces an order sent earlier")
    );
    // The maximal line's price is per 100 ZZ for a ZZ line: exact, so divided.
    assert_eq!(
        serde_json::to_value(v1.lines[0].unit_price).unwrap(),
        json!("1850.00")
    );
    let note = v1.lines[0].note.as_deref().unwrap();
    for expected in [
        "GEN: Mohon cantumkan",
        "Part of line KIT-1",
        "Unit as written: GBND (X12-355)",
        "Schedule: 200 on 2026-12-14, between 2026-12-13 and 2026-12-15",
        "Partial delivery allowed",
        "Packaging: 10 per pack, size 2.5 KGM, XPK, Peti kayu",
        "Price allowance: Diskon kontrak 2%",
        "Classification UNSPSC 40142000",
    ] {
        assert!(note.contains(expected), "{expected:?} not in {note:?}");
    }
}

#[test]
fn downgrade_finds_a_buyer_name() {
    let name = |order: &PurchaseOrder| downgrade_v2(order).buyer.name;
    let mut order = minimal();
    assert_eq!(name(&order), compat::UNNAMED_BUYER);
    order.received = maximal().received;
    assert_eq!(name(&order), "PT Mitra Otoparts");
    order.received = None;
    order.buyer = Some(Party {
        ids: vec![PartyId {
            scheme: "GLN".into(),
            value: "8991234000019".into(),
            qualifier: None,
        }],
        ..Default::default()
    });
    assert_eq!(name(&order), "GLN 8991234000019");
    assert_eq!(
        downgrade_v2(&order).buyer.id.as_deref(),
        Some("8991234000019")
    );
    order.buyer.as_mut().unwrap().legal_name = Some("PT Mitra Otoparts Tbk".into());
    assert_eq!(name(&order), "PT Mitra Otoparts Tbk");
}

#[test]
fn downgrade_flattens_v2_addresses() {
    let mut order = minimal();
    order.buyer = Some(Party {
        name: Some("B".into()),
        address: Some(Address {
            lines: vec![
                "Kawasan Industri Jababeka".into(),
                "Blok F".into(),
                "Gate 3".into(),
            ],
            building_number: Some("12".into()),
            city: Some("Cikarang".into()),
            attention: vec!["Pak Darto".into()],
            ..Default::default()
        }),
        ..Default::default()
    });
    let v1 = downgrade_v2(&order);
    let address = v1.buyer.address.unwrap();
    assert_eq!(
        address.street.as_deref(),
        Some("Kawasan Industri Jababeka 12")
    );
    assert_eq!(address.additional_street.as_deref(), Some("Blok F, Gate 3"));
    assert_eq!(address.city.as_deref(), Some("Cikarang"));
    assert_eq!(v1.notes, ["Buyer attention: Pak Darto"]);
}
