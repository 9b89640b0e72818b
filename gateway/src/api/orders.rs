//! `/v1/orders`: buyers post messages in their own format and read back the
//! canonical orders made from them.

use std::borrow::Cow;

use actix_web::http::StatusCode;
use actix_web::http::header::CONTENT_TYPE;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::auth::{BuyerAuth, UNAUTHORIZED_BUYER};
use super::{AppState, BAD_LISTING_QUERY, page_limit, read_body};
use crate::error::{ApiError, Problem};
use crate::ingest::{Accepted, Inbound, IngestError, Outcome};
use crate::orders::{OrderSchema, VersionedOrder};
use crate::store::{OrderQuery, OrderRecord, OrderScope, OrderStatus, ReceivedVia, ResponseFilter};
use jembatan_schemas::{OrderResponse, ResponseStatus};

/// A stored canonical order and what the gateway knows about it.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrderView {
    pub id: String,
    /// The inbound message this order was made from.
    pub message_id: String,
    pub buyer_order_number: String,
    /// The buyer's code for the craftsman the order is for.
    pub supplier_code: String,
    /// `unrouted` (no craftsman for its supplier code yet), `received` (on its way),
    /// `delivered` or `failed` (some channel could not be reached).
    #[schema(value_type = String)]
    pub status: OrderStatus,
    /// The craftsman's answer now: `accepted`, `rejected` or
    /// `accepted_with_changes` (the latest response's status); `null` while
    /// unanswered.
    #[schema(value_type = Option<String>)]
    pub response: Option<ResponseStatus>,
    /// Every response the craftsman gave, oldest first (the last is the answer
    /// now), as `/v1/schemas/order-response.schema.json` describes them. Only when
    /// one order is read.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<Object>>)]
    pub responses: Option<Vec<OrderResponse>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The canonical purchase order, as `/v1/schemas/purchase-order-v2.schema.json`
    /// describes it (with `?schema=v1`: `/v1/schemas/purchase-order.schema.json`).
    #[schema(value_type = Object)]
    pub order: VersionedOrder<'static>,
}

impl OrderView {
    fn new(r: OrderRecord, schema: OrderSchema) -> Self {
        Self {
            id: r.id,
            message_id: r.message_id,
            buyer_order_number: r.buyer_order_number,
            supplier_code: r.supplier_code,
            status: r.status,
            response: r.response,
            responses: None,
            created_at: r.created_at,
            updated_at: r.updated_at,
            order: schema.present(Cow::Owned(r.order)),
        }
    }
}

/// A `response` filter from a query string, or the 400 for one that is not known.
pub(super) fn response_filter(value: Option<&str>) -> Result<Option<ResponseFilter>, ApiError> {
    value
        .map(|text| {
            ResponseFilter::parse(text).ok_or_else(|| {
                ApiError::BadRequest(format!(
                    "response must be none, accepted, rejected or accepted_with_changes, \
                     not '{text}'"
                ))
            })
        })
        .transpose()
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OrderPageView {
    pub orders: Vec<OrderView>,
    /// Pass as `after` to get the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    /// Only orders in this status: `unrouted`, `received`, `delivered` or `failed`.
    #[param(value_type = Option<String>)]
    status: Option<OrderStatus>,
    /// Only orders with this answer from the craftsman: `none` (not answered yet),
    /// `accepted`, `rejected` or `accepted_with_changes` (the latest response).
    response: Option<String>,
    /// Page size, 1 to 200 (default 50).
    limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    after: Option<String>,
    /// `v2` (default) or `v1`: the canonical order version of each `order`.
    #[param(value_type = Option<String>)]
    schema: Option<OrderSchema>,
}

/// The query of a request for one order: which canonical order version to answer.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct OrderParams {
    /// `v2` (default) or `v1`: the canonical order version of `order`.
    #[param(value_type = Option<String>)]
    pub schema: Option<OrderSchema>,
}

/// Post an order message.
///
/// The body is the order in the buyer's own format (UBL XML, JSON, EDI…) with its
/// own `Content-Type`; the buyer's plugin normalizes it into canonical orders.
/// The message is stored before anything else happens to it. With an
/// `Idempotency-Key`, a retry with the same body gets the first answer and creates
/// nothing; a different body under the same key is a 409.
#[utoipa::path(
    tag = "orders",
    request_body(content = Vec<u8>, content_type = "*/*", description = "The order in the buyer's format."),
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe: 1 to 255 visible ASCII characters (`!` to `~`), e.g. a UUID.")),
    responses(
        (status = 201, description = "Stored; at least one transaction of the message is an order. Lists the orders, the refused transactions and the documents that are not orders.", body = Accepted),
        (status = 400, description = "Empty body, or an `Idempotency-Key` that is empty, longer than 255 characters, repeated, or has a character outside `!` to `~`.", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = UNAUTHORIZED_BUYER, body = Problem, content_type = "application/problem+json"),
        (status = 408, description = "The body did not arrive in full within `JEMBATAN_BODY_TIMEOUT_MS`; the connection is closed.", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Idempotency-Key reused with another body.", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body over the limit.", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Content type the buyer's plugin does not read.", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No transaction of the message is an order: the plugin refused it, failed, or returned no valid order; carries `message_id`, `refused`, `not_orders`, and `plugin_error` or `errors` for a message of one transaction.", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "The buyer is over its rate (`rate-limited`) or storage limit (`storage-limit`); `Retry-After` says when to try again.", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The gateway cannot store messages now (its disk nearly full, its database read-only, gone or damaged, its PostgreSQL server unreachable); `Retry-After` says when to try again. Nothing was stored.", body = Problem, content_type = "application/problem+json"),
    ),
    security(("buyer_key" = []))
)]
#[post("/orders")]
pub async fn post_order(
    state: web::Data<AppState>,
    BuyerAuth(buyer): BuyerAuth,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let content_type = media_type(&req)?;
    let idempotency_key = idempotency_key(&req)?;
    // Refuse before reading a byte of a body the plugin would not read anyway, or
    // that the buyer may not send now, or the gateway could not store.
    let plugin = state.ingest.plugin_accepting(&buyer, &content_type)?;
    if let Err(refusal) = state
        .admission
        .admit(&buyer.id, buyer.limits.as_ref())
        .await
    {
        state.metrics.refused(refusal.reason());
        return Err(refusal.into());
    }
    let body = read_body(&req, payload, state.config.max_body_bytes).await?;
    if body.is_empty() {
        return Err(ApiError::BadRequest("the request body is empty".into()));
    }
    let size = body.len();
    let inbound = Inbound {
        received_via: ReceivedVia::Http,
        content_type,
        headers: kept_headers(&req),
        body,
        idempotency_key,
        email: None,
    };
    // The answer as stored, so a retry with the same `Idempotency-Key` gets the
    // same status and body.
    let accepted = state.ingest.accept(&buyer, &plugin, inbound).await;
    if let Err(IngestError::Store(error)) = &accepted {
        state.admission.health().store_failed(error);
    }
    let outcome = accepted?;
    state.admission.stored(&buyer.id, size);
    outcome_response(outcome)
}

/// A message's answer as stored: the 201 of its orders, or its 422 problem.
pub(super) fn outcome_response(outcome: Outcome) -> Result<HttpResponse, ApiError> {
    let (media, answer) = match outcome {
        Outcome::Accepted(answer) => ("application/json", answer),
        Outcome::Refused(answer) => ("application/problem+json", answer),
    };
    let status = StatusCode::from_u16(answer.status).map_err(ApiError::internal)?;
    Ok(HttpResponse::build(status)
        .content_type(media)
        .json(answer.body))
}

/// Read one order.
///
/// A buyer sees only its own orders; another buyer's id is a 404. The order carries
/// the craftsman's answer (`response`) and every response they gave (`responses`).
#[utoipa::path(
    tag = "orders",
    params(("id" = String, Path, description = "Order id, `ord_…`."), OrderParams),
    responses(
        (status = 200, description = "The order and its status.", body = OrderView),
        (status = 401, description = UNAUTHORIZED_BUYER, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such order of this buyer.", body = Problem, content_type = "application/problem+json"),
    ),
    security(("buyer_key" = []))
)]
#[get("/orders/{id}")]
pub async fn get_order(
    state: web::Data<AppState>,
    BuyerAuth(buyer): BuyerAuth,
    id: web::Path<String>,
    params: web::Query<OrderParams>,
) -> Result<web::Json<OrderView>, ApiError> {
    let schema = params.schema.unwrap_or_default();
    let order = state
        .store
        .get_order(OrderScope::Buyer(&buyer.id), &id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no order '{id}'")))?;
    let responses = state.store.order_responses(&order.id).await?;
    Ok(web::Json(OrderView {
        responses: Some(responses),
        ..OrderView::new(order, schema)
    }))
}

/// List orders, newest first.
#[utoipa::path(
    tag = "orders",
    params(ListParams),
    responses(
        (status = 200, description = "A page of the buyer's orders.", body = OrderPageView),
        (status = 400, description = BAD_LISTING_QUERY, body = Problem, content_type = "application/problem+json"),
        (status = 401, description = UNAUTHORIZED_BUYER, body = Problem, content_type = "application/problem+json"),
    ),
    security(("buyer_key" = []))
)]
#[get("/orders")]
pub async fn list_orders(
    state: web::Data<AppState>,
    BuyerAuth(buyer): BuyerAuth,
    params: web::Query<ListParams>,
) -> Result<web::Json<OrderPageView>, ApiError> {
    let params = params.into_inner();
    let limit = page_limit(params.limit)?;
    let response = response_filter(params.response.as_deref())?;
    let page = state
        .store
        .list_orders(OrderQuery {
            buyer_id: Some(buyer.id),
            status: params.status,
            response,
            limit,
            after: params.after,
            ..OrderQuery::default()
        })
        .await?;
    let schema = params.schema.unwrap_or_default();
    Ok(web::Json(OrderPageView {
        orders: page
            .orders
            .into_iter()
            .map(|o| OrderView::new(o, schema))
            .collect(),
        next_cursor: page.next_cursor,
    }))
}

/// The media type of the request without parameters, lower case.
fn media_type(req: &HttpRequest) -> Result<String, ApiError> {
    let raw = req
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| {
            ApiError::UnsupportedMediaType("a Content-Type header is required".into())
        })?;
    let essence = raw.split(';').next().unwrap_or_default().trim();
    if essence.is_empty() || !essence.contains('/') {
        return Err(ApiError::UnsupportedMediaType(format!(
            "'{raw}' is not a media type"
        )));
    }
    Ok(essence.to_ascii_lowercase())
}

/// The longest `Idempotency-Key` taken. The IETF draft
/// (draft-ietf-httpapi-idempotency-key-header) sets no length and suggests a
/// UUID (36 characters); 255 leaves room for any scheme a client has while a key
/// stays a small index entry.
const MAX_IDEMPOTENCY_KEY: usize = 255;

/// The `Idempotency-Key`, if sent: 1 to 255 visible ASCII characters (`!` to
/// `~`), so a key is never blank, never huge, and reads the same in every log
/// and header. Anything else is refused rather than ignored, since a client that
/// sent a key relies on it.
fn idempotency_key(req: &HttpRequest) -> Result<Option<String>, ApiError> {
    let mut values = req.headers().get_all("idempotency-key");
    let Some(value) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(ApiError::BadRequest(
            "send one Idempotency-Key header, not several".into(),
        ));
    }
    let bytes = value.as_bytes();
    if bytes.is_empty() || bytes.len() > MAX_IDEMPOTENCY_KEY {
        return Err(ApiError::BadRequest(format!(
            "the Idempotency-Key must be 1 to {MAX_IDEMPOTENCY_KEY} characters; this one has {}",
            bytes.len()
        )));
    }
    if !bytes.iter().all(|b| (b'!'..=b'~').contains(b)) {
        return Err(ApiError::BadRequest(
            "the Idempotency-Key may hold only visible ASCII characters ('!' to '~')".into(),
        ));
    }
    Ok(Some(String::from_utf8_lossy(bytes).into_owned()))
}

/// Headers a plugin may find useful; credentials are never passed on or stored.
fn kept_headers(req: &HttpRequest) -> Vec<(String, String)> {
    req.headers()
        .iter()
        .filter(|(name, _)| {
            !matches!(
                name.as_str(),
                "authorization" | "cookie" | "proxy-authorization"
            )
        })
        .filter_map(|(name, value)| Some((name.to_string(), value.to_str().ok()?.to_owned())))
        .collect()
}
