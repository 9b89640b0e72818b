//! The X12 envelopes: ISA … IEA around GS … GE groups around ST … SE sets.
//!
//! One pass over the segments: each ST opens a [`Transaction`] that reads the
//! segments up to its SE, and the counts and control numbers of every envelope
//! are checked as the closing segment arrives, so a mismatch points at it.

use edi_common::envelope::{Nesting, check_count, unexpected};
use edi_common::{Config, error_at};
use jembatan_plugin_sdk::{PluginError, PurchaseOrder};

use crate::lex::{Lexer, Segment};
use crate::map::Transaction;

const NESTING: Nesting = Nesting {
    message: ("ST", "SE"),
    group: ("GS", "GE"),
};

/// An open GS group.
struct Group {
    /// 1-based position in the interchange, for paths (`GS[1]`).
    index: usize,
    /// GS06, which GE02 must repeat.
    control: String,
    /// ST segments seen in the group; GE01 must equal it.
    sets: u64,
}

/// Reads every 850 in the interchange, in order.
pub fn read(body: &[u8], config: &Config) -> Result<Vec<PurchaseOrder>, PluginError> {
    let mut lexer = Lexer::new(body)?;
    let mut seg = Segment::default();
    lexer.next(&mut seg);
    let isa_control = isa(&seg, body)?;

    let mut orders = Vec::new();
    let mut groups = 0;
    let mut sets = 0;
    let mut group: Option<Group> = None;
    let mut set: Option<Transaction> = None;
    while lexer.next(&mut seg) {
        let at = |n: usize| seg.offset_of(n, body);
        match seg.tag() {
            "GS" => {
                NESTING.closed(
                    body,
                    seg.offset,
                    "GS",
                    set.as_ref().map(|s| s.index),
                    group.as_ref().map(|g| g.index),
                )?;
                groups += 1;
                gs(&seg, body, groups)?;
                group = Some(Group {
                    index: groups,
                    control: seg.get(6).to_owned(),
                    sets: 0,
                });
            }
            "ST" => {
                NESTING.closed(body, seg.offset, "ST", set.as_ref().map(|s| s.index), None)?;
                let Some(open) = &mut group else {
                    return Err(unexpected(
                        body,
                        seg.offset,
                        "ST",
                        "outside a GS … GE group",
                    ));
                };
                open.sets += 1;
                sets += 1;
                if seg.get(1) != "850" {
                    return Err(error_at(
                        "unsupported-transaction",
                        format!(
                            "ST[{sets}] is a {:?} transaction set; this plugin reads 850 purchase orders only",
                            seg.get(1)
                        ),
                        body,
                        at(1),
                        format!("ST[{sets}]/ST01"),
                    ));
                }
                set = Some(Transaction::new(sets, &seg));
            }
            "SE" => {
                let Some(mut open) = set.take() else {
                    return Err(unexpected(body, seg.offset, "SE", "without an ST"));
                };
                open.segments += 1;
                let st = open.index;
                check_count(
                    body,
                    at(1),
                    &format!("ST[{st}]/SE/SE01"),
                    "SE01",
                    seg.get(1),
                    open.segments,
                    |stated| {
                        format!(
                            "SE01 of ST[{st}] says {stated} segments, but the transaction set has {} (ST and SE included)",
                            open.segments
                        )
                    },
                )?;
                if seg.get(2) != open.control {
                    return Err(mismatch(
                        body,
                        at(2),
                        &format!("ST[{st}]/SE/SE02"),
                        "SE02",
                        seg.get(2),
                        "ST02",
                        &open.control,
                    ));
                }
                orders.push(open.finish(config, body, seg.offset)?);
            }
            "GE" => {
                NESTING.closed(body, seg.offset, "GE", set.as_ref().map(|s| s.index), None)?;
                let Some(open) = group.take() else {
                    return Err(unexpected(body, seg.offset, "GE", "without a GS"));
                };
                let path = format!("GS[{}]/GE", open.index);
                check_count(
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
                )?;
                if seg.get(2) != open.control {
                    return Err(mismatch(
                        body,
                        at(2),
                        &format!("{path}/GE02"),
                        "GE02",
                        seg.get(2),
                        "GS06",
                        &open.control,
                    ));
                }
            }
            "IEA" => {
                NESTING.closed(
                    body,
                    seg.offset,
                    "IEA",
                    set.as_ref().map(|s| s.index),
                    group.as_ref().map(|g| g.index),
                )?;
                check_count(
                    body,
                    at(1),
                    "IEA/IEA01",
                    "IEA01",
                    seg.get(1),
                    groups as u64,
                    |stated| {
                        format!(
                            "IEA01 says the interchange has {stated} functional groups, but it has {groups}"
                        )
                    },
                )?;
                if seg.get(2) != isa_control {
                    return Err(mismatch(
                        body,
                        at(2),
                        "IEA/IEA02",
                        "IEA02",
                        seg.get(2),
                        "ISA13",
                        &isa_control,
                    ));
                }
                let end = lexer.position();
                if lexer.next(&mut seg) {
                    return Err(unexpected(
                        body,
                        end.max(seg.offset),
                        seg.tag(),
                        "after IEA, which ends the interchange",
                    ));
                }
                return Ok(orders);
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
                Some(open) => open.segment(&seg, body, config)?,
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
            set.index
        ),
        (None, Some(group)) => format!("inside group GS[{}] (GE and IEA are missing)", group.index),
        (None, None) => "before its IEA".to_owned(),
    };
    Err(error_at(
        "truncated",
        format!("the interchange ends {open}; it may have been cut short"),
        body,
        body.len(),
        "IEA",
    ))
}

/// Checks the ISA and returns its control number (ISA13).
fn isa(seg: &Segment<'_>, body: &[u8]) -> Result<String, PluginError> {
    if seg.elements.len() != 17 {
        return Err(error_at(
            "invalid-value",
            format!(
                "the ISA segment has {} elements; it must have 16",
                seg.elements.len() - 1
            ),
            body,
            seg.offset,
            "ISA",
        ));
    }
    let control = seg.get(13);
    if control.len() != 9 || !control.bytes().all(|b| b.is_ascii_digit()) {
        return Err(error_at(
            "invalid-value",
            format!(
                "ISA13 (the interchange control number) is {control:?}; it must be nine digits"
            ),
            body,
            seg.offset_of(13, body),
            "ISA/ISA13",
        ));
    }
    Ok(control.to_owned())
}

/// Checks a GS: a purchase order group (GS01 PO) of a version this plugin reads.
fn gs(seg: &Segment<'_>, body: &[u8], index: usize) -> Result<(), PluginError> {
    if seg.get(1) != "PO" {
        return Err(error_at(
            "unsupported-transaction",
            format!(
                "GS[{index}] is a {:?} functional group; 850 purchase orders come in PO groups",
                seg.get(1)
            ),
            body,
            seg.offset_of(1, body),
            format!("GS[{index}]/GS01"),
        ));
    }
    // 850 segments this plugin maps are the same across the 004 and 005 releases;
    // 003 and earlier differ (six-digit dates) and are refused.
    let version = seg.get(8);
    if !(version.starts_with("004") || version.starts_with("005")) {
        return Err(error_at(
            "unsupported-version",
            format!(
                "GS[{index}] is X12 version {version:?}; this plugin reads 004010 and 005010 (004xxx and 005xxx)"
            ),
            body,
            seg.offset_of(8, body),
            format!("GS[{index}]/GS08"),
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
        format!("{closing} is {found:?} but {opening} is {expected:?}; they must be equal"),
        body,
        offset,
        path.to_owned(),
    )
}
