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
    fn sealed_keys_never_print() {
        let sealed = SealedPrivateKey::from_bytes(vec![1, 2, 3]);
        assert_eq!(format!("{sealed:?}"), "SealedPrivateKey([redacted])");
    }
}
