//! UN/EDIFACT ORDERS interchanges (D96A, EAN008) for `edifact-orders`, in the
//! shape of its `edifact-d96a-10-lines.edi` fixture.

use super::{
    BUYER_ID, BUYER_NAME, ORDER_NUMBER, SUPPLIER_CODE, SUPPLIER_NAME, decimal, lines, subtotal,
};

/// Interchange reference (UNB 0020, repeated by UNZ) and message reference (UNH
/// 0062, repeated by UNT).
const INTERCHANGE_REF: &str = "MO20261127001";
const MESSAGE_REF: &str = "1";

/// One interchange holding one ORDERS message of `count` LIN groups. Every count
/// is right: UNT (UNH to UNT), CNT+2 (LINs), UNZ (messages).
pub fn interchange(count: usize) -> Vec<u8> {
    let mut edi = format!(
        "UNA:+.? '\nUNB+UNOC:3+8991234500024:14+JEMBATAN:ZZZ+261127:0800+{INTERCHANGE_REF}'\n"
    );
    let mut message = Message::default();
    message.segment(format!("UNH+{MESSAGE_REF}+ORDERS:D:96A:UN:EAN008"));
    message.segment(format!("BGM+220+{}+9", text(ORDER_NUMBER)));
    message.segment("DTM+137:20261127:102");
    message.segment("DTM+2:20261210:102");
    message.segment("FTX+AAI+++Kirim dengan surat jalan rangkap tiga");
    message.segment(format!(
        "NAD+BY+{}::92++{}+Jl. Industri Raya No. 5+Bekasi+Jawa Barat+17520+ID",
        text(BUYER_ID),
        text(BUYER_NAME),
    ));
    message.segment("RFF+VA:02.345.678.9-407.000");
    message.segment("CTA+OC+:Sari Handayani");
    message.segment("COM+?+62 21 8250 1144:TE");
    message.segment("COM+purchasing@mitraotoparts.co.id:EM");
    message.segment(format!(
        "NAD+SU+{}::92++{}+Jl. Raya Bojongsari No. 17+Purbalingga++53362+ID",
        text(SUPPLIER_CODE),
        text(SUPPLIER_NAME),
    ));
    message.segment(
        "NAD+DP+MO-CKR::92++Gudang Cikarang PT Mitra Otoparts+Kawasan Industri Jababeka II:Jl. Industri Selatan 5 Blok PP No. 3+Kabupaten Bekasi+Jawa Barat+17530+ID",
    );
    message.segment("CUX+2:IDR:9");
    for line in lines(count) {
        message.segment(format!(
            "LIN+{}++{}:SA",
            line.number,
            text(&line.supplier_item)
        ));
        message.segment(format!("PIA+5+{}:IN", text(&line.buyer_item)));
        message.segment(format!("IMD+F++:::{}", text(line.description)));
        // EDIFACT units are Rec 20 already; pieces come as the older PCE, as
        // in the fixture, which the plugin maps to H87.
        let unit = match line.unit.rec20() {
            "H87" => "PCE",
            unit => unit,
        };
        message.segment(format!("QTY+21:{}:{unit}", line.quantity));
        if line.number.is_multiple_of(5) {
            message.segment("DTM+2:20261210:102");
        }
        message.segment(format!("MOA+203:{}", decimal(line.total() * 100)));
        message.segment(format!("PRI+AAA:{}", line.unit_price));
    }
    let subtotal = subtotal(count);
    message.segment("UNS+S");
    // PPN 11%, exact in sen.
    message.segment(format!("MOA+79:{}", decimal(subtotal * 100)));
    message.segment(format!("MOA+124:{}", decimal(subtotal * 11)));
    message.segment(format!("MOA+86:{}", decimal(subtotal * 111)));
    message.segment(format!("CNT+2:{count}"));
    // UNT counts itself too.
    let segments = message.count + 1;
    edi.push_str(&message.text);
    edi.push_str(&format!(
        "UNT+{segments}+{MESSAGE_REF}'\nUNZ+1+{INTERCHANGE_REF}'\n"
    ));
    edi.into_bytes()
}

/// The segments of one message, counted as they are written.
#[derive(Default)]
struct Message {
    text: String,
    count: usize,
}

impl Message {
    fn segment(&mut self, segment: impl AsRef<str>) {
        self.text.push_str(segment.as_ref());
        self.text.push_str("'\n");
        self.count += 1;
    }
}

/// Data text with the service characters released (`?+`, `?:`, `?'`, `??`).
fn text(data: &str) -> String {
    let mut released = String::with_capacity(data.len());
    for c in data.chars() {
        if matches!(c, '?' | '+' | ':' | '\'') {
            released.push('?');
        }
        released.push(c);
    }
    released
}
