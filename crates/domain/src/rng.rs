//! Randomness as a port, like [`crate::time::Clock`]: the use cases draw ids and
//! credentials from an injected [`Rng`], so tests seed it and get the same ids
//! and tokens on every run (CONVENTIONS.md §12).

use uuid::Uuid;

use crate::Timestamp;

/// A source of cryptographically secure random bytes. Shared by every request,
/// so it takes `&self`; implementations synchronize inside.
pub trait Rng: Send + Sync + 'static {
    /// Fills `dest` with random bytes.
    fn fill(&self, dest: &mut [u8]);
}

/// A time-ordered UUIDv7 (RFC 9562 §5.7) for `now`, its random bits from `rng`.
#[must_use]
pub fn uuid_v7(now: Timestamp, rng: &dyn Rng) -> Uuid {
    let mut random = [0u8; 10];
    rng.fill(&mut random);
    let millis = u64::try_from(now.timestamp_millis()).unwrap_or(0);
    uuid::Builder::from_unix_timestamp_millis(millis, &random).into_uuid()
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;

    struct Counting(std::sync::atomic::AtomicU8);

    impl Rng for Counting {
        fn fill(&self, dest: &mut [u8]) {
            for b in dest {
                *b = self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
        }
    }

    #[test]
    fn v7_ids_carry_the_injected_time_and_randomness() {
        let now = Utc.with_ymd_and_hms(2026, 12, 6, 8, 0, 0).unwrap();
        let rng = Counting(std::sync::atomic::AtomicU8::new(0));
        let a = uuid_v7(now, &rng);
        let b = uuid_v7(now, &rng);
        assert_eq!(a.get_version_num(), 7);
        assert_ne!(a, b, "fresh randomness per id");
        let (secs, _) = a.get_timestamp().expect("v7 has a timestamp").to_unix();
        assert_eq!(i64::try_from(secs).unwrap(), now.timestamp());
        assert!(a < b, "same millisecond, increasing random bits here");
    }
}
