//! Errors a plugin returns, pointing at the place in the input that is wrong.

use std::fmt;

/// Where in the input a problem is; every part is optional.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Location {
    /// 1-based line in a text input.
    pub line: Option<u32>,
    /// 1-based column in characters (not bytes) within [`Location::line`].
    pub column: Option<u32>,
    /// 0-based byte offset into the body.
    pub offset: Option<u64>,
    /// A path into the document: an XPath-like path for XML (`/Order/cac:OrderLine[2]`),
    /// a JSON pointer for JSON (`/lines/1/quantity`), a segment position for EDI.
    pub path: Option<String>,
}

/// Why a plugin could not normalize a message.
///
/// The gateway answers the buyer with it (422 problem+json), so the message should be
/// a sentence a buyer's developer can act on, and the location as precise as the
/// plugin can make it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PluginError {
    /// Stable, machine-readable, kebab-case, e.g. `malformed-xml`, `missing-field`.
    pub code: String,
    /// What is wrong, in one sentence.
    pub message: String,
    /// Where it is wrong, when known.
    pub location: Option<Location>,
}

impl PluginError {
    /// An error with no location.
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            code: code.into(),
            message: message.into(),
            location: None,
        }
    }

    /// An error at a byte offset of `body`; line and column are computed from it.
    pub fn at_offset(
        code: impl Into<String>,
        message: impl Into<String>,
        body: &[u8],
        offset: usize,
    ) -> Self {
        Self::new(code, message).with_offset(body, offset)
    }

    /// Sets the location to a byte offset of `body`, with its line and column.
    pub fn with_offset(mut self, body: &[u8], offset: usize) -> Self {
        let offset = offset.min(body.len());
        let (line, column) = line_column(body, offset);
        let location = self.location_mut();
        location.offset = Some(offset as u64);
        location.line = Some(line);
        location.column = Some(column);
        self
    }

    /// Sets the line and column, e.g. as a parser reported them.
    pub fn with_line_column(mut self, line: u32, column: u32) -> Self {
        let location = self.location_mut();
        location.line = Some(line);
        location.column = Some(column);
        self
    }

    /// Sets the path into the document, e.g. `/Order/cac:OrderLine[2]/cbc:Quantity`.
    pub fn at_path(mut self, path: impl Into<String>) -> Self {
        self.location_mut().path = Some(path.into());
        self
    }

    fn location_mut(&mut self) -> &mut Location {
        self.location.get_or_insert_with(Location::default)
    }
}

impl fmt::Display for PluginError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)?;
        if let Some(location) = &self.location {
            if let Some(path) = &location.path {
                write!(f, " at {path}")?;
            }
            if let (Some(line), Some(column)) = (location.line, location.column) {
                write!(f, " (line {line}, column {column})")?;
            }
        }
        Ok(())
    }
}

impl std::error::Error for PluginError {}

/// The 1-based line and column of byte `offset` in `body`.
///
/// The column counts characters, not bytes, because that is what an editor shows:
/// UTF-8 continuation bytes are not counted. An offset past the end is clamped.
pub fn line_column(body: &[u8], offset: usize) -> (u32, u32) {
    let before = &body[..offset.min(body.len())];
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    let line = 1 + before.iter().filter(|&&b| b == b'\n').count();
    let column = 1 + before[line_start..]
        .iter()
        .filter(|&&b| (b & 0xC0) != 0x80)
        .count();
    (saturate(line), saturate(column))
}

fn saturate(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_column_counts_lines_and_characters() {
        let body = "ab\ncé<x\n".as_bytes();
        assert_eq!(line_column(body, 0), (1, 1));
        assert_eq!(line_column(body, 2), (1, 3));
        assert_eq!(line_column(body, 3), (2, 1));
        // 'é' is two bytes, one column.
        assert_eq!(line_column(body, 6), (2, 3));
        assert_eq!(line_column(body, 999), (3, 1));
    }

    #[test]
    fn at_offset_fills_line_column_and_offset() {
        let err = PluginError::at_offset("malformed-xml", "bad", b"<a>\n<b", 5).at_path("/a/b");
        let location = err.location.expect("location");
        assert_eq!(location.line, Some(2));
        assert_eq!(location.column, Some(2));
        assert_eq!(location.offset, Some(5));
        assert_eq!(location.path.as_deref(), Some("/a/b"));
        assert_eq!(
            PluginError::new("x", "y").to_string(),
            "x: y",
            "display without location"
        );
    }
}
