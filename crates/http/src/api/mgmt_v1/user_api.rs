//! v1 user methods: machine users, their secret, keys and PATs, and
//! `GetMyOrg` (Terraform's `machine_user`, `machine_key` and
//! `personal_access_token`; zitadel-go's service-account examples).

use super::*;

/// `zitadel.user.v1.User`.
pub(super) fn wire_user(u: &User, has_secret: bool) -> user_v1::User {
    let kind = match &u.kind {
        UserKind::Machine(m) => user_v1::user::Type::Machine(user_v1::Machine {
            name: m.name.to_string(),
            description: m.description.to_string(),
            has_secret,
            access_token_type: match m.access_token_type {
                AccessTokenType::Bearer => user_v1::AccessTokenType::Bearer,
                AccessTokenType::Jwt => user_v1::AccessTokenType::Jwt,
            }
            .into(),
        }),
        UserKind::Human(h) => user_v1::user::Type::Human(user_v1::Human {
            profile: Some(user_v1::Profile {
                first_name: h.given_name.to_string(),
                last_name: h.family_name.to_string(),
                display_name: h.display_name.to_string(),
                ..Default::default()
            }),
            email: Some(user_v1::Email { email: h.email.to_string(), is_email_verified: h.email_verified }),
            ..Default::default()
        }),
    };
    user_v1::User {
        id: u.id.to_string(),
        details: Some(user_details(u)),
        state: match u.state {
            tessera_domain::user::UserState::Active => user_v1::UserState::Active,
            tessera_domain::user::UserState::Inactive => user_v1::UserState::Inactive,
            tessera_domain::user::UserState::Locked => user_v1::UserState::Locked,
        }
        .into(),
        user_name: u.username.to_string(),
        login_names: vec![u.username.to_string()],
        preferred_login_name: u.username.to_string(),
        r#type: Some(kind),
    }
}

/// The access token type of a v1 request.
pub(super) fn access_token_type(value: i32) -> Result<AccessTokenType, ApiError> {
    match user_v1::AccessTokenType::try_from(value) {
        Ok(user_v1::AccessTokenType::Bearer) => Ok(AccessTokenType::Bearer),
        Ok(user_v1::AccessTokenType::Jwt) => Ok(AccessTokenType::Jwt),
        Err(_) => Err(ServiceError::invalid("accessTokenType is not a known access token type").into()),
    }
}

pub(super) async fn get_user_by_id(
    v1: V1,
    req: mgmt::GetUserByIdRequest,
) -> Result<mgmt::GetUserByIdResponse, ApiError> {
    let user = v1.user("id", &req.id).await?;
    let has_secret = secrets::has_secret(&v1.ctx, &user).await?;
    Ok(mgmt::GetUserByIdResponse { user: Some(wire_user(&user, has_secret)) })
}

/// v1 `ListUsers`: v1's request is v2's with fewer query types, under the same
/// field numbers and names, so it is read as v2's (same filters, same errors).
pub(super) async fn list_users(v1: V1, req: mgmt::ListUsersRequest) -> Result<mgmt::ListUsersResponse, ApiError> {
    let req: ListUsersRequest = recode(&req)?;
    let (mut filters, sort, page) = list_users_query(&req)?;
    filters.push(tessera_domain::repo::UserFilter::Org(v1.org));
    let listed = users::list(&v1.ctx, filters, sort, page).await?;
    let with_secret = secrets::users_with_secret(&v1.ctx, &listed.items).await?;
    Ok(mgmt::ListUsersResponse {
        details: Some(object::ListDetails { total_result: listed.total, view_timestamp: Some(ts(v1.ctx.now())) }),
        // v1 names the columns as v2 does.
        sorting_column: tessera_proto::zitadel::user::v2::UserFieldName::try_from(req.sorting_column)
            .ok()
            .and_then(|f| user_v1::UserFieldName::from_str_name(f.as_str_name()))
            .map_or(0, Into::into),
        result: listed.items.iter().map(|u| wire_user(u, with_secret.contains(&u.id))).collect(),
    })
}

pub(super) async fn add_machine_user(
    v1: V1,
    req: mgmt::AddMachineUserRequest,
) -> Result<mgmt::AddMachineUserResponse, ApiError> {
    let username = Username::parse(&req.user_name).map_err(v1_field("userName"))?;
    let name = DisplayName::parse("name", &req.name)?;
    let description = Description::parse(&req.description)?;
    let user_id = req
        .user_id
        .as_deref()
        .filter(|s| !s.is_empty())
        .map(|s| required_id("userId", s, UserId::parse))
        .transpose()?;
    let user = users::create_machine(
        &v1.ctx,
        users::NewMachine {
            org_id: Some(v1.org),
            user_id,
            username: Some(username),
            name,
            description,
            access_token_type: access_token_type(req.access_token_type)?,
        },
    )
    .await?;
    Ok(mgmt::AddMachineUserResponse { user_id: user.id.to_string(), details: Some(user_details(&user)) })
}

pub(super) async fn remove_user(v1: V1, req: mgmt::RemoveUserRequest) -> Result<mgmt::RemoveUserResponse, ApiError> {
    let user = v1.user("id", &req.id).await?;
    let user = users::delete(&v1.ctx, user.id).await?;
    Ok(mgmt::RemoveUserResponse { details: Some(changed_now(&v1.ctx, user.org_id)) })
}

pub(super) async fn update_user_name(
    v1: V1,
    req: mgmt::UpdateUserNameRequest,
) -> Result<mgmt::UpdateUserNameResponse, ApiError> {
    let user = v1.user("userId", &req.user_id).await?;
    let username = Username::parse(&req.user_name).map_err(v1_field("userName"))?;
    let change = users::UserUpdate { username: Some(username), ..Default::default() };
    let user = users::update(&v1.ctx, user.id, change).await?;
    Ok(mgmt::UpdateUserNameResponse { details: Some(user_details(&user)) })
}

/// A full replace of the three fields (plain proto3 fields, so an omitted
/// `accessTokenType` is BEARER).
pub(super) async fn update_machine(
    v1: V1,
    req: mgmt::UpdateMachineRequest,
) -> Result<mgmt::UpdateMachineResponse, ApiError> {
    let change = users::MachineUpdate {
        name: Some(DisplayName::parse("name", &req.name)?),
        description: Some(Description::parse(&req.description)?),
        access_token_type: Some(access_token_type(req.access_token_type)?),
    };
    let user = v1.user("userId", &req.user_id).await?;
    let change = users::UserUpdate { machine: Some(change), ..Default::default() };
    let user = users::update(&v1.ctx, user.id, change).await?;
    Ok(mgmt::UpdateMachineResponse { details: Some(user_details(&user)) })
}

/// A new client secret; the client id is the username, as in ZITADEL.
pub(super) async fn generate_machine_secret(
    v1: V1,
    req: mgmt::GenerateMachineSecretRequest,
) -> Result<mgmt::GenerateMachineSecretResponse, ApiError> {
    let user = v1.user("userId", &req.user_id).await?;
    let (_, secret) = secrets::add(&v1.ctx, user.id).await?;
    Ok(mgmt::GenerateMachineSecretResponse {
        client_id: user.username.to_string(),
        client_secret: secret.expose_secret().to_owned(),
        details: Some(changed_now(&v1.ctx, user.org_id)),
    })
}

pub(super) async fn remove_machine_secret(
    v1: V1,
    req: mgmt::RemoveMachineSecretRequest,
) -> Result<mgmt::RemoveMachineSecretResponse, ApiError> {
    let user = v1.user("userId", &req.user_id).await?;
    secrets::remove(&v1.ctx, user.id).await?;
    Ok(mgmt::RemoveMachineSecretResponse { details: Some(changed_now(&v1.ctx, user.org_id)) })
}

pub(super) async fn add_machine_key(
    v1: V1,
    req: mgmt::AddMachineKeyRequest,
) -> Result<mgmt::AddMachineKeyResponse, ApiError> {
    check_key_type(req.r#type)?;
    let user = v1.user("userId", &req.user_id).await?;
    let expires = from_ts(req.expiration_date, "expirationDate")?;
    let new = if req.public_key.is_empty() {
        NewKey::Generate
    } else {
        // proto `bytes`: the PEM itself (base64 only in the JSON mapping).
        let pem = String::from_utf8(req.public_key)
            .map_err(|_| ServiceError::invalid("publicKey must be a PEM public key"))?;
        NewKey::Register(pem)
    };
    let added = keys::add(&v1.ctx, user.id, expires, new).await?;
    Ok(mgmt::AddMachineKeyResponse {
        key_id: added.key.id.to_string(),
        key_details: added.key_file.map(|f| f.as_bytes().to_vec()).unwrap_or_default(),
        details: Some(details(added.key.created_at, added.key.created_at, user.org_id)),
    })
}

/// A key id: one Tessera could not have issued names no key.
fn key_id(value: &str) -> Result<KeyId, ApiError> {
    if value.trim().is_empty() {
        return Err(ServiceError::invalid("keyId is required").into());
    }
    KeyId::parse(value).map_err(|_| ServiceError::not_found("key not found").into())
}

/// A token id: one Tessera could not have issued names no token.
fn token_id(value: &str) -> Result<PatId, ApiError> {
    if value.trim().is_empty() {
        return Err(ServiceError::invalid("tokenId is required").into());
    }
    PatId::parse(value).map_err(|_| ServiceError::not_found("personal access token not found").into())
}

pub(super) async fn get_machine_key(
    v1: V1,
    req: mgmt::GetMachineKeyByIDsRequest,
) -> Result<mgmt::GetMachineKeyByIDsResponse, ApiError> {
    let user = v1.user("userId", &req.user_id).await?;
    let key = key_id(&req.key_id)?;
    let filters = vec![KeyFilter::User(user.id), KeyFilter::Key(key)];
    let listed = keys::list(&v1.ctx, filters, KeySort::default(), Page::default()).await?;
    let found = listed.items.into_iter().next().ok_or_else(|| ServiceError::not_found("key not found"))?;
    Ok(mgmt::GetMachineKeyByIDsResponse {
        key: Some(authn::Key {
            id: found.key.id.to_string(),
            details: Some(details(found.key.created_at, found.key.created_at, found.org_id)),
            r#type: authn::KeyType::Json.into(),
            expiration_date: Some(ts(found.key.expires_at)),
        }),
    })
}

pub(super) async fn remove_machine_key(
    v1: V1,
    req: mgmt::RemoveMachineKeyRequest,
) -> Result<mgmt::RemoveMachineKeyResponse, ApiError> {
    let user = v1.user("userId", &req.user_id).await?;
    keys::remove(&v1.ctx, user.id, key_id(&req.key_id)?).await?;
    Ok(mgmt::RemoveMachineKeyResponse { details: Some(changed_now(&v1.ctx, user.org_id)) })
}

pub(super) async fn add_pat(
    v1: V1,
    req: mgmt::AddPersonalAccessTokenRequest,
) -> Result<mgmt::AddPersonalAccessTokenResponse, ApiError> {
    let user = v1.user("userId", &req.user_id).await?;
    let expires = from_ts(req.expiration_date, "expirationDate")?;
    let (pat, token) = pats::add(&v1.ctx, user.id, expires, None).await?;
    Ok(mgmt::AddPersonalAccessTokenResponse {
        token_id: pat.id.to_string(),
        token: token.expose_secret().to_owned(),
        details: Some(details(pat.created_at, pat.created_at, user.org_id)),
    })
}

pub(super) async fn get_pat(
    v1: V1,
    req: mgmt::GetPersonalAccessTokenByIDsRequest,
) -> Result<mgmt::GetPersonalAccessTokenByIDsResponse, ApiError> {
    let user = v1.user("userId", &req.user_id).await?;
    let token = token_id(&req.token_id)?;
    let filters = vec![PatFilter::User(user.id), PatFilter::Token(token)];
    let listed = pats::list(&v1.ctx, filters, PatSort::default(), Page::default()).await?;
    let found =
        listed.items.into_iter().next().ok_or_else(|| ServiceError::not_found("personal access token not found"))?;
    Ok(mgmt::GetPersonalAccessTokenByIDsResponse {
        token: Some(user_v1::PersonalAccessToken {
            id: found.pat.id.to_string(),
            details: Some(details(found.pat.created_at, found.pat.created_at, found.org_id)),
            expiration_date: Some(ts(found.pat.expires_at)),
            // ZITADEL lists the scopes a PAT's access token carries.
            scopes: vec!["openid".to_owned()],
        }),
    })
}

pub(super) async fn remove_pat(
    v1: V1,
    req: mgmt::RemovePersonalAccessTokenRequest,
) -> Result<mgmt::RemovePersonalAccessTokenResponse, ApiError> {
    let user = v1.user("userId", &req.user_id).await?;
    pats::remove(&v1.ctx, user.id, token_id(&req.token_id)?).await?;
    Ok(mgmt::RemovePersonalAccessTokenResponse { details: Some(changed_now(&v1.ctx, user.org_id)) })
}

/// The call's organization: the header's, else the caller's own.
pub(super) async fn get_my_org(v1: V1, _req: mgmt::GetMyOrgRequest) -> Result<mgmt::GetMyOrgResponse, ApiError> {
    let filters = vec![OrgQueryFilter::Ids(vec![v1.org])];
    let listed = orgs::list(&v1.ctx, filters, OrgSort::default(), Page::default()).await?;
    let org = listed.items.into_iter().next().ok_or_else(|| ServiceError::not_found("organization not found"))?;
    Ok(mgmt::GetMyOrgResponse {
        org: Some(org_v1::Org {
            id: org.id.to_string(),
            details: Some(details(org.created_at, org.updated_at, org.id)),
            state: match org.state {
                tessera_domain::org::OrgState::Active => org_v1::OrgState::Active,
                tessera_domain::org::OrgState::Inactive => org_v1::OrgState::Inactive,
            }
            .into(),
            name: org.name.to_string(),
        }),
    })
}
