//! `POST /oauth/v2/token` (RFC 6749 §3.2): the JWT Profile grant (RFC 7523 §2.1,
//! which also takes an external token of a federated credential as its
//! assertion), client credentials (RFC 6749 §4.4) and token exchange (RFC 8693
//! §2.1, external tokens of federated credentials; docs/federation.md).
//! Responses carry `Cache-Control: no-store` and `Pragma: no-cache` (RFC 6749
//! §5.1).

use actix_web::http::header::{self, CacheControl, CacheDirective};
use actix_web::{HttpRequest, HttpResponse, web};
use secrecy::ExposeSecret;
use serde_json::json;
use tessera_oauth::grant::{
    CLIENT_CREDENTIALS, Grant, JWT_BEARER, TOKEN_EXCHANGE, TOKEN_TYPE_ACCESS_TOKEN, TOKEN_TYPE_ID_TOKEN,
    TOKEN_TYPE_JWT, TokenResponse,
};

use super::form::{Form, client_id_hint, client_secret};
use crate::AppState;
use crate::error::OAuthError;
use crate::ratelimit::Keys;

/// The token endpoint. Failed client authentication (`invalid_client`,
/// `invalid_grant`) drains the rate-limit buckets of the address and the
/// client id ([`crate::ratelimit`]); an empty bucket is 429 before anything
/// is verified.
pub async fn token(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, OAuthError> {
    let form = Form::read(&req, payload).await?;
    let keys = Keys::new(state.proxies.client_addr(&req), client_id_hint(&req, &form).as_deref());
    state.rate_check(&keys, "token")?;
    let result = grant(&req, &form, &state).await;
    if let Err(e) = &result
        && e.is_authentication_failure()
    {
        state.auth_failed(&keys, "token");
    }
    result
}

async fn grant(req: &HttpRequest, form: &Form, state: &AppState) -> Result<HttpResponse, OAuthError> {
    let grant_type = form.require("grant_type")?;
    let scope = form.get("scope").unwrap_or_default();
    let store = state.core.store.as_ref();
    let response = match grant_type {
        // RFC 7523 §2.1: the assertion is the authentication; client
        // parameters are ignored (ZITADEL's SDK sends client_id=None).
        JWT_BEARER => state.tokens.jwt_bearer(store, form.require("assertion")?, scope).await?,
        CLIENT_CREDENTIALS => {
            let client = client_secret(req, form)?
                .ok_or_else(|| OAuthError::invalid_client("client authentication is required"))?;
            state.tokens.client_credentials(store, &client.client_id, &client.secret, scope).await?
        }
        // RFC 8693 §2.1: the subject token is the authentication, as the
        // assertion is for the JWT bearer grant.
        TOKEN_EXCHANGE => {
            let subject_token = form.require("subject_token")?;
            if !matches!(form.require("subject_token_type")?, TOKEN_TYPE_JWT | TOKEN_TYPE_ID_TOKEN) {
                return Err(OAuthError::invalid_request(
                    "subject_token_type must be urn:ietf:params:oauth:token-type:jwt or urn:ietf:params:oauth:token-type:id_token",
                ));
            }
            if form.get("requested_token_type").is_some_and(|t| t != TOKEN_TYPE_ACCESS_TOKEN) {
                return Err(OAuthError::invalid_request(
                    "requested_token_type must be urn:ietf:params:oauth:token-type:access_token (or absent)",
                ));
            }
            // RFC 8693 §2.1: delegation is not supported; saying so beats
            // issuing a token that does not carry the actor.
            if form.get("actor_token").is_some() || form.get("actor_token_type").is_some() {
                return Err(OAuthError::invalid_request("actor_token is not supported: Tessera does not delegate"));
            }
            state.tokens.federated(store, subject_token, scope, Grant::TokenExchange).await?
        }
        _ => return Err(OAuthError::unsupported_grant_type()),
    };
    Ok(render(&response))
}

fn render(r: &TokenResponse) -> HttpResponse {
    let mut body = json!({
        "access_token": r.access_token.expose_secret(),
        "token_type": r.token_type,
        "expires_in": r.expires_in,
        "scope": r.scope,
    });
    if let Some(id_token) = &r.id_token {
        body["id_token"] = json!(id_token);
    }
    if let Some(issued) = r.issued_token_type {
        body["issued_token_type"] = json!(issued);
    }
    HttpResponse::Ok()
        .insert_header(CacheControl(vec![CacheDirective::NoStore]))
        .insert_header((header::PRAGMA, "no-cache"))
        .json(body)
}
