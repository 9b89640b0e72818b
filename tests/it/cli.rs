//! `jembatan plugin test`, as a plugin author uses it.

use std::process::Command;

use crate::harness::repo_root;

fn plugin_test(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_jembatan"))
        .current_dir(repo_root())
        .args(["plugin", "test"])
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn plugin_test_prints_the_canonical_orders() {
    let (code, stdout, stderr) = plugin_test(&[
        "plugins/dist/ubl-order.wasm",
        "tests/fixtures/ubl-every-field.xml",
    ]);
    assert_eq!(code, 0, "{stderr}");
    // Canonical order v2, as the gateway would store it before stamping `received`;
    // the fixture's expectation is v1, so compare the documented downgrade.
    let orders: Vec<jembatan_schemas::PurchaseOrderV2> = serde_json::from_str(&stdout).unwrap();
    assert_eq!(orders[0].received, None);
    let expected: jembatan_schemas::PurchaseOrder = serde_json::from_slice(
        &std::fs::read(repo_root().join("tests/fixtures/ubl-every-field.expected.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(jembatan_schemas::downgrade_v2(&orders[0]), expected);
}

#[test]
fn plugin_test_prints_the_plugins_error_and_where() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("broken.json");
    std::fs::write(&input, "{\n  \"buyer_order_number\": ,\n}").unwrap();
    let (code, stdout, stderr) =
        plugin_test(&["plugins/dist/canonical-json.wasm", input.to_str().unwrap()]);
    assert_eq!(code, 2, "{stdout}{stderr}");
    assert!(stderr.contains("malformed-json"), "{stderr}");
    assert!(stderr.contains("line 2"), "{stderr}");
}
