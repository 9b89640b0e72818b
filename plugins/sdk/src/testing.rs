//! Helpers for plugin unit tests (feature `testing`).

use std::sync::OnceLock;

use jembatan_schemas::PURCHASE_ORDER_V2_SCHEMA;

use crate::{Message, Plugin, PluginError, PurchaseOrder};

/// What plugin `P` returns for `body` under `config`, as the host receives it;
/// the message carries `P`'s first content type.
pub fn json<P: Plugin>(body: &[u8], config: &str) -> Result<Vec<String>, PluginError> {
    P::normalize_json(&message::<P>(body), config)
}

/// The orders plugin `P` reads from `body` under `config`; panics on an error.
pub fn orders<P: Plugin>(body: &[u8], config: &str) -> Vec<PurchaseOrder> {
    P::normalize(&message::<P>(body), config).unwrap_or_else(|e| panic!("{e}"))
}

/// The one order plugin `P` reads from `body` under `config`; panics on an error
/// or on any other number of orders.
pub fn order<P: Plugin>(body: &[u8], config: &str) -> PurchaseOrder {
    let mut orders = orders::<P>(body, config);
    assert_eq!(orders.len(), 1);
    orders.remove(0)
}

/// The error plugin `P` returns for `body` under `config`; panics if it succeeds.
pub fn error<P: Plugin>(body: &[u8], config: &str) -> PluginError {
    json::<P>(body, config).expect_err("should fail")
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
