//! The store's contract: what every engine must do, written once against
//! `dyn Store` and run on every engine.
//!
//! A contract test is an `async fn name(db: &TestDb)` in one of the files below,
//! named in that file's `on_every_engine!`, which makes one `#[tokio::test]` of it
//! per engine, in a module named for the engine
//! (`store::contract::outbox::postgres::a_lapsed_lease_is_claimed_again`), each on a fresh,
//! empty database opened by its URL through [`super::open`]. A test written but not
//! named there is dead code, which the build refuses (`-D warnings`).
//!
//! A second engine joins with one line in `on_every_engine!` naming its factory, an
//! `async fn() -> TestDb` beside [`sqlite`] that makes a fresh database and gives its
//! URL. Tests of one engine's insides (SQLite's group commit and migrations) stay
//! beside that engine, in `sqlite/tests` and `postgres/tests`.

use std::any::Any;
use std::sync::Arc;

use serde_json::json;

use super::{
    AnswerInput, InsertedMessage, Message, MessageOutcome, NewBuyer, NewMessage, NewOrder,
    NewTransaction, ReceivedVia, Store, StoreOptions, StoredResponse,
};

/// Makes a `#[tokio::test]` of each contract test named, for each engine, in a module
/// named for the engine; the engines are the lines of the first arm, each naming its
/// factory (a function of this module).
macro_rules! on_every_engine {
    ($($test:ident),+ $(,)?) => {
        on_every_engine!(@engine sqlite: $($test),+);
        on_every_engine!(@engine postgres: $($test),+);
    };
    (@engine $engine:ident: $($test:ident),+) => {
        mod $engine {
            $(
                #[tokio::test]
                async fn $test() {
                    let db = crate::store::contract::$engine().await;
                    super::$test(&db).await;
                }
            )+
        }
    };
}

mod channels;
mod credentials;
mod lifecycle;
mod messages;
pub(crate) mod outbox;
mod reminders;
mod replay;
mod responses;
mod retention;
mod transactions;

/// A fresh, empty database of one engine, with the store open on it.
pub(crate) struct TestDb {
    /// The store, opened by [`super::open`] on the database's URL.
    pub(crate) store: Arc<dyn Store>,
    url: String,
    /// What must outlive the database (SQLite's temporary directory, say); dropped
    /// after `store`.
    _keep: Box<dyn Any + Send + Sync>,
}

impl TestDb {
    /// Opens the fresh database at `url`; `keep` lives as long as it.
    async fn open(url: String, keep: impl Any + Send + Sync) -> Self {
        let store = super::open(&url, StoreOptions::default()).await.unwrap();
        Self {
            store,
            url,
            _keep: Box::new(keep),
        }
    }

    /// The database opened again, as after a restart (close [`TestDb::store`] first).
    pub(crate) async fn reopen(&self) -> Arc<dyn Store> {
        super::open(&self.url, StoreOptions::default())
            .await
            .unwrap()
    }
}

/// SQLite: a file in a directory that does not exist yet (open must create it).
pub(crate) async fn sqlite() -> TestDb {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/data/jembatan.db", dir.path().display());
    TestDb::open(url, dir).await
}

/// PostgreSQL: a database of its own on the server the tests use (see
/// [`super::postgres::TestDatabase`]), created for the test and dropped after it.
pub(crate) async fn postgres() -> TestDb {
    let database = super::postgres::TestDatabase::create().await;
    TestDb::open(database.url().to_owned(), database).await
}

pub(crate) fn new_buyer(id: &str) -> NewBuyer {
    NewBuyer {
        id: id.to_owned(),
        name: format!("Buyer {id}"),
        plugin: "canonical-json".to_owned(),
        plugin_version: None,
        plugin_config: json!({ "strict": true }),
        api_key_hash: format!("hash-of-{id}"),
        limits: None,
    }
}

pub(crate) fn new_message(id: &str, buyer_id: &str, key: Option<&str>, body: &str) -> NewMessage {
    NewMessage {
        id: id.to_owned(),
        buyer_id: buyer_id.to_owned(),
        received_via: ReceivedVia::Http,
        content_type: "application/json".to_owned(),
        headers: json!({ "user-agent": "test" }),
        body: body.as_bytes().to_vec(),
        body_sha256: format!("sha-of-{body}"),
        idempotency_key: key.map(str::to_owned),
    }
}

pub(crate) fn new_order(id: &str, message_id: &str, buyer_id: &str) -> NewOrder {
    let order = serde_json::from_value(json!({
        "version": "2",
        "buyer_order_number": format!("PO-{id}"),
        "issue_date": "2026-11-01",
        "currency": "IDR",
        "source": { "format": "canonical-json", "syntax": "JSON" },
        "buyer": { "name": "Toko Maju" },
        "supplier": { "code": "CRAFT-1" },
        "lines": [{ "line_number": "1", "item": { "name": "Knalpot" }, "quantity": "2.5", "unit": "H87" }]
    }))
    .unwrap();
    NewOrder {
        id: id.to_owned(),
        message_id: message_id.to_owned(),
        buyer_id: buyer_id.to_owned(),
        buyer_order_number: format!("PO-{id}"),
        supplier_code: "CRAFT-1".to_owned(),
        order,
    }
}

/// A stand-in for the API's answer: what the store stored, as the store reports it.
pub(crate) fn created(input: AnswerInput<'_>) -> StoredResponse {
    let orders: Vec<_> = input
        .transactions
        .iter()
        .filter_map(|t| t.order.as_ref())
        .map(|o| json!([o.id, o.buyer_order_number, o.status.as_str()]))
        .collect();
    StoredResponse {
        status: if orders.is_empty() { 422 } else { 201 },
        body: json!({ "message_id": input.message_id, "orders": orders }),
    }
}

/// The outcome of a message whose transactions are `orders`, one each, in order.
pub(crate) fn normalized(orders: Vec<NewOrder>) -> MessageOutcome {
    MessageOutcome::Normalized {
        transactions: orders
            .into_iter()
            .zip(0..)
            .map(|(order, index)| NewTransaction::order(index, order))
            .collect(),
        warnings: Vec::new(),
        answer: created,
    }
}

pub(crate) fn inserted(result: InsertedMessage) -> Message {
    match result {
        InsertedMessage::Inserted(message) => message,
        InsertedMessage::Existing(message) => panic!("expected a new message, got {message:?}"),
    }
}

/// A buyer with one received message, ready to complete.
pub(crate) async fn buyer_with_message(store: &dyn Store, buyer: &str, message: &str) {
    if store.get_buyer(buyer).await.unwrap().is_none() {
        store.create_buyer(new_buyer(buyer)).await.unwrap();
    }
    inserted(
        store
            .insert_message(new_message(message, buyer, None, message))
            .await
            .unwrap(),
    );
}
