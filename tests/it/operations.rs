//! Health, readiness, the OpenAPI document, the plugin listing, and moving a
//! deployment from SQLite to PostgreSQL.

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

/// Moving a deployment from SQLite to PostgreSQL (`jembatan store migrate`): what
/// buyers, craftsmen and admins saw before is what they see after, on a gateway
/// started on the PostgreSQL database, the buyer's key still works, and new orders
/// are delivered there.
#[test]
fn store_migrate_moves_a_sqlite_deployment_to_postgresql() {
    use crate::delivery::{SECRET, wait_order_status, webhook_craftsman};
    use crate::harness::{Options, PostgresDatabase, expect_problem};
    use crate::peers::WebhookReceiver;
    use serde_json::json;

    let receiver = WebhookReceiver::start(SECRET);
    let data = tempfile::tempdir().unwrap();
    let sqlite = format!("sqlite://{}", data.path().join("jembatan.db").display());
    let options = |url: &str| Options {
        data_dir: Some(data.path().to_owned()),
        env: vec![
            ("JEMBATAN_DATABASE_URL".into(), url.into()),
            ("JEMBATAN_ALLOW_PRIVATE_TARGETS".into(), "1".into()),
            ("JEMBATAN_DELIVERY_RETRY_SCHEDULE".into(), "1s".into()),
        ],
        ..Options::default()
    };

    let gw = Gateway::start_with(options(&sqlite));
    let key = gw.create_buyer("mitra-otoparts", "canonical-json", json!({}));
    let craftsman = webhook_craftsman(&gw, &receiver.url("/orders"));
    let token = craftsman["token"].as_str().unwrap().to_owned();
    // Delivered, then accepted by the craftsman.
    let answered = gw.post_canonical_order(&key, "PO-MIG-1", "PBG-017");
    wait_order_status(&gw, &answered, "delivered");
    let answer = gw
        .client
        .post(gw.url(&format!("/v1/inbox/{answered}/response")))
        .bearer_auth(&token)
        .json(&json!({"status": "accepted"}))
        .send()
        .unwrap();
    assert_eq!(answer.status(), 201);
    // Delivered, not answered; and one waiting for a route.
    let delivered = gw.post_canonical_order(&key, "PO-MIG-2", "PBG-017");
    wait_order_status(&gw, &delivered, "delivered");
    let unrouted = gw.post_canonical_order(&key, "PO-MIG-3", "PBG-999");
    // A message its plugin could not read.
    let failed =
        expect_problem(gw.post_order(&key, "application/json", "{ not json"), 422)["message_id"]
            .as_str()
            .unwrap()
            .to_owned();

    // Everything the API shows of them, to compare after the move.
    let seen = |gw: &Gateway| {
        let mut views = vec![
            json_of(gw.get(&key, "/v1/orders"), 200),
            json_of(gw.get(&key, &format!("/v1/messages/{failed}")), 200),
            gw.admin_get("/v1/admin/buyers/mitra-otoparts"),
            gw.admin_get("/v1/admin/craftsmen/jaya"),
            json_of(
                gw.client
                    .get(gw.url("/v1/inbox"))
                    .bearer_auth(&token)
                    .send()
                    .unwrap(),
                200,
            ),
        ];
        for order in [&answered, &delivered, &unrouted] {
            views.push(json_of(gw.get(&key, &format!("/v1/orders/{order}")), 200));
            views.push(gw.admin_get(&format!("/v1/admin/orders/{order}")));
        }
        views
    };
    let before = seen(&gw);
    assert_eq!(before[1]["status"], "failed", "{}", before[1]);
    assert_eq!(before[5]["response"], "accepted", "{}", before[5]);
    gw.stop();

    let postgres = PostgresDatabase::create();
    let migrate = || {
        let out = Command::new(env!("CARGO_BIN_EXE_jembatan"))
            .args([
                "store",
                "migrate",
                "--from",
                &sqlite,
                "--to",
                &postgres.url(),
            ])
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8(out.stdout).unwrap(),
            String::from_utf8(out.stderr).unwrap(),
        )
    };
    let (ok, stdout, stderr) = migrate();
    assert!(ok, "{stdout}{stderr}");
    let count = |table: &str| -> u64 {
        let line = stdout
            .lines()
            .find(|l| l.split_whitespace().next() == Some(table))
            .unwrap_or_else(|| panic!("no count for {table}: {stdout}"));
        line.split_whitespace().nth(1).unwrap().parse().unwrap()
    };
    assert_eq!(count("buyers"), 1, "{stdout}");
    assert_eq!(count("orders"), 3, "{stdout}");
    assert_eq!(count("messages"), 4, "{stdout}");
    assert_eq!(count("order_responses"), 1, "{stdout}");
    assert_eq!(count("deliveries"), 2, "{stdout}");
    assert_eq!(count("plugins"), 0, "{stdout}");
    // Once only: a second run finds the data there and writes nothing.
    let (ok, stdout_again, stderr) = migrate();
    assert!(!ok, "{stdout_again}");
    assert!(stderr.contains("already holds data"), "{stderr}");
    assert_eq!(
        postgres.query("SELECT count(*) FROM orders").trim(),
        "3",
        "{stderr}"
    );

    let gw = Gateway::start_with(options(&postgres.url()));
    assert_eq!(seen(&gw), before);
    // Nothing is held by the gateway that ran on SQLite.
    assert_eq!(
        postgres
            .query("SELECT count(*) FROM deliveries WHERE claimed_until IS NOT NULL")
            .trim(),
        "0"
    );
    let new = gw.post_canonical_order(&key, "PO-MIG-4", "PBG-017");
    wait_order_status(&gw, &new, "delivered");
    let delivered_ids: Vec<String> = receiver
        .received()
        .iter()
        .filter(|r| r["verified"] == true)
        .filter_map(|r| r["body"]["data"]["id"].as_str().map(str::to_owned))
        .collect();
    assert!(delivered_ids.contains(&new), "{delivered_ids:?}");
}
