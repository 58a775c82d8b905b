//! Projects and their roles: the repository and its list queries.

use async_trait::async_trait;

use crate::permission::OrgFilter;
use crate::project::{Project, ProjectRole, ProjectState, RoleKey};
use crate::{OrgId, ProjectId, UserId};

#[allow(clippy::wildcard_imports, reason = "the sibling modules' types, re-exported by the parent")]
use super::*;

/// Which project-owned rows (projects, their roles, applications, keys and
/// authorizations) a caller may see: those of projects in the organizations a
/// permission covers, those of the projects it covers through project roles,
/// and optionally the caller's own (its authorizations).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectVisibility {
    /// Organizations whose projects are visible.
    pub orgs: OrgFilter,
    /// Further projects that are visible.
    pub projects: Vec<ProjectId>,
    /// A user whose own rows are visible regardless of the above (only
    /// authorizations have an owning user).
    pub own_user: Option<UserId>,
}

impl ProjectVisibility {
    /// Everything is visible (internal callers).
    #[must_use]
    pub fn all() -> Self {
        Self { orgs: OrgFilter::All, projects: Vec::new(), own_user: None }
    }
}

/// A filter on projects.
#[derive(Debug, Clone, PartialEq)]
pub enum ProjectFilter {
    /// By name.
    Name(TextFilter),
    /// By owning organization.
    Org(OrgId),
    /// By id.
    Ids(Vec<ProjectId>),
    /// By state.
    State(ProjectState),
}

/// Sort orders for projects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ProjectSort {
    /// By creation time (and id), the default.
    #[default]
    CreatedAt,
    /// By time of the last change.
    ChangedAt,
    /// By name.
    Name,
    /// By id.
    Id,
}

/// A project list request.
#[derive(Debug, Clone, PartialEq)]
pub struct ProjectQuery {
    /// Filters, all of which must match.
    pub filters: Vec<ProjectFilter>,
    /// Row-level visibility of the caller.
    pub visibility: ProjectVisibility,
    /// Order.
    pub sort: ProjectSort,
    /// Page.
    pub page: Page,
}

/// A filter on the roles of one project.
#[derive(Debug, Clone, PartialEq)]
pub enum RoleFilter {
    /// By key.
    Key(TextFilter),
    /// By display name.
    DisplayName(TextFilter),
    /// Any of these keys exactly.
    Keys(Vec<RoleKey>),
}

/// Sort orders for project roles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RoleSort {
    /// By key, the default.
    #[default]
    Key,
    /// By creation time.
    CreatedAt,
    /// By time of the last change.
    ChangedAt,
}

/// A project role list request (the caller's permission on the project is
/// checked before).
#[derive(Debug, Clone, PartialEq)]
pub struct RoleQuery {
    /// The project.
    pub project: ProjectId,
    /// Filters, all of which must match.
    pub filters: Vec<RoleFilter>,
    /// Order.
    pub sort: RoleSort,
    /// Page.
    pub page: Page,
}

/// Projects and their roles.
#[async_trait]
pub trait ProjectRepository: Send + Sync {
    /// Creates a project (`AlreadyExists` on a name taken in the organization,
    /// `MissingReference` when the organization does not exist).
    async fn insert(&self, project: &Project) -> RepoResult<()>;
    /// One project by id.
    async fn get(&self, id: ProjectId) -> RepoResult<Option<Project>>;
    /// Inside a transaction: reads the project and keeps every other transaction
    /// from changing it until this one ends (`SELECT … FOR UPDATE` on PostgreSQL;
    /// SQLite's one writer connection). A use case reads what it changes this
    /// way (DESIGN.md §7). Outside a transaction it fails.
    async fn lock(&self, id: ProjectId) -> RepoResult<Option<Project>>;
    /// Writes the columns in which `after` differs from `before` (the row as
    /// [`ProjectRepository::lock`] read it), and nothing else.
    async fn update(&self, before: &Project, after: &Project) -> RepoResult<()>;
    /// Deletes a project and, by cascade, its roles, applications (with their
    /// keys), authorizations and administrator memberships.
    async fn delete(&self, id: ProjectId) -> RepoResult<()>;
    /// Lists projects.
    async fn list(&self, query: &ProjectQuery) -> RepoResult<Listed<Project>>;
    /// Adds a role (`AlreadyExists` when the key is taken in the project).
    async fn insert_role(&self, role: &ProjectRole) -> RepoResult<()>;
    /// One role by project and key.
    async fn get_role(&self, project: ProjectId, key: &RoleKey) -> RepoResult<Option<ProjectRole>>;
    /// Writes the columns (display name, group, `updated_at`) in which `after`
    /// differs from `before`.
    async fn update_role(&self, before: &ProjectRole, after: &ProjectRole) -> RepoResult<()>;
    /// Removes a role and, by cascade, takes it out of every authorization
    /// (`NotFound` when there is none).
    async fn delete_role(&self, project: ProjectId, key: &RoleKey) -> RepoResult<()>;
    /// Lists the roles of a project.
    async fn list_roles(&self, query: &RoleQuery) -> RepoResult<Listed<ProjectRole>>;
}
