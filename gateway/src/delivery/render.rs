//! Craftsman-facing text: the order as a person reads it (text, HTML, a chat
//! summary) and as a spreadsheet or a program reads it (CSV, JSON), in Bahasa
//! Indonesia or English.
//!
//! Numbers are formatted from the [`Decimal`]'s own digits, never through floats, and
//! keep the scale the buyer sent (`185000.00` stays two decimals). What a person
//! reads uses the language's separators; what a program reads (CSV, JSON) keeps the
//! canonical `1234.50` form.

use std::fmt::Write as _;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use jembatan_schemas::{Address, OrderLine, PurchaseOrder};
use rust_decimal::Decimal;
use serde::Serialize;

use crate::delivery::channels::{Language, Outgoing};
use crate::store::OrderRecord;

/// The words of one language.
struct Labels {
    /// `{n}`, `{buyer}`.
    subject: &'static str,
    /// `{name}`.
    greeting: &'static str,
    /// `{buyer}`.
    intro: &'static str,
    buyer: &'static str,
    contact: &'static str,
    order_number: &'static str,
    issue_date: &'static str,
    requested_date: &'static str,
    delivery_address: &'static str,
    items: &'static str,
    item_no: &'static str,
    item: &'static str,
    quantity: &'static str,
    unit_price: &'static str,
    line_total: &'static str,
    buyer_code: &'static str,
    your_code: &'static str,
    line_requested: &'static str,
    line_note: &'static str,
    subtotal: &'static str,
    tax: &'static str,
    payable: &'static str,
    notes: &'static str,
    order_id: &'static str,
    /// `{n}`.
    more_lines: &'static str,
    months: [&'static str; 12],
    /// Thousands separator, decimal separator.
    separators: (char, char),
}

const INDONESIAN: Labels = Labels {
    subject: "Pesanan baru {n} dari {buyer}",
    greeting: "Halo {name},",
    intro: "Ada pesanan baru dari {buyer}.",
    buyer: "Pembeli",
    contact: "Kontak",
    order_number: "Nomor pesanan",
    issue_date: "Tanggal pesanan",
    requested_date: "Tanggal kirim diminta",
    delivery_address: "Alamat kirim",
    items: "Barang",
    item_no: "No",
    item: "Barang",
    quantity: "Jumlah",
    unit_price: "Harga satuan",
    line_total: "Total",
    buyer_code: "kode pembeli",
    your_code: "kode Anda",
    line_requested: "Kirim",
    line_note: "Catatan",
    subtotal: "Subtotal",
    tax: "Pajak",
    payable: "Total bayar",
    notes: "Catatan",
    order_id: "ID pesanan",
    more_lines: "… dan {n} baris lagi",
    months: [
        "Januari",
        "Februari",
        "Maret",
        "April",
        "Mei",
        "Juni",
        "Juli",
        "Agustus",
        "September",
        "Oktober",
        "November",
        "Desember",
    ],
    separators: ('.', ','),
};

const ENGLISH: Labels = Labels {
    subject: "New order {n} from {buyer}",
    greeting: "Hello {name},",
    intro: "You have a new order from {buyer}.",
    buyer: "Buyer",
    contact: "Contact",
    order_number: "Order number",
    issue_date: "Order date",
    requested_date: "Requested delivery date",
    delivery_address: "Delivery address",
    items: "Items",
    item_no: "No",
    item: "Item",
    quantity: "Quantity",
    unit_price: "Unit price",
    line_total: "Total",
    buyer_code: "buyer code",
    your_code: "your code",
    line_requested: "Deliver",
    line_note: "Note",
    subtotal: "Subtotal",
    tax: "Tax",
    payable: "Total payable",
    notes: "Notes",
    order_id: "Order ID",
    more_lines: "… and {n} more lines",
    months: [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ],
    separators: (',', '.'),
};

fn labels(language: Language) -> &'static Labels {
    match language {
        Language::Indonesian => &INDONESIAN,
        Language::English => &ENGLISH,
    }
}

/// The e-mail subject (and the first line of a chat message).
pub fn subject(out: &Outgoing<'_>) -> String {
    let l = labels(out.language);
    // A subject is one header line: buyer-controlled text must not break it.
    one_line(
        &l.subject
            .replace("{n}", &out.order.buyer_order_number)
            .replace("{buyer}", out.buyer_name),
    )
}

/// The whole order as plain text, for the e-mail's text part.
pub fn text(out: &Outgoing<'_>) -> String {
    let l = labels(out.language);
    let view = View::new(out);
    let mut s = String::new();
    let _ = writeln!(s, "{}", l.greeting.replace("{name}", out.craftsman_name));
    let _ = writeln!(s);
    let _ = writeln!(s, "{}", l.intro.replace("{buyer}", out.buyer_name));
    let _ = writeln!(s);
    for (label, value) in &view.facts {
        let _ = writeln!(s, "{label}: {value}");
    }
    let _ = writeln!(s);
    let _ = writeln!(s, "{}:", l.items);
    for item in &view.items {
        let _ = writeln!(s, "{item}");
    }
    if !view.totals.is_empty() {
        let _ = writeln!(s);
        for (label, value) in &view.totals {
            let _ = writeln!(s, "{label}: {value}");
        }
    }
    if !out.order.order.notes.is_empty() {
        let _ = writeln!(s);
        let _ = writeln!(s, "{}:", l.notes);
        for note in &out.order.order.notes {
            let _ = writeln!(s, "- {note}");
        }
    }
    let _ = writeln!(s);
    let _ = writeln!(s, "{}: {}", l.order_id, out.order.id);
    s
}

/// A chat message of at most `max_chars` characters, counted as UTF-16 code units
/// (how Telegram counts; never fewer than Unicode characters, so it also fits
/// WhatsApp's limit). When the order is too long, the buyer's notes are cut to a
/// quarter of the limit and the last lines give way (replaced by "… dan N baris
/// lagi"); the notes then take whatever room the lines left. The header, totals
/// and order id always stay; only if those alone are too long is the text cut at
/// the limit.
pub fn summary(out: &Outgoing<'_>, max_chars: usize) -> String {
    let l = labels(out.language);
    let view = View::new(out);
    let mut head = String::new();
    let _ = writeln!(head, "{}", subject(out));
    for (label, value) in view.facts.iter().skip(1) {
        // The buyer is in the subject line already.
        let _ = writeln!(head, "{label}: {value}");
    }
    let _ = writeln!(head);
    let mut totals = String::new();
    if !view.totals.is_empty() {
        let _ = writeln!(totals);
        for (label, value) in &view.totals {
            let _ = writeln!(totals, "{label}: {value}");
        }
    }
    let notes = &out.order.order.notes;
    let notes = if notes.is_empty() {
        String::new()
    } else {
        let joined = notes
            .iter()
            .map(|n| one_line(n))
            .collect::<Vec<_>>()
            .join(" / ");
        format!("\n{}: {joined}\n", l.notes)
    };
    let id = format!("\n{}: {}", l.order_id, out.order.id);
    let items: Vec<String> = view.items.iter().map(|item| format!("{item}\n")).collect();

    let all_items: usize = items.iter().map(|i| width(i)).sum();
    let fits = width(&head) + width(&totals) + width(&notes) + width(&id) + all_items <= max_chars;
    let notes_share = width(&notes).min(max_chars / 4);
    let fixed = width(&head) + width(&totals) + notes_share + width(&id);
    let mut body = String::new();
    if fits {
        items.iter().for_each(|i| body.push_str(i));
    } else {
        // Keep as many whole lines as fit beside the "… and N more" line.
        let mut used = fixed;
        let mut kept = 0;
        for (index, item) in items.iter().enumerate() {
            let rest = match items.len() - index - 1 {
                0 => 0,
                n => width(&more_line(l, n)),
            };
            if used + width(item) + rest > max_chars {
                break;
            }
            used += width(item);
            kept += 1;
        }
        items[..kept].iter().for_each(|i| body.push_str(i));
        if kept < items.len() {
            body.push_str(&more_line(l, items.len() - kept));
        }
    }
    let others = width(&head) + width(&body) + width(&totals) + width(&id);
    let notes = if others + width(&notes) <= max_chars {
        notes
    } else {
        // Cut the notes to what is left; a stub of a few characters says nothing.
        let room = max_chars.saturating_sub(others);
        if room >= 24 {
            format!("{}\n", truncate(notes.trim_end(), room - 1))
        } else {
            String::new()
        }
    };
    truncate(&format!("{head}{body}{totals}{notes}{id}"), max_chars)
}

fn more_line(l: &Labels, n: usize) -> String {
    format!("{}\n", l.more_lines.replace("{n}", &n.to_string()))
}

/// The whole order as a small HTML page for the e-mail's HTML part: inline CSS
/// only, no external resources, every value escaped.
pub fn html(out: &Outgoing<'_>) -> String {
    let l = labels(out.language);
    let view = View::new(out);
    let lang = match out.language {
        Language::Indonesian => "id",
        Language::English => "en",
    };
    const CELL: &str =
        "padding:6px 8px;border-bottom:1px solid #e2e2e2;vertical-align:top;text-align:left";
    const NUM: &str = "padding:6px 8px;border-bottom:1px solid #e2e2e2;vertical-align:top;text-align:right;white-space:nowrap";
    const LABEL_RIGHT: &str =
        "padding:6px 8px;border-bottom:1px solid #e2e2e2;vertical-align:top;text-align:right";
    let mut s = String::new();
    let _ = write!(
        s,
        "<!DOCTYPE html>\n<html lang=\"{lang}\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n</head>\n\
         <body style=\"margin:0;padding:12px;background:#f4f4f4;font-family:Arial,Helvetica,sans-serif;font-size:16px;line-height:1.45;color:#222\">\n\
         <div style=\"max-width:640px;margin:0 auto;background:#fff;padding:16px;border-radius:6px\">\n",
        escape(&subject(out))
    );
    let _ = writeln!(
        s,
        "<p style=\"margin:0 0 8px\">{}</p>\n<p style=\"margin:0 0 16px\">{}</p>",
        escape(&l.greeting.replace("{name}", out.craftsman_name)),
        escape(&l.intro.replace("{buyer}", out.buyer_name))
    );
    let _ = writeln!(
        s,
        "<table style=\"width:100%;border-collapse:collapse;margin-bottom:16px\">"
    );
    for (label, value) in &view.facts {
        let _ = writeln!(
            s,
            "<tr><th style=\"{CELL};width:40%;font-weight:bold\">{}</th><td style=\"{CELL}\">{}</td></tr>",
            escape(label),
            escape(value)
        );
    }
    let _ = writeln!(s, "</table>");
    let _ = writeln!(
        s,
        "<h2 style=\"font-size:18px;margin:0 0 8px\">{}</h2>",
        escape(l.items)
    );
    let _ = writeln!(
        s,
        "<table style=\"width:100%;border-collapse:collapse;font-size:15px;margin-bottom:16px\">\n\
         <tr style=\"background:#f0f0f0\"><th style=\"{CELL}\">{}</th><th style=\"{CELL}\">{}</th>\
         <th style=\"{NUM}\">{}</th><th style=\"{NUM}\">{}</th><th style=\"{NUM}\">{}</th></tr>",
        escape(l.item_no),
        escape(l.item),
        escape(l.quantity),
        escape(l.unit_price),
        escape(l.line_total)
    );
    for line in &out.order.order.lines {
        let mut item = escape(&description(line));
        if let Some(codes) = codes(l, line) {
            let _ = write!(
                item,
                "<br><span style=\"color:#666;font-size:13px\">{}</span>",
                escape(&codes)
            );
        }
        if let Some(date) = line.requested_date {
            let _ = write!(
                item,
                "<br><span style=\"color:#666;font-size:13px\">{}: {}</span>",
                escape(l.line_requested),
                escape(&long_date(date, out.language))
            );
        }
        if let Some(note) = &line.note {
            let _ = write!(
                item,
                "<br><span style=\"color:#666;font-size:13px\">{}: {}</span>",
                escape(l.line_note),
                escape(note)
            );
        }
        let price = |amount: Option<Decimal>| {
            amount.map_or_else(String::new, |a| {
                escape(&money(a, &out.order.order.currency, out.language))
            })
        };
        let _ = writeln!(
            s,
            "<tr><td style=\"{CELL}\">{}</td><td style=\"{CELL}\">{item}</td><td style=\"{NUM}\">{}</td>\
             <td style=\"{NUM}\">{}</td><td style=\"{NUM}\">{}</td></tr>",
            escape(&line.line_number),
            escape(&quantity(line, out.language)),
            price(line.unit_price),
            price(line.line_total)
        );
    }
    let _ = writeln!(s, "</table>");
    if !view.totals.is_empty() {
        let _ = writeln!(
            s,
            "<table style=\"width:100%;border-collapse:collapse;margin-bottom:16px\">"
        );
        for (label, value) in &view.totals {
            let _ = writeln!(
                s,
                "<tr><th style=\"{LABEL_RIGHT}\">{}</th><td style=\"{NUM};width:40%;font-weight:bold\">{}</td></tr>",
                escape(label),
                escape(value)
            );
        }
        let _ = writeln!(s, "</table>");
    }
    if !out.order.order.notes.is_empty() {
        let _ = writeln!(
            s,
            "<h2 style=\"font-size:18px;margin:0 0 8px\">{}</h2>\n<ul style=\"margin:0 0 16px;padding-left:20px\">",
            escape(l.notes)
        );
        for note in &out.order.order.notes {
            let _ = writeln!(s, "<li>{}</li>", escape(note));
        }
        let _ = writeln!(s, "</ul>");
    }
    let _ = write!(
        s,
        "<p style=\"margin:0;color:#777;font-size:13px\">{}: {}</p>\n</div>\n</body>\n</html>\n",
        escape(l.order_id),
        escape(&out.order.id)
    );
    s
}

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

/// A person-readable amount: the currency code, then the number with the
/// language's separators and the amount's own scale (`IDR 185.000,00`).
pub fn money(amount: Decimal, currency: &str, language: Language) -> String {
    format!("{currency} {}", number(amount, language))
}

/// A decimal with the language's separators, keeping its scale: `1234.50` is
/// `1.234,50` in Indonesian and `1,234.50` in English.
pub fn number(value: Decimal, language: Language) -> String {
    let (thousands, decimal) = labels(language).separators;
    // Decimal's Display writes every digit of its scale, never an exponent.
    let plain = value.to_string();
    let (sign, digits) = match plain.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", plain.as_str()),
    };
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    let mut s = String::from(sign);
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            s.push(thousands);
        }
        s.push(c);
    }
    if !frac.is_empty() {
        s.push(decimal);
        s.push_str(frac);
    }
    s
}

/// A date written out in the language: `27 November 2026`, `5 Desember 2026`.
pub fn long_date(date: NaiveDate, language: Language) -> String {
    let month = labels(language).months[date.month0() as usize];
    format!("{} {month} {}", date.day(), date.year())
}

/// Common UN/ECE Recommendation 20 codes (and the Rec 21 package codes buyers use
/// as units): the codes, the Indonesian word, the English word.
const UNITS: &[(&[&str], &str, &str)] = &[
    // C62 "one", H87 "piece", PCE (withdrawn, still sent) and EA "each".
    (&["C62", "H87", "PCE", "EA"], "buah", "pcs"),
    (&["KGM"], "kg", "kg"),
    (&["GRM"], "g", "g"),
    (&["TNE"], "ton", "t"),
    (&["MTR"], "m", "m"),
    (&["CMT"], "cm", "cm"),
    (&["MMT"], "mm", "mm"),
    (&["KMT"], "km", "km"),
    (&["MTK"], "m²", "m²"),
    (&["MTQ"], "m³", "m³"),
    (&["LTR"], "liter", "litres"),
    (&["MLT"], "ml", "ml"),
    (&["SET"], "set", "sets"),
    (&["PR"], "pasang", "pairs"),
    (&["DZN"], "lusin", "dozen"),
    (&["BX", "XBX"], "kotak", "boxes"),
    (&["CT", "XCT"], "karton", "cartons"),
    (&["PK", "XPK"], "pak", "packs"),
    (&["BG", "XBG"], "karung", "bags"),
    (&["RO", "XRO"], "gulung", "rolls"),
    (&["SHT", "XST"], "lembar", "sheets"),
    (&["HUR"], "jam", "hours"),
    (&["DAY"], "hari", "days"),
];

/// A UN/ECE Recommendation 20 unit code as a word a craftsman reads; codes not
/// listed are shown as they are.
pub fn unit_name(code: &str, language: Language) -> &str {
    UNITS
        .iter()
        .find(|(codes, _, _)| codes.iter().any(|c| c.eq_ignore_ascii_case(code)))
        .map_or(code, |(_, id, en)| match language {
            Language::Indonesian => id,
            Language::English => en,
        })
}

/// What every person-readable form shows, in order, already formatted.
struct View {
    /// Label and value: buyer first, then number, dates, address.
    facts: Vec<(&'static str, String)>,
    /// One entry per order line, possibly over several text lines.
    items: Vec<String>,
    totals: Vec<(&'static str, String)>,
}

impl View {
    fn new(out: &Outgoing<'_>) -> Self {
        let l = labels(out.language);
        let order = &out.order.order;
        let language = out.language;
        let mut facts = vec![(l.buyer, out.buyer_name.to_owned())];
        if let Some(contact) = &order.buyer.contact {
            let parts: Vec<&str> = [&contact.name, &contact.phone, &contact.email]
                .into_iter()
                .flatten()
                .map(String::as_str)
                .collect();
            if !parts.is_empty() {
                facts.push((l.contact, parts.join(", ")));
            }
        }
        facts.push((l.order_number, out.order.buyer_order_number.clone()));
        facts.push((l.issue_date, long_date(order.issue_date, language)));
        if let Some(delivery) = &order.delivery {
            if let Some(date) = delivery.requested_date {
                facts.push((l.requested_date, long_date(date, language)));
            }
            if let Some(address) = delivery
                .address
                .as_ref()
                .map(address_line)
                .filter(|a| !a.is_empty())
            {
                facts.push((l.delivery_address, address));
            }
        }
        let items = order
            .lines
            .iter()
            .map(|line| item_text(l, line, &order.currency, language))
            .collect();
        let mut totals = Vec::new();
        if let Some(t) = &order.totals {
            for (label, amount) in [
                (l.subtotal, t.line_extension),
                (l.tax, t.tax),
                (l.payable, t.payable),
            ] {
                if let Some(amount) = amount {
                    totals.push((label, money(amount, &order.currency, language)));
                }
            }
        }
        Self {
            facts,
            items,
            totals,
        }
    }
}

/// `1. 10 buah — Kursi rotan (kode pembeli KR-01, kode Anda R-100) @ IDR 185.000,00 = IDR 1.850.000,00`,
/// then the line's own date and note indented below it.
fn item_text(l: &Labels, line: &OrderLine, currency: &str, language: Language) -> String {
    let mut s = format!(
        "{}. {} — {}",
        line.line_number,
        quantity(line, language),
        description(line)
    );
    if let Some(codes) = codes(l, line) {
        let _ = write!(s, " ({codes})");
    }
    if let Some(price) = line.unit_price {
        let _ = write!(s, " @ {}", money(price, currency, language));
    }
    if let Some(total) = line.line_total {
        let _ = write!(s, " = {}", money(total, currency, language));
    }
    if let Some(date) = line.requested_date {
        let _ = write!(
            s,
            "\n   {}: {}",
            l.line_requested,
            long_date(date, language)
        );
    }
    if let Some(note) = &line.note {
        let _ = write!(s, "\n   {}: {}", l.line_note, one_line(note));
    }
    s
}

fn quantity(line: &OrderLine, language: Language) -> String {
    format!(
        "{} {}",
        number(line.quantity, language),
        unit_name(&line.unit, language)
    )
}

/// The line's description, or an item code when the buyer sent none.
fn description(line: &OrderLine) -> String {
    let text = line
        .description
        .as_deref()
        .or(line.supplier_item_code.as_deref())
        .or(line.buyer_item_code.as_deref())
        .unwrap_or("-");
    one_line(text)
}

fn codes(l: &Labels, line: &OrderLine) -> Option<String> {
    let parts: Vec<String> = [
        (l.buyer_code, &line.buyer_item_code),
        (l.your_code, &line.supplier_item_code),
    ]
    .into_iter()
    .filter_map(|(label, code)| code.as_ref().map(|c| format!("{label} {c}")))
    .collect();
    (!parts.is_empty()).then(|| parts.join(", "))
}

/// `Jl. Raya Bogor 12, Blok B, 13750 Jakarta Timur, DKI Jakarta, ID`.
fn address_line(a: &Address) -> String {
    let city = [&a.postal_code, &a.city]
        .into_iter()
        .flatten()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .join(" ");
    let parts: Vec<String> = [
        a.street.clone(),
        a.additional_street.clone(),
        Some(city).filter(|c| !c.is_empty()),
        a.region.clone(),
        a.country.clone(),
    ]
    .into_iter()
    .flatten()
    .map(|p| one_line(&p))
    .filter(|p| !p.is_empty())
    .collect();
    parts.join(", ")
}

/// Runs of whitespace and control characters become one space, so a value can sit
/// on one line of text (or in a header).
fn one_line(value: &str) -> String {
    value
        .split(|c: char| c.is_whitespace() || c.is_control())
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Escapes text for HTML element content and quoted attribute values.
pub fn escape(value: &str) -> String {
    let mut s = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '&' => s.push_str("&amp;"),
            '<' => s.push_str("&lt;"),
            '>' => s.push_str("&gt;"),
            '"' => s.push_str("&quot;"),
            '\'' => s.push_str("&#39;"),
            c => s.push(c),
        }
    }
    s
}

fn width(s: &str) -> usize {
    s.encode_utf16().count()
}

/// Cuts `s` to at most `max` UTF-16 code units, ending with `…` when cut.
fn truncate(s: &str, max: usize) -> String {
    if width(s) <= max {
        return s.to_owned();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in s.chars() {
        // Leave room for the ellipsis (one code unit).
        if used + c.len_utf16() + 1 > max {
            break;
        }
        used += c.len_utf16();
        out.push(c);
    }
    if max > 0 {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::delivery::channels::testing::{outgoing, sample_record};

    fn dec(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    #[test]
    fn money_keeps_the_scale_and_uses_the_languages_separators() {
        assert_eq!(
            money(dec("185000.00"), "IDR", Language::Indonesian),
            "IDR 185.000,00"
        );
        assert_eq!(
            money(dec("185000.00"), "IDR", Language::English),
            "IDR 185,000.00"
        );
        assert_eq!(
            money(dec("1234567"), "IDR", Language::Indonesian),
            "IDR 1.234.567"
        );
        assert_eq!(
            money(dec("-1234.5"), "USD", Language::English),
            "USD -1,234.5"
        );
        assert_eq!(
            money(dec("0.125"), "IDR", Language::Indonesian),
            "IDR 0,125"
        );
        assert_eq!(number(dec("999"), Language::English), "999");
        assert_eq!(number(dec("100000"), Language::Indonesian), "100.000");
        // Past f64's precision: no float ever touches the digits.
        assert_eq!(
            number(dec("12345678901234567890.12"), Language::English),
            "12,345,678,901,234,567,890.12"
        );
    }

    #[test]
    fn dates_are_written_out_in_the_language() {
        let date = NaiveDate::from_ymd_opt(2026, 11, 27).unwrap();
        assert_eq!(long_date(date, Language::Indonesian), "27 November 2026");
        assert_eq!(long_date(date, Language::English), "27 November 2026");
        let date = NaiveDate::from_ymd_opt(2026, 8, 5).unwrap();
        assert_eq!(long_date(date, Language::Indonesian), "5 Agustus 2026");
        assert_eq!(long_date(date, Language::English), "5 August 2026");
    }

    #[test]
    fn common_units_have_words_and_others_stay_codes() {
        assert_eq!(unit_name("H87", Language::Indonesian), "buah");
        assert_eq!(unit_name("C62", Language::English), "pcs");
        assert_eq!(unit_name("PCE", Language::Indonesian), "buah");
        assert_eq!(unit_name("KGM", Language::English), "kg");
        assert_eq!(unit_name("PR", Language::Indonesian), "pasang");
        assert_eq!(unit_name("ZZZ", Language::Indonesian), "ZZZ");
    }

    #[test]
    fn subject_in_both_languages_and_on_one_line() {
        let mut record = sample_record();
        let out = outgoing(&record, Language::Indonesian);
        assert_eq!(
            subject(&out),
            "Pesanan baru PO-2026/0042 dari PT Mitra Otoparts"
        );
        let out = outgoing(&record, Language::English);
        assert_eq!(
            subject(&out),
            "New order PO-2026/0042 from PT Mitra Otoparts"
        );
        record.buyer_order_number = "PO-1\r\nBcc: evil@example.com".into();
        let out = outgoing(&record, Language::English);
        assert!(!subject(&out).contains('\n'));
    }

    #[test]
    fn text_has_every_part_of_the_order() {
        let record = sample_record();
        let t = text(&outgoing(&record, Language::Indonesian));
        for expected in [
            "Halo Pak Budi,",
            "Pembeli: PT Mitra Otoparts",
            "Nomor pesanan: PO-2026/0042",
            "Tanggal pesanan: 20 November 2026",
            "Tanggal kirim diminta: 5 Desember 2026",
            "Alamat kirim: Jl. Raya Bogor No. 12, 13750 Jakarta Timur, ID",
            "1. 10 buah — Kursi rotan (kode pembeli KR-01, kode Anda R-100) @ IDR 185.000,00 = IDR 1.850.000,00",
            "2. 2,5 kg — Rotan mentah @ IDR 40.000,00 = IDR 100.000,00",
            "   Catatan: kering",
            "Total bayar: IDR 2.164.500,00",
            "- Mohon dikemas rapi",
            "ID pesanan: ord_0001",
        ] {
            assert!(t.contains(expected), "missing {expected:?} in:\n{t}");
        }
        let t = text(&outgoing(&record, Language::English));
        for expected in [
            "Hello Pak Budi,",
            "Order date: 20 November 2026",
            "1. 10 pcs — Kursi rotan (buyer code KR-01, your code R-100) @ IDR 185,000.00 = IDR 1,850,000.00",
            "Total payable: IDR 2,164,500.00",
            "Order ID: ord_0001",
        ] {
            assert!(t.contains(expected), "missing {expected:?} in:\n{t}");
        }
    }

    #[test]
    fn html_escapes_every_value_and_loads_nothing() {
        let mut record = sample_record();
        record.order.lines[0].description = Some("<script>alert('x')</script> & co".into());
        record.order.notes.push("\"quoted\" <b>".into());
        let h = html(&outgoing(&record, Language::Indonesian));
        assert!(!h.contains("<script>"));
        assert!(h.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; co"));
        assert!(h.contains("&quot;quoted&quot; &lt;b&gt;"));
        assert!(h.contains("IDR 1.850.000,00"));
        assert!(h.contains("<html lang=\"id\">"));
        for external in ["src=", "href=", "<link", "url("] {
            assert!(!h.contains(external), "{external} in html");
        }
    }

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
    fn summary_fits_and_says_how_many_lines_were_cut() {
        let mut record = sample_record();
        let line = record.order.lines[0].clone();
        record.order.lines = (1..=200)
            .map(|n| {
                let mut l = line.clone();
                l.line_number = n.to_string();
                l
            })
            .collect();
        for language in [Language::Indonesian, Language::English] {
            let out = outgoing(&record, language);
            let s = summary(&out, 4096);
            assert!(width(&s) <= 4096, "{}", width(&s));
            assert!(s.starts_with(&subject(&out)));
            assert!(s.ends_with("ord_0001"), "{s}");
            let more = s.lines().find(|l| l.starts_with('…')).expect("a more line");
            let shown = s.lines().filter(|l| l.contains(" — ")).count();
            let n: usize = more.split(' ').nth(2).unwrap().parse().unwrap();
            assert_eq!(shown + n, 200, "{more}");
            match language {
                Language::Indonesian => assert!(more.ends_with("baris lagi")),
                Language::English => assert!(more.ends_with("more lines")),
            }
        }
        // A short order is shown whole.
        let record = sample_record();
        let s = summary(&outgoing(&record, Language::Indonesian), 4096);
        assert!(!s.contains('…'));
        assert!(s.contains("2. 2,5 kg"));
        // Even an absurd limit is respected.
        let s = summary(&outgoing(&record, Language::Indonesian), 40);
        assert!(width(&s) <= 40);
        assert!(s.ends_with('…'));
    }

    #[test]
    fn long_notes_give_way_before_the_totals_and_the_order_id() {
        let mut record = sample_record();
        record.order.notes = vec!["Harap dikemas dengan kardus tebal. ".repeat(200)];
        let out = outgoing(&record, Language::Indonesian);
        let s = summary(&out, 4096);
        assert!(width(&s) <= 4096, "{}", width(&s));
        assert!(s.contains("Total bayar: IDR 2.164.500,00"), "{s}");
        assert!(s.contains("Catatan: Harap dikemas"), "{s}");
        assert!(s.ends_with("ID pesanan: ord_0001"), "{s}");
        assert!(s.contains("…\n"), "{s}");
        assert!(s.contains("1. 10 buah — Kursi rotan"), "{s}");
        assert!(!s.contains("baris lagi"), "{s}");
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
