use jembatan_plugin_sdk::draft::item_id;
use jembatan_plugin_sdk::testing::{self, assert_schema_valid, path};
use jembatan_plugin_sdk::{
    Decimal, ItemIdRole, NaiveDate, Outcome, Plugin, PluginError, PurchaseOrder,
};
use serde_json::Value;

use crate::CxmlOrder;

const TEN_LINES: &[u8] = include_bytes!("../fixtures/cxml-10-lines.xml");
const MINIMAL: &[u8] = include_bytes!("../fixtures/cxml-minimal.xml");
const PREFIXED: &[u8] = include_bytes!("../fixtures/cxml-prefixed.xml");
/// The every-field fixture states line totals in `Extrinsic name="LineTotal"`.
const LINE_TOTALS: &str = r#"{"line_total_extrinsic":"LineTotal"}"#;
const MINIMAL_CONFIG: &str = r#"{"buyer_name":"CV Maju Motor"}"#;

/// The orders as the host receives them; every transaction must be one.
fn json(body: &[u8], config: &str) -> Vec<String> {
    testing::orders_json::<CxmlOrder>(body, config)
}

fn order(body: &[u8], config: &str) -> PurchaseOrder {
    testing::order::<CxmlOrder>(body, config)
}

/// The error the whole message is refused with.
fn error(body: &[u8], config: &str) -> PluginError {
    testing::error::<CxmlOrder>(body, config)
}

/// The refusal of the document's transaction.
fn refused(body: &[u8], config: &str) -> PluginError {
    testing::refused::<CxmlOrder>(body, config)
}

fn minimal_with(from: &str, to: &str) -> Vec<u8> {
    let text = std::str::from_utf8(MINIMAL).unwrap();
    assert!(text.contains(from), "{from}");
    text.replacen(from, to, 1).into_bytes()
}

#[test]
fn ten_line_order_maps_every_field() {
    let out = json(TEN_LINES, LINE_TOTALS);
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
    let actual: Value = serde_json::from_str(&json(TEN_LINES, config)[0]).unwrap();
    let expected: Value =
        serde_json::from_slice(include_bytes!("../fixtures/cxml-10-lines.expected.v2.json"))
            .unwrap();
    assert_eq!(actual, expected);
    let missing = refused(TEN_LINES, r#"{"supplier_domain":"GLN"}"#);
    assert_eq!(
        (missing.code.as_str(), path(&missing)),
        ("missing-field", "/cXML/Header/To/Credential/Identity")
    );
}

/// The Sender is whoever transmitted the document, often the network rather than
/// the buyer: its identity is kept as a labelled extension with its credential's
/// attributes, never made a buyer id; its SharedSecret (a network password) is
/// never stored.
#[test]
fn sender_identity_is_kept_and_its_shared_secret_never() {
    let body = minimal_with(
        r#"<Sender><Credential domain="NetworkID"><Identity>CV-MAJU-MOTOR</Identity></Credential>"#,
        r#"<Sender><Credential domain="NetworkID" type="marketplace"><Identity>AN01000231457</Identity><SharedSecret>kata-sandi-Rahasia-77</SharedSecret></Credential>"#,
    );
    let out = json(&body, MINIMAL_CONFIG);
    assert_schema_valid(&out);
    assert!(
        !out[0].contains("kata-sandi-Rahasia-77") && !out[0].contains("SharedSecret"),
        "the shared secret leaked: {}",
        out[0]
    );
    let order: Value = serde_json::from_str(&out[0]).unwrap();
    let sender: Vec<&Value> = order["extensions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["path"] == "/cXML/Header/Sender/Credential/Identity")
        .collect();
    assert_eq!(
        sender,
        [&serde_json::json!({
            "namespace": "cxml",
            "path": "/cXML/Header/Sender/Credential/Identity",
            "value": "AN01000231457",
            "attributes": {"domain": "NetworkID", "type": "marketplace"}
        })]
    );
    let user_agent = order["extensions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["path"] == "/cXML/Header/Sender/UserAgent")
        .unwrap();
    assert_eq!(user_agent["value"], "manual");
    let buyer_ids = order["buyer"]["ids"].as_array().unwrap();
    assert!(
        buyer_ids.iter().all(|id| id["value"] != "AN01000231457"),
        "the Sender is not a buyer id: {buyer_ids:?}"
    );
}

/// A line total is taken only where the buyer states one (the config's
/// `line_total_extrinsic`, or a line's one `Distribution/Charge`): never computed
/// from quantity and price, never summed from split charges.
#[test]
fn line_totals_are_taken_as_stated_never_computed() {
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

/// The minimal order with `distributions` (`Distribution` elements) after its
/// `ItemDetail`.
fn with_distributions(distributions: &str) -> Vec<u8> {
    minimal_with("</ItemDetail>", &format!("</ItemDetail>{distributions}"))
}

fn distribution(cost_centre: &str, amount: &str) -> String {
    format!(
        r#"<Distribution><Accounting name="Bengkel"><Segment type="Cost Center" id="{cost_centre}" description="Servis"/></Accounting><Charge><Money currency="IDR">{amount}</Money></Charge></Distribution>"#
    )
}

fn charges(line: &jembatan_plugin_sdk::OrderLine) -> Vec<&str> {
    line.extensions
        .iter()
        .filter(|e| e.path == "/cXML/Request/OrderRequest/ItemOut[1]/Distribution/Charge")
        .map(|e| e.value.as_str())
        .collect()
}

#[test]
fn one_distribution_states_the_line_total() {
    let body = with_distributions(&distribution("CC-10", "2450000.00"));
    assert_schema_valid(&json(&body, MINIMAL_CONFIG));
    let order = order(&body, MINIMAL_CONFIG);
    let line = &order.lines[0];
    assert_eq!(line.line_total, Some("2450000.00".parse().unwrap()));
    assert!(charges(line).is_empty(), "the Charge is not kept twice");
    // The cost object stays: its segment a reference, its name an extension.
    assert_eq!(
        (line.references[0].kind, line.references[0].value.as_str()),
        (jembatan_plugin_sdk::ReferenceType::CostCentre, "CC-10")
    );
    assert!(
        line.extensions
            .iter()
            .any(|e| e.path.ends_with("Distribution/Accounting/@name") && e.value == "Bengkel")
    );
}

#[test]
fn split_distributions_state_no_line_total() {
    let body = with_distributions(&format!(
        "{}{}",
        distribution("CC-10", "1470000"),
        distribution("CC-20", "980000")
    ));
    let order = order(&body, MINIMAL_CONFIG);
    let line = &order.lines[0];
    assert_eq!(line.line_total, None, "split charges are not summed");
    assert_eq!(
        charges(line),
        [
            r#"<Money currency="IDR">1470000</Money>"#,
            r#"<Money currency="IDR">980000</Money>"#
        ]
    );
    let centres: Vec<_> = line.references.iter().map(|r| r.value.as_str()).collect();
    assert_eq!(centres, ["CC-10", "CC-20"]);
}

#[test]
fn a_charge_in_another_currency_stays_an_extension() {
    let body = with_distributions(&distribution("CC-10", "150.00").replace("IDR", "USD"));
    let order = order(&body, MINIMAL_CONFIG);
    assert_eq!(order.currency, "IDR");
    assert_eq!(order.lines[0].line_total, None);
    assert_eq!(
        charges(&order.lines[0]),
        [r#"<Money currency="USD">150.00</Money>"#]
    );
}

#[test]
fn the_configured_extrinsic_comes_before_the_charge() {
    let config = r#"{"buyer_name":"CV Maju Motor","line_total_extrinsic":"LineTotal"}"#;
    let extrinsic = r#"<Extrinsic name="LineTotal">2450000</Extrinsic>"#;
    let body = String::from_utf8(with_distributions(&distribution("CC-10", "2400000"))).unwrap();
    // In ItemDetail, before the Distribution (DTD 1.2.063 l. 3108), and after it
    // in the ItemOut, where some senders write it.
    for placed in [
        body.replace("</ItemDetail>", &format!("{extrinsic}</ItemDetail>")),
        body.replace("</Distribution>", &format!("</Distribution>{extrinsic}")),
    ] {
        let order = order(placed.as_bytes(), config);
        let line = &order.lines[0];
        assert_eq!(line.line_total, Some(Decimal::from(2450000)), "{placed}");
        assert_eq!(charges(line), [r#"<Money currency="IDR">2400000</Money>"#]);
    }
}

#[test]
fn minimal_order_uses_defaults() {
    let out = json(MINIMAL, MINIMAL_CONFIG);
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
    let err = refused(anonymous.as_bytes(), "{}");
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
    let out = json(PREFIXED, "{}");
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

    // Another cXML request is cXML all the same: not an order, named.
    let out =
        testing::json::<CxmlOrder>(include_bytes!("../fixtures/cxml-profile-request.xml"), "{}")
            .unwrap();
    assert_eq!(
        testing::outcomes(&out),
        ["0 p-1@buyer not-an-order ProfileRequest"]
    );
}

#[test]
fn one_document_is_one_transaction_named_by_its_payload_id() {
    let out = testing::json::<CxmlOrder>(MINIMAL, MINIMAL_CONFIG).unwrap();
    let [transaction] = &out.transactions[..] else {
        panic!("one transaction")
    };
    let order: Value = serde_json::from_str(transaction.order().unwrap()).unwrap();
    assert_eq!(
        transaction.id.control_number.as_deref(),
        order["source"]["control_number"].as_str(),
    );
    let location = transaction.id.location.as_ref().unwrap();
    assert_eq!(location.path.as_deref(), Some("/cXML"));

    // A refused order keeps its control number, for the replay.
    let delete = minimal_with(
        r#"orderDate="2026-11-05""#,
        r#"orderDate="2026-11-05" type="delete""#,
    );
    let out = testing::json::<CxmlOrder>(&delete, MINIMAL_CONFIG).unwrap();
    assert_eq!(
        out.transactions[0].id.control_number,
        transaction.id.control_number
    );

    // Responses and messages are documents, not orders.
    let text = std::str::from_utf8(MINIMAL).unwrap();
    let (head, _) = text.split_once("<Request").unwrap();
    for (inner, kind) in [
        (
            r#"<Response><Status code="200" text="OK"/></Response>"#,
            "Response",
        ),
        (
            r#"<Response><Status code="200" text="OK"/><ProfileResponse effectiveDate="2026-11-05T00:00:00+07:00"/></Response>"#,
            "ProfileResponse",
        ),
        (
            "<Message><PunchOutOrderMessage><BuyerCookie>1</BuyerCookie></PunchOutOrderMessage></Message>",
            "PunchOutOrderMessage",
        ),
    ] {
        let body = format!("{head}{inner}</cXML>");
        let out = testing::json::<CxmlOrder>(body.as_bytes(), "{}").unwrap();
        assert!(
            matches!(&out.transactions[0].outcome, Outcome::NotAnOrder { kind: k, .. } if k == kind),
            "{inner}: {:?}",
            out.transactions[0].outcome
        );
    }
    // cXML with no document at all is nothing to read.
    let body = format!("{head}</cXML>");
    assert_eq!(error(body.as_bytes(), "{}").code, "not-an-order");
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
    let err = refused(
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
        let err = refused(&minimal_with(from, to), MINIMAL_CONFIG);
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
        let err = refused(body.as_bytes(), MINIMAL_CONFIG);
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
        path(&refused(no_items.as_bytes(), MINIMAL_CONFIG)),
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

/// The public cXML corpus (tests/corpus/cxml): each test asserts what the
/// document's hand-written `.expected.json` says it carries.
mod corpus {
    use super::*;

    fn read(body: &[u8]) -> PurchaseOrder {
        assert_schema_valid(&json(body, "{}"));
        order(body, "{}")
    }

    /// (line number, description, supplier id, quantity, unit, price amount).
    fn lines(order: &PurchaseOrder) -> Vec<(&str, &str, &str, String, &str, String)> {
        order
            .lines
            .iter()
            .map(|l| {
                (
                    l.line_number.as_str(),
                    l.item.description.as_deref().unwrap_or(""),
                    l.item.ids[0].value.as_str(),
                    l.quantity.to_string(),
                    l.unit.as_str(),
                    l.price.as_ref().unwrap().amount.to_string(),
                )
            })
            .collect()
    }

    fn day(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    #[test]
    fn cxml_php_sample_order_request() {
        let order = read(include_bytes!(
            "../../../tests/corpus/cxml/cxml-php-sample-orderrequest.xml"
        ));
        assert_eq!(order.buyer_order_number, "DO1234");
        assert_eq!(order.issue_date, day("2000-10-12"));
        assert_eq!(order.currency, "EUR");
        assert_eq!(order.source.syntax, "cXML 1.2.050", "from the DOCTYPE");
        assert_eq!(
            order.source.control_number.as_deref(),
            Some("1625586002.193314.7293@dev")
        );
        assert_eq!(
            order.totals.as_ref().unwrap().payable,
            Some("85.00".parse().unwrap())
        );
        let buyer = order.buyer.as_ref().unwrap();
        assert_eq!(buyer.ids[0].value, "inbound@prominate-platform.com");
        assert_eq!(buyer.name.as_deref(), Some("Zinc GmbH"), "BillTo");
        assert_eq!(buyer.contacts[0].phone.as_deref(), Some("+49 761 1234567"));
        assert_eq!(order.supplier.ids[0].value, "supplier@supplier.com");
        let delivery = order.delivery.as_ref().unwrap();
        let place = delivery.location.as_ref().unwrap();
        assert_eq!(place.name.as_deref(), Some("Acme"));
        let address = place.address.as_ref().unwrap();
        assert_eq!(address.attention, ["Joe Smith", "Mailstop M-543"]);
        assert_eq!(
            (
                address.street.as_deref(),
                address.region.as_deref(),
                address.country.as_deref()
            ),
            (Some("123 Anystreet"), Some("CA"), Some("US"))
        );
        assert_eq!(
            delivery.contacts[0].phone.as_deref(),
            Some("+1 800 5551212")
        );
        // The attachment's URL is a bare file name, not a URL: kept as a reference.
        assert_eq!(
            order.documents[0].filename.as_deref(),
            Some("delivery-note.pdf")
        );
        assert_eq!(order.documents[0].uri, None);
        assert_eq!(
            lines(&order),
            [
                (
                    "1",
                    "hello from item 1",
                    "1233244",
                    "10".into(),
                    "EA",
                    "2.10".into()
                ),
                (
                    "2",
                    "hello from item 2",
                    "1233245",
                    "20".into(),
                    "EA",
                    "3.20".into()
                ),
            ]
        );
        for line in &order.lines {
            assert_eq!(
                line.delivery.as_ref().unwrap().requested_date,
                Some(day("2020-02-28"))
            );
            assert_eq!(
                (
                    line.item.classifications[0].scheme.as_str(),
                    line.item.classifications[0].code.as_str()
                ),
                ("custom", "0")
            );
        }
        assert_eq!(order.lines[1].notes[0].text, "Test comment");
        assert_eq!(order.lines[1].notes[0].subject.as_deref(), Some("test"));
    }

    #[test]
    fn cxml_php_eu_hub_order_request() {
        let order = read(include_bytes!(
            "../../../tests/corpus/cxml/cxml-php-eu-hub-order-request.xml"
        ));
        assert_eq!(order.buyer_order_number, "acme-1-1");
        assert_eq!(order.issue_date, day("2025-01-27"));
        assert_eq!(order.currency, "USD");
        assert_eq!(order.source.syntax, "cXML 1.2.060");
        let delivery = order.delivery.as_ref().unwrap();
        // 23:00 UTC stays on the 28th: the day as written, the time kept aside.
        assert_eq!(delivery.requested_date, Some(day("2025-01-28")));
        assert!(
            order.warnings.iter().any(|w| w.code == "time-dropped"
                && w.field.as_deref() == Some("/delivery/requested_date"))
        );
        assert!(
            order
                .extensions
                .iter()
                .any(|e| e.path.ends_with("@requestedDeliveryDate")
                    && e.value == "2025-01-28T23:00:00+00:00")
        );
        assert_eq!(order.buyer.as_ref().unwrap().ids[0].value, "AN00000123");
        assert_eq!(
            order.buyer.as_ref().unwrap().ids[0].scheme,
            "ENDPOINT:NetworkID"
        );
        assert_eq!(order.supplier.code, "AN00000456");
        let address = delivery
            .location
            .as_ref()
            .unwrap()
            .address
            .as_ref()
            .unwrap();
        assert_eq!(address.attention, ["ACME", "TEST.USA"]);
        assert_eq!(address.postal_code.as_deref(), Some("43201-3551"));
        // The Extrinsic inside PostalAddress and the card-less payment reference are kept.
        let phone = order
            .extensions
            .iter()
            .find(|e| e.path.ends_with("PostalAddress/Extrinsic"))
            .unwrap();
        assert_eq!(
            (phone.value.as_str(), phone.attributes["name"].as_str()),
            ("+49121255566", "phone")
        );
        let payment = order
            .extensions
            .iter()
            .find(|e| e.path.ends_with("Payment/PaymentReference"))
            .unwrap();
        assert_eq!(payment.attributes["provider"], "stripe");
        assert!(payment.value.contains("ch_..."));
        assert_eq!(
            lines(&order),
            [(
                "1",
                "Testing",
                "QA-ACME-AUTOTEST",
                "1".into(),
                "EA",
                "10.00".into()
            )]
        );
        assert_eq!(order.lines[0].item.ids[1].role, ItemIdRole::Buyer);
        assert_eq!(
            order.lines[0].item.classifications[0].scheme,
            "supplier_part_id"
        );
        assert_eq!(
            order.totals.unwrap().payable,
            Some("10.00".parse().unwrap())
        );
    }

    #[test]
    fn officeluv_coupa_order_request() {
        let order = read(include_bytes!(
            "../../../tests/corpus/cxml/officeluv-coupa-order-request.xml"
        ));
        assert_eq!(order.buyer_order_number, "3309");
        assert_eq!(order.issue_date, day("2020-03-31"));
        assert_eq!(order.currency, "USD");
        assert_eq!(order.source.syntax, "cXML 1.2.014");
        let buyer = order.buyer.as_ref().unwrap();
        assert!(buyer.ids.iter().any(|id| id.value == "kasdflkjasdf"));
        let end_user = buyer
            .contacts
            .iter()
            .find(|c| c.role.as_deref() == Some("endUser"))
            .unwrap();
        assert_eq!(
            (end_user.name.as_deref(), end_user.email.as_deref()),
            (
                Some("alksdjfalskjf alk sdjflkj"),
                Some("asdlfkjasdflkj@optisconsulting.com")
            )
        );
        assert_eq!(order.supplier.code, "development@officeluv.com");
        let place = order.delivery.as_ref().unwrap().location.as_ref().unwrap();
        assert_eq!(place.ids[0].value, "21444");
        assert_eq!(place.address.as_ref().unwrap().attention, ["Venkat"]);
        let shipping = &order.allowances_charges[0];
        assert_eq!(shipping.amount, Some("0.0".parse().unwrap()));
        assert!(
            order
                .extensions
                .iter()
                .any(
                    |e| e.attributes.get("name").map(String::as_str) == Some("legacy_po")
                        && e.value.is_empty()
                )
        );
        assert_eq!(
            lines(&order),
            [
                (
                    "1",
                    "Yogurt Whips, Key Lime Pie, 4oz Cup",
                    "product:1861",
                    "1".into(),
                    "EA",
                    "8.1".into()
                ),
                (
                    "2",
                    "Zingerman's Cheese Spreads Pimento Cheese",
                    "product:4884",
                    "9".into(),
                    "EA",
                    "9.29".into()
                ),
            ]
        );
        let line = &order.lines[1];
        assert_eq!(line.item.ids[1].value, "product-requisition:6235");
        assert_eq!(
            line.item.ids[1].qualifier.as_deref(),
            Some("SupplierPartAuxiliaryID")
        );
        assert_eq!(line.item.classifications[0].code, "unknown");
        let cost_centre = line
            .references
            .iter()
            .find(|r| r.kind == jembatan_plugin_sdk::ReferenceType::CostCentre)
            .unwrap();
        assert_eq!(cost_centre.value, "c50");
        let project = line
            .references
            .iter()
            .find(|r| r.kind == jembatan_plugin_sdk::ReferenceType::Project)
            .unwrap();
        assert_eq!(project.value, "000384");
        // Each line's one Distribution/Charge is its stated total, kept once.
        let totals: Vec<_> = order.lines.iter().map(|l| l.line_total).collect();
        assert_eq!(
            totals,
            [Some("8.1".parse().unwrap()), Some("83.61".parse().unwrap())]
        );
        assert!(
            !line
                .extensions
                .iter()
                .any(|e| e.path.ends_with("Distribution/Charge"))
        );
        assert!(
            line.extensions
                .iter()
                .any(
                    |e| e.attributes.get("name").map(String::as_str) == Some("LineType")
                        && e.value == "Quantity"
                )
        );
        assert_eq!(
            order.totals.unwrap().payable,
            Some("91.71".parse().unwrap())
        );
    }

    #[test]
    fn officeluv_coupa_purchase_order_200() {
        let order = read(include_bytes!(
            "../../../tests/corpus/cxml/officeluv-coupa-purchase-order-200.xml"
        ));
        assert_eq!(order.buyer_order_number, "6112");
        assert_eq!(order.issue_date, day("2008-01-07"));
        assert_eq!(order.currency, "USD");
        let buyer = order.buyer.as_ref().unwrap();
        assert_eq!(buyer.name.as_deref(), Some("SOB1"));
        // "dell" in domain "duns" is no DUNS number; the domain stays as qualifier.
        let dell = buyer.ids.iter().find(|id| id.value == "dell").unwrap();
        assert_eq!(
            (dell.scheme.as_str(), dell.qualifier.as_deref()),
            ("UNSPECIFIED", Some("duns"))
        );
        let duns = &order.supplier.ids[0];
        assert_eq!(
            (duns.scheme.as_str(), duns.value.as_str()),
            ("DUNS", "128293714")
        );
        assert_eq!(order.supplier.code, "128293714");
        let address = order
            .delivery
            .as_ref()
            .unwrap()
            .location
            .as_ref()
            .unwrap()
            .address
            .as_ref()
            .unwrap();
        assert_eq!(
            (address.city.as_deref(), address.region.as_deref()),
            (Some("san leandro"), Some("ca"))
        );
        assert_eq!(
            order.notes[0].text,
            "header comment goes here if entered by user"
        );
        let description = "OptiPlex 755 Energy Smart Minitower;IntelREG CoreTM 2 Quad Processor Q6600 (2.40GHz, 2X4M, 1066MHz FSB)";
        assert_eq!(
            lines(&order),
            [
                (
                    "1",
                    description,
                    "223-4511",
                    "1".into(),
                    "EA",
                    "1505.0".into()
                ),
                (
                    "2",
                    description,
                    "223-4511",
                    "2".into(),
                    "EA",
                    "1505.0".into()
                ),
            ]
        );
        for line in &order.lines {
            assert_eq!(line.item.ids[1].value, "1005379527029\\1");
            assert_eq!(line.item.classifications[0].code, "44000000");
            assert_eq!(
                line.notes[0].text,
                "line item comment goes here if entered by user"
            );
            assert_eq!(line.price.as_ref().unwrap().base_quantity, Decimal::ONE);
        }
        // Line 2 charges 1505.0 for quantity 2: the stated amount, as written.
        let totals: Vec<_> = order.lines.iter().map(|l| l.line_total).collect();
        assert_eq!(
            totals,
            [
                Some("1505.0".parse().unwrap()),
                Some("1505.0".parse().unwrap())
            ]
        );
        // Inconsistent as published: kept as written, never recomputed.
        assert_eq!(
            order.totals.unwrap().payable,
            Some("1505.0".parse().unwrap())
        );
    }
}

#[test]
fn terms_documents_price_basis_and_card_data() {
    let header = r#"<Payment><PCard number="4111111111111111" expiration="2027-01-31"/></Payment>
        <PaymentTerm payInNumberOfDays="30"/>
        <PaymentTerm payInNumberOfDays="10"><Discount><DiscountPercent percent="2"/></Discount></PaymentTerm>
        <Comments type="Packing">Bungkus kayu<Attachment><URL>cid:drw-4471@buyer</URL></Attachment></Comments>
        <TermsOfDelivery><TermsOfDeliveryCode value="DeliveryCondition"/><ShippingPaymentMethod value="AdvancePrepaid"/><TransportTerms value="Free-Carrier"/></TermsOfDelivery>
        <Extrinsic name="Attachments"><AttachmentReference version="C"><Name xml:lang="id">MO-DRW-4471-C.pdf</Name><Description xml:lang="id">Gambar kerja</Description><InternalID>DRW-4471</InternalID><URL>https://buyer.example/drw/4471</URL></AttachmentReference></Extrinsic>
      </OrderRequestHeader>"#;
    let item = r#"<UnitOfMeasure>EA</UnitOfMeasure>
          <PriceBasisQuantity quantity="100" conversionFactor="1"><UnitOfMeasure>EA</UnitOfMeasure></PriceBasisQuantity>
          <Classification domain="UNSPSC">25174004</Classification>
          <LeadTime>14</LeadTime>
          <Dimension quantity="51.2" type="width"><UnitOfMeasure>MMT</UnitOfMeasure></Dimension>
        </ItemDetail>
        <ScheduleLine quantity="4" requestedDeliveryDate="2026-12-01"><UnitOfMeasure>EA</UnitOfMeasure></ScheduleLine>"#;
    let body = minimal_with("</OrderRequestHeader>", header);
    let body = String::from_utf8(body).unwrap().replace(
        "<UnitOfMeasure>EA</UnitOfMeasure>\n        </ItemDetail>",
        item,
    );
    assert!(
        body.contains("ScheduleLine"),
        "the item replacement applied"
    );
    let out = json(body.as_bytes(), MINIMAL_CONFIG);
    assert_schema_valid(&out);
    assert!(
        !out[0].contains("4111111111111111"),
        "card numbers are never kept"
    );
    let order = order(body.as_bytes(), MINIMAL_CONFIG);
    let warning = &order.warnings[0];
    assert_eq!(warning.code, "sensitive-data-dropped");
    assert_eq!(
        warning.path.as_deref(),
        Some("/cXML/Request/OrderRequest/OrderRequestHeader/Payment/PCard")
    );
    let [net, discount] = &order.payment_terms[..] else {
        panic!("two payment terms")
    };
    assert_eq!(net.net_days, Some(30));
    assert_eq!(
        (discount.discount_days, discount.discount_percent),
        (Some(10), Some(Decimal::from(2)))
    );
    assert_eq!(order.notes[0].text, "Bungkus kayu");
    assert_eq!(order.notes[0].subject.as_deref(), Some("Packing"));
    let [cid, drawing] = &order.documents[..] else {
        panic!("two documents")
    };
    assert_eq!(cid.id.as_deref(), Some("cid:drw-4471@buyer"));
    assert_eq!(
        (
            drawing.id.as_deref(),
            drawing.revision.as_deref(),
            drawing.filename.as_deref(),
            drawing.uri.as_deref()
        ),
        (
            Some("DRW-4471"),
            Some("C"),
            Some("MO-DRW-4471-C.pdf"),
            Some("https://buyer.example/drw/4471")
        )
    );
    let terms = order.delivery_terms.as_ref().unwrap();
    assert_eq!(terms.incoterm.as_deref(), Some("FCA"));
    assert_eq!(terms.transport_payment.as_deref(), Some("AdvancePrepaid"));
    assert_eq!(
        terms.text.as_deref(),
        Some("TermsOfDeliveryCode: DeliveryCondition")
    );
    let line = &order.lines[0];
    let price = line.price.as_ref().unwrap();
    assert_eq!(
        (
            price.amount,
            price.base_quantity,
            price.base_unit.as_deref()
        ),
        (Decimal::from(245000), Decimal::from(100), Some("EA")),
        "245000 per 100 pieces, never divided"
    );
    assert_eq!(line.item.properties[0].name, "width");
    assert_eq!(line.item.properties[0].value, "51.2");
    assert_eq!(line.item.properties[0].unit.as_deref(), Some("MMT"));
    assert_eq!(line.schedule[0].quantity, Decimal::from(4));
    assert_eq!(
        line.schedule[0].requested_date,
        NaiveDate::from_ymd_opt(2026, 12, 1)
    );
    let kept: Vec<_> = line
        .extensions
        .iter()
        .map(|e| (e.path.as_str(), e.value.as_str()))
        .collect();
    assert!(
        kept.contains(&(
            "/cXML/Request/OrderRequest/ItemOut[1]/ItemDetail/LeadTime",
            "14"
        )),
        "{kept:?}"
    );
    assert!(
        kept.contains(&(
            "/cXML/Request/OrderRequest/ItemOut[1]/ItemDetail/PriceBasisQuantity/@conversionFactor",
            "1"
        )),
        "{kept:?}"
    );
}

#[test]
fn update_replaces_and_delete_is_refused() {
    let update = minimal_with(
        r#"orderDate="2026-11-05""#,
        r#"orderDate="2026-11-05" type="update""#,
    );
    assert_eq!(
        order(&update, MINIMAL_CONFIG).purpose,
        Some(jembatan_plugin_sdk::Purpose::Replace)
    );
    let delete = minimal_with(
        r#"orderDate="2026-11-05""#,
        r#"orderDate="2026-11-05" type="delete""#,
    );
    let err = refused(&delete, MINIMAL_CONFIG);
    assert_eq!(err.code, "unsupported-purpose");
    assert_eq!(
        path(&err),
        "/cXML/Request/OrderRequest/OrderRequestHeader/@type"
    );
}
