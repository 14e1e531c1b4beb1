//! Receipt lag under two-way bulk traffic on a lossy link (issue 12): two engines in hosts
//! "alice" and "bob", a real `peerchat serve` in host "sig", 5 % loss and 50 ms delay on both
//! peers' links (UDP only, so signaling stays clean). Both sides queue bulk messages at once;
//! alice mixes a small probe into her bulk every few messages. The lag of a probe is the time
//! from bob's `Message` event to alice's `Delivered` status for it: how long a ✓ waits behind
//! bulk data. Prints the figures and asserts p99 ≤ [`LAG_P99_MAX`]. Needs root. Ignored by
//! default (the bound is not met yet and the run takes minutes); run it with
//! `cargo test -p peerchat-netsim --features netsim-tests --test receipt_lag -- --ignored --nocapture`.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use peerchat_core::{ChannelListener, Engine, EngineConfig, EngineEvent, MessageStatus, PeerState};
use peerchat_netsim::{Host, Impairment, Net};
use peerchat_test_support::{ServerProc, peerchat_bin};
use tokio::sync::mpsc::UnboundedReceiver;

/// The bound the issue sets for the receipt lag's p99.
const LAG_P99_MAX: Duration = Duration::from_secs(1);
/// Bulk each side queues: 48 messages of 16 KiB (≈ 0.8 MB). At 5 % loss and 200 ms round
/// trip SCTP moves a few hundred KB/s, so this keeps the link busy for several seconds.
const BULK_MESSAGES: usize = 48;
const BULK_BYTES: usize = 16 * 1024;
/// A probe after every this many of alice's bulk messages.
const PROBE_EVERY: usize = 2;
/// Upper bound for the whole exchange.
const WAIT: Duration = Duration::from_secs(120);

struct Peer {
    engine: Engine,
    events: UnboundedReceiver<EngineEvent>,
}

impl Peer {
    fn start(host: &Host, url: &str, name: &str) -> Peer {
        let mut config = EngineConfig::new(url, name);
        config.resolve_mdns_candidates = false;
        host.call(|| {
            let (listener, events) = ChannelListener::new();
            let engine = Engine::new(config, listener).expect("engine starts");
            Peer { engine, events }
        })
        .expect("enter host")
    }

    async fn connected(&mut self) {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            match tokio::time::timeout_at(deadline, self.events.recv()).await {
                Ok(Some(EngineEvent::PeerState {
                    state: PeerState::Connected,
                    ..
                })) => return,
                Ok(Some(_)) => {}
                Ok(None) => panic!("engine stopped before connecting"),
                Err(_) => panic!("not connected within {WAIT:?}"),
            }
        }
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let rank = ((p / 100.0) * (sorted.len() as f64 - 1.0)).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

#[test]
#[ignore = "the p99 ≤ 1 s bound is not met yet (measured p50 306 ms, p99 6.3 s; docs/benchmark.md, \
            \"Receipt lag under loss\"); ~2-4 min: run with --ignored"]
fn receipt_lag_p99_under_two_way_bulk_with_5_percent_loss_and_50_ms_delay() {
    let net = Net::builder()
        .host("alice")
        .host("bob")
        .host("sig")
        .build()
        .unwrap_or_else(|err| panic!("{err}"));
    let (alice_host, bob_host, sig) = (net.host("alice"), net.host("bob"), net.host("sig"));
    println!("seed {}", net.seed());
    let server = ServerProc::start_command(sig.command(peerchat_bin()), "0.0.0.0", 0, &[]);
    let url = format!("ws://{}:{}/ws", sig.addr(), server.port);
    let mut alice = Peer::start(alice_host, &url, "alice");
    let mut bob = Peer::start(bob_host, &url, "bob");

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let room = alice.engine.create_room().await.expect("create room");
        bob.engine.join_room(&room.code).await.expect("join room");
        alice.connected().await;
        bob.connected().await;

        let lossy = Impairment::none().loss(0.05).delay_ms(50).udp_only(true);
        alice_host.link().set(lossy).unwrap();
        bob_host.link().set(lossy).unwrap();

        let bulk = "b".repeat(BULK_BYTES);
        // Probe id → (bob showed it, alice saw it delivered). Either may come first: each
        // engine delivers its events on its own thread; a ✓ seen first counts as lag 0.
        let mut probes: HashMap<String, (Option<Instant>, Option<Instant>)> = HashMap::new();
        for i in 0..BULK_MESSAGES {
            alice.engine.send_message(&bulk).expect("alice bulk");
            bob.engine.send_message(&bulk).expect("bob bulk");
            if i % PROBE_EVERY == 0 {
                let id = alice
                    .engine
                    .send_message(&format!("probe {i}"))
                    .expect("probe");
                probes.insert(id, (None, None));
            }
        }

        let mut lags = Vec::new();
        let (mut alice_got, mut bob_got) = (0usize, 0usize);
        let deadline = tokio::time::sleep(WAIT);
        tokio::pin!(deadline);
        // Until every probe is acknowledged and both bulk transfers have arrived.
        while lags.len() < probes.len() || alice_got < BULK_MESSAGES || bob_got < BULK_MESSAGES {
            tokio::select! {
                event = bob.events.recv() => match event.expect("bob's engine runs") {
                    EngineEvent::Message(m) if probes.contains_key(&m.id) => {
                        let probe = probes.get_mut(&m.id).expect("checked");
                        probe.0 = Some(Instant::now());
                        if let (Some(shown), Some(delivered)) = *probe {
                            lags.push(delivered.saturating_duration_since(shown));
                        }
                    }
                    EngineEvent::Message(_) => bob_got += 1,
                    _ => {}
                },
                event = alice.events.recv() => match event.expect("alice's engine runs") {
                    EngineEvent::Message(_) => alice_got += 1,
                    EngineEvent::MessageStatus { message_id, status: MessageStatus::Delivered, .. } => {
                        if let Some(probe) = probes.get_mut(&message_id) {
                            probe.1 = Some(Instant::now());
                            if let (Some(shown), Some(delivered)) = *probe {
                                lags.push(delivered.saturating_duration_since(shown));
                            }
                        }
                    }
                    _ => {}
                },
                _ = &mut deadline => panic!(
                    "timed out: {} of {} probes acknowledged, alice got {alice_got}, bob got {bob_got}",
                    lags.len(),
                    probes.len()
                ),
            }
        }
        lags.sort();
        let lost = alice_host.link().stats().dropped_loss + bob_host.link().stats().dropped_loss;
        let (p50, p99) = (percentile(&lags, 50.0), percentile(&lags, 99.0));
        println!(
            "receipt lag (shown → ✓) under two-way bulk of {BULK_MESSAGES} × {BULK_BYTES} B each way, \
             5 % loss + 50 ms on both links: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms over {} probes \
             ({lost} packets lost)",
            p50.as_secs_f64() * 1e3,
            p99.as_secs_f64() * 1e3,
            lags.last().expect("probes").as_secs_f64() * 1e3,
            lags.len()
        );
        assert!(
            p99 <= LAG_P99_MAX,
            "receipt lag p99 {p99:?} exceeds {LAG_P99_MAX:?}"
        );
    });
    drop(alice);
    drop(bob);
    drop(server);
}
