//! An order as read so far, before required fields are checked.
//!
//! Every stock plugin reads the same way: it fills an [`OrderDraft`] while it walks
//! the message (first occurrence wins for single-valued fields, see [`set_once`]),
//! then [`OrderDraft::finish`] checks what the canonical order requires, applies
//! the plugin's [`Defaults`] and builds the [`PurchaseOrder`]. What is missing is
//! reported as a [`Field`]; the plugin words the error, because only it knows its
//! format's element and segment names.
//!
//! ```
//! use jembatan_plugin_sdk::draft::{Defaults, Field, LineDraft, OrderDraft};
//! use jembatan_plugin_sdk::{Decimal, NaiveDate, PluginError};
//!
//! let mut draft = OrderDraft::default();
//! draft.number = Some("PO-1".into());
//! draft.issue_date = NaiveDate::from_ymd_opt(2026, 11, 3);
//! draft.buyer.name = Some("Bengkel Jaya".into());
//! draft.lines.push(LineDraft {
//!     quantity: Some(Decimal::from(2)),
//!     description: Some("Brake pad".into()),
//!     ..LineDraft::default()
//! });
//! let defaults = Defaults { supplier_code: Some("SUP-1"), ..Defaults::default() };
//! let order = draft
//!     .finish(&defaults, |field, _| PluginError::new("missing-field", format!("{field:?}")))
//!     .unwrap();
//! assert_eq!(order.lines[0].line_number, "1");
//! assert_eq!(order.lines[0].unit, "H87");
//! ```

use jembatan_schemas::{
    Address, Contact, DEFAULT_CURRENCY, Delivery, OrderLine, Party, PurchaseOrder, Supplier, Totals,
};
use rust_decimal::Decimal;

use crate::{NaiveDate, PluginError};

/// The unit of a quantity without one when a plugin's config names none: piece
/// (UN/ECE Rec 20 `H87`).
pub const DEFAULT_UNIT: &str = "H87";

/// A required canonical field the message did not give, for the plugin to word.
///
/// Line variants carry the index into [`OrderDraft::lines`] (0-based), so the
/// plugin can read the line's [`LineDraft::offset`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    OrderNumber,
    IssueDate,
    BuyerName,
    SupplierCode,
    /// The message has no lines at all.
    Lines,
    /// A line has no number, and [`Defaults::number_lines_by_position`] is off.
    LineNumber(usize),
    /// A line has no quantity.
    Quantity(usize),
    /// A line has no unit, and [`Defaults::unit`] is `None`.
    Unit(usize),
    /// A line has neither item codes nor a description.
    Item(usize),
}

/// What [`OrderDraft::finish`] fills in where the message is silent; usually read
/// from the plugin config.
#[derive(Debug, Clone, Copy)]
pub struct Defaults<'a> {
    /// The buyer's name when the message gives none.
    pub buyer_name: Option<&'a str>,
    /// The supplier's code when the message gives none.
    pub supplier_code: Option<&'a str>,
    /// The currency when the message names none; [`DEFAULT_CURRENCY`] without it.
    pub currency: Option<&'a str>,
    /// The unit of a quantity without one; `None` makes a unit required
    /// ([`Field::Unit`]).
    pub unit: Option<&'a str>,
    /// Whether a line without a number is numbered by its position (1-based);
    /// otherwise a number is required ([`Field::LineNumber`]).
    pub number_lines_by_position: bool,
}

impl Default for Defaults<'_> {
    /// No config defaults, unit [`DEFAULT_UNIT`], lines numbered by position.
    fn default() -> Self {
        Defaults {
            buyer_name: None,
            supplier_code: None,
            currency: None,
            unit: Some(DEFAULT_UNIT),
            number_lines_by_position: true,
        }
    }
}

/// The order as read, every field optional until [`OrderDraft::finish`].
#[derive(Debug, Default)]
pub struct OrderDraft {
    pub number: Option<String>,
    pub issue_date: Option<NaiveDate>,
    pub currency: Option<String>,
    pub notes: Vec<String>,
    pub buyer: PartyDraft,
    pub supplier_code: Option<String>,
    pub supplier_name: Option<String>,
    /// Where to deliver; an all-empty address means none was given.
    pub delivery_address: Address,
    pub delivery_date: Option<NaiveDate>,
    /// All-empty totals mean none were given.
    pub totals: Totals,
    pub lines: Vec<LineDraft>,
}

/// A party as read.
#[derive(Debug, Default)]
pub struct PartyDraft {
    pub id: Option<String>,
    pub name: Option<String>,
    pub tax_id: Option<String>,
    /// An all-empty address means none was given.
    pub address: Address,
    /// An all-empty contact means none was given.
    pub contact: Contact,
}

/// An order line as read.
#[derive(Debug, Default)]
pub struct LineDraft {
    /// Byte offset of the line's start in the message, for errors about it.
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

/// Sets a single-valued field unless it is set: the first occurrence wins.
pub fn set_once<T>(field: &mut Option<T>, value: T) {
    if field.is_none() {
        *field = Some(value);
    }
}

/// Appends text to a multi-valued text field, joined by `separator`; empty text
/// is skipped.
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
    /// Checks required fields, applies `defaults` and builds the order.
    ///
    /// Fields are checked in a fixed order (order number, issue date, buyer name,
    /// supplier code, lines, then each line's number, quantity, unit and item), and
    /// the first missing one is worded by `missing`, which also sees the draft.
    pub fn finish(
        self,
        defaults: &Defaults<'_>,
        missing: impl FnOnce(Field, &Self) -> PluginError,
    ) -> Result<PurchaseOrder, PluginError> {
        match self.first_missing(defaults) {
            Some(field) => Err(missing(field, &self)),
            None => Ok(self.build(defaults)),
        }
    }

    fn first_missing(&self, defaults: &Defaults<'_>) -> Option<Field> {
        if self.number.is_none() {
            return Some(Field::OrderNumber);
        }
        if self.issue_date.is_none() {
            return Some(Field::IssueDate);
        }
        if self.buyer.name.is_none() && defaults.buyer_name.is_none() {
            return Some(Field::BuyerName);
        }
        if self.supplier_code.is_none() && defaults.supplier_code.is_none() {
            return Some(Field::SupplierCode);
        }
        if self.lines.is_empty() {
            return Some(Field::Lines);
        }
        self.lines.iter().enumerate().find_map(|(i, line)| {
            if line.number.is_none() && !defaults.number_lines_by_position {
                Some(Field::LineNumber(i))
            } else if line.quantity.is_none() {
                Some(Field::Quantity(i))
            } else if line.unit.is_none() && defaults.unit.is_none() {
                Some(Field::Unit(i))
            } else if line.description.is_none()
                && line.buyer_code.is_none()
                && line.supplier_code.is_none()
            {
                Some(Field::Item(i))
            } else {
                None
            }
        })
    }

    /// Builds the order; [`Self::first_missing`] has found nothing missing.
    fn build(self, defaults: &Defaults<'_>) -> PurchaseOrder {
        let or_default = |value: Option<String>, default: Option<&str>| {
            value
                .or_else(|| default.map(str::to_owned))
                .unwrap_or_default()
        };
        let lines = self
            .lines
            .into_iter()
            .enumerate()
            .map(|(i, line)| OrderLine {
                // Most formats let the line number be left out; its position is
                // then the only name the line has.
                line_number: line.number.unwrap_or_else(|| (i + 1).to_string()),
                buyer_item_code: line.buyer_code,
                supplier_item_code: line.supplier_code,
                description: line.description,
                quantity: line.quantity.unwrap_or_default(),
                unit: or_default(line.unit, defaults.unit),
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
        PurchaseOrder {
            buyer_order_number: self.number.unwrap_or_default(),
            issue_date: self.issue_date.unwrap_or_default(),
            currency: self
                .currency
                .or_else(|| defaults.currency.map(str::to_owned))
                .unwrap_or_else(|| DEFAULT_CURRENCY.to_owned()),
            buyer: Party {
                id: buyer.id,
                name: or_default(buyer.name, defaults.buyer_name),
                tax_id: buyer.tax_id,
                address: non_empty(buyer.address),
                contact: (buyer.contact != Contact::default()).then_some(buyer.contact),
            },
            supplier: Supplier {
                code: or_default(self.supplier_code, defaults.supplier_code),
                name: self.supplier_name,
            },
            delivery: (delivery != Delivery::default()).then_some(delivery),
            lines,
            notes: self.notes,
            totals: (self.totals != Totals::default()).then_some(self.totals),
        }
    }
}

fn non_empty(address: Address) -> Option<Address> {
    (address != Address::default()).then_some(address)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn complete() -> OrderDraft {
        OrderDraft {
            number: Some("PO-1".into()),
            issue_date: NaiveDate::from_ymd_opt(2026, 11, 3),
            buyer: PartyDraft {
                name: Some("Bengkel Jaya".into()),
                ..PartyDraft::default()
            },
            supplier_code: Some("SUP-1".into()),
            lines: vec![LineDraft {
                quantity: Some(Decimal::from(2)),
                buyer_code: Some("B-1".into()),
                ..LineDraft::default()
            }],
            ..OrderDraft::default()
        }
    }

    fn missing_field(draft: OrderDraft, defaults: &Defaults<'_>) -> Field {
        let mut seen = None;
        draft
            .finish(defaults, |field, _| {
                seen = Some(field);
                PluginError::new("missing-field", "")
            })
            .unwrap_err();
        seen.unwrap()
    }

    #[test]
    fn a_complete_draft_gets_the_defaults() {
        let order = complete()
            .finish(&Defaults::default(), |_, _| unreachable!())
            .unwrap();
        assert_eq!(order.currency, DEFAULT_CURRENCY);
        assert_eq!(order.lines[0].line_number, "1");
        assert_eq!(order.lines[0].unit, DEFAULT_UNIT);
        assert_eq!(order.buyer.address, None);
        assert_eq!(order.buyer.contact, None);
        assert_eq!(order.delivery, None);
        assert_eq!(order.totals, None);
    }

    #[test]
    fn config_defaults_fill_what_the_message_lacks() {
        let mut draft = complete();
        draft.buyer.name = None;
        draft.supplier_code = None;
        let defaults = Defaults {
            buyer_name: Some("Config buyer"),
            supplier_code: Some("CFG"),
            currency: Some("EUR"),
            unit: Some("KGM"),
            number_lines_by_position: true,
        };
        let order = draft.finish(&defaults, |_, _| unreachable!()).unwrap();
        assert_eq!(order.buyer.name, "Config buyer");
        assert_eq!(order.supplier.code, "CFG");
        assert_eq!(order.currency, "EUR");
        assert_eq!(order.lines[0].unit, "KGM");
    }

    #[test]
    fn the_message_wins_over_defaults() {
        let mut draft = complete();
        draft.currency = Some("USD".into());
        draft.lines[0].unit = Some("BX".into());
        draft.lines[0].number = Some("10".into());
        let defaults = Defaults {
            buyer_name: Some("Config buyer"),
            supplier_code: Some("CFG"),
            currency: Some("EUR"),
            ..Defaults::default()
        };
        let order = draft.finish(&defaults, |_, _| unreachable!()).unwrap();
        assert_eq!(order.buyer.name, "Bengkel Jaya");
        assert_eq!(order.supplier.code, "SUP-1");
        assert_eq!(order.currency, "USD");
        assert_eq!(order.lines[0].unit, "BX");
        assert_eq!(order.lines[0].line_number, "10");
    }

    #[test]
    fn the_first_missing_field_is_reported_in_order() {
        let defaults = Defaults::default();
        assert_eq!(
            missing_field(OrderDraft::default(), &defaults),
            Field::OrderNumber
        );
        let mut draft = complete();
        draft.issue_date = None;
        draft.buyer.name = None;
        assert_eq!(missing_field(draft, &defaults), Field::IssueDate);
        let mut draft = complete();
        draft.buyer.name = None;
        draft.supplier_code = None;
        assert_eq!(missing_field(draft, &defaults), Field::BuyerName);
        let mut draft = complete();
        draft.supplier_code = None;
        assert_eq!(missing_field(draft, &defaults), Field::SupplierCode);
        let mut draft = complete();
        draft.lines.clear();
        assert_eq!(missing_field(draft, &defaults), Field::Lines);
    }

    #[test]
    fn line_checks_name_the_line_and_follow_the_defaults() {
        let mut draft = complete();
        draft.lines.push(LineDraft::default());
        assert_eq!(
            missing_field(draft, &Defaults::default()),
            Field::Quantity(1)
        );

        let strict = Defaults {
            unit: None,
            number_lines_by_position: false,
            ..Defaults::default()
        };
        assert_eq!(missing_field(complete(), &strict), Field::LineNumber(0));
        let mut draft = complete();
        draft.lines[0].number = Some("1".into());
        assert_eq!(missing_field(draft, &strict), Field::Unit(0));
        let mut draft = complete();
        draft.lines[0].buyer_code = None;
        assert_eq!(missing_field(draft, &Defaults::default()), Field::Item(0));
    }

    #[test]
    fn the_wording_sees_the_draft() {
        let mut draft = complete();
        draft.lines[0].offset = 42;
        draft.lines[0].quantity = None;
        let error = draft
            .finish(&Defaults::default(), |field, draft| {
                let Field::Quantity(i) = field else {
                    unreachable!()
                };
                PluginError::new("missing-field", format!("at {}", draft.lines[i].offset))
            })
            .unwrap_err();
        assert_eq!(error.message, "at 42");
    }

    #[test]
    fn empty_parts_are_left_out_and_given_ones_kept() {
        let mut draft = complete();
        draft.delivery_date = NaiveDate::from_ymd_opt(2026, 11, 10);
        draft.buyer.contact.email = Some("a@b.id".into());
        draft.totals.payable = Some(Decimal::from(5));
        let order = draft
            .finish(&Defaults::default(), |_, _| unreachable!())
            .unwrap();
        let delivery = order.delivery.unwrap();
        assert_eq!(delivery.address, None);
        assert_eq!(
            delivery.requested_date,
            NaiveDate::from_ymd_opt(2026, 11, 10)
        );
        assert_eq!(
            order.buyer.contact.unwrap().email.as_deref(),
            Some("a@b.id")
        );
        assert_eq!(order.totals.unwrap().payable, Some(Decimal::from(5)));
    }

    #[test]
    fn set_once_keeps_the_first_and_append_joins() {
        let mut field = None;
        set_once(&mut field, 1);
        set_once(&mut field, 2);
        assert_eq!(field, Some(1));

        let mut text = None;
        append(&mut text, "", "\n");
        assert_eq!(text, None);
        append(&mut text, "a", "\n");
        append(&mut text, "", "\n");
        append(&mut text, "b", "\n");
        assert_eq!(text.as_deref(), Some("a\nb"));
    }
}
