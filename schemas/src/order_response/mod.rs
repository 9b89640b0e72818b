//! A craftsman's answer to an order as Rust types, mirroring
//! `order-response.schema.json` ([`ORDER_RESPONSE_SCHEMA`]).
//!
//! As for the orders, field names, optionality and nesting follow the schema one to
//! one; decimals are [`Decimal`] (strings both ways, a JSON number refused), dates
//! [`NaiveDate`], times [`DateTime<Utc>`] (RFC 3339); optional fields and empty lists
//! are omitted, never `null`. Rules that tie fields together (a rejection has a
//! reason and no changes, changes need a promised date or a line, a line changes
//! something, a later response names the one it supersedes) live in the schema:
//! validate against it where a response is made.
//!
//! [`ORDER_RESPONSE_SCHEMA`]: crate::ORDER_RESPONSE_SCHEMA

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use rust_decimal::serde::str_option as decimal_option;
use serde::{Deserialize, Serialize};

#[cfg(test)]
mod agreement;

/// One response to one order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderResponse {
    pub version: ResponseVersion,
    /// The gateway's id of the response, `rsp_…`.
    pub id: String,
    /// The gateway's id of the order answered.
    pub order_id: String,
    /// The buyer's number of the order answered.
    pub buyer_order_number: String,
    /// 1 for the first response to the order, one more for each later one.
    pub sequence: u32,
    pub issued_at: DateTime<Utc>,
    pub status: ResponseStatus,
    /// Why: required (by the schema) when rejected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// When the whole order will be delivered; only with changes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub promised_delivery_date: Option<NaiveDate>,
    /// The lines that change; only with changes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lines: Vec<LineChange>,
    pub responder: Responder,
    pub via: ResponseVia,
    /// The response this one replaces; absent on the first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supersedes: Option<String>,
}

/// The schema version, written `"version": "1"`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum ResponseVersion {
    #[default]
    #[serde(rename = "1")]
    V1,
}

/// What the craftsman said of the order (UBL OrderResponseCode, UNCL 4343).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResponseStatus {
    /// Made as ordered (AP).
    Accepted,
    /// Not made (RE); a response says why.
    Rejected,
    /// Made with the changes the response gives (CA).
    AcceptedWithChanges,
}

impl ResponseStatus {
    /// Every status, for listings and tests.
    pub const ALL: [Self; 3] = [Self::Accepted, Self::Rejected, Self::AcceptedWithChanges];

    /// The name as serialized, stored and taken in query strings.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Accepted => "accepted",
            Self::Rejected => "rejected",
            Self::AcceptedWithChanges => "accepted_with_changes",
        }
    }

    /// The UNCL 4343 code UBL and Peppol write for it.
    pub fn uncl4343(self) -> &'static str {
        match self {
            Self::Accepted => "AP",
            Self::Rejected => "RE",
            Self::AcceptedWithChanges => "CA",
        }
    }
}

impl fmt::Display for ResponseStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ResponseStatus {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|status| status.as_str() == s)
            .ok_or_else(|| format!("unknown response status {s:?}"))
    }
}

/// One order line as the craftsman will make it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LineChange {
    /// The order line's `line_number`.
    pub line_number: String,
    /// In the order line's unit; above zero.
    #[serde(
        default,
        with = "decimal_option",
        skip_serializing_if = "Option::is_none"
    )]
    pub quantity: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery_date: Option<NaiveDate>,
    /// In the order's currency, per the order line's price base quantity.
    #[serde(
        default,
        with = "decimal_option",
        skip_serializing_if = "Option::is_none"
    )]
    pub price: Option<Decimal>,
}

/// The craftsman who answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Responder {
    pub craftsman_id: String,
    pub name: String,
}

/// Where the craftsman answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ResponseVia {
    Api,
    Inbox,
    Whatsapp,
    Telegram,
}
