//! Issue 10, part 3: where the buyer's plugin renders responses (WIT
//! `jembatan:plugin@0.4.0`, `render-response`), the `order.response` event at the
//! buyer's callback carries the answer in the buyer's own format. For a buyer on
//! each stock renderer (`x12-850`, `edifact-orders`, `ubl-order`) three orders are
//! answered (accepted; rejected with a reason; accepted with a new promised date
//! and a changed line), the events are verified by the `standardwebhooks` package
//! (`tests/peers/webhook_receiver.py`), and the documents they carry are read back
//! by independent parsers from PyPI (`tests/tools/read_response.py`: pyx12,
//! pydifact, lxml).

use serde_json::{Value, json};

use crate::delivery::{SECRET, WAIT, gateway};
use crate::harness::{Gateway, fixture, json_of};
use crate::peers::{WebhookReceiver, read_with_tool, require_python_packages};

/// The order number in the three fixtures, replaced per order.
pub(crate) const FIXTURE_NUMBER: &str = "PO-SCN-2026-11-0042";

/// The three answers, as `(order number suffix, request body)`.
fn answers() -> [(&'static str, Value); 3] {
    [
        ("A", json!({"status": "accepted"})),
        (
            "R",
            json!({"status": "rejected", "reason": "Mesin bubut rusak; tidak bisa minggu ini"}),
        ),
        (
            "C",
            json!({"status": "accepted_with_changes", "promised_delivery_date": "2026-12-20",
                   "lines": [{"line_number": "2", "quantity": "35",
                              "delivery_date": "2026-12-22"}]}),
        ),
    ]
}

/// What one buyer's callback received: per answer (in [`answers`] order) the
/// verified event's `data`, and the receiver's records.
struct Answered {
    data: Vec<Value>,
    records: Vec<Value>,
}

/// A gateway with buyer `sinar-cakra` bound to `plugin`, its callback at a
/// Standard Webhooks receiver, and the fixtures' supplier `BENGKEL-PBG-007`
/// routed to craftsman `jaya`; returns the buyer's key and jaya's token.
pub(crate) fn buyer_on(plugin: &str) -> (Gateway, WebhookReceiver, String, String) {
    require_python_packages();
    let receiver = WebhookReceiver::start(SECRET);
    let gw = gateway("1s", None, &[]);
    let created = json_of(
        gw.admin(
            reqwest::Method::POST,
            "/v1/admin/buyers",
            Some(
                json!({"id": "sinar-cakra", "name": "PT Sinar Cakra", "plugin": plugin,
                        "callback_url": receiver.url("/responses")}),
            ),
        ),
        201,
    );
    let key = created["api_key"].as_str().unwrap().to_owned();
    receiver.set_secret(created["callback_secret"].as_str().unwrap());
    let craftsman = gw.create_craftsman(json!({"id": "jaya", "name": "Bengkel Jaya"}));
    let token = craftsman["token"].as_str().unwrap().to_owned();
    gw.route("sinar-cakra", "BENGKEL-PBG-007", "jaya");
    (gw, receiver, key, token)
}

/// A buyer bound to `plugin` with a callback, its three orders posted from
/// `fixture_path` (order numbers `…-A`, `…-R`, `…-C`) and answered; the first
/// attempt at the callback fails once with a 500, so one event is sent twice.
fn answered(plugin: &str, content_type: &str, fixture_path: &str) -> (Gateway, Answered) {
    let (gw, receiver, key, token) = buyer_on(plugin);
    let original = String::from_utf8(fixture(fixture_path)).unwrap();
    receiver.fail_next(1, 500);
    let mut order_ids = Vec::new();
    for (suffix, body) in answers() {
        let number = format!("{FIXTURE_NUMBER}-{suffix}");
        let posted = json_of(
            gw.post_order(
                &key,
                content_type,
                original.replace(FIXTURE_NUMBER, &number),
            ),
            201,
        );
        let order_id = posted["orders"][0]["id"].as_str().unwrap().to_owned();
        assert_eq!(posted["orders"][0]["buyer_order_number"], number.as_str());
        let answer = gw
            .client
            .post(gw.url(&format!("/v1/inbox/{order_id}/response")))
            .bearer_auth(&token)
            .json(&body)
            .send()
            .unwrap();
        json_of(answer, 201);
        order_ids.push(order_id);
    }
    let verified = |records: &[Value]| -> Vec<Value> {
        records
            .iter()
            .filter(|r| r["verified"] == true && r["status"].as_u64().is_some_and(|s| s < 300))
            .map(|r| r["body"].clone())
            .collect()
    };
    let records = receiver.wait_for(|r| verified(r).len() == 3, WAIT);
    let events = verified(&records);
    let data = order_ids
        .iter()
        .map(|id| {
            let event = events
                .iter()
                .find(|e| e["data"]["order_id"] == id.as_str())
                .unwrap_or_else(|| panic!("no event for {id}: {events:?}"));
            assert_eq!(event["type"], "order.response");
            event["data"].clone()
        })
        .collect();
    (gw, Answered { data, records })
}

/// The document an event carries, as the buyer would read it.
pub(crate) fn document(data: &Value, content_type: &str) -> String {
    assert!(data.get("render_error").is_none(), "{data}");
    let rendered = &data["rendered"];
    assert_eq!(rendered["content_type"], content_type, "{data}");
    assert_eq!(rendered["encoding"], "utf-8", "{data}");
    rendered["body"].as_str().unwrap().to_owned()
}

/// `tests/tools/read_response.py kind` on `document`.
#[track_caller]
pub(crate) fn read_back(kind: &str, document: &str) -> Value {
    read_with_tool("read_response.py", &[kind], document.as_bytes())
}

/// The first attempt failed and the retry carried the same bytes, rendering and
/// all: the document is rendered once and kept.
fn retried_with_the_same_bytes(records: &[Value]) {
    let failed = records
        .iter()
        .find(|r| r["status"] == 500)
        .expect("the first attempt was refused");
    let retried = records
        .iter()
        .find(|r| r["webhook_id"] == failed["webhook_id"] && r["status"] != 500)
        .expect("the refused event was sent again");
    assert_eq!(failed["body"], retried["body"]);
    assert!(retried["body"]["data"]["rendered"]["body"].is_string());
}

/// Segments of `read` with tag `tag`.
pub(crate) fn x12_segments<'a>(read: &'a Value, tag: &str) -> Vec<&'a Vec<Value>> {
    read["segments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_array().unwrap())
        .filter(|s| s[0] == tag)
        .collect()
}

#[test]
fn an_x12_buyer_gets_855s_with_the_envelope_turned_round() {
    let (_gw, answered) = answered(
        "x12-850",
        "application/edi-x12",
        "plugins/x12-850/fixtures/x12-4010-10-lines.edi",
    );
    retried_with_the_same_bytes(&answered.records);
    let mut interchanges = Vec::new();
    for (data, (suffix, _)) in answered.data.iter().zip(answers()) {
        let text = document(data, "application/edi-x12");
        let read = read_back("x12", &text);
        assert_eq!(read["errors"], json!([]), "pyx12 found errors in\n{text}");
        let isa = x12_segments(&read, "ISA")[0];
        // Sender and receiver swapped: the 850 came from SINARCAKRA to JEMBATAN.
        assert_eq!(isa[6].as_str().unwrap().trim(), "JEMBATAN");
        assert_eq!(isa[8].as_str().unwrap().trim(), "SINARCAKRA");
        assert_eq!(isa[12], "00401", "the 850's version");
        assert_eq!(isa[15], "P");
        let gs = x12_segments(&read, "GS")[0];
        assert_eq!(
            (&gs[1], &gs[2], &gs[3]),
            (&json!("PR"), &json!("JEMBATAN"), &json!("SINARCAKRA"))
        );
        assert_eq!(gs[8], "004010");
        let st = x12_segments(&read, "ST")[0];
        assert_eq!(st[1], "855");
        interchanges.push((isa[13].clone(), gs[6].clone(), st[2].clone()));
        let bak = x12_segments(&read, "BAK")[0];
        let kind = match suffix {
            "A" => "AD",
            "R" => "RJ",
            _ => "AC",
        };
        assert_eq!(bak[2], kind, "{text}");
        assert_eq!(bak[3], format!("{FIXTURE_NUMBER}-{suffix}"));
        assert_eq!(bak[4], "20261103", "the 850's date");
        if suffix == "C" {
            assert_eq!(
                x12_segments(&read, "DTM")[0][1..],
                [json!("067"), json!("20261220")]
            );
            let po1 = x12_segments(&read, "PO1");
            assert_eq!(po1.len(), 1, "{text}");
            assert_eq!(po1[0][1], "2");
            assert_eq!(po1[0][2], "40", "the quantity ordered");
            let ack = x12_segments(&read, "ACK")[0];
            assert_eq!(
                ack[1..6],
                [
                    json!("IQ"),
                    json!("35"),
                    json!("PC"),
                    json!("067"),
                    json!("20261222")
                ]
            );
        } else {
            assert!(x12_segments(&read, "ACK").is_empty(), "{text}");
        }
    }
    // Fresh control numbers: no two responses share one.
    for (i, a) in interchanges.iter().enumerate() {
        for b in &interchanges[i + 1..] {
            assert_ne!(a.0, b.0, "ISA13");
            assert_ne!(a.1, b.1, "GS06");
            assert_ne!(a.2, b.2, "ST02");
        }
    }
    // Each response was rendered once, though the answer's task and the delivery
    // worker both ask for it: no control number was taken and thrown away.
    let mut numbers: Vec<u64> = interchanges
        .iter()
        .map(|(isa13, _, _)| isa13.as_str().unwrap().parse().unwrap())
        .collect();
    numbers.sort();
    assert_eq!(numbers, [1, 2, 3], "ISA13 of the three responses");
}

/// The segments of `message` with tag `tag`, as their elements.
pub(crate) fn edifact_segments<'a>(message: &'a Value, tag: &str) -> Vec<&'a Value> {
    message["segments"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s[0] == tag)
        .map(|s| &s[1])
        .collect()
}

#[test]
fn an_edifact_buyer_gets_ordrsps() {
    let (_gw, answered) = answered(
        "edifact-orders",
        "application/edifact",
        "plugins/edifact-orders/fixtures/edifact-d96a-10-lines.edi",
    );
    retried_with_the_same_bytes(&answered.records);
    let mut references = Vec::new();
    for (data, (suffix, _)) in answered.data.iter().zip(answers()) {
        let text = document(data, "application/edifact");
        let read = read_back("edifact", &text);
        // Sender and recipient swapped: the ORDERS came from 8991234500017.
        assert_eq!(read["sender"], json!(["JEMBATAN", "ZZZ"]), "{text}");
        assert_eq!(read["recipient"], json!(["8991234500017", "14"]));
        assert_eq!(read["syntax_identifier"], json!(["UNOC", 3]));
        references.push(read["control_reference"].clone());
        let message = &read["messages"][0];
        assert_eq!(message["type"], "ORDRSP");
        assert_eq!(
            message["identifier"].as_array().unwrap()[1..4],
            [json!("D"), json!("96A"), json!("UN")]
        );
        let bgm = edifact_segments(message, "BGM")[0];
        let function = match suffix {
            "A" => "29",
            "R" => "27",
            _ => "4",
        };
        assert_eq!(bgm[0], "231");
        assert_eq!(bgm[2], function, "{text}");
        let rff = edifact_segments(message, "RFF")[0];
        assert_eq!(rff, &json!([["ON", format!("{FIXTURE_NUMBER}-{suffix}")]]));
        let dates = edifact_segments(message, "DTM");
        assert!(
            dates.contains(&&json!([["171", "20261103", "102"]])),
            "{text}"
        );
        // The buyer and the supplier as the ORDERS named them, in segment group 3,
        // after the reference group (the delivery party is not repeated).
        let nad = edifact_segments(message, "NAD");
        assert_eq!(
            nad,
            [
                &json!([
                    "BY",
                    ["8991234500017", "", "9"],
                    "",
                    "PT Sinar Cakra Nusantara"
                ]),
                &json!([
                    "SU",
                    ["BENGKEL-PBG-007", "", "92"],
                    "",
                    "Bengkel Knalpot Sumber Rejeki"
                ]),
            ],
            "{text}"
        );
        let tags: Vec<&Value> = message["segments"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| &s[0])
            .collect();
        let at = |tag: &str| tags.iter().position(|t| *t == tag).unwrap();
        assert!(at("RFF") < at("NAD") && at("NAD") < at("UNS"), "{text}");
        if suffix == "R" {
            let ftx = edifact_segments(message, "FTX")[0];
            assert_eq!(ftx[3], "Mesin bubut rusak; tidak bisa minggu ini");
        }
        if suffix == "C" {
            assert!(
                dates.contains(&&json!([["69", "20261220", "102"]])),
                "{text}"
            );
            let lin = edifact_segments(message, "LIN");
            assert_eq!(lin.len(), 1, "{text}");
            assert_eq!(lin[0][0], "2");
            assert_eq!(lin[0][1], "3");
            let qty = edifact_segments(message, "QTY")[0];
            assert_eq!(
                qty[0].as_array().unwrap()[0..2],
                [json!("21"), json!("35")],
                "{text}"
            );
            assert!(
                dates.contains(&&json!([["69", "20261222", "102"]])),
                "{text}"
            );
        } else {
            assert!(edifact_segments(message, "LIN").is_empty(), "{text}");
        }
    }
    assert_ne!(references[0], references[1]);
    assert_ne!(references[1], references[2]);
    assert_ne!(references[0], references[2]);
}

#[test]
fn a_ubl_buyer_gets_order_responses() {
    let (_gw, answered) = answered(
        "ubl-order",
        "application/xml",
        "plugins/ubl-order/fixtures/ubl-10-lines.xml",
    );
    retried_with_the_same_bytes(&answered.records);
    for (data, (suffix, _)) in answered.data.iter().zip(answers()) {
        let text = document(data, "application/xml");
        let read = read_back("ubl", &text);
        assert_eq!(
            read["root"],
            "{urn:oasis:names:specification:ubl:schema:xsd:OrderResponse-2}OrderResponse"
        );
        assert_eq!(read["version"], "2.1");
        assert_eq!(read["id"], data["response"]["id"]);
        let code = match suffix {
            "A" => "AP",
            "R" => "RE",
            _ => "CA",
        };
        assert_eq!(read["code"], code, "{text}");
        assert_eq!(
            read["order_reference"],
            format!("{FIXTURE_NUMBER}-{suffix}")
        );
        assert_eq!(read["order_date"], "2026-11-03");
        assert!(
            read["seller"].is_string() && read["buyer"].is_string(),
            "{text}"
        );
        // The schema's sequence: the order reference before the parties, the
        // parties before the delivery, the lines last.
        let children: Vec<&str> = read["children"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap())
            .collect();
        let at = |name: &str| children.iter().position(|c| *c == name);
        assert!(
            at("OrderReference") < at("SellerSupplierParty"),
            "{children:?}"
        );
        assert!(at("SellerSupplierParty") < at("BuyerCustomerParty"));
        match suffix {
            "R" => assert_eq!(read["note"], "Mesin bubut rusak; tidak bisa minggu ini"),
            "C" => {
                assert_eq!(read["promised"], "2026-12-20");
                assert!(at("BuyerCustomerParty") < at("Delivery"));
                assert_eq!(
                    read["lines"],
                    json!([{"id": "2", "status": "3", "quantity": "35", "unit": "H87",
                            "promised": "2026-12-22", "price": null}])
                );
            }
            _ => assert_eq!(read["lines"], json!([])),
        }
    }
}
