//! Answering an order in the buyer's format (WIT `jembatan:plugin@0.4.0`, world
//! `plugin-with-responses`): the optional [`RenderResponse`] a plugin may
//! implement beside [`Plugin`](crate::Plugin).
//!
//! When a craftsman answers an order (accepted, rejected, accepted with changes),
//! the gateway delivers the answer to the buyer's callback as an `order.response`
//! event. If the buyer's plugin renders responses, the event also carries the
//! answer written by the plugin in the buyer's own format: an X12 855 for a
//! buyer that sent an 850, an EDIFACT ORDRSP for ORDERS, a UBL OrderResponse for
//! a UBL Order. A plugin that does not implement it keeps working; its buyers get
//! the canonical response alone.

use jembatan_schemas::OrderResponse;
use jembatan_schemas::v2::PurchaseOrder;

use crate::{Message, Plugin, PluginError};

/// Control numbers for one rendered document, fresh from a sequence the gateway
/// keeps per buyer: never given twice for a buyer, so a plugin, which keeps no
/// state between calls, never reuses one. Each is above zero and fits nine
/// digits.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ControlNumbers {
    /// X12 ISA13 / IEA02, EDIFACT UNB 0020 / UNZ 0020.
    pub interchange: u32,
    /// X12 GS06 / GE02.
    pub group: u32,
    /// X12 ST02 / SE02, EDIFACT UNH 0062.
    pub transaction: u32,
}

/// Everything the gateway gives a renderer.
#[derive(Debug, Clone, PartialEq)]
pub struct ResponseRequest {
    /// The craftsman's answer (`schemas/order-response.schema.json`).
    pub response: OrderResponse,
    /// The order answered, canonical v2 as stored, with `received` (the message,
    /// and the index and control number of its transaction).
    pub order: PurchaseOrder,
    /// The stored inbound message the order came in: its envelope's parties,
    /// references and separators. Its body is empty when retention deleted it.
    pub original: Message,
    /// The buyer's plugin config as JSON text, as `normalize` gets it.
    pub config: String,
    pub control_numbers: ControlNumbers,
}

impl ResponseRequest {
    /// Reads the request from its WIT form: the response and the order as JSON.
    pub fn from_json(
        response: &str,
        order: &str,
        original: Message,
        config: String,
        control_numbers: ControlNumbers,
    ) -> Result<Self, PluginError> {
        let response = serde_json::from_str(response).map_err(|e| {
            PluginError::new("invalid-request", format!("the response is not one: {e}"))
        })?;
        let order = serde_json::from_str(order).map_err(|e| {
            PluginError::new(
                "invalid-request",
                format!("the order is not a canonical order v2: {e}"),
            )
        })?;
        Ok(Self {
            response,
            order,
            original,
            config,
            control_numbers,
        })
    }

    /// The original message's body as text, or why it cannot be read.
    pub fn original_text(&self) -> Result<&str, PluginError> {
        if self.original.body.is_empty() {
            return Err(PluginError::new(
                "original-gone",
                "the original message is no longer stored, so its envelope cannot be answered",
            ));
        }
        std::str::from_utf8(&self.original.body)
            .map_err(|_| PluginError::new("not-utf8", "the original message is not UTF-8 text"))
    }
}

/// A rendered answer: its media type and bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// E.g. `application/edi-x12`, `application/edifact`, `application/xml`.
    pub content_type: String,
    pub body: Vec<u8>,
}

/// A plugin that writes craftsmen's answers in its buyers' format. Optional:
/// implement it and export the plugin with
/// `export_plugin!(MyPlugin, render_response)`.
pub trait RenderResponse: Plugin {
    /// Writes `request.response` as the buyer's document. `Err` when it cannot
    /// be written (the original message is gone, the order is not in it); the
    /// buyer then gets the canonical response with the error's message. The same
    /// request always gives the same bytes: dates come from the response and the
    /// order, control numbers from the request, never from a clock.
    fn render_response(request: &ResponseRequest) -> Result<Rendered, PluginError>;
}
