//! Streaming the XML with quick-xml: one pass, no DOM, names resolved by namespace.

use std::borrow::Cow;

use jembatan_plugin_sdk::{PluginError, PurchaseOrder};
use quick_xml::Reader;
use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::{BytesStart, Event};

use crate::Config;
use crate::draft::OrderDraft;
use crate::map::{Fault, on_end, on_start};
use crate::names::{Name, ORDER};
use crate::ns::Namespaces;

/// Reads one UBL 2.1 Order document.
pub fn parse_order(body: &[u8], config: &Config) -> Result<PurchaseOrder, PluginError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(PluginError::new(
            "empty-body",
            "the body is empty; send a UBL 2.1 Order document",
        ));
    }
    // UTF-16, which XML 1.0 requires a reader to take, becomes UTF-8 first;
    // errors then point into the UTF-8 text.
    let body = &*jembatan_plugin_sdk::xml::utf8(body)?;
    let mut reader = Reader::from_reader(body);
    let mut namespaces = Namespaces::default();
    let mut draft = OrderDraft::default();
    // The open elements, root first. One byte each, so deep nesting stays cheap.
    let mut stack: Vec<Name> = Vec::with_capacity(16);
    // Text of the innermost element; cleared at every tag, so it only ever holds
    // the text of a leaf (UBL has no mixed content).
    let mut text = String::new();
    // Byte offset where the current element's text begins, for errors about it.
    let mut text_offset = 0;

    loop {
        let tag_offset = reader.buffer_position() as usize;
        let event = match reader.read_event() {
            Ok(resolved) => resolved,
            Err(e) => {
                let at = reader.error_position() as usize;
                return Err(malformed(body, at, &e.to_string()));
            }
        };
        let closes = matches!(event, Event::End(_) | Event::Empty(_));
        match event {
            Event::Start(ref start) | Event::Empty(ref start) => {
                namespaces
                    .enter(start, stack.len() + 1)
                    .map_err(|e| malformed(body, tag_offset, &e))?;
                let qname = start.name();
                let (ns, local) = namespaces.resolve(qname.as_ref());
                let name = Name::resolve(ns, local);
                if stack.is_empty() && name != Name::Order {
                    return Err(not_an_order(start, namespaces.uri(qname.as_ref())));
                }
                stack.push(name);
                text.clear();
                text_offset = reader.buffer_position() as usize;
                on_start(&mut draft, &stack[1..], start, tag_offset)
                    .map_err(|f| invalid_value(f, &stack, &draft, body, tag_offset))?;
                if matches!(event, Event::Empty(_)) {
                    on_end(&mut draft, &stack[1..], "")
                        .map_err(|f| invalid_value(f, &stack, &draft, body, tag_offset))?;
                    namespaces.leave(stack.len());
                    stack.pop();
                }
            }
            Event::End(_) => {
                on_end(&mut draft, &stack[1..], text.trim())
                    .map_err(|f| invalid_value(f, &stack, &draft, body, text_offset))?;
                text.clear();
                namespaces.leave(stack.len());
                stack.pop();
            }
            // Only basic (cbc) elements carry values; the whitespace between
            // aggregates is not worth copying.
            Event::Text(t) if is_leaf(&stack) => text.push_str(&t.xml10_content()),
            Event::CData(t) if is_leaf(&stack) => text.push_str(&t.xml10_content()),
            Event::Text(_) | Event::CData(_) => {}
            Event::GeneralRef(r) => {
                let resolved = match r.resolve_char_ref() {
                    Ok(Some(c)) => Some(c),
                    Ok(None) => resolve_predefined_entity(&r).and_then(|s| s.chars().next()),
                    Err(_) => None,
                };
                match resolved {
                    Some(c) => text.push(c),
                    None => {
                        return Err(malformed(
                            body,
                            tag_offset,
                            &format!("unknown entity or character reference &{};", &*r),
                        ));
                    }
                }
            }
            Event::Eof => {
                return Err(malformed(
                    body,
                    body.len(),
                    &match stack.last() {
                        None => "there is no root element".to_owned(),
                        Some(_) => format!(
                            "the document ends before {} is closed",
                            element_path(&stack, &draft)
                        ),
                    },
                ));
            }
            Event::Decl(_) | Event::PI(_) | Event::DocType(_) | Event::Comment(_) => {}
        }
        // The root closed: the order is complete; anything after it is not read.
        if stack.is_empty() && closes {
            break;
        }
    }
    draft.finish(config, body)
}

fn is_leaf(stack: &[Name]) -> bool {
    stack.last().is_some_and(|name| name.is_basic())
}

fn malformed(body: &[u8], offset: usize, what: &str) -> PluginError {
    PluginError::at_offset(
        "malformed-xml",
        format!("the body is not well-formed XML: {what}"),
        body,
        offset,
    )
}

fn not_an_order(root: &BytesStart<'_>, uri: Option<&str>) -> PluginError {
    let qname = root.name().as_ref().to_owned();
    let namespace = match uri {
        Some(uri) => Cow::Owned(format!("in namespace {uri}")),
        None => Cow::Borrowed("in no namespace"),
    };
    PluginError::new(
        "not-an-order",
        format!(
            "the document's root element is <{qname}> {namespace}; expected a UBL 2.1 \
             <Order> in namespace {ORDER}"
        ),
    )
    .at_path(format!("/{qname}"))
}

fn invalid_value(
    fault: Fault,
    stack: &[Name],
    draft: &OrderDraft,
    body: &[u8],
    offset: usize,
) -> PluginError {
    let mut path = element_path(stack, draft);
    if let Some(attribute) = fault.attribute {
        path.push_str("/@");
        path.push_str(attribute);
    }
    PluginError::at_offset(
        "invalid-value",
        format!("{path}: {}", fault.message),
        body,
        offset,
    )
    .at_path(path)
}

/// `/Order/cac:OrderLine[3]/cac:LineItem/cbc:Quantity`, with the conventional
/// prefixes whatever the document used. Only on error paths, so it may allocate.
fn element_path(stack: &[Name], draft: &OrderDraft) -> String {
    let mut path = String::new();
    for (depth, name) in stack.iter().enumerate() {
        path.push('/');
        path.push_str(name.qualified());
        if depth == 1 && *name == Name::OrderLine {
            path.push_str(&format!("[{}]", draft.lines.len()));
        }
    }
    path
}
