//! Every RPC path, `POST /<package>.<Service>/<Method>`, in every protocol
//! ([`Protocol`]): the message out of its envelope, the dispatch from
//! `<service>/<method>` to the handlers, and the answer back. Handlers decode
//! and encode the message in the codec it came in ([`Call`]); a binary message
//! is first checked against the shape bounds of its request
//! (`tessera_proto::shape`), as a JSON one is ([`check_shape`](super::wire::check_shape)). The call itself and its decoding rules
//! are [`call`](super::call); the Connect JSON content type is checked by
//! [`Protocol::of`].

use actix_web::http::header;
use actix_web::web::{self, Bytes};
use actix_web::{HttpRequest, HttpResponse};

use super::call::{Answer, Call, DECODED, read_body};
use super::protocol::Protocol;
use crate::error::{ApiError, ConnectCode};

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

/// Runs one call in any protocol: the message out of its envelope (a binary
/// one checked against its request's shape bounds), the handler, and the
/// answer, in the request's codec.
async fn call(
    req: HttpRequest,
    protocol: Protocol,
    service: &str,
    method: &str,
    payload: web::Payload,
) -> Result<Answer, ApiError> {
    let body = read_body(payload).await?;
    let message = Bytes::from(protocol.open(&body)?);
    let call = if protocol.is_binary() {
        binary_call(req, service, method, message, false)?
    } else {
        Call::new(req, message, false)
    };
    dispatch(service, method, &call).await.ok_or_else(|| unknown_method(service, method))?
}

/// The call of a binary `message` to `service`/`method`, once it is within
/// the shape bounds of the method's request.
fn binary_call(
    req: HttpRequest,
    service: &str,
    method: &str,
    message: Bytes,
    decode_only: bool,
) -> Result<Call, ApiError> {
    let shape = tessera_proto::method(service, method).ok_or_else(|| unknown_method(service, method))?.request_shape;
    shape.check(&message).map_err(|e| ApiError::new(ConnectCode::InvalidArgument, e.to_string()))?;
    Ok(Call::binary(req, message, decode_only))
}

/// Decodes `body` (binary protobuf when `binary`, else proto3 JSON) as the
/// request message of `service`/`method`, exactly as a call would before it
/// authenticates the caller, and stops there: nothing is read or written.
/// `None` for an unknown method. This is the entry point of the API fuzz
/// targets (docs/security/fuzzing.md); it reaches every request message
/// through the same dispatch table as real calls.
///
/// # Errors
/// The `invalid_argument` a call with this body would get.
pub async fn decode_request(service: &str, method: &str, body: &[u8], binary: bool) -> Option<Result<(), ApiError>> {
    let req = actix_web::test::TestRequest::default().to_http_request();
    let body = Bytes::copy_from_slice(body);
    let call = if binary {
        tessera_proto::method(service, method)?;
        match binary_call(req, service, method, body, true) {
            Ok(call) => call,
            Err(e) => return Some(Err(e)),
        }
    } else {
        Call::new(req, body, true)
    };
    match dispatch(service, method, &call).await? {
        Err(e) if e.code == ConnectCode::Aborted && e.message == DECODED => Some(Ok(())),
        Err(e) => Some(Err(e)),
        // A method that answers without decoding a request.
        Ok(_) => Some(Ok(())),
    }
}

/// Hands `call` to the service that implements `service`/`method`; `None`
/// when none does.
async fn dispatch(service: &str, method: &str, call: &Call) -> Option<Result<Answer, ApiError>> {
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
        "tessera.federation.v1.FederationService" => super::federation::dispatch(method, call).await,
        "tessera.webhook.v1.WebhookService" => super::webhook::dispatch(method, call).await,
        // v2beta is wire-identical to v2 (proto/zitadel/webkey/v2beta).
        "zitadel.webkey.v2.WebKeyService" | "zitadel.webkey.v2beta.WebKeyService" => {
            super::web_key::dispatch(method, call).await
        }
        super::mgmt_v1::SERVICE => super::mgmt_v1::dispatch(method, call).await,
        "zitadel.project.v2.ProjectService" => super::project::dispatch(method, call).await,
        "zitadel.project.v2beta.ProjectService" => super::project_v2beta::dispatch(method, call).await,
        "zitadel.application.v2.ApplicationService" => super::application::dispatch(method, call).await,
        "zitadel.app.v2beta.AppService" => super::app_v2beta::dispatch(method, call).await,
        "zitadel.authorization.v2.AuthorizationService" => super::authorization::dispatch(method, call).await,
        "zitadel.authorization.v2beta.AuthorizationService" => {
            super::authorization_v2beta::dispatch(method, call).await
        }
        _ => None,
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
        assert!(matches!(decode_request(users, "ListUsers", b"{}", false).await, Some(Ok(()))));
        // A v2beta message decodes as a real call's would.
        let apps = "zitadel.app.v2beta.AppService";
        let body = br#"{"projectId":"p"}"#;
        assert!(matches!(decode_request(apps, "ListApplications", body, false).await, Some(Ok(()))));
        let Some(Err(e)) = decode_request(users, "ListUsers", br#"{"query":{"limit":"x"}}"#, false).await else {
            panic!("a bad body decodes");
        };
        assert_eq!(e.code, ConnectCode::InvalidArgument);
        assert!(decode_request(users, "NoSuchMethod", b"{}", false).await.is_none());
        assert!(decode_request("zitadel.nope.v1.Nope", "ListUsers", b"{}", false).await.is_none());
        // Binary: `query` (field 1) holding a truncated message.
        assert!(matches!(decode_request(users, "ListUsers", &[0x0a, 0], true).await, Some(Ok(()))));
        let Some(Err(e)) = decode_request(users, "ListUsers", &[0x0a, 5, 1], true).await else {
            panic!("a truncated message decodes");
        };
        assert_eq!(e.code, ConnectCode::InvalidArgument);
        assert!(decode_request(users, "NoSuchMethod", b"", true).await.is_none());
    }
}
