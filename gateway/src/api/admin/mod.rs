//! `/v1/admin`: the operator's API (admin token): buyers and their plugin binding,
//! plugin versions, failed messages to replay, craftsmen and the routes to them,
//! orders, deliveries to retry, and paused channels with the alerts about them.

pub mod alerts;
pub mod buyer_email;
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

/// A 422 about one field of the admin's input, named in `field`.
fn unprocessable_field(kind: &str, title: &str, field: &str, detail: String) -> ApiError {
    ApiError::Problem(
        Problem::new(kind, title, StatusCode::UNPROCESSABLE_ENTITY, detail).with("field", field),
    )
}

/// A 400 about one field of the admin's input, named in `field`.
fn bad_field(field: &str, detail: String) -> ApiError {
    ApiError::Problem(
        Problem::new(
            "bad-request",
            "Bad request",
            StatusCode::BAD_REQUEST,
            detail,
        )
        .with("field", field),
    )
}

/// The longest name a buyer or craftsman may have, in characters: it heads
/// e-mails, chat messages and pages, where a longer one would bury the order.
pub(crate) const MAX_NAME_CHARS: usize = 200;

/// Ids an admin chooses (buyers, craftsmen): lower-case letters, digits, `-` and
/// `_`, 1 to 64 characters, so they are safe in paths and logs; see [`check_name`].
fn check_id_and_name(kind: &str, id: &str, name: &str) -> Result<(), ApiError> {
    let id_ok = (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
    if !id_ok {
        return Err(bad_field(
            "id",
            format!("{kind} id '{id}' must be 1-64 of a-z, 0-9, '-' and '_'"),
        ));
    }
    check_name(name)
}

/// A name is not blank and at most [`MAX_NAME_CHARS`] characters.
fn check_name(name: &str) -> Result<(), ApiError> {
    if name.trim().is_empty() {
        return Err(bad_field("name", "name must not be empty".into()));
    }
    let chars = name.chars().count();
    if chars > MAX_NAME_CHARS {
        return Err(bad_field(
            "name",
            format!("name must be at most {MAX_NAME_CHARS} characters, not {chars}"),
        ));
    }
    Ok(())
}

/// Applies an RFC 7396 JSON merge patch: each member of `patch` replaces the one
/// in `target`, a `null` member removes it, objects merge member by member, and
/// a `patch` that is not an object replaces `target` whole. So `{}` changes
/// nothing, which is what an admin sending `"plugin_config": {}` expects.
fn merge_patch(target: &mut serde_json::Value, patch: &serde_json::Value) {
    let serde_json::Value::Object(members) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = serde_json::Value::Object(serde_json::Map::new());
    }
    let target = target.as_object_mut().expect("made an object above");
    for (key, value) in members {
        if value.is_null() {
            target.remove(key);
        } else {
            merge_patch(
                target.entry(key.clone()).or_insert(serde_json::Value::Null),
                value,
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::merge_patch;

    #[test]
    fn merge_patch_follows_rfc_7396() {
        let mut config = json!({"a": 1, "b": {"c": 2, "d": 3}});
        merge_patch(&mut config, &json!({}));
        assert_eq!(config, json!({"a": 1, "b": {"c": 2, "d": 3}}));
        merge_patch(&mut config, &json!({"a": null, "b": {"c": 4}, "e": [1]}));
        assert_eq!(config, json!({"b": {"c": 4, "d": 3}, "e": [1]}));
        merge_patch(&mut config, &json!([2]));
        assert_eq!(config, json!([2]));
    }
}
