//! Personal access tokens as stored: the digest of the token, never the token.

use std::fmt;

use crate::token_scope::TokenScope;
use crate::{PatId, Timestamp, UserId};

/// SHA-256 digest of an opaque credential (DESIGN.md §4). Deliberately without
/// `PartialEq`: digests are compared in constant time by the credential code, never
/// with `==`.
#[derive(Clone)]
pub struct SecretDigest([u8; 32]);

impl SecretDigest {
    /// Wraps a digest.
    #[must_use]
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// Wraps a digest read back from storage.
    ///
    /// Returns `None` when the stored value has the wrong length (a corrupted row).
    #[must_use]
    pub fn from_slice(bytes: &[u8]) -> Option<Self> {
        bytes.try_into().ok().map(Self)
    }

    /// The digest bytes.
    #[must_use]
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Debug for SecretDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretDigest([redacted])")
    }
}

/// A personal access token of a machine user.
#[derive(Debug, Clone)]
pub struct PersonalAccessToken {
    /// Stable id, also embedded in the token as its lookup id.
    pub id: PatId,
    /// The machine user it acts as.
    pub user_id: UserId,
    /// Digest of the whole token string.
    pub digest: SecretDigest,
    /// After this instant the token is rejected (9999-12-31 when none was given).
    pub expires_at: Timestamp,
    /// Creation time.
    pub created_at: Timestamp,
    /// Last successful use, recorded in batches (may lag by a few seconds).
    pub last_used_at: Option<Timestamp>,
    /// The scope a fine-grained token is limited to; `None`: all rights of
    /// its user.
    pub scope: Option<TokenScope>,
}

impl PersonalAccessToken {
    /// Whether the token is past its expiration at `now`.
    #[must_use]
    pub fn is_expired(&self, now: Timestamp) -> bool {
        now >= self.expires_at
    }
}
