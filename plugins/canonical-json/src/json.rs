//! Parsing the body into canonical orders, with errors that point at the fault.

use jembatan_plugin_sdk::{PluginError, PurchaseOrder};
use serde::Deserialize;
use serde::de::{DeserializeOwned, IgnoredAny};
use serde_json::error::Category;

/// Parses one order object or an array of orders.
pub fn parse_orders(body: &[u8]) -> Result<Vec<PurchaseOrder>, PluginError> {
    let Some(first) = body.iter().position(|b| !b.is_ascii_whitespace()) else {
        return Err(PluginError::new(
            "empty-body",
            "the body is empty; send one canonical order object or an array of them",
        ));
    };
    let orders = match body[first] {
        b'[' => deserialize::<Vec<PurchaseOrder>>(body)?,
        b'{' => vec![deserialize::<PurchaseOrder>(body)?],
        // Let the parser say what is there: a syntax error or the wrong type.
        _ => vec![deserialize::<PurchaseOrder>(body)?],
    };
    if orders.is_empty() {
        return Err(PluginError::at_offset(
            "invalid-order",
            "the array holds no orders; send at least one",
            body,
            first,
        )
        .at_path(""));
    }
    // Serde reads a JSON number into a Decimal (through f64), so refuse them here:
    // no field of the canonical order is a number, so any number is an error.
    if let Some((offset, path)) = first_number(body) {
        return Err(PluginError::at_offset(
            "invalid-order",
            "amounts and quantities are decimal strings such as \"12.50\", not JSON numbers",
            body,
            offset,
        )
        .at_path(path));
    }
    Ok(orders)
}

/// Sets `currency` on each order whose JSON does not name one.
///
/// The typed order fills in IDR when `currency` is absent, so absence is only
/// visible in the text; this second, skimming parse runs only when a buyer
/// configured another default.
pub fn apply_default_currency(body: &[u8], orders: &mut [PurchaseOrder], currency: &str) {
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
