//! UBL 2.1 Orders for the `ubl-order` plugin and the HTTP scenario.

use std::fmt::Write;

/// A UBL 2.1 Order of `lines` lines, each a numbered exhaust at one price.
pub fn ubl(lines: usize) -> Vec<u8> {
    let mut xml = String::from(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<Order xmlns="urn:oasis:names:specification:ubl:schema:xsd:Order-2" xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2" xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">
  <cbc:UBLVersionID>2.1</cbc:UBLVersionID>
  <cbc:ID>PO-BENCH-1</cbc:ID>
  <cbc:IssueDate>2026-11-27</cbc:IssueDate>
  <cbc:DocumentCurrencyCode>IDR</cbc:DocumentCurrencyCode>
  <cac:BuyerCustomerParty><cac:Party><cac:PartyName><cbc:Name>PT Mitra Otoparts Indonesia</cbc:Name></cac:PartyName>
    <cac:PostalAddress><cbc:StreetName>Jl. Industri Raya No. 5</cbc:StreetName><cbc:CityName>Bekasi</cbc:CityName><cac:Country><cbc:IdentificationCode>ID</cbc:IdentificationCode></cac:Country></cac:PostalAddress>
  </cac:Party></cac:BuyerCustomerParty>
  <cac:SellerSupplierParty><cbc:CustomerAssignedAccountID>PBG-017</cbc:CustomerAssignedAccountID></cac:SellerSupplierParty>
  <cac:Delivery><cac:RequestedDeliveryPeriod><cbc:StartDate>2026-12-10</cbc:StartDate></cac:RequestedDeliveryPeriod></cac:Delivery>
"#,
    );
    for n in 1..=lines {
        writeln!(
            xml,
            r#"  <cac:OrderLine><cac:LineItem><cbc:ID>{n}</cbc:ID><cbc:Quantity unitCode="H87">{q}</cbc:Quantity><cbc:LineExtensionAmount currencyID="IDR">{t}.00</cbc:LineExtensionAmount><cac:Price><cbc:PriceAmount currencyID="IDR">185000.00</cbc:PriceAmount></cac:Price><cac:Item><cbc:Name>Knalpot tipe {n}</cbc:Name><cac:BuyersItemIdentification><cbc:ID>MO-EXH-{n}</cbc:ID></cac:BuyersItemIdentification></cac:Item></cac:LineItem></cac:OrderLine>"#,
            q = 10 + n,
            t = (10 + n) * 185_000
        )
        .unwrap();
    }
    xml.push_str("</Order>\n");
    xml.into_bytes()
}
