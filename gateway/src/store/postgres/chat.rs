//! Chat answers' state: rejections waiting for their reason, and the Telegram
//! updates already taken.

use chrono::{DateTime, Utc};
use tokio_postgres::Row;

use super::Db;
use super::codec::{parse_time, time_text};
use crate::model::ChatKind;
use crate::store::{ReasonQuestion, StoreError, StoreResult};

const COLUMNS: &str =
    "id, chat_kind, chat_id, order_id, craftsman_id, event_key, asked_at, expires_at";

fn question(row: &Row) -> StoreResult<ReasonQuestion> {
    let kind: String = row.try_get(1)?;
    let asked: String = row.try_get(6)?;
    let expires: String = row.try_get(7)?;
    Ok(ReasonQuestion {
        id: row.try_get(0)?,
        chat_kind: kind
            .parse()
            .map_err(|_| StoreError::Invalid(format!("chat kind {kind:?}")))?,
        chat_id: row.try_get(2)?,
        order_id: row.try_get(3)?,
        craftsman_id: row.try_get(4)?,
        event_key: row.try_get(5)?,
        asked_at: parse_time(&asked)?,
        expires_at: parse_time(&expires)?,
    })
}

pub(super) async fn ask(db: &dyn Db, q: ReasonQuestion) -> StoreResult<bool> {
    let known = db
        .query_opt(
            "SELECT id FROM chat_reason_questions WHERE event_key = $1",
            &[&q.event_key],
        )
        .await?;
    if known.is_some() {
        return Ok(false);
    }
    db.execute(
        "DELETE FROM chat_reason_questions WHERE order_id = $1",
        &[&q.order_id],
    )
    .await?;
    db.execute(
        &format!(
            "INSERT INTO chat_reason_questions ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
        ),
        &[
            &q.id,
            &q.chat_kind.as_str(),
            &q.chat_id,
            &q.order_id,
            &q.craftsman_id,
            &q.event_key,
            &time_text(q.asked_at),
            &time_text(q.expires_at),
        ],
    )
    .await?;
    Ok(true)
}

pub(super) async fn waiting(
    db: &dyn Db,
    kind: ChatKind,
    chat_id: &str,
    now: DateTime<Utc>,
) -> StoreResult<Option<ReasonQuestion>> {
    db.query_opt(
        &format!(
            "SELECT {COLUMNS} FROM chat_reason_questions \
             WHERE chat_kind = $1 AND chat_id = $2 AND expires_at > $3 \
             ORDER BY asked_at DESC, id DESC LIMIT 1"
        ),
        &[&kind.as_str(), &chat_id, &time_text(now)],
    )
    .await?
    .as_ref()
    .map(question)
    .transpose()
}

pub(super) async fn expired(
    db: &dyn Db,
    now: DateTime<Utc>,
    limit: u32,
) -> StoreResult<Vec<ReasonQuestion>> {
    let found = db
        .query(
            &format!(
                "SELECT {COLUMNS} FROM chat_reason_questions WHERE expires_at <= $1 \
                 ORDER BY expires_at, id LIMIT $2"
            ),
            &[&time_text(now), &i64::from(limit)],
        )
        .await?;
    found.iter().map(question).collect()
}

pub(super) async fn drop_one(db: &dyn Db, id: &str) -> StoreResult<()> {
    db.execute("DELETE FROM chat_reason_questions WHERE id = $1", &[&id])
        .await?;
    Ok(())
}

pub(super) async fn drop_of_order(db: &dyn Db, order_id: &str) -> StoreResult<()> {
    db.execute(
        "DELETE FROM chat_reason_questions WHERE order_id = $1",
        &[&order_id],
    )
    .await?;
    Ok(())
}

pub(super) async fn see_update(
    db: &dyn Db,
    update_id: i64,
    at: DateTime<Utc>,
) -> StoreResult<bool> {
    db.execute(
        "DELETE FROM telegram_updates WHERE seen_at < $1",
        &[&time_text(at - chrono::TimeDelta::days(2))],
    )
    .await?;
    let inserted = db
        .execute(
            "INSERT INTO telegram_updates (update_id, seen_at) VALUES ($1, $2) \
             ON CONFLICT (update_id) DO NOTHING",
            &[&update_id, &time_text(at)],
        )
        .await?;
    Ok(inserted == 1)
}
