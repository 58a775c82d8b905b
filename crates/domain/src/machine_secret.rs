//! Client secrets of machine users (client credentials grant). A machine user has
//! at most one current secret; adding a new one supersedes it. ZITADEL cuts the
//! superseded secret off at once; Tessera keeps it valid for a configurable
//! overlap (default zero, ZITADEL's behaviour) so that a rotation needs no
//! downtime.

use chrono::Duration;

use crate::pat::SecretDigest;
use crate::{SecretId, Timestamp, UserId};

/// A client secret as stored: the digest of the `tsr_cs_` secret, never the secret.
#[derive(Debug, Clone)]
pub struct MachineSecret {
    /// Stable id, also embedded in the secret as its lookup id.
    pub id: SecretId,
    /// The machine user it authenticates.
    pub user_id: UserId,
    /// Digest of the whole secret string.
    pub digest: SecretDigest,
    /// Creation time.
    pub created_at: Timestamp,
    /// When a newer secret replaced this one; `None` for the current secret.
    pub superseded_at: Option<Timestamp>,
}

impl MachineSecret {
    /// A new, current secret.
    #[must_use]
    pub fn new(user_id: UserId, id: SecretId, digest: SecretDigest, now: Timestamp) -> Self {
        Self { id, user_id, digest, created_at: now, superseded_at: None }
    }

    /// Whether the secret is accepted at `now`: the current secret always is; a
    /// superseded one only until `overlap` after it was superseded (a zero
    /// overlap cuts it off at once).
    #[must_use]
    pub fn accepted_at(&self, now: Timestamp, overlap: Duration) -> bool {
        match self.superseded_at {
            None => true,
            Some(at) => now < at + overlap,
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;

    fn secret() -> MachineSecret {
        MachineSecret::new(UserId::new(), SecretId::new(), SecretDigest::from_bytes([1; 32]), Utc::now())
    }

    #[test]
    fn the_current_secret_is_always_accepted() {
        let s = secret();
        assert!(s.accepted_at(s.created_at + Duration::days(3650), Duration::zero()));
    }

    #[test]
    fn a_superseded_secret_is_cut_off_at_once_without_overlap() {
        let mut s = secret();
        let at = s.created_at + Duration::hours(1);
        s.superseded_at = Some(at);
        assert!(!s.accepted_at(at, Duration::zero()));
    }

    #[test]
    fn a_superseded_secret_lives_for_the_overlap() {
        let mut s = secret();
        let at = s.created_at + Duration::hours(1);
        s.superseded_at = Some(at);
        let overlap = Duration::minutes(10);
        assert!(s.accepted_at(at + Duration::minutes(9), overlap));
        assert!(!s.accepted_at(at + overlap, overlap));
    }
}
