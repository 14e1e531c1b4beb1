//! Interest matchmaking: the waiting queue, pure bookkeeping with no I/O, no clock and no
//! randomness, so every server instance applying the same sequence of operations (the Redis
//! replicated log, `redis_log/`) takes the same decisions.
//!
//! - **Topics** are normalised by [`normalize_topic`]: trimmed, inner whitespace collapsed to one
//!   space, refused characters as for names (`names::check`: invisible, format, bidi-control),
//!   Unicode NFKC then lower case (the shown form); two topics are the same when their UTS #39
//!   confusable skeletons are equal (`names::login_key`), so `Chess`, `ＣＨＥＳＳ` and `сhess`
//!   (Cyrillic `с`) all meet.
//! - **Fairness**: when a user is queued ([`MatchQueue::enqueue`]), they are paired with the
//!   *oldest* waiter (smallest enqueue sequence number) that waits on at least one of their
//!   topics, over all shared topics together. Sequence numbers are unique, so there are no ties
//!   between waiters; when the pair shares several topics, the topic reported is the first of
//!   the newcomer's topics (in the order they gave) that the waiter also waits on.
//! - **No self-match, no immediate re-match**: a peer has at most one entry, so it can never be
//!   paired with itself; an entry may carry an `avoid` peer (the partner just left with
//!   `next_match`), and two entries are never paired when either avoids the other.
//! - **Bounds** (typed errors, [`MatchError`]): [`MAX_TOPICS_PER_REQUEST`],
//!   [`MAX_TOPIC_CHARS`], [`MAX_WAITERS_TOTAL`]; the listing returns at most
//!   [`MAX_LISTED_TOPICS`] topics. No per-topic bound is needed: two waiters on one topic are
//!   always paired unless one avoids the other, and each entry avoids at most one peer, so a
//!   topic never holds more than 3 waiters at once (a avoids b, b avoids c, c avoids a).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::names;

pub use peerchat_core::protocol::{MAX_TOPIC_CHARS, MAX_TOPICS_PER_REQUEST};
/// Most users waiting on the whole server (all topics).
pub const MAX_WAITERS_TOTAL: usize = 10_000;
/// Most topics returned by [`MatchQueue::topics`] (the busiest ones).
pub const MAX_LISTED_TOPICS: usize = 100;

/// Why a matchmaking request was refused. Each maps to one `error` code of the protocol
/// (docs/protocol.md, "Matchmaking").
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MatchError {
    /// `invalid_topic`: empty after trimming, too long, or with a refused character.
    #[error("invalid topic: {0}")]
    InvalidTopic(String),
    /// `too_many_topics`: no topic, or more than [`MAX_TOPICS_PER_REQUEST`].
    #[error("between 1 and {MAX_TOPICS_PER_REQUEST} topics are allowed (got {0})")]
    TooManyTopics(usize),
    /// `match_queue_full`: [`MAX_WAITERS_TOTAL`] users are waiting.
    #[error("too many people are waiting for a match")]
    QueueFull,
    /// `already_waiting`: the peer is already in the queue (cancel first).
    #[error("already waiting for a match")]
    AlreadyWaiting,
}

/// A topic after [`normalize_topic`]: the form shown to users and the comparison key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topic {
    /// NFKC, lower case, whitespace collapsed: what users see.
    pub shown: String,
    /// The confusable skeleton of `shown`: what is compared.
    pub key: String,
}

/// Normalises one topic (see the module docs). Errors: [`MatchError::InvalidTopic`] when it is
/// empty after trimming, longer than [`MAX_TOPIC_CHARS`], or has a refused character.
pub fn normalize_topic(raw: &str) -> Result<Topic, MatchError> {
    let collapsed = raw.split_whitespace().collect::<Vec<_>>().join(" ");
    if collapsed.is_empty() {
        return Err(MatchError::InvalidTopic("a topic cannot be empty".into()));
    }
    let shown = names::check(&collapsed)
        .map_err(|e| MatchError::InvalidTopic(e.to_string()))?
        .to_lowercase();
    let chars = shown.chars().count();
    if chars > MAX_TOPIC_CHARS {
        return Err(MatchError::InvalidTopic(format!(
            "a topic has at most {MAX_TOPIC_CHARS} characters (got {chars})"
        )));
    }
    let key = names::login_key(&shown);
    Ok(Topic { shown, key })
}

/// Normalises a request's topics: each with [`normalize_topic`], duplicates (same key) dropped
/// keeping the first, order kept. Errors: [`MatchError::TooManyTopics`] for 0 or more than
/// [`MAX_TOPICS_PER_REQUEST`] topics (counted before dropping duplicates), or the first
/// [`MatchError::InvalidTopic`].
pub fn normalize_topics(raw: &[String]) -> Result<Vec<Topic>, MatchError> {
    if raw.is_empty() || raw.len() > MAX_TOPICS_PER_REQUEST {
        return Err(MatchError::TooManyTopics(raw.len()));
    }
    let mut out: Vec<Topic> = Vec::with_capacity(raw.len());
    for t in raw {
        let t = normalize_topic(t)?;
        if !out.iter().any(|o| o.key == t.key) {
            out.push(t);
        }
    }
    Ok(out)
}

/// A pairing decided by [`MatchQueue::enqueue`]; both entries have left the queue. The caller
/// (the hub) puts both into a fresh room of capacity 2 and sends each `matched`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pairing {
    /// The peer that was waiting (older entry).
    pub waiter: String,
    /// The peer whose request made the match.
    pub newcomer: String,
    /// The shared topic, in the shown form of the newcomer's request.
    pub topic: String,
}

/// One waiting peer.
#[derive(Debug)]
struct Entry {
    seq: u64,
    topics: Vec<Topic>,
    avoid: Option<String>,
}

/// One topic's queue: (sequence, peer id), oldest first, and the shown form of its first waiter.
#[derive(Debug, Default)]
struct TopicQueue {
    shown: String,
    waiters: BTreeSet<(u64, String)>,
}

/// The matchmaking queue of a server (or of every instance, replicated by the log).
#[derive(Debug)]
pub struct MatchQueue {
    next_seq: u64,
    max_waiters: usize,
    entries: HashMap<String, Entry>,
    by_topic: HashMap<String, TopicQueue>,
}

impl Default for MatchQueue {
    fn default() -> Self {
        Self::with_max_waiters(MAX_WAITERS_TOTAL)
    }
}

impl MatchQueue {
    /// An empty queue holding at most `max_waiters` waiting users (the server uses
    /// [`MAX_WAITERS_TOTAL`]).
    pub fn with_max_waiters(max_waiters: usize) -> Self {
        Self {
            next_seq: 0,
            max_waiters,
            entries: HashMap::new(),
            by_topic: HashMap::new(),
        }
    }

    /// Users waiting.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether nobody is waiting.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Whether `peer` is waiting.
    pub fn is_waiting(&self, peer: &str) -> bool {
        self.entries.contains_key(peer)
    }

    /// Queues `peer` on `topics` (already normalised, non-empty), never pairing it with `avoid`.
    /// Returns `Some(pairing)` when an eligible waiter shares a topic (the oldest such waiter, see
    /// the module docs; the newcomer is then not queued), `None` when `peer` now waits.
    /// Errors: [`MatchError::AlreadyWaiting`]; [`MatchError::QueueFull`] when it would have to
    /// wait and [`MAX_WAITERS_TOTAL`] (or [`MatchQueue::with_max_waiters`]) users already wait (a
    /// request that can be matched at once is never refused for a full queue).
    pub fn enqueue(
        &mut self,
        peer: &str,
        topics: Vec<Topic>,
        avoid: Option<String>,
    ) -> Result<Option<Pairing>, MatchError> {
        if self.entries.contains_key(peer) {
            return Err(MatchError::AlreadyWaiting);
        }
        if let Some(pairing) = self.best_partner(peer, &topics, avoid.as_deref()) {
            self.remove(&pairing.waiter);
            return Ok(Some(pairing));
        }
        if self.entries.len() >= self.max_waiters {
            return Err(MatchError::QueueFull);
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        for t in &topics {
            let q = self
                .by_topic
                .entry(t.key.clone())
                .or_insert_with(|| TopicQueue {
                    shown: t.shown.clone(),
                    waiters: BTreeSet::new(),
                });
            q.waiters.insert((seq, peer.to_owned()));
        }
        self.entries
            .insert(peer.to_owned(), Entry { seq, topics, avoid });
        Ok(None)
    }

    /// The oldest eligible waiter sharing a topic with the newcomer, and the topic to report.
    fn best_partner(&self, peer: &str, topics: &[Topic], avoid: Option<&str>) -> Option<Pairing> {
        let mut best: Option<(u64, &str)> = None;
        for t in topics {
            let Some(q) = self.by_topic.get(&t.key) else {
                continue;
            };
            // Oldest first; skip only the (at most few) entries that avoid or are avoided.
            let candidate = q.waiters.iter().find(|(_, w)| {
                w != peer
                    && avoid != Some(w.as_str())
                    && self.entries[w.as_str()].avoid.as_deref() != Some(peer)
            });
            if let Some((seq, w)) = candidate
                && best.is_none_or(|(s, _)| *seq < s)
            {
                best = Some((*seq, w.as_str()));
            }
        }
        let (_, waiter) = best?;
        let waiting_on = &self.entries[waiter].topics;
        let topic = topics
            .iter()
            .find(|t| waiting_on.iter().any(|w| w.key == t.key))
            .expect("the waiter was found on one of these topics");
        Some(Pairing {
            waiter: waiter.to_owned(),
            newcomer: peer.to_owned(),
            topic: topic.shown.clone(),
        })
    }

    /// Takes `peer` out of the queue (cancel, disconnect, matched). Returns whether it waited.
    pub fn remove(&mut self, peer: &str) -> bool {
        let Some(entry) = self.entries.remove(peer) else {
            return false;
        };
        for t in &entry.topics {
            if let Some(q) = self.by_topic.get_mut(&t.key) {
                q.waiters.remove(&(entry.seq, peer.to_owned()));
                if q.waiters.is_empty() {
                    self.by_topic.remove(&t.key);
                }
            }
        }
        true
    }

    /// Topics with waiting users, as (shown form, waiting count): the busiest first, ties by
    /// shown form, at most [`MAX_LISTED_TOPICS`]. Topics nobody waits on are not listed.
    pub fn topics(&self) -> Vec<(String, usize)> {
        let mut all: BTreeMap<(std::cmp::Reverse<usize>, &str), ()> = BTreeMap::new();
        for q in self.by_topic.values() {
            all.insert((std::cmp::Reverse(q.waiters.len()), q.shown.as_str()), ());
        }
        all.into_keys()
            .take(MAX_LISTED_TOPICS)
            .map(|(std::cmp::Reverse(n), s)| (s.to_owned(), n))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(list: &[&str]) -> Vec<Topic> {
        normalize_topics(&list.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap()
    }

    #[test]
    fn a_shared_topic_pairs_two_users() {
        let mut q = MatchQueue::default();
        assert_eq!(q.enqueue("a", t(&["chess", "go"]), None), Ok(None));
        let p = q.enqueue("b", t(&["jazz", "go"]), None).unwrap().unwrap();
        assert_eq!((p.waiter.as_str(), p.newcomer.as_str()), ("a", "b"));
        assert_eq!(p.topic, "go");
        assert!(q.is_empty());
        assert!(q.topics().is_empty());
    }

    #[test]
    fn no_shared_topic_means_both_wait() {
        let mut q = MatchQueue::default();
        assert_eq!(q.enqueue("a", t(&["chess"]), None), Ok(None));
        assert_eq!(q.enqueue("b", t(&["jazz"]), None), Ok(None));
        assert_eq!(q.len(), 2);
        assert_eq!(
            q.topics(),
            vec![("chess".to_owned(), 1), ("jazz".to_owned(), 1)]
        );
    }

    #[test]
    fn oldest_waiter_first_across_shared_topics() {
        let mut q = MatchQueue::default();
        q.enqueue("old", t(&["go"]), None).unwrap();
        q.enqueue("mid", t(&["chess"]), None).unwrap();
        let p = q
            .enqueue("new", t(&["chess", "go"]), None)
            .unwrap()
            .unwrap();
        // "new" shares chess with "mid" and go with "old": the older one wins.
        assert_eq!(p.waiter, "old");
        assert_eq!(p.topic, "go");
        assert!(!q.is_waiting("old"));
        assert!(q.is_waiting("mid"));
    }

    #[test]
    fn reported_topic_is_the_newcomers_first_shared_one() {
        let mut q = MatchQueue::default();
        q.enqueue("a", t(&["go", "chess"]), None).unwrap();
        let p = q.enqueue("b", t(&["chess", "go"]), None).unwrap().unwrap();
        assert_eq!(p.topic, "chess");
    }

    #[test]
    fn cancel_removes_the_waiter() {
        let mut q = MatchQueue::default();
        q.enqueue("a", t(&["go"]), None).unwrap();
        assert!(q.remove("a"));
        assert!(!q.remove("a"));
        assert_eq!(q.enqueue("b", t(&["go"]), None), Ok(None));
    }

    #[test]
    fn no_self_match_and_no_immediate_rematch() {
        let mut q = MatchQueue::default();
        q.enqueue("a", t(&["go"]), None).unwrap();
        assert_eq!(
            q.enqueue("a", t(&["go"]), None),
            Err(MatchError::AlreadyWaiting)
        );
        // b just left a with next_match: they are not paired again, b waits.
        assert_eq!(q.enqueue("b", t(&["go"]), Some("a".into())), Ok(None));
        // A third user is paired with the oldest eligible waiter, a.
        let p = q.enqueue("c", t(&["go"]), None).unwrap().unwrap();
        assert_eq!(p.waiter, "a");
    }

    #[test]
    fn topics_are_normalised_and_confusables_meet() {
        let mut q = MatchQueue::default();
        q.enqueue("a", t(&["  Board   Games "]), None).unwrap();
        let p = q
            .enqueue("b", t(&["ＢＯＡＲＤ gаmes"]), None) // fullwidth, Cyrillic а
            .unwrap()
            .unwrap();
        assert_eq!(p.topic, "board gаmes");
        assert!(normalize_topic("go\u{200B}").is_err());
        assert!(normalize_topic("   ").is_err());
        assert!(normalize_topic(&"x".repeat(MAX_TOPIC_CHARS)).is_ok());
        assert!(normalize_topic(&"x".repeat(MAX_TOPIC_CHARS + 1)).is_err());
    }

    #[test]
    fn topic_count_bounds() {
        let many: Vec<String> = (0..=MAX_TOPICS_PER_REQUEST)
            .map(|i| format!("t{i}"))
            .collect();
        assert_eq!(
            normalize_topics(&many),
            Err(MatchError::TooManyTopics(MAX_TOPICS_PER_REQUEST + 1))
        );
        assert_eq!(normalize_topics(&[]), Err(MatchError::TooManyTopics(0)));
        assert!(normalize_topics(&many[..MAX_TOPICS_PER_REQUEST]).is_ok());
    }

    #[test]
    fn total_bound_refuses_a_waiter_but_never_a_match() {
        let mut q = MatchQueue::with_max_waiters(2);
        q.enqueue("a", t(&["go"]), None).unwrap();
        q.enqueue("b", t(&["chess"]), None).unwrap();
        assert_eq!(
            q.enqueue("c", t(&["jazz"]), None),
            Err(MatchError::QueueFull)
        );
        assert!(!q.is_waiting("c"));
        assert!(q.enqueue("d", t(&["go"]), None).unwrap().is_some());
    }

    #[test]
    fn a_topic_never_holds_more_than_three_waiters() {
        // Only mutually avoiding entries can wait on one topic together (see MAX_WAITERS_TOTAL).
        let mut q = MatchQueue::default();
        q.enqueue("a", t(&["go"]), Some("b".into())).unwrap();
        q.enqueue("b", t(&["go"]), Some("c".into())).unwrap();
        q.enqueue("c", t(&["go"]), Some("a".into())).unwrap();
        q.enqueue("z", t(&["zebra"]), None).unwrap();
        q.enqueue("y", t(&["yak"]), None).unwrap();
        assert_eq!(q.len(), 5);
        // Busiest first, then by topic.
        assert_eq!(
            q.topics(),
            vec![
                ("go".to_owned(), 3),
                ("yak".to_owned(), 1),
                ("zebra".to_owned(), 1)
            ]
        );
        let p = q.enqueue("d", t(&["go"]), None).unwrap().unwrap();
        assert_eq!(p.waiter, "a");
    }
}
