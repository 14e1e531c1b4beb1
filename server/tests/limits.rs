//! Connection-level limits: the pre-upgrade deadline, the per-IP cap, the client cap (with
//! `/health` still answering), `RLIMIT_NOFILE`, ping floods and unfinished fragmented
//! messages.

mod common;

use std::time::{Duration, Instant};

use common::{Client, WAIT, config, start};
use futures_util::{SinkExt, StreamExt};
use peerchat_core::protocol::MAX_FRAME_BYTES;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio::time::timeout;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
use tokio_tungstenite::tungstenite::protocol::frame::{Frame, FrameHeader};
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{client_async, connect_async};

const DEADLINE: Duration = Duration::from_millis(400);

/// Reads until the server ends the connection; returns how long that took.
async fn wait_closed_by_server(mut s: TcpStream) -> Duration {
    let started = Instant::now();
    let mut buf = [0u8; 1024];
    loop {
        match timeout(WAIT, s.read(&mut buf))
            .await
            .expect("the server kept the connection open")
        {
            Ok(0) | Err(_) => return started.elapsed(),
            Ok(_) => continue,
        }
    }
}

#[tokio::test]
async fn silent_and_dribbling_connections_are_closed_at_the_upgrade_deadline() {
    let server = start(
        config()
            .with_upgrade_timeout(DEADLINE)
            .with_liveness(Duration::from_millis(100), Duration::from_secs(5)),
    )
    .await;
    // Silent after half a request line.
    let mut silent = TcpStream::connect(server.local_addr()).await.unwrap();
    silent
        .write_all(b"GET /ws HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let took = wait_closed_by_server(silent).await;
    assert!(took < DEADLINE * 3, "closed after {took:?}");

    // One header byte every 50 ms (slowloris) is no way around it.
    let mut slow = TcpStream::connect(server.local_addr()).await.unwrap();
    let started = Instant::now();
    let mut tick = tokio::time::interval(Duration::from_millis(50));
    let request = b"GET /ws HTTP/1.1\r\nHost: x\r\nX-Pad: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    let mut closed = false;
    for byte in request {
        tick.tick().await;
        if slow.write_all(&[*byte]).await.is_err() {
            closed = true;
            break;
        }
    }
    if !closed {
        wait_closed_by_server(slow).await;
    }
    let took = started.elapsed();
    assert!(took < DEADLINE * 3, "slowloris lasted {took:?}");

    // An upgraded WebSocket is not subject to the deadline: it reads the server's pings (one
    // per 100 ms) for twice the deadline, then still works.
    let mut ok = Client::connect(&server).await;
    let until = Instant::now() + DEADLINE * 2;
    while let Ok(next) = tokio::time::timeout_at(until.into(), ok.ws.next()).await {
        match next {
            Some(Ok(Message::Ping(_))) => {}
            other => panic!("expected only pings, got {other:?}"),
        }
    }
    ok.assert_alive().await;
}

#[tokio::test]
async fn per_ip_cap_refuses_extra_connections_from_that_ip_only() {
    let server = start(config().with_connection_caps(3, 1000)).await;
    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(Client::connect(&server).await);
    }
    // The fourth from 127.0.0.1 is closed at once, before any HTTP.
    let r = timeout(WAIT, connect_async(server.ws_url()))
        .await
        .expect("refused connection hung");
    assert!(r.is_err(), "a 4th connection from one IP was served");
    // Another address (127.0.0.2, still loopback) is not affected.
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.2:0".parse().unwrap()).unwrap();
    let tcp = socket.connect(server.local_addr()).await.unwrap();
    let (mut ws, _) = client_async(server.ws_url(), tcp).await.expect("other IP");
    match timeout(WAIT, ws.next()).await.unwrap() {
        Some(Ok(Message::Text(t))) => assert!(t.contains("welcome"), "{t}"),
        other => panic!("{other:?}"),
    }
    for c in &mut held {
        c.assert_alive().await;
    }
}

#[tokio::test]
async fn at_the_client_cap_upgrades_get_503_and_health_still_answers() {
    let server = start(config().with_connection_caps(100, 2)).await;
    let mut a = Client::connect(&server).await;
    let _b = Client::connect(&server).await;
    match timeout(WAIT, connect_async(server.ws_url())).await.unwrap() {
        Err(tungstenite::Error::Http(resp)) => assert_eq!(resp.status().as_u16(), 503),
        other => panic!("expected 503, got {:?}", other.map(|_| ())),
    }
    let mut http = TcpStream::connect(server.local_addr()).await.unwrap();
    http.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut body = String::new();
    timeout(WAIT, http.read_to_string(&mut body))
        .await
        .unwrap()
        .unwrap();
    assert!(body.starts_with("HTTP/1.1 200"), "{body}");
    assert!(body.contains("\"connected_clients\":2"), "{body}");
    a.assert_alive().await;
}

#[tokio::test]
async fn bind_raises_the_open_file_limit_to_the_hard_limit() {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: plain getrlimit/setrlimit on a local struct.
    unsafe {
        assert_eq!(libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim), 0);
        if lim.rlim_max <= 256 {
            eprintln!("hard limit {} too low to test", lim.rlim_max);
            return;
        }
        let low = libc::rlimit {
            rlim_cur: 256,
            rlim_max: lim.rlim_max,
        };
        assert_eq!(libc::setrlimit(libc::RLIMIT_NOFILE, &low), 0);
    }
    let _server = start(config()).await;
    let mut now = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    unsafe {
        assert_eq!(libc::getrlimit(libc::RLIMIT_NOFILE, &mut now), 0);
    }
    assert_eq!(now.rlim_cur, lim.rlim_max, "soft limit not raised");
}

#[tokio::test]
async fn a_ping_flood_is_closed_with_1008() {
    let server = start(config()).await;
    let mut a = Client::connect(&server).await;
    for _ in 0..200 {
        a.ws.feed(Message::Ping(Default::default())).await.unwrap();
    }
    a.ws.flush().await.unwrap();
    let frame = a.expect_close().await.expect("close frame");
    assert_eq!(u16::from(frame.code), 1008);
    assert!(frame.reason.contains("ping"), "{}", frame.reason);
    common::assert_server_serves(&server).await;
}

#[tokio::test]
async fn unfinished_fragmented_messages_are_capped_as_they_arrive() {
    // Fragments of an unfinished message: once they add up to more than MAX_FRAME_BYTES the
    // connection is closed (1009), before the message is complete.
    let server = start(config()).await;
    let mut a = Client::connect(&server).await;
    // 7 × 16 KiB = 112 KiB: more than MAX_FRAME_BYTES, less than the single-frame hard limit.
    let chunk = 16 * 1024;
    assert!(7 * chunk > MAX_FRAME_BYTES);
    let mut send_failed = false;
    for i in 0..7 {
        let header = FrameHeader {
            is_final: false,
            opcode: if i == 0 {
                OpCode::Data(Data::Text)
            } else {
                OpCode::Data(Data::Continue)
            },
            ..FrameHeader::default()
        };
        let frame = Frame::from_payload(header, vec![b'a'; chunk].into());
        if a.ws.send(Message::Frame(frame)).await.is_err() {
            send_failed = true; // the server already closed
            break;
        }
    }
    if !send_failed {
        // The message is still unfinished: only the size of its fragments can end it.
        let frame = a.expect_close().await.expect("close frame");
        assert_eq!(u16::from(frame.code), 1009);
    }
    common::assert_server_serves(&server).await;
}
