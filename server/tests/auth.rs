//! Authentication with `--auth-secret`: HS256 JSON Web Tokens whose `sub` is the login.

mod common;

use std::time::{SystemTime, UNIX_EPOCH};

use common::{Client, WAIT, config, start};
use futures_util::StreamExt;
use jsonwebtoken::{EncodingKey, Header, encode};
use serde_json::json;
use tokio_tungstenite::connect_async;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::{self, Message};

const SECRET: &str = "a-test-secret-of-at-least-32-bytes!!";

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// What an app's backend does: sign {sub, exp} with the shared secret (HS256).
fn mint(secret: &str, sub: &str, exp: u64) -> String {
    encode(
        &Header::default(), // HS256
        &json!({"sub": sub, "exp": exp}),
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

async fn status_of(request: impl IntoClientRequest + Unpin) -> u16 {
    match tokio::time::timeout(WAIT, connect_async(request))
        .await
        .unwrap()
    {
        Err(tungstenite::Error::Http(resp)) => resp.status().as_u16(),
        Ok(_) => 101,
        Err(e) => panic!("{e}"),
    }
}

#[tokio::test]
async fn tokens_are_required_and_grant_exactly_their_login() {
    let server = start(config().with_auth_secret(SECRET)).await;
    let url = server.ws_url();
    // No token, a token signed with another secret, an expired token: 401, no WebSocket.
    assert_eq!(status_of(url.as_str()).await, 401);
    let forged = mint(
        "another-secret-that-is-32-bytes-long!",
        "alice",
        now() + 600,
    );
    let mut req = url.as_str().into_client_request().unwrap();
    req.headers_mut()
        .insert("authorization", format!("Bearer {forged}").parse().unwrap());
    assert_eq!(status_of(req).await, 401);
    let expired = mint(SECRET, "alice", now() - 3600);
    assert_eq!(
        status_of(format!("{url}?access_token={expired}")).await,
        401
    );

    // A valid token in the Authorization header: connected, and only its login may be claimed.
    let token = mint(SECRET, "alice", now() + 600);
    let mut req = url.as_str().into_client_request().unwrap();
    req.headers_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    let (ws, _) = connect_async(req).await.expect("valid token");
    let mut alice = Client {
        ws,
        peer_id: String::new(),
        welcome: serde_json::Value::Null,
    };
    alice.expect("welcome").await;
    alice.send(json!({"type":"login","login":"bob"})).await;
    alice.expect_error("unauthorized", Some("login")).await;
    alice
        .send(json!({"type":"login","login":"\u{0430}lice"}))
        .await; // look-alike: same login
    alice.expect("logged_in").await;

    // The query parameter works too (browsers cannot set WebSocket headers).
    let bob_token = mint(SECRET, "bob", now() + 600);
    let (mut ws, _) = connect_async(format!("{url}?access_token={bob_token}"))
        .await
        .expect("token in the query");
    match tokio::time::timeout(WAIT, ws.next()).await.unwrap() {
        Some(Ok(Message::Text(t))) => assert!(t.contains("welcome"), "{t}"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn auth_is_off_by_default_and_a_short_secret_is_refused() {
    let server = start(config()).await;
    common::assert_server_serves(&server).await;
    assert!(
        peerchat_server::Server::bind(config().with_auth_secret("short"))
            .await
            .is_err()
    );
}
