//! The answer to an 850: an X12 855 Purchase Order Acknowledgment (the SDK's
//! `RenderResponse`, WIT `jembatan:plugin@0.4.0`).
//!
//! What is written, segment by segment, as the 004010 855 defines it (segment
//! and element tables as published in the X12 dictionaries, e.g.
//! <https://zenbridge.io/edi-dictionary/X12/4010/855-purchase-order-acknowledgment/segment/ACK-530>,
//! and the code lists of elements 587 and 668 quoted in
//! <https://ediacademy.com/blog/855-x12-acknowledgment-type-codes/> and
//! <http://www.teamadr.com/edispecs/855-0010.htm>):
//!
//! - `ISA`/`GS`: the 850's envelope with sender and receiver swapped (ISA05/ISA06
//!   with ISA07/ISA08, GS02 with GS03), its ISA11, ISA12, ISA15, GS08 and its
//!   delimiters kept; ISA09/ISA10 and GS04/GS05 the answer's time (UTC); GS01 `PR`
//!   (the functional group of an 855); ISA13, GS06 and ST02 fresh from the
//!   gateway's per-buyer sequence, never reused; ISA14 `0` (no TA1 asked for).
//! - `BAK*00*{type}*{BEG03}*{BEG05}`: purpose 00 (original); acknowledgment type
//!   (element 587) `AD` "Acknowledge - With Detail, No Change" for accepted, `AC`
//!   "Acknowledge - With Detail and Change" for accepted with changes, `RJ`
//!   "Rejected - No Detail" for rejected; the PO number and date as the 850's BEG
//!   wrote them.
//! - `DTM*067*{date}`: "Current Schedule Delivery", the promised delivery date of
//!   the whole order, when the craftsman gave one.
//! - per changed line, its `PO1` as the 850 had it (PO101 the line number when the
//!   850 left it empty) and `ACK` (element 668): `IQ` "Item Accepted - Quantity
//!   Changed" with ACK02/ACK03 the new quantity in the 850's unit, `DR` "Item
//!   Accepted - Date Rescheduled", `IP` "Item Accepted - Price Changed"; ACK04
//!   `067` and ACK05 the line's new date when it has one (syntax notes: ACK02 and
//!   ACK03 together, ACK05 with ACK04). A new price is in the PO1's PO104.
//! - `CTT` (the number of PO1 segments) when there are lines, `SE`, `GE`, `IEA`.
//!
//! Dates are CCYYMMDD, or YYMMDD in a 003xxx group, as the 850 wrote them.

use edi_common::Config;
use jembatan_plugin_sdk::{NaiveDate, PluginError, Rendered, ResponseRequest, ResponseStatus};

use crate::lex::{Delimiters, Lexer, Segment};

/// The 850's envelope and the parts of the answered transaction an 855 names.
struct Original {
    delimiters: Delimiters,
    isa: Vec<String>,
    gs: Vec<String>,
    beg: Vec<String>,
    /// Every PO1 of the transaction, in order.
    lines: Vec<Vec<String>>,
}

fn owned(segment: &Segment<'_>) -> Vec<String> {
    segment.elements.iter().map(|e| (*e).to_owned()).collect()
}

fn not_found(what: String) -> PluginError {
    PluginError::new("order-not-in-message", what)
}

/// Finds the transaction set at `index` (counted through the whole body, as
/// `normalize` counts) with its ISA and GS.
fn find(body: &[u8], index: u32, control: Option<&str>) -> Result<Original, PluginError> {
    let mut start = 0;
    let mut seen = 0u32;
    while start < body.len() {
        start = crate::lex::skip_noise(body, start);
        if start >= body.len() {
            break;
        }
        let (mut lexer, isa) = Lexer::interchange(body, start)?;
        let isa = owned(&isa);
        let mut gs = Vec::new();
        let mut segment = Segment::default();
        let mut current: Option<Original> = None;
        while lexer.next(&mut segment)? {
            match segment.tag() {
                "GS" => gs = owned(&segment),
                "ST" => {
                    if seen == index {
                        if let Some(control) = control
                            && segment.get(2) != control
                        {
                            return Err(not_found(format!(
                                "transaction {index} of the original message has control number \
                                 {:?}, not the order's {control:?}",
                                segment.get(2)
                            )));
                        }
                        current = Some(Original {
                            delimiters: lexer.delimiters,
                            isa: isa.clone(),
                            gs: gs.clone(),
                            beg: Vec::new(),
                            lines: Vec::new(),
                        });
                    }
                    seen += 1;
                }
                "BEG" => {
                    if let Some(c) = current.as_mut() {
                        c.beg = owned(&segment);
                    }
                }
                "PO1" => {
                    if let Some(c) = current.as_mut() {
                        c.lines.push(owned(&segment));
                    }
                }
                "SE" => {
                    if let Some(found) = current.take() {
                        return Ok(found);
                    }
                }
                "IEA" => break,
                _ => {}
            }
        }
        if let Some(found) = current {
            return Ok(found);
        }
        if lexer.position() <= start {
            break;
        }
        start = lexer.position();
    }
    Err(not_found(format!(
        "the original message has no transaction set at index {index}"
    )))
}

/// Writes segments with the 850's delimiters.
struct Writer {
    delimiters: Delimiters,
    out: String,
    /// Segments from ST on, for SE01.
    in_set: usize,
}

impl Writer {
    fn segment(&mut self, elements: &[&str]) {
        // Trailing empty elements are not written (X12.6: an element that is not
        // used at the end of a segment is omitted with its separator).
        let used = elements
            .iter()
            .rposition(|e| !e.is_empty())
            .map_or(1, |last| last + 1);
        let element = self.delimiters.element as char;
        for (i, e) in elements[..used].iter().enumerate() {
            if i > 0 {
                self.out.push(element);
            }
            self.out.push_str(e);
        }
        self.out.push(self.delimiters.segment as char);
        self.in_set += 1;
    }
}

/// An ISA element padded (or cut) to its fixed width.
fn pad(value: &str, width: usize) -> String {
    format!("{:<width$}", value.trim())
        .chars()
        .take(width)
        .collect()
}

/// Renders `request` as an 855.
pub fn render(request: &ResponseRequest) -> Result<Rendered, PluginError> {
    // The same config as `normalize`: a config that does not parse is refused.
    Config::parse(&request.config)?;
    let body = request.original_text()?.as_bytes();
    let received =
        request.order.received.as_ref().ok_or_else(|| {
            PluginError::new("invalid-request", "the order has no `received` part")
        })?;
    let original = find(
        body,
        received.transaction.index,
        received.transaction.control_number.as_deref(),
    )?;
    if original.isa.len() < 17 || original.gs.len() < 9 {
        return Err(not_found(
            "the 850's ISA or GS is incomplete; its envelope cannot be answered".into(),
        ));
    }
    let isa = |n: usize| original.isa[n].as_str();
    let gs = |n: usize| original.gs[n].as_str();
    let six_digit_dates = gs(8).starts_with("003");
    let date = |d: NaiveDate| {
        if six_digit_dates {
            d.format("%y%m%d").to_string()
        } else {
            d.format("%Y%m%d").to_string()
        }
    };
    let response = &request.response;
    let numbers = request.control_numbers;
    let issued = response.issued_at;
    let mut w = Writer {
        delimiters: original.delimiters,
        out: String::new(),
        in_set: 0,
    };
    let interchange = format!("{:09}", numbers.interchange % 1_000_000_000);
    let group = numbers.group.to_string();
    let set = format!("{:04}", numbers.transaction);
    let component = (original.delimiters.component as char).to_string();
    w.segment(&[
        "ISA",
        isa(1),
        &pad(isa(2), 10),
        isa(3),
        &pad(isa(4), 10),
        isa(7),
        &pad(isa(8), 15),
        isa(5),
        &pad(isa(6), 15),
        &issued.format("%y%m%d").to_string(),
        &issued.format("%H%M").to_string(),
        isa(11),
        isa(12),
        &interchange,
        "0",
        isa(15),
        &component,
    ]);
    w.segment(&[
        "GS",
        "PR",
        gs(3),
        gs(2),
        &issued.format("%Y%m%d").to_string(),
        &issued.format("%H%M").to_string(),
        &group,
        gs(7),
        gs(8),
    ]);
    w.in_set = 0;
    w.segment(&["ST", "855", &set]);
    let kind = match response.status {
        ResponseStatus::Accepted => "AD",
        ResponseStatus::AcceptedWithChanges => "AC",
        ResponseStatus::Rejected => "RJ",
    };
    let beg = |n: usize| original.beg.get(n).map_or("", String::as_str);
    let number = if beg(3).is_empty() {
        response.buyer_order_number.as_str()
    } else {
        beg(3)
    };
    w.segment(&["BAK", "00", kind, number, beg(5)]);
    if let Some(promised) = response.promised_delivery_date {
        w.segment(&["DTM", "067", &date(promised)]);
    }
    for change in &response.lines {
        let position = request
            .order
            .lines
            .iter()
            .position(|l| l.line_number == change.line_number);
        let po1 = original
            .lines
            .iter()
            .find(|p| p.get(1).is_some_and(|n| *n == change.line_number))
            .or_else(|| position.and_then(|i| original.lines.get(i)))
            .ok_or_else(|| {
                not_found(format!(
                    "the 850 has no PO1 for line {:?}",
                    change.line_number
                ))
            })?;
        let mut po1: Vec<String> = po1.clone();
        po1.resize(po1.len().max(4), String::new());
        if po1[1].is_empty() {
            po1[1] = change.line_number.clone();
        }
        if let Some(price) = change.price {
            po1[4] = price.normalize().to_string();
        }
        let unit = if po1[3].is_empty() {
            "EA".to_owned()
        } else {
            po1[3].clone()
        };
        let refs: Vec<&str> = po1.iter().map(String::as_str).collect();
        w.segment(&refs);
        let status = if change.quantity.is_some() {
            "IQ"
        } else if change.delivery_date.is_some() {
            "DR"
        } else {
            "IP"
        };
        let quantity = change.quantity.map(|q| q.normalize().to_string());
        let (quantity, unit) = match &quantity {
            Some(q) => (q.as_str(), unit.as_str()),
            None => ("", ""),
        };
        let when = change.delivery_date.map(date);
        let (qualifier, when) = match &when {
            Some(d) => ("067", d.as_str()),
            None => ("", ""),
        };
        w.segment(&["ACK", status, quantity, unit, qualifier, when]);
    }
    if !response.lines.is_empty() {
        w.segment(&["CTT", &response.lines.len().to_string()]);
    }
    let count = (w.in_set + 1).to_string();
    w.segment(&["SE", &count, &set]);
    w.segment(&["GE", "1", &group]);
    w.segment(&["IEA", "1", &interchange]);
    Ok(Rendered {
        content_type: "application/edi-x12".into(),
        body: w.out.into_bytes(),
    })
}
