//! `POST /oauth/v2/introspect` (RFC 7662) and `POST /oauth/v2/revoke`
//! (RFC 7009): the endpoints resource servers and clients call. The rules live
//! in `tessera_oauth::resource`; this is the HTTP edge: form parsing, client
//! credentials, and the exact response bodies.

use actix_web::http::header::{self, CacheControl, CacheDirective, ContentType};
use actix_web::{HttpRequest, HttpResponse, web};
use tessera_oauth::resource::{ClientAuth, JWT_BEARER_CLIENT_ASSERTION};

use super::form::{ClientSecret, Form, client_id_hint, client_secret};
use super::{INTROSPECT_PATH, REVOKE_PATH};
use crate::AppState;
use crate::error::OAuthError;
use crate::ratelimit::Keys;

/// The client credentials of a request, as presented.
enum Presented {
    Secret(ClientSecret),
    Assertion(String),
}

/// Reads the client authentication of `form`: HTTP Basic, `client_secret_post`
/// (only when `allow_post`), or a `private_key_jwt` assertion — exactly one.
///
/// # Errors
/// `invalid_request` for two methods at once; `invalid_client` (401) for none,
/// a method the endpoint does not accept, or a malformed one.
fn presented(req: &HttpRequest, form: &Form, allow_post: bool) -> Result<Presented, OAuthError> {
    let secret = client_secret(req, form)?;
    let assertion = form.get("client_assertion");
    let assertion_type = form.get("client_assertion_type");
    match (secret, assertion) {
        (Some(_), Some(_)) => Err(OAuthError::invalid_request("use only one client authentication method")),
        (Some(s), None) => {
            let from_body = !req.headers().contains_key(header::AUTHORIZATION);
            if from_body && !allow_post {
                return Err(OAuthError::invalid_client(
                    "authenticate with client_secret_basic or private_key_jwt at this endpoint",
                ));
            }
            Ok(Presented::Secret(s))
        }
        (None, Some(a)) => {
            // RFC 7523 §2.2: the assertion type must be jwt-bearer.
            if assertion_type != Some(JWT_BEARER_CLIENT_ASSERTION) {
                return Err(OAuthError::invalid_client("client_assertion_type must be jwt-bearer"));
            }
            Ok(Presented::Assertion(a.to_owned()))
        }
        (None, None) => Err(OAuthError::invalid_client("client authentication is required")),
    }
}

impl Presented {
    fn as_auth<'a>(&'a self, endpoint: &'a str) -> ClientAuth<'a> {
        match self {
            Self::Secret(s) => ClientAuth::Secret { client_id: &s.client_id, secret: &s.secret },
            Self::Assertion(a) => ClientAuth::Assertion { assertion: a, endpoint },
        }
    }
}

/// RFC 7662 §2.1: the introspection endpoint. Only client authentication
/// failures are errors (401 `invalid_client`); every token problem is
/// `200 {"active": false}` (§2.2).
pub async fn introspect(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, OAuthError> {
    let form = Form::read(&req, payload).await?;
    let keys = Keys::new(state.proxies.client_addr(&req), client_id_hint(&req, &form).as_deref());
    state.rate_check(&keys, "introspect")?;
    let endpoint = format!("{}{INTROSPECT_PATH}", state.tokens.config().issuer);
    let store = state.core.store.as_ref();
    let app = match presented(&req, &form, false) {
        Ok(p) => state.tokens.authenticate_app(store, &p.as_auth(&endpoint)).await.map_err(OAuthError::from),
        Err(e) => Err(e),
    }
    .inspect_err(|e| {
        if e.is_authentication_failure() {
            state.auth_failed(&keys, "introspect");
        }
    })?;
    let token = form.require("token")?;
    let body = state.tokens.introspect(store, &state.validator, &app, token).await?;
    Ok(no_store(HttpResponse::Ok()).content_type(ContentType::json()).body(body.to_string()))
}

/// RFC 7009 §2.1: the revocation endpoint. 200 with an empty body whether or
/// not there was anything to revoke (§2.2); client authentication failures are
/// 401 `invalid_client`.
pub async fn revoke(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, OAuthError> {
    let form = Form::read(&req, payload).await?;
    let keys = Keys::new(state.proxies.client_addr(&req), client_id_hint(&req, &form).as_deref());
    state.rate_check(&keys, "revoke")?;
    let endpoint = format!("{}{REVOKE_PATH}", state.tokens.config().issuer);
    let store = state.core.store.as_ref();
    let client = match presented(&req, &form, true) {
        Ok(p) => state.tokens.authenticate_client(store, &p.as_auth(&endpoint)).await.map_err(OAuthError::from),
        Err(e) => Err(e),
    }
    .inspect_err(|e| {
        if e.is_authentication_failure() {
            state.auth_failed(&keys, "revoke");
        }
    })?;
    let token = form.require("token")?;
    state.tokens.revoke(store, &state.validator, &client, token).await?;
    Ok(no_store(HttpResponse::Ok()).finish())
}

/// Both endpoints take POST only: a token in a query string ends up in logs.
pub async fn post_only() -> Result<HttpResponse, OAuthError> {
    Err(OAuthError::method_not_allowed())
}

fn no_store(mut res: actix_web::HttpResponseBuilder) -> actix_web::HttpResponseBuilder {
    res.insert_header(CacheControl(vec![CacheDirective::NoStore])).insert_header((header::PRAGMA, "no-cache"));
    res
}
