//! The app's lifecycle as the engine sees it: in the foreground or paused (in the background),
//! and how many times the app said "look at the network again" (`resume`, `network_changed`).
//!
//! [`Engine::pause`](crate::Engine::pause), [`Engine::resume`](crate::Engine::resume) and
//! [`Engine::network_changed`](crate::Engine::network_changed) only write this state into a
//! `tokio::sync::watch` channel, which the actor and the signaling driver read. A watch channel
//! holds one value, so the calls never block, never fail and never queue: a burst of calls
//! coalesces into the latest state (the documented behaviour of this "queue" when it is busy).

use tokio::sync::watch;

/// The latest lifecycle state; see the module docs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Lifecycle {
    /// Between `pause()` and the next `resume()`.
    pub(crate) paused: bool,
    /// Incremented by every `resume()` and `network_changed()`: a change tells the signaling
    /// driver to dial at once if it is waiting to (skipping the backoff) or to probe its open
    /// connection, and tells the actor to check its peer connections.
    pub(crate) wakes: u64,
}

/// The writing half, held by the engine.
pub(crate) type LifecycleTx = watch::Sender<Lifecycle>;
/// A reading half, held by the actor and the signaling driver.
pub(crate) type LifecycleRx = watch::Receiver<Lifecycle>;

/// A new lifecycle channel, in the foreground, never woken.
pub(crate) fn channel() -> (LifecycleTx, LifecycleRx) {
    watch::channel(Lifecycle::default())
}

/// Waits for the next change of `rx`. Returns `false` (and keeps returning `false` at once)
/// when the engine dropped its half, so a `select!` loop can disable the branch.
pub(crate) async fn changed(rx: &mut LifecycleRx) -> bool {
    rx.changed().await.is_ok()
}
