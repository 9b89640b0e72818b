//! X12 code lists the mapping reads, each with the element it belongs to and where
//! the codes come from. Only codes with a canonical meaning are listed; any other
//! code is kept as written (a `qualifier`, a `basis_code`, an extension).

use jembatan_plugin_sdk::v2::ReferenceType;
use jembatan_plugin_sdk::{Decimal, ItemIdRole, party_scheme};

/// BEG02, element 92 Purchase Order Type Code: the text of the common codes.
/// Source: X12 003010 BEG (<https://kasoftware.com/schema/edi/x12/00301/segments/BEG>),
/// the same codes in 004010 and 005010.
pub fn order_type_text(code: &str) -> Option<&'static str> {
    Some(match code {
        "BE" => "Blanket Order/Estimated Quantities (Not firm Commitment)",
        "BK" => "Blanket Order (Quantity Firm)",
        "CF" => "Confirmation",
        "CN" => "Consigned Order",
        "CP" => "Change to Purchase Order",
        "DS" => "Dropship",
        "IN" => "Information Copy",
        "KN" => "Purchase Order",
        "NE" => "New Order",
        "OS" => "Special Order",
        "RE" => "Reorder",
        "RL" => "Release or Delivery Order",
        "RO" => "Rush Order",
        "SA" => "Stand-alone Order",
        "SP" => "Sample",
        "ST" => "Standing Order",
        _ => return None,
    })
}

/// N103, element 66 Identification Code Qualifier → party id scheme (X8 in
/// docs/canonical-order-v2.md: <http://edi.hersheys.com/Suppliers/8504010IC/3101N1.htm>,
/// <https://ediacademy.com/blog/x12-n104-identification-code-qualifier-code-identifying-party-code/>).
pub fn party_scheme(n103: &str) -> &'static str {
    match n103 {
        "1" => party_scheme::DUNS,
        "9" => party_scheme::DUNS_PLUS_4,
        "UL" => party_scheme::GLN,
        "15" => party_scheme::SAN,
        "91" => party_scheme::SUPPLIER_ASSIGNED,
        "92" => party_scheme::BUYER_ASSIGNED,
        _ => party_scheme::UNSPECIFIED,
    }
}

/// ISA05/ISA07, element I05 Interchange ID Qualifier → party id scheme. Source:
/// <https://www.stedi.com/edi/x12-003040/element/I05> (01 Duns, 14 Duns Plus
/// Suffix, 16 Duns Number With 4-Character Suffix, 08 UCC EDI Communications ID,
/// 12 Phone, ZZ Mutually Defined …). Codes with no scheme token (08, 12, ZZ …) are
/// `UNSPECIFIED` with the code kept as the qualifier.
pub fn interchange_scheme(isa05: &str) -> &'static str {
    match isa05 {
        "01" => party_scheme::DUNS,
        "14" | "16" => party_scheme::DUNS_PLUS_4,
        _ => party_scheme::UNSPECIFIED,
    }
}

/// N101, element 98 Entity Identifier Code, for parties other than buyer,
/// supplier and ship-to: the role name (`other_parties[].role`).
pub fn other_party_role(n101: &str) -> &'static str {
    match n101 {
        "BT" => "invoicee",
        "SF" => "ship_from",
        "CA" => "carrier",
        "PR" => "payer",
        "RI" => "remit_to",
        "EN" => "end_user",
        "DU" => "reseller",
        "MA" => "party_for_whom_item_is_ultimately_intended",
        "Z7" => "mark_for",
        _ => "other",
    }
}

/// REF01/N901, element 128 Reference Identification Qualifier → reference type
/// (docs/canonical-order-v2.md §1.7; codes from the X12 004010 element 128 list).
pub fn reference_type(ref01: &str) -> ReferenceType {
    match ref01 {
        "CT" => ReferenceType::Contract,
        "PJ" => ReferenceType::Project,
        "DP" => ReferenceType::CostCentre,
        "PR" | "Q1" => ReferenceType::Quotation,
        "PO" => ReferenceType::PreviousOrder,
        "CR" | "CO" => ReferenceType::CustomerReference,
        "VN" => ReferenceType::SalesOrder,
        "RQ" => ReferenceType::Requisition,
        _ => ReferenceType::Other,
    }
}

/// PO106…PO125 qualifiers, element 235 Product/Service ID Qualifier (X3:
/// <https://www.stedi.com/edi/x12-003020/element/235>): how a pair maps.
pub enum ProductId {
    /// An item id of this role, with a scheme for standard numbers.
    Id(ItemIdRole, Option<&'static str>),
    /// DW drawing number → `item.documents[]`.
    Drawing,
    /// DR drawing revision → the revision of the line's drawing.
    DrawingRevision,
    /// PD part description → `item.name` (else `item.description`).
    Description,
    /// MN model number → `item.properties[]`.
    Model,
    /// CH country of origin → `item.origin_country`.
    OriginCountry,
}

pub fn product_id(qualifier: &str) -> ProductId {
    use ItemIdRole::{Buyer, Manufacturer, Other, Standard, Supplier};
    match qualifier {
        // Buyer's part number, buyer's item number, buyer's catalog number.
        "BP" | "IN" | "CB" => ProductId::Id(Buyer, None),
        // Vendor's part number, vendor's item number, vendor's catalog number, SKU.
        "VP" | "VN" | "VC" | "SK" => ProductId::Id(Supplier, None),
        // Manufacturer's part number, manufacturer.
        "MG" | "MF" => ProductId::Id(Manufacturer, None),
        // U.P.C. consumer package code (UPC-A), U.P.C./EAN case code.
        "UP" | "UA" => ProductId::Id(Standard, Some("UPC")),
        // EAN/UCC-13, GTIN-14.
        "EN" | "UK" => ProductId::Id(Standard, Some("GTIN")),
        "IB" => ProductId::Id(Standard, Some("ISBN")),
        "DW" => ProductId::Drawing,
        "DR" => ProductId::DrawingRevision,
        "PD" => ProductId::Description,
        "MN" => ProductId::Model,
        "CH" => ProductId::OriginCountry,
        _ => ProductId::Id(Other, None),
    }
}

/// PO105, element 639 Basis of Unit Price → the quantity the price is for (X2,
/// <http://ecomgx17.ecomtoday.com/edi/EDI_4010/el639.htm>, as tabled in
/// docs/canonical-order-v2.md §4.3); every other code is per one unit.
pub fn price_base_quantity(po105: &str) -> Decimal {
    Decimal::from(match po105 {
        "HP" | "LC" | "QH" | "RC" | "TC" | "WC" => 100,
        "TP" | "LM" | "QS" | "RM" | "TM" | "WM" => 1000,
        "PD" | "LD" | "RD" | "TD" | "WD" => 12,
        "PN" => 10,
        "TT" => 10_000,
        "HT" => 100_000,
        _ => 1,
    })
}

/// FOB05, element 335 Transportation Terms Code: the codes that are Incoterms
/// rules (2000 to 2020 editions).
pub fn is_incoterm(code: &str) -> bool {
    matches!(
        code,
        "EXW"
            | "FCA"
            | "FAS"
            | "FOB"
            | "CFR"
            | "CIF"
            | "CPT"
            | "CIP"
            | "DAF"
            | "DES"
            | "DEQ"
            | "DDU"
            | "DAT"
            | "DAP"
            | "DPU"
            | "DDP"
    )
}
