//! Event webhooks (docs/pat-hygiene.md "Notifications"): the targets' use
//! cases, the worker that delivers the outbox, and the scan that raises
//! `credential.expiring` and `credential.expired`.
//!
//! - Targets belong to an organization (its events only) or to the instance
//!   (every organization's events). Reading them takes `policy.read`,
//!   changing them `policy.write`, on the organization or the instance.
//! - Each target has a signing secret (`whsec_` and 32 random bytes in
//!   base64), sealed under the master key and shown once, when the target is
//!   created or its secret rotated.
//! - Deliveries follow Standard Webhooks: `webhook-id` (the same on every
//!   attempt), `webhook-timestamp` and `webhook-signature` (`v1,` and the
//!   base64 HMAC-SHA256 of `id.timestamp.body` under the secret's bytes).
//! - The outbox rows are written with the audit event of the change that
//!   raises them (crates/domain/src/webhook.rs); [`Worker::deliver_due`]
//!   claims due rows, so several nodes share the work without sending one
//!   twice while a claim holds.

use std::sync::Arc;

use async_trait::async_trait;
use base64::Engine as _;
use chrono::Duration;
use secrecy::SecretString;
use serde_json::json;
use tessera_domain::audit::AuditEvent;
use tessera_domain::permission::{Target, perm};
use tessera_domain::repo::{ExpiringCredential, Listed, NoticeCredential, Page, RepoResult, Store, WebhookOwner};
use tessera_domain::webhook::{
    Attempt, Delivery, DeliveryStatus, EventType, MAX_DESCRIPTION_LEN, MAX_TARGETS, WebhookTarget, check_url,
    notice_key, retry_after, threshold_for,
};
use tessera_domain::{Clock, DeliveryId, OrgId, PatId, Timestamp, WebhookId};
use tessera_oauth::sealing::Sealer;

use crate::{Ctx, ServiceError, ServiceResult};

/// Sends deliveries: the outbound client (crates/http/src/outbound.rs) with
/// its SSRF guard.
#[async_trait]
pub trait WebhookSender: Send + Sync {
    /// Whether `url` may be a target at all (scheme, and a literal address
    /// outside the allow-list); the resolved addresses are checked again at
    /// every delivery.
    ///
    /// # Errors
    /// Why not, in a sentence.
    fn check(&self, url: &str) -> Result<(), String>;
    /// POSTs `body` with `headers`; the receiver's status code, or why there
    /// was none.
    ///
    /// # Errors
    /// A refused address, a timeout, a connection error: never a secret.
    async fn post(&self, url: &str, headers: &[(&'static str, String)], body: &str) -> Result<u16, String>;
}

/// What webhooks need beyond the store: the sealer of their secrets and the
/// sender.
pub struct Webhooks {
    /// Seals and opens signing secrets.
    pub sealer: Arc<Sealer>,
    /// Sends deliveries.
    pub sender: Arc<dyn WebhookSender>,
}

impl std::fmt::Debug for Webhooks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Webhooks").finish_non_exhaustive()
    }
}

/// The prefix of a signing secret (Standard Webhooks' convention).
pub const SECRET_PREFIX: &str = "whsec_";

/// The `webhook-signature` header of a delivery: `v1,` and the base64
/// HMAC-SHA256 of `{id}.{timestamp}.{body}` under the secret's bytes
/// (Standard Webhooks, "Signature scheme").
///
/// # Errors
/// When `secret` is not a `whsec_` secret.
pub fn signature(secret: &str, id: &str, timestamp: i64, body: &str) -> Result<String, String> {
    let raw = secret.strip_prefix(SECRET_PREFIX).unwrap_or(secret);
    let key_bytes =
        base64::engine::general_purpose::STANDARD.decode(raw).map_err(|_| "the signing secret is malformed")?;
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &key_bytes);
    let tag = ring::hmac::sign(&key, format!("{id}.{timestamp}.{body}").as_bytes());
    Ok(format!("v1,{}", base64::engine::general_purpose::STANDARD.encode(tag.as_ref())))
}

/// A target as created or changed.
#[derive(Debug, Clone, Default)]
pub struct TargetInput {
    /// The URL.
    pub url: String,
    /// Free text.
    pub description: String,
    /// The events (at least one).
    pub events: Vec<EventType>,
}

/// A change of a target; `None` keeps a field.
#[derive(Debug, Clone, Default)]
pub struct TargetChange {
    /// A new URL.
    pub url: Option<String>,
    /// A new description.
    pub description: Option<String>,
    /// New events.
    pub events: Option<Vec<EventType>>,
    /// Active or not.
    pub active: Option<bool>,
}

fn target_of(org: Option<OrgId>) -> Target {
    org.map_or(Target::Instance, Target::Org)
}

fn runtime(ctx: &Ctx) -> ServiceResult<&Arc<Webhooks>> {
    ctx.core.webhooks.as_ref().ok_or_else(|| ServiceError::Unavailable("webhooks are not configured".into()))
}

fn checked(ctx: &Ctx, input: &TargetInput) -> ServiceResult<()> {
    check_url(&input.url).map_err(ServiceError::invalid)?;
    runtime(ctx)?.sender.check(&input.url).map_err(|e| ServiceError::invalid(format!("url: {e}")))?;
    if input.description.chars().count() > MAX_DESCRIPTION_LEN {
        return Err(ServiceError::invalid(format!("description must be at most {MAX_DESCRIPTION_LEN} characters")));
    }
    if input.events.is_empty() {
        return Err(ServiceError::invalid("events must name at least one event"));
    }
    Ok(())
}

/// A fresh secret, sealed for target `id`.
fn new_secret(ctx: &Ctx, id: WebhookId) -> ServiceResult<(SecretString, Vec<u8>)> {
    let mut bytes = [0u8; 32];
    ctx.core.rng.fill(&mut bytes);
    let secret = format!("{SECRET_PREFIX}{}", base64::engine::general_purpose::STANDARD.encode(bytes));
    bytes.fill(0);
    let sealed = runtime(ctx)?
        .sealer
        .seal(&mut ctx.rng(), id.as_uuid().as_bytes(), secret.as_bytes())
        .map_err(|e| ServiceError::Internal(Box::new(e)))?;
    Ok((SecretString::from(secret), sealed))
}

/// The audit details of a target: its host, never the whole URL (a
/// receiver's URL may carry a token of its own in the path or query).
fn details(t: &WebhookTarget) -> serde_json::Value {
    let host = t.url.split("://").nth(1).and_then(|rest| rest.split(['/', '?', '#']).next()).unwrap_or_default();
    json!({
        "host": host,
        "events": t.events.iter().map(|e| e.name()).collect::<Vec<_>>(),
        "active": t.active,
    })
}

/// Creates a target of `org` (`None`: the instance), returning it and its
/// signing secret, which is never shown again (`policy.write` there).
///
/// # Errors
/// `invalid_argument` for a bad URL (also one the SSRF guard refuses), no
/// events or too many targets; `permission_denied`.
pub async fn create(
    ctx: &Ctx,
    org: Option<OrgId>,
    mut input: TargetInput,
) -> ServiceResult<(WebhookTarget, SecretString)> {
    ctx.require(perm::POLICY_WRITE, target_of(org))?;
    input.events.sort_unstable();
    input.events.dedup();
    checked(ctx, &input)?;
    let id = WebhookId::from_uuid(ctx.new_uuid());
    let (secret, sealed_secret) = new_secret(ctx, id)?;
    let now = ctx.now();
    let target = WebhookTarget {
        id,
        org_id: org,
        url: input.url,
        description: input.description,
        events: input.events,
        sealed_secret,
        active: true,
        created_at: now,
        updated_at: now,
    };
    let tx = ctx.begin().await?;
    if let Some(org) = org {
        crate::orgs::lock(tx.as_ref(), org).await?;
    }
    let owner = org.map_or(WebhookOwner::Instance, WebhookOwner::Org);
    if tx.webhooks().list(owner).await?.len() as u64 >= MAX_TARGETS {
        return Err(ServiceError::invalid(format!("at most {MAX_TARGETS} webhook targets per organization")));
    }
    tx.webhooks().insert(&target).await?;
    tx.audit().append(&ctx.event("webhook.created", "webhook", id, org).with_details(details(&target))).await?;
    tx.commit().await?;
    Ok((target, secret))
}

/// One target (`policy.read` on its owner). Not found for a caller who may
/// not see it.
///
/// # Errors
/// `not_found`.
pub async fn get(ctx: &Ctx, id: WebhookId) -> ServiceResult<WebhookTarget> {
    let target = ctx.core.store.webhooks().get(id).await?;
    target
        .filter(|t| ctx.actor.can(perm::POLICY_READ, target_of(t.org_id)))
        .ok_or_else(|| ServiceError::not_found("webhook not found"))
}

/// The targets the caller may read: of `org` when given, else the
/// instance's (for an instance reader) and every organization's it may read.
///
/// # Errors
/// `permission_denied` for a named organization the caller may not read.
pub async fn list(ctx: &Ctx, org: Option<OrgId>) -> ServiceResult<Vec<WebhookTarget>> {
    let store = &ctx.core.store;
    if let Some(org) = org {
        ctx.require(perm::POLICY_READ, Target::Org(org))?;
        return Ok(store.webhooks().list(WebhookOwner::Org(org)).await?);
    }
    let all = store.webhooks().list(WebhookOwner::Any).await?;
    Ok(all.into_iter().filter(|t| ctx.actor.can(perm::POLICY_READ, target_of(t.org_id))).collect())
}

/// A target for a change: loaded in the transaction, and `policy.write` on
/// its owner (`not_found` when the caller may not even read it).
async fn for_change(
    ctx: &Ctx,
    tx: &dyn tessera_domain::repo::Transaction,
    id: WebhookId,
) -> ServiceResult<WebhookTarget> {
    let target = tx
        .webhooks()
        .get(id)
        .await?
        .filter(|t| ctx.actor.can(perm::POLICY_READ, target_of(t.org_id)))
        .ok_or_else(|| ServiceError::not_found("webhook not found"))?;
    ctx.require(perm::POLICY_WRITE, target_of(target.org_id))?;
    Ok(target)
}

/// Changes a target's URL, description, events or state (`policy.write`).
/// Deliveries already queued keep going to the target as it is when they
/// are sent.
///
/// # Errors
/// As [`create`], `not_found`.
pub async fn update(ctx: &Ctx, id: WebhookId, change: TargetChange) -> ServiceResult<WebhookTarget> {
    let tx = ctx.begin().await?;
    let before = for_change(ctx, tx.as_ref(), id).await?;
    let mut input = TargetInput {
        url: change.url.unwrap_or_else(|| before.url.clone()),
        description: change.description.unwrap_or_else(|| before.description.clone()),
        events: change.events.unwrap_or_else(|| before.events.clone()),
    };
    input.events.sort_unstable();
    input.events.dedup();
    checked(ctx, &input)?;
    let after = WebhookTarget {
        url: input.url,
        description: input.description,
        events: input.events,
        active: change.active.unwrap_or(before.active),
        updated_at: ctx.now(),
        ..before.clone()
    };
    if (WebhookTarget { updated_at: before.updated_at, ..after.clone() }) == before {
        return Ok(before);
    }
    tx.webhooks().update(&after).await?;
    tx.audit().append(&ctx.event("webhook.changed", "webhook", id, after.org_id).with_details(details(&after))).await?;
    tx.commit().await?;
    Ok(after)
}

/// Gives a target a new signing secret, returned here and never again; the
/// old one stops signing at once (`policy.write`).
///
/// # Errors
/// `not_found`, `permission_denied`.
pub async fn rotate_secret(ctx: &Ctx, id: WebhookId) -> ServiceResult<(WebhookTarget, SecretString)> {
    let tx = ctx.begin().await?;
    let before = for_change(ctx, tx.as_ref(), id).await?;
    let (secret, sealed_secret) = new_secret(ctx, id)?;
    let after = WebhookTarget { sealed_secret, updated_at: ctx.now(), ..before };
    tx.webhooks().update(&after).await?;
    tx.audit().append(&ctx.event("webhook.secret.rotated", "webhook", id, after.org_id)).await?;
    tx.commit().await?;
    Ok((after, secret))
}

/// Removes a target and its deliveries (`policy.write`).
///
/// # Errors
/// `not_found`, `permission_denied`.
pub async fn delete(ctx: &Ctx, id: WebhookId) -> ServiceResult<()> {
    let tx = ctx.begin().await?;
    let target = for_change(ctx, tx.as_ref(), id).await?;
    tx.webhooks().delete(id).await?;
    tx.audit().append(&ctx.event("webhook.removed", "webhook", id, target.org_id)).await?;
    tx.commit().await?;
    Ok(())
}

/// The deliveries to a target, newest first (`policy.read`).
///
/// # Errors
/// `not_found`.
pub async fn deliveries(
    ctx: &Ctx,
    id: WebhookId,
    status: Option<DeliveryStatus>,
    page: Page,
) -> ServiceResult<Listed<Delivery>> {
    get(ctx, id).await?;
    Ok(ctx.core.store.webhooks().deliveries(id, status, page).await?)
}

/// One delivery with its attempts (`policy.read` on its target).
///
/// # Errors
/// `not_found`.
pub async fn delivery(ctx: &Ctx, id: DeliveryId) -> ServiceResult<(Delivery, Vec<Attempt>)> {
    let store = &ctx.core.store;
    let found = store.webhooks().delivery(id).await?.ok_or_else(|| ServiceError::not_found("delivery not found"))?;
    get(ctx, found.target_id).await.map_err(|_| ServiceError::not_found("delivery not found"))?;
    let attempts = store.webhooks().attempts(id).await?;
    Ok((found, attempts))
}

/// Sends a delivery again, now, with a fresh round of attempts
/// (`policy.write` on its target). The body and `webhook-id` stay the same,
/// so a receiver that has it already can tell.
///
/// # Errors
/// `not_found`, `permission_denied`, `failed_precondition` while it is
/// still pending.
pub async fn resend(ctx: &Ctx, id: DeliveryId) -> ServiceResult<Delivery> {
    let tx = ctx.begin().await?;
    let found = tx.webhooks().delivery(id).await?.ok_or_else(|| ServiceError::not_found("delivery not found"))?;
    let target = for_change(ctx, tx.as_ref(), found.target_id).await.map_err(|e| {
        if matches!(e, ServiceError::NotFound(_)) { ServiceError::not_found("delivery not found") } else { e }
    })?;
    if found.status == DeliveryStatus::Pending {
        return Err(ServiceError::precondition("the delivery is still pending: it will be attempted again by itself"));
    }
    let now = ctx.now();
    tx.webhooks().resend(id, now).await?;
    tx.audit()
        .append(&ctx.event("webhook.delivery.resent", "webhook_delivery", id, target.org_id).with_details(json!({
            "webhookId": target.id,
            "eventType": found.event_type,
        })))
        .await?;
    tx.commit().await?;
    Ok(Delivery { status: DeliveryStatus::Pending, attempts: 0, next_attempt_at: Some(now), ..found })
}

/// How long a worker's claim on a delivery holds: longer than one attempt
/// can take (the outbound client's timeout), so no other node sends it
/// meanwhile; a node that dies mid-attempt frees it when it lapses.
const CLAIM: Duration = Duration::seconds(60);

/// Most deliveries one call of [`Worker::deliver_due`] sends.
pub const BATCH: usize = 32;

/// Most credentials one expiry scan looks at, per kind.
const SCAN_BATCH: u64 = 500;

/// How far back an expiration is still announced (a node down for a while
/// catches up on notices this recent).
const EXPIRED_WINDOW: Duration = Duration::days(7);

/// Finished deliveries and notices older than this are purged.
const RETENTION: Duration = Duration::days(30);

/// Delivers the outbox and raises the expiry events: the server's background
/// jobs, driven by its clock (tests call the passes directly on a mock clock).
#[derive(Clone)]
pub struct Worker {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    rng: Arc<dyn tessera_domain::Rng>,
    webhooks: Arc<Webhooks>,
    /// `credential.expiring` thresholds, in days.
    thresholds: Vec<u32>,
    /// How long a superseded client secret keeps working.
    secret_overlap: Duration,
}

impl std::fmt::Debug for Worker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Worker").field("thresholds", &self.thresholds).finish_non_exhaustive()
    }
}

impl Worker {
    /// A worker over `core`'s store and clock; `None` when `core` has no
    /// webhooks runtime.
    #[must_use]
    pub fn new(core: &crate::Core, thresholds: Vec<u32>, secret_overlap: Duration) -> Option<Self> {
        Some(Self {
            store: core.store.clone(),
            clock: core.clock.clone(),
            rng: core.rng.clone(),
            webhooks: core.webhooks.clone()?,
            thresholds,
            secret_overlap,
        })
    }

    /// Sends every delivery due now, at most [`BATCH`], concurrently; returns
    /// how many were attempted.
    ///
    /// # Errors
    /// When the database fails (the deliveries stay due).
    pub async fn deliver_due(&self) -> RepoResult<usize> {
        let now = self.clock.now();
        let due = self.store.webhooks().due(now, BATCH as u64).await?;
        let mut claimed = Vec::new();
        for d in due {
            let tx = self.store.begin().await?;
            let mine = tx.webhooks().claim(d.id, now, now + CLAIM).await?;
            tx.commit().await?;
            if mine {
                claimed.push(d);
            }
        }
        let count = claimed.len();
        let mut jobs = tokio::task::JoinSet::new();
        for d in claimed {
            let worker = self.clone();
            jobs.spawn(async move { worker.attempt(d).await });
        }
        while let Some(done) = jobs.join_next().await {
            match done {
                Ok(Err(e)) => tracing::warn!(error = %e, "could not record a webhook attempt; it will be retried"),
                Err(e) => tracing::error!(error = %e, "a webhook attempt failed unexpectedly"),
                Ok(Ok(())) => {}
            }
        }
        Ok(count)
    }

    /// One attempt of a claimed delivery, recorded.
    async fn attempt(&self, mut d: Delivery) -> RepoResult<()> {
        let started = self.clock.now();
        let timer = std::time::Instant::now();
        let target = self.store.webhooks().get(d.target_id).await?;
        let outcome = match target.as_ref().filter(|t| t.active) {
            None => Err("the target is disabled".to_owned()),
            Some(t) => self.send(t, &d, started).await,
        };
        let number = self.store.webhooks().attempts(d.id).await?.len() as u32 + 1;
        d.attempts += 1;
        let (status_code, error) = match outcome {
            Ok(code) if (200..300).contains(&code) => (Some(code), None),
            Ok(code) => (Some(code), Some(format!("the receiver answered {code}"))),
            Err(e) => (None, Some(e)),
        };
        if error.is_none() {
            d.status = DeliveryStatus::Delivered;
            d.delivered_at = Some(started);
            d.next_attempt_at = None;
        } else if target.as_ref().is_some_and(|t| t.active)
            && let Some(wait) = retry_after(d.attempts)
        {
            d.next_attempt_at = Some(started + wait);
        } else {
            d.status = DeliveryStatus::Failed;
            d.next_attempt_at = None;
        }
        d.last_status_code = status_code;
        d.last_error.clone_from(&error);
        let attempt = Attempt {
            delivery_id: d.id,
            number,
            attempted_at: started,
            status_code,
            error,
            duration_ms: u32::try_from(timer.elapsed().as_millis()).unwrap_or(u32::MAX),
        };
        let tx = self.store.begin().await?;
        tx.webhooks().record_attempt(&d, &attempt).await?;
        tx.commit().await?;
        if d.status == DeliveryStatus::Failed {
            tracing::warn!(
                webhook = %d.target_id, delivery = %d.id, attempts = d.attempts,
                "a webhook delivery failed for good; it can be resent"
            );
        }
        Ok(())
    }

    async fn send(&self, t: &WebhookTarget, d: &Delivery, now: Timestamp) -> Result<u16, String> {
        let secret = self
            .webhooks
            .sealer
            .open(t.id.as_uuid().as_bytes(), &t.sealed_secret)
            .map_err(|_| "the signing secret cannot be opened with this master key".to_owned())?;
        let secret = std::str::from_utf8(&secret).map_err(|_| "the signing secret is malformed".to_owned())?;
        let id = d.message_id();
        let timestamp = now.timestamp();
        let signature = signature(secret, &id, timestamp, &d.payload)?;
        let headers = [
            ("content-type", "application/json".to_owned()),
            ("webhook-id", id),
            ("webhook-timestamp", timestamp.to_string()),
            ("webhook-signature", signature),
        ];
        self.webhooks.sender.post(&t.url, &headers, &d.payload).await
    }

    /// Raises `credential.expiring` once per threshold and `credential.expired`
    /// once per deadline, and disables PATs past their organization's
    /// inactivity limit; returns how many notices were raised.
    ///
    /// # Errors
    /// When the database fails (what was not raised is raised next time).
    pub async fn scan_expiry(&self) -> RepoResult<usize> {
        let now = self.clock.now();
        let horizon = i64::from(self.thresholds.iter().copied().max().unwrap_or(0));
        let candidates = self
            .store
            .notices()
            .expiring(now - EXPIRED_WINDOW, now + Duration::days(horizon), self.secret_overlap, SCAN_BATCH)
            .await?;
        let mut raised = 0;
        for c in candidates {
            if self.notice(&c, now).await? {
                raised += 1;
            }
        }
        Ok(raised)
    }

    /// The notice `c` is due at `now`, if any, raised; whether one was.
    async fn notice(&self, c: &ExpiringCredential, now: Timestamp) -> RepoResult<bool> {
        let (deadline, reason) = match c.inactivity {
            Some((last, days)) if last + Duration::days(i64::from(days)) < c.expires_at => {
                (last + Duration::days(i64::from(days)), "inactivity")
            }
            _ => (c.expires_at, "expiration"),
        };
        let (key, action, threshold) = if deadline <= now {
            (notice_key(None, deadline), EventType::CredentialExpired, None)
        } else {
            let Some(days) = threshold_for(&self.thresholds, deadline - now) else { return Ok(false) };
            (notice_key(Some(days), deadline), EventType::CredentialExpiring, Some(days))
        };
        let sent = self.store.notices().sent(c.id).await?;
        let at = deadline.timestamp();
        let covered = sent.iter().any(|s| {
            *s == key
                || threshold.is_some_and(|t| {
                    s.strip_prefix("expiring:")
                        .and_then(|rest| rest.split_once('@'))
                        .is_some_and(|(d, when)| when == at.to_string() && d.parse::<u32>().is_ok_and(|d| d <= t))
                })
        });
        if covered {
            return Ok(false);
        }
        let tx = self.store.begin().await?;
        match tx.notices().record(c.id, &key, now).await {
            Ok(()) => {}
            // Another node raised it first.
            Err(tessera_domain::repo::RepoError::AlreadyExists { .. }) => return Ok(false),
            Err(e) => return Err(e),
        }
        if reason == "inactivity" && deadline <= now && c.kind == NoticeCredential::Pat {
            tx.pats().expire(PatId::from_uuid(c.id), deadline).await?;
        }
        let mut event = AuditEvent::new(now, None, action.name(), c.kind.target_type(), c.id, Some(c.org_id))
            .with_details(json!({
                "credentialType": c.kind.target_type(),
                "userId": c.user_id,
                "expiresAt": deadline,
                "reason": reason,
                "daysBefore": threshold,
            }));
        event.id = tessera_domain::AuditEventId::from_uuid(tessera_domain::rng::uuid_v7(now, self.rng.as_ref()));
        tx.audit().append(&event).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Deletes finished deliveries and old notices.
    ///
    /// # Errors
    /// When the database fails.
    pub async fn purge(&self) -> RepoResult<u64> {
        let before = self.clock.now() - RETENTION;
        let tx = self.store.begin().await?;
        let n = tx.webhooks().purge(before).await? + tx.notices().purge(before - Duration::days(30)).await?;
        tx.commit().await?;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "a test: a failed step must fail it")]

    use super::*;

    /// The Standard Webhooks specification's own example (its README's
    /// "Signature scheme" test vector).
    #[test]
    fn signs_like_the_specification() {
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let sig = signature(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1_614_265_330, r#"{"test": 2432232314}"#).unwrap();
        assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }
}
