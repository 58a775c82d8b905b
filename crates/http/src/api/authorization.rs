//! `zitadel.authorization.v2.AuthorizationService`: authorizations (user
//! grants), on the generated messages of `proto/zitadel/authorization/v2`.
//! The v2beta service maps its messages onto these handlers
//! (`authorization_v2beta`).
//!
//! Tessera's differences: there are no project grants, so an authorization is
//! always granted in the project's own organization (`organizationId` may be
//! left out or must name it) and `projectGrantId` filters match nothing; users
//! have no avatars.

use std::collections::BTreeSet;

use tessera_domain::authorization::AuthorizationState;
use tessera_domain::project::RoleKey;
use tessera_domain::repo::{AuthorizationFilter, AuthorizationSort, AuthorizationView};
use tessera_domain::{AuthorizationId, OrgId, ProjectId, UserId};
use tessera_proto::zitadel::authorization::v2 as pb;
use tessera_proto::zitadel::filter::v2 as filter_v2;

use super::call::{Answer, Call};
use super::v2::{pagination, pagination_response, required_id, text_filter_of, ts};
use super::wire;
use crate::error::{ApiError, ServiceError};
use tessera_core::Ctx;
use tessera_core::authorizations::{self, AuthorizationStateChange, NewAuthorization};

/// The wire form of a listed authorization.
fn authorization(v: &AuthorizationView) -> pb::Authorization {
    let a = &v.authorization;
    let state = match a.state {
        AuthorizationState::Active => pb::State::Active,
        AuthorizationState::Inactive => pb::State::Inactive,
    };
    pb::Authorization {
        id: a.id.to_string(),
        creation_date: ts(a.created_at),
        change_date: ts(a.updated_at),
        project: Some(pb::Project {
            id: a.project_id.to_string(),
            name: v.project_name.to_string(),
            organization_id: v.project_org_id.to_string(),
        }),
        organization: Some(pb::Organization { id: a.org_id.to_string(), name: v.org_name.to_string() }),
        user: Some(pb::User {
            id: a.user_id.to_string(),
            preferred_login_name: v.username.to_string(),
            display_name: v.user_display_name.to_string(),
            organization_id: v.user_org_id.to_string(),
        }),
        state: state.into(),
        roles: v
            .roles
            .iter()
            .map(|r| pb::Role {
                key: r.key.to_string(),
                display_name: r.display_name.to_string(),
                group: r.group.clone(),
            })
            .collect(),
    }
}

fn role_keys(keys: &[String]) -> Result<BTreeSet<RoleKey>, ServiceError> {
    keys.iter()
        .enumerate()
        .map(|(i, k)| RoleKey::parse(k).map_err(|e| ServiceError::invalid(format!("roleKeys[{i}]: {}", e.reason))))
        .collect()
}

fn authorization_id(v: &str) -> Result<AuthorizationId, ServiceError> {
    required_id("id", v, AuthorizationId::parse)
}

// ----------------------------------------------------------------------------
// Methods

/// `CreateAuthorization`.
pub async fn create_authorization(
    ctx: Ctx,
    req: pb::CreateAuthorizationRequest,
) -> Result<pb::CreateAuthorizationResponse, ApiError> {
    let new = NewAuthorization {
        user_id: required_id("userId", &req.user_id, UserId::parse)?,
        project_id: required_id("projectId", &req.project_id, ProjectId::parse)?,
        org_id: match req.organization_id.trim() {
            "" => None,
            id => Some(required_id("organizationId", id, OrgId::parse)?),
        },
        roles: role_keys(&req.role_keys)?,
    };
    let created = authorizations::create(&ctx, new).await?;
    Ok(pb::CreateAuthorizationResponse {
        id: created.authorization.id.to_string(),
        creation_date: ts(created.authorization.created_at),
    })
}

/// Ids that are not UUIDs cannot match anything Tessera stores.
fn ids<T>(f: &filter_v2::InIDsFilter, parse: fn(&str) -> Result<T, tessera_domain::ValidationError>) -> Vec<T> {
    f.ids.iter().filter_map(|i| parse(i).ok()).collect()
}

fn single<T>(
    f: &filter_v2::IdFilter,
    parse: fn(&str) -> Result<T, tessera_domain::ValidationError>,
    filter: fn(T) -> AuthorizationFilter,
) -> AuthorizationFilter {
    parse(&f.id).map_or(AuthorizationFilter::Nothing, filter)
}

fn authorization_filter(f: &pb::AuthorizationsSearchFilter) -> Result<AuthorizationFilter, ServiceError> {
    use pb::authorizations_search_filter::Filter;
    Ok(match &f.filter {
        None => return Err(wire::one_filter_error()),
        Some(Filter::AuthorizationIds(f)) => AuthorizationFilter::Ids(ids(f, AuthorizationId::parse)),
        Some(Filter::InUserIds(f)) => AuthorizationFilter::Users(ids(f, UserId::parse)),
        Some(Filter::OrganizationId(f)) => single(f, OrgId::parse, AuthorizationFilter::Org),
        // Tessera has no project grants.
        Some(Filter::ProjectGrantId(_)) => AuthorizationFilter::Nothing,
        Some(Filter::ProjectId(f)) => single(f, ProjectId::parse, AuthorizationFilter::Project),
        Some(Filter::ProjectName(q)) => {
            AuthorizationFilter::ProjectName(text_filter_of(&q.name, q.method, "projectName.name")?)
        }
        Some(Filter::RoleKey(q)) => AuthorizationFilter::RoleKey(text_filter_of(&q.key, q.method, "roleKey.key")?),
        Some(Filter::State(q)) => match pb::State::try_from(q.state) {
            Ok(pb::State::Active) => AuthorizationFilter::State(AuthorizationState::Active),
            Ok(pb::State::Inactive) => AuthorizationFilter::State(AuthorizationState::Inactive),
            Ok(pb::State::Unspecified) => AuthorizationFilter::Nothing,
            Err(_) => return Err(ServiceError::invalid("state.state is not a State")),
        },
        Some(Filter::UserDisplayName(q)) => AuthorizationFilter::UserDisplayName(text_filter_of(
            &q.display_name,
            q.method,
            "userDisplayName.displayName",
        )?),
        Some(Filter::UserOrganizationId(f)) => single(f, OrgId::parse, AuthorizationFilter::UserOrg),
        Some(Filter::UserPreferredLoginName(q)) => {
            AuthorizationFilter::Username(text_filter_of(&q.login_name, q.method, "userPreferredLoginName.loginName")?)
        }
    })
}

/// `ListAuthorizations`.
pub async fn list_authorizations(
    ctx: Ctx,
    req: pb::ListAuthorizationsRequest,
) -> Result<pb::ListAuthorizationsResponse, ApiError> {
    use pb::AuthorizationFieldName as F;
    let filters = req.filters.iter().map(authorization_filter).collect::<Result<Vec<_>, _>>()?;
    let sort = match F::try_from(req.sorting_column) {
        Ok(F::Unspecified | F::CreatedDate) => AuthorizationSort::CreatedAt,
        Ok(F::ChangedDate) => AuthorizationSort::ChangedAt,
        Ok(F::Id) => AuthorizationSort::Id,
        Ok(F::UserId) => AuthorizationSort::User,
        Ok(F::ProjectId) => AuthorizationSort::Project,
        Ok(F::OrganizationId) => AuthorizationSort::Org,
        Ok(F::UserOrganizationId) => AuthorizationSort::UserOrg,
        Err(_) => return Err(ServiceError::invalid("sortingColumn is not an AuthorizationFieldName").into()),
    };
    let page = pagination(req.pagination.as_ref())?;
    let listed = authorizations::list(&ctx, filters, sort, page).await?;
    Ok(pb::ListAuthorizationsResponse {
        pagination: pagination_response(listed.total, page),
        authorizations: listed.items.iter().map(authorization).collect(),
    })
}

/// `UpdateAuthorization`: the role keys replace the old ones.
pub async fn update_authorization(
    ctx: Ctx,
    req: pb::UpdateAuthorizationRequest,
) -> Result<pb::UpdateAuthorizationResponse, ApiError> {
    let a = authorizations::update(&ctx, authorization_id(&req.id)?, role_keys(&req.role_keys)?).await?;
    Ok(pb::UpdateAuthorizationResponse { change_date: ts(a.updated_at) })
}

/// `DeactivateAuthorization`.
pub async fn deactivate_authorization(
    ctx: Ctx,
    req: pb::DeactivateAuthorizationRequest,
) -> Result<pb::DeactivateAuthorizationResponse, ApiError> {
    let a =
        authorizations::change_state(&ctx, authorization_id(&req.id)?, AuthorizationStateChange::Deactivate).await?;
    Ok(pb::DeactivateAuthorizationResponse { change_date: ts(a.updated_at) })
}

/// `ActivateAuthorization`.
pub async fn activate_authorization(
    ctx: Ctx,
    req: pb::ActivateAuthorizationRequest,
) -> Result<pb::ActivateAuthorizationResponse, ApiError> {
    let a = authorizations::change_state(&ctx, authorization_id(&req.id)?, AuthorizationStateChange::Activate).await?;
    Ok(pb::ActivateAuthorizationResponse { change_date: ts(a.updated_at) })
}

/// `DeleteAuthorization`.
pub async fn delete_authorization(
    ctx: Ctx,
    req: pb::DeleteAuthorizationRequest,
) -> Result<pb::DeleteAuthorizationResponse, ApiError> {
    authorizations::delete(&ctx, authorization_id(&req.id)?).await?;
    Ok(pb::DeleteAuthorizationResponse { deletion_date: ts(ctx.now()) })
}

// ----------------------------------------------------------------------------
// Routing

/// Dispatches a call; `None` for an unknown method.
pub async fn dispatch(method: &str, call: &Call) -> Option<Result<Answer, ApiError>> {
    Some(match method {
        "CreateAuthorization" => call.run(create_authorization).await,
        "ListAuthorizations" => call.run(list_authorizations).await,
        "UpdateAuthorization" => call.run(update_authorization).await,
        "DeactivateAuthorization" => call.run(deactivate_authorization).await,
        "ActivateAuthorization" => call.run(activate_authorization).await,
        "DeleteAuthorization" => call.run(delete_authorization).await,
        _ => return None,
    })
}
