//! The order as HTML, for the e-mail's HTML part and the inbox page.

use std::fmt::Write as _;

use super::{View, labels, subject};
use crate::delivery::channels::Outgoing;

/// The whole order as a small HTML page for the e-mail's HTML part: inline CSS
/// only, no external resources, every value escaped. Its body is [`html_body`].
pub fn html(out: &Outgoing<'_>) -> String {
    let lang = out.language.tag();
    format!(
        "<!DOCTYPE html>\n<html lang=\"{lang}\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n</head>\n\
         <body style=\"margin:0;padding:12px;background:#f4f4f4;font-family:Arial,Helvetica,sans-serif;font-size:16px;line-height:1.45;color:#222\">\n\
         {}</body>\n</html>\n",
        escape(&subject(out)),
        html_body(out)
    )
}

/// The whole order as an HTML fragment: what [`html`] puts in its `<body>`, for a
/// page that frames the order itself (the inbox page). Its CSS is inline, so it
/// looks the same wherever it is put; every value is escaped.
pub fn html_body(out: &Outgoing<'_>) -> String {
    let l = labels(out.language);
    let view = View::new(out);
    const CELL: &str =
        "padding:6px 8px;border-bottom:1px solid #e2e2e2;vertical-align:top;text-align:left";
    const NUM: &str = "padding:6px 8px;border-bottom:1px solid #e2e2e2;vertical-align:top;text-align:right;white-space:nowrap";
    const LABEL_RIGHT: &str =
        "padding:6px 8px;border-bottom:1px solid #e2e2e2;vertical-align:top;text-align:right";
    let mut s = String::from(
        // `overflow-wrap` so a long code or link breaks rather than widens the page.
        "<div style=\"max-width:640px;margin:0 auto;background:#fff;padding:16px;border-radius:6px;overflow-wrap:anywhere\">\n",
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
    // One block per line, not a table: five columns do not fit a phone, and
    // a block reads the same in every mail client.
    for item in &view.items {
        let _ = write!(
            s,
            "<div style=\"border-top:1px solid #e2e2e2;padding:8px 0\">\n\
             <div><strong>{}. {}</strong></div>\n",
            escape(&item.number),
            escape(&item.title)
        );
        for aside in item.codes.iter().chain(&item.details) {
            let _ = writeln!(
                s,
                "<div style=\"color:#666;font-size:14px\">{}</div>",
                escape(aside)
            );
        }
        let mut figures = vec![format!("{}: {}", l.quantity, item.quantity)];
        if let Some(price) = &item.price {
            figures.push(format!("{}: {price}", l.unit_price));
        }
        let mut line = escape(&figures.join(" · "));
        if let Some(total) = &item.total {
            let _ = write!(
                line,
                " · {}: <strong>{}</strong>",
                escape(l.line_total),
                escape(total)
            );
        }
        let _ = writeln!(s, "<div style=\"margin-top:4px\">{line}</div>\n</div>");
    }
    let _ = writeln!(
        s,
        "<div style=\"border-top:1px solid #e2e2e2;margin-bottom:16px\"></div>"
    );
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
    if !view.notes.is_empty() {
        let _ = writeln!(
            s,
            "<h2 style=\"font-size:18px;margin:0 0 8px\">{}</h2>\n<ul style=\"margin:0 0 16px;padding-left:20px\">",
            escape(l.notes)
        );
        for note in &view.notes {
            let _ = writeln!(s, "<li>{}</li>", escape(note));
        }
        let _ = writeln!(s, "</ul>");
    }
    if !view.others.is_empty() {
        // Collapsed: rarely needed, and long; no script, so it works in mail too.
        let _ = writeln!(
            s,
            "<details style=\"margin:0 0 16px\"><summary>{}</summary>\n<ul style=\"margin:8px 0 0;padding-left:20px;font-size:13px;color:#444;overflow-wrap:anywhere\">",
            escape(l.others)
        );
        for other in &view.others {
            let _ = writeln!(s, "<li>{}</li>", escape(other));
        }
        let _ = writeln!(s, "</ul></details>");
    }
    let _ = write!(
        s,
        "<p style=\"margin:0;color:#777;font-size:13px\">{}: {}</p>\n</div>\n",
        escape(l.order_id),
        escape(&out.order.id)
    );
    s
}

/// Escapes text for HTML element content and quoted attribute values, dropping
/// the characters no person should be shown (see `unfit_for_people`).
pub fn escape(value: &str) -> String {
    let mut s = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '&' => s.push_str("&amp;"),
            '<' => s.push_str("&lt;"),
            '>' => s.push_str("&gt;"),
            '"' => s.push_str("&quot;"),
            '\'' => s.push_str("&#39;"),
            c if super::unfit_for_people(c) => {}
            c => s.push(c),
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::delivery::channels::Language;
    use crate::delivery::channels::testing::{outgoing, sample_record};

    #[test]
    fn html_escapes_every_value_and_loads_nothing() {
        let mut record = sample_record();
        record.order.lines[0].item.name = Some("<script>alert('x')</script> & co".into());
        record.order.notes.push(jembatan_schemas::v2::Note {
            text: "\"quoted\" <b>".into(),
            subject: None,
        });
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
    fn html_is_the_body_in_a_document() {
        let record = sample_record();
        let out = outgoing(&record, Language::English);
        let (page, body) = (html(&out), html_body(&out));
        assert!(
            page.contains(&format!(">\n{body}</body>\n</html>\n")),
            "{page}"
        );
        assert!(
            body.starts_with("<div ") && body.ends_with("</div>\n"),
            "{body}"
        );
        for document in ["<html", "<head", "<title", "<body", "</body>"] {
            assert!(!body.contains(document), "{document} in the fragment");
        }
    }
}
