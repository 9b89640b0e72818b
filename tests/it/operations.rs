//! Health, readiness, the OpenAPI document and the plugin listing.

use reqwest::Method;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::harness::{Gateway, fixture, json_of};

#[test]
fn health_readiness_and_openapi_are_served() {
    let gw = Gateway::start();
    json_of(gw.client.get(gw.url("/healthz")).send().unwrap(), 200);
    let ready = json_of(gw.client.get(gw.url("/readyz")).send().unwrap(), 200);
    assert_eq!(ready["status"], "ready");

    let doc = json_of(
        gw.client.get(gw.url("/v1/openapi.json")).send().unwrap(),
        200,
    );
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc["paths"].as_object().unwrap();
    for path in [
        "/v1/orders",
        "/v1/orders/{id}",
        "/v1/messages/{id}",
        "/v1/admin/buyers",
        "/v1/admin/plugins",
    ] {
        assert!(
            paths.contains_key(path),
            "{path} missing from {:?}",
            paths.keys()
        );
    }
    assert!(doc["paths"]["/v1/orders"]["post"]["responses"]["422"].is_object());
    assert!(doc["components"]["securitySchemes"]["buyer_key"].is_object());

    let schema = json_of(
        gw.client
            .get(gw.url("/v1/schemas/purchase-order.schema.json"))
            .send()
            .unwrap(),
        200,
    );
    assert_eq!(schema["title"], "PurchaseOrder");
}

#[test]
fn admin_lists_the_stock_plugins_with_their_hashes() {
    let gw = Gateway::start();
    let plugins: Value = json_of(gw.admin(Method::GET, "/v1/admin/plugins", None), 200);
    for name in ["canonical-json", "ubl-order"] {
        let plugin = plugins
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .unwrap_or_else(|| panic!("{name} not listed: {plugins}"));
        let sha = hex::encode(Sha256::digest(fixture(&format!(
            "plugins/dist/{name}.wasm"
        ))));
        assert_eq!(plugin["sha256"], sha);
        assert!(!plugin["version"].as_str().unwrap().is_empty());
    }
}
