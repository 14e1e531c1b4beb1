//! Limits on failed room-code guesses (`join_room` answered `room_not_found` or `room_full`),
//! per client IP and for the whole server. The arithmetic behind the numbers is in
//! `docs/protocol.md` ("Room codes: guessing").
//!
//! A `join_room` is refused with `rate_limited` *before* the code is looked up when the
//! sender's IP, or the server as a whole, has no failure budget left: the refusal says nothing
//! about the code. Successful joins cost nothing.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::Instant;

use crate::ratelimit::TokenBucket;

/// Failed guesses one IP (IPv6: one /64) may make at once.
pub const GUESS_BURST_PER_IP: u32 = 20;
/// Failed guesses per minute one IP may make, sustained.
pub const GUESSES_PER_MIN_PER_IP: u32 = 10;
/// Failed guesses the whole server allows at once.
pub const GUESS_BURST_GLOBAL: u32 = 1_000;
/// Failed guesses per second the whole server allows, sustained.
pub const GUESSES_PER_SEC_GLOBAL: u32 = 20;

/// IP buckets kept before refilled ones are pruned.
const PRUNE_ABOVE: usize = 10_000;

/// The failure budgets of one server.
#[derive(Debug)]
pub struct GuessLimits {
    per_ip: HashMap<IpAddr, TokenBucket>,
    global: TokenBucket,
}

impl Default for GuessLimits {
    fn default() -> Self {
        Self {
            per_ip: HashMap::new(),
            global: TokenBucket::new(GUESSES_PER_SEC_GLOBAL, GUESS_BURST_GLOBAL),
        }
    }
}

fn key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) if v6.to_ipv4_mapped().is_none() => {
            let mut o = v6.octets();
            o[8..].fill(0);
            IpAddr::from(o)
        }
        IpAddr::V6(v6) => IpAddr::V4(
            v6.to_ipv4_mapped()
                .unwrap_or(std::net::Ipv4Addr::UNSPECIFIED),
        ),
        v4 => v4,
    }
}

fn per_ip_bucket(now: Instant) -> TokenBucket {
    TokenBucket::per_minute_at(GUESSES_PER_MIN_PER_IP, GUESS_BURST_PER_IP, now)
}

impl GuessLimits {
    /// Whether `ip` may try a code at `now` (both budgets have a failure left).
    pub fn may_try(&mut self, ip: IpAddr, now: Instant) -> bool {
        if !self.global.has_token_at(now) {
            return false;
        }
        self.per_ip
            .get_mut(&key(ip))
            .is_none_or(|b| b.has_token_at(now))
    }

    /// Charges one failed guess to `ip` and to the server, at `now`.
    pub fn failed(&mut self, ip: IpAddr, now: Instant) {
        self.global.try_take_at(now);
        if self.per_ip.len() > PRUNE_ABOVE {
            self.per_ip.retain(|_, b| !b.is_full_at(now));
        }
        self.per_ip
            .entry(key(ip))
            .or_insert_with(|| per_ip_bucket(now))
            .try_take_at(now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_ip_budget_then_refusal_other_ips_unaffected() {
        let mut g = GuessLimits::default();
        let t = Instant::now();
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        for _ in 0..GUESS_BURST_PER_IP {
            assert!(g.may_try(a, t));
            g.failed(a, t);
        }
        assert!(!g.may_try(a, t));
        assert!(g.may_try("10.0.0.2".parse().unwrap(), t));
    }

    #[test]
    fn global_budget_applies_to_everyone() {
        let mut g = GuessLimits::default();
        let t = Instant::now();
        for i in 0..GUESS_BURST_GLOBAL {
            let ip = IpAddr::from([10, 1, (i / 256) as u8, (i % 256) as u8]);
            assert!(g.may_try(ip, t));
            g.failed(ip, t);
        }
        assert!(!g.may_try("192.0.2.1".parse().unwrap(), t));
    }
}
