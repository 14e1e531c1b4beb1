//! The HTTP side: the [`Router`] serving `/ws` (WebSocket upgrade) and `GET /health`.

use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use peerchat_core::protocol::{MAX_FRAME_BYTES, PROTOCOL_V1, PROTOCOL_VERSION, SUBPROTOCOL_V2};
use serde::Serialize;
use tracing::warn;

use crate::auth::bearer;
use crate::config::{FRAME_HARD_LIMIT_BYTES, READ_BUFFER_BYTES, WRITE_BUFFER_BYTES};
use crate::connection;
use crate::hub::Shared;
use crate::limits::log_limit::LogLimit;
use crate::listener::ConnInfo;

static FULL_LOG: LogLimit = LogLimit::new(Duration::from_secs(10));

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
        .route(HEALTH_PATH, get(health))
        .route(crate::metrics::METRICS_PATH, get(crate::metrics::handler));
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
    ConnectInfo(info): ConnectInfo<ConnInfo>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let granted_login = match &shared.auth {
        None => None,
        Some(auth) => match bearer(&headers, &uri).map(|t| auth.verify(&t)) {
            Some(Ok(login)) => Some(login),
            Some(Err(why)) => return unauthorized(&format!("invalid token: {why}")),
            None => return unauthorized("this server requires a bearer token"),
        },
    };
    // At the client cap, refuse the upgrade; plain HTTP (`/health`) is still served.
    let Some(slot) = shared.client_slots.try_take() else {
        shared.metrics.limit_hit("client_cap");
        if let Some(suppressed) = FULL_LOG.allow() {
            warn!(suppressed, "WebSocket refused: client cap reached");
        }
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::RETRY_AFTER, "5")],
            "server full: too many clients\n",
        )
            .into_response();
    };
    let remote = info.remote;
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
        // Counted as fragments arrive: an unfinished fragmented message can never hold more
        // than MAX_FRAME_BYTES of this connection's memory.
        .max_message_size(MAX_FRAME_BYTES)
        .on_failed_upgrade(|e| warn!(error = %e, "WebSocket upgrade failed"))
        .on_upgrade(move |socket| {
            info.mark_upgraded();
            shared.metrics.accepted();
            async move {
                let _slot = slot;
                connection::run(socket, shared, remote, version, granted_login).await;
            }
        })
}

/// `401 Unauthorized` with `WWW-Authenticate: Bearer` (RFC 6750 §3).
fn unauthorized(why: &str) -> Response {
    (
        StatusCode::UNAUTHORIZED,
        [(header::WWW_AUTHENTICATE, "Bearer error=\"invalid_token\"")],
        format!("{why}\n"),
    )
        .into_response()
}
