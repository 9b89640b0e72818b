//! The order as plain text: whole for an e-mail, or cut to fit a chat message.

use std::fmt::Write as _;

use super::{Labels, View, for_people, labels, one_line, subject};
use crate::delivery::channels::Outgoing;

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
        let _ = writeln!(s, "{}", item.text());
    }
    s.push_str(&totals(&view));
    for (label, entries) in [(l.notes, &view.notes), (l.others, &view.others)] {
        if !entries.is_empty() {
            let _ = writeln!(s);
            let _ = writeln!(s, "{label}:");
            for entry in entries {
                let _ = writeln!(s, "- {entry}");
            }
        }
    }
    let _ = writeln!(s);
    let _ = writeln!(s, "{}: {}", l.order_id, out.order.id);
    for_people(&s)
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
    let totals = totals(&view);
    let notes = if view.notes.is_empty() {
        String::new()
    } else {
        let joined: Vec<String> = view.notes.iter().map(|n| one_line(n)).collect();
        format!("\n{}: {}\n", l.notes, joined.join(" / "))
    };
    let id = format!("\n{}: {}", l.order_id, out.order.id);
    let items: Vec<String> = view
        .items
        .iter()
        .map(|item| format!("{}\n", item.text()))
        .collect();

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
    truncate(
        &for_people(&format!("{head}{body}{totals}{notes}{id}")),
        max_chars,
    )
}

/// What an approved WhatsApp template's body parameters can carry, each on one
/// line and at most `max_chars` long: Meta's template text may hold "no newlines,
/// tabs, or more than 4 consecutive spaces"
/// (developers.facebook.com/docs/whatsapp/message-templates/creation, "Step 1").
/// What the order does not say is `-`, since a parameter cannot be empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateValues {
    pub order_number: String,
    pub buyer: String,
    pub craftsman: String,
    /// `1. 10 buah — Kursi rotan; 2. …`: the lines' headlines.
    pub lines: String,
    /// The first delivery date the order gives (requested, by, between…).
    pub delivery_date: String,
    /// The last total the order gives (the grand total when there is one).
    pub total: String,
}

/// The [`TemplateValues`] of an order.
pub fn template_values(out: &Outgoing<'_>, max_chars: usize) -> TemplateValues {
    let view = View::new(out);
    let value = |text: &str| {
        let text = for_people(&one_line(text));
        if text.is_empty() {
            "-".to_owned()
        } else {
            truncate(&text, max_chars)
        }
    };
    let l = labels(out.language);
    let date_labels = [
        l.requested_date,
        l.deliver_between,
        l.deliver_by,
        l.deliver_from,
    ];
    let delivery_date = view
        .facts
        .iter()
        .find(|(label, _)| date_labels.contains(label))
        .map_or("", |(_, date)| date.as_str());
    let lines: Vec<String> = view.items.iter().map(|item| item.headline()).collect();
    TemplateValues {
        order_number: value(&out.order.buyer_order_number),
        buyer: value(out.buyer_name),
        craftsman: value(out.craftsman_name),
        lines: value(&lines.join("; ")),
        delivery_date: value(delivery_date),
        total: value(view.totals.last().map_or("", |(_, total)| total.as_str())),
    }
}

/// The totals, one a line after an empty one; nothing when the buyer sent none.
fn totals(view: &View) -> String {
    let mut s = String::new();
    if !view.totals.is_empty() {
        let _ = writeln!(s);
        for (label, value) in &view.totals {
            let _ = writeln!(s, "{label}: {value}");
        }
    }
    s
}

fn more_line(l: &Labels, n: usize) -> String {
    format!("{}\n", l.more_lines.replace("{n}", &n.to_string()))
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
    use crate::delivery::channels::Language;
    use crate::delivery::channels::testing::{outgoing, sample_record};

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
            "   Kursi teras anyaman tangan",
            "   Spesifikasi: Bahan: rotan manau · Tinggi: 90 cm",
            "   Gambar/dokumen: GB-KR-01 rev. B",
            "2. 2,5 kg — Rotan mentah @ IDR 40.000,00 = IDR 100.000,00",
            "   Kirim: 1 Desember 2026",
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
            "   Specs: Bahan: rotan manau · Tinggi: 90 cm",
            "   Drawings/documents: GB-KR-01 rev. B",
            "Total payable: IDR 2,164,500.00",
            "Order ID: ord_0001",
        ] {
            assert!(t.contains(expected), "missing {expected:?} in:\n{t}");
        }
    }

    #[test]
    fn a_document_buyer_other_than_the_registered_one_is_named_too() {
        let mut record = sample_record();
        let out = outgoing(&record, Language::Indonesian);
        assert!(!text(&out).contains("Nama pembeli di dokumen"));
        record.order.buyer.as_mut().unwrap().name = Some("PT Lain Sekali".into());
        record.order.warnings.push(jembatan_schemas::v2::Warning {
            code: crate::orders::BUYER_DIFFERS_FROM_REGISTRATION.into(),
            message: "the document names another buyer".into(),
            path: None,
            field: Some("/buyer/name".into()),
        });
        let t = text(&outgoing(&record, Language::Indonesian));
        assert!(t.contains("Pembeli: PT Mitra Otoparts\n"), "{t}");
        assert!(t.contains("Nama pembeli di dokumen: PT Lain Sekali"), "{t}");
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
        // A short order is shown whole: the item's name, its specs and its drawing
        // reach the chat as they reach the e-mail.
        let record = sample_record();
        let s = summary(&outgoing(&record, Language::Indonesian), 4096);
        assert!(!s.contains('…'));
        assert!(s.contains("2. 2,5 kg"));
        for expected in [
            "1. 10 buah — Kursi rotan",
            "   Spesifikasi: Bahan: rotan manau · Tinggi: 90 cm",
            "   Gambar/dokumen: GB-KR-01 rev. B",
        ] {
            assert!(s.contains(expected), "missing {expected:?} in:\n{s}");
        }
        // Even an absurd limit is respected.
        let s = summary(&outgoing(&record, Language::Indonesian), 40);
        assert!(width(&s) <= 40);
        assert!(s.ends_with('…'));
    }

    #[test]
    fn long_notes_give_way_before_the_totals_and_the_order_id() {
        let mut record = sample_record();
        record.order.notes = vec![jembatan_schemas::v2::Note {
            text: "Harap dikemas dengan kardus tebal. ".repeat(200),
            subject: None,
        }];
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
}
