//! The UBL 2.1 Order → canonical order mapping, one match arm per UBL path.
//!
//! Paths are relative to the root `Order` element and made of [`Name`]s, so an arm
//! reads like the UBL path it maps (`[N::Delivery, N::RequestedDeliveryPeriod,
//! N::StartDate]`). Elements the mapping does not name are skipped with their
//! subtree, whatever they contain.

use jembatan_plugin_sdk::{Address, Contact};
use quick_xml::XmlVersion;
use quick_xml::events::BytesStart;

use crate::draft::{LineDraft, OrderDraft, append, set_once};
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
        [N::BuyerCustomerParty] => draft.buyer_seen = true,
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
            let note = draft.allowance.take_note();
            draft.notes.push(note);
            return Ok(());
        }
        [N::OrderLine, N::LineItem, N::AllowanceCharge] => {
            let note = draft.allowance.take_note();
            if let Some(line) = draft.lines.last_mut() {
                append(&mut line.note, &note, "\n");
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
        [N::Note] => draft.notes.push(text.to_owned()),
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
        // Peppol BIS 3 names the seller by its legal entity; PartyName, which comes
        // first in UBL's order, wins when both are there.
        [N::SellerSupplierParty, N::Party, N::PartyName, N::Name]
        | [
            N::SellerSupplierParty,
            N::Party,
            N::PartyLegalEntity,
            N::RegistrationName,
        ] => {
            set_once(&mut draft.supplier_name, text.to_owned());
        }
        [N::Delivery, rest @ ..] if draft.deliveries == 1 => delivery(draft, rest, text)?,
        [N::AnticipatedMonetaryTotal, N::LineExtensionAmount] => {
            set_once(&mut draft.totals.line_extension, decimal(text)?);
        }
        [N::AnticipatedMonetaryTotal, N::PayableAmount] => {
            set_once(&mut draft.totals.payable, decimal(text)?);
        }
        [N::TaxTotal, N::TaxAmount] => set_once(&mut draft.totals.tax, decimal(text)?),
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
            set_once(&mut draft.delivery_start, date(text)?);
        }
        [N::RequestedDeliveryPeriod, N::EndDate] => set_once(&mut draft.delivery_end, date(text)?),
        _ => {}
    }
    Ok(())
}

fn buyer(draft: &mut OrderDraft, path: &[N], text: &str) -> Result<(), Fault> {
    let party = &mut draft.buyer;
    match path {
        [N::PartyIdentification, N::ID] => set_once(&mut party.id, text.to_owned()),
        [N::PartyName, N::Name] => set_once(&mut party.name, text.to_owned()),
        [N::PartyLegalEntity, N::RegistrationName] => {
            set_once(&mut draft.buyer_legal_name, text.to_owned());
        }
        [N::PartyTaxScheme, N::CompanyID] => set_once(&mut party.tax_id, text.to_owned()),
        [N::PostalAddress, rest @ ..] => address(&mut party.address, rest, text)?,
        [N::Contact, rest @ ..] => contact(&mut party.contact, rest, text),
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
        [N::Note] | [N::LineItem, N::Note] => append(&mut line.note, text, "\n"),
        [N::LineItem, N::ID] => set_once(&mut line.id, text.to_owned()),
        [N::LineItem, N::Quantity] => set_once(&mut line.quantity, decimal(text)?),
        [N::LineItem, N::LineExtensionAmount] => set_once(&mut line.line_total, decimal(text)?),
        [N::LineItem, N::Price, N::PriceAmount] => set_once(&mut line.unit_price, decimal(text)?),
        [N::LineItem, N::Item, N::Description] => append(&mut line.description, text, "\n"),
        [N::LineItem, N::Item, N::Name] => set_once(&mut line.item_name, text.to_owned()),
        [N::LineItem, N::Item, N::BuyersItemIdentification, N::ID] => {
            set_once(&mut line.buyer_code, text.to_owned());
        }
        [N::LineItem, N::Item, N::SellersItemIdentification, N::ID] => {
            set_once(&mut line.supplier_code, text.to_owned());
        }
        [
            N::LineItem,
            N::Delivery,
            N::RequestedDeliveryPeriod,
            N::StartDate,
        ] => {
            set_once(&mut line.start, date(text)?);
        }
        [
            N::LineItem,
            N::Delivery,
            N::RequestedDeliveryPeriod,
            N::EndDate,
        ] => {
            set_once(&mut line.end, date(text)?);
        }
        _ => {}
    }
    Ok(())
}
