//! Optional authentication (`ServerConfig::auth_secret`, `--auth-secret`): every WebSocket
//! must present a JSON Web Token (RFC 7519) signed with HMAC-SHA256 (`HS256`, RFC 7518 §3.2)
//! under the shared secret, verified with the `jsonwebtoken` crate. Its `sub` claim is the
//! login the connection may claim; `exp` is required (`nbf` honoured when present), with 30 s
//! of clock leeway.
//!
//! The token travels as `Authorization: Bearer <jwt>` (RFC 6750 §2.1), or, for browsers, which
//! cannot set headers on a WebSocket, as the query parameter `access_token` (RFC 6750 §2.3):
//! `wss://host/ws?access_token=<jwt>`. A missing or invalid token is answered
//! `401 Unauthorized` with `WWW-Authenticate: Bearer` before any WebSocket exists.

use axum::http::{HeaderMap, Uri, header};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;

/// Clock leeway (s) for `exp` and `nbf`.
pub const AUTH_LEEWAY_SECS: u64 = 30;

#[derive(Debug, Deserialize)]
struct Claims {
    sub: String,
}

/// The verifier of one server.
pub struct Auth {
    key: DecodingKey,
    validation: Validation,
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Auth(HS256)")
    }
}

impl Auth {
    /// A verifier for tokens signed with `secret` (its UTF-8 bytes are the HMAC key).
    pub fn new(secret: &str) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_required_spec_claims(&["exp", "sub"]);
        validation.validate_nbf = true;
        validation.leeway = AUTH_LEEWAY_SECS;
        Self {
            key: DecodingKey::from_secret(secret.as_bytes()),
            validation,
        }
    }

    /// The token's subject (the login it grants). Errors: why the token is refused (bad
    /// signature, expired, not yet valid, wrong algorithm, missing claim, malformed).
    pub fn verify(&self, token: &str) -> Result<String, String> {
        jsonwebtoken::decode::<Claims>(token, &self.key, &self.validation)
            .map(|data| data.claims.sub)
            .map_err(|e| e.to_string())
    }
}

/// The bearer token of a request: the `Authorization: Bearer` header, else the
/// `access_token` query parameter.
pub fn bearer(headers: &HeaderMap, uri: &Uri) -> Option<String> {
    if let Some(v) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        && let Some(t) = v
            .strip_prefix("Bearer ")
            .or_else(|| v.strip_prefix("bearer "))
    {
        return Some(t.trim().to_string());
    }
    uri.query()?
        .split('&')
        .find_map(|pair| pair.strip_prefix("access_token="))
        .map(str::to_string)
}
