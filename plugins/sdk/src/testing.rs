//! Helpers for plugin unit tests (feature `testing`).

use std::sync::OnceLock;

use jembatan_schemas::PURCHASE_ORDER_SCHEMA;

/// The schema violations of one canonical order in JSON; empty when it is valid.
///
/// Formats (`date`) are checked too, as the gateway does.
pub fn schema_errors(order_json: &str) -> Vec<String> {
    static VALIDATOR: OnceLock<jsonschema::Validator> = OnceLock::new();
    let validator = VALIDATOR.get_or_init(|| {
        let schema = serde_json::from_str(PURCHASE_ORDER_SCHEMA).expect("schema is JSON");
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

/// Panics with every violation unless each order validates against the schema.
pub fn assert_schema_valid(orders_json: &[String]) {
    for (i, order) in orders_json.iter().enumerate() {
        let errors = schema_errors(order);
        assert!(
            errors.is_empty(),
            "order {i} violates the schema: {errors:#?}\n{order}"
        );
    }
}
