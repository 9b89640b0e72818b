//! The SQLite schema's versioned migrations, embedded at build time and run at open.
//!
//! The bookkeeping table is the one sqlx's migrator kept (`_sqlx_migrations`, with
//! the SHA-384 of each file), so a database made by an earlier gateway, which ran its
//! migrations with sqlx, is brought forward by this one without a step by hand, and
//! a migration file edited after it ran is refused here as sqlx refused it.

use rusqlite::{Connection, OptionalExtension};
use sha2::{Digest, Sha384};

use crate::store::{StoreError, StoreResult};

/// (version, description, SQL), in order. A new file needs a line here.
const MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        "init",
        include_str!("../../../migrations/sqlite/0001_init.sql"),
    ),
    (
        2,
        "plugins",
        include_str!("../../../migrations/sqlite/0002_plugins.sql"),
    ),
    (
        3,
        "delivery",
        include_str!("../../../migrations/sqlite/0003_delivery.sql"),
    ),
    (
        4,
        "credentials",
        include_str!("../../../migrations/sqlite/0004_credentials.sql"),
    ),
    (
        5,
        "order schema version",
        include_str!("../../../migrations/sqlite/0005_order_schema_version.sql"),
    ),
    (
        6,
        "transactions",
        include_str!("../../../migrations/sqlite/0006_transactions.sql"),
    ),
    (
        7,
        "fail closed and retention",
        include_str!("../../../migrations/sqlite/0007_fail_closed_and_retention.sql"),
    ),
    (
        8,
        "whatsapp",
        include_str!("../../../migrations/sqlite/0008_whatsapp.sql"),
    ),
    (
        9,
        "delivered parts",
        include_str!("../../../migrations/sqlite/0009_delivered_parts.sql"),
    ),
    (
        10,
        "order responses",
        include_str!("../../../migrations/sqlite/0010_order_responses.sql"),
    ),
    (
        11,
        "email",
        include_str!("../../../migrations/sqlite/0011_email.sql"),
    ),
    (
        12,
        "rendered responses",
        include_str!("../../../migrations/sqlite/0012_rendered_responses.sql"),
    ),
    (
        13,
        "chat answers",
        include_str!("../../../migrations/sqlite/0013_chat_answers.sql"),
    ),
    (
        14,
        "reminders",
        include_str!("../../../migrations/sqlite/0014_reminders.sql"),
    ),
    (
        15,
        "channel pauses",
        include_str!("../../../migrations/sqlite/0015_channel_pauses.sql"),
    ),
    (
        16,
        "email reply outcome",
        include_str!("../../../migrations/sqlite/0016_email_reply_outcome.sql"),
    ),
    (
        17,
        "whatsapp early statuses",
        include_str!("../../../migrations/sqlite/0017_whatsapp_early_statuses.sql"),
    ),
    (
        18,
        "due deliveries covered",
        include_str!("../../../migrations/sqlite/0018_due_deliveries_covered.sql"),
    ),
    (
        19,
        "fewer indexes",
        include_str!("../../../migrations/sqlite/0019_fewer_indexes.sql"),
    ),
    (
        20,
        "orders found by transactions",
        include_str!("../../../migrations/sqlite/0020_orders_found_by_transactions.sql"),
    ),
];

/// How many migrations this build knows.
#[cfg(test)]
pub(super) fn count() -> usize {
    MIGRATIONS.len()
}

/// Applies every migration not yet applied, each in its own transaction.
pub(super) fn run(conn: &Connection) -> StoreResult<()> {
    run_up_to(conn, i64::MAX)
}

/// [`run`], stopping after version `last`: a file as an older release left it.
pub(super) fn run_up_to(conn: &Connection, last: i64) -> StoreResult<()> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS _sqlx_migrations (
            version BIGINT PRIMARY KEY,
            description TEXT NOT NULL,
            installed_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
            success BOOLEAN NOT NULL,
            checksum BLOB NOT NULL,
            execution_time BIGINT NOT NULL
        )",
    )?;
    for &(version, description, sql) in MIGRATIONS.iter().filter(|m| m.0 <= last) {
        let checksum = Sha384::digest(sql.as_bytes()).to_vec();
        let applied: Option<(Vec<u8>, bool)> = conn
            .query_row(
                "SELECT checksum, success FROM _sqlx_migrations WHERE version = ?1",
                [version],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .optional()?;
        match applied {
            Some((_, false)) => {
                return Err(StoreError::Migration(format!(
                    "migration {version} ({description}) failed earlier and is marked dirty; \
                     repair the database by hand"
                )));
            }
            Some((stored, true)) if stored != checksum => {
                return Err(StoreError::Migration(format!(
                    "migration {version} ({description}) was applied but has since been edited"
                )));
            }
            Some(_) => continue,
            None => {}
        }
        let started = std::time::Instant::now();
        let tx = conn.unchecked_transaction()?;
        tx.execute_batch(sql)
            .map_err(|e| StoreError::Migration(format!("{version} ({description}): {e}")))?;
        tx.execute(
            "INSERT INTO _sqlx_migrations (version, description, success, checksum, \
             execution_time) VALUES (?1, ?2, TRUE, ?3, ?4)",
            rusqlite::params![
                version,
                description,
                checksum,
                i64::try_from(started.elapsed().as_nanos()).unwrap_or(i64::MAX)
            ],
        )?;
        tx.commit()?;
        tracing::info!(version, description, "migrated the SQLite schema");
    }
    Ok(())
}
