//! Numbers, money, dates and units as a person reads them in each language.

use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;

use super::labels;
use crate::delivery::channels::Language;

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

#[cfg(test)]
mod tests {
    use super::*;

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
}
