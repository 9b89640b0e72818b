//! Buyers and the history of their plugin bindings.

use super::codec::{BindingRow, BuyerRow, classify, json_text, now, time_text};
use super::{Db, rows};
use crate::store::{
    BindingChange, Buyer, BuyerCallback, BuyerUpdate, NewBuyer, StoreError, StoreResult,
};

/// Appends the buyer's current binding to its history.
async fn record_binding(db: &dyn Db, buyer: &Buyer, changed_at: &str) -> StoreResult<()> {
    db.execute(
        "INSERT INTO buyer_plugin_history \
         (buyer_id, plugin, plugin_version, plugin_config, changed_at) \
         VALUES ($1, $2, $3, $4, $5)",
        &[
            &buyer.id,
            &buyer.plugin,
            &buyer.plugin_version,
            &json_text(&buyer.plugin_config)?,
            &changed_at,
        ],
    )
    .await?;
    Ok(())
}

pub(super) async fn create(db: &dyn Db, buyer: NewBuyer) -> StoreResult<Buyer> {
    let created_at = now();
    let created_text = time_text(created_at);
    db.execute(
        "INSERT INTO buyers (id, name, plugin, plugin_version, plugin_config, limits, \
         created_at, api_key_hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        &[
            &buyer.id,
            &buyer.name,
            &buyer.plugin,
            &buyer.plugin_version,
            &json_text(&buyer.plugin_config)?,
            &buyer.limits.as_ref().map(json_text).transpose()?,
            &created_text,
            &buyer.api_key_hash,
        ],
    )
    .await
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
    record_binding(db, &buyer, &created_text).await?;
    Ok(buyer)
}

pub(super) async fn by_api_key_hash(db: &dyn Db, api_key_hash: &str) -> StoreResult<Option<Buyer>> {
    let row = db
        .query_opt(
            concat!(
                "SELECT ",
                buyer_columns!(),
                " FROM buyers WHERE api_key_hash = $1"
            ),
            &[&api_key_hash],
        )
        .await?;
    decode(row)
}

fn decode(row: Option<tokio_postgres::Row>) -> StoreResult<Option<Buyer>> {
    row.as_ref()
        .map(BuyerRow::from_pg)
        .transpose()?
        .map(Buyer::try_from)
        .transpose()
}

pub(super) async fn get(db: &dyn Db, id: &str) -> StoreResult<Option<Buyer>> {
    let row = db
        .query_opt(
            concat!("SELECT ", buyer_columns!(), " FROM buyers WHERE id = $1"),
            &[&id],
        )
        .await?;
    decode(row)
}

pub(super) async fn list(db: &dyn Db) -> StoreResult<Vec<Buyer>> {
    let found = db
        .query(
            concat!("SELECT ", buyer_columns!(), " FROM buyers ORDER BY id"),
            &[],
        )
        .await?;
    rows(found, BuyerRow::from_pg)?
        .into_iter()
        .map(Buyer::try_from)
        .collect()
}

pub(super) async fn update(db: &dyn Db, id: &str, update: BuyerUpdate) -> StoreResult<Buyer> {
    // Read, change and write under the write lock, so two concurrent updates apply
    // one after the other and neither is lost.
    let row = db
        .query_opt(
            concat!("SELECT ", buyer_columns!(), " FROM buyers WHERE id = $1"),
            &[&id],
        )
        .await?;
    let current = decode(row)?.ok_or(StoreError::NotFound)?;
    let next = current.updated(update);
    if next == current {
        return Ok(current);
    }
    db.execute(
        "UPDATE buyers SET name = $1, plugin = $2, plugin_version = $3, plugin_config = $4, \
         limits = $5 WHERE id = $6",
        &[
            &next.name,
            &next.plugin,
            &next.plugin_version,
            &json_text(&next.plugin_config)?,
            &next.limits.as_ref().map(json_text).transpose()?,
            &id,
        ],
    )
    .await?;
    let rebound = (&next.plugin, &next.plugin_version, &next.plugin_config)
        != (
            &current.plugin,
            &current.plugin_version,
            &current.plugin_config,
        );
    if rebound {
        record_binding(db, &next, &time_text(now())).await?;
    }
    Ok(next)
}

pub(super) async fn history(db: &dyn Db, buyer_id: &str) -> StoreResult<Vec<BindingChange>> {
    let found = db
        .query(
            "SELECT buyer_id, plugin, plugin_version, plugin_config, changed_at \
             FROM buyer_plugin_history WHERE buyer_id = $1 ORDER BY seq DESC",
            &[&buyer_id],
        )
        .await?;
    rows(found, BindingRow::from_pg)?
        .into_iter()
        .map(BindingChange::try_from)
        .collect()
}

/// What stands in the hash column of a revoked key or token: no hex SHA-256 equals
/// it, and each is unique, as the column must be.
pub(super) fn revoked_marker() -> String {
    crate::secrets::new_id("revoked:")
}

pub(super) async fn set_api_key_hash(
    db: &dyn Db,
    id: &str,
    api_key_hash: Option<String>,
) -> StoreResult<()> {
    let hash = api_key_hash.unwrap_or_else(revoked_marker);
    let changed = db
        .execute(
            "UPDATE buyers SET api_key_hash = $1 WHERE id = $2",
            &[&hash, &id],
        )
        .await
        .map_err(|e| classify(&format!("buyer {id}"), e))?;
    if changed == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

pub(super) async fn set_callback(
    db: &dyn Db,
    id: &str,
    callback: Option<BuyerCallback>,
) -> StoreResult<Buyer> {
    let (url, secret) = match &callback {
        Some(callback) => (Some(&callback.url), callback.secret.as_ref()),
        None => (None, None),
    };
    // `$4`: a new URL with no new secret keeps the current one.
    let updated = db
        .query_opt(
            "UPDATE buyers SET callback_url = $2, \
             callback_secret = CASE WHEN $4 THEN coalesce($3, callback_secret) ELSE NULL END \
             WHERE id = $1 RETURNING callback_secret",
            &[&id, &url, &secret, &callback.is_some()],
        )
        .await?
        .map(|row| row.try_get::<_, Option<String>>(0))
        .transpose()?;
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
        super::deliveries::kill_callbacks(db, id, "the buyer's callback_url was removed").await?;
    }
    get(db, id).await?.ok_or(StoreError::NotFound)
}
