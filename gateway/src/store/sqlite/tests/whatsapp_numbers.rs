//! The migration that brought WhatsApp contacts (issue 13) also stores the numbers
//! of existing WhatsApp channels as the admin API stores them now.

use super::super::{SqliteStore, migrations};
use crate::model::ChannelTarget;
use crate::store::CraftsmanStore;

#[tokio::test]
async fn existing_whatsapp_numbers_are_stored_as_the_cloud_api_takes_them() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/old.db", dir.path().display());
    let conn = rusqlite::Connection::open(dir.path().join("old.db")).unwrap();
    migrations::run_up_to(&conn, 7).unwrap();
    conn.execute_batch(
        "INSERT INTO craftsmen (id, name, language, token_hash, created_at) \
         VALUES ('jaya', 'Jaya', 'id', 'h', '2026-10-01T00:00:00.000Z')",
    )
    .unwrap();
    for (id, number) in [
        ("chn_1", "0812-3456-7890"),
        ("chn_2", "+62 812 3456 7891"),
        ("chn_3", "6281234567892"),
        ("chn_4", "()"),
    ] {
        conn.execute(
            "INSERT INTO channels (id, craftsman_id, kind, target, created_at) \
             VALUES (?1, 'jaya', 'whatsapp', json_object('type', 'whatsapp', 'to', ?2), \
             '2026-10-01T00:00:00.000Z')",
            rusqlite::params![id, number],
        )
        .unwrap();
    }
    drop(conn);

    let store = SqliteStore::open(&url).await.unwrap();
    let jaya = store.get_craftsman("jaya").await.unwrap().unwrap();
    let numbers: Vec<_> = jaya
        .channels
        .iter()
        .map(|c| match &c.target {
            ChannelTarget::Whatsapp { to } => to.as_str(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        numbers,
        ["6281234567890", "6281234567891", "6281234567892", "()"]
    );
}
