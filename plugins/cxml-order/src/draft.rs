//! What the parser has read so far, before required fields are checked.
//!
//! The cXML-shaped draft keeps what only cXML has (the request kind, the header's
//! credentials, `Address` elements before they are a buyer or a delivery place,
//! contacts before their role says whose they are); [`OrderDraft::finish`] turns it
//! into the SDK's [`draft::OrderDraft`], which checks and builds the order.

use std::collections::BTreeMap;

use jembatan_plugin_sdk::DEFAULT_CURRENCY;
use jembatan_plugin_sdk::draft::{self, DEFAULT_UNIT, Defaults, Field, party_id};
use jembatan_plugin_sdk::v2::Location;
use jembatan_plugin_sdk::{
    Address, AllowanceCharge, Classification, Contact, Decimal, DeliveryTerms, Document, Extension,
    Item, ItemId, ItemProperty, LineTax, NaiveDate, Note, OtherParty, Party, PartyId, PaymentTerms,
    PluginError, Price, PurchaseOrder, Purpose, Reference, ScheduleLine, TaxSubtotal, Totals,
    Warning, party_scheme,
};

use crate::Config;

/// Path of the OrderRequest, the root of every path in errors.
pub const ORDER_REQUEST: &str = "/cXML/Request/OrderRequest";

/// The most extensions an order may carry (docs/canonical-order-v2.md §1.8).
const MAX_EXTENSIONS: usize = 500;

/// A `Credential` of the header's `From` or `To`.
#[derive(Debug, Default)]
pub struct Credential {
    pub domain: Option<String>,
    pub identity: Option<String>,
}

/// A cXML `Address` (`ShipTo`, `BillTo`, `TermsOfDelivery`) before it is placed.
#[derive(Debug, Default)]
pub struct AddressDraft {
    pub name: Option<String>,
    /// `@addressID` and `@addressIDDomain`.
    pub id: Option<String>,
    pub id_domain: Option<String>,
    /// `Address@isoCountryCode`, used when the `PostalAddress` names no country.
    pub country: Option<String>,
    pub postal: Address,
    pub contact: Contact,
}

/// A header `Contact` before its role says whose it is.
#[derive(Debug, Default)]
pub struct ContactDraft {
    pub role: Option<String>,
    pub contact: Contact,
}

/// `TermsOfDelivery` as read.
#[derive(Debug, Default)]
pub struct TermsDraft {
    pub terms: DeliveryTerms,
    /// `TermsOfDeliveryCode@value` and its text, `TransportTerms` text, `Comments`.
    pub texts: Vec<String>,
    pub address: AddressDraft,
}

/// The order as read, every field optional until [`OrderDraft::finish`].
#[derive(Debug, Default)]
pub struct OrderDraft {
    /// The root element's local name (`cXML`) and where its start tag is.
    pub root: String,
    pub root_offset: usize,
    /// Whether `Request/OrderRequest` appeared.
    pub order_request: bool,
    /// What the document is: the element under `Request`, `Message` or
    /// `Response` (`OrderRequest`, `ProfileRequest`, `PunchOutOrderMessage` …), or
    /// a `Response` with nothing but its `Status`.
    pub document_kind: Option<String>,
    /// `cXML@version`, else the version in the DOCTYPE's DTD URL.
    pub version: Option<String>,
    pub payload_id: Option<String>,
    pub order_id: Option<String>,
    pub order_date: Option<NaiveDate>,
    pub purpose: Option<Purpose>,
    pub order_type: Option<String>,
    /// The currency of the first `Money` (the header's `Total` comes first).
    pub currency: Option<String>,
    pub from: Vec<Credential>,
    pub to: Vec<Credential>,
    /// The attributes (`domain`, `type`) of the `Header/Sender/Credential` being
    /// read, kept with its `Identity` as one extension.
    pub sender_credential: BTreeMap<String, String>,
    /// Config `supplier_domain`: only a `To` credential of this domain routes.
    pub supplier_domain: Option<String>,
    pub ship_to: AddressDraft,
    pub bill_to: AddressDraft,
    pub requested_date: Option<NaiveDate>,
    pub earliest: Option<NaiveDate>,
    pub latest: Option<NaiveDate>,
    pub totals: Totals,
    pub taxes: Vec<TaxSubtotal>,
    pub charges: Vec<AllowanceCharge>,
    pub payment_terms: Vec<PaymentTerms>,
    pub contacts: Vec<ContactDraft>,
    pub terms: Option<TermsDraft>,
    pub references: Vec<Reference>,
    pub documents: Vec<Document>,
    pub notes: Vec<Note>,
    /// `Comments@type` of the `Comments` being read.
    pub comments_type: Option<String>,
    pub lines: Vec<LineDraft>,
    pub extensions: Vec<Extension>,
    pub warnings: Vec<Warning>,
}

/// An `ItemOut` as read.
#[derive(Debug, Default)]
pub struct LineDraft {
    /// Byte offset of the `ItemOut` start tag, for errors about the line.
    pub offset: usize,
    pub number: Option<String>,
    pub parent_number: Option<String>,
    pub quantity: Option<Decimal>,
    pub requested_date: Option<NaiveDate>,
    pub ids: Vec<ItemId>,
    pub unit_price: Option<Decimal>,
    /// `PriceBasisQuantity@quantity` and its `UnitOfMeasure`.
    pub base_quantity: Option<Decimal>,
    pub base_unit: Option<String>,
    pub line_total: Option<Decimal>,
    pub description: Option<String>,
    /// How many `ItemDetail/Description`s have started: the first is the item's.
    pub descriptions: usize,
    pub short_name: Option<String>,
    pub unit: Option<String>,
    pub classifications: Vec<Classification>,
    /// `Classification@domain` of the `Classification` being read.
    pub classification_domain: Option<String>,
    pub properties: Vec<ItemProperty>,
    pub documents: Vec<Document>,
    pub ship_to: AddressDraft,
    pub charges: Vec<AllowanceCharge>,
    pub taxes: Vec<LineTax>,
    /// `ItemOut/Tax/Money`, a line tax when no `TaxDetail` breaks it down.
    pub tax_money: Option<Decimal>,
    pub references: Vec<Reference>,
    pub notes: Vec<Note>,
    pub schedule: Vec<ScheduleLine>,
    pub extensions: Vec<Extension>,
    /// How many `Distribution`s the `ItemOut` has.
    pub distributions: usize,
    /// Its `Distribution/Charge`s, each already kept among `extensions`.
    pub distribution_charges: Vec<DistributionCharge>,
}

/// An `ItemOut/Distribution/Charge` as read: its `Money`, and where its extension is.
#[derive(Debug)]
pub struct DistributionCharge {
    /// The `Money`, when it reads as a (non-negative) decimal.
    pub amount: Option<Decimal>,
    /// `Money@currency`, as a currency code when it reads as one.
    pub currency: Option<String>,
    /// Index of the Charge's extension in the line's `extensions`.
    pub extension: usize,
}

pub use jembatan_plugin_sdk::draft::set_once;

/// cXML roles of a buyer's people (DTD `Contact@role`, C1 l. 240).
const BUYER_ROLES: &[&str] = &[
    "endUser",
    "administrator",
    "purchasingAgent",
    "buyerCorporate",
    "buyerMasterAccount",
    "buyerAccount",
    "buyer",
];
/// cXML roles of the supplier's people.
const SUPPLIER_ROLES: &[&str] = &[
    "technicalSupport",
    "customerService",
    "sales",
    "supplierCorporate",
    "supplierMasterAccount",
    "supplierAccount",
];

/// A party id of a cXML identity in `domain`: `DUNS` for nine digits in a DUNS
/// domain, `GLN` for thirteen in an ILN/GLN one, `ENDPOINT:NetworkID` for a network
/// address (Ariba Network ids), else `UNSPECIFIED`; the domain as written is the
/// qualifier.
pub fn credential_id(domain: Option<&str>, value: &str) -> PartyId {
    let digits = |n: usize| value.len() == n && value.bytes().all(|b| b.is_ascii_digit());
    let scheme = match domain.map(str::to_ascii_lowercase).as_deref() {
        Some("duns") if digits(9) => party_scheme::DUNS.to_owned(),
        Some("iln" | "gln") if digits(13) => party_scheme::GLN.to_owned(),
        Some("networkid") => "ENDPOINT:NetworkID".to_owned(),
        _ => party_scheme::UNSPECIFIED.to_owned(),
    };
    PartyId {
        scheme,
        value: value.to_owned(),
        qualifier: domain.map(str::to_owned),
    }
}

impl AddressDraft {
    fn ids(&self) -> Vec<PartyId> {
        self.id
            .as_deref()
            .map(|id| credential_id(self.id_domain.as_deref(), id))
            .into_iter()
            .collect()
    }

    fn address(mut self) -> Address {
        if self.postal.country.is_none() {
            self.postal.country = self.country;
        }
        self.postal
    }

    fn location(mut self) -> Location {
        let ids = self.ids();
        let name = self.name.take();
        Location {
            ids,
            name,
            address: Some(self.address()),
        }
    }
}

impl OrderDraft {
    /// Checks required fields, applies the config's defaults and builds the order.
    pub fn finish(self, config: &Config, body: &[u8]) -> Result<PurchaseOrder, PluginError> {
        let syntax = self
            .version
            .as_deref()
            .map_or_else(|| "cXML".to_owned(), |v| format!("cXML {v}"));
        let mut draft = draft::OrderDraft::new("cxml-order", &syntax);
        draft.source.control_number = self.payload_id;
        draft.number = self.order_id;
        draft.issue_date = self.order_date;
        draft.purpose = self.purpose;
        draft.order_type = self.order_type.map(|code| jembatan_plugin_sdk::OrderType {
            code,
            list: "cXML-orderType".to_owned(),
            text: None,
        });
        draft.currency = self.currency.clone();

        // The buyer: BillTo names it; its addressID and the From credentials identify it.
        let mut buyer_ids = self.bill_to.ids();
        for credential in &self.from {
            if let Some(identity) = &credential.identity {
                push_new(
                    &mut buyer_ids,
                    credential_id(credential.domain.as_deref(), identity),
                );
            }
        }
        if buyer_ids.is_empty()
            && let Some(id) = &config.buyer_id
        {
            buyer_ids.push(party_id(party_scheme::UNSPECIFIED, id));
        }
        draft.buyer.ids = buyer_ids;
        draft.buyer.name = self.bill_to.name.clone();
        draft.buyer.contacts = vec![self.bill_to.contact.clone()];
        draft.buyer.address = Some(self.bill_to.address());

        // The supplier: the first To credential (of config supplier_domain) routes;
        // every To credential identifies it.
        draft.supplier_code = self
            .to
            .iter()
            .filter(|c| self.supplier_domain.is_none() || c.domain == self.supplier_domain)
            .find_map(|c| c.identity.clone());
        for credential in &self.to {
            if let Some(identity) = &credential.identity {
                push_new(
                    &mut draft.supplier.ids,
                    credential_id(credential.domain.as_deref(), identity),
                );
            }
        }

        // People, by their role: the buyer's, the supplier's, or a party of their own.
        let buyer_named = draft.buyer.name.is_some()
            || !draft.buyer.ids.is_empty()
            || config.buyer_name.is_some();
        for ContactDraft { role, mut contact } in self.contacts {
            contact.role = role.clone();
            let role = role.unwrap_or_default();
            if buyer_named && BUYER_ROLES.contains(&role.as_str()) {
                draft.buyer.contacts.push(contact);
            } else if SUPPLIER_ROLES.contains(&role.as_str()) {
                draft.supplier.contacts.push(contact);
            } else {
                draft.other_parties.push(OtherParty {
                    role: snake_case(if role.is_empty() { "contact" } else { &role }),
                    role_code: (!role.is_empty()).then_some(role),
                    party: Party {
                        name: contact.name.clone(),
                        contacts: vec![contact],
                        ..Party::default()
                    },
                });
            }
        }

        draft.delivery.requested_date = self.requested_date;
        draft.delivery.earliest = self.earliest;
        draft.delivery.latest = self.latest;
        draft.delivery.contacts = vec![self.ship_to.contact.clone()];
        draft.delivery.location = Some(self.ship_to.location());
        if let Some(terms) = self.terms {
            let mut delivery_terms = terms.terms;
            delivery_terms.text = (!terms.texts.is_empty()).then(|| terms.texts.join("; "));
            delivery_terms.place = terms
                .address
                .postal
                .city
                .clone()
                .or(terms.address.name.clone());
            draft.delivery_terms = delivery_terms;
        }
        draft.totals = self.totals;
        draft.taxes = self.taxes;
        draft.allowances_charges = self.charges.into_iter().filter(has_amount).collect();
        draft.payment_terms = self.payment_terms;
        draft.references = self.references;
        draft.documents = self.documents;
        draft.notes = self.notes;
        draft.extensions = self.extensions;
        draft.warnings = self.warnings;
        let currency = self
            .currency
            .as_deref()
            .or(config.default_currency.as_deref())
            .unwrap_or(DEFAULT_CURRENCY);
        draft.lines = self
            .lines
            .into_iter()
            .map(|line| line.into_line(currency))
            .collect();
        cap_extensions(&mut draft);

        let defaults = Defaults {
            buyer_name: config.buyer_name.as_deref(),
            supplier_code: config.supplier_code.as_deref(),
            currency: config.default_currency.as_deref(),
            unit: Some(config.default_unit.as_deref().unwrap_or(DEFAULT_UNIT)),
            // cXML makes lineNumber optional; its position is what it would be.
            number_lines_by_position: true,
        };
        draft.finish(&defaults, |field, draft| {
            let header = format!("{ORDER_REQUEST}/OrderRequestHeader");
            let missing = |path: String, what: &str| {
                PluginError::new("missing-field", format!("the order has no {what} ({path})"))
                    .at_path(path)
            };
            let item_missing = |i: usize, field: &str, what: &str| {
                let position = i + 1;
                let path = format!("{ORDER_REQUEST}/ItemOut[{position}]/{field}");
                PluginError::at_offset(
                    "missing-field",
                    format!("item {position} has no {what} ({path})"),
                    body,
                    draft.lines[i].offset,
                )
                .at_path(path)
            };
            match field {
                Field::OrderNumber => missing(format!("{header}/@orderID"), "order number"),
                Field::IssueDate => missing(format!("{header}/@orderDate"), "order date"),
                Field::BuyerName => missing(
                    format!("{header}/BillTo/Address/Name"),
                    "buyer name or id for the BillTo address (no Name, @addressID or \
                     From credential), and the plugin config has no buyer_name",
                ),
                Field::SupplierCode => missing(
                    "/cXML/Header/To/Credential/Identity".to_owned(),
                    "supplier identity, and the plugin config has no supplier_code",
                ),
                Field::Lines => missing(format!("{ORDER_REQUEST}/ItemOut"), "items"),
                Field::Quantity(i) => item_missing(i, "@quantity", "quantity"),
                Field::Item(i) => item_missing(
                    i,
                    "ItemDetail/Description",
                    "Description, ShortName, SupplierPartID, BuyerPartID or ManufacturerPartID",
                ),
                Field::LineNumber(_) | Field::Unit(_) => {
                    unreachable!("the defaults number every line and give every unit")
                }
            }
        })
    }
}

impl LineDraft {
    /// The canonical line; `currency` is the order's.
    fn into_line(mut self, currency: &str) -> draft::LineDraft {
        self.take_distribution_charge(currency);
        if self.taxes.is_empty()
            && let Some(amount) = self.tax_money
        {
            self.taxes.push(LineTax {
                scheme: "tax".to_owned(),
                category: None,
                rate: None,
                amount: Some(amount),
            });
        }
        let price = self.unit_price.map(|amount| Price {
            base_quantity: self.base_quantity.unwrap_or(Decimal::ONE),
            base_unit: self.base_unit.clone(),
            ..draft::unit_price(amount)
        });
        let mut line = draft::LineDraft {
            offset: self.offset,
            number: self.number,
            parent_number: self.parent_number,
            quantity: self.quantity,
            unit: self.unit,
            price,
            line_total: self.line_total,
            item: Item {
                name: self.short_name,
                description: self.description,
                ids: self.ids,
                properties: self.properties,
                classifications: self.classifications,
                documents: self.documents,
                ..Item::default()
            },
            schedule: self.schedule,
            allowances_charges: self.charges.into_iter().filter(has_amount).collect(),
            taxes: self.taxes,
            references: self.references,
            notes: self.notes,
            ..draft::LineDraft::default()
        };
        line.delivery.requested_date = self.requested_date;
        line.delivery.contacts = vec![self.ship_to.contact.clone()];
        line.delivery.location = Some(self.ship_to.location());
        line.extensions = std::mem::take(&mut self.extensions);
        line
    }

    /// A line charged whole to one cost object states its amount there. The cXML
    /// 1.2.063 DTD (l. 3082-3090) defines `Charge` as "a charge against an
    /// Accounting element" and `Distribution` as "the breakdown of one overall
    /// amount into sub-amounts": with exactly one `Distribution`, its `Charge` is
    /// the line's whole amount as the buyer states it (Coupa's orders in
    /// tests/corpus/cxml write it so). It becomes `line_total` when the config's
    /// `line_total_extrinsic` gave none and it is in the order's currency; its
    /// extension then goes, so it is not kept twice (the Accounting stays as
    /// references). Several Distributions split the amount and are never summed:
    /// their Charges stay extensions, as does a Charge in another currency.
    fn take_distribution_charge(&mut self, currency: &str) {
        if self.line_total.is_none()
            && self.distributions == 1
            && let [charge] = &self.distribution_charges[..]
            && charge
                .currency
                .as_deref()
                .is_none_or(|code| code == currency)
            && let Some(amount) = charge.amount
        {
            self.line_total = Some(amount);
            self.extensions.remove(charge.extension);
        }
    }
}

/// A Shipping without a readable `Money` has nothing the schema can hold; its
/// element is kept as an extension by the parser instead.
fn has_amount(charge: &AllowanceCharge) -> bool {
    charge.amount.is_some()
}

fn push_new(ids: &mut Vec<PartyId>, id: PartyId) {
    if !ids
        .iter()
        .any(|known| known.value == id.value && known.scheme == id.scheme)
    {
        ids.push(id);
    }
}

/// `purchasingAgent` → `purchasing_agent`, as other_parties roles are written.
fn snake_case(role: &str) -> String {
    let mut out = String::with_capacity(role.len() + 4);
    for c in role.chars() {
        if c.is_ascii_uppercase() {
            if !out.is_empty() {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else if c.is_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('_') {
            out.push('_');
        }
    }
    out
}

/// Keeps the first [`MAX_EXTENSIONS`] extensions (order first, then lines) and
/// says how many more there were.
fn cap_extensions(draft: &mut draft::OrderDraft) {
    let mut room = MAX_EXTENSIONS;
    let mut dropped = 0;
    let lists = std::iter::once(&mut draft.extensions)
        .chain(draft.lines.iter_mut().map(|line| &mut line.extensions));
    for list in lists {
        let keep = list.len().min(room);
        dropped += list.len() - keep;
        list.truncate(keep);
        room -= keep;
    }
    if dropped > 0 {
        draft.warnings.push(Warning {
            code: "extensions-truncated".to_owned(),
            message: format!(
                "the document carries more data without a canonical field than an order may \
                 keep; {dropped} extensions beyond the first {MAX_EXTENSIONS} were left out"
            ),
            path: None,
            field: None,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credential_domains_become_schemes() {
        let id = |domain: &str, value: &str| credential_id(Some(domain), value).scheme;
        assert_eq!(id("DUNS", "128293714"), "DUNS");
        assert_eq!(id("duns", "dell"), "UNSPECIFIED", "not a DUNS number");
        assert_eq!(id("NetworkId", "AN00000123"), "ENDPOINT:NetworkID");
        assert_eq!(id("ILN", "8712345000004"), "GLN");
        assert_eq!(
            credential_id(Some("SupplierID"), "PBG-01")
                .qualifier
                .as_deref(),
            Some("SupplierID")
        );
    }

    #[test]
    fn roles_are_snake_case() {
        assert_eq!(snake_case("subsequentBuyer"), "subsequent_buyer");
        assert_eq!(snake_case("ship-from"), "ship_from");
    }
}
