//! The signaling driver: one WebSocket to the server at a time, dialled again with backoff
//! whenever it is lost, and the session resumed on the new one. It moves
//! [`protocol`](crate::protocol) messages both ways and knows nothing of rooms or peers.
//!
//! States (reported as [`SignalingEvent`]s, in this order):
//! ```text
//!  dial ──ok──► welcome ──(token held)──► resume ──resumed──────────► Session(Resumed)
//!   │                 │                      └──session_not_found──► Session(Fresh, lost_previous)
//!   │                 └──(no token yet)─────────────────────────────► Session(Fresh)
//!   └──fails──► Reconnecting { attempt, next_retry_ms } ──sleep──► dial
//!  connected ──lost (close, error, no frame for LIVENESS_TIMEOUT_MS)──► Reconnecting
//! ```
//! App lifecycle ([`crate::lifecycle`]): while the app is paused a lost connection is not
//! dialled again until it resumes; a wake (`resume`, `network_changed`) dials at once when the
//! driver is waiting to, skipping the rest of the backoff, and probes an open connection with a
//! ping that must be answered within [`WAKE_PROBE_TIMEOUT_MS`].
//!
//! Messages the engine sends while no session is ready wait in a backlog of
//! [`SIGNALING_BACKLOG_LEN`] and go out, in order, right after the next `resumed`. When the
//! session could not be resumed they are dropped instead: they were addressed to peer ids of
//! the lost session.

use std::collections::VecDeque;
use std::future::Future;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, WebSocketConfig};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::lifecycle::{self, LifecycleRx};
use crate::protocol::{
    ClientMessage, ErrorCode, MAX_FRAME_BYTES, RoomSnapshot, SUBPROTOCOL_V2, ServerMessage,
};

/// First reconnection delay cap (ms): attempt `n` waits a uniformly random time in
/// `0..=min(RECONNECT_MAX_DELAY_MS, RECONNECT_BASE_DELAY_MS × 2^(n-1))` ("full jitter", as in
/// AWS's backoff study; Socket.IO's client reconnects with a similar 1 s..5 s schedule).
pub const RECONNECT_BASE_DELAY_MS: u64 = 250;

/// Largest reconnection delay (ms), reached from the 6th attempt on.
pub const RECONNECT_MAX_DELAY_MS: u64 = 5_000;

/// Interval (ms) of the WebSocket pings the engine sends, so that the server's pongs keep
/// proving the connection alive.
pub const LIVENESS_PING_INTERVAL_MS: u64 = 5_000;

/// A connection on which no frame at all (message, ping, pong) arrived for this long (ms) is
/// taken for dead and dialled again, without waiting for the kernel's TCP timeout. The server
/// pings every 5 s and the engine every [`LIVENESS_PING_INTERVAL_MS`], so a live connection
/// carries a frame at least every 5 s.
pub const LIVENESS_TIMEOUT_MS: u64 = 15_000;

/// After a wake (`Engine::resume`, `Engine::network_changed`) the open connection is probed
/// with a ping; if no frame at all arrives within this many ms it is taken for dead (a socket
/// the OS closed while the app was suspended, or bound to an address that is gone) and dialled
/// again, instead of waiting for [`LIVENESS_TIMEOUT_MS`]. A live connection on loopback or a
/// phone network answers in well under a second.
pub const WAKE_PROBE_TIMEOUT_MS: u64 = 3_000;

/// Messages the engine may queue while no session is ready. One more is dropped and reported
/// ([`SignalingEvent::Dropped`]).
pub const SIGNALING_BACKLOG_LEN: usize = 256;

/// After the engine re-entered its room on a new session (`rejoin_room`), how long (ms) it
/// waits for the room's members to announce their new peer ids on their open data channels
/// (the `peer_id` chat frame) before it takes an unknown member for a new peer and sends it an
/// SDP offer. Both sides announce right after their new `welcome`, so in practice the frame
/// has arrived before the server's answer; this bound only matters for a member that really
/// is new.
pub const REJOIN_IDENTIFY_MS: u64 = 2_000;

/// How a session became ready on a new connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Session {
    /// A new session from the server's `welcome`. `lost_previous`: an earlier session existed
    /// and could not be resumed (its peer id, room seat and login are gone).
    Fresh {
        peer_id: String,
        lost_previous: bool,
    },
    /// `resumed`: the same session as before, on a new connection.
    Resumed {
        peer_id: String,
        room: Option<RoomSnapshot>,
    },
}

/// What the signaling driver reports to the engine.
#[derive(Debug)]
pub(crate) enum SignalingEvent {
    /// The connection is down (or the first dial failed); the next dial is in
    /// `next_retry_ms`. `attempt` counts the dials since the last session was ready.
    Reconnecting {
        attempt: u32,
        next_retry_ms: u64,
        reason: String,
    },
    /// A session is ready; messages flow.
    Session(Session),
    /// A message from the server.
    Message(ServerMessage),
    /// A message of this `type` was dropped: the backlog was full.
    Dropped(&'static str),
    /// The `welcome` carried TURN servers with time-limited credentials (see
    /// `docs/protocol.md` "TURN credentials"); sent before the `Session` event.
    TurnServers(Vec<crate::protocol::TurnServer>),
}

/// Handle to the running driver: a queue of outgoing messages.
#[derive(Clone)]
pub(crate) struct SignalingClient {
    outgoing: mpsc::UnboundedSender<ClientMessage>,
}

impl SignalingClient {
    /// Spawns the driver for `urls` (at least one; dials go round robin, moving on after each
    /// failed dial or lost connection); each dial may take `connect_timeout`. It runs until every
    /// handle is dropped (then it closes the WebSocket with code 1000, which ends the session
    /// on the server at once).
    ///
    /// For a `wss://` URL the server's certificate must chain to a web root or to one of
    /// `ca_cert_pem`'s certificates (see [`crate::tls`]); `auth_token` goes out as
    /// `Authorization: Bearer` on every dial.
    pub(crate) fn spawn(
        urls: Vec<String>,
        connect_timeout: Duration,
        ca_cert_pem: Option<String>,
        auth_token: Option<String>,
        lifecycle: LifecycleRx,
        events: impl Fn(SignalingEvent) + Send + 'static,
    ) -> (Self, tokio::task::JoinHandle<()>) {
        let (outgoing, rx) = mpsc::unbounded_channel();
        let driver = Driver {
            urls,
            next_url: 0,
            connect_timeout,
            ca_cert_pem,
            auth_token,
            rx,
            events: Box::new(events),
            backlog: VecDeque::new(),
            token: None,
            had_session: false,
            lifecycle,
        };
        (Self { outgoing }, tokio::spawn(driver.run()))
    }

    /// Queues a message; returns `false` when the driver has stopped.
    pub(crate) fn send(&self, message: ClientMessage) -> bool {
        self.outgoing.send(message).is_ok()
    }
}

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// The engine dropped its handle: stop.
struct Stopped;

/// Why a connection ended, and whether a session had been ready on it.
struct Lost {
    reason: String,
    was_ready: bool,
}

struct Driver {
    /// The signaling URLs, dialled round robin.
    urls: Vec<String>,
    /// Index in `urls` of the next dial.
    next_url: usize,
    connect_timeout: Duration,
    ca_cert_pem: Option<String>,
    auth_token: Option<String>,
    rx: mpsc::UnboundedReceiver<ClientMessage>,
    events: Box<dyn Fn(SignalingEvent) + Send>,
    backlog: VecDeque<ClientMessage>,
    token: Option<String>,
    had_session: bool,
    lifecycle: LifecycleRx,
}

/// The delay before dial `attempt` (1-based), with full jitter.
fn backoff_ms(attempt: u32) -> u64 {
    let exp = attempt.saturating_sub(1).min(16);
    let cap = RECONNECT_MAX_DELAY_MS.min(RECONNECT_BASE_DELAY_MS << exp);
    rand::random_range(0..=cap)
}

impl Driver {
    async fn run(mut self) {
        let mut attempt: u32 = 0;
        loop {
            let Ok(lost) = self.connect_once().await else {
                return;
            };
            // After a session was ready, count again from the first attempt.
            attempt = if lost.was_ready { 1 } else { attempt + 1 };
            let reason = lost.reason;
            let next_retry_ms = backoff_ms(attempt);
            (self.events)(SignalingEvent::Reconnecting {
                attempt,
                next_retry_ms,
                reason,
            });
            let wait = wait_to_dial(self.lifecycle.clone(), Duration::from_millis(next_retry_ms));
            if self.collect_while(wait).await.is_err() {
                return;
            }
        }
    }

    /// Dials, sets up the session and serves it until the connection is lost.
    async fn connect_once(&mut self) -> Result<Lost, Stopped> {
        let failed = |reason| Lost {
            reason,
            was_ready: false,
        };
        let timeout_ms = self.connect_timeout.as_millis();
        let Some(url) = self
            .urls
            .get(self.next_url % self.urls.len().max(1))
            .cloned()
        else {
            return Err(Stopped);
        };
        // Whatever happens on this dial, the next one goes to the next URL.
        self.next_url = (self.next_url + 1) % self.urls.len();
        let (ca_cert_pem, auth_token) = (self.ca_cert_pem.clone(), self.auth_token.clone());
        let dial = tokio::time::timeout(
            self.connect_timeout,
            dial(&url, ca_cert_pem.as_deref(), auth_token.as_deref()),
        );
        let mut socket = match self.collect_while(dial).await? {
            Ok(Ok(socket)) => socket,
            Ok(Err(reason)) => return Ok(failed(reason)),
            Err(_) => {
                return Ok(failed(format!(
                    "connecting to {url} took longer than {timeout_ms} ms"
                )));
            }
        };
        // `start_session` borrows the driver, so the backlog cannot be fed meanwhile; it is
        // bounded by the same timeout and what the engine sends waits in the channel.
        let setup = tokio::time::timeout(self.connect_timeout, self.start_session(&mut socket));
        let session = match setup.await {
            Ok(Ok(session)) => session,
            Ok(Err(reason)) => return Ok(failed(reason)),
            Err(_) => {
                return Ok(failed(format!("no welcome within {timeout_ms} ms")));
            }
        };
        self.had_session = true;
        (self.events)(SignalingEvent::Session(session));
        let lost = |reason| Lost {
            reason,
            was_ready: true,
        };
        while let Some(message) = self.backlog.pop_front() {
            if let Err(err) = socket.send(Message::text(to_json(&message))).await {
                self.backlog.push_front(message);
                return Ok(lost(format!("send failed: {err}")));
            }
        }
        self.serve(socket).await.map(lost)
    }

    /// Reads `welcome`, resumes the held session if there is one, and says which session the
    /// connection carries.
    async fn start_session(&mut self, socket: &mut Socket) -> Result<Session, String> {
        let (peer_id, welcome_token) = match next_message(socket).await? {
            ServerMessage::Welcome {
                peer_id,
                session_token,
                ice_servers,
                ..
            } => {
                if !ice_servers.is_empty() {
                    (self.events)(SignalingEvent::TurnServers(ice_servers));
                }
                (peer_id, session_token)
            }
            other => return Err(format!("expected welcome, got {other:?}")),
        };
        if let (Some(token), Some(_)) = (&self.token, &welcome_token) {
            let resume = ClientMessage::Resume {
                session_token: token.clone(),
            };
            socket
                .send(Message::text(to_json(&resume)))
                .await
                .map_err(|e| format!("send failed: {e}"))?;
            match next_message(socket).await? {
                ServerMessage::Resumed { peer_id, room, .. } => {
                    return Ok(Session::Resumed { peer_id, room });
                }
                ServerMessage::Error {
                    code: ErrorCode::SessionNotFound,
                    ..
                } => {}
                other => return Err(format!("expected resumed, got {other:?}")),
            }
        }
        // A new session: what waits was addressed to the lost one.
        let lost_previous = self.had_session;
        if lost_previous {
            self.backlog.clear();
        }
        self.token = welcome_token;
        Ok(Session::Fresh {
            peer_id,
            lost_previous,
        })
    }

    /// Moves messages both ways until the connection is lost (returns why) or the engine
    /// stops (then closes with 1000).
    async fn serve(&mut self, socket: Socket) -> Result<String, Stopped> {
        let local_ip = local_ip(&socket);
        let (mut sink, mut stream) = socket.split();
        let liveness = Duration::from_millis(LIVENESS_TIMEOUT_MS);
        let silence = tokio::time::sleep(liveness);
        tokio::pin!(silence);
        let mut ping = tokio::time::interval_at(
            Instant::now() + Duration::from_millis(LIVENESS_PING_INTERVAL_MS),
            Duration::from_millis(LIVENESS_PING_INTERVAL_MS),
        );
        let mut wakes = self.lifecycle.borrow_and_update().wakes;
        let mut lifecycle_open = true;
        // Set while a wake probe is unanswered: the silence deadline is the probe's.
        let mut probing = false;
        loop {
            tokio::select! {
                // A wake first: a message the engine queued in reaction to the same wake (an
                // ICE restart offer after a network change) must not be written to a
                // connection the wake finds dead — it would be lost instead of kept.
                biased;
                open = lifecycle::changed(&mut self.lifecycle), if lifecycle_open => {
                    lifecycle_open = open;
                    let now_wakes = self.lifecycle.borrow_and_update().wakes;
                    if open && now_wakes != wakes {
                        wakes = now_wakes;
                        // The address this connection was made from is gone (a new network):
                        // nothing can arrive on it any more, so do not wait for the probe.
                        if local_ip.is_some_and(|ip| !address_is_local(ip)) {
                            return Ok("the local address of the connection is gone".into());
                        }
                        // Probe: a live server answers the ping with a pong (any frame will do).
                        match tokio::time::timeout(liveness, sink.send(Message::Ping(Default::default()))).await {
                            Ok(Ok(())) => {}
                            Ok(Err(err)) => return Ok(format!("send failed: {err}")),
                            Err(_) => return Ok(format!("a ping took over {LIVENESS_TIMEOUT_MS} ms to send")),
                        }
                        let probe_deadline = Instant::now() + Duration::from_millis(WAKE_PROBE_TIMEOUT_MS);
                        if probe_deadline < silence.deadline() {
                            silence.as_mut().reset(probe_deadline);
                            probing = true;
                        }
                    }
                }
                next = self.rx.recv() => match next {
                    Some(message) => {
                        // A write that cannot complete within the liveness bound means a dead
                        // path as surely as silence does.
                        let text = Message::text(to_json(&message));
                        match tokio::time::timeout(liveness, sink.send(text)).await {
                            Ok(Ok(())) => {}
                            Ok(Err(err)) => {
                                self.backlog.push_back(message);
                                return Ok(format!("send failed: {err}"));
                            }
                            Err(_) => {
                                self.backlog.push_back(message);
                                return Ok(format!("a send took over {LIVENESS_TIMEOUT_MS} ms"));
                            }
                        }
                    }
                    None => {
                        let close = CloseFrame {
                            code: CloseCode::Normal,
                            reason: "closed by the engine".into(),
                        };
                        let _ = tokio::time::timeout(
                            Duration::from_secs(1),
                            sink.send(Message::Close(Some(close))),
                        )
                        .await;
                        return Err(Stopped);
                    }
                },
                incoming = stream.next() => {
                    silence.as_mut().reset(Instant::now() + liveness);
                    probing = false;
                    match incoming {
                        Some(Ok(Message::Text(text))) => match serde_json::from_str(&text) {
                            Ok(message) => (self.events)(SignalingEvent::Message(message)),
                            Err(err) => tracing::warn!(%err, "ignoring unreadable server message"),
                        },
                        Some(Ok(Message::Close(frame))) => {
                            return Ok(match frame {
                                Some(f) => format!("server closed the connection: {} {}", f.code, f.reason),
                                None => "server closed the connection".to_string(),
                            });
                        }
                        // Pings are answered by tungstenite; binary frames are not part of the protocol.
                        Some(Ok(_)) => {}
                        Some(Err(err)) => return Ok(format!("connection lost: {err}")),
                        None => return Ok("connection lost".to_string()),
                    }
                }
                _ = &mut silence => {
                    if probing {
                        return Ok(format!(
                            "no answer to a wake probe within {WAKE_PROBE_TIMEOUT_MS} ms"
                        ));
                    }
                    return Ok(format!("no frame from the server for {LIVENESS_TIMEOUT_MS} ms"));
                }
                _ = ping.tick() => {
                    match tokio::time::timeout(liveness, sink.send(Message::Ping(Default::default()))).await {
                        Ok(Ok(())) => {}
                        Ok(Err(err)) => return Ok(format!("send failed: {err}")),
                        Err(_) => return Ok(format!("a ping took over {LIVENESS_TIMEOUT_MS} ms to send")),
                    }
                }
            }
        }
    }

    /// Awaits `fut` while keeping what the engine sends in the backlog. Errors: [`Stopped`]
    /// when the engine dropped its handle.
    async fn collect_while<F: Future>(&mut self, fut: F) -> Result<F::Output, Stopped> {
        tokio::pin!(fut);
        loop {
            tokio::select! {
                out = &mut fut => return Ok(out),
                next = self.rx.recv() => match next {
                    None => return Err(Stopped),
                    Some(message) => self.keep(message),
                },
            }
        }
    }

    fn keep(&mut self, message: ClientMessage) {
        if self.backlog.len() >= SIGNALING_BACKLOG_LEN {
            (self.events)(SignalingEvent::Dropped(message.type_name()));
        } else {
            self.backlog.push_back(message);
        }
    }
}

/// The wait before the next dial: `delay`, cut short by a wake (`resume`, `network_changed`)
/// and held while the app is paused (until it resumes). A dropped lifecycle sender (the engine
/// is gone) leaves the plain delay.
async fn wait_to_dial(mut lifecycle: LifecycleRx, delay: Duration) {
    let start = lifecycle.borrow_and_update().wakes;
    let sleep = tokio::time::sleep(delay);
    tokio::pin!(sleep);
    let mut slept = false;
    let mut open = true;
    loop {
        let state = *lifecycle.borrow_and_update();
        if !state.paused && (slept || state.wakes != start) {
            return;
        }
        if slept && !open {
            return;
        }
        tokio::select! {
            _ = &mut sleep, if !slept => slept = true,
            still = lifecycle::changed(&mut lifecycle), if open => open = still,
        }
    }
}

/// The local IP address of the connection's TCP socket.
fn local_ip(socket: &Socket) -> Option<std::net::IpAddr> {
    let tcp = match socket.get_ref() {
        MaybeTlsStream::Plain(tcp) => tcp,
        MaybeTlsStream::Rustls(tls) => tls.get_ref().0,
        _ => return None,
    };
    tcp.local_addr().ok().map(|a| a.ip())
}

/// Whether `ip` is still assigned to an interface of this host: binding a socket to it fails
/// with `EADDRNOTAVAIL` once it was removed (a phone that moved from Wi-Fi to LTE).
fn address_is_local(ip: std::net::IpAddr) -> bool {
    !matches!(
        std::net::UdpSocket::bind((ip, 0)),
        Err(e) if e.kind() == std::io::ErrorKind::AddrNotAvailable
    )
}

async fn dial(
    url: &str,
    ca_cert_pem: Option<&str>,
    auth_token: Option<&str>,
) -> Result<Socket, String> {
    let mut request = crate::tls::request(url, auth_token)
        .map_err(|e| format!("invalid signaling URL {url}: {e}"))?;
    let connector = if url.starts_with("wss://") {
        Some(
            crate::tls::connector(ca_cert_pem)
                .map_err(|e| format!("cannot connect to {url}: {e}"))?,
        )
    } else {
        None
    };
    request.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        HeaderValue::from_static(SUBPROTOCOL_V2),
    );
    let config = WebSocketConfig::default()
        .max_message_size(Some(MAX_FRAME_BYTES))
        .max_frame_size(Some(MAX_FRAME_BYTES));
    tokio_tungstenite::connect_async_tls_with_config(request, Some(config), true, connector)
        .await
        .map(|(socket, _response)| socket)
        .map_err(|e| format!("cannot connect to {url}: {e}"))
}

/// The next protocol message, skipping control frames.
async fn next_message(socket: &mut Socket) -> Result<ServerMessage, String> {
    loop {
        match socket.next().await {
            Some(Ok(Message::Text(text))) => {
                return serde_json::from_str(&text)
                    .map_err(|e| format!("unreadable server message: {e}"));
            }
            Some(Ok(Message::Close(frame))) => {
                return Err(match frame {
                    Some(f) => format!("server closed the connection: {} {}", f.code, f.reason),
                    None => "server closed the connection".to_string(),
                });
            }
            Some(Ok(_)) => {}
            Some(Err(err)) => return Err(format!("connection lost: {err}")),
            None => return Err("connection lost".to_string()),
        }
    }
}

fn to_json(message: &ClientMessage) -> String {
    serde_json::to_string(message).expect("messages serialize")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_to_its_cap_with_full_jitter() {
        for attempt in 1..=20 {
            let cap = RECONNECT_MAX_DELAY_MS.min(RECONNECT_BASE_DELAY_MS << (attempt - 1).min(16));
            for _ in 0..50 {
                assert!(backoff_ms(attempt) <= cap);
            }
        }
        assert!(
            (0..200)
                .map(|_| backoff_ms(30))
                .any(|d| d > RECONNECT_BASE_DELAY_MS)
        );
        assert!((0..200).all(|_| backoff_ms(1) <= RECONNECT_BASE_DELAY_MS));
    }
}
