//! The `webrtc` crate's tokio runtime with one change to its UDP sockets: while a connection is
//! being set up, the peer connection's driver makes a full pass (`poll_writes → poll_events →
//! poll_reads`) after every datagram it reads, and one more pass after that.
//!
//! Why: the `webrtc` 0.21.1 driver loop runs `poll_writes`, then `poll_events`, then
//! `poll_reads`, then waits in `select!` for a socket, an application call or its next timer.
//! Output the `rtc` core queues while `poll_events` pumps its internal events stays queued until
//! the next wake:
//! - the SCTP INIT, queued when the DTLS client handles `DTLSHandshakeComplete`;
//! - the DCEP `DATA_CHANNEL_OPEN`, queued when the channel's creator handles
//!   `SCTPHandshakeComplete`;
//!
//! and once ICE is connected the next timer is the ICE agent's 200 ms tick. Two such waits
//! made every setup ~550 ms on loopback. A third stall has the same root: the driver drains a
//! burst of datagrams before `poll_events`, so when the peer's DTLS ClientHello arrives right
//! behind the STUN packet that completes ICE (a DTLS-client answerer such as libdatachannel or
//! a browser sends it at once), the core reads it before the ICE-connected event has started
//! our DTLS transport, drops it (`ErrDtlsTransportNotStarted`), and the handshake waits for the
//! peer's 1 s retransmission.
//!
//! No application event marks `SCTPHandshakeComplete`, so an application call that reaches the
//! driver's `wake_writes` cannot be timed for it; the one input the driver always reacts to is
//! its sockets. So [`SetupPacingRuntime`] wraps each UDP socket the driver binds
//! ([`Runtime::wrap_udp_socket`], a public extension point of the crate), and while
//! [`SetupPacing`] is active each real datagram (and each expiry of the driver's timer,
//! [`Runtime::sleep`]) is followed by extra passes of the loop:
//! 1. the next receive reports "nothing ready", which ends the driver's burst drain after this
//!    one datagram, so its events are pumped before the next datagram is read;
//! 2. the receive after that (the driver's `select!`) returns an empty datagram at once, which
//!    the driver ignores (`deliver_udp_batch` skips zero-length datagrams) but which runs the
//!    loop again, so `poll_writes` sends what `poll_events` just queued.
//!
//! Setup is ~20 datagrams, so this costs ~40 loop passes per connection. Once the chat data
//! channel is open the peer turns pacing off ([`SetupPacing::finish`]) and the socket is a plain
//! pass-through, so bulk transfer keeps the driver's burst drain. The upstream report is in
//! `docs/benchmark.md`.

use std::fmt;
use std::future::Future;
use std::io::{self, IoSliceMut};
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use futures_util::task::AtomicWaker;
use webrtc::runtime::{
    AsyncInterval, AsyncTcpListener, AsyncTcpStream, AsyncUdpSocket, JoinHandle, RecvMeta,
    Runtime, Transmit,
};

/// Shared state of one peer connection's sockets and timers: active from creation until
/// [`finish`](Self::finish).
#[derive(Clone, Debug)]
pub(crate) struct SetupPacing(Arc<PacingState>);

#[derive(Debug)]
struct PacingState {
    active: AtomicBool,
    /// One of the `STAGE_*` values, shared by all sockets of the connection: any socket can
    /// give the driver its extra pass.
    stage: AtomicU8,
    /// The driver's waiting receive (registered by its `select!`, never by the burst probe's
    /// no-op waker), woken when the timer asks for an extra pass.
    receiver: AtomicWaker,
}

impl SetupPacing {
    /// Pacing on: a fresh connection is being set up.
    pub(crate) fn new() -> Self {
        Self(Arc::new(PacingState {
            active: AtomicBool::new(true),
            stage: AtomicU8::new(STAGE_IDLE),
            receiver: AtomicWaker::new(),
        }))
    }

    /// Pacing off for good (the data channel is open, or the connection is closing): the
    /// sockets become plain pass-throughs and timers plain timers.
    pub(crate) fn finish(&self) {
        self.0.active.store(false, Ordering::Release);
    }

    fn active(&self) -> bool {
        self.0.active.load(Ordering::Acquire)
    }

    fn stage(&self) -> u8 {
        self.0.stage.load(Ordering::Acquire)
    }

    fn set_stage(&self, stage: u8) {
        self.0.stage.store(stage, Ordering::Release);
    }
}

/// A [`Runtime`] that delegates everything to `inner` (the crate's tokio runtime) and wraps the
/// UDP sockets as described in the module docs.
pub(crate) struct SetupPacingRuntime {
    inner: Arc<dyn Runtime>,
    pacing: SetupPacing,
}

impl fmt::Debug for SetupPacingRuntime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SetupPacingRuntime")
            .field("inner", &self.inner.name())
            .field("pacing", &self.pacing.active())
            .finish()
    }
}

impl SetupPacingRuntime {
    /// Wraps the `webrtc` crate's default runtime (tokio). `None` if the crate was built
    /// without a runtime, which our dependency features rule out.
    pub(crate) fn new(pacing: SetupPacing) -> Option<Self> {
        Some(Self {
            inner: webrtc::runtime::default_runtime()?,
            pacing,
        })
    }
}

impl Runtime for SetupPacingRuntime {
    fn spawn(&self, future: Pin<Box<dyn Future<Output = ()> + Send>>) -> Box<dyn JoinHandle> {
        self.inner.spawn(future)
    }

    // Forwarded explicitly: the default would fall back to `spawn` and lose the crate's
    // dedicated reactor threads (its main throughput optimisation).
    fn spawn_reactor(
        &self,
        reactor_pool_size: usize,
        future: Pin<Box<dyn Future<Output = ()> + Send>>,
    ) -> Box<dyn JoinHandle> {
        self.inner.spawn_reactor(reactor_pool_size, future)
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

    // The driver's timer. When it fires, the driver handles the timeout and runs one pass;
    // output its events queue in that pass (say the ClientHello once an ICE check completes
    // the connection) needs one more, which the sockets give.
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn Future<Output = ()> + Send + 'static>> {
        let timer = self.inner.sleep(duration);
        if !self.pacing.active() {
            return timer;
        }
        let pacing = self.pacing.clone();
        Box::pin(async move {
            timer.await;
            if pacing.active() {
                pacing.set_stage(STAGE_EXTRA_PASS);
                pacing.0.receiver.wake();
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

/// Plain receive.
const STAGE_IDLE: u8 = 0;
/// A real datagram was returned: the next receive reports "nothing ready" (ends the burst).
const STAGE_BREAK: u8 = 1;
/// The burst ended: the next receive returns an empty datagram (one more loop pass).
const STAGE_EXTRA_PASS: u8 = 2;

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
        match self.pacing.stage() {
            STAGE_BREAK => {
                self.pacing.set_stage(STAGE_EXTRA_PASS);
                // The burst probe polls with a no-op waker and simply stops; were this the
                // driver's `select!`, the wake makes it poll again at once (→ extra pass).
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
            STAGE_EXTRA_PASS => {
                self.pacing.set_stage(STAGE_IDLE);
                if let Some(first) = meta.first_mut() {
                    let mut empty = RecvMeta::default();
                    empty.addr = first.addr;
                    empty.len = 0;
                    // The trait asks for a stride of at least 1 on every filled message.
                    empty.stride = 1;
                    *first = empty;
                    return Poll::Ready(Ok(1));
                }
            }
            _ => {}
        }
        let polled = self.inner.poll_recv(cx, bufs, meta);
        if self.pacing.active() {
            match polled {
                Poll::Ready(Ok(n)) if n > 0 => self.pacing.set_stage(STAGE_BREAK),
                Poll::Pending if !cx.waker().will_wake(Waker::noop()) => {
                    self.pacing.0.receiver.register(cx.waker())
                }
                _ => {}
            }
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
