//! One 850 transaction set (ST … SE) → one canonical order (v2).
//!
//! X12 loops have no end marker: a loop lasts until the next segment that starts a
//! loop (N1, PO1) or the summary (CTT). So the mapper keeps the area it is in and
//! reads N2, N3, N4, REF, PER, DTM, NTE, AMT … according to it. What the order has
//! no field for is kept as an extension (namespace `x12`, path `PO1[3]/PO110`),
//! never dropped; the table is in the crate's README.

use std::collections::BTreeMap;

use edi_common::values::{count, country, currency, date_ccyymmdd, date_yymmdd, decimal};
use edi_common::{Config, Field, LineDraft, OrderDraft, append, error_at, note, set_once};
use jembatan_plugin_sdk::{
    Address, AllowanceCharge, AllowanceChargeKind, AllowanceChargeLevel, Contact, Decimal,
    Delivery, Document, DocumentType, Extension, ItemId, ItemProperty, LineTax, NaiveDate,
    OrderType, OriginalCode, OtherParty, Party, PartyId, PartySource, PluginError, Price,
    PurchaseOrder, Purpose, Reference, ScheduleLine, TaxSubtotal, Transport, Warning, party_scheme,
};

use crate::codes::{self, ProductId};
use crate::lex::Segment;
use crate::units;

/// At most this many extensions per order (docs/canonical-order-v2.md §1.8); beyond
/// it one warning `extensions-truncated`.
const MAX_EXTENSIONS: usize = 500;

/// What the envelope around a transaction set says, for the order.
#[derive(Debug, Clone, Default)]
pub struct Envelope {
    /// ISA05, the interchange sender's id qualifier (element I05).
    pub sender_qualifier: String,
    /// ISA06 without its padding.
    pub sender_id: String,
    /// GS02, the application sender's code.
    pub application_sender: String,
    /// GS08, the version (`004010`, `004010VICS`, `005010` …).
    pub version: String,
    /// Dates are YYMMDD (X12 003 and earlier), not CCYYMMDD.
    pub six_digit_dates: bool,
}

/// Which party an N1 loop of the header is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    Buyer,
    Supplier,
    ShipTo,
    /// Index into the draft's `other_parties`.
    Other(usize),
}

/// Where in the transaction set the last loop-starting segment put us.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Area {
    Header,
    /// In the header's N1 loop number `n` (1-based).
    Party(Who, usize),
    /// In PO1 loop number `n`.
    Line(usize),
    /// In N1 loop `k` inside PO1 loop `n`; `true` when it is the line's ship-to.
    LineParty(usize, usize, bool),
    /// After CTT.
    Summary,
}

/// The parts of a party (or a delivery location) that N1, N2, N3, N4 and PER fill.
struct PartyParts<'a> {
    name: &'a mut Option<String>,
    address: &'a mut Option<Address>,
    contacts: &'a mut Vec<Contact>,
}

/// An 850 being read.
pub struct Transaction {
    /// 1-based position of this ST in the body, for paths (`ST[2]`).
    index: usize,
    area: Area,
    parties: usize,
    line_parties: usize,
    draft: OrderDraft,
    envelope: Envelope,
    /// REF*VR, a weaker source of the supplier code than N1*SE/VN's N104, used
    /// only without it.
    supplier_reference: Option<String>,
    /// Whether an N1*BY, N1*SE/VN, N1*ST loop was read: the first of each is the
    /// buyer, supplier, ship-to; later ones are other parties.
    seen_buyer: bool,
    seen_supplier: bool,
    seen_ship_to: bool,
    extensions: usize,
    /// Each line CUR02: the line's index, the currency and its path.
    line_currencies: Vec<(usize, String, String)>,
}

impl Transaction {
    /// Starts reading at an ST segment whose ST01 is 850.
    pub fn new(index: usize, st: &Segment<'_>, envelope: Envelope) -> Self {
        let control = st.get(2);
        let syntax = match envelope.version.as_str() {
            "" => "X12".to_owned(),
            version => format!("X12 {version}"),
        };
        let mut draft = OrderDraft::new("x12-850", &syntax);
        draft.source.control_number = (!control.is_empty()).then(|| control.to_owned());
        // ST03 (005010 on): the implementation convention the set follows.
        draft.source.customization = st.opt(3).map(str::to_owned);
        Self {
            index,
            area: Area::Header,
            parties: 0,
            line_parties: 0,
            draft,
            envelope,
            supplier_reference: None,
            seen_buyer: false,
            seen_supplier: false,
            seen_ship_to: false,
            extensions: 0,
            line_currencies: Vec::new(),
        }
    }

    /// A date element (BEG05, DTM02) in the format of the group's version.
    fn date(&self, text: &str) -> Result<NaiveDate, String> {
        if self.envelope.six_digit_dates {
            date_yymmdd(text)
        } else {
            date_ccyymmdd(text, 0)
        }
    }

    /// `N1[1]` or `PO1[3]/N1[2]`: where the current loop is, within the set;
    /// empty in the header.
    fn loop_path(&self) -> String {
        match self.area {
            Area::Header | Area::Summary => String::new(),
            Area::Party(_, n) => format!("N1[{n}]"),
            Area::Line(n) => format!("PO1[{n}]"),
            Area::LineParty(n, k, _) => format!("PO1[{n}]/N1[{k}]"),
        }
    }

    /// The path of element `n` of `seg` within the transaction set, e.g.
    /// `PO1[3]/PO102` or `N1[2]/N4/N404`.
    fn relative_path(&self, seg: &Segment<'_>, n: usize) -> String {
        let tag = seg.tag();
        let loop_path = self.loop_path();
        let heads_loop = matches!(
            (tag, self.area),
            ("N1", Area::Party(..) | Area::LineParty(..)) | ("PO1", Area::Line(_))
        );
        match (heads_loop, loop_path.is_empty()) {
            (true, _) => format!("{loop_path}/{tag}{n:02}"),
            (false, true) => format!("{tag}/{tag}{n:02}"),
            (false, false) => format!("{loop_path}/{tag}/{tag}{n:02}"),
        }
    }

    /// The path of element `n` of `seg`, e.g. `ST[2]/PO1[3]/PO102` or
    /// `ST[1]/N1[2]/N4/N404`.
    pub fn path(&self, seg: &Segment<'_>, n: usize) -> String {
        format!("ST[{}]/{}", self.index, self.relative_path(seg, n))
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

    /// A decimal element (X12 type R: the point is written).
    fn number(
        &self,
        seg: &Segment<'_>,
        n: usize,
        body: &[u8],
    ) -> Result<Option<Decimal>, PluginError> {
        self.value(seg, n, body, |t| decimal(t, b'.'))
    }

    /// The line being read (the last PO1), when in a PO1 loop.
    fn line(&mut self) -> Option<&mut LineDraft> {
        match self.area {
            Area::Line(_) | Area::LineParty(..) => self.draft.lines.last_mut(),
            _ => None,
        }
    }

    /// Keeps element `n` of `seg` as an extension of the line or the order,
    /// whichever the current loop belongs to.
    fn keep(&mut self, seg: &Segment<'_>, n: usize) {
        let Some(value) = seg.opt(n) else { return };
        if self.extensions == MAX_EXTENSIONS {
            self.extensions += 1;
            self.draft.warnings.push(Warning {
                code: "extensions-truncated".to_owned(),
                message: format!(
                    "the transaction set carries more than {MAX_EXTENSIONS} elements without a canonical field; the rest are not kept"
                ),
                path: Some(self.path(seg, n)),
                field: Some("/extensions".to_owned()),
            });
        }
        if self.extensions > MAX_EXTENSIONS {
            return;
        }
        self.extensions += 1;
        let extension = Extension {
            namespace: "x12".to_owned(),
            path: self.relative_path(seg, n),
            value: value.to_owned(),
            attributes: BTreeMap::new(),
        };
        match self.line() {
            Some(line) => line.extensions.push(extension),
            None => self.draft.extensions.push(extension),
        }
    }

    /// Keeps every element of `seg` from `first` on.
    fn keep_from(&mut self, seg: &Segment<'_>, first: usize) {
        for n in first..seg.elements.len() {
            self.keep(seg, n);
        }
    }

    /// Keeps the elements of `seg` not in `read`.
    fn keep_others(&mut self, seg: &Segment<'_>, read: &[usize]) {
        for n in 1..seg.elements.len() {
            if !read.contains(&n) {
                self.keep(seg, n);
            }
        }
    }

    /// Reads one segment between ST and SE.
    pub fn segment(
        &mut self,
        seg: &Segment<'_>,
        body: &[u8],
        config: &Config,
    ) -> Result<(), PluginError> {
        match seg.tag() {
            "BEG" => self.beg(seg, body)?,
            "CUR" => self.cur(seg, body)?,
            "DTM" => self.dtm(seg, body)?,
            "NTE" | "MSG" => self.note(seg),
            "REF" | "N9" => self.reference(seg),
            "PER" => self.contact(seg),
            "FOB" => self.fob(seg),
            "ITD" => self.itd(seg, body)?,
            "TD5" => self.td5(seg),
            "N1" => self.n1(seg),
            "N2" => self.n2(seg),
            "N3" => self.n3(seg),
            "N4" => self.n4(seg, body)?,
            "SAC" => self.sac(seg, body, config)?,
            "TXI" => self.txi(seg, body)?,
            "PO1" => self.po1(seg, body, config)?,
            "PID" => self.pid(seg),
            "MEA" => self.mea(seg, config),
            "PO4" => self.po4(seg, body, config)?,
            "SCH" => self.sch(seg, body)?,
            "AMT" => self.amount(seg, body)?,
            "CTT" => self.ctt(seg, body)?,
            _ => self.keep_from(seg, 1),
        }
        Ok(())
    }

    fn beg(&mut self, seg: &Segment<'_>, body: &[u8]) -> Result<(), PluginError> {
        // BEG01, element 353: 00 original, 05 replace, 07 duplicate.
        match seg.get(1) {
            // A cancellation or deletion read as an order would be produced as a
            // new order; refused instead (design decision 14; BGM 1225 1 and 3 in
            // EDIFACT).
            code @ ("01" | "03") => {
                let what = if code == "01" {
                    "cancellation"
                } else {
                    "delete"
                };
                return Err(error_at(
                    "unsupported-purpose",
                    format!(
                        "{}: BEG01 is {code} ({what}); this plugin reads new orders only",
                        self.path(seg, 1)
                    ),
                    body,
                    seg.offset_of(1, body),
                    self.path(seg, 1),
                ));
            }
            "00" | "" => {}
            "05" => self.draft.purpose = Some(Purpose::Replace),
            "07" => self.draft.purpose = Some(Purpose::Copy),
            _ => self.keep(seg, 1),
        }
        if let Some(code) = seg.opt(2) {
            set_once(
                &mut self.draft.order_type,
                OrderType {
                    code: code.to_owned(),
                    list: "X12-92".to_owned(),
                    text: codes::order_type_text(code).map(str::to_owned),
                },
            );
        }
        if let Some(number) = seg.opt(3) {
            set_once(&mut self.draft.number, number.to_owned());
        }
        let date = self.value(seg, 5, body, |t| self.date(t))?;
        if let Some(date) = date {
            set_once(&mut self.draft.issue_date, date);
        }
        // BEG04 release number, BEG06 contract number.
        for (n, kind) in [
            (4, jembatan_plugin_sdk::ReferenceType::Release),
            (6, jembatan_plugin_sdk::ReferenceType::Contract),
        ] {
            if let Some(value) = seg.opt(n) {
                self.draft.references.push(Reference {
                    kind,
                    value: value.to_owned(),
                    issue_date: None,
                    line_number: None,
                    qualifier: Some(format!("BEG{n:02}")),
                    description: None,
                });
            }
        }
        self.keep_from(seg, 7);
        Ok(())
    }

    fn cur(&mut self, seg: &Segment<'_>, body: &[u8]) -> Result<(), PluginError> {
        // The header CUR names the order's currency. A line's CUR is checked against
        // it when the set ends (senders repeat the order's currency per line, some
        // without a header CUR).
        if let Area::Line(n) | Area::LineParty(n, ..) = self.area {
            match self.value(seg, 2, body, currency)? {
                Some(code) => {
                    let path = self.relative_path(seg, 2);
                    self.line_currencies.push((n - 1, code, path));
                    self.keep_others(seg, &[2]);
                }
                None => self.keep_from(seg, 1),
            }
            return Ok(());
        }
        if self.area != Area::Header {
            self.keep_from(seg, 1);
            return Ok(());
        }
        match self.value(seg, 2, body, currency)? {
            Some(code) if self.draft.currency.is_none() => {
                self.draft.currency = Some(code);
                self.keep_others(seg, &[2]);
            }
            _ => self.keep_from(seg, 1),
        }
        Ok(())
    }

    fn note(&mut self, seg: &Segment<'_>) {
        // NTE01 is the note's subject (element 363), NTE02 its text; MSG01 the text.
        let (text, subject, read): (_, _, &[usize]) = if seg.tag() == "NTE" {
            (seg.get(2), seg.opt(1), &[1, 2])
        } else {
            (seg.get(1), None, &[1])
        };
        let Some(mut note) = note(text) else {
            self.keep_from(seg, 1);
            return;
        };
        note.subject = subject.map(str::to_owned);
        match self.line() {
            Some(line) => line.notes.push(note),
            None => self.draft.notes.push(note),
        }
        self.keep_others(seg, read);
    }

    fn dtm(&mut self, seg: &Segment<'_>, body: &[u8]) -> Result<(), PluginError> {
        // DTM02 is the date; 5010 senders may use DTM05 D8 + DTM06 instead, and D8
        // says CCYYMMDD whatever the version.
        let n = if seg.get(2).is_empty() && seg.get(5) == "D8" {
            6
        } else {
            2
        };
        let date = self.value(seg, n, body, |t| {
            if n == 6 {
                date_ccyymmdd(t, 0)
            } else {
                self.date(t)
            }
        })?;
        let Some(date) = date else {
            self.keep_from(seg, 1);
            return Ok(());
        };
        let delivery = match self.area {
            Area::Line(_) | Area::LineParty(..) => match self.draft.lines.last_mut() {
                Some(line) => &mut line.delivery,
                None => &mut self.draft.delivery,
            },
            _ => &mut self.draft.delivery,
        };
        // Element 374 (X9 in docs/canonical-order-v2.md).
        let field = match seg.get(1) {
            "002" => Some(&mut delivery.requested_date),
            "064" => Some(&mut delivery.earliest),
            "063" => Some(&mut delivery.latest),
            "037" => Some(&mut delivery.ship_not_before),
            "038" => Some(&mut delivery.ship_no_later),
            "001" | "061" => Some(&mut delivery.cancel_after),
            _ => None,
        };
        match field {
            Some(field) if field.is_none() || *field == Some(date) => {
                *field = Some(date);
                let read: &[usize] = if n == 6 { &[1, 5, 6] } else { &[1, 2] };
                if seg.opt(3).is_some() {
                    let path = self.path(seg, 3);
                    self.draft.warnings.push(Warning {
                        code: "time-dropped".to_owned(),
                        message: format!(
                            "{path}: the time of day is kept as an extension; the date field holds the day as written"
                        ),
                        path: Some(path),
                        field: None,
                    });
                }
                self.keep_others(seg, read);
            }
            // Ship requested (010), required by (106) and the rest have no field;
            // a second, different date of the same kind neither.
            _ => self.keep_from(seg, 1),
        }
        Ok(())
    }

    fn reference(&mut self, seg: &Segment<'_>) {
        // REF01/N901 qualifier (element 128), REF02/N902 the id, REF03/N903 text.
        let qualifier = seg.get(1);
        let (value, description, read): (_, _, &[usize]) = match (seg.opt(2), seg.opt(3)) {
            (Some(value), description) => (value, description, &[1, 2, 3]),
            (None, Some(text)) => (text, None, &[1, 3]),
            (None, None) => {
                self.keep_from(seg, 1);
                return;
            }
        };
        let reference = Reference {
            kind: codes::reference_type(qualifier),
            value: value.to_owned(),
            issue_date: None,
            line_number: None,
            qualifier: (!qualifier.is_empty()).then(|| qualifier.to_owned()),
            description: description.map(str::to_owned),
        };
        match (self.area, qualifier) {
            (Area::Header | Area::Summary, _) => {
                // Vendor ID number: the buyer's code for the supplier when no N1*SE
                // gives one.
                if qualifier == "VR" {
                    set_once(&mut self.supplier_reference, value.to_owned());
                }
                self.draft.references.push(reference);
            }
            (Area::Line(_), _) => {
                if let Some(line) = self.draft.lines.last_mut() {
                    line.references.push(reference);
                }
            }
            // Taxpayer ID (NPWP for an Indonesian party).
            (Area::Party(Who::Buyer, _), "TJ") => {
                self.draft.buyer.ids.push(tax_id(value));
            }
            (Area::Party(Who::Supplier, _), "TJ") => {
                self.draft.supplier.ids.push(tax_id(value));
            }
            // A party's other references (department, authorisation …) and a
            // line party's have no field.
            _ => {
                self.keep_from(seg, 1);
                return;
            }
        }
        self.keep_others(seg, read);
    }

    /// The party the current N1 loop is about, `None` outside one (or in a line's
    /// party other than its ship-to).
    fn party_parts(&mut self) -> Option<PartyParts<'_>> {
        fn of(party: &mut Party) -> PartyParts<'_> {
            PartyParts {
                name: &mut party.name,
                address: &mut party.address,
                contacts: &mut party.contacts,
            }
        }
        fn at(delivery: &mut Delivery) -> PartyParts<'_> {
            let Delivery {
                location, contacts, ..
            } = delivery;
            let location = location.get_or_insert_default();
            PartyParts {
                name: &mut location.name,
                address: &mut location.address,
                contacts,
            }
        }
        match self.area {
            Area::Party(Who::Buyer, _) => Some(of(&mut self.draft.buyer)),
            Area::Party(Who::Supplier, _) => Some(of(&mut self.draft.supplier)),
            Area::Party(Who::Other(i), _) => Some(of(&mut self.draft.other_parties[i].party)),
            Area::Party(Who::ShipTo, _) => Some(at(&mut self.draft.delivery)),
            Area::LineParty(_, _, true) => Some(at(&mut self.draft.lines.last_mut()?.delivery)),
            _ => None,
        }
    }

    fn contact(&mut self, seg: &Segment<'_>) {
        // PER01 function (element 366), PER02 name, then three pairs of a
        // communication number qualifier (element 365) and a number.
        let mut contact = Contact {
            role: seg.opt(1).map(str::to_owned),
            name: seg.opt(2).map(str::to_owned),
            ..Contact::default()
        };
        let mut read = vec![1, 2];
        for n in [3, 5, 7] {
            let Some(number) = seg.opt(n + 1) else {
                continue;
            };
            let field = match seg.get(n) {
                "TE" => &mut contact.phone,
                "EM" => &mut contact.email,
                "FX" => &mut contact.fax,
                _ => continue,
            };
            if field.is_none() {
                *field = Some(number.to_owned());
                read.extend([n, n + 1]);
            }
        }
        // A header PER is the buyer's contact (the ordering party's), however the
        // buyer is named: N1*BY, else the envelope's sender.
        let contacts = match self.area {
            Area::Header => Some(&mut self.draft.buyer.contacts),
            _ => self.party_parts().map(|p| p.contacts),
        };
        match contacts {
            Some(contacts) => {
                contacts.push(contact);
                self.keep_others(seg, &read);
            }
            None => self.keep_from(seg, 1),
        }
    }

    fn fob(&mut self, seg: &Segment<'_>) {
        // FOB01 shipment method of payment (146), FOB02/FOB03 location qualifier and
        // description, FOB04/FOB05 terms qualifier (334, 01 = Incoterms) and code
        // (335), FOB06/FOB07 the place title passes (X7).
        if self.area != Area::Header {
            self.keep_from(seg, 1);
            return;
        }
        let terms = &mut self.draft.delivery_terms;
        let mut read = Vec::new();
        if let Some(payment) = seg.opt(1) {
            set_once(&mut terms.transport_payment, payment.to_owned());
            read.push(1);
        }
        if let Some(code) = seg.opt(5)
            && matches!(seg.get(4), "01" | "")
            && codes::is_incoterm(code)
            && terms.incoterm.is_none()
        {
            terms.incoterm = Some(code.to_owned());
            read.extend([4, 5]);
        }
        if let Some(place) = seg.opt(7).or(seg.opt(3))
            && terms.place.is_none()
        {
            terms.place = Some(place.to_owned());
            read.push(if seg.opt(7).is_some() { 7 } else { 3 });
        }
        self.keep_others(seg, &read);
    }

    fn itd(&mut self, seg: &Segment<'_>, body: &[u8]) -> Result<(), PluginError> {
        // ITD (X6): 01 terms type (336), 03 discount %, 04 discount due date,
        // 05 discount days, 06 net due date, 07 net days, 08 discount amount (N2),
        // 12 description.
        let days = |t: &str| {
            count(t).and_then(|d| u32::try_from(d).map_err(|_| format!("{t:?} is too many days")))
        };
        let terms = jembatan_plugin_sdk::PaymentTerms {
            code: seg.opt(1).map(str::to_owned),
            discount_percent: self.number(seg, 3, body)?,
            discount_due_date: self.value(seg, 4, body, |t| self.date(t))?,
            discount_days: self.value(seg, 5, body, days)?,
            due_date: self.value(seg, 6, body, |t| self.date(t))?,
            net_days: self.value(seg, 7, body, days)?,
            discount_amount: self.value(seg, 8, body, implied_cents)?,
            text: seg.opt(12).map(str::to_owned),
        };
        self.draft.payment_terms.push(terms);
        self.keep_others(seg, &[1, 3, 4, 5, 6, 7, 8, 12]);
        Ok(())
    }

    fn td5(&mut self, seg: &Segment<'_>) {
        // TD5 (X10): 03 carrier id, 04 transport method (91), 05 routing,
        // 12 service level (284).
        let transport = Transport {
            carrier: seg.opt(3).map(str::to_owned),
            mode: seg.opt(4).map(str::to_owned),
            routing: seg.opt(5).map(str::to_owned),
            service_level: seg.opt(12).map(str::to_owned),
        };
        let delivery = match self.area {
            Area::Line(_) | Area::LineParty(..) => match self.draft.lines.last_mut() {
                Some(line) => &mut line.delivery,
                None => &mut self.draft.delivery,
            },
            _ => &mut self.draft.delivery,
        };
        if delivery.transport.is_some() || transport == Transport::default() {
            self.keep_from(seg, 1);
            return;
        }
        delivery.transport = Some(transport);
        self.keep_others(seg, &[3, 4, 5, 12]);
    }

    fn n1(&mut self, seg: &Segment<'_>) {
        let entity = seg.get(1);
        let name = seg.opt(2).map(str::to_owned);
        // N103 (element 66) says what N104 is; an N103 without N104 says nothing.
        let ids: Vec<PartyId> = seg
            .opt(4)
            .map(|value| PartyId {
                scheme: codes::party_scheme(seg.get(3)).to_owned(),
                value: value.to_owned(),
                qualifier: seg.opt(3).map(str::to_owned),
            })
            .into_iter()
            .collect();
        let mut read = vec![1, 2, 3, 4];
        if ids.is_empty() {
            read.pop();
            read.pop();
        }
        if let Area::Line(n) | Area::LineParty(n, ..) = self.area {
            self.line_parties += 1;
            let ship_to = entity == "ST"
                && self.draft.lines.last().is_some_and(|line| {
                    line.delivery
                        .location
                        .as_ref()
                        .is_none_or(|l| l.name.is_none() && l.ids.is_empty())
                });
            self.area = Area::LineParty(n, self.line_parties, ship_to);
            if !ship_to {
                self.keep_from(seg, 1);
                return;
            }
            if let Some(line) = self.draft.lines.last_mut() {
                let location = line.delivery.location.get_or_insert_default();
                location.name = name;
                location.ids = ids;
            }
            self.keep_others(seg, &read);
            return;
        }
        self.parties += 1;
        let who = match entity {
            "BY" if !self.seen_buyer => Who::Buyer,
            "SE" | "VN" | "SU" if !self.seen_supplier => Who::Supplier,
            "ST" if !self.seen_ship_to => Who::ShipTo,
            _ => Who::Other(self.draft.other_parties.len()),
        };
        self.area = Area::Party(who, self.parties);
        match who {
            Who::Buyer => {
                self.seen_buyer = true;
                let buyer = &mut self.draft.buyer;
                buyer.name = name;
                buyer.ids.splice(0..0, ids);
            }
            Who::Supplier => {
                self.seen_supplier = true;
                self.draft.supplier_code = seg.opt(4).map(str::to_owned);
                self.draft.supplier.name = name;
                self.draft.supplier.ids.splice(0..0, ids);
            }
            Who::ShipTo => {
                self.seen_ship_to = true;
                let location = self.draft.delivery.location.get_or_insert_default();
                location.name = name;
                location.ids = ids;
            }
            Who::Other(_) => self.draft.other_parties.push(OtherParty {
                role: codes::other_party_role(entity).to_owned(),
                role_code: (!entity.is_empty()).then(|| entity.to_owned()),
                party: Party {
                    name,
                    ids,
                    source: Some(PartySource::Document),
                    ..Party::default()
                },
            }),
        }
        self.keep_others(seg, &read);
    }

    fn n2(&mut self, seg: &Segment<'_>) {
        // N201, N202: the name continued.
        let Some(parts) = self.party_parts() else {
            self.keep_from(seg, 1);
            return;
        };
        for n in [1, 2] {
            append(parts.name, seg.get(n), " ");
        }
        self.keep_from(seg, 3);
    }

    fn n3(&mut self, seg: &Segment<'_>) {
        let Some(parts) = self.party_parts() else {
            self.keep_from(seg, 1);
            return;
        };
        let address = parts.address.get_or_insert_default();
        let text = |n: usize| seg.opt(n).map(str::to_owned);
        if address.street.is_none() {
            address.street = text(1);
            address.additional_street = text(2);
        } else {
            // A second N3: more lines of the same address.
            address.lines.extend(text(1).into_iter().chain(text(2)));
        }
        self.keep_from(seg, 3);
    }

    fn n4(&mut self, seg: &Segment<'_>, body: &[u8]) -> Result<(), PluginError> {
        let country = self.value(seg, 4, body, country)?;
        let Some(parts) = self.party_parts() else {
            self.keep_from(seg, 1);
            return Ok(());
        };
        let address = parts.address.get_or_insert_default();
        let text = |n: usize| seg.opt(n).map(str::to_owned);
        let mut read = Vec::new();
        for (n, field) in [
            (1, &mut address.city),
            (2, &mut address.region),
            (3, &mut address.postal_code),
        ] {
            if field.is_none() {
                *field = text(n);
                read.push(n);
            }
        }
        if address.country.is_none() {
            address.country = country;
            read.push(4);
        }
        self.keep_others(seg, &read);
        Ok(())
    }

    fn sac(&mut self, seg: &Segment<'_>, body: &[u8], config: &Config) -> Result<(), PluginError> {
        // SAC (X5): 01 A/C, 02 code (1300), 05 amount (N2), 07 percent, 08 rate,
        // 09 unit, 10 quantity, 15 description.
        let kind = match seg.get(1) {
            "A" => AllowanceChargeKind::Allowance,
            "C" => AllowanceChargeKind::Charge,
            _ => {
                self.keep_from(seg, 1);
                return Ok(());
            }
        };
        let rate_unit = seg.opt(9).and_then(|code| rec20(config, code));
        let charge = AllowanceCharge {
            kind,
            level: Some(if self.line().is_some() {
                AllowanceChargeLevel::Line
            } else {
                AllowanceChargeLevel::Order
            }),
            reason_code: seg.opt(2).map(str::to_owned),
            reason_code_list: seg.opt(2).map(|_| "X12-1300".to_owned()),
            reason: seg.opt(15).map(str::to_owned),
            amount: self.value(seg, 5, body, implied_cents)?,
            percent: self.number(seg, 7, body)?,
            base_amount: None,
            rate: self.number(seg, 8, body)?,
            rate_quantity: self.number(seg, 10, body)?,
            rate_unit: rate_unit.clone(),
            sequence: None,
            tax: None,
        };
        if charge.amount.is_none() && charge.percent.is_none() && charge.rate.is_none() {
            self.keep_from(seg, 1);
            return Ok(());
        }
        match self.line() {
            Some(line) => line.allowances_charges.push(charge),
            None => self.draft.allowances_charges.push(charge),
        }
        let mut read = vec![1, 2, 5, 7, 8, 10, 15];
        if rate_unit.is_some() {
            read.push(9);
        }
        self.keep_others(seg, &read);
        Ok(())
    }

    fn txi(&mut self, seg: &Segment<'_>, body: &[u8]) -> Result<(), PluginError> {
        // TXI01 tax type (963), TXI02 amount, TXI03 percent, TXI08 the amount taxed.
        let Some(scheme) = seg.opt(1) else {
            self.keep_from(seg, 1);
            return Ok(());
        };
        let amount = self.number(seg, 2, body)?;
        let rate = self.number(seg, 3, body)?;
        match self.line() {
            Some(line) => {
                line.taxes.push(LineTax {
                    scheme: scheme.to_owned(),
                    category: None,
                    rate,
                    amount,
                });
                self.keep_others(seg, &[1, 2, 3]);
            }
            None => {
                let taxable_amount = self.number(seg, 8, body)?;
                self.draft.taxes.push(TaxSubtotal {
                    scheme: scheme.to_owned(),
                    category: None,
                    rate,
                    taxable_amount,
                    amount,
                    exemption_reason: None,
                });
                self.keep_others(seg, &[1, 2, 3, 8]);
            }
        }
        Ok(())
    }

    fn po1(&mut self, seg: &Segment<'_>, body: &[u8], config: &Config) -> Result<(), PluginError> {
        let n = self.draft.lines.len() + 1;
        self.area = Area::Line(n);
        self.line_parties = 0;
        let price = self.number(seg, 4, body)?.map(|amount| {
            // PO105 (639): the quantity the price is for; never divided.
            let basis = seg.opt(5);
            Price {
                amount,
                base_quantity: basis.map_or(Decimal::ONE, codes::price_base_quantity),
                base_unit: None,
                base_unit_original: None,
                kind: None,
                basis_code: basis.map(str::to_owned),
            }
        });
        let mut line = LineDraft {
            offset: seg.offset,
            number: seg.opt(1).map(str::to_owned),
            quantity: self.number(seg, 2, body)?,
            ..LineDraft::default()
        };
        let mut keep = Vec::new();
        if price.is_none() {
            keep.push(5);
        }
        line.price = price;
        if let Some(code) = seg.opt(3) {
            match rec20(config, code) {
                Some(unit) => {
                    if unit != code {
                        line.unit_original = Some(x12_unit(code));
                    }
                    line.unit = Some(unit);
                }
                None => {
                    let path = self.path(seg, 3);
                    if config.strict {
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
                    }
                    // Decision 5 of docs/canonical-order-v2.md: keep the buyer's code.
                    self.draft.warnings.push(Warning {
                        code: "unit-not-rec20".to_owned(),
                        message: format!(
                            "{path}: the unit {code:?} has no UN/ECE Rec 20 equivalent in the plugin's table; \
                             the line keeps it as unit_original with unit ZZ (map it with the config's unit_map)"
                        ),
                        path: Some(path),
                        field: Some(format!("/lines/{}/unit", n - 1)),
                    });
                    line.unit = Some("ZZ".to_owned());
                    line.unit_original = Some(x12_unit(code));
                }
            }
        }
        // PO106/PO107, PO108/PO109 … PO124/PO125: product id qualifier (235) and id.
        let item = &mut line.item;
        for q in (6..seg.elements.len()).step_by(2) {
            let qualifier = seg.get(q);
            let Some(value) = seg.opt(q + 1) else {
                keep.push(q);
                continue;
            };
            if qualifier.is_empty() {
                keep.push(q + 1);
                continue;
            }
            match codes::product_id(qualifier) {
                ProductId::Id(role, scheme) => item.ids.push(ItemId {
                    role,
                    scheme: scheme.map(str::to_owned),
                    value: value.to_owned(),
                    qualifier: Some(qualifier.to_owned()),
                }),
                ProductId::Drawing => item.documents.push(drawing(value)),
                ProductId::DrawingRevision => {
                    match item
                        .documents
                        .iter_mut()
                        .rev()
                        .find(|d| d.kind == DocumentType::Drawing && d.revision.is_none())
                    {
                        Some(drawing) => drawing.revision = Some(value.to_owned()),
                        None => keep.extend([q, q + 1]),
                    }
                }
                ProductId::Description => {
                    if item.name.is_none() {
                        item.name = Some(value.to_owned());
                    } else {
                        append(&mut item.description, value, "\n");
                    }
                }
                ProductId::Model => item.properties.push(ItemProperty {
                    name: "Model number".to_owned(),
                    value: value.to_owned(),
                    unit: None,
                    code: Some(qualifier.to_owned()),
                }),
                ProductId::OriginCountry => match country(value) {
                    Ok(code) if item.origin_country.is_none() => item.origin_country = Some(code),
                    _ => keep.extend([q, q + 1]),
                },
            }
        }
        self.draft.lines.push(line);
        for n in keep {
            self.keep(seg, n);
        }
        Ok(())
    }

    fn pid(&mut self, seg: &Segment<'_>) {
        // PID (X4): 01 F free-form / S structured / X both, 02 characteristic
        // (750), 03 agency, 04 code, 05 text.
        let Some(line) = self.line() else {
            self.keep_from(seg, 1);
            return;
        };
        let item = &mut line.item;
        let read: &[usize] = match (seg.get(1), seg.opt(2), seg.opt(4), seg.opt(5)) {
            ("F", _, _, Some(text)) => {
                if item.name.is_none() {
                    item.name = Some(text.to_owned());
                } else {
                    append(&mut item.description, text, "\n");
                }
                &[1, 5]
            }
            ("S" | "X", characteristic, code, text) if code.or(text).is_some() => {
                item.properties.push(ItemProperty {
                    name: characteristic.unwrap_or("PID").to_owned(),
                    value: text.or(code).unwrap_or_default().to_owned(),
                    unit: None,
                    code: characteristic.map(str::to_owned),
                });
                if text.is_some() {
                    &[1, 2, 5]
                } else {
                    &[1, 2, 4]
                }
            }
            _ => &[],
        };
        self.keep_others(seg, read);
    }

    fn mea(&mut self, seg: &Segment<'_>, config: &Config) {
        // MEA01 reference (737), MEA02 qualifier (738), MEA03 value, MEA04 unit.
        let unit = seg
            .opt(4)
            .and_then(|composite| rec20(config, composite.split(':').next().unwrap_or("")));
        let (Some(name), Some(value)) = (seg.opt(2).or(seg.opt(1)), seg.opt(3)) else {
            self.keep_from(seg, 1);
            return;
        };
        let property = ItemProperty {
            name: name.to_owned(),
            value: value.to_owned(),
            unit: unit.clone(),
            code: seg.opt(1).map(str::to_owned),
        };
        let Some(line) = self.line() else {
            self.keep_from(seg, 1);
            return;
        };
        line.item.properties.push(property);
        let mut read = vec![1, 2, 3];
        if unit.is_some() {
            read.push(4);
        }
        self.keep_others(seg, &read);
    }

    fn po4(&mut self, seg: &Segment<'_>, body: &[u8], config: &Config) -> Result<(), PluginError> {
        // PO401 pack, PO402 size, PO403 its unit (355), PO404 packaging code.
        let pack = self.number(seg, 1, body)?;
        let size = self.number(seg, 2, body)?;
        let size_unit = seg.opt(3).and_then(|code| rec20(config, code));
        let Some(line) = self.line().filter(|l| l.packaging == Default::default()) else {
            self.keep_from(seg, 1);
            return Ok(());
        };
        line.packaging.pack = pack;
        line.packaging.size = size;
        line.packaging.size_unit = size_unit.clone();
        line.packaging.package_code = seg.opt(4).map(str::to_owned);
        let mut read = vec![1, 2, 4];
        if size_unit.is_some() {
            read.push(3);
        }
        self.keep_others(seg, &read);
        Ok(())
    }

    fn sch(&mut self, seg: &Segment<'_>, body: &[u8]) -> Result<(), PluginError> {
        // SCH01 quantity, SCH02 unit, SCH05/SCH06 and SCH08/SCH09 date qualifier
        // (374) and date.
        let quantity = self.number(seg, 1, body)?;
        let (Some(quantity), Some(_)) = (quantity, self.line()) else {
            self.keep_from(seg, 1);
            return Ok(());
        };
        let mut part = ScheduleLine {
            quantity,
            requested_date: None,
            earliest: None,
            latest: None,
        };
        let mut read = vec![1];
        for (q, d) in [(5, 6), (8, 9)] {
            let date = self.value(seg, d, body, |t| self.date(t))?;
            let field = match seg.get(q) {
                "002" => &mut part.requested_date,
                "064" => &mut part.earliest,
                "063" => &mut part.latest,
                _ => continue,
            };
            if let Some(date) = date {
                *field = Some(date);
                read.extend([q, d]);
            }
        }
        if let Some(line) = self.line() {
            line.schedule.push(part);
        }
        self.keep_others(seg, &read);
        Ok(())
    }

    fn amount(&mut self, seg: &Segment<'_>, body: &[u8]) -> Result<(), PluginError> {
        // AMT01 (522): 1 line item total, TT total transaction amount.
        let value = self.number(seg, 2, body)?;
        let Some(value) = value else {
            self.keep_from(seg, 1);
            return Ok(());
        };
        let field = match (self.area, seg.get(1)) {
            (Area::Line(_), "1") => self.draft.lines.last_mut().map(|l| &mut l.line_total),
            // The total is in the CTT loop, but senders put it after the last line
            // without a CTT, or in the header.
            (_, "TT") => Some(&mut self.draft.totals.payable),
            (Area::Summary, "1") => Some(&mut self.draft.totals.line_extension),
            _ => None,
        };
        match field {
            Some(field) if field.is_none() => {
                *field = Some(value);
                self.keep_from(seg, 3);
            }
            _ => self.keep_from(seg, 1),
        }
        Ok(())
    }

    fn ctt(&mut self, seg: &Segment<'_>, body: &[u8]) -> Result<(), PluginError> {
        self.area = Area::Summary;
        let stated = self.value(seg, 1, body, count)?;
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
        // CTT02, the hash total of quantities, and the rest are kept as written.
        self.keep_from(seg, 2);
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
        // No header CUR, but lines that all name one currency: it is the order's.
        if draft.currency.is_none()
            && let Some((_, first, _)) = self.line_currencies.first()
            && self.line_currencies.iter().all(|(_, c, _)| c == first)
        {
            draft.warnings.push(Warning {
                code: "currency-from-amounts".to_owned(),
                message: format!(
                    "ST[{st}] has no header CUR; every line's CUR02 is {first}, taken as the order's currency"
                ),
                path: Some(format!("ST[{st}]/PO1[1]/CUR/CUR02")),
                field: Some("/currency".to_owned()),
            });
            draft.currency = Some(first.clone());
        }
        for (i, code, path) in self.line_currencies {
            if draft.currency.as_ref() == Some(&code) {
                continue;
            }
            draft.warnings.push(Warning {
                code: "foreign-currency-amount".to_owned(),
                message: format!(
                    "ST[{st}]/{path}: the line's currency {code} is not the order's; the line's amounts are kept as written"
                ),
                path: Some(format!("ST[{st}]/{path}")),
                field: Some(format!("/lines/{i}")),
            });
            draft.lines[i].extensions.push(Extension {
                namespace: "x12".to_owned(),
                path,
                value: code,
                attributes: BTreeMap::new(),
            });
        }
        // No N1*BY: the interchange's sender is the ordering party (§1.3 of
        // docs/canonical-order-v2.md), its id qualified by ISA05 (element I05).
        let envelope = &self.envelope;
        if !self.seen_buyer && !envelope.sender_id.is_empty() {
            let ids = &mut draft.buyer.ids;
            ids.push(PartyId {
                scheme: codes::interchange_scheme(&envelope.sender_qualifier).to_owned(),
                value: envelope.sender_id.clone(),
                qualifier: (!envelope.sender_qualifier.is_empty())
                    .then(|| envelope.sender_qualifier.clone()),
            });
            let application = &envelope.application_sender;
            if !application.is_empty() && *application != envelope.sender_id {
                ids.push(PartyId {
                    scheme: party_scheme::UNSPECIFIED.to_owned(),
                    value: application.clone(),
                    qualifier: Some("GS02".to_owned()),
                });
            }
            draft.buyer.source = Some(PartySource::Document);
        }
        draft.finish(&config.defaults(), |field, draft| {
            let (path, what, offset) = match field {
                Field::OrderNumber => (format!("ST[{st}]/BEG/BEG03"), "no purchase order number (BEG03)".to_owned(), se_offset),
                Field::IssueDate => (format!("ST[{st}]/BEG/BEG05"), "no purchase order date (BEG05)".to_owned(), se_offset),
                Field::BuyerName => (
                    format!("ST[{st}]/N1"),
                    "an N1*BY loop with neither a name (N102) nor an id (N104), and the plugin config has no buyer_name".to_owned(),
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
                        "line item {} names no item: no product id in PO106…, no PD description and no PID*F text",
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

/// A taxpayer id (REF*TJ) of a party.
fn tax_id(value: &str) -> PartyId {
    PartyId {
        scheme: party_scheme::TAX.to_owned(),
        value: value.to_owned(),
        qualifier: Some("TJ".to_owned()),
    }
}

/// The buyer's unit code as written, list X12 element 355.
fn x12_unit(code: &str) -> OriginalCode {
    OriginalCode {
        code: code.to_owned(),
        list: "X12-355".to_owned(),
    }
}

/// An X12 unit code (355) as Rec 20: the buyer's `unit_map` first, then the
/// plugin's table.
fn rec20(config: &Config, code: &str) -> Option<String> {
    config
        .mapped_unit(code)
        .or_else(|| units::rec20(code))
        .map(str::to_owned)
}

/// A drawing of the item (PO1 `DW`, `DR`).
fn drawing(id: &str) -> Document {
    Document {
        id: Some(id.to_owned()),
        ..Document::of_kind(DocumentType::Drawing)
    }
}

/// An X12 `N2` amount (SAC05, ITD08): two implied decimals, so `1250` is 12.50. A
/// sender that writes the point anyway is read as written.
fn implied_cents(text: &str) -> Result<Decimal, String> {
    if text.contains('.') {
        return decimal(text, b'.');
    }
    let cents: i64 = text
        .parse()
        .ok()
        .filter(|c| *c >= 0 && text.bytes().all(|b| b.is_ascii_digit()))
        .ok_or_else(|| {
            format!(
                "{text:?} is not an amount in cents (X12 type N2: digits with two implied decimals)"
            )
        })?;
    Ok(Decimal::new(cents, 2))
}
