//! Paths into the buyer's JSON: an RFC 6901 JSON pointer (`/header/po_no`) or a
//! small `$`-path (`$.header.po_no`, `$.items[0]`, `$["po no"]`, `$.items[*]`).

use crate::json::Node;

/// A parsed path: the member names or array indexes to follow, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Path {
    steps: Vec<String>,
}

impl Path {
    /// Parses `text`. `[*]` may end the path only where an array of orders or
    /// lines is meant (`collection`), and there it means the same as leaving it off.
    pub fn parse(text: &str, collection: bool) -> Result<Self, String> {
        let steps = if text.is_empty() {
            Vec::new()
        } else if let Some(pointer) = text.strip_prefix('/') {
            pointer
                .split('/')
                .map(|t| t.replace("~1", "/").replace("~0", "~"))
                .collect()
        } else if let Some(rest) = text.strip_prefix('$') {
            dollar_path(rest, collection).map_err(|e| format!("{text:?}: {e}"))?
        } else {
            return Err(format!(
                "{text:?} is not a path: start a JSON pointer with '/' or a path with '$'"
            ));
        };
        Ok(Self { steps })
    }

    /// The node at this path below `node`, if there is one (`null` counts as none).
    pub fn find<'n, 'a>(&self, node: &'n Node<'a>) -> Option<&'n Node<'a>> {
        let mut at = node;
        for step in &self.steps {
            at = at.get(step)?;
        }
        (!matches!(at.value, crate::json::Value::Null)).then_some(at)
    }

    /// The member names or array indexes this path follows.
    pub fn steps(&self) -> &[String] {
        &self.steps
    }

    /// `base` with this path appended as JSON pointer tokens.
    pub fn pointer(&self, base: &str) -> String {
        let mut out = base.to_owned();
        for step in &self.steps {
            out.push('/');
            out.push_str(&step.replace('~', "~0").replace('/', "~1"));
        }
        out
    }
}

fn dollar_path(mut rest: &str, collection: bool) -> Result<Vec<String>, String> {
    let mut steps = Vec::new();
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('.') {
            let end = after.find(['.', '[']).unwrap_or(after.len());
            if end == 0 {
                return Err("empty name after '.'".to_owned());
            }
            steps.push(after[..end].to_owned());
            rest = &after[end..];
        } else if let Some(after) = rest.strip_prefix("[*]") {
            if !(collection && after.is_empty()) {
                return Err("[*] may only end the path of `orders` or `lines.path`".to_owned());
            }
            rest = after;
        } else if let Some(after) = rest.strip_prefix('[') {
            let close = after.find(']').ok_or("'[' is not closed")?;
            let inner = &after[..close];
            let quoted = ['"', '\'']
                .iter()
                .find_map(|q| inner.strip_prefix(*q)?.strip_suffix(*q));
            match quoted {
                Some(name) => steps.push(name.to_owned()),
                None if !inner.is_empty() && inner.bytes().all(|b| b.is_ascii_digit()) => {
                    steps.push(
                        inner
                            .parse::<usize>()
                            .map_err(|e| e.to_string())?
                            .to_string(),
                    );
                }
                None => {
                    return Err(format!(
                        "[{inner}] is neither an index, [*] nor a quoted name"
                    ));
                }
            }
            rest = &after[close + 1..];
        } else {
            return Err(format!("unexpected {rest:?}; expected '.name' or '[...]'"));
        }
    }
    Ok(steps)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn steps(text: &str) -> Vec<String> {
        Path::parse(text, true).unwrap().steps
    }

    #[test]
    fn both_syntaxes() {
        assert_eq!(steps("$.header.po_no"), ["header", "po_no"]);
        assert_eq!(steps("/header/po_no"), ["header", "po_no"]);
        assert_eq!(
            steps("$.items[2]['unit price'][\"x.y\"]"),
            ["items", "2", "unit price", "x.y"]
        );
        assert_eq!(steps("/a~1b/c~0d"), ["a/b", "c~d"]);
        assert_eq!(steps("$.items[*]"), ["items"]);
        assert_eq!(steps("$"), Vec::<String>::new());
        assert_eq!(
            Path::parse("$['a/b'].c", false)
                .unwrap()
                .pointer("/orders/1"),
            "/orders/1/a~1b/c"
        );
        for bad in ["header.po_no", "$.", "$.a[", "$.a[x]", "$..a"] {
            assert!(Path::parse(bad, true).is_err(), "{bad}");
        }
        assert!(Path::parse("$.items[*]", false).is_err());
        assert!(Path::parse("$.items[*].qty", true).is_err());
    }
}
