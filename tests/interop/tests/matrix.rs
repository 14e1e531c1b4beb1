//! The interop matrix: our engine against Pion v4, libdatachannel (node-datachannel),
//! aiortc and Chromium, each written from docs/protocol.md (`peers/`), through a real
//! `peerchat-server`, in a private network namespace with only loopback.
//!
//! For every stack, both roles: the stranger offers (it joins the room our engine created) and
//! our engine offers (it joins the stranger's room). In each: the data channel opens on both
//! sides, one message each way shown under the name the server announced and acknowledged
//! (`delivered`), then the joiner leaves and the other side sees `peer_left`. Then two 3-peer
//! meshes of mixed stacks (server with room capacity 3): every message reaches both others and
//! is acknowledged by both.
//!
//! Run by scripts/test.d/45-interop.sh (`--features interop-tests`).

mod support;

use peerchat_core::{EngineEvent, LeaveReason};
use serde_json::json;
use support::{
    Stack, Stranger, client, engine_connected_to, engine_to_stranger, mesh_server,
    stranger_to_engine,
};

const OURS: &str = "Peerchat";

/// The stranger joins the room our engine created, so it sends the SDP offer.
async fn stranger_offers(stack: Stack) {
    let server = mesh_server().await;
    let url = server.ws_url();
    let mut ours = client(&url, OURS);
    let room = ours.engine.create_room().await.expect("create_room");
    let mut s = Stranger::start(stack, &url, stack.name(), &[]).await;
    s.cmd(json!({"cmd":"join","code":room.code}));
    let our_id = ours.engine.peer_id().unwrap();
    let open = s.wait("open", |e| e["peer_id"] == our_id.as_str()).await;
    assert_eq!(open["name"], OURS);
    engine_connected_to(&mut ours, &[&s.peer_id]).await;

    engine_to_stranger(
        &mut ours,
        OURS,
        &mut s,
        &format!("hello {stack:?}, from peerchat"),
    )
    .await;
    stranger_to_engine(
        &mut ours,
        &mut s,
        &format!("hello peerchat, from {stack:?} ✓"),
    )
    .await;

    s.cmd(json!({"cmd":"leave"}));
    s.wait("left", |_| true).await;
    let left = ours
        .wait_for("peer_left", |e| match e {
            EngineEvent::PeerLeft { peer_id, reason } if *peer_id == s.peer_id => Some(*reason),
            _ => None,
        })
        .await;
    assert_eq!(left, LeaveReason::Left);
}

/// Our engine joins the stranger's room, so our engine sends the SDP offer.
async fn engine_offers(stack: Stack) {
    let server = mesh_server().await;
    let url = server.ws_url();
    let mut s = Stranger::start(stack, &url, stack.name(), &[]).await;
    s.cmd(json!({"cmd":"create"}));
    let code = s.wait("room", |_| true).await["code"]
        .as_str()
        .unwrap()
        .to_string();
    let mut ours = client(&url, OURS);
    ours.engine.join_room(&code).await.expect("join_room");
    let our_id = ours.engine.peer_id().unwrap();
    engine_connected_to(&mut ours, &[&s.peer_id]).await;
    let open = s.wait("open", |e| e["peer_id"] == our_id.as_str()).await;
    assert_eq!(open["name"], OURS);

    stranger_to_engine(
        &mut ours,
        &mut s,
        &format!("hello peerchat, from {stack:?}"),
    )
    .await;
    engine_to_stranger(
        &mut ours,
        OURS,
        &mut s,
        &format!("hello {stack:?}, from peerchat ✓"),
    )
    .await;

    ours.engine.leave_room().await.expect("leave_room");
    let left = s
        .wait("peer_left", |e| e["peer_id"] == our_id.as_str())
        .await;
    assert_eq!(left["reason"], "left");
}

#[tokio::test]
async fn pion_offers_to_peerchat() {
    stranger_offers(Stack::Pion).await;
}

#[tokio::test]
async fn peerchat_offers_to_pion() {
    engine_offers(Stack::Pion).await;
}

#[tokio::test]
async fn libdatachannel_offers_to_peerchat() {
    stranger_offers(Stack::Libdatachannel).await;
}

#[tokio::test]
async fn peerchat_offers_to_libdatachannel() {
    engine_offers(Stack::Libdatachannel).await;
}

#[tokio::test]
async fn aiortc_offers_to_peerchat() {
    stranger_offers(Stack::Aiortc).await;
}

#[tokio::test]
async fn peerchat_offers_to_aiortc() {
    engine_offers(Stack::Aiortc).await;
}

#[tokio::test]
async fn chromium_offers_to_peerchat() {
    stranger_offers(Stack::Chromium).await;
}

#[tokio::test]
async fn peerchat_offers_to_chromium() {
    engine_offers(Stack::Chromium).await;
}

/// Everyone in a 3-peer room: each one's message reaches both others, shown under the server's
/// name for the sender, and is acknowledged by both.
async fn mesh_exchange(ours: &mut support::Client, a: &mut Stranger, b: &mut Stranger) {
    let our_id = ours.engine.peer_id().unwrap();
    // Ours → both.
    let id = ours.engine.send_message("mesh: from peerchat").unwrap();
    for s in [&mut *a, &mut *b] {
        let got = s.wait("message", |e| e["id"] == id.as_str()).await;
        assert_eq!(
            (got["name"].as_str(), got["peer_id"].as_str()),
            (Some(OURS), Some(our_id.as_str()))
        );
    }
    support::engine_delivered(ours, &id, &[&a.peer_id, &b.peer_id]).await;
    // Each stranger → ours and the other stranger.
    stranger_to_mesh(ours, a, b).await;
    stranger_to_mesh(ours, b, a).await;
}

/// `sender` sends one message in a 3-peer room: ours and `other` show it under the sender's
/// server name, and both acknowledge it.
async fn stranger_to_mesh(ours: &mut support::Client, sender: &mut Stranger, other: &mut Stranger) {
    let our_id = ours.engine.peer_id().unwrap();
    let text = format!("mesh: from {:?}", sender.stack);
    sender.cmd(json!({"cmd":"send","text":text}));
    let sent = sender
        .wait_all("sent", "to", &[&our_id, &other.peer_id])
        .await;
    let (to_ours, to_other) = (
        sent[0]["id"].as_str().unwrap(),
        sent[1]["id"].as_str().unwrap(),
    );
    let got = ours.next_message().await;
    assert_eq!(
        (got.id.as_str(), got.text.as_str()),
        (to_ours, text.as_str())
    );
    assert_eq!(got.sender_name, sender.stack.name());
    let got = other.wait("message", |e| e["id"] == to_other).await;
    assert_eq!(
        (got["text"].as_str(), got["name"].as_str()),
        (Some(text.as_str()), Some(sender.stack.name()))
    );
    sender
        .wait_all("delivered", "id", &[to_ours, to_other])
        .await;
}

/// Ours creates; Pion joins (offers to ours); libdatachannel joins (offers to ours and to
/// Pion). Then libdatachannel leaves and both others see it.
#[tokio::test]
async fn mesh_of_peerchat_pion_and_libdatachannel() {
    let server = mesh_server().await;
    let url = server.ws_url();
    let mut ours = client(&url, OURS);
    let room = ours.engine.create_room().await.expect("create_room");
    let mut pion = Stranger::start(Stack::Pion, &url, "Pion", &[]).await;
    pion.cmd(json!({"cmd":"join","code":room.code}));
    pion.wait("open", |_| true).await;
    let mut ldc = Stranger::start(Stack::Libdatachannel, &url, "Libdatachannel", &[]).await;
    ldc.cmd(json!({"cmd":"join","code":room.code}));
    let pion_id = pion.peer_id.clone();
    ldc.wait("open", |e| e["peer_id"] == pion_id.as_str()).await;
    pion.wait("open", |_| true).await;
    engine_connected_to(&mut ours, &[&pion.peer_id, &ldc.peer_id]).await;

    mesh_exchange(&mut ours, &mut pion, &mut ldc).await;

    ldc.cmd(json!({"cmd":"leave"}));
    let ldc_id = ldc.peer_id.clone();
    pion.wait("peer_left", |e| e["peer_id"] == ldc_id.as_str())
        .await;
    ours.wait_for("peer_left", |e| match e {
        EngineEvent::PeerLeft { peer_id, .. } if *peer_id == ldc_id => Some(()),
        _ => None,
    })
    .await;
}

/// Chromium creates; aiortc joins (offers to Chromium); ours joins last and offers to both.
/// Then ours leaves and both others see it.
#[tokio::test]
async fn mesh_of_chromium_aiortc_and_peerchat_offering() {
    let server = mesh_server().await;
    let url = server.ws_url();
    let mut chromium = Stranger::start(Stack::Chromium, &url, "Chromium", &[]).await;
    chromium.cmd(json!({"cmd":"create"}));
    let code = chromium.wait("room", |_| true).await["code"]
        .as_str()
        .unwrap()
        .to_string();
    let mut aiortc = Stranger::start(Stack::Aiortc, &url, "Aiortc", &[]).await;
    aiortc.cmd(json!({"cmd":"join","code":code}));
    aiortc.wait("open", |_| true).await;
    chromium.wait("open", |_| true).await;
    let mut ours = client(&url, OURS);
    ours.engine.join_room(&code).await.expect("join_room");
    let our_id = ours.engine.peer_id().unwrap();
    for s in [&mut chromium, &mut aiortc] {
        s.wait("open", |e| e["peer_id"] == our_id.as_str()).await;
    }
    engine_connected_to(&mut ours, &[&chromium.peer_id, &aiortc.peer_id]).await;

    mesh_exchange(&mut ours, &mut chromium, &mut aiortc).await;

    ours.engine.leave_room().await.expect("leave_room");
    for s in [&mut chromium, &mut aiortc] {
        s.wait("peer_left", |e| e["peer_id"] == our_id.as_str())
            .await;
    }
}
