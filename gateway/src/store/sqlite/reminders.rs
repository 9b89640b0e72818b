//! Reminders of unanswered orders: the due ones are found through the partial
//! index `orders_reminder_due` (migration 0014), marked and given their outbox rows
//! in the writer's transaction.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};

use super::codec::{classify, parse_time, time_text};
use super::deliveries::channel_states;
use crate::secrets::new_id;
use crate::store::routing;
use crate::store::{DecidedReminder, ReminderWindow, StoreResult};

/// The conditions of `orders_reminder_due`'s WHERE clause, repeated word for word
/// so that SQLite sees the index can answer the query (a partial index is used
/// only when the query's WHERE implies the index's).
macro_rules! awaiting_reminder {
    () => {
        "routed_at IS NOT NULL AND reminded_at IS NULL AND response IS NULL"
    };
}

/// Marks the due orders reminded and writes their reminders' deliveries.
pub(super) fn decide(
    conn: &Connection,
    window: ReminderWindow,
    now: DateTime<Utc>,
    limit: u32,
) -> StoreResult<Vec<DecidedReminder>> {
    let now_text = time_text(now);
    let orders = conn
        .prepare_cached(concat!(
            "UPDATE orders SET reminded_at = ?1 WHERE id IN (SELECT id FROM orders WHERE ",
            awaiting_reminder!(),
            " AND routed_at > ?2 AND routed_at <= ?3 ORDER BY routed_at LIMIT ?4) \
             RETURNING id, craftsman_id",
        ))?
        .query_map(
            params![
                &now_text,
                time_text(window.routed_after),
                time_text(window.routed_by),
                i64::from(limit)
            ],
            |row| Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?)),
        )?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let mut insert = conn.prepare_cached(
        "INSERT INTO deliveries (id, order_id, kind, channel_id, state, next_attempt_at, \
         created_at, updated_at) VALUES (?1, ?2, 'reminder', ?3, 'pending', ?4, ?4, ?4)",
    )?;
    let mut decided = Vec::with_capacity(orders.len());
    for (order_id, craftsman_id) in orders {
        let mut deliveries = Vec::new();
        for channel_id in routing::reminder_channels(&channel_states(conn, &craftsman_id)?) {
            let id = new_id("dlv");
            insert
                .execute(params![&id, &order_id, &channel_id, &now_text])
                .map_err(|e| classify(&format!("reminder of order {order_id}"), e))?;
            deliveries.push(id);
        }
        decided.push(DecidedReminder {
            order_id,
            craftsman_id,
            deliveries,
        });
    }
    Ok(decided)
}

pub(super) fn next_from(
    conn: &Connection,
    routed_after: DateTime<Utc>,
) -> StoreResult<Option<DateTime<Utc>>> {
    let first: Option<String> = conn
        .prepare_cached(concat!(
            "SELECT routed_at FROM orders WHERE ",
            awaiting_reminder!(),
            " AND routed_at > ?1 ORDER BY routed_at LIMIT 1"
        ))?
        .query_row(params![time_text(routed_after)], |row| row.get(0))
        .optional()?;
    first.as_deref().map(parse_time).transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The scans read the partial index, never the whole table.
    #[test]
    fn the_scans_use_the_reminder_index() {
        let conn = Connection::open_in_memory().unwrap();
        super::super::migrations::run(&conn).unwrap();
        for sql in [
            concat!(
                "SELECT id FROM orders WHERE ",
                awaiting_reminder!(),
                " AND routed_at > ?2 AND routed_at <= ?3 ORDER BY routed_at LIMIT ?4"
            ),
            concat!(
                "SELECT routed_at FROM orders WHERE ",
                awaiting_reminder!(),
                " AND routed_at > ?1 ORDER BY routed_at LIMIT 1"
            ),
        ] {
            let mut statement = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
            let parameters = statement.parameter_count();
            let plan: Vec<String> = statement
                .query_map(
                    rusqlite::params_from_iter(std::iter::repeat_n(
                        "2026-11-30T00:00:00.000Z",
                        parameters,
                    )),
                    |row| row.get::<_, String>(3),
                )
                .unwrap()
                .collect::<rusqlite::Result<_>>()
                .unwrap();
            let plan = plan.join("; ");
            assert!(
                plan.contains("USING INDEX orders_reminder_due") && !plan.contains("SCAN orders"),
                "{sql}: {plan}"
            );
        }
    }
}
