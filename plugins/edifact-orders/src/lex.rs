//! Splitting an EDIFACT interchange into segments, elements, repetitions and
//! components, in one pass over the bytes.
//!
//! The service characters come from the UNA service string advice when there is
//! one, else they are the ISO 9735 defaults `:+.? '` (ISO 9735-1 clause 5 and
//! annex B; the UNA positions are, in order, component separator, element
//! separator, decimal mark, release character, repetition separator (syntax
//! version 4; "reserved for future use, insert space" before it) and segment
//! terminator: the UNA text is quoted at
//! <https://docs.rs/edifact-types/latest/edifact_types/d00b/struct.UNA.html>, the
//! version 4 repetition separator at
//! <https://jar-download.com/artifacts/org.smooks.cartridges.edi/edi-schemas/2.0.2/source-code/EDIFACT-Common/EDIFACT-Service-Segments-4.1.dfdl.xsd>).
//! A release character makes the next byte plain data, so `?+` inside a value is a
//! `+`, not a separator; values keep their escapes as slices of the body and are
//! unescaped and decoded only when read.
//!
//! A body may hold several interchanges, each with its own UNA (or none): the
//! service characters are set afresh at each one.

use std::borrow::Cow;

use edi_common::{describe, error_at};
use jembatan_plugin_sdk::{Decimal, PluginError};

/// The service characters of an interchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Syntax {
    pub component: u8,
    pub element: u8,
    /// The decimal mark the UNA declares; see [`decimal`] for how numbers are read.
    pub decimal: u8,
    pub release: Option<u8>,
    /// Separates repetitions of an element; syntax version 4 only.
    pub repetition: Option<u8>,
    pub segment: u8,
}

impl Default for Syntax {
    /// ISO 9735's defaults, used when there is no UNA. The repetition separator
    /// (`*` by default) is switched on only once UNB says syntax version 4.
    fn default() -> Self {
        Self {
            component: b':',
            element: b'+',
            decimal: b'.',
            release: Some(b'?'),
            repetition: None,
            segment: b'\'',
        }
    }
}

/// How the bytes of values are turned into text, chosen per interchange from
/// its syntax identifier (UNB 0001) by [`Lexer::declare_charset`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Charset {
    /// UTF-8, which includes ASCII (UNOA, UNOB) and UNOW/UNOY.
    #[default]
    Utf8,
    /// ISO 8859-1 (UNOC): every byte is one character, U+0000 to U+00FF.
    Latin1,
}

/// One segment as slices of the body: `parts` holds every component in order,
/// `starts[e]` the index in `parts` of element `e`'s first component, and
/// `repeats` the indices in `parts` where a second or later repetition of an
/// element begins.
#[derive(Debug, Default)]
pub struct Segment<'a> {
    parts: Vec<&'a [u8]>,
    starts: Vec<usize>,
    repeats: Vec<usize>,
    /// Byte offset of the tag in the body.
    pub offset: usize,
    release: Option<u8>,
    charset: Charset,
}

impl<'a> Segment<'a> {
    /// The raw bytes of component `c` (1-based) of element `e` (0 is the tag),
    /// in its first repetition.
    pub fn raw(&self, e: usize, c: usize) -> &'a [u8] {
        self.raw_in(e, 0, c)
    }

    /// The raw bytes of component `c` of repetition `r` (0-based) of element `e`.
    pub fn raw_in(&self, e: usize, r: usize, c: usize) -> &'a [u8] {
        let Some(&start) = self.starts.get(e) else {
            return b"";
        };
        let end = self.starts.get(e + 1).copied().unwrap_or(self.parts.len());
        // The repetition boundaries inside this element, in order.
        let first = self.repeats.partition_point(|&i| i <= start);
        let last = self.repeats.partition_point(|&i| i < end);
        let bounds = &self.repeats[first..last];
        let from = match r {
            0 => start,
            r => match bounds.get(r - 1) {
                Some(&from) => from,
                None => return b"",
            },
        };
        let to = bounds.get(r).copied().unwrap_or(end);
        match c.checked_sub(1).map(|c| from + c) {
            Some(i) if i < to => self.parts[i],
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

    /// Component `c` of element `e` (its first repetition), unescaped and
    /// decoded; empty when absent.
    pub fn text(&self, e: usize, c: usize) -> Cow<'a, str> {
        self.text_in(e, 0, c)
    }

    /// Component `c` of repetition `r` of element `e`, unescaped and decoded.
    pub fn text_in(&self, e: usize, r: usize, c: usize) -> Cow<'a, str> {
        self.decode(self.raw_in(e, r, c))
    }

    /// The (element, repetition, component) positions that hold data, in order.
    pub fn filled(&self) -> Vec<(usize, usize, usize)> {
        let mut filled = Vec::new();
        for e in 1..=self.elements() {
            let (start, end) = (
                self.starts[e],
                self.starts.get(e + 1).copied().unwrap_or(self.parts.len()),
            );
            let (mut r, mut from) = (0, start);
            for i in start..end {
                if i > start && self.repeats.binary_search(&i).is_ok() {
                    r += 1;
                    from = i;
                }
                if !self.parts[i].is_empty() {
                    filled.push((e, r, i - from + 1));
                }
            }
        }
        filled
    }

    /// The segment as text in the default service characters (`+`, `:`, `*`,
    /// released with `?`), trailing empty parts left out: how an extension keeps
    /// a segment that has no canonical field, e.g. `SCC+7` or `PRI+AAA:12.80:CT:AAE`.
    pub fn render(&self) -> String {
        let mut out = self.tag().to_owned();
        let filled = self.filled();
        let last_element = filled.last().map_or(0, |&(e, _, _)| e);
        for e in 1..=last_element {
            out.push('+');
            let repetitions = filled.iter().filter(|p| p.0 == e).map(|p| p.1).max();
            for r in 0..=repetitions.unwrap_or(0) {
                if r > 0 {
                    out.push('*');
                }
                let last = filled
                    .iter()
                    .filter(|p| p.0 == e && p.1 == r)
                    .map(|p| p.2)
                    .max();
                for c in 1..=last.unwrap_or(0) {
                    if c > 1 {
                        out.push(':');
                    }
                    for ch in self.text_in(e, r, c).chars() {
                        if matches!(ch, '+' | ':' | '\'' | '?' | '*') {
                            out.push('?');
                        }
                        out.push(ch);
                    }
                }
            }
        }
        out
    }

    fn decode(&self, raw: &'a [u8]) -> Cow<'a, str> {
        let escaped = self.release.is_some_and(|r| raw.contains(&r));
        if !escaped && raw.is_ascii() {
            // ASCII is the same in every charset this plugin reads.
            return Cow::Borrowed(std::str::from_utf8(raw).unwrap_or_default());
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
        match self.charset {
            Charset::Latin1 => Cow::Owned(bytes.iter().map(|&b| char::from(b)).collect()),
            // The lexer has checked that the segment is UTF-8; a release character
            // cannot split a character, as every service character is ASCII.
            Charset::Utf8 => Cow::Owned(String::from_utf8_lossy(&bytes).into_owned()),
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
    /// UNA position 5 of the current interchange, if it has a UNA: the
    /// repetition separator in syntax version 4, a space when there is none.
    una_repetition: Option<u8>,
    charset: Charset,
}

impl<'a> Lexer<'a> {
    /// Starts at the first interchange, past a byte-order mark and blank lines,
    /// which must begin with UNA or UNB.
    pub fn new(body: &'a [u8]) -> Result<Self, PluginError> {
        let pos = edi_common::skip_preamble(body);
        let input = &body[pos..];
        if !input.starts_with(b"UNA") && !input.starts_with(b"UNB") {
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
            syntax: Syntax::default(),
            una_repetition: None,
            charset: Charset::Utf8,
        })
    }

    /// Skips line breaks and blanks between segments (and after the last one);
    /// false when nothing but them is left.
    pub fn more(&mut self) -> bool {
        let Syntax {
            element,
            segment: terminator,
            ..
        } = self.syntax;
        while let Some(&b) = self.body.get(self.pos) {
            if matches!(b, b'\r' | b'\n' | b' ' | b'\t') && b != terminator && b != element {
                self.pos += 1;
            } else {
                break;
            }
        }
        self.pos < self.body.len()
    }

    /// Whether the next segment starts an interchange (UNA or UNB).
    pub fn at_interchange(&mut self) -> bool {
        self.more() && {
            let rest = &self.body[self.pos..];
            rest.starts_with(b"UNA") || rest.starts_with(b"UNB")
        }
    }

    /// Reads the UNA, if one is next, and sets the service characters of the
    /// interchange that follows; without a UNA they are the defaults.
    pub fn service_string_advice(&mut self) -> Result<(), PluginError> {
        let body = self.body;
        let pos = self.pos;
        self.syntax = Syntax::default();
        self.una_repetition = None;
        if !body[pos..].starts_with(b"UNA") {
            return Ok(());
        }
        let Some(&[component, element, decimal, release, repetition, segment]) =
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
        self.syntax = Syntax {
            component,
            element,
            decimal,
            // A space in the release position means there is no release character.
            release: (release != b' ').then_some(release),
            repetition: None,
            segment,
        };
        let mut chars = vec![component, element, segment, decimal];
        chars.extend(self.syntax.release);
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
        self.una_repetition = Some(repetition);
        self.pos = pos + 9;
        Ok(())
    }

    /// Sets what the interchange's UNB 0002 and 0001 (its `unb`) imply: the
    /// repetition separator from syntax version 4 on, and how text is decoded.
    /// Returns a warning when the bytes disagree with the declared charset in a
    /// way that is read past.
    pub fn declare(&mut self, unb: &Segment<'_>) -> Result<Option<String>, PluginError> {
        let version = unb.text(1, 2);
        // Syntax version 4 added the repetition separator: `*` without a UNA, else
        // UNA position 5 (a space there: none). Versions 1 to 3 have none, and
        // there UNA position 5 is reserved.
        if version.parse::<u8>().is_ok_and(|v| v >= 4) {
            self.syntax.repetition = match self.una_repetition {
                None => Some(b'*'),
                Some(b' ') => None,
                declared => declared,
            };
        }
        let identifier = unb.text(1, 1);
        let rest = &self.body[unb.offset..];
        let (charset, warning) = charset(&identifier, rest).map_err(|m| {
            error_at(
                "invalid-encoding",
                m,
                self.body,
                unb.offset_of(1, 1, self.body),
                "UNB/0001",
            )
        })?;
        self.charset = charset;
        Ok(warning)
    }

    /// Reads the next segment into `segment`; false at the end of the body. A last
    /// segment without its terminator is still returned, so the envelope check can
    /// say precisely what is missing.
    pub fn next(&mut self, segment: &mut Segment<'a>) -> Result<bool, PluginError> {
        if !self.more() {
            return Ok(false);
        }
        let body = self.body;
        let Syntax {
            component,
            element,
            release,
            repetition,
            segment: terminator,
            ..
        } = self.syntax;
        segment.parts.clear();
        segment.starts.clear();
        segment.repeats.clear();
        segment.starts.push(0);
        segment.offset = self.pos;
        segment.release = release;
        segment.charset = self.charset;
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
            if b == component || b == element || b == terminator || Some(b) == repetition {
                segment.parts.push(&body[start..i]);
                start = i + 1;
                if b == element {
                    segment.starts.push(segment.parts.len());
                } else if Some(b) == repetition {
                    segment.repeats.push(segment.parts.len());
                } else if b == terminator {
                    break;
                }
            }
            i += 1;
        }
        if i >= body.len() {
            segment.parts.push(&body[start.min(body.len())..]);
        }
        // With a line feed as the terminator, a CR LF line end leaves a CR behind.
        if terminator == b'\n'
            && let Some(last) = segment.parts.last_mut()
        {
            *last = last.strip_suffix(b"\r").unwrap_or(last);
        }
        self.pos = i + 1;
        let raw = &body[segment.offset..i.min(body.len())];
        if !ascii
            && self.charset == Charset::Utf8
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

/// How to decode an interchange declared as syntax `identifier` (UNB 0001,
/// code list at <https://www.gefeg.com/jswg/cl/v4x/40100/cl1.htm>) whose bytes
/// from UNB on are `rest`; the error says why it cannot be read.
///
/// Senders mislabel: a UNOC (ISO 8859-1) interchange whose bytes are all valid
/// UTF-8 with non-ASCII characters in them was written as UTF-8 (Latin-1 text
/// with accented letters is practically never valid UTF-8), so it is read as
/// UTF-8 with a warning rather than turned into mojibake. The check covers the
/// rest of the body, so a later interchange can only make a UNOC one Latin-1.
fn charset(identifier: &str, rest: &[u8]) -> Result<(Charset, Option<String>), String> {
    let utf8 = || rest.is_ascii() || std::str::from_utf8(rest).is_ok();
    let mislabelled = |declared: &str| {
        Some(format!(
            "UNB declares syntax {identifier} ({declared}) but the text is UTF-8 with non-ASCII characters; read as UTF-8"
        ))
    };
    Ok(match identifier {
        // ISO 646 (ASCII) levels A and B. Lower-case letters under UNOA are read
        // as they come; bytes that are not UTF-8 are refused by the lexer.
        "UNOA" | "UNOB" if !rest.is_ascii() && utf8() => {
            (Charset::Utf8, mislabelled("ISO 646, ASCII"))
        }
        "UNOA" | "UNOB" => (Charset::Utf8, None),
        "UNOC" if rest.is_ascii() => (Charset::Utf8, None),
        "UNOC" if utf8() => (Charset::Utf8, mislabelled("ISO 8859-1")),
        "UNOC" => (Charset::Latin1, None),
        // UNOW is UTF-8; UNOY ("ISO 10646-1 octet without code extension
        // technique") is written as UTF-8 by the senders that use it.
        "UNOW" | "UNOY" => (Charset::Utf8, None),
        // Other levels (UNOD to UNOK: the other ISO 8859 parts, UNOX: ISO 2022)
        // share ASCII; beyond it this plugin has no tables for them.
        _ if rest.is_ascii() => (Charset::Utf8, None),
        _ if utf8() => (Charset::Utf8, mislabelled("not UTF-8")),
        _ => {
            return Err(format!(
                "UNB declares syntax {identifier:?}, whose non-ASCII characters this plugin cannot decode; \
                 send UNOC (ISO 8859-1), UNOW or UNOY (UTF-8)"
            ));
        }
    })
}

/// A number (`n` data element: quantity, price, amount) with either decimal mark.
///
/// Syntax version 4 says the decimal mark in the UNA is to be ignored and that
/// both comma and full stop are acceptable (ISO 9735-1 clause 10, "Representation
/// of numeric data element values"; summarised at
/// <https://en.wikipedia.org/wiki/EDIFACT>, "Decimal mark"), and EANCOM senders
/// write `12,5` under versions 2 and 3 too. So one `,` or `.` is the decimal
/// mark whatever the UNA declares; `declared` only words the error. A second mark
/// (a thousands separator, `1.000,50`) is refused rather than guessed at.
pub fn decimal(text: &str, declared: u8) -> Result<Decimal, String> {
    if text.matches([',', '.']).count() > 1 {
        return Err(format!(
            "{text:?} is not a decimal number: it has more than one decimal mark \
             (digits with one '.' or ',', no thousands separators; the UNA declares '{}')",
            char::from(declared)
        ));
    }
    jembatan_plugin_sdk::values::decimal(&text.replace(',', ".")).map_err(|_| {
        format!("{text:?} is not a non-negative decimal number (digits with one '.' or ',' as the decimal mark)")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segments(body: &[u8]) -> Vec<Vec<Vec<String>>> {
        let mut lexer = Lexer::new(body).unwrap();
        lexer.service_string_advice().unwrap();
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
        let mut lexer = Lexer::new(b"UNA;*,! ~UNB").unwrap();
        lexer.service_string_advice().unwrap();
        assert_eq!(lexer.syntax.decimal, b',');
    }

    #[test]
    fn not_edifact() {
        let err = Lexer::new(b"ISA*00*          *").err().unwrap();
        assert_eq!(err.code, "not-edifact");
        assert!(err.message.contains("X12"), "{}", err.message);
        let mut cut = Lexer::new(b"UNA:+").unwrap();
        assert_eq!(cut.service_string_advice().unwrap_err().code, "truncated");
        assert_eq!(Lexer::new(b"").err().unwrap().code, "empty-body");
    }

    /// The lexer positioned after UNB (charset and repetition set from it).
    fn after_unb(body: &[u8]) -> (Lexer<'_>, Segment<'_>) {
        let mut lexer = Lexer::new(body).unwrap();
        lexer.service_string_advice().unwrap();
        let mut seg = Segment::default();
        assert!(lexer.next(&mut seg).unwrap());
        lexer.declare(&seg).unwrap();
        (lexer, seg)
    }

    #[test]
    fn syntax_4_repetitions_in_the_smooks_d03b_corpus_document() {
        let body = include_bytes!("../../../tests/corpus/edifact-orders/smooks-d03b-isbn.edi");
        let (mut lexer, mut seg) = after_unb(body);
        while lexer.next(&mut seg).unwrap() && seg.tag() != "COM" {}
        // COM+s11:AA*s21:AA*s31:AA: three repetitions of C076.
        let reps: Vec<_> = (0..4).map(|r| seg.text_in(1, r, 1)).collect();
        assert_eq!(reps, ["s11", "s21", "s31", ""]);
        assert_eq!(seg.text_in(1, 2, 2), "AA");
        assert_eq!(seg.text(1, 2), "AA", "component 2 of the first repetition");
    }

    #[test]
    fn repetition_separator_only_from_syntax_4() {
        let (mut lexer, mut seg) = after_unb(b"UNB+UNOC:3+A'COM+a*b:TE'");
        lexer.next(&mut seg).unwrap();
        assert_eq!(seg.text(1, 1), "a*b", "data in syntax 3");
        let (mut lexer, mut seg) = after_unb(b"UNB+UNOC:4+A'COM+a?*b*c:TE'");
        lexer.next(&mut seg).unwrap();
        assert_eq!(
            (seg.text(1, 1), seg.text_in(1, 1, 1)),
            ("a*b".into(), "c".into())
        );
        // A UNA with a space in position 5 declares none.
        let (mut lexer, mut seg) = after_unb(b"UNA:+.? 'UNB+UNOC:4+A'COM+a*b'");
        lexer.next(&mut seg).unwrap();
        assert_eq!(seg.text(1, 1), "a*b");
    }

    #[test]
    fn line_feed_terminator_with_crlf_line_ends() {
        let out = segments(b"UNA:+.? \nUNB+UNOC:3+A\r\nBGM+220+PO-1\r\n");
        assert_eq!(out[1], [vec!["BGM"], vec!["220"], vec!["PO-1"]]);
    }

    #[test]
    fn either_decimal_mark_but_only_one() {
        assert_eq!(decimal("12,5", b'.').unwrap(), Decimal::new(125, 1));
        assert_eq!(decimal("12.5", b',').unwrap(), Decimal::new(125, 1));
        for bad in ["1.250,5", "1,250,5", "12,5-", ","] {
            assert!(decimal(bad, b'.').is_err(), "{bad:?}");
        }
    }
}
