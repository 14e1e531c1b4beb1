//! Scale-out on Redis across real processes: a real `redis-server`, several real
//! `peerchat serve --redis-url` instances on 127.0.0.1, raw signaling clients and real engines.

use std::time::Duration;

use nix::sys::signal::Signal;
use peerchat_chaos_tests::Client;
use peerchat_core::{EngineConfig, EngineEvent};
use peerchat_redis_tests::{Redis, Ws, instances};
use serde_json::json;

/// A creates a room on `a`'s instance, B joins it by code on another: both in one room.
async fn room_pair(url_a: &str, url_b: &str) -> (Ws, Ws, String) {
    let mut a = Ws::connect(url_a).await;
    a.send(json!({"type": "create_room", "name": "A"})).await;
    let code = a.next_of("room_created").await["code"]
        .as_str()
        .expect("code")
        .to_string();
    let mut b = Ws::connect(url_b).await;
    b.send(json!({"type": "join_room", "code": code.to_lowercase(), "name": "B"}))
        .await;
    let joined = b.next_of("room_joined").await;
    assert_eq!(joined["members"][0]["peer_id"], a.id.as_str());
    let pj = a.next_of("peer_joined").await;
    assert_eq!(pj["peer"]["peer_id"], b.id.as_str());
    (a, b, code)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn room_by_code_chat_by_login_and_relays_cross_instances() {
    let redis = Redis::start();
    let s = instances(2, &redis, &[]);
    let (mut a, mut b, _) = room_pair(&s[0].url(), &s[1].url()).await;
    // Offer, answer and ICE candidate across the two instances.
    a.send(json!({"type": "offer", "to": b.id, "sdp": "v=0 offer"}))
        .await;
    let offer = b.next_of("offer").await;
    assert_eq!(
        (offer["from"].as_str(), offer["sdp"].as_str()),
        (Some(a.id.as_str()), Some("v=0 offer"))
    );
    assert_eq!(offer["from_name"], "A");
    b.send(json!({"type": "answer", "to": a.id, "sdp": "v=0 answer"}))
        .await;
    assert_eq!(a.next_of("answer").await["sdp"], "v=0 answer");
    let candidate = json!({"candidate": "candidate:1 1 udp 1 127.0.0.1 9 typ host", "sdp_mid": "0", "sdp_m_line_index": 0});
    b.send(json!({"type": "ice_candidate", "to": a.id, "candidate": candidate}))
        .await;
    assert_eq!(
        a.next_of("ice_candidate").await["candidate"]["candidate"],
        candidate["candidate"]
    );

    // Chat by login: C on instance 0, D on instance 1.
    let mut c = Ws::connect(&s[0].url()).await;
    let mut d = Ws::connect(&s[1].url()).await;
    c.send(json!({"type": "login", "login": "carol"})).await;
    c.next_of("logged_in").await;
    d.send(json!({"type": "login", "login": "dave"})).await;
    d.next_of("logged_in").await;
    d.send(json!({"type": "offer", "to_login": "carol", "sdp": "hi carol"}))
        .await;
    let got = c.next_of("offer").await;
    assert_eq!(
        (got["from"].as_str(), got["from_name"].as_str()),
        (Some(d.id.as_str()), Some("dave"))
    );
    c.send(json!({"type": "answer", "to": d.id, "sdp": "hi dave"}))
        .await;
    assert_eq!(d.next_of("answer").await["sdp"], "hi dave");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_three_peer_mesh_over_three_instances() {
    let redis = Redis::start();
    let s = instances(3, &redis, &["--room-capacity", "3"]);
    let (mut a, mut b, code) = room_pair(&s[0].url(), &s[1].url()).await;
    let mut c = Ws::connect(&s[2].url()).await;
    c.send(json!({"type": "join_room", "code": code, "name": "C"}))
        .await;
    assert_eq!(
        c.next_of("room_joined").await["members"]
            .as_array()
            .map(Vec::len),
        Some(2)
    );
    assert_eq!(
        a.next_of("peer_joined").await["peer"]["peer_id"],
        c.id.as_str()
    );
    assert_eq!(
        b.next_of("peer_joined").await["peer"]["peer_id"],
        c.id.as_str()
    );
    // Every member offers to every other one; each gets exactly the two offers meant for it.
    let ids = [a.id.clone(), b.id.clone(), c.id.clone()];
    for (from, ws) in [&mut a, &mut b, &mut c].into_iter().enumerate() {
        for (to, id) in ids.iter().enumerate() {
            if to != from {
                ws.send(json!({"type": "offer", "to": id, "sdp": format!("{from}->{to}")}))
                    .await;
            }
        }
    }
    for (to, ws) in [&mut a, &mut b, &mut c].into_iter().enumerate() {
        let mut got = vec![
            ws.next_of("offer").await["sdp"]
                .as_str()
                .unwrap()
                .to_string(),
            ws.next_of("offer").await["sdp"]
                .as_str()
                .unwrap()
                .to_string(),
        ];
        got.sort();
        let want: Vec<String> = (0..3)
            .filter(|f| *f != to)
            .map(|f| format!("{f}->{to}"))
            .collect();
        assert_eq!(got, want);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logins_are_unique_and_guess_limits_global_across_instances() {
    let redis = Redis::start();
    let s = instances(2, &redis, &[]);
    let mut x = Ws::connect(&s[0].url()).await;
    let mut y = Ws::connect(&s[1].url()).await;
    x.send(json!({"type": "login", "login": "Zoë"})).await;
    x.next_of("logged_in").await;
    // The same login (another case) on the other instance is taken.
    y.send(json!({"type": "login", "login": "zoë"})).await;
    let err = y.next_of("error").await;
    assert_eq!(err["code"], "login_taken", "{err}");
    // Released on one instance: free on the other.
    x.send(json!({"type": "logout"})).await;
    x.next_of("logged_out").await;
    y.send(json!({"type": "login", "login": "zoë"})).await;
    y.next_of("logged_in").await;

    // Wrong room codes from 127.0.0.1: the per-IP budget (20 misses at once) is spent on
    // instance 0; instance 1 refuses the next guess from the same address.
    let mut g = Ws::connect(&s[0].url()).await;
    for _ in 0..20 {
        g.send(json!({"type": "join_room", "code": "AAA-AAA-AAA", "name": "G"}))
            .await;
        assert_eq!(g.next_of("error").await["code"], "room_not_found");
    }
    let mut h = Ws::connect(&s[1].url()).await;
    h.send(json!({"type": "join_room", "code": "AAA-AAA-AAA", "name": "H"}))
        .await;
    let err = h.next_of("error").await;
    assert_eq!(err["code"], "rate_limited", "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_instance_sigkilled_its_client_resumes_elsewhere_and_nothing_is_lost() {
    let redis = Redis::start();
    let s = instances(2, &redis, &[]);
    let (a, mut b, code) = room_pair(&s[0].url(), &s[1].url()).await;
    let (a_id, a_token) = (a.id.clone(), a.token.clone());
    s[0].proc.signal(Signal::SIGKILL);
    drop(a);
    // The survivors see the dead instance's peers interrupted (not left) once its heartbeats
    // stop reaching the log.
    let int = b.next_of("peer_interrupted").await;
    assert_eq!(int["peer_id"], a_id.as_str());
    // Relays for the interrupted peer are kept for its resume.
    for i in 0..5 {
        b.send(json!({"type": "offer", "to": a_id, "sdp": format!("kept {i}")}))
            .await;
    }
    // A resumes on the surviving instance.
    let mut a2 = Ws::connect(&s[1].url()).await;
    a2.send(json!({"type": "resume", "session_token": a_token}))
        .await;
    let resumed = a2.next_of("resumed").await;
    assert_eq!(resumed["peer_id"], a_id.as_str());
    assert_eq!(resumed["room"]["code"], code.as_str());
    for i in 0..5 {
        assert_eq!(a2.next_of("offer").await["sdp"], format!("kept {i}"));
    }
    assert_eq!(b.next_of("peer_resumed").await["peer_id"], a_id.as_str());
    a2.send(json!({"type": "answer", "to": b.id, "sdp": "back"}))
        .await;
    assert_eq!(b.next_of("answer").await["from"], a_id.as_str());
    assert!(!b.saw("peer_left"), "{:#?}", b.seen);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn engines_fail_over_to_the_next_signaling_url_and_keep_chatting() {
    let redis = Redis::start();
    let s = instances(2, &redis, &[]);
    let mut config = EngineConfig::new(s[0].url(), "Alice").loopback_only();
    config.signaling_fallback_urls = vec![s[1].url()];
    let mut alice = Client::with_config(config);
    let mut bob = Client::new(&s[1].url(), "Bob");
    let room = alice.engine.create_room().await.expect("create");
    bob.engine.join_room(&room.code).await.expect("join");
    alice.wait_connected().await;
    let alice_key = bob.wait_connected().await;
    let alice_id = alice.engine.peer_id().expect("peer id");
    alice.forget_events();
    bob.forget_events();

    let mark = alice.mark();
    s[0].proc.signal(Signal::SIGKILL);
    alice.engine.send_message("during failover").expect("send");
    alice.wait_reconnected(mark).await;
    assert_eq!(alice.engine.peer_id(), Some(alice_id), "same session");
    alice.engine.send_message("after").expect("send");
    bob.engine.send_message("still here").expect("send");
    assert_eq!(bob.received(2).await, ["during failover", "after"]);
    assert_eq!(alice.received(1).await, ["still here"]);
    // Bob may see Alice interrupted then resumed (if the instance timeout came first), never
    // left.
    let is_left = |e: &EngineEvent| matches!(e, EngineEvent::PeerLeft { .. });
    assert!(bob.seen_where(is_left).is_empty(), "{:#?}", bob.seen);
    let interrupted = !bob
        .seen_where(|e| matches!(e, EngineEvent::PeerInterrupted(p) if *p == alice_key))
        .is_empty();
    if interrupted {
        bob.seen_or_wait_for("alice resumed", |e| {
            matches!(e, EngineEvent::PeerResumed(p) if *p == alice_key).then_some(())
        })
        .await;
    }
    println!("failover: bob saw alice interrupted first: {interrupted}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_restarted_servers_reconnect_keep_their_rooms_and_refuse_meanwhile() {
    let mut redis = Redis::start();
    let s = instances(2, &redis, &[]);
    let (mut a, mut b, _) = room_pair(&s[0].url(), &s[1].url()).await;
    redis.kill();
    // While Redis is down a request is refused with a typed error, not dropped silently.
    a.send(json!({"type": "offer", "to": b.id, "sdp": "while down"}))
        .await;
    let err = a.next_of("error").await;
    assert_eq!(
        (err["code"].as_str(), err["request"].as_str()),
        (Some("internal"), Some("offer")),
        "{err}"
    );
    assert!(err["message"].as_str().unwrap().contains("Redis"), "{err}");
    redis.restart();
    // The instances reconnect on their own; on each, the first request after the restart may
    // still be refused (the error is typed, and is what paces the retries).
    let a_tries = relay_until_delivered(&mut a, &mut b, "offer").await;
    assert!(
        !b.seen.iter().any(|v| v["sdp"] == "while down"),
        "refused yet delivered"
    );
    // The room survived in the replicas: B can still relay to A (allowed only as room mates).
    let b_tries = relay_until_delivered(&mut b, &mut a, "answer").await;
    println!("Redis restarted: delivered again after {a_tries} and {b_tries} attempt(s)");
}

/// Sends `kind` from `from` to `to` until it arrives, retrying only after an `internal` error
/// (Redis unreachable) came back; checks that exactly the last attempt arrived. Returns the
/// number of attempts.
async fn relay_until_delivered(from: &mut Ws, to: &mut Ws, kind: &str) -> usize {
    let mut attempts = 0;
    let got = loop {
        attempts += 1;
        assert!(attempts < 200, "never delivered after the restart");
        let sdp = format!("{kind} {attempts}");
        from.send(json!({"type": kind, "to": to.id, "sdp": sdp}))
            .await;
        tokio::select! {
            v = from.next_of("error") => {
                assert_eq!(v["code"], "internal", "{v}");
                tokio::time::sleep(Duration::from_millis(50)).await; // pacing of retries only
            }
            v = to.next_of(kind) => break v,
        }
    };
    assert_eq!(
        got["sdp"],
        format!("{kind} {attempts}"),
        "a refused request was delivered"
    );
    attempts
}
