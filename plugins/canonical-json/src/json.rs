//! Reading the body into canonical orders, one transaction per order object,
//! with errors that point at the fault.

use jembatan_plugin_sdk::{
    Location, Normalized, PluginError, PurchaseOrder, Transaction, TransactionId,
};
use jembatan_schemas::PurchaseOrder as PurchaseOrderV1;
use jembatan_schemas::v2::upgrade_v1;
use serde::Deserialize;
use serde::de::{DeserializeOwned, IgnoredAny};
use serde_json::error::Category;
use serde_json::value::RawValue;

/// Whether an order names its version; the typed parse checks the value.
#[derive(Deserialize)]
struct Probe {
    version: Option<IgnoredAny>,
}

/// One order object of the body: the whole body, or an element of its array.
struct Element<'a> {
    /// The body, for positions.
    body: &'a [u8],
    /// Where the element starts in the body.
    start: usize,
    /// The element's text.
    text: &'a [u8],
    /// Its JSON pointer in the body: `""` for the whole body, `/3` in an array.
    pointer: String,
}

impl<'a> Element<'a> {
    /// The body as one order object.
    fn whole(body: &'a [u8]) -> Self {
        Self {
            body,
            start: 0,
            text: body,
            pointer: String::new(),
        }
    }
}

/// Reads one order object, or an array of them: one transaction each, in order.
/// A v1 order without a currency gets `default_currency`, and `format` as its
/// source format.
///
/// The message is refused whole only when nothing in it can be read: an empty
/// body, text that is not JSON, a value that is neither an object nor an array,
/// an empty array. An element that is not a canonical order is refused on its
/// own, with its pointer (`/3/lines/0/quantity`).
pub fn read(
    body: &[u8],
    default_currency: Option<&str>,
    format: &str,
) -> Result<Normalized, PluginError> {
    let Some(first) = body.iter().position(|b| !b.is_ascii_whitespace()) else {
        return Err(PluginError::new(
            "empty-body",
            "the body is empty; send one canonical order object or an array of them",
        ));
    };
    // An element of an array that is not a JSON object is left to the v1 parse,
    // whose error says what is wrong.
    let read = |element: Element<'_>| {
        if let Some(order) = read_directly(&element, default_currency, format) {
            return Ok(order);
        }
        let versioned =
            serde_json::from_slice::<Probe>(element.text).is_ok_and(|p| p.version.is_some());
        read_order(&element, versioned, default_currency, format)
    };
    match body[first] {
        b'[' => {
            let elements: Vec<&RawValue> =
                serde_json::from_slice(body).map_err(|e| json_error(e, body, 0, None))?;
            if elements.is_empty() {
                return Err(PluginError::at_offset(
                    "invalid-order",
                    "the array holds no orders; send at least one",
                    body,
                    first,
                )
                .at_path(""));
            }
            let transactions = elements
                .into_iter()
                .zip(0..)
                .map(|(raw, index)| {
                    let text = raw.get().as_bytes();
                    let start = (text.as_ptr() as usize).saturating_sub(body.as_ptr() as usize);
                    let pointer = format!("/{index}");
                    let (line, column) = jembatan_plugin_sdk::line_column(body, start);
                    let id = TransactionId::new(index).at(Location {
                        line: Some(line),
                        column: Some(column),
                        offset: Some(start as u64),
                        path: Some(pointer.clone()),
                    });
                    let element = Element {
                        body,
                        start,
                        text,
                        pointer,
                    };
                    transaction(id, text, read(element))
                })
                .collect();
            Ok(Normalized::new(transactions))
        }
        b'{' => {
            let element = Element::whole(body);
            if let Some(order) = read_directly(&element, default_currency, format) {
                return Ok(Normalized::new(vec![transaction(
                    TransactionId::new(0),
                    body,
                    Ok(order),
                )]));
            }
            // Well-formed JSON first: text that is not JSON is no transaction. The
            // same pass finds whether the order names its version.
            let probe =
                serde_json::from_slice::<Probe>(body).map_err(|e| json_error(e, body, 0, None))?;
            Ok(Normalized::new(vec![transaction(
                TransactionId::new(0),
                body,
                read_order(&element, probe.version.is_some(), default_currency, format),
            )]))
        }
        _ => {
            let err = match serde_json::from_slice::<IgnoredAny>(body) {
                Err(e) => json_error(e, body, 0, None),
                Ok(_) => PluginError::at_offset(
                    "invalid-order",
                    "the body is neither an order object nor an array of them",
                    body,
                    first,
                )
                .at_path(""),
            };
            Err(err)
        }
    }
}

/// The transaction of one element: its order, with the order's control number,
/// or its refusal, with the control number the element's JSON names if any.
fn transaction(
    id: TransactionId,
    text: &[u8],
    read: Result<PurchaseOrder, PluginError>,
) -> Transaction {
    match read {
        Ok(order) => {
            let id = match &order.source.control_number {
                Some(control) => id.with_control_number(control.clone()),
                None => id,
            };
            Transaction::from_result(id, Ok(order))
        }
        Err(error) => {
            let named = serde_json::from_slice::<serde_json::Value>(text)
                .ok()
                .and_then(|v| Some(v.pointer("/source/control_number")?.as_str()?.to_owned()));
            let id = match named {
                Some(control) => id.with_control_number(control),
                None => id,
            };
            Transaction::refused(id, error)
        }
    }
}

/// The order of an element that reads as the version its text suggests, in one
/// pass instead of two (the probe for `version`, then the order): in a profile of
/// the gateway the probe was about a sixth of this plugin's time. `None` sends the
/// element the long way, which explains what is wrong. What this reads, it reads
/// as the long way does, because each order type settles the probe's question:
/// v2 requires the `version` key, and v1 refuses unknown keys and has none of
/// that name. The text only picks which to try: naming `"version"`, v2.
fn read_directly(
    element: &Element<'_>,
    default_currency: Option<&str>,
    format: &str,
) -> Option<PurchaseOrder> {
    let named = memchr::memmem::find(element.text, b"\"version\"").is_some();
    read_order(element, named, default_currency, format).ok()
}

/// Reads one order object: v2 as written (without `received`) when it names its
/// `versioned`, v1 upgraded.
fn read_order(
    element: &Element<'_>,
    versioned: bool,
    default_currency: Option<&str>,
    format: &str,
) -> Result<PurchaseOrder, PluginError> {
    let text = element.text;
    if versioned {
        let order: PurchaseOrder = deserialize(element)?;
        if order.received.is_some() {
            return Err(PluginError::new(
                "invalid-order",
                "received is written by the gateway when it stores the order; leave it out",
            )
            .at_path(format!("{}/received", element.pointer)));
        }
        return Ok(order);
    }
    let mut order: PurchaseOrderV1 = deserialize(element)?;
    // Serde reads a JSON number into a v1 Decimal (through f64), so refuse them
    // here: no field of a v1 order is a number, so any number is an error. (v2's
    // types refuse a number for a decimal themselves, and v2 has integer fields.)
    if let Some((offset, path)) = first_number(text) {
        return Err(PluginError::at_offset(
            "invalid-order",
            "amounts and quantities are decimal strings such as \"12.50\", not JSON numbers",
            element.body,
            element.start + offset,
        )
        .at_path(format!("{}{path}", element.pointer)));
    }
    if let Some(currency) = default_currency {
        apply_default_currency(text, &mut order, currency);
    }
    let mut order = upgrade_v1(order);
    format.clone_into(&mut order.source.format);
    Ok(order)
}

/// Sets `currency` on a v1 order whose JSON does not name one.
///
/// The typed v1 order fills in IDR when `currency` is absent, so absence is only
/// visible in the text; this second, skimming parse runs only when a buyer
/// configured another default.
fn apply_default_currency(text: &[u8], order: &mut PurchaseOrderV1, currency: &str) {
    #[derive(Deserialize)]
    struct Probe {
        currency: Option<IgnoredAny>,
    }
    if serde_json::from_slice::<Probe>(text).is_ok_and(|p| p.currency.is_none()) {
        currency.clone_into(&mut order.currency);
    }
}

/// The element as a `T`. An order that reads is read once, by serde alone; only
/// one that does not is read again, tracking the path, for its error's pointer
/// (tracking every field costs as much as the read itself).
fn deserialize<T: DeserializeOwned>(element: &Element<'_>) -> Result<T, PluginError> {
    if let Ok(value) = serde_json::from_slice(element.text) {
        return Ok(value);
    }
    let (body, start) = (element.body, element.start);
    let mut de = serde_json::Deserializer::from_slice(element.text);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let pointer = format!("{}{}", element.pointer, pointer(e.path()));
        json_error(e.into_inner(), body, start, Some(pointer))
    })?;
    de.end().map_err(|e| json_error(e, body, start, None))?;
    Ok(value)
}

/// A serde_json error about the text starting at `start` of `body`, as a
/// `malformed-json` or `invalid-order` error at its place in the body.
fn json_error(
    e: serde_json::Error,
    body: &[u8],
    start: usize,
    pointer: Option<String>,
) -> PluginError {
    let (code, pointer) = match e.classify() {
        Category::Syntax | Category::Eof | Category::Io => ("malformed-json", None),
        Category::Data => ("invalid-order", pointer),
    };
    let offset = start + offset_in(&body[start..], e.line(), e.column());
    let mut err = PluginError::at_offset(code, message_without_position(&e), body, offset);
    if let Some(pointer) = pointer {
        err = err.at_path(pointer);
    }
    err
}

/// The byte offset of serde_json's 1-based line and column (a byte count on
/// its line) in `text`.
fn offset_in(text: &[u8], line: usize, column: usize) -> usize {
    let line_start = if line <= 1 {
        0
    } else {
        text.iter()
            .enumerate()
            .filter(|(_, b)| **b == b'\n')
            .nth(line - 2)
            .map_or(text.len(), |(i, _)| i + 1)
    };
    (line_start + column.saturating_sub(1)).min(text.len())
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
                // To the closing quote, skipping each escaped byte (which may be a
                // quote); memchr, since strings are most of an order's bytes.
                loop {
                    match memchr::memchr2(b'"', b'\\', body.get(i..).unwrap_or_default()) {
                        Some(at) if body[i + at] == b'\\' => i += at + 2,
                        Some(at) => break i += at,
                        None => break i = body.len(),
                    }
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

#[cfg(test)]
mod tests {
    use super::{Element, Probe, first_number, read_directly, read_order};

    /// What the long way makes of `text`: the probe, then the order as it decided.
    /// `None` when the probe does not read (the message is refused whole).
    fn long_way(text: &[u8], currency: Option<&str>) -> Option<Option<super::PurchaseOrder>> {
        let probe = serde_json::from_slice::<Probe>(text).ok()?;
        Some(
            read_order(
                &Element::whole(text),
                probe.version.is_some(),
                currency,
                "json",
            )
            .ok(),
        )
    }

    fn direct(text: &[u8], currency: Option<&str>) -> Option<super::PurchaseOrder> {
        read_directly(&Element::whole(text), currency, "json")
    }

    #[test]
    fn the_direct_read_takes_only_what_the_long_way_reads_the_same() {
        let v2 = include_str!("../fixtures/v2-order.json");
        let v1 = include_str!("../fixtures/full.json");
        let taken = [
            v2.to_owned(),
            v1.to_owned(),
            include_str!("../fixtures/minimal.json").to_owned(),
            // A v1 order that mentions a version in a value is still v1.
            v1.replacen("PO-AST-2026-11-0042", "PO version 2", 1),
        ];
        let left = [
            // The key spelled with an escape: v2 is not tried, and v1 refuses it.
            v2.replacen(r#""version""#, r#""vers\u0069on""#, 1),
            v2.replacen(
                "{",
                r#"{"received": {"buyer_account": {"id": "b", "name": "B"}, "message_id": "m",
                    "transaction": {"index": 0}, "plugin": {"name": "p", "version": "1"}}, "#,
                1,
            ),
            v1.replacen("{", r#"{"version": "1", "#, 1),
            // A value that is the word itself: v2 does not read it, so the probe decides.
            v1.replacen("PO-AST-2026-11-0042", "version", 1),
            include_str!("../fixtures/invalid-date.json").to_owned(),
            include_str!("../fixtures/invalid-number-quantity.json").to_owned(),
            include_str!("../fixtures/invalid-unknown-field.json").to_owned(),
            include_str!("../fixtures/invalid-syntax.json").to_owned(),
            include_str!("../fixtures/invalid-missing-lines.json").to_owned(),
        ];
        for currency in [None, Some("USD")] {
            for text in &taken {
                let order = direct(text.as_bytes(), currency);
                assert!(order.is_some(), "not taken directly: {text}");
                assert_eq!(long_way(text.as_bytes(), currency), Some(order), "{text}");
            }
            for text in &left {
                assert_eq!(direct(text.as_bytes(), currency), None, "{text}");
            }
        }
        // The escaped key is still an order the long way reads, as v2.
        let escaped = v2.replacen(r#""version""#, r#""vers\u0069on""#, 1);
        assert_eq!(
            long_way(escaped.as_bytes(), None),
            Some(direct(v2.as_bytes(), None))
        );
    }

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
