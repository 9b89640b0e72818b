//! `/v1/admin/deliveries`: the outbox as the operator sees it: what is pending,
//! what succeeded, what is dead and why (every attempt), and a retry.

use actix_web::{get, post, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::api::auth::{AdminAuth, UNAUTHORIZED_ADMIN};
use crate::api::{AppState, BAD_LISTING_QUERY, page_limit};
use crate::error::{ApiError, Problem};
use crate::store::{Delivery, DeliveryAttempt, DeliveryQuery, DeliveryState, StoreError};

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    /// `pending`, `succeeded` or `dead`.
    #[param(value_type = Option<String>)]
    state: Option<DeliveryState>,
    /// Only this order's deliveries.
    order: Option<String>,
    /// Page size, 1 to 200 (default 50).
    limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    after: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryPageView {
    #[schema(value_type = Vec<Object>)]
    pub deliveries: Vec<Delivery>,
    pub next_cursor: Option<String>,
}

/// A delivery with every attempt made.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryDetail {
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub delivery: Delivery,
    /// Oldest first: when, how long, what the receiver said; for WhatsApp also the
    /// message's id (`message_id`) and the last status Meta sent for it
    /// (`receipt`: `sent`, `delivered`, `read`, `failed`; `receipt_at`).
    #[schema(value_type = Vec<Object>)]
    pub attempt_log: Vec<DeliveryAttempt>,
}

/// List deliveries, newest first; `state=dead` finds the ones to retry.
#[utoipa::path(
    tag = "admin",
    params(ListParams),
    responses(
        (status = 200, description = "A page of deliveries, newest first.", body = DeliveryPageView),
        (status = 400, description = BAD_LISTING_QUERY, body = Problem, content_type = "application/problem+json"),
        (status = 401, description = UNAUTHORIZED_ADMIN, body = Problem, content_type = "application/problem+json"),
    ),
    security(("admin_token" = []))
)]
#[get("/admin/deliveries")]
pub async fn list_deliveries(
    state: web::Data<AppState>,
    _admin: AdminAuth,
    params: web::Query<ListParams>,
) -> Result<web::Json<DeliveryPageView>, ApiError> {
    let params = params.into_inner();
    let limit = page_limit(params.limit)?;
    let page = state
        .store
        .list_deliveries(DeliveryQuery {
            state: params.state,
            order_id: params.order,
            limit,
            after: params.after,
        })
        .await?;
    Ok(web::Json(DeliveryPageView {
        deliveries: page.deliveries,
        next_cursor: page.next_cursor,
    }))
}

async fn detail(state: &AppState, delivery: Delivery) -> Result<DeliveryDetail, ApiError> {
    let attempt_log = state.store.delivery_attempts(&delivery.id).await?;
    Ok(DeliveryDetail {
        delivery,
        attempt_log,
    })
}

/// Read a delivery and its attempts.
#[utoipa::path(
    tag = "admin",
    params(("id" = String, Path)),
    responses(
        (status = 200, description = "The delivery and every attempt: when, how long, status code, error.", body = DeliveryDetail),
        (status = 401, description = UNAUTHORIZED_ADMIN, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such delivery.", body = Problem, content_type = "application/problem+json"),
    ),
    security(("admin_token" = []))
)]
#[get("/admin/deliveries/{id}")]
pub async fn get_delivery(
    state: web::Data<AppState>,
    _admin: AdminAuth,
    id: web::Path<String>,
) -> Result<web::Json<DeliveryDetail>, ApiError> {
    let delivery = state
        .store
        .get_delivery(&id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no delivery '{id}'")))?;
    Ok(web::Json(detail(&state, delivery).await?))
}

/// Retry a delivery now.
///
/// A dead delivery gets the whole retry schedule again; a pending one is tried at
/// once instead of at its next due time. The receiver sees the same `webhook-id`.
#[utoipa::path(
    tag = "admin",
    params(("id" = String, Path)),
    responses(
        (status = 202, description = "Due now; the delivery as it stands.", body = DeliveryDetail),
        (status = 401, description = UNAUTHORIZED_ADMIN, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such delivery.", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already delivered, or its channel is disabled.", body = Problem, content_type = "application/problem+json"),
    ),
    security(("admin_token" = []))
)]
#[post("/admin/deliveries/{id}/retry")]
pub async fn retry_delivery(
    state: web::Data<AppState>,
    _admin: AdminAuth,
    id: web::Path<String>,
) -> Result<actix_web::HttpResponse, ApiError> {
    let delivery = state.store.retry_delivery(&id).await.map_err(|e| match e {
        StoreError::NotFound => ApiError::NotFound(format!("no delivery '{id}'")),
        other => other.into(),
    })?;
    state.bell.ring();
    tracing::info!(delivery_id = %id, "delivery retry requested");
    Ok(actix_web::HttpResponse::Accepted().json(detail(&state, delivery).await?))
}
