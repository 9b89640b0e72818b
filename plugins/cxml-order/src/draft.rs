//! What the parser has read so far, before required fields are checked.
//!
//! The cXML-shaped draft keeps what only cXML has (the request kind, the sender
//! and receiver identities, the parts of a line's note); [`OrderDraft::finish`]
//! turns it into the SDK's [`draft::OrderDraft`], which checks and builds the order.

use jembatan_plugin_sdk::draft::{self, DEFAULT_UNIT, Defaults, Field, item_id, party_id};
use jembatan_plugin_sdk::{
    Address, Contact, Decimal, Extension, Item, ItemId, ItemIdRole, NaiveDate, Note, PluginError,
    PurchaseOrder, Totals, party_scheme,
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
    pub notes: Vec<Note>,
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

pub use jembatan_plugin_sdk::draft::{note, set_once};

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
        let mut draft = draft::OrderDraft::new("cxml-order", "cXML");
        draft.number = self.order_id;
        draft.issue_date = self.order_date;
        draft.currency = self.currency;
        draft.notes = self.notes;
        let buyer_id = self
            .buyer_id
            .or(self.from_identity)
            .or_else(|| config.buyer_id.clone());
        draft.buyer.ids = buyer_id
            .map(|id| party_id(party_scheme::UNSPECIFIED, &id))
            .into_iter()
            .collect();
        draft.buyer.name = self.buyer_name;
        draft.buyer.address = Some(self.buyer_address);
        draft.buyer.contacts = vec![self.buyer_contact];
        draft.supplier_code = self.to_identity;
        *draft.delivery_address() = self.delivery_address;
        draft.totals = self.totals;
        draft.lines = self
            .lines
            .into_iter()
            .enumerate()
            .map(|(i, line)| line.into_line(i))
            .collect();
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
                    "buyer name or id for the BillTo address (no Name, @addressID or \
                     From credential), and the plugin config has no buyer_name",
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
                    "Description, ShortName, SupplierPartID, BuyerPartID or ManufacturerPartID",
                ),
                Field::LineNumber(_) | Field::Unit(_) => {
                    unreachable!("the defaults number every line and give every unit")
                }
            }
        })
    }
}

impl LineDraft {
    /// The line of the `index`-th `ItemOut` (0-based).
    fn into_line(self, index: usize) -> draft::LineDraft {
        let mut ids = Vec::new();
        ids.extend(
            self.supplier_part
                .map(|id| item_id(ItemIdRole::Supplier, &id)),
        );
        // The supplier's variant of the part (colour, finish): a second supplier id,
        // named by its element.
        ids.extend(self.auxiliary_id.map(|value| ItemId {
            role: ItemIdRole::Supplier,
            scheme: None,
            value,
            qualifier: Some("SupplierPartAuxiliaryID".to_owned()),
        }));
        ids.extend(self.buyer_part.map(|id| item_id(ItemIdRole::Buyer, &id)));
        ids.extend(
            self.manufacturer_part
                .map(|id| item_id(ItemIdRole::Manufacturer, &id)),
        );
        // An item id has no room for the maker's name; the craftsman still sees it.
        let extensions = self
            .manufacturer_name
            .map(|value| Extension {
                namespace: "cxml".to_owned(),
                path: format!(
                    "{ORDER_REQUEST}/ItemOut[{}]/ItemDetail/ManufacturerName",
                    index + 1
                ),
                value,
                attributes: Default::default(),
            })
            .into_iter()
            .collect();
        let mut line = draft::LineDraft {
            offset: self.offset,
            number: self.number,
            quantity: self.quantity,
            unit: self.unit,
            price: self.unit_price.map(draft::unit_price),
            line_total: self.line_total,
            item: Item {
                name: self.short_name,
                description: self.description,
                ids,
                ..Item::default()
            },
            notes: self
                .comments
                .and_then(|c| draft::note(&c))
                .into_iter()
                .collect(),
            extensions,
            ..draft::LineDraft::default()
        };
        line.delivery.requested_date = self.requested_date;
        line
    }
}
