//! What every repository shares: the storage error, pagination, text and
//! time filters, row visibility and the owner of a credential.

use std::borrow::Cow;
use std::error::Error as StdError;

use crate::org::OrgState;
use crate::permission::OrgFilter;
use crate::user::UserState;
use crate::{OrgId, Timestamp, UserId};

/// A failure of the storage layer.
#[derive(Debug, thiserror::Error)]
pub enum RepoError {
    /// The addressed row does not exist.
    #[error("{entity} not found")]
    NotFound {
        /// What was looked for, e.g. `user`.
        entity: &'static str,
    },
    /// A uniqueness rule was violated (e.g. a username taken in the organization).
    #[error("{entity} already exists: {detail}")]
    AlreadyExists {
        /// What could not be created, e.g. `user`.
        entity: &'static str,
        /// Which rule, in words an API client can act on.
        detail: Cow<'static, str>,
    },
    /// A row refers to another that does not exist (e.g. a user in a deleted
    /// organization).
    #[error("{entity} refers to a missing object")]
    MissingReference {
        /// What could not be written.
        entity: &'static str,
    },
    /// A transaction wrote data but appended no audit event; it was rolled back.
    #[error("a change was attempted without an audit event")]
    Unaudited,
    /// A stored row does not satisfy the domain's invariants.
    #[error("stored data is invalid: {0}")]
    Corrupt(String),
    /// The database could not be reached or answered with an error.
    #[error("database error")]
    Database(#[source] Box<dyn StdError + Send + Sync>),
    /// The database cannot be used now but may be soon: it is unreachable, its
    /// connection was lost, no connection came free in time, or its storage is
    /// read-only or full. Nothing was written (a transaction is all or nothing).
    #[error("database unavailable")]
    Unavailable(#[source] Box<dyn StdError + Send + Sync>),
}

/// Short alias for repository results.
pub type RepoResult<T> = Result<T, RepoError>;

/// Which engine a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// The embedded default.
    Sqlite,
    /// The scale-out engine.
    Postgres,
}

/// Offset pagination with a stable order, as ZITADEL's list requests have it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    /// Rows to skip.
    pub offset: u64,
    /// Rows to return at most.
    pub limit: u64,
    /// Ascending (`true`) or descending order.
    pub asc: bool,
}

impl Page {
    /// Default and maximum page size (ZITADEL's `ListQuery` limit default is 100,
    /// its hard maximum 1000).
    pub const DEFAULT_LIMIT: u64 = 100;
    /// The largest page a client may ask for.
    pub const MAX_LIMIT: u64 = 1000;
    /// The largest offset a client may ask for: far beyond any table Tessera
    /// holds, and well inside the signed 64-bit integers SQL binds (a larger one
    /// made the SQLite binding panic). Larger offsets are `invalid_argument`.
    pub const MAX_OFFSET: u64 = 1_000_000_000;

    /// The page a list request asks for: a limit of 0 is the default, a larger
    /// one than [`Page::MAX_LIMIT`] is capped (ZITADEL's `ListQuery` rules).
    /// The offset is the caller's to bound ([`Page::MAX_OFFSET`]).
    #[must_use]
    pub fn requested(offset: u64, limit: u64, asc: bool) -> Self {
        let limit = if limit == 0 { Self::DEFAULT_LIMIT } else { limit.min(Self::MAX_LIMIT) };
        Self { offset, limit, asc }
    }
}

impl Default for Page {
    fn default() -> Self {
        Self { offset: 0, limit: Self::DEFAULT_LIMIT, asc: true }
    }
}

/// One page of results and the total number of matches.
#[derive(Debug, Clone, PartialEq)]
pub struct Listed<T> {
    /// The rows of this page.
    pub items: Vec<T>,
    /// How many rows match the filter in all.
    pub total: u64,
}

/// How a text filter compares (ZITADEL's `TextQueryMethod`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TextMethod {
    /// Exact match.
    #[default]
    Equals,
    /// Exact match ignoring case.
    EqualsIgnoreCase,
    /// Prefix.
    StartsWith,
    /// Prefix ignoring case.
    StartsWithIgnoreCase,
    /// Substring.
    Contains,
    /// Substring ignoring case.
    ContainsIgnoreCase,
    /// Suffix.
    EndsWith,
    /// Suffix ignoring case.
    EndsWithIgnoreCase,
}

/// A text filter: value and comparison.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextFilter {
    /// The text to compare with.
    pub value: String,
    /// How to compare.
    pub method: TextMethod,
}

/// How a timestamp filter compares (ZITADEL's `TimestampFilterMethod`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeFilter {
    /// Exactly at.
    Equals(Timestamp),
    /// Strictly before.
    Before(Timestamp),
    /// At or before.
    AtOrBefore(Timestamp),
    /// Strictly after.
    After(Timestamp),
    /// At or after.
    AtOrAfter(Timestamp),
}

/// Which rows a caller may see: the organizations a permission covers, plus
/// optionally the caller's own row (a user may always read itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Visibility {
    /// Organizations whose rows are visible.
    pub orgs: OrgFilter,
    /// A user whose own rows are visible regardless of `orgs`.
    pub own_user: Option<UserId>,
}

impl Visibility {
    /// Everything is visible (internal callers such as the bootstrap).
    #[must_use]
    pub fn all() -> Self {
        Self { orgs: OrgFilter::All, own_user: None }
    }
}

/// What every credential check needs to know about the credential's owner,
/// fetched in the same point read as the credential itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialOwner {
    /// The user.
    pub user_id: UserId,
    /// Its state.
    pub user_state: UserState,
    /// Whether it is a machine user.
    pub is_machine: bool,
    /// Its organization.
    pub org_id: OrgId,
    /// The organization's state.
    pub org_state: OrgState,
}

impl CredentialOwner {
    /// Whether the owner may use credentials right now: user and organization
    /// both active (DESIGN.md §4).
    #[must_use]
    pub fn is_active(&self) -> bool {
        self.user_state == UserState::Active && self.org_state == OrgState::Active
    }
}
