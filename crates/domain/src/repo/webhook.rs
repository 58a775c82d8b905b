//! Webhook targets, their deliveries (the outbox) and the expiry notices
//! already sent.

use async_trait::async_trait;

use crate::webhook::{Attempt, Delivery, DeliveryStatus, WebhookTarget};
use crate::{DeliveryId, OrgId, Timestamp, UserId, WebhookId};

#[allow(clippy::wildcard_imports, reason = "the sibling modules' types, re-exported by the parent")]
use super::*;

/// Whose targets a list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebhookOwner {
    /// Every target.
    Any,
    /// The instance's targets (every organization's events).
    Instance,
    /// One organization's targets.
    Org(OrgId),
}

/// Webhook targets and deliveries.
///
/// Deliveries are written by [`AuditRepository::append`] itself: an audit
/// event that is also a webhook event (`crate::webhook::event_of`) gets one
/// delivery per target that wants it, in the same transaction.
#[async_trait]
pub trait WebhookRepository: Send + Sync {
    /// Stores a new target. Audited.
    async fn insert(&self, target: &WebhookTarget) -> RepoResult<()>;
    /// Replaces a target's URL, description, events, secret and state.
    /// Audited; `NotFound` when there is none.
    async fn update(&self, target: &WebhookTarget) -> RepoResult<()>;
    /// Removes a target and its deliveries. Audited; `NotFound` when there is none.
    async fn delete(&self, id: WebhookId) -> RepoResult<()>;
    /// One target.
    async fn get(&self, id: WebhookId) -> RepoResult<Option<WebhookTarget>>;
    /// Targets of `owner`, oldest first.
    async fn list(&self, owner: WebhookOwner) -> RepoResult<Vec<WebhookTarget>>;
    /// Deliveries to `target`, newest first, optionally of one status.
    async fn deliveries(
        &self,
        target: WebhookId,
        status: Option<DeliveryStatus>,
        page: Page,
    ) -> RepoResult<Listed<Delivery>>;
    /// One delivery.
    async fn delivery(&self, id: DeliveryId) -> RepoResult<Option<Delivery>>;
    /// The attempts of a delivery, first first.
    async fn attempts(&self, id: DeliveryId) -> RepoResult<Vec<Attempt>>;
    /// Pending deliveries due at `now` and not claimed by a worker, oldest
    /// first, at most `limit`.
    async fn due(&self, now: Timestamp, limit: u64) -> RepoResult<Vec<Delivery>>;
    /// Claims a due delivery until `until` for this worker; `false` when
    /// another worker claimed it first or it is no longer due. Bookkeeping
    /// (not audited).
    async fn claim(&self, id: DeliveryId, now: Timestamp, until: Timestamp) -> RepoResult<bool>;
    /// Records an attempt and the delivery's new state, releasing the claim.
    /// Bookkeeping (not audited).
    async fn record_attempt(&self, delivery: &Delivery, attempt: &Attempt) -> RepoResult<()>;
    /// Makes a delivery due again at `now` with a fresh round of attempts.
    /// Audited; `NotFound` when there is none.
    async fn resend(&self, id: DeliveryId, now: Timestamp) -> RepoResult<()>;
    /// Deletes finished deliveries (and their attempts) created before
    /// `before`; returns how many. Housekeeping (not audited).
    async fn purge(&self, before: Timestamp) -> RepoResult<u64>;
}

/// What kind of credential a notice is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoticeCredential {
    /// A personal access token.
    Pat,
    /// A machine user's public key.
    MachineKey,
    /// A machine user's client secret (superseded, in its overlap).
    MachineSecret,
}

impl NoticeCredential {
    /// The audit target type of the credential.
    #[must_use]
    pub const fn target_type(self) -> &'static str {
        match self {
            Self::Pat => "personal_access_token",
            Self::MachineKey => "machine_key",
            Self::MachineSecret => "machine_secret",
        }
    }
}

/// A credential whose expiry may need a notice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpiringCredential {
    /// Its kind.
    pub kind: NoticeCredential,
    /// Its id.
    pub id: uuid::Uuid,
    /// Its user.
    pub user_id: UserId,
    /// The user's organization.
    pub org_id: OrgId,
    /// When it stops working by its own expiration.
    pub expires_at: Timestamp,
    /// For a PAT under an inactivity policy: its last use (or creation) and
    /// the policy's days.
    pub inactivity: Option<(Timestamp, u32)>,
}

/// Credentials that approach or passed their expiry, and the notices sent.
#[async_trait]
pub trait NoticeRepository: Send + Sync {
    /// Credentials of active users that expire in `(from, to]`, plus every
    /// PAT of an organization with an inactivity policy; client secrets count
    /// as expiring `overlap` after they were superseded. At most `limit` of
    /// each kind, soonest first.
    async fn expiring(
        &self,
        from: Timestamp,
        to: Timestamp,
        overlap: chrono::Duration,
        limit: u64,
    ) -> RepoResult<Vec<ExpiringCredential>>;
    /// The notice keys recorded for a credential.
    async fn sent(&self, credential: uuid::Uuid) -> RepoResult<Vec<String>>;
    /// Records a notice; `AlreadyExists` when another node recorded it first.
    /// An audited write (the notice's audit event raises the webhook event).
    async fn record(&self, credential: uuid::Uuid, key: &str, at: Timestamp) -> RepoResult<()>;
    /// Forgets notices recorded before `before`. Housekeeping.
    async fn purge(&self, before: Timestamp) -> RepoResult<u64>;
}
