//! The engine over `wss://`: a real signaling server with a certificate from a CA this test
//! generates (rcgen). Engines given the CA (`EngineConfig::ca_cert_pem`) chat through it;
//! an engine without it is refused with a certificate error. Also: `EngineConfig::auth_token`
//! against a server that requires tokens.

use std::time::Duration;

use peerchat_core::{ChannelListener, Engine, EngineConfig, EngineError, EngineEvent};
use peerchat_server::{Server, ServerConfig};
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};

const WAIT: Duration = Duration::from_secs(20);

struct Pki {
    dir: std::path::PathBuf,
    ca_pem: String,
}

impl Drop for Pki {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

async fn tls_server() -> (peerchat_server::ServerHandle, Pki) {
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
    let key = KeyPair::generate().unwrap();
    let cert = CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()])
        .unwrap()
        .signed_by(&key, &ca)
        .unwrap();
    // One directory per server: tests run in parallel in this process.
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("peerchat-engine-tls-{}-{n}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("cert.pem"), cert.pem()).unwrap();
    std::fs::write(dir.join("key.pem"), key.serialize_pem()).unwrap();
    let config = ServerConfig::default()
        .with_port(0)
        .with_tls(dir.join("cert.pem"), dir.join("key.pem"));
    let server = Server::bind(config).await.unwrap().spawn();
    (
        server,
        Pki {
            dir,
            ca_pem: ca.pem(),
        },
    )
}

fn engine(
    url: &str,
    name: &str,
    ca: Option<&str>,
) -> (Engine, tokio::sync::mpsc::UnboundedReceiver<EngineEvent>) {
    let mut config = EngineConfig::new(url, name).loopback_only();
    config.ca_cert_pem = ca.map(str::to_string);
    let (listener, events) = ChannelListener::new();
    (
        Engine::new(config, listener).expect("engine starts"),
        events,
    )
}

#[tokio::test]
async fn engines_chat_through_a_wss_server_with_a_private_ca() {
    let (server, pki) = tls_server().await;
    let url = server.ws_url();
    assert!(url.starts_with("wss://"), "{url}");
    let (alice, mut alice_events) = engine(&url, "Alice", Some(&pki.ca_pem));
    let (bob, mut bob_events) = engine(&url, "Bob", Some(&pki.ca_pem));
    let room = tokio::time::timeout(WAIT, alice.create_room())
        .await
        .unwrap()
        .expect("create room over wss");
    tokio::time::timeout(WAIT, bob.join_room(&room.code))
        .await
        .unwrap()
        .expect("join room over wss");
    // The WebRTC connection is negotiated through the TLS signaling channel.
    let id = loop {
        match tokio::time::timeout(WAIT, alice_events.recv())
            .await
            .unwrap()
        {
            Some(EngineEvent::PeerState {
                state: peerchat_core::PeerState::Connected,
                ..
            }) => break alice.send_message("over wss").unwrap(),
            Some(_) => continue,
            None => panic!("alice's events ended"),
        }
    };
    loop {
        match tokio::time::timeout(WAIT, bob_events.recv()).await.unwrap() {
            Some(EngineEvent::Message(m)) => {
                assert_eq!(m.id, id);
                assert_eq!(m.text, "over wss");
                break;
            }
            Some(_) => continue,
            None => panic!("bob's events ended"),
        }
    }
    alice.shutdown();
    bob.shutdown();
}

#[tokio::test]
async fn an_engine_without_the_ca_is_refused_and_a_bad_pem_is_invalid_config() {
    let (server, pki) = tls_server().await;
    let url = server.ws_url();
    let (eve, _events) = engine(&url, "Eve", None);
    let err = tokio::time::timeout(WAIT, eve.create_room())
        .await
        .unwrap()
        .expect_err("a certificate from an unknown CA must be refused");
    assert!(
        err.to_string().to_lowercase().contains("certificate"),
        "{err}"
    );
    eve.shutdown();

    let mut config = EngineConfig::new(&url, "Eve").loopback_only();
    config.ca_cert_pem = Some("not a certificate".to_string());
    let (listener, _events) = ChannelListener::new();
    match Engine::new(config, listener) {
        Err(EngineError::InvalidConfig { reason }) => {
            assert!(reason.contains("ca_cert_pem"), "{reason}")
        }
        other => panic!("expected InvalidConfig, got {:?}", other.err()),
    }
    drop(pki);
}

#[tokio::test]
async fn an_engine_with_a_token_connects_to_a_server_that_requires_one() {
    const SECRET: &str = "engine-test-secret-of-32-bytes-or-more";
    let config = ServerConfig::default()
        .with_port(0)
        .with_auth_secret(SECRET);
    let server = Server::bind(config).await.unwrap().spawn();
    let exp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 600;
    let token = jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &serde_json::json!({"sub":"Alice","exp":exp}),
        &jsonwebtoken::EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .unwrap();
    let mut config = EngineConfig::new(server.ws_url(), "Alice").loopback_only();
    config.auth_token = Some(token);
    let (listener, _events) = ChannelListener::new();
    let alice = Engine::new(config, listener).unwrap();
    tokio::time::timeout(WAIT, alice.create_room())
        .await
        .unwrap()
        .expect("create room with a token");
    alice.shutdown();

    let (eve, _events) = engine(&server.ws_url(), "Eve", None);
    let err = tokio::time::timeout(WAIT, eve.create_room())
        .await
        .unwrap()
        .expect_err("no token");
    assert!(err.to_string().contains("401"), "{err}");
    eve.shutdown();
}
