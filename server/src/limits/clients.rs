//! The cap on WebSocket clients (`ServerConfig::max_clients`).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Counts WebSocket clients against a maximum.
#[derive(Debug)]
pub struct ClientSlots {
    max: usize,
    used: Arc<AtomicUsize>,
}

/// One client's slot; dropping it frees the slot.
#[derive(Debug)]
pub struct ClientSlot(Arc<AtomicUsize>);

impl ClientSlots {
    /// Room for `max` clients.
    pub fn new(max: usize) -> Self {
        Self {
            max,
            used: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// Takes a slot, or `None` when all `max` are in use.
    pub fn try_take(&self) -> Option<ClientSlot> {
        self.used
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < self.max).then_some(n + 1)
            })
            .ok()
            .map(|_| ClientSlot(self.used.clone()))
    }
}

impl Drop for ClientSlot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}
