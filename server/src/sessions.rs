//! Sessions (protocol version 2): the token that resumes a peer id after its connection drops,
//! and what the server keeps for an interrupted session during its grace period. Pure
//! bookkeeping, no I/O; the hub decides who is told what.

use std::collections::{HashMap, VecDeque};

use peerchat_core::protocol::{RESUME_QUEUE_LEN, SESSION_TOKEN_BITS, ServerMessage};
use rand::TryRngCore;

/// A fresh session token: [`SESSION_TOKEN_BITS`] bits from the OS CSPRNG (`getrandom`), as
/// lower-case hex. Returns `None` only if the OS cannot provide random bytes.
pub fn new_session_token() -> Option<String> {
    let mut bytes = [0u8; SESSION_TOKEN_BITS / 8];
    rand::rngs::OsRng.try_fill_bytes(&mut bytes).ok()?;
    Some(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// Why a relay to an interrupted session was not queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueFull;

/// What the server keeps for a session whose connection dropped.
#[derive(Debug)]
struct Interrupted {
    /// Identifies this interruption, so that a grace timer armed for an earlier one that was
    /// resumed in between does nothing.
    epoch: u64,
    /// Relays for the peer, oldest first, at most [`RESUME_QUEUE_LEN`].
    queue: VecDeque<ServerMessage>,
}

#[derive(Debug)]
struct Session {
    token: String,
    interrupted: Option<Interrupted>,
}

/// Every session of version 2 peers, keyed by peer id, with the token index.
#[derive(Debug, Default)]
pub struct Sessions {
    by_peer: HashMap<String, Session>,
    by_token: HashMap<String, String>,
    epochs: u64,
}

impl Sessions {
    /// Opens a session for `peer` under `token`.
    pub fn open(&mut self, peer: &str, token: String) {
        self.by_token.insert(token.clone(), peer.to_string());
        self.by_peer.insert(
            peer.to_string(),
            Session {
                token,
                interrupted: None,
            },
        );
    }

    /// Ends the session of `peer` (if it has one): its token no longer resumes anything.
    pub fn close(&mut self, peer: &str) {
        if let Some(s) = self.by_peer.remove(peer) {
            self.by_token.remove(&s.token);
        }
    }

    /// Whether `peer` has a session (version 2).
    pub fn has(&self, peer: &str) -> bool {
        self.by_peer.contains_key(peer)
    }

    /// The peer whose session `token` resumes.
    pub fn peer_of(&self, token: &str) -> Option<&str> {
        self.by_token.get(token).map(String::as_str)
    }

    /// Marks the session of `peer` interrupted; returns the epoch its grace timer must present
    /// to [`Sessions::expire`], or `None` when `peer` has no session.
    pub fn interrupt(&mut self, peer: &str) -> Option<u64> {
        let session = self.by_peer.get_mut(peer)?;
        self.epochs += 1;
        session.interrupted = Some(Interrupted {
            epoch: self.epochs,
            queue: VecDeque::new(),
        });
        Some(self.epochs)
    }

    /// Whether the session of `peer` is interrupted.
    pub fn is_interrupted(&self, peer: &str) -> bool {
        self.by_peer
            .get(peer)
            .is_some_and(|s| s.interrupted.is_some())
    }

    /// Interrupted sessions now.
    pub fn interrupted(&self) -> usize {
        self.by_peer
            .values()
            .filter(|s| s.interrupted.is_some())
            .count()
    }

    /// Whether the queue of the interrupted `peer` has room for one more relay.
    pub fn has_room(&self, peer: &str) -> bool {
        self.by_peer
            .get(peer)
            .and_then(|s| s.interrupted.as_ref())
            .is_none_or(|i| i.queue.len() < RESUME_QUEUE_LEN)
    }

    /// Queues `msg` for the interrupted `peer`. Errors: [`QueueFull`] when it holds
    /// [`RESUME_QUEUE_LEN`] messages already (or `peer` is not interrupted).
    pub fn queue(&mut self, peer: &str, msg: ServerMessage) -> Result<(), QueueFull> {
        let interrupted = self
            .by_peer
            .get_mut(peer)
            .and_then(|s| s.interrupted.as_mut())
            .ok_or(QueueFull)?;
        if interrupted.queue.len() >= RESUME_QUEUE_LEN {
            return Err(QueueFull);
        }
        interrupted.queue.push_back(msg);
        Ok(())
    }

    /// Ends the interruption of `peer`: returns the queued relays, oldest first.
    pub fn resume(&mut self, peer: &str) -> Vec<ServerMessage> {
        self.by_peer
            .get_mut(peer)
            .and_then(|s| s.interrupted.take())
            .map(|i| i.queue.into())
            .unwrap_or_default()
    }

    /// Whether the grace timer armed with `epoch` still applies: `peer` is interrupted by that
    /// very interruption (not resumed since).
    pub fn expires(&self, peer: &str, epoch: u64) -> bool {
        self.by_peer
            .get(peer)
            .and_then(|s| s.interrupted.as_ref())
            .is_some_and(|i| i.epoch == epoch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_long_hex_and_distinct() {
        let a = new_session_token().unwrap();
        let b = new_session_token().unwrap();
        assert_eq!(a.len(), SESSION_TOKEN_BITS / 4);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
    }

    #[test]
    fn queue_is_bounded_and_replayed_in_order() {
        let mut s = Sessions::default();
        s.open("p", "t".into());
        assert!(
            s.queue("p", ServerMessage::Pong).is_err(),
            "not interrupted"
        );
        s.interrupt("p").unwrap();
        for _ in 0..RESUME_QUEUE_LEN {
            s.queue("p", ServerMessage::Pong).unwrap();
        }
        assert!(!s.has_room("p"));
        assert_eq!(s.queue("p", ServerMessage::Pong), Err(QueueFull));
        assert_eq!(s.resume("p").len(), RESUME_QUEUE_LEN);
        assert!(!s.is_interrupted("p"));
    }

    #[test]
    fn an_old_grace_timer_does_not_expire_a_later_interruption() {
        let mut s = Sessions::default();
        s.open("p", "t".into());
        let first = s.interrupt("p").unwrap();
        s.resume("p");
        assert!(!s.expires("p", first));
        let second = s.interrupt("p").unwrap();
        assert!(!s.expires("p", first));
        assert!(s.expires("p", second));
        s.close("p");
        assert!(s.peer_of("t").is_none());
    }
}
