//! TCP_NODELAY on the server's sockets: a message relayed right behind another is not held
//! back by Nagle's algorithm waiting for the receiver's delayed ACK (~40 ms on Linux).

mod common;

use std::time::{Duration, Instant};

use common::{pair, start_default};
use serde_json::json;

#[tokio::test]
async fn back_to_back_relays_are_not_delayed_by_nagle() {
    let server = start_default().await;
    let (mut a, mut b, _) = pair(&server).await;
    let to = b.peer_id.clone();
    let candidate = |n: usize| {
        json!({"type":"ice_candidate","to":to,
               "candidate":{"candidate":format!("candidate:{n} 1 udp 1 127.0.0.1 {n} typ host")}})
    };
    // Each round: a sends two candidates at once; b reads both, then asks for a `pong`. Because
    // b answers what it receives, its kernel delays ACKs to piggyback them (interactive mode),
    // and without TCP_NODELAY the server's second write to b waits for that delayed ACK
    // (write-write-read: the classic Nagle + delayed-ACK stall).
    let mut gaps = Vec::new();
    for round in 0..40 {
        let started = Instant::now();
        a.send(candidate(2 * round)).await;
        a.send(candidate(2 * round + 1)).await;
        b.expect("ice_candidate").await;
        b.expect("ice_candidate").await;
        b.assert_alive().await;
        gaps.push(started.elapsed());
    }
    gaps.sort();
    let median = gaps[gaps.len() / 2];
    eprintln!(
        "round (2 relays + ping/pong): median {median:?}, max {:?}",
        gaps[gaps.len() - 1]
    );
    assert!(
        median < Duration::from_millis(20),
        "median round {median:?}: the server waits for delayed ACKs (Nagle)"
    );
}
