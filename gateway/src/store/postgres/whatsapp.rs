//! WhatsApp users as the gateway knows them: their opt-in, recorded by an admin, and
//! the last time they wrote to the business number, which opens their 24-hour
//! customer-service window; and the statuses WhatsApp sent for messages no recorded
//! attempt names yet.

use chrono::{DateTime, Utc};
use tokio_postgres::Row;

use super::codec::{EarlyStatusRow, WhatsAppContactRow, now, time_text};
use super::deliveries::target_wa_id;
use super::{Db, PgError, rows};
use crate::store::{EarlyStatusKept, StoreError, StoreResult, WhatsAppContact, WhatsAppStatus};

impl WhatsAppContactRow {
    /// `None` when the join found no contact.
    pub(super) fn from_prefixed_pg(row: &Row, prefix: &str) -> Result<Option<Self>, PgError> {
        let column = |name: &str| format!("{prefix}{name}");
        let Some(wa_id) = row.try_get::<_, Option<String>>(column("wa_id").as_str())? else {
            return Ok(None);
        };
        Ok(Some(Self {
            wa_id,
            opted_in_at: row.try_get(column("opted_in_at").as_str())?,
            opt_in_source: row.try_get(column("opt_in_source").as_str())?,
            last_inbound_at: row.try_get(column("last_inbound_at").as_str())?,
        }))
    }
}

pub(super) async fn contact(db: &dyn Db, wa_id: &str) -> StoreResult<Option<WhatsAppContact>> {
    let row = db
        .query_opt(
            "SELECT wa_id AS wa_wa_id, opted_in_at AS wa_opted_in_at, \
             opt_in_source AS wa_opt_in_source, last_inbound_at AS wa_last_inbound_at \
             FROM whatsapp_contacts WHERE wa_id = $1",
            &[&wa_id],
        )
        .await?;
    let Some(row) = row else { return Ok(None) };
    WhatsAppContactRow::from_prefixed_pg(&row, "wa_")?
        .map(WhatsAppContact::try_from)
        .transpose()
}

pub(super) async fn set_opt_in(
    db: &dyn Db,
    wa_id: &str,
    source: Option<String>,
) -> StoreResult<WhatsAppContact> {
    let now_text = time_text(now());
    let opted_in_at = source.is_some().then_some(&now_text);
    db.execute(
        "INSERT INTO whatsapp_contacts (wa_id, opted_in_at, opt_in_source, updated_at) \
         VALUES ($1, $2, $3, $4) ON CONFLICT (wa_id) DO UPDATE SET \
         opted_in_at = excluded.opted_in_at, opt_in_source = excluded.opt_in_source, \
         updated_at = excluded.updated_at",
        &[&wa_id, &opted_in_at, &source, &now_text],
    )
    .await?;
    contact(db, wa_id).await?.ok_or(StoreError::NotFound)
}

pub(super) async fn record_inbound(
    db: &dyn Db,
    wa_id: &str,
    at: DateTime<Utc>,
) -> StoreResult<bool> {
    let known: bool = db
        .query_first(
            concat!(
                "SELECT EXISTS (SELECT 1 FROM channels c WHERE c.kind = 'whatsapp' AND ",
                target_wa_id!("c.target"),
                " = $1)"
            ),
            &[&wa_id],
        )
        .await?
        .try_get(0)?;
    if !known {
        return Ok(false);
    }
    // Webhooks can arrive out of order: the window runs from the latest message.
    db.execute(
        "INSERT INTO whatsapp_contacts (wa_id, last_inbound_at, updated_at) VALUES ($1, $2, $3) \
         ON CONFLICT (wa_id) DO UPDATE SET last_inbound_at = excluded.last_inbound_at, \
         updated_at = excluded.updated_at \
         WHERE whatsapp_contacts.last_inbound_at IS NULL \
         OR whatsapp_contacts.last_inbound_at < excluded.last_inbound_at",
        &[&wa_id, &time_text(at), &time_text(now())],
    )
    .await?;
    Ok(true)
}

/// Webhook times are whole seconds: a message in the same second as the failure
/// is taken as before it.
pub(super) async fn close_window(db: &dyn Db, wa_id: &str, at: DateTime<Utc>) -> StoreResult<()> {
    db.execute(
        "UPDATE whatsapp_contacts SET last_inbound_at = NULL, updated_at = $3 \
         WHERE wa_id = $1 AND last_inbound_at <= $2",
        &[&wa_id, &time_text(at), &time_text(now())],
    )
    .await?;
    Ok(())
}

impl EarlyStatusRow {
    fn from_pg(row: &Row) -> Result<Self, PgError> {
        Ok(Self {
            wamid: row.try_get("wamid")?,
            status: row.try_get("status")?,
            status_at: row.try_get("status_at")?,
            recipient_id: row.try_get("recipient_id")?,
            error_code: row.try_get("error_code")?,
            error_text: row.try_get("error_text")?,
        })
    }
}

/// Run in an ordered write, which [`super::Outbox::record_attempt`] is too: an
/// attempt recorded before this sees no kept status, one recorded after finds it.
pub(super) async fn keep_early_status(
    db: &dyn Db,
    status: &WhatsAppStatus,
    max_kept: u32,
) -> StoreResult<EarlyStatusKept> {
    let named: bool = db
        .query_first(
            "SELECT EXISTS (SELECT 1 FROM delivery_attempts WHERE message_id = $1)",
            &[&status.wamid],
        )
        .await?
        .try_get(0)?;
    if named {
        return Ok(EarlyStatusKept::AttemptKnown);
    }
    if let Some(kept) = early_status(db, &status.wamid).await? {
        if kept.receipt.rank() >= status.receipt.rank() {
            return Ok(EarlyStatusKept::Kept);
        }
    } else {
        let kept: i64 = db
            .query_first("SELECT count(*) FROM whatsapp_early_statuses", &[])
            .await?
            .try_get(0)?;
        if kept >= i64::from(max_kept) {
            return Ok(EarlyStatusKept::Full);
        }
    }
    db.execute(
        "INSERT INTO whatsapp_early_statuses \
         (wamid, status, status_at, recipient_id, error_code, error_text, received_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (wamid) DO UPDATE SET \
         status = excluded.status, status_at = excluded.status_at, \
         recipient_id = excluded.recipient_id, error_code = excluded.error_code, \
         error_text = excluded.error_text, received_at = excluded.received_at",
        &[
            &status.wamid,
            &status.receipt.as_str(),
            &time_text(status.at),
            &status.recipient_id,
            &status.error_code,
            &status.error,
            &time_text(now()),
        ],
    )
    .await?;
    Ok(EarlyStatusKept::Kept)
}

pub(super) async fn early_status(db: &dyn Db, wamid: &str) -> StoreResult<Option<WhatsAppStatus>> {
    let row = db
        .query_opt(
            concat!(
                "SELECT ",
                early_status_columns!(),
                " FROM whatsapp_early_statuses WHERE wamid = $1"
            ),
            &[&wamid],
        )
        .await?;
    row.map(|row| WhatsAppStatus::try_from(EarlyStatusRow::from_pg(&row)?))
        .transpose()
}

pub(super) async fn forget_early_status(db: &dyn Db, wamid: &str) -> StoreResult<()> {
    db.execute(
        "DELETE FROM whatsapp_early_statuses WHERE wamid = $1",
        &[&wamid],
    )
    .await?;
    Ok(())
}

pub(super) async fn named_early_statuses(db: &dyn Db, limit: u32) -> StoreResult<Vec<String>> {
    let wamids = db
        .query(
            "SELECT e.wamid FROM whatsapp_early_statuses e WHERE EXISTS \
             (SELECT 1 FROM delivery_attempts a WHERE a.message_id = e.wamid) \
             ORDER BY e.received_at LIMIT $1",
            &[&i64::from(limit)],
        )
        .await?;
    rows(wamids, |row| row.try_get(0))
}
