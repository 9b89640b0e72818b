//! Craftsmen, their channels, and the routes from buyers' supplier codes to them.

use sqlx::SqliteConnection;

use super::SqliteStore;
use super::codec::{classify, decode, json_text, now, parse_json, parse_time, time_text};
use super::deliveries;
use crate::model::Language;
use chrono::{DateTime, Utc};

use crate::store::{
    Channel, Craftsman, NewCraftsman, NewInboxSession, Route, RouteChange, StoreError, StoreResult,
};

#[derive(sqlx::FromRow)]
struct CraftsmanRow {
    id: String,
    name: String,
    language: String,
    created_at: String,
}

#[derive(sqlx::FromRow)]
pub(super) struct ChannelRow {
    id: String,
    craftsman_id: String,
    target: String,
    disabled_at: Option<String>,
    disabled_reason: Option<String>,
    created_at: String,
}

impl TryFrom<ChannelRow> for Channel {
    type Error = sqlx::Error;

    fn try_from(row: ChannelRow) -> Result<Self, Self::Error> {
        Ok(Channel {
            target: parse_json(&row.target)?,
            disabled_at: row.disabled_at.as_deref().map(parse_time).transpose()?,
            created_at: parse_time(&row.created_at)?,
            id: row.id,
            craftsman_id: row.craftsman_id,
            disabled_reason: row.disabled_reason,
        })
    }
}

pub(super) fn parse_language(text: &str) -> Result<Language, sqlx::Error> {
    Language::from_tag(text).ok_or_else(|| decode(format!("unknown language {text:?}")))
}

impl CraftsmanRow {
    fn into_craftsman(self, channels: Vec<Channel>) -> Result<Craftsman, sqlx::Error> {
        Ok(Craftsman {
            language: parse_language(&self.language)?,
            created_at: parse_time(&self.created_at)?,
            id: self.id,
            name: self.name,
            channels,
        })
    }
}

#[derive(sqlx::FromRow)]
struct RouteRow {
    buyer_id: String,
    supplier_code: String,
    craftsman_id: String,
    updated_at: String,
}

impl TryFrom<RouteRow> for Route {
    type Error = sqlx::Error;

    fn try_from(row: RouteRow) -> Result<Self, Self::Error> {
        Ok(Route {
            updated_at: parse_time(&row.updated_at)?,
            buyer_id: row.buyer_id,
            supplier_code: row.supplier_code,
            craftsman_id: row.craftsman_id,
        })
    }
}

async fn channels_of(
    conn: &mut SqliteConnection,
    craftsman_id: &str,
) -> Result<Vec<Channel>, sqlx::Error> {
    let rows: Vec<ChannelRow> = sqlx::query_as(concat!(
        "SELECT ",
        channel_columns!(),
        " FROM channels WHERE craftsman_id = ?1 ORDER BY id"
    ))
    .bind(craftsman_id)
    .fetch_all(conn)
    .await?;
    rows.into_iter().map(Channel::try_from).collect()
}

pub(super) async fn create(
    conn: &mut SqliteConnection,
    craftsman: NewCraftsman,
) -> StoreResult<Craftsman> {
    let created_text = time_text(now());
    let what = format!("craftsman {}", craftsman.id);
    sqlx::query(
        "INSERT INTO craftsmen (id, name, language, token_hash, created_at) \
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )
    .bind(&craftsman.id)
    .bind(&craftsman.name)
    .bind(craftsman.language.tag())
    .bind(&craftsman.token_hash)
    .bind(&created_text)
    .execute(&mut *conn)
    .await
    .map_err(|e| classify(&what, e))?;
    for channel in &craftsman.channels {
        sqlx::query(
            "INSERT INTO channels (id, craftsman_id, kind, target, created_at) \
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )
        .bind(&channel.id)
        .bind(&craftsman.id)
        .bind(channel.target.kind())
        .bind(json_text(&channel.target)?)
        .bind(&created_text)
        .execute(&mut *conn)
        .await
        .map_err(|e| classify(&format!("channel {}", channel.id), e))?;
    }
    get_on(conn, &craftsman.id)
        .await?
        .ok_or_else(|| StoreError::Invalid(format!("{what} vanished while it was created")))
}

async fn get_on(conn: &mut SqliteConnection, id: &str) -> StoreResult<Option<Craftsman>> {
    let row: Option<CraftsmanRow> = sqlx::query_as(concat!(
        "SELECT ",
        craftsman_columns!(),
        " FROM craftsmen WHERE id = ?1"
    ))
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let channels = channels_of(conn, id).await?;
    Ok(Some(row.into_craftsman(channels)?))
}

pub(super) async fn get(store: &SqliteStore, id: &str) -> StoreResult<Option<Craftsman>> {
    let mut tx = store.reader.begin().await?;
    let craftsman = get_on(&mut tx, id).await?;
    tx.commit().await?;
    Ok(craftsman)
}

pub(super) async fn by_token_hash(
    store: &SqliteStore,
    token_hash: &str,
) -> StoreResult<Option<Craftsman>> {
    let id: Option<String> = sqlx::query_scalar("SELECT id FROM craftsmen WHERE token_hash = ?1")
        .bind(token_hash)
        .fetch_optional(&store.reader)
        .await?;
    match id {
        Some(id) => get(store, &id).await,
        None => Ok(None),
    }
}

pub(super) async fn list(store: &SqliteStore) -> StoreResult<Vec<Craftsman>> {
    let mut tx = store.reader.begin().await?;
    let rows: Vec<CraftsmanRow> = sqlx::query_as(concat!(
        "SELECT ",
        craftsman_columns!(),
        " FROM craftsmen ORDER BY id"
    ))
    .fetch_all(&mut *tx)
    .await?;
    let mut craftsmen = Vec::with_capacity(rows.len());
    for row in rows {
        let channels = channels_of(&mut tx, &row.id).await?;
        craftsmen.push(row.into_craftsman(channels)?);
    }
    tx.commit().await?;
    Ok(craftsmen)
}

pub(super) async fn set_channel_enabled(
    conn: &mut SqliteConnection,
    craftsman_id: String,
    channel_id: String,
    enabled: bool,
) -> StoreResult<Channel> {
    let row: Option<ChannelRow> = sqlx::query_as(concat!(
        "UPDATE channels SET \
         disabled_at = CASE WHEN ?3 THEN NULL ELSE coalesce(disabled_at, ?4) END, \
         disabled_reason = CASE WHEN ?3 THEN NULL ELSE coalesce(disabled_reason, 'disabled by an admin') END \
         WHERE id = ?1 AND craftsman_id = ?2 RETURNING ",
        channel_columns!()
    ))
    .bind(&channel_id)
    .bind(&craftsman_id)
    .bind(enabled)
    .bind(time_text(now()))
    .fetch_optional(&mut *conn)
    .await?;
    Ok(row.ok_or(StoreError::NotFound)?.try_into()?)
}

pub(super) async fn put_route(
    conn: &mut SqliteConnection,
    buyer_id: String,
    supplier_code: String,
    craftsman_id: String,
) -> StoreResult<RouteChange> {
    let now = now();
    let row: RouteRow = sqlx::query_as(
        "INSERT INTO routes (buyer_id, supplier_code, craftsman_id, updated_at) \
         VALUES (?1, ?2, ?3, ?4) \
         ON CONFLICT (buyer_id, supplier_code) \
         DO UPDATE SET craftsman_id = excluded.craftsman_id, updated_at = excluded.updated_at \
         RETURNING buyer_id, supplier_code, craftsman_id, updated_at",
    )
    .bind(&buyer_id)
    .bind(&supplier_code)
    .bind(&craftsman_id)
    .bind(time_text(now))
    .fetch_one(&mut *conn)
    .await
    .map_err(|e| classify(&format!("route {buyer_id}/{supplier_code}"), e))?;

    let waiting: Vec<String> = sqlx::query_scalar(
        "SELECT id FROM orders WHERE buyer_id = ?1 AND supplier_code = ?2 \
         AND status = 'unrouted' ORDER BY id",
    )
    .bind(&buyer_id)
    .bind(&supplier_code)
    .fetch_all(&mut *conn)
    .await?;
    for order_id in &waiting {
        deliveries::route(conn, order_id, &craftsman_id, now).await?;
    }
    Ok(RouteChange {
        route: row.try_into()?,
        routed_orders: waiting,
    })
}

pub(super) async fn routes(store: &SqliteStore, buyer_id: &str) -> StoreResult<Vec<Route>> {
    let rows: Vec<RouteRow> = sqlx::query_as(
        "SELECT buyer_id, supplier_code, craftsman_id, updated_at FROM routes \
         WHERE buyer_id = ?1 ORDER BY supplier_code",
    )
    .bind(buyer_id)
    .fetch_all(&store.reader)
    .await?;
    Ok(rows
        .into_iter()
        .map(Route::try_from)
        .collect::<Result<_, _>>()?)
}

pub(super) async fn set_token_hash(
    conn: &mut SqliteConnection,
    id: String,
    token_hash: Option<String>,
) -> StoreResult<u64> {
    let hash = token_hash.unwrap_or_else(super::buyers::revoked_marker);
    let changed = sqlx::query("UPDATE craftsmen SET token_hash = ?1 WHERE id = ?2")
        .bind(&hash)
        .bind(&id)
        .execute(&mut *conn)
        .await
        .map_err(|e| classify(&format!("craftsman {id}"), e))?
        .rows_affected();
    if changed == 0 {
        return Err(StoreError::NotFound);
    }
    let ended = sqlx::query(
        "UPDATE inbox_sessions SET ended_at = ?1 WHERE craftsman_id = ?2 AND ended_at IS NULL",
    )
    .bind(time_text(now()))
    .bind(&id)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    Ok(ended)
}

pub(super) async fn create_session(
    conn: &mut SqliteConnection,
    session: NewInboxSession,
) -> StoreResult<()> {
    let now = time_text(now());
    // Sessions are few (one per sign-in); forgetting the dead ones at each sign-in
    // keeps the table small without a background task.
    sqlx::query("DELETE FROM inbox_sessions WHERE ended_at IS NOT NULL OR expires_at <= ?1")
        .bind(&now)
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "INSERT INTO inbox_sessions (id_hash, craftsman_id, created_at, expires_at) \
         VALUES (?1, ?2, ?3, ?4)",
    )
    .bind(&session.id_hash)
    .bind(&session.craftsman_id)
    .bind(&now)
    .bind(time_text(session.expires_at))
    .execute(&mut *conn)
    .await
    .map_err(|e| classify(&format!("inbox session of {}", session.craftsman_id), e))?;
    Ok(())
}

pub(super) async fn by_session_hash(
    store: &SqliteStore,
    id_hash: &str,
    now: DateTime<Utc>,
) -> StoreResult<Option<Craftsman>> {
    let id: Option<String> = sqlx::query_scalar(
        "SELECT craftsman_id FROM inbox_sessions \
         WHERE id_hash = ?1 AND ended_at IS NULL AND expires_at > ?2",
    )
    .bind(id_hash)
    .bind(time_text(now))
    .fetch_optional(&store.reader)
    .await?;
    match id {
        Some(id) => get(store, &id).await,
        None => Ok(None),
    }
}

pub(super) async fn end_session(conn: &mut SqliteConnection, id_hash: String) -> StoreResult<bool> {
    let ended = sqlx::query(
        "UPDATE inbox_sessions SET ended_at = ?1 WHERE id_hash = ?2 AND ended_at IS NULL",
    )
    .bind(time_text(now()))
    .bind(&id_hash)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    Ok(ended > 0)
}
