//! DKIM, SPF and DMARC on order mail (issue 9), through the real binary: the
//! buyer's mail domain `mitra.test` publishes its DKIM key, SPF and DMARC
//! records on a name server on loopback (`tests/peers/dns_server.py`, `dnslib`),
//! the buyer's mail server signs with `dkimpy` and sends with `smtplib`
//! (`tests/peers/send_mail.py`), and the gateway's resolver asks only that name
//! server. A mail that passes becomes an order and is answered; one that fails
//! is stored refused, never read, never answered; a name server that does not
//! answer makes the gateway say "try again later".

use std::process::Command;
use std::time::Duration;

use serde_json::{Value, json};

use crate::email::{
    BODY_TABLE, mail_gateway_with, mail_to, order_numbered, orders, post_inbound, replies_to,
    send_mail,
};
use crate::harness::{Gateway, json_of};
use crate::peers::{DkimKey, DnsServer, SmtpSink};

/// The zone of `mitra.test`: its DKIM key under selector `sel`, SPF allowing
/// only 127.0.0.1, and DMARC asking receivers to reject what fails.
fn mitra_zone(key: &DkimKey) -> Value {
    json!({
        "sel._domainkey.mitra.test": {"TXT": [key.dns_record()]},
        "mitra.test": {"TXT": ["v=spf1 ip4:127.0.0.1 -all"]},
        "_dmarc.mitra.test": {"TXT": ["v=DMARC1; p=reject"]},
    })
}

/// `[inbound_email.authentication]` requiring `require`, asking only `dns`.
fn authentication(require: &str, dns: &DnsServer) -> String {
    format!(
        "[inbound_email.authentication]\nrequire = {require}\nnameservers = [\"{}\"]\n\
         dns_timeout = \"1s\"\n",
        dns.address()
    )
}

/// The buyer's messages, newest first.
fn messages(gw: &Gateway) -> Vec<Value> {
    gw.admin_get("/v1/admin/messages?buyer=mitra")["messages"]
        .as_array()
        .unwrap()
        .clone()
}

/// Sends `BODY_TABLE` from budi@mitra.test with `extra` arguments; returns what
/// `send_mail.py` printed.
fn send(gw: &Gateway, address: &str, message_id: &str, extra: &[&str]) -> Value {
    let port = gw.smtp_port().to_string();
    let mut args = vec![
        "--port",
        &port,
        "--sender",
        "budi@mitra.test",
        "--to",
        address,
        "--text",
        BODY_TABLE,
        "--message-id",
        message_id,
    ];
    args.extend_from_slice(extra);
    send_mail(&args)
}

/// The stored refusal of the newest message: its error, never read by a plugin.
fn refusal(gw: &Gateway) -> Value {
    let newest = &messages(gw)[0];
    assert_eq!(newest["status"], "failed", "{newest}");
    assert!(newest["processed_by"].is_null(), "not normalized: {newest}");
    assert_eq!(
        newest["error"]["type"], "https://jembatan.dev/problems/authentication-failed",
        "{newest}"
    );
    newest["error"].clone()
}

#[test]
fn signed_mail_from_an_allowed_sender_is_an_order_and_forged_mail_is_refused_without_a_reply() {
    let key = DkimKey::generate();
    let wrong_key = DkimKey::generate();
    let dns = DnsServer::start(mitra_zone(&key));
    let sink = SmtpSink::start();
    // DMARC first, so each refusal names the check it failed on.
    let (gw, address) = mail_gateway_with(
        &sink,
        false,
        &authentication("[\"dmarc\", \"spf\", \"dkim\"]", &dns),
    );
    let signed = format!("{}:sel:mitra.test", key.private_key().display());
    let wrongly_signed = format!("{}:sel:mitra.test", wrong_key.private_key().display());

    // Signed by mitra.test, sent from an address its SPF allows: an order, and
    // the sender's reply names it.
    let answer = send(&gw, &address, "good-1@mitra.test", &["--dkim", &signed]);
    assert_eq!(answer["sent"], true, "{answer}");
    let order = order_numbered(&gw, "PO-MAIL-1");
    mail_to(&sink, "budi@mitra.test", order["id"].as_str().unwrap());
    let message = gw.admin_get(&format!(
        "/v1/admin/messages/{}",
        order["message_id"].as_str().unwrap()
    ));
    let results = message["email"]["authentication_results"]
        .as_str()
        .unwrap_or_else(|| panic!("no results recorded: {message}"));
    assert!(results.starts_with("in.jembatan.test;"), "{results}");
    for passed in ["dkim=pass", "spf=pass", "dmarc=pass"] {
        assert!(results.contains(passed), "{passed} in {results}");
    }
    assert_eq!(message["email"]["reply"]["state"], "sent", "{message}");

    // The body changed after it was signed: the body hash no longer matches.
    let answer = send(
        &gw,
        &address,
        "tampered-1@mitra.test",
        &["--dkim", &signed, "--tamper"],
    );
    assert_eq!(answer["sent"], true, "stored refused: {answer}");
    let error = refusal(&gw);
    let detail = error["detail"].as_str().unwrap();
    assert!(detail.contains("DKIM failed"), "{error}");
    assert!(detail.contains("d=mitra.test"), "{error}");
    // RFC 6376 §3.9: a body hash that does not match is a failed signature;
    // mail-auth records it as "neutral (body hash did not verify)".
    let results = error["authentication_results"].as_str().unwrap();
    assert!(
        results.contains("dkim=") && !results.contains("dkim=pass"),
        "{error}"
    );

    // Signed with a key mitra.test does not publish.
    let answer = send(
        &gw,
        &address,
        "wrong-key-1@mitra.test",
        &["--dkim", &wrongly_signed],
    );
    assert_eq!(answer["sent"], true, "{answer}");
    let error = refusal(&gw);
    assert!(
        error["detail"].as_str().unwrap().contains("DKIM failed"),
        "{error}"
    );

    // Not signed, and from 127.0.0.2, which mitra.test's SPF does not list:
    // nothing aligned passes, and its DMARC policy is reject.
    let answer = send(
        &gw,
        &address,
        "unsigned-1@mitra.test",
        &["--source-ip", "127.0.0.2"],
    );
    assert_eq!(answer["sent"], true, "{answer}");
    let error = refusal(&gw);
    let detail = error["detail"].as_str().unwrap();
    assert!(detail.contains("DMARC failed"), "{error}");
    assert!(detail.contains("reject"), "{error}");

    // Signed well, but sent from 127.0.0.2: SPF fails.
    let answer = send(
        &gw,
        &address,
        "spf-1@mitra.test",
        &["--dkim", &signed, "--source-ip", "127.0.0.2"],
    );
    assert_eq!(answer["sent"], true, "{answer}");
    let error = refusal(&gw);
    let detail = error["detail"].as_str().unwrap();
    assert!(detail.contains("SPF failed"), "{error}");
    assert!(detail.contains("127.0.0.2"), "{error}");

    // Four refused, one order; one reply only, the good mail's. A good mail
    // sent after them is answered, so by then any reply to the refused ones
    // would have been sent too.
    assert_eq!(orders(&gw).len(), 1);
    let answer = send(&gw, &address, "good-2@mitra.test", &["--dkim", &signed]);
    assert_eq!(answer["sent"], true, "{answer}");
    let second = order_numbered_after(&gw, "PO-MAIL-1", order["id"].as_str().unwrap());
    mail_to(&sink, "budi@mitra.test", second["id"].as_str().unwrap());
    assert_eq!(
        replies_to(&sink, "budi@mitra.test").len(),
        2,
        "{:?}",
        sink.attempts()
    );
    assert_eq!(messages(&gw).len(), 6);
}

/// The order numbered `number` other than `earlier`, waiting for it.
fn order_numbered_after(gw: &Gateway, number: &str, earlier: &str) -> Value {
    let deadline = std::time::Instant::now() + crate::email::WAIT;
    loop {
        if let Some(order) = orders(gw)
            .into_iter()
            .find(|o| o["buyer_order_number"] == number && o["id"] != earlier)
        {
            return order;
        }
        assert!(std::time::Instant::now() < deadline, "no second {number}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn mail_posted_over_http_is_verified_by_its_dkim_signature_and_no_forged_results_are_trusted() {
    let key = DkimKey::generate();
    let dns = DnsServer::start(mitra_zone(&key));
    let sink = SmtpSink::start();
    let (gw, address) = mail_gateway_with(&sink, true, &authentication("\"dmarc\"", &dns));
    let signed = format!("{}:sel:mitra.test", key.private_key().display());
    let dir = tempfile::tempdir().unwrap();
    let raw = |name: &str, extra: &[&str]| {
        let path = dir.path().join(name);
        let path = path.to_str().unwrap();
        let mut args = vec![
            "--sender",
            "budi@mitra.test",
            "--to",
            &address,
            "--text",
            BODY_TABLE,
            "--message-id",
            name,
            "--no-send",
            "--raw-out",
            path,
        ];
        args.extend_from_slice(extra);
        send_mail(&args);
        std::fs::read(path).unwrap()
    };
    let post = |raw: Vec<u8>| post_inbound(&gw, raw);

    // The mail provider forwards a signed mail unchanged: DMARC passes by DKIM.
    let accepted = json_of(post(raw("http-good@mitra.test", &["--dkim", &signed])), 201);
    let message = gw.admin_get(&format!(
        "/v1/admin/messages/{}",
        accepted["message_id"].as_str().unwrap()
    ));
    let results = message["email"]["authentication_results"].as_str().unwrap();
    assert!(results.contains("dkim=pass"), "{results}");
    assert!(results.contains("dmarc=pass"), "{results}");

    // An unsigned mail carrying results that say it passed, under the gateway's
    // own name: the header is not the gateway's, and is not believed.
    let forged = [
        b"Authentication-Results: in.jembatan.test; dkim=pass header.d=mitra.test; dmarc=pass\r\n"
            .as_slice(),
        &raw("http-forged@mitra.test", &[]),
    ]
    .concat();
    let refused = json_of(post(forged), 422);
    assert_eq!(
        refused["type"], "https://jembatan.dev/problems/authentication-failed",
        "{refused}"
    );
    assert!(
        refused["detail"].as_str().unwrap().contains("DMARC failed"),
        "{refused}"
    );
    let message = gw.admin_get(&format!(
        "/v1/admin/messages/{}",
        refused["message_id"].as_str().unwrap()
    ));
    let results = message["email"]["authentication_results"].as_str().unwrap();
    assert!(results.contains("dmarc=fail"), "{results}");
    assert!(!results.contains("dkim=pass"), "{results}");

    // Only the signed mail was answered.
    let order = &accepted["orders"][0];
    mail_to(&sink, "budi@mitra.test", order["id"].as_str().unwrap());
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        replies_to(&sink, "budi@mitra.test").len(),
        1,
        "{:?}",
        sink.attempts()
    );
}

#[test]
fn a_name_server_that_does_not_answer_means_try_again_later() {
    let dns = DnsServer::silent();
    let sink = SmtpSink::start();
    let (gw, address) = mail_gateway_with(&sink, true, &authentication("\"dmarc\"", &dns));

    // SMTP: 451, so the sender's server keeps the mail and tries again.
    let answer = send(&gw, &address, "dns-down-1@mitra.test", &[]);
    assert_eq!(answer["sent"], false, "{answer}");
    assert_eq!(answer["stage"], "data", "{answer}");
    assert_eq!(answer["code"], 451, "{answer}");

    // HTTP: 503, and the provider posts it again later.
    let res = post_inbound(
        &gw,
        format!(
            "From: budi@mitra.test\r\nTo: {address}\r\nSubject: PO\r\n\
             Message-ID: <dns-down-2@mitra.test>\r\n\r\n{BODY_TABLE}"
        )
        .into_bytes(),
    );
    let problem = json_of(res, 503);
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("try again later"),
        "{problem}"
    );

    // Nothing was stored, nothing answered.
    assert!(messages(&gw).is_empty());
    assert_eq!(replies_to(&sink, "budi@mitra.test").len(), 0);
}

#[test]
fn the_gateway_refuses_to_start_requiring_spf_of_mail_posted_over_http() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("jembatan.toml");
    std::fs::write(
        &config,
        "[inbound_email]\ndomain = \"in.jembatan.test\"\nhttp_token = \"t0ken-for-the-provider\"\n\n\
         [inbound_email.authentication]\nrequire = [\"spf\"]\nnameservers = [\"127.0.0.1:53\"]\n",
    )
    .unwrap();
    let out = Command::new("timeout")
        .arg("60")
        .arg(env!("CARGO_BIN_EXE_jembatan"))
        .args(["serve", "--config"])
        .arg(&config)
        .env("JEMBATAN_DATA_DIR", dir.path().join("data"))
        .env("JEMBATAN_LISTEN", "127.0.0.1:0")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "it started: {stderr}");
    assert_ne!(
        out.status.code(),
        Some(124),
        "it ran until the timeout: {stderr}"
    );
    assert!(
        stderr.contains("requires spf, which only the SMTP listener can check"),
        "{stderr}"
    );
}
