//! The attributes of the element being read.

use std::ops::Range;

/// The attributes of the last start tag, name to value, in name order (the
/// order of an extension's map). Every start tag is read into it, so one string
/// holds all names and values and nothing is allocated per element once it has
/// grown; only an extension that keeps them copies them out.
#[derive(Default)]
pub struct Attributes {
    text: String,
    /// Each attribute's name and value as ranges of `text`, by name.
    spans: Vec<(Range<usize>, Range<usize>)>,
}

impl Attributes {
    pub fn clear(&mut self) {
        self.text.clear();
        self.spans.clear();
    }

    /// Sets attribute `name` to `value`, replacing any value it had.
    pub fn insert(&mut self, name: &str, value: &str) {
        let at = self
            .spans
            .binary_search_by(|(n, _)| self.text[n.clone()].cmp(name));
        let value_start = self.text.len();
        self.text.push_str(value);
        let value_span = value_start..self.text.len();
        match at {
            Ok(i) => self.spans[i].1 = value_span,
            Err(i) => {
                let name_start = self.text.len();
                self.text.push_str(name);
                self.spans
                    .insert(i, (name_start..self.text.len(), value_span));
            }
        }
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.iter()
            .find(|(n, _)| *n == name)
            .map(|(_, value)| value)
    }

    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// Name and value of each attribute, by name.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.spans
            .iter()
            .map(|(name, value)| (&self.text[name.clone()], &self.text[value.clone()]))
    }
}
