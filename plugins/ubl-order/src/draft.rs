//! What the parser has read so far, before required fields are checked.

use jembatan_plugin_sdk::{
    Address, Contact, DEFAULT_CURRENCY, Decimal, Delivery, NaiveDate, OrderLine, Party,
    PluginError, PurchaseOrder, Supplier, Totals,
};

use crate::Config;

/// The order as read, every field optional until [`OrderDraft::finish`].
#[derive(Debug, Default)]
pub struct OrderDraft {
    pub number: Option<String>,
    pub issue_date: Option<NaiveDate>,
    pub currency: Option<String>,
    pub notes: Vec<String>,
    /// Whether `cac:BuyerCustomerParty` appeared at all, for a precise error.
    pub buyer_seen: bool,
    pub buyer: PartyDraft,
    pub supplier_account_id: Option<String>,
    pub supplier_party_id: Option<String>,
    pub supplier_name: Option<String>,
    /// How many order-level `cac:Delivery` have started; only the first is read.
    pub deliveries: u32,
    pub delivery_address: Address,
    pub delivery_start: Option<NaiveDate>,
    pub delivery_end: Option<NaiveDate>,
    pub totals: Totals,
    pub lines: Vec<LineDraft>,
}

/// A `cac:Party` as read.
#[derive(Debug, Default)]
pub struct PartyDraft {
    pub id: Option<String>,
    pub name: Option<String>,
    /// `PartyLegalEntity/RegistrationName`, the name when `PartyName` is absent.
    pub legal_name: Option<String>,
    pub tax_id: Option<String>,
    pub address: Address,
    pub contact: Contact,
}

/// A `cac:OrderLine` as read.
#[derive(Debug, Default)]
pub struct LineDraft {
    /// Byte offset of the `cac:OrderLine` start tag, for errors about the line.
    pub offset: usize,
    pub id: Option<String>,
    pub quantity: Option<Decimal>,
    pub unit: Option<String>,
    pub unit_price: Option<Decimal>,
    pub line_total: Option<Decimal>,
    pub description: Option<String>,
    pub item_name: Option<String>,
    pub buyer_code: Option<String>,
    pub supplier_code: Option<String>,
    pub start: Option<NaiveDate>,
    pub end: Option<NaiveDate>,
    pub note: Option<String>,
}

/// Sets a single-valued field; the first occurrence wins, as UBL allows only one.
pub fn set_once<T>(field: &mut Option<T>, value: T) {
    if field.is_none() {
        *field = Some(value);
    }
}

/// Appends to a multi-valued text field (several `cbc:Note`, `cbc:Description`),
/// one per line.
pub fn append_line(field: &mut Option<String>, text: &str) {
    match field {
        Some(existing) => {
            existing.push('\n');
            existing.push_str(text);
        }
        None => *field = Some(text.to_owned()),
    }
}

impl OrderDraft {
    /// Checks required fields, applies the config's defaults and builds the order.
    pub fn finish(self, config: &Config, body: &[u8]) -> Result<PurchaseOrder, PluginError> {
        let missing = |path: &str, what: &str| {
            PluginError::new("missing-field", format!("the order has no {what} ({path})"))
                .at_path(path)
        };
        let buyer_order_number = self
            .number
            .ok_or_else(|| missing("/Order/cbc:ID", "order number"))?;
        let issue_date = self
            .issue_date
            .ok_or_else(|| missing("/Order/cbc:IssueDate", "issue date"))?;
        if !self.buyer_seen {
            return Err(missing("/Order/cac:BuyerCustomerParty", "buyer party"));
        }
        let buyer = self.buyer.finish().ok_or_else(|| {
            missing(
                "/Order/cac:BuyerCustomerParty/cac:Party/cac:PartyName/cbc:Name",
                "buyer name (nor cac:PartyLegalEntity/cbc:RegistrationName)",
            )
        })?;
        let code = self
            .supplier_account_id
            .or(self.supplier_party_id)
            .or_else(|| config.supplier_code.clone())
            .ok_or_else(|| {
                PluginError::new(
                    "missing-field",
                    "the order does not say who the supplier is: it has neither \
                     cac:SellerSupplierParty/cbc:CustomerAssignedAccountID nor \
                     cac:SellerSupplierParty/cac:Party/cac:PartyIdentification/cbc:ID, \
                     and the plugin config has no supplier_code",
                )
                .at_path("/Order/cac:SellerSupplierParty/cbc:CustomerAssignedAccountID")
            })?;
        if self.lines.is_empty() {
            return Err(missing("/Order/cac:OrderLine", "order lines"));
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

        let delivery = Delivery {
            address: non_empty_address(self.delivery_address),
            requested_date: self.delivery_start.or(self.delivery_end),
        };
        let has_totals = self.totals != Totals::default();
        Ok(PurchaseOrder {
            buyer_order_number,
            issue_date,
            currency: self
                .currency
                .or_else(|| config.default_currency.clone())
                .unwrap_or_else(|| DEFAULT_CURRENCY.to_owned()),
            buyer,
            supplier: Supplier {
                code,
                name: self.supplier_name,
            },
            delivery: (delivery != Delivery::default()).then_some(delivery),
            lines,
            notes: self.notes,
            totals: has_totals.then_some(self.totals),
        })
    }
}

impl PartyDraft {
    fn finish(self) -> Option<Party> {
        Some(Party {
            id: self.id,
            name: self.name.or(self.legal_name)?,
            tax_id: self.tax_id,
            address: non_empty_address(self.address),
            contact: (self.contact != Contact::default()).then_some(self.contact),
        })
    }
}

impl LineDraft {
    fn finish(
        self,
        number: usize,
        default_unit: &str,
        body: &[u8],
    ) -> Result<OrderLine, PluginError> {
        let line_path = format!("/Order/cac:OrderLine[{number}]/cac:LineItem");
        let missing = |field: &str, what: &str| {
            PluginError::at_offset(
                "missing-field",
                format!("order line {number} has no {what} ({line_path}/{field})"),
                body,
                self.offset,
            )
            .at_path(format!("{line_path}/{field}"))
        };
        let line_number = self
            .id
            .clone()
            .ok_or_else(|| missing("cbc:ID", "line ID"))?;
        let quantity = self
            .quantity
            .ok_or_else(|| missing("cbc:Quantity", "quantity"))?;
        let description = self.description.or(self.item_name);
        if description.is_none() && self.buyer_code.is_none() && self.supplier_code.is_none() {
            return Err(missing(
                "cac:Item/cbc:Description",
                "item: no cbc:Description, cbc:Name, buyer's or seller's item ID",
            ));
        }
        Ok(OrderLine {
            line_number,
            buyer_item_code: self.buyer_code,
            supplier_item_code: self.supplier_code,
            description,
            quantity,
            unit: self.unit.unwrap_or_else(|| default_unit.to_owned()),
            unit_price: self.unit_price,
            line_total: self.line_total,
            requested_date: self.start.or(self.end),
            note: self.note,
        })
    }
}

fn non_empty_address(address: Address) -> Option<Address> {
    (address != Address::default()).then_some(address)
}
