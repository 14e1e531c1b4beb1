//! Limits on what one peer may be sent by others, so that no sender (or group of senders) can
//! flood a target's outgoing queue and get it disconnected.
//!
//! Three checks guard every relayed message (`offer`, `answer`, `ice_candidate`, `bye`), in
//! this order, after the relay rules (`relay.rs`) and the sender's own rate limit:
//! 1. **Per pair** (sender → target): a token bucket of [`RELAY_PAIR_BURST`] messages refilled
//!    at [`RELAY_PAIR_PER_SEC`]/s. Refused with `rate_limited`.
//! 2. **Per target** (all senders together): [`RELAY_TARGET_BURST`] refilled at
//!    [`RELAY_TARGET_PER_SEC`]/s. Refused with `target_busy`.
//! 3. **Queue share**: relayed messages may fill the target's outgoing queue only up to
//!    `outgoing_queue - RELAY_QUEUE_RESERVE`; the last [`RELAY_QUEUE_RESERVE`] slots are kept for
//!    the server's own messages to the target (answers to its requests, `peer_joined`,
//!    `peer_left`). Refused with `target_busy`.
//!
//! A refused relay is dropped and the *sender* gets the error; the target is never closed
//! because of what others send it. Only a target that does not read its socket at all is
//! closed: by the write-stall timeout or the idle timeout (`connection.rs`).

use std::collections::HashMap;
use std::time::Instant;

use crate::ratelimit::TokenBucket;

/// Relayed messages per second one sender may send to one target, sustained.
pub const RELAY_PAIR_PER_SEC: u32 = 25;
/// Relayed messages one sender may send to one target at once (an offer, an answer and a
/// burst of trickle ICE candidates, several times over, fit easily).
pub const RELAY_PAIR_BURST: u32 = 100;
/// Relayed messages per second one target may receive from all senders together, sustained.
pub const RELAY_TARGET_PER_SEC: u32 = 100;
/// Relayed messages one target may receive from all senders together at once (enough for
/// the 15 other members of a full 16-peer mesh room to set up their connections together).
pub const RELAY_TARGET_BURST: u32 = 400;
/// Slots of every outgoing queue that relayed messages may not use (see the module docs).
pub const RELAY_QUEUE_RESERVE: usize = 16;

/// Sender entries one target keeps before refilled (idle) ones are pruned.
const PRUNE_ABOVE: usize = 64;

/// Why [`RelayLimits::admit`] refused a relay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// The sender → target pair is over its limit (`rate_limited`).
    Pair,
    /// The target is over its limit (`target_busy`).
    Target,
}

#[derive(Debug)]
struct TargetState {
    bucket: TokenBucket,
    senders: HashMap<String, TokenBucket>,
}

/// The per-target and per-pair token buckets of one server.
#[derive(Debug, Default)]
pub struct RelayLimits {
    targets: HashMap<String, TargetState>,
}

impl RelayLimits {
    /// Takes one token from the `sender → target` bucket and one from `target`'s bucket.
    /// Errors: [`Refused::Pair`] or [`Refused::Target`]; a refusal by the target bucket gives
    /// back nothing taken (the pair token is spent: the sender did send).
    /// `now` is the time the relay is handled at.
    pub fn admit(&mut self, sender: &str, target: &str, now: Instant) -> Result<(), Refused> {
        let state = self
            .targets
            .entry(target.to_string())
            .or_insert_with(|| TargetState {
                bucket: TokenBucket::new_at(RELAY_TARGET_PER_SEC, RELAY_TARGET_BURST, now),
                senders: HashMap::new(),
            });
        if state.senders.len() > PRUNE_ABOVE {
            state.senders.retain(|_, b| !b.is_full_at(now));
        }
        let pair = state
            .senders
            .entry(sender.to_string())
            .or_insert_with(|| TokenBucket::new_at(RELAY_PAIR_PER_SEC, RELAY_PAIR_BURST, now));
        if !pair.try_take_at(now) {
            return Err(Refused::Pair);
        }
        if !state.bucket.try_take_at(now) {
            return Err(Refused::Target);
        }
        Ok(())
    }

    /// Forgets `peer` as a target (its connection ended). Its entries as a sender in other
    /// targets' maps are pruned once refilled.
    pub fn forget(&mut self, peer: &str) {
        self.targets.remove(peer);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pair_then_target_limits_apply() {
        let mut l = RelayLimits::default();
        let t = Instant::now();
        let pair = RELAY_PAIR_BURST as usize;
        let ok = (0..pair + 10)
            .filter(|_| l.admit("a", "t", t).is_ok())
            .count();
        assert_eq!(ok, pair);
        assert_eq!(l.admit("a", "t", t), Err(Refused::Pair));
        // Other senders share the target's bucket.
        let mut admitted = pair;
        let mut refused = None;
        for s in 0..1000 {
            match l.admit(&format!("s{s}"), "t", t) {
                Ok(()) => admitted += 1,
                Err(e) => {
                    refused = Some(e);
                    break;
                }
            }
        }
        assert_eq!(refused, Some(Refused::Target));
        assert_eq!(admitted, RELAY_TARGET_BURST as usize);
        // Another target is unaffected.
        assert_eq!(l.admit("a", "u", t), Ok(()));
        l.forget("t");
        assert_eq!(l.admit("a", "t", t), Ok(()));
    }
}
