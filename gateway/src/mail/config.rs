//! `[inbound_email]`: where and how the gateway takes orders by e-mail.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

/// Orders by e-mail (`[inbound_email]`). Without a `domain`, the gateway takes
/// no e-mail: buyers have no inbound address, the SMTP listener does not start
/// and `POST /v1/inbound/email` refuses every message.
#[derive(Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct InboundEmailConfig {
    /// The domain of the buyers' inbound addresses, `orders+TOKEN@<domain>`
    /// (`JEMBATAN_INBOUND_EMAIL_DOMAIN`); its MX points at the listener, or the
    /// operator's mail provider forwards it to `POST /v1/inbound/email`.
    pub domain: Option<String>,
    /// The local part before the `+` (`orders`).
    pub local_part: String,
    /// Where the SMTP listener listens (`JEMBATAN_SMTP_LISTEN`, e.g.
    /// `0.0.0.0:25`); none: no listener.
    pub smtp_listen: Option<SocketAddr>,
    /// The name the listener greets with; the `domain` when not set.
    pub hostname: Option<String>,
    /// The largest message taken, in bytes, advertised with `SIZE` and enforced
    /// (`JEMBATAN_SMTP_MAX_MESSAGE_BYTES`, default 10 MiB); the same bound for
    /// `POST /v1/inbound/email`.
    pub max_message_bytes: usize,
    /// At most this many SMTP sessions at once; one more is answered `421` and
    /// closed (`JEMBATAN_SMTP_MAX_SESSIONS`, default 100).
    pub max_sessions: usize,
    /// How long one SMTP session may last from its greeting to its end
    /// (`JEMBATAN_SMTP_SESSION_TIMEOUT`, default `5m`); it is then answered `421`
    /// and closed, so a client that never finishes holds no slot for ever.
    #[serde(with = "humantime_serde")]
    pub session_timeout: Duration,
    /// A PEM certificate chain and its key: with both, the listener offers
    /// STARTTLS (`JEMBATAN_SMTP_TLS_CERT`, `JEMBATAN_SMTP_TLS_KEY`).
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    /// The bearer token of `POST /v1/inbound/email`
    /// (`JEMBATAN_INBOUND_EMAIL_TOKEN`); without one that endpoint refuses every
    /// request. Never logged.
    pub http_token: Option<String>,
    /// Whether senders get a reply saying what became of their mail, through
    /// `[delivery.email]` (default `true`).
    pub reply: bool,
    /// DKIM, SPF and DMARC (`[inbound_email.authentication]`); off unless the
    /// operator names the checks to require.
    pub authentication: super::authentication::AuthenticationConfig,
}

impl Default for InboundEmailConfig {
    fn default() -> Self {
        Self {
            domain: None,
            local_part: "orders".into(),
            smtp_listen: None,
            hostname: None,
            max_message_bytes: 10 * 1024 * 1024,
            max_sessions: 100,
            session_timeout: Duration::from_secs(300),
            tls_cert: None,
            tls_key: None,
            http_token: None,
            reply: true,
            authentication: Default::default(),
        }
    }
}

impl fmt::Debug for InboundEmailConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InboundEmailConfig")
            .field("domain", &self.domain)
            .field("local_part", &self.local_part)
            .field("smtp_listen", &self.smtp_listen)
            .field("hostname", &self.hostname)
            .field("max_message_bytes", &self.max_message_bytes)
            .field("max_sessions", &self.max_sessions)
            .field("session_timeout", &self.session_timeout)
            .field("tls_cert", &self.tls_cert)
            .field("tls_key", &self.tls_key)
            .field(
                "http_token",
                &self.http_token.as_ref().map(|_| "[redacted]"),
            )
            .field("reply", &self.reply)
            .field("authentication", &self.authentication)
            .finish()
    }
}

impl InboundEmailConfig {
    /// The name the listener says it is.
    pub fn hostname(&self) -> &str {
        self.hostname
            .as_deref()
            .or(self.domain.as_deref())
            .unwrap_or("localhost")
    }
}
