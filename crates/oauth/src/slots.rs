//! Bounded slots for CPU- and memory-heavy work that a client can trigger
//! (argon2id, RSA key generation): DESIGN.md §8.
//!
//! A fixed number of jobs run at once (about the number of cores) and a short
//! queue waits for them; a job that finds the slots and the queue full is
//! refused at once with [`SlotError::Busy`] instead of queuing a thread and,
//! for argon2id, 19 MiB of memory. The caller answers 503 with `Retry-After`.
//!
//! The jobs run on the slots' own threads, one per slot, started on first
//! use — not on the runtime's blocking pool. The allocator keeps the memory a
//! thread freed for that thread's next use, so argon2id's 19 MiB would stay
//! held once for every thread that ever ran one; with a thread per slot that
//! is at most once per slot.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex, OnceLock};

/// Why a job did not run.
#[derive(Debug, thiserror::Error)]
pub enum SlotError {
    /// Every slot is taken and the queue is full; try again shortly.
    #[error("the server is busy; try again shortly")]
    Busy,
    /// The job panicked, or its thread could not be started.
    #[error("the background task did not finish")]
    Interrupted,
}

type Job = Box<dyn FnOnce() + Send>;

/// The limiter; clones share the slots and their threads.
#[derive(Debug, Clone)]
pub struct WorkSlots {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    slots: usize,
    queue: usize,
    /// Jobs admitted: running or queued.
    admitted: Arc<AtomicUsize>,
    /// The queue's sending side, made with the threads on first use.
    sender: OnceLock<Option<SyncSender<Job>>>,
}

/// Gives an admission back when dropped.
struct Admission(Arc<AtomicUsize>);

impl Drop for Admission {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl WorkSlots {
    /// `slots` jobs at once (at least one) and `queue` more waiting.
    #[must_use]
    pub fn new(slots: usize, queue: usize) -> Self {
        let slots = slots.max(1);
        Self { inner: Arc::new(Inner { slots, queue, admitted: Arc::default(), sender: OnceLock::new() }) }
    }

    /// One slot per core and a queue of two jobs per slot: the default.
    #[must_use]
    pub fn per_core() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
        Self::new(cores, cores.saturating_mul(2))
    }

    /// How many jobs run at once.
    #[must_use]
    pub fn slots(&self) -> usize {
        self.inner.slots
    }

    /// How many jobs are running or queued now.
    #[must_use]
    pub fn admitted(&self) -> usize {
        self.inner.admitted.load(Ordering::Acquire)
    }

    /// Starts the slot threads; `None` when the system refuses threads.
    fn start(slots: usize, queue: usize) -> Option<SyncSender<Job>> {
        // Room for every admitted job: the admission count is the limit, the
        // channel never refuses one on its own.
        let (sender, receiver) = sync_channel::<Job>(slots.saturating_add(queue));
        let receiver = Arc::new(Mutex::new(receiver));
        for i in 0..slots {
            let receiver = receiver.clone();
            let started = std::thread::Builder::new().name(format!("tessera-slot-{i}")).spawn(move || work(&receiver));
            if started.is_err() {
                return None;
            }
        }
        Some(sender)
    }

    /// Runs `job` on a slot thread once one is free.
    ///
    /// # Errors
    /// [`SlotError::Busy`] at once when the slots and the queue are full;
    /// [`SlotError::Interrupted`] when the job panicked.
    pub async fn run<T, F>(&self, job: F) -> Result<T, SlotError>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        let inner = &self.inner;
        // Admission is one atomic step, so concurrent callers cannot all pass
        // a check and then all queue.
        let before = inner.admitted.fetch_add(1, Ordering::AcqRel);
        let admission = Admission(inner.admitted.clone());
        if before >= inner.slots.saturating_add(inner.queue) {
            return Err(SlotError::Busy);
        }
        let sender = inner.sender.get_or_init(|| Self::start(inner.slots, inner.queue));
        let Some(sender) = sender else { return Err(SlotError::Interrupted) };
        let (tx, rx) = tokio::sync::oneshot::channel();
        let boxed: Job = Box::new(move || {
            // The admission ends when the job does — also when its caller is
            // gone, and before the caller hears the outcome, so a caller that
            // has its answer never sees its own job still admitted. A panic is
            // caught here: the sender is dropped unsent (`Interrupted`).
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
            drop(admission);
            if let Ok(value) = outcome {
                let _ = tx.send(value);
            }
        });
        match sender.try_send(boxed) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => return Err(SlotError::Busy),
            Err(TrySendError::Disconnected(_)) => return Err(SlotError::Interrupted),
        }
        rx.await.map_err(|_| SlotError::Interrupted)
    }
}

/// A slot thread: runs jobs until every sender is gone. A panicking job is
/// caught, so the slot survives it (its caller sees `Interrupted`).
fn work(receiver: &Mutex<Receiver<Job>>) {
    loop {
        let job = match receiver.lock() {
            Ok(r) => r.recv(),
            Err(_) => return,
        };
        let Ok(job) = job else { return };
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
    }
}

impl Default for WorkSlots {
    fn default() -> Self {
        Self::per_core()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc;
    use std::time::Duration;

    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn refuses_at_once_beyond_slots_and_queue() {
        let slots = WorkSlots::new(2, 1);
        let (release, gate) = mpsc::channel::<()>();
        let gate = Arc::new(std::sync::Mutex::new(gate));
        let (started_tx, started) = mpsc::channel::<()>();
        let mut jobs = Vec::new();
        for _ in 0..3 {
            let slots = slots.clone();
            let gate = gate.clone();
            let started_tx = started_tx.clone();
            jobs.push(tokio::spawn(async move {
                slots
                    .run(move || {
                        let _ = started_tx.send(());
                        let _ = gate.lock().map(|g| g.recv());
                    })
                    .await
            }));
        }
        // Two run, the third waits in the queue.
        started.recv_timeout(Duration::from_secs(5)).unwrap();
        started.recv_timeout(Duration::from_secs(5)).unwrap();
        while slots.admitted() < 3 {
            tokio::task::yield_now().await;
        }

        assert!(matches!(slots.run(|| ()).await, Err(SlotError::Busy)), "the fourth is refused");

        for _ in 0..3 {
            release.send(()).unwrap();
        }
        for job in jobs {
            job.await.unwrap().unwrap();
        }
        assert_eq!(slots.admitted(), 0);
        assert_eq!(slots.run(|| 7).await.unwrap(), 7, "free again");
    }

    #[tokio::test]
    async fn a_panicking_job_gives_its_slot_back() {
        let slots = WorkSlots::new(1, 0);
        let result: Result<(), SlotError> = slots.run(|| panic!("a bug")).await;
        assert!(matches!(result, Err(SlotError::Interrupted)));
        assert_eq!(slots.admitted(), 0);
        assert_eq!(slots.run(|| 1).await.unwrap(), 1);
    }
}
