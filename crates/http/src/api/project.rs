//! `zitadel.project.v2.ProjectService` (also mounted as
//! `zitadel.project.v2beta.ProjectService`): projects and project roles, in the
//! request and response shapes of ZITADEL's `project/v2/project_service.proto`.
//!
//! Tessera's differences: ids are UUIDs; there are no project grants (their
//! methods are `unimplemented`, their filters match nothing); private labeling
//! is not stored (`PRIVATE_LABELING_SETTING_UNSPECIFIED` is reported).
//! v2beta spells the project id `id` and, in `UpdateProject`, the two checks
//! `projectRoleCheck` and `hasProjectCheck`; requests accept both spellings
//! and v2beta responses carry `id`.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use tessera_domain::names::DisplayName;
use tessera_domain::project::{Project, ProjectName, ProjectRole, ProjectState, RoleKey, parse_group};
use tessera_domain::repo::{ProjectFilter, ProjectSort, RoleFilter, RoleSort};
use tessera_domain::{OrgId, ProjectId, Timestamp};

use super::call::Call;
use super::v2::{
    ChangeDateResponse, DeletionDateResponse, IdFilter, ListQuery, PaginationResponse, TextFilterMethod, required_id,
    text_filter,
};
use super::wire;
use crate::error::{ApiError, ServiceError};
use crate::proto_enum;
use tessera_core::Ctx;
use tessera_core::projects::{self, NewProject, ProjectStateChange, ProjectUpdate};

proto_enum!(
    /// `zitadel.project.v2.ProjectState`.
    WireProjectState {
        #[default]
        Unspecified = 0 => "PROJECT_STATE_UNSPECIFIED",
        Active = 1 => "PROJECT_STATE_ACTIVE",
        Inactive = 2 => "PROJECT_STATE_INACTIVE",
    }
);

impl From<ProjectState> for WireProjectState {
    fn from(s: ProjectState) -> Self {
        match s {
            ProjectState::Active => Self::Active,
            ProjectState::Inactive => Self::Inactive,
        }
    }
}

proto_enum!(
    /// `zitadel.project.v2.PrivateLabelingSetting` (accepted, not stored).
    PrivateLabelingSetting {
        #[default]
        Unspecified = 0 => "PRIVATE_LABELING_SETTING_UNSPECIFIED",
        EnforceProjectResourceOwnerPolicy = 1 => "PRIVATE_LABELING_SETTING_ENFORCE_PROJECT_RESOURCE_OWNER_POLICY",
        AllowLoginUserResourceOwnerPolicy = 2 => "PRIVATE_LABELING_SETTING_ALLOW_LOGIN_USER_RESOURCE_OWNER_POLICY",
    }
);

proto_enum!(
    /// `zitadel.project.v2.ProjectFieldName`.
    ProjectFieldName {
        #[default]
        Unspecified = 0 => "PROJECT_FIELD_NAME_UNSPECIFIED",
        Id = 1 => "PROJECT_FIELD_NAME_ID",
        CreationDate = 2 => "PROJECT_FIELD_NAME_CREATION_DATE",
        ChangeDate = 3 => "PROJECT_FIELD_NAME_CHANGE_DATE",
        Name = 4 => "PROJECT_FIELD_NAME_NAME",
    }
);

proto_enum!(
    /// `zitadel.project.v2.ProjectRoleFieldName`.
    ProjectRoleFieldName {
        #[default]
        Unspecified = 0 => "PROJECT_ROLE_FIELD_NAME_UNSPECIFIED",
        Key = 1 => "PROJECT_ROLE_FIELD_NAME_KEY",
        CreationDate = 2 => "PROJECT_ROLE_FIELD_NAME_CREATION_DATE",
        ChangeDate = 3 => "PROJECT_ROLE_FIELD_NAME_CHANGE_DATE",
    }
);

/// `zitadel.project.v2.Project`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WireProject {
    /// Id (`id` in v2beta).
    pub project_id: String,
    /// Owning organization.
    pub organization_id: String,
    /// Creation.
    #[serde(with = "wire::ts")]
    pub creation_date: Timestamp,
    /// Last change.
    #[serde(with = "wire::ts")]
    pub change_date: Timestamp,
    /// Name.
    pub name: String,
    /// State.
    pub state: WireProjectState,
    /// Roles asserted in tokens.
    pub project_role_assertion: bool,
    /// Authorization required (`projectRoleCheck` in v2beta).
    pub authorization_required: bool,
    /// Project access required (`hasProjectCheck` in v2beta).
    pub project_access_required: bool,
    /// Not stored by Tessera.
    pub private_labeling_setting: PrivateLabelingSetting,
}

impl WireProject {
    /// The wire form of a project.
    #[must_use]
    pub fn from_domain(p: &Project) -> Self {
        Self {
            project_id: p.id.to_string(),
            organization_id: p.org_id.to_string(),
            creation_date: p.created_at,
            change_date: p.updated_at,
            name: p.name.to_string(),
            state: p.state.into(),
            project_role_assertion: p.role_assertion,
            authorization_required: p.authorization_required,
            project_access_required: p.project_access_required,
            private_labeling_setting: PrivateLabelingSetting::Unspecified,
        }
    }
}

/// `zitadel.project.v2.ProjectRole`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WireProjectRole {
    /// The project.
    pub project_id: String,
    /// Key.
    pub key: String,
    /// Creation.
    #[serde(with = "wire::ts")]
    pub creation_date: Timestamp,
    /// Last change.
    #[serde(with = "wire::ts")]
    pub change_date: Timestamp,
    /// Display name.
    pub display_name: String,
    /// Group.
    pub group: String,
}

impl WireProjectRole {
    fn from_domain(r: &ProjectRole) -> Self {
        Self {
            project_id: r.project_id.to_string(),
            key: r.key.to_string(),
            creation_date: r.created_at,
            change_date: r.updated_at,
            display_name: r.display_name.to_string(),
            group: r.group.clone(),
        }
    }
}

fn project_id(v: &str) -> Result<ProjectId, ServiceError> {
    required_id("projectId", v, ProjectId::parse)
}

// ----------------------------------------------------------------------------
// Projects

/// `CreateProjectRequest`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct CreateProjectRequest {
    /// Owning organization; the caller's when empty.
    pub organization_id: String,
    /// Caller-chosen id (a UUID in Tessera).
    #[serde(alias = "id")]
    pub project_id: String,
    /// Name.
    pub name: String,
    /// Roles asserted in tokens.
    pub project_role_assertion: bool,
    /// Authorization required.
    #[serde(alias = "projectRoleCheck")]
    pub authorization_required: bool,
    /// Project access required.
    #[serde(alias = "hasProjectCheck")]
    pub project_access_required: bool,
    /// Accepted, not stored.
    pub private_labeling_setting: PrivateLabelingSetting,
    /// v2beta's first administrators (not supported: the creator becomes
    /// `PROJECT_OWNER`).
    pub admins: Vec<Value>,
}

/// `CreateProjectResponse`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateProjectResponse {
    /// The new project's id (`id` in v2beta).
    pub project_id: String,
    /// Creation.
    #[serde(with = "wire::ts")]
    pub creation_date: Timestamp,
}

async fn create_project(ctx: Ctx, req: CreateProjectRequest) -> Result<CreateProjectResponse, ApiError> {
    if !req.admins.is_empty() {
        return Err(
            ServiceError::invalid("admins is not supported by Tessera: the creator becomes PROJECT_OWNER").into()
        );
    }
    let org_id = match req.organization_id.trim() {
        "" => None,
        id => Some(required_id("organizationId", id, OrgId::parse)?),
    };
    let id = match req.project_id.trim() {
        "" => None,
        id => Some(
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
    Ok(CreateProjectResponse { project_id: project.id.to_string(), creation_date: project.created_at })
}

/// A request naming one project.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ProjectIdRequest {
    /// The project (`id` in v2beta).
    #[serde(alias = "id")]
    pub project_id: String,
}

/// `GetProjectResponse`.
#[derive(Debug, Serialize)]
pub struct GetProjectResponse {
    /// The project.
    pub project: WireProject,
}

async fn get_project(ctx: Ctx, req: ProjectIdRequest) -> Result<GetProjectResponse, ApiError> {
    let project = projects::get(&ctx, project_id(&req.project_id)?).await?;
    Ok(GetProjectResponse { project: WireProject::from_domain(&project) })
}

/// `ProjectOrganizationIDFilter`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct OrgIdFilter {
    /// The organization (`id` in v2beta).
    #[serde(alias = "id")]
    pub organization_id: String,
    /// `OWNED`, `GRANTED` or `OWNED_OR_GRANTED` (Tessera has owned projects only).
    #[serde(rename = "type")]
    pub kind: Option<String>,
}

/// `ProjectNameFilter`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ProjectNameFilter {
    /// The name.
    pub project_name: String,
    /// How to compare.
    pub method: TextFilterMethod,
}

/// `InIDsFilter`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct InIdsFilter {
    /// The ids.
    pub ids: Vec<String>,
}

/// `ProjectSearchFilter` (v2 and v2beta spellings).
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ProjectSearchFilter {
    /// By ids.
    pub in_project_ids_filter: Option<InIdsFilter>,
    /// By owning organization.
    #[serde(alias = "projectOrganizationIdFilter", alias = "projectResourceOwnerFilter")]
    pub organization_id_filter: Option<OrgIdFilter>,
    /// By name.
    pub project_name_filter: Option<ProjectNameFilter>,
    /// v2beta: projects granted to an organization (none in Tessera).
    pub project_grant_resource_owner_filter: Option<IdFilter>,
}

impl ProjectSearchFilter {
    fn to_domain(&self) -> Result<ProjectFilter, ServiceError> {
        let set = [
            self.in_project_ids_filter.is_some(),
            self.organization_id_filter.is_some(),
            self.project_name_filter.is_some(),
            self.project_grant_resource_owner_filter.is_some(),
        ];
        wire::exactly_one_filter(&set)?;
        let nothing = || ProjectFilter::Ids(Vec::new());
        Ok(if let Some(f) = &self.in_project_ids_filter {
            // Ids that are not UUIDs cannot match anything Tessera stores.
            ProjectFilter::Ids(f.ids.iter().filter_map(|i| ProjectId::parse(i).ok()).collect())
        } else if let Some(f) = &self.organization_id_filter {
            match f.kind.as_deref() {
                Some("GRANTED") => nothing(),
                _ => OrgId::parse(&f.organization_id).map_or_else(|_| nothing(), ProjectFilter::Org),
            }
        } else if let Some(f) = &self.project_name_filter {
            ProjectFilter::Name(text_filter(&f.project_name, f.method, "projectNameFilter.projectName")?)
        } else {
            nothing()
        })
    }
}

/// `ListProjectsRequest`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ListProjectsRequest {
    /// Paging.
    pub pagination: ListQuery,
    /// Order.
    pub sorting_column: ProjectFieldName,
    /// Filters (all must match).
    pub filters: Vec<ProjectSearchFilter>,
}

/// `ListProjectsResponse`.
#[derive(Debug, Serialize)]
pub struct ListProjectsResponse {
    /// Totals.
    pub pagination: PaginationResponse,
    /// The projects.
    pub projects: Vec<WireProject>,
}

async fn list_projects(ctx: Ctx, req: ListProjectsRequest) -> Result<ListProjectsResponse, ApiError> {
    let filters = req.filters.iter().map(ProjectSearchFilter::to_domain).collect::<Result<Vec<_>, _>>()?;
    let sort = match req.sorting_column {
        ProjectFieldName::Unspecified | ProjectFieldName::CreationDate => ProjectSort::CreatedAt,
        ProjectFieldName::Id => ProjectSort::Id,
        ProjectFieldName::ChangeDate => ProjectSort::ChangedAt,
        ProjectFieldName::Name => ProjectSort::Name,
    };
    let page = req.pagination.page();
    let listed = projects::list(&ctx, filters, sort, page).await?;
    Ok(ListProjectsResponse {
        pagination: PaginationResponse { total_result: listed.total, applied_limit: page.limit },
        projects: listed.items.iter().map(WireProject::from_domain).collect(),
    })
}

/// `UpdateProjectRequest`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct UpdateProjectRequest {
    /// The project (`id` in v2beta).
    #[serde(alias = "id")]
    pub project_id: String,
    /// New name.
    pub name: Option<String>,
    /// New `projectRoleAssertion`.
    pub project_role_assertion: Option<bool>,
    /// New `authorizationRequired`.
    #[serde(alias = "projectRoleCheck")]
    pub authorization_required: Option<bool>,
    /// New `projectAccessRequired`.
    #[serde(alias = "hasProjectCheck")]
    pub project_access_required: Option<bool>,
    /// Accepted, not stored.
    pub private_labeling_setting: Option<PrivateLabelingSetting>,
}

async fn update_project(ctx: Ctx, req: UpdateProjectRequest) -> Result<ChangeDateResponse, ApiError> {
    let id = project_id(&req.project_id)?;
    let change = ProjectUpdate {
        name: req.name.as_deref().map(ProjectName::parse).transpose()?,
        role_assertion: req.project_role_assertion,
        authorization_required: req.authorization_required,
        project_access_required: req.project_access_required,
    };
    let project = projects::update(&ctx, id, change).await?;
    Ok(ChangeDateResponse { change_date: project.updated_at })
}

async fn change_state(
    ctx: Ctx,
    req: ProjectIdRequest,
    change: ProjectStateChange,
) -> Result<ChangeDateResponse, ApiError> {
    let project = projects::change_state(&ctx, project_id(&req.project_id)?, change).await?;
    Ok(ChangeDateResponse { change_date: project.updated_at })
}

async fn delete_project(ctx: Ctx, req: ProjectIdRequest) -> Result<DeletionDateResponse, ApiError> {
    projects::delete(&ctx, project_id(&req.project_id)?).await?;
    Ok(DeletionDateResponse { deletion_date: ctx.now() })
}

// ----------------------------------------------------------------------------
// Roles

/// `AddProjectRoleRequest`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct AddProjectRoleRequest {
    /// The project.
    pub project_id: String,
    /// Key.
    pub role_key: String,
    /// Display name.
    pub display_name: String,
    /// Group.
    pub group: Option<String>,
}

/// `AddProjectRoleResponse`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AddProjectRoleResponse {
    /// Creation.
    #[serde(with = "wire::ts")]
    pub creation_date: Timestamp,
}

async fn add_project_role(ctx: Ctx, req: AddProjectRoleRequest) -> Result<AddProjectRoleResponse, ApiError> {
    let project = project_id(&req.project_id)?;
    let key = RoleKey::parse(&req.role_key)?;
    let display_name = DisplayName::parse("displayName", &req.display_name)?;
    let group = parse_group(req.group.as_deref().unwrap_or_default())?;
    let role = projects::add_role(&ctx, project, key, display_name, group).await?;
    Ok(AddProjectRoleResponse { creation_date: role.created_at })
}

/// `ProjectRoleKeyFilter`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RoleKeyFilter {
    /// The key.
    pub key: String,
    /// How to compare.
    pub method: TextFilterMethod,
}

/// `ProjectRoleDisplayNameFilter`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct RoleDisplayNameFilter {
    /// The display name.
    pub display_name: String,
    /// How to compare.
    pub method: TextFilterMethod,
}

/// `ProjectRoleSearchFilter`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ProjectRoleSearchFilter {
    /// By key.
    pub role_key_filter: Option<RoleKeyFilter>,
    /// By display name.
    pub display_name_filter: Option<RoleDisplayNameFilter>,
}

impl ProjectRoleSearchFilter {
    fn to_domain(&self) -> Result<RoleFilter, ServiceError> {
        match (&self.role_key_filter, &self.display_name_filter) {
            (Some(f), None) => Ok(RoleFilter::Key(text_filter(&f.key, f.method, "roleKeyFilter.key")?)),
            (None, Some(f)) => {
                Ok(RoleFilter::DisplayName(text_filter(&f.display_name, f.method, "displayNameFilter.displayName")?))
            }
            _ => Err(wire::one_filter_error()),
        }
    }
}

/// `ListProjectRolesRequest`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ListProjectRolesRequest {
    /// The project.
    pub project_id: String,
    /// Paging.
    pub pagination: ListQuery,
    /// Order.
    pub sorting_column: ProjectRoleFieldName,
    /// Filters (all must match).
    pub filters: Vec<ProjectRoleSearchFilter>,
}

/// `ListProjectRolesResponse`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ListProjectRolesResponse {
    /// Totals.
    pub pagination: PaginationResponse,
    /// The roles.
    pub project_roles: Vec<WireProjectRole>,
}

async fn list_project_roles(ctx: Ctx, req: ListProjectRolesRequest) -> Result<ListProjectRolesResponse, ApiError> {
    let project = project_id(&req.project_id)?;
    let filters = req.filters.iter().map(ProjectRoleSearchFilter::to_domain).collect::<Result<Vec<_>, _>>()?;
    let sort = match req.sorting_column {
        ProjectRoleFieldName::Unspecified | ProjectRoleFieldName::Key => RoleSort::Key,
        ProjectRoleFieldName::CreationDate => RoleSort::CreatedAt,
        ProjectRoleFieldName::ChangeDate => RoleSort::ChangedAt,
    };
    let page = req.pagination.page();
    let listed = projects::list_roles(&ctx, project, filters, sort, page).await?;
    Ok(ListProjectRolesResponse {
        pagination: PaginationResponse { total_result: listed.total, applied_limit: page.limit },
        project_roles: listed.items.iter().map(WireProjectRole::from_domain).collect(),
    })
}

/// `UpdateProjectRoleRequest`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct UpdateProjectRoleRequest {
    /// The project.
    pub project_id: String,
    /// Key.
    pub role_key: String,
    /// New display name.
    pub display_name: Option<String>,
    /// New group.
    pub group: Option<String>,
}

async fn update_project_role(ctx: Ctx, req: UpdateProjectRoleRequest) -> Result<ChangeDateResponse, ApiError> {
    let project = project_id(&req.project_id)?;
    let key = RoleKey::parse(&req.role_key)?;
    let display_name = req.display_name.as_deref().map(|d| DisplayName::parse("displayName", d)).transpose()?;
    let group = req.group.as_deref().map(parse_group).transpose()?;
    let role = projects::update_role(&ctx, project, &key, display_name, group).await?;
    Ok(ChangeDateResponse { change_date: role.updated_at })
}

/// `RemoveProjectRoleRequest`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct RemoveProjectRoleRequest {
    /// The project.
    pub project_id: String,
    /// Key.
    pub role_key: String,
}

/// `RemoveProjectRoleResponse`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RemoveProjectRoleResponse {
    /// When.
    #[serde(with = "wire::ts")]
    pub removal_date: Timestamp,
}

async fn remove_project_role(ctx: Ctx, req: RemoveProjectRoleRequest) -> Result<RemoveProjectRoleResponse, ApiError> {
    let project = project_id(&req.project_id)?;
    let key = RoleKey::parse(&req.role_key)?;
    projects::remove_role(&ctx, project, &key).await?;
    Ok(RemoveProjectRoleResponse { removal_date: ctx.now() })
}

// ----------------------------------------------------------------------------
// Routing

/// Renames the project id of v2 responses to v2beta's `id` (in the project
/// objects of Get/List and in CreateProject's response). v2beta's `Project`
/// already calls the two checks `authorizationRequired` and
/// `projectAccessRequired`; only its requests also know the older names.
fn to_v2beta(method: &str, mut v: Value) -> Value {
    fn project(p: &mut Value) {
        if let Some(o) = p.as_object_mut()
            && let Some(id) = o.remove("projectId")
        {
            o.insert("id".to_owned(), id);
        }
    }
    match method {
        "CreateProject" => project(&mut v),
        "GetProject" => {
            if let Some(p) = v.get_mut("project") {
                project(p);
            }
        }
        "ListProjects" => {
            if let Some(ps) = v.get_mut("projects").and_then(Value::as_array_mut) {
                ps.iter_mut().for_each(project);
            }
        }
        _ => {}
    }
    v
}

/// Dispatches a Connect call; `None` for an unknown method. `v2beta` selects
/// the v2beta spelling of responses.
pub async fn dispatch(method: &str, call: &Call, v2beta: bool) -> Option<Result<Value, ApiError>> {
    let result = match method {
        "CreateProject" => call.run(create_project).await,
        "GetProject" => call.run(get_project).await,
        "ListProjects" => call.run(list_projects).await,
        "UpdateProject" => call.run(update_project).await,
        "DeactivateProject" => call.run(|c, r| change_state(c, r, ProjectStateChange::Deactivate)).await,
        "ActivateProject" => call.run(|c, r| change_state(c, r, ProjectStateChange::Activate)).await,
        "DeleteProject" => call.run(delete_project).await,
        "AddProjectRole" => call.run(add_project_role).await,
        "ListProjectRoles" => call.run(list_project_roles).await,
        "UpdateProjectRole" => call.run(update_project_role).await,
        "RemoveProjectRole" => call.run(remove_project_role).await,
        _ => return None,
    };
    Some(if v2beta { result.map(|v| to_v2beta(method, v)) } else { result })
}
