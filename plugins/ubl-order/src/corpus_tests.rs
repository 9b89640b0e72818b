//! One test per public document in `tests/corpus/ubl` and `tests/corpus/peppol`,
//! asserting what its hand-written `.expected.json` states and a user would
//! check: number, date, currency, lines, items and their ids, quantities, prices
//! with their basis, parties, dates. Where canonical order v2 words a fact its
//! own way (a one-day window is a `requested_date`), the v2 way is asserted.

use jembatan_plugin_sdk::testing::{self, assert_schema_valid};
use jembatan_plugin_sdk::{
    DocumentType, ItemIdRole, NaiveDate, Party, PurchaseOrder, ReferenceType,
};

use crate::UblOrder;

fn read(body: &[u8]) -> PurchaseOrder {
    let out = testing::orders_json::<UblOrder>(body, "{}");
    assert_schema_valid(&out);
    testing::order::<UblOrder>(body, "{}")
}

fn day(text: &str) -> Option<NaiveDate> {
    Some(text.parse().unwrap())
}

/// (role, scheme, value) of each item id.
fn item_ids(order: &PurchaseOrder, line: usize) -> Vec<(ItemIdRole, Option<&str>, &str)> {
    order.lines[line]
        .item
        .ids
        .iter()
        .map(|id| (id.role, id.scheme.as_deref(), id.value.as_str()))
        .collect()
}

/// (scheme, value) of each party id.
fn party_ids(ids: &[jembatan_plugin_sdk::PartyId]) -> Vec<(&str, &str)> {
    ids.iter()
        .map(|id| (id.scheme.as_str(), id.value.as_str()))
        .collect()
}

/// (quantity, unit, price, base quantity, base unit, line total) as strings.
fn amounts(order: &PurchaseOrder, line: usize) -> [String; 6] {
    let line = &order.lines[line];
    let price = line.price.as_ref().unwrap();
    [
        line.quantity.to_string(),
        line.unit.clone(),
        price.amount.to_string(),
        price.base_quantity.to_string(),
        price.base_unit.clone().unwrap_or_default(),
        line.line_total.unwrap().to_string(),
    ]
}

fn names(order: &PurchaseOrder, line: usize) -> (Option<&str>, Option<&str>) {
    let item = &order.lines[line].item;
    (item.name.as_deref(), item.description.as_deref())
}

fn buyer(order: &PurchaseOrder) -> &Party {
    order.buyer.as_ref().unwrap()
}

#[test]
fn oasis_ubl_2_1_order_example() {
    let order = read(include_bytes!(
        "../../../tests/corpus/ubl/oasis-ubl-2.1-order-example.xml"
    ));
    assert_eq!(order.buyer_order_number, "34");
    assert_eq!(Some(order.issue_date), day("2010-01-20"));
    assert_eq!(order.currency, "SEK");
    assert_eq!(order.source.syntax, "UBL 2.1");
    assert_eq!(
        order.source.profile.as_deref(),
        Some("urn:www.cenbii.eu:profile:BII01:ver1.0")
    );
    assert_eq!(order.lines.len(), 2);
    assert_eq!(
        names(&order, 1),
        (
            Some("Pensel 20 mm"),
            Some("Very good pencils for red paint.")
        )
    );
    assert_eq!(
        item_ids(&order, 1),
        [
            (ItemIdRole::Supplier, None, "SItemNo011"),
            (ItemIdRole::Standard, Some("GTIN"), "123452340123")
        ]
    );
    let properties: Vec<_> = order.lines[1]
        .item
        .properties
        .iter()
        .map(|p| (p.name.as_str(), p.value.as_str()))
        .collect();
    assert_eq!(properties, [("Hair color", "Black"), ("Width", "20mm")]);
    assert_eq!(
        amounts(&order, 0),
        ["120", "LTR", "50", "1", "LTR", "6000"].map(String::from)
    );
    assert_eq!(
        amounts(&order, 1),
        ["15", "C62", "15", "1", "C62", "225"].map(String::from)
    );
    assert_eq!(order.lines[0].partial_delivery_allowed, Some(false));
    assert_eq!(order.lines[0].notes[0].text, "Freetext note on line 1");

    let b = buyer(&order);
    assert_eq!(b.name.as_deref(), Some("Johnssons byggvaror"));
    assert_eq!(b.legal_name.as_deref(), Some("Johnssons Byggvaror AB"));
    assert_eq!(
        party_ids(&b.ids),
        [
            ("ENDPOINT:GLN", "7300072311115"),
            ("GLN", "7300070011115"),
            ("UNSPECIFIED", "PartyID123"),
            ("TAX", "SE1234567801"),
            ("COMPANY", "5532331183"),
        ]
    );
    assert_eq!(b.contacts[0].email.as_deref(), Some("pelle@johnsson.se"));
    assert_eq!(
        b.contacts[0].name.as_deref(),
        Some("Pelle X Svensson"),
        "from cac:Person"
    );
    assert_eq!(order.supplier.name.as_deref(), Some("Moderna Produkter AB"));
    assert_eq!(order.supplier.code, "SellerPartyID123");
    assert_eq!(order.other_parties[0].role, "originator");

    let delivery = order.delivery.as_ref().unwrap();
    assert_eq!(
        (delivery.earliest, delivery.latest),
        (day("2010-02-10"), day("2010-02-25"))
    );
    assert_eq!(
        delivery.cancel_after,
        day("2010-01-31"),
        "ValidityPeriod/EndDate"
    );
    let location = delivery.location.as_ref().unwrap();
    assert_eq!(party_ids(&location.ids), [("GLN", "1234567890123")]);
    assert_eq!(
        location
            .address
            .as_ref()
            .unwrap()
            .building_number
            .as_deref(),
        Some("5")
    );
    assert_eq!(
        delivery.party.as_ref().unwrap().name.as_deref(),
        Some("Swedish trucking")
    );
    assert_eq!(delivery.contacts[0].name.as_deref(), Some("Eva Johnsson"));
    let terms = order.delivery_terms.as_ref().unwrap();
    assert_eq!(
        (
            terms.incoterm.as_deref(),
            terms.text.as_deref(),
            terms.place.as_deref()
        ),
        (Some("FOT"), Some("CAD"), Some("STO"))
    );
    let references: Vec<_> = order
        .references
        .iter()
        .map(|r| (r.kind, r.value.as_str()))
        .collect();
    assert_eq!(
        references,
        [
            (ReferenceType::CostCentre, "Project123"),
            (ReferenceType::Quotation, "QuoteID123"),
            (ReferenceType::PreviousOrder, "RjectedOrderID123"),
            (ReferenceType::Originator, "MAFO"),
            (ReferenceType::Contract, "34322"),
        ]
    );
    assert_eq!(order.documents.len(), 2);
    assert_eq!(
        order.documents[0].uri.as_deref(),
        Some("http://www.suppliersite.eu/sheet001.html")
    );
    assert_eq!(order.documents[1].kind, DocumentType::Drawing);
    assert_eq!(
        order.documents[1].mime_type.as_deref(),
        Some("application/pdf")
    );
    assert!(order.documents[1].content_base64.is_some());
    assert_eq!(order.allowances_charges.len(), 2);
    let totals = order.totals.as_ref().unwrap();
    assert_eq!(totals.payable.unwrap().to_string(), "6225");
    assert_eq!(totals.tax_total.unwrap().to_string(), "100");
}

#[test]
fn oasis_ubl_2_0_order_example_takes_the_currency_of_its_amounts() {
    let order = read(include_bytes!(
        "../../../tests/corpus/ubl/oasis-ubl-2.0-order-example.xml"
    ));
    assert_eq!(order.buyer_order_number, "AEG012345");
    assert_eq!(Some(order.issue_date), day("2005-06-20"));
    assert_eq!(order.currency, "GBP");
    assert!(
        order
            .warnings
            .iter()
            .any(|w| w.code == "currency-from-amounts")
    );
    assert_eq!(order.lines.len(), 1);
    assert_eq!(names(&order, 0), (Some("beeswax"), Some("Acme beeswax")));
    assert_eq!(
        item_ids(&order, 0),
        [
            (ItemIdRole::Buyer, None, "6578489"),
            (ItemIdRole::Supplier, None, "17589683")
        ]
    );
    // As written, though 100 KGM at 100.00 is not 100.00: never recomputed.
    assert_eq!(
        amounts(&order, 0),
        ["100", "KGM", "100.00", "1", "KGM", "100.00"].map(String::from)
    );
    let b = buyer(&order);
    assert_eq!(b.name.as_deref(), Some("IYT Corporation"));
    assert!(party_ids(&b.ids).contains(&("BUYER_ASSIGNED", "XFB01")));
    assert!(party_ids(&b.ids).contains(&("SUPPLIER_ASSIGNED", "GT00978567")));
    assert_eq!(order.supplier.code, "CO001");
    assert_eq!(order.supplier.name.as_deref(), Some("Consortial"));
    // The same day at both ends (the times go to extensions): one date.
    assert_eq!(
        order.delivery.as_ref().unwrap().requested_date,
        day("2005-06-29")
    );
    assert_eq!(
        order.totals.as_ref().unwrap().payable.unwrap().to_string(),
        "100.00"
    );
}

#[test]
fn oasis_ubl_2_0_international_order_example() {
    let order = read(include_bytes!(
        "../../../tests/corpus/ubl/oasis-ubl-2.0-order-example-international.xml"
    ));
    assert_eq!(order.buyer_order_number, "AEG012345");
    assert_eq!(order.currency, "USD");
    assert_eq!(names(&order, 0), (Some("Acme Beeswax"), Some("Beeswax")));
    assert_eq!(
        amounts(&order, 0),
        ["100", "KGM", "10.00", "1", "KGM", "1000.00"].map(String::from)
    );
    let delivery = order.delivery.as_ref().unwrap();
    assert_eq!(
        (delivery.earliest, delivery.latest),
        (day("2005-06-29"), day("2005-06-30"))
    );
    let terms = order.delivery_terms.as_ref().unwrap();
    assert_eq!(
        (terms.incoterm.as_deref(), terms.text.as_deref()),
        (None, Some("FOB Destination"))
    );
    assert_eq!(order.supplier.code, "CO001");
}

#[test]
fn cenbii_maximal_order_keeps_foreign_amounts_and_placeholders_apart() {
    let order = read(include_bytes!(
        "../../../tests/corpus/ubl/cenbii-order-maximal.xml"
    ));
    assert_eq!(order.buyer_order_number, "PM10405461");
    assert_eq!(order.currency, "EUR");
    assert_eq!(order.source.syntax, "UBL 2.0");
    assert_eq!(order.lines.len(), 2);
    assert_eq!(names(&order, 0), (Some("Koetin 18-19Xsi"), Some("xxx")));
    // The price is per 10 units of "04", as stated; never divided.
    let price = order.lines[0].price.as_ref().unwrap();
    assert_eq!(
        (
            price.amount.to_string(),
            price.base_quantity.to_string(),
            price.base_unit.as_deref()
        ),
        ("1".to_owned(), "10".to_owned(), Some("04"))
    );
    assert_eq!(order.lines[1].price.as_ref().unwrap().base_unit, None);
    assert_eq!(
        (
            order.lines[0].quantity.to_string(),
            order.lines[0].unit.as_str()
        ),
        ("10".to_owned(), "KPO")
    );
    // Totals and line amounts are in AED, not the order's EUR: extensions, not fields.
    assert_eq!(order.lines[0].line_total, None);
    assert!(
        order
            .warnings
            .iter()
            .any(|w| w.code == "foreign-currency-amount")
    );
    assert!(order.extensions.iter().any(|e| e.path
        == "/Order/cac:AnticipatedMonetaryTotal/cbc:PayableAmount"
        && e.value == "30"
        && e.attributes.get("currencyID").map(String::as_str) == Some("AED")));
    // "xxx" is no country: warned about and kept, not refused.
    assert!(
        order
            .warnings
            .iter()
            .any(|w| w.code == "invalid-country-code")
    );
    assert_eq!(
        buyer(&order).name.as_deref(),
        Some("Laajasalon ta:n hammashoitola")
    );
    let delivery = order.delivery.as_ref().unwrap();
    assert_eq!(
        (delivery.earliest, delivery.latest),
        (day("2022-01-01"), day("2022-12-31"))
    );
    assert_eq!(
        delivery
            .location
            .as_ref()
            .unwrap()
            .address
            .as_ref()
            .unwrap()
            .city
            .as_deref(),
        Some("Helsinki")
    );
}

#[test]
fn oioubl_order_has_gtins_as_seller_ids() {
    let order = read(include_bytes!(
        "../../../tests/corpus/ubl/oioubl-2.1-order.xml"
    ));
    assert_eq!(order.buyer_order_number, "5002701");
    assert_eq!(Some(order.issue_date), day("2005-11-01"));
    assert_eq!(order.currency, "DKK");
    assert_eq!(order.lines.len(), 2);
    assert_eq!(names(&order, 0), (Some("Hejsetavle"), Some("Hejsetavle")));
    assert_eq!(
        item_ids(&order, 0),
        [(ItemIdRole::Supplier, Some("GTIN"), "5712345780121")]
    );
    assert_eq!(
        amounts(&order, 1),
        ["2.00", "EA", "25.00", "1", "EA", "50.00"].map(String::from)
    );
    let b = buyer(&order);
    assert_eq!(b.name.as_deref(), Some("Den Lille Skole"));
    assert!(party_ids(&b.ids).contains(&("ENDPOINT:GLN", "5798009811578")));
    assert_eq!(order.supplier.name.as_deref(), Some("Tavleverandøren"));
    assert_eq!(
        order.delivery.as_ref().unwrap().requested_date,
        day("2005-11-15")
    );
    assert_eq!(
        order.totals.as_ref().unwrap().payable.unwrap().to_string(),
        "6312.50"
    );
}

#[test]
fn sg_peppol_order_example() {
    let order = read(include_bytes!(
        "../../../tests/corpus/peppol/sg-peppol-order-example.xml"
    ));
    assert_eq!(order.buyer_order_number, "34");
    assert_eq!(Some(order.issue_date), day("2018-09-01"));
    assert_eq!(order.currency, "SGD");
    assert_eq!(order.order_type.as_ref().unwrap().code, "220");
    assert_eq!(order.lines.len(), 2);
    assert_eq!(
        names(&order, 1),
        (Some("Wet tissues"), Some("Wet tissues for children"))
    );
    assert_eq!(
        item_ids(&order, 0),
        [
            (ItemIdRole::Buyer, None, "123456"),
            (ItemIdRole::Supplier, None, "121212"),
            (ItemIdRole::Standard, Some("GTIN"), "7560000012345")
        ]
    );
    let item = &order.lines[0].item;
    assert_eq!(item.documents[0].id.as_deref(), Some("12345678"));
    assert_eq!(item.documents[0].kind, DocumentType::Specification);
    assert_eq!(item.classifications[0].scheme, "MP");
    let length = &item.properties[0];
    assert_eq!(
        (
            length.name.as_str(),
            length.value.as_str(),
            length.unit.as_deref()
        ),
        ("Length", "30 mm", Some("C62"))
    );
    assert!(
        order.lines[0]
            .extensions
            .iter()
            .any(|e| e.value == "SE-123456"),
        "serial id kept"
    );
    assert_eq!(
        amounts(&order, 0),
        ["120", "EA", "50.000", "1", "EA", "6300.00"].map(String::from)
    );
    let price_level: Vec<_> = order.lines[0]
        .allowances_charges
        .iter()
        .filter(|a| a.level == Some(jembatan_plugin_sdk::AllowanceChargeLevel::Price))
        .map(|a| {
            (
                a.amount.unwrap().to_string(),
                a.base_amount.unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(price_level, [("10.00".to_owned(), "60.00".to_owned())]);
    let b = buyer(&order);
    assert_eq!(
        (b.name.as_deref(), b.legal_name.as_deref()),
        (Some("Buyer trade name"), Some("IMDA"))
    );
    assert!(party_ids(&b.ids).contains(&("ENDPOINT:0195", "SGUEN200254321Z")));
    assert!(party_ids(&b.ids).contains(&("GLN", "5790000435968")));
    assert!(
        party_ids(&order.supplier.ids).contains(&("GLN", "5790000436040")),
        "the seller's id is kept"
    );
    assert_eq!(
        order.supplier.legal_name.as_deref(),
        Some("Gallery Photo Supplier")
    );
    let delivery = order.delivery.as_ref().unwrap();
    assert_eq!(
        (delivery.earliest, delivery.latest),
        (day("2012-10-10"), day("2012-10-20"))
    );
    assert!(
        order
            .documents
            .iter()
            .any(|d| d.kind == DocumentType::Drawing)
    );
    assert!(order.other_parties.iter().any(|p| p.role == "invoicee"));
}

#[test]
fn ehf_ordering_order_example() {
    let order = read(include_bytes!(
        "../../../tests/corpus/peppol/ehf-ordering-3.0-order-example.xml"
    ));
    assert_eq!(order.buyer_order_number, "34");
    assert_eq!(order.currency, "NOK");
    assert_eq!(order.lines.len(), 2);
    assert_eq!(names(&order, 0), (Some("Needle 4mm"), Some("Needle 4mm")));
    assert_eq!(
        amounts(&order, 1),
        ["15", "EA", "15.000", "1", "EA", "225.00"].map(String::from)
    );
    let seller = party_ids(&order.supplier.ids);
    assert!(seller.contains(&("ENDPOINT:0192", "123456785")));
    assert!(seller.contains(&("GLN", "0847976000005")));
    let b = buyer(&order);
    assert_eq!(
        (b.name.as_deref(), b.legal_name.as_deref()),
        (Some("Helseforetak"), Some("Helseforetak AS"))
    );
    assert!(party_ids(&b.ids).contains(&("TAX", "NO9311867455MVA")));
    // Peppol writes MultiplierFactorNumeric as a percent.
    let charge = &order.allowances_charges[0];
    assert_eq!(
        (
            charge.reason_code.as_deref(),
            charge.reason_code_list.as_deref()
        ),
        (Some("ABK"), Some("UNCL7161"))
    );
    let discount = &order.allowances_charges[1];
    assert_eq!(
        [discount.percent, discount.amount, discount.base_amount].map(|v| v.unwrap().to_string()),
        ["10", "652.50", "6525.00"]
    );
}

#[test]
fn aunz_peppol_order_keeps_zero_padded_lines() {
    let order = read(include_bytes!(
        "../../../tests/corpus/peppol/aunz-peppol-au-order.xml"
    ));
    assert_eq!(order.buyer_order_number, "00002");
    assert_eq!(Some(order.issue_date), day("2020-02-20"));
    assert_eq!(order.currency, "AUD");
    let numbers: Vec<_> = order.lines.iter().map(|l| l.line_number.as_str()).collect();
    assert_eq!(numbers, ["01", "02", "03"]);
    assert_eq!(names(&order, 2), (Some("Pepper Sauce"), None));
    assert_eq!(
        item_ids(&order, 2),
        [
            (ItemIdRole::Buyer, None, "01B3456"),
            (ItemIdRole::Supplier, None, "SN-35"),
            (ItemIdRole::Standard, Some("GTIN"), "8722700577588")
        ]
    );
    assert_eq!(
        amounts(&order, 0),
        ["120", "EA", "5.0000", "1", "EA", "575.00"].map(String::from)
    );
    let b = buyer(&order);
    assert_eq!(b.name.as_deref(), Some("Australian Taxation Office"));
    assert_eq!(
        party_ids(&b.ids),
        [
            ("ENDPOINT:0151", "51824753556"),
            ("TAX", "51824753556"),
            ("COMPANY", "51824753556")
        ]
    );
    assert_eq!(b.ids[1].qualifier.as_deref(), Some("GST"), "the tax scheme");
    assert_eq!(order.supplier.name.as_deref(), Some("Bunnings Ltd"));
    let delivery = order.delivery.as_ref().unwrap();
    assert_eq!(
        (delivery.earliest, delivery.latest),
        (day("2020-03-10"), day("2020-04-30"))
    );
    assert_eq!(
        order.totals.as_ref().unwrap().payable.unwrap().to_string(),
        "7422.50"
    );
}

#[test]
fn italian_peppol_order_with_package_unit() {
    let order = read(include_bytes!(
        "../../../tests/corpus/peppol/peppol-italy-order-gtin.xml"
    ));
    assert_eq!(order.buyer_order_number, "2018/10021125");
    assert_eq!(order.currency, "EUR");
    assert_eq!(order.order_type.as_ref().unwrap().code, "227");
    assert_eq!(order.lines.len(), 1);
    assert_eq!(
        names(&order, 0),
        (
            Some("Sanpellegrino Acqua Naturale - Confezione da 6 Bottiglie x 1.5 Litri"),
            Some("Bottiglia in plastica")
        )
    );
    assert_eq!(
        item_ids(&order, 0),
        [
            (ItemIdRole::Supplier, None, "1005"),
            (ItemIdRole::Standard, Some("GTIN"), "05704368124358")
        ]
    );
    let line = &order.lines[0];
    assert_eq!(
        (line.quantity.to_string(), line.unit.as_str()),
        ("1000".to_owned(), "XPK")
    );
    assert_eq!(line.price.as_ref().unwrap().amount.to_string(), "2.50000");
    assert_eq!(line.line_total.unwrap().to_string(), "2500.00");
    assert!(party_ids(&buyer(&order).ids).contains(&("ENDPOINT:0201", "ABCDEF")));
    assert!(party_ids(&order.supplier.ids).contains(&("ENDPOINT:0211", "IT02188520544")));
    let delivery = order.delivery.as_ref();
    assert!(delivery.is_none_or(|d| d.requested_date.is_none() && d.earliest.is_none()));
    assert_eq!(
        order.delivery_terms.as_ref().unwrap().text.as_deref(),
        Some("PORTO FRANCO")
    );
}

#[test]
fn sbdh_wrapped_order_is_read_through_its_envelope() {
    let order = read(include_bytes!(
        "../../../tests/corpus/peppol/peppol-commons-sbdh-order.xml"
    ));
    assert_eq!(order.buyer_order_number, "5");
    assert_eq!(Some(order.issue_date), day("2013-07-01"));
    assert_eq!(order.currency, "EUR");
    assert_eq!(
        order.source.control_number.as_deref(),
        Some("62ad8932-be14-42a1-9528-f867cb335f55")
    );
    assert_eq!(
        order.source.customization.as_deref(),
        Some(
            "urn:www.cenbii.eu:transaction:biitrns001:ver2.0:extended:urn:www.peppol.eu:bis:peppol3a:ver2.0"
        ),
        "trimmed"
    );
    assert!(
        order
            .extensions
            .iter()
            .any(|e| e.namespace == "peppol-sbdh" && e.value == "AT")
    );
    let b = buyer(&order);
    assert_eq!(
        (b.name.as_deref(), b.legal_name.as_deref()),
        (Some("City Hospital"), Some("City Hospital 345433"))
    );
    assert_eq!(
        b.contacts[0].email.as_deref(),
        Some("martin.foggerty@cityhospital.se")
    );
    assert!(party_ids(&b.ids).contains(&("ENDPOINT:DK:VANS", "0088:test")));
    assert_eq!(
        order.supplier.name.as_deref(),
        Some("Translation Services AS")
    );
    assert!(party_ids(&order.supplier.ids).contains(&("GLN", "0088:5033466000005")));
    assert_eq!(order.lines.len(), 1);
    assert_eq!(
        names(&order, 0),
        (
            Some("Translation"),
            Some("Translation service Swedish - Spanish")
        )
    );
    let line = &order.lines[0];
    assert_eq!(
        (line.quantity.to_string(), line.unit.as_str()),
        ("1".to_owned(), "DAY")
    );
    assert_eq!(line.price.as_ref().unwrap().amount.to_string(), "400");
    let delivery = order.delivery.as_ref().unwrap();
    assert_eq!(
        (delivery.earliest, delivery.latest),
        (day("2013-07-15"), day("2013-07-16"))
    );
}
