//! `peerchat serve`: the signaling server from `peerchat-server`.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use clap::Args;
use peerchat_server::{Server, ServerConfig};

#[derive(Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    bind: IpAddr,
    /// Port to listen on (0 picks a free one); the PORT environment variable also sets it.
    #[arg(long, env = "PORT", default_value_t = peerchat_server::config::DEFAULT_PORT)]
    port: u16,
    /// Peers one room holds (2 = one-to-one chat; more = mesh rooms).
    #[arg(long, default_value_t = peerchat_core::protocol::DEFAULT_ROOM_CAPACITY)]
    room_capacity: usize,
    /// How long (ms) a client whose connection dropped can resume its session (its peer id,
    /// room seat and login); its room mates see it interrupted meanwhile.
    #[arg(long, env = "PEERCHAT_SESSION_GRACE_MS", default_value_t = peerchat_core::protocol::DEFAULT_SESSION_GRACE_MS)]
    session_grace_ms: u64,
    /// Interval (ms) between the WebSocket pings the server sends each client.
    #[arg(long, default_value_t = peerchat_core::protocol::PING_INTERVAL_MS)]
    ping_interval_ms: u64,
    /// A client from which nothing arrived for this long (ms) is considered gone.
    #[arg(long, default_value_t = peerchat_core::protocol::IDLE_TIMEOUT_MS)]
    idle_timeout_ms: u64,
}

/// Binds, prints `listening on ws://ADDR/ws` (the line scripts wait for), serves until Ctrl-C.
pub async fn run(args: ServeArgs) -> Result<(), String> {
    let config = ServerConfig::default()
        .with_bind(SocketAddr::new(args.bind, args.port))
        .with_room_capacity(args.room_capacity)
        .with_session_grace(Duration::from_millis(args.session_grace_ms))
        .with_liveness(
            Duration::from_millis(args.ping_interval_ms),
            Duration::from_millis(args.idle_timeout_ms),
        );
    let server = Server::bind(config).await.map_err(|e| e.to_string())?;
    let addr = server.local_addr();
    println!("listening on ws://{addr}/ws");
    println!("health at http://{addr}/health");
    server
        .run_until(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .map_err(|e| e.to_string())
}
