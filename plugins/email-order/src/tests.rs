use jembatan_plugin_sdk::testing::assert_schema_valid;
use jembatan_plugin_sdk::{Attachment, Email, Message, Normalized, Plugin, PluginError};

use super::EmailOrder;

const CONFIG: &str = r#"{"supplier_code": "PANDE-01"}"#;

fn mail(text: &str, attachments: Vec<Attachment>) -> Message {
    Message {
        content_type: "message/rfc822".into(),
        headers: Vec::new(),
        body: Vec::new(),
        email: Some(Email {
            subject: "Pesanan PO-2026-0042".into(),
            sender: "budi@mitra.co.id".into(),
            date: Some("2026-11-20T09:15:00+07:00".into()),
            text: Some(text.into()),
            html: None,
            attachments,
        }),
    }
}

/// `index control-number outcome [code]`, one per transaction.
fn outcomes(out: &Normalized) -> String {
    out.transactions
        .iter()
        .map(|t| {
            let outcome = match &t.outcome {
                jembatan_plugin_sdk::Outcome::Order(_) => "order".to_owned(),
                jembatan_plugin_sdk::Outcome::Refused(e) => {
                    format!("refused {} {}", e.code, e.message)
                }
                jembatan_plugin_sdk::Outcome::NotAnOrder { kind, .. } => {
                    format!("not-an-order {kind}")
                }
            };
            format!(
                "{} {} {outcome}\n",
                t.id.index,
                t.id.control_number.as_deref().unwrap_or("-")
            )
        })
        .collect()
}

fn read(message: &Message) -> Result<Normalized, PluginError> {
    EmailOrder::normalize(message, CONFIG)
}

fn orders_json(normalized: &Normalized) -> Vec<serde_json::Value> {
    let json: Vec<String> = normalized
        .transactions
        .iter()
        .map(|t| match &t.outcome {
            jembatan_plugin_sdk::Outcome::Order(order) => serde_json::to_string(order).unwrap(),
            other => panic!("not an order: {other:?}"),
        })
        .collect();
    assert_schema_valid(&json);
    json.iter()
        .map(|j| serde_json::from_str(j).unwrap())
        .collect()
}

pub const BODY_TABLE: &str = "Selamat pagi Pak,\n\
\n\
Mohon dikirim pesanan berikut.\n\
No. PO: PO-2026-0100\n\
Tanggal: 27/11/2026\n\
Tanggal Kirim: 15 Desember 2026\n\
\n\
| No | Kode | Nama Barang | Jumlah | Satuan | Harga Satuan |\n\
|----|------|-------------|--------|--------|--------------|\n\
| 1 | CK-01 | Cangkul baja | 1.250 | buah | Rp 85.000,00 |\n\
| 2 | AR-07 | Arit besar | 40 | pcs | Rp 1.250.000,50 |\n\
\n\
Terima kasih,\nBudi\n";

#[test]
fn a_table_in_the_body_with_indonesian_numbers_and_dates() {
    let out = read(&mail(BODY_TABLE, Vec::new())).unwrap();
    let orders = orders_json(&out);
    let order = &orders[0];
    assert_eq!(order["buyer_order_number"], "PO-2026-0100");
    assert_eq!(order["issue_date"], "2026-11-27");
    assert_eq!(order["supplier"]["code"], "PANDE-01");
    assert_eq!(order["delivery"]["requested_date"], "2026-12-15");
    let lines = order["lines"].as_array().unwrap();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["quantity"], "1250");
    assert_eq!(lines[0]["unit"], "H87");
    assert_eq!(lines[0]["item"]["name"], "Cangkul baja");
    assert_eq!(lines[1]["price"]["amount"], "1250000.50");
    assert_eq!(outcomes(&out), "0 body order\n");
}

#[test]
fn tabs_and_aligned_columns_with_english_headers() {
    let tabs = "PO Number: PO-7\nDate: 2026-11-27\n\nCode\tDescription\tQty\tUnit\tPrice\nB-1\tBolt\t10\tkg\t1.500\n";
    let orders = orders_json(&read(&mail(tabs, Vec::new())).unwrap());
    assert_eq!(orders[0]["buyer_order_number"], "PO-7");
    assert_eq!(orders[0]["lines"][0]["unit"], "KGM");
    assert_eq!(orders[0]["lines"][0]["price"]["amount"], "1500");
    let aligned = "Code     Description      Qty   Unit\nB-1      Bolt M8          10    set\n";
    let orders = orders_json(&read(&mail(aligned, Vec::new())).unwrap());
    // The number from the subject, the date from the mail's Date header.
    assert_eq!(orders[0]["buyer_order_number"], "PO-2026-0042");
    assert_eq!(orders[0]["issue_date"], "2026-11-20");
    assert_eq!(orders[0]["lines"][0]["unit"], "SET");
}

#[test]
fn a_csv_attachment() {
    let csv = Attachment {
        filename: Some("pesanan.csv".into()),
        content_type: "application/octet-stream".into(),
        body: b"Kode;Nama Barang;Jumlah;Satuan;Harga\nCK-01;Cangkul;12;buah;85.000\n".to_vec(),
    };
    let out = read(&mail("Terlampir.\nNo PO: PO-55\n", vec![csv])).unwrap();
    let orders = orders_json(&out);
    assert_eq!(orders[0]["buyer_order_number"], "PO-55");
    assert_eq!(orders[0]["lines"][0]["price"]["amount"], "85000");
    assert_eq!(outcomes(&out), "0 pesanan.csv order\n");
}

#[test]
fn a_ubl_attachment_is_read_by_the_ubl_plugin() {
    let ubl = Attachment {
        filename: Some("order.xml".into()),
        content_type: "application/xml".into(),
        body: include_bytes!("../../ubl-order/fixtures/peppol-bis3-order.xml").to_vec(),
    };
    let out = read(&mail("See attached.", vec![ubl])).unwrap();
    assert_eq!(out.transactions.len(), 1, "{}", outcomes(&out));
    orders_json(&out);
}

#[test]
fn a_mail_without_an_order_is_refused_saying_what_was_looked_for() {
    let err = read(&mail("Halo, apa kabar?", Vec::new())).unwrap_err();
    assert_eq!(err.code, "no-order-found");
    let missing = read(&mail("| Kode | Jumlah |\n| A | banyak |\n", Vec::new())).unwrap();
    assert!(
        outcomes(&missing).contains("refused invalid-value"),
        "{}",
        outcomes(&missing)
    );
}
