//! Buyer plugin `buyer-mitra-otoparts`: the worked example for plugin authors.
//!
//! PT Mitra Otoparts (Jakarta) sends purchase orders as its own XML, with
//! Indonesian element names, `dd-mm-yyyy` dates and rupiah amounts written the
//! Indonesian way (`Rp 185.000,00`). Copy this crate to write a plugin for a
//! buyer of your own: the format is known to the code, while everything that is
//! about *this buyer's business* (which supplier codes mean which craftsman,
//! which item is which part, what its units are) lives in the plugin config, so
//! it changes without a new plugin version. See `config.example.json`.
//!
//! # Mapping (element → canonical field)
//!
//! The orders are canonical order v2 (`schemas/purchase-order-v2.schema.json`).
//!
//! | `PesananPembelian/…` | canonical |
//! |---|---|
//! | (the plugin) | `source`: `format` `buyer-mitra-otoparts`, `syntax` `PesananPembelian XML` |
//! | `NomorPO`, `TanggalPO` (dd-mm-yyyy), `MataUang` (else config `default_currency`, else IDR) | `buyer_order_number`, `issue_date`, `currency` |
//! | `Pembeli@kode`, `NPWP`; `Pembeli/Nama`; `Kontak`, `Telepon`, `Email` | `buyer.ids[]` (scheme `UNSPECIFIED`, `TAX`); `buyer.name`; `buyer.contacts[0]` |
//! | `Pemasok@kode` through config `supplier_map`; `Pemasok` text | `supplier.code`, `supplier.name` |
//! | `Pengiriman/TanggalKirim`; `Pengiriman/AlamatKirim`: `Jalan`, `Kelurahan`, `Kota`, `Provinsi`, `KodePos`, `Negara` | `delivery.requested_date`, `delivery.location.address` |
//! | each `Catatan` | `notes[].text` |
//! | `Ringkasan/SubTotal`, `PPN`, `GrandTotal` | `totals.line_extension`, `.tax_total`, `.payable` |
//! | each `DaftarBarang/Barang`: `@no` (else its position), `KodeBarang` (and through config `item_map`), `NamaBarang`, `Jumlah`, `Jumlah@satuan` through config `unit_map`, `HargaSatuan`, `JumlahHarga`, `TanggalKirim`, `Keterangan` | `line_number`, `item.ids[]` role `buyer` (and role `supplier`), `item.name`, `quantity`, `unit`, `price` (`amount`, `base_quantity` 1), `line_total`, `delivery.requested_date`, `notes[]` |
//!
//! # Errors
//!
//! A message is one order, so one transaction (`Ok(order.into())`), and any
//! error refuses the whole message: `malformed-xml`, `not-an-order`, `missing-field` and `invalid-value` with the
//! element path (`/PesananPembelian/DaftarBarang/Barang[2]/Jumlah`); a supplier
//! code or unit the config does not map is an `invalid-value` naming the config
//! key to extend; `invalid-config`.

mod draft;

use std::collections::BTreeMap;

use jembatan_plugin_sdk::draft::note;
use jembatan_plugin_sdk::values::{NumberFormat, country, currency, localized_decimal, unit};
use jembatan_plugin_sdk::xml::{XmlEvent, XmlReader, attribute};
use jembatan_plugin_sdk::{
    Info, Message, NaiveDate, Normalized, Plugin, PluginError, PurchaseOrder, parse_config,
};
use serde::Deserialize;

use crate::draft::{Draft, LineDraft};

/// The buyer's plugin config: what this buyer's codes mean.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The buyer's supplier code (`Pemasok@kode`) → the code the gateway routes on.
    #[serde(default)]
    pub supplier_map: BTreeMap<String, String>,
    /// The buyer's item code (`KodeBarang`) → the craftsman's part number.
    #[serde(default)]
    pub item_map: BTreeMap<String, String>,
    /// The buyer's unit (`Jumlah@satuan`) → UN/ECE Rec 20 code.
    #[serde(default)]
    pub unit_map: BTreeMap<String, String>,
    /// Currency when the order has no `MataUang`; IDR if absent.
    pub default_currency: Option<String>,
}

/// The plugin.
pub struct MitraOtoparts;

impl Plugin for MitraOtoparts {
    fn info() -> Info {
        Info {
            name: "buyer-mitra-otoparts",
            version: env!("CARGO_PKG_VERSION"),
            description: "PT Mitra Otoparts' own XML purchase orders (PesananPembelian).",
            content_types: &["application/xml"],
        }
    }

    fn check_config(config: &str) -> Result<(), PluginError> {
        check_config(&parse_config(config)?)
    }

    fn normalize(message: &Message, config: &str) -> Result<Normalized, PluginError> {
        let config: Config = parse_config(config)?;
        check_config(&config)?;
        Ok(read_order(&message.body, &config)?.into())
    }
}

jembatan_plugin_sdk::export_plugin!(MitraOtoparts);

/// Refuses a config that would only fail later, naming the key.
fn check_config(config: &Config) -> Result<(), PluginError> {
    let invalid = |key: String, problem: String| {
        PluginError::new("invalid-config", format!("{key}: {problem}")).at_path(format!("/{key}"))
    };
    for (from, to) in &config.unit_map {
        unit(to).map_err(|e| invalid(format!("unit_map/{from}"), e))?;
    }
    for (from, to) in config.supplier_map.iter().chain(&config.item_map) {
        if to.trim().is_empty() {
            return Err(invalid(from.clone(), "maps to an empty code".to_owned()));
        }
    }
    if let Some(code) = &config.default_currency {
        currency(code).map_err(|e| invalid("default_currency".to_owned(), e))?;
    }
    Ok(())
}

/// One pass over the document. `path` is the element path without line
/// numbers (`PesananPembelian/DaftarBarang/Barang/Jumlah`), so each field is one
/// match arm that reads like the document.
fn read_order(body: &[u8], config: &Config) -> Result<PurchaseOrder, PluginError> {
    let rupiah = NumberFormat::indonesian();
    let body = &*jembatan_plugin_sdk::xml::utf8(body)?;
    let mut xml = XmlReader::new(body);
    let mut path = String::new();
    let mut order = Draft::default();
    while let Some(event) = xml.next()? {
        match event {
            XmlEvent::Start {
                element,
                local,
                depth,
                offset,
                ..
            } => {
                if depth == 1 && local != "PesananPembelian" {
                    return Err(PluginError::new(
                        "not-an-order",
                        format!("the root element is <{local}>; expected <PesananPembelian>"),
                    )
                    .at_path(format!("/{local}")));
                }
                if depth > 1 {
                    path.push('/');
                }
                path.push_str(local);
                let attr = |name: &str| {
                    attribute(element, name)
                        .map_err(|e| order.invalid(&path, Some(name), e, body, offset))
                        .map(|v| v.map(|v| v.trim().to_owned()))
                };
                match path.as_str() {
                    "PesananPembelian/Pembeli" => order.buyer_id = attr("kode")?,
                    "PesananPembelian/Pemasok" => order.supplier_code = attr("kode")?,
                    "PesananPembelian/DaftarBarang/Barang" => {
                        // Without `@no` the SDK numbers the line by its position.
                        let number = attr("no")?.filter(|n| !n.is_empty());
                        order.lines.push(LineDraft {
                            number,
                            offset,
                            ..LineDraft::default()
                        });
                    }
                    "PesananPembelian/DaftarBarang/Barang/Jumlah" => {
                        if let Some(satuan) = attr("satuan")? {
                            let code = config.unit_map.get(&satuan).ok_or_else(|| {
                                let problem = format!(
                                    "unit {satuan:?} is not in the plugin config's unit_map"
                                );
                                order.invalid(&path, Some("satuan"), problem, body, offset)
                            })?;
                            order.line().unit = Some(code.clone());
                        }
                    }
                    _ => {}
                }
            }
            XmlEvent::End {
                text, text_offset, ..
            } => {
                let text = text.trim();
                let at = |problem: String| order.invalid(&path, None, problem, body, text_offset);
                let amount = |text: &str| localized_decimal(text, &rupiah).map_err(at);
                let value = || Some(text.to_owned());
                match path.as_str() {
                    _ if text.is_empty() => {}
                    "PesananPembelian/NomorPO" => order.number = value(),
                    "PesananPembelian/TanggalPO" => order.date = Some(date(text).map_err(at)?),
                    "PesananPembelian/MataUang" => {
                        order.currency = Some(currency(text).map_err(at)?)
                    }
                    "PesananPembelian/Pembeli/Nama" => order.buyer.name = value(),
                    "PesananPembelian/Pembeli/NPWP" => order.buyer_tax_id = value(),
                    "PesananPembelian/Pembeli/Kontak" => order.contact().name = value(),
                    "PesananPembelian/Pembeli/Telepon" => order.contact().phone = value(),
                    "PesananPembelian/Pembeli/Email" => order.contact().email = value(),
                    "PesananPembelian/Pemasok" => order.supplier_name = value(),
                    "PesananPembelian/Pengiriman/TanggalKirim" => {
                        order.delivery_date = Some(date(text).map_err(at)?)
                    }
                    "PesananPembelian/Pengiriman/AlamatKirim/Jalan" => {
                        order.address.street = value()
                    }
                    "PesananPembelian/Pengiriman/AlamatKirim/Kelurahan" => {
                        order.address.additional_street = value()
                    }
                    "PesananPembelian/Pengiriman/AlamatKirim/Kota" => order.address.city = value(),
                    "PesananPembelian/Pengiriman/AlamatKirim/Provinsi" => {
                        order.address.region = value()
                    }
                    "PesananPembelian/Pengiriman/AlamatKirim/KodePos" => {
                        order.address.postal_code = value()
                    }
                    "PesananPembelian/Pengiriman/AlamatKirim/Negara" => {
                        order.address.country = Some(country(text).map_err(at)?)
                    }
                    "PesananPembelian/Catatan" => order.notes.extend(note(text)),
                    "PesananPembelian/Ringkasan/SubTotal" => {
                        order.totals.line_extension = Some(amount(text)?)
                    }
                    "PesananPembelian/Ringkasan/PPN" => {
                        order.totals.tax_total = Some(amount(text)?)
                    }
                    "PesananPembelian/Ringkasan/GrandTotal" => {
                        order.totals.payable = Some(amount(text)?)
                    }
                    "PesananPembelian/DaftarBarang/Barang/KodeBarang" => {
                        order.line().code = value()
                    }
                    "PesananPembelian/DaftarBarang/Barang/NamaBarang" => {
                        order.line().name = value()
                    }
                    "PesananPembelian/DaftarBarang/Barang/Jumlah" => {
                        order.line().quantity = Some(amount(text)?)
                    }
                    "PesananPembelian/DaftarBarang/Barang/HargaSatuan" => {
                        order.line().price = Some(amount(text)?)
                    }
                    "PesananPembelian/DaftarBarang/Barang/JumlahHarga" => {
                        order.line().total = Some(amount(text)?)
                    }
                    "PesananPembelian/DaftarBarang/Barang/TanggalKirim" => {
                        order.line().date = Some(date(text).map_err(at)?)
                    }
                    "PesananPembelian/DaftarBarang/Barang/Keterangan" => {
                        order.line().note = value()
                    }
                    _ => {}
                }
                path.truncate(path.rfind('/').unwrap_or(0));
            }
        }
    }
    order.finish(config, body)
}

/// A `dd-mm-yyyy` date, as Mitra Otoparts writes them.
fn date(text: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(text, "%d-%m-%Y")
        .ok()
        .filter(|_| text.len() == 10)
        .ok_or_else(|| format!("{text:?} is not a date written dd-mm-yyyy, like 03-11-2026"))
}

#[cfg(test)]
mod tests;
