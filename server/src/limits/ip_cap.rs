//! Per-IP and total caps on open TCP connections (before and after the WebSocket upgrade).
//!
//! IPv4 addresses are counted one by one; IPv6 addresses by their /64 prefix, the block one
//! subscriber usually gets (RFC 6177), so that one host cannot dodge the cap by rotating
//! through its own addresses.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

/// The counters shared by the accept loop and every [`IpGuard`].
#[derive(Debug)]
pub struct IpCap {
    per_ip: usize,
    total: usize,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    by_key: HashMap<IpAddr, usize>,
    total: usize,
}

/// Why [`IpCap::try_acquire`] refused a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CapError {
    /// This address (or IPv6 /64) already holds `per_ip` connections.
    PerIp,
    /// The server already holds `total` connections.
    Total,
}

/// One counted connection; dropping it releases the count.
#[derive(Debug)]
pub struct IpGuard {
    cap: Arc<IpCap>,
    key: IpAddr,
}

fn key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let mut octets = v6.octets();
                octets[8..].fill(0);
                IpAddr::from(octets)
            }
        },
    }
}

impl IpCap {
    /// Caps of `per_ip` connections per address and `total` in all.
    pub fn new(per_ip: usize, total: usize) -> Arc<Self> {
        Arc::new(Self {
            per_ip,
            total,
            state: Mutex::new(State::default()),
        })
    }

    /// Counts one more connection from `ip`. Errors: [`CapError`] when a cap is reached.
    pub fn try_acquire(self: &Arc<Self>, ip: IpAddr) -> Result<IpGuard, CapError> {
        let key = key(ip);
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if s.total >= self.total {
            return Err(CapError::Total);
        }
        let n = s.by_key.entry(key).or_insert(0);
        if *n >= self.per_ip {
            return Err(CapError::PerIp);
        }
        *n += 1;
        s.total += 1;
        Ok(IpGuard {
            cap: self.clone(),
            key,
        })
    }
}

impl Drop for IpGuard {
    fn drop(&mut self) {
        let mut s = self.cap.state.lock().unwrap_or_else(|p| p.into_inner());
        s.total -= 1;
        if let Some(n) = s.by_key.get_mut(&self.key) {
            *n -= 1;
            if *n == 0 {
                s.by_key.remove(&self.key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_per_ip_per_v6_prefix_and_total() {
        let cap = IpCap::new(2, 5);
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let g1 = cap.try_acquire(a).unwrap();
        let _g2 = cap.try_acquire(a).unwrap();
        assert_eq!(cap.try_acquire(a).unwrap_err(), CapError::PerIp);
        drop(g1);
        let _g3 = cap.try_acquire(a).unwrap();
        let v6a: IpAddr = "2001:db8::1".parse().unwrap();
        let v6b: IpAddr = "2001:db8::ffff:2".parse().unwrap();
        let _g4 = cap.try_acquire(v6a).unwrap();
        let _g5 = cap.try_acquire(v6b).unwrap();
        // Same /64: counted together.
        assert_eq!(cap.try_acquire(v6a).unwrap_err(), CapError::PerIp);
        let _g6 = cap.try_acquire("10.0.0.2".parse().unwrap()).unwrap();
        assert_eq!(
            cap.try_acquire("10.0.0.3".parse().unwrap()).unwrap_err(),
            CapError::Total
        );
    }
}
