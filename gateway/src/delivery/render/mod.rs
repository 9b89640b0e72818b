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
//! `html`, `pdf` (the text as a PDF document), `data` (CSV, JSON, file names) and
//! `format` (money, numbers, dates, units) each make one kind of output.

mod data;
mod format;
mod html;
mod pdf;
mod reminder;
mod text;

use std::fmt::Write as _;

use jembatan_schemas::v2::{
    Address, AllowanceCharge, AllowanceChargeKind, Contact, Delivery, DeliveryTerms, Document,
    Item, ItemIdRole, Location, OrderLine, PaymentTerms, Reference, ReferenceType,
};
use rust_decimal::Decimal;

use crate::delivery::channels::{Language, Outgoing};
use crate::orders::BUYER_DIFFERS_FROM_REGISTRATION;

pub use data::{
    EmbeddedFile, MAX_EMBEDDED_FILES, OrderData, csv, embedded_files, file_stem, json, order_data,
};
pub use format::{long_date, money, number, unit_name};
pub use html::{escape, html, html_body};
pub use pdf::pdf;
pub use reminder::{answer_page, reminder_html, reminder_subject, reminder_text};
pub use text::{TemplateValues, summary, template_values, text};

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
    /// The buyer as the document names it, when that is not the registered name.
    buyer_in_document: &'static str,
    contact: &'static str,
    order_number: &'static str,
    issue_date: &'static str,
    requested_date: &'static str,
    delivery_address: &'static str,
    delivery_contact: &'static str,
    deliver_between: &'static str,
    deliver_by: &'static str,
    deliver_from: &'static str,
    ship_not_before: &'static str,
    ship_no_later: &'static str,
    delivery_terms: &'static str,
    payment_terms: &'static str,
    /// `{n}`.
    net_days: &'static str,
    discount: &'static str,
    references: &'static str,
    documents: &'static str,
    allowance: &'static str,
    charge: &'static str,
    items: &'static str,
    quantity: &'static str,
    unit_price: &'static str,
    line_total: &'static str,
    buyer_code: &'static str,
    your_code: &'static str,
    maker_code: &'static str,
    /// An item id whose scheme is not given.
    other_code: &'static str,
    specs: &'static str,
    line_requested: &'static str,
    line_note: &'static str,
    subtotal: &'static str,
    allowance_total: &'static str,
    charge_total: &'static str,
    tax: &'static str,
    payable: &'static str,
    notes: &'static str,
    /// Extensions: what the document said that has no field.
    others: &'static str,
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
    buyer_in_document: "Nama pembeli di dokumen",
    contact: "Kontak",
    order_number: "Nomor pesanan",
    issue_date: "Tanggal pesanan",
    requested_date: "Tanggal kirim diminta",
    delivery_address: "Alamat kirim",
    delivery_contact: "Kontak penerima",
    deliver_between: "Kirim antara",
    deliver_by: "Kirim paling lambat",
    deliver_from: "Kirim paling cepat",
    ship_not_before: "Berangkat paling cepat",
    ship_no_later: "Berangkat paling lambat",
    delivery_terms: "Syarat penyerahan",
    payment_terms: "Pembayaran",
    net_days: "{n} hari",
    discount: "diskon",
    references: "Referensi",
    documents: "Gambar/dokumen",
    allowance: "Potongan",
    charge: "Biaya tambahan",
    items: "Barang",
    quantity: "Jumlah",
    unit_price: "Harga satuan",
    line_total: "Total",
    buyer_code: "kode pembeli",
    your_code: "kode Anda",
    maker_code: "kode pabrik",
    other_code: "kode",
    specs: "Spesifikasi",
    line_requested: "Kirim",
    line_note: "Catatan",
    subtotal: "Subtotal",
    allowance_total: "Total potongan",
    charge_total: "Total biaya tambahan",
    tax: "Pajak",
    payable: "Total bayar",
    notes: "Catatan",
    others: "Data lain dari dokumen",
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
    buyer_in_document: "Buyer named in the document",
    contact: "Contact",
    order_number: "Order number",
    issue_date: "Order date",
    requested_date: "Requested delivery date",
    delivery_address: "Delivery address",
    delivery_contact: "Delivery contact",
    deliver_between: "Deliver between",
    deliver_by: "Deliver by",
    deliver_from: "Deliver from",
    ship_not_before: "Ship not before",
    ship_no_later: "Ship no later than",
    delivery_terms: "Delivery terms",
    payment_terms: "Payment",
    net_days: "{n} days",
    discount: "discount",
    references: "References",
    documents: "Drawings/documents",
    allowance: "Discount",
    charge: "Surcharge",
    items: "Items",
    quantity: "Quantity",
    unit_price: "Unit price",
    line_total: "Total",
    buyer_code: "buyer code",
    your_code: "your code",
    maker_code: "maker code",
    other_code: "code",
    specs: "Specs",
    line_requested: "Deliver",
    line_note: "Note",
    subtotal: "Subtotal",
    allowance_total: "Discounts",
    charge_total: "Surcharges",
    tax: "Tax",
    payable: "Total payable",
    notes: "Notes",
    others: "Other data in the document",
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
    /// Label and value: buyer first, then number, dates, place, terms.
    facts: Vec<(&'static str, String)>,
    /// One entry per order line.
    items: Vec<ItemView>,
    totals: Vec<(&'static str, String)>,
    /// The buyer's notes as written (line breaks and tabs kept for the e-mail;
    /// the chat summary puts each on one line).
    notes: Vec<String>,
    /// What the document said that has no field of its own, as `path: value`.
    others: Vec<String>,
}

/// One order line as a person reads it.
struct ItemView {
    number: String,
    /// `400 buah`.
    quantity: String,
    /// The item's name; its description, or a code, when it has none.
    title: String,
    /// `kode pembeli KR-01, kode Anda R-100, GTIN 8991234567890`.
    codes: Option<String>,
    /// `IDR 185.000,00`, or `IDR 185.000,00 / 100 buah` for a price per 100.
    price: Option<String>,
    total: Option<String>,
    /// Lines below the title: the description, specs, drawings, dates, notes,
    /// discounts and surcharges of this line.
    details: Vec<String>,
}

impl View {
    fn new(out: &Outgoing<'_>) -> Self {
        let l = labels(out.language);
        let order = &out.order.order;
        let language = out.language;
        let money_of = |amount: Decimal| money(amount, &order.currency, language);
        let mut facts = vec![(l.buyer, out.buyer_name.to_owned())];
        if let Some(buyer) = &order.buyer {
            // The page names the buyer as registered; a document that names another
            // company (the gateway flagged it when it stored the order) is shown
            // too, so the craftsman can ask.
            let differs = order
                .warnings
                .iter()
                .any(|w| w.code == BUYER_DIFFERS_FROM_REGISTRATION);
            if differs && let Some(name) = &buyer.name {
                facts.push((l.buyer_in_document, one_line(name)));
            }
            if let Some(contact) = buyer.contacts.iter().find_map(contact_line) {
                facts.push((l.contact, contact));
            }
        }
        facts.push((l.order_number, out.order.buyer_order_number.clone()));
        facts.push((l.issue_date, long_date(order.issue_date, language)));
        if let Some(delivery) = &order.delivery {
            facts.extend(delivery_dates(l, l.requested_date, delivery, language));
            if let Some(place) = delivery.location.as_ref().map(location_line) {
                facts.push((l.delivery_address, place));
            }
            if let Some(contact) = delivery.contacts.iter().find_map(contact_line) {
                facts.push((l.delivery_contact, contact));
            }
        }
        if let Some(terms) = order.delivery_terms.as_ref().and_then(terms_line) {
            facts.push((l.delivery_terms, terms));
        }
        let payment: Vec<String> = order
            .payment_terms
            .iter()
            .filter_map(|t| payment_line(l, t))
            .collect();
        if !payment.is_empty() {
            facts.push((l.payment_terms, payment.join("; ")));
        }
        if !order.references.is_empty() {
            let refs: Vec<String> = order.references.iter().map(reference_line).collect();
            facts.push((l.references, refs.join(", ")));
        }
        if !order.documents.is_empty() {
            facts.push((l.documents, documents_line(&order.documents)));
        }
        for ac in &order.allowances_charges {
            facts.push(allowance_charge_line(l, ac, &money_of, language));
        }
        let items = order
            .lines
            .iter()
            .map(|line| ItemView::new(l, line, &money_of, language))
            .collect();
        let mut totals = Vec::new();
        if let Some(t) = &order.totals {
            for (label, amount) in [
                (l.subtotal, t.line_extension),
                (l.allowance_total, t.allowance_total),
                (l.charge_total, t.charge_total),
                (l.tax, t.tax_total),
                (l.payable, t.payable),
            ] {
                if let Some(amount) = amount {
                    totals.push((label, money_of(amount)));
                }
            }
        }
        let notes = order
            .notes
            .iter()
            .map(|n| match &n.subject {
                Some(subject) => format!("{subject}: {}", n.text),
                None => n.text.clone(),
            })
            .collect();
        let line_extensions = order.lines.iter().flat_map(|line| &line.extensions);
        let others = order
            .extensions
            .iter()
            .chain(line_extensions)
            .map(|e| one_line(&format!("{}: {}", e.path, e.value)))
            .collect();
        Self {
            facts,
            items,
            totals,
            notes,
            others,
        }
    }
}

impl ItemView {
    /// `1. 10 buah — Kursi rotan (kode pembeli KR-01, kode Anda R-100) @ IDR 185.000,00 = IDR 1.850.000,00`,
    /// with the details below it.
    fn new(
        l: &Labels,
        line: &OrderLine,
        money_of: &dyn Fn(Decimal) -> String,
        language: Language,
    ) -> Self {
        let item = &line.item;
        let code = |role| {
            item.ids
                .iter()
                .find(|id| id.role == role)
                .map(|id| id.value.as_str())
        };
        let title = item
            .name
            .as_deref()
            .or(item.description.as_deref())
            .or(code(ItemIdRole::Supplier))
            .or(code(ItemIdRole::Buyer))
            .or(item.ids.first().map(|id| id.value.as_str()))
            .unwrap_or("-");
        let mut details = Vec::new();
        if let (Some(_), Some(description)) = (&item.name, &item.description) {
            details.push(one_line(description));
        }
        if !item.properties.is_empty() {
            let specs: Vec<String> = item
                .properties
                .iter()
                .map(|p| match &p.unit {
                    Some(unit) => format!("{}: {} {}", p.name, p.value, unit_name(unit, language)),
                    None => format!("{}: {}", p.name, p.value),
                })
                .collect();
            details.push(format!("{}: {}", l.specs, one_line(&specs.join(" · "))));
        }
        if !item.documents.is_empty() {
            details.push(format!(
                "{}: {}",
                l.documents,
                documents_line(&item.documents)
            ));
        }
        if let Some(delivery) = &line.delivery {
            for (label, value) in delivery_dates(l, l.line_requested, delivery, language) {
                details.push(format!("{label}: {value}"));
            }
            if let Some(place) = delivery.location.as_ref().map(location_line) {
                details.push(format!("{}: {place}", l.delivery_address));
            }
        }
        for schedule in &line.schedule {
            let when = schedule
                .requested_date
                .or(schedule.latest)
                .or(schedule.earliest)
                .map(|d| long_date(d, language))
                .unwrap_or_default();
            details.push(format!(
                "{}: {} {} {when}",
                l.line_requested,
                number(schedule.quantity, language),
                unit_name(&line.unit, language)
            ));
        }
        for note in &line.notes {
            details.push(format!("{}: {}", l.line_note, one_line(&note.text)));
        }
        for ac in &line.allowances_charges {
            let (label, value) = allowance_charge_line(l, ac, money_of, language);
            details.push(format!("{label}: {value}"));
        }
        let price = line.price.as_ref().map(|price| {
            let amount = money_of(price.amount);
            if price.base_quantity == Decimal::ONE && price.base_unit.is_none() {
                amount
            } else {
                let unit = price.base_unit.as_deref().unwrap_or(&line.unit);
                format!(
                    "{amount} / {} {}",
                    number(price.base_quantity, language),
                    unit_name(unit, language)
                )
            }
        });
        Self {
            number: line.line_number.clone(),
            quantity: quantity(line, language),
            title: one_line(title),
            codes: codes(l, item),
            price,
            total: line.line_total.map(money_of),
            details,
        }
    }

    /// The first line of the item in text: number, quantity, title, codes, price.
    pub(super) fn headline(&self) -> String {
        let mut s = format!("{}. {} — {}", self.number, self.quantity, self.title);
        if let Some(codes) = &self.codes {
            let _ = write!(s, " ({codes})");
        }
        if let Some(price) = &self.price {
            let _ = write!(s, " @ {price}");
        }
        if let Some(total) = &self.total {
            let _ = write!(s, " = {total}");
        }
        s
    }

    /// The item in text: the headline, then each detail indented below it.
    fn text(&self) -> String {
        let mut s = self.headline();
        for detail in &self.details {
            let _ = write!(s, "\n   {detail}");
        }
        s
    }
}

/// `400 buah`; a unit outside Rec 20 is shown as the buyer wrote it.
fn quantity(line: &OrderLine, language: Language) -> String {
    let unit = match (&line.unit_original, line.unit.as_str()) {
        (Some(original), "ZZ") => original.code.as_str(),
        _ => unit_name(&line.unit, language),
    };
    format!("{} {unit}", number(line.quantity, language))
}

/// The item's codes a craftsman looks up: the buyer's, their own, the standard
/// ones (GTIN …) and the maker's.
fn codes(l: &Labels, item: &Item) -> Option<String> {
    let parts: Vec<String> = item
        .ids
        .iter()
        .map(|id| {
            let label = match id.role {
                ItemIdRole::Buyer => l.buyer_code,
                ItemIdRole::Supplier => l.your_code,
                ItemIdRole::Manufacturer => l.maker_code,
                ItemIdRole::Standard | ItemIdRole::Other => {
                    id.scheme.as_deref().unwrap_or(l.other_code)
                }
            };
            one_line(&format!("{label} {}", id.value))
        })
        .collect();
    (!parts.is_empty()).then(|| parts.join(", "))
}

/// The delivery dates as facts: one date (labelled `date_label`), or a window, and
/// the ship dates.
fn delivery_dates(
    l: &Labels,
    date_label: &'static str,
    delivery: &Delivery,
    language: Language,
) -> Vec<(&'static str, String)> {
    let date = |d| long_date(d, language);
    let mut facts = Vec::new();
    if let Some(d) = delivery.requested_date {
        facts.push((date_label, date(d)));
    }
    match (delivery.earliest, delivery.latest) {
        (Some(from), Some(to)) => {
            facts.push((l.deliver_between, format!("{} – {}", date(from), date(to))))
        }
        (None, Some(to)) => facts.push((l.deliver_by, date(to))),
        (Some(from), None) => facts.push((l.deliver_from, date(from))),
        (None, None) => {}
    }
    if let Some(d) = delivery.ship_not_before {
        facts.push((l.ship_not_before, date(d)));
    }
    if let Some(d) = delivery.ship_no_later {
        facts.push((l.ship_no_later, date(d)));
    }
    facts
}

/// A contact as `name, phone, e-mail`; `None` when it says nothing.
fn contact_line(contact: &Contact) -> Option<String> {
    let parts: Vec<&str> = [&contact.name, &contact.phone, &contact.email]
        .into_iter()
        .flatten()
        .map(String::as_str)
        .collect();
    (!parts.is_empty()).then(|| one_line(&parts.join(", ")))
}

/// A place: its name, its address and who to give it to.
fn location_line(location: &Location) -> String {
    let mut parts: Vec<String> = Vec::new();
    if let Some(name) = &location.name {
        parts.push(one_line(name));
    }
    if let Some(address) = &location.address {
        let line = address_line(address);
        if !line.is_empty() {
            parts.push(line);
        }
        if !address.attention.is_empty() {
            parts.push(format!("u.p. {}", one_line(&address.attention.join(", "))));
        }
    }
    if parts.is_empty() {
        parts.extend(
            location
                .ids
                .iter()
                .map(|id| format!("{} {}", id.scheme, id.value)),
        );
    }
    parts.join(", ")
}

/// `FCA Purbalingga (Incoterms 2020)`, then any text.
fn terms_line(terms: &DeliveryTerms) -> Option<String> {
    let mut s = [terms.incoterm.as_deref(), terms.place.as_deref()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    if let Some(version) = &terms.incoterms_version {
        let _ = write!(s, " (Incoterms {version})");
    }
    for extra in [&terms.text, &terms.transport_payment]
        .into_iter()
        .flatten()
    {
        if !s.is_empty() {
            s.push_str("; ");
        }
        s.push_str(extra);
    }
    let s = one_line(&s);
    (!s.is_empty()).then_some(s)
}

/// The terms in words: the buyer's text, else `30 hari` and the discount.
fn payment_line(l: &Labels, terms: &PaymentTerms) -> Option<String> {
    let mut parts = Vec::new();
    if let Some(text) = &terms.text {
        parts.push(one_line(text));
    }
    if let Some(days) = terms.net_days {
        parts.push(l.net_days.replace("{n}", &days.to_string()));
    }
    if let Some(percent) = terms.discount_percent {
        let within = terms
            .discount_days
            .map(|d| format!(" ({})", l.net_days.replace("{n}", &d.to_string())))
            .unwrap_or_default();
        parts.push(format!("{} {percent}%{within}", l.discount));
    }
    (!parts.is_empty()).then(|| parts.join(", "))
}

/// `contract K-2026-01`, with the raw qualifier for the ones without a name.
fn reference_line(reference: &Reference) -> String {
    let kind = match (reference.kind, &reference.qualifier) {
        (ReferenceType::Other, Some(qualifier)) => qualifier.clone(),
        (kind, _) => serde_json::to_value(kind)
            .ok()
            .and_then(|v| v.as_str().map(|s| s.replace('_', " ")))
            .unwrap_or_default(),
    };
    one_line(&format!("{kind} {}", reference.value))
}

/// `D-1234 rev. B (knalpot.pdf) (https://…)`: what a craftsman needs to find the
/// drawing. Shown as text everywhere: the gateway never fetches a buyer's link,
/// and the inbox page loads nothing from elsewhere.
fn documents_line(documents: &[Document]) -> String {
    documents
        .iter()
        .map(|d| {
            let mut s = [d.id.as_deref(), d.description.as_deref()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" ");
            if let Some(revision) = &d.revision {
                let _ = write!(s, " rev. {revision}");
            }
            for extra in [&d.filename, &d.uri].into_iter().flatten() {
                if s.is_empty() {
                    s.push_str(extra);
                } else {
                    let _ = write!(s, " ({extra})");
                }
            }
            one_line(&s)
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// `Potongan: 5% (diskon volume)` or `Biaya tambahan: IDR 50.000,00 (ongkos kirim)`.
fn allowance_charge_line(
    l: &Labels,
    ac: &AllowanceCharge,
    money_of: &dyn Fn(Decimal) -> String,
    language: Language,
) -> (&'static str, String) {
    let label = match ac.kind {
        AllowanceChargeKind::Allowance => l.allowance,
        AllowanceChargeKind::Charge => l.charge,
    };
    let mut parts = Vec::new();
    if let Some(amount) = ac.amount {
        parts.push(money_of(amount));
    }
    if let Some(percent) = ac.percent {
        parts.push(format!("{}%", number(percent, language)));
    }
    let mut s = parts.join(", ");
    if let Some(reason) = ac.reason.as_deref().or(ac.reason_code.as_deref()) {
        let _ = write!(s, " ({})", one_line(reason));
    }
    (label, s.trim().to_owned())
}

/// `Jl. Raya Bogor 12, Blok B, 13750 Jakarta Timur, DKI Jakarta, ID`.
fn address_line(a: &Address) -> String {
    let city = [&a.postal_code, &a.city]
        .into_iter()
        .flatten()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .join(" ");
    let street = match (&a.street, &a.building_number) {
        (Some(street), Some(number)) => Some(format!("{street} {number}")),
        (street, _) => street.clone(),
    };
    let parts: Vec<String> = a
        .lines
        .iter()
        .cloned()
        .chain(
            [
                street,
                a.additional_street.clone(),
                Some(city).filter(|c| !c.is_empty()),
                a.region.clone(),
                a.country.clone(),
            ]
            .into_iter()
            .flatten(),
        )
        .map(|p| one_line(&p))
        .filter(|p| !p.is_empty())
        .collect();
    parts.join(", ")
}

/// Runs of whitespace and control characters become one space, so a value can sit
/// on one line of text (or in a header).
pub(crate) fn one_line(value: &str) -> String {
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
