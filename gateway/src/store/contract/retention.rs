//! Retention and the fail-closed probe (issue 8): what is deleted, what is never,
//! and what a buyer's stored bytes are.

use chrono::{Duration, Utc};
use serde_json::json;

use super::{TestDb, buyer_with_message, new_order, normalized};
use crate::store::{MessageOutcome, OrderScope, Retention, StoredResponse};

fn failed() -> MessageOutcome {
    MessageOutcome::Failed {
        error: json!({ "title": "bad" }),
        response: StoredResponse {
            status: 422,
            body: json!({ "title": "bad" }),
        },
    }
}

/// Cutoffs one minute from now: everything written by the test is older.
fn everything() -> Retention {
    let later = Utc::now() + Duration::minutes(1);
    Retention {
        failed_bodies_before: later,
        finished_bodies_before: later,
        attempts_before: later,
        early_statuses_before: later,
        batch: 1,
    }
}

async fn retention_empties_old_bodies_in_batches_and_keeps_the_rest(db: &TestDb) {
    let store = db.store.clone();
    for id in ["msg_1", "msg_2", "msg_3"] {
        buyer_with_message(&*store, "byr_a", id).await;
    }
    store.complete_message("msg_1", failed()).await.unwrap();
    store.complete_message("msg_2", failed()).await.unwrap();
    // Normalized, but its order is unrouted: not finished, so kept.
    let outcome = normalized(vec![new_order("ord_3", "msg_3", "byr_a")]);
    store.complete_message("msg_3", outcome).await.unwrap();
    let before = store.stored_body_bytes("byr_a").await.unwrap();
    assert_eq!(before, ("msg_1".len() * 3) as u64);

    // Nothing is old enough yet.
    let past = Utc::now() - Duration::days(30);
    let none = Retention {
        failed_bodies_before: past,
        finished_bodies_before: past,
        attempts_before: past,
        early_statuses_before: past,
        batch: 10,
    };
    assert_eq!(store.purge(&none).await.unwrap().total(), 0);

    // One row of each kind per batch.
    let first = store.purge(&everything()).await.unwrap();
    assert_eq!(first.failed_bodies, 1);
    let second = store.purge(&everything()).await.unwrap();
    assert_eq!(second.failed_bodies, 1);
    assert_eq!(store.purge(&everything()).await.unwrap().total(), 0);

    let purged = store.get_message(None, "msg_1").await.unwrap().unwrap();
    assert!(purged.body.is_empty());
    assert!(purged.body_purged_at.is_some());
    // What the message was stays: its hash and its outcome.
    assert_eq!(purged.body_sha256, "sha-of-msg_1");
    assert_eq!(purged.error, Some(json!({ "title": "bad" })));
    let kept = store.get_message(None, "msg_3").await.unwrap().unwrap();
    assert_eq!(kept.body, b"msg_3");
    assert_eq!(kept.body_purged_at, None);
    assert!(
        store
            .get_order(OrderScope::All, "ord_3")
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(
        store.stored_body_bytes("byr_a").await.unwrap(),
        "msg_3".len() as u64
    );
    assert_eq!(store.stored_body_bytes("byr_nobody").await.unwrap(), 0);
}

async fn the_write_probe_writes_and_a_sound_database_reads_whole(db: &TestDb) {
    db.store.check_writable().await.unwrap();
    db.store.check_writable().await.unwrap();
    assert_eq!(db.store.check_integrity().await.unwrap(), None);
}

on_every_engine!(
    retention_empties_old_bodies_in_batches_and_keeps_the_rest,
    the_write_probe_writes_and_a_sound_database_reads_whole,
);
