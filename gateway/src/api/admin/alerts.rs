//! `/v1/admin/channels/paused` and `/v1/admin/alerts`: the channels paused because
//! the service refused the gateway's own credentials (an expired WhatsApp token),
//! and the alerts the admin was sent about them (`delivery::alerts`).

use actix_web::{get, web};
use serde::Serialize;
use utoipa::ToSchema;

use crate::api::AppState;
use crate::api::auth::{AdminAuth, UNAUTHORIZED_ADMIN};
use crate::error::{ApiError, Problem};
use crate::store::{AdminAlert, ChannelPause};

#[derive(Debug, Serialize, ToSchema)]
pub struct PausedChannelsView {
    /// Each paused channel: why, since when, and how many deliveries wait for it.
    pub paused: Vec<ChannelPause>,
}

/// The channels paused now. A channel pauses when the service refuses the
/// gateway's credentials; its deliveries wait (they are not killed) and it resumes
/// at its first send that goes through once the credentials are fixed.
#[utoipa::path(
    tag = "admin",
    responses(
        (status = 200, description = "The paused channels; empty when all work.", body = PausedChannelsView),
        (status = 401, description = UNAUTHORIZED_ADMIN, body = Problem, content_type = "application/problem+json"),
    ),
    security(("admin_token" = []))
)]
#[get("/admin/channels/paused")]
pub async fn paused_channels(
    state: web::Data<AppState>,
    _admin: AdminAuth,
) -> Result<web::Json<PausedChannelsView>, ApiError> {
    let paused = state.store.paused_channels().await?;
    Ok(web::Json(PausedChannelsView { paused }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AlertsView {
    /// The latest 100 alerts, newest first, and how far each got.
    pub alerts: Vec<AdminAlert>,
}

/// The alerts sent (or being sent) to the operator's `[delivery.alerts]` targets:
/// one `channel.paused` per pause and one `channel.resumed` when it ends.
#[utoipa::path(
    tag = "admin",
    responses(
        (status = 200, description = "The latest alerts, newest first.", body = AlertsView),
        (status = 401, description = UNAUTHORIZED_ADMIN, body = Problem, content_type = "application/problem+json"),
    ),
    security(("admin_token" = []))
)]
#[get("/admin/alerts")]
pub async fn list_alerts(
    state: web::Data<AppState>,
    _admin: AdminAuth,
) -> Result<web::Json<AlertsView>, ApiError> {
    let alerts = state.store.list_alerts(100).await?;
    Ok(web::Json(AlertsView { alerts }))
}
