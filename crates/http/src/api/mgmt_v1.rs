//! ZITADEL's v1 management API (`zitadel.management.v1.ManagementService`), the
//! methods the Terraform provider's machine-user, key and PAT resources and
//! zitadel-go's service-account examples call (proto/METHODS.md). Served on
//! every transport (`POST /zitadel.management.v1.ManagementService/<Method>`:
//! Connect, gRPC, gRPC-web) and at the REST paths of ZITADEL's grpc-gateway
//! under `/management/v1`.
//!
//! Handlers read and write the generated messages (`tessera_proto`) directly:
//! no hand-written wire types.
//!
//! Wire rules of the gateway: lowerCamelCase JSON (the proto's snake_case names
//! accepted too), unknown fields ignored, zero values omitted, and errors as
//! [`GatewayError`] — `{"code": <numeric gRPC code>, "message", "details": []}`.
//! The organization of a call is the caller's own unless the header
//! `x-zitadel-orgid` names another; a user named by a call must belong to it,
//! as in ZITADEL, where the header scopes every lookup of the call.

use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::Value;
use std::collections::BTreeSet;
use tessera_core::keys::NewKey;

use tessera_core::{Ctx, admins, applications, authorizations, keys, orgs, pats, projects, secrets, users};
use tessera_domain::application::{ApiAuthMethod, AppName, AppState};
use tessera_domain::authorization::AuthorizationState;
use tessera_domain::names::{Description, DisplayName, Username};
use tessera_domain::permission::{Role, Scope};
use tessera_domain::project::{Project, ProjectName, ProjectRole, ProjectState, RoleKey};
use tessera_domain::repo::{
    AdminFilter, AdminSort, AppFilter, AppSort, AppWithOwner, AuthorizationFilter, AuthorizationSort,
    AuthorizationView, KeyFilter, KeySort, OrgQueryFilter, OrgSort, Page, PatFilter, PatSort, ProjectFilter,
    ProjectSort, RoleFilter, RoleSort, TextFilter, TextMethod,
};
use tessera_domain::user::{AccessTokenType, User, UserKind};
use tessera_domain::{
    AppKeyId, ApplicationId, AuthorizationId, KeyId, OrgId, PatId, ProjectId, Timestamp, UserId, ValidationError,
};
use tessera_proto::zitadel::app::v1 as app_v1;
use tessera_proto::zitadel::authn::v1 as authn;
use tessera_proto::zitadel::management::v1 as mgmt;
use tessera_proto::zitadel::org::v1 as org_v1;
use tessera_proto::zitadel::project::v1 as project_v1;
use tessera_proto::zitadel::user::v1 as user_v1;
use tessera_proto::zitadel::v1 as object;

use super::connect::{Call, RestCall};
use super::user::{ListUsersRequest, list_users_query, required_id};
use crate::error::{ApiError, GatewayError, ServiceError};

/// The header that sets the organization of a v1 call.
pub const ORG_HEADER: &str = "x-zitadel-orgid";

/// The service's fully qualified name.
pub const SERVICE: &str = "zitadel.management.v1.ManagementService";

/// A protobuf timestamp.
fn ts(t: Timestamp) -> tessera_proto::Timestamp {
    t.into()
}

/// An optional protobuf timestamp as a domain one.
fn from_ts(t: Option<tessera_proto::Timestamp>, field: &'static str) -> Result<Option<Timestamp>, ApiError> {
    t.map(Timestamp::try_from)
        .transpose()
        .map_err(|_| ServiceError::invalid(format!("{field} is not a valid time")).into())
}

/// `zitadel.v1.ObjectDetails`. `sequence` is never sent: Tessera is not
/// event-sourced, and protojson omits a zero sequence anyway.
fn details(created: Timestamp, changed: Timestamp, owner: OrgId) -> object::ObjectDetails {
    object::ObjectDetails {
        creation_date: Some(ts(created)),
        change_date: Some(ts(changed)),
        resource_owner: owner.to_string(),
    }
}

/// Details of a user.
fn user_details(u: &User) -> object::ObjectDetails {
    details(u.created_at, u.updated_at, u.org_id)
}

/// Details of a change made now to something `owner` owns.
fn changed_now(ctx: &Ctx, owner: OrgId) -> object::ObjectDetails {
    let now = ctx.now();
    details(now, now, owner)
}

/// `zitadel.user.v1.User`.
fn wire_user(u: &User, has_secret: bool) -> user_v1::User {
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
fn access_token_type(value: i32) -> Result<AccessTokenType, ApiError> {
    match user_v1::AccessTokenType::try_from(value) {
        Ok(user_v1::AccessTokenType::Bearer) => Ok(AccessTokenType::Bearer),
        Ok(user_v1::AccessTokenType::Jwt) => Ok(AccessTokenType::Jwt),
        Err(_) => Err(ServiceError::invalid("accessTokenType is not a known access token type").into()),
    }
}

/// Names a v1 field in a validation error (the domain says `username`).
fn v1_field(field: &'static str) -> impl FnOnce(ValidationError) -> ValidationError {
    move |e| ValidationError { field: field.into(), ..e }
}

/// The organization named by `x-zitadel-orgid`, if any.
fn org_header(req: &HttpRequest) -> Result<Option<OrgId>, ApiError> {
    let Some(value) = req.headers().get(ORG_HEADER) else { return Ok(None) };
    let bad = || ServiceError::invalid(format!("{ORG_HEADER} is not a valid id"));
    let value = value.to_str().map_err(|_| bad())?.trim();
    if value.is_empty() {
        return Ok(None);
    }
    Ok(Some(OrgId::parse(value).map_err(|_| bad())?))
}

/// A call's context: the use-case context and the organization it is scoped to
/// by `x-zitadel-orgid`, the caller's own without the header.
struct V1 {
    ctx: Ctx,
    org: OrgId,
}

impl V1 {
    /// The user `id`, which must be in the call's organization (else
    /// `not_found`, as in ZITADEL, where the organization scopes every lookup).
    async fn user(&self, field: &'static str, id: &str) -> Result<User, ApiError> {
        let id = required_id(field, id, UserId::parse)?;
        let user = users::get(&self.ctx, id).await?;
        if user.org_id != self.org {
            return Err(ServiceError::not_found("user not found").into());
        }
        Ok(user)
    }
}

/// Runs `handler` on `call` with the v1 context.
async fn run<Req, Res, Fut>(call: &Call, handler: impl FnOnce(V1, Req) -> Fut) -> Result<Value, ApiError>
where
    Req: serde::de::DeserializeOwned,
    Res: serde::Serialize,
    Fut: Future<Output = Result<Res, ApiError>>,
{
    let org = org_header(call.request())?;
    call.run(move |ctx, req| {
        let org = org.unwrap_or(ctx.actor.org_id);
        handler(V1 { ctx, org }, req)
    })
    .await
}

async fn get_user_by_id(v1: V1, req: mgmt::GetUserByIdRequest) -> Result<mgmt::GetUserByIdResponse, ApiError> {
    let user = v1.user("id", &req.id).await?;
    let has_secret = secrets::has_secret(&v1.ctx, &user).await?;
    Ok(mgmt::GetUserByIdResponse { user: Some(wire_user(&user, has_secret)) })
}

/// v1 `ListUsers`: v1's `SearchQuery` is v2's under the same JSON names, so the
/// request is read as v2's (same filters, same errors).
async fn list_users(v1: V1, req: ListUsersRequest) -> Result<mgmt::ListUsersResponse, ApiError> {
    let (mut filters, sort, page) = list_users_query(&req)?;
    filters.push(tessera_domain::repo::UserFilter::Org(v1.org));
    let listed = users::list(&v1.ctx, filters, sort, page).await?;
    let with_secret = secrets::users_with_secret(&v1.ctx, &listed.items).await?;
    Ok(mgmt::ListUsersResponse {
        details: Some(object::ListDetails { total_result: listed.total, view_timestamp: Some(ts(v1.ctx.now())) }),
        sorting_column: user_v1::UserFieldName::from_str_name(req.sorting_column.wire()).map_or(0, Into::into),
        result: listed.items.iter().map(|u| wire_user(u, with_secret.contains(&u.id))).collect(),
    })
}

async fn add_machine_user(v1: V1, req: mgmt::AddMachineUserRequest) -> Result<mgmt::AddMachineUserResponse, ApiError> {
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

async fn remove_user(v1: V1, req: mgmt::RemoveUserRequest) -> Result<mgmt::RemoveUserResponse, ApiError> {
    let user = v1.user("id", &req.id).await?;
    let user = users::delete(&v1.ctx, user.id).await?;
    Ok(mgmt::RemoveUserResponse { details: Some(changed_now(&v1.ctx, user.org_id)) })
}

async fn update_user_name(v1: V1, req: mgmt::UpdateUserNameRequest) -> Result<mgmt::UpdateUserNameResponse, ApiError> {
    let user = v1.user("userId", &req.user_id).await?;
    let username = Username::parse(&req.user_name).map_err(v1_field("userName"))?;
    let change = users::UserUpdate { username: Some(username), ..Default::default() };
    let user = users::update(&v1.ctx, user.id, change).await?;
    Ok(mgmt::UpdateUserNameResponse { details: Some(user_details(&user)) })
}

/// A full replace of the three fields (plain proto3 fields, so an omitted
/// `accessTokenType` is BEARER).
async fn update_machine(v1: V1, req: mgmt::UpdateMachineRequest) -> Result<mgmt::UpdateMachineResponse, ApiError> {
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
async fn generate_machine_secret(
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

async fn remove_machine_secret(
    v1: V1,
    req: mgmt::RemoveMachineSecretRequest,
) -> Result<mgmt::RemoveMachineSecretResponse, ApiError> {
    let user = v1.user("userId", &req.user_id).await?;
    secrets::remove(&v1.ctx, user.id).await?;
    Ok(mgmt::RemoveMachineSecretResponse { details: Some(changed_now(&v1.ctx, user.org_id)) })
}

/// `KEY_TYPE_JSON` is the only type (ZITADEL refuses `UNSPECIFIED` too).
fn check_key_type(value: i32) -> Result<(), ApiError> {
    match authn::KeyType::try_from(value) {
        Ok(authn::KeyType::Json) => Ok(()),
        _ => Err(ServiceError::invalid("type must be KEY_TYPE_JSON").into()),
    }
}

async fn add_machine_key(v1: V1, req: mgmt::AddMachineKeyRequest) -> Result<mgmt::AddMachineKeyResponse, ApiError> {
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

async fn get_machine_key(
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

async fn remove_machine_key(
    v1: V1,
    req: mgmt::RemoveMachineKeyRequest,
) -> Result<mgmt::RemoveMachineKeyResponse, ApiError> {
    let user = v1.user("userId", &req.user_id).await?;
    keys::remove(&v1.ctx, user.id, key_id(&req.key_id)?).await?;
    Ok(mgmt::RemoveMachineKeyResponse { details: Some(changed_now(&v1.ctx, user.org_id)) })
}

async fn add_pat(
    v1: V1,
    req: mgmt::AddPersonalAccessTokenRequest,
) -> Result<mgmt::AddPersonalAccessTokenResponse, ApiError> {
    let user = v1.user("userId", &req.user_id).await?;
    let expires = from_ts(req.expiration_date, "expirationDate")?;
    let (pat, token) = pats::add(&v1.ctx, user.id, expires).await?;
    Ok(mgmt::AddPersonalAccessTokenResponse {
        token_id: pat.id.to_string(),
        token: token.expose_secret().to_owned(),
        details: Some(details(pat.created_at, pat.created_at, user.org_id)),
    })
}

async fn get_pat(
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

async fn remove_pat(
    v1: V1,
    req: mgmt::RemovePersonalAccessTokenRequest,
) -> Result<mgmt::RemovePersonalAccessTokenResponse, ApiError> {
    let user = v1.user("userId", &req.user_id).await?;
    pats::remove(&v1.ctx, user.id, token_id(&req.token_id)?).await?;
    Ok(mgmt::RemovePersonalAccessTokenResponse { details: Some(changed_now(&v1.ctx, user.org_id)) })
}

/// The call's organization: the header's, else the caller's own.
async fn get_my_org(v1: V1, _req: mgmt::GetMyOrgRequest) -> Result<mgmt::GetMyOrgResponse, ApiError> {
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

/// A v1 `ListQuery` as a page: a limit of 0 is the default, larger ones are
/// capped, offsets are bounded, as in the v2 lists.
fn page(q: Option<&object::ListQuery>) -> Result<Page, ApiError> {
    let q = q.copied().unwrap_or_default();
    if q.offset > Page::MAX_OFFSET {
        return Err(ServiceError::invalid("query.offset must be an integer from 0 to 1000000000").into());
    }
    let limit = if q.limit == 0 { Page::DEFAULT_LIMIT } else { u64::from(q.limit).min(Page::MAX_LIMIT) };
    Ok(Page { offset: q.offset, limit, asc: q.asc })
}

/// A text query of a v1 list.
fn text(value: &str, method: i32, field: &str) -> Result<TextFilter, ApiError> {
    use object::TextQueryMethod as M;
    let method = match M::try_from(method) {
        Ok(M::Equals) => TextMethod::Equals,
        Ok(M::EqualsIgnoreCase) => TextMethod::EqualsIgnoreCase,
        Ok(M::StartsWith) => TextMethod::StartsWith,
        Ok(M::StartsWithIgnoreCase) => TextMethod::StartsWithIgnoreCase,
        Ok(M::Contains) => TextMethod::Contains,
        Ok(M::ContainsIgnoreCase) => TextMethod::ContainsIgnoreCase,
        Ok(M::EndsWith) => TextMethod::EndsWith,
        Ok(M::EndsWithIgnoreCase) => TextMethod::EndsWithIgnoreCase,
        Err(_) => return Err(ServiceError::invalid(format!("{field}.method is not a known text query method")).into()),
    };
    Ok(TextFilter { value: value.to_owned(), method })
}

/// `zitadel.project.v1.Project`: v1's `project_role_check` and
/// `has_project_check` are v2's `authorization_required` and
/// `project_access_required`.
fn wire_project(p: &Project) -> project_v1::Project {
    project_v1::Project {
        id: p.id.to_string(),
        details: Some(details(p.created_at, p.updated_at, p.org_id)),
        name: p.name.to_string(),
        state: match p.state {
            ProjectState::Active => project_v1::ProjectState::Active,
            ProjectState::Inactive => project_v1::ProjectState::Inactive,
        }
        .into(),
        project_role_assertion: p.role_assertion,
        project_role_check: p.authorization_required,
        has_project_check: p.project_access_required,
        private_labeling_setting: 0,
    }
}

/// `zitadel.project.v1.Role`.
fn wire_role(r: &ProjectRole, org: OrgId) -> project_v1::Role {
    project_v1::Role {
        key: r.key.to_string(),
        details: Some(details(r.created_at, r.updated_at, org)),
        display_name: r.display_name.to_string(),
        group: r.group.clone(),
    }
}

impl V1 {
    /// The project `id`, which must be in the call's organization.
    async fn project(&self, field: &'static str, id: &str) -> Result<Project, ApiError> {
        let id = required_id(field, id, ProjectId::parse)?;
        let project = projects::get(&self.ctx, id).await?;
        if project.org_id != self.org {
            return Err(ServiceError::not_found("project not found").into());
        }
        Ok(project)
    }
}

/// Tessera has no login UI to brand, so `private_labeling_setting` is accepted
/// and not stored; project administrators are granted with
/// `InternalPermissionService` (or v1 member calls), not here.
async fn add_project(v1: V1, req: mgmt::AddProjectRequest) -> Result<mgmt::AddProjectResponse, ApiError> {
    if !req.admins.is_empty() {
        return Err(ServiceError::invalid(
            "admins is not supported: grant project roles with zitadel.internal_permission.v2.InternalPermissionService",
        )
        .into());
    }
    let project = projects::create(
        &v1.ctx,
        projects::NewProject {
            org_id: Some(v1.org),
            id: None,
            name: ProjectName::parse(&req.name)?,
            role_assertion: req.project_role_assertion,
            authorization_required: req.project_role_check,
            project_access_required: req.has_project_check,
        },
    )
    .await?;
    Ok(mgmt::AddProjectResponse {
        id: project.id.to_string(),
        details: Some(details(project.created_at, project.updated_at, project.org_id)),
    })
}

async fn get_project(v1: V1, req: mgmt::GetProjectByIdRequest) -> Result<mgmt::GetProjectByIdResponse, ApiError> {
    let project = v1.project("id", &req.id).await?;
    Ok(mgmt::GetProjectByIdResponse { project: Some(wire_project(&project)) })
}

async fn list_projects(v1: V1, req: mgmt::ListProjectsRequest) -> Result<mgmt::ListProjectsResponse, ApiError> {
    use project_v1::project_query::Query;
    let mut filters = vec![ProjectFilter::Org(v1.org)];
    for q in &req.queries {
        match &q.query {
            Some(Query::NameQuery(n)) => filters.push(ProjectFilter::Name(text(&n.name, n.method, "nameQuery")?)),
            Some(Query::ProjectResourceOwnerQuery(o)) => {
                filters.push(ProjectFilter::Org(required_id(
                    "projectResourceOwnerQuery.resourceOwner",
                    &o.resource_owner,
                    OrgId::parse,
                )?));
            }
            None => return Err(ServiceError::invalid("queries: a query must name its type").into()),
        }
    }
    let listed = projects::list(&v1.ctx, filters, ProjectSort::default(), page(req.query.as_ref())?).await?;
    Ok(mgmt::ListProjectsResponse {
        details: Some(object::ListDetails { total_result: listed.total, view_timestamp: Some(ts(v1.ctx.now())) }),
        result: listed.items.iter().map(wire_project).collect(),
    })
}

/// A full replace of the name and the three checks, as v1 clients send them.
async fn update_project(v1: V1, req: mgmt::UpdateProjectRequest) -> Result<mgmt::UpdateProjectResponse, ApiError> {
    let project = v1.project("id", &req.id).await?;
    let change = projects::ProjectUpdate {
        name: Some(ProjectName::parse(&req.name)?),
        role_assertion: Some(req.project_role_assertion),
        authorization_required: Some(req.project_role_check),
        project_access_required: Some(req.has_project_check),
    };
    let project = projects::update(&v1.ctx, project.id, change).await?;
    Ok(mgmt::UpdateProjectResponse { details: Some(details(project.created_at, project.updated_at, project.org_id)) })
}

async fn remove_project(v1: V1, req: mgmt::RemoveProjectRequest) -> Result<mgmt::RemoveProjectResponse, ApiError> {
    let project = v1.project("id", &req.id).await?;
    projects::delete(&v1.ctx, project.id).await?;
    Ok(mgmt::RemoveProjectResponse { details: Some(changed_now(&v1.ctx, project.org_id)) })
}

async fn list_roles(v1: V1, req: mgmt::ListProjectRolesRequest) -> Result<mgmt::ListProjectRolesResponse, ApiError> {
    use project_v1::role_query::Query;
    let project = v1.project("projectId", &req.project_id).await?;
    let filters = req
        .queries
        .iter()
        .map(|q| match &q.query {
            Some(Query::KeyQuery(k)) => Ok(RoleFilter::Key(text(&k.key, k.method, "keyQuery")?)),
            Some(Query::DisplayNameQuery(d)) => {
                Ok(RoleFilter::DisplayName(text(&d.display_name, d.method, "displayNameQuery")?))
            }
            None => Err(ServiceError::invalid("queries: a query must name its type").into()),
        })
        .collect::<Result<Vec<_>, ApiError>>()?;
    let listed =
        projects::list_roles(&v1.ctx, project.id, filters, RoleSort::default(), page(req.query.as_ref())?).await?;
    Ok(mgmt::ListProjectRolesResponse {
        details: Some(object::ListDetails { total_result: listed.total, view_timestamp: Some(ts(v1.ctx.now())) }),
        result: listed.items.iter().map(|r| wire_role(r, project.org_id)).collect(),
    })
}

async fn add_role(v1: V1, req: mgmt::AddProjectRoleRequest) -> Result<mgmt::AddProjectRoleResponse, ApiError> {
    let project = v1.project("projectId", &req.project_id).await?;
    let key = RoleKey::parse(&req.role_key).map_err(v1_field("roleKey"))?;
    let name = DisplayName::parse("displayName", &req.display_name)?;
    let role = projects::add_role(&v1.ctx, project.id, key, name, req.group).await?;
    Ok(mgmt::AddProjectRoleResponse { details: Some(details(role.created_at, role.updated_at, project.org_id)) })
}

async fn update_role(v1: V1, req: mgmt::UpdateProjectRoleRequest) -> Result<mgmt::UpdateProjectRoleResponse, ApiError> {
    let project = v1.project("projectId", &req.project_id).await?;
    let key = RoleKey::parse(&req.role_key).map_err(v1_field("roleKey"))?;
    let name = DisplayName::parse("displayName", &req.display_name)?;
    let role = projects::update_role(&v1.ctx, project.id, &key, Some(name), Some(req.group)).await?;
    Ok(mgmt::UpdateProjectRoleResponse { details: Some(details(role.created_at, role.updated_at, project.org_id)) })
}

async fn remove_role(v1: V1, req: mgmt::RemoveProjectRoleRequest) -> Result<mgmt::RemoveProjectRoleResponse, ApiError> {
    let project = v1.project("projectId", &req.project_id).await?;
    let key = RoleKey::parse(&req.role_key).map_err(v1_field("roleKey"))?;
    projects::remove_role(&v1.ctx, project.id, &key).await?;
    Ok(mgmt::RemoveProjectRoleResponse { details: Some(changed_now(&v1.ctx, project.org_id)) })
}

/// `zitadel.app.v1.App` of an API application.
fn wire_app(a: &AppWithOwner) -> app_v1::App {
    app_v1::App {
        id: a.app.id.to_string(),
        details: Some(details(a.app.created_at, a.app.updated_at, a.org_id)),
        state: match a.app.state {
            AppState::Active => app_v1::AppState::Active,
            AppState::Inactive => app_v1::AppState::Inactive,
        }
        .into(),
        name: a.app.name.to_string(),
        config: Some(app_v1::app::Config::ApiConfig(app_v1::ApiConfig {
            client_id: a.app.client_id.clone(),
            auth_method_type: wire_auth_method(a.app.auth_method).into(),
        })),
    }
}

fn wire_auth_method(m: ApiAuthMethod) -> app_v1::ApiAuthMethodType {
    match m {
        ApiAuthMethod::Basic => app_v1::ApiAuthMethodType::Basic,
        ApiAuthMethod::PrivateKeyJwt => app_v1::ApiAuthMethodType::PrivateKeyJwt,
    }
}

fn auth_method(value: i32) -> Result<ApiAuthMethod, ApiError> {
    match app_v1::ApiAuthMethodType::try_from(value) {
        Ok(app_v1::ApiAuthMethodType::Basic) => Ok(ApiAuthMethod::Basic),
        Ok(app_v1::ApiAuthMethodType::PrivateKeyJwt) => Ok(ApiAuthMethod::PrivateKeyJwt),
        Err(_) => Err(ServiceError::invalid("authMethodType is not a known API auth method").into()),
    }
}

impl V1 {
    /// The application `app` of the project `project` (in the call's
    /// organization).
    async fn app(&self, project: &str, app: &str) -> Result<AppWithOwner, ApiError> {
        let project = self.project("projectId", project).await?;
        let id = required_id("appId", app, ApplicationId::parse)?;
        let found = applications::get(&self.ctx, id).await?;
        if found.app.project_id != project.id {
            return Err(ServiceError::not_found("application not found").into());
        }
        Ok(found)
    }
}

async fn add_api_app(v1: V1, req: mgmt::AddApiAppRequest) -> Result<mgmt::AddApiAppResponse, ApiError> {
    let project = v1.project("projectId", &req.project_id).await?;
    let new = applications::NewApp {
        project_id: project.id,
        id: None,
        name: AppName::parse(&req.name)?,
        auth_method: auth_method(req.auth_method_type)?,
    };
    let (app, secret) = applications::create(&v1.ctx, new).await?;
    Ok(mgmt::AddApiAppResponse {
        app_id: app.app.id.to_string(),
        details: Some(details(app.app.created_at, app.app.updated_at, app.org_id)),
        client_id: app.app.client_id.clone(),
        client_secret: secret.map(|s| s.expose_secret().to_owned()).unwrap_or_default(),
    })
}

async fn get_app(v1: V1, req: mgmt::GetAppByIdRequest) -> Result<mgmt::GetAppByIdResponse, ApiError> {
    let app = v1.app(&req.project_id, &req.app_id).await?;
    Ok(mgmt::GetAppByIdResponse { app: Some(wire_app(&app)) })
}

async fn list_apps(v1: V1, req: mgmt::ListAppsRequest) -> Result<mgmt::ListAppsResponse, ApiError> {
    use app_v1::app_query::Query;
    let project = v1.project("projectId", &req.project_id).await?;
    let mut filters = vec![AppFilter::Project(project.id)];
    for q in &req.queries {
        match &q.query {
            Some(Query::NameQuery(n)) => filters.push(AppFilter::Name(text(&n.name, n.method, "nameQuery")?)),
            None => return Err(ServiceError::invalid("queries: a query must name its type").into()),
        }
    }
    let listed = applications::list(&v1.ctx, filters, AppSort::default(), page(req.query.as_ref())?).await?;
    Ok(mgmt::ListAppsResponse {
        details: Some(object::ListDetails { total_result: listed.total, view_timestamp: Some(ts(v1.ctx.now())) }),
        result: listed.items.iter().map(wire_app).collect(),
    })
}

async fn update_app(v1: V1, req: mgmt::UpdateAppRequest) -> Result<mgmt::UpdateAppResponse, ApiError> {
    let app = v1.app(&req.project_id, &req.app_id).await?;
    let change = applications::AppUpdate { name: Some(AppName::parse(&req.name)?), auth_method: None };
    let app = applications::update(&v1.ctx, app.app.id, Some(app.app.project_id), change).await?;
    Ok(mgmt::UpdateAppResponse { details: Some(details(app.app.created_at, app.app.updated_at, app.org_id)) })
}

async fn update_api_config(
    v1: V1,
    req: mgmt::UpdateApiAppConfigRequest,
) -> Result<mgmt::UpdateApiAppConfigResponse, ApiError> {
    let app = v1.app(&req.project_id, &req.app_id).await?;
    let change = applications::AppUpdate { name: None, auth_method: Some(auth_method(req.auth_method_type)?) };
    let app = applications::update(&v1.ctx, app.app.id, Some(app.app.project_id), change).await?;
    Ok(mgmt::UpdateApiAppConfigResponse { details: Some(details(app.app.created_at, app.app.updated_at, app.org_id)) })
}

async fn remove_app(v1: V1, req: mgmt::RemoveAppRequest) -> Result<mgmt::RemoveAppResponse, ApiError> {
    let app = v1.app(&req.project_id, &req.app_id).await?;
    applications::delete(&v1.ctx, app.app.id, Some(app.app.project_id)).await?;
    Ok(mgmt::RemoveAppResponse { details: Some(changed_now(&v1.ctx, app.org_id)) })
}

async fn add_app_key(v1: V1, req: mgmt::AddAppKeyRequest) -> Result<mgmt::AddAppKeyResponse, ApiError> {
    check_key_type(req.r#type)?;
    let app = v1.app(&req.project_id, &req.app_id).await?;
    let expires = from_ts(req.expiration_date, "expirationDate")?;
    let created = applications::create_key(&v1.ctx, app.app.id, Some(app.app.project_id), expires).await?;
    Ok(mgmt::AddAppKeyResponse {
        id: created.key.id.to_string(),
        details: Some(details(created.key.created_at, created.key.created_at, app.org_id)),
        key_details: created.file.as_bytes().to_vec(),
    })
}

/// The key `key` of the application, or `not_found`.
async fn app_key(v1: &V1, project: &str, app: &str, key: &str) -> Result<(AppWithOwner, AppKeyId), ApiError> {
    let app = v1.app(project, app).await?;
    if key.trim().is_empty() {
        return Err(ServiceError::invalid("keyId is required").into());
    }
    let key = AppKeyId::parse(key).map_err(|_| ServiceError::not_found("key not found"))?;
    Ok((app, key))
}

async fn get_app_key(v1: V1, req: mgmt::GetAppKeyRequest) -> Result<mgmt::GetAppKeyResponse, ApiError> {
    let (app, key) = app_key(&v1, &req.project_id, &req.app_id, &req.key_id).await?;
    let found = applications::get_key(&v1.ctx, key).await?;
    if found.key.app_id != app.app.id {
        return Err(ServiceError::not_found("key not found").into());
    }
    Ok(mgmt::GetAppKeyResponse {
        key: Some(authn::Key {
            id: found.key.id.to_string(),
            details: Some(details(found.key.created_at, found.key.created_at, found.org_id)),
            r#type: authn::KeyType::Json.into(),
            expiration_date: Some(ts(found.key.expires_at)),
        }),
    })
}

async fn remove_app_key(v1: V1, req: mgmt::RemoveAppKeyRequest) -> Result<mgmt::RemoveAppKeyResponse, ApiError> {
    let (app, key) = app_key(&v1, &req.project_id, &req.app_id, &req.key_id).await?;
    applications::delete_key(&v1.ctx, key, Some(app.app.id), Some(app.app.project_id)).await?;
    Ok(mgmt::RemoveAppKeyResponse { details: Some(changed_now(&v1.ctx, app.org_id)) })
}

/// `zitadel.user.v1.UserGrant`: v1's user grant is Tessera's authorization.
fn wire_grant(v: &AuthorizationView) -> user_v1::UserGrant {
    let a = &v.authorization;
    user_v1::UserGrant {
        id: a.id.to_string(),
        details: Some(details(a.created_at, a.updated_at, a.org_id)),
        role_keys: a.roles.iter().map(ToString::to_string).collect(),
        state: match a.state {
            AuthorizationState::Active => user_v1::UserGrantState::Active,
            AuthorizationState::Inactive => user_v1::UserGrantState::Inactive,
        }
        .into(),
        user_id: a.user_id.to_string(),
        user_name: v.username.to_string(),
        display_name: v.user_display_name.to_string(),
        org_id: a.org_id.to_string(),
        org_name: v.org_name.to_string(),
        project_id: a.project_id.to_string(),
        project_name: v.project_name.to_string(),
        preferred_login_name: v.username.to_string(),
        ..Default::default()
    }
}

/// Role keys of a grant request.
fn role_keys(keys: &[String]) -> Result<BTreeSet<RoleKey>, ApiError> {
    keys.iter()
        .enumerate()
        .map(|(i, k)| {
            RoleKey::parse(k).map_err(|_| ServiceError::invalid(format!("roleKeys[{i}] is not a role key")).into())
        })
        .collect()
}

/// The grant `grant` of the user `user` (in the call's organization).
async fn user_grant(v1: &V1, user: &str, grant: &str) -> Result<AuthorizationView, ApiError> {
    let user = v1.user("userId", user).await?;
    if grant.trim().is_empty() {
        return Err(ServiceError::invalid("grantId is required").into());
    }
    let id = AuthorizationId::parse(grant).map_err(|_| ServiceError::not_found("user grant not found"))?;
    let filters = vec![AuthorizationFilter::Ids(vec![id]), AuthorizationFilter::Users(vec![user.id])];
    let listed = authorizations::list(&v1.ctx, filters, AuthorizationSort::default(), Page::default()).await?;
    listed.items.into_iter().next().ok_or_else(|| ServiceError::not_found("user grant not found").into())
}

async fn add_user_grant(v1: V1, req: mgmt::AddUserGrantRequest) -> Result<mgmt::AddUserGrantResponse, ApiError> {
    if !req.project_grant_id.is_empty() {
        return Err(ServiceError::invalid("projectGrantId is not supported: Tessera has no project grants").into());
    }
    let user = v1.user("userId", &req.user_id).await?;
    let project = required_id("projectId", &req.project_id, ProjectId::parse)?;
    let new = authorizations::NewAuthorization {
        user_id: user.id,
        project_id: project,
        org_id: Some(v1.org),
        roles: role_keys(&req.role_keys)?,
    };
    let view = authorizations::create(&v1.ctx, new).await?;
    let a = &view.authorization;
    Ok(mgmt::AddUserGrantResponse {
        user_grant_id: a.id.to_string(),
        details: Some(details(a.created_at, a.updated_at, a.org_id)),
    })
}

async fn get_user_grant(
    v1: V1,
    req: mgmt::GetUserGrantByIdRequest,
) -> Result<mgmt::GetUserGrantByIdResponse, ApiError> {
    let view = user_grant(&v1, &req.user_id, &req.grant_id).await?;
    Ok(mgmt::GetUserGrantByIdResponse { user_grant: Some(wire_grant(&view)) })
}

async fn update_user_grant(
    v1: V1,
    req: mgmt::UpdateUserGrantRequest,
) -> Result<mgmt::UpdateUserGrantResponse, ApiError> {
    let view = user_grant(&v1, &req.user_id, &req.grant_id).await?;
    let a = authorizations::update(&v1.ctx, view.authorization.id, role_keys(&req.role_keys)?).await?;
    Ok(mgmt::UpdateUserGrantResponse { details: Some(details(a.created_at, a.updated_at, a.org_id)) })
}

async fn remove_user_grant(
    v1: V1,
    req: mgmt::RemoveUserGrantRequest,
) -> Result<mgmt::RemoveUserGrantResponse, ApiError> {
    let view = user_grant(&v1, &req.user_id, &req.grant_id).await?;
    authorizations::delete(&v1.ctx, view.authorization.id).await?;
    Ok(mgmt::RemoveUserGrantResponse { details: Some(changed_now(&v1.ctx, view.authorization.org_id)) })
}

/// Organization roles of a member request.
fn member_roles(roles: &[String]) -> Result<Vec<Role>, ApiError> {
    roles
        .iter()
        .enumerate()
        .map(|(i, r)| {
            Role::parse(r).map_err(|_| ServiceError::invalid(format!("roles[{i}] is not a supported role")).into())
        })
        .collect()
}

/// A member's user id; the user may be of any organization, as in ZITADEL.
fn member_id(value: &str) -> Result<UserId, ApiError> {
    Ok(required_id("userId", value, UserId::parse)?)
}

async fn add_org_member(v1: V1, req: mgmt::AddOrgMemberRequest) -> Result<mgmt::AddOrgMemberResponse, ApiError> {
    let admin =
        admins::create(&v1.ctx, member_id(&req.user_id)?, Scope::Org(v1.org), member_roles(&req.roles)?).await?;
    Ok(mgmt::AddOrgMemberResponse { details: Some(details(admin.created_at, admin.updated_at, v1.org)) })
}

async fn update_org_member(
    v1: V1,
    req: mgmt::UpdateOrgMemberRequest,
) -> Result<mgmt::UpdateOrgMemberResponse, ApiError> {
    let admin =
        admins::update(&v1.ctx, member_id(&req.user_id)?, Scope::Org(v1.org), member_roles(&req.roles)?).await?;
    Ok(mgmt::UpdateOrgMemberResponse { details: Some(details(admin.created_at, admin.updated_at, v1.org)) })
}

async fn remove_org_member(
    v1: V1,
    req: mgmt::RemoveOrgMemberRequest,
) -> Result<mgmt::RemoveOrgMemberResponse, ApiError> {
    admins::delete(&v1.ctx, member_id(&req.user_id)?, Scope::Org(v1.org)).await?;
    Ok(mgmt::RemoveOrgMemberResponse { details: Some(changed_now(&v1.ctx, v1.org)) })
}

/// v1 `ListOrgMembers`: `userIdQuery` filters; the name and email queries are
/// refused (`invalid_argument`), as Tessera's administrator list has no such
/// filter.
async fn list_org_members(v1: V1, req: mgmt::ListOrgMembersRequest) -> Result<mgmt::ListOrgMembersResponse, ApiError> {
    use tessera_proto::zitadel::member::v1::search_query::Query;
    let mut filters = vec![AdminFilter::Scope(Scope::Org(v1.org))];
    for q in &req.queries {
        match &q.query {
            Some(Query::UserIdQuery(u)) => filters.push(AdminFilter::User(member_id(&u.user_id)?)),
            Some(_) => {
                return Err(ServiceError::invalid("queries: only userIdQuery is supported for members").into());
            }
            None => return Err(ServiceError::invalid("queries: a query must name its type").into()),
        }
    }
    let listed = admins::list(&v1.ctx, filters, AdminSort::default(), page(req.query.as_ref())?).await?;
    Ok(mgmt::ListOrgMembersResponse {
        details: Some(object::ListDetails { total_result: listed.total, view_timestamp: Some(ts(v1.ctx.now())) }),
        result: listed
            .items
            .iter()
            .map(|m| tessera_proto::zitadel::member::v1::Member {
                user_id: m.admin.user_id.to_string(),
                details: Some(details(m.admin.created_at, m.admin.updated_at, v1.org)),
                roles: m.admin.roles.iter().map(|r| r.as_str().to_owned()).collect(),
                preferred_login_name: m.username.to_string(),
                display_name: m.display_name.to_string(),
                user_resource_owner: m.user_org_id.to_string(),
                ..Default::default()
            })
            .collect(),
    })
}

/// Hands `call` to the v1 method `method`; `None` for a method Tessera does
/// not have (proto/METHODS.md lists the ones still to come).
pub async fn dispatch(method: &str, call: &Call) -> Option<Result<Value, ApiError>> {
    Some(match method {
        "GetUserByID" => run(call, get_user_by_id).await,
        "ListUsers" => run(call, list_users).await,
        "AddMachineUser" => run(call, add_machine_user).await,
        "RemoveUser" => run(call, remove_user).await,
        "UpdateUserName" => run(call, update_user_name).await,
        "UpdateMachine" => run(call, update_machine).await,
        "GenerateMachineSecret" => run(call, generate_machine_secret).await,
        "RemoveMachineSecret" => run(call, remove_machine_secret).await,
        "GetMachineKeyByIDs" => run(call, get_machine_key).await,
        "AddMachineKey" => run(call, add_machine_key).await,
        "RemoveMachineKey" => run(call, remove_machine_key).await,
        "GetPersonalAccessTokenByIDs" => run(call, get_pat).await,
        "AddPersonalAccessToken" => run(call, add_pat).await,
        "RemovePersonalAccessToken" => run(call, remove_pat).await,
        "GetMyOrg" => run(call, get_my_org).await,
        "AddProject" => run(call, add_project).await,
        "GetProjectByID" => run(call, get_project).await,
        "ListProjects" => run(call, list_projects).await,
        "UpdateProject" => run(call, update_project).await,
        "RemoveProject" => run(call, remove_project).await,
        "ListProjectRoles" => run(call, list_roles).await,
        "AddProjectRole" => run(call, add_role).await,
        "UpdateProjectRole" => run(call, update_role).await,
        "RemoveProjectRole" => run(call, remove_role).await,
        "AddAPIApp" => run(call, add_api_app).await,
        "GetAppByID" => run(call, get_app).await,
        "ListApps" => run(call, list_apps).await,
        "UpdateApp" => run(call, update_app).await,
        "UpdateAPIAppConfig" => run(call, update_api_config).await,
        "RemoveApp" => run(call, remove_app).await,
        "AddAppKey" => run(call, add_app_key).await,
        "GetAppKey" => run(call, get_app_key).await,
        "RemoveAppKey" => run(call, remove_app_key).await,
        "AddUserGrant" => run(call, add_user_grant).await,
        "GetUserGrantByID" => run(call, get_user_grant).await,
        "UpdateUserGrant" => run(call, update_user_grant).await,
        "RemoveUserGrant" => run(call, remove_user_grant).await,
        "AddOrgMember" => run(call, add_org_member).await,
        "ListOrgMembers" => run(call, list_org_members).await,
        "UpdateOrgMember" => run(call, update_org_member).await,
        "RemoveOrgMember" => run(call, remove_org_member).await,
        _ => return None,
    })
}

/// The grpc-gateway routes: (HTTP method, path under `/management/v1`, the
/// `rpc`, the path parameters in order with their request field names).
const REST: &[(&str, &str, &str, &[&str])] = &[
    ("GET", "/users/{id}", "GetUserByID", &["id"]),
    ("POST", "/users/_search", "ListUsers", &[]),
    ("POST", "/users/machine", "AddMachineUser", &[]),
    ("DELETE", "/users/{id}", "RemoveUser", &["id"]),
    ("PUT", "/users/{userId}/username", "UpdateUserName", &["userId"]),
    ("PUT", "/users/{userId}/machine", "UpdateMachine", &["userId"]),
    ("PUT", "/users/{userId}/secret", "GenerateMachineSecret", &["userId"]),
    ("DELETE", "/users/{userId}/secret", "RemoveMachineSecret", &["userId"]),
    ("GET", "/users/{userId}/keys/{keyId}", "GetMachineKeyByIDs", &["userId", "keyId"]),
    ("POST", "/users/{userId}/keys", "AddMachineKey", &["userId"]),
    ("DELETE", "/users/{userId}/keys/{keyId}", "RemoveMachineKey", &["userId", "keyId"]),
    ("GET", "/users/{userId}/pats/{tokenId}", "GetPersonalAccessTokenByIDs", &["userId", "tokenId"]),
    ("POST", "/users/{userId}/pats", "AddPersonalAccessToken", &["userId"]),
    ("DELETE", "/users/{userId}/pats/{tokenId}", "RemovePersonalAccessToken", &["userId", "tokenId"]),
    ("GET", "/orgs/me", "GetMyOrg", &[]),
    ("POST", "/projects", "AddProject", &[]),
    ("GET", "/projects/{id}", "GetProjectByID", &["id"]),
    ("POST", "/projects/_search", "ListProjects", &[]),
    ("PUT", "/projects/{id}", "UpdateProject", &["id"]),
    ("DELETE", "/projects/{id}", "RemoveProject", &["id"]),
    ("POST", "/projects/{projectId}/roles/_search", "ListProjectRoles", &["projectId"]),
    ("POST", "/projects/{projectId}/roles", "AddProjectRole", &["projectId"]),
    ("PUT", "/projects/{projectId}/roles/{roleKey}", "UpdateProjectRole", &["projectId", "roleKey"]),
    ("DELETE", "/projects/{projectId}/roles/{roleKey}", "RemoveProjectRole", &["projectId", "roleKey"]),
    ("POST", "/projects/{projectId}/apps/api", "AddAPIApp", &["projectId"]),
    ("POST", "/projects/{projectId}/apps/_search", "ListApps", &["projectId"]),
    ("GET", "/projects/{projectId}/apps/{appId}", "GetAppByID", &["projectId", "appId"]),
    ("PUT", "/projects/{projectId}/apps/{appId}", "UpdateApp", &["projectId", "appId"]),
    ("PUT", "/projects/{projectId}/apps/{appId}/api_config", "UpdateAPIAppConfig", &["projectId", "appId"]),
    ("DELETE", "/projects/{projectId}/apps/{appId}", "RemoveApp", &["projectId", "appId"]),
    ("POST", "/projects/{projectId}/apps/{appId}/keys", "AddAppKey", &["projectId", "appId"]),
    ("GET", "/projects/{projectId}/apps/{appId}/keys/{keyId}", "GetAppKey", &["projectId", "appId", "keyId"]),
    ("DELETE", "/projects/{projectId}/apps/{appId}/keys/{keyId}", "RemoveAppKey", &["projectId", "appId", "keyId"]),
    ("POST", "/users/{userId}/grants", "AddUserGrant", &["userId"]),
    ("GET", "/users/{userId}/grants/{grantId}", "GetUserGrantByID", &["userId", "grantId"]),
    ("PUT", "/users/{userId}/grants/{grantId}", "UpdateUserGrant", &["userId", "grantId"]),
    ("DELETE", "/users/{userId}/grants/{grantId}", "RemoveUserGrant", &["userId", "grantId"]),
    ("POST", "/orgs/me/members", "AddOrgMember", &[]),
    ("POST", "/orgs/me/members/_search", "ListOrgMembers", &[]),
    ("PUT", "/orgs/me/members/{userId}", "UpdateOrgMember", &["userId"]),
    ("DELETE", "/orgs/me/members/{userId}", "RemoveOrgMember", &["userId"]),
];

/// Mounts the v1 REST routes in one scope, so that other paths skip them at
/// the prefix. Static segments first, so `/users/machine` and `/users/_search`
/// do not match `/users/{id}`.
pub fn routes(cfg: &mut web::ServiceConfig) {
    let mut rows: Vec<_> = REST.iter().collect();
    rows.sort_by_key(|(_, path, _, _)| path.contains("{id}"));
    let mut scope = web::scope("/management/v1");
    for &(verb, path, rpc, params) in rows {
        let route = match verb {
            "GET" => web::get(),
            "POST" => web::post(),
            "PUT" => web::put(),
            _ => web::delete(),
        };
        scope =
            scope.route(path, route.to(move |req: HttpRequest, payload: web::Payload| rest(req, payload, rpc, params)));
    }
    cfg.service(scope);
}

/// One REST call: path parameters set on the body, then the same handler.
async fn rest(
    req: HttpRequest,
    payload: web::Payload,
    rpc: &'static str,
    params: &'static [&'static str],
) -> Result<HttpResponse, GatewayError> {
    let values: Vec<(&str, String)> =
        params.iter().map(|p| (*p, req.match_info().get(p).unwrap_or_default().to_owned())).collect();
    let call = RestCall::new(req, payload, &values).await?;
    let value = dispatch(rpc, call.call()).await.unwrap_or_else(|| {
        Err(ApiError::new(crate::error::ConnectCode::Unimplemented, format!("unknown method {SERVICE}/{rpc}")))
    })?;
    Ok(super::connect::ok(&value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rest_route_names_a_dispatched_method_of_the_proto() {
        for (_, _, rpc, _) in REST {
            assert!(tessera_proto::method(SERVICE, rpc).is_some(), "{rpc} is not in proto/");
        }
    }
}
