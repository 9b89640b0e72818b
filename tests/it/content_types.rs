//! Every content type the README's stock plugin table promises: the gateway
//! lists exactly those for each plugin, and a buyer posting a good document
//! under any of them gets the same orders as under the first.

use std::collections::BTreeSet;

use reqwest::Method;
use serde_json::Value;

use crate::harness::{Gateway, as_written_by_plugin, expect_problem, fixture, json_of, repo_root};

/// Each stock plugin with a config, a good document and the orders it must give.
const DOCUMENTS: &[(&str, &str, &str, &str)] = &[
    (
        "ubl-order",
        "{}",
        "plugins/ubl-order/fixtures/ubl-10-lines.xml",
        "plugins/ubl-order/fixtures/ubl-10-lines.expected.v2.json",
    ),
    (
        "cxml-order",
        r#"{"line_total_extrinsic":"LineTotal","supplier_domain":"SupplierID","buyer_name":"CV Maju Motor"}"#,
        "plugins/cxml-order/fixtures/cxml-10-lines.xml",
        "plugins/cxml-order/fixtures/cxml-10-lines.expected.v2.json",
    ),
    (
        "x12-850",
        "{}",
        "plugins/x12-850/fixtures/x12-4010-10-lines.edi",
        "plugins/x12-850/fixtures/x12-4010-10-lines.expected.v2.json",
    ),
    (
        "edifact-orders",
        r#"{"unit_map": {"Btl": "BO"}}"#,
        "plugins/edifact-orders/fixtures/edifact-d96a-10-lines.edi",
        "plugins/edifact-orders/fixtures/edifact-d96a-10-lines.expected.v2.json",
    ),
    (
        "json-map",
        "plugins/json-map/fixtures/json-two-orders.config.json",
        "plugins/json-map/fixtures/json-two-orders.json",
        "plugins/json-map/fixtures/json-two-orders.expected.v2.json",
    ),
    (
        "email-order",
        r#"{"supplier_code": "PANDE-01"}"#,
        "plugins/email-order/fixtures/body-table.eml",
        "plugins/email-order/fixtures/body-table.expected.v2.json",
    ),
    (
        "canonical-json",
        "{}",
        "plugins/canonical-json/fixtures/full.json",
        "plugins/canonical-json/fixtures/full.expected.v2.json",
    ),
];

/// The README's stock plugin table: each plugin's name and content types.
fn readme_content_types() -> Vec<(String, BTreeSet<String>)> {
    let readme = std::fs::read_to_string(repo_root().join("README.md")).unwrap();
    let table = readme
        .split("| Stock plugin | Reads | Content types |")
        .nth(1)
        .expect("the README has the stock plugin table");
    let backticked = |cell: &str| -> Vec<String> {
        cell.split('`')
            .skip(1)
            .step_by(2)
            .map(str::to_owned)
            .collect()
    };
    table
        .lines()
        .skip(2) // the rest of the header line, and |---|
        .take_while(|line| line.starts_with('|'))
        .map(|line| {
            let cells: Vec<&str> = line.trim_matches('|').split('|').collect();
            let name = backticked(cells[0]).remove(0);
            (
                name,
                backticked(cells[cells.len() - 1]).into_iter().collect(),
            )
        })
        .collect()
}

fn as_orders(value: Value) -> Vec<Value> {
    match value {
        Value::Array(orders) => orders,
        one => vec![one],
    }
}

#[test]
fn every_documented_content_type_is_read_by_its_stock_plugin() {
    let documented = readme_content_types();
    let names: BTreeSet<&str> = documented.iter().map(|(n, _)| n.as_str()).collect();
    let covered: BTreeSet<&str> = DOCUMENTS.iter().map(|d| d.0).collect();
    assert_eq!(names, covered, "a document for every plugin in the README");

    let gw = Gateway::start();
    let installed = json_of(gw.admin(Method::GET, "/v1/admin/plugins", None), 200);
    for (plugin, content_types) in &documented {
        let served: BTreeSet<String> = installed
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == plugin.as_str())
            .unwrap_or_else(|| panic!("{plugin} is not installed: {installed}"))["content_types"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t.as_str().unwrap().to_owned())
            .collect();
        assert_eq!(&served, content_types, "{plugin}: served vs README");

        let &(_, config, document, expected) = DOCUMENTS.iter().find(|d| d.0 == plugin).unwrap();
        let config: Value = if config.starts_with('{') {
            serde_json::from_str(config).unwrap()
        } else {
            serde_json::from_slice(&fixture(config)).unwrap()
        };
        let key = gw.create_buyer(&format!("buyer-{plugin}"), plugin, config);
        let expected = as_orders(serde_json::from_slice(&fixture(expected)).unwrap());
        for content_type in content_types {
            // With a parameter, as many clients send it; the stored type is the bare one.
            let sent = format!("{content_type}; charset=utf-8");
            let accepted = json_of(gw.post_order(&key, &sent, fixture(document)), 201);
            let orders: Vec<Value> = accepted["orders"]
                .as_array()
                .unwrap()
                .iter()
                .map(|o| {
                    let id = o["id"].as_str().unwrap();
                    as_written_by_plugin(
                        json_of(gw.get(&key, &format!("/v1/orders/{id}")), 200)["order"].clone(),
                    )
                })
                .collect();
            assert_eq!(orders, expected, "{plugin} under {content_type}");
            let message_id = accepted["message_id"].as_str().unwrap();
            let message = json_of(gw.get(&key, &format!("/v1/messages/{message_id}")), 200);
            assert_eq!(message["content_type"], content_type.as_str());
        }
        // A type the plugin does not list is refused before it runs.
        let other = if content_types.contains("application/json") {
            "application/xml"
        } else {
            "application/json"
        };
        expect_problem(gw.post_order(&key, other, fixture(document)), 415);
    }
}
