//! Buyers' e-mail settings and the replies to e-mailed messages.

use rusqlite::{Connection, OptionalExtension, params};

use super::codec::{BuyerRow, now, parse_time, time_text};
use crate::model::Language;
use crate::store::{
    Buyer, EmailReply, EmailSettings, EngineError, MessageStatus, ReplyState, StoreError,
    StoreResult,
};

pub(super) fn settings(conn: &Connection, buyer_id: &str) -> StoreResult<EmailSettings> {
    let row = conn
        .prepare_cached(
            "SELECT senders, language, address_token_hash IS NOT NULL \
             FROM buyer_email WHERE buyer_id = ?1",
        )?
        .query_row(params![buyer_id], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, bool>(2)?,
            ))
        })
        .optional()?;
    let Some((senders, language, has_address)) = row else {
        return Ok(EmailSettings::default());
    };
    Ok(EmailSettings {
        senders: serde_json::from_str(&senders)
            .map_err(|e| StoreError::Database(EngineError::new(e)))?,
        language: Language::from_tag(&language).unwrap_or_default(),
        has_address,
    })
}

fn buyer_exists(conn: &Connection, buyer_id: &str) -> StoreResult<()> {
    let exists = conn
        .prepare_cached("SELECT 1 FROM buyers WHERE id = ?1")?
        .exists(params![buyer_id])?;
    if exists {
        Ok(())
    } else {
        Err(StoreError::NotFound)
    }
}

pub(super) fn put_settings(
    conn: &Connection,
    buyer_id: String,
    senders: Vec<String>,
    language: Language,
) -> StoreResult<EmailSettings> {
    buyer_exists(conn, &buyer_id)?;
    let senders_json = serde_json::to_string(&senders).expect("strings serialize");
    conn.prepare_cached(
        "INSERT INTO buyer_email (buyer_id, senders, language) VALUES (?1, ?2, ?3) \
         ON CONFLICT (buyer_id) DO UPDATE SET senders = excluded.senders, \
         language = excluded.language",
    )?
    .execute(params![buyer_id, senders_json, language.tag()])?;
    settings(conn, &buyer_id)
}

pub(super) fn set_address_hash(
    conn: &Connection,
    buyer_id: String,
    token_hash: String,
) -> StoreResult<()> {
    buyer_exists(conn, &buyer_id)?;
    conn.prepare_cached(
        "INSERT INTO buyer_email (buyer_id, address_token_hash) VALUES (?1, ?2) \
         ON CONFLICT (buyer_id) DO UPDATE SET address_token_hash = excluded.address_token_hash",
    )?
    .execute(params![buyer_id, token_hash])?;
    Ok(())
}

pub(super) fn buyer_by_address_hash(
    conn: &Connection,
    token_hash: &str,
) -> StoreResult<Option<Buyer>> {
    let row = conn
        .prepare_cached(concat!(
            "SELECT ",
            buyer_columns!(),
            " FROM buyers WHERE id = \
             (SELECT buyer_id FROM buyer_email WHERE address_token_hash = ?1)"
        ))?
        .query_row(params![token_hash], BuyerRow::from_row)
        .optional()?;
    row.map(Buyer::try_from).transpose()
}

pub(super) fn claim_reply(
    conn: &Connection,
    message_id: String,
    recipient: String,
) -> StoreResult<bool> {
    // The outcome the reply tells is the message's now: kept beside the claim, so
    // a later replay that changes it shows that the reply told an earlier one.
    let inserted = conn
        .prepare_cached(
            "INSERT INTO email_replies \
             (message_id, recipient, state, created_at, attempt, outcome) \
             SELECT ?1, ?2, 'sending', ?3, attempts, status FROM messages WHERE id = ?1 \
             ON CONFLICT (message_id) DO NOTHING",
        )?
        .execute(params![message_id, recipient, time_text(now())])?;
    Ok(inserted == 1)
}

pub(super) fn reply(conn: &Connection, message_id: &str) -> StoreResult<Option<EmailReply>> {
    let row = conn
        .prepare_cached(
            "SELECT recipient, state, detail, attempt, outcome, created_at, finished_at \
             FROM email_replies WHERE message_id = ?1",
        )?
        .query_row(params![message_id], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, Option<String>>(2)?,
                row.get::<_, Option<u32>>(3)?,
                row.get::<_, Option<String>>(4)?,
                row.get::<_, String>(5)?,
                row.get::<_, Option<String>>(6)?,
            ))
        })
        .optional()?;
    let Some((recipient, state, detail, attempt, outcome, created_at, finished_at)) = row else {
        return Ok(None);
    };
    Ok(Some(EmailReply {
        recipient,
        state,
        detail,
        attempt,
        outcome: outcome
            .as_deref()
            .and_then(|o| o.parse::<MessageStatus>().ok()),
        created_at: parse_time(&created_at)?,
        finished_at: finished_at.as_deref().map(parse_time).transpose()?,
    }))
}

pub(super) fn finish_reply(
    conn: &Connection,
    message_id: String,
    state: ReplyState,
    detail: String,
) -> StoreResult<()> {
    let state = match state {
        ReplyState::Sent => "sent",
        ReplyState::Failed => "failed",
    };
    conn.prepare_cached(
        "UPDATE email_replies SET state = ?2, detail = ?3, finished_at = ?4 \
         WHERE message_id = ?1",
    )?
    .execute(params![message_id, state, detail, time_text(now())])?;
    Ok(())
}
