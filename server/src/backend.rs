//! The seam between the connections and the signaling state.
//!
//! Every input that changes the state (a peer connects, sends a message, resumes a session,
//! disconnects) goes through [`Backend`]:
//! - [`Backend::Local`] (default): applied at once to this process's [`Hub`](crate::hub::Hub)
//!   under its mutex, exactly as a single server always did; no extra cost.
//! - [`Backend::Redis`] (`--redis-url`): appended to a shared, totally ordered log (a Redis
//!   stream); every instance reads the log and applies each entry to its own replica of the
//!   hub, in the same order, with the entry's time and random seed, so all replicas agree on
//!   rooms, codes, logins, sessions and limits. Each instance delivers only to the
//!   connections it holds. See [`crate::redis_log`] and `docs/architecture.md`.

use std::sync::Arc;

/// Where the state lives (see the module docs).
#[derive(Debug)]
pub enum Backend {
    /// In this process's memory.
    Local,
    /// Replicated through the shared log on Redis.
    Redis(Arc<crate::redis_log::RedisLog>),
}
