//! Splitting an X12 interchange into segments and elements, in one pass.
//!
//! The delimiters are not fixed: the ISA segment declares them by position. Its
//! fourth byte is the element separator, ISA16 (one byte) is the component
//! separator, and the byte right after ISA16 ends every segment. ISA is meant to
//! be fixed-width, but the separators are found by counting elements rather than
//! by fixed offsets, so a sender that forgets the padding is still read.

use edi_common::{describe, error_at, offset_of};
use jembatan_plugin_sdk::PluginError;

/// The delimiters an interchange declared in its ISA.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Delimiters {
    pub element: u8,
    pub component: u8,
    pub segment: u8,
}

/// One segment: its tag and its elements, as slices of the body.
#[derive(Debug, Default)]
pub struct Segment<'a> {
    /// `elements[0]` is the tag (`PO1`); `elements[n]` is element n (`PO1`*n*).
    pub elements: Vec<&'a str>,
    /// Byte offset of the tag in the body.
    pub offset: usize,
}

impl<'a> Segment<'a> {
    /// The segment tag, e.g. `BEG`.
    pub fn tag(&self) -> &'a str {
        self.elements[0]
    }

    /// Element `n` (1-based, as X12 numbers them); empty when absent.
    pub fn get(&self, n: usize) -> &'a str {
        self.elements.get(n).copied().unwrap_or("")
    }

    /// Element `n` if present and not empty.
    pub fn opt(&self, n: usize) -> Option<&'a str> {
        Some(self.get(n)).filter(|e| !e.is_empty())
    }

    /// The offset of element `n` in the body, or the segment's when absent.
    pub fn offset_of(&self, n: usize, body: &[u8]) -> usize {
        match self.elements.get(n) {
            Some(e) => offset_of(body, e),
            None => self.offset,
        }
    }
}

/// Reads segments from an interchange, reusing one [`Segment`]'s buffer.
pub struct Lexer<'a> {
    body: &'a [u8],
    text: &'a str,
    pos: usize,
    pub delimiters: Delimiters,
}

/// The length of `ISA` plus its sixteen elements when padded as the standard says.
const ISA_LEN: usize = 106;

impl<'a> Lexer<'a> {
    /// Finds the ISA at the start of `body` (after an optional BOM and blank lines)
    /// and reads its delimiters.
    pub fn new(body: &'a [u8]) -> Result<Self, PluginError> {
        let start = edi_common::skip_preamble(body);
        let input = &body[start..];
        if !input.starts_with(b"ISA") {
            let message = if input.is_empty() {
                "the body is empty; send an X12 850 interchange starting with ISA".to_owned()
            } else {
                format!(
                    "this is not an X12 interchange: it must start with an ISA segment, but {}",
                    describe(input)
                )
            };
            let code = if input.is_empty() {
                "empty-body"
            } else {
                "not-x12"
            };
            return Err(PluginError::at_offset(code, message, body, start));
        }
        let element = *input.get(3).ok_or_else(|| truncated_isa(body, start))?;
        if element.is_ascii_alphanumeric() || element == b' ' {
            return Err(error_at(
                "invalid-value",
                format!(
                    "the ISA element separator (the byte after \"ISA\") is {:?}; it must not be a letter, digit or space",
                    element as char
                ),
                body,
                start + 3,
                "ISA",
            ));
        }
        // ISA16 follows the sixteenth separator; the segment terminator follows it.
        let mut seen = 0;
        let mut isa16 = None;
        for (i, &b) in input.iter().enumerate().take(ISA_LEN + 64).skip(3) {
            if b == element {
                seen += 1;
                if seen == 16 {
                    isa16 = Some(i + 1);
                    break;
                }
            }
        }
        let isa16 = isa16.ok_or_else(|| truncated_isa(body, start))?;
        let (Some(&component), Some(&segment)) = (input.get(isa16), input.get(isa16 + 1)) else {
            return Err(truncated_isa(body, start));
        };
        if segment == element || segment == component || component == element {
            return Err(error_at(
                "invalid-value",
                format!(
                    "the ISA declares the same delimiter twice (element {:?}, component {:?}, segment {:?})",
                    element as char, component as char, segment as char
                ),
                body,
                start + isa16,
                "ISA/ISA16",
            ));
        }
        let text = std::str::from_utf8(body).map_err(|e| {
            PluginError::at_offset(
                "invalid-encoding",
                "the interchange is not UTF-8 (nor ASCII) text",
                body,
                e.valid_up_to(),
            )
        })?;
        Ok(Self {
            body,
            text,
            pos: start,
            delimiters: Delimiters {
                element,
                component,
                segment,
            },
        })
    }

    /// Reads the next segment into `segment`; false at the end of the body.
    /// A last segment without its terminator is still returned: the envelope
    /// check reports what is missing more precisely than "no terminator" would.
    pub fn next(&mut self, segment: &mut Segment<'a>) -> bool {
        let bytes = self.body;
        let terminator = self.delimiters.segment;
        // Line breaks after terminators are common and carry nothing.
        while let Some(&b) = bytes.get(self.pos) {
            if (b == b'\r' || b == b'\n' || b == b' ' || b == b'\t') && b != terminator {
                self.pos += 1;
            } else {
                break;
            }
        }
        if self.pos >= bytes.len() {
            return false;
        }
        let start = self.pos;
        let end = bytes[start..]
            .iter()
            .position(|&b| b == terminator)
            .map_or(bytes.len(), |i| start + i);
        self.pos = end + 1;
        let mut raw = &self.text[start..end];
        if terminator == b'\n' {
            raw = raw.strip_suffix('\r').unwrap_or(raw);
        }
        segment.offset = start;
        segment.elements.clear();
        segment
            .elements
            .extend(raw.split(self.delimiters.element as char));
        true
    }

    /// The byte offset just past the last segment read.
    pub fn position(&self) -> usize {
        self.pos.min(self.body.len())
    }
}

fn truncated_isa(body: &[u8], start: usize) -> PluginError {
    error_at(
        "truncated",
        "the ISA segment is cut short: it must have 16 elements followed by the segment terminator",
        body,
        start,
        "ISA",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const ISA: &str = "ISA*00*          *00*          *ZZ*SCN            *ZZ*PBG007         *261103*0930*U*00401*000000042*0*P*>~";

    #[test]
    fn delimiters_come_from_the_isa() {
        let body = format!("{ISA}\r\nGS*PO*A*B~");
        let mut lexer = Lexer::new(body.as_bytes()).unwrap();
        assert_eq!(
            lexer.delimiters,
            Delimiters {
                element: b'*',
                component: b'>',
                segment: b'~'
            }
        );
        let mut seg = Segment::default();
        assert!(lexer.next(&mut seg));
        assert_eq!(seg.tag(), "ISA");
        assert_eq!(seg.get(13), "000000042");
        assert_eq!(seg.get(16), ">");
        assert!(lexer.next(&mut seg));
        assert_eq!((seg.tag(), seg.get(1), seg.get(9)), ("GS", "PO", ""));
        assert_eq!(seg.offset, ISA.len() + 2);
        assert!(!lexer.next(&mut seg));
    }

    #[test]
    fn newline_terminator_and_crlf() {
        let body = ISA.replace('*', "|").replace('>', "^").replace('~', "\n") + "GS|PO\r\nST|850\n";
        let mut lexer = Lexer::new(body.as_bytes()).unwrap();
        let mut seg = Segment::default();
        assert!(lexer.next(&mut seg));
        assert!(lexer.next(&mut seg));
        assert_eq!(seg.get(1), "PO", "the CR before the LF is not data");
        assert!(lexer.next(&mut seg));
        assert_eq!(seg.tag(), "ST");
    }

    #[test]
    fn not_x12() {
        let err = Lexer::new(b"<?xml version=\"1.0\"?><Order/>")
            .err()
            .unwrap();
        assert_eq!(err.code, "not-x12");
        assert!(err.message.contains("XML"), "{}", err.message);
        assert_eq!(Lexer::new(b"ISA*00*").err().unwrap().code, "truncated");
        assert_eq!(Lexer::new(b" \n").err().unwrap().code, "empty-body");
    }
}
