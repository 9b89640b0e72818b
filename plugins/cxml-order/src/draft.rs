//! What the parser has read so far, before required fields are checked.

use jembatan_plugin_sdk::{
    Address, Contact, DEFAULT_CURRENCY, Decimal, Delivery, NaiveDate, OrderLine, Party,
    PluginError, PurchaseOrder, Supplier, Totals,
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

/// Sets a single-valued field; the first occurrence wins.
pub fn set_once<T>(field: &mut Option<T>, value: T) {
    if field.is_none() {
        *field = Some(value);
    }
}

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
        let header = format!("{ORDER_REQUEST}/OrderRequestHeader");
        let missing = |path: String, what: &str| {
            PluginError::new("missing-field", format!("the order has no {what} ({path})"))
                .at_path(path)
        };
        let buyer_order_number = self
            .order_id
            .ok_or_else(|| missing(format!("{header}/@orderID"), "order number"))?;
        let issue_date = self
            .order_date
            .ok_or_else(|| missing(format!("{header}/@orderDate"), "order date"))?;
        let name = self
            .buyer_name
            .or_else(|| config.buyer_name.clone())
            .ok_or_else(|| {
                missing(
                    format!("{header}/BillTo/Address/Name"),
                    "buyer name, and the plugin config has no buyer_name",
                )
            })?;
        let code = self
            .to_identity
            .or_else(|| config.supplier_code.clone())
            .ok_or_else(|| {
                missing(
                    "/cXML/Header/To/Credential/Identity".to_owned(),
                    "supplier identity, and the plugin config has no supplier_code",
                )
            })?;
        if self.lines.is_empty() {
            return Err(missing(format!("{ORDER_REQUEST}/ItemOut"), "items"));
        }
        let default_unit = config
            .default_unit
            .as_deref()
            .unwrap_or(crate::DEFAULT_UNIT);
        let lines = self
            .lines
            .into_iter()
            .enumerate()
            .map(|(i, line)| line.finish(i + 1, default_unit, body))
            .collect::<Result<Vec<_>, _>>()?;
        let delivery_address = non_empty(self.delivery_address);
        Ok(PurchaseOrder {
            buyer_order_number,
            issue_date,
            currency: self
                .currency
                .or_else(|| config.default_currency.clone())
                .unwrap_or_else(|| DEFAULT_CURRENCY.to_owned()),
            buyer: Party {
                id: self
                    .buyer_id
                    .or(self.from_identity)
                    .or_else(|| config.buyer_id.clone()),
                name,
                tax_id: None,
                address: non_empty(self.buyer_address),
                contact: (self.buyer_contact != Contact::default()).then_some(self.buyer_contact),
            },
            supplier: Supplier { code, name: None },
            delivery: delivery_address.map(|address| Delivery {
                address: Some(address),
                requested_date: None,
            }),
            lines,
            notes: self.notes,
            totals: (self.totals != Totals::default()).then_some(self.totals),
        })
    }
}

impl LineDraft {
    fn finish(
        self,
        position: usize,
        default_unit: &str,
        body: &[u8],
    ) -> Result<OrderLine, PluginError> {
        let path = format!("{ORDER_REQUEST}/ItemOut[{position}]");
        let missing = |field: &str, what: &str| {
            PluginError::at_offset(
                "missing-field",
                format!("item {position} has no {what} ({path}/{field})"),
                body,
                self.offset,
            )
            .at_path(format!("{path}/{field}"))
        };
        let quantity = self
            .quantity
            .ok_or_else(|| missing("@quantity", "quantity"))?;
        let description = self.description.or(self.short_name);
        if description.is_none() && self.supplier_part.is_none() && self.buyer_part.is_none() {
            return Err(missing(
                "ItemDetail/Description",
                "Description, SupplierPartID or BuyerPartID",
            ));
        }
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
        Ok(OrderLine {
            // cXML makes lineNumber optional; its position is what it would be.
            line_number: self.number.unwrap_or_else(|| position.to_string()),
            buyer_item_code: self.buyer_part,
            supplier_item_code: self.supplier_part,
            description,
            quantity,
            unit: self.unit.unwrap_or_else(|| default_unit.to_owned()),
            unit_price: self.unit_price,
            line_total: self.line_total,
            requested_date: self.requested_date,
            note: (!note.is_empty()).then(|| note.join("\n")),
        })
    }
}

fn non_empty(address: Address) -> Option<Address> {
    (address != Address::default()).then_some(address)
}
