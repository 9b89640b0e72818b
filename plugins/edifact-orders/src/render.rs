//! The answer to an ORDERS message: a UN/EDIFACT ORDRSP, Purchase order response
//! message (the SDK's `RenderResponse`, WIT `jembatan:plugin@0.4.0`), in the
//! ORDERS message's own directory (`ORDRSP:D:96A:UN` for a D96A order).
//!
//! What is written follows the ORDRSP message structure and semantic notes of
//! UNTDID (<https://service.unece.org/trade/untdid/d95a/trmd/ordrsp_a.htm>,
//! <https://service.unece.org/trade/untdid/d97b/trmd/ordrsp_a.htm>) and the code
//! lists of UNCL 1225, 1229, 2005 and 6063:
//!
//! - `UNA` as the order's (when it had one), the same service characters and
//!   decimal mark throughout.
//! - `UNB`: the order's syntax identifier (0001, 0002), its recipient as sender
//!   and its sender as recipient (S002 and S003 swapped), the answer's date and
//!   time (UTC; YYMMDD before syntax version 4), and a fresh interchange control
//!   reference (0020) from the gateway's per-buyer sequence.
//! - `UNH`: a fresh message reference (0062), `ORDRSP` in the order's version,
//!   release and agency.
//! - `BGM+231+{response id}+{function}`: 231 "Purchase order response";
//!   message function (1225) `29` "Accepted without amendment", `27` "Not
//!   accepted" or `4` "Change" for an answer with changes.
//! - `DTM+137` the document's date, `DTM+69` "Delivery date/time, promised for"
//!   when the craftsman gave one (format 102, CCYYMMDD).
//! - `FTX+AAI` the craftsman's reason, when given.
//! - segment group 1: `RFF+ON:{order number}` (the order answered) with `DTM+171`
//!   its date, as the ORDERS BGM and `DTM+137` had them.
//! - segment group 3: `NAD+BY` and `NAD+SU`, the buyer and the supplier with the
//!   party identification (C082) and name (C080) the ORDERS gave them, so the
//!   buyer's system can match the answer to its trading partner. In the ORDRSP
//!   heading, group 3 (NAD-LOC-FII…, position 0140) follows group 1 (RFF-DTM,
//!   0080) and group 2 (AJT-FTX, 0110): the D.96A segment table, as a D.96A
//!   ORDRSP implementation guide reproduces it (UNTDID d96a/trmd/ordrsp_s.htm).
//! - per changed line, segment group 26: `LIN+{line}+3` (1229 `3` "Changed") with
//!   the ORDERS line's item number, `QTY+21` the new quantity (6063 21 "Ordered
//!   quantity", in the line's unit), `DTM+69` its promised date, `PRI+AAA` its
//!   new price.
//! - `UNS+S`, `UNT` (segments from UNH to UNT), `UNZ`.

use edi_common::Config;
use jembatan_plugin_sdk::{
    Decimal, NaiveDate, PluginError, Rendered, ResponseRequest, ResponseStatus,
};

use crate::lex::{Lexer, Segment, Syntax};

/// What the answer takes from the ORDERS interchange.
struct Original {
    syntax: Syntax,
    una: Option<Vec<u8>>,
    /// UNB 0001, 0002.
    identifier: (String, String),
    /// UNB S002 and S003, each component.
    sender: Vec<String>,
    recipient: Vec<String>,
    /// UNH S009: type, version, release, agency, association code.
    message_id: Vec<String>,
    /// BGM 1004 and DTM+137.
    number: String,
    date: Option<String>,
    /// LIN 1082 and C212 7140:7143 of each line, in order.
    lines: Vec<(String, String, String)>,
    /// The heading's `NAD+BY` and `NAD+SU`: qualifier, C082 and C080 components.
    parties: Vec<Party>,
}

/// A party of the order, as its NAD named it.
struct Party {
    qualifier: String,
    identification: Vec<String>,
    name: Vec<String>,
}

fn not_found(what: String) -> PluginError {
    PluginError::new("order-not-in-message", what)
}

fn components(seg: &Segment<'_>, e: usize) -> Vec<String> {
    let mut out: Vec<String> = (1..=5).map(|c| seg.text(e, c).into_owned()).collect();
    while out.last().is_some_and(String::is_empty) {
        out.pop();
    }
    out
}

/// Finds the UNH at `index` (counted through the whole body, as `normalize`
/// counts) with its interchange's UNA and UNB.
fn find(body: &[u8], index: u32, control: Option<&str>) -> Result<Original, PluginError> {
    let mut lexer = Lexer::new(body)?;
    let mut seg = Segment::default();
    let mut seen = 0u32;
    let mut una: Option<Vec<u8>> = None;
    let mut unb: Option<(String, String, Vec<String>, Vec<String>)> = None;
    let mut current: Option<Original> = None;
    loop {
        if lexer.at_interchange() {
            let at = lexer.position();
            una = body[at..]
                .starts_with(b"UNA")
                .then(|| body[at..(at + 9).min(body.len())].to_vec());
            lexer.service_string_advice()?;
        }
        if !lexer.next(&mut seg)? {
            break;
        }
        match seg.tag() {
            "UNB" => {
                lexer.declare(&seg)?;
                unb = Some((
                    seg.text(1, 1).into_owned(),
                    seg.text(1, 2).into_owned(),
                    components(&seg, 2),
                    components(&seg, 3),
                ));
            }
            "UNH" => {
                if seen == index {
                    if let Some(control) = control
                        && seg.text(1, 1) != control
                    {
                        return Err(not_found(format!(
                            "message {index} of the original interchange has reference {:?}, \
                             not the order's {control:?}",
                            seg.text(1, 1)
                        )));
                    }
                    let (id, version, sender, recipient) = unb.clone().ok_or_else(|| {
                        not_found("the order's message has no UNB before it".into())
                    })?;
                    current = Some(Original {
                        syntax: lexer.syntax,
                        una: una.clone(),
                        identifier: (id, version),
                        sender,
                        recipient,
                        message_id: components(&seg, 2),
                        number: String::new(),
                        date: None,
                        lines: Vec::new(),
                        parties: Vec::new(),
                    });
                }
                seen += 1;
            }
            "BGM" => {
                if let Some(c) = current.as_mut() {
                    c.number = seg.text(2, 1).into_owned();
                }
            }
            "DTM" => {
                if let Some(c) = current.as_mut()
                    && c.lines.is_empty()
                    && seg.text(1, 1) == "137"
                {
                    c.date = Some(seg.text(1, 2).into_owned());
                }
            }
            "NAD" => {
                if let Some(c) = current.as_mut()
                    && c.lines.is_empty()
                    && matches!(seg.text(1, 1).as_ref(), "BY" | "SU")
                {
                    c.parties.push(Party {
                        qualifier: seg.text(1, 1).into_owned(),
                        identification: components(&seg, 2),
                        name: components(&seg, 4),
                    });
                }
            }
            "LIN" => {
                if let Some(c) = current.as_mut() {
                    c.lines.push((
                        seg.text(1, 1).into_owned(),
                        seg.text(3, 1).into_owned(),
                        seg.text(3, 2).into_owned(),
                    ));
                }
            }
            "UNT" => {
                if let Some(found) = current.take() {
                    return Ok(found);
                }
            }
            _ => {}
        }
    }
    current.ok_or_else(|| {
        not_found(format!(
            "the original interchange has no message at index {index}"
        ))
    })
}

/// Writes segments with the order's service characters, releasing any of them
/// inside a value.
struct Writer {
    syntax: Syntax,
    out: Vec<u8>,
    /// Segments from UNH on, for UNT 0074.
    in_message: usize,
}

impl Writer {
    fn value(&mut self, text: &str) {
        let s = self.syntax;
        let specials = [
            Some(s.component),
            Some(s.element),
            Some(s.segment),
            s.release,
            s.repetition,
        ];
        for ch in text.chars() {
            if ch.is_ascii()
                && specials.contains(&Some(ch as u8))
                && let Some(release) = s.release
            {
                self.out.push(release);
            }
            let mut buf = [0; 4];
            self.out
                .extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
        }
    }

    /// One segment: `elements[0]` is the tag; each element its components.
    /// Trailing empty components and elements are left out (ISO 9735).
    fn segment(&mut self, elements: &[&[&str]]) {
        let used = elements
            .iter()
            .rposition(|e| e.iter().any(|c| !c.is_empty()))
            .map_or(1, |last| last + 1);
        for (i, element) in elements[..used].iter().enumerate() {
            if i > 0 {
                self.out.push(self.syntax.element);
            }
            let last = element
                .iter()
                .rposition(|c| !c.is_empty())
                .map_or(0, |l| l + 1);
            for (j, component) in element[..last].iter().enumerate() {
                if j > 0 {
                    self.out.push(self.syntax.component);
                }
                if i == 0 {
                    self.out.extend_from_slice(component.as_bytes());
                } else {
                    self.value(component);
                }
            }
        }
        self.out.push(self.syntax.segment);
        self.in_message += 1;
    }
}

/// A decimal with the interchange's decimal mark.
fn number(value: Decimal, mark: u8) -> String {
    let text = value.normalize().to_string();
    if mark == b',' {
        text.replace('.', ",")
    } else {
        text
    }
}

fn refs(parts: &[String]) -> Vec<&str> {
    parts.iter().map(String::as_str).collect()
}

fn ccyymmdd(date: NaiveDate) -> String {
    date.format("%Y%m%d").to_string()
}

/// Renders `request` as an ORDRSP.
pub fn render(request: &ResponseRequest) -> Result<Rendered, PluginError> {
    Config::parse(&request.config)?;
    let body = &request.original.body;
    if body.is_empty() {
        request.original_text()?;
    }
    let received =
        request.order.received.as_ref().ok_or_else(|| {
            PluginError::new("invalid-request", "the order has no `received` part")
        })?;
    let original = find(
        body,
        received.transaction.index,
        received.transaction.control_number.as_deref(),
    )?;
    let response = &request.response;
    let numbers = request.control_numbers;
    let issued = response.issued_at;
    let mut w = Writer {
        syntax: original.syntax,
        out: Vec::new(),
        in_message: 0,
    };
    if let Some(una) = &original.una {
        w.out.extend_from_slice(una);
    }
    let syntax_version: u8 = original.identifier.1.parse().unwrap_or(3);
    let date = if syntax_version >= 4 {
        issued.format("%Y%m%d").to_string()
    } else {
        issued.format("%y%m%d").to_string()
    };
    let time = issued.format("%H%M").to_string();
    let interchange = numbers.interchange.to_string();
    let message = numbers.transaction.to_string();
    let (recipient, sender) = (refs(&original.recipient), refs(&original.sender));
    w.segment(&[
        &["UNB"],
        &[&original.identifier.0, &original.identifier.1],
        &recipient,
        &sender,
        &[&date, &time],
        &[&interchange],
    ]);
    w.in_message = 0;
    let id = |n: usize, default: &'static str| {
        original
            .message_id
            .get(n)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
            .unwrap_or(default)
    };
    w.segment(&[
        &["UNH"],
        &[&message],
        &["ORDRSP", id(1, "D"), id(2, "96A"), id(3, "UN")],
    ]);
    let function = match response.status {
        ResponseStatus::Accepted => "29",
        ResponseStatus::Rejected => "27",
        ResponseStatus::AcceptedWithChanges => "4",
    };
    w.segment(&[&["BGM"], &["231"], &[&response.id], &[function]]);
    let today = ccyymmdd(issued.date_naive());
    w.segment(&[&["DTM"], &["137", &today, "102"]]);
    if let Some(promised) = response.promised_delivery_date {
        w.segment(&[&["DTM"], &["69", &ccyymmdd(promised), "102"]]);
    }
    if let Some(reason) = &response.reason {
        // FTX 4440 is at most 512 characters, in up to five of 70 (an..512).
        let chunks: Vec<String> = reason
            .chars()
            .collect::<Vec<_>>()
            .chunks(70)
            .take(5)
            .map(|c| c.iter().collect())
            .collect();
        let text: Vec<&str> = chunks.iter().map(String::as_str).collect();
        w.segment(&[&["FTX"], &["AAI"], &[], &[], &text]);
    }
    let order_number = if original.number.is_empty() {
        &response.buyer_order_number
    } else {
        &original.number
    };
    w.segment(&[&["RFF"], &["ON", order_number]]);
    if let Some(date) = &original.date {
        w.segment(&[&["DTM"], &["171", date, "102"]]);
    }
    for party in &original.parties {
        let (identification, name) = (refs(&party.identification), refs(&party.name));
        // Trailing empty elements are left out, as the syntax rules ask.
        if name.iter().all(|c| c.is_empty()) {
            w.segment(&[&["NAD"], &[&party.qualifier], &identification]);
        } else {
            w.segment(&[&["NAD"], &[&party.qualifier], &identification, &[], &name]);
        }
    }
    for change in &response.lines {
        let line = request
            .order
            .lines
            .iter()
            .find(|l| l.line_number == change.line_number)
            .ok_or_else(|| not_found(format!("the order has no line {:?}", change.line_number)))?;
        let item = original
            .lines
            .iter()
            .find(|(n, _, _)| *n == change.line_number);
        let (item_id, item_type) = item
            .map(|(_, id, kind)| (id.as_str(), kind.as_str()))
            .unwrap_or(("", ""));
        w.segment(&[
            &["LIN"],
            &[&change.line_number],
            &["3"],
            &[item_id, item_type],
        ]);
        if let Some(quantity) = change.quantity {
            let unit = line
                .unit_original
                .as_ref()
                .map_or(line.unit.as_str(), |u| u.code.as_str());
            w.segment(&[
                &["QTY"],
                &["21", &number(quantity, original.syntax.decimal), unit],
            ]);
        }
        if let Some(date) = change.delivery_date {
            w.segment(&[&["DTM"], &["69", &ccyymmdd(date), "102"]]);
        }
        if let Some(price) = change.price {
            w.segment(&[&["PRI"], &["AAA", &number(price, original.syntax.decimal)]]);
        }
    }
    w.segment(&[&["UNS"], &["S"]]);
    let count = (w.in_message + 1).to_string();
    w.segment(&[&["UNT"], &[&count], &[&message]]);
    w.segment(&[&["UNZ"], &["1"], &[&interchange]]);
    Ok(Rendered {
        content_type: "application/edifact".into(),
        body: w.out,
    })
}
