//! Plugins over the admin API: upload (checked, stored, surviving restarts),
//! binding a buyer to a version and config, and replaying failed messages.

use reqwest::Method;
use serde_json::json;

use crate::harness::{Gateway, Options, built_plugin, expect_problem, fixture, json_of};

#[test]
fn uploads_are_checked_stored_and_survive_a_restart() {
    // A gateway without the test plugin directory: the upload is the only way in.
    let gw = Gateway::start_with(Options {
        env: vec![("JEMBATAN_PLUGIN_DIRS".into(), String::new())],
        ..Default::default()
    });
    let problem = expect_problem(gw.upload_plugin(b"not wasm at all".to_vec()), 422);
    assert!(
        problem["detail"].as_str().unwrap().contains("refused"),
        "{problem}"
    );
    // A core module is wasm, but not a component of the plugin world.
    let core_module = b"\0asm\x01\0\0\0".to_vec();
    expect_problem(gw.upload_plugin(core_module), 422);

    let wasm = std::fs::read(built_plugin("test_hostile")).unwrap();
    let created = json_of(gw.upload_plugin(wasm.clone()), 201);
    assert_eq!(created["name"], "test-hostile");
    let again = json_of(gw.upload_plugin(wasm), 200);
    assert_eq!(again["sha256"], created["sha256"]);
    // Stock bytes are already installed: the same answer, nothing new.
    json_of(
        gw.upload_plugin(fixture("plugins/dist/ubl-order.wasm")),
        200,
    );

    let key = gw.create_buyer("uploaded", "test-hostile", json!({"mode": "ok"}));
    json_of(gw.post_order(&key, "application/json", "{}"), 201);

    let data_dir = gw.kill();
    let gw = Gateway::start_with(Options {
        data_dir: Some(data_dir),
        env: vec![("JEMBATAN_PLUGIN_DIRS".into(), String::new())],
        ..Options::default()
    });
    json_of(gw.post_order(&key, "application/json", "{}"), 201);
    let plugins = json_of(gw.admin(Method::GET, "/v1/admin/plugins", None), 200);
    assert!(
        plugins
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["name"] == "test-hostile")
    );
}

#[test]
fn a_failed_message_is_replayed_after_rebinding_and_never_duplicated() {
    let gw = Gateway::start();
    let key = gw.create_buyer("replayer", "test-hostile", json!({"mode": "trap"}));
    let problem = expect_problem(gw.post_order(&key, "application/json", "{}"), 422);
    let message_id = problem["message_id"].as_str().unwrap().to_owned();

    // Not yet fixed: replaying fails again, and both failures are kept.
    let replayed = json_of(
        gw.admin(
            Method::POST,
            &format!("/v1/admin/messages/{message_id}/replay"),
            None,
        ),
        200,
    );
    assert_eq!(replayed["status"], "failed");
    assert_eq!(replayed["attempts"], 2);

    let failed = json_of(
        gw.admin(Method::GET, "/v1/admin/messages?status=failed", None),
        200,
    );
    assert_eq!(failed["messages"][0]["id"], message_id.as_str());

    // Rebind (same version, new config), effective at once; replay succeeds.
    let buyer = json_of(
        gw.admin(
            Method::PATCH,
            "/v1/admin/buyers/replayer",
            Some(json!({"plugin_config": {"mode": "ok"}})),
        ),
        200,
    );
    assert_eq!(buyer["plugin_config"], json!({"mode": "ok"}));
    let replayed = json_of(
        gw.admin(
            Method::POST,
            &format!("/v1/admin/messages/{message_id}/replay"),
            None,
        ),
        200,
    );
    assert_eq!(replayed["status"], "normalized", "{replayed}");
    assert_eq!(replayed["attempts_history"].as_array().unwrap().len(), 2);
    let order_ids = replayed["order_ids"].as_array().unwrap().clone();
    assert_eq!(order_ids.len(), 1);

    // The buyer sees the message normalized with its order; a second replay is refused.
    let message = json_of(gw.get(&key, &format!("/v1/messages/{message_id}")), 200);
    assert_eq!(message["status"], "normalized");
    expect_problem(
        gw.admin(
            Method::POST,
            &format!("/v1/admin/messages/{message_id}/replay"),
            None,
        ),
        409,
    );
    let orders = json_of(gw.get(&key, "/v1/orders"), 200);
    assert_eq!(orders["orders"].as_array().unwrap().len(), 1);

    // Binding history, newest first; unknown versions are refused.
    let buyer = json_of(
        gw.admin(Method::GET, "/v1/admin/buyers/replayer", None),
        200,
    );
    assert_eq!(buyer["bindings"].as_array().unwrap().len(), 2, "{buyer}");
    expect_problem(
        gw.admin(
            Method::PATCH,
            "/v1/admin/buyers/replayer",
            Some(json!({"plugin_version": "9.9.9"})),
        ),
        422,
    );
    expect_problem(
        gw.admin(
            Method::PATCH,
            "/v1/admin/buyers/nobody",
            Some(json!({"name": "x"})),
        ),
        404,
    );
}
