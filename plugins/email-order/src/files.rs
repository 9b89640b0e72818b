//! Attachments: an XML or EDI file through the stock plugin of its format, a CSV
//! or XLSX file through the table reader.

use std::io::Cursor;
use std::str::FromStr;

use jembatan_plugin_sdk::{
    Attachment, Decimal, Email, Message, NaiveDate, Normalized, Plugin, PluginError, Transaction,
    TransactionId,
};

use crate::body::Context;
use crate::table::{self, Cell, Place, Row};
use crate::{Config, Source};

/// What an attachment is, by its media type, its name, or its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Ubl,
    Cxml,
    X12,
    Edifact,
    Csv,
    Xlsx,
}

fn kind(attachment: &Attachment) -> Option<Kind> {
    let name = attachment
        .filename
        .as_deref()
        .unwrap_or_default()
        .to_lowercase();
    let media = attachment.content_type.as_str();
    let extension = name.rsplit_once('.').map(|(_, e)| e).unwrap_or_default();
    let start: Vec<u8> = attachment
        .body
        .iter()
        .skip_while(|b| b.is_ascii_whitespace() || **b == 0xEF || **b == 0xBB || **b == 0xBF)
        .take(512)
        .copied()
        .collect();
    let head = String::from_utf8_lossy(&start);
    if media.contains("spreadsheetml") || extension == "xlsx" {
        Some(Kind::Xlsx)
    } else if media == "text/csv" || media == "text/tab-separated-values" || extension == "csv" {
        Some(Kind::Csv)
    } else if media.ends_with("xml") || extension == "xml" {
        Some(if head.contains("<cXML") || head.contains("cXML.dtd") {
            Kind::Cxml
        } else {
            Kind::Ubl
        })
    } else if head.starts_with("ISA") {
        Some(Kind::X12)
    } else if head.starts_with("UNA") || head.starts_with("UNB") {
        Some(Kind::Edifact)
    } else {
        None
    }
}

/// Every order file attached, each file's transactions in turn.
pub fn read_attachments(
    email: &Email,
    config: &Config,
    context: &Context,
) -> Result<Normalized, PluginError> {
    let mut out = Normalized {
        transactions: Vec::new(),
        warnings: Vec::new(),
    };
    for (position, attachment) in email.attachments.iter().enumerate() {
        let Some(kind) = kind(attachment) else {
            continue;
        };
        let source = match kind {
            Kind::Ubl | Kind::Cxml => Source::Xml,
            Kind::X12 | Kind::Edifact => Source::Edi,
            Kind::Csv => Source::Csv,
            Kind::Xlsx => Source::Xlsx,
        };
        if !config.reads(source) {
            continue;
        }
        let name = attachment
            .filename
            .clone()
            .unwrap_or_else(|| format!("attachment {}", position + 1));
        match kind {
            Kind::Ubl => stock::<ubl_order::UblOrder>(
                &mut out,
                attachment,
                &name,
                config,
                "ubl-order",
                "application/xml",
            ),
            Kind::Cxml => stock::<cxml_order::CxmlOrder>(
                &mut out,
                attachment,
                &name,
                config,
                "cxml-order",
                "application/xml",
            ),
            Kind::X12 => stock::<x12_850::X12Order>(
                &mut out,
                attachment,
                &name,
                config,
                "x12-850",
                "application/edi-x12",
            ),
            Kind::Edifact => stock::<edifact_orders::EdifactOrders>(
                &mut out,
                attachment,
                &name,
                config,
                "edifact-orders",
                "application/edifact",
            ),
            Kind::Csv => {
                let read = csv_rows(&attachment.body, &name)
                    .and_then(|rows| sheet_order(&rows, &name, "CSV attachment", config, context));
                out.transactions.push(file_transaction(&name, read));
            }
            Kind::Xlsx => {
                let read = xlsx_rows(&attachment.body, &name)
                    .and_then(|rows| sheet_order(&rows, &name, "XLSX attachment", config, context));
                out.transactions.push(file_transaction(&name, read));
            }
        }
    }
    Ok(out)
}

fn file_transaction(
    name: &str,
    read: Result<jembatan_plugin_sdk::PurchaseOrder, PluginError>,
) -> Transaction {
    let id = TransactionId {
        index: 0,
        control_number: Some(name.to_owned()),
        location: None,
    };
    Transaction::from_result(id, read)
}

/// An attached file read by the stock plugin `P` (named `plugin`) with its
/// config from `formats`: its transactions, each named after the file.
fn stock<P: Plugin>(
    out: &mut Normalized,
    attachment: &Attachment,
    name: &str,
    config: &Config,
    plugin: &str,
    content_type: &str,
) {
    let message = Message::new(content_type, attachment.body.clone());
    let plugin_config = config
        .formats
        .get(plugin)
        .map_or_else(|| "{}".to_owned(), |c| c.to_string());
    match P::normalize(&message, &plugin_config) {
        Ok(normalized) => {
            for mut transaction in normalized.transactions {
                transaction.id.control_number = Some(match transaction.id.control_number {
                    Some(number) => format!("{name}#{number}"),
                    None => name.to_owned(),
                });
                out.transactions.push(transaction);
            }
            out.warnings.extend(normalized.warnings);
        }
        Err(mut error) => {
            error.message = format!("attachment {name} ({plugin}): {}", error.message);
            out.transactions.push(file_transaction(name, Err(error)));
        }
    }
}

/// The order of a CSV or sheet: its header row found by its words.
fn sheet_order(
    rows: &[Row],
    name: &str,
    format: &str,
    config: &Config,
    context: &Context,
) -> Result<jembatan_plugin_sdk::PurchaseOrder, PluginError> {
    let place_name = format!("attachment {name}");
    let (header, columns) = table::find_header(rows).ok_or_else(|| {
        PluginError::new(
            "no-order-table",
            format!(
                "{place_name}: no header row naming an item (Kode/Code or Nama Barang/Description) \
                 and a quantity (Jumlah/Qty)"
            ),
        )
    })?;
    let place = Place {
        name: &place_name,
        row_word: "row",
        format,
    };
    table::read_order(rows, header, &columns, &context.fields, config, &place)
}

/// A CSV file's rows; the separator (`,`, `;` or tab) is the one its first line
/// uses most, as spreadsheets in Indonesian settings write `;`.
fn csv_rows(body: &[u8], name: &str) -> Result<Vec<Row>, PluginError> {
    let text = String::from_utf8_lossy(body);
    let text = text.trim_start_matches('\u{feff}');
    let first = text.lines().next().unwrap_or_default();
    let separator = [b',', b';', b'\t']
        .into_iter()
        .max_by_key(|&s| first.bytes().filter(|&b| b == s).count())
        .unwrap_or(b',');
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(separator)
        .from_reader(text.as_bytes());
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record
            .map_err(|e| PluginError::new("malformed-csv", format!("attachment {name}: {e}")))?;
        let line = record.position().map_or(0, |p| p.line() as u32);
        rows.push((
            line,
            record.iter().map(|c| Cell::Text(c.to_owned())).collect(),
        ));
    }
    Ok(rows)
}

/// The first sheet of an XLSX workbook, its numbers as numbers and its dates as
/// `YYYY-MM-DD`.
fn xlsx_rows(body: &[u8], name: &str) -> Result<Vec<Row>, PluginError> {
    use calamine::{Data, Reader, Xlsx};
    let bad = |e: String| PluginError::new("malformed-xlsx", format!("attachment {name}: {e}"));
    let mut workbook: Xlsx<_> =
        Xlsx::new(Cursor::new(body.to_vec())).map_err(|e| bad(e.to_string()))?;
    let range = workbook
        .worksheet_range_at(0)
        .ok_or_else(|| bad("the workbook has no sheet".into()))?
        .map_err(|e| bad(e.to_string()))?;
    let first_row = range.start().map_or(0, |(row, _)| row);
    let mut rows = Vec::new();
    for (at, cells) in range.rows().enumerate() {
        let cells = cells
            .iter()
            .map(|cell| match cell {
                Data::Int(n) => Cell::Number(Decimal::from(*n)),
                // A spreadsheet stores numbers as binary floats; its shortest
                // decimal form is what the person typed and saw.
                Data::Float(f) => Decimal::from_str(&f.to_string())
                    .map(Cell::Number)
                    .unwrap_or_else(|_| Cell::Text(f.to_string())),
                Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => {
                    Cell::Text(s.clone())
                }
                Data::DateTime(serial) => Cell::Text(excel_day(serial.as_f64())),
                Data::Bool(b) => Cell::Text(b.to_string()),
                Data::Error(_) | Data::Empty => Cell::Text(String::new()),
            })
            .collect();
        rows.push((first_row + at as u32 + 1, cells));
    }
    Ok(rows)
}

/// An Excel day number (days since 1899-12-30, the 1900 system) as a date.
fn excel_day(serial: f64) -> String {
    let epoch = NaiveDate::from_ymd_opt(1899, 12, 30).expect("a valid date");
    epoch
        .checked_add_days(chrono::Days::new(serial.max(0.0).floor() as u64))
        .map(|d| d.to_string())
        .unwrap_or_default()
}
