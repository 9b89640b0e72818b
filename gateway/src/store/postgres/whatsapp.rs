//! WhatsApp users as the gateway knows them: their opt-in, recorded by an admin, and
//! the last time they wrote to the business number, which opens their 24-hour
//! customer-service window.

use chrono::{DateTime, Utc};
use tokio_postgres::Row;

use super::codec::{WhatsAppContactRow, now, time_text};
use super::deliveries::target_wa_id;
use super::{Db, PgError};
use crate::store::{StoreError, StoreResult, WhatsAppContact};

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
