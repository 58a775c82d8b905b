//! API applications and their keys: the repository, its list queries and
//! what client authentication reads.

use async_trait::async_trait;

use crate::application::{AppKey, AppState, Application};
use crate::org::OrgState;
use crate::project::ProjectState;
use crate::{AppKeyId, ApplicationId};
use crate::{OrgId, ProjectId};

#[allow(clippy::wildcard_imports, reason = "the sibling modules' types, re-exported by the parent")]
use super::*;

/// An application with the organization of its project.
#[derive(Debug, Clone)]
pub struct AppWithOwner {
    /// The application.
    pub app: Application,
    /// The organization owning its project.
    pub org_id: OrgId,
}

/// What client authentication of an API application needs, read in one indexed
/// point read: the application (with its secret digest), the state of its
/// project and of the project's organization.
#[derive(Debug, Clone)]
pub struct AppForAuth {
    /// The application, including `secret_digest` and `state`.
    pub app: Application,
    /// The state of its project.
    pub project_state: ProjectState,
    /// The organization owning the project.
    pub org_id: OrgId,
    /// That organization's state.
    pub org_state: OrgState,
}

impl AppForAuth {
    /// Whether the application may authenticate right now: it, its project and
    /// its organization all active.
    #[must_use]
    pub fn is_active(&self) -> bool {
        self.app.state == AppState::Active
            && self.project_state == ProjectState::Active
            && self.org_state == OrgState::Active
    }
}

/// A key of an API application with what `private_key_jwt` needs to check an
/// assertion signed with it, read in one indexed point read.
#[derive(Debug, Clone)]
pub struct AppKeyForAuth {
    /// The key (public half, expiry).
    pub key: AppKey,
    /// Its application and that application's project and organization state.
    pub app: AppForAuth,
}

/// A filter on applications.
#[derive(Debug, Clone, PartialEq)]
pub enum AppFilter {
    /// By project.
    Project(ProjectId),
    /// By name.
    Name(TextFilter),
    /// By client id, exactly.
    ClientId(String),
    /// By state.
    State(AppState),
    /// Matches nothing (e.g. a filter for application types Tessera lacks).
    Nothing,
}

/// Sort orders for applications.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AppSort {
    /// By creation time (and id), the default.
    #[default]
    CreatedAt,
    /// By time of the last change.
    ChangedAt,
    /// By name.
    Name,
    /// By state.
    State,
    /// By id.
    Id,
}

/// An application list request.
#[derive(Debug, Clone, PartialEq)]
pub struct AppQuery {
    /// Filters, all of which must match.
    pub filters: Vec<AppFilter>,
    /// Row-level visibility of the caller.
    pub visibility: ProjectVisibility,
    /// Order.
    pub sort: AppSort,
    /// Page.
    pub page: Page,
}

/// An application key with its owners.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppKeyWithOwner {
    /// The key.
    pub key: AppKey,
    /// The application's project.
    pub project_id: ProjectId,
    /// The organization owning the project.
    pub org_id: OrgId,
}

/// A filter on application keys.
#[derive(Debug, Clone, PartialEq)]
pub enum AppKeyFilter {
    /// Keys of this application.
    App(ApplicationId),
    /// Keys of applications of this project.
    Project(ProjectId),
    /// Keys of applications of projects of this organization.
    Org(OrgId),
}

/// Sort orders for application keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AppKeySort {
    /// By creation time (and id), the default.
    #[default]
    CreatedAt,
    /// By id.
    Id,
    /// By application.
    App,
    /// By project.
    Project,
    /// By organization.
    Org,
    /// By expiration.
    ExpiresAt,
}

/// An application key list request.
#[derive(Debug, Clone, PartialEq)]
pub struct AppKeyQuery {
    /// Filters, all of which must match.
    pub filters: Vec<AppKeyFilter>,
    /// Row-level visibility of the caller.
    pub visibility: ProjectVisibility,
    /// Order.
    pub sort: AppKeySort,
    /// Page.
    pub page: Page,
}

/// API applications and their keys.
#[async_trait]
pub trait ApplicationRepository: Send + Sync {
    /// Creates an application (`AlreadyExists` on a name taken in the project or
    /// a taken client id).
    async fn insert(&self, app: &Application) -> RepoResult<()>;
    /// One application with its organization.
    async fn get(&self, id: ApplicationId) -> RepoResult<Option<AppWithOwner>>;
    /// Inside a transaction: reads the application and keeps every other transaction
    /// from changing it until this one ends (`SELECT … FOR UPDATE` on PostgreSQL;
    /// SQLite's one writer connection). A use case reads what it changes this
    /// way (DESIGN.md §7). Outside a transaction it fails.
    async fn lock(&self, id: ApplicationId) -> RepoResult<Option<AppWithOwner>>;
    /// Writes the columns in which `after` differs from `before` (the row as
    /// [`ApplicationRepository::lock`] read it), and nothing else.
    async fn update(&self, before: &Application, after: &Application) -> RepoResult<()>;
    /// Deletes an application and, by cascade, its keys.
    async fn delete(&self, id: ApplicationId) -> RepoResult<()>;
    /// Lists applications.
    async fn list(&self, query: &AppQuery) -> RepoResult<Listed<AppWithOwner>>;
    /// The introspection hot path: the application with this `client_id`, its
    /// secret digest, and the state of its project and organization, in one
    /// indexed point read.
    async fn find_for_auth(&self, client_id: &str) -> RepoResult<Option<AppForAuth>>;
    /// Stores a new key (`MissingReference` when the application does not exist).
    async fn insert_key(&self, key: &AppKey) -> RepoResult<()>;
    /// One key with its owners.
    async fn get_key(&self, id: AppKeyId) -> RepoResult<Option<AppKeyWithOwner>>;
    /// Removes a key (`NotFound` when there is none).
    async fn delete_key(&self, id: AppKeyId) -> RepoResult<()>;
    /// Lists keys.
    async fn list_keys(&self, query: &AppKeyQuery) -> RepoResult<Listed<AppKeyWithOwner>>;
    /// The `private_key_jwt` hot path: a key (the assertion's `kid`) with its
    /// application and the state of everything above it, in one indexed point
    /// read. Expired keys are returned too; the caller checks `expires_at`.
    async fn find_key_for_auth(&self, id: AppKeyId) -> RepoResult<Option<AppKeyForAuth>>;
}
