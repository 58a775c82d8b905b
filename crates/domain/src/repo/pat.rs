//! Personal access tokens: the repository and its list query.

use async_trait::async_trait;

use crate::pat::PersonalAccessToken;
use crate::{OrgId, PatId, Timestamp, UserId};

#[allow(clippy::wildcard_imports, reason = "the sibling modules' types, re-exported by the parent")]
use super::*;

/// A filter on personal access tokens.
#[derive(Debug, Clone, PartialEq)]
pub enum PatFilter {
    /// Tokens of this user.
    User(UserId),
    /// This token.
    Token(PatId),
    /// Tokens of users in this organization.
    Org(OrgId),
    /// By creation time.
    CreatedAt(TimeFilter),
    /// By expiration time.
    ExpiresAt(TimeFilter),
    /// All must match.
    And(Vec<PatFilter>),
    /// Any must match.
    Or(Vec<PatFilter>),
    /// Must not match.
    Not(Box<PatFilter>),
}

/// Sort orders for personal access tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PatSort {
    /// By creation time (and id), the default.
    #[default]
    CreatedAt,
    /// By expiration time.
    ExpiresAt,
    /// By id.
    Id,
    /// By owning user.
    User,
    /// By owning organization.
    Org,
}

/// A personal access token list request.
#[derive(Debug, Clone, PartialEq)]
pub struct PatQuery {
    /// Filters, all of which must match.
    pub filters: Vec<PatFilter>,
    /// Row-level visibility of the caller.
    pub visibility: Visibility,
    /// Order.
    pub sort: PatSort,
    /// Page.
    pub page: Page,
}

/// A personal access token with the organization of its user.
#[derive(Debug, Clone)]
pub struct PatWithOwner {
    /// The token.
    pub pat: PersonalAccessToken,
    /// The organization of the token's user.
    pub org_id: OrgId,
}

/// Personal access tokens.
#[async_trait]
pub trait PatRepository: Send + Sync {
    /// Stores a new token (its digest).
    async fn insert(&self, pat: &PersonalAccessToken) -> RepoResult<()>;
    /// One token with its owner's organization.
    async fn get(&self, id: PatId) -> RepoResult<Option<PatWithOwner>>;
    /// The hot path: a token and its owner's state in one indexed point read.
    async fn find_for_auth(&self, id: PatId) -> RepoResult<Option<(PersonalAccessToken, CredentialOwner)>>;
    /// Removes a token.
    async fn delete(&self, id: PatId) -> RepoResult<()>;
    /// Moves a token's expiration to `at` if it is later (an inactivity
    /// policy disabling it); returns whether it changed. Audited.
    async fn expire(&self, id: PatId, at: Timestamp) -> RepoResult<bool>;
    /// Lists tokens.
    async fn list(&self, query: &PatQuery) -> RepoResult<Listed<PatWithOwner>>;
    /// Records last-use times in one statement per batch. Not audited: it is
    /// bookkeeping, not a change an administrator made.
    async fn record_last_used(&self, uses: &[(PatId, Timestamp)]) -> RepoResult<()>;
}
