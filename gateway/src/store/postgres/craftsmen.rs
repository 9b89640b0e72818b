//! Craftsmen, their channels, and the routes from buyers' supplier codes to them.

use chrono::{DateTime, Utc};
use tokio_postgres::Row;

use super::codec::{ChannelRow, CraftsmanRow, RouteRow, classify, json_text, now, time_text};
use super::{Db, PgError, deliveries, rows};
use crate::model::ChannelTarget;
use crate::store::{
    Channel, Craftsman, DISABLED_BY_ADMIN, NewCraftsman, NewInboxSession, Route, RouteChange,
    StoreError, StoreResult,
};

impl CraftsmanRow {
    fn from_pg(row: &Row) -> Result<Self, PgError> {
        Ok(Self {
            id: row.try_get("id")?,
            name: row.try_get("name")?,
            language: row.try_get("language")?,
            created_at: row.try_get("created_at")?,
        })
    }
}

impl ChannelRow {
    fn from_pg(row: &Row) -> Result<Self, PgError> {
        Ok(Self {
            id: row.try_get("id")?,
            craftsman_id: row.try_get("craftsman_id")?,
            target: row.try_get("target")?,
            disabled_at: row.try_get("disabled_at")?,
            disabled_reason: row.try_get("disabled_reason")?,
            created_at: row.try_get("created_at")?,
        })
    }
}

impl RouteRow {
    fn from_pg(row: &Row) -> Result<Self, PgError> {
        Ok(Self {
            buyer_id: row.try_get("buyer_id")?,
            supplier_code: row.try_get("supplier_code")?,
            craftsman_id: row.try_get("craftsman_id")?,
            updated_at: row.try_get("updated_at")?,
        })
    }
}

async fn channels_of(db: &dyn Db, craftsman_id: &str) -> StoreResult<Vec<Channel>> {
    let found = db
        .query(
            concat!(
                "SELECT ",
                channel_columns!(),
                " FROM channels WHERE craftsman_id = $1 ORDER BY id"
            ),
            &[&craftsman_id],
        )
        .await?;
    rows(found, ChannelRow::from_pg)?
        .into_iter()
        .map(Channel::try_from)
        .collect()
}

pub(super) async fn create(db: &dyn Db, craftsman: NewCraftsman) -> StoreResult<Craftsman> {
    let created_text = time_text(now());
    let what = format!("craftsman {}", craftsman.id);
    db.execute(
        "INSERT INTO craftsmen (id, name, language, token_hash, created_at) \
         VALUES ($1, $2, $3, $4, $5)",
        &[
            &craftsman.id,
            &craftsman.name,
            &craftsman.language.tag(),
            &craftsman.token_hash,
            &created_text,
        ],
    )
    .await
    .map_err(|e| classify(&what, e))?;
    for channel in &craftsman.channels {
        db.execute(
            "INSERT INTO channels (id, craftsman_id, kind, target, created_at) \
             VALUES ($1, $2, $3, $4, $5)",
            &[
                &channel.id,
                &craftsman.id,
                &channel.target.kind(),
                &json_text(&channel.target)?,
                &created_text,
            ],
        )
        .await
        .map_err(|e| classify(&format!("channel {}", channel.id), e))?;
    }
    get(db, &craftsman.id)
        .await?
        .ok_or_else(|| StoreError::Invalid(format!("{what} vanished while it was created")))
}

/// A craftsman with its channels; the caller provides the snapshot both reads share.
pub(super) async fn get(db: &dyn Db, id: &str) -> StoreResult<Option<Craftsman>> {
    let row = db
        .query_opt(
            concat!(
                "SELECT ",
                craftsman_columns!(),
                " FROM craftsmen WHERE id = $1"
            ),
            &[&id],
        )
        .await?;
    let Some(row) = row else { return Ok(None) };
    let row = CraftsmanRow::from_pg(&row)?;
    let channels = channels_of(db, id).await?;
    Ok(Some(row.into_craftsman(channels)?))
}

pub(super) async fn by_token_hash(db: &dyn Db, token_hash: &str) -> StoreResult<Option<Craftsman>> {
    let id: Option<String> = db
        .query_opt(
            "SELECT id FROM craftsmen WHERE token_hash = $1",
            &[&token_hash],
        )
        .await?
        .map(|row| row.try_get(0))
        .transpose()?;
    match id {
        Some(id) => get(db, &id).await,
        None => Ok(None),
    }
}

pub(super) async fn list(db: &dyn Db) -> StoreResult<Vec<Craftsman>> {
    let found = db
        .query(
            concat!(
                "SELECT ",
                craftsman_columns!(),
                " FROM craftsmen ORDER BY id"
            ),
            &[],
        )
        .await?;
    let mut craftsmen = Vec::with_capacity(found.len());
    for row in rows(found, CraftsmanRow::from_pg)? {
        let channels = channels_of(db, &row.id).await?;
        craftsmen.push(row.into_craftsman(channels)?);
    }
    Ok(craftsmen)
}

pub(super) async fn set_channel_enabled(
    db: &dyn Db,
    craftsman_id: &str,
    channel_id: &str,
    enabled: bool,
) -> StoreResult<Channel> {
    let row = db
        .query_opt(
            concat!(
                "UPDATE channels SET \
                 disabled_at = CASE WHEN $3 THEN NULL ELSE coalesce(disabled_at, $4) END, \
                 disabled_reason = CASE WHEN $3 THEN NULL \
                   ELSE coalesce(disabled_reason, $5) END \
                 WHERE id = $1 AND craftsman_id = $2 RETURNING ",
                channel_columns!()
            ),
            &[
                &channel_id,
                &craftsman_id,
                &enabled,
                &time_text(now()),
                &DISABLED_BY_ADMIN,
            ],
        )
        .await?;
    let row = row.ok_or(StoreError::NotFound)?;
    ChannelRow::from_pg(&row)?.try_into()
}

pub(super) async fn enable_telegram_chat(db: &dyn Db, chat_id: &str) -> StoreResult<Vec<String>> {
    let ids = db
        .query(
            "UPDATE channels SET disabled_at = NULL, disabled_reason = NULL \
             WHERE kind = 'telegram' AND target::jsonb ->> 'chat_id' = $1 \
             AND disabled_at IS NOT NULL AND disabled_reason IS DISTINCT FROM $2 RETURNING id",
            &[&chat_id, &DISABLED_BY_ADMIN],
        )
        .await?;
    rows(ids, |row| row.try_get(0))
}

pub(super) async fn move_channel(
    db: &dyn Db,
    channel_id: &str,
    target: ChannelTarget,
) -> StoreResult<()> {
    let changed = db
        .execute(
            "UPDATE channels SET target = $2 WHERE id = $1 AND kind = $3",
            &[&channel_id, &json_text(&target)?, &target.kind()],
        )
        .await?;
    if changed == 0 {
        let kind: Option<String> = db
            .query_opt("SELECT kind FROM channels WHERE id = $1", &[&channel_id])
            .await?
            .map(|row| row.try_get(0))
            .transpose()?;
        return Err(match kind {
            None => StoreError::NotFound,
            Some(kind) => StoreError::Invalid(format!(
                "channel {channel_id} is a {kind} channel, not {}",
                target.kind()
            )),
        });
    }
    Ok(())
}

pub(super) async fn put_route(
    db: &dyn Db,
    buyer_id: &str,
    supplier_code: &str,
    craftsman_id: &str,
) -> StoreResult<RouteChange> {
    let now = now();
    let row = db
        .query_opt(
            "INSERT INTO routes (buyer_id, supplier_code, craftsman_id, updated_at) \
             VALUES ($1, $2, $3, $4) \
             ON CONFLICT (buyer_id, supplier_code) \
             DO UPDATE SET craftsman_id = excluded.craftsman_id, updated_at = excluded.updated_at \
             RETURNING buyer_id, supplier_code, craftsman_id, updated_at",
            &[&buyer_id, &supplier_code, &craftsman_id, &time_text(now)],
        )
        .await
        .map_err(|e| classify(&format!("route {buyer_id}/{supplier_code}"), e))?
        .ok_or_else(|| {
            StoreError::Invalid(format!("route {buyer_id}/{supplier_code} not stored"))
        })?;
    let route = RouteRow::from_pg(&row)?;

    let waiting = db
        .query(
            "SELECT id FROM orders WHERE buyer_id = $1 AND supplier_code = $2 \
             AND status = 'unrouted' ORDER BY id",
            &[&buyer_id, &supplier_code],
        )
        .await?;
    let waiting = rows(waiting, |row| row.try_get::<_, String>(0))?;
    for order_id in &waiting {
        deliveries::route(db, order_id, craftsman_id, now).await?;
    }
    Ok(RouteChange {
        route: route.try_into()?,
        routed_orders: waiting,
    })
}

pub(super) async fn routes(db: &dyn Db, buyer_id: &str) -> StoreResult<Vec<Route>> {
    let found = db
        .query(
            "SELECT buyer_id, supplier_code, craftsman_id, updated_at FROM routes \
             WHERE buyer_id = $1 ORDER BY supplier_code",
            &[&buyer_id],
        )
        .await?;
    rows(found, RouteRow::from_pg)?
        .into_iter()
        .map(Route::try_from)
        .collect()
}

pub(super) async fn set_token_hash(
    db: &dyn Db,
    id: &str,
    token_hash: Option<String>,
) -> StoreResult<u64> {
    let hash = token_hash.unwrap_or_else(super::buyers::revoked_marker);
    let changed = db
        .execute(
            "UPDATE craftsmen SET token_hash = $1 WHERE id = $2",
            &[&hash, &id],
        )
        .await
        .map_err(|e| classify(&format!("craftsman {id}"), e))?;
    if changed == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(db
        .execute(
            "UPDATE inbox_sessions SET ended_at = $1 WHERE craftsman_id = $2 AND ended_at IS NULL",
            &[&time_text(now()), &id],
        )
        .await?)
}

pub(super) async fn create_session(db: &dyn Db, session: NewInboxSession) -> StoreResult<()> {
    let now = time_text(now());
    // Sessions are few (one per sign-in); forgetting the dead ones at each sign-in
    // keeps the table small without a background task.
    db.execute(
        "DELETE FROM inbox_sessions WHERE ended_at IS NOT NULL OR expires_at <= $1",
        &[&now],
    )
    .await?;
    db.execute(
        "INSERT INTO inbox_sessions (id_hash, craftsman_id, created_at, expires_at) \
         VALUES ($1, $2, $3, $4)",
        &[
            &session.id_hash,
            &session.craftsman_id,
            &now,
            &time_text(session.expires_at),
        ],
    )
    .await
    .map_err(|e| classify(&format!("inbox session of {}", session.craftsman_id), e))?;
    Ok(())
}

pub(super) async fn by_session_hash(
    db: &dyn Db,
    id_hash: &str,
    now: DateTime<Utc>,
) -> StoreResult<Option<Craftsman>> {
    let id: Option<String> = db
        .query_opt(
            "SELECT craftsman_id FROM inbox_sessions \
             WHERE id_hash = $1 AND ended_at IS NULL AND expires_at > $2",
            &[&id_hash, &time_text(now)],
        )
        .await?
        .map(|row| row.try_get(0))
        .transpose()?;
    match id {
        Some(id) => get(db, &id).await,
        None => Ok(None),
    }
}

pub(super) async fn end_session(db: &dyn Db, id_hash: &str) -> StoreResult<bool> {
    let ended = db
        .execute(
            "UPDATE inbox_sessions SET ended_at = $1 WHERE id_hash = $2 AND ended_at IS NULL",
            &[&time_text(now()), &id_hash],
        )
        .await?;
    Ok(ended > 0)
}
