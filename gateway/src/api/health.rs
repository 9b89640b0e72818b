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
