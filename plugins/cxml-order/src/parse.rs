//! One pass over the cXML with the SDK's streaming reader; one match arm per
//! cXML path. Paths are relative to the root `cXML` element and made of
//! [`Name`]s, so an arm reads like the cXML path it maps.

use jembatan_plugin_sdk::values::{country, currency, date_of_datetime, decimal, unit};
use jembatan_plugin_sdk::xml::{BytesStart, XmlEvent, XmlReader, attribute};
use jembatan_plugin_sdk::{Address, PluginError, PurchaseOrder};

use crate::Config;
use crate::draft::{LineDraft, OrderDraft, note, set_once};
use crate::names::Name as N;

/// A value that cannot be read, and the attribute it is in, if any.
struct Fault {
    message: String,
    attribute: Option<&'static str>,
}

impl From<String> for Fault {
    fn from(message: String) -> Self {
        Self {
            message,
            attribute: None,
        }
    }
}

/// Reads one cXML document holding an OrderRequest.
pub fn parse_order(body: &[u8], config: &Config) -> Result<PurchaseOrder, PluginError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(PluginError::new(
            "empty-body",
            "the body is empty; send a cXML OrderRequest document",
        ));
    }
    // UTF-16, which XML 1.0 requires a reader to take, becomes UTF-8 first.
    let body = &*jembatan_plugin_sdk::xml::utf8(body)?;
    let mut xml = XmlReader::new(body);
    let mut draft = OrderDraft {
        supplier_domain: config.supplier_domain.clone(),
        ..OrderDraft::default()
    };
    let mut stack: Vec<N> = Vec::with_capacity(16);
    // Text of a mixed-content element (Description, Comments) read so far: the
    // text before its children arrives with their start events.
    let mut mixed = String::new();
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
                if depth == 1 && name != N::cXML {
                    return Err(not_an_order(element));
                }
                if matches!(stack.last(), Some(N::Description | N::Comments)) {
                    mixed.push_str(text);
                }
                stack.push(name);
                if depth == 3 && stack[1] == N::Request && draft.request_kind.is_none() {
                    draft.request_kind = Some(local.to_owned());
                }
                if matches!(name, N::Description | N::Comments) {
                    mixed.clear();
                }
                on_start(&mut draft, &stack[1..], element, offset, config)
                    .map_err(|f| invalid_value(f, &stack, &draft, body, offset))?;
            }
            XmlEvent::End {
                text, text_offset, ..
            } => {
                let text = match stack.last() {
                    Some(N::Description | N::Comments) => {
                        mixed.push_str(text);
                        mixed.trim()
                    }
                    _ => text.trim(),
                };
                if !text.is_empty() {
                    on_end(&mut draft, &stack[1..], text)
                        .map_err(|f| invalid_value(f, &stack, &draft, body, text_offset))?;
                }
                stack.pop();
            }
        }
    }
    draft.finish(config, body)
}

fn on_start(
    draft: &mut OrderDraft,
    path: &[N],
    element: &BytesStart<'_>,
    offset: usize,
    config: &Config,
) -> Result<(), Fault> {
    let attr = |name: &'static str| {
        attribute(element, name).map_err(|message| Fault {
            message,
            attribute: Some(name),
        })
    };
    let with_attr = |name: &'static str| {
        move |message: String| Fault {
            message,
            attribute: Some(name),
        }
    };
    match path {
        [N::Request, N::OrderRequest] => draft.order_request = true,
        [N::Header, N::To, N::Credential] => draft.to_domain = attr("domain")?.map(Into::into),
        [N::Request, N::OrderRequest, N::OrderRequestHeader] => {
            if let Some(id) = attr("orderID")?.filter(|v| !v.trim().is_empty()) {
                set_once(&mut draft.order_id, id.trim().to_owned());
            }
            if let Some(date) = attr("orderDate")? {
                let date = date_of_datetime(date.trim()).map_err(with_attr("orderDate"))?;
                set_once(&mut draft.order_date, date);
            }
        }
        [
            N::Request,
            N::OrderRequest,
            N::OrderRequestHeader,
            N::BillTo,
            N::Address,
        ] => {
            if let Some(id) = attr("addressID")?.filter(|v| !v.trim().is_empty()) {
                set_once(&mut draft.buyer_id, id.trim().to_owned());
            }
        }
        [N::Request, N::OrderRequest, N::ItemOut] => {
            // Pushed first, so an error in its attributes names this ItemOut.
            draft.lines.push(LineDraft {
                offset,
                ..LineDraft::default()
            });
            let line = draft.lines.last_mut().expect("pushed above");
            if let Some(quantity) = attr("quantity")? {
                line.quantity = Some(decimal(quantity.trim()).map_err(with_attr("quantity"))?);
            }
            line.number = attr("lineNumber")?
                .map(|n| n.trim().to_owned())
                .filter(|n| !n.is_empty());
            if let Some(date) = attr("requestedDeliveryDate")? {
                let date =
                    date_of_datetime(date.trim()).map_err(with_attr("requestedDeliveryDate"))?;
                line.requested_date = Some(date);
            }
        }
        [N::Request, N::OrderRequest, .., N::Money] => {
            if let Some(code) = attr("currency")? {
                let code = currency(code.trim()).map_err(with_attr("currency"))?;
                match &draft.currency {
                    // One order, one currency: a price in another cannot be mapped.
                    Some(order) if *order != code => {
                        return Err(Fault {
                            message: format!(
                                "the amount is in {code}, but the order is in {order}"
                            ),
                            attribute: Some("currency"),
                        });
                    }
                    _ => draft.currency = Some(code),
                }
            }
        }
        [N::Request, N::OrderRequest, N::ItemOut, N::Extrinsic]
        | [
            N::Request,
            N::OrderRequest,
            N::ItemOut,
            N::ItemDetail,
            N::Extrinsic,
        ] => {
            // The line total only if the buyer's config names the Extrinsic
            // that states it; `item` takes that Extrinsic's text.
            let wanted = config.line_total_extrinsic.as_deref();
            let named = attr("name")?;
            if wanted.is_some()
                && named.as_deref() == wanted
                && let Some(line) = draft.lines.last_mut()
            {
                line.line_total_pending = true;
            }
        }
        [.., N::Country] => {
            if let Some(code) = attr("isoCountryCode")? {
                let code = country(code.trim()).map_err(with_attr("isoCountryCode"))?;
                if let Some(address) = address_of(draft, path) {
                    set_once(&mut address.country, code);
                }
            }
        }
        _ => {}
    }
    Ok(())
}

/// Called when an element with non-empty trimmed text ends; `path` ends with it.
fn on_end(draft: &mut OrderDraft, path: &[N], text: &str) -> Result<(), Fault> {
    match path {
        [N::Header, N::From, N::Credential, N::Identity] => {
            set_once(&mut draft.from_identity, text.to_owned());
        }
        [N::Header, N::To, N::Credential, N::Identity]
            if draft.supplier_domain.is_none() || draft.to_domain == draft.supplier_domain =>
        {
            set_once(&mut draft.to_identity, text.to_owned());
        }
        [
            N::Request,
            N::OrderRequest,
            N::OrderRequestHeader,
            rest @ ..,
        ] => header(draft, rest, text)?,
        [N::Request, N::OrderRequest, N::ItemOut, rest @ ..] => {
            if let Some(line) = draft.lines.last_mut() {
                item(line, rest, text)?;
            }
        }
        _ => {}
    }
    Ok(())
}

fn header(draft: &mut OrderDraft, path: &[N], text: &str) -> Result<(), Fault> {
    match path {
        [N::Total, N::Money] => set_once(&mut draft.totals.payable, decimal(text)?),
        [N::Tax, N::Money] => set_once(&mut draft.totals.tax_total, decimal(text)?),
        [N::Comments] => draft.notes.extend(note(text)),
        [N::ShipTo, N::Address, N::PostalAddress, rest @ ..] => {
            postal(&mut draft.delivery_address, rest, text);
        }
        [N::BillTo, N::Address, N::Name] => set_once(&mut draft.buyer_name, text.to_owned()),
        [N::BillTo, N::Address, N::PostalAddress, rest @ ..] => {
            postal(&mut draft.buyer_address, rest, text);
        }
        [N::BillTo, N::Address, N::Email] => {
            set_once(&mut draft.buyer_contact.email, text.to_owned())
        }
        [N::BillTo, N::Address, N::Phone, N::TelephoneNumber, part] => {
            // "+62 21 8990123": the parts in the order cXML gives them.
            let piece = match part {
                N::CountryCode => format!("+{}", text.trim_start_matches('+')),
                N::AreaOrCityCode | N::Number => text.to_owned(),
                _ => return Ok(()),
            };
            let phone = draft.buyer_contact.phone.get_or_insert_with(String::new);
            if !phone.is_empty() {
                phone.push(' ');
            }
            phone.push_str(&piece);
        }
        _ => {}
    }
    Ok(())
}

fn item(line: &mut LineDraft, path: &[N], text: &str) -> Result<(), Fault> {
    match path {
        [N::ItemID, N::SupplierPartID] => set_once(&mut line.supplier_part, text.to_owned()),
        [N::ItemID, N::SupplierPartAuxiliaryID] => {
            set_once(&mut line.auxiliary_id, text.to_owned())
        }
        [N::ItemID, N::BuyerPartID] => set_once(&mut line.buyer_part, text.to_owned()),
        [N::ItemDetail, N::UnitPrice, N::Money] => set_once(&mut line.unit_price, decimal(text)?),
        [N::ItemDetail, N::Description] => set_once(&mut line.description, text.to_owned()),
        [N::ItemDetail, N::Description, N::ShortName] => {
            set_once(&mut line.short_name, text.to_owned())
        }
        [N::ItemDetail, N::UnitOfMeasure] => set_once(&mut line.unit, unit(text)?),
        [N::ItemDetail, N::ManufacturerPartID] => {
            set_once(&mut line.manufacturer_part, text.to_owned())
        }
        [N::ItemDetail, N::ManufacturerName] => {
            set_once(&mut line.manufacturer_name, text.to_owned())
        }
        [N::Comments] => set_once(&mut line.comments, text.to_owned()),
        [N::Extrinsic] | [N::ItemDetail, N::Extrinsic] if line.line_total_pending => {
            line.line_total_pending = false;
            set_once(&mut line.line_total, decimal(text)?);
        }
        _ => {}
    }
    Ok(())
}

/// Street, City, State, PostalCode of a PostalAddress. The first Street is the
/// street; any further ones are joined into the additional street.
fn postal(address: &mut Address, path: &[N], text: &str) {
    let field = match path {
        [N::Street] if address.street.is_none() => &mut address.street,
        [N::Street] => {
            let more = address.additional_street.get_or_insert_with(String::new);
            if !more.is_empty() {
                more.push_str(", ");
            }
            more.push_str(text);
            return;
        }
        [N::City] => &mut address.city,
        [N::State] => &mut address.region,
        [N::PostalCode] => &mut address.postal_code,
        _ => return,
    };
    set_once(field, text.to_owned());
}

/// The address a `Country` element belongs to.
fn address_of<'d>(draft: &'d mut OrderDraft, path: &[N]) -> Option<&'d mut Address> {
    match path {
        [
            N::Request,
            N::OrderRequest,
            N::OrderRequestHeader,
            N::ShipTo,
            N::Address,
            N::PostalAddress,
            N::Country,
        ] => Some(&mut draft.delivery_address),
        [
            N::Request,
            N::OrderRequest,
            N::OrderRequestHeader,
            N::BillTo,
            N::Address,
            N::PostalAddress,
            N::Country,
        ] => Some(&mut draft.buyer_address),
        _ => None,
    }
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
    stack: &[N],
    draft: &OrderDraft,
    body: &[u8],
    offset: usize,
) -> PluginError {
    let mut path = String::new();
    for (depth, name) in stack.iter().enumerate() {
        path.push('/');
        path.push_str(name.as_str());
        if depth == 3 && *name == N::ItemOut {
            path.push_str(&format!("[{}]", draft.lines.len().max(1)));
        }
    }
    if let Some(attribute) = fault.attribute {
        path.push_str("/@");
        path.push_str(attribute);
    }
    PluginError::at_offset(
        "invalid-value",
        format!("{path}: {}", fault.message),
        body,
        offset,
    )
    .at_path(path)
}
