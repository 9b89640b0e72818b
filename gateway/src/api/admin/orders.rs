//! `/v1/admin/orders`: every buyer's orders, with where each is in its delivery;
//! `status=unrouted` finds the orders waiting for a route to a craftsman.

use actix_web::{get, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::api::auth::{AdminAuth, UNAUTHORIZED_ADMIN};
use crate::api::{AppState, BAD_LISTING_QUERY, page_limit};
use crate::error::{ApiError, Problem};
use crate::store::{Delivery, DeliveryQuery, OrderQuery, OrderRecord, OrderScope, OrderStatus};

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    /// `unrouted`, `received`, `delivered` or `failed`.
    #[param(value_type = Option<String>)]
    status: Option<OrderStatus>,
    /// Only this buyer's orders.
    buyer: Option<String>,
    /// Only the orders routed to this craftsman.
    craftsman: Option<String>,
    /// `true`: only the orders past the wait for an answer (`[responses]
    /// remind_after`; with no wait set, every routed order) that their craftsman
    /// has not answered; `reminded_at` says when the craftsman was reminded.
    /// `false` filters nothing.
    #[param(value_type = Option<bool>)]
    awaiting_response: Option<String>,
    /// Page size, 1 to 200 (default 50).
    limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    after: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AdminOrderPage {
    #[schema(value_type = Vec<Object>)]
    pub orders: Vec<OrderRecord>,
    pub next_cursor: Option<String>,
}

/// An order with its deliveries.
#[derive(Debug, Serialize, ToSchema)]
pub struct AdminOrderDetail {
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub order: OrderRecord,
    #[schema(value_type = Vec<Object>)]
    pub deliveries: Vec<Delivery>,
}

/// List the orders of every buyer, newest first.
#[utoipa::path(
    tag = "admin",
    // The buyer API has a `list_orders` too; operation ids are unique in a document.
    operation_id = "admin_list_orders",
    params(ListParams),
    responses(
        (status = 200, description = "A page of orders, newest first.", body = AdminOrderPage),
        (status = 400, description = BAD_LISTING_QUERY, body = Problem, content_type = "application/problem+json"),
        (status = 401, description = UNAUTHORIZED_ADMIN, body = Problem, content_type = "application/problem+json"),
    ),
    security(("admin_token" = []))
)]
#[get("/admin/orders")]
pub async fn list_orders(
    state: web::Data<AppState>,
    _admin: AdminAuth,
    params: web::Query<ListParams>,
) -> Result<web::Json<AdminOrderPage>, ApiError> {
    let params = params.into_inner();
    let limit = page_limit(params.limit)?;
    // Read here rather than by serde, so that a wrong value's 400 names the field.
    let awaiting = match params.awaiting_response.as_deref() {
        None | Some("false") => false,
        Some("true") => true,
        Some(other) => {
            return Err(ApiError::BadRequest(format!(
                "awaiting_response must be true or false, not '{other}'"
            )));
        }
    };
    let page = state
        .store
        .list_orders(OrderQuery {
            buyer_id: params.buyer,
            craftsman_id: params.craftsman,
            status: params.status,
            awaiting_response_since: awaiting
                .then(|| state.config.responses.awaiting_since(chrono::Utc::now())),
            limit,
            after: params.after,
            ..OrderQuery::default()
        })
        .await?;
    Ok(web::Json(AdminOrderPage {
        orders: page.orders,
        next_cursor: page.next_cursor,
    }))
}

/// Read an order and its deliveries.
#[utoipa::path(
    tag = "admin",
    // The buyer API has a `get_order` too; operation ids are unique in a document.
    operation_id = "admin_get_order",
    params(("id" = String, Path)),
    responses(
        (status = 200, description = "The order and its deliveries.", body = AdminOrderDetail),
        (status = 401, description = UNAUTHORIZED_ADMIN, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such order.", body = Problem, content_type = "application/problem+json"),
    ),
    security(("admin_token" = []))
)]
#[get("/admin/orders/{id}")]
pub async fn get_order(
    state: web::Data<AppState>,
    _admin: AdminAuth,
    id: web::Path<String>,
) -> Result<web::Json<AdminOrderDetail>, ApiError> {
    let order = state
        .store
        .get_order(OrderScope::All, &id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no order '{id}'")))?;
    // An order has one delivery per channel of its craftsman: one page holds them.
    let deliveries = state
        .store
        .list_deliveries(DeliveryQuery {
            order_id: Some(order.id.clone()),
            limit: crate::store::MAX_PAGE,
            ..DeliveryQuery::default()
        })
        .await?
        .deliveries;
    Ok(web::Json(AdminOrderDetail { order, deliveries }))
}
