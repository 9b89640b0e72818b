//! What a message has said so far, before required fields are checked.
//!
//! The plugins fill a draft segment by segment (first occurrence wins for
//! single-valued fields, as both standards allow only one), then [`OrderDraft::finish`]
//! checks what the canonical order requires, applies the config's defaults and
//! builds the order. Missing-field errors are worded by the plugin through
//! [`Field`], because only it knows the segment names.

use jembatan_plugin_sdk::{
    Address, Contact, DEFAULT_CURRENCY, Decimal, Delivery, NaiveDate, OrderLine, Party,
    PluginError, PurchaseOrder, Supplier, Totals,
};

use crate::Config;

/// The unit of a quantity without one when the config names none: piece.
pub const DEFAULT_UNIT: &str = "H87";

/// A required canonical field the message did not give, for the plugin to word.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    OrderNumber,
    IssueDate,
    BuyerName,
    SupplierCode,
    /// The message has no lines at all.
    Lines,
    /// A line (index into [`OrderDraft::lines`]) has no quantity.
    Quantity(usize),
    /// A line has neither item codes nor a description.
    Item(usize),
}

/// The order as read, every field optional until [`OrderDraft::finish`].
#[derive(Debug, Default)]
pub struct OrderDraft {
    pub number: Option<String>,
    pub issue_date: Option<NaiveDate>,
    pub currency: Option<String>,
    pub notes: Vec<String>,
    pub buyer: PartyDraft,
    /// The supplier's code from its party segment (X12 N104, EDIFACT NAD C082).
    pub supplier_code: Option<String>,
    /// A weaker source of the supplier code (X12 REF*VR), used only without the first.
    pub supplier_reference: Option<String>,
    pub supplier_name: Option<String>,
    pub delivery_address: Address,
    pub delivery_date: Option<NaiveDate>,
    pub totals: Totals,
    pub lines: Vec<LineDraft>,
}

/// A party as read.
#[derive(Debug, Default)]
pub struct PartyDraft {
    pub id: Option<String>,
    pub name: Option<String>,
    pub tax_id: Option<String>,
    pub address: Address,
    pub contact: Contact,
}

/// An order line as read.
#[derive(Debug, Default)]
pub struct LineDraft {
    /// Byte offset of the line's first segment (PO1, LIN), for errors about it.
    pub offset: usize,
    pub number: Option<String>,
    pub quantity: Option<Decimal>,
    pub unit: Option<String>,
    pub unit_price: Option<Decimal>,
    pub line_total: Option<Decimal>,
    pub buyer_code: Option<String>,
    pub supplier_code: Option<String>,
    pub description: Option<String>,
    pub requested_date: Option<NaiveDate>,
    pub note: Option<String>,
}

/// Sets a single-valued field unless it is set; empty text counts as absent.
pub fn set_once<T>(field: &mut Option<T>, value: T) {
    if field.is_none() {
        *field = Some(value);
    }
}

/// Appends text to a multi-valued field, joined by `separator`; empty text is skipped.
pub fn append(field: &mut Option<String>, text: &str, separator: &str) {
    if text.is_empty() {
        return;
    }
    match field {
        Some(existing) => {
            existing.push_str(separator);
            existing.push_str(text);
        }
        None => *field = Some(text.to_owned()),
    }
}

impl OrderDraft {
    /// Checks required fields, applies the config's defaults and builds the order.
    /// `missing` words the error for a field the message lacks.
    pub fn finish(
        self,
        config: &Config,
        missing: impl Fn(Field, &Self) -> PluginError,
    ) -> Result<PurchaseOrder, PluginError> {
        let Some(buyer_order_number) = self.number.clone() else {
            return Err(missing(Field::OrderNumber, &self));
        };
        let Some(issue_date) = self.issue_date else {
            return Err(missing(Field::IssueDate, &self));
        };
        let Some(buyer_name) = self
            .buyer
            .name
            .clone()
            .or_else(|| config.buyer_name.clone())
        else {
            return Err(missing(Field::BuyerName, &self));
        };
        let Some(code) = self
            .supplier_code
            .clone()
            .or_else(|| self.supplier_reference.clone())
            .or_else(|| config.supplier_code.clone())
        else {
            return Err(missing(Field::SupplierCode, &self));
        };
        if self.lines.is_empty() {
            return Err(missing(Field::Lines, &self));
        }
        for (i, line) in self.lines.iter().enumerate() {
            if line.quantity.is_none() {
                return Err(missing(Field::Quantity(i), &self));
            }
            if line.description.is_none()
                && line.buyer_code.is_none()
                && line.supplier_code.is_none()
            {
                return Err(missing(Field::Item(i), &self));
            }
        }
        let default_unit = config.default_unit.as_deref().unwrap_or(DEFAULT_UNIT);
        let lines = self
            .lines
            .into_iter()
            .enumerate()
            .map(|(i, line)| OrderLine {
                // Both standards let the line number be left out; its position is
                // then the only name the line has.
                line_number: line.number.unwrap_or_else(|| (i + 1).to_string()),
                buyer_item_code: line.buyer_code,
                supplier_item_code: line.supplier_code,
                description: line.description,
                quantity: line.quantity.unwrap_or_default(),
                unit: line.unit.unwrap_or_else(|| default_unit.to_owned()),
                unit_price: line.unit_price,
                line_total: line.line_total,
                requested_date: line.requested_date,
                note: line.note,
            })
            .collect();
        let delivery = Delivery {
            address: non_empty(self.delivery_address),
            requested_date: self.delivery_date,
        };
        let buyer = self.buyer;
        Ok(PurchaseOrder {
            buyer_order_number,
            issue_date,
            currency: self
                .currency
                .or_else(|| config.default_currency.clone())
                .unwrap_or_else(|| DEFAULT_CURRENCY.to_owned()),
            buyer: Party {
                id: buyer.id,
                name: buyer_name,
                tax_id: buyer.tax_id,
                address: non_empty(buyer.address),
                contact: (buyer.contact != Contact::default()).then_some(buyer.contact),
            },
            supplier: Supplier {
                code,
                name: self.supplier_name,
            },
            delivery: (delivery != Delivery::default()).then_some(delivery),
            lines,
            notes: self.notes,
            totals: (self.totals != Totals::default()).then_some(self.totals),
        })
    }
}

fn non_empty(address: Address) -> Option<Address> {
    (address != Address::default()).then_some(address)
}
