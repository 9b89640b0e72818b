//! The e-mail channel: one message per order through the operator's SMTP server,
//! readable (text and HTML) with the order attached as JSON and CSV, and the
//! drawings and specifications the buyer embedded in it attached as files.
//!
//! The message's `Message-ID` is `<{delivery_id}@jembatan>`, the same on every
//! attempt, so a mail system (or a person) can tell a repeat from a new order.

use std::fmt;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use lettre::message::header::{ContentTransferEncoding, ContentType};
use lettre::message::{Attachment, Body, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::AsyncSmtpTransportBuilder;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde::Deserialize;

use super::{Channel, ChannelConfigError, Failure, Outgoing, SendError, Sent, excerpt, redact};
use crate::delivery::render;
use crate::orders::OrderSchema;

/// How the connection to the SMTP server is secured.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpTls {
    /// Plain text throughout. Only for a relay on the same host or a test server.
    None,
    /// Connect in plain text and upgrade with STARTTLS, refusing to go on if the
    /// server cannot (usually port 587).
    #[default]
    Starttls,
    /// TLS from the first byte, "SMTPS" (usually port 465).
    Tls,
}

/// The SMTP server e-mail is sent through (`[delivery.email]`).
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmailConfig {
    /// The server's host name; with TLS, also the name its certificate must carry.
    pub host: String,
    /// The server's port: 587 by default; 465 is usual with `tls = "tls"`.
    #[serde(default = "default_port")]
    pub port: u16,
    /// `none`, `starttls` (the default) or `tls`.
    #[serde(default)]
    pub tls: SmtpTls,
    /// A PEM file of CA certificates to trust for this server, beside the usual
    /// public roots: for a private relay whose certificate a company CA signed.
    /// The certificate is still verified (name and chain); there is no switch to
    /// accept any certificate. Needs `tls` to be `starttls` or `tls`.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// The user name to log in with, if the server wants one.
    #[serde(default)]
    pub username: Option<String>,
    /// The password for `username`. Never logged, nor shown by `Debug`.
    #[serde(default)]
    pub password: Option<String>,
    /// The sender, as a mailbox: `jembatan <orders@example.id>` or `orders@example.id`.
    pub from: String,
    /// How long each step of talking to the server may take, e.g. `"30s"`.
    #[serde(default = "default_timeout", with = "humantime_serde")]
    pub timeout: Duration,
}

fn default_port() -> u16 {
    587
}

fn default_timeout() -> Duration {
    Duration::from_secs(30)
}

impl Default for EmailConfig {
    fn default() -> Self {
        Self {
            host: String::new(),
            port: default_port(),
            tls: SmtpTls::default(),
            ca_file: None,
            username: None,
            password: None,
            from: String::new(),
            timeout: default_timeout(),
        }
    }
}

impl fmt::Debug for EmailConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EmailConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("tls", &self.tls)
            .field("ca_file", &self.ca_file)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "[redacted]"))
            .field("from", &self.from)
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// Where one e-mail goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailTarget {
    /// The craftsman's address.
    pub to: String,
}

/// Sends orders by e-mail. One pooled SMTP transport for every message.
#[derive(Clone)]
pub struct EmailChannel {
    /// Replaced by a fresh one (an empty pool) after a send hits its deadline: see
    /// [`EmailChannel::discard_connections`].
    transport: Arc<Mutex<AsyncSmtpTransport<Tokio1Executor>>>,
    builder: AsyncSmtpTransportBuilder,
    from: Mailbox,
    host: String,
    /// Kept only to mask it in errors a server might echo it into.
    password: Option<String>,
}

impl fmt::Debug for EmailChannel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EmailChannel")
            .field("host", &self.host)
            .field("from", &self.from.to_string())
            .finish_non_exhaustive()
    }
}

impl EmailChannel {
    /// Checks the config and sets up the transport; nothing connects until the
    /// first send. Call it inside the Tokio runtime: lettre's connection pool
    /// starts a task when it is made and another when it is dropped.
    pub fn new(config: &EmailConfig) -> Result<Self, ChannelConfigError> {
        let error = |message: String| ChannelConfigError::new("email", message);
        if tokio::runtime::Handle::try_current().is_err() {
            return Err(error("must be set up inside the Tokio runtime".into()));
        }
        let host = config.host.trim();
        if host.is_empty() {
            return Err(error("`host` is not set".into()));
        }
        let from: Mailbox = config
            .from
            .parse()
            .map_err(|e| error(format!("`from` {:?} is not a mailbox: {e}", config.from)))?;
        // "When a TCP connection is established for the "submissions" service
        // (default port 465), a TLS handshake begins immediately" (RFC 8314 §3.3):
        // STARTTLS there waits for a greeting that never comes (lettre issue #1027).
        // The send's deadline ends it, but the config is most likely wrong.
        match (config.tls, config.port) {
            (SmtpTls::Starttls, 465) => tracing::warn!(
                "[delivery.email] tls = \"starttls\" on port 465, where servers speak TLS from \
                 the first byte: did you mean tls = \"tls\"?"
            ),
            (SmtpTls::Tls, 587) => tracing::warn!(
                "[delivery.email] tls = \"tls\" on port 587, where servers expect STARTTLS: \
                 did you mean tls = \"starttls\"?"
            ),
            _ => {}
        }
        // Required, not opportunistic: a server that cannot do STARTTLS gets nothing.
        let tls = match config.tls {
            SmtpTls::None if config.ca_file.is_some() => {
                return Err(error(
                    "`ca_file` is set but `tls` is \"none\": the CA would never be used".into(),
                ));
            }
            SmtpTls::None => Tls::None,
            SmtpTls::Starttls => Tls::Required(tls_parameters(host, config)?),
            SmtpTls::Tls => Tls::Wrapper(tls_parameters(host, config)?),
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
            .tls(tls)
            .port(config.port)
            .timeout(Some(config.timeout));
        match (&config.username, &config.password) {
            (Some(user), Some(password)) => {
                builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
            }
            (None, None) => {}
            (Some(_), None) => return Err(error("`username` is set without `password`".into())),
            (None, Some(_)) => return Err(error("`password` is set without `username`".into())),
        }
        Ok(Self {
            transport: Arc::new(Mutex::new(builder.clone().build())),
            builder,
            from,
            host: host.to_owned(),
            password: config.password.clone(),
        })
    }

    /// The message for one order: text and HTML alternatives, then the order as
    /// JSON (the webhook's `data` object) and as CSV, then the files the buyer
    /// embedded in it. An address that does not parse is a permanent failure.
    pub fn message(&self, target: &EmailTarget, out: &Outgoing<'_>) -> Result<Message, SendError> {
        let to: Mailbox = target.to.parse().map_err(|e| {
            SendError::permanent(
                None,
                format!("{:?} is not an e-mail address: {e}", target.to),
            )
        })?;
        if out.reminder {
            // A short note, text and HTML, with no attachment: the order went before.
            return Message::builder()
                .from(self.from.clone())
                .to(to)
                .subject(render::reminder_subject(out))
                .message_id(Some(format!("<{}@jembatan>", out.delivery_id)))
                .multipart(
                    MultiPart::alternative()
                        .singlepart(part(ContentType::TEXT_PLAIN, render::reminder_text(out)))
                        .singlepart(part(ContentType::TEXT_HTML, render::reminder_html(out))),
                )
                .map_err(|e| SendError::permanent(None, format!("building the e-mail: {e}")));
        }
        let stem = format!("order-{}", render::file_stem(&out.order.buyer_order_number));
        let json = serde_json::to_string_pretty(&render::order_data(out.order, OrderSchema::V2))
            .expect("an order always serializes");
        let alternative = MultiPart::alternative()
            .singlepart(part(ContentType::TEXT_PLAIN, render::text(out)))
            .singlepart(part(ContentType::TEXT_HTML, render::html(out)));
        let mut mixed = MultiPart::mixed()
            .multipart(alternative)
            .singlepart(attachment(format!("{stem}.json"), "application/json", json))
            .singlepart(attachment(
                format!("{stem}.csv"),
                "text/csv; charset=utf-8",
                render::csv(&out.order.order),
            ));
        for file in render::embedded_files(&out.order.order) {
            let content_type = ContentType::parse(&file.media_type)
                .expect("embedded_files gives plain media types");
            mixed = mixed
                .singlepart(Attachment::new(file.name).body(base64_body(file.bytes), content_type));
        }
        Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(render::subject(out))
            .message_id(Some(format!("<{}@jembatan>", out.delivery_id)))
            .multipart(mixed)
            .map_err(|e| SendError::permanent(None, format!("building the e-mail: {e}")))
    }
}

/// How the server's certificate is checked: against the public roots and, when
/// the operator gives one, their own CA; always for the name `host`.
fn tls_parameters(host: &str, config: &EmailConfig) -> Result<TlsParameters, ChannelConfigError> {
    let error = |message: String| ChannelConfigError::new("email", message);
    let mut builder = TlsParameters::builder(host.to_owned());
    if let Some(path) = &config.ca_file {
        let shown = path.display();
        let pem = std::fs::read(path)
            .map_err(|e| error(format!("cannot read `ca_file` {shown}: {e}")))?;
        // lettre takes a file without any certificate as an empty list; an operator
        // who named a file meant it to hold one.
        if !pem
            .windows(PEM_CERTIFICATE.len())
            .any(|w| w == PEM_CERTIFICATE)
        {
            return Err(error(format!("`ca_file` {shown} holds no PEM certificate")));
        }
        let certificate =
            Certificate::from_pem(&pem).map_err(|e| error(format!("`ca_file` {shown}: {e}")))?;
        builder = builder.add_root_certificate(certificate);
    }
    builder
        .build()
        .map_err(|e| error(format!("TLS to {host}: {e}")))
}

const PEM_CERTIFICATE: &[u8] = b"-----BEGIN CERTIFICATE-----";

/// A text part. Base64 keeps any line length and any character intact through
/// every relay.
fn part(content_type: ContentType, text: String) -> SinglePart {
    SinglePart::builder()
        .header(content_type)
        .body(base64_body(text.into_bytes()))
}

/// An attachment, bytes exactly as rendered (as bytes, lettre does not rewrite line
/// endings).
fn attachment(filename: String, content_type: &str, content: String) -> SinglePart {
    let content_type = ContentType::parse(content_type).expect("a valid media type");
    Attachment::new(filename).body(base64_body(content.into_bytes()), content_type)
}

fn base64_body(bytes: Vec<u8>) -> Body {
    Body::new_with_encoding(bytes, ContentTransferEncoding::Base64)
        .expect("base64 can carry any bytes")
}

/// The reply to a buyer's e-mailed order (see `mail::reply`), sent through the
/// same relay as the orders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplyMail {
    /// The sender of the order, who gets the reply.
    pub to: String,
    pub subject: String,
    /// The whole reply, plain text.
    pub text: String,
    /// The order mail's `Message-ID`, with its angle brackets.
    pub in_reply_to: Option<String>,
    /// What made the mail (RFC 3834 §5): an answer to a mail, or the gateway's own
    /// notice (the admin's alerts).
    pub auto_submitted: AutoSubmitted,
}

impl EmailChannel {
    /// Sends a reply or a notice: plain text, marked automatic (RFC 3834 §5,
    /// `Auto-Submitted`) and threaded to the mail it answers, if any.
    pub async fn send_reply(&self, reply: &ReplyMail) -> Result<Sent, SendError> {
        let to: Mailbox = reply.to.parse().map_err(|e| {
            SendError::permanent(
                None,
                format!("{:?} is not an e-mail address: {e}", reply.to),
            )
        })?;
        let mut builder = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(reply.subject.clone())
            .header(reply.auto_submitted);
        if let Some(id) = &reply.in_reply_to {
            builder = builder.in_reply_to(id.clone()).references(id.clone());
        }
        let message = builder
            .singlepart(part(ContentType::TEXT_PLAIN, reply.text.clone()))
            .map_err(|e| SendError::permanent(None, format!("building the reply: {e}")))?;
        self.transmit(message).await
    }

    /// Sends one message through the pooled transport.
    async fn transmit(&self, message: Message) -> Result<Sent, SendError> {
        let transport = self
            .transport
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        match transport.send(message).await {
            Ok(response) => Ok(Sent {
                status_code: Some(u16::from(response.code())),
                detail: response
                    .first_line()
                    .map(|line| excerpt(line.as_bytes(), 200)),
                message_id: None,
                moved_to: None,
            }),
            Err(err) => Err(self.failure(&err)),
        }
    }
}

/// The `Auto-Submitted` header (RFC 3834 §5): a mail no person wrote, which
/// well-behaved responders do not answer in turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AutoSubmitted {
    /// `auto-replied` (§5.1): the automatic answer to a mail (a buyer's order).
    Replied,
    /// `auto-generated` (§5.1): "not a response to a message", the gateway's own
    /// notice (an alert to the admin).
    Generated,
}

impl lettre::message::header::Header for AutoSubmitted {
    fn name() -> lettre::message::header::HeaderName {
        lettre::message::header::HeaderName::new_from_ascii_str("Auto-Submitted")
    }

    fn parse(value: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        match value.trim() {
            "auto-generated" => Ok(Self::Generated),
            _ => Ok(Self::Replied),
        }
    }

    fn display(&self) -> lettre::message::header::HeaderValue {
        let value = match self {
            Self::Replied => "auto-replied",
            Self::Generated => "auto-generated",
        };
        lettre::message::header::HeaderValue::new(Self::name(), value.to_owned())
    }
}

#[async_trait]
impl Channel for EmailChannel {
    type Target = EmailTarget;

    async fn send(&self, target: &EmailTarget, out: &Outgoing<'_>) -> Result<Sent, SendError> {
        let message = self.message(target, out)?;
        self.transmit(message).await
    }
}

impl EmailChannel {
    /// Drops the pool of SMTP connections for a fresh one. A send cut off by its
    /// deadline leaves its connection mid-conversation, and lettre's pool takes a
    /// connection back when its user lets go of it, whatever state it is in; the
    /// next send would get the stalled connection (docs/services.md S6). The old
    /// pool is closed when its last user is done.
    pub fn discard_connections(&self) {
        let fresh = self.builder.clone().build();
        *self
            .transport
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = fresh;
    }

    /// A 5xx reply (an unknown mailbox, a refused sender, failed login) will be the
    /// same next time; a 4xx reply (greylisting, a full queue) and a connection
    /// that failed or timed out may pass.
    fn failure(&self, err: &lettre::transport::smtp::Error) -> SendError {
        let code = err.status().map(u16::from);
        let mut text = format!("SMTP {}: {err}", self.host);
        if let Some(password) = &self.password {
            text = redact(&text, password);
        }
        if code == Some(535) {
            // "535 5.7.8 Authentication credentials invalid" (RFC 4954): the
            // operator's login, not the order (docs/services.md S4): the channel
            // pauses and the deliveries wait for a good password.
            SendError::new(Failure::Credentials, code, text)
        } else if err.is_permanent() {
            SendError::permanent(code, text)
        } else {
            SendError::retry(code, text)
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::{BufRead, BufReader, Write};
    use std::net::TcpListener;

    use base64::Engine as _;

    use super::*;
    use crate::delivery::channels::testing::{outgoing, sample_record};
    use crate::delivery::channels::{Failure, Language};

    fn config(port: u16) -> EmailConfig {
        EmailConfig {
            host: "127.0.0.1".into(),
            port,
            tls: SmtpTls::None,
            from: "jembatan <orders@example.id>".into(),
            timeout: Duration::from_secs(5),
            ..EmailConfig::default()
        }
    }

    /// One MIME entity: its headers (names lowercased, folded lines joined) and body.
    struct Entity {
        headers: Vec<(String, String)>,
        body: String,
    }

    impl Entity {
        fn parse(raw: &str) -> Self {
            let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((raw, ""));
            let mut headers: Vec<(String, String)> = Vec::new();
            for line in head.split("\r\n") {
                if line.starts_with([' ', '\t']) {
                    headers.last_mut().unwrap().1.push_str(line.trim_start());
                } else if let Some((name, value)) = line.split_once(':') {
                    headers.push((name.to_ascii_lowercase(), value.trim().to_owned()));
                }
            }
            Self {
                headers,
                body: body.to_owned(),
            }
        }

        fn header(&self, name: &str) -> &str {
            self.headers
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.as_str())
                .unwrap_or_else(|| panic!("no {name} header"))
        }

        fn parts(&self) -> Vec<Entity> {
            let content_type = self.header("content-type");
            let boundary = content_type
                .split("boundary=")
                .nth(1)
                .unwrap()
                .trim_matches('"');
            let delimiter = format!("--{boundary}");
            self.body
                .split(&delimiter)
                .skip(1)
                .filter(|p| !p.starts_with("--"))
                .map(|p| Entity::parse(p.trim_start_matches("\r\n")))
                .collect()
        }

        fn decoded(&self) -> String {
            assert_eq!(self.header("content-transfer-encoding"), "base64");
            let compact: String = self.body.split_whitespace().collect();
            String::from_utf8(
                base64::engine::general_purpose::STANDARD
                    .decode(compact)
                    .unwrap(),
            )
            .unwrap()
        }
    }

    #[tokio::test]
    async fn a_reminder_is_a_short_mail_without_attachments() {
        let channel = EmailChannel::new(&config(2525)).unwrap();
        let record = sample_record();
        let mut out = outgoing(&record, Language::English);
        out.reminder = true;
        let message = channel
            .message(
                &EmailTarget {
                    to: "budi@rotan.example.id".into(),
                },
                &out,
            )
            .unwrap();
        let root = Entity::parse(&String::from_utf8(message.formatted()).unwrap());
        // Compared without spaces: this test's reader unfolds a folded header
        // without the space it was folded at.
        assert_eq!(
            root.header("subject").replace(' ', ""),
            "Reminder: order PO-2026/0042 from PT Mitra Otoparts has no answer yet"
                .replace(' ', "")
        );
        assert_eq!(root.header("message-id"), "<dlv_0001@jembatan>");
        assert!(
            root.header("content-type")
                .starts_with("multipart/alternative")
        );
        let parts = root.parts();
        assert_eq!(parts.len(), 2);
        assert_eq!(
            parts[0].decoded().replace("\r\n", "\n"),
            render::reminder_text(&out)
        );
        assert!(parts[1].decoded().contains("/inbox/ord_0001"));
    }

    #[tokio::test]
    async fn the_message_has_the_readable_order_and_both_attachments() {
        let channel = EmailChannel::new(&config(2525)).unwrap();
        let record = sample_record();
        let out = outgoing(&record, Language::Indonesian);
        let message = channel
            .message(
                &EmailTarget {
                    to: "budi@rotan.example.id".into(),
                },
                &out,
            )
            .unwrap();
        let raw = String::from_utf8(message.formatted()).unwrap();
        let root = Entity::parse(&raw);
        assert_eq!(root.header("from"), "jembatan <orders@example.id>");
        assert_eq!(root.header("to"), "budi@rotan.example.id");
        assert_eq!(
            root.header("subject"),
            "Pesanan baru PO-2026/0042 dari PT Mitra Otoparts"
        );
        assert_eq!(root.header("message-id"), "<dlv_0001@jembatan>");
        assert!(root.header("content-type").starts_with("multipart/mixed"));

        let parts = root.parts();
        assert_eq!(parts.len(), 3);
        assert!(
            parts[0]
                .header("content-type")
                .starts_with("multipart/alternative")
        );
        let alternatives = parts[0].parts();
        assert_eq!(alternatives.len(), 2);
        assert_eq!(
            alternatives[0].header("content-type"),
            "text/plain; charset=utf-8"
        );
        assert_eq!(
            alternatives[0].decoded().replace("\r\n", "\n"),
            render::text(&out)
        );
        assert_eq!(
            alternatives[1].header("content-type"),
            "text/html; charset=utf-8"
        );
        assert!(alternatives[1].decoded().contains("IDR 1.850.000,00"));

        assert_eq!(parts[1].header("content-type"), "application/json");
        assert_eq!(
            parts[1].header("content-disposition"),
            "attachment; filename=\"order-PO-2026_0042.json\""
        );
        let json: serde_json::Value = serde_json::from_str(&parts[1].decoded()).unwrap();
        assert_eq!(json, render::json(&record, OrderSchema::V2));

        assert_eq!(parts[2].header("content-type"), "text/csv; charset=utf-8");
        assert_eq!(
            parts[2].header("content-disposition"),
            "attachment; filename=\"order-PO-2026_0042.csv\""
        );
        assert_eq!(parts[2].decoded(), render::csv(&record.order));
    }

    #[tokio::test]
    async fn a_drawing_the_buyer_embedded_is_attached_as_its_file() {
        let channel = EmailChannel::new(&config(2525)).unwrap();
        let mut record = sample_record();
        let drawing = &mut record.order.lines[0].item.documents[0];
        drawing.filename = Some("gambar kursi/rev B.pdf".into());
        drawing.mime_type = Some("application/pdf".into());
        drawing.content_base64 = Some("JVBERi0xLjQKJWdhbWJhcgo=".into());
        let out = outgoing(&record, Language::Indonesian);
        let target = EmailTarget {
            to: "budi@rotan.example.id".into(),
        };
        let raw = String::from_utf8(channel.message(&target, &out).unwrap().formatted()).unwrap();
        let parts = Entity::parse(&raw).parts();
        assert_eq!(parts.len(), 4, "{raw}");
        assert_eq!(parts[3].header("content-type"), "application/pdf");
        assert_eq!(
            parts[3].header("content-disposition"),
            "attachment; filename=\"gambar_kursi_rev_B.pdf\""
        );
        assert_eq!(parts[3].decoded(), "%PDF-1.4\n%gambar\n");
        // Bytes that do not decode are not attached; the text still names the drawing.
        record.order.lines[0].item.documents[0].content_base64 = Some("not base64!".into());
        let out = outgoing(&record, Language::Indonesian);
        let raw = String::from_utf8(channel.message(&target, &out).unwrap().formatted()).unwrap();
        assert_eq!(Entity::parse(&raw).parts().len(), 3);
    }

    #[tokio::test]
    async fn the_message_id_is_the_same_on_every_attempt() {
        let channel = EmailChannel::new(&config(2525)).unwrap();
        let record = sample_record();
        let target = EmailTarget {
            to: "budi@rotan.example.id".into(),
        };
        let ids: Vec<String> = (1..=2)
            .map(|attempt| {
                let mut out = outgoing(&record, Language::English);
                out.attempt = attempt;
                let raw = channel.message(&target, &out).unwrap().formatted();
                Entity::parse(&String::from_utf8(raw).unwrap())
                    .header("message-id")
                    .to_owned()
            })
            .collect();
        assert_eq!(ids[0], ids[1]);
    }

    #[tokio::test]
    async fn a_bad_address_is_permanent_without_connecting() {
        let channel = EmailChannel::new(&config(1)).unwrap();
        let record = sample_record();
        let err = channel
            .send(
                &EmailTarget {
                    to: "not an address".into(),
                },
                &outgoing(&record, Language::Indonesian),
            )
            .await
            .unwrap_err();
        assert_eq!(err.failure, Failure::Permanent);
        assert!(err.error.contains("not an e-mail address"), "{err}");
    }

    #[test]
    fn outside_the_runtime_is_an_error_not_a_panic() {
        let err = EmailChannel::new(&config(25)).unwrap_err();
        assert!(err.to_string().contains("Tokio runtime"), "{err}");
    }

    #[tokio::test]
    async fn config_is_checked_and_the_password_hidden() {
        let mut bad = config(25);
        bad.from = "nobody".into();
        assert!(
            EmailChannel::new(&bad)
                .unwrap_err()
                .to_string()
                .contains("`from`")
        );
        let mut bad = config(25);
        bad.host = " ".into();
        assert!(EmailChannel::new(&bad).is_err());
        let mut bad = config(25);
        bad.username = Some("orders".into());
        assert!(
            EmailChannel::new(&bad)
                .unwrap_err()
                .to_string()
                .contains("without `password`")
        );

        let mut good = config(25);
        good.username = Some("orders".into());
        good.password = Some("Sup3r-Secret-pw".into());
        assert!(!format!("{good:?}").contains("Sup3r"));
        let channel = EmailChannel::new(&good).unwrap();
        assert!(!format!("{channel:?}").contains("Sup3r"));

        let parsed: EmailConfig = toml::from_str(
            "host = \"smtp.example.id\"\nfrom = \"orders@example.id\"\ntimeout = \"10s\"",
        )
        .unwrap();
        assert_eq!(parsed.port, 587);
        assert_eq!(parsed.tls, SmtpTls::Starttls);
        assert_eq!(parsed.timeout, Duration::from_secs(10));
        assert!(
            toml::from_str::<EmailConfig>("host = \"h\"\nfrom = \"a@b.c\"\nsecure = true").is_err()
        );
    }

    #[tokio::test]
    async fn the_ca_file_is_checked_when_the_channel_is_set_up() {
        let dir = tempfile::tempdir().unwrap();
        let with_ca = |tls: SmtpTls, name: &str| EmailConfig {
            tls,
            ca_file: Some(dir.path().join(name)),
            ..config(587)
        };
        let message = |config: EmailConfig| EmailChannel::new(&config).unwrap_err().to_string();

        let err = message(with_ca(SmtpTls::Starttls, "missing.pem"));
        assert!(err.contains("cannot read `ca_file`"), "{err}");
        assert!(err.contains("missing.pem"), "names the file: {err}");
        std::fs::write(dir.path().join("empty.pem"), "not a certificate\n").unwrap();
        let err = message(with_ca(SmtpTls::Tls, "empty.pem"));
        assert!(err.contains("holds no PEM certificate"), "{err}");
        let err = message(with_ca(SmtpTls::None, "empty.pem"));
        assert!(err.contains("`tls` is \"none\""), "{err}");

        let parsed: EmailConfig =
            toml::from_str("host = \"h\"\nfrom = \"a@b.c\"\nca_file = \"/etc/relay-ca.pem\"")
                .unwrap();
        assert_eq!(parsed.ca_file, Some(PathBuf::from("/etc/relay-ca.pem")));
        assert_eq!(EmailConfig::default().ca_file, None);
    }

    /// A one-connection SMTP server that answers each command with the reply of
    /// the first rule whose prefix it starts with.
    fn smtp_server(rules: Vec<(&'static str, &'static str)>) -> u16 {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        std::thread::spawn(move || {
            let Ok((stream, _)) = listener.accept() else {
                return;
            };
            let mut writer = stream.try_clone().unwrap();
            let mut reader = BufReader::new(stream);
            let _ = writer.write_all(b"220 test ESMTP\r\n");
            let mut line = String::new();
            let mut in_data = false;
            while reader.read_line(&mut line).map(|n| n > 0).unwrap_or(false) {
                let command = std::mem::take(&mut line);
                if in_data {
                    if command == ".\r\n" {
                        in_data = false;
                        let _ = writer.write_all(b"250 2.0.0 Ok: queued as T1\r\n");
                    }
                    continue;
                }
                let upper = command.to_ascii_uppercase();
                let reply = rules
                    .iter()
                    .find(|(prefix, _)| upper.starts_with(prefix))
                    .map(|(_, reply)| *reply)
                    .unwrap_or("250 OK\r\n");
                if reply.starts_with("354") {
                    in_data = true;
                }
                let _ = writer.write_all(reply.as_bytes());
                if upper.starts_with("QUIT") {
                    break;
                }
            }
        });
        port
    }

    const EHLO: (&str, &str) = (
        "EHLO",
        "250-test\r\n250-AUTH PLAIN LOGIN\r\n250 8BITMIME\r\n",
    );

    async fn send_to(port: u16, password: Option<&str>) -> Result<Sent, SendError> {
        let mut config = config(port);
        if let Some(password) = password {
            config.username = Some("orders".into());
            config.password = Some(password.into());
        }
        let channel = EmailChannel::new(&config).unwrap();
        let record = sample_record();
        channel
            .send(
                &EmailTarget {
                    to: "budi@rotan.example.id".into(),
                },
                &outgoing(&record, Language::Indonesian),
            )
            .await
    }

    #[tokio::test]
    async fn an_accepted_message_is_sent() {
        let port = smtp_server(vec![EHLO, ("DATA", "354 go ahead\r\n")]);
        let sent = send_to(port, None).await.unwrap();
        assert_eq!(sent.status_code, Some(250));
        assert!(sent.detail.unwrap().contains("queued as T1"));
    }

    #[tokio::test]
    async fn smtp_replies_are_classified() {
        let port = smtp_server(vec![EHLO, ("RCPT", "550 5.1.1 No such user\r\n")]);
        let err = send_to(port, None).await.unwrap_err();
        assert_eq!(err.failure, Failure::Permanent, "{err}");
        assert_eq!(err.status_code, Some(550));
        assert!(err.error.contains("No such user"), "{err}");

        let port = smtp_server(vec![EHLO, ("RCPT", "451 4.7.1 Greylisted, try later\r\n")]);
        let err = send_to(port, None).await.unwrap_err();
        assert_eq!(err.failure, Failure::Retry, "{err}");
        assert_eq!(err.status_code, Some(451));
    }

    #[tokio::test]
    async fn a_failed_login_pauses_the_channel_and_never_shows_the_password() {
        let password = "Sup3r-Secret-pw";
        // A hostile server that echoes what it was sent.
        let port = smtp_server(vec![
            EHLO,
            (
                "AUTH",
                "535 5.7.8 Bad credentials for orders / Sup3r-Secret-pw\r\n",
            ),
        ]);
        let err = send_to(port, Some(password)).await.unwrap_err();
        assert_eq!(err.failure, Failure::Credentials, "{err}");
        assert_eq!(err.status_code, Some(535));
        assert!(!err.error.contains(password), "{err}");
        assert!(!format!("{err:?}").contains(password));
    }

    #[tokio::test]
    async fn no_server_is_retried() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        let err = send_to(port, None).await.unwrap_err();
        assert_eq!(err.failure, Failure::Retry, "{err}");
        assert_eq!(err.status_code, None);
    }
}
