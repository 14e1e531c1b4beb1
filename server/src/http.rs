//! The HTTP side: the [`Router`] serving `/ws` (WebSocket upgrade) and `GET /health`.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{ConnectInfo, State};
use axum::response::Response;
use axum::routing::get;
use peerchat_core::protocol::{MAX_FRAME_BYTES, PROTOCOL_V1, PROTOCOL_VERSION, SUBPROTOCOL_V2};
use serde::Serialize;
use tracing::warn;

use crate::config::{FRAME_HARD_LIMIT_BYTES, READ_BUFFER_BYTES, WRITE_BUFFER_BYTES};
use crate::connection;
use crate::hub::Shared;

/// Path of the WebSocket signaling endpoint.
pub const WS_PATH: &str = "/ws";

/// Path of the health check.
pub const HEALTH_PATH: &str = "/health";

/// Body of `GET /health` (`application/json`).
#[derive(Debug, Clone, Serialize)]
pub struct Health {
    /// Always `"ok"` while the server answers.
    pub status: &'static str,
    /// The server's crate version.
    pub version: &'static str,
    /// Signaling protocol version (`PROTOCOL_VERSION`).
    pub protocol_version: u32,
    /// Whole seconds since the server started.
    pub uptime_seconds: u64,
    /// WebSocket clients connected now.
    pub connected_clients: usize,
    /// Rooms open now.
    pub open_rooms: usize,
    /// Logins held now.
    pub logins: usize,
    /// Sessions interrupted now, waiting for a `resume` within their grace period.
    pub interrupted_sessions: usize,
}

const _: () = assert!(FRAME_HARD_LIMIT_BYTES > MAX_FRAME_BYTES);

/// Builds the router of one server.
pub fn router(shared: Arc<Shared>) -> Router {
    let router = Router::new()
        .route(WS_PATH, get(ws_upgrade))
        .route(HEALTH_PATH, get(health));
    // ---------------------------------------------------------------------------------------
    // WEB CLIENT: the static single-page web client is merged here by the `web` module, e.g.
    //     let router = router.merge(crate::web::routes());
    // serving `/` (and its assets). Keep `/ws` and `/health` above unchanged.
    // ---------------------------------------------------------------------------------------
    let router = router.merge(crate::web::routes());
    router.with_state(shared)
}

async fn health(State(shared): State<Arc<Shared>>) -> Json<Health> {
    let (connected_clients, open_rooms, logins, interrupted_sessions) = {
        let hub = shared.hub();
        (
            hub.clients(),
            hub.rooms(),
            hub.logins(),
            hub.interrupted_sessions(),
        )
    };
    Json(Health {
        status: "ok",
        version: env!("CARGO_PKG_VERSION"),
        protocol_version: PROTOCOL_VERSION,
        uptime_seconds: shared.started.elapsed().as_secs(),
        connected_clients,
        open_rooms,
        logins,
        interrupted_sessions,
    })
}

async fn ws_upgrade(
    ws: WebSocketUpgrade,
    State(shared): State<Arc<Shared>>,
    ConnectInfo(remote): ConnectInfo<SocketAddr>,
) -> Response {
    // Messages between MAX_FRAME_BYTES and the hard limit are read whole and refused by the
    // connection with close code 1009 after a clean close handshake; above the hard limit
    // tungstenite stops reading the frame and the connection gets 1009 on a best-effort basis.
    // A client offering the subprotocol `peerchat.v2` speaks version 2 (sessions); one that
    // offers none speaks version 1.
    let ws = ws.protocols([SUBPROTOCOL_V2]);
    let version = if ws.selected_protocol().is_some() {
        PROTOCOL_VERSION
    } else {
        PROTOCOL_V1
    };
    ws.read_buffer_size(READ_BUFFER_BYTES)
        .write_buffer_size(WRITE_BUFFER_BYTES)
        .max_frame_size(FRAME_HARD_LIMIT_BYTES)
        .max_message_size(FRAME_HARD_LIMIT_BYTES)
        .on_failed_upgrade(|e| warn!(error = %e, "WebSocket upgrade failed"))
        .on_upgrade(move |socket| connection::run(socket, shared, remote, version))
}
