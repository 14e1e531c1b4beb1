//! One direction of a host's link to the router: its impairment, its up/down state, its
//! counters, and the per-packet decision (drop, or release at a time).

use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::error::{Error, Result};
use crate::packet::{Meta, PROTO_UDP};

/// What a link does to the packets crossing it. `Impairment::default()` is a clean link.
///
/// A packet from host A to host B crosses A's uplink, then B's downlink: each applies its own
/// impairment, so "5 % loss and 50 ms delay on both links" loses about 1 − 0.95² ≈ 9.75 % of A's
/// packets to B and delays each by 100 ms one way (200 ms round trip).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Impairment {
    /// Probability (0.0 ..= 1.0) that a packet is dropped, drawn independently per packet from
    /// the link's seeded RNG.
    pub loss: f64,
    /// Fixed one-way delay added to every packet.
    pub delay: Duration,
    /// Uniform jitter: each packet's delay is `delay ± jitter` (never below zero). Unless
    /// [`reorder`](Self::reorder) is set, a packet is never released before an earlier packet of
    /// the same flow (same source, destination and IP protocol), as on a real queueing link:
    /// under a dense stream the effective delay then tends towards `delay + jitter`.
    pub jitter: Duration,
    /// Let jitter reorder packets of a flow (each packet is released at its own drawn time).
    pub reorder: bool,
    /// Apply loss, delay and jitter to UDP only; other protocols (the signaling's TCP) cross the
    /// link clean. [`Link::down`] still drops everything.
    pub udp_only: bool,
}

impl Impairment {
    /// A clean link: no loss, no delay.
    pub fn none() -> Self {
        Self::default()
    }

    /// Sets [`loss`](Self::loss), a probability 0.0 ..= 1.0 (checked when applied).
    pub fn loss(mut self, probability: f64) -> Self {
        self.loss = probability;
        self
    }

    /// Sets [`delay`](Self::delay) in milliseconds.
    pub fn delay_ms(mut self, ms: u64) -> Self {
        self.delay = Duration::from_millis(ms);
        self
    }

    /// Sets [`jitter`](Self::jitter) (± milliseconds).
    pub fn jitter_ms(mut self, ms: u64) -> Self {
        self.jitter = Duration::from_millis(ms);
        self
    }

    /// Sets [`reorder`](Self::reorder).
    pub fn reorder(mut self, reorder: bool) -> Self {
        self.reorder = reorder;
        self
    }

    /// Sets [`udp_only`](Self::udp_only).
    pub fn udp_only(mut self, udp_only: bool) -> Self {
        self.udp_only = udp_only;
        self
    }

    /// # Errors
    /// [`Error::InvalidImpairment`] when `loss` is outside 0.0 ..= 1.0 or not a number.
    pub(crate) fn validate(&self) -> Result<()> {
        if !(0.0..=1.0).contains(&self.loss) {
            return Err(Error::InvalidImpairment(format!(
                "loss {} is not a probability in 0.0..=1.0",
                self.loss
            )));
        }
        Ok(())
    }
}

/// Counters of one link direction since the network was built.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LinkStats {
    /// Packets that crossed the link (for a downlink: written to the host's TUN device).
    pub forwarded: u64,
    /// Bytes of those packets (IP header included).
    pub forwarded_bytes: u64,
    /// Packets dropped by [`Impairment::loss`].
    pub dropped_loss: u64,
    /// Packets dropped because the link was down when they arrived or while they were delayed
    /// on it.
    pub dropped_down: u64,
}

impl std::ops::Add for LinkStats {
    type Output = Self;
    fn add(self, other: Self) -> Self {
        Self {
            forwarded: self.forwarded + other.forwarded,
            forwarded_bytes: self.forwarded_bytes + other.forwarded_bytes,
            dropped_loss: self.dropped_loss + other.dropped_loss,
            dropped_down: self.dropped_down + other.dropped_down,
        }
    }
}

/// What a link does with one packet.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    Drop,
    /// Leaves the link at this instant (`<= now` means at once).
    Release(Instant),
}

/// Flows remembered for ordering before old entries are pruned.
const MAX_TRACKED_FLOWS: usize = 1024;

/// State of one link direction.
pub(crate) struct LinkDir {
    pub impairment: Impairment,
    pub up: bool,
    pub stats: LinkStats,
    loss_rng: StdRng,
    jitter_rng: StdRng,
    /// Latest release time per flow, to keep order under jitter.
    last_release: HashMap<(Ipv4Addr, Ipv4Addr, u8), Instant>,
}

impl LinkDir {
    /// A clean, up link whose random draws come from `seed` (loss and jitter draw from separate
    /// streams, so setting jitter does not change which packets are lost).
    pub(crate) fn new(seed: u64) -> Self {
        Self {
            impairment: Impairment::none(),
            up: true,
            stats: LinkStats::default(),
            loss_rng: StdRng::seed_from_u64(seed),
            jitter_rng: StdRng::seed_from_u64(splitmix64(seed)),
            last_release: HashMap::new(),
        }
    }

    /// Decides the fate of a packet entering the link at `now`, counting drops.
    pub(crate) fn admit(&mut self, now: Instant, meta: &Meta) -> Verdict {
        if !self.up {
            self.stats.dropped_down += 1;
            return Verdict::Drop;
        }
        let imp = self.impairment;
        let mut at = now;
        if !imp.udp_only || meta.proto == PROTO_UDP {
            if imp.loss > 0.0 && self.loss_rng.random_bool(imp.loss) {
                self.stats.dropped_loss += 1;
                return Verdict::Drop;
            }
            at = now + imp.delay;
            if !imp.jitter.is_zero() {
                let span = imp.jitter.as_nanos() as i64;
                let offset = self.jitter_rng.random_range(-span..=span);
                at = if offset >= 0 {
                    at + Duration::from_nanos(offset as u64)
                } else {
                    at.checked_sub(Duration::from_nanos(offset.unsigned_abs()))
                        .unwrap_or(now)
                        .max(now)
                };
            }
        }
        if !imp.reorder {
            if self.last_release.len() >= MAX_TRACKED_FLOWS {
                self.last_release.retain(|_, last| *last > now);
            }
            let last = self.last_release.entry(meta.flow()).or_insert(at);
            if *last > at {
                at = *last;
            } else {
                *last = at;
            }
        }
        Verdict::Release(at)
    }

    /// Counts a packet that left the link.
    pub(crate) fn count_forwarded(&mut self, bytes: usize) {
        self.stats.forwarded += 1;
        self.stats.forwarded_bytes += bytes as u64;
    }
}

/// SplitMix64 (Steele, Lea, Flood 2014): spreads related seeds (net seed, host index, direction)
/// into unrelated ones.
pub(crate) fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(proto: u8) -> Meta {
        Meta {
            src: Ipv4Addr::new(10, 77, 0, 1),
            dst: Ipv4Addr::new(10, 77, 0, 2),
            proto,
        }
    }

    #[test]
    fn loss_is_seeded_and_near_its_probability() {
        let run = |seed| {
            let mut link = LinkDir::new(seed);
            link.impairment = Impairment::none().loss(0.05);
            let now = Instant::now();
            (0..10_000)
                .map(|_| link.admit(now, &meta(PROTO_UDP)) == Verdict::Drop)
                .collect::<Vec<_>>()
        };
        let a = run(7);
        assert_eq!(a, run(7), "same seed, same drops");
        assert_ne!(a, run(8), "another seed, other drops");
        let dropped = a.iter().filter(|d| **d).count();
        assert!(
            (400..=600).contains(&dropped),
            "{dropped} of 10000 dropped at 5 %"
        );
    }

    #[test]
    fn jitter_keeps_flow_order_unless_reorder() {
        let now = Instant::now();
        let releases = |reorder| {
            let mut link = LinkDir::new(1);
            link.impairment = Impairment::none()
                .delay_ms(50)
                .jitter_ms(10)
                .reorder(reorder);
            (0..200)
                .map(
                    |i| match link.admit(now + Duration::from_micros(i * 100), &meta(PROTO_UDP)) {
                        Verdict::Release(at) => at,
                        Verdict::Drop => unreachable!("no loss"),
                    },
                )
                .collect::<Vec<_>>()
        };
        let ordered = releases(false);
        assert!(ordered.windows(2).all(|w| w[0] <= w[1]), "order kept");
        let reordered = releases(true);
        assert!(reordered.windows(2).any(|w| w[0] > w[1]), "jitter reorders");
        for at in &reordered {
            let delay = at.duration_since(now);
            assert!(delay >= Duration::from_millis(40) && delay <= Duration::from_millis(81));
        }
    }

    #[test]
    fn udp_only_leaves_other_protocols_clean_and_down_drops_all() {
        let mut link = LinkDir::new(3);
        link.impairment = Impairment::none().loss(1.0).delay_ms(10).udp_only(true);
        let now = Instant::now();
        assert_eq!(link.admit(now, &meta(6)), Verdict::Release(now));
        assert_eq!(link.admit(now, &meta(PROTO_UDP)), Verdict::Drop);
        link.up = false;
        assert_eq!(link.admit(now, &meta(6)), Verdict::Drop);
        assert_eq!(link.stats.dropped_loss, 1);
        assert_eq!(link.stats.dropped_down, 1);
    }

    #[test]
    fn loss_outside_zero_to_one_is_refused() {
        assert!(Impairment::none().loss(1.5).validate().is_err());
        assert!(Impairment::none().loss(-0.1).validate().is_err());
        assert!(Impairment::none().loss(f64::NAN).validate().is_err());
        assert!(Impairment::none().loss(1.0).validate().is_ok());
    }
}
