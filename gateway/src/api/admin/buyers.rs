//! `/v1/admin/buyers`: create buyers and bind them to a plugin version and config.
//!
//! A buyer is always pinned to one plugin version: creating or rebinding without a
//! version pins the latest one at that moment, so uploading a new version never
//! changes a buyer's behaviour until an admin binds it. Rebinding is one atomic
//! store update, effective for the buyer's next message; the history keeps every
//! earlier binding for rollback.
//!
//! A buyer may have a `callback_url`, where craftsmen's responses to its orders are
//! delivered as signed `order.response` webhooks (issue 10). Its `whsec_` secret is
//! made by the gateway and shown once, when the callback is first set and when the
//! secret is rotated; it is kept as the craftsmen's webhook secrets are (the gateway
//! signs with it, so it cannot be stored as a hash) and never shown again.

use actix_web::{HttpResponse, delete, get, patch, post, put, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{check_id_and_name, check_name, merge_patch, unprocessable, unprocessable_field};
use crate::admission::split_limits;
use crate::api::AppState;
use crate::api::auth::{AdminAuth, UNAUTHORIZED_ADMIN};
use crate::delivery::channels::webhook::new_secret;
use crate::error::{ApiError, Problem};
use crate::model::ChannelTarget;
use crate::plugin_host::{Limits, NormalizeError};
use crate::secrets;
use crate::store::{BindingChange, Buyer, BuyerCallback, BuyerUpdate, NewBuyer, StoreError};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateBuyer {
    /// Lower-case letters, digits, `-` and `_`; 1 to 64 characters.
    pub id: String,
    pub name: String,
    /// Name of an installed plugin (see `GET /v1/admin/plugins`).
    pub plugin: String,
    /// A version of that plugin; the latest installed one if absent.
    #[serde(default)]
    pub plugin_version: Option<String>,
    /// Given to the plugin with every message; a JSON object.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub plugin_config: Option<serde_json::Value>,
    /// Per-buyer plugin limits (`memory_bytes`, `time`, `input_bytes`,
    /// `output_bytes`); each field left out keeps the gateway's default.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub limits: Option<serde_json::Value>,
    /// Where craftsmen's responses to the buyer's orders are delivered, as signed
    /// `order.response` webhooks; the answer shows its `callback_secret` once.
    #[serde(default)]
    pub callback_url: Option<String>,
}

/// A change of a buyer; fields left out stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateBuyer {
    pub name: Option<String>,
    /// Another plugin; its latest version unless `plugin_version` says otherwise.
    pub plugin: Option<String>,
    /// A version of the buyer's (new or current) plugin: the way to roll forward
    /// or back.
    pub plugin_version: Option<String>,
    /// A JSON merge patch (RFC 7396) on the buyer's config: the members named
    /// are set, a member set to `null` is removed, `{}` changes nothing, and
    /// `null` empties the config.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Object>)]
    pub plugin_config: Option<Option<serde_json::Value>>,
    /// A JSON merge patch on the buyer's own limits, like `plugin_config`;
    /// `null` goes back to the gateway's defaults.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Object>)]
    pub limits: Option<Option<serde_json::Value>>,
}

/// Tells a field set to `null` (`Some(None)`) from one left out (`None`).
fn present<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<Option<serde_json::Value>>, D::Error> {
    Option::<serde_json::Value>::deserialize(d).map(Some)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BuyerView {
    pub id: String,
    pub name: String,
    pub plugin: String,
    pub plugin_version: Option<String>,
    #[schema(value_type = Object)]
    pub plugin_config: serde_json::Value,
    #[schema(value_type = Option<Object>)]
    pub limits: Option<serde_json::Value>,
    /// Where craftsmen's responses are delivered; `null` when nowhere.
    pub callback_url: Option<String>,
    pub created_at: DateTime<Utc>,
    /// The buyer's API key. Present only in the answer to its creation: only its
    /// hash is stored.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_key: Option<String>,
    /// The `whsec_` secret `order.response` events are signed with. Present only
    /// when it was just made (a creation with a `callback_url`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub callback_secret: Option<String>,
    /// Every binding the buyer had, newest first (only in `GET`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<Object>>)]
    pub bindings: Option<Vec<BindingChange>>,
}

impl From<Buyer> for BuyerView {
    fn from(b: Buyer) -> Self {
        Self {
            id: b.id,
            name: b.name,
            plugin: b.plugin,
            plugin_version: b.plugin_version,
            plugin_config: b.plugin_config,
            limits: b.limits,
            callback_url: b.callback_url,
            created_at: b.created_at,
            api_key: None,
            callback_secret: None,
            bindings: None,
        }
    }
}

fn invalid(detail: String) -> ApiError {
    unprocessable("invalid-buyer", "The buyer cannot be saved", detail)
}

/// Asks the plugin a buyer is bound to whether it can work with `config`, so a
/// config it cannot use is refused now rather than failing every message later.
async fn plugin_takes_config(
    state: &AppState,
    plugin: &str,
    version: Option<&str>,
    config: &serde_json::Value,
) -> Result<(), ApiError> {
    let found = match version {
        Some(version) => state.plugins.get_version(plugin, version),
        None => state.plugins.get(plugin),
    };
    let Some(plugin) = found else {
        // `resolve_version` has refused a binding to a plugin that is not there.
        return Ok(());
    };
    let host = state.host.clone();
    let config_json = config.to_string();
    let checked = web::block(move || host.check_config(&plugin, &config_json))
        .await
        .map_err(ApiError::internal)?;
    match checked {
        Ok(()) => Ok(()),
        Err(NormalizeError::Rejected {
            message, location, ..
        }) => {
            let key = location.and_then(|l| l.path).unwrap_or_default();
            Err(unprocessable_field(
                "invalid-buyer",
                "The buyer cannot be saved",
                &format!("plugin_config{}", key.replace('/', ".")),
                format!("the plugin refuses this plugin_config: {message}"),
            ))
        }
        Err(other) => Err(invalid(format!(
            "the plugin failed while checking the plugin_config: {other}"
        ))),
    }
}

/// The version a binding pins: the one asked for if installed, else the latest.
fn resolve_version(
    state: &AppState,
    plugin: &str,
    version: Option<&str>,
) -> Result<String, ApiError> {
    let found = match version {
        Some(version) => state.plugins.get_version(plugin, version),
        None => state.plugins.get(plugin),
    };
    found.map(|p| p.info.version.clone()).ok_or_else(|| {
        invalid(match version {
            Some(version) => format!("plugin '{plugin}' has no version '{version}' installed"),
            None => format!("no plugin named '{plugin}' is installed"),
        })
    })
}

/// The config is an object, and the buyer's own limits are ones the gateway knows,
/// each within its range: its plugin's per-call limits ([`Limits::out_of_range`];
/// memory within the host's cap) and its quota
/// ([`crate::admission::Quota::out_of_range`]).
fn check_config_and_limits(
    state: &AppState,
    config: Option<&serde_json::Value>,
    limits: Option<&serde_json::Value>,
) -> Result<(), ApiError> {
    if config.is_some_and(|c| !c.is_object()) {
        return Err(invalid("plugin_config must be a JSON object".into()));
    }
    let Some(limits) = limits else {
        return Ok(());
    };
    let Some(object) = limits.as_object() else {
        return Err(invalid("limits must be a JSON object".into()));
    };
    let (plugin, quota) = split_limits(object);
    let out_of_range = |field: &str, why: String| {
        unprocessable_field(
            "invalid-buyer",
            "The buyer cannot be saved",
            &format!("limits.{field}"),
            format!("limits: {why}"),
        )
    };
    let parsed = serde_json::from_value::<Limits>(serde_json::Value::Object(plugin.clone()))
        .map_err(|e| invalid(format!("limits: {e}")))?;
    let named: Vec<&str> = plugin.keys().map(String::as_str).collect();
    if let Some((field, why)) = parsed.out_of_range(&named, state.host.memory_cap()) {
        return Err(out_of_range(field, why));
    }
    let parsed = state
        .config
        .buyer_quota
        .for_buyer(Some(&serde_json::Value::Object(quota)))
        .map_err(|e| invalid(format!("limits: {e}")))?;
    if let Some((field, why)) = parsed.out_of_range() {
        return Err(out_of_range(field, why));
    }
    Ok(())
}

/// Create a buyer.
///
/// Returns the buyer's API key once; store it, it cannot be shown again.
#[utoipa::path(
    tag = "admin",
    request_body = CreateBuyer,
    responses(
        (status = 201, description = "Created; `api_key` is shown this once.", body = BuyerView),
        (status = 400, description = "A malformed body, an id that is not 1-64 of `a-z`, `0-9`, `-` and `_`, or a blank name or one over 200 characters; `field` names it.", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = UNAUTHORIZED_ADMIN, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "A buyer with this id exists.", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Unknown plugin or version, a config that is not an object or that the plugin refuses (`field` is `plugin_config` or the key the plugin names), limits unknown or out of range (`field` names which), or a `callback_url` the gateway may not send to.", body = Problem, content_type = "application/problem+json"),
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
    check_id_and_name("buyer", &body.id, &body.name)?;
    let version = resolve_version(&state, &body.plugin, body.plugin_version.as_deref())?;
    check_config_and_limits(&state, body.plugin_config.as_ref(), body.limits.as_ref())?;
    if let Some(url) = &body.callback_url {
        check_callback_url(&state, url, "callback_url")?;
    }
    let config = body.plugin_config.unwrap_or_else(|| serde_json::json!({}));
    plugin_takes_config(&state, &body.plugin, Some(&version), &config).await?;
    let api_key = secrets::generate("jbk_");
    let buyer = state
        .store
        .create_buyer(NewBuyer {
            id: body.id,
            name: body.name,
            plugin: body.plugin,
            plugin_version: Some(version),
            plugin_config: config,
            api_key_hash: secrets::hash(&api_key),
            limits: body.limits,
        })
        .await?;
    tracing::info!(buyer_id = %buyer.id, plugin = %buyer.plugin, version = ?buyer.plugin_version, "buyer created");
    // Set after the creation, which is what stores the buyer; a failure here leaves
    // a buyer without a callback, which the admin can set again.
    let (buyer, callback_secret) = match body.callback_url {
        Some(url) => {
            let secret = new_secret();
            let buyer = state
                .store
                .set_buyer_callback(
                    &buyer.id,
                    Some(BuyerCallback {
                        url,
                        secret: Some(secret.clone()),
                    }),
                )
                .await?;
            (buyer, Some(secret))
        }
        None => (buyer, None),
    };
    Ok(HttpResponse::Created().json(BuyerView {
        api_key: Some(api_key),
        callback_secret,
        ..buyer.into()
    }))
}

/// Read a buyer and its binding history.
#[utoipa::path(
    tag = "admin",
    params(("id" = String, Path)),
    responses(
        (status = 200, description = "The buyer, its plugin binding and the history of its bindings.", body = BuyerView),
        (status = 401, description = UNAUTHORIZED_ADMIN, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such buyer.", body = Problem, content_type = "application/problem+json"),
    ),
    security(("admin_token" = []))
)]
#[get("/admin/buyers/{id}")]
pub async fn get_buyer(
    state: web::Data<AppState>,
    _admin: AdminAuth,
    id: web::Path<String>,
) -> Result<web::Json<BuyerView>, ApiError> {
    let buyer = state
        .store
        .get_buyer(&id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no buyer '{id}'")))?;
    let bindings = state.store.buyer_plugin_history(&id).await?;
    Ok(web::Json(BuyerView {
        bindings: Some(bindings),
        ..buyer.into()
    }))
}

/// Change a buyer: rename it, or bind it to another plugin, version or config.
///
/// The binding changes atomically and applies to the buyer's next message, with no
/// restart. Rolling back is binding the earlier version again.
#[utoipa::path(
    tag = "admin",
    params(("id" = String, Path)),
    request_body = UpdateBuyer,
    responses(
        (status = 200, description = "The buyer as changed; a new binding applies from its next message.", body = BuyerView),
        (status = 400, description = "A malformed body, or a blank name or one over 200 characters; `field` names it.", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = UNAUTHORIZED_ADMIN, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such buyer.", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Unknown plugin or version, a config that is not an object or that the plugin refuses (`field` is `plugin_config` or the key the plugin names), or limits unknown or out of range (`field` names which).", body = Problem, content_type = "application/problem+json"),
    ),
    security(("admin_token" = []))
)]
#[patch("/admin/buyers/{id}")]
pub async fn update_buyer(
    state: web::Data<AppState>,
    _admin: AdminAuth,
    id: web::Path<String>,
    body: web::Json<UpdateBuyer>,
) -> Result<web::Json<BuyerView>, ApiError> {
    let body = body.into_inner();
    let current = state
        .store
        .get_buyer(&id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no buyer '{id}'")))?;
    if let Some(name) = &body.name {
        check_name(name)?;
    }
    let plugin_version = if body.plugin.is_some() || body.plugin_version.is_some() {
        let plugin = body.plugin.as_deref().unwrap_or(&current.plugin);
        Some(Some(resolve_version(
            &state,
            plugin,
            body.plugin_version.as_deref(),
        )?))
    } else {
        None
    };
    // PATCH changes only what it names, down to the members of the config.
    let plugin_config = body.plugin_config.map(|patch| {
        let mut config = current.plugin_config.clone();
        match patch {
            Some(patch) => merge_patch(&mut config, &patch),
            None => config = serde_json::json!({}),
        }
        config
    });
    let limits = body.limits.map(|patch| {
        patch.map(|patch| {
            let mut limits = current
                .limits
                .clone()
                .unwrap_or_else(|| serde_json::json!({}));
            merge_patch(&mut limits, &patch);
            limits
        })
    });
    check_config_and_limits(
        &state,
        plugin_config.as_ref(),
        limits.as_ref().and_then(Option::as_ref),
    )?;
    // A new binding or a new config: the plugin it ends up with must take the config.
    if plugin_version.is_some() || plugin_config.is_some() {
        let plugin = body.plugin.as_deref().unwrap_or(&current.plugin);
        let version = match &plugin_version {
            Some(version) => version.as_deref(),
            None => current.plugin_version.as_deref(),
        };
        let config = plugin_config.as_ref().unwrap_or(&current.plugin_config);
        plugin_takes_config(&state, plugin, version, config).await?;
    }
    let buyer = state
        .store
        .update_buyer(
            &id,
            BuyerUpdate {
                name: body.name,
                plugin: body.plugin,
                plugin_version,
                plugin_config,
                limits,
            },
        )
        .await?;
    tracing::info!(buyer_id = %buyer.id, plugin = %buyer.plugin, version = ?buyer.plugin_version, "buyer rebound");
    Ok(web::Json(buyer.into()))
}

/// A buyer's new API key, from [`rotate_buyer_key`].
#[derive(Debug, Serialize, ToSchema)]
pub struct NewApiKey {
    pub buyer_id: String,
    /// The new key, shown this once: only its hash is stored.
    pub api_key: String,
}

/// The 404 for a credential change of a buyer that does not exist.
pub(super) fn no_buyer(id: &str) -> impl FnOnce(StoreError) -> ApiError + '_ {
    move |err| match err {
        StoreError::NotFound => ApiError::NotFound(format!("no buyer '{id}'")),
        other => other.into(),
    }
}

/// Rotate a buyer's API key.
///
/// Makes a new key and puts it in place of the old one at once: the old key is
/// refused from the next request, with no overlap, so hand the buyer the new key
/// before their next post. After a revocation this is how the buyer gets a key back.
#[utoipa::path(
    tag = "admin",
    params(("id" = String, Path)),
    responses(
        (status = 200, description = "The new key, shown this once; the old key is refused from now on.", body = NewApiKey),
        (status = 401, description = UNAUTHORIZED_ADMIN, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such buyer.", body = Problem, content_type = "application/problem+json"),
    ),
    security(("admin_token" = []))
)]
#[post("/admin/buyers/{id}/key")]
pub async fn rotate_buyer_key(
    state: web::Data<AppState>,
    _admin: AdminAuth,
    id: web::Path<String>,
) -> Result<web::Json<NewApiKey>, ApiError> {
    let api_key = secrets::generate("jbk_");
    state
        .store
        .set_buyer_api_key_hash(&id, Some(secrets::hash(&api_key)))
        .await
        .map_err(no_buyer(&id))?;
    tracing::info!(buyer_id = %id, "buyer API key rotated; the old key is refused");
    Ok(web::Json(NewApiKey {
        buyer_id: id.into_inner(),
        api_key,
    }))
}

/// Revoke a buyer's API key.
///
/// From the next request no key is the buyer's: every call with the old key is a
/// 401 until the key is rotated. The buyer's messages, orders and routes stay.
#[utoipa::path(
    tag = "admin",
    params(("id" = String, Path)),
    responses(
        (status = 204, description = "Revoked; the buyer has no key until it is rotated."),
        (status = 401, description = UNAUTHORIZED_ADMIN, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such buyer.", body = Problem, content_type = "application/problem+json"),
    ),
    security(("admin_token" = []))
)]
#[delete("/admin/buyers/{id}/key")]
pub async fn revoke_buyer_key(
    state: web::Data<AppState>,
    _admin: AdminAuth,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    state
        .store
        .set_buyer_api_key_hash(&id, None)
        .await
        .map_err(no_buyer(&id))?;
    tracing::info!(buyer_id = %id, "buyer API key revoked");
    Ok(HttpResponse::NoContent().finish())
}

/// A callback URL is checked as a craftsman's webhook URL is: the same address
/// policy, since the same channel sends to it. `field` names it in the 422.
fn check_callback_url(state: &AppState, url: &str, field: &str) -> Result<(), ApiError> {
    let target = ChannelTarget::Webhook {
        url: url.to_owned(),
        secret: None,
        order_schema: None,
    };
    match state.channels.refuse(&target) {
        None => Ok(()),
        Some(why) => Err(unprocessable_field(
            "invalid-callback",
            "The callback cannot be set",
            field,
            format!("{field}: {why}"),
        )),
    }
}

/// A buyer's callback, from [`put_buyer_callback`] and [`rotate_buyer_callback_secret`].
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CallbackView {
    /// `https://…` (or `http://…`; private addresses only where the operator
    /// allows them, as for craftsmen's webhooks).
    pub url: String,
    /// The `whsec_` signing secret: only in an answer that made it, shown once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

/// Set where a buyer hears of craftsmen's responses.
///
/// Every response to the buyer's orders is delivered there as a Standard Webhooks
/// `order.response` event, through the same outbox, retries and dead letters as
/// orders to craftsmen. Setting the first callback makes its `whsec_` secret, shown
/// in this answer once (201); changing the URL keeps the secret (200). Responses
/// already waiting go to the new URL.
#[utoipa::path(
    tag = "admin",
    params(("id" = String, Path)),
    request_body = CallbackView,
    responses(
        (status = 200, description = "The URL changed; the secret is the one the buyer has.", body = CallbackView),
        (status = 201, description = "The callback is set; `secret` is shown this once.", body = CallbackView),
        (status = 400, description = "A malformed body, or one with a `secret` (the gateway makes it).", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = UNAUTHORIZED_ADMIN, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such buyer.", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A URL the gateway may not send to (`field` is `url`).", body = Problem, content_type = "application/problem+json"),
    ),
    security(("admin_token" = []))
)]
#[put("/admin/buyers/{id}/callback")]
pub async fn put_buyer_callback(
    state: web::Data<AppState>,
    _admin: AdminAuth,
    id: web::Path<String>,
    body: web::Json<CallbackView>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    if body.secret.is_some() {
        return Err(ApiError::BadRequest(
            "the gateway makes the secret; send only the url".into(),
        ));
    }
    check_callback_url(&state, &body.url, "url")?;
    let current = state
        .store
        .get_buyer(&id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no buyer '{id}'")))?;
    let secret = current.callback_url.is_none().then(new_secret);
    state
        .store
        .set_buyer_callback(
            &id,
            Some(BuyerCallback {
                url: body.url.clone(),
                secret: secret.clone(),
            }),
        )
        .await
        .map_err(no_buyer(&id))?;
    tracing::info!(buyer_id = %id, new_secret = secret.is_some(), "buyer callback set");
    let mut answer = match secret {
        Some(_) => HttpResponse::Created(),
        None => HttpResponse::Ok(),
    };
    Ok(answer.json(CallbackView {
        url: body.url,
        secret,
    }))
}

/// Rotate a buyer's callback secret.
///
/// Makes a new `whsec_` secret, shown in this answer once, and signs every event
/// from now on with it, the retries of events already waiting too.
#[utoipa::path(
    tag = "admin",
    params(("id" = String, Path)),
    responses(
        (status = 200, description = "The new secret, shown this once.", body = CallbackView),
        (status = 401, description = UNAUTHORIZED_ADMIN, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such buyer, or it has no callback.", body = Problem, content_type = "application/problem+json"),
    ),
    security(("admin_token" = []))
)]
#[post("/admin/buyers/{id}/callback/secret")]
pub async fn rotate_buyer_callback_secret(
    state: web::Data<AppState>,
    _admin: AdminAuth,
    id: web::Path<String>,
) -> Result<web::Json<CallbackView>, ApiError> {
    let current = state
        .store
        .get_buyer(&id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no buyer '{id}'")))?;
    let url = current
        .callback_url
        .ok_or_else(|| ApiError::NotFound(format!("buyer '{id}' has no callback")))?;
    let secret = new_secret();
    state
        .store
        .set_buyer_callback(
            &id,
            Some(BuyerCallback {
                url: url.clone(),
                secret: Some(secret.clone()),
            }),
        )
        .await
        .map_err(no_buyer(&id))?;
    tracing::info!(buyer_id = %id, "buyer callback secret rotated");
    Ok(web::Json(CallbackView {
        url,
        secret: Some(secret),
    }))
}

/// Remove a buyer's callback.
///
/// Responses are no longer delivered to the buyer; the ones waiting are dead, for an
/// admin to retry once a callback is set again. The buyer still reads every
/// response with `GET /v1/orders/{id}`.
#[utoipa::path(
    tag = "admin",
    params(("id" = String, Path)),
    responses(
        (status = 204, description = "Removed."),
        (status = 401, description = UNAUTHORIZED_ADMIN, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such buyer.", body = Problem, content_type = "application/problem+json"),
    ),
    security(("admin_token" = []))
)]
#[delete("/admin/buyers/{id}/callback")]
pub async fn delete_buyer_callback(
    state: web::Data<AppState>,
    _admin: AdminAuth,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    state
        .store
        .set_buyer_callback(&id, None)
        .await
        .map_err(no_buyer(&id))?;
    tracing::info!(buyer_id = %id, "buyer callback removed");
    Ok(HttpResponse::NoContent().finish())
}
