//! Health, readiness, the OpenAPI document and the plugin listing.

use std::collections::BTreeSet;
use std::process::Command;

use reqwest::Method;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::harness::{Gateway, fixture, json_of, repo_root};
use crate::peers::require_python_packages;

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

/// Client generators and API fuzzers start from `/v1/openapi.json`, so it must
/// be valid OpenAPI 3.1 by a validator that is not the one that wrote it, and
/// say what a client needs: every README endpoint, a described answer for every
/// status, problem+json for every 4xx.
#[test]
fn openapi_document_passes_an_independent_validator_and_covers_the_readme() {
    let gw = Gateway::start();
    let res = gw.client.get(gw.url("/v1/openapi.json")).send().unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let text = res.text().unwrap();

    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), &text).unwrap();
    require_python_packages();
    // `timeout` is the deadline: the validator reads a file and should take
    // well under a second.
    let out = Command::new("timeout")
        .arg("60")
        .arg("python3")
        .arg(repo_root().join("tests/tools/validate_openapi.py"))
        .arg(file.path())
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
        .expect("running tests/tools/validate_openapi.py");
    assert!(
        out.status.success(),
        "openapi-spec-validator refused /v1/openapi.json ({}):\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );

    let doc: Value = serde_json::from_str(&text).unwrap();
    let mut operations = BTreeSet::new();
    let mut faults = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            if !HTTP_METHODS.contains(&method.as_str()) {
                continue;
            }
            let operation_name = format!("{} {path}", method.to_uppercase());
            let responses = operation["responses"].as_object().unwrap();
            if responses.is_empty() {
                faults.push(format!("{operation_name}: no responses"));
            }
            for (status, response) in responses {
                let description = response["description"].as_str().unwrap_or("");
                if description.trim().is_empty() {
                    faults.push(format!("{operation_name} {status}: no description"));
                }
                if status.starts_with('4')
                    && response["content"]["application/problem+json"].is_null()
                {
                    faults.push(format!(
                        "{operation_name} {status}: not application/problem+json"
                    ));
                }
            }
            operations.insert(operation_key(&operation_name));
        }
    }
    assert!(faults.is_empty(), "{faults:#?}");

    let promised = readme_api_endpoints();
    assert!(
        promised.contains("POST /v1/orders") && promised.len() >= 20,
        "the README's API table was not read: {promised:?}"
    );
    let undocumented: Vec<_> = promised
        .iter()
        // The inbox page is HTML for people; the README says so.
        .filter(|endpoint| endpoint.as_str() != "GET /inbox")
        .filter(|endpoint| !operations.contains(*endpoint))
        .collect();
    assert!(
        undocumented.is_empty(),
        "in the README's API table but not in /v1/openapi.json: {undocumented:?}\ndocumented: {operations:?}"
    );
}

const HTTP_METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// `GET /v1/orders/{id}` as `GET /v1/orders/{}`: the README and the document may
/// name a path parameter differently.
fn operation_key(endpoint: &str) -> String {
    let mut key = String::new();
    let mut in_parameter = false;
    for c in endpoint.chars() {
        match c {
            '{' => {
                in_parameter = true;
                key.push_str("{}");
            }
            '}' => in_parameter = false,
            _ if !in_parameter => key.push(c),
            _ => {}
        }
    }
    key
}

/// Every `` `METHOD /path` `` in the README's API table (the one headed
/// "Method and path"), query strings dropped, parameters as `{}`.
fn readme_api_endpoints() -> BTreeSet<String> {
    let readme = std::fs::read_to_string(repo_root().join("README.md")).unwrap();
    readme
        .lines()
        .skip_while(|line| !line.starts_with("| Method and path |"))
        .take_while(|line| line.starts_with('|'))
        // Inside backticks: the odd pieces between them.
        .flat_map(|line| {
            line.split('`')
                .skip(1)
                .step_by(2)
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .filter_map(|code| {
            let (method, path) = code.split_once(' ')?;
            let method_known = HTTP_METHODS.contains(&method.to_lowercase().as_str());
            (method_known && path.starts_with('/') && method == method.to_uppercase())
                .then(|| operation_key(&format!("{method} {}", path.split('?').next().unwrap())))
        })
        .collect()
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
