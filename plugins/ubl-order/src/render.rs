//! The answer to a UBL Order: a UBL 2.1 OrderResponse (the SDK's
//! `RenderResponse`, WIT `jembatan:plugin@0.4.0`).
//!
//! Elements are written in the order the UBL 2.1 OrderResponse schema's
//! sequences require (`UBL-OrderResponse-2.1.xsd`, OASIS UBL 2.1,
//! <http://docs.oasis-open.org/ubl/os-UBL-2.1/UBL-2.1.html>), with the codes Peppol
//! BIS Order Response 3 uses
//! (<https://docs.peppol.eu/poacc/upgrade-3/syntax/OrderResponse/tree/>):
//!
//! - `cbc:UBLVersionID` 2.1, `cbc:ID` the response's id, `cbc:IssueDate` and
//!   `cbc:IssueTime` when the craftsman answered (UTC).
//! - `cbc:OrderResponseCode` (UNCL 4343): `AP` accepted, `RE` rejected, `CA`
//!   conditionally accepted (accepted with changes); `cbc:Note` the reason.
//! - `cac:OrderReference/cbc:ID` the buyer's order number, with its issue date.
//! - `cac:SellerSupplierParty` and `cac:BuyerCustomerParty` (both required by
//!   the schema): the supplier and buyer as the order named them.
//! - `cac:Delivery/cac:PromisedDeliveryPeriod/cbc:EndDate` the promised date of
//!   the whole order.
//! - per changed line, `cac:OrderLine/cac:LineItem`: `cbc:ID` the line number,
//!   `cbc:LineStatusCode` 3 (UNCL 1229 "changed"), `cbc:Quantity` the new
//!   quantity in the line's unit, its `cac:Delivery` promised date, its new
//!   `cac:Price`, and `cac:Item/cbc:Name` (required); then
//!   `cac:OrderLineReference/cbc:LineID`.

use jembatan_plugin_sdk::{
    Decimal, Party, PartyId, PluginError, Rendered, ResponseRequest, ResponseStatus, Supplier,
};

/// `text` escaped for XML character data and attribute values.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

const ORDER_RESPONSE_NS: &str = "urn:oasis:names:specification:ubl:schema:xsd:OrderResponse-2";
const CAC_NS: &str = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2";
const CBC_NS: &str = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2";

struct Xml(String);

impl Xml {
    fn open(&mut self, name: &str) {
        self.0.push('<');
        self.0.push_str(name);
        self.0.push('>');
    }

    fn close(&mut self, name: &str) {
        self.0.push_str("</");
        self.0.push_str(name);
        self.0.push('>');
    }

    fn leaf(&mut self, name: &str, text: &str) {
        self.open(name);
        self.0.push_str(&escape(text));
        self.close(name);
    }

    fn leaf_with(&mut self, name: &str, attribute: (&str, &str), text: &str) {
        self.0.push_str(&format!(
            "<{name} {}=\"{}\">{}</{name}>",
            attribute.0,
            escape(attribute.1),
            escape(text)
        ));
    }

    /// `cac:Party` with its ids (`cac:PartyIdentification`) and name.
    fn party(&mut self, name: Option<&str>, ids: &[PartyId]) {
        self.open("cac:Party");
        for id in ids {
            self.open("cac:PartyIdentification");
            match &id.qualifier {
                Some(scheme) => self.leaf_with("cbc:ID", ("schemeID", scheme), &id.value),
                None => self.leaf("cbc:ID", &id.value),
            }
            self.close("cac:PartyIdentification");
        }
        if let Some(name) = name {
            self.open("cac:PartyName");
            self.leaf("cbc:Name", name);
            self.close("cac:PartyName");
        }
        self.close("cac:Party");
    }
}

fn amount(value: Decimal) -> String {
    value.normalize().to_string()
}

fn supplier_party(x: &mut Xml, supplier: &Supplier) {
    let name = supplier.name.as_deref().or(supplier.legal_name.as_deref());
    x.open("cac:SellerSupplierParty");
    x.party(name.or(Some(&supplier.code)), &supplier.ids);
    x.close("cac:SellerSupplierParty");
}

fn buyer_party(x: &mut Xml, buyer: Option<&Party>, account: Option<&str>) {
    x.open("cac:BuyerCustomerParty");
    match buyer {
        Some(p) => x.party(
            p.name.as_deref().or(p.legal_name.as_deref()).or(account),
            &p.ids,
        ),
        None => x.party(account, &[]),
    }
    x.close("cac:BuyerCustomerParty");
}

/// Renders `request` as a UBL 2.1 OrderResponse.
pub fn render(request: &ResponseRequest) -> Result<Rendered, PluginError> {
    let response = &request.response;
    let order = &request.order;
    let mut x = Xml(String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"));
    x.0.push_str(&format!(
        "<OrderResponse xmlns=\"{ORDER_RESPONSE_NS}\" xmlns:cac=\"{CAC_NS}\" xmlns:cbc=\"{CBC_NS}\">"
    ));
    x.leaf("cbc:UBLVersionID", "2.1");
    x.leaf("cbc:ID", &response.id);
    x.leaf(
        "cbc:IssueDate",
        &response.issued_at.format("%Y-%m-%d").to_string(),
    );
    x.leaf(
        "cbc:IssueTime",
        &response.issued_at.format("%H:%M:%SZ").to_string(),
    );
    let code = match response.status {
        ResponseStatus::Accepted => "AP",
        ResponseStatus::Rejected => "RE",
        ResponseStatus::AcceptedWithChanges => "CA",
    };
    x.leaf("cbc:OrderResponseCode", code);
    if let Some(reason) = &response.reason {
        x.leaf("cbc:Note", reason);
    }
    x.leaf("cbc:DocumentCurrencyCode", &order.currency);
    x.open("cac:OrderReference");
    x.leaf("cbc:ID", &response.buyer_order_number);
    x.leaf(
        "cbc:IssueDate",
        &order.issue_date.format("%Y-%m-%d").to_string(),
    );
    x.close("cac:OrderReference");
    supplier_party(&mut x, &order.supplier);
    let account = order
        .received
        .as_ref()
        .map(|r| r.buyer_account.name.as_str());
    buyer_party(&mut x, order.buyer.as_ref(), account);
    if let Some(promised) = response.promised_delivery_date {
        x.open("cac:Delivery");
        x.open("cac:PromisedDeliveryPeriod");
        x.leaf("cbc:EndDate", &promised.format("%Y-%m-%d").to_string());
        x.close("cac:PromisedDeliveryPeriod");
        x.close("cac:Delivery");
    }
    for change in &response.lines {
        let line = order
            .lines
            .iter()
            .find(|l| l.line_number == change.line_number)
            .ok_or_else(|| {
                PluginError::new(
                    "order-not-in-message",
                    format!("the order has no line {:?}", change.line_number),
                )
            })?;
        x.open("cac:OrderLine");
        x.open("cac:LineItem");
        x.leaf("cbc:ID", &change.line_number);
        x.leaf("cbc:LineStatusCode", "3");
        let unit = line
            .unit_original
            .as_ref()
            .map_or(line.unit.as_str(), |u| u.code.as_str());
        x.leaf_with(
            "cbc:Quantity",
            ("unitCode", unit),
            &amount(change.quantity.unwrap_or(line.quantity)),
        );
        if let Some(date) = change.delivery_date {
            x.open("cac:Delivery");
            x.open("cac:PromisedDeliveryPeriod");
            x.leaf("cbc:EndDate", &date.format("%Y-%m-%d").to_string());
            x.close("cac:PromisedDeliveryPeriod");
            x.close("cac:Delivery");
        }
        if let Some(price) = change.price {
            x.open("cac:Price");
            x.leaf_with(
                "cbc:PriceAmount",
                ("currencyID", &order.currency),
                &amount(price),
            );
            x.close("cac:Price");
        }
        x.open("cac:Item");
        x.leaf(
            "cbc:Name",
            line.item.name.as_deref().unwrap_or(&change.line_number),
        );
        x.close("cac:Item");
        x.close("cac:LineItem");
        x.open("cac:OrderLineReference");
        x.leaf("cbc:LineID", &change.line_number);
        x.close("cac:OrderLineReference");
        x.close("cac:OrderLine");
    }
    x.close("OrderResponse");
    x.0.push('\n');
    Ok(Rendered {
        content_type: "application/xml".into(),
        body: x.0.into_bytes(),
    })
}
