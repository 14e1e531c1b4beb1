//! Support for the cross-process fault tests: the real `peerchat` binary as a server process
//! and as a terminal client, a TCP proxy that can be cut, and engines with event channels.
//! Everything binds to 127.0.0.1.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc as std_mpsc;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use peerchat_core::{
    ChannelListener, Engine, EngineConfig, EngineEvent, PeerState, SignalingState,
};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc::UnboundedReceiver;
use tokio::task::JoinHandle;

/// Upper bound for any awaited event or output line; a test fails rather than hangs.
pub const WAIT: Duration = Duration::from_secs(45);

/// Path of the `peerchat` binary, built once per test process with the same cargo.
pub fn peerchat_bin() -> &'static str {
    static BIN: OnceLock<String> = OnceLock::new();
    BIN.get_or_init(|| {
        if let Ok(bin) = std::env::var("PEERCHAT_BIN") {
            return bin;
        }
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
        let status = Command::new(env!("CARGO"))
            .args([
                "build",
                "--quiet",
                "-p",
                "peerchat-cli",
                "--bin",
                "peerchat",
            ])
            .current_dir(root)
            .status()
            .expect("run cargo build");
        assert!(status.success(), "cargo build -p peerchat-cli failed");
        let target = std::env::var("CARGO_TARGET_DIR").unwrap_or_else(|_| format!("{root}/target"));
        format!("{target}/debug/peerchat")
    })
}

/// A `peerchat` process with its stdout read line by line.
pub struct Proc {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: std_mpsc::Receiver<(Instant, String)>,
    /// Every line read so far, for failure messages and checks.
    pub seen: Vec<String>,
}

impl Proc {
    /// Starts `peerchat ARGS`.
    pub fn spawn(args: &[&str]) -> Proc {
        let mut child = Command::new(peerchat_bin())
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn peerchat");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, lines) = std_mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send((Instant::now(), line)).is_err() {
                    break;
                }
            }
        });
        Proc {
            stdin: child.stdin.take(),
            child,
            lines,
            seen: Vec::new(),
        }
    }

    /// The next line `pred` accepts, with the time it was read; panics after [`WAIT`].
    pub fn expect(&mut self, what: &str, pred: impl Fn(&str) -> bool) -> (Instant, String) {
        let deadline = Instant::now() + WAIT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok((at, line)) => {
                    self.seen.push(line.clone());
                    if pred(&line) {
                        return (at, line);
                    }
                }
                Err(_) => panic!("no {what} within {WAIT:?}; output: {:#?}", self.seen),
            }
        }
    }

    /// Returns at once if a line seen so far matches `pred`, else waits for one
    /// ([`Proc::expect`]).
    pub fn saw_or_expect(&mut self, what: &str, pred: impl Fn(&str) -> bool) {
        if !self.seen.iter().any(|l| pred(l)) {
            self.expect(what, pred);
        }
    }

    /// Types `line` on the process's stdin.
    pub fn say(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().expect("stdin open");
        writeln!(stdin, "{line}").expect("write stdin");
        stdin.flush().expect("flush stdin");
    }

    fn pid(&self) -> Pid {
        Pid::from_raw(self.child.id() as i32)
    }

    /// Sends `signal` to the process.
    pub fn signal(&self, signal: Signal) {
        kill(self.pid(), signal).expect("signal the process");
    }

    /// SIGKILLs the process and reaps it.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A `peerchat serve` process on 127.0.0.1.
pub struct ServerProc {
    pub proc: Proc,
    /// The port it listens on.
    pub port: u16,
    /// When its "listening on" line was read: it accepts connections from then on.
    pub listening_at: Instant,
}

impl ServerProc {
    /// Starts a server on `port` (0 = a free one) with `extra` flags.
    pub fn start(port: u16, extra: &[&str]) -> ServerProc {
        let port_arg = port.to_string();
        let args = [
            &["serve", "--bind", "127.0.0.1", "--port", port_arg.as_str()][..],
            extra,
        ]
        .concat();
        let mut proc = Proc::spawn(&args);
        let (listening_at, line) =
            proc.expect("listening line", |l| l.starts_with("listening on "));
        let port = line
            .rsplit(':')
            .next()
            .and_then(|p| p.trim_end_matches("/ws").parse().ok())
            .expect("port in the listening line");
        ServerProc {
            proc,
            port,
            listening_at,
        }
    }

    /// The WebSocket URL.
    pub fn url(&self) -> String {
        format!("ws://127.0.0.1:{}/ws", self.port)
    }
}

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
        let accept = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
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
        }
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
        let (listener, mut raw) = ChannelListener::new();
        let engine = Engine::new(EngineConfig::new(url, name).loopback_only(), listener)
            .expect("engine starts");
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
