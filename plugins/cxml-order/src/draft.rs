//! What the parser has read so far, before required fields are checked.
//!
//! The cXML-shaped draft keeps what only cXML has (the request kind, the sender
//! and receiver identities, the parts of a line's note); [`OrderDraft::finish`]
//! turns it into the SDK's [`draft::OrderDraft`], which checks and builds the order.

use jembatan_plugin_sdk::draft::{self, DEFAULT_UNIT, Defaults, Field, PartyDraft};
use jembatan_plugin_sdk::{
    Address, Contact, Decimal, NaiveDate, PluginError, PurchaseOrder, Totals,
};

use crate::Config;

/// Path of the OrderRequest, the root of every path in errors.
pub const ORDER_REQUEST: &str = "/cXML/Request/OrderRequest";

/// The order as read, every field optional until [`OrderDraft::finish`].
#[derive(Debug, Default)]
pub struct OrderDraft {
    /// Whether `Request/OrderRequest` appeared.
    pub order_request: bool,
    /// The first element under `Request`, to name what came instead of an order.
    pub request_kind: Option<String>,
    pub order_id: Option<String>,
    pub order_date: Option<NaiveDate>,
    /// The currency of the first `Money` (the header's `Total` comes first).
    pub currency: Option<String>,
    pub from_identity: Option<String>,
    pub to_identity: Option<String>,
    /// `Credential@domain` of the `To` credential being read.
    pub to_domain: Option<String>,
    /// Config `supplier_domain`: only a `To` credential of this domain counts.
    pub supplier_domain: Option<String>,
    pub buyer_id: Option<String>,
    pub buyer_name: Option<String>,
    pub buyer_address: Address,
    pub buyer_contact: Contact,
    pub delivery_address: Address,
    pub totals: Totals,
    pub notes: Vec<String>,
    pub lines: Vec<LineDraft>,
}

/// An `ItemOut` as read.
#[derive(Debug, Default)]
pub struct LineDraft {
    /// Byte offset of the `ItemOut` start tag, for errors about the line.
    pub offset: usize,
    pub number: Option<String>,
    pub quantity: Option<Decimal>,
    pub requested_date: Option<NaiveDate>,
    pub supplier_part: Option<String>,
    pub auxiliary_id: Option<String>,
    pub buyer_part: Option<String>,
    pub unit_price: Option<Decimal>,
    pub line_total: Option<Decimal>,
    pub description: Option<String>,
    pub short_name: Option<String>,
    pub unit: Option<String>,
    pub manufacturer_part: Option<String>,
    pub manufacturer_name: Option<String>,
    pub comments: Option<String>,
    /// The `Extrinsic` being read is the one config `line_total_extrinsic` names.
    pub line_total_pending: bool,
}

pub use jembatan_plugin_sdk::draft::set_once;

impl OrderDraft {
    /// Checks required fields, applies the config's defaults and builds the order.
    pub fn finish(self, config: &Config, body: &[u8]) -> Result<PurchaseOrder, PluginError> {
        if !self.order_request {
            return Err(PluginError::new(
                "not-an-order",
                format!(
                    "the cXML document carries {}, not an OrderRequest",
                    self.request_kind
                        .map_or_else(|| "no Request".to_owned(), |kind| format!("a <{kind}>"))
                ),
            )
            .at_path(ORDER_REQUEST));
        }
        let draft = draft::OrderDraft {
            number: self.order_id,
            issue_date: self.order_date,
            currency: self.currency,
            notes: self.notes,
            buyer: PartyDraft {
                id: self
                    .buyer_id
                    .or(self.from_identity)
                    .or_else(|| config.buyer_id.clone()),
                name: self.buyer_name,
                tax_id: None,
                address: self.buyer_address,
                contact: self.buyer_contact,
            },
            supplier_code: self.to_identity,
            supplier_name: None,
            delivery_address: self.delivery_address,
            delivery_date: None,
            totals: self.totals,
            lines: self.lines.into_iter().map(LineDraft::into_line).collect(),
        };
        let defaults = Defaults {
            buyer_name: config.buyer_name.as_deref(),
            supplier_code: config.supplier_code.as_deref(),
            currency: config.default_currency.as_deref(),
            unit: Some(config.default_unit.as_deref().unwrap_or(DEFAULT_UNIT)),
            // cXML makes lineNumber optional; its position is what it would be.
            number_lines_by_position: true,
        };
        draft.finish(&defaults, |field, draft| {
            let header = format!("{ORDER_REQUEST}/OrderRequestHeader");
            let missing = |path: String, what: &str| {
                PluginError::new("missing-field", format!("the order has no {what} ({path})"))
                    .at_path(path)
            };
            let item_missing = |i: usize, field: &str, what: &str| {
                let position = i + 1;
                let path = format!("{ORDER_REQUEST}/ItemOut[{position}]/{field}");
                PluginError::at_offset(
                    "missing-field",
                    format!("item {position} has no {what} ({path})"),
                    body,
                    draft.lines[i].offset,
                )
                .at_path(path)
            };
            match field {
                Field::OrderNumber => missing(format!("{header}/@orderID"), "order number"),
                Field::IssueDate => missing(format!("{header}/@orderDate"), "order date"),
                Field::BuyerName => missing(
                    format!("{header}/BillTo/Address/Name"),
                    "buyer name, and the plugin config has no buyer_name",
                ),
                Field::SupplierCode => missing(
                    "/cXML/Header/To/Credential/Identity".to_owned(),
                    "supplier identity, and the plugin config has no supplier_code",
                ),
                Field::Lines => missing(format!("{ORDER_REQUEST}/ItemOut"), "items"),
                Field::Quantity(i) => item_missing(i, "@quantity", "quantity"),
                Field::Item(i) => item_missing(
                    i,
                    "ItemDetail/Description",
                    "Description, SupplierPartID or BuyerPartID",
                ),
                Field::LineNumber(_) | Field::Unit(_) => {
                    unreachable!("the defaults number every line and give every unit")
                }
            }
        })
    }
}

impl LineDraft {
    fn into_line(self) -> draft::LineDraft {
        // The canonical line has no fields for these; the craftsman still needs
        // them to pick the right part, so they travel in the line's note.
        let mut note: Vec<String> = self.comments.into_iter().collect();
        if let Some(aux) = self.auxiliary_id {
            note.push(format!("SupplierPartAuxiliaryID: {aux}"));
        }
        match (self.manufacturer_part, self.manufacturer_name) {
            (Some(part), Some(maker)) => note.push(format!("ManufacturerPartID: {part} ({maker})")),
            (Some(part), None) => note.push(format!("ManufacturerPartID: {part}")),
            (None, Some(maker)) => note.push(format!("ManufacturerName: {maker}")),
            (None, None) => {}
        }
        draft::LineDraft {
            offset: self.offset,
            number: self.number,
            quantity: self.quantity,
            unit: self.unit,
            unit_price: self.unit_price,
            line_total: self.line_total,
            buyer_code: self.buyer_part,
            supplier_code: self.supplier_part,
            description: self.description.or(self.short_name),
            requested_date: self.requested_date,
            note: (!note.is_empty()).then(|| note.join("\n")),
        }
    }
}
