//! [`contract::read`] against the schema itself: over the test orders (the maximal
//! and minimal orders, the design's example, and every plugin fixture's expected
//! v2 output) and their mutations, it must never take an order the schema refuses,
//! and it must read what it takes as the schema's path would. It must also take
//! the orders themselves, or it would be no faster path at all.

use std::sync::OnceLock;

use serde_json::{Value, json};

use super::agreement::{design_example, maximal, minimal, schema};
use super::compat_tests::{json_files, repo_root};
use super::{PurchaseOrder, contract};

/// The schema as the gateway checks with it (formats asserted).
fn validator() -> &'static jsonschema::Validator {
    static VALIDATOR: OnceLock<jsonschema::Validator> = OnceLock::new();
    VALIDATOR.get_or_init(|| {
        jsonschema::options()
            .should_validate_formats(true)
            .build(&schema())
            .unwrap()
    })
}

/// What the schema's path makes of `text`: the order, or `None` when it refuses.
fn by_schema(text: &str) -> Option<PurchaseOrder> {
    let value: Value = serde_json::from_str(text).ok()?;
    if !validator().is_valid(&value) {
        return None;
    }
    serde_json::from_value(value).ok()
}

/// The test orders, as plugins write them (no `received`), and none with a `uri`,
/// which `read` leaves to the schema.
fn corpus() -> Vec<(String, Value)> {
    let mut orders = vec![
        (
            "maximal".to_owned(),
            serde_json::to_value(maximal()).unwrap(),
        ),
        (
            "minimal".to_owned(),
            serde_json::to_value(minimal()).unwrap(),
        ),
        ("design example".to_owned(), design_example()),
    ];
    let root = repo_root();
    let mut files = Vec::new();
    for dir in ["tests", "plugins"] {
        json_files(&root.join(dir), &mut files);
    }
    files.sort();
    for path in files {
        let Ok(value) = serde_json::from_slice::<Value>(&std::fs::read(&path).unwrap()) else {
            continue;
        };
        if value["version"] == "2" && value.get("lines").is_some() {
            orders.push((path.display().to_string(), value));
        }
    }
    for (_, order) in &mut orders {
        let object = order.as_object_mut().unwrap();
        object.remove("received");
        // A negative decimal (only `rounding` may be one) is left to the schema.
        if let Some(Value::String(rounding)) = order.pointer_mut("/totals/rounding") {
            *rounding = rounding.trim_start_matches('-').to_owned();
        }
        strip_uris(order);
    }
    assert!(orders.len() > 10, "the fixtures were not found");
    orders
}

fn strip_uris(value: &mut Value) {
    match value {
        Value::Object(object) => {
            if object.contains_key("uri") && object.contains_key("type") {
                object.remove("uri");
                object.entry("id").or_insert_with(|| json!("DOC-1"));
            }
            object.values_mut().for_each(strip_uris);
        }
        Value::Array(items) => items.iter_mut().for_each(strip_uris),
        _ => {}
    }
}

/// Every place in `value`, as JSON pointers.
fn pointers(value: &Value, at: String, out: &mut Vec<String>) {
    match value {
        Value::Object(object) => {
            for (key, child) in object {
                pointers(
                    child,
                    format!("{at}/{}", key.replace('~', "~0").replace('/', "~1")),
                    out,
                );
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                pointers(child, format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
    out.push(at);
}

/// Strings put in place of every string: each breaks some rule of some field, or
/// is read more leniently by `rust_decimal` or `chrono` than by the schema, or
/// keeps the rules of a field that has them.
fn strings() -> Vec<String> {
    let mut variants: Vec<String> = [
        "",
        " ",
        "\u{feff}",
        "\u{a0}",
        "\t",
        "x",
        "1",
        "01.50",
        "+1.5",
        "1_000",
        ".5",
        "5.",
        "-1",
        "-0",
        "1e5",
        "1E5",
        "1e+5",
        "1.5e-3",
        "1_0e1",
        "e5",
        "1e",
        "+",
        "-",
        ".",
        "_",
        "0.1234567890123",
        "0.123456789012",
        "NaN",
        "2026-1-5",
        "+2026-01-05",
        " 2026-01-05",
        "2026-01-05 ",
        "\u{a0}2026-01-05",
        "2026-02-30",
        "2026-12-31",
        "20261231",
        " 1.5",
        "1.5 ",
        "1 000",
        "+62 21 8983",
        "+62-21-8983",
        "1-2",
        "--",
        "ZZ",
        "zz",
        "ZZZZ",
        "H87",
        "GB",
        "G",
        "ICD:0088",
        "ICD:88",
        "ENDPOINT:",
        "ENDPOINT:abc",
        "ENDPOINT:a b",
        "DUNS+4",
        "GLN",
        "plugin:x-1",
        "plugin:X",
        "plugin:",
        "ubl",
        "text/plain",
        "text/plain; charset=utf-8",
        "text/plain ;x",
        "text/plain\n;x",
        "text/",
        "/a",
        "/a~0b",
        "/a~2",
        "a~1",
        "abc-def",
        "abc--def",
        "-abc",
        "AAAA==",
        "AAAA===",
        "A-B",
        "EXW",
        "EX",
        "2020",
        "202",
        "IDR",
        "XXX",
        "idr",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    variants.push("0123456789abcdef".repeat(4));
    variants.push("0123456789ABCDEF".repeat(4));
    variants.push("1".repeat(28));
    variants.push("1".repeat(29));
    for (text, n) in [
        ("x", 64),
        ("x", 65),
        ("a", 128),
        ("a", 129),
        ("é", 128),
        ("é", 129),
    ] {
        variants.push(text.repeat(n));
    }
    for n in [255, 256, 512, 513, 1000, 1001, 2048, 2049, 4000, 4001] {
        variants.push("x".repeat(n));
        variants.push("é".repeat(n));
    }
    variants
}

/// JSON written as is in place of a value: what serializing a `Value` never writes
/// (escapes), and values of other types.
const RAW: &[&str] = &[
    "null",
    "[]",
    "[ ]",
    "{}",
    "5",
    "5.0",
    "-1",
    "1e2",
    "true",
    r#""\u002b1.5""#,
    r#""\u0032026-01-05""#,
    r#""\u00a02026-01-05""#,
    r#""\ud800""#,
    r#""a\"b""#,
    r#""\u0031.5""#,
];

fn set(order: &Value, pointer: &str, value: Value) -> Value {
    let mut changed = order.clone();
    *changed.pointer_mut(pointer).unwrap() = value;
    changed
}

/// Holds `read` to the schema on `text`; whether both took it.
fn agree(name: &str, text: &str) -> bool {
    let fast = contract::read(text);
    let Some(fast) = fast else {
        return false;
    };
    match by_schema(text) {
        Some(order) => {
            assert_eq!(fast, order, "{name}: read differently\n{text}");
            true
        }
        None => panic!(
            "{name}: taken although the schema refuses it: {:?}\n{text}",
            serde_json::from_str::<Value>(text).map(|v| validator()
                .iter_errors(&v)
                .map(|e| e.to_string())
                .collect::<Vec<_>>())
        ),
    }
}

#[test]
fn the_test_orders_are_read_as_the_schema_reads_them() {
    for (name, order) in corpus() {
        let text = serde_json::to_string(&order).unwrap();
        assert!(by_schema(&text).is_some(), "{name} is not a valid order");
        assert!(agree(&name, &text), "{name}: not taken");
        // Pretty-printed (whitespace between tokens) it is the same order.
        let pretty = serde_json::to_string_pretty(&order).unwrap();
        assert!(agree(&name, &pretty), "{name}: pretty-printed, not taken");
    }
}

#[test]
fn no_mutation_is_taken_that_the_schema_refuses() {
    let variants = strings();
    let (mut taken, mut tried, mut schema_took) = (0, 0, 0);
    // A field is tried once with the strings, in the first order that has it, and
    // once per order with the rest: each line of a 10-line order is the same field.
    let field = |pointer: &str| {
        pointer
            .split('/')
            .map(|part| {
                if part.parse::<usize>().is_ok() {
                    "#"
                } else {
                    part
                }
            })
            .collect::<Vec<_>>()
            .join("/")
    };
    let mut fields_tried = std::collections::HashSet::new();
    for (name, order) in corpus() {
        let mut places = Vec::new();
        pointers(&order, String::new(), &mut places);
        let mut fields_here = std::collections::HashSet::new();
        for pointer in places.iter().filter(|p| !p.is_empty()) {
            if !fields_here.insert(field(pointer)) {
                continue;
            }
            let here = format!("{name} {pointer}");
            let mut check = |text: String| {
                tried += 1;
                schema_took += usize::from(by_schema(&text).is_some());
                taken += usize::from(agree(&here, &text));
            };
            if order.pointer(pointer).unwrap().is_string() && fields_tried.insert(field(pointer)) {
                for variant in &variants {
                    check(serde_json::to_string(&set(&order, pointer, json!(variant))).unwrap());
                }
            }
            let marked = serde_json::to_string(&set(&order, pointer, json!("\u{1}HERE"))).unwrap();
            for raw in RAW {
                check(marked.replace(r#""\u0001HERE""#, raw));
            }
            // Without it, and beside a key no schema object has.
            let (parent, key) = pointer.rsplit_once('/').unwrap();
            let mut without = order.clone();
            match without.pointer_mut(parent).unwrap() {
                Value::Object(object) => {
                    object.remove(&key.replace("~1", "/").replace("~0", "~"));
                }
                Value::Array(items) => {
                    items.remove(key.parse::<usize>().unwrap());
                }
                _ => unreachable!(),
            }
            check(serde_json::to_string(&without).unwrap());
            if let Some(Value::Object(_)) = order.pointer(pointer) {
                let mut extra = order.clone();
                extra.pointer_mut(pointer).unwrap()["unknown"] = json!("x");
                check(serde_json::to_string(&extra).unwrap());
            }
        }
    }
    // Most valid mutations are taken (the rest are left to the schema: negative or
    // empty decimals, empty strings, dates in other forms), or the fast path would
    // rarely be taken at all.
    assert!(tried > 20_000, "{tried} mutations");
    assert!(
        taken * 3 > schema_took * 2,
        "taken {taken} of the {schema_took} the schema took ({tried} tried)"
    );
}
