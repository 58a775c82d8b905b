//! `zitadel.internal_permission.v2.InternalPermissionService`: administrator
//! memberships on the instance and on organizations, in the shapes of
//! ZITADEL's `internal_permission/v2/internal_permission_service.proto`.
//! Connect only: ZITADEL defines no REST paths for it.
//!
//! Tessera's differences: project grants do not exist (`invalid_argument`),
//! and the preferred login name is the username.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use tessera_domain::permission::{Role, Scope};
use tessera_domain::repo::{AdminFilter, AdminSort, AdminWithNames, TextFilter};
use tessera_domain::{OrgId, ProjectId, Timestamp, UserId};

use super::call::Call;
use super::v2::{ListQuery, PaginationResponse, TextFilterMethod, TimestampFilter, required_id, wire_from};
use super::wire;
use crate::error::{ApiError, ServiceError};
use crate::proto_enum;
use tessera_core::{Ctx, admins};

/// `ResourceType` (and `ResourceFilter`, which has the same shape): exactly
/// one key.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ResourceInput {
    /// The instance (must be `true`).
    pub instance: Option<bool>,
    /// An organization.
    pub organization_id: Option<String>,
    /// A project.
    pub project_id: Option<String>,
    /// A project grant (not supported).
    pub project_grant: Option<Value>,
}

/// What a request's `resource` names.
enum Resource {
    /// An instance or organization scope.
    Scope(Scope),
    /// A project (none exists yet).
    Project(Option<ProjectId>),
    /// A project grant.
    ProjectGrant,
}

impl ResourceInput {
    fn parse(&self) -> Result<Resource, ServiceError> {
        let set = [
            self.instance.is_some(),
            self.organization_id.is_some(),
            self.project_id.is_some(),
            self.project_grant.is_some(),
        ];
        if set.iter().filter(|s| **s).count() != 1 {
            return Err(ServiceError::invalid(
                "resource must set exactly one of instance, organizationId, projectId or projectGrant",
            ));
        }
        Ok(if let Some(instance) = self.instance {
            if !instance {
                return Err(ServiceError::invalid("resource.instance must be true"));
            }
            Resource::Scope(Scope::Instance)
        } else if let Some(org) = &self.organization_id {
            Resource::Scope(Scope::Org(required_id("resource.organizationId", org, OrgId::parse)?))
        } else if let Some(project) = &self.project_id {
            Resource::Project(ProjectId::parse(project).ok())
        } else {
            Resource::ProjectGrant
        })
    }

    /// The scope of a create, update or delete request.
    fn scope(&self) -> Result<Scope, ServiceError> {
        match self.parse()? {
            Resource::Scope(s) => Ok(s),
            Resource::Project(Some(p)) => Ok(Scope::Project(p)),
            // Not a UUID: no such project.
            Resource::Project(None) => Err(ServiceError::not_found("project not found")),
            Resource::ProjectGrant => Err(ServiceError::invalid("project grants are not supported")),
        }
    }
}

fn required_resource(r: Option<&ResourceInput>) -> Result<Scope, ServiceError> {
    r.ok_or_else(|| ServiceError::invalid("resource is required"))?.scope()
}

fn parse_roles(roles: &[String]) -> Result<Vec<Role>, ServiceError> {
    roles
        .iter()
        .enumerate()
        .map(|(i, r)| Role::parse(r).map_err(|_| ServiceError::invalid(format!("roles[{i}] is not a supported role"))))
        .collect()
}

/// `CreateAdministratorRequest` and `UpdateAdministratorRequest`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct AdministratorRequest {
    /// The user.
    pub user_id: String,
    /// Where the roles apply.
    pub resource: Option<ResourceInput>,
    /// The roles (all of them, for an update).
    pub roles: Vec<String>,
}

/// `CreateAdministratorResponse`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CreationDateResponse {
    /// When.
    #[serde(with = "wire::ts")]
    pub creation_date: Timestamp,
}

/// `UpdateAdministratorResponse`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ChangeDateResponse {
    /// When.
    #[serde(with = "wire::ts")]
    pub change_date: Timestamp,
}

/// `DeleteAdministratorResponse`: no date when there was nothing to delete.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeletionDateResponse {
    /// When.
    #[serde(with = "wire::opt_ts", skip_serializing_if = "Option::is_none")]
    pub deletion_date: Option<Timestamp>,
}

async fn create_administrator(ctx: Ctx, req: AdministratorRequest) -> Result<CreationDateResponse, ApiError> {
    let user = required_id("userId", &req.user_id, UserId::parse)?;
    let scope = required_resource(req.resource.as_ref())?;
    let roles = parse_roles(&req.roles)?;
    let created = admins::create(&ctx, user, scope, roles).await?;
    Ok(CreationDateResponse { creation_date: created.created_at })
}

async fn update_administrator(ctx: Ctx, req: AdministratorRequest) -> Result<ChangeDateResponse, ApiError> {
    let user = required_id("userId", &req.user_id, UserId::parse)?;
    let scope = required_resource(req.resource.as_ref())?;
    let roles = parse_roles(&req.roles)?;
    let changed = admins::update(&ctx, user, scope, roles).await?;
    Ok(ChangeDateResponse { change_date: changed.updated_at })
}

/// `DeleteAdministratorRequest`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct DeleteAdministratorRequest {
    /// The user.
    pub user_id: String,
    /// Where the roles apply.
    pub resource: Option<ResourceInput>,
}

async fn delete_administrator(ctx: Ctx, req: DeleteAdministratorRequest) -> Result<DeletionDateResponse, ApiError> {
    let user = required_id("userId", &req.user_id, UserId::parse)?;
    let scope = required_resource(req.resource.as_ref())?;
    Ok(DeletionDateResponse { deletion_date: admins::delete(&ctx, user, scope).await? })
}

// ----------------------------------------------------------------------------
// ListAdministrators

proto_enum!(
    /// `zitadel.internal_permission.v2.AdministratorFieldName`.
    AdministratorFieldName {
        #[default]
        Unspecified = 0 => "ADMINISTRATOR_FIELD_NAME_UNSPECIFIED",
        UserId = 1 => "ADMINISTRATOR_FIELD_NAME_USER_ID",
        CreationDate = 2 => "ADMINISTRATOR_FIELD_NAME_CREATION_DATE",
        ChangeDate = 3 => "ADMINISTRATOR_FIELD_NAME_CHANGE_DATE",
    }
);

/// `ListAdministratorsRequest`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ListAdministratorsRequest {
    /// Paging.
    pub pagination: ListQuery,
    /// Order.
    pub sorting_column: AdministratorFieldName,
    /// Filters (all must match).
    pub filters: Vec<Value>,
}

/// `Administrator.user`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WireAdminUser {
    /// Id.
    pub id: String,
    /// Preferred login name (Tessera: the username).
    pub preferred_login_name: String,
    /// Display name.
    pub display_name: String,
    /// The user's organization.
    pub organization_id: String,
}

/// `Administrator.organization`.
#[derive(Debug, Serialize)]
pub struct WireAdminOrg {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
}

/// `Administrator.project` (projects arrive later; only the id is known).
#[derive(Debug, Serialize)]
pub struct WireAdminProject {
    /// Id.
    pub id: String,
}

/// `zitadel.internal_permission.v2.Administrator`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WireAdministrator {
    /// Creation.
    #[serde(with = "wire::ts")]
    pub creation_date: Timestamp,
    /// Last change (the creation time when never changed).
    #[serde(with = "wire::ts")]
    pub change_date: Timestamp,
    /// The member.
    pub user: WireAdminUser,
    /// Set for instance memberships.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance: Option<bool>,
    /// Set for organization memberships.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub organization: Option<WireAdminOrg>,
    /// Set for project memberships.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub project: Option<WireAdminProject>,
    /// The roles.
    pub roles: Vec<String>,
}

impl WireAdministrator {
    /// The wire form of a listed membership.
    #[must_use]
    pub fn from_domain(a: &AdminWithNames) -> Self {
        let (mut instance, mut organization, mut project) = (None, None, None);
        match a.admin.scope {
            Scope::Instance => instance = Some(true),
            Scope::Org(o) => {
                organization = Some(WireAdminOrg {
                    id: o.to_string(),
                    name: a.org_name.as_ref().map(ToString::to_string).unwrap_or_default(),
                });
            }
            Scope::Project(p) => project = Some(WireAdminProject { id: p.to_string() }),
        }
        Self {
            creation_date: a.admin.created_at,
            change_date: a.admin.updated_at,
            user: WireAdminUser {
                id: a.admin.user_id.to_string(),
                preferred_login_name: a.username.to_string(),
                display_name: a.display_name.to_string(),
                organization_id: a.user_org_id.to_string(),
            },
            instance,
            organization,
            project,
            roles: a.admin.roles.iter().map(|r| r.as_str().to_owned()).collect(),
        }
    }
}

/// `ListAdministratorsResponse`.
#[derive(Debug, Serialize)]
pub struct ListAdministratorsResponse {
    /// Totals.
    pub pagination: PaginationResponse,
    /// The memberships.
    pub administrators: Vec<WireAdministrator>,
}

/// A filter no membership passes.
fn no_admin() -> AdminFilter {
    AdminFilter::Users(Vec::new())
}

/// A `filter.v2` text leaf: the value under `key` (1–200 characters) and a
/// `TextFilterMethod`.
fn text_filter(obj: &Value, key: &str, field: &str) -> Result<TextFilter, ServiceError> {
    let value = obj.get(key).and_then(Value::as_str).unwrap_or_default();
    if value.is_empty() || value.chars().count() > 200 {
        return Err(ServiceError::invalid(format!("{field}.{key} must be 1 to 200 characters")));
    }
    let method: TextFilterMethod = obj
        .get("method")
        .cloned()
        .map(wire_from)
        .transpose()
        .map_err(|_| ServiceError::invalid(format!("{field}.method is not a TextFilterMethod")))?
        .unwrap_or_default();
    Ok(TextFilter { value: value.to_owned(), method: method.to_domain() })
}

/// Converts one `AdministratorSearchFilter` (a one-key object) into a filter.
fn admin_filter(f: &Value, depth: usize) -> Result<AdminFilter, ServiceError> {
    if depth > 16 {
        return Err(ServiceError::invalid("filters are nested too deeply"));
    }
    let obj = f
        .as_object()
        .filter(|o| o.len() == 1)
        .ok_or_else(|| ServiceError::invalid("each filter must be an object with exactly one filter type"))?;
    let Some((kind, inner)) = obj.iter().next() else { return Err(ServiceError::invalid("empty filter")) };
    let list = |key: &str| -> Result<Vec<AdminFilter>, ServiceError> {
        inner
            .get(key)
            .and_then(Value::as_array)
            .map_or(Ok(Vec::new()), |fs| fs.iter().map(|f| admin_filter(f, depth + 1)).collect())
    };
    let timestamp = |field: &str| -> Result<TimestampFilter, ServiceError> {
        wire_from(inner.clone())
            .map_err(|_| ServiceError::invalid(format!("{field} needs an RFC 3339 timestamp and a method")))
    };
    Ok(match kind.as_str() {
        "creationDate" => AdminFilter::CreatedAt(timestamp(kind)?.to_domain()),
        "changeDate" => AdminFilter::ChangedAt(timestamp(kind)?.to_domain()),
        "inUserIdsFilter" => {
            let ids = inner.get("ids").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
            // Ids that are not UUIDs cannot exist here; they simply match nothing.
            AdminFilter::Users(ids.iter().filter_map(Value::as_str).filter_map(|s| UserId::parse(s).ok()).collect())
        }
        "userOrganizationId" => {
            let id = inner.get("id").and_then(Value::as_str).unwrap_or_default();
            OrgId::parse(id).map_or_else(|_| no_admin(), AdminFilter::UserOrg)
        }
        // The preferred login name is the username in Tessera.
        "userPreferredLoginName" => AdminFilter::Username(text_filter(inner, "preferredLoginName", kind)?),
        "userDisplayName" => AdminFilter::DisplayName(text_filter(inner, "displayName", kind)?),
        "resource" => {
            let r: ResourceInput = wire_from(inner.clone())
                .map_err(|_| ServiceError::invalid("resource filter is not a ResourceFilter"))?;
            match r.parse()? {
                Resource::Scope(s) => AdminFilter::Scope(s),
                Resource::Project(Some(p)) => AdminFilter::Scope(Scope::Project(p)),
                // No such project, and Tessera has no project grants: nothing matches.
                Resource::Project(None) | Resource::ProjectGrant => no_admin(),
            }
        }
        "role" => {
            let key = inner.get("roleKey").and_then(Value::as_str).unwrap_or_default();
            if key.is_empty() || key.chars().count() > 200 {
                return Err(ServiceError::invalid("role.roleKey must be 1 to 200 characters"));
            }
            // A role Tessera does not know is held by nobody.
            Role::parse(key).map_or_else(|_| no_admin(), AdminFilter::Role)
        }
        "and" => AdminFilter::And(list("queries")?),
        "or" => AdminFilter::Or(list("queries")?),
        "not" => AdminFilter::Not(Box::new(admin_filter(inner.get("query").unwrap_or(&Value::Null), depth + 1)?)),
        other => {
            let name = wire::key_name(other).unwrap_or("this key");
            return Err(ServiceError::invalid(format!("{name} is not an administrator filter")));
        }
    })
}

async fn list_administrators(ctx: Ctx, req: ListAdministratorsRequest) -> Result<ListAdministratorsResponse, ApiError> {
    let filters = req.filters.iter().map(|f| admin_filter(f, 0)).collect::<Result<Vec<_>, _>>()?;
    let sort = match req.sorting_column {
        AdministratorFieldName::Unspecified | AdministratorFieldName::CreationDate => AdminSort::CreatedAt,
        AdministratorFieldName::UserId => AdminSort::User,
        AdministratorFieldName::ChangeDate => AdminSort::ChangedAt,
    };
    let page = req.pagination.page();
    let listed = admins::list(&ctx, filters, sort, page).await?;
    Ok(ListAdministratorsResponse {
        pagination: PaginationResponse { total_result: listed.total, applied_limit: page.limit },
        administrators: listed.items.iter().map(WireAdministrator::from_domain).collect(),
    })
}

/// Dispatches a Connect call; `None` for an unknown method.
pub async fn dispatch(method: &str, call: &Call) -> Option<Result<Value, ApiError>> {
    Some(match method {
        "CreateAdministrator" => call.run(create_administrator).await,
        "ListAdministrators" => call.run(list_administrators).await,
        "UpdateAdministrator" => call.run(update_administrator).await,
        "DeleteAdministrator" => call.run(delete_administrator).await,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn resources_name_exactly_one_thing() {
        let parse = |v: Value| serde_json::from_value::<ResourceInput>(v).unwrap().scope();
        assert_eq!(parse(json!({"instance": true})).unwrap(), Scope::Instance);
        let org = OrgId::new();
        assert_eq!(parse(json!({"organizationId": org.to_string()})).unwrap(), Scope::Org(org));
        for bad in [json!({}), json!({"instance": false}), json!({"instance": true, "organizationId": "x"})] {
            assert!(matches!(parse(bad), Err(ServiceError::InvalidArgument(_))));
        }
        assert!(matches!(parse(json!({"projectId": "p"})), Err(ServiceError::NotFound(_))));
        assert!(matches!(
            parse(json!({"projectGrant": {"projectId": "p", "organizationId": "o"}})),
            Err(ServiceError::InvalidArgument(_))
        ));
    }

    #[test]
    fn filters_nest_and_unknown_values_match_nothing() {
        let user = UserId::new();
        let f = admin_filter(
            &json!({"or": {"queries": [
                {"inUserIdsFilter": {"ids": [user.to_string(), "nope"]}},
                {"not": {"query": {"role": {"roleKey": "SUPER_ADMIN"}}}}
            ]}}),
            0,
        )
        .unwrap();
        assert_eq!(f, AdminFilter::Or(vec![AdminFilter::Users(vec![user]), AdminFilter::Not(Box::new(no_admin()))]));
        assert!(admin_filter(&json!({"role": {}}), 0).is_err());
        assert!(admin_filter(&json!({"userDisplayName": {"displayName": ""}}), 0).is_err());
        assert!(admin_filter(&json!({"creationDate": {"timestamp": "yesterday"}}), 0).is_err());
        assert!(admin_filter(&json!({"bogus": {}}), 0).is_err());
    }
}
