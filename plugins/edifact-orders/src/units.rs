//! EDIFACT unit codes (data element 6411) → UN/ECE Recommendation 20.
//!
//! EDIFACT already uses Rec 20, so a well-formed code passes through; only the
//! few codes older directories and EANCOM guides use that are not Rec 20 codes
//! are translated. The buyer's `unit_map` is consulted before this.

/// The Rec 20 code for an EDIFACT unit code, or `None` if it is not a code shape.
pub fn rec20(code: &str) -> Option<&str> {
    match code {
        // "Piece" in Rec 20 before revision 4, still sent by many ERPs.
        "PCE" | "PCS" => Some("H87"),
        _ if edi_common::values::unit(code).is_ok() => Some(code),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn old_piece_codes_are_translated_and_rec20_passes() {
        assert_eq!(rec20("PCE"), Some("H87"));
        assert_eq!(rec20("KGM"), Some("KGM"));
        assert_eq!(rec20("kg"), None);
    }
}
