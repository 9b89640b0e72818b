//! What a plugin made of a message, in the host's own types, whichever version
//! of the contract the plugin was built against.
//!
//! A `jembatan:plugin@0.2.0` (or later) plugin says one outcome per transaction; the
//! first version's list of orders is read as one accepted transaction per
//! order, at its position, with no control number (such a plugin cannot say
//! which transaction failed, so its error still refuses the whole message).

use serde::Serialize;

use super::bindings::{v1, v2, v3, v4};
use super::error::ErrorLocation;

/// Everything a plugin made of one message.
#[derive(Debug, Clone, PartialEq)]
pub struct Normalized {
    /// In the order the plugin gave them; the caller checks that their indexes
    /// are unique and ascending.
    pub transactions: Vec<Transaction>,
    /// About the message as a whole (its envelopes).
    pub warnings: Vec<PluginWarning>,
}

/// One transaction of a message (an X12 ST…SE, an EDIFACT UNH…UNT, a document,
/// an item of a JSON array) and what became of it.
#[derive(Debug, Clone, PartialEq)]
pub struct Transaction {
    /// 0-based position among the message's transactions.
    pub index: u32,
    /// The transaction's own control number as written (X12 ST02, EDIFACT UNH
    /// 0062, cXML payloadID).
    pub control_number: Option<String>,
    /// Where it starts in the message.
    pub location: Option<ErrorLocation>,
    pub outcome: TransactionOutcome,
    pub warnings: Vec<PluginWarning>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum TransactionOutcome {
    /// One canonical order as JSON, not yet validated.
    Order(String),
    /// The plugin could not make an order of it, and says why.
    Refused(PluginRefusal),
    /// A document that is not an order, e.g. kind `810` or `INVOIC`.
    NotAnOrder {
        kind: String,
        reason: Option<String>,
    },
}

/// A plugin's own error for one transaction.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PluginRefusal {
    /// Kebab-case, e.g. `missing-field`.
    pub code: String,
    pub message: String,
    pub location: Option<ErrorLocation>,
}

/// Something the plugin read past instead of refusing.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PluginWarning {
    /// Kebab-case, e.g. `group-code-mismatch`.
    pub code: String,
    pub message: String,
    pub location: Option<ErrorLocation>,
}

impl Normalized {
    /// The first version's answer: each order one accepted transaction.
    pub(crate) fn from_v1(orders: Vec<String>) -> Self {
        Self {
            transactions: orders
                .into_iter()
                .zip(0u32..)
                .map(|(order, index)| Transaction {
                    index,
                    control_number: None,
                    location: None,
                    outcome: TransactionOutcome::Order(order),
                    warnings: Vec::new(),
                })
                .collect(),
            warnings: Vec::new(),
        }
    }

    /// Bytes of output the plugin returned, for its output limit: the orders,
    /// messages and locations it wrote.
    pub fn size_bytes(&self) -> u64 {
        let warnings = |list: &[PluginWarning]| -> usize {
            list.iter()
                .map(|w| w.code.len() + w.message.len() + location_size(&w.location))
                .sum()
        };
        let transactions: usize = self
            .transactions
            .iter()
            .map(|t| {
                let outcome = match &t.outcome {
                    TransactionOutcome::Order(order) => order.len(),
                    TransactionOutcome::Refused(r) => {
                        r.code.len() + r.message.len() + location_size(&r.location)
                    }
                    TransactionOutcome::NotAnOrder { kind, reason } => {
                        kind.len() + reason.as_ref().map_or(0, String::len)
                    }
                };
                outcome
                    + t.control_number.as_ref().map_or(0, String::len)
                    + location_size(&t.location)
                    + warnings(&t.warnings)
            })
            .sum();
        (transactions + warnings(&self.warnings)) as u64
    }
}

/// `Normalized::$normalized` and `$location`: the answer of WIT module `$wit`
/// in the host's types. The versions from 0.2 on have the same records, as
/// distinct Rust types.
macro_rules! from_wit {
    ($wit:ident, $normalized:ident, $location:ident) => {
        impl Normalized {
            pub(crate) fn $normalized(normalized: $wit::Normalized) -> Self {
                let warnings = |list: Vec<$wit::Warning>| -> Vec<PluginWarning> {
                    list.into_iter()
                        .map(|w| PluginWarning {
                            code: w.code,
                            message: w.message,
                            location: w.location.map($location),
                        })
                        .collect()
                };
                let transaction = |t: $wit::Transaction| {
                    let outcome = match t.outcome {
                        $wit::Outcome::Order(order) => TransactionOutcome::Order(order),
                        $wit::Outcome::Refused(error) => {
                            TransactionOutcome::Refused(PluginRefusal {
                                code: error.code,
                                message: error.message,
                                location: error.location.map($location),
                            })
                        }
                        $wit::Outcome::NotAnOrder(other) => TransactionOutcome::NotAnOrder {
                            kind: other.kind,
                            reason: other.reason,
                        },
                    };
                    Transaction {
                        index: t.id.index,
                        control_number: t.id.control_number,
                        location: t.id.location.map($location),
                        outcome,
                        warnings: warnings(t.warnings),
                    }
                };
                Self {
                    transactions: normalized
                        .transactions
                        .into_iter()
                        .map(transaction)
                        .collect(),
                    warnings: warnings(normalized.warnings),
                }
            }
        }

        pub(crate) fn $location(l: $wit::Location) -> ErrorLocation {
            ErrorLocation {
                line: l.line,
                column: l.column,
                offset: l.offset,
                path: l.path,
            }
        }
    };
}

from_wit!(v2, from_v2, location_v2);
from_wit!(v3, from_v3, location_v3);
from_wit!(v4, from_v4, location_v4);

fn location_size(location: &Option<ErrorLocation>) -> usize {
    location
        .as_ref()
        .and_then(|l| l.path.as_ref())
        .map_or(0, String::len)
}

pub(crate) fn location_v1(l: v1::Location) -> ErrorLocation {
    ErrorLocation {
        line: l.line,
        column: l.column,
        offset: l.offset,
        path: l.path,
    }
}
