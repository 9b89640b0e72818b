//! JSON orders: canonical JSON for `canonical-json`, and a buyer ERP's own JSON
//! for `json-map`, mapped by the config of json-map's own fixture.

use std::fmt::Write;

use serde_json::json;

use super::{BUYER_ID, BUYER_NAME, ORDER_NUMBER, SUPPLIER_CODE, SUPPLIER_NAME, lines, subtotal};

/// The smallest order `canonical-json` accepts (one line), from its fixtures:
/// the bench's baseline call.
pub const MINIMAL_CANONICAL: &[u8] =
    include_bytes!("../../../plugins/canonical-json/fixtures/minimal.json");

/// json-map's config for the ERP export below. It is the plugin's own fixture,
/// so the bench maps what the plugin's tests map, with no copy to drift.
pub const MAP_CONFIG: &str =
    include_str!("../../../plugins/json-map/fixtures/json-two-orders.config.json");

/// The same order as canonical JSON.
pub fn canonical_json(lines: usize) -> Vec<u8> {
    let lines: Vec<_> = (1..=lines)
        .map(|n| {
            serde_json::json!({
                "line_number": n.to_string(),
                "buyer_item_code": format!("MO-EXH-{n}"),
                "description": format!("Knalpot tipe {n}"),
                "quantity": (10 + n).to_string(),
                "unit": "H87",
                "unit_price": "185000.00",
                "line_total": format!("{}.00", (10 + n) * 185_000),
            })
        })
        .collect();
    serde_json::to_vec(&serde_json::json!({
        "buyer_order_number": "PO-BENCH-1",
        "issue_date": "2026-11-27",
        "currency": "IDR",
        "buyer": {"name": "PT Mitra Otoparts Indonesia"},
        "supplier": {"code": "PBG-017"},
        "delivery": {"requested_date": "2026-12-10"},
        "lines": lines,
    }))
    .unwrap()
}

/// A buyer ERP's export of one order of `count` lines, in the shape of json-map's
/// `json-two-orders.json` fixture: Indonesian field names, dd/mm/yyyy dates,
/// `Rp 1.250,00` prices and the ERP's own unit codes.
pub fn buyer_erp(count: usize) -> Vec<u8> {
    let items: Vec<_> = lines(count)
        .map(|line| {
            let mut item = json!({
                "no": format!("{:03}", line.number),
                "kode_barang": line.buyer_item,
                "part_no": line.supplier_item,
                "nama": line.description,
                "qty": line.quantity,
                "satuan": line.unit.erp(),
                "harga": format!("Rp {}", rupiah(line.unit_price * 100)),
                "jumlah": rupiah(line.total() * 100),
            });
            if line.number.is_multiple_of(7) {
                item["keterangan"] = json!("Warna hitam doff");
            }
            item
        })
        .collect();
    let subtotal = subtotal(count);
    serde_json::to_vec_pretty(&json!({
        "sumber": "ERP Mitra Otoparts v2",
        "purchase_orders": [{
            "header": {
                "po_no": ORDER_NUMBER,
                "po_date": "27/11/2026",
                "mata_uang": "IDR",
                "tgl_kirim": "10/12/2026",
            },
            "pembeli": {
                "kode": BUYER_ID,
                "nama": BUYER_NAME,
                "npwp": "02.345.678.9-407.000",
                "alamat": {
                    "jalan": "Jl. Industri Raya No. 5",
                    "kota": "Bekasi",
                    "provinsi": "Jawa Barat",
                    "kode_pos": "17520",
                    "negara": "ID",
                },
                "kontak": {
                    "nama": "Ibu Sari Handayani",
                    "telepon": "+62 21 8250 1144",
                    "email": "purchasing@mitraotoparts.co.id",
                },
            },
            "pemasok": {"kode": SUPPLIER_CODE, "nama": SUPPLIER_NAME},
            "kirim_ke": {
                "jalan": "Kawasan Industri Jababeka II",
                "jalan2": "Jl. Industri Selatan 5 Blok PP No. 3",
                "kota": "Bekasi",
                "provinsi": "Jawa Barat",
                "kode_pos": "17530",
                "negara": "ID",
            },
            "catatan": ["Kirim sebelum 10 Desember 2026.", "Sertakan surat jalan & faktur pajak."],
            "ringkasan": {
                // PPN 11%, kept exact by counting in sen.
                "subtotal": rupiah(subtotal * 100),
                "ppn": rupiah(subtotal * 11),
                "total": rupiah(subtotal * 111),
            },
            "barang": items,
        }],
    }))
    .expect("a JSON value serialises")
}

/// An amount in sen as Indonesian text: `1.250.000,50`.
fn rupiah(sen: u64) -> String {
    let whole = (sen / 100).to_string();
    let mut text = String::with_capacity(whole.len() * 4 / 3 + 3);
    for (i, digit) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i).is_multiple_of(3) {
            text.push('.');
        }
        text.push(digit);
    }
    write!(text, ",{:02}", sen % 100).expect("writing to a String");
    text
}

#[cfg(test)]
mod tests {
    use super::rupiah;

    #[test]
    fn rupiah_groups_thousands_and_keeps_sen() {
        assert_eq!(rupiah(0), "0,00");
        assert_eq!(rupiah(125_000), "1.250,00");
        assert_eq!(rupiah(115_000_000), "1.150.000,00");
        assert_eq!(rupiah(411_378_005), "4.113.780,05");
    }
}
