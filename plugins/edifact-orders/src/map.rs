//! One ORDERS message (UNH … UNT) → one canonical order.
//!
//! ORDERS segment groups have no end marker: a NAD group lasts until the next
//! NAD or LIN, a LIN group until the next LIN or UNS. The mapper keeps the area it
//! is in and reads CTA, COM, RFF, DTM, FTX, MOA according to it.

use std::borrow::Cow;

use edi_common::values::{count, country, currency, date_ccyymmdd, date_yymmdd};
use edi_common::{
    Config, Field, LineDraft, OrderDraft, append, error_at, first, item_id, note, party_id,
    set_once,
};
use jembatan_plugin_sdk::{
    Address, Decimal, ItemId, ItemIdRole, NaiveDate, PluginError, Price, PriceKind, PurchaseOrder,
    Purpose, party_scheme,
};

use crate::lex::{Segment, decimal};
use crate::units;

/// Which party a NAD group is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Party {
    Buyer,
    Supplier,
    Delivery,
    Other,
}

/// Where in the message the last group-starting segment put us.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Area {
    Header,
    /// NAD group `n` (1-based).
    Party(Party, usize),
    /// LIN group `n`.
    Line(usize),
    /// After UNS.
    Summary,
}

/// An ORDERS message being read.
pub struct Message {
    /// 1-based position of this UNH in the interchange (`UNH[2]`).
    pub index: usize,
    /// UNH01, which UNT02 must repeat.
    pub reference: String,
    /// Segments so far, UNH included; UNT01 must equal it with UNT counted.
    pub segments: u64,
    decimal_mark: u8,
    area: Area,
    parties: usize,
    /// Whether the current line's price is a net price (PRI AAA), which wins over
    /// a gross one (AAB) whatever their order.
    net_price: bool,
    draft: OrderDraft,
}

impl Message {
    /// Starts reading after an ORDERS UNH.
    pub fn new(index: usize, reference: String, decimal_mark: u8) -> Self {
        let mut draft = OrderDraft::new("edifact-orders", "EDIFACT");
        draft.source.control_number = (!reference.is_empty()).then(|| reference.clone());
        Self {
            index,
            reference,
            segments: 1,
            decimal_mark,
            area: Area::Header,
            parties: 0,
            net_price: false,
            draft,
        }
    }

    /// `UNH[1]/LIN[3]/QTY/6060`: the current group, the segment and the data element.
    fn path(&self, tag: &str, element: &str) -> String {
        let unh = self.index;
        let group = match self.area {
            Area::Header | Area::Summary => format!("UNH[{unh}]"),
            Area::Party(_, n) => format!("UNH[{unh}]/NAD[{n}]"),
            Area::Line(n) => format!("UNH[{unh}]/LIN[{n}]"),
        };
        let segment = if matches!(
            (tag, self.area),
            ("NAD", Area::Party(..)) | ("LIN", Area::Line(_))
        ) {
            group
        } else {
            format!("{group}/{tag}")
        };
        format!("{segment}/{element}")
    }

    /// Component `c` of element `e` read with `read`; `None` when empty.
    /// `id` names the data element (`6060`) for the error path.
    fn value<T>(
        &self,
        seg: &Segment<'_>,
        (e, c, id): (usize, usize, &str),
        body: &[u8],
        read: impl Fn(&str) -> Result<T, String>,
    ) -> Result<Option<T>, PluginError> {
        let Some(text) = seg.opt(e, c) else {
            return Ok(None);
        };
        read(&text).map(Some).map_err(|m| {
            let path = self.path(seg.tag(), id);
            error_at(
                "invalid-value",
                format!("{path}: {m}"),
                body,
                seg.offset_of(e, c, body),
                path,
            )
        })
    }

    fn amount(
        &self,
        seg: &Segment<'_>,
        at: (usize, usize, &str),
        body: &[u8],
    ) -> Result<Option<Decimal>, PluginError> {
        let mark = self.decimal_mark;
        self.value(seg, at, body, |t| decimal(t, mark))
    }

    fn line(&mut self) -> Option<&mut LineDraft> {
        match self.area {
            Area::Line(_) => self.draft.lines.last_mut(),
            _ => None,
        }
    }

    /// Reads one segment between UNH and UNT.
    pub fn segment(
        &mut self,
        seg: &Segment<'_>,
        body: &[u8],
        config: &Config,
    ) -> Result<(), PluginError> {
        self.segments += 1;
        match seg.tag() {
            "BGM" => self.bgm(seg, body)?,
            "DTM" => self.dtm(seg, body)?,
            "CUX" => {
                // CUX starts a header group of its own; the NAD group before it is over.
                if let Area::Party(..) = self.area {
                    self.area = Area::Header;
                }
                if self.draft.currency.is_none() {
                    self.draft.currency = self.value(seg, (1, 2, "6345"), body, currency)?;
                }
            }
            "FTX" => {
                let text = (1..=5)
                    .filter_map(|c| seg.opt(4, c))
                    .collect::<Vec<_>>()
                    .join(" ");
                let Some(note) = note(&text) else {
                    return Ok(());
                };
                match self.line() {
                    Some(line) => line.notes.push(note),
                    None => self.draft.notes.push(note),
                }
            }
            "NAD" => self.nad(seg, body)?,
            "RFF" => {
                // VAT registration number (NPWP) in the buyer's NAD group.
                if let (Area::Party(Party::Buyer, _), "VA", Some(id)) =
                    (self.area, &*seg.text(1, 1), seg.opt(1, 2))
                {
                    let ids = &mut self.draft.buyer.ids;
                    if !ids.iter().any(|id| id.scheme == party_scheme::TAX) {
                        ids.push(party_id(party_scheme::TAX, &id));
                    }
                }
            }
            "CTA" | "COM" => self.contact(seg),
            "LIN" => self.lin(seg),
            "PIA" => {
                for e in 2..=seg.elements() {
                    self.item_id(seg, e);
                }
            }
            "IMD" => {
                let text = [seg.opt(3, 4), seg.opt(3, 5)]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(" ");
                if let Some(line) = self.line() {
                    append(&mut line.item.description, &text, "\n");
                }
            }
            "QTY" => self.qty(seg, body, config)?,
            "PRI" => self.pri(seg, body)?,
            "MOA" => self.moa(seg, body)?,
            "UNS" => self.area = Area::Summary,
            "CNT" => self.cnt(seg, body)?,
            _ => {}
        }
        Ok(())
    }

    fn bgm(&mut self, seg: &Segment<'_>, body: &[u8]) -> Result<(), PluginError> {
        match &*seg.text(3, 1) {
            // A cancellation or deletion read as an order would be produced as a new order.
            code @ ("1" | "3") => {
                let path = self.path("BGM", "1225");
                return Err(error_at(
                    "unsupported-purpose",
                    format!(
                        "{path}: the message function is {code} (cancellation or deletion); this plugin reads new orders only"
                    ),
                    body,
                    seg.offset_of(3, 1, body),
                    path,
                ));
            }
            "5" => self.draft.purpose = Some(Purpose::Replace),
            _ => {}
        }
        if let Some(number) = seg.opt(2, 1) {
            set_once(&mut self.draft.number, number.into_owned());
        }
        Ok(())
    }

    fn dtm(&mut self, seg: &Segment<'_>, body: &[u8]) -> Result<(), PluginError> {
        let qualifier = seg.text(1, 1);
        if !matches!(&*qualifier, "137" | "4" | "2") {
            return Ok(());
        }
        let format = seg.text(1, 3);
        let Some(date) = self.value(seg, (1, 2, "2380"), body, |t| date(t, &format))? else {
            return Ok(());
        };
        match (&*qualifier, self.area) {
            // 137 document date; 4 (order date) from senders that write that instead.
            ("137" | "4", _) => set_once(&mut self.draft.issue_date, date),
            (_, Area::Line(_)) => {
                if let Some(line) = self.draft.lines.last_mut() {
                    set_once(&mut line.delivery.requested_date, date);
                }
            }
            _ => set_once(&mut self.draft.delivery.requested_date, date),
        }
        Ok(())
    }

    fn nad(&mut self, seg: &Segment<'_>, body: &[u8]) -> Result<(), PluginError> {
        self.parties += 1;
        let party = match &*seg.text(1, 1) {
            "BY" => Party::Buyer,
            "SU" => Party::Supplier,
            "DP" | "ST" => Party::Delivery,
            _ => Party::Other,
        };
        self.area = Area::Party(party, self.parties);
        let joined = |e: usize, n: usize| {
            let text = (1..=n)
                .filter_map(|c| seg.opt(e, c))
                .collect::<Vec<_>>()
                .join(" ");
            (!text.is_empty()).then_some(text)
        };
        let id = seg.opt(2, 1).map(Cow::into_owned);
        // C080 party name, else the unstructured C058 name-and-address lines.
        let name = joined(4, 5).or_else(|| joined(3, 5));
        let country = self.value(seg, (9, 1, "3207"), body, country)?;
        let address = Address {
            street: seg.opt(5, 1).map(Cow::into_owned),
            additional_street: {
                let rest = (2..=4)
                    .filter_map(|c| seg.opt(5, c))
                    .collect::<Vec<_>>()
                    .join(", ");
                (!rest.is_empty()).then_some(rest)
            },
            city: seg.opt(6, 1).map(Cow::into_owned),
            // C819: the name (3228, D01B) reads better than the code (3229).
            region: seg.opt(7, 4).or_else(|| seg.opt(7, 1)).map(Cow::into_owned),
            postal_code: seg.opt(8, 1).map(Cow::into_owned),
            country,
            ..Address::default()
        };
        let draft = &mut self.draft;
        match party {
            Party::Buyer if draft.buyer.name.is_none() => {
                // The party id (C082 3039); its code list (3055) is not mapped yet.
                if let Some(id) = id {
                    draft
                        .buyer
                        .ids
                        .insert(0, party_id(party_scheme::UNSPECIFIED, &id));
                }
                draft.buyer.name = name;
                draft.buyer.address = Some(address);
            }
            Party::Supplier if draft.supplier_code.is_none() => {
                draft.supplier_code = id;
                draft.supplier.name = name;
            }
            Party::Delivery if draft.delivery.location.is_none() => {
                *draft.delivery_address() = address;
            }
            _ => {}
        }
        Ok(())
    }

    fn contact(&mut self, seg: &Segment<'_>) {
        if !matches!(self.area, Area::Party(Party::Buyer, _)) {
            return;
        }
        let contact = first(&mut self.draft.buyer.contacts);
        if seg.tag() == "CTA" {
            if let Some(name) = seg.opt(2, 2) {
                set_once(&mut contact.name, name.into_owned());
            }
            return;
        }
        let Some(number) = seg.opt(1, 1) else { return };
        match &*seg.text(1, 2) {
            "TE" => set_once(&mut contact.phone, number.into_owned()),
            "EM" => set_once(&mut contact.email, number.into_owned()),
            _ => {}
        }
    }

    fn lin(&mut self, seg: &Segment<'_>) {
        self.area = Area::Line(self.draft.lines.len() + 1);
        self.net_price = false;
        self.draft.lines.push(LineDraft {
            offset: seg.offset,
            number: seg.opt(1, 1).map(Cow::into_owned),
            ..LineDraft::default()
        });
        self.item_id(seg, 3);
    }

    /// A C212 item number in element `e`: `7140:7143`.
    fn item_id(&mut self, seg: &Segment<'_>, e: usize) {
        let (Some(id), kind) = (seg.opt(e, 1), seg.text(e, 2)) else {
            return;
        };
        let Some(line) = self.line() else { return };
        let (role, scheme) = match &*kind {
            "SA" | "VN" | "VP" => (ItemIdRole::Supplier, None),
            "IN" | "BP" => (ItemIdRole::Buyer, None),
            // UNCL 7143 (https://stedi.com/edi/edifact/D16B/elements/7143): EN
            // (EAN, now GTIN) and SRV (GS1 Global Trade Item Number) are both GTINs
            // (docs/canonical-order-v2.md §4.4), UP a UPC, IB an ISBN; they name the
            // article for buyer and supplier alike.
            "EN" | "SRV" => (ItemIdRole::Standard, Some("GTIN")),
            "UP" => (ItemIdRole::Standard, Some("UPC")),
            "IB" => (ItemIdRole::Standard, Some("ISBN")),
            _ => return,
        };
        // One id per role and scheme, the first: a buyer's and a supplier's
        // number, a GTIN, a UPC, an ISBN. The other item types (7143) are not
        // mapped yet.
        let ids = &mut line.item.ids;
        if ids
            .iter()
            .any(|i| i.role == role && i.scheme.as_deref() == scheme)
        {
            return;
        }
        ids.push(ItemId {
            scheme: scheme.map(str::to_owned),
            // The sender's 7143 code where the scheme is a normalised name.
            qualifier: scheme.map(|_| kind.into_owned()),
            ..item_id(role, &id)
        });
    }

    fn qty(&mut self, seg: &Segment<'_>, body: &[u8], config: &Config) -> Result<(), PluginError> {
        // 21 ordered quantity; 1 (discrete quantity) from senders that write that instead.
        if !matches!(&*seg.text(1, 1), "21" | "1") || !matches!(self.area, Area::Line(_)) {
            return Ok(());
        }
        let quantity = self.amount(seg, (1, 2, "6060"), body)?;
        let unit = match seg.opt(1, 3) {
            None => None,
            Some(code) => {
                let unit = config.mapped_unit(&code).or_else(|| units::rec20(&code));
                let Some(unit) = unit else {
                    let path = self.path("QTY", "6411");
                    return Err(error_at(
                        "unknown-unit",
                        format!(
                            "{path}: the unit {code:?} is not a UN/ECE Rec 20 code; \
                             map it in the plugin config, e.g. {{\"unit_map\": {{\"{code}\": \"H87\"}}}}"
                        ),
                        body,
                        seg.offset_of(1, 3, body),
                        path,
                    ));
                };
                Some(unit.to_owned())
            }
        };
        if let Some(line) = self.line() {
            line.quantity = line.quantity.or(quantity);
            line.unit = line.unit.take().or(unit);
        }
        Ok(())
    }

    fn pri(&mut self, seg: &Segment<'_>, body: &[u8]) -> Result<(), PluginError> {
        let net = match &*seg.text(1, 1) {
            "AAA" => true,
            "AAB" => false,
            _ => return Ok(()),
        };
        let Some(price) = self.amount(seg, (1, 2, "5118"), body)? else {
            return Ok(());
        };
        // 5284 is how many units the price is for (e.g. per 100 pieces); the
        // price is kept as stated, never divided.
        let basis = self
            .amount(seg, (1, 5, "5284"), body)?
            .filter(|basis| !basis.is_zero());
        let price = Price {
            amount: price,
            base_quantity: basis.unwrap_or(Decimal::ONE),
            base_unit: None,
            base_unit_original: None,
            kind: Some(if net {
                PriceKind::Net
            } else {
                PriceKind::Gross
            }),
            basis_code: None,
        };
        let replace = net && !self.net_price;
        if let Some(line) = self.line() {
            if replace || line.price.is_none() {
                line.price = Some(price);
            }
            self.net_price |= net;
        }
        Ok(())
    }

    fn moa(&mut self, seg: &Segment<'_>, body: &[u8]) -> Result<(), PluginError> {
        let qualifier = seg.text(1, 1);
        if !matches!(&*qualifier, "203" | "79" | "86" | "128" | "124" | "176") {
            return Ok(());
        }
        let Some(amount) = self.amount(seg, (1, 2, "5004"), body)? else {
            return Ok(());
        };
        let totals = &mut self.draft.totals;
        match &*qualifier {
            "203" => {
                if let Some(line) = self.line() {
                    set_once(&mut line.line_total, amount);
                }
            }
            "79" => set_once(&mut totals.line_extension, amount),
            "86" | "128" => set_once(&mut totals.payable, amount),
            _ => set_once(&mut totals.tax_total, amount),
        }
        Ok(())
    }

    fn cnt(&mut self, seg: &Segment<'_>, body: &[u8]) -> Result<(), PluginError> {
        if seg.text(1, 1) != "2" {
            return Ok(());
        }
        let stated = self.value(seg, (1, 2, "6066"), body, count)?;
        let actual = self.draft.lines.len() as u64;
        if let Some(stated) = stated.filter(|&s| s != actual) {
            let path = self.path("CNT", "6066");
            return Err(error_at(
                "bad-line-count",
                format!(
                    "{path}: CNT says {stated} line items, but the message has {actual} LIN segments"
                ),
                body,
                seg.offset_of(1, 2, body),
                path,
            ));
        }
        Ok(())
    }

    /// Ends the message at its UNT and builds the order.
    pub fn finish(
        self,
        config: &Config,
        body: &[u8],
        unt_offset: usize,
    ) -> Result<PurchaseOrder, PluginError> {
        let unh = self.index;
        self.draft.finish(&config.defaults(), |field, draft| {
            let (path, what, offset) = match field {
                Field::OrderNumber => ("BGM/1004".to_owned(), "no document number (BGM 1004)".to_owned(), unt_offset),
                Field::IssueDate => ("DTM".to_owned(), "no document date (DTM 137, or 4)".to_owned(), unt_offset),
                Field::BuyerName => (
                    "NAD".to_owned(),
                    "a buyer address or contact but no buyer name or id (NAD+BY C080, C058 or C082), and the plugin config has no buyer_name".to_owned(),
                    unt_offset,
                ),
                Field::SupplierCode => (
                    "NAD".to_owned(),
                    "no supplier code: no NAD+SU with a party id (C082 3039), and the plugin config has no supplier_code".to_owned(),
                    unt_offset,
                ),
                Field::Lines => ("LIN".to_owned(), "no LIN line items".to_owned(), unt_offset),
                Field::Quantity(i) => (
                    format!("LIN[{}]/QTY", i + 1),
                    format!("line item {} has no ordered quantity (QTY+21)", i + 1),
                    draft.lines[i].offset,
                ),
                Field::Item(i) => (
                    format!("LIN[{}]", i + 1),
                    format!("line item {} names no item: no item number (SA, VN, VP, IN, BP, EN, SRV, UP, IB) in LIN or PIA, and no IMD description", i + 1),
                    draft.lines[i].offset,
                ),
                // `Config::defaults` numbers lines by position and always has a unit.
                Field::LineNumber(_) | Field::Unit(_) => unreachable!("EDI lines never lack a number or unit"),
            };
            error_at(
                "missing-segment",
                format!("message UNH[{unh}] has {what}"),
                body,
                offset,
                format!("UNH[{unh}]/{path}"),
            )
        })
    }
}

/// A DTM date in format `format` (2379); the time of day, if any, is dropped.
fn date(text: &str, format: &str) -> Result<NaiveDate, String> {
    match format {
        "102" => date_ccyymmdd(text, 0),
        "203" => date_ccyymmdd(text, 4),
        "204" => date_ccyymmdd(text, 6),
        "101" => date_yymmdd(text),
        // A period CCYYMMDD-CCYYMMDD: the goods are wanted from its start.
        "718" => date_ccyymmdd(text.split_once('-').map_or(text, |(start, _)| start), 0),
        // No format: go by the length, the way receivers commonly do.
        "" => match text.len() {
            12 => date_ccyymmdd(text, 4),
            14 => date_ccyymmdd(text, 6),
            _ => date_ccyymmdd(text, 0),
        },
        other => Err(format!(
            "date format {other:?} (2379) is not read; use 102, 203, 204, 101 or 718"
        )),
    }
}
