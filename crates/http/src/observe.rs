//! Request observation: a request id on every request and response, one access-log
//! line per request, and the request metrics.
//!
//! The access log line (target `access`, level DEBUG, so it costs nothing unless an
//! operator turns it on with `TESSERA_LOG__LEVEL=info,access=debug`) carries method, route pattern, path, status, latency and request
//! id — never headers, query strings or bodies, which is where credentials travel.
//! A path segment that looks like a credential (a client that put a token where
//! an id belongs) is logged as `[redacted]`: see [`loggable_path`].

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, web};
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

/// The middleware; mount with `actix_web::middleware::from_fn(observe::middleware)`.
///
/// # Errors
/// Passes through errors of the inner service (after recording them).
pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody + 'static>, actix_web::Error> {
    let started = Instant::now();
    let id = request_id(&req);
    req.extensions_mut().insert(RequestId(id.clone()));
    let method = req.method().as_str().to_owned();
    let path = loggable_path(req.path());
    let span = tracing::info_span!("request", request_id = %id, method = %method, path = %path);

    let result = next.call(req).instrument(span.clone()).await;
    let elapsed = started.elapsed();
    let _guard = span.enter();
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
}
