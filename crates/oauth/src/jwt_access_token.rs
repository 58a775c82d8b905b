//! JWT access tokens (DESIGN.md §4, `ACCESS_TOKEN_TYPE_JWT`): RS256 JWS signed
//! with the current instance signing key, `kid` in the header, verifiable by
//! anyone holding the JWKS.
//!
//! Claims: `iss`, `sub`, `aud` (always an array, as ZITADEL writes it), `exp`,
//! `iat`, `nbf`, `jti`, `client_id`, `scope` (space-separated), plus any extra
//! claims the caller adds (ZITADEL's role and resource-owner claims). The header
//! `typ` is `JWT`, as ZITADEL's access tokens have it (RFC 9068's `at+jwt` would
//! be refused by some ZITADEL-era resource servers).
//!
//! [`verify`] checks what the token itself proves: signature by a published
//! key, algorithm, issuer and validity window against the caller's clock. It
//! cannot know about revocation or about the user's state: a caller must also
//! ask `RevokedJwtRepository::is_revoked` and check the owner, as introspection
//! does (a JWT is never trusted on its signature alone).

use std::collections::HashSet;

use chrono::{Duration, TimeZone as _, Utc};
use jsonwebtoken::Validation;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};
use tessera_domain::Timestamp;
use tessera_domain::signing_key::SigningKey;

use crate::signing::{Signer, SigningError};

/// The header `typ` of access tokens.
pub const TOKEN_TYPE: &str = "JWT";
/// Longest token [`verify`] looks at: generous for role claims, small enough to
/// bound the work on garbage.
pub const MAX_TOKEN_LEN: usize = 32 * 1024;
/// Claims set by [`AccessTokenClaims::new`] that an extra claim may not replace.
pub const RESERVED_CLAIMS: [&str; 9] = ["iss", "sub", "aud", "exp", "iat", "nbf", "jti", "client_id", "scope"];

/// Why a JWT access token could not be issued or was refused. No message
/// contains the token.
#[derive(Debug, thiserror::Error)]
pub enum JwtAccessTokenError {
    /// An extra claim would replace a registered one.
    #[error("the claim {0} is reserved")]
    ReservedClaim(String),
    /// Signing failed.
    #[error(transparent)]
    Signing(#[from] SigningError),
    /// Longer than [`MAX_TOKEN_LEN`].
    #[error("the token is too large")]
    TooLarge,
    /// Not a JWS with the expected claims, or not RS256.
    #[error("the token is not a valid access token")]
    Malformed,
    /// No `kid`, or it names no published signing key.
    #[error("the token's signing key is unknown")]
    UnknownKey,
    /// The signature does not verify.
    #[error("the token's signature is invalid")]
    BadSignature,
    /// `iss` is not this server.
    #[error("the token was issued by another server")]
    WrongIssuer,
    /// `exp` has passed.
    #[error("the token has expired")]
    Expired,
    /// `nbf` is still in the future.
    #[error("the token is not valid yet")]
    NotYetValid,
}

/// The claims of a JWT access token.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccessTokenClaims {
    /// The issuer (`TESSERA_EXTERNAL_URL`).
    pub iss: String,
    /// The user id.
    pub sub: String,
    /// Audiences.
    #[serde(deserialize_with = "one_or_many")]
    pub aud: Vec<String>,
    /// Expiration, seconds since the epoch.
    pub exp: i64,
    /// Issue time.
    pub iat: i64,
    /// Not before (= issue time).
    pub nbf: i64,
    /// Unique token id, the key for revocation.
    pub jti: String,
    /// The client the token was issued to.
    pub client_id: String,
    /// Granted scopes, space-separated.
    pub scope: String,
    /// Further claims (roles, resource owner, …).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

fn one_or_many<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Aud {
        One(String),
        Many(Vec<String>),
    }
    Ok(match Aud::deserialize(d)? {
        Aud::One(a) => vec![a],
        Aud::Many(all) => all,
    })
}

impl AccessTokenClaims {
    /// Claims for a token issued at `now`, valid for `lifetime`.
    #[must_use]
    #[allow(clippy::too_many_arguments, reason = "every registered claim is a parameter; a builder adds nothing")]
    pub fn new(
        issuer: impl Into<String>,
        subject: impl Into<String>,
        audience: Vec<String>,
        client_id: impl Into<String>,
        scopes: &[String],
        jti: impl Into<String>,
        now: Timestamp,
        lifetime: Duration,
    ) -> Self {
        Self {
            iss: issuer.into(),
            sub: subject.into(),
            aud: audience,
            exp: (now + lifetime).timestamp(),
            iat: now.timestamp(),
            nbf: now.timestamp(),
            jti: jti.into(),
            client_id: client_id.into(),
            scope: scopes.join(" "),
            extra: Map::new(),
        }
    }

    /// Adds an extra claim.
    ///
    /// # Errors
    /// [`JwtAccessTokenError::ReservedClaim`] for a name in [`RESERVED_CLAIMS`].
    pub fn with_claim(mut self, name: impl Into<String>, value: Value) -> Result<Self, JwtAccessTokenError> {
        let name = name.into();
        if RESERVED_CLAIMS.contains(&name.as_str()) {
            return Err(JwtAccessTokenError::ReservedClaim(name));
        }
        self.extra.insert(name, value);
        Ok(self)
    }

    /// `exp` as a timestamp (for the revocation ledger).
    #[must_use]
    pub fn expires_at(&self) -> Option<Timestamp> {
        Utc.timestamp_opt(self.exp, 0).single()
    }

    /// Whether `aud` contains `audience`.
    #[must_use]
    pub fn has_audience(&self, audience: &str) -> bool {
        self.aud.iter().any(|a| a == audience)
    }

    /// The granted scopes.
    pub fn scopes(&self) -> impl Iterator<Item = &str> {
        self.scope.split(' ').filter(|s| !s.is_empty())
    }
}

/// Signs `claims` with the key that signs at `now`.
///
/// # Errors
/// [`JwtAccessTokenError::ReservedClaim`] when an extra claim shadows a
/// registered one; [`JwtAccessTokenError::Signing`] when no key may sign.
pub fn issue(signer: &Signer, claims: &AccessTokenClaims, now: Timestamp) -> Result<String, JwtAccessTokenError> {
    if let Some(name) = claims.extra.keys().find(|k| RESERVED_CLAIMS.contains(&k.as_str())) {
        return Err(JwtAccessTokenError::ReservedClaim(name.clone()));
    }
    Ok(signer.sign(claims, TOKEN_TYPE, now)?)
}

/// The `jti` of a JWT, read WITHOUT verifying anything: only to look the token
/// up in the verified-credential cache, which then compares the digest of the
/// whole token with the one it verified. `None` for anything malformed.
#[must_use]
pub fn unverified_id(token: &str) -> Option<String> {
    use base64::Engine as _;
    #[derive(serde::Deserialize)]
    struct Id {
        jti: String,
    }
    if token.len() > MAX_TOKEN_LEN {
        return None;
    }
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).ok()?;
    serde_json::from_slice::<Id>(&bytes).ok().map(|id| id.jti)
}

/// Verifies a JWT access token issued by `issuer` against the signing keys
/// published at `now` (module docs: revocation and user state are the
/// caller's to check). `skew` is allowed on `exp` and `nbf`.
///
/// # Errors
/// The [`JwtAccessTokenError`] of the first failed check.
pub fn verify(
    token: &str,
    keys: &[SigningKey],
    issuer: &str,
    now: Timestamp,
    skew: Duration,
) -> Result<AccessTokenClaims, JwtAccessTokenError> {
    if token.len() > MAX_TOKEN_LEN {
        return Err(JwtAccessTokenError::TooLarge);
    }
    let header = jsonwebtoken::decode_header(token).map_err(|_| JwtAccessTokenError::Malformed)?;
    let kid = header.kid.ok_or(JwtAccessTokenError::UnknownKey)?;
    let key = keys
        .iter()
        .find(|k| k.schedule.is_published(now) && k.id.to_string() == kid)
        .ok_or(JwtAccessTokenError::UnknownKey)?;
    // The key decides the algorithm (RFC 8725 §3.1): a token claiming another
    // one for it is refused, never verified another way.
    let algorithm = crate::signing::jws_algorithm(key.algorithm);
    if header.alg != algorithm {
        return Err(JwtAccessTokenError::Malformed);
    }
    let decoding = crate::signing::decoding_key(key).map_err(|_| JwtAccessTokenError::UnknownKey)?;
    // Time is checked below against the injected clock, not the system clock
    // jsonwebtoken would use.
    let mut validation = Validation::new(algorithm);
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    validation.required_spec_claims = HashSet::new();
    let claims = jsonwebtoken::decode::<AccessTokenClaims>(token, &decoding, &validation)
        .map_err(|e| match e.kind() {
            jsonwebtoken::errors::ErrorKind::InvalidSignature => JwtAccessTokenError::BadSignature,
            _ => JwtAccessTokenError::Malformed,
        })?
        .claims;
    if claims.iss != issuer {
        return Err(JwtAccessTokenError::WrongIssuer);
    }
    let at = |secs: i64| Utc.timestamp_opt(secs, 0).single().ok_or(JwtAccessTokenError::Malformed);
    if now >= at(claims.exp)? + skew {
        return Err(JwtAccessTokenError::Expired);
    }
    if now + skew < at(claims.nbf)? {
        return Err(JwtAccessTokenError::NotYetValid);
    }
    Ok(claims)
}

#[cfg(test)]
mod tests {
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use serde_json::json;

    use super::*;
    use crate::signing::tests::{sealer, shared_keys, t0};

    const ISSUER: &str = "https://id.example.com";

    fn claims(now: Timestamp) -> AccessTokenClaims {
        AccessTokenClaims::new(
            ISSUER,
            "user-1",
            vec!["project-1".into(), "urn:zitadel:iam:org:project:id:zitadel:aud".into()],
            "robot",
            &["openid".into(), "profile".into()],
            "jti-1",
            now,
            Duration::hours(12),
        )
    }

    fn signer() -> Signer {
        Signer::load(shared_keys(), &sealer(), t0()).unwrap()
    }

    #[test]
    fn round_trips_every_claim() {
        let now = t0() + Duration::minutes(1);
        let c = claims(now).with_claim("urn:zitadel:iam:user:resourceowner:id", json!("org-1")).unwrap();
        let token = issue(&signer(), &c, now).unwrap();
        let back = verify(&token, shared_keys(), ISSUER, now, Duration::seconds(5)).unwrap();
        assert_eq!(back, c);
        assert_eq!(back.scopes().collect::<Vec<_>>(), ["openid", "profile"]);
        assert!(back.has_audience("project-1") && !back.has_audience("project-2"));
        assert_eq!(back.expires_at(), Some(now + Duration::hours(12)));

        // The wire form: registered claims, `aud` an array, kid in the header.
        let payload = token.split('.').nth(1).unwrap();
        let json: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
        for claim in RESERVED_CLAIMS {
            assert!(json.get(claim).is_some(), "{claim}");
        }
        assert!(json["aud"].is_array());
        assert_eq!(json["scope"], "openid profile");
        let header = jsonwebtoken::decode_header(&token).unwrap();
        assert_eq!(header.kid, Some(shared_keys()[0].id.to_string()));
        assert_eq!(header.typ.as_deref(), Some(TOKEN_TYPE));
    }

    #[test]
    fn extra_claims_cannot_shadow_registered_ones() {
        assert!(matches!(claims(t0()).with_claim("sub", json!("admin")), Err(JwtAccessTokenError::ReservedClaim(_))));
        let mut c = claims(t0());
        c.extra.insert("exp".into(), json!(0));
        assert!(matches!(issue(&signer(), &c, t0()), Err(JwtAccessTokenError::ReservedClaim(_))));
    }

    #[test]
    fn expiry_and_nbf_follow_the_injected_clock() {
        let token = issue(&signer(), &claims(t0()), t0()).unwrap();
        let skew = Duration::seconds(5);
        let exp = t0() + Duration::hours(12);
        assert!(verify(&token, shared_keys(), ISSUER, exp + Duration::seconds(4), skew).is_ok());
        assert!(matches!(verify(&token, shared_keys(), ISSUER, exp + skew, skew), Err(JwtAccessTokenError::Expired)));
        // Claims valid from an hour later, signed now.
        let later = issue(&signer(), &claims(t0() + Duration::hours(1)), t0()).unwrap();
        assert!(matches!(verify(&later, shared_keys(), ISSUER, t0(), skew), Err(JwtAccessTokenError::NotYetValid)));
        assert!(verify(&later, shared_keys(), ISSUER, t0() + Duration::hours(1) - Duration::seconds(4), skew).is_ok());
    }

    #[test]
    fn rejects_foreign_issuers_unknown_keys_and_altered_tokens() {
        let skew = Duration::seconds(5);
        let token = issue(&signer(), &claims(t0()), t0()).unwrap();
        assert!(matches!(
            verify(&token, shared_keys(), "https://other.example.com", t0(), skew),
            Err(JwtAccessTokenError::WrongIssuer)
        ));
        // Only the second key is known: the first key's tokens are unknown.
        assert!(matches!(
            verify(&token, &shared_keys()[1..], ISSUER, t0(), skew),
            Err(JwtAccessTokenError::UnknownKey)
        ));
        // A key past retirement no longer verifies anything.
        let retired = shared_keys()[0].schedule.retire_at();
        assert!(matches!(verify(&token, shared_keys(), ISSUER, retired, skew), Err(JwtAccessTokenError::UnknownKey)));
        let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
        let mut forged = claims(t0());
        forged.sub = "admin".into();
        parts[1] = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&forged).unwrap());
        assert!(matches!(
            verify(&parts.join("."), shared_keys(), ISSUER, t0(), skew),
            Err(JwtAccessTokenError::BadSignature)
        ));
        assert!(matches!(verify("garbage", shared_keys(), ISSUER, t0(), skew), Err(JwtAccessTokenError::Malformed)));
        let huge = "a".repeat(MAX_TOKEN_LEN + 1);
        assert!(matches!(verify(&huge, shared_keys(), ISSUER, t0(), skew), Err(JwtAccessTokenError::TooLarge)));
    }

    #[test]
    fn rejects_tokens_not_signed_with_rs256() {
        let header =
            URL_SAFE_NO_PAD.encode(json!({"alg": "HS256", "kid": shared_keys()[0].id.to_string()}).to_string());
        let body = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims(t0())).unwrap());
        let token = format!("{header}.{body}.c2ln");
        assert!(matches!(
            verify(&token, shared_keys(), ISSUER, t0(), Duration::zero()),
            Err(JwtAccessTokenError::Malformed)
        ));
    }
}
