//! Applying the mapping to a parsed body: find each field by its path, read it by
//! its kind, and build the orders. Errors name the JSON pointer in the input.

use std::collections::BTreeMap;

use jembatan_plugin_sdk::draft::{
    self, Defaults, LineDraft, OrderDraft, first, item_id, note, party_id, unit_price,
};
use jembatan_plugin_sdk::values::{
    MAX_SCALE, country, currency, date_of_datetime, decimal, localized_decimal, unit,
};
use jembatan_plugin_sdk::{
    Address, Contact, Decimal, Extension, ItemIdRole, Location, NaiveDate, Normalized, PluginError,
    PurchaseOrder, Transaction, TransactionId, line_column, party_scheme,
};

use crate::config::{Config, Field, Kind, Source};
use crate::json::{self, Node, Value};

/// A field's value, read.
enum Typed {
    Text(String),
    Date(NaiveDate),
    Decimal(Decimal),
    Notes(Vec<String>),
}

/// Reads the body and maps every order in it, one transaction each: an order
/// that cannot be mapped is refused on its own. The message is refused whole
/// only when no order can be found: an empty body, text that is not JSON, no
/// orders where the config says they are.
pub fn map_orders(body: &[u8], config: &Config) -> Result<Normalized, PluginError> {
    let text = std::str::from_utf8(body).map_err(|e| {
        PluginError::at_offset(
            "malformed-json",
            "the body is not UTF-8 text",
            body,
            e.valid_up_to(),
        )
    })?;
    if text.trim().is_empty() {
        return Err(PluginError::new(
            "empty-body",
            "the body is empty; send the order as JSON",
        ));
    }
    let root = json::parse(text).map_err(|(offset, what)| {
        PluginError::at_offset(
            "malformed-json",
            format!("the body is not valid JSON: {what}"),
            body,
            offset,
        )
    })?;
    let (orders, base) = match &config.orders {
        Some(path) => {
            let pointer = path.pointer("");
            let node = path
                .find(&root)
                .ok_or_else(|| missing(&pointer, "orders", body, root.offset))?;
            (node, pointer)
        }
        None => (&root, String::new()),
    };
    match &orders.value {
        Value::Array(items) if items.is_empty() => Err(missing(
            &base,
            "orders (the array is empty)",
            body,
            orders.offset,
        )),
        Value::Array(items) => Ok(Normalized::new(
            items
                .iter()
                .zip(0..)
                .map(|(item, index)| {
                    let pointer = format!("{base}/{index}");
                    let (line, column) = line_column(body, item.offset);
                    let id = TransactionId::new(index).at(Location {
                        line: Some(line),
                        column: Some(column),
                        offset: Some(item.offset as u64),
                        path: Some(pointer.clone()),
                    });
                    Transaction::from_result(id, order(item, &pointer, config, body))
                })
                .collect(),
        )),
        Value::Object(_) => Ok(Normalized::new(vec![Transaction::from_result(
            TransactionId::new(0),
            order(orders, &base, config, body),
        )])),
        _ => Err(invalid(
            &base,
            format!(
                "expected the orders, an object or an array, found {}",
                orders.kind()
            ),
            body,
            orders.offset,
        )),
    }
}

fn order(
    node: &Node<'_>,
    base: &str,
    config: &Config,
    body: &[u8],
) -> Result<PurchaseOrder, PluginError> {
    let mut order = OrderDraft::new("json-map", "JSON");
    for field in &config.fields {
        if let Some(value) = resolve(field, node, base, config, body)? {
            set_order(&mut order, field.name, value);
        }
    }
    let pointer = config.lines.pointer(base);
    let lines = config
        .lines
        .find(node)
        .ok_or_else(|| missing(&pointer, "lines", body, node.offset))?;
    let Value::Array(items) = &lines.value else {
        return Err(invalid(
            &pointer,
            format!("expected the lines, an array, found {}", lines.kind()),
            body,
            lines.offset,
        ));
    };
    if items.is_empty() {
        return Err(missing(
            &pointer,
            "lines (the array is empty)",
            body,
            lines.offset,
        ));
    }
    for (i, item) in items.iter().enumerate() {
        let line_base = format!("{pointer}/{i}");
        let mut line = LineDraft {
            offset: item.offset,
            ..LineDraft::default()
        };
        for field in &config.line_fields {
            if let Some(value) = resolve(field, item, &line_base, config, body)? {
                set_line(&mut line, field.name, value);
            }
        }
        let read: Vec<&[String]> = config.line_fields.iter().filter_map(Field::steps).collect();
        unread(
            item,
            &line_base,
            &mut Vec::new(),
            &read,
            &mut line.extensions,
        );
        order.lines.push(line);
    }
    // What the config does not map is kept, never dropped: a craftsman may need it.
    let mut read: Vec<&[String]> = config.fields.iter().filter_map(Field::steps).collect();
    read.push(config.lines.steps());
    unread(node, base, &mut Vec::new(), &read, &mut order.extensions);
    let defaults = Defaults {
        unit: Some(&config.default_unit),
        ..Defaults::default()
    };
    order.finish(&defaults, |field, order| match field {
        draft::Field::Item(i) => missing(
            &format!("{pointer}/{i}"),
            "item: no buyer_item_code, supplier_item_code or description",
            body,
            order.lines[i].offset,
        ),
        draft::Field::BuyerName => missing(
            base,
            "buyer: an address or contact but no buyer.name, buyer.id or buyer.tax_id",
            body,
            node.offset,
        ),
        // The config requires the rest (or gives a default), and lines were
        // checked above.
        _ => unreachable!("{field:?} is required by the config"),
    })
}

/// Every scalar under `node` (at `at`, steps from the order or line) that no
/// path in `read` reaches, as an extension `json` with its JSON pointer and its
/// text as written. A path reaches what is at it and under it.
fn unread(
    node: &Node<'_>,
    base: &str,
    at: &mut Vec<String>,
    read: &[&[String]],
    out: &mut Vec<Extension>,
) {
    if read.iter().any(|path| at.starts_with(path)) {
        return;
    }
    let text = match &node.value {
        Value::Null => return,
        Value::Bool(b) => b.to_string(),
        Value::Number(raw) => (*raw).to_owned(),
        Value::String(text) => text.to_string(),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                at.push(i.to_string());
                unread(item, base, at, read, out);
                at.pop();
            }
            return;
        }
        Value::Object(members) => {
            for (key, member) in members {
                at.push(key.to_string());
                unread(member, base, at, read, out);
                at.pop();
            }
            return;
        }
    };
    let mut path = base.to_owned();
    for step in at.iter() {
        path.push('/');
        path.push_str(&step.replace('~', "~0").replace('/', "~1"));
    }
    out.push(Extension {
        namespace: "json".to_owned(),
        path,
        value: text,
        attributes: Default::default(),
    });
}

/// The value of `field` in `node`: from its path, else its default; `None` when
/// an optional field is absent, `null` or blank.
fn resolve(
    field: &Field,
    node: &Node<'_>,
    base: &str,
    config: &Config,
    body: &[u8],
) -> Result<Option<Typed>, PluginError> {
    let path = match &field.source {
        Source::Const(text) => return Ok(from_text(field, text, &config.units).ok()),
        Source::Path(path) => path,
    };
    let pointer = path.pointer(base);
    let read = match path.find(node) {
        Some(found) => {
            read(field, found, config).map_err(|e| invalid(&pointer, e, body, found.offset))?
        }
        None => None,
    };
    match (read, &field.default) {
        (Some(value), _) => Ok(Some(value)),
        // Checked when the config was read, so it converts.
        (None, Some(default)) => Ok(from_text(field, default, &config.units).ok()),
        (None, None) if field.required => Err(missing(&pointer, field.name, body, node.offset)),
        (None, None) => Ok(None),
    }
}

fn read(field: &Field, node: &Node<'_>, config: &Config) -> Result<Option<Typed>, String> {
    let text = match (&node.value, field.kind) {
        (Value::Number(raw), Kind::Decimal) => return number(raw).map(|d| Some(Typed::Decimal(d))),
        (Value::Number(raw), Kind::Text) => *raw,
        (Value::String(s), _) => s,
        (Value::Array(items), Kind::Notes) => {
            let mut notes = Vec::new();
            for item in items {
                match &item.value {
                    Value::String(s) if s.trim().is_empty() => {}
                    Value::String(s) => notes.push(s.trim().to_owned()),
                    _ => return Err(format!("expected notes as strings, found {}", item.kind())),
                }
            }
            return Ok((!notes.is_empty()).then_some(Typed::Notes(notes)));
        }
        _ => {
            return Err(format!(
                "expected {}, found {}",
                expected(field.kind),
                node.kind()
            ));
        }
    };
    if text.trim().is_empty() {
        return Ok(None);
    }
    from_text(field, text, &config.units).map(Some)
}

fn expected(kind: Kind) -> &'static str {
    match kind {
        Kind::Text => "a string or a number",
        Kind::Decimal => "a number or a string",
        Kind::Notes => "a string or an array of strings",
        Kind::Date | Kind::Currency | Kind::Unit | Kind::Country => "a string",
    }
}

/// Reads text as the field's kind, with its formats; `units` maps units.
fn from_text(field: &Field, text: &str, units: &BTreeMap<String, String>) -> Result<Typed, String> {
    let text = text.trim();
    Ok(match field.kind {
        Kind::Text => Typed::Text(text.to_owned()),
        Kind::Notes => Typed::Notes(vec![text.to_owned()]),
        Kind::Decimal => Typed::Decimal(localized_decimal(text, &field.decimal_format)?),
        Kind::Date => Typed::Date(match &field.date_format {
            Some(format) => NaiveDate::parse_from_str(text, format)
                .map_err(|_| format!("{text:?} is not a date written as {format:?}"))?,
            None => date_of_datetime(text)?,
        }),
        Kind::Currency => Typed::Text(currency(text)?),
        Kind::Country => Typed::Text(country(text)?),
        Kind::Unit => {
            let mapped = units.get(text).map_or(text, String::as_str);
            Typed::Text(
                unit(mapped)
                    .map_err(|e| format!("{e}; map the buyer's unit in the config's \"units\""))?,
            )
        }
    })
}

/// Checks a config constant or default as input would be checked.
pub fn check_constant(field: &Field, text: &str) -> Result<(), String> {
    from_text(field, text, &BTreeMap::new()).map(drop)
}

/// A JSON number as an exact decimal: plain (`185000.50`) or with an exponent.
fn number(raw: &str) -> Result<Decimal, String> {
    if !raw.contains(['e', 'E']) {
        return decimal(raw);
    }
    let value =
        Decimal::from_scientific(raw).map_err(|e| format!("{raw} is not a usable number: {e}"))?;
    if value.is_sign_negative() || value.scale() > MAX_SCALE {
        return Err(format!(
            "{raw} is negative or has more than {MAX_SCALE} digits after the point"
        ));
    }
    Ok(value.normalize())
}

/// Puts a mapped order field (named as in canonical order v1) where v2 has it.
fn set_order(order: &mut OrderDraft, name: &str, value: Typed) {
    let text = match value {
        Typed::Date(date) if name == "issue_date" => return order.issue_date = Some(date),
        Typed::Date(date) => return order.delivery.requested_date = Some(date),
        Typed::Notes(notes) => return order.notes.extend(notes.iter().filter_map(|n| note(n))),
        Typed::Decimal(amount) => {
            let totals = &mut order.totals;
            let slot = match name {
                "totals.line_extension" => &mut totals.line_extension,
                "totals.tax" => &mut totals.tax_total,
                _ => &mut totals.payable,
            };
            return *slot = Some(amount);
        }
        Typed::Text(text) => text,
    };
    let buyer = &mut order.buyer;
    let slot = match name {
        "buyer_order_number" => &mut order.number,
        "currency" => &mut order.currency,
        "buyer.name" => &mut buyer.name,
        "supplier.code" => &mut order.supplier_code,
        // The buyer's own id first, its tax id after it, whichever is read first.
        "buyer.id" => {
            return buyer
                .ids
                .insert(0, party_id(party_scheme::UNSPECIFIED, &text));
        }
        "buyer.tax_id" => return buyer.ids.push(party_id(party_scheme::TAX, &text)),
        "supplier.name" => &mut order.supplier.name,
        _ => match name.split_once(".contact.") {
            Some((_, part)) => contact_slot(first(&mut buyer.contacts), part),
            None => {
                let (owner, part) = name.rsplit_once('.').expect("an address field");
                let address = match owner {
                    "buyer.address" => buyer.address.get_or_insert_default(),
                    _ => order.delivery_address(),
                };
                address_slot(address, part)
            }
        },
    };
    *slot = Some(text);
}

fn contact_slot<'c>(contact: &'c mut Contact, part: &str) -> &'c mut Option<String> {
    match part {
        "name" => &mut contact.name,
        "phone" => &mut contact.phone,
        _ => &mut contact.email,
    }
}

fn address_slot<'a>(address: &'a mut Address, part: &str) -> &'a mut Option<String> {
    match part {
        "street" => &mut address.street,
        "additional_street" => &mut address.additional_street,
        "city" => &mut address.city,
        "postal_code" => &mut address.postal_code,
        "region" => &mut address.region,
        _ => &mut address.country,
    }
}

/// Puts a mapped line field (named as in canonical order v1) where v2 has it.
fn set_line(line: &mut LineDraft, name: &str, value: Typed) {
    match value {
        Typed::Decimal(amount) => match name {
            "quantity" => line.quantity = Some(amount),
            "unit_price" => line.price = Some(unit_price(amount)),
            _ => line.line_total = Some(amount),
        },
        Typed::Date(date) => line.delivery.requested_date = Some(date),
        Typed::Notes(_) => {}
        Typed::Text(text) => match name {
            "line_number" => line.number = Some(text),
            "unit" => line.unit = Some(text),
            "buyer_item_code" => line.item.ids.push(item_id(ItemIdRole::Buyer, &text)),
            "supplier_item_code" => line.item.ids.push(item_id(ItemIdRole::Supplier, &text)),
            "description" => line.item.description = Some(text),
            _ => line.notes.extend(note(&text)),
        },
    }
}

fn missing(pointer: &str, what: &str, body: &[u8], offset: usize) -> PluginError {
    let at = if pointer.is_empty() {
        "the document"
    } else {
        pointer
    };
    PluginError::at_offset(
        "missing-field",
        format!("{at}: no {what} here"),
        body,
        offset,
    )
    .at_path(pointer)
}

fn invalid(pointer: &str, problem: String, body: &[u8], offset: usize) -> PluginError {
    PluginError::at_offset(
        "invalid-value",
        format!("{pointer}: {problem}"),
        body,
        offset,
    )
    .at_path(pointer)
}
