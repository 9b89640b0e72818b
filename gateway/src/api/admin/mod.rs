//! `/v1/admin`: the operator's API (admin token): buyers and their plugin binding,
//! plugin versions, failed messages to replay, craftsmen and the routes to them,
//! orders, and deliveries to retry.

pub mod buyers;
pub mod craftsmen;
pub mod deliveries;
pub mod messages;
pub mod orders;
pub mod plugins;
pub mod routes;

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

/// Ids an admin chooses (buyers, craftsmen): lower-case letters, digits, `-` and
/// `_`, 1 to 64 characters, so they are safe in paths and logs; a name is not blank.
fn check_id_and_name(kind: &str, id: &str, name: &str) -> Result<(), ApiError> {
    let id_ok = (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
    if !id_ok {
        return Err(ApiError::BadRequest(format!(
            "{kind} id '{id}' must be 1-64 of a-z, 0-9, '-' and '_'"
        )));
    }
    if name.trim().is_empty() {
        return Err(ApiError::BadRequest("name must not be empty".into()));
    }
    Ok(())
}
