//! Buyers, messages and their orders: storing a message once, completing it once and
//! all at once, and reading back only what the caller may see.

use serde_json::json;

use super::{TestDb, buyer_with_message, inserted, new_buyer, new_message, new_order, normalized};
use crate::store::{
    InsertedMessage, MessageOutcome, MessageStatus, OrderQuery, OrderScope, OrderStatus,
    RecordedMessage, StoreError, StoredResponse,
};

async fn data_survives_close_and_reopen(db: &TestDb) {
    let store = db.store.clone();
    buyer_with_message(&*store, "byr_a", "msg_1").await;
    let outcome = normalized(vec![new_order("ord_1", "msg_1", "byr_a")]);
    store.complete_message("msg_1", outcome).await.unwrap();
    let before = store.get_message(None, "msg_1").await.unwrap().unwrap();
    store.close().await;

    let store = db.reopen().await;
    assert_eq!(
        store.get_message(None, "msg_1").await.unwrap().unwrap(),
        before
    );
    let order = store
        .get_order(OrderScope::All, "ord_1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(order.order, new_order("ord_1", "msg_1", "byr_a").order);
    assert_eq!(order.status, OrderStatus::Unrouted);
    assert_eq!(store.list_buyers().await.unwrap().len(), 1);
}

async fn buyers_are_unique_and_found_by_key_hash(db: &TestDb) {
    let store = db.store.clone();
    let mut with_limits = new_buyer("byr_a");
    with_limits.limits = Some(json!({ "memory_mib": 64 }));
    let created = store.create_buyer(with_limits).await.unwrap();
    assert_eq!(
        store.get_buyer("byr_a").await.unwrap(),
        Some(created.clone())
    );
    assert_eq!(
        store.buyer_by_api_key_hash("hash-of-byr_a").await.unwrap(),
        Some(created)
    );
    assert_eq!(store.buyer_by_api_key_hash("nope").await.unwrap(), None);

    let same_id = store.create_buyer(new_buyer("byr_a")).await;
    assert!(
        matches!(same_id, Err(StoreError::Conflict(_))),
        "{same_id:?}"
    );
    let mut same_key = new_buyer("byr_b");
    same_key.api_key_hash = "hash-of-byr_a".to_owned();
    let same_key = store.create_buyer(same_key).await;
    assert!(
        matches!(same_key, Err(StoreError::Conflict(_))),
        "{same_key:?}"
    );
}

async fn idempotency_key_returns_the_existing_message(db: &TestDb) {
    let store = db.store.clone();
    store.create_buyer(new_buyer("byr_a")).await.unwrap();
    store.create_buyer(new_buyer("byr_b")).await.unwrap();

    let first = inserted(
        store
            .insert_message(new_message("msg_1", "byr_a", Some("k1"), "one"))
            .await
            .unwrap(),
    );
    assert_eq!(first.status, MessageStatus::Received);
    assert_eq!(
        store.get_message(None, "msg_1").await.unwrap(),
        Some(first.clone())
    );

    // Same buyer and key, other body: the first message comes back, nothing is stored.
    match store
        .insert_message(new_message("msg_2", "byr_a", Some("k1"), "two"))
        .await
        .unwrap()
    {
        InsertedMessage::Existing(existing) => {
            assert_eq!(existing, first);
            assert_ne!(existing.body_sha256, "sha-of-two");
        }
        other => panic!("expected Existing, got {other:?}"),
    }
    assert_eq!(store.get_message(None, "msg_2").await.unwrap(), None);

    // Keys are per buyer, and messages without a key never collide.
    inserted(
        store
            .insert_message(new_message("msg_3", "byr_b", Some("k1"), "one"))
            .await
            .unwrap(),
    );
    inserted(
        store
            .insert_message(new_message("msg_4", "byr_a", None, "x"))
            .await
            .unwrap(),
    );
    inserted(
        store
            .insert_message(new_message("msg_5", "byr_a", None, "x"))
            .await
            .unwrap(),
    );

    // A reused id is a conflict, not a silent replay; an unknown buyer is a bug.
    let reused = store
        .insert_message(new_message("msg_1", "byr_a", Some("k9"), "one"))
        .await;
    assert!(matches!(reused, Err(StoreError::Conflict(_))), "{reused:?}");
    let orphan = store
        .insert_message(new_message("msg_6", "byr_zz", None, "x"))
        .await;
    assert!(matches!(orphan, Err(StoreError::Invalid(_))), "{orphan:?}");
}

async fn concurrent_posts_with_one_key_store_one_message(db: &TestDb) {
    let store = db.store.clone();
    store.create_buyer(new_buyer("byr_a")).await.unwrap();
    let tasks: Vec<_> = (0..16)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                let message = new_message(&format!("msg_{i:02}"), "byr_a", Some("same"), "b");
                store.insert_message(message).await.unwrap()
            })
        })
        .collect();
    let mut winners = Vec::new();
    let mut seen = Vec::new();
    for task in tasks {
        match task.await.unwrap() {
            InsertedMessage::Inserted(message) => winners.push(message.id),
            InsertedMessage::Existing(message) => seen.push(message.id),
        }
    }
    assert_eq!(winners.len(), 1, "{winners:?}");
    assert!(seen.iter().all(|id| *id == winners[0]), "{seen:?}");
}

async fn complete_message_stores_orders_once(db: &TestDb) {
    let store = db.store.clone();
    buyer_with_message(&*store, "byr_a", "msg_1").await;
    let outcome = normalized(vec![
        new_order("ord_1", "msg_1", "byr_a"),
        new_order("ord_2", "msg_1", "byr_a"),
    ]);
    let answer = store
        .complete_message("msg_1", outcome.clone())
        .await
        .unwrap();
    // The answer is built from the orders as stored: no route, so unrouted.
    assert_eq!(
        answer.body,
        json!({"message_id": "msg_1", "orders": [
            ["ord_1", "PO-ord_1", "unrouted"], ["ord_2", "PO-ord_2", "unrouted"]]})
    );

    let message = store.get_message(None, "msg_1").await.unwrap().unwrap();
    assert_eq!(message.status, MessageStatus::Normalized);
    assert_eq!(message.order_ids, ["ord_1", "ord_2"]);
    assert_eq!(message.response, Some(answer));
    assert!(message.processed_at.is_some());
    assert!(store.pending_messages(None, 10).await.unwrap().is_empty());

    // Completing again is refused and stores nothing, whatever the outcome.
    let again = store.complete_message("msg_1", outcome).await;
    assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
    let failed = MessageOutcome::Failed {
        error: json!({ "title": "late" }),
        response: StoredResponse {
            status: 422,
            body: json!({ "message_id": "msg_1" }),
        },
    };
    let again = store.complete_message("msg_1", failed).await;
    assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
    let message = store.get_message(None, "msg_1").await.unwrap().unwrap();
    assert_eq!(message.status, MessageStatus::Normalized);
    assert_eq!(message.order_ids, ["ord_1", "ord_2"]);

    let missing = store.complete_message("msg_nope", normalized(Vec::new()));
    assert!(matches!(missing.await, Err(StoreError::NotFound)));
}

async fn complete_message_is_all_or_nothing(db: &TestDb) {
    let store = db.store.clone();
    buyer_with_message(&*store, "byr_a", "msg_1").await;
    buyer_with_message(&*store, "byr_a", "msg_2").await;
    buyer_with_message(&*store, "byr_b", "msg_3").await;
    let first = normalized(vec![new_order("ord_1", "msg_1", "byr_a")]);
    store.complete_message("msg_1", first).await.unwrap();

    // The second order's id is taken: the first order and the status must roll back.
    let clash = normalized(vec![
        new_order("ord_2", "msg_2", "byr_a"),
        new_order("ord_1", "msg_2", "byr_a"),
    ]);
    let result = store.complete_message("msg_2", clash).await;
    assert!(matches!(result, Err(StoreError::Conflict(_))), "{result:?}");
    let message = store.get_message(None, "msg_2").await.unwrap().unwrap();
    assert_eq!(message.status, MessageStatus::Received);
    assert!(message.order_ids.is_empty());
    assert_eq!(
        store.get_order(OrderScope::All, "ord_2").await.unwrap(),
        None
    );

    // An order of another buyer is refused before anything is stored.
    let stray = normalized(vec![new_order("ord_3", "msg_3", "byr_a")]);
    let result = store.complete_message("msg_3", stray).await;
    assert!(matches!(result, Err(StoreError::Invalid(_))), "{result:?}");
    let pending = store.pending_messages(None, 10).await.unwrap();
    let pending: Vec<_> = pending.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(pending, ["msg_2", "msg_3"]);

    // The message is still completable after a failed attempt.
    let failed = MessageOutcome::Failed {
        error: json!({ "type": "about:blank", "title": "bad input" }),
        response: StoredResponse {
            status: 422,
            body: json!({ "title": "bad input" }),
        },
    };
    store.complete_message("msg_3", failed).await.unwrap();
    let message = store
        .get_message(Some("byr_b"), "msg_3")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(message.status, MessageStatus::Failed);
    assert_eq!(
        message.error,
        Some(json!({ "type": "about:blank", "title": "bad input" }))
    );
    assert_eq!(message.response.map(|r| r.status), Some(422));
}

async fn buyers_see_only_their_own(db: &TestDb) {
    let store = db.store.clone();
    buyer_with_message(&*store, "byr_a", "msg_a").await;
    buyer_with_message(&*store, "byr_b", "msg_b").await;
    for (buyer, message, order) in [("byr_a", "msg_a", "ord_a"), ("byr_b", "msg_b", "ord_b")] {
        let outcome = normalized(vec![new_order(order, message, buyer)]);
        store.complete_message(message, outcome).await.unwrap();
    }

    assert!(
        store
            .get_order(OrderScope::Buyer("byr_a"), "ord_a")
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(
        store
            .get_order(OrderScope::Buyer("byr_a"), "ord_b")
            .await
            .unwrap(),
        None
    );
    assert!(
        store
            .get_order(OrderScope::All, "ord_b")
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        store
            .get_message(Some("byr_b"), "msg_b")
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(
        store.get_message(Some("byr_b"), "msg_a").await.unwrap(),
        None
    );
    assert!(store.get_message(None, "msg_a").await.unwrap().is_some());

    let page = |buyer_id: Option<&str>| OrderQuery {
        buyer_id: buyer_id.map(str::to_owned),
        limit: 50,
        ..OrderQuery::default()
    };
    let ids = |page: crate::store::OrderPage| -> Vec<String> {
        page.orders.into_iter().map(|o| o.id).collect()
    };
    assert_eq!(
        ids(store.list_orders(page(Some("byr_a"))).await.unwrap()),
        ["ord_a"]
    );
    assert_eq!(
        ids(store.list_orders(page(Some("byr_b"))).await.unwrap()),
        ["ord_b"]
    );
    assert_eq!(
        ids(store.list_orders(page(None)).await.unwrap()),
        ["ord_b", "ord_a"]
    );
}

async fn order_pages_follow_the_cursor_newest_first(db: &TestDb) {
    let store = db.store.clone();
    buyer_with_message(&*store, "byr_a", "msg_1").await;
    let orders = (1..=5)
        .map(|i| new_order(&format!("ord_{i}"), "msg_1", "byr_a"))
        .collect();
    let outcome = normalized(orders);
    store.complete_message("msg_1", outcome).await.unwrap();

    let mut query = OrderQuery {
        buyer_id: Some("byr_a".to_owned()),
        status: Some(OrderStatus::Unrouted),
        limit: 2,
        ..OrderQuery::default()
    };
    let mut pages = Vec::new();
    loop {
        let page = store.list_orders(query.clone()).await.unwrap();
        pages.push(page.orders.iter().map(|o| o.id.clone()).collect::<Vec<_>>());
        match page.next_cursor {
            Some(cursor) => query.after = Some(cursor),
            None => break,
        }
    }
    assert_eq!(
        pages,
        [
            vec!["ord_5", "ord_4"],
            vec!["ord_3", "ord_2"],
            vec!["ord_1"]
        ]
    );

    // An exact fit has no empty trailing page; limits are clamped, not rejected.
    query.after = None;
    query.limit = 5;
    assert_eq!(
        store.list_orders(query.clone()).await.unwrap().next_cursor,
        None
    );
    query.limit = 0;
    assert_eq!(
        store.list_orders(query.clone()).await.unwrap().orders.len(),
        1
    );
    query.status = Some(OrderStatus::Delivered);
    assert!(store.list_orders(query).await.unwrap().orders.is_empty());
}

async fn pending_messages_are_the_received_ones_oldest_first(db: &TestDb) {
    let store = db.store.clone();
    for id in ["msg_1", "msg_2", "msg_3"] {
        buyer_with_message(&*store, "byr_a", id).await;
    }
    let failed = MessageOutcome::Failed {
        error: json!({ "title": "no" }),
        response: StoredResponse {
            status: 422,
            body: json!({ "message_id": "msg_1" }),
        },
    };
    store.complete_message("msg_2", failed).await.unwrap();

    let pending = store.pending_messages(None, 10).await.unwrap();
    let ids: Vec<_> = pending.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(ids, ["msg_1", "msg_3"]);
    // Paged by id: the next page starts after the last one seen.
    let next = store.pending_messages(Some("msg_1"), 10).await.unwrap();
    let ids: Vec<_> = next.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(ids, ["msg_3"]);
    assert!(
        store
            .pending_messages(Some("msg_3"), 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(pending[0].body, b"msg_1");
    assert_eq!(store.pending_messages(None, 1).await.unwrap().len(), 1);
}

async fn record_message_stores_the_message_its_outcome_and_orders_in_one_write(db: &TestDb) {
    let store = db.store.clone();
    store.create_buyer(new_buyer("byr_a")).await.unwrap();
    let plugin = crate::store::PluginRef {
        name: "canonical-json".into(),
        version: "1.0.0".into(),
    };
    let outcome = normalized(vec![new_order("ord_1", "msg_1", "byr_a")]);
    let recorded = store
        .record_message(
            new_message("msg_1", "byr_a", Some("k1"), "one"),
            Some((Some(plugin.clone()), outcome)),
        )
        .await
        .unwrap();
    let RecordedMessage::Stored(Some(answer)) = recorded else {
        panic!("expected a stored answer, got {recorded:?}");
    };
    assert_eq!(
        answer.body,
        json!({"message_id": "msg_1", "orders": [["ord_1", "PO-ord_1", "unrouted"]]})
    );
    let message = store.get_message(None, "msg_1").await.unwrap().unwrap();
    assert_eq!(message.status, MessageStatus::Normalized);
    assert_eq!(message.attempts, 1);
    assert_eq!(message.processed_by, Some(plugin));
    assert_eq!(message.response, Some(answer));
    assert_eq!(message.order_ids, vec!["ord_1".to_owned()]);
    assert_eq!(message.body, b"one");
    assert!(message.processed_at.is_some());

    // The same key again stores nothing and hands back the first message.
    let again = normalized(vec![new_order("ord_2", "msg_2", "byr_a")]);
    let recorded = store
        .record_message(
            new_message("msg_2", "byr_a", Some("k1"), "one"),
            Some((None, again)),
        )
        .await
        .unwrap();
    let RecordedMessage::Existing(existing) = recorded else {
        panic!("expected the existing message, got {recorded:?}");
    };
    assert_eq!(existing.id, "msg_1");
    assert!(store.get_message(None, "msg_2").await.unwrap().is_none());
    assert!(
        store
            .get_order(OrderScope::All, "ord_2")
            .await
            .unwrap()
            .is_none()
    );
}

async fn record_message_without_an_outcome_keeps_it_received_for_recovery(db: &TestDb) {
    let store = db.store.clone();
    store.create_buyer(new_buyer("byr_a")).await.unwrap();
    let recorded = store
        .record_message(new_message("msg_1", "byr_a", None, "one"), None)
        .await
        .unwrap();
    assert_eq!(recorded, RecordedMessage::Stored(None));
    let pending = store.pending_messages(None, 10).await.unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].id, "msg_1");
    assert_eq!(pending[0].attempts, 0);
    // Finished later like any received message.
    let outcome = normalized(vec![new_order("ord_1", "msg_1", "byr_a")]);
    store.complete_message("msg_1", outcome).await.unwrap();
    assert!(store.pending_messages(None, 10).await.unwrap().is_empty());
}

async fn record_message_refuses_orders_of_another_buyer_and_stores_nothing(db: &TestDb) {
    let store = db.store.clone();
    store.create_buyer(new_buyer("byr_a")).await.unwrap();
    store.create_buyer(new_buyer("byr_b")).await.unwrap();
    let outcome = normalized(vec![new_order("ord_1", "msg_1", "byr_b")]);
    let refused = store
        .record_message(
            new_message("msg_1", "byr_a", None, "one"),
            Some((None, outcome)),
        )
        .await;
    assert!(
        matches!(refused, Err(StoreError::Invalid(_))),
        "{refused:?}"
    );
    assert!(store.get_message(None, "msg_1").await.unwrap().is_none());
}

on_every_engine!(
    data_survives_close_and_reopen,
    buyers_are_unique_and_found_by_key_hash,
    idempotency_key_returns_the_existing_message,
    concurrent_posts_with_one_key_store_one_message,
    complete_message_stores_orders_once,
    complete_message_is_all_or_nothing,
    buyers_see_only_their_own,
    order_pages_follow_the_cursor_newest_first,
    pending_messages_are_the_received_ones_oldest_first,
    record_message_stores_the_message_its_outcome_and_orders_in_one_write,
    record_message_without_an_outcome_keeps_it_received_for_recovery,
    record_message_refuses_orders_of_another_buyer_and_stores_nothing,
);
