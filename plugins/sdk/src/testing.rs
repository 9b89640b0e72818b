//! Helpers for plugin unit tests (feature `testing`).

use std::sync::OnceLock;

use jembatan_schemas::PURCHASE_ORDER_V2_SCHEMA;

use crate::{Message, Normalized, Outcome, Plugin, PluginError, PurchaseOrder};

/// What plugin `P` returns for `body` under `config`, as the host receives it
/// (each order as JSON); the message carries `P`'s first content type.
pub fn json<P: Plugin>(body: &[u8], config: &str) -> Result<Normalized<String>, PluginError> {
    P::normalize_json(&message::<P>(body), config)
}

/// What plugin `P` makes of `body` under `config`, typed.
pub fn normalized<P: Plugin>(body: &[u8], config: &str) -> Result<Normalized, PluginError> {
    P::normalize(&message::<P>(body), config)
}

/// The orders plugin `P` reads from `body` under `config`; panics on an error,
/// and unless every transaction is an order.
pub fn orders<P: Plugin>(body: &[u8], config: &str) -> Vec<PurchaseOrder> {
    let normalized = normalized::<P>(body, config).unwrap_or_else(|e| panic!("{e}"));
    every_order(normalized.transactions.into_iter().map(|t| t.outcome))
        .into_iter()
        .map(|order| *order)
        .collect()
}

/// The one order plugin `P` reads from `body` under `config`; panics on an error
/// or on any other number of transactions.
pub fn order<P: Plugin>(body: &[u8], config: &str) -> PurchaseOrder {
    let mut orders = orders::<P>(body, config);
    assert_eq!(orders.len(), 1);
    orders.remove(0)
}

/// The orders of `body` as the host receives them, as JSON; panics on an error,
/// and unless every transaction is an order.
pub fn orders_json<P: Plugin>(body: &[u8], config: &str) -> Vec<String> {
    let normalized = json::<P>(body, config).unwrap_or_else(|e| panic!("{e}"));
    every_order(normalized.transactions.into_iter().map(|t| t.outcome))
}

/// The error plugin `P` refuses the whole message with; panics if it does not.
pub fn error<P: Plugin>(body: &[u8], config: &str) -> PluginError {
    json::<P>(body, config).expect_err("should fail")
}

/// The error of the first refused transaction of `body`; panics on an error of
/// the whole message, and when no transaction is refused.
pub fn refused<P: Plugin>(body: &[u8], config: &str) -> PluginError {
    let normalized = json::<P>(body, config).unwrap_or_else(|e| panic!("the message: {e}"));
    normalized
        .transactions
        .into_iter()
        .find_map(|t| match t.outcome {
            Outcome::Refused(error) => Some(error),
            _ => None,
        })
        .expect("a refused transaction")
}

/// Each transaction of what the host receives in one line, for comparing
/// outcomes at a glance: `0 0001 order PO-1`, `1 0002 refused invalid-value at
/// ST[2]/PO1[1]/PO102`, `2 0003 not-an-order 810` (the index, the control number
/// or `-`, then the order's number, the error's code and path, or the kind).
pub fn outcomes(normalized: &Normalized<String>) -> Vec<String> {
    normalized
        .transactions
        .iter()
        .map(|t| {
            let what = match &t.outcome {
                Outcome::Order(json) => {
                    let order: serde_json::Value = serde_json::from_str(json).unwrap_or_default();
                    format!(
                        "order {}",
                        order["buyer_order_number"].as_str().unwrap_or("?")
                    )
                }
                Outcome::Refused(error) => match path(error) {
                    "" => format!("refused {}", error.code),
                    at => format!("refused {} at {at}", error.code),
                },
                Outcome::NotAnOrder { kind, .. } => format!("not-an-order {kind}"),
            };
            let control = t.id.control_number.as_deref().unwrap_or("-");
            format!("{} {control} {what}", t.id.index)
        })
        .collect()
}

fn every_order<O>(outcomes: impl Iterator<Item = Outcome<O>>) -> Vec<O> {
    outcomes
        .enumerate()
        .map(|(i, outcome)| match outcome {
            Outcome::Order(order) => order,
            Outcome::Refused(error) => panic!("transaction {i} is refused: {error}"),
            Outcome::NotAnOrder { kind, .. } => panic!("transaction {i} is not an order: {kind}"),
        })
        .collect()
}

fn message<P: Plugin>(body: &[u8]) -> Message {
    Message::new(P::info().content_types[0], body)
}

/// The error's path, or `""` when it has none.
pub fn path(err: &PluginError) -> &str {
    err.location
        .as_ref()
        .and_then(|l| l.path.as_deref())
        .unwrap_or("")
}

/// The violations of the canonical order v2 schema by one order in JSON; empty
/// when it is valid.
///
/// Formats (`date`) are checked too, as the gateway does.
pub fn schema_errors(order_json: &str) -> Vec<String> {
    static VALIDATOR: OnceLock<jsonschema::Validator> = OnceLock::new();
    let validator = VALIDATOR.get_or_init(|| {
        let schema = serde_json::from_str(PURCHASE_ORDER_V2_SCHEMA).expect("schema is JSON");
        jsonschema::options()
            .should_validate_formats(true)
            .build(&schema)
            .expect("schema compiles")
    });
    let instance: serde_json::Value = match serde_json::from_str(order_json) {
        Ok(value) => value,
        Err(e) => return vec![format!("not JSON: {e}")],
    };
    validator
        .iter_errors(&instance)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

/// Panics with every violation unless each order validates against the v2 schema.
pub fn assert_schema_valid(orders_json: &[String]) {
    for (i, order) in orders_json.iter().enumerate() {
        let errors = schema_errors(order);
        assert!(
            errors.is_empty(),
            "order {i} violates the schema: {errors:#?}\n{order}"
        );
    }
}
