//! Who is asking: the craftsman's token, from the login form or an
//! `Authorization` header, or the session the login opened, from its cookie; and
//! a visitor's language before they log in.
//!
//! The cookie holds a random session id, never the token: the store keeps the
//! id's hash, when it expires and whether it ended, so logging out, the session's
//! expiry, and rotating or revoking the token each close it at once on the server,
//! whatever the browser still holds.

use actix_web::http::header::{ACCEPT_LANGUAGE, AUTHORIZATION, COOKIE, ORIGIN};
use actix_web::{FromRequest, HttpRequest};
use chrono::Utc;

use crate::api::AppState;
use crate::api::auth::{CraftsmanAuth, craftsman_by_token};
use crate::delivery::channels::Language;
use crate::error::ApiError;
use crate::secrets;
use crate::store::{Craftsman, NewInboxSession};

/// The cookie holding a logged-in craftsman's session id.
const COOKIE_NAME: &str = "jembatan_inbox";
/// Real tokens are 47 bytes (`jbc_` and 43 of base64url), as are session ids
/// (`jbs_`). Anything longer than this is refused before it is hashed or looked up.
pub(super) const MAX_TOKEN_BYTES: usize = 200;

/// Who is asking, by the session or token they carry.
pub(super) enum Visitor {
    Craftsman(Craftsman),
    /// No session and no token at all.
    Anonymous,
    /// A token that is no craftsman's (a typo, or a token the admin replaced).
    Rejected,
    /// A session cookie whose session ended (logout, a new token), expired, or
    /// never was.
    SessionEnded,
}

/// The craftsman whose session is in the cookie, or whose token is in the
/// `Authorization` header. A valid one wins over a stale one, so an old cookie
/// does not hide a good header.
pub(super) async fn visitor(state: &AppState, req: &HttpRequest) -> Result<Visitor, ApiError> {
    let mut ended = false;
    if let Some(session_id) = cookie_value(req) {
        match session_craftsman(state, session_id).await? {
            Some(craftsman) => return Ok(Visitor::Craftsman(craftsman)),
            None => ended = true,
        }
    }
    let mut rejected = false;
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
    } else if ended {
        Visitor::SessionEnded
    } else {
        Visitor::Anonymous
    })
}

/// The craftsman of a live session (neither ended nor expired).
async fn session_craftsman(
    state: &AppState,
    session_id: &str,
) -> Result<Option<Craftsman>, ApiError> {
    if !could_be_token(session_id) {
        return Ok(None);
    }
    Ok(state
        .store
        .craftsman_by_session_hash(&secrets::hash(session_id), Utc::now())
        .await?)
}

/// Opens a session for `craftsman`, lasting the configured time; returns its
/// `Set-Cookie`.
pub(super) async fn start_session(
    state: &AppState,
    req: &HttpRequest,
    craftsman: &Craftsman,
) -> Result<String, ApiError> {
    let session_id = secrets::generate("jbs_");
    let ttl = state.config.inbox_session_ttl();
    let expires_at = chrono::Duration::from_std(ttl)
        .ok()
        .and_then(|ttl| Utc::now().checked_add_signed(ttl))
        .ok_or_else(|| {
            ApiError::internal(anyhow::anyhow!(
                "inbox_session_ttl_secs ({}) is past the end of time",
                ttl.as_secs()
            ))
        })?;
    state
        .store
        .create_inbox_session(NewInboxSession {
            id_hash: secrets::hash(&session_id),
            craftsman_id: craftsman.id.clone(),
            expires_at,
        })
        .await?;
    Ok(session_cookie(&session_id, ttl.as_secs(), is_https(req)))
}

/// Ends the session in the cookie, if there is one; whether one was ended.
pub(super) async fn end_session(state: &AppState, req: &HttpRequest) -> Result<bool, ApiError> {
    match cookie_value(req).filter(|id| could_be_token(id)) {
        Some(session_id) => Ok(state
            .store
            .end_inbox_session(&secrets::hash(session_id))
            .await?),
        None => Ok(false),
    }
}

/// Whether a form post comes from the gateway's own page, so that another site
/// cannot sign a craftsman in or out behind their back (login CSRF). A browser
/// names the page's origin in `Origin`; it must be this gateway's host (as the
/// request, or a proxy's `Forwarded`/`X-Forwarded-Host`, names it), which another
/// site's page cannot forge. Without `Origin`, `Sec-Fetch-Site` must say the post
/// is the gateway's own (`same-origin`) or the user's (`none`); a sibling
/// subdomain (`same-site`) is another origin too. A client that sends neither is a
/// program, not a browser another site could drive, and is let through.
pub(super) fn from_own_page(req: &HttpRequest) -> bool {
    let headers = req.headers();
    if let Some(origin) = headers.get(ORIGIN) {
        // `null` (a sandboxed frame, a redirect) has no `://` and is refused.
        let Some((scheme, authority)) = origin.to_str().ok().and_then(|o| o.split_once("://"))
        else {
            return false;
        };
        let info = req.connection_info();
        return matches!(scheme, "http" | "https") && authority.eq_ignore_ascii_case(info.host());
    }
    match headers.get("sec-fetch-site").map(|v| v.to_str()) {
        Some(Ok(site)) => matches!(site, "same-origin" | "none"),
        Some(Err(_)) => false,
        None => true,
    }
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
fn cookie_value(req: &HttpRequest) -> Option<&str> {
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

/// `Set-Cookie` for a session, kept by the browser as long as the server keeps
/// the session. `Secure` only over https, or the cookie would never come back from
/// a phone on a plain-http LAN gateway.
fn session_cookie(session_id: &str, max_age_secs: u64, secure: bool) -> String {
    format!(
        "{COOKIE_NAME}={session_id}; Path=/inbox; HttpOnly; SameSite=Strict; Max-Age={max_age_secs}{}",
        if secure { "; Secure" } else { "" }
    )
}

/// `Set-Cookie` that makes the browser forget the session.
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
        assert_eq!(cookie_value(&req), Some("jbc_abc-_"));
        let req = TestRequest::default()
            .insert_header((COOKIE, "jembatan_inbox=\"jbc_q\""))
            .to_http_request();
        assert_eq!(cookie_value(&req), Some("jbc_q"));
        for header in ["x_jembatan_inbox=jbc_x", "jembatan_inbox=", "other=1"] {
            let req = TestRequest::default()
                .insert_header((COOKIE, header))
                .to_http_request();
            assert_eq!(cookie_value(&req), None, "{header}");
        }
        assert_eq!(
            cookie_value(&TestRequest::default().to_http_request()),
            None
        );

        assert_eq!(
            session_cookie("jbs_t", 43200, false),
            "jembatan_inbox=jbs_t; Path=/inbox; HttpOnly; SameSite=Strict; Max-Age=43200"
        );
        assert!(session_cookie("jbs_t", 43200, true).ends_with("; Max-Age=43200; Secure"));
        assert_eq!(
            clear_cookie(false),
            "jembatan_inbox=; Path=/inbox; HttpOnly; SameSite=Strict; Max-Age=0"
        );
    }

    #[test]
    fn a_form_post_must_come_from_the_gateways_own_page() {
        let post = |headers: &[(&str, &str)]| {
            let mut req = TestRequest::post().insert_header(("host", "gw.example:8080"));
            for &(name, value) in headers {
                req = req.insert_header((name, value));
            }
            from_own_page(&req.to_http_request())
        };
        assert!(post(&[("origin", "http://gw.example:8080")]));
        assert!(post(&[("origin", "https://GW.example:8080")]));
        assert!(!post(&[("origin", "http://evil.example")]));
        assert!(!post(&[("origin", "http://gw.example:8081")]));
        assert!(!post(&[("origin", "null")]));
        // Origin decides even when Sec-Fetch-Site would let it through.
        assert!(!post(&[
            ("origin", "http://evil.example"),
            ("sec-fetch-site", "same-origin")
        ]));
        assert!(post(&[("sec-fetch-site", "same-origin")]));
        assert!(post(&[("sec-fetch-site", "none")]));
        assert!(!post(&[("sec-fetch-site", "cross-site")]));
        assert!(!post(&[("sec-fetch-site", "same-site")]));
        assert!(post(&[]), "a program sends neither");
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
