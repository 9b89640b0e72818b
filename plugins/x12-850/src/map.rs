//! One 850 transaction set (ST … SE) → one canonical order.
//!
//! X12 loops have no end marker: a loop lasts until the next segment that starts a
//! loop (N1, PO1) or the summary (CTT). So the mapper keeps the area it is in and
//! reads N3, N4, REF, PER, DTM, NTE, AMT according to it.

use edi_common::values::{country, currency, date_ccyymmdd, date_yymmdd, decimal};
use edi_common::{
    Config, Field, LineDraft, OrderDraft, append, error_at, first, has_item_id, item_id, note,
    party_id, set_once, unit_price,
};
use jembatan_plugin_sdk::{
    Address, ItemIdRole, NaiveDate, PluginError, PurchaseOrder, Purpose, party_scheme,
};

use crate::lex::Segment;
use crate::units;

/// Which party an N1 loop is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Party {
    Buyer,
    Supplier,
    ShipTo,
    /// Bill-to, remit-to and the rest: read past.
    Other,
}

/// Where in the transaction set the last loop-starting segment put us.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Area {
    Header,
    /// In the header's N1 loop number `n` (1-based).
    Party(Party, usize),
    /// In PO1 loop number `n`.
    Line(usize),
    /// In an N1 loop inside PO1 loop `n` (a line's own ship-to): read past.
    LineParty(usize),
    /// After CTT.
    Summary,
}

/// An 850 being read.
pub struct Transaction {
    /// 1-based position of this ST in the interchange, for paths (`ST[2]`).
    pub index: usize,
    /// ST02, which SE02 must repeat.
    pub control: String,
    /// Segments so far, ST included; SE01 must equal it with SE counted.
    pub segments: u64,
    area: Area,
    parties: usize,
    draft: OrderDraft,
    /// REF*VR, a weaker source of the supplier code than N1*SE/VN's N104, used
    /// only without it.
    supplier_reference: Option<String>,
    /// Dates are YYMMDD (X12 003 and earlier), not CCYYMMDD.
    six_digit_dates: bool,
}

impl Transaction {
    /// Starts reading at an ST segment whose ST01 is 850.
    pub fn new(index: usize, st: &Segment<'_>, six_digit_dates: bool) -> Self {
        let control = st.get(2).to_owned();
        let mut draft = OrderDraft::new("x12-850", "X12");
        draft.source.control_number = (!control.is_empty()).then(|| control.clone());
        Self {
            index,
            control,
            segments: 1,
            area: Area::Header,
            parties: 0,
            draft,
            supplier_reference: None,
            six_digit_dates,
        }
    }

    /// A date element (BEG05, DTM02) in the format of the group's version.
    fn date(&self, text: &str) -> Result<NaiveDate, String> {
        if self.six_digit_dates {
            date_yymmdd(text)
        } else {
            date_ccyymmdd(text, 0)
        }
    }

    /// `ST[2]`, `ST[2]/N1[1]` or `ST[2]/PO1[3]`: where the current loop is.
    fn loop_path(&self) -> String {
        let st = self.index;
        match self.area {
            Area::Header | Area::Summary => format!("ST[{st}]"),
            Area::Party(_, n) => format!("ST[{st}]/N1[{n}]"),
            Area::Line(n) | Area::LineParty(n) => format!("ST[{st}]/PO1[{n}]"),
        }
    }

    /// The path of element `n` of `seg`, e.g. `ST[2]/PO1[3]/PO102` or
    /// `ST[1]/N1[2]/N4/N404`.
    pub fn path(&self, seg: &Segment<'_>, n: usize) -> String {
        let tag = seg.tag();
        let heads_loop = matches!(
            (tag, self.area),
            ("N1", Area::Party(..) | Area::LineParty(_)) | ("PO1", Area::Line(_))
        );
        if heads_loop {
            format!("{}/{tag}{n:02}", self.loop_path())
        } else {
            format!("{}/{tag}/{tag}{n:02}", self.loop_path())
        }
    }

    fn invalid(&self, seg: &Segment<'_>, n: usize, message: String, body: &[u8]) -> PluginError {
        let path = self.path(seg, n);
        error_at(
            "invalid-value",
            format!("{path}: {message}"),
            body,
            seg.offset_of(n, body),
            path,
        )
    }

    /// Element `n` read with `read`, `None` when absent or empty.
    fn value<T>(
        &self,
        seg: &Segment<'_>,
        n: usize,
        body: &[u8],
        read: impl Fn(&str) -> Result<T, String>,
    ) -> Result<Option<T>, PluginError> {
        seg.opt(n)
            .map(|text| read(text).map_err(|m| self.invalid(seg, n, m, body)))
            .transpose()
    }

    /// Reads one segment between ST and SE.
    pub fn segment(
        &mut self,
        seg: &Segment<'_>,
        body: &[u8],
        config: &Config,
    ) -> Result<(), PluginError> {
        self.segments += 1;
        match seg.tag() {
            "BEG" => self.beg(seg, body)?,
            "CUR" if self.area == Area::Header => {
                if let Some(c) = self.value(seg, 2, body, currency)? {
                    set_once(&mut self.draft.currency, c);
                }
            }
            "DTM" => self.dtm(seg, body)?,
            "NTE" | "MSG" => {
                // NTE02 and MSG01 hold the text.
                let text = if seg.tag() == "NTE" {
                    seg.get(2)
                } else {
                    seg.get(1)
                };
                let Some(note) = note(text) else {
                    return Ok(());
                };
                match self.area {
                    Area::Line(_) | Area::LineParty(_) => {
                        if let Some(line) = self.draft.lines.last_mut() {
                            line.notes.push(note);
                        }
                    }
                    _ => self.draft.notes.push(note),
                }
            }
            "REF" => self.reference(seg),
            "PER" => self.contact(seg),
            "N1" => self.n1(seg),
            "N3" | "N4" => self.address_segment(seg, body)?,
            "PO1" => self.po1(seg, body, config)?,
            "PID" => {
                if let (Area::Line(_), "F") = (self.area, seg.get(1))
                    && let Some(line) = self.draft.lines.last_mut()
                {
                    append(&mut line.item.description, seg.get(5), "\n");
                }
            }
            "AMT" => self.amount(seg, body)?,
            "CTT" => self.ctt(seg, body)?,
            _ => {}
        }
        Ok(())
    }

    fn beg(&mut self, seg: &Segment<'_>, body: &[u8]) -> Result<(), PluginError> {
        match seg.get(1) {
            // A cancellation read as an order would be produced as a new order.
            "01" => {
                return Err(error_at(
                    "unsupported-purpose",
                    format!(
                        "{}: BEG01 is 01 (cancellation); this plugin reads new orders only",
                        self.path(seg, 1)
                    ),
                    body,
                    seg.offset_of(1, body),
                    self.path(seg, 1),
                ));
            }
            "05" => self.draft.purpose = Some(Purpose::Replace),
            _ => {}
        }
        if let Some(number) = seg.opt(3) {
            set_once(&mut self.draft.number, number.to_owned());
        }
        let date = self.value(seg, 5, body, |t| self.date(t))?;
        if let Some(date) = date {
            set_once(&mut self.draft.issue_date, date);
        }
        Ok(())
    }

    fn dtm(&mut self, seg: &Segment<'_>, body: &[u8]) -> Result<(), PluginError> {
        // 002 is "delivery requested"; other qualifiers (ship dates, cancel-after) have
        // no canonical field.
        if seg.get(1) != "002" {
            return Ok(());
        }
        // DTM02 is CCYYMMDD; 5010 senders may use DTM05 D8 + DTM06 instead.
        let n = if seg.get(2).is_empty() && seg.get(5) == "D8" {
            6
        } else {
            2
        };
        // D8 says CCYYMMDD whatever the version.
        let date = self.value(seg, n, body, |t| {
            if n == 6 {
                date_ccyymmdd(t, 0)
            } else {
                self.date(t)
            }
        })?;
        let Some(date) = date else {
            return Ok(());
        };
        match self.area {
            Area::Line(_) | Area::LineParty(_) => {
                if let Some(line) = self.draft.lines.last_mut() {
                    set_once(&mut line.delivery.requested_date, date);
                }
            }
            _ => set_once(&mut self.draft.delivery.requested_date, date),
        }
        Ok(())
    }

    fn reference(&mut self, seg: &Segment<'_>) {
        let Some(value) = seg.opt(2) else { return };
        match (self.area, seg.get(1)) {
            // Vendor ID number: the buyer's code for the supplier when no N1*SE gives one.
            (Area::Header, "VR") => set_once(&mut self.supplier_reference, value.to_owned()),
            // Taxpayer ID (NPWP for an Indonesian buyer).
            (Area::Party(Party::Buyer, _), "TJ") => {
                let ids = &mut self.draft.buyer.ids;
                if !ids.iter().any(|id| id.scheme == party_scheme::TAX) {
                    ids.push(party_id(party_scheme::TAX, value));
                }
            }
            _ => {}
        }
    }

    fn contact(&mut self, seg: &Segment<'_>) {
        // A header PER is the buyer's contact, as is one in the buyer's N1 loop.
        if !matches!(self.area, Area::Header | Area::Party(Party::Buyer, _)) {
            return;
        }
        let contact = first(&mut self.draft.buyer.contacts);
        if let Some(name) = seg.opt(2) {
            set_once(&mut contact.name, name.to_owned());
        }
        for n in [3, 5, 7] {
            let Some(number) = seg.opt(n + 1) else {
                continue;
            };
            match seg.get(n) {
                "TE" => set_once(&mut contact.phone, number.to_owned()),
                "EM" => set_once(&mut contact.email, number.to_owned()),
                _ => {}
            }
        }
    }

    fn n1(&mut self, seg: &Segment<'_>) {
        if let Area::Line(n) | Area::LineParty(n) = self.area {
            self.area = Area::LineParty(n);
            return;
        }
        self.parties += 1;
        let party = match seg.get(1) {
            "BY" => Party::Buyer,
            "SE" | "VN" => Party::Supplier,
            "ST" => Party::ShipTo,
            _ => Party::Other,
        };
        self.area = Area::Party(party, self.parties);
        let (name, id) = (seg.opt(2).map(str::to_owned), seg.opt(4).map(str::to_owned));
        match party {
            Party::Buyer => {
                let buyer = &mut self.draft.buyer;
                buyer.name = buyer.name.take().or(name);
                // The first N1*BY's N104, before any REF*TJ tax id; its list
                // (N103) is not mapped to a scheme yet.
                let ids = &mut buyer.ids;
                if let Some(value) = id
                    && !ids.iter().any(|id| id.scheme == party_scheme::UNSPECIFIED)
                {
                    ids.insert(0, party_id(party_scheme::UNSPECIFIED, &value));
                }
            }
            Party::Supplier => {
                self.draft.supplier_code = self.draft.supplier_code.take().or(id);
                self.draft.supplier.name = self.draft.supplier.name.take().or(name);
            }
            Party::ShipTo | Party::Other => {}
        }
    }

    fn address_segment(&mut self, seg: &Segment<'_>, body: &[u8]) -> Result<(), PluginError> {
        let address: &mut Address = match self.area {
            Area::Party(Party::Buyer, _) => self.draft.buyer.address.get_or_insert_default(),
            Area::Party(Party::ShipTo, _) => self.draft.delivery_address(),
            _ => return Ok(()),
        };
        let text = |n: usize| seg.opt(n).map(str::to_owned);
        if seg.tag() == "N3" {
            address.street = address.street.take().or(text(1));
            address.additional_street = address.additional_street.take().or(text(2));
            return Ok(());
        }
        address.city = address.city.take().or(text(1));
        address.region = address.region.take().or(text(2));
        address.postal_code = address.postal_code.take().or(text(3));
        if address.country.is_none()
            && let Some(code) = seg.opt(4)
        {
            let code = country(code).map_err(|m| self.invalid(seg, 4, m, body))?;
            if let Area::Party(Party::Buyer, _) = self.area {
                self.draft.buyer.address.get_or_insert_default().country = Some(code);
            } else {
                self.draft.delivery_address().country = Some(code);
            }
        }
        Ok(())
    }

    fn po1(&mut self, seg: &Segment<'_>, body: &[u8], config: &Config) -> Result<(), PluginError> {
        let n = self.draft.lines.len() + 1;
        self.area = Area::Line(n);
        let mut line = LineDraft {
            offset: seg.offset,
            number: seg.opt(1).map(str::to_owned),
            quantity: self.value(seg, 2, body, |t| decimal(t, b'.'))?,
            price: self
                .value(seg, 4, body, |t| decimal(t, b'.'))?
                .map(unit_price),
            ..LineDraft::default()
        };
        if let Some(code) = seg.opt(3) {
            let unit = config.mapped_unit(code).or_else(|| units::rec20(code));
            let Some(unit) = unit else {
                let path = self.path(seg, 3);
                return Err(error_at(
                    "unknown-unit",
                    format!(
                        "{path}: the unit {code:?} is not in the plugin's X12 → UN/ECE Rec 20 table; \
                         map it in the plugin config, e.g. {{\"unit_map\": {{\"{code}\": \"H87\"}}}}"
                    ),
                    body,
                    seg.offset_of(3, body),
                    path,
                ));
            };
            line.unit = Some(unit.to_owned());
        }
        // PO106/PO107, PO108/PO109, …: product id qualifier and value pairs.
        let mut q = 6;
        while q + 1 < seg.elements.len() {
            if let Some(id) = seg.opt(q + 1) {
                let role = match seg.get(q) {
                    "BP" | "IN" => Some(ItemIdRole::Buyer),
                    "VP" | "VN" => Some(ItemIdRole::Supplier),
                    _ => None,
                };
                // One id per role, the first; the other qualifiers (X12 235)
                // are not mapped yet.
                if let Some(role) = role.filter(|&role| !has_item_id(&line.item, role)) {
                    line.item.ids.push(item_id(role, id));
                }
            }
            q += 2;
        }
        self.draft.lines.push(line);
        Ok(())
    }

    fn amount(&mut self, seg: &Segment<'_>, body: &[u8]) -> Result<(), PluginError> {
        match (self.area, seg.get(1)) {
            (Area::Line(_), "1") => {
                let total = self.value(seg, 2, body, |t| decimal(t, b'.'))?;
                if let (Some(line), Some(total)) = (self.draft.lines.last_mut(), total) {
                    set_once(&mut line.line_total, total);
                }
            }
            // The total is in the CTT loop, but without a CTT it follows the last
            // line, where no line amount has qualifier TT.
            (_, "TT") => {
                let total = self.value(seg, 2, body, |t| decimal(t, b'.'))?;
                if let Some(total) = total {
                    set_once(&mut self.draft.totals.payable, total);
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn ctt(&mut self, seg: &Segment<'_>, body: &[u8]) -> Result<(), PluginError> {
        self.area = Area::Summary;
        let stated = self.value(seg, 1, body, edi_common::values::count)?;
        let actual = self.draft.lines.len() as u64;
        if let Some(stated) = stated.filter(|&s| s != actual) {
            let path = self.path(seg, 1);
            return Err(error_at(
                "bad-line-count",
                format!(
                    "{path}: CTT01 says {stated} line items, but the transaction set has {actual} PO1 segments"
                ),
                body,
                seg.offset_of(1, body),
                path,
            ));
        }
        Ok(())
    }

    /// Ends the transaction set at its SE and builds the order.
    pub fn finish(
        self,
        config: &Config,
        body: &[u8],
        se_offset: usize,
    ) -> Result<PurchaseOrder, PluginError> {
        let st = self.index;
        let mut draft = self.draft;
        if draft.supplier_code.is_none() {
            draft.supplier_code = self.supplier_reference;
        }
        draft.finish(&config.defaults(), |field, draft| {
            let (path, what, offset) = match field {
                Field::OrderNumber => (format!("ST[{st}]/BEG/BEG03"), "no purchase order number (BEG03)".to_owned(), se_offset),
                Field::IssueDate => (format!("ST[{st}]/BEG/BEG05"), "no purchase order date (BEG05)".to_owned(), se_offset),
                Field::BuyerName => (
                    format!("ST[{st}]/N1"),
                    "a buyer contact or address (PER, N3, N4) but no buyer name or id (N1*BY N102 or N104), and the plugin config has no buyer_name".to_owned(),
                    se_offset,
                ),
                Field::SupplierCode => (
                    format!("ST[{st}]/N1"),
                    "no supplier code: no N1*SE or N1*VN with an id (N104), no REF*VR, and the plugin config has no supplier_code".to_owned(),
                    se_offset,
                ),
                Field::Lines => (format!("ST[{st}]/PO1"), "no PO1 line items".to_owned(), se_offset),
                Field::Quantity(i) => (
                    format!("ST[{st}]/PO1[{}]/PO102", i + 1),
                    format!("line item {} has no quantity (PO102)", i + 1),
                    draft.lines[i].offset,
                ),
                Field::Item(i) => (
                    format!("ST[{st}]/PO1[{}]", i + 1),
                    format!(
                        "line item {} names no item: no BP/IN/VP/VN product id in PO106… and no PID*F description",
                        i + 1
                    ),
                    draft.lines[i].offset,
                ),
                // `Config::defaults` numbers lines by position and always has a unit.
                Field::LineNumber(_) | Field::Unit(_) => unreachable!("EDI lines never lack a number or unit"),
            };
            error_at(
                "missing-segment",
                format!("transaction set ST[{st}] has {what}"),
                body,
                offset,
                path,
            )
        })
    }
}
