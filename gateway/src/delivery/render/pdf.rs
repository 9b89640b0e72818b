//! The order as a PDF: the document a WhatsApp craftsman gets beside the text
//! message inside the service window (WhatsApp documents take PDF, not CSV;
//! docs/services.md W5). A phone opens a PDF in its viewer, where a `.txt` shows
//! as a file to download.
//!
//! The content is the plain text of [`super::text`] (greeting, buyer, number,
//! dates, address, every line with quantity, unit and price, totals, notes, the
//! order id), under the subject as a title, laid out line by line in a fixed-width
//! font so its columns stay as the text has them, wrapped at the page's width and
//! paginated, each page numbered. Written with `pdf-writer` (typst's; four small
//! dependencies, no font files): the PDF names two of the 14 standard fonts every
//! reader has (Courier, Helvetica-Bold), so nothing is embedded.
//!
//! What the fonts cover: the standard fonts are written with WinAnsiEncoding
//! (Windows-1252), which holds ASCII, Latin-1 (é, ü, ñ, ß, …) and a few more (€,
//! Š, Œ, –, —, “ ”, …, •, ™). Indonesian names and words are Latin and always
//! fit. A character outside it (Javanese or Arabic script, Chinese, emoji) cannot
//! be drawn with these fonts: it is shown as `?`, and the PDF ends with a line
//! saying so and that the text message, sent with it, has every character. It is
//! never dropped silently.

use pdf_writer::{Content, Finish, Name, Pdf, Rect, Ref, Str, TextStr};

use super::{subject, text};
use crate::delivery::channels::{Language, Outgoing};

/// A4, in points.
const PAGE_WIDTH: f32 = 595.0;
const PAGE_HEIGHT: f32 = 842.0;
const MARGIN: f32 = 50.0;

const TITLE_SIZE: f32 = 13.0;
const TITLE_LEADING: f32 = 17.0;
/// The title's characters per line: Helvetica-Bold's widest common letters are
/// about 0.72 em, so 52 of them fit the 495 points between the margins.
const TITLE_COLUMNS: usize = 52;

const BODY_SIZE: f32 = 9.5;
const BODY_LEADING: f32 = 12.5;
/// Courier's every glyph is 0.6 em wide: 5.7 points at 9.5, so 86 fit in 495.
const BODY_COLUMNS: usize = 86;
const FOOTER_SIZE: f32 = 8.0;

/// Body lines on a page, below the top margin and above the footer.
const LINES_PER_PAGE: usize =
    ((PAGE_HEIGHT - 2.0 * MARGIN - 2.0 * BODY_LEADING) / BODY_LEADING) as usize;

const BODY_FONT: Name<'static> = Name(b"F1");
const TITLE_FONT: Name<'static> = Name(b"F2");

/// The order as a PDF document.
pub fn pdf(out: &Outgoing<'_>) -> Vec<u8> {
    let mut lost = false;
    let title: Vec<Vec<u8>> = wrap(&subject(out), TITLE_COLUMNS)
        .iter()
        .map(|line| win_ansi(line, &mut lost))
        .collect();
    let mut body: Vec<Vec<u8>> = text(out)
        .lines()
        .flat_map(|line| wrap(line, BODY_COLUMNS))
        .map(|line| win_ansi(&line, &mut lost))
        .collect();
    if lost {
        body.push(Vec::new());
        for line in wrap(lost_note(out.language), BODY_COLUMNS) {
            body.push(win_ansi(&line, &mut false));
        }
    }
    // The title takes the first page's top, as many body lines as it is tall.
    let title_lines = (title.len() as f32 * TITLE_LEADING / BODY_LEADING).ceil() as usize + 1;
    let mut pages: Vec<&[Vec<u8>]> = Vec::new();
    let mut rest = body.as_slice();
    let mut room = LINES_PER_PAGE.saturating_sub(title_lines).max(1);
    loop {
        let (page, next) = rest.split_at(room.min(rest.len()));
        pages.push(page);
        rest = next;
        room = LINES_PER_PAGE;
        if rest.is_empty() {
            break;
        }
    }

    let mut pdf = Pdf::new();
    let catalog = Ref::new(1);
    let tree = Ref::new(2);
    let info = Ref::new(3);
    let body_font = Ref::new(4);
    let title_font = Ref::new(5);
    let first_page = 6;
    let page_refs: Vec<Ref> = (0..pages.len() as i32)
        .map(|n| Ref::new(first_page + 2 * n))
        .collect();
    pdf.catalog(catalog).pages(tree);
    pdf.pages(tree)
        .kids(page_refs.iter().copied())
        .count(pages.len() as i32);
    pdf.document_info(info)
        .title(TextStr(&subject(out)))
        .producer(TextStr("jembatan"));
    for (font, base) in [(body_font, "Courier"), (title_font, "Helvetica-Bold")] {
        pdf.type1_font(font)
            .base_font(Name(base.as_bytes()))
            .encoding_predefined(Name(b"WinAnsiEncoding"));
    }
    let count = pages.len();
    for (n, (lines, &page_ref)) in pages.iter().zip(&page_refs).enumerate() {
        let content_ref = Ref::new(page_ref.get() + 1);
        let mut page = pdf.page(page_ref);
        page.media_box(Rect::new(0.0, 0.0, PAGE_WIDTH, PAGE_HEIGHT))
            .parent(tree)
            .contents(content_ref);
        page.resources()
            .fonts()
            .pair(BODY_FONT, body_font)
            .pair(TITLE_FONT, title_font);
        page.finish();

        let mut content = Content::new();
        content.begin_text();
        let mut y = PAGE_HEIGHT - MARGIN;
        if n == 0 {
            content.set_font(TITLE_FONT, TITLE_SIZE);
            for line in &title {
                content.set_text_matrix([1.0, 0.0, 0.0, 1.0, MARGIN, y]);
                content.show(Str(line));
                y -= TITLE_LEADING;
            }
            y -= BODY_LEADING;
        }
        content.set_font(BODY_FONT, BODY_SIZE);
        for line in lines.iter() {
            content.set_text_matrix([1.0, 0.0, 0.0, 1.0, MARGIN, y]);
            content.show(Str(line));
            y -= BODY_LEADING;
        }
        let footer = format!("{} / {count}", n + 1);
        content.set_font(BODY_FONT, FOOTER_SIZE);
        content.set_text_matrix([1.0, 0.0, 0.0, 1.0, MARGIN, MARGIN - BODY_LEADING]);
        content.show(Str(footer.as_bytes()));
        content.end_text();
        pdf.stream(content_ref, &content.finish());
    }
    pdf.finish()
}

/// What the PDF says when it could not draw every character.
fn lost_note(language: Language) -> &'static str {
    match language {
        Language::Indonesian => {
            "Beberapa huruf tidak dapat ditampilkan di PDF ini (tertulis ?); \
             pesan teks yang dikirim bersamanya memuat semuanya."
        }
        Language::English => {
            "Some characters cannot be shown in this PDF (written ?); the text \
             message sent with it has them all."
        }
    }
}

/// `line` cut into lines of at most `columns` characters, at a space where there
/// is one; a continued line is indented by two spaces, and keeps the line's own
/// indentation.
fn wrap(line: &str, columns: usize) -> Vec<String> {
    let indent = line
        .chars()
        .take_while(|c| *c == ' ')
        .count()
        .min(columns / 2)
        + 2;
    let mut lines = Vec::new();
    let mut rest: Vec<char> = line.trim_end().chars().collect();
    while rest.len() > columns {
        let cut = rest[..=columns]
            .iter()
            .rposition(|c| *c == ' ')
            .filter(|&at| at > indent)
            .unwrap_or(columns);
        lines.push(rest[..cut].iter().collect::<String>().trim_end().to_owned());
        let tail: Vec<char> = rest[cut..]
            .iter()
            .copied()
            .skip_while(|c| *c == ' ')
            .collect();
        rest = std::iter::repeat_n(' ', indent).chain(tail).collect();
    }
    lines.push(rest.into_iter().collect());
    lines
}

/// `line` in WinAnsiEncoding (Windows-1252), which the standard fonts are written
/// with; a character it does not hold becomes `?` and sets `lost`. Spaces of
/// other widths become a space, tabs four.
fn win_ansi(line: &str, lost: &mut bool) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(line.len());
    for c in line.chars() {
        match c {
            '\t' => bytes.extend_from_slice(b"    "),
            '\u{2000}'..='\u{200A}' | '\u{202F}' | '\u{205F}' | '\u{3000}' => bytes.push(b' '),
            _ => match win_ansi_byte(c) {
                Some(byte) => bytes.push(byte),
                None => {
                    *lost = true;
                    bytes.push(b'?');
                }
            },
        }
    }
    bytes
}

/// Windows-1252's byte for `c`: ASCII and Latin-1 as themselves, and the
/// characters it puts in 0x80–0x9F.
fn win_ansi_byte(c: char) -> Option<u8> {
    let byte = match c {
        ' '..='~' | '\u{A0}'..='\u{FF}' => return u8::try_from(u32::from(c)).ok(),
        '€' => 0x80,
        '‚' => 0x82,
        'ƒ' => 0x83,
        '„' => 0x84,
        '…' => 0x85,
        '†' => 0x86,
        '‡' => 0x87,
        'ˆ' => 0x88,
        '‰' => 0x89,
        'Š' => 0x8A,
        '‹' => 0x8B,
        'Œ' => 0x8C,
        'Ž' => 0x8E,
        '‘' => 0x91,
        '’' => 0x92,
        '“' => 0x93,
        '”' => 0x94,
        '•' => 0x95,
        '–' => 0x96,
        '—' => 0x97,
        '˜' => 0x98,
        '™' => 0x99,
        'š' => 0x9A,
        '›' => 0x9B,
        'œ' => 0x9C,
        'ž' => 0x9E,
        'Ÿ' => 0x9F,
        _ => return None,
    };
    Some(byte)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::delivery::channels::testing::{outgoing, sample_record};

    #[test]
    fn win_ansi_keeps_latin_text_and_marks_what_it_cannot_draw() {
        let mut lost = false;
        assert_eq!(
            win_ansi("Kursi — rotan · café 5 € …", &mut lost),
            b"Kursi \x97 rotan \xb7 caf\xe9 5 \x80 \x85".to_vec()
        );
        assert!(!lost);
        assert_eq!(
            win_ansi("ꦗꦮ kursi 椅子", &mut lost),
            b"?? kursi ??".to_vec()
        );
        assert!(lost);
    }

    #[test]
    fn long_lines_wrap_at_a_space_and_keep_their_indentation() {
        let line = format!("   Catatan: {}", "anyaman rapat ".repeat(10));
        let lines = wrap(&line, 40);
        assert!(lines.len() > 1, "{lines:?}");
        for wrapped in &lines {
            assert!(wrapped.chars().count() <= 40, "{wrapped:?}");
        }
        // Continued under the line's own indentation (3), two further in.
        assert!(
            lines[1].starts_with("     a") || lines[1].starts_with("     r"),
            "{lines:?}"
        );
        let joined: Vec<&str> = lines.iter().flat_map(|l| l.split_whitespace()).collect();
        let original: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(joined, original, "no word lost");
        // A word longer than the line is cut, not lost.
        let long = "x".repeat(100);
        assert_eq!(wrap(&long, 40).concat().replace(' ', ""), long);
    }

    #[test]
    fn the_pdf_is_one_with_the_order_on_its_pages() {
        let record = sample_record();
        let bytes = pdf(&outgoing(&record, Language::Indonesian));
        assert!(bytes.starts_with(b"%PDF-1."));
        assert!(bytes.trim_ascii_end().ends_with(b"%%EOF"));
        let text = String::from_utf8_lossy(&bytes);
        assert!(text.contains("/BaseFont /Courier"), "{text}");
        assert!(text.contains("/WinAnsiEncoding"));
        // The content streams are not compressed: the words are in the file.
        assert!(text.contains("(Nomor pesanan: PO-2026/0042)"), "{text}");
        assert!(!text.contains("(written ?)") && !text.contains("tertulis ?"));
    }

    #[test]
    fn a_character_the_fonts_lack_is_marked_and_the_pdf_says_so() {
        let record = sample_record();
        let out = Outgoing {
            craftsman_name: "ꦧꦸꦢꦶ",
            ..outgoing(&record, Language::English)
        };
        let text = String::from_utf8_lossy(&pdf(&out)).into_owned();
        assert!(text.contains("(Hello ????,)"), "{text}");
        assert!(text.contains("Some characters cannot be shown in this PDF"));
    }
}
