//! `/v1/admin`: the operator's API (admin token): buyers and their plugin binding,
//! plugin versions, and failed messages to replay.

pub mod buyers;
pub mod messages;
pub mod plugins;

use actix_web::http::StatusCode;

use crate::error::{ApiError, Problem};

/// A 422 for admin input that is well-formed but cannot be acted on.
fn unprocessable(kind: &str, title: &str, detail: String) -> ApiError {
    ApiError::Problem(Problem::new(
        kind,
        title,
        StatusCode::UNPROCESSABLE_ENTITY,
        detail,
    ))
}
