//! The README's walk-through works as written: its shell block is run against a
//! real gateway, only the address and admin token swapped for the test's.

use std::process::Command;

use crate::harness::{Gateway, repo_root};

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

    assert!(stdout.contains("\"api_key\":\"jbk_"), "{stdout}");
    // The order read back by id, then listed, with the canonical fields.
    assert!(
        stdout
            .matches("\"buyer_order_number\":\"PO-MO-2026-1127\"")
            .count()
            >= 3,
        "{stdout}"
    );
    assert!(stdout.contains("\"supplier_code\":\"PBG-017\""), "{stdout}");
    assert!(stdout.contains("\"next_cursor\":null"), "{stdout}");
    // And the broken document's problem.
    assert!(stdout.contains("\"code\":\"malformed-xml\""), "{stdout}");
    assert!(stdout.contains("\"message_id\":\"msg_"), "{stdout}");
}
