//! Test helpers: a real server on 127.0.0.1:0 and a real tokio-tungstenite client.

#![allow(dead_code)] // each test binary uses a different subset

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use peerchat_server::{Server, ServerConfig, ServerHandle};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio::time::timeout;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream, connect_async};

/// How long any single expected event may take.
pub const WAIT: Duration = Duration::from_secs(5);

/// A loopback config on a free port.
pub fn config() -> ServerConfig {
    ServerConfig::default().with_port(0)
}

/// Starts a server with `config` (its bind address must be loopback).
pub async fn start(config: ServerConfig) -> ServerHandle {
    assert!(config.bind.ip().is_loopback(), "tests bind loopback only");
    Server::bind(config).await.expect("bind").spawn()
}

/// Starts a server with the default limits on a free loopback port.
pub async fn start_default() -> ServerHandle {
    start(config()).await
}

/// One signaling client.
pub struct Client {
    pub ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
    /// Peer id from `welcome`.
    pub peer_id: String,
    /// The whole `welcome` message.
    pub welcome: Value,
}

impl Client {
    /// Connects and reads the `welcome`, which must be the first message.
    pub async fn connect(server: &ServerHandle) -> Client {
        let (ws, _) = timeout(WAIT, connect_async(server.ws_url()))
            .await
            .expect("connect timed out")
            .expect("connect");
        let mut c = Client {
            ws,
            peer_id: String::new(),
            welcome: Value::Null,
        };
        let welcome = c.recv().await;
        assert_eq!(welcome["type"], "welcome", "first message: {welcome}");
        c.peer_id = welcome["peer_id"].as_str().expect("peer_id").to_string();
        c.welcome = welcome;
        c
    }

    /// Connects offering the subprotocol `peerchat.v2` (protocol version 2, sessions) and
    /// reads the `welcome`.
    pub async fn connect_v2(server: &ServerHandle) -> Client {
        use tokio_tungstenite::tungstenite::client::IntoClientRequest;
        let mut request = server.ws_url().into_client_request().unwrap();
        request.headers_mut().insert(
            "Sec-WebSocket-Protocol",
            peerchat_core::protocol::SUBPROTOCOL_V2.parse().unwrap(),
        );
        let (ws, response) = timeout(WAIT, connect_async(request))
            .await
            .expect("connect timed out")
            .expect("connect");
        assert_eq!(
            response.headers()["sec-websocket-protocol"],
            peerchat_core::protocol::SUBPROTOCOL_V2
        );
        let mut c = Client {
            ws,
            peer_id: String::new(),
            welcome: Value::Null,
        };
        let welcome = c.expect("welcome").await;
        c.peer_id = welcome["peer_id"].as_str().expect("peer_id").to_string();
        c.welcome = welcome;
        c
    }

    /// The `session_token` of this client's `welcome`.
    pub fn token(&self) -> String {
        self.welcome["session_token"]
            .as_str()
            .expect("session_token")
            .to_string()
    }

    /// Sends a JSON value as one text frame.
    pub async fn send(&mut self, v: Value) {
        self.send_text(v.to_string()).await;
    }

    /// Sends raw text as one text frame.
    pub async fn send_text(&mut self, text: impl Into<String>) {
        self.ws
            .send(Message::text(text.into()))
            .await
            .expect("send");
    }

    /// The next text message as JSON (pings are answered, pongs skipped), within [`WAIT`].
    pub async fn recv(&mut self) -> Value {
        loop {
            let msg = timeout(WAIT, self.ws.next())
                .await
                .expect("timed out waiting for a message")
                .expect("connection ended")
                .expect("read error");
            match msg {
                Message::Text(t) => return serde_json::from_str(t.as_str()).expect("JSON"),
                Message::Ping(_) | Message::Pong(_) => continue,
                other => panic!("expected a text message, got {other:?}"),
            }
        }
    }

    /// The next message, which must have this `type`.
    pub async fn expect(&mut self, kind: &str) -> Value {
        let v = self.recv().await;
        assert_eq!(v["type"], kind, "unexpected message: {v}");
        v
    }

    /// The next message, which must be an `error` with this code and `request`.
    pub async fn expect_error(&mut self, code: &str, request: Option<&str>) -> Value {
        let v = self.expect("error").await;
        assert_eq!(v["code"], code, "{v}");
        assert!(
            v["message"].as_str().is_some_and(|m| !m.is_empty()),
            "error without message: {v}"
        );
        match request {
            Some(r) => assert_eq!(v["request"], r, "{v}"),
            None => assert!(v.get("request").is_none(), "unexpected request: {v}"),
        }
        v
    }

    /// Sends `ping` and expects `pong` as the very next message: proves the connection works
    /// and that nothing else was queued for it before.
    pub async fn assert_alive(&mut self) {
        self.send(json!({"type":"ping"})).await;
        self.expect("pong").await;
    }

    /// Waits for the server's close frame (skipping other messages) and returns it.
    pub async fn expect_close(&mut self) -> Option<CloseFrame> {
        loop {
            let next = timeout(WAIT, self.ws.next())
                .await
                .expect("timed out waiting for close");
            match next {
                Some(Ok(Message::Close(frame))) => return frame,
                Some(Ok(_)) => continue,
                Some(Err(e)) => panic!("connection failed before a close frame: {e}"),
                None => panic!("connection ended without a close frame"),
            }
        }
    }

    /// Creates a room; returns its code.
    pub async fn create_room(&mut self, name: &str) -> String {
        self.send(json!({"type":"create_room","name":name})).await;
        let v = self.expect("room_created").await;
        v["code"].as_str().unwrap().to_string()
    }

    /// Joins a room; returns `room_joined`.
    pub async fn join_room(&mut self, code: &str, name: &str) -> Value {
        self.send(json!({"type":"join_room","code":code,"name":name}))
            .await;
        self.expect("room_joined").await
    }

    /// Claims a login; expects `logged_in`.
    pub async fn login(&mut self, login: &str) {
        self.send(json!({"type":"login","login":login})).await;
        let v = self.expect("logged_in").await;
        assert_eq!(v["login"], login);
    }

    /// Closes the WebSocket cleanly.
    pub async fn close(mut self) {
        let _ = self.ws.close(None).await;
        // Read until the server's close reply so the close is complete.
        let _ = timeout(WAIT, async {
            while let Some(Ok(_)) = self.ws.next().await {}
        })
        .await;
    }
}

/// Two clients in one room: `(creator, joiner, code)`. The creator's `peer_joined` is consumed.
pub async fn pair(server: &ServerHandle) -> (Client, Client, String) {
    let mut a = Client::connect(server).await;
    let mut b = Client::connect(server).await;
    let code = a.create_room("Ada").await;
    b.join_room(&code, "Bob").await;
    let j = a.expect("peer_joined").await;
    assert_eq!(j["peer"]["peer_id"], b.peer_id);
    (a, b, code)
}

/// A fresh client can connect and gets `pong` for `ping`: the server still serves.
pub async fn assert_server_serves(server: &ServerHandle) {
    let mut c = Client::connect(server).await;
    c.assert_alive().await;
    c.close().await;
}
