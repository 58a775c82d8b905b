//! Access tokens from the token endpoint and the two small ledgers the OAuth
//! flows need: revoked JWT access tokens (a JWT cannot be deleted, so its `jti`
//! is remembered until it expires) and used assertion `jti`s (RFC 7523 §3
//! item 7: replay protection while an assertion is valid).

use crate::pat::SecretDigest;
use crate::{AccessTokenId, Timestamp, UserId, ValidationError};

/// Longest `jti` or issuer Tessera records (the column width). Longer values are
/// rejected when parsed, before they reach storage.
pub const MAX_JTI_LEN: usize = 255;

/// An opaque (`tsr_at_`) access token as stored: the digest, never the token.
#[derive(Debug, Clone)]
pub struct AccessToken {
    /// Stable id, also embedded in the token as its lookup id.
    pub id: AccessTokenId,
    /// The user the token acts as.
    pub user_id: UserId,
    /// The OAuth client the token was issued to (`client_id` in introspection).
    pub client_id: String,
    /// Granted scopes.
    pub scopes: Vec<String>,
    /// Audiences (`aud` in introspection).
    pub audience: Vec<String>,
    /// Digest of the whole token string.
    pub digest: SecretDigest,
    /// Issue time.
    pub created_at: Timestamp,
    /// After this instant the token is rejected.
    pub expires_at: Timestamp,
    /// The federated credential whose external token it was exchanged for
    /// (`crate::federation`), reported by introspection.
    pub federated_credential: Option<crate::FederatedCredentialId>,
}

impl AccessToken {
    /// Whether the token is past its expiration at `now`.
    #[must_use]
    pub fn is_expired(&self, now: Timestamp) -> bool {
        now >= self.expires_at
    }
}

/// Checks a `jti`-like value: 1 to [`MAX_JTI_LEN`] bytes, no control characters.
fn check(field: &'static str, value: &str) -> Result<(), ValidationError> {
    if value.is_empty() || value.len() > MAX_JTI_LEN {
        return Err(ValidationError::new(field, "must be 1 to 255 bytes long"));
    }
    if value.chars().any(char::is_control) {
        return Err(ValidationError::new(field, "must not contain control characters"));
    }
    Ok(())
}

/// A revoked JWT access token, remembered until it would have expired anyway.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevokedJwt {
    jti: String,
    expires_at: Timestamp,
}

impl RevokedJwt {
    /// A revocation of the token with `jti`, kept until `expires_at` (the token's `exp`).
    ///
    /// # Errors
    /// When `jti` is empty, longer than [`MAX_JTI_LEN`] bytes or contains control characters.
    pub fn new(jti: impl Into<String>, expires_at: Timestamp) -> Result<Self, ValidationError> {
        let jti = jti.into();
        check("jti", &jti)?;
        Ok(Self { jti, expires_at })
    }

    /// The revoked token's `jti`.
    #[must_use]
    pub fn jti(&self) -> &str {
        &self.jti
    }

    /// When the record may be forgotten.
    #[must_use]
    pub const fn expires_at(&self) -> Timestamp {
        self.expires_at
    }
}

/// A `jti` seen in an assertion, remembered while the assertion is valid so
/// that it cannot be replayed (RFC 7523 §3 item 7). Keyed by issuer and `jti`:
/// `jti` values are only unique per issuer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsedJti {
    issuer: String,
    jti: String,
    expires_at: Timestamp,
}

impl UsedJti {
    /// A use of `jti` by `issuer`, kept until `expires_at` (the assertion's `exp`
    /// plus the allowed clock skew).
    ///
    /// # Errors
    /// When either value is empty, longer than [`MAX_JTI_LEN`] bytes or contains
    /// control characters.
    pub fn new(
        issuer: impl Into<String>,
        jti: impl Into<String>,
        expires_at: Timestamp,
    ) -> Result<Self, ValidationError> {
        let (issuer, jti) = (issuer.into(), jti.into());
        check("iss", &issuer)?;
        check("jti", &jti)?;
        Ok(Self { issuer, jti, expires_at })
    }

    /// The assertion's issuer.
    #[must_use]
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The assertion's `jti`.
    #[must_use]
    pub fn jti(&self) -> &str {
        &self.jti
    }

    /// When the record may be forgotten.
    #[must_use]
    pub const fn expires_at(&self) -> Timestamp {
        self.expires_at
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;

    #[test]
    fn jti_records_reject_empty_oversized_and_control_values() {
        let now = Utc::now();
        assert!(RevokedJwt::new("abc", now).is_ok());
        assert!(RevokedJwt::new("", now).is_err());
        assert!(RevokedJwt::new("x".repeat(MAX_JTI_LEN + 1), now).is_err());
        assert!(UsedJti::new("iss", "a\nb", now).is_err());
        assert!(UsedJti::new("", "jti", now).is_err());
        assert_eq!(UsedJti::new("iss", "x".repeat(MAX_JTI_LEN), now).unwrap().jti().len(), MAX_JTI_LEN);
    }
}
