//! Delivery to craftsmen through the real binary, to real receivers on loopback: a
//! webhook receiver that verifies signatures with the independent `standardwebhooks`
//! package, an SMTP server (aiosmtpd) whose mail is parsed by Python's `email`, and
//! local servers speaking the WhatsApp Cloud and Telegram Bot APIs.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::{Gateway, HeldPort, Options, canonical_order, expect_problem, json_of};
use crate::peers::{ChatApis, SmtpSink, WebhookReceiver};

pub(crate) const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
pub(crate) const WAIT: Duration = Duration::from_secs(30);

/// A gateway that may send to loopback, retrying on a quick schedule.
pub(crate) fn gateway(schedule: &str, config: Option<String>, env: &[(&str, &str)]) -> Gateway {
    let mut vars = vec![
        ("JEMBATAN_ALLOW_PRIVATE_TARGETS".to_owned(), "1".to_owned()),
        (
            "JEMBATAN_DELIVERY_RETRY_SCHEDULE".to_owned(),
            schedule.to_owned(),
        ),
    ];
    vars.extend(env.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    Gateway::start_with(Options {
        env: vars,
        config,
        ..Options::default()
    })
}

/// Creates the craftsman `jaya` with one webhook channel, to `url` and signed with
/// [`SECRET`], and routes the buyer's `PBG-017` to them; returns the craftsman as
/// created (with their token and the secret).
pub(crate) fn webhook_craftsman(gw: &Gateway, url: &str) -> Value {
    let craftsman = gw.create_craftsman(json!({"id": "jaya", "name": "Jaya", "channels": [
        {"type": "webhook", "url": url, "secret": SECRET}]}));
    gw.route("mitra-otoparts", "PBG-017", "jaya");
    craftsman
}

/// Polls the admin view of an order (with its deliveries) until `done` holds;
/// after [`WAIT`], panics saying what it waited for (`what`) and the last view.
#[track_caller]
pub(crate) fn wait_order(
    gw: &Gateway,
    order_id: &str,
    what: &str,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = Instant::now() + WAIT;
    loop {
        let order = gw.admin_get(&format!("/v1/admin/orders/{order_id}"));
        if done(&order) {
            return order;
        }
        assert!(Instant::now() < deadline, "order never {what}: {order:#}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Polls the admin view of an order until its status is `status`.
#[track_caller]
pub(crate) fn wait_order_status(gw: &Gateway, order_id: &str, status: &str) -> Value {
    wait_order(gw, order_id, &format!("became {status}"), |order| {
        order["status"] == status
    })
}

/// The Prometheus text at `/metrics`.
pub(crate) fn metrics_text(gw: &Gateway) -> String {
    let res = gw.client.get(gw.url("/metrics")).send().unwrap();
    assert_eq!(res.status(), 200);
    res.text().unwrap()
}

/// Order ids the receiver got with a good signature.
pub(crate) fn verified_ids(received: &[Value]) -> Vec<String> {
    received
        .iter()
        .filter(|r| r["verified"] == true && r["status"].as_u64().is_some_and(|s| s < 300))
        .map(|r| r["body"]["data"]["id"].as_str().unwrap().to_owned())
        .collect()
}

#[track_caller]
fn assert_no_secrets(gw: &Gateway, secrets: &[&str]) {
    let logs = gw.logs();
    assert!(!logs.is_empty());
    for secret in secrets {
        assert!(
            !logs.contains(secret),
            "a secret ({}…) is in the logs",
            &secret[..6]
        );
    }
}

#[test]
fn a_routed_order_reaches_the_webhook_signed_and_the_inbox() {
    let receiver = WebhookReceiver::start(SECRET);
    let gw = gateway("1s", None, &[]);
    let key = gw.create_buyer("mitra-otoparts", "canonical-json", json!({}));
    let craftsman = webhook_craftsman(&gw, &receiver.url("/orders"));
    let token = craftsman["token"].as_str().unwrap().to_owned();
    assert_eq!(
        craftsman["channels"][0]["secret"], SECRET,
        "shown once, at creation"
    );
    let shown = gw.admin_get("/v1/admin/craftsmen/jaya");
    assert!(shown["channels"][0].get("secret").is_none(), "{shown}");

    let order_id = gw.post_canonical_order(&key, "PO-HOOK-1", "PBG-017");
    let received = receiver.wait_for(|r| !verified_ids(r).is_empty(), WAIT);
    let hook = &received[0];
    assert_eq!(hook["verified"], true, "{hook}");
    assert_eq!(hook["path"], "/orders");
    assert_eq!(hook["body"]["type"], "order.created");
    let data = &hook["body"]["data"];
    assert_eq!(data["id"], order_id.as_str());
    assert_eq!(data["buyer_order_number"], "PO-HOOK-1");
    let stored = json_of(gw.get(&key, &format!("/v1/orders/{order_id}")), 200);
    assert_eq!(data["order"], stored["order"], "the canonical order, whole");

    let order = wait_order_status(&gw, &order_id, "delivered");
    let delivery = &order["deliveries"][0];
    assert_eq!(delivery["state"], "succeeded");
    assert_eq!(
        hook["webhook_id"], delivery["id"],
        "webhook-id is the delivery id"
    );
    assert_eq!(
        json_of(gw.get(&key, &format!("/v1/orders/{order_id}")), 200)["status"],
        "delivered"
    );

    // The inbox has it, with the craftsman's token only.
    let inbox = json_of(gw.get(&token, "/v1/inbox"), 200);
    assert_eq!(inbox["orders"][0]["id"], order_id.as_str());
    let one = json_of(gw.get(&token, &format!("/v1/inbox/{order_id}")), 200);
    assert_eq!(one["order"]["buyer_order_number"], "PO-HOOK-1");
    expect_problem(gw.get(&key, "/v1/inbox"), 401);
    expect_problem(gw.get(&token, "/v1/orders"), 401);
    assert_no_secrets(&gw, &[SECRET, &token, &key]);
}

#[test]
fn an_unrouted_order_waits_visibly_and_is_delivered_when_routed() {
    let receiver = WebhookReceiver::start(SECRET);
    let gw = gateway("1s", None, &[]);
    let key = gw.create_buyer("mitra-otoparts", "canonical-json", json!({}));
    let order_id = gw.post_canonical_order(&key, "PO-WAIT-1", "PBG-017");
    let order = gw.admin_get(&format!("/v1/admin/orders/{order_id}"));
    assert_eq!(order["status"], "unrouted");
    let unrouted = gw.admin_get("/v1/admin/orders?status=unrouted");
    assert_eq!(unrouted["orders"][0]["id"], order_id.as_str());

    gw.create_craftsman(json!({"id": "jaya", "name": "Jaya", "channels": [
        {"type": "webhook", "url": receiver.url("/"), "secret": SECRET}]}));
    let routed = gw.route("mitra-otoparts", "PBG-017", "jaya");
    assert_eq!(routed["routed_orders"], json!([order_id]));
    receiver.wait_for(|r| verified_ids(r) == [order_id.clone()], WAIT);
    wait_order_status(&gw, &order_id, "delivered");

    // Routes are checked: an unknown craftsman or buyer is refused.
    let res = gw.admin(
        Method::PUT,
        "/v1/admin/buyers/mitra-otoparts/suppliers/X",
        Some(json!({"craftsman": "nobody"})),
    );
    expect_problem(res, 422);
    let res = gw.admin(
        Method::PUT,
        "/v1/admin/buyers/nobody/suppliers/X",
        Some(json!({"craftsman": "jaya"})),
    );
    expect_problem(res, 404);
}

#[test]
fn a_receiver_that_is_down_then_failing_gets_the_order_when_it_recovers() {
    // Down: a port where nothing listens.
    let down = HeldPort::new();
    // Enough steps that a loaded machine, slow to see two failures and start the
    // receiver, does not run the schedule out before the receiver is up.
    let schedule = format!("200ms,300ms,400ms,500ms{}", ",1s".repeat(26));
    let gw = gateway(&schedule, None, &[]);
    let key = gw.create_buyer("mitra-otoparts", "canonical-json", json!({}));
    webhook_craftsman(&gw, &format!("http://127.0.0.1:{}/hook", down.port()));
    let order_id = gw.post_canonical_order(&key, "PO-DOWN-1", "PBG-017");

    // Wait until two attempts have failed against the closed port.
    let order = wait_order(&gw, &order_id, "failed twice", |order| {
        order["deliveries"][0]["attempts"].as_u64().unwrap_or(0) >= 2
    });
    let delivery = &order["deliveries"][0];
    assert_eq!(delivery["state"], "pending");
    assert_eq!(order["status"], "received");
    let delivery_id = delivery["id"].as_str().unwrap().to_owned();
    // Back up, but answering 500 twice before it recovers.
    let receiver = WebhookReceiver::start_on_with(
        down.release(),
        SECRET,
        json!({"fail_next": 2, "status": 500}),
    );
    let received = receiver.wait_for(|r| !verified_ids(r).is_empty(), WAIT);
    assert_eq!(
        received.len(),
        3,
        "two 500s, then the delivery: {received:#?}"
    );
    assert!(
        received
            .iter()
            .all(|r| r["webhook_id"] == delivery_id.as_str()),
        "same webhook-id on every attempt"
    );
    assert_eq!(received[0]["status"], 500);
    assert_eq!(received[1]["status"], 500);

    wait_order_status(&gw, &order_id, "delivered");
    let detail = gw.admin_get(&format!("/v1/admin/deliveries/{delivery_id}"));
    let log = detail["attempt_log"].as_array().unwrap();
    assert!(log.len() >= 5, "{detail:#}");
    assert!(
        log[0]["status_code"].is_null() && log[0]["outcome"] == "retry",
        "refused connection: {}",
        log[0]
    );
    let last = log.last().unwrap();
    assert_eq!(last["outcome"], "succeeded");
    assert!(last["status_code"].as_u64().unwrap() < 300);
    let codes: Vec<_> = log.iter().map(|a| a["status_code"].clone()).collect();
    assert!(codes.contains(&json!(500)), "{codes:?}");
    for attempt in log {
        assert!(
            attempt["started_at"].is_string() && attempt["duration_ms"].is_u64(),
            "{attempt}"
        );
    }
}

#[test]
fn a_delivery_dies_after_its_schedule_and_an_admin_retry_delivers_it() {
    let receiver = WebhookReceiver::start(SECRET);
    receiver.set_status(500);
    let gw = gateway("100ms,100ms", None, &[]);
    let key = gw.create_buyer("mitra-otoparts", "canonical-json", json!({}));
    webhook_craftsman(&gw, &receiver.url("/hook"));
    let order_id = gw.post_canonical_order(&key, "PO-DEAD-1", "PBG-017");

    let order = wait_order_status(&gw, &order_id, "failed");
    let delivery = &order["deliveries"][0];
    assert_eq!(delivery["state"], "dead");
    assert_eq!(
        delivery["attempts"], 3,
        "the first attempt and one per wait"
    );
    let dead = gw.admin_get("/v1/admin/deliveries?state=dead");
    assert_eq!(dead["deliveries"][0]["id"], delivery["id"]);
    let metrics = metrics_text(&gw);
    assert!(
        metrics.contains("jembatan_delivery_dead_total{channel=\"webhook\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("jembatan_delivery_failures_total{channel=\"webhook\"} 3"),
        "{metrics}"
    );
    assert!(
        metrics.contains("jembatan_deliveries{state=\"dead\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("jembatan_delivery_oldest_due_age_seconds"),
        "{metrics}"
    );

    receiver.set_status(204);
    let id = delivery["id"].as_str().unwrap();
    let retried = json_of(
        gw.admin(
            Method::POST,
            &format!("/v1/admin/deliveries/{id}/retry"),
            None,
        ),
        202,
    );
    assert_eq!(retried["state"], "pending");
    let received = receiver.wait_for(|r| !verified_ids(r).is_empty(), WAIT);
    assert_eq!(received.len(), 4);
    assert!(
        received.iter().all(|r| r["webhook_id"] == id),
        "duplicates carry one webhook-id"
    );
    wait_order_status(&gw, &order_id, "delivered");
    let metrics = metrics_text(&gw);
    assert!(
        metrics.contains("jembatan_delivery_successes_total{channel=\"webhook\"} 1"),
        "{metrics}"
    );
    // Delivered: nothing left to retry.
    let res = gw.admin(
        Method::POST,
        &format!("/v1/admin/deliveries/{id}/retry"),
        None,
    );
    expect_problem(res, 409);
}

#[test]
fn gone_disables_the_webhook_until_an_admin_enables_it() {
    let receiver = WebhookReceiver::start(SECRET);
    receiver.set_status(410);
    let gw = gateway("100ms,100ms,100ms", None, &[]);
    let key = gw.create_buyer("mitra-otoparts", "canonical-json", json!({}));
    let craftsman = webhook_craftsman(&gw, &receiver.url("/hook"));
    let channel_id = craftsman["channels"][0]["id"].as_str().unwrap().to_owned();
    let order_id = gw.post_canonical_order(&key, "PO-GONE-1", "PBG-017");
    let order = wait_order_status(&gw, &order_id, "failed");
    assert_eq!(order["deliveries"][0]["attempts"], 1, "410 is not retried");
    let shown = gw.admin_get("/v1/admin/craftsmen/jaya");
    assert_eq!(shown["channels"][0]["enabled"], false, "{shown}");

    // While disabled, the retry is refused and new orders are not sent.
    let id = order["deliveries"][0]["id"].as_str().unwrap();
    expect_problem(
        gw.admin(
            Method::POST,
            &format!("/v1/admin/deliveries/{id}/retry"),
            None,
        ),
        409,
    );
    let second = gw.post_canonical_order(&key, "PO-GONE-2", "PBG-017");
    wait_order_status(&gw, &second, "failed");
    assert_eq!(receiver.received().len(), 1);

    receiver.set_status(204);
    json_of(
        gw.admin(
            Method::PATCH,
            &format!("/v1/admin/craftsmen/jaya/channels/{channel_id}"),
            Some(json!({"enabled": true})),
        ),
        200,
    );
    json_of(
        gw.admin(
            Method::POST,
            &format!("/v1/admin/deliveries/{id}/retry"),
            None,
        ),
        202,
    );
    receiver.wait_for(|r| verified_ids(r) == [order_id.clone()], WAIT);
}

#[test]
fn targets_on_private_addresses_are_refused_unless_allowed() {
    let gw = Gateway::start();
    for url in [
        "http://127.0.0.1:9/hook",
        "http://10.0.0.5/hook",
        "http://169.254.169.254/latest",
        "ftp://example.com/",
    ] {
        let res = gw.admin(
            Method::POST,
            "/v1/admin/craftsmen",
            Some(
                json!({"id": "jaya", "name": "Jaya", "channels": [{"type": "webhook", "url": url}]}),
            ),
        );
        let problem = expect_problem(res, 422);
        assert!(
            problem["detail"].as_str().unwrap().contains("channels/0"),
            "{problem}"
        );
    }
    // A channel this gateway has no server for is refused too.
    let res = gw.admin(
        Method::POST,
        "/v1/admin/craftsmen",
        Some(
            json!({"id": "jaya", "name": "Jaya", "channels": [{"type": "email", "to": "jaya@example.id"}]}),
        ),
    );
    let problem = expect_problem(res, 422);
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("delivery.email"),
        "{problem}"
    );
}

#[test]
fn email_reaches_the_craftsman_readable_with_json_and_csv_attached() {
    let sink = SmtpSink::start_with_auth("jembatan", "smtp-pass-9f2k");
    let config = format!(
        "[delivery.email]\nhost = \"127.0.0.1\"\nport = {}\ntls = \"none\"\nusername = \"jembatan\"\nfrom = \"jembatan <orders@jembatan.test>\"\n",
        sink.port()
    );
    let gw = gateway(
        "200ms,200ms,200ms",
        Some(config),
        &[("JEMBATAN_SMTP_PASSWORD", "smtp-pass-9f2k")],
    );
    let key = gw.create_buyer("mitra-otoparts", "canonical-json", json!({}));
    let jaya = gw.create_craftsman(json!({"id": "jaya", "name": "Bengkel Jaya", "channels": [
        {"type": "email", "to": "jaya@bengkel.test"}]}));
    gw.route("mitra-otoparts", "PBG-017", "jaya");
    gw.create_craftsman(
        json!({"id": "sinar", "name": "Sinar Metal", "language": "en", "channels": [
        {"type": "email", "to": "sinar@metal.test"}]}),
    );
    gw.route("mitra-otoparts", "PBG-018", "sinar");

    sink.fail_next(1, 451);
    let first = gw.post_canonical_order(&key, "PO-MAIL-1", "PBG-017");
    let english = canonical_order("PO-MAIL-2", "PBG-018");
    json_of(
        gw.post_order(
            &key,
            "application/json",
            serde_json::to_vec(&english).unwrap(),
        ),
        201,
    );

    let mails = sink.wait_for(|m| m.len() >= 2, WAIT);
    let by_to = |to: &str| {
        mails
            .iter()
            .find(|m| m["rcpt_tos"][0] == to)
            .unwrap_or_else(|| panic!("{mails:#?}"))
            .clone()
    };
    let id_mail = by_to("jaya@bengkel.test");
    assert_eq!(id_mail["auth_user"], "jembatan");
    let subject = id_mail["subject"].as_str().unwrap();
    assert!(
        subject.contains("Pesanan baru") && subject.contains("PO-MAIL-1"),
        "{subject}"
    );
    let text = id_mail["text"].as_str().unwrap();
    assert!(text.contains("PO-MAIL-1"), "{text}");
    assert!(id_mail["html"].as_str().unwrap().contains("PO-MAIL-1"));
    let attachments = id_mail["attachments"].as_array().unwrap();
    let json_part = attachments
        .iter()
        .find(|a| a["content_type"] == "application/json")
        .expect("JSON attached");
    let attached: Value = serde_json::from_str(json_part["content"].as_str().unwrap()).unwrap();
    assert_eq!(attached["id"], first.as_str());
    assert_eq!(attached["order"]["buyer_order_number"], "PO-MAIL-1");
    let csv = attachments
        .iter()
        .find(|a| a["content_type"] == "text/csv")
        .expect("CSV attached");
    let csv = csv["content"].as_str().unwrap();
    assert_eq!(csv.lines().count(), 3, "a header and the two lines: {csv}");

    let en_mail = by_to("sinar@metal.test");
    assert!(
        en_mail["subject"].as_str().unwrap().contains("New order"),
        "{en_mail}"
    );
    // The first try met a 451 and was retried: the attempt is on record.
    let attempts = sink.attempts();
    assert!(attempts.iter().any(|a| a["status"] == 451), "{attempts:#?}");
    wait_order_status(&gw, &first, "delivered");
    assert_no_secrets(
        &gw,
        &["smtp-pass-9f2k", jaya["token"].as_str().unwrap(), &key],
    );
}

#[test]
fn whatsapp_and_telegram_get_the_order_summary_and_the_csv() {
    let apis = ChatApis::start("wa-token-77c1", "123456:tg-token-x9");
    let config = format!(
        "[delivery.whatsapp]\nbase_url = \"{base}\"\nphone_number_id = \"1055\"\naccess_token = \"set-by-env\"\n\n\
         [delivery.telegram]\nbase_url = \"{base}\"\nbot_token = \"set-by-env\"\n",
        base = apis.base_url()
    );
    let gw = gateway(
        "200ms,200ms,200ms",
        Some(config),
        &[
            ("JEMBATAN_WHATSAPP_ACCESS_TOKEN", "wa-token-77c1"),
            ("JEMBATAN_WHATSAPP_APP_SECRET", "wa-app-secret-2d8e"),
            ("JEMBATAN_TELEGRAM_BOT_TOKEN", "123456:tg-token-x9"),
        ],
    );
    apis.whatsapp_webhook(&gw.url("/v1/whatsapp/webhook"), "wa-app-secret-2d8e");
    let key = gw.create_buyer("mitra-otoparts", "canonical-json", json!({}));
    let craftsman = gw.create_craftsman(json!({"id": "jaya", "name": "Jaya", "channels": [
        {"type": "whatsapp", "to": "6281234567890"}, {"type": "telegram", "chat_id": "-100777"}]}));
    gw.route("mitra-otoparts", "PBG-017", "jaya");
    // Jaya wrote to the business number: free-form messages may go to them.
    assert_eq!(apis.whatsapp_user_writes("6281234567890"), 200);
    apis.fail_next(1, 503);
    let order_id = gw.post_canonical_order(&key, "PO-CHAT-1", "PBG-017");

    let ok = |r: &Value| r["status"].as_u64().is_some_and(|s| s < 300);
    let received = apis.wait_for(
        |r| {
            r.iter().any(|x| x["api"] == "whatsapp" && ok(x))
                && r.iter().any(|x| x["method"] == "sendMessage" && ok(x))
                && r.iter().any(|x| x["method"] == "sendDocument" && ok(x))
        },
        WAIT,
    );
    let wa = received
        .iter()
        .find(|x| x["api"] == "whatsapp" && ok(x))
        .unwrap();
    assert_eq!(wa["json"]["to"], "6281234567890");
    assert!(
        wa["path"].as_str().unwrap().ends_with("/1055/messages"),
        "{wa}"
    );
    assert!(
        wa["json"]["text"]["body"]
            .as_str()
            .unwrap()
            .contains("PO-CHAT-1"),
        "{wa}"
    );
    let tg = received
        .iter()
        .find(|x| x["method"] == "sendMessage" && ok(x))
        .unwrap();
    let tg_fields = if tg["json"].is_object() {
        &tg["json"]
    } else {
        &tg["fields"]
    };
    assert_eq!(
        tg_fields["chat_id"].to_string().trim_matches('"'),
        "-100777"
    );
    assert!(
        tg_fields["text"].as_str().unwrap().contains("PO-CHAT-1"),
        "{tg}"
    );
    let doc = received
        .iter()
        .find(|x| x["method"] == "sendDocument" && ok(x))
        .unwrap();
    assert!(
        doc["document"]["filename"]
            .as_str()
            .unwrap()
            .ends_with(".csv"),
        "{doc}"
    );
    assert!(
        received.iter().any(|x| x["status"] == 503),
        "the first try failed and was retried"
    );
    wait_order_status(&gw, &order_id, "delivered");
    assert_no_secrets(
        &gw,
        &[
            "wa-token-77c1",
            "tg-token-x9",
            craftsman["token"].as_str().unwrap(),
            &key,
        ],
    );
}

#[test]
fn one_craftsman_cannot_see_another_craftsmans_orders() {
    let gw = gateway("1s", None, &[]);
    let key = gw.create_buyer("mitra-otoparts", "canonical-json", json!({}));
    let jaya = gw.create_craftsman(json!({"id": "jaya", "name": "Jaya"}));
    let sinar = gw.create_craftsman(json!({"id": "sinar", "name": "Sinar"}));
    gw.route("mitra-otoparts", "PBG-017", "jaya");
    let order_id = gw.post_canonical_order(&key, "PO-MINE-1", "PBG-017");
    // Only the inbox: delivered at once.
    wait_order_status(&gw, &order_id, "delivered");
    let (jaya, sinar) = (
        jaya["token"].as_str().unwrap(),
        sinar["token"].as_str().unwrap(),
    );
    json_of(gw.get(jaya, &format!("/v1/inbox/{order_id}")), 200);
    expect_problem(gw.get(sinar, &format!("/v1/inbox/{order_id}")), 404);
    assert_eq!(
        json_of(gw.get(sinar, "/v1/inbox"), 200)["orders"],
        json!([])
    );
    expect_problem(gw.get("jbc_not-a-token", "/v1/inbox"), 401);
    expect_problem(gw.get(sinar, "/v1/admin/orders"), 401);
}

#[test]
fn orders_accepted_before_a_kill_are_all_delivered_after_the_restart() {
    let down = HeldPort::new();
    let schedule = "200ms,200ms,200ms,200ms,200ms,200ms,200ms,200ms,200ms,200ms";
    let gw = gateway(schedule, None, &[]);
    let key = gw.create_buyer("mitra-otoparts", "canonical-json", json!({}));
    webhook_craftsman(&gw, &format!("http://127.0.0.1:{}/hook", down.port()));
    let accepted: Vec<String> = (0..20)
        .map(|i| gw.post_canonical_order(&key, &format!("PO-KILL-{i}"), "PBG-017"))
        .collect();

    let data_dir = gw.kill();
    // The kill may come while a delivery is claimed for an attempt: on PostgreSQL
    // that claim is taken back once its lease runs out, minutes later.
    crate::harness::lapse_claims(&data_dir);
    let receiver = WebhookReceiver::start_on(down.release(), SECRET);
    let gw = Gateway::start_with(Options {
        data_dir: Some(data_dir),
        env: vec![
            ("JEMBATAN_ALLOW_PRIVATE_TARGETS".into(), "1".into()),
            ("JEMBATAN_DELIVERY_RETRY_SCHEDULE".into(), schedule.into()),
        ],
        ..Options::default()
    });
    let received = receiver.wait_for(
        |r| {
            let got = verified_ids(r);
            accepted.iter().all(|id| got.contains(id))
        },
        WAIT,
    );
    assert!(received.iter().all(|r| r["verified"] == true));
    for id in &accepted {
        wait_order_status(&gw, id, "delivered");
    }
}

#[test]
fn a_delivery_in_flight_when_the_gateway_is_killed_is_taken_back_at_restart() {
    // A gateway owns its SQLite file, so its start takes back every claim. On
    // PostgreSQL a claim may be a live instance's: a start takes back only leases
    // that ran out (`store::postgres::tests`), so there the lease is short (twice
    // the send deadlines) and the restarted gateway sends the delivery once the
    // killed one's lease is out.
    let postgres = crate::harness::test_database() == "postgres";
    let mut env = vec![
        ("JEMBATAN_ALLOW_PRIVATE_TARGETS".to_owned(), "1".to_owned()),
        // A retry would come only after an hour: only the claim coming back
        // delivers the order within the test.
        (
            "JEMBATAN_DELIVERY_RETRY_SCHEDULE".to_owned(),
            "1h".to_owned(),
        ),
    ];
    let mut config = None;
    if postgres {
        env.push(("JEMBATAN_DELIVERY_LEASE".into(), "10s".into()));
        config = Some(
            "[delivery.deadlines]\nwebhook = \"5s\"\nemail = \"5s\"\nwhatsapp = \"5s\"\ntelegram = \"5s\"\n"
                .to_owned(),
        );
    }
    let options = |data_dir| Options {
        data_dir,
        env: env.clone(),
        config: config.clone(),
        ..Options::default()
    };
    let receiver = WebhookReceiver::start(SECRET);
    // Slow to answer, so that the gateway is killed while it waits, holding the claim.
    receiver.control(json!({"delay_ms": 4000}));
    let gw = Gateway::start_with(options(None));
    let key = gw.create_buyer("mitra-otoparts", "canonical-json", json!({}));
    webhook_craftsman(&gw, &receiver.url("/hook"));
    let order_id = gw.post_canonical_order(&key, "PO-CLAIMED-1", "PBG-017");

    let deadline = Instant::now() + WAIT;
    while receiver.stats()["in_flight"] != 1 {
        assert!(Instant::now() < deadline, "{}", receiver.stats());
        std::thread::sleep(Duration::from_millis(20));
    }
    let data_dir = gw.kill();
    receiver.control(json!({"delay_ms": 0}));
    let gw = Gateway::start_with(options(Some(data_dir)));

    // The request the killed gateway sent, and the one the new gateway sent again:
    // one delivery, one webhook-id, both signed.
    let received = receiver.wait_for(|r| verified_ids(r).len() == 2, WAIT);
    assert_eq!(received.len(), 2, "{received:#?}");
    assert_eq!(received[0]["webhook_id"], received[1]["webhook_id"]);
    assert_eq!(
        verified_ids(&received),
        [order_id.clone(), order_id.clone()]
    );
    let order = wait_order_status(&gw, &order_id, "delivered");
    assert_eq!(order["deliveries"][0]["state"], "succeeded", "{order:#}");
    // On SQLite by the start itself (on PostgreSQL by the lease running out,
    // before or after the start).
    if !postgres {
        assert!(
            gw.logs()
                .contains("took back deliveries a stopped run had claimed"),
            "{}",
            gw.logs()
        );
    }
}
