//! Group commit (`writer`): writes queued together share one transaction, yet each
//! keeps the contract of a transaction of its own.
//!
//! To make a batch deterministic, a first job holds the writer until the jobs under
//! test are queued behind it; the writer then takes them all as one batch.

use std::future::Future;

use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::open_temp;
use crate::store::contract::{inserted, new_buyer, new_message};
use crate::store::sqlite::SqliteStore;
use crate::store::{BuyerStore, InsertedMessage, MessageStore, Store, StoreError, StoreResult};

/// Occupies the writer with a job that waits; the writer is free once the returned
/// sender is used or dropped.
async fn hold_writer(store: &SqliteStore) -> oneshot::Sender<()> {
    let (started_tx, started) = oneshot::channel();
    let (release, released) = oneshot::channel::<()>();
    let writer = store.writer.clone();
    tokio::spawn(async move {
        writer
            .run(move |_conn| {
                let _ = started_tx.send(());
                let _ = released.blocking_recv();
                Ok(())
            })
            .await
    });
    started.await.unwrap();
    release
}

/// Spawns `write` and waits until it is queued behind the held writer, so that the
/// writes of a test queue in the order they are written.
async fn queue<T: Send + 'static>(
    store: &SqliteStore,
    write: impl Future<Output = T> + Send + 'static,
) -> JoinHandle<T> {
    let before = store.writer.queued();
    let task = tokio::spawn(write);
    while store.writer.queued() == before {
        tokio::task::yield_now().await;
    }
    task
}

fn insert(
    store: &SqliteStore,
    id: &str,
) -> impl Future<Output = StoreResult<InsertedMessage>> + use<> {
    let store = store.clone();
    let message = new_message(id, "byr_a", None, id);
    async move { store.insert_message(message).await }
}

async fn stored(store: &SqliteStore, id: &str) -> bool {
    store.get_message(None, id).await.unwrap().is_some()
}

#[tokio::test]
async fn a_failed_job_rolls_back_only_itself_in_a_shared_transaction() {
    let (_dir, _url, store) = open_temp().await;
    store.create_buyer(new_buyer("byr_a")).await.unwrap();
    let release = hold_writer(&store).await;

    let first = queue(&store, insert(&store, "msg_a")).await;
    // Writes, then fails: its write must go, and only its.
    let writer = store.writer.clone();
    let failing = queue(&store, async move {
        writer
            .run(|conn| {
                let message = new_message("msg_b", "byr_a", None, "b");
                super::super::messages::insert(conn, message)?;
                Err::<(), _>(StoreError::Conflict("made up".into()))
            })
            .await
    })
    .await;
    // Sees the first write on the writer, while readers do not yet: one transaction.
    let (writer, reader) = (store.writer.clone(), store.clone());
    let last = queue(&store, async move {
        writer
            .run(move |conn| {
                let count = "SELECT count(*) FROM messages WHERE id = 'msg_a'";
                let count_on = |conn: &rusqlite::Connection| -> StoreResult<i64> {
                    Ok(conn.query_row(count, [], |row| row.get(0))?)
                };
                let on_writer = count_on(conn)?;
                let on_reader = reader.read(count_on)?;
                let message = new_message("msg_c", "byr_a", None, "c");
                super::super::messages::insert(conn, message)?;
                Ok((on_writer, on_reader))
            })
            .await
    })
    .await;
    // A reused id: a write without a savepoint that fails on its own.
    let reused = queue(&store, insert(&store, "msg_a")).await;
    release.send(()).unwrap();

    inserted(first.await.unwrap().unwrap());
    let reused = reused.await.unwrap();
    assert!(matches!(reused, Err(StoreError::Conflict(_))), "{reused:?}");
    let failed = failing.await.unwrap();
    assert!(matches!(failed, Err(StoreError::Conflict(_))), "{failed:?}");
    assert_eq!(last.await.unwrap().unwrap(), (1, 0));
    assert!(stored(&store, "msg_a").await);
    assert!(!stored(&store, "msg_b").await);
    assert!(stored(&store, "msg_c").await);
}

#[tokio::test]
async fn a_failed_commit_fails_every_job_of_the_batch() {
    let (_dir, _url, store) = open_temp().await;
    store.create_buyer(new_buyer("byr_a")).await.unwrap();
    let release = hold_writer(&store).await;

    let first = queue(&store, insert(&store, "msg_a")).await;
    // A deferred foreign key lets the job succeed and makes the COMMIT fail.
    let writer = store.writer.clone();
    let orphan = queue(&store, async move {
        writer
            .run(|conn| {
                conn.execute_batch("PRAGMA defer_foreign_keys = ON")?;
                let message = new_message("msg_b", "byr_nobody", None, "b");
                super::super::messages::insert(conn, message)
            })
            .await
    })
    .await;
    let last = queue(&store, insert(&store, "msg_c")).await;
    release.send(()).unwrap();

    for result in [
        first.await.unwrap(),
        orphan.await.unwrap(),
        last.await.unwrap(),
    ] {
        assert!(matches!(result, Err(StoreError::Aborted(_))), "{result:?}");
    }
    for id in ["msg_a", "msg_b", "msg_c"] {
        assert!(!stored(&store, id).await, "{id} was stored");
    }
    // The writer is out of the failed transaction and goes on.
    inserted(
        store
            .insert_message(new_message("msg_a", "byr_a", None, "a"))
            .await
            .unwrap(),
    );
    assert!(stored(&store, "msg_a").await);
}

#[tokio::test]
async fn a_panicking_job_fails_its_batch_and_the_writer_goes_on() {
    let (_dir, _url, store) = open_temp().await;
    store.create_buyer(new_buyer("byr_a")).await.unwrap();
    let release = hold_writer(&store).await;

    let first = queue(&store, insert(&store, "msg_a")).await;
    let writer = store.writer.clone();
    let panicking = queue(&store, async move {
        writer
            .run(|_conn| -> StoreResult<()> { panic!("a bug in a write") })
            .await
    })
    .await;
    release.send(()).unwrap();

    let result: StoreResult<()> = panicking.await.unwrap();
    assert!(matches!(result, Err(StoreError::Aborted(_))), "{result:?}");
    let result = first.await.unwrap();
    assert!(matches!(result, Err(StoreError::Aborted(_))), "{result:?}");
    assert!(!stored(&store, "msg_a").await);
    inserted(insert(&store, "msg_a").await.unwrap());
}

#[tokio::test]
async fn close_finishes_queued_writes_and_refuses_later_ones() {
    let (_dir, url, store) = open_temp().await;
    store.create_buyer(new_buyer("byr_a")).await.unwrap();
    let release = hold_writer(&store).await;
    let queued = queue(&store, insert(&store, "msg_a")).await;
    let closing = {
        let store = store.clone();
        queue(&store.clone(), async move { store.close().await }).await
    };
    release.send(()).unwrap();
    closing.await.unwrap();
    inserted(queued.await.unwrap().unwrap());

    let refused = insert(&store, "msg_b").await;
    assert!(matches!(refused, Err(StoreError::Closed)), "{refused:?}");
    let store = SqliteStore::open(&url).await.unwrap();
    assert!(stored(&store, "msg_a").await);
}

#[tokio::test]
async fn a_transaction_rolled_back_under_a_job_fails_the_batch() {
    let (_dir, _url, store) = open_temp().await;
    store.create_buyer(new_buyer("byr_a")).await.unwrap();
    let release = hold_writer(&store).await;

    let first = queue(&store, insert(&store, "msg_a")).await;
    // What SQLite does on an I/O error; the job does not notice.
    let writer = store.writer.clone();
    let rolling_back = queue(&store, async move {
        writer
            .run(|conn| {
                conn.execute_batch("ROLLBACK")?;
                Ok(())
            })
            .await
    })
    .await;
    // Would be committed on its own if the batch went on.
    let last = queue(&store, insert(&store, "msg_c")).await;
    release.send(()).unwrap();

    let results = [first.await.unwrap().map(drop), rolling_back.await.unwrap()];
    for result in results.into_iter().chain([last.await.unwrap().map(drop)]) {
        assert!(matches!(result, Err(StoreError::Aborted(_))), "{result:?}");
    }
    assert!(!stored(&store, "msg_a").await);
    assert!(!stored(&store, "msg_c").await);
}
