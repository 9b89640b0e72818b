//! Streaming the XML with quick-xml: one pass, no DOM, names resolved by namespace.
//!
//! The document is a UBL `Order`, or a Standard Business Document whose header is
//! read (as `peppol-sbdh` extensions and the few fields it fills) and whose payload
//! is that `Order`. Every leaf element the mapping does not take becomes an
//! extension with its path, text and attributes, so nothing read is dropped.

use std::borrow::Cow;
use std::collections::BTreeMap;

use jembatan_plugin_sdk::{PluginError, PurchaseOrder};
use quick_xml::Reader;
use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::{BytesStart, Event};

use crate::Config;
use crate::draft::OrderDraft;
use crate::map::{Fault, Leaf, on_end, on_start, sbdh_leaf};
use crate::names::{Name, ORDER};
use crate::ns::Namespaces;

/// Reads one UBL Order document, bare or inside an SBDH.
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
    let mut path = Path::default();
    // Where `Order` is in the stack: 0 for a bare order, 1 inside an SBDH.
    let mut order_at: Option<usize> = None;
    // Text of the innermost element; cleared at every tag, so at an end tag it
    // holds the element's text when the element is a leaf (UBL has no mixed content).
    let mut text = String::new();
    // Byte offset where the current element's text begins, for errors about it.
    let mut text_offset = 0;
    // The attributes of the last start tag: a leaf's own at its end tag.
    let mut attributes = BTreeMap::new();
    // No element started since the last start tag: the element ending is a leaf.
    let mut leaf = false;

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
                let qname = qname.as_ref();
                let (ns, local) = namespaces.resolve(qname);
                let name = Name::resolve(ns, local);
                match (stack.as_slice(), name) {
                    ([], Name::Order | Name::StandardBusinessDocument) => {}
                    ([], _) => return Err(not_an_order(start, namespaces.uri(qname))),
                    ([Name::StandardBusinessDocument], Name::Order) if order_at.is_none() => {}
                    ([Name::StandardBusinessDocument], Name::StandardBusinessDocumentHeader) => {}
                    ([Name::StandardBusinessDocument], _) => {
                        return Err(not_an_order(start, namespaces.uri(qname)));
                    }
                    _ => {}
                }
                if name == Name::Order && order_at.is_none() {
                    order_at = Some(stack.len());
                    path.start_order();
                }
                stack.push(name);
                path.enter(name, qname);
                text.clear();
                text_offset = reader.buffer_position() as usize;
                attributes = read_attributes(start).map_err(|e| malformed(body, tag_offset, &e))?;
                leaf = true;
                if let Some(at) = order_at {
                    on_start(&mut draft, &stack[at + 1..], tag_offset)
                        .map_err(|f| invalid_value(f, &path, body, tag_offset))?;
                }
                if matches!(event, Event::Empty(_)) {
                    end_element(&mut draft, &stack, order_at, &path, "", &attributes, true)
                        .map_err(|f| invalid_value(f, &path, body, tag_offset))?;
                    namespaces.leave(stack.len());
                    stack.pop();
                    path.leave();
                    leaf = false;
                }
            }
            Event::End(_) => {
                end_element(
                    &mut draft,
                    &stack,
                    order_at,
                    &path,
                    text.trim(),
                    &attributes,
                    leaf,
                )
                .map_err(|f| invalid_value(f, &path, body, text_offset))?;
                text.clear();
                namespaces.leave(stack.len());
                if stack.last() == Some(&Name::Order) && order_at == Some(stack.len() - 1) {
                    draft.order_closed = true;
                }
                stack.pop();
                path.leave();
                leaf = false;
            }
            Event::Text(t) => text.push_str(&t.xml10_content()),
            Event::CData(t) => text.push_str(&t.xml10_content()),
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
                        Some(_) => format!("the document ends before {} is closed", path.full()),
                    },
                ));
            }
            Event::Decl(_) | Event::PI(_) | Event::DocType(_) | Event::Comment(_) => {}
        }
        // The root closed: the document is complete; anything after it is not read.
        if stack.is_empty() && closes {
            break;
        }
    }
    if !draft.order_closed {
        return Err(PluginError::new(
            "not-an-order",
            format!("the Standard Business Document carries no UBL <Order> in namespace {ORDER}"),
        )
        .at_path("/sbdh:StandardBusinessDocument"));
    }
    draft.finish(config, body)
}

/// An element ends: the mapping takes it, or a leaf it does not take becomes an
/// extension (`ubl` inside the Order, `peppol-sbdh` in the header).
fn end_element(
    draft: &mut OrderDraft,
    stack: &[Name],
    order_at: Option<usize>,
    path: &Path,
    text: &str,
    attributes: &BTreeMap<String, String>,
    is_leaf: bool,
) -> Result<(), Fault> {
    let leaf = Leaf {
        text,
        attributes,
        path: path.order(),
        is_leaf,
    };
    match order_at {
        Some(at) if stack.len() > at => on_end(draft, &stack[at + 1..], &leaf),
        _ => {
            if is_leaf {
                sbdh_leaf(
                    draft,
                    &stack[1..],
                    &Leaf {
                        path: path.full(),
                        ..leaf
                    },
                );
            }
            Ok(())
        }
    }
}

/// The element's attributes as written, but namespace declarations and `xsi:`
/// schema hints, which say nothing about the order.
fn read_attributes(start: &BytesStart<'_>) -> Result<BTreeMap<String, String>, String> {
    let mut attributes = BTreeMap::new();
    if start.attributes_raw().trim_ascii().is_empty() {
        return Ok(attributes);
    }
    for attribute in start.attributes() {
        let attribute = attribute.map_err(|e| e.to_string())?;
        let key = attribute.key.as_ref().to_owned();
        if key == "xmlns" || key.starts_with("xmlns:") || key.starts_with("xsi:") {
            continue;
        }
        let value = attribute
            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
            .map_err(|e| e.to_string())?;
        attributes.insert(key, value.trim().to_owned());
    }
    Ok(attributes)
}

/// The path of the current element, `/Order/cac:OrderLine[3]/cac:LineItem/cbc:Quantity`,
/// with the conventional prefixes whatever the document used (an element of another
/// namespace as written). A repeated element gets its position (`cac:Delivery[2]`);
/// an order line always has one.
#[derive(Default)]
struct Path {
    text: String,
    /// Length of `text` before each open element.
    marks: Vec<usize>,
    /// Per open element, how often each child name has started so far.
    children: Vec<Vec<(String, u32)>>,
    /// Where the Order's own path starts in `text` (after an SBDH root).
    order_start: usize,
}

impl Path {
    fn start_order(&mut self) {
        self.order_start = self.text.len();
    }

    fn enter(&mut self, name: Name, qname: &str) {
        let segment = match name {
            Name::Order => "Order".to_owned(),
            Name::Other => qname.to_owned(),
            _ => name.qualified().to_owned(),
        };
        let position = match self.children.last_mut() {
            Some(siblings) => match siblings.iter_mut().find(|(s, _)| *s == segment) {
                Some((_, count)) => {
                    *count += 1;
                    *count
                }
                None => {
                    siblings.push((segment.clone(), 1));
                    1
                }
            },
            None => 1,
        };
        self.marks.push(self.text.len());
        self.text.push('/');
        self.text.push_str(&segment);
        if position > 1 || name == Name::OrderLine {
            self.text.push_str(&format!("[{position}]"));
        }
        self.children.push(Vec::new());
    }

    fn leave(&mut self) {
        if let Some(mark) = self.marks.pop() {
            self.text.truncate(mark);
        }
        self.children.pop();
    }

    /// From the root element.
    fn full(&self) -> &str {
        &self.text
    }

    /// From the Order element (the whole path before it is reached).
    fn order(&self) -> &str {
        self.text.get(self.order_start..).unwrap_or(&self.text)
    }
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
            "the document's element <{qname}> {namespace} is not a UBL <Order> in \
             namespace {ORDER} (bare, or as the payload of a Standard Business Document)"
        ),
    )
    .at_path(format!("/{qname}"))
}

fn invalid_value(fault: Fault, path: &Path, body: &[u8], offset: usize) -> PluginError {
    let mut path = path.order().to_owned();
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
