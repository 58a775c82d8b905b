//! Request observation: a request id on every request and response, one access-log
//! line per request, and the request metrics.
//!
//! The access log line (target `access`, level DEBUG, so it costs nothing unless an
//! operator turns it on with `TESSERA_LOG__LEVEL=info,access=debug`) carries method, route pattern, path, status, latency and request
//! id — never headers, query strings or bodies, which is where credentials travel.
//! A path segment that looks like a credential (a client that put a token where
//! an id belongs) is logged as `[redacted]`: see [`loggable_path`].
//!
//! A handler that panics does not drop the connection: the panic is caught here
//! and answered with a 500 carrying the request id (see
//! [`crate::error::panic_response`]), and counted in `tessera_http_panics_total`.
//! The panic hook of the process logs it once, inside the request's span.

use std::cell::Cell;
use std::panic::AssertUnwindSafe;
use std::rc::Rc;
use std::time::{Duration, Instant};

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, web};
use futures_util::{FutureExt as _, StreamExt as _};
use tracing::Instrument;

use crate::AppState;
use crate::metrics::{RequestLabels, RouteLabels};

/// The request id header, read from trusted proxies and echoed on every response.
pub const REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// The id of the current request, available to handlers as request extension.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// Accepts a caller's request id when it is short and plain; otherwise makes one.
fn request_id(req: &ServiceRequest) -> String {
    req.headers()
        .get(&REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            !v.is_empty()
                && v.len() <= 64
                && v.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        })
        .map_or_else(|| uuid::Uuid::now_v7().to_string(), str::to_owned)
}

/// Merges repeated slashes in the request path before routing (an SDK given
/// `https://host/` as its base URL calls `//zitadel…/Method`), as actix-web's
/// `NormalizePath::new(TrailingSlash::MergeOnly)` does, but without running
/// its regular expression over the path of every request: only a path that
/// holds `//` is rewritten (a profile of `GetUserByID` put that regex at
/// about 3 % of the server's time, docs/performance.md).
pub async fn merge_slashes(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody + 'static>, actix_web::Error> {
    if req.path().contains("//") {
        let uri = &req.head().uri;
        let mut path = String::with_capacity(uri.path().len());
        for c in uri.path().chars() {
            if !(c == '/' && path.ends_with('/')) {
                path.push(c);
            }
        }
        if let Some(query) = uri.query() {
            path.push('?');
            path.push_str(query);
        }
        let mut parts = uri.clone().into_parts();
        // The merged path of a valid path is valid; were it not, the request
        // goes on unchanged and routes as it came.
        if let Ok(pq) = actix_web::http::uri::PathAndQuery::try_from(path)
            && let Ok(merged) = {
                parts.path_and_query = Some(pq);
                actix_web::http::Uri::from_parts(parts)
            }
        {
            req.match_info_mut().get_mut().update(&merged);
            req.head_mut().uri = merged;
        }
    }
    next.call(req).await
}

/// Longest path segment logged as is; ids, Connect service and method names are
/// far shorter, JWTs and Tessera's credentials longer.
const MAX_LOGGED_SEGMENT: usize = 64;

/// The request path for the logs, with every segment that may be a credential —
/// one with Tessera's credential prefix `tsr_`, or longer than any id or method
/// name — replaced by `[redacted]`.
#[must_use]
pub fn loggable_path(path: &str) -> String {
    path.split('/')
        .map(
            |segment| {
                if segment.starts_with("tsr_") || segment.len() > MAX_LOGGED_SEGMENT { "[redacted]" } else { segment }
            },
        )
        .collect::<Vec<_>>()
        .join("/")
}

/// How long a request body may take when no state says otherwise.
const DEFAULT_BODY_TIMEOUT: Duration = Duration::from_secs(10);

/// Puts a deadline on reading the body of `req`, which runs from now (the
/// headers are in): a body still incomplete at the deadline ends in an I/O
/// error of kind `TimedOut`, and the returned flag is set. actix's
/// `client_request_timeout` covers the headers only, so without this a client
/// that announces `Content-Length: 1000` and sends 10 bytes holds a connection
/// and a handler for as long as it likes. Requests without a body are left
/// alone.
fn with_body_deadline(req: &mut ServiceRequest, timeout: Duration) -> Option<Rc<Cell<bool>>> {
    use actix_web::http::header;
    let headers = req.headers();
    let length = headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).map(str::trim);
    // HTTP/2 frames its bodies itself: a request may carry one with neither
    // header (crates/http/src/serve.rs hands such requests to this app).
    let framed = req.version() == actix_web::http::Version::HTTP_2 && length != Some("0");
    let has_body = framed || headers.contains_key(header::TRANSFER_ENCODING) || length.is_some_and(|v| v != "0");
    if !has_body {
        return None;
    }
    let flag = Rc::new(Cell::new(false));
    let deadline = actix_web::rt::time::Instant::now() + timeout;
    let payload = req.take_payload();
    let fired = flag.clone();
    let stream = futures_util::stream::unfold(Some(payload), move |payload| {
        let fired = fired.clone();
        async move {
            let mut payload = payload?;
            let left = deadline.saturating_duration_since(actix_web::rt::time::Instant::now());
            match actix_web::rt::time::timeout(left, payload.next()).await {
                Ok(Some(item)) => Some((item, Some(payload))),
                Ok(None) => None,
                Err(_) => {
                    fired.set(true);
                    let error = std::io::Error::new(std::io::ErrorKind::TimedOut, "the request body timed out");
                    Some((Err(actix_web::error::PayloadError::Io(error)), None))
                }
            }
        }
    });
    let boxed: std::pin::Pin<Box<dyn futures_util::Stream<Item = Result<web::Bytes, actix_web::error::PayloadError>>>> =
        Box::pin(stream);
    req.set_payload(actix_web::dev::Payload::from(boxed));
    Some(flag)
}

/// The middleware; mount with `actix_web::middleware::from_fn(observe::middleware)`.
///
/// # Errors
/// Passes through errors of the inner service (after recording them).
pub async fn middleware(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<actix_web::body::EitherBody<impl MessageBody + 'static>>, actix_web::Error> {
    let started = Instant::now();
    let id = request_id(&req);
    req.extensions_mut().insert(RequestId(id.clone()));
    let method = req.method().as_str().to_owned();
    let path = loggable_path(req.path());
    let span = tracing::info_span!("request", request_id = %id, method = %method, path = %path);
    let raw_path = req.path().to_owned();
    let state = req.app_data::<web::Data<AppState>>();
    let metrics = state.map(|s| s.metrics.clone());
    let body_timeout = state.map_or(DEFAULT_BODY_TIMEOUT, |s| s.body_timeout);
    let timed_out = with_body_deadline(&mut req, body_timeout);

    // The handler's future is dropped after a panic and never polled again, so
    // nothing observes the state it left half-updated.
    let Ok(result) = AssertUnwindSafe(next.call(req).instrument(span.clone())).catch_unwind().await else {
        if let Some(metrics) = metrics {
            metrics.panics.inc();
        }
        let mut res = crate::error::panic_response(&raw_path);
        if let Ok(value) = HeaderValue::from_str(&id) {
            res.headers_mut().insert(REQUEST_ID_HEADER, value);
        }
        // The request was consumed by the handler, so the answer travels as an
        // error that carries its finished response.
        return Err(actix_web::error::InternalError::from_response("handler panicked", res).into());
    };
    let elapsed = started.elapsed();
    let _guard = span.enter();
    // A body that did not arrive in time: whatever the handler made of the
    // broken body, the answer is 408 and the connection is closed.
    let result = match (result, timed_out) {
        (Ok(res), Some(flag)) if flag.get() => {
            let (http_req, _) = res.into_parts();
            let mut timeout = crate::error::body_timeout_response(&raw_path);
            timeout.head_mut().set_connection_type(actix_web::http::ConnectionType::Close);
            Ok(ServiceResponse::new(http_req, timeout).map_into_right_body())
        }
        (result, _) => result.map(ServiceResponse::map_into_left_body),
    };
    match result {
        Ok(mut res) => {
            let status = res.status().as_u16();
            let route = res.request().match_pattern().unwrap_or_else(|| "unmatched".to_owned());
            if let Some(state) = res.request().app_data::<web::Data<AppState>>() {
                state
                    .metrics
                    .requests
                    .get_or_create(&RequestLabels { method: method.clone(), route: route.clone(), status })
                    .inc();
                state
                    .metrics
                    .latency
                    .get_or_create(&RouteLabels { method: method.clone(), route: route.clone() })
                    .observe(elapsed.as_secs_f64());
            }
            if let Ok(value) = HeaderValue::from_str(&id) {
                res.headers_mut().insert(REQUEST_ID_HEADER, value);
            }
            tracing::debug!(target: "access", status, route = %route, latency_ms = elapsed.as_secs_f64() * 1000.0, "request");
            Ok(res)
        }
        Err(err) => {
            tracing::warn!(latency_ms = elapsed.as_secs_f64() * 1000.0, error = %err, "request failed");
            Err(err)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Repeated slashes are merged before routing; the query is kept.
    #[actix_web::test]
    async fn repeated_slashes_are_merged_before_routing() {
        use actix_web::{App, HttpRequest, test, web};
        let app = test::init_service(App::new().wrap(actix_web::middleware::from_fn(merge_slashes)).route(
            "/a/b",
            web::get().to(|r: HttpRequest| async move { format!("{}?{}", r.path(), r.query_string()) }),
        ))
        .await;
        for uri in ["/a/b?x=1", "//a//b?x=1", "///a/b?x=1"] {
            let res = test::call_service(&app, test::TestRequest::get().uri(uri).to_request()).await;
            assert!(res.status().is_success(), "{uri}");
            assert_eq!(test::read_body(res).await, "/a/b?x=1", "{uri}");
        }
        let res = test::call_service(&app, test::TestRequest::get().uri("/a/c").to_request()).await;
        assert_eq!(res.status().as_u16(), 404);
    }

    #[test]
    fn paths_keep_ids_and_method_names_but_not_credentials() {
        let id = "01a22d1b-7115-7305-bdd0-dd3eae66de0c";
        assert_eq!(loggable_path(&format!("/v2/users/{id}/pats")), format!("/v2/users/{id}/pats"));
        let connect = "/zitadel.internal_permission.v2beta.InternalPermissionService/CreateAdministrator";
        assert_eq!(loggable_path(connect), connect);
        assert_eq!(loggable_path("/v2/users/tsr_pat_short/pats"), "/v2/users/[redacted]/pats");
        let jwt = format!("eyJhbGciOiJSUzI1NiJ9.{}.sig", "e".repeat(60));
        assert_eq!(loggable_path(&format!("/v2/users/{jwt}")), "/v2/users/[redacted]");
        assert_eq!(loggable_path("/"), "/");
    }

    /// A panic becomes a 500 with a request id and the endpoint's error shape,
    /// never a dropped connection.
    #[test]
    fn a_panicking_handler_answers_500_with_a_request_id() {
        actix_web::rt::System::new().block_on(async {
            async fn boom() -> &'static str {
                panic!("a bug")
            }
            let app = actix_web::test::init_service(
                actix_web::App::new()
                    .wrap(actix_web::middleware::from_fn(middleware))
                    .route("/zitadel.user.v2.UserService/ListUsers", web::post().to(boom))
                    .route("/oauth/v2/token", web::post().to(boom)),
            )
            .await;
            for (path, body) in [
                (
                    "/zitadel.user.v2.UserService/ListUsers",
                    serde_json::json!({"code": "internal", "message": "internal error"}),
                ),
                (
                    "/oauth/v2/token",
                    serde_json::json!({"error": "server_error", "error_description": "internal error"}),
                ),
            ] {
                let req =
                    actix_web::test::TestRequest::post().uri(path).insert_header(("x-request-id", "r-1")).to_request();
                // actix's dispatcher renders a middleware's error as its response.
                let Err(err) = actix_web::test::try_call_service(&app, req).await else { panic!("a response") };
                let res = err.error_response();
                assert_eq!(res.status(), 500);
                assert_eq!(res.headers().get("x-request-id").unwrap(), "r-1");
                let bytes = actix_web::body::to_bytes(res.into_body()).await.unwrap();
                let got: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
                assert_eq!(got, body);
            }
        });
    }
}
