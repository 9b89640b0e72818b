//! Craftsmen's answers in the buyer's own format (issue 10, part 3): when the
//! buyer's plugin exports `render-response` (WIT `jembatan:plugin@0.4.0`, world
//! `plugin-with-responses`), a response is written by it (an X12 855, an EDIFACT
//! ORDRSP, a UBL OrderResponse) and the `order.response` event carries that
//! document beside the canonical response.
//!
//! A response is rendered after it is stored, never before: a render that fails,
//! traps or runs out of time costs the buyer the rendered document (the event
//! carries `render_error` instead), never the response. What the plugin made is
//! kept (`rendered_responses`) the first time, and every later attempt or replay
//! of the event reads it back, so the buyer always receives the same bytes, with
//! the same control numbers. Those come from a per-buyer sequence in the store
//! (`control_numbers`), taken before the call and never given again.
//!
//! The delivery worker asks for the rendered document through
//! [`crate::delivery::ResponseRenderer`], which this implements above it, so the
//! delivery side never calls the plugin host itself.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::OnceCell;

use jembatan_schemas::OrderResponse;

use crate::delivery::ResponseRenderer;
use crate::ingest::Ingest;
use crate::model::{RenderOutcome, RenderedResponse};
use crate::plugin_host::ControlNumbers;
use crate::store::{OrderRecord, Store};

/// Renders responses with their buyers' plugins, once each.
pub struct Renderer {
    store: Arc<dyn Store>,
    ingest: Arc<Ingest>,
    /// The renderings under way, by response id. The answer's own task and the
    /// delivery worker's first attempt can ask for the same response at once;
    /// the second waits for the first's result instead of calling the plugin
    /// again (and spending a control number the kept document will not carry).
    in_flight: Mutex<InFlight>,
}

/// Each rendering under way, by response id: its outcome once the first caller
/// has it.
type InFlight = HashMap<String, Arc<OnceCell<Option<RenderOutcome>>>>;

impl Renderer {
    pub fn new(store: Arc<dyn Store>, ingest: Arc<Ingest>) -> Self {
        Self {
            store,
            ingest,
            in_flight: Mutex::new(HashMap::new()),
        }
    }

    /// What the buyer's plugin made of `response` to `order`: kept from before, or
    /// rendered now and kept. `None` when the buyer's plugin does not render
    /// responses, or when the gateway itself (its store, the plugin host) could
    /// not try now; a later attempt tries again.
    pub async fn render(
        &self,
        response: &OrderResponse,
        order: &OrderRecord,
    ) -> Option<RenderOutcome> {
        let cell = self
            .in_flight()
            .entry(response.id.clone())
            .or_default()
            .clone();
        let outcome = cell
            .get_or_init(|| self.render_once(response, order))
            .await
            .clone();
        // Forgotten once kept: a later caller reads the kept document from the
        // store (the entry goes only after the first caller's write).
        let mut in_flight = self.in_flight();
        if in_flight
            .get(&response.id)
            .is_some_and(|current| Arc::ptr_eq(current, &cell))
        {
            in_flight.remove(&response.id);
        }
        outcome
    }

    fn in_flight(&self) -> std::sync::MutexGuard<'_, InFlight> {
        self.in_flight
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    async fn render_once(
        &self,
        response: &OrderResponse,
        order: &OrderRecord,
    ) -> Option<RenderOutcome> {
        match self.store.rendered_response(&response.id).await {
            Ok(Some(kept)) => return Some(kept.outcome),
            Ok(None) => {}
            Err(error) => {
                tracing::error!(response_id = %response.id, %error,
                    "reading the rendered response");
                return None;
            }
        }
        let buyer = match self.store.get_buyer(&order.buyer_id).await {
            Ok(Some(buyer)) => buyer,
            Ok(None) => return None,
            Err(error) => {
                tracing::error!(buyer_id = %order.buyer_id, %error, "reading the buyer");
                return None;
            }
        };
        let plugin = match self.ingest.plugin_for(&buyer) {
            Ok(plugin) if plugin.renders_responses() => plugin,
            Ok(_) => return None,
            Err(error) => {
                tracing::warn!(buyer_id = %buyer.id, %error,
                    "the buyer's plugin is missing; the response goes without its rendering");
                return None;
            }
        };
        let original = match self
            .store
            .get_message(Some(&buyer.id), &order.message_id)
            .await
        {
            // A body retention deleted is empty: the plugin says it cannot answer.
            Ok(Some(message)) => message,
            Ok(None) => return None,
            Err(error) => {
                tracing::error!(message_id = %order.message_id, %error, "reading the message");
                return None;
            }
        };
        // One number serves the interchange, the group and the transaction: each
        // is unique among the buyer's rendered documents, which is what X12 and
        // EDIFACT ask of them.
        let number = match self.store.next_control_number(&buyer.id).await {
            Ok(number) => number,
            Err(error) => {
                tracing::error!(buyer_id = %buyer.id, %error, "taking a control number");
                return None;
            }
        };
        let control_numbers = ControlNumbers {
            interchange: number,
            group: number,
            transaction: number,
        };
        let response_json = serde_json::to_string(response).expect("a response serializes");
        let order_json = serde_json::to_string(&order.order).expect("an order serializes");
        let outcome = match self
            .ingest
            .render_response(
                &buyer,
                &plugin,
                original,
                response_json,
                order_json,
                control_numbers,
            )
            .await
        {
            Ok(Ok(document)) => RenderOutcome::Rendered {
                content_type: document.content_type,
                body: document.body,
            },
            Ok(Err(error)) if error.is_plugin_fault() => RenderOutcome::Failed {
                error: format!(
                    "plugin '{}' {} could not write the response in the buyer's format: {error}",
                    plugin.info.name, plugin.info.version
                ),
            },
            Ok(Err(error)) => {
                tracing::error!(response_id = %response.id, %error,
                    "the plugin host could not render the response");
                return None;
            }
            Err(error) => {
                tracing::error!(response_id = %response.id, %error,
                    "the plugin host could not render the response");
                return None;
            }
        };
        if let RenderOutcome::Failed { error } = &outcome {
            tracing::warn!(response_id = %response.id, order_id = %order.id, %error,
                "the response was not rendered; the buyer gets it without");
        }
        let kept = self
            .store
            .keep_rendered_response(RenderedResponse {
                response_id: response.id.clone(),
                plugin_name: plugin.info.name.clone(),
                plugin_version: plugin.info.version.clone(),
                outcome,
            })
            .await;
        match kept {
            Ok(kept) => Some(kept.outcome),
            Err(error) => {
                tracing::error!(response_id = %response.id, %error,
                    "keeping the rendered response");
                None
            }
        }
    }
}

#[async_trait::async_trait]
impl ResponseRenderer for Renderer {
    async fn rendered(
        &self,
        response: &OrderResponse,
        order: &OrderRecord,
    ) -> Option<RenderOutcome> {
        self.render(response, order).await
    }
}
