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
//! Change [`SEPARATOR`], the column names and [`read_order`] to read your buyer's
//! format; keep the shape: one function from the message to canonical orders,
//! errors that say what and where. Test with `cargo test`, then see the guide
//! (`plugins/README.md`) to build, try, upload and bind it.

use jembatan_plugin_sdk::values::{date, decimal, unit};
use jembatan_plugin_sdk::{
    Info, Message, OrderLine, Party, Plugin, PluginError, PurchaseOrder, Supplier,
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

    fn normalize(message: &Message, _config: &str) -> Result<Vec<PurchaseOrder>, PluginError> {
        let text = std::str::from_utf8(&message.body).map_err(|e| {
            PluginError::at_offset(
                "not-utf8",
                "the file is not UTF-8 text",
                &message.body,
                e.valid_up_to(),
            )
        })?;
        Ok(vec![read_order(text)?])
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

    let mut order: Option<PurchaseOrder> = None;
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
        let order = order.get_or_insert(PurchaseOrder {
            buyer_order_number: cell(po)?.to_owned(),
            issue_date: date(cell(issued)?).map_err(|e| bad(issued, e))?,
            currency: jembatan_plugin_sdk::DEFAULT_CURRENCY.to_owned(),
            buyer: Party {
                name: cell(buyer)?.to_owned(),
                ..Default::default()
            },
            supplier: Supplier {
                code: cell(supplier)?.to_owned(),
                name: None,
            },
            delivery: None,
            lines: Vec::new(),
            notes: Vec::new(),
            totals: None,
        });
        order.lines.push(OrderLine {
            line_number: cell(line)?.to_owned(),
            buyer_item_code: Some(cell(item)?.to_owned()),
            supplier_item_code: None,
            description: cells
                .get(description)
                .filter(|d| !d.is_empty())
                .map(|d| d.to_string()),
            quantity: decimal(cell(quantity)?).map_err(|e| bad(quantity, e))?,
            unit: unit(cell(unit_code)?).map_err(|e| bad(unit_code, e))?,
            unit_price: Some(decimal(cell(price)?).map_err(|e| bad(price, e))?),
            line_total: None,
            requested_date: None,
            note: None,
        });
    }
    order.ok_or_else(|| PluginError::new("no-lines", "the file has a header but no rows"))
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
        assert_eq!(order.lines[1].quantity.to_string(), "300");
        assert_eq!(order.lines[1].unit_price.unwrap().to_string(), "12500.00");
        assert_schema_valid(&[serde_json::to_string(&order).unwrap()]);
    }

    #[test]
    fn errors_name_the_row_and_column() {
        let broken = EXAMPLE.replace("150,H87", "many,H87");
        let err = read_order(&broken).unwrap_err();
        assert_eq!(err.code, "invalid-value");
        assert!(err.message.contains("row 2, quantity"), "{}", err.message);
    }
}
