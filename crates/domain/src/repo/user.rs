//! Users: the repository and its list query.

use async_trait::async_trait;

use crate::user::{User, UserState};
use crate::{OrgId, UserId};

#[allow(clippy::wildcard_imports, reason = "the sibling modules' types, re-exported by the parent")]
use super::*;

/// Machine or human, for filtering.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserType {
    /// Machine users.
    Machine,
    /// Human users.
    Human,
}

/// A filter on users; the leaves match columns, the branches combine.
#[derive(Debug, Clone, PartialEq)]
pub enum UserFilter {
    /// By username.
    Username(TextFilter),
    /// By display name (machine name or human display name).
    DisplayName(TextFilter),
    /// By given name (humans only).
    GivenName(TextFilter),
    /// By family name (humans only).
    FamilyName(TextFilter),
    /// By e-mail address (humans only).
    Email(TextFilter),
    /// By kind.
    Type(UserType),
    /// By state.
    State(UserState),
    /// By owning organization.
    Org(OrgId),
    /// By id.
    Ids(Vec<UserId>),
    /// All must match.
    And(Vec<UserFilter>),
    /// Any must match.
    Or(Vec<UserFilter>),
    /// Must not match.
    Not(Box<UserFilter>),
}

/// Sort orders for users.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UserSort {
    /// By creation time (and id), the default.
    #[default]
    CreatedAt,
    /// By username.
    Username,
    /// By display name.
    DisplayName,
    /// By given name.
    GivenName,
    /// By family name.
    FamilyName,
    /// By e-mail address.
    Email,
    /// By state.
    State,
    /// By kind.
    Type,
}

/// A user list request.
#[derive(Debug, Clone, PartialEq)]
pub struct UserQuery {
    /// Filters, all of which must match.
    pub filters: Vec<UserFilter>,
    /// Row-level visibility of the caller.
    pub visibility: Visibility,
    /// Order.
    pub sort: UserSort,
    /// Page.
    pub page: Page,
}

/// Users.
#[async_trait]
pub trait UserRepository: Send + Sync {
    /// Creates a user (`AlreadyExists` on a username taken in the organization).
    async fn insert(&self, user: &User) -> RepoResult<()>;
    /// One user by id.
    async fn get(&self, id: UserId) -> RepoResult<Option<User>>;
    /// One user by organization and username (case-insensitive).
    async fn find_by_username(&self, org: OrgId, username: &str) -> RepoResult<Option<User>>;
    /// Users with this username (case-insensitive) in any organization.
    async fn find_by_username_anywhere(&self, username: &str) -> RepoResult<Vec<User>>;
    /// The state of a user and its organization in one point read: what a
    /// credential check needs when the credential itself carries the user id
    /// (JWT access tokens).
    async fn owner(&self, id: UserId) -> RepoResult<Option<CredentialOwner>>;
    /// Inside a transaction: reads the user and keeps every other transaction
    /// from changing it until this one ends (`SELECT … FOR UPDATE` on PostgreSQL;
    /// SQLite's one writer connection). A use case reads what it changes this
    /// way (DESIGN.md §7). Outside a transaction it fails.
    async fn lock(&self, id: UserId) -> RepoResult<Option<User>>;
    /// Writes the columns in which `after` differs from `before` (the row as
    /// [`UserRepository::lock`] read it), and nothing else.
    async fn update(&self, before: &User, after: &User) -> RepoResult<()>;
    /// Deletes a user and, by cascade, its credentials and memberships.
    async fn delete(&self, id: UserId) -> RepoResult<()>;
    /// Lists users.
    async fn list(&self, query: &UserQuery) -> RepoResult<Listed<User>>;
}
