//! Dates as people type them in order mail: `27/11/2026`, `27-11-2026`,
//! `27.11.2026`, `2026-11-27`, `27 November 2026`, `27 Nov 2026` (months in Bahasa
//! Indonesia or English). Day before month, as Indonesia writes it.

use jembatan_plugin_sdk::NaiveDate;

const MONTHS: [(&str, u32); 24] = [
    ("januari", 1),
    ("january", 1),
    ("februari", 2),
    ("february", 2),
    ("maret", 3),
    ("march", 3),
    ("april", 4),
    ("mei", 5),
    ("may", 5),
    ("juni", 6),
    ("june", 6),
    ("juli", 7),
    ("july", 7),
    ("agustus", 8),
    ("august", 8),
    ("september", 9),
    ("oktober", 10),
    ("october", 10),
    ("november", 11),
    ("desember", 12),
    ("december", 12),
    ("nopember", 11),
    ("pebruari", 2),
    ("sept", 9),
];

/// The date `text` names, if it is one.
pub fn date(text: &str) -> Option<NaiveDate> {
    let text = text.trim().trim_end_matches('.');
    if let Ok(day) = jembatan_plugin_sdk::values::date(text) {
        return Some(day);
    }
    let numeric: Vec<&str> = text.split(['/', '-', '.']).map(str::trim).collect();
    if let [d, m, y] = numeric[..]
        && let (Ok(d), Ok(m), Ok(y)) = (d.parse::<u32>(), m.parse::<u32>(), y.parse::<i32>())
    {
        let y = if y < 100 { 2000 + y } else { y };
        return NaiveDate::from_ymd_opt(y, m, d);
    }
    let words: Vec<&str> = text
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|w| !w.is_empty())
        .collect();
    if let [d, m, y] = words[..] {
        let (d, y) = (d.parse::<u32>().ok()?, y.parse::<i32>().ok()?);
        let m = month(m)?;
        return NaiveDate::from_ymd_opt(y, m, d);
    }
    None
}

/// A month by its name or its first three letters.
fn month(word: &str) -> Option<u32> {
    let word = word.trim_end_matches('.').to_lowercase();
    if word.len() < 3 {
        return None;
    }
    MONTHS
        .iter()
        .find(|(name, _)| *name == word || (word.len() == 3 && name.starts_with(&word)))
        .map(|&(_, number)| number)
        .or(match word.as_str() {
            "agt" | "ags" => Some(8),
            "okt" => Some(10),
            "des" => Some(12),
            "mei" => Some(5),
            _ => None,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_as_typed() {
        let day = NaiveDate::from_ymd_opt(2026, 11, 27);
        for text in [
            "27/11/2026",
            "27-11-2026",
            "27.11.2026",
            "2026-11-27",
            "27 November 2026",
            "27 Nov 2026",
            "27 Nopember 2026",
        ] {
            assert_eq!(date(text), day, "{text}");
        }
        assert_eq!(date("3 Mei 2026"), NaiveDate::from_ymd_opt(2026, 5, 3));
        assert_eq!(date("31/02/2026"), None);
        assert_eq!(date("soon"), None);
    }
}
