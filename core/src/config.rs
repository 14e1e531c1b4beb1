//! Engine configuration.

use crate::error::EngineError;

/// A STUN or TURN server, as the W3C `RTCIceServer` dictionary (W3C WebRTC §4.2.2).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct IceServer {
    /// One or more URLs, e.g. `stun:127.0.0.1:3478` or `turn:127.0.0.1:3478?transport=udp`.
    pub urls: Vec<String>,
    /// TURN username (RFC 8656 long-term credentials); `None` for STUN.
    pub username: Option<String>,
    /// TURN password; `None` for STUN.
    pub credential: Option<String>,
}

/// Which ICE candidates a peer connection may use, as the W3C `RTCIceTransportPolicy` enum
/// (W3C WebRTC §4.2.1, <https://www.w3.org/TR/webrtc/#rtcicetransportpolicy-enum>).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum IceTransportPolicy {
    /// `"all"`: host, server-reflexive and relay candidates (the default).
    #[default]
    All,
    /// `"relay"`: only relay candidates, i.e. every packet goes through a TURN server; the
    /// peer's IP addresses are not disclosed. Needs at least one `turn:`/`turns:` URL in
    /// [`EngineConfig::ice_servers`].
    Relay,
}

impl IceTransportPolicy {
    /// The W3C name: `"all"` or `"relay"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::All => "all",
            Self::Relay => "relay",
        }
    }
}

impl From<IceTransportPolicy> for webrtc::peer_connection::RTCIceTransportPolicy {
    fn from(policy: IceTransportPolicy) -> Self {
        match policy {
            IceTransportPolicy::All => Self::All,
            IceTransportPolicy::Relay => Self::Relay,
        }
    }
}

impl std::fmt::Display for IceTransportPolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for IceTransportPolicy {
    type Err = EngineError;

    /// Parses the W3C name (`"all"` or `"relay"`, exactly); anything else is
    /// [`EngineError::InvalidConfig`].
    fn from_str(s: &str) -> Result<Self, EngineError> {
        match s {
            "all" => Ok(Self::All),
            "relay" => Ok(Self::Relay),
            _ => Err(EngineError::InvalidConfig {
                reason: format!("ICE transport policy must be \"all\" or \"relay\", got {s:?}"),
            }),
        }
    }
}

/// Everything an [`Engine`](crate::Engine) needs to start.
///
/// peerchat never adds a STUN or TURN server of its own: with `ice_servers` empty, only host
/// candidates are gathered, which is what loopback tests and the demo use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngineConfig {
    /// WebSocket URL of the signaling server's `/ws` endpoint, e.g. `ws://127.0.0.1:7777/ws`.
    pub signaling_url: String,
    /// Further signaling URLs of the same deployment: instances that share their state
    /// (`peerchat serve --redis-url`). The first dial goes to `signaling_url`; after a failed
    /// dial or a lost connection the next dial goes to the next URL of
    /// `[signaling_url, fallbacks…]`, round robin (with the usual backoff), and resumes the
    /// session there, so an instance that dies does not end the chat. Default: none (every
    /// dial goes to `signaling_url`, e.g. one name behind a load balancer).
    pub signaling_fallback_urls: Vec<String>,
    /// Name shown to other peers (1..=32 chars, see [`crate::protocol::MAX_NAME_CHARS`]).
    pub display_name: String,
    /// STUN/TURN servers handed to every peer connection.
    pub ice_servers: Vec<IceServer>,
    /// Which ICE candidates to gather and use (W3C `RTCConfiguration.iceTransportPolicy`).
    /// [`IceTransportPolicy::Relay`] forces every connection through a TURN server of
    /// `ice_servers`. Default: [`IceTransportPolicy::All`].
    pub ice_transport_policy: IceTransportPolicy,
    /// Local `ip:port` addresses the ICE agent binds its UDP sockets to (the `webrtc` crate's
    /// `PeerConnectionBuilder::with_udp_addrs`). Port `0` picks a free port. Empty means
    /// `0.0.0.0:0` (every IPv4 interface). Tests and the demo pass `127.0.0.1:0`.
    pub ice_udp_addrs: Vec<String>,
    /// Resolve remote `<uuid>.local` ICE candidates with mDNS queries, which is how browsers
    /// hide their host addresses (the `webrtc` crate's `MulticastDnsMode::QueryOnly`). This
    /// binds a multicast socket on port 5353; `false` (`MulticastDnsMode::Disabled`) keeps every
    /// packet on the ICE addresses, as loopback tests need.
    pub resolve_mdns_candidates: bool,
    /// How long (ms) to wait for the signaling WebSocket to connect and for each server reply.
    pub signaling_timeout_ms: u64,
    /// How long (ms) a peer's setup may take, over all its automatic attempts (fresh peer
    /// connections, see [`crate::peer_state`]), from the first SDP offer to an open data
    /// channel before it is reported [`PeerState::Failed`](crate::PeerState::Failed).
    pub peer_connect_timeout_ms: u64,
    /// Extra CA certificate(s), PEM text, trusted for a `wss://` signaling URL besides the
    /// Mozilla root store of the `webpki-roots` crate: for private deployments and tests whose
    /// server certificate comes from their own CA. `None` (default): web roots only.
    pub ca_cert_pem: Option<String>,
    /// Unacknowledged messages kept per peer (the outbox, `crate::outbox`): `send_message`
    /// beyond it returns [`EngineError::OutboxFull`]. Default
    /// [`DEFAULT_MAX_OUTBOX_MESSAGES`](crate::outbox::DEFAULT_MAX_OUTBOX_MESSAGES) (10 000).
    pub max_outbox_messages: usize,
    /// How long (ms) a message waits for the peer's acknowledgement (through interruptions,
    /// ICE restarts and fresh connections, re-sent with its id) before it is reported
    /// `Failed`. Default [`DEFAULT_MESSAGE_TTL_MS`](crate::outbox::DEFAULT_MESSAGE_TTL_MS)
    /// (300 000 ms).
    pub message_ttl_ms: u64,
    /// Bearer token (a JSON Web Token your backend mints, see `docs/protocol.md`
    /// "Authentication") sent as `Authorization: Bearer <token>` when connecting, for servers
    /// run with `--auth-secret`. `None` (default): no token.
    pub auth_token: Option<String>,
    /// Directory of this device's saved chats (`crate::store`): the SQLite file
    /// [`DATABASE_FILE`](crate::store::DATABASE_FILE) is created in it (and the directory
    /// too) by the engine's `peerchat-store` thread, never on the caller's thread. Every
    /// message sent and received is saved there with its status, per conversation; messages
    /// not yet acknowledged are sent again when the engine re-enters the same room after a
    /// restart. Pass Android `Context.getFilesDir()`, iOS the Application Support directory,
    /// any directory on a desktop. `None` (default): history is kept in memory only, for the
    /// engine's life. Nothing of it ever goes to the signaling server. An unusable directory
    /// is not refused here: it is reported as [`EngineError::Store`] (see there).
    pub data_dir: Option<std::path::PathBuf>,
}

impl EngineConfig {
    /// A configuration with the given server and name, no STUN/TURN servers, ICE transport
    /// policy `all`, ICE on every IPv4 interface, mDNS resolution of browser candidates on, a 10 s signaling timeout and a 30 s peer connection timeout.
    pub fn new(signaling_url: impl Into<String>, display_name: impl Into<String>) -> Self {
        Self {
            signaling_url: signaling_url.into(),
            signaling_fallback_urls: Vec::new(),
            display_name: display_name.into(),
            ice_servers: Vec::new(),
            ice_transport_policy: IceTransportPolicy::All,
            ice_udp_addrs: Vec::new(),
            resolve_mdns_candidates: true,
            signaling_timeout_ms: 10_000,
            peer_connect_timeout_ms: 30_000,
            max_outbox_messages: crate::outbox::DEFAULT_MAX_OUTBOX_MESSAGES,
            message_ttl_ms: crate::outbox::DEFAULT_MESSAGE_TTL_MS,
            ca_cert_pem: None,
            auth_token: None,
            data_dir: None,
        }
    }

    /// Restricts ICE to loopback (`127.0.0.1:0`) with no mDNS: what tests, benchmarks and the
    /// demo use, so that no packet leaves the machine.
    pub fn loopback_only(mut self) -> Self {
        self.ice_udp_addrs = vec!["127.0.0.1:0".to_string()];
        self.resolve_mdns_candidates = false;
        self
    }

    /// Adds the TURN servers a signaling server handed out in `welcome` (time-limited
    /// credentials, see `docs/protocol.md` "TURN credentials"): an entry of `ice_servers` with
    /// the same URLs gets the new credentials (so an app may list its TURN URL without
    /// credentials, e.g. to use [`IceTransportPolicy::Relay`]); others are appended. Peers
    /// created afterwards use them.
    pub(crate) fn adopt_server_turn(&mut self, servers: Vec<crate::protocol::TurnServer>) {
        for s in servers {
            let entry = IceServer {
                urls: s.urls,
                username: Some(s.username),
                credential: Some(s.credential),
            };
            match self.ice_servers.iter_mut().find(|e| e.urls == entry.urls) {
                Some(existing) => *existing = entry,
                None => self.ice_servers.push(entry),
            }
        }
    }

    /// Every signaling URL to dial, in order: `signaling_url`, then the fallbacks.
    pub fn signaling_urls(&self) -> Vec<String> {
        std::iter::once(self.signaling_url.clone())
            .chain(self.signaling_fallback_urls.iter().cloned())
            .collect()
    }

    /// Checks the configuration. Errors with [`EngineError::InvalidConfig`] when a signaling
    /// URL is not `ws://` or `wss://`, an ICE address does not parse as `ip:port`, an ICE server has no URL
    /// or a URL that is not `stun:`, `stuns:`, `turn:` or `turns:`, the ICE transport policy is
    /// [`IceTransportPolicy::Relay`] with no `turn:`/`turns:` URL (no candidate could ever be
    /// gathered), `ca_cert_pem` holds no parsable PEM certificate, a timeout is zero, or
    /// `data_dir` is an empty path (the directory itself is checked by the store's thread, see
    /// [`EngineConfig::data_dir`]); and with [`EngineError::InvalidName`] for a bad display
    /// name.
    pub fn validate(&self) -> Result<(), EngineError> {
        let invalid = |reason: String| Err(EngineError::InvalidConfig { reason });
        for url in self.signaling_urls() {
            if !(url.starts_with("ws://") || url.starts_with("wss://")) {
                return invalid(format!(
                    "signaling URLs must start with ws:// or wss://, got {url:?}"
                ));
            }
        }
        crate::protocol::validate_name(&self.display_name).map_err(|e| {
            EngineError::InvalidName {
                reason: e.to_string(),
            }
        })?;
        for addr in &self.ice_udp_addrs {
            if addr.parse::<std::net::SocketAddr>().is_err() {
                return invalid(format!("ice_udp_addrs entry {addr:?} is not ip:port"));
            }
        }
        for server in &self.ice_servers {
            if server.urls.is_empty() {
                return invalid("an ICE server has no URL".to_string());
            }
            for url in &server.urls {
                let scheme_ok = ["stun:", "stuns:", "turn:", "turns:"]
                    .iter()
                    .any(|s| url.starts_with(s));
                if !scheme_ok {
                    return invalid(format!("ICE server URL {url:?} is not stun:/turn:"));
                }
            }
        }
        let has_turn = self
            .ice_servers
            .iter()
            .flat_map(|s| &s.urls)
            .any(|url| url.starts_with("turn:") || url.starts_with("turns:"));
        if self.ice_transport_policy == IceTransportPolicy::Relay && !has_turn {
            return invalid(
                "ice_transport_policy \"relay\" needs a turn: or turns: URL in ice_servers"
                    .to_string(),
            );
        }
        if let Some(pem) = &self.ca_cert_pem {
            crate::tls::parse_ca_pem(pem)
                .map_err(|reason| EngineError::InvalidConfig { reason })?;
        }
        if self.signaling_timeout_ms == 0
            || self.peer_connect_timeout_ms == 0
            || self.message_ttl_ms == 0
        {
            return invalid("timeouts must be greater than zero".to_string());
        }
        if self
            .data_dir
            .as_ref()
            .is_some_and(|d| d.as_os_str().is_empty())
        {
            return invalid("data_dir must not be an empty path".to_string());
        }
        if self.max_outbox_messages == 0 {
            return invalid("max_outbox_messages must be greater than zero".to_string());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> EngineConfig {
        EngineConfig::new("ws://127.0.0.1:7777/ws", "Ada").loopback_only()
    }

    fn turn(url: &str) -> IceServer {
        IceServer {
            urls: vec![url.to_string()],
            username: Some("u".to_string()),
            credential: Some("p".to_string()),
        }
    }

    #[test]
    fn an_empty_data_dir_is_invalid_config_and_none_is_the_default() {
        assert_eq!(config().data_dir, None);
        let mut c = config();
        c.data_dir = Some(std::path::PathBuf::new());
        assert!(matches!(
            c.validate(),
            Err(EngineError::InvalidConfig { reason }) if reason.contains("data_dir")
        ));
        c.data_dir = Some("/tmp/peerchat".into());
        assert_eq!(c.validate(), Ok(()));
    }

    #[test]
    fn ice_transport_policy_defaults_to_all() {
        assert_eq!(config().ice_transport_policy, IceTransportPolicy::All);
        assert_eq!(IceTransportPolicy::default(), IceTransportPolicy::All);
        assert!(config().validate().is_ok());
    }

    #[test]
    fn relay_without_a_turn_server_is_invalid_config() {
        let mut c = config();
        c.ice_transport_policy = IceTransportPolicy::Relay;
        assert!(matches!(
            c.validate(),
            Err(EngineError::InvalidConfig { reason }) if reason.contains("relay")
        ));
        // A STUN server gathers no relay candidate either.
        c.ice_servers = vec![IceServer {
            urls: vec!["stun:127.0.0.1:3478".to_string()],
            ..IceServer::default()
        }];
        assert!(matches!(
            c.validate(),
            Err(EngineError::InvalidConfig { .. })
        ));
    }

    #[test]
    fn relay_with_a_turn_server_is_valid() {
        for url in ["turn:127.0.0.1:3478?transport=udp", "turns:127.0.0.1:5349"] {
            let mut c = config();
            c.ice_transport_policy = IceTransportPolicy::Relay;
            c.ice_servers = vec![turn(url)];
            assert_eq!(c.validate(), Ok(()), "{url}");
        }
    }

    #[test]
    fn ice_transport_policy_parses_and_prints_the_w3c_names() {
        for policy in [IceTransportPolicy::All, IceTransportPolicy::Relay] {
            assert_eq!(policy.to_string().parse::<IceTransportPolicy>(), Ok(policy));
        }
        assert_eq!("relay".parse(), Ok(IceTransportPolicy::Relay));
        assert!(matches!(
            "Relay".parse::<IceTransportPolicy>(),
            Err(EngineError::InvalidConfig { .. })
        ));
    }
}
