//! Canonical orders: checking what a plugin returned against the contract.
//!
//! A plugin's output is untrusted. Each order must be JSON, valid against
//! `schemas/purchase-order.schema.json`, and then it is read into the Rust types;
//! anything else fails the message with the exact places that are wrong.

use jembatan_schemas::{PURCHASE_ORDER_SCHEMA, PurchaseOrder};
use serde::Serialize;
use utoipa::ToSchema;

/// One way in which a plugin's output breaks the canonical order contract.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Violation {
    /// JSON pointer into the plugin's output: `/0/lines/2/quantity` is the
    /// quantity of the third line of the first order.
    pub pointer: String,
    pub reason: String,
}

/// Checks plugin output against the canonical schema. Build once, share.
pub struct OrderValidator {
    schema: jsonschema::Validator,
}

/// At most this many violations are reported; the rest would only be noise.
const MAX_VIOLATIONS: usize = 50;

impl OrderValidator {
    pub fn new() -> Self {
        let schema: serde_json::Value =
            serde_json::from_str(PURCHASE_ORDER_SCHEMA).expect("the schema is valid JSON");
        let schema = jsonschema::options()
            .should_validate_formats(true)
            .build(&schema)
            .expect("the canonical schema compiles");
        Self { schema }
    }

    /// Validates every order a plugin returned (each a JSON string). All problems of
    /// all orders are reported together, so a plugin author sees them at once.
    pub fn validate(&self, outputs: &[String]) -> Result<Vec<PurchaseOrder>, Vec<Violation>> {
        let mut orders = Vec::with_capacity(outputs.len());
        let mut violations = Vec::new();
        if outputs.is_empty() {
            violations.push(Violation {
                pointer: String::new(),
                reason: "the plugin returned no orders".into(),
            });
        }
        for (index, output) in outputs.iter().enumerate() {
            match self.validate_one(output) {
                Ok(order) => orders.push(order),
                Err(found) => violations.extend(found.into_iter().map(|v| Violation {
                    pointer: format!("/{index}{}", v.pointer),
                    reason: v.reason,
                })),
            }
        }
        violations.truncate(MAX_VIOLATIONS);
        if violations.is_empty() {
            Ok(orders)
        } else {
            Err(violations)
        }
    }

    fn validate_one(&self, output: &str) -> Result<PurchaseOrder, Vec<Violation>> {
        let value: serde_json::Value = serde_json::from_str(output).map_err(|e| {
            vec![Violation {
                pointer: String::new(),
                reason: format!("not JSON: {e}"),
            }]
        })?;
        let violations: Vec<Violation> = self
            .schema
            .iter_errors(&value)
            .take(MAX_VIOLATIONS)
            .map(|e| Violation {
                pointer: e.instance_path().to_string(),
                reason: e.to_string(),
            })
            .collect();
        if !violations.is_empty() {
            return Err(violations);
        }
        // The schema and the types agree (schemas' tests prove it), so this only
        // fails on what JSON Schema cannot say, such as an impossible date.
        serde_json::from_value(value).map_err(|e| {
            vec![Violation {
                pointer: String::new(),
                reason: e.to_string(),
            }]
        })
    }
}

impl Default for OrderValidator {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn minimal() -> serde_json::Value {
        json!({
            "buyer_order_number": "PO-1",
            "issue_date": "2026-11-27",
            "currency": "IDR",
            "buyer": {"name": "PT Astra Otoparts"},
            "supplier": {"code": "PBG-001"},
            "lines": [{"line_number": "1", "description": "Knalpot", "quantity": "10", "unit": "H87"}]
        })
    }

    #[test]
    fn a_valid_order_is_read_into_the_types() {
        let orders = OrderValidator::new()
            .validate(&[minimal().to_string()])
            .unwrap();
        assert_eq!(orders[0].lines[0].quantity.to_string(), "10");
    }

    #[test]
    fn violations_point_at_the_field() {
        let mut bad = minimal();
        bad["lines"][0]["quantity"] = json!(10.5);
        bad["currency"] = json!("XXX1");
        let violations = OrderValidator::new()
            .validate(&[minimal().to_string(), bad.to_string()])
            .unwrap_err();
        let pointers: Vec<&str> = violations.iter().map(|v| v.pointer.as_str()).collect();
        assert!(pointers.contains(&"/1/lines/0/quantity"), "{violations:?}");
        assert!(pointers.contains(&"/1/currency"), "{violations:?}");
        assert!(!pointers.iter().any(|p| p.starts_with("/0")));
    }

    #[test]
    fn impossible_dates_and_non_json_are_refused() {
        let mut bad = minimal();
        bad["issue_date"] = json!("2026-02-30");
        let validator = OrderValidator::new();
        assert!(validator.validate(&[bad.to_string()]).is_err());
        let err = validator.validate(&["nope".into()]).unwrap_err();
        assert!(err[0].reason.starts_with("not JSON"), "{err:?}");
        assert!(validator.validate(&[]).is_err());
    }
}
