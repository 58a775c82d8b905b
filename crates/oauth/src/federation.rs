//! Workload identity federation: an identity token from an external issuer
//! (GitHub Actions, a Kubernetes cluster, GitLab CI, a cloud) stands in for a
//! machine user's secret, when one of the user's federated credentials trusts
//! it (`tessera_domain::federation`, docs/federation.md). Used by the token
//! exchange grant (RFC 8693) and the JWT bearer grant (RFC 7523).
//!
//! Checking does no I/O, in three steps: [`parse_external`] reads the
//! unverified `iss` (and `kid`) so the caller can find the credentials that
//! trust that issuer and its keys; [`UnverifiedExternal::verify`] checks the
//! signature with those keys and the time claims; [`VerifiedExternal::select`]
//! finds the one credential whose subject, audience and conditions the token
//! meets. The caller then refuses a replayed `jti` and a credential of an
//! inactive user or organization.
//!
//! | rule | source | error |
//! |---|---|---|
//! | at most 16 KiB, checked before parsing | RFC 8725 §3.9 | [`FederationError::TooLarge`] |
//! | a compact JWS of JSON objects, no duplicated claim | RFC 7519 §7.2 | [`FederationError::Malformed`] |
//! | signed: `alg` is not `none`, the signature is not empty | RFC 8725 §3.1 | [`FederationError::Unsigned`] |
//! | `alg` in RS256/384/512, PS256, ES256/384, EdDSA; never HMAC | RFC 8725 §2.1, §3.1 | [`FederationError::AlgorithmNotAllowed`] |
//! | no `jku`, `x5u`, `jwk` or `x5c` header: keys come from the configured JWKS only | RFC 8725 §3.10 | [`FederationError::EmbeddedKey`] |
//! | no `crit` extensions | RFC 7515 §4.1.11 | [`FederationError::CriticalHeader`] |
//! | `iss` present and trusted by some credential, compared exactly | RFC 7523 §3 item 1 | [`FederationError::UntrustedIssuer`] |
//! | `kid` names a key of the issuer's JWKS (without `kid`, every key fitting `alg` is tried) | RFC 7515 §4.1.4 | [`FederationError::UnknownKey`] |
//! | the key's type and curve fit `alg`, and its own `alg`, if any, is `alg` | RFC 8725 §3.1 | [`FederationError::AlgorithmKeyMismatch`] |
//! | an RSA key has at least 2048 bits | RFC 7518 §3.3 | [`FederationError::AlgorithmKeyMismatch`] |
//! | the signature verifies | RFC 7515 §5.2 | [`FederationError::BadSignature`] |
//! | `exp` present and not passed, beyond the skew | RFC 7523 §3 item 4 | [`FederationError::Expired`] |
//! | `nbf`, when present, reached, within the skew | RFC 7523 §3 item 5 | [`FederationError::NotYetValid`] |
//! | `iat` present, not in the future, not older than the maximum age | RFC 7523 §3 item 6 | [`FederationError::TooOld`], … |
//! | `jti`, when present, 1–255 bytes without control characters | RFC 7523 §3 item 7 | [`FederationError::InvalidJti`] |
//! | `sub`, `aud` and every condition match exactly one credential | RFC 8693 §2.1, RFC 7523 §3 items 2–3 | [`FederationError::NoMatch`], [`FederationError::Ambiguous`] |
//!
//! Error messages never contain the token or any part of it.

use chrono::Duration;
use jsonwebtoken::Algorithm;
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, JwkSet, KeyAlgorithm};
use serde::Deserialize;
use serde_json::{Map, Value};
use tessera_domain::Timestamp;
use tessera_domain::access_token::MAX_JTI_LEN;
use tessera_domain::federation::{ClaimCondition, FederatedCredential};

use crate::assertion::{Audience as Aud, Claims, decode_segment, numeric_date, split_jws};

/// Longest external token looked at. A GitHub Actions token is about 1.2 KiB,
/// a Kubernetes service-account token about 1 KiB.
pub const MAX_TOKEN_LEN: usize = 16 * 1024;
/// Default allowed clock difference with the issuer.
pub const DEFAULT_SKEW: Duration = Duration::seconds(30);
/// Default maximum age of a token (from `iat`). Kubernetes' default projected
/// token lives an hour and is refreshed at 80 % of its life.
pub const DEFAULT_MAX_AGE: Duration = Duration::hours(1);
/// Smallest RSA modulus accepted, in bytes (2048 bits).
const MIN_RSA_MODULUS: usize = 256;

/// Why an external token was refused: one variant per rule (module docs). The
/// token endpoint answers each with `invalid_grant`; the variant is for logs,
/// metrics and tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FederationError {
    /// Longer than [`MAX_TOKEN_LEN`].
    #[error("the token is too large")]
    TooLarge,
    /// Not a compact JWS of JSON objects, a claim of the wrong type or given twice.
    #[error("the token is not a well-formed JWT")]
    Malformed,
    /// `alg` is `none`, or the signature is empty.
    #[error("the token is not signed")]
    Unsigned,
    /// `alg` is not on the allow-list.
    #[error("the token's algorithm is not allowed")]
    AlgorithmNotAllowed,
    /// A `jku`, `x5u`, `jwk` or `x5c` header: a token may not name its own key.
    #[error("the token names its own key")]
    EmbeddedKey,
    /// A `crit` header.
    #[error("the token uses critical header extensions")]
    CriticalHeader,
    /// No federated credential trusts the token's `iss` (or it has none).
    #[error("no federated credential trusts the token's issuer")]
    UntrustedIssuer,
    /// The issuer's keys could not be had: unreachable past the keys' maximum
    /// age, or an answer that is not a key set.
    #[error("the issuer's keys are unavailable")]
    KeysUnavailable,
    /// `kid` names no key of the issuer's key set.
    #[error("the token's key is not in the issuer's key set")]
    UnknownKey,
    /// The key does not fit `alg` (type, curve, size or its own `alg`).
    #[error("the token's algorithm does not match the issuer's key")]
    AlgorithmKeyMismatch,
    /// The signature does not verify.
    #[error("the token's signature is invalid")]
    BadSignature,
    /// No `exp`.
    #[error("the token has no expiration time")]
    MissingExpiry,
    /// `exp` has passed.
    #[error("the token has expired")]
    Expired,
    /// `nbf` is in the future.
    #[error("the token is not valid yet")]
    NotYetValid,
    /// No `iat`.
    #[error("the token has no issue time")]
    MissingIssuedAt,
    /// `iat` is in the future.
    #[error("the token's issue time is in the future")]
    IssuedInFuture,
    /// `iat` is older than the maximum age.
    #[error("the token is too old")]
    TooOld,
    /// `jti` is empty, too long or has control characters.
    #[error("the token's jti is invalid")]
    InvalidJti,
    /// No credential matches the token's subject, audience and conditions.
    #[error("no federated credential matches the token")]
    NoMatch,
    /// More than one credential matches: the token cannot name one user.
    #[error("more than one federated credential matches the token")]
    Ambiguous,
}

impl FederationError {
    /// What the client is told (`error_description` of `invalid_grant`): the
    /// rule, never the token. Whether an issuer is trusted at all, or which
    /// credential was near a match, is not said: a token holder learns nothing
    /// about the credentials.
    #[must_use]
    pub fn description(self) -> String {
        match self {
            Self::UntrustedIssuer | Self::NoMatch | Self::Ambiguous => {
                "no federated credential accepts the token".to_owned()
            }
            _ => self.to_string(),
        }
    }

    /// A short label for metrics (`tessera_federation_exchanges_total{result}`).
    #[must_use]
    pub const fn label(self) -> &'static str {
        match self {
            Self::TooLarge | Self::Malformed | Self::Unsigned | Self::CriticalHeader => "malformed",
            Self::AlgorithmNotAllowed | Self::EmbeddedKey | Self::AlgorithmKeyMismatch => "algorithm",
            Self::UntrustedIssuer => "untrusted_issuer",
            Self::KeysUnavailable => "keys_unavailable",
            Self::UnknownKey => "unknown_key",
            Self::BadSignature => "bad_signature",
            Self::MissingExpiry | Self::Expired | Self::NotYetValid => "expired",
            Self::MissingIssuedAt | Self::IssuedInFuture | Self::TooOld => "too_old",
            Self::InvalidJti => "replayed",
            Self::NoMatch | Self::Ambiguous => "no_match",
        }
    }
}

/// What the server accepts: skew and maximum age.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FederationPolicy {
    /// Allowed clock difference with the issuer.
    pub skew: Duration,
    /// Oldest `iat` accepted.
    pub max_age: Duration,
}

impl Default for FederationPolicy {
    fn default() -> Self {
        Self { skew: DEFAULT_SKEW, max_age: DEFAULT_MAX_AGE }
    }
}

/// The JOSE header members read. The presence of a key-naming member is
/// enough to refuse the token.
#[derive(Deserialize)]
struct Header {
    alg: Option<String>,
    kid: Option<String>,
    crit: Option<Value>,
    jku: Option<Value>,
    x5u: Option<Value>,
    jwk: Option<Value>,
    x5c: Option<Value>,
}

/// A parsed but unverified external token: only its issuer and key id may be
/// used, to find the credentials and keys to verify it with.
pub struct UnverifiedExternal<'a> {
    signing_input: &'a str,
    signature: &'a str,
    algorithm: Algorithm,
    kid: Option<String>,
    claims: Claims,
    all: Map<String, Value>,
}

impl std::fmt::Debug for UnverifiedExternal<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UnverifiedExternal").field("algorithm", &self.algorithm).finish_non_exhaustive()
    }
}

/// The allow-listed algorithm named `alg`.
fn allowed(alg: &str) -> Option<Algorithm> {
    Some(match alg {
        "RS256" => Algorithm::RS256,
        "RS384" => Algorithm::RS384,
        "RS512" => Algorithm::RS512,
        "PS256" => Algorithm::PS256,
        "ES256" => Algorithm::ES256,
        "ES384" => Algorithm::ES384,
        "EdDSA" => Algorithm::EdDSA,
        _ => return None,
    })
}

/// Parses an external token up to the point where its issuer's credentials
/// and keys can be looked up.
///
/// # Errors
/// The header and format rules of the module docs.
pub fn parse_external(token: &str) -> Result<UnverifiedExternal<'_>, FederationError> {
    if token.len() > MAX_TOKEN_LEN {
        return Err(FederationError::TooLarge);
    }
    let (signing_input, header_b64, claims_b64, signature) =
        split_jws(token).map_err(|_| FederationError::Malformed)?;
    let header: Header = decode_segment(header_b64).map_err(|_| FederationError::Malformed)?;
    let alg = header.alg.as_deref().ok_or(FederationError::Malformed)?;
    if alg.eq_ignore_ascii_case("none") || signature.is_empty() {
        return Err(FederationError::Unsigned);
    }
    let algorithm = allowed(alg).ok_or(FederationError::AlgorithmNotAllowed)?;
    // RFC 8725 §3.10: a token that names where its key is, or carries it,
    // is refused outright rather than ignored, so a misconfigured or hostile
    // issuer shows up in the metrics.
    if header.jku.is_some() || header.x5u.is_some() || header.jwk.is_some() || header.x5c.is_some() {
        return Err(FederationError::EmbeddedKey);
    }
    if header.crit.is_some() {
        return Err(FederationError::CriticalHeader);
    }
    let claims: Claims = decode_segment(claims_b64).map_err(|_| FederationError::Malformed)?;
    let all: Map<String, Value> = decode_segment(claims_b64).map_err(|_| FederationError::Malformed)?;
    Ok(UnverifiedExternal { signing_input, signature, algorithm, kid: header.kid, claims, all })
}

/// A token whose signature and time claims passed.
#[derive(Debug, Clone)]
pub struct VerifiedExternal {
    /// `iss`.
    pub issuer: String,
    /// `sub`.
    pub subject: String,
    /// The key that verified the signature, when it had a `kid`.
    pub kid: Option<String>,
    /// `jti`, if any: record it until [`VerifiedExternal::replay_window_end`].
    pub jti: Option<String>,
    /// `iat`.
    pub issued_at: Timestamp,
    /// `exp`: no token issued for this one may outlive it.
    pub expires_at: Timestamp,
    replay_window_end: Timestamp,
    audiences: Vec<String>,
    claims: Map<String, Value>,
}

impl UnverifiedExternal<'_> {
    /// The unverified `iss`, to find the credentials that trust it.
    ///
    /// # Errors
    /// [`FederationError::UntrustedIssuer`] when there is none.
    pub fn issuer(&self) -> Result<&str, FederationError> {
        self.claims.iss.as_deref().filter(|s| !s.is_empty()).ok_or(FederationError::UntrustedIssuer)
    }

    /// The unverified `kid`, if any.
    #[must_use]
    pub fn key_id(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// The unverified `sub`, to find the credentials for it.
    #[must_use]
    pub fn subject(&self) -> Option<&str> {
        self.claims.sub.as_deref().filter(|s| !s.is_empty())
    }

    /// Checks the signature against `keys` (the issuer's key set) and the
    /// time claims against `now`.
    ///
    /// # Errors
    /// The first rule broken (module docs).
    pub fn verify(
        &self,
        keys: &JwkSet,
        policy: &FederationPolicy,
        now: Timestamp,
    ) -> Result<VerifiedExternal, FederationError> {
        self.verify_signature(keys)?;
        let c = &self.claims;
        let exp = numeric_date(c.exp.as_ref()).map_err(|_| FederationError::Malformed)?;
        let exp = exp.ok_or(FederationError::MissingExpiry)?;
        if now >= exp + policy.skew {
            return Err(FederationError::Expired);
        }
        if let Some(nbf) = numeric_date(c.nbf.as_ref()).map_err(|_| FederationError::Malformed)?
            && now + policy.skew < nbf
        {
            return Err(FederationError::NotYetValid);
        }
        let iat = numeric_date(c.iat.as_ref()).map_err(|_| FederationError::Malformed)?;
        let iat = iat.ok_or(FederationError::MissingIssuedAt)?;
        if iat > now + policy.skew {
            return Err(FederationError::IssuedInFuture);
        }
        if iat + policy.max_age < now - policy.skew {
            return Err(FederationError::TooOld);
        }
        if let Some(jti) = &c.jti
            && (jti.is_empty() || jti.len() > MAX_JTI_LEN || jti.chars().any(char::is_control))
        {
            return Err(FederationError::InvalidJti);
        }
        let audiences = match &c.aud {
            Some(Aud::One(a)) => vec![a.clone()],
            Some(Aud::Many(all)) => all.clone(),
            None => Vec::new(),
        };
        Ok(VerifiedExternal {
            issuer: self.issuer()?.to_owned(),
            subject: c.sub.clone().unwrap_or_default(),
            kid: self.kid.clone(),
            jti: c.jti.clone(),
            issued_at: iat,
            expires_at: exp,
            replay_window_end: exp.min(iat + policy.max_age) + policy.skew,
            audiences,
            claims: self.all.clone(),
        })
    }

    fn verify_signature(&self, keys: &JwkSet) -> Result<(), FederationError> {
        let candidates: Vec<&Jwk> = match &self.kid {
            Some(kid) => {
                let key = keys
                    .keys
                    .iter()
                    .find(|k| k.common.key_id.as_deref() == Some(kid.as_str()))
                    .ok_or(FederationError::UnknownKey)?;
                if !fits(key, self.algorithm) {
                    return Err(FederationError::AlgorithmKeyMismatch);
                }
                vec![key]
            }
            None => {
                let fitting: Vec<&Jwk> = keys.keys.iter().filter(|k| fits(k, self.algorithm)).collect();
                if fitting.is_empty() {
                    return Err(if keys.keys.is_empty() {
                        FederationError::UnknownKey
                    } else {
                        FederationError::AlgorithmKeyMismatch
                    });
                }
                fitting
            }
        };
        for key in candidates {
            let Ok(decoding) = jsonwebtoken::DecodingKey::from_jwk(key) else { continue };
            // The algorithm is the header's, but only after `fits` tied it to
            // the key's type: an RSA key never verifies an HMAC.
            if jsonwebtoken::crypto::verify(self.signature, self.signing_input.as_bytes(), &decoding, self.algorithm)
                .unwrap_or(false)
            {
                return Ok(());
            }
        }
        Err(FederationError::BadSignature)
    }
}

/// Whether `key` may verify a signature made with `alg` (RFC 8725 §3.1): the
/// key type and curve of the algorithm, an RSA modulus of 2048 bits or more,
/// the key's own `alg` (when it names one) equal to `alg`, and not a key
/// meant only for encryption.
#[must_use]
pub fn fits(key: &Jwk, alg: Algorithm) -> bool {
    if let Some(own) = key.common.key_algorithm
        && key_algorithm(own) != Some(alg)
    {
        return false;
    }
    if matches!(key.common.public_key_use, Some(jsonwebtoken::jwk::PublicKeyUse::Encryption)) {
        return false;
    }
    match (&key.algorithm, alg) {
        (AlgorithmParameters::RSA(rsa), Algorithm::RS256 | Algorithm::RS384 | Algorithm::RS512 | Algorithm::PS256) => {
            rsa_modulus_len(&rsa.n) >= MIN_RSA_MODULUS
        }
        (AlgorithmParameters::EllipticCurve(ec), Algorithm::ES256) => ec.curve == EllipticCurve::P256,
        (AlgorithmParameters::EllipticCurve(ec), Algorithm::ES384) => ec.curve == EllipticCurve::P384,
        (AlgorithmParameters::OctetKeyPair(okp), Algorithm::EdDSA) => okp.curve == EllipticCurve::Ed25519,
        _ => false,
    }
}

/// The modulus length in bytes of a base64url `n`, leading zeros dropped.
fn rsa_modulus_len(n: &str) -> usize {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(n.trim_end_matches('='))
        .map(|b| b.iter().skip_while(|x| **x == 0).count())
        .unwrap_or(0)
}

/// The signing algorithm a JWK's `alg` names, if it is one.
fn key_algorithm(a: KeyAlgorithm) -> Option<Algorithm> {
    Some(match a {
        KeyAlgorithm::RS256 => Algorithm::RS256,
        KeyAlgorithm::RS384 => Algorithm::RS384,
        KeyAlgorithm::RS512 => Algorithm::RS512,
        KeyAlgorithm::PS256 => Algorithm::PS256,
        KeyAlgorithm::PS384 => Algorithm::PS384,
        KeyAlgorithm::PS512 => Algorithm::PS512,
        KeyAlgorithm::ES256 => Algorithm::ES256,
        KeyAlgorithm::ES384 => Algorithm::ES384,
        KeyAlgorithm::EdDSA => Algorithm::EdDSA,
        KeyAlgorithm::HS256 => Algorithm::HS256,
        KeyAlgorithm::HS384 => Algorithm::HS384,
        KeyAlgorithm::HS512 => Algorithm::HS512,
        _ => return None,
    })
}

/// Checks an inline JWKS given for a credential: a JSON key set of 1 to 20
/// public keys, each usable with some allowed algorithm (no symmetric or
/// private keys).
///
/// # Errors
/// A sentence saying what is wrong, never quoting the input.
pub fn parse_inline_jwks(text: &str) -> Result<JwkSet, &'static str> {
    let set: JwkSet = serde_json::from_str(text).map_err(|_| "is not a JSON Web Key Set")?;
    if set.keys.is_empty() || set.keys.len() > 20 {
        return Err("must hold 1 to 20 keys");
    }
    let raw: Value = serde_json::from_str(text).map_err(|_| "is not a JSON Web Key Set")?;
    let private = raw["keys"].as_array().is_some_and(|keys| keys.iter().any(|k| k.get("d").is_some()));
    if private {
        return Err("must hold public keys only");
    }
    let usable = |k: &Jwk| {
        ["RS256", "RS384", "RS512", "PS256", "ES256", "ES384", "EdDSA"]
            .iter()
            .filter_map(|a| allowed(a))
            .any(|a| fits(k, a))
    };
    if !set.keys.iter().all(usable) {
        return Err("must hold RSA (2048 bits or more), P-256, P-384 or Ed25519 signing keys only");
    }
    Ok(set)
}

impl VerifiedExternal {
    /// Until when a `jti` record must be kept: the earlier of `exp` and `iat`
    /// plus the maximum age, plus the skew.
    #[must_use]
    pub const fn replay_window_end(&self) -> Timestamp {
        self.replay_window_end
    }

    /// The one credential among `candidates` (those trusting the token's
    /// issuer, whose keys verified it) that the token meets: same issuer and
    /// subject, its audience among the token's, every condition met.
    ///
    /// # Errors
    /// [`FederationError::NoMatch`] for none, [`FederationError::Ambiguous`]
    /// for more than one.
    pub fn select<'c>(
        &self,
        candidates: &'c [FederatedCredential],
    ) -> Result<&'c FederatedCredential, FederationError> {
        let mut found = candidates.iter().filter(|c| self.meets(c));
        let first = found.next().ok_or(FederationError::NoMatch)?;
        if found.next().is_some() {
            return Err(FederationError::Ambiguous);
        }
        Ok(first)
    }

    /// Whether the token meets `credential`.
    #[must_use]
    pub fn meets(&self, credential: &FederatedCredential) -> bool {
        credential.issuer.as_str() == self.issuer
            && credential.subject.as_str() == self.subject
            && self.audiences.iter().any(|a| a == credential.audience.as_str())
            && credential.conditions.iter().all(|c| self.condition_holds(c))
    }

    fn condition_holds(&self, condition: &ClaimCondition) -> bool {
        claim_text(&self.claims, condition.claim()).is_some_and(|v| condition.matches(&v))
    }
}

/// The text of the claim at `path` (module docs of
/// `tessera_domain::federation::ClaimCondition`): members joined by `.`, a
/// member whose name contains dots found too. Strings, numbers and booleans
/// have a text; objects, arrays and null do not.
fn claim_text(claims: &Map<String, Value>, path: &str) -> Option<String> {
    fn find<'v>(obj: &'v Map<String, Value>, path: &str) -> Option<&'v Value> {
        if let Some(v) = obj.get(path) {
            return Some(v);
        }
        // Every split at a dot: `kubernetes.io.namespace` tries `kubernetes`,
        // then `kubernetes.io`. Claim names are at most 128 bytes, so this is
        // bounded.
        path.match_indices('.').find_map(|(i, _)| match obj.get(&path[..i]) {
            Some(Value::Object(inner)) => find(inner, &path[i + 1..]),
            _ => None,
        })
    }
    match find(claims, path)? {
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

pub mod keys;

#[cfg(test)]
mod tests;
