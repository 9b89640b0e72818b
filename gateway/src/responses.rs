//! Craftsmen's answers to orders (issue 10): the rules, written once above the
//! store, for every way a craftsman answers (the API, the inbox page, a button in a
//! chat).
//!
//! An answer is `accepted` (as ordered), `rejected` (with a reason) or
//! `accepted_with_changes` (a promised delivery date for the whole order, and/or
//! lines with another quantity, date or price). It becomes the order's next
//! [`OrderResponse`]: a later answer supersedes the earlier one and the history is
//! kept. A rejection is final: the buyer has been told the order will not be made
//! and may have placed it elsewhere, so nothing follows it ([`AnswerError::Final`],
//! a 409 over HTTP). Until then a craftsman may change their mind (accept, then
//! change the date, then reject when the machine breaks); each answer is delivered
//! to the buyer in turn.
//!
//! A response is checked against `schemas/order-response.schema.json` before it is
//! stored, as orders are against theirs, so what a buyer receives always fits the
//! published contract.

use std::collections::HashSet;
use std::sync::{Arc, OnceLock};

use chrono::{DateTime, NaiveDate, Utc};
use jembatan_schemas::order_response::{LineChange, Responder, ResponseVersion, ResponseVia};
use jembatan_schemas::{ORDER_RESPONSE_SCHEMA, OrderResponse, ResponseStatus};
use rust_decimal::Decimal;
use serde_json::Value;

use crate::delivery::Bell;
use crate::secrets::new_id;
use crate::store::{Craftsman, NewResponse, OrderRecord, RecordedResponse, Store, StoreError};

/// What a craftsman said, before it is made a response.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub status: ResponseStatus,
    pub reason: Option<String>,
    pub promised_delivery_date: Option<NaiveDate>,
    pub lines: Vec<LineChange>,
}

impl Answer {
    /// Accepted as ordered.
    pub fn accept() -> Self {
        Self {
            status: ResponseStatus::Accepted,
            reason: None,
            promised_delivery_date: None,
            lines: Vec::new(),
        }
    }

    /// Rejected, for `reason`.
    pub fn reject(reason: impl Into<String>) -> Self {
        Self {
            status: ResponseStatus::Rejected,
            reason: Some(reason.into()),
            ..Self::accept()
        }
    }
}

/// Why an answer did not become a response.
#[derive(Debug, thiserror::Error)]
pub enum AnswerError {
    /// The answer breaks a rule; `field` names where (`reason`, `lines[0].quantity`).
    #[error("{why}")]
    Invalid { field: String, why: String },
    /// The order was rejected: nothing follows a rejection.
    #[error("order '{order_id}' was already rejected; a rejection is final")]
    Final { order_id: String },
    /// Another answer to the order was stored while this one was made; the
    /// craftsman should look at the order again.
    #[error("order '{order_id}' was answered at the same moment; read it again")]
    Raced { order_id: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn invalid(field: impl Into<String>, why: impl Into<String>) -> AnswerError {
    AnswerError::Invalid {
        field: field.into(),
        why: why.into(),
    }
}

/// The response schema, compiled once.
fn validator() -> &'static jsonschema::Validator {
    static VALIDATOR: OnceLock<jsonschema::Validator> = OnceLock::new();
    VALIDATOR.get_or_init(|| {
        let schema: Value =
            serde_json::from_str(ORDER_RESPONSE_SCHEMA).expect("the schema is valid JSON");
        jsonschema::options()
            .should_validate_formats(true)
            .build(&schema)
            .expect("the order response schema compiles")
    })
}

/// `text` trimmed, `None` when nothing is left.
fn trimmed(text: Option<String>) -> Option<String> {
    text.map(|t| t.trim().to_owned()).filter(|t| !t.is_empty())
}

/// The order's next response, made of `answer` by `craftsman` (the order's own,
/// checked by the caller) after the order's `history` (oldest first), or why it
/// cannot be.
pub fn next_response(
    order: &OrderRecord,
    history: &[OrderResponse],
    craftsman: &Craftsman,
    answer: Answer,
    via: ResponseVia,
    now: DateTime<Utc>,
) -> Result<OrderResponse, AnswerError> {
    let latest = history.last();
    if latest.is_some_and(|r| r.status == ResponseStatus::Rejected) {
        return Err(AnswerError::Final {
            order_id: order.id.clone(),
        });
    }
    let reason = trimmed(answer.reason);
    let changes = answer.promised_delivery_date.is_some() || !answer.lines.is_empty();
    match answer.status {
        ResponseStatus::Rejected if reason.is_none() => {
            return Err(invalid("reason", "a rejection needs a reason"));
        }
        ResponseStatus::Rejected | ResponseStatus::Accepted if changes => {
            return Err(invalid(
                if answer.promised_delivery_date.is_some() {
                    "promised_delivery_date"
                } else {
                    "lines"
                },
                format!(
                    "an order {} has no changes; send accepted_with_changes",
                    answer.status
                ),
            ));
        }
        ResponseStatus::AcceptedWithChanges if !changes => {
            return Err(invalid(
                "lines",
                "accepted_with_changes needs a promised_delivery_date or a changed line",
            ));
        }
        _ => {}
    }
    check_lines(order, &answer.lines)?;
    let sequence = latest.map_or(1, |r| r.sequence + 1);
    let response = OrderResponse {
        version: ResponseVersion::V1,
        id: new_id("rsp"),
        order_id: order.id.clone(),
        buyer_order_number: order.buyer_order_number.clone(),
        sequence,
        issued_at: now,
        status: answer.status,
        reason,
        promised_delivery_date: answer.promised_delivery_date,
        lines: answer.lines,
        responder: Responder {
            craftsman_id: craftsman.id.clone(),
            name: craftsman.name.clone(),
        },
        via,
        supersedes: latest.map(|r| r.id.clone()),
    };
    // What the rules above do not say (lengths, formats) the schema does.
    let value = serde_json::to_value(&response).expect("a response serializes");
    if let Some(error) = validator().iter_errors(&value).next() {
        let pointer = error.instance_path().to_string();
        let field = pointer.trim_start_matches('/').replace('/', ".");
        return Err(invalid(field, format!("{pointer}: {error}")));
    }
    Ok(response)
}

/// Each changed line is one of the order's, named once, and changes something; a
/// quantity is above zero.
fn check_lines(order: &OrderRecord, lines: &[LineChange]) -> Result<(), AnswerError> {
    let known: HashSet<&str> = order
        .order
        .lines
        .iter()
        .map(|l| l.line_number.as_str())
        .collect();
    let mut seen = HashSet::new();
    for (i, line) in lines.iter().enumerate() {
        let at = |what: &str| format!("lines[{i}].{what}");
        if !known.contains(line.line_number.as_str()) {
            return Err(invalid(
                at("line_number"),
                format!("the order has no line '{}'", line.line_number),
            ));
        }
        if !seen.insert(line.line_number.as_str()) {
            return Err(invalid(
                at("line_number"),
                format!("line '{}' is changed twice", line.line_number),
            ));
        }
        if line.quantity.is_none() && line.delivery_date.is_none() && line.price.is_none() {
            return Err(invalid(
                at("quantity"),
                format!(
                    "line '{}' changes nothing: give a quantity, a delivery_date or a price",
                    line.line_number
                ),
            ));
        }
        if line.quantity.is_some_and(|q| q <= Decimal::ZERO) {
            return Err(invalid(at("quantity"), "a quantity must be above zero"));
        }
        if line.price.is_some_and(|p| p < Decimal::ZERO) {
            return Err(invalid(at("price"), "a price cannot be negative"));
        }
    }
    Ok(())
}

/// Records craftsmen's answers and rings the delivery worker when one goes to a
/// buyer's callback.
pub struct Responses {
    pub store: Arc<dyn Store>,
    pub bell: Arc<Bell>,
    /// Writes a response in its buyer's format once it is stored; `None` leaves it
    /// to the delivery worker (which renders at the first attempt when nothing is
    /// kept yet).
    pub renderer: Option<Arc<crate::response_render::Renderer>>,
}

impl Responses {
    /// Makes `answer` the next response to `order` (routed to `craftsman`, as the
    /// caller checked) and stores it with its delivery to the buyer's callback.
    /// `event_key` names the chat event it came from.
    pub async fn answer(
        &self,
        order: &OrderRecord,
        craftsman: &Craftsman,
        answer: Answer,
        via: ResponseVia,
        event_key: Option<String>,
    ) -> Result<RecordedResponse, AnswerError> {
        let history = self.store.order_responses(&order.id).await?;
        let response = next_response(order, &history, craftsman, answer, via, Utc::now())?;
        let recorded = self
            .store
            .record_response(NewResponse {
                response,
                event_key,
            })
            .await
            .map_err(|error| match error {
                StoreError::Conflict(_) => AnswerError::Raced {
                    order_id: order.id.clone(),
                },
                other => other.into(),
            })?;
        tracing::info!(order_id = %order.id, craftsman_id = %craftsman.id,
            response_id = %recorded.response.id, status = %recorded.response.status,
            sequence = recorded.response.sequence, via = ?via, "order answered");
        if recorded.callback_delivery.is_some() {
            match &self.renderer {
                // Rendered after the response is stored, in its own task: a slow or
                // failing plugin neither delays nor loses the answer. The worker is
                // rung once it is done (or finds it undone at its next look, and
                // renders it itself; the first kept wins).
                Some(renderer) => {
                    let (renderer, bell) = (renderer.clone(), self.bell.clone());
                    let (response, order) = (recorded.response.clone(), order.clone());
                    tokio::spawn(async move {
                        renderer.render(&response, &order).await;
                        bell.ring();
                    });
                }
                None => self.bell.ring(),
            }
        }
        Ok(recorded)
    }
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use super::*;
    use crate::delivery::channels::testing::sample_record;
    use crate::model::Language;

    fn craftsman() -> Craftsman {
        Craftsman {
            id: "jaya".into(),
            name: "Bengkel Jaya".into(),
            language: Language::Indonesian,
            channels: Vec::new(),
            created_at: Utc::now(),
        }
    }

    fn make(history: &[OrderResponse], answer: Answer) -> Result<OrderResponse, AnswerError> {
        next_response(
            &sample_record(),
            history,
            &craftsman(),
            answer,
            ResponseVia::Api,
            Utc::now(),
        )
    }

    fn field_of(result: Result<OrderResponse, AnswerError>) -> String {
        match result {
            Err(AnswerError::Invalid { field, .. }) => field,
            other => panic!("expected Invalid, got {other:?}"),
        }
    }

    fn changes(lines: Vec<LineChange>) -> Answer {
        Answer {
            status: ResponseStatus::AcceptedWithChanges,
            reason: None,
            promised_delivery_date: None,
            lines,
        }
    }

    fn line(number: &str, quantity: Option<&str>) -> LineChange {
        LineChange {
            line_number: number.into(),
            quantity: quantity.map(|q| Decimal::from_str(q).unwrap()),
            ..LineChange::default()
        }
    }

    #[test]
    fn a_first_answer_is_response_one_and_later_ones_supersede_it() {
        let first = make(&[], Answer::accept()).unwrap();
        assert_eq!((first.sequence, first.supersedes.as_deref()), (1, None));
        assert_eq!(first.order_id, "ord_0001");
        assert_eq!(first.responder.craftsman_id, "jaya");
        let second = make(
            std::slice::from_ref(&first),
            changes(vec![line("1", Some("8"))]),
        )
        .unwrap();
        assert_eq!(second.sequence, 2);
        assert_eq!(second.supersedes.as_deref(), Some(first.id.as_str()));
        let third = make(&[first, second], Answer::reject("Mesin rusak")).unwrap();
        assert_eq!(third.sequence, 3);
        // Nothing follows a rejection.
        assert!(matches!(
            make(&[third], Answer::accept()),
            Err(AnswerError::Final { .. })
        ));
    }

    #[test]
    fn each_status_says_only_what_it_may() {
        assert_eq!(field_of(make(&[], Answer::reject("  "))), "reason");
        let mut accepted_with_a_date = Answer::accept();
        accepted_with_a_date.promised_delivery_date = NaiveDate::from_ymd_opt(2026, 12, 20);
        assert_eq!(
            field_of(make(&[], accepted_with_a_date)),
            "promised_delivery_date"
        );
        let mut rejected_with_lines = Answer::reject("Bahan habis");
        rejected_with_lines.lines = vec![line("1", Some("2"))];
        assert_eq!(field_of(make(&[], rejected_with_lines)), "lines");
        assert_eq!(field_of(make(&[], changes(vec![]))), "lines");
        // A reason is trimmed.
        let rejected = make(&[], Answer::reject("  Bahan habis \n")).unwrap();
        assert_eq!(rejected.reason.as_deref(), Some("Bahan habis"));
    }

    #[test]
    fn changed_lines_are_the_orders_once_and_change_something() {
        assert_eq!(
            field_of(make(&[], changes(vec![line("9", Some("2"))]))),
            "lines[0].line_number"
        );
        assert_eq!(
            field_of(make(
                &[],
                changes(vec![line("1", Some("2")), line("1", Some("3"))])
            )),
            "lines[1].line_number"
        );
        assert_eq!(
            field_of(make(&[], changes(vec![line("1", None)]))),
            "lines[0].quantity"
        );
        assert_eq!(
            field_of(make(&[], changes(vec![line("1", Some("0"))]))),
            "lines[0].quantity"
        );
        let made = make(&[], changes(vec![line("2", Some("0.5"))])).unwrap();
        assert_eq!(
            made.lines[0].quantity,
            Some(Decimal::from_str("0.5").unwrap())
        );
    }

    #[test]
    fn what_the_schema_limits_is_refused_with_its_place() {
        let field = field_of(make(&[], Answer::reject("x".repeat(600))));
        assert_eq!(field, "reason");
    }
}
