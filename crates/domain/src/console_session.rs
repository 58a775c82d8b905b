//! Console login sessions of human administrators. The browser holds the session
//! credential in a cookie; the database holds only its digest (DESIGN.md §4), so a
//! copy of the database cannot be replayed as a login.

use crate::pat::SecretDigest;
use crate::{ConsoleSessionId, Timestamp, UserId};

/// A console session as stored.
#[derive(Debug, Clone)]
pub struct ConsoleSession {
    /// Stable id, also embedded in the cookie as its lookup id.
    pub id: ConsoleSessionId,
    /// The human administrator who logged in.
    pub user_id: UserId,
    /// Digest of the whole cookie value.
    pub digest: SecretDigest,
    /// Login time.
    pub created_at: Timestamp,
    /// After this instant the session is rejected (an absolute lifetime: activity
    /// does not extend it).
    pub expires_at: Timestamp,
}

impl ConsoleSession {
    /// Whether the session is past its expiration at `now`.
    #[must_use]
    pub fn is_expired(&self, now: Timestamp) -> bool {
        now >= self.expires_at
    }
}
