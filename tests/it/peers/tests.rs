//! Each peer on its own, without the gateway.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, Mac};
use reqwest::blocking::Client;
use serde_json::{Value, json};

use super::*;

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const OTHER_SECRET: &str = "whsec_c2VjcmV0IG9mIHNvbWVib2R5IGVsc2U=";
const QUICK: Duration = Duration::from_secs(2);

#[test]
fn pip_command_is_the_one_ci_runs() {
    let ci = std::fs::read_to_string(repo_root().join(".ci/run")).unwrap();
    assert!(ci.contains(PIP_INSTALL), ".ci/run must run `{PIP_INSTALL}`");
}

/// A Standard Webhooks signature, computed here rather than by the gateway.
fn sign(secret: &str, id: &str, timestamp: u64, body: &str) -> String {
    let key = BASE64
        .decode(secret.strip_prefix("whsec_").unwrap())
        .unwrap();
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(&key).unwrap();
    mac.update(format!("{id}.{timestamp}.{body}").as_bytes());
    format!("v1,{}", BASE64.encode(mac.finalize().into_bytes()))
}

fn post_signed(client: &Client, url: &str, secret: &str, body: &str) -> u16 {
    let timestamp = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    client
        .post(url)
        .header("webhook-id", "msg_1")
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", sign(secret, "msg_1", timestamp, body))
        .header("content-type", "application/json")
        .body(body.to_owned())
        .send()
        .unwrap()
        .status()
        .as_u16()
}

fn statuses(records: &[Value]) -> Vec<u64> {
    records
        .iter()
        .map(|r| r["status"].as_u64().unwrap())
        .collect()
}

#[test]
fn webhook_receiver_verifies_signatures_and_fails_on_demand() {
    let receiver = WebhookReceiver::start(SECRET);
    let client = Client::new();
    let url = receiver.url("/orders");
    let order = r#"{"order":"PO-1"}"#;

    assert_eq!(post_signed(&client, &url, SECRET, order), 204);
    assert_eq!(post_signed(&client, &url, OTHER_SECRET, order), 400);
    receiver.set_status(500);
    assert_eq!(post_signed(&client, &url, SECRET, order), 500);
    receiver.set_status(204);
    receiver.fail_next(1, 503);
    assert_eq!(post_signed(&client, &url, SECRET, order), 503);
    assert_eq!(post_signed(&client, &url, SECRET, order), 204);

    let received = receiver.wait_for(|r| r.len() == 5, QUICK);
    assert_eq!(statuses(&received), [204, 400, 500, 503, 204]);
    let first = &received[0];
    assert_eq!(first["verified"], true, "{first}");
    assert_eq!(first["path"], "/orders");
    assert_eq!(first["webhook_id"], "msg_1");
    assert_eq!(first["body"], json!({"order": "PO-1"}));
    let forged = &received[1];
    assert_eq!(forged["verified"], false);
    assert!(
        forged["verify_error"]
            .as_str()
            .unwrap()
            .contains("No matching signature"),
        "{forged}"
    );
    assert_eq!(
        received[2]["verified"], true,
        "a forced failure is still verified"
    );
}

#[test]
fn webhook_receiver_comes_back_up_on_the_same_port() {
    let receiver = WebhookReceiver::start(SECRET);
    let (port, url) = (receiver.port(), receiver.url("/hook"));
    assert!(receiver.stop().is_empty());
    let client = Client::new();
    assert!(
        client.post(&url).send().is_err(),
        "nothing listens while it is down"
    );

    let receiver = WebhookReceiver::start_on(port, SECRET);
    let unsigned = client.post(&url).body("{}").send().unwrap();
    assert_eq!(unsigned.status(), 400);
    let received = receiver.received();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0]["verified"], false);
    assert_eq!(received[0]["body"], json!({}));
}

/// Just enough of an SMTP client to hold a conversation by hand.
struct RawSmtp {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl RawSmtp {
    fn connect(port: u16) -> Self {
        let stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let mut smtp = Self {
            reader: BufReader::new(stream.try_clone().unwrap()),
            writer: stream,
        };
        assert_eq!(smtp.reply().0, 220);
        smtp
    }

    /// The reply's code and all its lines.
    fn reply(&mut self) -> (u16, String) {
        let mut text = String::new();
        loop {
            let mut line = String::new();
            self.reader.read_line(&mut line).unwrap();
            text.push_str(&line);
            // "250-more follows" / "250 last line"
            if line.as_bytes().get(3) != Some(&b'-') {
                return (line[..3].parse().unwrap(), text);
            }
        }
    }

    fn command(&mut self, line: &str) -> (u16, String) {
        write!(self.writer, "{line}\r\n").unwrap();
        self.reply()
    }

    /// Sends one message; returns the code its DATA was answered with.
    fn send(&mut self, from: &str, to: &str, message: &str) -> u16 {
        assert_eq!(self.command(&format!("MAIL FROM:<{from}>")).0, 250);
        assert_eq!(self.command(&format!("RCPT TO:<{to}>")).0, 250);
        assert_eq!(self.command("DATA").0, 354);
        self.command(&format!("{message}\r\n.")).0
    }
}

#[test]
fn smtp_sink_parses_a_multipart_message() {
    let sink = SmtpSink::start();
    let mut smtp = RawSmtp::connect(sink.port());
    let (code, ehlo) = smtp.command("EHLO test.example");
    assert_eq!(code, 250);
    assert!(
        !ehlo.contains("AUTH"),
        "no AUTH without credentials: {ehlo}"
    );
    let csv = "sku,qty\nKRS,2\n";
    let message = [
        "From: Jembatan <orders@jembatan.test>",
        "To: Pak Budi <budi@craft.test>",
        "Subject: Pesanan PO-7",
        "Message-ID: <po-7@jembatan.test>",
        "MIME-Version: 1.0",
        "Content-Type: multipart/mixed; boundary=\"outer\"",
        "",
        "--outer",
        "Content-Type: multipart/alternative; boundary=\"inner\"",
        "",
        "--inner",
        "Content-Type: text/plain; charset=utf-8",
        "",
        "2 x Keris",
        "--inner",
        "Content-Type: text/html; charset=utf-8",
        "",
        "<p>2 x Keris</p>",
        "--inner--",
        "--outer",
        "Content-Type: text/csv; charset=utf-8",
        "Content-Disposition: attachment; filename=\"po-7.csv\"",
        "Content-Transfer-Encoding: base64",
        "",
        &BASE64.encode(csv),
        "--outer--",
    ]
    .join("\r\n");
    assert_eq!(
        smtp.send("orders@jembatan.test", "budi@craft.test", &message),
        250
    );
    smtp.command("QUIT");

    let mail = &sink.wait_for(|m| m.len() == 1, QUICK)[0];
    assert_eq!(mail["mail_from"], "orders@jembatan.test");
    assert_eq!(mail["rcpt_tos"], json!(["budi@craft.test"]));
    assert_eq!(mail["message_id"], "<po-7@jembatan.test>");
    assert_eq!(mail["subject"], "Pesanan PO-7");
    assert_eq!(mail["to"], "Pak Budi <budi@craft.test>");
    assert_eq!(mail["text"].as_str().unwrap().trim_end(), "2 x Keris");
    assert_eq!(
        mail["html"].as_str().unwrap().trim_end(),
        "<p>2 x Keris</p>"
    );
    assert_eq!(
        mail["attachments"],
        json!([{"filename": "po-7.csv", "content_type": "text/csv",
                "content": csv, "content_encoding": "text"}])
    );
}

#[test]
fn smtp_sink_requires_auth_when_asked_and_fails_on_demand() {
    let sink = SmtpSink::start_with_auth("jembatan", "rahasia");
    let mut smtp = RawSmtp::connect(sink.port());
    let (_, ehlo) = smtp.command("EHLO test.example");
    assert!(ehlo.contains("AUTH LOGIN PLAIN"), "{ehlo}");
    assert_eq!(smtp.command("MAIL FROM:<orders@jembatan.test>").0, 530);
    let plain = |password: &str| {
        format!(
            "AUTH PLAIN {}",
            BASE64.encode(format!("\0jembatan\0{password}"))
        )
    };
    assert_eq!(smtp.command(&plain("salah")).0, 535);
    assert_eq!(smtp.command(&plain("rahasia")).0, 235);

    sink.fail_next(1, 451);
    let (from, to) = ("orders@jembatan.test", "budi@craft.test");
    assert_eq!(smtp.send(from, to, "Subject: first\r\n\r\nhello"), 451);
    assert_eq!(smtp.send(from, to, "Subject: second\r\n\r\nhello"), 250);

    let messages = sink.wait_for(|m| m.len() == 1, QUICK);
    assert_eq!(messages[0]["subject"], "second");
    assert_eq!(messages[0]["auth_user"], "jembatan");
    assert_eq!(statuses(&sink.attempts()), [451, 250]);
}

#[test]
fn smtp_sink_with_starttls_refuses_mail_and_auth_before_it() {
    let certificates = TestCertificates::generate();
    let sink = SmtpSink::start_tls(
        SmtpSinkTls::Starttls,
        &certificates,
        Some(("jembatan", "rahasia")),
    );
    let mut smtp = RawSmtp::connect(sink.port());
    let (code, ehlo) = smtp.command("EHLO test.example");
    assert_eq!(code, 250);
    assert!(ehlo.contains("STARTTLS"), "{ehlo}");
    assert!(!ehlo.contains("AUTH"), "no AUTH in plain text: {ehlo}");
    let (code, reply) = smtp.command("MAIL FROM:<orders@jembatan.test>");
    assert_eq!(code, 530, "{reply}");
    assert!(reply.contains("STARTTLS"), "{reply}");
    let (code, reply) = smtp.command("AUTH PLAIN AGplbWJhdGFuAHJhaGFzaWE=");
    assert_eq!(code, 530, "{reply}");
    assert_eq!(smtp.command("STARTTLS").0, 220, "ready to start TLS");
    assert!(sink.attempts().is_empty());
}

const WHATSAPP_TOKEN: &str = "wa-test-token";
const TELEGRAM_TOKEN: &str = "123456:telegram-test-token";

#[test]
fn chat_apis_answer_like_the_whatsapp_cloud_api() {
    let apis = ChatApis::start(WHATSAPP_TOKEN, TELEGRAM_TOKEN);
    let client = Client::new();
    let url = format!("{}/v21.0/1098765/messages", apis.base_url());
    let send = |token: &str, body: Value| {
        let res = client
            .post(&url)
            .bearer_auth(token)
            .json(&body)
            .send()
            .unwrap();
        (res.status().as_u16(), res.json::<Value>().unwrap())
    };
    let text = |body: &str| json!({"messaging_product": "whatsapp", "to": "6281234567", "type": "text", "text": {"body": body}});

    // Outside the service window free-form text is refused as Meta refuses it.
    let (status, answer) = send(WHATSAPP_TOKEN, text("Pesanan PO-7: 2 x Keris"));
    assert_eq!(
        (status, &answer["error"]["code"]),
        (400, &json!(131047)),
        "{answer}"
    );
    // The user writes (no webhook is set: nobody is told), which opens it.
    apis.whatsapp_user_writes("6281234567");
    let (status, answer) = send(WHATSAPP_TOKEN, text("Pesanan PO-7: 2 x Keris"));
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["contacts"][0]["wa_id"], "6281234567");
    assert!(
        answer["messages"][0]["id"]
            .as_str()
            .unwrap()
            .starts_with("wamid."),
        "{answer}"
    );
    let (status, answer) = send("wrong", text("hi"));
    assert_eq!(
        (status, &answer["error"]["code"]),
        (401, &json!(190)),
        "{answer}"
    );
    let (status, answer) = send(WHATSAPP_TOKEN, text(&"x".repeat(4097)));
    assert_eq!(
        (status, &answer["error"]["code"]),
        (400, &json!(100)),
        "{answer}"
    );
    let mut local = text("hi");
    local["to"] = json!("0812345678");
    let (status, answer) = send(WHATSAPP_TOKEN, local);
    assert_eq!((status, &answer["error"]["code"]), (400, &json!(100)));

    // Templates: only approved ones, with their number of parameters.
    apis.control(json!({"whatsapp_templates": [
        {"name": "pesanan_baru", "language": "id", "body_params": 1}]}));
    let template = |name: &str, params: &[&str]| {
        let parameters: Vec<_> = params
            .iter()
            .map(|p| json!({"type": "text", "text": p}))
            .collect();
        json!({"messaging_product": "whatsapp", "to": "6289900001111", "type": "template",
               "template": {"name": name, "language": {"code": "id"},
                            "components": [{"type": "body", "parameters": parameters}]}})
    };
    let codes: Vec<_> = [
        template("pesanan_baru", &["PO-7"]),
        template("pesanan_lain", &["PO-7"]),
        template("pesanan_baru", &["PO-7", "Jaya"]),
        template("pesanan_baru", &["PO-7\nbaris"]),
    ]
    .into_iter()
    .map(|body| {
        let (status, answer) = send(WHATSAPP_TOKEN, body);
        (status, answer["error"]["code"].clone())
    })
    .collect();
    assert_eq!(
        codes,
        [
            (200, Value::Null),
            (400, json!(132001)),
            (400, json!(132000)),
            (400, json!(132018))
        ]
    );

    // Documents: uploaded first, of a type WhatsApp takes (never CSV).
    let upload = |content_type: &str, filename: &str| {
        let body = format!(
            "--b\r\nContent-Disposition: form-data; name=\"messaging_product\"\r\n\r\nwhatsapp\r\n\
             --b\r\nContent-Disposition: form-data; name=\"type\"\r\n\r\n{content_type}\r\n\
             --b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\n\
             Content-Type: {content_type}\r\n\r\nsku,qty\r\n--b--\r\n"
        );
        let res = client
            .post(format!("{}/v21.0/1098765/media", apis.base_url()))
            .bearer_auth(WHATSAPP_TOKEN)
            .header("content-type", "multipart/form-data; boundary=b")
            .body(body)
            .send()
            .unwrap();
        (res.status().as_u16(), res.json::<Value>().unwrap())
    };
    let (status, answer) = upload("text/csv", "po-7.csv");
    assert_eq!((status, &answer["error"]["code"]), (400, &json!(100)));
    let (status, answer) = upload("text/plain", "po-7.txt");
    assert_eq!(status, 200, "{answer}");
    let document = |id: &Value| {
        json!({"messaging_product": "whatsapp", "to": "6281234567",
        "type": "document", "document": {"id": id, "filename": "po-7.txt"}})
    };
    assert_eq!(send(WHATSAPP_TOKEN, document(&answer["id"])).0, 200);
    assert_eq!(send(WHATSAPP_TOKEN, document(&json!("123"))).0, 400);

    let received = apis.wait_for(|r| r.len() == 13, QUICK);
    assert_eq!(
        statuses(&received),
        [
            400, 200, 401, 400, 400, 200, 400, 400, 400, 400, 200, 200, 400
        ]
    );
    assert_eq!(received[1]["api"], "whatsapp");
    assert_eq!(
        received[1]["json"]["text"]["body"],
        "Pesanan PO-7: 2 x Keris"
    );
}

#[test]
fn chat_apis_answer_like_the_telegram_bot_api() {
    let apis = ChatApis::start(WHATSAPP_TOKEN, TELEGRAM_TOKEN);
    let client = Client::new();
    let url = |token: &str, method: &str| format!("{}/bot{token}/{method}", apis.base_url());

    let res = client
        .post(url(TELEGRAM_TOKEN, "sendMessage"))
        .json(&json!({"chat_id": 42, "text": "Pesanan PO-7"}))
        .send()
        .unwrap();
    let answer: Value = res.json().unwrap();
    assert_eq!(answer["ok"], true, "{answer}");
    assert!(answer["result"]["message_id"].is_u64(), "{answer}");

    let csv = "sku,qty\nKRS,2\n";
    let multipart = format!(
        "--b\r\nContent-Disposition: form-data; name=\"chat_id\"\r\n\r\n42\r\n\
         --b\r\nContent-Disposition: form-data; name=\"document\"; filename=\"po-7.csv\"\r\n\
         Content-Type: text/csv\r\n\r\n{csv}\r\n--b--\r\n"
    );
    let res = client
        .post(url(TELEGRAM_TOKEN, "sendDocument"))
        .header("content-type", "multipart/form-data; boundary=b")
        .body(multipart)
        .send()
        .unwrap();
    assert_eq!(res.status(), 200, "{}", res.text().unwrap());

    let res = client
        .post(url("654321:wrong", "sendMessage"))
        .json(&json!({"chat_id": 42, "text": "hi"}))
        .send()
        .unwrap();
    assert_eq!(res.status(), 401);
    apis.fail_next(1, 429);
    let res = client
        .post(url(TELEGRAM_TOKEN, "sendMessage"))
        .json(&json!({"chat_id": 42, "text": "hi"}))
        .send()
        .unwrap();
    assert_eq!(res.status(), 429);
    assert_eq!(res.json::<Value>().unwrap()["parameters"]["retry_after"], 1);

    let received = apis.wait_for(|r| r.len() == 4, QUICK);
    assert_eq!(statuses(&received), [200, 200, 401, 429]);
    assert_eq!(received[0]["path"], "/bot<redacted>/sendMessage");
    assert_eq!(received[1]["fields"]["chat_id"], "42");
    assert_eq!(received[1]["document"]["filename"], "po-7.csv");
    assert_eq!(received[1]["document"]["content"], csv);
    let recorded = serde_json::to_string(&received).unwrap();
    assert!(
        !recorded.contains("telegram-test-token"),
        "the bot token leaked: {recorded}"
    );
}
