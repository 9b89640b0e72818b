//! Answering an order from the inbox page (issue 10): the craftsman's answer so
//! far, and the three actions as forms that work without script, each reached with
//! a thumb on a 390 px phone: one big button to accept, and two folded forms
//! (`<details>`) to accept with changes or to reject with a reason. What they post
//! is read here into an [`Answer`], which `crate::responses` makes a response, as
//! it does for the API.

use std::fmt::Write as _;
use std::str::FromStr;

use chrono::NaiveDate;
use jembatan_schemas::order_response::LineChange;
use jembatan_schemas::{OrderResponse, ResponseStatus};
use rust_decimal::Decimal;

use crate::delivery::channels::Language;
use crate::delivery::render::{escape, long_date, money, number, unit_name};
use crate::responses::Answer;
use crate::store::OrderRecord;

/// The words of the answer section in one language.
pub(super) struct AnswerWords {
    pub(super) title: &'static str,
    pub(super) jump: &'static str,
    pub(super) none_yet: &'static str,
    pub(super) accepted: &'static str,
    pub(super) rejected: &'static str,
    pub(super) changed: &'static str,
    pub(super) final_note: &'static str,
    pub(super) accept: &'static str,
    pub(super) change: &'static str,
    pub(super) reject: &'static str,
    pub(super) promised: &'static str,
    pub(super) line_quantity: &'static str,
    pub(super) line_date: &'static str,
    pub(super) line_price: &'static str,
    pub(super) number_hint: &'static str,
    pub(super) note: &'static str,
    pub(super) reason: &'static str,
    pub(super) send_changes: &'static str,
    pub(super) send_rejection: &'static str,
    pub(super) saved: &'static str,
    pub(super) need_reason: &'static str,
    pub(super) need_change: &'static str,
    pub(super) bad_number: &'static str,
    pub(super) bad_date: &'static str,
    pub(super) already_rejected: &'static str,
    pub(super) raced: &'static str,
    pub(super) not_taken: &'static str,
}

const INDONESIAN: AnswerWords = AnswerWords {
    title: "Jawaban Anda",
    jump: "Jawab pesanan ↓",
    none_yet: "Anda belum menjawab pesanan ini.",
    accepted: "Diterima",
    rejected: "Ditolak",
    changed: "Diterima dengan perubahan",
    final_note: "Pesanan ini sudah Anda tolak. Penolakan tidak bisa diubah.",
    accept: "✓ Terima pesanan",
    change: "Terima dengan perubahan",
    reject: "Tolak pesanan",
    promised: "Tanggal kirim yang Anda janjikan",
    line_quantity: "Jumlah",
    line_date: "Tanggal kirim baris ini",
    line_price: "Harga",
    number_hint: "Angka saja, tanpa titik ribuan; koma atau titik untuk desimal. Kosongkan yang tidak berubah.",
    note: "Catatan untuk pembeli (boleh kosong)",
    reason: "Alasan menolak",
    send_changes: "Kirim perubahan",
    send_rejection: "Tolak pesanan ini",
    saved: "Jawaban Anda sudah dikirim ke pembeli.",
    need_reason: "Tulis alasan menolak.",
    need_change: "Isi tanggal kirim atau ubah setidaknya satu baris.",
    bad_number: "Angka tidak terbaca",
    bad_date: "Tanggal tidak terbaca",
    already_rejected: "Pesanan ini sudah Anda tolak; penolakan tidak bisa diubah.",
    raced: "Pesanan ini baru saja dijawab. Periksa jawabannya di bawah.",
    not_taken: "Jawaban ini tidak bisa diterima",
};

const ENGLISH: AnswerWords = AnswerWords {
    title: "Your answer",
    jump: "Answer this order ↓",
    none_yet: "You have not answered this order yet.",
    accepted: "Accepted",
    rejected: "Rejected",
    changed: "Accepted with changes",
    final_note: "You rejected this order. A rejection cannot be changed.",
    accept: "✓ Accept order",
    change: "Accept with changes",
    reject: "Reject order",
    promised: "Delivery date you promise",
    line_quantity: "Quantity",
    line_date: "Delivery date of this line",
    line_price: "Price",
    number_hint: "Digits only, no thousands separators; a comma or a point for decimals. Leave empty what does not change.",
    note: "Note for the buyer (optional)",
    reason: "Why you reject it",
    send_changes: "Send changes",
    send_rejection: "Reject this order",
    saved: "Your answer was sent to the buyer.",
    need_reason: "Write why you reject the order.",
    need_change: "Give a delivery date or change at least one line.",
    bad_number: "This number cannot be read",
    bad_date: "This date cannot be read",
    already_rejected: "You rejected this order; a rejection cannot be changed.",
    raced: "This order was just answered. See the answer below.",
    not_taken: "This answer cannot be taken",
};

pub(super) fn answer_words(language: Language) -> &'static AnswerWords {
    match language {
        Language::Indonesian => &INDONESIAN,
        Language::English => &ENGLISH,
    }
}

fn status_word(w: &AnswerWords, status: ResponseStatus) -> &'static str {
    match status {
        ResponseStatus::Accepted => w.accepted,
        ResponseStatus::Rejected => w.rejected,
        ResponseStatus::AcceptedWithChanges => w.changed,
    }
}

/// The section under the order: the answer so far, and the forms while the order
/// can still be answered. `action` is where the forms post.
pub(super) fn answer_section(
    language: Language,
    record: &OrderRecord,
    history: &[OrderResponse],
    action: &str,
) -> String {
    let w = answer_words(language);
    let mut s = format!(
        "<section class=\"answer\" id=\"answer\">\n<h2>{}</h2>\n",
        escape(w.title)
    );
    match history.last() {
        None => {
            let _ = writeln!(s, "<p>{}</p>", escape(w.none_yet));
        }
        Some(latest) => s.push_str(&latest_answer(language, record, latest)),
    }
    if history
        .last()
        .is_some_and(|r| r.status == ResponseStatus::Rejected)
    {
        let _ = writeln!(s, "<p class=\"muted\">{}</p>", escape(w.final_note));
        s.push_str("</section>\n");
        return s;
    }
    let action = escape(action);
    // Accept: one tap.
    let _ = writeln!(
        s,
        "<form id=\"accept\" method=\"post\" action=\"{action}\">\
         <input type=\"hidden\" name=\"status\" value=\"accepted\">\
         <button class=\"primary\" type=\"submit\">{}</button></form>",
        escape(w.accept)
    );
    // Accept with changes: a promised date, then one block per line.
    let _ = write!(
        s,
        "<details id=\"change\" class=\"act\"><summary>{}</summary>\n<form method=\"post\" action=\"{action}\">\
         <input type=\"hidden\" name=\"status\" value=\"accepted_with_changes\">\n\
         <label for=\"promised\">{}</label>\
         <input id=\"promised\" name=\"promised_delivery_date\" type=\"date\">\n\
         <p class=\"muted\">{}</p>\n",
        escape(w.change),
        escape(w.promised),
        escape(w.number_hint)
    );
    let order = &record.order;
    for (i, line) in order.lines.iter().enumerate() {
        let title = line
            .item
            .name
            .as_deref()
            .or(line.item.description.as_deref())
            .unwrap_or_default();
        let unit = unit_name(&line.unit, language);
        let _ = write!(
            s,
            "<fieldset><legend>{}. {}</legend>\n\
             <label for=\"q{i}\">{} ({})</label>\
             <input id=\"q{i}\" name=\"quantity_{i}\" inputmode=\"decimal\" autocomplete=\"off\" placeholder=\"{}\">\n\
             <label for=\"d{i}\">{}</label><input id=\"d{i}\" name=\"date_{i}\" type=\"date\">\n",
            escape(&line.line_number),
            escape(title),
            escape(w.line_quantity),
            escape(unit),
            escape(&line.quantity.normalize().to_string()),
            escape(w.line_date),
        );
        if let Some(price) = &line.price {
            let _ = writeln!(
                s,
                "<label for=\"p{i}\">{} ({})</label>\
                 <input id=\"p{i}\" name=\"price_{i}\" inputmode=\"decimal\" autocomplete=\"off\" placeholder=\"{}\">",
                escape(w.line_price),
                escape(&order.currency),
                escape(&price.amount.normalize().to_string()),
            );
        }
        s.push_str("</fieldset>\n");
    }
    let _ = write!(
        s,
        "<label for=\"note\">{}</label><textarea id=\"note\" name=\"reason\" maxlength=\"512\" rows=\"2\"></textarea>\n\
         <button class=\"primary\" type=\"submit\">{}</button></form></details>\n",
        escape(w.note),
        escape(w.send_changes)
    );
    // Reject: with a reason, asked for before anything is sent.
    let _ = write!(
        s,
        "<details id=\"reject\" class=\"act\"><summary>{}</summary>\n<form method=\"post\" action=\"{action}\">\
         <input type=\"hidden\" name=\"status\" value=\"rejected\">\n\
         <label for=\"why\">{}</label><textarea id=\"why\" name=\"reason\" required maxlength=\"512\" rows=\"3\"></textarea>\n\
         <button class=\"danger\" type=\"submit\">{}</button></form></details>\n",
        escape(w.reject),
        escape(w.reason),
        escape(w.send_rejection)
    );
    s.push_str("</section>\n");
    s
}

/// The latest answer in a sentence or a few: its status and when, and what it
/// said.
fn latest_answer(language: Language, record: &OrderRecord, latest: &OrderResponse) -> String {
    let w = answer_words(language);
    let mut s = format!(
        "<p class=\"status {}\"><strong>{}</strong> · {}</p>\n",
        latest.status.as_str(),
        escape(status_word(w, latest.status)),
        escape(&long_date(latest.issued_at.date_naive(), language))
    );
    let mut said = Vec::new();
    if let Some(date) = latest.promised_delivery_date {
        said.push(format!("{}: {}", w.promised, long_date(date, language)));
    }
    for change in &latest.lines {
        let line = record
            .order
            .lines
            .iter()
            .find(|l| l.line_number == change.line_number);
        let mut parts = Vec::new();
        if let Some(quantity) = change.quantity {
            let unit = line.map_or("", |l| unit_name(&l.unit, language));
            parts.push(format!(
                "{} {} {unit}",
                w.line_quantity,
                number(quantity, language)
            ));
        }
        if let Some(date) = change.delivery_date {
            parts.push(format!("{} {}", w.line_date, long_date(date, language)));
        }
        if let Some(price) = change.price {
            parts.push(format!(
                "{} {}",
                w.line_price,
                money(price, &record.order.currency, language)
            ));
        }
        said.push(format!("{}: {}", change.line_number, parts.join(", ")));
    }
    if let Some(reason) = &latest.reason {
        said.push(reason.clone());
    }
    if !said.is_empty() {
        s.push_str("<ul class=\"said\">\n");
        for item in said {
            let _ = writeln!(s, "<li>{}</li>", escape(&item));
        }
        s.push_str("</ul>\n");
    }
    s
}

/// A number as a person types it on a phone: digits with at most one `,` or `.`
/// as the decimal separator (no thousands separators, which would make `1.500`
/// ambiguous between the languages).
fn typed_decimal(text: &str) -> Option<Decimal> {
    let text = text.trim().replace(',', ".");
    let digits_and_one_point =
        text.chars().all(|c| c.is_ascii_digit() || c == '.') && text.matches('.').count() <= 1;
    if text.is_empty() || !digits_and_one_point || text == "." {
        return None;
    }
    Decimal::from_str(&text).ok()
}

/// Reads a posted answer form into an [`Answer`], or says in the craftsman's
/// language what to fix. The rules themselves are `crate::responses`'; this only
/// reads what was typed, and catches what a person gets wrong most.
pub(super) fn read_form(
    language: Language,
    record: &OrderRecord,
    fields: &[(String, String)],
) -> Result<Answer, String> {
    let w = answer_words(language);
    let field = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
    };
    let status = field("status")
        .and_then(|s| s.parse::<ResponseStatus>().ok())
        .ok_or_else(|| w.not_taken.to_owned())?;
    let reason = field("reason").map(str::to_owned);
    let date = |text: &str| {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| format!("{}: {text}", w.bad_date))
    };
    let mut answer = Answer {
        status,
        reason,
        promised_delivery_date: None,
        lines: Vec::new(),
    };
    match status {
        ResponseStatus::Accepted => {}
        ResponseStatus::Rejected => {
            if answer.reason.is_none() {
                return Err(w.need_reason.to_owned());
            }
        }
        ResponseStatus::AcceptedWithChanges => {
            answer.promised_delivery_date =
                field("promised_delivery_date").map(date).transpose()?;
            for (i, line) in record.order.lines.iter().enumerate() {
                let decimal = |name: String| {
                    field(&name)
                        .map(|text| {
                            typed_decimal(text).ok_or_else(|| format!("{}: {text}", w.bad_number))
                        })
                        .transpose()
                };
                let change = LineChange {
                    line_number: line.line_number.clone(),
                    quantity: decimal(format!("quantity_{i}"))?,
                    delivery_date: field(&format!("date_{i}")).map(date).transpose()?,
                    price: decimal(format!("price_{i}"))?,
                };
                if change.quantity.is_some()
                    || change.delivery_date.is_some()
                    || change.price.is_some()
                {
                    answer.lines.push(change);
                }
            }
            if answer.promised_delivery_date.is_none() && answer.lines.is_empty() {
                return Err(w.need_change.to_owned());
            }
        }
    }
    Ok(answer)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::delivery::channels::testing::sample_record;

    fn form(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn a_typed_number_takes_a_comma_or_a_point_and_nothing_else() {
        assert_eq!(typed_decimal("8"), Decimal::from_str("8").ok());
        assert_eq!(typed_decimal(" 1,5 "), Decimal::from_str("1.5").ok());
        assert_eq!(
            typed_decimal("190000.00"),
            Decimal::from_str("190000.00").ok()
        );
        for bad in ["", ".", "1.500.000", "1,5,0", "-2", "Rp 5", "1e3"] {
            assert_eq!(typed_decimal(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_forms_are_read_into_answers() {
        let record = sample_record();
        let answer = read_form(
            Language::Indonesian,
            &record,
            &form(&[("status", "accepted")]),
        )
        .unwrap();
        assert_eq!(answer, Answer::accept());
        let answer = read_form(
            Language::Indonesian,
            &record,
            &form(&[
                ("status", "accepted_with_changes"),
                ("promised_delivery_date", "2026-12-20"),
                ("quantity_0", "8"),
                ("date_0", ""),
                ("price_1", "12500,50"),
                ("reason", " "),
            ]),
        )
        .unwrap();
        assert_eq!(
            answer.promised_delivery_date,
            NaiveDate::from_ymd_opt(2026, 12, 20)
        );
        assert_eq!(answer.reason, None);
        assert_eq!(answer.lines.len(), 2);
        assert_eq!(
            answer.lines[0].line_number,
            record.order.lines[0].line_number
        );
        assert_eq!(answer.lines[0].quantity, Decimal::from_str("8").ok());
        assert_eq!(answer.lines[1].price, Decimal::from_str("12500.50").ok());
        assert_eq!(
            read_form(Language::English, &record, &form(&[("status", "rejected")])),
            Err(ENGLISH.need_reason.to_owned())
        );
        assert_eq!(
            read_form(
                Language::English,
                &record,
                &form(&[("status", "accepted_with_changes")])
            ),
            Err(ENGLISH.need_change.to_owned())
        );
        let bad = read_form(
            Language::Indonesian,
            &record,
            &form(&[
                ("status", "accepted_with_changes"),
                ("quantity_0", "1.500.000"),
            ]),
        )
        .unwrap_err();
        assert!(bad.starts_with("Angka tidak terbaca"), "{bad}");
    }

    #[test]
    fn the_section_offers_the_actions_until_the_order_is_rejected() {
        let record = sample_record();
        let page = answer_section(
            Language::Indonesian,
            &record,
            &[],
            "/inbox/ord_0001/response",
        );
        for expected in [
            "Anda belum menjawab pesanan ini.",
            "value=\"accepted\"",
            "value=\"accepted_with_changes\"",
            "value=\"rejected\"",
            "name=\"quantity_0\"",
            "name=\"quantity_1\"",
            "name=\"reason\" required",
            "action=\"/inbox/ord_0001/response\"",
        ] {
            assert!(page.contains(expected), "missing {expected:?} in\n{page}");
        }
        let rejected: OrderResponse = serde_json::from_value(serde_json::json!({
            "version": "1", "id": "rsp_1", "order_id": "ord_0001",
            "buyer_order_number": "PO-2026/0042", "sequence": 1,
            "issued_at": "2026-11-28T08:00:00Z", "status": "rejected",
            "reason": "<b>Mesin</b> rusak",
            "responder": {"craftsman_id": "crf_budi", "name": "Pak Budi"}, "via": "inbox"
        }))
        .unwrap();
        let page = answer_section(Language::English, &record, &[rejected], "/x");
        assert!(
            page.contains("<strong>Rejected</strong> · 28 November 2026"),
            "{page}"
        );
        assert!(page.contains("&lt;b&gt;Mesin&lt;/b&gt; rusak"), "{page}");
        assert!(!page.contains("<form"), "{page}");
    }
}
