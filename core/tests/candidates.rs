//! What the engine puts in its `ice_candidate` messages, seen by a plain WebSocket client of a
//! real signaling server (docs/protocol.md, `ice_candidate`): every candidate names the real
//! `a=mid:` and m-line index of the engine's SDP, and its ICE ufrag — a browser's
//! `addIceCandidate` and aiortc look a candidate's transport up by mid.

mod common;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use common::{EVENT_TIMEOUT, client, server};

/// The first `a=<attr>:` value of `sdp`, or panics.
fn attribute<'a>(sdp: &'a str, attr: &str) -> &'a str {
    let prefix = format!("a={attr}:");
    sdp.lines()
        .find_map(|l| l.trim_end().strip_prefix(prefix.as_str()))
        .unwrap_or_else(|| panic!("no a={attr}: in the SDP:\n{sdp}"))
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// The next JSON text message from the server.
async fn read(ws: &mut Socket) -> Value {
    loop {
        let frame = tokio::time::timeout(EVENT_TIMEOUT, ws.next())
            .await
            .expect("a message within the timeout")
            .expect("socket open")
            .expect("frame");
        if let Message::Text(text) = frame {
            return serde_json::from_str(&text).unwrap();
        }
    }
}

#[tokio::test]
async fn trickled_candidates_carry_the_sdp_mid_m_line_index_and_ufrag_of_the_offer() {
    let server = server().await;
    let (mut ws, _) = tokio_tungstenite::connect_async(server.ws_url())
        .await
        .expect("connect");
    assert_eq!(read(&mut ws).await["type"], "welcome");
    ws.send(Message::text(
        json!({"type":"create_room","name":"Raw"}).to_string(),
    ))
    .await
    .unwrap();
    let created = read(&mut ws).await;
    let code = created["code"].as_str().expect("room_created").to_string();

    let bob = client(&server.ws_url(), "Bob");
    bob.engine.join_room(&code).await.expect("join");
    let mut offer_sdp = None;
    let mut checked = 0;
    while checked < 1 {
        let msg = read(&mut ws).await;
        match msg["type"].as_str() {
            Some("peer_joined") => {}
            Some("offer") => offer_sdp = Some(msg["sdp"].as_str().unwrap().to_string()),
            Some("ice_candidate") => {
                let sdp = offer_sdp.as_deref().expect("candidates follow the offer");
                let c = &msg["candidate"];
                if c["candidate"] == "" {
                    continue;
                }
                assert_eq!(c["sdp_mid"], attribute(sdp, "mid"), "{msg}");
                assert_eq!(c["sdp_m_line_index"], 0, "{msg}");
                assert_eq!(c["username_fragment"], attribute(sdp, "ice-ufrag"), "{msg}");
                checked += 1;
            }
            other => panic!("unexpected {other:?}: {msg}"),
        }
    }
}
