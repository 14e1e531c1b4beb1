//! Nobody can get another client disconnected: the attacks of issue 10, against a real server
//! over real sockets, with the default limits.
//!
//! - Two logged-in connections flood a logged-in user with 200 × 32 KiB `offer`s `to_login`.
//! - Twenty strangers each send her 200 small `ice_candidate`s `to_login`.
//!
//! Before the per-target limits and the queue reserve, either attack filled her 64-message
//! outgoing queue and the server closed HER (1008), although she read normally; her room mate
//! got `peer_left` and the attacker could take her login.

mod common;

use std::time::Duration;

use common::{Client, WAIT, pair, start, start_default};
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use peerchat_core::protocol::MAX_SDP_BYTES;
use peerchat_server::ServerHandle;
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// Frames each attacker sends: with its `login` and its closing `ping`, exactly the sender's
/// own burst of 200, so only the new limits can refuse them.
const FRAMES: usize = 198;

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Reads `ws` like a normal client until `stop` fires; returns the socket and the count of
/// relayed messages read. Panics if the server closes the connection meanwhile.
fn read_normally(mut ws: Ws, stop: oneshot::Receiver<()>) -> JoinHandle<(Ws, usize)> {
    tokio::spawn(async move {
        let mut relayed = 0usize;
        tokio::pin!(stop);
        loop {
            tokio::select! {
                _ = &mut stop => return (ws, relayed),
                msg = ws.next() => match msg {
                    Some(Ok(Message::Text(t))) => {
                        let v: Value = serde_json::from_str(t.as_str()).unwrap();
                        assert_ne!(v["type"], "error", "victim got an error: {v}");
                        if v["type"] == "offer" || v["type"] == "ice_candidate" {
                            relayed += 1;
                        }
                    }
                    Some(Ok(Message::Close(f))) => panic!("victim was closed: {f:?}"),
                    Some(Ok(_)) => {}
                    other => panic!("victim's connection ended: {other:?}"),
                }
            }
        }
    })
}

/// One attacker: sends every frame of `frames` as fast as it can while reading its replies;
/// returns the error codes it got (in order). Ends with ping/pong so every reply is counted.
async fn attack(attacker: Client, frames: Vec<String>) -> Vec<String> {
    let (mut sink, mut stream): (SplitSink<Ws, Message>, SplitStream<Ws>) = attacker.ws.split();
    let reader = tokio::spawn(async move {
        let mut codes = Vec::new();
        loop {
            let msg = tokio::time::timeout(WAIT * 4, stream.next())
                .await
                .expect("attacker got no pong");
            match msg {
                Some(Ok(Message::Text(t))) => {
                    let v: Value = serde_json::from_str(t.as_str()).unwrap();
                    match v["type"].as_str() {
                        Some("pong") => return codes,
                        Some("error") => codes.push(v["code"].as_str().unwrap().to_string()),
                        _ => panic!("attacker got {v}"),
                    }
                }
                Some(Ok(_)) => {}
                other => panic!("attacker's connection ended: {other:?}"),
            }
        }
    });
    for f in frames {
        sink.send(Message::text(f)).await.unwrap();
    }
    sink.send(Message::text(json!({"type":"ping"}).to_string()))
        .await
        .unwrap();
    tokio::time::timeout(WAIT * 6, reader)
        .await
        .expect("attacker reader hung")
        .unwrap()
}

/// Alice: logged in as "alice" and in a room with Bob. Returns (alice, bob).
async fn victim(server: &ServerHandle) -> (Client, Client) {
    let (mut alice, bob, _) = pair(server).await;
    alice.login("alice").await;
    (alice, bob)
}

async fn logged_in(server: &ServerHandle, login: &str) -> Client {
    let mut c = Client::connect(server).await;
    c.login(login).await;
    c
}

/// After the attack: Alice still works, Bob never heard she left, and her login is hers.
async fn assert_unharmed(server: &ServerHandle, mut alice: Ws, mut bob: Client) {
    alice
        .send(Message::text(json!({"type":"ping"}).to_string()))
        .await
        .unwrap();
    // Relayed messages may still be queued before the pong.
    loop {
        let msg = tokio::time::timeout(WAIT, alice.next())
            .await
            .expect("alice got no pong");
        let Some(Ok(Message::Text(t))) = msg else {
            assert!(matches!(msg, Some(Ok(Message::Ping(_)))), "{msg:?}");
            continue;
        };
        let v: Value = serde_json::from_str(t.as_str()).unwrap();
        if v["type"] == "pong" {
            break;
        }
        // Relays, and the attackers' login links ending as they disconnect.
        let relayed = ["offer", "ice_candidate"].contains(&v["type"].as_str().unwrap());
        let link_ended = v["type"] == "peer_left" && v.get("code").is_none();
        assert!(relayed || link_ended, "{v}");
    }
    bob.assert_alive().await; // no peer_left was queued before the pong
    let mut thief = Client::connect(server).await;
    thief.send(json!({"type":"login","login":"alice"})).await;
    thief.expect_error("login_taken", Some("login")).await;
}

#[tokio::test]
async fn big_offers_by_login_cannot_get_a_reading_user_disconnected() {
    let server = start_default().await;
    let (alice, bob) = victim(&server).await;
    let (stop, stopped) = oneshot::channel();
    let reader = read_normally(alice.ws, stopped);
    let offer =
        json!({"type":"offer","to_login":"alice","sdp":"v".repeat(MAX_SDP_BYTES)}).to_string();
    let mut attackers = Vec::new();
    for i in 0..2 {
        let a = logged_in(&server, &format!("mallory{i}")).await;
        attackers.push(tokio::spawn(attack(a, vec![offer.clone(); FRAMES])));
    }
    let mut codes = Vec::new();
    for a in attackers {
        codes.extend(a.await.unwrap());
    }
    stop.send(()).unwrap();
    let (ws, relayed) = reader.await.expect("alice was disconnected");
    eprintln!(
        "alice read {relayed} offers; the attackers got {} refusals: {:?}",
        codes.len(),
        count(&codes)
    );
    assert!(!codes.is_empty(), "no relay was refused");
    assert!(
        codes
            .iter()
            .all(|c| c == "target_busy" || c == "rate_limited"),
        "{codes:?}"
    );
    assert_unharmed(&server, ws, bob).await;
}

#[tokio::test]
async fn twenty_strangers_sending_candidates_cannot_get_a_user_disconnected() {
    let server = start_default().await;
    let (alice, bob) = victim(&server).await;
    let (stop, stopped) = oneshot::channel();
    let reader = read_normally(alice.ws, stopped);
    let candidate = |n: usize| {
        json!({"type":"ice_candidate","to_login":"alice",
               "candidate":{"candidate":format!("candidate:{n} 1 udp 1 127.0.0.1 {n} typ host")}})
        .to_string()
    };
    let mut attackers = Vec::new();
    for i in 0..20 {
        let a = logged_in(&server, &format!("stranger{i}")).await;
        attackers.push(tokio::spawn(attack(
            a,
            (0..FRAMES).map(candidate).collect(),
        )));
    }
    let mut codes = Vec::new();
    for a in attackers {
        codes.extend(a.await.unwrap());
    }
    stop.send(()).unwrap();
    let (ws, relayed) = reader.await.expect("alice was disconnected");
    eprintln!(
        "alice read {relayed} candidates; the strangers got {} refusals: {:?}",
        codes.len(),
        count(&codes)
    );
    // 20 × 198 candidates: the pair limit (100 at once each) and the target limit (400 at
    // once in all) must have refused most of them, each with a typed error.
    let sent = 20 * FRAMES;
    assert!(relayed < sent, "nothing was limited ({relayed} relayed)");
    assert_eq!(relayed + codes.len(), sent, "a relay was lost silently");
    assert!(
        codes.iter().any(|c| c == "target_busy"),
        "{:?}",
        count(&codes)
    );
    assert_unharmed(&server, ws, bob).await;
}

#[tokio::test]
async fn a_client_that_does_not_read_at_all_is_still_closed() {
    // The limits protect readers, not sockets nobody reads: b never reads; a's offers fill
    // b's TCP buffers (and maybe b's queue share: a then gets target_busy), and once one write
    // to b has been blocked for the write-stall timeout b is closed and a hears peer_left.
    let server = start(
        common::config()
            .with_liveness(Duration::from_secs(30), Duration::from_secs(60))
            .with_write_stall_timeout(Duration::from_millis(300)),
    )
    .await;
    let (mut a, b, code) = pair(&server).await;
    let offer = json!({"type":"offer","to":b.peer_id,"sdp":"v".repeat(MAX_SDP_BYTES)}).to_string();
    let mut busy = 0;
    let left = loop {
        a.send_text(offer.clone()).await;
        a.send(json!({"type":"ping"})).await;
        let v = loop {
            let v = a.recv().await;
            match v["type"].as_str() {
                Some("error") => {
                    assert!(
                        ["target_busy", "rate_limited"].contains(&v["code"].as_str().unwrap()),
                        "{v}"
                    );
                    busy += 1;
                }
                _ => break v,
            }
        };
        if v["type"] == "peer_left" {
            break v;
        }
        assert_eq!(v["type"], "pong", "{v}");
    };
    assert_eq!(
        left,
        json!({"type":"peer_left","code":code,"peer_id":b.peer_id,"reason":"disconnected"})
    );
    eprintln!("b closed after {busy} refused relays");
    drop(b);
}

fn count(codes: &[String]) -> std::collections::BTreeMap<&str, usize> {
    let mut m = std::collections::BTreeMap::new();
    for c in codes {
        *m.entry(c.as_str()).or_insert(0) += 1;
    }
    m
}
