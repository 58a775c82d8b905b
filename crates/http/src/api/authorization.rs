//! `zitadel.authorization.v2.AuthorizationService`: authorizations (user
//! grants), in the request and response shapes of ZITADEL's
//! `authorization/v2/authorization_service.proto`.
//!
//! Also mounted as `zitadel.authorization.v2beta.AuthorizationService`: the
//! requests are the same; v2beta's `Authorization` is flat (see
//! [`to_v2beta`]).
//!
//! Tessera's differences: there are no project grants, so an authorization is
//! always granted in the project's own organization (`organizationId` may be
//! left out or must name it) and `projectGrantId` filters match nothing; users
//! have no avatars.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use tessera_domain::authorization::AuthorizationState;
use tessera_domain::project::RoleKey;
use tessera_domain::repo::{AuthorizationFilter, AuthorizationSort, AuthorizationView};
use tessera_domain::{AuthorizationId, OrgId, ProjectId, Timestamp, UserId};

use super::call::Call;
use super::v2::{
    ChangeDateResponse, DeletionDateResponse, ListQuery, PaginationResponse, TextFilterMethod, required_id, text_filter,
};
use super::wire;
use crate::error::{ApiError, ServiceError};
use crate::proto_enum;
use tessera_core::Ctx;
use tessera_core::authorizations::{self, AuthorizationStateChange, NewAuthorization};

proto_enum!(
    /// `zitadel.authorization.v2.State`.
    WireAuthorizationState {
        #[default]
        Unspecified = 0 => "STATE_UNSPECIFIED",
        Active = 1 => "STATE_ACTIVE",
        Inactive = 2 => "STATE_INACTIVE",
    }
);

impl From<AuthorizationState> for WireAuthorizationState {
    fn from(s: AuthorizationState) -> Self {
        match s {
            AuthorizationState::Active => Self::Active,
            AuthorizationState::Inactive => Self::Inactive,
        }
    }
}

proto_enum!(
    /// `zitadel.authorization.v2.AuthorizationFieldName`.
    AuthorizationFieldName {
        #[default]
        Unspecified = 0 => "AUTHORIZATION_FIELD_NAME_UNSPECIFIED",
        CreatedDate = 1 => "AUTHORIZATION_FIELD_NAME_CREATED_DATE",
        ChangedDate = 2 => "AUTHORIZATION_FIELD_NAME_CHANGED_DATE",
        Id = 3 => "AUTHORIZATION_FIELD_NAME_ID",
        UserId = 4 => "AUTHORIZATION_FIELD_NAME_USER_ID",
        ProjectId = 5 => "AUTHORIZATION_FIELD_NAME_PROJECT_ID",
        OrganizationId = 6 => "AUTHORIZATION_FIELD_NAME_ORGANIZATION_ID",
        UserOrganizationId = 7 => "AUTHORIZATION_FIELD_NAME_USER_ORGANIZATION_ID",
    }
);

/// `zitadel.authorization.v2.Project`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WireProjectRef {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Owning organization.
    pub organization_id: String,
}

/// `zitadel.authorization.v2.Organization`.
#[derive(Debug, Serialize)]
pub struct WireOrgRef {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
}

/// `zitadel.authorization.v2.User`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WireUserRef {
    /// Id.
    pub id: String,
    /// Preferred login name (the username in Tessera).
    pub preferred_login_name: String,
    /// Display name.
    pub display_name: String,
    /// The user's organization.
    pub organization_id: String,
}

/// `zitadel.authorization.v2.Role`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WireRole {
    /// Key.
    pub key: String,
    /// Display name.
    pub display_name: String,
    /// Group.
    pub group: String,
}

/// `zitadel.authorization.v2.Authorization`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WireAuthorization {
    /// Id.
    pub id: String,
    /// Creation.
    #[serde(with = "wire::ts")]
    pub creation_date: Timestamp,
    /// Last change.
    #[serde(with = "wire::ts")]
    pub change_date: Timestamp,
    /// The project.
    pub project: WireProjectRef,
    /// The organization it is granted in.
    pub organization: WireOrgRef,
    /// The user.
    pub user: WireUserRef,
    /// State.
    pub state: WireAuthorizationState,
    /// The roles.
    pub roles: Vec<WireRole>,
}

impl WireAuthorization {
    fn from_domain(v: &AuthorizationView) -> Self {
        let a = &v.authorization;
        Self {
            id: a.id.to_string(),
            creation_date: a.created_at,
            change_date: a.updated_at,
            project: WireProjectRef {
                id: a.project_id.to_string(),
                name: v.project_name.to_string(),
                organization_id: v.project_org_id.to_string(),
            },
            organization: WireOrgRef { id: a.org_id.to_string(), name: v.org_name.to_string() },
            user: WireUserRef {
                id: a.user_id.to_string(),
                preferred_login_name: v.username.to_string(),
                display_name: v.user_display_name.to_string(),
                organization_id: v.user_org_id.to_string(),
            },
            state: a.state.into(),
            roles: v
                .roles
                .iter()
                .map(|r| WireRole {
                    key: r.key.to_string(),
                    display_name: r.display_name.to_string(),
                    group: r.group.clone(),
                })
                .collect(),
        }
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

/// `CreateAuthorizationRequest`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct CreateAuthorizationRequest {
    /// The user.
    pub user_id: String,
    /// The project.
    pub project_id: String,
    /// The organization to grant in (the project's; may be left out).
    pub organization_id: String,
    /// Role keys of the project.
    pub role_keys: Vec<String>,
}

/// `CreateAuthorizationResponse`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateAuthorizationResponse {
    /// Id.
    pub id: String,
    /// Creation.
    #[serde(with = "wire::ts")]
    pub creation_date: Timestamp,
}

async fn create_authorization(
    ctx: Ctx,
    req: CreateAuthorizationRequest,
) -> Result<CreateAuthorizationResponse, ApiError> {
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
    Ok(CreateAuthorizationResponse {
        id: created.authorization.id.to_string(),
        creation_date: created.authorization.created_at,
    })
}

/// `IDFilter` / `InIDsFilter`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct IdsFilter {
    /// One id.
    pub id: String,
    /// Several ids.
    pub ids: Vec<String>,
}

/// A text query: the value under one of the names ZITADEL uses, and a method.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct TextQuery {
    /// `projectName`'s value.
    pub name: String,
    /// `roleKey`'s value.
    pub key: String,
    /// `userDisplayName`'s value.
    pub display_name: String,
    /// `userPreferredLoginName`'s value.
    pub login_name: String,
    /// How to compare.
    pub method: TextFilterMethod,
}

/// `StateQuery`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct StateQuery {
    /// The state.
    pub state: WireAuthorizationState,
}

/// `AuthorizationsSearchFilter`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct AuthorizationsSearchFilter {
    /// These authorizations.
    pub authorization_ids: Option<IdsFilter>,
    /// Of these users.
    pub in_user_ids: Option<IdsFilter>,
    /// v2beta: of this user.
    pub user_id: Option<IdsFilter>,
    /// Granted in this organization.
    pub organization_id: Option<IdsFilter>,
    /// Of this project grant (none in Tessera).
    pub project_grant_id: Option<Value>,
    /// On this project.
    pub project_id: Option<IdsFilter>,
    /// On projects with this name.
    pub project_name: Option<TextQuery>,
    /// Holding this role.
    pub role_key: Option<TextQuery>,
    /// In this state.
    pub state: Option<StateQuery>,
    /// Of users with this display name.
    pub user_display_name: Option<TextQuery>,
    /// Of users of this organization.
    pub user_organization_id: Option<IdsFilter>,
    /// Of users with this login name.
    pub user_preferred_login_name: Option<TextQuery>,
}

fn ids<T>(v: &IdsFilter, parse: fn(&str) -> Result<T, tessera_domain::ValidationError>) -> Vec<T> {
    // Ids that are not UUIDs cannot match anything Tessera stores.
    let one = (!v.id.is_empty()).then_some(&v.id);
    v.ids.iter().chain(one).filter_map(|i| parse(i).ok()).collect()
}

fn single<T>(
    v: &IdsFilter,
    parse: fn(&str) -> Result<T, tessera_domain::ValidationError>,
    f: fn(T) -> AuthorizationFilter,
) -> AuthorizationFilter {
    parse(&v.id).map_or(AuthorizationFilter::Nothing, f)
}

impl AuthorizationsSearchFilter {
    fn to_domain(&self) -> Result<AuthorizationFilter, ServiceError> {
        let set = [
            self.authorization_ids.is_some(),
            self.in_user_ids.is_some(),
            self.user_id.is_some(),
            self.organization_id.is_some(),
            self.project_grant_id.is_some(),
            self.project_id.is_some(),
            self.project_name.is_some(),
            self.role_key.is_some(),
            self.state.is_some(),
            self.user_display_name.is_some(),
            self.user_organization_id.is_some(),
            self.user_preferred_login_name.is_some(),
        ];
        wire::exactly_one_filter(&set)?;
        Ok(if let Some(f) = &self.authorization_ids {
            AuthorizationFilter::Ids(ids(f, AuthorizationId::parse))
        } else if let Some(f) = self.in_user_ids.as_ref().or(self.user_id.as_ref()) {
            AuthorizationFilter::Users(ids(f, UserId::parse))
        } else if let Some(f) = &self.organization_id {
            single(f, OrgId::parse, AuthorizationFilter::Org)
        } else if self.project_grant_id.is_some() {
            AuthorizationFilter::Nothing
        } else if let Some(f) = &self.project_id {
            single(f, ProjectId::parse, AuthorizationFilter::Project)
        } else if let Some(q) = &self.project_name {
            AuthorizationFilter::ProjectName(text_filter(&q.name, q.method, "projectName.name")?)
        } else if let Some(q) = &self.role_key {
            AuthorizationFilter::RoleKey(text_filter(&q.key, q.method, "roleKey.key")?)
        } else if let Some(q) = &self.state {
            match q.state {
                WireAuthorizationState::Active => AuthorizationFilter::State(AuthorizationState::Active),
                WireAuthorizationState::Inactive => AuthorizationFilter::State(AuthorizationState::Inactive),
                WireAuthorizationState::Unspecified => AuthorizationFilter::Nothing,
            }
        } else if let Some(q) = &self.user_display_name {
            AuthorizationFilter::UserDisplayName(text_filter(&q.display_name, q.method, "userDisplayName.displayName")?)
        } else if let Some(f) = &self.user_organization_id {
            single(f, OrgId::parse, AuthorizationFilter::UserOrg)
        } else if let Some(q) = &self.user_preferred_login_name {
            AuthorizationFilter::Username(text_filter(&q.login_name, q.method, "userPreferredLoginName.loginName")?)
        } else {
            return Err(wire::one_filter_error());
        })
    }
}

/// `ListAuthorizationsRequest`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ListAuthorizationsRequest {
    /// Paging.
    pub pagination: ListQuery,
    /// Order.
    pub sorting_column: AuthorizationFieldName,
    /// Filters (all must match).
    pub filters: Vec<AuthorizationsSearchFilter>,
}

/// `ListAuthorizationsResponse`.
#[derive(Debug, Serialize)]
pub struct ListAuthorizationsResponse {
    /// Totals.
    pub pagination: PaginationResponse,
    /// The authorizations.
    pub authorizations: Vec<WireAuthorization>,
}

async fn list_authorizations(ctx: Ctx, req: ListAuthorizationsRequest) -> Result<ListAuthorizationsResponse, ApiError> {
    let filters = req.filters.iter().map(AuthorizationsSearchFilter::to_domain).collect::<Result<Vec<_>, _>>()?;
    let sort = match req.sorting_column {
        AuthorizationFieldName::Unspecified | AuthorizationFieldName::CreatedDate => AuthorizationSort::CreatedAt,
        AuthorizationFieldName::ChangedDate => AuthorizationSort::ChangedAt,
        AuthorizationFieldName::Id => AuthorizationSort::Id,
        AuthorizationFieldName::UserId => AuthorizationSort::User,
        AuthorizationFieldName::ProjectId => AuthorizationSort::Project,
        AuthorizationFieldName::OrganizationId => AuthorizationSort::Org,
        AuthorizationFieldName::UserOrganizationId => AuthorizationSort::UserOrg,
    };
    let page = req.pagination.page();
    let listed = authorizations::list(&ctx, filters, sort, page).await?;
    Ok(ListAuthorizationsResponse {
        pagination: PaginationResponse { total_result: listed.total, applied_limit: page.limit },
        authorizations: listed.items.iter().map(WireAuthorization::from_domain).collect(),
    })
}

/// `UpdateAuthorizationRequest`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct UpdateAuthorizationRequest {
    /// The authorization.
    pub id: String,
    /// The new role keys (replacing the old ones).
    pub role_keys: Vec<String>,
}

async fn update_authorization(ctx: Ctx, req: UpdateAuthorizationRequest) -> Result<ChangeDateResponse, ApiError> {
    let a = authorizations::update(&ctx, authorization_id(&req.id)?, role_keys(&req.role_keys)?).await?;
    Ok(ChangeDateResponse { change_date: a.updated_at })
}

/// A request naming one authorization.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct AuthorizationIdRequest {
    /// The authorization.
    pub id: String,
}

async fn change_state(
    ctx: Ctx,
    req: AuthorizationIdRequest,
    change: AuthorizationStateChange,
) -> Result<ChangeDateResponse, ApiError> {
    let a = authorizations::change_state(&ctx, authorization_id(&req.id)?, change).await?;
    Ok(ChangeDateResponse { change_date: a.updated_at })
}

async fn delete_authorization(ctx: Ctx, req: AuthorizationIdRequest) -> Result<DeletionDateResponse, ApiError> {
    authorizations::delete(&ctx, authorization_id(&req.id)?).await?;
    Ok(DeletionDateResponse { deletion_date: ctx.now() })
}

// ----------------------------------------------------------------------------
// Routing

/// Rewrites a v2 `ListAuthorizations` response into v2beta's flat
/// `Authorization` (`projectId`, `projectName`, `projectOrganizationId`,
/// `organizationId`, and `roles` as keys). Other responses are the same.
fn to_v2beta(method: &str, mut v: Value) -> Value {
    if method != "ListAuthorizations" {
        return v;
    }
    if let Some(list) = v.get_mut("authorizations").and_then(Value::as_array_mut) {
        for a in list.iter_mut() {
            let Some(o) = a.as_object_mut() else { continue };
            let project = o.remove("project").unwrap_or_default();
            let organization = o.remove("organization").unwrap_or_default();
            let roles: Vec<Value> = o
                .remove("roles")
                .and_then(|r| r.as_array().cloned())
                .unwrap_or_default()
                .into_iter()
                .filter_map(|r| r.get("key").cloned())
                .collect();
            o.insert("projectId".into(), project.get("id").cloned().unwrap_or_default());
            o.insert("projectName".into(), project.get("name").cloned().unwrap_or_default());
            o.insert("projectOrganizationId".into(), project.get("organizationId").cloned().unwrap_or_default());
            o.insert("organizationId".into(), organization.get("id").cloned().unwrap_or_default());
            o.insert("roles".into(), Value::Array(roles));
        }
    }
    v
}

/// Dispatches a Connect call; `None` for an unknown method. `v2beta` selects
/// the v2beta shape of `Authorization` in responses (requests are the same).
pub async fn dispatch(method: &str, call: &Call, v2beta: bool) -> Option<Result<Value, ApiError>> {
    let result = match method {
        "CreateAuthorization" => call.run(create_authorization).await,
        "ListAuthorizations" => call.run(list_authorizations).await,
        "UpdateAuthorization" => call.run(update_authorization).await,
        "DeactivateAuthorization" => call.run(|c, r| change_state(c, r, AuthorizationStateChange::Deactivate)).await,
        "ActivateAuthorization" => call.run(|c, r| change_state(c, r, AuthorizationStateChange::Activate)).await,
        "DeleteAuthorization" => call.run(delete_authorization).await,
        _ => return None,
    };
    Some(if v2beta { result.map(|v| to_v2beta(method, v)) } else { result })
}
