//! Who is asking: the craftsman's token, from the login form, the cookie that
//! keeps it, or an `Authorization` header; and a visitor's language before they
//! log in.

use actix_web::http::header::{ACCEPT_LANGUAGE, AUTHORIZATION, COOKIE};
use actix_web::{FromRequest, HttpRequest};

use crate::api::AppState;
use crate::api::auth::{CraftsmanAuth, craftsman_by_token};
use crate::delivery::channels::Language;
use crate::error::ApiError;
use crate::store::Craftsman;

/// The cookie holding a logged-in craftsman's token.
const COOKIE_NAME: &str = "jembatan_inbox";
/// Thirty days: a craftsman on a phone should not have to find the token often.
const COOKIE_MAX_AGE_SECS: u32 = 30 * 24 * 60 * 60;
/// Real tokens are 47 bytes (`jbc_` and 43 of base64url). Anything longer than this
/// is refused before it is hashed or looked up.
pub(super) const MAX_TOKEN_BYTES: usize = 200;

/// Who is asking, by the token they carry.
pub(super) enum Visitor {
    Craftsman(Craftsman),
    /// No token at all.
    Anonymous,
    /// A token that is no craftsman's (a typo, or a token the admin replaced).
    Rejected,
}

/// The craftsman whose token is in the cookie or the `Authorization` header. A
/// valid one wins over a stale one, so an old cookie does not hide a good header.
pub(super) async fn visitor(state: &AppState, req: &HttpRequest) -> Result<Visitor, ApiError> {
    let mut rejected = false;
    if let Some(token) = cookie_token(req) {
        match lookup(state, token).await? {
            Some(craftsman) => return Ok(Visitor::Craftsman(craftsman)),
            None => rejected = true,
        }
    }
    if req.headers().contains_key(AUTHORIZATION) {
        // The API's own extractor, so the header is read one way everywhere.
        match CraftsmanAuth::extract(req).await {
            Ok(CraftsmanAuth(craftsman)) => return Ok(Visitor::Craftsman(craftsman)),
            Err(ApiError::Unauthorized(_)) => rejected = true,
            Err(err) => return Err(err),
        }
    }
    Ok(if rejected {
        Visitor::Rejected
    } else {
        Visitor::Anonymous
    })
}

/// The craftsman `token` belongs to. A token no craftsman can have (empty, too
/// long, or with bytes a cookie cannot carry) is not looked up at all.
pub(super) async fn lookup(state: &AppState, token: &str) -> Result<Option<Craftsman>, ApiError> {
    if !could_be_token(token) {
        return Ok(None);
    }
    craftsman_by_token(state, token).await
}

/// Whether `token` could be a craftsman's: 1 to [`MAX_TOKEN_BYTES`] bytes, each one
/// a cookie value may hold (RFC 6265 `cookie-octet`), so that the one we set in
/// `Set-Cookie` can never break the header.
fn could_be_token(token: &str) -> bool {
    !token.is_empty()
        && token.len() <= MAX_TOKEN_BYTES
        && token
            .bytes()
            .all(|b| matches!(b, 0x21 | 0x23..=0x2B | 0x2D..=0x3A | 0x3C..=0x5B | 0x5D..=0x7E))
}

/// The value of our cookie, from every `Cookie` header (HTTP/2 may send several).
/// The first one wins: browsers send the cookie with the longest path first.
fn cookie_token(req: &HttpRequest) -> Option<&str> {
    req.headers()
        .get_all(COOKIE)
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE_NAME)
        .map(|(_, value)| {
            let value = value.trim();
            value
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .unwrap_or(value)
        })
        .filter(|value| !value.is_empty())
}

/// `Set-Cookie` for a logged-in craftsman. `Secure` only over https, or the cookie
/// would never come back from a phone on a plain-http LAN gateway.
pub(super) fn session_cookie(token: &str, secure: bool) -> String {
    format!(
        "{COOKIE_NAME}={token}; Path=/inbox; HttpOnly; SameSite=Strict; Max-Age={COOKIE_MAX_AGE_SECS}{}",
        if secure { "; Secure" } else { "" }
    )
}

/// `Set-Cookie` that makes the browser forget the token.
pub(super) fn clear_cookie(secure: bool) -> String {
    format!(
        "{COOKIE_NAME}=; Path=/inbox; HttpOnly; SameSite=Strict; Max-Age=0{}",
        if secure { "; Secure" } else { "" }
    )
}

/// Whether the request came over https, directly or (per `Forwarded` /
/// `X-Forwarded-Proto`) through a proxy.
pub(super) fn is_https(req: &HttpRequest) -> bool {
    req.connection_info().scheme().eq_ignore_ascii_case("https")
}

/// The language for someone not logged in yet: the first of Indonesian and
/// English their browser lists in `Accept-Language`; Indonesian otherwise.
pub(super) fn visitor_language(req: &HttpRequest) -> Language {
    let Some(header) = req
        .headers()
        .get(ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
    else {
        return Language::default();
    };
    for item in header.split(',') {
        let mut parts = item.split(';');
        let tag = parts.next().unwrap_or_default().trim();
        // `q=0` means "not this one".
        if parts.any(|p| matches!(p.trim(), "q=0" | "q=0.0" | "q=0.00" | "q=0.000")) {
            continue;
        }
        let primary = tag.split('-').next().unwrap_or_default();
        if primary.eq_ignore_ascii_case("en") {
            return Language::English;
        }
        // `in` is the code Indonesian had before 1989; old Android still sends it.
        if primary.eq_ignore_ascii_case("id") || primary.eq_ignore_ascii_case("in") {
            return Language::Indonesian;
        }
    }
    Language::default()
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    #[test]
    fn the_cookie_is_found_among_others_and_set_as_specified() {
        let req = TestRequest::default()
            .insert_header((COOKIE, "a=1; jembatan_inbox=jbc_abc-_; b=2"))
            .to_http_request();
        assert_eq!(cookie_token(&req), Some("jbc_abc-_"));
        let req = TestRequest::default()
            .insert_header((COOKIE, "jembatan_inbox=\"jbc_q\""))
            .to_http_request();
        assert_eq!(cookie_token(&req), Some("jbc_q"));
        for header in ["x_jembatan_inbox=jbc_x", "jembatan_inbox=", "other=1"] {
            let req = TestRequest::default()
                .insert_header((COOKIE, header))
                .to_http_request();
            assert_eq!(cookie_token(&req), None, "{header}");
        }
        assert_eq!(
            cookie_token(&TestRequest::default().to_http_request()),
            None
        );

        assert_eq!(
            session_cookie("jbc_t", false),
            "jembatan_inbox=jbc_t; Path=/inbox; HttpOnly; SameSite=Strict; Max-Age=2592000"
        );
        assert!(session_cookie("jbc_t", true).ends_with("; Max-Age=2592000; Secure"));
        assert_eq!(
            clear_cookie(false),
            "jembatan_inbox=; Path=/inbox; HttpOnly; SameSite=Strict; Max-Age=0"
        );
    }

    #[test]
    fn only_a_plausible_token_is_looked_up() {
        assert!(could_be_token("jbc_AbC-_09"));
        assert!(could_be_token(&"x".repeat(MAX_TOKEN_BYTES)));
        assert!(!could_be_token(&"x".repeat(MAX_TOKEN_BYTES + 1)));
        for bad in ["", "a b", "a;b", "a,b", "a\"b", "a\\b", "a\nb", "tokén"] {
            assert!(!could_be_token(bad), "{bad:?}");
        }
    }

    #[test]
    fn a_visitor_gets_their_browsers_language_or_indonesian() {
        for (header, expected) in [
            ("en-US,en;q=0.9", Language::English),
            ("id-ID,id;q=0.9,en;q=0.8", Language::Indonesian),
            ("fr-FR,en;q=0.5", Language::English),
            ("in-ID", Language::Indonesian),
            ("en;q=0, id", Language::Indonesian),
            ("fr, de", Language::Indonesian),
            ("", Language::Indonesian),
        ] {
            let req = TestRequest::default()
                .insert_header((ACCEPT_LANGUAGE, header))
                .to_http_request();
            assert_eq!(visitor_language(&req), expected, "{header}");
        }
        let req = TestRequest::default().to_http_request();
        assert_eq!(visitor_language(&req), Language::Indonesian);
    }
}
