//! Namespace resolution, kept to what UBL needs.
//!
//! quick-xml's `NsReader` resolves every element's namespace in general terms and
//! cost as much again as parsing itself here; a UBL order declares a handful of
//! prefixes, almost always on the root, so a short stack of bindings searched from
//! the innermost is all it takes. Declarations are only looked for in start tags
//! whose attributes mention `xmlns`.

use quick_xml::events::BytesStart;

use crate::names::Ns;

/// One `xmlns` or `xmlns:prefix` declaration in scope.
struct Binding {
    /// Empty for the default namespace.
    prefix: Box<str>,
    /// Empty when the declaration undeclares (`xmlns=""`).
    uri: Box<str>,
    ns: Ns,
    /// Depth of the element that declared it; it goes out of scope with it.
    depth: usize,
}

/// The namespace bindings in scope at the current element.
#[derive(Default)]
pub struct Namespaces {
    bindings: Vec<Binding>,
}

impl Namespaces {
    /// Enters an element at `depth` (root = 1): records its declarations.
    pub fn enter(&mut self, start: &BytesStart<'_>, depth: usize) -> Result<(), String> {
        if !mentions_xmlns(start.attributes_raw().as_bytes()) {
            return Ok(());
        }
        for attribute in start.attributes() {
            let attribute = attribute.map_err(|e| e.to_string())?;
            let key = attribute.key.as_ref();
            let prefix = match key.strip_prefix("xmlns") {
                Some("") => "",
                Some(rest) => match rest.strip_prefix(':') {
                    Some(prefix) => prefix,
                    None => continue, // an attribute like `xmlnsfoo`
                },
                None => continue,
            };
            let uri = attribute
                .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .map_err(|e| e.to_string())?;
            self.bindings.push(Binding {
                prefix: prefix.into(),
                ns: Ns::of((!uri.is_empty()).then_some(&*uri)),
                uri: uri.as_ref().into(),
                depth,
            });
        }
        Ok(())
    }

    /// Leaves the element at `depth`: its declarations go out of scope.
    pub fn leave(&mut self, depth: usize) {
        while self.bindings.last().is_some_and(|b| b.depth >= depth) {
            self.bindings.pop();
        }
    }

    /// The namespace and local name of an element's qualified name.
    pub fn resolve<'n>(&self, qname: &'n str) -> (Ns, &'n str) {
        let (prefix, local) = qname.split_once(':').unwrap_or(("", qname));
        let ns = self.binding(prefix).map_or(Ns::Other, |b| b.ns);
        (ns, local)
    }

    /// The namespace URI of an element's prefix, for messages; `None` if unbound.
    pub fn uri(&self, qname: &str) -> Option<&str> {
        let prefix = qname.split_once(':').map_or("", |(p, _)| p);
        self.binding(prefix)
            .map(|b| &*b.uri)
            .filter(|uri| !uri.is_empty())
    }

    fn binding(&self, prefix: &str) -> Option<&Binding> {
        // Every element looks its prefix up, and a prefix is a few bytes: compared
        // byte by byte here rather than with a call to memcmp for each binding.
        let prefix = prefix.as_bytes();
        self.bindings.iter().rev().find(|b| {
            b.prefix.len() == prefix.len() && b.prefix.bytes().zip(prefix).all(|(a, b)| a == *b)
        })
    }
}

/// Whether a start tag's attributes have `xmlns` in them. Every start tag is
/// asked; `str::contains` compares a text this short with a call to `memcmp` at
/// each of its positions, where this looks further only at an `x`.
fn mentions_xmlns(attributes: &[u8]) -> bool {
    attributes
        .iter()
        .enumerate()
        .any(|(i, &b)| b == b'x' && attributes[i..].starts_with(b"xmlns"))
}

#[cfg(test)]
mod tests {
    use quick_xml::events::BytesStart;

    use super::*;
    use crate::names::{CAC, CBC};

    fn start(tag: &str) -> BytesStart<'_> {
        let name_len = tag.find(' ').unwrap_or(tag.len());
        BytesStart::from_content(tag, name_len)
    }

    #[test]
    fn bindings_are_scoped_to_their_element() {
        let mut ns = Namespaces::default();
        let root = format!(r#"Order xmlns="{CBC}" xmlns:a="{CAC}""#);
        ns.enter(&start(&root), 1).unwrap();
        assert_eq!(ns.resolve("ID"), (Ns::Cbc, "ID"));
        assert_eq!(ns.resolve("a:Party"), (Ns::Cac, "Party"));
        assert_eq!(
            ns.resolve("b:Party"),
            (Ns::Other, "Party"),
            "unbound prefix"
        );

        ns.enter(&start(r#"a:Item xmlns:a="urn:other" xmlns="""#), 2)
            .unwrap();
        assert_eq!(ns.resolve("a:Party"), (Ns::Other, "Party"));
        assert_eq!(ns.resolve("ID"), (Ns::Other, "ID"), "default undeclared");
        assert_eq!(ns.uri("ID"), None);
        ns.leave(2);
        assert_eq!(ns.resolve("a:Party"), (Ns::Cac, "Party"));
        assert_eq!(ns.uri("x"), Some(CBC));
    }

    #[test]
    fn xmlns_is_found_wherever_it_is() {
        assert!(mentions_xmlns(br#" xmlns="u""#));
        assert!(mentions_xmlns(br#" a="x" xxmlns:p="u""#));
        assert!(mentions_xmlns(b"xmlns"));
        assert!(!mentions_xmlns(br#" a="xmln""#));
        assert!(!mentions_xmlns(b""));
    }
}
