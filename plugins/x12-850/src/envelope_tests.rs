//! Envelopes as real trading partners send them: the public documents of
//! `tests/corpus/x12-850` (see its README and SOURCES.md), and small synthetic
//! interchanges for shapes no public document has.

use edi_common::Config;
use edi_common::testing::{edit, text};
use jembatan_plugin_sdk::testing::path;
use jembatan_plugin_sdk::{NaiveDate, PartySource, PluginError};
use serde_json::Value;

use super::{Reading, read_all};

const MINIMAL: &[u8] = include_bytes!("../fixtures/x12-minimal.edi");
const TWO_ORDERS: &[u8] = include_bytes!("../fixtures/x12-5010-two-orders.edi");

macro_rules! corpus {
    ($name:literal) => {
        (
            $name,
            &include_bytes!(concat!("../../../tests/corpus/x12-850/", $name, ".edi"))[..],
            include_str!(concat!(
                "../../../tests/corpus/x12-850/",
                $name,
                ".expected.json"
            )),
        )
    };
}

/// Most public documents name no supplier, which an order needs to be routed, so
/// these tests give it as a buyer's config would. Nothing else is configured: no
/// buyer name (the envelope sender names the buyer) and no unit map (a unit outside
/// the plugin's table is kept as written, unit `ZZ`).
const CONFIG: &str = r#"{"supplier_code":"SUPPLIER-FROM-CONFIG"}"#;

/// The interchange sender (ISA05, ISA06) of the public documents without an
/// N1*BY, read off each file: the buyer's first id (docs/canonical-order-v2.md
/// §1.3), so that none of them needs a config `buyer_name`.
const SENDERS: [(&str, &str, &str); 11] = [
    ("node-x12-850-vics", "12", "4405197800"),
    ("node-x12-850-newline-terminator", "12", "4405197800"),
    ("node-x12-850-two-interchanges", "12", "4405197800"),
    ("node-x12-850-petco", "12", "0000000000"),
    ("oopfactory-850-pgwglass-pipe-terminator", "01", "828513080"),
    ("oopfactory-850-aojuk-indented", "ZZ", "SITESTUFFP2P"),
    ("edinet-850-issue135-tilde-isa16", "01", "049351117"),
    ("edinet-850-bom-nbsp", "01", "000123456"),
    ("eddy-bam850-favy-two-orders", "ZZ", "V#401164"),
    ("eddy-bam850-rl1y-many-orders", "ZZ", "0315DOTCOM"),
    ("stedi-bootstrap-5010-dropship", "ZZ", "THISISME"),
];

fn read(body: &[u8], config: &str) -> Result<Reading, PluginError> {
    read_all(body, &Config::parse(config).unwrap())
}

fn numbers(reading: &Reading) -> Vec<&str> {
    reading
        .orders
        .iter()
        .map(|o| o.buyer_order_number.as_str())
        .collect()
}

/// The order numbers (BEG03) of the transactions the hand-written expectation
/// says are orders.
fn expected_numbers(expected: &str) -> Vec<String> {
    let expected: Value = serde_json::from_str(expected).unwrap();
    expected["transactions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["kind"] == "order")
        .map(|t| {
            t["order"]["buyer_order_number"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect()
}

/// Each order's buyer as (name, first id), `None` for an order without one.
fn buyers(reading: &Reading) -> Vec<Option<(Option<&str>, Option<&str>)>> {
    reading
        .orders
        .iter()
        .map(|o| {
            let buyer = o.buyer.as_ref()?;
            Some((
                buyer.name.as_deref(),
                buyer.ids.first().map(|id| id.value.as_str()),
            ))
        })
        .collect()
}

/// The same from the hand-written expectation: its N1*BY name and first id.
fn expected_buyers(expected: &str) -> Vec<Option<(Option<String>, Option<String>)>> {
    let expected: Value = serde_json::from_str(expected).unwrap();
    let text = |v: &Value| v.as_str().map(str::to_owned);
    expected["transactions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["kind"] == "order")
        .map(|t| {
            let buyer = t["order"].get("buyer")?;
            Some((text(&buyer["name"]), text(&buyer["ids"][0]["value"])))
        })
        .collect()
}

fn codes(reading: &Reading) -> Vec<(&str, &str)> {
    reading
        .warnings
        .iter()
        .map(|w| (w.code.as_str(), path(w)))
        .collect()
}

#[test]
fn every_public_document_of_an_envelope_shape_gives_its_orders() {
    let documents = [
        // `~` + LF, the common shape.
        corpus!("node-x12-850-vics"),
        // A line feed as the segment terminator.
        corpus!("node-x12-850-newline-terminator"),
        // A line feed too, from another sender; unit KI (not in Rec 20).
        corpus!("node-x12-850-petco"),
        // `|` as the terminator, then CR LF and indentation; ISA16 `~`; BOM.
        corpus!("oopfactory-850-pgwglass-pipe-terminator"),
        // `~` as the element separator, CR as the terminator; BOM.
        corpus!("oopfactory-850-adobe-tlp-tilde-elements"),
        // `~` elements, `*` terminator, a 105-character ISA.
        corpus!("oopfactory-850-adobe-clp-star-terminator"),
        // A space as the terminator, a 104-character ISA, no terminator after IEA.
        corpus!("oopfactory-850-adobe-shrinkwrapped-space-terminator"),
        // CR LF and indentation.
        corpus!("oopfactory-850-aojuk-indented"),
        // ISA16 `~` and LF as the terminator, while every segment also ends in `~`.
        corpus!("edinet-850-issue135-tilde-isa16"),
        // BOM, non-breaking spaces (C2 A0) inside ISA fields, IEA02 ≠ ISA13.
        corpus!("edinet-850-bom-nbsp"),
        // The same, with tab indentation.
        corpus!("edinet-850a-tabs-by-id-only"),
        // Blank lines between segments; two and six orders in one group.
        corpus!("eddy-bam850-favy-two-orders"),
        corpus!("eddy-bam850-rl1y-many-orders"),
        // The whole 005010 interchange on one line.
        corpus!("stedi-bootstrap-5010-dropship"),
        // Two interchanges back to back.
        corpus!("node-x12-850-two-interchanges"),
        // A GS*IN group of two 810s before a GS*PO group of one 003010 850.
        corpus!("staedi-810-and-850-groups"),
    ];
    for (name, body, expected) in documents {
        let reading = read(body, CONFIG).unwrap_or_else(|e| panic!("{name}: {e}"));
        let expected_orders = expected_numbers(expected);
        assert!(!expected_orders.is_empty(), "{name}");
        assert_eq!(numbers(&reading), expected_orders, "{name}");
        // The document's N1*BY where it has one, else the interchange sender.
        let sender = SENDERS.iter().find(|(n, ..)| *n == name);
        let expected_buyers: Vec<_> = expected_buyers(expected)
            .into_iter()
            .map(|b| match (b, sender) {
                (None, Some((_, _, id))) => Some((None, Some((*id).to_owned()))),
                (b, _) => b,
            })
            .collect();
        let expected_buyers: Vec<_> = expected_buyers
            .iter()
            .map(|b| b.as_ref().map(|(n, id)| (n.as_deref(), id.as_deref())))
            .collect();
        assert_eq!(buyers(&reading), expected_buyers, "{name}");
        if let Some((_, qualifier, _)) = sender {
            for order in &reading.orders {
                let buyer = order.buyer.as_ref().unwrap();
                assert_eq!(
                    buyer.ids[0].qualifier.as_deref(),
                    Some(*qualifier),
                    "{name}"
                );
                assert_eq!(buyer.source, Some(PartySource::Document), "{name}");
            }
        }
    }
    // The PER of a document without N1*BY is the envelope buyer's contact.
    let (_, body, _) = corpus!("stedi-bootstrap-5010-dropship");
    let order = &read(body, CONFIG).unwrap().orders[0];
    let buyer = order.buyer.as_ref().unwrap();
    let ids: Vec<_> = buyer
        .ids
        .iter()
        .map(|id| {
            (
                id.scheme.as_str(),
                id.value.as_str(),
                id.qualifier.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        ids,
        [
            ("UNSPECIFIED", "THISISME", Some("ZZ")),
            ("UNSPECIFIED", "MYAPPID", Some("GS02"))
        ]
    );
    let contact = &buyer.contacts[0];
    assert_eq!(
        (
            contact.role.as_deref(),
            contact.name.as_deref(),
            contact.phone.as_deref(),
            contact.email.as_deref()
        ),
        (
            Some("OC"),
            Some("Marvin Acme"),
            Some("973-555-1212"),
            Some("marvin@acme.com")
        )
    );
}

#[test]
fn an_850_is_an_order_whatever_its_group_says() {
    let expected = read(MINIMAL, "").unwrap();
    for functional_id in ["IN", "OW"] {
        let body = edit(MINIMAL, "GS*PO*", &format!("GS*{functional_id}*"));
        let reading = read(&body, "").unwrap();
        assert_eq!(numbers(&reading), ["MM-0003"], "GS01 {functional_id}");
        assert_eq!(reading.orders, expected.orders);
        assert!(reading.warnings.is_empty(), "{:?}", reading.warnings);
    }
}

#[test]
fn other_transaction_sets_are_read_past_and_logged() {
    let (_, body, _) = corpus!("staedi-810-and-850-groups");
    let reading = read(body, r#"{"supplier_code":"S"}"#).unwrap();
    assert_eq!(numbers(&reading), ["S115921858"]);
    let order = &reading.orders[0];
    assert_eq!(
        order.buyer.as_ref().and_then(|b| b.name.as_deref()),
        Some("SHIPPING GROUP, INC."),
        "its own N1*BY"
    );
    assert_eq!(
        order.issue_date,
        NaiveDate::from_ymd_opt(2004, 3, 17).unwrap(),
        "003010 dates are YYMMDD"
    );
    assert_eq!(order.lines.len(), 4);
    // Each 810 is named with its ST01 and ST02; the envelopes of the whole
    // interchange (counts of both groups, IEA*2) are right, so nothing else is said.
    assert_eq!(
        codes(&reading),
        [
            ("not-an-order", "ST[1]/ST01"),
            ("not-an-order", "ST[2]/ST01")
        ]
    );
    let warning = &reading.warnings[1].message;
    assert!(
        warning.contains(r#"ST01 "810", ST02 "000000002""#),
        "{warning}"
    );
}

#[test]
fn a_body_without_any_850_is_refused() {
    let body = edit(MINIMAL, "ST*850*0003", "ST*855*0003");
    let err = read(&body, "").unwrap_err();
    assert_eq!(
        (err.code.as_str(), path(&err)),
        ("unsupported-transaction", "ST[1]/ST01")
    );
    assert!(err.message.contains("\"855\""), "{}", err.message);
}

#[test]
fn several_interchanges_each_with_its_own_delimiters() {
    // `*` `:` `~` on one line, then `|` `^` newline, then the first again.
    let body = [MINIMAL, b"\r\n", TWO_ORDERS, MINIMAL].concat();
    let reading = read(&body, "").unwrap();
    assert_eq!(
        numbers(&reading),
        ["MM-0003", "MO-2026-1127", "MO-2026-1128", "MM-0003"]
    );
    assert!(reading.warnings.is_empty(), "{:?}", reading.warnings);

    // Paths name the interchange after the first, and count groups and sets
    // through the body.
    let bad = [
        MINIMAL,
        &edit(MINIMAL, "IEA*1*000000003", "IEA*1*000000004"),
    ]
    .concat();
    let err = read(&bad, r#"{"strict":true}"#).unwrap_err();
    assert_eq!(
        (err.code.as_str(), path(&err)),
        ("control-number-mismatch", "ISA[2]/IEA/IEA02")
    );
    let bad = [MINIMAL, &edit(MINIMAL, "SE*8*0003", "SE*9*0003")].concat();
    let err = read(&bad, r#"{"strict":true}"#).unwrap_err();
    assert_eq!(
        (err.code.as_str(), path(&err)),
        ("bad-segment-count", "ST[2]/SE/SE01")
    );

    // After an IEA, only another ISA may begin.
    let err = read(&[MINIMAL, b"GS*PO~"].concat(), "").unwrap_err();
    assert_eq!(
        (err.code.as_str(), path(&err)),
        ("unexpected-segment", "GS")
    );
}

#[test]
fn latin1_non_breaking_spaces_in_the_isa() {
    let (_, utf8, _) = corpus!("edinet-850-bom-nbsp");
    let mut latin1 = Vec::with_capacity(utf8.len());
    let mut rest = utf8;
    while let Some((&b, tail)) = rest.split_first() {
        if let [0xC2, 0xA0, ..] = rest {
            latin1.push(0xA0);
            rest = &rest[2..];
        } else {
            latin1.push(b);
            rest = tail;
        }
    }
    assert!(std::str::from_utf8(&latin1).is_err());
    let config = r#"{"supplier_code":"S"}"#;
    let orders = read(&latin1, config).unwrap().orders;
    assert_eq!(orders, read(utf8, config).unwrap().orders);
    assert_eq!(orders[0].buyer_order_number, "1000012");
    // The document has no N1*BY: the interchange sender (ISA05 01, a DUNS number;
    // GS02 the same) is the buyer.
    let ids = &orders[0].buyer.as_ref().unwrap().ids;
    assert_eq!(
        (ids.len(), ids[0].scheme.as_str(), ids[0].value.as_str()),
        (1, "DUNS", "000123456")
    );
}

#[test]
fn nak_before_crlf_as_the_terminator() {
    let body = text(MINIMAL).replace('~', "\u{15}\r\n");
    let reading = read(body.as_bytes(), "").unwrap();
    assert_eq!(numbers(&reading), ["MM-0003"]);
    assert_eq!(reading.orders, read(MINIMAL, "").unwrap().orders);
    assert!(reading.warnings.is_empty(), "{:?}", reading.warnings);
}

#[test]
fn mismatched_envelopes_are_read_past_with_a_warning_unless_strict() {
    // The public document whose IEA02 (000000001) is not its ISA13 (000000055).
    let (_, body, _) = corpus!("edinet-850-bom-nbsp");
    let reading = read(body, CONFIG).unwrap();
    assert_eq!(numbers(&reading), ["1000012"]);
    assert_eq!(codes(&reading), [("control-number-mismatch", "IEA/IEA02")]);
    let strict = r#"{"supplier_code":"S","strict":true}"#;
    let err = read(body, strict).unwrap_err();
    assert_eq!(
        (err.code.as_str(), path(&err)),
        ("control-number-mismatch", "IEA/IEA02")
    );
    assert!(
        err.message
            .contains(r#""000000001" but ISA13 is "000000055""#),
        "{}",
        err.message
    );
    assert!(err.location.unwrap().line.is_some());

    // Every count and control number, each on its own.
    let cases = [
        (
            "SE*8*0003",
            "SE*7*0003",
            "bad-segment-count",
            "ST[1]/SE/SE01",
        ),
        ("SE*8*0003", "SE*x*0003", "invalid-value", "ST[1]/SE/SE01"),
        (
            "SE*8*0003",
            "SE*8*0004",
            "control-number-mismatch",
            "ST[1]/SE/SE02",
        ),
        ("GE*1*3", "GE*2*3", "bad-segment-count", "GS[1]/GE/GE01"),
        (
            "GE*1*3",
            "GE*1*4",
            "control-number-mismatch",
            "GS[1]/GE/GE02",
        ),
        ("IEA*1*", "IEA*0*", "bad-segment-count", "IEA/IEA01"),
    ];
    let expected = read(MINIMAL, "").unwrap().orders;
    for (from, to, code, at) in cases {
        let body = edit(MINIMAL, from, to);
        let reading = read(&body, "").unwrap();
        assert_eq!(reading.orders, expected, "{to}");
        assert_eq!(codes(&reading), [(code, at)], "{to}");
        let err = read(&body, r#"{"strict":true}"#).unwrap_err();
        assert_eq!((err.code.as_str(), path(&err)), (code, at), "{to}");
    }
}

#[test]
fn strict_is_a_config_key_of_its_own() {
    let err = Config::parse(r#"{"strict":"yes"}"#).unwrap_err();
    assert_eq!(err.code, "invalid-config");
    assert!(!Config::parse("{}").unwrap().strict);
}
