//! The reply to an e-mailed message, in the buyer's language: which orders were
//! received with their ids, or why the mail could not be read and where.
//!
//! It is built from the message's answer as stored (the same JSON the HTTP API
//! answers), so the sender reads exactly what an API client would. It is plain
//! text (nothing to escape but the header, which lettre encodes), marked
//! `Auto-Submitted: auto-replied` (RFC 3834) so that other robots do not answer.

use std::sync::Arc;

use serde_json::Value;

use crate::delivery::{AutoSubmitted, Channels, ReplyMail};
use crate::ingest::email::{self, ParsedEmail};
use crate::ingest::{Finished, Outcome};
use crate::model::Language;
use crate::store::{ReceivedVia, ReplyState, Store};

/// Writes the one reply of each e-mailed message, whichever path finished it:
/// the door at once ([`Replier::answer`]), or recovery, a retry and an admin's
/// replay through [`Finished`] ([`Replier::answer_stored`]). The reply is
/// claimed in the store before it is sent, so at most one goes per message
/// however many paths finish it; a replay that changes the outcome sends no
/// second one (the stored reply says which outcome it told).
#[derive(Clone)]
pub struct Replier {
    store: Arc<dyn Store>,
    channels: Arc<Channels>,
    /// `[inbound_email] reply`.
    enabled: bool,
}

impl Replier {
    pub fn new(store: Arc<dyn Store>, channels: Arc<Channels>, enabled: bool) -> Self {
        Self {
            store,
            channels,
            enabled,
        }
    }

    /// Answers `parsed`, whose outcome is `outcome`, in the background: never
    /// an automatic message (RFC 3834) nor one without a sender.
    pub fn answer(&self, parsed: &ParsedEmail, language: Language, outcome: &Outcome) {
        if !self.enabled || parsed.automatic || parsed.from.is_empty() {
            return;
        }
        let response = match outcome {
            Outcome::Accepted(response) | Outcome::Refused(response) => response,
        };
        let Some(message_id) = response.body["message_id"].as_str().map(str::to_owned) else {
            return;
        };
        let mail = compose(parsed, language, outcome);
        let replier = self.clone();
        tokio::spawn(async move { replier.send(&message_id, mail).await });
    }

    /// Answers a stored message that has just got its outcome, if it came by
    /// e-mail and its sender was accepted: read back, with its sender's language.
    /// A message the door refused (its sender not accepted, or failing DKIM, SPF
    /// or DMARC) is never answered; once an admin has replayed it through the
    /// plugin, it is.
    pub async fn answer_stored(&self, message_id: &str) {
        if !self.enabled {
            return;
        }
        let message = match self.store.get_message(None, message_id).await {
            Ok(Some(message)) => message,
            Ok(None) => return,
            Err(error) => {
                tracing::warn!(%message_id, %error, "the finished message could not be read; no reply");
                return;
            }
        };
        if message.received_via != ReceivedVia::Email
            || message.body_purged_at.is_some()
            || message.processed_by.is_none()
        {
            return;
        }
        let Some(outcome) = Outcome::stored(message.status, message.response.clone()) else {
            return;
        };
        let Ok(parsed) = email::parse(&message.body) else {
            return;
        };
        let language = match self.store.email_settings(&message.buyer_id).await {
            Ok(settings) => settings.language,
            Err(error) => {
                tracing::warn!(%message_id, %error, "the buyer's e-mail settings could not be read; no reply");
                return;
            }
        };
        if parsed.automatic || parsed.from.is_empty() {
            return;
        }
        self.send(message_id, compose(&parsed, language, &outcome))
            .await;
    }

    /// Claims the message's one reply, then sends it and records how that went.
    async fn send(&self, message_id: &str, mail: ReplyMail) {
        match self.store.claim_reply(message_id, &mail.to).await {
            Ok(true) => {}
            Ok(false) => return,
            Err(error) => {
                tracing::warn!(%message_id, %error, "the reply could not be claimed; not sent");
                return;
            }
        }
        let (state, detail) = match self.channels.send_reply(&mail).await {
            Ok(sent) => (ReplyState::Sent, sent.detail.unwrap_or_default()),
            Err(error) => {
                tracing::warn!(%message_id, error = %error.error, "the reply to the sender failed");
                (ReplyState::Failed, error.error)
            }
        };
        if let Err(error) = self.store.finish_reply(message_id, state, &detail).await {
            tracing::warn!(%message_id, %error, "the reply's end could not be recorded");
        }
    }
}

impl Finished for Replier {
    fn finished(&self, message_id: &str) {
        let (replier, message_id) = (self.clone(), message_id.to_owned());
        tokio::spawn(async move { replier.answer_stored(&message_id).await });
    }
}

/// The reply to `parsed`, whose outcome is `outcome`.
pub fn compose(parsed: &ParsedEmail, language: Language, outcome: &Outcome) -> ReplyMail {
    let (accepted, body) = match outcome {
        Outcome::Accepted(response) => (true, &response.body),
        Outcome::Refused(response) => (false, &response.body),
    };
    let words = Words::of(language);
    let orders = list(body, "orders");
    let refused = list(body, "refused");
    let mut text = String::new();
    if accepted {
        text.push_str(&format!("{}\n\n", words.received(orders.len())));
        for order in &orders {
            text.push_str(&format!(
                "  - {} {}: {}\n",
                words.order,
                field(order, "buyer_order_number"),
                field(order, "id")
            ));
        }
    } else {
        text.push_str(&format!("{}\n\n", words.unreadable));
        let detail = body["plugin_error"]["message"]
            .as_str()
            .or(body["detail"].as_str())
            .unwrap_or_default();
        if !detail.is_empty() {
            text.push_str(&format!(
                "  {detail}{}\n",
                place(&body["plugin_error"]["location"], &words)
            ));
        }
    }
    if !refused.is_empty() {
        text.push_str(&format!("\n{}\n", words.refused));
        for transaction in &refused {
            let error = &transaction["error"];
            text.push_str(&format!(
                "  - #{}: {}{}\n",
                transaction["index"].as_u64().unwrap_or_default() + 1,
                error["message"].as_str().unwrap_or_default(),
                place(&error["location"], &words)
            ));
        }
    }
    if let Some(message_id) = body["message_id"].as_str() {
        text.push_str(&format!("\n{}: {message_id}\n", words.reference));
    }
    text.push_str(&format!("\n-- \n{}\n", words.signature));
    let subject = one_line(&parsed.input.subject);
    let summary = if accepted {
        words.subject_received(orders.len())
    } else {
        words.subject_unreadable.to_owned()
    };
    ReplyMail {
        to: parsed.from.clone(),
        subject: if subject.is_empty() {
            summary
        } else {
            format!("Re: {subject} [{summary}]")
        },
        text,
        in_reply_to: parsed.message_id.as_ref().map(|id| format!("<{id}>")),
        auto_submitted: AutoSubmitted::Replied,
    }
}

fn list<'a>(body: &'a Value, key: &str) -> Vec<&'a Value> {
    body[key]
        .as_array()
        .map(|items| items.iter().collect())
        .unwrap_or_default()
}

fn field<'a>(value: &'a Value, key: &str) -> &'a str {
    value[key].as_str().unwrap_or("?")
}

/// ` (at …)` for a location with a path or a line, else nothing.
fn place(location: &Value, words: &Words) -> String {
    if let Some(path) = location["path"].as_str() {
        format!(" ({} {path})", words.at)
    } else if let Some(line) = location["line"].as_u64() {
        format!(" ({} {} {line})", words.at, words.line)
    } else {
        String::new()
    }
}

/// A header's text on one line: no control character can start a new header.
fn one_line(text: &str) -> String {
    let cleaned: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let cleaned = cleaned.trim();
    let cleaned = cleaned
        .strip_prefix("Re: ")
        .or(cleaned.strip_prefix("RE: "))
        .unwrap_or(cleaned);
    cleaned.chars().take(150).collect()
}

struct Words {
    language: Language,
    order: &'static str,
    unreadable: &'static str,
    subject_unreadable: &'static str,
    refused: &'static str,
    reference: &'static str,
    at: &'static str,
    line: &'static str,
    signature: &'static str,
}

impl Words {
    fn of(language: Language) -> Self {
        match language {
            Language::Indonesian => Self {
                language,
                order: "Pesanan",
                unreadable: "Email Anda tidak dapat dibaca sebagai pesanan, dan tidak ada pesanan yang diterima.",
                subject_unreadable: "tidak dapat dibaca",
                refused: "Bagian yang tidak dapat dibaca:",
                reference: "Nomor referensi email",
                at: "di",
                line: "baris",
                signature: "jembatan (balasan otomatis)",
            },
            Language::English => Self {
                language,
                order: "Order",
                unreadable: "Your e-mail could not be read as an order, and no order was received.",
                subject_unreadable: "could not be read",
                refused: "Parts that could not be read:",
                reference: "E-mail reference",
                at: "at",
                line: "line",
                signature: "jembatan (automatic reply)",
            },
        }
    }

    fn received(&self, count: usize) -> String {
        match self.language {
            Language::Indonesian => {
                format!("Terima kasih. {count} pesanan telah diterima dan diteruskan ke pengrajin:")
            }
            Language::English if count == 1 => {
                "Thank you. 1 order was received and passed on to the craftsman:".into()
            }
            Language::English => {
                format!("Thank you. {count} orders were received and passed on to the craftsmen:")
            }
        }
    }

    fn subject_received(&self, count: usize) -> String {
        match self.language {
            Language::Indonesian => format!("{count} pesanan diterima"),
            Language::English if count == 1 => "1 order received".into(),
            Language::English => format!("{count} orders received"),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::store::StoredResponse;

    fn parsed(subject: &str) -> ParsedEmail {
        ParsedEmail {
            input: crate::plugin_host::EmailInput {
                subject: subject.into(),
                sender: "budi@mitra.co.id".into(),
                ..Default::default()
            },
            message_id: Some("m1@mitra.co.id".into()),
            from: "budi@mitra.co.id".into(),
            recipients: Vec::new(),
            automatic: false,
            headers: Vec::new(),
        }
    }

    #[test]
    fn a_reply_names_each_order_and_each_refusal() {
        let outcome = Outcome::Accepted(StoredResponse {
            status: 201,
            body: json!({
                "message_id": "msg_1",
                "orders": [{"id": "ord_1", "buyer_order_number": "PO-7"}],
                "refused": [{"index": 1, "error": {"message": "no quantity", "location": {"path": "/line/3"}}}],
            }),
        });
        let mail = compose(&parsed("PO\r\nBcc: x@y"), Language::English, &outcome);
        assert_eq!(mail.to, "budi@mitra.co.id");
        assert_eq!(mail.subject, "Re: PO  Bcc: x@y [1 order received]");
        assert_eq!(mail.in_reply_to.as_deref(), Some("<m1@mitra.co.id>"));
        assert!(mail.text.contains("Order PO-7: ord_1"), "{}", mail.text);
        assert!(
            mail.text.contains("#2: no quantity (at /line/3)"),
            "{}",
            mail.text
        );
        assert!(
            mail.text.contains("E-mail reference: msg_1"),
            "{}",
            mail.text
        );
    }

    #[test]
    fn a_refusal_says_why_in_indonesian() {
        let outcome = Outcome::Refused(StoredResponse {
            status: 422,
            body: json!({
                "message_id": "msg_2",
                "detail": "plugin 'email-order' 0.1.0: …",
                "plugin_error": {"message": "tidak ada tabel pesanan", "location": null},
            }),
        });
        let mail = compose(&parsed(""), Language::Indonesian, &outcome);
        assert_eq!(mail.subject, "tidak dapat dibaca");
        assert!(mail.text.contains("tidak dapat dibaca sebagai pesanan"));
        assert!(
            mail.text.contains("tidak ada tabel pesanan"),
            "{}",
            mail.text
        );
    }
}
