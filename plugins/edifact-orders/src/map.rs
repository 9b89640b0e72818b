//! One ORDERS message (UNH … UNT) → one canonical order (v2).
//!
//! ORDERS segment groups have no end marker: a NAD group lasts until the next
//! NAD or LIN, a LIN group until the next LIN or UNS, an RFF group until a
//! segment that is not its DTM. The mapper keeps the area it is in (header, a NAD
//! group, a LIN group, the summary) and the group inside it (RFF, ALC, TAX, PAT,
//! TOD, PRI, SCC, CTA …), and reads DTM, MOA, PCD, QTY, COM and LOC according to
//! that group (D.96A segment table: <https://service.unece.org/trade/untdid/d96a/trmd/orders_c.htm>).
//!
//! Every segment is read into canonical fields where v2 has them
//! (plugins/edifact-orders/README.md has the table); whatever a segment carries
//! beyond them (a data element the mapping does not read, a second value where
//! the order has room for one, a segment with no field at all) is kept as an
//! extension (namespace `edifact`) with the segment as written, so nothing is
//! dropped silently.

use std::collections::BTreeMap;

use edi_common::values::{count, country, currency, date_ccyymmdd, date_yymmdd};
use edi_common::{Config, Field, LineDraft, OrderDraft, error_at, note};
use jembatan_plugin_sdk::{
    Address, AllowanceCharge, AllowanceChargeKind, AllowanceChargeLevel, Classification, Contact,
    Decimal, Delivery, Document, DocumentType, Extension, ItemId, ItemIdRole, ItemProperty,
    LineTax, NaiveDate, OrderType, OriginalCode, OtherParty, Party, PartyId, PaymentTerms,
    PluginError, Price, PriceKind, PurchaseOrder, Purpose, Reference, ReferenceType, ScheduleLine,
    TaxCategory, TaxSubtotal, Transport, Warning, party_scheme,
};

use crate::lex::{Segment, decimal};
use crate::units;

/// The code list of EDIFACT unit codes, for `unit_original`.
const UNIT_LIST: &str = "EDIFACT-6411";

/// The interchange's sender (UNB S002), the buyer's id when no NAD+BY names it.
#[derive(Debug, Clone, Default)]
pub struct Sender {
    /// 0004, the sender identification.
    pub id: String,
    /// 0007, the partner identification code qualifier (14 GLN, 1 DUNS …).
    pub qualifier: String,
}

/// Whose NAD group we are in: where its CTA/COM and RFF go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    Buyer,
    Supplier,
    /// The first NAD+DP or NAD+ST: `delivery.location` (its contacts: `delivery.contacts`).
    Delivery,
    /// `other_parties[i]`.
    Other(usize),
    /// A NAD group inside a LIN group: the line's delivery place (DP/ST).
    LineDelivery,
    /// A NAD group whose party has no field (kept as extensions).
    Kept,
}

/// Where in the message the last group-starting segment put us.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Area {
    Header,
    /// NAD group `n` (1-based).
    Party(Target, usize),
    /// LIN group `n`.
    Line(usize),
    /// After UNS.
    Summary,
}

/// The group inside the area that the last group-starting segment opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Group {
    None,
    /// RFF + DTM: the DTM is the reference's date.
    Rff(RefTarget),
    /// CTA + COM.
    Contact,
    /// ALC + ALI, DTM, QTY, PCD, MOA, RTE, TAX.
    Alc,
    /// TAX + MOA inside an ALC group.
    AlcTax,
    /// TAX + MOA, LOC.
    Tax,
    /// PAT + DTM, PCD, MOA.
    Pat,
    /// TOD + LOC.
    Tod,
    /// PRI + CUX, APR, RNG, DTM.
    Pri,
    /// SCC + QTY, DTM.
    Scc,
    /// A group whose segments have no field: CUX + DTM, PAC + MEA/QTY…, LOC + QTY/DTM, DOC + DTM.
    Kept,
}

/// Which list the last RFF went to, for its DTM.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RefTarget {
    Order,
    Line,
    OrderDocument,
    LineDocument,
    /// An RFF read into a party id: its DTM is kept as an extension.
    Party,
}

impl Group {
    /// Whether `tag` belongs to this group (else it is read at the area's level).
    fn holds(self, tag: &str) -> bool {
        match self {
            Group::None => false,
            Group::Rff(_) | Group::Pri => matches!(tag, "DTM" | "CUX" | "APR" | "RNG"),
            Group::Contact => tag == "COM",
            Group::Alc => matches!(
                tag,
                "ALI" | "DTM" | "QTY" | "RNG" | "PCD" | "MOA" | "RTE" | "TAX"
            ),
            Group::AlcTax => tag == "MOA",
            Group::Tax => matches!(tag, "MOA" | "LOC"),
            Group::Pat => matches!(tag, "DTM" | "PCD" | "MOA"),
            Group::Tod => tag == "LOC",
            Group::Scc => matches!(tag, "QTY" | "DTM" | "RNG"),
            Group::Kept => matches!(tag, "DTM" | "QTY" | "MEA" | "PCI" | "GIN" | "HAN" | "RFF"),
        }
    }
}

/// What a segment's reader took into canonical fields; the rest of the segment,
/// if any, is kept as an extension.
enum Read {
    /// Everything: nothing to keep.
    All,
    /// These (element, component) positions of the first repetition.
    Only(Vec<(usize, usize)>),
    /// Nothing: the whole segment is kept.
    Nothing,
}

/// An allowance or charge being read, placed when the message ends (an ALC
/// with neither amount, percent nor rate has no canonical form and is kept).
struct PendingCharge {
    line: Option<usize>,
    charge: AllowanceCharge,
    path: String,
    text: String,
}

/// The line being read: which of its segments won a single-valued field.
#[derive(Default)]
struct LineState {
    /// The QTY the quantity came from: (qualifier, path, segment text).
    quantity_from: Option<(String, String, String)>,
    /// The PRI the price came from: (net, path, segment text).
    price_from: Option<(bool, String, String)>,
}

/// An ORDERS message being read.
pub struct Message {
    /// 1-based position of this UNH in the body (`UNH[2]`).
    index: usize,
    decimal_mark: u8,
    /// 3035 of the current header NAD group (BY, SU, IV …).
    party_role: String,
    area: Area,
    group: Group,
    parties: usize,
    sender: Sender,
    line_state: LineState,
    /// The NAD group inside the current LIN group, if any.
    line_party: Option<Target>,
    /// Unit codes already warned about as not Rec 20.
    units_warned: Vec<String>,
    charges: Vec<PendingCharge>,
    draft: OrderDraft,
}

impl Message {
    /// Starts reading after an ORDERS UNH; `(syntax, association)` is what its
    /// S009 declares.
    pub fn new(
        index: usize,
        reference: &str,
        decimal_mark: u8,
        (syntax, association): (String, Option<String>),
        sender: Sender,
    ) -> Self {
        let mut draft = OrderDraft::new("edifact-orders", &syntax);
        draft.source.customization = association;
        draft.source.control_number = (!reference.is_empty()).then(|| reference.to_owned());
        Self {
            index,
            decimal_mark,
            party_role: String::new(),
            area: Area::Header,
            group: Group::None,
            parties: 0,
            sender,
            line_state: LineState::default(),
            line_party: None,
            units_warned: Vec::new(),
            charges: Vec::new(),
            draft,
        }
    }

    /// The current group's path in the message: ``, `NAD[2]/`, `LIN[3]/`.
    fn group_path(&self) -> String {
        match self.area {
            Area::Header | Area::Summary => String::new(),
            Area::Party(_, n) => format!("NAD[{n}]/"),
            Area::Line(n) => format!("LIN[{n}]/"),
        }
    }

    /// Where a segment is, relative to the message: `LIN[3]/QTY`, `NAD[2]` (the
    /// NAD that opens the group), `BGM`.
    fn segment_path(&self, tag: &str) -> String {
        let group = self.group_path();
        if matches!(
            (tag, self.area),
            ("NAD", Area::Party(..)) | ("LIN", Area::Line(_))
        ) {
            group.trim_end_matches('/').to_owned()
        } else {
            format!("{group}{tag}")
        }
    }

    /// `UNH[1]/LIN[3]/QTY/6060`: the error path of data element `element`.
    fn path(&self, tag: &str, element: &str) -> String {
        format!("UNH[{}]/{}/{element}", self.index, self.segment_path(tag))
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

    /// The delivery of the current line, else of the order.
    fn delivery(&mut self) -> &mut Delivery {
        match self.area {
            Area::Line(_) => &mut self.draft.lines.last_mut().expect("a LIN group").delivery,
            _ => &mut self.draft.delivery,
        }
    }

    /// Keeps `value` as an extension of the current line, else of the order.
    fn keep(&mut self, path: String, value: String, attributes: BTreeMap<String, String>) {
        let extension = Extension {
            namespace: "edifact".to_owned(),
            path,
            value,
            attributes,
        };
        match self.line() {
            Some(line) => line.extensions.push(extension),
            None => self.draft.extensions.push(extension),
        }
    }

    /// Keeps the whole segment as an extension.
    fn keep_segment(&mut self, seg: &Segment<'_>) {
        let path = self.segment_path(seg.tag());
        self.keep(path, seg.render(), BTreeMap::new());
    }

    fn warn(&mut self, code: &str, message: String, path: String, field: Option<String>) {
        self.draft.warnings.push(Warning {
            code: code.to_owned(),
            message,
            path: Some(path),
            field,
        });
    }

    /// Reads one segment between UNH and UNT.
    pub fn segment(
        &mut self,
        seg: &Segment<'_>,
        body: &[u8],
        config: &Config,
    ) -> Result<(), PluginError> {
        let tag = seg.tag();
        if !self.group.holds(tag) {
            self.group = Group::None;
        }
        // These start the header's own groups; a NAD group before them is over.
        if matches!(
            tag,
            "TAX" | "CUX" | "PAT" | "TDT" | "TOD" | "PAC" | "ALC" | "MOA" | "FTX" | "DTM"
        ) && matches!(self.area, Area::Party(..))
            && self.group == Group::None
        {
            self.area = Area::Header;
        }
        let read = match tag {
            "BGM" => self.bgm(seg, body)?,
            "DTM" => self.dtm(seg, body)?,
            "CUX" => self.cux(seg, body)?,
            "FTX" => self.ftx(seg),
            "RFF" => self.rff(seg),
            "NAD" => self.nad(seg),
            "CTA" => self.cta(seg),
            "COM" => self.com(seg),
            "TOD" => self.tod(seg),
            "LOC" => self.loc(seg),
            "PAT" => self.pat(seg),
            "PCD" => self.pcd(seg, body)?,
            "TDT" => self.tdt(seg),
            "ALC" => self.alc(seg),
            "RTE" => self.rte(seg, body)?,
            "TAX" => self.tax(seg, body)?,
            "LIN" => self.lin(seg),
            "PIA" => self.pia(seg),
            "IMD" => self.imd(seg),
            "MEA" => self.mea(seg),
            "QTY" => self.qty(seg, body, config)?,
            "PRI" => self.pri(seg, body, config)?,
            "MOA" => self.moa(seg, body)?,
            "PAC" => self.pac(seg, body)?,
            "ALI" => self.ali(seg),
            "SCC" => {
                self.group = Group::Scc;
                Read::Nothing
            }
            "UNS" => {
                self.area = Area::Summary;
                Read::All
            }
            "CNT" => self.cnt(seg, body)?,
            _ => {
                if tag == "DOC" {
                    self.group = Group::Kept;
                }
                Read::Nothing
            }
        };
        match read {
            Read::All => {}
            Read::Nothing => self.keep_segment(seg),
            Read::Only(taken) => {
                let rest = seg
                    .filled()
                    .into_iter()
                    .any(|(e, r, c)| r > 0 || !taken.contains(&(e, c)));
                if rest {
                    self.keep_segment(seg);
                }
            }
        }
        Ok(())
    }

    fn bgm(&mut self, seg: &Segment<'_>, body: &[u8]) -> Result<Read, PluginError> {
        let mut taken = vec![(1, 1), (1, 2), (1, 3), (1, 4), (2, 1), (3, 1)];
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
            // UNCL 1225: 9 original, 5 replace, 7 duplicate, 31 copy.
            "9" | "" => {}
            "5" => self.draft.purpose = Some(Purpose::Replace),
            "7" | "31" => self.draft.purpose = Some(Purpose::Copy),
            _ => taken.retain(|&at| at != (3, 1)),
        }
        if let Some(code) = seg.opt(1, 1) {
            self.draft.order_type = Some(OrderType {
                code: code.into_owned(),
                list: "UNCL1001".to_owned(),
                text: seg.opt(1, 4).map(|t| t.into_owned()),
            });
        }
        // 1004 is a simple element up to D96A and the first component of C106
        // from D96B on; either way it is component 1 of element 2.
        if let Some(number) = seg.opt(2, 1)
            && self.draft.number.is_none()
        {
            self.draft.number = Some(number.into_owned());
        }
        Ok(Read::Only(taken))
    }

    fn dtm(&mut self, seg: &Segment<'_>, body: &[u8]) -> Result<Read, PluginError> {
        let qualifier = seg.text(1, 1).into_owned();
        let format = seg.text(1, 3);
        let Some((when, timed)) = self.value(seg, (1, 2, "2380"), body, |t| date(t, &format))?
        else {
            return Ok(Read::Nothing);
        };
        let day = when.start();
        let set = match (self.group, qualifier.as_str()) {
            (Group::Rff(target), _) => {
                let issue_date = match target {
                    RefTarget::Order => self.draft.references.last_mut().map(|r| &mut r.issue_date),
                    RefTarget::Line => self
                        .draft
                        .lines
                        .last_mut()
                        .and_then(|l| l.references.last_mut())
                        .map(|r| &mut r.issue_date),
                    RefTarget::OrderDocument | RefTarget::LineDocument | RefTarget::Party => None,
                };
                issue_date.is_some_and(|field| put(field, day))
            }
            (Group::Pat, "13") => self
                .draft
                .payment_terms
                .last_mut()
                .is_some_and(|t| put(&mut t.due_date, day)),
            (Group::Pat, "12") => self
                .draft
                .payment_terms
                .last_mut()
                .is_some_and(|t| put(&mut t.discount_due_date, day)),
            (Group::Scc, _) => {
                let schedule = self.line().and_then(|l| l.schedule.last_mut());
                schedule.is_some_and(|s| match (qualifier.as_str(), when) {
                    ("2", When::Day(d)) => put(&mut s.requested_date, d),
                    ("2", When::Window(a, b)) => put(&mut s.earliest, a) & put(&mut s.latest, b),
                    ("64", _) => put(&mut s.earliest, day),
                    ("63", _) => put(&mut s.latest, when.end()),
                    _ => false,
                })
            }
            (Group::None, "137" | "4") if !matches!(self.area, Area::Line(_)) => {
                // 137 document date; 4 (order date) from senders that write that instead.
                put(&mut self.draft.issue_date, day)
            }
            (Group::None, _) if !matches!(self.area, Area::Summary) => {
                delivery_date(self.delivery(), &qualifier, when)
            }
            _ => false,
        };
        if timed && set {
            let path = self.segment_path("DTM");
            self.warn(
                "time-dropped",
                format!(
                    "{path}: the time of day in {:?} is not kept in the date; the segment is kept as an extension",
                    seg.text(1, 2)
                ),
                path,
                None,
            );
            return Ok(Read::Nothing);
        }
        Ok(if set { Read::All } else { Read::Nothing })
    }

    fn cux(&mut self, seg: &Segment<'_>, body: &[u8]) -> Result<Read, PluginError> {
        self.group = Group::Kept;
        if self.draft.currency.is_some() || self.area != Area::Header {
            return Ok(Read::Nothing);
        }
        self.draft.currency = self.value(seg, (1, 2, "6345"), body, currency)?;
        // 6347 2 (reference currency) and 6343 9 (order currency) say what it is.
        Ok(Read::Only(vec![(1, 1), (1, 2), (1, 3)]))
    }

    fn ftx(&mut self, seg: &Segment<'_>) -> Read {
        let text = (1..=5)
            .filter_map(|c| seg.opt(4, c))
            .collect::<Vec<_>>()
            .join(" ");
        let Some(mut note) = note(&text) else {
            return Read::Nothing;
        };
        note.subject = seg.opt(1, 1).map(|s| s.into_owned());
        match self.line() {
            // UNTDID 4451 AFM is "Title": in a LIN group, the title of the item
            // ordered (a book's, as EDItEUR senders write it). It names an item that
            // no IMD has named; beside an IMD name it stays a note.
            Some(line) if note.subject.as_deref() == Some("AFM") && line.item.name.is_none() => {
                line.item.name = Some(note.text);
            }
            Some(line) => line.notes.push(note),
            None => self.draft.notes.push(note),
        }
        // 4453 (text function) and 4447 (format) say nothing a reader needs.
        Read::Only(vec![
            (1, 1),
            (2, 1),
            (4, 1),
            (4, 2),
            (4, 3),
            (4, 4),
            (4, 5),
            (6, 1),
        ])
    }

    fn rff(&mut self, seg: &Segment<'_>) -> Read {
        let (Some(value), qualifier) = (seg.opt(1, 2), seg.text(1, 1)) else {
            return Read::Nothing;
        };
        let (value, qualifier) = (value.into_owned(), qualifier.into_owned());
        if let Area::Party(target, _) = self.area {
            // RFF+VA in a NAD group: the party's VAT registration number (NPWP).
            let scheme = match qualifier.as_str() {
                "VA" => Some(party_scheme::TAX),
                _ => None,
            };
            if let Some(scheme) = scheme
                && let Some(ids) = self.party_ids(target)
            {
                ids.push(PartyId {
                    scheme: scheme.to_owned(),
                    value,
                    qualifier: Some(qualifier),
                });
                self.group = Group::Rff(RefTarget::Party);
                return Read::Only(vec![(1, 1), (1, 2)]);
            }
        }
        // RFF+AAL, a drawing number: the order's or the item's drawing.
        if qualifier == "AAL" {
            let document = Document {
                id: Some(value),
                revision: seg.opt(1, 5).map(|r| r.into_owned()),
                ..Document::of_kind(DocumentType::Drawing)
            };
            let target = match self.line() {
                Some(line) => {
                    line.item.documents.push(document);
                    RefTarget::LineDocument
                }
                None => {
                    self.draft.documents.push(document);
                    RefTarget::OrderDocument
                }
            };
            self.group = Group::Rff(target);
            return Read::Only(vec![(1, 1), (1, 2), (1, 5)]);
        }
        let description = match self.area {
            Area::Party(_, n) => Some(format!("in NAD[{n}] (NAD+{})", self.party_role)),
            _ => None,
        };
        let reference = Reference {
            kind: reference_type(&qualifier),
            value,
            issue_date: None,
            line_number: seg.opt(1, 3).map(|l| l.into_owned()),
            qualifier: Some(qualifier),
            description,
        };
        let target = match self.line() {
            Some(line) => {
                line.references.push(reference);
                RefTarget::Line
            }
            None => {
                self.draft.references.push(reference);
                RefTarget::Order
            }
        };
        self.group = Group::Rff(target);
        Read::Only(vec![(1, 1), (1, 2), (1, 3)])
    }

    /// The id list of the party a NAD group went to.
    fn party_ids(&mut self, target: Target) -> Option<&mut Vec<PartyId>> {
        let draft = &mut self.draft;
        match target {
            Target::Buyer => Some(&mut draft.buyer.ids),
            Target::Supplier => Some(&mut draft.supplier.ids),
            Target::Delivery => Some(&mut draft.delivery.location.get_or_insert_default().ids),
            Target::Other(i) => Some(&mut draft.other_parties[i].party.ids),
            Target::LineDelivery => draft
                .lines
                .last_mut()
                .map(|l| &mut l.delivery.location.get_or_insert_default().ids),
            Target::Kept => None,
        }
    }

    /// The contact list of the party a NAD group went to.
    fn party_contacts(&mut self, target: Target) -> Option<&mut Vec<Contact>> {
        let draft = &mut self.draft;
        match target {
            Target::Buyer => Some(&mut draft.buyer.contacts),
            Target::Supplier => Some(&mut draft.supplier.contacts),
            Target::Delivery => Some(&mut draft.delivery.contacts),
            Target::Other(i) => Some(&mut draft.other_parties[i].party.contacts),
            Target::LineDelivery => draft.lines.last_mut().map(|l| &mut l.delivery.contacts),
            Target::Kept => None,
        }
    }

    fn nad(&mut self, seg: &Segment<'_>) -> Read {
        let role = seg.text(1, 1).into_owned();
        let in_line = matches!(self.area, Area::Line(_));
        let draft = &self.draft;
        let target = match role.as_str() {
            "DP" | "ST" if in_line => Target::LineDelivery,
            _ if in_line => Target::Kept,
            "BY" if draft.buyer == Party::default() => Target::Buyer,
            "SU" if draft.supplier_code.is_none() && draft.supplier == Party::default() => {
                Target::Supplier
            }
            "DP" | "ST" if draft.delivery.location.is_none() => Target::Delivery,
            _ => Target::Other(draft.other_parties.len()),
        };
        if in_line {
            // Its CTA and COM go to the line's delivery contacts, or are kept.
            self.line_party = Some(target);
        } else {
            self.parties += 1;
            self.area = Area::Party(target, self.parties);
            self.party_role.clone_from(&role);
        }
        if target == Target::Kept {
            // Inside a LIN group only a delivery place has a field.
            return Read::Nothing;
        }
        let (ids, name, address, lines) = self.party_fields(seg);
        let draft = &mut self.draft;
        let address = Some(Address { lines, ..address });
        match target {
            Target::Buyer => {
                draft.buyer.ids = ids;
                draft.buyer.name = name;
                draft.buyer.address = address;
            }
            Target::Supplier => {
                draft.supplier_code = seg.opt(2, 1).map(|id| id.into_owned());
                draft.supplier.ids = ids;
                draft.supplier.name = name;
                draft.supplier.address = address;
            }
            Target::Delivery => {
                let location = draft.delivery.location.get_or_insert_default();
                location.ids = ids;
                location.name = name;
                location.address = address;
            }
            Target::LineDelivery => {
                let line = draft.lines.last_mut().expect("a LIN group");
                let location = line.delivery.location.get_or_insert_default();
                location.ids = ids;
                location.name = name;
                location.address = address;
            }
            Target::Other(_) => draft.other_parties.push(OtherParty {
                role: party_role(&role).to_owned(),
                role_code: Some(role).filter(|r| !r.is_empty()),
                party: Party {
                    ids,
                    name,
                    address,
                    ..Party::default()
                },
            }),
            Target::Kept => {}
        }
        Read::Only(NAD_FIELDS.to_vec())
    }

    /// A NAD's party id (C082), name (C080, else the C058 lines), address, and
    /// the C058 lines when C080 names it.
    fn party_fields(
        &mut self,
        seg: &Segment<'_>,
    ) -> (Vec<PartyId>, Option<String>, Address, Vec<String>) {
        let joined = |e: usize, n: usize| {
            let text = (1..=n)
                .filter_map(|c| seg.opt(e, c))
                .collect::<Vec<_>>()
                .join(" ");
            (!text.is_empty()).then_some(text)
        };
        let ids = seg
            .opt(2, 1)
            .map(|id| {
                // 3055, the agency that issued the id; some senders write it in
                // 1131 (the code list) instead.
                let agency = seg.opt(2, 3).or_else(|| seg.opt(2, 2));
                vec![PartyId {
                    scheme: agency_scheme(agency.as_deref().unwrap_or(""), &id).to_owned(),
                    value: id.into_owned(),
                    qualifier: agency.map(|a| a.into_owned()),
                }]
            })
            .unwrap_or_default();
        let c058: Vec<String> = (1..=5)
            .filter_map(|c| seg.opt(3, c).map(|t| t.into_owned()))
            .collect();
        let (name, lines) = match joined(4, 5) {
            Some(name) => (Some(name), c058),
            None => (joined(3, 5), Vec::new()),
        };
        let country = match seg.opt(9, 1) {
            Some(code) if country(&code).is_ok() => Some(code.into_owned()),
            Some(code) => {
                // A placeholder such as "xx" is no ISO 3166 code; the address is
                // kept without it, and the code as written beside it.
                let path = format!("{}/3207", self.segment_path("NAD"));
                self.warn(
                    "invalid-country",
                    format!(
                        "{path}: {code:?} is not an ISO 3166-1 country code; the address is kept without a country and the code as an extension"
                    ),
                    path.clone(),
                    None,
                );
                self.keep(path, code.into_owned(), BTreeMap::new());
                None
            }
            None => None,
        };
        let address = Address {
            street: seg.opt(5, 1).map(|s| s.into_owned()),
            additional_street: {
                let rest = (2..=4)
                    .filter_map(|c| seg.opt(5, c))
                    .collect::<Vec<_>>()
                    .join(", ");
                (!rest.is_empty()).then_some(rest)
            },
            city: seg.opt(6, 1).map(|s| s.into_owned()),
            // C819: the name (3228, D01B) reads better than the code (3229).
            region: seg
                .opt(7, 4)
                .or_else(|| seg.opt(7, 1))
                .map(|s| s.into_owned()),
            postal_code: seg.opt(8, 1).map(|s| s.into_owned()),
            country,
            ..Address::default()
        };
        (ids, name, address, lines)
    }
    /// The party the current NAD group (in the header or in the LIN group) went to.
    fn party_target(&self) -> Option<Target> {
        match self.area {
            Area::Party(target, _) => Some(target),
            Area::Line(_) => self.line_party,
            _ => None,
        }
    }

    fn cta(&mut self, seg: &Segment<'_>) -> Read {
        let Some(contacts) = self.party_target().and_then(|t| self.party_contacts(t)) else {
            return Read::Nothing;
        };
        // C056: 3413 department or employee code, 3412 the name. Senders that
        // fill only 3413 write the person's name there (`CTA+PD+Herr Foo`).
        let (code, name) = (seg.opt(2, 1), seg.opt(2, 2));
        let (department, name) = match (code, name) {
            (code, Some(name)) => (code, Some(name)),
            (code, None) => (None, code),
        };
        contacts.push(Contact {
            role: seg.opt(1, 1).map(|r| r.into_owned()),
            department: department.map(|d| d.into_owned()),
            name: name.map(|n| n.into_owned()),
            ..Contact::default()
        });
        self.group = Group::Contact;
        Read::All
    }

    fn com(&mut self, seg: &Segment<'_>) -> Read {
        let Some(contacts) = self.party_target().and_then(|t| self.party_contacts(t)) else {
            return Read::Nothing;
        };
        let Some(number) = seg.opt(1, 1) else {
            return Read::Nothing;
        };
        if contacts.is_empty() {
            contacts.push(Contact::default());
        }
        let contact = contacts.last_mut().expect("one contact");
        // 3155: TE telephone, EM e-mail, FX fax; one of each per contact.
        let field = match &*seg.text(1, 2) {
            "TE" => &mut contact.phone,
            "EM" => &mut contact.email,
            "FX" => &mut contact.fax,
            _ => return Read::Nothing,
        };
        if put(field, number.into_owned()) && seg.filled().len() == 2 {
            Read::All
        } else {
            Read::Nothing
        }
    }

    fn tod(&mut self, seg: &Segment<'_>) -> Read {
        if self.area != Area::Header {
            return Read::Nothing;
        }
        let terms = &mut self.draft.delivery_terms;
        if *terms != Default::default() {
            return Read::Nothing;
        }
        // C100 4053: the Incoterms code (FCA, EXW …) when it is one.
        let code = seg.text(3, 1);
        let incoterm = code.len() == 3 && code.bytes().all(|b| b.is_ascii_uppercase());
        if incoterm {
            terms.incoterm = Some(code.into_owned());
        }
        terms.transport_payment = seg.opt(2, 1).map(|p| p.into_owned());
        let text = [seg.opt(3, 4), seg.opt(3, 5)]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        terms.text = (!text.is_empty()).then_some(text);
        self.group = Group::Tod;
        let mut taken = vec![(2, 1), (3, 2), (3, 3), (3, 4), (3, 5)];
        if incoterm {
            taken.push((3, 1));
        }
        Read::Only(taken)
    }

    fn loc(&mut self, seg: &Segment<'_>) -> Read {
        // C517 3225 the place's id, 3224 its name.
        let place = seg
            .opt(2, 4)
            .or_else(|| seg.opt(2, 1))
            .map(|p| p.into_owned());
        if self.group == Group::Tod {
            // LOC+1 in the TOD group: the place the terms name.
            if let Some(place) = place
                && put(&mut self.draft.delivery_terms.place, place)
            {
                return Read::Only(vec![(1, 1), (2, 1), (2, 4)]);
            }
            return Read::Nothing;
        }
        self.group = Group::Kept;
        // LOC+7 (place of delivery) in a LIN group: where this line goes.
        if seg.text(1, 1) == "7"
            && let Some(line) = self.line()
            && line.delivery.location.is_none()
        {
            let location = line.delivery.location.get_or_insert_default();
            location.ids = seg
                .opt(2, 1)
                .map(|id| {
                    let agency = seg.opt(2, 3);
                    vec![PartyId {
                        scheme: agency_scheme(agency.as_deref().unwrap_or(""), &id).to_owned(),
                        value: id.into_owned(),
                        qualifier: agency.map(|a| a.into_owned()),
                    }]
                })
                .unwrap_or_default();
            location.name = seg.opt(2, 4).map(|n| n.into_owned());
            return Read::Only(vec![(1, 1), (2, 1), (2, 2), (2, 3), (2, 4)]);
        }
        Read::Nothing
    }

    fn pat(&mut self, seg: &Segment<'_>) -> Read {
        if self.area != Area::Header {
            return Read::Nothing;
        }
        let mut terms = PaymentTerms {
            code: seg.opt(2, 1).map(|c| c.into_owned()),
            ..PaymentTerms::default()
        };
        let text = [seg.opt(2, 4), seg.opt(2, 5)]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        terms.text = (!text.is_empty()).then_some(text);
        let mut taken = vec![(2, 1), (2, 2), (2, 3), (2, 4), (2, 5)];
        // C112: 2151 D (days) and 2152 their number; PAT 4279 22 is a discount.
        if seg.text(3, 3) == "D"
            && let Ok(days) = seg.text(3, 4).parse::<u32>()
        {
            if seg.text(1, 1) == "22" {
                terms.discount_days = Some(days);
            } else {
                terms.net_days = Some(days);
            }
            taken.extend([(1, 1), (3, 3), (3, 4)]);
        }
        self.draft.payment_terms.push(terms);
        self.group = Group::Pat;
        Read::Only(taken)
    }

    fn pcd(&mut self, seg: &Segment<'_>, body: &[u8]) -> Result<Read, PluginError> {
        let percent = self.amount(seg, (1, 2, "5482"), body)?;
        let Some(percent) = percent else {
            return Ok(Read::Nothing);
        };
        let set = match self.group {
            // 5245 qualifies the percentage (1 allowance, 2 charge, 3 either).
            Group::Alc => self
                .charges
                .last_mut()
                .is_some_and(|c| put(&mut c.charge.percent, percent)),
            // PCD+12: the discount of the payment terms.
            Group::Pat if seg.text(1, 1) == "12" => self
                .draft
                .payment_terms
                .last_mut()
                .is_some_and(|t| put(&mut t.discount_percent, percent)),
            _ => false,
        };
        Ok(if set {
            Read::Only(vec![(1, 1), (1, 2)])
        } else {
            Read::Nothing
        })
    }

    fn tdt(&mut self, seg: &Segment<'_>) -> Read {
        self.group = Group::Kept;
        let transport = Transport {
            // C220: 8066 the mode's name, else 8067 its code (UNECE Rec 19).
            mode: seg
                .opt(3, 2)
                .or_else(|| seg.opt(3, 1))
                .map(|m| m.into_owned()),
            // C040: 3128 the carrier's name, else 3127 its id.
            carrier: seg
                .opt(5, 4)
                .or_else(|| seg.opt(5, 1))
                .map(|c| c.into_owned()),
            ..Transport::default()
        };
        let delivery = self.delivery();
        if delivery.transport.is_some() || transport == Transport::default() {
            return Read::Nothing;
        }
        delivery.transport = Some(transport);
        Read::Only(vec![(1, 1), (3, 1), (3, 2), (5, 1), (5, 2), (5, 3), (5, 4)])
    }

    fn alc(&mut self, seg: &Segment<'_>) -> Read {
        self.group = Group::Alc;
        let kind = match &*seg.text(1, 1) {
            "A" => AllowanceChargeKind::Allowance,
            "C" => AllowanceChargeKind::Charge,
            // N (no allowance or charge) and others: kept as written.
            _ => {
                self.group = Group::Kept;
                return Read::Nothing;
            }
        };
        let line = match self.area {
            Area::Line(n) => Some(n - 1),
            _ => None,
        };
        // C214 7161 (special service) is the reason; else C552 5189.
        let (reason_code, reason_code_list) = match (seg.opt(5, 1), seg.opt(2, 2)) {
            (Some(code), _) => (Some(code.into_owned()), Some("UNCL7161")),
            (None, Some(code)) => (Some(code.into_owned()), Some("UNCL5189")),
            (None, None) => (None, None),
        };
        let reason = [seg.opt(5, 4), seg.opt(5, 5)]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        let sequence = seg.text(4, 1).parse::<u32>().ok();
        let charge = AllowanceCharge {
            kind,
            level: Some(if line.is_some() {
                AllowanceChargeLevel::Line
            } else {
                AllowanceChargeLevel::Order
            }),
            reason_code,
            reason_code_list: reason_code_list.map(str::to_owned),
            reason: (!reason.is_empty()).then_some(reason),
            amount: None,
            percent: None,
            base_amount: None,
            rate: None,
            rate_quantity: None,
            rate_unit: None,
            sequence,
            tax: None,
        };
        self.charges.push(PendingCharge {
            line,
            charge,
            path: self.segment_path("ALC"),
            text: seg.render(),
        });
        let mut taken = vec![(1, 1), (2, 2), (5, 1), (5, 2), (5, 3), (5, 4), (5, 5)];
        if sequence.is_some() {
            taken.push((4, 1));
        }
        Read::Only(taken)
    }

    fn rte(&mut self, seg: &Segment<'_>, body: &[u8]) -> Result<Read, PluginError> {
        // C128: 5419 qualifier, 5420 rate, 5284 per how many, 6411 of what.
        let rate = self.amount(seg, (1, 2, "5420"), body)?;
        let basis = self.amount(seg, (1, 3, "5284"), body)?;
        let unit = seg.opt(1, 4).filter(|u| units::rec20(u).is_some());
        let Some(charge) = self.charges.last_mut().filter(|_| self.group == Group::Alc) else {
            return Ok(Read::Nothing);
        };
        let charge = &mut charge.charge;
        if rate.is_none() || charge.rate.is_some() {
            return Ok(Read::Nothing);
        }
        charge.rate = rate;
        charge.rate_quantity = basis;
        charge.rate_unit = unit.as_deref().and_then(units::rec20).map(str::to_owned);
        let mut taken = vec![(1, 1), (1, 2), (1, 3)];
        if charge.rate_unit.is_some() {
            taken.push((1, 4));
        }
        Ok(Read::Only(taken))
    }

    fn tax(&mut self, seg: &Segment<'_>, body: &[u8]) -> Result<Read, PluginError> {
        // C241 5153 the tax type (VAT, GST), C243 5278 the rate, 5305 the category.
        let scheme = seg.opt(2, 1).map(|s| s.into_owned());
        let rate = self.amount(seg, (5, 4, "5278"), body)?;
        let category = seg.opt(6, 1).map(|c| c.into_owned());
        if matches!(self.group, Group::Alc | Group::AlcTax) {
            self.group = Group::AlcTax;
            if let (Some(category), Some(rate), Some(pending)) =
                (category, rate, self.charges.last_mut())
                && pending.charge.tax.is_none()
            {
                pending.charge.tax = Some(TaxCategory { category, rate });
                return Ok(Read::Only(vec![(1, 1), (2, 1), (5, 4), (6, 1)]));
            }
            return Ok(Read::Nothing);
        }
        self.group = Group::Tax;
        let Some(scheme) = scheme else {
            self.group = Group::Kept;
            return Ok(Read::Nothing);
        };
        let mut taken = vec![(1, 1), (2, 1), (5, 4), (6, 1)];
        if let Some(line) = self.line() {
            line.taxes.push(LineTax {
                scheme,
                category,
                rate,
                amount: None,
            });
        } else {
            let taxable_amount = self.amount(seg, (4, 1, "5286"), body)?;
            taken.push((4, 1));
            self.draft.taxes.push(TaxSubtotal {
                scheme,
                category,
                rate,
                taxable_amount,
                amount: None,
                exemption_reason: None,
            });
        }
        Ok(Read::Only(taken))
    }

    fn lin(&mut self, seg: &Segment<'_>) -> Read {
        self.area = Area::Line(self.draft.lines.len() + 1);
        self.line_state = LineState::default();
        self.line_party = None;
        self.draft.lines.push(LineDraft {
            offset: seg.offset,
            number: seg.opt(1, 1).map(|n| n.into_owned()),
            // C829: 5495 sub-line indicator, 1082 the parent line's number.
            parent_number: seg.opt(4, 2).map(|n| n.into_owned()),
            ..LineDraft::default()
        });
        let mut taken = vec![(1, 1), (4, 1), (4, 2)];
        if self.item_id(seg, 3) {
            taken.extend([(3, 1), (3, 2), (3, 3), (3, 4)]);
        }
        Read::Only(taken)
    }

    fn pia(&mut self, seg: &Segment<'_>) -> Read {
        if self.line().is_none() {
            return Read::Nothing;
        }
        // 4347 says whether the ids are the primary (5) or additional (1) ones;
        // every id is kept with its role either way.
        let mut taken = vec![(1, 1)];
        for e in 2..=seg.elements() {
            if self.item_id(seg, e) {
                taken.extend([(e, 1), (e, 2), (e, 3), (e, 4)]);
            }
        }
        Read::Only(taken)
    }

    /// A C212 item number in element `e` (`7140:7143:1131:3055`) into the line's
    /// item by its type (UNCL 7143, E5); false when there is none to read.
    fn item_id(&mut self, seg: &Segment<'_>, e: usize) -> bool {
        let (Some(id), kind) = (seg.opt(e, 1), seg.text(e, 2)) else {
            return false;
        };
        let Some(line) = self.line() else {
            return false;
        };
        let (id, kind) = (id.into_owned(), kind.into_owned());
        let item = &mut line.item;
        let (role, scheme) = match kind.as_str() {
            "SA" | "VN" | "VP" => (ItemIdRole::Supplier, None),
            "IN" | "BP" => (ItemIdRole::Buyer, None),
            "MF" => (ItemIdRole::Manufacturer, None),
            // EN (EAN, now GTIN) and SRV (GS1 Global Trade Item Number) are both
            // GTINs (docs/canonical-order-v2.md §4.4), UP a UPC, IB an ISBN; they
            // name the article for buyer and supplier alike.
            "EN" | "SRV" => (ItemIdRole::Standard, Some("GTIN")),
            "UP" => (ItemIdRole::Standard, Some("UPC")),
            "IB" => (ItemIdRole::Standard, Some("ISBN")),
            // DW drawing number, DR its revision: the item's drawing.
            "DW" => {
                item.documents.push(Document {
                    id: Some(id),
                    ..Document::of_kind(DocumentType::Drawing)
                });
                return true;
            }
            "DR" => {
                let drawing = item
                    .documents
                    .iter_mut()
                    .rev()
                    .find(|d| d.kind == DocumentType::Drawing && d.revision.is_none());
                if let Some(drawing) = drawing {
                    drawing.revision = Some(id);
                    return true;
                }
                (ItemIdRole::Other, None)
            }
            // HS (Harmonised System) and CG (commodity grouping) classify the item.
            "HS" | "CG" => {
                item.classifications.push(Classification {
                    scheme: kind,
                    code: id,
                });
                return true;
            }
            _ => (ItemIdRole::Other, None),
        };
        let new = ItemId {
            role,
            scheme: scheme.map(str::to_owned),
            value: id,
            qualifier: Some(kind).filter(|k| !k.is_empty()),
        };
        if !item.ids.contains(&new) {
            item.ids.push(new);
        }
        true
    }

    fn imd(&mut self, seg: &Segment<'_>) -> Read {
        let Some(line) = self.line() else {
            return Read::Nothing;
        };
        let item = &mut line.item;
        // C273: 7009 a coded description, 7008 twice its text.
        let texts: Vec<String> = [seg.opt(3, 4), seg.opt(3, 5)]
            .into_iter()
            .flatten()
            .map(|t| t.into_owned())
            .collect();
        // 7081, the characteristic described (colour, size …): a property.
        if let Some(characteristic) = seg.opt(2, 1) {
            let value = match texts.is_empty() {
                false => texts.join(" "),
                true => match seg.opt(3, 1) {
                    Some(code) => code.into_owned(),
                    None => return Read::Nothing,
                },
            };
            item.properties.push(ItemProperty {
                name: characteristic_name(&characteristic).to_owned(),
                value,
                unit: None,
                code: Some(characteristic.into_owned()),
            });
            return Read::Only(if texts.is_empty() {
                vec![(1, 1), (2, 1), (3, 1)]
            } else {
                vec![(1, 1), (2, 1), (3, 4), (3, 5)]
            });
        }
        let mut texts = texts.into_iter();
        let Some(first) = texts.next() else {
            return Read::Nothing;
        };
        // The first text names the item; what follows describes it.
        let rest: Vec<String> = if item.name.is_none() {
            item.name = Some(first);
            texts.collect()
        } else {
            std::iter::once(first).chain(texts).collect()
        };
        if !rest.is_empty() {
            edi_common::append(&mut item.description, &rest.join(" "), "\n");
        }
        // 7077 (F free form, C coded, E, A …) says how it is written.
        Read::Only(vec![(1, 1), (3, 4), (3, 5)])
    }

    fn mea(&mut self, seg: &Segment<'_>) -> Read {
        if self.line().is_none() {
            return Read::Nothing;
        }
        // C502 6313 the property measured; C174: 6411 unit, 6314 value, 6162/6152 a range.
        let property = seg.text(2, 1).into_owned();
        let value = match (seg.opt(3, 2), seg.opt(3, 3), seg.opt(3, 4)) {
            (Some(value), _, _) => value.into_owned(),
            (None, Some(min), Some(max)) => format!("{min}-{max}"),
            (None, Some(min), None) => format!("≥ {min}"),
            (None, None, Some(max)) => format!("≤ {max}"),
            (None, None, None) => return Read::Nothing,
        };
        let unit = seg
            .opt(3, 1)
            .and_then(|u| units::rec20(&u).map(str::to_owned));
        let name = match (property.is_empty(), seg.opt(2, 4)) {
            (_, Some(text)) => text.into_owned(),
            (false, None) => format!("{} {property}", seg.text(1, 1)).trim().to_owned(),
            (true, None) => seg.text(1, 1).into_owned(),
        };
        let name = if name.is_empty() {
            "MEA".to_owned()
        } else {
            name
        };
        let mut taken = vec![(1, 1), (2, 1), (2, 4), (3, 2), (3, 3), (3, 4)];
        if unit.is_some() {
            taken.push((3, 1));
        }
        let line = self.line().expect("a LIN group");
        line.item.properties.push(ItemProperty {
            name,
            value,
            unit,
            code: Some(property).filter(|p| !p.is_empty()),
        });
        Read::Only(taken)
    }

    /// A unit code (6411) → (Rec 20 unit, the code as written when it was mapped or
    /// is not Rec 20). The buyer's `unit_map` wins; an unknown code becomes `ZZ`
    /// with a warning (design decision 5), or is refused when the config is strict.
    fn unit(
        &mut self,
        seg: &Segment<'_>,
        at: (usize, usize),
        config: &Config,
        body: &[u8],
        field: String,
    ) -> Result<Option<(String, Option<OriginalCode>)>, PluginError> {
        let Some(code) = seg.opt(at.0, at.1) else {
            return Ok(None);
        };
        let original = || {
            Some(OriginalCode {
                code: code.clone().into_owned(),
                list: UNIT_LIST.to_owned(),
            })
        };
        if let Some(unit) = config.mapped_unit(&code).or_else(|| units::rec20(&code)) {
            let original = if unit == code { None } else { original() };
            return Ok(Some((unit.to_owned(), original)));
        }
        let path = self.path(seg.tag(), "6411");
        if config.strict {
            return Err(error_at(
                "unknown-unit",
                format!(
                    "{path}: the unit {code:?} is not a UN/ECE Rec 20 code; \
                     map it in the plugin config, e.g. {{\"unit_map\": {{\"{code}\": \"H87\"}}}}"
                ),
                body,
                seg.offset_of(at.0, at.1, body),
                path,
            ));
        }
        // One warning per code and message: a sender that uses a private code
        // uses it on most lines.
        if self.units_warned.iter().any(|c| *c == code) {
            return Ok(Some(("ZZ".to_owned(), original())));
        }
        self.units_warned.push(code.clone().into_owned());
        let relative = format!("{}/6411", self.segment_path(seg.tag()));
        self.warn(
            "unit-not-rec20",
            format!(
                "{relative}: the unit {code:?} is not a UN/ECE Rec 20 code; read as ZZ (mutually defined) with the code as written, here and wherever the message uses it; the plugin config's unit_map can name its Rec 20 code"
            ),
            relative,
            Some(field),
        );
        Ok(Some(("ZZ".to_owned(), original())))
    }

    fn qty(
        &mut self,
        seg: &Segment<'_>,
        body: &[u8],
        config: &Config,
    ) -> Result<Read, PluginError> {
        let Area::Line(n) = self.area else {
            return Ok(Read::Nothing);
        };
        let qualifier = seg.text(1, 1).into_owned();
        let Some(quantity) = self.amount(seg, (1, 2, "6060"), body)? else {
            return Ok(Read::Nothing);
        };
        let taken = vec![(1, 1), (1, 2), (1, 3)];
        match self.group {
            Group::Scc => {
                let line = self.line().expect("a LIN group");
                line.schedule.push(ScheduleLine {
                    quantity,
                    requested_date: None,
                    earliest: None,
                    latest: None,
                });
                return Ok(Read::Only(vec![(1, 1), (1, 2)]));
            }
            Group::Alc => {
                let unit = seg
                    .opt(1, 3)
                    .and_then(|u| units::rec20(&u).map(str::to_owned));
                let Some(pending) = self.charges.last_mut() else {
                    return Ok(Read::Nothing);
                };
                if pending.charge.rate_quantity.is_some() {
                    return Ok(Read::Nothing);
                }
                pending.charge.rate_quantity = Some(quantity);
                let has_unit = unit.is_some();
                pending.charge.rate_unit = unit;
                return Ok(Read::Only(if has_unit {
                    taken
                } else {
                    vec![(1, 1), (1, 2)]
                }));
            }
            _ => {}
        }
        let path = self.segment_path("QTY");
        match qualifier.as_str() {
            // 21 is the ordered quantity. Some senders write 1 (discrete
            // quantity) instead: it counts when the line has no 21, and a 21
            // anywhere in the line wins over it, which is then kept as an
            // extension; a second 21 is kept too.
            "21" | "1" => {
                let replaces = match &self.line_state.quantity_from {
                    None => true,
                    Some((from, ..)) => from == "1" && qualifier == "21",
                };
                if !replaces {
                    return Ok(Read::Nothing);
                }
                let field = format!("/lines/{}/unit", n - 1);
                let unit = self.unit(seg, (1, 3), config, body, field)?;
                if let Some((_, from_path, text)) =
                    self.line_state
                        .quantity_from
                        .replace((qualifier, path, seg.render()))
                {
                    self.keep(from_path, text, BTreeMap::new());
                }
                let line = self.line().expect("a LIN group");
                line.quantity = Some(quantity);
                (line.unit, line.unit_original) = match unit {
                    Some((unit, original)) => (Some(unit), original),
                    None => (None, None),
                };
                Ok(Read::Only(taken))
            }
            // 59: consumer units in the traded unit, the pack size.
            "59" => {
                let line = self.line().expect("a LIN group");
                Ok(
                    if put(&mut line.packaging.pack, quantity) && seg.opt(1, 3).is_none() {
                        Read::All
                    } else {
                        Read::Nothing
                    },
                )
            }
            _ => Ok(Read::Nothing),
        }
    }

    fn pri(
        &mut self,
        seg: &Segment<'_>,
        body: &[u8],
        config: &Config,
    ) -> Result<Read, PluginError> {
        let Area::Line(n) = self.area else {
            return Ok(Read::Nothing);
        };
        self.group = Group::Pri;
        let net = match &*seg.text(1, 1) {
            "AAA" => true,
            "AAB" => false,
            _ => return Ok(Read::Nothing),
        };
        let Some(amount) = self.amount(seg, (1, 2, "5118"), body)? else {
            return Ok(Read::Nothing);
        };
        // A net price (AAA) wins over a gross one (AAB) whatever their order; the
        // other is kept as an extension, as is a second price of the same kind.
        let replaces = match &self.line_state.price_from {
            None => true,
            Some((was_net, ..)) => net && !was_net,
        };
        if !replaces {
            return Ok(Read::Nothing);
        }
        // 5284 is how many units the price is for (e.g. per 100 pieces) and 6411
        // their unit; the price is kept as stated, never divided (decision 4).
        let base_quantity = self
            .amount(seg, (1, 5, "5284"), body)?
            .filter(|basis| !basis.is_zero());
        let base_unit = self.unit(
            seg,
            (1, 6),
            config,
            body,
            format!("/lines/{}/price/base_unit", n - 1),
        )?;
        let (base_unit, base_unit_original) = match base_unit {
            Some((unit, original)) => (Some(unit), original),
            None => (None, None),
        };
        let price = Price {
            amount,
            base_quantity: base_quantity.unwrap_or(Decimal::ONE),
            base_unit,
            base_unit_original,
            kind: Some(if net {
                PriceKind::Net
            } else {
                PriceKind::Gross
            }),
            basis_code: None,
        };
        let path = self.segment_path("PRI");
        if let Some((_, from_path, text)) =
            self.line_state
                .price_from
                .replace((net, path, seg.render()))
        {
            self.keep(from_path, text, BTreeMap::new());
        }
        self.line().expect("a LIN group").price = Some(price);
        Ok(Read::Only(vec![(1, 1), (1, 2), (1, 5), (1, 6)]))
    }

    fn moa(&mut self, seg: &Segment<'_>, body: &[u8]) -> Result<Read, PluginError> {
        let qualifier = seg.text(1, 1).into_owned();
        let Some(amount) = self.amount(seg, (1, 2, "5004"), body)? else {
            return Ok(Read::Nothing);
        };
        let set = match (self.group, self.area, qualifier.as_str()) {
            // In an ALC group: 8, 23 (charge), 204 (allowance) the amount; 25 its basis.
            (Group::Alc, _, "8" | "23" | "204") => self
                .charges
                .last_mut()
                .is_some_and(|c| put(&mut c.charge.amount, amount)),
            (Group::Alc, _, "25") => self
                .charges
                .last_mut()
                .is_some_and(|c| put(&mut c.charge.base_amount, amount)),
            // In a TAX group: 124 the tax, 125 the taxable amount.
            (Group::Tax, Area::Line(_), "124") => self
                .line()
                .and_then(|l| l.taxes.last_mut())
                .is_some_and(|t| put(&mut t.amount, amount)),
            (Group::Tax, _, "124") => self
                .draft
                .taxes
                .last_mut()
                .is_some_and(|t| put(&mut t.amount, amount)),
            (Group::Tax, Area::Header, "125") => self
                .draft
                .taxes
                .last_mut()
                .is_some_and(|t| put(&mut t.taxable_amount, amount)),
            // In a PAT group: 52 the discount amount.
            (Group::Pat, _, "52") => self
                .draft
                .payment_terms
                .last_mut()
                .is_some_and(|t| put(&mut t.discount_amount, amount)),
            (Group::None | Group::Pri, Area::Line(_), "203") => {
                self.line().is_some_and(|l| put(&mut l.line_total, amount))
            }
            (Group::None, Area::Header | Area::Summary, _) => {
                // The EANCOM ORDERS summary amounts (UNCL 5025).
                let totals = &mut self.draft.totals;
                let field = match qualifier.as_str() {
                    "79" => Some(&mut totals.line_extension),
                    "86" | "128" => Some(&mut totals.payable),
                    "124" | "176" => Some(&mut totals.tax_total),
                    "125" => Some(&mut totals.tax_exclusive),
                    "259" => Some(&mut totals.charge_total),
                    "260" => Some(&mut totals.allowance_total),
                    _ => None,
                };
                field.is_some_and(|f| put(f, amount))
            }
            _ => false,
        };
        Ok(if set {
            Read::Only(vec![(1, 1), (1, 2)])
        } else {
            Read::Nothing
        })
    }

    fn pac(&mut self, seg: &Segment<'_>, body: &[u8]) -> Result<Read, PluginError> {
        self.group = Group::Kept;
        if self.line().is_none() {
            return Ok(Read::Nothing);
        }
        // 7224 the number of packages; C202 7065 the package type, 7064 its text.
        let count = self.amount(seg, (1, 1, "7224"), body)?;
        let line = self.line().expect("a LIN group");
        let packaging = &mut line.packaging;
        if packaging.package_code.is_some() || packaging.text.is_some() {
            return Ok(Read::Nothing);
        }
        let mut taken = vec![(3, 1), (3, 2), (3, 3), (3, 4)];
        if let Some(count) = count
            && put(&mut packaging.pack, count)
        {
            taken.push((1, 1));
        }
        packaging.package_code = seg.opt(3, 1).map(|c| c.into_owned());
        packaging.text = seg.opt(3, 4).map(|t| t.into_owned());
        Ok(Read::Only(taken))
    }

    fn ali(&mut self, seg: &Segment<'_>) -> Read {
        // 3239, the country of origin.
        let origin = seg.opt(1, 1).filter(|c| country(c).is_ok());
        match (self.line(), origin) {
            (Some(line), Some(origin)) if line.item.origin_country.is_none() => {
                line.item.origin_country = Some(origin.into_owned());
                Read::Only(vec![(1, 1)])
            }
            _ => Read::Nothing,
        }
    }

    fn cnt(&mut self, seg: &Segment<'_>, body: &[u8]) -> Result<Read, PluginError> {
        if seg.text(1, 1) != "2" {
            return Ok(Read::Nothing);
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
        Ok(Read::All)
    }

    /// Ends the message at its UNT and builds the order.
    pub fn finish(
        mut self,
        config: &Config,
        body: &[u8],
        unt_offset: usize,
    ) -> Result<PurchaseOrder, PluginError> {
        let unh = self.index;
        for pending in std::mem::take(&mut self.charges) {
            let charge = &pending.charge;
            if charge.amount.is_none() && charge.percent.is_none() && charge.rate.is_none() {
                let extension = Extension {
                    namespace: "edifact".to_owned(),
                    path: pending.path,
                    value: pending.text,
                    attributes: BTreeMap::new(),
                };
                match pending.line {
                    Some(i) => self.draft.lines[i].extensions.push(extension),
                    None => self.draft.extensions.push(extension),
                }
                continue;
            }
            match pending.line {
                Some(i) => self.draft.lines[i].allowances_charges.push(pending.charge),
                None => self.draft.allowances_charges.push(pending.charge),
            }
        }
        // No NAD+BY: the interchange's sender is the buyer's id (design §1.3).
        if self.draft.buyer == Party::default() && !self.sender.id.is_empty() {
            let Sender { id, qualifier } = self.sender;
            self.draft.buyer.ids.push(PartyId {
                scheme: sender_scheme(&qualifier, &id).to_owned(),
                value: id,
                qualifier: Some(qualifier).filter(|q| !q.is_empty()),
            });
        }
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
                    format!("line item {} has no ordered quantity (QTY+21, or 1)", i + 1),
                    draft.lines[i].offset,
                ),
                Field::Item(i) => (
                    format!("LIN[{}]", i + 1),
                    format!("line item {} names no item: no item number in LIN or PIA, and no IMD description", i + 1),
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

/// The NAD data elements the party fields take: C082 (3039, 1131, 3055), C058,
/// C080 (3036 ×5), C059 (3042 ×4), 3164, C819 (3229, 1131, 3055, 3228), 3251, 3207.
const NAD_FIELDS: [(usize, usize); 25] = [
    (1, 1),
    (2, 1),
    (2, 2),
    (2, 3),
    (3, 1),
    (3, 2),
    (3, 3),
    (3, 4),
    (3, 5),
    (4, 1),
    (4, 2),
    (4, 3),
    (4, 4),
    (4, 5),
    (5, 1),
    (5, 2),
    (5, 3),
    (5, 4),
    (6, 1),
    (7, 1),
    (7, 2),
    (7, 3),
    (7, 4),
    (8, 1),
    (9, 1),
];

/// Sets `field` unless it is set; false when it was (the caller keeps the value).
fn put<T>(field: &mut Option<T>, value: T) -> bool {
    if field.is_some() {
        return false;
    }
    *field = Some(value);
    true
}

/// A DTM value: one day, or a period (format 718).
#[derive(Debug, Clone, Copy)]
enum When {
    Day(NaiveDate),
    Window(NaiveDate, NaiveDate),
}

impl When {
    fn start(self) -> NaiveDate {
        match self {
            When::Day(d) | When::Window(d, _) => d,
        }
    }

    fn end(self) -> NaiveDate {
        match self {
            When::Day(d) | When::Window(_, d) => d,
        }
    }
}

/// Sets the delivery date DTM qualifier 2005 names (E7); false for another
/// qualifier or a date already set.
fn delivery_date(delivery: &mut Delivery, qualifier: &str, when: When) -> bool {
    match (qualifier, when) {
        // 2 requested; a 718 period is a window: earliest and latest.
        ("2", When::Day(day)) => put(&mut delivery.requested_date, day),
        ("2", When::Window(start, end)) => {
            put(&mut delivery.earliest, start) & put(&mut delivery.latest, end)
        }
        ("64", _) => put(&mut delivery.earliest, when.start()),
        ("63", _) => put(&mut delivery.latest, when.end()),
        ("61", _) => put(&mut delivery.cancel_after, when.end()),
        ("37", _) => put(&mut delivery.ship_not_before, when.start()),
        ("38", _) => put(&mut delivery.ship_no_later, when.end()),
        // 10 (shipment requested) and the rest have no field: kept.
        _ => false,
    }
}

/// A DTM date in format `format` (2379), and whether a time of day other than
/// midnight was dropped from it.
fn date(text: &str, format: &str) -> Result<(When, bool), String> {
    let timed = |digits: usize| text.len() == 8 + digits && text[8..].bytes().any(|b| b != b'0');
    let day = match format {
        "102" => date_ccyymmdd(text, 0)?,
        "203" => return Ok((When::Day(date_ccyymmdd(text, 4)?), timed(4))),
        "204" => return Ok((When::Day(date_ccyymmdd(text, 6)?), timed(6))),
        "101" => date_yymmdd(text)?,
        // A period CCYYMMDD-CCYYMMDD.
        "718" => {
            let Some((start, end)) = text.split_once('-') else {
                return Err(format!(
                    "{text:?} is not a period written CCYYMMDD-CCYYMMDD"
                ));
            };
            return Ok((
                When::Window(date_ccyymmdd(start, 0)?, date_ccyymmdd(end, 0)?),
                false,
            ));
        }
        // No format: go by the length, the way receivers commonly do.
        "" => match text.len() {
            12 => return Ok((When::Day(date_ccyymmdd(text, 4)?), timed(4))),
            14 => return Ok((When::Day(date_ccyymmdd(text, 6)?), timed(6))),
            _ => date_ccyymmdd(text, 0)?,
        },
        other => {
            return Err(format!(
                "date format {other:?} (2379) is not read; use 102, 203, 204, 101 or 718"
            ));
        }
    };
    Ok((When::Day(day), false))
}

/// UNCL 1153 reference qualifiers (E6) with a v2 reference type.
fn reference_type(qualifier: &str) -> ReferenceType {
    match qualifier {
        "CT" => ReferenceType::Contract,
        "ON" => ReferenceType::PreviousOrder,
        "AAG" => ReferenceType::Quotation,
        "CR" => ReferenceType::CustomerReference,
        "VN" => ReferenceType::SalesOrder,
        "BO" => ReferenceType::BlanketOrder,
        "PD" => ReferenceType::Promotion,
        "AAN" => ReferenceType::DeliverySchedule,
        _ => ReferenceType::Other,
    }
}

/// UNCL 3055 agency of a party id (C082) → v2 party id scheme (design §1.3).
/// Agency 9 (GS1) is a GLN only when the id has a GLN's 13 digits; senders also
/// write it beside shorter numbers (the pydifact examples' 123456789).
fn agency_scheme(agency: &str, id: &str) -> &'static str {
    match agency {
        "9" if is_gln(id) => party_scheme::GLN,
        "16" => party_scheme::DUNS,
        "91" => party_scheme::SUPPLIER_ASSIGNED,
        "92" => party_scheme::BUYER_ASSIGNED,
        _ => party_scheme::UNSPECIFIED,
    }
}

/// ISO 9735 0007 partner identification code qualifier (UNB S002) → scheme:
/// 14 EAN (GLN, when it has 13 digits), 1 DUNS, 9 DUNS with a 4-digit suffix.
fn sender_scheme(qualifier: &str, id: &str) -> &'static str {
    match qualifier {
        "14" if is_gln(id) => party_scheme::GLN,
        "1" => party_scheme::DUNS,
        "9" => party_scheme::DUNS_PLUS_4,
        _ => party_scheme::UNSPECIFIED,
    }
}

/// Whether `id` has the shape of a GLN: 13 digits.
fn is_gln(id: &str) -> bool {
    id.len() == 13 && id.bytes().all(|b| b.is_ascii_digit())
}

/// UNCL 3035 party function → v2 `other_parties[].role`.
fn party_role(code: &str) -> &str {
    match code {
        "BY" => "buyer",
        "SU" => "supplier",
        "DP" => "delivery_party",
        "ST" => "ship_to",
        "IV" => "invoicee",
        "OB" => "ordered_by",
        "UC" => "ultimate_consignee",
        "SF" => "ship_from",
        "CA" => "carrier",
        "PE" => "payee",
        "II" => "invoice_issuer",
        "FW" => "freight_forwarder",
        "MF" => "manufacturer",
        _ => "other",
    }
}

/// UNCL 7081 item characteristics a reader knows by name; others keep the code.
fn characteristic_name(code: &str) -> &str {
    match code {
        "13" => "quality",
        "35" => "colour",
        "98" => "size",
        _ => code,
    }
}
