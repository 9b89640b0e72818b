use edi_common::testing::{edit, offset, text};
use jembatan_plugin_sdk::testing::{self, assert_schema_valid, path};
use jembatan_plugin_sdk::{
    Contact, Decimal, NaiveDate, OriginalCode, PartyId, PartySource, Plugin, PluginError,
    PurchaseOrder,
};
use serde_json::Value;

use crate::X12Order;

const TEN_LINES: &[u8] = include_bytes!("../fixtures/x12-4010-10-lines.edi");
const TWO_ORDERS: &[u8] = include_bytes!("../fixtures/x12-5010-two-orders.edi");
const MINIMAL: &[u8] = include_bytes!("../fixtures/x12-minimal.edi");

/// The orders as the host receives them; every transaction must be one.
fn json(body: &[u8], config: &str) -> Vec<String> {
    testing::orders_json::<X12Order>(body, config)
}

fn orders(body: &[u8], config: &str) -> Vec<PurchaseOrder> {
    testing::orders::<X12Order>(body, config)
}

/// The error the whole message is refused with.
fn error(body: &[u8], config: &str) -> PluginError {
    testing::error::<X12Order>(body, config)
}

/// The refusal of the first refused transaction set.
fn refused(body: &[u8], config: &str) -> PluginError {
    testing::refused::<X12Order>(body, config)
}

/// Envelope counts and control numbers are refused only in strict mode; they are
/// read past with a warning otherwise (see `envelope_tests.rs`).
const STRICT: &str = r#"{"strict":true}"#;

#[test]
fn ten_line_4010_order_maps_every_field() {
    let out = json(TEN_LINES, "");
    assert_schema_valid(&out);
    assert_eq!(out.len(), 1);
    let actual: Value = serde_json::from_str(&out[0]).unwrap();
    // Written by hand from the interchange, field by field; equality checks every
    // mapping, including that the header PER wins over the one in N1*BY, that the
    // supplier's PER and REF*DP are not read, that PID*F descriptions join, and
    // that decimals keep their scale ("385000.00" beside "425000"). The v2
    // expectation is the v1 one (`.expected.json`) moved field by field as
    // docs/canonical-order-v2.md §3 says, plus the source (ST02).
    let expected: Value = serde_json::from_slice(include_bytes!(
        "../fixtures/x12-4010-10-lines.expected.v2.json"
    ))
    .unwrap();
    assert_eq!(actual, expected);
}

#[test]
fn two_transaction_sets_in_5010_with_pipe_caret_newline() {
    // The second is BEG01 05: it replaces an earlier order (`purpose`).
    let out = json(TWO_ORDERS, "{}");
    assert_schema_valid(&out);
    let actual: Vec<Value> = out
        .iter()
        .map(|o| serde_json::from_str(o).unwrap())
        .collect();
    let expected: Vec<Value> = serde_json::from_slice(include_bytes!(
        "../fixtures/x12-5010-two-orders.expected.v2.json"
    ))
    .unwrap();
    assert_eq!(actual, expected);
}

#[test]
fn same_interchange_with_other_delimiters_gives_the_same_orders() {
    // `|` `^` newline → `*` `:` `~` with CRLF after each terminator.
    let star = text(TWO_ORDERS)
        .replace('|', "*")
        .replace("*^\n", "*:~\r\n")
        .replace('\n', "~\r\n")
        .replace("~\r~\r\n", "~\r\n");
    assert_eq!(orders(star.as_bytes(), ""), orders(TWO_ORDERS, ""));
}

#[test]
fn minimal_order_uses_defaults() {
    let out = json(MINIMAL, "");
    assert_schema_valid(&out);
    let order = &orders(MINIMAL, "")[0];
    assert_eq!(order.buyer_order_number, "MM-0003");
    assert_eq!(
        order.issue_date,
        NaiveDate::from_ymd_opt(2026, 11, 5).unwrap()
    );
    assert_eq!(order.currency, "IDR");
    assert_eq!(buyer_name(order), Some("CV Maju Motor"));
    assert_eq!(order.supplier.code, "BENGKEL-PBG-007", "from N1*VN");
    assert_eq!((&order.delivery, &order.totals), (&None, &None));
    let [first, second] = &order.lines[..] else {
        panic!("two lines")
    };
    assert_eq!(first.line_number, "1", "no PO101: the position");
    assert_eq!(first.unit, "H87", "no PO103: piece");
    let price = first.price.as_ref().unwrap();
    assert_eq!(
        (price.amount, price.base_quantity),
        (Decimal::new(72500, 0), Decimal::ONE)
    );
    assert_eq!(second.line_number, "2");
    assert_eq!(second.unit, "GLL");
    assert_eq!(
        second.price.as_ref().map(|p| p.amount),
        Some(Decimal::new(1_875_005, 1))
    );
    assert_eq!(second.item.description, None);
}

#[test]
fn config_defaults_apply_only_where_the_document_is_silent() {
    let config = r#"{"default_currency":"USD","default_unit":"C62","supplier_code":"CFG-1","buyer_name":"Pembeli"}"#;
    let order = &orders(MINIMAL, config)[0];
    assert_eq!(order.currency, "USD");
    assert_eq!(order.lines[0].unit, "C62");
    assert_eq!(order.supplier.code, "BENGKEL-PBG-007");
    assert_eq!(buyer_name(order), Some("CV Maju Motor"));
    assert_eq!(orders(TEN_LINES, config)[0].currency, "IDR");

    let bare = edit(
        &edit(MINIMAL, "N1*BY*CV Maju Motor~", "DTM*011*20261105~"),
        "*92*BENGKEL-PBG-007",
        "",
    );
    let order = &orders(&bare, config)[0];
    assert_eq!(
        (buyer_name(order), order.supplier.code.as_str()),
        (Some("Pembeli"), "CFG-1")
    );
    // Without an N1*BY the interchange sender (ISA05 ZZ, ISA06 MAJUMOTOR; GS02 is
    // the same) is the buyer's id, with or without a config name.
    let sender = PartyId {
        scheme: "UNSPECIFIED".to_owned(),
        value: "MAJUMOTOR".to_owned(),
        qualifier: Some("ZZ".to_owned()),
    };
    assert_eq!(
        order.buyer.as_ref().unwrap().ids,
        std::slice::from_ref(&sender)
    );
    let order = &orders(&bare, r#"{"supplier_code":"CFG-1"}"#)[0];
    let buyer = order.buyer.as_ref().unwrap();
    assert_eq!(
        (&buyer.name, &buyer.ids, buyer.source),
        (&None, &vec![sender.clone()], Some(PartySource::Document))
    );
    assert_schema_valid(&json(&bare, r#"{"supplier_code":"CFG-1"}"#));
    let err = refused(&bare, "{}");
    assert_eq!(
        (err.code.as_str(), path(&err)),
        ("missing-segment", "ST[1]/N1")
    );
    assert!(err.message.contains("supplier_code"), "{}", err.message);

    // A header PER is the buyer's contact, kept with the envelope sender as the
    // buyer.
    let contact_only = edit(&bare, "DTM*011*20261105~", "PER*BD*Rina*TE*021~");
    let order = &orders(&contact_only, r#"{"supplier_code":"CFG-1"}"#)[0];
    let buyer = order.buyer.as_ref().unwrap();
    assert_eq!(buyer.ids, [sender]);
    assert_eq!(
        buyer.contacts,
        [Contact {
            name: Some("Rina".to_owned()),
            role: Some("BD".to_owned()),
            phone: Some("021".to_owned()),
            ..Contact::default()
        }]
    );

    // An N1*BY loop that names nobody cannot hold its contact: refused.
    let nameless = edit(&contact_only, "PER*BD", "N1*BY~PER*BD");
    let err = refused(&nameless, r#"{"supplier_code":"CFG-1"}"#);
    assert_eq!(
        (err.code.as_str(), path(&err)),
        ("missing-segment", "ST[1]/N1")
    );
    assert!(err.message.contains("buyer_name"), "{}", err.message);
}

fn buyer_name(order: &PurchaseOrder) -> Option<&str> {
    order.buyer.as_ref()?.name.as_deref()
}

#[test]
fn unit_map_adds_and_overrides_units() {
    let body = edit(MINIMAL, "PO1**10**", "PO1**10*RM*");
    // Decision 5 of docs/canonical-order-v2.md: a code outside the table is kept
    // as the buyer wrote it, unit ZZ, with a warning; strict mode refuses it.
    let order = &orders(&body, "")[0];
    assert_eq!(order.lines[0].unit, "ZZ");
    assert_eq!(
        order.lines[0].unit_original,
        Some(OriginalCode {
            code: "RM".to_owned(),
            list: "X12-355".to_owned()
        })
    );
    let warning = &order.warnings[0];
    assert_eq!(
        (
            warning.code.as_str(),
            warning.path.as_deref(),
            warning.field.as_deref()
        ),
        (
            "unit-not-rec20",
            Some("ST[1]/PO1[1]/PO103"),
            Some("/lines/0/unit")
        )
    );
    assert_schema_valid(&json(&body, ""));
    let err = refused(&body, STRICT);
    assert_eq!(err.code, "unknown-unit");
    assert_eq!(path(&err), "ST[1]/PO1[1]/PO103");
    assert!(err.message.contains("unit_map"), "{}", err.message);
    assert_eq!(
        &text(&body)[offset(&err)..offset(&err) + 2],
        "RM",
        "the offset is PO103's"
    );
    let order = &orders(&body, r#"{"unit_map":{"RM":"RM","GA":"LTR"}}"#)[0];
    assert_eq!(
        (order.lines[0].unit.as_str(), order.lines[1].unit.as_str()),
        ("RM", "LTR")
    );
}

#[test]
fn truncated_interchange_says_where_it_stops() {
    let body = include_bytes!("../fixtures/x12-truncated.edi");
    let err = refused(body, "");
    assert_eq!(err.code, "truncated");
    assert!(err.message.contains("ST[1]"), "{}", err.message);
    assert_eq!(offset(&err), body.len());
    // A truncated ISA is truncated too.
    assert_eq!(error(&TEN_LINES[..60], "").code, "truncated");
}

#[test]
fn bad_segment_count_points_at_se01() {
    let err = refused(
        include_bytes!("../fixtures/x12-bad-segment-count.edi"),
        STRICT,
    );
    assert_eq!(err.code, "bad-segment-count");
    assert_eq!(path(&err), "ST[2]/SE/SE01");
    assert!(
        err.message.contains("says 12") && err.message.contains("has 13"),
        "{}",
        err.message
    );
    let line = err.location.as_ref().unwrap().line.unwrap();
    assert_eq!(
        text(TWO_ORDERS).lines().nth(line as usize - 1),
        Some("SE|13|7002")
    );

    let err = refused(&edit(TEN_LINES, "GE*1*42", "GE*2*42"), STRICT);
    assert_eq!(
        (err.code.as_str(), path(&err)),
        ("bad-segment-count", "GS[1]/GE/GE01")
    );
    let err = refused(&edit(TEN_LINES, "IEA*1*", "IEA*3*"), STRICT);
    assert_eq!(
        (err.code.as_str(), path(&err)),
        ("bad-segment-count", "IEA/IEA01")
    );
}

#[test]
fn control_number_mismatches() {
    let err = refused(
        include_bytes!("../fixtures/x12-control-mismatch.edi"),
        STRICT,
    );
    assert_eq!(
        (err.code.as_str(), path(&err)),
        ("control-number-mismatch", "GS[1]/GE/GE02")
    );
    assert!(
        err.message.contains("\"43\"") && err.message.contains("\"42\""),
        "{}",
        err.message
    );
    let err = refused(&edit(TEN_LINES, "SE*57*0001", "SE*57*0002"), STRICT);
    assert_eq!(
        (err.code.as_str(), path(&err)),
        ("control-number-mismatch", "ST[1]/SE/SE02")
    );
    let err = refused(
        &edit(TEN_LINES, "IEA*1*000000042", "IEA*1*000000041"),
        STRICT,
    );
    assert_eq!(
        (err.code.as_str(), path(&err)),
        ("control-number-mismatch", "IEA/IEA02")
    );
}

#[test]
fn ctt_line_count_is_checked() {
    let err = refused(&edit(TEN_LINES, "CTT*10", "CTT*9"), "");
    assert_eq!(
        (err.code.as_str(), path(&err)),
        ("bad-line-count", "ST[1]/CTT/CTT01")
    );
}

#[test]
fn xml_is_not_x12() {
    let err = error(include_bytes!("../fixtures/x12-order.xml"), "");
    assert_eq!(err.code, "not-x12");
    assert!(err.message.contains("XML"), "{}", err.message);
    let err = error(b"UNA:+.? 'UNB+UNOC:3+X+Y+261103:0915+1'", "");
    assert!(err.message.contains("EDIFACT"), "{}", err.message);
    assert_eq!(error(b"", "").code, "empty-body");
}

#[test]
fn bad_values_name_the_element() {
    let cases = [
        ("PO1*3*60*EA*", "PO1*3*6O*EA*", "ST[1]/PO1[3]/PO102"),
        (
            "PO1*4*12*DZ*18000",
            "PO1*4*12*DZ*18.000,00",
            "ST[1]/PO1[4]/PO104",
        ),
        (
            "BEG*00*SA*PO-SCN-2026-11-0042**20261103",
            "BEG*00*SA*PO-SCN-2026-11-0042**2026-11-03",
            "ST[1]/BEG/BEG05",
        ),
        (
            "DTM*002*20261113",
            "DTM*002*20261131",
            "ST[1]/PO1[3]/DTM/DTM02",
        ),
        ("CUR*BY*IDR", "CUR*BY*Rp", "ST[1]/CUR/CUR02"),
        (
            "Jawa Barat*17530*ID",
            "Jawa Barat*17530*IDN",
            "ST[1]/N1[3]/N4/N404",
        ),
        ("AMT*1*5700000", "AMT*1*-5700000", "ST[1]/PO1[3]/AMT/AMT02"),
    ];
    for (from, to, expected) in cases {
        let body = edit(TEN_LINES, from, to);
        let err = refused(&body, "");
        assert_eq!(
            (err.code.as_str(), path(&err)),
            ("invalid-value", expected),
            "{to}: {err}"
        );
        assert!(err.message.contains(expected), "{}", err.message);
    }
}

#[test]
fn envelope_structure_errors() {
    let cases = [
        (
            edit(TEN_LINES, "ST*850*0001", "ST*860*0001"),
            "unsupported-purpose",
            "ST[1]/ST01",
        ),
        (
            edit(TEN_LINES, "*X*004010", "*X*002001"),
            "unsupported-version",
            "GS[1]/GS08",
        ),
        (
            edit(TEN_LINES, "BEG*00*", "BEG*01*"),
            "unsupported-purpose",
            "ST[1]/BEG/BEG01",
        ),
        (
            edit(TEN_LINES, "SE*57*0001~\n", ""),
            "missing-segment",
            "ST[1]/SE",
        ),
        (
            edit(TEN_LINES, "IEA*1*000000042~", "IEA*1*000000042~\nGS*PO~"),
            "unexpected-segment",
            "GS",
        ),
        (
            edit(TEN_LINES, "BEG*00*SA*PO-SCN-2026-11-0042", "BEG*00*SA*"),
            "missing-segment",
            "ST[1]/BEG/BEG03",
        ),
    ];
    for (body, code, expected) in cases {
        let err = refused(&body, "");
        assert_eq!((err.code.as_str(), path(&err)), (code, expected), "{err}");
    }
}

#[test]
fn lines_without_item_or_quantity() {
    // PID*S (structured) is not a description; the segment count stays right.
    let err = refused(&edit(MINIMAL, "PID*F*", "PID*S*"), "");
    assert_eq!(
        (err.code.as_str(), path(&err)),
        ("missing-segment", "ST[1]/PO1[1]")
    );
    let err = refused(&edit(MINIMAL, "PO1**2*GA*", "PO1***GA*"), "");
    assert_eq!(
        (err.code.as_str(), path(&err)),
        ("missing-segment", "ST[1]/PO1[2]/PO102")
    );
}

#[test]
fn bom_and_leading_blank_lines_are_skipped() {
    let mut body = b"\xEF\xBB\xBF\r\n".to_vec();
    body.extend_from_slice(MINIMAL);
    assert_eq!(orders(&body, ""), orders(MINIMAL, ""));
}

#[test]
fn info_names_the_x12_content_types() {
    let info = X12Order::info();
    assert_eq!(info.name, "x12-850");
    assert_eq!(
        info.content_types,
        ["application/edi-x12", "application/edi", "text/plain"]
    );
}

/// The 10-line order with its PO1 loops repeated to `lines` lines, counts fixed.
fn many_lines(lines: usize) -> Vec<u8> {
    let body = text(TEN_LINES);
    let (start, end) = (body.find("PO1*1*").unwrap(), body.find("CTT*").unwrap());
    let block = &body[start..end];
    let per_block = block.matches("~\n").count();
    let blocks = lines / 10;
    let repeated = block.repeat(blocks);
    let se = 57 + per_block * (blocks - 1);
    format!("{}{repeated}{}", &body[..start], &body[end..])
        .replace("CTT*10*249", &format!("CTT*{lines}"))
        .replace("SE*57*", &format!("SE*{se}*"))
        .into_bytes()
}

/// `cargo test --release -p x12-850 -- --ignored --nocapture timing`
#[test]
#[ignore = "a measurement; run in release"]
fn timing() {
    for (name, body) in [
        ("10 lines", TEN_LINES.to_vec()),
        ("500 lines", many_lines(500)),
    ] {
        assert_eq!(
            orders(&body, "")[0].lines.len(),
            if name == "10 lines" { 10 } else { 500 }
        );
        let runs = 2000;
        let start = std::time::Instant::now();
        for _ in 0..runs {
            std::hint::black_box(json(std::hint::black_box(&body), ""));
        }
        eprintln!(
            "x12-850 {name}: {:?} per normalize_json",
            start.elapsed() / runs
        );
    }
}

/// Every segment the v2 mapping reads, in one synthetic order built on the minimal
/// one; the expectations are worked out from the segments by hand, element by
/// element (docs/canonical-order-v2.md §4.3 and the README's table).
#[test]
fn every_mapped_segment_lands_in_its_v2_field() {
    let header = "BEG*07*BK*MM-0003*R-7*20261105*K-2026-01~\
        FOB*PP*ZN*Purbalingga*01*FCA~\
        ITD*05*3*2*20261115*10**30*1250~\
        DTM*064*20261201~DTM*063*20261205~DTM*010*20261128~\
        SAC*C*D240***150000~SAC*A*C310***1250*3*2.5~\
        TXI*VA*1650000*11~";
    let line = "PO1*1*1000*PC*185000*HP*BP*MO-BLT-0825*DW*DRW-4410*DR*C*MN*KX-9*ZZ*X1~\
        PID*F****Baut M8x25 SS304~PID*F****DIN 933~\
        PID*S*08**SS304*Stainless steel 304~\
        MEA*PD*LN*25*MM~PO4*100*1*PC*CTN~SAC*A*A260***5000~DTM*002*20261203~\
        N1*ST*Gudang 2*UL*8991234500017~";
    let body = edit(
        &edit(
            &edit(MINIMAL, "BEG*00*SA*MM-0003**20261105~", header),
            "PO1**10**72500~PID*F****Knalpot standar Honda Supra X 125~",
            line,
        ),
        "*VP*SR-OLI-GA~",
        "*VP*SR-OLI-GA*CH*Indonesia~",
    );
    let out = json(&body, "");
    assert_schema_valid(&out);
    let order: Value = serde_json::from_str(&out[0]).unwrap();
    let expected_header = serde_json::json!({
        "purpose": "copy",
        "order_type": {"code": "BK", "list": "X12-92", "text": "Blanket Order (Quantity Firm)"},
        "references": [
            {"type": "release", "value": "R-7", "qualifier": "BEG04"},
            {"type": "contract", "value": "K-2026-01", "qualifier": "BEG06"}
        ],
        "delivery_terms": {"incoterm": "FCA", "place": "Purbalingga", "transport_payment": "PP"},
        "payment_terms": [{"code": "05", "discount_percent": "2", "discount_due_date": "2026-11-15",
            "discount_days": 10, "net_days": 30, "discount_amount": "12.50"}],
        "delivery": {"earliest": "2026-12-01", "latest": "2026-12-05"},
        // SAC05 is N2: two implied decimals.
        "allowances_charges": [
            {"kind": "charge", "level": "order", "reason_code": "D240", "reason_code_list": "X12-1300",
             "amount": "1500.00"},
            {"kind": "allowance", "level": "order", "reason_code": "C310", "reason_code_list": "X12-1300",
             "amount": "12.50", "percent": "2.5"}
        ],
        "taxes": [{"scheme": "VA", "rate": "11", "amount": "1650000"}],
    });
    for (key, value) in expected_header.as_object().unwrap() {
        assert_eq!(&order[key], value, "{key}");
    }
    let kept: Vec<(&str, &str)> = order["extensions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["path"].as_str().unwrap(), e["value"].as_str().unwrap()))
        .collect();
    assert_eq!(
        kept,
        [
            ("FOB/FOB02", "ZN"),
            ("ITD/ITD02", "3"),
            ("DTM/DTM01", "010"),
            ("DTM/DTM02", "20261128"),
            ("SAC/SAC06", "3"),
        ]
    );
    let expected_line = serde_json::json!({
        "line_number": "1",
        "item": {
            "name": "Baut M8x25 SS304",
            "description": "DIN 933",
            "ids": [
                {"role": "buyer", "value": "MO-BLT-0825", "qualifier": "BP"},
                {"role": "other", "value": "X1", "qualifier": "ZZ"}
            ],
            "properties": [
                {"name": "Model number", "value": "KX-9", "code": "MN"},
                {"name": "08", "value": "Stainless steel 304", "code": "08"},
                {"name": "LN", "value": "25", "unit": "MMT", "code": "PD"}
            ],
            "documents": [{"id": "DRW-4410", "type": "drawing", "revision": "C"}]
        },
        "quantity": "1000",
        "unit": "H87",
        "unit_original": {"code": "PC", "list": "X12-355"},
        // PO105 HP: the price is per hundred, never divided.
        "price": {"amount": "185000", "base_quantity": "100", "basis_code": "HP"},
        "delivery": {
            "requested_date": "2026-12-03",
            "location": {"ids": [{"scheme": "GLN", "value": "8991234500017", "qualifier": "UL"}],
                         "name": "Gudang 2"}
        },
        "packaging": {"pack": "100", "size": "1", "size_unit": "H87", "package_code": "CTN"},
        "allowances_charges": [{"kind": "allowance", "level": "line", "reason_code": "A260",
            "reason_code_list": "X12-1300", "amount": "50.00"}],
        "extensions": [{"namespace": "x12", "path": "PO1[1]/PID/PID04", "value": "SS304"}]
    });
    assert_eq!(order["lines"][0], expected_line);
    // A country of origin that is no ISO code stays as written, with its path.
    assert_eq!(
        order["lines"][1]["extensions"],
        serde_json::json!([
            {"namespace": "x12", "path": "PO1[2]/PO108", "value": "CH"},
            {"namespace": "x12", "path": "PO1[2]/PO109", "value": "Indonesia"}
        ])
    );
}
