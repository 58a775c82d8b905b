//! `zitadel.user.v2.UserService`: users, personal access tokens and metadata,
//! on the generated messages of `proto/zitadel/user/v2`. Keys and secrets are
//! in `user_credentials`. `zitadel.user.v2beta.UserService` declares the same
//! messages for the methods both have, so these handlers serve it too.
//!
//! Two shapes other than the proto's are accepted, because clients send them:
//! the official Python SDK wraps `CreateUser`'s password once more
//! ([`unwrap_sdk_password`]), and `UpdateUser` also takes the password as
//! `CreateUser` spells it, `{"password": {"password": "…"}}`.

use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::json;
use tessera_core::pats::ScopeRequest;
use tessera_domain::names::{Description, DisplayName, Email};
use tessera_domain::repo::{Page, PatFilter, PatSort, TextFilter, TextMethod, UserFilter, UserSort, UserType};
use tessera_domain::token_scope::{Preset, TokenScope, permission};
use tessera_domain::user::{AccessTokenType, StateChange, User, UserKind, UserState};
use tessera_domain::{OrgId, PatId, ProjectId, UserId};
use tessera_proto::tessera::pat::v1::PersonalAccessTokenScope as PatScopePb;
use tessera_proto::zitadel::metadata::v2 as metadata_v2;
use tessera_proto::zitadel::object::v2 as pb_object;
use tessera_proto::zitadel::user::v2 as pb;

use super::call::{Answer, Call, RestCall};
use super::human::{HumanParts, unwrap_sdk_password};
use super::v2::{
    details_of, from_ts, list_details_of, list_query, opt_username, pagination, pagination_response, required_id,
    text_filter_of, text_query_of, time_filter_of, ts,
};
use super::wire;
use crate::error::{ApiError, ServiceError};
use tessera_core::{Ctx, metadata, pats, secrets, users};

pub use pb::ListUsersRequest;

// ----------------------------------------------------------------------------
// Users

fn access_token_type(t: i32) -> Result<AccessTokenType, ServiceError> {
    match pb::AccessTokenType::try_from(t) {
        Ok(pb::AccessTokenType::Bearer) => Ok(AccessTokenType::Bearer),
        Ok(pb::AccessTokenType::Jwt) => Ok(AccessTokenType::Jwt),
        Err(_) => Err(ServiceError::invalid("machine.accessTokenType is not an AccessTokenType")),
    }
}

fn details(u: &User) -> Option<tessera_proto::zitadel::object::v2::Details> {
    details_of(u.created_at, u.updated_at, u.org_id)
}

/// The wire form of a user. Tessera keeps no nick name, language, gender or
/// phone: they are sent empty, as ZITADEL sends unset ones.
#[must_use]
pub fn wire_user(u: &User, has_secret: bool) -> pb::User {
    let kind = match &u.kind {
        UserKind::Machine(m) => pb::user::Type::Machine(pb::MachineUser {
            name: m.name.to_string(),
            description: m.description.to_string(),
            has_secret,
            access_token_type: match m.access_token_type {
                AccessTokenType::Bearer => pb::AccessTokenType::Bearer,
                AccessTokenType::Jwt => pb::AccessTokenType::Jwt,
            }
            .into(),
        }),
        UserKind::Human(h) => pb::user::Type::Human(pb::HumanUser {
            profile: Some(pb::HumanProfile {
                given_name: h.given_name.to_string(),
                family_name: h.family_name.to_string(),
                nick_name: Some(String::new()),
                display_name: Some(h.display_name.to_string()),
                preferred_language: Some("und".into()),
                gender: Some(pb::Gender::Unspecified.into()),
            }),
            email: Some(pb::HumanEmail { email: h.email.to_string(), is_verified: h.email_verified }),
            phone: Some(pb::HumanPhone::default()),
            password_change_required: false,
        }),
    };
    let state = match u.state {
        UserState::Active => pb::UserState::Active,
        UserState::Inactive => pb::UserState::Inactive,
        UserState::Locked => pb::UserState::Locked,
    };
    pb::User {
        user_id: u.id.to_string(),
        details: details(u),
        state: state.into(),
        username: u.username.to_string(),
        login_names: vec![u.username.to_string()],
        preferred_login_name: u.username.to_string(),
        r#type: Some(kind),
    }
}

async fn create_user(ctx: Ctx, req: pb::CreateUserRequest) -> Result<pb::CreateUserResponse, ApiError> {
    use pb::create_user_request::UserType;
    use pb::create_user_request::human::PasswordType;
    let org_id = required_id("organizationId", &req.organization_id, OrgId::parse)?;
    let user_id = req
        .user_id
        .as_deref()
        .filter(|s| !s.is_empty())
        .map(|s| required_id("userId", s, UserId::parse))
        .transpose()?;
    let username = opt_username(req.username.as_deref())?;
    let user = match req.user_type {
        Some(UserType::Machine(m)) => {
            let name = DisplayName::parse("machine.name", &m.name)?;
            let description = Description::parse(m.description.as_deref().unwrap_or_default())?;
            users::create_machine(
                &ctx,
                users::NewMachine {
                    org_id: Some(org_id),
                    user_id,
                    username,
                    name,
                    description,
                    access_token_type: access_token_type(m.access_token_type)?,
                },
            )
            .await?
        }
        Some(UserType::Human(h)) => {
            let password = h.password_type.as_ref().map(|PasswordType::Password(p)| p);
            let parts = HumanParts { profile: h.profile.as_ref(), email: h.email.as_ref(), password };
            users::create_human(&ctx, parts.into_new_human(Some(org_id), user_id, username)?).await?
        }
        None => return Err(ServiceError::invalid("exactly one of machine or human is required").into()),
    };
    Ok(pb::CreateUserResponse { id: user.id.to_string(), creation_date: ts(user.created_at) })
}

/// The call with the Python SDK's password wrapping undone in `human`.
fn sdk_shapes_undone(call: &Call) -> Option<Call> {
    let mut body = call.json()?;
    unwrap_sdk_password(body.get_mut("human")?);
    Some(call.with_json(&body))
}

fn user_id(v: &str) -> Result<UserId, ServiceError> {
    required_id("userId", v, UserId::parse)
}

async fn get_user(ctx: Ctx, req: pb::GetUserByIdRequest) -> Result<pb::GetUserByIdResponse, ApiError> {
    let user = users::get(&ctx, user_id(&req.user_id)?).await?;
    let has_secret = secrets::has_secret(&ctx, &user).await?;
    Ok(pb::GetUserByIdResponse { details: details(&user), user: Some(wire_user(&user, has_secret)) })
}

/// A filter no user passes.
fn no_user() -> UserFilter {
    UserFilter::Ids(Vec::new())
}

/// Converts one `SearchQuery`. Nesting is bounded by the request's shape
/// check before decoding, and again here.
fn user_query(q: &pb::SearchQuery, depth: usize) -> Result<UserFilter, ServiceError> {
    use pb::search_query::Query;
    if depth > 16 {
        return Err(ServiceError::invalid("queries are nested too deeply"));
    }
    let list = |qs: &[pb::SearchQuery]| qs.iter().map(|q| user_query(q, depth + 1)).collect::<Result<Vec<_>, _>>();
    Ok(match &q.query {
        None => return Err(ServiceError::invalid("each query must set exactly one query type Tessera knows")),
        Some(Query::UserNameQuery(q)) => {
            UserFilter::Username(text_query_of(&q.user_name, q.method, "userNameQuery.userName")?)
        }
        Some(Query::LoginNameQuery(q)) => {
            UserFilter::Username(text_query_of(&q.login_name, q.method, "loginNameQuery.loginName")?)
        }
        Some(Query::FirstNameQuery(q)) => {
            UserFilter::GivenName(text_query_of(&q.first_name, q.method, "firstNameQuery.firstName")?)
        }
        Some(Query::LastNameQuery(q)) => {
            UserFilter::FamilyName(text_query_of(&q.last_name, q.method, "lastNameQuery.lastName")?)
        }
        Some(Query::DisplayNameQuery(q)) => {
            UserFilter::DisplayName(text_query_of(&q.display_name, q.method, "displayNameQuery.displayName")?)
        }
        Some(Query::EmailQuery(q)) => {
            UserFilter::Email(text_query_of(&q.email_address, q.method, "emailQuery.emailAddress")?)
        }
        Some(Query::StateQuery(q)) => match pb::UserState::try_from(q.state) {
            Ok(pb::UserState::Active) => UserFilter::State(UserState::Active),
            Ok(pb::UserState::Inactive) => UserFilter::State(UserState::Inactive),
            Ok(pb::UserState::Locked) => UserFilter::State(UserState::Locked),
            // Tessera has no deleted (they are gone) or initial users.
            Ok(_) => no_user(),
            Err(_) => return Err(ServiceError::invalid("stateQuery.state is not a UserState")),
        },
        Some(Query::TypeQuery(q)) => match pb::Type::try_from(q.r#type) {
            Ok(pb::Type::Human) => UserFilter::Type(UserType::Human),
            Ok(pb::Type::Machine) => UserFilter::Type(UserType::Machine),
            _ => return Err(ServiceError::invalid("typeQuery.type must be TYPE_HUMAN or TYPE_MACHINE")),
        },
        // Ids that are not UUIDs cannot exist here; they simply match nothing.
        Some(Query::InUserIdsQuery(q)) => {
            UserFilter::Ids(q.user_ids.iter().filter_map(|s| UserId::parse(s).ok()).collect())
        }
        Some(Query::InUserEmailsQuery(q)) => UserFilter::Or(
            q.user_emails
                .iter()
                .map(|e| UserFilter::Email(TextFilter { value: e.clone(), method: TextMethod::EqualsIgnoreCase }))
                .collect(),
        ),
        Some(Query::OrganizationIdQuery(q)) => match OrgId::parse(&q.organization_id) {
            Ok(org) => UserFilter::Org(org),
            Err(_) if q.organization_id.is_empty() => {
                return Err(ServiceError::invalid("organizationIdQuery.organizationId is required"));
            }
            Err(_) => no_user(),
        },
        Some(Query::OrQuery(q)) => UserFilter::Or(list(&q.queries)?),
        Some(Query::AndQuery(q)) => UserFilter::And(list(&q.queries)?),
        Some(Query::NotQuery(q)) => UserFilter::Not(Box::new(user_query(
            q.query.as_deref().ok_or_else(|| ServiceError::invalid("notQuery.query is required"))?,
            depth + 1,
        )?)),
        Some(Query::NickNameQuery(_)) => {
            return Err(ServiceError::invalid("nickNameQuery is not supported by Tessera"));
        }
        Some(Query::PhoneQuery(_)) => return Err(ServiceError::invalid("phoneQuery is not supported by Tessera")),
        Some(Query::MetadataKeyFilter(_) | Query::MetadataValueFilter(_)) => {
            return Err(ServiceError::invalid("metadata queries are not supported by Tessera"));
        }
    })
}

async fn list_users(ctx: Ctx, req: pb::ListUsersRequest) -> Result<pb::ListUsersResponse, ApiError> {
    let (filters, sort, page) = list_users_query(&req)?;
    let listed = users::list(&ctx, filters, sort, page).await?;
    let with_secret = secrets::users_with_secret(&ctx, &listed.items).await?;
    Ok(pb::ListUsersResponse {
        details: list_details_of(listed.total, ctx.now()),
        sorting_column: req.sorting_column,
        result: listed.items.iter().map(|u| wire_user(u, with_secret.contains(&u.id))).collect(),
    })
}

/// The filters, order and page of a `ListUsers` request (v2, and v1's, whose
/// JSON is the same).
///
/// # Errors
/// `invalid_argument` naming what is malformed.
pub fn list_users_query(req: &pb::ListUsersRequest) -> Result<(Vec<UserFilter>, UserSort, Page), ApiError> {
    use pb::UserFieldName as F;
    let filters = req.queries.iter().map(|q| user_query(q, 0)).collect::<Result<Vec<_>, _>>()?;
    let sort = match F::try_from(req.sorting_column) {
        Ok(F::Unspecified | F::CreationDate) => UserSort::CreatedAt,
        Ok(F::UserName) => UserSort::Username,
        Ok(F::FirstName) => UserSort::GivenName,
        Ok(F::LastName) => UserSort::FamilyName,
        Ok(F::NickName | F::DisplayName) => UserSort::DisplayName,
        Ok(F::Email) => UserSort::Email,
        Ok(F::State) => UserSort::State,
        Ok(F::Type) => UserSort::Type,
        Err(_) => return Err(ServiceError::invalid("sortingColumn is not a UserFieldName").into()),
    };
    Ok((filters, sort, list_query(req.query.as_ref())?))
}

/// The call with a flat `human.password.password` (CreateUser's spelling)
/// wrapped into `SetPassword`'s `{"password": {"password": …}}`.
fn flat_password_wrapped(call: &Call) -> Option<Call> {
    let mut body = call.json()?;
    let password = body.get_mut("human")?.get_mut("password")?;
    let flat = password.get("password").filter(|p| p.is_string())?.clone();
    *password = json!({ "password": { "password": flat } });
    Some(call.with_json(&body))
}

async fn update_user(ctx: Ctx, req: pb::UpdateUserRequest) -> Result<pb::UpdateUserResponse, ApiError> {
    use pb::update_user_request::UserType;
    let id = user_id(&req.user_id)?;
    let (mut machine, mut human) = (None, None);
    match req.user_type {
        Some(UserType::Machine(m)) => {
            machine = Some(users::MachineUpdate {
                name: m.name.as_deref().map(|n| DisplayName::parse("machine.name", n)).transpose()?,
                description: m.description.as_deref().map(Description::parse).transpose()?,
                access_token_type: m.access_token_type.map(access_token_type).transpose()?,
            });
        }
        Some(UserType::Human(h)) => {
            let password = match h.password.and_then(|p| p.password_type) {
                None => None,
                Some(pb::set_password::PasswordType::Password(p)) => {
                    if p.password.is_empty() || p.password.chars().count() > 200 {
                        return Err(ServiceError::invalid("human.password.password must be 1 to 200 characters").into());
                    }
                    Some(secrecy::SecretString::from(p.password))
                }
            };
            let profile = h.profile.unwrap_or_default();
            let parse = |field: &'static str, v: Option<String>| v.map(|v| DisplayName::parse(field, &v)).transpose();
            let email = match h.email {
                Some(e) if !e.email.is_empty() => {
                    let pb::set_human_email::Verification::IsVerified(verified) =
                        e.verification.unwrap_or(pb::set_human_email::Verification::IsVerified(false));
                    Some((Email::parse(&e.email)?, verified))
                }
                _ => None,
            };
            human = Some(users::HumanUpdate {
                given_name: parse("human.profile.givenName", profile.given_name)?,
                family_name: parse("human.profile.familyName", profile.family_name)?,
                display_name: parse("human.profile.displayName", profile.display_name)?,
                email,
                password,
            });
        }
        None => {}
    }
    let username = opt_username(req.username.as_deref())?;
    let user = users::update(&ctx, id, users::UserUpdate { username, machine, human }).await?;
    Ok(pb::UpdateUserResponse { change_date: ts(user.updated_at) })
}

async fn change_state(ctx: &Ctx, id: &str, change: StateChange) -> Result<Option<pb_object::Details>, ApiError> {
    let user = users::change_state(ctx, user_id(id)?, change).await?;
    Ok(details(&user))
}

async fn deactivate_user(ctx: Ctx, req: pb::DeactivateUserRequest) -> Result<pb::DeactivateUserResponse, ApiError> {
    Ok(pb::DeactivateUserResponse { details: change_state(&ctx, &req.user_id, StateChange::Deactivate).await? })
}

async fn reactivate_user(ctx: Ctx, req: pb::ReactivateUserRequest) -> Result<pb::ReactivateUserResponse, ApiError> {
    Ok(pb::ReactivateUserResponse { details: change_state(&ctx, &req.user_id, StateChange::Reactivate).await? })
}

async fn lock_user(ctx: Ctx, req: pb::LockUserRequest) -> Result<pb::LockUserResponse, ApiError> {
    Ok(pb::LockUserResponse { details: change_state(&ctx, &req.user_id, StateChange::Lock).await? })
}

async fn unlock_user(ctx: Ctx, req: pb::UnlockUserRequest) -> Result<pb::UnlockUserResponse, ApiError> {
    Ok(pb::UnlockUserResponse { details: change_state(&ctx, &req.user_id, StateChange::Unlock).await? })
}

/// `DeleteUser`: the details carry the deletion time as the change date.
async fn delete_user(ctx: Ctx, req: pb::DeleteUserRequest) -> Result<pb::DeleteUserResponse, ApiError> {
    let user = users::delete(&ctx, user_id(&req.user_id)?).await?;
    Ok(pb::DeleteUserResponse { details: details_of(user.created_at, ctx.now(), user.org_id) })
}

// ----------------------------------------------------------------------------
// Personal access tokens

/// The scope of `AddPersonalAccessToken`'s Tessera extension, its names
/// checked (what the user holds is checked by the use case).
fn token_scope(s: &PatScopePb) -> Result<ScopeRequest, ServiceError> {
    let orgs = s
        .organization_ids
        .iter()
        .map(|v| required_id("tesseraScope.organizationIds", v, OrgId::parse))
        .collect::<Result<Vec<_>, _>>()?;
    let projects = s
        .project_ids
        .iter()
        .map(|v| required_id("tesseraScope.projectIds", v, ProjectId::parse))
        .collect::<Result<Vec<_>, _>>()?;
    let permissions = s.permissions.iter().map(|p| permission(p)).collect::<Result<Vec<_>, _>>()?;
    let presets = s.presets.iter().map(|p| Preset::parse(p)).collect::<Result<Vec<_>, _>>()?;
    Ok(ScopeRequest { orgs, projects, permissions, presets })
}

/// A stored scope on the wire (presets are already permissions).
fn wire_scope(s: &TokenScope) -> PatScopePb {
    PatScopePb {
        organization_ids: s.orgs().iter().map(ToString::to_string).collect(),
        project_ids: s.projects().iter().map(ToString::to_string).collect(),
        permissions: s.permissions().iter().map(|p| (*p).to_owned()).collect(),
        presets: Vec::new(),
    }
}

/// `AddPersonalAccessToken`: the token, once.
async fn add_pat(
    ctx: Ctx,
    req: pb::AddPersonalAccessTokenRequest,
) -> Result<pb::AddPersonalAccessTokenResponse, ApiError> {
    let user = user_id(&req.user_id)?;
    let expires = match req.expiration_date {
        None => None,
        some => Some(from_ts(some).ok_or_else(|| ServiceError::invalid("expirationDate is not a valid time"))?),
    };
    let scope = req.tessera_scope.as_ref().map(token_scope).transpose()?;
    let (pat, token) = pats::add(&ctx, user, expires, scope).await?;
    Ok(pb::AddPersonalAccessTokenResponse {
        creation_date: ts(pat.created_at),
        token_id: pat.id.to_string(),
        token: token.expose_secret().to_owned(),
    })
}

async fn remove_pat(
    ctx: Ctx,
    req: pb::RemovePersonalAccessTokenRequest,
) -> Result<pb::RemovePersonalAccessTokenResponse, ApiError> {
    let user = user_id(&req.user_id)?;
    let token = match PatId::parse(&req.token_id) {
        Ok(t) => Some(t),
        Err(_) if req.token_id.trim().is_empty() => return Err(ServiceError::invalid("tokenId is required").into()),
        // Not an id Tessera could have issued: nothing to remove.
        Err(_) => None,
    };
    match token {
        Some(token) => pats::remove(&ctx, user, token).await?,
        None => {
            ctx.user(user).await?;
        }
    }
    Ok(pb::RemovePersonalAccessTokenResponse { deletion_date: ts(ctx.now()) })
}

fn pat_filter(f: &pb::PersonalAccessTokensSearchFilter) -> Result<PatFilter, ServiceError> {
    use pb::personal_access_tokens_search_filter::Filter;
    // An id that is not a UUID cannot match anything Tessera stores.
    let nothing = || {
        PatFilter::And(vec![PatFilter::Token(PatId::new()), PatFilter::Not(Box::new(PatFilter::Token(PatId::new())))])
    };
    Ok(match &f.filter {
        None => return Err(wire::one_filter_error()),
        Some(Filter::TokenIdFilter(f)) => PatId::parse(&f.id).map_or_else(|_| nothing(), PatFilter::Token),
        Some(Filter::UserIdFilter(f)) => UserId::parse(&f.id).map_or_else(|_| nothing(), PatFilter::User),
        Some(Filter::OrganizationIdFilter(f)) => OrgId::parse(&f.id).map_or_else(|_| nothing(), PatFilter::Org),
        Some(Filter::CreatedDateFilter(f)) => PatFilter::CreatedAt(time_filter_of(f, "createdDateFilter")?),
        Some(Filter::ExpirationDateFilter(f)) => PatFilter::ExpiresAt(time_filter_of(f, "expirationDateFilter")?),
    })
}

async fn list_pats(
    ctx: Ctx,
    req: pb::ListPersonalAccessTokensRequest,
) -> Result<pb::ListPersonalAccessTokensResponse, ApiError> {
    use pb::PersonalAccessTokenFieldName as F;
    let filters = req.filters.iter().map(pat_filter).collect::<Result<Vec<_>, _>>()?;
    let sort = match F::try_from(req.sorting_column.unwrap_or_default()) {
        Ok(F::Unspecified | F::CreatedDate) => PatSort::CreatedAt,
        Ok(F::Id) => PatSort::Id,
        Ok(F::UserId) => PatSort::User,
        Ok(F::OrganizationId) => PatSort::Org,
        Ok(F::ExpirationDate) => PatSort::ExpiresAt,
        Err(_) => return Err(ServiceError::invalid("sortingColumn is not a PersonalAccessTokenFieldName").into()),
    };
    let page = pagination(req.pagination.as_ref())?;
    let listed = pats::list(&ctx, filters, sort, page).await?;
    Ok(pb::ListPersonalAccessTokensResponse {
        pagination: pagination_response(listed.total, page),
        result: listed
            .items
            .into_iter()
            .map(|p| pb::PersonalAccessToken {
                creation_date: ts(p.pat.created_at),
                // Tokens never change.
                change_date: ts(p.pat.created_at),
                id: p.pat.id.to_string(),
                user_id: p.pat.user_id.to_string(),
                organization_id: p.org_id.to_string(),
                expiration_date: ts(p.pat.expires_at),
                last_used_date: p.pat.last_used_at.and_then(ts),
                tessera_scope: p.pat.scope.as_ref().map(wire_scope),
            })
            .collect(),
    })
}

// ----------------------------------------------------------------------------
// Metadata

async fn set_metadata(ctx: Ctx, req: pb::SetUserMetadataRequest) -> Result<pb::SetUserMetadataResponse, ApiError> {
    let user = user_id(&req.user_id)?;
    let entries = req.metadata.into_iter().map(|m| (m.key, m.value)).collect();
    metadata::set(&ctx, user, entries).await?;
    Ok(pb::SetUserMetadataResponse { set_date: ts(ctx.now()) })
}

async fn list_metadata(ctx: Ctx, req: pb::ListUserMetadataRequest) -> Result<pb::ListUserMetadataResponse, ApiError> {
    use metadata_v2::metadata_search_filter::Filter;
    let user = user_id(&req.user_id)?;
    if req.filters.len() > 1 {
        return Err(ServiceError::invalid("at most one metadata filter is supported").into());
    }
    let key = match req.filters.first().map(|f| &f.filter) {
        None => None,
        Some(Some(Filter::KeyFilter(k))) => Some(text_filter_of(&k.key, k.method, "filters[0].keyFilter.key")?),
        Some(_) => return Err(ServiceError::invalid("filters[0].keyFilter is required").into()),
    };
    let page = pagination(req.pagination.as_ref())?;
    let listed = metadata::list(&ctx, user, key, page).await?;
    Ok(pb::ListUserMetadataResponse {
        pagination: pagination_response(listed.total, page),
        metadata: listed
            .items
            .into_iter()
            .map(|e| metadata_v2::Metadata {
                creation_date: ts(e.created_at),
                change_date: ts(e.updated_at),
                key: e.key,
                value: e.value,
            })
            .collect(),
    })
}

async fn delete_metadata(
    ctx: Ctx,
    req: pb::DeleteUserMetadataRequest,
) -> Result<pb::DeleteUserMetadataResponse, ApiError> {
    let user = user_id(&req.user_id)?;
    metadata::delete(&ctx, user, req.keys).await?;
    Ok(pb::DeleteUserMetadataResponse { deletion_date: ts(ctx.now()) })
}

// ----------------------------------------------------------------------------
// Routing

/// Dispatches a call (keys and secrets in `user_credentials`); `None` for an
/// unknown method.
pub async fn dispatch(method: &str, call: &Call) -> Option<Result<Answer, ApiError>> {
    Some(match method {
        "CreateUser" => sdk_shapes_undone(call).as_ref().unwrap_or(call).run(create_user).await,
        "GetUserByID" => call.run(get_user).await,
        "ListUsers" => call.run(list_users).await,
        "UpdateUser" => flat_password_wrapped(call).as_ref().unwrap_or(call).run(update_user).await,
        "DeactivateUser" => call.run(deactivate_user).await,
        "ReactivateUser" => call.run(reactivate_user).await,
        "LockUser" => call.run(lock_user).await,
        "UnlockUser" => call.run(unlock_user).await,
        "DeleteUser" => call.run(delete_user).await,
        "AddPersonalAccessToken" => call.run(add_pat).await,
        "RemovePersonalAccessToken" => call.run(remove_pat).await,
        "ListPersonalAccessTokens" => call.run(list_pats).await,
        "SetUserMetadata" => call.run(set_metadata).await,
        "ListUserMetadata" => call.run(list_metadata).await,
        "DeleteUserMetadata" => call.run(delete_metadata).await,
        _ => return super::user_credentials::dispatch(method, call).await,
    })
}

/// `{userId}` of a REST path.
fn uid(req: &HttpRequest) -> (&'static str, String) {
    ("userId", req.match_info().get("userId").unwrap_or_default().to_owned())
}

/// Mounts ZITADEL's REST paths for the methods above.
pub fn rest_routes(cfg: &mut web::ServiceConfig) {
    async fn rest(req: HttpRequest, payload: web::Payload) -> Result<HttpResponse, ApiError> {
        let method = req.method().clone();
        // v2beta's paths are v2's for the methods both have (the same messages).
        let pattern = req.match_pattern().unwrap_or_default().replacen("/v2beta/", "/v2/", 1);
        let mut params = vec![];
        if req.match_info().get("userId").is_some() {
            params.push(uid(&req));
        }
        if let Some(t) = req.match_info().get("tokenId") {
            params.push(("tokenId", t.to_owned()));
        }
        let keys: Vec<String> = if pattern.ends_with("/metadata") && method == actix_web::http::Method::DELETE {
            web::Query::<Vec<(String, String)>>::from_query(req.query_string())
                .map(|q| q.into_inner().into_iter().filter(|(k, _)| k == "keys").map(|(_, v)| v).collect())
                .unwrap_or_default()
        } else {
            Vec::new()
        };
        let call = RestCall::new(req, payload, &params).await?;
        match (method.as_str(), pattern.as_str()) {
            ("POST", "/v2/users/new") => {
                sdk_shapes_undone(call.call()).map_or(call, RestCall::from).run(create_user).await
            }
            ("POST", "/v2/users") => call.run(list_users).await,
            ("POST", "/v2/users/pats/search") => call.run(list_pats).await,
            ("GET", "/v2/users/{userId}") => call.run(get_user).await,
            ("PATCH", "/v2/users/{userId}") => {
                flat_password_wrapped(call.call()).map_or(call, RestCall::from).run(update_user).await
            }
            ("DELETE", "/v2/users/{userId}") => call.run(delete_user).await,
            ("POST", "/v2/users/{userId}/deactivate") => call.run(deactivate_user).await,
            ("POST", "/v2/users/{userId}/reactivate") => call.run(reactivate_user).await,
            ("POST", "/v2/users/{userId}/lock") => call.run(lock_user).await,
            ("POST", "/v2/users/{userId}/unlock") => call.run(unlock_user).await,
            ("POST", "/v2/users/{userId}/pats") => call.run(add_pat).await,
            ("DELETE", "/v2/users/{userId}/pats/{tokenId}") => call.run(remove_pat).await,
            ("POST", "/v2/users/{userId}/metadata") => call.run(set_metadata).await,
            ("POST", "/v2/users/{userId}/metadata/search") => call.run(list_metadata).await,
            ("DELETE", "/v2/users/{userId}/metadata") => {
                call.run(move |c, mut r: pb::DeleteUserMetadataRequest| {
                    r.keys.extend(keys);
                    delete_metadata(c, r)
                })
                .await
            }
            _ => Err(ApiError::new(crate::error::ConnectCode::Unimplemented, "unknown route")),
        }
    }
    cfg.route("/v2/users/new", web::post().to(rest))
        .route("/v2/users/pats/search", web::post().to(rest))
        .route("/v2/users", web::post().to(rest))
        .route("/v2/users/{userId}", web::get().to(rest))
        .route("/v2/users/{userId}", web::patch().to(rest))
        .route("/v2/users/{userId}", web::delete().to(rest))
        .route("/v2/users/{userId}/deactivate", web::post().to(rest))
        .route("/v2/users/{userId}/reactivate", web::post().to(rest))
        .route("/v2/users/{userId}/lock", web::post().to(rest))
        .route("/v2/users/{userId}/unlock", web::post().to(rest))
        .route("/v2/users/{userId}/pats", web::post().to(rest))
        .route("/v2/users/{userId}/pats/{tokenId}", web::delete().to(rest))
        .route("/v2/users/{userId}/metadata", web::post().to(rest))
        .route("/v2/users/{userId}/metadata/search", web::post().to(rest))
        .route("/v2/users/{userId}/metadata", web::delete().to(rest))
        // zitadel.user.v2beta.UserService's gateway paths.
        .route("/v2beta/users", web::post().to(rest))
        .route("/v2beta/users/{userId}", web::get().to(rest))
        .route("/v2beta/users/{userId}", web::delete().to(rest))
        .route("/v2beta/users/{userId}/deactivate", web::post().to(rest))
        .route("/v2beta/users/{userId}/reactivate", web::post().to(rest))
        .route("/v2beta/users/{userId}/lock", web::post().to(rest))
        .route("/v2beta/users/{userId}/unlock", web::post().to(rest));
}
