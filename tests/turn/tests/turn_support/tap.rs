//! A WebSocket tap between engines and the signaling server: it forwards every frame unchanged
//! both ways and records what each client sent, so a test can check which ICE candidates an
//! engine really trickled (and which `a=candidate` lines its SDP carried).

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};

use futures_util::{SinkExt, StreamExt};
use peerchat_core::protocol::{ClientMessage, ServerMessage};
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};

/// `Sec-WebSocket-Protocol` (RFC 6455 §11.3.4).
const PROTOCOL_HEADER: &str = "sec-websocket-protocol";

/// What one client connection sent to the server.
#[derive(Debug, Default, Clone)]
pub struct Sent {
    /// The peer id the server gave this connection in `welcome`.
    pub peer_id: Option<String>,
    /// `candidate` strings of its `ice_candidate` messages, in order.
    pub candidates: Vec<String>,
    /// `a=candidate:` lines of its SDP offers and answers.
    pub sdp_candidates: Vec<String>,
    /// How many SDP offers and answers it sent.
    pub descriptions: usize,
}

/// The tap; clients connect to [`Tap::ws_url`] instead of the server.
pub struct Tap {
    addr: SocketAddr,
    /// One entry per accepted client connection.
    connections: Arc<Mutex<Vec<Arc<Mutex<Sent>>>>>,
}

impl Tap {
    /// Listens on 127.0.0.1 and forwards each connection to `upstream` (a `ws://` URL).
    pub async fn start(upstream: String) -> Tap {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let connections: Arc<Mutex<Vec<Arc<Mutex<Sent>>>>> = Arc::default();
        let registry = connections.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let sent = Arc::new(Mutex::new(Sent::default()));
                registry.lock().unwrap().push(sent.clone());
                let upstream = upstream.clone();
                tokio::spawn(async move {
                    // The WebSocket subprotocol the client asks for (`peerchat.v2` selects
                    // protocol version 2) is passed through both ways, so the tap is invisible.
                    let mut subprotocol = None;
                    // The error type is fixed by tungstenite's `Callback` trait.
                    #[allow(clippy::result_large_err)]
                    let echo = |request: &Request, mut response: Response| {
                        subprotocol = request.headers().get(PROTOCOL_HEADER).cloned();
                        if let Some(p) = &subprotocol {
                            response.headers_mut().insert(PROTOCOL_HEADER, p.clone());
                        }
                        Ok(response)
                    };
                    let client = tokio_tungstenite::accept_hdr_async(stream, echo)
                        .await
                        .expect("tap: client handshake");
                    let mut request = upstream.into_client_request().expect("tap: upstream URL");
                    if let Some(p) = subprotocol {
                        request.headers_mut().insert(PROTOCOL_HEADER, p);
                    }
                    let (server, _) = tokio_tungstenite::connect_async(request)
                        .await
                        .expect("tap: connect to the server");
                    let (mut client_tx, mut client_rx) = client.split();
                    let (mut server_tx, mut server_rx) = server.split();
                    let up = async {
                        while let Some(Ok(frame)) = client_rx.next().await {
                            if let Message::Text(text) = &frame {
                                record(&sent, text.as_str());
                            }
                            if server_tx.send(frame).await.is_err() {
                                break;
                            }
                        }
                        let _ = server_tx.close().await;
                    };
                    let down = async {
                        while let Some(Ok(frame)) = server_rx.next().await {
                            if let Message::Text(text) = &frame
                                && let Ok(ServerMessage::Welcome { peer_id, .. }) =
                                    serde_json::from_str(text.as_str())
                            {
                                sent.lock().unwrap().peer_id = Some(peer_id);
                            }
                            if client_tx.send(frame).await.is_err() {
                                break;
                            }
                        }
                        let _ = client_tx.close().await;
                    };
                    tokio::join!(up, down);
                });
            }
        });
        Tap { addr, connections }
    }

    /// The URL clients use: `ws://127.0.0.1:PORT/ws`.
    pub fn ws_url(&self) -> String {
        format!("ws://{}/ws", self.addr)
    }

    /// What the connection the server welcomed as `peer_id` has sent so far.
    pub fn sent_by(&self, peer_id: &str) -> Sent {
        let connections = self.connections.lock().unwrap();
        connections
            .iter()
            .map(|sent| sent.lock().unwrap().clone())
            .find(|sent| sent.peer_id.as_deref() == Some(peer_id))
            .unwrap_or_else(|| panic!("tap: no connection welcomed as {peer_id}"))
    }
}

fn record(sent: &Mutex<Sent>, text: &str) {
    let Ok(msg) = serde_json::from_str::<ClientMessage>(text) else {
        return;
    };
    let mut sent = sent.lock().unwrap();
    match msg {
        ClientMessage::IceCandidate { candidate, .. } => {
            sent.candidates.push(candidate.candidate);
        }
        ClientMessage::Offer { sdp, .. } | ClientMessage::Answer { sdp, .. } => {
            sent.descriptions += 1;
            sent.sdp_candidates.extend(
                sdp.lines()
                    .filter(|l| l.starts_with("a=candidate:"))
                    .map(str::to_string),
            );
        }
        _ => {}
    }
}
