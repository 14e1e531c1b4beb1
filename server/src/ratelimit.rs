//! Per-connection token bucket: `burst` tokens, refilled at `per_sec` tokens per second.

use std::time::Instant;

/// A token bucket. Each message a client sends takes one token; with none left the message is
/// refused with `rate_limited`.
#[derive(Debug)]
pub struct TokenBucket {
    per_sec: f64,
    burst: f64,
    tokens: f64,
    last: Instant,
}

impl TokenBucket {
    /// A full bucket of `burst` tokens refilling at `per_sec` tokens per second.
    pub fn new(per_sec: u32, burst: u32) -> Self {
        Self::new_at(per_sec, burst, Instant::now())
    }

    /// [`TokenBucket::new`] as of `now`.
    pub fn new_at(per_sec: u32, burst: u32, now: Instant) -> Self {
        Self {
            per_sec: f64::from(per_sec),
            burst: f64::from(burst),
            tokens: f64::from(burst),
            last: now,
        }
    }

    /// A full bucket of `burst` tokens refilling at `per_min` tokens per minute, as of `now`.
    pub fn per_minute_at(per_min: u32, burst: u32, now: Instant) -> Self {
        let mut b = Self::new_at(0, burst, now);
        b.per_sec = f64::from(per_min) / 60.0;
        b
    }

    /// Whether a token is available at `now` (takes none).
    pub fn has_token_at(&self, now: Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        (self.tokens + elapsed * self.per_sec).min(self.burst) >= 1.0
    }

    /// Takes one token; `false` when the bucket is empty.
    pub fn try_take(&mut self) -> bool {
        self.try_take_at(Instant::now())
    }

    /// Whether the bucket has refilled to its burst at `now` (nothing taken recently).
    pub fn is_full_at(&self, now: Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.tokens + elapsed * self.per_sec >= self.burst
    }

    /// [`TokenBucket::try_take`] at `now`.
    pub fn try_take_at(&mut self, now: Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.last = now;
        self.tokens = (self.tokens + elapsed * self.per_sec).min(self.burst);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn burst_then_refill() {
        let t0 = Instant::now();
        let mut b = TokenBucket::new_at(50, 200, t0);
        for _ in 0..200 {
            assert!(b.try_take_at(t0));
        }
        assert!(!b.try_take_at(t0));
        // 100 ms at 50/s gives 5 tokens.
        let t1 = t0 + Duration::from_millis(100);
        for _ in 0..5 {
            assert!(b.try_take_at(t1));
        }
        assert!(!b.try_take_at(t1));
        // Never more than the burst.
        let t2 = t1 + Duration::from_secs(3600);
        let taken = (0..1000).filter(|_| b.try_take_at(t2)).count();
        assert_eq!(taken, 200);
    }
}
