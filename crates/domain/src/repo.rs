//! Repository traits (ports). The persistence crate implements them for SQLite and
//! PostgreSQL; handlers only ever see these traits.
//!
//! Writes happen inside a [`Transaction`], which refuses to commit a change that
//! did not append an [`AuditEvent`] (DESIGN.md §5). Reads may run on the [`Store`]
//! directly, outside any transaction, which is what the hot paths do.

use std::borrow::Cow;
use std::error::Error as StdError;
use std::sync::Arc;

use async_trait::async_trait;

use crate::access_token::{AccessToken, RevokedJwt, UsedJti};
use crate::admin::Administrator;
use crate::application::{AppKey, AppState, Application};
use crate::audit::AuditEvent;
use crate::authorization::{Authorization, AuthorizationState};
use crate::cache::Epoch;
use crate::console_session::ConsoleSession;
use crate::instance::Instance;
use crate::machine_key::MachineKey;
use crate::machine_secret::MachineSecret;
use crate::names::{DisplayName, OrgName, Username};
use crate::org::{OrgState, Organization};
use crate::pat::PersonalAccessToken;
use crate::permission::{OrgFilter, Scope};
use crate::project::{Project, ProjectName, ProjectRole, ProjectState, RoleKey};
use crate::signing_key::{SealedPrivateKey, SigningKey};
use crate::user::{User, UserState};
use crate::{
    AccessTokenId, AdministratorId, ConsoleSessionId, KeyId, OrgId, PatId, ProjectId, SecretId, SigningKeyId,
    Timestamp, UserId,
};
use crate::{AppKeyId, ApplicationId, AuthorizationId};

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
    /// Writes back name, state, policy and `updated_at`.
    async fn update(&self, org: &Organization) -> RepoResult<()>;
    /// Deletes an organization and, by cascade, everything it owns.
    async fn delete(&self, id: OrgId) -> RepoResult<()>;
    /// Lists organizations.
    async fn list(&self, query: &OrgQuery) -> RepoResult<Listed<Organization>>;
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
    /// Writes back every mutable field and `updated_at`.
    async fn update(&self, user: &User) -> RepoResult<()>;
    /// Deletes a user and, by cascade, its credentials and memberships.
    async fn delete(&self, id: UserId) -> RepoResult<()>;
    /// Lists users.
    async fn list(&self, query: &UserQuery) -> RepoResult<Listed<User>>;
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
    /// Lists tokens.
    async fn list(&self, query: &PatQuery) -> RepoResult<Listed<PatWithOwner>>;
    /// Records last-use times in one statement per batch. Not audited: it is
    /// bookkeeping, not a change an administrator made.
    async fn record_last_used(&self, uses: &[(PatId, Timestamp)]) -> RepoResult<()>;
}

/// A filter on machine keys (ZITADEL's `KeysSearchFilter`).
#[derive(Debug, Clone, PartialEq)]
pub enum KeyFilter {
    /// Keys of this user.
    User(UserId),
    /// This key.
    Key(KeyId),
    /// Keys of users in this organization.
    Org(OrgId),
    /// By creation time.
    CreatedAt(TimeFilter),
    /// By expiration time.
    ExpiresAt(TimeFilter),
    /// All must match.
    And(Vec<KeyFilter>),
    /// Any must match.
    Or(Vec<KeyFilter>),
    /// Must not match.
    Not(Box<KeyFilter>),
}

/// Sort orders for machine keys (ZITADEL's `KeyFieldName`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum KeySort {
    /// By creation time (and id), the default.
    #[default]
    CreatedAt,
    /// By id.
    Id,
    /// By owning user.
    User,
    /// By owning organization.
    Org,
    /// By expiration time.
    ExpiresAt,
}

/// A machine key list request.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyQuery {
    /// Filters, all of which must match.
    pub filters: Vec<KeyFilter>,
    /// Row-level visibility of the caller.
    pub visibility: Visibility,
    /// Order.
    pub sort: KeySort,
    /// Page.
    pub page: Page,
}

/// A machine key with the organization of its user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MachineKeyWithOwner {
    /// The key.
    pub key: MachineKey,
    /// The organization of the key's user.
    pub org_id: OrgId,
}

/// What the JWT Profile grant needs to check an assertion for a user: the
/// user's state and all its registered keys, read together.
#[derive(Debug, Clone)]
pub struct KeysForAuth {
    /// The user and its organization's state.
    pub owner: CredentialOwner,
    /// Every key of the user, expired ones included (the assertion check tells an
    /// expired key from an unknown one).
    pub keys: Vec<MachineKey>,
}

/// What the client credentials grant needs to check a secret: the secret, its
/// owner's state and the owner's username (the `client_id` of a machine user).
#[derive(Debug, Clone)]
pub struct SecretForAuth {
    /// The secret, current or superseded.
    pub secret: MachineSecret,
    /// The user and its organization's state.
    pub owner: CredentialOwner,
    /// The user's username, which a client must send as `client_id`.
    pub username: Username,
}

/// Public keys of machine users (JWT Profile).
#[async_trait]
pub trait MachineKeyRepository: Send + Sync {
    /// Stores a new key (`MissingReference` when the user does not exist).
    async fn insert(&self, key: &MachineKey) -> RepoResult<()>;
    /// One key with its owner's organization.
    async fn get(&self, id: KeyId) -> RepoResult<Option<MachineKeyWithOwner>>;
    /// The token endpoint's read: the user's state and all its keys in one
    /// indexed query. `None` when the user does not exist.
    async fn find_for_auth(&self, user: UserId) -> RepoResult<Option<KeysForAuth>>;
    /// Removes a key (`NotFound` when there is none).
    async fn delete(&self, id: KeyId) -> RepoResult<()>;
    /// Lists keys.
    async fn list(&self, query: &KeyQuery) -> RepoResult<Listed<MachineKeyWithOwner>>;
}

/// Client secrets of machine users (client credentials).
#[async_trait]
pub trait MachineSecretRepository: Send + Sync {
    /// Makes `secret` the user's current secret. The previous current secret is
    /// marked superseded at `secret.created_at` (it stays valid for the configured
    /// overlap); secrets superseded earlier than that are deleted, so a user has
    /// at most two secrets: the current one and the one it replaced.
    async fn rotate(&self, secret: &MachineSecret) -> RepoResult<()>;
    /// The hot path: a secret, its owner's state and username in one point read.
    async fn find_for_auth(&self, id: SecretId) -> RepoResult<Option<SecretForAuth>>;
    /// The user's secrets, newest first.
    async fn list_for_user(&self, user: UserId) -> RepoResult<Vec<MachineSecret>>;
    /// Removes every secret of the user (ZITADEL's `RemoveSecret`); returns how
    /// many there were.
    async fn delete_for_user(&self, user: UserId) -> RepoResult<u64>;
    /// Which of `users` have a current (not superseded) secret: the `hasSecret`
    /// of ZITADEL's machine user, for a whole page of users in one query.
    async fn users_with_secret(&self, users: &[UserId]) -> RepoResult<Vec<UserId>>;
}

/// Instance signing keys.
#[async_trait]
pub trait SigningKeyRepository: Send + Sync {
    /// Stores a new key. Fails with `AlreadyExists` when a key with the same
    /// `sign_from` exists: two nodes that plan the same rotation at once create
    /// only one key.
    async fn insert(&self, key: &SigningKey) -> RepoResult<()>;
    /// Every key, ordered by `sign_from`.
    async fn list(&self) -> RepoResult<Vec<SigningKey>>;
    /// Removes a retired key (`NotFound` when there is none).
    async fn delete(&self, id: SigningKeyId) -> RepoResult<()>;
    /// Replaces a key's sealed private half (master key rotation); `NotFound`
    /// when there is no such key. An audited write.
    async fn reseal(&self, id: SigningKeyId, sealed: &SealedPrivateKey) -> RepoResult<()>;
}

/// Opaque access tokens.
#[async_trait]
pub trait AccessTokenRepository: Send + Sync {
    /// Stores a new token (its digest). An audited write: issuing a credential is
    /// a change the audit trail records.
    async fn insert(&self, token: &AccessToken) -> RepoResult<()>;
    /// Stores several new tokens in one statement (group commit).
    async fn insert_many(&self, tokens: &[AccessToken]) -> RepoResult<()>;
    /// The hot path: a token and its owner's state in one indexed point read.
    async fn find_for_auth(&self, id: AccessTokenId) -> RepoResult<Option<(AccessToken, CredentialOwner)>>;
    /// Revokes a token (`NotFound` when there is none).
    async fn delete(&self, id: AccessTokenId) -> RepoResult<()>;
    /// Deletes tokens that expired before `before`; returns how many. Not
    /// audited: housekeeping, not a change an administrator made.
    async fn purge_expired(&self, before: Timestamp) -> RepoResult<u64>;
}

/// Revoked JWT access tokens.
#[async_trait]
pub trait RevokedJwtRepository: Send + Sync {
    /// Records a revocation. Idempotent: revoking a revoked token succeeds.
    async fn insert(&self, revoked: &RevokedJwt) -> RepoResult<()>;
    /// Whether the token with `jti` is revoked.
    async fn is_revoked(&self, jti: &str) -> RepoResult<bool>;
    /// Forgets revocations of tokens that expired before `before`. Not audited.
    async fn purge_expired(&self, before: Timestamp) -> RepoResult<u64>;
}

/// Assertion `jti`s already used (RFC 7523 §3 item 7).
#[async_trait]
pub trait UsedJtiRepository: Send + Sync {
    /// Records a use of `used.jti()` by `used.issuer()`. Returns `true` on the
    /// first use and `false` on a replay: a record for the same issuer and `jti`
    /// that has not expired at `now`. An expired record is replaced. Not audited
    /// (bookkeeping, like last-use times), but only allowed in a transaction. A
    /// replay is an ordinary `false`, not a constraint violation, so it does not
    /// abort a PostgreSQL transaction.
    async fn record(&self, used: &UsedJti, now: Timestamp) -> RepoResult<bool>;
    /// Forgets records that expired before `before`. Not audited.
    async fn purge_expired(&self, before: Timestamp) -> RepoResult<u64>;
}

/// One metadata entry of a user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetadataEntry {
    /// The key, unique per user (1–200 characters).
    pub key: String,
    /// The value: arbitrary bytes.
    pub value: Vec<u8>,
    /// Creation time.
    pub created_at: Timestamp,
    /// Last change.
    pub updated_at: Timestamp,
}

/// Free-form metadata on users.
#[async_trait]
pub trait MetadataRepository: Send + Sync {
    /// Inserts or overwrites entries; other keys stay untouched.
    async fn set(&self, user: UserId, entries: &[MetadataEntry]) -> RepoResult<()>;
    /// Entries of a user whose key matches `key` (all when `None`), ordered by key.
    async fn list(&self, user: UserId, key: Option<&TextFilter>, page: Page) -> RepoResult<Listed<MetadataEntry>>;
    /// Removes the given keys; returns how many existed.
    async fn delete(&self, user: UserId, keys: &[String]) -> RepoResult<u64>;
}

/// Console login sessions.
#[async_trait]
pub trait ConsoleSessionRepository: Send + Sync {
    /// Stores a new session (its digest). An audited write: the login is recorded.
    async fn insert(&self, session: &ConsoleSession) -> RepoResult<()>;
    /// One session by id: the console's per-request point read.
    async fn get(&self, id: ConsoleSessionId) -> RepoResult<Option<ConsoleSession>>;
    /// Ends a session (logout). Audited; `NotFound` when there is none.
    async fn delete(&self, id: ConsoleSessionId) -> RepoResult<()>;
    /// Deletes sessions that expired before `before`; returns how many. Not
    /// audited: housekeeping.
    async fn purge_expired(&self, before: Timestamp) -> RepoResult<u64>;
}

/// The audit trail.
#[async_trait]
pub trait AuditRepository: Send + Sync {
    /// Appends an event.
    async fn append(&self, event: &AuditEvent) -> RepoResult<()>;
    /// Appends several events in one statement (group commit).
    async fn append_many(&self, events: &[AuditEvent]) -> RepoResult<()>;
    /// The most recent events, newest first.
    async fn recent(&self, limit: u64) -> RepoResult<Vec<AuditEvent>>;
}

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
    /// Writes back name, state, flags and `updated_at`.
    async fn update(&self, project: &Project) -> RepoResult<()>;
    /// Deletes a project and, by cascade, its roles, applications (with their
    /// keys), authorizations and administrator memberships.
    async fn delete(&self, id: ProjectId) -> RepoResult<()>;
    /// Lists projects.
    async fn list(&self, query: &ProjectQuery) -> RepoResult<Listed<Project>>;
    /// Adds a role (`AlreadyExists` when the key is taken in the project).
    async fn insert_role(&self, role: &ProjectRole) -> RepoResult<()>;
    /// One role by project and key.
    async fn get_role(&self, project: ProjectId, key: &RoleKey) -> RepoResult<Option<ProjectRole>>;
    /// Writes back display name, group and `updated_at`.
    async fn update_role(&self, role: &ProjectRole) -> RepoResult<()>;
    /// Removes a role and, by cascade, takes it out of every authorization
    /// (`NotFound` when there is none).
    async fn delete_role(&self, project: ProjectId, key: &RoleKey) -> RepoResult<()>;
    /// Lists the roles of a project.
    async fn list_roles(&self, query: &RoleQuery) -> RepoResult<Listed<ProjectRole>>;
}

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
    /// Writes back name, state, auth method, secret digest and `updated_at`.
    async fn update(&self, app: &Application) -> RepoResult<()>;
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
    /// Writes back roles (replacing them), state and `updated_at`.
    async fn update(&self, authorization: &Authorization) -> RepoResult<()>;
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

/// Access to every repository over one connection or transaction.
pub trait Repos: Send + Sync {
    /// The instance.
    fn instance(&self) -> Box<dyn InstanceRepository + '_>;
    /// Organizations.
    fn orgs(&self) -> Box<dyn OrgRepository + '_>;
    /// Users.
    fn users(&self) -> Box<dyn UserRepository + '_>;
    /// Administrator memberships.
    fn admins(&self) -> Box<dyn AdministratorRepository + '_>;
    /// Personal access tokens.
    fn pats(&self) -> Box<dyn PatRepository + '_>;
    /// User metadata.
    fn metadata(&self) -> Box<dyn MetadataRepository + '_>;
    /// Machine users' public keys.
    fn machine_keys(&self) -> Box<dyn MachineKeyRepository + '_>;
    /// Machine users' client secrets.
    fn machine_secrets(&self) -> Box<dyn MachineSecretRepository + '_>;
    /// Instance signing keys.
    fn signing_keys(&self) -> Box<dyn SigningKeyRepository + '_>;
    /// Opaque access tokens.
    fn access_tokens(&self) -> Box<dyn AccessTokenRepository + '_>;
    /// Revoked JWT access tokens.
    fn revoked_jwts(&self) -> Box<dyn RevokedJwtRepository + '_>;
    /// Used assertion `jti`s.
    fn used_jtis(&self) -> Box<dyn UsedJtiRepository + '_>;
    /// Console login sessions.
    fn console_sessions(&self) -> Box<dyn ConsoleSessionRepository + '_>;
    /// The audit trail.
    fn audit(&self) -> Box<dyn AuditRepository + '_>;
    /// Projects and their roles.
    fn projects(&self) -> Box<dyn ProjectRepository + '_>;
    /// API applications and their keys.
    fn applications(&self) -> Box<dyn ApplicationRepository + '_>;
    /// Authorizations (user grants).
    fn authorizations(&self) -> Box<dyn AuthorizationRepository + '_>;
}

/// A unit of work. Dropped without `commit`, it rolls back.
#[async_trait]
pub trait Transaction: Repos {
    /// Commits every change made through this transaction.
    ///
    /// # Errors
    /// [`RepoError::Unaudited`] (and a rollback) when something was written but
    /// no audit event appended; a database error otherwise.
    async fn commit(self: Box<Self>) -> RepoResult<()>;
}

/// The database.
#[async_trait]
pub trait Store: Repos {
    /// Starts a transaction.
    async fn begin(&self) -> RepoResult<Box<dyn Transaction>>;
    /// Checks the database answers (for `/readyz`).
    async fn ping(&self) -> RepoResult<()>;
    /// The engine in use.
    fn backend(&self) -> Backend;
    /// The epoch that every committed access-relevant change advances, on this
    /// node at once and on the other nodes of a shared PostgreSQL when the
    /// change's notification arrives ([`crate::cache`]).
    fn epoch(&self) -> &Arc<Epoch>;
}
