//! A channel paused for the gateway's own credentials is the operator's to mend,
//! so the operator must hear of it (issue 13): the pause shows in the admin API,
//! `/readyz` and `/metrics`, and exactly one signed alert per pause, and one per
//! resume, reaches the admin's webhook.

use std::thread;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::delivery::SECRET;
use crate::harness::{Gateway, Options};
use crate::peers::{ChatApis, WebhookReceiver};

const WAIT: Duration = Duration::from_secs(30);
const GOOD_TOKEN: &str = "wa-token-renewed-5be1";
const TELEGRAM_TOKEN: &str = "654321:tg-token-p7";
const APP_SECRET: &str = "wa-app-secret-2c8d";

/// A gateway whose WhatsApp token is `token`, alerting `admin`'s `/alerts`.
fn gateway(
    apis: &ChatApis,
    admin: &WebhookReceiver,
    token: &str,
    data_dir: Option<std::path::PathBuf>,
) -> Gateway {
    let config = format!(
        "[delivery]\ncredential_pause = \"300ms\"\n\n\
         [delivery.whatsapp]\nbase_url = \"{}\"\nphone_number_id = \"1055\"\n\
         access_token = \"set-by-env\"\n\n\
         [delivery.alerts]\nwebhook_url = \"{}\"\n",
        apis.base_url(),
        admin.url("/alerts"),
    );
    let env = [
        ("JEMBATAN_DELIVERY_RETRY_SCHEDULE", "200ms,200ms,200ms"),
        ("JEMBATAN_WHATSAPP_ACCESS_TOKEN", token),
        ("JEMBATAN_WHATSAPP_APP_SECRET", APP_SECRET),
        ("JEMBATAN_ALERTS_WEBHOOK_SECRET", SECRET),
    ];
    let gw = Gateway::start_with(Options {
        env: env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        config: Some(config),
        data_dir,
        ..Options::default()
    });
    apis.whatsapp_webhook(&gw.url("/v1/whatsapp/webhook"), APP_SECRET);
    gw
}

/// Polls the order's one delivery until `done` holds; returns it.
#[track_caller]
fn wait_delivery(gw: &Gateway, order_id: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + WAIT;
    loop {
        let page = gw.admin_get(&format!("/v1/admin/deliveries?order={order_id}"));
        if let Some(delivery) = page["deliveries"].get(0)
            && done(delivery)
        {
            return delivery.clone();
        }
        assert!(Instant::now() < deadline, "still waiting: {page:#}");
        thread::sleep(Duration::from_millis(50));
    }
}

fn ready(gw: &Gateway) -> Value {
    let response = reqwest::blocking::get(gw.url("/readyz")).unwrap();
    assert_eq!(response.status(), 200);
    response.json().unwrap()
}

fn paused_metric(gw: &Gateway) -> String {
    let text = reqwest::blocking::get(gw.url("/metrics"))
        .unwrap()
        .text()
        .unwrap();
    text.lines()
        .find(|l| l.starts_with("jembatan_channel_paused{channel=\"whatsapp\"}"))
        .unwrap_or_else(|| panic!("no paused gauge in {text}"))
        .to_owned()
}

#[test]
fn an_expired_token_pauses_the_channel_visibly_alerts_the_admin_once_and_resumes() {
    let apis = ChatApis::start(GOOD_TOKEN, TELEGRAM_TOKEN);
    let admin = WebhookReceiver::start(SECRET);
    let gw = gateway(&apis, &admin, "wa-token-expired-77f0", None);
    let key = gw.create_buyer("mitra-otoparts", "canonical-json", json!({}));
    gw.create_craftsman(json!({"id": "jaya", "name": "Jaya",
        "channels": [{"type": "whatsapp", "to": "6281234567890"}]}));
    gw.route("mitra-otoparts", "PBG-017", "jaya");
    assert_eq!(apis.whatsapp_user_writes("6281234567890"), 200);
    let order_id = gw.post_canonical_order(&key, "PO-ALERT-1", "PBG-017");

    // Refused again and again, well past the schedule: one pause, one alert.
    let delivery = wait_delivery(&gw, &order_id, |d| {
        d["attempts"].as_u64().is_some_and(|n| n >= 6)
    });
    assert_eq!(delivery["state"], "pending", "{delivery:#}");
    let alerts = admin.wait_for(|r| !r.is_empty(), WAIT);
    let paused = gw.admin_get("/v1/admin/channels/paused");
    let pauses = paused["paused"].as_array().unwrap();
    assert_eq!(pauses.len(), 1, "{paused:#}");
    assert_eq!(pauses[0]["channel"], "whatsapp");
    assert!(
        pauses[0]["reason"]
            .as_str()
            .unwrap()
            .contains("(error 190)"),
        "{paused:#}"
    );
    assert_eq!(pauses[0]["pending_deliveries"], 1, "{paused:#}");
    assert!(pauses[0]["since"].is_string());
    assert!(!pauses[0]["reason"].as_str().unwrap().contains("wa-token"));
    assert_eq!(ready(&gw)["paused_channels"], json!(["whatsapp"]));
    assert!(paused_metric(&gw).ends_with(" 1"), "{}", paused_metric(&gw));

    let alert = &alerts[0];
    assert_eq!(alert["path"], "/alerts");
    assert_eq!(alert["verified"], true, "{alert:#}");
    assert_eq!(alert["body"]["type"], "channel.paused", "{alert:#}");
    assert_eq!(alert["body"]["data"]["channel"], "whatsapp");
    let reason = alert["body"]["data"]["reason"].as_str().unwrap();
    assert!(reason.contains("(error 190)"), "{reason}");
    assert!(
        !reason.contains("wa-token"),
        "no token in the alert: {reason}"
    );
    // More refusals, and still the one alert.
    let attempts = delivery["attempts"].as_u64().unwrap();
    wait_delivery(&gw, &order_id, |d| {
        d["attempts"].as_u64().is_some_and(|n| n >= attempts + 3)
    });
    assert_eq!(admin.received().len(), 1, "{:#?}", admin.received());
    let listed = gw.admin_get("/v1/admin/alerts");
    assert_eq!(listed["alerts"].as_array().unwrap().len(), 1, "{listed:#}");
    assert_eq!(listed["alerts"][0]["state"], "sent", "{listed:#}");
    assert_eq!(listed["alerts"][0]["id"], alert["webhook_id"]);

    // The operator fixes the token and restarts: the order goes out, the pause
    // ends, and the admin hears that once too.
    let data_dir = gw.kill();
    let gw = gateway(&apis, &admin, GOOD_TOKEN, Some(data_dir));
    let delivery = wait_delivery(&gw, &order_id, |d| d["state"] != "pending");
    assert_eq!(delivery["state"], "succeeded", "{delivery:#}");
    let alerts = admin.wait_for(|r| r.len() >= 2, WAIT);
    assert_eq!(alerts[1]["body"]["type"], "channel.resumed", "{alerts:#?}");
    assert_eq!(alerts[1]["body"]["data"]["channel"], "whatsapp");
    assert_eq!(alerts[1]["verified"], true);
    assert_eq!(
        gw.admin_get("/v1/admin/channels/paused")["paused"],
        json!([])
    );
    assert_eq!(ready(&gw)["paused_channels"], json!([]));
    assert!(paused_metric(&gw).ends_with(" 0"), "{}", paused_metric(&gw));
    thread::sleep(Duration::from_millis(500));
    assert_eq!(admin.received().len(), 2, "{:#?}", admin.received());
}
