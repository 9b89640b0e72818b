//! The e-mail door: orders that buyers send by e-mail, through the SMTP listener
//! ([`smtp`]) or posted raw by the operator's mail provider
//! (`POST /v1/inbound/email`, `api/inbound_email.rs`). Both hand the raw message
//! to [`MailDoor`], which finds the buyer by the inbound address, checks the
//! sender, and gives the message to the same [`Ingest`] as HTTP posts: stored
//! before anything is answered (the SMTP `250`, the HTTP `201`/`422`), then
//! normalized by the buyer's plugin, routed and delivered. The sender then gets
//! one reply ([`reply`]) saying which orders were received, or why the mail could
//! not be read.
//!
//! A buyer's inbound address is `orders+TOKEN@<domain>`: the token is a secret,
//! stored as a hash like an API key, shown when made and rotatable
//! (`POST /v1/admin/buyers/{id}/email/address`). Mail to an address that is not a
//! buyer's is refused at `RCPT` (or 404 over HTTP). Mail from a sender the buyer
//! does not accept is stored refused, not normalized and never answered (no
//! backscatter to a forged sender). Where the operator turns them on, DKIM, SPF
//! and DMARC are verified first ([`authentication`]): a mail that fails them is
//! stored refused the same way.

pub mod address;
pub mod authentication;
pub mod config;
pub mod reply;
pub mod smtp;

use std::sync::Arc;

use crate::admission::{Admission, Refusal};
use crate::delivery::Channels;
use crate::error::Problem;
use crate::ingest::email::{MESSAGE_RFC822, NotAnEmail, ParsedEmail};
use crate::ingest::{Inbound, Ingest, IngestError, Outcome};
use crate::store::{Buyer, ReceivedVia, Store, StoreError};

use authentication::{Authenticator, SmtpOrigin, Verdict};
pub use config::InboundEmailConfig;
use reply::Replier;

/// Why a message was not taken for a recipient: nothing was stored.
#[derive(Debug, thiserror::Error)]
pub enum MailRefusal {
    /// This gateway takes no e-mail (`[inbound_email] domain` is not set).
    #[error("this gateway takes no e-mail")]
    Disabled,
    /// Not an inbound address of any buyer.
    #[error("no buyer has the address '{0}'")]
    UnknownRecipient(String),
    /// The buyer's plugin does not read e-mail, or is not installed.
    #[error("{0}")]
    NotForEmail(IngestError),
    /// Not even the headers could be read.
    #[error(transparent)]
    NotAnEmail(#[from] NotAnEmail),
    /// The buyer is over its rate or storage limit, or nothing can be stored now.
    #[error(transparent)]
    Busy(#[from] Refusal),
    /// Ingest failed (the store, the plugin host).
    #[error("{0}")]
    Ingest(#[from] IngestError),
    /// DKIM, SPF or DMARC could not be checked now (DNS did not answer):
    /// nothing was stored, and the sender should try again.
    #[error("{0}; try again later")]
    AuthenticationUnavailable(String),
}

impl From<StoreError> for MailRefusal {
    fn from(err: StoreError) -> Self {
        Self::Ingest(IngestError::Store(err))
    }
}

impl MailRefusal {
    /// Whether the same message may be taken later: an SMTP `4xx`, not `5xx`.
    pub fn is_temporary(&self) -> bool {
        match self {
            Self::Busy(_) | Self::AuthenticationUnavailable(_) => true,
            Self::Ingest(IngestError::KeyReused { .. }) => false,
            Self::Ingest(_) => true,
            Self::Disabled
            | Self::UnknownRecipient(_)
            | Self::NotForEmail(_)
            | Self::NotAnEmail(_) => false,
        }
    }
}

/// Finds buyers by inbound address and takes their e-mail in.
pub struct MailDoor {
    config: InboundEmailConfig,
    store: Arc<dyn Store>,
    ingest: Arc<Ingest>,
    admission: Arc<Admission>,
    replier: Replier,
    /// The DKIM, SPF and DMARC checks in force; `None` when off.
    authenticator: Option<Authenticator>,
}

impl MailDoor {
    pub fn new(
        config: InboundEmailConfig,
        store: Arc<dyn Store>,
        ingest: Arc<Ingest>,
        admission: Arc<Admission>,
        channels: Arc<Channels>,
        authenticator: Option<Authenticator>,
    ) -> Self {
        let replier = Replier::new(store.clone(), channels, config.reply);
        Self {
            config,
            store,
            ingest,
            admission,
            replier,
            authenticator,
        }
    }

    pub fn config(&self) -> &InboundEmailConfig {
        &self.config
    }

    /// The buyer whose inbound address `recipient` is, if its plugin reads
    /// e-mail: what `RCPT` asks.
    pub async fn recipient(&self, recipient: &str) -> Result<Buyer, MailRefusal> {
        let domain = self.config.domain.as_deref().ok_or(MailRefusal::Disabled)?;
        let unknown = || MailRefusal::UnknownRecipient(recipient.to_owned());
        let token =
            address::token_of(recipient, &self.config.local_part, domain).ok_or_else(unknown)?;
        let buyer = self
            .store
            .buyer_by_inbound_address_hash(&crate::secrets::hash(&token))
            .await?
            .ok_or_else(unknown)?;
        self.ingest
            .plugin_accepting(&buyer, MESSAGE_RFC822)
            .map_err(MailRefusal::NotForEmail)?;
        Ok(buyer)
    }

    /// The first of `candidates` that is a buyer's inbound address: for a
    /// message posted without its envelope, its `Delivered-To`, `To` or `Cc`.
    pub async fn recipient_among(&self, candidates: &[String]) -> Result<Buyer, MailRefusal> {
        let mut first_refusal = None;
        for candidate in candidates {
            match self.recipient(candidate).await {
                Ok(buyer) => return Ok(buyer),
                Err(MailRefusal::UnknownRecipient(_)) => {}
                Err(other) => {
                    first_refusal.get_or_insert(other);
                }
            }
        }
        Err(first_refusal.unwrap_or_else(|| MailRefusal::UnknownRecipient(candidates.join(", "))))
    }

    /// Runs the DKIM, SPF and DMARC checks the operator requires on a message,
    /// once for all its recipients: `None` when none are required. `origin` is
    /// what the SMTP listener knows (`None` over HTTP). A DNS failure is
    /// [`MailRefusal::AuthenticationUnavailable`]: nothing is stored.
    pub async fn authenticate(
        &self,
        raw: &[u8],
        parsed: &ParsedEmail,
        origin: Option<SmtpOrigin<'_>>,
    ) -> Result<Option<Verdict>, MailRefusal> {
        let Some(authenticator) = &self.authenticator else {
            return Ok(None);
        };
        match authenticator.verify(raw, &parsed.from, origin).await {
            Verdict::Temporary { reason } => {
                tracing::warn!(sender = %parsed.from, %reason, "e-mail authentication could not be checked; the sender is told to retry");
                Err(MailRefusal::AuthenticationUnavailable(reason))
            }
            verdict => Ok(Some(verdict)),
        }
    }

    /// Takes one raw message in for `buyer`: stored, then normalized (or stored
    /// refused when it failed the required checks, `verdict` from
    /// [`MailDoor::authenticate`], or its sender is not accepted), then answered
    /// to the sender.
    pub async fn receive_parsed(
        &self,
        buyer: &Buyer,
        parsed: ParsedEmail,
        raw: Vec<u8>,
        verdict: Option<&Verdict>,
    ) -> Result<Outcome, MailRefusal> {
        self.admission
            .admit(&buyer.id, buyer.limits.as_ref())
            .await?;
        let settings = self.store.email_settings(&buyer.id).await?;
        let size = raw.len();
        let key = idempotency_key(&raw);
        let mut headers = parsed.headers.clone();
        record_results(&mut headers, self.config.hostname(), verdict);
        let inbound = Inbound {
            received_via: ReceivedVia::Email,
            content_type: MESSAGE_RFC822.to_owned(),
            headers,
            body: raw,
            idempotency_key: Some(key),
            email: Some(parsed.input.clone()),
        };
        if let Some(Verdict::Failed { reason, results }) = verdict {
            let problem = Problem::new(
                "authentication-failed",
                "The mail did not pass the checks of its sender",
                422u16,
                format!(
                    "mail from '{}' is refused for buyer '{}': {reason}",
                    parsed.from, buyer.id
                ),
            )
            .with("authentication_results", results);
            tracing::info!(buyer_id = %buyer.id, sender = %parsed.from, %reason, "e-mail failed authentication: stored refused, not answered");
            let outcome = self.ingest.refuse(buyer, inbound, problem).await?;
            self.admission.stored(&buyer.id, size);
            return Ok(outcome);
        }
        if !address::sender_accepted(&parsed.from, &settings.senders) {
            let problem = Problem::new(
                "sender-not-allowed",
                "The sender is not one this buyer accepts",
                422u16,
                format!(
                    "mail from '{}' is not accepted for buyer '{}': the buyer's accepted \
                     senders do not include it",
                    parsed.from, buyer.id
                ),
            );
            tracing::info!(buyer_id = %buyer.id, sender = %parsed.from, "e-mail from a sender not accepted: stored refused, not answered");
            let outcome = self.ingest.refuse(buyer, inbound, problem).await?;
            self.admission.stored(&buyer.id, size);
            return Ok(outcome);
        }
        let plugin = self
            .ingest
            .plugin_accepting(buyer, MESSAGE_RFC822)
            .map_err(MailRefusal::NotForEmail)?;
        let outcome = self.ingest.accept(buyer, &plugin, inbound).await?;
        self.admission.stored(&buyer.id, size);
        self.replier.answer(&parsed, settings.language, &outcome);
        Ok(outcome)
    }

    /// The writer of replies, which ingest also tells of messages it finishes
    /// later (recovery, retries, replays).
    pub fn replier(&self) -> &Replier {
        &self.replier
    }
}

/// Records `verdict` as the first of the stored `headers`, an
/// `Authentication-Results` under the gateway's `hostname` (RFC 8601). One under
/// that name already in the mail was not written by this gateway, so it goes
/// (RFC 8601 §5), checks or not: what the admin reads as the gateway's results
/// is always the gateway's.
fn record_results(headers: &mut Vec<(String, String)>, hostname: &str, verdict: Option<&Verdict>) {
    headers.retain(|(name, value)| {
        !(name.eq_ignore_ascii_case("authentication-results")
            && value
                .split(';')
                .next()
                .is_some_and(|id| id.trim().eq_ignore_ascii_case(hostname)))
    });
    if let Some(Verdict::Passed { results } | Verdict::Failed { results, .. }) = verdict {
        headers.insert(0, ("Authentication-Results".to_owned(), results.clone()));
    }
}

/// The idempotency key of an e-mail: its bytes' hash, so that the same mail
/// delivered twice (a relay sending again after a lost `250`, a provider posting
/// again) is stored once. Not the `Message-ID` alone: mail scripts that send every
/// order under one `Message-ID` exist, and each of their orders must count.
fn idempotency_key(raw: &[u8]) -> String {
    format!("email-sha256:{}", crate::secrets::hash_bytes(raw))
}
