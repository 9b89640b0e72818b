//! The migration that brought order responses (issue 10) rebuilds the outbox so a
//! delivery can carry a response instead of a channel's order. A gateway upgraded
//! with deliveries under way keeps every one of them and their attempts, pending
//! ones still due.

use super::super::{SqliteStore, migrations};
use crate::store::{DeliveryState, Outbox};

#[tokio::test]
async fn deliveries_and_their_attempts_survive_the_outbox_rebuild() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/old.db", dir.path().display());
    let conn = rusqlite::Connection::open(dir.path().join("old.db")).unwrap();
    migrations::run_up_to(&conn, 9).unwrap();
    let at = "2026-10-01T00:00:00.000Z";
    conn.execute_batch(&format!(
        "INSERT INTO buyers (id, name, plugin, plugin_config, api_key_hash, created_at)
             VALUES ('otoparts', 'Otoparts', 'canonical-json', '{{}}', 'k', '{at}');
         INSERT INTO messages (id, buyer_id, received_via, content_type, headers, body,
                               body_sha256, received_at)
             VALUES ('msg_1', 'otoparts', 'http', 'application/json', '[]', x'7b7d', 's', '{at}');
         INSERT INTO craftsmen (id, name, language, token_hash, created_at)
             VALUES ('jaya', 'Jaya', 'id', 'h', '{at}');
         INSERT INTO orders (id, message_id, buyer_id, buyer_order_number, supplier_code,
                             craftsman_id, status, body, created_at, updated_at)
             VALUES ('ord_1', 'msg_1', 'otoparts', 'PO-1', 'JAYA', 'jaya', 'received', '{{}}', '{at}', '{at}');
         INSERT INTO channels (id, craftsman_id, kind, target, created_at)
             VALUES ('chn_1', 'jaya', 'webhook',
                     json_object('type', 'webhook', 'url', 'https://erp.example/orders'), '{at}');
         INSERT INTO deliveries (id, order_id, channel_id, state, attempts, next_attempt_at,
                                 last_status_code, last_error, created_at, updated_at)
             VALUES ('dlv_1', 'ord_1', 'chn_1', 'pending', 1, '{at}', 503, 'busy', '{at}', '{at}');
         INSERT INTO delivery_attempts (delivery_id, attempt, started_at, duration_ms,
                                        outcome, status_code, error)
             VALUES ('dlv_1', 1, '{at}', 12, 'retry', 503, 'busy');"
    ))
    .unwrap();
    drop(conn);

    let store = SqliteStore::open(&url).await.unwrap();
    let delivery = store.get_delivery("dlv_1").await.unwrap().unwrap();
    assert_eq!(delivery.channel_id.as_deref(), Some("chn_1"));
    assert_eq!(delivery.response_id, None);
    assert_eq!(delivery.state, DeliveryState::Pending);
    assert_eq!(delivery.attempts, 1);
    assert_eq!(delivery.last_status_code, Some(503));
    let attempts = store.delivery_attempts("dlv_1").await.unwrap();
    assert_eq!(attempts.len(), 1);
    assert_eq!(attempts[0].error.as_deref(), Some("busy"));
    // Still due: the worker finds it.
    assert!(store.next_due_at().await.unwrap().is_some());
    drop(store);

    // Nothing points at a table that is gone.
    let conn = rusqlite::Connection::open(dir.path().join("old.db")).unwrap();
    let dangling: i64 = conn
        .query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(dangling, 0);
}
