//! The browser client: static files from `web/static/`, embedded in the binary at compile time
//! and served at `/` (the page) and `/<file>` (its ES modules, style sheet and icon).
//!
//! The page connects back to `ws(s)://<same host>/ws`, so one server port serves both the web
//! client and signaling. [`routes`] returns a state-agnostic [`Router`] that the server's
//! router merges next to `/ws` and `/health`.

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

/// One embedded file: the URL path it is served at, its `Content-Type` and its text.
#[derive(Debug, Clone, Copy)]
pub struct Asset {
    /// URL path, e.g. `/app.js`.
    pub path: &'static str,
    /// `Content-Type` header value.
    pub content_type: &'static str,
    /// The file's contents (UTF-8 text).
    pub body: &'static str,
}

const HTML: &str = "text/html; charset=utf-8";
const JS: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";
const SVG: &str = "image/svg+xml";

macro_rules! asset {
    ($path:literal, $file:literal, $type:expr) => {
        Asset {
            path: $path,
            content_type: $type,
            body: include_str!(concat!("../../web/static/", $file)),
        }
    };
}

/// Every file of the web client, in the order a browser loads them.
pub const ASSETS: &[Asset] = &[
    asset!("/", "index.html", HTML),
    asset!("/style.css", "style.css", CSS),
    asset!("/favicon.svg", "favicon.svg", SVG),
    asset!("/app.js", "app.js", JS),
    asset!("/session.js", "session.js", JS),
    asset!("/signaling.js", "signaling.js", JS),
    asset!("/peer.js", "peer.js", JS),
    asset!("/chat-frames.js", "chat-frames.js", JS),
    asset!("/protocol.js", "protocol.js", JS),
];

/// Content-Security-Policy of every response: scripts, styles and connections (including the
/// `/ws` WebSocket, which CSP level 3 `'self'` covers) only to this origin.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; connect-src 'self'; \
     img-src 'self' data:; style-src 'self'; script-src 'self'; object-src 'none'; \
     base-uri 'none'; frame-ancestors 'none'; form-action 'none'";

/// Routes serving [`ASSETS`] with `GET` (and `HEAD`), for any router state `S`.
///
/// Every response carries `Cache-Control: no-cache` (the files change with the binary),
/// `X-Content-Type-Options: nosniff` and [`CONTENT_SECURITY_POLICY`]. Other paths are left to
/// the rest of the router (404 when nothing matches).
pub fn routes<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    ASSETS.iter().fold(Router::new(), |router, asset| {
        router.route(asset.path, get(move || std::future::ready(respond(asset))))
    })
}

fn respond(asset: &'static Asset) -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static(asset.content_type),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
            (
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(CONTENT_SECURITY_POLICY),
            ),
        ],
        asset.body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::{TcpListener, TcpStream};

    /// Local references (`src="/x"`, `href="/x"`, `from './x.js'`) in a file's text.
    fn references(text: &str) -> Vec<String> {
        let mut out = Vec::new();
        for (open, close) in [("src=\"/", '"'), ("href=\"/", '"'), ("from './", '\'')] {
            let mut rest = text;
            while let Some(at) = rest.find(open) {
                rest = &rest[at + open.len()..];
                let end = rest.find(close).unwrap_or(rest.len());
                out.push(format!("/{}", &rest[..end]));
            }
        }
        out
    }

    #[test]
    fn every_file_the_page_loads_is_embedded() {
        let served: Vec<&str> = ASSETS.iter().map(|a| a.path).collect();
        let mut seen = 0;
        for asset in ASSETS {
            for reference in references(asset.body) {
                seen += 1;
                assert!(
                    served.contains(&reference.as_str()),
                    "{} refers to {reference}, which is not in ASSETS",
                    asset.path
                );
            }
        }
        assert!(seen >= 8, "found only {seen} references");
    }

    async fn get_raw(addr: std::net::SocketAddr, path: &str) -> String {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).await.unwrap();
        response
    }

    #[tokio::test]
    async fn serves_the_page_and_its_modules_over_http() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move { axum::serve(listener, routes::<()>()).await });

        let page = get_raw(addr, "/").await;
        assert!(page.starts_with("HTTP/1.1 200"), "{page}");
        let lower = page.to_ascii_lowercase();
        assert!(lower.contains("content-type: text/html; charset=utf-8"));
        assert!(lower.contains("x-content-type-options: nosniff"));
        assert!(lower.contains("content-security-policy: default-src 'self'"));
        assert!(page.contains("<script type=\"module\" src=\"/app.js\">"));

        let module = get_raw(addr, "/chat-frames.js").await;
        assert!(module.starts_with("HTTP/1.1 200"));
        assert!(
            module
                .to_ascii_lowercase()
                .contains("content-type: text/javascript")
        );
        assert!(module.contains("export const MAX_MESSAGE_BYTES = 16 * 1024;"));

        let missing = get_raw(addr, "/nope.js").await;
        assert!(missing.starts_with("HTTP/1.1 404"), "{missing}");
        server.abort();
    }

    #[test]
    fn client_protocol_constants_match_the_contract() {
        use peerchat_core::protocol as p;
        let js = ASSETS
            .iter()
            .find(|a| a.path == "/protocol.js")
            .unwrap()
            .body;
        for expected in [
            format!("PROTOCOL_VERSION = {};", p::PROTOCOL_VERSION),
            format!("MAX_NAME_CHARS = {};", p::MAX_NAME_CHARS),
            format!(
                "ROOM_CODE_ALPHABET = '{}';",
                std::str::from_utf8(p::ROOM_CODE_ALPHABET).unwrap()
            ),
            format!("ROOM_CODE_LEN = {};", p::ROOM_CODE_LEN),
            format!("ROOM_CODE_GROUP = {};", p::ROOM_CODE_GROUP),
        ] {
            assert!(js.contains(&expected), "protocol.js lacks `{expected}`");
        }
    }
}
