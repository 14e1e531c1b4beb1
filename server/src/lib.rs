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

mod auth;
mod backend;
pub mod config;
mod connection;
mod error;
mod http;
mod hub;
mod limits;
mod listener;
mod logins;
// The hub hook lands after merge10 (server/src/hub.rs); until then only its tests use it.
#[cfg_attr(not(test), allow(dead_code))]
mod matchmaking;
pub mod metrics;
mod names;
mod parse;
mod queue;
mod ratelimit;
mod redis_log;
mod relay;
mod relay_limits;
mod rooms;
mod sessions;
mod tls;
mod turn_credentials;
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
    tls: Option<tls::Acceptor>,
}

impl Server {
    /// Checks `config` and binds its address. Nothing is served until [`Server::run`],
    /// [`Server::run_until`] or [`Server::spawn`].
    ///
    /// Also raises the process's open-file limit (`RLIMIT_NOFILE`) to its hard limit and fits
    /// the connection caps under it (see [`config::FD_RESERVE`]).
    ///
    /// With [`ServerConfig::redis_url`], also connects to Redis and replays the shared log
    /// before it returns (see `docs/architecture.md`).
    ///
    /// Errors: [`ServerError::InvalidConfig`] (see [`ServerConfig::validate`]),
    /// [`ServerError::Redis`] when Redis cannot be reached or its log cannot be replayed,
    /// [`ServerError::Tls`] when the TLS certificate or key cannot be loaded,
    /// [`ServerError::Bind`] when the address cannot be bound.
    pub async fn bind(mut config: ServerConfig) -> Result<Server, ServerError> {
        config.validate()?;
        let tls = match (&config.tls_cert, &config.tls_key) {
            (Some(cert), Some(key)) => Some(tls::acceptor(cert, key)?),
            _ => None,
        };
        if let Some(nofile) = limits::nofile::raise() {
            let nofile = usize::try_from(nofile).unwrap_or(usize::MAX);
            let fit = nofile.saturating_sub(config::FD_RESERVE).max(1);
            if config.max_clients > fit {
                config.max_clients = fit;
            }
        }
        let listener =
            TcpListener::bind(config.bind)
                .await
                .map_err(|source| ServerError::Bind {
                    addr: config.bind,
                    source,
                })?;
        let local_addr = listener.local_addr()?;
        let shared = match config.redis_url.clone() {
            None => Arc::new(Shared::with_backend(config, backend::Backend::Local)),
            Some(url) => {
                let log = Arc::new(redis_log::RedisLog::connect(&url, config.redis_log_len).await?);
                let shared = Arc::new(Shared::with_backend(
                    config,
                    backend::Backend::Redis(log.clone()),
                ));
                log.start(shared.clone()).await?;
                shared
            }
        };
        Ok(Server {
            listener,
            local_addr,
            shared,
            tls,
        })
    }

    /// The address actually bound (with the real port when the config asked for port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// `ws` or `wss`: the scheme of this server's WebSocket URL.
    pub fn scheme(&self) -> &'static str {
        if self.tls.is_some() { "wss" } else { "ws" }
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
            tls,
        } = self;
        info!(%local_addr, "signaling server listening (WebSocket at {WS_PATH})");
        let app = http::router(shared.clone());
        let stopping = shared.clone();
        let nofile = limits::nofile::raise()
            .map_or(usize::MAX, |n| usize::try_from(n).unwrap_or(usize::MAX));
        let total = nofile.saturating_sub(config::FD_RESERVE / 2).max(1);
        let listener = listener::PeerListener::new(
            listener,
            listener::ListenerSettings {
                tls: tls.map(|t| t.0),
                cap: limits::ip_cap::IpCap::new(shared.config.max_connections_per_ip, total),
                upgrade_timeout: shared.config.upgrade_timeout,
                metrics: shared.metrics.clone(),
            },
        )?;
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<listener::ConnInfo>(),
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
        let scheme = self.scheme();
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(self.run_until(async move {
            let _ = rx.await;
        }));
        ServerHandle {
            local_addr,
            scheme,
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
    scheme: &'static str,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<Result<(), ServerError>>,
}

impl ServerHandle {
    /// The address the server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The WebSocket URL clients connect to, `ws://<addr>/ws` (`wss://` with TLS).
    pub fn ws_url(&self) -> String {
        format!("{}://{}{WS_PATH}", self.scheme, self.local_addr)
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
