//! Waiting for engine events with a deadline: how the demo and the benchmark synchronise.

use std::time::Duration;

use peerchat_core::{EngineEvent, PeerState};
use tokio::sync::mpsc::UnboundedReceiver;

/// Receives events until `pick` returns `Some`, for at most `timeout`. Other events are
/// dropped. Errors with a description of what was awaited.
pub async fn until<T>(
    rx: &mut UnboundedReceiver<EngineEvent>,
    timeout: Duration,
    what: &str,
    mut pick: impl FnMut(&EngineEvent) -> Option<T>,
) -> Result<T, String> {
    let wait = async {
        while let Some(event) = rx.recv().await {
            if let EngineEvent::Error(err) = &event {
                tracing::debug!(%err, "engine error while waiting for {what}");
            }
            if let Some(found) = pick(&event) {
                return Ok(found);
            }
        }
        Err(format!("engine stopped while waiting for {what}"))
    };
    tokio::time::timeout(timeout, wait).await.map_err(|_| {
        format!(
            "timed out after {} ms waiting for {what}",
            timeout.as_millis()
        )
    })?
}

/// Waits until a peer's data channel is open (`PeerState::Connected`).
pub async fn data_channel_open(
    rx: &mut UnboundedReceiver<EngineEvent>,
    timeout: Duration,
) -> Result<(), String> {
    until(rx, timeout, "the data channel to open", |e| {
        matches!(
            e,
            EngineEvent::PeerState {
                state: PeerState::Connected,
                ..
            }
        )
        .then_some(())
    })
    .await
}

/// Starts an embedded signaling server on a free loopback port.
pub async fn loopback_server(
    tune: impl FnOnce(peerchat_server::ServerConfig) -> peerchat_server::ServerConfig,
) -> Result<peerchat_server::ServerHandle, String> {
    let config = tune(peerchat_server::ServerConfig::default().with_port(0));
    let server = peerchat_server::Server::bind(config)
        .await
        .map_err(|e| e.to_string())?;
    Ok(server.spawn())
}
