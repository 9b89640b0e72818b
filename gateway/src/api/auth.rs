//! Who is calling: extractors for the four kinds of caller.
//!
//! Buyers present their API key, craftsmen their token, admins the admin token and
//! the operator's mail provider the inbound e-mail token, all as
//! `Authorization: Bearer …` (the inbox page keeps a craftsman's token in a
//! cookie instead, see `inbox_page`). A missing or wrong credential is a 401 before
//! any work is done; secrets are compared by hash and never logged. Each kind of
//! credential opens only its own doors: a buyer's key is no craftsman's token.

use actix_web::dev::Payload;
use actix_web::http::header::AUTHORIZATION;
use actix_web::{FromRequest, HttpRequest, web};
use futures_util::future::LocalBoxFuture;

use super::AppState;
use crate::error::ApiError;
use crate::secrets;
use crate::store::{Buyer, Craftsman};

/// What a 401 means, per kind of caller, for the OpenAPI document of every
/// endpoint behind each extractor below.
pub const UNAUTHORIZED_BUYER: &str = "No API key, or not a buyer's.";
pub const UNAUTHORIZED_CRAFTSMAN: &str = "No craftsman token, or not a craftsman's.";
pub const UNAUTHORIZED_ADMIN: &str = "No admin token, or the wrong one; also every call when the admin API is off (no `JEMBATAN_ADMIN_TOKEN`).";

/// The admin token in force: the config's at start, replaced when SIGHUP reloads
/// the config ([`reload_on_hangup`]), so a leaked token is rotated without a restart.
#[derive(Debug, Default)]
pub struct AdminToken(std::sync::RwLock<Option<String>>);

impl AdminToken {
    pub fn new(token: Option<String>) -> Self {
        Self(std::sync::RwLock::new(token))
    }

    fn get(&self) -> Option<String> {
        self.0.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn set(&self, token: String) {
        *self.0.write().unwrap_or_else(|e| e.into_inner()) = Some(token);
    }
}

/// Waits for SIGHUP and then reads the config again (see `Config::reload`),
/// putting its admin token in force for the next request; other settings need a
/// restart. The handler is installed before this returns, so a SIGHUP sent once
/// the gateway says it listens never takes the default action (ending the process).
/// A config that cannot be read, or has no admin token, changes nothing: a typo
/// must not lock the operator out.
#[cfg(unix)]
pub fn reload_on_hangup(state: web::Data<AppState>) -> std::io::Result<impl Future<Output = ()>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut hangups = signal(SignalKind::hangup())?;
    Ok(async move {
        while hangups.recv().await.is_some() {
            match state.config.reload() {
                Ok(fresh) => match fresh.admin_token.clone() {
                    Some(token) => {
                        if let Some(why) = fresh.weak_admin_token() {
                            tracing::warn!("the reloaded admin token is weak: {why}");
                        }
                        state.admin_token.set(token);
                        tracing::info!(
                            "SIGHUP: config read again; the admin token in it is in force"
                        );
                    }
                    None => tracing::warn!(
                        "SIGHUP: the config has no admin token; the current one stays in force"
                    ),
                },
                Err(err) => {
                    tracing::error!(error = %err, "SIGHUP: the config cannot be read; nothing changed")
                }
            }
        }
    })
}

/// A request authenticated with a buyer's API key.
pub struct BuyerAuth(pub Buyer);

/// A request authenticated with the admin token.
pub struct AdminAuth;

/// A request authenticated with a craftsman's token.
pub struct CraftsmanAuth(pub Craftsman);

/// A request authenticated with the inbound e-mail token
/// (`[inbound_email] http_token`): the operator's mail provider forwarding mail.
pub struct InboundEmailAuth;

/// The craftsman a token belongs to, if any.
pub(super) async fn craftsman_by_token(
    state: &AppState,
    token: &str,
) -> Result<Option<Craftsman>, ApiError> {
    Ok(state
        .store
        .craftsman_by_token_hash(&secrets::hash(token))
        .await?)
}

pub(super) fn bearer(req: &HttpRequest) -> Option<String> {
    let value = req.headers().get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then(|| token.to_owned())
}

pub(super) fn state(req: &HttpRequest) -> web::Data<AppState> {
    req.app_data::<web::Data<AppState>>()
        .expect("AppState is registered on the app")
        .clone()
}

/// What the buyer and craftsman extractors share: the bearer credential (a 401
/// saying how to send it when there is none), then `find` by the credential's hash
/// (a 401 when it is nobody's).
fn by_bearer_hash<T, Found>(
    req: &HttpRequest,
    how_to_send: &'static str,
    not_valid: &'static str,
    find: impl FnOnce(web::Data<AppState>, String) -> Found + 'static,
) -> LocalBoxFuture<'static, Result<T, ApiError>>
where
    Found: Future<Output = Result<Option<T>, ApiError>> + 'static,
{
    let state = state(req);
    let token = bearer(req);
    Box::pin(async move {
        let token = token.ok_or_else(|| ApiError::Unauthorized(how_to_send.into()))?;
        find(state, secrets::hash(&token))
            .await?
            .ok_or_else(|| ApiError::Unauthorized(not_valid.into()))
    })
}

impl FromRequest for BuyerAuth {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        by_bearer_hash(
            req,
            "send your API key as 'Authorization: Bearer <key>'",
            "the API key is not valid",
            |state, hash| async move {
                Ok(state
                    .store
                    .buyer_by_api_key_hash(&hash)
                    .await?
                    .map(BuyerAuth))
            },
        )
    }
}

impl FromRequest for AdminAuth {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = state(req);
        let result = match (state.admin_token.get(), bearer(req)) {
            (None, _) => Err(ApiError::Unauthorized(
                "the admin API is disabled: no admin token is configured (JEMBATAN_ADMIN_TOKEN)"
                    .into(),
            )),
            (Some(_), None) => Err(ApiError::Unauthorized(
                "send the admin token as 'Authorization: Bearer <token>'".into(),
            )),
            (Some(expected), Some(presented)) if secrets::matches(&presented, &expected) => {
                Ok(AdminAuth)
            }
            (Some(_), Some(_)) => Err(ApiError::Unauthorized(
                "the admin token is not valid".into(),
            )),
        };
        std::future::ready(result)
    }
}

impl FromRequest for CraftsmanAuth {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        by_bearer_hash(
            req,
            "send your craftsman token as 'Authorization: Bearer <token>'",
            "the craftsman token is not valid",
            |state, hash| async move {
                Ok(state
                    .store
                    .craftsman_by_token_hash(&hash)
                    .await?
                    .map(CraftsmanAuth))
            },
        )
    }
}

impl FromRequest for InboundEmailAuth {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = state(req);
        let result = match (&state.config.inbound_email.http_token, bearer(req)) {
            (None, _) => Err(ApiError::Unauthorized(
                "inbound e-mail over HTTP is disabled: no token is configured \
                 (JEMBATAN_INBOUND_EMAIL_TOKEN)"
                    .into(),
            )),
            (Some(expected), Some(presented)) if secrets::matches(&presented, expected) => {
                Ok(InboundEmailAuth)
            }
            (Some(_), _) => Err(ApiError::Unauthorized(
                "send the inbound e-mail token as 'Authorization: Bearer <token>'".into(),
            )),
        };
        std::future::ready(result)
    }
}
