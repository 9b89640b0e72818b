//! Buyers and the history of their plugin bindings.

use sqlx::SqliteConnection;

use super::SqliteStore;
use super::codec::{BindingRow, BuyerRow, classify, json_text, now, time_text};
use crate::store::{BindingChange, Buyer, BuyerUpdate, NewBuyer, StoreError, StoreResult};

/// Appends the buyer's current binding to its history.
async fn record_binding(
    conn: &mut SqliteConnection,
    buyer: &Buyer,
    changed_at: &str,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO buyer_plugin_history \
         (buyer_id, plugin, plugin_version, plugin_config, changed_at) \
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )
    .bind(&buyer.id)
    .bind(&buyer.plugin)
    .bind(&buyer.plugin_version)
    .bind(json_text(&buyer.plugin_config)?)
    .bind(changed_at)
    .execute(conn)
    .await?;
    Ok(())
}

pub(super) async fn create(conn: &mut SqliteConnection, buyer: NewBuyer) -> StoreResult<Buyer> {
    let created_at = now();
    let created_text = time_text(created_at);
    sqlx::query(concat!(
        "INSERT INTO buyers (",
        buyer_columns!(),
        ", api_key_hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
    ))
    .bind(&buyer.id)
    .bind(&buyer.name)
    .bind(&buyer.plugin)
    .bind(&buyer.plugin_version)
    .bind(json_text(&buyer.plugin_config)?)
    .bind(buyer.limits.as_ref().map(json_text).transpose()?)
    .bind(&created_text)
    .bind(&buyer.api_key_hash)
    .execute(&mut *conn)
    .await
    .map_err(|e| classify(&format!("buyer {}", buyer.id), e))?;
    let buyer = Buyer {
        id: buyer.id,
        name: buyer.name,
        plugin: buyer.plugin,
        plugin_version: buyer.plugin_version,
        plugin_config: buyer.plugin_config,
        limits: buyer.limits,
        created_at,
    };
    record_binding(conn, &buyer, &created_text).await?;
    Ok(buyer)
}

pub(super) async fn by_api_key_hash(
    store: &SqliteStore,
    api_key_hash: &str,
) -> StoreResult<Option<Buyer>> {
    let row: Option<BuyerRow> = sqlx::query_as(concat!(
        "SELECT ",
        buyer_columns!(),
        " FROM buyers WHERE api_key_hash = ?1"
    ))
    .bind(api_key_hash)
    .fetch_optional(&store.reader)
    .await?;
    Ok(row.map(Buyer::try_from).transpose()?)
}

pub(super) async fn get(store: &SqliteStore, id: &str) -> StoreResult<Option<Buyer>> {
    let row: Option<BuyerRow> = sqlx::query_as(concat!(
        "SELECT ",
        buyer_columns!(),
        " FROM buyers WHERE id = ?1"
    ))
    .bind(id)
    .fetch_optional(&store.reader)
    .await?;
    Ok(row.map(Buyer::try_from).transpose()?)
}

pub(super) async fn list(store: &SqliteStore) -> StoreResult<Vec<Buyer>> {
    let rows: Vec<BuyerRow> = sqlx::query_as(concat!(
        "SELECT ",
        buyer_columns!(),
        " FROM buyers ORDER BY id"
    ))
    .fetch_all(&store.reader)
    .await?;
    Ok(rows
        .into_iter()
        .map(Buyer::try_from)
        .collect::<Result<_, _>>()?)
}

/// The buyer as `update` leaves it.
fn apply(current: &Buyer, update: BuyerUpdate) -> Buyer {
    let mut next = current.clone();
    if let Some(name) = update.name {
        next.name = name;
    }
    if let Some(plugin) = update.plugin
        && plugin != current.plugin
    {
        next.plugin = plugin;
        // A pin names a version of the old plugin; see `BuyerUpdate::plugin`.
        next.plugin_version = None;
    }
    if let Some(version) = update.plugin_version {
        next.plugin_version = version;
    }
    if let Some(config) = update.plugin_config {
        next.plugin_config = config;
    }
    if let Some(limits) = update.limits {
        next.limits = limits;
    }
    next
}

pub(super) async fn update(
    conn: &mut SqliteConnection,
    id: String,
    update: BuyerUpdate,
) -> StoreResult<Buyer> {
    // Read, change and write on the writer, so two concurrent updates apply one after
    // the other and neither is lost.
    let row: Option<BuyerRow> = sqlx::query_as(concat!(
        "SELECT ",
        buyer_columns!(),
        " FROM buyers WHERE id = ?1"
    ))
    .bind(&id)
    .fetch_optional(&mut *conn)
    .await?;
    let current = Buyer::try_from(row.ok_or(StoreError::NotFound)?)?;
    let next = apply(&current, update);
    if next == current {
        return Ok(current);
    }
    sqlx::query(
        "UPDATE buyers SET name = ?1, plugin = ?2, plugin_version = ?3, plugin_config = ?4, \
         limits = ?5 WHERE id = ?6",
    )
    .bind(&next.name)
    .bind(&next.plugin)
    .bind(&next.plugin_version)
    .bind(json_text(&next.plugin_config)?)
    .bind(next.limits.as_ref().map(json_text).transpose()?)
    .bind(&id)
    .execute(&mut *conn)
    .await?;
    let rebound = (&next.plugin, &next.plugin_version, &next.plugin_config)
        != (
            &current.plugin,
            &current.plugin_version,
            &current.plugin_config,
        );
    if rebound {
        record_binding(conn, &next, &time_text(now())).await?;
    }
    Ok(next)
}

pub(super) async fn history(
    store: &SqliteStore,
    buyer_id: &str,
) -> StoreResult<Vec<BindingChange>> {
    let rows: Vec<BindingRow> = sqlx::query_as(
        "SELECT buyer_id, plugin, plugin_version, plugin_config, changed_at \
         FROM buyer_plugin_history WHERE buyer_id = ?1 ORDER BY seq DESC",
    )
    .bind(buyer_id)
    .fetch_all(&store.reader)
    .await?;
    Ok(rows
        .into_iter()
        .map(BindingChange::try_from)
        .collect::<Result<_, _>>()?)
}

/// What stands in the hash column of a revoked key or token: no hex SHA-256 equals
/// it, and each is unique, as the column must be (see migration 0004).
pub(super) fn revoked_marker() -> String {
    crate::secrets::new_id("revoked:")
}

pub(super) async fn set_api_key_hash(
    conn: &mut SqliteConnection,
    id: String,
    api_key_hash: Option<String>,
) -> StoreResult<()> {
    let hash = api_key_hash.unwrap_or_else(revoked_marker);
    let changed = sqlx::query("UPDATE buyers SET api_key_hash = ?1 WHERE id = ?2")
        .bind(&hash)
        .bind(&id)
        .execute(&mut *conn)
        .await
        .map_err(|e| classify(&format!("buyer {id}"), e))?
        .rows_affected();
    if changed == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}
