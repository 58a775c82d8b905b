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

/// The credential of an `Authorization: Bearer …` header (scheme case-insensitive,
/// RFC 7235 §2.1), or `None` when there is none.
pub(crate) fn bearer(req: &HttpRequest) -> Result<Option<SecretString>, ApiError> {
    let Some(value) = req.headers().get(header::AUTHORIZATION) else { return Ok(None) };
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

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let token = bearer(req);
        Box::pin(async move {
            let state = state.ok_or_else(|| ApiError::new(ConnectCode::Internal, "internal error"))?;
            let Some(token) = token? else {
                return Err(ApiError::unauthenticated(
                    Challenge::Missing,
                    "authentication required: send a Bearer token",
                ));
            };
            let auth = match state.validator.validate(state.core.store.as_ref(), token.expose_secret()).await {
                Ok(auth) => auth,
                Err(AuthError::InvalidToken) => return Err(invalid_token()),
                Err(AuthError::Store(e)) => return Err(e.into()),
            };
            let grants = grants_of(&state.core, auth.user_id).await?;
            Ok(Caller(Actor { user_id: auth.user_id, org_id: auth.org_id, credential: Some(auth.credential), grants }))
        })
    }
}
