//! One outcome per transaction of a message (issue 14): good orders stored beside a
//! refused sibling, a refused transaction replayed alone, and an order never made
//! twice.

use serde_json::json;

use super::{TestDb, buyer_with_message, created, new_order};
use crate::store::{
    MessageOutcome, MessageQuery, MessageStatus, NewTransaction, NewTransactionOutcome, StoreError,
    TransactionStatus,
};

fn refused(index: u32, control_number: &str, code: &str) -> NewTransaction {
    NewTransaction {
        index,
        control_number: Some(control_number.to_owned()),
        outcome: NewTransactionOutcome::Refused {
            error: json!({ "code": code, "message": "no PO1 segment" }),
        },
        warnings: vec![json!({ "code": "segment-count-mismatch", "message": "SE01 says 9" })],
    }
}

fn invoice(index: u32) -> NewTransaction {
    NewTransaction {
        index,
        control_number: Some("0003".to_owned()),
        outcome: NewTransactionOutcome::NotAnOrder {
            kind: "810".to_owned(),
            reason: None,
        },
        warnings: Vec::new(),
    }
}

fn read(transactions: Vec<NewTransaction>) -> MessageOutcome {
    MessageOutcome::Normalized {
        transactions,
        warnings: vec![json!({ "code": "group-code-mismatch", "message": "GS01 is IN" })],
        answer: created,
    }
}

async fn each_transaction_keeps_its_own_outcome(db: &TestDb) {
    let store = db.store.clone();
    buyer_with_message(&*store, "byr_a", "msg_1").await;
    let mut order = NewTransaction::order(0, new_order("ord_1", "msg_1", "byr_a"));
    order.control_number = Some("0001".to_owned());
    let answer = store
        .complete_message(
            "msg_1",
            read(vec![order, refused(1, "0002", "missing-field"), invoice(2)]),
        )
        .await
        .unwrap();
    assert_eq!(answer.status, 201, "{answer:?}");

    let message = store.get_message(None, "msg_1").await.unwrap().unwrap();
    assert_eq!(message.status, MessageStatus::Normalized);
    assert_eq!(message.order_ids, ["ord_1"]);
    assert_eq!(message.warnings[0]["code"], "group-code-mismatch");
    let summary: Vec<_> = message
        .transactions
        .iter()
        .map(|t| (t.index, t.control_number.as_deref(), t.status))
        .collect();
    assert_eq!(
        summary,
        [
            (0, Some("0001"), TransactionStatus::Ok),
            (1, Some("0002"), TransactionStatus::Refused),
            (2, Some("0003"), TransactionStatus::NotAnOrder),
        ]
    );
    let [ok, bad, other] = &message.transactions[..] else {
        unreachable!()
    };
    assert_eq!(ok.order.as_ref().map(|o| o.id.as_str()), Some("ord_1"));
    assert_eq!(bad.error.as_ref().unwrap()["code"], "missing-field");
    assert_eq!(bad.warnings[0]["code"], "segment-count-mismatch");
    assert_eq!(other.kind.as_deref(), Some("810"));
    assert_eq!(message.error, None);
}

async fn a_message_without_orders_failed_with_its_answer(db: &TestDb) {
    let store = db.store.clone();
    buyer_with_message(&*store, "byr_a", "msg_1").await;
    let answer = store
        .complete_message(
            "msg_1",
            read(vec![refused(0, "0001", "missing-field"), invoice(1)]),
        )
        .await
        .unwrap();
    assert_eq!(answer.status, 422);
    let message = store.get_message(None, "msg_1").await.unwrap().unwrap();
    assert_eq!(message.status, MessageStatus::Failed);
    assert_eq!(message.error, Some(answer.body));
    assert_eq!(message.transactions.len(), 2);
}

async fn a_refused_transaction_is_replayed_alone(db: &TestDb) {
    let store = db.store.clone();
    buyer_with_message(&*store, "byr_a", "msg_1").await;
    let first = NewTransaction::order(0, new_order("ord_1", "msg_1", "byr_a"));
    store
        .complete_message(
            "msg_1",
            read(vec![first, refused(1, "0002", "missing-field")]),
        )
        .await
        .unwrap();

    // The admin finds it among the messages with refused transactions.
    let with_refused = store
        .list_messages(MessageQuery {
            with_refused: true,
            limit: 10,
            ..MessageQuery::default()
        })
        .await
        .unwrap();
    let ids: Vec<&str> = with_refused
        .messages
        .iter()
        .map(|m| m.id.as_str())
        .collect();
    assert_eq!(ids, ["msg_1"]);

    // A message with orders and a refused transaction can be reopened; its orders stay.
    let reopened = store.reopen_message("msg_1", None).await.unwrap();
    assert_eq!(reopened.status, MessageStatus::Received);
    assert_eq!(reopened.order_ids, ["ord_1"]);
    assert_eq!(reopened.transactions.len(), 2);
    assert_eq!(
        store.pending_messages(None, 10).await.unwrap()[0].order_ids,
        ["ord_1"]
    );

    // Writing the accepted transaction again is refused whole, and changes nothing.
    let again = NewTransaction::order(0, new_order("ord_9", "msg_1", "byr_a"));
    let fixed = NewTransaction::order(1, new_order("ord_2", "msg_1", "byr_a"));
    let twice = store
        .complete_message("msg_1", read(vec![again, fixed.clone()]))
        .await;
    assert!(matches!(twice, Err(StoreError::Invalid(_))), "{twice:?}");
    let message = store.get_message(None, "msg_1").await.unwrap().unwrap();
    assert_eq!(message.status, MessageStatus::Received);
    assert_eq!(message.order_ids, ["ord_1"]);

    // The refused one alone: its order joins the first, and the answer names both.
    let answer = store
        .complete_message("msg_1", read(vec![fixed]))
        .await
        .unwrap();
    assert_eq!(answer.status, 201);
    assert_eq!(
        answer.body["orders"].as_array().unwrap().len(),
        2,
        "{answer:?}"
    );
    let message = store.get_message(None, "msg_1").await.unwrap().unwrap();
    assert_eq!(message.status, MessageStatus::Normalized);
    assert_eq!(message.order_ids, ["ord_1", "ord_2"]);
    assert!(
        message
            .transactions
            .iter()
            .all(|t| t.status == TransactionStatus::Ok)
    );
    assert_eq!(message.attempts, 2);
    assert_eq!(store.message_attempts("msg_1").await.unwrap().len(), 1);

    // Every transaction is an order now: nothing is left to replay, or to find.
    let with_refused = store
        .list_messages(MessageQuery {
            with_refused: true,
            limit: 10,
            ..MessageQuery::default()
        })
        .await
        .unwrap();
    assert!(with_refused.messages.is_empty());
    let done = store.reopen_message("msg_1", None).await;
    assert!(matches!(done, Err(StoreError::Conflict(_))), "{done:?}");
}

on_every_engine!(
    each_transaction_keeps_its_own_outcome,
    a_message_without_orders_failed_with_its_answer,
    a_refused_transaction_is_replayed_alone,
);
