//! Reading EDI element text into canonical values.
//!
//! The generic readers (plain decimals, ISO codes) are the SDK's; what is here is
//! what only EDI needs: a declared decimal mark, counts, and compact dates.
//! Each function returns the problem as a sentence; the caller adds where it is.

use jembatan_plugin_sdk::{Decimal, NaiveDate};

pub use jembatan_plugin_sdk::values::{country, currency, unit};

/// A non-negative amount or quantity with `mark` as its decimal mark (`.` in X12,
/// whatever UNA says in EDIFACT), read exactly. X12 `R` and EDIFACT `n` values
/// carry their point explicitly, so no implied decimals are applied.
pub fn decimal(text: &str, mark: u8) -> Result<Decimal, String> {
    if mark == b'.' {
        return jembatan_plugin_sdk::values::decimal(text);
    }
    // With another mark a '.' is not a decimal point (it may be a thousands
    // separator someone slipped in), so it is refused rather than read.
    let mark = mark as char;
    if text.contains('.') || text.matches(mark).count() > 1 {
        return Err(format!(
            "{text:?} is not a decimal number (digits with an optional '{mark}', no thousands separators)"
        ));
    }
    jembatan_plugin_sdk::values::decimal(&text.replace(mark, ".")).map_err(|_| {
        format!("{text:?} is not a non-negative decimal number with '{mark}' as its decimal mark")
    })
}

/// A count such as a segment count or a control total: digits only.
pub fn count(text: &str) -> Result<u64, String> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("{text:?} is not a count (digits only)"));
    }
    text.parse()
        .map_err(|_| format!("{text:?} is too large for a count"))
}

/// A date written `CCYYMMDD` followed by `rest_digits` more digits (a time of day,
/// which the canonical date has no room for and which does not change the day).
pub fn date_ccyymmdd(text: &str, rest_digits: usize) -> Result<NaiveDate, String> {
    let shape = match rest_digits {
        0 => "CCYYMMDD, e.g. 20261103",
        4 => "CCYYMMDDHHMM, e.g. 202611030930",
        _ => "CCYYMMDDHHMMSS, e.g. 20261103093000",
    };
    let invalid = || format!("{text:?} is not a date written {shape}");
    if text.len() != 8 + rest_digits || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid());
    }
    let n = |range: std::ops::Range<usize>| text[range].parse::<u32>().unwrap_or(0);
    let year = i32::try_from(n(0..4)).map_err(|_| invalid())?;
    NaiveDate::from_ymd_opt(year, n(4..6), n(6..8)).ok_or_else(invalid)
}

/// A date written `YYMMDD`, read as 20YY: the six-digit form is only ever seen from
/// senders that mean this century, and an order for 1926 is no order.
pub fn date_yymmdd(text: &str) -> Result<NaiveDate, String> {
    if text.len() != 6 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "{text:?} is not a date written YYMMDD, e.g. 261103"
        ));
    }
    date_ccyymmdd(&format!("20{text}"), 0)
        .map_err(|_| format!("{text:?} is not a date written YYMMDD, e.g. 261103"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_are_exact_with_either_mark() {
        assert_eq!(decimal("385000.00", b'.').unwrap().to_string(), "385000.00");
        assert_eq!(decimal("12,5", b',').unwrap().to_string(), "12.5");
        assert_eq!(decimal(".5", b'.').unwrap().to_string(), "0.5");
        for (bad, mark) in [
            ("", b'.'),
            ("-1", b'.'),
            ("1,5", b'.'),
            ("1.5", b','),
            ("1.000.000", b'.'),
            ("1e3", b'.'),
            ("1.1234567890123", b'.'),
            (".", b'.'),
        ] {
            assert!(decimal(bad, mark).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn dates() {
        let day = NaiveDate::from_ymd_opt(2026, 11, 3).unwrap();
        assert_eq!(date_ccyymmdd("20261103", 0).unwrap(), day);
        assert_eq!(date_ccyymmdd("202611030930", 4).unwrap(), day);
        assert_eq!(date_ccyymmdd("20261103093000", 6).unwrap(), day);
        assert_eq!(date_yymmdd("261103").unwrap(), day);
        for bad in [
            "2026110",
            "20261303",
            "20260230",
            "2026-11-03",
            "202611030930",
        ] {
            assert!(date_ccyymmdd(bad, 0).is_err(), "{bad:?} should be refused");
        }
        assert!(date_yymmdd("20261103").is_err());
    }

    #[test]
    fn counts_and_codes() {
        assert_eq!(count("0012").unwrap(), 12);
        assert!(count("1.0").is_err());
        assert!(count("").is_err());
        assert!(currency("idr").is_err());
        assert_eq!(unit("KGM").unwrap(), "KGM");
        assert!(unit("kg").is_err());
        assert!(country("IDN").is_err());
    }
}
