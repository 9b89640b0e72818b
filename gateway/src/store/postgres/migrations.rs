//! The PostgreSQL schema's versioned migrations, embedded at build time and run at
//! open under an advisory lock, so that instances starting at once migrate one
//! after the other: the first applies what is missing, the others find it applied.
//!
//! Each applied file is recorded in `_sqlx_migrations` with its SHA-384, the table
//! the SQLite engine keeps (`sqlite::migrations`), and a file edited after it ran is
//! refused, as there.

use sha2::{Digest, Sha384};

use super::{Db, MIGRATION_LOCK};
use crate::store::{StoreError, StoreResult};

/// (version, description, SQL), in order. A new file needs a line here.
const MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        "init",
        include_str!("../../../migrations/postgres/0001_init.sql"),
    ),
    (
        2,
        "whatsapp early statuses",
        include_str!("../../../migrations/postgres/0002_whatsapp_early_statuses.sql"),
    ),
];

/// The tables the schema has, for [`check_tables`] and `store::transfer`, in an
/// order their foreign keys allow filling them in (a table after those it names).
pub(in crate::store) const TABLES: &[&str] = &[
    "buyers",
    "messages",
    "plugins",
    "buyer_plugin_history",
    "message_attempts",
    "craftsmen",
    "channels",
    "routes",
    "orders",
    "inbox_sessions",
    "transactions",
    "health_probe",
    "whatsapp_contacts",
    "order_responses",
    "buyer_email",
    "email_replies",
    "rendered_responses",
    "control_numbers",
    "chat_reason_questions",
    "telegram_updates",
    "deliveries",
    "delivery_attempts",
    "channel_pauses",
    "admin_alerts",
    "whatsapp_early_statuses",
];

fn migration_error(version: i64, description: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Migration(format!("{version} ({description}): {e}"))
}

/// Applies every migration not yet applied, each in its own transaction, all under
/// the migration lock.
pub(super) async fn run(client: &mut deadpool_postgres::Object) -> StoreResult<()> {
    // Session-level, so it spans the transactions below; released before the
    // connection goes back to the pool.
    client
        .execute("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK])
        .await?;
    let result = apply(client).await;
    let unlocked = client
        .execute("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK])
        .await;
    result?;
    unlocked?;
    Ok(())
}

async fn apply(client: &mut deadpool_postgres::Object) -> StoreResult<()> {
    client
        .batch_execute(
            "CREATE TABLE IF NOT EXISTS _sqlx_migrations (
                version BIGINT PRIMARY KEY,
                description TEXT NOT NULL,
                installed_on TIMESTAMPTZ NOT NULL DEFAULT now(),
                success BOOLEAN NOT NULL,
                checksum BYTEA NOT NULL,
                execution_time BIGINT NOT NULL
            )",
        )
        .await?;
    for &(version, description, sql) in MIGRATIONS {
        let checksum = Sha384::digest(sql.as_bytes()).to_vec();
        let applied = client
            .query_opt(
                "SELECT checksum, success FROM _sqlx_migrations WHERE version = $1",
                &[&version],
            )
            .await?;
        if let Some(applied) = applied {
            let (stored, success): (Vec<u8>, bool) = (applied.try_get(0)?, applied.try_get(1)?);
            if !success {
                return Err(StoreError::Migration(format!(
                    "migration {version} ({description}) failed earlier and is marked dirty; \
                     repair the database by hand"
                )));
            }
            if stored != checksum {
                return Err(StoreError::Migration(format!(
                    "migration {version} ({description}) was applied but has since been edited"
                )));
            }
            continue;
        }
        let started = std::time::Instant::now();
        let tx = client.transaction().await?;
        tx.batch_execute(sql)
            .await
            .map_err(|e| migration_error(version, description, e))?;
        tx.execute(
            "INSERT INTO _sqlx_migrations (version, description, success, checksum, \
             execution_time) VALUES ($1, $2, TRUE, $3, $4)",
            &[
                &version,
                &description,
                &checksum,
                &i64::try_from(started.elapsed().as_nanos()).unwrap_or(i64::MAX),
            ],
        )
        .await?;
        tx.commit()
            .await
            .map_err(|e| migration_error(version, description, e))?;
        tracing::info!(version, description, "migrated the PostgreSQL schema");
    }
    Ok(())
}

/// Reads a row of every table: `None` when all read, else the first failure.
pub(super) async fn check_tables(db: &dyn Db) -> StoreResult<Option<String>> {
    for table in TABLES {
        if let Err(error) = db
            .query(&format!("SELECT 1 FROM {table} LIMIT 1"), &[])
            .await
        {
            return Ok(Some(format!("table {table}: {error}")));
        }
    }
    Ok(None)
}

/// How many migrations this build knows.
#[cfg(test)]
pub(super) fn count() -> usize {
    MIGRATIONS.len()
}
