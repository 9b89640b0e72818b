//! A small JSON reader that keeps what a mapping needs and serde_json's `Value`
//! loses: each number's exact text (`185000.50` stays a decimal, never an `f64`)
//! and each value's byte offset (errors point at the line and column). Strings
//! without escapes borrow from the body. One pass, recursive descent, depth-limited
//! so a hostile body cannot exhaust the stack.

use std::borrow::Cow;

/// How deeply arrays and objects may nest.
const MAX_DEPTH: usize = 128;

/// A value and where it starts in the body.
#[derive(Debug)]
pub struct Node<'a> {
    pub offset: usize,
    pub value: Value<'a>,
}

#[derive(Debug)]
pub enum Value<'a> {
    Null,
    /// `true` or `false`; no canonical field takes a boolean (one the config does not
    /// map is kept as an extension).
    Bool(bool),
    /// The number exactly as written (JSON grammar checked).
    Number(&'a str),
    String(Cow<'a, str>),
    Array(Vec<Node<'a>>),
    /// Members in document order; a repeated key's first occurrence wins on lookup.
    Object(Vec<(Cow<'a, str>, Node<'a>)>),
}

impl<'a> Node<'a> {
    /// The member `key` of an object, or element `key` (decimal) of an array.
    pub fn get(&self, key: &str) -> Option<&Node<'a>> {
        match &self.value {
            Value::Object(members) => members.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            Value::Array(items) => {
                let canonical = key == "0" || !key.starts_with('0');
                key.parse::<usize>()
                    .ok()
                    .filter(|_| canonical)
                    .and_then(|i| items.get(i))
            }
            _ => None,
        }
    }

    /// What kind of value this is, for messages.
    pub fn kind(&self) -> &'static str {
        match self.value {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Number(_) => "a number",
            Value::String(_) => "a string",
            Value::Array(_) => "an array",
            Value::Object(_) => "an object",
        }
    }
}

/// Parses a whole body; `Err` holds the byte offset and what is wrong.
pub fn parse(text: &str) -> Result<Node<'_>, (usize, String)> {
    let mut parser = Parser {
        text,
        bytes: text.as_bytes(),
        pos: 0,
    };
    let node = parser.value(0)?;
    parser.skip_ws();
    if parser.pos < parser.bytes.len() {
        return Err(parser.fail("unexpected text after the JSON value"));
    }
    Ok(node)
}

struct Parser<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Parser<'a> {
    fn fail(&self, what: &str) -> (usize, String) {
        (self.pos, what.to_owned())
    }

    fn skip_ws(&mut self) {
        while matches!(self.bytes.get(self.pos), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    fn eat(&mut self, literal: &str) -> bool {
        let found = self.bytes[self.pos..].starts_with(literal.as_bytes());
        if found {
            self.pos += literal.len();
        }
        found
    }

    fn value(&mut self, depth: usize) -> Result<Node<'a>, (usize, String)> {
        self.skip_ws();
        let offset = self.pos;
        let value = match self.bytes.get(self.pos) {
            None => return Err(self.fail("the JSON ends where a value should be")),
            Some(b'{') | Some(b'[') if depth >= MAX_DEPTH => {
                return Err(self.fail("arrays and objects nest too deeply"));
            }
            Some(b'{') => self.object(depth)?,
            Some(b'[') => self.array(depth)?,
            Some(b'"') => Value::String(self.string()?),
            Some(b'-' | b'0'..=b'9') => Value::Number(self.number()?),
            Some(_) if self.eat("true") => Value::Bool(true),
            Some(_) if self.eat("false") => Value::Bool(false),
            Some(_) if self.eat("null") => Value::Null,
            Some(_) => return Err(self.fail("expected a JSON value")),
        };
        Ok(Node { offset, value })
    }

    fn object(&mut self, depth: usize) -> Result<Value<'a>, (usize, String)> {
        self.pos += 1;
        let mut members = Vec::new();
        self.skip_ws();
        if self.eat("}") {
            return Ok(Value::Object(members));
        }
        loop {
            self.skip_ws();
            if self.bytes.get(self.pos) != Some(&b'"') {
                return Err(self.fail("expected a member name in double quotes"));
            }
            let key = self.string()?;
            self.skip_ws();
            if !self.eat(":") {
                return Err(self.fail("expected ':' after the member name"));
            }
            members.push((key, self.value(depth + 1)?));
            self.skip_ws();
            if self.eat("}") {
                return Ok(Value::Object(members));
            }
            if !self.eat(",") {
                return Err(self.fail("expected ',' or '}' in the object"));
            }
        }
    }

    fn array(&mut self, depth: usize) -> Result<Value<'a>, (usize, String)> {
        self.pos += 1;
        let mut items = Vec::new();
        self.skip_ws();
        if self.eat("]") {
            return Ok(Value::Array(items));
        }
        loop {
            items.push(self.value(depth + 1)?);
            self.skip_ws();
            if self.eat("]") {
                return Ok(Value::Array(items));
            }
            if !self.eat(",") {
                return Err(self.fail("expected ',' or ']' in the array"));
            }
        }
    }

    fn number(&mut self) -> Result<&'a str, (usize, String)> {
        let start = self.pos;
        let digits = |p: &mut Self| {
            let from = p.pos;
            while p.bytes.get(p.pos).is_some_and(u8::is_ascii_digit) {
                p.pos += 1;
            }
            p.pos - from
        };
        self.eat("-");
        let leading_zero = self.bytes.get(self.pos) == Some(&b'0');
        let whole = digits(self);
        if whole == 0 || (leading_zero && whole > 1) {
            return Err(self.fail("a number needs digits and no leading zero"));
        }
        if self.eat(".") && digits(self) == 0 {
            return Err(self.fail("expected digits after the decimal point"));
        }
        if matches!(self.bytes.get(self.pos), Some(b'e' | b'E')) {
            self.pos += 1;
            let _ = self.eat("+") || self.eat("-");
            if digits(self) == 0 {
                return Err(self.fail("expected digits in the exponent"));
            }
        }
        Ok(&self.text[start..self.pos])
    }

    fn string(&mut self) -> Result<Cow<'a, str>, (usize, String)> {
        self.pos += 1;
        let start = self.pos;
        // Fast path: no escapes, borrow the text.
        while let Some(&b) = self.bytes.get(self.pos) {
            match b {
                b'"' => {
                    self.pos += 1;
                    return Ok(Cow::Borrowed(&self.text[start..self.pos - 1]));
                }
                b'\\' => break,
                0..=0x1f => return Err(self.fail("control character in a string")),
                _ => self.pos += 1,
            }
        }
        let mut out = String::from(&self.text[start..self.pos]);
        loop {
            let Some(&b) = self.bytes.get(self.pos) else {
                return Err(self.fail("the string is not closed"));
            };
            match b {
                b'"' => {
                    self.pos += 1;
                    return Ok(Cow::Owned(out));
                }
                b'\\' => {
                    self.pos += 1;
                    let escaped = match self.bytes.get(self.pos) {
                        Some(b'"') => '"',
                        Some(b'\\') => '\\',
                        Some(b'/') => '/',
                        Some(b'b') => '\u{8}',
                        Some(b'f') => '\u{c}',
                        Some(b'n') => '\n',
                        Some(b'r') => '\r',
                        Some(b't') => '\t',
                        Some(b'u') => self.unicode_escape()?,
                        _ => return Err(self.fail("unknown escape in a string")),
                    };
                    self.pos += 1;
                    out.push(escaped);
                }
                0..=0x1f => return Err(self.fail("control character in a string")),
                _ => {
                    // Copy a run of plain characters at once (never splits UTF-8:
                    // the run stops only at ASCII bytes).
                    let from = self.pos;
                    while self
                        .bytes
                        .get(self.pos)
                        .is_some_and(|&b| b != b'"' && b != b'\\' && b >= 0x20)
                    {
                        self.pos += 1;
                    }
                    out.push_str(&self.text[from..self.pos]);
                }
            }
        }
    }

    /// `\uXXXX` (with a surrogate pair when needed); leaves `pos` on the last digit.
    fn unicode_escape(&mut self) -> Result<char, (usize, String)> {
        let hex = |p: &mut Self| {
            let digits = p
                .text
                .get(p.pos + 1..p.pos + 5)
                .filter(|d| d.bytes().all(|b| b.is_ascii_hexdigit()));
            let code = digits.and_then(|d| u32::from_str_radix(d, 16).ok());
            p.pos += 4;
            code.ok_or_else(|| p.fail("expected four hex digits after \\u"))
        };
        let first = hex(self)?;
        if (0xD800..0xDC00).contains(&first) && self.text[self.pos + 1..].starts_with("\\u") {
            self.pos += 2;
            let second = hex(self)?;
            if (0xDC00..0xE000).contains(&second) {
                let code = 0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00);
                return char::from_u32(code).ok_or_else(|| self.fail("invalid \\u escape"));
            }
        }
        char::from_u32(first).ok_or_else(|| self.fail("unpaired surrogate in a \\u escape"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_number_text_and_offsets() {
        let node = parse(
            r#" {"a": [1, 185000.50, -2e3], "s": "x\u00e9\n\ud83d\ude97", "t": true, "n": null}"#,
        )
        .unwrap();
        let Value::Array(items) = &node.get("a").unwrap().value else {
            panic!()
        };
        let texts: Vec<_> = items
            .iter()
            .map(|n| match n.value {
                Value::Number(t) => t,
                _ => "",
            })
            .collect();
        assert_eq!(texts, ["1", "185000.50", "-2e3"]);
        assert_eq!(node.get("a").unwrap().offset, 7);
        let Value::String(s) = &node.get("s").unwrap().value else {
            panic!()
        };
        assert_eq!(s, "xé\n🚗");
        assert_eq!(node.get("a").unwrap().get("1").unwrap().offset, 11);
        assert!(node.get("a").unwrap().get("01").is_none());
    }

    #[test]
    fn refuses_what_json_does_not_allow() {
        for bad in [
            "",
            "{",
            "[1,]",
            "{\"a\" 1}",
            "01",
            "1.",
            "\"a",
            "tru",
            "{} x",
            "\"\t\"",
            "\"\\x\"",
            "[-]",
        ] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
        let deep = "[".repeat(200) + &"]".repeat(200);
        assert!(parse(&deep).unwrap_err().1.contains("deeply"));
        assert_eq!(parse("{\"a\": x}").unwrap_err().0, 6);
    }
}
