//! `zitadel.user.v2.UserService` machine credentials: `AddKey`, `ListKeys`,
//! `RemoveKey` (JWT Profile key files) and `AddSecret`, `RemoveSecret` (client
//! credentials), on the generated messages of `proto/zitadel/user/v2`.
//! Dispatched from [`super::user`].

use actix_web::{HttpRequest, HttpResponse, web};
use tessera_domain::repo::{KeyFilter, KeySort};
use tessera_domain::{KeyId, OrgId, UserId};
use tessera_proto::zitadel::user::v2 as pb;

use super::call::{Answer, Call, RestCall};
use super::v2::{from_ts, pagination, pagination_response, required_id, time_filter_of, ts};
use super::wire;
use crate::error::{ApiError, ConnectCode, ServiceError};
use tessera_core::keys::{self, NewKey};
use tessera_core::{Ctx, secrets};

/// `AddKey`: a generated key pair (the key file, once, as `keyContent`), or
/// the registration of `publicKey`, a PEM public key in base64.
async fn add_key(ctx: Ctx, req: pb::AddKeyRequest) -> Result<pb::AddKeyResponse, ApiError> {
    let user = required_id("userId", &req.user_id, UserId::parse)?;
    let new = if req.public_key.is_empty() {
        NewKey::Generate
    } else {
        let pem = String::from_utf8(req.public_key)
            .map_err(|_| ServiceError::invalid("publicKey must be a base64-encoded PEM public key"))?;
        NewKey::Register(pem)
    };
    let expires = match req.expiration_date {
        None => None,
        some => Some(from_ts(some).ok_or_else(|| ServiceError::invalid("expirationDate is not a valid time"))?),
    };
    let added = keys::add(&ctx, user, expires, new).await?;
    Ok(pb::AddKeyResponse {
        creation_date: ts(added.key.created_at),
        key_id: added.key.id.to_string(),
        key_content: added.key_file.map(|f| f.as_bytes().to_vec()).unwrap_or_default(),
    })
}

async fn remove_key(ctx: Ctx, req: pb::RemoveKeyRequest) -> Result<pb::RemoveKeyResponse, ApiError> {
    let user = required_id("userId", &req.user_id, UserId::parse)?;
    if req.key_id.trim().is_empty() {
        return Err(ServiceError::invalid("keyId is required").into());
    }
    // Not an id Tessera could have issued: there is no such key.
    let key = KeyId::parse(&req.key_id).map_err(|_| ServiceError::not_found("key not found"))?;
    keys::remove(&ctx, user, key).await?;
    Ok(pb::RemoveKeyResponse { deletion_date: ts(ctx.now()) })
}

/// How deeply `and`/`or`/`not` key filters may nest.
const MAX_FILTER_DEPTH: usize = 8;

fn key_filter(f: &pb::KeysSearchFilter, depth: usize) -> Result<KeyFilter, ServiceError> {
    use pb::keys_search_filter::Filter;
    if depth > MAX_FILTER_DEPTH {
        return Err(ServiceError::invalid("filters are nested too deeply"));
    }
    // An id that is not a UUID cannot match anything Tessera stores.
    let nothing =
        || KeyFilter::And(vec![KeyFilter::Key(KeyId::new()), KeyFilter::Not(Box::new(KeyFilter::Key(KeyId::new())))]);
    let list = |fs: &[pb::KeysSearchFilter]| {
        fs.iter().map(|f| key_filter(f, depth + 1)).collect::<Result<Vec<_>, ServiceError>>()
    };
    Ok(match &f.filter {
        None => return Err(wire::one_filter_error()),
        Some(Filter::KeyIdFilter(f)) => KeyId::parse(&f.id).map_or_else(|_| nothing(), KeyFilter::Key),
        Some(Filter::UserIdFilter(f)) => UserId::parse(&f.id).map_or_else(|_| nothing(), KeyFilter::User),
        Some(Filter::OrganizationIdFilter(f)) => OrgId::parse(&f.id).map_or_else(|_| nothing(), KeyFilter::Org),
        Some(Filter::CreatedDateFilter(f)) => KeyFilter::CreatedAt(time_filter_of(f, "createdDateFilter")?),
        Some(Filter::ExpirationDateFilter(f)) => KeyFilter::ExpiresAt(time_filter_of(f, "expirationDateFilter")?),
        Some(Filter::AndFilter(l)) => KeyFilter::And(list(&l.filters)?),
        Some(Filter::OrFilter(l)) => KeyFilter::Or(list(&l.filters)?),
        Some(Filter::NotFilter(f)) => KeyFilter::Not(Box::new(key_filter(f, depth + 1)?)),
    })
}

async fn list_keys(ctx: Ctx, req: pb::ListKeysRequest) -> Result<pb::ListKeysResponse, ApiError> {
    use pb::KeyFieldName as F;
    let filters = req.filters.iter().map(|f| key_filter(f, 0)).collect::<Result<Vec<_>, _>>()?;
    let sort = match F::try_from(req.sorting_column.unwrap_or_default()) {
        Ok(F::Unspecified | F::CreatedDate) => KeySort::CreatedAt,
        Ok(F::Id) => KeySort::Id,
        Ok(F::UserId) => KeySort::User,
        Ok(F::OrganizationId) => KeySort::Org,
        Ok(F::KeyExpirationDate) => KeySort::ExpiresAt,
        Err(_) => return Err(ServiceError::invalid("sortingColumn is not a KeyFieldName").into()),
    };
    let page = pagination(req.pagination.as_ref())?;
    let listed = keys::list(&ctx, filters, sort, page).await?;
    Ok(pb::ListKeysResponse {
        pagination: pagination_response(listed.total, page),
        result: listed
            .items
            .into_iter()
            .map(|k| pb::Key {
                creation_date: ts(k.key.created_at),
                // Keys never change.
                change_date: ts(k.key.created_at),
                id: k.key.id.to_string(),
                user_id: k.key.user_id.to_string(),
                organization_id: k.org_id.to_string(),
                expiration_date: ts(k.key.expires_at),
            })
            .collect(),
    })
}

/// `AddSecret`: the new client secret, once.
async fn add_secret(ctx: Ctx, req: pb::AddSecretRequest) -> Result<pb::AddSecretResponse, ApiError> {
    let user = required_id("userId", &req.user_id, UserId::parse)?;
    let (secret, issued) = secrets::add(&ctx, user).await?;
    Ok(pb::AddSecretResponse { creation_date: ts(secret.created_at), client_secret: issued.expose_secret().to_owned() })
}

async fn remove_secret(ctx: Ctx, req: pb::RemoveSecretRequest) -> Result<pb::RemoveSecretResponse, ApiError> {
    let user = required_id("userId", &req.user_id, UserId::parse)?;
    secrets::remove(&ctx, user).await?;
    Ok(pb::RemoveSecretResponse { deletion_date: ts(ctx.now()) })
}

/// Dispatches a call; `None` for an unknown method.
pub async fn dispatch(method: &str, call: &Call) -> Option<Result<Answer, ApiError>> {
    Some(match method {
        "AddKey" => call.run(add_key).await,
        "RemoveKey" => call.run(remove_key).await,
        "ListKeys" => call.run(list_keys).await,
        "AddSecret" => call.run(add_secret).await,
        "RemoveSecret" => call.run(remove_secret).await,
        _ => return None,
    })
}

/// Mounts ZITADEL's REST paths for the methods above.
pub fn rest_routes(cfg: &mut web::ServiceConfig) {
    async fn rest(req: HttpRequest, payload: web::Payload) -> Result<HttpResponse, ApiError> {
        let method = req.method().clone();
        let pattern = req.match_pattern().unwrap_or_default();
        let mut params = vec![];
        for name in ["userId", "keyId"] {
            if let Some(v) = req.match_info().get(name) {
                params.push((name, v.to_owned()));
            }
        }
        let call = RestCall::new(req, payload, &params).await?;
        match (method.as_str(), pattern.as_str()) {
            ("POST", "/v2/users/keys/search") => call.run(list_keys).await,
            ("POST", "/v2/users/{userId}/keys") => call.run(add_key).await,
            ("DELETE", "/v2/users/{userId}/keys/{keyId}") => call.run(remove_key).await,
            ("POST", "/v2/users/{userId}/secret") => call.run(add_secret).await,
            ("DELETE", "/v2/users/{userId}/secret") => call.run(remove_secret).await,
            _ => Err(ApiError::new(ConnectCode::Unimplemented, "unknown route")),
        }
    }
    cfg.route("/v2/users/keys/search", web::post().to(rest))
        .route("/v2/users/{userId}/keys", web::post().to(rest))
        .route("/v2/users/{userId}/keys/{keyId}", web::delete().to(rest))
        .route("/v2/users/{userId}/secret", web::post().to(rest))
        .route("/v2/users/{userId}/secret", web::delete().to(rest));
}
