//! Errors about envelope structure, worded the same in both standards.
//!
//! X12 (ISA/GS/ST) and EDIFACT (UNB/UNG/UNH) nest the same way: an opening
//! segment, content, a closing segment. What goes wrong is the same too, so the
//! errors are built here once; control-number mismatches stay in the plugins,
//! because each standard names its references differently.

use jembatan_plugin_sdk::PluginError;

use crate::error_at;

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
}
