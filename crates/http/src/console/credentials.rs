//! Keys and the client secret of a service user on its detail page: "+ New" key
//! (the JSON key file is downloaded once), remove; generate the client secret
//! (shown once), remove.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use tessera_domain::KeyId;

use super::pages::{
    CsrfForm, Dialog, PageResult, caller, csrf, end_of_day, page, render_user, see_other, service_user, user_id,
};
use crate::AppState;
use crate::error::ServiceError;
use tessera_core::{keys, secrets};

/// The "+ New" key form.
#[derive(serde::Deserialize)]
pub struct KeyForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    expiration: String,
}

/// `POST /users/{id}/keys`: generates a key pair and answers with the key file
/// as a download. Tessera keeps only the public key; this response is the only
/// copy of the private key (`no-store`, never logged).
pub async fn add_key(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    form: web::Form<KeyForm>,
) -> HttpResponse {
    page(&req, async {
        let caller = caller(&state, &req).await?;
        csrf(&caller, &form.csrf)?;
        let id = user_id(&path)?;
        service_user(&caller, id).await?;
        let expires = end_of_day(&form.expiration)?;
        let added = keys::add(&caller.ctx, id, expires, keys::NewKey::Generate).await?;
        let file = added.key_file.ok_or_else(|| ServiceError::Internal("a generated key has a key file".into()))?;
        let res: PageResult = Ok(HttpResponse::build(StatusCode::OK)
            .content_type("application/json")
            .insert_header((header::CONTENT_DISPOSITION, format!("attachment; filename=\"{}.json\"", added.key.id)))
            .body(file.as_bytes().to_vec()));
        res
    })
    .await
}

/// `POST /users/{id}/keys/{key}/remove` (after the confirmation dialog).
pub async fn remove_key(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    form: web::Form<CsrfForm>,
) -> HttpResponse {
    page(&req, async {
        let caller = caller(&state, &req).await?;
        csrf(&caller, &form.csrf)?;
        let id = user_id(&path.0)?;
        let key = KeyId::parse(&path.1).map_err(ServiceError::from)?;
        service_user(&caller, id).await?;
        keys::remove(&caller.ctx, id, key).await?;
        Ok(see_other(&format!("/ui/console/users/{id}#keys")))
    })
    .await
}

/// `POST /users/{id}/secret`: generates a client secret and shows it once, in
/// this response (no redirect, `no-store`).
pub async fn add_secret(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    form: web::Form<CsrfForm>,
) -> HttpResponse {
    page(&req, async {
        let caller = caller(&state, &req).await?;
        csrf(&caller, &form.csrf)?;
        let id = user_id(&path)?;
        let user = service_user(&caller, id).await?;
        let (_, secret) = secrets::add(&caller.ctx, id).await?;
        let dialog = Dialog::SecretCreated(user.username.to_string(), secret.expose_secret().to_owned());
        render_user(&req, &caller, &user, dialog).await
    })
    .await
}

/// `POST /users/{id}/secret/remove` (after the confirmation dialog).
pub async fn remove_secret(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    form: web::Form<CsrfForm>,
) -> HttpResponse {
    page(&req, async {
        let caller = caller(&state, &req).await?;
        csrf(&caller, &form.csrf)?;
        let id = user_id(&path)?;
        service_user(&caller, id).await?;
        secrets::remove(&caller.ctx, id).await?;
        Ok(see_other(&format!("/ui/console/users/{id}#secret")))
    })
    .await
}
