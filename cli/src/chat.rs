//! `peerchat create` / `peerchat join`: an interactive chat in the terminal.
//!
//! Each line typed on stdin is sent as a message; `/leave` (or end of input) leaves the room
//! and exits. Everything that happens is printed on stdout, one line per event, in a fixed
//! form that scripts and tests can read:
//!
//! ```text
//! * room code: ABC-DEF-GHJ          the room was created; share the code
//! * joined room ABC-DEF-GHJ         join succeeded
//! * peer joined: NAME               another peer entered the room
//! * chat ready with NAME            the data channel to NAME is open
//! < NAME: TEXT                      a message from NAME
//! ~ NAME: TEXT                      a message NAME sent while you were away, received
//!                                   through history sync (saved with --data-dir)
//! > [ID] TEXT                       your message was accepted and queued to every peer
//! ✓ delivered [ID] to NAME          NAME acknowledged message ID
//! * peer left: NAME (left|disconnected|timeout)
//! * peer interrupted: NAME          NAME's signaling connection dropped; the server keeps
//!                                   its session for the grace period (chat goes on while the
//!                                   data channel is open)
//! * peer resumed: NAME              NAME is back on the signaling server, same session
//! * signaling lost, reconnecting (attempt N, next try in MS ms)
//!                                   our signaling connection dropped (or the first dial
//!                                   failed); open chats go on meanwhile
//! * signaling reconnected           our session is back (resumed, or rejoined the room)
//! ! error: DESCRIPTION              something failed (the chat goes on when it can)
//! ```

use std::collections::HashMap;

use clap::Args;
use peerchat_core::{
    ChannelListener, Engine, EngineConfig, EngineEvent, IceTransportPolicy, LeaveReason,
    MessageStatus, PeerState, SignalingState,
};
use tokio::io::{AsyncBufReadExt, BufReader};

use crate::DEFAULT_SERVER_URL;
use crate::escape::escape;

/// Network options shared by `create` and `join`.
#[derive(Args)]
pub struct NetArgs {
    /// Signaling server WebSocket URL.
    #[arg(long, env = "PEERCHAT_SERVER", default_value = DEFAULT_SERVER_URL)]
    server: String,
    /// Local address for ICE (repeatable), e.g. 127.0.0.1:0. Default: every IPv4 interface.
    #[arg(long = "ice-addr", env = "PEERCHAT_ICE_ADDRS", value_delimiter = ',')]
    ice_addrs: Vec<String>,
    /// STUN/TURN server URL (repeatable). None by default: peerchat adds no servers of its own.
    #[arg(
        long = "ice-server",
        env = "PEERCHAT_ICE_SERVERS",
        value_delimiter = ','
    )]
    ice_servers: Vec<String>,
    /// TURN username for the --ice-server entries.
    #[arg(long, env = "PEERCHAT_TURN_USERNAME")]
    turn_username: Option<String>,
    /// TURN password for the --ice-server entries.
    #[arg(long, env = "PEERCHAT_TURN_PASSWORD", hide_env_values = true)]
    turn_password: Option<String>,
    /// ICE transport policy (W3C `RTCIceTransportPolicy`): `all`, or `relay` to send every
    /// packet through the TURN server given with --ice-server.
    #[arg(
        long,
        env = "PEERCHAT_ICE_TRANSPORT_POLICY",
        value_name = "all|relay",
        default_value = "all"
    )]
    ice_transport_policy: IceTransportPolicy,
    /// Do not resolve browsers' mDNS (`.local`) ICE candidates.
    #[arg(long, env = "PEERCHAT_NO_MDNS")]
    no_mdns: bool,
    /// Extra CA certificate (PEM file) trusted for a wss:// server, besides the public web
    /// roots: for private deployments and tests.
    #[arg(long, env = "PEERCHAT_CA_CERT", value_name = "PEM")]
    ca_cert: Option<std::path::PathBuf>,
    /// Bearer token (JWT) for a server run with --auth-secret.
    #[arg(long, env = "PEERCHAT_AUTH_TOKEN", hide_env_values = true)]
    auth_token: Option<String>,
    /// Directory where this device saves its chats (SQLite, created if missing): every
    /// message sent and received, read back with `peerchat history --data-dir DIR`; messages
    /// not delivered before the program stopped are sent again when it rejoins the same room.
    /// Without it, nothing is saved.
    #[arg(long, env = "PEERCHAT_DATA_DIR", value_name = "DIR")]
    data_dir: Option<std::path::PathBuf>,
}

/// Whether this client creates the room or joins one.
pub enum Role {
    Create,
    Join(String),
}

fn config(name: String, net: NetArgs) -> Result<EngineConfig, String> {
    let mut config = EngineConfig::new(net.server, name);
    config.auth_token = net.auth_token.clone();
    config.data_dir = net.data_dir.clone();
    if let Some(path) = &net.ca_cert {
        let pem = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read --ca-cert {}: {e}", path.display()))?;
        config.ca_cert_pem = Some(pem);
    }
    config.ice_udp_addrs = net.ice_addrs;
    config.resolve_mdns_candidates = !net.no_mdns;
    config.ice_transport_policy = net.ice_transport_policy;
    if !net.ice_servers.is_empty() {
        config.ice_servers = vec![peerchat_core::IceServer {
            urls: net.ice_servers,
            username: net.turn_username,
            credential: net.turn_password,
        }];
    }
    Ok(config)
}

/// Runs the chat until `/leave` or end of input.
pub async fn run(role: Role, name: String, net: NetArgs) -> Result<(), String> {
    let (listener, mut events) = ChannelListener::new();
    let engine = Engine::new(config(name, net)?, listener).map_err(|e| e.to_string())?;
    let room = match role {
        Role::Create => {
            let room = engine.create_room().await.map_err(|e| e.to_string())?;
            println!("* room code: {}", escape(&room.code));
            room
        }
        Role::Join(code) => {
            let room = engine.join_room(&code).await.map_err(|e| e.to_string())?;
            println!("* joined room {}", escape(&room.code));
            room
        }
    };
    let mut printer = Printer {
        names: room
            .members
            .into_iter()
            .map(|p| (p.peer_id, p.name))
            .collect(),
        reconnecting: false,
    };
    let mut stdin = BufReader::new(tokio::io::stdin()).lines();
    loop {
        tokio::select! {
            line = stdin.next_line() => match line {
                Ok(Some(line)) if line.trim() == "/leave" || line.trim() == "/quit" => break,
                Ok(Some(line)) if line.is_empty() => {}
                Ok(Some(line)) => {
                    match engine.send_message(&line) {
                        Ok(id) => println!("> [{id}] {}", escape(&line)),
                        Err(err) => println!("! error: {}", escape(&err.to_string())),
                    }
                }
                Ok(None) => break,
                Err(err) => {
                    println!("! error: reading input: {err}");
                    break;
                }
            },
            Some(event) = events.recv() => printer.print(event),
        }
    }
    if engine.room_code().is_some()
        && let Err(err) = engine.leave_room().await
    {
        println!("! error: {}", escape(&err.to_string()));
    }
    // Waits for the close frames to leave before the process exits.
    engine.shutdown().await;
    Ok(())
}

/// Prints engine events as the lines documented at the top of this file.
struct Printer {
    /// Display names by peer id.
    names: HashMap<String, String>,
    /// The signaling connection is being dialled again.
    reconnecting: bool,
}

impl Printer {
    fn name_of(&self, peer_id: &str) -> String {
        let name = self
            .names
            .get(peer_id)
            .map(String::as_str)
            .unwrap_or(peer_id);
        escape(name).into_owned()
    }

    fn print(&mut self, event: EngineEvent) {
        if let Some(line) = self.line(event) {
            println!("{line}");
        }
    }

    /// The line printed for `event`, if any. Everything a peer or the server chose (names,
    /// message text, error descriptions) goes through [`escape`], so each event is exactly
    /// one line and carries no terminal control sequence.
    fn line(&mut self, event: EngineEvent) -> Option<String> {
        Some(match event {
            EngineEvent::PeerJoined(peer) => {
                let line = format!("* peer joined: {}", escape(&peer.name));
                self.names.insert(peer.peer_id, peer.name);
                line
            }
            EngineEvent::PeerState { peer_id, state } => match state {
                PeerState::Connected => format!("* chat ready with {}", self.name_of(&peer_id)),
                PeerState::Failed => {
                    format!("! error: connection to {} failed", self.name_of(&peer_id))
                }
                PeerState::Interrupted => {
                    format!(
                        "* connection to {} lost, reconnecting",
                        self.name_of(&peer_id)
                    )
                }
                // `peer left` says it.
                PeerState::Connecting | PeerState::Closed => return None,
            },
            EngineEvent::PeerLeft { peer_id, reason } => {
                let why = match reason {
                    LeaveReason::Left => "left",
                    LeaveReason::Disconnected => "disconnected",
                    LeaveReason::Timeout => "timeout",
                };
                format!("* peer left: {} ({why})", self.name_of(&peer_id))
            }
            EngineEvent::PeerInterrupted(peer_id) => {
                format!("* peer interrupted: {}", self.name_of(&peer_id))
            }
            EngineEvent::PeerResumed(peer_id) => {
                format!("* peer resumed: {}", self.name_of(&peer_id))
            }
            EngineEvent::Message(message) => {
                self.names
                    .insert(message.peer_id.clone(), message.sender_name.clone());
                format!(
                    "< {}: {}",
                    escape(&message.sender_name),
                    escape(&message.text)
                )
            }
            EngineEvent::MessageStatus {
                message_id,
                peer_id,
                status,
            } => match status {
                MessageStatus::Pending | MessageStatus::Sent => return None,
                MessageStatus::Delivered => format!(
                    "✓ delivered [{}] to {}",
                    escape(&message_id),
                    self.name_of(&peer_id)
                ),
                MessageStatus::Failed => format!(
                    "! error: message [{}] not delivered to {}",
                    escape(&message_id),
                    self.name_of(&peer_id)
                ),
            },
            EngineEvent::HistoryMessage(message) => format!(
                "~ {}: {}",
                escape(&message.sender_name),
                escape(&message.text)
            ),
            EngineEvent::Error(err) => format!("! error: {}", escape(&err.to_string())),
            EngineEvent::SignalingState(SignalingState::Reconnecting {
                attempt,
                next_retry_ms,
            }) => {
                self.reconnecting = true;
                format!(
                    "* signaling lost, reconnecting (attempt {attempt}, next try in {next_retry_ms} ms)"
                )
            }
            EngineEvent::SignalingState(SignalingState::Connected) if self.reconnecting => {
                self.reconnecting = false;
                "* signaling reconnected".to_string()
            }
            EngineEvent::SignalingState(_)
            | EngineEvent::RoomCreated(_)
            | EngineEvent::RoomJoined(_) => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use peerchat_core::{ChatMessage, Peer};

    fn message(name: &str, text: &str) -> EngineEvent {
        EngineEvent::Message(ChatMessage {
            id: "m1".into(),
            peer_id: "p1".into(),
            sender_name: name.into(),
            text: text.into(),
            sent_at_ms: 0,
            seq: 1,
        })
    }

    fn event_line(event: EngineEvent, names: &mut Printer) -> Option<String> {
        names.line(event)
    }

    #[test]
    fn a_peer_cannot_forge_event_lines_or_send_escapes() {
        let mut names = Printer {
            names: HashMap::new(),
            reconnecting: false,
        };
        let line = event_line(
            message("Bob", "hi\n* peer left: Alice (left)\n! error: fake"),
            &mut names,
        )
        .unwrap();
        assert_eq!(
            line,
            "< Bob: hi\\n* peer left: Alice (left)\\n! error: fake"
        );
        let line = event_line(message("B\x1b[2Jo\rb", "\x1b]0;title\x07"), &mut names).unwrap();
        assert_eq!(line, "< B\\u{1b}[2Jo\\rb: \\u{1b}]0;title\\u{7}");
        assert!(!line.contains('\x1b'));
        // The stored name is escaped again wherever it is printed later.
        let line = event_line(
            EngineEvent::PeerLeft {
                peer_id: "p1".into(),
                reason: LeaveReason::Left,
            },
            &mut names,
        )
        .unwrap();
        assert_eq!(line, "* peer left: B\\u{1b}[2Jo\\rb (left)");
        let line = event_line(
            EngineEvent::PeerJoined(Peer {
                peer_id: "p2".into(),
                name: "Eve\n* chat ready with Alice".into(),
            }),
            &mut names,
        )
        .unwrap();
        assert_eq!(line, "* peer joined: Eve\\n* chat ready with Alice");
    }
}
