//! What the parser has read so far, before required fields are checked.
//!
//! The UBL-shaped draft keeps what only UBL has (two sources of the supplier code,
//! the buyer's legal name, delivery periods); [`OrderDraft::finish`] turns it into the
//! SDK's [`draft::OrderDraft`], which checks and builds the order.

use jembatan_plugin_sdk::draft::{self, DEFAULT_UNIT, Defaults, Field, PartyDraft};
use jembatan_plugin_sdk::{Address, Decimal, NaiveDate, PluginError, PurchaseOrder, Totals};

use crate::Config;

/// The order as read, every field optional until [`OrderDraft::finish`].
#[derive(Debug, Default)]
pub struct OrderDraft {
    pub number: Option<String>,
    pub issue_date: Option<NaiveDate>,
    pub currency: Option<String>,
    pub notes: Vec<String>,
    /// Whether `cac:BuyerCustomerParty` appeared at all, for a precise error.
    pub buyer_seen: bool,
    pub buyer: PartyDraft,
    /// `PartyLegalEntity/RegistrationName`, the buyer's name when `PartyName` is absent.
    pub buyer_legal_name: Option<String>,
    pub supplier_account_id: Option<String>,
    pub supplier_party_id: Option<String>,
    pub supplier_name: Option<String>,
    /// How many order-level `cac:Delivery` have started; only the first is read.
    pub deliveries: u32,
    pub delivery_address: Address,
    pub delivery_start: Option<NaiveDate>,
    pub delivery_end: Option<NaiveDate>,
    pub totals: Totals,
    pub lines: Vec<LineDraft>,
    /// The `cac:AllowanceCharge` being read (order or line level).
    pub allowance: AllowanceDraft,
}

/// A `cac:AllowanceCharge`. The canonical order has no allowances or charges: the
/// craftsman is told of each in a note instead of the gateway silently dropping it.
#[derive(Debug, Default)]
pub struct AllowanceDraft {
    pub charge: bool,
    pub reason: Option<String>,
    pub amount: Option<Decimal>,
}

impl AllowanceDraft {
    /// The note for the allowance just read; resets the draft for the next one.
    pub fn take_note(&mut self) -> String {
        let AllowanceDraft {
            charge,
            reason,
            amount,
        } = std::mem::take(self);
        let kind = if charge { "Charge" } else { "Allowance" };
        let mut note = format!("{kind} not applied by the gateway");
        for part in [reason, amount.map(|a| format!("amount {a}"))]
            .into_iter()
            .flatten()
        {
            note.push_str(if note.ends_with("gateway") {
                ": "
            } else {
                ", "
            });
            note.push_str(&part);
        }
        note
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
    pub unit_price: Option<Decimal>,
    pub line_total: Option<Decimal>,
    pub description: Option<String>,
    pub item_name: Option<String>,
    pub buyer_code: Option<String>,
    pub supplier_code: Option<String>,
    pub start: Option<NaiveDate>,
    pub end: Option<NaiveDate>,
    pub note: Option<String>,
}

/// Single-valued fields: the first occurrence wins, as UBL allows only one.
/// Multi-valued text (several `cbc:Note`, `cbc:Description`) is appended one per line.
pub use jembatan_plugin_sdk::draft::{append, set_once};

impl OrderDraft {
    /// Checks required fields, applies the config's defaults and builds the order.
    pub fn finish(self, config: &Config, body: &[u8]) -> Result<PurchaseOrder, PluginError> {
        let buyer_seen = self.buyer_seen;
        let draft = draft::OrderDraft {
            number: self.number,
            issue_date: self.issue_date,
            currency: self.currency,
            notes: self.notes,
            buyer: PartyDraft {
                name: self.buyer.name.or(self.buyer_legal_name),
                ..self.buyer
            },
            supplier_code: self.supplier_account_id.or(self.supplier_party_id),
            supplier_name: self.supplier_name,
            delivery_address: self.delivery_address,
            delivery_date: self.delivery_start.or(self.delivery_end),
            totals: self.totals,
            lines: self.lines.into_iter().map(LineDraft::into_line).collect(),
        };
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
                // Without the party there is no name either; say which is missing.
                Field::BuyerName if !buyer_seen => {
                    missing("/Order/cac:BuyerCustomerParty", "buyer party")
                }
                Field::BuyerName => missing(
                    "/Order/cac:BuyerCustomerParty/cac:Party/cac:PartyName/cbc:Name",
                    "buyer name (nor cac:PartyLegalEntity/cbc:RegistrationName)",
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
                    "cac:Item/cbc:Description",
                    "item: no cbc:Description, cbc:Name, buyer's or seller's item ID",
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
            unit_price: self.unit_price,
            line_total: self.line_total,
            buyer_code: self.buyer_code,
            supplier_code: self.supplier_code,
            description: self.description.or(self.item_name),
            requested_date: self.start.or(self.end),
            note: self.note,
        }
    }
}
