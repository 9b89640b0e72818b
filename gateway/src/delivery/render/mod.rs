//! Craftsman-facing text: the order as a person reads it (text, HTML, a chat
//! summary) and as a spreadsheet or a program reads it (CSV, JSON), in Bahasa
//! Indonesia or English.
//!
//! Numbers are formatted from the [`Decimal`](rust_decimal::Decimal)'s own digits,
//! never through floats, and keep the scale the buyer sent (`185000.00` stays two
//! decimals). What a person reads uses the language's separators; what a program
//! reads (CSV, JSON) keeps the canonical `1234.50` form.
//!
//! This file holds the words of each language and the [`View`] every
//! person-readable form is made from; `text` (plain text and chat summaries),
//! `html`, `data` (CSV, JSON, file names) and `format` (money, numbers, dates,
//! units) each make one kind of output.

mod data;
mod format;
mod html;
mod text;

use std::fmt::Write as _;

use jembatan_schemas::{Address, OrderLine};

use crate::delivery::channels::{Language, Outgoing};

pub use data::{OrderData, csv, file_stem, json, order_data};
pub use format::{long_date, money, number, unit_name};
pub use html::{escape, html, html_body};
pub use text::{summary, text};

/// Whether a character must not reach a person: control characters other than
/// tab and newline (NUL, escape sequences, C1 controls) and the bidirectional
/// embedding, override and isolate characters (U+202A–U+202E, U+2066–U+2069),
/// which can make text read differently from what it says ("Trojan Source",
/// CVE-2021-42574). Every person-readable output drops them: HTML through
/// [`escape`], text through [`for_people`]. Data for programs (the webhook's and
/// the attachment's JSON, the CSV) keeps the buyer's text verbatim.
fn unfit_for_people(c: char) -> bool {
    (c.is_control() && c != '\t' && c != '\n')
        || ('\u{202A}'..='\u{202E}').contains(&c)
        || ('\u{2066}'..='\u{2069}').contains(&c)
}

/// `text` without the characters [`unfit_for_people`] names.
pub fn for_people(text: &str) -> String {
    text.chars().filter(|&c| !unfit_for_people(c)).collect()
}

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
    for_people(&one_line(
        &l.subject
            .replace("{n}", &out.order.buyer_order_number)
            .replace("{buyer}", out.buyer_name),
    ))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::delivery::channels::testing::{outgoing, sample_record};

    #[test]
    fn controls_and_bidi_overrides_never_reach_a_person() {
        let sneaky = "a\u{0}b\u{202E}c\u{2066}d\u{1b}[31me\u{85}f\tg\nh";
        assert_eq!(for_people(sneaky), "abcd[31mef\tg\nh");
        assert_eq!(escape(sneaky), "abcd[31mef\tg\nh");
        // Other format characters (a zero-width joiner in an emoji) stay.
        assert_eq!(for_people("👩\u{200D}🔧"), "👩\u{200D}🔧");
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
}
