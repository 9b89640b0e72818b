//! `/v1/admin/craftsmen`: the craftsmen orders are delivered to, each with the
//! channels they chose. Every craftsman also has the inbox, whatever else they chose.

use actix_web::{HttpResponse, delete, get, patch, post, put, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{check_id_and_name, unprocessable_field};
use crate::api::AppState;
use crate::api::auth::{AdminAuth, UNAUTHORIZED_ADMIN};
use crate::delivery::channels::{ChannelTarget, Language, webhook};
use crate::error::{ApiError, Problem};
use crate::orders::OrderSchema;
use crate::secrets;
use crate::store::{Channel, Craftsman, NewChannel, NewCraftsman, StoreError};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateCraftsman {
    /// Lower-case letters, digits, `-` and `_`; 1 to 64 characters.
    pub id: String,
    pub name: String,
    /// `id` (Bahasa Indonesia, the default) or `en`: the language of what they receive.
    #[serde(default)]
    pub language: Language,
    /// Where orders go besides the inbox: `{"type":"webhook","url":…}` (a `secret`
    /// is made when not given), `{"type":"email","to":…}`,
    /// `{"type":"whatsapp","to":…}`, `{"type":"telegram","chat_id":…}`.
    #[serde(default)]
    pub channels: Vec<ChannelTarget>,
}

/// One of a craftsman's channels. A webhook's secret is shown only when the
/// craftsman is created.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChannelView {
    pub id: String,
    #[serde(flatten)]
    pub target: ChannelTarget,
    pub enabled: bool,
    pub disabled_at: Option<DateTime<Utc>>,
    pub disabled_reason: Option<String>,
}

impl ChannelView {
    fn new(channel: Channel, show_secret: bool) -> Self {
        let mut target = channel.target;
        if let ChannelTarget::Webhook { secret, .. } = &mut target
            && !show_secret
        {
            *secret = None;
        }
        Self {
            id: channel.id,
            target,
            enabled: channel.disabled_at.is_none(),
            disabled_at: channel.disabled_at,
            disabled_reason: channel.disabled_reason,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CraftsmanView {
    pub id: String,
    pub name: String,
    pub language: Language,
    pub channels: Vec<ChannelView>,
    pub created_at: DateTime<Utc>,
    /// The craftsman's inbox token. Present only in the answer to its creation:
    /// only its hash is stored.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

impl CraftsmanView {
    fn new(craftsman: Craftsman, token: Option<String>) -> Self {
        let show_secrets = token.is_some();
        Self {
            id: craftsman.id,
            name: craftsman.name,
            language: craftsman.language,
            channels: craftsman
                .channels
                .into_iter()
                .map(|c| ChannelView::new(c, show_secrets))
                .collect(),
            created_at: craftsman.created_at,
            token,
        }
    }
}

/// Create a craftsman.
///
/// Returns the craftsman's inbox token, and each webhook's signing secret, once;
/// store them, they cannot be shown again.
#[utoipa::path(
    tag = "admin",
    request_body = CreateCraftsman,
    responses(
        (status = 201, description = "Created; `token` and each webhook's `secret` are shown this once.", body = CraftsmanView),
        (status = 400, description = "A malformed body, an id that is not 1-64 of `a-z`, `0-9`, `-` and `_`, or a blank name or one over 200 characters; `field` names it.", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = UNAUTHORIZED_ADMIN, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "A craftsman with this id exists.", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A channel this gateway cannot deliver to.", body = Problem, content_type = "application/problem+json"),
    ),
    security(("admin_token" = []))
)]
#[post("/admin/craftsmen")]
pub async fn create_craftsman(
    state: web::Data<AppState>,
    _admin: AdminAuth,
    body: web::Json<CreateCraftsman>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    check_id_and_name("craftsman", &body.id, &body.name)?;
    let mut channels = Vec::with_capacity(body.channels.len());
    for (i, mut target) in body.channels.into_iter().enumerate() {
        if let Some(why) = state.channels.refuse(&target) {
            let field = match &target {
                ChannelTarget::Whatsapp { .. } | ChannelTarget::Email { .. } => {
                    format!("channels/{i}/to")
                }
                _ => format!("channels/{i}"),
            };
            return Err(unprocessable_field(
                "invalid-channel",
                "The channel cannot be used",
                &field,
                format!("{field} ({}): {why}", target.kind()),
            ));
        }
        state.channels.normalize(&mut target);
        if let ChannelTarget::Webhook {
            secret,
            order_schema,
            ..
        } = &mut target
        {
            secret.get_or_insert_with(webhook::new_secret);
            order_schema.get_or_insert(OrderSchema::V2);
        }
        channels.push(NewChannel {
            id: secrets::new_id("chn"),
            target,
        });
    }
    let token = secrets::generate("jbc_");
    let craftsman = state
        .store
        .create_craftsman(NewCraftsman {
            id: body.id,
            name: body.name,
            language: body.language,
            token_hash: secrets::hash(&token),
            channels,
        })
        .await?;
    let kinds: Vec<_> = craftsman.channels.iter().map(|c| c.target.kind()).collect();
    tracing::info!(craftsman_id = %craftsman.id, channels = ?kinds, "craftsman created");
    Ok(HttpResponse::Created().json(CraftsmanView::new(craftsman, Some(token))))
}

/// List craftsmen.
#[utoipa::path(
    tag = "admin",
    responses(
        (status = 200, description = "Every craftsman with their channels (no tokens, no secrets).", body = Vec<CraftsmanView>),
        (status = 401, description = UNAUTHORIZED_ADMIN, body = Problem, content_type = "application/problem+json"),
    ),
    security(("admin_token" = []))
)]
#[get("/admin/craftsmen")]
pub async fn list_craftsmen(
    state: web::Data<AppState>,
    _admin: AdminAuth,
) -> Result<web::Json<Vec<CraftsmanView>>, ApiError> {
    let craftsmen = state.store.list_craftsmen().await?;
    Ok(web::Json(
        craftsmen
            .into_iter()
            .map(|c| CraftsmanView::new(c, None))
            .collect(),
    ))
}

/// Read a craftsman and their channels.
#[utoipa::path(
    tag = "admin",
    params(("id" = String, Path)),
    responses(
        (status = 200, description = "The craftsman and their channels (enabled or not, and why).", body = CraftsmanView),
        (status = 401, description = UNAUTHORIZED_ADMIN, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such craftsman.", body = Problem, content_type = "application/problem+json"),
    ),
    security(("admin_token" = []))
)]
#[get("/admin/craftsmen/{id}")]
pub async fn get_craftsman(
    state: web::Data<AppState>,
    _admin: AdminAuth,
    id: web::Path<String>,
) -> Result<web::Json<CraftsmanView>, ApiError> {
    let craftsman = state
        .store
        .get_craftsman(&id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no craftsman '{id}'")))?;
    Ok(web::Json(CraftsmanView::new(craftsman, None)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateChannel {
    /// `true` enables a channel (e.g. after a webhook answered 410 Gone);
    /// `false` stops deliveries to it. Dead deliveries are not resent by this:
    /// retry them (`POST /v1/admin/deliveries/{id}/retry`).
    pub enabled: bool,
}

/// Enable or disable one of a craftsman's channels.
#[utoipa::path(
    tag = "admin",
    params(("id" = String, Path), ("channel_id" = String, Path)),
    request_body = UpdateChannel,
    responses(
        (status = 200, description = "The channel as changed.", body = ChannelView),
        (status = 400, description = "A malformed body.", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = UNAUTHORIZED_ADMIN, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such craftsman, or no such channel of theirs.", body = Problem, content_type = "application/problem+json"),
    ),
    security(("admin_token" = []))
)]
#[patch("/admin/craftsmen/{id}/channels/{channel_id}")]
pub async fn update_channel(
    state: web::Data<AppState>,
    _admin: AdminAuth,
    path: web::Path<(String, String)>,
    body: web::Json<UpdateChannel>,
) -> Result<web::Json<ChannelView>, ApiError> {
    let (craftsman_id, channel_id) = path.into_inner();
    let channel = state
        .store
        .set_channel_enabled(&craftsman_id, &channel_id, body.enabled)
        .await
        .map_err(|e| match e {
            crate::store::StoreError::NotFound => ApiError::NotFound(format!(
                "craftsman '{craftsman_id}' has no channel '{channel_id}'"
            )),
            other => other.into(),
        })?;
    tracing::info!(%craftsman_id, %channel_id, enabled = body.enabled, "channel changed");
    Ok(web::Json(ChannelView::new(channel, false)))
}

/// A craftsman's new token, from [`rotate_craftsman_token`].
#[derive(Debug, Serialize, ToSchema)]
pub struct NewToken {
    pub craftsman_id: String,
    /// The new token, shown this once: only its hash is stored.
    pub token: String,
    /// How many inbox page sessions the old token had opened, now ended.
    pub sessions_ended: u64,
}

/// The 404 for a credential change of a craftsman who does not exist.
fn no_craftsman(id: &str) -> impl FnOnce(StoreError) -> ApiError + '_ {
    move |err| match err {
        StoreError::NotFound => ApiError::NotFound(format!("no craftsman '{id}'")),
        other => other.into(),
    }
}

/// Rotate a craftsman's token.
///
/// Makes a new token and puts it in place of the old one at once: the old token is
/// refused from the next request, and every inbox page session it opened ends, so
/// a phone that was signed in must sign in again with the new token.
#[utoipa::path(
    tag = "admin",
    params(("id" = String, Path)),
    responses(
        (status = 200, description = "The new token, shown this once; the old token and its inbox sessions are refused from now on.", body = NewToken),
        (status = 401, description = UNAUTHORIZED_ADMIN, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such craftsman.", body = Problem, content_type = "application/problem+json"),
    ),
    security(("admin_token" = []))
)]
#[post("/admin/craftsmen/{id}/token")]
pub async fn rotate_craftsman_token(
    state: web::Data<AppState>,
    _admin: AdminAuth,
    id: web::Path<String>,
) -> Result<web::Json<NewToken>, ApiError> {
    let token = secrets::generate("jbc_");
    let sessions_ended = state
        .store
        .set_craftsman_token_hash(&id, Some(secrets::hash(&token)))
        .await
        .map_err(no_craftsman(&id))?;
    tracing::info!(craftsman_id = %id, sessions_ended, "craftsman token rotated; the old token is refused");
    Ok(web::Json(NewToken {
        craftsman_id: id.into_inner(),
        token,
        sessions_ended,
    }))
}

/// Revoke a craftsman's token.
///
/// From the next request no token is the craftsman's and every inbox page session
/// of theirs has ended: the inbox is closed to them until the token is rotated.
/// Deliveries to their other channels go on.
#[utoipa::path(
    tag = "admin",
    params(("id" = String, Path)),
    responses(
        (status = 204, description = "Revoked, and their inbox sessions ended; no token is theirs until it is rotated."),
        (status = 401, description = UNAUTHORIZED_ADMIN, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such craftsman.", body = Problem, content_type = "application/problem+json"),
    ),
    security(("admin_token" = []))
)]
#[delete("/admin/craftsmen/{id}/token")]
pub async fn revoke_craftsman_token(
    state: web::Data<AppState>,
    _admin: AdminAuth,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let sessions_ended = state
        .store
        .set_craftsman_token_hash(&id, None)
        .await
        .map_err(no_craftsman(&id))?;
    tracing::info!(craftsman_id = %id, sessions_ended, "craftsman token revoked");
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WhatsAppOptIn {
    /// `true` records that the craftsman agreed to receive orders from the business
    /// number on WhatsApp; `false` withdraws it.
    pub opted_in: bool,
    /// How and when they agreed (e.g. "signed supplier form, 2026-11-30"), kept as
    /// the record Meta may ask for. Required with `opted_in: true`.
    #[serde(default)]
    pub source: Option<String>,
}

/// Record or withdraw a WhatsApp channel's opt-in.
///
/// Meta requires a user's opt-in before a business messages them first; outside
/// the craftsman's 24-hour service window (opened when they write to the business
/// number) the gateway sends an order as a template only to a number whose opt-in
/// is recorded here, and kills the delivery otherwise.
#[utoipa::path(
    tag = "admin",
    params(("id" = String, Path), ("channel_id" = String, Path)),
    request_body = WhatsAppOptIn,
    responses(
        (status = 200, description = "What is known of the channel's number now.", body = crate::store::WhatsAppContact),
        (status = 400, description = "A malformed body, or `opted_in: true` without a `source`; `field` names it.", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = UNAUTHORIZED_ADMIN, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such craftsman, or no such channel of theirs.", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The channel is not a WhatsApp channel.", body = Problem, content_type = "application/problem+json"),
    ),
    security(("admin_token" = []))
)]
#[put("/admin/craftsmen/{id}/channels/{channel_id}/whatsapp-opt-in")]
pub async fn put_whatsapp_opt_in(
    state: web::Data<AppState>,
    _admin: AdminAuth,
    path: web::Path<(String, String)>,
    body: web::Json<WhatsAppOptIn>,
) -> Result<web::Json<crate::store::WhatsAppContact>, ApiError> {
    let (craftsman_id, channel_id) = path.into_inner();
    let body = body.into_inner();
    let source = match (body.opted_in, body.source.map(|s| s.trim().to_owned())) {
        (true, Some(source)) if !source.is_empty() => {
            if source.chars().count() > 500 {
                return Err(super::bad_field(
                    "source",
                    "`source` is over 500 characters".into(),
                ));
            }
            Some(source)
        }
        (true, _) => {
            return Err(super::bad_field(
                "source",
                "say how the craftsman agreed (`source`), as the record of their opt-in".into(),
            ));
        }
        (false, _) => None,
    };
    let craftsman = state
        .store
        .get_craftsman(&craftsman_id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no craftsman '{craftsman_id}'")))?;
    let channel = craftsman
        .channels
        .iter()
        .find(|c| c.id == channel_id)
        .ok_or_else(|| {
            ApiError::NotFound(format!(
                "craftsman '{craftsman_id}' has no channel '{channel_id}'"
            ))
        })?;
    let ChannelTarget::Whatsapp { to } = &channel.target else {
        return Err(ApiError::Conflict(format!(
            "channel '{channel_id}' is a {} channel; opt-in is WhatsApp's",
            channel.target.kind()
        )));
    };
    let wa_id = crate::delivery::channels::whatsapp::normalize_number(to).map_err(|why| {
        ApiError::Conflict(format!(
            "channel '{channel_id}' has no usable number: {why}"
        ))
    })?;
    let contact = state.store.set_whatsapp_opt_in(&wa_id, source).await?;
    tracing::info!(%craftsman_id, %channel_id, opted_in = body.opted_in, "WhatsApp opt-in changed");
    Ok(web::Json(contact))
}
