//! Canonical order v2 as Rust types, mirroring `purchase-order-v2.schema.json`.
//!
//! The design is `docs/canonical-order-v2.md` (sections 1 to 3). As in v1, field names,
//! optionality and nesting follow the schema one to one (`type` is spelled `kind` in
//! Rust); money and quantities are [`Decimal`] (strings both ways, trailing zeros
//! kept; a JSON number is refused, as by the schema), dates are [`NaiveDate`]
//! (`YYYY-MM-DD`), optional fields are omitted, never `null`, and empty lists are
//! omitted too. Rules that tie several fields together (a party needs a name or an
//! id, a line with unit `ZZ` needs `unit_original`, a stored order needs a buyer …)
//! live in the schema: validate against [`PURCHASE_ORDER_V2_SCHEMA`] where an
//! order comes in. [`contract::read`] decides most orders on the types alone, and
//! leaves the rest to the schema.
//!
//! [`upgrade_v1`] and [`downgrade_v2`] convert between the versions (section 3).
//!
//! [`PURCHASE_ORDER_V2_SCHEMA`]: crate::PURCHASE_ORDER_V2_SCHEMA

use std::collections::BTreeMap;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

mod compat;
pub mod contract;

/// Decimals are strings both ways: a JSON number is refused, as the schema does
/// (v1's types still read numbers).
use rust_decimal::serde::{str as decimal, str_option as decimal_option};

pub use compat::{UNNAMED_BUYER, V1_SOURCE_FORMAT, V1_SOURCE_SYNTAX, downgrade_v2, upgrade_v1};

#[cfg(test)]
pub(crate) mod agreement;
#[cfg(test)]
mod compat_tests;
#[cfg(test)]
mod contract_tests;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PurchaseOrder {
    pub version: Version,
    pub buyer_order_number: String,
    pub issue_date: NaiveDate,
    /// Absent means [`Purpose::Original`]; see [`PurchaseOrder::purpose`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purpose: Option<Purpose>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_type: Option<OrderType>,
    /// ISO 4217; required (v1 defaulted a missing one to IDR, v2 does not guess).
    pub currency: String,
    pub source: Source,
    /// Optional in plugin output only: the host fills it before the order is stored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub buyer: Option<Party>,
    pub supplier: Supplier,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub other_parties: Vec<OtherParty>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery: Option<Delivery>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery_terms: Option<DeliveryTerms>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub payment_terms: Vec<PaymentTerms>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowances_charges: Vec<AllowanceCharge>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub taxes: Vec<TaxSubtotal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub totals: Option<Totals>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub references: Vec<Reference>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub documents: Vec<Document>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<Note>,
    pub lines: Vec<OrderLine>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extensions: Vec<Extension>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<Warning>,
    /// Written by the gateway when it stores the order; refused from plugins.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub received: Option<Received>,
}

impl PurchaseOrder {
    /// The order's purpose, [`Purpose::Original`] when the document does not say.
    pub fn purpose(&self) -> Purpose {
        self.purpose.unwrap_or_default()
    }
}

/// The schema version, written `"version": "2"`; any other value is refused.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Version {
    #[default]
    #[serde(rename = "2")]
    V2,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Purpose {
    #[default]
    Original,
    /// Replaces an order sent earlier (X12 BEG01 05, EDIFACT BGM 1225 5).
    Replace,
    Copy,
}

/// Blanket, release, consignment, drop-ship … as the document codes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderType {
    pub code: String,
    /// `UNCL1001`, `X12-92`, `cXML-orderType`.
    pub list: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

/// What the buyer's document was.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Source {
    /// The plugin's format name; `unknown` for an upgraded v1 order.
    pub format: String,
    /// `UBL 2.1`, `X12 004010`, `canonical v1` …
    pub syntax: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customization: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub control_number: Option<String>,
}

/// A code as written in the source document, before it was mapped.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OriginalCode {
    pub code: String,
    /// `X12-355`, `EDIFACT-6411` …
    pub list: String,
}

/// A party: valid (in the schema) with a name, a legal name or an id.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Party {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub legal_name: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ids: Vec<PartyId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<Address>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub contacts: Vec<Contact>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<PartySource>,
}

/// The craftsman: a party plus the routing code.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Supplier {
    /// The buyer's code for the craftsman; orders are routed on it.
    pub code: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub legal_name: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ids: Vec<PartyId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<Address>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub contacts: Vec<Contact>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<PartySource>,
}

/// A party identifier.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartyId {
    /// A normalized token, see [`party_scheme`].
    pub scheme: String,
    pub value: String,
    /// The raw scheme code as written (`0088`, N103 `UL`, 3055 `9`, `VAT`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub qualifier: Option<String>,
}

/// The fixed [`PartyId::scheme`] tokens; the schema also allows `ICD:<4 digits>`
/// (an ISO 6523 scheme not otherwise named) and `ENDPOINT:<scheme>`.
pub mod party_scheme {
    pub const GLN: &str = "GLN";
    pub const DUNS: &str = "DUNS";
    pub const DUNS_PLUS_4: &str = "DUNS+4";
    /// VAT, NPWP, ABN-GST.
    pub const TAX: &str = "TAX";
    /// Legal registration.
    pub const COMPANY: &str = "COMPANY";
    pub const BUYER_ASSIGNED: &str = "BUYER_ASSIGNED";
    pub const SUPPLIER_ASSIGNED: &str = "SUPPLIER_ASSIGNED";
    pub const SAN: &str = "SAN";
    /// A jembatan account id (the buyer from the registration).
    pub const JEMBATAN: &str = "JEMBATAN";
    pub const UNSPECIFIED: &str = "UNSPECIFIED";
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PartySource {
    Document,
    /// Filled by the host from the buyer's registration.
    Registration,
    Config,
}

/// Invoicee, originator, ship-from, carrier …
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OtherParty {
    /// `invoicee`, `originator`, `ship_from`, `carrier` …
    pub role: String,
    /// As coded in the document: N101 `BT`, NAD 3035 `IV` …
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_code: Option<String>,
    pub party: Party,
}

/// v1's address plus unstructured lines, a building number and attention.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Address {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lines: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub street: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub building_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub additional_street: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postal_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attention: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Contact {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fax: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department: Option<String>,
}

/// When and where, for the order or one line. A window is kept as `earliest` and
/// `latest`; `requested_date` only when the document gives one date.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Delivery {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requested_date: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub earliest: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latest: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ship_not_before: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ship_no_later: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancel_after: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub party: Option<Party>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub contacts: Vec<Contact>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transport: Option<Transport>,
}

/// A place (in the schema: with ids, a name or an address).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Location {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ids: Vec<PartyId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<Address>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Transport {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub carrier: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub routing: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_level: Option<String>,
}

/// Who pays and carries.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeliveryTerms {
    /// Incoterms rule (`FCA`, `EXW` …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incoterm: Option<String>,
    /// Edition year (`2020`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incoterms_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub place: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transport_payment: Option<String>,
}

/// When the craftsman is paid.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaymentTerms {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub net_days: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_date: Option<NaiveDate>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "decimal_option"
    )]
    pub discount_percent: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discount_days: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discount_due_date: Option<NaiveDate>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "decimal_option"
    )]
    pub discount_amount: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
}

/// A discount or surcharge of the order, a line or a line's price. Amounts are
/// non-negative: the sign is the [`kind`](Self::kind). The schema wants at least one
/// of `amount`, `percent`, `rate`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AllowanceCharge {
    pub kind: AllowanceChargeKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<AllowanceChargeLevel>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason_code_list: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "decimal_option"
    )]
    pub amount: Option<Decimal>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "decimal_option"
    )]
    pub percent: Option<Decimal>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "decimal_option"
    )]
    pub base_amount: Option<Decimal>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "decimal_option"
    )]
    pub rate: Option<Decimal>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "decimal_option"
    )]
    pub rate_quantity: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_unit: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sequence: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tax: Option<TaxCategory>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AllowanceChargeKind {
    Allowance,
    Charge,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AllowanceChargeLevel {
    Order,
    Line,
    /// A change to the unit price (UBL `Price/AllowanceCharge`, cXML `Modifications`).
    Price,
}

/// The tax an allowance or charge falls under.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaxCategory {
    /// UNCL5305 (`S`, `Z`, `E` …).
    pub category: String,
    /// Percent.
    #[serde(with = "decimal")]
    pub rate: Decimal,
}

/// An order-level tax subtotal as stated.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaxSubtotal {
    pub scheme: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// Percent.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "decimal_option"
    )]
    pub rate: Option<Decimal>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "decimal_option"
    )]
    pub taxable_amount: Option<Decimal>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "decimal_option"
    )]
    pub amount: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exemption_reason: Option<String>,
}

/// A line's tax.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LineTax {
    pub scheme: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// Percent.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "decimal_option"
    )]
    pub rate: Option<Decimal>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "decimal_option"
    )]
    pub amount: Option<Decimal>,
}

/// Totals as the buyer stated them, never computed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Totals {
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "decimal_option"
    )]
    pub line_extension: Option<Decimal>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "decimal_option"
    )]
    pub allowance_total: Option<Decimal>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "decimal_option"
    )]
    pub charge_total: Option<Decimal>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "decimal_option"
    )]
    pub tax_exclusive: Option<Decimal>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "decimal_option"
    )]
    pub tax_total: Option<Decimal>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "decimal_option"
    )]
    pub tax_inclusive: Option<Decimal>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "decimal_option"
    )]
    pub prepaid: Option<Decimal>,
    /// The one amount that may be negative (UBL `PayableRoundingAmount`).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "decimal_option"
    )]
    pub rounding: Option<Decimal>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "decimal_option"
    )]
    pub payable: Option<Decimal>,
}

/// Contract, project, cost centre, quotation …
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reference {
    #[serde(rename = "type")]
    pub kind: ReferenceType,
    pub value: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issue_date: Option<NaiveDate>,
    /// The line of the referred document.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line_number: Option<String>,
    /// The raw qualifier (X12 REF01, EDIFACT 1153); what `other` means.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub qualifier: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReferenceType {
    Contract,
    Project,
    CostCentre,
    Quotation,
    /// The order this one replaces or follows.
    PreviousOrder,
    CustomerReference,
    Requisition,
    BlanketOrder,
    Release,
    SalesOrder,
    /// Tender or lot.
    Originator,
    Promotion,
    DeliverySchedule,
    /// Anything else, its code in `qualifier`.
    Other,
}

/// A drawing, specification or other file. In the schema: with an `id`, a `uri` or
/// the bytes (`content_base64` in plugin output; `size`, `sha256` and `href` once
/// stored).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Document {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(rename = "type")]
    pub kind: DocumentType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub type_text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Shown as a link, never fetched by the gateway.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uri: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filename: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mime_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_base64: Option<String>,
    /// Decoded size in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// Lower-case hex.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// `/v1/orders/{id}/documents/{n}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub href: Option<String>,
}

impl Document {
    /// A document of `kind` that says nothing else yet; the plugins fill in what
    /// their format gives (`Document { id, ..Document::of_kind(kind) }`).
    pub fn of_kind(kind: DocumentType) -> Self {
        Self {
            id: None,
            kind,
            type_text: None,
            revision: None,
            description: None,
            uri: None,
            filename: None,
            mime_type: None,
            content_base64: None,
            size: None,
            sha256: None,
            href: None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DocumentType {
    Drawing,
    Specification,
    Sketch,
    Photo,
    Certificate,
    Other,
}

/// Free text for the craftsman.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Note {
    pub text: String,
    /// X12 NTE01, EDIFACT FTX 4451, cXML `Comments@type`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
}

/// Something read that has no field; never dropped.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Extension {
    /// `ubl`, `peppol-sbdh`, `cxml`, `x12`, `edifact`, `json` or `plugin:<name>`.
    pub namespace: String,
    /// `PO1[3]/PO110`, `LIN[2]/ALI/3239`, `/Order/cac:Delivery[2]/cbc:ID`.
    pub path: String,
    /// The text as written.
    pub value: String,
    /// XML attributes, name to value.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub attributes: BTreeMap<String, String>,
}

/// What was odd, tolerated or assumed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Warning {
    /// `buyer-from-registration`, `unit-not-rec20`, `time-dropped` …
    pub code: String,
    pub message: String,
    /// Where in the source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// A JSON pointer into the order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

/// Who posted the order, written by the gateway.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Received {
    pub buyer_account: BuyerAccount,
    pub message_id: String,
    pub transaction: ReceivedTransaction,
    pub plugin: ReceivedPlugin,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BuyerAccount {
    pub id: String,
    /// As registered.
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReceivedTransaction {
    /// 0-based position among the message's transactions.
    pub index: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub control_number: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReceivedPlugin {
    pub name: String,
    pub version: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderLine {
    pub line_number: String,
    /// The line this one is a part of (kits).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_line_number: Option<String>,
    pub item: Item,
    #[serde(with = "decimal")]
    pub quantity: Decimal,
    /// UN/ECE Recommendation 20 code; `ZZ` when the buyer's code maps to none.
    pub unit: String,
    /// The buyer's unit code as written, when mapped or `ZZ`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit_original: Option<OriginalCode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price: Option<Price>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "decimal_option"
    )]
    pub line_total: Option<Decimal>,
    /// This line's date, window or place when it differs from the order's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery: Option<Delivery>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub schedule: Vec<ScheduleLine>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partial_delivery_allowed: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub packaging: Option<Packaging>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowances_charges: Vec<AllowanceCharge>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub taxes: Vec<LineTax>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub references: Vec<Reference>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<Note>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extensions: Vec<Extension>,
}

/// What to make. The schema wants a name, a description or an id.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Item {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ids: Vec<ItemId>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub properties: Vec<ItemProperty>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub classifications: Vec<Classification>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub documents: Vec<Document>,
    /// ISO 3166-1 alpha-2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin_country: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ItemId {
    pub role: ItemIdRole,
    /// `GTIN`, `UPC`, `0160` …
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheme: Option<String>,
    pub value: String,
    /// The raw qualifier (X12 235, EDIFACT 7143).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub qualifier: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemIdRole {
    Buyer,
    Supplier,
    Manufacturer,
    /// GTIN, UPC, ISBN.
    Standard,
    Other,
}

/// Material, size, finish, tolerance …
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ItemProperty {
    pub name: String,
    pub value: String,
    /// Rec 20.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
}

/// UNSPSC, HS, eCl@ss …
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Classification {
    pub scheme: String,
    pub code: String,
}

/// The price as stated: `amount` for `base_quantity` `base_unit` (the line's unit when
/// absent). Never divided: renderers compute a display value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Price {
    #[serde(with = "decimal")]
    pub amount: Decimal,
    #[serde(with = "decimal")]
    pub base_quantity: Decimal,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_unit: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_unit_original: Option<OriginalCode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<PriceKind>,
    /// X12 639 (PO105) as written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub basis_code: Option<String>,
}

impl Price {
    /// `amount` for one of the line's own unit, as most documents state a price
    /// (and as every v1 `unit_price` was).
    pub fn per_unit(amount: Decimal) -> Self {
        Self {
            amount,
            base_quantity: Decimal::ONE,
            base_unit: None,
            base_unit_original: None,
            kind: None,
            basis_code: None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PriceKind {
    Net,
    Gross,
}

/// A partial delivery.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduleLine {
    #[serde(with = "decimal")]
    pub quantity: Decimal,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requested_date: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub earliest: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latest: Option<NaiveDate>,
}

/// How to pack.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Packaging {
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "decimal_option"
    )]
    pub pack: Option<Decimal>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "decimal_option"
    )]
    pub size: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size_unit: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub package_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}
