//! The order as read, before required fields are checked and codes mapped.

use jembatan_plugin_sdk::draft::{self, Defaults, Field, first, item_id, note, party_id};
use jembatan_plugin_sdk::{
    Address, Contact, Decimal, ItemIdRole, NaiveDate, Note, Party, PluginError, PurchaseOrder,
    Totals, party_scheme,
};

use crate::Config;

/// Every field optional until [`Draft::finish`].
#[derive(Debug, Default)]
pub struct Draft {
    pub number: Option<String>,
    pub date: Option<NaiveDate>,
    pub currency: Option<String>,
    /// `Pembeli@kode`, the buyer's own code for itself.
    pub buyer_id: Option<String>,
    /// `NPWP`, the Indonesian taxpayer number.
    pub buyer_tax_id: Option<String>,
    pub buyer: Party,
    pub supplier_code: Option<String>,
    pub supplier_name: Option<String>,
    pub delivery_date: Option<NaiveDate>,
    pub address: Address,
    pub notes: Vec<Note>,
    pub totals: Totals,
    pub lines: Vec<LineDraft>,
}

/// A `Barang` as read.
#[derive(Debug, Default)]
pub struct LineDraft {
    /// `@no`; the SDK numbers a line without one by its position.
    pub number: Option<String>,
    /// Byte offset of the `<Barang>` tag, for errors about the line.
    pub offset: usize,
    pub code: Option<String>,
    pub name: Option<String>,
    pub quantity: Option<Decimal>,
    pub unit: Option<String>,
    pub price: Option<Decimal>,
    pub total: Option<Decimal>,
    pub date: Option<NaiveDate>,
    pub note: Option<String>,
}

impl Draft {
    /// The `Barang` being read. Only called on paths inside one.
    pub fn line(&mut self) -> &mut LineDraft {
        self.lines.last_mut().expect("inside a Barang")
    }

    pub fn contact(&mut self) -> &mut Contact {
        first(&mut self.buyer.contacts)
    }

    /// An `invalid-value` error at `path` (as the reader tracks it: no `/` in
    /// front, no line index), with the `Barang` index put in.
    pub fn invalid(
        &self,
        path: &str,
        attribute: Option<&str>,
        problem: String,
        body: &[u8],
        offset: usize,
    ) -> PluginError {
        let mut full = format!("/{path}");
        let barang = "/PesananPembelian/DaftarBarang/Barang";
        if full.starts_with(barang) {
            full.insert_str(barang.len(), &format!("[{}]", self.lines.len()));
        }
        if let Some(attribute) = attribute {
            full.push_str("/@");
            full.push_str(attribute);
        }
        PluginError::at_offset("invalid-value", format!("{full}: {problem}"), body, offset)
            .at_path(full)
    }

    /// Checks required fields, maps the buyer's codes through the config.
    pub fn finish(self, config: &Config, body: &[u8]) -> Result<PurchaseOrder, PluginError> {
        let kode = self.supplier_code;
        let mut draft = draft::OrderDraft::new("buyer-mitra-otoparts", "PesananPembelian XML");
        draft.number = self.number;
        draft.issue_date = self.date;
        draft.currency = self.currency;
        draft.notes = self.notes;
        draft.buyer = self.buyer;
        let ids = [
            (party_scheme::UNSPECIFIED, self.buyer_id),
            (party_scheme::TAX, self.buyer_tax_id),
        ];
        for (scheme, value) in ids {
            draft
                .buyer
                .ids
                .extend(value.map(|value| party_id(scheme, &value)));
        }
        // Routing depends on this code: an unmapped one is reported as missing
        // below, where the message can say which config key to extend.
        draft.supplier_code = kode
            .as_ref()
            .and_then(|kode| config.supplier_map.get(kode).cloned());
        draft.supplier.name = self.supplier_name;
        draft.delivery.requested_date = self.delivery_date;
        *draft.delivery_address() = self.address;
        draft.totals = self.totals;
        draft.lines = self
            .lines
            .into_iter()
            .map(|line| line.into_line(config))
            .collect();
        let defaults = Defaults {
            currency: config.default_currency.as_deref(),
            // Every `Jumlah` must say its `satuan`.
            unit: None,
            ..Defaults::default()
        };
        draft.finish(&defaults, |field, draft| {
            let missing = |path: &str, what: &str| {
                PluginError::new("missing-field", format!("the order has no {what} ({path})"))
                    .at_path(path)
            };
            let item_missing = |i: usize, field: &str, what: &str| {
                let index = i + 1;
                let path = format!("/PesananPembelian/DaftarBarang/Barang[{index}]/{field}");
                PluginError::at_offset(
                    "missing-field",
                    format!("item {index} has no {what} ({path})"),
                    body,
                    draft.lines[i].offset,
                )
                .at_path(path)
            };
            match field {
                Field::OrderNumber => missing("/PesananPembelian/NomorPO", "PO number"),
                Field::IssueDate => missing("/PesananPembelian/TanggalPO", "PO date"),
                Field::BuyerName => missing(
                    "/PesananPembelian/Pembeli/Nama",
                    "buyer name (nor Pembeli@kode, nor NPWP) for the buyer's contact",
                ),
                Field::SupplierCode => match kode {
                    None => missing("/PesananPembelian/Pemasok/@kode", "supplier code"),
                    Some(kode) => PluginError::new(
                        "invalid-value",
                        format!(
                            "supplier code {kode:?} is not in the plugin config's supplier_map"
                        ),
                    )
                    .at_path("/PesananPembelian/Pemasok/@kode"),
                },
                Field::Lines => missing("/PesananPembelian/DaftarBarang/Barang", "items"),
                Field::Quantity(i) => item_missing(i, "Jumlah", "quantity"),
                Field::Unit(i) => item_missing(i, "Jumlah/@satuan", "unit"),
                Field::Item(i) => item_missing(i, "KodeBarang", "item code or name"),
                Field::LineNumber(_) => unreachable!("the defaults number lines by position"),
            }
        })
    }
}

impl LineDraft {
    fn into_line(self, config: &Config) -> draft::LineDraft {
        // An item the config does not map is still ordered; the craftsman
        // sees the buyer's code and name.
        let supplier_code = self.code.as_ref().and_then(|c| config.item_map.get(c));
        let mut line = draft::LineDraft {
            offset: self.offset,
            number: self.number,
            quantity: self.quantity,
            unit: self.unit,
            price: self.price.map(draft::unit_price),
            line_total: self.total,
            notes: self.note.as_deref().and_then(note).into_iter().collect(),
            ..draft::LineDraft::default()
        };
        let item = &mut line.item;
        item.ids
            .extend(self.code.as_deref().map(|c| item_id(ItemIdRole::Buyer, c)));
        item.ids
            .extend(supplier_code.map(|c| item_id(ItemIdRole::Supplier, c)));
        // `NamaBarang` is the item's name.
        item.name = self.name;
        line.delivery.requested_date = self.date;
        line
    }
}
