//! `zitadel.user.v2.UserService` machine credentials: `AddKey`, `ListKeys`,
//! `RemoveKey` (JWT Profile key files) and `AddSecret`, `RemoveSecret` (client
//! credentials). Dispatched from [`super::user`].

use actix_web::{HttpRequest, HttpResponse, web};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tessera_domain::repo::{KeyFilter, KeySort};
use tessera_domain::{KeyId, OrgId, Timestamp, UserId};

use super::call::{Call, RestCall};
use super::v2::{DeletionDateResponse, IdFilter, ListQuery, PaginationResponse, TimestampFilter, required_id};
use super::wire;
use crate::error::{ApiError, ConnectCode, ServiceError};
use crate::proto_enum;
use tessera_core::keys::{self, NewKey};
use tessera_core::{Ctx, secrets};

/// `AddKeyRequest`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AddKeyRequest {
    /// The machine user.
    #[serde(default)]
    pub user_id: String,
    /// Expiration; 9999-12-31 when absent.
    #[serde(default, with = "wire::opt_ts")]
    pub expiration_date: Option<Timestamp>,
    /// A caller-generated public key (proto `bytes`: base64 of the PEM). Absent:
    /// Tessera generates the pair and returns the key file.
    #[serde(default)]
    pub public_key: Option<String>,
}

/// `AddKeyResponse`. `keyContent` (base64 of the JSON key file) is sent only for
/// a generated pair, and only here.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AddKeyResponse {
    /// Creation.
    #[serde(with = "wire::ts")]
    pub creation_date: Timestamp,
    /// The key's id (`keyId` of the key file, `kid` of assertions).
    pub key_id: String,
    /// The key file, base64 (proto `bytes`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_content: Option<String>,
}

async fn add_key(ctx: Ctx, req: AddKeyRequest) -> Result<AddKeyResponse, ApiError> {
    let user = required_id("userId", &req.user_id, UserId::parse)?;
    let new = match req.public_key.as_deref().map(str::trim) {
        None | Some("") => NewKey::Generate,
        Some(b64) => {
            let pem = B64
                .decode(b64)
                .ok()
                .and_then(|bytes| String::from_utf8(bytes).ok())
                .ok_or_else(|| ServiceError::invalid("publicKey must be a base64-encoded PEM public key"))?;
            NewKey::Register(pem)
        }
    };
    let added = keys::add(&ctx, user, req.expiration_date, new).await?;
    Ok(AddKeyResponse {
        creation_date: added.key.created_at,
        key_id: added.key.id.to_string(),
        key_content: added.key_file.map(|f| B64.encode(f.as_bytes())),
    })
}

/// `RemoveKeyRequest`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RemoveKeyRequest {
    /// The user.
    #[serde(default)]
    pub user_id: String,
    /// The key.
    #[serde(default)]
    pub key_id: String,
}

async fn remove_key(ctx: Ctx, req: RemoveKeyRequest) -> Result<DeletionDateResponse, ApiError> {
    let user = required_id("userId", &req.user_id, UserId::parse)?;
    if req.key_id.trim().is_empty() {
        return Err(ServiceError::invalid("keyId is required").into());
    }
    // Not an id Tessera could have issued: there is no such key.
    let key = KeyId::parse(&req.key_id).map_err(|_| ServiceError::not_found("key not found"))?;
    keys::remove(&ctx, user, key).await?;
    Ok(DeletionDateResponse { deletion_date: ctx.now() })
}

proto_enum!(
    /// `zitadel.user.v2.KeyFieldName`.
    KeyFieldName {
        #[default]
        Unspecified = 0 => "KEY_FIELD_NAME_UNSPECIFIED",
        CreatedDate = 1 => "KEY_FIELD_NAME_CREATED_DATE",
        Id = 2 => "KEY_FIELD_NAME_ID",
        UserId = 3 => "KEY_FIELD_NAME_USER_ID",
        OrganizationId = 4 => "KEY_FIELD_NAME_ORGANIZATION_ID",
        ExpirationDate = 5 => "KEY_FIELD_NAME_KEY_EXPIRATION_DATE",
    }
);

/// `KeysSearchFilter`: exactly one member set (`andFilter`/`orFilter`/`notFilter`
/// nest further filters).
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct KeysSearchFilter {
    /// By key.
    pub key_id_filter: Option<IdFilter>,
    /// By user.
    pub user_id_filter: Option<IdFilter>,
    /// By organization.
    pub organization_id_filter: Option<IdFilter>,
    /// By creation.
    pub created_date_filter: Option<TimestampFilter>,
    /// By expiration.
    pub expiration_date_filter: Option<TimestampFilter>,
    /// All of.
    pub and_filter: Option<KeysFilterList>,
    /// Any of.
    pub or_filter: Option<KeysFilterList>,
    /// None of.
    pub not_filter: Option<Box<KeysSearchFilter>>,
}

/// A nested list of filters.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct KeysFilterList {
    /// The filters.
    pub filters: Vec<KeysSearchFilter>,
}

/// Filters nest at most this deep; deeper requests are refused, not recursed.
const MAX_FILTER_DEPTH: usize = 8;

impl KeysSearchFilter {
    fn to_domain(&self, depth: usize) -> Result<KeyFilter, ServiceError> {
        if depth > MAX_FILTER_DEPTH {
            return Err(ServiceError::invalid("filters are nested too deeply"));
        }
        // An id that is not a UUID cannot match anything Tessera stores.
        let nothing = || {
            KeyFilter::And(vec![KeyFilter::Key(KeyId::new()), KeyFilter::Not(Box::new(KeyFilter::Key(KeyId::new())))])
        };
        let set = [
            self.key_id_filter.is_some(),
            self.user_id_filter.is_some(),
            self.organization_id_filter.is_some(),
            self.created_date_filter.is_some(),
            self.expiration_date_filter.is_some(),
            self.and_filter.is_some(),
            self.or_filter.is_some(),
            self.not_filter.is_some(),
        ];
        wire::exactly_one_filter(&set)?;
        let list = |l: &KeysFilterList| {
            l.filters.iter().map(|f| f.to_domain(depth + 1)).collect::<Result<Vec<_>, ServiceError>>()
        };
        Ok(if let Some(f) = &self.key_id_filter {
            KeyId::parse(&f.id).map_or_else(|_| nothing(), KeyFilter::Key)
        } else if let Some(f) = &self.user_id_filter {
            UserId::parse(&f.id).map_or_else(|_| nothing(), KeyFilter::User)
        } else if let Some(f) = &self.organization_id_filter {
            OrgId::parse(&f.id).map_or_else(|_| nothing(), KeyFilter::Org)
        } else if let Some(f) = &self.created_date_filter {
            KeyFilter::CreatedAt(f.to_domain())
        } else if let Some(f) = &self.expiration_date_filter {
            KeyFilter::ExpiresAt(f.to_domain())
        } else if let Some(l) = &self.and_filter {
            KeyFilter::And(list(l)?)
        } else if let Some(l) = &self.or_filter {
            KeyFilter::Or(list(l)?)
        } else if let Some(f) = &self.not_filter {
            KeyFilter::Not(Box::new(f.to_domain(depth + 1)?))
        } else {
            return Err(wire::one_filter_error());
        })
    }
}

/// `ListKeysRequest`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ListKeysRequest {
    /// Paging.
    pub pagination: ListQuery,
    /// Order.
    pub sorting_column: KeyFieldName,
    /// Filters (all must match).
    pub filters: Vec<KeysSearchFilter>,
}

/// `zitadel.user.v2.Key` (public metadata only; no key material).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WireKey {
    /// Creation.
    #[serde(with = "wire::ts")]
    pub creation_date: Timestamp,
    /// Last change (keys never change: the creation time).
    #[serde(with = "wire::ts")]
    pub change_date: Timestamp,
    /// Id.
    pub id: String,
    /// Owner.
    pub user_id: String,
    /// Owner's organization.
    pub organization_id: String,
    /// Expiration.
    #[serde(with = "wire::ts")]
    pub expiration_date: Timestamp,
}

/// `ListKeysResponse`.
#[derive(Debug, Serialize)]
pub struct ListKeysResponse {
    /// Totals.
    pub pagination: PaginationResponse,
    /// The keys.
    pub result: Vec<WireKey>,
}

async fn list_keys(ctx: Ctx, req: ListKeysRequest) -> Result<ListKeysResponse, ApiError> {
    let filters = req.filters.iter().map(|f| f.to_domain(0)).collect::<Result<Vec<_>, _>>()?;
    let sort = match req.sorting_column {
        KeyFieldName::Unspecified | KeyFieldName::CreatedDate => KeySort::CreatedAt,
        KeyFieldName::Id => KeySort::Id,
        KeyFieldName::UserId => KeySort::User,
        KeyFieldName::OrganizationId => KeySort::Org,
        KeyFieldName::ExpirationDate => KeySort::ExpiresAt,
    };
    let page = req.pagination.page();
    let listed = keys::list(&ctx, filters, sort, page).await?;
    Ok(ListKeysResponse {
        pagination: PaginationResponse { total_result: listed.total, applied_limit: page.limit },
        result: listed
            .items
            .into_iter()
            .map(|k| WireKey {
                creation_date: k.key.created_at,
                change_date: k.key.created_at,
                id: k.key.id.to_string(),
                user_id: k.key.user_id.to_string(),
                organization_id: k.org_id.to_string(),
                expiration_date: k.key.expires_at,
            })
            .collect(),
    })
}

/// `AddSecretRequest` / `RemoveSecretRequest`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SecretRequest {
    /// The machine user.
    #[serde(default)]
    pub user_id: String,
}

/// `AddSecretResponse`. The only time the secret is sent.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AddSecretResponse {
    /// Creation.
    #[serde(with = "wire::ts")]
    pub creation_date: Timestamp,
    /// The `tsr_cs_` secret; its `client_id` is the user's username.
    pub client_secret: String,
}

async fn add_secret(ctx: Ctx, req: SecretRequest) -> Result<AddSecretResponse, ApiError> {
    let user = required_id("userId", &req.user_id, UserId::parse)?;
    let (secret, issued) = secrets::add(&ctx, user).await?;
    Ok(AddSecretResponse { creation_date: secret.created_at, client_secret: issued.expose_secret().to_owned() })
}

async fn remove_secret(ctx: Ctx, req: SecretRequest) -> Result<DeletionDateResponse, ApiError> {
    let user = required_id("userId", &req.user_id, UserId::parse)?;
    secrets::remove(&ctx, user).await?;
    Ok(DeletionDateResponse { deletion_date: ctx.now() })
}

/// Dispatches a Connect call; `None` for a method not handled here.
pub async fn dispatch(method: &str, call: &Call) -> Option<Result<Value, ApiError>> {
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
