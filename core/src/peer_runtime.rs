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
//! 3. until ICE is connected, a DTLS record (first byte 20–63, RFC 7983) that arrives is kept
//!    (at most [`EARLY_DTLS_MAX_DATAGRAMS`]) and handed to the driver once ICE reports
//!    connected, instead of being read now and dropped by the `rtc` ICE handler ("drop message
//!    … before ICE connection is connected"). A controlled peer such as libdatachannel may start
//!    DTLS as soon as its own connectivity check succeeded, before our (controlling) agent has
//!    nominated the pair on its next check tick; without this its ClientHello was lost and the
//!    handshake waited for its retransmission (up to 1 s).
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
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
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

/// Most DTLS datagrams kept while ICE is not connected yet (one flight of a DTLS client: a
/// ClientHello, possibly retransmitted); later ones are read and dropped as the crate does.
pub(crate) const EARLY_DTLS_MAX_DATAGRAMS: usize = 4;

#[derive(Debug)]
struct PacingState {
    active: AtomicBool,
    /// The driver read a datagram or its timer fired: its next timer is to expire at once.
    extra_pass: AtomicBool,
    /// ICE reported connected: early DTLS records may now be handed to the driver.
    ice_connected: AtomicBool,
    early: Mutex<EarlyDtls>,
}

/// DTLS datagrams that arrived before ICE was connected, and the driver's receive waker.
#[derive(Debug, Default)]
struct EarlyDtls {
    datagrams: std::collections::VecDeque<(Vec<u8>, RecvMeta)>,
    waker: Option<Waker>,
}

impl SetupPacing {
    /// Pacing on: a fresh connection is being set up.
    pub(crate) fn new() -> Self {
        Self(Arc::new(PacingState {
            active: AtomicBool::new(true),
            extra_pass: AtomicBool::new(false),
            ice_connected: AtomicBool::new(false),
            early: Mutex::new(EarlyDtls::default()),
        }))
    }

    /// ICE is connected (`RTCIceConnectionState::Connected`): DTLS records kept meanwhile are
    /// handed to the driver now (its receive future is woken).
    pub(crate) fn ice_connected(&self) {
        self.0.ice_connected.store(true, Ordering::Release);
        let waker = self.early().waker.take();
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    fn early(&self) -> std::sync::MutexGuard<'_, EarlyDtls> {
        self.0.early.lock().unwrap_or_else(|e| e.into_inner())
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

/// Whether a datagram is a DTLS record by its first byte (RFC 7983 §7: 20–63).
fn is_dtls(first_byte: Option<&u8>) -> bool {
    matches!(first_byte, Some(20..=63))
}

impl PacedUdpSocket {
    /// Item 3 of the module docs. `Some` when this poll is answered from or for the early
    /// DTLS queue; `None` to go on with a normal receive.
    fn poll_early_dtls(
        &self,
        cx: &mut Context<'_>,
        bufs: &mut [IoSliceMut<'_>],
        meta: &mut [RecvMeta],
    ) -> Option<Poll<io::Result<usize>>> {
        let (Some(buf), Some(slot)) = (bufs.first_mut(), meta.first_mut()) else {
            return None;
        };
        if self.pacing.0.ice_connected.load(Ordering::Acquire) {
            // Hand back what was kept, oldest first, then receive as usual.
            let (datagram, kept_meta) = self.pacing.early().datagrams.pop_front()?;
            let n = datagram.len().min(buf.len());
            buf[..n].copy_from_slice(&datagram[..n]);
            *slot = kept_meta;
            slot.len = n;
            self.pacing.request_extra_pass();
            return Some(Poll::Ready(Ok(1)));
        }
        loop {
            let polled =
                self.inner
                    .poll_recv(cx, std::slice::from_mut(buf), std::slice::from_mut(slot));
            match polled {
                Poll::Ready(Ok(n)) if n > 0 && is_dtls(buf[..slot.len].first()) => {
                    let mut early = self.pacing.early();
                    if early.datagrams.len() < EARLY_DTLS_MAX_DATAGRAMS {
                        tracing::debug!(bytes = slot.len, "DTLS record before ICE connected: kept");
                        early.datagrams.push_back((buf[..slot.len].to_vec(), *slot));
                    }
                    // Read the next datagram (or register for it).
                }
                Poll::Pending => {
                    // A real waker (not the burst probe's no-op one) is woken by
                    // `ice_connected` too.
                    if !cx.waker().will_wake(Waker::noop()) {
                        self.pacing.early().waker = Some(cx.waker().clone());
                    }
                    // ICE may have connected while we read: hand the queue back now.
                    if self.pacing.0.ice_connected.load(Ordering::Acquire)
                        && !self.pacing.early().datagrams.is_empty()
                    {
                        cx.waker().wake_by_ref();
                    }
                    return Some(Poll::Pending);
                }
                other => {
                    if matches!(other, Poll::Ready(Ok(n)) if n > 0) {
                        self.pacing.request_extra_pass();
                    }
                    return Some(other);
                }
            }
        }
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
        if let Some(polled) = self.poll_early_dtls(cx, bufs, meta) {
            return polled;
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Receives one datagram through `socket` as the driver does (a real waker).
    async fn recv(socket: &Arc<dyn AsyncUdpSocket>) -> (Vec<u8>, SocketAddr) {
        let mut buf = vec![0u8; 2048];
        let mut meta = [RecvMeta::default(); 1];
        std::future::poll_fn(|cx| {
            let mut bufs = [IoSliceMut::new(&mut buf)];
            socket.poll_recv(cx, &mut bufs, &mut meta)
        })
        .await
        .expect("recv");
        (buf[..meta[0].len].to_vec(), meta[0].addr)
    }

    #[tokio::test]
    async fn a_dtls_record_before_ice_connected_is_kept_until_it_is() {
        let pacing = SetupPacing::new();
        let runtime = SetupPacingRuntime::new(pacing.clone()).expect("tokio runtime");
        let ours = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind");
        let to = ours.local_addr().expect("addr");
        let socket = runtime.wrap_udp_socket(ours).expect("wrap");
        let peer = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind");
        let from = peer.local_addr().expect("addr");

        // A DTLS ClientHello (content type 22) before ICE is connected, then a STUN packet.
        let client_hello = [22u8, 0xfe, 0xfd, 0, 0, 1, 2, 3];
        // A STUN header (20 bytes, longer than the record, so GRO cannot coalesce the two).
        let stun = [
            0u8, 1, 0, 0, 0x21, 0x12, 0xa4, 0x42, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
        ];
        peer.send_to(&client_hello, to).expect("send");
        peer.send_to(&stun, to).expect("send");
        // The record is read and kept: the driver gets the STUN packet first.
        assert_eq!(recv(&socket).await, (stun.to_vec(), from));

        // Once ICE is connected the kept record comes next, unchanged.
        pacing.ice_connected();
        assert_eq!(recv(&socket).await, (client_hello.to_vec(), from));

        // Later DTLS records pass straight through.
        peer.send_to(&client_hello, to).expect("send");
        assert_eq!(recv(&socket).await, (client_hello.to_vec(), from));
    }
}
