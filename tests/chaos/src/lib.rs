//! Support for the cross-process fault tests: a TCP proxy that can be cut or frozen, engines
//! with time-stamped event channels, `/health`, quantiles; the `peerchat` processes come from
//! `peerchat-test-support`. Everything binds to 127.0.0.1.

pub use peerchat_test_support::{Proc, ServerProc, WAIT};

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use peerchat_core::{
    ChannelListener, Engine, EngineConfig, EngineEvent, PeerState, SignalingState,
};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc::UnboundedReceiver;
use tokio::task::JoinHandle;

/// A TCP proxy on 127.0.0.1 in front of `target`. [`TcpProxy::cut`] drops every connection
/// through it and stops listening, as a lost network path does; [`TcpProxy::freeze`] stops
/// forwarding on the open connections but keeps them open, as a half-dead path (a NAT that
/// forgot the mapping, a sleeping radio) does.
pub struct TcpProxy {
    /// The port it listens on.
    pub port: u16,
    tasks: Arc<Mutex<Vec<JoinHandle<()>>>>,
    accept: JoinHandle<()>,
    /// Incremented by each [`TcpProxy::freeze`]; a connection freezes when it grows past the
    /// value it had when the connection was made.
    frozen: tokio::sync::watch::Sender<u64>,
    accepted: Arc<AtomicUsize>,
}

impl TcpProxy {
    /// Listens on `port` (0 = a free one) and forwards each connection to `target`.
    pub async fn start(port: u16, target: u16) -> TcpProxy {
        let listener = TcpListener::bind(("127.0.0.1", port))
            .await
            .expect("bind proxy");
        let port = listener.local_addr().expect("local addr").port();
        let tasks: Arc<Mutex<Vec<JoinHandle<()>>>> = Arc::default();
        let conns = tasks.clone();
        let frozen = tokio::sync::watch::Sender::new(0u64);
        let freezes = frozen.clone();
        let accepted = Arc::new(AtomicUsize::new(0));
        let count = accepted.clone();
        let accept = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                count.fetch_add(1, Ordering::SeqCst);
                let mut frozen = freezes.subscribe();
                let epoch = *frozen.borrow();
                let task = tokio::spawn(async move {
                    let Ok(mut outbound) = TcpStream::connect(("127.0.0.1", target)).await else {
                        return;
                    };
                    let froze = tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => false,
                        r = frozen.wait_for(|e| *e > epoch) => r.is_ok(),
                    };
                    if froze {
                        // Hold both sockets open and forward nothing until cut.
                        std::future::pending::<()>().await;
                    }
                });
                conns.lock().expect("proxy lock").push(task);
            }
        });
        TcpProxy {
            port,
            tasks,
            accept,
            frozen,
            accepted,
        }
    }

    /// How many connections it has accepted so far.
    pub fn accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }

    /// Stops forwarding on the connections open now, keeping them open; new connections are
    /// forwarded as before.
    pub fn freeze(&self) {
        self.frozen.send_modify(|e| *e += 1);
    }

    /// The WebSocket URL through the proxy.
    pub fn url(&self) -> String {
        format!("ws://127.0.0.1:{}/ws", self.port)
    }

    /// Drops every connection (both sides see the TCP connection end, with no WebSocket
    /// close frame) and stops accepting.
    pub fn cut(self) {
        self.accept.abort();
        for task in self.tasks.lock().expect("proxy lock").drain(..) {
            task.abort();
        }
    }
}

/// An engine in this process and its events, each stamped with when it arrived.
pub struct Client {
    pub engine: Engine,
    events: UnboundedReceiver<(Instant, EngineEvent)>,
    /// Every event seen so far, in order.
    pub seen: Vec<EngineEvent>,
    /// Signaling states seen so far, with when they arrived.
    pub signaling: Vec<(Instant, SignalingState)>,
    /// Texts of every message received so far, in order.
    pub messages: Vec<String>,
}

impl Client {
    /// An engine named `name` on `url`, bound to loopback.
    pub fn new(url: &str, name: &str) -> Client {
        Self::with_config(EngineConfig::new(url, name).loopback_only())
    }

    /// An engine with `config`.
    pub fn with_config(config: EngineConfig) -> Client {
        let (listener, mut raw) = ChannelListener::new();
        let engine = Engine::new(config, listener).expect("engine starts");
        // Stamp each event as it arrives, whatever the test is waiting for meanwhile.
        let (tx, events) = tokio::sync::mpsc::unbounded_channel();
        tokio::spawn(async move {
            while let Some(event) = raw.recv().await {
                if tx.send((Instant::now(), event)).is_err() {
                    break;
                }
            }
        });
        Client {
            engine,
            events,
            seen: Vec::new(),
            signaling: Vec::new(),
            messages: Vec::new(),
        }
    }

    /// The first event seen so far that `pick` accepts, or else the next one to come.
    pub async fn seen_or_wait_for<T>(
        &mut self,
        what: &str,
        mut pick: impl FnMut(&EngineEvent) -> Option<T>,
    ) -> T {
        if let Some(found) = self.seen.iter().find_map(&mut pick) {
            return found;
        }
        self.wait_for(what, pick).await
    }

    /// Waits for the first event `pick` accepts; panics after [`WAIT`].
    pub async fn wait_for<T>(
        &mut self,
        what: &str,
        mut pick: impl FnMut(&EngineEvent) -> Option<T>,
    ) -> T {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            match tokio::time::timeout_at(deadline, self.events.recv()).await {
                Ok(Some((at, event))) => {
                    match &event {
                        EngineEvent::Message(m) => self.messages.push(m.text.clone()),
                        EngineEvent::SignalingState(state) => self.signaling.push((at, *state)),
                        _ => {}
                    }
                    let found = pick(&event);
                    self.seen.push(event);
                    if let Some(found) = found {
                        return found;
                    }
                }
                Ok(None) => panic!("engine stopped while waiting for {what}"),
                Err(_) => panic!("no {what} within {WAIT:?}; events: {:#?}", self.seen),
            }
        }
    }

    /// Waits for the data channel to a peer to open; returns that peer's id.
    pub async fn wait_connected(&mut self) -> String {
        self.wait_for("an open data channel", |e| match e {
            EngineEvent::PeerState {
                peer_id,
                state: PeerState::Connected,
            } => Some(peer_id.clone()),
            _ => None,
        })
        .await
    }

    /// A mark in the signaling states seen so far, for [`Client::wait_reconnected`].
    pub fn mark(&self) -> usize {
        self.signaling.len()
    }

    /// Waits until, after `mark`, the signaling state went `Reconnecting` and then
    /// `Connected`; returns when that `Connected` arrived.
    pub async fn wait_reconnected(&mut self, mark: usize) -> Instant {
        let back = |log: &[(Instant, SignalingState)]| {
            let lost = log[mark..]
                .iter()
                .position(|(_, s)| matches!(s, SignalingState::Reconnecting { .. }))?;
            log[mark + lost..]
                .iter()
                .find(|(_, s)| *s == SignalingState::Connected)
                .map(|(at, _)| *at)
        };
        if let Some(at) = back(&self.signaling) {
            return at;
        }
        self.wait_for("signaling reconnecting, then connected", |e| {
            matches!(e, EngineEvent::SignalingState(SignalingState::Connected)).then_some(())
        })
        .await;
        match back(&self.signaling) {
            Some(at) => at,
            None => Box::pin(self.wait_reconnected(mark)).await,
        }
    }

    /// Waits until `count` messages in all have arrived; returns every text received, in
    /// order.
    pub async fn received(&mut self, count: usize) -> Vec<String> {
        let mut have = self.messages.len();
        if have < count {
            self.wait_for("messages", |e| {
                have += usize::from(matches!(e, EngineEvent::Message(_)));
                (have >= count).then_some(())
            })
            .await;
        }
        self.messages.clone()
    }

    /// Watches the events for `window` and panics if one `bad` accepts arrives: proves that
    /// something does *not* happen within a bound (the window is the bound, not a wait for
    /// something to be ready).
    pub async fn expect_none_within(
        &mut self,
        window: Duration,
        what: &str,
        bad: impl Fn(&EngineEvent) -> bool,
    ) {
        let end = tokio::time::Instant::now() + window;
        while let Ok(Some((at, event))) = tokio::time::timeout_at(end, self.events.recv()).await {
            if let EngineEvent::SignalingState(state) = &event {
                self.signaling.push((at, *state));
            }
            assert!(!bad(&event), "{what}: {event:?}");
            self.seen.push(event);
        }
    }

    /// Forgets the events seen so far (not the messages and signaling states), so that later
    /// checks of [`Client::seen_where`] look at what happened from here on.
    pub fn forget_events(&mut self) {
        self.seen.clear();
    }

    /// Events seen so far that `pick` accepts.
    pub fn seen_where(&self, pick: impl Fn(&EngineEvent) -> bool) -> Vec<EngineEvent> {
        self.seen.iter().filter(|e| pick(e)).cloned().collect()
    }
}

/// `GET /health` of the server on `port`, as JSON.
pub async fn health(port: u16) -> serde_json::Value {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connect");
    s.write_all(b"GET /health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .await
        .expect("write");
    let mut raw = Vec::new();
    tokio::time::timeout(WAIT, s.read_to_end(&mut raw))
        .await
        .expect("health timed out")
        .expect("read");
    let text = String::from_utf8(raw).expect("UTF-8");
    let (_, body) = text.split_once("\r\n\r\n").expect("HTTP response");
    serde_json::from_str(body).expect("JSON")
}

/// The `q` quantile (0..=1, nearest rank) of `samples` in ms.
pub fn quantile_ms(samples: &[Duration], q: f64) -> f64 {
    let mut ms: Vec<f64> = samples.iter().map(|d| d.as_secs_f64() * 1e3).collect();
    ms.sort_by(f64::total_cmp);
    let rank = ((q * ms.len() as f64).ceil() as usize).clamp(1, ms.len());
    ms[rank - 1]
}

impl Client {
    /// An engine with `config` whose sockets all live in the netsim host `host`: it is built
    /// on a thread inside the host's network namespace, so its runtime's threads are too.
    pub fn in_host(host: &peerchat_netsim::Host, config: EngineConfig) -> Client {
        let (listener, raw) = ChannelListener::new();
        let engine = host
            .call(move || Engine::new(config, listener))
            .expect("enter the host")
            .expect("engine starts");
        Client::from_engine(engine, raw)
    }

    fn from_engine(engine: Engine, mut raw: UnboundedReceiver<EngineEvent>) -> Client {
        let (tx, events) = tokio::sync::mpsc::unbounded_channel();
        tokio::spawn(async move {
            while let Some(event) = raw.recv().await {
                if tx.send((Instant::now(), event)).is_err() {
                    break;
                }
            }
        });
        Client {
            engine,
            events,
            seen: Vec::new(),
            signaling: Vec::new(),
            messages: Vec::new(),
        }
    }

    /// Peer states reported so far for `peer_id`, in order.
    pub fn peer_states(&self, peer_id: &str) -> Vec<PeerState> {
        self.seen
            .iter()
            .filter_map(|e| match e {
                EngineEvent::PeerState { peer_id: p, state } if p == peer_id => Some(*state),
                _ => None,
            })
            .collect()
    }

    /// Waits until `peer_id` is reported in `state`; returns when that event arrived.
    pub async fn wait_peer_state(&mut self, peer_id: &str, state: PeerState) -> Instant {
        let at = std::sync::Arc::new(Mutex::new(None));
        let found = at.clone();
        let peer = peer_id.to_string();
        self.wait_for(&format!("peer {peer_id} {state:?}"), |e| {
            matches!(e, EngineEvent::PeerState { peer_id: p, state: s } if *p == peer && *s == state)
                .then_some(())
        })
        .await;
        *found.lock().expect("lock") = Some(Instant::now());
        let stamped = *at.lock().expect("lock");
        stamped.expect("set")
    }
}
