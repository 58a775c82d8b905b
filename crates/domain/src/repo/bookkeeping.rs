//! Signing keys, user metadata, console sessions and the audit trail.

use async_trait::async_trait;

use crate::audit::AuditEvent;
use crate::console_session::ConsoleSession;
use crate::signing_key::{KeySchedule, SealedPrivateKey, SigningKey};
use crate::{ConsoleSessionId, SigningKeyId, Timestamp, UserId};

#[allow(clippy::wildcard_imports, reason = "the sibling modules' types, re-exported by the parent")]
use super::*;

/// Instance signing keys.
#[async_trait]
pub trait SigningKeyRepository: Send + Sync {
    /// Stores a new key. Fails with `AlreadyExists` when a key with the same
    /// `sign_from` exists: two nodes that plan the same rotation at once create
    /// only one key.
    async fn insert(&self, key: &SigningKey) -> RepoResult<()>;
    /// Every key, ordered by `sign_from`.
    async fn list(&self) -> RepoResult<Vec<SigningKey>>;
    /// Inside a transaction: every key, ordered by `sign_from`, locked until
    /// the transaction ends (`SELECT … FOR UPDATE` on PostgreSQL; SQLite's one
    /// writer connection), so that activations and deletions of keys run one
    /// after the other. Outside a transaction it fails.
    async fn lock_all(&self) -> RepoResult<Vec<SigningKey>>;
    /// Replaces a key's schedule (activation). An audited write; `NotFound`
    /// when there is no such key, `AlreadyExists` when another key has the
    /// same `sign_from`.
    async fn reschedule(&self, id: SigningKeyId, schedule: &KeySchedule) -> RepoResult<()>;
    /// Removes a retired key (`NotFound` when there is none).
    async fn delete(&self, id: SigningKeyId) -> RepoResult<()>;
    /// Replaces a key's sealed private half (master key rotation); `NotFound`
    /// when there is no such key. An audited write.
    async fn reseal(&self, id: SigningKeyId, sealed: &SealedPrivateKey) -> RepoResult<()>;
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
