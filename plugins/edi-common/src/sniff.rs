//! Saying what an input is when it is not the EDI the plugin reads.
//!
//! A buyer who posts the wrong file to the wrong plugin learns more from "this
//! looks like XML (starts with `<?xml`)" than from "expected ISA".

/// The bytes after a UTF-8 byte order mark and leading whitespace, and how many
/// bytes were skipped: some systems write a BOM or a blank line before the
/// interchange, which is harmless.
pub fn skip_preamble(body: &[u8]) -> usize {
    let mut start = if body.starts_with(b"\xEF\xBB\xBF") {
        3
    } else {
        0
    };
    while body.get(start).is_some_and(u8::is_ascii_whitespace) {
        start += 1;
    }
    start
}

/// A short description of what `input` (already past the preamble) looks like.
pub fn describe(input: &[u8]) -> String {
    let kind = match input {
        [] => return "the body is empty".to_owned(),
        [b'<', ..] => "XML (or HTML)",
        [b'{' | b'[', ..] => "JSON",
        [b'%', b'P', b'D', b'F', ..] => "a PDF file",
        [b'P', b'K', 3, 4, ..] => "a ZIP archive (or an Office document)",
        [b'U', b'N', b'A' | b'B', ..] => "a UN/EDIFACT interchange",
        [b'I', b'S', b'A', ..] => "an ANSI X12 interchange",
        _ if input.iter().take(64).any(|&b| b < 0x09 || b == 0x7f) => "binary data",
        _ => "text",
    };
    let head: String = String::from_utf8_lossy(&input[..input.len().min(24)])
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    format!(
        "it looks like {kind} (it starts with {:?})",
        head.trim_end()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describes_common_mistakes() {
        assert!(describe(b"<?xml version=\"1.0\"?>").contains("XML"));
        assert!(describe(b"{\"a\":1}").contains("JSON"));
        assert!(describe(b"UNB+UNOC:3").contains("EDIFACT"));
        assert!(describe(b"ISA*00*").contains("X12"));
        assert!(describe(b"\x00\x01\x02").contains("binary"));
        assert_eq!(skip_preamble(b"\xEF\xBB\xBF\r\n ISA"), 6);
    }
}
