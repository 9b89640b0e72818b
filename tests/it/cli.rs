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

/// `--repeat` runs the plugin that many times and says how long a call took;
/// `--profiler perfmap` leaves `perf` the names of its functions, for the
/// process that ran it. The orders printed are the same as for one call.
#[test]
fn plugin_test_repeats_the_call_for_a_profiler() {
    let child = Command::new(env!("CARGO_BIN_EXE_jembatan"))
        .current_dir(repo_root())
        .args(["plugin", "test", "--repeat", "5", "--profiler", "perfmap"])
        .args([
            "plugins/dist/ubl-order.wasm",
            "tests/fixtures/ubl-every-field.xml",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let map = std::path::PathBuf::from(format!("/tmp/perf-{}.map", child.id()));
    let out = child.wait_with_output().unwrap();
    let names = std::fs::read_to_string(&map);
    let _ = std::fs::remove_file(&map);
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("5 calls, each in a fresh instance: median "),
        "{stderr}"
    );
    let (_, one_call, _) = plugin_test(&[
        "plugins/dist/ubl-order.wasm",
        "tests/fixtures/ubl-every-field.xml",
    ]);
    assert_eq!(String::from_utf8(out.stdout).unwrap(), one_call);
    let names = names.expect("the perf map is written");
    let functions = names
        .lines()
        .filter(|line| line.contains("wasm[0]::function["))
        .count();
    assert!(functions > 100, "{functions} functions: {names:.400}");
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
