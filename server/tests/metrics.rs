//! `GET /metrics`: Prometheus text format, with the counts that a real session produced.

mod common;

use common::{Client, WAIT, config, pair, start};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

async fn scrape(addr: std::net::SocketAddr) -> String {
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut out = String::new();
    tokio::time::timeout(WAIT, s.read_to_string(&mut out))
        .await
        .unwrap()
        .unwrap();
    assert!(out.starts_with("HTTP/1.1 200"), "{out}");
    out
}

/// The value of the sample line starting with `name` (name with labels, exactly).
fn value(body: &str, name: &str) -> f64 {
    body.lines()
        .find_map(|l| l.strip_prefix(name).and_then(|rest| rest.strip_prefix(' ')))
        .unwrap_or_else(|| panic!("no sample {name} in:\n{body}"))
        .trim()
        .parse()
        .unwrap()
}

#[tokio::test]
async fn metrics_count_connections_rooms_relays_errors_and_limits() {
    let server = start(config().with_connection_caps(100, 3)).await;
    let (mut a, mut b, _) = pair(&server).await;
    for i in 0..3 {
        a.send(json!({"type":"ice_candidate","to":b.peer_id,
                      "candidate":{"candidate":format!("candidate:{i} 1 udp 1 127.0.0.1 {i} typ host")}}))
            .await;
        b.expect("ice_candidate").await;
    }
    a.send(json!({"type":"offer","to":b.peer_id,"sdp":"v=0"}))
        .await;
    b.expect("offer").await;
    a.send(json!({"type":"dance"})).await;
    a.expect_error("unknown_type", Some("dance")).await;
    let _c = Client::connect(&server).await;
    // The 4th client is over the cap of 3.
    assert!(
        tokio_tungstenite::connect_async(server.ws_url())
            .await
            .is_err()
    );

    let body = scrape(server.local_addr()).await;
    assert!(body.contains("# TYPE peerchat_connections gauge"), "{body}");
    assert_eq!(value(&body, "peerchat_connections"), 3.0);
    assert_eq!(value(&body, "peerchat_rooms"), 1.0);
    assert_eq!(value(&body, "peerchat_logins"), 0.0);
    assert_eq!(value(&body, "peerchat_connections_accepted_total"), 3.0);
    assert_eq!(
        value(
            &body,
            "peerchat_relayed_messages_total{type=\"ice_candidate\"}"
        ),
        3.0
    );
    assert_eq!(
        value(&body, "peerchat_relayed_messages_total{type=\"offer\"}"),
        1.0
    );
    assert_eq!(
        value(&body, "peerchat_errors_total{code=\"unknown_type\"}"),
        1.0
    );
    assert_eq!(
        value(&body, "peerchat_limit_hits_total{limit=\"client_cap\"}"),
        1.0
    );
    assert_eq!(value(&body, "peerchat_relay_seconds_count"), 4.0);
    a.assert_alive().await;
}
