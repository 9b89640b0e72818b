//! Craftsmen, their channels, and the routes from buyers' supplier codes to them.

use rusqlite::{Connection, OptionalExtension, Row, params};

use super::codec::{ChannelRow, CraftsmanRow, RouteRow, classify, json_text, now, time_text};
use super::deliveries;
use crate::model::ChannelTarget;
use chrono::{DateTime, Utc};

use crate::store::{
    Channel, Craftsman, DISABLED_BY_ADMIN, NewCraftsman, NewInboxSession, Route, RouteChange,
    StoreError, StoreResult,
};

impl CraftsmanRow {
    fn from_row(row: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            id: row.get("id")?,
            name: row.get("name")?,
            language: row.get("language")?,
            created_at: row.get("created_at")?,
        })
    }
}

impl ChannelRow {
    pub(super) fn from_row(row: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            id: row.get("id")?,
            craftsman_id: row.get("craftsman_id")?,
            target: row.get("target")?,
            disabled_at: row.get("disabled_at")?,
            disabled_reason: row.get("disabled_reason")?,
            created_at: row.get("created_at")?,
        })
    }
}

impl RouteRow {
    fn from_row(row: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            buyer_id: row.get("buyer_id")?,
            supplier_code: row.get("supplier_code")?,
            craftsman_id: row.get("craftsman_id")?,
            updated_at: row.get("updated_at")?,
        })
    }
}

fn channels_of(conn: &Connection, craftsman_id: &str) -> StoreResult<Vec<Channel>> {
    let rows = conn
        .prepare_cached(concat!(
            "SELECT ",
            channel_columns!(),
            " FROM channels WHERE craftsman_id = ?1 ORDER BY id"
        ))?
        .query_map(params![craftsman_id], ChannelRow::from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    rows.into_iter().map(Channel::try_from).collect()
}

pub(super) fn create(conn: &Connection, craftsman: NewCraftsman) -> StoreResult<Craftsman> {
    let created_text = time_text(now());
    let what = format!("craftsman {}", craftsman.id);
    conn.prepare_cached(
        "INSERT INTO craftsmen (id, name, language, token_hash, created_at) \
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![
        &craftsman.id,
        &craftsman.name,
        craftsman.language.tag(),
        &craftsman.token_hash,
        &created_text,
    ])
    .map_err(|e| classify(&what, e))?;
    for channel in &craftsman.channels {
        conn.prepare_cached(
            "INSERT INTO channels (id, craftsman_id, kind, target, created_at) \
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )?
        .execute(params![
            &channel.id,
            &craftsman.id,
            channel.target.kind(),
            json_text(&channel.target)?,
            &created_text,
        ])
        .map_err(|e| classify(&format!("channel {}", channel.id), e))?;
    }
    get_on(conn, &craftsman.id)?
        .ok_or_else(|| StoreError::Invalid(format!("{what} vanished while it was created")))
}

/// A craftsman with its channels; the caller provides the snapshot both reads share.
fn get_on(conn: &Connection, id: &str) -> StoreResult<Option<Craftsman>> {
    let row = conn
        .prepare_cached(concat!(
            "SELECT ",
            craftsman_columns!(),
            " FROM craftsmen WHERE id = ?1"
        ))?
        .query_row(params![id], CraftsmanRow::from_row)
        .optional()?;
    let Some(row) = row else { return Ok(None) };
    let channels = channels_of(conn, id)?;
    Ok(Some(row.into_craftsman(channels)?))
}

pub(super) fn get(conn: &Connection, id: &str) -> StoreResult<Option<Craftsman>> {
    let tx = conn.unchecked_transaction()?;
    let craftsman = get_on(&tx, id)?;
    tx.commit()?;
    Ok(craftsman)
}

pub(super) fn by_token_hash(conn: &Connection, token_hash: &str) -> StoreResult<Option<Craftsman>> {
    let id: Option<String> = conn
        .prepare_cached("SELECT id FROM craftsmen WHERE token_hash = ?1")?
        .query_row(params![token_hash], |row| row.get(0))
        .optional()?;
    match id {
        Some(id) => get(conn, &id),
        None => Ok(None),
    }
}

pub(super) fn list(conn: &Connection) -> StoreResult<Vec<Craftsman>> {
    let tx = conn.unchecked_transaction()?;
    let rows = tx
        .prepare_cached(concat!(
            "SELECT ",
            craftsman_columns!(),
            " FROM craftsmen ORDER BY id"
        ))?
        .query_map([], CraftsmanRow::from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let mut craftsmen = Vec::with_capacity(rows.len());
    for row in rows {
        let channels = channels_of(&tx, &row.id)?;
        craftsmen.push(row.into_craftsman(channels)?);
    }
    tx.commit()?;
    Ok(craftsmen)
}

pub(super) fn set_channel_enabled(
    conn: &Connection,
    craftsman_id: String,
    channel_id: String,
    enabled: bool,
) -> StoreResult<Channel> {
    let row = conn
        .prepare_cached(concat!(
            "UPDATE channels SET \
             disabled_at = CASE WHEN ?3 THEN NULL ELSE coalesce(disabled_at, ?4) END, \
             disabled_reason = CASE WHEN ?3 THEN NULL ELSE coalesce(disabled_reason, ?5) END \
             WHERE id = ?1 AND craftsman_id = ?2 RETURNING ",
            channel_columns!()
        ))?
        .query_row(
            params![
                &channel_id,
                &craftsman_id,
                enabled,
                time_text(now()),
                DISABLED_BY_ADMIN
            ],
            ChannelRow::from_row,
        )
        .optional()?;
    row.ok_or(StoreError::NotFound)?.try_into()
}

pub(super) fn enable_telegram_chat(conn: &Connection, chat_id: String) -> StoreResult<Vec<String>> {
    let ids = conn
        .prepare_cached(
            "UPDATE channels SET disabled_at = NULL, disabled_reason = NULL \
             WHERE kind = 'telegram' AND json_extract(target, '$.chat_id') = ?1 \
             AND disabled_at IS NOT NULL AND disabled_reason IS NOT ?2 RETURNING id",
        )?
        .query_map(params![&chat_id, DISABLED_BY_ADMIN], |row| row.get(0))?
        .collect::<rusqlite::Result<Vec<String>>>()?;
    Ok(ids)
}

pub(super) fn move_channel(
    conn: &Connection,
    channel_id: String,
    target: ChannelTarget,
) -> StoreResult<()> {
    let changed = conn
        .prepare_cached("UPDATE channels SET target = ?2 WHERE id = ?1 AND kind = ?3")?
        .execute(params![&channel_id, json_text(&target)?, target.kind()])?;
    if changed == 0 {
        let kind: Option<String> = conn
            .prepare_cached("SELECT kind FROM channels WHERE id = ?1")?
            .query_row(params![&channel_id], |row| row.get(0))
            .optional()?;
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

pub(super) fn put_route(
    conn: &Connection,
    buyer_id: String,
    supplier_code: String,
    craftsman_id: String,
) -> StoreResult<RouteChange> {
    let now = now();
    let row = conn
        .prepare_cached(
            "INSERT INTO routes (buyer_id, supplier_code, craftsman_id, updated_at) \
             VALUES (?1, ?2, ?3, ?4) \
             ON CONFLICT (buyer_id, supplier_code) \
             DO UPDATE SET craftsman_id = excluded.craftsman_id, updated_at = excluded.updated_at \
             RETURNING buyer_id, supplier_code, craftsman_id, updated_at",
        )?
        .query_row(
            params![&buyer_id, &supplier_code, &craftsman_id, time_text(now)],
            RouteRow::from_row,
        )
        .map_err(|e| classify(&format!("route {buyer_id}/{supplier_code}"), e))?;

    let waiting = conn
        .prepare_cached(
            "SELECT id FROM orders WHERE buyer_id = ?1 AND supplier_code = ?2 \
             AND status = 'unrouted' ORDER BY id",
        )?
        .query_map(params![&buyer_id, &supplier_code], |row| {
            row.get::<_, String>(0)
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    for order_id in &waiting {
        deliveries::route(conn, order_id, &craftsman_id, now)?;
    }
    Ok(RouteChange {
        route: row.try_into()?,
        routed_orders: waiting,
    })
}

pub(super) fn routes(conn: &Connection, buyer_id: &str) -> StoreResult<Vec<Route>> {
    let rows = conn
        .prepare_cached(
            "SELECT buyer_id, supplier_code, craftsman_id, updated_at FROM routes \
             WHERE buyer_id = ?1 ORDER BY supplier_code",
        )?
        .query_map(params![buyer_id], RouteRow::from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    rows.into_iter().map(Route::try_from).collect()
}

pub(super) fn set_token_hash(
    conn: &Connection,
    id: String,
    token_hash: Option<String>,
) -> StoreResult<u64> {
    let hash = token_hash.unwrap_or_else(super::buyers::revoked_marker);
    let changed = conn
        .prepare_cached("UPDATE craftsmen SET token_hash = ?1 WHERE id = ?2")?
        .execute(params![&hash, &id])
        .map_err(|e| classify(&format!("craftsman {id}"), e))?;
    if changed == 0 {
        return Err(StoreError::NotFound);
    }
    let ended = conn
        .prepare_cached(
            "UPDATE inbox_sessions SET ended_at = ?1 WHERE craftsman_id = ?2 AND ended_at IS NULL",
        )?
        .execute(params![time_text(now()), &id])?;
    Ok(ended as u64)
}

pub(super) fn create_session(conn: &Connection, session: NewInboxSession) -> StoreResult<()> {
    let now = time_text(now());
    // Sessions are few (one per sign-in); forgetting the dead ones at each sign-in
    // keeps the table small without a background task.
    conn.prepare_cached(
        "DELETE FROM inbox_sessions WHERE ended_at IS NOT NULL OR expires_at <= ?1",
    )?
    .execute(params![&now])?;
    conn.prepare_cached(
        "INSERT INTO inbox_sessions (id_hash, craftsman_id, created_at, expires_at) \
         VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![
        &session.id_hash,
        &session.craftsman_id,
        &now,
        time_text(session.expires_at),
    ])
    .map_err(|e| classify(&format!("inbox session of {}", session.craftsman_id), e))?;
    Ok(())
}

pub(super) fn by_session_hash(
    conn: &Connection,
    id_hash: &str,
    now: DateTime<Utc>,
) -> StoreResult<Option<Craftsman>> {
    let id: Option<String> = conn
        .prepare_cached(
            "SELECT craftsman_id FROM inbox_sessions \
             WHERE id_hash = ?1 AND ended_at IS NULL AND expires_at > ?2",
        )?
        .query_row(params![id_hash, time_text(now)], |row| row.get(0))
        .optional()?;
    match id {
        Some(id) => get(conn, &id),
        None => Ok(None),
    }
}

pub(super) fn end_session(conn: &Connection, id_hash: String) -> StoreResult<bool> {
    let ended = conn
        .prepare_cached(
            "UPDATE inbox_sessions SET ended_at = ?1 WHERE id_hash = ?2 AND ended_at IS NULL",
        )?
        .execute(params![time_text(now()), &id_hash])?;
    Ok(ended > 0)
}
