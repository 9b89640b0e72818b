//! `/v1/admin`: the operator's API (admin token).

use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::AppState;
use super::auth::AdminAuth;
use crate::error::{ApiError, Problem};
use crate::plugin_host::Limits;
use crate::secrets;
use crate::store::NewBuyer;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateBuyer {
    /// Lower-case letters, digits, `-` and `_`; 1 to 64 characters.
    pub id: String,
    pub name: String,
    /// Name of an installed plugin (see `GET /v1/admin/plugins`).
    pub plugin: String,
    /// Given to the plugin with every message; a JSON object.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub plugin_config: Option<serde_json::Value>,
    /// Per-buyer plugin limits; the gateway's defaults otherwise.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub limits: Option<serde_json::Value>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedBuyer {
    pub id: String,
    pub name: String,
    pub plugin: String,
    #[schema(value_type = Object)]
    pub plugin_config: serde_json::Value,
    /// The buyer's API key. Shown this once: only its hash is stored.
    pub api_key: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PluginView {
    pub name: String,
    pub version: String,
    pub description: String,
    /// Hex SHA-256 of the component.
    pub sha256: String,
    pub size_bytes: usize,
    /// Media types the plugin reads.
    pub content_types: Vec<String>,
}

/// Create a buyer.
///
/// Returns the buyer's API key once; store it, it cannot be shown again.
#[utoipa::path(
    tag = "admin",
    request_body = CreateBuyer,
    responses(
        (status = 201, body = CreatedBuyer),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "A buyer with this id exists.", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Unknown plugin or bad config.", body = Problem, content_type = "application/problem+json"),
    ),
    security(("admin_token" = []))
)]
#[post("/admin/buyers")]
pub async fn create_buyer(
    state: web::Data<AppState>,
    _admin: AdminAuth,
    body: web::Json<CreateBuyer>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let id_ok = (1..=64).contains(&body.id.len())
        && body
            .id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
    if !id_ok {
        return Err(ApiError::BadRequest(format!(
            "buyer id '{}' must be 1-64 of a-z, 0-9, '-' and '_'",
            body.id
        )));
    }
    if body.name.trim().is_empty() {
        return Err(ApiError::BadRequest("name must not be empty".into()));
    }
    let unprocessable = |detail: String| {
        ApiError::Problem(Problem::new(
            "invalid-buyer",
            "The buyer cannot be created",
            actix_web::http::StatusCode::UNPROCESSABLE_ENTITY,
            detail,
        ))
    };
    if state.plugins.get(&body.plugin).is_none() {
        return Err(unprocessable(format!(
            "no plugin named '{}' is installed",
            body.plugin
        )));
    }
    let plugin_config = body.plugin_config.unwrap_or_else(|| serde_json::json!({}));
    if !plugin_config.is_object() {
        return Err(unprocessable("plugin_config must be a JSON object".into()));
    }
    if let Some(limits) = &body.limits {
        serde_json::from_value::<Limits>(limits.clone())
            .map_err(|e| unprocessable(format!("limits: {e}")))?;
    }
    let api_key = secrets::generate("jbk_");
    let buyer = state
        .store
        .create_buyer(NewBuyer {
            id: body.id,
            name: body.name,
            plugin: body.plugin,
            plugin_version: None,
            plugin_config,
            api_key_hash: secrets::hash(&api_key),
            limits: body.limits,
        })
        .await?;
    tracing::info!(buyer_id = %buyer.id, plugin = %buyer.plugin, "buyer created");
    Ok(HttpResponse::Created().json(CreatedBuyer {
        id: buyer.id,
        name: buyer.name,
        plugin: buyer.plugin,
        plugin_config: buyer.plugin_config,
        api_key,
        created_at: buyer.created_at,
    }))
}

/// List installed plugins.
#[utoipa::path(
    tag = "admin",
    responses(
        (status = 200, body = Vec<PluginView>),
        (status = 401, body = Problem, content_type = "application/problem+json"),
    ),
    security(("admin_token" = []))
)]
#[get("/admin/plugins")]
pub async fn list_plugins(
    state: web::Data<AppState>,
    _admin: AdminAuth,
) -> web::Json<Vec<PluginView>> {
    web::Json(
        state
            .plugins
            .list()
            .into_iter()
            .map(|p| PluginView {
                name: p.info.name.clone(),
                version: p.info.version.clone(),
                description: p.info.description.clone(),
                sha256: p.sha256.clone(),
                size_bytes: p.size_bytes,
                content_types: p.info.content_types.clone(),
            })
            .collect(),
    )
}
