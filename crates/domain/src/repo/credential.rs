//! Machine keys, client secrets, issued access tokens, revoked JWTs and used
//! assertion ids: the repositories of credentials other than PATs.

use async_trait::async_trait;

use crate::access_token::{AccessToken, RevokedJwt, UsedJti};
use crate::machine_key::MachineKey;
use crate::machine_secret::MachineSecret;
use crate::names::Username;
use crate::{AccessTokenId, KeyId, OrgId, SecretId, Timestamp, UserId};

#[allow(clippy::wildcard_imports, reason = "the sibling modules' types, re-exported by the parent")]
use super::*;

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
