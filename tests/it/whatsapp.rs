//! WhatsApp as Meta runs it (issue 13), through the real binary against the chat
//! API peer, which refuses what Meta refuses: free-form messages outside the
//! customer's 24-hour service window, templates it has not approved, and signs the
//! status and message webhooks it sends back to the gateway.

use std::path::PathBuf;
use std::thread;
use std::time::{Duration, Instant};

use base64::Engine as _;
use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::{Gateway, Options, expect_problem, json_of};
use crate::peers::{ChatApis, read_with_tool};

const WAIT: Duration = Duration::from_secs(30);
const TOKEN: &str = "wa-token-3c9d";
const APP_SECRET: &str = "wa-app-secret-8e1f27";
const VERIFY_TOKEN: &str = "wa-verify-5b0a";
const NUMBER: &str = "6281234567890";

/// A gateway whose WhatsApp channel is the peer, with the template `pesanan_baru`
/// (order number, buyer, lines, delivery date) for Indonesian craftsmen, and the
/// peer sending its webhooks to the gateway.
fn setup() -> (ChatApis, Gateway) {
    let apis = ChatApis::start(TOKEN, "123:unused-telegram");
    apis.control(json!({"whatsapp_templates": [
        {"name": "pesanan_baru", "language": "id", "body_params": 4, "quick_replies": 2}]}));
    let gw = gateway(&apis, None);
    (apis, gw)
}

/// The gateway of [`setup`], on the store in `data_dir` when given (a restart).
fn gateway(apis: &ChatApis, data_dir: Option<PathBuf>) -> Gateway {
    let config = format!(
        "[delivery.whatsapp]\nbase_url = \"{}\"\nphone_number_id = \"1055\"\n\
         access_token = \"{TOKEN}\"\n\n\
         [delivery.whatsapp.templates.id]\nname = \"pesanan_baru\"\nlanguage = \"id\"\n\
         parameters = [\"order_number\", \"buyer\", \"lines\", \"delivery_date\"]\n\
         quick_replies = [\"terima\", \"tolak\"]\n",
        apis.base_url()
    );
    let gw = Gateway::start_with(Options {
        env: vec![
            (
                "JEMBATAN_DELIVERY_RETRY_SCHEDULE".into(),
                "300ms,300ms".into(),
            ),
            ("JEMBATAN_WHATSAPP_APP_SECRET".into(), APP_SECRET.into()),
            ("JEMBATAN_WHATSAPP_VERIFY_TOKEN".into(), VERIFY_TOKEN.into()),
        ],
        config: Some(config),
        data_dir,
        ..Options::default()
    });
    apis.whatsapp_webhook(&gw.url("/v1/whatsapp/webhook"), APP_SECRET);
    gw
}

/// Craftsman `jaya` on WhatsApp, written as a person writes a local number, and
/// the route to them; returns the channel's id.
fn jaya(gw: &Gateway) -> (String, String) {
    let key = gw.create_buyer("mitra-otoparts", "canonical-json", json!({}));
    let created = gw.create_craftsman(json!({"id": "jaya", "name": "Jaya",
        "channels": [{"type": "whatsapp", "to": "0812-3456-7890"}]}));
    assert_eq!(
        created["channels"][0]["to"], NUMBER,
        "stored as the API takes it"
    );
    gw.route("mitra-otoparts", "PBG-017", "jaya");
    (
        key,
        created["channels"][0]["id"].as_str().unwrap().to_owned(),
    )
}

fn opt_in(gw: &Gateway, channel_id: &str) -> Value {
    json_of(
        gw.admin(
            Method::PUT,
            &format!("/v1/admin/craftsmen/jaya/channels/{channel_id}/whatsapp-opt-in"),
            Some(json!({"opted_in": true, "source": "signed supplier form, 2026-11-30"})),
        ),
        200,
    )
}

/// The order's one delivery, once `done` holds for it.
#[track_caller]
fn wait_delivery(gw: &Gateway, order_id: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + WAIT;
    loop {
        let page = gw.admin_get(&format!("/v1/admin/deliveries?order={order_id}"));
        if let Some(delivery) = page["deliveries"].as_array().unwrap().first() {
            let detail = gw.admin_get(&format!(
                "/v1/admin/deliveries/{}",
                delivery["id"].as_str().unwrap()
            ));
            if done(&detail) {
                return detail;
            }
        }
        assert!(Instant::now() < deadline, "still waiting: {page:#}");
        thread::sleep(Duration::from_millis(50));
    }
}

/// Posts order `number` and waits until it is delivered; its order id, its
/// delivery, and the `wamid` of the message that delivered it.
#[track_caller]
fn delivered(gw: &Gateway, key: &str, number: &str) -> (String, Value, String) {
    let order_id = gw.post_canonical_order(key, number, "PBG-017");
    let delivery = wait_delivery(gw, &order_id, |d| d["state"] == "succeeded");
    let wamid = delivery["attempt_log"][0]["message_id"]
        .as_str()
        .unwrap()
        .to_owned();
    (order_id, delivery, wamid)
}

/// `tests/tools/read_pdf.py` (pypdf) on a document the peer received: its pages
/// and text.
#[track_caller]
fn read_pdf(document: &Value) -> Value {
    assert_eq!(document["content_encoding"], "base64", "a PDF is binary");
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(document["content"].as_str().unwrap())
        .unwrap();
    read_with_tool("read_pdf.py", &[], &bytes)
}

fn accepted(apis: &ChatApis, method: &str) -> Vec<Value> {
    apis.received()
        .into_iter()
        .filter(|r| r["api"] == "whatsapp" && r["method"] == method && r["status"] == 200)
        .collect()
}

#[test]
fn an_order_outside_the_window_goes_as_the_template_and_arrives() {
    let (apis, gw) = setup();
    let (key, channel_id) = jaya(&gw);
    let contact = opt_in(&gw, &channel_id);
    assert_eq!(contact["wa_id"], NUMBER);
    assert!(contact["opted_in_at"].is_string(), "{contact}");
    let order_id = gw.post_canonical_order(&key, "PO-TPL-1", "PBG-017");

    // Sent as the template, then `sent` and `delivered` came back signed.
    let delivery = wait_delivery(&gw, &order_id, |d| {
        d["state"] == "succeeded" && d["attempt_log"][0]["receipt"] == "delivered"
    });
    let log = delivery["attempt_log"].as_array().unwrap();
    assert_eq!(log.len(), 1, "{log:#?}");
    let wamid = log[0]["message_id"].as_str().unwrap();
    assert!(wamid.starts_with("wamid."), "{wamid}");

    let sent = accepted(&apis, "messages");
    assert_eq!(sent.len(), 1, "{sent:#?}");
    let body = &sent[0]["json"];
    assert_eq!(body["to"], NUMBER);
    assert_eq!(body["type"], "template");
    assert_eq!(body["template"]["name"], "pesanan_baru");
    assert_eq!(body["template"]["language"]["code"], "id");
    let params = body["template"]["components"][0]["parameters"]
        .as_array()
        .unwrap();
    assert_eq!(params.len(), 4);
    assert_eq!(params[0]["text"], "PO-TPL-1");
    let order = gw.admin_get(&format!("/v1/admin/orders/{order_id}"));
    assert_eq!(order["status"], "delivered");
    let events: Vec<_> = apis
        .whatsapp_events()
        .iter()
        .map(|e| (e["kind"].clone(), e["status"].clone()))
        .collect();
    assert!(
        events.contains(&(json!("status delivered"), json!(200))),
        "{events:?}"
    );

    // The template's quick replies carry the answer and the delivery; the
    // operator's words `terima` and `tolak` become the gateway's actions.
    let components = body["template"]["components"].as_array().unwrap();
    let payloads: Vec<_> = components[1..]
        .iter()
        .map(|c| c["parameters"][0]["payload"].as_str().unwrap().to_owned())
        .collect();
    let id = delivery["id"].as_str().unwrap();
    assert_eq!(payloads, [format!("accept:{id}"), format!("reject:{id}")]);
    // Tapping one is a message from the craftsman: it answers the order (see
    // chat_answers.rs), their window opens, and the next order goes as text.
    let tapped =
        apis.control(json!({"whatsapp_user_writes": {"from": NUMBER, "payload": payloads[0]}}));
    assert_eq!(tapped["webhook_status"], 200);
    let next = gw.post_canonical_order(&key, "PO-TPL-2", "PBG-017");
    wait_delivery(&gw, &next, |d| d["state"] == "succeeded");
    let types: Vec<_> = accepted(&apis, "messages")
        .iter()
        .map(|m| m["json"]["type"].clone())
        .collect();
    assert_eq!(types[1], "text", "{types:?}");
    let answered = json_of(gw.get(&key, &format!("/v1/orders/{order_id}")), 200);
    assert_eq!(answered["response"], "accepted", "{answered:#}");
}

#[test]
fn without_opt_in_and_outside_the_window_the_delivery_is_dead_and_says_why() {
    let (apis, gw) = setup();
    let (key, _) = jaya(&gw);
    let order_id = gw.post_canonical_order(&key, "PO-NOOPT-1", "PBG-017");

    let delivery = wait_delivery(&gw, &order_id, |d| d["state"] != "pending");
    assert_eq!(delivery["state"], "dead", "{delivery:#}");
    assert_eq!(delivery["attempts"], 1, "not retried");
    let error = delivery["last_error"].as_str().unwrap();
    assert!(error.contains("no WhatsApp opt-in"), "{error}");
    assert!(
        apis.received().iter().all(|r| r["api"] != "whatsapp"),
        "nothing sent"
    );
}

#[test]
fn inside_the_window_the_summary_goes_as_text_and_the_order_as_a_document() {
    let (apis, gw) = setup();
    let (key, _) = jaya(&gw);
    // No opt-in: the craftsman wrote first, which opens the window.
    assert_eq!(apis.whatsapp_user_writes(NUMBER), 200);
    let order_id = gw.post_canonical_order(&key, "PO-WIN-1", "PBG-017");

    let delivery = wait_delivery(&gw, &order_id, |d| d["state"] == "succeeded");
    assert_eq!(delivery["attempts"], 1, "{delivery:#}");
    let messages = accepted(&apis, "messages");
    let types: Vec<_> = messages.iter().map(|m| m["json"]["type"].clone()).collect();
    assert_eq!(types[0], "text", "{types:?}");
    let text = messages[0]["json"]["text"]["body"].as_str().unwrap();
    assert!(text.contains("PO-WIN-1"), "{text}");
    let uploads = accepted(&apis, "media");
    assert!(!uploads.is_empty());
    assert_eq!(uploads[0]["document"]["filename"], "order-PO-WIN-1.pdf");
    assert_eq!(uploads[0]["document"]["content_type"], "application/pdf");
    // A PDF that an independent reader opens, with the order in its text.
    let pdf = read_pdf(&uploads[0]["document"]);
    assert_eq!(pdf["pages"], 1, "{pdf:#}");
    let text = pdf["text"].as_str().unwrap();
    for expected in [
        "Nomor pesanan: PO-WIN-1",
        "Pembeli: Buyer mitra-otoparts",
        "150 buah — Knalpot racing 125cc, stainless",
        "@ USD 185.000,00 = USD 27.750.000,00",
        "Total bayar: USD 34.687.500,00",
        "Plat besi 2mm",
        "Mohon dikirim sebelum tanggal 10",
    ] {
        assert!(text.contains(expected), "{expected:?} not in:\n{text}");
    }
    // One document per upload, each naming what was uploaded; never a CSV.
    assert_eq!(
        types.iter().filter(|t| **t == "document").count(),
        uploads.len()
    );
    for upload in &uploads {
        assert!(
            !upload["document"]["filename"]
                .as_str()
                .unwrap()
                .ends_with(".csv")
        );
    }
}

#[test]
fn a_late_failed_status_reopens_the_delivery_as_classified() {
    let (apis, gw) = setup();
    let (key, channel_id) = jaya(&gw);
    opt_in(&gw, &channel_id);

    // 131049 (not delivered "to maintain healthy ecosystem engagement") may
    // pass: the delivery is pending again, sent again, and delivered.
    let (first, _, wamid) = delivered(&gw, &key, "PO-LATE-1");
    assert_eq!(apis.whatsapp_fail(&wamid, 131049), 200);
    let delivery = wait_delivery(&gw, &first, |d| {
        d["state"] == "succeeded" && d["attempts"] == 2
    });
    let log = delivery["attempt_log"].as_array().unwrap();
    assert_eq!(log[0]["outcome"], "retry", "{:#}", log[0]);
    assert_eq!(log[0]["receipt"], "failed");
    assert!(
        log[0]["error"].as_str().unwrap().contains("131049"),
        "{:#}",
        log[0]
    );
    assert_eq!(log[1]["outcome"], "succeeded");
    assert_ne!(log[1]["message_id"], log[0]["message_id"]);

    // 131026 (undeliverable) will not pass: dead, with the reason, and the order
    // failed.
    let (second, _, wamid) = delivered(&gw, &key, "PO-LATE-2");
    assert_eq!(apis.whatsapp_fail(&wamid, 131026), 200);
    let delivery = wait_delivery(&gw, &second, |d| d["state"] == "dead");
    assert_eq!(delivery["attempts"], 1);
    let error = delivery["last_error"].as_str().unwrap();
    assert!(
        error.contains("131026") && error.contains("Message undeliverable"),
        "{error}"
    );
    assert_eq!(delivery["attempt_log"][0]["outcome"], "permanent");
    let order = gw.admin_get(&format!("/v1/admin/orders/{second}"));
    assert_eq!(order["status"], "failed");
}

#[test]
fn the_webhook_answers_the_handshake_and_refuses_unsigned_events() {
    let (_apis, gw) = setup();
    let client = reqwest::blocking::Client::new();
    let url = gw.url("/v1/whatsapp/webhook");
    let verify = |token: &str| {
        client
            .get(&url)
            .query(&[
                ("hub.mode", "subscribe"),
                ("hub.verify_token", token),
                ("hub.challenge", "1158201444"),
            ])
            .send()
            .unwrap()
    };
    let answer = verify(VERIFY_TOKEN);
    assert_eq!(answer.status(), 200);
    assert_eq!(answer.text().unwrap(), "1158201444");
    expect_problem(verify("wrong-token"), 403);

    let body = r#"{"object":"whatsapp_business_account","entry":[]}"#;
    let post = |signature: Option<&str>| {
        let mut request = client
            .post(&url)
            .header("content-type", "application/json")
            .body(body);
        if let Some(signature) = signature {
            request = request.header("x-hub-signature-256", signature);
        }
        request.send().unwrap()
    };
    expect_problem(post(None), 401);
    expect_problem(
        post(Some(
            "sha256=0000000000000000000000000000000000000000000000000000000000000000",
        )),
        401,
    );
}

#[test]
fn a_number_that_is_no_number_is_refused_when_the_channel_is_registered() {
    let (_apis, gw) = setup();
    for garbage in ["()", "0812", "+62 81x"] {
        let problem = expect_problem(
            gw.admin(
                Method::POST,
                "/v1/admin/craftsmen",
                Some(json!({"id": "jaya", "name": "Jaya",
                    "channels": [{"type": "whatsapp", "to": garbage}]})),
            ),
            422,
        );
        assert_eq!(problem["field"], "channels/0/to", "{problem}");
    }
}

/// Meta may refuse free-form text after answering it with a `wamid`: a late
/// `failed` with 131047 (re-engagement). The gateway forgets the window and the
/// retry goes as the template.
#[test]
fn a_late_reengagement_failure_sends_the_template_next() {
    let (apis, gw) = setup();
    let (key, channel_id) = jaya(&gw);
    opt_in(&gw, &channel_id);
    assert_eq!(apis.whatsapp_user_writes(NUMBER), 200);
    // Meta's window closed all the same; it says so only after taking the text.
    apis.control(json!({"whatsapp_window_closes": NUMBER, "whatsapp_reengagement": "async"}));
    let order_id = gw.post_canonical_order(&key, "PO-REENGAGE-1", "PBG-017");

    let delivery = wait_delivery(&gw, &order_id, |d| {
        d["state"] == "succeeded" && d["attempts"] == 2
    });
    let log = delivery["attempt_log"].as_array().unwrap();
    assert_eq!(log[0]["outcome"], "retry", "{:#}", log[0]);
    assert_eq!(log[0]["receipt"], "failed");
    assert!(
        log[0]["error"].as_str().unwrap().contains("131047"),
        "{:#}",
        log[0]
    );
    let types: Vec<_> = accepted(&apis, "messages")
        .iter()
        .map(|m| m["json"]["type"].clone())
        .collect();
    assert_eq!(types.first(), Some(&json!("text")), "{types:?}");
    assert_eq!(types.last(), Some(&json!("template")), "{types:?}");
}

/// Meta promises no order between a send's answer and its statuses: a `failed`
/// that arrives before the gateway has recorded the attempt (here, before the
/// answer naming its `wamid` has even left the peer) is kept and applied once the
/// attempt is recorded, and still reopens the delivery.
#[test]
fn a_failed_status_that_arrives_before_its_attempt_is_saved_still_reopens_the_delivery() {
    let (apis, gw) = setup();
    let (key, channel_id) = jaya(&gw);
    opt_in(&gw, &channel_id);
    assert_eq!(apis.whatsapp_user_writes(NUMBER), 200);
    apis.control(
        json!({"whatsapp_window_closes": NUMBER, "whatsapp_reengagement": "async",
        "whatsapp_status_first": true}),
    );
    let order_id = gw.post_canonical_order(&key, "PO-EARLY-1", "PBG-017");

    let delivery = wait_delivery(&gw, &order_id, |d| {
        d["state"] == "succeeded" && d["attempts"] == 2
    });
    let log = delivery["attempt_log"].as_array().unwrap();
    assert_eq!(log[0]["outcome"], "retry", "{:#}", log[0]);
    assert_eq!(log[0]["receipt"], "failed");
    assert!(
        log[0]["error"].as_str().unwrap().contains("131047"),
        "{:#}",
        log[0]
    );
    // The peer sent the `failed` before it answered the send: the gateway took
    // the event (200) before it could know the message.
    let failed = apis
        .whatsapp_events()
        .into_iter()
        .find(|e| e["kind"] == "status failed")
        .expect("a failed status was sent");
    assert_eq!(failed["status"], 200, "{failed:#}");
    let types: Vec<_> = accepted(&apis, "messages")
        .iter()
        .map(|m| m["json"]["type"].clone())
        .collect();
    assert_eq!(types.first(), Some(&json!("text")), "{types:?}");
    assert_eq!(types.last(), Some(&json!("template")), "{types:?}");
}

/// A status kept for a message no attempt names yet is in the store, not in
/// memory: a restart between the status and the attempt that names its `wamid`
/// loses nothing, and the `failed` still reopens the delivery.
#[test]
fn a_failed_status_kept_before_its_attempt_outlives_a_restart() {
    let (apis, gw) = setup();
    let (key, channel_id) = jaya(&gw);
    opt_in(&gw, &channel_id);
    // Meta's `failed` (131049: may pass later) for the message it will take next.
    let wamid = "wamid.HBgNNjI4MTIzNDU2Nzg5MBUCABEYEjdFQUE5";
    assert_eq!(apis.whatsapp_fail(wamid, 131049), 200);

    let data_dir = gw.stop();
    let gw = gateway(&apis, Some(data_dir));
    apis.control(json!({"whatsapp_next_wamid": wamid}));
    let order_id = gw.post_canonical_order(&key, "PO-RESTART-1", "PBG-017");

    let delivery = wait_delivery(&gw, &order_id, |d| {
        d["state"] == "succeeded" && d["attempts"] == 2
    });
    let log = delivery["attempt_log"].as_array().unwrap();
    assert_eq!(log[0]["message_id"], wamid, "{:#}", log[0]);
    assert_eq!(log[0]["outcome"], "retry", "{:#}", log[0]);
    assert_eq!(log[0]["receipt"], "failed");
    let error = log[0]["error"].as_str().unwrap();
    assert!(error.contains("131049"), "{error}");
    assert_eq!(log[1]["outcome"], "succeeded");
    assert_ne!(log[1]["message_id"], wamid);
}

/// The pair rate limit (131056) that comes as a late `failed` status holds the
/// delivery as long as one in the send's answer does: Meta's 6 seconds from the
/// failure, though the retry schedule here says 300 ms.
#[test]
fn a_late_pair_rate_limit_failure_waits_six_seconds() {
    let (apis, gw) = setup();
    let (key, channel_id) = jaya(&gw);
    opt_in(&gw, &channel_id);
    let (_, delivery, wamid) = delivered(&gw, &key, "PO-LATE-PAIR-1");

    // The gateway answers the event once it has applied it.
    assert_eq!(apis.whatsapp_fail(&wamid, 131056), 200);
    let delivery = gw.admin_get(&format!(
        "/v1/admin/deliveries/{}",
        delivery["id"].as_str().unwrap()
    ));
    assert_eq!(delivery["state"], "pending", "{delivery:#}");
    let log = delivery["attempt_log"].as_array().unwrap();
    assert_eq!(log[0]["outcome"], "retry", "{:#}", log[0]);
    assert!(
        log[0]["error"].as_str().unwrap().contains("131056"),
        "{:#}",
        log[0]
    );
    let time = |v: &Value| chrono::DateTime::parse_from_rfc3339(v.as_str().unwrap()).unwrap();
    let wait = time(&delivery["next_attempt_at"]) - time(&log[0]["receipt_at"]);
    assert!(
        wait.num_milliseconds() >= 6000,
        "next attempt {wait} after the failure"
    );
}
