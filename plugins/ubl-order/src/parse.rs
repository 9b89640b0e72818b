//! Streaming the XML with quick-xml: one pass, no DOM, names resolved by namespace.
//!
//! The document is a UBL `Order`, or a Standard Business Document whose header is
//! read (as `peppol-sbdh` extensions and the few fields it fills) and whose payload
//! is that `Order`. Every leaf element the mapping does not take becomes an
//! extension with its path, text and attributes, so nothing read is dropped.

use std::borrow::Cow;

use jembatan_plugin_sdk::{
    Location, Normalized, PluginError, Transaction, TransactionId, line_column,
};
use quick_xml::Reader;
use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::{BytesStart, Event};

use crate::Config;
use crate::attributes::Attributes;
use crate::draft::OrderDraft;
use crate::map::{Fault, Leaf, on_end, on_start, sbdh_leaf};
use crate::names::{Name, ORDER};
use crate::ns::Namespaces;

/// The namespaces of the UBL 2 documents are this, the document's name, `-2`.
const UBL_DOCUMENT: &str = "urn:oasis:names:specification:ubl:schema:xsd:";

/// Why reading stopped before the document's end.
enum Stop {
    /// The body cannot be read (it is not well-formed XML, or not UBL): the
    /// whole message is refused.
    Unreadable(PluginError),
    /// The Order was read, but not into an order: the transaction is refused.
    Refused(PluginError),
}

/// The UBL document in the body, bare or as the payload of an SBDH.
struct Document {
    /// Its element's local name: `Order`, `Invoice`, `OrderCancellation` …
    kind: String,
    /// Its place in the stack of open elements: 0 bare, 1 inside an SBDH.
    at: usize,
    /// Where its start tag is, and its path.
    offset: usize,
    path: String,
    /// A document other than an Order: its own `cbc:ID`, its control number when
    /// the SBDH gives none.
    id: Option<String>,
}

/// What reading the body found.
#[derive(Default)]
struct Found {
    document: Option<Document>,
    draft: OrderDraft,
}

/// Reads one UBL document, bare or inside an SBDH: one transaction.
///
/// An `Order` is the order, or refused with what is wrong and where; an
/// `OrderCancellation` or `OrderChange` is refused (`unsupported-purpose`), and
/// any other UBL document (`Invoice`, `OrderResponse` …) is not an order. The
/// message is refused whole when it is empty, not well-formed XML, or not a UBL
/// document at all.
pub fn parse(body: &[u8], config: &Config) -> Result<Normalized, PluginError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(PluginError::new(
            "empty-body",
            "the body is empty; send a UBL 2.1 Order document",
        ));
    }
    // UTF-16, which XML 1.0 requires a reader to take, becomes UTF-8 first;
    // errors then point into the UTF-8 text.
    let body = &*jembatan_plugin_sdk::xml::utf8(body)?;
    let mut found = Found::default();
    let read = read(body, &mut found);
    let Some(document) = found.document else {
        return Err(match read {
            Err(Stop::Unreadable(e) | Stop::Refused(e)) => e,
            Ok(()) => PluginError::new(
                "not-an-order",
                format!(
                    "the Standard Business Document carries no UBL <Order> in namespace {ORDER}"
                ),
            )
            .at_path("/sbdh:StandardBusinessDocument"),
        });
    };
    let draft = found.draft;
    let (line, column) = line_column(body, document.offset);
    let control_number =
        draft
            .instance_identifier
            .clone()
            .or_else(|| match document.kind.as_str() {
                "Order" => draft.order.number.clone(),
                _ => document.id.clone(),
            });
    let mut id = TransactionId::new(0).at(Location {
        line: Some(line),
        column: Some(column),
        offset: Some(document.offset as u64),
        path: Some(document.path.clone()),
    });
    id.control_number = control_number;
    let transaction = match (read, document.kind.as_str()) {
        (Err(Stop::Unreadable(e)), _) => return Err(e),
        (Err(Stop::Refused(e)), _) => Transaction::refused(id, e),
        // `finish` gives the order the same control number.
        (Ok(()), "Order") => Transaction::from_result(id, draft.finish(config, body)),
        // Design decision 14: a cancellation or change never disappears as "not
        // an order"; it is refused, visible and replayable once supported.
        (Ok(()), kind @ ("OrderCancellation" | "OrderChange")) => Transaction::refused(
            id,
            PluginError::at_offset(
                "unsupported-purpose",
                format!("the document is a UBL {kind}; this plugin reads new orders (Order) only"),
                body,
                document.offset,
            )
            .at_path(document.path),
        ),
        (Ok(()), kind) => Transaction::not_an_order(id, kind, None),
    };
    Ok(Normalized::new(vec![transaction]))
}

/// Reads the body to the end of its root element into `found`.
fn read(body: &[u8], found: &mut Found) -> Result<(), Stop> {
    let unreadable = |e: PluginError| Stop::Unreadable(e);
    let draft = &mut found.draft;
    let mut reader = Reader::from_reader(body);
    let mut namespaces = Namespaces::default();
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
    let mut attributes = Attributes::default();
    // No element started since the last start tag: the element ending is a leaf.
    let mut leaf = false;

    loop {
        let tag_offset = reader.buffer_position() as usize;
        let event = match reader.read_event() {
            Ok(resolved) => resolved,
            Err(e) => {
                let at = reader.error_position() as usize;
                return Err(unreadable(malformed(body, at, &e.to_string())));
            }
        };
        let closes = matches!(event, Event::End(_) | Event::Empty(_));
        // Inside a document other than an Order, nothing is mapped.
        let other_at = found
            .document
            .as_ref()
            .filter(|d| d.kind != "Order")
            .map(|d| d.at);
        match event {
            Event::Start(ref start) | Event::Empty(ref start) => {
                namespaces
                    .enter(start, stack.len() + 1)
                    .map_err(|e| unreadable(malformed(body, tag_offset, &e)))?;
                let qname = start.name();
                let qname = qname.as_ref();
                let (ns, local) = namespaces.resolve(qname);
                let name = Name::resolve(ns, local);
                let document_here = match (stack.as_slice(), name) {
                    ([], Name::StandardBusinessDocument) => false,
                    ([], _) => true,
                    ([Name::StandardBusinessDocument], Name::StandardBusinessDocumentHeader) => {
                        false
                    }
                    ([Name::StandardBusinessDocument], _) if found.document.is_some() => {
                        return Err(unreadable(not_an_order(start, namespaces.uri(qname))));
                    }
                    ([Name::StandardBusinessDocument], _) => true,
                    _ => false,
                };
                let kind = match document_here {
                    true => match ubl_document(local, namespaces.uri(qname)) {
                        Some(kind) => Some(kind),
                        None => {
                            return Err(unreadable(not_an_order(start, namespaces.uri(qname))));
                        }
                    },
                    false => None,
                };
                if name == Name::Order && document_here {
                    order_at = Some(stack.len());
                    path.start_order();
                }
                stack.push(name);
                path.enter(name, qname);
                if let Some(kind) = kind {
                    found.document = Some(Document {
                        kind,
                        at: stack.len() - 1,
                        offset: tag_offset,
                        path: path.full().to_owned(),
                        id: None,
                    });
                }
                text.clear();
                text_offset = reader.buffer_position() as usize;
                read_attributes(start, &mut attributes)
                    .map_err(|e| unreadable(malformed(body, tag_offset, &e)))?;
                leaf = true;
                if let Some(at) = order_at {
                    on_start(draft, &stack[at + 1..], tag_offset)
                        .map_err(|f| Stop::Refused(invalid_value(f, &path, body, tag_offset)))?;
                }
                if matches!(event, Event::Empty(_)) {
                    if other_at.is_none() {
                        end_element(draft, &stack, order_at, &path, "", &attributes, true)
                            .map_err(|f| {
                                Stop::Refused(invalid_value(f, &path, body, tag_offset))
                            })?;
                    }
                    namespaces.leave(stack.len());
                    stack.pop();
                    path.leave();
                    leaf = false;
                }
            }
            Event::End(_) => {
                match (other_at, found.document.as_mut()) {
                    (Some(at), Some(document)) if stack.len() > at => {
                        // The document's own `cbc:ID`, a direct child.
                        if stack.len() == at + 2 && stack.last() == Some(&Name::ID) {
                            document.id.get_or_insert_with(|| text.trim().to_owned());
                        }
                    }
                    _ => end_element(
                        draft,
                        &stack,
                        order_at,
                        &path,
                        text.trim(),
                        &attributes,
                        leaf,
                    )
                    .map_err(|f| Stop::Refused(invalid_value(f, &path, body, text_offset)))?,
                }
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
                        return Err(unreadable(malformed(
                            body,
                            tag_offset,
                            &format!("unknown entity or character reference &{};", &*r),
                        )));
                    }
                }
            }
            Event::Eof => {
                return Err(unreadable(malformed(
                    body,
                    body.len(),
                    &match stack.last() {
                        None => "there is no root element".to_owned(),
                        Some(_) => format!("the document ends before {} is closed", path.full()),
                    },
                )));
            }
            Event::Decl(_) | Event::PI(_) | Event::DocType(_) | Event::Comment(_) => {}
        }
        // The root closed: the document is complete; anything after it is not read.
        if stack.is_empty() && closes {
            return Ok(());
        }
    }
}

/// The name of the UBL 2 document whose element is `local` in namespace `uri`
/// (`Order`, `Invoice` …), or `None` when it is not one.
fn ubl_document(local: &str, uri: Option<&str>) -> Option<String> {
    let name = uri?.strip_prefix(UBL_DOCUMENT)?.strip_suffix("-2")?;
    (name == local && !name.starts_with("Common")).then(|| name.to_owned())
}

/// An element ends: the mapping takes it, or a leaf it does not take becomes an
/// extension (`ubl` inside the Order, `peppol-sbdh` in the header).
fn end_element(
    draft: &mut OrderDraft,
    stack: &[Name],
    order_at: Option<usize>,
    path: &Path,
    text: &str,
    attributes: &Attributes,
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
fn read_attributes(start: &BytesStart<'_>, attributes: &mut Attributes) -> Result<(), String> {
    attributes.clear();
    if start.attributes_raw().trim_ascii().is_empty() {
        return Ok(());
    }
    for attribute in start.attributes() {
        let attribute = attribute.map_err(|e| e.to_string())?;
        let key = attribute.key.as_ref();
        if key == "xmlns" || key.starts_with("xmlns:") || key.starts_with("xsi:") {
            continue;
        }
        let value = attribute
            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
            .map_err(|e| e.to_string())?;
        attributes.insert(key, value.trim());
    }
    Ok(())
}

/// The path of the current element, `/Order/cac:OrderLine[3]/cac:LineItem/cbc:Quantity`,
/// with the conventional prefixes whatever the document used (an element of another
/// namespace as written). A repeated element gets its position (`cac:Delivery[2]`);
/// an order line always has one.
///
/// Every element passes through here, so nothing is allocated per element once
/// the buffers have grown: the sibling names are kept in one string, as stacks
/// that an element's leaving truncates.
#[derive(Default)]
struct Path {
    text: String,
    /// Per open element, where its own state starts in the buffers below.
    open: Vec<Open>,
    /// How often each child name of the open elements has started so far, the
    /// innermost element's last; each one's name is a range of `names`.
    tallies: Vec<Tally>,
    names: String,
    /// Where the Order's own path starts in `text` (after an SBDH root).
    order_start: usize,
}

/// Where an open element's state starts: its segment in `Path::text`, the
/// tallies of its children in `Path::tallies`, their names in `Path::names`.
struct Open {
    text: usize,
    tallies: usize,
    names: usize,
}

/// A child name seen under an open element, and how often it has started.
struct Tally {
    name: Name,
    /// Its segment, a range of `Path::names`.
    segment: std::ops::Range<usize>,
    count: u32,
}

impl Tally {
    /// Whether an element `name` with `segment` is one of these siblings. Two
    /// names the plugin knows have the same segment only when they are the same
    /// name, so only an `Other` needs its segment compared.
    fn counts(&self, name: Name, segment: &str, names: &str) -> bool {
        match (self.name, name) {
            (Name::Other, _) | (_, Name::Other) => names[self.segment.clone()] == *segment,
            (mine, theirs) => mine == theirs,
        }
    }
}

impl Path {
    fn start_order(&mut self) {
        self.order_start = self.text.len();
    }

    fn enter(&mut self, name: Name, qname: &str) {
        let segment = match name {
            Name::Order => "Order",
            Name::Other => qname,
            _ => name.qualified(),
        };
        // Siblings are told apart by their segment as written in the path, so an
        // element of another namespace written `cbc:ID` counts with the `cbc:ID`s.
        let position = match self.open.last() {
            Some(parent) => {
                let names = &self.names;
                let siblings = &mut self.tallies[parent.tallies..];
                match siblings
                    .iter_mut()
                    .find(|tally| tally.counts(name, segment, names))
                {
                    Some(tally) => {
                        tally.count += 1;
                        tally.count
                    }
                    None => {
                        let start = self.names.len();
                        self.names.push_str(segment);
                        self.tallies.push(Tally {
                            name,
                            segment: start..self.names.len(),
                            count: 1,
                        });
                        1
                    }
                }
            }
            None => 1,
        };
        self.open.push(Open {
            text: self.text.len(),
            tallies: self.tallies.len(),
            names: self.names.len(),
        });
        self.text.push('/');
        self.text.push_str(segment);
        if position > 1 || name == Name::OrderLine {
            push_position(&mut self.text, position);
        }
    }

    fn leave(&mut self) {
        if let Some(open) = self.open.pop() {
            self.text.truncate(open.text);
            self.tallies.truncate(open.tallies);
            self.names.truncate(open.names);
        }
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

/// Appends `[position]` to a path. Every order line has one; `write!` took
/// several times as long, through the formatting machinery.
fn push_position(path: &mut String, position: u32) {
    path.push('[');
    path.push_str(itoa::Buffer::new().format(position));
    path.push(']');
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_written_in_decimal() {
        for position in [0, 1, 9, 10, 99, 100, 4_294_967_295] {
            let mut path = "/a".to_owned();
            push_position(&mut path, position);
            assert_eq!(path, format!("/a[{position}]"));
        }
    }

    #[test]
    fn siblings_are_counted_by_their_segment() {
        /// The path of a leaf entered (and left) under the current element.
        fn at(path: &mut Path, name: Name, qname: &str) -> String {
            path.enter(name, qname);
            let full = path.full().to_owned();
            path.leave();
            full
        }
        let mut path = Path::default();
        path.enter(Name::Order, "o:Order");
        assert_eq!(at(&mut path, Name::ID, "cbc:ID"), "/Order/cbc:ID");
        // An element of another namespace written `cbc:ID`, and a `cbc:ID` in the
        // default namespace: both are counted with the `cbc:ID`s.
        assert_eq!(at(&mut path, Name::Other, "cbc:ID"), "/Order/cbc:ID[2]");
        assert_eq!(at(&mut path, Name::ID, "ID"), "/Order/cbc:ID[3]");
        assert_eq!(at(&mut path, Name::Other, "x:ID"), "/Order/x:ID");
        assert_eq!(at(&mut path, Name::Other, "Order"), "/Order/Order");

        path.enter(Name::OrderLine, "cac:OrderLine");
        assert_eq!(
            at(&mut path, Name::Other, "x:E"),
            "/Order/cac:OrderLine[1]/x:E"
        );
        assert_eq!(
            at(&mut path, Name::Other, "x:E"),
            "/Order/cac:OrderLine[1]/x:E[2]"
        );
        path.leave();
        path.enter(Name::OrderLine, "cac:OrderLine");
        assert_eq!(
            at(&mut path, Name::Other, "x:E"),
            "/Order/cac:OrderLine[2]/x:E",
            "a new parent counts its children afresh"
        );
        path.leave();
        assert_eq!(at(&mut path, Name::Other, "x:ID"), "/Order/x:ID[2]");
    }
}
