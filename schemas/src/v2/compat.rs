//! v1 ⇄ v2 (design section 3).
//!
//! [`upgrade_v1`] is lossless: `downgrade_v2(upgrade_v1(o)) == o` for every v1 order,
//! down to the digits each decimal was written with. [`downgrade_v2`] is for
//! consumers that still expect v1 and is lossy, as documented on it.

use rust_decimal::Decimal;

use super::*;
use crate::purchase_order as v1;

/// What an upgraded v1 order says about its source (v1 did not record one).
pub const V1_SOURCE_FORMAT: &str = "unknown";
pub const V1_SOURCE_SYNTAX: &str = "canonical v1";

/// A v1 order as v2, field by field as the design's table says. Nothing is guessed:
/// a v1 description stays a description (never a name), v1 ids keep scheme
/// `UNSPECIFIED`, a v1 unit price is a price for one `unit`.
pub fn upgrade_v1(order: v1::PurchaseOrder) -> PurchaseOrder {
    let v1::PurchaseOrder {
        buyer_order_number,
        issue_date,
        currency,
        buyer,
        supplier,
        delivery,
        lines,
        notes,
        totals,
    } = order;
    PurchaseOrder {
        version: Version::V2,
        buyer_order_number,
        issue_date,
        purpose: Some(Purpose::Original),
        order_type: None,
        currency,
        source: Source {
            format: V1_SOURCE_FORMAT.to_owned(),
            syntax: V1_SOURCE_SYNTAX.to_owned(),
            customization: None,
            profile: None,
            control_number: None,
        },
        buyer: Some(upgrade_buyer(buyer)),
        supplier: Supplier {
            code: supplier.code,
            name: supplier.name,
            ..Default::default()
        },
        other_parties: vec![],
        delivery: delivery.map(|d| Delivery {
            requested_date: d.requested_date,
            location: d.address.map(|a| Location {
                address: Some(upgrade_address(a)),
                ..Default::default()
            }),
            ..Default::default()
        }),
        delivery_terms: None,
        payment_terms: vec![],
        allowances_charges: vec![],
        taxes: vec![],
        totals: totals.map(|t| Totals {
            line_extension: t.line_extension,
            tax_total: t.tax,
            payable: t.payable,
            ..Default::default()
        }),
        references: vec![],
        documents: vec![],
        notes: notes.into_iter().map(note).collect(),
        lines: lines.into_iter().map(upgrade_line).collect(),
        extensions: vec![],
        warnings: vec![],
        received: None,
    }
}

fn note(text: String) -> Note {
    Note {
        text,
        subject: None,
    }
}

fn upgrade_buyer(buyer: v1::Party) -> Party {
    let mut ids = Vec::new();
    if let Some(value) = buyer.id {
        ids.push(PartyId {
            scheme: party_scheme::UNSPECIFIED.to_owned(),
            value,
            qualifier: None,
        });
    }
    if let Some(value) = buyer.tax_id {
        ids.push(PartyId {
            scheme: party_scheme::TAX.to_owned(),
            value,
            qualifier: None,
        });
    }
    Party {
        name: Some(buyer.name),
        legal_name: None,
        ids,
        address: buyer.address.map(upgrade_address),
        contacts: buyer
            .contact
            .map(|c| Contact {
                name: c.name,
                phone: c.phone,
                email: c.email,
                ..Default::default()
            })
            .into_iter()
            .collect(),
        source: Some(PartySource::Document),
    }
}

fn upgrade_address(a: v1::Address) -> Address {
    Address {
        street: a.street,
        additional_street: a.additional_street,
        city: a.city,
        postal_code: a.postal_code,
        region: a.region,
        country: a.country,
        ..Default::default()
    }
}

fn upgrade_line(line: v1::OrderLine) -> OrderLine {
    let mut ids = Vec::new();
    if let Some(value) = line.buyer_item_code {
        ids.push(ItemId {
            role: ItemIdRole::Buyer,
            scheme: None,
            value,
            qualifier: None,
        });
    }
    if let Some(value) = line.supplier_item_code {
        ids.push(ItemId {
            role: ItemIdRole::Supplier,
            scheme: None,
            value,
            qualifier: None,
        });
    }
    OrderLine {
        line_number: line.line_number,
        parent_line_number: None,
        item: Item {
            description: line.description,
            ids,
            ..Default::default()
        },
        quantity: line.quantity,
        unit: line.unit,
        unit_original: None,
        price: line.unit_price.map(Price::per_unit),
        line_total: line.line_total,
        delivery: line.requested_date.map(|date| Delivery {
            requested_date: Some(date),
            ..Default::default()
        }),
        schedule: vec![],
        partial_delivery_allowed: None,
        packaging: None,
        allowances_charges: vec![],
        taxes: vec![],
        references: vec![],
        notes: line.note.into_iter().map(note).collect(),
        extensions: vec![],
    }
}

// ---------------------------------------------------------------------------------
// downgrade

/// v1 `party.name` and `supplier.name` (UBL-sized text).
const V1_TEXT: usize = 512;
/// v1 `lines[].description`.
const V1_DESCRIPTION: usize = 2000;
/// v1 `notes[]` and `lines[].note`.
const V1_NOTE: usize = 4000;
/// Put between an item's name and its description.
const NAME_SEPARATOR: &str = " — ";
/// The buyer's name when a plugin's order has none (the host fills it before storing).
pub const UNNAMED_BUYER: &str = "(buyer not named)";

/// A v2 order as v1, for consumers that still expect v1. Always valid v1 when the
/// order is valid v2. Lossy, on purpose and only so:
///
/// - **Item:** the name is put before the description (`name — description`, cut to
///   v1's 2000 characters) when both exist, else whichever exists.
/// - **Item ids** by role: the first `buyer` one is `buyer_item_code`, the first
///   `supplier` one `supplier_item_code`; the others go to the line's note (or are
///   the description when the line would have neither code nor description).
/// - **Price:** `unit_price` is `amount / base_quantity`, only when the division is
///   exact (at most 12 decimals) and the price is for the line's own unit; else the
///   price goes to the line's note. A base of 1 keeps the amount as written.
/// - **Parties:** buyer name (else legal name, else the registered account name, else
///   its first id), first non-`TAX` id → `id`, first `TAX` id → `tax_id`, first
///   contact → `contact` (name, phone, e-mail); the supplier keeps code and name
///   (else legal name). Further buyer contacts become notes; other ids, roles, fax,
///   department, `source` and the supplier's other fields are dropped.
/// - **Addresses:** a building number is appended to the street, unstructured lines
///   fill `street`/`additional_street` when those are empty; attention goes to a note.
/// - **Dates:** only `requested_date` has a v1 field; windows and the other dates
///   go to notes, as does everything of a delivery but its address and date.
/// - **The rest as notes** (English, one per item after the order's own notes; on a
///   line, one note of lines joined by `\n`): purpose other than original, order
///   type, other parties, delivery terms, payment terms, allowances and charges,
///   taxes, totals v1 lacks, references, documents (with their links), and on lines
///   the parent line, properties, classifications, origin, a `ZZ` unit's original
///   code, schedule, partial delivery, packaging. Note subjects prefix their text.
/// - **Dropped:** `version`, `source`, `extensions`, `warnings`, `received`.
pub fn downgrade_v2(order: &PurchaseOrder) -> v1::PurchaseOrder {
    let mut notes: Vec<String> = order.notes.iter().map(note_text).collect();
    match order.purpose() {
        Purpose::Original => {}
        Purpose::Replace => notes.push("Replaces an order sent earlier".to_owned()),
        Purpose::Copy => notes.push("A copy of an order sent earlier".to_owned()),
    }
    if let Some(t) = &order.order_type {
        let coded = format!("{} {}", t.list, t.code);
        notes.push(match &t.text {
            Some(text) => format!("Order type: {text} ({coded})"),
            None => format!("Order type: {coded}"),
        });
    }
    let buyer = downgrade_buyer(order, &mut notes);
    for other in &order.other_parties {
        notes.push(format!(
            "{}: {}",
            capitalize(&other.role.replace('_', " ")),
            party_text(&other.party)
        ));
    }
    let delivery = order.delivery.as_ref().map(|d| {
        let extra = delivery_text(d, false);
        if !extra.is_empty() {
            notes.push(format!("Delivery: {extra}"));
        }
        v1::Delivery {
            address: d
                .location
                .as_ref()
                .and_then(|l| l.address.as_ref())
                .map(|a| downgrade_address(a, "Delivery", &mut notes)),
            requested_date: d.requested_date,
        }
    });
    if let Some(terms) = &order.delivery_terms {
        let text = delivery_terms_text(terms);
        if !text.is_empty() {
            notes.push(format!("Delivery terms: {text}"));
        }
    }
    for terms in &order.payment_terms {
        let text = payment_terms_text(terms);
        if !text.is_empty() {
            notes.push(format!("Payment terms: {text}"));
        }
    }
    notes.extend(order.allowances_charges.iter().map(allowance_charge_text));
    notes.extend(order.taxes.iter().map(tax_subtotal_text));
    let totals = order.totals.as_ref().map(|t| {
        let extra = totals_text(t);
        if !extra.is_empty() {
            notes.push(format!("Totals: {extra}"));
        }
        v1::Totals {
            line_extension: t.line_extension,
            tax: t.tax_total,
            payable: t.payable,
        }
    });
    notes.extend(order.references.iter().map(reference_text));
    notes.extend(order.documents.iter().map(document_text));
    v1::PurchaseOrder {
        buyer_order_number: order.buyer_order_number.clone(),
        issue_date: order.issue_date,
        currency: order.currency.clone(),
        buyer,
        supplier: v1::Supplier {
            code: order.supplier.code.clone(),
            name: order
                .supplier
                .name
                .clone()
                .or_else(|| order.supplier.legal_name.clone()),
        },
        delivery,
        lines: order.lines.iter().map(downgrade_line).collect(),
        notes: notes.into_iter().map(|n| clip(n, V1_NOTE)).collect(),
        totals,
    }
}

fn downgrade_buyer(order: &PurchaseOrder, notes: &mut Vec<String>) -> v1::Party {
    let Some(buyer) = &order.buyer else {
        let name = match &order.received {
            Some(r) => r.buyer_account.name.clone(),
            None => UNNAMED_BUYER.to_owned(),
        };
        return v1::Party {
            name: clip(name, V1_TEXT),
            ..Default::default()
        };
    };
    let name = buyer
        .name
        .clone()
        .or_else(|| buyer.legal_name.clone())
        .or_else(|| {
            order
                .received
                .as_ref()
                .map(|r| r.buyer_account.name.clone())
        })
        .or_else(|| {
            buyer
                .ids
                .first()
                .map(|id| format!("{} {}", id.scheme, id.value))
        })
        .unwrap_or_else(|| UNNAMED_BUYER.to_owned());
    let is_tax = |id: &&PartyId| id.scheme == party_scheme::TAX;
    let mut contacts = buyer.contacts.iter();
    let contact = contacts.next().map(|c| v1::Contact {
        name: c.name.clone(),
        phone: c.phone.clone(),
        email: c.email.clone(),
    });
    for c in contacts {
        notes.push(format!("Buyer contact: {}", contact_text(c)));
    }
    v1::Party {
        id: buyer
            .ids
            .iter()
            .find(|id| !is_tax(id))
            .map(|id| id.value.clone()),
        name: clip(name, V1_TEXT),
        tax_id: buyer.ids.iter().find(is_tax).map(|id| id.value.clone()),
        address: buyer
            .address
            .as_ref()
            .map(|a| downgrade_address(a, "Buyer", notes)),
        contact,
    }
}

/// v1's six fields; the building number joins the street, unstructured lines fill
/// empty street fields, attention goes to `notes` (`whose` says whose address).
fn downgrade_address(a: &Address, whose: &str, notes: &mut Vec<String>) -> v1::Address {
    let mut lines = a.lines.iter().cloned();
    let mut street = a.street.clone().or_else(|| lines.next());
    if let Some(number) = &a.building_number {
        street = Some(match street {
            Some(s) => format!("{s} {number}"),
            None => number.clone(),
        });
    }
    let rest: Vec<String> = lines.collect();
    let additional_street = a
        .additional_street
        .clone()
        .or_else(|| (!rest.is_empty()).then(|| rest.join(", ")));
    if !a.attention.is_empty() {
        notes.push(format!("{whose} attention: {}", a.attention.join(", ")));
    }
    v1::Address {
        street: street.map(|s| clip(s, V1_TEXT)),
        additional_street: additional_street.map(|s| clip(s, V1_TEXT)),
        city: a.city.clone(),
        postal_code: a.postal_code.clone(),
        region: a.region.clone(),
        country: a.country.clone(),
    }
}

fn downgrade_line(line: &OrderLine) -> v1::OrderLine {
    let mut notes: Vec<String> = line.notes.iter().map(note_text).collect();
    if let Some(parent) = &line.parent_line_number {
        notes.push(format!("Part of line {parent}"));
    }
    let item = &line.item;
    let buyer_id = item.ids.iter().position(|id| id.role == ItemIdRole::Buyer);
    let supplier_id = item
        .ids
        .iter()
        .position(|id| id.role == ItemIdRole::Supplier);
    let buyer_item_code = buyer_id.map(|i| item.ids[i].value.clone());
    let supplier_item_code = supplier_id.map(|i| item.ids[i].value.clone());
    let other_ids: Vec<String> = item
        .ids
        .iter()
        .enumerate()
        .filter(|(i, _)| Some(*i) != buyer_id && Some(*i) != supplier_id)
        .map(|(_, id)| item_id_text(id))
        .collect();
    let mut description = match (&item.name, &item.description) {
        (Some(name), Some(description)) => Some(format!("{name}{NAME_SEPARATOR}{description}")),
        (Some(text), None) | (None, Some(text)) => Some(text.clone()),
        (None, None) => None,
    };
    if description.is_none() && buyer_item_code.is_none() && supplier_item_code.is_none() {
        // v1 needs a code or a description: the other ids say what the item is.
        description = (!other_ids.is_empty()).then(|| other_ids.join("; "));
    } else if !other_ids.is_empty() {
        notes.push(format!("Item ids: {}", other_ids.join("; ")));
    }
    if !item.properties.is_empty() {
        let properties: Vec<String> = item.properties.iter().map(property_text).collect();
        notes.push(format!("Properties: {}", properties.join("; ")));
    }
    for c in &item.classifications {
        notes.push(format!("Classification {} {}", c.scheme, c.code));
    }
    notes.extend(item.documents.iter().map(document_text));
    if let Some(country) = &item.origin_country {
        notes.push(format!("Origin: {country}"));
    }
    if let (Some(original), "ZZ") = (&line.unit_original, line.unit.as_str()) {
        notes.push(format!(
            "Unit as written: {} ({})",
            original.code, original.list
        ));
    }
    let unit_price = line.price.as_ref().and_then(|p| {
        let price = unit_price(p, &line.unit);
        if price.is_none() {
            notes.push(format!("Price: {}", price_text(p, &line.unit)));
        }
        price
    });
    if let Some(d) = &line.delivery {
        let text = delivery_text(d, true);
        if !text.is_empty() {
            notes.push(format!("Delivery: {text}"));
        }
    }
    if !line.schedule.is_empty() {
        let schedule: Vec<String> = line
            .schedule
            .iter()
            .map(|s| {
                let dates = dates_text(s.requested_date, s.earliest, s.latest);
                [s.quantity.to_string(), dates]
                    .join(" ")
                    .trim_end()
                    .to_owned()
            })
            .collect();
        notes.push(format!("Schedule: {}", schedule.join("; ")));
    }
    match line.partial_delivery_allowed {
        Some(true) => notes.push("Partial delivery allowed".to_owned()),
        Some(false) => notes.push("No partial delivery".to_owned()),
        None => {}
    }
    if let Some(p) = &line.packaging {
        let text = packaging_text(p);
        if !text.is_empty() {
            notes.push(format!("Packaging: {text}"));
        }
    }
    notes.extend(line.allowances_charges.iter().map(allowance_charge_text));
    notes.extend(line.taxes.iter().map(line_tax_text));
    notes.extend(line.references.iter().map(reference_text));
    v1::OrderLine {
        line_number: line.line_number.clone(),
        buyer_item_code,
        supplier_item_code,
        description: description.map(|d| clip(d, V1_DESCRIPTION)),
        quantity: line.quantity,
        unit: line.unit.clone(),
        unit_price,
        line_total: line.line_total,
        requested_date: line.delivery.as_ref().and_then(|d| d.requested_date),
        note: (!notes.is_empty()).then(|| clip(notes.join("\n"), V1_NOTE)),
    }
}

/// The price of one `unit`, when the stated price says it exactly.
fn unit_price(price: &Price, unit: &str) -> Option<Decimal> {
    if price.base_unit.as_deref().is_some_and(|u| u != unit) {
        return None;
    }
    if price.base_quantity == Decimal::ONE {
        return Some(price.amount);
    }
    let quotient = price.amount.checked_div(price.base_quantity)?;
    if quotient.checked_mul(price.base_quantity)? != price.amount {
        return None;
    }
    let mut quotient = quotient.normalize();
    if quotient.scale() > 12 {
        return None;
    }
    // Keep the amount's decimals: 185000.00 per 100 is 1850.00 each.
    if quotient.scale() < price.amount.scale() {
        quotient.rescale(price.amount.scale());
    }
    Some(quotient)
}

// ---------------------------------------------------------------------------------
// texts for notes

fn clip(text: String, max_chars: usize) -> String {
    if text.chars().count() <= max_chars {
        return text;
    }
    let mut clipped: String = text.chars().take(max_chars - 1).collect();
    clipped.push('…');
    clipped
}

fn capitalize(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// The parts that are there, joined with `sep`.
fn join(parts: impl IntoIterator<Item = Option<String>>, sep: &str) -> String {
    parts.into_iter().flatten().collect::<Vec<_>>().join(sep)
}

fn note_text(note: &Note) -> String {
    match &note.subject {
        Some(subject) => format!("{subject}: {}", note.text),
        None => note.text.clone(),
    }
}

fn party_text(party: &Party) -> String {
    let ids: Vec<String> = party
        .ids
        .iter()
        .map(|id| format!("{} {}", id.scheme, id.value))
        .collect();
    join(
        [
            party.name.clone().or_else(|| party.legal_name.clone()),
            (!ids.is_empty()).then(|| ids.join(", ")),
            party.address.as_ref().map(address_text),
        ]
        .into_iter()
        .chain(party.contacts.iter().map(|c| Some(contact_text(c)))),
        "; ",
    )
}

fn address_text(a: &Address) -> String {
    let street = join([a.street.clone(), a.building_number.clone()], " ");
    let place = join([a.postal_code.clone(), a.city.clone()], " ");
    join(
        a.lines
            .iter()
            .map(|l| Some(l.clone()))
            .chain([
                (!street.is_empty()).then_some(street),
                a.additional_street.clone(),
                (!place.is_empty()).then_some(place),
                a.region.clone(),
                a.country.clone(),
            ])
            .chain([
                (!a.attention.is_empty()).then(|| format!("attention {}", a.attention.join(", ")))
            ]),
        ", ",
    )
}

fn contact_text(c: &Contact) -> String {
    let name = join(
        [
            c.name.clone(),
            c.role.as_ref().map(|r| format!("({r})")),
            c.department.clone(),
        ],
        " ",
    );
    join(
        [
            (!name.is_empty()).then_some(name),
            c.phone.clone(),
            c.email.clone(),
            c.fax.as_ref().map(|f| format!("fax {f}")),
        ],
        ", ",
    )
}

fn dates_text(
    requested: Option<NaiveDate>,
    earliest: Option<NaiveDate>,
    latest: Option<NaiveDate>,
) -> String {
    join(
        [
            requested.map(|d| format!("on {d}")),
            match (earliest, latest) {
                (Some(from), Some(to)) => Some(format!("between {from} and {to}")),
                (Some(from), None) => Some(format!("not before {from}")),
                (None, Some(to)) => Some(format!("not after {to}")),
                (None, None) => None,
            },
        ],
        ", ",
    )
}

/// Everything of a delivery v1 has no field for (`requested_date` has one, and the
/// location's address does at order level, `with_address` false).
fn delivery_text(d: &Delivery, with_address: bool) -> String {
    let location = d.location.as_ref().map(|l| {
        let ids: Vec<String> = l
            .ids
            .iter()
            .map(|id| format!("{} {}", id.scheme, id.value))
            .collect();
        let address = l
            .address
            .as_ref()
            .filter(|_| with_address)
            .map(address_text);
        join(
            [
                l.name.clone(),
                (!ids.is_empty()).then(|| ids.join(", ")),
                address.filter(|a| !a.is_empty()),
            ],
            ", ",
        )
    });
    let transport = d.transport.as_ref().map(|t| {
        join(
            [
                t.mode.clone(),
                t.carrier.as_ref().map(|c| format!("carrier {c}")),
                t.routing.as_ref().map(|r| format!("routing {r}")),
                t.service_level.as_ref().map(|s| format!("service {s}")),
            ],
            ", ",
        )
    });
    // `requested_date` has a v1 field on the order and on a line.
    let dates = dates_text(None, d.earliest, d.latest);
    join(
        [
            (!dates.is_empty()).then_some(dates),
            d.ship_not_before.map(|x| format!("ship not before {x}")),
            d.ship_no_later.map(|x| format!("ship no later than {x}")),
            d.cancel_after
                .map(|x| format!("cancel if not delivered by {x}")),
            location
                .filter(|l| !l.is_empty())
                .map(|l| format!("deliver to {l}")),
            d.party
                .as_ref()
                .map(|p| format!("receiver {}", party_text(p))),
        ]
        .into_iter()
        .chain(
            d.contacts
                .iter()
                .map(|c| Some(format!("contact {}", contact_text(c)))),
        )
        .chain([transport
            .filter(|t| !t.is_empty())
            .map(|t| format!("transport {t}"))]),
        "; ",
    )
}

fn delivery_terms_text(t: &DeliveryTerms) -> String {
    let rule = join(
        [
            t.incoterm.clone(),
            t.place.clone(),
            t.incoterms_version
                .as_ref()
                .map(|v| format!("(Incoterms {v})")),
        ],
        " ",
    );
    join(
        [
            (!rule.is_empty()).then_some(rule),
            t.text.clone(),
            t.transport_payment
                .as_ref()
                .map(|p| format!("transport payment {p}")),
        ],
        "; ",
    )
}

fn payment_terms_text(t: &PaymentTerms) -> String {
    let discount = t.discount_percent.map(|p| {
        join(
            [
                Some(format!("{p}% discount")),
                t.discount_days.map(|d| format!("within {d} days")),
                t.discount_due_date.map(|d| format!("by {d}")),
            ],
            " ",
        )
    });
    join(
        [
            t.text.clone(),
            t.net_days.map(|d| format!("net {d} days")),
            t.due_date.map(|d| format!("due {d}")),
            discount,
            t.discount_amount.map(|a| format!("discount {a}")),
            t.code.as_ref().map(|c| format!("code {c}")),
        ],
        "; ",
    )
}

fn allowance_charge_text(ac: &AllowanceCharge) -> String {
    let kind = match (ac.kind, ac.level) {
        (AllowanceChargeKind::Allowance, Some(AllowanceChargeLevel::Price)) => "Price allowance",
        (AllowanceChargeKind::Charge, Some(AllowanceChargeLevel::Price)) => "Price charge",
        (AllowanceChargeKind::Allowance, _) => "Allowance",
        (AllowanceChargeKind::Charge, _) => "Charge",
    };
    let reason = ac.reason.clone().or_else(|| {
        ac.reason_code
            .as_ref()
            .map(|code| join([ac.reason_code_list.clone(), Some(code.clone())], " "))
    });
    let percent = ac.percent.map(|p| match ac.base_amount {
        Some(base) => format!("{p}% of {base}"),
        None => format!("{p}%"),
    });
    let rate = ac.rate.map(|r| {
        join(
            [
                Some(r.to_string()),
                ac.rate_quantity.map(|q| {
                    format!(
                        "per {}",
                        join([Some(q.to_string()), ac.rate_unit.clone()], " ")
                    )
                }),
            ],
            " ",
        )
    });
    let how = join([ac.amount.map(|a| a.to_string()), percent, rate], ", ");
    let tax = ac
        .tax
        .as_ref()
        .map(|t| format!("tax {} {}%", t.category, t.rate));
    let head = join([Some(kind.to_owned()), reason], ": ");
    join([Some(head), (!how.is_empty()).then_some(how), tax], "; ")
}

fn tax_subtotal_text(t: &TaxSubtotal) -> String {
    let what = join(
        [
            Some(format!("Tax {}", t.scheme)),
            t.category.clone(),
            t.rate.map(|r| format!("{r}%")),
        ],
        " ",
    );
    let amount = join(
        [
            t.amount.map(|a| a.to_string()),
            t.taxable_amount.map(|b| format!("on {b}")),
        ],
        " ",
    );
    join(
        [
            Some(what),
            (!amount.is_empty()).then_some(amount),
            t.exemption_reason.clone(),
        ],
        ": ",
    )
}

fn line_tax_text(t: &LineTax) -> String {
    let what = join(
        [
            Some(format!("Tax {}", t.scheme)),
            t.category.clone(),
            t.rate.map(|r| format!("{r}%")),
        ],
        " ",
    );
    join([Some(what), t.amount.map(|a| a.to_string())], ": ")
}

/// The totals v1 has no field for.
fn totals_text(t: &Totals) -> String {
    let named = |name: &str, amount: Option<Decimal>| amount.map(|a| format!("{name} {a}"));
    join(
        [
            named("allowances", t.allowance_total),
            named("charges", t.charge_total),
            named("tax exclusive", t.tax_exclusive),
            named("tax inclusive", t.tax_inclusive),
            named("prepaid", t.prepaid),
            named("rounding", t.rounding),
        ],
        ", ",
    )
}

fn reference_text(r: &Reference) -> String {
    let kind = match r.kind {
        ReferenceType::Contract => "Contract",
        ReferenceType::Project => "Project",
        ReferenceType::CostCentre => "Cost centre",
        ReferenceType::Quotation => "Quotation",
        ReferenceType::PreviousOrder => "Previous order",
        ReferenceType::CustomerReference => "Customer reference",
        ReferenceType::Requisition => "Requisition",
        ReferenceType::BlanketOrder => "Blanket order",
        ReferenceType::Release => "Release",
        ReferenceType::SalesOrder => "Sales order",
        ReferenceType::Originator => "Originator",
        ReferenceType::Promotion => "Promotion",
        ReferenceType::DeliverySchedule => "Delivery schedule",
        ReferenceType::Other => "Reference",
    };
    let head = join([Some(kind.to_owned()), r.qualifier.clone()], " ");
    join(
        [
            Some(format!("{head}: {}", r.value)),
            r.line_number.as_ref().map(|l| format!("line {l}")),
            r.issue_date.map(|d| format!("of {d}")),
            r.description.clone(),
        ],
        ", ",
    )
}

fn document_text(d: &Document) -> String {
    let kind = match d.kind {
        DocumentType::Drawing => "Drawing",
        DocumentType::Specification => "Specification",
        DocumentType::Sketch => "Sketch",
        DocumentType::Photo => "Photo",
        DocumentType::Certificate => "Certificate",
        DocumentType::Other => "Document",
    };
    let head = join(
        [
            Some(kind.to_owned()),
            d.id.clone(),
            d.revision.as_ref().map(|r| format!("rev. {r}")),
        ],
        " ",
    );
    join(
        [
            Some(head),
            d.type_text.clone(),
            d.description.clone(),
            d.filename.clone(),
            d.uri.clone(),
            d.href.clone(),
        ],
        ": ",
    )
}

fn item_id_text(id: &ItemId) -> String {
    let role = match id.role {
        ItemIdRole::Buyer => "buyer",
        ItemIdRole::Supplier => "supplier",
        ItemIdRole::Manufacturer => "manufacturer",
        ItemIdRole::Standard => "standard",
        ItemIdRole::Other => "other",
    };
    let label = join(
        [
            Some(role.to_owned()),
            id.scheme.clone(),
            id.qualifier.as_ref().map(|q| format!("({q})")),
        ],
        " ",
    );
    format!("{label} {}", id.value)
}

fn property_text(p: &ItemProperty) -> String {
    let value = join([Some(p.value.clone()), p.unit.clone()], " ");
    format!("{}: {value}", p.name)
}

fn price_text(p: &Price, unit: &str) -> String {
    let base_unit = p.base_unit.as_deref().unwrap_or(unit);
    join(
        [
            Some(format!("{} per {} {base_unit}", p.amount, p.base_quantity)),
            p.kind.map(|k| match k {
                PriceKind::Net => "(net)".to_owned(),
                PriceKind::Gross => "(gross)".to_owned(),
            }),
        ],
        " ",
    )
}

fn packaging_text(p: &Packaging) -> String {
    let size = p
        .size
        .map(|s| join([Some(s.to_string()), p.size_unit.clone()], " "));
    join(
        [
            p.pack.map(|n| format!("{n} per pack")),
            size.map(|s| format!("size {s}")),
            p.package_code.clone(),
            p.text.clone(),
        ],
        ", ",
    )
}
