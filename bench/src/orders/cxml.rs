//! cXML OrderRequests for `cxml-order`, in the shape of its `cxml-10-lines.xml`
//! fixture.

use std::fmt::Write;

use super::{BUYER_ID, BUYER_NAME, ORDER_NUMBER, SUPPLIER_CODE, decimal, lines, subtotal};

/// cXML has no line total, so the buyer's config names the `Extrinsic` that
/// carries it, and which `To` credential is the supplier's code.
pub const CONFIG: &str = r#"{"line_total_extrinsic":"LineTotal","supplier_domain":"SupplierID"}"#;

/// A cXML 1.2 OrderRequest of `count` items.
pub fn order_request(count: usize) -> Vec<u8> {
    let mut xml = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE cXML SYSTEM "http://xml.cxml.org/schemas/cXML/1.2.063/cXML.dtd">
<cXML payloadID="1795766400.917@erp.mitraotoparts.co.id" timestamp="2026-11-27T08:00:00+07:00" xml:lang="id-ID">
  <Header>
    <From><Credential domain="NetworkID"><Identity>AN01000917204</Identity></Credential></From>
    <To>
      <Credential domain="DUNS"><Identity>867530912</Identity></Credential>
      <Credential domain="SupplierID"><Identity>{SUPPLIER_CODE}</Identity></Credential>
    </To>
    <Sender>
      <Credential domain="NetworkID"><Identity>AN01000917204</Identity><SharedSecret>redacted</SharedSecret></Credential>
      <UserAgent>Mitra ERP 2.7</UserAgent>
    </Sender>
  </Header>
  <Request deploymentMode="production">
    <OrderRequest>
      <OrderRequestHeader orderID="{ORDER_NUMBER}" orderDate="2026-11-27T08:00:00+07:00" type="new" orderType="regular">
        <Total><Money currency="IDR">{total}</Money></Total>
        <ShipTo>
          <Address addressID="WH-CKR" isoCountryCode="ID">
            <Name xml:lang="id">Gudang Cikarang</Name>
            <PostalAddress name="default">
              <DeliverTo>Bpk. Hendra Wijaya (Gudang)</DeliverTo>
              <Street>Kawasan Industri Jababeka II</Street>
              <Street>Jl. Industri Selatan 5 Blok PP No. 3</Street>
              <City>Bekasi</City>
              <State>Jawa Barat</State>
              <PostalCode>17530</PostalCode>
              <Country isoCountryCode="ID">Indonesia</Country>
            </PostalAddress>
          </Address>
        </ShipTo>
        <BillTo>
          <Address addressID="{BUYER_ID}" isoCountryCode="ID">
            <Name xml:lang="id">{BUYER_NAME}</Name>
            <PostalAddress>
              <Street>Jl. Industri Raya No. 5</Street>
              <City>Bekasi</City>
              <State>Jawa Barat</State>
              <PostalCode>17520</PostalCode>
              <Country isoCountryCode="ID">Indonesia</Country>
            </PostalAddress>
            <Email name="purchasing">purchasing@mitraotoparts.co.id</Email>
          </Address>
        </BillTo>
        <Tax><Money currency="IDR">{tax}</Money><Description xml:lang="id">PPN 11%</Description></Tax>
        <Contact role="purchasingAgent"><Name xml:lang="id">Sari Handayani</Name></Contact>
        <Comments xml:lang="id">Mohon dikirim sebelum 10 Desember 2026. Sertakan surat jalan &amp; faktur.</Comments>
      </OrderRequestHeader>
"#,
        // PPN 11%, exact in sen.
        total = decimal(subtotal(count) * 111),
        tax = decimal(subtotal(count) * 11),
    );
    for line in lines(count) {
        let n = line.number;
        let delivery = if n.is_multiple_of(5) {
            r#" requestedDeliveryDate="2026-12-10T00:00:00+07:00""#
        } else {
            ""
        };
        write!(
            xml,
            r#"      <ItemOut quantity="{quantity}" lineNumber="{n}"{delivery}>
        <ItemID><SupplierPartID>{supplier}</SupplierPartID><BuyerPartID>{buyer}</BuyerPartID></ItemID>
        <ItemDetail>
          <UnitPrice><Money currency="IDR">{price}.00</Money></UnitPrice>
          <Description xml:lang="id">{description}</Description>
          <UnitOfMeasure>{unit}</UnitOfMeasure>
          <Classification domain="UNSPSC">25174004</Classification>
          <Extrinsic name="LineTotal">{total}.00</Extrinsic>
        </ItemDetail>
      </ItemOut>
"#,
            quantity = line.quantity,
            supplier = line.supplier_item,
            buyer = line.buyer_item,
            price = line.unit_price,
            description = line.description,
            unit = line.unit.rec20(),
            total = line.total(),
        )
        .expect("writing to a String");
    }
    xml.push_str("    </OrderRequest>\n  </Request>\n</cXML>\n");
    xml.into_bytes()
}
