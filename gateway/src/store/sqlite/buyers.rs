//! Buyers and the history of their plugin bindings.

use rusqlite::{Connection, OptionalExtension, params};

use super::codec::{BindingRow, BuyerRow, classify, json_text, now, time_text};
use crate::store::{
    BindingChange, Buyer, BuyerCallback, BuyerUpdate, NewBuyer, StoreError, StoreResult,
};

/// Appends the buyer's current binding to its history.
fn record_binding(conn: &Connection, buyer: &Buyer, changed_at: &str) -> StoreResult<()> {
    conn.prepare_cached(
        "INSERT INTO buyer_plugin_history \
         (buyer_id, plugin, plugin_version, plugin_config, changed_at) \
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![
        buyer.id,
        buyer.plugin,
        buyer.plugin_version,
        json_text(&buyer.plugin_config)?,
        changed_at,
    ])?;
    Ok(())
}

pub(super) fn create(conn: &Connection, buyer: NewBuyer) -> StoreResult<Buyer> {
    let created_at = now();
    let created_text = time_text(created_at);
    conn.prepare_cached(
        "INSERT INTO buyers (id, name, plugin, plugin_version, plugin_config, limits, \
         created_at, api_key_hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?
    .execute(params![
        buyer.id,
        buyer.name,
        buyer.plugin,
        buyer.plugin_version,
        json_text(&buyer.plugin_config)?,
        buyer.limits.as_ref().map(json_text).transpose()?,
        created_text,
        buyer.api_key_hash,
    ])
    .map_err(|e| classify(&format!("buyer {}", buyer.id), e))?;
    let buyer = Buyer {
        id: buyer.id,
        name: buyer.name,
        plugin: buyer.plugin,
        plugin_version: buyer.plugin_version,
        plugin_config: buyer.plugin_config,
        limits: buyer.limits,
        callback_url: None,
        created_at,
    };
    record_binding(conn, &buyer, &created_text)?;
    Ok(buyer)
}

pub(super) fn by_api_key_hash(conn: &Connection, api_key_hash: &str) -> StoreResult<Option<Buyer>> {
    let row = conn
        .prepare_cached(concat!(
            "SELECT ",
            buyer_columns!(),
            " FROM buyers WHERE api_key_hash = ?1"
        ))?
        .query_row(params![api_key_hash], BuyerRow::from_row)
        .optional()?;
    row.map(Buyer::try_from).transpose()
}

pub(super) fn get(conn: &Connection, id: &str) -> StoreResult<Option<Buyer>> {
    let row = conn
        .prepare_cached(concat!(
            "SELECT ",
            buyer_columns!(),
            " FROM buyers WHERE id = ?1"
        ))?
        .query_row(params![id], BuyerRow::from_row)
        .optional()?;
    row.map(Buyer::try_from).transpose()
}

pub(super) fn list(conn: &Connection) -> StoreResult<Vec<Buyer>> {
    let rows = conn
        .prepare_cached(concat!(
            "SELECT ",
            buyer_columns!(),
            " FROM buyers ORDER BY id"
        ))?
        .query_map([], BuyerRow::from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    rows.into_iter()
        .map(Buyer::try_from)
        .collect::<Result<_, _>>()
}

pub(super) fn update(conn: &Connection, id: String, update: BuyerUpdate) -> StoreResult<Buyer> {
    // Read, change and write on the writer, so two concurrent updates apply one after
    // the other and neither is lost.
    let row = conn
        .prepare_cached(concat!(
            "SELECT ",
            buyer_columns!(),
            " FROM buyers WHERE id = ?1"
        ))?
        .query_row(params![id], BuyerRow::from_row)
        .optional()?;
    let current = Buyer::try_from(row.ok_or(StoreError::NotFound)?)?;
    let next = current.updated(update);
    if next == current {
        return Ok(current);
    }
    conn.prepare_cached(
        "UPDATE buyers SET name = ?1, plugin = ?2, plugin_version = ?3, plugin_config = ?4, \
         limits = ?5 WHERE id = ?6",
    )?
    .execute(params![
        next.name,
        next.plugin,
        next.plugin_version,
        json_text(&next.plugin_config)?,
        next.limits.as_ref().map(json_text).transpose()?,
        id,
    ])?;
    let rebound = (&next.plugin, &next.plugin_version, &next.plugin_config)
        != (
            &current.plugin,
            &current.plugin_version,
            &current.plugin_config,
        );
    if rebound {
        record_binding(conn, &next, &time_text(now()))?;
    }
    Ok(next)
}

pub(super) fn history(conn: &Connection, buyer_id: &str) -> StoreResult<Vec<BindingChange>> {
    let rows = conn
        .prepare_cached(
            "SELECT buyer_id, plugin, plugin_version, plugin_config, changed_at \
             FROM buyer_plugin_history WHERE buyer_id = ?1 ORDER BY seq DESC",
        )?
        .query_map(params![buyer_id], BindingRow::from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    rows.into_iter()
        .map(BindingChange::try_from)
        .collect::<Result<_, _>>()
}

/// What stands in the hash column of a revoked key or token: no hex SHA-256 equals
/// it, and each is unique, as the column must be (see migration 0004).
pub(super) fn revoked_marker() -> String {
    crate::secrets::new_id("revoked:")
}

pub(super) fn set_api_key_hash(
    conn: &Connection,
    id: String,
    api_key_hash: Option<String>,
) -> StoreResult<()> {
    let hash = api_key_hash.unwrap_or_else(revoked_marker);
    let changed = conn
        .prepare_cached("UPDATE buyers SET api_key_hash = ?1 WHERE id = ?2")?
        .execute(params![hash, id])
        .map_err(|e| classify(&format!("buyer {id}"), e))?;
    if changed == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

pub(super) fn set_callback(
    conn: &Connection,
    id: String,
    callback: Option<BuyerCallback>,
) -> StoreResult<Buyer> {
    let (url, secret) = match &callback {
        Some(callback) => (Some(&callback.url), callback.secret.as_ref()),
        None => (None, None),
    };
    // `?4`: a new URL with no new secret keeps the current one.
    let updated: Option<Option<String>> = conn
        .prepare_cached(
            "UPDATE buyers SET callback_url = ?2, \
             callback_secret = CASE WHEN ?4 THEN coalesce(?3, callback_secret) ELSE NULL END \
             WHERE id = ?1 RETURNING callback_secret",
        )?
        .query_row(params![id, url, secret, callback.is_some()], |row| {
            row.get(0)
        })
        .optional()?;
    match updated {
        None => return Err(StoreError::NotFound),
        Some(None) if callback.is_some() => {
            return Err(StoreError::Invalid(format!(
                "buyer {id} has no callback secret to keep; give one"
            )));
        }
        Some(_) => {}
    }
    if callback.is_none() {
        super::deliveries::kill_callbacks(conn, &id, "the buyer's callback_url was removed")?;
    }
    get(conn, &id)?.ok_or(StoreError::NotFound)
}
