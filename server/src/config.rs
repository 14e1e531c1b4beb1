//! [`ServerConfig`]: everything a signaling server can be tuned with.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use peerchat_core::protocol::{
    DEFAULT_ROOM_CAPACITY, DEFAULT_SESSION_GRACE_MS, IDLE_TIMEOUT_MS, MAX_ROOM_CAPACITY,
    PING_INTERVAL_MS, RATE_LIMIT_BURST, RATE_LIMIT_PER_SEC,
};

use crate::error::ServerError;

/// Port the server listens on unless told otherwise (the `PORT` of the original service).
pub const DEFAULT_PORT: u16 = 7777;

/// Smallest room capacity a server accepts (a room of one could never chat).
pub const MIN_ROOM_CAPACITY: usize = 2;

/// Messages (WebSocket frames) that may wait in one connection's outgoing queue. When a client
/// reads so slowly that its queue is full, the server closes that client's WebSocket (close
/// code 1008) instead of buffering without bound or slowing the senders down.
pub const OUTGOING_QUEUE_LEN: usize = 64;

/// Read buffer (bytes) tungstenite allocates per connection. Signaling messages are small and
/// idle memory per connection decides capacity, so this is far below tungstenite's 128 KiB.
pub const READ_BUFFER_BYTES: usize = 4 * 1024;

/// Write buffer (bytes) tungstenite fills before writing to the socket: 0 means every message
/// is written at once, so no per-connection write buffer sits allocated while idle.
pub const WRITE_BUFFER_BYTES: usize = 0;

/// Size (bytes) above which tungstenite itself stops reading a frame or message. Messages of
/// `MAX_FRAME_BYTES + 1 ..= FRAME_HARD_LIMIT_BYTES` are read whole, then refused with close
/// code 1009 after a clean close handshake; larger ones are cut off mid-frame (close 1009 is
/// still sent, but the client may see a TCP reset first).
pub const FRAME_HARD_LIMIT_BYTES: usize = 2 * peerchat_core::protocol::MAX_FRAME_BYTES;

/// How long (ms) the server waits for a client to answer its close frame before dropping the
/// TCP connection.
pub const CLOSE_TIMEOUT_MS: u64 = 1_000;

/// Configuration of a [`crate::Server`]. Build it with [`ServerConfig::default`] and change the
/// public fields, or use the `with_*` helpers:
///
/// ```
/// use peerchat_server::ServerConfig;
/// let config = ServerConfig::default().with_port(0).with_room_capacity(4);
/// assert_eq!(config.bind.to_string(), "127.0.0.1:0");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerConfig {
    /// Address and port to listen on; default `127.0.0.1:7777`. Port 0 picks a free port
    /// (read it back with [`crate::Server::local_addr`]).
    pub bind: SocketAddr,
    /// Peers one room holds, [`MIN_ROOM_CAPACITY`]`..=`[`MAX_ROOM_CAPACITY`]; default
    /// [`DEFAULT_ROOM_CAPACITY`].
    pub room_capacity: usize,
    /// Interval between WebSocket pings the server sends to each client; default
    /// [`PING_INTERVAL_MS`] ms. Must be non-zero.
    pub ping_interval: Duration,
    /// A client from which no frame at all (message, pong, ping) arrived for this long is
    /// dropped; default [`IDLE_TIMEOUT_MS`] ms. Must be at least `ping_interval`.
    pub idle_timeout: Duration,
    /// Sustained messages per second a connection may send; default [`RATE_LIMIT_PER_SEC`].
    pub rate_limit_per_sec: u32,
    /// Messages a connection may send in a burst; default [`RATE_LIMIT_BURST`]. Must be >= 1.
    pub rate_limit_burst: u32,
    /// Outgoing queue length per connection; default [`OUTGOING_QUEUE_LEN`]. Must be >= 1.
    pub outgoing_queue: usize,
    /// How long an interrupted version 2 session can be resumed (`session_grace_ms` of the
    /// protocol); default [`DEFAULT_SESSION_GRACE_MS`] ms. Zero ends sessions at once, as
    /// version 1 does.
    pub session_grace: Duration,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            bind: SocketAddr::from((Ipv4Addr::LOCALHOST, DEFAULT_PORT)),
            room_capacity: DEFAULT_ROOM_CAPACITY,
            ping_interval: Duration::from_millis(PING_INTERVAL_MS),
            idle_timeout: Duration::from_millis(IDLE_TIMEOUT_MS),
            rate_limit_per_sec: RATE_LIMIT_PER_SEC,
            rate_limit_burst: RATE_LIMIT_BURST,
            outgoing_queue: OUTGOING_QUEUE_LEN,
            session_grace: Duration::from_millis(DEFAULT_SESSION_GRACE_MS),
        }
    }
}

impl ServerConfig {
    /// Sets the listening address (IP and port).
    pub fn with_bind(mut self, bind: SocketAddr) -> Self {
        self.bind = bind;
        self
    }

    /// Keeps the IP, changes the port (0 = any free port).
    pub fn with_port(mut self, port: u16) -> Self {
        self.bind.set_port(port);
        self
    }

    /// Sets the capacity of new rooms.
    pub fn with_room_capacity(mut self, capacity: usize) -> Self {
        self.room_capacity = capacity;
        self
    }

    /// Sets the WebSocket ping interval and the idle timeout.
    pub fn with_liveness(mut self, ping_interval: Duration, idle_timeout: Duration) -> Self {
        self.ping_interval = ping_interval;
        self.idle_timeout = idle_timeout;
        self
    }

    /// Sets how long an interrupted session can be resumed.
    pub fn with_session_grace(mut self, grace: Duration) -> Self {
        self.session_grace = grace;
        self
    }

    /// Sets the per-connection rate limit (sustained messages per second, burst).
    pub fn with_rate_limit(mut self, per_sec: u32, burst: u32) -> Self {
        self.rate_limit_per_sec = per_sec;
        self.rate_limit_burst = burst;
        self
    }

    /// Checks every field. Errors: [`ServerError::InvalidConfig`] naming the field when
    /// `room_capacity` is outside [`MIN_ROOM_CAPACITY`]`..=`[`MAX_ROOM_CAPACITY`], a zero
    /// `ping_interval`, an `idle_timeout` shorter than `ping_interval`, a zero
    /// `rate_limit_burst` or a zero `outgoing_queue`.
    pub fn validate(&self) -> Result<(), ServerError> {
        if !(MIN_ROOM_CAPACITY..=MAX_ROOM_CAPACITY).contains(&self.room_capacity) {
            return Err(ServerError::InvalidConfig(format!(
                "room capacity must be {MIN_ROOM_CAPACITY}..={MAX_ROOM_CAPACITY}, got {}",
                self.room_capacity
            )));
        }
        if self.ping_interval.is_zero() {
            return Err(ServerError::InvalidConfig(
                "ping interval must be greater than zero".into(),
            ));
        }
        if self.idle_timeout < self.ping_interval {
            return Err(ServerError::InvalidConfig(format!(
                "idle timeout ({} ms) must be at least the ping interval ({} ms)",
                self.idle_timeout.as_millis(),
                self.ping_interval.as_millis()
            )));
        }
        if self.rate_limit_burst == 0 {
            return Err(ServerError::InvalidConfig(
                "rate limit burst must be at least 1".into(),
            ));
        }
        if self.outgoing_queue == 0 {
            return Err(ServerError::InvalidConfig(
                "outgoing queue must hold at least 1 message".into(),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_the_protocol_constants() {
        let c = ServerConfig::default();
        assert_eq!(c.bind.to_string(), "127.0.0.1:7777");
        assert_eq!(c.room_capacity, DEFAULT_ROOM_CAPACITY);
        assert_eq!(c.ping_interval.as_millis(), u128::from(PING_INTERVAL_MS));
        assert_eq!(c.idle_timeout.as_millis(), u128::from(IDLE_TIMEOUT_MS));
        c.validate().unwrap();
    }

    #[test]
    fn room_capacity_is_bounded() {
        let ok = ServerConfig::default().with_room_capacity(MAX_ROOM_CAPACITY);
        ok.validate().unwrap();
        for bad in [0, 1, MAX_ROOM_CAPACITY + 1] {
            let err = ServerConfig::default()
                .with_room_capacity(bad)
                .validate()
                .unwrap_err();
            assert!(matches!(err, ServerError::InvalidConfig(m) if m.contains("room capacity")));
        }
    }

    #[test]
    fn liveness_and_queues_are_checked() {
        let ms = Duration::from_millis;
        assert!(
            ServerConfig::default()
                .with_liveness(ms(0), ms(10))
                .validate()
                .is_err()
        );
        assert!(
            ServerConfig::default()
                .with_liveness(ms(100), ms(50))
                .validate()
                .is_err()
        );
        assert!(
            ServerConfig::default()
                .with_rate_limit(10, 0)
                .validate()
                .is_err()
        );
        let c = ServerConfig {
            outgoing_queue: 0,
            ..ServerConfig::default()
        };
        assert!(c.validate().is_err());
    }
}
