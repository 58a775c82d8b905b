//! Authorizations (user grants): the repository, its list query and the role
//! grants tokens carry.

use async_trait::async_trait;

use crate::AuthorizationId;
use crate::authorization::{Authorization, AuthorizationState};
use crate::names::{DisplayName, OrgName, Username};
use crate::project::{ProjectName, RoleKey};
use crate::{OrgId, ProjectId, UserId};

#[allow(clippy::wildcard_imports, reason = "the sibling modules' types, re-exported by the parent")]
use super::*;

/// A role of an authorization with its display fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantedRole {
    /// The key.
    pub key: RoleKey,
    /// The role's display name.
    pub display_name: DisplayName,
    /// The role's group (empty when none).
    pub group: String,
}

/// An authorization with the names a listing shows, read without a query per
/// row.
#[derive(Debug, Clone, PartialEq)]
pub struct AuthorizationView {
    /// The authorization.
    pub authorization: Authorization,
    /// Its roles with their display names, ordered by key.
    pub roles: Vec<GrantedRole>,
    /// The project's name.
    pub project_name: ProjectName,
    /// The organization owning the project.
    pub project_org_id: OrgId,
    /// The name of the organization the authorization was granted in.
    pub org_name: OrgName,
    /// The user's username (its preferred login name in Tessera).
    pub username: Username,
    /// The user's display name (machine name or human display name).
    pub user_display_name: DisplayName,
    /// The user's organization.
    pub user_org_id: OrgId,
}

/// A filter on authorizations.
#[derive(Debug, Clone, PartialEq)]
pub enum AuthorizationFilter {
    /// These authorizations.
    Ids(Vec<AuthorizationId>),
    /// Of any of these users.
    Users(Vec<UserId>),
    /// On this project.
    Project(ProjectId),
    /// Granted in this organization.
    Org(OrgId),
    /// Of users of this organization.
    UserOrg(OrgId),
    /// On projects whose name matches.
    ProjectName(TextFilter),
    /// Holding a role whose key matches.
    RoleKey(TextFilter),
    /// By state.
    State(AuthorizationState),
    /// Of users whose username matches.
    Username(TextFilter),
    /// Of users whose display name matches.
    UserDisplayName(TextFilter),
    /// Matches nothing (e.g. a project grant filter).
    Nothing,
}

/// Sort orders for authorizations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AuthorizationSort {
    /// By creation time (and id), the default.
    #[default]
    CreatedAt,
    /// By time of the last change.
    ChangedAt,
    /// By id.
    Id,
    /// By user.
    User,
    /// By project.
    Project,
    /// By organization.
    Org,
    /// By the user's organization.
    UserOrg,
}

/// An authorization list request.
#[derive(Debug, Clone, PartialEq)]
pub struct AuthorizationQuery {
    /// Filters, all of which must match.
    pub filters: Vec<AuthorizationFilter>,
    /// Row-level visibility of the caller (own authorizations via `own_user`).
    pub visibility: ProjectVisibility,
    /// Order.
    pub sort: AuthorizationSort,
    /// Page.
    pub page: Page,
}

/// One role a user holds, as the role claims need it:
/// `urn:zitadel:iam:org:project:{project_id}:roles` →
/// `{role_key: {org_id: org_name}}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleGrant {
    /// The project.
    pub project_id: ProjectId,
    /// The role.
    pub role_key: RoleKey,
    /// The organization the authorization was granted in.
    pub org_id: OrgId,
    /// Its name.
    pub org_name: OrgName,
}

/// Authorizations (user grants).
#[async_trait]
pub trait AuthorizationRepository: Send + Sync {
    /// Creates an authorization with its roles (`AlreadyExists` when the user
    /// already has one on the project in the organization; `MissingReference`
    /// when the user, project, organization or a role does not exist).
    async fn insert(&self, authorization: &Authorization) -> RepoResult<()>;
    /// One authorization with its names.
    async fn get(&self, id: AuthorizationId) -> RepoResult<Option<AuthorizationView>>;
    /// Inside a transaction: reads the authorization and keeps every other transaction
    /// from changing it until this one ends (`SELECT … FOR UPDATE` on PostgreSQL;
    /// SQLite's one writer connection). A use case reads what it changes this
    /// way (DESIGN.md §7). Outside a transaction it fails.
    async fn lock(&self, id: AuthorizationId) -> RepoResult<Option<AuthorizationView>>;
    /// Writes the columns in which `after` differs from `before` (the row as
    /// [`AuthorizationRepository::lock`] read it), and nothing else.
    async fn update(&self, before: &Authorization, after: &Authorization) -> RepoResult<()>;
    /// Deletes an authorization (`NotFound` when there is none).
    async fn delete(&self, id: AuthorizationId) -> RepoResult<()>;
    /// Lists authorizations (two queries per page: rows, then their roles).
    async fn list(&self, query: &AuthorizationQuery) -> RepoResult<Listed<AuthorizationView>>;
    /// The role claims of `user` on `project`: roles of its active
    /// authorizations on the project, when the project is active. One indexed
    /// query, ordered by role key.
    async fn user_roles_on_project(&self, user: UserId, project: ProjectId) -> RepoResult<Vec<RoleGrant>>;
    /// The role claims of `user` on every active project, ordered by project and
    /// role key. One indexed query.
    async fn user_roles(&self, user: UserId) -> RepoResult<Vec<RoleGrant>>;
}
