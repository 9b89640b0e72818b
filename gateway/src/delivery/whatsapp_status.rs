//! What WhatsApp's status webhooks do to deliveries (issue 13): `sent`, `delivered`
//! and `read` are recorded on the attempt that sent the message; a `failed` after
//! the send was answered 2xx reopens the delivery, classified by its error code:
//! "Cloud API errors are returned either synchronously as a Graph API response,
//! asynchronously via Webhook, or sometimes through both methods"
//! (docs/services.md W2).
//!
//! Meta promises no order between a send's answer, which names the `wamid`, and
//! the statuses of that message (W12): a status may arrive before the gateway has
//! recorded the attempt. It is kept in the store
//! ([`Outbox::keep_early_whatsapp_status`]), so a restart does not lose it, at most
//! [`MAX_EARLY_STATUSES`] at once, and retention deletes those no attempt named
//! (`admission::retention::EARLY_STATUSES_KEPT`). The worker applies it
//! ([`apply_kept`]) right after it records the attempt that names the message,
//! and, as it starts, any that a stop between the two left ([`apply_left_over`]).
//!
//! The webhook endpoint (`api::whatsapp`) reads the events and calls [`take`].

use std::time::Duration;

use chrono::{DateTime, Utc};

use super::RetrySchedule;
use super::channels::whatsapp::{REENGAGEMENT, Status, code_failure, code_retry_after};
use super::channels::{Failure, MAX_RETRY_HINT};
use crate::store::{
    AttemptOutcome, DeliveryState, EarlyStatusKept, NextStep, Outbox, Receipt, Reopen, StoreResult,
    WhatsAppStatus,
};

/// The most statuses kept at once for messages no recorded attempt names yet.
pub const MAX_EARLY_STATUSES: u32 = 1000;

/// What [`take`] did with a status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Taken {
    /// Recorded on its attempt; `reopened` when it reopened the delivery (a
    /// worker may have a new attempt to make).
    Applied { reopened: bool },
    /// Kept until the attempt naming its message is recorded.
    Kept,
    /// Not one this gateway keeps, or too many are kept already.
    Dropped,
}

/// A status event as the gateway keeps it; `None` for a status it does not keep
/// (WhatsApp may add kinds). `now` stands in for a missing timestamp.
pub fn read(status: &Status, now: DateTime<Utc>) -> Option<WhatsAppStatus> {
    let receipt = status.status.parse::<Receipt>().ok()?;
    let error = status.errors.first();
    Some(WhatsAppStatus {
        wamid: status.id.clone(),
        receipt,
        at: super::channels::whatsapp::event_time(&status.timestamp, now),
        recipient_id: status.recipient_id.clone(),
        error_code: error.and_then(|e| e.code),
        error: error.map(|e| e.text()),
    })
}

/// Takes a status from the webhook: applied when an attempt names its message,
/// kept until one does otherwise.
pub async fn take(
    store: &dyn Outbox,
    schedule: &RetrySchedule,
    status: WhatsAppStatus,
) -> StoreResult<Taken> {
    match store
        .keep_early_whatsapp_status(status.clone(), MAX_EARLY_STATUSES)
        .await?
    {
        EarlyStatusKept::AttemptKnown => {
            let reopened = apply(store, schedule, &status).await?;
            Ok(Taken::Applied { reopened })
        }
        EarlyStatusKept::Kept => {
            tracing::debug!(wamid = %status.wamid, receipt = %status.receipt,
                "a WhatsApp status before its attempt was recorded: kept until it is");
            Ok(Taken::Kept)
        }
        EarlyStatusKept::Full => {
            tracing::warn!(wamid = %status.wamid, receipt = %status.receipt,
                "a WhatsApp status for an unknown message, with too many kept already: dropped");
            Ok(Taken::Dropped)
        }
    }
}

/// Applies the status kept for message `wamid`, if one is, now that an attempt
/// naming it is recorded; `true` when it reopened the delivery. Called by the
/// worker right after it records such an attempt.
pub async fn apply_kept(
    store: &dyn Outbox,
    schedule: &RetrySchedule,
    wamid: &str,
) -> StoreResult<bool> {
    let Some(status) = store.early_whatsapp_status(wamid).await? else {
        return Ok(false);
    };
    let reopened = apply(store, schedule, &status).await?;
    // Forgotten once applied: a crash in between applies it again at most, which
    // changes nothing the second time (the delivery is no longer the succeeded one
    // a failure reopens, and a receipt never moves back).
    store.forget_early_whatsapp_status(wamid).await?;
    tracing::info!(%wamid, receipt = %status.receipt, reopened,
        "a WhatsApp status that came before its attempt was applied");
    Ok(reopened)
}

/// Applies every kept status whose attempt is recorded already: the gateway
/// stopped between recording an attempt and applying its message's status. Run
/// once as the worker starts; how many it applied.
pub async fn apply_left_over(store: &dyn Outbox, schedule: &RetrySchedule) -> StoreResult<u64> {
    let mut applied = 0;
    loop {
        let wamids = store.named_early_whatsapp_statuses(100).await?;
        if wamids.is_empty() {
            return Ok(applied);
        }
        for wamid in wamids {
            apply_kept(store, schedule, &wamid).await?;
            applied += 1;
        }
    }
}

/// Applies a status whose message an attempt names; `true` when it reopened the
/// delivery.
async fn apply(
    store: &dyn Outbox,
    schedule: &RetrySchedule,
    status: &WhatsAppStatus,
) -> StoreResult<bool> {
    if status.receipt == Receipt::Failed
        && let Some(sent) = store.sent_message(&status.wamid).await?
        && sent.state == DeliveryState::Succeeded
        && sent.attempt == sent.attempts
    {
        let code = status.error_code;
        // A failure without a code says nothing to the contrary: try again.
        let failure = code.map_or(Failure::Retry, code_failure);
        if code == Some(REENGAGEMENT) {
            // Meta says the window was closed: the next attempt is a template.
            store
                .close_whatsapp_window(&status.recipient_id, status.at)
                .await?;
        }
        let next = match failure {
            Failure::Retry | Failure::Credentials | Failure::Throttled => schedule
                .wait_after(sent.attempts_in_schedule)
                // The code's own wait (the pair rate limit) holds as it does for a
                // refusal in the send's answer: the retry is never earlier.
                .map(|wait| wait.max(late_hint(code)))
                .and_then(|wait| chrono::Duration::from_std(wait).ok())
                .map_or(NextStep::Dead, |wait| NextStep::RetryAt(Utc::now() + wait)),
            Failure::Permanent | Failure::Disable => NextStep::Dead,
        };
        let reason = status.error.as_deref().unwrap_or("no reason given");
        let reopen = Reopen {
            delivery_id: sent.delivery_id.clone(),
            attempt: sent.attempt,
            outcome: AttemptOutcome::from(failure),
            error: format!("WhatsApp failed the message after taking it: {reason}"),
            next,
            failed_at: status.at,
        };
        if let Some(delivery) = store.reopen_delivery(reopen).await? {
            tracing::warn!(delivery_id = %delivery.id, wamid = %status.wamid, state = %delivery.state,
                error = delivery.last_error.as_deref(), "a delivered WhatsApp message failed; delivery reopened");
            return Ok(true);
        }
    }
    let changed = store
        .record_receipt(&status.wamid, status.receipt, status.at)
        .await?;
    tracing::debug!(wamid = %status.wamid, receipt = %status.receipt, changed, "WhatsApp status");
    Ok(false)
}

/// The wait a late failure's code asks for, within [`MAX_RETRY_HINT`].
fn late_hint(code: Option<i64>) -> Duration {
    code.and_then(code_retry_after)
        .unwrap_or_default()
        .min(MAX_RETRY_HINT)
}
