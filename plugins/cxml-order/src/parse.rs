//! One pass over the cXML with the SDK's streaming reader; one match arm per
//! cXML path. Paths are relative to the root `cXML` element and made of
//! [`Name`]s, so an arm reads like the cXML path it maps.
//!
//! What the mapping does not name is kept: an element the arms do not read, below
//! an element they do (`OrderRequestHeader`, `ItemOut`, `ItemDetail`, an `Address`
//! …), is captured whole as one `cxml` extension with its path, and so is every
//! `Extrinsic`. Only card data (`Payment/PCard`, `PaymentToken`) and the
//! network's shared secrets are left out, on purpose.

use std::collections::BTreeMap;

use jembatan_plugin_sdk::values::{country, currency, date_of_datetime, decimal, unit};
use jembatan_plugin_sdk::xml::{BytesStart, XmlEvent, XmlReader, attribute};
use jembatan_plugin_sdk::{
    AllowanceCharge, AllowanceChargeKind, AllowanceChargeLevel, Classification, Contact, Document,
    DocumentType, Extension, ItemId, ItemIdRole, ItemProperty, LineTax, Location, NaiveDate,
    Normalized, Note, PaymentTerms, PluginError, Purpose, Reference, ReferenceType, ScheduleLine,
    TaxSubtotal, Transaction, TransactionId, Warning, line_column,
};

use crate::Config;
use crate::draft::{
    AddressDraft, ContactDraft, Credential, DistributionCharge, LineDraft, OrderDraft, TermsDraft,
    set_once,
};
use crate::names::Name as N;

/// The longest extension value the schema takes.
const MAX_VALUE: usize = 4000;

/// A value that cannot be read, and the attribute it is in, if any.
struct Fault {
    message: String,
    attribute: Option<&'static str>,
    /// The error code when it is not `invalid-value`.
    code: Option<&'static str>,
}

impl From<String> for Fault {
    fn from(message: String) -> Self {
        Self {
            message,
            attribute: None,
            code: None,
        }
    }
}

/// What to do with an element the mapping does not read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Unmapped {
    /// Keep it as an extension.
    Keep,
    /// Card data: never stored; a warning says so.
    Card,
    /// A network password (`SharedSecret`): never stored.
    Secret,
}

/// An element being captured whole.
struct Capture {
    kind: Unmapped,
    depth: usize,
    /// The source path, `/cXML/…/ItemOut[2]/ItemDetail/Extrinsic`.
    path: String,
    /// Whether it is inside an `ItemOut` (its extension is the line's).
    in_line: bool,
    attributes: BTreeMap<String, String>,
    /// Byte offset of its first child element, if any; the text before it.
    first_child: Option<usize>,
    leading_text: String,
    /// For an `ItemOut/Distribution/Charge`, its `Money` as it is read.
    charge: Option<ChargeMoney>,
}

/// The `Money` of a captured `Distribution/Charge`.
#[derive(Debug, Default)]
struct ChargeMoney {
    currency: Option<String>,
    text: Option<String>,
}

/// Why reading stopped before the document's end.
enum Stop {
    /// The body cannot be read (not well-formed XML, not cXML): the whole
    /// message is refused.
    Unreadable(PluginError),
    /// A value of the document cannot be read: its transaction is refused.
    Refused(PluginError),
}

impl From<PluginError> for Stop {
    /// What the XML reader says: the body is not well-formed.
    fn from(error: PluginError) -> Self {
        Self::Unreadable(error)
    }
}

/// Reads one cXML document: one transaction, whose control number is the
/// `payloadID`.
///
/// An `OrderRequest` is the order, or refused with what is wrong and where (a
/// `type="delete"` too: `unsupported-purpose`); any other request, a response
/// or a message is not an order, its kind the element's name (`ProfileRequest`).
/// The message is refused whole when it is empty, not well-formed, not cXML, or
/// cXML that carries no request, response or message.
pub fn parse(body: &[u8], config: &Config) -> Result<Normalized, PluginError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(PluginError::new(
            "empty-body",
            "the body is empty; send a cXML OrderRequest document",
        ));
    }
    // UTF-16, which XML 1.0 requires a reader to take, becomes UTF-8 first.
    let body = &*jembatan_plugin_sdk::xml::utf8(body)?;
    let mut draft = OrderDraft {
        supplier_domain: config.supplier_domain.clone(),
        ..OrderDraft::default()
    };
    let read = read(body, config, &mut draft);
    if let Err(Stop::Unreadable(e)) = read {
        return Err(e);
    }
    let Some(kind) = draft.document_kind.clone() else {
        return Err(match read {
            Err(Stop::Refused(e) | Stop::Unreadable(e)) => e,
            Ok(()) => PluginError::new(
                "not-an-order",
                "the cXML document carries no Request, Response or Message",
            )
            .at_path("/cXML"),
        });
    };
    let (line, column) = line_column(body, draft.root_offset);
    let mut id = TransactionId::new(0).at(Location {
        line: Some(line),
        column: Some(column),
        offset: Some(draft.root_offset as u64),
        path: Some(format!("/{}", draft.root)),
    });
    id.control_number.clone_from(&draft.payload_id);
    let transaction = match read {
        Err(Stop::Refused(e)) => Transaction::refused(id, e),
        Err(Stop::Unreadable(_)) => unreachable!("returned above"),
        Ok(()) if draft.order_request => Transaction::from_result(id, draft.finish(config, body)),
        Ok(()) => Transaction::not_an_order(id, kind, None),
    };
    Ok(Normalized::new(vec![transaction]))
}

/// Reads the document into `draft`, up to the end of its root element.
fn read(body: &[u8], config: &Config, draft: &mut OrderDraft) -> Result<(), Stop> {
    let mut xml = XmlReader::new(body);
    let mut stack: Vec<N> = Vec::with_capacity(16);
    // The elements' local names, for source paths (an unmapped element's own name).
    let mut locals: Vec<String> = Vec::with_capacity(16);
    // Text of a mixed-content element (Description, Comments) read so far: the
    // text before its children arrives with their start events.
    let mut mixed = String::new();
    let mut capture: Option<Capture> = None;
    while let Some(event) = xml.next()? {
        match event {
            XmlEvent::Start {
                element,
                local,
                depth,
                offset,
                text,
            } => {
                let name = N::resolve(local);
                if depth == 1 {
                    if name != N::cXML {
                        return Err(Stop::Unreadable(not_an_order(element)));
                    }
                    draft.version = doctype_version(&body[..offset]);
                    draft.root = local.to_owned();
                    draft.root_offset = offset;
                }
                if let Some(capture) = &mut capture {
                    if depth == capture.depth + 1 && capture.first_child.is_none() {
                        capture.first_child = Some(offset);
                        capture.leading_text = text.to_owned();
                    }
                    if depth == capture.depth + 1
                        && name == N::Money
                        && let Some(charge) = &mut capture.charge
                    {
                        // An unreadable code is kept as written: it then names
                        // no currency the order has.
                        charge.currency = trimmed_attribute(element, "currency")
                            .ok()
                            .flatten()
                            .map(|code| currency(&code).unwrap_or(code));
                    }
                    stack.push(name);
                    locals.push(local.to_owned());
                    continue;
                }
                if matches!(stack.last(), Some(N::Description | N::Comments)) {
                    mixed.push_str(text);
                }
                stack.push(name);
                locals.push(local.to_owned());
                // What the document is: the element under Request (or Message,
                // Response) that says so, else the Response itself.
                match (depth, stack.get(1)) {
                    (2, Some(N::Request | N::Message | N::Response)) => {
                        draft.document_kind.get_or_insert_with(|| local.to_owned());
                    }
                    (3, Some(N::Request | N::Message | N::Response))
                        if name != N::Status
                            && draft.document_kind.as_deref() == Some(&locals[1]) =>
                    {
                        draft.document_kind = Some(local.to_owned());
                    }
                    _ => {}
                }
                if let Some(kind) = unmapped(&stack[1..], element) {
                    let distribution_charge = stack[1..]
                        == [
                            N::Request,
                            N::OrderRequest,
                            N::ItemOut,
                            N::Distribution,
                            N::Charge,
                        ];
                    capture = Some(Capture {
                        kind,
                        depth,
                        path: source_path(&locals, draft),
                        in_line: stack.get(3) == Some(&N::ItemOut),
                        attributes: attributes(element, &[]),
                        first_child: None,
                        leading_text: String::new(),
                        charge: distribution_charge.then(ChargeMoney::default),
                    });
                    continue;
                }
                if matches!(name, N::Description | N::Comments) {
                    mixed.clear();
                }
                on_start(draft, &stack, &locals, element, offset)
                    .map_err(|f| Stop::Refused(invalid_value(f, &locals, draft, body, offset)))?;
            }
            XmlEvent::End {
                text, text_offset, ..
            } => {
                if let Some(open) = &mut capture {
                    if stack.len() == open.depth + 1
                        && stack.last() == Some(&N::Money)
                        && let Some(charge) = &mut open.charge
                    {
                        charge.text = Some(text.trim().to_owned());
                    }
                    if stack.len() == open.depth {
                        let open = capture.take().expect("checked above");
                        captured(draft, open, body, text, text_offset, config).map_err(|f| {
                            Stop::Refused(invalid_value(f, &locals, draft, body, text_offset))
                        })?;
                    }
                    stack.pop();
                    locals.pop();
                    continue;
                }
                let text = match stack.last() {
                    Some(N::Description | N::Comments) => {
                        mixed.push_str(text);
                        mixed.trim()
                    }
                    _ => text.trim(),
                };
                if !text.is_empty() {
                    on_end(draft, &stack, &locals, text).map_err(|f| {
                        Stop::Refused(invalid_value(f, &locals, draft, body, text_offset))
                    })?;
                }
                stack.pop();
                locals.pop();
            }
        }
    }
    Ok(())
}

/// Whether the element that `path` ends with is one the mapping does not read,
/// below one it does; such an element is captured whole.
fn unmapped(path: &[N], element: &BytesStart<'_>) -> Option<Unmapped> {
    let (&name, parents) = path.split_last()?;
    let parent = parents.last().copied();
    if name == N::Extrinsic {
        // `Extrinsic name="Attachments"` lists documents (DTD, AttachmentReference).
        let attachments =
            attribute(element, "name").ok().flatten().as_deref() == Some("Attachments");
        return (!attachments).then_some(Unmapped::Keep);
    }
    let known: &[N] = match parent? {
        N::Header => &[N::From, N::To, N::Sender],
        N::From | N::To => &[N::Credential],
        N::Sender => &[N::Credential],
        N::Credential => {
            return (name != N::Identity).then_some(Unmapped::Secret);
        }
        N::OrderRequestHeader => &[
            N::Total,
            N::ShipTo,
            N::BillTo,
            N::Shipping,
            N::Tax,
            N::Payment,
            N::PaymentTerm,
            N::Contact,
            N::Comments,
            N::DocumentReference,
            N::SupplierOrderInfo,
            N::TermsOfDelivery,
            N::DeliveryPeriod,
        ],
        N::Payment => {
            return Some(if matches!(name, N::PCard | N::PaymentToken) {
                Unmapped::Card
            } else {
                Unmapped::Keep
            });
        }
        N::ItemOut => &[
            N::ItemID,
            N::ItemDetail,
            N::ShipTo,
            N::Shipping,
            N::Tax,
            N::Distribution,
            N::Comments,
            N::ScheduleLine,
        ],
        N::ItemID => &[
            N::SupplierPartID,
            N::SupplierPartAuxiliaryID,
            N::BuyerPartID,
        ],
        N::ItemDetail => &[
            N::UnitPrice,
            N::Description,
            N::UnitOfMeasure,
            N::PriceBasisQuantity,
            N::Classification,
            N::ManufacturerPartID,
            N::ManufacturerName,
            N::URL,
            N::Dimension,
            N::AttachmentReference,
        ],
        N::UnitPrice | N::Total => &[N::Money],
        N::ShipTo | N::BillTo => &[N::Address],
        N::Address => &[N::Name, N::PostalAddress, N::Email, N::Phone, N::Fax],
        N::PostalAddress => &[
            N::DeliverTo,
            N::Street,
            N::City,
            N::State,
            N::PostalCode,
            N::Country,
        ],
        N::Contact => &[N::Name, N::Email, N::Phone, N::Fax],
        N::Tax => &[N::Money, N::TaxDetail],
        N::Distribution => &[N::Accounting],
        N::TaxDetail => &[N::TaxableAmount, N::TaxAmount],
        N::Shipping => &[N::Money, N::Description],
        N::PaymentTerm => &[N::Discount],
        N::TermsOfDelivery => &[
            N::TermsOfDeliveryCode,
            N::ShippingPaymentMethod,
            N::TransportTerms,
            N::Address,
            N::Comments,
        ],
        _ => return None,
    };
    (!known.contains(&name)).then_some(Unmapped::Keep)
}

fn on_start(
    draft: &mut OrderDraft,
    stack: &[N],
    locals: &[String],
    element: &BytesStart<'_>,
    offset: usize,
) -> Result<(), Fault> {
    let path = &stack[1..];
    let attr = |name: &'static str| trimmed_attribute(element, name);
    let with_attr = |name: &'static str| move |message: String| in_attribute(message, name);
    let here = source_path(locals, draft);
    match path {
        [] => {
            draft.payload_id = attr("payloadID")?.filter(|id| id.chars().count() <= 128);
            if let Some(version) = attr("version")? {
                draft.version = Some(version);
            }
            let kept = attributes(element, &["payloadID", "version"]);
            keep_attributes(&mut draft.extensions, &here, kept);
        }
        [N::Request] => {
            let kept = attributes(element, &[]);
            keep_attributes(&mut draft.extensions, &here, kept);
        }
        [N::Request, N::OrderRequest] => draft.order_request = true,
        [N::Header, party @ (N::From | N::To), N::Credential] => {
            let credential = Credential {
                domain: attr("domain")?,
                identity: None,
            };
            if *party == N::From {
                draft.from.push(credential);
            } else {
                draft.to.push(credential);
            }
        }
        [N::Header, N::Sender, N::Credential] => {
            draft.sender_credential = attributes(element, &[]);
        }
        [N::Request, N::OrderRequest, N::OrderRequestHeader] => {
            if let Some(id) = attr("orderID")? {
                set_once(&mut draft.order_id, id);
            }
            if let Some(date) = attr("orderDate")? {
                let day = day_of(draft, None, &here, "orderDate", &date, "/issue_date")
                    .map_err(with_attr("orderDate"))?;
                set_once(&mut draft.order_date, day);
            }
            draft.purpose = match attr("type")?.as_deref() {
                None => None,
                Some("new") => Some(Purpose::Original),
                Some("update") => Some(Purpose::Replace),
                // A cancellation is refused, never read as an order (design decision 14).
                Some(other) => {
                    return Err(Fault {
                        code: Some("unsupported-purpose"),
                        message: format!(
                            "the order's type is {other:?}: cancelling an order is not \
                             supported; only type \"new\" and \"update\" are"
                        ),
                        attribute: Some("type"),
                    });
                }
            };
            draft.order_type = attr("orderType")?;
            if let Some(date) = attr("requestedDeliveryDate")? {
                let day = day_of(
                    draft,
                    None,
                    &here,
                    "requestedDeliveryDate",
                    &date,
                    "/delivery/requested_date",
                )
                .map_err(with_attr("requestedDeliveryDate"))?;
                draft.requested_date = Some(day);
            }
            let references = [
                ("agreementID", ReferenceType::Contract),
                ("parentAgreementID", ReferenceType::BlanketOrder),
                ("requisitionID", ReferenceType::Requisition),
            ];
            for (name, kind) in references {
                if let Some(value) = attr(name)? {
                    draft.references.push(reference(kind, value));
                }
            }
            let kept = attributes(
                element,
                &[
                    "orderID",
                    "orderDate",
                    "type",
                    "orderType",
                    "requestedDeliveryDate",
                    "agreementID",
                    "parentAgreementID",
                    "requisitionID",
                ],
            );
            keep_attributes(&mut draft.extensions, &here, kept);
        }
        [
            N::Request,
            N::OrderRequest,
            N::OrderRequestHeader,
            rest @ ..,
        ] => header_start(draft, rest, element, &here)?,
        [N::Request, N::OrderRequest, N::ItemOut] => {
            // Pushed first, so an error in its attributes names this ItemOut.
            draft.lines.push(LineDraft {
                offset,
                ..LineDraft::default()
            });
            let index = draft.lines.len() - 1;
            let here = source_path(locals, draft);
            let line = &mut draft.lines[index];
            if let Some(quantity) = attr("quantity")? {
                line.quantity = Some(decimal(&quantity).map_err(with_attr("quantity"))?);
            }
            line.number = attr("lineNumber")?;
            line.parent_number = attr("parentLineNumber")?;
            if let Some(value) = attr("agreementItemNumber")? {
                line.references.push(Reference {
                    qualifier: Some("agreementItemNumber".to_owned()),
                    ..reference(ReferenceType::Contract, value)
                });
            }
            if let Some(value) = attr("requisitionID")? {
                line.references
                    .push(reference(ReferenceType::Requisition, value));
            }
            if let Some(date) = attr("requestedDeliveryDate")? {
                let field = format!("/lines/{index}/delivery/requested_date");
                let day = day_of(
                    draft,
                    Some(index),
                    &here,
                    "requestedDeliveryDate",
                    &date,
                    &field,
                )
                .map_err(with_attr("requestedDeliveryDate"))?;
                draft.lines[index].requested_date = Some(day);
            }
            let kept = attributes(
                element,
                &[
                    "quantity",
                    "lineNumber",
                    "parentLineNumber",
                    "agreementItemNumber",
                    "requisitionID",
                    "requestedDeliveryDate",
                ],
            );
            keep_attributes(&mut draft.lines[index].extensions, &here, kept);
        }
        [N::Request, N::OrderRequest, N::ItemOut, rest @ ..] => {
            let index = draft.lines.len() - 1;
            line_start(draft, index, rest, element, &here)?;
        }
        _ => {}
    }
    if path.last() == Some(&N::Money)
        && let Some(code) = attr("currency")?
    {
        let code = currency(&code).map_err(with_attr("currency"))?;
        match &draft.currency {
            // One order, one currency: an amount in another cannot be mapped.
            Some(order) if *order != code => {
                return Err(Fault {
                    message: format!("the amount is in {code}, but the order is in {order}"),
                    attribute: Some("currency"),
                    code: None,
                });
            }
            _ => draft.currency = Some(code),
        }
    }
    Ok(())
}

/// Start tags below `OrderRequestHeader`.
fn header_start(
    draft: &mut OrderDraft,
    path: &[N],
    element: &BytesStart<'_>,
    here: &str,
) -> Result<(), Fault> {
    let attr = |name: &'static str| trimmed_attribute(element, name);
    match path {
        [N::ShipTo | N::BillTo, N::Address] | [N::TermsOfDelivery, N::Address] => {
            let target = match path[0] {
                N::ShipTo => &mut draft.ship_to,
                N::BillTo => &mut draft.bill_to,
                _ => &mut draft.terms.get_or_insert_default().address,
            };
            address_start(target, element)?;
        }
        [.., N::Country] => {
            if let Some(code) = attr("isoCountryCode")? {
                let code = country(&code).map_err(|m| in_attribute(m, "isoCountryCode"))?;
                let target = match path[0] {
                    N::ShipTo => Some(&mut draft.ship_to),
                    N::BillTo => Some(&mut draft.bill_to),
                    N::TermsOfDelivery => Some(&mut draft.terms.get_or_insert_default().address),
                    _ => None,
                };
                if let Some(target) = target {
                    set_once(&mut target.postal.country, code);
                }
            }
        }
        [N::Tax, N::TaxDetail] => draft.taxes.push(TaxSubtotal {
            scheme: attr("category")?.unwrap_or_else(|| "tax".to_owned()),
            category: None,
            rate: percent(attr("percentageRate")?, "percentageRate")?,
            taxable_amount: None,
            amount: None,
            exemption_reason: attr("exemptDetail")?,
        }),
        [N::Shipping] => draft.charges.push(charge(AllowanceChargeLevel::Order)),
        [N::PaymentTerm] => {
            let days = attr("payInNumberOfDays")?
                .map(|d| d.parse::<u32>())
                .transpose()
                .map_err(|e| in_attribute(e.to_string(), "payInNumberOfDays"))?;
            draft.payment_terms.push(PaymentTerms {
                net_days: days,
                ..PaymentTerms::default()
            });
        }
        [N::PaymentTerm, N::Discount, N::DiscountPercent] => {
            // A term with a discount is "pay within N days and deduct X %" (DTD
            // PaymentTerm, C1 l. 3008): its days are the discount's.
            if let Some(term) = draft.payment_terms.last_mut() {
                term.discount_days = term.net_days.take();
                term.discount_percent = percent(attr("percent")?, "percent")?;
            }
        }
        [N::PaymentTerm, N::Discount, N::DiscountAmount] => {
            if let Some(term) = draft.payment_terms.last_mut() {
                term.discount_days = term.net_days.take();
            }
        }
        [N::Contact] => draft.contacts.push(ContactDraft {
            role: attr("role")?,
            contact: Contact::default(),
        }),
        [N::Comments] => draft.comments_type = attr("type")?,
        [N::DocumentReference] => {
            if let Some(id) = attr("payloadID")? {
                draft
                    .references
                    .push(reference(ReferenceType::PreviousOrder, id));
            }
        }
        [N::SupplierOrderInfo] => {
            if let Some(id) = attr("orderID")? {
                draft
                    .references
                    .push(reference(ReferenceType::SalesOrder, id));
            }
        }
        [
            N::TermsOfDelivery,
            code @ (N::TermsOfDeliveryCode | N::ShippingPaymentMethod | N::TransportTerms),
        ] => {
            let terms = draft.terms.get_or_insert_default();
            if let Some(value) = attr("value")? {
                match code {
                    N::ShippingPaymentMethod => terms.terms.transport_payment = Some(value),
                    N::TransportTerms => match incoterm(&value) {
                        Some(rule) => terms.terms.incoterm = Some(rule.to_owned()),
                        None => terms.texts.push(format!("TransportTerms: {value}")),
                    },
                    _ => terms.texts.push(format!("TermsOfDeliveryCode: {value}")),
                }
            }
        }
        [N::DeliveryPeriod, N::Period] => {
            for (name, field) in [
                ("startDate", "/delivery/earliest"),
                ("endDate", "/delivery/latest"),
            ] {
                if let Some(date) = attr(name)? {
                    let day = day_of(draft, None, here, name, &date, field)
                        .map_err(|m| in_attribute(m, name))?;
                    if name == "startDate" {
                        draft.earliest = Some(day);
                    } else {
                        draft.latest = Some(day);
                    }
                }
            }
        }
        [N::Extrinsic, N::AttachmentReference] => {
            draft.documents.push(attachment_reference(element)?);
        }
        _ => {}
    }
    Ok(())
}

/// Start tags below an `ItemOut`.
fn line_start(
    draft: &mut OrderDraft,
    index: usize,
    path: &[N],
    element: &BytesStart<'_>,
    here: &str,
) -> Result<(), Fault> {
    let attr = |name: &'static str| trimmed_attribute(element, name);
    let line = &mut draft.lines[index];
    match path {
        [N::ShipTo, N::Address] => address_start(&mut line.ship_to, element)?,
        [N::ShipTo, .., N::Country] => {
            if let Some(code) = attr("isoCountryCode")? {
                let code = country(&code).map_err(|m| in_attribute(m, "isoCountryCode"))?;
                set_once(&mut line.ship_to.postal.country, code);
            }
        }
        [N::Shipping] => line.charges.push(charge(AllowanceChargeLevel::Line)),
        [N::Tax, N::TaxDetail] => line.taxes.push(LineTax {
            scheme: attr("category")?.unwrap_or_else(|| "tax".to_owned()),
            category: None,
            rate: percent(attr("percentageRate")?, "percentageRate")?,
            amount: None,
        }),
        [N::Comments] => draft.comments_type = attr("type")?,
        [N::ItemDetail, N::Description] => line.descriptions += 1,
        [N::ItemDetail, N::PriceBasisQuantity] => {
            if let Some(quantity) = attr("quantity")? {
                line.base_quantity =
                    Some(decimal(&quantity).map_err(|m| in_attribute(m, "quantity"))?);
            }
            // The factor from the order's unit to the price's: no canonical field, and
            // the price is kept as stated, never converted.
            let kept = attributes(element, &["quantity"]);
            keep_attributes(&mut line.extensions, here, kept);
        }
        [N::ItemDetail, N::Classification] => {
            line.classification_domain = attr("domain")?;
            if let (Some(domain), Some(code)) = (attr("domain")?, attr("code")?) {
                line.classifications.push(Classification {
                    scheme: domain,
                    code,
                });
                line.classification_domain = None;
            }
        }
        [N::ItemDetail, N::Dimension] => {
            if let (Some(kind), Some(quantity)) = (attr("type")?, attr("quantity")?) {
                line.properties.push(ItemProperty {
                    name: kind,
                    value: quantity,
                    unit: None,
                    code: None,
                });
            }
        }
        [N::ItemDetail, N::AttachmentReference]
        | [N::ItemDetail, N::Extrinsic, N::AttachmentReference]
        | [N::Extrinsic, N::AttachmentReference] => {
            let document = attachment_reference(element)?;
            line.documents.push(document);
        }
        [N::ItemDetail, N::URL] => {
            line.documents.push(Document {
                description: attr("name")?,
                ..document()
            });
        }
        [N::Distribution] => line.distributions += 1,
        [N::Distribution, N::Accounting] => {
            let kept = attributes(element, &[]);
            keep_attributes(&mut line.extensions, here, kept);
        }
        [N::Distribution, N::Accounting, N::Segment] => {
            if let Some(id) = attr("id")? {
                let kind = attr("type")?;
                let lower = kind.as_deref().unwrap_or_default().to_ascii_lowercase();
                let reference_type = if lower.contains("cost") && lower.contains("cent") {
                    ReferenceType::CostCentre
                } else if lower.contains("project") {
                    ReferenceType::Project
                } else {
                    ReferenceType::Other
                };
                line.references.push(Reference {
                    qualifier: kind,
                    description: attr("description")?,
                    ..reference(reference_type, id)
                });
            }
        }
        [N::ScheduleLine] => {
            let quantity = attr("quantity")?
                .map(|q| decimal(&q))
                .transpose()
                .map_err(|m| in_attribute(m, "quantity"))?;
            let date = match attr("requestedDeliveryDate")? {
                Some(date) => {
                    let position = line.schedule.len();
                    let field = format!("/lines/{index}/schedule/{position}/requested_date");
                    Some(
                        day_of(
                            draft,
                            Some(index),
                            here,
                            "requestedDeliveryDate",
                            &date,
                            &field,
                        )
                        .map_err(|m| in_attribute(m, "requestedDeliveryDate"))?,
                    )
                }
                None => None,
            };
            if let Some(quantity) = quantity {
                draft.lines[index].schedule.push(ScheduleLine {
                    quantity,
                    requested_date: date,
                    earliest: None,
                    latest: None,
                });
            }
        }
        _ => {}
    }
    Ok(())
}

/// Called when an element with non-empty trimmed text ends; `stack` ends with it.
fn on_end(draft: &mut OrderDraft, stack: &[N], locals: &[String], text: &str) -> Result<(), Fault> {
    match &stack[1..] {
        [
            N::Header,
            party @ (N::From | N::To),
            N::Credential,
            N::Identity,
        ] => {
            let list = if *party == N::From {
                &mut draft.from
            } else {
                &mut draft.to
            };
            if let Some(credential) = list.last_mut() {
                set_once(&mut credential.identity, text.to_owned());
            }
        }
        [N::Header, N::Sender, N::Credential, N::Identity] => {
            // The Sender is whoever transmitted the document: usually the network
            // (Ariba's `AN…` NetworkID) or the buyer's own system, so it is not
            // reliably the buyer and is kept as written, not made a buyer id.
            let path = source_path(locals, draft);
            let attributes = std::mem::take(&mut draft.sender_credential);
            draft.extensions.push(extension(&path, text, attributes));
        }
        [
            N::Request,
            N::OrderRequest,
            N::OrderRequestHeader,
            rest @ ..,
        ] => header_end(draft, rest, text)?,
        [N::Request, N::OrderRequest, N::ItemOut, rest @ ..] => {
            let here = source_path(locals, draft);
            let comments_type = draft.comments_type.clone();
            if let Some(line) = draft.lines.last_mut() {
                line_end(line, rest, text, comments_type, &here)?;
            }
        }
        _ => {}
    }
    Ok(())
}

fn header_end(draft: &mut OrderDraft, path: &[N], text: &str) -> Result<(), Fault> {
    match path {
        [N::Total, N::Money] => set_once(&mut draft.totals.payable, decimal(text)?),
        [N::Tax, N::Money] => set_once(&mut draft.totals.tax_total, decimal(text)?),
        [N::Tax, N::TaxDetail, N::TaxableAmount, N::Money] => {
            if let Some(tax) = draft.taxes.last_mut() {
                tax.taxable_amount = Some(decimal(text)?);
            }
        }
        [N::Tax, N::TaxDetail, N::TaxAmount, N::Money] => {
            if let Some(tax) = draft.taxes.last_mut() {
                tax.amount = Some(decimal(text)?);
            }
        }
        [N::Shipping, N::Money] => {
            if let Some(charge) = draft.charges.last_mut() {
                charge.amount = Some(decimal(text)?);
            }
        }
        [N::Shipping, N::Description] => {
            if let Some(charge) = draft.charges.last_mut() {
                charge.reason = Some(text.to_owned());
            }
        }
        [N::PaymentTerm, N::Discount, N::DiscountAmount, N::Money] => {
            if let Some(term) = draft.payment_terms.last_mut() {
                term.discount_amount = Some(decimal(text)?);
            }
        }
        [N::Comments] => draft.notes.push(Note {
            text: text.to_owned(),
            subject: draft.comments_type.clone(),
        }),
        [N::Comments, N::Attachment, N::URL] => draft.documents.push(url_document(text)),
        [N::ShipTo, N::Address, rest @ ..] => address_end(&mut draft.ship_to, rest, text),
        [N::BillTo, N::Address, rest @ ..] => address_end(&mut draft.bill_to, rest, text),
        [N::Contact, rest @ ..] => {
            if let Some(contact) = draft.contacts.last_mut() {
                contact_end(&mut contact.contact, rest, text);
            }
        }
        [N::TermsOfDelivery, rest @ ..] => {
            let terms = draft.terms.get_or_insert_with(TermsDraft::default);
            match rest {
                [N::Address, rest @ ..] => address_end(&mut terms.address, rest, text),
                [_] => terms.texts.push(text.to_owned()),
                _ => {}
            }
        }
        [N::Extrinsic, N::AttachmentReference, part] => {
            if let Some(document) = draft.documents.last_mut() {
                attachment_reference_end(document, *part, text);
            }
        }
        _ => {}
    }
    Ok(())
}

fn line_end(
    line: &mut LineDraft,
    path: &[N],
    text: &str,
    comments_type: Option<String>,
    here: &str,
) -> Result<(), Fault> {
    match path {
        [N::ItemID, id] => {
            let (role, qualifier) = match id {
                N::SupplierPartID => (ItemIdRole::Supplier, None),
                // The supplier's variant of the part (colour, finish, a configuration).
                N::SupplierPartAuxiliaryID => {
                    (ItemIdRole::Supplier, Some("SupplierPartAuxiliaryID"))
                }
                _ => (ItemIdRole::Buyer, None),
            };
            line.ids.push(ItemId {
                role,
                scheme: None,
                value: text.to_owned(),
                qualifier: qualifier.map(str::to_owned),
            });
        }
        [N::ItemDetail, N::UnitPrice, N::Money] => set_once(&mut line.unit_price, decimal(text)?),
        [N::ItemDetail, N::Description] => {
            if line.descriptions == 1 {
                line.description = Some(text.to_owned());
            } else {
                // A second Description (another language) has no field of its own.
                line.extensions.push(extension(here, text, BTreeMap::new()));
            }
        }
        [N::ItemDetail, N::Description, N::ShortName] => {
            set_once(&mut line.short_name, text.to_owned())
        }
        [N::ItemDetail, N::UnitOfMeasure] => set_once(&mut line.unit, unit(text)?),
        [N::ItemDetail, N::PriceBasisQuantity, N::UnitOfMeasure] => {
            set_once(&mut line.base_unit, unit(text)?)
        }
        [N::ItemDetail, N::PriceBasisQuantity, N::Description] => {
            line.extensions.push(extension(here, text, BTreeMap::new()));
        }
        [N::ItemDetail, N::Classification] => {
            if let Some(domain) = line.classification_domain.take() {
                line.classifications.push(Classification {
                    scheme: domain,
                    code: text.to_owned(),
                });
            }
        }
        [N::ItemDetail, N::ManufacturerPartID] => line.ids.push(ItemId {
            role: ItemIdRole::Manufacturer,
            scheme: None,
            value: text.to_owned(),
            qualifier: None,
        }),
        [N::ItemDetail, N::ManufacturerName] => {
            // The maker's name qualifies the maker's part number (DTD order:
            // ManufacturerPartID, then ManufacturerName); alone it is an extension.
            match line
                .ids
                .iter_mut()
                .find(|id| id.role == ItemIdRole::Manufacturer && id.qualifier.is_none())
            {
                Some(id) => id.qualifier = Some(text.to_owned()),
                None => line.extensions.push(extension(here, text, BTreeMap::new())),
            }
        }
        [N::ItemDetail, N::URL] => {
            if let Some(document) = line.documents.last_mut() {
                let read = url_document(text);
                document.id = read.id;
                document.uri = read.uri;
                document.filename = read.filename;
            }
        }
        [N::ItemDetail, N::Dimension, N::UnitOfMeasure] => {
            if let Some(property) = line.properties.last_mut() {
                match unit(text) {
                    Ok(code) => property.unit = Some(code),
                    Err(_) => property.value = format!("{} {text}", property.value),
                }
            }
        }
        [N::ItemDetail, N::Extrinsic, N::AttachmentReference, part]
        | [N::Extrinsic, N::AttachmentReference, part]
        | [N::ItemDetail, N::AttachmentReference, part] => {
            if let Some(document) = line.documents.last_mut() {
                attachment_reference_end(document, *part, text);
            }
        }
        [N::ShipTo, N::Address, rest @ ..] => address_end(&mut line.ship_to, rest, text),
        [N::Shipping, N::Money] => {
            if let Some(charge) = line.charges.last_mut() {
                charge.amount = Some(decimal(text)?);
            }
        }
        [N::Shipping, N::Description] => {
            if let Some(charge) = line.charges.last_mut() {
                charge.reason = Some(text.to_owned());
            }
        }
        [N::Tax, N::Money] => line.tax_money = Some(decimal(text)?),
        [N::Tax, N::TaxDetail, N::TaxAmount, N::Money] => {
            if let Some(tax) = line.taxes.last_mut() {
                tax.amount = Some(decimal(text)?);
            }
        }
        [N::Tax, N::TaxDetail, N::TaxableAmount, N::Money] => {
            line.extensions.push(extension(here, text, BTreeMap::new()));
        }
        [N::Comments] => line.notes.push(Note {
            text: text.to_owned(),
            subject: comments_type,
        }),
        [N::Comments, N::Attachment, N::URL] => line.documents.push(url_document(text)),
        _ => {}
    }
    Ok(())
}

fn address_start(target: &mut AddressDraft, element: &BytesStart<'_>) -> Result<(), Fault> {
    target.id = trimmed_attribute(element, "addressID")?;
    target.id_domain = trimmed_attribute(element, "addressIDDomain")?;
    if let Some(code) = trimmed_attribute(element, "isoCountryCode")? {
        target.country = Some(country(&code).map_err(|m| in_attribute(m, "isoCountryCode"))?);
    }
    Ok(())
}

/// An `Address` child's text: `Name`, the `PostalAddress` parts, `Email`, `Phone`, `Fax`.
fn address_end(target: &mut AddressDraft, path: &[N], text: &str) {
    match path {
        [N::Name] => set_once(&mut target.name, text.to_owned()),
        [N::PostalAddress, N::DeliverTo] => target.postal.attention.push(text.to_owned()),
        [N::PostalAddress, N::Street] if target.postal.street.is_none() => {
            target.postal.street = Some(text.to_owned());
        }
        [N::PostalAddress, N::Street] => {
            // Further Street lines are one additional street, joined.
            jembatan_plugin_sdk::draft::append(&mut target.postal.additional_street, text, ", ");
        }
        [N::PostalAddress, N::City] => set_once(&mut target.postal.city, text.to_owned()),
        [N::PostalAddress, N::State] => set_once(&mut target.postal.region, text.to_owned()),
        [N::PostalAddress, N::PostalCode] => {
            set_once(&mut target.postal.postal_code, text.to_owned())
        }
        rest => contact_end(&mut target.contact, rest, text),
    }
}

/// `Name`, `Email`, and the `TelephoneNumber` parts of `Phone` and `Fax`.
fn contact_end(contact: &mut Contact, path: &[N], text: &str) {
    match path {
        [N::Name] => set_once(&mut contact.name, text.to_owned()),
        [N::Email] => set_once(&mut contact.email, text.to_owned()),
        [number @ (N::Phone | N::Fax), N::TelephoneNumber, part] => {
            // "+62 21 8990123 ext. 12": the parts in the order cXML gives them.
            let piece = match part {
                N::CountryCode => format!("+{}", text.trim_start_matches('+')),
                N::AreaOrCityCode | N::Number => text.to_owned(),
                N::Extension => format!("ext. {text}"),
                _ => return,
            };
            let field = if *number == N::Phone {
                &mut contact.phone
            } else {
                &mut contact.fax
            };
            jembatan_plugin_sdk::draft::append(field, &piece, " ");
        }
        _ => {}
    }
}

/// An element captured whole has ended: it becomes an extension, or (the
/// config-named Extrinsic) the line total; card data only a warning. A line's
/// `Distribution/Charge` is also noted, for [`LineDraft`] to decide whether it
/// states the line total.
fn captured(
    draft: &mut OrderDraft,
    capture: Capture,
    body: &[u8],
    text: &str,
    text_offset: usize,
    config: &Config,
) -> Result<(), Fault> {
    match capture.kind {
        Unmapped::Secret => return Ok(()),
        Unmapped::Card => {
            draft.warnings.push(Warning {
                code: "sensitive-data-dropped".to_owned(),
                message: "the order carries payment card data; it is never stored, so pay \
                          as agreed with the buyer"
                    .to_owned(),
                path: Some(capture.path),
                field: None,
            });
            return Ok(());
        }
        Unmapped::Keep => {}
    }
    let value = match capture.first_child {
        // Only text: the text, its references resolved.
        None => text.trim().to_owned(),
        // Children: the content as written.
        Some(child) => {
            let end = end_tag_start(body, text_offset);
            format!(
                "{}{}",
                capture.leading_text.trim_start(),
                String::from_utf8_lossy(&body[child..end])
            )
            .trim_end()
            .to_owned()
        }
    };
    let line_total = config.line_total_extrinsic.as_deref();
    if capture.in_line
        && line_total.is_some()
        && capture.attributes.get("name").map(String::as_str) == line_total
        && let Some(line) = draft.lines.last_mut()
        && line.line_total.is_none()
    {
        line.line_total = Some(decimal(&value)?);
        return Ok(());
    }
    let (value, truncated) = truncate(value);
    if truncated {
        draft.warnings.push(Warning {
            code: "value-truncated".to_owned(),
            message: format!(
                "the element is longer than {MAX_VALUE} characters; its extension keeps the first {MAX_VALUE}"
            ),
            path: Some(capture.path.clone()),
            field: None,
        });
    }
    let extension = Extension {
        namespace: "cxml".to_owned(),
        path: capture.path,
        value,
        attributes: capture.attributes,
    };
    match draft.lines.last_mut() {
        Some(line) if capture.in_line => {
            line.extensions.push(extension);
            if let Some(money) = capture.charge {
                line.distribution_charges.push(DistributionCharge {
                    amount: money.text.and_then(|text| decimal(&text).ok()),
                    currency: money.currency,
                    extension: line.extensions.len() - 1,
                });
            }
        }
        _ => draft.extensions.push(extension),
    }
    Ok(())
}

/// The calendar day of a cXML date or datetime, as written (docs/canonical-order-v2.md
/// decision 6). A time of day has no canonical field: the attribute is kept as an
/// extension (the order's, or line `line`'s) and a `time-dropped` warning names
/// the field that took the day.
fn day_of(
    draft: &mut OrderDraft,
    line: Option<usize>,
    element_path: &str,
    name: &str,
    value: &str,
    field: &str,
) -> Result<NaiveDate, String> {
    let day = date_of_datetime(value)?;
    if value.len() > 10 {
        let path = format!("{element_path}/@{name}");
        let kept = extension(&path, value, BTreeMap::new());
        match line {
            Some(index) => draft.lines[index].extensions.push(kept),
            None => draft.extensions.push(kept),
        }
        draft.warnings.push(Warning {
            code: "time-dropped".to_owned(),
            message: format!(
                "{name} {value} is a date and time; the order keeps the day as written \
                 ({day}), the full value is kept with the document's other data"
            ),
            path: Some(path),
            field: Some(field.to_owned()),
        });
    }
    Ok(day)
}

fn trimmed_attribute(
    element: &BytesStart<'_>,
    name: &'static str,
) -> Result<Option<String>, Fault> {
    attribute(element, name)
        .map(|v| v.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty()))
        .map_err(|message| in_attribute(message, name))
}

fn in_attribute(message: impl Into<String>, name: &'static str) -> Fault {
    Fault {
        message: message.into(),
        attribute: Some(name),
        code: None,
    }
}

fn percent(
    value: Option<String>,
    name: &'static str,
) -> Result<Option<jembatan_plugin_sdk::Decimal>, Fault> {
    value
        .map(|v| decimal(&v))
        .transpose()
        .map_err(|m| in_attribute(m, name))
}

/// Every attribute of `element` except `skip` and `xml:lang` (a language tag,
/// not data), name to value.
fn attributes(element: &BytesStart<'_>, skip: &[&str]) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for attr in element.attributes().flatten() {
        let key: &str = attr.key.as_ref();
        let key = key.to_owned();
        if key == "xml:lang" || key.starts_with("xmlns") || skip.contains(&key.as_str()) {
            continue;
        }
        if let Ok(Some(value)) = attribute(element, &key) {
            out.insert(key, value.into_owned());
        }
    }
    out
}

/// Attributes without a canonical field, one extension each (`…/@name`).
fn keep_attributes(extensions: &mut Vec<Extension>, path: &str, kept: BTreeMap<String, String>) {
    for (name, value) in kept {
        extensions.push(extension(
            &format!("{path}/@{name}"),
            &value,
            BTreeMap::new(),
        ));
    }
}

fn extension(path: &str, value: &str, attributes: BTreeMap<String, String>) -> Extension {
    Extension {
        namespace: "cxml".to_owned(),
        path: path.to_owned(),
        value: truncate(value.to_owned()).0,
        attributes,
    }
}

/// At most [`MAX_VALUE`] characters, and whether any were cut.
fn truncate(mut value: String) -> (String, bool) {
    match value.char_indices().nth(MAX_VALUE) {
        Some((cut, _)) => {
            value.truncate(cut);
            (value, true)
        }
        None => (value, false),
    }
}

fn reference(kind: ReferenceType, value: String) -> Reference {
    Reference {
        kind,
        value,
        issue_date: None,
        line_number: None,
        qualifier: None,
        description: None,
    }
}

fn charge(level: AllowanceChargeLevel) -> AllowanceCharge {
    AllowanceCharge {
        kind: AllowanceChargeKind::Charge,
        level: Some(level),
        reason_code: None,
        reason_code_list: None,
        reason: None,
        amount: None,
        percent: None,
        base_amount: None,
        rate: None,
        rate_quantity: None,
        rate_unit: None,
        sequence: None,
        tax: None,
    }
}

fn document() -> Document {
    Document::of_kind(DocumentType::Other)
}

/// A cXML `URL` as a document: an absolute URL is its `uri` (shown, never
/// fetched); a `cid:` URL names a part of the multipart message it came in
/// (DTD `Attachment`, C1 l. 420) and is kept as the document's id; anything else
/// (a bare file name) is its id and file name.
fn url_document(text: &str) -> Document {
    let has_scheme = text.split_once(':').is_some_and(|(scheme, _)| {
        scheme.len() > 1
            && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
    });
    let uri_chars = text
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "-._~:/?#[]@!$&'()*+,;=%".contains(c));
    if text
        .get(..4)
        .is_some_and(|s| s.eq_ignore_ascii_case("cid:"))
    {
        Document {
            id: Some(text.to_owned()),
            ..document()
        }
    } else if has_scheme && uri_chars && text.len() <= 2048 {
        Document {
            uri: Some(text.to_owned()),
            ..document()
        }
    } else {
        Document {
            id: Some(text.to_owned()),
            filename: text.rsplit('/').next().map(str::to_owned),
            ..document()
        }
    }
}

/// `AttachmentReference` (DTD C1 l. 440): `@version` is the revision; its
/// `Name`, `Description`, `InternalID` and `URL` follow.
fn attachment_reference(element: &BytesStart<'_>) -> Result<Document, Fault> {
    Ok(Document {
        revision: trimmed_attribute(element, "version")?,
        ..document()
    })
}

fn attachment_reference_end(document: &mut Document, part: N, text: &str) {
    match part {
        N::Name => document.filename = Some(text.to_owned()),
        N::Description => document.description = Some(text.to_owned()),
        N::InternalID => document.id = Some(text.to_owned()),
        N::URL => {
            let read = url_document(text);
            if read.uri.is_some() {
                document.uri = read.uri;
            } else {
                set_once(&mut document.id, text.to_owned());
            }
        }
        _ => {}
    }
}

/// The Incoterms rule a cXML `TransportTerms@value` names: cXML writes the
/// rules' names ("Free-Carrier", "CostAndFreight", DTD C1 l. 4336); a three-letter
/// code is taken as it is.
fn incoterm(value: &str) -> Option<&'static str> {
    let key: String = value
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect();
    Some(match key.as_str() {
        "exw" | "exworks" => "EXW",
        "fca" | "freecarrier" => "FCA",
        "fas" | "freealongsideship" => "FAS",
        "fob" | "freeonboard" => "FOB",
        "cfr" | "costandfreight" => "CFR",
        "cif" | "costinsuranceandfreight" => "CIF",
        "cpt" | "carriagepaidto" => "CPT",
        "cip" | "carriageandinsurancepaidto" => "CIP",
        "daf" | "deliveredatfrontier" => "DAF",
        "des" | "deliveredexship" => "DES",
        "deq" | "deliveredexquay" => "DEQ",
        "ddu" | "delivereddutyunpaid" => "DDU",
        "ddp" | "delivereddutypaid" => "DDP",
        "dat" | "deliveredatterminal" => "DAT",
        "dap" | "deliveredatplace" => "DAP",
        "dpu" | "deliveredatplaceunloaded" => "DPU",
        _ => return None,
    })
}

/// The cXML version a DOCTYPE's DTD URL names
/// (`http://xml.cxml.org/schemas/cXML/1.2.050/cXML.dtd` → `1.2.050`), for
/// documents without `cXML@version` (the DTD's default for it).
fn doctype_version(prolog: &[u8]) -> Option<String> {
    let prolog = std::str::from_utf8(prolog).ok()?;
    let doctype = &prolog[prolog.find("<!DOCTYPE")?..];
    let lower = doctype.to_ascii_lowercase();
    let at = lower.find("/cxml/")? + "/cxml/".len();
    let version: String = doctype[at..]
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    (version.contains('.') && !version.ends_with('.')).then_some(version)
}

/// Where the end tag of the element whose last text starts at `text_offset`
/// begins: character data holds no `<` of its own, so the first `</` after it.
fn end_tag_start(body: &[u8], text_offset: usize) -> usize {
    body[text_offset..]
        .windows(2)
        .position(|w| w == b"</")
        .map_or(body.len(), |at| text_offset + at)
}

/// `/cXML/Request/OrderRequest/ItemOut[2]/ItemDetail`: the open elements, the
/// `ItemOut` numbered by its position.
fn source_path(locals: &[String], draft: &OrderDraft) -> String {
    let mut path = String::new();
    for (depth, name) in locals.iter().enumerate() {
        path.push('/');
        path.push_str(name);
        if depth == 3 && name == "ItemOut" {
            path.push_str(&format!("[{}]", draft.lines.len().max(1)));
        }
    }
    path
}

fn not_an_order(root: &BytesStart<'_>) -> PluginError {
    let qname = root.name();
    let qname: &str = qname.as_ref();
    let prefix = qname.split_once(':').map_or("", |(p, _)| p);
    let xmlns = if prefix.is_empty() {
        "xmlns".to_owned()
    } else {
        format!("xmlns:{prefix}")
    };
    let namespace = match attribute(root, &xmlns).ok().flatten() {
        Some(uri) => format!(" in namespace {uri}"),
        None => String::new(),
    };
    PluginError::new(
        "not-an-order",
        format!(
            "the document's root element is <{qname}>{namespace}; expected a cXML document \
             (<cXML>) holding an OrderRequest"
        ),
    )
    .at_path(format!("/{qname}"))
}

fn invalid_value(
    fault: Fault,
    locals: &[String],
    draft: &OrderDraft,
    body: &[u8],
    offset: usize,
) -> PluginError {
    let mut path = source_path(locals, draft);
    if let Some(attribute) = fault.attribute {
        path.push_str("/@");
        path.push_str(attribute);
    }
    PluginError::at_offset(
        fault.code.unwrap_or("invalid-value"),
        format!("{path}: {}", fault.message),
        body,
        offset,
    )
    .at_path(path)
}
