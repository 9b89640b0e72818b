//! The canonical order v2 contract decided on the typed order, without a JSON tree.
//!
//! Checking a plugin's order against the schema meant reading it into a
//! `serde_json::Value`, walking that with jsonschema, then reading the tree again
//! into the Rust types: in a profile of canonical JSON posts, 14% of all the
//! gateway's CPU, more than the plugin's own call. Here the text is read once into
//! the types, and the rules the types do not hold (lengths, patterns, "a name or an
//! id", the currency list) are checked on them.
//!
//! [`read`] only ever says yes or "not sure": an order it takes is one the schema
//! takes, and anything else goes to the schema, which decides and explains. So where
//! the types read more than the schema allows, it steps back rather than copy the
//! schema's every corner:
//! - a JSON `null` (an `Option` reads it as absent) or an empty list (read as an
//!   absent one, which `minItems` may refuse);
//! - a string that decimals or dates could be read from (`rust_decimal` and `chrono`
//!   take `+1`, `1_000`, `.5` or `2026-1-5`; the schema does not) that is not in the
//!   schema's own form, or a negative one;
//! - a document's `uri` (the schema's `format: uri`), and `received` (which the
//!   schema's path refuses with its own message).
//!
//! `contract_tests` holds it to the schema over the test orders and thousands of
//! mutations of them.

use std::collections::HashSet;
use std::sync::OnceLock;

use super::party_scheme::{
    BUYER_ASSIGNED, COMPANY, DUNS, DUNS_PLUS_4, GLN, JEMBATAN, SAN, SUPPLIER_ASSIGNED, TAX,
    UNSPECIFIED,
};
use super::{
    Address, AllowanceCharge, Contact, Delivery, Document, Extension, Item, Location, Note,
    OrderLine, OriginalCode, Party, PartyId, PurchaseOrder, Reference, Supplier, Warning,
};

/// The order in `text` when it certainly keeps the v2 contract; `None` when it does
/// not, or when only the schema can tell.
pub fn read(text: &str) -> Option<PurchaseOrder> {
    if !plain(text) {
        return None;
    }
    let order: PurchaseOrder = serde_json::from_str(text).ok()?;
    holds(&order).then_some(order)
}

/// The schema's currency codes, read from the schema itself.
fn currencies() -> &'static HashSet<String> {
    static CODES: OnceLock<HashSet<String>> = OnceLock::new();
    CODES.get_or_init(|| {
        let schema: serde_json::Value =
            serde_json::from_str(crate::PURCHASE_ORDER_V2_SCHEMA).expect("the schema is JSON");
        schema["$defs"]["currency"]["enum"]
            .as_array()
            .expect("the schema lists the currencies")
            .iter()
            .filter_map(|code| code.as_str().map(str::to_owned))
            .collect()
    })
}

/// Whether the text has nothing the types read more leniently than the schema: no
/// `null`, no empty list, and every string that could be a decimal or a date in
/// the schema's form.
fn plain(json: &str) -> bool {
    let text = json.as_bytes();
    let mut at = 0;
    while at < text.len() {
        match text[at] {
            b'"' => {
                let start = at + 1;
                let mut end = start;
                let mut escaped = false;
                while end < text.len() && text[end] != b'"' {
                    if text[end] == b'\\' {
                        escaped = true;
                        end += 1;
                    }
                    end += 1;
                }
                if end >= text.len() {
                    return false; // unterminated: not JSON
                }
                let plain_literal = if escaped {
                    match serde_json::from_slice::<String>(&text[start - 1..=end]) {
                        Ok(unescaped) => plain_string(&unescaped),
                        Err(_) => false,
                    }
                } else {
                    // Quotes are ASCII, so they sit on character boundaries.
                    plain_string(&json[start..end])
                };
                if !plain_literal {
                    return false;
                }
                at = end + 1;
            }
            b'n' => return false, // `null` (outside strings, the only word with an n)
            b'[' => {
                let next = text[at + 1..]
                    .iter()
                    .find(|b| !b.is_ascii_whitespace())
                    .copied();
                if next == Some(b']') {
                    return false;
                }
                at += 1;
            }
            _ => at += 1,
        }
    }
    true
}

/// Whether a string, were it read as a decimal or a date, is in the schema's form.
/// Strings that neither could be read from (a phone number, a tax number) are.
fn plain_string(s: &str) -> bool {
    // Most strings are words: a letter (but `e`, an exponent) begins neither form.
    if s.as_bytes()
        .first()
        .is_some_and(|b| b.is_ascii_alphabetic() && !matches!(b, b'e' | b'E'))
    {
        return true;
    }
    !(decimal_like(s) || date_like(s)) || is_decimal(s) || is_date(s)
}

/// Whether `rust_decimal::serde::str` (1.43) could read `s`: it takes `""` as an
/// absent decimal, and otherwise `Decimal::from_str` (a sign, then digits, `_` and
/// at most one `.`) or else `from_scientific` (that, `e` or `E`, and an exponent
/// `u32::from_str` or a `-` and one reads).
fn decimal_like(s: &str) -> bool {
    fn unsigned(t: &str) -> &str {
        t.strip_prefix(['+', '-']).unwrap_or(t)
    }
    let (base, exponent) = match s.split_once(['e', 'E']) {
        Some((base, exponent)) => (base, Some(exponent)),
        None => (s, None),
    };
    let base = unsigned(base);
    base.matches('.').count() <= 1
        && base
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '.' | '_'))
        && exponent.is_none_or(|e| unsigned(e).bytes().all(|b| b.is_ascii_digit()))
}

/// Whether `chrono`'s `NaiveDate::from_str` (0.4) could read `s`: a signed year,
/// `-`, month, `-`, day, with whitespace around them.
fn date_like(s: &str) -> bool {
    s.chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '+' | '-') || white(c))
        && s.bytes().filter(|b| *b == b'-').count() >= 2
}

/// `^[0-9]{1,28}(\.[0-9]{1,12})?$`, the schema's unsigned decimal.
fn is_decimal(s: &str) -> bool {
    let (whole, fraction) = match s.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (s, None),
    };
    let digits = |part: &str, most: usize| {
        (1..=most).contains(&part.len()) && part.bytes().all(|b| b.is_ascii_digit())
    };
    digits(whole, 28) && fraction.is_none_or(|f| digits(f, 12))
}

/// `^[0-9]{4}-[0-9]{2}-[0-9]{2}$`, the schema's date (whether the day exists, chrono
/// checks as it reads it).
fn is_date(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 10
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            _ => c.is_ascii_digit(),
        })
}

/// Whitespace as `\s` may mean it: Unicode's, and the byte-order mark, which
/// ECMAScript's `\s` counts too (the stricter reading is the safe one here).
fn white(c: char) -> bool {
    c.is_whitespace() || c == '\u{feff}'
}

/// Whether `s` has `least..=most` characters (code points, as JSON Schema counts).
fn chars_within(s: &str, least: usize, most: usize) -> bool {
    // n characters take n to 4n bytes: most strings are decided by their length.
    if s.len() <= most && s.len() >= least * 4 {
        return true;
    }
    (least..=most).contains(&s.chars().count())
}

fn identifier(s: &str) -> bool {
    chars_within(s, 1, 128) && s.chars().any(|c| !white(c))
}

fn text(s: &str) -> bool {
    chars_within(s, 1, 512)
}

fn long_text(s: &str) -> bool {
    chars_within(s, 1, 4000)
}

/// `^[A-Z0-9]{2,3}$`
fn unit(s: &str) -> bool {
    (2..=3).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

/// `^[A-Z]{2}$`
fn country(s: &str) -> bool {
    s.len() == 2 && s.bytes().all(|b| b.is_ascii_uppercase())
}

fn all<T>(items: &[T], rule: impl Fn(&T) -> bool) -> bool {
    items.iter().all(rule)
}

fn opt<T: ?Sized>(value: Option<&T>, rule: impl Fn(&T) -> bool) -> bool {
    value.is_none_or(rule)
}

fn holds(o: &PurchaseOrder) -> bool {
    let source = &o.source;
    o.received.is_none()
        && identifier(&o.buyer_order_number)
        && currencies().contains(&o.currency)
        && identifier(&source.format)
        && text(&source.syntax)
        && opt(source.customization.as_deref(), text)
        && opt(source.profile.as_deref(), text)
        && opt(source.control_number.as_deref(), identifier)
        && opt(o.order_type.as_ref(), |t| {
            identifier(&t.code) && identifier(&t.list) && opt(t.text.as_deref(), text)
        })
        && opt(o.buyer.as_ref(), party)
        && supplier(&o.supplier)
        && all(&o.other_parties, |p| {
            identifier(&p.role) && opt(p.role_code.as_deref(), identifier) && party(&p.party)
        })
        && opt(o.delivery.as_ref(), delivery)
        && opt(o.delivery_terms.as_ref(), |t| {
            opt(t.incoterm.as_deref(), |s| {
                s.len() == 3 && s.bytes().all(|b| b.is_ascii_uppercase())
            }) && opt(t.incoterms_version.as_deref(), |s| {
                s.len() == 4 && s.bytes().all(|b| b.is_ascii_digit())
            }) && opt(t.place.as_deref(), text)
                && opt(t.text.as_deref(), long_text)
                && opt(t.transport_payment.as_deref(), text)
        })
        && all(&o.payment_terms, |t| {
            opt(t.text.as_deref(), long_text) && opt(t.code.as_deref(), identifier)
        })
        && all(&o.allowances_charges, allowance_charge)
        && all(&o.taxes, |t| {
            identifier(&t.scheme)
                && opt(t.category.as_deref(), identifier)
                && opt(t.exemption_reason.as_deref(), text)
        })
        && all(&o.references, reference)
        && all(&o.documents, document)
        && all(&o.notes, note)
        && (1..=10_000).contains(&o.lines.len())
        && all(&o.lines, line)
        && o.extensions.len() <= 500
        && all(&o.extensions, extension)
        && all(&o.warnings, warning)
}

/// `^(GLN|DUNS|DUNS\+4|TAX|COMPANY|BUYER_ASSIGNED|SUPPLIER_ASSIGNED|SAN|JEMBATAN|UNSPECIFIED|ICD:[0-9]{4}|ENDPOINT:[!-~]{1,64})$`
fn party_id(id: &PartyId) -> bool {
    let scheme = id.scheme.as_str();
    let known = matches!(
        scheme,
        GLN | DUNS
            | DUNS_PLUS_4
            | TAX
            | COMPANY
            | BUYER_ASSIGNED
            | SUPPLIER_ASSIGNED
            | SAN
            | JEMBATAN
            | UNSPECIFIED
    ) || scheme
        .strip_prefix("ICD:")
        .is_some_and(|n| n.len() == 4 && n.bytes().all(|b| b.is_ascii_digit()))
        || scheme.strip_prefix("ENDPOINT:").is_some_and(|e| {
            (1..=64).contains(&e.len()) && e.bytes().all(|b| (b'!'..=b'~').contains(&b))
        });
    known && identifier(&id.value) && opt(id.qualifier.as_deref(), identifier)
}

fn address(a: &Address) -> bool {
    all(&a.lines, |l| text(l))
        && [
            &a.street,
            &a.building_number,
            &a.additional_street,
            &a.city,
            &a.postal_code,
            &a.region,
        ]
        .into_iter()
        .all(|f| opt(f.as_deref(), text))
        && opt(a.country.as_deref(), country)
        && all(&a.attention, |l| text(l))
}

fn contact(c: &Contact) -> bool {
    [&c.name, &c.role, &c.phone, &c.email, &c.fax, &c.department]
        .into_iter()
        .all(|f| opt(f.as_deref(), text))
}

/// A party: a name, a legal name or an id (`anyOf`), each as its kind allows.
fn party(p: &Party) -> bool {
    (p.name.is_some() || p.legal_name.is_some() || !p.ids.is_empty())
        && party_fields(&p.name, &p.legal_name, &p.ids, &p.address, &p.contacts)
}

fn supplier(s: &Supplier) -> bool {
    identifier(&s.code) && party_fields(&s.name, &s.legal_name, &s.ids, &s.address, &s.contacts)
}

fn party_fields(
    name: &Option<String>,
    legal_name: &Option<String>,
    ids: &[PartyId],
    address_: &Option<Address>,
    contacts: &[Contact],
) -> bool {
    opt(name.as_deref(), text)
        && opt(legal_name.as_deref(), text)
        && all(ids, party_id)
        && opt(address_.as_ref(), address)
        && all(contacts, contact)
}

fn location(l: &Location) -> bool {
    (!l.ids.is_empty() || l.name.is_some() || l.address.is_some())
        && all(&l.ids, party_id)
        && opt(l.name.as_deref(), text)
        && opt(l.address.as_ref(), address)
}

fn delivery(d: &Delivery) -> bool {
    opt(d.location.as_ref(), location)
        && opt(d.party.as_ref(), party)
        && all(&d.contacts, contact)
        && opt(d.transport.as_ref(), |t| {
            [&t.mode, &t.carrier, &t.routing, &t.service_level]
                .into_iter()
                .all(|f| opt(f.as_deref(), text))
        })
}

fn allowance_charge(a: &AllowanceCharge) -> bool {
    (a.amount.is_some() || a.percent.is_some() || a.rate.is_some())
        && opt(a.reason_code.as_deref(), identifier)
        && opt(a.reason_code_list.as_deref(), identifier)
        && opt(a.reason.as_deref(), text)
        && opt(a.rate_unit.as_deref(), unit)
        && opt(a.tax.as_ref(), |t| identifier(&t.category))
}

/// A note's text may be empty (`note_text` has no `minLength`).
fn note(n: &Note) -> bool {
    chars_within(&n.text, 0, 4000) && opt(n.subject.as_deref(), text)
}

fn reference(r: &Reference) -> bool {
    identifier(&r.value)
        && opt(r.line_number.as_deref(), identifier)
        && opt(r.qualifier.as_deref(), identifier)
        && opt(r.description.as_deref(), text)
}

/// A document with a `uri` is left to the schema (`format: uri`).
fn document(d: &Document) -> bool {
    d.uri.is_none()
        && (d.id.is_some() || d.content_base64.is_some() || d.sha256.is_some())
        && opt(d.id.as_deref(), identifier)
        && opt(d.type_text.as_deref(), text)
        && opt(d.revision.as_deref(), identifier)
        && opt(d.description.as_deref(), long_text)
        && opt(d.filename.as_deref(), text)
        && opt(d.mime_type.as_deref(), mime_type)
        && opt(d.content_base64.as_deref(), |s| {
            let data = s.trim_end_matches('=');
            s.len() - data.len() <= 2
                && data
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/')
        })
        && d.size.is_none_or(|n| n <= 9_007_199_254_740_991)
        && opt(d.sha256.as_deref(), |s| {
            s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        })
        && opt(d.href.as_deref(), |s| {
            s.starts_with('/') && chars_within(s, 0, 2048)
        })
}

/// `^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*( *;.*)?$`,
/// at most 255 characters.
fn mime_type(s: &str) -> bool {
    let token = |t: &str| {
        let mut bytes = t.bytes();
        bytes.next().is_some_and(|b| b.is_ascii_alphanumeric())
            && bytes.all(|b| b.is_ascii_alphanumeric() || b"!#$&^_.+-".contains(&b))
    };
    // `.` in the parameters does not match a line break.
    let (essence, parameters) = match s.find([' ', ';']) {
        Some(at) => (&s[..at], Some(&s[at..])),
        None => (s, None),
    };
    chars_within(s, 0, 255)
        && essence
            .split_once('/')
            .is_some_and(|(kind, sub)| token(kind) && token(sub))
        && parameters.is_none_or(|p| {
            p.trim_start_matches(' ').starts_with(';')
                && !p.contains(['\n', '\r', '\u{2028}', '\u{2029}'])
        })
}

fn item(i: &Item) -> bool {
    (i.name.is_some() || i.description.is_some() || !i.ids.is_empty())
        && opt(i.name.as_deref(), text)
        && opt(i.description.as_deref(), long_text)
        && all(&i.ids, |id| {
            identifier(&id.value)
                && opt(id.scheme.as_deref(), identifier)
                && opt(id.qualifier.as_deref(), identifier)
        })
        && all(&i.properties, |p| {
            text(&p.name)
                && long_text(&p.value)
                && opt(p.unit.as_deref(), unit)
                && opt(p.code.as_deref(), identifier)
        })
        && all(&i.classifications, |c| {
            identifier(&c.scheme) && identifier(&c.code)
        })
        && all(&i.documents, document)
        && opt(i.origin_country.as_deref(), country)
}

fn line(l: &OrderLine) -> bool {
    let original = |c: &OriginalCode| identifier(&c.code) && identifier(&c.list);
    identifier(&l.line_number)
        && opt(l.parent_line_number.as_deref(), identifier)
        && item(&l.item)
        && unit(&l.unit)
        && opt(l.unit_original.as_ref(), original)
        && opt(l.price.as_ref(), |p| {
            opt(p.base_unit.as_deref(), unit)
                && opt(p.base_unit_original.as_ref(), original)
                && opt(p.basis_code.as_deref(), identifier)
        })
        && opt(l.delivery.as_ref(), delivery)
        && opt(l.packaging.as_ref(), |p| {
            opt(p.size_unit.as_deref(), unit)
                && opt(p.package_code.as_deref(), identifier)
                && opt(p.text.as_deref(), text)
        })
        && all(&l.allowances_charges, allowance_charge)
        && all(&l.taxes, |t| {
            identifier(&t.scheme) && opt(t.category.as_deref(), identifier)
        })
        && all(&l.references, reference)
        && all(&l.notes, note)
        && l.extensions.len() <= 500
        && all(&l.extensions, extension)
}

/// `namespace` `^(ubl|peppol-sbdh|cxml|x12|edifact|json|plugin:[a-z][a-z0-9-]*)$`.
fn extension(e: &Extension) -> bool {
    let namespace = matches!(
        e.namespace.as_str(),
        "ubl" | "peppol-sbdh" | "cxml" | "x12" | "edifact" | "json"
    ) || e.namespace.strip_prefix("plugin:").is_some_and(|name| {
        let mut bytes = name.bytes();
        bytes.next().is_some_and(|b| b.is_ascii_lowercase())
            && bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    });
    namespace
        && chars_within(&e.path, 1, 1000)
        && chars_within(&e.value, 0, 4000)
        && e.attributes.values().all(|v| chars_within(v, 0, 4000))
}

/// `code` `^[a-z0-9]+(-[a-z0-9]+)*$` (at most 64); `field` a JSON pointer.
fn warning(w: &Warning) -> bool {
    let code = w.code.len() <= 64
        && w.code.split('-').all(|part| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        });
    let pointer = |f: &str| {
        (f.is_empty() || f.starts_with('/'))
            && f.split('~')
                .skip(1)
                .all(|after| after.starts_with(['0', '1']))
            && chars_within(f, 0, 1000)
    };
    code && long_text(&w.message)
        && opt(w.path.as_deref(), |p| chars_within(p, 1, 1000))
        && opt(w.field.as_deref(), pointer)
}
