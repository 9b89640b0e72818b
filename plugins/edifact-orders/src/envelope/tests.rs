//! The envelope and lexing shapes real senders write: every public corpus
//! document (`tests/corpus/edifact-orders`, expectations written by hand beside
//! each), and synthetic interchanges for the shapes no corpus document has.

use edi_common::Config;
use jembatan_plugin_sdk::testing::{outcomes, path};
use jembatan_plugin_sdk::{
    Address, AllowanceChargeKind, Decimal, ItemIdRole, NaiveDate, Normalized, OrderLine, Outcome,
    PluginError, PriceKind, PurchaseOrder,
};

use super::read as read_all;

const PHP_D01B_UNOC: &[u8] = include_bytes!(
    "../../../../tests/corpus/edifact-orders/php-edifact-d01b-ean010-unoc-replacement-chars.edi"
);
const PYDIFACT_COMMA: &[u8] = include_bytes!(
    "../../../../tests/corpus/edifact-orders/pydifact-d96a-ean008-comma-decimal.edi"
);
const PYDIFACT_PLAIN: &[u8] =
    include_bytes!("../../../../tests/corpus/edifact-orders/pydifact-d96a-plain.edi");
const WIKIPEDIA_DE: &[u8] =
    include_bytes!("../../../../tests/corpus/edifact-orders/pydifact-d96a-wikipedia-de.edi");
const SMOOKS_D03B: &[u8] =
    include_bytes!("../../../../tests/corpus/edifact-orders/smooks-d03b-isbn.edi");
const SMOOKS_D96A: &[u8] =
    include_bytes!("../../../../tests/corpus/edifact-orders/smooks-examples-d96a-ean008.edi");
const STAEDI_UNG: &[u8] =
    include_bytes!("../../../../tests/corpus/edifact-orders/staedi-d96b-ean008b-ung.edi");

/// The expectations written by hand beside each corpus document.
const PHP_D01B_UNOC_EXPECTED: &[u8] = include_bytes!(
    "../../../../tests/corpus/edifact-orders/php-edifact-d01b-ean010-unoc-replacement-chars.expected.json"
);
const PYDIFACT_COMMA_EXPECTED: &[u8] = include_bytes!(
    "../../../../tests/corpus/edifact-orders/pydifact-d96a-ean008-comma-decimal.expected.json"
);
const PYDIFACT_PLAIN_EXPECTED: &[u8] =
    include_bytes!("../../../../tests/corpus/edifact-orders/pydifact-d96a-plain.expected.json");
const WIKIPEDIA_DE_EXPECTED: &[u8] = include_bytes!(
    "../../../../tests/corpus/edifact-orders/pydifact-d96a-wikipedia-de.expected.json"
);
const SMOOKS_D03B_EXPECTED: &[u8] =
    include_bytes!("../../../../tests/corpus/edifact-orders/smooks-d03b-isbn.expected.json");
const SMOOKS_D96A_EXPECTED: &[u8] = include_bytes!(
    "../../../../tests/corpus/edifact-orders/smooks-examples-d96a-ean008.expected.json"
);
const STAEDI_UNG_EXPECTED: &[u8] =
    include_bytes!("../../../../tests/corpus/edifact-orders/staedi-d96b-ean008b-ung.expected.json");

/// A config without keys: no `buyer_name` is needed, as a buyer named by its GLN
/// alone is a buyer with that id and no name.
const NO_CONFIG: &str = "{}";

/// The outcomes; panics on an error of the whole message.
fn normalized(body: &[u8], config: &str) -> Normalized {
    let config = Config::parse(config).unwrap();
    read_all(body, &config).unwrap_or_else(|err| panic!("refused: {err}"))
}

/// The orders and the warnings (the transactions', then the message's, each as
/// `code: message at path`); panics unless every transaction is an order.
fn read(body: &[u8], config: &str) -> (Vec<PurchaseOrder>, Vec<String>) {
    let normalized = normalized(body, config);
    let warnings = normalized
        .transactions
        .iter()
        .flat_map(|t| &t.warnings)
        .chain(&normalized.warnings)
        .map(|w| {
            format!(
                "{}: {} at {}",
                w.code,
                w.message,
                w.path.as_deref().unwrap_or("")
            )
        })
        .collect();
    let orders = normalized
        .transactions
        .into_iter()
        .map(|t| match t.outcome {
            Outcome::Order(order) => *order,
            other => panic!("transaction {} is no order: {other:?}", t.id.index),
        })
        .collect();
    (orders, warnings)
}

/// The error of the first refused message; panics unless there is one.
fn refused(body: &[u8], config: &str) -> PluginError {
    normalized(body, config)
        .transactions
        .into_iter()
        .find_map(|t| match t.outcome {
            Outcome::Refused(err) => Some(err),
            _ => None,
        })
        .expect("a refused message")
}

/// The error the whole body is refused with; panics if it is read.
fn error(body: &[u8], config: &str) -> PluginError {
    let config = Config::parse(config).unwrap();
    match read_all(body, &config) {
        Ok(normalized) => panic!("read {} transactions", normalized.transactions.len()),
        Err(err) => err,
    }
}

/// Each transaction in one line (`testing::outcomes`).
fn summary(body: &[u8], config: &str) -> Vec<String> {
    outcomes(&normalized(body, config).into_json())
}

/// `config` with `"strict": true` added.
fn strict(config: &str) -> String {
    let mut value: serde_json::Value = serde_json::from_str(config).unwrap();
    value["strict"] = true.into();
    value.to_string()
}

fn buyer_name(order: &PurchaseOrder) -> Option<&str> {
    order.buyer.as_ref()?.name.as_deref()
}

fn numbers(orders: &[PurchaseOrder]) -> Vec<&str> {
    orders
        .iter()
        .map(|o| o.buyer_order_number.as_str())
        .collect()
}

/// The buyer's name and its ids' values; `None` for an order without a buyer.
fn buyer(order: &PurchaseOrder) -> Option<(Option<&str>, Vec<&str>)> {
    let buyer = order.buyer.as_ref()?;
    let ids = buyer.ids.iter().map(|id| id.value.as_str()).collect();
    Some((buyer.name.as_deref(), ids))
}

/// The line's standard item id (GTIN, UPC, ISBN) as (scheme, 7143 qualifier, value).
fn standard_id(line: &OrderLine) -> Option<(&str, &str, &str)> {
    let id = line
        .item
        .ids
        .iter()
        .find(|id| id.role == ItemIdRole::Standard)?;
    Some((
        id.scheme.as_deref()?,
        id.qualifier.as_deref()?,
        id.value.as_str(),
    ))
}

/// The value of the line's item id of `role`.
fn item_id(line: &OrderLine, role: ItemIdRole) -> Option<&str> {
    let id = line.item.ids.iter().find(|id| id.role == role)?;
    Some(id.value.as_str())
}

/// The amount of the line's price.
fn price(line: &OrderLine) -> Option<Decimal> {
    line.price.as_ref().map(|price| price.amount)
}

fn decimal(text: &str) -> Decimal {
    text.parse().unwrap()
}

/// Asserts one warning contains every one of `parts`.
fn warned(warnings: &[String], parts: &[&str]) {
    assert!(
        warnings
            .iter()
            .any(|w| parts.iter().all(|part| w.contains(part))),
        "no warning with {parts:?} in {warnings:#?}"
    );
}

/// Asserts that `order` carries what the corpus expectation (the first
/// transaction of `expected`, tests/corpus/README.md) says the document carries:
/// order number and date, requested delivery date and place, references,
/// notes, buyer and supplier (names, ids, address, contact), and per line its
/// number, name, description, ids, quantity, unit, price with its basis and kind,
/// references, properties, allowances and pack size. The expectations name
/// things their own way (an id's `scheme` is a role, a GLN, or an agency code);
/// ids are compared by value, codes that v2 maps are compared after mapping.
fn matches_expectation(order: &PurchaseOrder, expected: &[u8]) {
    use serde_json::Value;
    let expected: Value = serde_json::from_slice(expected).unwrap();
    let want = &expected["transactions"][0]["order"];
    let text = |v: &Value| v.as_str().map(str::to_owned);
    let order_json = serde_json::to_value(order).unwrap();
    let extensions = |json: &Value| json["extensions"].to_string();

    assert_eq!(
        Some(order.buyer_order_number.clone()),
        text(&want["buyer_order_number"])
    );
    assert_eq!(
        Some(order.issue_date.to_string()),
        text(&want["issue_date"])
    );
    assert_eq!(
        text(&expected["transactions"][0]["control_number"]),
        order.source.control_number
    );
    let delivery = order.delivery.clone().unwrap_or_default();
    if let Some(date) = text(&want["delivery"]["date"]) {
        assert_eq!(delivery.requested_date.map(|d| d.to_string()), Some(date));
    }
    // The expectation calls DTM+61 (cancel if not delivered by) "latest".
    if let Some(date) = text(&want["delivery"]["latest"]) {
        assert_eq!(
            want["delivery"]["date_qualifier"].as_str().map(|q| &q[..2]),
            Some("61")
        );
        assert_eq!(delivery.cancel_after.map(|d| d.to_string()), Some(date));
    }
    if want["delivery"]["party"].is_object() {
        let location = delivery.location.clone().unwrap_or_default();
        let party = &want["delivery"]["party"];
        for id in party["ids"].as_array().unwrap() {
            assert!(
                location
                    .ids
                    .iter()
                    .any(|i| Some(&i.value) == text(&id["value"]).as_ref()),
                "{id}"
            );
        }
        assert_eq!(location.name, text(&party["name"]));
        if party["address"].is_object() {
            assert_address(location.address.as_ref(), &party["address"]);
        }
    }
    let references: Vec<(String, String)> = order
        .references
        .iter()
        .chain(order.lines.iter().flat_map(|l| &l.references))
        .map(|r| (r.qualifier.clone().unwrap_or_default(), r.value.clone()))
        .collect();
    for reference in want["references"].as_array().into_iter().flatten() {
        let qualifier = text(&reference["qualifier"]).unwrap();
        let pair = (
            qualifier[..2].to_owned(),
            text(&reference["value"]).unwrap(),
        );
        assert!(references.contains(&pair), "{pair:?} in {references:?}");
    }
    for note in want["notes"].as_array().into_iter().flatten() {
        let note = text(note).unwrap();
        let (subject, body) = note.split_once(": ").unwrap();
        // A note whose text is not in C108 (FTX+GEN+DUY:1B:28) is kept as an extension.
        let as_note = order
            .notes
            .iter()
            .any(|n| n.subject.as_deref() == Some(subject) && n.text == body);
        assert!(as_note || extensions(&order_json).contains(body), "{note}");
    }

    for (role, want) in [("buyer", &want["buyer"]), ("supplier", &want["supplier"])] {
        if !want.is_object() {
            continue;
        }
        let party = &order_json[role];
        assert_eq!(text(&party["name"]), text(&want["name"]), "{role} name");
        let ids: Vec<_> = party["ids"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|i| text(&i["value"]))
            .collect();
        for id in want["ids"].as_array().into_iter().flatten() {
            assert!(ids.contains(&text(&id["value"])), "{role} id {id}");
            if text(&id["scheme"]).as_deref() == Some("GLN") {
                assert!(
                    party["ids"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .any(|i| i["scheme"] == "GLN" && i["value"] == id["value"])
                );
            }
        }
        if want["address"].is_object() {
            let address: Option<Address> = serde_json::from_value(party["address"].clone()).ok();
            assert_address(address.as_ref(), &want["address"]);
        }
        if want["contact"].is_object() {
            let contact = &party["contacts"][0];
            assert_eq!(
                contact["role"], want["contact"]["function"],
                "{role} contact"
            );
            for field in ["name", "phone", "fax"] {
                if !want["contact"][field].is_null() {
                    assert_eq!(
                        contact[field], want["contact"][field],
                        "{role} contact {field}"
                    );
                }
            }
        }
    }

    let lines = want["lines"].as_array().unwrap();
    assert_eq!(order.lines.len(), lines.len());
    assert_eq!(Some(order.lines.len() as u64), want["line_count"].as_u64());
    for (line, want) in order.lines.iter().zip(lines) {
        let at = &line.line_number;
        let line_json = serde_json::to_value(line).unwrap();
        assert_eq!(Some(at.clone()), text(&want["line_number"]));
        // smooks-d03b names its books in FTX+AFM (4451 AFM: "Title") under LIN,
        // not in IMD: the title is the item's name.
        assert_eq!(line.item.name, text(&want["item_name"]), "{at}");
        assert_eq!(line.item.description, text(&want["description"]), "{at}");
        for id in want["ids"].as_array().unwrap() {
            let value = text(&id["value"]).unwrap();
            assert!(line.item.ids.iter().any(|i| i.value == value), "{at}: {id}");
            if let Some(scheme @ ("GTIN" | "ISBN")) = id["scheme"].as_str() {
                assert!(
                    line.item
                        .ids
                        .iter()
                        .any(|i| i.value == value && i.scheme.as_deref() == Some(scheme))
                );
            }
        }
        assert_eq!(
            Some(line.quantity.to_string()),
            text(&want["quantity"]),
            "{at}"
        );
        if let Some(unit) = text(&want["unit"]) {
            let written = line.unit_original.as_ref().map_or(&line.unit, |u| &u.code);
            assert_eq!(*written, unit, "{at}");
        }
        let price = line.price.as_ref();
        assert_eq!(
            price.map(|p| p.amount.to_string()),
            text(&want["unit_price"]),
            "{at}"
        );
        if let Some(basis) = text(&want["price_basis_quantity"]) {
            assert_eq!(
                price.map(|p| p.base_quantity.to_string()),
                Some(basis),
                "{at}"
            );
        }
        if let Some(kind) = text(&want["price_qualifier"]) {
            let kind = if kind.starts_with("AAA") {
                PriceKind::Net
            } else {
                PriceKind::Gross
            };
            assert_eq!(price.and_then(|p| p.kind), Some(kind), "{at}");
        }
        // The price type (5375) has no field: kept with the PRI segment.
        if let Some(price_type) = text(&want["price_type"]) {
            assert!(
                extensions(&line_json).contains(&format!(":{price_type}")),
                "{at}"
            );
        }
        for reference in want["references"].as_array().into_iter().flatten() {
            assert!(
                line.references.iter().any(|r| r.qualifier.as_deref()
                    == text(&reference["qualifier"]).as_deref()
                    && Some(&r.value) == text(&reference["value"]).as_ref()),
                "{at}: {reference}"
            );
        }
        for property in want["properties"].as_array().into_iter().flatten() {
            assert!(
                line.item
                    .properties
                    .iter()
                    .any(|p| Some(&p.value) == text(&property["value"]).as_ref()
                        && p.unit == text(&property["unit"])),
                "{at}: {property}"
            );
        }
        for allowance in want["allowances"].as_array().into_iter().flatten() {
            assert!(
                line.allowances_charges
                    .iter()
                    .any(|a| a.kind == AllowanceChargeKind::Allowance
                        && a.percent.map(|p| p.to_string()) == text(&allowance["percent"])),
                "{at}: {allowance}"
            );
        }
        for quantity in want["additional_quantities"]
            .as_array()
            .into_iter()
            .flatten()
        {
            // QTY+59, consumer units in the traded unit: the pack size.
            assert!(text(&quantity["qualifier"]).unwrap().starts_with("59"));
            let pack = line.packaging.as_ref().and_then(|p| p.pack);
            assert_eq!(
                pack.map(|p| p.to_string()),
                text(&quantity["value"]),
                "{at}"
            );
        }
    }
}

/// The address fields an expectation names; a country that is no ISO 3166 code
/// (the Wikipedia example's "xx") is kept as an extension, not in the address.
fn assert_address(address: Option<&Address>, want: &serde_json::Value) {
    let address = address.expect("an address");
    let field = |name: &str| want[name].as_str().map(str::to_owned);
    assert_eq!(address.street, field("street"));
    assert_eq!(address.city, field("city"));
    assert_eq!(address.postal_code, field("postal_code"));
    match field("country") {
        Some(code) if code.len() == 2 && code.bytes().all(|b| b.is_ascii_uppercase()) => {
            assert_eq!(address.country, Some(code))
        }
        _ => assert_eq!(address.country, None),
    }
}

#[test]
fn php_edifact_d01b_unoc_that_is_really_utf8() {
    // Units outside UN/ECE Rec 20 are the buyer's to map, in the config.
    let config = r#"{"unit_map":{"GBND":"XCH","PACK":"XPK","STK":"H87","BTL":"XBG","EIM":"XBJ","SCHA":"XBX"}}"#;
    let (orders, warnings) = read(PHP_D01B_UNOC, config);
    assert_eq!(numbers(&orders), ["2019265563"]);
    let order = &orders[0];
    assert_eq!(order.lines.len(), 146, "CNT+2:146");
    assert_eq!(
        order.issue_date,
        NaiveDate::from_ymd_opt(2018, 12, 5).unwrap()
    );
    // Released `?+`, and the U+FFFD the publisher's bytes carry (UTF-8, although
    // UNB says UNOC): read as UTF-8, not as Latin-1 mojibake ("ï¿½").
    assert_eq!(
        buyer(order),
        Some((Some("A+A K\u{FFFD}lte GmbH"), vec!["4250159300001"]))
    );
    // IMD+F++:::text:text: the first 7008 names the item, the second describes it.
    let line = &order.lines[86];
    assert_eq!(
        line.item.name.as_deref(),
        Some("H\u{FFFD}hnersuppe Konzentrat ohne")
    );
    assert_eq!(
        line.item.description.as_deref(),
        Some("Einlage f Sup 1:10 und So\u{FFFD} 1:6"),
        "released colons"
    );
    // UNT 0074 599 and UNZ 0036 1 are right; the charset is the only remark.
    assert_eq!(warnings.len(), 1, "{warnings:#?}");
    warned(&warnings, &["UNOC", "UTF-8"]);
    assert!(order.warnings.is_empty(), "{:#?}", order.warnings);
    assert_eq!(order.lines[0].unit, "XCH", "from unit_map");

    // Without the buyer's unit_map, the German retail units outside Rec 20's
    // shape are read as ZZ with the code as written, one warning per code; STK,
    // BTL and EIM have the shape of a Rec 20 code and pass (the gateway checks
    // codes against the Rec 20 list, design decision 5).
    let (orders, _) = read(PHP_D01B_UNOC, NO_CONFIG);
    let order = &orders[0];
    matches_expectation(order, PHP_D01B_UNOC_EXPECTED);
    let unwarned: Vec<_> = order
        .warnings
        .iter()
        .map(|w| (w.code.as_str(), w.path.as_deref().unwrap_or("")))
        .collect();
    assert_eq!(
        unwarned,
        [
            ("unit-not-rec20", "LIN[1]/QTY/6411"),
            ("unit-not-rec20", "LIN[45]/QTY/6411"),
            ("unit-not-rec20", "LIN[69]/QTY/6411"),
        ]
    );
    assert_eq!(order.lines[39].unit, "STK");
}

#[test]
fn pydifact_d96a_comma_decimal_una_without_unz() {
    let (orders, warnings) = read(PYDIFACT_COMMA, NO_CONFIG);
    matches_expectation(&orders[0], PYDIFACT_COMMA_EXPECTED);
    assert_eq!(numbers(&orders), ["801715918011"]);
    let lines = &orders[0].lines;
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0].quantity, decimal("8"));
    // LIN C212 with 7143 EN: a GTIN.
    assert_eq!(
        standard_id(&lines[0]),
        Some(("GTIN", "EN", "5020436373085"))
    );
    assert_eq!(item_id(&lines[0], ItemIdRole::Supplier), None);
    // NAD+BY names the buyer by its GLN (3055 9) alone.
    assert_eq!(buyer(&orders[0]), Some((None, vec!["8711576000012"])));
    assert_eq!(warnings.len(), 1, "{warnings:#?}");
    warned(&warnings, &["no UNZ", "the body ends"]);

    let err = refused(PYDIFACT_COMMA, &strict(NO_CONFIG));
    assert_eq!((err.code.as_str(), path(&err)), ("truncated", "UNZ"));
}

#[test]
fn pydifact_d96a_plain_without_una_and_unz() {
    let (orders, warnings) = read(PYDIFACT_PLAIN, NO_CONFIG);
    matches_expectation(&orders[0], PYDIFACT_PLAIN_EXPECTED);
    assert_eq!(numbers(&orders), ["PO123456"]);
    let order = &orders[0];
    assert_eq!(order.supplier.code, "987654321");
    assert_eq!(price(&order.lines[0]), Some(decimal("25.00")));
    assert_eq!(item_id(&order.lines[0], ItemIdRole::Buyer), Some("ABC123"));
    assert_eq!(buyer(order), Some((None, vec!["123456789"])));
    // Agency 9 beside a 9-digit number: not a GLN, the agency kept as written.
    let id = &order.buyer.as_ref().unwrap().ids[0];
    assert_eq!(
        (id.scheme.as_str(), id.qualifier.as_deref()),
        ("UNSPECIFIED", Some("9"))
    );
    assert_eq!(order.lines[0].quantity, decimal("10"));
    warned(&warnings, &["no UNZ"]);
}

#[test]
fn wikipedia_de_d96a_unz_naming_another_reference() {
    // No NAD+SU: the supplier code comes from the config.
    let config = r#"{"supplier_code":"LIEFERANT"}"#;
    // The buyer's country is the placeholder "xx", no ISO 3166 code: the order is
    // read, the address kept without a country, and "xx" kept beside it.
    let (orders, _) = read(WIKIPEDIA_DE, config);
    let order = &orders[0];
    matches_expectation(order, WIKIPEDIA_DE_EXPECTED);
    let address = order.buyer.as_ref().unwrap().address.as_ref().unwrap();
    assert_eq!(address.country, None);
    assert_eq!(
        (
            order.extensions[0].path.as_str(),
            order.extensions[0].value.as_str()
        ),
        ("NAD[1]/3207", "xx")
    );
    assert_eq!(order.warnings[0].code, "invalid-country");
    assert_eq!(order.warnings[0].path.as_deref(), Some("NAD[1]/3207"));
    let body = String::from_utf8(WIKIPEDIA_DE.to_vec())
        .unwrap()
        .replace("+23436+xx'", "+23436+DE'");
    let (orders, warnings) = read(body.as_bytes(), config);
    assert_eq!(numbers(&orders), ["B10001"]);
    let order = &orders[0];
    assert_eq!(buyer(order), Some((Some("Bestellername"), vec![])));
    assert_eq!(
        order.issue_date,
        NaiveDate::from_ymd_opt(2006, 6, 20).unwrap(),
        "DTM+4"
    );
    assert_eq!(order.lines[0].quantity, decimal("1000"), "QTY+1");
    // UNB 0020 is "1"; "1234567" is its application reference (0026).
    assert_eq!(warnings.len(), 1, "{warnings:#?}");
    warned(&warnings, &["UNZ/0020", "\"1234567\"", "\"1\""]);

    let err = refused(body.as_bytes(), &strict(config));
    assert_eq!(
        (err.code.as_str(), path(&err)),
        ("control-number-mismatch", "UNZ/0020")
    );
}

#[test]
fn smooks_d03b_syntax_4_with_repetitions() {
    let (orders, warnings) = read(SMOOKS_D03B, NO_CONFIG);
    matches_expectation(&orders[0], SMOOKS_D03B_EXPECTED);
    assert_eq!(numbers(&orders), ["BKOD99"]);
    let lines = &orders[0].lines;
    let isbns: Vec<_> = lines.iter().map(standard_id).collect();
    assert_eq!(
        isbns,
        ["0764569104", "0764569090", "1861004656", "0596006756"]
            .map(|isbn| Some(("ISBN", "IB", isbn)))
    );
    let quantities: Vec<_> = lines.iter().map(|l| l.quantity).collect();
    assert_eq!(
        quantities,
        [decimal("25"), decimal("25"), decimal("16"), decimal("10")]
    );
    assert_eq!(orders[0].supplier.code, "4012345000094");
    assert!(warnings.is_empty(), "{warnings:#?}");
    // The titles, in FTX+AFM, name the books; they are no notes as well.
    let names: Vec<_> = lines.iter().map(|l| l.item.name.as_deref()).collect();
    assert_eq!(
        names,
        [
            "Lord of the Rings",
            "The Hobbit",
            "The Silmarillion",
            "The Children of Hurin"
        ]
        .map(Some)
    );
    assert!(lines.iter().all(|l| l.notes.is_empty()));
}

#[test]
fn smooks_examples_d96a_syntax_4_without_unz() {
    let (orders, warnings) = read(SMOOKS_D96A, NO_CONFIG);
    matches_expectation(&orders[0], SMOOKS_D96A_EXPECTED);
    assert_eq!(numbers(&orders), ["0123456789123"]);
    let prices: Vec<_> = orders[0].lines.iter().map(price).collect();
    assert_eq!(
        prices,
        [
            Some(decimal("10.5")),
            Some(decimal("9.25")),
            Some(decimal("30"))
        ]
    );
    assert_eq!(warnings.len(), 1, "{warnings:#?}");
    warned(&warnings, &["no UNZ"]);
}

#[test]
fn staedi_d96b_group_with_a_wrong_segment_count() {
    let (orders, warnings) = read(STAEDI_UNG, NO_CONFIG);
    matches_expectation(&orders[0], STAEDI_UNG_EXPECTED);
    assert_eq!(numbers(&orders), ["C1441747"]);
    assert_eq!(orders[0].lines.len(), 1);
    assert_eq!(orders[0].supplier.name.as_deref(), Some("COMPANY ABC"));
    // LIN's GTIN (EN) and PIA's buyer's number (BP), each with its role.
    let line = &orders[0].lines[0];
    assert_eq!(standard_id(line), Some(("GTIN", "EN", "5400111864181")));
    assert_eq!(item_id(line, ItemIdRole::Buyer), Some("8641800"));
    // UNT says 21, the message has 18 segments; UNE and UNZ (one group) are right.
    assert_eq!(warnings.len(), 1, "{warnings:#?}");
    warned(&warnings, &["UNH[1]/UNT/0074", "says 21", "has 18"]);

    let err = refused(STAEDI_UNG, &strict(NO_CONFIG));
    assert_eq!(
        (err.code.as_str(), path(&err)),
        ("bad-segment-count", "UNH[1]/UNT/0074")
    );
}

/// An ORDERS message of 8 segments (UNT counts right) in the default syntax.
fn order(reference: &str, number: &str) -> String {
    format!(
        "UNH+{reference}+ORDERS:D:96A:UN:EAN008'BGM+220+{number}+9'DTM+137:20261103:102'\
         NAD+BY+5412345000013::9'NAD+SU+SUP-1::92'LIN+1++4000862141404:SRV'QTY+21:12'\
         UNT+8+{reference}'"
    )
}

/// An interchange around `messages` (their count is `count`) with reference `reference`.
fn interchange(reference: &str, count: usize, messages: &str) -> String {
    format!(
        "UNB+UNOC:3+SENDER:14+RECIPIENT:14+261103:0930+{reference}'{messages}UNZ+{count}+{reference}'"
    )
}

#[test]
fn several_interchanges_bom_crlf_and_trailing_blanks() {
    // The second interchange has a UNA of its own, the third none: each starts
    // from its own service characters.
    let second = interchange("IC2", 1, &order("1", "PO-2"))
        .replace('\'', "~")
        .replace('+', "*")
        .replace(':', ";");
    let body = format!(
        "\u{FEFF}{}\r\n{}\r\nUNA;*.? ~{second}\n\n{}\r\n  \t\r\n",
        interchange("IC1", 2, &(order("1", "PO-1a") + &order("2", "PO-1b"))),
        "",
        interchange("IC3", 1, &order("1", "PO-3"))
    )
    .replace("'U", "'\r\nU");
    let (orders, warnings) = read(body.as_bytes(), NO_CONFIG);
    assert_eq!(numbers(&orders), ["PO-1a", "PO-1b", "PO-2", "PO-3"]);
    assert!(warnings.is_empty(), "{warnings:#?}");
    for order in &orders {
        assert_eq!(buyer(order), Some((None, vec!["5412345000013"])));
        let line = &order.lines[0];
        assert_eq!(standard_id(line), Some(("GTIN", "SRV", "4000862141404")));
        assert_eq!(line.quantity, decimal("12"));
    }

    // Paths name the interchange after the first, and messages are numbered
    // across the body.
    let wrong = body.replace("UNZ*1*IC2", "UNZ*2*IC2");
    let err = refused(wrong.as_bytes(), &strict(NO_CONFIG));
    assert_eq!(
        (err.code.as_str(), path(&err)),
        ("bad-segment-count", "UNB[2]/UNZ/0036")
    );
    let wrong = body.replace("UNT+8+1'\r\nUNZ+1+IC3", "UNT+9+1'\r\nUNZ+1+IC3");
    let err = refused(wrong.as_bytes(), &strict(NO_CONFIG));
    assert_eq!(path(&err), "UNH[4]/UNT/0074");
}

#[test]
fn an_interchange_without_unz_before_the_next() {
    let body = format!(
        "UNB+UNOC:3+S+R+261103:0930+IC1'{}{}",
        order("1", "PO-1"),
        interchange("IC2", 1, &order("1", "PO-2"))
    );
    let (orders, warnings) = read(body.as_bytes(), NO_CONFIG);
    assert_eq!(numbers(&orders), ["PO-1", "PO-2"]);
    warned(&warnings, &["no UNZ", "the next interchange begins"]);
    assert_eq!(
        refused(body.as_bytes(), &strict(NO_CONFIG)).code,
        "truncated"
    );

    // A message cut short by the next interchange is refused, strict or not.
    let cut = body.replacen("UNT+8+1'", "", 1);
    let err = refused(cut.as_bytes(), NO_CONFIG);
    assert_eq!(
        (err.code.as_str(), path(&err)),
        ("missing-segment", "UNH[1]/UNT")
    );
}

#[test]
fn groups_around_messages_with_counts_read_past() {
    let messages = order("1", "PO-1") + &order("2", "PO-2");
    let body = interchange(
        "IC1",
        1,
        &format!("UNG+ORDERS+S+R+261103:0930+G1+UN+D:96A'{messages}UNE+2+G1'"),
    );
    let (orders, warnings) = read(body.as_bytes(), NO_CONFIG);
    assert_eq!(numbers(&orders), ["PO-1", "PO-2"]);
    assert!(warnings.is_empty(), "{warnings:#?}");

    for (from, to, at) in [
        ("UNE+2+G1", "UNE+3+G1", "UNG[1]/UNE/0060"),
        ("UNE+2+G1", "UNE+2+G9", "UNG[1]/UNE/0048"),
        ("UNZ+1+IC1", "UNZ+2+IC1", "UNZ/0036"),
        ("UNT+8+2", "UNT+8+3", "UNH[2]/UNT/0062"),
        ("UNE+2+G1'", "", "UNG[1]/UNE"),
    ] {
        let wrong = body.replace(from, to);
        let (orders, warnings) = read(wrong.as_bytes(), NO_CONFIG);
        assert_eq!(orders.len(), 2, "{to}");
        warned(&warnings, &[at]);
        let err = refused(wrong.as_bytes(), &strict(NO_CONFIG));
        assert_eq!(path(&err), at, "{err}");
    }
}

#[test]
fn every_corpus_document_has_the_transactions_its_expectation_lists() {
    for (body, expected) in [
        (PHP_D01B_UNOC, PHP_D01B_UNOC_EXPECTED),
        (PYDIFACT_COMMA, PYDIFACT_COMMA_EXPECTED),
        (PYDIFACT_PLAIN, PYDIFACT_PLAIN_EXPECTED),
        (WIKIPEDIA_DE, WIKIPEDIA_DE_EXPECTED),
        (SMOOKS_D03B, SMOOKS_D03B_EXPECTED),
        (SMOOKS_D96A, SMOOKS_D96A_EXPECTED),
        (STAEDI_UNG, STAEDI_UNG_EXPECTED),
    ] {
        let expected: serde_json::Value = serde_json::from_slice(expected).unwrap();
        let want: Vec<(&str, Option<&str>)> = expected["transactions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| (t["kind"].as_str().unwrap(), t["control_number"].as_str()))
            .collect();
        // Routed as the gateway's corpus test routes them, for the documents
        // that name no supplier.
        let normalized = normalized(body, r#"{"supplier_code":"CORPUS-SUPPLIER"}"#);
        let got: Vec<(&str, Option<&str>)> = normalized
            .transactions
            .iter()
            .map(|t| {
                let kind = match &t.outcome {
                    Outcome::Order(_) => "order",
                    Outcome::NotAnOrder { .. } => "not-an-order",
                    Outcome::Refused(err) => panic!("{}: refused: {err}", expected["source"]),
                };
                (kind, t.id.control_number.as_deref())
            })
            .collect();
        assert_eq!(got, want, "{}", expected["source"]);
    }
}

#[test]
fn one_outcome_per_message_orders_invoices_and_changes() {
    let invoice = "UNH+INV7+INVOIC:D:96A:UN:EAN008'BGM+380+INV-7+9'UNT+3+INV7'";
    let broken = order("2", "PO-2").replace("QTY+21:", "QTY+21:x");
    let body = interchange(
        "IC1",
        4,
        &format!(
            "{}{broken}{invoice}{}",
            order("1", "PO-1"),
            order("3", "PO-3")
        ),
    );
    assert_eq!(
        summary(body.as_bytes(), NO_CONFIG),
        [
            "0 1 order PO-1",
            "1 2 refused invalid-value at UNH[2]/LIN[1]/QTY/6060",
            "2 INV7 not-an-order INVOIC",
            "3 3 order PO-3"
        ]
    );
    let normalized = normalized(body.as_bytes(), NO_CONFIG);
    let location = normalized.transactions[2].id.location.as_ref().unwrap();
    assert_eq!(location.path.as_deref(), Some("UNH[3]"));
    assert!(body[location.offset.unwrap() as usize..].starts_with("UNH+INV7+"));
    // Its envelope is still checked; not being an order, it is never refused.
    let wrong = body.replace("UNT+3+INV7", "UNT+4+INV7");
    let strict = normalized_strict(wrong.as_bytes());
    assert!(matches!(
        strict.transactions[2].outcome,
        Outcome::NotAnOrder { .. }
    ));
    assert_eq!(
        strict.transactions[2].warnings[0].path.as_deref(),
        Some("UNH[3]/UNT/0074")
    );

    // A body with no ORDERS at all is read as what it holds.
    let only_invoice = interchange("IC1", 1, invoice);
    assert_eq!(
        summary(only_invoice.as_bytes(), NO_CONFIG),
        ["0 INV7 not-an-order INVOIC"]
    );
    // An ORDCHG changes an order: refused, never dropped as "not an order".
    let change = order("1", "PO-1").replace("ORDERS:", "ORDCHG:");
    assert_eq!(
        summary(interchange("IC1", 1, &change).as_bytes(), NO_CONFIG),
        ["0 1 refused unsupported-purpose at UNH[1]/0065"]
    );
}

/// The outcomes with `"strict": true`.
fn normalized_strict(body: &[u8]) -> Normalized {
    normalized(body, &strict(NO_CONFIG))
}

#[test]
fn text_is_decoded_per_syntax_identifier() {
    let latin1 = |identifier: &str, name: &[u8]| {
        let body = interchange("IC1", 1, &order("1", "PO-1"))
            .replace("UNOC:3", identifier)
            .replace("NAD+BY+5412345000013::9", "NAD+BY+5412345000013::9++NAME");
        let at = body.find("NAME").unwrap();
        let mut bytes = body.into_bytes();
        bytes.splice(at..at + 4, name.iter().copied());
        bytes
    };
    // UNOC: ISO 8859-1 bytes become UTF-8 text.
    let (orders, warnings) = read(&latin1("UNOC:3", b"K\xE4lte M\xFCller"), "");
    assert_eq!(buyer_name(&orders[0]), Some("Kälte Müller"));
    assert!(warnings.is_empty(), "{warnings:#?}");
    // UNOY (ISO 10646, written as UTF-8) and UNOW: UTF-8.
    for identifier in ["UNOY:4", "UNOW:4"] {
        let (orders, _) = read(&latin1(identifier, "Kälte Müller".as_bytes()), "");
        assert_eq!(buyer_name(&orders[0]), Some("Kälte Müller"), "{identifier}");
    }
    // UNOA/UNOB are ASCII: Latin-1 bytes are refused, not guessed at.
    for identifier in ["UNOA:3", "UNOB:3"] {
        let err = refused(&latin1(identifier, b"K\xE4lte"), "");
        assert_eq!(err.code, "invalid-encoding", "{identifier}");
    }
    // A level this plugin has no table for (UNOD, ISO 8859-2) with bytes that
    // are not UTF-8 is refused at UNB 0001: nothing can be read.
    let err = error(&latin1("UNOD:3", b"K\xE4lte"), "");
    assert_eq!(
        (err.code.as_str(), path(&err)),
        ("invalid-encoding", "UNB/0001")
    );
}

#[test]
fn release_characters_and_comma_decimals_in_the_default_syntax() {
    let body = interchange("IC1", 1, &order("1", "PO?+1?:A??B?'C"))
        .replace(
            "QTY+21:12'",
            "QTY+21:12,5'PRI+AAA:1250,75'MOA+203:15634,38'",
        )
        .replace("UNT+8+", "UNT+10+");
    let (orders, warnings) = read(body.as_bytes(), NO_CONFIG);
    assert!(warnings.is_empty(), "{warnings:#?}");
    assert_eq!(orders[0].buyer_order_number, "PO+1:A?B'C");
    let line = &orders[0].lines[0];
    assert_eq!(line.quantity, decimal("12.5"));
    assert_eq!(price(line), Some(decimal("1250.75")));
    assert_eq!(line.line_total, Some(decimal("15634.38")));
    // A thousands separator beside the decimal mark is refused, not guessed at.
    let err = refused(body.replace("1250,75", "1.250,75").as_bytes(), NO_CONFIG);
    assert_eq!(
        (err.code.as_str(), path(&err)),
        ("invalid-value", "UNH[1]/LIN[1]/PRI/5118")
    );
}

#[test]
fn d01b_bgm_document_number_is_the_first_component_of_c106() {
    let body =
        interchange("IC1", 1, &order("1", "PO-7:2:1")).replace("ORDERS:D:96A", "ORDERS:D:01B");
    let (orders, _) = read(body.as_bytes(), NO_CONFIG);
    assert_eq!(numbers(&orders), ["PO-7"], "1004, not its version 1056");
}

#[test]
fn a_body_with_no_message_is_refused() {
    let err = error(interchange("IC1", 0, "").as_bytes(), "");
    assert_eq!((err.code.as_str(), path(&err)), ("missing-segment", "UNH"));
}
