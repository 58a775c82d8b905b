//! The Connect protocol, unary calls with the JSON codec
//! (<https://connectrpc.com/docs/protocol>): request decoding, response encoding,
//! and the dispatch from `<service>/<method>` to handlers.
//!
//! Decoding rules: `Content-Type: application/json` (parameters such as a charset
//! allowed); an empty body is the empty message (the official SDK sends `{}`, other
//! clients nothing); bodies over [`MAX_BODY`] are refused with
//! `resource_exhausted`; unknown fields are ignored and snake_case names accepted
//! (proto3 JSON mapping). Errors name the offending field, never its value.

use std::future::Future;

use actix_web::http::header;
use actix_web::web::{self, Bytes};
use actix_web::{FromRequest, HttpRequest, HttpResponse};
use futures_util::StreamExt;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::protocol::Protocol;
use super::wire;
use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ConnectCode};
use tessera_core::Ctx;

/// Largest request body accepted.
pub const MAX_BODY: usize = 1024 * 1024;

/// Mounts one static route per method of `proto/`, which actix matches by
/// string comparison; [`fallback_routes`] takes every other
/// `/<package>.<Service>/<Method>` (the `unimplemented` answer). Matching the
/// pattern route for every call, behind every REST route, cost about a tenth
/// of a call's time (docs/performance.md).
pub fn routes(cfg: &mut web::ServiceConfig) {
    for m in tessera_proto::METHODS {
        cfg.route(&format!("/{}/{}", m.service, m.name), web::post().to(unary));
    }
}

/// The pattern route, mounted after every other route (REST paths never match
/// it; a regex tried first would cost every REST call).
pub fn fallback_routes(cfg: &mut web::ServiceConfig) {
    cfg.route(CONNECT_PATTERN, web::post().to(unary)).route(
        CONNECT_PATTERN,
        web::route().to(|| async {
            Err::<HttpResponse, _>(ApiError::new(ConnectCode::Unimplemented, "Connect unary calls use POST"))
        }),
    );
}

/// Any `/<package>.<Service>/<Method>` of ZITADEL's or Tessera's packages.
const CONNECT_PATTERN: &str = r"/{service:(zitadel|tessera)\.[a-z0-9_.]+\.[A-Za-z]+}/{method}";

/// One incoming call: what a handler needs before it knows its request type.
pub struct Call {
    req: HttpRequest,
    body: Bytes,
    /// Stop after decoding: [`decode_request`].
    decode_only: bool,
}

impl Call {
    /// The body as a JSON object (snake_case keys camelized), or `None` when it
    /// is not one; for services that translate an older message shape before
    /// handing the call on (the handler then reports the decoding error, after
    /// authentication).
    #[must_use]
    pub fn json(&self) -> Option<Value> {
        decode::<Value>(&self.body).ok()
    }

    /// The same call (same request and caller) with another body.
    #[must_use]
    pub fn with_json(&self, body: &Value) -> Self {
        Self {
            req: self.req.clone(),
            body: Bytes::from(serde_json::to_vec(body).unwrap_or_default()),
            decode_only: self.decode_only,
        }
    }

    /// The HTTP request (headers such as `x-zitadel-orgid`; gRPC metadata
    /// arrives as headers too).
    #[must_use]
    pub fn request(&self) -> &HttpRequest {
        &self.req
    }

    /// Authenticates the caller and decodes the body into `Req`.
    async fn open<Req: DeserializeOwned>(&self) -> Result<(Ctx, Req), ApiError> {
        if self.decode_only {
            decode::<Req>(&self.body)?;
            return Err(ApiError::new(ConnectCode::Aborted, DECODED));
        }
        let caller = Caller::extract(&self.req).await?;
        let state = self
            .req
            .app_data::<web::Data<AppState>>()
            .ok_or_else(|| ApiError::new(ConnectCode::Internal, "internal error"))?
            .get_ref()
            .clone();
        let req = decode(&self.body)?;
        Ok((state.ctx(caller.0), req))
    }

    /// Runs `handler` on this call.
    ///
    /// # Errors
    /// Authentication, decoding, and the handler's own errors.
    pub async fn run<Req, Res, Fut>(&self, handler: impl FnOnce(Ctx, Req) -> Fut) -> Result<Value, ApiError>
    where
        Req: DeserializeOwned,
        Res: Serialize,
        Fut: Future<Output = Result<Res, ApiError>>,
    {
        let (ctx, req) = self.open::<Req>().await?;
        let res = handler(ctx, req).await?;
        serde_json::to_value(res).map_err(|e| {
            crate::error::log_internal(&e);
            ApiError::new(ConnectCode::Internal, "internal error")
        })
    }
}

/// Decodes a JSON request body (empty = `{}`) by the proto3 JSON rules.
///
/// # Errors
/// `invalid_argument` naming the field that did not decode.
pub fn decode<Req: DeserializeOwned>(body: &[u8]) -> Result<Req, ApiError> {
    let value: Value = if body.iter().all(u8::is_ascii_whitespace) {
        Value::Object(serde_json::Map::new())
    } else {
        serde_json::from_slice(body)
            .map_err(|e| ApiError::new(ConnectCode::InvalidArgument, format!("request body is not valid JSON ({e})")))?
    };
    if !value.is_object() {
        return Err(ApiError::new(ConnectCode::InvalidArgument, "request body must be a JSON object"));
    }
    decode_value(wire::camelize_keys(value))
}

/// Decodes an already parsed request.
///
/// # Errors
/// `invalid_argument` naming the field that did not decode.
pub fn decode_value<Req: DeserializeOwned>(value: Value) -> Result<Req, ApiError> {
    wire::check_shape(&value).map_err(|reason| ApiError::new(ConnectCode::InvalidArgument, reason))?;
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner().to_string();
        // serde's own type errors quote the offending value; never echo input.
        let reason = if inner.contains('"') || inner.contains('`') { "has an invalid value".to_owned() } else { inner };
        let field = if path == "." { "request".to_owned() } else { format!("field {path}") };
        ApiError::new(ConnectCode::InvalidArgument, format!("{field}: {reason}"))
    })
}

/// Reads the body, refusing more than [`MAX_BODY`] bytes.
pub(crate) async fn read_body(mut payload: web::Payload) -> Result<Bytes, ApiError> {
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|_| ApiError::new(ConnectCode::InvalidArgument, "cannot read the request body"))?;
        if body.len() + chunk.len() > MAX_BODY {
            return Err(ApiError::new(ConnectCode::ResourceExhausted, "request body exceeds 1 MiB"));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

/// Checks the content type of a Connect JSON call.
fn check_content_type(req: &HttpRequest) -> Result<(), ApiError> {
    let ok = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or_default().trim().eq_ignore_ascii_case("application/json"));
    match ok {
        Some(true) => Ok(()),
        _ => Err(ApiError::new(ConnectCode::InvalidArgument, "Content-Type must be application/json")),
    }
}

/// A successful Connect response.
pub fn ok(value: &Value) -> HttpResponse {
    HttpResponse::Ok().insert_header(header::CacheControl(vec![header::CacheDirective::NoStore])).json(value)
}

async fn unary(req: HttpRequest, payload: web::Payload) -> HttpResponse {
    // Both routes match exactly `/<service>/<method>`.
    let (service, method) = req.path().trim_start_matches('/').split_once('/').unwrap_or_default();
    let (service, method) = (service.to_owned(), method.to_owned());
    let content_type = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let Some(protocol) = Protocol::of(content_type.as_deref()) else {
        return actix_web::ResponseError::error_response(&ApiError::new(
            ConnectCode::InvalidArgument,
            super::protocol::ACCEPTED,
        ));
    };
    match call(req, protocol, &service, &method, payload).await {
        Ok(message) => protocol.ok(content_type.as_deref(), message),
        Err(e) => protocol.error(content_type.as_deref(), &e),
    }
}

/// The `unimplemented` answer for `service`/`method`. Names only what looks
/// like a method name: a client that put a token in the path must not get it
/// back in an error (CONVENTIONS.md §11).
fn unknown_method(service: &str, method: &str) -> ApiError {
    ApiError::new(
        ConnectCode::Unimplemented,
        match super::wire::key_name(method) {
            Some(name) => format!("unknown method {service}/{name}"),
            None => format!("unknown method of {service}"),
        },
    )
}

/// Runs one call in any protocol: the message out of its envelope, binary
/// protobuf to proto3 JSON by the method's generated codec, the handler, and
/// the answer back into the request's codec.
async fn call(
    req: HttpRequest,
    protocol: Protocol,
    service: &str,
    method: &str,
    payload: web::Payload,
) -> Result<Vec<u8>, ApiError> {
    let body = read_body(payload).await?;
    let message = protocol.open(&body)?;
    let codec = if protocol.is_binary() {
        Some(tessera_proto::method(service, method).ok_or_else(|| unknown_method(service, method))?.codec)
    } else {
        None
    };
    let json = match codec {
        Some(codec) => {
            codec.request_to_json(&message).map_err(|e| ApiError::new(ConnectCode::InvalidArgument, e.to_string()))?
        }
        None => message,
    };
    let call = Call { req, body: Bytes::from(json), decode_only: false };
    let value = dispatch(service, method, &call).await.ok_or_else(|| unknown_method(service, method))??;
    let json = serde_json::to_vec(&value).map_err(|e| {
        crate::error::log_internal(&e);
        ApiError::new(ConnectCode::Internal, "internal error")
    })?;
    match codec {
        Some(codec) => codec.response_to_binary(&json).map_err(|e| {
            crate::error::log_internal(&e);
            ApiError::new(ConnectCode::Internal, "internal error")
        }),
        None => Ok(json),
    }
}

/// The marker [`Call::open`] stops with in decode-only mode.
const DECODED: &str = "decoded";

/// Decodes `body` as the request message of `service`/`method`, exactly as a
/// call would before it authenticates the caller, and stops there: nothing is
/// read or written. `None` for an unknown method. This is the entry point of
/// the Connect JSON fuzz target (docs/security/fuzzing.md); it reaches every request
/// message through the same dispatch table as real calls.
///
/// # Errors
/// The `invalid_argument` a call with this body would get.
pub async fn decode_request(service: &str, method: &str, body: &[u8]) -> Option<Result<(), ApiError>> {
    let req = actix_web::test::TestRequest::default().to_http_request();
    let call = Call { req, body: Bytes::copy_from_slice(body), decode_only: true };
    match dispatch(service, method, &call).await? {
        Err(e) if e.code == ConnectCode::Aborted && e.message == DECODED => Some(Ok(())),
        Err(e) => Some(Err(e)),
        // A method that answers without decoding a request.
        Ok(_) => Some(Ok(())),
    }
}

/// Hands `call` to the service that implements `service`/`method`; `None`
/// when none does.
async fn dispatch(service: &str, method: &str, call: &Call) -> Option<Result<Value, ApiError>> {
    match service {
        "zitadel.user.v2.UserService" => super::user::dispatch(method, call).await,
        // v2beta's methods that v2 also has take the same messages on the wire
        // (proto/zitadel/user/v2beta declares exactly those): the v2 handlers
        // serve them. zitadel-go's and @zitadel/node's user clients call v2beta.
        "zitadel.user.v2beta.UserService" if tessera_proto::method(service, method).is_some() => {
            super::user::dispatch(method, call).await
        }
        "zitadel.org.v2.OrganizationService" => super::org::dispatch(method, call).await,
        "zitadel.internal_permission.v2.InternalPermissionService" => {
            super::internal_permission::dispatch(method, call).await
        }
        "tessera.policy.v1.PolicyService" => super::policy::dispatch(method, call).await,
        super::mgmt_v1::SERVICE => super::mgmt_v1::dispatch(method, call).await,
        "zitadel.project.v2.ProjectService" => super::project::dispatch(method, call, false).await,
        "zitadel.project.v2beta.ProjectService" => super::project::dispatch(method, call, true).await,
        "zitadel.application.v2.ApplicationService" => super::application::dispatch(method, call).await,
        "zitadel.app.v2beta.AppService" => super::app_v2beta::dispatch(method, call).await,
        "zitadel.authorization.v2.AuthorizationService" => super::authorization::dispatch(method, call, false).await,
        "zitadel.authorization.v2beta.AuthorizationService" => super::authorization::dispatch(method, call, true).await,
        _ => None,
    }
}

/// A REST call: path parameters merged into the JSON body, then the same handler.
pub struct RestCall {
    call: Call,
}

impl RestCall {
    /// Builds a call from a REST request: `params` (wire name, value) are set on
    /// the decoded body.
    ///
    /// # Errors
    /// When the body is not a JSON object.
    pub async fn new(req: HttpRequest, payload: web::Payload, params: &[(&str, String)]) -> Result<Self, ApiError> {
        let body = read_body(payload).await?;
        let mut value: Value = if body.iter().all(u8::is_ascii_whitespace) {
            Value::Object(serde_json::Map::new())
        } else {
            check_content_type(&req)?;
            serde_json::from_slice(&body).map_err(|e| {
                ApiError::new(ConnectCode::InvalidArgument, format!("request body is not valid JSON ({e})"))
            })?
        };
        let Some(map) = value.as_object_mut() else {
            return Err(ApiError::new(ConnectCode::InvalidArgument, "request body must be a JSON object"));
        };
        for (name, v) in params {
            map.insert((*name).to_owned(), Value::String(v.clone()));
        }
        let body = Bytes::from(serde_json::to_vec(&value).unwrap_or_default());
        Ok(Self { call: Call { req, body, decode_only: false } })
    }

    /// The call, for a dispatch table.
    #[must_use]
    pub fn call(&self) -> &Call {
        &self.call
    }

    /// Runs `handler` and renders the response.
    ///
    /// # Errors
    /// As [`Call::run`].
    pub async fn run<Req, Res, Fut>(self, handler: impl FnOnce(Ctx, Req) -> Fut) -> Result<HttpResponse, ApiError>
    where
        Req: DeserializeOwned,
        Res: Serialize,
        Fut: Future<Output = Result<Res, ApiError>>,
    {
        Ok(ok(&self.call.run(handler).await?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fuzz target's entry decodes through the real dispatch table and
    /// stops before authentication (docs/security/fuzzing.md).
    #[tokio::test]
    async fn decode_request_decodes_without_running_the_method() {
        let users = "zitadel.user.v2.UserService";
        assert!(matches!(decode_request(users, "ListUsers", b"{}").await, Some(Ok(()))));
        // The v2beta translation runs first, as for a real call.
        let apps = "zitadel.app.v2beta.AppService";
        assert!(matches!(decode_request(apps, "ListApplications", br#"{"projectId":"p"}"#).await, Some(Ok(()))));
        let Some(Err(e)) = decode_request(users, "ListUsers", br#"{"query":{"limit":"x"}}"#).await else {
            panic!("a bad body decodes");
        };
        assert_eq!(e.code, ConnectCode::InvalidArgument);
        assert!(decode_request(users, "NoSuchMethod", b"{}").await.is_none());
        assert!(decode_request("zitadel.nope.v1.Nope", "ListUsers", b"{}").await.is_none());
    }
}
