//! The README's example end to end: a real `peerchat serve` process in host "sig" and two real
//! engines in hosts "alice" and "bob" (each built inside its host, so its runtime, WebSocket
//! and ICE sockets live there). They chat through the router with sig's link down (so the
//! messages can only have crossed the peers' own links), then under 5 % loss and
//! 50 ms ± 10 ms on both peers' links. Needs root (scripts/test.d/12-netsim.sh).

use std::time::{Duration, Instant};

use peerchat_core::{ChannelListener, Engine, EngineConfig, EngineEvent, PeerState};
use peerchat_netsim::{Host, Impairment, Net};
use peerchat_test_support::{ServerProc, peerchat_bin};
use tokio::sync::mpsc::UnboundedReceiver;

/// Upper bound for anything awaited.
const WAIT: Duration = Duration::from_secs(45);

/// An engine built inside `host` and its events.
struct Peer {
    engine: Engine,
    events: UnboundedReceiver<EngineEvent>,
}

impl Peer {
    fn start(host: &Host, url: &str, name: &str) -> Peer {
        // ICE on every interface of the host (the default, as an app has it): loopback and
        // tun0; only tun0 leads to the other peer.
        let mut config = EngineConfig::new(url, name);
        config.resolve_mdns_candidates = false;
        host.call(|| {
            let (listener, events) = ChannelListener::new();
            let engine = Engine::new(config, listener).expect("engine starts");
            Peer { engine, events }
        })
        .expect("enter host")
    }

    async fn wait_for<T>(
        &mut self,
        what: &str,
        mut pick: impl FnMut(&EngineEvent) -> Option<T>,
    ) -> T {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            match tokio::time::timeout_at(deadline, self.events.recv()).await {
                Ok(Some(event)) => {
                    if let Some(found) = pick(&event) {
                        return found;
                    }
                }
                Ok(None) => panic!("engine stopped while waiting for {what}"),
                Err(_) => panic!("no {what} within {WAIT:?}"),
            }
        }
    }

    async fn connected(&mut self) {
        self.wait_for("PeerState::Connected", |e| {
            matches!(
                e,
                EngineEvent::PeerState {
                    state: PeerState::Connected,
                    ..
                }
            )
            .then_some(())
        })
        .await
    }

    async fn messages(&mut self, count: usize) -> Vec<String> {
        let mut texts = Vec::new();
        while texts.len() < count {
            let text = self
                .wait_for("a message", |e| match e {
                    EngineEvent::Message(m) => Some(m.text.clone()),
                    _ => None,
                })
                .await;
            texts.push(text);
        }
        texts
    }
}

#[test]
fn two_engines_chat_through_the_router_clean_and_impaired() {
    let net = Net::builder()
        .host("alice")
        .host("bob")
        .host("sig")
        .build()
        .unwrap_or_else(|err| panic!("{err}"));
    let (alice_host, bob_host, sig) = (net.host("alice"), net.host("bob"), net.host("sig"));
    println!("seed {}", net.seed());
    // A real `peerchat serve` process inside "sig", on every address of that host.
    let server = ServerProc::start_command(sig.command(peerchat_bin()), "0.0.0.0", 0, &[]);
    let url = format!("ws://{}:{}/ws", sig.addr(), server.port);
    let mut alice = Peer::start(alice_host, &url, "alice");
    let mut bob = Peer::start(bob_host, &url, "bob");

    // The test thread only awaits the engines' channels; all I/O is on the engines' runtimes.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let start = Instant::now();
        let room = alice.engine.create_room().await.expect("create room");
        bob.engine.join_room(&room.code).await.expect("join room");
        alice.connected().await;
        bob.connected().await;
        println!("clean links: connected in {:?}", start.elapsed());

        // With the signaling host cut off, messages can only cross alice's and bob's links.
        sig.link().down();
        let (alice_up, bob_down) = (alice_host.uplink().stats(), bob_host.downlink().stats());
        for i in 0..10 {
            alice.engine.send_message(&format!("clean {i}")).expect("send");
        }
        let texts = bob.messages(10).await;
        assert_eq!(texts, (0..10).map(|i| format!("clean {i}")).collect::<Vec<_>>());
        assert!(alice_host.uplink().stats().forwarded > alice_up.forwarded);
        assert!(bob_host.downlink().stats().forwarded > bob_down.forwarded);
        sig.link().up();

        // 5 % loss and 50 ms ± 10 ms on both peers' links (WebRTC is UDP; signaling stays clean).
        let lossy = Impairment::none()
            .loss(0.05)
            .delay_ms(50)
            .jitter_ms(10)
            .udp_only(true);
        alice_host.link().set(lossy).unwrap();
        bob_host.link().set(lossy).unwrap();
        let start = Instant::now();
        for i in 0..20 {
            alice.engine.send_message(&format!("lossy {i}")).expect("send");
        }
        let texts = bob.messages(20).await;
        let lost = alice_host.link().stats().dropped_loss + bob_host.link().stats().dropped_loss;
        println!(
            "5 % loss + 50 ms ± 10 ms on both links: 20 messages in order in {:?} ({lost} packets lost on the way)",
            start.elapsed()
        );
        assert_eq!(texts, (0..20).map(|i| format!("lossy {i}")).collect::<Vec<_>>());
        // One way crosses two 50 ms links: nothing can arrive in under 80 ms.
        assert!(start.elapsed() >= Duration::from_millis(80));
    });
    drop(alice);
    drop(bob);
    drop(server);
}
