//! The order for programs and spreadsheets: the JSON every channel attaches or
//! posts, the CSV of its lines, and a safe file name.

use chrono::{DateTime, Utc};
use jembatan_schemas::PurchaseOrder;
use serde::Serialize;

use crate::store::OrderRecord;

/// The order's lines as CSV: a header row, then one row per line. Values are the
/// canonical ones (`1234.50`, `2026-11-27`), for programs and spreadsheets alike.
pub fn csv(order: &PurchaseOrder) -> String {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let mut rows = vec![
        [
            "line_number",
            "buyer_item_code",
            "supplier_item_code",
            "description",
            "quantity",
            "unit",
            "unit_price",
            "line_total",
            "requested_date",
        ]
        .map(str::to_owned),
    ];
    let text = |value: &Option<String>| value.as_deref().map(spreadsheet_safe).unwrap_or_default();
    for line in &order.lines {
        rows.push([
            spreadsheet_safe(&line.line_number),
            text(&line.buyer_item_code),
            text(&line.supplier_item_code),
            text(&line.description),
            line.quantity.to_string(),
            spreadsheet_safe(&line.unit),
            line.unit_price.map(|p| p.to_string()).unwrap_or_default(),
            line.line_total.map(|t| t.to_string()).unwrap_or_default(),
            line.requested_date
                .map(|d| d.to_string())
                .unwrap_or_default(),
        ]);
    }
    for row in rows {
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
    /// The canonical purchase order.
    pub order: &'a PurchaseOrder,
}

/// See [`OrderData`].
pub fn order_data(record: &OrderRecord) -> OrderData<'_> {
    OrderData {
        id: &record.id,
        buyer_id: &record.buyer_id,
        buyer_order_number: &record.buyer_order_number,
        supplier_code: &record.supplier_code,
        created_at: record.created_at,
        order: &record.order,
    }
}

/// [`OrderData`] as a JSON value.
pub fn json(record: &OrderRecord) -> serde_json::Value {
    serde_json::to_value(order_data(record)).expect("an order always serializes")
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
    fn csv_quotes_and_defuses_formulas() {
        let mut record = sample_record();
        record.order.lines[0].description = Some("Kursi, \"rotan\"\nbesar".into());
        record.order.lines[1].description = Some("=HYPERLINK(\"http://x\")".into());
        let csv = csv(&record.order);
        let mut reader = csv::Reader::from_reader(csv.as_bytes());
        assert_eq!(
            reader.headers().unwrap(),
            vec![
                "line_number",
                "buyer_item_code",
                "supplier_item_code",
                "description",
                "quantity",
                "unit",
                "unit_price",
                "line_total",
                "requested_date"
            ]
        );
        let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
        assert_eq!(rows.len(), 2);
        assert_eq!(
            rows[0].iter().collect::<Vec<_>>(),
            vec![
                "1",
                "KR-01",
                "R-100",
                "Kursi, \"rotan\"\nbesar",
                "10",
                "H87",
                "185000.00",
                "1850000.00",
                ""
            ]
        );
        assert_eq!(&rows[1][3], "'=HYPERLINK(\"http://x\")");
        assert_eq!(&rows[1][4], "2.5");
        assert_eq!(&rows[1][8], "2026-12-01");
    }

    #[test]
    fn json_is_the_webhook_data_object() {
        let record = sample_record();
        let value = json(&record);
        assert_eq!(value["id"], "ord_0001");
        assert_eq!(value["buyer_order_number"], "PO-2026/0042");
        assert_eq!(value["order"]["lines"][0]["unit_price"], "185000.00");
        let bytes = serde_json::to_string(&order_data(&record)).unwrap();
        assert!(bytes.starts_with("{\"id\":\"ord_0001\",\"buyer_id\":"));
        assert_eq!(bytes, serde_json::to_string(&order_data(&record)).unwrap());
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
