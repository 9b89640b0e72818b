//! Bad input gets a clear 4xx problem document, never a 5xx, and failed messages
//! are kept with their error.

use reqwest::Method;
use serde_json::json;

use crate::harness::{Gateway, expect_problem, fixture, json_of};

#[test]
fn malformed_documents_are_422_with_the_message_id_and_where() {
    let gw = Gateway::start();
    let ubl = gw.create_buyer("ubl", "ubl-order", json!({}));
    let json_buyer = gw.create_buyer("json", "canonical-json", json!({}));

    let truncated = b"<?xml version=\"1.0\"?>\n<Order xmlns=\"urn:oasis:names:specification:ubl:schema:xsd:Order-2\">\n  <cbc:ID>1</cbc:ID\n";
    let problem = expect_problem(gw.post_order(&ubl, "application/xml", &truncated[..]), 422);
    let error = &problem["plugin_error"];
    assert_eq!(error["code"], "malformed-xml", "{problem}");
    assert!(error["location"]["line"].as_u64().is_some(), "{problem}");

    // The failed message is stored, with the same problem, for replay.
    let message_id = problem["message_id"].as_str().unwrap();
    let message = json_of(gw.get(&ubl, &format!("/v1/messages/{message_id}")), 200);
    assert_eq!(message["status"], "failed");
    assert_eq!(message["error"]["plugin_error"], *error);

    let problem = expect_problem(
        gw.post_order(
            &json_buyer,
            "application/json",
            "{\"buyer_order_number\": \"PO-1\",\n  \"issue_date\" \"2026-11-27\"}",
        ),
        422,
    );
    assert_eq!(
        problem["plugin_error"]["code"], "malformed-json",
        "{problem}"
    );
    assert_eq!(problem["plugin_error"]["location"]["line"], 2, "{problem}");

    // A document of another standard: the plugin says what it got.
    let cxml = br#"<?xml version="1.0"?><cXML payloadID="1" timestamp="2026-11-27T10:00:00+07:00"><Request><OrderRequest/></Request></cXML>"#;
    let problem = expect_problem(gw.post_order(&ubl, "text/xml", &cxml[..]), 422);
    assert!(
        problem["detail"].as_str().unwrap().contains("cXML"),
        "{problem}"
    );
}

#[test]
fn requests_without_a_valid_key_are_401() {
    let gw = Gateway::start();
    let key = gw.create_buyer("real", "canonical-json", json!({}));
    let body = fixture("tests/fixtures/canonical-every-field.json");

    let no_key = gw
        .client
        .post(gw.url("/v1/orders"))
        .header("content-type", "application/json")
        .body(body.clone())
        .send()
        .unwrap();
    assert_eq!(no_key.headers()["www-authenticate"], "Bearer");
    expect_problem(no_key, 401);
    expect_problem(
        gw.post_order("jbk_wrong", "application/json", body.clone()),
        401,
    );
    expect_problem(gw.get(&format!("{key}x"), "/v1/orders"), 401);
    // A buyer's key is not an admin token, and the admin token is not a buyer key.
    let res = gw
        .client
        .get(gw.url("/v1/admin/plugins"))
        .bearer_auth(&key)
        .send()
        .unwrap();
    expect_problem(res, 401);
    expect_problem(gw.get(&gw.admin_token, "/v1/orders"), 401);
}

#[test]
fn empty_huge_and_unreadable_bodies_are_refused() {
    let gw = Gateway::start_with(crate::harness::Options {
        env: vec![("JEMBATAN_MAX_BODY_BYTES".into(), "1048576".into())],
        ..Default::default()
    });
    let key = gw.create_buyer("sizes", "ubl-order", json!({}));

    expect_problem(gw.post_order(&key, "application/xml", Vec::new()), 400);
    let huge = vec![b'<'; 2 * 1024 * 1024];
    let problem = expect_problem(gw.post_order(&key, "application/xml", huge), 413);
    assert!(
        problem["detail"].as_str().unwrap().contains("1048576"),
        "{problem}"
    );

    let problem = expect_problem(gw.post_order(&key, "application/pdf", "%PDF-1.7"), 415);
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("application/xml"),
        "{problem}"
    );
    let res = gw
        .client
        .post(gw.url("/v1/orders"))
        .bearer_auth(&key)
        .body("<Order/>")
        .send()
        .unwrap();
    expect_problem(res, 415);

    // Nothing of this was accepted.
    let page = json_of(gw.get(&key, "/v1/orders"), 200);
    assert_eq!(page["orders"], json!([]));
}

#[test]
fn unknown_routes_wrong_methods_and_bad_admin_input_are_problems() {
    let gw = Gateway::start();
    expect_problem(gw.get("x", "/v1/nothing-here"), 404);
    let res = gw.client.delete(gw.url("/v1/orders")).send().unwrap();
    let status = res.status().as_u16();
    assert!(status == 405 || status == 404, "{status}");
    expect_problem(res, status);

    let admin = |body: serde_json::Value| gw.admin(Method::POST, "/v1/admin/buyers", Some(body));
    expect_problem(
        admin(json!({"id": "Bad Id!", "name": "x", "plugin": "ubl-order"})),
        400,
    );
    expect_problem(
        admin(json!({"id": "ok", "name": "x", "plugin": "no-such-plugin"})),
        422,
    );
    expect_problem(
        admin(json!({"id": "ok", "name": "x", "plugin": "ubl-order", "plugin_config": [1]})),
        422,
    );
    expect_problem(admin(json!({"id": "ok", "name": "x"})), 400);
    let malformed = gw
        .admin_request(Method::POST, "/v1/admin/buyers")
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .unwrap();
    expect_problem(malformed, 400);
    gw.create_buyer("ok", "ubl-order", json!({}));
    expect_problem(
        admin(json!({"id": "ok", "name": "x", "plugin": "ubl-order"})),
        409,
    );
}
