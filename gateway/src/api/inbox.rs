//! `/v1/inbox`: a craftsman's orders, with their own token, and their answers to
//! them. Every routed order is here the moment it is stored, whatever happens on
//! the craftsman's other channels; another craftsman's order is a 404, as if it
//! did not exist.

use std::borrow::Cow;

use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, NaiveDate, Utc};
use jembatan_schemas::order_response::{LineChange, ResponseVia};
use jembatan_schemas::{OrderResponse, ResponseStatus};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::auth::{CraftsmanAuth, UNAUTHORIZED_CRAFTSMAN};
use super::orders::OrderParams;
use super::{AppState, BAD_LISTING_QUERY, page_limit};
use crate::error::{ApiError, Problem};
use crate::orders::{OrderSchema, VersionedOrder};
use crate::responses::Answer;
use crate::store::{OrderPage, OrderQuery, OrderRecord, OrderScope};

/// An order as its craftsman sees it.
#[derive(Debug, Serialize, ToSchema)]
pub struct InboxOrder {
    pub id: String,
    /// The buyer's id; its registered name is in `order.received.buyer_account`.
    pub buyer_id: String,
    pub buyer_order_number: String,
    pub created_at: DateTime<Utc>,
    /// Your answer now: `accepted`, `rejected` or `accepted_with_changes`; `null`
    /// while you have not answered.
    #[schema(value_type = Option<String>)]
    pub response: Option<ResponseStatus>,
    /// Every response you gave, oldest first. Only when one order is read.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<Object>>)]
    pub responses: Option<Vec<OrderResponse>>,
    /// The canonical purchase order (v2; with `?schema=v1`, v1).
    #[schema(value_type = Object)]
    pub order: VersionedOrder<'static>,
}

impl InboxOrder {
    fn new(r: OrderRecord, schema: OrderSchema) -> Self {
        Self {
            id: r.id,
            buyer_id: r.buyer_id,
            buyer_order_number: r.buyer_order_number,
            created_at: r.created_at,
            response: r.response,
            responses: None,
            order: schema.present(Cow::Owned(r.order)),
        }
    }
}

/// An answer to an order: accept it, reject it with a reason, or accept it with
/// changes (a promised delivery date for the whole order, and/or lines with another
/// quantity, date or price).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResponseRequest {
    /// `accepted`, `rejected` or `accepted_with_changes`.
    #[schema(value_type = String)]
    pub status: ResponseStatus,
    /// Why: required when rejected; may explain changes. At most 512 characters.
    pub reason: Option<String>,
    /// With changes: when the whole order will be delivered, `YYYY-MM-DD`.
    #[schema(value_type = Option<String>, format = Date)]
    pub promised_delivery_date: Option<NaiveDate>,
    /// With changes: the lines that change, each
    /// `{"line_number", "quantity"?, "delivery_date"?, "price"?}` (decimals as
    /// strings; the price in the order's currency per the line's price base
    /// quantity). A line not listed is made as ordered.
    #[serde(default)]
    #[schema(value_type = Vec<Object>)]
    pub lines: Vec<LineChange>,
}

impl From<ResponseRequest> for Answer {
    fn from(r: ResponseRequest) -> Self {
        Self {
            status: r.status,
            reason: r.reason,
            promised_delivery_date: r.promised_delivery_date,
            lines: r.lines,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InboxPage {
    pub orders: Vec<InboxOrder>,
    /// Pass as `after` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct InboxParams {
    /// Page size, 1 to 200 (default 50).
    limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    after: Option<String>,
    /// `v2` (default) or `v1`: the canonical order version of each `order`.
    #[param(value_type = Option<String>)]
    schema: Option<OrderSchema>,
}

/// The orders routed to the calling craftsman, newest first.
pub(super) async fn page(
    state: &AppState,
    craftsman_id: &str,
    limit: u32,
    after: Option<String>,
) -> Result<OrderPage, ApiError> {
    Ok(state
        .store
        .list_orders(OrderQuery {
            craftsman_id: Some(craftsman_id.to_owned()),
            limit,
            after,
            ..OrderQuery::default()
        })
        .await?)
}

/// One order of the calling craftsman; another's is a 404.
pub(super) async fn order(
    state: &AppState,
    craftsman_id: &str,
    id: &str,
) -> Result<OrderRecord, ApiError> {
    state
        .store
        .get_order(OrderScope::Craftsman(craftsman_id), id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no order '{id}' in your inbox")))
}

/// List the orders in your inbox, newest first.
#[utoipa::path(
    tag = "inbox",
    params(InboxParams),
    responses(
        (status = 200, description = "A page of the craftsman's orders.", body = InboxPage),
        (status = 400, description = BAD_LISTING_QUERY, body = Problem, content_type = "application/problem+json"),
        (status = 401, description = UNAUTHORIZED_CRAFTSMAN, body = Problem, content_type = "application/problem+json"),
    ),
    security(("craftsman_token" = []))
)]
#[get("/inbox")]
pub async fn list_inbox(
    state: web::Data<AppState>,
    CraftsmanAuth(craftsman): CraftsmanAuth,
    params: web::Query<InboxParams>,
) -> Result<web::Json<InboxPage>, ApiError> {
    let params = params.into_inner();
    let limit = page_limit(params.limit)?;
    let schema = params.schema.unwrap_or_default();
    let page = page(&state, &craftsman.id, limit, params.after).await?;
    Ok(web::Json(InboxPage {
        orders: page
            .orders
            .into_iter()
            .map(|o| InboxOrder::new(o, schema))
            .collect(),
        next_cursor: page.next_cursor,
    }))
}

/// Read one order in your inbox.
#[utoipa::path(
    tag = "inbox",
    params(("order_id" = String, Path), OrderParams),
    responses(
        (status = 200, description = "The order.", body = InboxOrder),
        (status = 401, description = UNAUTHORIZED_CRAFTSMAN, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not an order of yours.", body = Problem, content_type = "application/problem+json"),
    ),
    security(("craftsman_token" = []))
)]
#[get("/inbox/{order_id}")]
pub async fn get_inbox_order(
    state: web::Data<AppState>,
    CraftsmanAuth(craftsman): CraftsmanAuth,
    order_id: web::Path<String>,
    params: web::Query<OrderParams>,
) -> Result<web::Json<InboxOrder>, ApiError> {
    let order = order(&state, &craftsman.id, &order_id).await?;
    let responses = state.store.order_responses(&order.id).await?;
    Ok(web::Json(InboxOrder {
        responses: Some(responses),
        ..InboxOrder::new(order, params.schema.unwrap_or_default())
    }))
}

/// Answer an order in your inbox.
///
/// Accept it as ordered, reject it with a reason, or accept it with changes. A
/// later answer supersedes the earlier one and every answer is kept; each is sent
/// to the buyer (its `callback_url`, as an `order.response` event) and shown in its
/// `GET /v1/orders/{id}`. A rejection is final: an order you rejected takes no
/// further answer (409 `order-already-rejected`).
#[utoipa::path(
    tag = "inbox",
    params(("order_id" = String, Path)),
    request_body = ResponseRequest,
    responses(
        (status = 201, description = "Taken: the response as stored, as `/v1/schemas/order-response.schema.json` describes it.", body = Object),
        (status = 400, description = "A body that is not JSON or not an answer (an unknown field, a number where a decimal string goes).", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = UNAUTHORIZED_CRAFTSMAN, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not an order of yours.", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The order was already rejected (`order-already-rejected`), or answered at the same moment (`conflict`): read it again.", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "An answer the order cannot take (`invalid-response`); `field` names where: a rejection without a reason, changes without a date or a line, a line the order does not have or that changes nothing, a quantity not above zero.", body = Problem, content_type = "application/problem+json"),
    ),
    security(("craftsman_token" = []))
)]
#[post("/inbox/{order_id}/response")]
pub async fn post_response(
    state: web::Data<AppState>,
    CraftsmanAuth(craftsman): CraftsmanAuth,
    order_id: web::Path<String>,
    body: web::Json<ResponseRequest>,
) -> Result<HttpResponse, ApiError> {
    let order = order(&state, &craftsman.id, &order_id).await?;
    let recorded = state
        .responses
        .answer(
            &order,
            &craftsman,
            body.into_inner().into(),
            ResponseVia::Api,
            None,
        )
        .await?;
    Ok(HttpResponse::Created().json(recorded.response))
}
