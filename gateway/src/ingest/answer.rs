//! The answer to a message the buyer's plugin read: one entry per transaction.
//!
//! 201 when at least one transaction is an order, with the orders, the refused
//! transactions and the documents that are not orders; 422 when none is, as a
//! problem with the same lists. A message of one transaction is refused with that
//! transaction's own problem (`invalid-plugin-output`, `plugin-rejected`,
//! `not-an-order`), so a single bad document reads as it always did.

use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::error::Problem;
use crate::orders::INVALID_PLUGIN_OUTPUT;
use crate::store::{
    AnswerInput, OrderStatus, StoredResponse, TransactionRecord, TransactionStatus,
};

/// The status of an accepted message's answer: 201 Created.
pub(super) const ACCEPTED_STATUS: u16 = 201;

/// The status of a refused message's answer: 422 Unprocessable Content.
pub(super) const REFUSED_STATUS: u16 = 422;

/// The 201 answer to a message with at least one order.
#[derive(Debug, Serialize, ToSchema)]
pub struct Accepted {
    pub message_id: String,
    /// The orders made of the message, one per accepted transaction (of every
    /// attempt: after a replay, those accepted before as well).
    pub orders: Vec<AcceptedOrder>,
    /// The transactions that are not orders because the plugin could not make one
    /// of them; each can be replayed alone (`POST /v1/messages/{id}/replay`).
    pub refused: Vec<RefusedTransaction>,
    /// The transactions that are other documents (an X12 810, an EDIFACT INVOIC).
    pub not_orders: Vec<OtherDocument>,
    /// What the plugin read past in the message as a whole: `{code, message,
    /// location}`.
    #[schema(value_type = Vec<Object>)]
    pub warnings: Vec<Value>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AcceptedOrder {
    pub id: String,
    pub buyer_order_number: String,
    /// The order's status as stored: `unrouted` while no route names its craftsman;
    /// routed, `received` while a delivery is pending, `delivered` when the craftsman
    /// has only the inbox, `failed` when every channel of theirs is disabled.
    #[schema(value_type = String, example = "received")]
    pub status: OrderStatus,
    /// The transaction of the message it was made of.
    pub transaction: TransactionRef,
}

/// Which transaction of a message: its 0-based index and its own control number.
#[derive(Debug, Serialize, ToSchema)]
pub struct TransactionRef {
    pub index: u32,
    /// X12 ST02, EDIFACT UNH 0062, cXML payloadID, as written.
    pub control_number: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RefusedTransaction {
    pub index: u32,
    pub control_number: Option<String>,
    /// `{code, message, location}`: the plugin's own error; or `{code:
    /// "invalid-plugin-output", message, errors}` when its order broke the
    /// canonical order contract.
    #[schema(value_type = Object)]
    pub error: Value,
    #[schema(value_type = Vec<Object>)]
    pub warnings: Vec<Value>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OtherDocument {
    pub index: u32,
    pub control_number: Option<String>,
    /// What it is, as its standard names it: `810`, `INVOIC`, `Invoice`.
    pub kind: String,
    pub reason: Option<String>,
}

/// The answer to a read message; the store calls it with every transaction as
/// stored (see [`crate::store::AnswerFn`]).
pub(super) fn answer(input: AnswerInput<'_>) -> StoredResponse {
    let mut accepted = Accepted {
        message_id: input.message_id.to_owned(),
        orders: Vec::new(),
        refused: Vec::new(),
        not_orders: Vec::new(),
        warnings: input.warnings.to_vec(),
    };
    for t in input.transactions {
        let transaction = || TransactionRef {
            index: t.index,
            control_number: t.control_number.clone(),
        };
        match (t.status, &t.order) {
            (TransactionStatus::Ok, Some(order)) => accepted.orders.push(AcceptedOrder {
                id: order.id.clone(),
                buyer_order_number: order.buyer_order_number.clone(),
                status: order.status,
                transaction: transaction(),
            }),
            (TransactionStatus::NotAnOrder, _) => accepted.not_orders.push(OtherDocument {
                index: t.index,
                control_number: t.control_number.clone(),
                kind: t.kind.clone().unwrap_or_default(),
                reason: t.reason.clone(),
            }),
            _ => accepted.refused.push(RefusedTransaction {
                index: t.index,
                control_number: t.control_number.clone(),
                error: t.error.clone().unwrap_or(Value::Null),
                warnings: t.warnings.clone(),
            }),
        }
    }
    if !accepted.orders.is_empty() {
        return StoredResponse {
            status: ACCEPTED_STATUS,
            body: serde_json::to_value(&accepted).expect("serializable"),
        };
    }
    let problem = refusal(&input, input.transactions)
        .with("message_id", input.message_id)
        .with("refused", &accepted.refused)
        .with("not_orders", &accepted.not_orders)
        .with("warnings", &accepted.warnings);
    let problem = match input.plugin {
        Some(plugin) => problem.with(
            "plugin",
            serde_json::json!({"name": plugin.name, "version": plugin.version}),
        ),
        None => problem,
    };
    StoredResponse {
        status: REFUSED_STATUS,
        body: serde_json::to_value(&problem).expect("serializable"),
    }
}

/// The headline of a message with no order: its one transaction's own problem, or
/// `no-orders` for several.
fn refusal(input: &AnswerInput<'_>, transactions: &[TransactionRecord]) -> Problem {
    let by = match input.plugin {
        Some(plugin) => format!("plugin '{}' {}", plugin.name, plugin.version),
        None => "the plugin".to_owned(),
    };
    let [only] = transactions else {
        let refused = transactions
            .iter()
            .filter(|t| t.status == TransactionStatus::Refused)
            .count();
        return Problem::new(
            "no-orders",
            "No transaction in the message is an order that could be accepted",
            REFUSED_STATUS,
            format!(
                "{by} read {} transaction(s): {refused} refused, {} not an order; see `refused` \
                 and `not_orders`",
                transactions.len(),
                transactions.len() - refused
            ),
        );
    };
    if only.status == TransactionStatus::NotAnOrder {
        let kind = only.kind.as_deref().unwrap_or("document");
        let reason = only
            .reason
            .as_deref()
            .map(|r| format!(": {r}"))
            .unwrap_or_default();
        return Problem::new(
            "not-an-order",
            "The message is not an order",
            REFUSED_STATUS,
            format!("{by} read a {kind}, which is not an order{reason}"),
        );
    }
    let error = only.error.clone().unwrap_or(Value::Null);
    let text = |key: &str| error[key].as_str().unwrap_or_default().to_owned();
    if text("code") == INVALID_PLUGIN_OUTPUT {
        return Problem::new(
            INVALID_PLUGIN_OUTPUT,
            "The plugin's output is not a valid canonical order",
            REFUSED_STATUS,
            format!("{by}: {}", text("message")),
        )
        .with("errors", &error["errors"]);
    }
    Problem::new(
        "plugin-rejected",
        "The buyer's plugin rejected the message",
        REFUSED_STATUS,
        format!(
            "{by}: plugin rejected the message ({}): {}",
            text("code"),
            text("message")
        ),
    )
    .with("plugin_error", &error)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::store::{PluginRef, RoutedOrder};

    fn transaction(index: u32, status: TransactionStatus) -> TransactionRecord {
        TransactionRecord {
            index,
            control_number: Some(format!("000{index}")),
            status,
            order: (status == TransactionStatus::Ok).then(|| RoutedOrder {
                id: format!("ord_{index}"),
                buyer_order_number: format!("PO-{index}"),
                status: OrderStatus::Received,
            }),
            error: (status == TransactionStatus::Refused).then(|| {
                json!({"code": "missing-field", "message": "no BEG segment", "location": {"path": "ST[2]"}})
            }),
            kind: (status == TransactionStatus::NotAnOrder).then(|| "810".to_owned()),
            reason: None,
            warnings: Vec::new(),
        }
    }

    fn answered(transactions: &[TransactionRecord]) -> StoredResponse {
        let plugin = PluginRef {
            name: "x12-850".into(),
            version: "0.3.0".into(),
        };
        answer(AnswerInput {
            message_id: "msg_1",
            plugin: Some(&plugin),
            transactions,
            warnings: &[json!({"code": "group-code-mismatch", "message": "GS01 IN"})],
        })
    }

    #[test]
    fn one_order_is_enough_for_a_201_that_lists_the_rest() {
        let answer = answered(&[
            transaction(0, TransactionStatus::Ok),
            transaction(1, TransactionStatus::Refused),
            transaction(2, TransactionStatus::NotAnOrder),
        ]);
        assert_eq!(answer.status, 201);
        let body = answer.body;
        assert_eq!(body["orders"][0]["id"], "ord_0");
        assert_eq!(
            body["orders"][0]["transaction"],
            json!({"index": 0, "control_number": "0000"})
        );
        assert_eq!(body["refused"][0]["index"], 1);
        assert_eq!(body["refused"][0]["control_number"], "0001");
        assert_eq!(body["refused"][0]["error"]["code"], "missing-field");
        assert_eq!(body["not_orders"][0]["kind"], "810");
        assert_eq!(body["warnings"][0]["code"], "group-code-mismatch");
    }

    #[test]
    fn without_orders_the_refusal_names_its_cause() {
        // One transaction: its own problem, as a single document was always refused.
        let one = answered(&[transaction(0, TransactionStatus::Refused)]);
        assert_eq!(one.status, 422);
        assert!(
            one.body["type"]
                .as_str()
                .unwrap()
                .ends_with("/plugin-rejected"),
            "{}",
            one.body
        );
        assert_eq!(one.body["plugin_error"]["code"], "missing-field");
        assert!(
            one.body["detail"]
                .as_str()
                .unwrap()
                .contains("no BEG segment")
        );
        assert_eq!(one.body["message_id"], "msg_1");

        let invoice = answered(&[transaction(0, TransactionStatus::NotAnOrder)]);
        assert!(
            invoice.body["type"]
                .as_str()
                .unwrap()
                .ends_with("/not-an-order")
        );
        assert!(invoice.body["detail"].as_str().unwrap().contains("810"));

        // Several: `no-orders`, with every transaction listed.
        let several = answered(&[
            transaction(0, TransactionStatus::Refused),
            transaction(1, TransactionStatus::NotAnOrder),
        ]);
        assert_eq!(several.status, 422);
        assert!(
            several.body["type"]
                .as_str()
                .unwrap()
                .ends_with("/no-orders")
        );
        assert_eq!(several.body["refused"].as_array().unwrap().len(), 1);
        assert_eq!(several.body["not_orders"].as_array().unwrap().len(), 1);
        assert_eq!(several.body["plugin"]["name"], "x12-850");
    }
}
