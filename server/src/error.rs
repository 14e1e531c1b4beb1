//! [`ServerError`]: why a server could not start or stopped.

use std::net::SocketAddr;

/// Errors of [`crate::Server::bind`], [`crate::Server::run`] and [`crate::ServerHandle`].
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// A [`crate::ServerConfig`] field is out of range; the text names the field.
    #[error("invalid server configuration: {0}")]
    InvalidConfig(String),
    /// The listening socket could not be bound (address in use, permission denied, ...).
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// The TLS certificate or key could not be read or used; the text names the file.
    #[error("TLS setup failed: {0}")]
    Tls(String),
    /// Accepting or serving connections failed.
    #[error("server I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// Redis (`--redis-url`) could not be reached at start, or its shared log cannot be
    /// replayed (trimmed past its first entry); the text says which.
    #[error("shared state on Redis: {0}")]
    Redis(String),
    /// The server task panicked or was cancelled.
    #[error("server task failed: {0}")]
    Task(String),
}
