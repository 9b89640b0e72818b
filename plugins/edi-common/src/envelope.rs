//! Errors about envelope structure, worded the same in both standards.
//!
//! X12 (ISA/GS/ST) and EDIFACT (UNB/UNG/UNH) nest the same way: an opening
//! segment, content, a closing segment. What goes wrong is the same too, so the
//! errors are built here once, and so is the check every closing segment makes of
//! its count. Control-number mismatches stay in the plugins, because each
//! standard names its references differently; so does the segment loop, because
//! the envelopes differ in what they require (X12 groups are mandatory, EDIFACT
//! ones optional) and in what IEA and UNZ count.

use jembatan_plugin_sdk::PluginError;

use crate::error_at;
use crate::values::count;

/// Checks a closing segment's count element, `text` at `offset` and `path`,
/// against `actual`, what was seen. `label` names the element in the
/// `invalid-value` error when `text` is not a count (`SE01`, `UNT 0074`);
/// `describe(stated)` words the `bad-segment-count` error when it is wrong.
pub fn check_count(
    body: &[u8],
    offset: usize,
    path: &str,
    label: &str,
    text: &str,
    actual: u64,
    describe: impl FnOnce(u64) -> String,
) -> Result<(), PluginError> {
    let stated = count(text).map_err(|m| {
        error_at(
            "invalid-value",
            format!("{label}: {m}"),
            body,
            offset,
            path.to_owned(),
        )
    })?;
    if stated != actual {
        return Err(error_at(
            "bad-segment-count",
            describe(stated),
            body,
            offset,
            path.to_owned(),
        ));
    }
    Ok(())
}

/// `missing-segment`: the envelope `what` (a path such as `ST[2]`) met `found`
/// before its closing segment `closer`; the path is `{what}/{closer}`.
pub fn unclosed(body: &[u8], offset: usize, what: &str, closer: &str, found: &str) -> PluginError {
    error_at(
        "missing-segment",
        format!("{what} is not closed: {found} comes before its {closer}"),
        body,
        offset,
        format!("{what}/{closer}"),
    )
}

/// `unexpected-segment`: the segment `tag` is out of place; `why` says how
/// (e.g. "without an ST").
pub fn unexpected(body: &[u8], offset: usize, tag: &str, why: &str) -> PluginError {
    error_at(
        "unexpected-segment",
        format!("segment {tag} {why}"),
        body,
        offset,
        tag.to_owned(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelope_errors_name_the_segment() {
        let body = b"ST*850*1~SE*1*1~";
        let err = unclosed(body, 9, "ST[1]", "SE", "GE");
        assert_eq!(err.code, "missing-segment");
        assert_eq!(err.message, "ST[1] is not closed: GE comes before its SE");
        let location = err.location.unwrap();
        assert_eq!(location.path.as_deref(), Some("ST[1]/SE"));
        assert_eq!(location.offset, Some(9));

        let err = unexpected(body, 9, "SE", "without an ST");
        assert_eq!(err.code, "unexpected-segment");
        assert_eq!(err.message, "segment SE without an ST");
        assert_eq!(err.location.unwrap().path.as_deref(), Some("SE"));
    }

    #[test]
    fn count_checks_the_text_then_the_number() {
        let body = b"SE*3*1~";
        let said = |stated| format!("says {stated}");
        assert!(check_count(body, 3, "ST[1]/SE/SE01", "SE01", "3", 3, said).is_ok());
        let err = check_count(body, 3, "ST[1]/SE/SE01", "SE01", "3", 4, said).unwrap_err();
        assert_eq!(err.code, "bad-segment-count");
        assert_eq!(err.message, "says 3");
        let err = check_count(body, 3, "ST[1]/SE/SE01", "SE01", "x", 4, said).unwrap_err();
        assert_eq!(err.code, "invalid-value");
        assert_eq!(err.message, r#"SE01: "x" is not a count (digits only)"#);
        let location = err.location.unwrap();
        assert_eq!(location.path.as_deref(), Some("ST[1]/SE/SE01"));
        assert_eq!(location.offset, Some(3));
    }
}
