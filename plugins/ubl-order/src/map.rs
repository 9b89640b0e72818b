//! The UBL Order → canonical order v2 mapping, one match arm per UBL path.
//!
//! Paths are relative to the `Order` element and made of [`Name`]s, so an arm
//! reads like the UBL path it maps (`[N::Delivery, N::RequestedDeliveryPeriod,
//! N::StartDate]`). A leaf no arm takes (or one whose value cannot go in its
//! field, like an amount in another currency) is kept as an extension by
//! [`on_end`], with its path, text and attributes. The README has the table.

use jembatan_plugin_sdk::draft::{self, note};
use jembatan_plugin_sdk::{
    Address, AllowanceChargeLevel, Classification, Contact, Decimal, Document, DocumentType,
    Extension, ItemId, ItemIdRole, ItemProperty, OrderType, OtherParty, Party, PartyId,
    PaymentTerms, Purpose, Reference, ReferenceType, TaxSubtotal, party_scheme,
};

use crate::attributes::Attributes;
use crate::draft::{Allowance, LineDraft, OrderDraft, append, new_line_tax, set_once};
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

/// An element that ends: its trimmed text and attributes (meaningful for a leaf),
/// and its path from `/Order`.
pub struct Leaf<'a> {
    pub text: &'a str,
    pub attributes: &'a Attributes,
    pub path: &'a str,
    pub is_leaf: bool,
}

impl Leaf<'_> {
    fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes.get(name).filter(|v| !v.is_empty())
    }

    fn extension(&self, namespace: &str) -> Extension {
        Extension {
            namespace: namespace.to_owned(),
            path: self.path.to_owned(),
            value: clip(self.text),
            attributes: self
                .attributes
                .iter()
                .map(|(k, v)| (k.to_owned(), clip(v)))
                .collect(),
        }
    }
}

/// The schema keeps at most 4000 characters of an extension value.
fn clip(text: &str) -> String {
    text.chars().take(4000).collect()
}

/// Order lines the draft has room for when its first line starts.
const LINES_RESERVED: usize = 16;

/// Whose party a path is in; the rest of the path is inside the party.
#[derive(Clone, Copy)]
enum Role {
    Buyer,
    Supplier,
    /// The last of `other_parties`.
    Other,
    /// The first delivery's `DeliveryParty`.
    DeliveryParty,
}

fn party_role(path: &[N], deliveries: u32) -> Option<(Role, &[N])> {
    match path {
        [N::BuyerCustomerParty, N::Party, rest @ ..] => Some((Role::Buyer, rest)),
        [N::SellerSupplierParty, N::Party, rest @ ..] => Some((Role::Supplier, rest)),
        [
            N::AccountingCustomerParty | N::OriginatorCustomerParty,
            N::Party,
            rest @ ..,
        ] => Some((Role::Other, rest)),
        [N::Delivery, N::DeliveryParty, rest @ ..] if deliveries == 1 => {
            Some((Role::DeliveryParty, rest))
        }
        _ => None,
    }
}

fn party_mut(order: &mut draft::OrderDraft, role: Role) -> Option<&mut Party> {
    match role {
        Role::Buyer => Some(&mut order.buyer),
        Role::Supplier => Some(&mut order.supplier),
        Role::Other => order.other_parties.last_mut().map(|other| &mut other.party),
        Role::DeliveryParty => Some(order.delivery.party.get_or_insert_default()),
    }
}

/// Called when an element starts (`offset`: its start tag); `path` ends with it.
/// Starts the list entry an aggregate fills.
pub fn on_start(d: &mut OrderDraft, path: &[N], offset: usize) -> Result<(), Fault> {
    if let Some((role, rest)) = party_role(path, d.deliveries) {
        match rest {
            [N::Contact] => {
                if let Some(party) = party_mut(&mut d.order, role) {
                    party.contacts.push(Contact::default());
                }
            }
            [N::Person] => d.person = Default::default(),
            [N::PartyTaxScheme] => d.tax_id = None,
            _ => {}
        }
        return Ok(());
    }
    let o = &mut d.order;
    match path {
        [N::OrderLine] => {
            // A line draft is large (1.5 KB), and growing the Vec one doubling at
            // a time copied every line read before; room for an ordinary order's
            // lines at once costs one allocation.
            if d.lines.capacity() == 0 {
                d.lines.reserve(LINES_RESERVED);
            }
            d.lines.push(LineDraft {
                line: draft::LineDraft {
                    offset,
                    ..draft::LineDraft::default()
                },
                ..LineDraft::default()
            });
        }
        [N::Delivery] => d.deliveries += 1,
        [N::AccountingCustomerParty] => o.other_parties.push(other_party("invoicee", path)),
        [N::OriginatorCustomerParty] => o.other_parties.push(other_party("originator", path)),
        [N::BuyerCustomerParty, N::DeliveryContact] => o.delivery.contacts.push(Contact::default()),
        [N::PaymentTerms] => o.payment_terms.push(PaymentTerms::default()),
        [N::TaxTotal, N::TaxSubtotal] => o.taxes.push(TaxSubtotal {
            scheme: String::new(),
            category: None,
            rate: None,
            taxable_amount: None,
            amount: None,
            exemption_reason: None,
        }),
        [N::QuotationDocumentReference] => o.references.push(reference(ReferenceType::Quotation)),
        [N::OrderDocumentReference] => o.references.push(reference(ReferenceType::PreviousOrder)),
        [N::OriginatorDocumentReference] => {
            o.references.push(reference(ReferenceType::Originator));
        }
        [N::Contract] => o.references.push(reference(ReferenceType::Contract)),
        [N::ProjectReference] => o.references.push(reference(ReferenceType::Project)),
        [N::AdditionalDocumentReference] => {
            d.document_code = None;
            o.documents.push(Document::of_kind(DocumentType::Other));
        }
        [N::OrderLine, rest @ ..] => {
            let Some(line) = d.lines.last_mut() else {
                return Ok(());
            };
            let item = &mut line.line.item;
            match rest {
                [N::LineItem, N::Delivery] => line.deliveries += 1,
                [N::DocumentReference] => {
                    d.document_code = None;
                    item.documents.push(Document::of_kind(DocumentType::Other));
                }
                [N::LineItem, N::Item, N::ItemSpecificationDocumentReference] => {
                    d.document_code = None;
                    item.documents
                        .push(Document::of_kind(DocumentType::Specification));
                }
                [N::LineItem, N::Item, N::AdditionalItemProperty] => {
                    d.property = Default::default();
                }
                [N::LineItem, N::Item, N::ClassifiedTaxCategory] => {
                    line.line.taxes.push(new_line_tax());
                }
                _ => {}
            }
        }
        _ => {}
    }
    Ok(())
}

fn other_party(role: &str, path: &[N]) -> OtherParty {
    OtherParty {
        role: role.to_owned(),
        role_code: path
            .first()
            .map(|n| n.qualified().trim_start_matches("cac:").to_owned()),
        party: Party::default(),
    }
}

fn reference(kind: ReferenceType) -> Reference {
    Reference {
        kind,
        value: String::new(),
        issue_date: None,
        line_number: None,
        qualifier: None,
        description: None,
    }
}

/// Called when an element ends; `path` ends with it. Completes aggregates, maps
/// leaves, and keeps a leaf the mapping does not take as an extension.
pub fn on_end(d: &mut OrderDraft, path: &[N], leaf: &Leaf<'_>) -> Result<(), Fault> {
    end_aggregate(d, path);
    if !leaf.is_leaf {
        return Ok(());
    }
    let mapped = !leaf.text.is_empty() && map_leaf(d, path, leaf)?;
    if !mapped && (!leaf.text.is_empty() || !leaf.attributes.is_empty()) {
        let in_line = path.first() == Some(&N::OrderLine);
        d.keep(leaf.extension("ubl"), in_line);
    }
    Ok(())
}

/// Reads a leaf of the SBDH header (`path` from the header element): the
/// instance identifier is the control number, sender and receiver party ids;
/// the rest is kept as `peppol-sbdh` extensions.
pub fn sbdh_leaf(d: &mut OrderDraft, path: &[N], leaf: &Leaf<'_>) {
    if leaf.text.is_empty() && leaf.attributes.is_empty() {
        return;
    }
    let endpoint = || {
        let authority = leaf.attribute("Authority").unwrap_or("UNSPECIFIED");
        PartyId {
            scheme: format!("ENDPOINT:{authority}"),
            value: leaf.text.to_owned(),
            qualifier: leaf.attribute("Authority").map(str::to_owned),
        }
    };
    match path {
        [
            N::StandardBusinessDocumentHeader,
            N::DocumentIdentification,
            N::InstanceIdentifier,
        ] if !leaf.text.is_empty() => {
            set_once(&mut d.instance_identifier, leaf.text.to_owned());
        }
        [N::StandardBusinessDocumentHeader, N::Sender, N::Identifier]
            if !leaf.text.is_empty() && d.sbdh_sender.is_none() =>
        {
            d.sbdh_sender = Some((endpoint(), leaf.extension("peppol-sbdh")));
        }
        [
            N::StandardBusinessDocumentHeader,
            N::Receiver,
            N::Identifier,
        ] if !leaf.text.is_empty() && d.sbdh_receiver.is_none() => {
            d.sbdh_receiver = Some((endpoint(), leaf.extension("peppol-sbdh")));
        }
        _ => d.keep(leaf.extension("peppol-sbdh"), false),
    }
}

/// An aggregate ends: what was read of it becomes a list entry, or is dropped
/// when it gives nothing a field needs.
fn end_aggregate(d: &mut OrderDraft, path: &[N]) {
    if let Some((role, [N::Person])) = party_role(path, d.deliveries) {
        let person = std::mem::take(&mut d.person);
        if let Some(party) = party_mut(&mut d.order, role) {
            let contact = draft::first(&mut party.contacts);
            if contact.name.is_none() {
                contact.name = person.full_name();
            }
            if contact.role.is_none() {
                contact.role = person.job_title;
            }
        }
        return;
    }
    let o = &mut d.order;
    match path {
        [N::AllowanceCharge] => match d.allowance.take(AllowanceChargeLevel::Order, is_peppol(o)) {
            Allowance::Read(allowance) => o.allowances_charges.push(allowance),
            Allowance::Note(note) => o.notes.push(note),
        },
        [N::OrderLine, N::LineItem, N::AllowanceCharge]
        | [N::OrderLine, N::LineItem, N::Price, N::AllowanceCharge] => {
            let level = if path.len() == 4 {
                AllowanceChargeLevel::Price
            } else {
                AllowanceChargeLevel::Line
            };
            let allowance = d.allowance.take(level, is_peppol(o));
            if let Some(line) = d.lines.last_mut() {
                line.price_allowance |= level == AllowanceChargeLevel::Price;
                match allowance {
                    Allowance::Read(allowance) => line.line.allowances_charges.push(allowance),
                    Allowance::Note(note) => line.line.notes.push(note),
                }
            }
        }
        [N::AccountingCustomerParty] | [N::OriginatorCustomerParty] => {
            // A party with neither name nor id is not a party in the schema; what
            // was read of it stays visible as a warning.
            if let Some(other) = o.other_parties.last()
                && other.party.name.is_none()
                && other.party.legal_name.is_none()
                && other.party.ids.is_empty()
            {
                let other = o.other_parties.pop().expect("just checked");
                let message = format!(
                    "the {} has neither a name nor an id and is not kept as a party: {}",
                    other.role,
                    serde_json::to_string(&other.party).unwrap_or_default()
                );
                d.warn(
                    "party-unnamed",
                    message,
                    &format!("/Order/cac:{}", other.role_code.unwrap_or_default()),
                );
            }
        }
        [N::TaxTotal, N::TaxSubtotal] => {
            if let Some(tax) = o.taxes.last_mut()
                && tax.scheme.is_empty()
            {
                tax.scheme = party_scheme::UNSPECIFIED.to_owned();
            }
        }
        [N::PaymentTerms] if o.payment_terms.last() == Some(&PaymentTerms::default()) => {
            o.payment_terms.pop();
        }
        [
            N::QuotationDocumentReference
            | N::OrderDocumentReference
            | N::OriginatorDocumentReference
            | N::Contract
            | N::ProjectReference,
        ] if o.references.last().is_some_and(|r| r.value.is_empty()) => {
            o.references.pop();
        }
        [N::AdditionalDocumentReference] => {
            let code = d.document_code.take();
            finish_document(&mut o.documents, code);
        }
        [N::OrderLine, rest @ ..] => {
            let Some(line) = d.lines.last_mut() else {
                return;
            };
            let item = &mut line.line.item;
            match rest {
                [N::DocumentReference]
                | [N::LineItem, N::Item, N::ItemSpecificationDocumentReference] => {
                    finish_document(&mut item.documents, d.document_code.take());
                }
                [N::LineItem, N::Item, N::AdditionalItemProperty] => {
                    let read = std::mem::take(&mut d.property);
                    let (quantity, unit) = match read.quantity {
                        Some((quantity, unit)) => (Some(quantity), unit),
                        None => (None, None),
                    };
                    if let (Some(name), Some(value)) = (read.name, read.value.or(quantity)) {
                        item.properties.push(ItemProperty {
                            name,
                            value,
                            unit,
                            code: read.qualifier,
                        });
                    }
                }
                [N::LineItem, N::Item, N::ClassifiedTaxCategory] => {
                    if let Some(tax) = line.line.taxes.last_mut()
                        && tax.scheme.is_empty()
                    {
                        tax.scheme = party_scheme::UNSPECIFIED.to_owned();
                    }
                }
                _ => {}
            }
        }
        _ => {}
    }
}

/// Types a document from its `DocumentType` text (and `DocumentTypeCode`); one
/// with neither id, URI nor content is not a document in the schema and goes.
fn finish_document(documents: &mut Vec<jembatan_plugin_sdk::Document>, code: Option<String>) {
    let Some(document) = documents.last_mut() else {
        return;
    };
    if let Some(code) = code {
        document.type_text = Some(match document.type_text.take() {
            Some(text) => format!("{text} ({code})"),
            None => code,
        });
    }
    if let Some(text) = &document.type_text {
        let text = text.to_lowercase();
        let kind = [
            ("drawing", DocumentType::Drawing),
            ("specification", DocumentType::Specification),
            ("sketch", DocumentType::Sketch),
            ("photo", DocumentType::Photo),
            ("certificate", DocumentType::Certificate),
        ]
        .into_iter()
        .find(|(word, _)| text.contains(word));
        if let Some((_, kind)) = kind {
            document.kind = kind;
        }
    }
    if document.id.is_none() && document.uri.is_none() && document.content_base64.is_none() {
        documents.pop();
    }
}

/// Whether the document is Peppol BIS (its `CustomizationID` says so), which
/// writes `MultiplierFactorNumeric` as a percent. Asked only where an allowance
/// ends: asked at every element's end, searching the `CustomizationID` cost a
/// document that has one some 4% of its instructions.
fn is_peppol(order: &draft::OrderDraft) -> bool {
    order
        .source
        .customization
        .as_deref()
        .is_some_and(|c| c.contains("peppol"))
}

/// An amount in the order's currency. One in another currency (its
/// `@currencyID` differs from `DocumentCurrencyCode`) is `None`, with a warning,
/// and is kept as an extension instead (docs/canonical-order-v2.md decision 13).
fn amount(d: &mut OrderDraft, leaf: &Leaf<'_>) -> Result<Option<Decimal>, Fault> {
    let value = decimal(leaf.text)?;
    money(d, leaf).map(|ok| ok.then_some(value))
}

/// As [`amount`], for the one amount that may be negative.
fn signed_amount(d: &mut OrderDraft, leaf: &Leaf<'_>) -> Result<Option<Decimal>, Fault> {
    let value = match leaf.text.strip_prefix('-') {
        Some(magnitude) => -decimal(magnitude)?,
        None => decimal(leaf.text)?,
    };
    money(d, leaf).map(|ok| ok.then_some(value))
}

/// Whether an amount with this leaf's `@currencyID` is in the order's currency.
fn money(d: &mut OrderDraft, leaf: &Leaf<'_>) -> Result<bool, Fault> {
    let Some(code) = leaf.attribute("currencyID") else {
        return Ok(true);
    };
    // Most amounts are in the order's currency, a code already checked: taking
    // it as is saves checking it again into a String only to compare it.
    if d.order.currency.as_deref() == Some(code) {
        return Ok(true);
    }
    let code = currency(code).map_err(|message| Fault {
        message,
        attribute: Some("currencyID"),
    })?;
    match &d.order.currency {
        Some(order) if *order != code => {
            let message = format!(
                "{} is in {code}, not in the order's currency {order}; kept as an extension",
                leaf.text
            );
            d.warn("foreign-currency-amount", message, leaf.path);
            Ok(false)
        }
        Some(_) => Ok(true),
        None => {
            if !d.amount_currencies.contains(&code) {
                d.amount_currencies.push(code);
            }
            Ok(true)
        }
    }
}

/// Maps a leaf with text; `false` when no field takes it.
fn map_leaf(d: &mut OrderDraft, path: &[N], leaf: &Leaf<'_>) -> Result<bool, Fault> {
    let text = leaf.text;
    if let Some((role, rest)) = party_role(path, d.deliveries) {
        if role_is_supplier(role) && rest == [N::PartyIdentification, N::ID] {
            set_once(&mut d.supplier_party_id, text.to_owned());
        }
        return party(d, role, rest, leaf);
    }
    let o = &mut d.order;
    let mapped = match path {
        [N::UBLVersionID] => set(&mut d.ubl_version, text),
        [N::CustomizationID] => set(&mut o.source.customization, text),
        [N::ProfileID] => set(&mut o.source.profile, text),
        [N::ID] => set(&mut o.number, text),
        [N::CopyIndicator] => match text {
            "true" => {
                o.purpose = Some(Purpose::Copy);
                true
            }
            "false" => true,
            _ => false,
        },
        [N::IssueDate] => {
            set_once(&mut o.issue_date, date(text)?);
            true
        }
        [N::OrderTypeCode] => {
            let list = leaf.attribute("listID").unwrap_or("UNCL1001").to_owned();
            o.order_type.is_none() && {
                o.order_type = Some(OrderType {
                    code: text.to_owned(),
                    list,
                    text: None,
                });
                true
            }
        }
        [N::DocumentCurrencyCode] => {
            set_once(&mut o.currency, currency(text)?);
            true
        }
        [N::Note] => {
            o.notes.extend(note(text));
            true
        }
        [N::CustomerReference] => {
            push_reference(&mut o.references, ReferenceType::CustomerReference, text)
        }
        [N::AccountingCost] | [N::AccountingCostCode] => {
            push_reference(&mut o.references, ReferenceType::CostCentre, text)
        }
        [N::SalesOrderID] => push_reference(&mut o.references, ReferenceType::SalesOrder, text),
        [N::ValidityPeriod, N::EndDate] => {
            set_once(&mut o.delivery.cancel_after, date(text)?);
            true
        }
        [
            N::QuotationDocumentReference
            | N::OrderDocumentReference
            | N::OriginatorDocumentReference
            | N::Contract
            | N::ProjectReference,
            rest @ ..,
        ] => match (o.references.last_mut(), rest) {
            (Some(r), [N::ID]) => {
                r.value.is_empty() && {
                    r.value = text.to_owned();
                    true
                }
            }
            (Some(r), [N::IssueDate]) => {
                set_once(&mut r.issue_date, date(text)?);
                true
            }
            (Some(r), [N::ContractType | N::DocumentType]) => set(&mut r.description, text),
            _ => false,
        },
        [N::AdditionalDocumentReference, rest @ ..] => {
            let code = &mut d.document_code;
            match o.documents.last_mut() {
                Some(document) => document_part(document, code, rest, leaf),
                None => false,
            }
        }
        [N::BuyerCustomerParty, N::DeliveryContact, rest @ ..] => {
            contact(o.delivery.contacts.last_mut(), rest, text)
        }
        // The buyer's account ids: the one it gave itself, the one its supplier gave it.
        [
            N::BuyerCustomerParty,
            field @ (N::CustomerAssignedAccountID | N::SupplierAssignedAccountID),
        ] => {
            let scheme = if *field == N::CustomerAssignedAccountID {
                party_scheme::BUYER_ASSIGNED
            } else {
                party_scheme::SUPPLIER_ASSIGNED
            };
            let qualifier = field.qualified().trim_start_matches("cbc:").to_owned();
            add_id(
                &mut o.buyer,
                PartyId {
                    scheme: scheme.to_owned(),
                    value: text.to_owned(),
                    qualifier: Some(qualifier),
                },
            );
            true
        }
        [N::SellerSupplierParty, N::CustomerAssignedAccountID] => {
            set(&mut d.supplier_account_id, text)
        }
        [N::Delivery, rest @ ..] if d.deliveries == 1 => delivery(d, rest, leaf)?,
        [N::DeliveryTerms, rest @ ..] => {
            let terms = &mut o.delivery_terms;
            match rest {
                [N::ID] => {
                    let incoterm = leaf
                        .attribute("schemeID")
                        .is_some_and(|s| s.eq_ignore_ascii_case("IMCOTERM"))
                        && text.len() == 3
                        && text.bytes().all(|b| b.is_ascii_uppercase());
                    if incoterm {
                        set(&mut terms.incoterm, text)
                    } else {
                        append(&mut terms.text, text, "\n");
                        true
                    }
                }
                [N::SpecialTerms] => {
                    append(&mut terms.text, text, "\n");
                    true
                }
                [N::DeliveryLocation, N::ID] => set(&mut terms.place, text),
                _ => false,
            }
        }
        [N::PaymentTerms, rest @ ..] => match (o.payment_terms.last_mut(), rest) {
            (Some(terms), [N::ID]) => set(&mut terms.code, text),
            (Some(terms), [N::Note]) => {
                append(&mut terms.text, text, "\n");
                true
            }
            (Some(terms), [N::SettlementDiscountPercent]) => {
                set_once(&mut terms.discount_percent, decimal(text)?);
                true
            }
            (Some(terms), [N::PaymentDueDate]) => {
                set_once(&mut terms.due_date, date(text)?);
                true
            }
            _ => false,
        },
        [N::AllowanceCharge, rest @ ..] => allowance(d, rest, leaf)?,
        [N::TaxTotal, N::TaxAmount] => match amount(d, leaf)? {
            Some(value) => {
                set_once(&mut d.order.totals.tax_total, value);
                true
            }
            None => false,
        },
        [N::TaxTotal, N::TaxSubtotal, rest @ ..] => tax_subtotal(d, rest, leaf)?,
        [N::AnticipatedMonetaryTotal, rest @ ..] => totals(d, rest, leaf)?,
        [N::OrderLine, rest @ ..] => order_line(d, rest, leaf)?,
        _ => false,
    };
    Ok(mapped)
}

fn role_is_supplier(role: Role) -> bool {
    matches!(role, Role::Supplier)
}

/// Sets a single-valued field from its first occurrence; a later one is not
/// taken (and so kept as an extension).
fn set(field: &mut Option<String>, text: &str) -> bool {
    field.is_none() && {
        *field = Some(text.to_owned());
        true
    }
}

fn push_reference(references: &mut Vec<Reference>, kind: ReferenceType, text: &str) -> bool {
    references.push(Reference {
        value: text.to_owned(),
        ..reference(kind)
    });
    true
}

/// A party's id from an `ID@schemeID`: ISO 6523 ICD codes by name where the
/// canonical order has one (0088 GLN, 0060 DUNS), else `ICD:<code>`; the scheme
/// names `GLN` and `DUNS` as such; anything else unspecified, with the raw
/// scheme as the qualifier.
fn scheme_id(value: &str, scheme: Option<&str>) -> PartyId {
    let token = match scheme {
        Some("0088" | "GLN") => party_scheme::GLN.to_owned(),
        Some("0060" | "DUNS") => party_scheme::DUNS.to_owned(),
        Some(icd) if icd.len() == 4 && icd.bytes().all(|b| b.is_ascii_digit()) => {
            format!("ICD:{icd}")
        }
        _ => party_scheme::UNSPECIFIED.to_owned(),
    };
    PartyId {
        scheme: token,
        value: value.to_owned(),
        qualifier: scheme.map(str::to_owned),
    }
}

/// Adds an id unless the party has it already.
fn add_id(party: &mut Party, id: PartyId) -> usize {
    match party
        .ids
        .iter()
        .position(|have| have.scheme == id.scheme && have.value == id.value)
    {
        Some(at) => at,
        None => {
            party.ids.push(id);
            party.ids.len() - 1
        }
    }
}

fn party(d: &mut OrderDraft, role: Role, path: &[N], leaf: &Leaf<'_>) -> Result<bool, Fault> {
    let text = leaf.text;
    let scheme = leaf.attribute("schemeID");
    match path {
        [N::Person, field] => {
            let person = &mut d.person;
            let slot = match field {
                N::FirstName => &mut person.first,
                N::MiddleName => &mut person.middle,
                N::FamilyName => &mut person.family,
                N::JobTitle => &mut person.job_title,
                _ => return Ok(false),
            };
            return Ok(set(slot, text));
        }
        [N::PostalAddress, N::Country, N::IdentificationCode] => {
            return country_code(d, leaf).map(|code| match code {
                Some(code) => party_mut(&mut d.order, role)
                    .is_some_and(|p| set(&mut p.address.get_or_insert_default().country, &code)),
                None => false,
            });
        }
        _ => {}
    }
    let tax_id = &mut d.tax_id;
    let Some(party) = party_mut(&mut d.order, role) else {
        return Ok(false);
    };
    let mapped = match path {
        [N::EndpointID] => {
            let endpoint = PartyId {
                scheme: format!("ENDPOINT:{}", scheme.unwrap_or(party_scheme::UNSPECIFIED)),
                value: text.to_owned(),
                qualifier: scheme.map(str::to_owned),
            };
            add_id(party, endpoint);
            true
        }
        [N::PartyIdentification, N::ID] => {
            add_id(party, scheme_id(text, scheme));
            true
        }
        [N::PartyName, N::Name] => set(&mut party.name, text),
        [N::PartyLegalEntity, N::RegistrationName] => set(&mut party.legal_name, text),
        [N::PartyLegalEntity, N::CompanyID] => {
            add_id(
                party,
                PartyId {
                    scheme: party_scheme::COMPANY.to_owned(),
                    value: text.to_owned(),
                    qualifier: scheme.map(str::to_owned),
                },
            );
            true
        }
        [N::PartyTaxScheme, N::CompanyID] => {
            let id = PartyId {
                scheme: party_scheme::TAX.to_owned(),
                value: text.to_owned(),
                qualifier: None,
            };
            *tax_id = Some(add_id(party, id));
            true
        }
        // The tax scheme (VAT, GST) qualifies the CompanyID read before it.
        [N::PartyTaxScheme, N::TaxScheme, N::ID] => match tax_id.and_then(|i| party.ids.get_mut(i))
        {
            Some(id) if id.qualifier.is_none() => {
                id.qualifier = Some(text.to_owned());
                true
            }
            _ => false,
        },
        [N::PostalAddress, rest @ ..] => address(party.address.get_or_insert_default(), rest, text),
        [N::Contact, rest @ ..] => contact(party.contacts.last_mut(), rest, text),
        _ => false,
    };
    Ok(mapped)
}

/// A country code; one that is not ISO 3166-1 is warned about and kept as an
/// extension (placeholder values like "xxx" are common in examples).
fn country_code(d: &mut OrderDraft, leaf: &Leaf<'_>) -> Result<Option<String>, Fault> {
    match country(leaf.text) {
        Ok(code) => Ok(Some(code)),
        Err(message) => {
            d.warn("invalid-country-code", message, leaf.path);
            Ok(None)
        }
    }
}

/// The address fields but the country (see [`country_code`]).
fn address(address: &mut Address, path: &[N], text: &str) -> bool {
    let field = match path {
        [N::StreetName] => &mut address.street,
        [N::AdditionalStreetName] => &mut address.additional_street,
        [N::BuildingNumber] => &mut address.building_number,
        [N::CityName] => &mut address.city,
        [N::PostalZone] => &mut address.postal_code,
        [N::CountrySubentity] => &mut address.region,
        [N::AddressLine, N::Line] => {
            address.lines.push(text.to_owned());
            return true;
        }
        _ => return false,
    };
    set(field, text)
}

fn contact(contact: Option<&mut Contact>, path: &[N], text: &str) -> bool {
    let Some(contact) = contact else {
        return false;
    };
    let field = match path {
        [N::Name] => &mut contact.name,
        [N::Telephone] => &mut contact.phone,
        [N::Telefax] => &mut contact.fax,
        [N::ElectronicMail] => &mut contact.email,
        _ => return false,
    };
    set(field, text)
}

fn document_part(
    document: &mut jembatan_plugin_sdk::Document,
    code: &mut Option<String>,
    path: &[N],
    leaf: &Leaf<'_>,
) -> bool {
    let text = leaf.text;
    match path {
        [N::ID] => set(&mut document.id, text),
        [N::DocumentTypeCode] => set(code, text),
        [N::DocumentType] => set(&mut document.type_text, text),
        [N::DocumentDescription] => {
            append(&mut document.description, text, "\n");
            true
        }
        [N::VersionID] => set(&mut document.revision, text),
        [N::Attachment, N::EmbeddedDocumentBinaryObject] => {
            // Base64 in XML is often wrapped; the canonical one is not.
            let content: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
            document.content_base64.is_none() && {
                document.content_base64 = Some(content);
                document.mime_type = leaf.attribute("mimeCode").map(str::to_owned);
                document.filename = leaf.attribute("filename").map(str::to_owned);
                true
            }
        }
        // Only an absolute URI is a link; anything else stays an extension.
        [N::Attachment, N::ExternalReference, N::URI] => {
            is_uri(text) && set(&mut document.uri, text)
        }
        _ => false,
    }
}

/// Whether `text` is an absolute URI (RFC 3986: a scheme, then `:`).
fn is_uri(text: &str) -> bool {
    text.split_once(':').is_some_and(|(scheme, rest)| {
        !rest.is_empty()
            && !text.contains(char::is_whitespace)
            && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
    })
}

/// The first order-level `cac:Delivery`.
fn delivery(d: &mut OrderDraft, path: &[N], leaf: &Leaf<'_>) -> Result<bool, Fault> {
    let text = leaf.text;
    let mapped = match path {
        [N::RequestedDeliveryPeriod, N::StartDate] => {
            set_once(&mut d.delivery_period.start, date(text)?);
            true
        }
        [N::RequestedDeliveryPeriod, N::EndDate] => {
            set_once(&mut d.delivery_period.end, date(text)?);
            true
        }
        [N::DeliveryAddress | N::DeliveryLocation, ..] => location(d, path, leaf, |d| {
            d.order.delivery.location.get_or_insert_default()
        })?,
        _ => false,
    };
    Ok(mapped)
}

/// `DeliveryAddress` or `DeliveryLocation` (ids, address) of the order's or a
/// line's delivery; `place` gives the location to fill.
fn location(
    d: &mut OrderDraft,
    path: &[N],
    leaf: &Leaf<'_>,
    place: impl Fn(&mut OrderDraft) -> &mut jembatan_plugin_sdk::v2::Location,
) -> Result<bool, Fault> {
    let text = leaf.text;
    let rest = match path {
        [N::DeliveryAddress, rest @ ..] | [N::DeliveryLocation, N::Address, rest @ ..] => rest,
        [N::DeliveryLocation, N::ID] => {
            let ids = &mut place(d).ids;
            ids.push(scheme_id(text, leaf.attribute("schemeID")));
            return Ok(true);
        }
        _ => return Ok(false),
    };
    Ok(match rest {
        // The delivery address's own id (a GLN) names the place.
        [N::ID] => {
            place(d)
                .ids
                .push(scheme_id(text, leaf.attribute("schemeID")));
            true
        }
        [N::Country, N::IdentificationCode] => match country_code(d, leaf)? {
            Some(code) => set(&mut place(d).address.get_or_insert_default().country, &code),
            None => false,
        },
        _ => address(place(d).address.get_or_insert_default(), rest, text),
    })
}

fn allowance(d: &mut OrderDraft, path: &[N], leaf: &Leaf<'_>) -> Result<bool, Fault> {
    let text = leaf.text;
    let value = match path {
        [N::Amount] | [N::BaseAmount] => match amount(d, leaf)? {
            Some(value) => Some(value),
            None => return Ok(false),
        },
        [N::MultiplierFactorNumeric] | [N::TaxCategory, N::Percent] => Some(decimal(text)?),
        _ => None,
    };
    let allowance = &mut d.allowance;
    let mapped = match path {
        [N::ChargeIndicator] => match text {
            "true" => {
                allowance.charge = true;
                true
            }
            "false" => true,
            _ => false,
        },
        [N::AllowanceChargeReasonCode] => set(&mut allowance.reason_code, text),
        [N::AllowanceChargeReason] => {
            append(&mut allowance.reason, text, "\n");
            true
        }
        [N::MultiplierFactorNumeric] => {
            allowance.factor.is_none() && {
                allowance.factor = value;
                true
            }
        }
        [N::Amount] => {
            allowance.amount.is_none() && {
                allowance.amount = value;
                true
            }
        }
        [N::BaseAmount] => {
            allowance.base_amount.is_none() && {
                allowance.base_amount = value;
                true
            }
        }
        [N::SequenceNumeric] => match text.parse() {
            Ok(sequence) => {
                set_once(&mut allowance.sequence, sequence);
                true
            }
            Err(_) => false,
        },
        [N::TaxCategory, N::ID] => set(&mut allowance.tax_category, text),
        [N::TaxCategory, N::Percent] => {
            allowance.tax_rate.is_none() && {
                allowance.tax_rate = value;
                true
            }
        }
        _ => false,
    };
    Ok(mapped)
}

fn tax_subtotal(d: &mut OrderDraft, path: &[N], leaf: &Leaf<'_>) -> Result<bool, Fault> {
    let text = leaf.text;
    let value = match path {
        [N::TaxableAmount] | [N::TaxAmount] => match amount(d, leaf)? {
            Some(value) => Some(value),
            None => return Ok(false),
        },
        [N::TaxCategory, N::Percent] | [N::Percent] => Some(decimal(text)?),
        _ => None,
    };
    let Some(tax) = d.order.taxes.last_mut() else {
        return Ok(false);
    };
    let slot = match path {
        [N::TaxableAmount] => &mut tax.taxable_amount,
        [N::TaxAmount] => &mut tax.amount,
        [N::TaxCategory, N::Percent] | [N::Percent] => &mut tax.rate,
        [N::TaxCategory, N::ID] => return Ok(set(&mut tax.category, text)),
        [N::TaxCategory, N::TaxExemptionReason] => {
            return Ok(set(&mut tax.exemption_reason, text));
        }
        [N::TaxCategory, N::TaxScheme, N::ID] => {
            return Ok(tax.scheme.is_empty() && {
                tax.scheme = text.to_owned();
                true
            });
        }
        _ => return Ok(false),
    };
    Ok(slot.is_none() && {
        *slot = value;
        true
    })
}

fn totals(d: &mut OrderDraft, path: &[N], leaf: &Leaf<'_>) -> Result<bool, Fault> {
    let value = match path {
        [N::PayableRoundingAmount] => signed_amount(d, leaf)?,
        _ => amount(d, leaf)?,
    };
    let Some(value) = value else {
        return Ok(false);
    };
    let totals = &mut d.order.totals;
    let slot = match path {
        [N::LineExtensionAmount] => &mut totals.line_extension,
        [N::TaxExclusiveAmount] => &mut totals.tax_exclusive,
        [N::TaxInclusiveAmount] => &mut totals.tax_inclusive,
        [N::AllowanceTotalAmount] => &mut totals.allowance_total,
        [N::ChargeTotalAmount] => &mut totals.charge_total,
        [N::PrepaidAmount] => &mut totals.prepaid,
        [N::PayableRoundingAmount] => &mut totals.rounding,
        [N::PayableAmount] => &mut totals.payable,
        _ => return Ok(false),
    };
    Ok(slot.is_none() && {
        *slot = Some(value);
        true
    })
}

fn order_line(d: &mut OrderDraft, path: &[N], leaf: &Leaf<'_>) -> Result<bool, Fault> {
    let text = leaf.text;
    // Amounts first: they may warn, which needs the whole draft.
    let money = match path {
        [N::LineItem, N::LineExtensionAmount]
        | [N::LineItem, N::TotalTaxAmount]
        | [N::LineItem, N::Price, N::PriceAmount] => match amount(d, leaf)? {
            Some(value) => Some(value),
            None => return Ok(false),
        },
        _ => None,
    };
    match path {
        [N::LineItem, N::AllowanceCharge, rest @ ..]
        | [N::LineItem, N::Price, N::AllowanceCharge, rest @ ..] => {
            return allowance(d, rest, leaf);
        }
        [N::LineItem, N::Delivery, rest @ ..]
            if d.lines.last().is_some_and(|l| l.deliveries == 1) =>
        {
            return line_delivery(d, rest, leaf);
        }
        [
            N::LineItem,
            N::Item,
            N::OriginCountry,
            N::IdentificationCode,
        ] => {
            return Ok(match country_code(d, leaf)? {
                Some(code) => d
                    .lines
                    .last_mut()
                    .is_some_and(|l| set(&mut l.line.item.origin_country, &code)),
                None => false,
            });
        }
        _ => {}
    }
    let code = &mut d.document_code;
    let property = &mut d.property;
    let Some(line) = d.lines.last_mut() else {
        return Ok(false);
    };
    let mapped = match path {
        // UBL puts notes on the OrderLine and on its LineItem; both are the line's.
        [N::Note] | [N::LineItem, N::Note] => {
            line.line.notes.extend(note(text));
            true
        }
        [N::LineItem, N::ID] => set(&mut line.line.number, text),
        [N::LineItem, N::Quantity] => {
            set_once(&mut line.line.quantity, decimal(text)?);
            if let Some(code) = leaf.attribute("unitCode") {
                let code = unit(code).map_err(|message| Fault {
                    message,
                    attribute: Some("unitCode"),
                })?;
                set_once(&mut line.line.unit, code);
            }
            true
        }
        [N::LineItem, N::LineExtensionAmount] => {
            set_once(&mut line.line.line_total, money.expect("read above"));
            true
        }
        [N::LineItem, N::TotalTaxAmount] => {
            set_once(
                &mut line.total_tax,
                (money.expect("read above"), leaf.path.to_owned()),
            );
            true
        }
        [N::LineItem, N::PartialDeliveryIndicator] => match text {
            "true" | "false" => {
                set_once(&mut line.line.partial_delivery_allowed, text == "true");
                true
            }
            _ => false,
        },
        [N::LineItem, N::AccountingCost | N::AccountingCostCode] => {
            push_reference(&mut line.line.references, ReferenceType::CostCentre, text)
        }
        [N::LineItem, N::SalesOrderID] => {
            push_reference(&mut line.line.references, ReferenceType::SalesOrder, text)
        }
        [N::LineItem, N::Price, N::PriceAmount] => {
            line.price_amount.is_none() && {
                line.price_amount = money;
                true
            }
        }
        [N::LineItem, N::Price, N::BaseQuantity] => {
            set_once(&mut line.base_quantity, decimal(text)?);
            if let Some(code) = leaf.attribute("unitCode") {
                let code = unit(code).map_err(|message| Fault {
                    message,
                    attribute: Some("unitCode"),
                })?;
                set_once(&mut line.base_unit, code);
            }
            true
        }
        [N::DocumentReference, rest @ ..] => match line.line.item.documents.last_mut() {
            Some(document) => document_part(document, code, rest, leaf),
            None => false,
        },
        [N::LineItem, N::Item, rest @ ..] => {
            let item = &mut line.line.item;
            match rest {
                [N::Name] => set(&mut item.name, text),
                [N::Description] => {
                    append(&mut item.description, text, "\n");
                    true
                }
                [N::BuyersItemIdentification, N::ID] => item_id(item, ItemIdRole::Buyer, leaf),
                [N::SellersItemIdentification, N::ID] => item_id(item, ItemIdRole::Supplier, leaf),
                [N::ManufacturersItemIdentification, N::ID] => {
                    item_id(item, ItemIdRole::Manufacturer, leaf)
                }
                [N::StandardItemIdentification, N::ID] => item_id(item, ItemIdRole::Standard, leaf),
                [N::AdditionalItemIdentification, N::ID] => item_id(item, ItemIdRole::Other, leaf),
                [N::ItemSpecificationDocumentReference, rest @ ..] => {
                    match item.documents.last_mut() {
                        Some(document) => document_part(document, code, rest, leaf),
                        None => false,
                    }
                }
                [N::AdditionalItemProperty, field] => match field {
                    N::Name => set(&mut property.name, text),
                    N::Value => set(&mut property.value, text),
                    N::ValueQuantity => {
                        property.quantity.is_none() && {
                            let unit = leaf.attribute("unitCode").map(str::to_owned);
                            property.quantity = Some((text.to_owned(), unit));
                            true
                        }
                    }
                    N::ValueQualifier => set(&mut property.qualifier, text),
                    _ => false,
                },
                [N::CommodityClassification, N::ItemClassificationCode] => {
                    let scheme = leaf
                        .attribute("listID")
                        .unwrap_or(party_scheme::UNSPECIFIED);
                    item.classifications.push(Classification {
                        scheme: scheme.to_owned(),
                        code: text.to_owned(),
                    });
                    true
                }
                [N::ClassifiedTaxCategory, rest @ ..] => match line.line.taxes.last_mut() {
                    Some(tax) => match rest {
                        [N::ID] => set(&mut tax.category, text),
                        [N::Percent] => {
                            tax.rate.is_none() && {
                                tax.rate = Some(decimal(text)?);
                                true
                            }
                        }
                        [N::TaxScheme, N::ID] => {
                            tax.scheme.is_empty() && {
                                tax.scheme = text.to_owned();
                                true
                            }
                        }
                        _ => false,
                    },
                    None => false,
                },
                _ => false,
            }
        }
        _ => false,
    };
    Ok(mapped)
}

/// The first `cac:Delivery` of a line.
fn line_delivery(d: &mut OrderDraft, path: &[N], leaf: &Leaf<'_>) -> Result<bool, Fault> {
    let text = leaf.text;
    let Some(line) = d.lines.last_mut() else {
        return Ok(false);
    };
    match path {
        [N::RequestedDeliveryPeriod, N::StartDate] => {
            set_once(&mut line.period.start, date(text)?);
            Ok(true)
        }
        [N::RequestedDeliveryPeriod, N::EndDate] => {
            set_once(&mut line.period.end, date(text)?);
            Ok(true)
        }
        [N::DeliveryAddress | N::DeliveryLocation, ..] => location(d, path, leaf, |d| {
            d.lines
                .last_mut()
                .expect("a line is being read")
                .line
                .delivery
                .location
                .get_or_insert_default()
        }),
        _ => Ok(false),
    }
}

/// An item id of `role`; `@schemeID` 0160 (the ISO 6523 ICD of GS1 GTIN, as
/// Peppol writes it) or `GTIN` is the scheme `GTIN`, any other kept as written.
fn item_id(item: &mut jembatan_plugin_sdk::Item, role: ItemIdRole, leaf: &Leaf<'_>) -> bool {
    let raw = leaf.attribute("schemeID");
    let scheme = match raw {
        Some("0160" | "GTIN") => Some("GTIN".to_owned()),
        other => other.map(str::to_owned),
    };
    let qualifier = raw
        .filter(|r| Some(*r) != scheme.as_deref())
        .map(str::to_owned);
    item.ids.push(ItemId {
        role,
        scheme,
        value: leaf.text.to_owned(),
        qualifier,
    });
    true
}
