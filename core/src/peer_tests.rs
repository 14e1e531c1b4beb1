//! Real peer connections over loopback UDP: receipts on the receipt channel between two current
//! peers, and on the chat channel for a peer that does not implement it.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::mpsc::{self, UnboundedReceiver, UnboundedSender};
use webrtc::data_channel::{DataChannel, DataChannelEvent};
use webrtc::peer_connection::{
    PeerConnection, PeerConnectionBuilder, PeerConnectionEventHandler, RTCIceCandidateInit,
    RTCPeerConnectionIceEvent, RTCSessionDescription, SettingEngineBuilder,
};

use super::{PeerConnectionLink, PeerEvent};
use crate::chat::{DATA_CHANNEL_LABEL, RECEIPT_CHANNEL_LABEL};
use crate::config::EngineConfig;
use crate::protocol::IceCandidate;

const STEP: Duration = Duration::from_secs(10);
const ACK: &str = r#"{"type":"ack","id":"m-1"}"#;

async fn link(offerer: bool) -> (PeerConnectionLink, UnboundedReceiver<PeerEvent>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let config = EngineConfig::new("ws://127.0.0.1:1", "test").loopback_only();
    let link = PeerConnectionLink::new(
        &config,
        offerer,
        Arc::new(move |event| {
            let _ = tx.send(event);
        }),
    )
    .await
    .expect("peer connection");
    (link, rx)
}

/// Runs both links' events until `done` says so, trickling candidates between them. Returns
/// the frames each side received (offerer's, answerer's).
async fn pump(
    a: &mut PeerConnectionLink,
    a_rx: &mut UnboundedReceiver<PeerEvent>,
    b: &mut PeerConnectionLink,
    b_rx: &mut UnboundedReceiver<PeerEvent>,
    mut done: impl FnMut(&PeerEvent, bool) -> bool,
) {
    let deadline = tokio::time::sleep(STEP);
    tokio::pin!(deadline);
    loop {
        tokio::select! {
            Some(event) = a_rx.recv() => {
                if let PeerEvent::LocalCandidate(c) = &event {
                    b.add_remote_candidate(c.clone()).await;
                }
                if done(&event, true) { return; }
            }
            Some(event) = b_rx.recv() => {
                if let PeerEvent::LocalCandidate(c) = &event {
                    a.add_remote_candidate(c.clone()).await;
                }
                if done(&event, false) { return; }
            }
            _ = &mut deadline => panic!("timed out"),
        }
    }
}

#[tokio::test]
async fn receipts_use_the_receipt_channel_between_current_peers() {
    let (mut a, mut a_rx) = link(true).await;
    let (mut b, mut b_rx) = link(false).await;
    let offer = a.create_offer().await.unwrap();
    let answer = b.accept_offer(offer).await.unwrap();
    a.accept_answer(answer).await.unwrap();
    let start = Instant::now();
    let mut open = 0;
    pump(&mut a, &mut a_rx, &mut b, &mut b_rx, |e, _| {
        if matches!(e, PeerEvent::ChannelOpen) {
            open += 1;
        }
        open == 2
    })
    .await;
    // Setup pacing: without it the DTLS ClientHello, SCTP INIT and DCEP OPEN each wait for a
    // driver tick (10 ms ICE pacing, then 200 ms), ~400 ms in all on loopback.
    let setup = start.elapsed();
    assert!(setup < Duration::from_millis(300), "setup took {setup:?}");

    // Both sides announce `receipts_ready`; then a receipt travels on the receipt channel.
    let mut a_ready = a.receipt_channel_ready.clone();
    let mut b_ready = b.receipt_channel_ready.clone();
    tokio::time::timeout(STEP, a_ready.wait_for(|r| *r))
        .await
        .unwrap()
        .unwrap();
    tokio::time::timeout(STEP, b_ready.wait_for(|r| *r))
        .await
        .unwrap()
        .unwrap();
    assert!(b.send_receipt(ACK.to_string()));
    pump(&mut a, &mut a_rx, &mut b, &mut b_rx, |e, at_a| {
        at_a && matches!(e, PeerEvent::Frame(bytes) if &bytes[..] == ACK.as_bytes())
    })
    .await;
    a.close().await;
    b.close().await;
}

/// An answerer as older versions were: it reads only the `peerchat` channel and never sends
/// `receipts_ready`.
struct Legacy {
    candidates: UnboundedSender<RTCIceCandidateInit>,
    channels: UnboundedSender<Arc<dyn DataChannel>>,
}

#[async_trait::async_trait]
impl PeerConnectionEventHandler for Legacy {
    async fn on_ice_candidate(&self, event: RTCPeerConnectionIceEvent) {
        if let Ok(init) = event.candidate.to_json() {
            let _ = self.candidates.send(init);
        }
    }
    async fn on_data_channel(&self, channel: Arc<dyn DataChannel>) {
        let _ = self.channels.send(channel);
    }
}

#[tokio::test]
async fn a_peer_without_the_receipt_channel_gets_receipts_on_the_chat_channel() {
    let (mut a, mut a_rx) = link(true).await;
    let (cand_tx, mut cand_rx) = mpsc::unbounded_channel();
    let (chan_tx, mut chan_rx) = mpsc::unbounded_channel();
    let legacy = PeerConnectionBuilder::new()
        .with_setting_engine(
            SettingEngineBuilder::new()
                .with_multicast_dns_mode(rtc::ice::mdns::MulticastDnsMode::Disabled)
                .build(),
        )
        .with_handler(Arc::new(Legacy {
            candidates: cand_tx,
            channels: chan_tx,
        }))
        .with_udp_addrs(vec!["127.0.0.1:0".to_string()])
        .build()
        .await
        .unwrap();
    let offer = a.create_offer().await.unwrap();
    legacy
        .set_remote_description(RTCSessionDescription::offer(offer).unwrap())
        .await
        .unwrap();
    let answer = legacy.create_answer(None).await.unwrap();
    legacy.set_local_description(answer.clone()).await.unwrap();
    a.accept_answer(answer.sdp).await.unwrap();

    // Trickle until the legacy side has its chat channel (the receipt channel it ignores).
    let deadline = tokio::time::sleep(STEP);
    tokio::pin!(deadline);
    let chat = loop {
        tokio::select! {
            Some(PeerEvent::LocalCandidate(c)) = a_rx.recv() => {
                let init = RTCIceCandidateInit {
                    candidate: c.candidate,
                    sdp_mid: c.sdp_mid,
                    sdp_mline_index: c.sdp_m_line_index,
                    username_fragment: c.username_fragment,
                    url: None,
                };
                let _ = legacy.add_ice_candidate(init).await;
            }
            Some(init) = cand_rx.recv() => {
                a.add_remote_candidate(IceCandidate {
                    candidate: init.candidate,
                    sdp_mid: init.sdp_mid,
                    sdp_m_line_index: init.sdp_mline_index,
                    username_fragment: init.username_fragment,
                    extra: Default::default(),
                }).await;
            }
            Some(channel) = chan_rx.recv() => {
                let label = channel.label().await.unwrap();
                if label == DATA_CHANNEL_LABEL {
                    break channel;
                }
                assert_eq!(label, RECEIPT_CHANNEL_LABEL);
            }
            _ = &mut deadline => panic!("timed out waiting for the chat channel"),
        }
    };

    assert!(a.send_receipt(ACK.to_string()));
    let received = tokio::time::timeout(STEP, async {
        while let Some(event) = chat.poll().await {
            if let DataChannelEvent::OnMessage(m) = event {
                return Some(m.data);
            }
        }
        None
    })
    .await
    .expect("the receipt reached the chat channel")
    .expect("chat channel closed");
    assert_eq!(&received[..], ACK.as_bytes());
    assert!(!*a.receipt_channel_ready.borrow());
    a.close().await;
    let _ = legacy.close().await;
}
