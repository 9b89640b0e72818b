//! Chat answers' state: rejections waiting for their reason, and the Telegram
//! updates already taken (migration 0013).

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, Row, params};

use super::codec::{parse_time, time_text};
use crate::model::ChatKind;
use crate::store::{ReasonQuestion, StoreError, StoreResult};

const COLUMNS: &str =
    "id, chat_kind, chat_id, order_id, craftsman_id, event_key, asked_at, expires_at";

fn question(row: &Row<'_>) -> rusqlite::Result<(ReasonQuestion, String, String, String)> {
    Ok((
        ReasonQuestion {
            id: row.get(0)?,
            chat_kind: ChatKind::Telegram,
            chat_id: row.get(2)?,
            order_id: row.get(3)?,
            craftsman_id: row.get(4)?,
            event_key: row.get(5)?,
            asked_at: DateTime::<Utc>::MIN_UTC,
            expires_at: DateTime::<Utc>::MIN_UTC,
        },
        row.get(1)?,
        row.get(6)?,
        row.get(7)?,
    ))
}

fn finish(
    (mut q, kind, asked, expires): (ReasonQuestion, String, String, String),
) -> StoreResult<ReasonQuestion> {
    q.chat_kind = kind
        .parse()
        .map_err(|_| StoreError::Invalid(format!("chat kind {kind:?}")))?;
    q.asked_at = parse_time(&asked)?;
    q.expires_at = parse_time(&expires)?;
    Ok(q)
}

pub(super) fn ask(conn: &Connection, q: ReasonQuestion) -> StoreResult<bool> {
    let known: Option<String> = conn
        .prepare_cached("SELECT id FROM chat_reason_questions WHERE event_key = ?1")?
        .query_row(params![&q.event_key], |row| row.get(0))
        .optional()?;
    if known.is_some() {
        return Ok(false);
    }
    conn.prepare_cached("DELETE FROM chat_reason_questions WHERE order_id = ?1")?
        .execute(params![&q.order_id])?;
    conn.prepare_cached(&format!(
        "INSERT INTO chat_reason_questions ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
    ))?
    .execute(params![
        &q.id,
        q.chat_kind.as_str(),
        &q.chat_id,
        &q.order_id,
        &q.craftsman_id,
        &q.event_key,
        time_text(q.asked_at),
        time_text(q.expires_at),
    ])?;
    Ok(true)
}

pub(super) fn waiting(
    conn: &Connection,
    kind: ChatKind,
    chat_id: &str,
    now: DateTime<Utc>,
) -> StoreResult<Option<ReasonQuestion>> {
    conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM chat_reason_questions \
         WHERE chat_kind = ?1 AND chat_id = ?2 AND expires_at > ?3 \
         ORDER BY asked_at DESC, id DESC LIMIT 1"
    ))?
    .query_row(params![kind.as_str(), chat_id, time_text(now)], question)
    .optional()?
    .map(finish)
    .transpose()
}

pub(super) fn expired(
    conn: &Connection,
    now: DateTime<Utc>,
    limit: u32,
) -> StoreResult<Vec<ReasonQuestion>> {
    let rows = conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM chat_reason_questions WHERE expires_at <= ?1 \
             ORDER BY expires_at, id LIMIT ?2"
        ))?
        .query_map(params![time_text(now), limit], question)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    rows.into_iter().map(finish).collect()
}

pub(super) fn drop_one(conn: &Connection, id: &str) -> StoreResult<()> {
    conn.prepare_cached("DELETE FROM chat_reason_questions WHERE id = ?1")?
        .execute(params![id])?;
    Ok(())
}

pub(super) fn drop_of_order(conn: &Connection, order_id: &str) -> StoreResult<()> {
    conn.prepare_cached("DELETE FROM chat_reason_questions WHERE order_id = ?1")?
        .execute(params![order_id])?;
    Ok(())
}

pub(super) fn see_update(
    conn: &Connection,
    update_id: i64,
    at: DateTime<Utc>,
) -> StoreResult<bool> {
    conn.prepare_cached("DELETE FROM telegram_updates WHERE seen_at < ?1")?
        .execute(params![time_text(at - chrono::TimeDelta::days(2))])?;
    let inserted = conn
        .prepare_cached(
            "INSERT INTO telegram_updates (update_id, seen_at) VALUES (?1, ?2) \
             ON CONFLICT (update_id) DO NOTHING",
        )?
        .execute(params![update_id, time_text(at)])?;
    Ok(inserted == 1)
}

#[cfg(test)]
mod tests {
    use chrono::{TimeDelta, Utc};

    use crate::model::ChatKind;
    use crate::store::ChatStore;
    use crate::store::sqlite::tests::open_temp;

    #[tokio::test]
    async fn a_telegram_update_is_taken_once_and_forgotten_after_two_days() {
        let (_dir, _url, store) = open_temp().await;
        let now = Utc::now();
        assert!(store.see_telegram_update(7, now).await.unwrap());
        assert!(
            !store.see_telegram_update(7, now).await.unwrap(),
            "replayed"
        );
        assert!(
            !store
                .see_telegram_update(7, now + TimeDelta::hours(47))
                .await
                .unwrap()
        );
        // Two days on, the id is forgotten (Telegram itself keeps updates a day).
        assert!(
            store
                .see_telegram_update(7, now + TimeDelta::days(4))
                .await
                .unwrap()
        );
        assert!(
            store
                .waiting_reason(ChatKind::Telegram, "1", now)
                .await
                .unwrap()
                .is_none()
        );
        assert!(store.expired_reasons(now, 10).await.unwrap().is_empty());
    }
}
