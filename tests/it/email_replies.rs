//! The one reply to an e-mailed order (issue 9), whichever path finishes the
//! mail: a mail the door stopped (its sender not yet accepted) or the plugin
//! could not read is replayed by an admin, through the real binary. The sender
//! hears once: after the replay when nothing was said before, and never a
//! second time when the first reply told an outcome the replay changed; the
//! admin sees which outcome the reply told.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use crate::email::{BODY_TABLE, mail_gateway, mail_to, orders, replies_to, send_mail};
use crate::harness::{Gateway, json_of};
use crate::peers::SmtpSink;

fn send(gw: &Gateway, address: &str, sender: &str, message_id: &str) {
    let answer = send_mail(&[
        "--port",
        &gw.smtp_port().to_string(),
        "--sender",
        sender,
        "--to",
        address,
        "--text",
        BODY_TABLE,
        "--message-id",
        message_id,
    ]);
    assert_eq!(answer["sent"], true, "{answer}");
}

/// The buyer's newest message.
fn newest(gw: &Gateway) -> Value {
    gw.admin_get("/v1/admin/messages?buyer=mitra")["messages"][0].clone()
}

fn detail(gw: &Gateway, id: &str) -> Value {
    gw.admin_get(&format!("/v1/admin/messages/{id}"))
}

fn replay(gw: &Gateway, id: &str) -> reqwest::blocking::Response {
    gw.admin(
        Method::POST,
        &format!("/v1/admin/messages/{id}/replay"),
        None,
    )
}

#[test]
fn a_replayed_mail_gets_its_one_reply_and_a_changed_outcome_no_second() {
    let sink = SmtpSink::start();
    let (gw, address) = mail_gateway(&sink);

    // The buyer's plugin reads only CSV attachments for now: Budi's table in
    // the text is not read, and he is told so.
    json_of(
        gw.admin(
            Method::PATCH,
            "/v1/admin/buyers/mitra",
            Some(json!({"plugin_config": {"read": ["csv"]}})),
        ),
        200,
    );
    send(&gw, &address, "budi@mitra.test", "unread-1@mitra.test");
    let unread = newest(&gw);
    assert_eq!(unread["status"], "failed", "{unread}");
    let unread_id = unread["id"].as_str().unwrap().to_owned();
    mail_to(&sink, "budi@mitra.test", "could not be read");

    // Siti writes from the buyer's factory, whose domain is not accepted yet:
    // stored refused, never read, not answered.
    send(&gw, &address, "siti@pabrik.test", "siti-1@pabrik.test");
    let stopped = newest(&gw);
    assert_eq!(
        stopped["error"]["type"], "https://jembatan.dev/problems/sender-not-allowed",
        "{stopped}"
    );
    let stopped_id = stopped["id"].as_str().unwrap().to_owned();

    // The admin mends both and replays them.
    json_of(
        gw.admin(
            Method::PATCH,
            "/v1/admin/buyers/mitra",
            Some(json!({"plugin_config": {"read": null}})),
        ),
        200,
    );
    json_of(
        gw.admin(
            Method::PUT,
            "/v1/admin/buyers/mitra/email",
            Some(json!({"senders": ["mitra.test", "pabrik.test"], "language": "en"})),
        ),
        200,
    );
    let replayed = json_of(replay(&gw, &stopped_id), 200);
    assert_eq!(replayed["status"], "normalized", "{replayed}");
    let siti_order = replayed["order_ids"][0].as_str().unwrap().to_owned();
    let replayed = json_of(replay(&gw, &unread_id), 200);
    assert_eq!(replayed["status"], "normalized", "{replayed}");
    assert_eq!(replayed["attempts"], 2, "{replayed}");

    // Siti, who was told nothing, now hears of her order, once the admin vouched
    // for her by replaying.
    let reply = mail_to(&sink, "siti@pabrik.test", &siti_order);
    assert!(
        reply["text"]
            .as_str()
            .unwrap()
            .contains("1 order was received"),
        "{reply}"
    );
    let siti = detail(&gw, &stopped_id);
    assert_eq!(siti["email"]["reply"]["outcome"], "normalized", "{siti}");
    assert_eq!(
        siti["email"]["reply"]["attempt"], siti["attempts"],
        "{siti}"
    );

    // Budi was told his mail could not be read; the replay made an order of it,
    // and he is not written to again: at most one reply per message. The admin
    // sees that the reply told the first outcome.
    let budi = detail(&gw, &unread_id);
    assert_eq!(budi["status"], "normalized");
    assert_eq!(budi["email"]["reply"]["outcome"], "failed", "{budi}");
    assert_eq!(budi["email"]["reply"]["attempt"], 1, "{budi}");
    assert_eq!(budi["email"]["reply"]["state"], "sent", "{budi}");

    // Nothing is left to replay, so a second replay changes nothing.
    assert_eq!(replay(&gw, &stopped_id).status().as_u16(), 409);

    // A new mail from Budi is answered; by then any second reply to the
    // replayed ones would have been sent too.
    send(&gw, &address, "budi@mitra.test", "later-1@mitra.test");
    let deadline = std::time::Instant::now() + crate::email::WAIT;
    let later = loop {
        let found = orders(&gw)
            .into_iter()
            .filter(|o| o["buyer_order_number"] == "PO-MAIL-1")
            .count();
        if found == 3 {
            break newest(&gw);
        }
        assert!(std::time::Instant::now() < deadline, "no third order");
        std::thread::sleep(Duration::from_millis(100));
    };
    let later_order = later["order_ids"][0].as_str().unwrap();
    mail_to(&sink, "budi@mitra.test", later_order);
    assert_eq!(
        replies_to(&sink, "budi@mitra.test").len(),
        2,
        "{:?}",
        sink.attempts()
    );
    assert_eq!(
        replies_to(&sink, "siti@pabrik.test").len(),
        1,
        "{:?}",
        sink.attempts()
    );
}
