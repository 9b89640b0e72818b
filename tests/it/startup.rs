//! How the gateway starts: `serve --demo` as the README's first command runs it,
//! and with no admin token, the admin API off.

use std::collections::BTreeSet;
use std::process::{Child, Command};
use std::time::Duration;

use reqwest::Method;
use reqwest::blocking::Client;
use serde_json::{Value, json};

use crate::harness::{Gateway, Options, expect_problem, fixture, json_of, spawn_until_ready};
use crate::stock_plugins::stock_plugin_names;

/// Kills the child when dropped, so a failing test leaves no gateway behind.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn serve_demo_runs_on_the_embedded_default() {
    // As a user runs it: from a directory of their own, with nothing configured
    // but the port (the README's 8080 may be taken on a test machine).
    let cwd = tempfile::tempdir().unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_jembatan"));
    command
        .args(["serve", "--demo"])
        .current_dir(cwd.path())
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("JEMBATAN_LISTEN", "127.0.0.1:0");
    let log = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let (child, base) = spawn_until_ready(
        "demo",
        &mut command,
        "jembatan listening on ",
        Duration::from_secs(120),
        Some(log.clone()),
    );
    let _running = Running(child);
    let client = Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap();
    let admin = |method: Method, path: &str| {
        client
            .request(method, format!("{base}{path}"))
            .bearer_auth("demo-admin-token")
    };

    assert!(
        log.lock()
            .unwrap()
            .contains("demo mode: the admin token is 'demo-admin-token'; data in data"),
        "{}",
        log.lock().unwrap()
    );
    // The store is SQLite under ./data.
    assert!(cwd.path().join("data/jembatan.db").is_file());

    // The seven stock plugins are built in.
    let plugins = json_of(admin(Method::GET, "/v1/admin/plugins").send().unwrap(), 200);
    let names: BTreeSet<String> = plugins
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names, stock_plugin_names());

    // And an order goes through with them.
    let buyer = json_of(
        admin(Method::POST, "/v1/admin/buyers")
            .json(&json!({"id": "demo-buyer", "name": "Demo", "plugin": "ubl-order"}))
            .send()
            .unwrap(),
        201,
    );
    let accepted = json_of(
        client
            .post(format!("{base}/v1/orders"))
            .bearer_auth(buyer["api_key"].as_str().unwrap())
            .header("content-type", "application/xml")
            .body(fixture("tests/fixtures/ubl-every-field.xml"))
            .send()
            .unwrap(),
        201,
    );
    assert_eq!(
        accepted["orders"][0]["buyer_order_number"],
        "PO-MO-2026-1127"
    );
}

#[test]
fn without_an_admin_token_the_admin_api_is_off() {
    let gw = Gateway::start_with(Options {
        without_admin_token: true,
        ..Options::default()
    });
    assert!(
        gw.logs()
            .contains("no admin token is configured: the admin API is disabled"),
        "{}",
        gw.logs()
    );
    // Whatever token is sent, including the one the other tests use.
    for token in ["test-admin-token", "demo-admin-token", ""] {
        for (method, path, body) in [
            (Method::GET, "/v1/admin/plugins", None),
            (Method::GET, "/v1/admin/buyers/anyone", None),
            (
                Method::POST,
                "/v1/admin/buyers",
                Some(json!({"id": "b", "name": "B", "plugin": "ubl-order"})),
            ),
            (Method::GET, "/v1/admin/messages", None),
        ] {
            let mut req = gw
                .client
                .request(method.clone(), gw.url(path))
                .bearer_auth(token);
            if let Some(body) = &body {
                req = req.json(body);
            }
            let problem: Value = expect_problem(req.send().unwrap(), 401);
            assert!(
                problem["detail"]
                    .as_str()
                    .unwrap()
                    .contains("the admin API is disabled"),
                "{method} {path}: {problem}"
            );
        }
    }
    // The rest of the gateway serves.
    let res = gw.client.get(gw.url("/healthz")).send().unwrap();
    assert_eq!(res.status(), 200);
    let res = gw.client.get(gw.url("/readyz")).send().unwrap();
    assert_eq!(res.status(), 200);
}
