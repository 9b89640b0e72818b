//! Parsing the body into canonical orders, with errors that point at the fault.

use jembatan_plugin_sdk::{PluginError, PurchaseOrder};
use jembatan_schemas::PurchaseOrder as PurchaseOrderV1;
use serde::Deserialize;
use serde::de::{DeserializeOwned, IgnoredAny};
use serde_json::error::Category;

/// The orders of a body, in the version they were written in.
pub enum Orders {
    /// Canonical order v1: no `version` key.
    V1(Vec<PurchaseOrderV1>),
    /// Canonical order v2: `"version": "2"`.
    V2(Vec<PurchaseOrder>),
}

/// Whether an order names its version; the typed parse checks the value.
#[derive(Deserialize)]
struct Probe {
    version: Option<IgnoredAny>,
}

/// Parses one order object or an array of orders, all of one version.
pub fn parse_orders(body: &[u8]) -> Result<Orders, PluginError> {
    let Some(first) = body.iter().position(|b| !b.is_ascii_whitespace()) else {
        return Err(PluginError::new(
            "empty-body",
            "the body is empty; send one canonical order object or an array of them",
        ));
    };
    // What is not a JSON object or array of objects is left to the v1 parse,
    // whose error says what is wrong.
    let versioned: Vec<bool> = match body[first] {
        b'[' => serde_json::from_slice::<Vec<Probe>>(body).map(|probes| {
            probes
                .iter()
                .map(|p| p.version.is_some())
                .collect::<Vec<_>>()
        }),
        _ => serde_json::from_slice::<Probe>(body).map(|p| vec![p.version.is_some()]),
    }
    .unwrap_or_default();
    let many = body[first] == b'[';
    if versioned.first() == Some(&true) {
        if let Some(i) = versioned.iter().position(|v| !v) {
            return Err(PluginError::new(
                "invalid-order",
                "the array mixes canonical order versions: send orders of one version per message",
            )
            .at_path(format!("/{i}")));
        }
        let orders = if many {
            deserialize::<Vec<PurchaseOrder>>(body)?
        } else {
            vec![deserialize::<PurchaseOrder>(body)?]
        };
        if let Some(i) = orders.iter().position(|o| o.received.is_some()) {
            let at = if many { format!("/{i}") } else { String::new() };
            return Err(PluginError::new(
                "invalid-order",
                "received is written by the gateway when it stores the order; leave it out",
            )
            .at_path(format!("{at}/received")));
        }
        return non_empty(orders, body, first).map(Orders::V2);
    }
    if let Some(i) = versioned.iter().position(|v| *v) {
        return Err(PluginError::new(
            "invalid-order",
            "the array mixes canonical order versions: send orders of one version per message",
        )
        .at_path(format!("/{i}")));
    }
    let orders = if many {
        deserialize::<Vec<PurchaseOrderV1>>(body)?
    } else {
        vec![deserialize::<PurchaseOrderV1>(body)?]
    };
    let orders = non_empty(orders, body, first)?;
    // Serde reads a JSON number into a v1 Decimal (through f64), so refuse them
    // here: no field of a v1 order is a number, so any number is an error. (v2's
    // types refuse a number for a decimal themselves, and v2 has integer fields.)
    if let Some((offset, path)) = first_number(body) {
        return Err(PluginError::at_offset(
            "invalid-order",
            "amounts and quantities are decimal strings such as \"12.50\", not JSON numbers",
            body,
            offset,
        )
        .at_path(path));
    }
    Ok(Orders::V1(orders))
}

fn non_empty<T>(orders: Vec<T>, body: &[u8], first: usize) -> Result<Vec<T>, PluginError> {
    if orders.is_empty() {
        return Err(PluginError::at_offset(
            "invalid-order",
            "the array holds no orders; send at least one",
            body,
            first,
        )
        .at_path(""));
    }
    Ok(orders)
}

/// Sets `currency` on each v1 order whose JSON does not name one.
///
/// The typed v1 order fills in IDR when `currency` is absent, so absence is only
/// visible in the text; this second, skimming parse runs only when a buyer
/// configured another default.
pub fn apply_default_currency(body: &[u8], orders: &mut [PurchaseOrderV1], currency: &str) {
    #[derive(Deserialize)]
    struct Probe {
        currency: Option<IgnoredAny>,
    }
    let probes: Vec<Probe> = match serde_json::from_slice::<Vec<Probe>>(body) {
        Ok(probes) => probes,
        Err(_) => serde_json::from_slice::<Probe>(body).map_or_else(|_| Vec::new(), |p| vec![p]),
    };
    for (order, probe) in orders.iter_mut().zip(probes) {
        if probe.currency.is_none() {
            currency.clone_into(&mut order.currency);
        }
    }
}

fn deserialize<T: DeserializeOwned>(body: &[u8]) -> Result<T, PluginError> {
    let mut de = serde_json::Deserializer::from_slice(body);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let pointer = pointer(e.path());
        json_error(e.into_inner(), Some(pointer))
    })?;
    de.end().map_err(|e| json_error(e, None))?;
    Ok(value)
}

fn json_error(e: serde_json::Error, pointer: Option<String>) -> PluginError {
    let (code, pointer) = match e.classify() {
        Category::Syntax | Category::Eof | Category::Io => ("malformed-json", None),
        Category::Data => ("invalid-order", pointer),
    };
    let mut err = PluginError::new(code, message_without_position(&e))
        .with_line_column(saturate(e.line()), saturate(e.column()));
    if let Some(pointer) = pointer {
        err = err.at_path(pointer);
    }
    err
}

/// serde_json's message ends with " at line L column C", which the location
/// already carries.
fn message_without_position(e: &serde_json::Error) -> String {
    let text = e.to_string();
    match text.rfind(" at line ") {
        Some(i) => text[..i].to_owned(),
        None => text,
    }
}

/// A serde path as a JSON pointer (RFC 6901): `lines[0].quantity` → `/lines/0/quantity`.
fn pointer(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut out = String::new();
    for segment in path.iter() {
        out.push('/');
        match segment {
            Segment::Seq { index } => out.push_str(&index.to_string()),
            Segment::Map { key } | Segment::Enum { variant: key } => {
                out.push_str(&key.replace('~', "~0").replace('/', "~1"));
            }
            Segment::Unknown => out.push('?'),
        }
    }
    out
}

/// The byte offset and JSON pointer of the first JSON number in `body`, if any.
///
/// Runs on every body, after serde accepted it (so the JSON is well formed): one
/// pass over the bytes that remembers where each key is, and builds the pointer
/// only when it finds a number.
fn first_number(body: &[u8]) -> Option<(usize, String)> {
    enum Frame {
        /// `key` is the byte range of the current key, without quotes.
        Object {
            key: (usize, usize),
            expecting_key: bool,
        },
        Array {
            index: usize,
        },
    }
    let mut stack: Vec<Frame> = Vec::new();
    let mut i = 0;
    while i < body.len() {
        match body[i] {
            b'"' => {
                let start = i + 1;
                i = start;
                while i < body.len() && body[i] != b'"' {
                    // Skip the escaped byte, which may be a quote.
                    i += if body[i] == b'\\' { 2 } else { 1 };
                }
                if let Some(Frame::Object { key, expecting_key }) = stack.last_mut()
                    && *expecting_key
                {
                    *key = (start, i.min(body.len()));
                    *expecting_key = false;
                }
            }
            b'{' => stack.push(Frame::Object {
                key: (0, 0),
                expecting_key: true,
            }),
            b'[' => stack.push(Frame::Array { index: 0 }),
            b'}' | b']' => {
                stack.pop();
            }
            b',' => match stack.last_mut() {
                Some(Frame::Object { expecting_key, .. }) => *expecting_key = true,
                Some(Frame::Array { index }) => *index += 1,
                None => {}
            },
            b'-' | b'0'..=b'9' => {
                let mut pointer = String::new();
                for frame in &stack {
                    pointer.push('/');
                    match frame {
                        Frame::Object {
                            key: (from, to), ..
                        } => {
                            let key = String::from_utf8_lossy(&body[*from..*to]);
                            pointer.push_str(&key.replace('~', "~0").replace('/', "~1"));
                        }
                        Frame::Array { index } => pointer.push_str(&index.to_string()),
                    }
                }
                return Some((i, pointer));
            }
            _ => {}
        }
        i += 1;
    }
    None
}

fn saturate(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::first_number;

    #[test]
    fn number_scan_ignores_digits_in_strings_and_keys() {
        let body = br#"{"a-1": "x\"9", "b": [true, 3]}"#;
        assert_eq!(first_number(body), Some((28, "/b/1".to_owned())));
        assert_eq!(
            first_number(br#"{"a": "12", "c~/": [{"d": -1}]}"#),
            Some((26, "/c~0~1/0/d".to_owned()))
        );
        assert_eq!(first_number(br#"{"a": "12"}"#), None);
    }
}
