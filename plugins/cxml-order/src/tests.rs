use jembatan_plugin_sdk::draft::item_id;
use jembatan_plugin_sdk::testing::{self, assert_schema_valid, path};
use jembatan_plugin_sdk::{Decimal, ItemIdRole, NaiveDate, Plugin, PluginError, PurchaseOrder};
use serde_json::Value;

use crate::CxmlOrder;

const TEN_LINES: &[u8] = include_bytes!("../fixtures/cxml-10-lines.xml");
const MINIMAL: &[u8] = include_bytes!("../fixtures/cxml-minimal.xml");
const PREFIXED: &[u8] = include_bytes!("../fixtures/cxml-prefixed.xml");
/// The every-field fixture states line totals in `Extrinsic name="LineTotal"`.
const LINE_TOTALS: &str = r#"{"line_total_extrinsic":"LineTotal"}"#;
const MINIMAL_CONFIG: &str = r#"{"buyer_name":"CV Maju Motor"}"#;

fn json(body: &[u8], config: &str) -> Result<Vec<String>, PluginError> {
    testing::json::<CxmlOrder>(body, config)
}

fn order(body: &[u8], config: &str) -> PurchaseOrder {
    testing::order::<CxmlOrder>(body, config)
}

fn error(body: &[u8], config: &str) -> PluginError {
    testing::error::<CxmlOrder>(body, config)
}

fn minimal_with(from: &str, to: &str) -> Vec<u8> {
    let text = std::str::from_utf8(MINIMAL).unwrap();
    assert!(text.contains(from), "{from}");
    text.replacen(from, to, 1).into_bytes()
}

#[test]
fn ten_line_order_maps_every_field() {
    let out = json(TEN_LINES, LINE_TOTALS).unwrap();
    assert_schema_valid(&out);
    let actual: Value = serde_json::from_str(&out[0]).unwrap();
    // Written from the XML, field by field: BillTo names the buyer, its addressID
    // and the From credential (a NetworkID) identify it; every To credential is a
    // supplier id and the first routes; the second Street becomes
    // additional_street; DeliverTo is the ship-to's attention; Shipping is an
    // order charge; ShortName the item's name; the manufacturer's name qualifies
    // its part id; timestamps keep their day, the full value is an extension with
    // a time-dropped warning; Tax/Description, the header Extrinsic, the Sender's
    // UserAgent and deploymentMode are cxml extensions; decimals keep scale.
    let expected: Value =
        serde_json::from_slice(include_bytes!("../fixtures/cxml-10-lines.expected.v2.json"))
            .unwrap();
    let mut expected = expected;
    // The fixture's To has two credentials; without supplier_domain the first counts.
    expected["supplier"]["code"] = "867530912".into();
    assert_eq!(actual, expected);
}

#[test]
fn supplier_domain_picks_the_credential() {
    let config = r#"{"line_total_extrinsic":"LineTotal","supplier_domain":"SupplierID"}"#;
    let actual: Value = serde_json::from_str(&json(TEN_LINES, config).unwrap()[0]).unwrap();
    let expected: Value =
        serde_json::from_slice(include_bytes!("../fixtures/cxml-10-lines.expected.v2.json"))
            .unwrap();
    assert_eq!(actual, expected);
    let missing = error(TEN_LINES, r#"{"supplier_domain":"GLN"}"#);
    assert_eq!(
        (missing.code.as_str(), path(&missing)),
        ("missing-field", "/cXML/Header/To/Credential/Identity")
    );
}

#[test]
fn line_totals_are_never_computed() {
    let order = order(TEN_LINES, "{}");
    assert!(order.lines.iter().all(|l| l.line_total.is_none()));
    let stated = self::order(TEN_LINES, LINE_TOTALS);
    let sum: Decimal = stated.lines.iter().filter_map(|l| l.line_total).sum();
    assert_eq!(Some(sum), stated.totals.unwrap().payable);
    assert_eq!(stated.lines[3].quantity, Decimal::new(125, 1));
    assert_eq!(stated.lines[3].unit, "KGM");
    assert_eq!(
        stated.lines[0].delivery.as_ref().unwrap().requested_date,
        NaiveDate::from_ymd_opt(2026, 11, 20)
    );
    assert_eq!(
        (
            stated.lines[7].item.name.as_deref(),
            stated.lines[7].item.description.as_deref()
        ),
        (Some("Gasket knalpot"), Some("Gasket knalpot tembaga"))
    );
}

#[test]
fn minimal_order_uses_defaults() {
    let out = json(MINIMAL, MINIMAL_CONFIG).unwrap();
    assert_schema_valid(&out);
    let order = order(MINIMAL, MINIMAL_CONFIG);
    assert_eq!(order.buyer_order_number, "PO-CX-MIN-1");
    assert_eq!(
        order.issue_date,
        NaiveDate::from_ymd_opt(2026, 11, 5).unwrap()
    );
    let buyer = order.buyer.unwrap();
    assert_eq!(buyer.name.as_deref(), Some("CV Maju Motor"));
    assert_eq!(buyer.ids[0].value, "CV-MAJU-MOTOR", "the From identity");
    assert_eq!(order.supplier.code, "PBG-01");
    assert_eq!((order.delivery, order.notes.len()), (None, 0));
    let line = &order.lines[0];
    assert_eq!(
        line.line_number, "1",
        "position when there is no lineNumber"
    );
    assert_eq!(
        (line.unit.as_str(), line.quantity),
        ("EA", Decimal::from(10))
    );
    assert_eq!(
        line.item.ids,
        [item_id(ItemIdRole::Supplier, "KNL-SPX-125")]
    );
    assert!(line.notes.is_empty());

    // Without buyer_name the From identity alone names the buyer.
    let buyer = self::order(MINIMAL, "{}").buyer.unwrap();
    assert_eq!(
        (buyer.name, buyer.ids[0].value.as_str()),
        (None, "CV-MAJU-MOTOR")
    );
    // A BillTo address with nothing to name its party is refused, not dropped.
    let anonymous = minimal_with(
        r#"<Identity>CV-MAJU-MOTOR</Identity></Credential></From>"#,
        "<Identity></Identity></Credential></From>",
    );
    let anonymous = String::from_utf8(anonymous).unwrap().replace(
        "<Total>",
        "<BillTo><Address><PostalAddress><City>Semarang</City></PostalAddress></Address></BillTo><Total>",
    );
    let err = error(anonymous.as_bytes(), "{}");
    assert_eq!(err.code, "missing-field");
    assert_eq!(
        path(&err),
        "/cXML/Request/OrderRequest/OrderRequestHeader/BillTo/Address/Name"
    );
    assert!(err.message.contains("buyer_name"), "{err}");
    // With no buyer at all, the gateway takes it from the registration.
    let silent = minimal_with(
        r#"<Identity>CV-MAJU-MOTOR</Identity></Credential></From>"#,
        "<Identity></Identity></Credential></From>",
    );
    assert_eq!(self::order(&silent, "{}").buyer, None);
}

#[test]
fn config_defaults_apply_only_where_the_document_is_silent() {
    let config = r#"{"buyer_name":"X","buyer_id":"B-1","supplier_code":"CFG","default_currency":"USD","default_unit":"C62"}"#;
    let body = minimal_with(
        r#"<Money currency="IDR">2450000</Money>"#,
        "<Money>2450000</Money>",
    );
    let body = String::from_utf8(body)
        .unwrap()
        .replace(
            r#"<Money currency="IDR">245000</Money>"#,
            "<Money>245000</Money>",
        )
        .replace("<UnitOfMeasure>EA</UnitOfMeasure>", "")
        .replace(
            "<To><Credential domain=\"SupplierID\"><Identity>PBG-01</Identity></Credential></To>",
            "",
        )
        .replace("<Identity>CV-MAJU-MOTOR</Identity>", "");
    let order = order(body.as_bytes(), config);
    assert_eq!(order.currency, "USD");
    assert_eq!(order.lines[0].unit, "C62");
    assert_eq!(order.supplier.code, "CFG");
    let buyer = order.buyer.unwrap();
    assert_eq!(
        (buyer.name.as_deref(), buyer.ids[0].value.as_str()),
        (Some("X"), "B-1")
    );
    let documented = self::order(MINIMAL, config);
    assert_eq!(
        (
            documented.currency.as_str(),
            documented.supplier.code.as_str()
        ),
        ("IDR", "PBG-01")
    );
}

#[test]
fn prefixes_cdata_utc_dates_and_short_names() {
    let out = json(PREFIXED, "{}").unwrap();
    assert_schema_valid(&out);
    let order = order(PREFIXED, "{}");
    assert_eq!(order.buyer_order_number, "PO-PFX-7");
    assert_eq!(
        order.issue_date,
        NaiveDate::from_ymd_opt(2026, 11, 4).unwrap(),
        "the day as written, not moved to +07:00"
    );
    let buyer = order.buyer.as_ref().unwrap();
    assert_eq!(buyer.name.as_deref(), Some("PT Roda Mas & Co"));
    assert_eq!(buyer.ids[0].value, "RODA-MAS-SMG");
    assert_eq!(
        order.currency, "IDR",
        "from the first Money when there is no Total"
    );
    assert_eq!(order.totals, None);
    let address = order.delivery.unwrap().location.unwrap().address.unwrap();
    assert_eq!(
        (address.city.as_deref(), address.country.as_deref()),
        (Some("Semarang"), Some("ID"))
    );
    let [first, second] = &order.lines[..] else {
        panic!("two lines")
    };
    assert_eq!(
        first.item.description.as_deref(),
        Some("Pelat besi <hitam> 3 mm")
    );
    assert_eq!(
        (first.quantity.to_string().as_str(), first.unit.as_str()),
        ("2.750", "KGM")
    );
    assert_eq!(
        first.delivery.as_ref().unwrap().requested_date,
        NaiveDate::from_ymd_opt(2026, 11, 30)
    );
    assert_eq!(
        (second.line_number.as_str(), second.unit.as_str()),
        ("2", "SET")
    );
    assert_eq!(
        (
            second.item.name.as_deref(),
            second.item.description.as_deref()
        ),
        (Some("Klem knalpot Vespa"), None),
        "ShortName"
    );
    assert_eq!(second.price.as_ref().unwrap().amount, Decimal::ZERO);
}

#[test]
fn ubl_and_other_requests_are_not_orders() {
    let err = error(include_bytes!("../fixtures/cxml-ubl-order.xml"), "{}");
    assert_eq!(err.code, "not-an-order");
    assert!(err.message.contains("<Order>"), "{err}");
    assert!(
        err.message
            .contains("urn:oasis:names:specification:ubl:schema:xsd:Order-2"),
        "{err}"
    );
    assert_eq!(path(&err), "/Order");

    let err = error(include_bytes!("../fixtures/cxml-profile-request.xml"), "{}");
    assert_eq!(err.code, "not-an-order");
    assert!(err.message.contains("<ProfileRequest>"), "{err}");
}

#[test]
fn truncated_and_malformed_documents() {
    let body = include_bytes!("../fixtures/cxml-truncated.xml");
    let err = error(body, "{}");
    assert_eq!(err.code, "malformed-xml");
    assert!(err.message.contains("<PostalAddress>"), "{err}");
    let location = err.location.unwrap();
    assert_eq!(location.offset, Some(body.len() as u64));
    assert_eq!(
        location.path.as_deref(),
        Some("/cXML/Request/OrderRequest/OrderRequestHeader/ShipTo/Address/PostalAddress")
    );

    let err = error(&minimal_with("</ItemID>", "</ItemId>"), "{}");
    assert_eq!(err.code, "malformed-xml");
    let location = err.location.unwrap();
    assert_eq!(location.line, Some(14));
    assert!(location.column.is_some());
    assert_eq!(error(b"", "{}").code, "empty-body");
    assert_eq!(error(b"{\"orderID\":1}", "{}").code, "malformed-xml");
}

#[test]
fn bad_values_name_the_cxml_path() {
    let err = error(
        include_bytes!("../fixtures/cxml-bad-date.xml"),
        MINIMAL_CONFIG,
    );
    assert_eq!(err.code, "invalid-value");
    assert_eq!(
        path(&err),
        "/cXML/Request/OrderRequest/OrderRequestHeader/@orderDate"
    );
    assert!(err.message.contains("05/11/2026"), "{err}");
    assert_eq!(err.location.unwrap().line, Some(10));

    let cases = [
        (
            r#"quantity="10""#,
            r#"quantity="10,5""#,
            "/cXML/Request/OrderRequest/ItemOut[1]/@quantity",
        ),
        (
            r#"quantity="10""#,
            r#"quantity="10" requestedDeliveryDate="2026-11-31""#,
            "/cXML/Request/OrderRequest/ItemOut[1]/@requestedDeliveryDate",
        ),
        (
            "<UnitOfMeasure>EA</UnitOfMeasure>",
            "<UnitOfMeasure>pcs</UnitOfMeasure>",
            "/cXML/Request/OrderRequest/ItemOut[1]/ItemDetail/UnitOfMeasure",
        ),
        (
            r#"<Money currency="IDR">245000</Money>"#,
            r#"<Money currency="USD">15</Money>"#,
            "/cXML/Request/OrderRequest/ItemOut[1]/ItemDetail/UnitPrice/Money/@currency",
        ),
        (
            r#"<Money currency="IDR">245000</Money>"#,
            r#"<Money currency="IDR">Rp 245.000</Money>"#,
            "/cXML/Request/OrderRequest/ItemOut[1]/ItemDetail/UnitPrice/Money",
        ),
        (
            r#"<Money currency="IDR">2450000</Money>"#,
            r#"<Money currency="rupiah">2450000</Money>"#,
            "/cXML/Request/OrderRequest/OrderRequestHeader/Total/Money/@currency",
        ),
    ];
    for (from, to, expected) in cases {
        let err = error(&minimal_with(from, to), MINIMAL_CONFIG);
        assert_eq!(
            (err.code.as_str(), path(&err)),
            ("invalid-value", expected),
            "{to}: {err}"
        );
    }
}

#[test]
fn missing_fields_name_the_cxml_path() {
    let second_item = r#"</ItemOut>
      <ItemOut lineNumber="2"><ItemID><SupplierPartID>X</SupplierPartID></ItemID></ItemOut>"#;
    let cases = [
        (
            r#"orderID="PO-CX-MIN-1""#,
            "",
            "/cXML/Request/OrderRequest/OrderRequestHeader/@orderID",
        ),
        (
            r#"orderDate="2026-11-05""#,
            "",
            "/cXML/Request/OrderRequest/OrderRequestHeader/@orderDate",
        ),
        (
            "</ItemOut>",
            second_item,
            "/cXML/Request/OrderRequest/ItemOut[2]/@quantity",
        ),
        (
            "<ItemID><SupplierPartID>KNL-SPX-125</SupplierPartID></ItemID>",
            "",
            "/cXML/Request/OrderRequest/ItemOut[1]/ItemDetail/Description",
        ),
    ];
    for (from, to, expected) in cases {
        let body = minimal_with(from, to);
        let body = String::from_utf8(body).unwrap().replace(
            r#"<Description xml:lang="id">Knalpot standar Honda Supra X 125</Description>"#,
            if expected.ends_with("Description") {
                ""
            } else {
                r#"<Description xml:lang="id">Knalpot standar Honda Supra X 125</Description>"#
            },
        );
        let err = error(body.as_bytes(), MINIMAL_CONFIG);
        assert_eq!(
            (err.code.as_str(), path(&err)),
            ("missing-field", expected),
            "{err}"
        );
    }
    let text = std::str::from_utf8(MINIMAL).unwrap();
    let no_items = format!(
        "{}{}",
        &text[..text.find("<ItemOut").unwrap()],
        &text[text.find("</OrderRequest>").unwrap()..]
    );
    assert_eq!(
        path(&error(no_items.as_bytes(), MINIMAL_CONFIG)),
        "/cXML/Request/OrderRequest/ItemOut"
    );
}

#[test]
fn bad_config_is_invalid_config() {
    for config in [
        r#"{"default_unit":"piece"}"#,
        r#"{"default_currency":"Rp"}"#,
        r#"{"supplier_code":" "}"#,
        r#"{"buyer":"X"}"#,
        "[",
    ] {
        assert_eq!(error(MINIMAL, config).code, "invalid-config", "{config}");
    }
}

#[test]
fn info_names_the_content_types() {
    let info = CxmlOrder::info();
    assert_eq!(
        (info.name, info.content_types),
        ("cxml-order", &["application/xml", "text/xml"][..])
    );
}
