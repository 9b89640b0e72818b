//! Issue 10, part 2: craftsmen answer an order with one tap in WhatsApp or Telegram,
//! through the real binary and the chat API peer (`tests/peers/chat_apis.py`),
//! which sends taps as the services send them (WhatsApp's signed with the app
//! secret, Telegram's with the `setWebhook` secret token). The buyer hears each
//! answer at its callback, verified by the independent `standardwebhooks` package.

use std::path::PathBuf;
use std::thread;
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};

use crate::delivery::{SECRET, WAIT};
use crate::harness::{Gateway, Options, fixture, json_of};
use crate::peers::{ChatApis, WebhookReceiver, require_python_packages};
use crate::rendered_responses::{document, read_back, x12_segments};

const WA_TOKEN: &str = "wa-token-3c9d";
const APP_SECRET: &str = "wa-app-secret-8e1f27";
const BOT_TOKEN: &str = "4242:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw";
const TG_SECRET: &str = "tg-secret_Qm9vb2sK-71";
const JAYA_NUMBER: &str = "6281234567890";
const LAIN_NUMBER: &str = "6281298765432";
const JAYA_CHAT: &str = "424242";
const LAIN_CHAT: &str = "535353";

/// The chat APIs peer with the template `pesanan_baru` (its two quick replies
/// `terima`, `tolak`) and both webhooks pointed at the gateway.
fn start(apis: &ChatApis, data_dir: Option<PathBuf>, reason_wait: &str) -> Gateway {
    apis.control(json!({"whatsapp_templates": [
        {"name": "pesanan_baru", "language": "id", "body_params": 1, "quick_replies": 2}]}));
    let config = format!(
        "[delivery.whatsapp]\nbase_url = \"{base}\"\nphone_number_id = \"1055\"\n\
         access_token = \"{WA_TOKEN}\"\n\n\
         [delivery.whatsapp.templates.id]\nname = \"pesanan_baru\"\nlanguage = \"id\"\n\
         parameters = [\"order_number\"]\nquick_replies = [\"terima\", \"tolak\"]\n\n\
         [delivery.telegram]\nbase_url = \"{base}\"\nbot_token = \"{BOT_TOKEN}\"\n",
        base = apis.base_url()
    );
    let gw = Gateway::start_with(Options {
        data_dir,
        env: vec![
            ("JEMBATAN_ALLOW_PRIVATE_TARGETS".into(), "1".into()),
            (
                "JEMBATAN_DELIVERY_RETRY_SCHEDULE".into(),
                "300ms,300ms".into(),
            ),
            ("JEMBATAN_WHATSAPP_APP_SECRET".into(), APP_SECRET.into()),
            ("JEMBATAN_TELEGRAM_SECRET_TOKEN".into(), TG_SECRET.into()),
            ("JEMBATAN_REJECTION_REASON_WAIT".into(), reason_wait.into()),
        ],
        config: Some(config),
        ..Options::default()
    });
    apis.whatsapp_webhook(&gw.url("/v1/whatsapp/webhook"), APP_SECRET);
    apis.control(json!({"telegram_webhook": {
        "url": gw.url("/v1/telegram/webhook"), "secret_token": TG_SECRET}}));
    gw
}

/// The buyer (its callback at the receiver) and craftsmen `jaya` and `lain`, each
/// on WhatsApp and Telegram, opted in; returns the buyer's key.
fn parties(gw: &Gateway, receiver: &WebhookReceiver) -> String {
    let created = json_of(
        gw.admin(
            Method::POST,
            "/v1/admin/buyers",
            Some(json!({"id": "mitra-otoparts", "name": "PT Mitra Otoparts",
                        "plugin": "canonical-json",
                        "callback_url": receiver.url("/responses")})),
        ),
        201,
    );
    receiver.set_secret(created["callback_secret"].as_str().unwrap());
    for (id, number, chat, code) in [
        ("jaya", JAYA_NUMBER, JAYA_CHAT, "PBG-017"),
        ("lain", LAIN_NUMBER, LAIN_CHAT, "PBG-018"),
    ] {
        chat_craftsman(gw, id, id, number, chat);
        gw.route("mitra-otoparts", code, id);
    }
    created["api_key"].as_str().unwrap().to_owned()
}

/// Craftsman `id` on WhatsApp `number` (opted in, as the operator records it)
/// and Telegram `chat`.
fn chat_craftsman(gw: &Gateway, id: &str, name: &str, number: &str, chat: &str) {
    let craftsman = gw.create_craftsman(json!({"id": id, "name": name,
        "channels": [{"type": "whatsapp", "to": number},
                     {"type": "telegram", "chat_id": chat}]}));
    let channel = craftsman["channels"][0]["id"].as_str().unwrap();
    json_of(
        gw.admin(
            Method::PUT,
            &format!("/v1/admin/craftsmen/{id}/channels/{channel}/whatsapp-opt-in"),
            Some(json!({"opted_in": true, "source": "supplier form"})),
        ),
        200,
    );
}

/// Posts an order to `code` and waits until both of its chat deliveries succeeded.
fn post_and_deliver(gw: &Gateway, key: &str, number: &str, code: &str) -> String {
    let order_id = gw.post_canonical_order(key, number, code);
    chats_delivered(gw, &order_id);
    order_id
}

/// Waits until both of the order's chat deliveries succeeded.
fn chats_delivered(gw: &Gateway, order_id: &str) {
    wait_until("the order's chat deliveries succeeded", || {
        let order = gw.admin_get(&format!("/v1/admin/orders/{order_id}"));
        let deliveries = order["deliveries"].as_array().unwrap();
        (deliveries.len() >= 2 && deliveries.iter().all(|d| d["state"] == "succeeded"))
            .then_some(())
    });
}

#[track_caller]
fn wait_until<T>(what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + WAIT;
    loop {
        if let Some(found) = check() {
            return found;
        }
        assert!(Instant::now() < deadline, "never: {what}");
        thread::sleep(Duration::from_millis(50));
    }
}

fn order(gw: &Gateway, key: &str, order_id: &str) -> Value {
    json_of(gw.get(key, &format!("/v1/orders/{order_id}")), 200)
}

/// The `order.response` events the buyer's receiver verified.
fn verified(receiver: &WebhookReceiver) -> Vec<Value> {
    receiver
        .received()
        .into_iter()
        .filter(|r| r["verified"] == true)
        .map(|r| r["body"].clone())
        .collect()
}

#[track_caller]
fn wait_event(receiver: &WebhookReceiver, count: usize) -> Value {
    wait_until("the buyer's callback got the answer", || {
        let events = verified(receiver);
        (events.len() >= count).then(|| events[count - 1].clone())
    })
}

/// Texts the peer took for `to` (a WhatsApp number or a Telegram chat id).
fn texts_to(apis: &ChatApis, to: &str) -> Vec<String> {
    apis.received()
        .into_iter()
        .filter(|r| r["status"] == 200)
        .filter_map(|r| {
            let json = &r["json"];
            if r["api"] == "whatsapp" && json["to"] == to && json["type"] == "text" {
                json["text"]["body"].as_str().map(str::to_owned)
            } else if r["api"] == "telegram"
                && r["method"] == "sendMessage"
                && r["fields"]["chat_id"].to_string().trim_matches('"') == to
            {
                r["fields"]["text"].as_str().map(str::to_owned)
            } else {
                None
            }
        })
        .collect()
}

#[track_caller]
fn wait_text(apis: &ChatApis, to: &str, contains: &str) -> String {
    wait_until(&format!("{to} was told {contains:?}"), || {
        texts_to(apis, to)
            .into_iter()
            .find(|t| t.contains(contains))
    })
}

/// What `answerCallbackQuery` said to the callback query `id`.
fn callback_answer(apis: &ChatApis, id: &str) -> Option<String> {
    apis.whatsapp_events()
        .into_iter()
        .find(|e| e["kind"] == "telegram answer" && e["body"]["callback_query_id"] == id)
        .map(|e| e["body"]["text"].as_str().unwrap().to_owned())
}

#[track_caller]
fn wait_callback_answer(apis: &ChatApis, id: &str) -> String {
    wait_until("the callback query was answered", || {
        callback_answer(apis, id)
    })
}

fn status(answer: &Value) -> u64 {
    answer["webhook_status"].as_u64().unwrap()
}

#[test]
fn a_whatsapp_reply_button_accepts_and_the_buyer_hears_it_signed() {
    let apis = ChatApis::start(WA_TOKEN, BOT_TOKEN);
    let receiver = WebhookReceiver::start(SECRET);
    let gw = start(&apis, None, "10m");
    let key = parties(&gw, &receiver);
    // Jaya wrote first: inside the window the order comes with reply buttons.
    assert_eq!(apis.whatsapp_user_writes(JAYA_NUMBER), 200);
    let order_id = post_and_deliver(&gw, &key, "PO-WA-1", "PBG-017");
    let buttons: Vec<Value> = apis
        .received()
        .into_iter()
        .filter(|r| r["json"]["type"] == "interactive" && r["status"] == 200)
        .collect();
    assert_eq!(buttons.len(), 1, "{buttons:#?}");
    let interactive = &buttons[0]["json"]["interactive"];
    let titles: Vec<&str> = interactive["action"]["buttons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["reply"]["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, ["Terima", "Tolak"]);
    assert!(
        interactive["body"]["text"]
            .as_str()
            .unwrap()
            .contains("PO-WA-1")
    );

    let tap = apis.control(json!({"whatsapp_user_taps": {"from": JAYA_NUMBER, "button": 0}}));
    assert_eq!(status(&tap), 200);
    let answered = order(&gw, &key, &order_id);
    assert_eq!(answered["response"], "accepted", "{answered:#}");
    assert_eq!(answered["responses"][0]["via"], "whatsapp");
    assert_eq!(
        answered["responses"][0]["responder"]["craftsman_id"],
        "jaya"
    );
    let event = wait_event(&receiver, 1);
    assert_eq!(event["type"], "order.response");
    assert_eq!(event["data"]["order_id"], order_id.as_str());
    assert_eq!(event["data"]["response"]["status"], "accepted");
    wait_text(&apis, JAYA_NUMBER, "Pesanan PO-WA-1 diterima");

    // The same signed event again (Meta retries, or someone replays it within
    // the bound): known by its wamid, nothing new.
    let wamid = tap["wamid"].as_str().unwrap();
    assert_eq!(
        status(&apis.control(json!({"whatsapp_replay": wamid}))),
        200
    );
    wait_text(&apis, JAYA_NUMBER, "sudah dicatat");
    assert_eq!(
        order(&gw, &key, &order_id)["responses"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn a_telegram_button_accepts_and_the_callback_query_is_answered() {
    let apis = ChatApis::start(WA_TOKEN, BOT_TOKEN);
    let receiver = WebhookReceiver::start(SECRET);
    let gw = start(&apis, None, "10m");
    let key = parties(&gw, &receiver);
    let order_id = post_and_deliver(&gw, &key, "PO-TG-1", "PBG-017");
    let sent: Vec<Value> = apis
        .received()
        .into_iter()
        .filter(|r| r["method"] == "sendMessage" && r["status"] == 200)
        .collect();
    let keyboard = &sent[0]["json"]["reply_markup"]["inline_keyboard"][0];
    assert_eq!(keyboard[0]["text"], "Terima");
    assert_eq!(keyboard[1]["text"], "Tolak");
    for button in keyboard.as_array().unwrap() {
        let data = button["callback_data"].as_str().unwrap();
        assert!((1..=64).contains(&data.len()), "{data}");
        assert!(
            !data.contains(&order_id),
            "the order id is not the key: {data}"
        );
    }

    let tap = apis.control(json!({"telegram_tap": {"chat_id": JAYA_CHAT, "button": 0}}));
    assert_eq!(status(&tap), 200);
    let said = wait_callback_answer(&apis, tap["callback_query_id"].as_str().unwrap());
    assert!(said.contains("PO-TG-1 diterima"), "{said}");
    let answered = order(&gw, &key, &order_id);
    assert_eq!(answered["response"], "accepted");
    assert_eq!(answered["responses"][0]["via"], "telegram");
    let event = wait_event(&receiver, 1);
    assert_eq!(event["data"]["response"]["status"], "accepted");
    assert_eq!(event["data"]["response"]["via"], "telegram");

    // The same update an hour later, or now: its update_id was taken.
    let update_id = tap["update_id"].as_u64().unwrap();
    assert_eq!(
        status(&apis.control(json!({"telegram_replay": update_id}))),
        200
    );
    assert!(gw.logs().contains("a Telegram update taken before"));
    assert_eq!(
        order(&gw, &key, &order_id)["responses"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn a_rejection_tapped_in_either_chat_takes_the_next_text_as_its_reason() {
    let apis = ChatApis::start(WA_TOKEN, BOT_TOKEN);
    let receiver = WebhookReceiver::start(SECRET);
    let gw = start(&apis, None, "10m");
    let key = parties(&gw, &receiver);

    // WhatsApp, outside the window: the template's quick reply "tolak".
    let wa_order = post_and_deliver(&gw, &key, "PO-RJ-WA", "PBG-017");
    let tap = apis.control(json!({"whatsapp_user_taps": {
        "from": JAYA_NUMBER, "template": true, "button": 1}}));
    assert_eq!(status(&tap), 200);
    wait_text(&apis, JAYA_NUMBER, "Mengapa pesanan PO-RJ-WA ditolak?");
    assert_eq!(
        order(&gw, &key, &wa_order)["response"],
        Value::Null,
        "not rejected until the reason comes"
    );
    assert_eq!(
        status(&apis.control(json!({"whatsapp_user_writes": {
            "from": JAYA_NUMBER, "text": "Mesin bubut rusak"}}))),
        200
    );
    wait_text(&apis, JAYA_NUMBER, "dicatat beserta alasannya");
    let rejected = order(&gw, &key, &wa_order);
    assert_eq!(rejected["response"], "rejected");
    assert_eq!(rejected["responses"][0]["reason"], "Mesin bubut rusak");
    let event = wait_event(&receiver, 1);
    assert_eq!(event["data"]["response"]["reason"], "Mesin bubut rusak");

    // A rejection is final: accepting it now changes nothing, and Jaya is told.
    let again = apis.control(json!({"whatsapp_user_taps": {
        "from": JAYA_NUMBER, "template": true, "button": 0}}));
    assert_eq!(status(&again), 200);
    wait_text(&apis, JAYA_NUMBER, "sudah ditolak");
    assert_eq!(order(&gw, &key, &wa_order)["response"], "rejected");

    // Telegram: the second button, then the reason in the chat.
    let tg_order = post_and_deliver(&gw, &key, "PO-RJ-TG", "PBG-017");
    let tap = apis.control(json!({"telegram_tap": {"chat_id": JAYA_CHAT, "button": 1}}));
    let said = wait_callback_answer(&apis, tap["callback_query_id"].as_str().unwrap());
    assert!(said.contains("Mengapa pesanan PO-RJ-TG ditolak?"), "{said}");
    wait_text(&apis, JAYA_CHAT, "Mengapa pesanan PO-RJ-TG ditolak?");
    apis.control(json!({"telegram_user_writes": {
        "chat_id": JAYA_CHAT, "text": "Bahan SS304 habis"}}));
    wait_text(&apis, JAYA_CHAT, "dicatat beserta alasannya");
    let rejected = order(&gw, &key, &tg_order);
    assert_eq!(rejected["response"], "rejected");
    assert_eq!(rejected["responses"][0]["reason"], "Bahan SS304 habis");
    assert_eq!(rejected["responses"][0]["via"], "telegram");
    let tap = apis.control(json!({"telegram_tap": {"chat_id": JAYA_CHAT, "button": 0}}));
    let said = wait_callback_answer(&apis, tap["callback_query_id"].as_str().unwrap());
    assert!(said.contains("sudah ditolak"), "{said}");
}

#[test]
fn a_rejection_whose_reason_never_comes_is_recorded_after_the_wait_even_across_a_restart() {
    let apis = ChatApis::start(WA_TOKEN, BOT_TOKEN);
    let receiver = WebhookReceiver::start(SECRET);
    let gw = start(&apis, None, "3s");
    let key = parties(&gw, &receiver);
    let order_id = post_and_deliver(&gw, &key, "PO-NR-1", "PBG-017");
    let tap = apis.control(json!({"telegram_tap": {"chat_id": JAYA_CHAT, "button": 1}}));
    wait_callback_answer(&apis, tap["callback_query_id"].as_str().unwrap());
    // The question is in the store: a restart keeps it.
    let dir = gw.stop();
    let gw = start(&apis, Some(dir), "3s");
    let rejected = wait_until("the rejection was recorded without a reason", || {
        let o = order(&gw, &key, &order_id);
        (o["response"] == "rejected").then_some(o)
    });
    let reason = rejected["responses"][0]["reason"].as_str().unwrap();
    assert!(reason.contains("no reason"), "{reason}");
    assert_eq!(rejected["responses"].as_array().unwrap().len(), 1);
    wait_text(&apis, JAYA_CHAT, "dicatat tanpa alasan");
    let event = wait_event(&receiver, 1);
    assert_eq!(event["data"]["response"]["status"], "rejected");
    // A text after the wait is no reason for anything.
    apis.control(json!({"telegram_user_writes": {"chat_id": JAYA_CHAT, "text": "terlambat"}}));
    thread::sleep(Duration::from_millis(500));
    assert_eq!(
        order(&gw, &key, &order_id)["responses"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn forged_foreign_unknown_and_stale_taps_change_nothing_and_leak_no_secret() {
    let apis = ChatApis::start(WA_TOKEN, BOT_TOKEN);
    let receiver = WebhookReceiver::start(SECRET);
    let gw = start(&apis, None, "10m");
    let key = parties(&gw, &receiver);
    apis.whatsapp_user_writes(JAYA_NUMBER);
    let order_id = post_and_deliver(&gw, &key, "PO-FG-1", "PBG-017");
    let jaya_data = apis
        .received()
        .into_iter()
        .find(|r| r["method"] == "sendMessage" && r["status"] == 200)
        .unwrap()["json"]["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
        .as_str()
        .unwrap()
        .to_owned();

    // A wrong or missing secret token: 401, never read.
    for token in ["wrong-token", ""] {
        let tap = apis.control(json!({"telegram_tap": {
            "chat_id": JAYA_CHAT, "button": 0, "secret_token": token}}));
        assert_eq!(status(&tap), 401, "{token:?}");
        assert_eq!(
            callback_answer(&apis, tap["callback_query_id"].as_str().unwrap()),
            None
        );
    }
    // A wrong WhatsApp signature: 401.
    apis.whatsapp_webhook(&gw.url("/v1/whatsapp/webhook"), "not-the-app-secret");
    let forged = apis.control(json!({"whatsapp_user_taps": {"from": JAYA_NUMBER, "button": 0}}));
    assert_eq!(status(&forged), 401);
    apis.whatsapp_webhook(&gw.url("/v1/whatsapp/webhook"), APP_SECRET);

    // Lain sends Jaya's button from Lain's own chat: not Lain's order.
    let tap = apis.control(json!({"telegram_tap": {"chat_id": LAIN_CHAT, "data": jaya_data}}));
    assert_eq!(status(&tap), 200);
    let said = wait_callback_answer(&apis, tap["callback_query_id"].as_str().unwrap());
    assert!(said.contains("tidak ditemukan"), "{said}");
    let wa_id = jaya_data.clone();
    let foreign = apis.control(json!({"whatsapp_user_taps": {"from": LAIN_NUMBER, "id": wa_id}}));
    assert_eq!(status(&foreign), 200);
    wait_text(&apis, LAIN_NUMBER, "tidak ditemukan");

    // An order that does not exist.
    let tap = apis.control(json!({"telegram_tap": {
        "chat_id": JAYA_CHAT, "data": "accept:dlv_0000000000000000000000000000000a"}}));
    let said = wait_callback_answer(&apis, tap["callback_query_id"].as_str().unwrap());
    assert!(said.contains("tidak ditemukan"), "{said}");

    // Jaya's own tap, as captured an hour ago and replayed now.
    let an_hour_ago = chrono::Utc::now().timestamp() - 3600;
    let stale = apis.control(json!({"whatsapp_user_taps": {
        "from": JAYA_NUMBER, "button": 0, "timestamp": an_hour_ago}}));
    assert_eq!(status(&stale), 200);
    // Jaya's Telegram text an hour old is no reason either.
    apis.control(json!({"telegram_user_writes": {
        "chat_id": JAYA_CHAT, "text": "lama", "date": an_hour_ago}}));

    thread::sleep(Duration::from_millis(500));
    let untouched = order(&gw, &key, &order_id);
    assert_eq!(untouched["response"], Value::Null, "{untouched:#}");
    assert_eq!(untouched["responses"], json!([]));
    assert!(verified(&receiver).is_empty());
    let logs = gw.logs();
    for needle in [
        "without the right X-Telegram-Bot-Api-Secret-Token",
        "without a valid X-Hub-Signature-256",
        "from a chat the order was not sent to",
        "a chat tap on an unknown delivery",
        "older than the chat event bound",
    ] {
        assert!(logs.contains(needle), "not logged: {needle}");
    }
    for secret in [APP_SECRET, TG_SECRET, "wrong-token", BOT_TOKEN, WA_TOKEN] {
        assert!(!logs.contains(secret), "a secret in the log");
    }
}

/// The whole loop for buyers whose plugins render answers: an X12 buyer's order
/// accepted with a Telegram tap reaches the buyer's callback as an 855, a UBL
/// buyer's accepted with a WhatsApp tap as a UBL OrderResponse; both events are
/// verified by `standardwebhooks` and both documents read back by independent
/// parsers (pyx12, lxml).
#[test]
fn a_tap_reaches_buyers_on_rendering_plugins_as_their_own_documents() {
    require_python_packages();
    let apis = ChatApis::start(WA_TOKEN, BOT_TOKEN);
    let receiver = WebhookReceiver::start(SECRET);
    let gw = start(&apis, None, "10m");
    chat_craftsman(&gw, "jaya", "Bengkel Jaya", JAYA_NUMBER, JAYA_CHAT);
    assert_eq!(apis.whatsapp_user_writes(JAYA_NUMBER), 200);
    // Posts the fixture as `buyer` (bound to `plugin`) and waits until the order
    // reached both of Jaya's chats: the last message in each is then its.
    let post = |buyer: &str, plugin: &str, content_type: &str, fixture_path: &str| {
        let created = json_of(
            gw.admin(
                Method::POST,
                "/v1/admin/buyers",
                Some(
                    json!({"id": buyer, "name": "PT Sinar Cakra", "plugin": plugin,
                            "callback_url": receiver.url(&format!("/{buyer}"))}),
                ),
            ),
            201,
        );
        receiver.set_secret(created["callback_secret"].as_str().unwrap());
        gw.route(buyer, "BENGKEL-PBG-007", "jaya");
        let key = created["api_key"].as_str().unwrap().to_owned();
        let body = String::from_utf8(fixture(fixture_path)).unwrap();
        let posted = json_of(gw.post_order(&key, content_type, body), 201);
        let order_id = posted["orders"][0]["id"].as_str().unwrap().to_owned();
        chats_delivered(&gw, &order_id);
        (key, order_id)
    };

    // The X12 buyer's order, by Telegram.
    let (key, order_id) = post(
        "sinar-x12",
        "x12-850",
        "application/edi-x12",
        "plugins/x12-850/fixtures/x12-4010-10-lines.edi",
    );
    let tap = apis.control(json!({"telegram_tap": {"chat_id": JAYA_CHAT, "button": 0}}));
    assert_eq!(status(&tap), 200);
    let event = wait_event(&receiver, 1);
    assert_eq!(order(&gw, &key, &order_id)["response"], "accepted");
    assert_eq!(event["data"]["order_id"], order_id.as_str());
    assert_eq!(event["data"]["response"]["via"], "telegram");
    let text = document(&event["data"], "application/edi-x12");
    let read = read_back("x12", &text);
    assert_eq!(read["errors"], json!([]), "pyx12 found errors in\n{text}");
    assert_eq!(x12_segments(&read, "ST")[0][1], "855");
    let bak = x12_segments(&read, "BAK")[0];
    assert_eq!(bak[2], "AD", "accepted as ordered: {text}");
    assert_eq!(bak[3], "PO-SCN-2026-11-0042");

    // The UBL buyer's order, by WhatsApp.
    let (key, order_id) = post(
        "sinar-ubl",
        "ubl-order",
        "application/xml",
        "plugins/ubl-order/fixtures/ubl-10-lines.xml",
    );
    let tap = apis.control(json!({"whatsapp_user_taps": {"from": JAYA_NUMBER, "button": 0}}));
    assert_eq!(status(&tap), 200);
    assert_eq!(order(&gw, &key, &order_id)["response"], "accepted");
    let event = wait_event(&receiver, 2);
    assert_eq!(event["data"]["order_id"], order_id.as_str());
    assert_eq!(event["data"]["response"]["via"], "whatsapp");
    let text = document(&event["data"], "application/xml");
    let read = read_back("ubl", &text);
    assert_eq!(
        read["root"],
        "{urn:oasis:names:specification:ubl:schema:xsd:OrderResponse-2}OrderResponse"
    );
    assert_eq!(read["code"], "AP", "{text}");
    assert_eq!(read["order_reference"], "PO-SCN-2026-11-0042");
}
