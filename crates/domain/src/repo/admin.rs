//! Administrator memberships: the repository and its list query.

use async_trait::async_trait;

use crate::admin::Administrator;
use crate::names::{DisplayName, OrgName, Username};
use crate::permission::{OrgFilter, Scope};
use crate::{AdministratorId, OrgId, ProjectId, UserId};

#[allow(clippy::wildcard_imports, reason = "the sibling modules' types, re-exported by the parent")]
use super::*;

/// A filter on administrator memberships.
#[derive(Debug, Clone, PartialEq)]
pub enum AdminFilter {
    /// Memberships of this user.
    User(UserId),
    /// Memberships of any of these users (none: matches nothing).
    Users(Vec<UserId>),
    /// Memberships of users owned by this organization.
    UserOrg(OrgId),
    /// Memberships on this resource.
    Scope(Scope),
    /// Memberships on any organization.
    AnyOrg,
    /// Memberships holding this role.
    Role(crate::permission::Role),
    /// Memberships of users whose username matches.
    Username(TextFilter),
    /// Memberships of users whose display name (machine name or human display
    /// name) matches.
    DisplayName(TextFilter),
    /// By creation time.
    CreatedAt(TimeFilter),
    /// By time of the last change.
    ChangedAt(TimeFilter),
    /// All must match.
    And(Vec<AdminFilter>),
    /// Any must match.
    Or(Vec<AdminFilter>),
    /// Must not match.
    Not(Box<AdminFilter>),
}

/// Sort orders for administrator memberships.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AdminSort {
    /// By creation time (and id), the default.
    #[default]
    CreatedAt,
    /// By time of the last change.
    ChangedAt,
    /// By user id.
    User,
}

/// Which administrator memberships a caller may see: per kind of resource, the
/// resources whose members it may read, plus its own memberships (ZITADEL needs
/// no permission to list one's own roles).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminVisibility {
    /// Memberships on the instance (`iam.member.read`).
    pub instance: bool,
    /// Memberships on these organizations (`org.member.read`).
    pub orgs: OrgFilter,
    /// Memberships on these projects (`project.member.read`); `None`: on every
    /// project.
    pub projects: Option<Vec<ProjectId>>,
    /// A user whose own memberships are visible regardless of the above.
    pub own_user: Option<UserId>,
}

impl AdminVisibility {
    /// Everything is visible (internal callers).
    #[must_use]
    pub fn all() -> Self {
        Self { instance: true, orgs: OrgFilter::All, projects: None, own_user: None }
    }
}

/// An administrator list request.
#[derive(Debug, Clone, PartialEq)]
pub struct AdminQuery {
    /// Filters, all of which must match.
    pub filters: Vec<AdminFilter>,
    /// Row-level visibility of the caller, applied in the query so that paging
    /// and totals count only visible rows.
    pub visibility: AdminVisibility,
    /// Order.
    pub sort: AdminSort,
    /// Page.
    pub page: Page,
}

/// An administrator membership with the names a listing shows, read in the same
/// query (no look-up per row).
#[derive(Debug, Clone, PartialEq)]
pub struct AdminWithNames {
    /// The membership.
    pub admin: Administrator,
    /// The member's username (Tessera's preferred login name).
    pub username: Username,
    /// The member's display name (machine name or human display name).
    pub display_name: DisplayName,
    /// The member's organization.
    pub user_org_id: OrgId,
    /// For organization scope, the organization's name.
    pub org_name: Option<OrgName>,
}

/// Administrator memberships.
#[async_trait]
pub trait AdministratorRepository: Send + Sync {
    /// Creates a membership (`AlreadyExists` when the user already has one on the
    /// same resource).
    async fn insert(&self, admin: &Administrator) -> RepoResult<()>;
    /// The membership of `user` on `scope`, if any.
    async fn get(&self, user: UserId, scope: Scope) -> RepoResult<Option<Administrator>>;
    /// One membership by id.
    async fn get_by_id(&self, id: AdministratorId) -> RepoResult<Option<Administrator>>;
    /// Every membership of a user (what its permissions are computed from).
    async fn list_for_user(&self, user: UserId) -> RepoResult<Vec<Administrator>>;
    /// Writes back the roles and `updated_at`.
    async fn update(&self, admin: &Administrator) -> RepoResult<()>;
    /// Removes a membership.
    async fn delete(&self, id: AdministratorId) -> RepoResult<()>;
    /// Lists memberships with their member's and organization's names.
    async fn list(&self, query: &AdminQuery) -> RepoResult<Listed<AdminWithNames>>;
}
