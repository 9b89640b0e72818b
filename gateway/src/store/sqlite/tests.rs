//! SQLite's own side of the store: its migrations, its files, its tuning. The
//! contract every engine keeps is tested once for all in `store::contract`; these
//! are the tests that only make sense on SQLite, with the writer's group commit and
//! the plugin-lifecycle migration in their own files beside this one.

mod group_commit;
mod lifecycle;
mod order_responses_migration;
mod reminders_migration;
mod whatsapp_numbers;

use std::sync::Arc;

use tempfile::TempDir;

use super::{SqliteStore, deliveries, messages, migrations, orders};
use crate::store::contract::outbox::routed_order;
use crate::store::contract::{inserted, new_buyer, new_message, new_order, normalized};
use crate::store::{Outbox, Store, StoreError};

/// A fresh database in a directory that does not exist yet (open must create it).
pub(super) async fn open_temp() -> (TempDir, String, SqliteStore) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/data/jembatan.db", dir.path().display());
    let store = SqliteStore::open(&url).await.unwrap();
    (dir, url, store)
}

/// One gateway process owns the SQLite file: at its start every claim it finds is
/// a stopped run's, and all are released at once.
#[tokio::test]
async fn a_restart_releases_every_claim() {
    let (_dir, _url, store) = open_temp().await;
    routed_order(&store, &["a"]).await;
    let lease = std::time::Duration::from_secs(60);
    let claim = || store.claim_deliveries(chrono::Utc::now(), lease, 10);
    assert_eq!(claim().await.unwrap().len(), 1);
    assert_eq!(store.release_claims().await.unwrap(), 1);
    assert_eq!(claim().await.unwrap().len(), 1);
}

#[tokio::test]
async fn migrations_are_idempotent_on_reopen() {
    let (_dir, url, store) = open_temp().await;
    store.close().await;
    for _ in 0..2 {
        let store = SqliteStore::open(&url).await.unwrap();
        let applied: i64 = store
            .read(|conn| {
                Ok(
                    conn.query_row("SELECT count(*) FROM _sqlx_migrations", [], |row| {
                        row.get(0)
                    })?,
                )
            })
            .unwrap();
        assert_eq!(applied, migrations::count() as i64);
        store.ping().await.unwrap();
        store.close().await;
    }
}

/// Not a test: how many order posts per second the store sustains, for each
/// `synchronous` setting. A post is what ingest does: insert the message, then
/// complete it with one order, from many concurrent requests.
/// Run with `cargo test -p jembatan --release --lib store_throughput -- --ignored --nocapture`.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "a measurement, not a check"]
async fn store_throughput() {
    const POSTS: usize = 2000;
    const CONCURRENCY: usize = 32;
    for synchronous in [super::Synchronous::Full, super::Synchronous::Normal] {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/bench.db", dir.path().display());
        let options = super::SqliteOptions {
            synchronous,
            ..Default::default()
        };
        let store: Arc<dyn Store> = Arc::new(SqliteStore::open_with(&url, options).await.unwrap());
        store.create_buyer(new_buyer("byr_a")).await.unwrap();
        let started = std::time::Instant::now();
        let workers: Vec<_> = (0..CONCURRENCY)
            .map(|worker| {
                let store = store.clone();
                tokio::spawn(async move {
                    let mut latencies = Vec::new();
                    for i in (worker..POSTS).step_by(CONCURRENCY) {
                        let post = std::time::Instant::now();
                        let (message, order) = (format!("msg_{i:06}"), format!("ord_{i:06}"));
                        let key = format!("key-{i}");
                        let body = format!("body {i}");
                        let new = new_message(&message, "byr_a", Some(&key), &body);
                        inserted(store.insert_message(new).await.unwrap());
                        let outcome = normalized(vec![new_order(&order, &message, "byr_a")]);
                        store.complete_message(&message, outcome).await.unwrap();
                        latencies.push(post.elapsed());
                    }
                    latencies
                })
            })
            .collect();
        let mut latencies = Vec::new();
        for worker in workers {
            latencies.extend(worker.await.unwrap());
        }
        let elapsed = started.elapsed();
        latencies.sort();
        let percentile = |p: usize| latencies[(latencies.len() - 1) * p / 100];
        println!(
            "synchronous={synchronous:?}: {POSTS} posts x {CONCURRENCY} concurrent in {elapsed:.2?} \
             = {:.0} posts/s; p50 {:.2?}, p99 {:.2?}",
            POSTS as f64 / elapsed.as_secs_f64(),
            percentile(50),
            percentile(99),
        );
        store.close().await;
    }
}

/// The bookkeeping is sqlx's (same table, same SHA-384 checksums), so a file an
/// earlier, sqlx-based gateway migrated is recognised; and an edited migration is
/// refused rather than silently skipped.
#[tokio::test]
async fn migrations_recorded_by_sqlx_are_recognised_and_edits_refused() {
    let (_dir, url, store) = open_temp().await;
    store.close().await;
    let path = url.strip_prefix("sqlite://").unwrap().to_owned();
    // The runner must write what sqlx wrote: the SHA-384 of the file. This database
    // was made by our own runner, so this pins the formula, not sqlx's output; that
    // a file made by the sqlx-based release opens was checked by hand (issue 12 note).
    let conn = rusqlite::Connection::open(&path).unwrap();
    let checksum: Vec<u8> = conn
        .query_row(
            "SELECT checksum FROM _sqlx_migrations WHERE version = 1",
            [],
            |row| row.get(0),
        )
        .unwrap();
    use sha2::Digest;
    let expected = sha2::Sha384::digest(include_bytes!("../../../migrations/sqlite/0001_init.sql"));
    assert_eq!(checksum, expected.to_vec());
    conn.execute(
        "UPDATE _sqlx_migrations SET checksum = x'00' WHERE version = 2",
        [],
    )
    .unwrap();
    drop(conn);
    let refused = SqliteStore::open(&url).await;
    assert!(
        matches!(&refused, Err(StoreError::Migration(why)) if why.contains("edited")),
        "{:?}",
        refused.err()
    );
}

#[test]
fn every_migration_file_is_embedded() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/sqlite");
    let files = std::fs::read_dir(dir)
        .unwrap()
        .filter(|entry| entry.as_ref().unwrap().path().extension() == Some("sql".as_ref()))
        .count();
    assert_eq!(
        files,
        migrations::count(),
        "a file in {dir} is not in migrations::MIGRATIONS"
    );
}

/// The worker claims at every bell: its claim and next-due query must read the
/// due deliveries from `deliveries_due` in order, never every pending delivery
/// sorted (which made each claim cost as much as the backlog was long).
#[tokio::test]
async fn the_worker_s_queries_read_the_due_index_in_order() {
    let (_dir, _url, store) = open_temp().await;
    for sql in [deliveries::CLAIM, deliveries::NEXT_DUE] {
        let plan = plan_of(&store, sql);
        assert!(
            plan.contains("USING COVERING INDEX deliveries_due") && !plan.contains("TEMP B-TREE"),
            "{sql}\n{plan}"
        );
    }
}

/// The query plan of `sql`, one line per step, its parameters unbound.
fn plan_of(store: &SqliteStore, sql: &str) -> String {
    let sql = format!("EXPLAIN QUERY PLAN {sql}");
    store
        .read(move |conn| {
            let mut statement = conn.prepare(&sql)?;
            let unbound = std::iter::repeat_n(rusqlite::types::Null, statement.parameter_count());
            let details = statement
                .query_map(rusqlite::params_from_iter(unbound), |row| {
                    row.get::<_, String>(3)
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(details.join("\n"))
        })
        .unwrap()
}

/// Migration 19 keeps no index of every status: a listing of the few rows in an
/// uncommon status, a buyer's or all of them, reads that status's partial index,
/// never every order, message or delivery (or all of the buyer's).
#[tokio::test]
async fn a_listing_by_an_uncommon_status_reads_that_status_s_index() {
    use crate::store::{DeliveryQuery, DeliveryState, MessageQuery, MessageStatus};
    use crate::store::{OrderQuery, OrderStatus};
    let (_dir, _url, store) = open_temp().await;
    let reads = |(sql, _): (String, Vec<rusqlite::types::Value>), index: &str, what: &str| {
        let plan = plan_of(&store, &sql);
        assert!(plan.contains(index), "{what}: {sql}\n{plan}");
    };
    let limit = 50;
    let buyer = || Some("b".to_owned());
    for (status, index) in [
        (OrderStatus::Unrouted, "orders_unrouted_id"),
        (OrderStatus::Received, "orders_received"),
        (OrderStatus::Failed, "orders_failed"),
    ] {
        let all = OrderQuery {
            status: Some(status),
            ..OrderQuery::default()
        };
        let by_buyer = OrderQuery {
            buyer_id: buyer(),
            ..all.clone()
        };
        reads(
            orders::list_query(all, limit),
            index,
            &format!("{status:?}"),
        );
        reads(
            orders::list_query(by_buyer, limit),
            index,
            &format!("{status:?} of a buyer"),
        );
    }
    for (status, index) in [
        (MessageStatus::Received, "messages_received"),
        (MessageStatus::Failed, "messages_failed"),
    ] {
        let all = MessageQuery {
            status: Some(status),
            ..MessageQuery::default()
        };
        let by_buyer = MessageQuery {
            buyer_id: buyer(),
            ..all.clone()
        };
        reads(
            messages::list_query(all, limit),
            index,
            &format!("{status:?}"),
        );
        reads(
            messages::list_query(by_buyer, limit),
            index,
            &format!("{status:?} of a buyer"),
        );
    }
    for (state, index) in [
        (DeliveryState::Pending, "deliveries_due"),
        (DeliveryState::Dead, "deliveries_dead"),
    ] {
        let all = DeliveryQuery {
            state: Some(state),
            ..DeliveryQuery::default()
        };
        reads(
            deliveries::list_query(all, limit),
            index,
            &format!("{state:?}"),
        );
    }
}

/// A statement that binds a parameter on a table with a partial index is compiled
/// once, not again at every run with new values (`configure` turns on the
/// planner's stability guarantee): the worker's claim, which selects like this,
/// runs at every bell.
#[tokio::test]
async fn a_cached_statement_is_not_compiled_again_for_new_values() {
    let (_dir, _url, store) = open_temp().await;
    let due = "SELECT id FROM deliveries WHERE state = 'pending' AND next_attempt_at <= ?1 \
               AND (claimed_until IS NULL OR claimed_until <= ?1) \
               ORDER BY next_attempt_at LIMIT ?2";
    let recompiled = store
        .read(|conn| {
            for second in 0..3 {
                let at = format!("2026-12-01T00:00:0{second}.000000Z");
                let mut statement = conn.prepare_cached(due)?;
                let mut rows = statement.query(rusqlite::params![at, 32])?;
                while rows.next()?.is_some() {}
            }
            Ok(conn
                .prepare_cached(due)?
                .get_status(rusqlite::StatementStatus::RePrepare))
        })
        .unwrap();
    assert_eq!(
        recompiled, 0,
        "the statement was compiled again for new values"
    );
}
