//! What a request that no route takes is answered: 405 with `Allow` when the path
//! is one of ours and only the method is wrong, else 404; both as problem+json.
//!
//! actix's `#[get]`-style services guard the whole resource by method, so a wrong
//! method falls through to the default service as if the path did not exist. The
//! methods each path serves are read from the OpenAPI document, which is collected
//! from the mounted services, so this table cannot drift from the routes.

use actix_web::http::StatusCode;
use actix_web::http::header::ALLOW;
use actix_web::{HttpRequest, HttpResponse, web};
use utoipa::openapi::OpenApi;

use crate::error::{Problem, problem_response};

/// Every documented path, as segments (`None` for a `{param}`), with the methods
/// it serves.
pub(crate) struct KnownRoutes(Vec<(Vec<Option<String>>, Vec<&'static str>)>);

impl KnownRoutes {
    /// The paths and methods of `openapi`, plus `extra` routes it does not list.
    pub(crate) fn new(openapi: &OpenApi, extra: &[(&str, &'static str)]) -> Self {
        let mut routes: Vec<(Vec<Option<String>>, Vec<&'static str>)> = Vec::new();
        let mut add = |path: &str, method: &'static str| {
            let segments = segments_of(path);
            match routes.iter_mut().find(|(s, _)| *s == segments) {
                Some((_, methods)) => methods.push(method),
                None => routes.push((segments, vec![method])),
            }
        };
        for (path, item) in &openapi.paths.paths {
            for (method, operation) in [
                ("GET", &item.get),
                ("POST", &item.post),
                ("PUT", &item.put),
                ("PATCH", &item.patch),
                ("DELETE", &item.delete),
            ] {
                if operation.is_some() {
                    add(path, method);
                }
            }
        }
        for (path, method) in extra {
            add(path, method);
        }
        Self(routes)
    }

    /// The methods `path` is served with, if it is one of ours.
    fn allowed(&self, path: &str) -> Option<&[&'static str]> {
        let wanted: Vec<&str> = path.split('/').collect();
        self.0
            .iter()
            .find(|(segments, _)| {
                segments.len() == wanted.len()
                    && segments.iter().zip(&wanted).all(|(s, w)| match s {
                        Some(literal) => literal == w,
                        None => !w.is_empty(),
                    })
            })
            .map(|(_, methods)| methods.as_slice())
    }
}

fn segments_of(path: &str) -> Vec<Option<String>> {
    path.split('/')
        .map(|s| (!(s.starts_with('{') && s.ends_with('}'))).then(|| s.to_owned()))
        .collect()
}

/// The default service: 405 with `Allow` for a known path, else 404.
pub(crate) async fn no_route(req: HttpRequest, known: web::Data<KnownRoutes>) -> HttpResponse {
    let Some(methods) = known.allowed(req.path()) else {
        return problem_response(&Problem::new(
            "not-found",
            "Not found",
            StatusCode::NOT_FOUND,
            format!("no route for {} {}", req.method(), req.path()),
        ));
    };
    let allow = methods.join(", ");
    let mut response = problem_response(&Problem::new(
        "method-not-allowed",
        "Method not allowed",
        StatusCode::METHOD_NOT_ALLOWED,
        format!("{} takes {allow}, not {}", req.path(), req.method()),
    ));
    response.headers_mut().insert(
        ALLOW,
        allow
            .parse()
            .expect("method names are a valid header value"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_match_one_non_empty_segment() {
        let routes = KnownRoutes(vec![
            (segments_of("/v1/orders/{id}"), vec!["GET"]),
            (segments_of("/v1/orders"), vec!["GET", "POST"]),
        ]);
        assert_eq!(routes.allowed("/v1/orders/ord_1"), Some(&["GET"][..]));
        assert_eq!(routes.allowed("/v1/orders"), Some(&["GET", "POST"][..]));
        assert_eq!(routes.allowed("/v1/orders/"), None);
        assert_eq!(routes.allowed("/v1/orders/a/b"), None);
        assert_eq!(routes.allowed("/v1/nothing"), None);
    }
}
