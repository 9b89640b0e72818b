//! The one API error type: every failure an HTTP client can see, as RFC 9457
//! `application/problem+json`. Internal causes are logged here and never shown.

use actix_web::http::StatusCode;
use actix_web::http::header::ContentType;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use serde_json::{Map, Value, json};
use utoipa::ToSchema;

use crate::admission::Refusal;
use crate::ingest::IngestError;
use crate::mail::MailRefusal;
use crate::responses::AnswerError;
use crate::store::StoreError;

/// Base of the `type` URIs; each problem kind has its own documented slug.
const PROBLEM_BASE: &str = "https://jembatan.dev/problems/";

/// An RFC 9457 problem details object, as sent over the wire.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Problem {
    /// A URI naming the kind of problem.
    #[serde(rename = "type")]
    pub kind: String,
    /// A short summary of the kind of problem.
    pub title: String,
    pub status: u16,
    /// What went wrong this time, in a sentence.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// Extension members: `message_id`, `plugin_error`, `errors`…
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub extensions: Map<String, Value>,
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Conflict(String),
    #[error("request body is {size} bytes, over the limit of {limit} bytes")]
    PayloadTooLarge { size: u64, limit: u64 },
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// A problem whose body the caller has already built (e.g. a 422 naming the
    /// admin input's `field`).
    #[error("{}", .0.detail.clone().unwrap_or_default())]
    Problem(Problem),
    #[error("{0}")]
    Unavailable(String),
    /// Not taken now: the buyer is over its rate or storage limit (429), or the
    /// gateway cannot store anything (503); either way, with when to try again.
    #[error("{0}")]
    Refused(#[from] Refusal),
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

impl ApiError {
    pub fn internal(err: impl Into<anyhow::Error>) -> Self {
        Self::Internal(err.into())
    }

    /// The problem document this error is shown as.
    pub fn problem(&self) -> Problem {
        let (slug, title) = match self {
            Self::Unauthorized(_) => ("unauthorized", "Authentication required"),
            Self::Forbidden(_) => ("forbidden", "Not allowed"),
            Self::NotFound(_) => ("not-found", "Not found"),
            Self::BadRequest(_) => ("bad-request", "Bad request"),
            Self::Conflict(_) => ("conflict", "Conflict"),
            Self::PayloadTooLarge { .. } => ("payload-too-large", "Request body too large"),
            Self::UnsupportedMediaType(_) => ("unsupported-media-type", "Unsupported media type"),
            Self::Problem(problem) => return problem.clone(),
            Self::Unavailable(_) => ("unavailable", "Service unavailable"),
            Self::Refused(Refusal::Rate { .. }) => ("rate-limited", "Too many messages"),
            Self::Refused(Refusal::Storage { .. }) => ("storage-limit", "Storage limit reached"),
            Self::Refused(Refusal::Unavailable { .. }) => ("unavailable", "Service unavailable"),
            Self::Internal(_) => ("internal", "Internal server error"),
        };
        let detail = match self {
            // The cause of an internal error is for the operator's log only.
            Self::Internal(_) => {
                "The gateway failed unexpectedly; the error has been logged.".into()
            }
            other => other.to_string(),
        };
        let problem = Problem::new(slug, title, self.status_code(), detail);
        match self {
            Self::Refused(refusal) => {
                problem.with(RETRY_AFTER_FIELD, refusal.retry_after().as_secs().max(1))
            }
            Self::Unavailable(_) => problem.with(RETRY_AFTER_FIELD, UNAVAILABLE_RETRY_AFTER_SECS),
            _ => problem,
        }
    }
}

impl Problem {
    /// A problem of kind `slug`; `status` is a [`StatusCode`] or a plain `u16` (so
    /// code without HTTP, such as ingest, can build the problems it stores).
    pub fn new(slug: &str, title: &str, status: impl Into<u16>, detail: impl Into<String>) -> Self {
        Self {
            kind: format!("{PROBLEM_BASE}{slug}"),
            title: title.to_owned(),
            status: status.into(),
            detail: Some(detail.into()),
            extensions: Map::new(),
        }
    }

    /// Adds an extension member.
    pub fn with(mut self, key: &str, value: impl Serialize) -> Self {
        self.extensions.insert(key.to_owned(), json!(value));
        self
    }

    pub fn status(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Problem(problem) => problem.status(),
            Self::Unavailable(_) | Self::Refused(Refusal::Unavailable { .. }) => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            Self::Refused(_) => StatusCode::TOO_MANY_REQUESTS,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let Self::Internal(cause) = self {
            tracing::error!(error = format!("{cause:#}"), "request failed");
        }
        problem_response(&self.problem())
    }
}

/// Renders a problem with its status and media type.
pub fn problem_response(problem: &Problem) -> HttpResponse {
    let mut response = HttpResponse::build(problem.status());
    if problem.status == 401 {
        response.insert_header(("WWW-Authenticate", "Bearer"));
    }
    // A problem that says when to try again says it where clients look for it too.
    if let Some(seconds) = problem
        .extensions
        .get(RETRY_AFTER_FIELD)
        .and_then(Value::as_u64)
    {
        response.insert_header((actix_web::http::header::RETRY_AFTER, seconds.to_string()));
    }
    response
        .insert_header(ContentType(
            "application/problem+json"
                .parse()
                .expect("a valid media type"),
        ))
        .body(serde_json::to_string(problem).expect("a problem always serializes"))
}

/// The problem field (and header) saying how many seconds to wait before trying
/// again.
pub const RETRY_AFTER_FIELD: &str = "retry_after";

/// When to try again after the database failed a request as a whole.
const UNAVAILABLE_RETRY_AFTER_SECS: u64 = 5;

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        if err.is_unavailable() {
            return Self::Unavailable(format!("the gateway cannot store this now: {err}"));
        }
        match err {
            StoreError::Conflict(what) => Self::Conflict(what),
            StoreError::NotFound => Self::NotFound("not found".into()),
            other => Self::Internal(other.into()),
        }
    }
}

/// Ingest's errors as the API shows them; a refused message is not among them,
/// since ingest answers it with its stored 422.
impl From<MailRefusal> for ApiError {
    fn from(err: MailRefusal) -> Self {
        match err {
            MailRefusal::Disabled | MailRefusal::UnknownRecipient(_) => {
                Self::NotFound(err.to_string())
            }
            MailRefusal::NotAnEmail(_) => Self::BadRequest(err.to_string()),
            MailRefusal::Busy(refusal) => Self::Refused(refusal),
            MailRefusal::AuthenticationUnavailable(_) => Self::Unavailable(err.to_string()),
            MailRefusal::NotForEmail(err) | MailRefusal::Ingest(err) => err.into(),
        }
    }
}

impl From<IngestError> for ApiError {
    fn from(err: IngestError) -> Self {
        match err {
            IngestError::UnsupportedType { .. } => Self::UnsupportedMediaType(err.to_string()),
            IngestError::PluginMissing { .. } | IngestError::HostFailed(_) => {
                Self::Unavailable(err.to_string())
            }
            IngestError::KeyReused { .. }
            | IngestError::NotReplayable { .. }
            | IngestError::ReplayMismatch { .. }
            | IngestError::BodyPurged { .. } => Self::Conflict(err.to_string()),
            IngestError::NoMessage(_) | IngestError::NoBuyer(_) | IngestError::MessageVanished => {
                Self::NotFound(err.to_string())
            }
            IngestError::Store(err) => err.into(),
            IngestError::Internal(err) => Self::Internal(err),
        }
    }
}

/// A craftsman's answer that was not taken: a 422 naming the `field` at fault, a 409
/// for an order already rejected (`order-already-rejected`) or answered at the same
/// moment (`conflict`).
impl From<AnswerError> for ApiError {
    fn from(err: AnswerError) -> Self {
        match err {
            AnswerError::Invalid { field, why } => Self::Problem(
                Problem::new(
                    "invalid-response",
                    "The response cannot be taken",
                    StatusCode::UNPROCESSABLE_ENTITY,
                    why,
                )
                .with("field", field),
            ),
            AnswerError::Final { .. } => Self::Problem(Problem::new(
                "order-already-rejected",
                "The order was already rejected",
                StatusCode::CONFLICT,
                err.to_string(),
            )),
            AnswerError::Raced { .. } => Self::Conflict(err.to_string()),
            AnswerError::Store(StoreError::NotFound) => {
                Self::NotFound("no such order in your inbox".into())
            }
            AnswerError::Store(err) => err.into(),
        }
    }
}
