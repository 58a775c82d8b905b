//! Bearer authentication for the management API (RFC 6750): the [`Caller`]
//! extractor. Every API handler takes a `Caller`, so no handler can forget it; it
//! asks the one [`Validator`](tessera_oauth::validator::Validator) of the server.

use std::future::Future;
use std::pin::Pin;

use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, dev::Payload, web};
use secrecy::{ExposeSecret, SecretString};
use tessera_domain::permission::{Grants, Scope, Target};
use tessera_domain::repo::RepoResult;
use tessera_domain::{OrgId, UserId};
use tessera_oauth::validator::{AuthError, CredentialRef};

use crate::AppState;
use crate::error::{ApiError, Challenge, ConnectCode};
use crate::ratelimit::Keys;

/// An authenticated caller and everything it may do.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The user the credential acts as.
    pub user_id: UserId,
    /// The user's organization.
    pub org_id: OrgId,
    /// The credential used.
    pub credential: CredentialRef,
    /// The caller's administrator roles (a PAT acts with all rights of its user).
    pub grants: Grants,
}

impl Caller {
    /// Whether the caller holds `permission` on `target`.
    #[must_use]
    pub fn can(&self, permission: &str, target: Target) -> bool {
        self.grants.allows(permission, target)
    }
}

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
/// # Errors
/// `invalid_argument` for several `Authorization` headers; `unauthenticated`
/// for a malformed or non-Bearer one.
pub(crate) fn bearer(req: &HttpRequest) -> Result<Option<SecretString>, ApiError> {
    let value =
        authorization(req).map_err(|TwoAuthorizations| ApiError::new(ConnectCode::InvalidArgument, ONE_CREDENTIAL))?;
    let Some(value) = value else { return Ok(None) };
    let value = value.to_str().map_err(|_| invalid_token())?;
    let (scheme, token) = value.split_once(' ').ok_or_else(invalid_token)?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(ApiError::unauthenticated(Challenge::Missing, "only Bearer credentials are accepted"));
    }
    let token = token.trim();
    if token.is_empty() {
        return Err(invalid_token());
    }
    Ok(Some(SecretString::from(token.to_owned())))
}

fn invalid_token() -> ApiError {
    ApiError::unauthenticated(Challenge::InvalidToken, "the access token is invalid, expired or revoked")
}

/// The caller's administrator roles, from the cache when it holds them.
pub(crate) async fn grants_of(state: &AppState, user: UserId) -> Result<Grants, ApiError> {
    Ok(state.caches.grants.get_or_load(user, || load_grants(state, user)).await?)
}

/// Loads a user's administrator roles (the API's and the console's callers).
pub(crate) async fn load_grants(state: &AppState, user: UserId) -> RepoResult<Grants> {
    let admins = state.store.admins().list_for_user(user).await?;
    Ok(Grants::new(
        admins
            .into_iter()
            .flat_map(|a| a.roles.iter().map(move |r| (a.scope, r)).collect::<Vec<_>>())
            .collect::<Vec<(Scope, _)>>(),
    ))
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
                    "authentication required: send a Bearer token",
                ));
            };
            let auth = match state.validator.validate(state.store.as_ref(), token.expose_secret()).await {
                Ok(auth) => auth,
                Err(AuthError::InvalidToken) => {
                    state.auth_failed(&keys, "api");
                    return Err(invalid_token());
                }
                Err(AuthError::Store(e)) => return Err(e.into()),
            };
            let grants = grants_of(&state, auth.user_id).await?;
            Ok(Caller { user_id: auth.user_id, org_id: auth.org_id, credential: auth.credential, grants })
        })
    }
}
