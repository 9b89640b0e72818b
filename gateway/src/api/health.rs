//! Liveness and readiness, for load balancers and orchestrators.

use actix_web::{HttpResponse, ResponseError, get, web};

use super::AppState;
use crate::admission::Refusal;
use crate::error::ApiError;

/// Liveness: the process answers.
#[utoipa::path(tag = "operations", responses((status = 200, description = "Alive.")))]
#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(r#"{"status":"ok"}"#)
}

/// Readiness: the gateway can store messages (its disk has room, its database
/// can be written) and the store answers. A ready gateway also names the channels
/// paused because their credentials were refused (`paused_channels`): it still
/// takes orders, and their deliveries wait, so it is ready, but not all is well.
#[utoipa::path(
    tag = "operations",
    responses(
        (status = 200, description = "Ready."),
        (status = 503, description = "Not taking messages now: a problem whose `detail` says why, with `Retry-After`.", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[get("/readyz")]
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let health = state.admission.health();
    let verdict = match health.state() {
        Err(reason) => Err(reason),
        // The health check logs its changes; a failed ping is said here only.
        Ok(()) => state
            .store
            .ping()
            .await
            .map_err(|e| format!("the store does not answer: {e}")),
    };
    match verdict {
        Ok(()) => {
            // Names only: the reasons are the admin's (`/v1/admin/channels/paused`).
            let paused: Vec<String> = match state.store.paused_channels().await {
                Ok(pauses) => pauses.into_iter().map(|p| p.channel).collect(),
                Err(error) => {
                    tracing::warn!(%error, "reading the paused channels for /readyz");
                    Vec::new()
                }
            };
            HttpResponse::Ok()
                .json(serde_json::json!({"status": "ready", "paused_channels": paused}))
        }
        // A problem document like every error here, whose detail says why.
        Err(reason) => ApiError::Refused(Refusal::Unavailable {
            reason,
            retry_after: health.retry_after(),
        })
        .error_response(),
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
    let paused = state.store.paused_channels().await?;
    Ok(HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(state.metrics.render(&stats, &paused)))
}
