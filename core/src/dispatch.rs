//! Delivers listener callbacks in order on one dedicated thread, so that a slow listener never
//! stalls the engine's runtime and callbacks never run on the caller's thread.

use std::sync::mpsc;
use std::sync::{Arc, Mutex};

use crate::listener::EngineListener;

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
        let (tx, rx) = mpsc::channel::<Callback>();
        std::thread::Builder::new()
            .name("peerchat-events".into())
            .spawn(move || {
                for callback in rx {
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

    /// Hands every held callback, in order, to the listener thread. Nothing happens once the
    /// thread is gone (the engine shut down).
    pub(crate) fn flush(&self) {
        for callback in self.held.lock().expect("held lock").drain(..) {
            let _ = self.tx.send(callback);
        }
    }
}
