//! `jembatan plugin test`, as a plugin author uses it.

use std::process::Command;

use serde_json::Value;

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
    // Canonical order v2 as the plugin wrote it, before the gateway stamps it.
    let orders: Value = serde_json::from_str(&stdout).unwrap();
    let expected: Value = serde_json::from_slice(
        &std::fs::read(repo_root().join("tests/fixtures/ubl-every-field.expected.v2.json"))
            .unwrap(),
    )
    .unwrap();
    assert_eq!(orders[0], expected);
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
