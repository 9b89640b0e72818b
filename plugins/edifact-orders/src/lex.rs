//! Splitting an EDIFACT interchange into segments, elements and components, in
//! one pass over the bytes.
//!
//! The service characters come from the UNA service string advice when there is
//! one, else they are the ISO 9735 defaults `:+.? '`. A release character makes
//! the next byte plain data, so `?+` inside a value is a `+`, not a separator;
//! values keep their escapes as slices of the body and are unescaped only when read.

use std::borrow::Cow;

use edi_common::{describe, error_at};
use jembatan_plugin_sdk::PluginError;

/// The service characters of an interchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Syntax {
    pub component: u8,
    pub element: u8,
    pub decimal: u8,
    pub release: Option<u8>,
    pub segment: u8,
}

impl Default for Syntax {
    /// ISO 9735's defaults, used when there is no UNA.
    fn default() -> Self {
        Self {
            component: b':',
            element: b'+',
            decimal: b'.',
            release: Some(b'?'),
            segment: b'\'',
        }
    }
}

/// One segment as slices of the body: `parts` holds every component in order,
/// `starts[e]` the index in `parts` of element `e`'s first component.
#[derive(Debug, Default)]
pub struct Segment<'a> {
    parts: Vec<&'a [u8]>,
    starts: Vec<usize>,
    /// Byte offset of the tag in the body.
    pub offset: usize,
    release: Option<u8>,
    /// Whether text that is not UTF-8 is read as ISO 8859-1 (syntax UNOC).
    latin1: bool,
}

impl<'a> Segment<'a> {
    /// The raw bytes of component `c` (1-based) of element `e` (0 is the tag).
    pub fn raw(&self, e: usize, c: usize) -> &'a [u8] {
        let Some(&start) = self.starts.get(e) else {
            return b"";
        };
        let end = self.starts.get(e + 1).copied().unwrap_or(self.parts.len());
        match c.checked_sub(1).map(|c| start + c) {
            Some(i) if i < end => self.parts[i],
            _ => b"",
        }
    }

    /// The segment tag, e.g. `LIN`.
    pub fn tag(&self) -> &'a str {
        std::str::from_utf8(self.raw(0, 1)).unwrap_or("")
    }

    /// How many elements follow the tag.
    pub fn elements(&self) -> usize {
        self.starts.len().saturating_sub(1)
    }

    /// Component `c` of element `e`, unescaped and decoded; empty when absent.
    pub fn text(&self, e: usize, c: usize) -> Cow<'a, str> {
        let raw = self.raw(e, c);
        let escaped = self.release.is_some_and(|r| raw.contains(&r));
        if !escaped && let Ok(text) = std::str::from_utf8(raw) {
            return Cow::Borrowed(text);
        }
        let mut bytes = Vec::with_capacity(raw.len());
        let mut iter = raw.iter();
        while let Some(&b) = iter.next() {
            if Some(b) == self.release {
                bytes.extend(iter.next());
            } else {
                bytes.push(b);
            }
        }
        match String::from_utf8(bytes) {
            Ok(text) => Cow::Owned(text),
            // The lexer refuses non-UTF-8 unless the charset is UNOC (Latin-1).
            Err(e) => Cow::Owned(e.into_bytes().iter().map(|&b| b as char).collect()),
        }
    }

    /// Component `c` of element `e` if present and not empty.
    pub fn opt(&self, e: usize, c: usize) -> Option<Cow<'a, str>> {
        Some(self.text(e, c)).filter(|t| !t.is_empty())
    }

    /// The offset in `body` of component `c` of element `e`, or of the segment.
    pub fn offset_of(&self, e: usize, c: usize, body: &[u8]) -> usize {
        let raw = self.raw(e, c);
        if raw.is_empty() {
            return self.offset;
        }
        (raw.as_ptr() as usize).saturating_sub(body.as_ptr() as usize)
    }
}

/// Reads segments, reusing one [`Segment`]'s buffers.
pub struct Lexer<'a> {
    body: &'a [u8],
    pos: usize,
    pub syntax: Syntax,
    /// Set from UNB01 once it is read.
    pub latin1: bool,
}

impl<'a> Lexer<'a> {
    /// Reads the UNA, if any, and checks that a UNB follows.
    pub fn new(body: &'a [u8]) -> Result<Self, PluginError> {
        let mut pos = edi_common::skip_preamble(body);
        let mut syntax = Syntax::default();
        if body[pos..].starts_with(b"UNA") {
            let Some(&[component, element, decimal, release, _reserved, segment]) =
                body.get(pos + 3..pos + 9)
            else {
                return Err(error_at(
                    "truncated",
                    "the UNA service string advice is cut short: it must hold six characters",
                    body,
                    pos,
                    "UNA",
                ));
            };
            syntax = Syntax {
                component,
                element,
                decimal,
                // A space in the release position means there is no release character.
                release: (release != b' ').then_some(release),
                segment,
            };
            let mut chars = [component, element, segment, decimal].to_vec();
            chars.extend(syntax.release);
            chars.sort_unstable();
            if chars.windows(2).any(|w| w[0] == w[1]) || (decimal != b'.' && decimal != b',') {
                return Err(error_at(
                    "invalid-value",
                    format!(
                        "the UNA {:?} declares a service character twice, or a decimal mark other than '.' or ','",
                        String::from_utf8_lossy(&body[pos..pos + 9])
                    ),
                    body,
                    pos + 3,
                    "UNA",
                ));
            }
            pos += 9;
            while body.get(pos).is_some_and(|&b| b == b'\r' || b == b'\n') {
                pos += 1;
            }
        }
        let input = &body[pos..];
        if !input.starts_with(b"UNB") {
            let (code, message) = if input.is_empty() {
                (
                    "empty-body",
                    "the body is empty; send an EDIFACT ORDERS interchange starting with UNA or UNB".to_owned(),
                )
            } else {
                (
                    "not-edifact",
                    format!(
                        "this is not an EDIFACT interchange: it must start with UNA or UNB, but {}",
                        describe(input)
                    ),
                )
            };
            return Err(PluginError::at_offset(code, message, body, pos));
        }
        Ok(Self {
            body,
            pos,
            syntax,
            latin1: false,
        })
    }

    /// Reads the next segment into `segment`; false at the end of the body. A last
    /// segment without its terminator is still returned, so the envelope check can
    /// say precisely what is missing.
    pub fn next(&mut self, segment: &mut Segment<'a>) -> Result<bool, PluginError> {
        let body = self.body;
        let Syntax {
            component,
            element,
            release,
            segment: terminator,
            ..
        } = self.syntax;
        while let Some(&b) = body.get(self.pos) {
            if matches!(b, b'\r' | b'\n' | b' ' | b'\t') && b != terminator && b != element {
                self.pos += 1;
            } else {
                break;
            }
        }
        if self.pos >= body.len() {
            return Ok(false);
        }
        segment.parts.clear();
        segment.starts.clear();
        segment.starts.push(0);
        segment.offset = self.pos;
        segment.release = release;
        segment.latin1 = self.latin1;
        let mut start = self.pos;
        let mut i = self.pos;
        let mut ascii = true;
        while i < body.len() {
            let b = body[i];
            ascii &= b.is_ascii();
            if Some(b) == release {
                i += 2;
                continue;
            }
            if b == component || b == element || b == terminator {
                segment.parts.push(&body[start..i]);
                start = i + 1;
                if b == element {
                    segment.starts.push(segment.parts.len());
                } else if b == terminator {
                    break;
                }
            }
            i += 1;
        }
        if i >= body.len() {
            segment.parts.push(&body[start.min(body.len())..]);
        }
        self.pos = i + 1;
        let raw = &body[segment.offset..i.min(body.len())];
        if !ascii
            && !self.latin1
            && let Err(e) = std::str::from_utf8(raw)
        {
            return Err(PluginError::at_offset(
                "invalid-encoding",
                "the segment is not UTF-8 text; declare UNOC in UNB if it is ISO 8859-1",
                body,
                segment.offset + e.valid_up_to(),
            ));
        }
        Ok(true)
    }

    /// The byte offset just past the last segment read.
    pub fn position(&self) -> usize {
        self.pos.min(self.body.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segments(body: &[u8]) -> Vec<Vec<Vec<String>>> {
        let mut lexer = Lexer::new(body).unwrap();
        let mut seg = Segment::default();
        let mut out = Vec::new();
        while lexer.next(&mut seg).unwrap() {
            let elements = (0..=seg.elements())
                .map(|e| {
                    (1..)
                        .map_while(|c| {
                            let exists = c == 1 || !seg.raw(e, c).is_empty();
                            exists.then(|| seg.text(e, c).into_owned())
                        })
                        .collect()
                })
                .collect();
            out.push(elements);
        }
        out
    }

    #[test]
    fn default_service_characters_and_release() {
        let out = segments(b"UNB+UNOC:3+A'\r\nFTX+AAI+++Diskon 10?% ?+ ongkir?: gratis?'s'");
        assert_eq!(out[0], [vec!["UNB"], vec!["UNOC", "3"], vec!["A"]]);
        assert_eq!(out[1][4], ["Diskon 10% + ongkir: gratis's"]);
    }

    #[test]
    fn una_changes_every_service_character() {
        let out = segments(b"UNA;*,! ~UNB*UNOC;3~QTY*21;12,5;KGM~FTX*AAI***A!*B!~C~");
        assert_eq!(out[1], [vec!["QTY"], vec!["21", "12,5", "KGM"]]);
        assert_eq!(out[2][4], ["A*B~C"]);
        let lexer = Lexer::new(b"UNA;*,! ~UNB").unwrap();
        assert_eq!(lexer.syntax.decimal, b',');
    }

    #[test]
    fn not_edifact() {
        let err = Lexer::new(b"ISA*00*          *").err().unwrap();
        assert_eq!(err.code, "not-edifact");
        assert!(err.message.contains("X12"), "{}", err.message);
        assert_eq!(Lexer::new(b"UNA:+").err().unwrap().code, "truncated");
        assert_eq!(Lexer::new(b"").err().unwrap().code, "empty-body");
    }
}
