//! Reading UBL text values (xsd:decimal, xsd:date, codes) into canonical ones.
//!
//! Each function returns the problem as a sentence; the caller adds where it is.

use std::str::FromStr;

use jembatan_plugin_sdk::{Decimal, NaiveDate};

/// The most fraction digits the canonical schema allows.
const MAX_SCALE: u32 = 12;

/// An amount or quantity: non-negative xsd:decimal, read exactly (never via a float).
///
/// Accepts what xsd:decimal allows (`+5`, `5.`, `.5`) and writes it canonically.
pub fn decimal(text: &str) -> Result<Decimal, String> {
    let digits = text.strip_prefix('+').unwrap_or(text);
    if digits.starts_with('-') {
        return Err(format!(
            "{text:?} is negative; amounts and quantities must not be"
        ));
    }
    let well_formed = digits.bytes().any(|b| b.is_ascii_digit())
        && digits.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && digits.bytes().filter(|&b| b == b'.').count() <= 1;
    if !well_formed {
        return Err(format!(
            "{text:?} is not a decimal number (digits with an optional '.', no thousands separators)"
        ));
    }
    let value = Decimal::from_str_exact(digits)
        .map_err(|e| format!("{text:?} is not a usable decimal number: {e}"))?;
    if value.scale() > MAX_SCALE {
        return Err(format!(
            "{text:?} has more than {MAX_SCALE} digits after the decimal point"
        ));
    }
    Ok(value)
}

/// An xsd:date, `YYYY-MM-DD` with an optional time zone (`Z`, `+07:00`), which the
/// canonical date has no room for and which does not change the calendar day.
pub fn date(text: &str) -> Result<NaiveDate, String> {
    let invalid = || format!("{text:?} is not a date like 2026-11-03");
    let (day, zone) = text.split_at_checked(10).ok_or_else(invalid)?;
    let zone_ok = matches!(zone.as_bytes(), [] | [b'Z'])
        || matches!(zone.as_bytes(), [b'+' | b'-', h1, h2, b':', m1, m2]
            if [h1, h2, m1, m2].iter().all(|b| b.is_ascii_digit()));
    if !zone_ok || day.as_bytes().get(4) != Some(&b'-') {
        return Err(invalid());
    }
    NaiveDate::from_str(day).map_err(|_| invalid())
}

/// An ISO 4217 currency code: three capital letters.
pub fn currency(text: &str) -> Result<String, String> {
    code(text, 3..=3, |b| b.is_ascii_uppercase())
        .map_err(|()| format!("{text:?} is not an ISO 4217 currency code such as \"IDR\""))
}

/// A UN/ECE Recommendation 20 unit code: two or three capitals or digits.
pub fn unit(text: &str) -> Result<String, String> {
    code(text, 2..=3, |b| {
        b.is_ascii_uppercase() || b.is_ascii_digit()
    })
    .map_err(|()| format!("{text:?} is not a UN/ECE Recommendation 20 unit code such as \"H87\""))
}

/// An ISO 3166-1 alpha-2 country code.
pub fn country(text: &str) -> Result<String, String> {
    code(text, 2..=2, |b| b.is_ascii_uppercase())
        .map_err(|()| format!("{text:?} is not an ISO 3166-1 country code such as \"ID\""))
}

fn code(
    text: &str,
    len: std::ops::RangeInclusive<usize>,
    allowed: impl Fn(u8) -> bool,
) -> Result<String, ()> {
    if len.contains(&text.len()) && text.bytes().all(allowed) {
        Ok(text.to_owned())
    } else {
        Err(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_are_exact_and_canonical() {
        assert_eq!(decimal("385000.00").unwrap().to_string(), "385000.00");
        assert_eq!(decimal("+5").unwrap().to_string(), "5");
        assert_eq!(decimal(".5").unwrap().to_string(), "0.5");
        assert_eq!(
            decimal("0.100000000000").unwrap().to_string(),
            "0.100000000000"
        );
        for bad in [
            "",
            "-1",
            "1,5",
            "1.000.000",
            "1e3",
            "1_000",
            "abc",
            "1.1234567890123",
            ".",
        ] {
            assert!(decimal(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn dates_allow_a_time_zone() {
        let day = NaiveDate::from_ymd_opt(2026, 11, 3).unwrap();
        for ok in [
            "2026-11-03",
            "2026-11-03Z",
            "2026-11-03+07:00",
            "2026-11-03-05:00",
        ] {
            assert_eq!(date(ok).unwrap(), day, "{ok}");
        }
        for bad in [
            "03-11-2026",
            "2026-11-3",
            "2026-02-30",
            "2026-11-03T10:00:00",
            "",
            "2026-11-03+7",
        ] {
            assert!(date(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn codes() {
        assert_eq!(currency("IDR").unwrap(), "IDR");
        assert!(currency("idr").is_err());
        assert_eq!(unit("C62").unwrap(), "C62");
        assert!(unit("piece").is_err());
        assert_eq!(country("ID").unwrap(), "ID");
        assert!(country("IDN").is_err());
    }
}
