//! E-mails nobody wrote for jembatan, and e-mails written to hurt it (issue 9):
//! real messages from common clients and broken MIME (`tests/corpus/email/`,
//! `SOURCES.md` there), a thousand-part message and an attachment that inflates
//! enormously. Each is read without error and stored, and refused saying why; the
//! sender of a real one gets a reply saying so; the gateway keeps taking mail.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::email::{INBOUND_TOKEN, WAIT, mail_gateway, mail_to};
use crate::harness::{Gateway, repo_root};
use crate::peers::{SmtpSink, require_python_packages};

/// Posts a raw message to `POST /v1/inbound/email` for `to`; the status and body.
fn post(gw: &Gateway, to: &str, raw: Vec<u8>) -> (u16, Value) {
    let res = gw
        .client
        .post(gw.url("/v1/inbound/email"))
        .query(&[("to", to)])
        .bearer_auth(INBOUND_TOKEN)
        .header("content-type", "message/rfc822")
        .body(raw)
        .send()
        .unwrap();
    let status = res.status().as_u16();
    (status, res.json().unwrap_or(Value::Null))
}

/// The address in a raw message's `From:` line, lower case, as a person reads
/// it (this test's own reading, not the gateway's).
fn from_address(raw: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(raw);
    let line = text
        .lines()
        .take_while(|l| !l.is_empty())
        .find(|l| l.len() > 5 && l[..5].eq_ignore_ascii_case("from:"))?;
    let value = &line[5..];
    let address = match value.rsplit_once('<') {
        Some((_, rest)) => rest.split('>').next()?,
        None => value.trim(),
    };
    Some(address.trim().to_ascii_lowercase())
}

#[test]
fn real_and_broken_mail_is_read_refused_and_answered() {
    let sink = SmtpSink::start();
    let (gw, address) = mail_gateway(&sink);
    // The corpus's senders are not `mitra.test`: this buyer accepts anyone.
    gw.admin(
        reqwest::Method::PUT,
        "/v1/admin/buyers/mitra/email",
        Some(serde_json::json!({"senders": [], "language": "en"})),
    );
    let mut senders = BTreeSet::new();
    for dir in ["legacy", "malformed"] {
        let mut files: Vec<_> = std::fs::read_dir(repo_root().join("tests/corpus/email").join(dir))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "eml"))
            .collect();
        files.sort();
        assert!(!files.is_empty());
        for file in files {
            let raw = std::fs::read(&file).unwrap();
            let (status, body) = post(&gw, &address, raw.clone());
            let name = file.display();
            assert_eq!(status, 422, "{name}: {body}");
            assert_eq!(
                body["plugin_error"]["code"], "no-order-found",
                "{name}: {body}"
            );
            let message = gw.admin_get(&format!(
                "/v1/admin/messages/{}",
                body["message_id"].as_str().unwrap()
            ));
            assert_eq!(message["received_via"], "email", "{name}");
            if dir == "legacy" {
                senders.insert(from_address(&raw).unwrap());
            }
        }
    }
    // Every real sender was told their mail held no order.
    for sender in &senders {
        let reply = mail_to(&sink, sender, "could not be read as an order");
        assert!(
            reply["text"]
                .as_str()
                .unwrap()
                .contains("no order was found"),
            "{reply}"
        );
    }
    assert!(senders.len() >= 3, "{senders:?}");
}

#[test]
fn a_thousand_parts_and_an_inflating_attachment_fail_only_their_own_message() {
    require_python_packages();
    let sink = SmtpSink::start();
    let (gw, address) = mail_gateway(&sink);

    // A thousand parts, none an order.
    let mut raw = String::from(
        "From: ani@mitra.test\r\nSubject: parts\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/mixed; boundary=\"p\"\r\n\r\n",
    );
    for i in 0..1000 {
        raw.push_str(&format!(
            "--p\r\nContent-Type: application/octet-stream\r\n\
             Content-Disposition: attachment; filename=\"part{i}.bin\"\r\n\r\nx{i}\r\n"
        ));
    }
    raw.push_str("--p--\r\n");
    let (status, body) = post(&gw, &address, raw.into_bytes());
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["plugin_error"]["code"], "no-order-found", "{body}");

    // An XLSX of 100 KiB whose sheet inflates to 400 MiB (a zip bomb), made with
    // Python's zipfile as any zip tool would.
    let dir = tempfile::tempdir().unwrap();
    let bomb = dir.path().join("bomb.xlsx");
    let script = r#"
import sys, zipfile
with zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_DEFLATED) as z:
    z.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>')
    z.writestr("_rels/.rels", '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>')
    z.writestr("xl/workbook.xml", '<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>')
    z.writestr("xl/_rels/workbook.xml.rels", '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>')
    with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as f:
        f.write(b'<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1"><c t="inlineStr"><is><t>')
        chunk = b"A" * (1 << 20)
        for _ in range(400):
            f.write(chunk)
        f.write(b"</t></is></c></row></sheetData></worksheet>")
"#;
    let status = std::process::Command::new("python3")
        .args(["-c", script, bomb.to_str().unwrap()])
        .status()
        .unwrap();
    assert!(status.success());
    let size = std::fs::metadata(&bomb).unwrap().len();
    assert!(size < 2 << 20, "the bomb is small: {size}");
    let answer = crate::email::send_mail(&[
        "--port",
        &gw.smtp_port().to_string(),
        "--sender",
        "budi@mitra.test",
        "--to",
        &address,
        "--subject",
        "PO-BOMB-1",
        "--text",
        "Lampiran.",
        "--attach",
        &format!("{}:order.xlsx:application/octet-stream", bomb.display()),
        "--message-id",
        "bomb-1@mitra.test",
    ]);
    // Stored (250), and refused: the plugin ran out of memory or time on it, or
    // refused the file, and the sender is told.
    assert_eq!(answer["sent"], true, "{answer}");
    let reply = mail_to(&sink, "budi@mitra.test", "could not be read");
    assert!(
        reply["subject"].as_str().unwrap().contains("PO-BOMB-1"),
        "{reply}"
    );

    // And the next mail goes through.
    let answer = crate::email::send_mail(&[
        "--port",
        &gw.smtp_port().to_string(),
        "--sender",
        "budi@mitra.test",
        "--to",
        &address,
        "--text",
        "No. PO: PO-AFTER-1\nTanggal: 27/11/2026\n\nKode\tJumlah\nCK-01\t3\n",
        "--message-id",
        "after-1@mitra.test",
    ]);
    assert_eq!(answer["sent"], true, "{answer}");
    let deadline = std::time::Instant::now() + WAIT;
    while !gw.admin_get("/v1/admin/orders?buyer=mitra")["orders"]
        .as_array()
        .unwrap()
        .iter()
        .any(|o| o["buyer_order_number"] == "PO-AFTER-1")
    {
        assert!(
            std::time::Instant::now() < deadline,
            "no order after the bomb"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}
