//! The hub: every connected peer with its outgoing queue, plus rooms, logins and links.
//!
//! The hub is plain synchronous state; [`Shared`] keeps it behind a mutex that is never held
//! across an `.await`. Handling a message computes the deliveries and pushes them onto the
//! targets' bounded queues with `try_send`; a full queue marks that peer for disconnection
//! (its connection task closes the WebSocket) rather than blocking anyone.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use peerchat_core::protocol::{
    ClientMessage, ErrorCode, LeaveReason, PROTOCOL_V1, PeerInfo, ServerMessage,
    normalize_room_code,
};
use tokio::sync::{Notify, watch};
use tracing::{debug, warn};

use crate::backend::Backend;
use crate::config::ServerConfig;
use crate::logins::{LoginError, Logins};
use crate::parse::{Refusal, type_name};
use crate::relay::{Links, RelayError, Route, resolve};
use crate::relay_limits::{RELAY_QUEUE_RESERVE, Refused, RelayLimits};
use crate::rooms::{RoomError, Rooms};
use crate::sessions::Sessions;

/// What the hub keeps for each connected peer: how to reach its connection task.
#[derive(Debug, Clone)]
pub struct PeerSlot {
    /// The connection's bounded outgoing queue of serialized JSON messages.
    pub tx: crate::queue::Sender,
    /// Signalled when the queue overflowed: the connection must close.
    pub kill: Arc<Notify>,
    /// Signalled when another connection resumed this one's session: the connection must
    /// close with [`CLOSE_SESSION_RESUMED_ELSEWHERE`](peerchat_core::protocol::CLOSE_SESSION_RESUMED_ELSEWHERE)
    /// and leave the session alone.
    pub replaced: Arc<Notify>,
    /// Protocol version the connection speaks ([`PROTOCOL_V1`] or 2).
    pub version: u32,
    /// Serial number of the connection (unique per server run), so that a connection that
    /// ends after another took its session over cannot end that session.
    pub conn: u64,
    /// The client's IP address (for the per-IP room-code guessing limit).
    pub ip: std::net::IpAddr,
    /// With authentication on: the login the connection's token grants (its `sub`).
    pub granted_login: Option<String>,
    /// The server instance holding the connection: 0 with the in-memory backend; with Redis,
    /// the instance id (see `backend`), so that an instance that stops heartbeating has its
    /// connections ended.
    pub home: u64,
}

/// A message for one peer.
type Delivery = (String, ServerMessage);

/// All signaling state of one server.
#[derive(Debug, Default)]
pub struct Hub {
    peers: HashMap<String, PeerSlot>,
    rooms: Rooms,
    logins: Logins,
    links: Links,
    sessions: Sessions,
    relay_limits: RelayLimits,
    guesses: crate::limits::guess::GuessLimits,
    room_capacity: usize,
    /// Replicated (Redis) backend: the time and random seed of the operation being applied,
    /// identical on every replica, so that every replica reaches the same state.
    op: Option<OpContext>,
}

/// What makes one replicated operation deterministic (see `backend`).
#[derive(Debug, Clone, Copy)]
pub struct OpContext {
    /// The operation's time (from its log entry id), as this process's `Instant`.
    pub now: Instant,
    /// Seed of the room-code generator for a `create_room` (drawn from the OS CSPRNG by the
    /// instance that received the message).
    pub seed: Option<[u8; 32]>,
}

fn error(code: ErrorCode, message: impl Into<String>, request: &str) -> ServerMessage {
    ServerMessage::Error {
        code,
        message: message.into(),
        request: Some(request.to_string()),
    }
}

impl Hub {
    /// An empty hub whose new rooms hold `room_capacity` peers.
    pub fn new(room_capacity: usize) -> Self {
        Self {
            room_capacity,
            ..Self::default()
        }
    }

    /// Switches the hub to replicated operation: from now on the limits use the time of
    /// [`Hub::set_op`] instead of the clock, and the target's queue share is not checked (only
    /// the target's own instance knows its queue; the per-target bucket still applies).
    pub fn set_op(&mut self, op: OpContext) {
        self.op = Some(op);
    }

    fn now(&self) -> Instant {
        self.op.map_or_else(Instant::now, |o| o.now)
    }

    /// Peers whose connection is held by instance `home`: id, connection serial, and the
    /// notifier that closes the connection.
    pub fn peers_on(&self, home: u64) -> Vec<(String, u64, Arc<Notify>)> {
        self.peers
            .iter()
            .filter(|(_, s)| s.home == home)
            .map(|(p, s)| (p.clone(), s.conn, s.kill.clone()))
            .collect()
    }

    /// Whether `peer` is connected (not interrupted, not gone).
    pub fn connected(&self, peer: &str) -> bool {
        self.peers.contains_key(peer)
    }

    /// Whether `peer` is connected to instance `home`.
    pub fn is_local(&self, peer: &str, home: u64) -> bool {
        self.peers.get(peer).is_some_and(|s| s.home == home)
    }

    /// Connected peers.
    pub fn clients(&self) -> usize {
        self.peers.len()
    }

    /// Open rooms.
    pub fn rooms(&self) -> usize {
        self.rooms.len()
    }

    /// Logins held.
    pub fn logins(&self) -> usize {
        self.logins.len()
    }

    /// Sessions interrupted now (version 2 peers within their grace period).
    pub fn interrupted_sessions(&self) -> usize {
        self.sessions.interrupted()
    }

    /// Adds a connected peer; with `session_token` (version 2) it opens its session too.
    pub fn register(&mut self, peer: String, slot: PeerSlot, session_token: Option<String>) {
        if let Some(token) = session_token {
            self.sessions.open(&peer, token);
        }
        self.peers.insert(peer, slot);
    }

    /// Whether `peer` can be addressed: connected, or interrupted within its grace period.
    fn present(&self, peer: &str) -> bool {
        self.peers.contains_key(peer) || self.sessions.is_interrupted(peer)
    }

    /// Whether connection `conn` still carries the session of `peer`.
    fn owns(&self, peer: &str, conn: u64) -> bool {
        self.peers.get(peer).is_some_and(|s| s.conn == conn)
    }

    /// Connection `conn` of `peer` ended. A clean end (close code 1000, `shutdown`) or a
    /// version 1 peer is removed at once ([`Hub::unregister`]). A version 2 session is kept
    /// interrupted instead: its room members and login partners get `peer_interrupted`, and
    /// the returned epoch is what its grace timer passes to [`Hub::expire`]. Nothing happens
    /// when another connection has taken the session over.
    pub fn connection_ended(
        &mut self,
        peer: &str,
        conn: u64,
        clean: bool,
    ) -> (Option<u64>, Vec<Delivery>) {
        if !self.owns(peer, conn) {
            return (None, Vec::new());
        }
        if clean || !self.sessions.has(peer) {
            return (None, self.unregister(peer, LeaveReason::Disconnected));
        }
        self.peers.remove(peer);
        let epoch = self.sessions.interrupt(peer);
        let out = self.tell_room_and_partners(peer, |code| ServerMessage::PeerInterrupted {
            code,
            peer_id: peer.to_string(),
        });
        (epoch, out)
    }

    /// The grace period armed with `epoch` ran out: if `peer` is still interrupted by that
    /// interruption, its session ends and the others get `peer_left` with reason `timeout`.
    pub fn expire(&mut self, peer: &str, epoch: u64) -> Vec<Delivery> {
        if !self.sessions.expires(peer, epoch) {
            return Vec::new();
        }
        self.unregister(peer, LeaveReason::Timeout)
    }

    /// `resume` from the new connection `provisional` (whose `welcome` gave it a fresh
    /// session it has not used): the connection takes over the session of `token`. Returns
    /// that session's peer id and the deliveries: `resumed` and the queued relays to the
    /// connection, `peer_resumed` to the others. An older connection still holding the
    /// session is told to close. Errors: the `error` for `session_not_found`.
    pub fn resume(
        &mut self,
        provisional: &str,
        token: &str,
    ) -> Result<(String, Vec<Delivery>), Refusal> {
        let refuse = |code, message: &str| Refusal::new(code, message, Some("resume"));
        let Some(peer) = self.sessions.peer_of(token).map(str::to_string) else {
            return Err(refuse(
                ErrorCode::SessionNotFound,
                "no session has this token (expired, or the server restarted); carry on with \
                 the session of this connection's welcome",
            ));
        };
        if peer == provisional {
            return Err(refuse(
                ErrorCode::InvalidMessage,
                "this connection already carries that session",
            ));
        }
        match self.peers.get(provisional) {
            None => {
                return Err(refuse(
                    ErrorCode::Internal,
                    "this connection is not registered",
                ));
            }
            Some(slot) if slot.version <= PROTOCOL_V1 => {
                return Err(refuse(
                    ErrorCode::InvalidMessage,
                    "resume needs protocol version 2: offer the WebSocket subprotocol peerchat.v2",
                ));
            }
            Some(_) => {}
        }
        let slot = self.peers.remove(provisional).expect("checked");
        self.sessions.close(provisional);
        let was_interrupted = self.sessions.is_interrupted(&peer);
        let queued = self.sessions.resume(&peer);
        if let Some(old) = self.peers.insert(peer.clone(), slot) {
            old.replaced.notify_one();
        }
        let mut out = vec![(
            peer.clone(),
            ServerMessage::Resumed {
                peer_id: peer.clone(),
                room: self.rooms.snapshot(&peer),
                login: self.logins.login_of(&peer).map(str::to_string),
            },
        )];
        out.extend(queued.into_iter().map(|m| (peer.clone(), m)));
        if was_interrupted {
            out.extend(
                self.tell_room_and_partners(&peer, |code| ServerMessage::PeerResumed {
                    code,
                    peer_id: peer.clone(),
                }),
            );
        }
        Ok((peer, out))
    }

    /// `build(code)` for every room member of `peer` (with the room code) and every login
    /// partner (with none).
    fn tell_room_and_partners(
        &self,
        peer: &str,
        build: impl Fn(Option<String>) -> ServerMessage,
    ) -> Vec<Delivery> {
        let mut out = Vec::new();
        if let Some(room) = self.rooms.snapshot(peer) {
            for m in room.members {
                out.push((m.peer_id, build(Some(room.code.clone()))));
            }
        }
        for partner in self.links.partners(peer) {
            out.push((partner, build(None)));
        }
        out
    }

    /// Removes a peer and its session: its room members and login partners get `peer_left`
    /// with `reason` (`disconnected` when its connection closed, `timeout` when its grace
    /// period ran out); its login is released; an emptied room is deleted.
    pub fn unregister(&mut self, peer: &str, reason: LeaveReason) -> Vec<Delivery> {
        let mut out = Vec::new();
        self.peers.remove(peer);
        self.sessions.close(peer);
        self.relay_limits.forget(peer);
        if let Some(d) = self.rooms.leave(peer) {
            for other in d.remaining {
                out.push((
                    other,
                    ServerMessage::PeerLeft {
                        code: Some(d.code.clone()),
                        peer_id: peer.to_string(),
                        reason,
                    },
                ));
            }
        }
        self.logins.release(peer);
        for partner in self.links.unlink_all(peer) {
            out.push((
                partner,
                ServerMessage::PeerLeft {
                    code: None,
                    peer_id: peer.to_string(),
                    reason,
                },
            ));
        }
        out
    }

    /// Handles one valid message from `peer`; returns every message to send, the answer to
    /// `peer` (if any) first.
    pub fn handle(&mut self, peer: &str, msg: ClientMessage) -> Vec<Delivery> {
        let kind = type_name(&msg);
        let me = |m: ServerMessage| vec![(peer.to_string(), m)];
        match msg {
            ClientMessage::CreateRoom { name } => {
                let name = match crate::names::validate(&name) {
                    Ok(n) => n,
                    Err(e) => return me(error(ErrorCode::InvalidName, e.to_string(), kind)),
                };
                let created = match self.op.as_mut().and_then(|o| o.seed.take()) {
                    Some(seed) => {
                        use rand::SeedableRng;
                        let mut rng = rand::rngs::StdRng::from_seed(seed);
                        self.rooms
                            .create_with(&mut rng, peer, &name, self.room_capacity)
                    }
                    None => {
                        self.rooms
                            .create_with(&mut rand::rng(), peer, &name, self.room_capacity)
                    }
                };
                match created {
                    Ok(code) => me(ServerMessage::RoomCreated {
                        code,
                        capacity: self.room_capacity,
                    }),
                    Err(e) => me(room_error(e, kind)),
                }
            }
            ClientMessage::JoinRoom { code, name } => {
                let (code, name) = match name_and_code(&name, &code, kind) {
                    Ok(checked) => checked,
                    Err(refusal) => return me(refusal.into()),
                };
                if let Some(refusal) = self.guess_refused(peer, kind) {
                    return me(refusal);
                }
                self.join(peer, code, name, kind)
            }
            ClientMessage::RejoinRoom { code, name } => {
                let (code, name) = match name_and_code(&name, &code, kind) {
                    Ok(checked) => checked,
                    Err(refusal) => return me(refusal.into()),
                };
                // `rejoin_room` answers whether a code exists too: it is a guess like
                // `join_room`, and creating the room counts as a miss.
                if let Some(refusal) = self.guess_refused(peer, kind) {
                    return me(refusal);
                }
                if self.rooms.exists(&code) {
                    return self.join(peer, code, name, kind);
                }
                self.guess_missed(peer);
                match self
                    .rooms
                    .create_with_code(&code, peer, &name, self.room_capacity)
                {
                    Ok(()) => me(ServerMessage::RoomJoined {
                        code,
                        capacity: self.room_capacity,
                        members: Vec::new(),
                    }),
                    Err(e) => me(room_error(e, kind)),
                }
            }
            ClientMessage::Resume { .. } => me(error(
                ErrorCode::InvalidMessage,
                "resume is only valid as the first message on a connection",
                kind,
            )),
            other => self.handle_rest(peer, other, kind),
        }
    }

    /// Puts `peer` into the room `code`: `room_joined` to it, `peer_joined` to the members.
    fn join(&mut self, peer: &str, code: String, name: String, kind: &str) -> Vec<Delivery> {
        let (capacity, members) = match self.rooms.join(&code, peer, &name) {
            Ok(joined) => joined,
            Err(e) => {
                if matches!(e, RoomError::NotFound | RoomError::Full) {
                    self.guess_missed(peer);
                }
                return vec![(peer.to_string(), room_error(e, kind))];
            }
        };
        let newcomer = PeerInfo {
            peer_id: peer.to_string(),
            name,
        };
        let mut out = Vec::with_capacity(members.len() + 1);
        for other in &members {
            out.push((
                other.peer_id.clone(),
                ServerMessage::PeerJoined {
                    code: code.clone(),
                    peer: newcomer.clone(),
                },
            ));
        }
        out.insert(
            0,
            (
                peer.to_string(),
                ServerMessage::RoomJoined {
                    code,
                    capacity,
                    members,
                },
            ),
        );
        out
    }

    fn handle_rest(&mut self, peer: &str, msg: ClientMessage, kind: &str) -> Vec<Delivery> {
        let me = |m: ServerMessage| vec![(peer.to_string(), m)];
        match msg {
            ClientMessage::LeaveRoom => match self.rooms.leave(peer) {
                None => me(error(ErrorCode::NotInRoom, "you are in no room", kind)),
                Some(d) => {
                    let mut out = me(ServerMessage::RoomLeft {
                        code: d.code.clone(),
                    });
                    for other in d.remaining {
                        out.push((
                            other,
                            ServerMessage::PeerLeft {
                                code: Some(d.code.clone()),
                                peer_id: peer.to_string(),
                                reason: LeaveReason::Left,
                            },
                        ));
                    }
                    out
                }
            },
            ClientMessage::Login { login } => {
                let login = match crate::names::validate(&login) {
                    Ok(l) => l,
                    Err(e) => return me(error(ErrorCode::InvalidName, e.to_string(), kind)),
                };
                if let Some(granted) = self.peers.get(peer).and_then(|s| s.granted_login.as_ref())
                    && crate::names::login_key(granted) != crate::names::login_key(&login)
                {
                    return me(error(
                        ErrorCode::Unauthorized,
                        format!("your token grants the login \"{granted}\" only"),
                        kind,
                    ));
                }
                match self.logins.claim(peer, &login) {
                    Ok(()) => me(ServerMessage::LoggedIn { login }),
                    Err(LoginError::Taken) => me(error(
                        ErrorCode::LoginTaken,
                        format!("the login \"{login}\" is in use"),
                        kind,
                    )),
                    Err(LoginError::AlreadyLoggedIn) => me(error(
                        ErrorCode::AlreadyLoggedIn,
                        "this connection already holds a login; log out first",
                        kind,
                    )),
                }
            }
            ClientMessage::Logout => match self.logins.release(peer) {
                None => me(error(ErrorCode::NotLoggedIn, "you hold no login", kind)),
                Some(login) => {
                    let mut out = me(ServerMessage::LoggedOut { login });
                    for partner in self.links.unlink_all(peer) {
                        out.push((
                            partner,
                            ServerMessage::PeerLeft {
                                code: None,
                                peer_id: peer.to_string(),
                                reason: LeaveReason::Left,
                            },
                        ));
                    }
                    out
                }
            },
            ClientMessage::Offer { to, to_login, sdp } => {
                self.relay(peer, kind, to, to_login, |from, from_name| {
                    ServerMessage::Offer {
                        from,
                        from_name,
                        sdp,
                    }
                })
            }
            ClientMessage::Answer { to, to_login, sdp } => {
                self.relay(peer, kind, to, to_login, |from, from_name| {
                    ServerMessage::Answer {
                        from,
                        from_name,
                        sdp,
                    }
                })
            }
            ClientMessage::IceCandidate {
                to,
                to_login,
                candidate,
            } => self.relay(peer, kind, to, to_login, |from, _| {
                ServerMessage::IceCandidate { from, candidate }
            }),
            ClientMessage::Bye { to, to_login } => {
                let route = match self.route(peer, to.as_deref(), to_login.as_deref()) {
                    Ok(r) => r,
                    Err(e) => return me(relay_error(e, kind)),
                };
                if !route.by_login && !self.links.linked(peer, &route.to) {
                    return me(error(
                        ErrorCode::RelayNotAllowed,
                        "bye ends a chat by login, and you have none with this peer",
                        kind,
                    ));
                }
                if let Err(refusal) = self.admit(peer, &route.to, kind) {
                    return me(*refusal);
                }
                self.links.unlink(peer, &route.to);
                vec![(
                    route.to,
                    ServerMessage::PeerLeft {
                        code: None,
                        peer_id: peer.to_string(),
                        reason: LeaveReason::Left,
                    },
                )]
            }
            ClientMessage::Ping => me(ServerMessage::Pong),
            ClientMessage::CreateRoom { .. }
            | ClientMessage::JoinRoom { .. }
            | ClientMessage::RejoinRoom { .. }
            | ClientMessage::Resume { .. } => unreachable!("handled in Hub::handle"),
        }
    }

    fn route(
        &self,
        peer: &str,
        to: Option<&str>,
        to_login: Option<&str>,
    ) -> Result<Route, RelayError> {
        resolve(
            peer,
            to,
            to_login,
            &self.rooms,
            &self.logins,
            &self.links,
            |p| self.present(p),
        )
    }

    /// Relays one message built by `build(from, from_name)` after checking the relay rules;
    /// addressing by login links the pair.
    fn relay(
        &mut self,
        peer: &str,
        kind: &str,
        to: Option<String>,
        to_login: Option<String>,
        build: impl FnOnce(String, String) -> ServerMessage,
    ) -> Vec<Delivery> {
        let route = match self.route(peer, to.as_deref(), to_login.as_deref()) {
            Ok(r) => r,
            Err(e) => return vec![(peer.to_string(), relay_error(e, kind))],
        };
        if let Err(refusal) = self.admit(peer, &route.to, kind) {
            return vec![(peer.to_string(), *refusal)];
        }
        if !self.sessions.has_room(&route.to) {
            return vec![(
                peer.to_string(),
                error(
                    ErrorCode::PeerQueueFull,
                    "the peer's connection is interrupted and its queue is full; not relayed",
                    kind,
                ),
            )];
        }
        if route.by_login {
            self.links.link(peer, &route.to);
        }
        let from_name = if self.rooms.share_room(peer, &route.to) {
            self.rooms.name_of(peer)
        } else {
            self.logins.login_of(peer)
        }
        .unwrap_or(peer)
        .to_string();
        vec![(route.to, build(peer.to_string(), from_name))]
    }

    /// The refusal of a room-code guess (`join_room`, `rejoin_room`) from `peer`'s IP when its
    /// or the server's failure budget is spent (`limits/guess.rs`), checked before the code is
    /// looked up.
    fn guess_refused(&mut self, peer: &str, kind: &str) -> Option<ServerMessage> {
        let ip = self.peers.get(peer)?.ip;
        let now = self.now();
        (!self.guesses.may_try(ip, now)).then(|| {
            error(
                ErrorCode::RateLimited,
                "too many wrong room codes; wait a minute before trying again",
                kind,
            )
        })
    }

    /// Charges a failed room-code guess to `peer`'s IP and to the server.
    fn guess_missed(&mut self, peer: &str) {
        if let Some(ip) = self.peers.get(peer).map(|s| s.ip) {
            let now = self.now();
            self.guesses.failed(ip, now);
        }
    }

    /// Whether a relay from `peer` to `to` may go out now (see `relay_limits`): the pair and
    /// target token buckets, then the target's queue share. Errors: the `error` to send back
    /// (boxed: a `ServerMessage` is large).
    fn admit(&mut self, peer: &str, to: &str, kind: &str) -> Result<(), Box<ServerMessage>> {
        let now = self.now();
        match self.relay_limits.admit(peer, to, now) {
            Ok(()) => {}
            Err(Refused::Pair) => {
                return Err(Box::new(error(
                    ErrorCode::RateLimited,
                    "too many messages to this peer; this one was dropped",
                    kind,
                )));
            }
            Err(Refused::Target) => {
                return Err(Box::new(error(
                    ErrorCode::TargetBusy,
                    "this peer receives too many messages right now; this one was dropped",
                    kind,
                )));
            }
        }
        if let Some(slot) = self.peers.get(to).filter(|_| self.op.is_none()) {
            let reserve = RELAY_QUEUE_RESERVE.min(slot.tx.max_capacity() / 4);
            if slot.tx.capacity() <= reserve {
                return Err(Box::new(error(
                    ErrorCode::TargetBusy,
                    "this peer's queue is full (it reads slower than it is sent to); \
                     this one was dropped",
                    kind,
                )));
            }
        }
        Ok(())
    }

    /// Queues each delivery on its target's queue, in the form the target's protocol version
    /// reads ([`for_version`]). A target whose queue is full is told to close (slow reader).
    /// For an interrupted target, relays are kept for its `resume` and the rest is dropped
    /// (`resumed` reports the room as it is then); a target that is gone is skipped.
    pub fn dispatch(&mut self, deliveries: Vec<Delivery>) {
        for (to, msg) in deliveries {
            if let Some(slot) = self.peers.get(&to) {
                if let Some(msg) = for_version(msg, slot.version) {
                    send(&to, slot, &msg);
                }
            } else if self.sessions.is_interrupted(&to)
                && kept_for_resume(&msg)
                && self.sessions.queue(&to, msg).is_err()
            {
                warn!(peer = %to, "queue of an interrupted session full; message dropped");
            }
        }
    }

    /// Queues one message for `peer` (see [`Hub::dispatch`]).
    pub fn send_to(&self, peer: &str, msg: &ServerMessage) {
        if let Some(slot) = self.peers.get(peer) {
            send(peer, slot, msg);
        }
    }
}

/// `msg` as a client speaking `version` reads it: version 1 clients get no
/// `peer_interrupted`/`peer_resumed`, and `disconnected` for the leave reason `timeout`.
fn for_version(msg: ServerMessage, version: u32) -> Option<ServerMessage> {
    if version > PROTOCOL_V1 {
        return Some(msg);
    }
    match msg {
        ServerMessage::PeerInterrupted { .. } | ServerMessage::PeerResumed { .. } => None,
        ServerMessage::PeerLeft {
            code,
            peer_id,
            reason: LeaveReason::Timeout,
        } => Some(ServerMessage::PeerLeft {
            code,
            peer_id,
            reason: LeaveReason::Disconnected,
        }),
        other => Some(other),
    }
}

/// Whether a message for an interrupted session is kept for its `resume`: relays, and the end
/// of a chat by login. Room events are not: `resumed` carries the room as it is then.
fn kept_for_resume(msg: &ServerMessage) -> bool {
    matches!(
        msg,
        ServerMessage::Offer { .. }
            | ServerMessage::Answer { .. }
            | ServerMessage::IceCandidate { .. }
            | ServerMessage::PeerLeft { code: None, .. }
    )
}

fn send(to: &str, slot: &PeerSlot, msg: &ServerMessage) {
    let text = match serde_json::to_string(msg) {
        Ok(t) => t,
        Err(e) => {
            warn!(peer = to, error = %e, "cannot serialize a server message");
            return;
        }
    };
    match slot.tx.try_send(text) {
        Ok(()) => {}
        Err(crate::queue::TrySendError::Full(_)) => {
            warn!(
                peer = to,
                "outgoing queue full, closing the connection (slow reader)"
            );
            slot.kill.notify_one();
        }
        Err(crate::queue::TrySendError::Closed(_)) => {
            debug!(peer = to, "connection already gone");
        }
    }
}

/// The canonical room code and the checked display name of a `join_room`/`rejoin_room`, or
/// the `error` refusing them (`invalid_name` first, then `invalid_room_code`).
fn name_and_code(name: &str, code: &str, kind: &str) -> Result<(String, String), Refusal> {
    let name = crate::names::validate(name)
        .map_err(|e| Refusal::new(ErrorCode::InvalidName, e.to_string(), Some(kind)))?;
    let code = normalize_room_code(code)
        .map_err(|e| Refusal::new(ErrorCode::InvalidRoomCode, e.to_string(), Some(kind)))?;
    Ok((code, name))
}

fn room_error(e: RoomError, kind: &str) -> ServerMessage {
    match e {
        RoomError::AlreadyInRoom => error(
            ErrorCode::AlreadyInRoom,
            "you are already in a room; leave it first",
            kind,
        ),
        RoomError::NotFound => error(ErrorCode::RoomNotFound, "no room has this code", kind),
        RoomError::Full => error(ErrorCode::RoomFull, "the room is full", kind),
    }
}

fn relay_error(e: RelayError, kind: &str) -> ServerMessage {
    match e {
        RelayError::InvalidTarget => error(
            ErrorCode::InvalidTarget,
            "give exactly one of \"to\" and \"to_login\", naming another peer",
            kind,
        ),
        RelayError::NotLoggedIn => error(
            ErrorCode::NotLoggedIn,
            "log in before addressing a peer by login",
            kind,
        ),
        RelayError::PeerNotFound => error(
            ErrorCode::PeerNotFound,
            "no connected peer has this id or login",
            kind,
        ),
        RelayError::NotAllowed => error(
            ErrorCode::RelayNotAllowed,
            "this peer shares no room with you and has no chat by login with you",
            kind,
        ),
    }
}

/// State shared by the HTTP handlers and every connection task.
#[derive(Debug)]
pub struct Shared {
    hub: Mutex<Hub>,
    /// The configuration the server runs with.
    pub config: ServerConfig,
    /// When the server started (for `uptime_seconds`).
    pub started: Instant,
    /// Becomes `true` when the server shuts down; connection tasks close their sockets.
    pub shutdown: watch::Sender<bool>,
    /// Connection tasks still running.
    pub active: watch::Sender<usize>,
    conns: std::sync::atomic::AtomicU64,
    /// The cap on WebSocket clients (`ServerConfig::max_clients`).
    pub client_slots: crate::limits::clients::ClientSlots,
    /// The token verifier, when authentication is on.
    pub auth: Option<crate::auth::Auth>,
    /// The server's metrics (`/metrics`).
    pub metrics: Arc<crate::metrics::Metrics>,
    /// Where the state lives: this process or the shared log on Redis.
    pub backend: Backend,
}

impl Shared {
    /// Fresh state for `config`, in this process's memory.
    #[cfg(test)]
    pub fn new(config: ServerConfig) -> Self {
        Self::with_backend(config, Backend::Local)
    }

    /// Fresh state for `config` in `backend`.
    pub fn with_backend(config: ServerConfig, backend: Backend) -> Self {
        let client_slots = crate::limits::clients::ClientSlots::new(config.max_clients);
        let auth = config.auth_secret.as_deref().map(crate::auth::Auth::new);
        Self {
            hub: Mutex::new(Hub::new(config.room_capacity)),
            config,
            started: Instant::now(),
            shutdown: watch::Sender::new(false),
            active: watch::Sender::new(0),
            conns: std::sync::atomic::AtomicU64::new(0),
            client_slots,
            auth,
            metrics: crate::metrics::Metrics::new(),
            backend,
        }
    }

    /// Whether the state is shared with other instances (Redis).
    pub fn is_replicated(&self) -> bool {
        matches!(self.backend, Backend::Redis(_))
    }

    /// The instance id connections of this process carry in [`PeerSlot::home`].
    pub fn instance(&self) -> u64 {
        match &self.backend {
            Backend::Local => 0,
            Backend::Redis(log) => log.inst,
        }
    }

    /// Adds a connected peer (see [`Hub::register`]). Returns `false` when the shared log no
    /// longer runs (the connection must close).
    pub async fn register(&self, peer: String, slot: PeerSlot, token: Option<String>) -> bool {
        match &self.backend {
            Backend::Local => {
                self.hub().register(peer, slot, token);
                true
            }
            // Boxed: the connection task's future stays small without Redis.
            Backend::Redis(log) => Box::pin(log.register(peer, slot, token)).await,
        }
    }

    /// Locks the hub. A panic while holding the lock cannot leave the maps half-updated in a
    /// way that matters more than refusing service, so a poisoned lock is used as is.
    pub fn hub(&self) -> MutexGuard<'_, Hub> {
        self.hub.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Handles one message from `peer` and queues every resulting message (with Redis: once
    /// the message came back through the shared log).
    pub async fn handle(&self, peer: &str, msg: ClientMessage) {
        if let Backend::Redis(log) = &self.backend {
            Box::pin(log.message(peer, msg)).await;
            return;
        }
        let mut hub = self.hub();
        let out = hub.handle(peer, msg);
        for (_, m) in &out {
            self.metrics.outgoing(m);
        }
        hub.dispatch(out);
    }

    /// Queues an `error` for `peer` from a refusal.
    pub fn refuse(&self, peer: &str, r: Refusal) {
        let msg = ServerMessage::from(r);
        self.metrics.outgoing(&msg);
        self.hub().send_to(peer, &msg);
    }

    /// Connection `conn` of `peer` ended (see [`Hub::connection_ended`]); arms the grace
    /// timer of a session kept interrupted (with Redis, the log's time does).
    pub async fn connection_ended(self: &Arc<Self>, peer: &str, conn: u64, clean: bool) {
        if let Backend::Redis(log) = &self.backend {
            Box::pin(log.ended(peer, conn, clean)).await;
            return;
        }
        let epoch = {
            let mut hub = self.hub();
            let (epoch, out) = hub.connection_ended(peer, conn, clean);
            hub.dispatch(out);
            epoch
        };
        if let Some(epoch) = epoch {
            let shared = Arc::clone(self);
            let peer = peer.to_string();
            let grace = self.config.session_grace;
            tokio::spawn(async move {
                tokio::time::sleep(grace).await;
                let mut hub = shared.hub();
                let out = hub.expire(&peer, epoch);
                hub.dispatch(out);
            });
        }
    }

    /// `resume` from connection `conn`, registered as `provisional` (see [`Hub::resume`]).
    /// Returns the peer id the connection carries from now on; on refusal, queues the `error`
    /// and returns `None`.
    pub async fn resume(&self, provisional: &str, token: &str, conn: u64) -> Option<String> {
        if let Backend::Redis(log) = &self.backend {
            return Box::pin(log.resume(provisional, token, conn)).await;
        }
        let mut hub = self.hub();
        match hub.resume(provisional, token) {
            Ok((peer, out)) => {
                hub.dispatch(out);
                Some(peer)
            }
            Err(r) => {
                hub.send_to(provisional, &ServerMessage::from(r));
                None
            }
        }
    }

    /// A serial number for a new connection, unique across the instances sharing a Redis
    /// (the instance id's low 32 bits above a per-process counter).
    pub fn next_conn(&self) -> u64 {
        let n = self
            .conns
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        (self.instance() << 32) ^ n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slot_v(n: usize, version: u32, conn: u64) -> (PeerSlot, crate::queue::Receiver) {
        let (tx, rx) = crate::queue::channel(n);
        (
            PeerSlot {
                tx,
                kill: Arc::new(Notify::new()),
                replaced: Arc::new(Notify::new()),
                version,
                conn,
                ip: std::net::Ipv4Addr::LOCALHOST.into(),
                granted_login: None,
                home: 0,
            },
            rx,
        )
    }

    fn slot(n: usize) -> (PeerSlot, crate::queue::Receiver) {
        slot_v(n, PROTOCOL_V1, 0)
    }

    fn drain(rx: &mut crate::queue::Receiver) -> Vec<ServerMessage> {
        std::iter::from_fn(|| rx.try_recv())
            .map(|t| serde_json::from_str(&t).unwrap())
            .collect()
    }

    /// A hub with `a` (version 2, session token "ta") and `b` (version `b_version`) in one
    /// room.
    fn pair(b_version: u32) -> (Hub, crate::queue::Receiver, crate::queue::Receiver, String) {
        let mut hub = Hub::new(2);
        let (sa, mut ra) = slot_v(64, 2, 1);
        let (sb, mut rb) = slot_v(64, b_version, 2);
        hub.register("a".into(), sa, Some("ta".into()));
        let b_token = (b_version > PROTOCOL_V1).then(|| "tb".to_string());
        hub.register("b".into(), sb, b_token);
        let out = hub.handle("a", ClientMessage::CreateRoom { name: "A".into() });
        let ServerMessage::RoomCreated { code, .. } = &out[0].1 else {
            panic!("{out:?}")
        };
        let code = code.clone();
        hub.dispatch(out);
        let out = hub.handle(
            "b",
            ClientMessage::JoinRoom {
                code: code.clone(),
                name: "B".into(),
            },
        );
        hub.dispatch(out);
        drain(&mut ra);
        drain(&mut rb);
        (hub, ra, rb, code)
    }

    #[test]
    fn an_interrupted_session_resumes_with_its_peer_id_room_and_queued_relays() {
        let (mut hub, _ra, mut rb, code) = pair(2);
        let (epoch, out) = hub.connection_ended("a", 1, false);
        assert!(epoch.is_some());
        hub.dispatch(out);
        assert_eq!(
            drain(&mut rb),
            vec![ServerMessage::PeerInterrupted {
                code: Some(code.clone()),
                peer_id: "a".into()
            }]
        );
        // b relays to the interrupted a: kept for the resume.
        let out = hub.handle(
            "b",
            ClientMessage::Offer {
                to: Some("a".into()),
                to_login: None,
                sdp: "v=0".into(),
            },
        );
        hub.dispatch(out);
        assert!(drain(&mut rb).is_empty(), "the relay was refused");
        // A new connection resumes.
        let (sn, mut rn) = slot_v(64, 2, 3);
        hub.register("new".into(), sn, Some("tnew".into()));
        let (peer, out) = hub.resume("new", "ta").unwrap();
        assert_eq!(peer, "a");
        hub.dispatch(out);
        let got = drain(&mut rn);
        assert!(
            matches!(&got[0], ServerMessage::Resumed { peer_id, room: Some(r), .. }
                if peer_id == "a" && r.code == code && r.members.len() == 1 && r.members[0].peer_id == "b"),
            "{got:?}"
        );
        assert!(matches!(&got[1], ServerMessage::Offer { from, .. } if from == "b"));
        assert_eq!(got.len(), 2);
        assert_eq!(
            drain(&mut rb),
            vec![ServerMessage::PeerResumed {
                code: Some(code),
                peer_id: "a".into()
            }]
        );
        // The provisional session is gone: its token resumes nothing.
        assert!(hub.resume("b", "tnew").is_err());
    }

    #[test]
    fn grace_expiry_is_peer_left_timeout_and_a_resumed_session_does_not_expire() {
        let (mut hub, _ra, mut rb, code) = pair(2);
        let (first, _) = hub.connection_ended("a", 1, false);
        let (sn, _rn) = slot_v(64, 2, 3);
        hub.register("n".into(), sn, Some("tn".into()));
        hub.resume("n", "ta").unwrap();
        assert!(hub.expire("a", first.unwrap()).is_empty());
        let (second, out) = hub.connection_ended("a", 3, false);
        hub.dispatch(out);
        drain(&mut rb);
        let out = hub.expire("a", second.unwrap());
        hub.dispatch(out);
        assert_eq!(
            drain(&mut rb),
            vec![ServerMessage::PeerLeft {
                code: Some(code),
                peer_id: "a".into(),
                reason: LeaveReason::Timeout
            }]
        );
        let (sx, _rx) = slot_v(64, 2, 4);
        hub.register("x".into(), sx, Some("tx".into()));
        let err = hub.resume("x", "ta").unwrap_err();
        assert_eq!(err.code, ErrorCode::SessionNotFound);
    }

    #[test]
    fn version_1_room_mates_see_neither_interruption_nor_timeout() {
        let (mut hub, _ra, mut rb, code) = pair(PROTOCOL_V1);
        let (epoch, out) = hub.connection_ended("a", 1, false);
        hub.dispatch(out);
        assert!(drain(&mut rb).is_empty());
        let out = hub.expire("a", epoch.unwrap());
        hub.dispatch(out);
        assert_eq!(
            drain(&mut rb),
            vec![ServerMessage::PeerLeft {
                code: Some(code),
                peer_id: "a".into(),
                reason: LeaveReason::Disconnected
            }]
        );
    }

    #[test]
    fn a_clean_close_or_a_version_1_peer_leaves_at_once() {
        let (mut hub, _ra, mut rb, _) = pair(2);
        let (epoch, out) = hub.connection_ended("b", 2, true);
        assert!(epoch.is_none());
        hub.dispatch(out);
        drop(rb.try_recv());
        let (mut hub, mut ra, _rb, _) = pair(PROTOCOL_V1);
        let (epoch, out) = hub.connection_ended("b", 2, false);
        assert!(epoch.is_none());
        hub.dispatch(out);
        assert!(matches!(
            &drain(&mut ra)[..],
            [ServerMessage::PeerLeft {
                reason: LeaveReason::Disconnected,
                ..
            }]
        ));
    }

    #[test]
    fn relays_beyond_the_resume_queue_are_refused_to_the_sender() {
        let (mut hub, _ra, mut rb, _) = pair(2);
        let (_, out) = hub.connection_ended("a", 1, false);
        hub.dispatch(out);
        drain(&mut rb);
        let candidate = || ClientMessage::IceCandidate {
            to: Some("a".into()),
            to_login: None,
            candidate: peerchat_core::protocol::IceCandidate {
                candidate: "candidate:1 1 udp 1 127.0.0.1 9 typ host".into(),
                sdp_mid: Some("0".into()),
                sdp_m_line_index: Some(0),
                username_fragment: None,
                extra: Default::default(),
            },
        };
        for _ in 0..peerchat_core::protocol::RESUME_QUEUE_LEN {
            let out = hub.handle("b", candidate());
            hub.dispatch(out);
        }
        assert!(drain(&mut rb).is_empty());
        let out = hub.handle("b", candidate());
        hub.dispatch(out);
        assert!(matches!(
            &drain(&mut rb)[..],
            [ServerMessage::Error {
                code: ErrorCode::PeerQueueFull,
                ..
            }]
        ));
    }

    #[test]
    fn resuming_a_live_session_replaces_its_older_connection() {
        let (mut hub, _ra, mut rb, _) = pair(2);
        let old_replaced = hub.peers["a"].replaced.clone();
        let (sn, mut rn) = slot_v(64, 2, 3);
        hub.register("n".into(), sn, Some("tn".into()));
        let (peer, out) = hub.resume("n", "ta").unwrap();
        hub.dispatch(out);
        assert_eq!(peer, "a");
        assert!(matches!(
            &drain(&mut rn)[..],
            [ServerMessage::Resumed { .. }]
        ));
        assert!(
            drain(&mut rb).is_empty(),
            "no one was told of an interruption"
        );
        let notified = old_replaced.notified();
        futures_util::pin_mut!(notified);
        assert!(futures_util::FutureExt::now_or_never(notified).is_some());
        // The replaced connection ending later does not touch the session.
        let (epoch, out) = hub.connection_ended("a", 1, false);
        assert!(epoch.is_none() && out.is_empty());
        assert_eq!(hub.clients(), 2);
    }

    #[test]
    fn rejoin_recreates_a_room_under_its_code_or_joins_it() {
        let mut hub = Hub::new(2);
        let (sa, _ra) = slot_v(8, 2, 1);
        let (sb, _rb) = slot_v(8, 2, 2);
        hub.register("a".into(), sa, Some("ta".into()));
        hub.register("b".into(), sb, Some("tb".into()));
        let rejoin = |name: &str| ClientMessage::RejoinRoom {
            code: "abc-def-ghj".into(),
            name: name.into(),
        };
        let out = hub.handle("a", rejoin("A"));
        assert!(
            matches!(&out[0].1, ServerMessage::RoomJoined { code, members, .. }
            if code == "ABC-DEF-GHJ" && members.is_empty())
        );
        let out = hub.handle("b", rejoin("B"));
        assert!(
            matches!(&out[0].1, ServerMessage::RoomJoined { members, .. }
            if members.len() == 1 && members[0].peer_id == "a")
        );
        assert!(matches!(&out[1], (to, ServerMessage::PeerJoined { .. }) if to == "a"));
    }

    #[test]
    fn full_queue_marks_the_peer_for_closing() {
        let mut hub = Hub::new(2);
        let (s, mut rx) = slot(1);
        let kill = s.kill.clone();
        hub.register("a".into(), s, None);
        hub.send_to("a", &ServerMessage::Pong);
        hub.send_to("a", &ServerMessage::Pong);
        assert_eq!(rx.try_recv().unwrap(), r#"{"type":"pong"}"#);
        assert!(rx.try_recv().is_none());
        // The overflow left a permit: the connection sees it at once.
        let notified = kill.notified();
        futures_util::pin_mut!(notified);
        assert!(
            futures_util::FutureExt::now_or_never(notified).is_some(),
            "kill was not signalled"
        );
    }

    #[test]
    fn bye_needs_a_login_link() {
        let mut hub = Hub::new(2);
        let (sa, _ra) = slot(8);
        let (sb, _rb) = slot(8);
        hub.register("a".into(), sa, None);
        hub.register("b".into(), sb, None);
        let out = hub.handle(
            "a",
            ClientMessage::Bye {
                to: Some("b".into()),
                to_login: None,
            },
        );
        assert!(matches!(
            &out[0].1,
            ServerMessage::Error {
                code: ErrorCode::RelayNotAllowed,
                ..
            }
        ));
    }
}
