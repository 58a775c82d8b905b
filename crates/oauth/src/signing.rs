//! Instance signing keys (DESIGN.md §4): generation, sealing, the JWKS document,
//! signing JWTs with `kid` in the header, and the rotation schedule.
//!
//! # Rotation
//!
//! A key signs for [`RotationPolicy::signing_period`] (default 30 days). Its
//! successor is generated and published in the JWKS
//! [`RotationPolicy::publish_ahead`] (default 7 days, at least 1 hour) before it
//! starts signing, so resource servers that cache the JWKS know it before they
//! see a token it signed. A key that stopped signing stays published for
//! [`RotationPolicy::retain_after`] (default 24 hours, at least the longest
//! token lifetime), so every token it signed can still be verified until it
//! expires; then it is deleted. [`plan_rotation`] is pure: given the stored keys
//! and the time it says which keys to create and which to delete. Run it at
//! start and periodically (hourly is plenty); two nodes running it at once plan
//! the same `sign_from`, which the store keeps unique, so only one key results.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Duration;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use rand::{CryptoRng, RngCore};
use rsa::pkcs1::EncodeRsaPrivateKey as _;
use rsa::traits::PublicKeyParts as _;
use serde::{Deserialize, Serialize};
use tessera_domain::signing_key::{
    KeySchedule, PublicJwk, RsaPublicComponents, SealedPrivateKey, SigningAlgorithm, SigningKey,
};
use tessera_domain::{SigningKeyId, Timestamp, ValidationError};

use crate::sealing::{SealError, Sealer};

/// Size of RSA instance signing keys unless configured otherwise.
pub const SIGNING_KEY_BITS: usize = 2048;

/// What kind of key a rotation generates: the algorithm, and for RSA the
/// modulus size (2048, 3072 or 4096 bits). The default is RS256 with 2048
/// bits, for compatibility.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyKind {
    /// The JWS algorithm.
    pub algorithm: SigningAlgorithm,
    /// The RSA modulus size; ignored for the other algorithms.
    pub rsa_bits: usize,
}

impl Default for KeyKind {
    fn default() -> Self {
        Self { algorithm: SigningAlgorithm::Rs256, rsa_bits: SIGNING_KEY_BITS }
    }
}

impl KeyKind {
    /// The kind of an existing key; an RSA key's size from its modulus.
    #[must_use]
    pub fn of(key: &SigningKey) -> Self {
        let rsa_bits = match &key.public {
            PublicJwk::Rsa(p) => URL_SAFE_NO_PAD.decode(&p.n).map_or(SIGNING_KEY_BITS, |n| n.len() * 8),
            _ => SIGNING_KEY_BITS,
        };
        Self { algorithm: key.algorithm, rsa_bits }
    }

    /// A kind.
    ///
    /// # Errors
    /// For an RSA size other than 2048, 3072 or 4096 bits.
    pub fn new(algorithm: SigningAlgorithm, rsa_bits: usize) -> Result<Self, ValidationError> {
        if algorithm.is_rsa() && ![2048, 3072, 4096].contains(&rsa_bits) {
            return Err(ValidationError::new("rsaBits", "must be 2048, 3072 or 4096"));
        }
        Ok(Self { algorithm, rsa_bits })
    }
}

/// Why a signing key could not be made, opened or used. Messages carry no key
/// material.
#[derive(Debug, thiserror::Error)]
pub enum SigningError {
    /// RSA key generation or encoding failed.
    #[error("cannot generate a signing key")]
    Generation,
    /// A sealed private key could not be opened (a wrong master key, most likely).
    #[error(transparent)]
    Seal(#[from] SealError),
    /// A stored key does not parse as an RSA private key.
    #[error("a stored signing key is invalid")]
    CorruptKey,
    /// No loaded key may sign at this time (rotation has not run).
    #[error("no signing key is valid at this time")]
    NoSigningKey,
    /// The JWS library refused to sign.
    #[error("cannot sign the token")]
    Sign,
}

/// The rotation schedule's parameters (module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RotationPolicy {
    signing_period: Duration,
    publish_ahead: Duration,
    retain_after: Duration,
    kind: KeyKind,
}

impl Default for RotationPolicy {
    fn default() -> Self {
        Self {
            signing_period: Duration::days(30),
            publish_ahead: Duration::days(7),
            retain_after: Duration::hours(24),
            kind: KeyKind::default(),
        }
    }
}

impl RotationPolicy {
    /// Shortest time a key is published before it signs.
    pub const MIN_PUBLISH_AHEAD: Duration = Duration::hours(1);

    /// A policy.
    ///
    /// # Errors
    /// Unless `publish_ahead >= 1 h`, `publish_ahead < signing_period` and
    /// `retain_after >= max_token_lifetime` (the longest lifetime of any token
    /// the keys sign: a key must stay published until its last token expired).
    pub fn new(
        signing_period: Duration,
        publish_ahead: Duration,
        retain_after: Duration,
        max_token_lifetime: Duration,
    ) -> Result<Self, ValidationError> {
        if publish_ahead < Self::MIN_PUBLISH_AHEAD {
            return Err(ValidationError::new("publishAhead", "must be at least 1 hour"));
        }
        if publish_ahead >= signing_period {
            return Err(ValidationError::new("publishAhead", "must be shorter than the signing period"));
        }
        if retain_after < max_token_lifetime {
            return Err(ValidationError::new("retainAfter", "must be at least the longest token lifetime"));
        }
        Ok(Self { signing_period, publish_ahead, retain_after, kind: KeyKind::default() })
    }

    /// The same policy generating keys of `kind`.
    #[must_use]
    pub const fn with_kind(mut self, kind: KeyKind) -> Self {
        self.kind = kind;
        self
    }

    /// The kind of key rotations generate.
    #[must_use]
    pub const fn kind(&self) -> KeyKind {
        self.kind
    }

    /// How long one key signs.
    #[must_use]
    pub const fn signing_period(&self) -> Duration {
        self.signing_period
    }

    /// How long before it signs a key is published.
    #[must_use]
    pub const fn publish_ahead(&self) -> Duration {
        self.publish_ahead
    }

    /// How long after it stopped signing a key stays published.
    #[must_use]
    pub const fn retain_after(&self) -> Duration {
        self.retain_after
    }

    /// A `Cache-Control: max-age` for the JWKS that keeps every cache ahead of
    /// the rotation: half the pre-publication time, at most one hour.
    #[must_use]
    pub fn jwks_max_age(&self) -> Duration {
        (self.publish_ahead / 2).min(Duration::hours(1))
    }
}

/// What a rotation run must do.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RotationPlan {
    /// Keys to generate, with their schedules (in signing order).
    pub create: Vec<KeySchedule>,
    /// The kind of the keys to generate: that of the newest key with a
    /// signing window (so a key activated through the WebKeyService or
    /// `tessera keys` keeps its algorithm across rotations), else the
    /// policy's.
    pub kind: KeyKind,
    /// Retired keys to delete.
    pub delete: Vec<SigningKeyId>,
}

impl RotationPlan {
    /// Whether there is nothing to do.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.create.is_empty() && self.delete.is_empty()
    }
}

/// Plans a rotation run (module docs): delete retired keys; make sure a key
/// signs now; make sure its successor is published once the current signing
/// window ends within `publish_ahead`.
#[must_use]
pub fn plan_rotation(keys: &[SigningKey], now: Timestamp, policy: &RotationPolicy) -> RotationPlan {
    let mut plan = RotationPlan { kind: policy.kind(), ..RotationPlan::default() };
    let mut live: Vec<KeySchedule> = Vec::new();
    for key in keys {
        if key.schedule.is_retired(now) {
            plan.delete.push(key.id);
        } else if !key.schedule.is_awaiting() {
            // A key awaiting activation takes no part in the plan: it signs
            // only when activated.
            live.push(key.schedule);
        }
    }
    if let Some(newest) = keys
        .iter()
        .filter(|k| !k.schedule.is_retired(now) && !k.schedule.is_awaiting() && k.schedule.sign_from() <= now)
        .max_by_key(|k| k.schedule.sign_from())
    {
        plan.kind = KeyKind::of(newest);
    }
    let schedule = |publish_at, sign_from, sign_until| {
        KeySchedule::new(publish_at, sign_from, sign_until, sign_until + policy.retain_after)
    };
    if !live.iter().any(|s| s.may_sign(now)) {
        // Nothing signs (first start, or a downtime longer than the schedule):
        // a key signs from now until the next planned key takes over.
        let until = live
            .iter()
            .map(KeySchedule::sign_from)
            .filter(|&from| from > now)
            .min()
            .unwrap_or(now + policy.signing_period);
        if let Ok(s) = schedule(now, now, until) {
            live.push(s);
            plan.create.push(s);
        }
    }
    if let Some(end) = live.iter().map(KeySchedule::sign_until).max()
        && end - policy.publish_ahead <= now
        && let Ok(s) = schedule(now, end, end + policy.signing_period)
    {
        plan.create.push(s);
    }
    plan
}

/// The schedule of a key made by a manual rotation (`tessera keys rotate`):
/// published at `now`, signing from `sign_from` (`now` or later) for one
/// signing period, then retained like any other key.
///
/// # Errors
/// When `sign_from` is before `now`.
pub fn manual_schedule(
    now: Timestamp,
    sign_from: Timestamp,
    policy: &RotationPolicy,
) -> Result<KeySchedule, ValidationError> {
    let until = sign_from + policy.signing_period;
    KeySchedule::new(now, sign_from, until, until + policy.retain_after)
}

/// The id of the key that signs at `now` (the rule of [`Signer`]: of the keys
/// whose signing window holds `now`, the one that started last).
pub use tessera_domain::signing_key::active_key as signing_key_at;

/// ring's fixed-length ECDSA signing algorithm for ES256 or ES384 keys.
fn ecdsa_signing(a: SigningAlgorithm) -> &'static ring::signature::EcdsaSigningAlgorithm {
    if a == SigningAlgorithm::Es384 {
        &ring::signature::ECDSA_P384_SHA384_FIXED_SIGNING
    } else {
        &ring::signature::ECDSA_P256_SHA256_FIXED_SIGNING
    }
}

/// Generates a signing key of `kind` for `schedule`, its private half sealed
/// under `sealer` with the new key's id as associated data. RSA keys come from
/// `rng`; ECDSA and Ed25519 keys from the operating system's generator
/// (ring's, which takes no other).
///
/// # Errors
/// [`SigningError::Generation`] or a sealing error.
pub fn generate_signing_key<R>(
    rng: &mut R,
    sealer: &Sealer,
    schedule: KeySchedule,
    now: Timestamp,
    kind: KeyKind,
) -> Result<SigningKey, SigningError>
where
    R: RngCore + CryptoRng,
{
    use ring::signature::KeyPair as _;
    let system = ring::rand::SystemRandom::new();
    let b64 = |b: &[u8]| URL_SAFE_NO_PAD.encode(b);
    let (private, public): (Vec<u8>, PublicJwk) = match kind.algorithm {
        a if a.is_rsa() => {
            let private = rsa::RsaPrivateKey::new(rng, kind.rsa_bits).map_err(|_| SigningError::Generation)?;
            let der = private.to_pkcs1_der().map_err(|_| SigningError::Generation)?;
            let public = RsaPublicComponents { n: b64(&private.n().to_bytes_be()), e: b64(&private.e().to_bytes_be()) };
            (der.as_bytes().to_vec(), PublicJwk::Rsa(public))
        }
        SigningAlgorithm::EdDsa => {
            let pkcs8 =
                ring::signature::Ed25519KeyPair::generate_pkcs8(&system).map_err(|_| SigningError::Generation)?;
            let pair =
                ring::signature::Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).map_err(|_| SigningError::Generation)?;
            let x = b64(pair.public_key().as_ref());
            (pkcs8.as_ref().to_vec(), PublicJwk::Okp { x })
        }
        a => {
            let alg = ecdsa_signing(a);
            let (crv, len) = (a.curve().unwrap_or_default(), if a == SigningAlgorithm::Es384 { 48 } else { 32 });
            let pkcs8 =
                ring::signature::EcdsaKeyPair::generate_pkcs8(alg, &system).map_err(|_| SigningError::Generation)?;
            let pair = ring::signature::EcdsaKeyPair::from_pkcs8(alg, pkcs8.as_ref(), &system)
                .map_err(|_| SigningError::Generation)?;
            // The uncompressed point: 0x04, x, y.
            let point = pair.public_key().as_ref();
            if point.len() != 1 + 2 * len {
                return Err(SigningError::Generation);
            }
            let public = PublicJwk::Ec { crv: crv.to_owned(), x: b64(&point[1..=len]), y: b64(&point[1 + len..]) };
            (pkcs8.as_ref().to_vec(), public)
        }
    };
    let id = SigningKeyId::new();
    let sealed = sealer.seal(rng, id.to_string().as_bytes(), &private)?;
    Ok(SigningKey {
        id,
        algorithm: kind.algorithm,
        public,
        sealed_private_key: SealedPrivateKey::from_bytes(sealed),
        created_at: now,
        schedule,
    })
}

/// One public key of the JWKS (RFC 7517 §4, RFC 7518 §6, RFC 8037 §2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwk {
    /// `RSA`, `EC` or `OKP`.
    pub kty: String,
    /// Always `sig`.
    #[serde(rename = "use")]
    pub key_use: String,
    /// The key's JWS algorithm.
    pub alg: String,
    /// The key id, as in the `kid` of the tokens it signs.
    pub kid: String,
    /// RSA modulus, base64url.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n: Option<String>,
    /// RSA exponent, base64url.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub e: Option<String>,
    /// The curve of an EC or OKP key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crv: Option<String>,
    /// The x coordinate (EC) or public key (OKP), base64url.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x: Option<String>,
    /// The y coordinate of an EC key, base64url.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub y: Option<String>,
}

impl Jwk {
    /// The JWK of `key`.
    #[must_use]
    pub fn of(key: &SigningKey) -> Self {
        let mut jwk = Self {
            kty: String::new(),
            key_use: "sig".to_owned(),
            alg: key.algorithm.as_str().to_owned(),
            kid: key.id.to_string(),
            n: None,
            e: None,
            crv: None,
            x: None,
            y: None,
        };
        match &key.public {
            PublicJwk::Rsa(p) => {
                jwk.kty = "RSA".to_owned();
                jwk.n = Some(p.n.clone());
                jwk.e = Some(p.e.clone());
            }
            PublicJwk::Ec { crv, x, y } => {
                jwk.kty = "EC".to_owned();
                jwk.crv = Some(crv.clone());
                jwk.x = Some(x.clone());
                jwk.y = Some(y.clone());
            }
            PublicJwk::Okp { x } => {
                jwk.kty = "OKP".to_owned();
                jwk.crv = SigningAlgorithm::EdDsa.curve().map(str::to_owned);
                jwk.x = Some(x.clone());
            }
        }
        jwk
    }
}

/// The JWKS document of `GET /oauth/v2/keys` (RFC 7517 §5).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwks {
    /// Published keys, in signing order.
    pub keys: Vec<Jwk>,
}

/// The JWKS at `now`: every key whose schedule publishes it.
#[must_use]
pub fn jwks(keys: &[SigningKey], now: Timestamp) -> Jwks {
    let mut published: Vec<&SigningKey> = keys.iter().filter(|k| k.schedule.is_published(now)).collect();
    published.sort_by_key(|k| k.schedule.sign_from());
    Jwks { keys: published.into_iter().map(Jwk::of).collect() }
}

/// The JWS algorithm of `jsonwebtoken` for `a`.
#[must_use]
pub const fn jws_algorithm(a: SigningAlgorithm) -> Algorithm {
    match a {
        SigningAlgorithm::Rs256 => Algorithm::RS256,
        SigningAlgorithm::Rs384 => Algorithm::RS384,
        SigningAlgorithm::Rs512 => Algorithm::RS512,
        SigningAlgorithm::Es256 => Algorithm::ES256,
        SigningAlgorithm::Es384 => Algorithm::ES384,
        SigningAlgorithm::EdDsa => Algorithm::EdDSA,
    }
}

/// The verification key of `key` (its public half).
///
/// # Errors
/// [`SigningError::CorruptKey`] when the stored members do not decode.
pub fn decoding_key(key: &SigningKey) -> Result<jsonwebtoken::DecodingKey, SigningError> {
    use jsonwebtoken::DecodingKey;
    match &key.public {
        PublicJwk::Rsa(p) => DecodingKey::from_rsa_components(&p.n, &p.e),
        PublicJwk::Ec { x, y, .. } => DecodingKey::from_ec_components(x, y),
        PublicJwk::Okp { x } => DecodingKey::from_ed_components(x),
    }
    .map_err(|_| SigningError::CorruptKey)
}

/// A key that may sign, its private half opened.
struct Loaded {
    kid: String,
    algorithm: Algorithm,
    schedule: KeySchedule,
    key: EncodingKey,
}

/// The opened keys that sign now or will sign later: what the token endpoint
/// signs with. Build it at start and after each rotation run; it holds private
/// keys, so it never prints them.
pub struct Signer {
    keys: Vec<Loaded>,
}

impl fmt::Debug for Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signer").field("kids", &self.keys.iter().map(|k| &k.kid).collect::<Vec<_>>()).finish()
    }
}

impl Signer {
    /// Opens every key in `keys` that signs at or after `now`.
    ///
    /// # Errors
    /// [`SigningError::Seal`] when a key does not open — with a wrong master key
    /// the message is "the master key does not match the one this database was
    /// created with"; [`SigningError::CorruptKey`] for an undecodable key.
    pub fn load(keys: &[SigningKey], sealer: &Sealer, now: Timestamp) -> Result<Self, SigningError> {
        let mut loaded = Vec::new();
        for k in keys.iter().filter(|k| k.schedule.sign_until() > now) {
            let kid = k.id.to_string();
            let der = sealer.open(kid.as_bytes(), k.sealed_private_key.as_bytes())?;
            // Parse once here so that a corrupt key fails at load, not at signing.
            let system = ring::rand::SystemRandom::new();
            let (parsed, key) = match k.algorithm {
                a if a.is_rsa() => {
                    (ring::signature::RsaKeyPair::from_der(&der).is_ok(), EncodingKey::from_rsa_der(&der))
                }
                SigningAlgorithm::EdDsa => {
                    (ring::signature::Ed25519KeyPair::from_pkcs8(&der).is_ok(), EncodingKey::from_ed_der(&der))
                }
                a => (
                    ring::signature::EcdsaKeyPair::from_pkcs8(ecdsa_signing(a), &der, &system).is_ok(),
                    EncodingKey::from_ec_der(&der),
                ),
            };
            if !parsed {
                return Err(SigningError::CorruptKey);
            }
            loaded.push(Loaded { kid, algorithm: jws_algorithm(k.algorithm), schedule: k.schedule, key });
        }
        loaded.sort_by_key(|k| k.schedule.sign_from());
        Ok(Self { keys: loaded })
    }

    /// The `kid` that signs at `now`: of the keys whose window holds `now`, the
    /// one that started last.
    #[must_use]
    pub fn current_kid(&self, now: Timestamp) -> Option<&str> {
        self.current(now).map(|k| k.kid.as_str())
    }

    fn current(&self, now: Timestamp) -> Option<&Loaded> {
        self.keys.iter().rev().find(|k| k.schedule.may_sign(now))
    }

    /// The JWS algorithm of the key that signs at `now`.
    #[must_use]
    pub fn current_algorithm(&self, now: Timestamp) -> Option<Algorithm> {
        self.current(now).map(|k| k.algorithm)
    }

    /// Signs `claims` as a JWS with the current key's algorithm, and `kid` and
    /// `typ` in the header.
    ///
    /// # Errors
    /// [`SigningError::NoSigningKey`] when no key may sign at `now`;
    /// [`SigningError::Sign`] when signing fails.
    pub fn sign<T: Serialize>(&self, claims: &T, typ: &str, now: Timestamp) -> Result<String, SigningError> {
        let key = self.current(now).ok_or(SigningError::NoSigningKey)?;
        let mut header = Header::new(key.algorithm);
        header.kid = Some(key.kid.clone());
        header.typ = Some(typ.to_owned());
        jsonwebtoken::encode(&header, claims, &key.key).map_err(|_| SigningError::Sign)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::sync::OnceLock;

    use chrono::{TimeZone as _, Utc};
    use jsonwebtoken::{DecodingKey, Validation};
    use rand::rngs::OsRng;
    use secrecy::SecretString;

    use super::*;

    pub(crate) const MASTER: &str = "0123456789abcdef0123456789abcdef";

    pub(crate) fn sealer() -> Sealer {
        Sealer::for_signing_keys(&SecretString::from(MASTER)).unwrap()
    }

    pub(crate) fn t0() -> Timestamp {
        Utc.with_ymd_and_hms(2030, 1, 1, 0, 0, 0).unwrap()
    }

    /// Two generated keys (signing now, and its published successor) shared by
    /// every test in the crate: RSA key generation is slow.
    pub(crate) fn shared_keys() -> &'static [SigningKey] {
        static KEYS: OnceLock<Vec<SigningKey>> = OnceLock::new();
        KEYS.get_or_init(|| {
            let policy = RotationPolicy::default();
            let now = t0();
            let first = plan_rotation(&[], now, &policy).create[0];
            let second = KeySchedule::new(
                now,
                first.sign_until(),
                first.sign_until() + policy.signing_period(),
                first.sign_until() + policy.signing_period() + policy.retain_after(),
            )
            .unwrap();
            [first, second]
                .into_iter()
                .map(|s| generate_signing_key(&mut OsRng, &sealer(), s, now, KeyKind::default()).unwrap())
                .collect()
        })
    }

    fn stub(schedule: KeySchedule) -> SigningKey {
        SigningKey {
            id: SigningKeyId::new(),
            algorithm: SigningAlgorithm::Rs256,
            public: PublicJwk::Rsa(RsaPublicComponents { n: "n".into(), e: "AQAB".into() }),
            sealed_private_key: SealedPrivateKey::from_bytes(vec![]),
            created_at: schedule.publish_at(),
            schedule,
        }
    }

    /// Applies a plan to stub keys, as a rotation job would.
    fn apply(keys: &mut Vec<SigningKey>, plan: &RotationPlan) {
        keys.retain(|k| !plan.delete.contains(&k.id));
        keys.extend(plan.create.iter().copied().map(stub));
    }

    #[test]
    fn first_start_creates_a_key_that_signs_at_once() {
        let policy = RotationPolicy::default();
        let plan = plan_rotation(&[], t0(), &policy);
        assert_eq!(plan.create.len(), 1);
        let s = plan.create[0];
        assert!(s.may_sign(t0()) && s.is_published(t0()));
        assert_eq!(s.sign_until(), t0() + policy.signing_period());
        assert_eq!(s.retire_at(), s.sign_until() + policy.retain_after());
    }

    #[test]
    fn awaiting_keys_take_no_part_in_the_plan_and_successors_keep_the_signers_kind() {
        let policy = RotationPolicy::default();
        let mut keys = Vec::new();
        let first = plan_rotation(&keys, t0(), &policy);
        apply(&mut keys, &first);
        // A key awaiting activation neither counts as a signer nor as a
        // successor, and is never retired by the plan.
        keys.push(SigningKey { algorithm: SigningAlgorithm::EdDsa, ..stub(KeySchedule::awaiting(t0(), 42)) });
        assert!(plan_rotation(&keys, t0(), &policy).is_empty());
        let near_end = t0() + policy.signing_period() - policy.publish_ahead();
        let plan = plan_rotation(&keys, near_end, &policy);
        assert_eq!(plan.create.len(), 1, "the successor is planned as without the awaiting key");
        assert_eq!(plan.kind.algorithm, SigningAlgorithm::Rs256);
        let far = t0() + Duration::days(3650);
        let plan = plan_rotation(&keys, far, &policy);
        assert_eq!(plan.delete, vec![keys[0].id], "only the RSA key retires");
        assert!(plan.create.iter().all(|s| s.sign_from() == far), "a key signs from now: {plan:?}");

        // An activated ES384 key: its successor is ES384 too.
        let now = t0() + Duration::days(2);
        keys.push(SigningKey {
            algorithm: SigningAlgorithm::Es384,
            ..stub(manual_schedule(now, now, &policy).unwrap())
        });
        let plan = plan_rotation(&keys, now + policy.signing_period() - policy.publish_ahead(), &policy);
        assert_eq!(plan.create.len(), 1);
        assert_eq!(plan.kind, KeyKind { algorithm: SigningAlgorithm::Es384, rsa_bits: SIGNING_KEY_BITS });
    }

    #[test]
    fn an_rsa_keys_kind_names_its_size() {
        let key = &shared_keys()[0];
        assert_eq!(KeyKind::of(key), KeyKind { algorithm: SigningAlgorithm::Rs256, rsa_bits: 2048 });
    }

    #[test]
    fn a_rotation_run_is_idempotent() {
        let policy = RotationPolicy::default();
        let mut keys = Vec::new();
        let plan = plan_rotation(&keys, t0(), &policy);
        apply(&mut keys, &plan);
        assert!(plan_rotation(&keys, t0(), &policy).is_empty());
        assert!(plan_rotation(&keys, t0() + Duration::days(1), &policy).is_empty());
    }

    #[test]
    fn a_manual_rotation_takes_over_and_the_plan_continues_from_it() {
        let policy = RotationPolicy::default();
        let mut keys = Vec::new();
        let first = plan_rotation(&keys, t0(), &policy);
        apply(&mut keys, &first);
        let old = keys[0].id;
        let now = t0() + Duration::days(3);
        let manual = stub(manual_schedule(now, now, &policy).unwrap());
        let new = manual.id;
        keys.push(manual);
        assert_eq!(signing_key_at(&keys, now), Some(new));
        assert!(keys.iter().all(|k| k.schedule.is_published(now)), "the old key stays published");
        assert!(plan_rotation(&keys, now, &policy).is_empty());
        // The old key verifies until its own retirement; the successor is
        // planned from the new key's end, not the old one's.
        let later = now + policy.signing_period() - policy.publish_ahead();
        let plan = plan_rotation(&keys, later, &policy);
        assert_eq!(plan.create.len(), 1);
        assert_eq!(plan.create[0].sign_from(), now + policy.signing_period());
        assert_eq!(signing_key_at(&keys, later), Some(new));
        assert!(keys.iter().find(|k| k.id == old).unwrap().schedule.is_published(later));
        // A planned start: published now, signs later.
        let planned = manual_schedule(now, now + Duration::hours(1), &policy).unwrap();
        assert!(planned.is_published(now) && !planned.may_sign(now));
        assert!(manual_schedule(now, now - Duration::hours(1), &policy).is_err());
    }

    #[test]
    fn the_successor_is_published_ahead_and_the_predecessor_retained() {
        let policy = RotationPolicy::default();
        let mut keys = Vec::new();
        // Run hourly for 100 days and check the invariants at every step.
        let mut now = t0();
        let end = t0() + Duration::days(100);
        while now < end {
            let plan = plan_rotation(&keys, now, &policy);
            apply(&mut keys, &plan);
            let signing: Vec<_> = keys.iter().filter(|k| k.schedule.may_sign(now)).collect();
            assert_eq!(signing.len(), 1, "exactly one key signs at {now}");
            let current = signing[0].schedule;
            if current.sign_until() - policy.publish_ahead() <= now {
                let next = keys.iter().find(|k| k.schedule.sign_from() == current.sign_until());
                let next = next.expect("the successor exists within the publication window").schedule;
                assert!(next.is_published(now));
                // Published at least `publish_ahead` before it signs (hourly runs).
                assert!(next.sign_from() - next.publish_at() >= policy.publish_ahead() - Duration::hours(1));
            }
            for k in &keys {
                // A key that signed within the retention window is still published.
                if k.schedule.sign_until() <= now && now < k.schedule.sign_until() + policy.retain_after() {
                    assert!(k.schedule.is_published(now));
                }
            }
            assert!(keys.len() <= 3, "at most previous, current and next");
            now += Duration::hours(1);
        }
        // Three signing periods passed: keys were created and retired.
        assert!(keys.iter().all(|k| k.schedule.sign_from() > t0()));
    }

    #[test]
    fn after_a_long_downtime_a_key_signs_at_once_and_retired_keys_go() {
        let policy = RotationPolicy::default();
        let mut keys = Vec::new();
        let plan = plan_rotation(&keys, t0(), &policy);
        apply(&mut keys, &plan);
        let later = t0() + Duration::days(400);
        let plan = plan_rotation(&keys, later, &policy);
        assert_eq!(plan.delete.len(), 1);
        assert!(plan.create[0].may_sign(later));
    }

    #[test]
    fn a_gap_before_a_planned_key_is_filled_up_to_it() {
        let policy = RotationPolicy::default();
        let h = Duration::hours(1);
        let future = stub(KeySchedule::new(t0(), t0() + h * 5, t0() + h * 100, t0() + h * 200).unwrap());
        let plan = plan_rotation(&[future], t0(), &policy);
        assert_eq!(plan.create[0].sign_from(), t0());
        assert_eq!(plan.create[0].sign_until(), t0() + h * 5);
    }

    #[test]
    fn policies_enforce_their_minimums() {
        let d = Duration::days;
        assert!(RotationPolicy::new(d(30), d(7), d(1), Duration::hours(12)).is_ok());
        assert!(RotationPolicy::new(d(30), Duration::minutes(30), d(1), Duration::hours(12)).is_err());
        assert!(RotationPolicy::new(d(7), d(7), d(1), Duration::hours(12)).is_err());
        assert!(RotationPolicy::new(d(30), d(7), Duration::hours(6), Duration::hours(12)).is_err());
        assert_eq!(RotationPolicy::default().jwks_max_age(), Duration::hours(1));
    }

    #[test]
    fn jwks_lists_published_keys_with_their_public_parts() {
        let keys = shared_keys();
        let doc = jwks(keys, t0());
        assert_eq!(doc.keys.len(), 2);
        let json = serde_json::to_value(&doc).unwrap();
        let first = &json["keys"][0];
        assert_eq!(first["kty"], "RSA");
        assert_eq!(first["use"], "sig");
        assert_eq!(first["alg"], "RS256");
        assert_eq!(first["kid"], keys[0].id.to_string());
        assert_eq!(first["e"], "AQAB");
        assert_eq!(first.as_object().unwrap().len(), 6, "no private or extra members");
        // Past its retirement, the first key leaves the JWKS.
        let after = keys[0].schedule.retire_at();
        assert_eq!(jwks(keys, after).keys.iter().map(|k| k.kid.clone()).collect::<Vec<_>>(), [keys[1].id.to_string()]);
    }

    #[test]
    fn signed_tokens_carry_the_current_kid_and_verify_against_the_jwk() {
        let keys = shared_keys();
        let signer = Signer::load(keys, &sealer(), t0()).unwrap();
        assert_eq!(signer.current_kid(t0()), Some(keys[0].id.to_string().as_str()));
        let token = signer.sign(&serde_json::json!({"sub": "u", "exp": 4_000_000_000_i64}), "JWT", t0()).unwrap();
        let header = jsonwebtoken::decode_header(&token).unwrap();
        assert_eq!(header.kid.as_deref(), Some(keys[0].id.to_string().as_str()));
        assert_eq!(header.typ.as_deref(), Some("JWT"));
        let jwk = &jwks(keys, t0()).keys[0];
        let key = DecodingKey::from_rsa_components(jwk.n.as_deref().unwrap(), jwk.e.as_deref().unwrap()).unwrap();
        let data = jsonwebtoken::decode::<serde_json::Value>(&token, &key, &Validation::new(Algorithm::RS256)).unwrap();
        assert_eq!(data.claims["sub"], "u");

        // When the first window ends, the successor signs.
        let later = keys[0].schedule.sign_until();
        assert_eq!(signer.current_kid(later), Some(keys[1].id.to_string().as_str()));
        assert!(matches!(
            signer.sign(&serde_json::json!({}), "JWT", keys[1].schedule.sign_until()),
            Err(SigningError::NoSigningKey)
        ));
    }

    #[test]
    fn a_wrong_master_key_is_reported_as_such() {
        let wrong = Sealer::for_signing_keys(&SecretString::from("x".repeat(40))).unwrap();
        let err = Signer::load(shared_keys(), &wrong, t0()).unwrap_err();
        assert_eq!(err.to_string(), "the master key does not match the one this database was created with");
    }

    #[test]
    fn keys_past_their_signing_window_are_not_opened() {
        // A key whose sealed blob is garbage but which no longer signs loads fine.
        let h = Duration::hours(1);
        let old = stub(KeySchedule::new(t0() - h * 3, t0() - h * 2, t0() - h, t0() + h).unwrap());
        let signer = Signer::load(&[old], &sealer(), t0()).unwrap();
        assert_eq!(signer.current_kid(t0()), None);
        assert!(!format!("{signer:?}").contains("PRIVATE"));
    }

    /// Every algorithm signs, publishes the right JWK members, and verifies
    /// against its own JWK only with its own algorithm.
    #[test]
    fn every_algorithm_signs_and_verifies_against_its_jwk() {
        let policy = RotationPolicy::default();
        let schedule = plan_rotation(&[], t0(), &policy).create[0];
        for (algorithm, kty, crv) in [
            (SigningAlgorithm::Rs384, "RSA", None),
            (SigningAlgorithm::Es256, "EC", Some("P-256")),
            (SigningAlgorithm::Es384, "EC", Some("P-384")),
            (SigningAlgorithm::EdDsa, "OKP", Some("Ed25519")),
        ] {
            let kind = KeyKind::new(algorithm, 2048).unwrap();
            let key = generate_signing_key(&mut OsRng, &sealer(), schedule, t0(), kind).unwrap();
            let jwk = serde_json::to_value(Jwk::of(&key)).unwrap();
            assert_eq!(jwk["kty"], kty, "{algorithm:?}");
            assert_eq!(jwk["alg"], algorithm.as_str());
            assert_eq!(jwk.get("crv").and_then(serde_json::Value::as_str), crv);
            assert_eq!(jwk.get("y").is_some(), kty == "EC");
            let signer = Signer::load(std::slice::from_ref(&key), &sealer(), t0()).unwrap();
            let token = signer.sign(&serde_json::json!({"sub": "u", "exp": 4_000_000_000_i64}), "JWT", t0()).unwrap();
            let header = jsonwebtoken::decode_header(&token).unwrap();
            assert_eq!(header.alg, jws_algorithm(algorithm));
            let decoding = decoding_key(&key).unwrap();
            let ok = jsonwebtoken::decode::<serde_json::Value>(&token, &decoding, &Validation::new(header.alg));
            assert_eq!(ok.unwrap().claims["sub"], "u");
            // Another algorithm claimed for the key is refused.
            let other = if algorithm == SigningAlgorithm::EdDsa { Algorithm::ES256 } else { Algorithm::EdDSA };
            assert!(jsonwebtoken::decode::<serde_json::Value>(&token, &decoding, &Validation::new(other)).is_err());
        }
        assert!(KeyKind::new(SigningAlgorithm::Rs256, 1024).is_err());
        assert!(KeyKind::new(SigningAlgorithm::Es256, 1024).is_ok(), "the size is ignored for ECDSA");
    }
}
