//! The instance signing keys in memory: the [`Signer`] that signs now and the
//! published keys of the JWKS, kept in step with the database by
//! [`KeyRing::refresh`] (at start and periodically), which also runs the
//! rotation plan (DESIGN.md §4: rotated with overlap, the next key published
//! before it signs).
//!
//! Several nodes may refresh at once: a key planned by two of them collides on
//! its signing window (`AlreadyExists`) and the loser simply reloads.

use std::sync::{Arc, RwLock};

use serde_json::json;
use tessera_domain::audit::AuditEvent;
use tessera_domain::repo::{RepoError, Store};
use tessera_domain::signing_key::{KeySchedule, SealedPrivateKey, SigningKey, WebKeyState};
use tessera_domain::{Clock, SigningKeyId, Timestamp, UserId};

use crate::sealing::Sealer;
use crate::signing::{self, Jwks, KeyKind, RotationPolicy, Signer, SigningError};

/// Why the key ring could not be refreshed.
#[derive(Debug, thiserror::Error)]
pub enum KeyRingError {
    /// The database failed.
    #[error("signing keys: {0}")]
    Store(#[from] RepoError),
    /// A key could not be generated, opened or used (e.g. a wrong master key).
    #[error("signing keys: {0}")]
    Signing(#[from] SigningError),
    /// Key generation could not run.
    #[error("signing keys: key generation was interrupted")]
    Interrupted,
    /// A manual rotation collided with a key of the same start time.
    #[error("signing keys: another key was created at the same instant; try again")]
    Collision,
    /// No key has this id.
    #[error("signing keys: no such key")]
    NotFound,
    /// The key signs now; activate another key first.
    #[error("signing keys: the active key cannot be deleted; activate another key first")]
    ActiveKey,
    /// [`MAX_KEYS`] keys are stored already.
    #[error("signing keys: at most 20 keys can be stored; delete keys that are not needed")]
    TooMany,
    /// The key is past its publication and can no longer sign.
    #[error("signing keys: the key is removed and cannot be activated")]
    Removed,
}

struct Loaded {
    signer: Arc<Signer>,
    published: Arc<Vec<SigningKey>>,
}

/// The signing keys of the instance.
pub struct KeyRing {
    sealer: Arc<Sealer>,
    policy: RotationPolicy,
    loaded: RwLock<Loaded>,
}

impl std::fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyRing").field("policy", &self.policy).finish_non_exhaustive()
    }
}

impl KeyRing {
    /// Creates the ring and brings the database's keys up to the rotation plan.
    ///
    /// # Errors
    /// See [`KeyRing::refresh`].
    pub async fn open(
        store: &dyn Store,
        clock: &dyn Clock,
        sealer: Sealer,
        policy: RotationPolicy,
    ) -> Result<Self, KeyRingError> {
        let ring = Self {
            loaded: RwLock::new(Loaded {
                signer: Arc::new(Signer::load(&[], &sealer, clock.now())?),
                published: Arc::new(Vec::new()),
            }),
            sealer: Arc::new(sealer),
            policy,
        };
        ring.refresh(store, clock).await?;
        Ok(ring)
    }

    /// The rotation policy.
    #[must_use]
    pub fn policy(&self) -> &RotationPolicy {
        &self.policy
    }

    /// The sealer of the keys' private halves, for the operations below.
    #[must_use]
    pub fn sealer(&self) -> Arc<Sealer> {
        self.sealer.clone()
    }

    /// Runs the rotation plan (creating and deleting keys as due) and reloads
    /// the keys from the database.
    ///
    /// # Errors
    /// A database failure, or keys that do not open with this master key.
    pub async fn refresh(&self, store: &dyn Store, clock: &dyn Clock) -> Result<(), KeyRingError> {
        let now = clock.now();
        let keys = store.signing_keys().list().await?;
        let plan = signing::plan_rotation(&keys, now, &self.policy);
        if !plan.is_empty() {
            self.apply(store, plan, now).await?;
        }
        let keys = store.signing_keys().list().await?;
        let signer = Arc::new(Signer::load(&keys, &self.sealer, now)?);
        let published = Arc::new(keys);
        let mut loaded = self.loaded.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        *loaded = Loaded { signer, published };
        Ok(())
    }

    async fn apply(&self, store: &dyn Store, plan: signing::RotationPlan, now: Timestamp) -> Result<(), KeyRingError> {
        let mut created = Vec::new();
        let kind = plan.kind;
        for schedule in plan.create {
            let sealer = self.sealer.clone();
            // RSA key generation takes tens of milliseconds: off the async runtime.
            let key = tokio::task::spawn_blocking(move || {
                signing::generate_signing_key(&mut rand::rngs::OsRng, &sealer, schedule, now, kind)
            })
            .await
            .map_err(|_| KeyRingError::Interrupted)??;
            created.push(key);
        }
        let tx = store.begin().await?;
        for key in &created {
            match tx.signing_keys().insert(key).await {
                Ok(()) => {}
                // Another node planned the same key first; use its key.
                Err(RepoError::AlreadyExists { .. }) => return Ok(()),
                Err(e) => return Err(e.into()),
            }
            tx.audit()
                .append(&AuditEvent::new(now, None, "signing_key.created", "signing_key", key.id, None).with_details(
                    json!({
                        "signFrom": key.schedule.sign_from(),
                        "signUntil": key.schedule.sign_until(),
                        "algorithm": key.algorithm.as_str(),
                    }),
                ))
                .await?;
        }
        for id in &plan.delete {
            match tx.signing_keys().delete(*id).await {
                Ok(()) | Err(RepoError::NotFound { .. }) => {}
                Err(e) => return Err(e.into()),
            }
            tx.audit().append(&AuditEvent::new(now, None, "signing_key.retired", "signing_key", id, None)).await?;
        }
        match tx.commit().await {
            Ok(()) | Err(RepoError::AlreadyExists { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// The signer for tokens issued now.
    #[must_use]
    pub fn signer(&self) -> Arc<Signer> {
        self.loaded.read().unwrap_or_else(std::sync::PoisonError::into_inner).signer.clone()
    }

    /// Every key that is not retired (what verification may accept).
    #[must_use]
    pub fn keys(&self) -> Arc<Vec<SigningKey>> {
        self.loaded.read().unwrap_or_else(std::sync::PoisonError::into_inner).published.clone()
    }

    /// The JWKS document at `now`.
    #[must_use]
    pub fn jwks(&self, now: Timestamp) -> Jwks {
        signing::jwks(&self.keys(), now)
    }
}

/// Opens every stored key with `sealer` without keeping the private halves:
/// proves that `sealer` holds the master key the keys were sealed with.
fn check_all_open(keys: &[SigningKey], sealer: &Sealer) -> Result<(), KeyRingError> {
    for key in keys {
        sealer.open(key.id.to_string().as_bytes(), key.sealed_private_key.as_bytes()).map_err(SigningError::from)?;
    }
    Ok(())
}

/// `tessera keys rotate`: generates a key of `kind`, published now, that signs from
/// `sign_from` (`now` or later) on, in one transaction with its
/// `signing_key.rotated` audit event. The keys that signed until then stay
/// published on their schedule, so every token they signed still verifies; a
/// successor already published ahead still takes over at its planned time.
/// Nodes load the new key at their next [`KeyRing::refresh`].
///
/// Refuses (writing nothing) when `sealer` cannot open every stored key: a
/// key sealed under another master key would stop every node at start.
///
/// # Errors
/// A database failure, a wrong master key, or a collision with a key created
/// at the same instant.
pub async fn rotate_now(
    store: &dyn Store,
    clock: &dyn Clock,
    sealer: Arc<Sealer>,
    policy: &RotationPolicy,
    kind: KeyKind,
    sign_from: Option<Timestamp>,
) -> Result<SigningKey, KeyRingError> {
    let now = clock.now();
    let existing = store.signing_keys().list().await?;
    check_all_open(&existing, &sealer)?;
    let schedule = signing::manual_schedule(now, sign_from.unwrap_or(now).max(now), policy)
        .map_err(|_| SigningError::Generation)?;
    let key = generate(sealer, schedule, now, kind).await?;
    let superseded: Vec<String> =
        signing::signing_key_at(&existing, now).map(|id| id.to_string()).into_iter().collect();
    let tx = store.begin().await?;
    match tx.signing_keys().insert(&key).await {
        Ok(()) => {}
        Err(RepoError::AlreadyExists { .. }) => return Err(KeyRingError::Collision),
        Err(e) => return Err(e.into()),
    }
    tx.audit()
        .append(&AuditEvent::new(now, None, "signing_key.rotated", "signing_key", key.id, None).with_details(json!({
            "signFrom": key.schedule.sign_from(),
            "signUntil": key.schedule.sign_until(),
            "supersedes": superseded,
        })))
        .await?;
    tx.commit().await?;
    Ok(key)
}

/// Most keys stored at once: every one of them is in the JWKS that every
/// resource server downloads. The rotation needs three at most.
pub const MAX_KEYS: usize = 20;

/// Generates a key of `kind` off the async runtime, sealed under `sealer`.
async fn generate(
    sealer: Arc<Sealer>,
    schedule: KeySchedule,
    now: Timestamp,
    kind: KeyKind,
) -> Result<SigningKey, KeyRingError> {
    tokio::task::spawn_blocking(move || {
        signing::generate_signing_key(&mut rand::rngs::OsRng, &sealer, schedule, now, kind)
    })
    .await
    .map_err(|_| KeyRingError::Interrupted)?
    .map_err(KeyRingError::from)
}

/// CreateWebKey and `tessera keys create`: generates a key of `kind`,
/// published from now on and awaiting activation
/// ([`KeySchedule::awaiting`]), in one transaction with its
/// `signing_key.created` audit event by `actor`. It never signs until
/// [`activate`] makes it. Refuses, writing nothing, when `sealer` does not
/// open the stored keys (see [`rotate_now`]).
///
/// # Errors
/// A database failure, a wrong master key.
pub async fn create(
    store: &dyn Store,
    clock: &dyn Clock,
    sealer: Arc<Sealer>,
    kind: KeyKind,
    actor: Option<UserId>,
) -> Result<SigningKey, KeyRingError> {
    let now = clock.now();
    let existing = store.signing_keys().list().await?;
    // Before the key generation (RSA 4096 takes a second of a core).
    if existing.len() >= MAX_KEYS {
        return Err(KeyRingError::TooMany);
    }
    check_all_open(&existing, &sealer)?;
    // The place in the far-future range comes from the operating system's
    // generator, like the key itself.
    let spread = rand::RngCore::next_u64(&mut rand::rngs::OsRng);
    let key = generate(sealer, KeySchedule::awaiting(now, spread), now, kind).await?;
    let tx = store.begin().await?;
    // Counted again in the transaction. On PostgreSQL, creations that race
    // may each count before the other's insert and pass the cap by one each;
    // only instance owners create keys.
    if tx.signing_keys().lock_all().await?.len() >= MAX_KEYS {
        return Err(KeyRingError::TooMany);
    }
    match tx.signing_keys().insert(&key).await {
        Ok(()) => {}
        Err(RepoError::AlreadyExists { .. }) => return Err(KeyRingError::Collision),
        Err(e) => return Err(e.into()),
    }
    tx.audit()
        .append(&AuditEvent::new(now, actor, "signing_key.created", "signing_key", key.id, None).with_details(json!({
            "algorithm": key.algorithm.as_str(),
            "awaitingActivation": true,
        })))
        .await?;
    tx.commit().await?;
    Ok(key)
}

/// ActivateWebKey and `tessera keys activate`: the key `id` signs from now
/// on, for one signing period, in one transaction with its
/// `signing_key.activated` audit event by `actor`.
///
/// - The key that signed until now keeps its schedule: it stays published
///   until every token it signed has expired (inactive).
/// - Successors published ahead that have not signed yet (the automatic
///   plan's, or `keys rotate --sign-from`'s) are deleted, so that they do not
///   take over from the activated key at their planned time; the automatic
///   plan publishes the activated key's successor, of its kind, ahead of
///   its window's end.
/// - Activating the active key changes nothing.
///
/// Every key is read under a lock, so a concurrent deletion or activation
/// waits for this one. Returns the key as activated.
///
/// # Errors
/// [`KeyRingError::NotFound`], [`KeyRingError::Removed`] for a key past its
/// publication, [`KeyRingError::Collision`] for a key activated at the same
/// instant, database failures.
pub async fn activate(
    store: &dyn Store,
    clock: &dyn Clock,
    policy: &RotationPolicy,
    id: SigningKeyId,
    actor: Option<UserId>,
) -> Result<SigningKey, KeyRingError> {
    let now = clock.now();
    let tx = store.begin().await?;
    let keys = tx.signing_keys().lock_all().await?;
    let key = keys.iter().find(|k| k.id == id).ok_or(KeyRingError::NotFound)?;
    match WebKeyState::of(key, &keys, now) {
        WebKeyState::Active => return Ok(key.clone()),
        WebKeyState::Removed => return Err(KeyRingError::Removed),
        WebKeyState::Initial | WebKeyState::Inactive => {}
    }
    let until = now + policy.signing_period();
    let schedule = KeySchedule::new(key.schedule.publish_at().min(now), now, until, until + policy.retain_after())
        .map_err(|_| SigningError::Generation)?;
    let previous = signing::signing_key_at(&keys, now);
    let cancelled: Vec<SigningKeyId> = keys
        .iter()
        .filter(|k| k.id != id && !k.schedule.is_awaiting() && k.schedule.sign_from() > now)
        .map(|k| k.id)
        .collect();
    for other in &cancelled {
        match tx.signing_keys().delete(*other).await {
            Ok(()) | Err(RepoError::NotFound { .. }) => {}
            Err(e) => return Err(e.into()),
        }
    }
    match tx.signing_keys().reschedule(id, &schedule).await {
        Ok(()) => {}
        Err(RepoError::AlreadyExists { .. }) => return Err(KeyRingError::Collision),
        Err(RepoError::NotFound { .. }) => return Err(KeyRingError::NotFound),
        Err(e) => return Err(e.into()),
    }
    tx.audit()
        .append(&AuditEvent::new(now, actor, "signing_key.activated", "signing_key", id, None).with_details(json!({
            "algorithm": key.algorithm.as_str(),
            "signUntil": schedule.sign_until(),
            "supersedes": previous.map(|p| p.to_string()),
            "cancelled": cancelled.iter().map(ToString::to_string).collect::<Vec<_>>(),
        })))
        .await?;
    match tx.commit().await {
        Ok(()) => {}
        Err(RepoError::AlreadyExists { .. }) => return Err(KeyRingError::Collision),
        Err(e) => return Err(e.into()),
    }
    Ok(SigningKey { schedule, ..key.clone() })
}

/// DeleteWebKey and `tessera keys delete`: deletes the key `id` at once (out
/// of the JWKS at every node's next refresh; tokens it signed stop
/// verifying), in one transaction with its `signing_key.deleted` audit event
/// by `actor`. Returns `false` when there is no such key (ZITADEL answers
/// success: the desired state holds).
///
/// # Errors
/// [`KeyRingError::ActiveKey`] for the key that signs now; database failures.
pub async fn delete(
    store: &dyn Store,
    clock: &dyn Clock,
    id: SigningKeyId,
    actor: Option<UserId>,
) -> Result<bool, KeyRingError> {
    let now = clock.now();
    let tx = store.begin().await?;
    let keys = tx.signing_keys().lock_all().await?;
    let Some(key) = keys.iter().find(|k| k.id == id) else { return Ok(false) };
    let state = WebKeyState::of(key, &keys, now);
    if state == WebKeyState::Active {
        return Err(KeyRingError::ActiveKey);
    }
    match tx.signing_keys().delete(id).await {
        Ok(()) => {}
        Err(RepoError::NotFound { .. }) => return Ok(false),
        Err(e) => return Err(e.into()),
    }
    tx.audit()
        .append(&AuditEvent::new(now, actor, "signing_key.deleted", "signing_key", id, None).with_details(json!({
            "algorithm": key.algorithm.as_str(),
            "state": format!("{state:?}").to_lowercase(),
        })))
        .await?;
    tx.commit().await?;
    Ok(true)
}

/// `tessera masterkey rotate`: re-seals every signing key's private half from
/// `old` to `new` in one transaction, with one `masterkey.rotated` audit event
/// (which names no key material). Every key is opened before anything is
/// written: when `old` cannot open one, nothing changes. Returns how many keys
/// were re-sealed.
///
/// # Errors
/// A database failure, or a key that `old` does not open.
pub async fn reseal_all(
    store: &dyn Store,
    clock: &dyn Clock,
    old: &Sealer,
    new: &Sealer,
) -> Result<usize, KeyRingError> {
    let now = clock.now();
    let tx = store.begin().await?;
    let keys = tx.signing_keys().list().await?;
    let mut resealed = Vec::with_capacity(keys.len());
    for key in &keys {
        let aad = key.id.to_string();
        let der = old.open(aad.as_bytes(), key.sealed_private_key.as_bytes()).map_err(SigningError::from)?;
        let sealed = new.seal(&mut rand::rngs::OsRng, aad.as_bytes(), &der).map_err(SigningError::from)?;
        resealed.push((key.id, SealedPrivateKey::from_bytes(sealed)));
    }
    for (id, sealed) in &resealed {
        tx.signing_keys().reseal(*id, sealed).await?;
    }
    let ids: Vec<String> = keys.iter().map(|k| k.id.to_string()).collect();
    tx.audit()
        .append(
            &AuditEvent::new(now, None, "masterkey.rotated", "instance", "signing_keys", None)
                .with_details(json!({ "signingKeys": ids })),
        )
        .await?;
    tx.commit().await?;
    Ok(resealed.len())
}
