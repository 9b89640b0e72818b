//! The EDIFACT envelopes: one or more interchanges (UNA? UNB … UNZ) around
//! optional UNG … UNE groups around UNH … UNT messages (ISO 9735 clause 6.1,
//! "Interchange structure", at
//! <https://unece.org/trade/uncefact/unedifact/part-4-chapter-22-syntax-rules>);
//! one outcome per message.
//!
//! One pass over the segments: each UNH opens a message, and what it becomes is
//! decided at its UNT: an ORDERS message that maps is an order, one that does
//! not is refused with the first error found in it (its other segments are still
//! counted, for UNT), an ORDCHG (order change) is refused `unsupported-purpose`
//! (design decision 14), and any other type (INVOIC, DESADV …) is not an order, of
//! kind UNH 0065. Counts and references are checked as each closing segment
//! arrives, so a mismatch points at it.
//!
//! Real senders get the envelope's bookkeeping wrong more often than its
//! content: a UNT segment count that is off by one, a UNZ that counts messages
//! where it should count groups, a missing UNZ at the end of a file. Such a
//! disagreement does not make the orders inside doubtful, so it is read past
//! with a warning (UNT's on its message, the others on the message as a whole),
//! unless the buyer's plugin config says `"strict": true`; then it refuses the
//! orders of the envelope it is about: UNT its message, a group's (UNE, UNG not
//! closed) every order of the group, an interchange's (UNZ, a missing UNZ, UNB
//! without a reference, a segment outside any message) every order of the
//! interchange. A message that is not closed (a UNH, UNG, UNE, UNZ, UNA or UNB
//! before its UNT, or the end of the body) is always refused, and reading goes on.
//! Only an interchange that cannot be begun (a UNA or UNB that cannot be read,
//! anything after a UNZ but another interchange) stops the reading: the rest of
//! the body becomes one refused transaction, after the others. The whole message
//! is refused only when the body holds no message at all.

use edi_common::envelope::{check_count, unclosed, unexpected};
use edi_common::{Config, Outcomes, error_at};
use jembatan_plugin_sdk::{
    self as sdk, Location, Normalized, Outcome, PluginError, TransactionId, Warning, line_column,
};

use crate::lex::{Lexer, Segment};
use crate::map::{Message, Sender};

#[cfg(test)]
mod tests;

/// Reads every message of the body: one outcome each, in order.
pub fn read(body: &[u8], config: &Config) -> Result<Normalized, PluginError> {
    let mut reader = Reader {
        body,
        config,
        outcomes: Outcomes::new(config.strict),
        messages: 0,
        groups: 0,
        interchanges: 0,
        sender: Sender::default(),
    };
    let mut lexer = Lexer::new(body)?;
    let mut seg = Segment::default();
    loop {
        if let Err(stop) = reader.interchange(&mut lexer, &mut seg) {
            reader.outcomes.stop(stop)?;
            break;
        }
        // `interchange` returns at the end of the body or where the next begins.
        if !lexer.more() {
            break;
        }
    }
    reader.outcomes.finish(|| {
        error_at(
            "missing-segment",
            "the interchange holds no message (UNH … UNT)",
            body,
            body.len(),
            "UNH",
        )
    })
}

/// What the segments of one body have built so far.
struct Reader<'a> {
    body: &'a [u8],
    config: &'a Config,
    outcomes: Outcomes,
    /// UNH, UNG and UNB segments so far in the body: messages and groups are
    /// numbered across interchanges, so `UNH[3]` names one message, the
    /// transaction at index 2.
    messages: usize,
    groups: usize,
    interchanges: usize,
    /// The current interchange's sender (UNB S002): 0004 id and 0007 qualifier.
    sender: Sender,
}

/// An open message.
struct Open {
    /// 1-based position in the body (`UNH[2]`).
    index: usize,
    /// UNH 0062, which UNT 0062 must repeat.
    reference: String,
    /// Segments so far, UNH included; UNT 0074 must equal it with UNT counted.
    segments: u64,
    id: TransactionId,
    content: Content,
    warnings: Vec<Warning>,
}

/// What an open message is becoming.
enum Content {
    /// An ORDERS message being mapped; boxed, as it is large.
    Order(Box<Message>),
    /// An ORDERS message that cannot be an order: the first error found in it.
    Refused(PluginError),
    /// Another message type: its UNH 0065.
    Other(String),
}

impl Open {
    /// An ORDERS message that cannot be read any further is refused with its
    /// first error.
    fn refuse(&mut self, error: PluginError) {
        if let Content::Order(_) = self.content {
            self.content = Content::Refused(error);
        }
    }
}

/// An open UNG group.
struct Group {
    index: usize,
    reference: String,
    messages: u64,
    /// Where its transactions start in `Reader::transactions`.
    first: usize,
    /// With `strict`: the first problem of its envelope, which refuses its orders.
    problem: Option<PluginError>,
}

/// One interchange being read.
struct Interchange {
    /// `` in the first (usually only) interchange, `UNB[2]/` after it.
    prefix: String,
    /// UNB 0020, which UNZ 0020 must repeat.
    reference: String,
    /// Messages and groups in it, for UNZ.
    messages: u64,
    groups: u64,
    group: Option<Group>,
    message: Option<Open>,
    /// Where its transactions start in `Reader::transactions`.
    first: usize,
    /// With `strict`: the first problem of its envelope, which refuses its orders.
    problem: Option<PluginError>,
    /// The last segment was outside any message, already reported.
    stray: bool,
}

impl Reader<'_> {
    /// Reads one interchange, from its UNA or UNB up to its UNZ, or up to the end
    /// of the body or the next interchange when its UNZ is missing. `Err` when it
    /// cannot be begun, or when something other than an interchange follows its
    /// UNZ: the reading stops there.
    fn interchange<'a>(
        &mut self,
        lexer: &mut Lexer<'a>,
        seg: &mut Segment<'a>,
    ) -> Result<(), PluginError> {
        let body = self.body;
        lexer.service_string_advice()?;
        let start = lexer.position();
        if !lexer.next(seg)? || seg.tag() != "UNB" {
            return Err(unexpected(
                body,
                start,
                seg.tag(),
                "where an interchange must begin with UNB (after the UNA, if any)",
            ));
        }
        self.interchanges += 1;
        // Paths in the first (usually only) interchange need no prefix.
        let prefix = match self.interchanges {
            1 => String::new(),
            n => format!("UNB[{n}]/"),
        };
        if let Some(message) = lexer.declare(seg)? {
            self.outcomes.warnings.push(Warning {
                code: "charset-mismatch".to_owned(),
                message,
                path: Some(format!("{prefix}UNB/0001")),
                field: None,
            });
        }
        self.sender = Sender {
            id: seg.text(2, 1).into_owned(),
            qualifier: seg.text(2, 2).into_owned(),
        };
        let mut ic = Interchange {
            reference: seg.text(5, 1).into_owned(),
            prefix,
            messages: 0,
            groups: 0,
            group: None,
            message: None,
            first: self.outcomes.transactions.len(),
            problem: None,
            stray: false,
        };
        if ic.reference.is_empty() {
            let err = error_at(
                "invalid-value",
                "UNB has no interchange control reference (0020)",
                body,
                seg.offset,
                format!("{}UNB/0020", ic.prefix),
            );
            self.outcomes.tolerate(err, &mut ic.problem);
        }
        let after = self.segments(lexer, seg, &mut ic);
        if let Some(err) = ic.problem.take() {
            self.outcomes.refuse_orders(ic.first, &err);
        }
        after
    }

    /// Reads the segments of the interchange `ic`, up to its UNZ or where it
    /// stops without one.
    fn segments<'a>(
        &mut self,
        lexer: &mut Lexer<'a>,
        seg: &mut Segment<'a>,
        ic: &mut Interchange,
    ) -> Result<(), PluginError> {
        let body = self.body;
        loop {
            if !lexer.more() || lexer.at_interchange() {
                self.unterminated(lexer, ic);
                return Ok(());
            }
            if let Err(err) = lexer.next(seg) {
                // A segment that is not text; the lexer has moved past it.
                match &mut ic.message {
                    Some(open) => {
                        open.segments += 1;
                        open.refuse(err);
                    }
                    None => self.stray(ic, err),
                }
                continue;
            }
            let at = |e: usize| seg.offset_of(e, 1, body);
            match seg.tag() {
                "UNG" => {
                    self.close_unclosed(ic, seg.offset, "UNG");
                    ic.groups += 1;
                    self.groups += 1;
                    ic.group = Some(Group {
                        index: self.groups,
                        reference: seg.text(5, 1).into_owned(),
                        messages: 0,
                        first: self.outcomes.transactions.len(),
                        problem: None,
                    });
                }
                "UNH" => {
                    if let Some(open) = ic.message.take() {
                        let err = unclosed(
                            body,
                            seg.offset,
                            &format!("UNH[{}]", open.index),
                            "UNT",
                            "UNH",
                        );
                        self.abandon(open, err);
                    }
                    ic.messages += 1;
                    if let Some(group) = &mut ic.group {
                        group.messages += 1;
                    }
                    ic.message = Some(self.open(seg, lexer.syntax.decimal));
                    ic.stray = false;
                }
                "UNT" => match ic.message.take() {
                    Some(open) => self.close(open, seg),
                    // The end of what was read past already.
                    None if ic.stray => {}
                    None => {
                        let err = unexpected(body, seg.offset, "UNT", "without a UNH");
                        self.stray(ic, err);
                    }
                },
                "UNE" => {
                    if let Some(open) = ic.message.take() {
                        let err = unclosed(
                            body,
                            seg.offset,
                            &format!("UNH[{}]", open.index),
                            "UNT",
                            "UNE",
                        );
                        self.abandon(open, err);
                    }
                    ic.stray = false;
                    let Some(mut group) = ic.group.take() else {
                        let err = unexpected(body, seg.offset, "UNE", "without a UNG");
                        self.stray(ic, err);
                        continue;
                    };
                    let path = format!("UNG[{}]/UNE", group.index);
                    let messages = group.messages;
                    let count = check_count(
                        body,
                        at(1),
                        &format!("{path}/0060"),
                        "UNE 0060",
                        &seg.text(1, 1),
                        messages,
                        |stated| {
                            format!(
                                "UNE says the group has {stated} messages, but it has {messages}"
                            )
                        },
                    );
                    if let Err(err) = count {
                        self.outcomes.tolerate(err, &mut group.problem);
                    }
                    if seg.text(2, 1) != group.reference {
                        let err = mismatch(
                            body,
                            at(2),
                            &format!("{path}/0048"),
                            "UNE",
                            &seg.text(2, 1),
                            "UNG",
                            &group.reference,
                        );
                        self.outcomes.tolerate(err, &mut group.problem);
                    }
                    self.close_group(group);
                }
                "UNZ" => {
                    self.close_unclosed(ic, seg.offset, "UNZ");
                    // UNZ counts groups when there are any, else messages.
                    let (actual, what) = if ic.groups > 0 {
                        (ic.groups, "groups")
                    } else {
                        (ic.messages, "messages")
                    };
                    let count = check_count(
                        body,
                        at(1),
                        &format!("{}UNZ/0036", ic.prefix),
                        "UNZ 0036",
                        &seg.text(1, 1),
                        actual,
                        |stated| {
                            format!(
                                "UNZ says the interchange has {stated} {what}, but it has {actual}"
                            )
                        },
                    );
                    if let Err(err) = count {
                        self.outcomes.tolerate(err, &mut ic.problem);
                    }
                    if seg.text(2, 1) != ic.reference {
                        let err = mismatch(
                            body,
                            at(2),
                            &format!("{}UNZ/0020", ic.prefix),
                            "UNZ",
                            &seg.text(2, 1),
                            "UNB",
                            &ic.reference,
                        );
                        self.outcomes.tolerate(err, &mut ic.problem);
                    }
                    // Only another interchange may follow.
                    if lexer.more() && !lexer.at_interchange() {
                        let end = lexer.position();
                        lexer.next(seg)?;
                        return Err(unexpected(
                            body,
                            end.max(seg.offset),
                            seg.tag(),
                            "after UNZ, which ends the interchange; only another interchange (UNA or UNB) may follow",
                        ));
                    }
                    return Ok(());
                }
                tag => match &mut ic.message {
                    Some(open) => {
                        open.segments += 1;
                        if let Content::Order(message) = &mut open.content
                            && let Err(err) = message.segment(seg, body, self.config)
                        {
                            open.refuse(err);
                        }
                    }
                    None if ic.stray => {}
                    None => {
                        let err =
                            unexpected(body, seg.offset, tag, "outside a message (UNH … UNT)");
                        self.stray(ic, err);
                    }
                },
            }
        }
    }

    /// The interchange stops, at the end of the body or at the next UNA/UNB,
    /// before its UNZ. A message cut short is refused; a missing UNE or UNZ after
    /// complete messages is an envelope problem of the interchange.
    fn unterminated(&mut self, lexer: &mut Lexer<'_>, ic: &mut Interchange) {
        let body = self.body;
        let at_end = !lexer.more();
        let offset = if at_end { body.len() } else { lexer.position() };
        if let Some(open) = ic.message.take() {
            let index = open.index;
            let err = if at_end {
                error_at(
                    "truncated",
                    format!(
                        "the interchange ends inside message UNH[{index}] (UNT and UNZ are missing); it may have been cut short"
                    ),
                    body,
                    offset,
                    format!("UNH[{index}]/UNT"),
                )
            } else {
                let found = if body[offset..].starts_with(b"UNA") {
                    "UNA"
                } else {
                    "UNB"
                };
                unclosed(body, offset, &format!("UNH[{index}]"), "UNT", found)
            };
            self.abandon(open, err);
        }
        let missing = match &ic.group {
            Some(g) => format!("UNE (of UNG[{}]) and UNZ", g.index),
            None => "UNZ".to_owned(),
        };
        // The interchange's problem takes in the group's orders.
        if let Some(group) = ic.group.take() {
            self.close_group(group);
        }
        let what = if at_end {
            "the body ends"
        } else {
            "the next interchange begins"
        };
        let err = error_at(
            "truncated",
            format!("the interchange has no {missing}: {what} after its last message"),
            body,
            offset,
            format!("{}UNZ", ic.prefix),
        );
        self.outcomes.tolerate(err, &mut ic.problem);
    }

    /// Opens the message whose UNH is `seg`: an ORDERS message of a D (draft)
    /// directory is mapped, an ORDERS of another directory refused, any other type
    /// read past to be reported as what it is.
    fn open(&mut self, seg: &Segment<'_>, decimal_mark: u8) -> Open {
        let body = self.body;
        self.messages += 1;
        let index = self.messages;
        let reference = seg.text(1, 1).into_owned();
        let (line, column) = line_column(body, seg.offset);
        let id = TransactionId::new(u32::try_from(index - 1).unwrap_or(u32::MAX))
            .with_control_number(reference.clone())
            .at(Location {
                line: Some(line),
                column: Some(column),
                offset: Some(seg.offset as u64),
                path: Some(format!("UNH[{index}]")),
            });
        let kind = seg.text(2, 1);
        // BGM 1004, the order number, is the first component of element 2 in
        // every directory: a simple element up to D96A (as in D95B), the first component of
        // C106 from D96B on (compare
        // <https://service.unece.org/trade/untdid/d95b/trsd/trsdbgm.htm> with
        // <https://service.unece.org/trade/untdid/d96b/trsd/trsdbgm.htm>). The
        // other segments this plugin maps are the same from D93A to D03B and
        // beyond; tested with D96A, D96B, D01B and D03B.
        let content = if kind != "ORDERS" {
            Content::Other(kind.into_owned())
        } else if seg.text(2, 2) != "D" {
            Content::Refused(error_at(
                "unsupported-version",
                format!(
                    "UNH[{index}] is ORDERS version {:?}; this plugin reads directories D (D96A to D03B and later)",
                    seg.text(2, 2)
                ),
                body,
                seg.offset_of(2, 2, body),
                format!("UNH[{index}]/0052"),
            ))
        } else {
            // S009: 0052 version, 0054 release, 0057 association code (EAN008 …).
            let syntax = format!("EDIFACT {}.{}", seg.text(2, 2), seg.text(2, 3));
            let association = seg.opt(2, 5).map(|code| code.into_owned());
            Content::Order(Box::new(Message::new(
                index,
                &reference,
                decimal_mark,
                (syntax, association),
                self.sender.clone(),
            )))
        };
        Open {
            index,
            reference,
            segments: 1,
            id,
            content,
            warnings: Vec::new(),
        }
    }

    /// Closes `open` at its UNT `seg`: checks the segment count and reference,
    /// and makes its outcome.
    fn close(&mut self, mut open: Open, seg: &Segment<'_>) {
        let body = self.body;
        let index = open.index;
        open.segments += 1;
        let segments = open.segments;
        let path = format!("UNH[{index}]/UNT");
        let count = check_count(
            body,
            seg.offset_of(1, 1, body),
            &format!("{path}/0074"),
            "UNT 0074",
            &seg.text(1, 1),
            segments,
            |stated| {
                format!(
                    "UNT of UNH[{index}] says {stated} segments, but the message has {segments} (UNH and UNT included)"
                )
            },
        );
        let reference = (seg.text(2, 1) != open.reference).then(|| {
            mismatch(
                body,
                seg.offset_of(2, 1, body),
                &format!("{path}/0062"),
                "UNT",
                &seg.text(2, 1),
                "UNH",
                &open.reference,
            )
        });
        for err in count.err().into_iter().chain(reference) {
            self.outcomes.noted(&err);
            if self.config.strict && matches!(open.content, Content::Order(_)) {
                open.refuse(err);
            } else {
                open.warnings.push(err.into());
            }
        }
        let outcome = match open.content {
            Content::Order(message) => match message.finish(self.config, body, seg.offset) {
                Ok(order) => Outcome::Order(Box::new(order)),
                Err(err) => Outcome::Refused(err),
            },
            Content::Refused(err) => Outcome::Refused(err),
            Content::Other(kind) => other_outcome(body, index, &kind, open.id.location.as_ref()),
        };
        self.outcomes.transactions.push(sdk::Transaction {
            id: open.id,
            outcome,
            warnings: open.warnings,
        });
    }

    /// `open` ends without its UNT: an ORDERS message is refused with `err`
    /// (unless it already was), another keeps what it is, with `err` as its
    /// warning.
    fn abandon(&mut self, mut open: Open, err: PluginError) {
        let outcome = match open.content {
            Content::Order(_) => Outcome::Refused(err),
            Content::Refused(first) => Outcome::Refused(first),
            Content::Other(kind) => {
                open.warnings.push(err.into());
                other_outcome(self.body, open.index, &kind, open.id.location.as_ref())
            }
        };
        self.outcomes.transactions.push(sdk::Transaction {
            id: open.id,
            outcome,
            warnings: open.warnings,
        });
    }

    /// `found` arrives while a message or a group is open: the message is not
    /// closed (refused), the group is closed without its UNE (an envelope
    /// problem).
    fn close_unclosed(&mut self, ic: &mut Interchange, offset: usize, found: &str) {
        let body = self.body;
        if let Some(open) = ic.message.take() {
            let err = unclosed(body, offset, &format!("UNH[{}]", open.index), "UNT", found);
            self.abandon(open, err);
        }
        if let Some(mut group) = ic.group.take() {
            let err = unclosed(body, offset, &format!("UNG[{}]", group.index), "UNE", found);
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

    /// A segment outside any message (and what follows it up to the next
    /// envelope segment): an envelope problem of the group it is in, else of the
    /// interchange.
    fn stray(&mut self, ic: &mut Interchange, err: PluginError) {
        ic.stray = true;
        let problem = match &mut ic.group {
            Some(group) => &mut group.problem,
            None => &mut ic.problem,
        };
        self.outcomes.tolerate(err, problem);
    }
}

/// The outcome of a message that is not ORDERS: not an order, but for an
/// ORDCHG (order change), which is refused (design decision 14: a change never
/// disappears as "not an order").
fn other_outcome(body: &[u8], index: usize, kind: &str, at: Option<&Location>) -> Outcome {
    if kind == "ORDCHG" {
        let offset = at.and_then(|l| l.offset).unwrap_or(0) as usize;
        return Outcome::Refused(error_at(
            "unsupported-purpose",
            format!(
                "UNH[{index}] is an ORDCHG (purchase order change) message; this plugin reads new orders (ORDERS) only"
            ),
            body,
            offset,
            format!("UNH[{index}]/0065"),
        ));
    }
    Outcome::NotAnOrder {
        kind: kind.to_owned(),
        reason: None,
    }
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
        format!(
            "{closing} names reference {found:?} but its {opening} is {expected:?}; they must be equal"
        ),
        body,
        offset,
        path.to_owned(),
    )
}
