//! `zitadel.project.v2.ProjectService`: projects and project roles, on the
//! generated messages of `proto/zitadel/project/v2`. The v2beta service maps
//! its messages onto these handlers (`project_v2beta`).
//!
//! Tessera's differences: ids are UUIDs; there are no project grants (their
//! methods are `unimplemented`, their filters match nothing); private labeling
//! is not stored (`PRIVATE_LABELING_SETTING_UNSPECIFIED` is reported).

use tessera_domain::names::DisplayName;
use tessera_domain::project::{Project, ProjectName, ProjectRole, ProjectState, RoleKey, parse_group};
use tessera_domain::repo::{ProjectFilter, ProjectSort, RoleFilter, RoleSort};
use tessera_domain::{OrgId, ProjectId};
use tessera_proto::zitadel::project::v2 as pb;

use super::call::{Answer, Call};
use super::v2::{pagination, pagination_response, required_id, text_filter_of, ts};
use super::wire;
use crate::error::{ApiError, ServiceError};
use tessera_core::Ctx;
use tessera_core::projects::{self, NewProject, ProjectStateChange, ProjectUpdate};

/// The wire form of a project.
#[must_use]
pub fn project(p: &Project) -> pb::Project {
    let state = match p.state {
        ProjectState::Active => pb::ProjectState::Active,
        ProjectState::Inactive => pb::ProjectState::Inactive,
    };
    pb::Project {
        project_id: p.id.to_string(),
        organization_id: p.org_id.to_string(),
        creation_date: ts(p.created_at),
        change_date: ts(p.updated_at),
        name: p.name.to_string(),
        state: state.into(),
        project_role_assertion: p.role_assertion,
        authorization_required: p.authorization_required,
        project_access_required: p.project_access_required,
        private_labeling_setting: pb::PrivateLabelingSetting::Unspecified.into(),
    }
}

fn role(r: &ProjectRole) -> pb::ProjectRole {
    pb::ProjectRole {
        project_id: r.project_id.to_string(),
        key: r.key.to_string(),
        creation_date: ts(r.created_at),
        change_date: ts(r.updated_at),
        display_name: r.display_name.to_string(),
        group: r.group.clone(),
    }
}

fn project_id(v: &str) -> Result<ProjectId, ServiceError> {
    required_id("projectId", v, ProjectId::parse)
}

// ----------------------------------------------------------------------------
// Projects

/// `CreateProject`.
pub async fn create_project(ctx: Ctx, req: pb::CreateProjectRequest) -> Result<pb::CreateProjectResponse, ApiError> {
    let org_id = match req.organization_id.trim() {
        "" => None,
        id => Some(required_id("organizationId", id, OrgId::parse)?),
    };
    let id = match req.project_id.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(id) => Some(
            ProjectId::parse(id)
                .map_err(|_| ServiceError::invalid("projectId must be a UUID in Tessera (or be left out)"))?,
        ),
    };
    let project = projects::create(
        &ctx,
        NewProject {
            org_id,
            id,
            name: ProjectName::parse(&req.name)?,
            role_assertion: req.project_role_assertion,
            authorization_required: req.authorization_required,
            project_access_required: req.project_access_required,
        },
    )
    .await?;
    Ok(pb::CreateProjectResponse { project_id: project.id.to_string(), creation_date: ts(project.created_at) })
}

/// `GetProject`.
pub async fn get_project(ctx: Ctx, req: pb::GetProjectRequest) -> Result<pb::GetProjectResponse, ApiError> {
    let found = projects::get(&ctx, project_id(&req.project_id)?).await?;
    Ok(pb::GetProjectResponse { project: Some(project(&found)) })
}

/// A filter no project passes.
fn no_project() -> ProjectFilter {
    ProjectFilter::Ids(Vec::new())
}

fn project_filter(f: &pb::ProjectSearchFilter) -> Result<ProjectFilter, ServiceError> {
    use pb::project_organization_id_filter::Type;
    use pb::project_search_filter::Filter;
    Ok(match &f.filter {
        None => return Err(wire::one_filter_error()),
        // Ids that are not UUIDs cannot match anything Tessera stores.
        Some(Filter::InProjectIdsFilter(f)) => {
            ProjectFilter::Ids(f.ids.iter().filter_map(|i| ProjectId::parse(i).ok()).collect())
        }
        // Tessera has owned projects only: GRANTED matches nothing.
        Some(Filter::OrganizationIdFilter(f)) => match Type::try_from(f.r#type) {
            Ok(Type::Granted) => no_project(),
            Ok(_) => OrgId::parse(&f.organization_id).map_or_else(|_| no_project(), ProjectFilter::Org),
            Err(_) => return Err(ServiceError::invalid("organizationIdFilter.type is not a known type")),
        },
        Some(Filter::ProjectNameFilter(f)) => {
            ProjectFilter::Name(text_filter_of(&f.project_name, f.method, "projectNameFilter.projectName")?)
        }
    })
}

/// `ListProjects`.
pub async fn list_projects(ctx: Ctx, req: pb::ListProjectsRequest) -> Result<pb::ListProjectsResponse, ApiError> {
    use pb::ProjectFieldName as F;
    let filters = req.filters.iter().map(project_filter).collect::<Result<Vec<_>, _>>()?;
    let sort = match F::try_from(req.sorting_column.unwrap_or_default()) {
        Ok(F::Unspecified | F::CreationDate) => ProjectSort::CreatedAt,
        Ok(F::Id) => ProjectSort::Id,
        Ok(F::ChangeDate) => ProjectSort::ChangedAt,
        Ok(F::Name) => ProjectSort::Name,
        Err(_) => return Err(ServiceError::invalid("sortingColumn is not a ProjectFieldName").into()),
    };
    let page = pagination(req.pagination.as_ref())?;
    let listed = projects::list(&ctx, filters, sort, page).await?;
    Ok(pb::ListProjectsResponse {
        pagination: pagination_response(listed.total, page),
        projects: listed.items.iter().map(project).collect(),
    })
}

/// `UpdateProject`.
pub async fn update_project(ctx: Ctx, req: pb::UpdateProjectRequest) -> Result<pb::UpdateProjectResponse, ApiError> {
    let id = project_id(&req.project_id)?;
    let change = ProjectUpdate {
        name: req.name.as_deref().map(ProjectName::parse).transpose()?,
        role_assertion: req.project_role_assertion,
        authorization_required: req.authorization_required,
        project_access_required: req.project_access_required,
    };
    let project = projects::update(&ctx, id, change).await?;
    Ok(pb::UpdateProjectResponse { change_date: ts(project.updated_at) })
}

/// `DeactivateProject`.
pub async fn deactivate_project(
    ctx: Ctx,
    req: pb::DeactivateProjectRequest,
) -> Result<pb::DeactivateProjectResponse, ApiError> {
    let project = projects::change_state(&ctx, project_id(&req.project_id)?, ProjectStateChange::Deactivate).await?;
    Ok(pb::DeactivateProjectResponse { change_date: ts(project.updated_at) })
}

/// `ActivateProject`.
pub async fn activate_project(
    ctx: Ctx,
    req: pb::ActivateProjectRequest,
) -> Result<pb::ActivateProjectResponse, ApiError> {
    let project = projects::change_state(&ctx, project_id(&req.project_id)?, ProjectStateChange::Activate).await?;
    Ok(pb::ActivateProjectResponse { change_date: ts(project.updated_at) })
}

/// `DeleteProject`.
pub async fn delete_project(ctx: Ctx, req: pb::DeleteProjectRequest) -> Result<pb::DeleteProjectResponse, ApiError> {
    projects::delete(&ctx, project_id(&req.project_id)?).await?;
    Ok(pb::DeleteProjectResponse { deletion_date: ts(ctx.now()) })
}

// ----------------------------------------------------------------------------
// Roles

/// `AddProjectRole`.
pub async fn add_project_role(
    ctx: Ctx,
    req: pb::AddProjectRoleRequest,
) -> Result<pb::AddProjectRoleResponse, ApiError> {
    let project = project_id(&req.project_id)?;
    let key = RoleKey::parse(&req.role_key)?;
    let display_name = DisplayName::parse("displayName", &req.display_name)?;
    let group = parse_group(req.group.as_deref().unwrap_or_default())?;
    let role = projects::add_role(&ctx, project, key, display_name, group).await?;
    Ok(pb::AddProjectRoleResponse { creation_date: ts(role.created_at) })
}

fn role_filter(f: &pb::ProjectRoleSearchFilter) -> Result<RoleFilter, ServiceError> {
    use pb::project_role_search_filter::Filter;
    match &f.filter {
        None => Err(wire::one_filter_error()),
        Some(Filter::RoleKeyFilter(f)) => Ok(RoleFilter::Key(text_filter_of(&f.key, f.method, "roleKeyFilter.key")?)),
        Some(Filter::DisplayNameFilter(f)) => {
            Ok(RoleFilter::DisplayName(text_filter_of(&f.display_name, f.method, "displayNameFilter.displayName")?))
        }
    }
}

/// `ListProjectRoles`.
pub async fn list_project_roles(
    ctx: Ctx,
    req: pb::ListProjectRolesRequest,
) -> Result<pb::ListProjectRolesResponse, ApiError> {
    use pb::ProjectRoleFieldName as F;
    let project = project_id(&req.project_id)?;
    let filters = req.filters.iter().map(role_filter).collect::<Result<Vec<_>, _>>()?;
    let sort = match F::try_from(req.sorting_column.unwrap_or_default()) {
        Ok(F::Unspecified | F::Key) => RoleSort::Key,
        Ok(F::CreationDate) => RoleSort::CreatedAt,
        Ok(F::ChangeDate) => RoleSort::ChangedAt,
        Err(_) => return Err(ServiceError::invalid("sortingColumn is not a ProjectRoleFieldName").into()),
    };
    let page = pagination(req.pagination.as_ref())?;
    let listed = projects::list_roles(&ctx, project, filters, sort, page).await?;
    Ok(pb::ListProjectRolesResponse {
        pagination: pagination_response(listed.total, page),
        project_roles: listed.items.iter().map(role).collect(),
    })
}

/// `UpdateProjectRole`.
pub async fn update_project_role(
    ctx: Ctx,
    req: pb::UpdateProjectRoleRequest,
) -> Result<pb::UpdateProjectRoleResponse, ApiError> {
    let project = project_id(&req.project_id)?;
    let key = RoleKey::parse(&req.role_key)?;
    let display_name = req.display_name.as_deref().map(|d| DisplayName::parse("displayName", d)).transpose()?;
    let group = req.group.as_deref().map(parse_group).transpose()?;
    let role = projects::update_role(&ctx, project, &key, display_name, group).await?;
    Ok(pb::UpdateProjectRoleResponse { change_date: ts(role.updated_at) })
}

/// `RemoveProjectRole`.
pub async fn remove_project_role(
    ctx: Ctx,
    req: pb::RemoveProjectRoleRequest,
) -> Result<pb::RemoveProjectRoleResponse, ApiError> {
    let project = project_id(&req.project_id)?;
    let key = RoleKey::parse(&req.role_key)?;
    projects::remove_role(&ctx, project, &key).await?;
    Ok(pb::RemoveProjectRoleResponse { removal_date: ts(ctx.now()) })
}

// ----------------------------------------------------------------------------
// Routing

/// Dispatches a call; `None` for an unknown method.
pub async fn dispatch(method: &str, call: &Call) -> Option<Result<Answer, ApiError>> {
    Some(match method {
        "CreateProject" => call.run(create_project).await,
        "GetProject" => call.run(get_project).await,
        "ListProjects" => call.run(list_projects).await,
        "UpdateProject" => call.run(update_project).await,
        "DeactivateProject" => call.run(deactivate_project).await,
        "ActivateProject" => call.run(activate_project).await,
        "DeleteProject" => call.run(delete_project).await,
        "AddProjectRole" => call.run(add_project_role).await,
        "ListProjectRoles" => call.run(list_project_roles).await,
        "UpdateProjectRole" => call.run(update_project_role).await,
        "RemoveProjectRole" => call.run(remove_project_role).await,
        _ => return None,
    })
}
