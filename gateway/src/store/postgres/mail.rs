//! Buyers' e-mail settings and the replies to e-mailed messages.

use super::Db;
use super::codec::{BuyerRow, now, parse_time, time_text};
use crate::model::Language;
use crate::store::{
    Buyer, EmailReply, EmailSettings, EngineError, MessageStatus, ReplyState, StoreError,
    StoreResult,
};

pub(super) async fn settings(db: &dyn Db, buyer_id: &str) -> StoreResult<EmailSettings> {
    let row = db
        .query_opt(
            "SELECT senders, language, address_token_hash IS NOT NULL \
             FROM buyer_email WHERE buyer_id = $1",
            &[&buyer_id],
        )
        .await?;
    let Some(row) = row else {
        return Ok(EmailSettings::default());
    };
    let (senders, language, has_address): (String, String, bool) =
        (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?);
    Ok(EmailSettings {
        senders: serde_json::from_str(&senders)
            .map_err(|e| StoreError::Database(EngineError::new(e)))?,
        language: Language::from_tag(&language).unwrap_or_default(),
        has_address,
    })
}

async fn buyer_exists(db: &dyn Db, buyer_id: &str) -> StoreResult<()> {
    let found = db
        .query_opt("SELECT 1 FROM buyers WHERE id = $1", &[&buyer_id])
        .await?;
    if found.is_some() {
        Ok(())
    } else {
        Err(StoreError::NotFound)
    }
}

pub(super) async fn put_settings(
    db: &dyn Db,
    buyer_id: &str,
    senders: Vec<String>,
    language: Language,
) -> StoreResult<EmailSettings> {
    buyer_exists(db, buyer_id).await?;
    let senders_json = serde_json::to_string(&senders).expect("strings serialize");
    db.execute(
        "INSERT INTO buyer_email (buyer_id, senders, language) VALUES ($1, $2, $3) \
         ON CONFLICT (buyer_id) DO UPDATE SET senders = excluded.senders, \
         language = excluded.language",
        &[&buyer_id, &senders_json, &language.tag()],
    )
    .await?;
    settings(db, buyer_id).await
}

pub(super) async fn set_address_hash(
    db: &dyn Db,
    buyer_id: &str,
    token_hash: String,
) -> StoreResult<()> {
    buyer_exists(db, buyer_id).await?;
    db.execute(
        "INSERT INTO buyer_email (buyer_id, address_token_hash) VALUES ($1, $2) \
         ON CONFLICT (buyer_id) DO UPDATE SET address_token_hash = excluded.address_token_hash",
        &[&buyer_id, &token_hash],
    )
    .await?;
    Ok(())
}

pub(super) async fn buyer_by_address_hash(
    db: &dyn Db,
    token_hash: &str,
) -> StoreResult<Option<Buyer>> {
    let row = db
        .query_opt(
            concat!(
                "SELECT ",
                buyer_columns!(),
                " FROM buyers WHERE id = \
                 (SELECT buyer_id FROM buyer_email WHERE address_token_hash = $1)"
            ),
            &[&token_hash],
        )
        .await?;
    row.as_ref()
        .map(BuyerRow::from_pg)
        .transpose()?
        .map(Buyer::try_from)
        .transpose()
}

pub(super) async fn claim_reply(
    db: &dyn Db,
    message_id: &str,
    recipient: &str,
) -> StoreResult<bool> {
    // The outcome the reply tells is the message's now: kept beside the claim, so
    // a later replay that changes it shows that the reply told an earlier one.
    let inserted = db
        .execute(
            "INSERT INTO email_replies \
             (message_id, recipient, state, created_at, attempt, outcome) \
             SELECT $1::text, $2::text, 'sending', $3::text, attempts, status \
             FROM messages WHERE id = $1 \
             ON CONFLICT (message_id) DO NOTHING",
            &[&message_id, &recipient, &time_text(now())],
        )
        .await?;
    Ok(inserted == 1)
}

pub(super) async fn reply(db: &dyn Db, message_id: &str) -> StoreResult<Option<EmailReply>> {
    let row = db
        .query_opt(
            "SELECT recipient, state, detail, attempt, outcome, created_at, finished_at \
             FROM email_replies WHERE message_id = $1",
            &[&message_id],
        )
        .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let attempt: Option<i64> = row.try_get(3)?;
    let outcome: Option<String> = row.try_get(4)?;
    let created_at: String = row.try_get(5)?;
    let finished_at: Option<String> = row.try_get(6)?;
    Ok(Some(EmailReply {
        recipient: row.try_get(0)?,
        state: row.try_get(1)?,
        detail: row.try_get(2)?,
        attempt: attempt.map(super::codec::count).transpose()?,
        outcome: outcome
            .as_deref()
            .and_then(|o| o.parse::<MessageStatus>().ok()),
        created_at: parse_time(&created_at)?,
        finished_at: finished_at.as_deref().map(parse_time).transpose()?,
    }))
}

pub(super) async fn finish_reply(
    db: &dyn Db,
    message_id: &str,
    state: ReplyState,
    detail: &str,
) -> StoreResult<()> {
    let state = match state {
        ReplyState::Sent => "sent",
        ReplyState::Failed => "failed",
    };
    db.execute(
        "UPDATE email_replies SET state = $2, detail = $3, finished_at = $4 \
         WHERE message_id = $1",
        &[&message_id, &state, &detail, &time_text(now())],
    )
    .await?;
    Ok(())
}
