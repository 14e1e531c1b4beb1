//! # peerchat-server
//!
//! The peerchat signaling server: rooms with short codes, unique logins, and the relay of SDP
//! offers/answers and trickle ICE candidates between peers. It never sees chat messages: those
//! go peer to peer over WebRTC data channels.
//!
//! One TCP port serves:
//! - `GET /ws`: the WebSocket signaling endpoint (JSON text frames, the messages of
//!   [`peerchat_core::protocol`]; `docs/protocol.md` describes them all);
//! - `GET /health`: a JSON [`Health`] report.
//!
//! ```no_run
//! use peerchat_server::{Server, ServerConfig};
//!
//! # async fn run() -> Result<(), peerchat_server::ServerError> {
//! let server = Server::bind(ServerConfig::default().with_port(0)).await?;
//! println!("signaling on ws://{}/ws", server.local_addr());
//! let handle = server.spawn();
//! // ... later:
//! handle.shutdown().await?;
//! # Ok(()) }
//! ```
//!
//! Modules: [`config`] (settings and server-side limits), `rooms` (room codes, membership),
//! `logins` (unique logins), `relay` (who may send to whom), `hub` (state and dispatch),
//! `connection` (one task per socket), `http` (router), `parse` (frame → message),
//! `ratelimit` (token bucket).

pub mod config;
mod connection;
mod error;
mod http;
mod hub;
mod logins;
mod parse;
mod ratelimit;
mod relay;
mod rooms;
mod sessions;
pub mod web;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tracing::{info, warn};

pub use config::ServerConfig;
pub use error::ServerError;
pub use http::{HEALTH_PATH, Health, WS_PATH};
pub use rooms::generate_code as generate_room_code;

use config::CLOSE_TIMEOUT_MS;
use hub::Shared;

/// A signaling server bound to its port, not yet serving.
#[derive(Debug)]
pub struct Server {
    listener: TcpListener,
    local_addr: SocketAddr,
    shared: Arc<Shared>,
}

impl Server {
    /// Checks `config` and binds its address. Nothing is served until [`Server::run`],
    /// [`Server::run_until`] or [`Server::spawn`].
    ///
    /// Errors: [`ServerError::InvalidConfig`] (see [`ServerConfig::validate`]),
    /// [`ServerError::Bind`] when the address cannot be bound.
    pub async fn bind(config: ServerConfig) -> Result<Server, ServerError> {
        config.validate()?;
        let listener =
            TcpListener::bind(config.bind)
                .await
                .map_err(|source| ServerError::Bind {
                    addr: config.bind,
                    source,
                })?;
        let local_addr = listener.local_addr()?;
        Ok(Server {
            listener,
            local_addr,
            shared: Arc::new(Shared::new(config)),
        })
    }

    /// The address actually bound (with the real port when the config asked for port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The configuration in force.
    pub fn config(&self) -> &ServerConfig {
        &self.shared.config
    }

    /// Serves until the process ends. Errors: [`ServerError::Io`] if serving fails.
    pub async fn run(self) -> Result<(), ServerError> {
        self.run_until(std::future::pending::<()>()).await
    }

    /// Serves until `signal` completes (e.g. `tokio::signal::ctrl_c()`), then shuts down
    /// gracefully: stops accepting, sends every client a close frame (code 1001, "server
    /// shutting down") and waits up to about a second for the connections to end.
    /// Errors: [`ServerError::Io`] if serving fails.
    pub async fn run_until<F>(self, signal: F) -> Result<(), ServerError>
    where
        F: Future + Send + 'static,
    {
        let Server {
            listener,
            local_addr,
            shared,
        } = self;
        info!(%local_addr, "signaling server listening (WebSocket at {WS_PATH})");
        let app = http::router(shared.clone());
        let stopping = shared.clone();
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async move {
            signal.await;
            info!("signaling server shutting down");
            stopping.shutdown.send_replace(true);
        })
        .await?;
        // Upgraded WebSockets are not tracked by axum; wait for our own tasks.
        let mut active = shared.active.subscribe();
        let drained = tokio::time::timeout(
            Duration::from_millis(2 * CLOSE_TIMEOUT_MS),
            active.wait_for(|n| *n == 0),
        )
        .await;
        if drained.is_err() {
            warn!(
                remaining = *shared.active.borrow(),
                "connections still open after shutdown timeout"
            );
        }
        Ok(())
    }

    /// Runs the server on a Tokio task; the returned handle stops it.
    pub fn spawn(self) -> ServerHandle {
        let local_addr = self.local_addr;
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(self.run_until(async move {
            let _ = rx.await;
        }));
        ServerHandle {
            local_addr,
            stop: Some(tx),
            task,
        }
    }
}

/// A server running on a Tokio task (from [`Server::spawn`]). Dropping the handle without
/// [`ServerHandle::shutdown`] also stops the server (gracefully, in the background).
#[derive(Debug)]
pub struct ServerHandle {
    local_addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<Result<(), ServerError>>,
}

impl ServerHandle {
    /// The address the server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The WebSocket URL clients connect to, `ws://<addr>/ws`.
    pub fn ws_url(&self) -> String {
        format!("ws://{}{WS_PATH}", self.local_addr)
    }

    /// Stops the server gracefully (see [`Server::run_until`]) and waits for it.
    /// Errors: what the server task returned, or [`ServerError::Task`] if it panicked.
    pub async fn shutdown(mut self) -> Result<(), ServerError> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        (&mut self.task)
            .await
            .map_err(|e| ServerError::Task(e.to_string()))?
    }
}
