//! The X12 envelopes: ISA … IEA interchanges around GS … GE groups around
//! ST … SE transaction sets, as many interchanges as the body holds; one outcome
//! per transaction set.
//!
//! One pass over the segments: each ST opens a set, and what it becomes is
//! decided by its SE: an 850 that maps is an order, an 850 that does not is
//! refused with the first error found in it (its other segments are still
//! counted, for SE01), an 860 (purchase order change) is refused
//! `unsupported-purpose` (design decision 14), and any other set (810, 855, 997 …)
//! is not an order, of kind ST01. The counts and control numbers of every
//! envelope are checked as the closing segment arrives, so a mismatch points at
//! it.
//!
//! What the envelope rules are (X12.5, per element, e.g.
//! <https://stedi.com/edi/x12-004010/segment/SE>, `…/segment/GE`, `…/segment/IEA`):
//! SE01 counts the segments of the transaction set, ST and SE included, and SE02
//! repeats ST02; GE01 counts the transaction sets of the group and GE02 repeats
//! GS06; IEA01 counts the functional groups of the interchange and IEA02 repeats
//! ISA13. Senders get these wrong without the orders being wrong, so a mismatch,
//! a missing GE or IEA, and a segment outside any set are read past with a
//! warning: the set's own (SE) on the set, the others on the message. With the
//! config `strict` they are refused instead, per envelope: an SE problem refuses
//! its set, a group's problem every order of the group, an interchange's every
//! order of the interchange; the other envelopes of the body are not affected.
//!
//! A set that is not closed (a GS, ST, GE, IEA or ISA before its SE, or the end
//! of the body) is refused, and reading goes on with the segment that came. Only
//! an interchange that cannot be begun (an ISA that cannot be read, text after an
//! IEA that is no ISA) stops the reading: the rest of the body becomes one refused
//! transaction, after the others. The whole message is refused only when the
//! body holds no transaction set at all.

use edi_common::envelope::{check_count, unclosed, unexpected};
use edi_common::{Config, Outcomes, error_at, skip_preamble};
use jembatan_plugin_sdk::{
    self as sdk, Location, Normalized, Outcome, PluginError, TransactionId, Warning, line_column,
};

use crate::lex::{Lexer, Segment, skip_noise};
use crate::map::{Envelope, Transaction};

/// Reads every transaction set of the body: one outcome each, in order.
pub fn read(body: &[u8], config: &Config) -> Result<Normalized, PluginError> {
    let mut reader = Reader {
        body,
        config,
        interchanges: 0,
        groups: 0,
        sets: 0,
        outcomes: Outcomes::new(config.strict),
    };
    let mut start = skip_preamble(body);
    loop {
        match reader.interchange(start) {
            // Anything but another ISA after an IEA: `interchange` reports it.
            Ok(end) => start = skip_noise(body, end),
            Err(stop) => {
                reader.outcomes.stop(stop)?;
                break;
            }
        }
        if start >= body.len() {
            break;
        }
    }
    reader.outcomes.finish(|| {
        error_at(
            "missing-segment",
            "the body holds no transaction set (ST … SE)",
            body,
            body.len(),
            "ST",
        )
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
    /// ST segments so far: `ST[n]`, the transaction at index n - 1.
    sets: usize,
    outcomes: Outcomes,
}

/// An open GS group.
struct Group {
    /// 1-based position in the body, for paths (`GS[1]`).
    index: usize,
    /// GS01, the functional identifier code: `PO` for a group of 850s.
    functional_id: String,
    /// Where GS01 is, for a warning about it.
    functional_id_offset: usize,
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
    /// Where the group's transactions start in `Reader::transactions`.
    first: usize,
    /// With `strict`: the first problem of the group's envelope, which refuses its
    /// orders when it closes.
    problem: Option<PluginError>,
}

/// An open transaction set.
struct Set {
    /// 1-based position in the body, for paths (`ST[2]`).
    index: usize,
    /// ST02, which SE02 must repeat.
    control: String,
    /// Segments so far, ST included; SE01 must equal it with SE counted.
    segments: u64,
    id: TransactionId,
    content: Content,
    warnings: Vec<Warning>,
}

/// What an open set is becoming.
enum Content {
    /// An 850 being read.
    Order(Box<Transaction>),
    /// An 850 that cannot be an order: the first error found in it.
    Refused(PluginError),
    /// Another transaction set: its ST01.
    Other(String),
}

impl Set {
    /// An 850 that cannot be read any further is refused with its first error.
    fn refuse(&mut self, error: PluginError) {
        if let Content::Order(_) = self.content {
            self.content = Content::Refused(error);
        }
    }
}

/// The transaction sets, groups and problems of one interchange being read.
struct Interchange<'a> {
    /// The first interchange keeps the plain paths (`IEA/IEA01`) a body of one
    /// interchange has always had; later ones are `ISA[2]/IEA`.
    iea_path: String,
    /// ISA13, which IEA02 must repeat.
    control: &'a str,
    /// GS segments seen; IEA01 must equal it.
    groups: u64,
    group: Option<Group>,
    set: Option<Set>,
    /// Where its transactions start in `Reader::transactions`.
    first: usize,
    /// With `strict`: the first problem of its envelope, which refuses its orders.
    problem: Option<PluginError>,
    /// The last segment was outside any set, already reported.
    stray: bool,
}

impl Reader<'_> {
    /// Reads one interchange from its ISA at `start`; returns the offset after
    /// its IEA (or of the ISA that came before its IEA, or the end of the body).
    /// `Err` when the interchange cannot be begun, which stops the reading.
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
        let mut ic = Interchange {
            iea_path: match self.interchanges {
                1 => "IEA".to_owned(),
                n => format!("ISA[{n}]/IEA"),
            },
            control: isa_control(&isa, body)?,
            groups: 0,
            group: None,
            set: None,
            first: self.outcomes.transactions.len(),
            problem: None,
            stray: false,
        };
        let mut seg = Segment::default();
        let end = loop {
            match lexer.next(&mut seg) {
                Ok(true) => {}
                Ok(false) => break None,
                // A segment that is not text; the lexer has moved past it.
                Err(err) => {
                    match &mut ic.set {
                        Some(set) => {
                            set.segments += 1;
                            set.refuse(err);
                        }
                        None => self.stray(&mut ic, err),
                    }
                    continue;
                }
            }
            let at = |n: usize| seg.offset_of(n, body);
            match seg.tag() {
                "GS" => {
                    self.close_unclosed(&mut ic, seg.offset, "GS");
                    ic.groups += 1;
                    self.groups += 1;
                    // GS01 (PO, IN, OW, …) does not decide what a set is: the
                    // transaction set does, and senders put 850s in groups of
                    // other functional ids (`open` warns of it).
                    ic.group = Some(Group {
                        index: self.groups,
                        functional_id: seg.get(1).trim().to_owned(),
                        functional_id_offset: at(1),
                        control: seg.get(6).to_owned(),
                        sender: seg.get(2).trim().to_owned(),
                        version: seg.get(8).to_owned(),
                        version_offset: at(8),
                        sets: 0,
                        first: self.outcomes.transactions.len(),
                        problem: None,
                    });
                    ic.stray = false;
                }
                "ST" => {
                    if let Some(set) = ic.set.take() {
                        let err =
                            unclosed(body, seg.offset, &format!("ST[{}]", set.index), "SE", "ST");
                        self.abandon(set, err);
                    }
                    self.sets += 1;
                    ic.set = Some(self.open(&seg, &isa, ic.group.as_mut()));
                    ic.stray = false;
                }
                "SE" => match ic.set.take() {
                    Some(set) => self.close(set, &seg),
                    // The end of what was read past already.
                    None if ic.stray => {}
                    None => {
                        let err = unexpected(body, seg.offset, "SE", "without an ST");
                        self.stray(&mut ic, err);
                    }
                },
                "GE" => {
                    if let Some(set) = ic.set.take() {
                        let err =
                            unclosed(body, seg.offset, &format!("ST[{}]", set.index), "SE", "GE");
                        self.abandon(set, err);
                    }
                    let Some(mut group) = ic.group.take() else {
                        let err = unexpected(body, seg.offset, "GE", "without a GS");
                        self.stray(&mut ic, err);
                        continue;
                    };
                    let path = format!("GS[{}]/GE", group.index);
                    let sets = group.sets;
                    let counted = check_count(
                        body,
                        at(1),
                        &format!("{path}/GE01"),
                        "GE01",
                        seg.get(1),
                        sets,
                        |stated| {
                            format!(
                                "GE01 says the group has {stated} transaction sets, but it has {sets}"
                            )
                        },
                    );
                    if let Err(err) = counted {
                        self.outcomes.tolerate(err, &mut group.problem);
                    }
                    if seg.get(2) != group.control {
                        let err = mismatch(
                            body,
                            at(2),
                            &format!("{path}/GE02"),
                            "GE02",
                            seg.get(2),
                            "GS06",
                            &group.control,
                        );
                        self.outcomes.tolerate(err, &mut group.problem);
                    }
                    self.close_group(group);
                    ic.stray = false;
                }
                "IEA" => {
                    self.close_unclosed(&mut ic, seg.offset, "IEA");
                    let groups = ic.groups;
                    let counted = check_count(
                        body,
                        at(1),
                        &format!("{}/IEA01", ic.iea_path),
                        "IEA01",
                        seg.get(1),
                        groups,
                        |stated| {
                            format!(
                                "IEA01 says the interchange has {stated} functional groups, but it has {groups}"
                            )
                        },
                    );
                    if let Err(err) = counted {
                        self.outcomes.tolerate(err, &mut ic.problem);
                    }
                    if seg.get(2) != ic.control {
                        let err = mismatch(
                            body,
                            at(2),
                            &format!("{}/IEA02", ic.iea_path),
                            "IEA02",
                            seg.get(2),
                            "ISA13",
                            ic.control,
                        );
                        self.outcomes.tolerate(err, &mut ic.problem);
                    }
                    break Some(lexer.position());
                }
                "ISA" => {
                    // The next interchange begins before this one's IEA.
                    self.close_unclosed(&mut ic, seg.offset, "ISA");
                    let err = unclosed(
                        body,
                        seg.offset,
                        &format!("ISA[{}]", self.interchanges),
                        "IEA",
                        "ISA",
                    );
                    self.outcomes.tolerate(err, &mut ic.problem);
                    break Some(seg.offset);
                }
                tag => match &mut ic.set {
                    Some(set) => {
                        set.segments += 1;
                        if let Content::Order(order) = &mut set.content
                            && let Err(err) = order.segment(&seg, body, self.config)
                        {
                            set.refuse(err);
                        }
                    }
                    None if ic.stray => {}
                    None => {
                        let err = unexpected(
                            body,
                            seg.offset,
                            tag,
                            "outside a transaction set (ST … SE)",
                        );
                        self.stray(&mut ic, err);
                    }
                },
            }
        };
        let end = match end {
            Some(end) => end,
            None => {
                // The body ends inside the interchange.
                let (open, missing) = match (&ic.set, &ic.group) {
                    (Some(set), _) => (
                        format!("inside transaction set ST[{}]", set.index),
                        "SE, GE and IEA are",
                    ),
                    (None, Some(group)) => (
                        format!("inside group GS[{}]", group.index),
                        "GE and IEA are",
                    ),
                    (None, None) => ("before its IEA".to_owned(), "IEA is"),
                };
                let err = error_at(
                    "truncated",
                    format!(
                        "the interchange ends {open} ({missing} missing); it may have been cut short"
                    ),
                    body,
                    body.len(),
                    ic.iea_path.clone(),
                );
                if let Some(set) = ic.set.take() {
                    self.abandon(set, err.clone());
                }
                // One problem for the group and the interchange that are not
                // closed: the interchange's takes in the group's orders.
                if let Some(group) = ic.group.take() {
                    self.close_group(group);
                }
                self.outcomes.tolerate(err, &mut ic.problem);
                body.len()
            }
        };
        if let Some(err) = ic.problem {
            self.outcomes.refuse_orders(ic.first, &err);
        }
        Ok(end)
    }

    /// Opens the set whose ST is `st`, inside `group` if there is one.
    fn open(&mut self, st: &Segment<'_>, isa: &Segment<'_>, group: Option<&mut Group>) -> Set {
        let body = self.body;
        let index = self.sets;
        let (line, column) = line_column(body, st.offset);
        let id = TransactionId::new(u32::try_from(index - 1).unwrap_or(u32::MAX))
            .with_control_number(st.get(2))
            .at(Location {
                line: Some(line),
                column: Some(column),
                offset: Some(st.offset as u64),
                path: Some(format!("ST[{index}]")),
            });
        let mut warnings = Vec::new();
        let content = match (st.get(1), group) {
            (_, None) => {
                Content::Refused(unexpected(body, st.offset, "ST", "outside a GS … GE group"))
            }
            ("850", Some(group)) => {
                group.sets += 1;
                let read = match check_group_code(group, index, body) {
                    Err(err) if self.config.strict => Err(err),
                    Err(err) => {
                        warnings.push(err.into());
                        check_version(group, body)
                    }
                    Ok(()) => check_version(group, body),
                };
                match read {
                    Ok(six_digit_dates) => {
                        let envelope = Envelope {
                            sender_qualifier: isa.get(5).trim().to_owned(),
                            sender_id: isa.get(6).trim().to_owned(),
                            application_sender: group.sender.clone(),
                            version: group.version.clone(),
                            six_digit_dates,
                        };
                        Content::Order(Box::new(Transaction::new(index, st, envelope)))
                    }
                    Err(err) => Content::Refused(err),
                }
            }
            (kind, Some(group)) => {
                group.sets += 1;
                Content::Other(kind.to_owned())
            }
        };
        Set {
            index,
            control: st.get(2).to_owned(),
            segments: 1,
            id,
            content,
            warnings,
        }
    }

    /// Closes `set` at its SE: checks the count and control number, and makes its
    /// outcome.
    fn close(&mut self, mut set: Set, se: &Segment<'_>) {
        let body = self.body;
        let st = set.index;
        set.segments += 1;
        let segments = set.segments;
        let counted = check_count(
            body,
            se.offset_of(1, body),
            &format!("ST[{st}]/SE/SE01"),
            "SE01",
            se.get(1),
            segments,
            |stated| {
                format!(
                    "SE01 of ST[{st}] says {stated} segments, but the transaction set has {segments} (ST and SE included)"
                )
            },
        );
        let control = (se.get(2) != set.control).then(|| {
            mismatch(
                body,
                se.offset_of(2, body),
                &format!("ST[{st}]/SE/SE02"),
                "SE02",
                se.get(2),
                "ST02",
                &set.control,
            )
        });
        for err in counted.err().into_iter().chain(control) {
            self.outcomes.noted(&err);
            if self.config.strict && matches!(set.content, Content::Order(_)) {
                set.refuse(err);
            } else {
                set.warnings.push(err.into());
            }
        }
        let outcome = match set.content {
            Content::Order(order) => match order.finish(self.config, body, se.offset) {
                Ok(order) => Outcome::Order(Box::new(order)),
                Err(err) => Outcome::Refused(err),
            },
            Content::Refused(err) => Outcome::Refused(err),
            Content::Other(kind) => other_outcome(body, set.index, &kind, set.id.location.as_ref()),
        };
        self.outcomes.transactions.push(sdk::Transaction {
            id: set.id,
            outcome,
            warnings: set.warnings,
        });
    }

    /// `set` ends without its SE: an 850 is refused with `err` (unless it already
    /// was), another set keeps what it is, with `err` as its warning.
    fn abandon(&mut self, mut set: Set, err: PluginError) {
        let outcome = match set.content {
            Content::Order(_) => Outcome::Refused(err),
            Content::Refused(first) => Outcome::Refused(first),
            Content::Other(kind) => {
                set.warnings.push(err.into());
                other_outcome(self.body, set.index, &kind, set.id.location.as_ref())
            }
        };
        self.outcomes.transactions.push(sdk::Transaction {
            id: set.id,
            outcome,
            warnings: set.warnings,
        });
    }

    /// `found` arrives while a set or a group is open: the set is not closed
    /// (refused), the group is closed without its GE (an envelope problem).
    fn close_unclosed(&mut self, ic: &mut Interchange<'_>, offset: usize, found: &str) {
        let body = self.body;
        if let Some(set) = ic.set.take() {
            let err = unclosed(body, offset, &format!("ST[{}]", set.index), "SE", found);
            self.abandon(set, err);
        }
        if let Some(mut group) = ic.group.take() {
            let err = unclosed(body, offset, &format!("GS[{}]", group.index), "GE", found);
            self.outcomes.tolerate(err, &mut group.problem);
            self.close_group(group);
        }
        ic.stray = false;
    }

    /// With `strict`, a problem of the group's envelope refuses its orders.
    fn close_group(&mut self, group: Group) {
        if let Some(err) = group.problem {
            self.outcomes.refuse_orders(group.first, &err);
        }
    }

    /// A segment outside any transaction set (and what follows it up to the next
    /// envelope segment): an envelope problem of the group it is in, else of the
    /// interchange.
    fn stray(&mut self, ic: &mut Interchange<'_>, err: PluginError) {
        ic.stray = true;
        let problem = match &mut ic.group {
            Some(group) => &mut group.problem,
            None => &mut ic.problem,
        };
        self.outcomes.tolerate(err, problem);
    }
}

/// The outcome of a transaction set that is not an 850: not an order, but for
/// an 860 (purchase order change), which is refused (design decision 14: a
/// change never disappears as "not an order").
fn other_outcome(body: &[u8], index: usize, kind: &str, at: Option<&Location>) -> Outcome {
    if kind == "860" {
        let offset = at.and_then(|l| l.offset).unwrap_or(0) as usize;
        return Outcome::Refused(error_at(
            "unsupported-purpose",
            format!(
                "ST[{index}] is an 860 purchase order change; this plugin reads new purchase orders (850) only"
            ),
            body,
            offset,
            format!("ST[{index}]/ST01"),
        ));
    }
    Outcome::NotAnOrder {
        kind: kind.to_owned(),
        reason: None,
    }
}

/// An 850 in a group whose GS01 is not `PO` (`IN`, `OW`, as partners really send
/// it) is still an order, since ST01 says what a set is: a warning, or with
/// `strict` the refusal of the set.
fn check_group_code(group: &Group, set: usize, body: &[u8]) -> Result<(), PluginError> {
    if group.functional_id == "PO" {
        return Ok(());
    }
    Err(error_at(
        "group-code-mismatch",
        format!(
            "ST[{set}] is an 850 purchase order in group GS[{}], whose GS01 is {:?} where X12 \
             puts 850s in a PO group; it is read as an order, because ST01 decides",
            group.index, group.functional_id
        ),
        body,
        group.functional_id_offset,
        format!("GS[{}]/GS01", group.index),
    ))
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
