//! The migration that brought reminders (issue 10, part 4) rebuilds the outbox
//! again, so that a channel can carry an order's reminder beside the order, and
//! stamps the routed orders with when their wait for an answer began. A gateway
//! upgraded with deliveries under way keeps them all, each of the kind it was.

use super::super::{SqliteStore, migrations};
use crate::store::{DeliveryKind, DeliveryState, Outbox};

#[tokio::test]
async fn deliveries_keep_their_kind_and_routed_orders_their_wait() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/old.db", dir.path().display());
    let conn = rusqlite::Connection::open(dir.path().join("old.db")).unwrap();
    migrations::run_up_to(&conn, 11).unwrap();
    let at = "2026-10-01T00:00:00.000Z";
    conn.execute_batch(&format!(
        "INSERT INTO buyers (id, name, plugin, plugin_config, api_key_hash, created_at,
                             callback_url, callback_secret)
             VALUES ('otoparts', 'Otoparts', 'canonical-json', '{{}}', 'k', '{at}',
                     'https://buyer.example/cb', 'whsec_x');
         INSERT INTO messages (id, buyer_id, received_via, content_type, headers, body,
                               body_sha256, received_at)
             VALUES ('msg_1', 'otoparts', 'http', 'application/json', '[]', x'7b7d', 's', '{at}');
         INSERT INTO craftsmen (id, name, language, token_hash, created_at)
             VALUES ('jaya', 'Jaya', 'id', 'h', '{at}');
         INSERT INTO orders (id, message_id, buyer_id, buyer_order_number, supplier_code,
                             craftsman_id, status, body, created_at, updated_at)
             VALUES ('ord_1', 'msg_1', 'otoparts', 'PO-1', 'JAYA', 'jaya', 'received', '{{}}',
                     '{at}', '{at}'),
                    ('ord_2', 'msg_1', 'otoparts', 'PO-2', 'NONE', NULL, 'unrouted', '{{}}',
                     '{at}', '{at}');
         INSERT INTO channels (id, craftsman_id, kind, target, created_at)
             VALUES ('chn_1', 'jaya', 'webhook',
                     json_object('type', 'webhook', 'url', 'https://erp.example/orders'), '{at}');
         INSERT INTO order_responses (id, order_id, sequence, status, body, created_at)
             VALUES ('rsp_1', 'ord_1', 1, 'accepted', '{{}}', '{at}');
         INSERT INTO deliveries (id, order_id, channel_id, state, attempts, next_attempt_at,
                                 last_status_code, last_error, created_at, updated_at)
             VALUES ('dlv_1', 'ord_1', 'chn_1', 'pending', 1, '{at}', 503, 'busy', '{at}', '{at}');
         INSERT INTO deliveries (id, order_id, response_id, state, created_at, updated_at)
             VALUES ('dlv_2', 'ord_1', 'rsp_1', 'succeeded', '{at}', '{at}');
         INSERT INTO delivery_attempts (delivery_id, attempt, started_at, duration_ms,
                                        outcome, status_code, error)
             VALUES ('dlv_1', 1, '{at}', 12, 'retry', 503, 'busy');"
    ))
    .unwrap();
    drop(conn);

    let store = SqliteStore::open(&url).await.unwrap();
    let order = store.get_delivery("dlv_1").await.unwrap().unwrap();
    assert_eq!(order.kind, DeliveryKind::Order);
    assert_eq!(order.channel_id.as_deref(), Some("chn_1"));
    assert_eq!((order.state, order.attempts), (DeliveryState::Pending, 1));
    assert_eq!(store.delivery_attempts("dlv_1").await.unwrap().len(), 1);
    let response = store.get_delivery("dlv_2").await.unwrap().unwrap();
    assert_eq!(response.kind, DeliveryKind::Response);
    assert_eq!(response.response_id.as_deref(), Some("rsp_1"));
    assert!(store.next_due_at().await.unwrap().is_some());
    drop(store);

    let conn = rusqlite::Connection::open(dir.path().join("old.db")).unwrap();
    // (Read here: the orders' bodies are not orders.)
    let waits: Vec<(String, Option<String>, Option<String>)> = conn
        .prepare("SELECT id, routed_at, reminded_at FROM orders ORDER BY id")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    assert_eq!(
        waits,
        [
            ("ord_1".to_owned(), Some(at.to_owned()), None),
            ("ord_2".to_owned(), None, None)
        ]
    );
    let dangling: i64 = conn
        .query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(dangling, 0);
}
