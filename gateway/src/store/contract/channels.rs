//! A channel the receiver's refusals disabled, and what enables it again.

use chrono::Utc;
use std::time::Duration;

use super::TestDb;
use super::outbox::{attempt, complete_one, craftsman};
use crate::model::ChannelTarget;
use crate::store::{AttemptOutcome, DISABLED_BY_ADMIN, NewAttempt, NewChannel, NextStep, Store};

const LEASE: Duration = Duration::from_secs(60);

fn telegram(id: &str, chat_id: &str) -> NewChannel {
    NewChannel {
        id: id.to_owned(),
        target: ChannelTarget::Telegram {
            chat_id: chat_id.to_owned(),
        },
    }
}

async fn disabled_reason(store: &dyn Store, craftsman: &str) -> Option<String> {
    let found = store.get_craftsman(craftsman).await.unwrap().unwrap();
    found.channels[0].disabled_reason.clone()
}

/// A Telegram chat the bot could not reach disables its channel; the chat writing
/// to the bot enables it again, but never a channel an admin disabled.
async fn a_telegram_chat_that_writes_again_enables_its_channel(db: &TestDb) {
    let store = db.store.clone();
    let mut jaya = craftsman("crf_1", &[]);
    jaya.channels.push(telegram("chn_tg", "4242"));
    store.create_craftsman(jaya).await.unwrap();
    let mut budi = craftsman("crf_2", &[]);
    budi.channels.push(telegram("chn_tg_admin", "4242"));
    store.create_craftsman(budi).await.unwrap();
    store.create_buyer(super::new_buyer("byr_a")).await.unwrap();
    store.put_route("byr_a", "CRAFT-1", "crf_1").await.unwrap();
    complete_one(&*store, "byr_a", "msg_1", "ord_1").await;
    store
        .set_channel_enabled("crf_2", "chn_tg_admin", false)
        .await
        .unwrap();

    let claimed = store.claim_deliveries(Utc::now(), LEASE, 1).await.unwrap();
    let blocked = "Telegram sendMessage answered HTTP 403: Forbidden: bot was blocked by the user";
    store
        .record_attempt(NewAttempt {
            error: Some(blocked.into()),
            status_code: Some(403),
            ..attempt(&claimed[0].id, 1, AttemptOutcome::Disable, NextStep::Dead)
        })
        .await
        .unwrap();
    assert_eq!(
        disabled_reason(&*store, "crf_1").await.as_deref(),
        Some(blocked)
    );
    assert_eq!(
        disabled_reason(&*store, "crf_2").await.as_deref(),
        Some(DISABLED_BY_ADMIN)
    );

    assert_eq!(
        store.enable_telegram_chat("9999").await.unwrap(),
        Vec::<String>::new()
    );
    assert_eq!(
        store.enable_telegram_chat("4242").await.unwrap(),
        ["chn_tg"]
    );
    assert_eq!(disabled_reason(&*store, "crf_1").await, None);
    assert_eq!(
        disabled_reason(&*store, "crf_2").await.as_deref(),
        Some(DISABLED_BY_ADMIN),
        "the admin's choice stands"
    );
    assert_eq!(
        store.enable_telegram_chat("4242").await.unwrap(),
        Vec::<String>::new()
    );
}

on_every_engine!(a_telegram_chat_that_writes_again_enables_its_channel);
