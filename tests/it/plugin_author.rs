//! The plugin author's guide (plugins/README.md), step by step: a fresh copy of
//! the template is changed to read a new format, built, tried with `plugin test`,
//! uploaded, bound to a buyer and sent a real order; then a second version fixes
//! what the first refused, a failed message is replayed, and the buyer is rolled
//! back.

use std::path::{Path, PathBuf};
use std::process::Command;

use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::{Gateway, expect_problem, json_of, repo_root};

fn jembatan(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_jembatan"))
        .args(args)
        .output()
        .unwrap()
}

/// `cargo build --release --target wasm32-wasip2` in the plugin's directory, as the
/// guide says, sharing one target directory between runs to reuse dependencies.
fn build(dir: &Path, crate_name: &str) -> PathBuf {
    let target = repo_root().join("target/plugin-author");
    let status = Command::new(env!("CARGO"))
        .args(["build", "--release", "--target", "wasm32-wasip2"])
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", &target)
        .env_remove("RUSTFLAGS")
        .status()
        .unwrap();
    assert!(status.success(), "building the plugin failed");
    target.join(format!("wasm32-wasip2/release/{crate_name}.wasm"))
}

fn edit(path: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(text.contains(from), "{} has no {from:?}", path.display());
    std::fs::write(path, text.replace(from, to)).unwrap();
}

/// An order as ACME's Indonesian spreadsheet exports it: `;`-separated, because
/// `,` is the decimal mark, and prices written the Indonesian way.
const ACME_ORDER: &str = "po_number;issue_date;supplier_code;buyer_name;line;item_code;description;quantity;unit;unit_price\n\
PO-ACME-7;2026-11-27;PBG-017;PT ACME Motor;1;AC-EXH-1;Knalpot standar;40;H87;185.000,00\n";

#[test]
fn the_guide_takes_a_new_plugin_from_the_template_to_real_orders() {
    // plugins/build adds the wasm32-wasip2 target on a machine that lacks it.
    crate::harness::test_plugins_dir();
    let work = tempfile::tempdir().unwrap();
    let out = jembatan(&[
        "plugin",
        "new",
        "acme-orders",
        "--dir",
        work.path().to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let dir = work.path().join("acme-orders");
    let lib = dir.join("src/lib.rs");

    // Version 0.1.0: read `;`-separated files.
    edit(
        &lib,
        "pub const SEPARATOR: char = ',';",
        "pub const SEPARATOR: char = ';';",
    );
    let v1 = build(&dir, "acme_orders");
    let input = work.path().join("plain.csv");
    std::fs::write(&input, ACME_ORDER.replace("185.000,00", "185000.00")).unwrap();
    let out = jembatan(&[
        "plugin",
        "test",
        v1.to_str().unwrap(),
        input.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let orders: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(orders[0]["buyer_order_number"], "PO-ACME-7");

    let gw = Gateway::start();
    let uploaded = json_of(gw.upload_plugin(std::fs::read(&v1).unwrap()), 201);
    assert_eq!(uploaded["name"], "acme-orders");
    assert_eq!(uploaded["version"], "0.1.0");
    let key = gw.create_buyer("acme", "acme-orders", json!({}));
    let accepted = json_of(
        gw.post_order(
            &key,
            "text/csv",
            ACME_ORDER.replace("185.000,00", "185000.00"),
        ),
        201,
    );
    assert_eq!(accepted["orders"][0]["buyer_order_number"], "PO-ACME-7");

    // The Indonesian price is beyond 0.1.0: the message fails and is kept.
    let problem = expect_problem(gw.post_order(&key, "text/csv", ACME_ORDER), 422);
    assert_eq!(
        problem["plugin_error"]["code"], "invalid-value",
        "{problem}"
    );
    let failed = problem["message_id"].as_str().unwrap().to_owned();

    // Version 0.2.0 reads it; upload, bind, replay.
    edit(
        &dir.join("Cargo.toml"),
        "version = \"0.1.0\"",
        "version = \"0.2.0\"",
    );
    edit(
        &lib,
        "decimal(cell(price)?).map_err(|e| bad(price, e))?,",
        "jembatan_plugin_sdk::values::localized_decimal(\n                    cell(price)?,\n                    &jembatan_plugin_sdk::values::NumberFormat::indonesian(),\n                )\n                .map_err(|e| bad(price, e))?,",
    );
    let v2 = build(&dir, "acme_orders");
    json_of(gw.upload_plugin(std::fs::read(&v2).unwrap()), 201);
    let bound = json_of(
        gw.admin(
            Method::PATCH,
            "/v1/admin/buyers/acme",
            Some(json!({"plugin_version": "0.2.0"})),
        ),
        200,
    );
    assert_eq!(bound["plugin_version"], "0.2.0");
    let replayed = json_of(
        gw.admin(
            Method::POST,
            &format!("/v1/admin/messages/{failed}/replay"),
            None,
        ),
        200,
    );
    assert_eq!(replayed["status"], "normalized", "{replayed}");
    assert_eq!(replayed["processed_by"]["version"], "0.2.0");
    let order_id = replayed["order_ids"][0].as_str().unwrap();
    let order = json_of(gw.get(&key, &format!("/v1/orders/{order_id}")), 200);
    assert_eq!(order["order"]["lines"][0]["price"]["amount"], "185000.00");

    // Roll back to 0.1.0: effective at once, and nothing made twice.
    json_of(
        gw.admin(
            Method::PATCH,
            "/v1/admin/buyers/acme",
            Some(json!({"plugin_version": "0.1.0"})),
        ),
        200,
    );
    expect_problem(gw.post_order(&key, "text/csv", ACME_ORDER), 422);
    let orders = json_of(gw.get(&key, "/v1/orders"), 200);
    assert_eq!(orders["orders"].as_array().unwrap().len(), 2);
}
