//! The reference: two `webrtc` peer connections in one process, SDP exchanged directly after
//! ICE gathering completes (no signaling server), one ordered data channel, raw bytes.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::BytesMut;
use tokio::sync::mpsc;
use webrtc::data_channel::{DataChannel, DataChannelEvent};
use webrtc::peer_connection::{
    PeerConnection, PeerConnectionBuilder, PeerConnectionEventHandler, RTCIceGatheringState,
    SettingEngineBuilder,
};

/// Same send-buffer limit as the engine uses, so both are paced alike.
const SEND_BUFFER_LIMIT_BYTES: usize = 4 * 1024 * 1024;

/// Same SCTP receive window as the engine advertises (`peer::SCTP_RECEIVE_WINDOW_BYTES` in
/// peerchat-core, which says why 64 KiB), so the ratio compares like with like.
const SCTP_RECEIVE_WINDOW_BYTES: u32 = 64 * 1024;

struct Handler {
    gathered: mpsc::UnboundedSender<()>,
    channel: mpsc::UnboundedSender<Arc<dyn DataChannel>>,
}

#[async_trait::async_trait]
impl PeerConnectionEventHandler for Handler {
    async fn on_ice_gathering_state_change(&self, state: RTCIceGatheringState) {
        if state == RTCIceGatheringState::Complete {
            let _ = self.gathered.send(());
        }
    }
    async fn on_data_channel(&self, channel: Arc<dyn DataChannel>) {
        let _ = self.channel.send(channel);
    }
}

type Pc = Arc<dyn PeerConnection>;

async fn build() -> Result<
    (
        Pc,
        mpsc::UnboundedReceiver<()>,
        mpsc::UnboundedReceiver<Arc<dyn DataChannel>>,
    ),
    String,
> {
    let (gathered, gathered_rx) = mpsc::unbounded_channel();
    let (channel, channel_rx) = mpsc::unbounded_channel();
    let setting_engine = SettingEngineBuilder::new()
        .with_multicast_dns_mode(rtc::ice::mdns::MulticastDnsMode::Disabled)
        .with_sctp_max_receive_buffer_size(SCTP_RECEIVE_WINDOW_BYTES)
        .build();
    let pc = PeerConnectionBuilder::new()
        .with_setting_engine(setting_engine)
        .with_handler(Arc::new(Handler { gathered, channel }))
        .with_udp_addrs(vec!["127.0.0.1:0".to_string()])
        .with_data_channel_send_buffer_limit(SEND_BUFFER_LIMIT_BYTES)
        .build()
        .await
        .map_err(|e| e.to_string())?;
    Ok((Arc::new(pc), gathered_rx, channel_rx))
}

async fn within<T>(
    what: &str,
    f: impl std::future::Future<Output = Option<T>>,
) -> Result<T, String> {
    tokio::time::timeout(Duration::from_secs(30), f)
        .await
        .map_err(|_| format!("bare webrtc: timed out waiting for {what}"))?
        .ok_or_else(|| format!("bare webrtc: {what} never came"))
}

/// Sends `count` messages of `chunk` bytes and returns the seconds from the first send until
/// the receiver has every byte.
pub async fn transfer(count: usize, chunk: usize) -> Result<f64, String> {
    let (offerer, mut offer_gathered, _) = build().await?;
    let (answerer, mut answer_gathered, mut answer_channels) = build().await?;
    let sender = offerer
        .create_data_channel("bare", None)
        .await
        .map_err(|e| e.to_string())?;
    let offer = offerer
        .create_offer(None)
        .await
        .map_err(|e| e.to_string())?;
    offerer
        .set_local_description(offer)
        .await
        .map_err(|e| e.to_string())?;
    within("offerer gathering", offer_gathered.recv()).await?;
    let offer = within("offer", offerer.local_description()).await?;
    answerer
        .set_remote_description(offer)
        .await
        .map_err(|e| e.to_string())?;
    let answer = answerer
        .create_answer(None)
        .await
        .map_err(|e| e.to_string())?;
    answerer
        .set_local_description(answer)
        .await
        .map_err(|e| e.to_string())?;
    within("answerer gathering", answer_gathered.recv()).await?;
    let answer = within("answer", answerer.local_description()).await?;
    offerer
        .set_remote_description(answer)
        .await
        .map_err(|e| e.to_string())?;

    let receiver = within("data channel", answer_channels.recv()).await?;
    let total = count * chunk;
    let (done_tx, mut done_rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        let mut got = 0usize;
        while let Some(event) = receiver.poll().await {
            if let DataChannelEvent::OnMessage(m) = event {
                got += m.data.len();
                if got >= total {
                    let _ = done_tx.send(());
                    break;
                }
            }
        }
    });
    loop {
        match within("sender open", sender.poll()).await? {
            DataChannelEvent::OnOpen => break,
            DataChannelEvent::OnClose => return Err("bare webrtc: channel closed".into()),
            _ => {}
        }
    }
    let drain = sender.clone();
    tokio::spawn(async move { while drain.poll().await.is_some() {} });
    let payload = vec![b'x'; chunk];
    let start = Instant::now();
    for _ in 0..count {
        sender
            .send(BytesMut::from(&payload[..]))
            .await
            .map_err(|e| e.to_string())?;
    }
    tokio::time::timeout(Duration::from_secs(300), done_rx.recv())
        .await
        .map_err(|_| "bare webrtc: transfer timed out".to_string())?;
    let secs = start.elapsed().as_secs_f64();
    let _ = offerer.close().await;
    let _ = answerer.close().await;
    Ok(secs)
}
