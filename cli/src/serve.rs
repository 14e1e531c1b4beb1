//! `peerchat serve`: the signaling server from `peerchat-server`.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use peerchat_server::{Server, ServerConfig};

#[derive(Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "PEERCHAT_BIND", default_value = "127.0.0.1")]
    bind: IpAddr,
    /// Port to listen on (0 picks a free one); the PORT environment variable also sets it.
    #[arg(long, env = "PORT", default_value_t = peerchat_server::config::DEFAULT_PORT)]
    port: u16,
    /// Peers one room holds (2 = one-to-one chat; more = mesh rooms).
    #[arg(long, env = "PEERCHAT_ROOM_CAPACITY", default_value_t = peerchat_core::protocol::DEFAULT_ROOM_CAPACITY)]
    room_capacity: usize,
    /// PEM certificate chain: serve `wss://` and `https://` (needs --tls-key).
    #[arg(
        long,
        env = "PEERCHAT_TLS_CERT",
        value_name = "PEM",
        requires = "tls_key"
    )]
    tls_cert: Option<PathBuf>,
    /// PEM private key of --tls-cert.
    #[arg(
        long,
        env = "PEERCHAT_TLS_KEY",
        value_name = "PEM",
        requires = "tls_cert"
    )]
    tls_key: Option<PathBuf>,
    /// Open TCP connections one IP address (IPv6: one /64) may hold.
    #[arg(long, env = "PEERCHAT_MAX_CONNECTIONS_PER_IP", default_value_t = peerchat_server::config::MAX_CONNECTIONS_PER_IP)]
    max_connections_per_ip: usize,
    /// WebSocket clients at most (lowered to fit the open-file limit).
    #[arg(long, env = "PEERCHAT_MAX_CLIENTS", default_value_t = peerchat_server::config::MAX_CLIENTS)]
    max_clients: usize,
    /// Require HS256 JSON Web Tokens signed with this secret (at least 32 bytes); a token's
    /// `sub` is the only login its connection may claim.
    #[arg(long, env = "PEERCHAT_AUTH_SECRET", hide_env_values = true)]
    auth_secret: Option<String>,
    /// Shared secret of a coturn run with `use-auth-secret` / `static-auth-secret`: `welcome`
    /// then carries time-limited TURN credentials (needs --turn-url).
    #[arg(
        long,
        env = "PEERCHAT_TURN_SECRET",
        hide_env_values = true,
        requires = "turn_urls"
    )]
    turn_secret: Option<String>,
    /// TURN URL handed out with the credentials (repeatable; env: comma-separated).
    #[arg(
        long = "turn-url",
        env = "PEERCHAT_TURN_URLS",
        value_delimiter = ',',
        requires = "turn_secret"
    )]
    turn_urls: Vec<String>,
    /// Lifetime of the TURN credentials, seconds.
    #[arg(long, env = "PEERCHAT_TURN_TTL", default_value_t = peerchat_server::config::TURN_TTL_SECS)]
    turn_ttl: u64,
    /// How long (ms) a client whose connection dropped can resume its session (its peer id,
    /// room seat and login); its room mates see it interrupted meanwhile.
    #[arg(long, env = "PEERCHAT_SESSION_GRACE_MS", default_value_t = peerchat_core::protocol::DEFAULT_SESSION_GRACE_MS)]
    session_grace_ms: u64,
    /// Interval (ms) between the WebSocket pings the server sends each client.
    #[arg(long, env = "PEERCHAT_PING_INTERVAL_MS", default_value_t = peerchat_core::protocol::PING_INTERVAL_MS)]
    ping_interval_ms: u64,
    /// A client from which nothing arrived for this long (ms) is considered gone.
    #[arg(long, env = "PEERCHAT_IDLE_TIMEOUT_MS", default_value_t = peerchat_core::protocol::IDLE_TIMEOUT_MS)]
    idle_timeout_ms: u64,
    /// Share rooms, logins, sessions and limits with every instance given the same Redis
    /// (`redis://HOST:PORT[/DB]`); relays cross instances. Without it, state stays in this
    /// process.
    #[arg(long, env = "PEERCHAT_REDIS_URL", hide_env_values = true)]
    redis_url: Option<String>,
    /// With --redis-url: entries the shared log on Redis keeps (XADD MAXLEN ~).
    #[arg(long, env = "PEERCHAT_REDIS_LOG_LEN", default_value_t = peerchat_server::config::REDIS_LOG_LEN)]
    redis_log_len: usize,
}

/// Binds, prints `listening on ws://ADDR/ws` (the line scripts wait for), serves until SIGINT
/// (Ctrl-C) or SIGTERM (what `kill`, systemd and container runtimes send); either one shuts
/// down gracefully (every client gets close code 1001).
pub async fn run(args: ServeArgs) -> Result<(), String> {
    let mut config = ServerConfig::default()
        .with_bind(SocketAddr::new(args.bind, args.port))
        .with_room_capacity(args.room_capacity)
        .with_connection_caps(args.max_connections_per_ip, args.max_clients)
        .with_session_grace(Duration::from_millis(args.session_grace_ms))
        .with_liveness(
            Duration::from_millis(args.ping_interval_ms),
            Duration::from_millis(args.idle_timeout_ms),
        );
    if let Some(secret) = args.turn_secret {
        config = config.with_turn(secret, args.turn_urls);
    }
    config.turn_ttl = Duration::from_secs(args.turn_ttl);
    if let Some(url) = args.redis_url {
        config = config.with_redis(url);
    }
    config.redis_log_len = args.redis_log_len;
    if let Some(secret) = args.auth_secret {
        config = config.with_auth_secret(secret);
    }
    if let (Some(cert), Some(key)) = (args.tls_cert, args.tls_key) {
        config = config.with_tls(cert, key);
    }
    let server = Server::bind(config).await.map_err(|e| e.to_string())?;
    let addr = server.local_addr();
    let scheme = server.scheme();
    let http = if scheme == "wss" { "https" } else { "http" };
    let stop = stop_signal().map_err(|e| format!("cannot watch for signals: {e}"))?;
    println!("listening on {scheme}://{addr}/ws");
    println!("health at {http}://{addr}/health");
    server.run_until(stop).await.map_err(|e| e.to_string())
}

/// A future that completes on the first SIGINT or SIGTERM. The handlers are installed before
/// this returns, so a signal that arrives once the `listening` line is printed is never lost.
/// Errors: the OS refused to install a signal handler.
fn stop_signal() -> std::io::Result<impl std::future::Future<Output = ()> + Send + 'static> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = signal(SignalKind::terminate())?;
        let mut int = signal(SignalKind::interrupt())?;
        Ok(async move {
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
        })
    }
    #[cfg(not(unix))]
    {
        Ok(async {
            let _ = tokio::signal::ctrl_c().await;
        })
    }
}
