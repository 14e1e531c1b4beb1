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
    ClientMessage, ErrorCode, LeaveReason, PeerInfo, ServerMessage, normalize_room_code,
};
use tokio::sync::{Notify, mpsc, watch};
use tracing::{debug, warn};

use crate::config::ServerConfig;
use crate::logins::{LoginError, Logins};
use crate::parse::{Refusal, type_name};
use crate::relay::{Links, RelayError, Route, resolve};
use crate::relay_limits::{RELAY_QUEUE_RESERVE, Refused, RelayLimits};
use crate::rooms::{RoomError, Rooms};

/// What the hub keeps for each connected peer: how to reach its connection task.
#[derive(Debug, Clone)]
pub struct PeerSlot {
    /// The connection's bounded outgoing queue of serialized JSON messages.
    pub tx: mpsc::Sender<String>,
    /// Signalled when the queue overflowed: the connection must close.
    pub kill: Arc<Notify>,
    /// The client's IP address (for the per-IP room-code guessing limit).
    pub ip: std::net::IpAddr,
    /// With authentication on: the login the connection's token grants (its `sub`).
    pub granted_login: Option<String>,
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
    relay_limits: RelayLimits,
    guesses: crate::limits::guess::GuessLimits,
    room_capacity: usize,
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

    /// Adds a connected peer.
    pub fn register(&mut self, peer: String, slot: PeerSlot) {
        self.peers.insert(peer, slot);
    }

    /// Removes a peer whose connection ended: its room members and login partners get
    /// `peer_left` with reason `disconnected`; its login is released; an emptied room is
    /// deleted.
    pub fn unregister(&mut self, peer: &str) -> Vec<Delivery> {
        let mut out = Vec::new();
        self.peers.remove(peer);
        self.relay_limits.forget(peer);
        if let Some(d) = self.rooms.leave(peer) {
            for other in d.remaining {
                out.push((
                    other,
                    ServerMessage::PeerLeft {
                        code: Some(d.code.clone()),
                        peer_id: peer.to_string(),
                        reason: LeaveReason::Disconnected,
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
                    reason: LeaveReason::Disconnected,
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
                match self.rooms.create(peer, &name, self.room_capacity) {
                    Ok(code) => me(ServerMessage::RoomCreated {
                        code,
                        capacity: self.room_capacity,
                    }),
                    Err(e) => me(room_error(e, kind)),
                }
            }
            ClientMessage::JoinRoom { code, name } => {
                let name = match crate::names::validate(&name) {
                    Ok(n) => n,
                    Err(e) => return me(error(ErrorCode::InvalidName, e.to_string(), kind)),
                };
                let code = match normalize_room_code(&code) {
                    Ok(c) => c,
                    Err(e) => return me(error(ErrorCode::InvalidRoomCode, e.to_string(), kind)),
                };
                let ip = self.peers.get(peer).map(|s| s.ip);
                if let Some(ip) = ip
                    && !self.guesses.may_try(ip)
                {
                    return me(error(
                        ErrorCode::RateLimited,
                        "too many wrong room codes; wait a minute before trying again",
                        kind,
                    ));
                }
                match self.rooms.join(&code, peer, &name) {
                    Ok((capacity, members)) => {
                        let newcomer = PeerInfo {
                            peer_id: peer.to_string(),
                            name,
                        };
                        let mut out = Vec::with_capacity(members.len() + 1);
                        let others: Vec<String> =
                            members.iter().map(|m| m.peer_id.clone()).collect();
                        out.push((
                            peer.to_string(),
                            ServerMessage::RoomJoined {
                                code: code.clone(),
                                capacity,
                                members,
                            },
                        ));
                        for other in others {
                            out.push((
                                other,
                                ServerMessage::PeerJoined {
                                    code: code.clone(),
                                    peer: newcomer.clone(),
                                },
                            ));
                        }
                        out
                    }
                    Err(e) => {
                        if let (Some(ip), RoomError::NotFound | RoomError::Full) = (ip, e) {
                            self.guesses.failed(ip);
                        }
                        me(room_error(e, kind))
                    }
                }
            }
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
                    return me(refusal);
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
            |p| self.peers.contains_key(p),
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
            return vec![(peer.to_string(), refusal)];
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

    /// Whether a relay from `peer` to `to` may go out now (see `relay_limits`): the pair and
    /// target token buckets, then the target's queue share. Errors: the `error` to send back.
    fn admit(&mut self, peer: &str, to: &str, kind: &str) -> Result<(), ServerMessage> {
        match self.relay_limits.admit(peer, to) {
            Ok(()) => {}
            Err(Refused::Pair) => {
                return Err(error(
                    ErrorCode::RateLimited,
                    "too many messages to this peer; this one was dropped",
                    kind,
                ));
            }
            Err(Refused::Target) => {
                return Err(error(
                    ErrorCode::TargetBusy,
                    "this peer receives too many messages right now; this one was dropped",
                    kind,
                ));
            }
        }
        if let Some(slot) = self.peers.get(to) {
            let reserve = RELAY_QUEUE_RESERVE.min(slot.tx.max_capacity() / 4);
            if slot.tx.capacity() <= reserve {
                return Err(error(
                    ErrorCode::TargetBusy,
                    "this peer's queue is full (it reads slower than it is sent to); \
                     this one was dropped",
                    kind,
                ));
            }
        }
        Ok(())
    }

    /// Queues each delivery on its target's queue. A target whose queue is full is told to
    /// close (slow reader); a target that is gone is skipped.
    pub fn dispatch(&self, deliveries: Vec<Delivery>) {
        for (to, msg) in deliveries {
            let Some(slot) = self.peers.get(&to) else {
                continue;
            };
            send(&to, slot, &msg);
        }
    }

    /// Queues one message for `peer` (see [`Hub::dispatch`]).
    pub fn send_to(&self, peer: &str, msg: &ServerMessage) {
        if let Some(slot) = self.peers.get(peer) {
            send(peer, slot, msg);
        }
    }
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
        Err(mpsc::error::TrySendError::Full(_)) => {
            warn!(
                peer = to,
                "outgoing queue full, closing the connection (slow reader)"
            );
            slot.kill.notify_one();
        }
        Err(mpsc::error::TrySendError::Closed(_)) => {
            debug!(peer = to, "connection already gone");
        }
    }
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
    /// The cap on WebSocket clients (`ServerConfig::max_clients`).
    pub client_slots: crate::limits::clients::ClientSlots,
    /// The token verifier, when authentication is on.
    pub auth: Option<crate::auth::Auth>,
    /// The server's metrics (`/metrics`).
    pub metrics: Arc<crate::metrics::Metrics>,
}

impl Shared {
    /// Fresh state for `config`.
    pub fn new(config: ServerConfig) -> Self {
        let client_slots = crate::limits::clients::ClientSlots::new(config.max_clients);
        let auth = config.auth_secret.as_deref().map(crate::auth::Auth::new);
        Self {
            hub: Mutex::new(Hub::new(config.room_capacity)),
            config,
            started: Instant::now(),
            shutdown: watch::Sender::new(false),
            active: watch::Sender::new(0),
            client_slots,
            auth,
            metrics: crate::metrics::Metrics::new(),
        }
    }

    /// Locks the hub. A panic while holding the lock cannot leave the maps half-updated in a
    /// way that matters more than refusing service, so a poisoned lock is used as is.
    pub fn hub(&self) -> MutexGuard<'_, Hub> {
        self.hub.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Handles one message from `peer` and queues every resulting message.
    pub fn handle(&self, peer: &str, msg: ClientMessage) {
        let mut hub = self.hub();
        let out = hub.handle(peer, msg);
        for (_, m) in &out {
            self.metrics.outgoing(m);
        }
        hub.dispatch(out);
    }

    /// Queues an `error` for `peer` from a refusal.
    pub fn refuse(&self, peer: &str, r: Refusal) {
        let msg = ServerMessage::Error {
            code: r.code,
            message: r.message,
            request: r.request,
        };
        self.metrics.outgoing(&msg);
        self.hub().send_to(peer, &msg);
    }

    /// Removes `peer` and tells the peers concerned.
    pub fn unregister(&self, peer: &str) {
        let mut hub = self.hub();
        let out = hub.unregister(peer);
        hub.dispatch(out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slot(n: usize) -> (PeerSlot, mpsc::Receiver<String>) {
        let (tx, rx) = mpsc::channel(n);
        (
            PeerSlot {
                tx,
                kill: Arc::new(Notify::new()),
                ip: std::net::Ipv4Addr::LOCALHOST.into(),
                granted_login: None,
            },
            rx,
        )
    }

    #[test]
    fn full_queue_marks_the_peer_for_closing() {
        let mut hub = Hub::new(2);
        let (s, mut rx) = slot(1);
        let kill = s.kill.clone();
        hub.register("a".into(), s);
        hub.send_to("a", &ServerMessage::Pong);
        hub.send_to("a", &ServerMessage::Pong);
        assert_eq!(rx.try_recv().unwrap(), r#"{"type":"pong"}"#);
        assert!(rx.try_recv().is_err());
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
        hub.register("a".into(), sa);
        hub.register("b".into(), sb);
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
