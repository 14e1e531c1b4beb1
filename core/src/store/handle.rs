//! [`StoreHandle`]: the engine's way to the [`HistoryStore`], a dedicated OS thread named
//! `peerchat-store` that owns the database and runs requests in the order they were queued.
//!
//! Requests wait in a queue of [`STORE_QUEUE_LEN`] entries; when it is full, [`StoreHandle::call`]
//! waits for room (backpressure on the caller, which is the engine's actor or an app's
//! `history` call), so no write is dropped and memory stays bounded. Dropping every handle lets
//! the thread finish the queued requests and exit; nothing waits for it (no blocking `Drop`).

use std::path::Path;

use tokio::sync::{mpsc, oneshot};

#[cfg(doc)]
use super::STORE_QUEUE_LEN;
use super::{HistoryStore, StoreError};

type Job = Box<dyn FnOnce(&mut HistoryStore) + Send>;

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

    /// Runs `store` on a new `peerchat-store` thread.
    pub fn spawn(mut store: HistoryStore) -> Result<Self, StoreError> {
        let (jobs, mut rx) = mpsc::channel::<Job>(super::STORE_QUEUE_LEN);
        std::thread::Builder::new()
            .name("peerchat-store".into())
            .spawn(move || {
                while let Some(job) = rx.blocking_recv() {
                    job(&mut store);
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
    /// Errors: `f`'s, or [`StoreError::Closed`] if the thread has stopped.
    pub fn call<R, F>(&self, f: F) -> impl Future<Output = Result<R, StoreError>> + Send + 'static
    where
        R: Send + 'static,
        F: FnOnce(&mut HistoryStore) -> Result<R, StoreError> + Send + 'static,
    {
        let jobs = self.jobs.clone();
        async move {
            let (tx, rx) = oneshot::channel();
            let job: Job = Box::new(move |store| {
                let _ = tx.send(f(store));
            });
            jobs.send(job).await.map_err(|_| StoreError::Closed)?;
            rx.await.map_err(|_| StoreError::Closed)?
        }
    }
}
