//! `/v1/admin/buyers/{id}/email`: a buyer's orders by e-mail: its inbound
//! address (a secret, shown when made, rotatable), the senders it accepts and
//! the language its senders are answered in.

use actix_web::{get, post, put, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::bad_field;
use super::buyers::no_buyer;
use crate::api::AppState;
use crate::api::auth::{AdminAuth, UNAUTHORIZED_ADMIN};
use crate::error::{ApiError, Problem};
use crate::mail::address;
use crate::model::Language;
use crate::secrets;
use crate::store::EmailSettings;

/// A buyer's e-mail settings.
#[derive(Debug, Serialize, ToSchema)]
pub struct BuyerEmailView {
    pub buyer_id: String,
    /// Addresses and domains whose mail the buyer accepts; empty accepts any
    /// sender.
    pub senders: Vec<String>,
    /// `id` or `en`: the language of the replies to its senders.
    pub language: Language,
    /// Whether it has an inbound address (`POST …/email/address` makes one).
    pub has_address: bool,
}

impl BuyerEmailView {
    fn new(buyer_id: String, settings: EmailSettings) -> Self {
        Self {
            buyer_id,
            senders: settings.senders,
            language: settings.language,
            has_address: settings.has_address,
        }
    }
}

/// The senders and language to save.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PutBuyerEmail {
    /// Addresses (`budi@mitra.co.id`) and domains (`mitra.co.id`); empty or
    /// absent accepts any sender.
    #[serde(default)]
    pub senders: Vec<String>,
    /// `id` (default) or `en`.
    #[serde(default)]
    pub language: Language,
}

/// A buyer's new inbound address.
#[derive(Debug, Serialize, ToSchema)]
pub struct InboundAddress {
    pub buyer_id: String,
    /// `orders+TOKEN@domain`, shown this once: only the token's hash is stored.
    pub address: String,
}

/// Read a buyer's e-mail settings.
#[utoipa::path(
    tag = "admin",
    params(("id" = String, Path)),
    responses(
        (status = 200, description = "The accepted senders, the reply language and whether an inbound address exists.", body = BuyerEmailView),
        (status = 401, description = UNAUTHORIZED_ADMIN, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such buyer.", body = Problem, content_type = "application/problem+json"),
    ),
    security(("admin_token" = []))
)]
#[get("/admin/buyers/{id}/email")]
pub async fn get_buyer_email(
    state: web::Data<AppState>,
    _admin: AdminAuth,
    id: web::Path<String>,
) -> Result<web::Json<BuyerEmailView>, ApiError> {
    if state.store.get_buyer(&id).await?.is_none() {
        return Err(ApiError::NotFound(format!("no buyer '{id}'")));
    }
    let settings = state.store.email_settings(&id).await?;
    Ok(web::Json(BuyerEmailView::new(id.into_inner(), settings)))
}

/// Set the senders a buyer accepts and the language they are answered in.
///
/// Mail from any other sender is stored refused (`sender-not-allowed`), never
/// normalized and never answered.
#[utoipa::path(
    tag = "admin",
    params(("id" = String, Path)),
    request_body = PutBuyerEmail,
    responses(
        (status = 200, description = "Saved.", body = BuyerEmailView),
        (status = 400, description = "A sender that is neither an address nor a domain; `field` names it.", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = UNAUTHORIZED_ADMIN, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such buyer.", body = Problem, content_type = "application/problem+json"),
    ),
    security(("admin_token" = []))
)]
#[put("/admin/buyers/{id}/email")]
pub async fn put_buyer_email(
    state: web::Data<AppState>,
    _admin: AdminAuth,
    id: web::Path<String>,
    body: web::Json<PutBuyerEmail>,
) -> Result<web::Json<BuyerEmailView>, ApiError> {
    let body = body.into_inner();
    let mut senders = Vec::with_capacity(body.senders.len());
    for (index, sender) in body.senders.iter().enumerate() {
        let rule = address::sender_rule(sender).ok_or_else(|| {
            bad_field(
                &format!("senders[{index}]"),
                format!("'{sender}' is neither an e-mail address nor a domain"),
            )
        })?;
        senders.push(rule);
    }
    let settings = state
        .store
        .put_email_settings(&id, senders, body.language)
        .await
        .map_err(no_buyer(&id))?;
    Ok(web::Json(BuyerEmailView::new(id.into_inner(), settings)))
}

/// Make a buyer's inbound address.
///
/// A new address `orders+TOKEN@domain` in place of the old one, which is refused
/// from now on (`550` at `RCPT`). Shown this once: only the token's hash is kept.
#[utoipa::path(
    tag = "admin",
    params(("id" = String, Path)),
    responses(
        (status = 200, description = "The new address, shown this once.", body = InboundAddress),
        (status = 401, description = UNAUTHORIZED_ADMIN, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such buyer.", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The gateway takes no e-mail: `[inbound_email] domain` is not set.", body = Problem, content_type = "application/problem+json"),
    ),
    security(("admin_token" = []))
)]
#[post("/admin/buyers/{id}/email/address")]
pub async fn rotate_inbound_address(
    state: web::Data<AppState>,
    _admin: AdminAuth,
    id: web::Path<String>,
) -> Result<web::Json<InboundAddress>, ApiError> {
    let config = &state.config.inbound_email;
    let Some(domain) = &config.domain else {
        return Err(ApiError::Conflict(
            "this gateway takes no e-mail: set [inbound_email] domain \
             (JEMBATAN_INBOUND_EMAIL_DOMAIN) first"
                .into(),
        ));
    };
    let token = address::new_token();
    state
        .store
        .set_inbound_address_hash(&id, secrets::hash(&token))
        .await
        .map_err(no_buyer(&id))?;
    tracing::info!(buyer_id = %id, "buyer inbound address made; the old one is refused");
    Ok(web::Json(InboundAddress {
        buyer_id: id.into_inner(),
        address: address::inbound_address(&config.local_part, &token, domain),
    }))
}
