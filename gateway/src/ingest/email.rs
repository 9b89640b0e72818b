//! A raw e-mail (RFC 5322) as the plugin sees it: the WIT `email` record, made
//! with `mail-parser` (Stalwart's MIME parser, every charset through
//! `encoding_rs`).
//!
//! The raw message is what is stored, with the media type [`MESSAGE_RFC822`];
//! the parts are made again from it whenever the message is read (first time,
//! recovery, replay), so a replay sees exactly what the first reading saw.
//!
//! What the plugin gets, and why:
//! - `subject`, decoded (RFC 2047); `sender`, the `From` address.
//! - `text`: the text bodies in order, and an HTML-only body rendered as text
//!   (a table typed in Outlook or Gmail arrives as HTML only).
//! - `attachments`: every attachment, with those of forwarded messages
//!   (`message/rfc822` parts, to any depth the parser opens) after their own
//!   text, and an `application/octet-stream` whose file name says what it is
//!   (`order.csv`) given that media type, since mail clients send what they do
//!   not know as octet-stream.

use mail_parser::{MessageParser, MimeHeaders, PartType};

use crate::plugin_host::{EmailAttachment, EmailInput};

/// The media type of a stored e-mail message.
pub const MESSAGE_RFC822: &str = "message/rfc822";

/// What the gateway reads of an e-mail besides the plugin's parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedEmail {
    /// The plugin's parts.
    pub input: EmailInput,
    /// The `Message-ID`, without angle brackets.
    pub message_id: Option<String>,
    /// The `From` address, lower-cased (empty when there is none).
    pub from: String,
    /// Every address in `To`, `Cc`, `Delivered-To` and `X-Original-To`, for a
    /// message that came without its envelope (posted over HTTP).
    pub recipients: Vec<String>,
    /// The message is itself automatic (RFC 3834 `Auto-Submitted` other than
    /// `no`, or `Precedence: bulk/list/junk`): never answered, so two robots
    /// cannot answer each other for ever.
    pub automatic: bool,
    /// The headers, decoded, in order.
    pub headers: Vec<(String, String)>,
}

/// Why a message could not be read as e-mail at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the message is not an e-mail (RFC 5322): it has no header that could be read")]
pub struct NotAnEmail;

/// The e-mail parts of a message of `content_type`: a raw e-mail
/// (`message/rfc822`), whichever way it came (the SMTP listener, a post of the
/// raw mail to `/v1/orders` or `/v1/inbound/email`, `plugin test`), gets them;
/// anything else none.
pub fn parts_for(content_type: &str, body: &[u8]) -> Option<EmailInput> {
    let essence = content_type.split(';').next().unwrap_or_default().trim();
    if !essence.eq_ignore_ascii_case(MESSAGE_RFC822) {
        return None;
    }
    parse(body).ok().map(|parsed| parsed.input)
}

/// Reads a raw RFC 5322 message.
pub fn parse(raw: &[u8]) -> Result<ParsedEmail, NotAnEmail> {
    let message = MessageParser::default().parse(raw).ok_or(NotAnEmail)?;
    if message.headers().is_empty() {
        return Err(NotAnEmail);
    }
    let from = message
        .from()
        .and_then(|a| a.first())
        .and_then(|a| a.address())
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    let mut recipients = Vec::new();
    for address in [message.to(), message.cc()].into_iter().flatten() {
        recipients.extend(
            address
                .iter()
                .filter_map(|a| a.address())
                .map(str::to_owned),
        );
    }
    for name in ["Delivered-To", "X-Original-To"] {
        for value in message.header_values(name) {
            if let Some(text) = value.as_text() {
                recipients.push(text.trim().trim_matches(['<', '>']).to_owned());
            }
        }
    }
    let header_text = |name: &str| {
        message
            .header_raw(name)
            .map(|v| v.trim().to_ascii_lowercase())
    };
    let automatic = header_text("Auto-Submitted").is_some_and(|v| !v.starts_with("no"))
        || header_text("Precedence")
            .is_some_and(|v| matches!(v.as_str(), "bulk" | "list" | "junk"));
    let headers = message
        .headers_raw()
        .map(|(name, value)| (name.to_owned(), unfold(value)))
        .collect();
    let mut text = Vec::new();
    for index in 0..message.text_body_count() {
        if let Some(body) = message.body_text(index) {
            text.push(body.into_owned());
        }
    }
    let html: Vec<String> = message
        .html_bodies()
        .filter_map(|part| match &part.body {
            PartType::Html(html) => Some(html.to_string()),
            _ => None,
        })
        .collect();
    let mut attachments = Vec::new();
    collect_attachments(&message, &mut attachments);
    Ok(ParsedEmail {
        input: EmailInput {
            subject: message.subject().unwrap_or_default().to_owned(),
            sender: from.clone(),
            date: message.date().map(|date| date.to_rfc3339()),
            text: (!text.is_empty()).then(|| text.join("\n")),
            html: (!html.is_empty()).then(|| html.join("\n")),
            attachments,
        },
        message_id: message.message_id().map(str::to_owned),
        from,
        recipients,
        automatic,
        headers,
    })
}

/// The attachments of `message` in order, a forwarded message's in its place.
fn collect_attachments(message: &mail_parser::Message<'_>, out: &mut Vec<EmailAttachment>) {
    for part in message.attachments() {
        if let PartType::Message(inner) = &part.body {
            collect_attachments(inner, out);
            continue;
        }
        let filename = part.attachment_name().map(str::to_owned);
        let declared = part
            .content_type()
            .map(|c| match c.subtype() {
                Some(sub) => format!("{}/{}", c.ctype(), sub),
                None => c.ctype().to_owned(),
            })
            .unwrap_or_else(|| "application/octet-stream".to_owned())
            .to_ascii_lowercase();
        let content_type = match (&*declared, filename.as_deref().and_then(type_by_name)) {
            ("application/octet-stream", Some(named)) => named.to_owned(),
            _ => declared,
        };
        out.push(EmailAttachment {
            filename,
            content_type,
            body: part.contents().to_vec(),
        });
    }
}

/// The media type a file name's extension says, for the kinds of files orders
/// come in.
fn type_by_name(name: &str) -> Option<&'static str> {
    let extension = name.rsplit_once('.')?.1.to_ascii_lowercase();
    Some(match extension.as_str() {
        "csv" => "text/csv",
        "tsv" | "tab" => "text/tab-separated-values",
        "txt" => "text/plain",
        "xlsx" => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "xml" => "application/xml",
        "json" => "application/json",
        "x12" | "850" => "application/edi-x12",
        "edi" => "application/edi",
        "edifact" | "edf" => "application/edifact",
        "pdf" => "application/pdf",
        _ => return None,
    })
}

/// A header value on one line, as the plugin's `headers` carry it.
fn unfold(value: &str) -> String {
    value
        .split(['\r', '\n'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    const FORWARDED: &[u8] = b"From: Budi <Budi@Mitra.co.id>\r\n\
To: orders+abc@in.example.id\r\n\
Subject: =?UTF-8?B?UGVzYW5hbiBiYXJ1?=\r\n\
Message-ID: <m1@mitra.co.id>\r\n\
MIME-Version: 1.0\r\n\
Content-Type: multipart/mixed; boundary=\"b1\"\r\n\
\r\n\
--b1\r\n\
Content-Type: text/html; charset=iso-8859-1\r\n\
\r\n\
<p>Pesanan terlampir, caf\xe9</p>\r\n\
--b1\r\n\
Content-Type: application/octet-stream; name=\"po.csv\"\r\n\
Content-Disposition: attachment; filename=\"po.csv\"\r\n\
Content-Transfer-Encoding: base64\r\n\
\r\n\
YSxiCjEsMgo=\r\n\
--b1\r\n\
Content-Type: message/rfc822\r\n\
\r\n\
From: sys@mitra.co.id\r\n\
Subject: inner\r\n\
Content-Type: multipart/mixed; boundary=\"b2\"\r\n\
\r\n\
--b2\r\n\
Content-Type: text/plain\r\n\
\r\n\
inner text\r\n\
--b2\r\n\
Content-Type: application/xml\r\n\
Content-Disposition: attachment; filename=\"order.xml\"\r\n\
\r\n\
<Order/>\r\n\
--b2--\r\n\
--b1--\r\n";

    #[test]
    fn every_part_a_plugin_needs_is_read() {
        let mail = parse(FORWARDED).unwrap();
        assert_eq!(mail.input.subject, "Pesanan baru");
        assert_eq!(mail.from, "budi@mitra.co.id");
        assert_eq!(mail.input.sender, "budi@mitra.co.id");
        assert_eq!(mail.message_id.as_deref(), Some("m1@mitra.co.id"));
        assert!(
            mail.recipients
                .contains(&"orders+abc@in.example.id".to_owned())
        );
        // HTML only, in Latin-1: rendered as text, decoded.
        let text = mail.input.text.unwrap();
        assert!(text.contains("Pesanan terlampir, café"), "{text}");
        assert!(
            mail.input.html.as_deref().unwrap().contains("<p>Pesanan"),
            "{:?}",
            mail.input.html
        );
        assert_eq!(mail.input.date, None);
        let named: Vec<_> = mail
            .input
            .attachments
            .iter()
            .map(|a| (a.filename.as_deref().unwrap(), a.content_type.as_str()))
            .collect();
        // The octet-stream takes the type its name says; the forwarded message's
        // attachment comes along.
        assert_eq!(
            named,
            [("po.csv", "text/csv"), ("order.xml", "application/xml")]
        );
        assert_eq!(mail.input.attachments[0].body, b"a,b\n1,2\n");
        assert!(!mail.automatic);
    }

    #[test]
    fn automatic_mail_is_marked_and_garbage_is_no_email() {
        let mail = parse(b"From: a@b.c\r\nAuto-Submitted: auto-replied\r\n\r\nhi").unwrap();
        assert!(mail.automatic);
        let mail = parse(
            b"From: a@b.c\r\nAuto-Submitted: no\r\nDate: Fri, 27 Nov 2026 09:15:00 +0700\r\n\r\nhi",
        )
        .unwrap();
        assert!(!mail.automatic);
        assert_eq!(
            mail.input.date.as_deref(),
            Some("2026-11-27T09:15:00+07:00")
        );
        assert_eq!(mail.input.html, None);
        assert_eq!(parse(b""), Err(NotAnEmail));
    }
}
