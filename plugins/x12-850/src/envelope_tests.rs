//! Envelopes as real trading partners send them: the public documents of
//! `tests/corpus/x12-850` (see its README and SOURCES.md), and small synthetic
//! interchanges for shapes no public document has.

use edi_common::Config;
use edi_common::testing::{edit, text};
use jembatan_plugin_sdk::testing::{outcomes, path};
use jembatan_plugin_sdk::{
    NaiveDate, Normalized, Outcome, PartySource, PluginError, PurchaseOrder,
};
use serde_json::Value;

use super::read as read_all;

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

fn read(body: &[u8], config: &str) -> Result<Normalized, PluginError> {
    read_all(body, &Config::parse(config).unwrap())
}

/// The orders, in order.
fn orders(reading: &Normalized) -> Vec<&PurchaseOrder> {
    reading.orders().map(|o| &**o).collect()
}

fn numbers(reading: &Normalized) -> Vec<&str> {
    reading
        .orders()
        .map(|o| o.buyer_order_number.as_str())
        .collect()
}

/// Each transaction in one line (`testing::outcomes`).
fn summary(reading: Normalized) -> Vec<String> {
    outcomes(&reading.into_json())
}

/// The refusal of the transaction at `index`.
fn refusal(reading: &Normalized, index: usize) -> &PluginError {
    match &reading.transactions[index].outcome {
        Outcome::Refused(err) => err,
        other => panic!("transaction {index} is not refused: {other:?}"),
    }
}

/// The byte offset of an error.
fn offset(err: &PluginError) -> usize {
    err.location.as_ref().unwrap().offset.unwrap() as usize
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
fn buyers(reading: &Normalized) -> Vec<Option<(Option<&str>, Option<&str>)>> {
    reading
        .orders()
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

/// The warnings (code, path) of the transactions, in order, then of the message.
fn codes(reading: &Normalized) -> Vec<(&str, &str)> {
    reading
        .transactions
        .iter()
        .flat_map(|t| &t.warnings)
        .chain(&reading.warnings)
        .map(|w| (w.code.as_str(), w.path.as_deref().unwrap_or("")))
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
            for order in orders(&reading) {
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
    let reading = read(body, CONFIG).unwrap();
    let buyer = orders(&reading)[0].buyer.as_ref().unwrap();
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
        assert_eq!(orders(&reading), orders(&expected));
        // Read as an order, and said: the group's code does not fit an 850.
        assert_eq!(
            codes(&reading),
            [("group-code-mismatch", "GS[1]/GS01")],
            "GS01 {functional_id}"
        );
        // A strict buyer refuses it instead.
        let strict = read(&body, r#"{"strict": true}"#).unwrap();
        assert!(numbers(&strict).is_empty(), "GS01 {functional_id}");
    }
}

#[test]
fn other_transaction_sets_are_not_orders() {
    let (_, body, expected) = corpus!("staedi-810-and-850-groups");
    let reading = read(body, r#"{"supplier_code":"S"}"#).unwrap();
    assert_eq!(numbers(&reading), ["S115921858"]);
    let order = orders(&reading)[0];
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
    // One outcome per transaction set, with its ST02, as the expectation lists
    // them; the envelopes of the whole interchange (counts of both groups, IEA*2)
    // are right, so nothing is said about them.
    let expected: Value = serde_json::from_str(expected).unwrap();
    let expected: Vec<String> = expected["transactions"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let what = match t["kind"].as_str().unwrap() {
                "order" => "order S115921858".to_owned(),
                _ => format!("not-an-order {}", t["transaction_set"].as_str().unwrap()),
            };
            format!("{i} {} {what}", t["control_number"].as_str().unwrap())
        })
        .collect();
    assert!(codes(&reading).is_empty(), "{:?}", codes(&reading));
    assert_eq!(summary(reading), expected);
}

#[test]
fn a_body_without_any_850_is_read_as_not_orders() {
    let body = edit(MINIMAL, "ST*850*0003", "ST*855*0003");
    assert_eq!(
        summary(read(&body, "").unwrap()),
        ["0 0003 not-an-order 855"]
    );
    // An 860 changes an order: refused, never dropped as "not an order".
    let body = edit(MINIMAL, "ST*850*0003", "ST*860*0003");
    assert_eq!(
        summary(read(&body, "").unwrap()),
        ["0 0003 refused unsupported-purpose at ST[1]/ST01"]
    );
}

/// An 850, a broken 850 and an 810 in one group: order, refused with its place,
/// not an order, each with its ST02.
#[test]
fn one_outcome_per_transaction_set_across_groups_and_interchanges() {
    let minimal = text(MINIMAL);
    let (head, rest) = minimal.split_once("ST*850*0003~").unwrap();
    let (set, tail) = rest.split_once("SE*8*0003~").unwrap();
    let broken = set.replacen("PO1**10**72500", "PO1**1O**72500", 1);
    let group = format!(
        "{head}ST*850*0003~{set}SE*8*0003~ST*850*0004~{broken}SE*8*0004~ST*810*0005~BIG*20261105*INV-1~SE*3*0005~{}",
        tail.replacen("GE*1*", "GE*3*", 1)
    );
    let reading = read(group.as_bytes(), "").unwrap();
    assert!(codes(&reading).is_empty(), "{:?}", codes(&reading));
    let refused = refusal(&reading, 1).clone();
    let location = reading.transactions[1].id.location.clone().unwrap();
    assert_eq!(
        summary(reading),
        [
            "0 0003 order MM-0003",
            "1 0004 refused invalid-value at ST[2]/PO1[1]/PO102",
            "2 0005 not-an-order 810"
        ]
    );
    assert_eq!(
        &group[offset(&refused)..][..2],
        "1O",
        "the error points at PO102"
    );
    // The transaction is located at its ST.
    assert_eq!(location.path.as_deref(), Some("ST[2]"));
    assert!(group[location.offset.unwrap() as usize..].starts_with("ST*850*0004"));

    // Indexes count through every interchange of the body; ST02 may repeat.
    let body = [group.as_bytes(), b"\n", MINIMAL].concat();
    assert_eq!(
        summary(read(&body, "").unwrap()),
        [
            "0 0003 order MM-0003",
            "1 0004 refused invalid-value at ST[2]/PO1[1]/PO102",
            "2 0005 not-an-order 810",
            "3 0003 order MM-0003"
        ]
    );
}

#[test]
fn strict_refuses_the_orders_of_the_envelope_that_is_wrong() {
    // Two groups of one 850 each; the second group's GE01 is wrong.
    let minimal = text(MINIMAL);
    let (isa, rest) = minimal.split_at(minimal.find("GS*").unwrap());
    let (group, iea) = rest.split_at(rest.find("IEA*").unwrap());
    let body = format!(
        "{isa}{group}{}{}",
        group.replacen("GE*1*", "GE*2*", 1),
        iea.replacen("IEA*1*", "IEA*2*", 1)
    );
    let reading = read(body.as_bytes(), "").unwrap();
    assert_eq!(codes(&reading), [("bad-segment-count", "GS[2]/GE/GE01")]);
    assert_eq!(numbers(&reading), ["MM-0003", "MM-0003"]);
    assert_eq!(
        summary(read(body.as_bytes(), r#"{"strict":true}"#).unwrap()),
        [
            "0 0003 order MM-0003",
            "1 0003 refused bad-segment-count at GS[2]/GE/GE01"
        ]
    );
    // A segment outside any set is read past, with what follows it up to the
    // next envelope segment: one warning (strict: the group's orders refused).
    let body = edit(MINIMAL, "SE*8*0003~", "SE*8*0003~REF*ZZ*1~NTE*x~");
    let reading = read(&body, "").unwrap();
    assert_eq!(numbers(&reading), ["MM-0003"]);
    assert_eq!(codes(&reading), [("unexpected-segment", "REF")]);
    let strict = read(&body, r#"{"strict":true}"#).unwrap();
    assert_eq!(refusal(&strict, 0).code, "unexpected-segment");
}

#[test]
fn cancellations_and_deletions_are_refused() {
    for code in ["01", "03"] {
        let body = edit(MINIMAL, "BEG*00*", &format!("BEG*{code}*"));
        assert_eq!(
            summary(read(&body, "").unwrap()),
            ["0 0003 refused unsupported-purpose at ST[1]/BEG/BEG01"],
            "BEG01 {code}"
        );
    }
}

#[test]
fn a_set_left_open_is_refused_and_reading_goes_on() {
    // SE missing: the next ST shows it; the set is refused, the next one read.
    let body = [MINIMAL, b"\n", MINIMAL].concat();
    let body = text(&body).replacen("SE*8*0003~", "", 1);
    let reading = read(body.as_bytes(), "").unwrap();
    assert_eq!(
        summary(reading),
        [
            "0 0003 refused missing-segment at ST[1]/SE",
            "1 0003 order MM-0003"
        ]
    );
    // The body ends inside a set: it is refused, `truncated`.
    let cut = &MINIMAL[..text(MINIMAL).find("SE*8").unwrap()];
    let reading = read(&[MINIMAL, b"\n", cut].concat(), "").unwrap();
    let err = refusal(&reading, 1);
    assert_eq!((err.code.as_str(), path(err)), ("truncated", "ISA[2]/IEA"));
    assert!(
        err.message.contains("inside transaction set ST[2]"),
        "{err}"
    );
    // A body with no set at all is refused whole.
    let no_set = edit(MINIMAL, "ST*850*0003~", "");
    let err = read(&no_set, "").unwrap_err();
    assert_eq!(
        (err.code.as_str(), path(&err)),
        ("unexpected-segment", "BEG")
    );
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
    assert!(codes(&reading).is_empty(), "{:?}", codes(&reading));

    // Paths name the interchange after the first, and count groups and sets
    // through the body; strict mode refuses the orders of the envelope that is
    // wrong, and only those.
    let bad = [
        MINIMAL,
        &edit(MINIMAL, "IEA*1*000000003", "IEA*1*000000004"),
    ]
    .concat();
    let reading = read(&bad, r#"{"strict":true}"#).unwrap();
    assert_eq!(
        summary(reading),
        [
            "0 0003 order MM-0003",
            "1 0003 refused control-number-mismatch at ISA[2]/IEA/IEA02"
        ]
    );
    let bad = [MINIMAL, &edit(MINIMAL, "SE*8*0003", "SE*9*0003")].concat();
    let reading = read(&bad, r#"{"strict":true}"#).unwrap();
    assert_eq!(
        summary(reading),
        [
            "0 0003 order MM-0003",
            "1 0003 refused bad-segment-count at ST[2]/SE/SE01"
        ]
    );

    // After an IEA, only another ISA may begin: the reading stops there, and the
    // rest is one refused transaction after the others.
    let reading = read(&[MINIMAL, b"GS*PO~"].concat(), "").unwrap();
    let err = refusal(&reading, 1).clone();
    assert_eq!(
        summary(reading),
        [
            "0 0003 order MM-0003",
            "1 - refused unexpected-segment at GS"
        ]
    );
    assert!(err.message.ends_with("not read past it"), "{err}");
    // Before any transaction set, nothing could be read: the message is refused.
    let isa = &text(MINIMAL)[..text(MINIMAL).find("GS*").unwrap()];
    let err = read(format!("{isa}IEA*0*000000003~GS*PO~").as_bytes(), "").unwrap_err();
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
    let reading = read(&latin1, config).unwrap();
    let orders = self::orders(&reading);
    assert_eq!(orders, self::orders(&read(utf8, config).unwrap()));
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
    assert_eq!(orders(&reading), orders(&read(MINIMAL, "").unwrap()));
    assert!(codes(&reading).is_empty(), "{:?}", codes(&reading));
}

#[test]
fn mismatched_envelopes_are_read_past_with_a_warning_unless_strict() {
    // The public document whose IEA02 (000000001) is not its ISA13 (000000055).
    let (_, body, _) = corpus!("edinet-850-bom-nbsp");
    let reading = read(body, CONFIG).unwrap();
    assert_eq!(numbers(&reading), ["1000012"]);
    assert_eq!(codes(&reading), [("control-number-mismatch", "IEA/IEA02")]);
    assert!(
        reading.transactions[0].warnings.is_empty(),
        "on the message"
    );
    let strict = r#"{"supplier_code":"S","strict":true}"#;
    let reading = read(body, strict).unwrap();
    let err = refusal(&reading, 0).clone();
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
    assert_eq!(
        reading.transactions[0].id.control_number.as_deref(),
        Some("0003")
    );

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
    let expected = read(MINIMAL, "").unwrap();
    for (from, to, code, at) in cases {
        let body = edit(MINIMAL, from, to);
        let reading = read(&body, "").unwrap();
        assert_eq!(orders(&reading), orders(&expected), "{to}");
        assert_eq!(codes(&reading), [(code, at)], "{to}");
        // The set's own envelope (SE) warns on the set, the others on the message.
        let on_set = at.starts_with("ST[");
        assert_eq!(
            reading.transactions[0].warnings.len(),
            usize::from(on_set),
            "{to}"
        );
        let strict = read(&body, r#"{"strict":true}"#).unwrap();
        let err = refusal(&strict, 0);
        assert_eq!((err.code.as_str(), path(err)), (code, at), "{to}");
    }
    // A missing GE or IEA after complete sets is read past the same way.
    let no_trailer = &MINIMAL[..text(MINIMAL).find("GE*").unwrap()];
    let reading = read(no_trailer, "").unwrap();
    assert_eq!(numbers(&reading), ["MM-0003"]);
    assert_eq!(codes(&reading), [("truncated", "IEA")]);
    let strict = read(no_trailer, r#"{"strict":true}"#).unwrap();
    assert_eq!(refusal(&strict, 0).code, "truncated");
}

#[test]
fn strict_is_a_config_key_of_its_own() {
    let err = Config::parse(r#"{"strict":"yes"}"#).unwrap_err();
    assert_eq!(err.code, "invalid-config");
    assert!(!Config::parse("{}").unwrap().strict);
}
