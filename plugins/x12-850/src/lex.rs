//! Splitting an X12 interchange into segments and elements, in one pass.
//!
//! The delimiters are not fixed: each interchange's ISA declares them by position.
//! "For a particular interchange, the value at the fourth character position is the
//! data element separator", ISA16 is the component element separator, and "the first
//! occurrence of the segment terminator, 1 byte after the data element ISA16, defines
//! the actual value of the data segment terminator" (the ISA segment notes of X12.5,
//! as quoted in <https://dewanamit.blogspot.com/2011/05/isa-interchange-control-header-isa.html>;
//! ISA16 "must be different than the data element separator and the segment
//! terminator", <https://stedi.com/edi/x12-004010/element/I15>).
//!
//! The ISA is fixed-width: its elements have fixed lengths (ISA02 10 characters,
//! ISA06 15, …), 106 characters in all. Real senders get the widths wrong (a short
//! ISA06) or pad with non-breaking spaces, which take two bytes in UTF-8, so the
//! ISA is read at its fixed offsets only when every one of them holds the element
//! separator; otherwise its sixteen elements are found by counting separators, and
//! the result is checked: the next segment must be a GS or an IEA.

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

/// Reads the segments of one interchange, reusing one [`Segment`]'s buffer.
pub struct Lexer<'a> {
    body: &'a [u8],
    pos: usize,
    pub delimiters: Delimiters,
}

/// The length of `ISA` plus its sixteen elements, their separators and the
/// segment terminator when the element widths are as the standard says.
const ISA_LEN: usize = 106;

/// Where a fixed-width ISA has its sixteen element separators.
const FIXED_SEPARATORS: [usize; 16] = [
    3, 6, 17, 20, 31, 34, 50, 53, 69, 76, 81, 83, 89, 99, 101, 103,
];

/// How far to look for the sixteenth separator: two bytes for every padding
/// character (a UTF-8 non-breaking space) and some short or long elements.
const ISA_SEARCH: usize = 2 * ISA_LEN + 64;

impl<'a> Lexer<'a> {
    /// Reads the ISA at `start` of `body` and returns a lexer positioned after it,
    /// with the ISA as a segment whose elements have their padding (spaces and
    /// non-breaking spaces, in UTF-8 or Latin-1) trimmed.
    pub fn interchange(body: &'a [u8], start: usize) -> Result<(Self, Segment<'a>), PluginError> {
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
        let separators =
            isa_separators(input, element).ok_or_else(|| truncated_isa(body, start))?;
        let isa16 = separators[15] + 1;
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
        let mut isa = Segment {
            elements: vec!["ISA"],
            offset: start,
        };
        for (n, pair) in separators.windows(2).enumerate() {
            isa.elements.push(isa_element(
                body,
                start + pair[0] + 1,
                start + pair[1],
                n + 1,
            )?);
        }
        isa.elements
            .push(isa_element(body, start + isa16, start + isa16 + 1, 16)?);
        let lexer = Self {
            body,
            pos: start + isa16 + 2,
            delimiters: Delimiters {
                element,
                component,
                segment,
            },
        };
        lexer.check_follows_isa(start + isa16)?;
        Ok((lexer, isa))
    }

    /// The check of the separators found: what follows the ISA must be a GS or
    /// an IEA (an interchange of no groups), else the sixteen elements were not
    /// where they were looked for.
    fn check_follows_isa(&self, isa16: usize) -> Result<(), PluginError> {
        let next = skip_noise(self.body, self.pos);
        let rest = &self.body[next..];
        let element = self.delimiters.element;
        if rest.is_empty()
            || [&b"GS"[..], b"IEA"]
                .iter()
                .any(|tag| rest.starts_with(tag) && rest.get(tag.len()) == Some(&element))
        {
            return Ok(());
        }
        Err(error_at(
            "invalid-value",
            format!(
                "the ISA does not end where its sixteenth element says: read as component \
                 separator {:?} and segment terminator {:?}, it is followed by {:?}, not by a GS \
                 segment; check that the ISA has sixteen elements",
                self.delimiters.component as char,
                self.delimiters.segment as char,
                String::from_utf8_lossy(&rest[..rest.len().min(12)])
            ),
            self.body,
            isa16,
            "ISA/ISA16",
        ))
    }

    /// Reads the next segment into `segment`; false at the end of the body.
    /// A last segment without its terminator is still returned: the envelope
    /// check reports what is missing more precisely than "no terminator" would.
    /// Segments with nothing in them (`~~`, blank lines) are passed over.
    pub fn next(&mut self, segment: &mut Segment<'a>) -> Result<bool, PluginError> {
        let bytes = self.body;
        let Delimiters {
            element,
            component,
            segment: terminator,
        } = self.delimiters;
        loop {
            self.pos = skip_noise(bytes, self.pos);
            if self.pos >= bytes.len() {
                return Ok(false);
            }
            let start = self.pos;
            let end = segment_end(bytes, start, terminator);
            self.pos = end + 1;
            let mut raw = &bytes[start..end];
            // Control characters are no X12 data (a CR before an LF terminator,
            // a NAK before the line break); a component separator just before
            // the terminator ends an empty component, which says nothing, and
            // senders that use ISA16 `~` and a line break as terminator still
            // end every segment with `~`.
            while let [rest @ .., last] = raw
                && (last.is_ascii_control() || *last == component)
            {
                raw = rest;
            }
            if raw.is_empty() {
                continue;
            }
            let text = std::str::from_utf8(raw).map_err(|e| {
                PluginError::at_offset(
                    "invalid-encoding",
                    "the segment is not UTF-8 (nor ASCII) text",
                    bytes,
                    start + e.valid_up_to(),
                )
            })?;
            segment.offset = start;
            segment.elements.clear();
            segment.elements.extend(text.split(element as char));
            return Ok(true);
        }
    }

    /// The byte offset just past the last segment read.
    pub fn position(&self) -> usize {
        self.pos.min(self.body.len())
    }
}

/// The offset of the first segment at or after `pos`, past line breaks,
/// indentation and control characters (a NAK or SUB some systems write before
/// CR LF): none of them is X12 data, whose character sets have no control
/// characters, and none begins a segment.
pub fn skip_noise(bytes: &[u8], mut pos: usize) -> usize {
    while bytes
        .get(pos)
        .is_some_and(|&b| b.is_ascii_whitespace() || b.is_ascii_control())
    {
        pos += 1;
    }
    pos
}

/// Where the segment starting at `start` ends: its terminator, or the end of
/// the body. A space terminator is ambiguous, as values hold spaces too (the
/// standard forbids delimiters in data, senders who choose a space do not
/// care); such senders follow it with a line break, so only a space before a
/// line break, or the end of the body, ends a segment.
fn segment_end(bytes: &[u8], start: usize, terminator: u8) -> usize {
    let mut from = start;
    loop {
        let Some(i) = bytes[from..].iter().position(|&b| b == terminator) else {
            return bytes.len();
        };
        let end = from + i;
        if terminator != b' ' || matches!(bytes.get(end + 1), None | Some(b'\r' | b'\n')) {
            return end;
        }
        from = end + 1;
    }
}

/// The offsets in `input` (which starts with `ISA`) of its sixteen element
/// separators: the fixed ones when each holds `element`, else the first sixteen
/// occurrences of `element`; `None` when the input ends before the sixteenth.
fn isa_separators(input: &[u8], element: u8) -> Option<Vec<usize>> {
    let fixed = input.len() >= ISA_LEN && FIXED_SEPARATORS.iter().all(|&i| input[i] == element);
    if fixed {
        return Some(FIXED_SEPARATORS.to_vec());
    }
    let counted: Vec<usize> = input
        .iter()
        .enumerate()
        .take(ISA_SEARCH)
        .skip(3)
        .filter(|&(_, &b)| b == element)
        .map(|(i, _)| i)
        .take(16)
        .collect();
    (counted.len() == 16).then_some(counted)
}

/// ISA element `n` (bytes `start..end` of `body`) without its padding: spaces,
/// and non-breaking spaces as UTF-8 (C2 A0) or Latin-1 (A0) bytes.
fn isa_element(body: &[u8], start: usize, end: usize, n: usize) -> Result<&str, PluginError> {
    let mut value = &body[start..end];
    if n < 16 {
        loop {
            let trimmed = match value {
                [b' ' | 0xA0, rest @ ..] | [0xC2, 0xA0, rest @ ..] => rest,
                [rest @ .., 0xC2, 0xA0] | [rest @ .., b' ' | 0xA0] => rest,
                _ => break,
            };
            value = trimmed;
        }
    }
    std::str::from_utf8(value).map_err(|e| {
        error_at(
            "invalid-encoding",
            format!("ISA{n:02} is not ASCII text"),
            body,
            offset_of_slice(body, value) + e.valid_up_to(),
            format!("ISA/ISA{n:02}"),
        )
    })
}

fn offset_of_slice(body: &[u8], part: &[u8]) -> usize {
    part.as_ptr() as usize - body.as_ptr() as usize
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

    fn open(body: &[u8]) -> Result<(Lexer<'_>, Segment<'_>), PluginError> {
        Lexer::interchange(body, edi_common::skip_preamble(body))
    }

    #[test]
    fn delimiters_come_from_the_isa() {
        let body = format!("{ISA}\r\nGS*PO*A*B~");
        let (mut lexer, isa) = open(body.as_bytes()).unwrap();
        assert_eq!(
            lexer.delimiters,
            Delimiters {
                element: b'*',
                component: b'>',
                segment: b'~'
            }
        );
        assert_eq!(isa.tag(), "ISA");
        assert_eq!(isa.get(6), "SCN", "padding is trimmed");
        assert_eq!(isa.get(13), "000000042");
        assert_eq!(isa.get(16), ">");
        let mut seg = Segment::default();
        assert!(lexer.next(&mut seg).unwrap());
        assert_eq!((seg.tag(), seg.get(1), seg.get(9)), ("GS", "PO", ""));
        assert_eq!(seg.offset, ISA.len() + 2);
        assert!(!lexer.next(&mut seg).unwrap());
    }

    #[test]
    fn newline_terminator_and_crlf() {
        let body =
            ISA.replace('*', "|").replace('>', "^").replace('~', "\n") + "GS|PO\r\n\nST|850\n";
        let (mut lexer, _) = open(body.as_bytes()).unwrap();
        let mut seg = Segment::default();
        assert!(lexer.next(&mut seg).unwrap());
        assert_eq!(seg.get(1), "PO", "the CR before the LF is not data");
        assert!(lexer.next(&mut seg).unwrap());
        assert_eq!(seg.tag(), "ST", "a blank line is no segment");
    }

    #[test]
    fn fixed_width_isa_wins_over_a_separator_in_its_data() {
        // ISA06 holds the element separator; the fixed offsets still place ISA16.
        let body = ISA.replace("*SCN    ", "*S*N    ") + "GS*PO~";
        let (lexer, isa) = open(body.as_bytes()).unwrap();
        assert_eq!(isa.get(6), "S*N");
        assert_eq!(isa.get(16), ">");
        assert_eq!(lexer.delimiters.segment, b'~');
    }

    #[test]
    fn short_isa_is_read_by_its_separators_and_checked() {
        let short = ISA.replace("SCN            ", "SCN");
        let body = format!("{short}GS*PO~");
        let (lexer, isa) = open(body.as_bytes()).unwrap();
        assert_eq!((isa.get(6), isa.get(16)), ("SCN", ">"));
        assert_eq!(lexer.delimiters.segment, b'~');
        // Fifteen elements: the sixteenth separator is found in the GS, and what
        // follows the supposed terminator is no segment.
        let missing = ISA.replace("*U*", "*");
        let body = format!("{missing}GS*PO*SENDER*RECEIVER~ST*850*1~");
        let err = open(body.as_bytes()).err().unwrap();
        assert_eq!(err.code, "invalid-value");
        assert!(err.message.contains("sixteen elements"), "{}", err.message);
    }

    #[test]
    fn space_terminator_ends_segments_only_before_a_line_break() {
        let body = ISA.replace('~', " \r\n") + "GS*PO*SOLD TO ORG \r\nGE*0*1";
        let (mut lexer, _) = open(body.as_bytes()).unwrap();
        let mut seg = Segment::default();
        assert!(lexer.next(&mut seg).unwrap());
        assert_eq!(seg.get(2), "SOLD TO ORG");
        assert!(lexer.next(&mut seg).unwrap());
        assert_eq!(
            (seg.tag(), seg.get(2)),
            ("GE", "1"),
            "no terminator at the end"
        );
    }

    #[test]
    fn control_characters_and_trailing_component_separators_are_no_data() {
        // NAK (0x15) as the terminator, before CR LF; ISA16 `~` repeated at the
        // end of a segment.
        let body = ISA.replace(">~", "~\x15\r\n") + "GS*PO*A~\x15\r\n\x15\r\nST*850*1\x15";
        let (mut lexer, _) = open(body.as_bytes()).unwrap();
        assert_eq!(lexer.delimiters.segment, 0x15);
        let mut seg = Segment::default();
        assert!(lexer.next(&mut seg).unwrap());
        assert_eq!(seg.get(2), "A");
        assert!(lexer.next(&mut seg).unwrap());
        assert_eq!(seg.elements, ["ST", "850", "1"]);
        assert!(!lexer.next(&mut seg).unwrap());
    }

    #[test]
    fn latin1_non_breaking_spaces_pad_the_isa() {
        // ISA06 padded with two non-breaking spaces as Latin-1 bytes (A0): the
        // body is not UTF-8 in its ISA.
        let mut body = ISA.replace("SCN            ", "SCN\u{1}\u{1}").into_bytes();
        body.iter_mut().filter(|b| **b == 1).for_each(|b| *b = 0xA0);
        body.extend_from_slice(b"GS*PO~");
        assert!(std::str::from_utf8(&body).is_err());
        let (mut lexer, isa) = open(&body).unwrap();
        assert_eq!(isa.get(6), "SCN");
        let mut seg = Segment::default();
        assert!(lexer.next(&mut seg).unwrap());
        assert_eq!(seg.tag(), "GS");
    }

    #[test]
    fn not_x12() {
        let err = open(b"<?xml version=\"1.0\"?><Order/>").err().unwrap();
        assert_eq!(err.code, "not-x12");
        assert!(err.message.contains("XML"), "{}", err.message);
        assert_eq!(open(b"ISA*00*").err().unwrap().code, "truncated");
        assert_eq!(open(b" \n").err().unwrap().code, "empty-body");
        let err = open(b"ISA*00*\xff").err().unwrap();
        assert_eq!(err.code, "truncated");
    }
}
