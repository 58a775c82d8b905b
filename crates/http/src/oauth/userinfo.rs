//! `GET|POST /oidc/v1/userinfo` (OIDC Core §5.3): the claims of the token's
//! user by its scopes. Works with access tokens and PATs. The bearer token
//! comes in the `Authorization` header (RFC 6750 §2.1) or, for POST, in the
//! form body (§2.2); never from the query string, which ends up in logs.

use actix_web::{HttpRequest, HttpResponse, web};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};
use tessera_oauth::claims;
use tessera_oauth::scope::Scopes;
use tessera_oauth::validator::AuthError;

use super::form::Form;
use crate::AppState;
use crate::error::OAuthError;

/// The userinfo endpoint.
pub async fn userinfo(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, OAuthError> {
    if crate::auth::authorization(&req).is_err() {
        return Err(OAuthError::invalid_request(crate::auth::ONE_CREDENTIAL));
    }
    let header = crate::auth::bearer(&req).map_err(|_| OAuthError::invalid_token())?;
    // RFC 6750 §2: one method per request. A POST form is read even when the
    // header carries a token, so that a second token in the body is refused
    // instead of silently ignored.
    let is_form = req.headers().get("content-type").and_then(|v| v.to_str().ok()).is_some_and(|v| {
        v.split(';').next().unwrap_or_default().trim().eq_ignore_ascii_case("application/x-www-form-urlencoded")
    });
    let has_body_type = req.headers().contains_key("content-type");
    let form = if req.method() == actix_web::http::Method::POST && (is_form || (header.is_none() && has_body_type)) {
        Some(Form::read(&req, payload).await?)
    } else {
        None
    };
    let in_body = form.as_ref().and_then(|f| f.get("access_token"));
    let token = match (header, in_body) {
        (Some(_), Some(_)) => return Err(OAuthError::invalid_request(crate::auth::ONE_CREDENTIAL)),
        (Some(t), None) => t,
        (None, Some(t)) => SecretString::from(t.to_owned()),
        (None, None) => return Err(OAuthError::missing_token()),
    };
    let resolved = match state.validator.resolve(state.core.store.as_ref(), token.expose_secret()).await {
        Ok(r) => r,
        Err(AuthError::InvalidToken | AuthError::NotForApi) => return Err(OAuthError::invalid_token()),
        Err(AuthError::Store(e)) => return Err(e.into()),
    };
    let store = state.core.store.as_ref();
    let user = store.users().get(resolved.auth.user_id).await?.ok_or_else(OAuthError::invalid_token)?;
    let scopes = Scopes::stored(&resolved.scopes, user.org_id);
    let mut body = claims::user_claims(store, &user, &scopes).await?;
    body.insert("sub".into(), json!(user.id));
    Ok(HttpResponse::Ok()
        .insert_header(actix_web::http::header::CacheControl(vec![actix_web::http::header::CacheDirective::NoStore]))
        .json(Value::Object(body)))
}
