//! Craftsmen's responses in the store: kept whole and in turn, the order's answer
//! beside it, and each carried to the buyer's callback by the outbox.

use chrono::Utc;
use serde_json::json;
use std::time::Duration;

use super::{TestDb, buyer_with_message, new_buyer, new_order, normalized};
use crate::model::{ChannelTarget, Language};
use crate::orders::OrderSchema;
use crate::store::{
    AttemptOutcome, BuyerCallback, CALLBACK_CHANNEL, DeliveryState, NewAttempt, NewCraftsman,
    NewResponse, NextStep, OrderQuery, OrderScope, OrderStatus, ResponseFilter, Store, StoreError,
};
use jembatan_schemas::{OrderResponse, ResponseStatus};

const LEASE: Duration = Duration::from_secs(60);
const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/// Buyer `byr_a`, craftsman `crf_1` with only the inbox, and orders `ord_1` and
/// `ord_2` routed to them.
async fn two_routed_orders(store: &dyn Store) {
    store
        .create_craftsman(NewCraftsman {
            id: "crf_1".into(),
            name: "Bengkel crf_1".into(),
            language: Language::Indonesian,
            token_hash: "token-of-crf_1".into(),
            channels: Vec::new(),
        })
        .await
        .unwrap();
    store.create_buyer(new_buyer("byr_a")).await.unwrap();
    store.put_route("byr_a", "CRAFT-1", "crf_1").await.unwrap();
    for n in ["1", "2"] {
        let message = format!("msg_{n}");
        let order = format!("ord_{n}");
        buyer_with_message(store, "byr_a", &message).await;
        store
            .complete_message(
                &message,
                normalized(vec![new_order(&order, &message, "byr_a")]),
            )
            .await
            .unwrap();
    }
}

/// Response `sequence` to `order`, of `status` (a rejection with its reason).
pub(super) fn response(order: &str, sequence: u32, status: ResponseStatus) -> OrderResponse {
    let mut value = json!({
        "version": "1",
        "id": format!("rsp_{order}_{sequence}"),
        "order_id": order,
        "buyer_order_number": format!("PO-{order}"),
        "sequence": sequence,
        "issued_at": "2026-11-28T08:00:00Z",
        "status": status.as_str(),
        "responder": {"craftsman_id": "crf_1", "name": "Bengkel crf_1"},
        "via": "api",
    });
    if sequence > 1 {
        value["supersedes"] = json!(format!("rsp_{order}_{}", sequence - 1));
    }
    match status {
        ResponseStatus::Rejected => value["reason"] = json!("Mesin bubut rusak"),
        ResponseStatus::AcceptedWithChanges => {
            value["promised_delivery_date"] = json!("2026-12-20");
            value["lines"] = json!([{"line_number": "1", "quantity": "2"}]);
        }
        ResponseStatus::Accepted => {}
    }
    serde_json::from_value(value).unwrap()
}

pub(super) fn new(response: OrderResponse, event_key: Option<&str>) -> NewResponse {
    NewResponse {
        response,
        event_key: event_key.map(str::to_owned),
    }
}

async fn answered(store: &dyn Store, filter: ResponseFilter) -> Vec<String> {
    store
        .list_orders(OrderQuery {
            buyer_id: Some("byr_a".into()),
            response: Some(filter),
            limit: 50,
            ..OrderQuery::default()
        })
        .await
        .unwrap()
        .orders
        .into_iter()
        .map(|o| o.id)
        .collect()
}

async fn responses_are_kept_in_turn_and_the_latest_is_the_orders_answer(db: &TestDb) {
    let store = db.store.clone();
    two_routed_orders(&*store).await;
    let order = store
        .get_order(OrderScope::All, "ord_1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(order.response, None);
    assert_eq!(
        answered(&*store, ResponseFilter::Awaiting).await,
        ["ord_2", "ord_1"]
    );

    let first = response("ord_1", 1, ResponseStatus::Accepted);
    let recorded = store
        .record_response(new(first.clone(), None))
        .await
        .unwrap();
    assert_eq!(recorded.response, first);
    // The buyer has no callback: nothing to deliver.
    assert_eq!(recorded.callback_delivery, None);
    let second = response("ord_1", 2, ResponseStatus::AcceptedWithChanges);
    store
        .record_response(new(second.clone(), Some("tg:cb-1")))
        .await
        .unwrap();

    assert_eq!(
        store.order_responses("ord_1").await.unwrap(),
        [first, second.clone()]
    );
    assert_eq!(store.order_responses("ord_2").await.unwrap(), []);
    let order = store
        .get_order(OrderScope::Buyer("byr_a"), "ord_1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(order.response, Some(ResponseStatus::AcceptedWithChanges));
    // Delivered to the inbox, and still so: the answer is not the delivery.
    assert_eq!(order.status, OrderStatus::Delivered);
    assert_eq!(
        answered(
            &*store,
            ResponseFilter::Latest(ResponseStatus::AcceptedWithChanges)
        )
        .await,
        ["ord_1"]
    );
    assert_eq!(
        answered(&*store, ResponseFilter::Latest(ResponseStatus::Accepted)).await,
        Vec::<String>::new()
    );
    assert_eq!(answered(&*store, ResponseFilter::Awaiting).await, ["ord_2"]);
    assert_eq!(
        store.response_by_event("tg:cb-1").await.unwrap(),
        Some(second)
    );
    assert_eq!(store.response_by_event("tg:cb-2").await.unwrap(), None);
}

async fn a_response_out_of_turn_or_from_a_replayed_event_stores_nothing(db: &TestDb) {
    let store = db.store.clone();
    two_routed_orders(&*store).await;
    store
        .record_response(new(
            response("ord_1", 1, ResponseStatus::Accepted),
            Some("wa:1"),
        ))
        .await
        .unwrap();
    // Two answers racing for one place: the second is refused.
    let mut racing = response("ord_1", 1, ResponseStatus::Rejected);
    racing.id = "rsp_racing".into();
    let refused = store.record_response(new(racing, None)).await;
    assert!(
        matches!(refused, Err(StoreError::Conflict(_))),
        "{refused:?}"
    );
    // A place further on than the next.
    let refused = store
        .record_response(new(response("ord_1", 3, ResponseStatus::Rejected), None))
        .await;
    assert!(
        matches!(refused, Err(StoreError::Conflict(_))),
        "{refused:?}"
    );
    // The same chat event again, even for another order.
    let refused = store
        .record_response(new(
            response("ord_2", 1, ResponseStatus::Accepted),
            Some("wa:1"),
        ))
        .await;
    assert!(
        matches!(refused, Err(StoreError::Conflict(_))),
        "{refused:?}"
    );
    // An order that does not exist.
    let refused = store
        .record_response(new(response("ord_9", 1, ResponseStatus::Accepted), None))
        .await;
    assert!(matches!(refused, Err(StoreError::NotFound)), "{refused:?}");
    // Nothing of them was kept.
    assert_eq!(store.order_responses("ord_1").await.unwrap().len(), 1);
    assert_eq!(store.order_responses("ord_2").await.unwrap(), []);
    let order = store
        .get_order(OrderScope::All, "ord_2")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(order.response, None);
}

async fn each_response_goes_to_the_buyers_callback_through_the_outbox(db: &TestDb) {
    let store = db.store.clone();
    two_routed_orders(&*store).await;
    let buyer = store
        .set_buyer_callback(
            "byr_a",
            Some(BuyerCallback {
                url: "https://buyer.example/hooks".into(),
                secret: Some(SECRET.into()),
            }),
        )
        .await
        .unwrap();
    assert_eq!(
        buyer.callback_url.as_deref(),
        Some("https://buyer.example/hooks")
    );
    let accepted = response("ord_1", 1, ResponseStatus::Accepted);
    let recorded = store
        .record_response(new(accepted.clone(), None))
        .await
        .unwrap();
    let delivery_id = recorded.callback_delivery.expect("a callback delivery");

    let claimed = store.claim_deliveries(Utc::now(), LEASE, 10).await.unwrap();
    assert_eq!(claimed.len(), 1);
    let claim = &claimed[0];
    assert_eq!(claim.id, delivery_id);
    assert_eq!(claim.channel_id, None);
    assert_eq!(claim.response.as_ref(), Some(&accepted));
    assert_eq!(claim.order.id, "ord_1");
    assert_eq!(
        claim.target,
        ChannelTarget::Webhook {
            url: "https://buyer.example/hooks".into(),
            secret: Some(SECRET.into()),
            order_schema: Some(OrderSchema::V2),
        }
    );
    let delivery = store.get_delivery(&delivery_id).await.unwrap().unwrap();
    assert_eq!(delivery.channel, CALLBACK_CHANNEL);
    assert_eq!(delivery.response_id.as_deref(), Some(accepted.id.as_str()));
    assert_eq!(
        (delivery.channel_id, delivery.craftsman_id.as_str()),
        (None, "crf_1")
    );

    // Dead after a refusal, with the same dead letters as orders; the order's own
    // delivery status does not follow its buyer's callback.
    store
        .record_attempt(NewAttempt {
            delivery_id: delivery_id.clone(),
            attempt: 1,
            started_at: Utc::now(),
            duration_ms: 2,
            outcome: AttemptOutcome::Permanent,
            status_code: Some(410),
            error: Some("gone".into()),
            message_id: None,
            delivered_parts: Vec::new(),
            spends_schedule: true,
            next: NextStep::Dead,
        })
        .await
        .unwrap();
    let order = store
        .get_order(OrderScope::All, "ord_1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(order.status, OrderStatus::Delivered);
    let delivery = store.retry_delivery(&delivery_id).await.unwrap();
    assert_eq!(delivery.state, DeliveryState::Pending);
}

async fn removing_the_callback_kills_what_waits_for_it(db: &TestDb) {
    let store = db.store.clone();
    two_routed_orders(&*store).await;
    let callback = |secret: Option<&str>| BuyerCallback {
        url: "https://buyer.example/hooks".into(),
        secret: secret.map(str::to_owned),
    };
    // A first callback needs a secret; a later one may keep it.
    let refused = store
        .set_buyer_callback("byr_a", Some(callback(None)))
        .await;
    assert!(
        matches!(refused, Err(StoreError::Invalid(_))),
        "{refused:?}"
    );
    store
        .set_buyer_callback("byr_a", Some(callback(Some(SECRET))))
        .await
        .unwrap();
    let mut moved = callback(None);
    moved.url = "https://buyer.example/v2/hooks".into();
    store
        .set_buyer_callback("byr_a", Some(moved))
        .await
        .unwrap();
    let delivery_id = store
        .record_response(new(response("ord_1", 1, ResponseStatus::Accepted), None))
        .await
        .unwrap()
        .callback_delivery
        .unwrap();
    let claimed = store.claim_deliveries(Utc::now(), LEASE, 10).await.unwrap();
    assert_eq!(
        claimed[0].target,
        ChannelTarget::Webhook {
            url: "https://buyer.example/v2/hooks".into(),
            secret: Some(SECRET.into()),
            order_schema: Some(OrderSchema::V2),
        },
        "the new URL, the secret kept"
    );
    store.release_claims().await.unwrap();

    let buyer = store.set_buyer_callback("byr_a", None).await.unwrap();
    assert_eq!(buyer.callback_url, None);
    let delivery = store.get_delivery(&delivery_id).await.unwrap().unwrap();
    assert_eq!(delivery.state, DeliveryState::Dead);
    assert_eq!(
        delivery.last_error.as_deref(),
        Some("the buyer's callback_url was removed")
    );
    let refused = store.retry_delivery(&delivery_id).await;
    assert!(
        matches!(refused, Err(StoreError::Conflict(_))),
        "{refused:?}"
    );
    // A response now goes nowhere.
    let recorded = store
        .record_response(new(response("ord_2", 1, ResponseStatus::Accepted), None))
        .await
        .unwrap();
    assert_eq!(recorded.callback_delivery, None);
    // With a callback again, the dead one can be retried.
    store
        .set_buyer_callback("byr_a", Some(callback(Some(SECRET))))
        .await
        .unwrap();
    assert_eq!(
        store.retry_delivery(&delivery_id).await.unwrap().state,
        DeliveryState::Pending
    );
    let refused = store.set_buyer_callback("byr_zz", None).await;
    assert!(matches!(refused, Err(StoreError::NotFound)), "{refused:?}");
}

on_every_engine!(
    responses_are_kept_in_turn_and_the_latest_is_the_orders_answer,
    a_response_out_of_turn_or_from_a_replayed_event_stores_nothing,
    each_response_goes_to_the_buyers_callback_through_the_outbox,
    removing_the_callback_kills_what_waits_for_it,
);
