//! How SQLite rows are read into the engine-neutral row structs of `store::rows`
//! (by column name), and how SQLite's constraint errors become the store's own.

use rusqlite::Row;

use crate::store::StoreError;
pub(super) use crate::store::rows::*;

/// Turns constraint violations into the store's own errors, naming what was written.
pub(super) fn classify(what: &str, e: rusqlite::Error) -> StoreError {
    use rusqlite::ffi;
    if let rusqlite::Error::SqliteFailure(failure, message) = &e {
        let message = message.as_deref().unwrap_or("constraint failed");
        match failure.extended_code {
            ffi::SQLITE_CONSTRAINT_UNIQUE | ffi::SQLITE_CONSTRAINT_PRIMARYKEY => {
                return StoreError::Conflict(format!("{what}: {message}"));
            }
            ffi::SQLITE_CONSTRAINT_FOREIGNKEY => {
                return StoreError::Invalid(format!("{what}: {message}"));
            }
            _ => {}
        }
    }
    e.into()
}

impl BuyerRow {
    pub(super) fn from_row(row: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            id: row.get("id")?,
            name: row.get("name")?,
            plugin: row.get("plugin")?,
            plugin_version: row.get("plugin_version")?,
            plugin_config: row.get("plugin_config")?,
            limits: row.get("limits")?,
            callback_url: row.get("callback_url")?,
            created_at: row.get("created_at")?,
        })
    }
}

impl BindingRow {
    pub(super) fn from_row(row: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            buyer_id: row.get("buyer_id")?,
            plugin: row.get("plugin")?,
            plugin_version: row.get("plugin_version")?,
            plugin_config: row.get("plugin_config")?,
            changed_at: row.get("changed_at")?,
        })
    }
}

impl PluginRow {
    pub(super) fn from_row(row: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            sha256: row.get("sha256")?,
            name: row.get("name")?,
            version: row.get("version")?,
            description: row.get("description")?,
            content_types: row.get("content_types")?,
            size_bytes: row.get("size_bytes")?,
            uploaded_at: row.get("uploaded_at")?,
        })
    }
}

impl PluginWasmRow {
    pub(super) fn from_row(row: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            plugin: PluginRow::from_row(row)?,
            wasm: row.get("wasm")?,
        })
    }
}

impl MessageMetaRow {
    pub(super) fn from_row(row: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            id: row.get("id")?,
            buyer_id: row.get("buyer_id")?,
            received_via: row.get("received_via")?,
            content_type: row.get("content_type")?,
            headers: row.get("headers")?,
            body_sha256: row.get("body_sha256")?,
            idempotency_key: row.get("idempotency_key")?,
            status: row.get("status")?,
            error: row.get("error")?,
            response_status: row.get("response_status")?,
            response_body: row.get("response_body")?,
            attempts: row.get("attempts")?,
            plugin_name: row.get("plugin_name")?,
            plugin_version: row.get("plugin_version")?,
            received_at: row.get("received_at")?,
            processed_at: row.get("processed_at")?,
            warnings: row.get("warnings")?,
            body_purged_at: row.get("body_purged_at")?,
        })
    }
}

impl MessageRow {
    pub(super) fn from_row(row: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            meta: MessageMetaRow::from_row(row)?,
            body: row.get("body")?,
        })
    }
}

impl TransactionRow {
    pub(super) fn from_row(row: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            idx: row.get("idx")?,
            control_number: row.get("control_number")?,
            status: row.get("status")?,
            order_id: row.get("order_id")?,
            buyer_order_number: row.get("buyer_order_number")?,
            order_status: row.get("order_status")?,
            error: row.get("error")?,
            kind: row.get("kind")?,
            reason: row.get("reason")?,
            warnings: row.get("warnings")?,
        })
    }
}

impl MessageSummaryRow {
    pub(super) fn from_row(row: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            meta: MessageMetaRow::from_row(row)?,
            body_size: row.get("body_size")?,
        })
    }
}

impl AttemptRow {
    pub(super) fn from_row(row: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            message_id: row.get("message_id")?,
            attempt: row.get("attempt")?,
            status: row.get("status")?,
            error: row.get("error")?,
            plugin_name: row.get("plugin_name")?,
            plugin_version: row.get("plugin_version")?,
            processed_at: row.get("processed_at")?,
            reopened_at: row.get("reopened_at")?,
            note: row.get("note")?,
        })
    }
}

impl OrderRow {
    pub(super) fn from_row(row: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            id: row.get("id")?,
            message_id: row.get("message_id")?,
            buyer_id: row.get("buyer_id")?,
            buyer_order_number: row.get("buyer_order_number")?,
            supplier_code: row.get("supplier_code")?,
            craftsman_id: row.get("craftsman_id")?,
            status: row.get("status")?,
            response: row.get("response")?,
            routed_at: row.get("routed_at")?,
            reminded_at: row.get("reminded_at")?,
            body: row.get("body")?,
            schema_version: row.get("schema_version")?,
            created_at: row.get("created_at")?,
            updated_at: row.get("updated_at")?,
        })
    }
}
