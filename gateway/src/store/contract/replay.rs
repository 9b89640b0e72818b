//! Replaying failed messages, and listing messages to find them (issue 3).

use serde_json::json;

use super::{TestDb, buyer_with_message, new_order, normalized};
use crate::store::{
    MessageOutcome, MessageQuery, MessageStatus, OrderQuery, PluginRef, StoreError, StoredResponse,
};

fn plugin(version: &str) -> Option<PluginRef> {
    Some(PluginRef {
        name: "ubl-order".to_owned(),
        version: version.to_owned(),
    })
}

fn failed(title: &str) -> MessageOutcome {
    MessageOutcome::Failed {
        error: json!({ "title": title }),
        response: StoredResponse {
            status: 422,
            body: json!({ "title": title }),
        },
    }
}

async fn only_a_failed_message_can_be_reopened(db: &TestDb) {
    let store = db.store.clone();
    buyer_with_message(&*store, "byr_a", "msg_1").await;
    buyer_with_message(&*store, "byr_a", "msg_2").await;

    // Still waiting for its first outcome: nothing to replay.
    let waiting = store.reopen_message("msg_1", None).await;
    assert!(
        matches!(waiting, Err(StoreError::Conflict(_))),
        "{waiting:?}"
    );

    // Normalized: its orders exist, so it must never be processed again.
    let outcome = normalized(vec![new_order("ord_1", "msg_1", "byr_a")]);
    store.complete_message("msg_1", outcome).await.unwrap();
    let normalized = store.reopen_message("msg_1", None).await;
    assert!(
        matches!(normalized, Err(StoreError::Conflict(_))),
        "{normalized:?}"
    );
    let message = store.get_message(None, "msg_1").await.unwrap().unwrap();
    assert_eq!(
        (message.status, message.attempts),
        (MessageStatus::Normalized, 1)
    );
    assert!(store.message_attempts("msg_1").await.unwrap().is_empty());

    let missing = store.reopen_message("msg_nope", None).await;
    assert!(matches!(missing, Err(StoreError::NotFound)), "{missing:?}");

    // Failed: reopened once; a second reopen before it is processed is refused.
    store
        .complete_message_by("msg_2", plugin("1.0.0"), failed("bad"))
        .await
        .unwrap();
    store.reopen_message("msg_2", None).await.unwrap();
    let twice = store.reopen_message("msg_2", None).await;
    assert!(matches!(twice, Err(StoreError::Conflict(_))), "{twice:?}");
    assert_eq!(store.message_attempts("msg_2").await.unwrap().len(), 1);
}

async fn a_replayed_message_keeps_its_history_and_gets_its_orders_once(db: &TestDb) {
    let store = db.store.clone();
    buyer_with_message(&*store, "byr_a", "msg_1").await;

    // Fails under 1.0.0, is replayed, fails under 1.0.1 too.
    store
        .complete_message_by("msg_1", plugin("1.0.0"), failed("first"))
        .await
        .unwrap();
    let failed_once = store.get_message(None, "msg_1").await.unwrap().unwrap();
    assert_eq!(failed_once.attempts, 1);
    assert_eq!(failed_once.processed_by, plugin("1.0.0"));
    let note = json!({ "by": "admin", "reason": "ubl-order 1.0.1 reads cac:Delivery" });
    let reopened = store
        .reopen_message("msg_1", Some(note.clone()))
        .await
        .unwrap();
    assert_eq!(reopened.status, MessageStatus::Received);
    assert_eq!(
        (&reopened.error, &reopened.response, &reopened.processed_by),
        (&None, &None, &None)
    );
    assert_eq!((reopened.attempts, reopened.processed_at), (1, None));
    assert_eq!(reopened.body, b"msg_1");
    assert_eq!(
        store.get_message(None, "msg_1").await.unwrap(),
        Some(reopened)
    );
    // A crash now leaves it for recovery like any message waiting for its outcome.
    let pending = store.pending_messages(None, 10).await.unwrap();
    assert_eq!(pending.len(), 1);

    store
        .complete_message_by("msg_1", plugin("1.0.1"), failed("second"))
        .await
        .unwrap();
    store.reopen_message("msg_1", None).await.unwrap();

    // Then 1.0.2 normalizes it.
    let outcome = normalized(vec![
        new_order("ord_1", "msg_1", "byr_a"),
        new_order("ord_2", "msg_1", "byr_a"),
    ]);
    store
        .complete_message_by("msg_1", plugin("1.0.2"), outcome.clone())
        .await
        .unwrap();
    let done = store.get_message(None, "msg_1").await.unwrap().unwrap();
    assert_eq!(done.status, MessageStatus::Normalized);
    assert_eq!(done.attempts, 3);
    assert_eq!(done.processed_by, plugin("1.0.2"));
    assert_eq!(done.order_ids, ["ord_1", "ord_2"]);
    assert_eq!(done.error, None);

    // Neither a second completion nor a reopen can add orders now.
    let again = store.complete_message("msg_1", outcome).await;
    assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
    let reopen = store.reopen_message("msg_1", None).await;
    assert!(matches!(reopen, Err(StoreError::Conflict(_))), "{reopen:?}");
    let orders = store
        .list_orders(OrderQuery {
            limit: 50,
            ..OrderQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(orders.orders.len(), 2);

    // The failed attempts are kept, oldest first, with the plugin that made them.
    let history = store.message_attempts("msg_1").await.unwrap();
    let summary: Vec<_> = history
        .iter()
        .map(|a| {
            (
                a.attempt,
                a.status,
                a.error.clone(),
                a.processed_by.clone(),
                a.note.clone(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (
                1,
                MessageStatus::Failed,
                Some(json!({ "title": "first" })),
                plugin("1.0.0"),
                Some(note)
            ),
            (
                2,
                MessageStatus::Failed,
                Some(json!({ "title": "second" })),
                plugin("1.0.1"),
                None
            ),
        ]
    );
    assert_eq!(history[0].processed_at, failed_once.processed_at.unwrap());
    assert!(history[0].reopened_at >= history[0].processed_at);
}

async fn message_pages_filter_and_follow_the_cursor(db: &TestDb) {
    let store = db.store.clone();
    for i in 1..=5 {
        buyer_with_message(&*store, "byr_a", &format!("msg_a{i}")).await;
    }
    buyer_with_message(&*store, "byr_b", "msg_b1").await;
    for id in ["msg_a1", "msg_a3", "msg_a4", "msg_b1"] {
        store.complete_message(id, failed("no")).await.unwrap();
    }
    let outcome = normalized(vec![new_order("ord_1", "msg_a2", "byr_a")]);
    store.complete_message("msg_a2", outcome).await.unwrap();

    let ids = |query: MessageQuery| {
        let store = store.clone();
        async move {
            let page = store.list_messages(query).await.unwrap();
            let ids: Vec<String> = page.messages.into_iter().map(|m| m.id).collect();
            (ids, page.next_cursor)
        }
    };

    // Newest first; all buyers for the admin.
    let all = ids(MessageQuery {
        limit: 50,
        ..MessageQuery::default()
    });
    let expected = ["msg_b1", "msg_a5", "msg_a4", "msg_a3", "msg_a2", "msg_a1"];
    assert_eq!(all.await, (expected.map(String::from).to_vec(), None));

    // The failed messages of one buyer, two at a time: what the admin replays.
    let mut query = MessageQuery {
        buyer_id: Some("byr_a".to_owned()),
        status: Some(MessageStatus::Failed),
        limit: 2,
        ..MessageQuery::default()
    };
    let (first, cursor) = ids(query.clone()).await;
    assert_eq!(first, ["msg_a4", "msg_a3"]);
    assert_eq!(cursor.as_deref(), Some("msg_a3"));
    query.after = cursor;
    assert_eq!(ids(query.clone()).await, (vec!["msg_a1".to_owned()], None));

    // All statuses across buyers, and each status alone.
    let failed_everywhere = ids(MessageQuery {
        status: Some(MessageStatus::Failed),
        limit: 50,
        ..MessageQuery::default()
    });
    assert_eq!(
        failed_everywhere.await.0,
        ["msg_b1", "msg_a4", "msg_a3", "msg_a1"]
    );
    let waiting = ids(MessageQuery {
        status: Some(MessageStatus::Received),
        limit: 0,
        ..MessageQuery::default()
    });
    assert_eq!(
        waiting.await,
        (vec!["msg_a5".to_owned()], None),
        "limit 0 is clamped to 1"
    );

    // The summary carries what a listing needs, without the body.
    let page = store
        .list_messages(MessageQuery {
            buyer_id: Some("byr_a".to_owned()),
            status: Some(MessageStatus::Normalized),
            limit: 10,
            ..MessageQuery::default()
        })
        .await
        .unwrap();
    let [summary] = page.messages.as_slice() else {
        panic!("{page:?}");
    };
    assert_eq!(summary.order_ids, ["ord_1"]);
    assert_eq!(summary.body_size, "msg_a2".len() as u64);
    assert_eq!((summary.attempts, summary.response_status), (1, Some(201)));
    let other_buyer = store
        .list_messages(MessageQuery {
            buyer_id: Some("byr_b".to_owned()),
            limit: 10,
            ..MessageQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(other_buyer.messages.len(), 1);
    assert_eq!(
        other_buyer.messages[0].error,
        Some(json!({ "title": "no" }))
    );
}

on_every_engine!(
    only_a_failed_message_can_be_reopened,
    a_replayed_message_keeps_its_history_and_gets_its_orders_once,
    message_pages_filter_and_follow_the_cursor,
);
