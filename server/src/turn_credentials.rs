//! Time-limited TURN credentials for `welcome` (the "TURN REST API" scheme,
//! draft-uberti-behave-turn-rest-00, which coturn implements with `use-auth-secret` and
//! `static-auth-secret`):
//!
//! - username: `<expiry>:<peer id>`, where expiry is a Unix time in seconds;
//! - password: base64(HMAC-SHA1(secret, username)).
//!
//! The TURN server recomputes the password from the username and its copy of the secret, and
//! refuses a username whose expiry has passed. The signaling server never talks to it.

use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use peerchat_core::protocol::TurnServer;

use crate::config::ServerConfig;

/// The credentials for `peer_id` now, or none when `config` has no TURN secret.
pub fn for_peer(config: &ServerConfig, peer_id: &str) -> Vec<TurnServer> {
    let Some(secret) = &config.turn_secret else {
        return Vec::new();
    };
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let ttl = config.turn_ttl.as_secs();
    let username = format!("{}:{peer_id}", now + ttl);
    vec![TurnServer {
        urls: config.turn_urls.clone(),
        credential: password(secret, &username),
        username,
        ttl_seconds: ttl,
    }]
}

/// base64(HMAC-SHA1(secret, username)). SHA-1 is what the scheme (and coturn) specifies; as
/// an HMAC it is not affected by SHA-1's collision weakness.
pub fn password(secret: &str, username: &str) -> String {
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, secret.as_bytes());
    STANDARD.encode(ring::hmac::sign(&key, username.as_bytes()).as_ref())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_matches_a_known_hmac_sha1() {
        // RFC 2202 test case 2: HMAC-SHA1("Jefe", "what do ya want for nothing?").
        assert_eq!(
            password("Jefe", "what do ya want for nothing?"),
            STANDARD.encode([
                0xef, 0xfc, 0xdf, 0x6a, 0xe5, 0xeb, 0x2f, 0xa2, 0xd2, 0x74, 0x16, 0xd5, 0xf1, 0x84,
                0xdf, 0x9c, 0x25, 0x9a, 0x7c, 0x79
            ])
        );
    }
}
