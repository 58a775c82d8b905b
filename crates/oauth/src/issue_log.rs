//! Group commit for issued tokens (DESIGN.md §6). Every grant stores what it
//! issued — the opaque token's row, the assertion's `jti` (replay ledger), the
//! audit event — and answers only once that is durable. Committing each grant
//! alone costs one synchronous disk flush per token, which bounds a node at
//! about a thousand grants a second whatever the CPU. Here one writer takes
//! every grant that is waiting, writes them in one transaction and commits
//! once; each grant still answers only after its own row is committed.
//!
//! A failed batch is retried one grant per transaction, so one bad grant
//! fails alone. A `jti` seen twice — in the ledger or twice in one batch — is
//! [`Recorded::Replayed`] for all but the first (RFC 7523 §3 item 7).

use std::future::Future;
use std::sync::Arc;

use tessera_domain::Timestamp;
use tessera_domain::access_token::{AccessToken, UsedJti};
use tessera_domain::audit::AuditEvent;
use tessera_domain::repo::{RepoError, RepoResult, Store};
use tokio::sync::{mpsc, oneshot};

/// What one grant stores.
#[derive(Debug)]
pub struct Issuance {
    /// The opaque access token's row (none for a JWT access token).
    pub token: Option<AccessToken>,
    /// The assertion's `jti`, used once.
    pub jti: Option<UsedJti>,
    /// The audit event.
    pub event: AuditEvent,
    /// When the grant ran.
    pub now: Timestamp,
}

/// The outcome of one grant's write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    /// Stored and committed.
    Issued,
    /// The `jti` was already used; nothing was stored.
    Replayed,
}

type Waiting = (Issuance, oneshot::Sender<RepoResult<Recorded>>);

/// Grants waiting longer than this for the writer are refused (back pressure).
const QUEUE: usize = 4096;

/// The queue in front of the one writer.
#[derive(Debug, Clone)]
pub struct IssueLog {
    queue: mpsc::Sender<Waiting>,
}

fn stopped() -> RepoError {
    RepoError::Database("the token writer has stopped".into())
}

impl IssueLog {
    /// A log writing to `store` in batches of at most `max_batch` grants, and
    /// the writer to spawn; the writer ends when every [`IssueLog`] is dropped.
    pub fn new(store: Arc<dyn Store>, max_batch: usize) -> (Self, impl Future<Output = ()> + Send + 'static) {
        let (queue, rx) = mpsc::channel(QUEUE);
        (Self { queue }, writer(store, rx, max_batch.max(1)))
    }

    /// Stores `item`; returns once it is committed (or refused as a replay).
    ///
    /// # Errors
    /// The database's error for this grant, or [`RepoError::Database`] when the
    /// writer has stopped.
    pub async fn record(&self, item: Issuance) -> RepoResult<Recorded> {
        let (done, outcome) = oneshot::channel();
        self.queue.send((item, done)).await.map_err(|_| stopped())?;
        outcome.await.map_err(|_| stopped())?
    }
}

async fn writer(store: Arc<dyn Store>, mut rx: mpsc::Receiver<Waiting>, max_batch: usize) {
    let mut batch: Vec<Waiting> = Vec::with_capacity(max_batch);
    while rx.recv_many(&mut batch, max_batch).await > 0 {
        let items: Vec<&Issuance> = batch.iter().map(|(item, _)| item).collect();
        match write(store.as_ref(), &items).await {
            Ok(outcomes) => {
                for ((_, done), outcome) in batch.drain(..).zip(outcomes) {
                    let _ = done.send(Ok(outcome));
                }
            }
            Err(e) if batch.len() == 1 => {
                if let Some((_, done)) = batch.pop() {
                    let _ = done.send(Err(e));
                }
            }
            Err(_) => {
                // One grant spoiled the batch: give each its own transaction.
                for (item, done) in batch.drain(..) {
                    let outcome =
                        write(store.as_ref(), &[&item]).await.and_then(|o| o.first().copied().ok_or_else(stopped));
                    let _ = done.send(outcome);
                }
            }
        }
    }
}

/// Writes one grant in its own transaction (a service without a log).
///
/// # Errors
/// The database's.
pub async fn write_one(store: &dyn Store, item: &Issuance) -> RepoResult<Recorded> {
    write(store, &[item]).await?.first().copied().ok_or_else(stopped)
}

/// Writes `items` in one transaction: each `jti` first (a replayed one drops
/// its grant), then every token in one statement and every audit event in
/// another.
async fn write(store: &dyn Store, items: &[&Issuance]) -> RepoResult<Vec<Recorded>> {
    let tx = store.begin().await?;
    let mut outcomes = Vec::with_capacity(items.len());
    let (mut tokens, mut events) = (Vec::with_capacity(items.len()), Vec::with_capacity(items.len()));
    for item in items {
        if let Some(jti) = &item.jti
            && !tx.used_jtis().record(jti, item.now).await?
        {
            outcomes.push(Recorded::Replayed);
            continue;
        }
        tokens.extend(item.token.iter().cloned());
        events.push(item.event.clone());
        outcomes.push(Recorded::Issued);
    }
    tx.access_tokens().insert_many(&tokens).await?;
    tx.audit().append_many(&events).await?;
    tx.commit().await?;
    Ok(outcomes)
}
