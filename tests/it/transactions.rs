//! One outcome per transaction (issue 14): a message carrying several transactions
//! gets good orders accepted beside a bad sibling, the refused one replayed alone
//! after a fix, documents that are not orders named as such, and warnings shown;
//! and a plugin built against the first plugin contract still runs.

use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::{Gateway, expect_problem, fixture, json_of};

/// One interchange, two groups: an 850 that names its supplier, an 850 that names
/// none (the buyer's config does not either, so it cannot be routed: refused), and
/// an 810 invoice. The 850s' group says `OW` (a warehouse order), as partners send
/// them, and its GE02 does not repeat GS06: both read past, with warnings.
const MIXED: &str = "\
ISA*00*          *00*          *ZZ*SINARCAKRA     *ZZ*JEMBATAN       *261103*0915*U*00401*000000042*0*P*>~
GS*OW*SINARCAKRA*JEMBATAN*20261103*0915*42*X*004010~
ST*850*0001~
BEG*00*SA*PO-A**20261103~
N1*SE*Bengkel Sumber Rejeki*92*CRAFT-1~
PO1*1*25*PC*385000**BP*AST-1~
PID*F****Knalpot racing~
CTT*1~
SE*7*0001~
ST*850*0002~
BEG*00*SA*PO-B**20261103~
PO1*1*10*PC*100000**BP*AST-2~
PID*F****Leher knalpot~
CTT*1~
SE*6*0002~
GE*2*41~
GS*IN*SINARCAKRA*JEMBATAN*20261103*0915*43*X*004010~
ST*810*0003~
BIG*20261103*INV-1~
SE*3*0003~
GE*1*43~
IEA*2*000000042~
";

fn replay(gw: &Gateway, message_id: &str) -> reqwest::blocking::Response {
    gw.admin(
        Method::POST,
        &format!("/v1/admin/messages/{message_id}/replay"),
        None,
    )
}

fn order_count(gw: &Gateway, key: &str) -> usize {
    json_of(gw.get(key, "/v1/orders"), 200)["orders"]
        .as_array()
        .unwrap()
        .len()
}

#[test]
fn good_orders_go_through_beside_a_bad_sibling_which_is_replayed_alone() {
    let gw = Gateway::start();
    let key = gw.create_buyer("mixed", "x12-850", json!({}));
    let answer = json_of(gw.post_order(&key, "application/edi-x12", MIXED), 201);

    // The answer says all of it: the order, the refused set, the invoice.
    let orders = answer["orders"].as_array().unwrap();
    assert_eq!(orders.len(), 1, "{answer}");
    assert_eq!(orders[0]["buyer_order_number"], "PO-A");
    assert_eq!(
        orders[0]["transaction"],
        json!({"index": 0, "control_number": "0001"})
    );
    let refused = answer["refused"].as_array().unwrap();
    assert_eq!(refused.len(), 1, "{answer}");
    assert_eq!(refused[0]["index"], 1);
    assert_eq!(refused[0]["control_number"], "0002");
    assert_eq!(refused[0]["error"]["code"], "missing-segment", "{answer}");
    assert_eq!(
        refused[0]["error"]["location"]["path"], "ST[2]/N1",
        "{answer}"
    );
    assert!(
        refused[0]["error"]["message"]
            .as_str()
            .unwrap()
            .contains("supplier"),
        "{answer}"
    );
    assert_eq!(
        answer["not_orders"],
        json!([{"index": 2, "control_number": "0003", "kind": "810", "reason": null}]),
        "{answer}"
    );
    let codes = |warnings: &Value| -> Vec<String> {
        warnings
            .as_array()
            .into_iter()
            .flatten()
            .map(|w| w["code"].as_str().unwrap().to_owned())
            .collect()
    };
    assert!(
        codes(&answer["warnings"]).contains(&"control-number-mismatch".to_owned()),
        "{answer}"
    );

    // The buyer sees the same per transaction on the message, with the warning.
    let message_id = answer["message_id"].as_str().unwrap().to_owned();
    let message = json_of(gw.get(&key, &format!("/v1/messages/{message_id}")), 200);
    assert_eq!(message["status"], "normalized");
    let statuses: Vec<&str> = message["transactions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["ok", "refused", "not_an_order"], "{message}");
    assert_eq!(message["transactions"][0]["order_id"], orders[0]["id"]);
    assert!(codes(&message["warnings"]).contains(&"control-number-mismatch".to_owned()));

    // The order itself says which transaction it came from.
    let order = json_of(
        gw.get(
            &key,
            &format!("/v1/orders/{}", orders[0]["id"].as_str().unwrap()),
        ),
        200,
    );
    assert_eq!(
        order["order"]["received"]["transaction"],
        json!({"index": 0, "control_number": "0001"})
    );
    // What was read past in a transaction stays with it: on the order, and on the
    // refused one.
    assert!(
        codes(&order["order"]["warnings"]).contains(&"group-code-mismatch".to_owned()),
        "{order}"
    );
    assert!(
        codes(&message["transactions"][1]["warnings"]).contains(&"group-code-mismatch".to_owned()),
        "{message}"
    );

    // Replayed unfixed: still refused, and the accepted order is not made again.
    let replayed = json_of(replay(&gw, &message_id), 200);
    assert_eq!(replayed["status"], "normalized", "{replayed}");
    assert_eq!(order_count(&gw, &key), 1);

    // The buyer's config now names the supplier: the replay takes the refused set
    // alone, and the first order is still the one order of its transaction.
    json_of(
        gw.admin(
            Method::PATCH,
            "/v1/admin/buyers/mixed",
            Some(json!({"plugin_config": {"supplier_code": "CRAFT-2"}})),
        ),
        200,
    );
    let replayed = json_of(replay(&gw, &message_id), 200);
    assert_eq!(
        replayed["order_ids"].as_array().unwrap().len(),
        2,
        "{replayed}"
    );
    assert_eq!(order_count(&gw, &key), 2);
    let message = json_of(gw.get(&key, &format!("/v1/messages/{message_id}")), 200);
    let transactions = message["transactions"].as_array().unwrap();
    assert_eq!(transactions[0]["order_id"], orders[0]["id"], "{message}");
    assert_eq!(transactions[1]["status"], "ok", "{message}");
    assert_eq!(transactions[2]["status"], "not_an_order");
    let second = json_of(
        gw.get(
            &key,
            &format!(
                "/v1/orders/{}",
                transactions[1]["order_id"].as_str().unwrap()
            ),
        ),
        200,
    );
    assert_eq!(second["order"]["buyer_order_number"], "PO-B");
    assert_eq!(second["order"]["supplier"]["code"], "CRAFT-2");

    // Nothing is left to replay.
    expect_problem(replay(&gw, &message_id), 409);
    assert_eq!(order_count(&gw, &key), 2);
}

#[test]
fn a_message_with_no_order_is_refused_with_every_transaction_listed() {
    let gw = Gateway::start();
    let key = gw.create_buyer("no-orders", "x12-850", json!({}));
    // The refused 850 and the invoice of the mixed interchange, without the good one.
    let start = MIXED.find("ST*850*0002").unwrap();
    let end = MIXED.find("GE*2*41").unwrap();
    let body = format!(
        "{}GS*PO*SINARCAKRA*JEMBATAN*20261103*0915*42*X*004010~\n{}GE*1*42~\n{}",
        &MIXED[..MIXED.find("GS*OW").unwrap()],
        &MIXED[start..end],
        &MIXED[MIXED.find("GS*IN").unwrap()..]
    );
    let problem = expect_problem(gw.post_order(&key, "application/edi-x12", body), 422);
    assert!(
        problem["type"].as_str().unwrap().ends_with("/no-orders"),
        "{problem}"
    );
    assert_eq!(problem["refused"][0]["control_number"], "0002", "{problem}");
    assert_eq!(problem["not_orders"][0]["kind"], "810", "{problem}");
    let message_id = problem["message_id"].as_str().unwrap();
    let message = json_of(gw.get(&key, &format!("/v1/messages/{message_id}")), 200);
    assert_eq!(message["status"], "failed");
    assert_eq!(message["transactions"].as_array().unwrap().len(), 2);
    assert_eq!(order_count(&gw, &key), 0);
}

#[test]
fn a_json_array_gets_one_outcome_per_item() {
    let gw = Gateway::start();
    let key = gw.create_buyer("array", "canonical-json", json!({}));
    let good = crate::harness::canonical_order("PO-ARRAY-1", "CRAFT-1");
    let mut bad = crate::harness::canonical_order("PO-ARRAY-2", "CRAFT-1");
    bad["lines"][0]["quantity"] = json!("lots");
    let answer = json_of(
        gw.post_order(&key, "application/json", json!([good, bad]).to_string()),
        201,
    );
    assert_eq!(answer["orders"].as_array().unwrap().len(), 1, "{answer}");
    assert_eq!(answer["orders"][0]["buyer_order_number"], "PO-ARRAY-1");
    assert_eq!(answer["refused"][0]["index"], 1, "{answer}");
    assert!(
        answer["refused"][0]["error"]["location"]["path"]
            .as_str()
            .unwrap_or_default()
            .starts_with("/1"),
        "{answer}"
    );
}

#[test]
fn a_plugin_built_against_the_first_contract_still_runs() {
    let gw = Gateway::start();
    // canonical-json as built before `jembatan:plugin@0.2.0` existed.
    let old = fixture("tests/fixtures/plugins/canonical-json-wit-0.1.wasm");
    let uploaded = json_of(gw.upload_plugin(old), 201);
    assert_eq!(uploaded["wit"], "0.1.0", "{uploaded}");
    let plugins = gw.admin_get("/v1/admin/plugins");
    let stock = plugins
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "canonical-json" && p["sha256"] != uploaded["sha256"])
        .expect("the stock canonical-json");
    assert_eq!(stock["wit"], "0.4.0", "{stock}");

    let key = gw.create_buyer_with(json!({
        "id": "old-plugin",
        "name": "Buyer on the first contract",
        "plugin": "canonical-json",
        "plugin_version": uploaded["version"],
    }));
    let order = crate::harness::canonical_order("PO-OLD-1", "CRAFT-1");
    let answer = json_of(
        gw.post_order(&key, "application/json", order.to_string()),
        201,
    );
    assert_eq!(answer["orders"][0]["buyer_order_number"], "PO-OLD-1");
    // Its orders are transactions at their positions, without control numbers.
    assert_eq!(
        answer["orders"][0]["transaction"],
        json!({"index": 0, "control_number": null})
    );
    // Its error still refuses the message whole, as it always did.
    let problem = expect_problem(gw.post_order(&key, "application/json", "{"), 422);
    assert!(
        problem["type"]
            .as_str()
            .unwrap()
            .ends_with("/plugin-rejected"),
        "{problem}"
    );
}
