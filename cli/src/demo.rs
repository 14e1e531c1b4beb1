//! `peerchat demo`: an embedded signaling server on a free loopback port and two engines,
//! Alice and Bob, who find each other through a room code and talk over a real WebRTC data
//! channel. Every step is printed with the time it took; any failure exits non-zero.

use std::time::{Duration, Instant};

use peerchat_core::{ChannelListener, Engine, EngineConfig, EngineEvent, MessageStatus};
use tokio::sync::mpsc::UnboundedReceiver;

use crate::wait;

/// Longest any single demo step may take.
const STEP_TIMEOUT: Duration = Duration::from_secs(20);

const CONVERSATION: &[(bool, &str)] = &[
    (true, "Hi Bob! This message never touches the server."),
    (false, "Hi Alice, it came straight over our data channel."),
    (
        true,
        "The server only introduced us: SDP offer/answer and ICE candidates.",
    ),
    (
        false,
        "And every message is acknowledged, so you see it delivered.",
    ),
];

struct Step {
    started: Instant,
}

impl Step {
    fn start() -> Self {
        Self {
            started: Instant::now(),
        }
    }
    fn done(&self, what: &str) {
        println!(
            "[{:>7.1} ms] {what}",
            self.started.elapsed().as_secs_f64() * 1000.0
        );
    }
}

struct Person {
    name: &'static str,
    engine: Engine,
    events: UnboundedReceiver<EngineEvent>,
}

fn person(name: &'static str, url: &str) -> Result<Person, String> {
    let (listener, events) = ChannelListener::new();
    let config = EngineConfig::new(url, name).loopback_only();
    let engine = Engine::new(config, listener).map_err(|e| e.to_string())?;
    Ok(Person {
        name,
        engine,
        events,
    })
}

async fn chat_ready(p: &mut Person) -> Result<(), String> {
    wait::data_channel_open(&mut p.events, STEP_TIMEOUT).await
}

/// Runs the demo; returns an error (exit code 1) at the first step that fails.
pub async fn run() -> Result<(), String> {
    let total = Instant::now();
    let step = Step::start();
    let server = wait::loopback_server(|c| c).await?;
    let url = server.ws_url();
    step.done(&format!("signaling server listening on {url}"));

    let mut alice = person("Alice", &url)?;
    let mut bob = person("Bob", &url)?;

    let step = Step::start();
    let room = alice
        .engine
        .create_room()
        .await
        .map_err(|e| e.to_string())?;
    step.done(&format!("Alice created room {}", room.code));

    let step = Step::start();
    bob.engine
        .join_room(&room.code.to_lowercase())
        .await
        .map_err(|e| e.to_string())?;
    step.done(&format!(
        "Bob joined room {} (typed in lower case)",
        room.code
    ));

    let step = Step::start();
    chat_ready(&mut bob).await?;
    chat_ready(&mut alice).await?;
    step.done("data channel open on both sides (SDP offer/answer + trickle ICE over loopback)");

    for (from_alice, text) in CONVERSATION {
        let (sender, receiver) = if *from_alice {
            (&mut alice, &mut bob)
        } else {
            (&mut bob, &mut alice)
        };
        let step = Step::start();
        let id = sender
            .engine
            .send_message(text)
            .map_err(|e| e.to_string())?;
        let got = wait::until(
            &mut receiver.events,
            STEP_TIMEOUT,
            "the message",
            |e| match e {
                EngineEvent::Message(m) if m.id == id => Some(m.text.clone()),
                _ => None,
            },
        )
        .await?;
        if got != *text {
            return Err(format!(
                "{} received {got:?} instead of {text:?}",
                receiver.name
            ));
        }
        step.done(&format!("{} -> {}: {got}", sender.name, receiver.name));
        wait::until(&mut sender.events, STEP_TIMEOUT, "the delivery receipt", |e| {
            matches!(e, EngineEvent::MessageStatus { message_id, status: MessageStatus::Delivered, .. } if *message_id == id)
                .then_some(())
        })
        .await?;
        step.done("  ✓ delivered (acknowledged by the receiver)");
    }

    let step = Step::start();
    bob.engine.leave_room().await.map_err(|e| e.to_string())?;
    wait::until(&mut alice.events, STEP_TIMEOUT, "peer_left", |e| {
        matches!(e, EngineEvent::PeerLeft { .. }).then_some(())
    })
    .await?;
    step.done("Bob left; Alice was told at once (peer_left)");

    alice.engine.shutdown().await;
    bob.engine.shutdown().await;
    server.shutdown().await.map_err(|e| e.to_string())?;
    println!(
        "demo finished in {:.1} ms: {} messages, all delivered",
        total.elapsed().as_secs_f64() * 1000.0,
        CONVERSATION.len()
    );
    Ok(())
}
