//! The interop harness: stranger peers (other WebRTC stacks, written from docs/protocol.md) as
//! child processes driven by JSON lines, and our engine in process with its event channel.
//!
//! Every test runs inside the private network namespace `scripts/test.d/45-interop.sh` makes
//! (only `lo`, via tests/browser/support/netns-run.sh), so nothing can leave the machine.

#![allow(dead_code)]

#[path = "../../../../core/tests/common/mod.rs"]
mod common;

pub use common::{Client, client, server_with};

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::Duration;

use peerchat_core::{EngineEvent, MessageStatus};
use peerchat_server::ServerHandle;
use serde_json::{Value, json};
use tokio::sync::mpsc::{UnboundedReceiver, unbounded_channel};

/// Upper bound (ms) for any single awaited stranger event; tests fail rather than hang.
/// Chromium's first start in a fresh profile takes a few seconds.
pub const STRANGER_TIMEOUT: Duration = Duration::from_secs(30);

/// How long a stranger gets to exit after its stdin closed before it is killed.
const EXIT_TIMEOUT: Duration = Duration::from_secs(10);

/// A WebRTC stack other than ours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stack {
    /// Pion WebRTC v4 (Go): `peers/pion`.
    Pion,
    /// libdatachannel 0.24 through npm `node-datachannel` 0.33.4: `peers/js/node-peer.mjs`.
    Libdatachannel,
    /// aiortc 1.16 (Python): `peers/aiortc/peer.py`.
    Aiortc,
    /// Debian's Chromium (libwebrtc) via playwright-core: `peers/js/chromium-peer.mjs`.
    Chromium,
}

impl Stack {
    /// Display name the stranger uses, e.g. `"Pion"`.
    pub fn name(self) -> &'static str {
        match self {
            Stack::Pion => "Pion",
            Stack::Libdatachannel => "Libdatachannel",
            Stack::Aiortc => "Aiortc",
            Stack::Chromium => "Chromium",
        }
    }

    fn command(self) -> Command {
        let peers = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("peers");
        let from_env = |var: &str, default: PathBuf| {
            std::env::var_os(var).map(PathBuf::from).unwrap_or(default)
        };
        match self {
            Stack::Pion => Command::new(from_env(
                "PEERCHAT_INTEROP_PION",
                peers.join("pion/pion-peer"),
            )),
            Stack::Libdatachannel => {
                let mut c = Command::new("node");
                c.arg(peers.join("js/node-peer.mjs"));
                c
            }
            Stack::Chromium => {
                let mut c = Command::new("node");
                c.arg(peers.join("js/chromium-peer.mjs"));
                c
            }
            Stack::Aiortc => {
                let venv = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/python");
                let mut c = Command::new(from_env("PEERCHAT_INTEROP_PYTHON", venv));
                c.arg(peers.join("aiortc/peer.py"));
                c
            }
        }
    }
}

/// Fails unless this runs in the namespace 45-interop.sh makes (see the module docs).
pub fn require_private_namespace() {
    assert_eq!(
        std::env::var("PEERCHAT_NETNS").as_deref(),
        Ok("loopback"),
        "interop tests must run inside a private network namespace: \
         tests/browser/support/netns-run.sh loopback cargo test -p peerchat-interop-tests …"
    );
}

/// A signaling server whose rooms hold three peers (the mesh tests; two-peer tests fit too).
pub async fn mesh_server() -> ServerHandle {
    require_private_namespace();
    server_with(|c| c.room_capacity = 3).await
}

/// One stranger peer process.
pub struct Stranger {
    pub stack: Stack,
    child: Option<Child>,
    stdin: Option<ChildStdin>,
    events: UnboundedReceiver<String>,
    seen: Vec<String>,
    /// Its peer id on the signaling server.
    pub peer_id: String,
}

impl Stranger {
    /// Starts a stranger of `stack` connected to `url` as `name` (plus `extra` options such as
    /// `--no-hello`), and waits for its `ready` (the server's welcome).
    pub async fn start(stack: Stack, url: &str, name: &str, extra: &[&str]) -> Stranger {
        let mut child = stack
            .command()
            .args(["--url", url, "--name", name])
            .args(extra)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("starting the {stack:?} peer: {e}"));
        let stdout = child.stdout.take().expect("piped");
        let (tx, events) = unbounded_channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let stdin = child.stdin.take();
        let mut stranger = Stranger {
            stack,
            child: Some(child),
            stdin,
            events,
            seen: Vec::new(),
            peer_id: String::new(),
        };
        let ready = stranger.wait("ready", |_| true).await;
        stranger.peer_id = ready["peer_id"].as_str().expect("peer_id").to_string();
        stranger
    }

    /// Sends one command line (see peers/js/stranger.js for the commands).
    pub fn cmd(&mut self, command: Value) {
        let stdin = self.stdin.as_mut().expect("stdin open");
        writeln!(stdin, "{command}").expect("write a command to the stranger");
        stdin.flush().expect("flush");
    }

    /// The next event named `event` that `pick` accepts; earlier events are skipped (kept for
    /// the failure message). Fails on an `error`, `candidate_refused` (say a wrong `sdp_mid`)
    /// or `protocol_error` (a frame our engine should not have sent) event, or after
    /// [`STRANGER_TIMEOUT`].
    pub async fn wait(&mut self, event: &str, pick: impl Fn(&Value) -> bool) -> Value {
        let stack = self.stack;
        let found = tokio::time::timeout(STRANGER_TIMEOUT, async {
            while let Some(line) = self.events.recv().await {
                self.seen.push(line.clone());
                let Ok(value) = serde_json::from_str::<Value>(&line) else {
                    continue;
                };
                // A stranger reports what breaks docs/protocol.md: never expected here.
                if ["error", "candidate_refused", "protocol_error"]
                    .iter()
                    .any(|bad| value["event"] == *bad)
                {
                    return Err(format!("{stack:?} reported {value}"));
                }
                if value["event"] == event && pick(&value) {
                    return Ok(value);
                }
            }
            Err(format!("{stack:?} exited while waiting for {event}"))
        })
        .await;
        match found {
            Ok(Ok(value)) => value,
            Ok(Err(why)) => panic!("{why}; its events: {:#?}", self.seen),
            Err(_) => panic!(
                "timed out waiting for {event} from {stack:?}; its events: {:#?}",
                self.seen
            ),
        }
    }

    /// Events named `event` whose `field` takes each of `values` (in any order), returned in
    /// the order of `values`.
    pub async fn wait_all(&mut self, event: &str, field: &str, values: &[&str]) -> Vec<Value> {
        let mut found: Vec<Option<Value>> = vec![None; values.len()];
        while found.iter().any(Option::is_none) {
            let missing: Vec<&str> = values
                .iter()
                .zip(&found)
                .filter(|(_, f)| f.is_none())
                .map(|(v, _)| *v)
                .collect();
            let got = self
                .wait(event, |e| missing.iter().any(|v| e[field] == *v))
                .await;
            let i = values
                .iter()
                .position(|v| got[field] == *v)
                .expect("matched");
            found[i] = Some(got);
        }
        found.into_iter().map(Option::unwrap).collect()
    }

    /// Every event line seen so far.
    pub fn seen(&self) -> &[String] {
        &self.seen
    }
}

impl Drop for Stranger {
    /// Closes its stdin (it then closes its peer connections and exits) and waits for it; a
    /// stranger that does not exit within [`EXIT_TIMEOUT`] is killed.
    fn drop(&mut self) {
        drop(self.stdin.take());
        let Some(mut child) = self.child.take() else {
            return;
        };
        let pid = child.id();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(child.wait());
        });
        if rx.recv_timeout(EXIT_TIMEOUT).is_err() {
            // `kill` by this child's own pid (the waiting thread holds the Child).
            let _ = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
        }
    }
}

/// Waits until our engine's data channels with all of `peer_ids` are open (in any order).
/// Fails when one of them fails, or after [`STRANGER_TIMEOUT`], listing every event seen.
pub async fn engine_connected_to(ours: &mut Client, peer_ids: &[&str]) {
    let mut missing: Vec<String> = peer_ids.iter().map(|p| p.to_string()).collect();
    let mut seen = Vec::new();
    let wait = async {
        while !missing.is_empty() {
            let Some(event) = ours.events.recv().await else {
                return Err("the engine stopped");
            };
            seen.push(format!("{event:?}"));
            match &event {
                EngineEvent::PeerState {
                    peer_id,
                    state: peerchat_core::PeerState::Connected,
                } => missing.retain(|p| p != peer_id),
                EngineEvent::PeerState {
                    peer_id,
                    state: peerchat_core::PeerState::Failed,
                } if missing.contains(peer_id) => return Err("a connection failed"),
                _ => {}
            }
        }
        Ok(())
    };
    match tokio::time::timeout(STRANGER_TIMEOUT, wait).await {
        Ok(Ok(())) => {}
        Ok(Err(why)) => panic!("{why}; still waiting for {missing:?}; engine events: {seen:#?}"),
        Err(_) => panic!("timed out waiting for {missing:?}; engine events: {seen:#?}"),
    }
}

/// Waits until our message `id` is delivered to each of `peer_ids` (their `ack`s arrived, in
/// any order).
pub async fn engine_delivered(ours: &mut Client, id: &str, peer_ids: &[&str]) {
    let mut missing: Vec<String> = peer_ids.iter().map(|p| p.to_string()).collect();
    while !missing.is_empty() {
        let got = ours
            .wait_for("delivered", |e| match e {
                EngineEvent::MessageStatus {
                    message_id,
                    peer_id,
                    status: MessageStatus::Delivered,
                } if message_id == id && missing.contains(peer_id) => Some(peer_id.clone()),
                _ => None,
            })
            .await;
        missing.retain(|p| *p != got);
    }
}

/// Our engine sends `text`; `stranger` shows it under `our_name` and acknowledges it.
pub async fn engine_to_stranger(ours: &mut Client, our_name: &str, s: &mut Stranger, text: &str) {
    let our_id = ours.engine.peer_id().expect("our peer id");
    let id = ours.engine.send_message(text).expect("send_message");
    let got = s
        .wait("message", |e| {
            e["id"] == id.as_str() && e["peer_id"] == our_id.as_str()
        })
        .await;
    assert_eq!(got["text"], text, "{got}");
    assert_eq!(got["name"], our_name, "{got}");
    engine_delivered(ours, &id, &[&s.peer_id]).await;
}

/// `stranger` sends `text`; our engine shows it under the stranger's name once, and the
/// stranger sees our receipt.
pub async fn stranger_to_engine(ours: &mut Client, s: &mut Stranger, text: &str) {
    s.cmd(json!({"cmd":"send","text":text}));
    let our_id = ours.engine.peer_id().expect("our peer id");
    let sent = s.wait("sent", |e| e["to"] == our_id.as_str()).await;
    let id = sent["id"].as_str().expect("id").to_string();
    let got = ours.next_message().await;
    assert_eq!(got.id, id);
    assert_eq!(got.text, text);
    assert_eq!(got.peer_id, s.peer_id);
    assert_eq!(got.sender_name, s.stack.name());
    s.wait("delivered", |e| e["id"] == id.as_str()).await;
}
