//! The accept side of the server: what happens to a TCP connection before axum sees it.
//!
//! For each accepted connection, in order: `TCP_NODELAY` is set (signaling messages are small
//! and latency-bound); the per-IP and total caps ([`IpCap`]) are checked, and a connection
//! over a cap is closed at once; the TLS handshake runs when TLS is on (in its own task, so a
//! slow handshake never holds up the accept loop). The resulting [`Conn`] carries a
//! **deadline**: until its WebSocket upgrade completes, every read and write fails with
//! `TimedOut` once `upgrade_timeout` has passed since the TCP accept. That bounds the TLS
//! handshake, the reading of the HTTP request headers and the upgrade together, so silent or
//! byte-a-second connections cannot pile up; plain HTTP connections (`/health`, the web
//! client) live at most that long too.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::extract::connect_info::Connected;
use axum::serve::IncomingStream;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::time::{Instant, Sleep, sleep_until, timeout_at};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;
use tracing::{debug, warn};

use crate::limits::ip_cap::{CapError, IpCap, IpGuard};
use crate::limits::log_limit::LogLimit;

static CAP_LOG: LogLimit = LogLimit::new(Duration::from_secs(10));
static ACCEPT_ERROR_LOG: LogLimit = LogLimit::new(Duration::from_secs(10));

/// Connections handed from the accept task to axum that may wait at once.
const HANDOFF_QUEUE: usize = 64;

/// Pause (ms) after an accept error such as EMFILE before accepting again.
const ACCEPT_ERROR_BACKOFF_MS: u64 = 50;

enum Io {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
}

/// One accepted connection (plain or TLS), with its place in the IP caps and its pre-upgrade
/// deadline.
pub struct Conn {
    io: Io,
    _cap: IpGuard,
    deadline: Option<Pin<Box<Sleep>>>,
    upgraded: Arc<AtomicBool>,
}

impl Conn {
    fn check_deadline(&mut self, cx: &mut Context<'_>) -> io::Result<()> {
        if let Some(d) = self.deadline.as_mut() {
            if self.upgraded.load(Ordering::Relaxed) {
                self.deadline = None;
            } else if d.as_mut().poll(cx).is_ready() {
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "no WebSocket upgrade before the deadline",
                ));
            }
        }
        Ok(())
    }
}

use std::future::Future;

impl AsyncRead for Conn {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if let Err(e) = this.check_deadline(cx) {
            return Poll::Ready(Err(e));
        }
        match &mut this.io {
            Io::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Io::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Conn {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if let Err(e) = this.check_deadline(cx) {
            return Poll::Ready(Err(e));
        }
        match &mut this.io {
            Io::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Io::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match &mut self.get_mut().io {
            Io::Plain(s) => Pin::new(s).poll_flush(cx),
            Io::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match &mut self.get_mut().io {
            Io::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Io::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

/// What a request handler learns about its connection (axum `ConnectInfo<ConnInfo>`).
#[derive(Debug, Clone)]
pub struct ConnInfo {
    /// The client's address.
    pub remote: SocketAddr,
    upgraded: Arc<AtomicBool>,
}

impl ConnInfo {
    /// Lifts the pre-upgrade deadline: call once the WebSocket upgrade is done.
    pub fn mark_upgraded(&self) {
        self.upgraded.store(true, Ordering::Relaxed);
    }
}

impl Connected<IncomingStream<'_, PeerListener>> for ConnInfo {
    fn connect_info(stream: IncomingStream<'_, PeerListener>) -> Self {
        ConnInfo {
            remote: *stream.remote_addr(),
            upgraded: stream.io().upgraded.clone(),
        }
    }
}

/// Settings of a [`PeerListener`].
pub struct ListenerSettings {
    /// TLS acceptor, when the server serves `wss://`.
    pub tls: Option<TlsAcceptor>,
    /// The connection caps.
    pub cap: Arc<IpCap>,
    /// Time from TCP accept to completed WebSocket upgrade.
    pub upgrade_timeout: Duration,
    /// Where cap hits are counted.
    pub metrics: Arc<crate::metrics::Metrics>,
}

/// An axum [`Listener`](axum::serve::Listener) over a TCP listener (see the module docs).
pub struct PeerListener {
    rx: mpsc::Receiver<(Conn, SocketAddr)>,
    local_addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for PeerListener {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl PeerListener {
    /// Starts accepting on `tcp`.
    pub fn new(tcp: TcpListener, settings: ListenerSettings) -> io::Result<Self> {
        let local_addr = tcp.local_addr()?;
        let (tx, rx) = mpsc::channel(HANDOFF_QUEUE);
        let task = tokio::spawn(accept_loop(tcp, settings, tx));
        Ok(Self {
            rx,
            local_addr,
            task,
        })
    }
}

async fn accept_loop(
    tcp: TcpListener,
    settings: ListenerSettings,
    tx: mpsc::Sender<(Conn, SocketAddr)>,
) {
    loop {
        let (stream, remote) = match tcp.accept().await {
            Ok(x) => x,
            Err(e) => {
                if let Some(suppressed) = ACCEPT_ERROR_LOG.allow() {
                    warn!(error = %e, suppressed, "accept failed");
                }
                // EMFILE and friends: give connections a moment to close.
                tokio::time::sleep(Duration::from_millis(ACCEPT_ERROR_BACKOFF_MS)).await;
                continue;
            }
        };
        let deadline = Instant::now() + settings.upgrade_timeout;
        if let Err(e) = stream.set_nodelay(true) {
            debug!(error = %e, "cannot set TCP_NODELAY");
        }
        let guard = match settings.cap.try_acquire(remote.ip()) {
            Ok(g) => g,
            Err(e) => {
                settings.metrics.limit_hit(match e {
                    CapError::PerIp => "per_ip_cap",
                    CapError::Total => "total_cap",
                });
                if let Some(suppressed) = CAP_LOG.allow() {
                    let which = match e {
                        CapError::PerIp => "per-IP",
                        CapError::Total => "total",
                    };
                    warn!(%remote, suppressed, "connection refused: {which} connection cap reached");
                }
                drop(stream);
                continue;
            }
        };
        let tls = settings.tls.clone();
        let tx = tx.clone();
        tokio::spawn(async move {
            let io = match tls {
                None => Io::Plain(stream),
                Some(acceptor) => match timeout_at(deadline, acceptor.accept(stream)).await {
                    Ok(Ok(s)) => Io::Tls(Box::new(s)),
                    Ok(Err(e)) => {
                        debug!(%remote, error = %e, "TLS handshake failed");
                        return;
                    }
                    Err(_) => {
                        debug!(%remote, "TLS handshake timed out");
                        return;
                    }
                },
            };
            let conn = Conn {
                io,
                _cap: guard,
                deadline: Some(Box::pin(sleep_until(deadline))),
                upgraded: Arc::new(AtomicBool::new(false)),
            };
            let _ = tx.send((conn, remote)).await;
        });
    }
}

impl axum::serve::Listener for PeerListener {
    type Io = Conn;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Conn, SocketAddr) {
        match self.rx.recv().await {
            Some(c) => c,
            // The accept task ended (it only does when aborted): accept nothing more.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        Ok(self.local_addr)
    }
}
