//! [`ServerConfig`]: everything a signaling server can be tuned with.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
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

/// Messages (WebSocket frames) that may wait in one connection's outgoing queue. Relayed
/// messages may use all but `RELAY_QUEUE_RESERVE` (16) of them; past that, relays to this
/// client are refused to their *senders* with `target_busy`. Only when the server's own
/// messages overflow the reserve too (the client does not read at all) is the client's
/// WebSocket closed (close code 1008).
pub const OUTGOING_QUEUE_LEN: usize = 64;

/// Read buffer (bytes) tungstenite allocates per connection. Signaling messages are small and
/// idle memory per connection decides capacity, so this is far below tungstenite's 128 KiB.
pub const READ_BUFFER_BYTES: usize = 256;

/// Write buffer (bytes) tungstenite fills before writing to the socket: 0 means every message
/// is written at once, so no per-connection write buffer sits allocated while idle.
pub const WRITE_BUFFER_BYTES: usize = 0;

/// Size (bytes) above which tungstenite itself stops reading a frame or message. Messages of
/// `MAX_FRAME_BYTES + 1 ..= FRAME_HARD_LIMIT_BYTES` are read whole, then refused with close
/// code 1009 after a clean close handshake; larger ones are cut off mid-frame (close 1009 is
/// still sent, but the client may see a TCP reset first).
pub const FRAME_HARD_LIMIT_BYTES: usize = 2 * peerchat_core::protocol::MAX_FRAME_BYTES;

/// Longest time (ms) one write to a client may stay blocked (its TCP window closed, nothing
/// read) before the server closes it as a slow reader (close 1008). A client that reads, even
/// over a slow link, always lets a write complete well within this.
pub const WRITE_STALL_TIMEOUT_MS: u64 = 10_000;

/// Time (ms) from TCP accept to a completed WebSocket upgrade: the TLS handshake, the HTTP
/// request headers and the upgrade must all fit. A connection still not upgraded then is
/// closed; plain HTTP connections (`/health`) live at most this long.
pub const UPGRADE_TIMEOUT_MS: u64 = 10_000;

/// Open TCP connections one IP address (IPv6: one /64) may hold, before and after the upgrade.
/// Generous, since many users can share one address behind carrier-grade NAT.
pub const MAX_CONNECTIONS_PER_IP: usize = 256;

/// WebSocket clients a server holds unless configured lower; the open-file limit lowers it
/// further (see [`FD_RESERVE`]).
pub const MAX_CLIENTS: usize = 100_000;

/// File descriptors kept free below `RLIMIT_NOFILE`: WebSocket clients may use the limit minus
/// this many, and all TCP connections together the limit minus half of it. So when the
/// clients are at their cap, 64 more TCP connections (`/health`, handshakes answered 503) still
/// get a descriptor, and 64 stay for the process's own files (listener, epoll, Redis, logs).
/// (It was a quarter of the limit for all TCP connections, which capped a server at 15,000
/// clients under this machine's 20,000-file limit, below the client cap.)
pub const FD_RESERVE: usize = 128;

/// WebSocket ping control frames per second a client may send, sustained (each makes the
/// server write a pong); see [`PING_FRAMES_BURST`]. Over the limit the connection is closed
/// with 1008.
pub const PING_FRAMES_PER_SEC: u32 = 5;

/// Ping control frames a client may send at once.
pub const PING_FRAMES_BURST: u32 = 20;

/// Lifetime (s) of the TURN credentials in `welcome`: long enough for a long chat (ICE restarts
/// re-allocate with the same credentials), short enough that leaked ones soon expire.
pub const TURN_TTL_SECS: u64 = 6 * 3600;

/// Entries the shared Redis log keeps by default (about 250 bytes each: ~250 MB of Redis
/// memory at most). See [`ServerConfig::redis_log_len`].
pub const REDIS_LOG_LEN: usize = 1_000_000;

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
    /// PEM certificate chain for TLS (`wss://`, `https://`); with [`Self::tls_key`]. `None`
    /// (default) serves plain `ws://`.
    pub tls_cert: Option<PathBuf>,
    /// PEM private key of [`Self::tls_cert`].
    pub tls_key: Option<PathBuf>,
    /// Time from TCP accept to completed upgrade; default [`UPGRADE_TIMEOUT_MS`] ms.
    pub upgrade_timeout: Duration,
    /// Connections per IP (IPv6 /64); default [`MAX_CONNECTIONS_PER_IP`]. Must be >= 1.
    pub max_connections_per_ip: usize,
    /// WebSocket clients at most; default [`MAX_CLIENTS`], lowered to the open-file limit
    /// minus [`FD_RESERVE`]. Past it, upgrades are answered `503 Service Unavailable` while
    /// `/health` keeps answering. Must be >= 1.
    pub max_clients: usize,
    /// Shared secret for HS256 JSON Web Tokens: when set, every WebSocket must present a valid
    /// token and may claim only the login in its `sub` (see `auth.rs`). `None` (default): no
    /// authentication. Never logged.
    pub auth_secret: Option<String>,
    /// Shared secret of a TURN server run with coturn's `use-auth-secret` /
    /// `static-auth-secret`: with [`Self::turn_urls`], every `welcome` carries time-limited
    /// TURN credentials. `None` (default): none. Never logged.
    pub turn_secret: Option<String>,
    /// `turn:`/`turns:` URLs of that TURN server.
    pub turn_urls: Vec<String>,
    /// Lifetime of the TURN credentials; default [`TURN_TTL_SECS`] s.
    pub turn_ttl: Duration,
    /// A write to a client blocked this long closes it (1008); default
    /// [`WRITE_STALL_TIMEOUT_MS`] ms. Must be non-zero.
    pub write_stall_timeout: Duration,
    /// How long an interrupted version 2 session can be resumed (`session_grace_ms` of the
    /// protocol); default [`DEFAULT_SESSION_GRACE_MS`] ms. Zero ends sessions at once, as
    /// version 1 does.
    pub session_grace: Duration,
    /// Shared state on Redis (`redis://HOST:PORT[/DB]`, `rediss://` with TLS): several
    /// instances given the same URL share rooms, room codes, logins, sessions and the global
    /// limits, and relay across each other (`docs/architecture.md`, "Scale-out on Redis").
    /// `None` (default): all state in this process's memory.
    pub redis_url: Option<String>,
    /// With [`Self::redis_url`]: entries the shared log keeps (`XADD … MAXLEN ~`); default
    /// [`REDIS_LOG_LEN`]. An instance can start only while the log still holds its first
    /// entry (it rebuilds the state by replaying it).
    pub redis_log_len: usize,
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
            write_stall_timeout: Duration::from_millis(WRITE_STALL_TIMEOUT_MS),
            tls_cert: None,
            tls_key: None,
            upgrade_timeout: Duration::from_millis(UPGRADE_TIMEOUT_MS),
            max_connections_per_ip: MAX_CONNECTIONS_PER_IP,
            max_clients: MAX_CLIENTS,
            auth_secret: None,
            turn_secret: None,
            turn_urls: Vec::new(),
            turn_ttl: Duration::from_secs(TURN_TTL_SECS),
            session_grace: Duration::from_millis(DEFAULT_SESSION_GRACE_MS),
            redis_url: None,
            redis_log_len: REDIS_LOG_LEN,
        }
    }
}

impl ServerConfig {
    /// Shares the state with other instances on the Redis at `url` (see
    /// [`Self::redis_url`]).
    pub fn with_redis(mut self, url: impl Into<String>) -> Self {
        self.redis_url = Some(url.into());
        self
    }

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

    /// Sets how long one blocked write may last before the client is closed as a slow reader.
    pub fn with_write_stall_timeout(mut self, timeout: Duration) -> Self {
        self.write_stall_timeout = timeout;
        self
    }

    /// Serves TLS with this PEM certificate chain and key.
    pub fn with_tls(mut self, cert: impl Into<PathBuf>, key: impl Into<PathBuf>) -> Self {
        self.tls_cert = Some(cert.into());
        self.tls_key = Some(key.into());
        self
    }

    /// Sets the connection caps: per IP, and WebSocket clients in all.
    pub fn with_connection_caps(mut self, per_ip: usize, clients: usize) -> Self {
        self.max_connections_per_ip = per_ip;
        self.max_clients = clients;
        self
    }

    /// Requires HS256 tokens signed with `secret` (see [`Self::auth_secret`]).
    pub fn with_auth_secret(mut self, secret: impl Into<String>) -> Self {
        self.auth_secret = Some(secret.into());
        self
    }

    /// Hands out TURN credentials for `urls`, signed with `secret` (see [`Self::turn_secret`]).
    pub fn with_turn(mut self, secret: impl Into<String>, urls: Vec<String>) -> Self {
        self.turn_secret = Some(secret.into());
        self.turn_urls = urls;
        self
    }

    /// Sets the time from TCP accept to completed WebSocket upgrade.
    pub fn with_upgrade_timeout(mut self, timeout: Duration) -> Self {
        self.upgrade_timeout = timeout;
        self
    }

    /// Checks every field. Errors: [`ServerError::InvalidConfig`] naming the field when
    /// `room_capacity` is outside [`MIN_ROOM_CAPACITY`]`..=`[`MAX_ROOM_CAPACITY`], a zero
    /// `ping_interval`, an `idle_timeout` shorter than `ping_interval`, a zero
    /// `rate_limit_burst`, a zero `write_stall_timeout` or a zero `outgoing_queue`.
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
        if self.tls_cert.is_some() != self.tls_key.is_some() {
            return Err(ServerError::InvalidConfig(
                "TLS needs both a certificate and a key".into(),
            ));
        }
        if self.upgrade_timeout.is_zero()
            || self.max_connections_per_ip == 0
            || self.max_clients == 0
        {
            return Err(ServerError::InvalidConfig(
                "upgrade timeout, connections per IP and max clients must be greater than zero"
                    .into(),
            ));
        }
        if self.auth_secret.as_ref().is_some_and(|s| s.len() < 32) {
            return Err(ServerError::InvalidConfig(
                "auth secret must be at least 32 bytes (HS256 key)".into(),
            ));
        }
        if self.turn_secret.is_some() == self.turn_urls.is_empty() {
            return Err(ServerError::InvalidConfig(
                "TURN credentials need both a TURN secret and at least one TURN URL".into(),
            ));
        }
        if let Some(url) = self
            .turn_urls
            .iter()
            .find(|u| !(u.starts_with("turn:") || u.starts_with("turns:")))
        {
            return Err(ServerError::InvalidConfig(format!(
                "TURN URL {url:?} is not turn: or turns:"
            )));
        }
        if self.write_stall_timeout.is_zero() {
            return Err(ServerError::InvalidConfig(
                "write stall timeout must be greater than zero".into(),
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
