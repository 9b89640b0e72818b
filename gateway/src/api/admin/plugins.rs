//! `/v1/admin/plugins`: the installed plugin versions, and uploading new ones.
//!
//! An upload is compiled and checked against the plugin world before anything is
//! stored, so a broken or non-conforming component is refused with a 422. It is
//! stored by sha256 (the store keeps the bytes, so it survives restarts) and
//! registered beside the other versions; no buyer uses it until bound to it.

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use serde::Serialize;
use utoipa::ToSchema;

use super::unprocessable;
use crate::api::AppState;
use crate::api::auth::{AdminAuth, UNAUTHORIZED_ADMIN};
use crate::api::read_body;
use crate::error::{ApiError, Problem};
use crate::plugin_host::LoadedPlugin;
use crate::store::{NewPluginArtifact, StoreError};

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
    /// The version of the plugin contract it was built against, the WIT package
    /// `jembatan:plugin@…`: `0.3.0` (an e-mail's date and HTML too), `0.2.0`
    /// (one outcome per transaction) or `0.1.0` (the
    /// first, still run: its orders are one accepted transaction each).
    #[schema(example = "0.4.0")]
    pub wit: &'static str,
}

impl From<&LoadedPlugin> for PluginView {
    fn from(p: &LoadedPlugin) -> Self {
        Self {
            name: p.info.name.clone(),
            version: p.info.version.clone(),
            description: p.info.description.clone(),
            sha256: p.sha256.clone(),
            size_bytes: p.size_bytes,
            content_types: p.info.content_types.clone(),
            wit: p.wit_version(),
        }
    }
}

/// List installed plugins: every version, by name.
#[utoipa::path(
    tag = "admin",
    responses(
        (status = 200, description = "Every installed plugin version: name, version, sha256 and content types.", body = Vec<PluginView>),
        (status = 401, description = UNAUTHORIZED_ADMIN, body = Problem, content_type = "application/problem+json"),
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
            .iter()
            .map(|p| PluginView::from(p.as_ref()))
            .collect(),
    )
}

/// Upload a plugin component (`application/wasm`).
///
/// Its name and version come from the component's own `info()`. The same bytes
/// again answer 200; another component under an existing name and version is a 409.
#[utoipa::path(
    tag = "admin",
    request_body(content = Vec<u8>, content_type = "application/wasm"),
    responses(
        (status = 201, description = "Checked, stored and installed.", body = PluginView),
        (status = 200, description = "These exact bytes were already installed.", body = PluginView),
        (status = 401, description = UNAUTHORIZED_ADMIN, body = Problem, content_type = "application/problem+json"),
        (status = 408, description = "The body did not arrive in full within `JEMBATAN_BODY_TIMEOUT_MS`; the connection is closed.", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Another component has this name and version.", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The component is over `JEMBATAN_MAX_PLUGIN_BYTES`.", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not a component, or not a jembatan plugin.", body = Problem, content_type = "application/problem+json"),
    ),
    security(("admin_token" = []))
)]
#[post("/admin/plugins")]
pub async fn upload_plugin(
    state: web::Data<AppState>,
    _admin: AdminAuth,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let wasm = read_body(&req, payload, state.config.max_plugin_bytes).await?;
    let sha256 = crate::secrets::hash_bytes(&wasm);
    if let Some(existing) = state.plugins.get_by_sha(&sha256) {
        return Ok(HttpResponse::Ok().json(PluginView::from(existing.as_ref())));
    }
    // Compiling takes a while: off the async workers.
    let host = state.host.clone();
    let checked = web::block(move || host.load(&wasm).map(|plugin| (plugin, wasm)))
        .await
        .map_err(ApiError::internal)?;
    let (plugin, wasm) = checked.map_err(|e| {
        unprocessable(
            e.code(),
            "The component is not a usable plugin",
            format!("the upload was refused: {e}"),
        )
    })?;
    if state
        .plugins
        .get_version(&plugin.info.name, &plugin.info.version)
        .is_some()
    {
        // The same name and version with other bytes (stock, stored or from a
        // plugin directory): versions are immutable.
        return Err(ApiError::Conflict(format!(
            "plugin '{}' version '{}' is already installed with other bytes",
            plugin.info.name, plugin.info.version
        )));
    }
    state
        .store
        .insert_plugin(NewPluginArtifact {
            sha256,
            name: plugin.info.name.clone(),
            version: plugin.info.version.clone(),
            description: plugin.info.description.clone(),
            content_types: plugin.info.content_types.clone(),
            wasm,
        })
        .await
        .map_err(|e| match e {
            StoreError::Conflict(_) => ApiError::Conflict(format!(
                "plugin '{}' version '{}' exists with other bytes; give the new one another version",
                plugin.info.name, plugin.info.version
            )),
            other => other.into(),
        })?;
    state.plugins.register(plugin.clone());
    tracing::info!(plugin = %plugin.info.name, version = %plugin.info.version, sha256 = %plugin.sha256, "plugin uploaded");
    Ok(HttpResponse::Created().json(PluginView::from(plugin.as_ref())))
}
