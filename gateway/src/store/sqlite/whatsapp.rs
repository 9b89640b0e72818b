//! WhatsApp users as the gateway knows them: their opt-in, recorded by an admin, and
//! the last time they wrote to the business number, which opens their 24-hour
//! customer-service window (issue 13).

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, Row, params};

use super::codec::{WhatsAppContactRow, now, time_text};
use super::deliveries::target_wa_id;
use crate::store::{StoreError, StoreResult, WhatsAppContact};

impl WhatsAppContactRow {
    /// `None` when the join found no contact.
    pub(super) fn from_prefixed_row(row: &Row<'_>, prefix: &str) -> rusqlite::Result<Option<Self>> {
        let column = |name: &str| format!("{prefix}{name}");
        let Some(wa_id) = row.get::<_, Option<String>>(column("wa_id").as_str())? else {
            return Ok(None);
        };
        Ok(Some(Self {
            wa_id,
            opted_in_at: row.get(column("opted_in_at").as_str())?,
            opt_in_source: row.get(column("opt_in_source").as_str())?,
            last_inbound_at: row.get(column("last_inbound_at").as_str())?,
        }))
    }
}

pub(super) fn contact(conn: &Connection, wa_id: &str) -> StoreResult<Option<WhatsAppContact>> {
    conn.prepare_cached(
        "SELECT wa_id AS wa_wa_id, opted_in_at AS wa_opted_in_at, \
         opt_in_source AS wa_opt_in_source, last_inbound_at AS wa_last_inbound_at \
         FROM whatsapp_contacts WHERE wa_id = ?1",
    )?
    .query_row(params![wa_id], |row| {
        WhatsAppContactRow::from_prefixed_row(row, "wa_")
    })
    .optional()?
    .flatten()
    .map(WhatsAppContact::try_from)
    .transpose()
}

pub(super) fn set_opt_in(
    conn: &Connection,
    wa_id: String,
    source: Option<String>,
) -> StoreResult<WhatsAppContact> {
    let now_text = time_text(now());
    let opted_in_at = source.is_some().then_some(&now_text);
    conn.prepare_cached(
        "INSERT INTO whatsapp_contacts (wa_id, opted_in_at, opt_in_source, updated_at) \
         VALUES (?1, ?2, ?3, ?4) ON CONFLICT (wa_id) DO UPDATE SET \
         opted_in_at = excluded.opted_in_at, opt_in_source = excluded.opt_in_source, \
         updated_at = excluded.updated_at",
    )?
    .execute(params![&wa_id, opted_in_at, &source, &now_text])?;
    contact(conn, &wa_id)?.ok_or(StoreError::NotFound)
}

pub(super) fn record_inbound(
    conn: &Connection,
    wa_id: String,
    at: DateTime<Utc>,
) -> StoreResult<bool> {
    let known: bool = conn
        .prepare_cached(concat!(
            "SELECT EXISTS (SELECT 1 FROM channels c WHERE c.kind = 'whatsapp' AND ",
            target_wa_id!("c.target"),
            " = ?1)"
        ))?
        .query_row(params![&wa_id], |row| row.get(0))?;
    if !known {
        return Ok(false);
    }
    // Webhooks can arrive out of order: the window runs from the latest message.
    conn.prepare_cached(
        "INSERT INTO whatsapp_contacts (wa_id, last_inbound_at, updated_at) VALUES (?1, ?2, ?3) \
         ON CONFLICT (wa_id) DO UPDATE SET last_inbound_at = excluded.last_inbound_at, \
         updated_at = excluded.updated_at \
         WHERE last_inbound_at IS NULL OR last_inbound_at < excluded.last_inbound_at",
    )?
    .execute(params![&wa_id, time_text(at), time_text(now())])?;
    Ok(true)
}

/// Webhook times are whole seconds: a message in the same second as the failure
/// is taken as before it.
pub(super) fn close_window(conn: &Connection, wa_id: String, at: DateTime<Utc>) -> StoreResult<()> {
    conn.prepare_cached(
        "UPDATE whatsapp_contacts SET last_inbound_at = NULL, updated_at = ?3 \
         WHERE wa_id = ?1 AND last_inbound_at <= ?2",
    )?
    .execute(params![&wa_id, time_text(at), time_text(now())])?;
    Ok(())
}
