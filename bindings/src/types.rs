//! Records and enums crossing the FFI, and their conversions to and from the core types.
//!
//! Each type mirrors the [`peerchat_core`] type of the same name field for field; the
//! conversions are exhaustive matches, so a new core variant fails to compile here until it is
//! mirrored.

use peerchat_core as core;

/// Default of [`EngineConfig::signaling_timeout_ms`] (ms), as in
/// [`peerchat_core::EngineConfig::new`]. The literal in the field's `#[uniffi(default)]` equals
/// it: a Rust test checks the constant against the core, a Kotlin test the generated default.
pub const DEFAULT_SIGNALING_TIMEOUT_MS: u64 = 10_000;

/// Default of [`EngineConfig::peer_connect_timeout_ms`] (ms), as in
/// [`peerchat_core::EngineConfig::new`].
pub const DEFAULT_PEER_CONNECT_TIMEOUT_MS: u64 = 30_000;

/// Default of [`EngineConfig::max_outbox_messages`], as in the core.
pub const DEFAULT_MAX_OUTBOX_MESSAGES: u64 = 10_000;

/// Default of [`EngineConfig::message_ttl_ms`] (ms), as in the core.
pub const DEFAULT_MESSAGE_TTL_MS: u64 = 300_000;

/// A STUN or TURN server, as the W3C `RTCIceServer` dictionary.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct IceServer {
    /// One or more URLs, e.g. `stun:127.0.0.1:3478` or `turn:127.0.0.1:3478?transport=udp`.
    pub urls: Vec<String>,
    /// TURN username; `null`/`nil` for STUN.
    #[uniffi(default)]
    pub username: Option<String>,
    /// TURN password; `null`/`nil` for STUN.
    #[uniffi(default)]
    pub credential: Option<String>,
}

/// Everything an [`Engine`](crate::Engine) needs to start. Checked by the constructor, which
/// throws `InvalidConfig` or `InvalidName`.
///
/// peerchat adds no STUN or TURN server of its own: with `ice_servers` empty only host
/// candidates are gathered.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct EngineConfig {
    /// WebSocket URL of the signaling server's `/ws` endpoint, e.g. `ws://127.0.0.1:7777/ws`.
    pub signaling_url: String,
    /// Further signaling URLs of the same deployment (instances sharing one Redis): after a
    /// failed dial or a lost connection the next dial goes to the next URL, round robin, and
    /// resumes the session there. Default: none.
    #[uniffi(default)]
    pub signaling_fallback_urls: Vec<String>,
    /// Name shown to other peers (1..=32 chars).
    pub display_name: String,
    /// STUN/TURN servers handed to every peer connection. Default: none.
    #[uniffi(default)]
    pub ice_servers: Vec<IceServer>,
    /// Which ICE candidates to use (W3C `RTCConfiguration.iceTransportPolicy`): `Relay` sends
    /// every packet through a TURN server of `ice_servers` (without one the constructor throws
    /// `InvalidConfig`). Default: `null`/`nil`, which means `All`, as in the W3C API. (Optional
    /// because uniffi's proc macros cannot give an enum field a default.)
    #[uniffi(default = None)]
    pub ice_transport_policy: Option<IceTransportPolicy>,
    /// Local `ip:port` addresses the ICE agent binds its UDP sockets to; port `0` picks a free
    /// port. Default (empty): `0.0.0.0:0`. Tests pass `["127.0.0.1:0"]`.
    #[uniffi(default)]
    pub ice_udp_addrs: Vec<String>,
    /// Resolve remote `<uuid>.local` ICE candidates (how browsers hide their host addresses)
    /// with mDNS queries; binds a multicast socket on port 5353. Default: `true`, as in the
    /// core. Loopback tests pass `false` so that no packet leaves the ICE addresses.
    #[uniffi(default = true)]
    pub resolve_mdns_candidates: bool,
    /// How long (ms) to wait for the signaling WebSocket and for each server reply.
    /// Default: [`DEFAULT_SIGNALING_TIMEOUT_MS`] (10 000 ms).
    #[uniffi(default = 10000)]
    pub signaling_timeout_ms: u64,
    /// How long (ms) a peer may take from the first SDP offer to an open data channel before
    /// it is reported `Failed`. Default: [`DEFAULT_PEER_CONNECT_TIMEOUT_MS`] (30 000 ms).
    #[uniffi(default = 30000)]
    pub peer_connect_timeout_ms: u64,
    /// Unacknowledged messages kept per peer; `sendMessage` beyond it throws `OutboxFull`.
    /// Default: [`DEFAULT_MAX_OUTBOX_MESSAGES`] (10 000).
    #[uniffi(default = 10000)]
    pub max_outbox_messages: u64,
    /// How long (ms) a message waits for the peer's acknowledgement, through interruptions,
    /// before it is `Failed`. Default: [`DEFAULT_MESSAGE_TTL_MS`] (300 000 ms).
    #[uniffi(default = 300000)]
    pub message_ttl_ms: u64,
    /// Extra CA certificate(s), PEM text, trusted for a `wss://` signaling URL besides the
    /// public web roots (the `webpki-roots` crate): for private deployments and tests whose
    /// server certificate comes from their own CA. A value without a parsable PEM
    /// `CERTIFICATE` makes the constructor throw `InvalidConfig`. Default: `null`/`nil`.
    #[uniffi(default = None)]
    pub ca_cert_pem: Option<String>,
    /// Bearer token (a JSON Web Token minted by the app's backend) for servers that require
    /// one (`--auth-secret`); sent as `Authorization: Bearer <token>`. Default: `null`/`nil`.
    #[uniffi(default = None)]
    pub auth_token: Option<String>,
    /// Directory (a path) where the engine saves this device's chats in SQLite: every message
    /// sent and received with its status; unacknowledged messages are sent again after a
    /// restart when the app re-enters the same room. Android: `context.filesDir.path` (or a
    /// directory under it); iOS: the Application Support directory. Opened on the engine's
    /// own thread; an unusable directory is reported as `Store` errors, never thrown here.
    /// Default: `null`/`nil`, history in memory for the engine's life only.
    #[uniffi(default = None)]
    pub data_dir: Option<String>,
}

/// Which ICE candidates a peer connection may use, as the W3C `RTCIceTransportPolicy` enum
/// (W3C WebRTC §4.2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum IceTransportPolicy {
    /// `"all"`: host, server-reflexive and relay candidates.
    All,
    /// `"relay"`: only TURN relay candidates; the device's IP addresses are not disclosed.
    Relay,
}

/// A peer in a room.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Peer {
    /// Server-assigned id (opaque).
    pub peer_id: String,
    /// Display name.
    pub name: String,
}

/// A room the engine created or joined.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct RoomInfo {
    /// Canonical code, `ABC-DEF-GHJ`.
    pub code: String,
    /// Peers the room holds.
    pub capacity: u32,
    /// The other members present when the engine entered (empty for a new room).
    pub members: Vec<Peer>,
}

/// A chat message received from a peer.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ChatMessage {
    /// Unique id the sender gave the message (UUID v7 text).
    pub id: String,
    /// Sender's peer id.
    pub peer_id: String,
    /// Sender's display name.
    pub sender_name: String,
    /// The text.
    pub text: String,
    /// Sender's clock when sent, ms since the Unix epoch.
    pub sent_at_ms: u64,
    /// Position in the sender's stream to this peer: 1 for the first message, then +1 each.
    pub seq: u64,
}

/// State of the engine's session with the signaling server: `Connecting`, then `Connected`;
/// on a lost connection `Reconnecting` (the engine dials again by itself, with exponential
/// backoff and full jitter from 250 ms up to 5 s) and `Connected` once the session is back
/// (resumed, or the room re-entered). `Disconnected` only after `shutdown`. Open data
/// channels keep working in every state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum SignalingState {
    /// Opening the first WebSocket.
    Connecting,
    /// The session is ready.
    Connected,
    /// The connection is lost (or the first dial failed); the engine dials again.
    Reconnecting {
        /// Dials since the session was last ready (1 for the first retry).
        attempt: u32,
        /// Delay (ms) before the next dial.
        next_retry_ms: u64,
    },
    /// Closed for good by `shutdown`.
    Disconnected,
}

/// State of the connection to one remote peer (the core's `PeerState`; transition table and
/// time bounds in `docs/architecture.md`, "The peer state machine").
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum PeerState {
    /// Setting up the first connection, retried automatically; messages wait in the outbox.
    Connecting,
    /// The data channel is open: messages can be sent ("chat ready").
    Connected,
    /// The connection was lost and is recovering (ICE restart or a fresh connection);
    /// messages wait in the outbox and go out, in order, when `Connected` again.
    Interrupted,
    /// The peer left the room (final); its unacknowledged messages are `Failed`.
    Closed,
    /// The engine gave up (setup past `peer_connect_timeout_ms`, or recovery past 60 s);
    /// unacknowledged messages are `Failed`. A new offer from the peer starts over.
    Failed,
}

/// Delivery status of a message this engine sent, per receiving peer: `Pending` →
/// `Sent` → `Delivered`, or `Failed`; one event per transition (`Pending` is the status when
/// `sendMessage` returns and has no event).
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum MessageStatus {
    /// Waiting in the outbox (the peer is not `Connected`).
    Pending,
    /// Handed to the data channel.
    Sent,
    /// The peer acknowledged it.
    Delivered,
    /// Not delivered, for good: the peer left or was given up on, or `message_ttl_ms` ran out.
    Failed,
}

/// A conversation whose messages are saved together (the core's `store::Conversation`).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum Conversation {
    /// A room, by its canonical code (`ABC-DEF-GHJ`).
    Room {
        /// The room code.
        code: String,
    },
    /// A chat by login between this user's login and another's.
    Login {
        /// This user's login.
        own: String,
        /// The other user's login.
        peer: String,
    },
}

/// Status of a saved message: outgoing `Pending` → `Sent` → `Delivered` → `Read`, or
/// `Failed`; incoming `Received` (then `Read`). For an outgoing message sent to several
/// peers, the least advanced among them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum StoredStatus {
    /// Outgoing, waiting in the outbox.
    Pending,
    /// Outgoing, handed to the data channel.
    Sent,
    /// Outgoing, acknowledged.
    Delivered,
    /// Read.
    Read,
    /// Outgoing, given up.
    Failed,
    /// Incoming.
    Received,
}

/// One saved message.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct StoredMessage {
    /// The sender's id for it (UUID v7 text).
    pub id: String,
    /// Whether this device sent it.
    pub outgoing: bool,
    /// The sender's peer id as the engine knew it then.
    pub sender_peer_id: String,
    /// The sender's display name as the signaling server showed it.
    pub sender_name: String,
    /// The text.
    pub text: String,
    /// The sender's clock when sent, ms since the Unix epoch.
    pub sent_at_ms: u64,
    /// This device's clock when saved, ms since the Unix epoch.
    pub stored_at_ms: u64,
    /// Its status.
    pub status: StoredStatus,
}

/// One page of saved history, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct HistoryPage {
    /// At most the requested number of messages, oldest first.
    pub messages: Vec<StoredMessage>,
    /// Whether older messages exist: ask again with the first message's id as `before`.
    pub has_more: bool,
}

impl From<Conversation> for core::Conversation {
    fn from(c: Conversation) -> Self {
        match c {
            Conversation::Room { code } => Self::Room { code },
            Conversation::Login { own, peer } => Self::Login { own, peer },
        }
    }
}

impl From<core::Conversation> for Conversation {
    fn from(c: core::Conversation) -> Self {
        match c {
            core::Conversation::Room { code } => Self::Room { code },
            core::Conversation::Login { own, peer } => Self::Login { own, peer },
        }
    }
}

impl From<core::StoredStatus> for StoredStatus {
    fn from(s: core::StoredStatus) -> Self {
        match s {
            core::StoredStatus::Pending => Self::Pending,
            core::StoredStatus::Sent => Self::Sent,
            core::StoredStatus::Delivered => Self::Delivered,
            core::StoredStatus::Read => Self::Read,
            core::StoredStatus::Failed => Self::Failed,
            core::StoredStatus::Received => Self::Received,
        }
    }
}

impl From<core::StoredMessage> for StoredMessage {
    fn from(m: core::StoredMessage) -> Self {
        Self {
            id: m.id,
            outgoing: m.outgoing,
            sender_peer_id: m.sender_peer_id,
            sender_name: m.sender_name,
            text: m.text,
            sent_at_ms: m.sent_at_ms,
            stored_at_ms: m.stored_at_ms,
            status: m.status.into(),
        }
    }
}

impl From<core::HistoryPage> for HistoryPage {
    fn from(p: core::HistoryPage) -> Self {
        Self {
            messages: p.messages.into_iter().map(Into::into).collect(),
            has_more: p.has_more,
        }
    }
}

/// Why a peer left a room.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum LeaveReason {
    /// The peer left the room or logged out.
    Left,
    /// The peer's WebSocket closed (cleanly, or a peer of protocol version 1).
    Disconnected,
    /// The peer's signaling session was interrupted and not resumed within the server's grace
    /// period (30 s by default).
    Timeout,
}

impl From<IceServer> for core::IceServer {
    fn from(s: IceServer) -> Self {
        Self {
            urls: s.urls,
            username: s.username,
            credential: s.credential,
        }
    }
}

impl From<IceTransportPolicy> for core::IceTransportPolicy {
    fn from(p: IceTransportPolicy) -> Self {
        match p {
            IceTransportPolicy::All => Self::All,
            IceTransportPolicy::Relay => Self::Relay,
        }
    }
}

impl From<EngineConfig> for core::EngineConfig {
    /// A struct literal on purpose: a field added to the core config fails to compile here
    /// until the FFI record mirrors it.
    fn from(c: EngineConfig) -> Self {
        Self {
            signaling_url: c.signaling_url,
            signaling_fallback_urls: c.signaling_fallback_urls,
            display_name: c.display_name,
            ice_servers: c.ice_servers.into_iter().map(Into::into).collect(),
            ice_transport_policy: c.ice_transport_policy.map(Into::into).unwrap_or_default(),
            ice_udp_addrs: c.ice_udp_addrs,
            resolve_mdns_candidates: c.resolve_mdns_candidates,
            signaling_timeout_ms: c.signaling_timeout_ms,
            peer_connect_timeout_ms: c.peer_connect_timeout_ms,
            max_outbox_messages: usize::try_from(c.max_outbox_messages).unwrap_or(usize::MAX),
            message_ttl_ms: c.message_ttl_ms,
            ca_cert_pem: c.ca_cert_pem,
            auth_token: c.auth_token,
            data_dir: c.data_dir.map(Into::into),
        }
    }
}

impl From<core::Peer> for Peer {
    fn from(p: core::Peer) -> Self {
        Self {
            peer_id: p.peer_id,
            name: p.name,
        }
    }
}

impl From<core::RoomInfo> for RoomInfo {
    fn from(r: core::RoomInfo) -> Self {
        Self {
            code: r.code,
            capacity: r.capacity,
            members: r.members.into_iter().map(Into::into).collect(),
        }
    }
}

impl From<core::ChatMessage> for ChatMessage {
    fn from(m: core::ChatMessage) -> Self {
        Self {
            id: m.id,
            peer_id: m.peer_id,
            sender_name: m.sender_name,
            text: m.text,
            sent_at_ms: m.sent_at_ms,
            seq: m.seq,
        }
    }
}

impl From<core::SignalingState> for SignalingState {
    fn from(s: core::SignalingState) -> Self {
        match s {
            core::SignalingState::Connecting => Self::Connecting,
            core::SignalingState::Connected => Self::Connected,
            core::SignalingState::Reconnecting {
                attempt,
                next_retry_ms,
            } => Self::Reconnecting {
                attempt,
                next_retry_ms,
            },
            core::SignalingState::Disconnected => Self::Disconnected,
        }
    }
}

impl From<core::PeerState> for PeerState {
    fn from(s: core::PeerState) -> Self {
        match s {
            core::PeerState::Connecting => Self::Connecting,
            core::PeerState::Connected => Self::Connected,
            core::PeerState::Interrupted => Self::Interrupted,
            core::PeerState::Closed => Self::Closed,
            core::PeerState::Failed => Self::Failed,
        }
    }
}

impl From<core::MessageStatus> for MessageStatus {
    fn from(s: core::MessageStatus) -> Self {
        match s {
            core::MessageStatus::Pending => Self::Pending,
            core::MessageStatus::Sent => Self::Sent,
            core::MessageStatus::Delivered => Self::Delivered,
            core::MessageStatus::Failed => Self::Failed,
        }
    }
}

impl From<core::LeaveReason> for LeaveReason {
    fn from(r: core::LeaveReason) -> Self {
        match r {
            core::LeaveReason::Left => Self::Left,
            core::LeaveReason::Disconnected => Self::Disconnected,
            core::LeaveReason::Timeout => Self::Timeout,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> EngineConfig {
        EngineConfig {
            signaling_url: "ws://127.0.0.1:7777/ws".into(),
            signaling_fallback_urls: vec!["ws://127.0.0.1:7778/ws".into()],
            display_name: "Ada".into(),
            ice_servers: vec![IceServer {
                urls: vec!["turn:127.0.0.1:3478".into()],
                username: Some("u".into()),
                credential: Some("p".into()),
            }],
            ice_transport_policy: Some(IceTransportPolicy::Relay),
            ice_udp_addrs: vec!["127.0.0.1:0".into()],
            resolve_mdns_candidates: false,
            signaling_timeout_ms: 1_234,
            peer_connect_timeout_ms: 5_678,
            max_outbox_messages: 42,
            message_ttl_ms: 9_999,
            ca_cert_pem: Some("-----BEGIN CERTIFICATE-----".into()),
            auth_token: Some("token".into()),
            data_dir: Some("/data/peerchat".into()),
        }
    }

    #[test]
    fn defaults_match_the_core() {
        let core_defaults = core::EngineConfig::new("ws://x/ws", "n");
        // `#[uniffi(default = true)]` on resolve_mdns_candidates.
        assert!(core_defaults.resolve_mdns_candidates);
        // `#[uniffi(default = None)]` on ice_transport_policy, which converts to the core's
        // default.
        assert_eq!(
            core::IceTransportPolicy::from(IceTransportPolicy::All),
            core_defaults.ice_transport_policy
        );
        let unset = EngineConfig {
            ice_transport_policy: None,
            ..config()
        };
        assert_eq!(
            core::EngineConfig::from(unset).ice_transport_policy,
            core_defaults.ice_transport_policy
        );
        assert_eq!(
            DEFAULT_SIGNALING_TIMEOUT_MS,
            core_defaults.signaling_timeout_ms
        );
        assert_eq!(
            DEFAULT_PEER_CONNECT_TIMEOUT_MS,
            core_defaults.peer_connect_timeout_ms
        );
        assert_eq!(
            DEFAULT_MAX_OUTBOX_MESSAGES,
            core_defaults.max_outbox_messages as u64
        );
        assert_eq!(DEFAULT_MESSAGE_TTL_MS, core_defaults.message_ttl_ms);
    }

    #[test]
    fn config_converts_field_for_field() {
        let c: core::EngineConfig = config().into();
        assert_eq!(c.signaling_url, "ws://127.0.0.1:7777/ws");
        assert_eq!(
            c.signaling_fallback_urls,
            vec!["ws://127.0.0.1:7778/ws".to_string()]
        );
        assert_eq!(c.display_name, "Ada");
        assert_eq!(
            c.ice_servers,
            vec![core::IceServer {
                urls: vec!["turn:127.0.0.1:3478".into()],
                username: Some("u".into()),
                credential: Some("p".into()),
            }]
        );
        assert_eq!(c.ice_transport_policy, core::IceTransportPolicy::Relay);
        assert_eq!(c.ice_udp_addrs, vec!["127.0.0.1:0".to_string()]);
        assert!(!c.resolve_mdns_candidates);
        assert_eq!(c.signaling_timeout_ms, 1_234);
        assert_eq!(c.peer_connect_timeout_ms, 5_678);
        assert_eq!(c.max_outbox_messages, 42);
        assert_eq!(c.message_ttl_ms, 9_999);
        assert_eq!(
            c.ca_cert_pem.as_deref(),
            Some("-----BEGIN CERTIFICATE-----")
        );
        assert_eq!(c.auth_token.as_deref(), Some("token"));
        // The fixture's PEM is a bare header: the core refuses it; the rest is valid.
        assert!(matches!(
            c.validate(),
            Err(core::EngineError::InvalidConfig { .. })
        ));
        let without_ca = core::EngineConfig {
            ca_cert_pem: None,
            ..c
        };
        assert!(without_ca.validate().is_ok());
    }

    #[test]
    fn records_convert_field_for_field() {
        let room: RoomInfo = core::RoomInfo {
            code: "ABC-DEF-GHJ".into(),
            capacity: 2,
            members: vec![core::Peer {
                peer_id: "p1".into(),
                name: "Bo".into(),
            }],
        }
        .into();
        assert_eq!(
            room,
            RoomInfo {
                code: "ABC-DEF-GHJ".into(),
                capacity: 2,
                members: vec![Peer {
                    peer_id: "p1".into(),
                    name: "Bo".into()
                }],
            }
        );
        let msg: ChatMessage = core::ChatMessage {
            id: "id".into(),
            peer_id: "p1".into(),
            sender_name: "Bo".into(),
            text: "hé".into(),
            sent_at_ms: 42,
            seq: 7,
        }
        .into();
        assert_eq!(
            msg,
            ChatMessage {
                id: "id".into(),
                peer_id: "p1".into(),
                sender_name: "Bo".into(),
                text: "hé".into(),
                sent_at_ms: 42,
                seq: 7,
            }
        );
    }

    #[test]
    fn enums_convert_variant_for_variant() {
        assert_eq!(
            SignalingState::from(core::SignalingState::Connected),
            SignalingState::Connected
        );
        assert_eq!(PeerState::from(core::PeerState::Failed), PeerState::Failed);
        assert_eq!(
            MessageStatus::from(core::MessageStatus::Delivered),
            MessageStatus::Delivered
        );
        assert_eq!(
            LeaveReason::from(core::LeaveReason::Disconnected),
            LeaveReason::Disconnected
        );
        assert_eq!(
            core::IceTransportPolicy::from(IceTransportPolicy::All),
            core::IceTransportPolicy::All
        );
        assert_eq!(
            core::IceTransportPolicy::from(IceTransportPolicy::Relay),
            core::IceTransportPolicy::Relay
        );
    }
}
