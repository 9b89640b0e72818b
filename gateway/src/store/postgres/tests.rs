//! PostgreSQL's own side of the store: its migrations, its URL, and what sharing
//! the database with other instances changes. The contract every engine keeps is
//! tested once for all in `store::contract`.

use std::time::Duration;

use chrono::Utc;

use super::{PostgresOptions, PostgresStore, TestDatabase, migrations, pool_size_of};
use crate::store::contract::outbox::{attempt, craftsman, order_status, routed_order};
use crate::store::contract::{new_buyer, new_message, new_order, normalized};
use crate::store::{
    AttemptOutcome, BuyerStore, CraftsmanStore, MessageStore, NextStep, OrderStatus, Outbox, Store,
    StoreError,
};

const LEASE: Duration = Duration::from_secs(60);

async fn open(database: &TestDatabase) -> PostgresStore {
    PostgresStore::open_with(database.url(), PostgresOptions::default())
        .await
        .unwrap()
}

/// Another instance's start must not take back a live instance's claims: only the
/// leases that ran out are released.
#[tokio::test]
async fn a_start_releases_only_the_leases_that_ran_out() {
    let database = TestDatabase::create().await;
    let first = open(&database).await;
    routed_order(&first, &["a"]).await;
    // A claim whose instance died: its lease (a millisecond here) is out.
    let short = Duration::from_millis(1);
    assert_eq!(
        first
            .claim_deliveries(Utc::now(), short, 10)
            .await
            .unwrap()
            .len(),
        1
    );
    tokio::time::sleep(Duration::from_millis(20)).await;
    let second = open(&database).await;
    assert_eq!(second.release_claims().await.unwrap(), 1);
    assert!(second.next_due_at().await.unwrap().is_some());

    // A live claim stays with the instance that holds it.
    assert_eq!(
        first
            .claim_deliveries(Utc::now(), LEASE, 10)
            .await
            .unwrap()
            .len(),
        1
    );
    let third = open(&database).await;
    assert_eq!(third.release_claims().await.unwrap(), 0);
    assert!(
        third
            .claim_deliveries(Utc::now(), LEASE, 10)
            .await
            .unwrap()
            .is_empty()
    );
    for store in [first, second, third] {
        store.close().await;
    }
}

/// Instances claiming at once each get different deliveries.
#[tokio::test]
async fn concurrent_claims_take_each_delivery_once() {
    let database = TestDatabase::create().await;
    let store = open(&database).await;
    routed_order(&store, &["a", "b", "c", "d", "e", "f"]).await;
    let instances = [open(&database).await, open(&database).await, store];
    let claims = instances
        .iter()
        .map(|instance| instance.claim_deliveries(Utc::now(), LEASE, 2));
    let mut claimed: Vec<String> = futures_util::future::join_all(claims)
        .await
        .into_iter()
        .flat_map(|claim| claim.unwrap())
        .map(|delivery| delivery.id)
        .collect();
    claimed.sort();
    let before = claimed.len();
    claimed.dedup();
    assert_eq!(claimed.len(), before, "a delivery claimed twice");
    assert_eq!(claimed.len(), 6);
}

/// New messages are stored side by side (they take the write lock shared), yet a
/// route put meanwhile (which takes it alone) sees every order stored before it,
/// and every order stored after it sees the route: none is left unrouted.
#[tokio::test]
async fn orders_stored_while_their_route_is_put_are_all_routed() {
    let database = TestDatabase::create().await;
    let store = open(&database).await;
    store
        .create_craftsman(craftsman("crf_1", &["a"]))
        .await
        .unwrap();
    store.create_buyer(new_buyer("byr_a")).await.unwrap();
    let records = (0..40).map(|n| {
        let store = &store;
        async move {
            let (message, order) = (format!("msg_{n}"), format!("ord_{n}"));
            let outcome = normalized(vec![new_order(&order, &message, "byr_a")]);
            store
                .record_message(
                    new_message(&message, "byr_a", None, &message),
                    Some((None, outcome)),
                )
                .await
                .unwrap();
        }
    });
    let put = async {
        tokio::time::sleep(Duration::from_millis(5)).await;
        store.put_route("byr_a", "CRAFT-1", "crf_1").await.unwrap();
    };
    futures_util::future::join(futures_util::future::join_all(records), put).await;
    let stats = store.delivery_stats().await.unwrap();
    assert_eq!(stats.unrouted_orders, 0);
    assert_eq!(stats.pending, 40);
}

/// The attempts of one order's deliveries, recorded at once (they take the write
/// lock shared), still leave the order's status made from all of them.
#[tokio::test]
async fn sibling_attempts_recorded_at_once_leave_the_order_delivered() {
    let database = TestDatabase::create().await;
    let store = open(&database).await;
    routed_order(&store, &["a", "b", "c", "d", "e", "f"]).await;
    let claimed = store.claim_deliveries(Utc::now(), LEASE, 10).await.unwrap();
    assert_eq!(claimed.len(), 6);
    let attempts = claimed.iter().map(|delivery| {
        store.record_attempt(attempt(
            &delivery.id,
            1,
            AttemptOutcome::Succeeded,
            NextStep::Succeeded,
        ))
    });
    for recorded in futures_util::future::join_all(attempts).await {
        recorded.unwrap();
    }
    assert_eq!(order_status(&store, "ord_1").await, OrderStatus::Delivered);
}

/// Instances starting at once migrate once, one after the other.
#[tokio::test]
async fn instances_starting_at_once_migrate_once() {
    let database = TestDatabase::create().await;
    let opens = (0..4).map(|_| open(&database));
    let stores = futures_util::future::join_all(opens).await;
    let client = stores[0].client().await.unwrap();
    let applied: i64 = client
        .query_one("SELECT count(*) FROM _sqlx_migrations", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(applied, migrations::count() as i64);
    stores[0].ping().await.unwrap();
}

#[tokio::test]
async fn an_edited_migration_is_refused() {
    let database = TestDatabase::create().await;
    let store = open(&database).await;
    let client = store.client().await.unwrap();
    client
        .execute(
            "UPDATE _sqlx_migrations SET checksum = '\\x00'::bytea WHERE version = 1",
            &[],
        )
        .await
        .unwrap();
    drop(client);
    store.close().await;
    let reopened = PostgresStore::open_with(database.url(), PostgresOptions::default()).await;
    assert!(
        matches!(&reopened, Err(StoreError::Migration(why)) if why.contains("edited")),
        "{reopened:?}"
    );
}

#[test]
fn the_pool_size_comes_from_the_url_or_the_options() {
    assert_eq!(
        pool_size_of("postgres://u@h/db", 10).unwrap(),
        ("postgres://u@h/db".to_owned(), 10)
    );
    assert_eq!(
        pool_size_of("postgres://u@h/db?pool_size=3&sslmode=disable", 10).unwrap(),
        ("postgres://u@h/db?sslmode=disable".to_owned(), 3)
    );
    assert_eq!(
        pool_size_of("postgres://u@h/db?pool_size=3", 10).unwrap(),
        ("postgres://u@h/db".to_owned(), 3)
    );
    assert!(matches!(
        pool_size_of("postgres://u@h/db?pool_size=many", 10),
        Err(StoreError::Invalid(_))
    ));
}

/// A server that cannot be reached is the database being unavailable, the error
/// says why (what the system said, not only that connecting failed), and it does
/// not show the URL's password.
#[tokio::test]
async fn an_unreachable_server_is_unavailable_and_its_password_unshown() {
    let result = PostgresStore::open_with(
        "postgres://app:s3cret@127.0.0.1:1/jembatan",
        PostgresOptions::default(),
    )
    .await;
    let error = result.expect_err("nothing listens on port 1");
    assert!(error.is_unavailable(), "{error:?}");
    assert!(error.to_string().contains("Connection refused"), "{error}");
    assert!(
        !format!("{error} {error:?}").contains("s3cret"),
        "{error:?}"
    );
}

/// Waits up to `within` for `done`, looking every few milliseconds.
async fn eventually(within: Duration, done: impl Fn() -> bool) -> bool {
    let deadline = tokio::time::Instant::now() + within;
    while !done() {
        if tokio::time::Instant::now() > deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    true
}

/// A write that adds due deliveries on one instance wakes the others' workers at
/// its commit, not at their next poll.
#[tokio::test]
async fn new_deliveries_wake_the_other_instances() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let database = TestDatabase::create().await;
    let writer = open(&database).await;
    let other = open(&database).await;
    let rings = Arc::new(AtomicUsize::new(0));
    let counted = rings.clone();
    other.watch_outbox(Arc::new(move || {
        counted.fetch_add(1, Ordering::SeqCst);
    }));
    // It rings once as it starts listening, for what came before.
    let listening = || rings.load(Ordering::SeqCst) >= 1;
    assert!(eventually(Duration::from_secs(10), listening).await);
    tokio::time::sleep(Duration::from_millis(100)).await;
    let before = rings.load(Ordering::SeqCst);

    routed_order(&writer, &["a"]).await;
    let woken = || rings.load(Ordering::SeqCst) > before;
    assert!(eventually(Duration::from_secs(5), woken).await);
    // A claim adds nothing due: no ring (a ring per claim would wake every
    // instance at every other's claim, for ever).
    tokio::time::sleep(Duration::from_millis(200)).await;
    let after = rings.load(Ordering::SeqCst);
    writer
        .claim_deliveries(Utc::now(), LEASE, 10)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(rings.load(Ordering::SeqCst), after);
    writer.close().await;
    other.close().await;
}

/// One instance at a time leads the scheduled work, and when it goes, another
/// takes over.
#[tokio::test]
async fn one_instance_leads_the_scheduled_work_and_another_takes_over() {
    let database = TestDatabase::create().await;
    let stores = [open(&database).await, open(&database).await];
    let leads = stores.clone().map(|store| store.scheduled_work());
    let one_leads = || leads.iter().filter(|lead| lead.holds()).count() == 1;
    assert!(eventually(Duration::from_secs(10), one_leads).await);
    // Still one, a while later: the other keeps trying and keeps failing.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(one_leads());
    // Asked again, an instance answers from the same session.
    let leader = leads.iter().position(|lead| lead.holds()).unwrap();
    assert!(stores[leader].scheduled_work().holds());

    // The leader's process ends: its session, and so the lock, go with it.
    stores[leader].close().await;
    let follower = &leads[1 - leader];
    assert!(eventually(Duration::from_secs(10), || follower.holds()).await);
    stores[1 - leader].close().await;
}

/// Instances starting at once recover the messages left `received` one after the
/// other.
#[tokio::test]
async fn recovery_runs_on_one_instance_at_a_time() {
    let database = TestDatabase::create().await;
    let first = open(&database).await;
    let second = open(&database).await;
    let alone = first.recovering_alone().await.unwrap();
    let waiting = tokio::spawn(async move { second.recovering_alone().await.map(drop) });
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(!waiting.is_finished(), "two instances recover at once");
    drop(alone);
    tokio::time::timeout(Duration::from_secs(10), waiting)
        .await
        .expect("the second recovers once the first is done")
        .unwrap()
        .unwrap();
    first.close().await;
}
