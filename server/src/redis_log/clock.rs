//! Time as the shared log tells it: every replica derives instance liveness and session grace
//! expiry from the entry ids (milliseconds of Redis's clock), never from its own clock, so
//! every replica ends the same sessions at the same point of the log.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::time::{Duration, Instant};

/// An instance whose last entry is this much older (log time, ms) than the newest entry is
/// gone: its connections end (sessions interrupted, grace period running). Four heartbeats.
pub const INSTANCE_TIMEOUT_MS: u64 = 4 * super::BEAT_MS;

/// A jump of log time larger than this between two entries means the log itself was
/// unavailable (Redis down or restarted): nobody could append heartbeats, so every instance
/// is given a fresh timeout instead of being declared gone.
pub const LOG_GAP_MS: u64 = 2 * super::BEAT_MS;

/// Log time of one replica.
#[derive(Debug, Default)]
pub struct LogClock {
    base: Option<(Instant, u64)>,
    last_ms: u64,
    beats: HashMap<u64, u64>,
    deadlines: BinaryHeap<Reverse<(u64, String, u64)>>,
}

/// The millisecond part of a stream entry id (`1700000000000-3`).
#[cfg(test)]
pub fn entry_ms(id: &str) -> u64 {
    id.split('-')
        .next()
        .and_then(|ms| ms.parse().ok())
        .unwrap_or(0)
}

impl LogClock {
    /// Moves log time to `ms` (the entry being applied); returns it as an `Instant` of this
    /// process (only differences between such instants matter, and they equal the log's).
    pub fn advance(&mut self, ms: u64) -> Instant {
        let (at, base_ms) = *self.base.get_or_insert((Instant::now(), ms));
        if self.last_ms != 0 && ms.saturating_sub(self.last_ms) > LOG_GAP_MS {
            for beat in self.beats.values_mut() {
                *beat = ms;
            }
        }
        self.last_ms = self.last_ms.max(ms);
        at + Duration::from_millis(ms.saturating_sub(base_ms))
    }

    /// Instance `inst` appended an entry now.
    pub fn beat(&mut self, inst: u64) {
        self.beats.insert(inst, self.last_ms);
    }

    /// Instances silent for [`INSTANCE_TIMEOUT_MS`]; they are forgotten.
    pub fn gone(&mut self) -> Vec<u64> {
        let now = self.last_ms;
        let gone: Vec<u64> = self
            .beats
            .iter()
            .filter(|(_, at)| now.saturating_sub(**at) > INSTANCE_TIMEOUT_MS)
            .map(|(i, _)| *i)
            .collect();
        for i in &gone {
            self.beats.remove(i);
        }
        gone
    }

    /// The grace period of `peer`'s interruption `epoch` ends `grace` after now.
    pub fn arm(&mut self, peer: String, epoch: u64, grace: Duration) {
        let at = self.last_ms + u64::try_from(grace.as_millis()).unwrap_or(u64::MAX / 2);
        self.deadlines.push(Reverse((at, peer, epoch)));
    }

    /// Grace periods that ended by now: `(peer, epoch)`.
    pub fn expired(&mut self) -> Vec<(String, u64)> {
        let mut out = Vec::new();
        while let Some(Reverse((at, _, _))) = self.deadlines.peek() {
            if *at > self.last_ms {
                break;
            }
            if let Some(Reverse((_, peer, epoch))) = self.deadlines.pop() {
                out.push((peer, epoch));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn silent_instances_go_but_a_log_outage_is_not_their_fault() {
        let mut c = LogClock::default();
        c.advance(1_000);
        c.beat(1);
        c.beat(2);
        c.advance(1_000 + super::super::BEAT_MS);
        c.beat(1);
        // Instance 2 stays silent while the log goes on.
        let mut t = 1_000 + super::super::BEAT_MS;
        while t < 1_000 + INSTANCE_TIMEOUT_MS {
            t += super::super::BEAT_MS;
            c.advance(t);
            c.beat(1);
            assert!(c.gone().is_empty(), "at {t}");
        }
        c.advance(t + super::super::BEAT_MS);
        c.beat(1);
        assert_eq!(c.gone(), vec![2]);
        // A gap in the log (Redis down) refreshes everyone.
        let later = t + 60_000;
        c.advance(later);
        assert!(c.gone().is_empty());
    }

    #[test]
    fn deadlines_expire_in_log_time() {
        let mut c = LogClock::default();
        c.advance(10);
        c.arm("p".into(), 7, Duration::from_millis(100));
        c.advance(109);
        assert!(c.expired().is_empty());
        c.advance(110);
        assert_eq!(c.expired(), vec![("p".to_string(), 7)]);
        assert_eq!(entry_ms("1700000000000-3"), 1_700_000_000_000);
    }
}
