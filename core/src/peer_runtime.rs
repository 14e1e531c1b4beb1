//! The `webrtc` crate's tokio runtime with one change: while a connection is being set up,
//! the peer connection's driver runs one extra pass of its loop, including `handle_timeout`,
//! after every datagram it reads and after every timer expiry.
//!
//! Why: the `webrtc` 0.21.1 driver loop runs `poll_writes`, then `poll_events`, then
//! `poll_reads`, then waits in `select!` for a socket, an application call or its next timer.
//! Output the `rtc` core produces while `poll_events` pumps its internal events is not sent
//! until something wakes the loop again:
//! - the DTLS ClientHello: the DTLS handler calls `connect` on the ICE
//!   selected-pair event, but moves the endpoint's datagrams to its write queue only in
//!   `handle_timeout`;
//! - the SCTP INIT, queued when the DTLS client handles `DTLSHandshakeComplete`;
//! - the DCEP `DATA_CHANNEL_OPEN`, queued when the channel's creator handles
//!   `SCTPHandshakeComplete`.
//!
//! Once ICE is connected the next wake is the ICE agent's 200 ms tick: ~550 ms per setup on
//! loopback. A related stall: the driver drains a burst of datagrams before `poll_events`, so a
//! DTLS ClientHello arriving right behind the STUN packet that completes ICE (a DTLS-client
//! answerer such as libdatachannel or a browser sends it at once) can be read before the
//! ICE-connected event has been pumped, and the peer then retransmits after 1 s.
//!
//! No application event marks these moments (nothing reports `SCTPHandshakeComplete`), so an
//! application call that reaches the driver's `wake_writes` cannot be timed for them; but the
//! driver takes its sockets and its timer from the [`Runtime`] it is built with (a public
//! extension point of the crate). [`SetupPacingRuntime`] delegates everything to the crate's
//! tokio runtime, and while [`SetupPacing`] is active:
//! 1. after a datagram is read, the driver's non-blocking burst probe is told "nothing ready",
//!    so the loop pumps the events of each datagram before reading the next;
//! 2. the next timer the driver asks for ([`Runtime::sleep`]) is already expired, so the loop
//!    runs `handle_timeout` and another pass, which sends what the previous pass queued. A
//!    real timer expiry asks for one such extra pass too; an extra pass never asks for another,
//!    so the loop cannot spin.
//!
//! `handle_timeout` before a deadline is harmless: every `rtc` handler compares its deadlines
//! with `now`. Setup is ~20 datagrams, so this costs ~20 extra passes per connection. Once the
//! chat data channel is open the peer turns pacing off ([`SetupPacing::finish`]): the sockets
//! and timers are then the crate's own, and bulk transfer keeps the driver's burst drain. The
//! upstream reports are in `docs/benchmark.md`.

use std::fmt;
use std::future::Future;
use std::io::{self, IoSliceMut};
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use webrtc::runtime::{
    AsyncInterval, AsyncTcpListener, AsyncTcpStream, AsyncUdpSocket, JoinHandle, RecvMeta, Runtime,
    Transmit,
};

/// Shared state of one peer connection's sockets and timer: active from creation until
/// [`finish`](Self::finish).
#[derive(Clone, Debug)]
pub(crate) struct SetupPacing(Arc<PacingState>);

#[derive(Debug)]
struct PacingState {
    active: AtomicBool,
    /// The driver read a datagram or its timer fired: its next timer is to expire at once.
    extra_pass: AtomicBool,
}

impl SetupPacing {
    /// Pacing on: a fresh connection is being set up.
    pub(crate) fn new() -> Self {
        Self(Arc::new(PacingState {
            active: AtomicBool::new(true),
            extra_pass: AtomicBool::new(false),
        }))
    }

    /// Pacing off for good (the data channel is open, or the connection is closing): the
    /// sockets and timers behave as the crate's own.
    pub(crate) fn finish(&self) {
        self.0.active.store(false, Ordering::Release);
    }

    fn active(&self) -> bool {
        self.0.active.load(Ordering::Acquire)
    }

    fn request_extra_pass(&self) {
        self.0.extra_pass.store(true, Ordering::Release);
    }

    fn extra_pass_requested(&self) -> bool {
        self.0.extra_pass.load(Ordering::Acquire)
    }

    fn take_extra_pass(&self) -> bool {
        self.0.extra_pass.swap(false, Ordering::AcqRel)
    }
}

/// A [`Runtime`] that delegates everything to the `webrtc` crate's default runtime (tokio)
/// and paces the driver during setup, as described in the module docs.
pub(crate) struct SetupPacingRuntime {
    inner: Arc<dyn Runtime>,
    pacing: SetupPacing,
    /// Called when the first task the crate spawns, the peer connection's driver, ends.
    driver_stopped: std::sync::Mutex<Option<DriverStopped>>,
}

type DriverStopped = Box<dyn FnOnce() + Send>;

impl fmt::Debug for SetupPacingRuntime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SetupPacingRuntime")
            .field("inner", &self.inner.name())
            .field("pacing", &self.pacing.active())
            .finish()
    }
}

impl SetupPacingRuntime {
    /// Wraps the `webrtc` crate's default runtime. `None` if the crate was built without a
    /// runtime, which our dependency features rule out.
    pub(crate) fn new(pacing: SetupPacing) -> Option<Self> {
        Some(Self {
            inner: webrtc::runtime::default_runtime()?,
            pacing,
            driver_stopped: std::sync::Mutex::new(None),
        })
    }

    /// Calls `stopped` when the peer connection's driver task ends, for whatever reason (a
    /// `close`, or an error exit the crate reports to no handler, like the `rtc-dtls` stall in
    /// `docs/architecture.md`, "Upstream reports"). The driver is the first task the `webrtc`
    /// crate spawns on a connection's runtime; the only other one (a TCP ICE transport's
    /// acceptor) needs TCP candidates, which we never configure.
    pub(crate) fn on_driver_stopped(self, stopped: impl FnOnce() + Send + 'static) -> Self {
        *self
            .driver_stopped
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = Some(Box::new(stopped));
        self
    }

    fn watch(
        &self,
        future: Pin<Box<dyn Future<Output = ()> + Send>>,
    ) -> Pin<Box<dyn Future<Output = ()> + Send>> {
        match self
            .driver_stopped
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
        {
            Some(stopped) => Box::pin(async move {
                future.await;
                stopped();
            }),
            None => future,
        }
    }
}

impl Runtime for SetupPacingRuntime {
    fn spawn(&self, future: Pin<Box<dyn Future<Output = ()> + Send>>) -> Box<dyn JoinHandle> {
        self.inner.spawn(self.watch(future))
    }

    // Forwarded explicitly: the default would fall back to `spawn` and lose the crate's
    // dedicated reactor threads (its main throughput optimisation).
    fn spawn_reactor(
        &self,
        reactor_pool_size: usize,
        future: Pin<Box<dyn Future<Output = ()> + Send>>,
    ) -> Box<dyn JoinHandle> {
        self.inner
            .spawn_reactor(reactor_pool_size, self.watch(future))
    }

    fn wrap_udp_socket(&self, socket: std::net::UdpSocket) -> io::Result<Arc<dyn AsyncUdpSocket>> {
        Ok(Arc::new(PacedUdpSocket {
            inner: self.inner.wrap_udp_socket(socket)?,
            pacing: self.pacing.clone(),
        }))
    }

    fn wrap_tcp_listener(
        &self,
        listener: std::net::TcpListener,
    ) -> io::Result<Arc<dyn AsyncTcpListener>> {
        self.inner.wrap_tcp_listener(listener)
    }

    fn connect_tcp<'a>(
        &'a self,
        remote_addr: SocketAddr,
    ) -> Pin<Box<dyn Future<Output = io::Result<Arc<dyn AsyncTcpStream>>> + Send + 'a>> {
        self.inner.connect_tcp(remote_addr)
    }

    fn resolve_host<'a>(
        &'a self,
        host: &'a str,
    ) -> Pin<Box<dyn Future<Output = io::Result<Vec<SocketAddr>>> + Send + 'a>> {
        self.inner.resolve_host(host)
    }

    fn now(&self) -> Instant {
        self.inner.now()
    }

    /// The driver asks for one timer per loop pass. During setup: already expired when an
    /// extra pass is due, and a real expiry asks for the next extra pass.
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn Future<Output = ()> + Send + 'static>> {
        if !self.pacing.active() {
            return self.inner.sleep(duration);
        }
        if self.pacing.take_extra_pass() {
            return Box::pin(std::future::ready(()));
        }
        let timer = self.inner.sleep(duration);
        let pacing = self.pacing.clone();
        Box::pin(async move {
            timer.await;
            if pacing.active() {
                pacing.request_extra_pass();
            }
        })
    }

    fn interval(&self, period: Duration) -> Box<dyn AsyncInterval> {
        self.inner.interval(period)
    }

    fn block_on(&self, future: Pin<Box<dyn Future<Output = ()> + '_>>) {
        self.inner.block_on(future)
    }

    fn yield_now(&self) -> Pin<Box<dyn Future<Output = ()> + Send + 'static>> {
        self.inner.yield_now()
    }

    fn name(&self) -> &'static str {
        "peerchat-setup-pacing"
    }
}

struct PacedUdpSocket {
    inner: Arc<dyn AsyncUdpSocket>,
    pacing: SetupPacing,
}

impl fmt::Debug for PacedUdpSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PacedUdpSocket")
            .field("inner", &self.inner)
            .finish()
    }
}

impl AsyncUdpSocket for PacedUdpSocket {
    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.local_addr()
    }

    fn poll_send(&self, cx: &mut Context<'_>, transmit: &Transmit<'_>) -> Poll<io::Result<usize>> {
        self.inner.poll_send(cx, transmit)
    }

    fn poll_recv(
        &self,
        cx: &mut Context<'_>,
        bufs: &mut [IoSliceMut<'_>],
        meta: &mut [RecvMeta],
    ) -> Poll<io::Result<usize>> {
        if !self.pacing.active() {
            return self.inner.poll_recv(cx, bufs, meta);
        }
        // The driver's burst probe polls with a no-op waker and stops at the first "nothing
        // ready": end the burst so the loop pumps this datagram's events first. The datagram
        // stays in the socket; the driver's `select!` (a real waker) reads it next.
        if self.pacing.extra_pass_requested() && cx.waker().will_wake(Waker::noop()) {
            return Poll::Pending;
        }
        let polled = self.inner.poll_recv(cx, bufs, meta);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.pacing.request_extra_pass();
        }
        polled
    }

    fn max_gso_segments(&self) -> usize {
        self.inner.max_gso_segments()
    }

    fn max_gro_segments(&self) -> usize {
        self.inner.max_gro_segments()
    }
}
