//! The public conformance corpus (`tests/corpus/`): real order documents other
//! people published, each posted to the real binary through its stock plugin and
//! compared with what a person wrote down by reading it (`*.expected.json`).
//!
//! The comparison checks what a craftsman needs to make and ship the part: per
//! transaction, whether it is an order at all; per order, its number, date,
//! currency, buyer and supplier as named, and its line count; per line, the
//! number, quantity, unit, item name, description, ids, unit price with its
//! basis, line total and properties. Everything else in an expectation (notes,
//! references, terms, packaging …) records what the document says and is not
//! compared here.
//!
//! `KNOWN_GAPS` lists the documents that do not come through right yet, each with
//! why; the test fails when one of them starts passing, so the list stays true.

use std::path::{Path, PathBuf};

use rust_decimal::Decimal;
use serde_json::{Value, json};

use crate::harness::{Gateway, json_of, repo_root};

/// Documents that do not yet come through as their expectation says, and why.
const KNOWN_GAPS: &[(&str, &str)] = &[];

/// A corpus directory's stock plugin and the content type its documents are sent as.
fn plugin_for(format_dir: &str) -> (&'static str, &'static str) {
    match format_dir {
        "x12-850" => ("x12-850", "application/edi-x12"),
        "edifact-orders" => ("edifact-orders", "application/edifact"),
        "ubl" | "peppol" => ("ubl-order", "application/xml"),
        "cxml" => ("cxml-order", "application/xml"),
        other => panic!("no stock plugin for the corpus directory {other}"),
    }
}

/// Every expectation in the corpus, as (document, expectation) paths.
fn corpus() -> Vec<(PathBuf, PathBuf)> {
    let root = repo_root().join("tests/corpus");
    let mut found = Vec::new();
    for dir in std::fs::read_dir(&root).unwrap() {
        let dir = dir.unwrap().path();
        if !dir.is_dir() {
            continue;
        }
        for file in std::fs::read_dir(&dir).unwrap() {
            let expectation = file.unwrap().path();
            let name = expectation
                .file_name()
                .unwrap()
                .to_str()
                .unwrap()
                .to_owned();
            let Some(stem) = name.strip_suffix(".expected.json") else {
                continue;
            };
            let document = std::fs::read_dir(&dir)
                .unwrap()
                .map(|f| f.unwrap().path())
                .find(|p| {
                    let n = p.file_name().unwrap().to_str().unwrap();
                    n.starts_with(&format!("{stem}.")) && !n.ends_with(".json")
                })
                .unwrap_or_else(|| panic!("no document beside {}", expectation.display()));
            found.push((document, expectation));
        }
    }
    found.sort();
    found
}

#[test]
fn every_public_document_comes_through_as_a_person_reads_it() {
    let gw = Gateway::start();
    let mut keys = std::collections::HashMap::new();
    let mut report = Vec::new();
    let mut per_format = std::collections::BTreeMap::<String, (usize, usize)>::new();
    let documents = corpus();
    assert!(
        documents.len() >= 30,
        "the corpus has {} documents",
        documents.len()
    );
    for (document, expectation) in &documents {
        let format_dir = document
            .parent()
            .and_then(Path::file_name)
            .and_then(|n| n.to_str())
            .unwrap()
            .to_owned();
        let (plugin, content_type) = plugin_for(&format_dir);
        // A document that names no supplier is routed by the buyer's config, as a
        // real buyer's would be.
        let key = keys
            .entry(plugin)
            .or_insert_with(|| {
                gw.create_buyer(
                    &format!("corpus-{plugin}"),
                    plugin,
                    json!({"supplier_code": "CORPUS-SUPPLIER"}),
                )
            })
            .clone();
        let name = format!(
            "{format_dir}/{}",
            document.file_name().unwrap().to_str().unwrap()
        );
        let expected: Value = serde_json::from_slice(&std::fs::read(expectation).unwrap()).unwrap();
        let mismatches = check(&gw, &key, content_type, document, &expected);
        let entry = per_format.entry(format_dir).or_default();
        entry.0 += 1;
        let known = KNOWN_GAPS.iter().find(|(doc, _)| *doc == name);
        match (mismatches.is_empty(), known) {
            (true, None) => entry.1 += 1,
            (false, Some(_)) => eprintln!("known gap {name}:\n  {}", mismatches.join("\n  ")),
            (true, Some((_, why))) => report.push(format!(
                "{name} now comes through right: take it off KNOWN_GAPS ({why})"
            )),
            (false, None) => report.push(format!("{name}:\n  {}", mismatches.join("\n  "))),
        }
    }
    eprintln!("corpus documents right, per format: {per_format:?}");
    assert!(report.is_empty(), "{}", report.join("\n"));
}

/// What differs between what the gateway made of `document` and its expectation.
fn check(
    gw: &Gateway,
    key: &str,
    content_type: &str,
    document: &Path,
    expected: &Value,
) -> Vec<String> {
    let res = gw.post_order(key, content_type, std::fs::read(document).unwrap());
    let status = res.status().as_u16();
    let answer: Value = res.json().unwrap_or(Value::Null);
    if status != 201 {
        return vec![format!("answered {status}: {answer}")];
    }
    let mut mismatches = transaction_mismatches(document, expected, &answer);
    let orders_expected: Vec<&Value> = expected["transactions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["kind"] == "order")
        .collect();
    let ids: Vec<&str> = answer["orders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].as_str().unwrap())
        .collect();
    if ids.len() != orders_expected.len() {
        mismatches.push(format!(
            "{} orders, not {} (the answer: {answer})",
            ids.len(),
            orders_expected.len()
        ));
        return mismatches;
    }
    for (n, (id, want)) in ids.iter().zip(orders_expected).enumerate() {
        let got = json_of(gw.get(key, &format!("/v1/orders/{id}")), 200)["order"].clone();
        let mut differ = |what: String, got: &Value, want: &Value| {
            mismatches.push(format!("order {n}: {what}: got {got}, expected {want}"));
        };
        compare_order(&got, &want["order"], &mut differ);
        // What the plugin read past must reach the order as a warning, not vanish.
        for code in want["warnings"].as_array().into_iter().flatten() {
            let warned = got["warnings"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|w| w["code"] == *code);
            if !warned {
                differ(format!("warning {code}"), &got["warnings"], code);
            }
        }
    }
    mismatches
}

/// Whether the answer names each transaction of the document as its expectation
/// does, at its index (its position in the document): an order, or a document that
/// is not an order, of that kind. An EDI transaction's control number (ST02, UNH
/// 0062) is checked too; an XML document's is the plugin's choice of identifier.
fn transaction_mismatches(document: &Path, expected: &Value, answer: &Value) -> Vec<String> {
    let edi = document
        .extension()
        .is_some_and(|e| e == "edi" || e == "x12");
    let listed = |list: &str, index: usize| -> Option<Value> {
        answer[list].as_array().into_iter().flatten().find_map(|t| {
            let at = if list == "orders" {
                &t["transaction"]
            } else {
                t
            };
            (at["index"].as_u64() == Some(index as u64)).then(|| at.clone())
        })
    };
    let mut mismatches = Vec::new();
    for (index, want) in expected["transactions"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
    {
        let list = match want["kind"].as_str() {
            Some("order") => "orders",
            Some("not-an-order") => "not_orders",
            other => panic!("unknown transaction kind {other:?} in an expectation"),
        };
        let Some(got) = listed(list, index) else {
            mismatches.push(format!(
                "transaction {index} is not among the answer's {list}: {answer}"
            ));
            continue;
        };
        if edi && got["control_number"] != want["control_number"] {
            mismatches.push(format!(
                "transaction {index} control number: got {}, expected {}",
                got["control_number"], want["control_number"]
            ));
        }
        if let Some(kind) = want["transaction_set"].as_str()
            && got["kind"].as_str() != Some(kind)
        {
            mismatches.push(format!(
                "transaction {index} kind: got {}, expected {kind}",
                got["kind"]
            ));
        }
    }
    mismatches
}

fn compare_order(got: &Value, want: &Value, differ: &mut dyn FnMut(String, &Value, &Value)) {
    for field in ["buyer_order_number", "issue_date", "currency"] {
        if !want[field].is_null() && got[field] != want[field] {
            differ(field.into(), &got[field], &want[field]);
        }
    }
    compare_party("buyer", &got["buyer"], &want["buyer"], differ);
    let seller = if want["seller"].is_null() {
        &want["supplier"]
    } else {
        &want["seller"]
    };
    compare_supplier(got, seller, differ);
    let got_lines = got["lines"].as_array().cloned().unwrap_or_default();
    let count = want["line_count"].as_u64().map_or_else(
        || want["lines"].as_array().map_or(0, Vec::len),
        |c| c as usize,
    );
    if got_lines.len() != count {
        differ("line count".into(), &json!(got_lines.len()), &json!(count));
    }
    let want_lines = want["lines"].as_array().cloned().unwrap_or_default();
    for (i, (got, want)) in got_lines.iter().zip(&want_lines).enumerate() {
        compare_line(i, got, want, differ);
    }
}

/// The supplier as the expectation names it. A person reading a document with no
/// seller party may take another party for the supplier and say which
/// (`"role": "SF (ship from)"`); the order keeps that party by its role code.
fn compare_supplier(got: &Value, want: &Value, differ: &mut dyn FnMut(String, &Value, &Value)) {
    let role_code = want["role"]
        .as_str()
        .and_then(|role| role.split_whitespace().next());
    let by_role = got["other_parties"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|p| role_code.is_some() && p["role_code"].as_str() == role_code)
        .map(|p| &p["party"]);
    compare_party(
        "supplier",
        by_role.unwrap_or(&got["supplier"]),
        want,
        differ,
    );
}

fn compare_party(
    role: &str,
    got: &Value,
    want: &Value,
    differ: &mut dyn FnMut(String, &Value, &Value),
) {
    if want.is_null() {
        return;
    }
    if let Some(name) = want["name"].as_str()
        && got["name"].as_str() != Some(name)
        && got["legal_name"].as_str() != Some(name)
    {
        differ(format!("{role} name"), &got["name"], &want["name"]);
    }
    // The supplier's code (the buyer's account id for it) counts as one of its ids.
    let got_ids: Vec<&str> = got["ids"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|id| id["value"].as_str())
        .chain(got["code"].as_str())
        .collect();
    for id in want["ids"].as_array().into_iter().flatten() {
        if let Some(value) = id["value"].as_str()
            && !got_ids.contains(&value)
        {
            differ(format!("{role} id"), &got["ids"], id);
        }
    }
}

fn compare_line(
    i: usize,
    got: &Value,
    want: &Value,
    differ: &mut dyn FnMut(String, &Value, &Value),
) {
    let at = |what: &str| format!("line {i} {what}");
    if !want["line_number"].is_null() && got["line_number"] != want["line_number"] {
        differ(at("line_number"), &got["line_number"], &want["line_number"]);
    }
    let item = &got["item"];
    for (field, got_field) in [("item_name", "name"), ("description", "description")] {
        if let Some(text) = want[field].as_str()
            && item[got_field].as_str().map(squash) != Some(squash(text))
        {
            differ(at(field), &item[got_field], &want[field]);
        }
    }
    for (field, got_value) in [
        ("quantity", &got["quantity"]),
        ("unit_price", &got["price"]["amount"]),
        ("price_basis_quantity", &got["price"]["base_quantity"]),
        ("line_total", &got["line_total"]),
    ] {
        if !want[field].is_null() && decimal(got_value) != decimal(&want[field]) {
            differ(at(field), got_value, &want[field]);
        }
    }
    if let Some(unit) = want["unit"].as_str() {
        let original = &got["unit_original"]["code"];
        if got["unit"].as_str() != Some(unit) && original.as_str() != Some(unit) {
            differ(at("unit"), &got["unit"], &want["unit"]);
        }
    }
    // An id may be an item id or, for a drawing number, a document's id; an
    // "id" whose qualifier says it is a description (X12 PD) is the item's name.
    let got_ids: Vec<&str> = item["ids"]
        .as_array()
        .into_iter()
        .chain(item["documents"].as_array())
        .flatten()
        .filter_map(|id| id["value"].as_str().or(id["id"].as_str()))
        .chain(item["name"].as_str())
        .chain(item["description"].as_str())
        .collect();
    for id in want["ids"].as_array().into_iter().flatten() {
        if let Some(value) = id["value"].as_str()
            && !got_ids.contains(&value)
        {
            differ(at("id"), &item["ids"], id);
        }
    }
    let got_properties = item["properties"].as_array().cloned().unwrap_or_default();
    for property in want["properties"].as_array().into_iter().flatten() {
        let found = got_properties.iter().any(|p| {
            same_label(&p["name"], &property["name"])
                && (p["value"] == property["value"]
                    || decimal(&p["value"]).is_some()
                        && decimal(&p["value"]) == decimal(&property["value"]))
        });
        if !found {
            differ(at("property"), &item["properties"], property);
        }
    }
}

/// Whether two property names are the same label: a person writing an expectation
/// may name `MEA+PD+LAY` "MEA PD LAY" where the plugin says "PD LAY".
fn same_label(got: &Value, want: &Value) -> bool {
    match (got.as_str(), want.as_str()) {
        (Some(got), Some(want)) => {
            let (got, want) = (got.to_lowercase(), want.to_lowercase());
            got == want || want.contains(&got) || got.contains(&want)
        }
        _ => false,
    }
}

/// A decimal string's value (`50.000` and `50` are the same amount).
fn decimal(value: &Value) -> Option<Decimal> {
    value.as_str()?.parse().ok()
}

/// Text with its runs of whitespace as one space, trimmed.
fn squash(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}
