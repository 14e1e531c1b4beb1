//! Delivers listener callbacks in order on one dedicated thread, so that a slow listener never
//! stalls the engine's runtime and callbacks never run on the caller's thread.

use std::sync::Arc;
use std::sync::mpsc;

use crate::listener::EngineListener;

type Callback = Box<dyn FnOnce(&dyn EngineListener) + Send>;

/// Sending half: queue a callback. Cloneable; the thread ends when every clone is dropped,
/// after delivering what was queued.
#[derive(Clone)]
pub(crate) struct Dispatcher {
    tx: mpsc::Sender<Callback>,
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
        Ok(Self { tx })
    }

    /// Queues one callback. Silently nothing once the thread is gone (the engine shut down).
    pub(crate) fn emit(&self, callback: impl FnOnce(&dyn EngineListener) + Send + 'static) {
        let _ = self.tx.send(Box::new(callback));
    }
}
