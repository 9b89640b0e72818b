//! Uploaded plugin components, kept with their bytes and never deleted: every
//! instance sharing the database sees an upload at once.

use super::codec::{PluginRow, PluginWasmRow, json_text, now, time_text};
use super::{Db, rows};
use crate::store::{NewPluginArtifact, PluginArtifact, StoreError, StoreResult};

pub(super) async fn insert(db: &dyn Db, plugin: NewPluginArtifact) -> StoreResult<PluginArtifact> {
    // Look and insert under the write lock, so that two uploads of one version
    // cannot both decide they are first.
    let clashes = db
        .query(
            concat!(
                "SELECT ",
                plugin_columns!(),
                " FROM plugins WHERE (name = $1 AND version = $2) OR sha256 = $3"
            ),
            &[&plugin.name, &plugin.version, &plugin.sha256],
        )
        .await?;
    // The sha256 and the (name, version) are each unique, so an exact match is the
    // only row that can have come back.
    if let Some(clash) = rows(clashes, PluginRow::from_pg)?.into_iter().next() {
        let same_version = clash.name == plugin.name && clash.version == plugin.version;
        return match (same_version, clash.sha256 == plugin.sha256) {
            (true, true) => Ok(PluginArtifact::try_from(clash)?),
            (true, false) => Err(StoreError::Conflict(format!(
                "plugin {} {} is already stored with sha256 {}; publish a new version",
                plugin.name, plugin.version, clash.sha256
            ))),
            (false, _) => Err(StoreError::Conflict(format!(
                "the component with sha256 {} is already stored as plugin {} {}",
                plugin.sha256, clash.name, clash.version
            ))),
        };
    }

    let uploaded_at = now();
    let size_bytes = plugin.wasm.len() as u64;
    db.execute(
        concat!(
            "INSERT INTO plugins (",
            plugin_columns!(),
            ", wasm) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
        ),
        &[
            &plugin.sha256,
            &plugin.name,
            &plugin.version,
            &plugin.description,
            &json_text(&plugin.content_types)?,
            &i64::try_from(size_bytes).unwrap_or(i64::MAX),
            &time_text(uploaded_at),
            &plugin.wasm,
        ],
    )
    .await?;
    Ok(PluginArtifact {
        sha256: plugin.sha256,
        name: plugin.name,
        version: plugin.version,
        description: plugin.description,
        content_types: plugin.content_types,
        size_bytes,
        uploaded_at,
    })
}

pub(super) async fn list(db: &dyn Db) -> StoreResult<Vec<PluginArtifact>> {
    // `seq` is upload order, exact even within one millisecond.
    let found = db
        .query(
            concat!(
                "SELECT ",
                plugin_columns!(),
                " FROM plugins ORDER BY name, seq"
            ),
            &[],
        )
        .await?;
    rows(found, PluginRow::from_pg)?
        .into_iter()
        .map(PluginArtifact::try_from)
        .collect()
}

pub(super) async fn wasm(db: &dyn Db, sha256: &str) -> StoreResult<Option<Vec<u8>>> {
    Ok(db
        .query_opt("SELECT wasm FROM plugins WHERE sha256 = $1", &[&sha256])
        .await?
        .map(|row| row.try_get(0))
        .transpose()?)
}

pub(super) async fn all_with_wasm(db: &dyn Db) -> StoreResult<Vec<(PluginArtifact, Vec<u8>)>> {
    let found = db
        .query(
            concat!(
                "SELECT ",
                plugin_columns!(),
                ", wasm FROM plugins ORDER BY name, seq"
            ),
            &[],
        )
        .await?;
    rows(found, PluginWasmRow::from_pg)?
        .into_iter()
        .map(|row| Ok((PluginArtifact::try_from(row.plugin)?, row.wasm)))
        .collect()
}
