//! `/v1/inbound/email`: order mail that the operator's mail provider received
//! and forwards over HTTP, raw (RFC 5322), for operators who do not run the
//! SMTP listener. The same door as SMTP (`mail::MailDoor`): stored before it is
//! answered, the buyer found by its inbound address, the sender checked, one
//! reply to the sender.

use actix_web::{HttpRequest, HttpResponse, post, web};
use serde::Deserialize;
use utoipa::IntoParams;

use super::auth::InboundEmailAuth;
use super::orders::outcome_response;
use super::{AppState, read_body};
use crate::error::{ApiError, Problem};
use crate::ingest::Accepted;
use crate::ingest::email;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct InboundParams {
    /// The envelope recipient, a buyer's inbound address, when the provider
    /// gives it; without it, the first inbound address among the message's
    /// `Delivered-To`, `X-Original-To`, `To` and `Cc`.
    to: Option<String>,
}

/// Take in an order e-mail.
///
/// The body is the whole raw message (RFC 5322), as the mail provider received
/// it. It is stored before it is answered; the buyer is the one whose inbound
/// address it was sent to. A sender the buyer does not accept is stored refused
/// (`sender-not-allowed`), never normalized and never answered. Where the
/// operator requires DKIM or DMARC, the gateway verifies the signatures itself
/// (DMARC by DKIM alignment: SPF needs the client's address, which only the mail
/// provider knew) and trusts no `Authentication-Results` in the message; a mail
/// that fails is stored refused (`authentication-failed`) the same way. The
/// answers are those of `POST /v1/orders`.
#[utoipa::path(
    tag = "orders",
    params(InboundParams),
    request_body(content = Vec<u8>, content_type = "message/rfc822", description = "The raw e-mail."),
    responses(
        (status = 201, description = "Stored; at least one order was made of it.", body = Accepted),
        (status = 400, description = "An empty body, or one that is not an e-mail.", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or a wrong inbound e-mail token (`JEMBATAN_INBOUND_EMAIL_TOKEN`).", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No buyer has the recipient address (or the gateway takes no e-mail).", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Over `[inbound_email] max_message_bytes`.", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The buyer's plugin does not read e-mail.", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Stored, and no order could be made of it, or its sender is not accepted (`sender-not-allowed`), or it failed the DKIM or DMARC check the operator requires (`authentication-failed`); carries `message_id`.", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "The buyer is over its rate or storage limit.", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The gateway cannot store messages now, or DNS did not answer the DKIM or DMARC check (nothing was stored; post it again later).", body = Problem, content_type = "application/problem+json"),
    ),
    security(("inbound_email_token" = []))
)]
#[post("/inbound/email")]
pub async fn post_inbound_email(
    state: web::Data<AppState>,
    _provider: InboundEmailAuth,
    req: HttpRequest,
    params: web::Query<InboundParams>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let config = &state.config.inbound_email;
    let raw = read_body(&req, payload, config.max_message_bytes).await?;
    if raw.is_empty() {
        return Err(ApiError::BadRequest("the request body is empty".into()));
    }
    let parsed = email::parse(&raw).map_err(|e| ApiError::BadRequest(e.to_string()))?;
    let buyer = match &params.to {
        Some(to) => state.mail.recipient(to).await?,
        None => state.mail.recipient_among(&parsed.recipients).await?,
    };
    let verdict = state.mail.authenticate(&raw, &parsed, None).await?;
    let outcome = state
        .mail
        .receive_parsed(&buyer, parsed, raw, verdict.as_ref())
        .await?;
    outcome_response(outcome)
}
