//! Bearer authentication for the management API (RFC 6750): the [`Caller`]
//! extractor. Every API handler takes a `Caller`, so no handler can forget it; it
//! asks the one [`Validator`](tessera_oauth::validator::Validator) of the server.

use std::future::Future;
use std::pin::Pin;

use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, dev::Payload, web};
use secrecy::{ExposeSecret, SecretString};
use tessera_core::{Actor, grants_of};
use tessera_oauth::validator::AuthError;

use crate::AppState;
use crate::error::{ApiError, Challenge, ConnectCode};
use crate::ratelimit::Keys;

/// An authenticated API caller: the [`Actor`] its bearer credential acts as.
/// Every API handler takes one, so no handler can forget authentication.
#[derive(Debug, Clone)]
pub struct Caller(pub Actor);

impl std::ops::Deref for Caller {
    type Target = Actor;
    fn deref(&self) -> &Actor {
        &self.0
    }
}

/// How to send a token, the next step of every refusal below.
const SEND_AS_BEARER: &str = "send the token as `Authorization: Bearer <token>`";

/// A request with more than one `Authorization` header: which one counts would
/// depend on their order, so none does (RFC 6750 §2: one method per request).
#[derive(Debug, Clone, Copy)]
pub(crate) struct TwoAuthorizations;

/// The message for a request that presents more than one credential.
pub(crate) const ONE_CREDENTIAL: &str =
    "send exactly one credential: one Authorization header, not also one in the body";

/// The request's one `Authorization` header, or `None` when it has none.
///
/// # Errors
/// [`TwoAuthorizations`] when it has several.
pub(crate) fn authorization(req: &HttpRequest) -> Result<Option<&header::HeaderValue>, TwoAuthorizations> {
    let mut all = req.headers().get_all(header::AUTHORIZATION);
    let first = all.next();
    if all.next().is_some() { Err(TwoAuthorizations) } else { Ok(first) }
}

/// The credential of an `Authorization: Bearer …` header (scheme case-insensitive,
/// RFC 7235 §2.1), or `None` when there is none.
///
/// A header without the `Bearer` scheme — most often a token pasted without
/// `Bearer ` in front — is answered like a missing credential (RFC 6750 §3.1: a
/// request without Bearer authentication gets no error code), with a message
/// saying how to send it. The header's value is never echoed: it may be a token.
///
/// # Errors
/// `invalid_argument` for several `Authorization` headers; `unauthenticated`
/// for a malformed or non-Bearer one.
pub(crate) fn bearer(req: &HttpRequest) -> Result<Option<SecretString>, ApiError> {
    let value =
        authorization(req).map_err(|TwoAuthorizations| ApiError::new(ConnectCode::InvalidArgument, ONE_CREDENTIAL))?;
    let Some(value) = value else { return Ok(None) };
    let no_scheme = || {
        ApiError::unauthenticated(
            Challenge::Missing,
            format!("the Authorization header has no Bearer scheme: {SEND_AS_BEARER}"),
        )
    };
    let value = value.to_str().map_err(|_| no_scheme())?;
    let (scheme, token) = value.trim().split_once(' ').ok_or_else(no_scheme)?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(no_scheme());
    }
    let token = token.trim();
    if token.is_empty() {
        return Err(ApiError::unauthenticated(
            Challenge::InvalidToken,
            format!("the Bearer token is empty: {SEND_AS_BEARER}"),
        ));
    }
    Ok(Some(SecretString::from(token.to_owned())))
}

/// RFC 6750 §3.1 `invalid_token`: a well-sent token that is not (or no longer) good.
fn invalid_token() -> ApiError {
    ApiError::unauthenticated(
        Challenge::InvalidToken,
        "the access token is unknown, expired or revoked: check that it was copied whole, or create a new one",
    )
}

/// RFC 6750 §3.1 `invalid_token`: a live access token whose audience lacks the API.
fn not_for_api() -> ApiError {
    ApiError::unauthenticated(
        Challenge::InvalidToken,
        "the access token is not meant for the API: request it with the scope urn:zitadel:iam:org:project:id:zitadel:aud",
    )
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let token = bearer(req);
        let addr = state.as_ref().and_then(|s| s.proxies.client_addr(req));
        Box::pin(async move {
            let state = state.ok_or_else(|| ApiError::new(ConnectCode::Internal, "internal error"))?;
            // Failed bearer tokens drain the address's bucket (crate::ratelimit).
            let keys = Keys::new(addr, None);
            state.rate_check(&keys, "api")?;
            let token = token.inspect_err(|e| {
                if e.code == ConnectCode::Unauthenticated {
                    state.auth_failed(&keys, "api");
                }
            })?;
            let Some(token) = token else {
                return Err(ApiError::unauthenticated(
                    Challenge::Missing,
                    format!("authentication required: {SEND_AS_BEARER}"),
                ));
            };
            let auth = match state.validator.validate(state.core.store.as_ref(), token.expose_secret()).await {
                Ok(auth) => auth,
                Err(AuthError::InvalidToken) => {
                    tracing::info!(rule = "the token is malformed, unknown, expired or revoked", "API request refused");
                    state.auth_failed(&keys, "api");
                    return Err(invalid_token());
                }
                Err(AuthError::NotForApi) => {
                    tracing::info!(
                        rule = "the access token's audience does not include the API",
                        "API request refused"
                    );
                    return Err(not_for_api());
                }
                Err(AuthError::Store(e)) => return Err(e.into()),
            };
            // A fine-grained PAT acts with its user's current rights narrowed to
            // its scope (docs/pat-hygiene.md).
            let grants = grants_of(&state.core, auth.user_id).await?.limited(auth.scope);
            Ok(Caller(Actor { user_id: auth.user_id, org_id: auth.org_id, credential: Some(auth.credential), grants }))
        })
    }
}
