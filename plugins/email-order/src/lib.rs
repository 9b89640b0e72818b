//! Stock plugin `email-order`: orders that arrive by e-mail, to canonical
//! purchase orders (v2).
//!
//! The gateway hands it the parsed mail (`email`: subject, sender, text, every
//! attachment). It reads, in this order, each that the buyer's config allows:
//!
//! - an XML or EDI file attached (UBL, cXML, X12 850, EDIFACT ORDERS), by the
//!   stock plugin of its format, used as a library: a buyer who mails the file
//!   their system exports gets exactly the orders that posting it gives, with
//!   that plugin's refusals and warnings (its config is `formats.<plugin>`);
//! - a CSV or XLSX attachment, and else
//! - an order table typed in the body: columns split by `|`, tabs, or runs of
//!   two or more spaces; header words in Bahasa Indonesia or English (`Kode`,
//!   `Nama Barang`, `Jumlah`, `Satuan`, `Harga` … `Code`, `Description`,
//!   `Qty`, `Unit`, `Price`); numbers written the Indonesian way by default
//!   (`Rp 1.250.000,00`; `number_format: "en"` for `1,250,000.00`) and dates as
//!   `27/11/2026`, `27-11-2026`, `2026-11-27` or `27 November 2026` (months in
//!   either language).
//!
//! A table's order number, date, delivery date and supplier come from `Key:
//! value` lines of the body (`No. PO`, `Tanggal`, `Tanggal Kirim`, `Supplier` …,
//! or their English words), else from the subject (a word like `PO-2026-0042`)
//! and the mail's `Date`. Each table or file is its own transaction, numbered
//! in the order read, with the file's name as its control number, so one bad
//! attachment is refused alone. A mail with none of these is refused whole
//! (`no-order-found`), saying what was looked for.

mod body;
mod dates;
mod files;
mod table;

use jembatan_plugin_sdk::{
    Info, Message, Normalized, Plugin, PluginError, check_defaults, check_not_blank, parse_config,
};
use serde::Deserialize;

/// The plugin; see the crate documentation.
pub struct EmailOrder;

/// Which parts of a mail are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    /// A table typed in the body.
    Body,
    Csv,
    Xlsx,
    /// UBL or cXML attached.
    Xml,
    /// X12 or EDIFACT attached.
    Edi,
}

/// How numbers are written in the body and in CSV files.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
pub enum NumberStyle {
    /// `1.250.000,50` (the default).
    #[default]
    #[serde(rename = "id")]
    Indonesian,
    /// `1,250,000.50`.
    #[serde(rename = "en")]
    English,
}

/// The buyer's plugin config.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The supplier code of a table's order when the mail names none.
    pub supplier_code: Option<String>,
    /// The currency of a table's prices; IDR if absent.
    pub default_currency: Option<String>,
    /// The unit of a table row without one; H87 (piece) if absent.
    pub default_unit: Option<String>,
    /// What a table's unit words mean, beside the built-in ones (`pcs`, `buah`,
    /// `kg`, `set`, `meter` …): `{"lonjor": "H87"}`.
    #[serde(default)]
    pub units: std::collections::BTreeMap<String, String>,
    /// How numbers are written: `id` (default) or `en`.
    #[serde(default)]
    pub number_format: NumberStyle,
    /// Which parts to read; every one if absent.
    pub read: Option<Vec<Source>>,
    /// The config given to the stock plugin that reads an attached file, by its
    /// name: `{"ubl-order": {"default_unit": "H87"}}`.
    #[serde(default)]
    pub formats: std::collections::BTreeMap<String, serde_json::Value>,
}

impl Config {
    fn parse(text: &str) -> Result<Self, PluginError> {
        let config: Self = parse_config(text)?;
        check_defaults(
            config.default_currency.as_deref(),
            config.default_unit.as_deref(),
        )?;
        check_not_blank([("supplier_code", &config.supplier_code)])?;
        Ok(config)
    }

    fn reads(&self, source: Source) -> bool {
        self.read.as_ref().is_none_or(|read| read.contains(&source))
    }
}

impl Plugin for EmailOrder {
    fn info() -> Info {
        Info {
            name: "email-order",
            version: env!("CARGO_PKG_VERSION"),
            description: "Orders by e-mail: a table in the body, a CSV or XLSX attachment, or an attached UBL, cXML, X12 or EDIFACT file.",
            content_types: &["message/rfc822"],
        }
    }

    fn check_config(config: &str) -> Result<(), PluginError> {
        Config::parse(config).map(drop)
    }

    fn normalize(message: &Message, config: &str) -> Result<Normalized, PluginError> {
        let config = Config::parse(config)?;
        let email = message.email.as_ref().ok_or_else(|| {
            PluginError::new(
                "not-an-email",
                "this plugin reads orders that came by e-mail; the message has no e-mail parts",
            )
        })?;
        let context = body::Context::read(email, &config);
        let mut out = files::read_attachments(email, &config, &context)?;
        if out.transactions.is_empty()
            && config.reads(Source::Body)
            && let Some(text) = &email.text
            && let Some(transaction) = body::read_table(text, &config, &context)
        {
            out.transactions.push(transaction);
        }
        if out.transactions.is_empty() {
            return Err(PluginError::new(
                "no-order-found",
                "no order was found in this e-mail: no order table in its text (a header row \
                 with columns such as Kode | Nama Barang | Jumlah | Satuan | Harga) and no \
                 order file attached (CSV, XLSX, UBL or cXML XML, X12 or EDIFACT)",
            ));
        }
        for (index, transaction) in out.transactions.iter_mut().enumerate() {
            transaction.id.index = index as u32;
        }
        Ok(out)
    }
}

#[cfg(feature = "component")]
jembatan_plugin_sdk::export_plugin!(EmailOrder);

#[cfg(test)]
mod tests;
