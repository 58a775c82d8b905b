//! v1 project and role methods (Terraform's `project` and `project_role`).

use super::*;

/// `zitadel.project.v1.Project`: v1's `project_role_check` and
/// `has_project_check` are v2's `authorization_required` and
/// `project_access_required`.
pub(super) fn wire_project(p: &Project) -> project_v1::Project {
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
pub(super) fn wire_role(r: &ProjectRole, org: OrgId) -> project_v1::Role {
    project_v1::Role {
        key: r.key.to_string(),
        details: Some(details(r.created_at, r.updated_at, org)),
        display_name: r.display_name.to_string(),
        group: r.group.clone(),
    }
}

impl V1 {
    /// The project `id`, which must be in the call's organization.
    pub(super) async fn project(&self, field: &'static str, id: &str) -> Result<Project, ApiError> {
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
pub(super) async fn add_project(v1: V1, req: mgmt::AddProjectRequest) -> Result<mgmt::AddProjectResponse, ApiError> {
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

pub(super) async fn get_project(
    v1: V1,
    req: mgmt::GetProjectByIdRequest,
) -> Result<mgmt::GetProjectByIdResponse, ApiError> {
    let project = v1.project("id", &req.id).await?;
    Ok(mgmt::GetProjectByIdResponse { project: Some(wire_project(&project)) })
}

pub(super) async fn list_projects(
    v1: V1,
    req: mgmt::ListProjectsRequest,
) -> Result<mgmt::ListProjectsResponse, ApiError> {
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
pub(super) async fn update_project(
    v1: V1,
    req: mgmt::UpdateProjectRequest,
) -> Result<mgmt::UpdateProjectResponse, ApiError> {
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

pub(super) async fn remove_project(
    v1: V1,
    req: mgmt::RemoveProjectRequest,
) -> Result<mgmt::RemoveProjectResponse, ApiError> {
    let project = v1.project("id", &req.id).await?;
    projects::delete(&v1.ctx, project.id).await?;
    Ok(mgmt::RemoveProjectResponse { details: Some(changed_now(&v1.ctx, project.org_id)) })
}

pub(super) async fn list_roles(
    v1: V1,
    req: mgmt::ListProjectRolesRequest,
) -> Result<mgmt::ListProjectRolesResponse, ApiError> {
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

pub(super) async fn add_role(
    v1: V1,
    req: mgmt::AddProjectRoleRequest,
) -> Result<mgmt::AddProjectRoleResponse, ApiError> {
    let project = v1.project("projectId", &req.project_id).await?;
    let key = RoleKey::parse(&req.role_key).map_err(v1_field("roleKey"))?;
    let name = DisplayName::parse("displayName", &req.display_name)?;
    let role = projects::add_role(&v1.ctx, project.id, key, name, req.group).await?;
    Ok(mgmt::AddProjectRoleResponse { details: Some(details(role.created_at, role.updated_at, project.org_id)) })
}

pub(super) async fn update_role(
    v1: V1,
    req: mgmt::UpdateProjectRoleRequest,
) -> Result<mgmt::UpdateProjectRoleResponse, ApiError> {
    let project = v1.project("projectId", &req.project_id).await?;
    let key = RoleKey::parse(&req.role_key).map_err(v1_field("roleKey"))?;
    let name = DisplayName::parse("displayName", &req.display_name)?;
    let role = projects::update_role(&v1.ctx, project.id, &key, Some(name), Some(req.group)).await?;
    Ok(mgmt::UpdateProjectRoleResponse { details: Some(details(role.created_at, role.updated_at, project.org_id)) })
}

pub(super) async fn remove_role(
    v1: V1,
    req: mgmt::RemoveProjectRoleRequest,
) -> Result<mgmt::RemoveProjectRoleResponse, ApiError> {
    let project = v1.project("projectId", &req.project_id).await?;
    let key = RoleKey::parse(&req.role_key).map_err(v1_field("roleKey"))?;
    projects::remove_role(&v1.ctx, project.id, &key).await?;
    Ok(mgmt::RemoveProjectRoleResponse { details: Some(changed_now(&v1.ctx, project.org_id)) })
}
