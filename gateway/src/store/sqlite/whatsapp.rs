//! WhatsApp users as the gateway knows them: their opt-in, recorded by an admin, and
//! the last time they wrote to the business number, which opens their 24-hour
//! customer-service window (issue 13); and the statuses WhatsApp sent for messages
//! no recorded attempt names yet.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, Row, params};

use super::codec::{EarlyStatusRow, WhatsAppContactRow, now, time_text};
use super::deliveries::target_wa_id;
use crate::store::{EarlyStatusKept, StoreError, StoreResult, WhatsAppContact, WhatsAppStatus};

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

pub(super) fn keep_early_status(
    conn: &Connection,
    status: WhatsAppStatus,
    max_kept: u32,
) -> StoreResult<EarlyStatusKept> {
    // In the writer's transaction: an attempt recorded before this sees no kept
    // status, one recorded after finds it.
    let named: bool = conn
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM delivery_attempts WHERE message_id = ?1)")?
        .query_row(params![&status.wamid], |row| row.get(0))?;
    if named {
        return Ok(EarlyStatusKept::AttemptKnown);
    }
    if let Some(kept) = early_status(conn, &status.wamid)? {
        if kept.receipt.rank() >= status.receipt.rank() {
            return Ok(EarlyStatusKept::Kept);
        }
    } else {
        let kept: i64 = conn
            .prepare_cached("SELECT count(*) FROM whatsapp_early_statuses")?
            .query_row([], |row| row.get(0))?;
        if kept >= i64::from(max_kept) {
            return Ok(EarlyStatusKept::Full);
        }
    }
    conn.prepare_cached(
        "INSERT INTO whatsapp_early_statuses \
         (wamid, status, status_at, recipient_id, error_code, error_text, received_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (wamid) DO UPDATE SET \
         status = excluded.status, status_at = excluded.status_at, \
         recipient_id = excluded.recipient_id, error_code = excluded.error_code, \
         error_text = excluded.error_text, received_at = excluded.received_at",
    )?
    .execute(params![
        &status.wamid,
        status.receipt.as_str(),
        time_text(status.at),
        &status.recipient_id,
        status.error_code,
        &status.error,
        time_text(now()),
    ])?;
    Ok(EarlyStatusKept::Kept)
}

impl EarlyStatusRow {
    fn from_row(row: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            wamid: row.get("wamid")?,
            status: row.get("status")?,
            status_at: row.get("status_at")?,
            recipient_id: row.get("recipient_id")?,
            error_code: row.get("error_code")?,
            error_text: row.get("error_text")?,
        })
    }
}

pub(super) fn early_status(conn: &Connection, wamid: &str) -> StoreResult<Option<WhatsAppStatus>> {
    conn.prepare_cached(concat!(
        "SELECT ",
        early_status_columns!(),
        " FROM whatsapp_early_statuses WHERE wamid = ?1"
    ))?
    .query_row(params![wamid], EarlyStatusRow::from_row)
    .optional()?
    .map(WhatsAppStatus::try_from)
    .transpose()
}

pub(super) fn forget_early_status(conn: &Connection, wamid: String) -> StoreResult<()> {
    conn.prepare_cached("DELETE FROM whatsapp_early_statuses WHERE wamid = ?1")?
        .execute(params![&wamid])?;
    Ok(())
}

pub(super) fn named_early_statuses(conn: &Connection, limit: u32) -> StoreResult<Vec<String>> {
    let wamids = conn
        .prepare_cached(
            "SELECT e.wamid FROM whatsapp_early_statuses e WHERE EXISTS \
             (SELECT 1 FROM delivery_attempts a WHERE a.message_id = e.wamid) \
             ORDER BY e.received_at LIMIT ?1",
        )?
        .query_map(params![i64::from(limit)], |row| row.get(0))?
        .collect::<rusqlite::Result<Vec<String>>>()?;
    Ok(wamids)
}
