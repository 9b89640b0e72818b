//! The mail's text: its `Key: value` lines (the order's number, date, delivery
//! date, supplier) and an order table typed in it.

use jembatan_plugin_sdk::{Email, Transaction, TransactionId};

use crate::table::{self, Cell, OrderFields, Place, Row};
use crate::{Config, dates};

/// What the mail as a whole says about its order(s).
pub struct Context {
    pub fields: OrderFields,
}

const NUMBER_KEYS: &[&str] = &[
    "no po",
    "nomor po",
    "no. po",
    "po",
    "po no",
    "po number",
    "po#",
    "nomor pesanan",
    "no pesanan",
    "no. pesanan",
    "order number",
    "order no",
    "purchase order",
    "purchase order number",
];
const DATE_KEYS: &[&str] = &[
    "tanggal",
    "tgl",
    "tanggal po",
    "tanggal pesanan",
    "date",
    "order date",
    "po date",
];
const DELIVERY_KEYS: &[&str] = &[
    "tanggal kirim",
    "tgl kirim",
    "tanggal pengiriman",
    "dikirim",
    "kirim",
    "delivery date",
    "deliver by",
    "delivery",
];
const SUPPLIER_KEYS: &[&str] = &[
    "supplier",
    "kode supplier",
    "pemasok",
    "supplier code",
    "vendor",
];
const CURRENCY_KEYS: &[&str] = &["mata uang", "currency"];

impl Context {
    pub fn read(email: &Email, _config: &Config) -> Self {
        let mut fields = OrderFields::default();
        for line in email.text.as_deref().unwrap_or_default().lines() {
            let Some((key, value)) = line.split_once(':') else {
                continue;
            };
            let key = key
                .trim()
                .trim_start_matches(['*', '-', '>'])
                .trim()
                .to_lowercase();
            let value = value.trim().trim_matches('*').trim();
            if value.is_empty() || key.len() > 40 {
                continue;
            }
            let first_word = value.split_whitespace().next().unwrap_or(value);
            if NUMBER_KEYS.contains(&key.as_str()) {
                fields.number.get_or_insert_with(|| first_word.to_owned());
            } else if DELIVERY_KEYS.contains(&key.as_str()) {
                if fields.delivery_date.is_none() {
                    fields.delivery_date = dates::date(value);
                }
            } else if DATE_KEYS.contains(&key.as_str()) {
                if fields.issue_date.is_none() {
                    fields.issue_date = dates::date(value);
                }
            } else if SUPPLIER_KEYS.contains(&key.as_str()) {
                fields
                    .supplier_code
                    .get_or_insert_with(|| first_word.to_owned());
            } else if CURRENCY_KEYS.contains(&key.as_str()) {
                fields
                    .currency
                    .get_or_insert_with(|| first_word.to_uppercase());
            }
        }
        if fields.number.is_none() {
            fields.number = number_in_subject(&email.subject);
        }
        if fields.issue_date.is_none() {
            // The day as the sender's clock had it: RFC 3339 keeps their offset.
            fields.issue_date = email
                .date
                .as_deref()
                .and_then(|date| date.get(..10))
                .and_then(|day| jembatan_plugin_sdk::values::date(day).ok());
        }
        Self { fields }
    }
}

/// A word of the subject that looks like an order number: starting `PO` (any
/// case) and holding a digit, e.g. `PO-2026-0042`, `PO/11/2026/7`.
fn number_in_subject(subject: &str) -> Option<String> {
    subject
        .split(|c: char| c.is_whitespace() || matches!(c, ',' | ';' | '(' | ')' | '[' | ']' | ':'))
        .find(|word| {
            word.len() > 2
                && word.get(..2).is_some_and(|p| p.eq_ignore_ascii_case("po"))
                && word.chars().any(|c| c.is_ascii_digit())
        })
        .map(|word| word.trim_end_matches('.').to_owned())
}

/// The text's lines split into cells, each with its 1-based line number: by `|`
/// (a Markdown or e-mail client table), by tabs (pasted from a spreadsheet), or
/// by runs of two or more spaces (aligned by hand). Rows of only `-`, `=`, `+`
/// and `:` (a table's rules) are left out.
fn rows(text: &str) -> Vec<Row> {
    text.lines()
        .enumerate()
        .filter_map(|(at, line)| {
            let line = line.trim_end();
            let cells: Vec<&str> = if line.contains('|') {
                let inner = line.trim().trim_start_matches('|').trim_end_matches('|');
                inner.split('|').collect()
            } else if line.contains('\t') {
                line.split('\t').collect()
            } else {
                split_aligned(line)
            };
            let cells: Vec<Cell> = cells
                .into_iter()
                .map(|c| Cell::Text(c.trim().to_owned()))
                .collect();
            let rule = cells.iter().all(|c| {
                let text = c.text();
                !text.is_empty() && text.chars().all(|ch| matches!(ch, '-' | '=' | '+' | ':'))
            });
            (!rule).then_some((at as u32 + 1, cells))
        })
        .collect()
}

/// A line split at runs of two or more spaces.
fn split_aligned(line: &str) -> Vec<&str> {
    let mut cells = Vec::new();
    let mut start = None;
    let bytes = line.as_bytes();
    let mut at = 0;
    while at < bytes.len() {
        if bytes[at] == b' ' && bytes.get(at + 1) == Some(&b' ') {
            if let Some(from) = start.take() {
                cells.push(&line[from..at]);
            }
            while at < bytes.len() && bytes[at] == b' ' {
                at += 1;
            }
            continue;
        }
        start.get_or_insert(at);
        at += 1;
    }
    if let Some(from) = start {
        cells.push(&line[from..]);
    }
    cells
}

/// The order table in `text`, as one transaction, if the text has one: its rows
/// run from the header to the first blank line, or a line of fewer cells.
pub fn read_table(text: &str, config: &Config, context: &Context) -> Option<Transaction> {
    let rows = rows(text);
    let (header, columns) = table::find_header(&rows)?;
    let width = rows[header].1.len();
    let mut end = header + 1;
    // A blank line is a row of one empty cell, so it ends the table too.
    while end < rows.len() && rows[end].1.len() >= width.min(2) && rows[end].1.len() > 1 {
        end += 1;
    }
    let place = Place {
        name: "the e-mail's text",
        row_word: "line",
        format: "e-mail text table",
    };
    let read = table::read_order(
        &rows[..end],
        header,
        &columns,
        &context.fields,
        config,
        &place,
    );
    let id = TransactionId {
        index: 0,
        control_number: Some("body".into()),
        location: Some(jembatan_plugin_sdk::Location {
            line: Some(rows[header].0),
            ..Default::default()
        }),
    };
    Some(Transaction::from_result(id, read))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_split_by_bars_tabs_and_aligned_spaces() {
        let texts = |rows: Vec<Row>| -> Vec<Vec<String>> {
            rows.into_iter()
                .map(|(_, cells)| cells.iter().map(Cell::text).collect())
                .collect()
        };
        assert_eq!(
            texts(rows("| Kode | Nama Barang |\n|---|---|\n| A-1 | Baut M8 |")),
            [vec!["Kode", "Nama Barang"], vec!["A-1", "Baut M8"]]
        );
        assert_eq!(texts(rows("a\tb c\t3")), [vec!["a", "b c", "3"]]);
        assert_eq!(
            texts(rows("Kode   Nama Barang    Jumlah")),
            [vec!["Kode", "Nama Barang", "Jumlah"]]
        );
        assert_eq!(
            number_in_subject("Pesanan PO-2026-0042 (urgent)"),
            Some("PO-2026-0042".into())
        );
        assert_eq!(number_in_subject("Pesanan pokok"), None);
    }
}
