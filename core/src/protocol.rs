//! Signaling protocol: every JSON message exchanged between a client and the signaling server.
//!
//! One WebSocket text frame carries one JSON object whose `type` field names the message
//! (`snake_case`). [`ClientMessage`] is what a client sends, [`ServerMessage`] what the server
//! sends. Both the engine and the server (`peerchat-server`) use these types, so the two can
//! never disagree on a field name. `docs/protocol.md` documents every message with examples.
//!
//! Unknown fields are ignored, so that a newer client can talk to an older server; unknown
//! `type`s are refused with `unknown_type`.
//!
//! Limits are named constants here and enforced by the server; a client that exceeds them gets
//! an [`ServerMessage::Error`] with the matching [`ErrorCode`] (or, for an oversize frame, a
//! WebSocket close with code 1009).

use serde::{Deserialize, Serialize};

/// Version of this signaling protocol, sent in [`ServerMessage::Welcome`].
///
/// Version 2 adds sessions: `session_token` in `welcome`, `resume`/`resumed`, `rejoin_room`,
/// `peer_interrupted`/`peer_resumed` and the leave reason `timeout`. A client asks for
/// version 2 with the WebSocket subprotocol [`SUBPROTOCOL_V2`] (RFC 6455 §1.9); a client that
/// asks for none speaks version 1 and sees exactly the version 1 messages.
pub const PROTOCOL_VERSION: u32 = 2;

/// The first protocol version: no sessions. Spoken with clients that ask for no subprotocol.
pub const PROTOCOL_V1: u32 = 1;

/// WebSocket subprotocol (`Sec-WebSocket-Protocol`) a client offers to speak version 2.
pub const SUBPROTOCOL_V2: &str = "peerchat.v2";

/// How long (ms) the server keeps an interrupted session (its peer id, room seat, login and
/// queued relays) for a `resume`, unless run with another `--session-grace-ms`.
pub const DEFAULT_SESSION_GRACE_MS: u64 = 30_000;

/// Random bits in a session token (from the OS CSPRNG), written as lower-case hex.
pub const SESSION_TOKEN_BITS: usize = 256;

/// Relayed messages (`offer`, `answer`, `ice_candidate`, `peer_left` of a chat by login) the
/// server keeps for one interrupted session. A relay beyond this is refused to its sender
/// with [`ErrorCode::PeerQueueFull`].
pub const RESUME_QUEUE_LEN: usize = 64;

/// WebSocket close code the server sends to an older connection of a session when another
/// connection resumed that session (application range 4000–4999, RFC 6455 §7.4.2).
pub const CLOSE_SESSION_RESUMED_ELSEWHERE: u16 = 4001;

/// Largest WebSocket frame or message (bytes) the server accepts. Larger frames close the
/// connection with WebSocket close code 1009 ("message too big", RFC 6455 §7.4.1).
pub const MAX_FRAME_BYTES: usize = 64 * 1024;

/// Longest display name or login, in Unicode scalar values (chars), after trimming.
pub const MAX_NAME_CHARS: usize = 32;

/// Most topics one `find_match` may name (matchmaking, docs/protocol.md; `too_many_topics`).
pub const MAX_TOPICS_PER_REQUEST: usize = 8;

/// Longest matchmaking topic, in Unicode scalar values (chars) after normalisation
/// (docs/protocol.md, "Matchmaking"; `invalid_topic`).
pub const MAX_TOPIC_CHARS: usize = 32;

/// Longest SDP (bytes) relayed in an `offer` or `answer`.
pub const MAX_SDP_BYTES: usize = 32 * 1024;

/// Longest `candidate` attribute (bytes) relayed in an `ice_candidate`.
pub const MAX_CANDIDATE_BYTES: usize = 1024;

/// Peers a room holds unless the server runs with a larger `--room-capacity`.
pub const DEFAULT_ROOM_CAPACITY: usize = 2;

/// Largest room capacity a server may be configured with (a full mesh of this many peers).
pub const MAX_ROOM_CAPACITY: usize = 16;

/// Messages a connection may send per second (sustained); see [`RATE_LIMIT_BURST`].
pub const RATE_LIMIT_PER_SEC: u32 = 50;

/// Messages a connection may send in a burst before [`ErrorCode::RateLimited`] applies.
/// Trickle ICE sends bursts of candidates, so the burst is generous.
pub const RATE_LIMIT_BURST: u32 = 200;

/// Interval (ms) at which the server sends a WebSocket ping to every client.
pub const PING_INTERVAL_MS: u64 = 5_000;

/// A client that has sent nothing (no pong, no message) for this long (ms) is dropped and its
/// room members get `peer_left` with reason `disconnected`.
pub const IDLE_TIMEOUT_MS: u64 = 15_000;

/// Room-code alphabet: digits and upper-case letters without the ambiguous `0 1 I L O U`.
pub const ROOM_CODE_ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTVWXYZ";

/// Symbols in a room code (without the separators). 9 symbols of a 30-symbol alphabet carry
/// 9 × log2(30) ≈ 44.2 bits of entropy.
pub const ROOM_CODE_LEN: usize = 9;

/// A room code is shown in groups of this many symbols separated by `-` (`ABC-DEF-GHJ`).
pub const ROOM_CODE_GROUP: usize = 3;

/// A peer as the server knows it: its server-assigned id and its display name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeerInfo {
    /// Server-assigned id of the peer's connection (opaque string, unique per server run).
    pub peer_id: String,
    /// Display name the peer gave when it created or joined the room, or its login.
    pub name: String,
}

/// An ICE candidate as the W3C `RTCIceCandidateInit` dictionary, in snake_case.
///
/// An empty `candidate` string signals end-of-candidates (W3C WebRTC §4.8.1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IceCandidate {
    /// The `candidate-attribute` of RFC 8839 §5.1, e.g.
    /// `candidate:1 1 udp 2130706431 127.0.0.1 50000 typ host`.
    pub candidate: String,
    /// Media stream identification tag of the m-line the candidate belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sdp_mid: Option<String>,
    /// Index of that m-line in the SDP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sdp_m_line_index: Option<u16>,
    /// ICE username fragment the candidate belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username_fragment: Option<String>,
    /// Members of the candidate object this version does not know, kept so that the server
    /// relays the object unchanged (docs/protocol.md, `ice_candidate`). Their JSON text counts
    /// toward [`MAX_CANDIDATE_BYTES`]. Empty when the sender added none.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

impl IceCandidate {
    /// Bytes this candidate counts against [`MAX_CANDIDATE_BYTES`]: the UTF-8 bytes of
    /// `candidate`, `sdp_mid` and `username_fragment`, plus the JSON text (`"key":value`) of
    /// each member in [`extra`](Self::extra).
    pub fn counted_bytes(&self) -> usize {
        let extra: usize = self
            .extra
            .iter()
            .map(|(key, value)| key.len() + 3 + value.to_string().len())
            .sum();
        self.candidate.len()
            + self.sdp_mid.as_ref().map_or(0, String::len)
            + self.username_fragment.as_ref().map_or(0, String::len)
            + extra
    }
}

/// Why a peer left a room or chat, in [`ServerMessage::PeerLeft`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LeaveReason {
    /// The peer sent `leave_room` or `bye`, or logged out.
    Left,
    /// The peer's WebSocket closed or stopped answering pings (version 1 peers; version 2
    /// peers that closed their WebSocket cleanly, with close code 1000).
    Disconnected,
    /// Version 2: the peer's session was interrupted and not resumed within the grace period
    /// (`session_grace_ms`). Version 1 clients are sent `disconnected` instead.
    Timeout,
}

/// Messages a client sends to the server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientMessage {
    /// Create a room and join it as its first member. Answered by `room_created`.
    CreateRoom {
        /// Display name shown to the other members (1..=[`MAX_NAME_CHARS`] chars).
        name: String,
    },
    /// Join an existing room. Answered by `room_joined`; the members get `peer_joined`.
    JoinRoom {
        /// The room code, in any case, with or without `-` or spaces.
        code: String,
        /// Display name shown to the other members (1..=[`MAX_NAME_CHARS`] chars).
        name: String,
    },
    /// Leave the current room. Answered by `room_left`; the others get `peer_left`.
    LeaveRoom,
    /// Claim a unique login. Answered by `logged_in`, or `error` `login_taken`.
    Login {
        /// The login (1..=[`MAX_NAME_CHARS`] chars); compared case-insensitively.
        login: String,
    },
    /// Release the login. Answered by `logged_out`; peers linked by login get `peer_left`.
    Logout,
    /// Relay an SDP offer to one peer.
    Offer {
        /// Target: a peer id, or (with `to_login`) absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        to: Option<String>,
        /// Target by login; the sender must be logged in.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        to_login: Option<String>,
        /// The SDP text (RFC 8866), at most [`MAX_SDP_BYTES`].
        sdp: String,
    },
    /// Relay an SDP answer to one peer.
    Answer {
        /// Target peer id.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        to: Option<String>,
        /// Target by login.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        to_login: Option<String>,
        /// The SDP text, at most [`MAX_SDP_BYTES`].
        sdp: String,
    },
    /// Relay a trickle ICE candidate (RFC 8838) to one peer.
    IceCandidate {
        /// Target peer id.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        to: Option<String>,
        /// Target by login.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        to_login: Option<String>,
        /// The candidate.
        candidate: IceCandidate,
    },
    /// Tell one peer reached by login that this chat is over (seed 001's "disconnect from").
    /// The target gets `peer_left` with reason `left`, and the link between the two ends.
    Bye {
        /// Target peer id.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        to: Option<String>,
        /// Target by login.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        to_login: Option<String>,
    },
    /// Application-level keepalive; answered by `pong`. WebSocket pings are preferred.
    Ping,
    /// Version 2, and only as the first message on a connection: take back the session this
    /// token belongs to. Answered by `resumed` (then the relays queued meanwhile), or by
    /// `error` `session_not_found`, after which the connection carries the fresh session of
    /// its `welcome`.
    Resume {
        /// The `session_token` of the session's `welcome`.
        session_token: String,
    },
    /// Version 2: enter the room with this code again after the session that was in it is
    /// gone (the server restarted, or the grace period ran out). Joins the room when it
    /// exists; when no room has this code, creates it under this code. Answered by
    /// `room_joined` (with no members when the room was created).
    RejoinRoom {
        /// The room code, in any case, with or without `-` or spaces.
        code: String,
        /// Display name shown to the other members (1..=[`MAX_NAME_CHARS`] chars).
        name: String,
    },
}

impl ClientMessage {
    /// The `type` of this message as on the wire (`"join_room"`, ...).
    pub fn type_name(&self) -> &'static str {
        match self {
            Self::CreateRoom { .. } => "create_room",
            Self::JoinRoom { .. } => "join_room",
            Self::LeaveRoom => "leave_room",
            Self::Login { .. } => "login",
            Self::Logout => "logout",
            Self::Offer { .. } => "offer",
            Self::Answer { .. } => "answer",
            Self::IceCandidate { .. } => "ice_candidate",
            Self::Bye { .. } => "bye",
            Self::Ping => "ping",
            Self::Resume { .. } => "resume",
            Self::RejoinRoom { .. } => "rejoin_room",
        }
    }
}

/// Messages the server sends to a client.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerMessage {
    /// First message on every connection.
    Welcome {
        /// The id the server assigned to this connection.
        peer_id: String,
        /// [`PROTOCOL_VERSION`].
        protocol_version: u32,
        /// The server's crate version.
        server_version: String,
        /// Limits in force on this server.
        limits: Limits,
        /// TURN servers with time-limited credentials for this connection (the TURN REST API
        /// scheme coturn's `use-auth-secret` implements), when the server is configured with a
        /// TURN secret; absent otherwise. Clients add them to their ICE servers.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        ice_servers: Vec<TurnServer>,
        /// Version 2: the secret that resumes this session ([`SESSION_TOKEN_BITS`] random
        /// bits as hex). Absent for version 1 clients. Never log it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        session_token: Option<String>,
    },
    /// Version 2, answer to `resume`: this connection now carries the session again, with
    /// the same peer id, room seat and login. The relays queued while it was interrupted
    /// follow, in the order they were sent.
    Resumed {
        /// The session's peer id (the one of its first `welcome`).
        peer_id: String,
        /// The room the session is in, with its members now (others than the sender).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        room: Option<RoomSnapshot>,
        /// The login the session holds.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        login: Option<String>,
    },
    /// Version 2: a peer of the sender's room (or linked by login) lost its connection; the
    /// server keeps its session for `session_grace_ms`. Its data channels may still work.
    PeerInterrupted {
        /// Room code, absent for a chat by login.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        code: Option<String>,
        /// The interrupted peer.
        peer_id: String,
    },
    /// Version 2: an interrupted peer resumed its session (same peer id).
    PeerResumed {
        /// Room code, absent for a chat by login.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        code: Option<String>,
        /// The peer that is back.
        peer_id: String,
    },
    /// Answer to `create_room`: the room exists and the sender is its only member.
    RoomCreated {
        /// Canonical code, `ABC-DEF-GHJ` form.
        code: String,
        /// Peers the room holds.
        capacity: usize,
    },
    /// Answer to `join_room`.
    RoomJoined {
        /// Canonical code.
        code: String,
        /// Peers the room holds.
        capacity: usize,
        /// Members already in the room before the sender, oldest first.
        members: Vec<PeerInfo>,
    },
    /// Another peer joined the sender's room. The newcomer sends the offers.
    PeerJoined {
        /// Canonical code of the room.
        code: String,
        /// The newcomer.
        peer: PeerInfo,
    },
    /// A peer left the sender's room, or a peer linked by login ended the chat or went away.
    PeerLeft {
        /// Room code, absent for a chat by login.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        code: Option<String>,
        /// The peer that left.
        peer_id: String,
        /// Why.
        reason: LeaveReason,
    },
    /// Answer to `leave_room`.
    RoomLeft {
        /// Canonical code of the room left.
        code: String,
    },
    /// Answer to `login`.
    LoggedIn {
        /// The login as the server stored it.
        login: String,
    },
    /// Answer to `logout`.
    LoggedOut {
        /// The login that was released.
        login: String,
    },
    /// A relayed SDP offer.
    Offer {
        /// Sender's peer id.
        from: String,
        /// Sender's display name or login.
        from_name: String,
        /// The SDP text.
        sdp: String,
    },
    /// A relayed SDP answer.
    Answer {
        /// Sender's peer id.
        from: String,
        /// Sender's display name or login.
        from_name: String,
        /// The SDP text.
        sdp: String,
    },
    /// A relayed trickle ICE candidate.
    IceCandidate {
        /// Sender's peer id.
        from: String,
        /// The candidate.
        candidate: IceCandidate,
    },
    /// Answer to `ping`.
    Pong,
    /// A refusal. The connection stays open unless the WebSocket is closed right after.
    Error {
        /// Machine-readable reason.
        code: ErrorCode,
        /// Human-readable explanation.
        message: String,
        /// `type` of the request refused, when it could be read.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        request: Option<String>,
    },
}

/// A TURN server with time-limited credentials, in [`ServerMessage::Welcome`]
/// (draft-uberti-behave-turn-rest-00, as coturn's `use-auth-secret` implements it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TurnServer {
    /// `turn:`/`turns:` URLs (RFC 7065).
    pub urls: Vec<String>,
    /// `<expiry unix seconds>:<peer id>`.
    pub username: String,
    /// base64(HMAC-SHA1(secret, username)).
    pub credential: String,
    /// Seconds the credentials stay valid from when `welcome` was sent.
    pub ttl_seconds: u64,
}

/// A room as `resumed` reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomSnapshot {
    /// Canonical code.
    pub code: String,
    /// Peers the room holds.
    pub capacity: usize,
    /// The other members now, oldest first (interrupted ones included).
    pub members: Vec<PeerInfo>,
}

/// Limits a server announces in [`ServerMessage::Welcome`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    /// [`MAX_FRAME_BYTES`].
    pub max_frame_bytes: usize,
    /// [`MAX_NAME_CHARS`].
    pub max_name_chars: usize,
    /// Capacity of new rooms on this server.
    pub room_capacity: usize,
    /// [`RATE_LIMIT_PER_SEC`].
    pub rate_limit_per_sec: u32,
    /// [`PING_INTERVAL_MS`].
    pub ping_interval_ms: u64,
    /// [`IDLE_TIMEOUT_MS`].
    pub idle_timeout_ms: u64,
    /// Version 2: how long (ms) an interrupted session can be resumed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_grace_ms: Option<u64>,
}

/// Machine-readable reason in [`ServerMessage::Error`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The text frame was not valid JSON.
    InvalidJson,
    /// The JSON had no `type`, or a `type` this server does not know.
    UnknownType,
    /// A known `type` with a missing, extra or mistyped field, or a field over its limit.
    InvalidMessage,
    /// A binary frame; the protocol is text only.
    BinaryNotSupported,
    /// More than the rate limit allows; the message was dropped.
    RateLimited,
    /// A display name or login that is empty or longer than [`MAX_NAME_CHARS`].
    InvalidName,
    /// A room code with characters outside [`ROOM_CODE_ALPHABET`] or of the wrong length.
    InvalidRoomCode,
    /// No room has that code (it never existed, or emptied and was deleted).
    RoomNotFound,
    /// The room already holds its capacity.
    RoomFull,
    /// `create_room` or `join_room` while already in a room.
    AlreadyInRoom,
    /// `leave_room` while in no room.
    NotInRoom,
    /// `login` with a login another connection holds.
    LoginTaken,
    /// `login` while this connection already holds a login.
    AlreadyLoggedIn,
    /// `logout`, or addressing by `to_login`, without being logged in.
    NotLoggedIn,
    /// A relay target (peer id or login) that is not connected.
    PeerNotFound,
    /// A relay to a peer that shares no room with the sender and was not linked by login.
    RelayNotAllowed,
    /// A relay with both or neither of `to` and `to_login`.
    InvalidTarget,
    /// A relay refused because its target cannot take more now: the target's outgoing queue
    /// holds as many relayed messages as the server allows, or the target receives relays
    /// faster than its per-target limit. The message was dropped; the target stays connected.
    /// Retry later (back off) or give up.
    TargetBusy,
    /// `login` for a login other than the one the connection's auth token grants (only on a
    /// server that requires tokens, `--auth-secret`).
    Unauthorized,
    /// The server failed on its side.
    Internal,
    /// Version 2: `resume` with a token of no session (never issued, expired after the grace
    /// period, or issued by a server that restarted since). Start afresh.
    SessionNotFound,
    /// Version 2: the target's session is interrupted and its queue of
    /// [`RESUME_QUEUE_LEN`] relays is full; this relay was not queued.
    PeerQueueFull,
}

impl ErrorCode {
    /// The snake_case wire name of this code (as in the JSON).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidJson => "invalid_json",
            Self::UnknownType => "unknown_type",
            Self::InvalidMessage => "invalid_message",
            Self::BinaryNotSupported => "binary_not_supported",
            Self::RateLimited => "rate_limited",
            Self::InvalidName => "invalid_name",
            Self::InvalidRoomCode => "invalid_room_code",
            Self::RoomNotFound => "room_not_found",
            Self::RoomFull => "room_full",
            Self::AlreadyInRoom => "already_in_room",
            Self::NotInRoom => "not_in_room",
            Self::LoginTaken => "login_taken",
            Self::AlreadyLoggedIn => "already_logged_in",
            Self::NotLoggedIn => "not_logged_in",
            Self::PeerNotFound => "peer_not_found",
            Self::RelayNotAllowed => "relay_not_allowed",
            Self::InvalidTarget => "invalid_target",
            Self::TargetBusy => "target_busy",
            Self::Unauthorized => "unauthorized",
            Self::Internal => "internal",
            Self::SessionNotFound => "session_not_found",
            Self::PeerQueueFull => "peer_queue_full",
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a room code was refused by [`normalize_room_code`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RoomCodeError {
    /// Wrong number of symbols once separators are removed.
    #[error("a room code has {expected} characters, this one has {found}")]
    Length {
        /// [`ROOM_CODE_LEN`].
        expected: usize,
        /// Symbols found.
        found: usize,
    },
    /// A character outside [`ROOM_CODE_ALPHABET`].
    #[error("'{0}' cannot appear in a room code")]
    Character(char),
}

/// Turns what a person typed into the canonical `ABC-DEF-GHJ` form.
///
/// Case is ignored; `-`, spaces and tabs are ignored. Errors: [`RoomCodeError::Character`] for
/// a symbol outside [`ROOM_CODE_ALPHABET`] (including the ambiguous `0 1 I L O U`),
/// [`RoomCodeError::Length`] when the count of symbols is not [`ROOM_CODE_LEN`].
pub fn normalize_room_code(input: &str) -> Result<String, RoomCodeError> {
    let mut symbols = Vec::with_capacity(ROOM_CODE_LEN);
    for c in input.chars() {
        if c == '-' || c.is_whitespace() {
            continue;
        }
        let upper = c.to_ascii_uppercase();
        if !upper.is_ascii() || !ROOM_CODE_ALPHABET.contains(&(upper as u8)) {
            return Err(RoomCodeError::Character(c));
        }
        symbols.push(upper);
    }
    if symbols.len() != ROOM_CODE_LEN {
        return Err(RoomCodeError::Length {
            expected: ROOM_CODE_LEN,
            found: symbols.len(),
        });
    }
    Ok(format_room_code(&symbols))
}

/// Formats [`ROOM_CODE_LEN`] symbols as `ABC-DEF-GHJ`.
pub fn format_room_code(symbols: &[char]) -> String {
    let mut out = String::with_capacity(symbols.len() + symbols.len() / ROOM_CODE_GROUP);
    for (i, c) in symbols.iter().enumerate() {
        if i > 0 && i % ROOM_CODE_GROUP == 0 {
            out.push('-');
        }
        out.push(*c);
    }
    out
}

/// Why a display name or login was refused by [`validate_name`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    /// Empty after trimming white space.
    #[error("a name cannot be empty")]
    Empty,
    /// Longer than [`MAX_NAME_CHARS`].
    #[error("a name has at most {max} characters, this one has {found}")]
    TooLong {
        /// [`MAX_NAME_CHARS`].
        max: usize,
        /// Characters found.
        found: usize,
    },
    /// Contains a control character.
    #[error("a name cannot contain control characters")]
    Control,
}

/// Trims a display name or login and checks it: 1..=[`MAX_NAME_CHARS`] chars, no control
/// characters. Returns the trimmed name.
pub fn validate_name(input: &str) -> Result<String, NameError> {
    let trimmed = input.trim();
    if trimmed.is_empty() {
        return Err(NameError::Empty);
    }
    let count = trimmed.chars().count();
    if count > MAX_NAME_CHARS {
        return Err(NameError::TooLong {
            max: MAX_NAME_CHARS,
            found: count,
        });
    }
    if trimmed.chars().any(char::is_control) {
        return Err(NameError::Control);
    }
    Ok(trimmed.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_messages_use_snake_case_type_tags() {
        let json = serde_json::to_string(&ClientMessage::JoinRoom {
            code: "ABC-DEF-GHJ".into(),
            name: "Ada".into(),
        })
        .unwrap();
        assert_eq!(
            json,
            r#"{"type":"join_room","code":"ABC-DEF-GHJ","name":"Ada"}"#
        );
        let parsed: ClientMessage =
            serde_json::from_str(r#"{"type":"ice_candidate","to":"p1","candidate":{"candidate":"candidate:1 1 udp 1 127.0.0.1 9 typ host","sdp_mid":"0","sdp_m_line_index":0}}"#).unwrap();
        assert!(matches!(parsed, ClientMessage::IceCandidate { .. }));
        let leave: ClientMessage = serde_json::from_str(r#"{"type":"leave_room"}"#).unwrap();
        assert_eq!(leave, ClientMessage::LeaveRoom);
    }

    #[test]
    fn unknown_fields_are_ignored_for_forward_compatibility() {
        let parsed: ClientMessage =
            serde_json::from_str(r#"{"type":"leave_room","future_field":1}"#).unwrap();
        assert_eq!(parsed, ClientMessage::LeaveRoom);
    }

    #[test]
    fn error_code_wire_names_match_as_str() {
        for code in [
            ErrorCode::InvalidJson,
            ErrorCode::RoomFull,
            ErrorCode::RelayNotAllowed,
            ErrorCode::InvalidTarget,
        ] {
            assert_eq!(
                serde_json::to_string(&code).unwrap(),
                format!("\"{}\"", code.as_str())
            );
        }
    }

    #[test]
    fn room_codes_normalize() {
        assert_eq!(normalize_room_code("abc def ghj").unwrap(), "ABC-DEF-GHJ");
        assert_eq!(normalize_room_code("ABC-DEF-GHJ").unwrap(), "ABC-DEF-GHJ");
        assert_eq!(
            normalize_room_code("ABC-DEF-GH0"),
            Err(RoomCodeError::Character('0'))
        );
        assert_eq!(
            normalize_room_code("ABCD"),
            Err(RoomCodeError::Length {
                expected: 9,
                found: 4
            })
        );
    }

    #[test]
    fn names_validate() {
        assert_eq!(validate_name("  Ada ").unwrap(), "Ada");
        assert_eq!(validate_name("   "), Err(NameError::Empty));
        assert!(matches!(
            validate_name(&"x".repeat(33)),
            Err(NameError::TooLong { .. })
        ));
        assert_eq!(validate_name("a\u{7}b"), Err(NameError::Control));
    }
}
