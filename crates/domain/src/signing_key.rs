//! Instance signing keys: the RSA, ECDSA and Ed25519 keys that sign JWT access
//! tokens and ID tokens.
//! The public half is published in the JWKS; the private half is stored only
//! sealed (AES-256-GCM under a key derived from the master key, see
//! `tessera_oauth::sealing`).
//!
//! Each key follows a [`KeySchedule`]: it is published before it signs (so that
//! resource servers that cache the JWKS know it by the time they see a token it
//! signed) and stays published after it stops signing until every token it
//! signed has expired.

use std::fmt;

use crate::{SigningKeyId, Timestamp, ValidationError};

/// The JWS algorithm of a signing key (RFC 7518 §3.1, RFC 8037 §3.1). RS256
/// is the default, for compatibility; ECDSA and Ed25519 sign many times faster
/// (docs/operator/key-rotation.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SigningAlgorithm {
    /// RSASSA-PKCS1-v1_5 with SHA-256 (RFC 7518 §3.3).
    Rs256,
    /// RSASSA-PKCS1-v1_5 with SHA-384.
    Rs384,
    /// RSASSA-PKCS1-v1_5 with SHA-512.
    Rs512,
    /// ECDSA on P-256 with SHA-256 (RFC 7518 §3.4).
    Es256,
    /// ECDSA on P-384 with SHA-384.
    Es384,
    /// Ed25519 (RFC 8037 §3.1).
    EdDsa,
}

impl SigningAlgorithm {
    /// Every algorithm, strongest-compatible first.
    pub const ALL: [Self; 6] = [Self::Rs256, Self::Rs384, Self::Rs512, Self::Es256, Self::Es384, Self::EdDsa];

    /// The JOSE name, also the storage spelling.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Rs256 => "RS256",
            Self::Rs384 => "RS384",
            Self::Rs512 => "RS512",
            Self::Es256 => "ES256",
            Self::Es384 => "ES384",
            Self::EdDsa => "EdDSA",
        }
    }

    /// Parses the JOSE name.
    ///
    /// # Errors
    /// On any other algorithm (a corrupted row or a bad setting).
    pub fn parse(s: &str) -> Result<Self, ValidationError> {
        Self::ALL
            .into_iter()
            .find(|a| a.as_str() == s)
            .ok_or_else(|| ValidationError::new("algorithm", "one of RS256, RS384, RS512, ES256, ES384, EdDSA"))
    }

    /// Whether keys of this algorithm are RSA keys.
    #[must_use]
    pub const fn is_rsa(self) -> bool {
        matches!(self, Self::Rs256 | Self::Rs384 | Self::Rs512)
    }

    /// The JWK `crv` of its keys (RFC 7518 §6.2.1.1, RFC 8037 §2): `P-256`,
    /// `P-384`, `Ed25519`; `None` for RSA.
    #[must_use]
    pub const fn curve(self) -> Option<&'static str> {
        match self {
            Self::Es256 => Some("P-256"),
            Self::Es384 => Some("P-384"),
            Self::EdDsa => Some("Ed25519"),
            Self::Rs256 | Self::Rs384 | Self::Rs512 => None,
        }
    }
}

/// The public half of a signing key as JWK members (RFC 7518 §6, RFC 8037
/// §2), base64url without padding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PublicJwk {
    /// `kty: RSA`: modulus and exponent, big-endian.
    Rsa(RsaPublicComponents),
    /// `kty: EC`: the curve (`P-256`, `P-384`) and the point's coordinates.
    Ec {
        /// `crv`.
        crv: String,
        /// `x`.
        x: String,
        /// `y`.
        y: String,
    },
    /// `kty: OKP`, `crv: Ed25519`: the public key.
    Okp {
        /// `x`.
        x: String,
    },
}

/// The public half of an RSA signing key as JWK members (RFC 7518 §6.3.1):
/// modulus and exponent, big-endian, base64url without padding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RsaPublicComponents {
    /// The modulus `n`.
    pub n: String,
    /// The public exponent `e`.
    pub e: String,
}

/// A private key sealed with the master key: opaque bytes to everyone but
/// `tessera_oauth::sealing`. Prints as `[redacted]`.
#[derive(Clone, PartialEq, Eq)]
pub struct SealedPrivateKey(Vec<u8>);

impl SealedPrivateKey {
    /// Wraps sealed bytes (from the sealer or from storage).
    #[must_use]
    pub fn from_bytes(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }

    /// The sealed bytes.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for SealedPrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SealedPrivateKey([redacted])")
    }
}

/// When a signing key is published, signs, and is retired. The invariant
/// `publish_at <= sign_from < sign_until <= retire_at` holds for every value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeySchedule {
    publish_at: Timestamp,
    sign_from: Timestamp,
    sign_until: Timestamp,
    retire_at: Timestamp,
}

impl KeySchedule {
    /// A schedule.
    ///
    /// # Errors
    /// Unless `publish_at <= sign_from < sign_until <= retire_at`.
    pub fn new(
        publish_at: Timestamp,
        sign_from: Timestamp,
        sign_until: Timestamp,
        retire_at: Timestamp,
    ) -> Result<Self, ValidationError> {
        if publish_at <= sign_from && sign_from < sign_until && sign_until <= retire_at {
            Ok(Self { publish_at, sign_from, sign_until, retire_at })
        } else {
            Err(ValidationError::new("schedule", "must satisfy publish_at <= sign_from < sign_until <= retire_at"))
        }
    }

    /// From this instant the key is in the JWKS.
    #[must_use]
    pub const fn publish_at(&self) -> Timestamp {
        self.publish_at
    }

    /// From this instant the key may sign.
    #[must_use]
    pub const fn sign_from(&self) -> Timestamp {
        self.sign_from
    }

    /// From this instant the key no longer signs.
    #[must_use]
    pub const fn sign_until(&self) -> Timestamp {
        self.sign_until
    }

    /// From this instant the key is out of the JWKS and may be deleted.
    #[must_use]
    pub const fn retire_at(&self) -> Timestamp {
        self.retire_at
    }

    /// Whether the key belongs in the JWKS at `now`.
    #[must_use]
    pub fn is_published(&self, now: Timestamp) -> bool {
        self.publish_at <= now && now < self.retire_at
    }

    /// Whether the key may sign at `now`.
    #[must_use]
    pub fn may_sign(&self, now: Timestamp) -> bool {
        self.sign_from <= now && now < self.sign_until
    }

    /// Whether the key is past its retirement at `now`.
    #[must_use]
    pub fn is_retired(&self, now: Timestamp) -> bool {
        now >= self.retire_at
    }
}

/// The first instant of the far-future range where keys created through the
/// WebKeyService wait for their activation (docs/operator/key-rotation.md): a
/// key awaiting activation has its signing window in year 9000 or later, so
/// no rotation plan and no signer ever lets it sign, and activation moves the
/// window to the present. Stored like any schedule: no column, no migration.
fn awaiting_base() -> Timestamp {
    chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 9000, 1, 1, 0, 0, 0).single().unwrap_or(Timestamp::MAX_UTC)
}

/// Microseconds (about 35 years) across which awaiting keys' windows are
/// spread, so that their `sign_from`s (unique per key) do not collide.
const AWAITING_SPREAD_MICROS: u64 = 1 << 50;

impl KeySchedule {
    /// The schedule of a key created through the WebKeyService: published
    /// from `publish_at` until it is deleted, signing only once activated.
    /// `spread` (random) picks its place in the far-future range, which keeps
    /// `sign_from` unique among awaiting keys.
    #[must_use]
    pub fn awaiting(publish_at: Timestamp, spread: u64) -> Self {
        let offset = i64::try_from(spread % AWAITING_SPREAD_MICROS).unwrap_or(0);
        let sign_from = awaiting_base() + chrono::Duration::microseconds(offset);
        let end = crate::time::far_future();
        Self { publish_at: publish_at.min(sign_from), sign_from, sign_until: end, retire_at: end }
    }

    /// Whether the key waits for an activation (created through the
    /// WebKeyService and never activated).
    #[must_use]
    pub fn is_awaiting(&self) -> bool {
        self.sign_from >= awaiting_base()
    }
}

/// A key's state as ZITADEL's WebKeyService names it (`zitadel.webkey.v2.State`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebKeyState {
    /// Published, not signing: awaiting activation, or a successor published
    /// ahead of its signing window.
    Initial,
    /// The key that signs now.
    Active,
    /// Signed earlier; published until every token it signed has expired.
    Inactive,
    /// Past its publication; deleted at the next refresh.
    Removed,
}

impl WebKeyState {
    /// The state of `key` among `keys` (which holds it) at `now`. The active
    /// key is the one [`active_key`] names.
    #[must_use]
    pub fn of(key: &SigningKey, keys: &[SigningKey], now: Timestamp) -> Self {
        let s = &key.schedule;
        if s.is_retired(now) {
            Self::Removed
        } else if active_key(keys, now) == Some(key.id) {
            Self::Active
        } else if s.is_awaiting() || s.sign_from() > now {
            Self::Initial
        } else {
            Self::Inactive
        }
    }

    /// When `key` last changed state, as far as `keys` tell at `now`: its
    /// creation (initial), its activation (active), when it stopped signing
    /// (inactive: a later key took over or its window ended), its retirement
    /// (removed).
    #[must_use]
    pub fn changed_at(self, key: &SigningKey, keys: &[SigningKey], now: Timestamp) -> Timestamp {
        let s = &key.schedule;
        match self {
            Self::Initial => key.created_at,
            Self::Active => s.sign_from().max(key.created_at),
            Self::Removed => s.retire_at(),
            Self::Inactive => {
                let taken_over = keys
                    .iter()
                    .map(|k| k.schedule.sign_from())
                    .filter(|&from| from > s.sign_from() && from <= now)
                    .min();
                taken_over.map_or(s.sign_until(), |t| t.min(s.sign_until())).max(key.created_at)
            }
        }
    }
}

/// The id of the key that signs at `now`: of the keys whose signing window
/// holds `now`, the one that started last.
#[must_use]
pub fn active_key(keys: &[SigningKey], now: Timestamp) -> Option<SigningKeyId> {
    keys.iter().filter(|k| k.schedule.may_sign(now)).max_by_key(|k| k.schedule.sign_from()).map(|k| k.id)
}

/// An instance signing key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningKey {
    /// Stable id; its text form is the `kid`.
    pub id: SigningKeyId,
    /// The JWS algorithm it signs with.
    pub algorithm: SigningAlgorithm,
    /// The public half, as published.
    pub public: PublicJwk,
    /// The private half (PKCS#1 DER for RSA, PKCS#8 DER otherwise), sealed
    /// with the master key; the key id is
    /// the associated data, so a sealed key cannot be moved to another row.
    pub sealed_private_key: SealedPrivateKey,
    /// When the key was generated.
    pub created_at: Timestamp,
    /// Publication, signing and retirement times.
    pub schedule: KeySchedule,
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, Utc};

    use super::*;

    #[test]
    fn a_schedule_must_be_ordered() {
        let t = Utc::now();
        let h = Duration::hours(1);
        assert!(KeySchedule::new(t, t + h, t + h * 2, t + h * 3).is_ok());
        assert!(KeySchedule::new(t, t, t + h, t + h).is_ok());
        assert!(KeySchedule::new(t + h, t, t + h * 2, t + h * 3).is_err(), "signs before it is published");
        assert!(KeySchedule::new(t, t + h, t + h, t + h * 3).is_err(), "empty signing window");
        assert!(KeySchedule::new(t, t + h, t + h * 2, t + h).is_err(), "retired while signing");
    }

    #[test]
    fn phases_follow_the_schedule() {
        let t = Utc::now();
        let h = Duration::hours(1);
        let s = KeySchedule::new(t, t + h, t + h * 2, t + h * 3).unwrap();
        assert!(!s.is_published(t - h));
        assert!(s.is_published(t) && !s.may_sign(t));
        assert!(s.is_published(t + h) && s.may_sign(t + h));
        assert!(s.is_published(t + h * 2) && !s.may_sign(t + h * 2));
        assert!(!s.is_published(t + h * 3) && s.is_retired(t + h * 3));
    }

    #[test]
    fn awaiting_keys_never_sign_and_stay_published() {
        let t = Utc::now();
        let a = KeySchedule::awaiting(t, 7);
        let b = KeySchedule::awaiting(t, 8);
        assert!(a.is_awaiting() && b.is_awaiting());
        assert_ne!(a.sign_from(), b.sign_from(), "distinct windows");
        assert!(a.is_published(t) && !a.may_sign(t) && !a.may_sign(t + Duration::days(365 * 100)));
        assert!(KeySchedule::new(a.publish_at(), a.sign_from(), a.sign_until(), a.retire_at()).is_ok(), "ordered");
        assert!(!KeySchedule::new(t, t, t + Duration::hours(1), t + Duration::hours(2)).unwrap().is_awaiting());
        assert!(KeySchedule::awaiting(t, u64::MAX).is_awaiting());
    }

    fn key(created: Timestamp, schedule: KeySchedule) -> SigningKey {
        SigningKey {
            id: SigningKeyId::from_uuid(uuid::Uuid::now_v7()),
            algorithm: SigningAlgorithm::Es256,
            public: PublicJwk::Okp { x: String::new() },
            sealed_private_key: SealedPrivateKey::from_bytes(vec![]),
            created_at: created,
            schedule,
        }
    }

    #[test]
    fn web_key_states_follow_the_schedules() {
        let t = Utc::now();
        let h = Duration::hours(1);
        let old = key(t - h * 10, KeySchedule::new(t - h * 10, t - h * 10, t + h * 10, t + h * 20).unwrap());
        let new = key(t - h, KeySchedule::new(t - h, t - h, t + h * 30, t + h * 40).unwrap());
        let next = key(t, KeySchedule::new(t, t + h * 30, t + h * 60, t + h * 70).unwrap());
        let created = key(t, KeySchedule::awaiting(t, 1));
        let gone = key(t - h * 50, KeySchedule::new(t - h * 50, t - h * 50, t - h * 40, t - h * 30).unwrap());
        let keys = vec![old.clone(), new.clone(), next.clone(), created.clone(), gone.clone()];
        let state = |k: &SigningKey| WebKeyState::of(k, &keys, t);
        assert_eq!(state(&new), WebKeyState::Active);
        assert_eq!(state(&old), WebKeyState::Inactive, "superseded while its window is open");
        assert_eq!(WebKeyState::Inactive.changed_at(&old, &keys, t), t - h, "when the new key took over");
        assert_eq!(state(&next), WebKeyState::Initial);
        assert_eq!(state(&created), WebKeyState::Initial);
        assert_eq!(state(&gone), WebKeyState::Removed);
        assert_eq!(active_key(&keys, t), Some(new.id));
    }

    #[test]
    fn sealed_keys_never_print() {
        let sealed = SealedPrivateKey::from_bytes(vec![1, 2, 3]);
        assert_eq!(format!("{sealed:?}"), "SealedPrivateKey([redacted])");
    }
}
