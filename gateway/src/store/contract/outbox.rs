//! The outbox in the store: routing writes deliveries with the order, attempts move
//! them on, and the order's status follows.

use chrono::{Duration as TimeDelta, SubsecRound, Utc};
use std::time::Duration;

use super::{TestDb, buyer_with_message, new_buyer, new_order, normalized};
use crate::model::{ChannelTarget, Language};
use crate::store::{
    AttemptOutcome, DeliveryState, EarlyStatusKept, NewAttempt, NewChannel, NewCraftsman, NextStep,
    OrderScope, OrderStatus, Receipt, Reopen, Retention, Store, StoreError, WhatsAppStatus,
};

const LEASE: Duration = Duration::from_secs(60);

pub(crate) fn craftsman(id: &str, channels: &[&str]) -> NewCraftsman {
    NewCraftsman {
        id: id.to_owned(),
        name: format!("Bengkel {id}"),
        language: Language::Indonesian,
        token_hash: format!("token-of-{id}"),
        channels: channels
            .iter()
            .map(|channel| NewChannel {
                id: format!("chn_{id}_{channel}"),
                target: ChannelTarget::Webhook {
                    url: format!("https://{id}.example/{channel}"),
                    secret: Some("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".into()),
                    order_schema: None,
                },
            })
            .collect(),
    }
}

pub(crate) async fn order_status(store: &dyn Store, id: &str) -> OrderStatus {
    store
        .get_order(OrderScope::All, id)
        .await
        .unwrap()
        .unwrap()
        .status
}

pub(crate) fn attempt(id: &str, n: u32, outcome: AttemptOutcome, next: NextStep) -> NewAttempt {
    NewAttempt {
        delivery_id: id.to_owned(),
        attempt: n,
        started_at: Utc::now(),
        duration_ms: 3,
        outcome,
        status_code: Some(if outcome == AttemptOutcome::Succeeded {
            204
        } else {
            500
        }),
        error: (outcome != AttemptOutcome::Succeeded).then(|| "HTTP 500".to_owned()),
        message_id: None,
        delivered_parts: Vec::new(),
        spends_schedule: true,
        next,
    }
}

pub(super) async fn complete_one(store: &dyn Store, buyer: &str, message: &str, order: &str) {
    buyer_with_message(store, buyer, message).await;
    store
        .complete_message(message, normalized(vec![new_order(order, message, buyer)]))
        .await
        .unwrap();
}

/// Craftsman `crf_1` with a webhook channel per name in `channels`, buyer `byr_a`
/// routing `CRAFT-1` (every test order's supplier code) to them, and order `ord_1`
/// (from message `msg_1`) stored after the route, so routed as it is stored.
pub(crate) async fn routed_order(store: &dyn Store, channels: &[&str]) {
    store
        .create_craftsman(craftsman("crf_1", channels))
        .await
        .unwrap();
    store.create_buyer(new_buyer("byr_a")).await.unwrap();
    store.put_route("byr_a", "CRAFT-1", "crf_1").await.unwrap();
    complete_one(store, "byr_a", "msg_1", "ord_1").await;
}

async fn an_order_without_a_route_waits_and_is_routed_when_the_route_comes(db: &TestDb) {
    let store = db.store.clone();
    complete_one(&*store, "byr_a", "msg_1", "ord_1").await;
    assert_eq!(order_status(&*store, "ord_1").await, OrderStatus::Unrouted);
    assert_eq!(store.delivery_stats().await.unwrap().unrouted_orders, 1);

    store
        .create_craftsman(craftsman("crf_1", &["a", "b"]))
        .await
        .unwrap();
    let change = store.put_route("byr_a", "CRAFT-1", "crf_1").await.unwrap();
    assert_eq!(change.routed_orders, vec!["ord_1".to_owned()]);
    let order = store
        .get_order(OrderScope::Craftsman("crf_1"), "ord_1")
        .await
        .unwrap();
    assert_eq!(order.unwrap().status, OrderStatus::Received);
    assert_eq!(store.delivery_stats().await.unwrap().pending, 2);

    // The next order is routed in the transaction that stores it.
    complete_one(&*store, "byr_a", "msg_2", "ord_2").await;
    assert_eq!(order_status(&*store, "ord_2").await, OrderStatus::Received);
    assert_eq!(store.delivery_stats().await.unwrap().pending, 4);
    // Another craftsman's scope does not see it.
    store
        .create_craftsman(craftsman("crf_2", &[]))
        .await
        .unwrap();
    assert_eq!(
        store
            .get_order(OrderScope::Craftsman("crf_2"), "ord_2")
            .await
            .unwrap(),
        None
    );
}

async fn a_craftsman_with_only_the_inbox_has_the_order_delivered_at_once(db: &TestDb) {
    let store = db.store.clone();
    routed_order(&*store, &[]).await;
    assert_eq!(order_status(&*store, "ord_1").await, OrderStatus::Delivered);
}

async fn attempts_retry_then_die_then_an_admin_retry_delivers(db: &TestDb) {
    let store = db.store.clone();
    routed_order(&*store, &["a"]).await;

    let claimed = store.claim_deliveries(Utc::now(), LEASE, 10).await.unwrap();
    assert_eq!(claimed.len(), 1);
    let first = &claimed[0];
    assert_eq!((first.attempt, first.attempts_in_schedule), (1, 0));
    assert_eq!(first.order.id, "ord_1");
    assert_eq!(first.buyer_name, "Buyer byr_a");
    assert_eq!(first.craftsman_name, "Bengkel crf_1");
    // Claimed: a second claim does not take it again.
    assert!(
        store
            .claim_deliveries(Utc::now(), LEASE, 10)
            .await
            .unwrap()
            .is_empty()
    );

    assert!(first.delivered_parts.is_empty());

    // The first attempt delivered a part before failing: the next claim knows it.
    let later = Utc::now() + TimeDelta::seconds(30);
    let mut failed = attempt(
        &first.id,
        1,
        AttemptOutcome::Retry,
        NextStep::RetryAt(later),
    );
    failed.delivered_parts = vec!["text".to_owned()];
    let d = store.record_attempt(failed).await.unwrap();
    assert_eq!(
        (d.state, d.attempts, d.last_status_code),
        (DeliveryState::Pending, 1, Some(500))
    );
    assert_eq!(
        store.next_due_at().await.unwrap(),
        Some(later.trunc_subsecs(3))
    );
    // Not due yet; then due.
    assert!(
        store
            .claim_deliveries(Utc::now(), LEASE, 10)
            .await
            .unwrap()
            .is_empty()
    );
    let again = store.claim_deliveries(later, LEASE, 10).await.unwrap();
    assert_eq!((again[0].attempt, again[0].attempts_in_schedule), (2, 1));
    assert_eq!(again[0].delivered_parts, ["text"]);
    // Recording attempt 1 twice is refused: each attempt is recorded once.
    let twice = store
        .record_attempt(attempt(&first.id, 1, AttemptOutcome::Retry, NextStep::Dead))
        .await;
    assert!(matches!(twice, Err(StoreError::Conflict(_))), "{twice:?}");

    let d = store
        .record_attempt(attempt(&first.id, 2, AttemptOutcome::Retry, NextStep::Dead))
        .await
        .unwrap();
    assert_eq!(d.state, DeliveryState::Dead);
    assert_eq!(order_status(&*store, "ord_1").await, OrderStatus::Failed);

    let d = store.retry_delivery(&first.id).await.unwrap();
    assert_eq!(d.state, DeliveryState::Pending);
    assert_eq!(order_status(&*store, "ord_1").await, OrderStatus::Received);
    let third = store.claim_deliveries(Utc::now(), LEASE, 10).await.unwrap();
    // The schedule starts anew after an admin's retry.
    assert_eq!((third[0].attempt, third[0].attempts_in_schedule), (3, 0));
    let d = store
        .record_attempt(attempt(
            &first.id,
            3,
            AttemptOutcome::Succeeded,
            NextStep::Succeeded,
        ))
        .await
        .unwrap();
    assert_eq!(d.state, DeliveryState::Succeeded);
    assert!(d.delivered_at.is_some());
    assert_eq!(order_status(&*store, "ord_1").await, OrderStatus::Delivered);
    let log = store.delivery_attempts(&first.id).await.unwrap();
    let outcomes: Vec<_> = log.iter().map(|a| (a.attempt, a.outcome)).collect();
    assert_eq!(
        outcomes,
        [
            (1, AttemptOutcome::Retry),
            (2, AttemptOutcome::Retry),
            (3, AttemptOutcome::Succeeded)
        ]
    );
    assert!(matches!(
        store.retry_delivery(&first.id).await,
        Err(StoreError::Conflict(_))
    ));
}

async fn gone_disables_the_channel_and_its_other_deliveries(db: &TestDb) {
    let store = db.store.clone();
    routed_order(&*store, &["a"]).await;
    complete_one(&*store, "byr_a", "msg_2", "ord_2").await;
    let claimed = store.claim_deliveries(Utc::now(), LEASE, 1).await.unwrap();
    store
        .record_attempt(NewAttempt {
            error: Some("410 Gone".into()),
            status_code: Some(410),
            ..attempt(&claimed[0].id, 1, AttemptOutcome::Disable, NextStep::Dead)
        })
        .await
        .unwrap();
    let channel = &store
        .get_craftsman("crf_1")
        .await
        .unwrap()
        .unwrap()
        .channels[0];
    assert!(channel.disabled_at.is_some());
    assert_eq!(order_status(&*store, "ord_1").await, OrderStatus::Failed);
    assert_eq!(order_status(&*store, "ord_2").await, OrderStatus::Failed);
    let stats = store.delivery_stats().await.unwrap();
    assert_eq!((stats.pending, stats.dead), (0, 2));
    // A retry waits for the channel to be enabled.
    let refused = store.retry_delivery(&claimed[0].id).await;
    assert!(
        matches!(refused, Err(StoreError::Conflict(ref m)) if m.contains("disabled")),
        "{refused:?}"
    );
    store
        .set_channel_enabled("crf_1", &channel.id, true)
        .await
        .unwrap();
    assert_eq!(
        store.retry_delivery(&claimed[0].id).await.unwrap().state,
        DeliveryState::Pending
    );
}

/// A claim holds its delivery for its lease, and no longer: one whose lease ran out
/// (its worker died with it) is claimed again. What an engine's start does with
/// the claims it finds is its own (`release_claims`), tested beside each engine.
async fn a_lapsed_lease_is_claimed_again(db: &TestDb) {
    let store = db.store.clone();
    routed_order(&*store, &["a"]).await;
    let now = Utc::now();
    assert_eq!(
        store.claim_deliveries(now, LEASE, 10).await.unwrap().len(),
        1
    );
    assert!(
        store
            .claim_deliveries(now, LEASE, 10)
            .await
            .unwrap()
            .is_empty(),
        "the lease holds"
    );
    assert_eq!(store.next_due_at().await.unwrap(), None, "claimed");
    let lapsed = now + LEASE + TimeDelta::seconds(1);
    let again = store.claim_deliveries(lapsed, LEASE, 10).await.unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].attempt, 1, "no attempt was recorded");
}

/// A paused channel's attempt keeps the schedule; a message's receipts only move
/// forward; a late failure reopens the delivery it was sent for, once.
async fn receipts_reopen_and_paused_attempts(db: &TestDb) {
    let store = db.store.clone();
    routed_order(&*store, &["a"]).await;
    let claimed = store.claim_deliveries(Utc::now(), LEASE, 10).await.unwrap();
    let id = claimed[0].id.clone();
    assert_eq!(claimed[0].whatsapp, None, "not a WhatsApp channel");

    let now = Utc::now();
    store
        .record_attempt(NewAttempt {
            spends_schedule: false,
            ..attempt(&id, 1, AttemptOutcome::Retry, NextStep::RetryAt(now))
        })
        .await
        .unwrap();
    let again = store.claim_deliveries(now, LEASE, 10).await.unwrap();
    assert_eq!((again[0].attempt, again[0].attempts_in_schedule), (2, 0));

    store
        .record_attempt(NewAttempt {
            message_id: Some("wamid.7".into()),
            ..attempt(&id, 2, AttemptOutcome::Succeeded, NextStep::Succeeded)
        })
        .await
        .unwrap();
    assert!(
        store
            .record_receipt("wamid.7", Receipt::Read, now)
            .await
            .unwrap()
    );
    assert!(
        !store
            .record_receipt("wamid.7", Receipt::Delivered, now)
            .await
            .unwrap(),
        "a receipt never moves back"
    );
    let sent = store.sent_message("wamid.7").await.unwrap().unwrap();
    assert_eq!(
        (sent.attempt, sent.attempts, sent.receipt),
        (2, 2, Some(Receipt::Read))
    );
    assert_eq!(sent.state, DeliveryState::Succeeded);
    assert_eq!(store.sent_message("wamid.unknown").await.unwrap(), None);

    let reopen = Reopen {
        delivery_id: id.clone(),
        attempt: 2,
        outcome: AttemptOutcome::Permanent,
        error: "error 131026: Message undeliverable".into(),
        next: NextStep::Dead,
        failed_at: now,
    };
    let d = store
        .reopen_delivery(reopen.clone())
        .await
        .unwrap()
        .unwrap();
    assert_eq!((d.state, d.delivered_at), (DeliveryState::Dead, None));
    assert_eq!(order_status(&*store, "ord_1").await, OrderStatus::Failed);
    let log = store.delivery_attempts(&id).await.unwrap();
    assert_eq!(log[1].outcome, AttemptOutcome::Permanent);
    assert_eq!(log[1].receipt, Some(Receipt::Failed));
    assert_eq!(log[1].message_id.as_deref(), Some("wamid.7"));
    assert_eq!(
        store.reopen_delivery(reopen).await.unwrap(),
        None,
        "reopened once"
    );
}

/// A WhatsApp status for a message no attempt names is kept, across a restart: the
/// one furthest along, as many as the caller allows; once an attempt names the
/// message it is not kept but left to the caller; it is forgotten when applied, and
/// retention deletes the old ones.
async fn early_whatsapp_statuses_wait_for_their_attempt(db: &TestDb) {
    let store = db.store.clone();
    routed_order(&*store, &["a"]).await;
    let at = Utc::now().trunc_subsecs(0);
    let status = |wamid: &str, receipt| WhatsAppStatus {
        wamid: wamid.to_owned(),
        receipt,
        at,
        recipient_id: "6281234567890".into(),
        error_code: None,
        error: None,
    };
    let failed = WhatsAppStatus {
        error_code: Some(131049),
        error: Some("error 131049: not delivered".into()),
        ..status("wamid.1", Receipt::Failed)
    };
    for (kept, max) in [
        (status("wamid.1", Receipt::Sent), 2),
        (failed.clone(), 2),
        (status("wamid.1", Receipt::Delivered), 2),
        (status("wamid.2", Receipt::Sent), 2),
    ] {
        let answer = store.keep_early_whatsapp_status(kept, max).await.unwrap();
        assert_eq!(answer, EarlyStatusKept::Kept);
    }
    let full = store
        .keep_early_whatsapp_status(status("wamid.3", Receipt::Sent), 2)
        .await
        .unwrap();
    assert_eq!(full, EarlyStatusKept::Full);
    assert_eq!(store.early_whatsapp_status("wamid.3").await.unwrap(), None);

    store.close().await;
    let store = db.reopen().await;
    assert_eq!(
        store.early_whatsapp_status("wamid.1").await.unwrap(),
        Some(failed),
        "the failure, furthest along, outlives the restart"
    );

    let claimed = store.claim_deliveries(Utc::now(), LEASE, 10).await.unwrap();
    store
        .record_attempt(NewAttempt {
            message_id: Some("wamid.1".into()),
            ..attempt(
                &claimed[0].id,
                1,
                AttemptOutcome::Succeeded,
                NextStep::Succeeded,
            )
        })
        .await
        .unwrap();
    let named = store
        .keep_early_whatsapp_status(status("wamid.1", Receipt::Read), 2)
        .await
        .unwrap();
    assert_eq!(named, EarlyStatusKept::AttemptKnown);
    assert_eq!(
        store.named_early_whatsapp_statuses(10).await.unwrap(),
        ["wamid.1"],
        "kept, and its attempt recorded"
    );
    store.forget_early_whatsapp_status("wamid.1").await.unwrap();
    assert!(
        store
            .named_early_whatsapp_statuses(10)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(store.early_whatsapp_status("wamid.1").await.unwrap(), None);

    let later = Utc::now() + TimeDelta::minutes(1);
    let past = Utc::now() - TimeDelta::days(1);
    let retention = |early_statuses_before| Retention {
        failed_bodies_before: past,
        finished_bodies_before: past,
        attempts_before: past,
        early_statuses_before,
        batch: 10,
    };
    assert_eq!(store.purge(&retention(past)).await.unwrap().total(), 0);
    assert_eq!(
        store.purge(&retention(later)).await.unwrap().early_statuses,
        1
    );
    assert_eq!(store.early_whatsapp_status("wamid.2").await.unwrap(), None);
}

/// Opt-in and the service window, kept per WhatsApp number, reach the claim.
async fn whatsapp_contacts_reach_the_claim(db: &TestDb) {
    let store = db.store.clone();
    let mut jaya = craftsman("crf_1", &[]);
    jaya.channels.push(NewChannel {
        id: "chn_wa".into(),
        target: ChannelTarget::Whatsapp {
            to: "6281234567890".into(),
        },
    });
    store.create_craftsman(jaya).await.unwrap();
    store.create_buyer(new_buyer("byr_a")).await.unwrap();
    store.put_route("byr_a", "CRAFT-1", "crf_1").await.unwrap();

    let wrote = Utc::now().trunc_subsecs(3);
    assert!(
        !store
            .record_whatsapp_inbound("6289999999999", wrote)
            .await
            .unwrap(),
        "a stranger"
    );
    assert!(
        store
            .record_whatsapp_inbound("6281234567890", wrote)
            .await
            .unwrap()
    );
    let contact = store
        .set_whatsapp_opt_in("6281234567890", Some("form".into()))
        .await
        .unwrap();
    assert!(contact.opted_in_at.is_some());
    assert_eq!(contact.last_inbound_at, Some(wrote));
    complete_one(&*store, "byr_a", "msg_1", "ord_1").await;
    let claimed = store.claim_deliveries(Utc::now(), LEASE, 10).await.unwrap();
    assert_eq!(claimed[0].whatsapp.as_ref(), Some(&contact));

    store
        .close_whatsapp_window("6281234567890", wrote + TimeDelta::seconds(1))
        .await
        .unwrap();
    let contact = store
        .whatsapp_contact("6281234567890")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(contact.last_inbound_at, None);
    assert_eq!(store.whatsapp_contact("6289999999999").await.unwrap(), None);

    store
        .move_channel(
            "chn_wa",
            ChannelTarget::Whatsapp {
                to: "6281111111111".into(),
            },
        )
        .await
        .unwrap();
    let wrong_kind = store
        .move_channel(
            "chn_wa",
            ChannelTarget::Telegram {
                chat_id: "1".into(),
            },
        )
        .await;
    assert!(
        matches!(wrong_kind, Err(StoreError::Invalid(_))),
        "{wrong_kind:?}"
    );
}

on_every_engine!(
    receipts_reopen_and_paused_attempts,
    early_whatsapp_statuses_wait_for_their_attempt,
    whatsapp_contacts_reach_the_claim,
    an_order_without_a_route_waits_and_is_routed_when_the_route_comes,
    a_craftsman_with_only_the_inbox_has_the_order_delivered_at_once,
    attempts_retry_then_die_then_an_admin_retry_delivers,
    gone_disables_the_channel_and_its_other_deliveries,
    a_lapsed_lease_is_claimed_again,
);
