//! Orders by e-mail (issue 9), through the real binary: a buyer's mail client
//! (Python's `smtplib`, `tests/peers/send_mail.py`) sends to the gateway's SMTP
//! listener, the stock `email-order` plugin reads the order from the body or an
//! attachment, the order reaches the craftsman by e-mail, and the sender's reply
//! arrives at the relay (`tests/peers/smtp_sink.py`) with the order ids. The same
//! raw message posted to `POST /v1/inbound/email` is read the same way.

use std::process::Command;
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::{Gateway, Options, json_of, repo_root};
use crate::peers::{SmtpSink, require_python_packages};

pub(crate) const DOMAIN: &str = "in.jembatan.test";
pub(crate) const INBOUND_TOKEN: &str = "inbound-mail-token-5u8x2w";
pub(crate) const WAIT: Duration = Duration::from_secs(30);

/// A gateway taking mail for [`DOMAIN`] on an SMTP port of its own, relaying
/// orders and replies through `sink`, with the buyer `mitra` (plugin
/// `email-order`, mail accepted from `mitra.test` only) and the craftsman `jaya`
/// (by e-mail) for its supplier codes `PANDE-01` and `PBG-023`. Returns the
/// gateway and the buyer's inbound address.
pub(crate) fn mail_gateway(sink: &SmtpSink) -> (Gateway, String) {
    mail_gateway_with(sink, true, "")
}

/// [`mail_gateway`], taking mail over HTTP (with [`INBOUND_TOKEN`]) only when
/// `over_http`, with `extra` (TOML) after the `[inbound_email]` table, e.g. an
/// `[inbound_email.authentication]` table.
pub(crate) fn mail_gateway_with(
    sink: &SmtpSink,
    over_http: bool,
    extra: &str,
) -> (Gateway, String) {
    let token = if over_http {
        format!("http_token = \"{INBOUND_TOKEN}\"\n")
    } else {
        String::new()
    };
    let config = format!(
        "[delivery.email]\nhost = \"127.0.0.1\"\nport = {}\ntls = \"none\"\n\
         from = \"jembatan <orders@jembatan.test>\"\n\n\
         [inbound_email]\ndomain = \"{DOMAIN}\"\nsmtp_listen = \"127.0.0.1:0\"\n\
         {token}\n{extra}",
        sink.port()
    );
    let gw = Gateway::start_with(Options {
        config: Some(config),
        ..Options::default()
    });
    gw.create_buyer("mitra", "email-order", json!({"supplier_code": "PANDE-01"}));
    let settings = json_of(
        gw.admin(
            Method::PUT,
            "/v1/admin/buyers/mitra/email",
            Some(json!({"senders": ["mitra.test"], "language": "en"})),
        ),
        200,
    );
    assert_eq!(settings["senders"], json!(["mitra.test"]));
    let address = json_of(
        gw.admin(Method::POST, "/v1/admin/buyers/mitra/email/address", None),
        200,
    )["address"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        address.starts_with("orders+") && address.ends_with(DOMAIN),
        "{address}"
    );
    gw.create_craftsman(json!({"id": "jaya", "name": "Jaya",
        "channels": [{"type": "email", "to": "jaya@bengkel.test"}]}));
    gw.route("mitra", "PANDE-01", "jaya");
    gw.route("mitra", "PBG-023", "jaya");
    (gw, address)
}

/// Runs `send_mail.py` with `args`; returns what it printed.
pub(crate) fn send_mail(args: &[&str]) -> Value {
    require_python_packages();
    let out = Command::new("python3")
        .arg(repo_root().join("tests/peers/send_mail.py"))
        .args(args)
        .output()
        .expect("running send_mail.py");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "send_mail.py failed: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("{e}: {stdout}"))
}

/// Posts `raw` to `POST /v1/inbound/email` as the operator's mail provider.
pub(crate) fn post_inbound(gw: &Gateway, raw: Vec<u8>) -> reqwest::blocking::Response {
    gw.client
        .post(gw.url("/v1/inbound/email"))
        .bearer_auth(INBOUND_TOKEN)
        .header("content-type", "message/rfc822")
        .body(raw)
        .send()
        .unwrap()
}

/// The mails the relay was offered for `to` (taken or not).
pub(crate) fn replies_to(sink: &SmtpSink, to: &str) -> Vec<Value> {
    sink.attempts()
        .into_iter()
        .filter(|m| m["rcpt_tos"].as_array().unwrap().iter().any(|r| r == to))
        .collect()
}

/// The buyer's orders, newest first.
pub(crate) fn orders(gw: &Gateway) -> Vec<Value> {
    gw.admin_get("/v1/admin/orders?buyer=mitra")["orders"]
        .as_array()
        .unwrap()
        .clone()
}

/// The order numbered `number`, waiting for it.
pub(crate) fn order_numbered(gw: &Gateway, number: &str) -> Value {
    let deadline = Instant::now() + WAIT;
    loop {
        if let Some(order) = orders(gw)
            .into_iter()
            .find(|o| o["buyer_order_number"] == number)
        {
            return order;
        }
        assert!(
            Instant::now() < deadline,
            "no order {number}: {:?}",
            orders(gw)
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Waits for a mail to `to` whose text holds `needle`; returns it.
pub(crate) fn mail_to(sink: &SmtpSink, to: &str, needle: &str) -> Value {
    let mails = sink.wait_for(
        |mails| {
            mails.iter().any(|m| {
                m["rcpt_tos"].as_array().unwrap().iter().any(|r| r == to)
                    && m["text"].as_str().unwrap_or_default().contains(needle)
            })
        },
        WAIT,
    );
    mails
        .into_iter()
        .find(|m| {
            m["rcpt_tos"].as_array().unwrap().iter().any(|r| r == to)
                && m["text"].as_str().unwrap_or_default().contains(needle)
        })
        .unwrap()
}

pub(crate) const BODY_TABLE: &str = "Selamat pagi Pak Jaya,\n\n\
Mohon dikirim pesanan berikut.\n\
No. PO: PO-MAIL-1\n\
Tanggal: 27/11/2026\n\n\
| No | Kode  | Nama Barang  | Jumlah | Satuan | Harga Satuan    |\n\
|----|-------|--------------|--------|--------|-----------------|\n\
| 1  | CK-01 | Cangkul baja | 1.250  | buah   | Rp 85.000,00    |\n\
| 2  | AR-07 | Arit besar   | 40     | pcs    | Rp 1.250.000,50 |\n\n\
Terima kasih,\nBudi\n";

/// The lines of an order as (code or name, quantity, unit, price).
fn lines(order: &Value) -> Vec<(String, String, String, String)> {
    order["order"]["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            let item = l["item"]["ids"][0]["value"]
                .as_str()
                .or(l["item"]["name"].as_str())
                .unwrap_or_default()
                .to_owned();
            (
                item,
                l["quantity"].as_str().unwrap().to_owned(),
                l["unit"].as_str().unwrap().to_owned(),
                l["price"]["amount"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

fn line(item: &str, quantity: &str, unit: &str, price: &str) -> (String, String, String, String) {
    (item.into(), quantity.into(), unit.into(), price.into())
}

#[test]
fn orders_by_email_in_the_body_a_csv_an_xlsx_and_a_ubl_file_reach_the_craftsman() {
    let sink = SmtpSink::start();
    let (gw, address) = mail_gateway(&sink);
    let port = gw.smtp_port().to_string();
    let dir = tempfile::tempdir().unwrap();
    let raw_body = dir.path().join("body.eml");
    let base = |id: &'static str| {
        vec![
            "--port".to_owned(),
            port.clone(),
            "--sender".into(),
            "Budi <budi@mitra.test>".into(),
            "--to".into(),
            address.clone(),
            "--message-id".into(),
            format!("{id}@mitra.test"),
        ]
    };
    let run = |args: Vec<String>| send_mail(&args.iter().map(String::as_str).collect::<Vec<_>>());

    // A table typed in the body.
    let mut args = base("body-1");
    args.extend([
        "--subject".into(),
        "Pesanan baru".into(),
        "--text".into(),
        BODY_TABLE.into(),
    ]);
    args.extend(["--raw-out".into(), raw_body.to_str().unwrap().into()]);
    assert_eq!(run(args)["sent"], true);
    let body_order = order_numbered(&gw, "PO-MAIL-1");
    assert_eq!(body_order["order"]["issue_date"], "2026-11-27");
    assert_eq!(body_order["supplier_code"], "PANDE-01");
    assert_eq!(
        lines(&body_order),
        [
            line("CK-01", "1250", "H87", "85000.00"),
            line("AR-07", "40", "H87", "1250000.50")
        ]
    );

    // A CSV file attached, `;`-separated as Indonesian spreadsheets write it.
    let csv = dir.path().join("po.csv");
    std::fs::write(&csv, "Kode;Nama Barang;Jumlah;Satuan;Harga\nBT-8;Baut M8;500;pcs;1.200\nMR-8;Mur M8;500;pcs;800\n").unwrap();
    let mut args = base("csv-1");
    args.extend([
        "--subject".into(),
        "PO-MAIL-2 terlampir".into(),
        "--text".into(),
        "Terlampir pesanan kami.".into(),
        "--attach".into(),
        format!("{}:pesanan.csv:text/csv", csv.display()),
    ]);
    assert_eq!(run(args)["sent"], true);
    let csv_order = order_numbered(&gw, "PO-MAIL-2");
    assert_eq!(
        lines(&csv_order),
        [
            line("BT-8", "500", "H87", "1200"),
            line("MR-8", "500", "H87", "800")
        ]
    );

    // An XLSX workbook made by openpyxl, its numbers stored as numbers.
    let rows = json!([
        ["No PO", "Code", "Description", "Qty", "Unit", "Price"],
        [
            "PO-MAIL-XLSX",
            "PL-2",
            "Plat besi 2mm",
            12,
            "lembar",
            450000.5
        ]
    ]);
    let mut args = base("xlsx-1");
    args.extend([
        "--subject".into(),
        "Order".into(),
        "--text".into(),
        "Please see the attached order.\nDate: 2026-11-28\n".into(),
        "--xlsx".into(),
        format!("order.xlsx:{rows}"),
    ]);
    assert_eq!(run(args)["sent"], true);
    let xlsx_order = order_numbered(&gw, "PO-MAIL-XLSX");
    assert_eq!(xlsx_order["order"]["issue_date"], "2026-11-28");
    assert_eq!(lines(&xlsx_order), [line("PL-2", "12", "ST", "450000.5")]);

    // A UBL file attached, sent as octet-stream: its name says what it is, and the
    // stock UBL plugin reads it exactly as a post of it would be read.
    let ubl = repo_root().join("plugins/ubl-order/fixtures/peppol-bis3-order.xml");
    let mut args = base("ubl-1");
    args.extend([
        "--subject".into(),
        "Peppol order".into(),
        "--attach".into(),
        format!("{}:order.xml:application/octet-stream", ubl.display()),
    ]);
    assert_eq!(run(args)["sent"], true);
    let ubl_order = order_numbered(&gw, "PO-PEPPOL-2026-118");
    let expected: Value = serde_json::from_slice(
        &std::fs::read(
            repo_root().join("plugins/ubl-order/fixtures/peppol-bis3-order.expected.v2.json"),
        )
        .unwrap(),
    )
    .unwrap();
    assert_eq!(
        crate::harness::as_written_by_plugin(ubl_order["order"].clone())["lines"],
        expected["lines"]
    );

    // Each order reached the craftsman, and the sender got one reply per mail
    // naming the order's id.
    for order in [&body_order, &csv_order, &xlsx_order, &ubl_order] {
        let number = order["buyer_order_number"].as_str().unwrap();
        mail_to(&sink, "jaya@bengkel.test", number);
        let reply = mail_to(&sink, "budi@mitra.test", order["id"].as_str().unwrap());
        assert!(
            reply["text"]
                .as_str()
                .unwrap()
                .contains("1 order was received"),
            "{reply}"
        );
        assert!(
            reply["headers"]
                .as_array()
                .unwrap()
                .contains(&json!(["Auto-Submitted", "auto-replied"])),
            "{reply}"
        );
    }
    let replies = |sink: &SmtpSink| replies_to(sink, "budi@mitra.test").len();
    assert_eq!(replies(&sink), 4);

    // The same raw message posted over HTTP: the first answer (the same bytes
    // were already stored), no second order, no second reply.
    let raw = std::fs::read(&raw_body).unwrap();
    let post = |raw: Vec<u8>| post_inbound(&gw, raw);
    let again = json_of(post(raw.clone()), 201);
    assert_eq!(again["orders"][0]["id"], body_order["id"]);
    // Sent anew (another Message-ID), it is read the same way into a new order.
    let renewed = String::from_utf8(raw)
        .unwrap()
        .replace("body-1@mitra.test", "body-2@mitra.test");
    let accepted = json_of(post(renewed.into_bytes()), 201);
    let new_id = accepted["orders"][0]["id"].as_str().unwrap();
    assert_ne!(new_id, body_order["id"]);
    let new_order = gw.admin_get(&format!("/v1/admin/orders/{new_id}"));
    assert_eq!(lines(&new_order), lines(&body_order));
    mail_to(&sink, "budi@mitra.test", new_id);
    // Without the token, nothing is taken.
    let refused = gw
        .client
        .post(gw.url("/v1/inbound/email"))
        .body("From: a@b.c\r\n\r\nx")
        .send()
        .unwrap();
    assert_eq!(refused.status().as_u16(), 401);
    assert_eq!(replies(&sink), 5);
}

#[test]
fn mail_to_an_unknown_address_or_from_a_sender_not_allowed_is_refused_without_a_reply() {
    let sink = SmtpSink::start();
    let (gw, address) = mail_gateway(&sink);
    let port = gw.smtp_port().to_string();

    // An address that is no buyer's is refused at RCPT.
    let unknown = format!("orders+{}@{DOMAIN}", "0".repeat(40));
    let answer = send_mail(&[
        "--port",
        &port,
        "--sender",
        "budi@mitra.test",
        "--to",
        &unknown,
        "--text",
        BODY_TABLE,
    ]);
    assert_eq!(answer["stage"], "rcpt", "{answer}");
    assert_eq!(answer["code"], 550, "{answer}");

    // A sender the buyer does not accept: stored, refused, never read or answered.
    let answer = send_mail(&[
        "--port",
        &port,
        "--sender",
        "eve@evil.test",
        "--to",
        &address,
        "--text",
        BODY_TABLE,
        "--message-id",
        "evil-1@evil.test",
    ]);
    assert_eq!(answer["sent"], true, "{answer}");
    let messages = gw.admin_get("/v1/admin/messages?buyer=mitra&status=failed")["messages"].clone();
    let refused = &messages[0];
    assert_eq!(refused["received_via"], "email", "{messages}");
    assert_eq!(
        refused["error"]["type"], "https://jembatan.dev/problems/sender-not-allowed",
        "{refused}"
    );
    assert!(
        refused["processed_by"].is_null(),
        "not normalized: {refused}"
    );
    assert!(orders(&gw).is_empty());

    // An accepted sender's mail after it is answered; by then the refused one
    // would have been answered too, had it been.
    let answer = send_mail(&[
        "--port",
        &port,
        "--sender",
        "budi@mitra.test",
        "--to",
        &address,
        "--text",
        BODY_TABLE,
        "--message-id",
        "ok-1@mitra.test",
    ]);
    assert_eq!(answer["sent"], true, "{answer}");
    let order = order_numbered(&gw, "PO-MAIL-1");
    mail_to(&sink, "budi@mitra.test", order["id"].as_str().unwrap());
    assert!(
        sink.attempts().iter().all(|m| m["rcpt_tos"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r != "eve@evil.test")),
        "a reply went to the sender not accepted: {:?}",
        sink.attempts()
    );

    // A mail with no order in it is stored, refused, and answered saying so.
    let answer = send_mail(&[
        "--port",
        &port,
        "--sender",
        "budi@mitra.test",
        "--to",
        &address,
        "--subject",
        "Halo",
        "--text",
        "Apa kabar, Pak?",
        "--message-id",
        "chat-1@mitra.test",
    ]);
    assert_eq!(answer["sent"], true, "{answer}");
    let reply = mail_to(&sink, "budi@mitra.test", "could not be read");
    assert!(
        reply["text"]
            .as_str()
            .unwrap()
            .contains("no order was found"),
        "{reply}"
    );
}

/// One raw SMTP conversation on loopback, for what no well-behaved client sends.
struct Raw {
    reader: std::io::BufReader<std::net::TcpStream>,
}

impl Raw {
    fn connect(port: u16) -> Self {
        let stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        stream.set_read_timeout(Some(WAIT)).unwrap();
        Self {
            reader: std::io::BufReader::new(stream),
        }
    }

    /// The next reply, all its lines; empty when the server closed.
    fn reply(&mut self) -> String {
        use std::io::BufRead;
        let mut whole = String::new();
        loop {
            let mut line = String::new();
            if self.reader.read_line(&mut line).unwrap_or(0) == 0 {
                return whole;
            }
            whole.push_str(&line);
            if line.as_bytes().get(3) != Some(&b'-') {
                return whole;
            }
        }
    }

    fn send(&mut self, bytes: &[u8]) {
        use std::io::Write;
        self.reader.get_mut().write_all(bytes).unwrap();
    }

    /// Sends a command line and returns the reply.
    fn say(&mut self, line: &str) -> String {
        self.send(format!("{line}\r\n").as_bytes());
        self.reply()
    }
}

#[test]
fn hostile_smtp_sessions_are_refused_and_the_listener_keeps_serving() {
    let sink = SmtpSink::start();
    let config = format!(
        "[delivery.email]\nhost = \"127.0.0.1\"\nport = {}\ntls = \"none\"\n\
         from = \"jembatan <orders@jembatan.test>\"\n\n\
         [inbound_email]\ndomain = \"{DOMAIN}\"\nsmtp_listen = \"127.0.0.1:0\"\n\
         max_message_bytes = 4096\nmax_sessions = 3\nsession_timeout = \"3s\"\n",
        sink.port()
    );
    let gw = Gateway::start_with(Options {
        config: Some(config),
        ..Options::default()
    });
    gw.create_buyer("mitra", "email-order", json!({"supplier_code": "PANDE-01"}));
    let address = json_of(
        gw.admin(Method::POST, "/v1/admin/buyers/mitra/email/address", None),
        200,
    )["address"]
        .as_str()
        .unwrap()
        .to_owned();
    let port = gw.smtp_port();
    let open = |raw: &mut Raw| {
        assert!(raw.reply().starts_with("220 "));
        assert!(raw.say("EHLO hostile.test").contains("250-SIZE 4096"));
        assert!(raw.say("MAIL FROM:<budi@mitra.test>").starts_with("250 "));
        assert!(raw.say(&format!("RCPT TO:<{address}>")).starts_with("250 "));
    };

    // Commands out of order, and a size announced over the limit.
    let mut raw = Raw::connect(port);
    assert!(raw.reply().starts_with("220 "));
    assert!(raw.say("MAIL FROM:<a@b.test>").starts_with("503 "));
    assert!(raw.say("EHLO hostile.test").starts_with("250-"));
    assert!(raw.say("DATA").starts_with("503 "));
    assert!(
        raw.say("MAIL FROM:<a@b.test> SIZE=100000")
            .starts_with("552 ")
    );
    assert!(raw.say("FOO").starts_with("500 "));
    assert!(raw.say("QUIT").starts_with("221 "));

    // A message that grows past the limit is read to its end and refused.
    let mut raw = Raw::connect(port);
    open(&mut raw);
    assert!(raw.say("DATA").starts_with("354 "));
    raw.send(format!("Subject: big\r\n\r\n{}\r\n.\r\n", "x".repeat(10_000)).as_bytes());
    assert!(raw.reply().starts_with("552 5.3.4"));
    // A bare LF (an "SMTP smuggling" attempt) refuses the message.
    assert!(raw.say("MAIL FROM:<budi@mitra.test>").starts_with("250 "));
    assert!(raw.say(&format!("RCPT TO:<{address}>")).starts_with("250 "));
    assert!(raw.say("DATA").starts_with("354 "));
    raw.send(b"Subject: one\r\n\r\nhi\n.\nMAIL FROM:<x@y>\r\n.\r\n");
    assert!(raw.reply().starts_with("550 5.6.11"));
    // Bytes that are no e-mail at all.
    assert!(raw.say("MAIL FROM:<budi@mitra.test>").starts_with("250 "));
    assert!(raw.say(&format!("RCPT TO:<{address}>")).starts_with("250 "));
    assert!(raw.say("DATA").starts_with("354 "));
    raw.send(b"\x00\x01\x02 garbage without a header\r\n.\r\n");
    assert!(raw.reply().starts_with("550 "));
    assert!(raw.say("QUIT").starts_with("221 "));

    // Sessions that never finish hold at most `max_sessions` slots, for at most
    // `session_timeout`: one more is told to come back, and each is closed.
    let mut idle: Vec<Raw> = (0..3).map(|_| Raw::connect(port)).collect();
    for session in &mut idle {
        assert!(session.reply().starts_with("220 "));
    }
    let mut extra = Raw::connect(port);
    assert!(
        extra.reply().starts_with("421 4.3.2"),
        "over the session bound"
    );
    for session in &mut idle {
        assert!(
            session.reply().starts_with("421 4.4.2"),
            "a session past its time"
        );
        assert_eq!(session.reply(), "", "and closed");
    }

    // And the listener still takes a good mail.
    let answer = send_mail(&[
        "--port",
        &port.to_string(),
        "--sender",
        "budi@mitra.test",
        "--to",
        &address,
        "--text",
        BODY_TABLE,
    ]);
    assert_eq!(answer["sent"], true, "{answer}");
    order_numbered(&gw, "PO-MAIL-1");
}

#[test]
fn mail_taken_over_starttls_survives_a_sigkill() {
    let certificates = crate::peers::TestCertificates::generate();
    let sink = SmtpSink::start();
    let config = format!(
        "[delivery.email]\nhost = \"127.0.0.1\"\nport = {}\ntls = \"none\"\n\
         from = \"jembatan <orders@jembatan.test>\"\n\n\
         [inbound_email]\ndomain = \"{DOMAIN}\"\nsmtp_listen = \"127.0.0.1:0\"\n\
         tls_cert = \"{}\"\ntls_key = \"{}\"\nreply = false\n",
        sink.port(),
        certificates.server_cert().display(),
        certificates.server_key().display(),
    );
    let gw = Gateway::start_with(Options {
        config: Some(config.clone()),
        ..Options::default()
    });
    gw.create_buyer("mitra", "email-order", json!({"supplier_code": "PANDE-01"}));
    let address = json_of(
        gw.admin(Method::POST, "/v1/admin/buyers/mitra/email/address", None),
        200,
    )["address"]
        .as_str()
        .unwrap()
        .to_owned();
    let ca = certificates.ca_cert();
    let answer = send_mail(&[
        "--port",
        &gw.smtp_port().to_string(),
        "--sender",
        "budi@mitra.test",
        "--to",
        &address,
        "--text",
        BODY_TABLE,
        "--starttls",
        ca.to_str().unwrap(),
    ]);
    assert_eq!(answer["sent"], true, "{answer}");
    assert!(
        answer["tls"].as_str().unwrap().starts_with("TLS"),
        "{answer}"
    );
    // Killed at once after its 250: the mail was stored before it was said.
    let data_dir = gw.kill();
    let gw = Gateway::start_with(Options {
        config: Some(config),
        data_dir: Some(data_dir),
        ..Options::default()
    });
    let order = order_numbered(&gw, "PO-MAIL-1");
    assert_eq!(order["order"]["received"]["plugin"]["name"], "email-order");
    let message = gw.admin_get(&format!(
        "/v1/admin/messages/{}",
        order["message_id"].as_str().unwrap()
    ));
    assert_eq!(message["received_via"], "email");
    // With replies off, none was sent.
    assert!(
        sink.attempts()
            .iter()
            .all(|m| m["rcpt_tos"][0] != "budi@mitra.test")
    );
}
