//! TLS for `wss://` and `https://`: loads a PEM certificate chain and private key into a
//! rustls [`ServerConfig`](rustls::ServerConfig) (crypto provider: `ring`; TLS 1.2 and 1.3;
//! ALPN `http/1.1`, since WebSocket upgrades need HTTP/1.1).

use std::path::Path;
use std::sync::Arc;

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::TlsAcceptor;

use crate::error::ServerError;

/// A rustls acceptor (only to give [`crate::Server`] a `Debug` impl).
#[derive(Clone)]
pub struct Acceptor(pub TlsAcceptor);

impl std::fmt::Debug for Acceptor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TlsAcceptor")
    }
}

/// Builds the acceptor from a PEM file holding the certificate chain (leaf first) and a PEM
/// file holding its private key (PKCS#8, PKCS#1 or SEC1).
///
/// Errors: [`ServerError::Tls`] naming the file when it cannot be read, holds no certificate
/// or key, or when rustls refuses the pair (e.g. the key does not match the certificate).
pub fn acceptor(cert_pem: &Path, key_pem: &Path) -> Result<Acceptor, ServerError> {
    let tls = |what: String| ServerError::Tls(what);
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert_pem)
        .map_err(|e| tls(format!("{}: {e}", cert_pem.display())))?
        .collect::<Result<_, _>>()
        .map_err(|e| tls(format!("{}: {e}", cert_pem.display())))?;
    if certs.is_empty() {
        return Err(tls(format!("{}: no certificate found", cert_pem.display())));
    }
    let key = PrivateKeyDer::from_pem_file(key_pem)
        .map_err(|e| tls(format!("{}: {e}", key_pem.display())))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| tls(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| {
            tls(format!(
                "{} / {}: {e}",
                cert_pem.display(),
                key_pem.display()
            ))
        })?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Acceptor(TlsAcceptor::from(Arc::new(config))))
}
