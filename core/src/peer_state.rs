//! The peer state machine: what the app is told about one remote peer, and what the engine does
//! about its connection (retry a setup, restart ICE, build a fresh connection, give up).
//!
//! Pure: inputs (peer-connection events, timers, the app's network change, the server's
//! `peer_left`) go in, effects come out; no I/O, no clock. The actor (`actor/peers.rs`) runs
//! the effects and feeds timer expiries back with the token it was given, so the whole policy
//! is unit-tested here without WebRTC or sockets.
//!
//! ## States (what [`EngineListener::on_peer_state`](crate::EngineListener::on_peer_state) reports)
//!
//! | State | Meaning | Messages sent to the peer |
//! |---|---|---|
//! | `Connecting` | first setup under way, including automatic retries | wait in the outbox |
//! | `Connected` | the data channel is open | written to the data channel |
//! | `Interrupted` | the connection is recovering (ICE restart, or a fresh connection) | wait in the outbox |
//! | `Closed` | the peer left the room (final) | unacknowledged ones `Failed` |
//! | `Failed` | the engine gave up (final, unless the peer offers again) | unacknowledged ones `Failed` |
//!
//! ## Transitions
//!
//! `ConnectionLost` in any live state also releases the dead connection. Each row reports at
//! most one state change; a row whose "To" equals "From" reports nothing.
//! "Initiator" is the side that sent the first offer to this peer (the one that joined the room):
//! only it builds fresh peer connections; the other side answers them. Either side may restart
//! ICE on the existing connection (glare is settled by the W3C "perfect negotiation" roles, see
//! `docs/protocol.md`, "ICE restart and renegotiation").
//!
//! | From | Input | To | Effects |
//! |---|---|---|---|
//! | (new) | `AttemptStarted` (first) | Connecting | report `Connecting`; arm attempt timer ([`SETUP_ATTEMPT_TIMEOUT_MS`]) and give-up timer (`peer_connect_timeout_ms`) |
//! | Connecting | `AttemptStarted` (retry) | Connecting | arm attempt timer |
//! | Connecting | `ChannelOpen` | Connected | report; flush the outbox |
//! | Connecting | attempt timer, `ConnectionLost`, `IceFailed` | Connecting | initiator: fresh connection after [`retry_delay_ms`]; after [`MAX_SETUP_ATTEMPTS`] attempts: → Failed |
//! | Connecting | `NetworkChanged` | Connecting | initiator: fresh connection now |
//! | Connecting | `SignalingReady` (no attempt under way) | Connecting | initiator: fresh connection now (a retry skipped while signaling was down) |
//! | Connecting | give-up timer | Failed | report; fail the outbox; release the connection |
//! | Connected | `IceDisconnected` | Interrupted | report; restart ICE after [`ICE_RESTART_DELAY_MS`]; arm give-up timer ([`RECOVERY_TIMEOUT_MS`]) |
//! | Connected | `IceFailed` | Interrupted | report; restart ICE now; arm give-up timer |
//! | Connected | `NetworkChanged` | Connected | restart ICE after [`NETWORK_SETTLE_MS`], without interrupting the chat (new messages wait in the outbox meanwhile); arm attempt timer ([`ICE_RESTART_TIMEOUT_MS`]) |
//! | Connected | `IceConnected` | Connected | the restart reconnected: cancel the attempt timer; flush the outbox |
//! | Connected | `SignalingReady` (a restart under way) | Connected | restart ICE now if none is outstanding, and again after [`OFFER_ANSWER_TIMEOUT_MS`] unless it reconnected (an earlier offer may have been lost with the old signaling connection) |
//! | Connected | attempt timer | Interrupted | report; restart ICE again after [`retry_delay_ms`]; arm give-up timer |
//! | Connected | `ConnectionLost`, `RemoteReplaced` | Interrupted | report; initiator: fresh connection now; arm give-up timer |
//! | Interrupted | `IceConnected` (same connection), `ChannelOpen` | Connected | report; flush the outbox (on a fresh connection only its open data channel counts) |
//! | Interrupted | restart timer | Interrupted | restart ICE; arm attempt timer ([`ICE_RESTART_TIMEOUT_MS`]) |
//! | Interrupted | attempt timer, `IceFailed` | Interrupted | after [`MAX_ICE_RESTARTS`] restarts the initiator builds a fresh connection; otherwise restart ICE again after [`retry_delay_ms`] |
//! | Interrupted | `NetworkChanged` | Interrupted | restart ICE now (backoff reset) |
//! | Interrupted | `ConnectionLost` | Interrupted | initiator: fresh connection after [`retry_delay_ms`] |
//! | Interrupted | `SignalingReady` | Interrupted | restart ICE now (a restart skipped while signaling was down), and again after [`OFFER_ANSWER_TIMEOUT_MS`] if an earlier offer is still unanswered |
//! | Interrupted | give-up timer | Failed | report; fail the outbox; release the connection |
//! | Connecting, Connected, Interrupted | `Left` | Closed | report; fail the outbox; release the connection |
//! | Failed | `RemoteReplaced` (the peer offers again) | Connecting | report; arm timers as a first attempt |
//! | Closed | anything | Closed | nothing |
//!
//! Time bounds: a setup gives up after `peer_connect_timeout_ms` (30 s by default) or
//! [`MAX_SETUP_ATTEMPTS`] attempts; a recovery gives up after [`RECOVERY_TIMEOUT_MS`]; a peer
//! that leaves the room is `Closed` at once (the server's `peer_left`).

/// State of the connection to one remote peer, as reported to the app. See the module docs for
/// the transition table and time bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PeerState {
    /// Setting up the first connection (SDP offer/answer, ICE, DTLS, SCTP), retried
    /// automatically; messages sent meanwhile wait in the outbox.
    Connecting,
    /// The data channel is open: messages are written to it ("chat ready").
    Connected,
    /// The connection was lost and is recovering (ICE restart on the same peer connection, or
    /// a fresh one); messages sent meanwhile wait in the outbox and go out, in order, when the
    /// peer is `Connected` again.
    Interrupted,
    /// The peer left the room (final). Its unacknowledged messages are reported `Failed`.
    Closed,
    /// The engine gave up: the setup did not succeed within `peer_connect_timeout_ms` /
    /// [`MAX_SETUP_ATTEMPTS`] attempts, or a recovery did not within [`RECOVERY_TIMEOUT_MS`].
    /// Unacknowledged messages are reported `Failed`. A new offer from the peer starts over
    /// with `Connecting`.
    Failed,
}

/// How long (ms) one setup attempt may take, from building its peer connection to an open data
/// channel, before it is retried with a fresh peer connection. A healthy setup takes ~50 ms on
/// loopback and a median 2.3 s with 5 % loss and 50 ms delay; the bound also catches the
/// `rtc-dtls` 0.21.1 handshake that stops retransmitting (see `docs/architecture.md`,
/// "Upstream reports"), which otherwise only ends at `peer_connect_timeout_ms`.
pub const SETUP_ATTEMPT_TIMEOUT_MS: u64 = 7_000;

/// Setup attempts (fresh peer connections) before a setup is reported `Failed`.
pub const MAX_SETUP_ATTEMPTS: u32 = 5;

/// How long (ms) ICE may stay `disconnected` (no answer to consent checks for
/// [`ICE_DISCONNECTED_TIMEOUT_MS`]) before the engine restarts it. Until then consent checks
/// on the current pair keep running, so a short outage on the same address (a Wi-Fi blip, a
/// tunnel) heals by itself within one check of the path coming back (RFC 7675) — an ICE
/// restart rebinds the sockets, after which only signaling can bring the pair back. A known
/// address change (`Engine::network_changed`) restarts at once.
pub const ICE_RESTART_DELAY_MS: u64 = 5_000;

/// How long (ms) one ICE restart may take to reconnect before the next recovery step.
pub const ICE_RESTART_TIMEOUT_MS: u64 = 5_000;

/// How long (ms) after the app reports a network change the engine restarts ICE: time for the
/// signaling client to find its connection dead (its local address gone) and reconnect first,
/// so the restart offer goes out on a live connection instead of being lost with the old one.
pub const NETWORK_SETTLE_MS: u64 = 100;

/// How long (ms) an ICE-restart offer may go unanswered before the same offer is sent again. Offers sent on a signaling connection that then died may be gone with it
/// (or be relayed late, when the session resumes): after the signaling session is back the
/// engine waits this long for the answer before offering again.
pub const OFFER_ANSWER_TIMEOUT_MS: u64 = 1_000;

/// ICE restarts in a row that did not reconnect before the initiator falls back to a fresh
/// peer connection (its unacknowledged messages are re-sent on it with their ids).
pub const MAX_ICE_RESTARTS: u32 = 2;

/// How long (ms) a peer may stay `Interrupted` before the engine gives up on it (`Failed`).
/// Longer than the signaling server's default session grace (30 s), so a peer whose whole
/// network was gone for that long is normally reported `Closed` by the server first.
pub const RECOVERY_TIMEOUT_MS: u64 = 60_000;

/// Consent freshness (RFC 7675): ICE is reported `disconnected` after this many ms without a
/// response from the peer (the `rtc-ice` default is 5 s).
pub const ICE_DISCONNECTED_TIMEOUT_MS: u64 = 2_000;

/// ICE is reported `failed` after this many ms without a response (the `rtc-ice` default 25 s).
pub const ICE_FAILED_TIMEOUT_MS: u64 = 10_000;

/// Interval (ms) of ICE keepalives / consent checks on the selected pair (`rtc-ice` default 2 s),
/// short enough that [`ICE_DISCONNECTED_TIMEOUT_MS`] sees several.
pub const ICE_KEEPALIVE_INTERVAL_MS: u64 = 500;

/// First delay (ms) of the retry backoff; doubles per retry up to [`RETRY_MAX_DELAY_MS`].
pub const RETRY_BASE_DELAY_MS: u64 = 250;

/// Largest retry delay (ms).
pub const RETRY_MAX_DELAY_MS: u64 = 4_000;

/// Delay (ms) before retry number `n` (1-based): 250, 500, 1000, 2000, 4000, 4000, … ms.
pub fn retry_delay_ms(n: u32) -> u64 {
    let shift = n.saturating_sub(1).min(16);
    (RETRY_BASE_DELAY_MS << shift).min(RETRY_MAX_DELAY_MS)
}

/// The machine's timers. The actor arms one with the token from [`Effect::Arm`] and feeds
/// [`PeerInput::Timer`] back with it; a stale token (a timer re-armed or cancelled since) is
/// ignored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Timer {
    /// The current setup attempt or ICE restart must have succeeded by now.
    Attempt,
    /// Run the delayed recovery step (an ICE restart, or a fresh connection).
    Retry,
    /// The setup or recovery as a whole gives up.
    GiveUp,
}

const TIMERS: usize = 3;

fn slot(timer: Timer) -> usize {
    match timer {
        Timer::Attempt => 0,
        Timer::Retry => 1,
        Timer::GiveUp => 2,
    }
}

/// What happened to a peer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PeerInput {
    /// A peer connection was built for this peer (first setup or a fresh connection).
    AttemptStarted,
    /// The chat data channel opened.
    ChannelOpen,
    /// ICE lost consent (`RTCPeerConnectionState::Disconnected`).
    IceDisconnected,
    /// ICE (and DTLS) connected again (`RTCPeerConnectionState::Connected`).
    IceConnected,
    /// `RTCPeerConnectionState::Failed`.
    IceFailed,
    /// The connection cannot carry data any more: its data channel closed, its driver stopped,
    /// or it could not be built.
    ConnectionLost,
    /// The peer replaced the connection with a fresh one (an offer of a new SDP session).
    RemoteReplaced,
    /// The app reported a network change (`Engine::network_changed`).
    NetworkChanged,
    /// The signaling session is usable again.
    SignalingReady,
    /// The peer left the room, or we did.
    Left,
    /// A timer armed with [`Effect::Arm`] expired.
    Timer(Timer, u64),
}

/// What the actor must do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Effect {
    /// Report this state to the app.
    Report(PeerState),
    /// Arm `timer` for `ms`; feed back `PeerInput::Timer(timer, token)`.
    Arm { timer: Timer, ms: u64, token: u64 },
    /// Restart ICE on the existing connection: `restart_ice`, a new offer through signaling,
    /// sockets rebound.
    RestartIce,
    /// Build a fresh peer connection and offer it (initiator only).
    Reconnect,
    /// Write every message still waiting in the outbox.
    FlushOutbox,
    /// Report every unacknowledged message `Failed`, in send order, and empty the outbox.
    FailOutbox,
    /// Close and drop the peer connection.
    Release,
}

/// Budget of a setup, from the engine's configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Bounds {
    /// `EngineConfig::peer_connect_timeout_ms`.
    pub(crate) connect_timeout_ms: u64,
    /// [`SETUP_ATTEMPT_TIMEOUT_MS`], at most `connect_timeout_ms`.
    pub(crate) attempt_timeout_ms: u64,
}

impl Bounds {
    pub(crate) fn new(connect_timeout_ms: u64) -> Self {
        Self {
            connect_timeout_ms,
            attempt_timeout_ms: SETUP_ATTEMPT_TIMEOUT_MS.min(connect_timeout_ms),
        }
    }
}

/// The state machine of one remote peer (see the module docs).
#[derive(Debug)]
pub(crate) struct PeerMachine {
    state: PeerState,
    /// `Connecting` has been reported.
    announced: bool,
    initiator: bool,
    bounds: Bounds,
    /// Fresh connections in the current setup (1 after the first).
    attempts: u32,
    /// ICE restarts (and fresh connections) in the current recovery.
    restarts: u32,
    /// What the retry timer will do when it fires.
    retry_is_reconnect: bool,
    /// `Connected`, but an ICE restart after a network change is under way: messages wait in
    /// the outbox until it reconnects, rather than being written to a path that may be gone
    /// (SCTP would retransmit them only after its backed-off timer, RFC 9260 §6.3.3).
    restarting: bool,
    /// `Interrupted`, and recovering on a fresh peer connection: only its open data channel
    /// ends the interruption (its ICE connecting says nothing about the channel).
    fresh: bool,
    /// Current token per timer; 0 = not armed.
    tokens: [u64; TIMERS],
}

impl PeerMachine {
    /// A peer we have not connected to yet. `initiator`: we send the first offer and build
    /// every fresh connection.
    pub(crate) fn new(initiator: bool, bounds: Bounds) -> Self {
        Self {
            state: PeerState::Connecting,
            announced: false,
            initiator,
            bounds,
            attempts: 0,
            restarts: 0,
            retry_is_reconnect: false,
            restarting: false,
            fresh: false,
            tokens: [0; TIMERS],
        }
    }

    /// The current state.
    pub(crate) fn state(&self) -> PeerState {
        self.state
    }

    /// Whether this side builds fresh connections.
    pub(crate) fn initiator(&self) -> bool {
        self.initiator
    }

    /// From now on this side builds fresh connections (it sent an offer of a fresh session).
    pub(crate) fn set_initiator(&mut self, initiator: bool) {
        self.initiator = initiator;
    }

    /// Messages may be written to the data channel now.
    pub(crate) fn writable(&self) -> bool {
        self.state == PeerState::Connected && !self.restarting
    }

    /// The peer is still alive for the app: messages to it are kept in the outbox.
    pub(crate) fn live(&self) -> bool {
        matches!(
            self.state,
            PeerState::Connecting | PeerState::Connected | PeerState::Interrupted
        )
    }

    /// Feeds one input; returns the effects, in the order to run them.
    pub(crate) fn handle(&mut self, input: PeerInput) -> Vec<Effect> {
        let mut fx = Vec::new();
        if let PeerInput::Timer(timer, token) = input {
            if token == 0 || self.tokens[slot(timer)] != token {
                return fx;
            }
            self.tokens[slot(timer)] = 0;
        }
        use PeerInput as I;
        use PeerState as S;
        if input == I::ConnectionLost && self.state != S::Closed && self.state != S::Failed {
            // Nothing more travels on it: drop it, so none of its late events count.
            fx.push(Effect::Release);
        }
        match (self.state, input) {
            (S::Closed, _) => {}
            (S::Connecting | S::Connected | S::Interrupted, I::Left) => {
                self.cancel_all();
                self.to(S::Closed, &mut fx);
                fx.push(Effect::FailOutbox);
                fx.push(Effect::Release);
            }
            (S::Failed, I::RemoteReplaced) => {
                self.attempts = 0;
                self.restarts = 0;
                self.announced = true;
                self.to(S::Connecting, &mut fx);
            }
            (S::Failed, _) => {}

            // ---- Connecting ----
            (S::Connecting, I::AttemptStarted) => {
                self.attempts += 1;
                if !self.announced {
                    self.announced = true;
                    fx.push(Effect::Report(S::Connecting));
                }
                if self.tokens[slot(Timer::GiveUp)] == 0 {
                    self.arm(Timer::GiveUp, self.bounds.connect_timeout_ms, &mut fx);
                }
                self.cancel(Timer::Retry);
                self.arm(Timer::Attempt, self.bounds.attempt_timeout_ms, &mut fx);
            }
            (S::Connecting, I::ChannelOpen) => self.connected(&mut fx),
            (S::Connecting, I::Timer(Timer::Attempt, _) | I::ConnectionLost | I::IceFailed) => {
                self.cancel(Timer::Attempt);
                if !self.initiator {
                    // The initiator retries; wait for its fresh offer (bounded by give-up).
                } else if self.attempts >= MAX_SETUP_ATTEMPTS {
                    self.give_up(&mut fx);
                } else {
                    self.retry_is_reconnect = true;
                    self.arm(Timer::Retry, retry_delay_ms(self.attempts), &mut fx);
                }
            }
            (S::Connecting, I::NetworkChanged) if self.initiator => {
                self.cancel(Timer::Retry);
                fx.push(Effect::Reconnect);
            }
            (S::Connecting, I::Timer(Timer::Retry, _)) => fx.push(Effect::Reconnect),
            (S::Connecting, I::SignalingReady)
                if self.initiator
                    && self.tokens[slot(Timer::Attempt)] == 0
                    && self.tokens[slot(Timer::Retry)] == 0 =>
            {
                // A retry that was skipped while signaling was down.
                fx.push(Effect::Reconnect);
            }
            (S::Connecting, I::Timer(Timer::GiveUp, _)) => self.give_up(&mut fx),
            (S::Connecting, _) => {}

            // ---- Connected ----
            (S::Connected, I::IceDisconnected) => {
                self.interrupted(&mut fx);
                self.retry_is_reconnect = false;
                self.arm(Timer::Retry, ICE_RESTART_DELAY_MS, &mut fx);
            }
            (S::Connected, I::IceFailed) => {
                self.interrupted(&mut fx);
                self.restart_ice(&mut fx);
            }
            (S::Connected, I::NetworkChanged) => {
                // The path may be fine (a change that did not touch it): restart ICE without
                // interrupting the chat; if the restart does not reconnect in time, the
                // attempt timer interrupts.
                self.restarts = 1;
                self.restarting = true;
                self.retry_is_reconnect = false;
                self.arm(Timer::Attempt, ICE_RESTART_TIMEOUT_MS, &mut fx);
                self.arm(Timer::Retry, NETWORK_SETTLE_MS, &mut fx);
            }
            (S::Connected, I::IceConnected) => {
                self.cancel(Timer::Attempt);
                if std::mem::take(&mut self.restarting) {
                    fx.push(Effect::FlushOutbox);
                }
            }
            (S::Connected, I::SignalingReady) if self.restarting => {
                // Restart now if it was skipped while signaling was down. An offer sent before
                // may have died with the old signaling connection (a network change takes
                // both), or may just come late, relayed on the resumed session: offer again
                // only if it is not answered within OFFER_ANSWER_TIMEOUT_MS.
                fx.push(Effect::RestartIce);
                self.retry_is_reconnect = false;
                self.arm(Timer::Retry, OFFER_ANSWER_TIMEOUT_MS, &mut fx);
            }
            (S::Connected, I::Timer(Timer::Retry, _)) if self.restarting => {
                fx.push(Effect::RestartIce);
            }
            (S::Connected, I::Timer(Timer::Attempt, _)) => {
                // An ICE restart after a network change did not reconnect.
                self.interrupted(&mut fx);
                self.retry_is_reconnect = false;
                self.arm(Timer::Retry, retry_delay_ms(1), &mut fx);
            }
            (S::Connected, I::ConnectionLost | I::RemoteReplaced) => {
                self.interrupted(&mut fx);
                self.reconnect_now(input, &mut fx);
            }
            (S::Connected, _) => {}

            // ---- Interrupted ----
            (S::Interrupted, I::IceConnected) if !self.fresh => self.connected(&mut fx),
            (S::Interrupted, I::ChannelOpen) => self.connected(&mut fx),
            (S::Interrupted, I::Timer(Timer::Retry, _)) => {
                if self.retry_is_reconnect {
                    self.restarts += 1;
                    self.cancel(Timer::Attempt);
                    self.arm(Timer::Attempt, self.bounds.attempt_timeout_ms, &mut fx);
                    fx.push(Effect::Reconnect);
                } else {
                    self.restart_ice(&mut fx);
                }
            }
            (S::Interrupted, I::Timer(Timer::Attempt, _) | I::IceFailed) => {
                self.cancel(Timer::Attempt);
                if self.tokens[slot(Timer::Retry)] != 0 {
                    // A recovery step is already scheduled.
                } else {
                    self.retry_is_reconnect = self.initiator && self.restarts >= MAX_ICE_RESTARTS;
                    self.arm(Timer::Retry, retry_delay_ms(self.restarts), &mut fx);
                }
            }
            (S::Interrupted, I::NetworkChanged) => {
                self.restarts = 0;
                self.cancel(Timer::Retry);
                self.restart_ice(&mut fx);
            }
            (S::Interrupted, I::SignalingReady) => {
                self.cancel(Timer::Retry);
                if self.retry_is_reconnect && self.initiator {
                    self.restarts += 1;
                    self.cancel(Timer::Attempt);
                    self.arm(Timer::Attempt, self.bounds.attempt_timeout_ms, &mut fx);
                    fx.push(Effect::Reconnect);
                } else {
                    // Restart now if none is outstanding (the actor skips restarts while
                    // signaling is down); one sent before may still be answered, so the
                    // connection offers again only after OFFER_ANSWER_TIMEOUT_MS.
                    self.restart_ice(&mut fx);
                    self.arm(Timer::Retry, OFFER_ANSWER_TIMEOUT_MS, &mut fx);
                }
            }
            (S::Interrupted, I::ConnectionLost) => {
                self.cancel(Timer::Attempt);
                if self.initiator {
                    self.retry_is_reconnect = true;
                    self.cancel(Timer::Retry);
                    self.arm(Timer::Retry, retry_delay_ms(self.restarts.max(1)), &mut fx);
                }
            }
            (S::Interrupted, I::RemoteReplaced | I::AttemptStarted) => {
                // A fresh connection is being set up: give it a full attempt.
                self.fresh = true;
                self.cancel(Timer::Retry);
                self.arm(Timer::Attempt, self.bounds.attempt_timeout_ms, &mut fx);
            }
            (S::Interrupted, I::Timer(Timer::GiveUp, _)) => self.give_up(&mut fx),
            (S::Interrupted, _) => {}
        }
        fx
    }

    fn to(&mut self, state: PeerState, fx: &mut Vec<Effect>) {
        if self.state != state {
            self.state = state;
            fx.push(Effect::Report(state));
        }
    }

    fn connected(&mut self, fx: &mut Vec<Effect>) {
        self.cancel_all();
        self.restarting = false;
        self.fresh = false;
        self.attempts = 0;
        self.restarts = 0;
        self.announced = true;
        self.to(PeerState::Connected, fx);
        fx.push(Effect::FlushOutbox);
    }

    fn interrupted(&mut self, fx: &mut Vec<Effect>) {
        self.cancel_all();
        self.restarting = false;
        self.fresh = false;
        self.restarts = 0;
        self.to(PeerState::Interrupted, fx);
        self.arm(Timer::GiveUp, RECOVERY_TIMEOUT_MS, fx);
    }

    fn restart_ice(&mut self, fx: &mut Vec<Effect>) {
        self.restarts += 1;
        self.cancel(Timer::Attempt);
        self.arm(Timer::Attempt, ICE_RESTART_TIMEOUT_MS, fx);
        fx.push(Effect::RestartIce);
    }

    fn reconnect_now(&mut self, input: PeerInput, fx: &mut Vec<Effect>) {
        self.restarts = 1;
        self.arm(Timer::Attempt, self.bounds.attempt_timeout_ms, fx);
        if self.initiator && input == PeerInput::ConnectionLost {
            fx.push(Effect::Reconnect);
        }
    }

    fn give_up(&mut self, fx: &mut Vec<Effect>) {
        self.cancel_all();
        self.to(PeerState::Failed, fx);
        fx.push(Effect::FailOutbox);
        fx.push(Effect::Release);
    }

    fn arm(&mut self, timer: Timer, ms: u64, fx: &mut Vec<Effect>) {
        // Unique in the process, not just in this machine: a timer of a peer that was removed
        // (it left, and came back under the same id) must never match its successor's.
        static NEXT_TOKEN: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        let token = NEXT_TOKEN.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.tokens[slot(timer)] = token;
        fx.push(Effect::Arm { timer, ms, token });
    }

    fn cancel(&mut self, timer: Timer) {
        self.tokens[slot(timer)] = 0;
    }

    fn cancel_all(&mut self) {
        self.tokens = [0; TIMERS];
    }
}

#[cfg(test)]
#[path = "peer_state_tests.rs"]
mod tests;
