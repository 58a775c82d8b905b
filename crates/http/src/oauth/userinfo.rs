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
    let token = match crate::auth::bearer(&req).map_err(|_| OAuthError::invalid_token())? {
        Some(t) => t,
        None if req.method() == actix_web::http::Method::POST && req.headers().contains_key("content-type") => {
            let form = Form::read(&req, payload).await?;
            SecretString::from(form.get("access_token").ok_or_else(OAuthError::missing_token)?.to_owned())
        }
        None => return Err(OAuthError::missing_token()),
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
