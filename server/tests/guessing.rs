//! Room-code guessing is limited per IP (and globally): after its failure budget an IP is
//! refused `rate_limited` before the code is even looked up, so a right code is refused too
//! and the answer tells nothing. Other IPs are unaffected.

mod common;

use common::{Client, WAIT, start_default};
use futures_util::StreamExt;
use serde_json::{Value, json};
use tokio::net::TcpSocket;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, client_async};

/// 20 = `GUESS_BURST_PER_IP` in `server/src/limits/guess.rs`.
const BURST: usize = 20;

#[tokio::test]
async fn wrong_codes_from_one_ip_are_limited_and_a_right_code_then_tells_nothing() {
    let server = start_default().await;
    let mut owner = Client::connect(&server).await;
    let code = owner.create_room("Owner").await;
    let mut guesser = Client::connect(&server).await;
    let wrong = |i: usize| {
        // Well-formed codes that no room has (the alphabet has no 0/1, so vary the last 2).
        let a = b"23456789ABCDEFGHJKMNPQRSTVWXYZ";
        format!("ZZZ-ZZZ-Z{}{}", a[i / 30] as char, a[i % 30] as char)
    };
    for i in 0..BURST {
        guesser
            .send(json!({"type":"join_room","code":wrong(i),"name":"G"}))
            .await;
        guesser
            .expect_error("room_not_found", Some("join_room"))
            .await;
    }
    guesser
        .send(json!({"type":"join_room","code":wrong(BURST),"name":"G"}))
        .await;
    guesser
        .expect_error("rate_limited", Some("join_room"))
        .await;
    // The right code gets the same answer now: the limit is checked before the lookup.
    guesser
        .send(json!({"type":"join_room","code":code,"name":"G"}))
        .await;
    guesser
        .expect_error("rate_limited", Some("join_room"))
        .await;

    // A client on another IP (127.0.0.2) joins with the right code.
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.2:0".parse().unwrap()).unwrap();
    let tcp = socket.connect(server.local_addr()).await.unwrap();
    let (ws, _) = client_async(server.ws_url(), MaybeTlsStream::Plain(tcp))
        .await
        .unwrap();
    let mut friend = Client {
        ws,
        peer_id: String::new(),
        welcome: Value::Null,
    };
    let welcome = tokio::time::timeout(WAIT, friend.ws.next()).await.unwrap();
    assert!(matches!(welcome, Some(Ok(Message::Text(_)))));
    friend.join_room(&code, "Friend").await;
    owner.expect("peer_joined").await;
}
