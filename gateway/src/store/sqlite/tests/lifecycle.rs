//! The migration that brought plugin artifacts, buyer bindings and their history
//! (issue 3); what they do is tested with the contract, in `store::contract::lifecycle`.

use super::super::{SqliteStore, migrations};
use crate::store::{BuyerStore, MessageQuery, MessageStatus, MessageStore, OrderQuery, Store};
use serde_json::json;

#[tokio::test]
async fn migrating_a_0001_file_keeps_its_data() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/old.db", dir.path().display());

    // A file as the first release left it: only 0001, with a buyer, a normalized
    // message with its order, a failed message and one still waiting.
    let conn = rusqlite::Connection::open(dir.path().join("old.db")).unwrap();
    migrations::run_up_to(&conn, 1).unwrap();
    for statement in [
        "INSERT INTO buyers (id, name, plugin, plugin_config, api_key_hash, created_at) \
         VALUES ('byr_a', 'Toko A', 'ubl-order', '{\"k\":1}', 'h', '2026-10-01T00:00:00.000Z')",
        "INSERT INTO messages (id, buyer_id, received_via, content_type, headers, body, \
         body_sha256, status, response_status, response_body, received_at, processed_at) \
         VALUES ('msg_1', 'byr_a', 'http', 'application/xml', '[]', x'3c613e', 's1', \
         'normalized', 201, '{}', '2026-10-01T00:00:01.000Z', '2026-10-01T00:00:02.000Z')",
        "INSERT INTO orders (id, message_id, buyer_id, buyer_order_number, supplier_code, \
         body, created_at, updated_at) VALUES ('ord_1', 'msg_1', 'byr_a', 'PO-1', 'C1', \
         '{\"buyer_order_number\":\"PO-1\",\"issue_date\":\"2026-11-01\",\
         \"buyer\":{\"name\":\"A\"},\"supplier\":{\"code\":\"C1\"},\"lines\":[]}', \
         '2026-10-01T00:00:02.000Z', '2026-10-01T00:00:02.000Z')",
        "INSERT INTO orders (id, message_id, buyer_id, buyer_order_number, supplier_code, \
         body, created_at, updated_at) VALUES ('ord_2', 'msg_1', 'byr_a', 'PO-2', 'C1', \
         '{\"buyer_order_number\":\"PO-2\",\"issue_date\":\"2026-11-01\",\
         \"buyer\":{\"name\":\"A\"},\"supplier\":{\"code\":\"C1\"},\"lines\":[]}', \
         '2026-10-01T00:00:02.000Z', '2026-10-01T00:00:02.000Z')",
        "INSERT INTO messages (id, buyer_id, received_via, content_type, headers, body, \
         body_sha256, status, error, response_status, response_body, received_at, \
         processed_at) VALUES ('msg_2', 'byr_a', 'http', 'application/xml', '[]', x'78', \
         's2', 'failed', '{\"title\":\"bad\"}', 422, '{}', '2026-10-01T00:00:03.000Z', \
         '2026-10-01T00:00:04.000Z')",
        "INSERT INTO messages (id, buyer_id, received_via, content_type, headers, body, \
         body_sha256, received_at) VALUES ('msg_3', 'byr_a', 'http', 'application/xml', \
         '[]', x'79', 's3', '2026-10-01T00:00:05.000Z')",
    ] {
        conn.execute_batch(statement).unwrap();
    }
    drop(conn);

    let store = SqliteStore::open(&url).await.unwrap();
    let buyer = store.get_buyer("byr_a").await.unwrap().unwrap();
    assert_eq!(buyer.plugin_version, None);
    assert_eq!(buyer.plugin_config, json!({ "k": 1 }));
    // The existing binding opens the history, so it is a rollback target.
    let history = store.buyer_plugin_history("byr_a").await.unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].plugin, "ubl-order");
    assert_eq!(history[0].changed_at, buyer.created_at);

    // Completed messages count one attempt; the waiting one none.
    let attempts = |id: &'static str| {
        let store = store.clone();
        async move {
            let message = store.get_message(None, id).await.unwrap().unwrap();
            (message.status, message.attempts, message.order_ids)
        }
    };
    // Its orders are found through transactions, which migration 20 gave it, one
    // per order in the orders' id order.
    let both = vec!["ord_1".to_owned(), "ord_2".to_owned()];
    assert_eq!(
        attempts("msg_1").await,
        (MessageStatus::Normalized, 1, both.clone())
    );
    let message = store.get_message(None, "msg_1").await.unwrap().unwrap();
    let transactions: Vec<_> = message
        .transactions
        .iter()
        .map(|t| (t.index, t.order.as_ref().map(|o| o.id.clone())))
        .collect();
    assert_eq!(
        transactions,
        [(0, Some("ord_1".to_owned())), (1, Some("ord_2".to_owned()))]
    );
    let page = store
        .list_messages(MessageQuery {
            limit: 10,
            ..MessageQuery::default()
        })
        .await
        .unwrap();
    let listed = page.messages.iter().find(|m| m.id == "msg_1").unwrap();
    assert_eq!(listed.order_ids, both);
    assert_eq!(attempts("msg_2").await, (MessageStatus::Failed, 1, vec![]));
    assert_eq!(
        attempts("msg_3").await,
        (MessageStatus::Received, 0, vec![])
    );
    // A v1 order stays as it was written and is read as v2 (issue 14).
    let order = store
        .get_order(crate::store::OrderScope::All, "ord_1")
        .await
        .unwrap()
        .unwrap()
        .order;
    assert_eq!(order.source.syntax, jembatan_schemas::v2::V1_SOURCE_SYNTAX);
    assert_eq!(order.buyer.unwrap().name.as_deref(), Some("A"));
    assert_eq!(order.currency, "IDR");
    let query = OrderQuery {
        limit: 10,
        ..OrderQuery::default()
    };
    assert_eq!(store.list_orders(query).await.unwrap().orders.len(), 2);

    // The old failed message can be replayed like a new one.
    store.reopen_message("msg_2", None).await.unwrap();
    let archived = store.message_attempts("msg_2").await.unwrap();
    assert_eq!(archived.len(), 1);
    assert_eq!(archived[0].error, Some(json!({ "title": "bad" })));
    assert_eq!(archived[0].processed_by, None);
    store.close().await;
}
