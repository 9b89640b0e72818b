//! `/inbox`: the craftsman's inbox as a page for a phone.
//!
//! Server-rendered HTML with its CSS inline: no script and nothing loaded from
//! elsewhere, so it works on a cheap phone on a slow network. It shows what
//! `/v1/inbox` shows (through [`super::inbox`]), in the craftsman's language; an
//! order looks as it does in the e-mail ([`render::html_body`]).
//!
//! The craftsman logs in with the token the admin gave them, which opens a
//! server-side session (see `session`): the page keeps the session's random id,
//! never the token, in an `HttpOnly`, `SameSite=Strict` cookie scoped to `/inbox`.
//! The session ends at logout, at its expiry (`inbox_session_ttl_secs`), and when
//! the admin rotates or revokes the token. A program may send the token as
//! `Authorization: Bearer` instead. The token is read only from a POST body or that
//! header: it is never put in a cookie, a URL, a page or a log line. Login and
//! logout take only posts from the gateway's own page (`Origin`). Every answer is
//! `no-store`, since every answer may show a buyer's order.
//!
//! These are pages for people, not API resources: every answer, errors included,
//! is `text/html`, and they are not in the OpenAPI document.

mod answer;
mod session;
mod views;

use std::collections::{BTreeSet, HashMap};

use actix_web::http::StatusCode;
use actix_web::http::header::{
    CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE, LOCATION, SET_COOKIE, WWW_AUTHENTICATE,
};
use actix_web::{HttpRequest, HttpResponse, HttpResponseBuilder, ResponseError, web};
use serde::Deserialize;

use super::inbox;
use super::{AppState, auth};
use crate::delivery::channels::Language;
use crate::delivery::render::{self, escape};
use crate::error::ApiError;
use crate::responses::AnswerError;
use crate::store::Craftsman;
use jembatan_schemas::order_response::ResponseVia;
use session::{
    MAX_TOKEN_BYTES, Visitor, clear_cookie, end_session, from_own_page, is_https, lookup,
    start_session, visitor, visitor_language,
};
use views::{Notice, detail_page, document, list_page, login_page, not_found_page, words};

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
        .service(web::resource("/inbox/{order_id}").route(web::get().to(order_page)))
        .service(
            web::resource("/inbox/{order_id}/response")
                .route(web::post().to(respond))
                .route(web::get().to(back_to_order)),
        )
        .service(web::resource("/inbox/{order_id}/files/{n}").route(web::get().to(embedded_file)));
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
        Ok(visitor @ (Visitor::Rejected | Visitor::SessionEnded)) => {
            let language = visitor_language(&req);
            let w = words(language);
            let why = match visitor {
                Visitor::SessionEnded => w.session_ended,
                _ => w.wrong_token,
            };
            let mut res = login_response(language, StatusCode::UNAUTHORIZED, Some(why));
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
    let page = match inbox::page(&state, &craftsman.id, PAGE_SIZE, after).await {
        Ok(page) => page,
        Err(err) => return failure(craftsman.language, Some(&craftsman.name), err),
    };
    let buyer_ids: BTreeSet<&str> = page.orders.iter().map(|o| o.buyer_id.as_str()).collect();
    let mut buyers = HashMap::new();
    for id in buyer_ids {
        match registered_name(&state, id).await {
            Ok(name) => buyers.insert(id.to_owned(), name),
            Err(err) => return failure(craftsman.language, Some(&craftsman.name), err),
        };
    }
    html(StatusCode::OK).body(list_page(
        &craftsman,
        &page.orders,
        &buyers,
        page.next_cursor.as_deref(),
        first_page,
    ))
}

/// The name a buyer is registered under, which the page shows as who sent an
/// order: a document can name any company as its buyer, the registration cannot
/// be forged by the buyer (the e-mail and the chats name it the same way).
async fn registered_name(state: &AppState, buyer_id: &str) -> Result<String, ApiError> {
    Ok(state
        .store
        .get_buyer(buyer_id)
        .await?
        .map_or_else(|| buyer_id.to_owned(), |buyer| buyer.name))
}

/// The signed-in craftsman of a page below `/inbox`, or the answer to give
/// instead: back to `/inbox`, whose form says so if the token was wrong.
async fn signed_in(state: &AppState, req: &HttpRequest) -> Result<Craftsman, HttpResponse> {
    match visitor(state, req).await {
        Ok(Visitor::Craftsman(craftsman)) => Ok(craftsman),
        Ok(Visitor::Anonymous | Visitor::Rejected | Visitor::SessionEnded) => {
            Err(see_inbox(visitor_language(req)))
        }
        Err(err) => Err(failure(visitor_language(req), None, err)),
    }
}

/// `GET /inbox/{order_id}`: one order in full, with the craftsman's answer and the
/// forms to give one. Another craftsman's order and an unknown id get the same 404
/// page, so the page never tells that an order exists. `?answered` (where an
/// answer's post leads) says the answer was sent.
async fn order_page(req: HttpRequest, order_id: web::Path<String>) -> HttpResponse {
    let state = auth::state(&req);
    let craftsman = match signed_in(&state, &req).await {
        Ok(craftsman) => craftsman,
        Err(page) => return page,
    };
    let notice = (req.query_string() == "answered").then_some(Notice::Saved);
    show_order(&state, &craftsman, &order_id, StatusCode::OK, notice).await
}

/// The order page as it is now, with `status` and `notice` above the order.
async fn show_order(
    state: &AppState,
    craftsman: &Craftsman,
    order_id: &str,
    status: StatusCode,
    notice: Option<Notice<'_>>,
) -> HttpResponse {
    let shown = async {
        let record = inbox::order(state, &craftsman.id, order_id).await?;
        let buyer_name = registered_name(state, &record.buyer_id).await?;
        let history = state.store.order_responses(&record.id).await?;
        Ok::<_, ApiError>((record, buyer_name, history))
    };
    match shown.await {
        Ok((record, buyer_name, history)) => html(status).body(detail_page(
            craftsman,
            &record,
            &buyer_name,
            &history,
            notice,
        )),
        Err(ApiError::NotFound(_)) => html(StatusCode::NOT_FOUND).body(not_found_page(craftsman)),
        Err(err) => failure(craftsman.language, Some(&craftsman.name), err),
    }
}

/// `POST /inbox/{order_id}/response`: the craftsman's answer from the order page's
/// forms. Taken as the API takes it (`crate::responses`), then back to the order,
/// which says it was sent; a refusal shows the order again with what to fix.
async fn respond(
    req: HttpRequest,
    order_id: web::Path<String>,
    form: Result<web::Form<Vec<(String, String)>>, actix_web::Error>,
) -> HttpResponse {
    let state = auth::state(&req);
    let craftsman = match signed_in(&state, &req).await {
        Ok(craftsman) => craftsman,
        Err(page) => return page,
    };
    let language = craftsman.language;
    let aw = answer::answer_words(language);
    if !from_own_page(&req) {
        tracing::info!(craftsman_id = %craftsman.id, "inbox page answer refused: posted from another site's page");
        let why = words(language).foreign_origin;
        return show_order(
            &state,
            &craftsman,
            &order_id,
            StatusCode::FORBIDDEN,
            Some(Notice::Refused(why)),
        )
        .await;
    }
    let record = match inbox::order(&state, &craftsman.id, &order_id).await {
        Ok(record) => record,
        Err(ApiError::NotFound(_)) => {
            return html(StatusCode::NOT_FOUND).body(not_found_page(&craftsman));
        }
        Err(err) => return failure(language, Some(&craftsman.name), err),
    };
    // The error is not shown or logged: it could quote the body.
    let Ok(form) = form else {
        let why = words(language).unreadable_form;
        return show_order(
            &state,
            &craftsman,
            &order_id,
            StatusCode::BAD_REQUEST,
            Some(Notice::Refused(why)),
        )
        .await;
    };
    let answer = match answer::read_form(language, &record, &form) {
        Ok(answer) => answer,
        Err(why) => {
            return show_order(
                &state,
                &craftsman,
                &order_id,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(Notice::Refused(&why)),
            )
            .await;
        }
    };
    let taken = state
        .responses
        .answer(&record, &craftsman, answer, ResponseVia::Inbox, None)
        .await;
    let (status, why) = match taken {
        Ok(_) => {
            let to = format!(
                "/inbox/{}?answered#answer",
                views::url_component(&record.id)
            );
            return html(StatusCode::SEE_OTHER)
                .insert_header((LOCATION, to.clone()))
                .body(document(
                    language,
                    aw.saved,
                    Some(&craftsman.name),
                    &format!(
                        "<p><a href=\"{}\">{}</a></p>",
                        escape(&to),
                        escape(aw.saved)
                    ),
                ));
        }
        Err(AnswerError::Invalid { why, .. }) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("{}: {why}", aw.not_taken),
        ),
        Err(AnswerError::Final { .. }) => (StatusCode::CONFLICT, aw.already_rejected.to_owned()),
        Err(AnswerError::Raced { .. }) => (StatusCode::CONFLICT, aw.raced.to_owned()),
        Err(err) => return failure(language, Some(&craftsman.name), err.into()),
    };
    show_order(
        &state,
        &craftsman,
        &order_id,
        status,
        Some(Notice::Refused(&why)),
    )
    .await
}

/// `GET /inbox/{order_id}/response` (a reload after an answer): back to the order.
async fn back_to_order(req: HttpRequest, order_id: web::Path<String>) -> HttpResponse {
    let to = format!("/inbox/{}", views::url_component(&order_id));
    html(StatusCode::SEE_OTHER)
        .insert_header((LOCATION, to.clone()))
        .body(document(
            visitor_language(&req),
            "jembatan",
            None,
            &format!("<p><a href=\"{}\">{}</a></p>", escape(&to), escape(&to)),
        ))
}

/// `GET /inbox/{order_id}/files/{n}`: the `n`th file the buyer embedded in the
/// order (a drawing, a specification), as a download. Only the craftsman the order
/// is routed to gets it. It is sent as an attachment, never shown in the page's
/// origin: a buyer's file is not trusted to be what its media type says, so it is
/// also sandboxed and not sniffed.
async fn embedded_file(req: HttpRequest, path: web::Path<(String, usize)>) -> HttpResponse {
    let state = auth::state(&req);
    let craftsman = match signed_in(&state, &req).await {
        Ok(craftsman) => craftsman,
        Err(page) => return page,
    };
    let (order_id, n) = path.into_inner();
    let record = match inbox::order(&state, &craftsman.id, &order_id).await {
        Ok(record) => record,
        Err(ApiError::NotFound(_)) => {
            return html(StatusCode::NOT_FOUND).body(not_found_page(&craftsman));
        }
        Err(err) => return failure(craftsman.language, Some(&craftsman.name), err),
    };
    let Some(file) = render::embedded_files(&record.order).into_iter().nth(n) else {
        return html(StatusCode::NOT_FOUND).body(not_found_page(&craftsman));
    };
    HttpResponse::Ok()
        .insert_header((CACHE_CONTROL, "private, no-store"))
        .insert_header((CONTENT_TYPE, file.media_type))
        // `file.name` holds only letters, digits, `-`, `_` and `.` (`file_stem`).
        .insert_header((
            CONTENT_DISPOSITION,
            format!("attachment; filename=\"{}\"", file.name),
        ))
        .insert_header(("content-security-policy", "sandbox; default-src 'none'"))
        .insert_header(("x-content-type-options", "nosniff"))
        .insert_header(("referrer-policy", REFERRER_POLICY))
        .body(file.bytes)
}

/// The login form's fields.
#[derive(Deserialize)]
struct LoginForm {
    token: String,
}

/// `POST /inbox/login`: checks the token and opens a session, whose id goes in
/// the cookie.
async fn login(
    req: HttpRequest,
    form: Result<web::Form<LoginForm>, actix_web::Error>,
) -> HttpResponse {
    let language = visitor_language(&req);
    let w = words(language);
    if !from_own_page(&req) {
        tracing::info!("inbox page login refused: posted from another site's page");
        return login_response(language, StatusCode::FORBIDDEN, Some(w.foreign_origin));
    }
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
        Ok(Some(craftsman)) => match start_session(&state, &req, &craftsman).await {
            Ok(cookie) => {
                tracing::info!(craftsman_id = %craftsman.id, "craftsman logged in to the inbox page");
                let mut res = see_inbox(craftsman.language);
                append_cookie(&mut res, &cookie);
                res
            }
            Err(err) => failure(language, None, err),
        },
        Ok(None) => {
            tracing::info!("inbox page login refused: the token is no craftsman's");
            login_response(language, StatusCode::UNAUTHORIZED, Some(w.wrong_token))
        }
        Err(err) => failure(language, None, err),
    }
}

/// `POST /inbox/logout`: ends the session on the server, so its cookie opens
/// nothing even if a copy survives, and tells the browser to forget it.
async fn logout(req: HttpRequest) -> HttpResponse {
    let language = visitor_language(&req);
    if !from_own_page(&req) {
        tracing::info!("inbox page logout refused: posted from another site's page");
        return login_response(
            language,
            StatusCode::FORBIDDEN,
            Some(words(language).foreign_origin),
        );
    }
    match end_session(&auth::state(&req), &req).await {
        Ok(true) => tracing::info!("inbox page session ended at logout"),
        Ok(false) => {}
        Err(err) => return failure(language, None, err),
    }
    let mut res = see_inbox(language);
    append_cookie(&mut res, &clear_cookie(is_https(&req)));
    res
}

/// `GET /inbox/login` and `GET /inbox/logout`: nothing to do there but go back.
async fn back_to_inbox(req: HttpRequest) -> HttpResponse {
    see_inbox(visitor_language(&req))
}

// ---------------------------------------------------------------------------
// Answers.

/// The pages' referrer policy, as a header and in each page's `<meta>`.
pub(super) const REFERRER_POLICY: &str = "same-origin";

/// A page's status and the headers every answer carries.
fn html(status: StatusCode) -> HttpResponseBuilder {
    let mut res = HttpResponse::build(status);
    res.insert_header((CACHE_CONTROL, "no-store"))
        .insert_header((CONTENT_TYPE, "text/html; charset=utf-8"))
        .insert_header(("content-security-policy", CONTENT_SECURITY_POLICY))
        .insert_header(("x-content-type-options", "nosniff"))
        // Not `no-referrer`: under it a browser sends `Origin: null` with the
        // page's own form posts (Fetch, "append a request `Origin` header"), and
        // the login and logout forms would be refused as posted from another site.
        // `same-origin` still tells no other site which order was open.
        .insert_header(("referrer-policy", REFERRER_POLICY));
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
