//! Reminders of unanswered orders: the due ones are found through the partial
//! index `orders_reminder_due`, marked and given their outbox rows in one write.

use chrono::{DateTime, Utc};

use super::codec::{classify, parse_time, time_text};
use super::deliveries::channel_states;
use super::{Db, rows};
use crate::secrets::new_id;
use crate::store::routing;
use crate::store::{DecidedReminder, ReminderWindow, StoreResult};

/// The conditions of `orders_reminder_due`'s WHERE clause, repeated word for word
/// so that the planner sees the partial index can answer the query.
macro_rules! awaiting_reminder {
    () => {
        "routed_at IS NOT NULL AND reminded_at IS NULL AND response IS NULL"
    };
}

/// Marks the due orders reminded and writes their reminders' deliveries.
pub(super) async fn decide(
    db: &dyn Db,
    window: ReminderWindow,
    now: DateTime<Utc>,
    limit: u32,
) -> StoreResult<Vec<DecidedReminder>> {
    let now_text = time_text(now);
    let found = db
        .query(
            concat!(
                "UPDATE orders SET reminded_at = $1 WHERE id IN (SELECT id FROM orders WHERE ",
                awaiting_reminder!(),
                " AND routed_at > $2 AND routed_at <= $3 ORDER BY routed_at LIMIT $4) \
                 RETURNING id, craftsman_id",
            ),
            &[
                &now_text,
                &time_text(window.routed_after),
                &time_text(window.routed_by),
                &i64::from(limit),
            ],
        )
        .await?;
    let orders = rows(found, |row| {
        Ok((row.try_get::<_, String>(0)?, row.try_get::<_, String>(1)?))
    })?;
    let mut decided = Vec::with_capacity(orders.len());
    for (order_id, craftsman_id) in orders {
        let mut deliveries = Vec::new();
        for channel_id in routing::reminder_channels(&channel_states(db, &craftsman_id).await?) {
            let id = new_id("dlv");
            db.execute(
                "INSERT INTO deliveries (id, order_id, kind, channel_id, state, next_attempt_at, \
                 created_at, updated_at) VALUES ($1, $2, 'reminder', $3, 'pending', $4, $4, $4)",
                &[&id, &order_id, &channel_id, &now_text],
            )
            .await
            .map_err(|e| classify(&format!("reminder of order {order_id}"), e))?;
            deliveries.push(id);
        }
        if !deliveries.is_empty() {
            db.outbox_changed();
        }
        decided.push(DecidedReminder {
            order_id,
            craftsman_id,
            deliveries,
        });
    }
    Ok(decided)
}

pub(super) async fn next_from(
    db: &dyn Db,
    routed_after: DateTime<Utc>,
) -> StoreResult<Option<DateTime<Utc>>> {
    let first: Option<String> = db
        .query_opt(
            concat!(
                "SELECT routed_at FROM orders WHERE ",
                awaiting_reminder!(),
                " AND routed_at > $1 ORDER BY routed_at LIMIT 1"
            ),
            &[&time_text(routed_after)],
        )
        .await?
        .map(|row| row.try_get(0))
        .transpose()?;
    first.as_deref().map(parse_time).transpose()
}
