//! A channel paused for the gateway's own credentials is the operator's to mend,
//! so the operator must hear of it (issue 13): the pause shows in the admin API,
//! `/readyz` and `/metrics`, and exactly one signed alert per pause, and one per
//! resume, reaches the admin's webhook.

use std::thread;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::delivery::SECRET;
use crate::harness::{Gateway, Options};
use crate::peers::{ChatApis, SmtpSink, WebhookReceiver};

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
    let alerts = format!(
        "[delivery.alerts]\nwebhook_url = \"{}\"\n",
        admin.url("/alerts")
    );
    alerting(
        apis,
        token,
        &alerts,
        &[("JEMBATAN_ALERTS_WEBHOOK_SECRET", SECRET)],
        data_dir,
    )
}

/// A gateway whose WhatsApp token is `token`, pausing the channel after 300 ms of
/// refused credentials, with `alerts` (TOML: `[delivery.alerts]` and whatever it
/// needs) and `env` added.
fn alerting(
    apis: &ChatApis,
    token: &str,
    alerts: &str,
    env: &[(&str, &str)],
    data_dir: Option<std::path::PathBuf>,
) -> Gateway {
    let config = format!(
        "[delivery]\ncredential_pause = \"300ms\"\n\n\
         [delivery.whatsapp]\nbase_url = \"{}\"\nphone_number_id = \"1055\"\n\
         access_token = \"set-by-env\"\n\n{alerts}",
        apis.base_url(),
    );
    let env = [
        ("JEMBATAN_DELIVERY_RETRY_SCHEDULE", "200ms,200ms,200ms"),
        ("JEMBATAN_WHATSAPP_ACCESS_TOKEN", token),
        ("JEMBATAN_WHATSAPP_APP_SECRET", APP_SECRET),
    ]
    .iter()
    .chain(env)
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let gw = Gateway::start_with(Options {
        env,
        config: Some(config),
        data_dir,
        ..Options::default()
    });
    apis.whatsapp_webhook(&gw.url("/v1/whatsapp/webhook"), APP_SECRET);
    gw
}

/// Posts order `order_number`, routed to a craftsman whose one channel is a
/// WhatsApp number inside its service window; the order's id.
fn order_to_whatsapp(gw: &Gateway, apis: &ChatApis, order_number: &str) -> String {
    let key = gw.create_buyer("mitra-otoparts", "canonical-json", json!({}));
    gw.create_craftsman(json!({"id": "jaya", "name": "Jaya",
        "channels": [{"type": "whatsapp", "to": "6281234567890"}]}));
    gw.route("mitra-otoparts", "PBG-017", "jaya");
    assert_eq!(apis.whatsapp_user_writes("6281234567890"), 200);
    gw.post_canonical_order(&key, order_number, "PBG-017")
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
    let order_id = order_to_whatsapp(&gw, &apis, "PO-ALERT-1");

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

/// The admin's alert by e-mail (`[delivery.alerts] email`): one mail through the
/// gateway's own relay, marked `Auto-Submitted: auto-generated` (RFC 3834 §5.1) so
/// no responder answers it, saying which channel paused and why, on lines the
/// service's text cannot break.
#[test]
fn a_pause_is_mailed_to_the_admin_as_an_auto_generated_notice() {
    let apis = ChatApis::start(GOOD_TOKEN, TELEGRAM_TOKEN);
    let sink = SmtpSink::start();
    let alerts = format!(
        "[delivery.email]\nhost = \"127.0.0.1\"\nport = {}\ntls = \"none\"\n\
         from = \"jembatan <orders@jembatan.test>\"\n\n\
         [delivery.alerts]\nemail = \"ops@jembatan.test\"\n",
        sink.port(),
    );
    let gw = alerting(&apis, "wa-token-expired-77f0", &alerts, &[], None);
    order_to_whatsapp(&gw, &apis, "PO-ALERT-MAIL-1");

    let mail = sink.wait_for(|m| !m.is_empty(), WAIT).remove(0);
    assert_eq!(mail["rcpt_tos"], json!(["ops@jembatan.test"]), "{mail:#}");
    assert_eq!(mail["subject"], "jembatan: the whatsapp channel is paused");
    let headers = mail["headers"].as_array().unwrap();
    let auto_submitted: Vec<_> = headers
        .iter()
        .filter(|h| {
            h[0].as_str()
                .unwrap()
                .eq_ignore_ascii_case("Auto-Submitted")
        })
        .map(|h| h[1].as_str().unwrap())
        .collect();
    assert_eq!(auto_submitted, ["auto-generated"], "{headers:#?}");
    assert!(
        headers
            .iter()
            .all(|h| !["bcc", "x-injected"]
                .contains(&h[0].as_str().unwrap().to_lowercase().as_str())),
        "{headers:#?}"
    );
    let text = mail["text"].as_str().unwrap();
    assert!(
        text.contains("The whatsapp channel was paused at"),
        "{text}"
    );
    assert!(text.contains("(error 190)"), "the reason: {text}");
    assert!(text.contains("none is lost"), "{text}");
    assert!(!text.contains("wa-token"), "no token in the mail: {text}");
    // One pause, one mail, however often the channel is refused after.
    thread::sleep(Duration::from_secs(2));
    assert_eq!(sink.wait_for(|_| true, WAIT).len(), 1);
}
