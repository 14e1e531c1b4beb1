//! TLS for `wss://` signaling URLs: a rustls client configuration (crypto provider `ring`)
//! trusting the Mozilla root store bundled by the `webpki-roots` crate, plus the extra CA
//! certificates of [`EngineConfig::ca_cert_pem`](crate::EngineConfig::ca_cert_pem) for
//! private deployments and tests.

use std::sync::Arc;

use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;
use tokio_tungstenite::Connector;

/// Parses every `CERTIFICATE` block of `pem`. Errors: a description when `pem` holds no
/// certificate or a block does not parse.
pub(crate) fn parse_ca_pem(pem: &str) -> Result<Vec<CertificateDer<'static>>, String> {
    let certs: Vec<_> = CertificateDer::pem_slice_iter(pem.as_bytes())
        .collect::<Result<_, _>>()
        .map_err(|e| format!("ca_cert_pem: {e}"))?;
    if certs.is_empty() {
        return Err("ca_cert_pem holds no PEM CERTIFICATE block".to_string());
    }
    Ok(certs)
}

/// The connector for a `wss://` URL: web roots plus `ca_cert_pem`'s certificates. Errors: a
/// description when `ca_cert_pem` is not usable (see [`parse_ca_pem`]) or rustls refuses it.
pub(crate) fn connector(ca_cert_pem: Option<&str>) -> Result<Connector, String> {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    if let Some(pem) = ca_cert_pem {
        for cert in parse_ca_pem(pem)? {
            roots.add(cert).map_err(|e| format!("ca_cert_pem: {e}"))?;
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Connector::Rustls(Arc::new(config)))
}

/// The WebSocket handshake request for `url`, with `Authorization: Bearer <auth_token>` when a
/// token is given (RFC 6750 §2.1). Errors: a description when the URL or token is unusable.
pub(crate) fn request(
    url: &str,
    auth_token: Option<&str>,
) -> Result<tokio_tungstenite::tungstenite::handshake::client::Request, String> {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    use tokio_tungstenite::tungstenite::http::HeaderValue;
    let mut request = url.into_client_request().map_err(|e| e.to_string())?;
    if let Some(token) = auth_token {
        let value = HeaderValue::from_str(&format!("Bearer {token}"))
            .map_err(|_| "auth_token has characters not allowed in an HTTP header".to_string())?;
        request.headers_mut().insert(
            tokio_tungstenite::tungstenite::http::header::AUTHORIZATION,
            value,
        );
    }
    Ok(request)
}
