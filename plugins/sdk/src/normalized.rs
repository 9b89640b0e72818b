//! What a plugin makes of one message: one outcome per transaction, and the
//! warnings about the message as a whole (WIT `jembatan:plugin@0.2.0`, record
//! `normalized`).
//!
//! A transaction is whatever the format calls one unit: an X12 ST … SE, an EDIFACT
//! UNH … UNT, an element of a JSON array, a whole XML document. Each becomes an
//! order, a refusal that says what is wrong and where, or "not an order", so one
//! bad sibling never sinks the others. A plugin of one order per message needs
//! none of this: `Ok(order.into())` is one transaction at index 0.
//!
//! The types take the order's form as a parameter: a plugin builds
//! [`Normalized`] (orders as [`PurchaseOrder`]s), and the component hands the
//! gateway [`Normalized<String>`] (each order as canonical JSON), which is what
//! [`Plugin::normalize_json`](crate::Plugin::normalize_json) returns.

use jembatan_schemas::v2::{PurchaseOrder, Warning};

use crate::{Location, PluginError};

/// Everything a plugin made of one message.
#[derive(Debug, Clone, PartialEq)]
pub struct Normalized<O = Box<PurchaseOrder>> {
    /// One per transaction, in document order, indexes ascending from 0; at
    /// least one.
    pub transactions: Vec<Transaction<O>>,
    /// About the message as a whole, e.g. its envelopes.
    pub warnings: Vec<Warning>,
}

/// What became of one transaction of the message.
#[derive(Debug, Clone, PartialEq)]
pub struct Transaction<O = Box<PurchaseOrder>> {
    pub id: TransactionId,
    pub outcome: Outcome<O>,
    /// What was read past in this transaction (an envelope count that is off, say).
    /// Warnings about the order's content belong in the order's own `warnings`.
    pub warnings: Vec<Warning>,
}

/// Which transaction of the message an outcome is about.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TransactionId {
    /// 0-based position among the message's transactions, counted across every
    /// envelope in the body.
    pub index: u32,
    /// The transaction's own control number as written (X12 `ST02`, EDIFACT `UNH`
    /// 0062, cXML `payloadID`, the SBDH `InstanceIdentifier`); the gateway matches
    /// it when a refused transaction is replayed.
    pub control_number: Option<String>,
    /// Where the transaction starts.
    pub location: Option<Location>,
}

/// An order, a refusal, or a document that is not an order.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome<O = Box<PurchaseOrder>> {
    /// One canonical purchase order.
    Order(O),
    /// Not made into an order: what is wrong and where. The buyer can fix it and
    /// the gateway can replay this transaction alone.
    Refused(PluginError),
    /// A document, but not an order: an X12 810, an EDIFACT INVOIC, a UBL Invoice.
    NotAnOrder {
        /// What it is, as its standard names it: `810`, `INVOIC`, `Invoice`.
        kind: String,
        /// Why it is not taken, when there is more to say than its kind.
        reason: Option<String>,
    },
}

impl TransactionId {
    /// The transaction at `index`, with neither a control number nor a location.
    pub fn new(index: u32) -> Self {
        Self {
            index,
            ..Self::default()
        }
    }

    /// Sets the control number; an empty one is left out.
    pub fn with_control_number(mut self, control_number: impl Into<String>) -> Self {
        let control_number = control_number.into();
        self.control_number = (!control_number.is_empty()).then_some(control_number);
        self
    }

    /// Sets where the transaction starts.
    pub fn at(mut self, location: Location) -> Self {
        self.location = Some(location);
        self
    }
}

impl<O> Transaction<O> {
    /// A transaction with no warnings.
    pub fn new(id: TransactionId, outcome: Outcome<O>) -> Self {
        Self {
            id,
            outcome,
            warnings: Vec::new(),
        }
    }

    /// A transaction refused with `error`.
    pub fn refused(id: TransactionId, error: PluginError) -> Self {
        Self::new(id, Outcome::Refused(error))
    }

    /// A transaction that is a document of `kind`, not an order.
    pub fn not_an_order(
        id: TransactionId,
        kind: impl Into<String>,
        reason: Option<String>,
    ) -> Self {
        Self::new(
            id,
            Outcome::NotAnOrder {
                kind: kind.into(),
                reason,
            },
        )
    }

    /// The order, if the transaction is one.
    pub fn order(&self) -> Option<&O> {
        match &self.outcome {
            Outcome::Order(order) => Some(order),
            _ => None,
        }
    }
}

impl Transaction {
    /// The order at `index`; its control number is the order's
    /// `source.control_number`.
    pub fn from_order(index: u32, order: PurchaseOrder) -> Self {
        let id = TransactionId {
            index,
            control_number: order.source.control_number.clone(),
            location: None,
        };
        Self::new(id, Outcome::Order(Box::new(order)))
    }

    /// An order, or the refusal `read` ended with, as the transaction `id`.
    pub fn from_result(id: TransactionId, read: Result<PurchaseOrder, PluginError>) -> Self {
        Self::new(
            id,
            match read {
                Ok(order) => Outcome::Order(Box::new(order)),
                Err(error) => Outcome::Refused(error),
            },
        )
    }
}

impl<O> Normalized<O> {
    /// The message's transactions, with no message-level warnings.
    pub fn new(transactions: Vec<Transaction<O>>) -> Self {
        Self {
            transactions,
            warnings: Vec::new(),
        }
    }

    /// The orders among the outcomes, in order.
    pub fn orders(&self) -> impl Iterator<Item = &O> {
        self.transactions.iter().filter_map(Transaction::order)
    }
}

impl Normalized {
    /// Each order as canonical JSON, as the component returns it. An order that
    /// cannot be serialized (it always can) is refused with code `internal`.
    pub fn into_json(self) -> Normalized<String> {
        Normalized {
            transactions: self
                .transactions
                .into_iter()
                .map(|t| Transaction {
                    id: t.id,
                    outcome: match t.outcome {
                        Outcome::Order(order) => match serde_json::to_string(&order) {
                            Ok(json) => Outcome::Order(json),
                            Err(e) => Outcome::Refused(PluginError::new(
                                "internal",
                                format!("cannot serialize the order: {e}"),
                            )),
                        },
                        Outcome::Refused(error) => Outcome::Refused(error),
                        Outcome::NotAnOrder { kind, reason } => {
                            Outcome::NotAnOrder { kind, reason }
                        }
                    },
                    warnings: t.warnings,
                })
                .collect(),
            warnings: self.warnings,
        }
    }
}

/// One order: one transaction at index 0, with the order's
/// `source.control_number` as its control number.
impl From<PurchaseOrder> for Normalized {
    fn from(order: PurchaseOrder) -> Self {
        Self::new(vec![Transaction::from_order(0, order)])
    }
}

/// Orders in document order: the order at position `i` is the transaction at
/// index `i`.
impl From<Vec<PurchaseOrder>> for Normalized {
    fn from(orders: Vec<PurchaseOrder>) -> Self {
        Self::new(
            orders
                .into_iter()
                .zip(0..)
                .map(|(order, index)| Transaction::from_order(index, order))
                .collect(),
        )
    }
}

/// A problem a plugin found as a [`PluginError`] (the form a strict reading would
/// refuse with) kept as a warning instead: its code, message and path. Its line,
/// column and offset are not kept; a warning has only a path.
impl From<PluginError> for Warning {
    fn from(error: PluginError) -> Self {
        Warning {
            code: error.code,
            message: error.message,
            path: error.location.and_then(|l| l.path),
            field: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::draft::{Defaults, LineDraft, OrderDraft};
    use crate::{Decimal, NaiveDate};

    fn order(number: &str, control_number: Option<&str>) -> PurchaseOrder {
        let mut draft = OrderDraft::new("test", "none");
        draft.number = Some(number.to_owned());
        draft.issue_date = NaiveDate::from_ymd_opt(2026, 11, 3);
        draft.supplier_code = Some("S".to_owned());
        draft.source.control_number = control_number.map(str::to_owned);
        draft.lines.push(LineDraft {
            quantity: Some(Decimal::ONE),
            ..LineDraft::default()
        });
        draft.lines[0].item.name = Some("Baut".to_owned());
        draft
            .finish(&Defaults::default(), |f, _| {
                PluginError::new("missing-field", format!("{f:?}"))
            })
            .unwrap()
    }

    #[test]
    fn orders_become_transactions_at_their_position() {
        let one = Normalized::from(order("PO-1", Some("0001")));
        assert_eq!(one.transactions.len(), 1);
        assert_eq!(
            one.transactions[0].id,
            TransactionId::new(0).with_control_number("0001")
        );

        let two = Normalized::from(vec![order("PO-1", None), order("PO-2", Some("7"))]);
        let ids: Vec<_> = two
            .transactions
            .iter()
            .map(|t| (t.id.index, t.id.control_number.as_deref()))
            .collect();
        assert_eq!(ids, [(0, None), (1, Some("7"))]);
        let numbers: Vec<_> = two
            .orders()
            .map(|o| o.buyer_order_number.as_str())
            .collect();
        assert_eq!(numbers, ["PO-1", "PO-2"]);
    }

    #[test]
    fn json_keeps_every_outcome_and_warning() {
        let mut normalized = Normalized::new(vec![
            Transaction::from_order(0, order("PO-1", None)),
            Transaction::refused(
                TransactionId::new(1).with_control_number(""),
                PluginError::new("invalid-value", "bad"),
            ),
            Transaction::not_an_order(TransactionId::new(2), "810", None),
        ]);
        normalized
            .warnings
            .push(PluginError::new("w", "m").at_path("GS[1]/GE").into());
        let json = normalized.into_json();
        let Outcome::Order(text) = &json.transactions[0].outcome else {
            panic!("an order")
        };
        assert!(
            text.starts_with(r#"{"version":"2","buyer_order_number":"PO-1""#),
            "{text}"
        );
        assert_eq!(
            json.transactions[1].id.control_number, None,
            "empty is none"
        );
        assert!(
            matches!(&json.transactions[1].outcome, Outcome::Refused(e) if e.code == "invalid-value")
        );
        assert!(matches!(
            &json.transactions[2].outcome,
            Outcome::NotAnOrder { kind, reason: None } if kind == "810"
        ));
        assert_eq!(json.warnings[0].path.as_deref(), Some("GS[1]/GE"));
        assert_eq!(json.orders().count(), 1);
    }
}
