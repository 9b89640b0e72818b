//! The order as read, before required fields are checked and codes mapped.

use jembatan_plugin_sdk::{
    Address, Contact, DEFAULT_CURRENCY, Decimal, Delivery, NaiveDate, OrderLine, Party,
    PluginError, PurchaseOrder, Supplier, Totals,
};

use crate::Config;

/// Every field optional until [`Draft::finish`].
#[derive(Debug, Default)]
pub struct Draft {
    pub number: Option<String>,
    pub date: Option<NaiveDate>,
    pub currency: Option<String>,
    /// `name` stays empty until `Pembeli/Nama` is read.
    pub buyer: Party,
    pub supplier_code: Option<String>,
    pub supplier_name: Option<String>,
    pub delivery_date: Option<NaiveDate>,
    pub address: Address,
    pub notes: Vec<String>,
    pub totals: Totals,
    pub lines: Vec<LineDraft>,
}

/// A `Barang` as read.
#[derive(Debug, Default)]
pub struct LineDraft {
    pub number: String,
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
        self.buyer.contact.get_or_insert_with(Contact::default)
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
        let missing = |path: &str, what: &str| {
            PluginError::new("missing-field", format!("the order has no {what} ({path})"))
                .at_path(path)
        };
        let number = self
            .number
            .ok_or_else(|| missing("/PesananPembelian/NomorPO", "PO number"))?;
        let date = self
            .date
            .ok_or_else(|| missing("/PesananPembelian/TanggalPO", "PO date"))?;
        if self.buyer.name.is_empty() {
            return Err(missing("/PesananPembelian/Pembeli/Nama", "buyer name"));
        }
        let kode = self
            .supplier_code
            .ok_or_else(|| missing("/PesananPembelian/Pemasok/@kode", "supplier code"))?;
        // Routing depends on this code: an unmapped one is refused here, where
        // the message can say which config key to extend.
        let code = config.supplier_map.get(&kode).cloned().ok_or_else(|| {
            PluginError::new(
                "invalid-value",
                format!("supplier code {kode:?} is not in the plugin config's supplier_map"),
            )
            .at_path("/PesananPembelian/Pemasok/@kode")
        })?;
        if self.lines.is_empty() {
            return Err(missing("/PesananPembelian/DaftarBarang/Barang", "items"));
        }
        let lines = self
            .lines
            .into_iter()
            .enumerate()
            .map(|(i, line)| line.finish(i + 1, config, body))
            .collect::<Result<_, _>>()?;
        let address = (self.address != Address::default()).then_some(self.address);
        Ok(PurchaseOrder {
            buyer_order_number: number,
            issue_date: date,
            currency: self
                .currency
                .or_else(|| config.default_currency.clone())
                .unwrap_or_else(|| DEFAULT_CURRENCY.to_owned()),
            buyer: self.buyer,
            supplier: Supplier {
                code,
                name: self.supplier_name,
            },
            delivery: (address.is_some() || self.delivery_date.is_some()).then_some(Delivery {
                address,
                requested_date: self.delivery_date,
            }),
            lines,
            notes: self.notes,
            totals: (self.totals != Totals::default()).then_some(self.totals),
        })
    }
}

impl LineDraft {
    fn finish(self, index: usize, config: &Config, body: &[u8]) -> Result<OrderLine, PluginError> {
        let missing = |field: &str, what: &str| {
            let path = format!("/PesananPembelian/DaftarBarang/Barang[{index}]/{field}");
            PluginError::at_offset(
                "missing-field",
                format!("item {index} has no {what} ({path})"),
                body,
                self.offset,
            )
            .at_path(path)
        };
        let quantity = self.quantity.ok_or_else(|| missing("Jumlah", "quantity"))?;
        let unit = self.unit.ok_or_else(|| missing("Jumlah/@satuan", "unit"))?;
        if self.code.is_none() && self.name.is_none() {
            return Err(missing("KodeBarang", "item code or name"));
        }
        Ok(OrderLine {
            line_number: self.number,
            // An item the config does not map is still ordered; the craftsman
            // sees the buyer's code and name.
            supplier_item_code: self
                .code
                .as_ref()
                .and_then(|c| config.item_map.get(c).cloned()),
            buyer_item_code: self.code,
            description: self.name,
            quantity,
            unit,
            unit_price: self.price,
            line_total: self.total,
            requested_date: self.date,
            note: self.note,
        })
    }
}
