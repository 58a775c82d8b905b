//! JWT-bearer assertions: the JWT Profile grant (RFC 7523 §2.1, machine users)
//! and `private_key_jwt` client authentication (RFC 7523 §2.2, applications),
//! checked by the rules of RFC 7523 §3 and RFC 8725.
//!
//! Checking is two-phase and does no I/O: [`parse_assertion`] reads the
//! unverified `sub` (and `kid`) so the caller can load that principal's
//! registered keys; [`UnverifiedAssertion::verify`] then checks the signature
//! against those keys only and every claim against the caller's clock. The
//! caller finally records [`VerifiedAssertion::jti`] until
//! [`VerifiedAssertion::replay_window_end`] to refuse replays (RFC 7523 §3
//! item 7; `UsedJtiRepository::record`).
//!
//! | rule | source | error |
//! |---|---|---|
//! | at most 8 KiB, checked before parsing | RFC 8725 §3.9 (resource use) | [`AssertionError::TooLarge`] |
//! | compact JWS of three base64url parts, JSON objects without duplicate members | RFC 7519 §7.2, RFC 7515 §5.2 | [`AssertionError::Malformed`] |
//! | signed: `alg` is not `none`, the signature is not empty | RFC 7523 §3 item 9, RFC 8725 §3.1 | [`AssertionError::Unsigned`] |
//! | `alg` is `RS256`, `ES256` or `EdDSA`; never HMAC | RFC 8725 §2.1, §3.1 | [`AssertionError::AlgorithmNotAllowed`] |
//! | no `crit` extensions | RFC 7515 §4.1.11 | [`AssertionError::CriticalHeader`] |
//! | `kid`, when present, names a registered key of the subject | RFC 7515 §4.1.4, RFC 8725 §3.10 | [`AssertionError::UnknownKey`] |
//! | that key is not expired | RFC 7523 §3 item 9 | [`AssertionError::KeyExpired`] |
//! | without `kid`, some key of the subject is unexpired | RFC 7523 §3 item 9 | [`AssertionError::NoUsableKey`] |
//! | `alg` is the one algorithm of the key's type | RFC 8725 §3.1 | [`AssertionError::AlgorithmKeyMismatch`] |
//! | the signature verifies with a registered key | RFC 7523 §3 item 9 | [`AssertionError::BadSignature`] |
//! | `jku`, `x5u`, `jwk`, `x5c` headers are ignored, never fetched or trusted | RFC 8725 §3.10 | [`AssertionError::BadSignature`] |
//! | `sub` present | RFC 7523 §3 item 2 | [`AssertionError::MissingSubject`] |
//! | `sub` is the principal whose keys were given | RFC 7523 §3 item 2 | [`AssertionError::SubjectMismatch`] |
//! | `iss` is the same principal | RFC 7523 §3 item 1 | [`AssertionError::IssuerMismatch`] |
//! | `aud` contains the issuer or token endpoint URL, compared exactly | RFC 7523 §3 item 3 | [`AssertionError::AudienceMismatch`] |
//! | `exp` present | RFC 7523 §3 item 4 | [`AssertionError::MissingExpiry`] |
//! | `exp` not passed, beyond the skew | RFC 7523 §3 item 4 | [`AssertionError::Expired`] |
//! | `nbf`, when present, reached, within the skew | RFC 7523 §3 item 5 | [`AssertionError::NotYetValid`] |
//! | `iat` present | RFC 7523 §3 item 6 | [`AssertionError::MissingIssuedAt`] |
//! | `iat` not in the future beyond the skew | RFC 7523 §3 item 6 | [`AssertionError::IssuedInFuture`] |
//! | `iat` not older than the maximum age (1 h) | RFC 7523 §3 item 6 | [`AssertionError::TooOld`] |
//! | `jti`, when present, a string of 1–255 bytes without control characters | RFC 7523 §3 item 7 | [`AssertionError::InvalidJti`] |
//!
//! Error messages never contain the assertion or any part of it.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{Duration, TimeZone as _, Utc};
use jsonwebtoken::Algorithm;
use serde::Deserialize;
use tessera_domain::Timestamp;
use tessera_domain::access_token::MAX_JTI_LEN;
use tessera_domain::machine_key::{MachineKey, PublicKeyType};

use crate::keyfile;

/// Longest assertion looked at (RFC 8725 §3.9: bound the work an attacker can
/// cause). A typical RS256 assertion is under 1 KiB.
pub const MAX_ASSERTION_LEN: usize = 8 * 1024;
/// Default allowed clock difference between client and server.
pub const DEFAULT_SKEW: Duration = Duration::seconds(5);
/// Default maximum age of an assertion (from `iat`).
pub const DEFAULT_MAX_AGE: Duration = Duration::hours(1);

/// Why an assertion was refused: one variant per rule (module docs). The
/// token endpoint answers every one of them with `invalid_grant` (or
/// `invalid_client` for client authentication); the variant is for logs and
/// tests. No message contains any part of the assertion.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AssertionError {
    /// RFC 8725 §3.9: longer than [`MAX_ASSERTION_LEN`]; refused before parsing.
    #[error("the assertion is too large")]
    TooLarge,
    /// RFC 7519 §7.2: not a compact JWS with JSON header and claims (or a
    /// member of the wrong type, or a duplicated member).
    #[error("the assertion is not a well-formed JWT")]
    Malformed,
    /// RFC 7523 §3 item 9: `alg` is `none` or the signature is empty.
    #[error("the assertion is not signed")]
    Unsigned,
    /// RFC 8725 §3.1: `alg` is not one of `RS256`, `ES256`, `EdDSA` (HMAC never is).
    #[error("the assertion's algorithm is not allowed")]
    AlgorithmNotAllowed,
    /// RFC 7515 §4.1.11: a `crit` header names extensions Tessera does not implement.
    #[error("the assertion uses critical header extensions")]
    CriticalHeader,
    /// RFC 7515 §4.1.4: `kid` names no key registered for the subject.
    #[error("the assertion's key is not registered for its subject")]
    UnknownKey,
    /// RFC 7523 §3 item 9: the key named by `kid` has expired.
    #[error("the assertion's key has expired")]
    KeyExpired,
    /// RFC 7523 §3 item 9: no `kid`, and the subject has no unexpired key.
    #[error("the subject has no usable key")]
    NoUsableKey,
    /// RFC 8725 §3.1: `alg` is not the algorithm of the registered key's type.
    #[error("the assertion's algorithm does not match the registered key")]
    AlgorithmKeyMismatch,
    /// RFC 7523 §3 item 9: the signature does not verify with any registered key.
    #[error("the assertion's signature is invalid")]
    BadSignature,
    /// RFC 7523 §3 item 2: no `sub`.
    #[error("the assertion has no subject")]
    MissingSubject,
    /// RFC 7523 §3 item 2: `sub` is not the principal whose keys were given.
    #[error("the assertion's subject does not match")]
    SubjectMismatch,
    /// RFC 7523 §3 item 1: `iss` is missing or differs from `sub`.
    #[error("the assertion's issuer does not match its subject")]
    IssuerMismatch,
    /// RFC 7523 §3 item 3: `aud` is missing or names neither the issuer nor the
    /// token endpoint.
    #[error("the assertion's audience does not name this server")]
    AudienceMismatch,
    /// RFC 7523 §3 item 4: no `exp`.
    #[error("the assertion has no expiration time")]
    MissingExpiry,
    /// RFC 7523 §3 item 4: `exp` has passed (beyond the allowed skew).
    #[error("the assertion has expired")]
    Expired,
    /// RFC 7523 §3 item 5: `nbf` is still in the future (beyond the allowed skew).
    #[error("the assertion is not valid yet")]
    NotYetValid,
    /// RFC 7523 §3 item 6: no `iat`.
    #[error("the assertion has no issue time")]
    MissingIssuedAt,
    /// RFC 7523 §3 item 6: `iat` is in the future (beyond the allowed skew).
    #[error("the assertion's issue time is in the future")]
    IssuedInFuture,
    /// RFC 7523 §3 item 6: `iat` is older than the maximum age.
    #[error("the assertion is too old")]
    TooOld,
    /// RFC 7523 §3 item 7: `jti` is empty, too long or contains control characters.
    #[error("the assertion's jti is invalid")]
    InvalidJti,
}

impl AssertionError {
    /// What the client may be told about this refusal, naming the rule and
    /// what to do; `None` where naming it would leak something.
    ///
    /// Rules about the assertion's own shape are checked before any key is
    /// looked up, and claim rules only after the signature verified (so whoever
    /// learns of them holds a registered key): both leak nothing. Key and
    /// signature rules would tell whether a user or key exists, so they share
    /// one generic description (`None` here).
    #[must_use]
    pub fn public_description(self, policy: &AssertionPolicy) -> Option<String> {
        let accepted = policy.audiences.join(" or ");
        let skew = policy.skew.num_seconds();
        let text = match self {
            Self::UnknownKey
            | Self::KeyExpired
            | Self::NoUsableKey
            | Self::AlgorithmKeyMismatch
            | Self::BadSignature => {
                return None;
            }
            Self::TooLarge => format!("the assertion is larger than {MAX_ASSERTION_LEN} bytes"),
            Self::Malformed => {
                "the assertion is not a well-formed signed JWT (three base64url parts, JSON header and claims)".into()
            }
            Self::Unsigned => "the assertion must be signed (alg none is refused)".into(),
            Self::AlgorithmNotAllowed => "the assertion's alg must be RS256, ES256 or EdDSA".into(),
            Self::CriticalHeader => "the assertion must not have a crit header".into(),
            Self::MissingSubject => "the assertion must have a sub claim".into(),
            Self::SubjectMismatch => "the assertion's sub must be the owner of the signing key".into(),
            Self::IssuerMismatch => "the assertion's iss must equal its sub".into(),
            Self::AudienceMismatch => format!("the assertion's aud must contain {accepted}"),
            Self::MissingExpiry => "the assertion must have an exp claim".into(),
            Self::Expired => {
                format!("the assertion has expired (exp is in the past by more than {skew} s): create a new one")
            }
            Self::NotYetValid => {
                format!("the assertion's nbf is more than {skew} s in the future: check the client's clock")
            }
            Self::MissingIssuedAt => "the assertion must have an iat claim".into(),
            Self::IssuedInFuture => {
                format!("the assertion's iat is more than {skew} s in the future: check the client's clock")
            }
            Self::TooOld => format!(
                "the assertion's iat is more than {} s in the past: create a new one",
                policy.max_age.num_seconds()
            ),
            Self::InvalidJti => "the assertion's jti must be 1 to 255 bytes without control characters".into(),
        };
        Some(text)
    }
}

/// What the server accepts: its audiences, the clock skew and the maximum age.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssertionPolicy {
    audiences: Vec<String>,
    skew: Duration,
    max_age: Duration,
}

impl AssertionPolicy {
    /// A policy accepting `aud` values equal to `issuer` (ZITADEL's SDKs send the
    /// issuer) or `token_endpoint` (RFC 7523 §3 item 3 suggests it), with the
    /// default skew (5 s) and maximum age (1 h).
    #[must_use]
    pub fn new(issuer: impl Into<String>, token_endpoint: impl Into<String>) -> Self {
        Self { audiences: vec![issuer.into(), token_endpoint.into()], skew: DEFAULT_SKEW, max_age: DEFAULT_MAX_AGE }
    }

    /// Sets the allowed clock skew (negative values count as zero).
    #[must_use]
    pub fn with_skew(mut self, skew: Duration) -> Self {
        self.skew = skew.max(Duration::zero());
        self
    }

    /// Sets the maximum age of an assertion.
    #[must_use]
    pub fn with_max_age(mut self, max_age: Duration) -> Self {
        self.max_age = max_age;
        self
    }

    /// The accepted audiences.
    #[must_use]
    pub fn audiences(&self) -> &[String] {
        &self.audiences
    }

    /// The allowed clock skew.
    #[must_use]
    pub const fn skew(&self) -> Duration {
        self.skew
    }
}

/// A registered public key the assertion may be signed with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CandidateKey {
    /// The key id, matched against the assertion's `kid`.
    pub kid: String,
    /// The key type, which fixes the algorithm.
    pub key_type: PublicKeyType,
    /// The public key, SPKI PEM as stored.
    pub public_key_pem: String,
    /// After this instant the key is refused.
    pub expires_at: Timestamp,
}

impl From<&MachineKey> for CandidateKey {
    fn from(k: &MachineKey) -> Self {
        Self {
            kid: k.id.to_string(),
            key_type: k.key_type,
            public_key_pem: k.public_key_pem.clone(),
            expires_at: k.expires_at,
        }
    }
}

/// The JOSE header members Tessera reads. Every other member — `jku`, `x5u`,
/// `jwk`, `x5c` included — is ignored: keys come from the registry only
/// (RFC 8725 §3.10).
#[derive(Deserialize)]
struct Header {
    alg: Option<String>,
    kid: Option<String>,
    crit: Option<serde_json::Value>,
}

/// `aud` is a string or an array of strings (RFC 7519 §4.1.3).
#[derive(Deserialize)]
#[serde(untagged)]
pub(crate) enum Audience {
    One(String),
    Many(Vec<String>),
}

/// The registered claims Tessera reads. Derived deserialization refuses
/// duplicated members, so `{"sub":"a","sub":"b"}` cannot mean two things.
#[derive(Deserialize)]
pub(crate) struct Claims {
    pub(crate) iss: Option<String>,
    pub(crate) sub: Option<String>,
    pub(crate) aud: Option<Audience>,
    pub(crate) exp: Option<serde_json::Number>,
    pub(crate) nbf: Option<serde_json::Number>,
    pub(crate) iat: Option<serde_json::Number>,
    pub(crate) jti: Option<String>,
}

/// A NumericDate (RFC 7519 §2): seconds since the epoch, possibly fractional.
pub(crate) fn numeric_date(n: Option<&serde_json::Number>) -> Result<Option<Timestamp>, AssertionError> {
    let Some(n) = n else { return Ok(None) };
    let secs = n.as_f64().filter(|f| f.is_finite()).ok_or(AssertionError::Malformed)?;
    // Saturating cast; an out-of-range value then fails the range check below.
    #[allow(clippy::cast_possible_truncation, reason = "NumericDate fractions are dropped on purpose")]
    let whole = secs.floor() as i64;
    Utc.timestamp_opt(whole, 0).single().map(Some).ok_or(AssertionError::Malformed)
}

/// A parsed but unverified assertion. Nothing in it is trustworthy before
/// [`UnverifiedAssertion::verify`]; only the subject and key id may be used to
/// find the keys to verify with.
pub struct UnverifiedAssertion<'a> {
    signing_input: &'a str,
    signature: &'a str,
    algorithm: Algorithm,
    kid: Option<String>,
    claims: Claims,
    exp: Option<Timestamp>,
    nbf: Option<Timestamp>,
    iat: Option<Timestamp>,
}

impl std::fmt::Debug for UnverifiedAssertion<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("UnverifiedAssertion([redacted])")
    }
}

/// Parses an assertion up to the point where its keys can be looked up.
///
/// # Errors
/// [`AssertionError::TooLarge`], [`AssertionError::Malformed`],
/// [`AssertionError::Unsigned`], [`AssertionError::AlgorithmNotAllowed`] or
/// [`AssertionError::CriticalHeader`].
pub fn parse_assertion(assertion: &str) -> Result<UnverifiedAssertion<'_>, AssertionError> {
    // RFC 8725 §3.9: bound the work before looking at the content.
    if assertion.len() > MAX_ASSERTION_LEN {
        return Err(AssertionError::TooLarge);
    }
    let (signing_input, header_b64, claims_b64, signature) = split_jws(assertion)?;
    let header: Header = decode_segment(header_b64)?;

    let alg = header.alg.as_deref().ok_or(AssertionError::Malformed)?;
    // RFC 7523 §3 item 9 / RFC 8725 §3.1: unsecured JWTs are never accepted.
    if alg.eq_ignore_ascii_case("none") || signature.is_empty() {
        return Err(AssertionError::Unsigned);
    }
    // RFC 8725 §3.1 and §2.1: an allow-list of asymmetric algorithms; HMAC
    // (where a public key could be misused as the shared secret) never.
    let algorithm = match alg {
        "RS256" => Algorithm::RS256,
        "ES256" => Algorithm::ES256,
        "EdDSA" => Algorithm::EdDSA,
        _ => return Err(AssertionError::AlgorithmNotAllowed),
    };
    // RFC 7515 §4.1.11: no extension is understood, so any `crit` is refused.
    if header.crit.is_some() {
        return Err(AssertionError::CriticalHeader);
    }
    let claims: Claims = decode_segment(claims_b64)?;
    Ok(UnverifiedAssertion {
        signing_input,
        signature,
        algorithm,
        kid: header.kid,
        exp: numeric_date(claims.exp.as_ref())?,
        nbf: numeric_date(claims.nbf.as_ref())?,
        iat: numeric_date(claims.iat.as_ref())?,
        claims,
    })
}

/// The parts of a compact JWS (RFC 7515 §7.1): signing input, header,
/// claims and signature, base64url. Exactly three parts: five would be a JWE,
/// which is not supported.
pub(crate) fn split_jws(token: &str) -> Result<(&str, &str, &str, &str), AssertionError> {
    let mut parts = token.split('.');
    let (Some(header), Some(claims), Some(signature), None) = (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(AssertionError::Malformed);
    };
    Ok((&token[..header.len() + 1 + claims.len()], header, claims, signature))
}

pub(crate) fn decode_segment<T: for<'de> Deserialize<'de>>(b64: &str) -> Result<T, AssertionError> {
    let bytes = URL_SAFE_NO_PAD.decode(b64).map_err(|_| AssertionError::Malformed)?;
    serde_json::from_slice(&bytes).map_err(|_| AssertionError::Malformed)
}

/// An assertion that passed every rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedAssertion {
    /// `sub`: the authenticated principal.
    pub subject: String,
    /// The id of the registered key that verified the signature.
    pub kid: String,
    /// `jti`, if the client sent one: record it (with
    /// [`VerifiedAssertion::replay_window_end`]) to refuse replays.
    pub jti: Option<String>,
    /// `iat`.
    pub issued_at: Timestamp,
    /// `exp`.
    pub expires_at: Timestamp,
    replay_window_end: Timestamp,
}

impl VerifiedAssertion {
    /// Until when this assertion would be accepted again: the earlier of `exp`
    /// and `iat` plus the maximum age, plus the skew. A `jti` record must live
    /// at least this long (RFC 7523 §3 item 7) and need not live longer.
    #[must_use]
    pub const fn replay_window_end(&self) -> Timestamp {
        self.replay_window_end
    }
}

impl UnverifiedAssertion<'_> {
    /// The unverified `sub`, to look up the principal and its keys.
    ///
    /// # Errors
    /// [`AssertionError::MissingSubject`] (RFC 7523 §3 item 2).
    pub fn subject(&self) -> Result<&str, AssertionError> {
        self.claims.sub.as_deref().filter(|s| !s.is_empty()).ok_or(AssertionError::MissingSubject)
    }

    /// The unverified `kid`, if any.
    #[must_use]
    pub fn key_id(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// Checks signature and claims: `keys` are the registered keys of
    /// `principal` (a machine user's id, or an application's client id), `now`
    /// comes from the caller's clock.
    ///
    /// # Errors
    /// The [`AssertionError`] of the first rule broken (module docs).
    pub fn verify(
        &self,
        principal: &str,
        keys: &[CandidateKey],
        policy: &AssertionPolicy,
        now: Timestamp,
    ) -> Result<VerifiedAssertion, AssertionError> {
        let kid = self.verify_signature(keys, now)?;
        let c = &self.claims;
        // RFC 7523 §3 item 2: the subject is the principal the keys belong to.
        if self.subject()? != principal {
            return Err(AssertionError::SubjectMismatch);
        }
        // RFC 7523 §3 item 1: a client (or machine user) asserting for itself is
        // both issuer and subject.
        if c.iss.as_deref() != Some(principal) {
            return Err(AssertionError::IssuerMismatch);
        }
        // RFC 7523 §3 item 3: exact string comparison, no normalisation (a
        // trailing slash is another audience).
        let names_us = |a: &String| policy.audiences.iter().any(|ours| ours == a);
        let audience_ok = match &c.aud {
            Some(Audience::One(a)) => names_us(a),
            Some(Audience::Many(all)) => all.iter().any(names_us),
            None => false,
        };
        if !audience_ok {
            return Err(AssertionError::AudienceMismatch);
        }
        // RFC 7523 §3 item 4: `exp` is required and must not have passed.
        let exp = self.exp.ok_or(AssertionError::MissingExpiry)?;
        if now >= exp + policy.skew {
            return Err(AssertionError::Expired);
        }
        // RFC 7523 §3 item 5: honour `nbf`.
        if let Some(nbf) = self.nbf
            && now + policy.skew < nbf
        {
            return Err(AssertionError::NotYetValid);
        }
        // RFC 7523 §3 item 6: `iat` is required here (Tessera's choice, as
        // ZITADEL), must not lie in the future and must not be too old.
        let iat = self.iat.ok_or(AssertionError::MissingIssuedAt)?;
        if iat > now + policy.skew {
            return Err(AssertionError::IssuedInFuture);
        }
        if iat + policy.max_age < now - policy.skew {
            return Err(AssertionError::TooOld);
        }
        // RFC 7523 §3 item 7: the `jti` is handed back for replay protection;
        // it must fit the ledger.
        if let Some(jti) = &c.jti
            && (jti.is_empty() || jti.len() > MAX_JTI_LEN || jti.chars().any(char::is_control))
        {
            return Err(AssertionError::InvalidJti);
        }
        Ok(VerifiedAssertion {
            subject: principal.to_owned(),
            kid,
            jti: c.jti.clone(),
            issued_at: iat,
            expires_at: exp,
            replay_window_end: exp.min(iat + policy.max_age) + policy.skew,
        })
    }

    /// Picks the keys to try and verifies the signature; returns the `kid` that
    /// verified.
    fn verify_signature(&self, keys: &[CandidateKey], now: Timestamp) -> Result<String, AssertionError> {
        let expired = |k: &CandidateKey| now >= k.expires_at;
        let candidates: Vec<&CandidateKey> = match &self.kid {
            // RFC 7515 §4.1.4 and RFC 8725 §3.10: the kid only selects among the
            // subject's registered keys; it is compared, never interpreted.
            Some(kid) => {
                let key = keys.iter().find(|k| &k.kid == kid).ok_or(AssertionError::UnknownKey)?;
                if expired(key) {
                    return Err(AssertionError::KeyExpired);
                }
                if algorithm_of(key.key_type) != self.algorithm {
                    return Err(AssertionError::AlgorithmKeyMismatch);
                }
                vec![key]
            }
            // Without a kid, every unexpired key of the matching type is tried.
            None => {
                let live: Vec<&CandidateKey> = keys.iter().filter(|k| !expired(k)).collect();
                if live.is_empty() {
                    return Err(AssertionError::NoUsableKey);
                }
                let matching: Vec<&CandidateKey> =
                    live.into_iter().filter(|k| algorithm_of(k.key_type) == self.algorithm).collect();
                if matching.is_empty() {
                    return Err(AssertionError::AlgorithmKeyMismatch);
                }
                matching
            }
        };
        for key in candidates {
            // The algorithm comes from the registered key's type, never from the
            // header alone (RFC 8725 §3.1): a header cannot turn an RSA public
            // key into an HMAC secret.
            let Some(decoding) = keyfile::decoding_key(key.key_type, &key.public_key_pem) else { continue };
            let alg = algorithm_of(key.key_type);
            if jsonwebtoken::crypto::verify(self.signature, self.signing_input.as_bytes(), &decoding, alg)
                .unwrap_or(false)
            {
                return Ok(key.kid.clone());
            }
        }
        Err(AssertionError::BadSignature)
    }
}

/// The one JWS algorithm a key type may sign with (RFC 8725 §3.1).
fn algorithm_of(t: PublicKeyType) -> Algorithm {
    match t {
        PublicKeyType::Rsa => Algorithm::RS256,
        PublicKeyType::EcP256 => Algorithm::ES256,
        PublicKeyType::Ed25519 => Algorithm::EdDSA,
    }
}

#[cfg(test)]
mod tests {
    use std::sync::OnceLock;

    use jsonwebtoken::EncodingKey;
    use serde_json::{Value, json};
    use tessera_domain::time::far_future;

    use super::*;
    use crate::keyfile::ParsedKeyFile;
    use crate::keyfile::tests::{ec_pair, ed_pair, shared_pair};
    use crate::signing::tests::{sealer, shared_keys};

    const ISSUER: &str = "https://id.example.com";
    const TOKEN_ENDPOINT: &str = "https://id.example.com/oauth/v2/token";
    const USER: &str = "0193a7d2-4c1e-7a52-9d3c-1f2e3d4c5b6a";
    const KID: &str = "rsa-key";

    fn now() -> Timestamp {
        Utc.with_ymd_and_hms(2030, 6, 1, 12, 0, 0).unwrap()
    }

    fn policy() -> AssertionPolicy {
        AssertionPolicy::new(ISSUER, TOKEN_ENDPOINT)
    }

    struct Keys {
        rsa: EncodingKey,
        rsa_public: String,
        other_rsa: EncodingKey,
        ec: EncodingKey,
        ec_public: String,
        ed: EncodingKey,
        ed_public: String,
    }

    /// Key material shared by the module's tests (no new RSA key generation:
    /// the machine key pair and a signing key of the crate's shared fixtures).
    fn keys() -> &'static Keys {
        static KEYS: OnceLock<Keys> = OnceLock::new();
        KEYS.get_or_init(|| {
            let pair = shared_pair();
            let file = pair.machine_key_file(KID, far_future(), USER).unwrap();
            let parsed = ParsedKeyFile::parse(file.as_bytes()).unwrap();
            let signing = &shared_keys()[0];
            let der = sealer().open(signing.id.to_string().as_bytes(), signing.sealed_private_key.as_bytes()).unwrap();
            let (ec_private, ec_public) = ec_pair();
            let (ed_private, ed_public) = ed_pair();
            Keys {
                rsa: EncodingKey::from_rsa_pem(parsed.private_key_pem.as_bytes()).unwrap(),
                rsa_public: pair.public_key().spki_pem().to_owned(),
                other_rsa: EncodingKey::from_rsa_der(&der),
                ec: EncodingKey::from_ec_der(&ec_private),
                ec_public,
                ed: EncodingKey::from_ed_der(&ed_private),
                ed_public,
            }
        })
    }

    fn candidate(kid: &str, key_type: PublicKeyType, pem: &str) -> CandidateKey {
        CandidateKey { kid: kid.into(), key_type, public_key_pem: pem.into(), expires_at: far_future() }
    }

    fn registered() -> Vec<CandidateKey> {
        let k = keys();
        vec![
            candidate(KID, PublicKeyType::Rsa, &k.rsa_public),
            candidate("ec-key", PublicKeyType::EcP256, &k.ec_public),
            candidate("ed-key", PublicKeyType::Ed25519, &k.ed_public),
        ]
    }

    /// The claims ZITADEL's SDKs send (`WebTokenAuthenticator`).
    fn claims() -> Value {
        let iat = now().timestamp();
        json!({"iss": USER, "sub": USER, "aud": ISSUER, "iat": iat, "exp": iat + 3600})
    }

    fn b64(v: &[u8]) -> String {
        URL_SAFE_NO_PAD.encode(v)
    }

    /// A compact JWS of `header` and `claims` signed with `key` under `alg`.
    fn jws(header: &Value, claims: &Value, key: &EncodingKey, alg: Algorithm) -> String {
        let input = format!("{}.{}", b64(header.to_string().as_bytes()), b64(claims.to_string().as_bytes()));
        let sig = jsonwebtoken::crypto::sign(input.as_bytes(), key, alg).unwrap();
        format!("{input}.{sig}")
    }

    fn rs256(claims: &Value) -> String {
        jws(&json!({"alg": "RS256", "typ": "JWT", "kid": KID}), claims, &keys().rsa, Algorithm::RS256)
    }

    fn check(assertion: &str) -> Result<VerifiedAssertion, AssertionError> {
        check_at(assertion, now())
    }

    fn check_at(assertion: &str, at: Timestamp) -> Result<VerifiedAssertion, AssertionError> {
        let parsed = parse_assertion(assertion)?;
        parsed.verify(USER, &registered(), &policy(), at)
    }

    fn with(mut base: Value, key: &str, value: Value) -> Value {
        base[key] = value;
        base
    }

    fn without(mut base: Value, key: &str) -> Value {
        base.as_object_mut().unwrap().remove(key);
        base
    }

    #[test]
    fn accepts_what_zitadels_sdk_sends() {
        let v = check(&rs256(&claims())).unwrap();
        assert_eq!((v.subject.as_str(), v.kid.as_str(), v.jti.as_deref()), (USER, KID, None));
        assert_eq!(v.expires_at, now() + Duration::hours(1));
        assert_eq!(v.replay_window_end(), now() + Duration::hours(1) + DEFAULT_SKEW);
        let a = rs256(&claims());
        let parsed = parse_assertion(&a).unwrap();
        assert_eq!((parsed.subject(), parsed.key_id()), (Ok(USER), Some(KID)));
    }

    #[test]
    fn accepts_es256_and_eddsa_with_keys_of_that_type() {
        let k = keys();
        let es = jws(&json!({"alg": "ES256", "kid": "ec-key"}), &claims(), &k.ec, Algorithm::ES256);
        assert_eq!(check(&es).unwrap().kid, "ec-key");
        let ed = jws(&json!({"alg": "EdDSA", "kid": "ed-key"}), &claims(), &k.ed, Algorithm::EdDSA);
        assert_eq!(check(&ed).unwrap().kid, "ed-key");
    }

    #[test]
    fn without_kid_the_subjects_keys_are_tried() {
        let a = jws(&json!({"alg": "RS256"}), &claims(), &keys().rsa, Algorithm::RS256);
        assert_eq!(check(&a).unwrap().kid, KID);
        let ed = jws(&json!({"alg": "EdDSA"}), &claims(), &keys().ed, Algorithm::EdDSA);
        assert_eq!(check(&ed).unwrap().kid, "ed-key");
    }

    #[test]
    fn audience_may_be_the_token_endpoint_or_an_array_containing_us() {
        assert!(check(&rs256(&with(claims(), "aud", json!(TOKEN_ENDPOINT)))).is_ok());
        assert!(check(&rs256(&with(claims(), "aud", json!(["https://other", ISSUER])))).is_ok());
    }

    #[test]
    fn returns_the_jti_for_replay_protection() {
        let v = check(&rs256(&with(claims(), "jti", json!("once")))).unwrap();
        assert_eq!(v.jti.as_deref(), Some("once"));
        // A long-lived assertion is only replayable for the maximum age.
        let long = with(claims(), "exp", json!(now().timestamp() + 86_400));
        let v = check(&rs256(&long)).unwrap();
        assert_eq!(v.replay_window_end(), now() + DEFAULT_MAX_AGE + DEFAULT_SKEW);
    }

    #[test]
    fn rejects_oversized_assertions_before_parsing() {
        let huge = "a".repeat(MAX_ASSERTION_LEN + 1);
        assert_eq!(parse_assertion(&huge).unwrap_err(), AssertionError::TooLarge);
        let padded = rs256(&with(claims(), "pad", json!("x".repeat(MAX_ASSERTION_LEN))));
        assert_eq!(check(&padded).unwrap_err(), AssertionError::TooLarge);
    }

    #[test]
    fn rejects_malformed_assertions() {
        let good = rs256(&claims());
        let header = good.split('.').next().unwrap();
        for bad in [
            "",
            "abc",
            "a.b",
            "a.b.c.d.e",
            "!!!.e30.sig",
            &format!("{header}.not-base64!.sig"),
            &format!("{header}.{}.sig", b64(b"[1,2]")),
            &format!("{}.e30.sig", b64(br#"{"alg":"RS256","alg":"none"}"#)),
            &format!("{header}.{}.sig", b64(br#"{"sub":"a","sub":"b"}"#)),
            &format!("{header}.{}.sig", b64(br#"{"exp":"tomorrow"}"#)),
            &format!("{header}.{}.sig", b64(br#"{"iat":1e400}"#)),
        ] {
            assert_eq!(parse_assertion(bad).unwrap_err(), AssertionError::Malformed, "{bad}");
        }
        assert_eq!(
            parse_assertion(&format!("{}.e30.sig", b64(br#"{"typ":"JWT"}"#))).unwrap_err(),
            AssertionError::Malformed,
            "no alg"
        );
    }

    #[test]
    fn rejects_unsigned_assertions() {
        let body = b64(claims().to_string().as_bytes());
        for alg in ["none", "None", "NONE"] {
            let header = b64(json!({"alg": alg}).to_string().as_bytes());
            assert_eq!(parse_assertion(&format!("{header}.{body}.")).unwrap_err(), AssertionError::Unsigned);
        }
        let good = rs256(&claims());
        let stripped = &good[..good.rfind('.').unwrap() + 1];
        assert_eq!(parse_assertion(stripped).unwrap_err(), AssertionError::Unsigned);
    }

    #[test]
    fn rejects_hmac_even_with_the_public_key_as_secret() {
        // The classic key-confusion attack: HS256 keyed with the registered
        // public key's PEM, which a verifier taking `alg` from the header and the
        // key bytes from the registry would accept.
        let secret = EncodingKey::from_secret(keys().rsa_public.as_bytes());
        let forged = jws(&json!({"alg": "HS256", "kid": KID}), &claims(), &secret, Algorithm::HS256);
        assert_eq!(check(&forged).unwrap_err(), AssertionError::AlgorithmNotAllowed);
        // The same with the DER bytes, and without a kid.
        let (_, der) = spki::der::pem::decode_vec(keys().rsa_public.as_bytes()).unwrap();
        let secret = EncodingKey::from_secret(&der);
        let forged = jws(&json!({"alg": "HS256"}), &claims(), &secret, Algorithm::HS256);
        assert_eq!(check(&forged).unwrap_err(), AssertionError::AlgorithmNotAllowed);
    }

    #[test]
    fn rejects_algorithms_outside_the_allow_list() {
        for alg in ["HS256", "HS512", "RS384", "RS512", "PS256", "ES384", "rs256", ""] {
            let header = b64(json!({"alg": alg, "kid": KID}).to_string().as_bytes());
            let body = b64(claims().to_string().as_bytes());
            assert_eq!(
                parse_assertion(&format!("{header}.{body}.c2ln")).unwrap_err(),
                AssertionError::AlgorithmNotAllowed,
                "{alg}"
            );
        }
    }

    #[test]
    fn rejects_critical_header_extensions() {
        let a = jws(
            &json!({"alg": "RS256", "kid": KID, "crit": ["b64"], "b64": false}),
            &claims(),
            &keys().rsa,
            Algorithm::RS256,
        );
        assert_eq!(check(&a).unwrap_err(), AssertionError::CriticalHeader);
    }

    #[test]
    fn rejects_a_kid_that_is_not_the_subjects() {
        let a = jws(&json!({"alg": "RS256", "kid": "someone-elses"}), &claims(), &keys().rsa, Algorithm::RS256);
        assert_eq!(check(&a).unwrap_err(), AssertionError::UnknownKey);
        // Injection-looking kids are just unknown strings.
        let a = jws(&json!({"alg": "RS256", "kid": "' OR 1=1 --"}), &claims(), &keys().rsa, Algorithm::RS256);
        assert_eq!(check(&a).unwrap_err(), AssertionError::UnknownKey);
    }

    #[test]
    fn rejects_expired_keys() {
        let mut keys = registered();
        keys[0].expires_at = now();
        let a = rs256(&claims());
        let parsed = parse_assertion(&a).unwrap();
        assert_eq!(parsed.verify(USER, &keys, &policy(), now()).unwrap_err(), AssertionError::KeyExpired);
        // Without kid, only unexpired keys are tried.
        for k in &mut keys {
            k.expires_at = now();
        }
        let a = jws(&json!({"alg": "RS256"}), &claims(), &self::keys().rsa, Algorithm::RS256);
        let parsed = parse_assertion(&a).unwrap();
        assert_eq!(parsed.verify(USER, &keys, &policy(), now()).unwrap_err(), AssertionError::NoUsableKey);
        assert_eq!(parsed.verify(USER, &[], &policy(), now()).unwrap_err(), AssertionError::NoUsableKey);
    }

    #[test]
    fn rejects_an_algorithm_that_is_not_the_keys() {
        // ES256 claimed for the RSA key.
        let a = jws(&json!({"alg": "ES256", "kid": KID}), &claims(), &keys().ec, Algorithm::ES256);
        assert_eq!(check(&a).unwrap_err(), AssertionError::AlgorithmKeyMismatch);
        // RS256 claimed for the Ed25519 key.
        let a = jws(&json!({"alg": "RS256", "kid": "ed-key"}), &claims(), &keys().rsa, Algorithm::RS256);
        assert_eq!(check(&a).unwrap_err(), AssertionError::AlgorithmKeyMismatch);
        // Without kid and no key of the claimed type.
        let only_rsa = vec![candidate(KID, PublicKeyType::Rsa, &keys().rsa_public)];
        let a = jws(&json!({"alg": "EdDSA"}), &claims(), &keys().ed, Algorithm::EdDSA);
        let parsed = parse_assertion(&a).unwrap();
        assert_eq!(parsed.verify(USER, &only_rsa, &policy(), now()).unwrap_err(), AssertionError::AlgorithmKeyMismatch);
    }

    #[test]
    fn rejects_bad_signatures() {
        // Signed by an unregistered key under the registered kid.
        let a = jws(&json!({"alg": "RS256", "kid": KID}), &claims(), &keys().other_rsa, Algorithm::RS256);
        assert_eq!(check(&a).unwrap_err(), AssertionError::BadSignature);
        // A payload altered after signing.
        let good = rs256(&claims());
        let mut parts: Vec<&str> = good.split('.').collect();
        let altered = b64(with(claims(), "sub", json!("admin")).to_string().as_bytes());
        parts[1] = &altered;
        assert_eq!(check(&parts.join(".")).unwrap_err(), AssertionError::BadSignature);
        // Garbage in the signature part.
        let garbage = format!("{}.{}.!!!", parts[0], b64(claims().to_string().as_bytes()));
        assert_eq!(check(&garbage).unwrap_err(), AssertionError::BadSignature);
    }

    #[test]
    fn ignores_embedded_and_remote_keys() {
        // The attacker signs with its own key and offers it in `jwk`, `jku` and
        // `x5u`; only registered keys count, and nothing is fetched.
        let k = keys();
        let n = "attacker-modulus";
        let header = json!({
            "alg": "RS256",
            "jwk": {"kty": "RSA", "n": n, "e": "AQAB"},
            "jku": "https://attacker.example/jwks.json",
            "x5u": "https://attacker.example/cert.pem",
        });
        let a = jws(&header, &claims(), &k.other_rsa, Algorithm::RS256);
        assert_eq!(check(&a).unwrap_err(), AssertionError::BadSignature);
    }

    #[test]
    fn rejects_wrong_subject_and_issuer() {
        assert_eq!(check(&rs256(&without(claims(), "sub"))).unwrap_err(), AssertionError::MissingSubject);
        assert_eq!(check(&rs256(&with(claims(), "sub", json!("")))).unwrap_err(), AssertionError::MissingSubject);
        let other = with(with(claims(), "sub", json!("other")), "iss", json!("other"));
        assert_eq!(check(&rs256(&other)).unwrap_err(), AssertionError::SubjectMismatch);
        assert_eq!(check(&rs256(&with(claims(), "iss", json!("other")))).unwrap_err(), AssertionError::IssuerMismatch);
        assert_eq!(check(&rs256(&without(claims(), "iss"))).unwrap_err(), AssertionError::IssuerMismatch);
    }

    #[test]
    fn rejects_audiences_that_are_not_exactly_ours() {
        for aud in [
            json!("https://other.example.com"),
            json!(format!("{ISSUER}/")),
            json!("HTTPS://ID.EXAMPLE.COM"),
            json!([]),
            json!(["https://other.example.com"]),
            json!(null),
        ] {
            assert_eq!(
                check(&rs256(&with(claims(), "aud", aud.clone()))).unwrap_err(),
                AssertionError::AudienceMismatch,
                "{aud}"
            );
        }
        assert_eq!(check(&rs256(&without(claims(), "aud"))).unwrap_err(), AssertionError::AudienceMismatch);
    }

    #[test]
    fn requires_an_unexpired_exp_with_skew() {
        assert_eq!(check(&rs256(&without(claims(), "exp"))).unwrap_err(), AssertionError::MissingExpiry);
        let exp = now().timestamp() - 10;
        let c = with(with(claims(), "iat", json!(exp - 60)), "exp", json!(exp));
        assert_eq!(check(&rs256(&c)).unwrap_err(), AssertionError::Expired);
        // Within the 5 s skew an assertion that just expired passes.
        let exp = now().timestamp() - 4;
        let c = with(with(claims(), "iat", json!(exp - 60)), "exp", json!(exp));
        assert!(check(&rs256(&c)).is_ok());
        let strict = policy().with_skew(Duration::zero());
        let a = rs256(&c);
        let parsed = parse_assertion(&a).unwrap();
        assert_eq!(parsed.verify(USER, &registered(), &strict, now()).unwrap_err(), AssertionError::Expired);
    }

    #[test]
    fn honours_nbf() {
        let c = with(claims(), "nbf", json!(now().timestamp() + 60));
        assert_eq!(check(&rs256(&c)).unwrap_err(), AssertionError::NotYetValid);
        assert!(check_at(&rs256(&c), now() + Duration::seconds(56)).is_ok());
    }

    #[test]
    fn requires_a_plausible_iat() {
        assert_eq!(check(&rs256(&without(claims(), "iat"))).unwrap_err(), AssertionError::MissingIssuedAt);
        let future = with(claims(), "iat", json!(now().timestamp() + 60));
        assert_eq!(check(&rs256(&future)).unwrap_err(), AssertionError::IssuedInFuture);
        let old_iat = now().timestamp() - 3600 - 10;
        let old = with(with(claims(), "iat", json!(old_iat)), "exp", json!(now().timestamp() + 600));
        assert_eq!(check(&rs256(&old)).unwrap_err(), AssertionError::TooOld);
        // Fractional NumericDates are fine.
        assert!(check(&rs256(&with(claims(), "iat", json!(now().timestamp() as f64 + 0.5)))).is_ok());
    }

    #[test]
    fn rejects_unusable_jtis() {
        assert_eq!(check(&rs256(&with(claims(), "jti", json!("")))).unwrap_err(), AssertionError::InvalidJti);
        let long = "x".repeat(MAX_JTI_LEN + 1);
        assert_eq!(check(&rs256(&with(claims(), "jti", json!(long)))).unwrap_err(), AssertionError::InvalidJti);
        assert_eq!(check(&rs256(&with(claims(), "jti", json!("a\u{0}b")))).unwrap_err(), AssertionError::InvalidJti);
        assert_eq!(parse_assertion(&rs256(&with(claims(), "jti", json!(42)))).unwrap_err(), AssertionError::Malformed);
    }

    #[test]
    fn errors_never_repeat_the_assertion() {
        let a = rs256(&with(claims(), "sub", json!("secret-subject")));
        let err = check(&a).unwrap_err();
        let text = format!("{err} {err:?}");
        for part in a.split('.') {
            assert!(!text.contains(part));
        }
        assert!(!text.contains("secret-subject"));
        assert_eq!(format!("{:?}", parse_assertion(&a).unwrap()), "UnverifiedAssertion([redacted])");
    }
}
