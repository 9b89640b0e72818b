//! X12 unit of measure codes (data element 355) → UN/ECE Recommendation 20.
//!
//! Only codes whose meaning is the same in both lists are here; anything else is
//! refused as `unknown-unit` rather than guessed, and a buyer that uses it maps it
//! in its config (`unit_map`), which is consulted first.

/// The Rec 20 code for an X12 unit code, if the table knows it.
pub fn rec20(x12: &str) -> Option<&'static str> {
    Some(match x12 {
        "EA" => "EA",  // each
        "PC" => "H87", // piece
        "UN" => "C62", // unit ("one")
        "BX" => "BX",  // box
        "CA" => "CS",  // case
        "BG" => "BG",  // bag
        "KT" => "KT",  // kit
        "DZ" => "DZN", // dozen
        "PR" => "PR",  // pair
        "ST" => "SET", // set
        "KG" => "KGM", // kilogram
        "GR" => "GRM", // gram
        "LB" => "LBR", // pound
        "MR" => "MTR", // metre: X12 spells it MR, not M
        "CM" => "CMT", // centimetre
        "MM" => "MMT", // millimetre
        "FT" => "FOT", // foot
        "YD" => "YRD", // yard
        "IN" => "INH", // inch
        "SM" => "MTK", // square metre
        "SF" => "FTK", // square foot
        "LT" => "LTR", // litre
        "GA" => "GLL", // US gallon
        "HR" => "HUR", // hour
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_gives_rec20_codes() {
        for (x12, rec20_code) in [("PC", "H87"), ("CA", "CS"), ("MR", "MTR"), ("ST", "SET")] {
            assert_eq!(rec20(x12), Some(rec20_code));
        }
        assert_eq!(rec20("M"), None, "not an X12 meter");
        assert_eq!(rec20("ZZ"), None);
    }
}
