//! What our engine does with frames a conforming peer never sends but a stranger might
//! (docs/protocol.md, "Data-channel chat protocol"), driven through a real Pion peer written
//! from the doc: no `hello` before messages, a `hello` claiming another name, a `message` with
//! an empty text, and a binary message. Each refused frame is reported as a typed
//! `EngineError::PeerProtocol`, never shown and never acknowledged, and the chat goes on.

mod support;

use peerchat_core::{EngineError, EngineEvent};
use serde_json::json;
use support::{Client, Stack, Stranger, client, engine_connected_to, mesh_server};

/// Our engine creates a room and the Pion stranger (started with `extra`) joins it.
async fn connected(extra: &[&str]) -> (peerchat_server::ServerHandle, Client, Stranger) {
    let server = mesh_server().await;
    let url = server.ws_url();
    let mut ours = client(&url, "Peerchat");
    let room = ours.engine.create_room().await.expect("create_room");
    let mut s = Stranger::start(Stack::Pion, &url, "Pion", extra).await;
    s.cmd(json!({"cmd":"join","code":room.code}));
    s.wait("open", |_| true).await;
    engine_connected_to(&mut ours, &[&s.peer_id]).await;
    (server, ours, s)
}

/// The next `PeerProtocol` error our engine reports about `peer`; any chat message shown
/// before it fails the test.
async fn protocol_error(ours: &mut Client, peer: &str) -> String {
    ours.wait_for("a peer protocol error", |e| match e {
        EngineEvent::Error(EngineError::PeerProtocol { peer_id, reason }) if peer_id == peer => {
            Some(reason.clone())
        }
        EngineEvent::Message(m) => panic!("a refused frame was shown: {m:?}"),
        _ => None,
    })
    .await
}

#[tokio::test]
async fn messages_without_hello_are_shown_under_the_servers_name() {
    let (_server, mut ours, mut s) = connected(&["--no-hello"]).await;
    s.cmd(json!({"cmd":"send","text":"no hello first"}));
    let got = ours.next_message().await;
    assert_eq!(
        (got.text.as_str(), got.sender_name.as_str()),
        ("no hello first", "Pion")
    );
    s.wait("delivered", |_| true).await;
}

#[tokio::test]
async fn a_hello_claiming_another_name_is_not_shown() {
    let (_server, mut ours, mut s) = connected(&["--hello-name", "Peerchat"]).await;
    s.cmd(json!({"cmd":"send","text":"who am I?"}));
    let got = ours.next_message().await;
    assert_eq!(
        got.sender_name, "Pion",
        "the name announced by the server, not hello.name"
    );
    let listed = ours.engine.peers();
    assert_eq!(
        listed.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(),
        ["Pion"]
    );
}

#[tokio::test]
async fn empty_texts_and_binary_messages_are_refused_unacknowledged_and_the_chat_goes_on() {
    let (_server, mut ours, mut s) = connected(&[]).await;
    let peer = s.peer_id.clone();
    let empty = json!({"type":"message","id":"empty-1","seq":1,"sent_at_ms":1,"text":""});
    s.cmd(json!({"cmd":"raw","text":empty.to_string()}));
    let reason = protocol_error(&mut ours, &peer).await;
    assert!(reason.contains("empty"), "{reason}");

    let valid = json!({"type":"message","id":"binary-1","seq":1,"sent_at_ms":1,"text":"x"});
    s.cmd(json!({"cmd":"binary","text":valid.to_string()}));
    let reason = protocol_error(&mut ours, &peer).await;
    assert!(reason.contains("binary"), "{reason}");

    // The channel is still open: a good message is shown and acknowledged, and it is the
    // first one (the channel is ordered, so an ack of a refused frame would have come first).
    s.cmd(json!({"cmd":"send","text":"still here"}));
    let got = ours.next_message().await;
    assert_eq!(got.text, "still here");
    let acked = s.wait("delivered", |_| true).await;
    assert_eq!(
        acked["id"],
        got.id.as_str(),
        "refused frames were acknowledged: {:#?}",
        s.seen()
    );
}

#[tokio::test]
async fn our_engine_refuses_to_send_an_empty_text() {
    let (_server, ours, _s) = connected(&[]).await;
    assert_eq!(ours.engine.send_message(""), Err(EngineError::EmptyMessage));
}
