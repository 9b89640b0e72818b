//! The inbound message, as plain Rust types mirroring the WIT `message` record.

/// One HTTP header (or e-mail header) of the inbound message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Header {
    pub name: String,
    pub value: String,
}

/// A file attached to an e-mail.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Attachment {
    pub filename: Option<String>,
    pub content_type: String,
    pub body: Vec<u8>,
}

/// The parsed parts of an order that arrived by e-mail.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Email {
    /// The `Subject`, decoded.
    pub subject: String,
    /// The `From` address, lower case.
    pub sender: String,
    /// The `Date`, RFC 3339 with the sender's offset, e.g.
    /// `2026-11-27T09:15:00+07:00`.
    pub date: Option<String>,
    /// The text bodies; a body that is only HTML, rendered as text.
    pub text: Option<String>,
    /// The HTML bodies as written.
    pub html: Option<String>,
    pub attachments: Vec<Attachment>,
}

/// The inbound message exactly as the buyer sent it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Message {
    /// Media type without parameters, lower case, e.g. `application/xml`.
    pub content_type: String,
    pub headers: Vec<Header>,
    pub body: Vec<u8>,
    /// Present when the message came in by e-mail.
    pub email: Option<Email>,
}

impl Message {
    /// A message with just a content type and a body, as most tests need.
    pub fn new(content_type: impl Into<String>, body: impl Into<Vec<u8>>) -> Self {
        Self {
            content_type: content_type.into(),
            body: body.into(),
            ..Self::default()
        }
    }

    /// The value of the first header called `name` (ASCII case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
            .map(|h| h.value.as_str())
    }
}
