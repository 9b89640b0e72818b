//! What the parser has read so far, before required fields are checked.
//!
//! The SDK's [`draft::OrderDraft`] is filled in place; beside it the UBL draft
//! keeps what only UBL has (two sources of the supplier code, delivery periods,
//! the aggregate being read, the SBDH's sender and receiver), and
//! [`OrderDraft::finish`] folds them in, then lets the SDK check and build the order.

use jembatan_plugin_sdk::draft::{self, DEFAULT_UNIT, Defaults, Field};
use jembatan_plugin_sdk::{
    AllowanceCharge, AllowanceChargeKind, AllowanceChargeLevel, Decimal, Delivery, Extension,
    LineTax, NaiveDate, Note, PartyId, PluginError, Price, PriceKind, PurchaseOrder, TaxCategory,
    Warning,
};

use crate::Config;

/// The most extensions one order keeps (docs/canonical-order-v2.md §1.8).
pub const MAX_EXTENSIONS: usize = 500;

/// The order as read, every field optional until [`OrderDraft::finish`].
#[derive(Debug)]
pub struct OrderDraft {
    /// The SDK's draft: what maps one to one.
    pub order: draft::OrderDraft,
    /// `cbc:UBLVersionID`.
    pub ubl_version: Option<String>,
    /// SBDH `DocumentIdentification/InstanceIdentifier`.
    pub instance_identifier: Option<String>,
    /// SBDH `Sender/Identifier` and `Receiver/Identifier`: party ids when the
    /// document's own parties have none, else kept as extensions.
    pub sbdh_sender: Option<(PartyId, Extension)>,
    pub sbdh_receiver: Option<(PartyId, Extension)>,
    pub supplier_account_id: Option<String>,
    pub supplier_party_id: Option<String>,
    /// How many order-level `cac:Delivery` have started; only the first is mapped.
    pub deliveries: u32,
    pub delivery_period: Period,
    /// The `@currencyID`s of the amounts read, for a document without
    /// `cbc:DocumentCurrencyCode` (UBL 2.0).
    pub amount_currencies: Vec<String>,
    pub lines: Vec<LineDraft>,
    /// The `cac:AllowanceCharge` being read (order, line or price level).
    pub allowance: AllowanceDraft,
    /// The `cac:Person` being read.
    pub person: PersonDraft,
    /// The `cac:AdditionalItemProperty` being read.
    pub property: PropertyDraft,
    /// The `cbc:DocumentTypeCode` of the document reference being read.
    pub document_code: Option<String>,
    /// Index in the current party's ids of its `PartyTaxScheme/CompanyID`, whose
    /// `TaxScheme/ID` (read after it) is its qualifier.
    pub tax_id: Option<usize>,
    pub warnings: Vec<Warning>,
    /// Extensions kept so far, the order's and its lines' (counted here rather
    /// than summed over the lines at each one, which made an order with many
    /// lines and extensions quadratic).
    pub extensions_kept: usize,
    /// Extensions not kept because the order has [`MAX_EXTENSIONS`].
    pub extensions_dropped: usize,
    /// The `Order` element was read to its end.
    pub order_closed: bool,
}

impl Default for OrderDraft {
    fn default() -> Self {
        Self {
            order: draft::OrderDraft::new("ubl-order", "UBL"),
            ubl_version: None,
            instance_identifier: None,
            sbdh_sender: None,
            sbdh_receiver: None,
            supplier_account_id: None,
            supplier_party_id: None,
            deliveries: 0,
            delivery_period: Period::default(),
            amount_currencies: Vec::new(),
            lines: Vec::new(),
            allowance: AllowanceDraft::default(),
            person: PersonDraft::default(),
            property: PropertyDraft::default(),
            document_code: None,
            tax_id: None,
            warnings: Vec::new(),
            extensions_kept: 0,
            extensions_dropped: 0,
            order_closed: false,
        }
    }
}

/// A `cac:RequestedDeliveryPeriod`.
#[derive(Debug, Default)]
pub struct Period {
    pub start: Option<NaiveDate>,
    pub end: Option<NaiveDate>,
}

impl Period {
    /// One date when start and end are the same day, else the window as given.
    fn apply(self, delivery: &mut Delivery) {
        match (self.start, self.end) {
            (Some(start), Some(end)) if start == end => delivery.requested_date = Some(start),
            (start, end) => {
                delivery.earliest = start;
                delivery.latest = end;
            }
        }
    }
}

/// A `cac:Person`: its names make a contact's name, its job title the role.
#[derive(Debug, Default)]
pub struct PersonDraft {
    pub first: Option<String>,
    pub middle: Option<String>,
    pub family: Option<String>,
    pub job_title: Option<String>,
}

impl PersonDraft {
    /// "First Middle Family", or `None` when no name was given.
    pub fn full_name(&self) -> Option<String> {
        let parts: Vec<&str> = [&self.first, &self.middle, &self.family]
            .into_iter()
            .filter_map(|part| part.as_deref())
            .collect();
        (!parts.is_empty()).then(|| parts.join(" "))
    }
}

/// A `cac:AdditionalItemProperty`.
#[derive(Debug, Default)]
pub struct PropertyDraft {
    pub name: Option<String>,
    pub value: Option<String>,
    /// `cbc:ValueQuantity` and its `@unitCode`.
    pub quantity: Option<(String, Option<String>)>,
    pub qualifier: Option<String>,
}

/// A `cac:AllowanceCharge` as read.
#[derive(Debug, Default)]
pub struct AllowanceDraft {
    pub charge: bool,
    pub reason_code: Option<String>,
    pub reason: Option<String>,
    /// `cbc:MultiplierFactorNumeric` as written.
    pub factor: Option<Decimal>,
    pub amount: Option<Decimal>,
    pub base_amount: Option<Decimal>,
    pub sequence: Option<u32>,
    pub tax_category: Option<String>,
    pub tax_rate: Option<Decimal>,
}

/// What an allowance or charge became: the canonical one, or a note when it has
/// neither an amount nor a percent (the canonical one needs one of them).
pub enum Allowance {
    Read(AllowanceCharge),
    Note(Note),
}

impl AllowanceDraft {
    /// The allowance or charge just read, at `level`; resets the draft for the
    /// next. `factor_is_percent`: Peppol BIS writes `MultiplierFactorNumeric` as a
    /// percent (10 = 10 %), plain UBL as a factor (0.10), which is then ×100.
    pub fn take(&mut self, level: AllowanceChargeLevel, factor_is_percent: bool) -> Allowance {
        let read = std::mem::take(self);
        let kind = if read.charge {
            AllowanceChargeKind::Charge
        } else {
            AllowanceChargeKind::Allowance
        };
        let percent = read.factor.map(|factor| {
            if factor_is_percent {
                factor
            } else {
                (factor * Decimal::ONE_HUNDRED).normalize()
            }
        });
        if read.amount.is_none() && percent.is_none() {
            let kind = if read.charge { "Charge" } else { "Allowance" };
            let text = match read.reason.or(read.reason_code) {
                Some(reason) => format!("{kind} without an amount: {reason}"),
                None => format!("{kind} without an amount"),
            };
            return Allowance::Note(Note {
                text,
                subject: None,
            });
        }
        let tax = match (read.tax_category, read.tax_rate) {
            (Some(category), Some(rate)) => Some(TaxCategory { category, rate }),
            _ => None,
        };
        Allowance::Read(AllowanceCharge {
            kind,
            level: Some(level),
            reason_code_list: read
                .reason_code
                .as_ref()
                .map(|_| if read.charge { "UNCL7161" } else { "UNCL5189" }.to_owned()),
            reason_code: read.reason_code,
            reason: read.reason,
            amount: read.amount,
            percent,
            base_amount: read.base_amount,
            rate: None,
            rate_quantity: None,
            rate_unit: None,
            sequence: read.sequence,
            tax,
        })
    }
}

/// A `cac:OrderLine` as read.
#[derive(Debug, Default)]
pub struct LineDraft {
    /// What maps one to one.
    pub line: draft::LineDraft,
    /// How many `LineItem/cac:Delivery` have started; only the first is mapped.
    pub deliveries: u32,
    pub period: Period,
    /// `Price/PriceAmount`, `Price/BaseQuantity` and its `@unitCode`.
    pub price_amount: Option<Decimal>,
    pub base_quantity: Option<Decimal>,
    pub base_unit: Option<String>,
    /// A `Price/AllowanceCharge` was read: `PriceAmount` is the net price.
    pub price_allowance: bool,
    /// `LineItem/cbc:TotalTaxAmount` and where it was, for the line's one tax.
    pub total_tax: Option<(Decimal, String)>,
}

pub use jembatan_plugin_sdk::draft::{append, set_once};

impl OrderDraft {
    /// Keeps a value read that has no field as an extension, of the line when
    /// `line` says so, within the order's [`MAX_EXTENSIONS`].
    pub fn keep(&mut self, extension: Extension, line: bool) {
        if self.extensions_kept >= MAX_EXTENSIONS {
            self.extensions_dropped += 1;
            return;
        }
        self.extensions_kept += 1;
        match self.lines.last_mut() {
            Some(last) if line => last.line.extensions.push(extension),
            _ => self.order.extensions.push(extension),
        }
    }

    /// Adds a warning.
    pub fn warn(&mut self, code: &str, message: String, path: &str) {
        self.warnings.push(Warning {
            code: code.to_owned(),
            message,
            path: Some(path.to_owned()),
            field: None,
        });
    }

    /// Folds in what only UBL has, checks required fields, applies the config's
    /// defaults and builds the order.
    pub fn finish(mut self, config: &Config, body: &[u8]) -> Result<PurchaseOrder, PluginError> {
        if self.extensions_dropped > 0 {
            let message = format!(
                "{} more values without a canonical field were not kept: an order keeps at most {MAX_EXTENSIONS}",
                self.extensions_dropped
            );
            self.warnings.push(Warning {
                code: "extensions-truncated".to_owned(),
                message,
                path: None,
                field: None,
            });
        }
        let mut order = self.order;
        order.source.syntax = match &self.ubl_version {
            Some(version) => format!("UBL {version}"),
            None => "UBL".to_owned(),
        };
        order.source.control_number = self.instance_identifier.or_else(|| order.number.clone());
        if order.currency.is_none() {
            match self.amount_currencies.as_slice() {
                [one] => {
                    order.currency = Some(one.clone());
                    order.warnings.push(Warning {
                        code: "currency-from-amounts".to_owned(),
                        message: format!(
                            "the document has no cbc:DocumentCurrencyCode; every amount is in {one}"
                        ),
                        path: Some("/Order/cbc:DocumentCurrencyCode".to_owned()),
                        field: Some("/currency".to_owned()),
                    });
                }
                [] => {}
                several => order.warnings.push(Warning {
                    code: "foreign-currency-amount".to_owned(),
                    message: format!(
                        "the document has no cbc:DocumentCurrencyCode and its amounts are in \
                         several currencies ({}); the order's currency is the configured default",
                        several.join(", ")
                    ),
                    path: Some("/Order/cbc:DocumentCurrencyCode".to_owned()),
                    field: Some("/currency".to_owned()),
                }),
            }
        }
        // The envelope names the sender and receiver; they identify the parties
        // only when the document itself gives them no id.
        if let Some((id, extension)) = self.sbdh_sender {
            if order.buyer.ids.is_empty() {
                order.buyer.ids.push(id);
            } else {
                order.extensions.push(extension);
            }
        }
        if let Some((id, extension)) = self.sbdh_receiver {
            if order.supplier.ids.is_empty() {
                order.supplier.ids.push(id);
            } else {
                order.extensions.push(extension);
            }
        }
        self.delivery_period.apply(&mut order.delivery);
        // A Peppol seller may be named by its endpoint alone.
        let endpoint = order
            .supplier
            .ids
            .iter()
            .find(|id| id.scheme.starts_with("ENDPOINT:"))
            .map(|id| id.value.clone());
        order.supplier_code = self
            .supplier_account_id
            .or(self.supplier_party_id)
            .or(endpoint);
        order.lines = self.lines.into_iter().map(LineDraft::into_line).collect();
        order.warnings.append(&mut self.warnings);
        let defaults = Defaults {
            buyer_name: None,
            supplier_code: config.supplier_code.as_deref(),
            currency: config.default_currency.as_deref(),
            unit: Some(config.default_unit.as_deref().unwrap_or(DEFAULT_UNIT)),
            // UBL requires cbc:ID on every line.
            number_lines_by_position: false,
        };
        order.finish(&defaults, |field, draft| {
            let missing = |path: &str, what: &str| {
                PluginError::new("missing-field", format!("the order has no {what} ({path})"))
                    .at_path(path)
            };
            let line_missing = |i: usize, field: &str, what: &str| {
                let number = i + 1;
                let line_path = format!("/Order/cac:OrderLine[{number}]/cac:LineItem");
                PluginError::at_offset(
                    "missing-field",
                    format!("order line {number} has no {what} ({line_path}/{field})"),
                    body,
                    draft.lines[i].offset,
                )
                .at_path(format!("{line_path}/{field}"))
            };
            match field {
                Field::OrderNumber => missing("/Order/cbc:ID", "order number"),
                Field::IssueDate => missing("/Order/cbc:IssueDate", "issue date"),
                Field::BuyerName => missing(
                    "/Order/cac:BuyerCustomerParty/cac:Party/cac:PartyName/cbc:Name",
                    "buyer name (nor cac:PartyLegalEntity/cbc:RegistrationName, nor an \
                     EndpointID or PartyIdentification/ID) for the buyer's address or contact",
                ),
                Field::SupplierCode => PluginError::new(
                    "missing-field",
                    "the order does not say who the supplier is: it has neither \
                     cac:SellerSupplierParty/cbc:CustomerAssignedAccountID nor \
                     cac:SellerSupplierParty/cac:Party/cac:PartyIdentification/cbc:ID, \
                     and the plugin config has no supplier_code",
                )
                .at_path("/Order/cac:SellerSupplierParty/cbc:CustomerAssignedAccountID"),
                Field::Lines => missing("/Order/cac:OrderLine", "order lines"),
                Field::LineNumber(i) => line_missing(i, "cbc:ID", "line ID"),
                Field::Quantity(i) => line_missing(i, "cbc:Quantity", "quantity"),
                Field::Item(i) => line_missing(
                    i,
                    "cac:Item/cbc:Name",
                    "item: no cbc:Name, cbc:Description nor item identification",
                ),
                Field::Unit(_) => unreachable!("the defaults give every line a unit"),
            }
        })
    }
}

impl LineDraft {
    fn into_line(self) -> draft::LineDraft {
        let mut line = self.line;
        self.period.apply(&mut line.delivery);
        line.price = self.price_amount.map(|amount| Price {
            amount,
            base_quantity: self.base_quantity.unwrap_or(Decimal::ONE),
            base_unit: self.base_unit,
            base_unit_original: None,
            kind: self.price_allowance.then_some(PriceKind::Net),
            basis_code: None,
        });
        if let Some((amount, path)) = self.total_tax {
            match line.taxes.as_mut_slice() {
                [tax] => tax.amount = Some(amount),
                _ => line.extensions.push(Extension {
                    namespace: "ubl".to_owned(),
                    path,
                    value: amount.to_string(),
                    attributes: Default::default(),
                }),
            }
        }
        line
    }
}

/// A line tax with nothing read yet; its scheme is filled from `TaxScheme/ID`.
pub fn new_line_tax() -> LineTax {
    LineTax {
        scheme: String::new(),
        category: None,
        rate: None,
        amount: None,
    }
}
