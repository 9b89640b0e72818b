//! Credentials that can be taken back (issue 8): a buyer's key and a craftsman's
//! token replaced or revoked, and inbox sessions that expire, end, and end with
//! the token that opened them.

use chrono::{Duration, Utc};

use super::{TestDb, new_buyer};
use crate::model::Language;
use crate::store::{NewCraftsman, NewInboxSession, Store, StoreError};

fn craftsman(id: &str, token_hash: &str) -> NewCraftsman {
    NewCraftsman {
        id: id.to_owned(),
        name: format!("Craftsman {id}"),
        language: Language::default(),
        token_hash: token_hash.to_owned(),
        channels: Vec::new(),
    }
}

fn session(id_hash: &str, craftsman_id: &str, hours: i64) -> NewInboxSession {
    NewInboxSession {
        id_hash: id_hash.to_owned(),
        craftsman_id: craftsman_id.to_owned(),
        expires_at: Utc::now() + Duration::hours(hours),
    }
}

async fn a_buyer_key_is_replaced_or_revoked_for_the_next_lookup(db: &TestDb) {
    let store: &dyn Store = &*db.store;
    store.create_buyer(new_buyer("b1")).await.unwrap();
    store.create_buyer(new_buyer("b2")).await.unwrap();

    store
        .set_buyer_api_key_hash("b1", Some("new-hash".into()))
        .await
        .unwrap();
    assert!(
        store
            .buyer_by_api_key_hash("hash-of-b1")
            .await
            .unwrap()
            .is_none()
    );
    let found = store.buyer_by_api_key_hash("new-hash").await.unwrap();
    assert_eq!(found.unwrap().id, "b1");
    // Another buyer's hash is not taken.
    assert!(matches!(
        store
            .set_buyer_api_key_hash("b2", Some("new-hash".into()))
            .await,
        Err(StoreError::Conflict(_))
    ));

    // Revoked twice: each marker is unique, as the column must be.
    store.set_buyer_api_key_hash("b1", None).await.unwrap();
    store.set_buyer_api_key_hash("b2", None).await.unwrap();
    assert!(
        store
            .buyer_by_api_key_hash("new-hash")
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .buyer_by_api_key_hash("hash-of-b2")
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store.get_buyer("b1").await.unwrap().is_some(),
        "the buyer stays"
    );
    assert!(matches!(
        store.set_buyer_api_key_hash("nobody", None).await,
        Err(StoreError::NotFound)
    ));
}

async fn inbox_sessions_expire_end_and_end_with_their_token(db: &TestDb) {
    let store: &dyn Store = &*db.store;
    store.create_craftsman(craftsman("c1", "t1")).await.unwrap();
    store.create_craftsman(craftsman("c2", "u1")).await.unwrap();

    store
        .create_inbox_session(session("s1", "c1", 1))
        .await
        .unwrap();
    let now = Utc::now();
    let found = store.craftsman_by_session_hash("s1", now).await.unwrap();
    assert_eq!(found.unwrap().id, "c1");
    let later = now + Duration::hours(2);
    assert!(
        store
            .craftsman_by_session_hash("s1", later)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .craftsman_by_session_hash("s0", now)
            .await
            .unwrap()
            .is_none()
    );

    assert!(store.end_inbox_session("s1").await.unwrap());
    assert!(!store.end_inbox_session("s1").await.unwrap(), "ended once");
    assert!(
        store
            .craftsman_by_session_hash("s1", now)
            .await
            .unwrap()
            .is_none()
    );

    // A new token ends every session of that craftsman, and only theirs.
    store
        .create_inbox_session(session("s2", "c1", 1))
        .await
        .unwrap();
    store
        .create_inbox_session(session("s3", "c1", 1))
        .await
        .unwrap();
    store
        .create_inbox_session(session("s4", "c2", 1))
        .await
        .unwrap();
    let ended = store
        .set_craftsman_token_hash("c1", Some("t2".into()))
        .await
        .unwrap();
    assert_eq!(ended, 2);
    for gone in ["s2", "s3"] {
        assert!(
            store
                .craftsman_by_session_hash(gone, now)
                .await
                .unwrap()
                .is_none()
        );
    }
    assert!(
        store
            .craftsman_by_session_hash("s4", now)
            .await
            .unwrap()
            .is_some()
    );
    assert!(store.craftsman_by_token_hash("t1").await.unwrap().is_none());
    assert_eq!(
        store
            .craftsman_by_token_hash("t2")
            .await
            .unwrap()
            .unwrap()
            .id,
        "c1"
    );

    assert_eq!(store.set_craftsman_token_hash("c2", None).await.unwrap(), 1);
    assert!(store.craftsman_by_token_hash("u1").await.unwrap().is_none());
    assert!(
        store
            .craftsman_by_session_hash("s4", now)
            .await
            .unwrap()
            .is_none()
    );
    assert!(matches!(
        store.set_craftsman_token_hash("nobody", None).await,
        Err(StoreError::NotFound)
    ));
    // A session for nobody is refused by the foreign key.
    assert!(
        store
            .create_inbox_session(session("s5", "nobody", 1))
            .await
            .is_err()
    );
}

on_every_engine!(
    a_buyer_key_is_replaced_or_revoked_for_the_next_lookup,
    inbox_sessions_expire_end_and_end_with_their_token,
);
