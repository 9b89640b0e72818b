//! Reminders in the store: each unanswered order is reminded once, on each enabled
//! channel of its craftsman, through the outbox; an answer first, or a second
//! decision, or a restart, adds nothing; and the reminder does not count in the
//! order's delivery status.

use chrono::{DateTime, Duration as TimeDelta, Utc};
use std::time::Duration;

use super::TestDb;
use super::outbox::{attempt, complete_one, routed_order};
use super::responses::{new, response};
use crate::store::{
    AttemptOutcome, DeliveryKind, DeliveryQuery, DeliveryState, NextStep, OrderQuery, OrderScope,
    OrderStatus, ReminderWindow, Store,
};
use jembatan_schemas::ResponseStatus;

const LEASE: Duration = Duration::from_secs(60);

/// Every order routed in the last hour, and none from before.
fn last_hour() -> ReminderWindow {
    let now = Utc::now();
    ReminderWindow {
        routed_by: now + TimeDelta::seconds(1),
        routed_after: now - TimeDelta::hours(1),
    }
}

async fn reminded_at(store: &dyn Store, order: &str) -> Option<DateTime<Utc>> {
    store
        .get_order(OrderScope::All, order)
        .await
        .unwrap()
        .unwrap()
        .reminded_at
}

/// The order's deliveries of `kind`, oldest first.
async fn deliveries(
    store: &dyn Store,
    order: &str,
    kind: DeliveryKind,
) -> Vec<crate::store::Delivery> {
    let mut found: Vec<_> = store
        .list_deliveries(DeliveryQuery {
            order_id: Some(order.to_owned()),
            limit: 200,
            ..DeliveryQuery::default()
        })
        .await
        .unwrap()
        .deliveries
        .into_iter()
        .filter(|d| d.kind == kind)
        .collect();
    found.reverse();
    found
}

async fn an_unanswered_order_is_reminded_once_on_each_enabled_channel(db: &TestDb) {
    let store = db.store.clone();
    routed_order(&*store, &["a", "b", "c"]).await;
    store
        .set_channel_enabled("crf_1", "chn_crf_1_c", false)
        .await
        .unwrap();
    let order = store
        .get_order(OrderScope::All, "ord_1")
        .await
        .unwrap()
        .unwrap();
    assert!(order.routed_at.is_some(), "{order:?}");
    assert_eq!(order.reminded_at, None);
    assert_eq!(
        store
            .next_reminder_from(last_hour().routed_after)
            .await
            .unwrap(),
        order.routed_at
    );

    let now = Utc::now();
    let decided = store.decide_reminders(last_hour(), now, 10).await.unwrap();
    assert_eq!(decided.len(), 1, "{decided:?}");
    assert_eq!(decided[0].order_id, "ord_1");
    assert_eq!(decided[0].craftsman_id, "crf_1");
    // The disabled channel gets none.
    assert_eq!(decided[0].deliveries.len(), 2, "{decided:?}");
    let reminded = reminded_at(&*store, "ord_1").await.unwrap();
    assert!(
        (reminded - now).num_milliseconds().abs() <= 1,
        "{reminded} {now}"
    );
    let reminders = deliveries(&*store, "ord_1", DeliveryKind::Reminder).await;
    let mut ids: Vec<_> = reminders.iter().map(|d| d.id.clone()).collect();
    ids.sort();
    let mut decided_ids = decided[0].deliveries.clone();
    decided_ids.sort();
    assert_eq!(ids, decided_ids);
    let mut channels: Vec<_> = reminders
        .iter()
        .map(|d| d.channel_id.clone().unwrap())
        .collect();
    channels.sort();
    assert_eq!(channels, ["chn_crf_1_a", "chn_crf_1_b"]);
    assert!(reminders.iter().all(|d| d.state == DeliveryState::Pending));
    // The order's own deliveries are untouched: one per channel, as routed.
    assert_eq!(
        deliveries(&*store, "ord_1", DeliveryKind::Order)
            .await
            .len(),
        3
    );

    // Decided once: neither another decision nor a restart decides it again.
    assert_eq!(
        store
            .decide_reminders(last_hour(), Utc::now(), 10)
            .await
            .unwrap(),
        vec![]
    );
    assert_eq!(
        store
            .next_reminder_from(last_hour().routed_after)
            .await
            .unwrap(),
        None
    );
    store.close().await;
    let store = db.reopen().await;
    assert_eq!(
        store
            .decide_reminders(last_hour(), Utc::now(), 10)
            .await
            .unwrap(),
        vec![]
    );
    assert_eq!(reminded_at(&*store, "ord_1").await, Some(reminded));
    // And the reminders wait in the outbox, claimed as reminders of their order.
    let claimed = store.claim_deliveries(Utc::now(), LEASE, 10).await.unwrap();
    let claimed_reminders: Vec<_> = claimed
        .iter()
        .filter(|c| c.kind == DeliveryKind::Reminder)
        .collect();
    assert_eq!(claimed_reminders.len(), 2, "{claimed:?}");
    for claim in claimed_reminders {
        assert_eq!(claim.order.id, "ord_1");
        assert_eq!(claim.order.reminded_at, Some(reminded));
        assert!(decided_ids.contains(&claim.id));
        assert_eq!(claim.response, None);
    }
}

async fn an_answer_before_the_reminder_is_due_cancels_it(db: &TestDb) {
    let store = db.store.clone();
    routed_order(&*store, &["a"]).await;
    complete_one(&*store, "byr_a", "msg_2", "ord_2").await;
    store
        .record_response(new(response("ord_1", 1, ResponseStatus::Accepted), None))
        .await
        .unwrap();
    let decided = store
        .decide_reminders(last_hour(), Utc::now(), 10)
        .await
        .unwrap();
    assert_eq!(
        decided
            .iter()
            .map(|d| d.order_id.as_str())
            .collect::<Vec<_>>(),
        ["ord_2"]
    );
    assert_eq!(reminded_at(&*store, "ord_1").await, None);
    assert!(
        deliveries(&*store, "ord_1", DeliveryKind::Reminder)
            .await
            .is_empty()
    );
    // An answer after the reminder changes nothing of it.
    store
        .record_response(new(response("ord_2", 1, ResponseStatus::Rejected), None))
        .await
        .unwrap();
    assert!(reminded_at(&*store, "ord_2").await.is_some());
    assert_eq!(
        deliveries(&*store, "ord_2", DeliveryKind::Reminder)
            .await
            .len(),
        1
    );
}

async fn only_orders_routed_in_the_window_are_reminded_oldest_first(db: &TestDb) {
    let store = db.store.clone();
    // Unrouted: it has no craftsman to remind, and no wait yet.
    complete_one(&*store, "byr_z", "msg_0", "ord_0").await;
    routed_order(&*store, &[]).await;
    complete_one(&*store, "byr_a", "msg_2", "ord_2").await;
    let routed = store
        .get_order(OrderScope::All, "ord_1")
        .await
        .unwrap()
        .unwrap()
        .routed_at
        .unwrap();
    // Not yet waited long enough.
    let early = ReminderWindow {
        routed_by: routed - TimeDelta::milliseconds(1),
        routed_after: routed - TimeDelta::hours(1),
    };
    assert_eq!(
        store.decide_reminders(early, Utc::now(), 10).await.unwrap(),
        vec![]
    );
    // Waited too long: past the horizon.
    let late = ReminderWindow {
        routed_by: Utc::now() + TimeDelta::hours(2),
        routed_after: Utc::now() + TimeDelta::hours(1),
    };
    assert_eq!(
        store.decide_reminders(late, Utc::now(), 10).await.unwrap(),
        vec![]
    );
    assert_eq!(
        store.next_reminder_from(late.routed_after).await.unwrap(),
        None
    );
    // In the window, a batch at a time, the oldest first; with only the inbox, a
    // reminder has no delivery but the order is still marked.
    let first = store
        .decide_reminders(last_hour(), Utc::now(), 1)
        .await
        .unwrap();
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].order_id, "ord_1");
    assert_eq!(first[0].deliveries, Vec::<String>::new());
    let second = store
        .decide_reminders(last_hour(), Utc::now(), 1)
        .await
        .unwrap();
    assert_eq!(second[0].order_id, "ord_2");
    assert_eq!(
        store
            .decide_reminders(last_hour(), Utc::now(), 1)
            .await
            .unwrap(),
        vec![]
    );
    let unrouted = store
        .get_order(OrderScope::All, "ord_0")
        .await
        .unwrap()
        .unwrap();
    assert_eq!((unrouted.routed_at, unrouted.reminded_at), (None, None));
}

async fn a_reminder_does_not_count_in_the_orders_status(db: &TestDb) {
    let store = db.store.clone();
    routed_order(&*store, &["a"]).await;
    let order_delivery = deliveries(&*store, "ord_1", DeliveryKind::Order).await[0]
        .id
        .clone();
    store.claim_deliveries(Utc::now(), LEASE, 10).await.unwrap();
    store
        .record_attempt(attempt(
            &order_delivery,
            1,
            AttemptOutcome::Succeeded,
            NextStep::Succeeded,
        ))
        .await
        .unwrap();
    let status = |store: std::sync::Arc<dyn Store>| async move {
        store
            .get_order(OrderScope::All, "ord_1")
            .await
            .unwrap()
            .unwrap()
            .status
    };
    assert_eq!(status(store.clone()).await, OrderStatus::Delivered);
    let decided = store
        .decide_reminders(last_hour(), Utc::now(), 10)
        .await
        .unwrap();
    let reminder = decided[0].deliveries[0].clone();
    // Pending, then dead: the order stays delivered.
    assert_eq!(status(store.clone()).await, OrderStatus::Delivered);
    let claimed = store.claim_deliveries(Utc::now(), LEASE, 10).await.unwrap();
    assert_eq!(claimed.len(), 1);
    assert_eq!(claimed[0].kind, DeliveryKind::Reminder);
    let dead = store
        .record_attempt(attempt(
            &reminder,
            1,
            AttemptOutcome::Permanent,
            NextStep::Dead,
        ))
        .await
        .unwrap();
    assert_eq!(
        (dead.kind, dead.state),
        (DeliveryKind::Reminder, DeliveryState::Dead)
    );
    assert_eq!(status(store.clone()).await, OrderStatus::Delivered);
    // An admin's retry sends it again, like any dead delivery.
    let retried = store.retry_delivery(&reminder).await.unwrap();
    assert_eq!(retried.state, DeliveryState::Pending);
    assert_eq!(status(store).await, OrderStatus::Delivered);
}

async fn orders_past_the_wait_without_an_answer_are_listed(db: &TestDb) {
    let store = db.store.clone();
    routed_order(&*store, &["a"]).await;
    complete_one(&*store, "byr_a", "msg_2", "ord_2").await;
    complete_one(&*store, "byr_a", "msg_3", "ord_3").await;
    complete_one(&*store, "byr_z", "msg_4", "ord_4").await; // unrouted
    store
        .record_response(new(response("ord_2", 1, ResponseStatus::Accepted), None))
        .await
        .unwrap();
    let ord_3 = store
        .get_order(OrderScope::All, "ord_3")
        .await
        .unwrap()
        .unwrap();
    let listed = |since: DateTime<Utc>, craftsman: Option<&str>| {
        let store = store.clone();
        let craftsman = craftsman.map(str::to_owned);
        async move {
            store
                .list_orders(OrderQuery {
                    awaiting_response_since: Some(since),
                    craftsman_id: craftsman,
                    limit: 50,
                    ..OrderQuery::default()
                })
                .await
                .unwrap()
                .orders
                .into_iter()
                .map(|o| o.id)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        listed(Utc::now() + TimeDelta::seconds(1), None).await,
        ["ord_3", "ord_1"]
    );
    // Combined with the other filters.
    assert_eq!(
        listed(Utc::now() + TimeDelta::seconds(1), Some("crf_2")).await,
        Vec::<String>::new()
    );
    // Only those routed by then.
    let routed_3 = ord_3.routed_at.unwrap();
    let listed_then = listed(routed_3 - TimeDelta::milliseconds(1), Some("crf_1")).await;
    assert!(
        !listed_then.contains(&"ord_3".to_owned()),
        "{listed_then:?}"
    );
}

on_every_engine!(
    an_unanswered_order_is_reminded_once_on_each_enabled_channel,
    an_answer_before_the_reminder_is_due_cancels_it,
    only_orders_routed_in_the_window_are_reminded_oldest_first,
    a_reminder_does_not_count_in_the_orders_status,
    orders_past_the_wait_without_an_answer_are_listed,
);
