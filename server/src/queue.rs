//! The bounded outgoing queue of one connection: serialized JSON messages from the hub (any
//! thread, never blocking) to the connection task.
//!
//! It replaces a `tokio::sync::mpsc` channel for memory: an idle connection's tokio channel
//! holds a preallocated block of 32 slots plus cache-padded counters (about 1.3 KiB); this
//! queue holds nothing while empty (about 130 bytes in all), which matters at tens of
//! thousands of idle connections (`docs/benchmark.md`, "Signaling server load").

use std::collections::VecDeque;
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::Notify;

struct Inner {
    queue: Mutex<VecDeque<String>>,
    cap: usize,
    ready: Notify,
    closed: AtomicBool,
}

impl Inner {
    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<String>> {
        self.queue.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The hub's end: clone it freely.
#[derive(Clone)]
pub struct Sender(Arc<Inner>);

/// The connection task's end. Dropping it closes the queue.
pub struct Receiver(Arc<Inner>);

/// Why [`Sender::try_send`] did not queue a message (the message comes back).
#[derive(Debug, PartialEq, Eq)]
pub enum TrySendError {
    /// The queue holds its capacity.
    Full(String),
    /// The receiver is gone (the connection ended).
    Closed(String),
}

/// A queue of at most `cap` messages (`cap` >= 1).
pub fn channel(cap: usize) -> (Sender, Receiver) {
    let inner = Arc::new(Inner {
        queue: Mutex::new(VecDeque::new()),
        cap: cap.max(1),
        ready: Notify::new(),
        closed: AtomicBool::new(false),
    });
    (Sender(inner.clone()), Receiver(inner))
}

impl fmt::Debug for Sender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender")
            .field("len", &self.0.lock().len())
            .field("cap", &self.0.cap)
            .finish()
    }
}

impl Sender {
    /// Queues `msg` without waiting. Errors: [`TrySendError::Full`] at capacity,
    /// [`TrySendError::Closed`] once the receiver is dropped.
    pub fn try_send(&self, msg: String) -> Result<(), TrySendError> {
        if self.0.closed.load(Ordering::Acquire) {
            return Err(TrySendError::Closed(msg));
        }
        {
            let mut q = self.0.lock();
            if q.len() >= self.0.cap {
                return Err(TrySendError::Full(msg));
            }
            q.push_back(msg);
        }
        self.0.ready.notify_one();
        Ok(())
    }

    /// Free slots now.
    pub fn capacity(&self) -> usize {
        self.0.cap.saturating_sub(self.0.lock().len())
    }

    /// The queue's capacity.
    pub fn max_capacity(&self) -> usize {
        self.0.cap
    }
}

impl Receiver {
    /// The next message, waiting for one. Cancel-safe: a message is taken only when returned.
    pub async fn recv(&mut self) -> Option<String> {
        loop {
            if let Some(msg) = self.try_recv() {
                return Some(msg);
            }
            self.0.ready.notified().await;
        }
    }

    /// The next message if one is queued.
    pub fn try_recv(&mut self) -> Option<String> {
        let mut q = self.0.lock();
        let msg = q.pop_front()?;
        if q.is_empty() {
            // Give the buffer back: an idle connection holds no queue memory.
            *q = VecDeque::new();
        }
        Some(msg)
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.0.closed.store(true, Ordering::Release);
        self.0.lock().clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn bounded_in_order_and_closed_after_the_receiver() {
        let (tx, mut rx) = channel(2);
        tx.try_send("a".into()).unwrap();
        tx.try_send("b".into()).unwrap();
        assert_eq!(tx.try_send("c".into()), Err(TrySendError::Full("c".into())));
        assert_eq!(tx.capacity(), 0);
        assert_eq!(rx.recv().await.as_deref(), Some("a"));
        assert_eq!(rx.try_recv().as_deref(), Some("b"));
        assert_eq!(rx.try_recv(), None);
        assert_eq!(tx.capacity(), 2);
        // A message sent while the receiver waits wakes it.
        let waiting = tokio::spawn(async move { rx.recv().await });
        tokio::task::yield_now().await;
        tx.try_send("d".into()).unwrap();
        assert_eq!(waiting.await.unwrap().as_deref(), Some("d"));
        // The receiver is gone: closed.
        assert_eq!(
            tx.try_send("e".into()),
            Err(TrySendError::Closed("e".into()))
        );
    }
}
