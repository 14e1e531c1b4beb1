//! Rooms: create, join, capacity, codes, leave, peer_left.

mod common;

use std::collections::HashSet;

use common::{Client, assert_server_serves, config, pair, start, start_default};
use peerchat_core::protocol::{
    DEFAULT_ROOM_CAPACITY, MAX_ROOM_CAPACITY, ROOM_CODE_ALPHABET, ROOM_CODE_LEN,
    normalize_room_code,
};
use serde_json::json;

fn assert_canonical_code(code: &str) {
    assert_eq!(code.len(), ROOM_CODE_LEN + 2, "{code}");
    for (i, c) in code.chars().enumerate() {
        if i == 3 || i == 7 {
            assert_eq!(c, '-', "{code}");
        } else {
            assert!(ROOM_CODE_ALPHABET.contains(&(c as u8)), "{code}");
        }
    }
    assert_eq!(normalize_room_code(code).unwrap(), code);
}

#[tokio::test]
async fn welcome_announces_peer_id_and_limits() {
    let server = start_default().await;
    let a = Client::connect(&server).await;
    let b = Client::connect(&server).await;
    assert_ne!(a.peer_id, b.peer_id);
    assert_eq!(a.peer_id.len(), 32, "128-bit hex id");
    assert!(a.peer_id.chars().all(|c| c.is_ascii_hexdigit()));
    let w = &a.welcome;
    assert_eq!(w["protocol_version"], 1);
    assert_eq!(w["server_version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(w["limits"]["max_frame_bytes"], 65536);
    assert_eq!(w["limits"]["max_name_chars"], 32);
    assert_eq!(w["limits"]["room_capacity"], DEFAULT_ROOM_CAPACITY);
    assert_eq!(w["limits"]["rate_limit_per_sec"], 50);
    assert_eq!(w["limits"]["ping_interval_ms"], 5000);
    assert_eq!(w["limits"]["idle_timeout_ms"], 15000);
}

#[tokio::test]
async fn create_then_join_announces_both_ways() {
    let server = start_default().await;
    let mut a = Client::connect(&server).await;
    let mut b = Client::connect(&server).await;
    a.send(json!({"type":"create_room","name":"  Ada  "})).await;
    let created = a.expect("room_created").await;
    let code = created["code"].as_str().unwrap().to_string();
    assert_canonical_code(&code);
    assert_eq!(created["capacity"], DEFAULT_ROOM_CAPACITY);

    // Lower case, spaces instead of dashes: normalized.
    let typed = code.to_lowercase().replace('-', " ");
    let joined = b.join_room(&typed, "Bob").await;
    assert_eq!(joined["code"], code);
    assert_eq!(joined["capacity"], DEFAULT_ROOM_CAPACITY);
    assert_eq!(
        joined["members"],
        json!([{"peer_id": a.peer_id, "name": "Ada"}])
    );
    let pj = a.expect("peer_joined").await;
    assert_eq!(pj["code"], code);
    assert_eq!(pj["peer"], json!({"peer_id": b.peer_id, "name": "Bob"}));
}

#[tokio::test]
async fn full_room_is_refused() {
    let server = start_default().await;
    let (mut a, mut b, code) = pair(&server).await;
    let mut c = Client::connect(&server).await;
    c.send(json!({"type":"join_room","code":code,"name":"Cy"}))
        .await;
    c.expect_error("room_full", Some("join_room")).await;
    // Nobody in the room heard of Cy, and all three still work.
    a.assert_alive().await;
    b.assert_alive().await;
    c.assert_alive().await;
}

#[tokio::test]
async fn larger_rooms_list_members_oldest_first() {
    let server = start(config().with_room_capacity(3)).await;
    let (mut a, mut b, code) = pair(&server).await;
    let mut c = Client::connect(&server).await;
    let joined = c.join_room(&code, "Cy").await;
    assert_eq!(joined["capacity"], 3);
    assert_eq!(
        joined["members"],
        json!([{"peer_id": a.peer_id, "name": "Ada"}, {"peer_id": b.peer_id, "name": "Bob"}])
    );
    assert_eq!(a.expect("peer_joined").await["peer"]["peer_id"], c.peer_id);
    assert_eq!(b.expect("peer_joined").await["peer"]["peer_id"], c.peer_id);
    let mut d = Client::connect(&server).await;
    d.send(json!({"type":"join_room","code":code,"name":"Di"}))
        .await;
    d.expect_error("room_full", Some("join_room")).await;
}

#[tokio::test]
async fn capacity_limits_are_enforced_at_bind() {
    let err = peerchat_server::Server::bind(config().with_room_capacity(MAX_ROOM_CAPACITY + 1))
        .await
        .unwrap_err();
    assert!(matches!(
        err,
        peerchat_server::ServerError::InvalidConfig(_)
    ));
    let ok = start(config().with_room_capacity(MAX_ROOM_CAPACITY)).await;
    let c = Client::connect(&ok).await;
    assert_eq!(c.welcome["limits"]["room_capacity"], MAX_ROOM_CAPACITY);
}

#[tokio::test]
async fn unknown_code_is_room_not_found() {
    let server = start_default().await;
    let mut c = Client::connect(&server).await;
    c.send(json!({"type":"join_room","code":"ABC-DEF-GHJ","name":"Cy"}))
        .await;
    c.expect_error("room_not_found", Some("join_room")).await;
    c.assert_alive().await;
}

#[tokio::test]
async fn invalid_codes_are_refused() {
    let server = start_default().await;
    let mut c = Client::connect(&server).await;
    for bad in [
        "ABC-DEF-GH",
        "ABC-DEF-GHJK",
        "ABC-DEF-GH0",
        "OIL-ABC-DEF",
        "",
        "ÄBC-DEF-GHJ",
    ] {
        c.send(json!({"type":"join_room","code":bad,"name":"Cy"}))
            .await;
        c.expect_error("invalid_room_code", Some("join_room")).await;
    }
    c.assert_alive().await;
}

#[tokio::test]
async fn second_create_or_join_is_already_in_room() {
    let server = start_default().await;
    let mut a = Client::connect(&server).await;
    let code = a.create_room("Ada").await;
    a.send(json!({"type":"create_room","name":"Ada"})).await;
    a.expect_error("already_in_room", Some("create_room")).await;
    a.send(json!({"type":"join_room","code":code,"name":"Ada"}))
        .await;
    a.expect_error("already_in_room", Some("join_room")).await;
    let mut b = Client::connect(&server).await;
    let other = b.create_room("Bob").await;
    a.send(json!({"type":"join_room","code":other,"name":"Ada"}))
        .await;
    a.expect_error("already_in_room", Some("join_room")).await;
    b.assert_alive().await; // b got no peer_joined
}

#[tokio::test]
async fn invalid_names_are_refused() {
    let server = start_default().await;
    let mut a = Client::connect(&server).await;
    for bad in ["", "   ", &"x".repeat(33), "a\u{7}b"] {
        a.send(json!({"type":"create_room","name":bad})).await;
        a.expect_error("invalid_name", Some("create_room")).await;
    }
    // Exactly 32 chars (multi-byte) is accepted.
    let name = "é".repeat(32);
    a.send(json!({"type":"create_room","name":name})).await;
    let code = a.expect("room_created").await["code"]
        .as_str()
        .unwrap()
        .to_string();
    let mut b = Client::connect(&server).await;
    b.send(json!({"type":"join_room","code":code,"name":""}))
        .await;
    b.expect_error("invalid_name", Some("join_room")).await;
}

#[tokio::test]
async fn leave_room_tells_the_others_and_empty_room_is_deleted() {
    let server = start_default().await;
    let (mut a, mut b, code) = pair(&server).await;
    a.send(json!({"type":"leave_room"})).await;
    assert_eq!(a.expect("room_left").await["code"], code);
    let left = b.expect("peer_left").await;
    assert_eq!(
        left,
        json!({"type":"peer_left","code":code,"peer_id":a.peer_id,"reason":"left"})
    );
    a.send(json!({"type":"leave_room"})).await;
    a.expect_error("not_in_room", Some("leave_room")).await;

    // The room still exists with b in it: a can come back.
    a.join_room(&code, "Ada").await;
    b.expect("peer_joined").await;

    // Both leave: the room is deleted and its code is unknown.
    a.send(json!({"type":"leave_room"})).await;
    a.expect("room_left").await;
    b.expect("peer_left").await;
    b.send(json!({"type":"leave_room"})).await;
    b.expect("room_left").await;
    let mut c = Client::connect(&server).await;
    c.send(json!({"type":"join_room","code":code,"name":"Cy"}))
        .await;
    c.expect_error("room_not_found", Some("join_room")).await;
}

#[tokio::test]
async fn closing_the_socket_is_peer_left_disconnected() {
    let server = start_default().await;
    let (a, mut b, code) = pair(&server).await;
    let a_id = a.peer_id.clone();
    a.close().await;
    let left = b.expect("peer_left").await;
    assert_eq!(
        left,
        json!({"type":"peer_left","code":code,"peer_id":a_id,"reason":"disconnected"})
    );
    // b is alone; when b goes too the room is deleted.
    b.close().await;
    let mut c = Client::connect(&server).await;
    c.send(json!({"type":"join_room","code":code,"name":"Cy"}))
        .await;
    c.expect_error("room_not_found", Some("join_room")).await;
    assert_server_serves(&server).await;
}

#[tokio::test]
async fn many_creates_give_distinct_well_formed_codes() {
    // 300 creates, each followed by leave (the room is deleted): 600 messages, over the
    // default burst, so this server allows more.
    let server = start(config().with_rate_limit(10_000, 10_000)).await;
    let mut a = Client::connect(&server).await;
    let mut seen = HashSet::new();
    for _ in 0..300 {
        let code = a.create_room("Ada").await;
        assert_canonical_code(&code);
        assert!(seen.insert(code), "code repeated");
        a.send(json!({"type":"leave_room"})).await;
        a.expect("room_left").await;
    }
}

#[test]
fn room_codes_use_the_whole_alphabet_uniformly() {
    // 9 symbols of 30: 44.2 bits. Draw 20 000 codes from the server's generator with its
    // CSPRNG: no repeats, every symbol used, each within 10% of its expected frequency.
    let mut rng = rand::rng();
    let n = 20_000;
    let mut seen = HashSet::new();
    let mut counts = [0usize; 256];
    for _ in 0..n {
        let code = peerchat_server::generate_room_code(&mut rng);
        assert_canonical_code(&code);
        for b in code.bytes().filter(|b| *b != b'-') {
            counts[b as usize] += 1;
        }
        assert!(seen.insert(code));
    }
    let expected = (n * ROOM_CODE_LEN) as f64 / ROOM_CODE_ALPHABET.len() as f64;
    for &s in ROOM_CODE_ALPHABET {
        let c = counts[s as usize] as f64;
        assert!(
            (c - expected).abs() < expected * 0.1,
            "symbol {} drawn {c} times, expected about {expected}",
            s as char
        );
    }
    let bits = ROOM_CODE_LEN as f64 * (ROOM_CODE_ALPHABET.len() as f64).log2();
    assert!(bits > 44.0, "entropy {bits} bits");
}
