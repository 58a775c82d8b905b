//! One API call as a handler sees it, whatever carried it: the [`Call`] (the
//! request and its message, proto3 JSON or binary protobuf), the decoding
//! rules every request message goes through, and the [`RestCall`] of a
//! grpc-gateway path. A handler takes and returns the generated messages; the
//! call decodes and encodes them in the codec the client used, so no
//! transport converts one codec into the other.
//!
//! Decoding rules: an empty body is the empty message (the official SDK sends
//! `{}`, other clients nothing); bodies over [`MAX_BODY`] are refused with
//! `resource_exhausted`; unknown fields are ignored and snake_case names accepted
//! (proto3 JSON mapping). Errors name the offending field, never its value.
//!
//! This module knows no service: handlers import it, and only
//! [`connect`](super::connect) and the REST route tables import handlers, so
//! `api/` has no import circle.

use std::future::Future;

use actix_web::http::header;
use actix_web::web::{self, Bytes};
use actix_web::{FromRequest, HttpRequest, HttpResponse};
use futures_util::StreamExt;
use prost::Message;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::wire;
use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ConnectCode};
use tessera_core::Ctx;

/// Largest request body accepted.
pub const MAX_BODY: usize = 1024 * 1024;

/// One incoming call: what a handler needs before it knows its request type.
pub struct Call {
    req: HttpRequest,
    body: Body,
    /// Stop after decoding: [`decode_request`](super::connect::decode_request).
    decode_only: bool,
}

/// A call's message, in the codec it came in; the answer goes back in the same.
enum Body {
    /// proto3 JSON: Connect JSON and REST.
    Json(Bytes),
    /// Binary protobuf: Connect binary, gRPC and gRPC-web, already checked
    /// against the shape bounds of its message (`tessera_proto::shape`).
    Binary(Bytes),
}

/// A handler's answer, encoded in its call's codec (JSON or binary protobuf).
pub type Answer = Vec<u8>;

impl Call {
    /// A call of `body` (proto3 JSON) made by `req`; with `decode_only` it stops
    /// after decoding the message ([`decode_request`](super::connect::decode_request)).
    pub(super) fn new(req: HttpRequest, body: Bytes, decode_only: bool) -> Self {
        Self { req, body: Body::Json(body), decode_only }
    }

    /// A call of `body`, a binary message within the shape bounds of its
    /// method's request (the caller checked them); `decode_only` as in [`Call::new`].
    pub(super) fn binary(req: HttpRequest, body: Bytes, decode_only: bool) -> Self {
        Self { req, body: Body::Binary(body), decode_only }
    }

    /// The body as a JSON object (snake_case keys camelized), or `None` when it
    /// is not one or the call is binary; for the handlers that fix a JSON
    /// client's shape that is not the proto's before decoding (`human.rs`; the
    /// handler then reports a decoding error, after authentication).
    #[must_use]
    pub fn json(&self) -> Option<Value> {
        match &self.body {
            Body::Json(body) => decode::<Value>(body).ok(),
            Body::Binary(_) => None,
        }
    }

    /// The same call (same request and caller) with another JSON body.
    #[must_use]
    pub fn with_json(&self, body: &Value) -> Self {
        Self {
            req: self.req.clone(),
            body: Body::Json(Bytes::from(serde_json::to_vec(body).unwrap_or_default())),
            decode_only: self.decode_only,
        }
    }

    /// The HTTP request (headers such as `x-zitadel-orgid`; gRPC metadata
    /// arrives as headers too).
    #[must_use]
    pub fn request(&self) -> &HttpRequest {
        &self.req
    }

    /// The message, decoded from its codec.
    fn message<Req: Message + Default + DeserializeOwned>(&self) -> Result<Req, ApiError> {
        match &self.body {
            Body::Json(body) => decode(body),
            // prost's description names the message and field, never a value.
            Body::Binary(body) => Req::decode(body.as_ref()).map_err(|e| {
                ApiError::new(
                    ConnectCode::InvalidArgument,
                    format!("the request is not a valid protobuf message ({e})"),
                )
            }),
        }
    }

    /// Authenticates the caller and decodes the message into `Req`.
    async fn open<Req: Message + Default + DeserializeOwned>(&self) -> Result<(Ctx, Req), ApiError> {
        if self.decode_only {
            self.message::<Req>()?;
            return Err(ApiError::new(ConnectCode::Aborted, DECODED));
        }
        let caller = Caller::extract(&self.req).await?;
        let state = self
            .req
            .app_data::<web::Data<AppState>>()
            .ok_or_else(|| ApiError::new(ConnectCode::Internal, "internal error"))?
            .get_ref()
            .clone();
        let req = self.message()?;
        Ok((state.ctx(caller.0), req))
    }

    /// Runs `handler` on this call and encodes its answer in the call's codec.
    ///
    /// # Errors
    /// Authentication, decoding, and the handler's own errors.
    pub async fn run<Req, Res, Fut>(&self, handler: impl FnOnce(Ctx, Req) -> Fut) -> Result<Answer, ApiError>
    where
        Req: Message + Default + DeserializeOwned,
        Res: Message + Serialize,
        Fut: Future<Output = Result<Res, ApiError>>,
    {
        let (ctx, req) = self.open::<Req>().await?;
        let res = handler(ctx, req).await?;
        match self.body {
            Body::Json(_) => serde_json::to_vec(&res).map_err(|e| {
                crate::error::log_internal(&e);
                ApiError::new(ConnectCode::Internal, "internal error")
            }),
            Body::Binary(_) => Ok(res.encode_to_vec()),
        }
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
        let path = short_path(&e.path().to_string());
        let inner = e.into_inner().to_string();
        // A generated message refuses a second member of a oneof (or a field
        // given twice) by the member's name, which comes from the proto.
        let duplicate = inner.strip_prefix("duplicate field `").and_then(|r| r.strip_suffix('`'));
        // serde's own type errors quote the offending value; never echo input.
        let reason = match duplicate.and_then(wire::key_name) {
            Some(name) => format!("sets {name}, but another member of the same oneof is set too (or {name} twice)"),
            None if inner.contains('"') || inner.contains('`') => "has an invalid value".to_owned(),
            None => inner,
        };
        let field = if path == "." { "request".to_owned() } else { format!("field {path}") };
        ApiError::new(ConnectCode::InvalidArgument, format!("{field}: {reason}"))
    })
}

/// Longest field path an error names; a deeper one keeps its last part.
const MAX_PATH: usize = 160;

/// `path`, or its last [`MAX_PATH`] bytes after `…`: a filter tree nested to
/// the shape bound must not make an error message long.
fn short_path(path: &str) -> String {
    if path.len() <= MAX_PATH {
        return path.to_owned();
    }
    let cut = path.char_indices().map(|(i, _)| i).find(|&i| i >= path.len() - MAX_PATH).unwrap_or(0);
    format!("…{}", &path[cut..])
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

/// A successful JSON answer (REST).
pub fn ok(json: Answer) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(header::CacheControl(vec![header::CacheDirective::NoStore]))
        .content_type(actix_web::mime::APPLICATION_JSON)
        .body(json)
}

/// The marker [`Call::open`] stops with in decode-only mode.
pub(super) const DECODED: &str = "decoded";

/// A REST call: path parameters merged into the JSON body, then the same handler.
pub struct RestCall {
    call: Call,
}

impl From<Call> for RestCall {
    /// A call rebuilt for a REST route (e.g. with a client's shape fixed).
    fn from(call: Call) -> Self {
        Self { call }
    }
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
        Ok(Self { call: Call::new(req, body, false) })
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
        Req: Message + Default + DeserializeOwned,
        Res: Message + Serialize,
        Fut: Future<Output = Result<Res, ApiError>>,
    {
        Ok(ok(self.call.run(handler).await?))
    }
}

/// One grpc-gateway route of a service: HTTP method, path pattern (its
/// parameters named as the message's JSON fields, e.g. `{projectId}`) and the
/// RPC it calls.
pub type GatewayRoute = (&'static str, &'static str, &'static str);

/// Mounts `routes`, in order (a literal path such as `…/search` before a
/// pattern that would also match it), on `handler`.
pub fn mount_gateway<F, Fut>(cfg: &mut web::ServiceConfig, routes: &[GatewayRoute], handler: F)
where
    F: actix_web::Handler<(HttpRequest, web::Payload), Output = Fut> + Clone + 'static,
    Fut: actix_web::Responder + 'static,
{
    for (method, path, _) in routes {
        let method = actix_web::http::Method::from_bytes(method.as_bytes()).unwrap_or(actix_web::http::Method::POST);
        cfg.route(path, web::method(method).to(handler.clone()));
    }
}

/// The RPC that `routes` name for this request, and its call: the body with
/// every path parameter set on the field of the same name (over the body's).
///
/// # Errors
/// `unimplemented` for a route not in `routes`; the body errors of
/// [`RestCall::new`].
pub async fn gateway_call(
    req: HttpRequest,
    payload: web::Payload,
    routes: &[GatewayRoute],
) -> Result<(&'static str, RestCall), ApiError> {
    let pattern = req.match_pattern().unwrap_or_default();
    let rpc = routes
        .iter()
        .find(|(method, path, _)| *method == req.method().as_str() && *path == pattern)
        .map(|(_, _, rpc)| *rpc)
        .ok_or_else(|| ApiError::new(ConnectCode::Unimplemented, "unknown route"))?;
    let params: Vec<(String, String)> =
        req.match_info().iter().map(|(name, value)| (name.to_owned(), value.to_owned())).collect();
    let params: Vec<(&str, String)> = params.iter().map(|(n, v)| (n.as_str(), v.clone())).collect();
    Ok((rpc, RestCall::new(req, payload, &params).await?))
}

/// Defines a service module's `rest_routes`: its [`GatewayRoute`] table
/// `$routes`, each answered by the module's `$dispatch`.
macro_rules! gateway_routes {
    ($routes:expr, $dispatch:path) => {
        /// Mounts the service's grpc-gateway routes; path parameters fill the
        /// message's fields, over the body's.
        pub fn rest_routes(cfg: &mut actix_web::web::ServiceConfig) {
            async fn rest(
                req: actix_web::HttpRequest,
                payload: actix_web::web::Payload,
            ) -> Result<actix_web::HttpResponse, $crate::error::ApiError> {
                let (rpc, call) = $crate::api::call::gateway_call(req, payload, $routes).await?;
                let answer = $dispatch(rpc, call.call())
                    .await
                    .ok_or_else(|| $crate::error::ApiError::new($crate::error::ConnectCode::Unimplemented, rpc))??;
                Ok($crate::api::call::ok(answer))
            }
            $crate::api::call::mount_gateway(cfg, $routes, rest);
        }
    };
}
pub(crate) use gateway_routes;

#[cfg(test)]
mod tests {
    use super::*;

    /// A nested filter tree's error names its field by the last part of the
    /// path, so the message stays short.
    #[test]
    fn deep_paths_keep_their_end() {
        let deep = "queries[0].andQuery.queries[1].".repeat(20) + "userNameQuery.method";
        let short = short_path(&deep);
        assert!(short.len() <= MAX_PATH + '…'.len_utf8(), "{short}");
        assert!(short.starts_with('…') && short.ends_with("userNameQuery.method"), "{short}");
        assert_eq!(short_path("query.limit"), "query.limit");
    }
}
