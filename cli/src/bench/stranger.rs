//! A stranger peer for `peerchat bench --compare`: another WebRTC stack's peerchat client
//! (`tests/interop/peers`, written from docs/protocol.md alone) run as a child process and
//! driven with JSON lines (commands on stdin, events on stdout; the list is at the top of
//! `tests/interop/peers/js/stranger.js`).

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin, Command};
use tokio::sync::mpsc;

/// Upper bound for any one awaited stranger event; the benchmark fails rather than hangs.
pub const EVENT_TIMEOUT: Duration = Duration::from_secs(60);

/// The stacks the comparison runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Stack {
    /// Pion WebRTC v4 (Go): `peers/pion`, built with `go build` when its binary is missing.
    Pion,
    /// libdatachannel 0.24 through npm `node-datachannel` 0.33.4: `peers/js/node-peer.mjs`,
    /// installed with `npm ci` when `node_modules` is missing.
    Libdatachannel,
}

impl Stack {
    /// Display name, as in the table.
    pub fn name(self) -> &'static str {
        match self {
            Stack::Pion => "Pion v4",
            Stack::Libdatachannel => "libdatachannel 0.24",
        }
    }

    /// Builds or installs the stranger under `peers` if it is not there yet.
    pub async fn prepare(self, peers: &Path) -> Result<(), String> {
        let (dir, present, program, args): (PathBuf, bool, &str, &[&str]) = match self {
            Stack::Pion => (
                peers.join("pion"),
                peers.join("pion/pion-peer").exists(),
                "go",
                &["build", "-o", "pion-peer", "."],
            ),
            Stack::Libdatachannel => (
                peers.join("js"),
                peers.join("js/node_modules/node-datachannel").exists(),
                "npm",
                &["ci", "--no-audit", "--no-fund", "--loglevel=error"],
            ),
        };
        if present {
            return Ok(());
        }
        eprintln!(
            "bench --compare: {program} {} in {}",
            args.join(" "),
            dir.display()
        );
        let status = Command::new(program)
            .args(args)
            .current_dir(&dir)
            .status()
            .await
            .map_err(|e| format!("running {program} in {}: {e}", dir.display()))?;
        if status.success() {
            Ok(())
        } else {
            Err(format!("{program} in {} failed: {status}", dir.display()))
        }
    }

    fn command(self, peers: &Path) -> Command {
        match self {
            Stack::Pion => Command::new(peers.join("pion/pion-peer")),
            Stack::Libdatachannel => {
                let mut c = Command::new("node");
                c.arg(peers.join("js/node-peer.mjs"));
                c
            }
        }
    }
}

/// One running stranger process.
pub struct Stranger {
    child: Child,
    stdin: ChildStdin,
    /// Its stdout lines, read by a task of their own so that the stranger never blocks on a
    /// full pipe while nobody awaits its events (it emits one per message received).
    events: mpsc::UnboundedReceiver<String>,
    /// Its peer id on the signaling server (from its `ready` event).
    pub peer_id: String,
}

impl Stranger {
    /// Starts a stranger of `stack` on signaling `url` as `name`, with message events that
    /// carry sizes instead of texts, and waits for its `ready` event.
    pub async fn start(stack: Stack, peers: &Path, url: &str, name: &str) -> Result<Self, String> {
        let mut child = stack
            .command(peers)
            .args(["--url", url, "--name", name, "--omit-text"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| format!("starting the {} peer: {e}", stack.name()))?;
        let stdin = child.stdin.take().ok_or("stranger stdin")?;
        let stdout = child.stdout.take().ok_or("stranger stdout")?;
        let (tx, events) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            let mut lines = BufReader::new(stdout).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut stranger = Self {
            child,
            stdin,
            events,
            peer_id: String::new(),
        };
        let ready = stranger.wait("ready").await?;
        stranger.peer_id = ready["peer_id"]
            .as_str()
            .ok_or("ready without peer_id")?
            .to_string();
        Ok(stranger)
    }

    /// Sends one command (a JSON object).
    pub async fn cmd(&mut self, command: Value) -> Result<(), String> {
        let mut line = command.to_string();
        line.push('\n');
        self.stdin
            .write_all(line.as_bytes())
            .await
            .map_err(|e| format!("writing to the stranger: {e}"))
    }

    /// The next event named `event`; other events are skipped. Errors on an `error` or
    /// `protocol_error` event, on exit, or after [`EVENT_TIMEOUT`].
    pub async fn wait(&mut self, event: &str) -> Result<Value, String> {
        self.wait_within(event, EVENT_TIMEOUT).await
    }

    /// [`wait`](Self::wait) with its own timeout.
    pub async fn wait_within(&mut self, event: &str, timeout: Duration) -> Result<Value, String> {
        let next = async {
            loop {
                let line = self
                    .events
                    .recv()
                    .await
                    .ok_or_else(|| format!("the stranger exited while awaiting `{event}`"))?;
                let Ok(value) = serde_json::from_str::<Value>(&line) else {
                    continue;
                };
                match value["event"].as_str() {
                    Some(name) if name == event => return Ok(value),
                    Some("error" | "protocol_error") => {
                        return Err(format!("stranger reported {line} while awaiting `{event}`"));
                    }
                    _ => {}
                }
            }
        };
        tokio::time::timeout(timeout, next)
            .await
            .map_err(|_| format!("timed out awaiting the stranger's `{event}`"))?
    }

    /// Closes stdin (the stranger closes its connections and exits) and waits for it.
    pub async fn stop(mut self) {
        drop(self.stdin);
        if tokio::time::timeout(Duration::from_secs(5), self.child.wait())
            .await
            .is_err()
        {
            let _ = self.child.kill().await;
        }
    }
}
