//! Organizations and the instance: the repositories and the organization list query.

use async_trait::async_trait;

use crate::OrgId;
use crate::instance::Instance;
use crate::org::{OrgState, Organization};
use crate::permission::OrgFilter;

#[allow(clippy::wildcard_imports, reason = "the sibling modules' types, re-exported by the parent")]
use super::*;

/// A filter on organizations.
#[derive(Debug, Clone, PartialEq)]
pub enum OrgQueryFilter {
    /// By name.
    Name(TextFilter),
    /// By state.
    State(OrgState),
    /// By id.
    Ids(Vec<OrgId>),
    /// All must match.
    And(Vec<OrgQueryFilter>),
    /// Any must match.
    Or(Vec<OrgQueryFilter>),
    /// Must not match.
    Not(Box<OrgQueryFilter>),
}

/// Sort orders for organizations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OrgSort {
    /// By creation time (and id), the default.
    #[default]
    CreatedAt,
    /// By name.
    Name,
}

/// An organization list request.
#[derive(Debug, Clone, PartialEq)]
pub struct OrgQuery {
    /// Filters, all of which must match.
    pub filters: Vec<OrgQueryFilter>,
    /// Organizations the caller may see.
    pub visible: OrgFilter,
    /// Order.
    pub sort: OrgSort,
    /// Page.
    pub page: Page,
}

/// The single instance row.
#[async_trait]
pub trait InstanceRepository: Send + Sync {
    /// The instance, once bootstrapped.
    async fn get(&self) -> RepoResult<Option<Instance>>;
    /// Creates the instance; fails with `AlreadyExists` when there is one.
    async fn insert(&self, instance: &Instance) -> RepoResult<()>;
}

/// Organizations.
#[async_trait]
pub trait OrgRepository: Send + Sync {
    /// Creates an organization (`AlreadyExists` on a taken name).
    async fn insert(&self, org: &Organization) -> RepoResult<()>;
    /// One organization by id.
    async fn get(&self, id: OrgId) -> RepoResult<Option<Organization>>;
    /// Inside a transaction: reads the organization and keeps every other transaction
    /// from changing it until this one ends (`SELECT … FOR UPDATE` on PostgreSQL;
    /// SQLite's one writer connection). A use case reads what it changes this
    /// way (DESIGN.md §7). Outside a transaction it fails.
    async fn lock(&self, id: OrgId) -> RepoResult<Option<Organization>>;
    /// Writes the columns in which `after` differs from `before` (the row as
    /// [`OrgRepository::lock`] read it), and nothing else.
    async fn update(&self, before: &Organization, after: &Organization) -> RepoResult<()>;
    /// Deletes an organization and, by cascade, everything it owns.
    async fn delete(&self, id: OrgId) -> RepoResult<()>;
    /// Lists organizations.
    async fn list(&self, query: &OrgQuery) -> RepoResult<Listed<Organization>>;
}
