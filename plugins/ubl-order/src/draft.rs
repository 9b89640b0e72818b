//! What the parser has read so far, before required fields are checked.
//!
//! The UBL-shaped draft keeps what only UBL has (two sources of the supplier code,
//! delivery periods, allowances and charges as they are read); [`OrderDraft::finish`]
//! turns it into the SDK's [`draft::OrderDraft`], which checks and builds the order.

use jembatan_plugin_sdk::draft::{self, DEFAULT_UNIT, Defaults, Field};
use jembatan_plugin_sdk::{
    Address, AllowanceCharge, AllowanceChargeKind, AllowanceChargeLevel, Decimal, Delivery, Item,
    NaiveDate, Note, Party, PluginError, Price, PurchaseOrder, Totals,
};

use crate::Config;

/// The order as read, every field optional until [`OrderDraft::finish`].
#[derive(Debug, Default)]
pub struct OrderDraft {
    pub number: Option<String>,
    pub issue_date: Option<NaiveDate>,
    pub currency: Option<String>,
    pub notes: Vec<Note>,
    pub buyer: Party,
    pub supplier_account_id: Option<String>,
    pub supplier_party_id: Option<String>,
    /// The supplier's name, legal name, address …; its code is read apart.
    pub supplier: Party,
    /// How many order-level `cac:Delivery` have started; only the first is read.
    pub deliveries: u32,
    pub delivery_address: Address,
    pub delivery_period: Period,
    pub totals: Totals,
    pub allowances_charges: Vec<AllowanceCharge>,
    pub lines: Vec<LineDraft>,
    /// The `cac:AllowanceCharge` being read (order or line level).
    pub allowance: AllowanceDraft,
}

/// A `cac:RequestedDeliveryPeriod`.
#[derive(Debug, Default)]
pub struct Period {
    pub start: Option<NaiveDate>,
    pub end: Option<NaiveDate>,
}

impl Period {
    /// One date when start and end are the same day, else the window as given.
    fn into_delivery(self) -> Delivery {
        let (requested_date, earliest, latest) = match (self.start, self.end) {
            (Some(start), Some(end)) if start == end => (Some(start), None, None),
            (start, end) => (None, start, end),
        };
        Delivery {
            requested_date,
            earliest,
            latest,
            ..Delivery::default()
        }
    }
}

/// A `cac:AllowanceCharge` as read.
#[derive(Debug, Default)]
pub struct AllowanceDraft {
    pub charge: bool,
    pub reason: Option<String>,
    pub amount: Option<Decimal>,
}

/// What an allowance or charge became: the canonical one, or a note when it has no
/// amount (the canonical one needs an amount, a percent or a rate).
pub enum Allowance {
    Read(AllowanceCharge),
    Note(Note),
}

impl AllowanceDraft {
    /// The allowance or charge just read, at `level`; resets the draft for the next.
    pub fn take(&mut self, level: AllowanceChargeLevel) -> Allowance {
        let AllowanceDraft {
            charge,
            reason,
            amount,
        } = std::mem::take(self);
        let kind = if charge {
            AllowanceChargeKind::Charge
        } else {
            AllowanceChargeKind::Allowance
        };
        match amount {
            Some(amount) => Allowance::Read(AllowanceCharge {
                kind,
                level: Some(level),
                reason_code: None,
                reason_code_list: None,
                reason,
                amount: Some(amount),
                percent: None,
                base_amount: None,
                rate: None,
                rate_quantity: None,
                rate_unit: None,
                sequence: None,
                tax: None,
            }),
            None => {
                let kind = if charge { "Charge" } else { "Allowance" };
                let text = match reason {
                    Some(reason) => format!("{kind} without an amount: {reason}"),
                    None => format!("{kind} without an amount"),
                };
                Allowance::Note(Note {
                    text,
                    subject: None,
                })
            }
        }
    }
}

/// A `cac:OrderLine` as read.
#[derive(Debug, Default)]
pub struct LineDraft {
    /// Byte offset of the `cac:OrderLine` start tag, for errors about the line.
    pub offset: usize,
    pub id: Option<String>,
    pub quantity: Option<Decimal>,
    pub unit: Option<String>,
    pub price: Option<Price>,
    pub line_total: Option<Decimal>,
    pub item: Item,
    pub period: Period,
    pub notes: Vec<Note>,
    pub allowances_charges: Vec<AllowanceCharge>,
}

/// Single-valued fields: the first occurrence wins, as UBL allows only one.
/// Multi-valued text (several `cbc:Description`) is appended one per line.
pub use jembatan_plugin_sdk::draft::{append, set_once};

impl OrderDraft {
    /// Checks required fields, applies the config's defaults and builds the order.
    pub fn finish(self, config: &Config, body: &[u8]) -> Result<PurchaseOrder, PluginError> {
        let mut draft = draft::OrderDraft::new("ubl-order", "UBL");
        draft.number = self.number;
        draft.issue_date = self.issue_date;
        draft.currency = self.currency;
        draft.notes = self.notes;
        draft.buyer = self.buyer;
        draft.supplier_code = self.supplier_account_id.or(self.supplier_party_id);
        draft.supplier = self.supplier;
        draft.delivery = self.delivery_period.into_delivery();
        *draft.delivery_address() = self.delivery_address;
        draft.totals = self.totals;
        draft.allowances_charges = self.allowances_charges;
        draft.lines = self.lines.into_iter().map(LineDraft::into_line).collect();
        let defaults = Defaults {
            buyer_name: None,
            supplier_code: config.supplier_code.as_deref(),
            currency: config.default_currency.as_deref(),
            unit: Some(config.default_unit.as_deref().unwrap_or(DEFAULT_UNIT)),
            // UBL requires cbc:ID on every line.
            number_lines_by_position: false,
        };
        draft.finish(&defaults, |field, draft| {
            let missing = |path: &str, what: &str| {
                PluginError::new("missing-field", format!("the order has no {what} ({path})"))
                    .at_path(path)
            };
            let line_missing = |i: usize, field: &str, what: &str| {
                let number = i + 1;
                let line_path = format!("/Order/cac:OrderLine[{number}]/cac:LineItem");
                PluginError::at_offset(
                    "missing-field",
                    format!("order line {number} has no {what} ({line_path}/{field})"),
                    body,
                    draft.lines[i].offset,
                )
                .at_path(format!("{line_path}/{field}"))
            };
            match field {
                Field::OrderNumber => missing("/Order/cbc:ID", "order number"),
                Field::IssueDate => missing("/Order/cbc:IssueDate", "issue date"),
                Field::BuyerName => missing(
                    "/Order/cac:BuyerCustomerParty/cac:Party/cac:PartyName/cbc:Name",
                    "buyer name (nor cac:PartyLegalEntity/cbc:RegistrationName, nor \
                     cac:PartyIdentification/cbc:ID) for the buyer's address or contact",
                ),
                Field::SupplierCode => PluginError::new(
                    "missing-field",
                    "the order does not say who the supplier is: it has neither \
                     cac:SellerSupplierParty/cbc:CustomerAssignedAccountID nor \
                     cac:SellerSupplierParty/cac:Party/cac:PartyIdentification/cbc:ID, \
                     and the plugin config has no supplier_code",
                )
                .at_path("/Order/cac:SellerSupplierParty/cbc:CustomerAssignedAccountID"),
                Field::Lines => missing("/Order/cac:OrderLine", "order lines"),
                Field::LineNumber(i) => line_missing(i, "cbc:ID", "line ID"),
                Field::Quantity(i) => line_missing(i, "cbc:Quantity", "quantity"),
                Field::Item(i) => line_missing(
                    i,
                    "cac:Item/cbc:Name",
                    "item: no cbc:Name, cbc:Description, buyer's or seller's item ID",
                ),
                Field::Unit(_) => unreachable!("the defaults give every line a unit"),
            }
        })
    }
}

impl LineDraft {
    fn into_line(self) -> draft::LineDraft {
        draft::LineDraft {
            offset: self.offset,
            number: self.id,
            quantity: self.quantity,
            unit: self.unit,
            price: self.price,
            line_total: self.line_total,
            item: self.item,
            delivery: self.period.into_delivery(),
            notes: self.notes,
            allowances_charges: self.allowances_charges,
            ..draft::LineDraft::default()
        }
    }
}
