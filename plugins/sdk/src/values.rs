//! Reading text values into canonical ones: decimals (plain or localized like
//! `Rp 1.250.000,50`), ISO dates and datetimes, and the code lists the canonical
//! order uses (ISO 4217, UN/ECE Rec 20, ISO 3166-1).
//!
//! Each function returns the problem as a sentence; the caller adds where it is.

use std::str::FromStr;

use chrono::NaiveDate;
use rust_decimal::Decimal;

/// The most fraction digits the canonical schema allows.
pub const MAX_SCALE: u32 = 12;

/// An amount or quantity written plainly (`385000.00`, `+5`, `.5`): non-negative,
/// `.` as the decimal mark, no thousands separators, read exactly (never via a float).
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

/// How a buyer writes numbers: e.g. Indonesian `1.250.000,50` is
/// `thousands: Some('.'), decimal: ','`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NumberFormat {
    /// The thousands separator, if the buyer groups digits.
    pub thousands: Option<char>,
    /// The decimal mark.
    pub decimal: char,
    /// A currency symbol that may precede the number, e.g. `Rp`; matched without
    /// regard to case, with an optional `.` and spaces after it.
    pub symbol: Option<String>,
}

impl NumberFormat {
    /// Indonesian: `Rp 185.000,00`.
    pub fn indonesian() -> Self {
        Self {
            thousands: Some('.'),
            decimal: ',',
            symbol: Some("Rp".to_owned()),
        }
    }
}

impl Default for NumberFormat {
    /// Plain: `185000.00`, no grouping, no symbol.
    fn default() -> Self {
        Self {
            thousands: None,
            decimal: '.',
            symbol: None,
        }
    }
}

/// A non-negative decimal written in `format`. Thousands separators must group
/// exactly three digits, so `1.25` in Indonesian (where `.` groups) is refused
/// rather than misread as 125.
pub fn localized_decimal(text: &str, format: &NumberFormat) -> Result<Decimal, String> {
    let mut rest = text.trim();
    if let Some(symbol) = &format.symbol
        && rest
            .get(..symbol.len())
            .is_some_and(|s| s.eq_ignore_ascii_case(symbol))
    {
        rest = rest[symbol.len()..].trim_start_matches('.').trim_start();
    }
    let (whole, fraction) = match rest.split_once(format.decimal) {
        Some((w, f)) => (w, Some(f)),
        None => (rest, None),
    };
    let mut plain = String::with_capacity(rest.len());
    match format.thousands {
        Some(sep) if whole.contains(sep) => {
            for (i, group) in whole.split(sep).enumerate() {
                let ok = if i == 0 {
                    (1..=3).contains(&group.len())
                } else {
                    group.len() == 3
                };
                if !ok || !group.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(format!(
                        "{text:?} is not a number written with {sep:?} grouping thousands and {:?} as the decimal mark",
                        format.decimal
                    ));
                }
                plain.push_str(group);
            }
        }
        _ => plain.push_str(whole),
    }
    if let Some(fraction) = fraction {
        plain.push('.');
        plain.push_str(fraction);
    }
    decimal(&plain).map_err(|_| {
        format!(
            "{text:?} is not a non-negative number written with {} and {:?} as the decimal mark",
            match format.thousands {
                Some(sep) => format!("{sep:?} grouping thousands"),
                None => "no thousands separator".to_owned(),
            },
            format.decimal
        )
    })
}

/// An xsd:date, `YYYY-MM-DD` with an optional time zone (`Z`, `+07:00`), which the
/// canonical date has no room for and which does not change the calendar day.
pub fn date(text: &str) -> Result<NaiveDate, String> {
    let invalid = || format!("{text:?} is not a date like 2026-11-03");
    let (day, zone) = text.split_at_checked(10).ok_or_else(invalid)?;
    if !is_zone(zone.as_bytes()) {
        return Err(invalid());
    }
    iso_day(day).ok_or_else(invalid)
}

/// The calendar day of an ISO 8601 date or datetime, as written:
/// `2026-11-03`, `2026-11-03T09:15:00+07:00`, `2026-11-03T09:15Z`,
/// `2026-11-03T09:15:00.250-05:00`. The zone is not applied: the buyer's own
/// calendar day is the one they mean.
pub fn date_of_datetime(text: &str) -> Result<NaiveDate, String> {
    let invalid =
        || format!("{text:?} is not an ISO 8601 date or datetime like 2026-11-03T09:15:00+07:00");
    let (day, rest) = text.split_at_checked(10).ok_or_else(invalid)?;
    let rest = rest.as_bytes();
    let time_ok = match rest {
        [] => true,
        [b'T', time @ ..] => {
            // hh:mm, then optional :ss and .fraction, then an optional zone.
            let digits = |s: &[u8]| s.iter().all(u8::is_ascii_digit);
            match time {
                [h1, h2, b':', m1, m2, tail @ ..] if digits(&[*h1, *h2, *m1, *m2]) => {
                    let tail = match tail {
                        [b':', s1, s2, more @ ..] if digits(&[*s1, *s2]) => match more {
                            [b'.', frac @ ..] => {
                                let n = frac.iter().take_while(|b| b.is_ascii_digit()).count();
                                if n == 0 { None } else { Some(&frac[n..]) }
                            }
                            _ => Some(more),
                        },
                        _ => Some(tail),
                    };
                    tail.is_some_and(|zone| {
                        is_zone(zone)
                            || matches!(zone, [b'+' | b'-', a, b, c, d] if digits(&[*a, *b, *c, *d]))
                    })
                }
                _ => false,
            }
        }
        _ => false,
    };
    if !time_ok {
        return Err(invalid());
    }
    iso_day(day).ok_or_else(invalid)
}

fn is_zone(zone: &[u8]) -> bool {
    matches!(zone, [] | [b'Z'])
        || matches!(zone, [b'+' | b'-', h1, h2, b':', m1, m2]
            if [h1, h2, m1, m2].iter().all(|b| b.is_ascii_digit()))
}

fn iso_day(day: &str) -> Option<NaiveDate> {
    let b = day.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    NaiveDate::from_str(day).ok()
}

/// An ISO 4217 currency code: three capital letters.
pub fn currency(text: &str) -> Result<String, String> {
    code(text, 3..=3, |b| b.is_ascii_uppercase())
        .ok_or_else(|| format!("{text:?} is not an ISO 4217 currency code such as \"IDR\""))
}

/// A UN/ECE Recommendation 20 unit code: two or three capitals or digits.
pub fn unit(text: &str) -> Result<String, String> {
    code(text, 2..=3, |b| {
        b.is_ascii_uppercase() || b.is_ascii_digit()
    })
    .ok_or_else(|| format!("{text:?} is not a UN/ECE Recommendation 20 unit code such as \"H87\""))
}

/// An ISO 3166-1 alpha-2 country code.
pub fn country(text: &str) -> Result<String, String> {
    code(text, 2..=2, |b| b.is_ascii_uppercase())
        .ok_or_else(|| format!("{text:?} is not an ISO 3166-1 country code such as \"ID\""))
}

fn code(
    text: &str,
    len: std::ops::RangeInclusive<usize>,
    allowed: impl Fn(u8) -> bool,
) -> Option<String> {
    (len.contains(&text.len()) && text.bytes().all(allowed)).then(|| text.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(text: &str) -> Result<String, String> {
        localized_decimal(text, &NumberFormat::indonesian()).map(|d| d.to_string())
    }

    #[test]
    fn plain_decimals_are_exact() {
        assert_eq!(decimal("385000.00").unwrap().to_string(), "385000.00");
        assert_eq!(decimal("+5").unwrap().to_string(), "5");
        for bad in ["", "-1", "1,5", "1e3", ".", "1.1234567890123"] {
            assert!(decimal(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn indonesian_decimals() {
        assert_eq!(id("Rp 185.000,00").unwrap(), "185000.00");
        assert_eq!(id("rp. 1.250.000,50").unwrap(), "1250000.50");
        assert_eq!(id("Rp185000").unwrap(), "185000");
        assert_eq!(id("12,5").unwrap(), "12.5");
        assert_eq!(id("1.000").unwrap(), "1000");
        for bad in [
            "1.25",
            "1.2500.000",
            "Rp -5",
            "1,2,3",
            "Rp",
            "USD 5",
            "1.000.00,5",
        ] {
            assert!(id(bad).is_err(), "{bad:?}");
        }
        let en = NumberFormat {
            thousands: Some(','),
            decimal: '.',
            symbol: None,
        };
        assert_eq!(
            localized_decimal("1,250,000.50", &en).unwrap().to_string(),
            "1250000.50"
        );
    }

    #[test]
    fn dates_and_datetimes() {
        let day = NaiveDate::from_ymd_opt(2026, 11, 3).unwrap();
        for ok in ["2026-11-03", "2026-11-03Z", "2026-11-03+07:00"] {
            assert_eq!(date(ok).unwrap(), day, "{ok}");
        }
        assert!(date("2026-11-03T10:00:00").is_err());
        for ok in [
            "2026-11-03",
            "2026-11-03T09:15:00+07:00",
            "2026-11-03T23:59:59.250-05:00",
            "2026-11-03T09:15Z",
            "2026-11-03T09:15:00",
            "2026-11-03T09:15:00+0700",
        ] {
            assert_eq!(date_of_datetime(ok).unwrap(), day, "{ok}");
        }
        for bad in [
            "03-11-2026",
            "2026-11-03 09:15",
            "2026-11-03T9:15",
            "2026-02-30T00:00Z",
            "2026-11-03T09:15:00.+07:00",
        ] {
            assert!(date_of_datetime(bad).is_err(), "{bad:?}");
        }
    }

    // From ubl-order, which reads xsd:decimal and xsd:date with these.
    #[test]
    fn xsd_decimals_are_exact_and_canonical() {
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
    fn xsd_dates_allow_a_time_zone() {
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
    fn codes_are_checked() {
        assert_eq!(currency("IDR").unwrap(), "IDR");
        assert!(currency("idr").is_err());
        assert_eq!(unit("C62").unwrap(), "C62");
        assert!(unit("piece").is_err());
        assert_eq!(country("ID").unwrap(), "ID");
        assert!(country("IDN").is_err());
    }
}
