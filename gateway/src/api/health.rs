//! Liveness and readiness, for load balancers and orchestrators.

use actix_web::{HttpResponse, get, web};

use super::AppState;

/// Liveness: the process answers.
#[utoipa::path(tag = "operations", responses((status = 200, description = "Alive.")))]
#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(r#"{"status":"ok"}"#)
}

/// Readiness: the store answers.
#[utoipa::path(
    tag = "operations",
    responses((status = 200, description = "Ready."), (status = 503, description = "The store is unreachable."))
)]
#[get("/readyz")]
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    match state.store.ping().await {
        Ok(()) => HttpResponse::Ok().json(serde_json::json!({"status": "ready"})),
        Err(err) => {
            tracing::warn!(error = %err, "not ready");
            HttpResponse::ServiceUnavailable()
                .json(serde_json::json!({"status": "unavailable", "reason": "store unreachable"}))
        }
    }
}

/// Metrics in the Prometheus text format: delivery attempts, successes, failures
/// and dead deliveries by channel, deliveries by state, the age of the oldest due
/// delivery, and unrouted orders. Counts only: nothing secret or personal.
#[utoipa::path(
    tag = "operations",
    responses((status = 200, description = "Prometheus text exposition.", content_type = "text/plain"))
)]
#[get("/metrics")]
pub async fn metrics(state: web::Data<AppState>) -> Result<HttpResponse, crate::error::ApiError> {
    let stats = state.store.delivery_stats().await?;
    Ok(HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(state.metrics.render(&stats)))
}
