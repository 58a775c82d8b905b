//! `zitadel.internal_permission.v2.InternalPermissionService`: administrator
//! memberships on the instance and on organizations, on the generated messages
//! of `proto/zitadel/internal_permission/v2`. ZITADEL defines no REST paths
//! for it.
//!
//! Tessera's differences: project grants do not exist (`invalid_argument`),
//! and the preferred login name is the username.

use tessera_domain::permission::{Role, Scope};
use tessera_domain::repo::{AdminFilter, AdminSort, AdminWithNames};
use tessera_domain::{OrgId, ProjectId, UserId};
use tessera_proto::zitadel::internal_permission::v2 as pb;

use super::call::{Answer, Call};
use super::v2::{pagination, pagination_response, required_id, text_filter_of, time_filter_of, ts};
use super::wire;
use crate::error::{ApiError, ServiceError};
use tessera_core::{Ctx, admins};

use pb::administrator_search_filter::Filter;

/// What a request's `resource` names.
enum Resource {
    /// An instance or organization scope.
    Scope(Scope),
    /// A project (`None`: not an id Tessera issues, so no such project).
    Project(Option<ProjectId>),
    /// A project grant.
    ProjectGrant,
}

/// `instance: true` (the only value ZITADEL accepts).
fn instance(set: bool) -> Result<Resource, ServiceError> {
    if set {
        Ok(Resource::Scope(Scope::Instance))
    } else {
        Err(ServiceError::invalid("resource.instance must be true"))
    }
}

fn organization(id: &str) -> Result<Resource, ServiceError> {
    Ok(Resource::Scope(Scope::Org(required_id("resource.organizationId", id, OrgId::parse)?)))
}

/// Not a UUID: not an id Tessera issues, so no such project.
fn project(id: &str) -> Resource {
    Resource::Project(ProjectId::parse(id).ok())
}

fn resource_type(r: &pb::ResourceType) -> Result<Resource, ServiceError> {
    use pb::resource_type::Resource as R;
    match &r.resource {
        None => Err(ServiceError::invalid(
            "resource must set exactly one of instance, organizationId, projectId or projectGrant",
        )),
        Some(R::Instance(i)) => instance(*i),
        Some(R::OrganizationId(o)) => organization(o),
        Some(R::ProjectId(p)) => Ok(project(p)),
        Some(R::ProjectGrant(_)) => Ok(Resource::ProjectGrant),
    }
}

/// The scope of a create, update or delete request.
fn required_resource(r: Option<&pb::ResourceType>) -> Result<Scope, ServiceError> {
    match resource_type(r.ok_or_else(|| ServiceError::invalid("resource is required"))?)? {
        Resource::Scope(s) => Ok(s),
        Resource::Project(Some(p)) => Ok(Scope::Project(p)),
        Resource::Project(None) => Err(ServiceError::not_found("project not found")),
        Resource::ProjectGrant => Err(ServiceError::invalid("project grants are not supported")),
    }
}

fn parse_roles(roles: &[String]) -> Result<Vec<Role>, ServiceError> {
    roles
        .iter()
        .enumerate()
        .map(|(i, r)| Role::parse(r).map_err(|_| ServiceError::invalid(format!("roles[{i}] is not a supported role"))))
        .collect()
}

async fn create_administrator(
    ctx: Ctx,
    req: pb::CreateAdministratorRequest,
) -> Result<pb::CreateAdministratorResponse, ApiError> {
    let user = required_id("userId", &req.user_id, UserId::parse)?;
    let scope = required_resource(req.resource.as_ref())?;
    let roles = parse_roles(&req.roles)?;
    let created = admins::create(&ctx, user, scope, roles).await?;
    Ok(pb::CreateAdministratorResponse { creation_date: ts(created.created_at) })
}

async fn update_administrator(
    ctx: Ctx,
    req: pb::UpdateAdministratorRequest,
) -> Result<pb::UpdateAdministratorResponse, ApiError> {
    let user = required_id("userId", &req.user_id, UserId::parse)?;
    let scope = required_resource(req.resource.as_ref())?;
    let roles = parse_roles(&req.roles)?;
    let changed = admins::update(&ctx, user, scope, roles).await?;
    Ok(pb::UpdateAdministratorResponse { change_date: ts(changed.updated_at) })
}

/// No date when there was nothing to delete.
async fn delete_administrator(
    ctx: Ctx,
    req: pb::DeleteAdministratorRequest,
) -> Result<pb::DeleteAdministratorResponse, ApiError> {
    let user = required_id("userId", &req.user_id, UserId::parse)?;
    let scope = required_resource(req.resource.as_ref())?;
    Ok(pb::DeleteAdministratorResponse { deletion_date: admins::delete(&ctx, user, scope).await?.map(Into::into) })
}

// ----------------------------------------------------------------------------
// ListAdministrators

/// The wire form of a listed membership.
fn administrator(a: &AdminWithNames) -> pb::Administrator {
    use pb::administrator::Resource as R;
    let resource = match a.admin.scope {
        Scope::Instance => R::Instance(true),
        Scope::Org(o) => R::Organization(pb::Organization {
            id: o.to_string(),
            name: a.org_name.as_ref().map(ToString::to_string).unwrap_or_default(),
        }),
        Scope::Project(p) => R::Project(pb::Project { id: p.to_string() }),
    };
    pb::Administrator {
        creation_date: ts(a.admin.created_at),
        change_date: ts(a.admin.updated_at),
        user: Some(pb::User {
            id: a.admin.user_id.to_string(),
            preferred_login_name: a.username.to_string(),
            display_name: a.display_name.to_string(),
            organization_id: a.user_org_id.to_string(),
        }),
        roles: a.admin.roles.iter().map(|r| r.as_str().to_owned()).collect(),
        resource: Some(resource),
    }
}

/// A filter no membership passes.
fn no_admin() -> AdminFilter {
    AdminFilter::Users(Vec::new())
}

/// Converts one `AdministratorSearchFilter` into a domain filter. Nesting is
/// bounded by the request's shape check (`wire::MAX_DEPTH`) before decoding.
fn admin_filter(f: &pb::AdministratorSearchFilter) -> Result<AdminFilter, ServiceError> {
    let list = |fs: &[pb::AdministratorSearchFilter]| fs.iter().map(admin_filter).collect::<Result<Vec<_>, _>>();
    Ok(match &f.filter {
        None => return Err(wire::one_filter_error()),
        Some(Filter::CreationDate(t)) => AdminFilter::CreatedAt(time_filter_of(t, "creationDate")?),
        Some(Filter::ChangeDate(t)) => AdminFilter::ChangedAt(time_filter_of(t, "changeDate")?),
        // Ids that are not UUIDs cannot exist here; they simply match nothing.
        Some(Filter::InUserIdsFilter(ids)) => {
            AdminFilter::Users(ids.ids.iter().filter_map(|s| UserId::parse(s).ok()).collect())
        }
        Some(Filter::UserOrganizationId(id)) => OrgId::parse(&id.id).map_or_else(|_| no_admin(), AdminFilter::UserOrg),
        // The preferred login name is the username in Tessera.
        Some(Filter::UserPreferredLoginName(n)) => AdminFilter::Username(text_filter_of(
            &n.preferred_login_name,
            n.method,
            "userPreferredLoginName.preferredLoginName",
        )?),
        Some(Filter::UserDisplayName(n)) => {
            AdminFilter::DisplayName(text_filter_of(&n.display_name, n.method, "userDisplayName.displayName")?)
        }
        Some(Filter::Resource(r)) => {
            use pb::resource_filter::Resource as R;
            let parsed = match &r.resource {
                None => return Err(ServiceError::invalid("the resource filter must name one resource")),
                Some(R::Instance(i)) => instance(*i)?,
                Some(R::OrganizationId(o)) => organization(o)?,
                Some(R::ProjectId(p)) => project(p),
                Some(R::ProjectGrant(_)) => Resource::ProjectGrant,
            };
            match parsed {
                Resource::Scope(s) => AdminFilter::Scope(s),
                Resource::Project(Some(p)) => AdminFilter::Scope(Scope::Project(p)),
                // No such project, and Tessera has no project grants: nothing matches.
                Resource::Project(None) | Resource::ProjectGrant => no_admin(),
            }
        }
        Some(Filter::Role(r)) => {
            if r.role_key.is_empty() || r.role_key.chars().count() > 200 {
                return Err(ServiceError::invalid("role.roleKey must be 1 to 200 characters"));
            }
            // A role Tessera does not know is held by nobody.
            Role::parse(&r.role_key).map_or_else(|_| no_admin(), AdminFilter::Role)
        }
        Some(Filter::And(a)) => AdminFilter::And(list(&a.queries)?),
        Some(Filter::Or(o)) => AdminFilter::Or(list(&o.queries)?),
        Some(Filter::Not(n)) => AdminFilter::Not(Box::new(admin_filter(
            n.query.as_deref().ok_or_else(|| ServiceError::invalid("not.query is required"))?,
        )?)),
    })
}

async fn list_administrators(
    ctx: Ctx,
    req: pb::ListAdministratorsRequest,
) -> Result<pb::ListAdministratorsResponse, ApiError> {
    use pb::AdministratorFieldName as F;
    let filters = req.filters.iter().map(admin_filter).collect::<Result<Vec<_>, _>>()?;
    let sort = match F::try_from(req.sorting_column) {
        Ok(F::Unspecified | F::CreationDate) => AdminSort::CreatedAt,
        Ok(F::UserId) => AdminSort::User,
        Ok(F::ChangeDate) => AdminSort::ChangedAt,
        Err(_) => return Err(ServiceError::invalid("sortingColumn is not an AdministratorFieldName").into()),
    };
    let page = pagination(req.pagination.as_ref())?;
    let listed = admins::list(&ctx, filters, sort, page).await?;
    Ok(pb::ListAdministratorsResponse {
        pagination: pagination_response(listed.total, page),
        administrators: listed.items.iter().map(administrator).collect(),
    })
}

/// Dispatches a call; `None` for an unknown method.
pub async fn dispatch(method: &str, call: &Call) -> Option<Result<Answer, ApiError>> {
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
    use serde_json::Value;

    fn decode<T: serde::de::DeserializeOwned>(v: Value) -> Result<T, ApiError> {
        crate::api::call::decode_value(v)
    }

    #[test]
    fn resources_name_exactly_one_thing() {
        let parse = |v: Value| required_resource(Some(&decode::<pb::ResourceType>(v).unwrap()));
        assert_eq!(parse(json!({"instance": true})).unwrap(), Scope::Instance);
        let org = OrgId::new();
        assert_eq!(parse(json!({"organizationId": org.to_string()})).unwrap(), Scope::Org(org));
        for bad in [json!({}), json!({"instance": false})] {
            assert!(matches!(parse(bad), Err(ServiceError::InvalidArgument(_))));
        }
        assert!(decode::<pb::ResourceType>(json!({"instance": true, "organizationId": "x"})).is_err());
        assert!(matches!(parse(json!({"projectId": "p"})), Err(ServiceError::NotFound(_))));
        assert!(matches!(
            parse(json!({"projectGrant": {"projectId": "p", "organizationId": "o"}})),
            Err(ServiceError::InvalidArgument(_))
        ));
    }

    #[test]
    fn filters_nest_and_unknown_values_match_nothing() {
        let filter = |v: Value| admin_filter(&decode::<pb::AdministratorSearchFilter>(v).unwrap());
        let user = UserId::new();
        let f = filter(json!({"or": {"queries": [
            {"inUserIdsFilter": {"ids": [user.to_string(), "nope"]}},
            {"not": {"query": {"role": {"roleKey": "SUPER_ADMIN"}}}}
        ]}}))
        .unwrap();
        assert_eq!(f, AdminFilter::Or(vec![AdminFilter::Users(vec![user]), AdminFilter::Not(Box::new(no_admin()))]));
        assert!(filter(json!({"role": {}})).is_err());
        assert!(filter(json!({"userDisplayName": {"displayName": ""}})).is_err());
        assert!(filter(json!({"creationDate": {"method": "TIMESTAMP_FILTER_METHOD_AFTER"}})).is_err());
        assert!(decode::<pb::AdministratorSearchFilter>(json!({"creationDate": {"timestamp": "yesterday"}})).is_err());
        assert!(filter(json!({"bogus": {}})).is_err());
        assert!(filter(json!({"not": {}})).is_err());
    }
}
