//! The HTTP API. One resource per file; each handler's doc comment is its OpenAPI
//! text, and the OpenAPI document is collected from the very services that are
//! mounted, so the two cannot drift.

mod admin;
mod auth;
pub use auth::AdminToken;
#[cfg(unix)]
pub use auth::reload_on_hangup;
mod body;
mod fallback;
mod health;
mod inbound_email;
mod inbox;
mod inbox_page;
mod messages;
mod orders;
mod telegram;
mod whatsapp;

use std::sync::Arc;

use actix_web::body::{BoxBody, EitherBody, MessageBody};
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use futures_util::StreamExt;

use crate::error::ApiError;
use actix_web::middleware::{ErrorHandlerResponse, ErrorHandlers};
use actix_web::{App, HttpRequest, HttpResponse, error, get, web};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{InfoBuilder, OpenApi};
use utoipa_actix_web::{AppExt, scope};

use crate::admission::Admission;
use crate::config::Config;
use crate::delivery::{Bell, Channels};
use crate::error::{Problem, problem_response};
use crate::ingest::Ingest;
use crate::mail::MailDoor;
use crate::metrics::Metrics;
use crate::plugin_host::{PluginHost, PluginRegistry};
use crate::store::Store;

/// What every handler can reach.
pub struct AppState {
    pub config: Arc<Config>,
    pub store: Arc<dyn Store>,
    pub ingest: Arc<Ingest>,
    pub plugins: Arc<PluginRegistry>,
    pub host: Arc<PluginHost>,
    /// The channels deliveries go out on; the admin API checks new targets with it.
    pub channels: Arc<Channels>,
    /// Records channel pauses and sends the admin's alerts about them.
    pub alerts: Arc<crate::delivery::Alerts>,
    /// Wakes the delivery worker when something becomes due.
    pub bell: Arc<Bell>,
    /// Takes craftsmen's answers to orders.
    pub responses: Arc<crate::responses::Responses>,
    /// Takes craftsmen's taps and texts in WhatsApp and Telegram.
    pub chat_answers: Arc<crate::chat_answers::ChatAnswers>,
    pub metrics: Arc<Metrics>,
    /// The admin token in force (the config's, until a SIGHUP reload replaces it).
    pub admin_token: Arc<AdminToken>,
    /// Whether a buyer's message is taken now (rate, storage, a gateway that can
    /// store).
    pub admission: Arc<Admission>,
    /// Orders by e-mail: the door both the SMTP listener and
    /// `POST /v1/inbound/email` use.
    pub mail: Arc<MailDoor>,
}

/// The whole application: routes, OpenAPI document, problem+json for every error.
pub fn app(
    state: web::Data<AppState>,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<EitherBody<BoxBody>>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let (app, openapi) = App::new()
        .into_utoipa_app()
        .app_data(state)
        .app_data(
            web::JsonConfig::default()
                .limit(1024 * 1024)
                .error_handler(json_error),
        )
        .app_data(web::QueryConfig::default().error_handler(|e, _| {
            ApiError::BadRequest(format!("the query string cannot be read: {e}")).into()
        }))
        .app_data(web::PathConfig::default().error_handler(|e, _| {
            ApiError::BadRequest(format!("the path cannot be read: {e}")).into()
        }))
        // Before the `/v1` scope, which would otherwise swallow these paths.
        .route("/v1/openapi.json", web::get().to(openapi_json))
        .service(purchase_order_schema)
        .service(purchase_order_v2_schema)
        .service(order_response_schema)
        .service(health::healthz)
        .service(health::readyz)
        .service(health::metrics)
        .service(
            scope::scope("/v1")
                .service(orders::post_order)
                .service(orders::list_orders)
                .service(orders::get_order)
                .service(inbound_email::post_inbound_email)
                .service(messages::get_message)
                .service(admin::buyers::create_buyer)
                .service(admin::buyers::get_buyer)
                .service(admin::buyers::update_buyer)
                .service(admin::buyers::rotate_buyer_key)
                .service(admin::buyers::revoke_buyer_key)
                .service(admin::buyers::put_buyer_callback)
                .service(admin::buyers::rotate_buyer_callback_secret)
                .service(admin::buyers::delete_buyer_callback)
                .service(admin::buyer_email::get_buyer_email)
                .service(admin::buyer_email::put_buyer_email)
                .service(admin::buyer_email::rotate_inbound_address)
                .service(admin::plugins::list_plugins)
                .service(admin::plugins::upload_plugin)
                .service(admin::messages::list_messages)
                .service(admin::messages::get_message)
                .service(admin::messages::replay_message)
                .service(admin::craftsmen::create_craftsman)
                .service(admin::craftsmen::list_craftsmen)
                .service(admin::craftsmen::get_craftsman)
                .service(admin::craftsmen::update_channel)
                .service(admin::craftsmen::put_whatsapp_opt_in)
                .service(admin::craftsmen::rotate_craftsman_token)
                .service(admin::craftsmen::revoke_craftsman_token)
                .service(admin::routes::put_route)
                .service(admin::routes::list_routes)
                .service(admin::orders::list_orders)
                .service(admin::orders::get_order)
                .service(admin::deliveries::list_deliveries)
                .service(admin::deliveries::get_delivery)
                .service(admin::deliveries::retry_delivery)
                .service(admin::alerts::paused_channels)
                .service(admin::alerts::list_alerts)
                .service(inbox::list_inbox)
                .service(inbox::get_inbox_order)
                .service(inbox::post_response)
                .service(whatsapp::verify_whatsapp_webhook)
                .service(whatsapp::whatsapp_webhook)
                .service(telegram::telegram_webhook),
        )
        .split_for_parts();
    // Routes outside the OpenAPI document whose wrong method is still a 405.
    let known = web::Data::new(fallback::KnownRoutes::new(
        &openapi,
        &[("/v1/openapi.json", "GET")],
    ));
    let openapi = web::Data::new(document(openapi));
    app.app_data(openapi)
        .app_data(known)
        // HTML for people, not part of the API document.
        .configure(inbox_page::routes)
        .default_service(web::to(fallback::no_route))
        .wrap(actix_web::middleware::from_fn(body::deadline))
        .wrap(ErrorHandlers::new().default_handler(as_problem))
}

/// The collected OpenAPI document with its title and security schemes.
fn document(mut openapi: OpenApi) -> String {
    openapi.info = InfoBuilder::new()
        .title("jembatan")
        .version(env!("CARGO_PKG_VERSION"))
        .description(Some(
            "Carries purchase orders from buyers to craftsmen. Errors are RFC 9457 problem+json.",
        ))
        .build();
    let bearer = |desc: &str| {
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .description(Some(desc))
                .build(),
        )
    };
    let components = openapi.components.get_or_insert_with(Default::default);
    components.add_security_scheme("buyer_key", bearer("A buyer's API key."));
    components.add_security_scheme("admin_token", bearer("The gateway's admin token."));
    components.add_security_scheme("craftsman_token", bearer("A craftsman's inbox token."));
    components.add_security_scheme(
        "inbound_email_token",
        bearer("The token of inbound e-mail over HTTP (JEMBATAN_INBOUND_EMAIL_TOKEN)."),
    );
    openapi.to_json().expect("the OpenAPI document serializes")
}

async fn openapi_json(doc: web::Data<String>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(doc.get_ref().clone())
}

/// Canonical order v1's JSON Schema: what `order` is in an order answered with
/// `?schema=v1`, and what a plugin may still produce (an order without `version`).
#[utoipa::path(
    tag = "orders",
    responses((status = 200, description = "The JSON Schema (draft 2020-12).", body = serde_json::Value, content_type = "application/schema+json"))
)]
#[get("/v1/schemas/purchase-order.schema.json")]
async fn purchase_order_schema() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/schema+json")
        .body(jembatan_schemas::PURCHASE_ORDER_SCHEMA)
}

/// Canonical order v2's JSON Schema: what `order` is in every order this API
/// answers, and what a plugin produces (`"version": "2"`; the gateway writes
/// `received`, and the buyer when the document names none).
#[utoipa::path(
    tag = "orders",
    responses((status = 200, description = "The JSON Schema (draft 2020-12).", body = serde_json::Value, content_type = "application/schema+json"))
)]
#[get("/v1/schemas/purchase-order-v2.schema.json")]
async fn purchase_order_v2_schema() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/schema+json")
        .body(jembatan_schemas::PURCHASE_ORDER_V2_SCHEMA)
}

/// The JSON Schema of a craftsman's answer to an order: what `responses` holds in
/// `GET /v1/orders/{id}`, and the `data.response` of an `order.response` event.
#[utoipa::path(
    tag = "orders",
    responses((status = 200, description = "The JSON Schema (draft 2020-12).", body = serde_json::Value, content_type = "application/schema+json"))
)]
#[get("/v1/schemas/order-response.schema.json")]
async fn order_response_schema() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/schema+json")
        .body(jembatan_schemas::ORDER_RESPONSE_SCHEMA)
}

/// A JSON body that is not JSON, or not sent as JSON: a 415 names the media type
/// to send, a 400 says where the JSON went wrong.
fn json_error(err: error::JsonPayloadError, _: &HttpRequest) -> actix_web::Error {
    match err {
        error::JsonPayloadError::ContentType => ApiError::UnsupportedMediaType(
            "send the body as JSON, with Content-Type: application/json".into(),
        )
        .into(),
        error::JsonPayloadError::Deserialize(e) => {
            ApiError::BadRequest(format!("the JSON body cannot be read: {e}")).into()
        }
        // Too large and unreadable payloads keep actix's status; `as_problem`
        // turns them into problems.
        other => other.into(),
    }
}

/// Errors raised by actix itself (a malformed query string or JSON body, a wrong
/// method) come as plain text; rewrite them as problem+json so that every error a
/// client sees has one shape.
fn as_problem<B: MessageBody + 'static>(
    res: ServiceResponse<B>,
) -> actix_web::Result<ErrorHandlerResponse<B>> {
    // Problems are already problems; the inbox page's errors are pages for people.
    let passes_through = res.headers().get(CONTENT_TYPE).is_some_and(|v| {
        let v = v.as_bytes();
        v.starts_with(b"application/problem+json") || v.starts_with(b"text/html")
    });
    if passes_through {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    }
    let status = res.status();
    let (req, res) = res.into_parts();
    let detail = res
        .error()
        .map(|e| e.to_string())
        .unwrap_or_else(|| status.canonical_reason().unwrap_or("error").to_owned());
    let slug = status
        .canonical_reason()
        .unwrap_or("error")
        .to_ascii_lowercase()
        .replace(' ', "-");
    let mut problem = problem_response(&Problem::new(
        &slug,
        status.canonical_reason().unwrap_or("Error"),
        status,
        detail,
    ));
    if let Some(allow) = res.headers().get("allow") {
        problem
            .headers_mut()
            .insert(actix_web::http::header::ALLOW, allow.clone());
    }
    Ok(ErrorHandlerResponse::Response(
        ServiceResponse::new(req, problem).map_into_right_body(),
    ))
}

/// Reads the body, stopping at `limit` bytes so an oversized body costs nothing
/// but the 413. A body that stalls fails here when its deadline passes, and the
/// [`body::deadline`] middleware answers 408.
pub(crate) async fn read_body(
    req: &HttpRequest,
    mut payload: web::Payload,
    limit: usize,
) -> Result<Vec<u8>, ApiError> {
    let declared = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if let Some(size) = declared.filter(|&size| size > limit as u64) {
        return Err(ApiError::PayloadTooLarge {
            size,
            limit: limit as u64,
        });
    }
    // Memory follows the bytes that arrive, not what the client declares: a
    // `Content-Length` of 10 MiB followed by silence reserves at most this.
    const MAX_RESERVED: u64 = 64 * 1024;
    let mut body = Vec::with_capacity(declared.unwrap_or(0).min(MAX_RESERVED) as usize);
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| ApiError::BadRequest(format!("reading the body: {e}")))?;
        if body.len() + chunk.len() > limit {
            return Err(ApiError::PayloadTooLarge {
                size: (body.len() + chunk.len()) as u64,
                limit: limit as u64,
            });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// What a listing's 400 means, for the OpenAPI document.
pub(crate) const BAD_LISTING_QUERY: &str = "An unknown query parameter, a `limit` outside 1 to 200, or a filter value that is not one of the documented ones.";

/// The page size a listing asked for: 1 to 200, 50 when absent.
pub(crate) fn page_limit(limit: Option<u32>) -> Result<u32, ApiError> {
    let limit = limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(ApiError::BadRequest(
            "limit must be between 1 and 200".into(),
        ));
    }
    Ok(limit)
}
