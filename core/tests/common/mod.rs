//! Shared test fixtures: a real signaling server on loopback and engines with event channels.

#![allow(dead_code)]

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use peerchat_core::{ChannelListener, Engine, EngineConfig, EngineEvent, PeerState};
use peerchat_server::{Server, ServerConfig, ServerHandle};
use tokio::sync::mpsc::UnboundedReceiver;

/// Upper bound for any single awaited event; tests fail rather than hang.
pub const EVENT_TIMEOUT: Duration = Duration::from_secs(20);

pub async fn server() -> ServerHandle {
    server_with(|_| {}).await
}

pub async fn server_with(tune: impl FnOnce(&mut ServerConfig)) -> ServerHandle {
    let mut config = ServerConfig {
        bind: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
        ..ServerConfig::default()
    };
    tune(&mut config);
    Server::bind(config).await.expect("bind server").spawn()
}

pub struct Client {
    pub engine: Engine,
    pub events: UnboundedReceiver<EngineEvent>,
}

pub fn client(url: &str, name: &str) -> Client {
    client_with(url, name, |_| {})
}

pub fn client_with(url: &str, name: &str, tune: impl FnOnce(&mut EngineConfig)) -> Client {
    let (listener, events) = ChannelListener::new();
    let mut config = EngineConfig::new(url, name).loopback_only();
    tune(&mut config);
    let engine = Engine::new(config, listener).expect("engine starts");
    Client { engine, events }
}

impl Client {
    /// Waits for the first event `pick` accepts; panics with `what` on timeout.
    pub async fn wait_for<T>(
        &mut self,
        what: &str,
        mut pick: impl FnMut(&EngineEvent) -> Option<T>,
    ) -> T {
        let wait = async {
            while let Some(event) = self.events.recv().await {
                if let Some(found) = pick(&event) {
                    return found;
                }
            }
            panic!("engine stopped while waiting for {what}");
        };
        tokio::time::timeout(EVENT_TIMEOUT, wait)
            .await
            .unwrap_or_else(|_| panic!("timed out waiting for {what}"))
    }

    /// The next chat message received.
    pub async fn next_message(&mut self) -> peerchat_core::ChatMessage {
        self.wait_for("a message", |e| match e {
            EngineEvent::Message(m) => Some(m.clone()),
            _ => None,
        })
        .await
    }

    pub async fn wait_connected(&mut self) -> String {
        self.wait_for("data channel open", |e| match e {
            EngineEvent::PeerState {
                peer_id,
                state: PeerState::Connected,
            } => Some(peer_id.clone()),
            _ => None,
        })
        .await
    }
}

/// Two engines in one room with the data channel open on both sides.
pub async fn connected_pair(url: &str) -> (Client, Client) {
    let mut alice = client(url, "Alice");
    let mut bob = client(url, "Bob");
    let room = alice.engine.create_room().await.expect("create room");
    bob.engine.join_room(&room.code).await.expect("join room");
    bob.wait_connected().await;
    alice.wait_connected().await;
    (alice, bob)
}
