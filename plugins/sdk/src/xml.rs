//! A small streaming XML reader for plugins (feature `xml`): one pass over the
//! body with quick-xml, no DOM, errors already in [`PluginError`] form.
//!
//! It turns quick-xml's events into the two a mapping needs: an element starts
//! (with its attributes) and an element ends (with the text directly inside it).
//! Entity and character references are resolved, an empty element `<a/>` is a
//! start followed by an end, and reading stops when the root closes. It does not
//! resolve namespaces: the formats it serves (cXML, buyers' own XML) match on
//! local names, which makes any prefix work. A plugin that must tell namespaces
//! apart (UBL) resolves them itself from the root's `xmlns` attributes.
//!
//! A body in UTF-16 goes through [`utf8`] first (the readers below take UTF-8):
//!
//! ```ignore
//! let body = xml::utf8(body)?;
//! let mut xml = XmlReader::new(&body);
//! while let Some(event) = xml.next()? {
//!     match event {
//!         XmlEvent::Start { local, element, depth, .. } => { /* attributes */ }
//!         XmlEvent::End { local, text, depth, .. } => { /* text.trim() */ }
//!     }
//! }
//! ```

use std::borrow::Cow;

use quick_xml::Reader;
use quick_xml::escape::resolve_predefined_entity;
pub use quick_xml::events::BytesStart;
use quick_xml::events::Event;

use crate::PluginError;

/// What happened at the current position.
#[derive(Debug)]
pub enum XmlEvent<'r, 'a> {
    /// An element starts.
    Start {
        /// The start tag; read attributes with [`attribute`].
        element: &'r BytesStart<'a>,
        /// The name without its prefix.
        local: &'r str,
        /// 1 for the root.
        depth: usize,
        /// Byte offset of the `<`.
        offset: usize,
        /// Character data between the previous tag and this one (mixed content).
        text: &'r str,
    },
    /// An element ends.
    End {
        /// The name without its prefix.
        local: &'r str,
        /// 1 for the root.
        depth: usize,
        /// Character data between the previous tag and this end tag, untrimmed;
        /// for a leaf element, its whole content.
        text: &'r str,
        /// Byte offset where that text begins, for errors about the value.
        text_offset: usize,
    },
}

/// Reads `body` one event at a time; see the module documentation.
pub struct XmlReader<'a> {
    reader: Reader<&'a [u8]>,
    body: &'a [u8],
    /// Qualified names of the open elements, root first. The strings are reused
    /// (`depth` says how many are live), so a steady document allocates nothing.
    names: Vec<String>,
    depth: usize,
    /// Character data since the last tag.
    text: String,
    text_offset: usize,
    /// The text was handed out with the last event; clear it before reading on.
    clear_text: bool,
    /// The start tag just returned, kept for the event's borrow.
    current: Option<BytesStart<'a>>,
    /// The last start was `<a/>`: its end comes next.
    pending_end: bool,
    done: bool,
}

impl<'a> XmlReader<'a> {
    /// A reader over the whole body.
    pub fn new(body: &'a [u8]) -> Self {
        Self {
            reader: Reader::from_reader(body),
            body,
            names: Vec::with_capacity(16),
            depth: 0,
            text: String::new(),
            text_offset: 0,
            clear_text: false,
            current: None,
            pending_end: false,
            done: false,
        }
    }

    /// The next start or end; `None` once the root element has closed (anything
    /// after it is not read).
    #[allow(clippy::should_implement_trait)] // a lending iterator: events borrow the reader
    pub fn next(&mut self) -> Result<Option<XmlEvent<'_, 'a>>, PluginError> {
        if self.clear_text {
            self.text.clear();
            self.clear_text = false;
        }
        if self.pending_end {
            self.pending_end = false;
            self.text_offset = self.reader.buffer_position() as usize;
            return Ok(Some(self.end()));
        }
        if self.done {
            return Ok(None);
        }
        loop {
            let tag_offset = self.reader.buffer_position() as usize;
            let event = match self.reader.read_event() {
                Ok(event) => event,
                Err(e) => {
                    let at = self.reader.error_position() as usize;
                    return Err(malformed(self.body, at, &e.to_string()));
                }
            };
            match event {
                Event::Start(start) => return Ok(Some(self.start(start, tag_offset, false))),
                Event::Empty(start) => return Ok(Some(self.start(start, tag_offset, true))),
                // quick-xml has checked that the end tag matches the start.
                Event::End(_) => return Ok(Some(self.end())),
                Event::Text(t) => self.text.push_str(&t.xml10_content()),
                Event::CData(t) => self.text.push_str(&t.xml10_content()),
                Event::GeneralRef(r) => {
                    let resolved = match r.resolve_char_ref() {
                        Ok(Some(c)) => Some(c),
                        Ok(None) => resolve_predefined_entity(&r).and_then(|s| s.chars().next()),
                        Err(_) => None,
                    };
                    match resolved {
                        Some(c) => self.text.push(c),
                        None => {
                            return Err(malformed(
                                self.body,
                                tag_offset,
                                &format!("unknown entity or character reference &{};", &*r),
                            ));
                        }
                    }
                }
                Event::Eof => {
                    let what = if self.depth == 0 {
                        "there is no root element".to_owned()
                    } else {
                        format!(
                            "the document ends before <{}> is closed",
                            self.names[self.depth - 1]
                        )
                    };
                    let mut error = malformed(self.body, self.body.len(), &what);
                    if self.depth > 0 {
                        error = error.at_path(self.path());
                    }
                    return Err(error);
                }
                Event::Decl(_) | Event::PI(_) | Event::DocType(_) | Event::Comment(_) => {}
            }
        }
    }

    /// `/cXML/Request/OrderRequest`: the qualified names of the open elements.
    /// For error messages, so it allocates.
    pub fn path(&self) -> String {
        let mut path = String::new();
        for name in &self.names[..self.depth] {
            path.push('/');
            path.push_str(name);
        }
        path
    }

    /// The whole body, for [`PluginError::at_offset`].
    pub fn body(&self) -> &'a [u8] {
        self.body
    }

    fn start(&mut self, start: BytesStart<'a>, offset: usize, empty: bool) -> XmlEvent<'_, 'a> {
        if self.names.len() == self.depth {
            self.names.push(String::new());
        }
        let slot = &mut self.names[self.depth];
        slot.clear();
        slot.push_str(start.name().as_ref());
        self.depth += 1;
        self.pending_end = empty;
        self.current = Some(start);
        // The text before this tag goes out with the event; the element's own
        // text starts after the tag.
        self.clear_text = true;
        self.text_offset = self.reader.buffer_position() as usize;
        XmlEvent::Start {
            element: self.current.as_ref().expect("set above"),
            local: local_name(&self.names[self.depth - 1]),
            depth: self.depth,
            offset,
            text: &self.text,
        }
    }

    fn end(&mut self) -> XmlEvent<'_, 'a> {
        let depth = self.depth;
        self.depth -= 1;
        self.done = self.depth == 0;
        self.clear_text = true;
        let text_offset = self.text_offset;
        self.text_offset = self.reader.buffer_position() as usize;
        XmlEvent::End {
            local: local_name(&self.names[depth - 1]),
            depth,
            text: &self.text,
            text_offset,
        }
    }
}

/// The value of attribute `name` (qualified name, as written), with references
/// resolved and whitespace normalized as XML 1.0 prescribes; `Err` says why it
/// cannot be read.
pub fn attribute<'e>(
    element: &'e BytesStart<'_>,
    name: &str,
) -> Result<Option<Cow<'e, str>>, String> {
    let Some(attribute) = element
        .try_get_attribute(name)
        .map_err(|e| format!("unreadable attributes: {e}"))?
    else {
        return Ok(None);
    };
    attribute
        .normalized_value(quick_xml::XmlVersion::Implicit1_0)
        .map(Some)
        .map_err(|e| format!("unreadable attribute {name}: {e}"))
}

/// The body as UTF-8. XML 1.0 requires every processor to read UTF-16 as well
/// (section 4.3.3), and Appendix F says how to tell it from the first bytes: a
/// byte order mark (`FF FE` little-endian, `FE FF` big-endian), or without one
/// `<?` as two 16-bit units. Such a body is decoded, without its mark; any other
/// body is returned as it is. The declaration's `encoding="UTF-16"` may stay: the
/// readers here read the bytes they are given as UTF-8. Errors found later point
/// into the decoded text.
pub fn utf8(body: &[u8]) -> Result<Cow<'_, [u8]>, PluginError> {
    let (little_endian, skip) = match body {
        [0xFF, 0xFE, ..] => (true, 2),
        [0xFE, 0xFF, ..] => (false, 2),
        [b'<', 0, b'?', 0, ..] => (true, 0),
        [0, b'<', 0, b'?', ..] => (false, 0),
        _ => return Ok(Cow::Borrowed(body)),
    };
    let data = &body[skip..];
    if !data.len().is_multiple_of(2) {
        return Err(not_utf16(body.len() - 1, "it ends with an odd byte"));
    }
    let units = data.chunks_exact(2).map(|pair| {
        if little_endian {
            u16::from_le_bytes([pair[0], pair[1]])
        } else {
            u16::from_be_bytes([pair[0], pair[1]])
        }
    });
    let mut text = String::with_capacity(data.len());
    let mut offset = skip;
    for decoded in char::decode_utf16(units) {
        match decoded {
            Ok(c) => {
                text.push(c);
                offset += 2 * c.len_utf16();
            }
            Err(_) => return Err(not_utf16(offset, "an unpaired surrogate")),
        }
    }
    Ok(Cow::Owned(text.into_bytes()))
}

fn not_utf16(offset: usize, what: &str) -> PluginError {
    PluginError::new(
        "malformed-xml",
        format!("the body starts as UTF-16 but is not: {what} at byte {offset}"),
    )
}

/// A `malformed-xml` error at `offset`, with line and column.
pub fn malformed(body: &[u8], offset: usize, what: &str) -> PluginError {
    PluginError::at_offset(
        "malformed-xml",
        format!("the body is not well-formed XML: {what}"),
        body,
        offset,
    )
}

/// The name without its prefix: `cxml:ItemOut` → `ItemOut`.
pub fn local_name(qname: &str) -> &str {
    qname.rsplit_once(':').map_or(qname, |(_, local)| local)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every event as a line: `+name@depth[text]` or `-name@depth[text]`.
    fn trace(body: &str) -> Result<Vec<String>, PluginError> {
        let mut xml = XmlReader::new(body.as_bytes());
        let mut out = Vec::new();
        while let Some(event) = xml.next()? {
            out.push(match event {
                XmlEvent::Start {
                    local,
                    depth,
                    text,
                    element,
                    ..
                } => {
                    let id = attribute(element, "id").unwrap().unwrap_or_default();
                    format!("+{local}@{depth}[{}]{id}", text.trim())
                }
                XmlEvent::End {
                    local, depth, text, ..
                } => format!("-{local}@{depth}[{}]", text.trim()),
            });
        }
        Ok(out)
    }

    #[test]
    fn events_carry_names_depths_and_text() {
        let body = "<?xml version=\"1.0\"?><!DOCTYPE a><p:a><b id=\"x&amp;y\">1 &lt; 2</b><c/>mixed<d>z</d></p:a><after/>";
        assert_eq!(
            trace(body).unwrap(),
            [
                "+a@1[]",
                "+b@2[]x&y",
                "-b@2[1 < 2]",
                "+c@2[]",
                "-c@2[]",
                "+d@2[mixed]",
                "-d@2[z]",
                "-a@1[]"
            ]
        );
    }

    /// `text` in UTF-16, with or without a byte order mark.
    fn utf16(text: &str, little_endian: bool, bom: bool) -> Vec<u8> {
        let units = bom.then_some(0xFEFF).into_iter().chain(text.encode_utf16());
        units
            .flat_map(|u| {
                if little_endian {
                    u.to_le_bytes()
                } else {
                    u.to_be_bytes()
                }
            })
            .collect()
    }

    #[test]
    fn utf16_bodies_are_read_as_xml_1_0_requires() {
        let text =
            "<?xml version=\"1.0\" encoding=\"UTF-16\"?><a><b id=\"𝄞\">Kursi rotan ✓</b></a>";
        for (little_endian, bom) in [(true, true), (false, true), (true, false), (false, false)] {
            let body = utf16(text, little_endian, bom);
            let decoded = utf8(&body).unwrap();
            assert_eq!(std::str::from_utf8(&decoded).unwrap(), text);
            let events = trace(std::str::from_utf8(&decoded).unwrap()).unwrap();
            assert_eq!(events[1], "+b@2[]𝄞", "{little_endian} {bom}");
            assert_eq!(events[2], "-b@2[Kursi rotan ✓]");
        }
        // UTF-8 is handed back untouched, without a copy.
        assert!(matches!(utf8(text.as_bytes()).unwrap(), Cow::Borrowed(_)));
        // Broken UTF-16 is malformed XML that says where.
        let mut odd = utf16("<a/>", true, true);
        odd.push(b'x');
        let err = utf8(&odd).unwrap_err();
        assert_eq!(err.code, "malformed-xml");
        assert!(err.message.contains("odd byte at byte 10"), "{err}");
        let mut lone = utf16("<a>", true, true);
        lone.extend_from_slice(&0xD800u16.to_le_bytes());
        lone.extend_from_slice(&utf16("</a>", true, false));
        let err = utf8(&lone).unwrap_err();
        assert!(
            err.message.contains("unpaired surrogate at byte 8"),
            "{err}"
        );
    }

    #[test]
    fn errors_are_malformed_xml_with_a_place() {
        let err = trace("<a>\n<b></c></a>").unwrap_err();
        assert_eq!(
            (err.code.as_str(), err.location.unwrap().line),
            ("malformed-xml", Some(2))
        );
        let err = trace("<a><b>text").unwrap_err();
        assert!(err.message.contains("<b> is closed"), "{err}");
        assert_eq!(err.location.unwrap().path.as_deref(), Some("/a/b"));
        assert!(trace("<a>&nbsp;</a>").unwrap_err().message.contains("nbsp"));
        assert!(trace("").unwrap_err().message.contains("no root"));
    }
}
