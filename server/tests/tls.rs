//! TLS: `wss://` with a certificate from a CA the test generates (rcgen). A client that
//! trusts that CA gets the `welcome`; one that trusts only the public web roots, or speaks
//! plain `ws://` to the TLS port, does not.

mod common;

use std::path::PathBuf;
use std::sync::Arc;

use common::WAIT;
use futures_util::StreamExt;
use peerchat_server::{Server, ServerConfig};
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{Connector, connect_async, connect_async_tls_with_config};

/// A fresh CA and a `localhost`/`127.0.0.1` server certificate it signed, written as PEM
/// files into a new temporary directory: `(dir, ca_pem, cert_path, key_path)`.
fn make_pki(tag: &str) -> (PathBuf, String, PathBuf, PathBuf) {
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
    let leaf_key = KeyPair::generate().unwrap();
    let leaf = CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()])
        .unwrap()
        .signed_by(&leaf_key, &ca)
        .unwrap();
    let dir = std::env::temp_dir().join(format!("peerchat-tls-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cert = dir.join("cert.pem");
    let key = dir.join("key.pem");
    std::fs::write(&cert, leaf.pem()).unwrap();
    std::fs::write(&key, leaf_key.serialize_pem()).unwrap();
    (dir, ca.pem(), cert, key)
}

fn client_config(extra_ca: Option<&str>) -> Arc<rustls::ClientConfig> {
    use rustls_pki_types::CertificateDer;
    use rustls_pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    if let Some(pem) = extra_ca {
        for c in CertificateDer::pem_slice_iter(pem.as_bytes()) {
            roots.add(c.unwrap()).unwrap();
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Arc::new(
        rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth(),
    )
}

#[tokio::test]
async fn wss_with_a_private_ca() {
    let (dir, ca_pem, cert, key) = make_pki("ok");
    let server = Server::bind(common::config().with_tls(&cert, &key))
        .await
        .expect("bind with TLS")
        .spawn();
    let url = server.ws_url();
    assert!(url.starts_with("wss://127.0.0.1:"), "{url}");

    // Trusting the test CA: the TLS handshake and the upgrade succeed.
    let (mut ws, _) = tokio::time::timeout(
        WAIT,
        connect_async_tls_with_config(
            url.as_str(),
            None,
            true,
            Some(Connector::Rustls(client_config(Some(&ca_pem)))),
        ),
    )
    .await
    .unwrap()
    .expect("wss connect");
    match tokio::time::timeout(WAIT, ws.next()).await.unwrap() {
        Some(Ok(Message::Text(t))) => assert!(t.contains("\"welcome\""), "{t}"),
        other => panic!("expected welcome, got {other:?}"),
    }
    // The name `localhost` is in the certificate too.
    let local = url.replace("127.0.0.1", "localhost");
    let (_ws2, _) = connect_async_tls_with_config(
        local.as_str(),
        None,
        true,
        Some(Connector::Rustls(client_config(Some(&ca_pem)))),
    )
    .await
    .expect("wss://localhost connect");

    // Trusting only the public roots: the certificate is refused.
    let err = connect_async_tls_with_config(
        url.as_str(),
        None,
        true,
        Some(Connector::Rustls(client_config(None))),
    )
    .await
    .expect_err("an unknown CA must be refused");
    assert!(
        err.to_string().to_lowercase().contains("certificate"),
        "{err}"
    );

    // Plain ws:// to the TLS port gets no WebSocket.
    let plain = url.replace("wss://", "ws://");
    let r = tokio::time::timeout(WAIT, connect_async(plain.as_str()))
        .await
        .expect("plain connect hung");
    assert!(r.is_err(), "plain ws:// was upgraded on a TLS port");
    server.shutdown().await.unwrap();
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn bad_tls_files_are_a_clear_error() {
    let (dir, _ca, cert, key) = make_pki("bad");
    let missing = dir.join("missing.pem");
    let err = Server::bind(common::config().with_tls(&missing, &key))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("missing.pem"), "{err}");
    // Certificate and key swapped: no key in the key file.
    let err = Server::bind(common::config().with_tls(&cert, &cert))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("TLS"), "{err}");
    let only_cert = ServerConfig {
        tls_cert: Some(cert.clone()),
        ..common::config()
    };
    assert!(Server::bind(only_cert).await.is_err());
    let _ = std::fs::remove_dir_all(dir);
}
