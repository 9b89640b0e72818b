use jembatan_plugin_sdk::draft::item_id;
use jembatan_plugin_sdk::testing::assert_schema_valid;
use jembatan_plugin_sdk::{
    Decimal, ItemIdRole, Message, NaiveDate, OrderLine, Outcome, Plugin, PluginError, PurchaseOrder,
};
use serde_json::Value;

use crate::MitraOtoparts;

const CONFIG: &str = include_str!("../config.example.json");
const TEN_LINES: &[u8] = include_bytes!("../fixtures/mitra-10-lines.xml");
const MINIMAL: &[u8] = include_bytes!("../fixtures/mitra-minimal.xml");
const EDGE: &[u8] = include_bytes!("../fixtures/mitra-edge.xml");

/// The orders as the host receives them; every transaction must be one.
fn json(body: &[u8], config: &str) -> Result<Vec<String>, PluginError> {
    let normalized = MitraOtoparts::normalize_json(&Message::new("application/xml", body), config)?;
    Ok(normalized
        .transactions
        .into_iter()
        .map(|t| match t.outcome {
            Outcome::Order(json) => json,
            other => panic!("not an order: {other:?}"),
        })
        .collect())
}

fn order(body: &[u8]) -> PurchaseOrder {
    let out = json(body, CONFIG).unwrap_or_else(|e| panic!("{e}"));
    assert_schema_valid(&out);
    assert_eq!(out.len(), 1);
    serde_json::from_str(&out[0]).unwrap()
}

fn error(body: &[u8], config: &str) -> (String, String) {
    let err = json(body, config).expect_err("should fail");
    let path = err
        .location
        .as_ref()
        .and_then(|l| l.path.clone())
        .unwrap_or_default();
    (err.code, path)
}

#[test]
fn ten_line_order_maps_every_field() {
    let out = json(TEN_LINES, CONFIG).unwrap();
    assert_schema_valid(&out);
    // Written from the XML and config.example.json: supplier and item codes are
    // mapped, units go through unit_map (PSG → PR, LSN → DZN), rupiah amounts lose
    // their grouping but keep their scale, dd-mm-yyyy dates become ISO. The v2
    // expectation is the v1 one (`.expected.json`) moved field by field as
    // docs/canonical-order-v2.md §3 says, with NamaBarang as the item's name.
    let expected: Value = serde_json::from_slice(include_bytes!(
        "../fixtures/mitra-10-lines.expected.v2.json"
    ))
    .unwrap();
    assert_eq!(serde_json::from_str::<Value>(&out[0]).unwrap(), expected);
}

#[test]
fn minimal_order() {
    let order = order(MINIMAL);
    assert_eq!(order.buyer_order_number, "MO/PO/2026/11/0460");
    let buyer = order.buyer.as_ref().unwrap();
    assert_eq!((order.currency.as_str(), &buyer.ids[..]), ("IDR", &[][..]));
    assert_eq!(order.supplier.code, "PBG-JAYA-KNALPOT");
    assert_eq!((order.delivery, order.totals), (None, None));
    let line = &order.lines[0];
    assert_eq!(line.line_number, "1");
    assert!(
        line.item
            .ids
            .contains(&item_id(ItemIdRole::Supplier, "SL-BRK-BEAT-01"))
    );
    assert_eq!(
        (line.unit.as_str(), line.quantity),
        ("H87", Decimal::from(100))
    );
}

#[test]
fn unusual_but_valid_order() {
    let config = CONFIG.replace(
        r#""default_currency": "IDR""#,
        r#""default_currency": "USD""#,
    );
    let out = json(EDGE, &config).unwrap();
    assert_schema_valid(&out);
    let order: PurchaseOrder = serde_json::from_str(&out[0]).unwrap();
    assert_eq!(order.currency, "USD", "no MataUang: the config's default");
    assert_eq!(
        order.buyer.unwrap().name.as_deref(),
        Some("PT Mitra Otoparts Indonesia (Cabang Bekasi)")
    );
    assert_eq!(order.supplier.name, None);
    let delivery = order.delivery.unwrap();
    assert_eq!(
        (delivery.location, delivery.requested_date),
        (None, NaiveDate::from_ymd_opt(2026, 12, 15))
    );
    let [plate, set] = &order.lines[..] else {
        panic!("two lines")
    };
    assert!(
        plate
            .item
            .ids
            .iter()
            .all(|id| id.role != ItemIdRole::Supplier),
        "not in item_map"
    );
    assert_eq!(
        plate.item.name.as_deref(),
        Some("Pelat besi 2 mm <potongan>")
    );
    assert_eq!(
        (plate.quantity.to_string(), plate.unit.as_str()),
        ("2.750".to_owned(), "KGM")
    );
    let amount = |line: &OrderLine| line.price.as_ref().map(|p| p.amount);
    assert_eq!(amount(plate), Some(Decimal::from(32000)));
    assert_eq!(
        (set.line_number.as_str(), set.item.ids.is_empty()),
        ("2", true)
    );
    assert_eq!(amount(set), Some(Decimal::from(1_150_000)));
}

#[test]
fn wrong_documents() {
    let bad_price = error(include_bytes!("../fixtures/mitra-bad-price.xml"), CONFIG);
    assert_eq!(
        bad_price,
        (
            "invalid-value".into(),
            "/PesananPembelian/DaftarBarang/Barang[3]/HargaSatuan".into()
        )
    );
    let bad_date = error(include_bytes!("../fixtures/mitra-bad-date.xml"), CONFIG);
    assert_eq!(
        bad_date,
        ("invalid-value".into(), "/PesananPembelian/TanggalPO".into())
    );
    let truncated = error(include_bytes!("../fixtures/mitra-truncated.xml"), CONFIG);
    assert_eq!(
        truncated,
        ("malformed-xml".into(), "/PesananPembelian".into())
    );
    let ubl = br#"<Order xmlns="urn:oasis:names:specification:ubl:schema:xsd:Order-2"/>"#;
    assert_eq!(error(ubl, CONFIG), ("not-an-order".into(), "/Order".into()));
}

#[test]
fn unmapped_codes_name_the_config_key() {
    let text = std::str::from_utf8(MINIMAL).unwrap();
    let err = json(text.replace("SUP-0057", "SUP-9999").as_bytes(), CONFIG).unwrap_err();
    assert_eq!(err.code, "invalid-value");
    assert!(err.message.contains("supplier_map"), "{err}");
    let err = json(
        text.replace(r#"satuan="PCS""#, r#"satuan="DUS""#)
            .as_bytes(),
        CONFIG,
    )
    .unwrap_err();
    assert!(err.message.contains("unit_map"), "{err}");
    assert_eq!(
        err.location.unwrap().path.as_deref(),
        Some("/PesananPembelian/DaftarBarang/Barang[1]/Jumlah/@satuan")
    );
}

#[test]
fn missing_fields() {
    let text = std::str::from_utf8(MINIMAL).unwrap();
    for (removed, path) in [
        (
            "<NomorPO>MO/PO/2026/11/0460</NomorPO>",
            "/PesananPembelian/NomorPO",
        ),
        (
            "<TanggalPO>05-11-2026</TanggalPO>",
            "/PesananPembelian/TanggalPO",
        ),
        (r#" kode="SUP-0057""#, "/PesananPembelian/Pemasok/@kode"),
        (">100<", "/PesananPembelian/DaftarBarang/Barang[1]/Jumlah"),
        (
            r#" satuan="PCS""#,
            "/PesananPembelian/DaftarBarang/Barang[1]/Jumlah/@satuan",
        ),
        (
            "<KodeBarang>MO-BRK-0310</KodeBarang>",
            "/PesananPembelian/DaftarBarang/Barang[1]/KodeBarang",
        ),
    ] {
        let body = text.replacen(removed, if removed == ">100<" { "><" } else { "" }, 1);
        assert_eq!(
            error(body.as_bytes(), CONFIG),
            ("missing-field".into(), path.into()),
            "{removed}"
        );
    }
    // No buyer named: the gateway takes it from the buyer's registration.
    let nameless = text.replacen("<Nama>PT Mitra Otoparts Indonesia</Nama>", "", 1);
    assert_eq!(order(nameless.as_bytes()).buyer, None);
    // A contact with no buyer to name cannot be kept without a party: refused.
    let contact_only = text.replacen(
        "<Nama>PT Mitra Otoparts Indonesia</Nama>",
        "<Kontak>Sari</Kontak>",
        1,
    );
    assert_eq!(
        error(contact_only.as_bytes(), CONFIG),
        (
            "missing-field".into(),
            "/PesananPembelian/Pembeli/Nama".into()
        )
    );
}

#[test]
fn bad_config() {
    for config in [
        r#"{"unit_map":{"PCS":"pieces"}}"#,
        r#"{"default_currency":"Rp"}"#,
        r#"{"supplier_map":{"A":" "}}"#,
        r#"{"units":{}}"#,
    ] {
        assert_eq!(error(MINIMAL, config).0, "invalid-config", "{config}");
    }
}
