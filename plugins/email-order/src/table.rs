//! An order table (typed in the body, a CSV file, a sheet) to one order: find
//! the header row by its words, map the columns, read each row below it.

use jembatan_plugin_sdk::draft::{Defaults, LineDraft, OrderDraft, item_id, unit_price};
use jembatan_plugin_sdk::values::{NumberFormat, localized_decimal};
use jembatan_plugin_sdk::{Decimal, ItemIdRole, NaiveDate, PluginError, PurchaseOrder};

use crate::{Config, NumberStyle};

/// One cell: text as written, or a number a spreadsheet stored as one.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    Number(Decimal),
}

impl Cell {
    pub fn text(&self) -> String {
        match self {
            Self::Text(text) => text.trim().to_owned(),
            Self::Number(number) => number.normalize().to_string(),
        }
    }

    fn is_blank(&self) -> bool {
        matches!(self, Self::Text(text) if text.trim().is_empty())
    }
}

/// A row and its 1-based line (or sheet row) number.
pub type Row = (u32, Vec<Cell>);

/// What a column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Column {
    LineNumber,
    Code,
    Name,
    Quantity,
    Unit,
    Price,
    Total,
    Delivery,
    OrderNumber,
}

/// Header words, lower case, without a trailing `:` or `.`.
const WORDS: &[(&str, Column)] = &[
    ("no", Column::LineNumber),
    ("#", Column::LineNumber),
    ("line", Column::LineNumber),
    ("baris", Column::LineNumber),
    ("kode", Column::Code),
    ("kode barang", Column::Code),
    ("kode item", Column::Code),
    ("sku", Column::Code),
    ("code", Column::Code),
    ("item code", Column::Code),
    ("part no", Column::Code),
    ("part number", Column::Code),
    ("no part", Column::Code),
    ("nama barang", Column::Name),
    ("nama", Column::Name),
    ("barang", Column::Name),
    ("nama item", Column::Name),
    ("deskripsi", Column::Name),
    ("uraian", Column::Name),
    ("keterangan", Column::Name),
    ("description", Column::Name),
    ("item", Column::Name),
    ("product", Column::Name),
    ("produk", Column::Name),
    ("name", Column::Name),
    ("jumlah", Column::Quantity),
    ("jml", Column::Quantity),
    ("qty", Column::Quantity),
    ("kuantitas", Column::Quantity),
    ("banyaknya", Column::Quantity),
    ("quantity", Column::Quantity),
    ("satuan", Column::Unit),
    ("sat", Column::Unit),
    ("unit", Column::Unit),
    ("uom", Column::Unit),
    ("harga", Column::Price),
    ("harga satuan", Column::Price),
    ("harga/satuan", Column::Price),
    ("harga per unit", Column::Price),
    ("price", Column::Price),
    ("unit price", Column::Price),
    ("price per unit", Column::Price),
    ("total", Column::Total),
    ("subtotal", Column::Total),
    ("jumlah harga", Column::Total),
    ("amount", Column::Total),
    ("tanggal kirim", Column::Delivery),
    ("tgl kirim", Column::Delivery),
    ("delivery date", Column::Delivery),
    ("delivery", Column::Delivery),
    ("no po", Column::OrderNumber),
    ("nomor po", Column::OrderNumber),
    ("po number", Column::OrderNumber),
    ("po", Column::OrderNumber),
    ("order number", Column::OrderNumber),
];

fn column_of(header: &str) -> Option<Column> {
    let word = header
        .trim()
        .trim_end_matches([':', '.'])
        .replace(['.', '_'], " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase();
    WORDS
        .iter()
        .find(|(known, _)| *known == word)
        .map(|&(_, column)| column)
}

/// The columns of a header row, by position.
#[derive(Debug, Clone)]
pub struct Columns(Vec<Option<Column>>);

impl Columns {
    fn at(&self, column: Column) -> Option<usize> {
        self.0.iter().position(|c| *c == Some(column))
    }
}

/// The header row among `rows`: the first whose words name a quantity and an
/// item (its code or name), and its columns.
pub fn find_header(rows: &[Row]) -> Option<(usize, Columns)> {
    rows.iter().enumerate().find_map(|(at, (_, cells))| {
        let columns = Columns(cells.iter().map(|c| column_of(&c.text())).collect());
        let item = columns.at(Column::Code).is_some() || columns.at(Column::Name).is_some();
        (item && columns.at(Column::Quantity).is_some()).then_some((at, columns))
    })
}

/// What the mail says about the order besides its table.
#[derive(Debug, Clone, Default)]
pub struct OrderFields {
    pub number: Option<String>,
    pub issue_date: Option<NaiveDate>,
    pub delivery_date: Option<NaiveDate>,
    pub supplier_code: Option<String>,
    pub currency: Option<String>,
}

/// Where a table is, for errors: `the body`, `attachment po.csv`.
pub struct Place<'a> {
    pub name: &'a str,
    /// What a row number counts: `line` or `row`.
    pub row_word: &'a str,
    /// The plugin's format name for the order's `source`.
    pub format: &'a str,
}

/// The order of the table whose header is `rows[header]`.
pub fn read_order(
    rows: &[Row],
    header: usize,
    columns: &Columns,
    fields: &OrderFields,
    config: &Config,
    place: &Place<'_>,
) -> Result<PurchaseOrder, PluginError> {
    let header_line = rows[header].0;
    let mut order = OrderDraft::new("email-order", place.format);
    order.number = fields.number.clone();
    order.issue_date = fields.issue_date;
    order.supplier_code = fields.supplier_code.clone();
    order.currency = fields.currency.clone();
    order.delivery.requested_date = fields.delivery_date;
    let format = match config.number_format {
        NumberStyle::Indonesian => NumberFormat::indonesian(),
        NumberStyle::English => NumberFormat {
            thousands: Some(','),
            decimal: '.',
            symbol: Some("Rp".to_owned()),
        },
    };
    for (line, cells) in &rows[header + 1..] {
        if cells.iter().all(Cell::is_blank) {
            continue;
        }
        let line = *line;
        let error = |code: &str, what: String| {
            PluginError::new(
                code,
                format!("{}, {} {line}: {what}", place.name, place.row_word),
            )
            .with_line_column(line, 1)
        };
        let cell = |column: Column| {
            columns
                .at(column)
                .and_then(|at| cells.get(at))
                .filter(|c| !c.is_blank())
        };
        let number = |column: Column, name: &str| -> Result<Option<Decimal>, PluginError> {
            match cell(column) {
                None => Ok(None),
                Some(Cell::Number(n)) => Ok(Some(*n)),
                Some(Cell::Text(text)) => localized_decimal(text, &format)
                    .map(Some)
                    .map_err(|why| error("invalid-value", format!("{name}: {why}"))),
            }
        };
        let quantity = number(Column::Quantity, "quantity")?
            .ok_or_else(|| error("missing-value", "no quantity".into()))?;
        let mut draft = LineDraft {
            number: cell(Column::LineNumber).map(Cell::text),
            quantity: Some(quantity),
            ..LineDraft::default()
        };
        if let Some(code) = cell(Column::Code) {
            draft
                .item
                .ids
                .push(item_id(ItemIdRole::Buyer, &code.text()));
        }
        draft.item.name = cell(Column::Name).map(Cell::text);
        if draft.item.ids.is_empty() && draft.item.name.is_none() {
            return Err(error("missing-value", "no item code or name".into()));
        }
        if let Some(word) = cell(Column::Unit) {
            draft.unit =
                Some(unit(&word.text(), config).map_err(|why| error("invalid-value", why))?);
        }
        if let Some(price) = number(Column::Price, "price")? {
            draft.price = Some(unit_price(price));
            if cell(Column::Price).is_some_and(|c| c.text().to_lowercase().starts_with("rp")) {
                order.currency.get_or_insert_with(|| "IDR".into());
            }
        }
        draft.line_total = number(Column::Total, "total")?;
        if let Some(day) = cell(Column::Delivery) {
            let day = crate::dates::date(&day.text())
                .ok_or_else(|| error("invalid-value", format!("'{}' is not a date", day.text())))?;
            draft.delivery.requested_date = Some(day);
        }
        if order.number.is_none()
            && let Some(number) = cell(Column::OrderNumber)
        {
            order.number = Some(number.text());
        }
        order.lines.push(draft);
    }
    if order.lines.is_empty() {
        return Err(PluginError::new(
            "no-lines",
            format!("{}: the order table has a header but no rows", place.name),
        )
        .with_line_column(header_line, 1));
    }
    let defaults = Defaults {
        supplier_code: config.supplier_code.as_deref(),
        currency: config.default_currency.as_deref(),
        unit: Some(
            config
                .default_unit
                .as_deref()
                .unwrap_or(jembatan_plugin_sdk::DEFAULT_UNIT),
        ),
        ..Defaults::default()
    };
    order.finish(&defaults, |field, _| {
        PluginError::new(
            "missing-field",
            format!(
                "{}: the order has no {field:?}; write it in the mail as e.g. 'No. PO: PO-2026-0042' \
                 and 'Tanggal: 27/11/2026'",
                place.name
            ),
        )
    })
}

/// A unit word as a UN/ECE Recommendation 20 code.
fn unit(word: &str, config: &Config) -> Result<String, String> {
    let lower = word.trim().trim_end_matches('.').to_lowercase();
    if let Some(code) = config.units.get(&lower).or(config.units.get(word)) {
        return Ok(code.clone());
    }
    let known = match lower.as_str() {
        "pcs" | "pc" | "piece" | "pieces" | "buah" | "bh" | "biji" | "unit" | "unt" | "btg"
        | "batang" | "ea" | "each" => "H87",
        "kg" | "kilo" | "kilogram" => "KGM",
        "g" | "gr" | "gram" => "GRM",
        "ton" => "TNE",
        "set" | "sets" => "SET",
        "m" | "mtr" | "meter" | "metre" => "MTR",
        "lembar" | "lbr" | "sheet" | "sheets" => "ST",
        "lusin" | "dozen" | "dz" | "dzn" => "DZN",
        "pasang" | "psg" | "pair" | "pairs" | "pr" => "PR",
        "box" | "dus" | "kotak" | "karton" => "BX",
        "roll" | "rol" => "RO",
        "liter" | "ltr" | "l" => "LTR",
        _ => "",
    };
    if !known.is_empty() {
        return Ok(known.to_owned());
    }
    jembatan_plugin_sdk::values::unit(word.trim()).map_err(|_| {
        format!("unit '{word}' is not known; add it to the config's `units`, e.g. {{\"{lower}\": \"H87\"}}")
    })
}
