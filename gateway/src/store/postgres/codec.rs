//! How PostgreSQL rows are read into the engine-neutral row structs of
//! `store::rows` (by column name), and how PostgreSQL's constraint errors become
//! the store's own, as SQLite's do in `sqlite::codec`.

use tokio_postgres::Row;
use tokio_postgres::error::SqlState;

use super::PgError;
use crate::store::StoreError;
pub(super) use crate::store::rows::*;

/// Turns constraint violations into the store's own errors, naming what was written:
/// a unique key or primary key broken is [`StoreError::Conflict`], a foreign key
/// [`StoreError::Invalid`], as the SQLite engine reports them.
pub(super) fn classify(what: &str, e: PgError) -> StoreError {
    if let Some(db) = e.as_db_error() {
        let code = db.code();
        if *code == SqlState::UNIQUE_VIOLATION {
            return StoreError::Conflict(format!("{what}: {}", db.message()));
        }
        if *code == SqlState::FOREIGN_KEY_VIOLATION {
            return StoreError::Invalid(format!("{what}: {}", db.message()));
        }
    }
    e.into()
}

impl BuyerRow {
    pub(super) fn from_pg(row: &Row) -> Result<Self, PgError> {
        Ok(Self {
            id: row.try_get("id")?,
            name: row.try_get("name")?,
            plugin: row.try_get("plugin")?,
            plugin_version: row.try_get("plugin_version")?,
            plugin_config: row.try_get("plugin_config")?,
            limits: row.try_get("limits")?,
            callback_url: row.try_get("callback_url")?,
            created_at: row.try_get("created_at")?,
        })
    }
}

impl BindingRow {
    pub(super) fn from_pg(row: &Row) -> Result<Self, PgError> {
        Ok(Self {
            buyer_id: row.try_get("buyer_id")?,
            plugin: row.try_get("plugin")?,
            plugin_version: row.try_get("plugin_version")?,
            plugin_config: row.try_get("plugin_config")?,
            changed_at: row.try_get("changed_at")?,
        })
    }
}

impl PluginRow {
    pub(super) fn from_pg(row: &Row) -> Result<Self, PgError> {
        Ok(Self {
            sha256: row.try_get("sha256")?,
            name: row.try_get("name")?,
            version: row.try_get("version")?,
            description: row.try_get("description")?,
            content_types: row.try_get("content_types")?,
            size_bytes: row.try_get("size_bytes")?,
            uploaded_at: row.try_get("uploaded_at")?,
        })
    }
}

impl PluginWasmRow {
    pub(super) fn from_pg(row: &Row) -> Result<Self, PgError> {
        Ok(Self {
            plugin: PluginRow::from_pg(row)?,
            wasm: row.try_get("wasm")?,
        })
    }
}

impl MessageMetaRow {
    pub(super) fn from_pg(row: &Row) -> Result<Self, PgError> {
        Ok(Self {
            id: row.try_get("id")?,
            buyer_id: row.try_get("buyer_id")?,
            received_via: row.try_get("received_via")?,
            content_type: row.try_get("content_type")?,
            headers: row.try_get("headers")?,
            body_sha256: row.try_get("body_sha256")?,
            idempotency_key: row.try_get("idempotency_key")?,
            status: row.try_get("status")?,
            error: row.try_get("error")?,
            response_status: row.try_get("response_status")?,
            response_body: row.try_get("response_body")?,
            attempts: row.try_get("attempts")?,
            plugin_name: row.try_get("plugin_name")?,
            plugin_version: row.try_get("plugin_version")?,
            received_at: row.try_get("received_at")?,
            processed_at: row.try_get("processed_at")?,
            warnings: row.try_get("warnings")?,
            body_purged_at: row.try_get("body_purged_at")?,
        })
    }
}

impl MessageRow {
    pub(super) fn from_pg(row: &Row) -> Result<Self, PgError> {
        Ok(Self {
            meta: MessageMetaRow::from_pg(row)?,
            body: row.try_get("body")?,
        })
    }
}

impl TransactionRow {
    pub(super) fn from_pg(row: &Row) -> Result<Self, PgError> {
        Ok(Self {
            idx: row.try_get("idx")?,
            control_number: row.try_get("control_number")?,
            status: row.try_get("status")?,
            order_id: row.try_get("order_id")?,
            buyer_order_number: row.try_get("buyer_order_number")?,
            order_status: row.try_get("order_status")?,
            error: row.try_get("error")?,
            kind: row.try_get("kind")?,
            reason: row.try_get("reason")?,
            warnings: row.try_get("warnings")?,
        })
    }
}

impl MessageSummaryRow {
    pub(super) fn from_pg(row: &Row) -> Result<Self, PgError> {
        Ok(Self {
            meta: MessageMetaRow::from_pg(row)?,
            body_size: row.try_get("body_size")?,
        })
    }
}

impl AttemptRow {
    pub(super) fn from_pg(row: &Row) -> Result<Self, PgError> {
        Ok(Self {
            message_id: row.try_get("message_id")?,
            attempt: row.try_get("attempt")?,
            status: row.try_get("status")?,
            error: row.try_get("error")?,
            plugin_name: row.try_get("plugin_name")?,
            plugin_version: row.try_get("plugin_version")?,
            processed_at: row.try_get("processed_at")?,
            reopened_at: row.try_get("reopened_at")?,
            note: row.try_get("note")?,
        })
    }
}

impl OrderRow {
    pub(super) fn from_pg(row: &Row) -> Result<Self, PgError> {
        Ok(Self {
            id: row.try_get("id")?,
            message_id: row.try_get("message_id")?,
            buyer_id: row.try_get("buyer_id")?,
            buyer_order_number: row.try_get("buyer_order_number")?,
            supplier_code: row.try_get("supplier_code")?,
            craftsman_id: row.try_get("craftsman_id")?,
            status: row.try_get("status")?,
            response: row.try_get("response")?,
            routed_at: row.try_get("routed_at")?,
            reminded_at: row.try_get("reminded_at")?,
            body: row.try_get("body")?,
            schema_version: row.try_get("schema_version")?,
            created_at: row.try_get("created_at")?,
            updated_at: row.try_get("updated_at")?,
        })
    }
}
