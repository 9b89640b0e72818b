//! The EDIFACT envelopes: one or more interchanges (UNA? UNB … UNZ) around
//! optional UNG … UNE groups around UNH … UNT messages (ISO 9735 clause 6.1,
//! "Interchange structure", at
//! <https://unece.org/trade/uncefact/unedifact/part-4-chapter-22-syntax-rules>).
//!
//! One pass over the segments: each UNH opens a message that reads the segments
//! up to its UNT, and counts and references are checked as each closing segment
//! arrives, so a mismatch points at it.
//!
//! Real senders get the envelope's bookkeeping wrong more often than its
//! content: a UNT segment count that is off by one, a UNZ that counts messages
//! where it should count groups, a missing UNZ at the end of a file. Such a
//! disagreement does not make the orders inside doubtful, so it is read past
//! with a warning in the gateway's log, unless the buyer's plugin config says
//! `"strict": true`; then it is refused with its location. What does make the
//! orders doubtful (a message cut short, a UNH before the last one's UNT) is
//! always refused.

use edi_common::envelope::{Nesting, check_count, unclosed, unexpected};
use edi_common::{Config, error_at};
use jembatan_plugin_sdk::{LogLevel, PluginError, PurchaseOrder, log};

use crate::lex::{Lexer, Segment};
use crate::map::{Message, Sender};

#[cfg(test)]
mod tests;

const NESTING: Nesting = Nesting {
    message: ("UNH", "UNT"),
    group: ("UNG", "UNE"),
};

/// Reads every ORDERS message in the body, in order; the warnings about what was
/// read past go to the gateway's log.
pub fn read(body: &[u8], config: &Config) -> Result<Vec<PurchaseOrder>, PluginError> {
    let mut warnings = Vec::new();
    let orders = read_noting(body, config, &mut warnings);
    for warning in &warnings {
        log(LogLevel::Warn, warning);
    }
    orders
}

/// [`read`], with the warnings handed back in `warnings` instead of logged.
pub fn read_noting(
    body: &[u8],
    config: &Config,
    warnings: &mut Vec<String>,
) -> Result<Vec<PurchaseOrder>, PluginError> {
    let mut reader = Reader {
        body,
        config,
        warnings,
        orders: Vec::new(),
        messages: 0,
        groups: 0,
        interchanges: 0,
        first_skipped: None,
        sender: Sender::default(),
    };
    let mut lexer = Lexer::new(body)?;
    let mut seg = Segment::default();
    loop {
        reader.interchange(&mut lexer, &mut seg)?;
        // `interchange` returns at the end of the body or where the next begins.
        if !lexer.more() {
            break;
        }
    }
    if reader.orders.is_empty() {
        return Err(reader.no_orders());
    }
    Ok(reader.orders)
}

/// What the segments of one body have built so far.
struct Reader<'a, 'w> {
    body: &'a [u8],
    config: &'a Config,
    warnings: &'w mut Vec<String>,
    orders: Vec<PurchaseOrder>,
    /// UNH, UNG and UNB segments so far in the body: messages and groups are
    /// numbered across interchanges, so `UNH[3]` names one message.
    messages: usize,
    groups: usize,
    interchanges: usize,
    /// The first message that is not ORDERS: (its index, type, offset of 0065).
    first_skipped: Option<(usize, String, usize)>,
    /// The current interchange's sender (UNB S002): 0004 id and 0007 qualifier.
    sender: Sender,
}

/// An open message: an ORDERS being mapped, or another type being skipped.
enum Open {
    /// Boxed: a message being mapped is large, and only one is open at a time.
    Order(Box<Message>),
    Other(Skipped),
}

/// A message that is not ORDERS: only its envelope is checked.
struct Skipped {
    index: usize,
    reference: String,
    segments: u64,
}

/// An open UNG group.
struct Group {
    index: usize,
    reference: String,
    messages: u64,
}

impl Reader<'_, '_> {
    /// Refuses `err` when the config is strict; else notes it as a warning.
    fn tolerate(&mut self, err: PluginError) -> Result<(), PluginError> {
        if self.config.strict {
            return Err(err);
        }
        self.warnings.push(format!(
            "{err}; read past it (the plugin config \"strict\": true would refuse it)"
        ));
        Ok(())
    }

    /// [`Self::tolerate`] for a check's result.
    fn checked(&mut self, check: Result<(), PluginError>) -> Result<(), PluginError> {
        check.or_else(|err| self.tolerate(err))
    }

    /// Reads one interchange, from its UNA or UNB up to its UNZ, or up to the end
    /// of the body or the next interchange when its UNZ is missing.
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
        if let Some(warning) = lexer.declare(seg)? {
            self.warnings.push(warning);
        }
        // Paths in the first (usually only) interchange need no prefix.
        let prefix = match self.interchanges {
            1 => String::new(),
            n => format!("UNB[{n}]/"),
        };
        self.sender = Sender {
            id: seg.text(2, 1).into_owned(),
            qualifier: seg.text(2, 2).into_owned(),
        };
        let reference = seg.text(5, 1).into_owned();
        if reference.is_empty() {
            self.tolerate(error_at(
                "invalid-value",
                "UNB has no interchange control reference (0020)",
                body,
                seg.offset,
                format!("{prefix}UNB/0020"),
            ))?;
        }

        // Messages and groups in this interchange, for UNZ.
        let (mut messages, mut groups) = (0u64, 0u64);
        let mut group: Option<Group> = None;
        let mut message: Option<Open> = None;
        loop {
            if !lexer.more() || lexer.at_interchange() {
                return self.unterminated(lexer, &prefix, message.as_ref(), group.as_ref());
            }
            lexer.next(seg)?;
            let at = |e: usize| seg.offset_of(e, 1, body);
            match seg.tag() {
                "UNG" => {
                    NESTING.closed(
                        body,
                        seg.offset,
                        "UNG",
                        message.as_ref().map(Open::index),
                        group.as_ref().map(|g| g.index),
                    )?;
                    groups += 1;
                    self.groups += 1;
                    group = Some(Group {
                        index: self.groups,
                        reference: seg.text(5, 1).into_owned(),
                        messages: 0,
                    });
                }
                "UNH" => {
                    NESTING.closed(
                        body,
                        seg.offset,
                        "UNH",
                        message.as_ref().map(Open::index),
                        None,
                    )?;
                    messages += 1;
                    if let Some(open) = &mut group {
                        open.messages += 1;
                    }
                    message = Some(self.open(seg, lexer.syntax.decimal)?);
                }
                "UNT" => {
                    let Some(open) = message.take() else {
                        return Err(unexpected(body, seg.offset, "UNT", "without a UNH"));
                    };
                    self.close(open, seg)?;
                }
                "UNE" => {
                    NESTING.closed(
                        body,
                        seg.offset,
                        "UNE",
                        message.as_ref().map(Open::index),
                        None,
                    )?;
                    let Some(open) = group.take() else {
                        return Err(unexpected(body, seg.offset, "UNE", "without a UNG"));
                    };
                    let path = format!("UNG[{}]/UNE", open.index);
                    let count = check_count(
                        body,
                        at(1),
                        &format!("{path}/0060"),
                        "UNE 0060",
                        &seg.text(1, 1),
                        open.messages,
                        |stated| {
                            format!(
                                "UNE says the group has {stated} messages, but it has {}",
                                open.messages
                            )
                        },
                    );
                    self.checked(count)?;
                    if seg.text(2, 1) != open.reference {
                        self.tolerate(mismatch(
                            body,
                            at(2),
                            &format!("{path}/0048"),
                            "UNE",
                            &seg.text(2, 1),
                            "UNG",
                            &open.reference,
                        ))?;
                    }
                }
                "UNZ" => {
                    NESTING.closed(
                        body,
                        seg.offset,
                        "UNZ",
                        message.as_ref().map(Open::index),
                        None,
                    )?;
                    if let Some(open) = &group {
                        let err = unclosed(
                            body,
                            seg.offset,
                            &format!("UNG[{}]", open.index),
                            "UNE",
                            "UNZ",
                        );
                        self.tolerate(err)?;
                    }
                    // UNZ counts groups when there are any, else messages.
                    let (actual, what) = if groups > 0 {
                        (groups, "groups")
                    } else {
                        (messages, "messages")
                    };
                    let count = check_count(
                        body,
                        at(1),
                        &format!("{prefix}UNZ/0036"),
                        "UNZ 0036",
                        &seg.text(1, 1),
                        actual,
                        |stated| {
                            format!(
                                "UNZ says the interchange has {stated} {what}, but it has {actual}"
                            )
                        },
                    );
                    self.checked(count)?;
                    if seg.text(2, 1) != reference {
                        self.tolerate(mismatch(
                            body,
                            at(2),
                            &format!("{prefix}UNZ/0020"),
                            "UNZ",
                            &seg.text(2, 1),
                            "UNB",
                            &reference,
                        ))?;
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
                tag => match &mut message {
                    Some(Open::Order(open)) => open.segment(seg, body, self.config)?,
                    Some(Open::Other(open)) => open.segments += 1,
                    None => {
                        return Err(unexpected(
                            body,
                            seg.offset,
                            tag,
                            "outside a message (UNH … UNT)",
                        ));
                    }
                },
            }
        }
    }

    /// The interchange stops, at the end of the body or at the next UNA/UNB,
    /// before its UNZ. A message cut short is refused; a missing UNE or UNZ after
    /// complete messages is read past.
    fn unterminated(
        &mut self,
        lexer: &mut Lexer<'_>,
        prefix: &str,
        message: Option<&Open>,
        group: Option<&Group>,
    ) -> Result<(), PluginError> {
        let body = self.body;
        let at_end = !lexer.more();
        let offset = if at_end { body.len() } else { lexer.position() };
        if let Some(open) = message {
            let index = open.index();
            if at_end {
                return Err(error_at(
                    "truncated",
                    format!(
                        "the interchange ends inside message UNH[{index}] (UNT and UNZ are missing); it may have been cut short"
                    ),
                    body,
                    offset,
                    format!("UNH[{index}]/UNT"),
                ));
            }
            let found = if body[offset..].starts_with(b"UNA") {
                "UNA"
            } else {
                "UNB"
            };
            return Err(unclosed(
                body,
                offset,
                &format!("UNH[{index}]"),
                "UNT",
                found,
            ));
        }
        let missing = match group {
            Some(g) => format!("UNE (of UNG[{}]) and UNZ", g.index),
            None => "UNZ".to_owned(),
        };
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
            format!("{prefix}UNZ"),
        );
        self.tolerate(err)
    }

    /// Opens the message whose UNH is `seg`: an ORDERS message of a D (draft)
    /// directory is mapped, any other type is skipped.
    fn open(&mut self, seg: &Segment<'_>, decimal_mark: u8) -> Result<Open, PluginError> {
        let body = self.body;
        self.messages += 1;
        let index = self.messages;
        let reference = seg.text(1, 1).into_owned();
        let kind = seg.text(2, 1);
        if kind != "ORDERS" {
            // Another message type in the same interchange (an INVOIC, a DESADV)
            // is not an order and not an error in the interchange. The plugin
            // interface (WIT 0.1) can only return orders or refuse the whole body,
            // so it is logged and skipped here; WIT 0.2 will report it as a
            // transaction of kind `not-an-order`.
            self.warnings.push(format!(
                "UNH[{index}] (message reference {reference:?}, UNH 0062) is a {kind} message, not ORDERS; skipped as not an order"
            ));
            self.first_skipped
                .get_or_insert((index, kind.into_owned(), seg.offset_of(2, 1, body)));
            return Ok(Open::Other(Skipped {
                index,
                reference,
                segments: 1,
            }));
        }
        // BGM 1004, the order number, is the first component of element 2 in
        // every directory: a simple element up to D96A (as in D95B), the first component of
        // C106 from D96B on (compare
        // <https://service.unece.org/trade/untdid/d95b/trsd/trsdbgm.htm> with
        // <https://service.unece.org/trade/untdid/d96b/trsd/trsdbgm.htm>). The
        // other segments this plugin maps are the same from D93A to D03B and
        // beyond; tested with D96A, D96B, D01B and D03B.
        if seg.text(2, 2) != "D" {
            return Err(error_at(
                "unsupported-version",
                format!(
                    "UNH[{index}] is ORDERS version {:?}; this plugin reads directories D (D96A to D03B and later)",
                    seg.text(2, 2)
                ),
                body,
                seg.offset_of(2, 2, body),
                format!("UNH[{index}]/0052"),
            ));
        }
        // S009: 0052 version, 0054 release, 0057 association code (EAN008 …).
        let syntax = format!("EDIFACT {}.{}", seg.text(2, 2), seg.text(2, 3));
        let association = seg.opt(2, 5).map(|code| code.into_owned());
        Ok(Open::Order(Box::new(Message::new(
            index,
            reference,
            decimal_mark,
            (syntax, association),
            self.sender.clone(),
        ))))
    }

    /// Closes `open` at its UNT `seg`, checking the segment count and reference.
    fn close(&mut self, mut open: Open, seg: &Segment<'_>) -> Result<(), PluginError> {
        let body = self.body;
        let (index, segments) = match &mut open {
            Open::Order(m) => {
                m.segments += 1;
                (m.index, m.segments)
            }
            Open::Other(s) => {
                s.segments += 1;
                (s.index, s.segments)
            }
        };
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
        self.checked(count)?;
        let reference = open.reference();
        if seg.text(2, 1) != reference {
            let err = mismatch(
                body,
                seg.offset_of(2, 1, body),
                &format!("{path}/0062"),
                "UNT",
                &seg.text(2, 1),
                "UNH",
                reference,
            );
            self.tolerate(err)?;
        }
        if let Open::Order(message) = open {
            self.orders
                .push(message.finish(self.config, body, seg.offset)?);
        }
        Ok(())
    }

    /// The error for a body that holds no ORDERS message.
    fn no_orders(&self) -> PluginError {
        match &self.first_skipped {
            Some((index, kind, offset)) => error_at(
                "unsupported-message",
                format!(
                    "the body holds no ORDERS message: UNH[{index}] is a {kind:?} message, and this plugin reads ORDERS only"
                ),
                self.body,
                *offset,
                format!("UNH[{index}]/0065"),
            ),
            None => error_at(
                "missing-segment",
                "the interchange holds no message (UNH … UNT)",
                self.body,
                self.body.len(),
                "UNH",
            ),
        }
    }
}

impl Open {
    fn index(&self) -> usize {
        match self {
            Self::Order(m) => m.index,
            Self::Other(s) => s.index,
        }
    }

    fn reference(&self) -> &str {
        match self {
            Self::Order(m) => &m.reference,
            Self::Other(s) => &s.reference,
        }
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
