//! Delivers listener callbacks in order on one dedicated thread, so that a slow listener never
//! stalls the engine's runtime and callbacks never run on the caller's thread.

use std::sync::{Arc, Mutex};

use tokio::sync::mpsc;

use crate::listener::EngineListener;

/// Callbacks handed to the `peerchat-events` thread and not yet run. When the listener falls
/// this far behind, the engine's event loop waits for it ([`Dispatcher::flush`] awaits room):
/// nothing is dropped, memory stays bounded, and what arrives from the network meanwhile waits
/// in the engine's input queue (and, once SCTP's receive window is full, at the sender). The
/// data channels, ICE and the signaling connection keep running (they have tasks of their own).
pub const EVENT_QUEUE_LEN: usize = 1_024;

type Callback = Box<dyn FnOnce(&dyn EngineListener) + Send>;

/// Sending half. Callbacks are held back until [`Dispatcher::flush`], which the engine calls
/// after publishing its state, so that a listener reading the engine (say `send_message` on
/// `PeerState::Connected`) sees the state the event reports. The thread ends when the
/// dispatcher is dropped, after delivering what was flushed.
pub(crate) struct Dispatcher {
    tx: mpsc::Sender<Callback>,
    held: Mutex<Vec<Callback>>,
}

impl Dispatcher {
    /// Starts the `peerchat-events` thread. Errors if the OS refuses a thread.
    pub(crate) fn start(listener: Arc<dyn EngineListener>) -> std::io::Result<Self> {
        Self::with_capacity(listener, EVENT_QUEUE_LEN)
    }

    fn with_capacity(listener: Arc<dyn EngineListener>, capacity: usize) -> std::io::Result<Self> {
        let (tx, mut rx) = mpsc::channel::<Callback>(capacity);
        std::thread::Builder::new()
            .name("peerchat-events".into())
            .spawn(move || {
                while let Some(callback) = rx.blocking_recv() {
                    // A panicking listener must not silence every later event.
                    let call = std::panic::AssertUnwindSafe(|| callback(listener.as_ref()));
                    if std::panic::catch_unwind(call).is_err() {
                        tracing::error!("an EngineListener callback panicked; continuing");
                    }
                }
            })?;
        Ok(Self {
            tx,
            held: Mutex::new(Vec::new()),
        })
    }

    /// Holds one callback until the next [`Dispatcher::flush`].
    pub(crate) fn emit(&self, callback: impl FnOnce(&dyn EngineListener) + Send + 'static) {
        self.held
            .lock()
            .expect("held lock")
            .push(Box::new(callback));
    }

    /// Hands every held callback, in order, to the listener thread, waiting while
    /// [`EVENT_QUEUE_LEN`] callbacks are already waiting there. Nothing happens once the
    /// thread is gone (the engine shut down).
    pub(crate) async fn flush(&self) {
        let held: Vec<Callback> = std::mem::take(&mut *self.held.lock().expect("held lock"));
        for callback in held {
            if self.tx.send(callback).await.is_err() {
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc as std_mpsc;
    use std::time::Duration;

    struct Gate {
        entered: std_mpsc::Sender<()>,
        open: Mutex<std_mpsc::Receiver<()>>,
    }

    impl EngineListener for Gate {
        fn on_peer_resumed(&self, _peer_id: String) {
            let _ = self.entered.send(());
            let _ = self.open.lock().expect("gate").recv();
        }
    }

    /// With the listener stuck, `flush` takes up to the bound and then waits (the engine's
    /// loop is held back) instead of dropping or growing; once the listener runs again every
    /// callback is delivered in order.
    #[tokio::test]
    async fn a_stuck_listener_holds_the_loop_at_the_bound_and_loses_nothing() {
        const CAP: usize = 4;
        let (entered_tx, entered) = std_mpsc::channel();
        let (open, open_rx) = std_mpsc::channel();
        let gate = Arc::new(Gate {
            entered: entered_tx,
            open: Mutex::new(open_rx),
        });
        let dispatcher = Dispatcher::with_capacity(gate, CAP).expect("thread");
        let total = 1 + CAP + 3;
        for i in 0..total {
            dispatcher.emit(move |l| l.on_peer_resumed(i.to_string()));
        }
        // The first callback blocks inside the listener; the queue then holds CAP more.
        let flush = dispatcher.flush();
        tokio::pin!(flush);
        let stuck = tokio::time::timeout(Duration::from_millis(300), &mut flush).await;
        assert!(stuck.is_err(), "flush must wait while the queue is full");
        entered.recv().expect("the listener ran the first callback");
        assert_eq!(dispatcher.tx.capacity(), 0, "the queue is at its bound");
        // Release the listener: every callback is delivered, flush completes.
        for _ in 0..total {
            open.send(()).expect("gate");
        }
        flush.await;
        for _ in 1..total {
            entered
                .recv_timeout(Duration::from_secs(5))
                .expect("every callback delivered");
        }
    }
}
