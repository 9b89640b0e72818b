//! The EDIFACT envelopes: UNB … UNZ around optional UNG … UNE groups around
//! UNH … UNT messages.
//!
//! One pass over the segments: each UNH opens a [`Message`] that reads the
//! segments up to its UNT, and counts and references are checked as each closing
//! segment arrives, so a mismatch points at it.

use edi_common::envelope::{Nesting, check_count, unexpected};
use edi_common::{Config, error_at};
use jembatan_plugin_sdk::{PluginError, PurchaseOrder};

use crate::lex::{Lexer, Segment};
use crate::map::Message;

const NESTING: Nesting = Nesting {
    message: ("UNH", "UNT"),
    group: ("UNG", "UNE"),
};

/// An open UNG group.
struct Group {
    index: usize,
    reference: String,
    messages: u64,
}

/// Reads every ORDERS message in the interchange, in order.
pub fn read(body: &[u8], config: &Config) -> Result<Vec<PurchaseOrder>, PluginError> {
    let mut lexer = Lexer::new(body)?;
    let mut seg = Segment::default();
    lexer.next(&mut seg)?;
    // ISO 8859-1 (UNOC) text that is not valid UTF-8 is decoded as Latin-1.
    lexer.latin1 = seg.text(1, 1) == "UNOC";
    let unb_reference = seg.text(5, 1).into_owned();
    if unb_reference.is_empty() {
        return Err(error_at(
            "invalid-value",
            "UNB has no interchange control reference (0020)",
            body,
            seg.offset,
            "UNB/0020",
        ));
    }

    let mut orders = Vec::new();
    let mut messages = 0;
    let mut groups = 0;
    let mut group: Option<Group> = None;
    let mut message: Option<Message> = None;
    while lexer.next(&mut seg)? {
        let at = |e: usize| seg.offset_of(e, 1, body);
        match seg.tag() {
            "UNG" => {
                NESTING.closed(
                    body,
                    seg.offset,
                    "UNG",
                    message.as_ref().map(|m| m.index),
                    group.as_ref().map(|g| g.index),
                )?;
                groups += 1;
                group = Some(Group {
                    index: groups,
                    reference: seg.text(5, 1).into_owned(),
                    messages: 0,
                });
            }
            "UNH" => {
                NESTING.closed(
                    body,
                    seg.offset,
                    "UNH",
                    message.as_ref().map(|m| m.index),
                    None,
                )?;
                messages += 1;
                if let Some(open) = &mut group {
                    open.messages += 1;
                }
                unh(&seg, body, messages)?;
                message = Some(Message::new(
                    messages,
                    seg.text(1, 1).into_owned(),
                    lexer.syntax.decimal,
                ));
            }
            "UNT" => {
                let Some(mut open) = message.take() else {
                    return Err(unexpected(body, seg.offset, "UNT", "without a UNH"));
                };
                open.segments += 1;
                let path = format!("UNH[{}]/UNT", open.index);
                check_count(
                    body,
                    at(1),
                    &format!("{path}/0074"),
                    "UNT 0074",
                    &seg.text(1, 1),
                    open.segments,
                    |stated| {
                        format!(
                            "UNT of UNH[{}] says {stated} segments, but the message has {} (UNH and UNT included)",
                            open.index, open.segments
                        )
                    },
                )?;
                if seg.text(2, 1) != open.reference {
                    return Err(mismatch(
                        body,
                        at(2),
                        &format!("{path}/0062"),
                        "UNT",
                        &seg.text(2, 1),
                        "UNH",
                        &open.reference,
                    ));
                }
                orders.push(open.finish(config, body, seg.offset)?);
            }
            "UNE" => {
                NESTING.closed(
                    body,
                    seg.offset,
                    "UNE",
                    message.as_ref().map(|m| m.index),
                    None,
                )?;
                let Some(open) = group.take() else {
                    return Err(unexpected(body, seg.offset, "UNE", "without a UNG"));
                };
                let path = format!("UNG[{}]/UNE", open.index);
                check_count(
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
                )?;
                if seg.text(2, 1) != open.reference {
                    return Err(mismatch(
                        body,
                        at(2),
                        &format!("{path}/0048"),
                        "UNE",
                        &seg.text(2, 1),
                        "UNG",
                        &open.reference,
                    ));
                }
            }
            "UNZ" => {
                NESTING.closed(
                    body,
                    seg.offset,
                    "UNZ",
                    message.as_ref().map(|m| m.index),
                    group.as_ref().map(|g| g.index),
                )?;
                // UNZ counts groups when there are any, else messages.
                let (actual, what) = if groups > 0 {
                    (groups, "groups")
                } else {
                    (messages, "messages")
                };
                check_count(
                    body,
                    at(1),
                    "UNZ/0036",
                    "UNZ 0036",
                    &seg.text(1, 1),
                    actual as u64,
                    |stated| {
                        format!("UNZ says the interchange has {stated} {what}, but it has {actual}")
                    },
                )?;
                if seg.text(2, 1) != unb_reference {
                    return Err(mismatch(
                        body,
                        at(2),
                        "UNZ/0020",
                        "UNZ",
                        &seg.text(2, 1),
                        "UNB",
                        &unb_reference,
                    ));
                }
                let end = lexer.position();
                if lexer.next(&mut seg)? {
                    return Err(unexpected(
                        body,
                        end.max(seg.offset),
                        seg.tag(),
                        "after UNZ, which ends the interchange",
                    ));
                }
                return Ok(orders);
            }
            "UNB" | "UNA" => {
                return Err(unexpected(
                    body,
                    seg.offset,
                    seg.tag(),
                    "inside an interchange (UNZ is missing before it)",
                ));
            }
            tag => match &mut message {
                Some(open) => open.segment(&seg, body, config)?,
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
    let open = match (&message, &group) {
        (Some(m), _) => format!("inside message UNH[{}] (UNT and UNZ are missing)", m.index),
        (None, Some(g)) => format!("inside group UNG[{}] (UNE and UNZ are missing)", g.index),
        (None, None) => "before its UNZ".to_owned(),
    };
    Err(error_at(
        "truncated",
        format!("the interchange ends {open}; it may have been cut short"),
        body,
        body.len(),
        "UNZ",
    ))
}

/// Checks a UNH: an ORDERS message of a D (draft) directory.
fn unh(seg: &Segment<'_>, body: &[u8], index: usize) -> Result<(), PluginError> {
    let kind = seg.text(2, 1);
    if kind != "ORDERS" {
        return Err(error_at(
            "unsupported-message",
            format!("UNH[{index}] is a {kind:?} message; this plugin reads ORDERS only"),
            body,
            seg.offset_of(2, 1, body),
            format!("UNH[{index}]/0065"),
        ));
    }
    // The segments this plugin maps are the same from D93A to D01B and beyond;
    // tested with D96A and D01B.
    if seg.text(2, 2) != "D" {
        return Err(error_at(
            "unsupported-version",
            format!(
                "UNH[{index}] is ORDERS version {:?}; this plugin reads directories D (D96A, D01B)",
                seg.text(2, 2)
            ),
            body,
            seg.offset_of(2, 2, body),
            format!("UNH[{index}]/0052"),
        ));
    }
    Ok(())
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
