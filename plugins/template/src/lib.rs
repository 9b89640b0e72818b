//! A jembatan buyer plugin, from the template: it reads a simple CSV export.
//!
//! Each row is one order line; the order's own fields (number, date, supplier,
//! buyer) repeat on every row, as spreadsheets export them. The first row names
//! the columns, so their order does not matter:
//!
//! ```text
//! po_number,issue_date,supplier_code,buyer_name,line,item_code,description,quantity,unit,unit_price
//! ```
//!
//! `buyer_name` may be empty: the gateway then names the buyer from its
//! registration.
//!
//! Change [`SEPARATOR`], the column names and [`read_order`] to read your buyer's
//! format; keep the shape: one function from the message to canonical orders
//! (version 2, `schemas/purchase-order-v2.schema.json`), errors that say what and
//! where. Test with `cargo test`, then see the guide (`plugins/README.md`) to
//! build, try, upload and bind it.
//!
//! The gateway takes one outcome per transaction of a message: an order, a
//! refusal, or "not an order". A file of one order is one transaction, which is
//! what `read_order(text)?.into()` makes; an error refuses the whole file. If
//! your buyer's files carry several orders, read each into its own
//! [`Transaction`](jembatan_plugin_sdk::Transaction) (`Transaction::from_result`
//! with a `TransactionId` naming its index and where it starts), so that one
//! bad order is refused on its own and the others go through.

use jembatan_plugin_sdk::draft::{Defaults, LineDraft, OrderDraft, item_id, unit_price};
use jembatan_plugin_sdk::values::{date, decimal, unit};
use jembatan_plugin_sdk::{
    Info, ItemIdRole, Message, Normalized, Plugin, PluginError, PurchaseOrder,
};

/// The column separator.
pub const SEPARATOR: char = ',';

/// The plugin.
pub struct TemplatePlugin;

impl Plugin for TemplatePlugin {
    fn info() -> Info {
        Info {
            // The crate's name and version: bump the version for every upload.
            name: env!("CARGO_PKG_NAME"),
            version: env!("CARGO_PKG_VERSION"),
            description: "Orders from a CSV export, one row per line.",
            content_types: &["text/csv", "text/plain"],
        }
    }

    fn normalize(message: &Message, _config: &str) -> Result<Normalized, PluginError> {
        let text = std::str::from_utf8(&message.body).map_err(|e| {
            PluginError::at_offset(
                "not-utf8",
                "the file is not UTF-8 text",
                &message.body,
                e.valid_up_to(),
            )
        })?;
        // One file, one order: one transaction.
        Ok(read_order(text)?.into())
    }
}

jembatan_plugin_sdk::export_plugin!(TemplatePlugin);

/// Reads the rows of one order.
pub fn read_order(text: &str) -> Result<PurchaseOrder, PluginError> {
    let mut rows = text
        .lines()
        .enumerate()
        .filter(|(_, row)| !row.trim().is_empty());
    let (_, header) = rows
        .next()
        .ok_or_else(|| PluginError::new("empty-body", "the file has no header row"))?;
    let columns: Vec<&str> = header.split(SEPARATOR).map(str::trim).collect();
    let column = |name: &str| {
        columns.iter().position(|c| *c == name).ok_or_else(|| {
            PluginError::new(
                "missing-column",
                format!("the header has no column '{name}'"),
            )
            .with_line_column(1, 1)
        })
    };
    let [
        po,
        issued,
        supplier,
        buyer,
        line,
        item,
        description,
        quantity,
        unit_code,
        price,
    ] = [
        "po_number",
        "issue_date",
        "supplier_code",
        "buyer_name",
        "line",
        "item_code",
        "description",
        "quantity",
        "unit",
        "unit_price",
    ]
    .map(column);
    let (po, issued, supplier, buyer) = (po?, issued?, supplier?, buyer?);
    let (line, item, description, quantity, unit_code, price) =
        (line?, item?, description?, quantity?, unit_code?, price?);

    // The order as read so far; `finish` below checks it and builds the order.
    let mut order = OrderDraft::new(env!("CARGO_PKG_NAME"), "CSV");
    for (index, row) in rows {
        let number = index as u32 + 1;
        let cells: Vec<&str> = row.split(SEPARATOR).map(str::trim).collect();
        // Every error names the row and the column, so the buyer can find it.
        let cell = |at: usize| -> Result<&str, PluginError> {
            cells
                .get(at)
                .copied()
                .filter(|c| !c.is_empty())
                .ok_or_else(|| {
                    PluginError::new(
                        "missing-value",
                        format!("row {number} has no {}", columns[at]),
                    )
                    .with_line_column(number, 1)
                })
        };
        let bad = |at: usize, why: String| {
            PluginError::new(
                "invalid-value",
                format!("row {number}, {}: {why}", columns[at]),
            )
            .with_line_column(number, 1)
        };
        let optional = |at: usize| {
            cells
                .get(at)
                .filter(|c| !c.is_empty())
                .map(|c| c.to_string())
        };
        // The order's own fields repeat on every row; the first row's count.
        if order.lines.is_empty() {
            order.number = Some(cell(po)?.to_owned());
            order.issue_date = Some(date(cell(issued)?).map_err(|e| bad(issued, e))?);
            order.supplier_code = Some(cell(supplier)?.to_owned());
            order.buyer.name = optional(buyer);
        }
        let mut line = LineDraft {
            number: Some(cell(line)?.to_owned()),
            quantity: Some(decimal(cell(quantity)?).map_err(|e| bad(quantity, e))?),
            unit: Some(unit(cell(unit_code)?).map_err(|e| bad(unit_code, e))?),
            price: Some(unit_price(
                decimal(cell(price)?).map_err(|e| bad(price, e))?,
            )),
            ..LineDraft::default()
        };
        line.item.ids.push(item_id(ItemIdRole::Buyer, cell(item)?));
        line.item.description = optional(description);
        order.lines.push(line);
    }
    if order.lines.is_empty() {
        return Err(PluginError::new(
            "no-lines",
            "the file has a header but no rows",
        ));
    }
    // Every field the order needs was required row by row above; `finish` checks
    // again, which matters once you change the reader.
    order.finish(&Defaults::default(), |field, _| {
        PluginError::new("missing-value", format!("the order has no {field:?}"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use jembatan_plugin_sdk::testing::assert_schema_valid;

    const EXAMPLE: &str = include_str!("../fixtures/example.csv");

    #[test]
    fn reads_the_example() {
        let order = read_order(EXAMPLE).unwrap();
        assert_eq!(order.buyer_order_number, "PO-2026-0042");
        assert_eq!(order.issue_date.to_string(), "2026-11-27");
        assert_eq!(order.supplier.code, "PBG-017");
        assert_eq!(order.lines.len(), 2);
        assert_eq!(
            order.buyer.as_ref().and_then(|b| b.name.as_deref()),
            Some("PT Mitra Otoparts")
        );
        assert_eq!(order.lines[1].quantity.to_string(), "300");
        let price = order.lines[1].price.as_ref().unwrap();
        assert_eq!(
            (price.amount.to_string(), price.base_quantity.to_string()),
            ("12500.00".to_owned(), "1".to_owned())
        );
        assert_schema_valid(&[serde_json::to_string(&order).unwrap()]);
    }

    #[test]
    fn an_empty_buyer_name_leaves_the_buyer_to_the_gateway() {
        let order = read_order(&EXAMPLE.replace("PT Mitra Otoparts", "")).unwrap();
        assert_eq!(order.buyer, None);
        assert_schema_valid(&[serde_json::to_string(&order).unwrap()]);
        let header_only = EXAMPLE.lines().next().unwrap();
        assert_eq!(read_order(header_only).unwrap_err().code, "no-lines");
    }

    #[test]
    fn errors_name_the_row_and_column() {
        let broken = EXAMPLE.replace("150,H87", "many,H87");
        let err = read_order(&broken).unwrap_err();
        assert_eq!(err.code, "invalid-value");
        assert!(err.message.contains("row 2, quantity"), "{}", err.message);
    }
}
