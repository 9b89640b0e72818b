//! `/v1/admin/buyers/{buyer}/suppliers`: which craftsman each of a buyer's supplier
//! codes names. Orders are routed on it when they are stored; an order whose code
//! has no route waits, `unrouted`, and is routed the moment its route is added.

use actix_web::{get, put, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::unprocessable;
use crate::api::AppState;
use crate::api::auth::{AdminAuth, UNAUTHORIZED_ADMIN};
use crate::error::{ApiError, Problem};
use crate::store::Route;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PutRoute {
    /// The craftsman's id.
    pub craftsman: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RouteView {
    pub buyer: String,
    pub supplier_code: String,
    pub craftsman: String,
    pub updated_at: DateTime<Utc>,
    /// Orders that waited for this route and are now on their way (only in `PUT`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub routed_orders: Option<Vec<String>>,
}

impl From<Route> for RouteView {
    fn from(route: Route) -> Self {
        Self {
            buyer: route.buyer_id,
            supplier_code: route.supplier_code,
            craftsman: route.craftsman_id,
            updated_at: route.updated_at,
            routed_orders: None,
        }
    }
}

/// Route a buyer's supplier code to a craftsman.
///
/// The buyer's orders for this code that were waiting (`unrouted`) are routed at
/// once and delivered. Orders already routed keep their craftsman; a changed route
/// applies to the next orders.
#[utoipa::path(
    tag = "admin",
    params(("buyer" = String, Path), ("code" = String, Path, description = "The buyer's code for the supplier, as in the order's `supplier.code`.")),
    request_body = PutRoute,
    responses(
        (status = 200, description = "The route; `routed_orders` lists the waiting orders it routed.", body = RouteView),
        (status = 400, description = "A malformed body, or a blank supplier code.", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = UNAUTHORIZED_ADMIN, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such buyer.", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No such craftsman.", body = Problem, content_type = "application/problem+json"),
    ),
    security(("admin_token" = []))
)]
#[put("/admin/buyers/{buyer}/suppliers/{code}")]
pub async fn put_route(
    state: web::Data<AppState>,
    _admin: AdminAuth,
    path: web::Path<(String, String)>,
    body: web::Json<PutRoute>,
) -> Result<web::Json<RouteView>, ApiError> {
    let (buyer, code) = path.into_inner();
    if code.trim().is_empty() {
        return Err(ApiError::BadRequest(
            "the supplier code must not be empty".into(),
        ));
    }
    if state.store.get_buyer(&buyer).await?.is_none() {
        return Err(ApiError::NotFound(format!("no buyer '{buyer}'")));
    }
    if state.store.get_craftsman(&body.craftsman).await?.is_none() {
        return Err(unprocessable(
            "unknown-craftsman",
            "No such craftsman",
            format!("no craftsman '{}'", body.craftsman),
        ));
    }
    let change = state
        .store
        .put_route(&buyer, &code, &body.craftsman)
        .await?;
    tracing::info!(buyer_id = %buyer, supplier_code = %code, craftsman_id = %body.craftsman,
        routed = change.routed_orders.len(), "route set");
    if !change.routed_orders.is_empty() {
        state.bell.ring();
    }
    Ok(web::Json(RouteView {
        routed_orders: Some(change.routed_orders),
        ..change.route.into()
    }))
}

/// List a buyer's routes.
#[utoipa::path(
    tag = "admin",
    params(("buyer" = String, Path)),
    responses(
        (status = 200, description = "The buyer's routes.", body = Vec<RouteView>),
        (status = 401, description = UNAUTHORIZED_ADMIN, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such buyer.", body = Problem, content_type = "application/problem+json"),
    ),
    security(("admin_token" = []))
)]
#[get("/admin/buyers/{buyer}/suppliers")]
pub async fn list_routes(
    state: web::Data<AppState>,
    _admin: AdminAuth,
    buyer: web::Path<String>,
) -> Result<web::Json<Vec<RouteView>>, ApiError> {
    if state.store.get_buyer(&buyer).await?.is_none() {
        return Err(ApiError::NotFound(format!("no buyer '{buyer}'")));
    }
    let routes = state.store.list_routes(&buyer).await?;
    Ok(web::Json(routes.into_iter().map(Into::into).collect()))
}
