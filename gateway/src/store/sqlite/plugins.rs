//! Uploaded plugin components, kept with their bytes and never deleted.

use rusqlite::{Connection, OptionalExtension, params};

use super::codec::{PluginRow, PluginWasmRow, json_text, now, time_text};
use crate::store::{NewPluginArtifact, PluginArtifact, StoreError, StoreResult};

pub(super) fn insert(conn: &Connection, plugin: NewPluginArtifact) -> StoreResult<PluginArtifact> {
    // Look and insert on the writer, so that two uploads of one version cannot both
    // decide they are first.
    let clashes = conn
        .prepare_cached(concat!(
            "SELECT ",
            plugin_columns!(),
            " FROM plugins WHERE (name = ?1 AND version = ?2) OR sha256 = ?3"
        ))?
        .query_map(
            params![plugin.name, plugin.version, plugin.sha256],
            PluginRow::from_row,
        )?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    // The sha256 and the (name, version) are each unique, so an exact match is the
    // only row that can have come back.
    if let Some(clash) = clashes.into_iter().next() {
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
    conn.prepare_cached(concat!(
        "INSERT INTO plugins (",
        plugin_columns!(),
        ", wasm) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
    ))?
    .execute(params![
        plugin.sha256,
        plugin.name,
        plugin.version,
        plugin.description,
        json_text(&plugin.content_types)?,
        i64::try_from(size_bytes).unwrap_or(i64::MAX),
        time_text(uploaded_at),
        plugin.wasm,
    ])?;
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

pub(super) fn list(conn: &Connection) -> StoreResult<Vec<PluginArtifact>> {
    // Plugins are never deleted, so rowid order is upload order, exact even within
    // one millisecond (PostgreSQL will need an identity column for the same).
    let rows = conn
        .prepare_cached(concat!(
            "SELECT ",
            plugin_columns!(),
            " FROM plugins ORDER BY name, rowid"
        ))?
        .query_map([], PluginRow::from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    rows.into_iter()
        .map(PluginArtifact::try_from)
        .collect::<Result<_, _>>()
}

pub(super) fn wasm(conn: &Connection, sha256: &str) -> StoreResult<Option<Vec<u8>>> {
    Ok(conn
        .prepare_cached("SELECT wasm FROM plugins WHERE sha256 = ?1")?
        .query_row(params![sha256], |row| row.get(0))
        .optional()?)
}

pub(super) fn all_with_wasm(conn: &Connection) -> StoreResult<Vec<(PluginArtifact, Vec<u8>)>> {
    let rows = conn
        .prepare_cached(concat!(
            "SELECT ",
            plugin_columns!(),
            ", wasm FROM plugins ORDER BY name, rowid"
        ))?
        .query_map([], PluginWasmRow::from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    rows.into_iter()
        .map(|row| Ok((PluginArtifact::try_from(row.plugin)?, row.wasm)))
        .collect()
}
