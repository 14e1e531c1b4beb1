//! [`StoreHandle`]: the engine's way to the [`HistoryStore`], a dedicated OS thread named
//! `peerchat-store` that owns the database and runs requests in the order they were queued.
//!
//! Requests that wait together (up to [`STORE_BATCH_LEN`]) run in one SQLite transaction: one
//! commit for a burst of messages instead of one per write, so saving keeps up with bulk chat.
//! Each request's own multi-statement writes are savepoints inside it.
//!
//! Requests wait in a queue of [`STORE_QUEUE_LEN`] entries; when it is full, [`StoreHandle::call`]
//! and `StoreHandle::submit` wait for room (backpressure on the caller, which is the
//! engine's actor), so no write is dropped and memory stays bounded. Dropping every handle
//! lets the thread finish the queued requests and exit; nothing waits for it (no blocking
//! `Drop`).

use std::path::{Path, PathBuf};

use tokio::sync::{mpsc, oneshot};

#[cfg(doc)]
use super::STORE_QUEUE_LEN;
use super::{HistoryStore, StoreError};

/// Most queued requests run in one SQLite transaction (see the module docs).
pub const STORE_BATCH_LEN: usize = 64;

/// Told when the commit of a batch fails (its requests were already answered): the engine
/// reports it as `EngineError::Store`.
pub type CommitErrorSink = Box<dyn Fn(StoreError) + Send>;

/// One request: run with the store, or with the error that made it unusable (the database
/// could not be opened).
pub(crate) type Job = Box<dyn FnOnce(Result<&mut HistoryStore, &StoreError>) + Send>;

/// Cloneable access to the store's thread.
#[derive(Clone)]
pub struct StoreHandle {
    pub(super) jobs: mpsc::Sender<Job>,
}

impl StoreHandle {
    /// Opens the database in `dir` (or in memory when `None`) on the calling thread, so that an
    /// unusable directory is reported at once, then hands it to a new `peerchat-store` thread.
    /// Errors: those of [`HistoryStore::open`] / [`HistoryStore::in_memory`], and
    /// [`StoreError::Open`] if the OS refuses the thread.
    pub fn open(dir: Option<&Path>) -> Result<Self, StoreError> {
        let store = match dir {
            Some(dir) => HistoryStore::open(dir)?,
            None => HistoryStore::in_memory()?,
        };
        Self::spawn(store)
    }

    /// Logs a failed batch commit (for handles nobody else watches).
    fn log_commit_error() -> CommitErrorSink {
        Box::new(|e| tracing::warn!(error = %e, "history store: batch commit failed"))
    }

    /// Starts a `peerchat-store` thread that opens the database in `dir` (in memory when
    /// `None`) **on that thread**, so the caller (an app's UI thread calling `Engine::new`)
    /// never waits for the disk. If opening fails, every request is answered with that error
    /// ([`StoreError::Open`] / [`StoreError::Migration`]). Errors: [`StoreError::Open`] if the
    /// OS refuses the thread.
    pub fn start(
        dir: Option<PathBuf>,
        on_commit_error: CommitErrorSink,
    ) -> Result<Self, StoreError> {
        Self::run(
            move || match dir {
                Some(dir) => HistoryStore::open(&dir),
                None => HistoryStore::in_memory(),
            },
            on_commit_error,
        )
    }

    /// Runs `store` on a new `peerchat-store` thread.
    pub fn spawn(store: HistoryStore) -> Result<Self, StoreError> {
        Self::run(move || Ok(store), Self::log_commit_error())
    }

    fn run(
        open: impl FnOnce() -> Result<HistoryStore, StoreError> + Send + 'static,
        on_commit_error: CommitErrorSink,
    ) -> Result<Self, StoreError> {
        let (jobs, mut rx) = mpsc::channel::<Job>(super::STORE_QUEUE_LEN);
        std::thread::Builder::new()
            .name("peerchat-store".into())
            .spawn(move || {
                let mut store = open();
                if let Err(e) = &store {
                    tracing::warn!(error = %e, "history store unusable");
                }
                let mut batch: Vec<Job> = Vec::with_capacity(STORE_BATCH_LEN);
                while let Some(job) = rx.blocking_recv() {
                    batch.push(job);
                    while batch.len() < STORE_BATCH_LEN {
                        match rx.try_recv() {
                            Ok(job) => batch.push(job),
                            Err(_) => break,
                        }
                    }
                    match store.as_mut() {
                        Ok(s) => {
                            let in_tx = batch.len() > 1 && s.conn.execute_batch("BEGIN").is_ok();
                            for job in batch.drain(..) {
                                job(Ok(&mut *s));
                            }
                            if in_tx && let Err(e) = s.conn.execute_batch("COMMIT") {
                                let _ = s.conn.execute_batch("ROLLBACK");
                                on_commit_error(e.into());
                            }
                        }
                        Err(e) => {
                            for job in batch.drain(..) {
                                job(Err(&*e));
                            }
                        }
                    }
                }
            })
            .map_err(|e| StoreError::Open {
                path: "(store thread)".into(),
                reason: e.to_string(),
            })?;
        Ok(Self { jobs })
    }

    /// Runs `f` on the store's thread and returns its result. The future owns what it needs
    /// (it borrows nothing from the handle). Waits for room in the queue when it is full.
    /// Errors: `f`'s, the error that made the store unusable, or [`StoreError::Closed`] if
    /// the thread has stopped.
    pub fn call<R, F>(&self, f: F) -> impl Future<Output = Result<R, StoreError>> + Send + 'static
    where
        R: Send + 'static,
        F: FnOnce(&mut HistoryStore) -> Result<R, StoreError> + Send + 'static,
    {
        let jobs = self.jobs.clone();
        async move {
            let (tx, rx) = oneshot::channel();
            let job: Job = Box::new(move |store| {
                let _ = tx.send(store.map_err(Clone::clone).and_then(f));
            });
            jobs.send(job).await.map_err(|_| StoreError::Closed)?;
            rx.await.map_err(|_| StoreError::Closed)?
        }
    }

    /// Queues `f` to run on the store's thread with the outcome of `body`, without waiting
    /// for it to run: waits only for room in the queue. `done` gets `body`'s result (or the
    /// error that made the store unusable) on the store's thread. Errors:
    /// [`StoreError::Closed`] if the thread has stopped (then nothing runs).
    pub(crate) async fn submit<R, F, D>(&self, body: F, done: D) -> Result<(), StoreError>
    where
        R: Send + 'static,
        F: FnOnce(&mut HistoryStore) -> Result<R, StoreError> + Send + 'static,
        D: FnOnce(Result<R, StoreError>) + Send + 'static,
    {
        let job: Job = Box::new(move |store| done(store.map_err(Clone::clone).and_then(body)));
        self.jobs.send(job).await.map_err(|_| StoreError::Closed)
    }
}
