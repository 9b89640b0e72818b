//! Answers from the chat channels (issue 10, part 2): a craftsman taps "accept" or
//! "reject" under an order in WhatsApp or Telegram, and the tap becomes that order's
//! next response through [`crate::responses::Responses`], the same rules as the API
//! and the inbox page.
//!
//! **What a button carries.** `accept:<delivery id>` or `reject:<delivery id>`
//! (a Telegram `callback_data`, at most 64 bytes; a WhatsApp reply button's `id` or a
//! template quick reply's payload). The delivery names one order *and* one channel
//! of one craftsman, so the tap is taken only when it comes from that channel's own
//! chat (the Telegram chat, the WhatsApp number): a Telegram client can send any
//! `callback_data` it likes, and a craftsman who learns another's delivery id still
//! taps from their own chat, which is not that delivery's. Delivery ids are random
//! (UUIDv7), but the chat check, not their secrecy, is what keeps one craftsman from
//! answering for another. A refused tap is answered as an unknown order is, so
//! nothing tells a prober which ids exist.
//!
//! **A rejection asks for its reason.** The tap stores a question (migration 0013)
//! and asks in the chat; the craftsman's next text in that chat within
//! `[chat_answers] reason_wait` is the reason, and only then is the rejection
//! recorded and sent to the buyer. When no reason comes, the rejection is recorded
//! when the wait ends, its reason saying plainly that none was given
//! ([`NO_REASON`]). The rejection is recorded once, whole, because it is final: a
//! rejection recorded at the tap could never have its reason added (nothing follows
//! a rejection), and a buyer told "rejected" must not later learn a different
//! story. The cost is that the buyer hears of the rejection up to `reason_wait`
//! later. Until then the order is not rejected: an "accept" tap in the meantime
//! withdraws the question.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use jembatan_schemas::ResponseStatus;
use jembatan_schemas::order_response::ResponseVia;

use crate::delivery::Channels;
use crate::model::{ChannelTarget, ChatKind, Language};
use crate::responses::{Answer, AnswerError, Responses};
use crate::secrets::new_id;
use crate::store::{
    Craftsman, Leadership, OrderRecord, OrderScope, ReasonQuestion, Store, StoreError,
};

/// What a button asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Accept,
    Reject,
}

impl Action {
    /// The word a button's payload starts with.
    pub fn word(self) -> &'static str {
        match self {
            Self::Accept => "accept",
            Self::Reject => "reject",
        }
    }

    /// A payload's word: ours, or a word an operator gave a template's quick reply
    /// (`[delivery.whatsapp.templates.<language>] quick_replies`).
    pub fn from_word(word: &str) -> Option<Self> {
        match word.to_ascii_lowercase().as_str() {
            "accept" | "terima" | "yes" | "ya" => Some(Self::Accept),
            "reject" | "tolak" | "decline" | "no" | "tidak" => Some(Self::Reject),
            _ => None,
        }
    }

    /// The button's label in the craftsman's language (at most 20 characters, the
    /// WhatsApp reply button's limit).
    pub fn title(self, language: Language) -> &'static str {
        match (self, language) {
            (Self::Accept, Language::Indonesian) => "Terima",
            (Self::Reject, Language::Indonesian) => "Tolak",
            (Self::Accept, Language::English) => "Accept",
            (Self::Reject, Language::English) => "Reject",
        }
    }
}

/// The payload of a button: `accept:<delivery id>`.
pub fn button_payload(action: Action, delivery_id: &str) -> String {
    format!("{}:{delivery_id}", action.word())
}

/// What a tapped button's payload says: the action and the delivery; `None` for
/// anything this gateway did not write.
pub fn parse_payload(payload: &str) -> Option<(Action, &str)> {
    let (word, delivery_id) = payload.split_once(':')?;
    let well_formed = delivery_id.starts_with("dlv_")
        && delivery_id.len() <= 60
        && delivery_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if !well_formed {
        return None;
    }
    Some((Action::from_word(word)?, delivery_id))
}

/// The rejection's reason when the craftsman gave none in the chat: said to the
/// buyer in English, as every field the gateway itself writes for buyers' systems.
pub const NO_REASON: &str = "Rejected in chat; the craftsman gave no reason";

/// What the gateway tells the craftsman after a tap or a reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Said {
    Accepted {
        number: String,
    },
    /// The reason is asked for; the question is also sent to the chat.
    AskedReason {
        number: String,
        minutes: u64,
    },
    Rejected {
        number: String,
    },
    RejectedWithoutReason {
        number: String,
    },
    /// The order was rejected before: nothing follows a rejection.
    Final {
        number: String,
    },
    /// The tap was taken before (a repeated event): nothing changed.
    AlreadyRecorded {
        number: String,
    },
    /// Another answer came at the same moment.
    Raced,
    /// No such order for this chat (unknown, another craftsman's, or a button this
    /// gateway did not write): the same words for each, so a prober learns nothing.
    NotFound,
}

impl Said {
    /// The text, in `language`; short enough for `answerCallbackQuery` (200).
    pub fn text(&self, language: Language) -> String {
        let id = language == Language::Indonesian;
        match self {
            Self::Accepted { number } if id => format!("Pesanan {number} diterima. Terima kasih!"),
            Self::Accepted { number } => format!("Order {number} accepted. Thank you!"),
            Self::AskedReason { number, minutes } if id => format!(
                "Mengapa pesanan {number} ditolak? Balas dengan alasannya dalam {minutes} menit."
            ),
            Self::AskedReason { number, minutes } => format!(
                "Why is order {number} rejected? Reply with the reason within {minutes} minutes."
            ),
            Self::Rejected { number } if id => {
                format!("Penolakan pesanan {number} dicatat beserta alasannya.")
            }
            Self::Rejected { number } => {
                format!("The rejection of order {number} is recorded with its reason.")
            }
            Self::RejectedWithoutReason { number } if id => {
                format!("Penolakan pesanan {number} dicatat tanpa alasan.")
            }
            Self::RejectedWithoutReason { number } => {
                format!("The rejection of order {number} is recorded without a reason.")
            }
            Self::Final { number } if id => format!(
                "Pesanan {number} sudah ditolak. Penolakan bersifat final; tidak ada yang diubah."
            ),
            Self::Final { number } => {
                format!(
                    "Order {number} was already rejected. A rejection is final; nothing changed."
                )
            }
            Self::AlreadyRecorded { number } if id => {
                format!("Jawaban untuk pesanan {number} sudah dicatat.")
            }
            Self::AlreadyRecorded { number } => {
                format!("The answer to order {number} was already recorded.")
            }
            Self::Raced if id => "Pesanan ini baru saja dijawab. Buka lagi lalu coba.".into(),
            Self::Raced => "This order was just answered. Open it again and retry.".into(),
            Self::NotFound if id => "Pesanan ini tidak ditemukan.".into(),
            Self::NotFound => "This order was not found.".into(),
        }
    }
}

/// What a tap or a reason came to: what to say, in which language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub said: Said,
    pub language: Language,
}

impl Reply {
    pub fn text(&self) -> String {
        self.said.text(self.language)
    }
}

/// One tap, as a chat webhook saw it.
#[derive(Debug, Clone)]
pub struct Tap<'a> {
    pub kind: ChatKind,
    /// The chat it came from: the WhatsApp number, the Telegram chat id.
    pub chat_id: &'a str,
    pub payload: &'a str,
    /// Names the event (`telegram:<callback query id>`, `whatsapp:<wamid>`).
    pub event_key: String,
    /// The language to answer in when the craftsman is not known.
    pub fallback_language: Language,
}

/// Turns chat taps and texts into responses.
pub struct ChatAnswers {
    pub store: Arc<dyn Store>,
    pub responses: Arc<Responses>,
    pub channels: Arc<Channels>,
    /// How long a rejection waits for its reason.
    pub reason_wait: Duration,
}

fn via(kind: ChatKind) -> ResponseVia {
    match kind {
        ChatKind::WhatsApp => ResponseVia::Whatsapp,
        ChatKind::Telegram => ResponseVia::Telegram,
    }
}

/// Whether `target` is the chat `chat_id` of kind `kind`.
fn is_chat(target: &ChannelTarget, kind: ChatKind, chat_id: &str) -> bool {
    match (kind, target) {
        (ChatKind::Telegram, ChannelTarget::Telegram { chat_id: ours }) => ours == chat_id,
        (ChatKind::WhatsApp, ChannelTarget::Whatsapp { to }) => {
            to.trim_start_matches('+') == chat_id.trim_start_matches('+')
        }
        _ => false,
    }
}

impl ChatAnswers {
    /// Takes a tap: checks it names a delivery to this very chat, then accepts the
    /// order or asks for the rejection's reason. Refusals are logged (without the
    /// payload, which is no secret but says nothing useful) and answered
    /// [`Said::NotFound`].
    pub async fn tap(&self, tap: Tap<'_>) -> Result<Reply, StoreError> {
        let not_found = Reply {
            said: Said::NotFound,
            language: tap.fallback_language,
        };
        let Some((action, delivery_id)) = parse_payload(tap.payload) else {
            tracing::warn!(
                chat = tap.kind.as_str(),
                "a chat tap with a button this gateway did not write"
            );
            return Ok(not_found);
        };
        let Some((order, craftsman)) = self.order_for(&tap, delivery_id).await? else {
            return Ok(not_found);
        };
        let language = craftsman.language;
        let number = order.buyer_order_number.clone();
        let reply = |said| Ok(Reply { said, language });
        if let Some(earlier) = self.store.response_by_event(&tap.event_key).await? {
            tracing::info!(order_id = %order.id, event = %tap.event_key, response_id = %earlier.id,
                "a chat tap taken before; nothing changed");
            return reply(Said::AlreadyRecorded { number });
        }
        let history = self.store.order_responses(&order.id).await?;
        if history
            .last()
            .is_some_and(|r| r.status == ResponseStatus::Rejected)
        {
            tracing::warn!(order_id = %order.id, craftsman_id = %craftsman.id, chat = tap.kind.as_str(),
                "a chat tap on an order already rejected; nothing changed");
            return reply(Said::Final { number });
        }
        match action {
            Action::Accept => {
                self.store.drop_reasons_of_order(&order.id).await?;
                let said = self
                    .record(
                        &order,
                        &craftsman,
                        Answer::accept(),
                        tap.kind,
                        tap.event_key,
                    )
                    .await?;
                reply(said.unwrap_or(Said::Accepted { number }))
            }
            Action::Reject => {
                let now = Utc::now();
                let wait = chrono::Duration::from_std(self.reason_wait)
                    .unwrap_or(chrono::TimeDelta::minutes(10));
                let question = ReasonQuestion {
                    id: new_id("rsq"),
                    chat_kind: tap.kind,
                    chat_id: tap.chat_id.to_owned(),
                    order_id: order.id.clone(),
                    craftsman_id: craftsman.id.clone(),
                    event_key: tap.event_key,
                    asked_at: now,
                    expires_at: now + wait,
                };
                let asked = self.store.ask_reason(question).await?;
                tracing::info!(order_id = %order.id, craftsman_id = %craftsman.id,
                    chat = tap.kind.as_str(), asked, "a rejection tapped in a chat; its reason asked");
                let minutes = self.reason_wait.as_secs().div_ceil(60).max(1);
                reply(Said::AskedReason { number, minutes })
            }
        }
    }

    /// The order and craftsman of `delivery_id`, when the delivery went to this
    /// very chat; `None` (logged) otherwise.
    async fn order_for(
        &self,
        tap: &Tap<'_>,
        delivery_id: &str,
    ) -> Result<Option<(OrderRecord, Craftsman)>, StoreError> {
        let chat = tap.kind.as_str();
        let Some(delivery) = self.store.get_delivery(delivery_id).await? else {
            tracing::warn!(chat, "a chat tap on an unknown delivery; nothing changed");
            return Ok(None);
        };
        let craftsman = self.store.get_craftsman(&delivery.craftsman_id).await?;
        let channel = craftsman.as_ref().and_then(|c| {
            c.channels
                .iter()
                .find(|ch| Some(&ch.id) == delivery.channel_id.as_ref())
        });
        let Some(craftsman) = craftsman
            .clone()
            .filter(|_| channel.is_some_and(|ch| is_chat(&ch.target, tap.kind, tap.chat_id)))
        else {
            tracing::warn!(chat, delivery_id = %delivery.id, order_id = %delivery.order_id,
                "a chat tap from a chat the order was not sent to (another craftsman's order?); nothing changed");
            return Ok(None);
        };
        let order = self
            .store
            .get_order(OrderScope::Craftsman(&craftsman.id), &delivery.order_id)
            .await?;
        Ok(order.map(|o| (o, craftsman)))
    }

    /// Records an answer; `None` when it was stored, else what to say instead.
    async fn record(
        &self,
        order: &OrderRecord,
        craftsman: &Craftsman,
        answer: Answer,
        kind: ChatKind,
        event_key: String,
    ) -> Result<Option<Said>, StoreError> {
        let number = order.buyer_order_number.clone();
        match self
            .responses
            .answer(order, craftsman, answer, via(kind), Some(event_key))
            .await
        {
            Ok(_) => Ok(None),
            Err(AnswerError::Final { .. }) => Ok(Some(Said::Final { number })),
            Err(AnswerError::Raced { .. }) => Ok(Some(Said::Raced)),
            Err(AnswerError::Store(error)) => Err(error),
            Err(AnswerError::Invalid { field, why }) => {
                // A chat answer is made by the gateway; only a reason can be wrong.
                tracing::warn!(order_id = %order.id, %field, %why, "a chat answer was refused");
                Ok(Some(Said::Raced))
            }
        }
    }

    /// Takes a text in a chat: the reason for the rejection asked there last, if one
    /// is waiting; `None` when none is (an ordinary message).
    pub async fn text(
        &self,
        kind: ChatKind,
        chat_id: &str,
        text: &str,
    ) -> Result<Option<Reply>, StoreError> {
        let Some(question) = self.store.waiting_reason(kind, chat_id, Utc::now()).await? else {
            return Ok(None);
        };
        // The schema's bound on a reason; a longer text is cut, not refused, so the
        // rejection the craftsman meant is recorded.
        let reason: String = text.trim().chars().take(512).collect();
        if reason.is_empty() {
            return Ok(None);
        }
        let reply = self.reject(&question, reason).await?;
        Ok(reply.map(|(said, language)| Reply { said, language }))
    }

    /// Records the rejection a question waited for, with `reason`, and forgets the
    /// question; what to tell the craftsman (`None` when the order is gone).
    async fn reject(
        &self,
        question: &ReasonQuestion,
        reason: String,
    ) -> Result<Option<(Said, Language)>, StoreError> {
        let order = self
            .store
            .get_order(
                OrderScope::Craftsman(&question.craftsman_id),
                &question.order_id,
            )
            .await?;
        let craftsman = self.store.get_craftsman(&question.craftsman_id).await?;
        let (Some(order), Some(craftsman)) = (order, craftsman) else {
            self.store.drop_reason(&question.id).await?;
            return Ok(None);
        };
        let number = order.buyer_order_number.clone();
        let given = reason != NO_REASON;
        let said = if self
            .store
            .response_by_event(&question.event_key)
            .await?
            .is_some()
        {
            // Recorded before a crash that kept the question.
            Said::AlreadyRecorded { number }
        } else {
            match self
                .record(
                    &order,
                    &craftsman,
                    Answer::reject(reason),
                    question.chat_kind,
                    question.event_key.clone(),
                )
                .await?
            {
                Some(said) => said,
                None if given => Said::Rejected { number },
                None => Said::RejectedWithoutReason { number },
            }
        };
        self.store.drop_reason(&question.id).await?;
        Ok(Some((said, craftsman.language)))
    }

    /// Records every rejection whose reason did not come in time, with
    /// [`NO_REASON`], and tells each chat; how many.
    pub async fn expire_due(&self) -> Result<usize, StoreError> {
        let due = self.store.expired_reasons(Utc::now(), 100).await?;
        for question in &due {
            tracing::info!(order_id = %question.order_id, craftsman_id = %question.craftsman_id,
                "no reason came for a rejection tapped in a chat; recorded without one");
            if let Some((said, language)) = self.reject(question, NO_REASON.to_owned()).await? {
                self.say(question.chat_kind, &question.chat_id, &said.text(language))
                    .await;
            }
        }
        Ok(due.len())
    }

    /// Sends `text` to a chat; a failure is logged, not retried (the answer is
    /// recorded whatever the chat shows).
    pub async fn say(&self, kind: ChatKind, chat_id: &str, text: &str) {
        if let Err(error) = self.channels.chat_text(kind, chat_id, text).await {
            tracing::warn!(chat = kind.as_str(), %error, "could not write to a chat");
        }
    }

    /// Runs [`Self::expire_due`] every `every`, for ever, while this instance leads
    /// the scheduled work.
    pub async fn run_expiry(self: Arc<Self>, every: Duration, mut leadership: Leadership) {
        let mut ticks = tokio::time::interval(every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut expiring =
            crate::telemetry::RepeatedStep::new("recording rejections whose reason did not come");
        loop {
            ticks.tick().await;
            leadership.held().await;
            match self.expire_due().await {
                Ok(_) => expiring.worked(),
                Err(error) => expiring.failed(&error),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_fit_telegram_and_say_action_and_delivery() {
        let id = new_id("dlv");
        for action in [Action::Accept, Action::Reject] {
            let payload = button_payload(action, &id);
            // Telegram's callback_data: 1-64 bytes.
            assert!(payload.len() <= 64, "{payload}");
            assert_eq!(parse_payload(&payload), Some((action, id.as_str())));
            for language in [Language::Indonesian, Language::English] {
                assert!(action.title(language).chars().count() <= 20);
            }
        }
        assert_eq!(
            parse_payload("tolak:dlv_1"),
            Some((Action::Reject, "dlv_1"))
        );
        assert_eq!(parse_payload("accept:ord_1"), None);
        assert_eq!(parse_payload("maybe:dlv_1"), None);
        assert_eq!(parse_payload("accept:dlv_1' OR 1"), None);
    }

    #[test]
    fn every_reply_fits_a_callback_answer() {
        let number = "X".repeat(40);
        for said in [
            Said::Accepted {
                number: number.clone(),
            },
            Said::AskedReason {
                number: number.clone(),
                minutes: 10,
            },
            Said::Rejected {
                number: number.clone(),
            },
            Said::RejectedWithoutReason {
                number: number.clone(),
            },
            Said::Final {
                number: number.clone(),
            },
            Said::AlreadyRecorded {
                number: number.clone(),
            },
            Said::Raced,
            Said::NotFound,
        ] {
            for language in [Language::Indonesian, Language::English] {
                assert!(said.text(language).chars().count() <= 200, "{said:?}");
            }
        }
    }
}
