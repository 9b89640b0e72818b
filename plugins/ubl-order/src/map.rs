//! The UBL 2.1 Order → canonical order mapping, one match arm per UBL path.
//!
//! Paths are relative to the root `Order` element and made of [`Name`]s, so an arm
//! reads like the UBL path it maps (`[N::Delivery, N::RequestedDeliveryPeriod,
//! N::StartDate]`). Elements the mapping does not name are skipped with their
//! subtree, whatever they contain.

use jembatan_plugin_sdk::draft::{first, has_item_id, item_id, note, party_id, unit_price};
use jembatan_plugin_sdk::{Address, AllowanceChargeLevel, Contact, ItemIdRole, party_scheme};
use quick_xml::XmlVersion;
use quick_xml::events::BytesStart;

use crate::draft::{Allowance, LineDraft, OrderDraft, append, set_once};
use crate::names::Name as N;
use jembatan_plugin_sdk::values::{country, currency, date, decimal, unit};

/// A value that cannot be read, and the attribute it is in, if any.
#[derive(Debug)]
pub struct Fault {
    pub message: String,
    /// `Some("unitCode")` when the fault is in an attribute of the element.
    pub attribute: Option<&'static str>,
}

impl From<String> for Fault {
    fn from(message: String) -> Self {
        Self {
            message,
            attribute: None,
        }
    }
}

/// Called when an element starts; `path` ends with it.
pub fn on_start(
    draft: &mut OrderDraft,
    path: &[N],
    start: &BytesStart<'_>,
    offset: usize,
) -> Result<(), Fault> {
    match path {
        [N::OrderLine] => draft.lines.push(LineDraft {
            offset,
            ..LineDraft::default()
        }),
        [N::Delivery] => draft.deliveries += 1,
        [N::OrderLine, N::LineItem, N::Quantity] => {
            let fault = |message: String| Fault {
                message,
                attribute: Some("unitCode"),
            };
            let attribute = start
                .try_get_attribute("unitCode")
                .map_err(|e| fault(format!("unreadable attribute: {e}")))?;
            if let Some(attribute) = attribute {
                let value = attribute
                    .normalized_value(XmlVersion::Implicit1_0)
                    .map_err(|e| fault(format!("unreadable unitCode: {e}")))?;
                let value = unit(value.trim()).map_err(fault)?;
                if let Some(line) = draft.lines.last_mut() {
                    set_once(&mut line.unit, value);
                }
            }
        }
        _ => {}
    }
    Ok(())
}

/// Called when an element ends, with its trimmed text; `path` ends with it.
/// Empty text is treated as absent.
pub fn on_end(draft: &mut OrderDraft, path: &[N], text: &str) -> Result<(), Fault> {
    // An allowance or charge is complete when its element ends (no text of its own).
    match path {
        [N::AllowanceCharge] => {
            match draft.allowance.take(AllowanceChargeLevel::Order) {
                Allowance::Read(allowance) => draft.allowances_charges.push(allowance),
                Allowance::Note(note) => draft.notes.push(note),
            }
            return Ok(());
        }
        [N::OrderLine, N::LineItem, N::AllowanceCharge] => {
            let allowance = draft.allowance.take(AllowanceChargeLevel::Line);
            if let Some(line) = draft.lines.last_mut() {
                match allowance {
                    Allowance::Read(allowance) => line.allowances_charges.push(allowance),
                    Allowance::Note(note) => line.notes.push(note),
                }
            }
            return Ok(());
        }
        _ => {}
    }
    if text.is_empty() {
        return Ok(());
    }
    match path {
        [N::AllowanceCharge, rest @ ..]
        | [N::OrderLine, N::LineItem, N::AllowanceCharge, rest @ ..] => {
            allowance(draft, rest, text)?;
        }
        [N::ID] => set_once(&mut draft.number, text.to_owned()),
        [N::IssueDate] => set_once(&mut draft.issue_date, date(text)?),
        [N::DocumentCurrencyCode] => set_once(&mut draft.currency, currency(text)?),
        [N::Note] => draft.notes.extend(note(text)),
        [N::BuyerCustomerParty, N::Party, rest @ ..] => buyer(draft, rest, text)?,
        [N::SellerSupplierParty, N::CustomerAssignedAccountID] => {
            set_once(&mut draft.supplier_account_id, text.to_owned());
        }
        [
            N::SellerSupplierParty,
            N::Party,
            N::PartyIdentification,
            N::ID,
        ] => {
            set_once(&mut draft.supplier_party_id, text.to_owned());
        }
        // Peppol BIS 3 names the seller by its legal entity.
        [N::SellerSupplierParty, N::Party, N::PartyName, N::Name] => {
            set_once(&mut draft.supplier.name, text.to_owned());
        }
        [
            N::SellerSupplierParty,
            N::Party,
            N::PartyLegalEntity,
            N::RegistrationName,
        ] => {
            set_once(&mut draft.supplier.legal_name, text.to_owned());
        }
        [N::Delivery, rest @ ..] if draft.deliveries == 1 => delivery(draft, rest, text)?,
        [N::AnticipatedMonetaryTotal, N::LineExtensionAmount] => {
            set_once(&mut draft.totals.line_extension, decimal(text)?);
        }
        [N::AnticipatedMonetaryTotal, N::PayableAmount] => {
            set_once(&mut draft.totals.payable, decimal(text)?);
        }
        [N::TaxTotal, N::TaxAmount] => set_once(&mut draft.totals.tax_total, decimal(text)?),
        [N::OrderLine, rest @ ..] => {
            if let Some(line) = draft.lines.last_mut() {
                order_line(line, rest, text)?;
            }
        }
        _ => {}
    }
    Ok(())
}

fn allowance(draft: &mut OrderDraft, path: &[N], text: &str) -> Result<(), Fault> {
    let allowance = &mut draft.allowance;
    match path {
        [N::ChargeIndicator] => allowance.charge = text == "true",
        [N::AllowanceChargeReason] => set_once(&mut allowance.reason, text.to_owned()),
        [N::Amount] => set_once(&mut allowance.amount, decimal(text)?),
        _ => {}
    }
    Ok(())
}

fn delivery(draft: &mut OrderDraft, path: &[N], text: &str) -> Result<(), Fault> {
    match path {
        [N::DeliveryAddress, rest @ ..] | [N::DeliveryLocation, N::Address, rest @ ..] => {
            address(&mut draft.delivery_address, rest, text)?;
        }
        [N::RequestedDeliveryPeriod, N::StartDate] => {
            set_once(&mut draft.delivery_period.start, date(text)?);
        }
        [N::RequestedDeliveryPeriod, N::EndDate] => {
            set_once(&mut draft.delivery_period.end, date(text)?);
        }
        _ => {}
    }
    Ok(())
}

fn buyer(draft: &mut OrderDraft, path: &[N], text: &str) -> Result<(), Fault> {
    let party = &mut draft.buyer;
    // One id of each kind, the first; `schemeID` is not mapped yet.
    let mut add_id = |scheme: &str| {
        if !party.ids.iter().any(|id| id.scheme == scheme) {
            party.ids.push(party_id(scheme, text));
        }
    };
    match path {
        [N::PartyIdentification, N::ID] => add_id(party_scheme::UNSPECIFIED),
        [N::PartyTaxScheme, N::CompanyID] => add_id(party_scheme::TAX),
        [N::PartyName, N::Name] => set_once(&mut party.name, text.to_owned()),
        [N::PartyLegalEntity, N::RegistrationName] => {
            set_once(&mut party.legal_name, text.to_owned());
        }
        [N::PostalAddress, rest @ ..] => {
            address(party.address.get_or_insert_default(), rest, text)?;
        }
        [N::Contact, rest @ ..] => contact(first(&mut party.contacts), rest, text),
        _ => {}
    }
    Ok(())
}

fn address(address: &mut Address, path: &[N], text: &str) -> Result<(), Fault> {
    let field = match path {
        [N::StreetName] => &mut address.street,
        [N::AdditionalStreetName] => &mut address.additional_street,
        [N::CityName] => &mut address.city,
        [N::PostalZone] => &mut address.postal_code,
        [N::CountrySubentity] => &mut address.region,
        [N::Country, N::IdentificationCode] => {
            set_once(&mut address.country, country(text)?);
            return Ok(());
        }
        _ => return Ok(()),
    };
    set_once(field, text.to_owned());
    Ok(())
}

fn contact(contact: &mut Contact, path: &[N], text: &str) {
    let field = match path {
        [N::Name] => &mut contact.name,
        [N::Telephone] => &mut contact.phone,
        [N::ElectronicMail] => &mut contact.email,
        _ => return,
    };
    set_once(field, text.to_owned());
}

fn order_line(line: &mut LineDraft, path: &[N], text: &str) -> Result<(), Fault> {
    match path {
        // UBL puts notes on the OrderLine and on its LineItem; both are the line's.
        [N::Note] | [N::LineItem, N::Note] => line.notes.extend(note(text)),
        [N::LineItem, N::ID] => set_once(&mut line.id, text.to_owned()),
        [N::LineItem, N::Quantity] => set_once(&mut line.quantity, decimal(text)?),
        [N::LineItem, N::LineExtensionAmount] => set_once(&mut line.line_total, decimal(text)?),
        [N::LineItem, N::Price, N::PriceAmount] => {
            set_once(&mut line.price, unit_price(decimal(text)?));
        }
        [N::LineItem, N::Item, N::Description] => append(&mut line.item.description, text, "\n"),
        [N::LineItem, N::Item, N::Name] => set_once(&mut line.item.name, text.to_owned()),
        [N::LineItem, N::Item, N::BuyersItemIdentification, N::ID] => {
            item(line, ItemIdRole::Buyer, text);
        }
        [N::LineItem, N::Item, N::SellersItemIdentification, N::ID] => {
            item(line, ItemIdRole::Supplier, text);
        }
        [
            N::LineItem,
            N::Delivery,
            N::RequestedDeliveryPeriod,
            N::StartDate,
        ] => {
            set_once(&mut line.period.start, date(text)?);
        }
        [
            N::LineItem,
            N::Delivery,
            N::RequestedDeliveryPeriod,
            N::EndDate,
        ] => {
            set_once(&mut line.period.end, date(text)?);
        }
        _ => {}
    }
    Ok(())
}

/// UBL has one buyer's and one seller's item identification per item.
fn item(line: &mut LineDraft, role: ItemIdRole, value: &str) {
    if !has_item_id(&line.item, role) {
        line.item.ids.push(item_id(role, value));
    }
}
