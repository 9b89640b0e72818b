//! The README's walk-through works as written: its shell block is run against a
//! real gateway, only the address and admin token swapped for the test's.

use std::process::Command;

use serde_json::Value;

use crate::harness::{Gateway, as_written_by_plugin, fixture, json_of, repo_root};

/// The first ```sh block after the `## Walk-through` heading.
fn walk_through() -> String {
    let readme = std::fs::read_to_string(repo_root().join("README.md")).unwrap();
    let section = readme
        .split("## Walk-through")
        .nth(1)
        .expect("a Walk-through section");
    let block = section.split("```sh\n").nth(1).expect("a sh block");
    block.split("```").next().unwrap().to_owned()
}

#[test]
fn the_readme_walk_through_works_as_written() {
    let gw = Gateway::start();
    let tmp = tempfile::tempdir().unwrap();
    let script = walk_through()
        .replace("http://127.0.0.1:8080", &gw.base)
        .replace("demo-admin-token", &gw.admin_token)
        .replace("/tmp/", &format!("{}/", tmp.path().display()));
    let out = Command::new("bash")
        .args(["-euo", "pipefail", "-c", &script])
        .current_dir(repo_root())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // Each curl prints one JSON document; read them in the order the steps ran.
    let answers: Vec<Value> = serde_json::Deserializer::from_str(&stdout)
        .into_iter()
        .collect::<Result<_, _>>()
        .unwrap_or_else(|e| panic!("the walk-through printed something not JSON ({e}):\n{stdout}"));
    let [
        buyer,
        craftsman,
        route,
        accepted,
        order,
        delivered,
        inbox,
        problem,
    ] = <[Value; 8]>::try_from(answers)
        .unwrap_or_else(|a| panic!("expected 8 answers, got {}: {a:#?}", a.len()));

    // 1. The buyer, with its key shown once.
    assert_eq!(buyer["id"], "mitra-otoparts", "{buyer}");
    assert!(
        buyer["api_key"].as_str().unwrap().starts_with("jbk_"),
        "{buyer}"
    );
    // 2. The craftsman with their token, and the route to them.
    assert_eq!(craftsman["id"], "knalpot-jaya", "{craftsman}");
    assert!(craftsman["token"].is_string(), "{craftsman}");
    assert_eq!(route["craftsman"], "knalpot-jaya", "{route}");
    assert_eq!(route["supplier_code"], "PBG-017", "{route}");
    // 3. The 201 names the order, routed to the craftsman (inbox only: delivered).
    let order_id = accepted["orders"][0]["id"].as_str().unwrap();
    assert_eq!(
        accepted["orders"].as_array().unwrap().len(),
        1,
        "{accepted}"
    );
    assert_eq!(
        accepted["orders"][0]["buyer_order_number"],
        "PO-MO-2026-1127"
    );
    // 4. Read back: canonical order v2 as the fixture's expectation describes it,
    // with what the gateway adds: who posted it.
    assert_eq!(order["id"], order_id, "{order}");
    let expected: Value =
        serde_json::from_slice(&fixture("tests/fixtures/ubl-every-field.expected.v2.json"))
            .unwrap();
    assert_eq!(
        as_written_by_plugin(order["order"].clone()),
        expected,
        "{order:#}"
    );
    let received = &order["order"]["received"];
    assert_eq!(
        received["buyer_account"]["id"], "mitra-otoparts",
        "{order:#}"
    );
    assert_eq!(received["message_id"], accepted["message_id"], "{order:#}");
    // Asked for as v1, the documented downgrade: the item's name leads its description.
    let key = buyer["api_key"].as_str().unwrap();
    let v1 = json_of(
        gw.get(key, &format!("/v1/orders/{order_id}?schema=v1")),
        200,
    );
    assert_eq!(
        v1["order"]["lines"][0]["description"], "Knalpot 125cc — Knalpot racing 125cc, stainless",
        "{v1:#}"
    );
    assert_eq!(order["status"], "delivered", "{order}");
    let listed: Vec<&str> = delivered["orders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].as_str().unwrap())
        .collect();
    assert_eq!(listed, [order_id], "{delivered}");
    assert_eq!(delivered["next_cursor"], Value::Null, "{delivered}");
    // 5. The craftsman's inbox holds it.
    assert_eq!(inbox["orders"][0]["id"], order_id, "{inbox}");
    assert_eq!(inbox["orders"].as_array().unwrap().len(), 1, "{inbox}");
    // And the broken document's problem says what and where, with the stored message.
    assert_eq!(problem["status"], 422, "{problem}");
    assert_eq!(
        problem["plugin_error"]["code"], "malformed-xml",
        "{problem}"
    );
    assert!(
        problem["plugin_error"]["location"]["line"].is_u64(),
        "{problem}"
    );
    assert!(
        problem["message_id"].as_str().unwrap().starts_with("msg_"),
        "{problem}"
    );
}
