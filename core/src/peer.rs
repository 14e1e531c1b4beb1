//! One remote peer: its `RTCPeerConnection` (the `webrtc` crate), SDP offer/answer, trickle ICE,
//! and the chat data channel's reader and writer tasks. It reports what happens as
//! [`PeerEvent`]s and knows nothing of rooms.

use std::sync::{Arc, Mutex};

use bytes::BytesMut;
use rtc::ice::mdns::MulticastDnsMode;
use tokio::sync::{mpsc, watch};
use webrtc::data_channel::{DataChannel, DataChannelEvent, RTCDataChannelInit};
use webrtc::peer_connection::{
    PeerConnection, PeerConnectionBuilder, PeerConnectionEventHandler, RTCConfigurationBuilder,
    RTCIceCandidateInit, RTCIceConnectionState, RTCIceServer, RTCPeerConnectionIceEvent,
    RTCPeerConnectionState, SettingEngineBuilder,
};

use crate::chat::{
    DATA_CHANNEL_LABEL, MAX_FRAME_BYTES, PATH_PROBE_INTERVAL_MS, PATH_PROBES,
    RECEIPT_CHANNEL_LABEL, RECEIPT_CHANNEL_READY_FRAME, path_probe_frame,
};
use crate::config::EngineConfig;
use crate::peer_runtime::{SetupPacing, SetupPacingRuntime};
use crate::peer_state::{
    ICE_DISCONNECTED_TIMEOUT_MS, ICE_FAILED_TIMEOUT_MS, ICE_KEEPALIVE_INTERVAL_MS,
};
use crate::protocol::IceCandidate;

/// Send-buffer limit (bytes) per data channel: `send` waits while more than this is queued in
/// SCTP, so a fast sender cannot grow memory without bound (the `webrtc` crate's
/// `with_data_channel_send_buffer_limit`).
pub(crate) const SEND_BUFFER_LIMIT_BYTES: usize = 4 * 1024 * 1024;

/// Pacing (ms) of the ICE agent's checking tick while connecting, instead of the `webrtc`
/// crate's 200 ms. The first connectivity check on a new pair waits for this tick after the
/// remote candidate arrives (the `rtc-ice` agent checks only on its tick), so it bounds setup
/// time: 50 ms (RFC 8445 §14.2's default Ta) cost ~50 ms per loopback setup, 10 ms costs
/// ~10 ms. The tick only runs until the pair is nominated (one round trip on a working path);
/// once connected the agent's keepalive timing applies.
pub(crate) const ICE_CHECK_INTERVAL_MS: u64 = 10;

/// Binding requests per candidate pair before it is given up: 140 × 10 ms keeps the crate's
/// default budget of about 1.4 s per pair.
pub(crate) const ICE_MAX_BINDING_REQUESTS: u16 = 140;

/// How long (ms) after ICE starts a pair whose remote candidate is peer-reflexive may be
/// nominated: 0, as for host candidates, instead of the `rtc` crate's 1000 ms
/// (`DEFAULT_PRFLX_ACCEPTANCE_MIN_WAIT`, from Pion). With trickle ICE the answerer's first
/// connectivity check often reaches the offerer before the answerer's host candidate does, so
/// the offerer learns that address as peer-reflexive (RFC 8445 §7.3.1.3) and then waited a full
/// second to nominate it: measured, 9 of 30 loopback connections took ~1.05 s to ICE-connected
/// instead of ~50 ms — the p99 of `peerchat bench` setup. Browsers hiding host addresses behind
/// mDNS names hit the same case. libwebrtc applies no such wait.
pub(crate) const ICE_PRFLX_ACCEPTANCE_MIN_WAIT_MS: u64 = 0;

/// SCTP receive window (bytes) we advertise (`a_rwnd`), instead of the `rtc` crate's 1 MiB.
/// The sender may have this much in flight at once, and on a fast path it arrives as one burst.
/// A 1 MiB burst (~900 packets) overflows a UDP socket's default receive buffer (Linux
/// `net.core.rmem_default`, 212 992 bytes including per-packet overhead); every overflow
/// costs a fast retransmit or a 1 s retransmission timeout (RFC 9260 RTO.Min). Measured with
/// `peerchat bench` on loopback (16 KiB messages, bare pair): 1 MiB → 3–28 MB/s with hundreds
/// of `RcvbufErrors`; 128 KiB and 96 KiB still overflow; 64 KiB → ~60 MB/s with none. The
/// crate requires the window to hold the largest message we accept, [`MAX_FRAME_BYTES`], so
/// this is also the smallest allowed value. Cost: one peer can send us at most 64 KiB per
/// round trip (about 1.3 MB/s at 50 ms), ample for chat.
pub(crate) const SCTP_RECEIVE_WINDOW_BYTES: u32 = 64 * 1024;

const _: () = assert!(SCTP_RECEIVE_WINDOW_BYTES as usize >= MAX_FRAME_BYTES);

/// What a peer's connection reports to the engine.
#[derive(Debug)]
pub(crate) enum PeerEvent {
    /// A local ICE candidate to trickle to the peer.
    LocalCandidate(IceCandidate),
    /// The peer connection changed state.
    ConnectionState(RTCPeerConnectionState),
    /// The ICE transport connected (again): after an ICE restart this is the only sign the
    /// new candidate pair works, since the peer connection may never have left `connected`.
    IceConnected,
    /// The chat data channel opened.
    ChannelOpen,
    /// A data-channel text message arrived.
    Frame(BytesMut),
    /// A binary data-channel message of this many bytes arrived (refused by the chat layer).
    BinaryFrame(usize),
    /// A queued message frame was handed to SCTP.
    FrameSent(String),
    /// The data channel closed.
    ChannelClosed,
    /// Something failed (a `webrtc` error's text).
    Error(String),
    /// The connection's driver task ended (closed by us, or an error exit such as the
    /// `rtc-dtls` stall that ends in "invalid state machine transition"): nothing more will
    /// travel on this connection.
    DriverStopped,
}

/// A frame queued for the data channel, with the message id when it is a chat message.
struct Outgoing {
    text: String,
    message_id: Option<String>,
}

/// The connection to one remote peer.
pub(crate) struct PeerConnectionLink {
    pc: Arc<dyn PeerConnection>,
    writer: mpsc::UnboundedSender<Outgoing>,
    /// Receipts for the chat channel's writer, which sends them before any queued message.
    priority_writer: mpsc::UnboundedSender<String>,
    /// Receipts for the receipt channel's writer.
    receipt_writer: mpsc::UnboundedSender<String>,
    /// The peer announced it reads receipts on the receipt channel (`true`), until that
    /// channel closes.
    receipt_channel_ready: watch::Receiver<bool>,
    report: Arc<dyn Fn(PeerEvent) + Send + Sync>,
    remote_description_set: bool,
    early_candidates: Vec<RTCIceCandidateInit>,
    candidate_section: Arc<Mutex<Option<MediaSection>>>,
    /// Offer/answer state of this connection (see `peer_negotiation.rs`).
    negotiation: Negotiation,
}

struct Handler {
    report: Arc<dyn Fn(PeerEvent) + Send + Sync>,
    /// Told when ICE connects (early DTLS records, see `peer_runtime`).
    pacing: SetupPacing,
    channel_tx: mpsc::UnboundedSender<Arc<dyn DataChannel>>,
    /// Where our candidates belong, from the local description; set before it is applied.
    candidate_section: Arc<Mutex<Option<MediaSection>>>,
}

/// The m-section our ICE candidates belong to: the first one of the local SDP (we negotiate
/// one `m=application` section; with BUNDLE every candidate belongs to the first one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MediaSection {
    /// Its `a=mid:` value (RFC 8843 §5), e.g. `"0"`.
    pub(crate) mid: String,
    /// Its position among the SDP's m-lines, from 0.
    pub(crate) index: u16,
    /// Its `a=ice-ufrag:` (section level, else session level), if any.
    pub(crate) ufrag: Option<String>,
}

/// The first m-section of `sdp` that carries an `a=mid:`, with its index and ICE ufrag.
///
/// Why: the `rtc` crate's `RTCIceCandidate::to_json` (0.21.1) always returns `sdp_mid: ""` and
/// `sdp_mline_index: 0` and no `username_fragment`, whatever the SDP says (upstream report in
/// `docs/architecture.md`, "Upstream reports"). A browser's `addIceCandidate` and aiortc look
/// candidates up by mid, so we fill in the real values.
pub(crate) fn candidate_section(sdp: &str) -> Option<MediaSection> {
    let mut session_ufrag = None;
    // (index, mid, section ufrag) of the m-section being read.
    let mut current: Option<(u16, Option<String>, Option<String>)> = None;
    let finish = |(index, mid, ufrag): (u16, Option<String>, Option<String>),
                  session: &Option<String>| {
        mid.map(|mid| MediaSection {
            mid,
            index,
            ufrag: ufrag.or_else(|| session.clone()),
        })
    };
    for line in sdp.lines().map(str::trim_end) {
        if line.starts_with("m=") {
            let index = match current.take() {
                Some(section) => {
                    let next = section.0.saturating_add(1);
                    if let Some(found) = finish(section, &session_ufrag) {
                        return Some(found);
                    }
                    next
                }
                None => 0,
            };
            current = Some((index, None, None));
        } else if let Some(ufrag) = line.strip_prefix("a=ice-ufrag:") {
            match current.as_mut() {
                Some(section) => section.2 = Some(ufrag.to_string()),
                None => session_ufrag = Some(ufrag.to_string()),
            }
        } else if let (Some(mid), Some(section)) = (line.strip_prefix("a=mid:"), current.as_mut()) {
            section.1.get_or_insert_with(|| mid.to_string());
        }
    }
    current.and_then(|section| finish(section, &session_ufrag))
}

#[async_trait::async_trait]
impl PeerConnectionEventHandler for Handler {
    async fn on_ice_candidate(&self, event: RTCPeerConnectionIceEvent) {
        let section = self
            .candidate_section
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        match event.candidate.to_json() {
            Ok(init) => (self.report)(PeerEvent::LocalCandidate(IceCandidate {
                candidate: init.candidate,
                sdp_mid: section
                    .as_ref()
                    .map(|s| s.mid.clone())
                    .or(init.sdp_mid.filter(|mid| !mid.is_empty())),
                sdp_m_line_index: section.as_ref().map(|s| s.index).or(init.sdp_mline_index),
                username_fragment: section.and_then(|s| s.ufrag).or(init.username_fragment),
                extra: Default::default(),
            })),
            Err(err) => (self.report)(PeerEvent::Error(format!("local candidate: {err}"))),
        }
    }

    async fn on_ice_connection_state_change(&self, state: RTCIceConnectionState) {
        if matches!(
            state,
            RTCIceConnectionState::Connected | RTCIceConnectionState::Completed
        ) {
            self.pacing.ice_connected();
            (self.report)(PeerEvent::IceConnected);
        }
    }

    async fn on_connection_state_change(&self, state: RTCPeerConnectionState) {
        (self.report)(PeerEvent::ConnectionState(state));
    }

    async fn on_data_channel(&self, channel: Arc<dyn DataChannel>) {
        let _ = self.channel_tx.send(channel);
    }
}

/// Whether this host can join the mDNS group 224.0.0.251 on any interface, as the `webrtc`
/// crate's mDNS socket does when it is built. Without a route covering multicast (a host or
/// namespace with only loopback) the join fails with ENODEV, and so would building the peer
/// connection; the engine then goes on without mDNS instead of failing.
fn mdns_usable() -> bool {
    use std::net::{Ipv4Addr, UdpSocket};
    UdpSocket::bind((Ipv4Addr::UNSPECIFIED, 0))
        .and_then(|s| s.join_multicast_v4(&Ipv4Addr::new(224, 0, 0, 251), &Ipv4Addr::UNSPECIFIED))
        .is_ok()
}

fn ice_servers(config: &EngineConfig) -> Vec<RTCIceServer> {
    config
        .ice_servers
        .iter()
        .map(|s| RTCIceServer {
            urls: s.urls.clone(),
            username: s.username.clone().unwrap_or_default(),
            credential: s.credential.clone().unwrap_or_default(),
        })
        .collect()
}

impl PeerConnectionLink {
    /// Builds the peer connection. As the offerer (`offerer == true`) it also creates the chat
    /// data channel (reliable, ordered); the answerer receives it in `on_data_channel`.
    pub(crate) async fn new(
        config: &EngineConfig,
        offerer: bool,
        report: Arc<dyn Fn(PeerEvent) + Send + Sync>,
    ) -> Result<Self, String> {
        // QueryOnly resolves a browser's `<uuid>.local` host candidates
        // (draft-ietf-mmusic-mdns-ice-candidates) and never advertises names of our own.
        let mdns = config.resolve_mdns_candidates && mdns_usable();
        if config.resolve_mdns_candidates && !mdns {
            tracing::warn!(
                "mDNS unavailable (no multicast route): browsers' .local candidates will not resolve"
            );
        }
        let setting_engine = SettingEngineBuilder::new()
            .with_multicast_dns_mode(if mdns {
                MulticastDnsMode::QueryOnly
            } else {
                MulticastDnsMode::Disabled
            })
            .with_ice_connection_attempts(
                Some(std::time::Duration::from_millis(ICE_CHECK_INTERVAL_MS)),
                Some(ICE_MAX_BINDING_REQUESTS),
            )
            .with_prflx_acceptance_min_wait(Some(std::time::Duration::from_millis(
                ICE_PRFLX_ACCEPTANCE_MIN_WAIT_MS,
            )))
            .with_sctp_max_receive_buffer_size(SCTP_RECEIVE_WINDOW_BYTES)
            // ICE restart (RFC 8445 §9) replaces the sockets and gathers anew, so a new local
            // address is used after a network change (see `peer_negotiation.rs`).
            .with_discard_local_candidates_during_ice_restart(true)
            .with_ice_timeouts(
                Some(std::time::Duration::from_millis(
                    ICE_DISCONNECTED_TIMEOUT_MS,
                )),
                Some(std::time::Duration::from_millis(ICE_FAILED_TIMEOUT_MS)),
                Some(std::time::Duration::from_millis(ICE_KEEPALIVE_INTERVAL_MS)),
            )
            .build();
        let configuration = RTCConfigurationBuilder::new()
            .with_ice_servers(ice_servers(config))
            .with_ice_transport_policy(config.ice_transport_policy.into())
            .build();
        let udp_addrs = if config.ice_udp_addrs.is_empty() {
            vec!["0.0.0.0:0".to_string()]
        } else {
            config.ice_udp_addrs.clone()
        };
        let (channel_tx, mut channel_rx) = mpsc::unbounded_channel();
        let candidate_section = Arc::new(Mutex::new(None));
        // Flushes what the driver queues while it handles setup events (see `peer_runtime`).
        let pacing = SetupPacing::new();
        let handler = Arc::new(Handler {
            report: report.clone(),
            pacing: pacing.clone(),
            channel_tx: channel_tx.clone(),
            candidate_section: candidate_section.clone(),
        });
        let stopped_report = report.clone();
        let runtime = SetupPacingRuntime::new(pacing.clone())
            .map(|r| r.on_driver_stopped(move || stopped_report(PeerEvent::DriverStopped)))
            .ok_or_else(|| "the webrtc crate was built without a runtime".to_string())?;
        let pc = PeerConnectionBuilder::new()
            .with_runtime(Arc::new(runtime))
            .with_configuration(configuration)
            .with_setting_engine(setting_engine)
            .with_handler(handler)
            .with_udp_addrs(udp_addrs)
            .with_data_channel_send_buffer_limit(SEND_BUFFER_LIMIT_BYTES)
            .build()
            .await
            .map_err(|e| format!("building the peer connection: {e}"))?;
        let pc: Arc<dyn PeerConnection> = Arc::new(pc);
        if offerer {
            let init = RTCDataChannelInit {
                ordered: true,
                ..Default::default()
            };
            let channel = pc
                .create_data_channel(DATA_CHANNEL_LABEL, Some(init))
                .await
                .map_err(|e| format!("creating the data channel: {e}"))?;
            let _ = channel_tx.send(channel);
            // Reliable (no lifetime or retransmit limit) but unordered: see RECEIPT_CHANNEL_LABEL.
            let init = RTCDataChannelInit {
                ordered: false,
                ..Default::default()
            };
            let channel = pc
                .create_data_channel(RECEIPT_CHANNEL_LABEL, Some(init))
                .await
                .map_err(|e| format!("creating the receipt channel: {e}"))?;
            let _ = channel_tx.send(channel);
        }
        let (writer, writer_rx) = mpsc::unbounded_channel();
        let (priority_writer, priority_rx) = mpsc::unbounded_channel();
        let (receipt_writer, receipt_rx) = mpsc::unbounded_channel();
        let (receipt_channel_ready, receipt_channel_ready_rx) = watch::channel(false);
        let link = Self {
            pc,
            writer,
            priority_writer,
            receipt_writer,
            receipt_channel_ready: receipt_channel_ready_rx,
            report: report.clone(),
            remote_description_set: false,
            early_candidates: Vec::new(),
            candidate_section,
            negotiation: Default::default(),
        };
        // The first data channel with each of our labels is used; others are ignored.
        tokio::spawn(async move {
            let mut chat_queues = Some((writer_rx, priority_rx));
            let mut receipt_rx = Some(receipt_rx);
            let mut receipt_channel_ready = Some(receipt_channel_ready);
            while let Some(channel) = channel_rx.recv().await {
                match channel.label().await.ok().as_deref() {
                    Some(DATA_CHANNEL_LABEL) => {
                        if let Some(queues) = chat_queues.take() {
                            spawn_channel_tasks(channel, queues, report.clone(), pacing.clone());
                        }
                    }
                    Some(RECEIPT_CHANNEL_LABEL) => {
                        if let (Some(rx), Some(ready)) =
                            (receipt_rx.take(), receipt_channel_ready.take())
                        {
                            spawn_receipt_channel_tasks(channel, rx, report.clone(), ready);
                        }
                    }
                    _ => {}
                }
            }
        });
        Ok(link)
    }

    /// Records where our candidates belong before `sdp` becomes the local description, since
    /// gathering (and so `on_ice_candidate`) starts as soon as it is applied.
    fn set_candidate_section(&self, sdp: &str) {
        *self
            .candidate_section
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = candidate_section(sdp);
    }

    /// Adds a remote trickle ICE candidate, or keeps it until the remote description is set.
    /// An empty candidate (end-of-candidates) is ignored.
    pub(crate) async fn add_remote_candidate(&mut self, candidate: IceCandidate) {
        if candidate.candidate.is_empty() {
            return;
        }
        let init = RTCIceCandidateInit {
            candidate: candidate.candidate,
            sdp_mid: candidate.sdp_mid,
            sdp_mline_index: candidate.sdp_m_line_index,
            username_fragment: candidate.username_fragment,
            url: None,
        };
        if self.remote_description_set {
            self.add_candidate(init).await;
        } else {
            self.early_candidates.push(init);
        }
    }

    async fn add_candidate(&self, init: RTCIceCandidateInit) {
        let text = init.candidate.clone();
        if let Err(err) = self.pc.add_ice_candidate(init).await {
            // One unusable candidate (say an unresolvable mDNS name) is not fatal: ICE tries the
            // others, and the connect timeout reports a peer that never connects.
            tracing::debug!(%err, candidate = %text, "remote ICE candidate not added");
        }
    }

    /// Queues a frame for the data channel. `message_id` marks chat messages, whose hand-off
    /// to SCTP is reported as [`PeerEvent::FrameSent`].
    pub(crate) fn send(&self, text: String, message_id: Option<String>) -> bool {
        self.writer.send(Outgoing { text, message_id }).is_ok()
    }

    /// Queues a receipt (an `ack` frame) so that it never waits behind queued chat messages: on
    /// the receipt channel once the peer announced it reads it there
    /// ([`RECEIPT_CHANNEL_READY_FRAME`]), otherwise on the chat channel ahead of every queued
    /// message. Returns `false` if the connection's writers are gone.
    pub(crate) fn send_receipt(&self, text: String) -> bool {
        if *self.receipt_channel_ready.borrow() {
            self.receipt_writer.send(text).is_ok()
        } else {
            self.priority_writer.send(text).is_ok()
        }
    }

    /// Writes [`PATH_PROBES`] `probe` frames, [`PATH_PROBE_INTERVAL_MS`] apart, where receipts
    /// go (the receipt channel once the peer reads it, else the chat channel ahead of queued
    /// messages): after an ICE restart has connected, they make SCTP fast-retransmit what the
    /// old path lost instead of waiting for its retransmission timer
    /// ([`crate::chat::Frame::Probe`]). Returns at once; a task paces the probes.
    pub(crate) fn send_path_probes(&self) {
        let receipt_writer = self.receipt_writer.clone();
        let priority_writer = self.priority_writer.clone();
        let ready = self.receipt_channel_ready.clone();
        tokio::spawn(async move {
            let probe = path_probe_frame();
            for n in 0..PATH_PROBES {
                if n > 0 {
                    // Apart, so that the receiver answers each with its own SACK (packets that
                    // arrive together are answered by one).
                    tokio::time::sleep(std::time::Duration::from_millis(PATH_PROBE_INTERVAL_MS))
                        .await;
                }
                let sent = if *ready.borrow() {
                    receipt_writer.send(probe.clone()).is_ok()
                } else {
                    priority_writer.send(probe.clone()).is_ok()
                };
                if !sent {
                    return;
                }
            }
        });
    }

    /// Closes the peer connection (and with it the data channel).
    pub(crate) async fn close(&self) {
        if let Err(err) = self.pc.close().await {
            (self.report)(PeerEvent::Error(format!("close: {err}")));
        }
    }
}

fn spawn_channel_tasks(
    channel: Arc<dyn DataChannel>,
    (mut writer_rx, mut priority_rx): (
        mpsc::UnboundedReceiver<Outgoing>,
        mpsc::UnboundedReceiver<String>,
    ),
    report: Arc<dyn Fn(PeerEvent) + Send + Sync>,
    pacing: SetupPacing,
) {
    let reader = channel.clone();
    let reader_report = report.clone();
    // The writer sends nothing before the channel is open (a send before would fail and end
    // it): frames queued early wait in its queue.
    let (open_tx, open_rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        let mut open_tx = Some(open_tx);
        while let Some(event) = reader.poll().await {
            match event {
                DataChannelEvent::OnOpen => {
                    // Setup is over: let the driver drain bursts again (bulk throughput).
                    pacing.finish();
                    if let Some(tx) = open_tx.take() {
                        let _ = tx.send(());
                    }
                    reader_report(PeerEvent::ChannelOpen)
                }
                DataChannelEvent::OnMessage(message) if message.is_string => {
                    reader_report(PeerEvent::Frame(message.data))
                }
                DataChannelEvent::OnMessage(message) => {
                    reader_report(PeerEvent::BinaryFrame(message.data.len()))
                }
                DataChannelEvent::OnClose => break,
                _ => {}
            }
        }
        reader_report(PeerEvent::ChannelClosed);
    });
    tokio::spawn(async move {
        if open_rx.await.is_err() {
            return;
        }
        loop {
            // Receipts first: `biased` polls the priority queue before the message queue.
            let out = tokio::select! {
                biased;
                Some(text) = priority_rx.recv() => Outgoing { text, message_id: None },
                Some(out) = writer_rx.recv() => out,
                else => break,
            };
            match channel.send_text(&out.text).await {
                Ok(()) => {
                    if let Some(id) = out.message_id {
                        report(PeerEvent::FrameSent(id));
                    }
                }
                Err(err) => {
                    report(PeerEvent::Error(format!("data channel send: {err}")));
                    break;
                }
            }
        }
    });
}

/// Reader and writer of the receipt channel. The writer first sends
/// [`RECEIPT_CHANNEL_READY_FRAME`]; the reader turns `ready` on when the peer's arrives and
/// forwards only `ack` frames (anything else on this unordered channel is dropped, so a peer
/// cannot reorder chat messages through it).
fn spawn_receipt_channel_tasks(
    channel: Arc<dyn DataChannel>,
    mut receipt_rx: mpsc::UnboundedReceiver<String>,
    report: Arc<dyn Fn(PeerEvent) + Send + Sync>,
    ready: watch::Sender<bool>,
) {
    let reader = channel.clone();
    let (open_tx, open_rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        let mut open_tx = Some(open_tx);
        while let Some(event) = reader.poll().await {
            match event {
                DataChannelEvent::OnOpen => {
                    if let Some(tx) = open_tx.take() {
                        let _ = tx.send(());
                    }
                }
                DataChannelEvent::OnMessage(message) => match receipt_frame_kind(&message.data) {
                    Some(ReceiptFrame::Ready) => {
                        ready.send_replace(true);
                    }
                    Some(ReceiptFrame::Ack) => report(PeerEvent::Frame(message.data)),
                    Some(ReceiptFrame::Probe) => {}
                    None => tracing::debug!("non-receipt frame on the receipt channel dropped"),
                },
                DataChannelEvent::OnClose => break,
                _ => {}
            }
        }
        // Receipts go back to the chat channel.
        ready.send_replace(false);
    });
    tokio::spawn(async move {
        if open_rx.await.is_err() {
            return;
        }
        if channel
            .send_text(RECEIPT_CHANNEL_READY_FRAME)
            .await
            .is_err()
        {
            return;
        }
        while let Some(text) = receipt_rx.recv().await {
            if let Err(err) = channel.send_text(&text).await {
                tracing::debug!(%err, "receipt channel send failed");
                break;
            }
        }
    });
}

enum ReceiptFrame {
    Ready,
    Ack,
    /// A path probe after an ICE restart ([`crate::chat::Frame::Probe`]): nothing to do.
    Probe,
}

/// What a frame received on the receipt channel is, by its `type`; `None` for anything else.
fn receipt_frame_kind(bytes: &[u8]) -> Option<ReceiptFrame> {
    #[derive(serde::Deserialize)]
    struct Tagged<'a> {
        #[serde(rename = "type", borrow)]
        kind: std::borrow::Cow<'a, str>,
    }
    if bytes.len() > MAX_FRAME_BYTES {
        return None;
    }
    match serde_json::from_slice::<Tagged>(bytes).ok()?.kind.as_ref() {
        "receipts_ready" => Some(ReceiptFrame::Ready),
        "ack" => Some(ReceiptFrame::Ack),
        "probe" => Some(ReceiptFrame::Probe),
        _ => None,
    }
}

#[path = "peer_negotiation.rs"]
mod negotiation;
pub(crate) use negotiation::{Negotiation, OfferPolicy, polite};

#[cfg(test)]
#[path = "peer_tests.rs"]
mod link_tests;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn candidate_section_is_the_first_m_section_with_its_mid_index_and_ufrag() {
        let sdp = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n\
                   a=group:BUNDLE 0\r\na=ice-ufrag:sess\r\n\
                   m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 0.0.0.0\r\n\
                   a=ice-ufrag:AbCd\r\na=mid:0\r\na=sctp-port:5000\r\n";
        assert_eq!(
            candidate_section(sdp),
            Some(MediaSection {
                mid: "0".into(),
                index: 0,
                ufrag: Some("AbCd".into())
            })
        );
        let second = "v=0\r\na=ice-ufrag:sess\r\nm=audio 9 RTP/AVP 0\r\n\
                      m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\na=mid:data\r\n";
        assert_eq!(
            candidate_section(second),
            Some(MediaSection {
                mid: "data".into(),
                index: 1,
                ufrag: Some("sess".into())
            })
        );
        assert_eq!(candidate_section("v=0\r\n"), None);
    }
}
