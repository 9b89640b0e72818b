//! ANSI X12 850 interchanges (version 004010) for `x12-850`, in the shape of its
//! `x12-4010-10-lines.edi` fixture.

use super::{
    BUYER_ID, BUYER_NAME, ORDER_NUMBER, SUPPLIER_CODE, SUPPLIER_NAME, decimal, lines, subtotal,
};

/// Interchange (ISA13), group (GS06) and transaction set (ST02) control numbers;
/// the closing IEA, GE and SE must repeat them.
const INTERCHANGE_CONTROL: &str = "000000917";
const GROUP_CONTROL: &str = "917";
const SET_CONTROL: &str = "0001";

/// One interchange, one PO group, one 850 of `count` PO1 loops. Every envelope
/// count is right: SE01 (ST to SE), CTT01 (PO1s), GE01 (sets), IEA01 (groups).
pub fn interchange(count: usize) -> Vec<u8> {
    let mut edi = format!(
        "ISA*00*{:10}*00*{:10}*ZZ*{:<15}*ZZ*{:<15}*261127*0800*U*00401*{INTERCHANGE_CONTROL}*0*P*>~\n\
         GS*PO*MITRAOTO*JEMBATAN*20261127*0800*{GROUP_CONTROL}*X*004010~\n",
        "", "", "MITRAOTO", "JEMBATAN",
    );
    let mut set = TransactionSet::default();
    set.segment(format!("ST*850*{SET_CONTROL}"));
    set.segment(format!("BEG*00*SA*{ORDER_NUMBER}**20261127"));
    set.segment("CUR*BY*IDR");
    set.segment("REF*DP*PURCHASING-02");
    set.segment("PER*BD*Sari Handayani*TE*+62 21 8250 1144*EM*purchasing@mitraotoparts.co.id");
    set.segment("DTM*002*20261210");
    set.segment("N9*L1*INSTRUKSI");
    set.segment("MSG*Kirim dengan surat jalan rangkap tiga");
    set.segment(format!("N1*BY*{BUYER_NAME}*92*{BUYER_ID}"));
    set.segment("N3*Jl. Industri Raya No. 5");
    set.segment("N4*Bekasi*Jawa Barat*17520*ID");
    set.segment("REF*TJ*02.345.678.9-407.000");
    set.segment(format!("N1*SE*{SUPPLIER_NAME}*92*{SUPPLIER_CODE}"));
    set.segment("N3*Jl. Raya Bojongsari No. 17");
    set.segment("N4*Purbalingga*Jawa Tengah*53362*ID");
    set.segment("N1*ST*Gudang Cikarang PT Mitra Otoparts*92*MO-CKR");
    set.segment("N3*Kawasan Industri Jababeka II*Jl. Industri Selatan 5 Blok PP No. 3");
    set.segment("N4*Kabupaten Bekasi*Jawa Barat*17530*ID");
    let mut hash_total = 0;
    for line in lines(count) {
        hash_total += line.quantity;
        set.segment(format!(
            "PO1*{}*{}*{}*{}**BP*{}*VP*{}",
            line.number,
            line.quantity,
            line.unit.x12(),
            line.unit_price,
            line.buyer_item,
            line.supplier_item,
        ));
        set.segment(format!("PID*F****{}", line.description));
        if line.number.is_multiple_of(5) {
            set.segment("DTM*002*20261210");
        }
        set.segment(format!("AMT*1*{}", decimal(line.total() * 100)));
    }
    set.segment(format!("CTT*{count}*{hash_total}"));
    set.segment(format!("AMT*TT*{}", decimal(subtotal(count) * 100)));
    // SE counts itself too.
    let segments = set.count + 1;
    edi.push_str(&set.text);
    edi.push_str(&format!(
        "SE*{segments}*{SET_CONTROL}~\nGE*1*{GROUP_CONTROL}~\nIEA*1*{INTERCHANGE_CONTROL}~\n"
    ));
    edi.into_bytes()
}

/// The segments of one transaction set, counted as they are written.
#[derive(Default)]
struct TransactionSet {
    text: String,
    count: usize,
}

impl TransactionSet {
    fn segment(&mut self, segment: impl AsRef<str>) {
        self.text.push_str(segment.as_ref());
        self.text.push_str("~\n");
        self.count += 1;
    }
}
