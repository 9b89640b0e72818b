//! What a message's outcome writes, planned the same way on every engine: its
//! orders routed (each engine reads the routes its own way and hands them in), its
//! transaction rows, and the answer built from all of them, before anything is
//! written.

use std::collections::BTreeMap;

use crate::store::routing::NewDelivery;
use crate::store::{
    AnswerInput, MessageOutcome, MessageStatus, NewOrder, NewTransaction, NewTransactionOutcome,
    OrderStatus, PluginRef, RoutedOrder, StoreError, StoreResult, StoredResponse,
    TransactionRecord, TransactionStatus,
};

/// An outcome as the message row stores it, with its orders routed and the
/// transaction rows to write.
pub(in crate::store) struct Outcome {
    pub(in crate::store) status: MessageStatus,
    pub(in crate::store) error: Option<serde_json::Value>,
    pub(in crate::store) response: StoredResponse,
    pub(in crate::store) warnings: Vec<serde_json::Value>,
    pub(in crate::store) orders: Vec<(NewOrder, Route)>,
    pub(in crate::store) transactions: Vec<TransactionRecord>,
}

/// Where an order goes, decided before it is written.
pub(in crate::store) struct Route {
    pub(in crate::store) craftsman: Option<String>,
    pub(in crate::store) status: OrderStatus,
    pub(in crate::store) deliveries: Vec<NewDelivery>,
}

/// Routes the outcome's orders with `route` (which only reads) and builds its answer from all the
/// message's transactions, those an earlier attempt `stored` included, after
/// checking that every order belongs to message `id` of `buyer_id` and that no
/// transaction already stored as an order is written again.
pub(in crate::store) fn plan(
    id: &str,
    buyer_id: &str,
    plugin: Option<&PluginRef>,
    stored: Vec<TransactionRecord>,
    outcome: MessageOutcome,
    route: &mut dyn FnMut(&NewOrder) -> StoreResult<Route>,
) -> StoreResult<Outcome> {
    let (transactions, warnings, answer) = match outcome {
        MessageOutcome::Normalized {
            transactions,
            warnings,
            answer,
        } => (transactions, warnings, answer),
        MessageOutcome::Failed { error, response } => {
            return Ok(Outcome {
                status: MessageStatus::Failed,
                error: Some(error),
                response,
                warnings: Vec::new(),
                orders: Vec::new(),
                transactions: Vec::new(),
            });
        }
    };
    let mut all: BTreeMap<u32, TransactionRecord> =
        stored.into_iter().map(|t| (t.index, t)).collect();
    let mut orders = Vec::new();
    let mut written = Vec::with_capacity(transactions.len());
    for transaction in transactions {
        let NewTransaction {
            index,
            control_number,
            outcome,
            warnings,
        } = transaction;
        if let Some(stored) = all.get(&index)
            && stored.status == TransactionStatus::Ok
        {
            return Err(StoreError::Invalid(format!(
                "transaction {index} of message {id} is already order {}",
                stored.order.as_ref().map_or("?", |o| o.id.as_str())
            )));
        }
        let mut record = TransactionRecord {
            index,
            control_number,
            status: TransactionStatus::Refused,
            order: None,
            error: None,
            kind: None,
            reason: None,
            warnings,
        };
        match outcome {
            NewTransactionOutcome::Order(order) => {
                check_owner(&order, id, buyer_id)?;
                let route = route(&order)?;
                record.status = TransactionStatus::Ok;
                record.order = Some(RoutedOrder {
                    id: order.id.clone(),
                    buyer_order_number: order.buyer_order_number.clone(),
                    status: route.status,
                });
                orders.push((*order, route));
            }
            NewTransactionOutcome::Refused { error } => record.error = Some(error),
            NewTransactionOutcome::NotAnOrder { kind, reason } => {
                record.status = TransactionStatus::NotAnOrder;
                record.kind = Some(kind);
                record.reason = reason;
            }
        }
        written.push(record.clone());
        all.insert(index, record);
    }
    let all: Vec<TransactionRecord> = all.into_values().collect();
    let response = answer(AnswerInput {
        message_id: id,
        plugin,
        transactions: &all,
        warnings: &warnings,
    });
    let any_order = all.iter().any(|t| t.status == TransactionStatus::Ok);
    Ok(Outcome {
        status: if any_order {
            MessageStatus::Normalized
        } else {
            MessageStatus::Failed
        },
        // A message none of whose transactions is an order failed as its answer says.
        error: (!any_order).then(|| response.body.clone()),
        response,
        warnings,
        orders,
        transactions: written,
    })
}

/// Refuses an order that names another message or buyer than the one it is
/// stored with.
pub(in crate::store) fn check_owner(order: &NewOrder, id: &str, buyer_id: &str) -> StoreResult<()> {
    if order.message_id != id {
        return Err(StoreError::Invalid(format!(
            "order {} names message {}, not {id}",
            order.id, order.message_id
        )));
    }
    if order.buyer_id != buyer_id {
        return Err(StoreError::Invalid(format!(
            "order {} names buyer {}, not {buyer_id}, the buyer of message {id}",
            order.id, order.buyer_id
        )));
    }
    Ok(())
}
