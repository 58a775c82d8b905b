//! Time as the domain sees it: an injectable [`Clock`] and the timestamp type.

use std::sync::Mutex;

use chrono::{DateTime, Duration, TimeZone, Utc};

/// A point in time, always UTC, at microsecond precision (what PostgreSQL keeps).
pub type Timestamp = DateTime<Utc>;

/// Where the current time comes from. Production uses [`SystemClock`]; tests use
/// [`FixedClock`] to freeze and advance time.
pub trait Clock: Send + Sync + 'static {
    /// The current time, truncated to microseconds so that values survive a
    /// round trip through every supported database unchanged.
    fn now(&self) -> Timestamp;
}

/// The wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        truncate_to_micros(Utc::now())
    }
}

/// A clock that only moves when told to.
#[derive(Debug)]
pub struct FixedClock(Mutex<Timestamp>);

impl FixedClock {
    /// A clock frozen at `at`.
    #[must_use]
    pub fn new(at: Timestamp) -> Self {
        Self(Mutex::new(truncate_to_micros(at)))
    }

    /// Moves the clock forward by `by`.
    pub fn advance(&self, by: Duration) {
        let mut now = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        *now += by;
    }
}

impl Clock for FixedClock {
    fn now(&self) -> Timestamp {
        *self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Drops sub-microsecond precision.
#[must_use]
pub fn truncate_to_micros(t: Timestamp) -> Timestamp {
    let micros = t.timestamp_micros();
    Utc.timestamp_micros(micros).single().unwrap_or(t)
}

/// 9999-12-31T23:59:59Z: the expiration ZITADEL gives credentials created without one.
#[must_use]
pub fn far_future() -> Timestamp {
    Utc.with_ymd_and_hms(9999, 12, 31, 23, 59, 59).single().unwrap_or(DateTime::<Utc>::MAX_UTC)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_clock_only_moves_when_advanced() {
        let start = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let clock = FixedClock::new(start);
        assert_eq!(clock.now(), start);
        clock.advance(Duration::seconds(5));
        assert_eq!(clock.now(), start + Duration::seconds(5));
    }

    #[test]
    fn system_clock_has_microsecond_precision() {
        let now = SystemClock.now();
        assert_eq!(now.timestamp_subsec_nanos() % 1_000, 0);
    }

    #[test]
    fn far_future_is_zitadels_default_expiration() {
        assert_eq!(far_future().to_rfc3339(), "9999-12-31T23:59:59+00:00");
    }
}
