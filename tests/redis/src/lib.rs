//! Support of the scale-out suite: a real `redis-server` process (restartable on its port),
//! `peerchat serve --redis-url` instances, and a raw signaling client. Everything binds to
//! 127.0.0.1.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use futures_util::{SinkExt, StreamExt};
pub use peerchat_test_support::{ServerProc, WAIT};
use serde_json::Value;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// A `redis-server` without persistence on 127.0.0.1.
pub struct Redis {
    child: Option<Child>,
    /// Its port.
    pub port: u16,
}

impl Redis {
    /// Starts one on a free port.
    pub fn start() -> Redis {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let mut r = Redis { child: None, port };
        r.restart();
        r
    }

    /// `redis://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// SIGKILLs the process (its data is gone: no persistence).
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// (Re)starts it on the same port and waits until it accepts connections.
    pub fn restart(&mut self) {
        self.kill();
        let mut child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("redis-server on PATH (apt-get install redis-server)");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        loop {
            match lines.next() {
                Some(Ok(l)) if l.contains("Ready to accept connections") => break,
                Some(Ok(_)) => {}
                _ => panic!("redis-server ended before it was ready"),
            }
        }
        std::thread::spawn(move || for _ in lines {});
        self.child = Some(child);
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.kill();
    }
}

/// `n` instances sharing `redis`, each with `extra` flags.
pub fn instances(n: usize, redis: &Redis, extra: &[&str]) -> Vec<ServerProc> {
    let url = redis.url();
    let args = [&["--redis-url", url.as_str()][..], extra].concat();
    (0..n).map(|_| ServerProc::start(0, &args)).collect()
}

/// A raw signaling client speaking protocol version 2.
pub struct Ws {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
    /// Its peer id (from `welcome`, or from `resumed`).
    pub id: String,
    /// Its session token.
    pub token: String,
    /// Every message read so far.
    pub seen: Vec<Value>,
}

impl Ws {
    /// Connects to `url` and reads `welcome`.
    pub async fn connect(url: &str) -> Ws {
        let mut request = url.into_client_request().expect("request");
        request.headers_mut().insert(
            "Sec-WebSocket-Protocol",
            HeaderValue::from_static("peerchat.v2"),
        );
        let (ws, _) = tokio_tungstenite::connect_async(request)
            .await
            .expect("connect");
        let mut c = Ws {
            ws,
            id: String::new(),
            token: String::new(),
            seen: Vec::new(),
        };
        let w = c.next_of("welcome").await;
        c.id = w["peer_id"].as_str().expect("peer_id").to_string();
        c.token = w["session_token"].as_str().expect("token").to_string();
        c
    }

    /// Sends one JSON message.
    pub async fn send(&mut self, msg: Value) {
        tokio::time::timeout(
            WAIT,
            self.ws
                .send(Message::Text(Utf8Bytes::from(msg.to_string()))),
        )
        .await
        .expect("send within WAIT")
        .expect("send");
    }

    /// The next JSON message; panics after [`WAIT`] or when the connection ends.
    pub async fn next(&mut self) -> Value {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let frame = tokio::time::timeout_at(deadline, self.ws.next())
                .await
                .unwrap_or_else(|_| panic!("nothing within {WAIT:?}; seen {:#?}", self.seen))
                .unwrap_or_else(|| panic!("connection ended; seen {:#?}", self.seen))
                .expect("read");
            if let Message::Text(t) = frame {
                let v: Value = serde_json::from_str(t.as_str()).expect("json");
                self.seen.push(v.clone());
                return v;
            }
        }
    }

    /// The next message of type `kind` (others are kept in `seen`).
    pub async fn next_of(&mut self, kind: &str) -> Value {
        loop {
            let v = self.next().await;
            if v["type"] == kind {
                return v;
            }
        }
    }

    /// Whether a message of type `kind` was read so far.
    pub fn saw(&self, kind: &str) -> bool {
        self.seen.iter().any(|v| v["type"] == kind)
    }
}
