//! One task per WebSocket: welcome, read loop, outgoing queue, pings, idle timeout, close.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, close_code};
use peerchat_core::protocol::{
    CLOSE_SESSION_RESUMED_ELSEWHERE, ClientMessage, ErrorCode, Limits, MAX_FRAME_BYTES,
    MAX_NAME_CHARS, PROTOCOL_V1, ServerMessage,
};
use tokio::sync::Notify;
use tokio::time::{Instant, MissedTickBehavior, interval_at, sleep_until, timeout};
use tracing::{debug, info, warn};

use crate::config::{CLOSE_TIMEOUT_MS, PING_FRAMES_BURST, PING_FRAMES_PER_SEC};
use crate::hub::{PeerSlot, Shared};
use crate::parse::{Refusal, parse, peek_type};
use crate::ratelimit::TokenBucket;
use crate::sessions::new_session_token;

/// A fresh peer id: 128 random bits (UUID v4 from the OS's CSPRNG), as 32 hex digits.
pub fn new_peer_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// Why a connection ended.
#[derive(Debug, Clone, Copy)]
enum End {
    /// The client sent a close frame (tungstenite queued the reply), with this close code.
    ClientClosed(Option<u16>),
    /// Another connection resumed this one's session.
    Replaced,
    /// Nothing received for the idle timeout.
    Idle,
    /// The outgoing queue overflowed its reserve, or a write stayed blocked for the
    /// write-stall timeout: the client does not read.
    SlowReader,
    /// Ping control frames over [`PING_FRAMES_PER_SEC`] / [`PING_FRAMES_BURST`].
    PingFlood,
    /// A message over `MAX_FRAME_BYTES`.
    TooBig,
    /// The server is shutting down.
    Shutdown,
    /// The TCP connection failed or ended (no close handshake left to do).
    Gone,
}

impl End {
    /// Whether the session ends with the connection: the client closed with code 1000 (or
    /// none), the server shuts down, or the client broke the frame limit. Any other end keeps
    /// a version 2 session interrupted for its grace period.
    fn is_clean(self) -> bool {
        match self {
            End::ClientClosed(code) => code.is_none_or(|c| c == close_code::NORMAL),
            End::Shutdown | End::TooBig | End::PingFlood => true,
            End::Idle | End::SlowReader | End::Gone | End::Replaced => false,
        }
    }
}

/// Closes the socket as `end` requires: completes the client's close handshake, or sends our
/// close frame with its code and reason, waiting at most [`CLOSE_TIMEOUT_MS`] either way.
async fn finish(socket: &mut WebSocket, end: End) {
    let (code, reason) = match end {
        End::Gone => return,
        End::ClientClosed(_) => {
            // Reading flushes tungstenite's queued close reply and ends the handshake.
            let _ = timeout(Duration::from_millis(CLOSE_TIMEOUT_MS), async {
                while let Some(Ok(_)) = socket.recv().await {}
            })
            .await;
            return;
        }
        End::Idle => (
            close_code::AWAY,
            "idle timeout: no frame or pong received".to_string(),
        ),
        End::SlowReader => (
            close_code::POLICY,
            "outgoing queue full: client reads too slowly".to_string(),
        ),
        End::TooBig => (
            close_code::SIZE,
            format!("message larger than {MAX_FRAME_BYTES} bytes"),
        ),
        End::Shutdown => (close_code::AWAY, "server shutting down".to_string()),
        End::PingFlood => (
            close_code::POLICY,
            format!(
                "too many ping frames (more than {PING_FRAMES_BURST} at once or \
                 {PING_FRAMES_PER_SEC}/s)"
            ),
        ),
        End::Replaced => (
            CLOSE_SESSION_RESUMED_ELSEWHERE,
            "session resumed on another connection".to_string(),
        ),
    };
    close(socket, code, &reason).await;
}

/// Decrements the count of running connection tasks when dropped.
struct ActiveGuard(Arc<Shared>);

impl ActiveGuard {
    fn new(shared: Arc<Shared>) -> Self {
        shared.active.send_modify(|n| *n += 1);
        Self(shared)
    }
}

impl Drop for ActiveGuard {
    fn drop(&mut self) {
        self.0.active.send_modify(|n| *n -= 1);
    }
}

/// Serves one upgraded WebSocket speaking protocol `version` until it closes. Then a version 1
/// peer, or a session that ended cleanly, is removed from every room, login and link (the
/// others get `peer_left` `disconnected`); any other version 2 session is kept interrupted for
/// its grace period (the others get `peer_interrupted`).
///
/// `granted_login`: with authentication on, the login the client's token grants.
pub async fn run(
    mut socket: WebSocket,
    shared: Arc<Shared>,
    remote: SocketAddr,
    version: u32,
    granted_login: Option<String>,
) {
    let _active = ActiveGuard::new(shared.clone());
    let config = shared.config.clone();
    let mut peer_id = new_peer_id();
    let conn = shared.next_conn();
    let session_token = if version > PROTOCOL_V1 {
        let Some(token) = new_session_token() else {
            warn!("the OS gave no random bytes for a session token");
            return;
        };
        Some(token)
    } else {
        None
    };
    let (tx, mut rx) = crate::queue::channel(config.outgoing_queue);
    let kill = Arc::new(Notify::new());
    let replaced = Arc::new(Notify::new());
    let welcome = ServerMessage::Welcome {
        peer_id: peer_id.clone(),
        protocol_version: version,
        server_version: env!("CARGO_PKG_VERSION").to_string(),
        limits: Limits {
            max_frame_bytes: MAX_FRAME_BYTES,
            max_name_chars: MAX_NAME_CHARS,
            room_capacity: config.room_capacity,
            rate_limit_per_sec: config.rate_limit_per_sec,
            ping_interval_ms: millis(config.ping_interval),
            idle_timeout_ms: millis(config.idle_timeout),
            session_grace_ms: session_token.as_ref().map(|_| millis(config.session_grace)),
        },
        session_token: session_token.clone(),
        ice_servers: crate::turn_credentials::for_peer(&config, &peer_id),
    };
    // The welcome goes first: nobody can address this peer before knowing its id.
    match serde_json::to_string(&welcome) {
        Ok(text) => {
            if tx.try_send(text).is_err() {
                return;
            }
        }
        Err(e) => {
            warn!(error = %e, "cannot serialize welcome");
            return;
        }
    }
    let registered = shared
        .register(
            peer_id.clone(),
            PeerSlot {
                tx,
                kill: kill.clone(),
                replaced: replaced.clone(),
                version,
                conn,
                ip: remote.ip(),
                granted_login,
                home: shared.instance(),
            },
            session_token,
        )
        .await;
    if !registered {
        warn!("the shared state no longer runs; connection refused");
        return;
    }
    info!(peer = %peer_id, %remote, version, "client connected");

    let end = serve(
        &mut socket,
        &shared,
        &mut peer_id,
        &mut rx,
        &kill,
        &replaced,
        conn,
    )
    .await;
    match end {
        End::SlowReader => shared.metrics.limit_hit("slow_reader"),
        End::PingFlood => shared.metrics.limit_hit("ping_flood"),
        End::TooBig => shared.metrics.limit_hit("too_big"),
        _ => {}
    }
    // Tell the others first, then spend up to CLOSE_TIMEOUT_MS closing this socket.
    if !matches!(end, End::Replaced) {
        // With instances sharing Redis, a shutting-down instance leaves its sessions
        // interrupted: the clients resume them on another instance.
        let clean = end.is_clean() && !(matches!(end, End::Shutdown) && shared.is_replicated());
        shared.connection_ended(&peer_id, conn, clean).await;
    }
    info!(peer = %peer_id, %remote, reason = ?end, "client disconnected");
    finish(&mut socket, end).await;
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// The read/write loop. Returns why it ended; [`finish`] then closes the socket.
async fn serve(
    socket: &mut WebSocket,
    shared: &Shared,
    peer_id: &mut String,
    rx: &mut crate::queue::Receiver,
    kill: &Notify,
    replaced: &Notify,
    conn: u64,
) -> End {
    let config = &shared.config;
    let mut shutdown = shared.shutdown.subscribe();
    let mut bucket = TokenBucket::new(config.rate_limit_per_sec, config.rate_limit_burst);
    let mut pings = TokenBucket::new(PING_FRAMES_PER_SEC, PING_FRAMES_BURST);
    let mut ping = interval_at(Instant::now() + config.ping_interval, config.ping_interval);
    ping.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let idle = sleep_until(Instant::now() + config.idle_timeout);
    tokio::pin!(idle);
    let mut first = true;

    loop {
        // Whatever we write, a dead or non-reading client must not hold us past the idle
        // deadline, nor past a kill or a shutdown.
        let outgoing: Option<Message> = tokio::select! {
            biased;
            _ = kill.notified() => {
                return End::SlowReader;
            }
            _ = replaced.notified() => {
                return End::Replaced;
            }
            _ = shutting_down(&mut shutdown) => {
                return End::Shutdown;
            }
            _ = &mut idle => {
                debug!(peer = %peer_id, "idle timeout");
                return End::Idle;
            }
            Some(text) = rx.recv() => Some(Message::Text(Utf8Bytes::from(text))),
            _ = ping.tick() => Some(Message::Ping(Default::default())),
            frame = socket.recv() => {
                match frame {
                    None => return End::Gone,
                    Some(Err(e)) => {
                        if is_too_big(e) {
                            return End::TooBig;
                        }
                        return End::Gone;
                    }
                    Some(Ok(msg)) => {
                        idle.as_mut().reset(Instant::now() + config.idle_timeout);
                        match msg {
                            Message::Text(text) => {
                                if text.len() > MAX_FRAME_BYTES {
                                    return End::TooBig;
                                }
                                let was_first = std::mem::replace(&mut first, false);
                                on_text(shared, peer_id, conn, was_first, &mut bucket, text.as_str())
                                    .await;
                            }
                            Message::Binary(data) => {
                                if data.len() > MAX_FRAME_BYTES {
                                    return End::TooBig;
                                }
                                let r = if bucket.try_take() {
                                    Refusal::new(
                                        ErrorCode::BinaryNotSupported,
                                        "binary frames are not supported; send JSON in text frames",
                                        None,
                                    )
                                } else {
                                    rate_limited(None)
                                };
                                shared.refuse(peer_id, r);
                            }
                            Message::Close(frame) => {
                                return End::ClientClosed(frame.map(|f| f.code));
                            }
                            Message::Ping(_) => {
                                // tungstenite queues a pong for each: bound that work.
                                if !pings.try_take() {
                                    return End::PingFlood;
                                }
                            }
                            Message::Pong(_) => {}
                        }
                        None
                    }
                }
            }
        };
        if let Some(msg) = outgoing {
            let written = tokio::select! {
                biased;
                _ = kill.notified() => {
                    return End::SlowReader;
                }
                _ = &mut idle => {
                    debug!(peer = %peer_id, "idle timeout while writing");
                    return End::Idle;
                }
                _ = tokio::time::sleep(config.write_stall_timeout) => {
                    debug!(peer = %peer_id, "write blocked for the write-stall timeout");
                    return End::SlowReader;
                }
                r = socket.send(msg) => r,
            };
            if written.is_err() {
                return End::Gone;
            }
        }
    }
}

/// Completes once the server starts shutting down.
async fn shutting_down(rx: &mut tokio::sync::watch::Receiver<bool>) {
    // An error means the server state is gone: shut down too.
    let _ = rx.wait_for(|s| *s).await;
}

/// Handles one text frame. `resume` as the `first` frame of a version 2 connection makes the
/// connection carry the resumed session's `peer_id` from then on.
async fn on_text(
    shared: &Shared,
    peer_id: &mut String,
    conn: u64,
    first: bool,
    bucket: &mut TokenBucket,
    text: &str,
) {
    if !bucket.try_take() {
        shared.refuse(peer_id, rate_limited(peek_type(text)));
        return;
    }
    match parse(text) {
        Ok(ClientMessage::Resume { session_token }) if first => {
            if let Some(resumed) = shared.resume(peer_id, &session_token, conn).await {
                *peer_id = resumed;
            }
        }
        Ok(msg) => {
            let relay = matches!(
                msg,
                ClientMessage::Offer { .. }
                    | ClientMessage::Answer { .. }
                    | ClientMessage::IceCandidate { .. }
            );
            let started = std::time::Instant::now();
            shared.handle(peer_id, msg).await;
            if relay {
                shared.metrics.relay_time(started.elapsed().as_secs_f64());
            }
        }
        Err(r) => shared.refuse(peer_id, r),
    }
}

fn rate_limited(request: Option<String>) -> Refusal {
    Refusal {
        code: ErrorCode::RateLimited,
        message: "too many messages; this one was dropped".into(),
        request,
    }
}

/// Whether a read error is tungstenite refusing a frame or message over its size limit.
fn is_too_big(e: axum::Error) -> bool {
    matches!(
        e.into_inner()
            .downcast_ref::<tokio_tungstenite::tungstenite::Error>(),
        Some(tokio_tungstenite::tungstenite::Error::Capacity(_))
    )
}

/// Sends a close frame and waits (at most [`CLOSE_TIMEOUT_MS`]) for the client's reply, so the
/// close reaches the client before the TCP connection goes.
async fn close(socket: &mut WebSocket, code: u16, reason: &str) {
    let frame = CloseFrame {
        code,
        reason: Utf8Bytes::from(reason.to_string()),
    };
    let _ = timeout(Duration::from_millis(CLOSE_TIMEOUT_MS), async {
        if socket.send(Message::Close(Some(frame))).await.is_ok() {
            while let Some(Ok(_)) = socket.recv().await {}
        }
    })
    .await;
}
