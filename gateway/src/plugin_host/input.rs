//! The inbound message as the host hands it to a plugin, mirroring the WIT
//! `message` record, plus the cheap checks done before any wasm runs.

use super::bindings::{v1, v2, v3, v4};
use super::error::LoadError;

/// One inbound message, exactly as the buyer sent it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PluginInput {
    /// The message's media type; parameters are stripped and it is lower-cased
    /// before the plugin sees it (`Application/XML; charset=utf-8` →
    /// `application/xml`).
    pub content_type: String,
    /// HTTP (or e-mail) headers, in order, as name/value pairs.
    pub headers: Vec<(String, String)>,
    /// The body bytes.
    pub body: Vec<u8>,
    /// For a message that came by e-mail, its parsed parts.
    pub email: Option<EmailInput>,
}

/// The parsed parts of an order that arrived by e-mail.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EmailInput {
    /// The Subject header, decoded.
    pub subject: String,
    /// The sender's address.
    pub sender: String,
    /// The `Date`, RFC 3339 (given to plugins of `jembatan:plugin@0.3.0` on).
    pub date: Option<String>,
    /// The text part, if there is one.
    pub text: Option<String>,
    /// The HTML bodies as written (given to plugins of `jembatan:plugin@0.3.0` on).
    pub html: Option<String>,
    /// The attachments, in order.
    pub attachments: Vec<EmailAttachment>,
}

/// A file attached to an e-mail.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EmailAttachment {
    /// The attachment's file name, if it has one.
    pub filename: Option<String>,
    /// The attachment's media type.
    pub content_type: String,
    /// The attachment's bytes.
    pub body: Vec<u8>,
}

impl PluginInput {
    /// Bytes this message puts into the plugin's memory: body, headers and
    /// e-mail parts. This is what `Limits::input_bytes` bounds.
    pub fn size_bytes(&self) -> u64 {
        let headers: usize = self.headers.iter().map(|(n, v)| n.len() + v.len()).sum();
        let email = self.email.as_ref().map_or(0, |email| {
            let attachments: usize = email
                .attachments
                .iter()
                .map(|a| {
                    a.filename.as_ref().map_or(0, String::len) + a.content_type.len() + a.body.len()
                })
                .sum();
            email.subject.len()
                + email.sender.len()
                + email.date.as_ref().map_or(0, String::len)
                + email.text.as_ref().map_or(0, String::len)
                + email.html.as_ref().map_or(0, String::len)
                + attachments
        });
        (self.content_type.len() + headers + self.body.len() + email) as u64
    }

    /// The record of the first WIT version; moves the bytes, copies nothing large.
    pub(crate) fn into_wit_v1(self) -> v1::Message {
        wit_message!(v1, self)
    }

    /// The record of the second WIT version, the same fields in its own types.
    pub(crate) fn into_wit_v2(self) -> v2::Message {
        wit_message!(v2, self)
    }

    /// The record of the third WIT version, whose e-mail also has its date and
    /// HTML.
    pub(crate) fn into_wit_v3(self) -> v3::Message {
        wit_message!(v3, self, date, html)
    }

    /// The record of the fourth WIT version (both of its worlds), the same
    /// fields as the third's.
    pub(crate) fn into_wit_v4(self) -> v4::Message {
        wit_message!(v4, self, date, html)
    }
}

/// A [`PluginInput`] as the `message` record of WIT module `$wit`: the
/// versions' records have the same fields (the e-mail's `$extra` ones from a
/// version on) but are distinct Rust types.
macro_rules! wit_message {
    ($wit:ident, $input:expr $(, $extra:ident)*) => {{
        let input: PluginInput = $input;
        $wit::Message {
            content_type: media_type_essence(&input.content_type),
            headers: input
                .headers
                .into_iter()
                .map(|(name, value)| $wit::Header { name, value })
                .collect(),
            body: input.body,
            email: input.email.map(|email| $wit::Email {
                subject: email.subject,
                sender: email.sender,
                text: email.text,
                $($extra: email.$extra,)*
                attachments: email
                    .attachments
                    .into_iter()
                    .map(|a| $wit::Attachment {
                        filename: a.filename,
                        content_type: a.content_type,
                        body: a.body,
                    })
                    .collect(),
            }),
        }
    }};
}
use wit_message;

/// A media type without parameters, trimmed and lower-cased.
pub(crate) fn media_type_essence(content_type: &str) -> String {
    content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

/// Refuses what is not even a component before handing it to the compiler, so
/// the error says what the bytes are rather than what the parser tripped on.
pub(crate) fn check_component_header(wasm: &[u8]) -> Result<(), LoadError> {
    const MAGIC: &[u8; 4] = b"\0asm";
    // Version/layer word: core modules are version 1, layer 0; components
    // are version 0x0d, layer 1.
    const CORE: [u8; 4] = [1, 0, 0, 0];
    const COMPONENT_LAYER: [u8; 2] = [1, 0];
    if wasm.len() < 8 || &wasm[..4] != MAGIC {
        return Err(LoadError::Invalid(
            "the bytes do not start with the WebAssembly magic number".into(),
        ));
    }
    if wasm[4..8] == CORE {
        return Err(LoadError::NotAPlugin(
            "this is a core WebAssembly module, not a component; build the plugin for \
             wasm32-wasip2"
                .into(),
        ));
    }
    if wasm[6..8] != COMPONENT_LAYER {
        return Err(LoadError::Invalid(format!(
            "unknown WebAssembly binary version {:02x?}",
            &wasm[4..8]
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn essence_strips_parameters_and_case() {
        assert_eq!(
            media_type_essence(" Application/XML ; charset=UTF-8"),
            "application/xml"
        );
        assert_eq!(media_type_essence("text/csv"), "text/csv");
    }

    #[test]
    fn size_counts_every_part() {
        let input = PluginInput {
            content_type: "a/b".into(),
            headers: vec![("x".into(), "yz".into())],
            body: vec![0; 10],
            email: Some(EmailInput {
                subject: "s".into(),
                sender: "me".into(),
                date: Some("d".into()),
                text: Some("hi".into()),
                html: Some("<p>".into()),
                attachments: vec![EmailAttachment {
                    filename: Some("f".into()),
                    content_type: "c/d".into(),
                    body: vec![0; 5],
                }],
            }),
        };
        assert_eq!(
            input.size_bytes(),
            3 + 3 + 10 + 1 + 2 + 1 + 2 + 3 + 1 + 3 + 5
        );
    }

    #[test]
    fn headers_tell_core_modules_and_garbage_apart() {
        assert!(matches!(
            check_component_header(b"hello world"),
            Err(LoadError::Invalid(_))
        ));
        assert!(matches!(
            check_component_header(b"\0asm\x01\0\0\0"),
            Err(LoadError::NotAPlugin(_))
        ));
        assert!(check_component_header(b"\0asm\x0d\0\x01\0").is_ok());
    }
}
