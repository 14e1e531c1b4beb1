//! The signaling client: one WebSocket to the server, moving [`protocol`](crate::protocol)
//! messages both ways. It knows nothing of rooms or peers.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

use crate::protocol::{ClientMessage, MAX_FRAME_BYTES, ServerMessage};

/// What the signaling task reports to the engine.
#[derive(Debug)]
pub(crate) enum SignalingEvent {
    /// A message from the server.
    Message(ServerMessage),
    /// The WebSocket could not be opened, or closed; no more events follow.
    Closed(String),
}

/// Handle to the running signaling task: a queue of outgoing messages.
#[derive(Clone)]
pub(crate) struct SignalingClient {
    outgoing: mpsc::UnboundedSender<ClientMessage>,
}

impl SignalingClient {
    /// Spawns the task that connects to `url` within `connect_timeout`, then forwards every
    /// server message to `events` until the socket closes or every handle is dropped (then it
    /// sends a WebSocket close frame). The returned task ends after the last event.
    /// For a `wss://` URL the server's certificate must chain to a web root or to one of
    /// `ca_cert_pem`'s certificates (see [`crate::tls`]).
    pub(crate) fn spawn(
        url: String,
        connect_timeout: Duration,
        ca_cert_pem: Option<String>,
        auth_token: Option<String>,
        events: impl Fn(SignalingEvent) + Send + 'static,
    ) -> (Self, tokio::task::JoinHandle<()>) {
        let (outgoing, rx) = mpsc::unbounded_channel();
        let task = tokio::spawn(run(
            url,
            connect_timeout,
            ca_cert_pem,
            auth_token,
            rx,
            events,
        ));
        (Self { outgoing }, task)
    }

    /// Queues a message; returns `false` when the connection is gone.
    pub(crate) fn send(&self, message: ClientMessage) -> bool {
        self.outgoing.send(message).is_ok()
    }
}

async fn run(
    url: String,
    connect_timeout: Duration,
    ca_cert_pem: Option<String>,
    auth_token: Option<String>,
    mut outgoing: mpsc::UnboundedReceiver<ClientMessage>,
    events: impl Fn(SignalingEvent),
) {
    let config = WebSocketConfig::default()
        .max_message_size(Some(MAX_FRAME_BYTES))
        .max_frame_size(Some(MAX_FRAME_BYTES));
    let connector = if url.starts_with("wss://") {
        match crate::tls::connector(ca_cert_pem.as_deref()) {
            Ok(c) => Some(c),
            Err(err) => {
                events(SignalingEvent::Closed(format!(
                    "cannot connect to {url}: {err}"
                )));
                return;
            }
        }
    } else {
        None
    };
    let request = match crate::tls::request(&url, auth_token.as_deref()) {
        Ok(r) => r,
        Err(err) => {
            events(SignalingEvent::Closed(format!(
                "cannot connect to {url}: {err}"
            )));
            return;
        }
    };
    let connect =
        tokio_tungstenite::connect_async_tls_with_config(request, Some(config), true, connector);
    let socket = match tokio::time::timeout(connect_timeout, connect).await {
        Ok(Ok((socket, _response))) => socket,
        Ok(Err(err)) => {
            events(SignalingEvent::Closed(format!(
                "cannot connect to {url}: {err}"
            )));
            return;
        }
        Err(_) => {
            events(SignalingEvent::Closed(format!(
                "connecting to {url} took longer than {} ms",
                connect_timeout.as_millis()
            )));
            return;
        }
    };
    let (mut sink, mut stream) = socket.split();
    let reason = loop {
        tokio::select! {
            next = outgoing.recv() => match next {
                Some(message) => {
                    let text = serde_json::to_string(&message).expect("messages serialize");
                    if let Err(err) = sink.send(Message::text(text)).await {
                        break format!("send failed: {err}");
                    }
                }
                None => {
                    let _ = sink.send(Message::Close(None)).await;
                    break "closed by the engine".to_string();
                }
            },
            incoming = stream.next() => match incoming {
                Some(Ok(Message::Text(text))) => {
                    match serde_json::from_str::<ServerMessage>(&text) {
                        Ok(message) => events(SignalingEvent::Message(message)),
                        Err(err) => tracing::warn!(%err, "ignoring unreadable server message"),
                    }
                }
                Some(Ok(Message::Close(frame))) => {
                    break match frame {
                        Some(f) => format!("server closed the connection: {} {}", f.code, f.reason),
                        None => "server closed the connection".to_string(),
                    };
                }
                // Pings are answered by tungstenite; binary frames are not part of the protocol.
                Some(Ok(_)) => {}
                Some(Err(err)) => break format!("connection lost: {err}"),
                None => break "connection lost".to_string(),
            },
        }
    };
    events(SignalingEvent::Closed(reason));
}
