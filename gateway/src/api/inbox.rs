//! `/v1/inbox`: a craftsman's orders, with their own token. Every routed order is
//! here the moment it is stored, whatever happens on the craftsman's other
//! channels; another craftsman's order is a 404, as if it did not exist.

use std::borrow::Cow;

use actix_web::{get, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::auth::{CraftsmanAuth, UNAUTHORIZED_CRAFTSMAN};
use super::orders::OrderParams;
use super::{AppState, BAD_LISTING_QUERY, page_limit};
use crate::error::{ApiError, Problem};
use crate::orders::{OrderSchema, VersionedOrder};
use crate::store::{OrderPage, OrderQuery, OrderRecord, OrderScope};

/// An order as its craftsman sees it.
#[derive(Debug, Serialize, ToSchema)]
pub struct InboxOrder {
    pub id: String,
    /// The buyer's id; its registered name is in `order.received.buyer_account`.
    pub buyer_id: String,
    pub buyer_order_number: String,
    pub created_at: DateTime<Utc>,
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
            order: schema.present(Cow::Owned(r.order)),
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
    Ok(web::Json(InboxOrder::new(
        order(&state, &craftsman.id, &order_id).await?,
        params.schema.unwrap_or_default(),
    )))
}
