//! The pages: pure functions of what they show, tested below.

use std::collections::HashMap;
use std::fmt::Write as _;

use jembatan_schemas::OrderResponse;

use super::REFERRER_POLICY;
use super::answer::{answer_section, answer_words};
use crate::delivery::channels::{Language, Outgoing};
use crate::delivery::render::{self, escape, long_date, money};
use crate::store::{Craftsman, OrderRecord};

/// The words of the pages in one language. The order itself is worded by
/// [`render`].
pub(super) struct Words {
    pub(super) inbox: &'static str,
    pub(super) login_intro: &'static str,
    pub(super) token: &'static str,
    pub(super) log_in: &'static str,
    pub(super) wrong_token: &'static str,
    pub(super) session_ended: &'static str,
    pub(super) foreign_origin: &'static str,
    pub(super) long_token: &'static str,
    pub(super) unreadable_form: &'static str,
    pub(super) log_out: &'static str,
    pub(super) no_orders: &'static str,
    pub(super) no_more_orders: &'static str,
    pub(super) newest: &'static str,
    pub(super) next_page: &'static str,
    pub(super) order_date: &'static str,
    pub(super) requested_date: &'static str,
    pub(super) total: &'static str,
    pub(super) back: &'static str,
    pub(super) files: &'static str,
    pub(super) not_found_title: &'static str,
    pub(super) not_found: &'static str,
    pub(super) failed_title: &'static str,
    pub(super) failed: &'static str,
}

const INDONESIAN: Words = Words {
    inbox: "Kotak masuk",
    login_intro: "Masukkan token kotak masuk yang Anda terima dari pengelola jembatan untuk melihat \
                  pesanan Anda. Jangan berikan token ini kepada orang lain.",
    token: "Token",
    log_in: "Masuk",
    wrong_token: "Token tidak dikenal. Periksa lagi, lalu coba sekali lagi.",
    session_ended: "Sesi Anda sudah berakhir. Silakan masuk lagi dengan token Anda.",
    foreign_origin: "Formulir ini dikirim dari situs lain. Buka kotak masuk di sini, lalu coba lagi.",
    long_token: "Token terlalu panjang. Periksa lagi, lalu coba sekali lagi.",
    unreadable_form: "Formulir tidak terbaca. Silakan coba lagi.",
    log_out: "Keluar",
    no_orders: "Belum ada pesanan.",
    no_more_orders: "Tidak ada pesanan lagi.",
    newest: "← Pesanan terbaru",
    next_page: "Halaman berikutnya →",
    order_date: "Tanggal pesanan",
    requested_date: "Tanggal kirim diminta",
    total: "Total",
    back: "← Semua pesanan",
    files: "Berkas dari pembeli (gambar, spesifikasi)",
    not_found_title: "Pesanan tidak ditemukan",
    not_found: "Pesanan ini tidak ada di kotak masuk Anda.",
    failed_title: "Terjadi kesalahan",
    failed: "Halaman ini tidak bisa ditampilkan sekarang. Silakan coba lagi sebentar lagi.",
};

const ENGLISH: Words = Words {
    inbox: "Inbox",
    login_intro: "Enter the inbox token you received from your jembatan administrator to see \
                  your orders. Do not share this token with anyone.",
    token: "Token",
    log_in: "Log in",
    wrong_token: "That token is not known. Check it and try again.",
    session_ended: "Your session has ended. Please log in again with your token.",
    foreign_origin: "This form was sent from another site. Open the inbox here and try again.",
    long_token: "That token is too long. Check it and try again.",
    unreadable_form: "The form could not be read. Please try again.",
    log_out: "Log out",
    no_orders: "No orders yet.",
    no_more_orders: "No more orders.",
    newest: "← Newest orders",
    next_page: "Next page →",
    order_date: "Order date",
    requested_date: "Requested delivery date",
    total: "Total",
    back: "← All orders",
    files: "Files from the buyer (drawings, specifications)",
    not_found_title: "Order not found",
    not_found: "This order is not in your inbox.",
    failed_title: "Something went wrong",
    failed: "This page cannot be shown right now. Please try again in a moment.",
};

pub(super) fn words(language: Language) -> &'static Words {
    match language {
        Language::Indonesian => &INDONESIAN,
        Language::English => &ENGLISH,
    }
}

/// "2 baris", "1 line", "2 lines".
fn line_count(language: Language, n: usize) -> String {
    match (language, n) {
        (Language::Indonesian, n) => format!("{n} baris"),
        (Language::English, 1) => "1 line".to_owned(),
        (Language::English, n) => format!("{n} lines"),
    }
}

const STYLE: &str = "\
body{margin:0;background:#f4f4f4;color:#222;font:16px/1.45 Arial,Helvetica,sans-serif}\
header{background:#1f4e79;color:#fff;padding:10px 12px;display:flex;align-items:center;justify-content:space-between;gap:8px}\
header h1{font-size:18px;margin:0}\
header form{margin:0}\
header button{background:none;color:#fff;border:1px solid #fff;border-radius:4px;padding:6px 10px;font-size:14px}\
main{max-width:640px;margin:0 auto;padding:12px}\
a{color:#1f4e79}\
.card{display:block;background:#fff;border:1px solid #e2e2e2;border-radius:6px;padding:12px;margin:0 0 10px;color:inherit;text-decoration:none}\
.card strong{font-size:17px}\
.muted{color:#666;font-size:14px}\
.error{background:#fdecea;color:#8a1c1c;padding:10px;border-radius:6px}\
label{display:block;margin:12px 0 4px;font-weight:bold}\
input{box-sizing:border-box;width:100%;font-size:16px;padding:10px;border:1px solid #aaa;border-radius:4px}\
.primary{margin-top:12px;width:100%;font-size:16px;padding:12px;background:#1f4e79;color:#fff;border:0;border-radius:4px}\
.pager{display:flex;justify-content:space-between;gap:8px;margin:16px 0}\
.files li{margin:6px 0;overflow-wrap:anywhere}\
.answer{background:#fff;border:1px solid #e2e2e2;border-radius:6px;padding:12px;margin:16px 0}\
.answer h2{font-size:18px;margin:0 0 8px}\
.act{margin-top:12px;border:1px solid #1f4e79;border-radius:4px;background:#fff}\
.act summary{padding:12px;color:#1f4e79;font-weight:bold}\
.act form{padding:0 12px 12px}\
fieldset{border:1px solid #e2e2e2;border-radius:4px;margin:12px 0 0;padding:8px;min-width:0}\
legend{font-weight:bold;overflow-wrap:anywhere}\
textarea{box-sizing:border-box;width:100%;font:inherit;padding:10px;border:1px solid #aaa;border-radius:4px}\
.danger{margin-top:12px;width:100%;font-size:16px;padding:12px;background:#8a1c1c;color:#fff;border:0;border-radius:4px}\
.notice{background:#e8f3ea;color:#1d5c2a;padding:10px;border-radius:6px}\
.status.rejected strong{color:#8a1c1c}\
.said{margin:4px 0 8px;padding-left:20px;overflow-wrap:anywhere}\
.jump{display:block;margin:0 0 8px}";

/// A whole page: `title`, a header with the craftsman's name and a logout button
/// when someone is logged in, and `main` (HTML, already escaped).
pub(super) fn document(
    language: Language,
    title: &str,
    craftsman_name: Option<&str>,
    main: &str,
) -> String {
    let w = words(language);
    let mut s = String::new();
    let _ = write!(
        s,
        "<!DOCTYPE html>\n<html lang=\"{}\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"referrer\" content=\"{REFERRER_POLICY}\">\n\
         <title>{} · jembatan</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<header>\n",
        language.tag(),
        escape(title)
    );
    match craftsman_name {
        Some(name) => {
            let _ = write!(
                s,
                "<h1>{} · {}</h1>\n<form method=\"post\" action=\"/inbox/logout\">\
                 <button type=\"submit\">{}</button></form>\n",
                escape(w.inbox),
                escape(name),
                escape(w.log_out)
            );
        }
        None => {
            let _ = writeln!(s, "<h1>jembatan · {}</h1>", escape(w.inbox));
        }
    }
    let _ = write!(s, "</header>\n<main>\n{main}\n</main>\n</body>\n</html>\n");
    s
}

/// The login form, with `error` above it when the last try failed. The token is
/// never written back into the form.
pub(super) fn login_page(language: Language, error: Option<&str>) -> String {
    let w = words(language);
    let mut main = String::new();
    if let Some(error) = error {
        let _ = writeln!(
            main,
            "<p class=\"error\" role=\"alert\">{}</p>",
            escape(error)
        );
    }
    let _ = write!(
        main,
        "<p>{}</p>\n<form method=\"post\" action=\"/inbox/login\">\n\
         <label for=\"token\">{}</label>\n\
         <input id=\"token\" name=\"token\" type=\"password\" required \
         autocomplete=\"current-password\" autocapitalize=\"none\" spellcheck=\"false\">\n\
         <button class=\"primary\" type=\"submit\">{}</button>\n</form>",
        escape(w.login_intro),
        escape(w.token),
        escape(w.log_in)
    );
    document(language, w.inbox, None, &main)
}

/// One page of the inbox: a card per order linking to it, then the pager.
pub(super) fn list_page(
    craftsman: &Craftsman,
    orders: &[OrderRecord],
    buyers: &HashMap<String, String>,
    next_cursor: Option<&str>,
    first_page: bool,
) -> String {
    let language = craftsman.language;
    let w = words(language);
    let mut main = String::new();
    if orders.is_empty() {
        let empty = if first_page {
            w.no_orders
        } else {
            w.no_more_orders
        };
        let _ = writeln!(main, "<p>{}</p>", escape(empty));
    }
    for record in orders {
        let buyer = buyers
            .get(&record.buyer_id)
            .map_or(record.buyer_id.as_str(), String::as_str);
        main.push_str(&order_card(language, record, buyer));
    }
    if !first_page || next_cursor.is_some() {
        main.push_str("<nav class=\"pager\">");
        if !first_page {
            let _ = write!(main, "<a href=\"/inbox\">{}</a>", escape(w.newest));
        } else {
            main.push_str("<span></span>");
        }
        if let Some(cursor) = next_cursor {
            let _ = write!(
                main,
                "<a href=\"/inbox?after={}\">{}</a>",
                escape(&url_component(cursor)),
                escape(w.next_page)
            );
        }
        main.push_str("</nav>");
    }
    document(language, w.inbox, Some(&craftsman.name), &main)
}

/// One order in the list: number, buyer (by its registered name), dates, lines and
/// total if the buyer sent one (the payable amount, or the lines' sum when that is
/// all there is).
fn order_card(language: Language, record: &OrderRecord, buyer_name: &str) -> String {
    let w = words(language);
    let order = &record.order;
    let mut dates = format!(
        "{}: {}",
        escape(w.order_date),
        escape(&long_date(order.issue_date, language))
    );
    if let Some(date) = order.delivery.as_ref().and_then(|d| d.requested_date) {
        let _ = write!(
            dates,
            " · {}: {}",
            escape(w.requested_date),
            escape(&long_date(date, language))
        );
    }
    let mut size = escape(&line_count(language, order.lines.len()));
    let total = order
        .totals
        .as_ref()
        .and_then(|t| t.payable.or(t.line_extension));
    if let Some(total) = total {
        let _ = write!(
            size,
            " · {}: {}",
            escape(w.total),
            escape(&money(total, &order.currency, language))
        );
    }
    format!(
        "<a class=\"card\" href=\"/inbox/{}\"><strong>{}</strong><br>\n{}<br>\n\
         <span class=\"muted\">{dates}</span><br>\n<span class=\"muted\">{size}</span></a>\n",
        escape(&url_component(&record.id)),
        escape(&record.buyer_order_number),
        escape(buyer_name)
    )
}

/// What the order page says above the order: that the answer was sent, or why
/// it was not.
pub(super) enum Notice<'a> {
    Saved,
    Refused(&'a str),
}

/// One order in full, as the e-mail shows it, between links back to the list,
/// with the craftsman's answer (the `history` of their responses, oldest first)
/// and the forms to give one.
pub(super) fn detail_page(
    craftsman: &Craftsman,
    record: &OrderRecord,
    buyer_name: &str,
    history: &[OrderResponse],
    notice: Option<Notice<'_>>,
) -> String {
    let language = craftsman.language;
    let w = words(language);
    let aw = answer_words(language);
    let out = Outgoing {
        // Not a delivery: the HTML rendering reads neither of these.
        delivery_id: "",
        attempt: 0,
        order: record,
        buyer_name,
        craftsman_name: &craftsman.name,
        language,
        delivered_before: &[],
        response: None,
        rendered: None,
        reminder: false,
    };
    let order = render::html_body(&out);
    let back = format!("<p><a href=\"/inbox\">{}</a></p>", escape(w.back));
    let files = files_list(language, record);
    let notice = match notice {
        None => String::new(),
        Some(Notice::Saved) => format!(
            "<p class=\"notice\" role=\"status\">{}</p>\n",
            escape(aw.saved)
        ),
        Some(Notice::Refused(why)) => {
            format!("<p class=\"error\" role=\"alert\">{}</p>\n", escape(why))
        }
    };
    let jump = format!(
        "<a class=\"jump\" href=\"#answer\">{}</a>\n",
        escape(aw.jump)
    );
    let action = format!("/inbox/{}/response", url_component(&record.id));
    let answer = answer_section(language, record, history, &action);
    document(
        language,
        &record.buyer_order_number,
        Some(&craftsman.name),
        &format!("{back}\n{notice}{jump}{order}{files}{answer}{back}"),
    )
}

/// The files the buyer embedded in the order, each a download
/// (`/inbox/{order}/files/{n}`, `n` its place in [`render::embedded_files`]); nothing
/// when there are none.
fn files_list(language: Language, record: &OrderRecord) -> String {
    let files = render::embedded_files(&record.order);
    if files.is_empty() {
        return String::new();
    }
    let w = words(language);
    let mut list = format!("<h2>{}</h2>\n<ul class=\"files\">\n", escape(w.files));
    for (n, file) in files.iter().enumerate() {
        let _ = writeln!(
            list,
            "<li><a href=\"/inbox/{}/files/{n}\" download>{}</a> <span class=\"muted\">({}, {})</span></li>",
            escape(&url_component(&record.id)),
            escape(&file.name),
            escape(&file.media_type),
            escape(&file_size(file.bytes.len(), language)),
        );
    }
    list.push_str("</ul>\n");
    list
}

/// `12 KB`, `1,5 MB` (a comma in Indonesian): what a person on a metered phone
/// wants to know before a download.
fn file_size(bytes: usize, language: Language) -> String {
    const KB: usize = 1024;
    if bytes < KB {
        return format!("{bytes} B");
    }
    if bytes < KB * KB {
        return format!("{} KB", bytes.div_ceil(KB));
    }
    let tenths = (bytes * 10).div_ceil(KB * KB);
    let separator = match language {
        Language::Indonesian => ',',
        Language::English => '.',
    };
    format!("{}{separator}{} MB", tenths / 10, tenths % 10)
}

pub(super) fn not_found_page(craftsman: &Craftsman) -> String {
    let language = craftsman.language;
    let w = words(language);
    document(
        language,
        w.not_found_title,
        Some(&craftsman.name),
        &format!(
            "<h2>{}</h2>\n<p>{}</p>\n<p><a href=\"/inbox\">{}</a></p>",
            escape(w.not_found_title),
            escape(w.not_found),
            escape(w.back)
        ),
    )
}

/// Percent-encodes a URL path segment or query value: everything but RFC 3986's
/// unreserved characters. Ids and cursors are plain today; this keeps a link a
/// link if they ever are not.
pub(super) fn url_component(value: &str) -> String {
    let mut s = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            s.push(char::from(b));
        } else {
            let _ = write!(s, "%{b:02X}");
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;
    use crate::delivery::channels::testing::sample_record;

    fn craftsman(language: Language) -> Craftsman {
        Craftsman {
            id: "crf_budi".into(),
            name: "Pak Budi".into(),
            language,
            channels: Vec::new(),
            created_at: Utc::now(),
        }
    }

    /// Nothing on a page may load anything or run anything.
    fn assert_self_contained(page: &str) {
        for external in [
            "<script", "<link", "<img", "<iframe", "src=", "url(", "http:", "https:",
        ] {
            assert!(!page.contains(external), "{external} in:\n{page}");
        }
        assert!(
            page.contains(
                "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            )
        );
        assert_eq!(page.matches("<html").count(), 1);
        assert_eq!(page.matches("</body>").count(), 1);
    }

    fn registered(buyer_id: &str, name: &str) -> HashMap<String, String> {
        HashMap::from([(buyer_id.to_owned(), name.to_owned())])
    }

    #[test]
    fn the_list_shows_each_order_in_the_craftsmans_language() {
        let record = sample_record();
        // The buyer as registered, not as its document names itself.
        let buyers = registered(&record.buyer_id, "CV Pembeli Terdaftar");
        let orders = [record];
        let page = list_page(
            &craftsman(Language::Indonesian),
            &orders,
            &buyers,
            Some("ord_0001"),
            true,
        );
        for expected in [
            "<html lang=\"id\">",
            "Kotak masuk · Pak Budi",
            "<a class=\"card\" href=\"/inbox/ord_0001\">",
            "<strong>PO-2026/0042</strong>",
            "CV Pembeli Terdaftar",
            "Tanggal pesanan: 20 November 2026",
            "Tanggal kirim diminta: 5 Desember 2026",
            "2 baris",
            "Total: IDR 2.164.500,00",
            "<a href=\"/inbox?after=ord_0001\">Halaman berikutnya →</a>",
            "action=\"/inbox/logout\"",
        ] {
            assert!(page.contains(expected), "missing {expected:?} in:\n{page}");
        }
        // The document's own buyer name is not who the page says sent it.
        assert!(!page.contains("PT Mitra Otoparts"), "{page}");
        // The first page has no link back to itself.
        assert!(!page.contains("Pesanan terbaru"));
        assert_self_contained(&page);

        let page = list_page(&craftsman(Language::English), &orders, &buyers, None, false);
        for expected in [
            "<html lang=\"en\">",
            "Inbox · Pak Budi",
            "Order date: 20 November 2026",
            "Requested delivery date: 5 December 2026",
            "2 lines",
            "Total: IDR 2,164,500.00",
            "<a href=\"/inbox\">← Newest orders</a>",
        ] {
            assert!(page.contains(expected), "missing {expected:?} in:\n{page}");
        }
        assert!(!page.contains("after="));
        assert_self_contained(&page);
    }

    #[test]
    fn the_list_says_when_there_is_nothing_and_totals_are_optional() {
        let none = HashMap::new();
        let page = list_page(&craftsman(Language::Indonesian), &[], &none, None, true);
        assert!(page.contains("Belum ada pesanan."));
        assert!(!page.contains("class=\"pager\""));
        let page = list_page(&craftsman(Language::English), &[], &none, None, false);
        assert!(page.contains("No more orders."));

        let mut record = sample_record();
        record.order.totals = None;
        record.order.delivery = None;
        record.order.lines.truncate(1);
        let card = order_card(Language::English, &record, "PT Mitra Otoparts");
        assert!(card.contains("1 line"), "{card}");
        assert!(!card.contains("Total"), "{card}");
        assert!(!card.contains("Requested"), "{card}");
    }

    #[test]
    fn every_value_a_buyer_wrote_is_escaped() {
        let mut record = sample_record();
        record.id = "ord_\"><script>".into();
        record.buyer_order_number = "<b>PO</b> & 'co'".into();
        record.order.buyer.as_mut().unwrap().name = Some("<img src=x onerror=alert(1)>".into());
        record.order.lines[0].item.name = Some("<script>alert('x')</script>".into());
        let mut budi = craftsman(Language::Indonesian);
        budi.name = "Budi <i>".into();

        let orders = [record.clone()];
        let buyers = registered(&record.buyer_id, "<img src=x onerror=alert(2)>");
        let page = list_page(&budi, &orders, &buyers, Some("a b&c"), true);
        assert!(
            page.contains("&lt;b&gt;PO&lt;/b&gt; &amp; &#39;co&#39;"),
            "{page}"
        );
        assert!(
            page.contains("&lt;img src=x onerror=alert(2)&gt;"),
            "{page}"
        );
        assert!(page.contains("Budi &lt;i&gt;"));
        assert!(
            page.contains("href=\"/inbox/ord_%22%3E%3Cscript%3E\""),
            "{page}"
        );
        assert!(page.contains("href=\"/inbox?after=a%20b%26c\""), "{page}");
        assert!(!page.contains("<script") && !page.contains("<img"));

        let page = detail_page(&budi, &record, "<img src=x onerror=alert(2)>", &[], None);
        assert!(
            !page.contains("<script") && !page.contains("<img"),
            "{page}"
        );
        assert!(page.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"));
        assert!(
            page.contains("<title>&lt;b&gt;PO&lt;/b&gt; &amp; &#39;co&#39; · jembatan</title>")
        );
    }

    #[test]
    fn an_order_is_shown_whole_in_both_languages() {
        let record = sample_record();
        let page = detail_page(
            &craftsman(Language::Indonesian),
            &record,
            "PT Mitra Otoparts",
            &[],
            None,
        );
        // The e-mail's body, not its document: `assert_self_contained` below finds
        // one `<html` and one `</body>`.
        for expected in [
            "<html lang=\"id\">",
            "<title>PO-2026/0042 · jembatan</title>",
            "<a href=\"/inbox\">← Semua pesanan</a>",
            "Kursi rotan",
            "kode pembeli KR-01",
            "10 buah",
            "IDR 185.000,00",
            "IDR 1.850.000,00",
            "2,5 kg",
            "Jl. Raya Bogor No. 12",
            "5 Desember 2026",
            "Mohon dikemas rapi",
            "IDR 2.164.500,00",
        ] {
            assert!(page.contains(expected), "missing {expected:?} in:\n{page}");
        }
        assert_self_contained(&page);

        let page = detail_page(
            &craftsman(Language::English),
            &record,
            "PT Mitra Otoparts",
            &[],
            Some(Notice::Saved),
        );
        assert!(
            page.contains("Your answer was sent to the buyer."),
            "{page}"
        );
        for expected in [
            "<html lang=\"en\">",
            "<a href=\"/inbox\">← All orders</a>",
            "10 pcs",
            "buyer code KR-01",
            "IDR 1,850,000.00",
            "5 December 2026",
            "Total payable",
        ] {
            assert!(page.contains(expected), "missing {expected:?} in:\n{page}");
        }
        assert_self_contained(&page);
    }

    #[test]
    fn the_login_form_posts_a_password_field_and_never_echoes_a_token() {
        let page = login_page(Language::Indonesian, None);
        assert!(page.contains("<form method=\"post\" action=\"/inbox/login\">"));
        assert!(page.contains("name=\"token\" type=\"password\""));
        assert!(page.contains("Masuk"));
        assert!(!page.contains("value="));
        assert!(!page.contains("class=\"error\""));
        assert!(!page.contains("/inbox/logout"));
        assert_self_contained(&page);

        let page = login_page(Language::English, Some(ENGLISH.wrong_token));
        assert!(page.contains("<p class=\"error\" role=\"alert\">That token is not known."));
        assert!(page.contains("Log in"));
        assert_self_contained(&page);

        let page = not_found_page(&craftsman(Language::English));
        assert!(page.contains("Order not found"));
        assert_self_contained(&page);
    }

    #[test]
    fn url_components_are_percent_encoded() {
        assert_eq!(url_component("ord_0193abc-x.y~"), "ord_0193abc-x.y~");
        assert_eq!(url_component("a b/c?d&e#f"), "a%20b%2Fc%3Fd%26e%23f");
        assert_eq!(url_component("é"), "%C3%A9");
    }
}
