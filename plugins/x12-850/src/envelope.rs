//! The X12 envelopes: ISA … IEA interchanges around GS … GE groups around
//! ST … SE transaction sets, as many interchanges as the body holds.
//!
//! One pass over the segments: each ST 850 opens a [`Transaction`] that reads the
//! segments up to its SE; any other transaction set is read past. The counts and
//! control numbers of every envelope are checked as the closing segment arrives,
//! so a mismatch points at it.
//!
//! What the envelope rules are (X12.5, per element, e.g.
//! <https://stedi.com/edi/x12-004010/segment/SE>, `…/segment/GE`, `…/segment/IEA`):
//! SE01 counts the segments of the transaction set, ST and SE included, and SE02
//! repeats ST02; GE01 counts the transaction sets of the group and GE02 repeats
//! GS06; IEA01 counts the functional groups of the interchange and IEA02 repeats
//! ISA13. Senders get these wrong without the orders being wrong, so a mismatch is
//! logged as a warning and read past, unless the buyer's config sets `strict`.

use edi_common::envelope::{Nesting, check_count, unexpected};
use edi_common::{Config, error_at, skip_preamble};
use jembatan_plugin_sdk::{LogLevel, PluginError, PurchaseOrder, log};

use crate::lex::{Lexer, Segment, skip_noise};
use crate::map::{Envelope, Transaction};

const NESTING: Nesting = Nesting {
    message: ("ST", "SE"),
    group: ("GS", "GE"),
};

/// What a body gave: its orders, and what was read past (as the errors a strict
/// reading would have raised), for the log.
#[derive(Debug)]
pub struct Reading {
    pub orders: Vec<PurchaseOrder>,
    pub warnings: Vec<PluginError>,
}

/// Reads every 850 in the body, in order, and logs what was read past.
pub fn read(body: &[u8], config: &Config) -> Result<Vec<PurchaseOrder>, PluginError> {
    let reading = read_all(body, config)?;
    for warning in &reading.warnings {
        log(LogLevel::Warn, &warning.to_string());
    }
    Ok(reading.orders)
}

/// Reads every interchange in the body: each ISA … IEA, back to back, with line
/// breaks (or nothing) between them.
pub fn read_all(body: &[u8], config: &Config) -> Result<Reading, PluginError> {
    let mut reader = Reader {
        body,
        config,
        interchanges: 0,
        groups: 0,
        sets: 0,
        orders: Vec::new(),
        warnings: Vec::new(),
        first_skipped: None,
    };
    let mut start = skip_preamble(body);
    loop {
        start = reader.interchange(start)?;
        // Anything but another ISA after an IEA: `interchange` reports it.
        start = skip_noise(body, start);
        if start >= body.len() {
            break;
        }
    }
    if reader.orders.is_empty()
        && let Some(skipped) = reader.first_skipped
    {
        return Err(skipped);
    }
    Ok(Reading {
        orders: reader.orders,
        warnings: reader.warnings,
    })
}

/// The reading of a body, across its interchanges: transaction sets and groups
/// are numbered through the whole body, so `ST[3]` names one set even when
/// several interchanges restart their control numbers.
struct Reader<'a> {
    body: &'a [u8],
    config: &'a Config,
    /// Interchanges begun, for paths (`ISA[2]/IEA`).
    interchanges: usize,
    groups: usize,
    sets: usize,
    orders: Vec<PurchaseOrder>,
    warnings: Vec<PluginError>,
    /// The first transaction set that was not an 850, as the error to give when
    /// the body holds no order at all.
    first_skipped: Option<PluginError>,
}

/// An open GS group.
struct Group {
    /// 1-based position in the body, for paths (`GS[1]`).
    index: usize,
    /// GS06, which GE02 must repeat.
    control: String,
    /// GS02, the application sender's code.
    sender: String,
    /// GS08, the X12 version of the group's transaction sets.
    version: String,
    /// Where GS08 is, for an error about it.
    version_offset: usize,
    /// ST segments seen in the group; GE01 must equal it.
    sets: u64,
}

/// An open transaction set: an 850 being read, or another one being read past.
enum Set {
    Order(Box<Transaction>),
    Other(Other),
}

/// A transaction set that is not an 850.
struct Other {
    index: usize,
    /// ST02.
    control: String,
    /// Segments so far, ST included.
    segments: u64,
}

impl Set {
    fn index(&self) -> usize {
        match self {
            Set::Order(t) => t.index,
            Set::Other(o) => o.index,
        }
    }
}

impl Reader<'_> {
    /// Reads one interchange from its ISA at `start`; returns the offset after its
    /// IEA.
    fn interchange(&mut self, start: usize) -> Result<usize, PluginError> {
        let body = self.body;
        if self.interchanges > 0 && !body[start..].starts_with(b"ISA") {
            // Read only to name the segment that follows the IEA.
            let tag: String = String::from_utf8_lossy(&body[start..body.len().min(start + 3)])
                .chars()
                .take_while(char::is_ascii_alphanumeric)
                .collect();
            return Err(unexpected(
                body,
                start,
                &tag,
                "after IEA, which ends the interchange",
            ));
        }
        let (mut lexer, isa) = Lexer::interchange(body, start)?;
        self.interchanges += 1;
        let isa_control = isa_control(&isa, body)?;
        // The first interchange keeps the plain paths (`IEA/IEA01`) a body of one
        // interchange has always had.
        let iea_path = match self.interchanges {
            1 => "IEA".to_owned(),
            n => format!("ISA[{n}]/IEA"),
        };

        let mut seg = Segment::default();
        let mut groups: u64 = 0;
        let mut group: Option<Group> = None;
        let mut set: Option<Set> = None;
        while lexer.next(&mut seg)? {
            let at = |n: usize| seg.offset_of(n, body);
            match seg.tag() {
                "GS" => {
                    NESTING.closed(
                        body,
                        seg.offset,
                        "GS",
                        set.as_ref().map(Set::index),
                        group.as_ref().map(|g| g.index),
                    )?;
                    groups += 1;
                    self.groups += 1;
                    // GS01 (PO, IN, OW, …) is not checked: the transaction set
                    // decides what a document is, and senders put 850s in groups
                    // of other functional ids.
                    group = Some(Group {
                        index: self.groups,
                        control: seg.get(6).to_owned(),
                        sender: seg.get(2).trim().to_owned(),
                        version: seg.get(8).to_owned(),
                        version_offset: at(8),
                        sets: 0,
                    });
                }
                "ST" => {
                    NESTING.closed(body, seg.offset, "ST", set.as_ref().map(Set::index), None)?;
                    let Some(open) = &mut group else {
                        return Err(unexpected(
                            body,
                            seg.offset,
                            "ST",
                            "outside a GS … GE group",
                        ));
                    };
                    open.sets += 1;
                    self.sets += 1;
                    set = Some(if seg.get(1) == "850" {
                        let envelope = Envelope {
                            sender_qualifier: isa.get(5).trim().to_owned(),
                            sender_id: isa.get(6).trim().to_owned(),
                            application_sender: open.sender.clone(),
                            version: open.version.clone(),
                            six_digit_dates: check_version(open, body)?,
                        };
                        Set::Order(Box::new(Transaction::new(self.sets, &seg, envelope)))
                    } else {
                        self.skip(&seg);
                        Set::Other(Other {
                            index: self.sets,
                            control: seg.get(2).to_owned(),
                            segments: 1,
                        })
                    });
                }
                "SE" => {
                    let Some(open) = set.take() else {
                        return Err(unexpected(body, seg.offset, "SE", "without an ST"));
                    };
                    let (st, control, segments) = match &open {
                        Set::Order(t) => (t.index, t.control.as_str(), t.segments + 1),
                        Set::Other(o) => (o.index, o.control.as_str(), o.segments + 1),
                    };
                    let counted = check_count(
                        body,
                        at(1),
                        &format!("ST[{st}]/SE/SE01"),
                        "SE01",
                        seg.get(1),
                        segments,
                        |stated| {
                            format!(
                                "SE01 of ST[{st}] says {stated} segments, but the transaction set has {segments} (ST and SE included)"
                            )
                        },
                    );
                    self.problem(counted)?;
                    if seg.get(2) != control {
                        self.problem(Err(mismatch(
                            body,
                            at(2),
                            &format!("ST[{st}]/SE/SE02"),
                            "SE02",
                            seg.get(2),
                            "ST02",
                            control,
                        )))?;
                    }
                    if let Set::Order(order) = open {
                        self.orders
                            .push(order.finish(self.config, body, seg.offset)?);
                    }
                }
                "GE" => {
                    NESTING.closed(body, seg.offset, "GE", set.as_ref().map(Set::index), None)?;
                    let Some(open) = group.take() else {
                        return Err(unexpected(body, seg.offset, "GE", "without a GS"));
                    };
                    let path = format!("GS[{}]/GE", open.index);
                    let counted = check_count(
                        body,
                        at(1),
                        &format!("{path}/GE01"),
                        "GE01",
                        seg.get(1),
                        open.sets,
                        |stated| {
                            format!(
                                "GE01 says the group has {stated} transaction sets, but it has {}",
                                open.sets
                            )
                        },
                    );
                    self.problem(counted)?;
                    if seg.get(2) != open.control {
                        self.problem(Err(mismatch(
                            body,
                            at(2),
                            &format!("{path}/GE02"),
                            "GE02",
                            seg.get(2),
                            "GS06",
                            &open.control,
                        )))?;
                    }
                }
                "IEA" => {
                    NESTING.closed(
                        body,
                        seg.offset,
                        "IEA",
                        set.as_ref().map(Set::index),
                        group.as_ref().map(|g| g.index),
                    )?;
                    let counted = check_count(
                        body,
                        at(1),
                        &format!("{iea_path}/IEA01"),
                        "IEA01",
                        seg.get(1),
                        groups,
                        |stated| {
                            format!(
                                "IEA01 says the interchange has {stated} functional groups, but it has {groups}"
                            )
                        },
                    );
                    self.problem(counted)?;
                    if seg.get(2) != isa_control {
                        self.problem(Err(mismatch(
                            body,
                            at(2),
                            &format!("{iea_path}/IEA02"),
                            "IEA02",
                            seg.get(2),
                            "ISA13",
                            isa_control,
                        )))?;
                    }
                    return Ok(lexer.position());
                }
                "ISA" => {
                    return Err(unexpected(
                        body,
                        seg.offset,
                        "ISA",
                        "inside an interchange (IEA is missing before it)",
                    ));
                }
                tag => match &mut set {
                    Some(Set::Order(open)) => open.segment(&seg, body, self.config)?,
                    Some(Set::Other(open)) => open.segments += 1,
                    None => {
                        return Err(unexpected(
                            body,
                            seg.offset,
                            tag,
                            "outside a transaction set (ST … SE)",
                        ));
                    }
                },
            }
        }
        let open = match (&set, &group) {
            (Some(set), _) => format!(
                "inside transaction set ST[{}] (SE, GE and IEA are missing)",
                set.index()
            ),
            (None, Some(group)) => {
                format!("inside group GS[{}] (GE and IEA are missing)", group.index)
            }
            (None, None) => "before its IEA".to_owned(),
        };
        Err(error_at(
            "truncated",
            format!("the interchange ends {open}; it may have been cut short"),
            body,
            body.len(),
            iea_path,
        ))
    }

    /// A transaction set that is not an 850 is not an order, and does not make
    /// the interchange fail: a partner may send invoices (810) and orders in one
    /// interchange. It is read past and logged.
    // The plugin interface (WIT 0.1) has no way to report one outcome per
    // transaction set yet; WIT 0.2 will report this one as `not-an-order`.
    fn skip(&mut self, st: &Segment<'_>) {
        let index = self.sets;
        let path = format!("ST[{index}]/ST01");
        let skipped = error_at(
            "not-an-order",
            format!(
                "ST[{index}] (ST01 {:?}, ST02 {:?}) is not an 850 purchase order; it is read past",
                st.get(1),
                st.get(2)
            ),
            self.body,
            st.offset_of(1, self.body),
            path.clone(),
        );
        if self.first_skipped.is_none() {
            self.first_skipped = Some(error_at(
                "unsupported-transaction",
                format!(
                    "the body holds no 850 purchase order; ST[{index}] is a {:?} transaction set, and this plugin reads 850 purchase orders only",
                    st.get(1)
                ),
                self.body,
                st.offset_of(1, self.body),
                path,
            ));
        }
        self.warnings.push(skipped);
    }

    /// An envelope count or control number that disagrees: refused when the
    /// config is strict, else kept as a warning and read past.
    fn problem(&mut self, check: Result<(), PluginError>) -> Result<(), PluginError> {
        match check {
            Err(err) if !self.config.strict => {
                self.warnings.push(err);
                Ok(())
            }
            other => other,
        }
    }
}

/// Checks the ISA and returns its control number (ISA13).
fn isa_control<'a>(isa: &Segment<'a>, body: &[u8]) -> Result<&'a str, PluginError> {
    let control = isa.get(13);
    if control.len() != 9 || !control.bytes().all(|b| b.is_ascii_digit()) {
        return Err(error_at(
            "invalid-value",
            format!(
                "ISA13 (the interchange control number) is {control:?}; it must be nine digits"
            ),
            body,
            isa.offset_of(13, body),
            "ISA/ISA13",
        ));
    }
    Ok(control)
}

/// Checks that the group holding an 850 is of a version this plugin reads, and
/// says whether its dates have six digits (YYMMDD, releases 003 and earlier)
/// rather than eight.
fn check_version(group: &Group, body: &[u8]) -> Result<bool, PluginError> {
    // The 850 segments this plugin maps are the same across the 003, 004 and 005
    // releases but for the date elements (DT), six digits before 004010.
    let version = group.version.as_str();
    if version.starts_with("004") || version.starts_with("005") {
        return Ok(false);
    }
    if version.starts_with("003") {
        return Ok(true);
    }
    Err(error_at(
        "unsupported-version",
        format!(
            "GS[{}] is X12 version {version:?}; this plugin reads 850s of versions 003xxx, 004xxx and 005xxx",
            group.index
        ),
        body,
        group.version_offset,
        format!("GS[{}]/GS08", group.index),
    ))
}

fn mismatch(
    body: &[u8],
    offset: usize,
    path: &str,
    closing: &str,
    found: &str,
    opening: &str,
    expected: &str,
) -> PluginError {
    error_at(
        "control-number-mismatch",
        format!("{closing} is {found:?} but {opening} is {expected:?}; they must be equal"),
        body,
        offset,
        path.to_owned(),
    )
}

#[cfg(test)]
#[path = "envelope_tests.rs"]
mod tests;
