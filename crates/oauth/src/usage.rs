//! Last-use bookkeeping off the request path (DESIGN.md §6): a successful
//! credential check only notes the time in memory; a background task writes the
//! notes in one batched statement every few seconds.

use std::collections::HashMap;
use std::sync::Mutex;

use tessera_domain::{PatId, Timestamp};

/// Pending last-use times, keyed by token.
#[derive(Debug, Default)]
pub struct UsageRecorder {
    pending: Mutex<HashMap<PatId, Timestamp>>,
}

impl UsageRecorder {
    /// Notes that `id` was used at `at` (the latest note wins).
    pub fn record(&self, id: PatId, at: Timestamp) {
        let mut pending = self.pending.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        pending.entry(id).and_modify(|t| *t = (*t).max(at)).or_insert(at);
    }

    /// Takes every pending note, leaving none.
    #[must_use]
    pub fn drain(&self) -> Vec<(PatId, Timestamp)> {
        let mut pending = self.pending.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        pending.drain().collect()
    }
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, Utc};

    use super::*;

    #[test]
    fn keeps_the_latest_use_per_token_and_drains_once() {
        let recorder = UsageRecorder::default();
        let (a, b) = (PatId::new(), PatId::new());
        let t = Utc::now();
        recorder.record(a, t);
        recorder.record(a, t + Duration::seconds(5));
        recorder.record(a, t + Duration::seconds(1));
        recorder.record(b, t);
        let mut drained = recorder.drain();
        drained.sort_by_key(|(id, _)| *id);
        assert_eq!(drained.len(), 2);
        assert!(drained.contains(&(a, t + Duration::seconds(5))));
        assert!(recorder.drain().is_empty());
    }
}
