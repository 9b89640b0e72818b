//! `/inbox`: the craftsman's inbox as a page for a phone.
//!
//! Server-rendered HTML with its CSS inline: no script and nothing loaded from
//! elsewhere, so it works on a cheap phone on a slow network. It shows what
//! `/v1/inbox` shows (through [`super::inbox`]), in the craftsman's language; an
//! order looks as it does in the e-mail ([`render::html_body`]).
//!
//! The craftsman logs in once with the token the admin gave them, and the page keeps
//! it in an `HttpOnly`, `SameSite=Strict` cookie scoped to `/inbox`; a program may
//! send it as `Authorization: Bearer` instead. The token is read only from a POST
//! body, that cookie or that header: it is never put in a URL, a page or a log
//! line. Every answer is `no-store`, since every answer may show a buyer's order.
//!
//! These are pages for people, not API resources: every answer, errors included,
//! is `text/html`, and they are not in the OpenAPI document.

use std::fmt::Write as _;

use actix_web::http::StatusCode;
use actix_web::http::header::{
    ACCEPT_LANGUAGE, AUTHORIZATION, CACHE_CONTROL, CONTENT_TYPE, COOKIE, LOCATION, SET_COOKIE,
    WWW_AUTHENTICATE,
};
use actix_web::{FromRequest, HttpRequest, HttpResponse, HttpResponseBuilder, ResponseError, web};
use serde::Deserialize;

use super::AppState;
use super::auth::{self, CraftsmanAuth, craftsman_by_token};
use super::inbox::{self, InboxOrder};
use crate::delivery::channels::{Language, Outgoing};
use crate::delivery::render::{self, escape, long_date, money};
use crate::error::ApiError;
use crate::store::{Craftsman, OrderRecord};

/// The cookie holding a logged-in craftsman's token.
const COOKIE_NAME: &str = "jembatan_inbox";
/// Thirty days: a craftsman on a phone should not have to find the token often.
const COOKIE_MAX_AGE_SECS: u32 = 30 * 24 * 60 * 60;
/// Real tokens are 47 bytes (`jbc_` and 43 of base64url). Anything longer than this
/// is refused before it is hashed or looked up.
const MAX_TOKEN_BYTES: usize = 200;
/// Orders per page: enough to scroll through on a phone, little to load on 3G.
const PAGE_SIZE: u32 = 20;
/// Only the inline CSS may apply: no script, no image, no frame, no form posting
/// elsewhere, even if some value ever escaped its escaping.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'unsafe-inline'; \
     form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Mounts the pages on the app (beside the API, outside `/v1`).
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/inbox").route(web::get().to(inbox_page)))
        // Before `/inbox/{order_id}`, which would otherwise take these paths as ids.
        // A GET (a reload, a bookmark) just goes back to the inbox.
        .service(
            web::resource("/inbox/login")
                .route(web::post().to(login))
                .route(web::get().to(back_to_inbox)),
        )
        .service(
            web::resource("/inbox/logout")
                .route(web::post().to(logout))
                .route(web::get().to(back_to_inbox)),
        )
        .service(web::resource("/inbox/{order_id}").route(web::get().to(order_page)));
}

// ---------------------------------------------------------------------------
// Handlers. Each answers with a page whatever happens: a craftsman's phone shows
// HTML, not problem+json.

#[derive(Debug, Deserialize)]
struct PageQuery {
    /// The cursor of the previous page's last order.
    after: Option<String>,
}

/// `GET /inbox`: the craftsman's orders, newest first, or the login form.
async fn inbox_page(req: HttpRequest) -> HttpResponse {
    let state = auth::state(&req);
    let craftsman = match visitor(&state, &req).await {
        Ok(Visitor::Craftsman(craftsman)) => craftsman,
        Ok(Visitor::Anonymous) => {
            return login_response(visitor_language(&req), StatusCode::OK, None);
        }
        Ok(Visitor::Rejected) => {
            let language = visitor_language(&req);
            let mut res = login_response(
                language,
                StatusCode::UNAUTHORIZED,
                Some(words(language).wrong_token),
            );
            // A stale cookie would be sent, and rejected, on every visit.
            append_cookie(&mut res, &clear_cookie(is_https(&req)));
            return res;
        }
        Err(err) => return failure(visitor_language(&req), None, err),
    };
    // A malformed query is not worth an error page: it shows the first page.
    let after = web::Query::<PageQuery>::from_query(req.query_string())
        .ok()
        .and_then(|q| q.into_inner().after)
        .filter(|after| !after.is_empty());
    let first_page = after.is_none();
    match inbox::page(&state, &craftsman.id, PAGE_SIZE, after).await {
        Ok(page) => html(StatusCode::OK).body(list_page(
            &craftsman,
            &page.orders,
            page.next_cursor.as_deref(),
            first_page,
        )),
        Err(err) => failure(craftsman.language, Some(&craftsman.name), err),
    }
}

/// `GET /inbox/{order_id}`: one order in full. Another craftsman's order and an
/// unknown id get the same 404 page, so the page never tells that an order exists.
async fn order_page(req: HttpRequest, order_id: web::Path<String>) -> HttpResponse {
    let state = auth::state(&req);
    let craftsman = match visitor(&state, &req).await {
        Ok(Visitor::Craftsman(craftsman)) => craftsman,
        // `/inbox` shows the form, and says so if the token was wrong.
        Ok(Visitor::Anonymous | Visitor::Rejected) => return see_inbox(visitor_language(&req)),
        Err(err) => return failure(visitor_language(&req), None, err),
    };
    match inbox::order(&state, &craftsman.id, &order_id).await {
        Ok(record) => html(StatusCode::OK).body(detail_page(&craftsman, &record)),
        Err(ApiError::NotFound(_)) => html(StatusCode::NOT_FOUND).body(not_found_page(&craftsman)),
        Err(err) => failure(craftsman.language, Some(&craftsman.name), err),
    }
}

/// The login form's fields.
#[derive(Deserialize)]
struct LoginForm {
    token: String,
}

/// `POST /inbox/login`: checks the token and keeps it in the cookie.
async fn login(
    req: HttpRequest,
    form: Result<web::Form<LoginForm>, actix_web::Error>,
) -> HttpResponse {
    let language = visitor_language(&req);
    let w = words(language);
    // Wrong media type, a missing field, or over actix's 16 KiB form limit. The
    // error is not logged: it could quote the body.
    let Ok(form) = form else {
        return login_response(language, StatusCode::BAD_REQUEST, Some(w.unreadable_form));
    };
    // Pasted from a chat, a token often comes with a space or a newline.
    let token = form.token.trim();
    if token.len() > MAX_TOKEN_BYTES {
        return login_response(language, StatusCode::BAD_REQUEST, Some(w.long_token));
    }
    let state = auth::state(&req);
    match lookup(&state, token).await {
        Ok(Some(craftsman)) => {
            tracing::info!(craftsman_id = %craftsman.id, "craftsman logged in to the inbox page");
            let mut res = see_inbox(craftsman.language);
            append_cookie(&mut res, &session_cookie(token, is_https(&req)));
            res
        }
        Ok(None) => {
            tracing::info!("inbox page login refused: the token is no craftsman's");
            login_response(language, StatusCode::UNAUTHORIZED, Some(w.wrong_token))
        }
        Err(err) => failure(language, None, err),
    }
}

/// `POST /inbox/logout`: forgets the cookie.
async fn logout(req: HttpRequest) -> HttpResponse {
    let mut res = see_inbox(visitor_language(&req));
    append_cookie(&mut res, &clear_cookie(is_https(&req)));
    res
}

/// `GET /inbox/login` and `GET /inbox/logout`: nothing to do there but go back.
async fn back_to_inbox(req: HttpRequest) -> HttpResponse {
    see_inbox(visitor_language(&req))
}

// ---------------------------------------------------------------------------
// Who is asking.

/// Who is asking, by the token they carry.
enum Visitor {
    Craftsman(Craftsman),
    /// No token at all.
    Anonymous,
    /// A token that is no craftsman's (a typo, or a token the admin replaced).
    Rejected,
}

/// The craftsman whose token is in the cookie or the `Authorization` header. A
/// valid one wins over a stale one, so an old cookie does not hide a good header.
async fn visitor(state: &AppState, req: &HttpRequest) -> Result<Visitor, ApiError> {
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
async fn lookup(state: &AppState, token: &str) -> Result<Option<Craftsman>, ApiError> {
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
fn session_cookie(token: &str, secure: bool) -> String {
    format!(
        "{COOKIE_NAME}={token}; Path=/inbox; HttpOnly; SameSite=Strict; Max-Age={COOKIE_MAX_AGE_SECS}{}",
        if secure { "; Secure" } else { "" }
    )
}

/// `Set-Cookie` that makes the browser forget the token.
fn clear_cookie(secure: bool) -> String {
    format!(
        "{COOKIE_NAME}=; Path=/inbox; HttpOnly; SameSite=Strict; Max-Age=0{}",
        if secure { "; Secure" } else { "" }
    )
}

/// Whether the request came over https, directly or (per `Forwarded` /
/// `X-Forwarded-Proto`) through a proxy.
fn is_https(req: &HttpRequest) -> bool {
    req.connection_info().scheme().eq_ignore_ascii_case("https")
}

/// The language for someone not logged in yet: the first of Indonesian and
/// English their browser lists in `Accept-Language`; Indonesian otherwise.
fn visitor_language(req: &HttpRequest) -> Language {
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

// ---------------------------------------------------------------------------
// Answers.

/// A page's status and the headers every answer carries.
fn html(status: StatusCode) -> HttpResponseBuilder {
    let mut res = HttpResponse::build(status);
    res.insert_header((CACHE_CONTROL, "no-store"))
        .insert_header((CONTENT_TYPE, "text/html; charset=utf-8"))
        .insert_header(("content-security-policy", CONTENT_SECURITY_POLICY))
        .insert_header(("x-content-type-options", "nosniff"))
        .insert_header(("referrer-policy", "no-referrer"));
    res
}

/// `303 See Other` to `/inbox`, with a link for a browser that does not follow it.
fn see_inbox(language: Language) -> HttpResponse {
    let w = words(language);
    html(StatusCode::SEE_OTHER)
        .insert_header((LOCATION, "/inbox"))
        .body(document(
            language,
            w.inbox,
            None,
            &format!("<p><a href=\"/inbox\">{}</a></p>", escape(w.inbox)),
        ))
}

fn login_response(language: Language, status: StatusCode, error: Option<&str>) -> HttpResponse {
    let mut res = html(status);
    if status == StatusCode::UNAUTHORIZED {
        // RFC 9110 asks every 401 to name a scheme; a program may use this one.
        res.insert_header((WWW_AUTHENTICATE, "Bearer"));
    }
    res.body(login_page(language, error))
}

/// A page for a failure the craftsman cannot fix. `error_response` is where the API
/// logs what an internal error hides, so it is called for that, and for the status.
fn failure(language: Language, craftsman_name: Option<&str>, err: ApiError) -> HttpResponse {
    let status = err.error_response().status();
    let w = words(language);
    html(status).body(document(
        language,
        w.failed_title,
        craftsman_name,
        &format!(
            "<h2>{}</h2>\n<p>{}</p>\n<p><a href=\"/inbox\">{}</a></p>",
            escape(w.failed_title),
            escape(w.failed),
            escape(w.back)
        ),
    ))
}

fn append_cookie(res: &mut HttpResponse, cookie: &str) {
    let value = cookie
        .parse()
        .expect("the cookie holds only cookie-octets, valid in a header");
    res.headers_mut().append(SET_COOKIE, value);
}

// ---------------------------------------------------------------------------
// Pages: pure functions of what they show, tested below.

/// The words of the pages in one language. The order itself is worded by
/// [`render`].
struct Words {
    /// The `lang` attribute.
    lang: &'static str,
    inbox: &'static str,
    login_intro: &'static str,
    token: &'static str,
    log_in: &'static str,
    wrong_token: &'static str,
    long_token: &'static str,
    unreadable_form: &'static str,
    log_out: &'static str,
    no_orders: &'static str,
    no_more_orders: &'static str,
    newest: &'static str,
    next_page: &'static str,
    order_date: &'static str,
    requested_date: &'static str,
    total: &'static str,
    back: &'static str,
    not_found_title: &'static str,
    not_found: &'static str,
    failed_title: &'static str,
    failed: &'static str,
}

const INDONESIAN: Words = Words {
    lang: "id",
    inbox: "Kotak masuk",
    login_intro: "Masukkan token kotak masuk yang Anda terima dari pengelola jembatan untuk melihat \
                  pesanan Anda. Jangan berikan token ini kepada orang lain.",
    token: "Token",
    log_in: "Masuk",
    wrong_token: "Token tidak dikenal. Periksa lagi, lalu coba sekali lagi.",
    long_token: "Token terlalu panjang. Periksa lagi, lalu coba sekali lagi.",
    unreadable_form: "Formulir tidak terbaca. Silakan coba lagi.",
    log_out: "Keluar",
    no_orders: "Belum ada pesanan.",
    no_more_orders: "Tidak ada pesanan lagi.",
    newest: "← Pesanan terbaru",
    next_page: "Halaman berikutnya →",
    order_date: "Tanggal pesanan",
    requested_date: "Tanggal kirim diminta",
    total: "Total",
    back: "← Semua pesanan",
    not_found_title: "Pesanan tidak ditemukan",
    not_found: "Pesanan ini tidak ada di kotak masuk Anda.",
    failed_title: "Terjadi kesalahan",
    failed: "Halaman ini tidak bisa ditampilkan sekarang. Silakan coba lagi sebentar lagi.",
};

const ENGLISH: Words = Words {
    lang: "en",
    inbox: "Inbox",
    login_intro: "Enter the inbox token you received from your jembatan administrator to see \
                  your orders. Do not share this token with anyone.",
    token: "Token",
    log_in: "Log in",
    wrong_token: "That token is not known. Check it and try again.",
    long_token: "That token is too long. Check it and try again.",
    unreadable_form: "The form could not be read. Please try again.",
    log_out: "Log out",
    no_orders: "No orders yet.",
    no_more_orders: "No more orders.",
    newest: "← Newest orders",
    next_page: "Next page →",
    order_date: "Order date",
    requested_date: "Requested delivery date",
    total: "Total",
    back: "← All orders",
    not_found_title: "Order not found",
    not_found: "This order is not in your inbox.",
    failed_title: "Something went wrong",
    failed: "This page cannot be shown right now. Please try again in a moment.",
};

fn words(language: Language) -> &'static Words {
    match language {
        Language::Indonesian => &INDONESIAN,
        Language::English => &ENGLISH,
    }
}

/// "2 baris", "1 line", "2 lines".
fn line_count(language: Language, n: usize) -> String {
    match (language, n) {
        (Language::Indonesian, n) => format!("{n} baris"),
        (Language::English, 1) => "1 line".to_owned(),
        (Language::English, n) => format!("{n} lines"),
    }
}

const STYLE: &str = "\
body{margin:0;background:#f4f4f4;color:#222;font:16px/1.45 Arial,Helvetica,sans-serif}\
header{background:#1f4e79;color:#fff;padding:10px 12px;display:flex;align-items:center;justify-content:space-between;gap:8px}\
header h1{font-size:18px;margin:0}\
header form{margin:0}\
header button{background:none;color:#fff;border:1px solid #fff;border-radius:4px;padding:6px 10px;font-size:14px}\
main{max-width:640px;margin:0 auto;padding:12px}\
a{color:#1f4e79}\
.card{display:block;background:#fff;border:1px solid #e2e2e2;border-radius:6px;padding:12px;margin:0 0 10px;color:inherit;text-decoration:none}\
.card strong{font-size:17px}\
.muted{color:#666;font-size:14px}\
.error{background:#fdecea;color:#8a1c1c;padding:10px;border-radius:6px}\
label{display:block;margin:12px 0 4px;font-weight:bold}\
input{box-sizing:border-box;width:100%;font-size:16px;padding:10px;border:1px solid #aaa;border-radius:4px}\
.primary{margin-top:12px;width:100%;font-size:16px;padding:12px;background:#1f4e79;color:#fff;border:0;border-radius:4px}\
.pager{display:flex;justify-content:space-between;gap:8px;margin:16px 0}";

/// A whole page: `title`, a header with the craftsman's name and a logout button
/// when someone is logged in, and `main` (HTML, already escaped).
fn document(language: Language, title: &str, craftsman_name: Option<&str>, main: &str) -> String {
    let w = words(language);
    let mut s = String::new();
    let _ = write!(
        s,
        "<!DOCTYPE html>\n<html lang=\"{}\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"referrer\" content=\"no-referrer\">\n\
         <title>{} · jembatan</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<header>\n",
        w.lang,
        escape(title)
    );
    match craftsman_name {
        Some(name) => {
            let _ = write!(
                s,
                "<h1>{} · {}</h1>\n<form method=\"post\" action=\"/inbox/logout\">\
                 <button type=\"submit\">{}</button></form>\n",
                escape(w.inbox),
                escape(name),
                escape(w.log_out)
            );
        }
        None => {
            let _ = writeln!(s, "<h1>jembatan · {}</h1>", escape(w.inbox));
        }
    }
    let _ = write!(s, "</header>\n<main>\n{main}\n</main>\n</body>\n</html>\n");
    s
}

/// The login form, with `error` above it when the last try failed. The token is
/// never written back into the form.
fn login_page(language: Language, error: Option<&str>) -> String {
    let w = words(language);
    let mut main = String::new();
    if let Some(error) = error {
        let _ = writeln!(
            main,
            "<p class=\"error\" role=\"alert\">{}</p>",
            escape(error)
        );
    }
    let _ = write!(
        main,
        "<p>{}</p>\n<form method=\"post\" action=\"/inbox/login\">\n\
         <label for=\"token\">{}</label>\n\
         <input id=\"token\" name=\"token\" type=\"password\" required \
         autocomplete=\"current-password\" autocapitalize=\"none\" spellcheck=\"false\">\n\
         <button class=\"primary\" type=\"submit\">{}</button>\n</form>",
        escape(w.login_intro),
        escape(w.token),
        escape(w.log_in)
    );
    document(language, w.inbox, None, &main)
}

/// One page of the inbox: a card per order linking to it, then the pager.
fn list_page(
    craftsman: &Craftsman,
    orders: &[InboxOrder],
    next_cursor: Option<&str>,
    first_page: bool,
) -> String {
    let language = craftsman.language;
    let w = words(language);
    let mut main = String::new();
    if orders.is_empty() {
        let empty = if first_page {
            w.no_orders
        } else {
            w.no_more_orders
        };
        let _ = writeln!(main, "<p>{}</p>", escape(empty));
    }
    for inbox_order in orders {
        main.push_str(&order_card(language, inbox_order));
    }
    if !first_page || next_cursor.is_some() {
        main.push_str("<nav class=\"pager\">");
        if !first_page {
            let _ = write!(main, "<a href=\"/inbox\">{}</a>", escape(w.newest));
        } else {
            main.push_str("<span></span>");
        }
        if let Some(cursor) = next_cursor {
            let _ = write!(
                main,
                "<a href=\"/inbox?after={}\">{}</a>",
                escape(&url_component(cursor)),
                escape(w.next_page)
            );
        }
        main.push_str("</nav>");
    }
    document(language, w.inbox, Some(&craftsman.name), &main)
}

/// One order in the list: number, buyer, dates, lines and total if the buyer sent
/// one (the payable amount, or the lines' sum when that is all there is).
fn order_card(language: Language, inbox_order: &InboxOrder) -> String {
    let w = words(language);
    let order = &inbox_order.order;
    let mut dates = format!(
        "{}: {}",
        escape(w.order_date),
        escape(&long_date(order.issue_date, language))
    );
    if let Some(date) = order.delivery.as_ref().and_then(|d| d.requested_date) {
        let _ = write!(
            dates,
            " · {}: {}",
            escape(w.requested_date),
            escape(&long_date(date, language))
        );
    }
    let mut size = escape(&line_count(language, order.lines.len()));
    let total = order
        .totals
        .as_ref()
        .and_then(|t| t.payable.or(t.line_extension));
    if let Some(total) = total {
        let _ = write!(
            size,
            " · {}: {}",
            escape(w.total),
            escape(&money(total, &order.currency, language))
        );
    }
    format!(
        "<a class=\"card\" href=\"/inbox/{}\"><strong>{}</strong><br>\n{}<br>\n\
         <span class=\"muted\">{dates}</span><br>\n<span class=\"muted\">{size}</span></a>\n",
        escape(&url_component(&inbox_order.id)),
        escape(&inbox_order.buyer_order_number),
        escape(&order.buyer.name)
    )
}

/// One order in full, as the e-mail shows it, between links back to the list.
fn detail_page(craftsman: &Craftsman, record: &OrderRecord) -> String {
    let language = craftsman.language;
    let w = words(language);
    let out = Outgoing {
        // Not a delivery: the HTML rendering reads neither of these.
        delivery_id: "",
        attempt: 0,
        order: record,
        buyer_name: &record.order.buyer.name,
        craftsman_name: &craftsman.name,
        language,
    };
    let order = render::html_body(&out);
    let back = format!("<p><a href=\"/inbox\">{}</a></p>", escape(w.back));
    document(
        language,
        &record.buyer_order_number,
        Some(&craftsman.name),
        &format!("{back}\n{order}{back}"),
    )
}

fn not_found_page(craftsman: &Craftsman) -> String {
    let language = craftsman.language;
    let w = words(language);
    document(
        language,
        w.not_found_title,
        Some(&craftsman.name),
        &format!(
            "<h2>{}</h2>\n<p>{}</p>\n<p><a href=\"/inbox\">{}</a></p>",
            escape(w.not_found_title),
            escape(w.not_found),
            escape(w.back)
        ),
    )
}

/// Percent-encodes a URL path segment or query value: everything but RFC 3986's
/// unreserved characters. Ids and cursors are plain today; this keeps a link a
/// link if they ever are not.
fn url_component(value: &str) -> String {
    let mut s = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            s.push(char::from(b));
        } else {
            let _ = write!(s, "%{b:02X}");
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;
    use chrono::Utc;

    use super::*;
    use crate::delivery::channels::testing::sample_record;

    fn craftsman(language: Language) -> Craftsman {
        Craftsman {
            id: "crf_budi".into(),
            name: "Pak Budi".into(),
            language,
            channels: Vec::new(),
            created_at: Utc::now(),
        }
    }

    /// Nothing on a page may load anything or run anything.
    fn assert_self_contained(page: &str) {
        for external in [
            "<script", "<link", "<img", "<iframe", "src=", "url(", "http:", "https:",
        ] {
            assert!(!page.contains(external), "{external} in:\n{page}");
        }
        assert!(
            page.contains(
                "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            )
        );
        assert_eq!(page.matches("<html").count(), 1);
        assert_eq!(page.matches("</body>").count(), 1);
    }

    #[test]
    fn the_list_shows_each_order_in_the_craftsmans_language() {
        let orders = [InboxOrder::from(sample_record())];
        let page = list_page(
            &craftsman(Language::Indonesian),
            &orders,
            Some("ord_0001"),
            true,
        );
        for expected in [
            "<html lang=\"id\">",
            "Kotak masuk · Pak Budi",
            "<a class=\"card\" href=\"/inbox/ord_0001\">",
            "<strong>PO-2026/0042</strong>",
            "PT Mitra Otoparts",
            "Tanggal pesanan: 20 November 2026",
            "Tanggal kirim diminta: 5 Desember 2026",
            "2 baris",
            "Total: IDR 2.164.500,00",
            "<a href=\"/inbox?after=ord_0001\">Halaman berikutnya →</a>",
            "action=\"/inbox/logout\"",
        ] {
            assert!(page.contains(expected), "missing {expected:?} in:\n{page}");
        }
        // The first page has no link back to itself.
        assert!(!page.contains("Pesanan terbaru"));
        assert_self_contained(&page);

        let page = list_page(&craftsman(Language::English), &orders, None, false);
        for expected in [
            "<html lang=\"en\">",
            "Inbox · Pak Budi",
            "Order date: 20 November 2026",
            "Requested delivery date: 5 December 2026",
            "2 lines",
            "Total: IDR 2,164,500.00",
            "<a href=\"/inbox\">← Newest orders</a>",
        ] {
            assert!(page.contains(expected), "missing {expected:?} in:\n{page}");
        }
        assert!(!page.contains("after="));
        assert_self_contained(&page);
    }

    #[test]
    fn the_list_says_when_there_is_nothing_and_totals_are_optional() {
        let page = list_page(&craftsman(Language::Indonesian), &[], None, true);
        assert!(page.contains("Belum ada pesanan."));
        assert!(!page.contains("class=\"pager\""));
        let page = list_page(&craftsman(Language::English), &[], None, false);
        assert!(page.contains("No more orders."));

        let mut record = sample_record();
        record.order.totals = None;
        record.order.delivery = None;
        record.order.lines.truncate(1);
        let card = order_card(Language::English, &record.into());
        assert!(card.contains("1 line"), "{card}");
        assert!(!card.contains("Total"), "{card}");
        assert!(!card.contains("Requested"), "{card}");
    }

    #[test]
    fn every_value_a_buyer_wrote_is_escaped() {
        let mut record = sample_record();
        record.id = "ord_\"><script>".into();
        record.buyer_order_number = "<b>PO</b> & 'co'".into();
        record.order.buyer.name = "<img src=x onerror=alert(1)>".into();
        record.order.lines[0].description = Some("<script>alert('x')</script>".into());
        let mut budi = craftsman(Language::Indonesian);
        budi.name = "Budi <i>".into();

        let orders = [InboxOrder::from(record.clone())];
        let page = list_page(&budi, &orders, Some("a b&c"), true);
        assert!(
            page.contains("&lt;b&gt;PO&lt;/b&gt; &amp; &#39;co&#39;"),
            "{page}"
        );
        assert!(
            page.contains("&lt;img src=x onerror=alert(1)&gt;"),
            "{page}"
        );
        assert!(page.contains("Budi &lt;i&gt;"));
        assert!(
            page.contains("href=\"/inbox/ord_%22%3E%3Cscript%3E\""),
            "{page}"
        );
        assert!(page.contains("href=\"/inbox?after=a%20b%26c\""), "{page}");
        assert!(!page.contains("<script") && !page.contains("<img"));

        let page = detail_page(&budi, &record);
        assert!(
            !page.contains("<script") && !page.contains("<img"),
            "{page}"
        );
        assert!(page.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"));
        assert!(
            page.contains("<title>&lt;b&gt;PO&lt;/b&gt; &amp; &#39;co&#39; · jembatan</title>")
        );
    }

    #[test]
    fn an_order_is_shown_whole_in_both_languages() {
        let record = sample_record();
        let page = detail_page(&craftsman(Language::Indonesian), &record);
        // The e-mail's body, not its document: `assert_self_contained` below finds
        // one `<html` and one `</body>`.
        for expected in [
            "<html lang=\"id\">",
            "<title>PO-2026/0042 · jembatan</title>",
            "<a href=\"/inbox\">← Semua pesanan</a>",
            "Kursi rotan",
            "kode pembeli KR-01",
            "10 buah",
            "IDR 185.000,00",
            "IDR 1.850.000,00",
            "2,5 kg",
            "Jl. Raya Bogor No. 12",
            "5 Desember 2026",
            "Mohon dikemas rapi",
            "IDR 2.164.500,00",
        ] {
            assert!(page.contains(expected), "missing {expected:?} in:\n{page}");
        }
        assert_self_contained(&page);

        let page = detail_page(&craftsman(Language::English), &record);
        for expected in [
            "<html lang=\"en\">",
            "<a href=\"/inbox\">← All orders</a>",
            "10 pcs",
            "buyer code KR-01",
            "IDR 1,850,000.00",
            "5 December 2026",
            "Total payable",
        ] {
            assert!(page.contains(expected), "missing {expected:?} in:\n{page}");
        }
        assert_self_contained(&page);
    }

    #[test]
    fn the_login_form_posts_a_password_field_and_never_echoes_a_token() {
        let page = login_page(Language::Indonesian, None);
        assert!(page.contains("<form method=\"post\" action=\"/inbox/login\">"));
        assert!(page.contains("name=\"token\" type=\"password\""));
        assert!(page.contains("Masuk"));
        assert!(!page.contains("value="));
        assert!(!page.contains("class=\"error\""));
        assert!(!page.contains("/inbox/logout"));
        assert_self_contained(&page);

        let page = login_page(Language::English, Some(ENGLISH.wrong_token));
        assert!(page.contains("<p class=\"error\" role=\"alert\">That token is not known."));
        assert!(page.contains("Log in"));
        assert_self_contained(&page);

        let page = not_found_page(&craftsman(Language::English));
        assert!(page.contains("Order not found"));
        assert_self_contained(&page);
    }

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

    #[test]
    fn url_components_are_percent_encoded() {
        assert_eq!(url_component("ord_0193abc-x.y~"), "ord_0193abc-x.y~");
        assert_eq!(url_component("a b/c?d&e#f"), "a%20b%2Fc%3Fd%26e%23f");
        assert_eq!(url_component("é"), "%C3%A9");
    }
}
