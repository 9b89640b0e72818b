//! Canonical orders: checking what a plugin returned against the contract, and
//! what the gateway adds to an order it accepts.
//!
//! A plugin's output is untrusted. Each order must be JSON, valid against the
//! canonical schema of its version (`"version": "2"`: `schemas/purchase-order-v2.schema.json`;
//! no `version` key: v1, `schemas/purchase-order.schema.json`), and then it is read
//! into the Rust types; anything else fails the message with the exact places that
//! are wrong. A v1 order is upgraded losslessly, so everything after this module
//! sees canonical order v2 only.

use std::borrow::Cow;

use jembatan_schemas::v2::{
    self, BuyerAccount, Party, PartyId, PartySource, Received, ReceivedPlugin, ReceivedTransaction,
    party_scheme,
};
use jembatan_schemas::{
    PURCHASE_ORDER_SCHEMA, PURCHASE_ORDER_V2_SCHEMA, PurchaseOrder as PurchaseOrderV1,
    PurchaseOrderV2, downgrade_v2, upgrade_v1,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use crate::plugin_host::{Normalized, PluginWarning, TransactionOutcome};
use crate::store::{Buyer, PluginRef};

/// One way in which a plugin's output breaks the canonical order contract.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Violation {
    /// JSON pointer into the plugin's order: `/lines/2/quantity` is the quantity of
    /// its third line. For the message as a whole, into the plugin's answer:
    /// `/transactions/1/index`.
    pub pointer: String,
    pub reason: String,
}

/// Checks plugin output against the canonical schemas. Build once, share.
pub struct OrderValidator {
    v1: jsonschema::Validator,
    v2: jsonschema::Validator,
}

/// At most this many violations are reported; the rest would only be noise.
const MAX_VIOLATIONS: usize = 50;

fn compile(schema: &str) -> jsonschema::Validator {
    let schema: Value = serde_json::from_str(schema).expect("the schema is valid JSON");
    jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .expect("the canonical schema compiles")
}

impl OrderValidator {
    pub fn new() -> Self {
        Self {
            v1: compile(PURCHASE_ORDER_SCHEMA),
            v2: compile(PURCHASE_ORDER_V2_SCHEMA),
        }
    }

    /// Validates every order of a list (each a JSON string, v1 or v2), and gives
    /// them as v2, with all problems of all orders together, pointers prefixed by
    /// the order's position. The tests' view of [`OrderValidator::check`]'s rules.
    #[cfg(test)]
    pub fn validate(&self, outputs: &[String]) -> Result<Vec<PurchaseOrderV2>, Vec<Violation>> {
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

    fn validate_one(&self, output: &str) -> Result<PurchaseOrderV2, Vec<Violation>> {
        // Most orders keep the contract, and the typed check says so without a JSON
        // tree or jsonschema (`v2::contract`); what it cannot vouch for, the schema
        // decides and explains.
        if let Some(order) = v2::contract::read(output) {
            return Ok(order);
        }
        let value: Value = serde_json::from_str(output)
            .map_err(|e| vec![violation("", format!("not JSON: {e}"))])?;
        if value.get("version").is_none() {
            let order: PurchaseOrderV1 = read(&self.v1, value)?;
            return Ok(upgrade_v1(order));
        }
        if value.get("received").is_some() {
            return Err(vec![violation(
                "/received",
                "`received` is written by the gateway when it stores the order; a plugin must not set it",
            )]);
        }
        read(&self.v2, value)
    }
}

/// What the gateway takes of a message a plugin read: each transaction checked,
/// in index order, and the warnings about the message as a whole.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckedMessage {
    pub transactions: Vec<CheckedTransaction>,
    pub warnings: Vec<PluginWarning>,
}

/// One transaction, its order read and checked against the contract.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckedTransaction {
    pub index: u32,
    pub control_number: Option<String>,
    pub outcome: Checked,
    pub warnings: Vec<PluginWarning>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Checked {
    Order(Box<PurchaseOrderV2>),
    /// Why it is not an order: `{code, message, location}` as the plugin said, or
    /// `{code: "invalid-plugin-output", message, errors}` when its order broke the
    /// contract.
    Refused(Value),
    NotAnOrder {
        kind: String,
        reason: Option<String>,
    },
}

/// The code of a transaction whose order breaks the canonical order contract.
pub const INVALID_PLUGIN_OUTPUT: &str = "invalid-plugin-output";

impl OrderValidator {
    /// Checks what a plugin made of a message. Each order is validated on its own,
    /// so one that breaks the contract refuses only its transaction
    /// ([`INVALID_PLUGIN_OUTPUT`]). The message as a whole is refused only when the
    /// plugin said nothing about any transaction, or numbered them out of order:
    /// replays match transactions by index, so indexes must be unique and ascending.
    pub fn check(&self, normalized: Normalized) -> Result<CheckedMessage, Vec<Violation>> {
        if normalized.transactions.is_empty() {
            return Err(vec![violation(
                "/transactions",
                "the plugin returned no transactions",
            )]);
        }
        let mut transactions = Vec::with_capacity(normalized.transactions.len());
        for (position, transaction) in normalized.transactions.into_iter().enumerate() {
            if let Some(previous) = transactions.last().map(|t: &CheckedTransaction| t.index)
                && transaction.index <= previous
            {
                return Err(vec![violation(
                    &format!("/transactions/{position}/index"),
                    format!(
                        "transaction index {} follows index {previous}: indexes must be unique \
                         and ascending",
                        transaction.index
                    ),
                )]);
            }
            let outcome = match transaction.outcome {
                TransactionOutcome::Order(output) => match self.validate_one(&output) {
                    Ok(order) => Checked::Order(Box::new(order)),
                    Err(violations) => Checked::Refused(serde_json::json!({
                        "code": INVALID_PLUGIN_OUTPUT,
                        "message": format!(
                            "the plugin's order breaks the canonical order schema: {} \
                             violation(s); first: {} {}",
                            violations.len(),
                            violations[0].pointer,
                            violations[0].reason
                        ),
                        "errors": violations,
                    })),
                },
                TransactionOutcome::Refused(refusal) => {
                    Checked::Refused(serde_json::to_value(refusal).expect("a refusal serializes"))
                }
                TransactionOutcome::NotAnOrder { kind, reason } => {
                    Checked::NotAnOrder { kind, reason }
                }
            };
            transactions.push(CheckedTransaction {
                index: transaction.index,
                control_number: transaction.control_number,
                outcome,
                warnings: transaction.warnings,
            });
        }
        Ok(CheckedMessage {
            transactions,
            warnings: normalized.warnings,
        })
    }
}

impl Default for OrderValidator {
    fn default() -> Self {
        Self::new()
    }
}

fn violation(pointer: &str, reason: impl Into<String>) -> Violation {
    Violation {
        pointer: pointer.to_owned(),
        reason: reason.into(),
    }
}

/// `value` checked against `schema`, then read into `T`.
fn read<T: serde::de::DeserializeOwned>(
    schema: &jsonschema::Validator,
    value: Value,
) -> Result<T, Vec<Violation>> {
    // Most orders are valid: `is_valid` answers them without building an error
    // per keyword (in a profile, `iter_errors` was a third of the validation);
    // only an invalid one is walked again for its violations.
    if schema.is_valid(&value) {
        return typed(value);
    }
    let violations: Vec<Violation> = schema
        .iter_errors(&value)
        .take(MAX_VIOLATIONS)
        .map(|e| violation(&e.instance_path().to_string(), e.to_string()))
        .collect();
    if !violations.is_empty() {
        return Err(violations);
    }
    typed(value)
}

/// A value the schema accepts, read into `T`. The schemas and the types agree
/// (schemas' tests prove it), so this only fails on what JSON Schema cannot say,
/// such as an impossible date.
fn typed<T: serde::de::DeserializeOwned>(value: Value) -> Result<T, Vec<Violation>> {
    serde_json::from_value(value).map_err(|e| vec![violation("", e.to_string())])
}

/// The warning on an order whose document names no buyer party.
pub const BUYER_FROM_REGISTRATION: &str = "buyer-from-registration";
/// The warning on an order whose document names another buyer than the key's.
pub const BUYER_DIFFERS_FROM_REGISTRATION: &str = "buyer-differs-from-registration";

/// Where an accepted order came from: what the gateway writes into it as
/// `received` before it is stored.
pub struct Receipt<'a> {
    /// The buyer whose key posted the message.
    pub buyer: &'a Buyer,
    pub message_id: &'a str,
    pub plugin: &'a PluginRef,
}

impl Receipt<'_> {
    /// The order as the gateway stores it: `received` written from the registration,
    /// and the buyer party taken from the registration when the document names none
    /// (most X12 850s carry no `N1*BY`; the key it was posted with says exactly who
    /// the buyer is). A document buyer whose name differs from the registration stays
    /// as the document says, with a warning: the craftsman sees both.
    ///
    /// `index` and `control_number` name the message's transaction it was made of;
    /// without a control number from the plugin, the order's own source's is taken.
    pub fn stamp(
        &self,
        mut order: PurchaseOrderV2,
        index: u32,
        control_number: Option<String>,
    ) -> PurchaseOrderV2 {
        match &order.buyer {
            None => {
                order.buyer = Some(Party {
                    name: Some(self.buyer.name.clone()),
                    ids: vec![PartyId {
                        scheme: party_scheme::JEMBATAN.into(),
                        value: self.buyer.id.clone(),
                        qualifier: None,
                    }],
                    source: Some(PartySource::Registration),
                    ..Party::default()
                });
                order.warnings.push(v2::Warning {
                    code: BUYER_FROM_REGISTRATION.into(),
                    message: format!(
                        "the document names no buyer; the buyer is '{}', whose key posted it",
                        self.buyer.name
                    ),
                    path: None,
                    field: Some("/buyer".into()),
                });
            }
            Some(party) => {
                if let Some(name) = &party.name
                    && !same_name(name, &self.buyer.name)
                {
                    order.warnings.push(v2::Warning {
                        code: BUYER_DIFFERS_FROM_REGISTRATION.into(),
                        message: format!(
                            "the document names the buyer '{name}'; the key that posted it is '{}''s",
                            self.buyer.name
                        ),
                        path: None,
                        field: Some("/buyer/name".into()),
                    });
                }
            }
        }
        let disagreements = totals_disagreements(&order);
        order.warnings.extend(disagreements);
        order.received = Some(Received {
            buyer_account: BuyerAccount {
                id: self.buyer.id.clone(),
                name: self.buyer.name.clone(),
            },
            message_id: self.message_id.to_owned(),
            transaction: ReceivedTransaction {
                index,
                control_number: control_number.or_else(|| order.source.control_number.clone()),
            },
            plugin: ReceivedPlugin {
                name: self.plugin.name.clone(),
                version: self.plugin.version.clone(),
            },
        });
        order
    }
}

/// The warning on an order whose stated totals contradict its lines or each other.
pub const TOTALS_DISAGREE: &str = "totals-disagree";

/// Where the totals a buyer stated contradict its lines or one another, by the
/// sums EN 16931 requires of an order's totals (BR-CO-10, -13, -15, -16): a
/// warning each, never a refusal, and nothing recomputed. The craftsman is told
/// the document does not add up; which figure is wrong is for the buyer to say.
/// A sum is checked only when every figure it needs is stated (an allowance,
/// charge, prepaid or rounding amount that is absent counts as zero).
fn totals_disagreements(order: &PurchaseOrderV2) -> Vec<v2::Warning> {
    let Some(totals) = &order.totals else {
        return Vec::new();
    };
    let zero = rust_decimal::Decimal::ZERO;
    let lines: Option<rust_decimal::Decimal> = order.lines.iter().map(|l| l.line_total).sum();
    let checks = [
        (
            "line_extension",
            totals.line_extension,
            lines,
            "the lines' totals add up to",
        ),
        (
            "tax_exclusive",
            totals.tax_exclusive,
            totals.line_extension.map(|sum| {
                sum - totals.allowance_total.unwrap_or(zero) + totals.charge_total.unwrap_or(zero)
            }),
            "the line total less allowances plus charges is",
        ),
        (
            "tax_inclusive",
            totals.tax_inclusive,
            totals
                .tax_exclusive
                .zip(totals.tax_total)
                .map(|(base, tax)| base + tax),
            "the amount without tax plus the tax is",
        ),
        (
            "payable",
            totals.payable,
            totals.tax_inclusive.map(|with_tax| {
                with_tax - totals.prepaid.unwrap_or(zero) + totals.rounding.unwrap_or(zero)
            }),
            "the amount with tax less prepaid plus rounding is",
        ),
    ];
    checks
        .into_iter()
        .filter_map(|(field, stated, computed, what)| {
            let (stated, computed) = (stated?, computed?);
            (stated != computed).then(|| v2::Warning {
                code: TOTALS_DISAGREE.into(),
                message: format!(
                    "{what} {} {}, but the document states {} {}",
                    computed.normalize(),
                    order.currency,
                    stated.normalize(),
                    order.currency
                ),
                path: None,
                field: Some(format!("/totals/{field}")),
            })
        })
        .collect()
}

/// Which canonical order version a reader gets: v2, or the documented, lossy
/// downgrade to v1 for a reader whose code still expects v1 (an API client asking
/// `?schema=v1`, a webhook channel set to `"order_schema": "v1"`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum OrderSchema {
    V1,
    #[default]
    V2,
}

/// An order in the version its reader asked for; serializes as that order.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum VersionedOrder<'a> {
    V2(Box<Cow<'a, PurchaseOrderV2>>),
    V1(Box<PurchaseOrderV1>),
}

impl OrderSchema {
    pub fn present(self, order: Cow<'_, PurchaseOrderV2>) -> VersionedOrder<'_> {
        match self {
            Self::V2 => VersionedOrder::V2(Box::new(order)),
            Self::V1 => VersionedOrder::V1(Box::new(downgrade_v2(&order))),
        }
    }

    /// The name a reader sees, e.g. in the `Jembatan-Order-Schema` header.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::V1 => "v1",
            Self::V2 => "v2",
        }
    }
}

/// Names that differ only in case or surrounding space are the same company.
fn same_name(a: &str, b: &str) -> bool {
    a.trim().to_lowercase() == b.trim().to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn minimal() -> Value {
        json!({
            "buyer_order_number": "PO-1",
            "issue_date": "2026-11-27",
            "currency": "IDR",
            "buyer": {"name": "PT Astra Otoparts"},
            "supplier": {"code": "PBG-001"},
            "lines": [{"line_number": "1", "description": "Knalpot", "quantity": "10", "unit": "H87"}]
        })
    }

    /// A v2 order as a plugin writes it when the document names no buyer.
    fn minimal_v2() -> Value {
        json!({
            "version": "2",
            "buyer_order_number": "4500012345",
            "issue_date": "2026-11-27",
            "currency": "IDR",
            "source": {"format": "x12-850", "syntax": "X12 004010", "control_number": "0001"},
            "supplier": {"code": "PBG-001"},
            "lines": [{"line_number": "1", "item": {"name": "Knalpot racing"}, "quantity": "10", "unit": "H87"}]
        })
    }

    fn buyer() -> Buyer {
        Buyer {
            id: "mitra-otoparts".into(),
            name: "PT Mitra Otoparts".into(),
            plugin: "x12-850".into(),
            plugin_version: None,
            plugin_config: Value::Null,
            limits: None,
            callback_url: None,
            created_at: chrono::Utc::now(),
        }
    }

    fn stamp(order: PurchaseOrderV2) -> PurchaseOrderV2 {
        let buyer = buyer();
        let plugin = PluginRef {
            name: "x12-850".into(),
            version: "0.1.0".into(),
        };
        Receipt {
            buyer: &buyer,
            message_id: "msg_1",
            plugin: &plugin,
        }
        .stamp(order, 0, None)
    }

    #[test]
    fn a_v1_order_is_read_and_upgraded() {
        let orders = OrderValidator::new()
            .validate(&[minimal().to_string()])
            .unwrap();
        assert_eq!(orders[0].lines[0].quantity.to_string(), "10");
        assert_eq!(
            orders[0].lines[0].item.description.as_deref(),
            Some("Knalpot")
        );
        assert_eq!(
            orders[0].source.syntax,
            jembatan_schemas::v2::V1_SOURCE_SYNTAX
        );
    }

    #[test]
    fn a_v2_order_is_read_as_written() {
        let orders = OrderValidator::new()
            .validate(&[minimal_v2().to_string()])
            .unwrap();
        assert_eq!(
            orders[0].lines[0].item.name.as_deref(),
            Some("Knalpot racing")
        );
        assert_eq!(orders[0].buyer, None);
    }

    #[test]
    fn each_output_is_checked_against_its_own_version() {
        // v1 requires a buyer; v2 output may leave it to the gateway.
        let mut v1_without_buyer = minimal();
        v1_without_buyer.as_object_mut().unwrap().remove("buyer");
        let mut v2_with_v1_field = minimal_v2();
        v2_with_v1_field["lines"][0]["description"] = json!("Knalpot");
        let violations = OrderValidator::new()
            .validate(&[v1_without_buyer.to_string(), v2_with_v1_field.to_string()])
            .unwrap_err();
        let pointers: Vec<&str> = violations.iter().map(|v| v.pointer.as_str()).collect();
        assert!(pointers.contains(&"/0"), "{violations:?}");
        assert!(pointers.contains(&"/1/lines/0"), "{violations:?}");
    }

    #[test]
    fn a_plugin_cannot_claim_where_an_order_came_from() {
        let mut forged = minimal_v2();
        forged["buyer"] = json!({"name": "PT Lain"});
        forged["received"] = json!({
            "buyer_account": {"id": "someone-else", "name": "PT Lain"},
            "message_id": "msg_x",
            "transaction": {"index": 0},
            "plugin": {"name": "x", "version": "1"}
        });
        let violations = OrderValidator::new()
            .validate(&[forged.to_string()])
            .unwrap_err();
        assert_eq!(violations[0].pointer, "/0/received", "{violations:?}");
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
        let mut bad_v2 = minimal_v2();
        bad_v2["issue_date"] = json!("2026-02-30");
        assert!(validator.validate(&[bad_v2.to_string()]).is_err());
        let err = validator.validate(&["nope".into()]).unwrap_err();
        assert!(err[0].reason.starts_with("not JSON"), "{err:?}");
        assert!(validator.validate(&[]).is_err());
    }

    #[test]
    fn a_document_without_buyer_gets_the_registered_one() {
        let order: PurchaseOrderV2 = serde_json::from_value(minimal_v2()).unwrap();
        let stored = stamp(order);
        let party = stored.buyer.as_ref().unwrap();
        assert_eq!(party.name.as_deref(), Some("PT Mitra Otoparts"));
        assert_eq!(party.ids[0].scheme, "JEMBATAN");
        assert_eq!(party.ids[0].value, "mitra-otoparts");
        assert_eq!(party.source, Some(PartySource::Registration));
        assert_eq!(stored.warnings[0].code, "buyer-from-registration");
        let received = stored.received.as_ref().unwrap();
        assert_eq!(received.buyer_account.id, "mitra-otoparts");
        assert_eq!(received.message_id, "msg_1");
        assert_eq!(received.transaction.control_number.as_deref(), Some("0001"));
        // What the gateway stores is itself a valid v2 order.
        let value = serde_json::to_value(&stored).unwrap();
        assert!(OrderValidator::new().v2.is_valid(&value), "{value:#}");
    }

    #[test]
    fn a_document_buyer_stays_and_a_different_name_is_flagged() {
        let mut order: PurchaseOrderV2 = serde_json::from_value(minimal_v2()).unwrap();
        order.buyer = Some(Party {
            name: Some("pt mitra otoparts ".into()),
            ..Party::default()
        });
        assert!(stamp(order.clone()).warnings.is_empty());
        order.buyer.as_mut().unwrap().name = Some("PT Astra Otoparts".into());
        let stored = stamp(order);
        assert_eq!(
            stored.buyer.as_ref().unwrap().name.as_deref(),
            Some("PT Astra Otoparts")
        );
        assert_eq!(stored.warnings[0].code, "buyer-differs-from-registration");
    }

    /// The order's stated totals, checked against its lines and each other.
    fn with_totals(lines: &[&str], totals: Value) -> PurchaseOrderV2 {
        let mut order = minimal_v2();
        order["lines"] = lines
            .iter()
            .enumerate()
            .map(|(i, total)| {
                json!({"line_number": (i + 1).to_string(), "item": {"name": "Knalpot"},
                       "quantity": "1", "unit": "H87", "line_total": total})
            })
            .collect();
        order["totals"] = totals;
        OrderValidator::new()
            .validate(&[order.to_string()])
            .unwrap()
            .remove(0)
    }

    fn disagreeing(order: PurchaseOrderV2) -> Vec<(String, String)> {
        stamp(order)
            .warnings
            .into_iter()
            .filter(|w| w.code == TOTALS_DISAGREE)
            .map(|w| (w.field.unwrap(), w.message))
            .collect()
    }

    #[test]
    fn totals_that_add_up_say_nothing() {
        let order = with_totals(
            &["100.00", "50"],
            json!({"line_extension": "150", "allowance_total": "10", "charge_total": "5",
                   "tax_exclusive": "145", "tax_total": "15.95", "tax_inclusive": "160.95",
                   "prepaid": "60.95", "payable": "100"}),
        );
        assert_eq!(disagreeing(order), vec![]);
        // Nothing stated, nothing checked.
        assert_eq!(disagreeing(with_totals(&["1"], json!({}))), vec![]);
    }

    #[test]
    fn totals_that_contradict_their_lines_are_warnings_naming_both_figures() {
        let order = with_totals(
            &["100", "50"],
            json!({"line_extension": "140", "tax_exclusive": "140", "tax_total": "14",
                   "tax_inclusive": "154", "payable": "150"}),
        );
        assert_eq!(
            disagreeing(order),
            vec![
                (
                    "/totals/line_extension".to_owned(),
                    "the lines' totals add up to 150 IDR, but the document states 140 IDR"
                        .to_owned()
                ),
                (
                    "/totals/payable".to_owned(),
                    "the amount with tax less prepaid plus rounding is 154 IDR, but the \
                     document states 150 IDR"
                        .to_owned()
                ),
            ]
        );
        // A line without its total: the lines' sum is not known, so not checked.
        let mut order = with_totals(&["100", "50"], json!({"line_extension": "999"}));
        order.lines[1].line_total = None;
        assert_eq!(disagreeing(order), vec![]);
    }
}
