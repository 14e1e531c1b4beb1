//! Unique logins (seed 001).

mod common;

use common::{Client, start_default};
use serde_json::json;

#[tokio::test]
async fn duplicate_login_is_taken_case_insensitively() {
    let server = start_default().await;
    let mut a = Client::connect(&server).await;
    let mut b = Client::connect(&server).await;
    a.login("Alice").await;
    for attempt in ["Alice", "alice", "ALICE", "  aLiCe "] {
        b.send(json!({"type":"login","login":attempt})).await;
        b.expect_error("login_taken", Some("login")).await;
    }
    b.login("Bob").await;
    a.assert_alive().await;
}

#[tokio::test]
async fn second_login_on_one_connection_is_refused() {
    let server = start_default().await;
    let mut a = Client::connect(&server).await;
    a.login("Alice").await;
    a.send(json!({"type":"login","login":"Other"})).await;
    a.expect_error("already_logged_in", Some("login")).await;
    // "Other" was not taken by the refused attempt.
    let mut b = Client::connect(&server).await;
    b.login("Other").await;
}

#[tokio::test]
async fn logout_frees_the_login() {
    let server = start_default().await;
    let mut a = Client::connect(&server).await;
    let mut b = Client::connect(&server).await;
    a.login("Alice").await;
    a.send(json!({"type":"logout"})).await;
    assert_eq!(
        a.expect("logged_out").await,
        json!({"type":"logged_out","login":"Alice"})
    );
    a.send(json!({"type":"logout"})).await;
    a.expect_error("not_logged_in", Some("logout")).await;
    b.login("alice").await;
    // a may log in again under another name.
    a.login("Alicia").await;
}

#[tokio::test]
async fn login_is_freed_when_the_connection_closes() {
    let server = start_default().await;
    let mut a = Client::connect(&server).await;
    a.login("Alice").await;
    // The server forgets the login before it answers the close handshake, so once close()
    // has returned the login is free.
    a.close().await;
    let mut b = Client::connect(&server).await;
    b.login("Alice").await;
}

#[tokio::test]
async fn invalid_logins_are_refused() {
    let server = start_default().await;
    let mut a = Client::connect(&server).await;
    for bad in ["", "  ", &"x".repeat(33), "tab\there"] {
        a.send(json!({"type":"login","login":bad})).await;
        a.expect_error("invalid_name", Some("login")).await;
    }
    a.send(json!({"type":"login","login":"  Trimmed  "})).await;
    assert_eq!(a.expect("logged_in").await["login"], "Trimmed");
}

#[tokio::test]
async fn look_alike_logins_are_the_same_login_and_invisible_ones_are_refused() {
    let server = common::start_default().await;
    let mut alice = common::Client::connect(&server).await;
    alice.login("alice").await;
    let mut eve = common::Client::connect(&server).await;
    // Cyrillic а, fullwidth, upper case: all the login "alice".
    for look_alike in ["\u{0430}lice", "ａｌｉｃｅ", "ALICE", "ali\u{0441}e"] {
        eve.send(serde_json::json!({"type":"login","login":look_alike}))
            .await;
        eve.expect_error("login_taken", Some("login")).await;
    }
    // Zero-width, BOM-only, right-to-left override: refused outright.
    for invisible in ["al\u{200B}ice", "\u{FEFF}", "\u{202E}ecila", "a\u{2066}b"] {
        eve.send(serde_json::json!({"type":"login","login":invisible}))
            .await;
        eve.expect_error("invalid_name", Some("login")).await;
        eve.send(serde_json::json!({"type":"create_room","name":invisible}))
            .await;
        eve.expect_error("invalid_name", Some("create_room")).await;
    }
    // A fullwidth login is stored and shown in its NFKC form.
    let mut bob = common::Client::connect(&server).await;
    bob.send(serde_json::json!({"type":"login","login":"ｂｏｂ"}))
        .await;
    let v = bob.expect("logged_in").await;
    assert_eq!(v["login"], "bob");
    alice.assert_alive().await;
}
