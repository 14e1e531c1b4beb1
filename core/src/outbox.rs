//! The outbox of one remote peer: every message sent to it that it has not acknowledged yet,
//! in send order, with its id and `seq` fixed for its whole life.
//!
//! A message is `Pending` when queued, `Sent` once a data channel took it, `Delivered` when the
//! peer's `ack` arrives (then it leaves the outbox), and `Failed` when the peer is gone for good
//! or the message's time to live (`EngineConfig::message_ttl_ms`) runs out. While the peer is
//! not `Connected` messages wait here; when it is again (ICE restart, or a fresh peer
//! connection) [`Outbox::take_unwritten`] hands out what the current connection has not carried yet
//! — on a fresh connection that is every unacknowledged message, re-sent with the same id and
//! `seq`, and the receiver's dedup ([`crate::chat::Inbox`]) drops the copies it already has.
//!
//! Bounded by `EngineConfig::max_outbox_messages`: [`Outbox::push`] refuses a message beyond it
//! ([`OutboxError::Full`], `EngineError::OutboxFull` for the app).
//!
//! This is the seam for persistence (issue 13): the outbox is plain data (ids, seqs, frames,
//! deadlines) with no I/O, so a store can mirror `push`, the acks and the drains.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use crate::chat;
use crate::listener::MessageStatus;

/// Default of `EngineConfig::max_outbox_messages`: unacknowledged messages kept per peer.
pub const DEFAULT_MAX_OUTBOX_MESSAGES: usize = 10_000;

/// Default of `EngineConfig::message_ttl_ms`: how long (ms) a message may wait for its `ack`
/// before it is reported `Failed` (5 minutes).
pub const DEFAULT_MESSAGE_TTL_MS: u64 = 300_000;

/// Why [`Outbox::push`] refused a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OutboxError {
    /// The outbox already holds `max` messages.
    Full {
        /// The bound (`max_outbox_messages`).
        max: usize,
    },
    /// The encoded `message` frame would be this many bytes, over
    /// [`chat::MAX_FRAME_BYTES`].
    TooLarge(usize),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Progress {
    Pending,
    Sent,
}

#[derive(Debug)]
struct Entry {
    id: String,
    frame: Arc<str>,
    progress: Progress,
    /// Engine clock (ms) after which the message is `Failed`.
    expires_at_ms: u64,
    /// The connection (generation) that last took this frame; 0 = none yet.
    written_on: u64,
}

/// Unacknowledged messages to one peer, in send order (keyed by `seq`, with an index by id,
/// so sends and acks cost O(log n) however many wait).
#[derive(Debug)]
pub(crate) struct Outbox {
    last_seq: u64,
    entries: BTreeMap<u64, Entry>,
    by_id: HashMap<String, u64>,
    /// `(generation, seq)`: every entry below `seq` was written on connection `generation`.
    written_up_to: (u64, u64),
    max_messages: usize,
    ttl_ms: u64,
}

impl Outbox {
    /// An empty outbox holding at most `max_messages` messages, each for at most `ttl_ms`.
    pub(crate) fn new(max_messages: usize, ttl_ms: u64) -> Self {
        Self {
            last_seq: 0,
            entries: BTreeMap::new(),
            by_id: HashMap::new(),
            written_up_to: (0, 0),
            max_messages,
            ttl_ms,
        }
    }

    /// Queues a message (`Pending`) and returns its `seq` (1, 2, … per peer, for the peer's
    /// whole life, kept on re-sends). Errors: [`OutboxError::Full`], [`OutboxError::TooLarge`].
    pub(crate) fn push(
        &mut self,
        id: &str,
        sent_at_ms: u64,
        text: &str,
        now_ms: u64,
    ) -> Result<u64, OutboxError> {
        if self.entries.len() >= self.max_messages {
            return Err(OutboxError::Full {
                max: self.max_messages,
            });
        }
        let seq = self.last_seq + 1;
        let frame =
            chat::encode_message(id, seq, sent_at_ms, text).map_err(OutboxError::TooLarge)?;
        self.last_seq = seq;
        self.by_id.insert(id.to_string(), seq);
        self.entries.insert(
            seq,
            Entry {
                id: id.to_string(),
                frame: frame.into(),
                progress: Progress::Pending,
                expires_at_ms: now_ms.saturating_add(self.ttl_ms),
                written_on: 0,
            },
        );
        Ok(seq)
    }

    /// The frames connection `generation` has not carried yet, in send order, marked as
    /// carried by it: `(id, frame)`.
    pub(crate) fn take_unwritten(&mut self, generation: u64) -> Vec<(String, Arc<str>)> {
        let from = match self.written_up_to {
            (g, seq) if g == generation => seq,
            _ => 0,
        };
        self.written_up_to = (generation, self.last_seq + 1);
        self.entries
            .range_mut(from..)
            .filter(|(_, e)| e.written_on != generation)
            .map(|(_, e)| {
                e.written_on = generation;
                (e.id.clone(), e.frame.clone())
            })
            .collect()
    }

    /// A data channel took message `id`: `true` when that makes it `Sent` (once per message).
    pub(crate) fn sent(&mut self, id: &str) -> bool {
        let Some(seq) = self.by_id.get(id) else {
            return false;
        };
        match self.entries.get_mut(seq) {
            Some(e) if e.progress == Progress::Pending => {
                e.progress = Progress::Sent;
                true
            }
            _ => false,
        }
    }

    /// The peer acknowledged `id`: removes it and returns the transitions to report —
    /// `[Delivered]`, or `[Sent, Delivered]` when the ack overtook the send confirmation, or
    /// nothing for an unknown or repeated ack.
    pub(crate) fn acked(&mut self, id: &str) -> Vec<MessageStatus> {
        let Some(seq) = self.by_id.remove(id) else {
            return Vec::new();
        };
        match self.entries.remove(&seq).map(|e| e.progress) {
            Some(Progress::Pending) => vec![MessageStatus::Sent, MessageStatus::Delivered],
            Some(Progress::Sent) => vec![MessageStatus::Delivered],
            None => Vec::new(),
        }
    }

    /// Removes the messages whose time to live ran out by `now_ms`; their ids, in send order.
    pub(crate) fn expire(&mut self, now_ms: u64) -> Vec<String> {
        let expired: Vec<u64> = self
            .entries
            .iter()
            .filter(|(_, e)| e.expires_at_ms <= now_ms)
            .map(|(seq, _)| *seq)
            .collect();
        expired
            .into_iter()
            .filter_map(|seq| self.entries.remove(&seq))
            .map(|e| {
                self.by_id.remove(&e.id);
                e.id
            })
            .collect()
    }

    /// Empties the outbox (the peer is gone for good); the ids, in send order.
    pub(crate) fn drain(&mut self) -> Vec<String> {
        self.by_id.clear();
        std::mem::take(&mut self.entries)
            .into_values()
            .map(|e| e.id)
            .collect()
    }

    /// Engine clock (ms) of the next expiry, if any message waits.
    pub(crate) fn next_expiry_ms(&self) -> Option<u64> {
        // Deadlines grow with `seq` (one TTL, a monotonic clock): the first entry's is the
        // earliest.
        self.entries.values().next().map(|e| e.expires_at_ms)
    }

    /// Messages waiting (pending or sent, not acknowledged).
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether message `id` waits here (history sync leaves it to the live re-send).
    pub(crate) fn contains(&self, id: &str) -> bool {
        self.by_id.contains_key(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use MessageStatus::{Delivered, Sent};

    fn outbox() -> Outbox {
        Outbox::new(3, 1_000)
    }

    #[test]
    fn seq_and_frame_are_fixed_at_push_and_reused_on_every_write() {
        let mut out = outbox();
        assert_eq!(out.push("a", 7, "hi", 0), Ok(1));
        assert_eq!(out.push("b", 8, "yo", 0), Ok(2));
        let first = out.take_unwritten(1);
        assert_eq!(
            first.iter().map(|(id, _)| id.as_str()).collect::<Vec<_>>(),
            ["a", "b"]
        );
        assert_eq!(
            &*first[0].1,
            r#"{"type":"message","id":"a","seq":1,"sent_at_ms":7,"text":"hi"}"#
        );
        // The same connection does not carry them twice; a fresh one carries them all again.
        assert!(out.take_unwritten(1).is_empty());
        assert_eq!(out.push("c", 9, "x", 0), Ok(3));
        assert_eq!(out.take_unwritten(1).len(), 1);
        let fresh = out.take_unwritten(2);
        assert_eq!(
            fresh.iter().map(|(id, _)| id.as_str()).collect::<Vec<_>>(),
            ["a", "b", "c"]
        );
        assert_eq!(
            fresh[..2],
            first[..],
            "same ids, seqs and frames on a fresh connection"
        );
    }

    #[test]
    fn the_bound_is_enforced_with_a_typed_error_and_frees_on_ack() {
        let mut out = outbox();
        for id in ["a", "b", "c"] {
            out.push(id, 0, "t", 0).unwrap();
        }
        assert_eq!(out.push("d", 0, "t", 0), Err(OutboxError::Full { max: 3 }));
        assert_eq!(out.len(), 3);
        out.acked("b");
        assert_eq!(out.push("d", 0, "t", 0), Ok(4));
    }

    #[test]
    fn a_frame_over_the_limit_is_refused_without_using_a_seq() {
        let mut out = outbox();
        let text = "\u{1}".repeat(chat::MAX_MESSAGE_BYTES);
        assert!(matches!(
            out.push("a", 0, &text, 0),
            Err(OutboxError::TooLarge(_))
        ));
        assert_eq!(out.push("b", 0, "ok", 0), Ok(1));
    }

    #[test]
    fn one_report_per_transition() {
        let mut out = outbox();
        out.push("a", 0, "t", 0).unwrap();
        out.push("b", 0, "t", 0).unwrap();
        assert!(out.sent("a"));
        assert!(!out.sent("a"), "a re-send is not a second Sent");
        assert_eq!(out.acked("a"), vec![Delivered]);
        assert!(out.acked("a").is_empty(), "a repeated ack reports nothing");
        assert!(!out.sent("a"), "nor does a late send confirmation");
        assert_eq!(out.acked("b"), vec![Sent, Delivered]);
        assert!(out.acked("zzz").is_empty());
        assert_eq!(out.len(), 0);
    }

    #[test]
    fn ttl_expiry_and_drain_report_ids_in_send_order() {
        let mut out = Outbox::new(100, 1_000);
        for (i, id) in ["m1", "m2", "m3", "m4", "m5"].iter().enumerate() {
            out.push(id, 0, "t", i as u64 * 100).unwrap();
        }
        assert_eq!(out.next_expiry_ms(), Some(1_000));
        assert!(out.expire(999).is_empty());
        assert_eq!(out.expire(1_250), vec!["m1", "m2", "m3"]);
        assert_eq!(out.next_expiry_ms(), Some(1_300));
        out.push("m6", 0, "t", 1_300).unwrap();
        assert_eq!(out.drain(), vec!["m4", "m5", "m6"]);
        assert_eq!(out.next_expiry_ms(), None);
    }
}
