//! A minimal signaling client over raw WebSockets: enough to hold connections open, create and
//! join rooms, and relay `offer` messages with a timestamp in the SDP.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};
use tokio_tungstenite::{WebSocketStream, client_async_with_config};

/// One client WebSocket.
pub type Ws = WebSocketStream<TcpStream>;

/// Longest wait for any one server reply before the benchmark gives up.
pub const REPLY_TIMEOUT: Duration = Duration::from_secs(30);

/// Connects to `url` (`ws://HOST:PORT/ws`) from `source` (any port), offering the
/// `peerchat.v2` subprotocol, and reads the `welcome`. Returns the socket and the peer id.
pub async fn connect(url: &str, source: IpAddr) -> Result<(Ws, String), String> {
    let addr: SocketAddr = url
        .trim_start_matches("ws://")
        .trim_end_matches("/ws")
        .parse()
        .map_err(|e| format!("{url}: {e}"))?;
    let socket = TcpSocket::new_v4().map_err(|e| e.to_string())?;
    socket
        .bind(SocketAddr::new(source, 0))
        .map_err(|e| format!("bind {source}: {e}"))?;
    let tcp = socket
        .connect(addr)
        .await
        .map_err(|e| format!("connect {addr}: {e}"))?;
    tcp.set_nodelay(true).map_err(|e| e.to_string())?;
    let mut request = url.into_client_request().map_err(|e| e.to_string())?;
    request.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        HeaderValue::from_static("peerchat.v2"),
    );
    // Clients hold thousands of sockets per process: small buffers here too.
    let config = WebSocketConfig::default()
        .read_buffer_size(4096)
        .write_buffer_size(0);
    let (mut ws, _) = client_async_with_config(request, tcp, Some(config))
        .await
        .map_err(|e| format!("handshake: {e}"))?;
    let welcome = next_of(&mut ws, "welcome").await?;
    let peer_id = welcome["peer_id"]
        .as_str()
        .ok_or("welcome without peer_id")?
        .to_string();
    Ok((ws, peer_id))
}

/// Sends one JSON message.
pub async fn send(ws: &mut Ws, msg: &Value) -> Result<(), String> {
    ws.send(Message::Text(Utf8Bytes::from(msg.to_string())))
        .await
        .map_err(|e| format!("send: {e}"))
}

/// The next JSON text message (pings are answered by tungstenite while reading).
pub async fn next_json(ws: &mut Ws) -> Result<Value, String> {
    loop {
        match tokio::time::timeout(REPLY_TIMEOUT, ws.next()).await {
            Err(_) => return Err("no message from the server in time".into()),
            Ok(None) => return Err("connection closed".into()),
            Ok(Some(Err(e))) => return Err(format!("read: {e}")),
            Ok(Some(Ok(Message::Text(t)))) => {
                return serde_json::from_str(t.as_str()).map_err(|e| format!("json: {e}"));
            }
            Ok(Some(Ok(Message::Close(f)))) => return Err(format!("closed by server: {f:?}")),
            Ok(Some(Ok(_))) => {}
        }
    }
}

/// The next message of type `kind`; an `error` first is returned as `Err`.
pub async fn next_of(ws: &mut Ws, kind: &str) -> Result<Value, String> {
    loop {
        let v = next_json(ws).await?;
        match v["type"].as_str() {
            Some(t) if t == kind => return Ok(v),
            Some("error") => return Err(format!("error while waiting for {kind}: {v}")),
            _ => {}
        }
    }
}

/// Two connected clients in one room: `(creator, creator_id, joiner, joiner_id)`.
pub async fn pair(
    url_a: &str,
    url_b: &str,
    source: IpAddr,
) -> Result<(Ws, String, Ws, String), String> {
    let (mut a, a_id) = connect(url_a, source).await?;
    send(&mut a, &json!({"type": "create_room", "name": "a"})).await?;
    let created = next_of(&mut a, "room_created").await?;
    let code = created["code"].as_str().ok_or("no code")?.to_string();
    let (mut b, b_id) = connect(url_b, source).await?;
    send(
        &mut b,
        &json!({"type": "join_room", "code": code, "name": "b"}),
    )
    .await?;
    next_of(&mut b, "room_joined").await?;
    next_of(&mut a, "peer_joined").await?;
    Ok((a, a_id, b, b_id))
}

/// `GET path` from `addr` over HTTP/1.1; the body.
pub async fn http_get(addr: &str, path: &str) -> Result<String, String> {
    let mut tcp = TcpStream::connect(addr)
        .await
        .map_err(|e| format!("connect {addr}: {e}"))?;
    tcp.write_all(
        format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").as_bytes(),
    )
    .await
    .map_err(|e| e.to_string())?;
    let mut out = String::new();
    tcp.read_to_string(&mut out)
        .await
        .map_err(|e| e.to_string())?;
    Ok(out
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_string())
        .unwrap_or_default())
}
