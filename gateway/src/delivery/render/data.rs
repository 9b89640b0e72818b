//! The order for programs and spreadsheets: the JSON every channel attaches or
//! posts, the CSV of its lines, and a safe file name.

use std::borrow::Cow;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, NaiveDate, Utc};
use jembatan_schemas::PurchaseOrderV2;
use jembatan_schemas::v2::ItemIdRole;
use serde::Serialize;

use crate::orders::{OrderSchema, VersionedOrder};
use crate::store::OrderRecord;

/// The columns of [`csv`], in order.
const CSV_COLUMNS: [&str; 18] = [
    "line_number",
    "item_name",
    "description",
    "buyer_item_id",
    "supplier_item_id",
    "standard_item_id",
    "properties",
    "documents",
    "quantity",
    "unit",
    "unit_original",
    "price",
    "price_base_quantity",
    "price_base_unit",
    "line_total",
    "requested_date",
    "earliest",
    "latest",
];

/// The order's lines as CSV: a header row, then one row per line. Values are the
/// canonical ones (`1234.50`, `2026-11-27`), for programs and spreadsheets alike;
/// a price is as the buyer stated it, for `price_base_quantity` units. Several
/// values in one cell (ids, properties, documents) are joined with `; `.
pub fn csv(order: &PurchaseOrderV2) -> String {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer
        .write_record(CSV_COLUMNS)
        .expect("writing CSV to memory cannot fail");
    let text = |value: &Option<String>| value.as_deref().map(spreadsheet_safe).unwrap_or_default();
    let date = |value: Option<NaiveDate>| value.map(|d| d.to_string()).unwrap_or_default();
    for line in &order.lines {
        let item = &line.item;
        let ids = |roles: &[ItemIdRole]| {
            let values: Vec<String> = item
                .ids
                .iter()
                .filter(|id| roles.contains(&id.role))
                .map(|id| match (&id.scheme, id.role) {
                    (Some(scheme), ItemIdRole::Standard | ItemIdRole::Other) => {
                        format!("{scheme}:{}", id.value)
                    }
                    _ => id.value.clone(),
                })
                .collect();
            spreadsheet_safe(&values.join("; "))
        };
        let properties: Vec<String> = item
            .properties
            .iter()
            .map(|p| match &p.unit {
                Some(unit) => format!("{}={} {unit}", p.name, p.value),
                None => format!("{}={}", p.name, p.value),
            })
            .collect();
        let documents: Vec<&str> = item
            .documents
            .iter()
            .filter_map(|d| {
                d.id.as_deref()
                    .or(d.filename.as_deref())
                    .or(d.uri.as_deref())
            })
            .collect();
        let delivery = line.delivery.as_ref();
        let row: [String; CSV_COLUMNS.len()] = [
            spreadsheet_safe(&line.line_number),
            text(&item.name),
            text(&item.description),
            ids(&[ItemIdRole::Buyer]),
            ids(&[ItemIdRole::Supplier]),
            ids(&[
                ItemIdRole::Standard,
                ItemIdRole::Manufacturer,
                ItemIdRole::Other,
            ]),
            spreadsheet_safe(&properties.join("; ")),
            spreadsheet_safe(&documents.join("; ")),
            line.quantity.to_string(),
            spreadsheet_safe(&line.unit),
            text(&line.unit_original.as_ref().map(|o| o.code.clone())),
            line.price
                .as_ref()
                .map(|p| p.amount.to_string())
                .unwrap_or_default(),
            line.price
                .as_ref()
                .map(|p| p.base_quantity.to_string())
                .unwrap_or_default(),
            text(&line.price.as_ref().and_then(|p| p.base_unit.clone())),
            line.line_total.map(|t| t.to_string()).unwrap_or_default(),
            date(delivery.and_then(|d| d.requested_date)),
            date(delivery.and_then(|d| d.earliest)),
            date(delivery.and_then(|d| d.latest)),
        ];
        writer
            .write_record(&row)
            .expect("writing CSV to memory cannot fail");
    }
    let bytes = writer
        .into_inner()
        .expect("flushing CSV to memory cannot fail");
    String::from_utf8(bytes).expect("CSV made from strings is UTF-8")
}

/// Text a buyer wrote that a spreadsheet would take for a formula (`=HYPERLINK(…)`)
/// gets a leading `'`: craftsmen open the CSV in Excel or Sheets, and a buyer's
/// document must not run anything there (OWASP "CSV injection"). Programs read the
/// webhook's JSON, which is untouched.
fn spreadsheet_safe(value: &str) -> String {
    match value.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{value}"),
        _ => value.to_owned(),
    }
}

/// The order as programs receive it: the webhook's `data` object and the e-mail's
/// JSON attachment. Field order is fixed, so the bytes are the same every time the
/// same record is serialized (a webhook body must not change across retries).
#[derive(Debug, Clone, Serialize)]
pub struct OrderData<'a> {
    /// The gateway's order id (`ord_…`).
    pub id: &'a str,
    pub buyer_id: &'a str,
    pub buyer_order_number: &'a str,
    pub supplier_code: &'a str,
    pub created_at: DateTime<Utc>,
    /// The canonical purchase order, in the version the reader asked for.
    pub order: VersionedOrder<'a>,
}

/// See [`OrderData`].
pub fn order_data(record: &OrderRecord, schema: OrderSchema) -> OrderData<'_> {
    OrderData {
        id: &record.id,
        buyer_id: &record.buyer_id,
        buyer_order_number: &record.buyer_order_number,
        supplier_code: &record.supplier_code,
        created_at: record.created_at,
        order: schema.present(Cow::Borrowed(&record.order)),
    }
}

/// [`OrderData`] as a JSON value.
pub fn json(record: &OrderRecord, schema: OrderSchema) -> serde_json::Value {
    serde_json::to_value(order_data(record, schema)).expect("an order always serializes")
}

/// A file the buyer embedded in the order (a drawing, a specification), as the
/// channels that can carry files send it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmbeddedFile {
    /// Made safe by [`file_stem`]: letters, digits, `-`, `_`, `.`.
    pub name: String,
    /// A plain `type/subtype`; `application/octet-stream` when the buyer gave none
    /// or one that is not (it goes into a header, so nothing else may pass).
    pub media_type: String,
    pub bytes: Vec<u8>,
}

/// At most this many embedded files go with one delivery (design decision 2: 20
/// per order); the text names every document either way.
pub const MAX_EMBEDDED_FILES: usize = 20;

/// The files the buyer embedded in the order: its own `documents` and its lines'
/// items' documents that carry `content_base64`, in that order, named by their file
/// name, else their id. One whose bytes do not decode is left out: the text still
/// names it, and the stored order keeps it.
pub fn embedded_files(order: &PurchaseOrderV2) -> Vec<EmbeddedFile> {
    let documents = order
        .documents
        .iter()
        .chain(order.lines.iter().flat_map(|line| &line.item.documents));
    documents
        .filter_map(|document| {
            let bytes = STANDARD.decode(document.content_base64.as_deref()?).ok()?;
            let name = document
                .filename
                .as_deref()
                .or(document.id.as_deref())
                .unwrap_or("document");
            let media_type = document
                .mime_type
                .as_deref()
                .filter(|m| is_media_type(m))
                .unwrap_or("application/octet-stream");
            Some(EmbeddedFile {
                name: file_stem(name),
                media_type: media_type.to_ascii_lowercase(),
                bytes,
            })
        })
        .take(MAX_EMBEDDED_FILES)
        .collect()
}

/// `type/subtype` of RFC 6838 `restricted-name` characters, nothing more.
fn is_media_type(text: &str) -> bool {
    let name = |part: &str| {
        !part.is_empty()
            && part.len() <= 127
            && part
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$&-^_.+".contains(&b))
    };
    matches!(text.split_once('/'), Some((kind, sub)) if name(kind) && name(sub))
}

/// A file name stem made from a buyer's order number: letters, digits, `-`, `_` and
/// `.` only (never leading), at most 64 characters, so any mail client and any
/// file system takes it.
pub fn file_stem(buyer_order_number: &str) -> String {
    let cleaned: String = buyer_order_number
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .take(64)
        .collect();
    let cleaned = cleaned.trim_start_matches('.');
    if cleaned.is_empty() {
        "order".to_owned()
    } else {
        cleaned.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::delivery::channels::testing::sample_record;

    #[test]
    fn csv_has_a_row_per_line_with_every_item_fact() {
        let record = sample_record();
        let csv = csv(&record.order);
        let mut reader = csv::Reader::from_reader(csv.as_bytes());
        assert_eq!(reader.headers().unwrap(), CSV_COLUMNS.to_vec());
        let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
        assert_eq!(rows.len(), 2);
        assert_eq!(
            rows[0].iter().collect::<Vec<_>>(),
            vec![
                "1",
                "Kursi rotan",
                "Kursi teras anyaman tangan",
                "KR-01",
                "R-100",
                "",
                "Bahan=rotan manau; Tinggi=90 CMT",
                "GB-KR-01",
                "10",
                "H87",
                "",
                "185000.00",
                "1",
                "",
                "1850000.00",
                "",
                "",
                ""
            ]
        );
        assert_eq!(&rows[1][8], "2.5");
        assert_eq!(&rows[1][15], "2026-12-01");
    }

    #[test]
    fn csv_quotes_and_defuses_formulas() {
        let mut record = sample_record();
        record.order.lines[0].item.name = Some("Kursi, \"rotan\"\nbesar".into());
        record.order.lines[1].item.description = Some("=HYPERLINK(\"http://x\")".into());
        let csv = csv(&record.order);
        let mut reader = csv::Reader::from_reader(csv.as_bytes());
        let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
        assert_eq!(&rows[0][1], "Kursi, \"rotan\"\nbesar");
        assert_eq!(&rows[1][2], "'=HYPERLINK(\"http://x\")");
    }

    #[test]
    fn json_is_the_webhook_data_object() {
        let record = sample_record();
        let value = json(&record, OrderSchema::V2);
        assert_eq!(value["id"], "ord_0001");
        assert_eq!(value["buyer_order_number"], "PO-2026/0042");
        assert_eq!(value["order"]["version"], "2");
        assert_eq!(value["order"]["lines"][0]["price"]["amount"], "185000.00");
        let bytes = serde_json::to_string(&order_data(&record, OrderSchema::V2)).unwrap();
        assert!(bytes.starts_with("{\"id\":\"ord_0001\",\"buyer_id\":"));
        assert_eq!(
            bytes,
            serde_json::to_string(&order_data(&record, OrderSchema::V2)).unwrap()
        );
        // A reader that still expects v1 gets the documented downgrade: the item's
        // name leads its description.
        let v1 = json(&record, OrderSchema::V1);
        assert_eq!(v1["order"].get("version"), None);
        assert_eq!(v1["order"]["lines"][0]["unit_price"], "185000.00");
        assert_eq!(
            v1["order"]["lines"][0]["description"],
            "Kursi rotan — Kursi teras anyaman tangan"
        );
    }

    #[test]
    fn embedded_files_are_decoded_named_safely_and_typed_plainly() {
        let mut record = sample_record();
        assert_eq!(embedded_files(&record.order), vec![]);
        let drawing = &mut record.order.lines[0].item.documents[0];
        drawing.content_base64 = Some("JVBERi0xLjQK".into());
        drawing.mime_type = Some("Application/PDF".into());
        let files = embedded_files(&record.order);
        assert_eq!(
            files,
            vec![EmbeddedFile {
                name: "GB-KR-01".into(),
                media_type: "application/pdf".into(),
                bytes: b"%PDF-1.4\n".to_vec(),
            }]
        );
        // A media type that could carry a header of its own is not passed on.
        let drawing = &mut record.order.lines[0].item.documents[0];
        drawing.mime_type = Some("text/plain\r\nX-Evil: 1".into());
        assert_eq!(
            embedded_files(&record.order)[0].media_type,
            "application/octet-stream"
        );
        record.order.lines[0].item.documents[0].content_base64 = Some("%%% not base64".into());
        assert_eq!(embedded_files(&record.order), vec![]);
    }

    #[test]
    fn file_stems_are_safe() {
        assert_eq!(file_stem("PO-2026/0042"), "PO-2026_0042");
        assert_eq!(file_stem("../../etc/passwd"), "_.._etc_passwd");
        assert_eq!(file_stem("..."), "order");
        assert_eq!(file_stem(""), "order");
        assert_eq!(file_stem(&"x".repeat(500)).len(), 64);
    }
}
