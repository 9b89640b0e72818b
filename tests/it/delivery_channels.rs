//! The channels against servers that answer as real ones do, through the real
//! binary: an SMTP server that requires STARTTLS, or speaks TLS from the first
//! byte, with a certificate from a CA that only the operator's config trusts; and
//! receivers that refuse an order for good (an SMTP 5xx, a chat API's 4xx), which
//! must kill the delivery at its first attempt rather than retry it for a day and
//! a half.
//!
//! Every gateway here retries on a quick schedule, so a failure wrongly taken for
//! a passing one shows up as more attempts within the test.

use std::thread;
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};

use crate::delivery::SECRET;
use crate::harness::{Gateway, Options, json_of};
use crate::peers::{ChatApis, SmtpSink, SmtpSinkTls, TestCertificates, WebhookReceiver};

const WAIT: Duration = Duration::from_secs(30);
const SCHEDULE: &str = "200ms,200ms,200ms";
const SMTP_PASSWORD: &str = "smtp-pass-4r7q";

/// A gateway with this config file (and environment), retrying on [`SCHEDULE`].
fn gateway(config: String, env: &[(&str, &str)]) -> Gateway {
    let mut vars = vec![(
        "JEMBATAN_DELIVERY_RETRY_SCHEDULE".to_owned(),
        SCHEDULE.to_owned(),
    )];
    vars.extend(env.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    Gateway::start_with(Options {
        env: vars,
        config: Some(config),
        ..Options::default()
    })
}

/// `[delivery.email]` for an SMTP server on loopback, then `extra` lines.
fn email_config(port: u16, tls: &str, extra: &str) -> String {
    format!(
        "[delivery.email]\nhost = \"127.0.0.1\"\nport = {port}\ntls = \"{tls}\"\n\
         from = \"jembatan <orders@jembatan.test>\"\n{extra}"
    )
}

/// Creates the buyer `mitra-otoparts` and the craftsman `jaya` with `channels`,
/// routes the buyer's `PBG-017` to them, and posts the canonical order numbered
/// `number`; returns the order's id.
fn order_for_craftsman_with(gw: &Gateway, channels: Value, number: &str) -> String {
    let key = gw.create_buyer("mitra-otoparts", "canonical-json", json!({}));
    gw.create_craftsman(json!({"id": "jaya", "name": "Jaya", "channels": channels}));
    gw.route("mitra-otoparts", "PBG-017", "jaya");
    gw.post_canonical_order(&key, number, "PBG-017")
}

/// `jaya`'s channels when they take orders by e-mail only.
fn email_to_jaya() -> Value {
    json!([{"type": "email", "to": "jaya@bengkel.test"}])
}

/// Polls `/v1/admin/deliveries?order=` until the order's deliveries satisfy
/// `done`; returns them.
#[track_caller]
fn wait_deliveries(gw: &Gateway, order_id: &str, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    let deadline = Instant::now() + WAIT;
    loop {
        let page = gw.admin_get(&format!("/v1/admin/deliveries?order={order_id}"));
        let deliveries = page["deliveries"].as_array().unwrap();
        if !deliveries.is_empty() && done(deliveries) {
            return deliveries.clone();
        }
        assert!(
            Instant::now() < deadline,
            "still waiting after {WAIT:?}: {page:#}"
        );
        thread::sleep(Duration::from_millis(50));
    }
}

/// Whether no delivery is pending any more.
fn settled(deliveries: &[Value]) -> bool {
    deliveries.iter().all(|d| d["state"] != "pending")
}

/// A delivery's attempts, oldest first, from `/v1/admin/deliveries/{id}`.
fn attempt_log(gw: &Gateway, delivery: &Value) -> Vec<Value> {
    let id = delivery["id"].as_str().unwrap();
    let detail = gw.admin_get(&format!("/v1/admin/deliveries/{id}"));
    detail["attempt_log"].as_array().unwrap().clone()
}

/// The one delivery of `channel` among `deliveries`.
fn of_channel<'a>(deliveries: &'a [Value], channel: &str) -> &'a Value {
    let mut matching = deliveries.iter().filter(|d| d["channel"] == channel);
    let delivery = matching
        .next()
        .unwrap_or_else(|| panic!("no {channel} delivery: {deliveries:#?}"));
    assert!(matching.next().is_none(), "two {channel} deliveries");
    delivery
}

/// Asserts the delivery is dead after exactly one attempt, refused for good
/// with `status`, its attempt's error holding each of `words`.
#[track_caller]
fn assert_dead_at_first_attempt(gw: &Gateway, delivery: &Value, status: u16, words: &[&str]) {
    assert_first_attempt_ended(gw, delivery, "permanent", status, words);
}

/// [`assert_dead_at_first_attempt`] for a chat the bot cannot reach: the attempt
/// also disabled the channel.
#[track_caller]
fn assert_unreachable_at_first_attempt(
    gw: &Gateway,
    delivery: &Value,
    status: u16,
    words: &[&str],
) {
    assert_first_attempt_ended(gw, delivery, "disable", status, words);
}

#[track_caller]
fn assert_first_attempt_ended(
    gw: &Gateway,
    delivery: &Value,
    outcome: &str,
    status: u16,
    words: &[&str],
) {
    assert_eq!(delivery["state"], "dead", "{delivery:#}");
    assert_eq!(delivery["attempts"], 1, "not retried: {delivery:#}");
    assert_eq!(delivery["last_status_code"], status, "{delivery:#}");
    let log = attempt_log(gw, delivery);
    assert_eq!(log.len(), 1, "{log:#?}");
    assert_eq!(log[0]["outcome"], outcome, "{:#}", log[0]);
    assert_eq!(log[0]["status_code"], status, "{:#}", log[0]);
    let error = log[0]["error"].as_str().unwrap();
    for word in words {
        assert!(error.contains(word), "{word:?} not in {error:?}");
    }
}

/// Sends one order by e-mail to a sink speaking `tls`, through a gateway that
/// trusts the sink's CA; returns the message the sink took.
fn send_one_email_over(tls: SmtpSinkTls, gateway_tls: &str) -> Value {
    let certificates = TestCertificates::generate();
    let sink = SmtpSink::start_tls(tls, &certificates, Some(("jembatan", SMTP_PASSWORD)));
    let trust = format!(
        "username = \"jembatan\"\nca_file = \"{}\"\n",
        certificates.ca_cert().display()
    );
    let gw = gateway(
        email_config(sink.port(), gateway_tls, &trust),
        &[("JEMBATAN_SMTP_PASSWORD", SMTP_PASSWORD)],
    );
    let order_id = order_for_craftsman_with(&gw, email_to_jaya(), "PO-TLS-1");

    let mail = sink.wait_for(|m| !m.is_empty(), WAIT).remove(0);
    assert_eq!(mail["rcpt_tos"], json!(["jaya@bengkel.test"]));
    let subject = mail["subject"].as_str().unwrap();
    assert!(subject.contains("PO-TLS-1"), "{subject}");
    assert_eq!(mail["auth_user"], "jembatan");

    let deliveries = wait_deliveries(&gw, &order_id, settled);
    let delivery = of_channel(&deliveries, "email");
    assert_eq!(delivery["state"], "succeeded", "{delivery:#}");
    let log = attempt_log(&gw, delivery);
    assert_eq!(log.len(), 1, "{log:#?}");
    assert_eq!(log[0]["outcome"], "succeeded");
    assert_eq!(log[0]["status_code"], 250);
    let order = gw.admin_get(&format!("/v1/admin/orders/{order_id}"));
    assert_eq!(order["status"], "delivered");
    assert_eq!(sink.attempts().len(), 1, "one message, no repeat");
    mail
}

/// The `tls` record of a message that must have come in encrypted.
#[track_caller]
fn assert_encrypted(mail: &Value, starttls: bool) {
    let tls = &mail["tls"];
    assert!(tls.is_object(), "the message came in plain text: {tls}");
    assert_eq!(tls["starttls"], starttls, "{tls}");
    let version = tls["version"].as_str().unwrap();
    assert!(version == "TLSv1.2" || version == "TLSv1.3", "{version}");
}

#[test]
fn email_goes_over_starttls_to_a_server_whose_ca_the_operator_trusts() {
    let mail = send_one_email_over(SmtpSinkTls::Starttls, "starttls");
    // The sink offers AUTH only after STARTTLS: the password went encrypted too.
    assert_encrypted(&mail, true);
}

#[test]
fn email_goes_over_implicit_tls_to_a_server_whose_ca_the_operator_trusts() {
    let mail = send_one_email_over(SmtpSinkTls::Implicit, "tls");
    assert_encrypted(&mail, false);
}

#[test]
fn email_to_a_server_with_an_untrusted_certificate_is_retried_never_sent_in_clear() {
    let certificates = TestCertificates::generate();
    let sink = SmtpSink::start_tls(SmtpSinkTls::Starttls, &certificates, None);
    // The same server, but the operator never said to trust its CA.
    let gw = gateway(email_config(sink.port(), "starttls", ""), &[]);
    let order_id = order_for_craftsman_with(&gw, email_to_jaya(), "PO-UNTRUSTED-1");

    // The whole schedule: the first attempt and one per wait.
    let deliveries = wait_deliveries(&gw, &order_id, settled);
    let delivery = of_channel(&deliveries, "email");
    assert_eq!(delivery["state"], "dead", "{delivery:#}");
    assert_eq!(delivery["attempts"], 4, "retried: {delivery:#}");
    let log = attempt_log(&gw, delivery);
    assert_eq!(log.len(), 4, "{log:#?}");
    for attempt in &log {
        assert_eq!(attempt["outcome"], "retry", "{attempt:#}");
        assert!(attempt["status_code"].is_null(), "{attempt:#}");
        let error = attempt["error"].as_str().unwrap();
        assert!(
            error.contains("certificate") && error.contains("UnknownIssuer"),
            "{error}"
        );
    }
    assert!(sink.attempts().is_empty(), "nothing reached DATA");
    let order = gw.admin_get(&format!("/v1/admin/orders/{order_id}"));
    assert_eq!(order["status"], "failed");
}

#[test]
fn an_smtp_5xx_kills_the_email_delivery_at_its_first_attempt() {
    let sink = SmtpSink::start();
    sink.set_status(550);
    let gw = gateway(email_config(sink.port(), "none", ""), &[]);
    let order_id = order_for_craftsman_with(&gw, email_to_jaya(), "PO-550-1");

    let deliveries = wait_deliveries(&gw, &order_id, settled);
    assert_dead_at_first_attempt(
        &gw,
        of_channel(&deliveries, "email"),
        550,
        &["Message rejected"],
    );
    let order = gw.admin_get(&format!("/v1/admin/orders/{order_id}"));
    assert_eq!(order["status"], "failed");
    let attempts = sink.attempts();
    assert_eq!(attempts.len(), 1, "sent once: {attempts:#?}");
    assert_eq!(attempts[0]["status"], 550);
}

const WHATSAPP_TOKEN: &str = "wa-token-5d2e";
const TELEGRAM_TOKEN: &str = "654321:tg-token-k3";

const WHATSAPP_APP_SECRET: &str = "wa-app-secret-61f0";
const TELEGRAM_SECRET_TOKEN: &str = "tg-secret-5c2e";

/// A gateway configured for both chat APIs, served by `apis`, which sends the
/// gateway its WhatsApp webhooks.
fn chat_gateway(apis: &ChatApis) -> Gateway {
    let config = format!(
        "[delivery.whatsapp]\nbase_url = \"{base}\"\nphone_number_id = \"1055\"\n\
         access_token = \"{WHATSAPP_TOKEN}\"\n\n\
         [delivery.telegram]\nbase_url = \"{base}\"\nbot_token = \"{TELEGRAM_TOKEN}\"\n",
        base = apis.base_url()
    );
    let gw = gateway(
        config,
        &[
            ("JEMBATAN_WHATSAPP_APP_SECRET", WHATSAPP_APP_SECRET),
            ("JEMBATAN_TELEGRAM_SECRET_TOKEN", TELEGRAM_SECRET_TOKEN),
        ],
    );
    apis.whatsapp_webhook(&gw.url("/v1/whatsapp/webhook"), WHATSAPP_APP_SECRET);
    apis.control(json!({"telegram_webhook": {
        "url": gw.url("/v1/telegram/webhook"), "secret_token": TELEGRAM_SECRET_TOKEN}}));
    gw
}

#[test]
fn chat_api_refusals_kill_their_deliveries_at_the_first_attempt() {
    let apis = ChatApis::start(WHATSAPP_TOKEN, TELEGRAM_TOKEN);
    apis.control(json!({"unknown_recipients": ["62804040404", "-100404"]}));
    let gw = chat_gateway(&apis);
    let key = gw.create_buyer("mitra-otoparts", "canonical-json", json!({}));
    gw.create_craftsman(json!({"id": "jaya", "name": "Jaya", "channels": [
        {"type": "whatsapp", "to": "62804040404"}, {"type": "telegram", "chat_id": "-100404"}]}));
    gw.route("mitra-otoparts", "PBG-017", "jaya");
    // The craftsman wrote to the business number: the gateway may send free-form.
    assert_eq!(apis.whatsapp_user_writes("62804040404"), 200);
    let order_id = gw.post_canonical_order(&key, "PO-4XX-1", "PBG-017");

    let deliveries = wait_deliveries(&gw, &order_id, |d| d.len() == 2 && settled(d));
    assert_dead_at_first_attempt(
        &gw,
        of_channel(&deliveries, "whatsapp"),
        400,
        &["131030", "Recipient phone number not in allowed list"],
    );
    assert_unreachable_at_first_attempt(
        &gw,
        of_channel(&deliveries, "telegram"),
        400,
        &["Bad Request: chat not found"],
    );
    let order = gw.admin_get(&format!("/v1/admin/orders/{order_id}"));
    assert_eq!(order["status"], "failed");
    let received = apis.received();
    let statuses: Vec<_> = received.iter().map(|r| (&r["api"], &r["status"])).collect();
    assert_eq!(received.len(), 2, "one request each: {statuses:?}");
    assert!(received.iter().all(|r| r["status"] == 400), "{statuses:?}");
}

/// Telegram, whose 429 carries no error code of its own: the HTTP status alone
/// must say "try again". (WhatsApp's 429 also carries Graph code 130429.)
#[test]
fn a_chat_api_429_is_retried_and_then_delivered() {
    let apis = ChatApis::start(WHATSAPP_TOKEN, TELEGRAM_TOKEN);
    apis.fail_next(1, 429);
    let gw = chat_gateway(&apis);
    let order_id = order_for_craftsman_with(
        &gw,
        json!([{"type": "telegram", "chat_id": "-100777"}]),
        "PO-429-1",
    );

    let deliveries = wait_deliveries(&gw, &order_id, settled);
    let delivery = of_channel(&deliveries, "telegram");
    assert_eq!(delivery["state"], "succeeded", "{delivery:#}");
    let log = attempt_log(&gw, delivery);
    assert_eq!(log.len(), 2, "{log:#?}");
    assert_eq!(
        (&log[0]["outcome"], &log[0]["status_code"]),
        (&json!("retry"), &json!(429)),
        "{:#}",
        log[0]
    );
    assert!(
        log[0]["error"]
            .as_str()
            .unwrap()
            .contains("Too Many Requests"),
        "{:#}",
        log[0]
    );
    assert_eq!(log[1]["outcome"], "succeeded");
    // Telegram's `retry_after` (1 s here) came before the schedule's 200 ms.
    let time = |v: &Value| chrono::DateTime::parse_from_rfc3339(v.as_str().unwrap()).unwrap();
    let waited = time(&log[1]["started_at"]) - time(&log[0]["started_at"]);
    assert!(waited.num_milliseconds() >= 1000, "retried after {waited}");
    let calls: Vec<_> = apis
        .received()
        .iter()
        .map(|r| format!("{} {}", r["method"].as_str().unwrap(), r["status"]))
        .collect();
    assert_eq!(
        calls,
        ["sendMessage 429", "sendMessage 200", "sendDocument 200"]
    );
}

/// lettre's async SMTP `timeout` bounds only the connect (lettre issue #1027):
/// the send's outer deadline must free the slot of a server that stalls, and the
/// delivery must be retried, and go out once the server is well again.
#[test]
fn a_stalled_smtp_server_frees_its_slot_at_the_deadline_and_the_delivery_is_retried() {
    for mode in ["data", "greeting"] {
        let sink = SmtpSink::start();
        sink.stall(Some(mode));
        let gw = gateway(
            email_config(sink.port(), "none", "") + "\n[delivery.deadlines]\nemail = \"2s\"\n",
            &[],
        );
        let order_id = order_for_craftsman_with(&gw, email_to_jaya(), "PO-STALL-1");

        // The first attempt is cut off at the deadline and retried.
        let deliveries = wait_deliveries(&gw, &order_id, |d| {
            d[0]["attempts"].as_u64().is_some_and(|n| n >= 1)
        });
        let log = attempt_log(&gw, of_channel(&deliveries, "email"));
        assert_eq!(log[0]["outcome"], "retry", "{mode}: {:#}", log[0]);
        let error = log[0]["error"].as_str().unwrap();
        assert!(error.contains("deadline of 2s"), "{mode}: {error}");
        let took = log[0]["duration_ms"].as_u64().unwrap();
        assert!((1900..6000).contains(&took), "{mode}: took {took} ms");

        // Healed, the next attempt delivers: the stalled connection is not reused.
        sink.stall(None);
        let deliveries = wait_deliveries(&gw, &order_id, settled);
        let delivery = of_channel(&deliveries, "email");
        assert_eq!(delivery["state"], "succeeded", "{mode}: {delivery:#}");
        let mail = sink.wait_for(|m| !m.is_empty(), WAIT).remove(0);
        assert!(mail["subject"].as_str().unwrap().contains("PO-STALL-1"));
    }
}

/// A receiver's `Retry-After: 120` moves the next attempt two minutes out, past
/// the schedule's 200 ms, as the attempt log and the delivery's due time show.
#[test]
fn a_retry_after_of_120_seconds_moves_the_next_attempt_by_two_minutes() {
    let receiver = WebhookReceiver::start(SECRET);
    receiver.control(json!({"fail_next": 1, "status": 503, "retry_after_header": "120"}));
    let gw = gateway(String::new(), &[("JEMBATAN_ALLOW_PRIVATE_TARGETS", "1")]);
    let order_id = order_for_craftsman_with(
        &gw,
        json!([{"type": "webhook", "url": receiver.url("/orders"), "secret": SECRET}]),
        "PO-HINT-1",
    );

    let deliveries = wait_deliveries(&gw, &order_id, |d| d[0]["attempts"] == 1);
    let delivery = of_channel(&deliveries, "webhook");
    assert_eq!(delivery["state"], "pending", "{delivery:#}");
    let log = attempt_log(&gw, delivery);
    assert_eq!(log.len(), 1, "{log:#?}");
    assert_eq!(log[0]["outcome"], "retry");
    assert_eq!(log[0]["status_code"], 503);
    assert!(
        log[0]["error"]
            .as_str()
            .unwrap()
            .contains("Retry-After: 120"),
        "{:#}",
        log[0]
    );
    let time = |v: &Value| chrono::DateTime::parse_from_rfc3339(v.as_str().unwrap()).unwrap();
    let waited = time(&delivery["next_attempt_at"]) - time(&log[0]["started_at"]);
    assert!(
        (119..=125).contains(&waited.num_seconds()),
        "the next attempt is {waited} after the first"
    );
    thread::sleep(Duration::from_secs(1));
    assert_eq!(
        receiver.received().len(),
        1,
        "not retried on the 200 ms schedule"
    );
}

/// A Telegram group that became a supergroup: the Bot API names the new chat
/// (`migrate_to_chat_id`), the order goes there in the same attempt, and the
/// channel keeps the new id.
#[test]
fn a_migrated_telegram_group_gets_the_order_and_the_channel_its_new_id() {
    let apis = ChatApis::start(WHATSAPP_TOKEN, TELEGRAM_TOKEN);
    apis.control(json!({"telegram_migrated": {"-100777": -1001777}}));
    let gw = chat_gateway(&apis);
    let order_id = order_for_craftsman_with(
        &gw,
        json!([{"type": "telegram", "chat_id": "-100777"}]),
        "PO-MIGRATED-1",
    );

    let deliveries = wait_deliveries(&gw, &order_id, settled);
    let delivery = of_channel(&deliveries, "telegram");
    assert_eq!(delivery["state"], "succeeded", "{delivery:#}");
    assert_eq!(delivery["attempts"], 1);
    let calls: Vec<_> = apis
        .received()
        .iter()
        .map(|r| {
            let fields = if r["json"].is_object() {
                &r["json"]
            } else {
                &r["fields"]
            };
            format!(
                "{} {} {}",
                r["method"].as_str().unwrap(),
                fields["chat_id"].to_string().trim_matches('"'),
                r["status"]
            )
        })
        .collect();
    assert_eq!(
        calls[..3],
        [
            "sendMessage -100777 400",
            "sendMessage -1001777 200",
            "sendDocument -1001777 200"
        ],
        "{calls:#?}"
    );
    let craftsman = gw.admin_get("/v1/admin/craftsmen/jaya");
    assert_eq!(craftsman["channels"][0]["chat_id"], "-1001777");
}

/// A chat delivery is several requests: the text, then documents. When a later
/// one fails, the retry sends only what is left, so the craftsman gets the text
/// once (issue 8).
#[test]
fn a_failed_telegram_document_is_sent_again_without_the_text_before_it() {
    let apis = ChatApis::start(WHATSAPP_TOKEN, TELEGRAM_TOKEN);
    apis.control(json!({"telegram_fail_method": {"method": "sendDocument", "times": 1}}));
    let gw = chat_gateway(&apis);
    let order_id = order_for_craftsman_with(
        &gw,
        json!([{"type": "telegram", "chat_id": "-100555"}]),
        "PO-PARTS-1",
    );

    let deliveries = wait_deliveries(&gw, &order_id, settled);
    let delivery = of_channel(&deliveries, "telegram");
    assert_eq!(delivery["state"], "succeeded", "{delivery:#}");
    assert_eq!(delivery["attempts"], 2, "{delivery:#}");
    let calls: Vec<String> = apis
        .received()
        .iter()
        .map(|r| format!("{} {}", r["method"].as_str().unwrap(), r["status"]))
        .collect();
    assert_eq!(
        calls,
        ["sendMessage 200", "sendDocument 500", "sendDocument 200"],
        "{calls:#?}"
    );
}

/// An expired WhatsApp token (Graph code 190) is the operator's to fix, not the
/// order's fault: the channel pauses, its delivery stays pending well past the
/// attempts its schedule allows, and goes out once the gateway has a good token.
#[test]
fn an_expired_whatsapp_token_pauses_the_channel_and_the_order_goes_out_once_fixed() {
    const GOOD: &str = "wa-token-renewed-71aa";
    let apis = ChatApis::start(GOOD, TELEGRAM_TOKEN);
    let config = format!(
        "[delivery]\ncredential_pause = \"300ms\"\n\n\
         [delivery.whatsapp]\nbase_url = \"{}\"\nphone_number_id = \"1055\"\n\
         access_token = \"set-by-env\"\n",
        apis.base_url()
    );
    let env = |token: &str| {
        vec![
            (
                "JEMBATAN_DELIVERY_RETRY_SCHEDULE".to_owned(),
                SCHEDULE.to_owned(),
            ),
            (
                "JEMBATAN_WHATSAPP_ACCESS_TOKEN".to_owned(),
                token.to_owned(),
            ),
            (
                "JEMBATAN_WHATSAPP_APP_SECRET".to_owned(),
                WHATSAPP_APP_SECRET.to_owned(),
            ),
        ]
    };
    let gw = Gateway::start_with(Options {
        env: env("wa-token-expired-09c3"),
        config: Some(config.clone()),
        ..Options::default()
    });
    apis.whatsapp_webhook(&gw.url("/v1/whatsapp/webhook"), WHATSAPP_APP_SECRET);
    let key = gw.create_buyer("mitra-otoparts", "canonical-json", json!({}));
    gw.create_craftsman(json!({"id": "jaya", "name": "Jaya",
        "channels": [{"type": "whatsapp", "to": "6281234567890"}]}));
    gw.route("mitra-otoparts", "PBG-017", "jaya");
    assert_eq!(apis.whatsapp_user_writes("6281234567890"), 200);
    let order_id = gw.post_canonical_order(&key, "PO-TOKEN-1", "PBG-017");

    // More attempts than the schedule's four, and still pending.
    let deliveries = wait_deliveries(&gw, &order_id, |d| {
        d[0]["attempts"].as_u64().is_some_and(|n| n >= 6)
    });
    let delivery = of_channel(&deliveries, "whatsapp");
    assert_eq!(delivery["state"], "pending", "{delivery:#}");
    let log = attempt_log(&gw, delivery);
    assert!(log.iter().all(|a| a["outcome"] == "retry"), "{log:#?}");
    let error = log[0]["error"].as_str().unwrap();
    assert!(error.contains("(error 190)"), "{error}");
    let order = gw.admin_get(&format!("/v1/admin/orders/{order_id}"));
    assert_eq!(order["status"], "received", "not failed");

    // The operator sets a good token and restarts: the order goes out.
    let data_dir = gw.kill();
    let gw = Gateway::start_with(Options {
        env: env(GOOD),
        config: Some(config),
        data_dir: Some(data_dir),
        ..Options::default()
    });
    let deliveries = wait_deliveries(&gw, &order_id, settled);
    let delivery = of_channel(&deliveries, "whatsapp");
    assert_eq!(delivery["state"], "succeeded", "{delivery:#}");
    let sent = apis
        .received()
        .into_iter()
        .filter(|r| r["api"] == "whatsapp" && r["status"] == 200)
        .count();
    assert!(sent >= 1);
}

/// A bot cannot write first to a user who never started it: the delivery is dead
/// at once, and says what the craftsman must do.
#[test]
fn a_telegram_user_who_never_started_the_bot_is_refused_for_good() {
    let apis = ChatApis::start(WHATSAPP_TOKEN, TELEGRAM_TOKEN);
    apis.control(json!({"telegram_not_started": ["987654321"]}));
    let gw = chat_gateway(&apis);
    let order_id = order_for_craftsman_with(
        &gw,
        json!([{"type": "telegram", "chat_id": "987654321"}]),
        "PO-NOSTART-1",
    );
    let deliveries = wait_deliveries(&gw, &order_id, settled);
    assert_unreachable_at_first_attempt(
        &gw,
        of_channel(&deliveries, "telegram"),
        403,
        &["bot can't initiate conversation with a user", "press Start"],
    );
}

/// Chats the bot can no longer reach (blocked, kicked from the group, a deleted
/// account): each is that one chat's fault, so its delivery is dead at the first
/// attempt and says what happened in words an admin understands, while the
/// craftsman's other chat gets the order and the channel never pauses.
#[test]
fn telegram_chats_the_bot_cannot_reach_are_dead_with_a_reason_and_the_channel_goes_on() {
    let apis = ChatApis::start(WHATSAPP_TOKEN, TELEGRAM_TOKEN);
    apis.control(json!({"telegram_unreachable": {
        "4242": "blocked",
        "-100555": "kicked_supergroup",
        "-556": "kicked_group",
        "4343": "deactivated",
    }}));
    let gw = chat_gateway(&apis);
    let order_id = order_for_craftsman_with(
        &gw,
        json!([
            {"type": "telegram", "chat_id": "4242"},
            {"type": "telegram", "chat_id": "-100555"},
            {"type": "telegram", "chat_id": "-556"},
            {"type": "telegram", "chat_id": "4343"},
            {"type": "telegram", "chat_id": "-100777"},
        ]),
        "PO-GONE-1",
    );
    let deliveries = wait_deliveries(&gw, &order_id, |d| d.len() == 5 && settled(d));

    let cases = [
        (
            403,
            "Forbidden: bot was blocked by the user",
            "the craftsman blocked the bot",
        ),
        (
            403,
            "Forbidden: bot was kicked from the supergroup chat",
            "the bot was removed from the craftsman's group",
        ),
        (
            403,
            "Forbidden: bot was kicked from the group chat",
            "the bot was removed from the craftsman's group",
        ),
        (
            403,
            "Forbidden: user is deactivated",
            "the craftsman's Telegram account was deleted",
        ),
    ];
    for (status, said, reason) in cases {
        let matching: Vec<_> = deliveries
            .iter()
            .filter(|d| d["last_error"].as_str().is_some_and(|e| e.contains(said)))
            .collect();
        assert_eq!(matching.len(), 1, "{said:?}: {deliveries:#?}");
        assert_unreachable_at_first_attempt(&gw, matching[0], status, &[said, reason]);
        let last_error = matching[0]["last_error"].as_str().unwrap();
        assert!(
            last_error.contains(reason),
            "{reason:?} not in {last_error:?}"
        );
    }
    let succeeded: Vec<_> = deliveries
        .iter()
        .filter(|d| d["state"] == "succeeded")
        .collect();
    assert_eq!(succeeded.len(), 1, "the reachable chat: {deliveries:#?}");
    assert_eq!(succeeded[0]["attempts"], 1, "{:#}", succeeded[0]);

    // No pause: the bot works for everyone else.
    let paused = gw.admin_get("/v1/admin/channels/paused");
    assert_eq!(paused["paused"], json!([]), "{paused:#}");
    // One refused sendMessage per unreachable chat, nothing sent again.
    let refused: Vec<_> = apis
        .received()
        .into_iter()
        .filter(|r| r["api"] == "telegram" && r["status"] != 200)
        .collect();
    assert_eq!(refused.len(), 4, "{refused:#?}");
    assert!(
        refused.iter().all(|r| r["method"] == "sendMessage"),
        "{refused:#?}"
    );
}

/// A chat the bot cannot reach disables that craftsman's Telegram channel, saying
/// why: their next order is dead at once, with the reason and without another
/// refused request. Once the chat writes to the bot again the channel is enabled
/// and the next order arrives; an admin enabling the channel does the same.
#[test]
fn an_unreachable_telegram_chat_disables_its_channel_until_it_writes_again() {
    let apis = ChatApis::start(WHATSAPP_TOKEN, TELEGRAM_TOKEN);
    apis.control(json!({"telegram_unreachable": {
        "-100666": "not_member", "-667": "group_deleted"}}));
    let gw = chat_gateway(&apis);
    let key = gw.create_buyer("mitra-otoparts", "canonical-json", json!({}));
    gw.create_craftsman(json!({"id": "jaya", "name": "Jaya", "channels": [
        {"type": "telegram", "chat_id": "-100666"}, {"type": "telegram", "chat_id": "-667"}]}));
    gw.route("mitra-otoparts", "PBG-017", "jaya");
    let channel_of = |chat_id: &str| {
        let jaya = gw.admin_get("/v1/admin/craftsmen/jaya");
        jaya["channels"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["chat_id"] == chat_id)
            .unwrap()
            .clone()
    };
    let delivery_to = |deliveries: &[Value], chat_id: &str| {
        let channel_id = channel_of(chat_id)["id"].clone();
        deliveries
            .iter()
            .find(|d| d["channel_id"] == channel_id)
            .unwrap()
            .clone()
    };

    let first = gw.post_canonical_order(&key, "PO-UNREACH-1", "PBG-017");
    let deliveries = wait_deliveries(&gw, &first, |d| d.len() == 2 && settled(d));
    let cases = [
        (
            "-100666",
            "Forbidden: bot is not a member of the group chat",
            "the bot is not a member of the craftsman's group",
        ),
        (
            "-667",
            "Forbidden: the group chat was deleted",
            "the craftsman's group was deleted",
        ),
    ];
    for (chat_id, said, reason) in cases {
        let delivery = delivery_to(&deliveries, chat_id);
        assert_unreachable_at_first_attempt(&gw, &delivery, 403, &[said, reason]);
        let channel = channel_of(chat_id);
        assert_eq!(channel["enabled"], false, "{channel:#}");
        let why = channel["disabled_reason"].as_str().unwrap();
        assert!(why.contains(reason), "{why}");
    }
    let refused_before = apis.received().len();
    assert_eq!(refused_before, 2, "one refused request per chat");

    // The next order: dead on both at once, saying why, and nothing sent.
    let second = gw.post_canonical_order(&key, "PO-UNREACH-2", "PBG-017");
    let deliveries = wait_deliveries(&gw, &second, |d| d.len() == 2 && settled(d));
    for (chat_id, _, reason) in cases {
        let delivery = delivery_to(&deliveries, chat_id);
        assert_eq!(delivery["state"], "dead", "{delivery:#}");
        assert_eq!(delivery["attempts"], 0, "{delivery:#}");
        let error = delivery["last_error"].as_str().unwrap();
        assert!(
            error.contains("channel disabled") && error.contains(reason),
            "{error}"
        );
    }
    assert_eq!(
        apis.received().len(),
        refused_before,
        "no request to Telegram"
    );

    // Someone adds the bot back and writes in the group: that channel is enabled.
    let wrote = apis.control(json!({"telegram_user_writes": {
        "chat_id": "-100666", "text": "bot sudah ditambahkan lagi"}}));
    assert_eq!(wrote["webhook_status"], 200, "{wrote:#}");
    assert_eq!(channel_of("-100666")["enabled"], true);
    assert_eq!(channel_of("-667")["enabled"], false, "another chat's stays");
    // The admin enables the other one (its group was made anew under that id).
    apis.control(json!({"telegram_reachable": ["-667"]}));
    let other = channel_of("-667")["id"].as_str().unwrap().to_owned();
    json_of(
        gw.admin(
            Method::PATCH,
            &format!("/v1/admin/craftsmen/jaya/channels/{other}"),
            Some(json!({"enabled": true})),
        ),
        200,
    );
    let third = gw.post_canonical_order(&key, "PO-UNREACH-3", "PBG-017");
    let deliveries = wait_deliveries(&gw, &third, |d| d.len() == 2 && settled(d));
    assert!(
        deliveries.iter().all(|d| d["state"] == "succeeded"),
        "{deliveries:#?}"
    );
}

/// WhatsApp's pair rate limit (131056) is one recipient's: that delivery waits
/// Meta's pace of one message every 6 seconds and is then delivered, while the
/// craftsman's other number gets the order at once and the channel never pauses.
#[test]
fn a_whatsapp_pair_rate_limit_holds_only_that_recipient() {
    let apis = ChatApis::start(WHATSAPP_TOKEN, TELEGRAM_TOKEN);
    apis.control(json!({"whatsapp_pair_limit": {"6281111111111": 1}}));
    let gw = chat_gateway(&apis);
    let key = gw.create_buyer("mitra-otoparts", "canonical-json", json!({}));
    gw.create_craftsman(json!({"id": "jaya", "name": "Jaya", "channels": [
        {"type": "whatsapp", "to": "6281111111111"}, {"type": "whatsapp", "to": "6282222222222"}]}));
    gw.route("mitra-otoparts", "PBG-017", "jaya");
    assert_eq!(apis.whatsapp_user_writes("6281111111111"), 200);
    assert_eq!(apis.whatsapp_user_writes("6282222222222"), 200);
    let order_id = gw.post_canonical_order(&key, "PO-PAIR-1", "PBG-017");

    // At first: the other number has the order, the limited one waits its turn.
    let deliveries = wait_deliveries(&gw, &order_id, |d| {
        d.len() == 2
            && d.iter().any(|x| x["state"] == "succeeded")
            && d.iter()
                .any(|x| x["attempts"] == 1 && x["state"] == "pending")
    });
    let held = deliveries
        .iter()
        .find(|d| d["state"] == "pending")
        .unwrap()
        .clone();
    let log = attempt_log(&gw, &held);
    assert_eq!(log.len(), 1, "{log:#?}");
    assert_eq!(log[0]["outcome"], "retry", "{:#}", log[0]);
    let error = log[0]["error"].as_str().unwrap();
    assert!(error.contains("131056"), "{error}");
    assert!(error.contains("only this recipient waits"), "{error}");
    let paused = gw.admin_get("/v1/admin/channels/paused");
    assert_eq!(paused["paused"], json!([]), "no pause: {paused:#}");

    // Then, no earlier than Meta's pace allows, it goes out.
    let deliveries = wait_deliveries(&gw, &order_id, |d| {
        d.iter().all(|x| x["state"] == "succeeded")
    });
    let held = deliveries.iter().find(|d| d["id"] == held["id"]).unwrap();
    let log = attempt_log(&gw, held);
    assert_eq!(log.len(), 2, "{log:#?}");
    assert_eq!(log[1]["outcome"], "succeeded");
    let time = |v: &Value| chrono::DateTime::parse_from_rfc3339(v.as_str().unwrap()).unwrap();
    let waited = time(&log[1]["started_at"]) - time(&log[0]["started_at"]);
    assert!(waited.num_milliseconds() >= 6000, "retried after {waited}");
}
