//! The reminder that an order still has no answer (`crate::reminders`): a short
//! note in the craftsman's language that names the order and says how to answer
//! it, as plain text (e-mail, Telegram, WhatsApp) and as HTML (e-mail).

use std::fmt::Write as _;

use super::{escape, for_people, long_date, one_line};
use crate::delivery::channels::{Language, Outgoing};

/// The words of one language.
struct Words {
    /// `{n}`, `{buyer}`.
    subject: &'static str,
    /// `{name}`.
    greeting: &'static str,
    /// `{n}`, `{buyer}`, `{date}`.
    body: &'static str,
    /// `{path}`.
    how: &'static str,
    order_id: &'static str,
}

const INDONESIAN: Words = Words {
    subject: "Pengingat: pesanan {n} dari {buyer} belum dijawab",
    greeting: "Halo {name},",
    body: "pesanan {n} dari {buyer} (tanggal {date}) belum Anda jawab.",
    how: "Jawab di kotak masuk jembatan, halaman {path}: Terima pesanan, \
          Terima dengan perubahan, atau Tolak pesanan.",
    order_id: "ID pesanan",
};

const ENGLISH: Words = Words {
    subject: "Reminder: order {n} from {buyer} has no answer yet",
    greeting: "Hello {name},",
    body: "you have not answered order {n} from {buyer} (dated {date}) yet.",
    how: "Answer it in your jembatan inbox, page {path}: Accept order, \
          Accept with changes, or Reject order.",
    order_id: "Order ID",
};

fn words(language: Language) -> &'static Words {
    match language {
        Language::Indonesian => &INDONESIAN,
        Language::English => &ENGLISH,
    }
}

/// Where the craftsman answers the order: its page in the inbox, which signs them
/// in first if it must.
pub fn answer_page(order_id: &str) -> String {
    format!("/inbox/{order_id}")
}

/// The reminder's subject (and its chat message's first line), on one line.
pub fn reminder_subject(out: &Outgoing<'_>) -> String {
    let w = words(out.language);
    for_people(&one_line(
        &w.subject
            .replace("{n}", &out.order.buyer_order_number)
            .replace("{buyer}", out.buyer_name),
    ))
}

/// The parts of the note, each already fit for a person: subject, greeting, the
/// sentence naming the order, how to answer, the order id line.
fn parts(out: &Outgoing<'_>) -> [String; 5] {
    let w = words(out.language);
    let date = long_date(out.order.order.issue_date, out.language);
    [
        reminder_subject(out),
        for_people(&w.greeting.replace("{name}", &one_line(out.craftsman_name))),
        for_people(
            &w.body
                .replace("{n}", &one_line(&out.order.buyer_order_number))
                .replace("{buyer}", &one_line(out.buyer_name))
                .replace("{date}", &date),
        ),
        w.how.replace("{path}", &answer_page(&out.order.id)),
        format!("{}: {}", w.order_id, out.order.id),
    ]
}

/// The whole reminder as plain text: short enough for any chat message.
pub fn reminder_text(out: &Outgoing<'_>) -> String {
    let [subject, greeting, body, how, id] = parts(out);
    let mut s = String::new();
    let _ = writeln!(s, "{subject}");
    let _ = writeln!(s);
    let _ = writeln!(s, "{greeting}");
    let _ = writeln!(s, "{body}");
    let _ = writeln!(s, "{how}");
    let _ = writeln!(s);
    let _ = write!(s, "{id}");
    s
}

/// The reminder as an HTML document for the e-mail, every value escaped.
pub fn reminder_html(out: &Outgoing<'_>) -> String {
    let [subject, greeting, body, how, id] = parts(out).map(|part| escape(&part));
    format!(
        "<!DOCTYPE html>\n<html lang=\"{lang}\"><head><meta charset=\"utf-8\">\
         <title>{subject}</title></head>\n<body>\n<p>{greeting}<br>{body}</p>\n\
         <p>{how}</p>\n<p>{id}</p>\n</body></html>\n",
        lang = out.language.tag(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::delivery::channels::testing::{outgoing, sample_record};

    #[test]
    fn the_reminder_names_the_order_and_how_to_answer_in_both_languages() {
        let record = sample_record();
        let mut out = outgoing(&record, Language::Indonesian);
        out.reminder = true;
        let text = reminder_text(&out);
        assert!(
            text.starts_with(
                "Pengingat: pesanan PO-2026/0042 dari PT Mitra Otoparts belum dijawab\n"
            ),
            "{text}"
        );
        for needle in [
            "Halo Pak Budi,",
            "belum Anda jawab",
            "/inbox/ord_0001",
            "Terima pesanan",
            "Tolak pesanan",
            "ID pesanan: ord_0001",
        ] {
            assert!(text.contains(needle), "{needle}: {text}");
        }
        out.language = Language::English;
        let text = reminder_text(&out);
        for needle in [
            "Reminder: order PO-2026/0042 from PT Mitra Otoparts has no answer yet",
            "Hello Pak Budi,",
            "/inbox/ord_0001",
            "Accept order",
            "Reject order",
            "Order ID: ord_0001",
        ] {
            assert!(text.contains(needle), "{needle}: {text}");
        }
        // Short: a chat message, not the order.
        assert!(text.chars().count() < 500, "{}", text.chars().count());
    }

    #[test]
    fn buyer_text_is_escaped_and_kept_on_its_line() {
        let mut record = sample_record();
        record.buyer_order_number = "PO-1\n<script>\u{202E}".into();
        let out = Outgoing {
            buyer_name: "A & B <b>",
            ..outgoing(&record, Language::English)
        };
        let text = reminder_text(&out);
        assert!(!text.contains('\u{202E}'), "{text}");
        assert!(
            text.lines().next().unwrap().contains("PO-1 <script>"),
            "{text}"
        );
        let html = reminder_html(&out);
        assert!(html.contains("A &amp; B &lt;b&gt;"), "{html}");
        assert!(
            !html.contains("<script>") && !html.contains("<b>"),
            "{html}"
        );
        assert!(html.contains("<html lang=\"en\">"), "{html}");
    }
}
