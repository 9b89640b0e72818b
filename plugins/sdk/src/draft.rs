//! An order as read so far, before required fields are checked.
//!
//! Every stock plugin reads the same way: it fills an [`OrderDraft`] while it walks
//! the message (first occurrence wins for single-valued fields, see [`set_once`]),
//! then [`OrderDraft::finish`] checks what the canonical order (v2,
//! `schemas/purchase-order-v2.schema.json`) requires, applies the plugin's
//! [`Defaults`] and builds the [`PurchaseOrder`]. What is missing is reported as a
//! [`Field`]; the plugin words the error, because only it knows its format's element
//! and segment names.
//!
//! The draft holds the v2 types themselves wherever they have no required field
//! (parties, addresses, deliveries, items, totals …), so a plugin fills them in
//! place; parts left empty (an address with no field set, a contact with none, a
//! delivery with nothing in it) are left out of the order by `finish`, so a plugin
//! may create them as soon as their element starts.
//!
//! ```
//! use jembatan_plugin_sdk::draft::{Defaults, Field, LineDraft, OrderDraft};
//! use jembatan_plugin_sdk::{Decimal, NaiveDate, PluginError};
//!
//! let mut draft = OrderDraft::new("my-plugin", "ACME CSV");
//! draft.number = Some("PO-1".into());
//! draft.issue_date = NaiveDate::from_ymd_opt(2026, 11, 3);
//! draft.lines.push(LineDraft {
//!     quantity: Some(Decimal::from(2)),
//!     ..LineDraft::default()
//! });
//! draft.lines[0].item.name = Some("Brake pad".into());
//! let defaults = Defaults { supplier_code: Some("SUP-1"), ..Defaults::default() };
//! let order = draft
//!     .finish(&defaults, |field, _| PluginError::new("missing-field", format!("{field:?}")))
//!     .unwrap();
//! assert_eq!(order.lines[0].line_number, "1");
//! assert_eq!(order.lines[0].unit, "H87");
//! // No buyer in the document: the gateway fills it from the buyer's registration.
//! assert_eq!(order.buyer, None);
//! ```

use jembatan_schemas::DEFAULT_CURRENCY;
use jembatan_schemas::v2::{
    Address, AllowanceCharge, Contact, Delivery, DeliveryTerms, Document, Extension, Item, ItemId,
    ItemIdRole, LineTax, Location, Note, OrderLine, OrderType, OriginalCode, OtherParty, Packaging,
    Party, PartyId, PartySource, PaymentTerms, Price, PurchaseOrder, Purpose, Reference,
    ScheduleLine, Source, Supplier, TaxSubtotal, Totals, Version, Warning,
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
    /// The message describes the buyer (an address, a contact) but gives neither a
    /// name nor an id, and [`Defaults::buyer_name`] is `None`. A message that says
    /// nothing of the buyer is fine: the gateway fills the buyer from its
    /// registration.
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
    /// A line's item has neither a name, a description nor an id.
    Item(usize),
}

/// What [`OrderDraft::finish`] fills in where the message is silent; usually read
/// from the plugin config.
#[derive(Debug, Clone, Copy)]
pub struct Defaults<'a> {
    /// The buyer's name when the message gives none (no name or legal name).
    /// Optional: without it an order whose message names no buyer has none, and
    /// the gateway takes the buyer from its registration.
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

/// The order as read; the fields the canonical order requires are optional here
/// until [`OrderDraft::finish`]. Each field is the v2 field of the same name.
#[derive(Debug)]
pub struct OrderDraft {
    /// `buyer_order_number`.
    pub number: Option<String>,
    pub issue_date: Option<NaiveDate>,
    pub purpose: Option<Purpose>,
    pub order_type: Option<OrderType>,
    pub currency: Option<String>,
    /// What the document was; [`OrderDraft::new`] sets its format and syntax.
    pub source: Source,
    /// The buyer as the document names it; left empty, the order has no buyer
    /// (see [`Defaults::buyer_name`]).
    pub buyer: Party,
    /// `supplier.code`, the routing key.
    pub supplier_code: Option<String>,
    /// The rest of `supplier`.
    pub supplier: Party,
    pub other_parties: Vec<OtherParty>,
    pub delivery: Delivery,
    pub delivery_terms: DeliveryTerms,
    pub payment_terms: Vec<PaymentTerms>,
    pub allowances_charges: Vec<AllowanceCharge>,
    pub taxes: Vec<TaxSubtotal>,
    pub totals: Totals,
    pub references: Vec<Reference>,
    pub documents: Vec<Document>,
    pub notes: Vec<Note>,
    pub lines: Vec<LineDraft>,
    pub extensions: Vec<Extension>,
    pub warnings: Vec<Warning>,
}

/// An order line as read; each field is the v2 line field of the same name.
#[derive(Debug, Default)]
pub struct LineDraft {
    /// Byte offset of the line's start in the message, for errors about it.
    pub offset: usize,
    /// `line_number`.
    pub number: Option<String>,
    /// `parent_line_number`.
    pub parent_number: Option<String>,
    pub item: Item,
    pub quantity: Option<Decimal>,
    pub unit: Option<String>,
    pub unit_original: Option<OriginalCode>,
    pub price: Option<Price>,
    pub line_total: Option<Decimal>,
    pub delivery: Delivery,
    pub schedule: Vec<ScheduleLine>,
    pub partial_delivery_allowed: Option<bool>,
    pub packaging: Packaging,
    pub allowances_charges: Vec<AllowanceCharge>,
    pub taxes: Vec<LineTax>,
    pub references: Vec<Reference>,
    pub notes: Vec<Note>,
    pub extensions: Vec<Extension>,
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

/// The first element of `list`, added empty when there is none: where a format
/// has one contact (or one of anything) per party, it fills this one.
pub fn first<T: Default>(list: &mut Vec<T>) -> &mut T {
    if list.is_empty() {
        list.push(T::default());
    }
    &mut list[0]
}

/// A note without a subject; empty text gives none.
pub fn note(text: &str) -> Option<Note> {
    (!text.is_empty()).then(|| Note {
        text: text.to_owned(),
        subject: None,
    })
}

/// A price for one of the line's unit (`base_quantity` 1), as most formats state it.
pub fn unit_price(amount: Decimal) -> Price {
    Price::per_unit(amount)
}

/// A party id with its normalized `scheme` (see
/// [`party_scheme`](jembatan_schemas::v2::party_scheme)) and no raw qualifier.
pub fn party_id(scheme: &str, value: &str) -> PartyId {
    PartyId {
        scheme: scheme.to_owned(),
        value: value.to_owned(),
        qualifier: None,
    }
}

/// An item id of `role`, without scheme or qualifier.
pub fn item_id(role: ItemIdRole, value: &str) -> ItemId {
    ItemId {
        role,
        scheme: None,
        value: value.to_owned(),
        qualifier: None,
    }
}

/// Whether `item` has an id of `role`; formats that read one id per role keep the
/// first.
pub fn has_item_id(item: &Item, role: ItemIdRole) -> bool {
    item.ids.iter().any(|id| id.role == role)
}

impl OrderDraft {
    /// An empty draft of a document in `format` (the plugin's name) and `syntax`
    /// (`UBL`, `X12`, `cXML` …): the order's `source`.
    pub fn new(format: &str, syntax: &str) -> Self {
        OrderDraft {
            number: None,
            issue_date: None,
            purpose: None,
            order_type: None,
            currency: None,
            source: Source {
                format: format.to_owned(),
                syntax: syntax.to_owned(),
                customization: None,
                profile: None,
                control_number: None,
            },
            buyer: Party::default(),
            supplier_code: None,
            supplier: Party::default(),
            other_parties: Vec::new(),
            delivery: Delivery::default(),
            delivery_terms: DeliveryTerms::default(),
            payment_terms: Vec::new(),
            allowances_charges: Vec::new(),
            taxes: Vec::new(),
            totals: Totals::default(),
            references: Vec::new(),
            documents: Vec::new(),
            notes: Vec::new(),
            lines: Vec::new(),
            extensions: Vec::new(),
            warnings: Vec::new(),
        }
    }

    /// The delivery address, created empty when there is none yet.
    pub fn delivery_address(&mut self) -> &mut Address {
        delivery_address(&mut self.delivery)
    }

    /// Checks required fields, applies `defaults` and builds the order.
    ///
    /// Fields are checked in a fixed order (order number, issue date, buyer,
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
        let buyer = prune_party(self.buyer.clone());
        if buyer != Party::default() && !is_named(&buyer) && defaults.buyer_name.is_none() {
            return Some(Field::BuyerName);
        }
        if self.supplier_code.is_none() && defaults.supplier_code.is_none() {
            return Some(Field::SupplierCode);
        }
        if self.lines.is_empty() {
            return Some(Field::Lines);
        }
        self.lines.iter().enumerate().find_map(|(i, line)| {
            let item = &line.item;
            if line.number.is_none() && !defaults.number_lines_by_position {
                Some(Field::LineNumber(i))
            } else if line.quantity.is_none() {
                Some(Field::Quantity(i))
            } else if line.unit.is_none() && defaults.unit.is_none() {
                Some(Field::Unit(i))
            } else if item.name.is_none() && item.description.is_none() && item.ids.is_empty() {
                Some(Field::Item(i))
            } else {
                None
            }
        })
    }

    /// Builds the order; [`Self::first_missing`] has found nothing missing.
    fn build(self, defaults: &Defaults<'_>) -> PurchaseOrder {
        let lines = self
            .lines
            .into_iter()
            .enumerate()
            .map(|(i, line)| OrderLine {
                // Most formats let the line number be left out; its position is
                // then the only name the line has.
                line_number: line.number.unwrap_or_else(|| (i + 1).to_string()),
                parent_line_number: line.parent_number,
                item: line.item,
                quantity: line.quantity.unwrap_or_default(),
                unit: line
                    .unit
                    .or_else(|| defaults.unit.map(str::to_owned))
                    .unwrap_or_default(),
                unit_original: line.unit_original,
                price: line.price,
                line_total: line.line_total,
                delivery: prune_delivery(line.delivery),
                schedule: line.schedule,
                partial_delivery_allowed: line.partial_delivery_allowed,
                packaging: non_default(line.packaging),
                allowances_charges: line.allowances_charges,
                taxes: line.taxes,
                references: line.references,
                notes: line.notes,
                extensions: line.extensions,
            })
            .collect();
        let supplier = prune_party(self.supplier);
        let supplier_source = if self.supplier_code.is_some() || supplier != Party::default() {
            PartySource::Document
        } else {
            PartySource::Config
        };
        PurchaseOrder {
            version: Version::V2,
            buyer_order_number: self.number.unwrap_or_default(),
            issue_date: self.issue_date.unwrap_or_default(),
            purpose: self.purpose,
            order_type: self.order_type,
            currency: self
                .currency
                .or_else(|| defaults.currency.map(str::to_owned))
                .unwrap_or_else(|| DEFAULT_CURRENCY.to_owned()),
            source: self.source,
            buyer: build_buyer(self.buyer, defaults.buyer_name),
            supplier: Supplier {
                code: self
                    .supplier_code
                    .or_else(|| defaults.supplier_code.map(str::to_owned))
                    .unwrap_or_default(),
                source: supplier.source.or(Some(supplier_source)),
                name: supplier.name,
                legal_name: supplier.legal_name,
                ids: supplier.ids,
                address: supplier.address,
                contacts: supplier.contacts,
            },
            other_parties: self
                .other_parties
                .into_iter()
                .map(|other| OtherParty {
                    party: prune_party(other.party),
                    ..other
                })
                .collect(),
            delivery: prune_delivery(self.delivery),
            delivery_terms: non_default(self.delivery_terms),
            payment_terms: self.payment_terms,
            allowances_charges: self.allowances_charges,
            taxes: self.taxes,
            totals: non_default(self.totals),
            references: self.references,
            documents: self.documents,
            notes: self.notes,
            lines,
            extensions: self.extensions,
            warnings: self.warnings,
            received: None,
        }
    }
}

impl LineDraft {
    /// This line's delivery address, created empty when there is none yet.
    pub fn delivery_address(&mut self) -> &mut Address {
        delivery_address(&mut self.delivery)
    }
}

fn delivery_address(delivery: &mut Delivery) -> &mut Address {
    delivery
        .location
        .get_or_insert_default()
        .address
        .get_or_insert_default()
}

/// The buyer as the document gives it, named by the config when the document
/// gives no name; none when neither names it (the gateway then fills it from the
/// buyer's registration). Its source is the document when the document named or
/// identified it, else the config.
fn build_buyer(buyer: Party, config_name: Option<&str>) -> Option<Party> {
    let mut buyer = prune_party(buyer);
    let source = if is_named(&buyer) {
        PartySource::Document
    } else {
        PartySource::Config
    };
    if buyer.name.is_none() && buyer.legal_name.is_none() {
        buyer.name = config_name.map(str::to_owned);
    }
    if !is_named(&buyer) {
        return None;
    }
    buyer.source.get_or_insert(source);
    Some(buyer)
}

/// Whether a party has what the schema requires of one: a name, a legal name or
/// an id.
fn is_named(party: &Party) -> bool {
    party.name.is_some() || party.legal_name.is_some() || !party.ids.is_empty()
}

fn non_default<T: Default + PartialEq>(value: T) -> Option<T> {
    (value != T::default()).then_some(value)
}

fn prune_address(address: Option<Address>) -> Option<Address> {
    address.and_then(non_default)
}

fn prune_contacts(contacts: Vec<Contact>) -> Vec<Contact> {
    contacts
        .into_iter()
        .filter(|c| *c != Contact::default())
        .collect()
}

fn prune_party(party: Party) -> Party {
    Party {
        address: prune_address(party.address),
        contacts: prune_contacts(party.contacts),
        ..party
    }
}

fn prune_delivery(delivery: Delivery) -> Option<Delivery> {
    let location = delivery.location.and_then(|location| {
        non_default(Location {
            address: prune_address(location.address),
            ..location
        })
    });
    non_default(Delivery {
        location,
        party: delivery.party.map(prune_party).and_then(non_default),
        contacts: prune_contacts(delivery.contacts),
        transport: delivery.transport.and_then(non_default),
        ..delivery
    })
}

#[cfg(test)]
mod tests {
    use jembatan_schemas::v2::party_scheme;

    use super::*;

    fn complete() -> OrderDraft {
        let mut draft = OrderDraft::new("test", "test syntax");
        draft.number = Some("PO-1".into());
        draft.issue_date = NaiveDate::from_ymd_opt(2026, 11, 3);
        draft.buyer.name = Some("Bengkel Jaya".into());
        draft.supplier_code = Some("SUP-1".into());
        let mut line = LineDraft {
            quantity: Some(Decimal::from(2)),
            ..LineDraft::default()
        };
        line.item.ids.push(item_id(ItemIdRole::Buyer, "B-1"));
        draft.lines.push(line);
        draft
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

    fn finish(draft: OrderDraft, defaults: &Defaults<'_>) -> PurchaseOrder {
        draft.finish(defaults, |_, _| unreachable!()).unwrap()
    }

    #[test]
    fn a_complete_draft_gets_the_defaults() {
        let order = finish(complete(), &Defaults::default());
        assert_eq!(order.version, Version::V2);
        assert_eq!(order.source.format, "test");
        assert_eq!(order.source.syntax, "test syntax");
        assert_eq!(order.currency, DEFAULT_CURRENCY);
        assert_eq!(order.lines[0].line_number, "1");
        assert_eq!(order.lines[0].unit, DEFAULT_UNIT);
        let buyer = order.buyer.unwrap();
        assert_eq!(buyer.source, Some(PartySource::Document));
        assert_eq!(buyer.address, None);
        assert!(buyer.contacts.is_empty());
        assert_eq!(order.supplier.source, Some(PartySource::Document));
        assert_eq!(order.delivery, None);
        assert_eq!(order.delivery_terms, None);
        assert_eq!(order.totals, None);
        assert_eq!(order.lines[0].delivery, None);
        assert_eq!(order.lines[0].packaging, None);
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
        let order = finish(draft, &defaults);
        let buyer = order.buyer.unwrap();
        assert_eq!(buyer.name.as_deref(), Some("Config buyer"));
        assert_eq!(buyer.source, Some(PartySource::Config));
        assert_eq!(order.supplier.code, "CFG");
        assert_eq!(order.supplier.source, Some(PartySource::Config));
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
        let order = finish(draft, &defaults);
        assert_eq!(order.buyer.unwrap().name.as_deref(), Some("Bengkel Jaya"));
        assert_eq!(order.supplier.code, "SUP-1");
        assert_eq!(order.currency, "USD");
        assert_eq!(order.lines[0].unit, "BX");
        assert_eq!(order.lines[0].line_number, "10");
    }

    #[test]
    fn an_unnamed_buyer_is_left_to_the_gateway_and_ids_name_one() {
        let mut draft = complete();
        draft.buyer.name = None;
        assert_eq!(finish(draft, &Defaults::default()).buyer, None);

        let mut draft = complete();
        draft.buyer.name = None;
        draft
            .buyer
            .ids
            .push(party_id(party_scheme::UNSPECIFIED, "BY-9"));
        let config = Defaults {
            buyer_name: Some("Config buyer"),
            ..Defaults::default()
        };
        let buyer = finish(draft, &config).buyer.unwrap();
        assert_eq!(buyer.name.as_deref(), Some("Config buyer"));
        assert_eq!(buyer.ids[0].value, "BY-9");
        assert_eq!(buyer.source, Some(PartySource::Document));

        let mut draft = complete();
        draft.buyer.name = None;
        draft
            .buyer
            .ids
            .push(party_id(party_scheme::UNSPECIFIED, "BY-9"));
        let buyer = finish(draft, &Defaults::default()).buyer.unwrap();
        assert_eq!(buyer.name, None);
        assert_eq!(buyer.ids[0].value, "BY-9");
    }

    #[test]
    fn the_first_missing_field_is_reported_in_order() {
        let defaults = Defaults::default();
        assert_eq!(
            missing_field(OrderDraft::new("test", "test"), &defaults),
            Field::OrderNumber
        );
        let mut draft = complete();
        draft.issue_date = None;
        draft.buyer.name = None;
        draft.buyer.address = Some(Address {
            city: Some("Cikarang".into()),
            ..Address::default()
        });
        assert_eq!(missing_field(draft, &defaults), Field::IssueDate);
        // A buyer described but not named cannot be a valid party.
        let mut draft = complete();
        draft.buyer.name = None;
        first(&mut draft.buyer.contacts).email = Some("a@b.id".into());
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
        draft.lines[0].item.ids.clear();
        assert_eq!(missing_field(draft, &Defaults::default()), Field::Item(0));
        let mut draft = complete();
        draft.lines[0].item.ids.clear();
        draft.lines[0].item.name = Some("Flange".into());
        assert!(
            draft
                .finish(&Defaults::default(), |_, _| unreachable!())
                .is_ok()
        );
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
        draft.delivery.requested_date = NaiveDate::from_ymd_opt(2026, 11, 10);
        // Created empty, never filled: left out.
        draft.delivery_address();
        first(&mut draft.buyer.contacts);
        draft.buyer.address = Some(Address::default());
        draft.lines[0].delivery_address();
        first(&mut draft.supplier.contacts).email = Some("a@b.id".into());
        draft.totals.payable = Some(Decimal::from(5));
        let order = finish(draft, &Defaults::default());
        let delivery = order.delivery.unwrap();
        assert_eq!(delivery.location, None);
        assert_eq!(
            delivery.requested_date,
            NaiveDate::from_ymd_opt(2026, 11, 10)
        );
        let buyer = order.buyer.unwrap();
        assert!(buyer.contacts.is_empty());
        assert_eq!(buyer.address, None);
        assert_eq!(order.lines[0].delivery, None);
        assert_eq!(order.supplier.contacts[0].email.as_deref(), Some("a@b.id"));
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
        assert_eq!(note(""), None);
        assert_eq!(note("x").unwrap().text, "x");
    }
}
