//! Shared state on Redis (`--redis-url`): a replicated log of the hub's inputs.
//!
//! **Layout.** One Redis stream, [`LOG_KEY`], whose entries each hold one [`Op`] as JSON in
//! the field `o`. Every instance appends the inputs it receives (`XADD … MAXLEN ~ len *`,
//! pipelined in `MULTI`/`EXEC` batches by one appender task) and reads the whole stream
//! (`XREAD BLOCK`, one reader task), applying every entry to its replica of the hub in stream
//! order. Entry ids come from Redis's clock and give the log's time: the limits, instance
//! liveness and session grace periods are computed from it, so every replica decides the
//! same. No other key is used.
//!
//! **Why a stream, not pub/sub.** Pub/sub delivers at most once to whoever is connected at
//! that moment: a reader that reconnects misses what was published meanwhile, and replicas
//! would diverge. A stream is ordered, and a reader resumes from the last id it applied.
//!
//! **Instances.** Each appends [`Op::Beat`] every [`BEAT_MS`] ms. One silent for
//! [`clock::INSTANCE_TIMEOUT_MS`] of log time (SIGKILL, crash, partition) is gone: every
//! replica ends its connections as interrupted (version 2 sessions stay resumable for their
//! grace period, on any instance; room mates get `peer_interrupted`, not `peer_left`).
//!
//! **Redis unreachable.** An input that cannot be appended is not applied anywhere; its
//! sender gets the error `internal` naming the reason (a connection that could not be
//! registered is closed after it); a connection's end is retried until it is appended.
//! Nothing is acknowledged that was not appended. The connection manager reconnects; the
//! reader carries on from its last id. If Redis restarts without persistence the stream
//! starts empty: entries are only acknowledged once written, and Redis hands a new entry to
//! the blocked readers before it answers the next command, so only entries appended in the
//! instant before the crash can be lost; the replicas keep their state.
//!
//! **Joining instances.** An instance rebuilds the state by replaying the log from its
//! [`Op::Genesis`] entry before it serves; it refuses to start once the log was trimmed past
//! it (see `ServerConfig::redis_log_len`).

mod clock;
mod op;

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use peerchat_core::protocol::{ClientMessage, ErrorCode, ServerMessage};
use rand::Rng;
use redis::AsyncCommands;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::streams::{StreamRangeReply, StreamReadOptions, StreamReadReply};
use tokio::sync::{Notify, mpsc, oneshot, watch};
use tracing::{error, info, warn};

use crate::error::ServerError;
use crate::hub::{Hub, OpContext, PeerSlot, Shared};
use crate::limits::log_limit::LogLimit;
pub use op::Op;

/// The stream holding the log.
pub const LOG_KEY: &str = "peerchat:log";
/// Interval (ms) of each instance's heartbeat entry.
pub const BEAT_MS: u64 = 500;
/// Inputs waiting to be appended (the connection tasks wait when it is full).
pub const SUBMIT_QUEUE: usize = 8_192;
/// Entries appended in one `MULTI`/`EXEC` round trip at most.
const MAX_BATCH: usize = 512;
/// Entries read per `XREAD`.
const READ_COUNT: usize = 1_024;
/// How long one `XREAD` blocks (ms) before it is sent again.
const BLOCK_MS: usize = 1_000;
/// Pause (ms) before appending again after Redis failed.
const RETRY_MS: u64 = 200;
/// Longest wait for a `resume` to come back through the log.
const RESUME_TIMEOUT: Duration = Duration::from_secs(10);
/// Longest wait at start for the replay of the log.
const REPLAY_TIMEOUT: Duration = Duration::from_secs(120);

static REDIS_LOG: LogLimit = LogLimit::new(Duration::from_secs(5));
static APPEND_LOG: LogLimit = LogLimit::new(Duration::from_secs(5));

/// This instance's side of the shared log (see the module docs).
pub struct RedisLog {
    /// This instance's id (random, non-zero).
    pub inst: u64,
    tx: mpsc::Sender<Op>,
    /// Local connections whose `Register` entry has not been applied yet, by serial.
    pending: Mutex<HashMap<u64, PeerSlot>>,
    /// Local connections waiting for their `resume` to be applied, by serial.
    resumes: Mutex<HashMap<u64, oneshot::Sender<Option<String>>>>,
    /// The queue and notifier of every peer held by another instance (nothing reads them).
    remote_tx: crate::queue::Sender,
    remote_notify: Arc<Notify>,
    client: redis::Client,
    log_len: usize,
    /// Id of the newest entry when this instance started: it serves once it applied it.
    replay_to: Option<(u64, u64)>,
    caught_up: watch::Sender<bool>,
    rx: Mutex<Option<mpsc::Receiver<Op>>>,
}

impl fmt::Debug for RedisLog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisLog")
            .field("inst", &self.inst)
            .finish_non_exhaustive()
    }
}

fn redis_error(what: &str, e: impl fmt::Display) -> ServerError {
    ServerError::Redis(format!("{what}: {e}"))
}

fn id_key(id: &str) -> (u64, u64) {
    let mut parts = id.split('-');
    let ms = parts.next().and_then(|p| p.parse().ok()).unwrap_or(0);
    let seq = parts.next().and_then(|p| p.parse().ok()).unwrap_or(0);
    (ms, seq)
}

fn decode(e: &redis::streams::StreamId) -> Option<Op> {
    let text: String = e.get("o")?;
    match serde_json::from_str(&text) {
        Ok(op) => Some(op),
        Err(err) => {
            warn!(id = %e.id, error = %err, "unreadable entry in the shared log; skipped");
            None
        }
    }
}

/// The error an input that could not be appended gets.
fn unavailable(request: Option<&str>) -> ServerMessage {
    ServerMessage::Error {
        code: ErrorCode::Internal,
        message: "the server's shared state (Redis) is unreachable; this request was not \
                  applied: retry later"
            .into(),
        request: request.map(str::to_string),
    }
}

impl RedisLog {
    /// Connects to the Redis at `url`, checks that its log can be replayed, and prepares this
    /// instance (nothing runs until [`RedisLog::start`]). Errors: [`ServerError::Redis`] when
    /// Redis cannot be reached or the log was trimmed past its first entry.
    pub async fn connect(url: &str, log_len: usize) -> Result<RedisLog, ServerError> {
        let client = redis::Client::open(url).map_err(|e| redis_error("invalid URL", e))?;
        let mut conn = client
            .get_multiplexed_async_connection()
            .await
            .map_err(|e| redis_error("cannot connect", e))?;
        let first: StreamRangeReply = conn
            .xrange_count(LOG_KEY, "-", "+", 1)
            .await
            .map_err(|e| redis_error("cannot read the log", e))?;
        let last: StreamRangeReply = conn
            .xrevrange_count(LOG_KEY, "+", "-", 1)
            .await
            .map_err(|e| redis_error("cannot read the log", e))?;
        let empty = first.ids.is_empty();
        if let Some(e) = first.ids.first()
            && !matches!(decode(e), Some(Op::Genesis))
        {
            return Err(ServerError::Redis(format!(
                "the shared log {LOG_KEY} was trimmed past its first entry (now {}): this \
                 instance cannot rebuild the state; restart every instance together (after \
                 DEL {LOG_KEY}) or give them a larger --redis-log-len",
                e.id
            )));
        }
        let inst = loop {
            let i: u64 = rand::rng().random();
            if i != 0 {
                break i;
            }
        };
        let (tx, rx) = mpsc::channel(SUBMIT_QUEUE);
        if empty {
            let _ = tx.try_send(Op::Genesis);
        }
        let (remote_tx, _) = crate::queue::channel(1);
        Ok(RedisLog {
            inst,
            tx,
            pending: Mutex::new(HashMap::new()),
            resumes: Mutex::new(HashMap::new()),
            remote_tx,
            remote_notify: Arc::new(Notify::new()),
            client,
            log_len,
            replay_to: last.ids.first().map(|e| id_key(&e.id)),
            caught_up: watch::Sender::new(false),
            rx: Mutex::new(Some(rx)),
        })
    }

    /// Starts the appender, the reader and the heartbeat, and waits until the reader replayed
    /// the log up to where it was at [`RedisLog::connect`]. Errors: [`ServerError::Redis`]
    /// when Redis fails meanwhile or the replay takes over two minutes.
    pub async fn start(self: &Arc<Self>, shared: Arc<Shared>) -> Result<(), ServerError> {
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(2)))
            .set_response_timeout(Some(Duration::from_secs(5)))
            .set_max_delay(Duration::from_secs(1));
        let append = self
            .client
            .get_connection_manager_with_config(config.clone())
            .await
            .map_err(|e| redis_error("cannot connect", e))?;
        let read = self
            .client
            .get_connection_manager_with_config(config.set_response_timeout(Some(
                Duration::from_millis(BLOCK_MS as u64) + Duration::from_secs(5),
            )))
            .await
            .map_err(|e| redis_error("cannot connect", e))?;
        let rx = self
            .rx
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
            .ok_or_else(|| ServerError::Redis("started twice".into()))?;
        tokio::spawn(append_loop(self.clone(), shared.clone(), append, rx));
        tokio::spawn(read_loop(self.clone(), shared.clone(), read));
        let beat = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_millis(BEAT_MS));
            loop {
                tick.tick().await;
                if beat.tx.send(Op::Beat { inst: beat.inst }).await.is_err() {
                    return;
                }
            }
        });
        let mut caught_up = self.caught_up.subscribe();
        tokio::time::timeout(REPLAY_TIMEOUT, caught_up.wait_for(|c| *c))
            .await
            .map_err(|_| ServerError::Redis("replaying the shared log took too long".into()))?
            .map_err(|_| ServerError::Redis("the log reader stopped".into()))?;
        info!(inst = self.inst, "shared state on Redis replayed; serving");
        Ok(())
    }

    async fn submit(&self, op: Op) -> bool {
        self.tx.send(op).await.is_ok()
    }

    /// A connection opened: its slot waits here until its `Register` entry is applied.
    /// Returns `false` when the log is no longer running.
    pub async fn register(&self, peer: String, slot: PeerSlot, token: Option<String>) -> bool {
        let op = Op::Register {
            inst: self.inst,
            peer,
            conn: slot.conn,
            version: slot.version,
            ip: slot.ip,
            login: slot.granted_login.clone(),
            token,
        };
        self.pending
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(slot.conn, slot);
        self.submit(op).await
    }

    /// A valid message from `peer`.
    pub async fn message(&self, peer: &str, msg: ClientMessage) {
        let seed = matches!(msg, ClientMessage::CreateRoom { .. }).then(|| {
            let mut seed = [0u8; 32];
            rand::rng().fill(&mut seed);
            seed
        });
        self.submit(Op::Msg {
            inst: self.inst,
            peer: peer.to_string(),
            msg,
            seed,
        })
        .await;
    }

    /// `resume` from connection `conn` (provisional peer id `provisional`): the peer id the
    /// connection carries once the entry is applied, `None` if refused (the `error` is sent)
    /// or not applied in [`RESUME_TIMEOUT`].
    pub async fn resume(&self, provisional: &str, token: &str, conn: u64) -> Option<String> {
        let (tx, rx) = oneshot::channel();
        self.resumes
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(conn, tx);
        let op = Op::Resume {
            inst: self.inst,
            provisional: provisional.to_string(),
            token: token.to_string(),
            conn,
        };
        if !self.submit(op).await {
            return None;
        }
        let got = tokio::time::timeout(RESUME_TIMEOUT, rx).await;
        self.resumes
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&conn);
        got.ok().and_then(Result::ok).flatten()
    }

    /// Connection `conn` of `peer` ended.
    pub async fn ended(&self, peer: &str, conn: u64, clean: bool) {
        self.submit(Op::Ended {
            inst: self.inst,
            peer: peer.to_string(),
            conn,
            clean,
        })
        .await;
    }

    fn remote_slot(
        &self,
        home: u64,
        version: u32,
        conn: u64,
        ip: std::net::IpAddr,
        login: Option<String>,
    ) -> PeerSlot {
        PeerSlot {
            tx: self.remote_tx.clone(),
            kill: self.remote_notify.clone(),
            replaced: self.remote_notify.clone(),
            version,
            conn,
            ip,
            granted_login: login,
            home,
        }
    }

    /// What becomes of an input Redis did not take: the sender learns it (see the module
    /// docs); a connection's end goes back into `retry`.
    fn failed(&self, shared: &Shared, op: Op, retry: &mut VecDeque<Op>) {
        match op {
            Op::Genesis | Op::Beat { .. } => {}
            Op::Ended { .. } => retry.push_back(op),
            Op::Register { conn, .. } => {
                let slot = self
                    .pending
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .remove(&conn);
                if let Some(slot) = slot {
                    if let Ok(text) = serde_json::to_string(&unavailable(None)) {
                        let _ = slot.tx.try_send(text);
                    }
                    slot.kill.notify_one();
                }
            }
            Op::Msg { peer, msg, .. } => {
                let kind = crate::parse::type_name(&msg);
                shared.hub().send_to(&peer, &unavailable(Some(kind)));
            }
            Op::Resume {
                provisional, conn, ..
            } => {
                if let Some(w) = self
                    .resumes
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .remove(&conn)
                {
                    let _ = w.send(None);
                }
                shared
                    .hub()
                    .send_to(&provisional, &unavailable(Some("resume")));
            }
        }
    }
}

async fn append_loop(
    log: Arc<RedisLog>,
    shared: Arc<Shared>,
    mut redis: ConnectionManager,
    mut rx: mpsc::Receiver<Op>,
) {
    let mut retry: VecDeque<Op> = VecDeque::new();
    let mut failing = false;
    loop {
        let mut batch: Vec<Op> = retry.drain(..).collect();
        if batch.is_empty() {
            match rx.recv().await {
                Some(op) => batch.push(op),
                None => return,
            }
        }
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(op) => batch.push(op),
                Err(_) => break,
            }
        }
        let mut pipe = redis::pipe();
        pipe.atomic();
        for op in &batch {
            let Ok(json) = serde_json::to_string(op) else {
                continue;
            };
            pipe.cmd("XADD")
                .arg(LOG_KEY)
                .arg("MAXLEN")
                .arg("~")
                .arg(log.log_len)
                .arg("*")
                .arg("o")
                .arg(json)
                .ignore();
        }
        let result = pipe.query_async::<()>(&mut redis).await;
        if result.is_ok() && std::mem::replace(&mut failing, false) {
            info!("appending to the shared log on Redis again");
        }
        if let Err(e) = result {
            failing = true;
            if let Some(suppressed) = APPEND_LOG.allow() {
                warn!(error = %e, suppressed, "cannot append to the shared log on Redis");
            }
            for op in batch {
                log.failed(&shared, op, &mut retry);
            }
            if !retry.is_empty() {
                tokio::time::sleep(Duration::from_millis(RETRY_MS)).await;
            }
        }
    }
}

async fn read_loop(log: Arc<RedisLog>, shared: Arc<Shared>, mut redis: ConnectionManager) {
    let mut last = "0-0".to_string();
    let mut clock = clock::LogClock::default();
    if log.replay_to.is_none() {
        log.caught_up.send_replace(true);
    }
    let options = StreamReadOptions::default()
        .block(BLOCK_MS)
        .count(READ_COUNT);
    let mut failing = false;
    loop {
        let reply: redis::RedisResult<Option<StreamReadReply>> =
            redis.xread_options(&[LOG_KEY], &[&last], &options).await;
        let reply = match reply {
            Ok(r) => {
                if std::mem::replace(&mut failing, false) {
                    info!(last = %last, "reading the shared log on Redis again");
                }
                r
            }
            Err(e) => {
                failing = true;
                if let Some(suppressed) = REDIS_LOG.allow() {
                    warn!(error = %e, suppressed, "cannot read the shared log on Redis");
                }
                tokio::time::sleep(Duration::from_millis(RETRY_MS)).await;
                continue;
            }
        };
        let Some(reply) = reply else { continue };
        let mut hub = shared.hub();
        for key in reply.keys {
            for entry in key.ids {
                let id = id_key(&entry.id);
                if let Some(op) = decode(&entry) {
                    apply(&log, &shared, &mut hub, &mut clock, id.0, op);
                }
                last = entry.id;
                if !*log.caught_up.borrow() && log.replay_to.is_some_and(|t| id >= t) {
                    log.caught_up.send_replace(true);
                }
            }
        }
    }
}

/// Applies one entry to this replica (see the module docs).
fn apply(
    log: &RedisLog,
    shared: &Shared,
    hub: &mut Hub,
    clock: &mut clock::LogClock,
    ms: u64,
    op: Op,
) {
    let now = clock.advance(ms);
    if let Some(inst) = op.inst() {
        clock.beat(inst);
    }
    hub.set_op(OpContext { now, seed: None });
    let grace = shared.config.session_grace;
    match op {
        Op::Genesis | Op::Beat { .. } => {}
        Op::Register {
            inst,
            peer,
            conn,
            version,
            ip,
            login,
            token,
        } => {
            let local = (inst == log.inst)
                .then(|| {
                    log.pending
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .remove(&conn)
                })
                .flatten();
            let slot = local.unwrap_or_else(|| log.remote_slot(inst, version, conn, ip, login));
            hub.register(peer, slot, token);
        }
        Op::Msg {
            peer, msg, seed, ..
        } => {
            if hub.connected(&peer) {
                hub.set_op(OpContext { now, seed });
                let out = hub.handle(&peer, msg);
                for (to, m) in &out {
                    if hub.is_local(to, log.inst) {
                        shared.metrics.outgoing(m);
                    }
                }
                hub.dispatch(out);
            }
        }
        Op::Resume {
            inst,
            provisional,
            token,
            conn,
        } => {
            let peer = match hub.resume(&provisional, &token) {
                Ok((peer, out)) => {
                    hub.dispatch(out);
                    Some(peer)
                }
                Err(r) => {
                    hub.send_to(&provisional, &ServerMessage::from(r));
                    None
                }
            };
            if inst == log.inst
                && let Some(w) = log
                    .resumes
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .remove(&conn)
            {
                let _ = w.send(peer);
            }
        }
        Op::Ended {
            peer, conn, clean, ..
        } => {
            let (epoch, out) = hub.connection_ended(&peer, conn, clean);
            hub.dispatch(out);
            if let Some(epoch) = epoch {
                clock.arm(peer, epoch, grace);
            }
        }
    }
    for inst in clock.gone() {
        if inst == log.inst {
            error!(
                inst,
                "this instance was declared gone (its heartbeats did not reach the shared log \
                 in time): its connections are closed, their sessions stay resumable"
            );
        }
        for (peer, conn, kill) in hub.peers_on(inst) {
            kill.notify_one();
            let (epoch, out) = hub.connection_ended(&peer, conn, false);
            hub.dispatch(out);
            if let Some(epoch) = epoch {
                clock.arm(peer, epoch, grace);
            }
        }
    }
    for (peer, epoch) in clock.expired() {
        let out = hub.expire(&peer, epoch);
        hub.dispatch(out);
    }
}
