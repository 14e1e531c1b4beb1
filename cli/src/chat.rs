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

/// Network options shared by `create` and `join`.
#[derive(Args)]
pub struct NetArgs {
    /// Signaling server WebSocket URL.
    #[arg(long, default_value = DEFAULT_SERVER_URL)]
    server: String,
    /// Local address for ICE (repeatable), e.g. 127.0.0.1:0. Default: every IPv4 interface.
    #[arg(long = "ice-addr")]
    ice_addrs: Vec<String>,
    /// STUN/TURN server URL (repeatable). None by default: peerchat adds no servers of its own.
    #[arg(long = "ice-server")]
    ice_servers: Vec<String>,
    /// TURN username for the --ice-server entries.
    #[arg(long)]
    turn_username: Option<String>,
    /// TURN password for the --ice-server entries.
    #[arg(long)]
    turn_password: Option<String>,
    /// ICE transport policy (W3C `RTCIceTransportPolicy`): `all`, or `relay` to send every
    /// packet through the TURN server given with --ice-server.
    #[arg(long, value_name = "all|relay", default_value = "all")]
    ice_transport_policy: IceTransportPolicy,
    /// Do not resolve browsers' mDNS (`.local`) ICE candidates.
    #[arg(long)]
    no_mdns: bool,
}

/// Whether this client creates the room or joins one.
pub enum Role {
    Create,
    Join(String),
}

fn config(name: String, net: NetArgs) -> EngineConfig {
    let mut config = EngineConfig::new(net.server, name);
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
    config
}

/// Runs the chat until `/leave` or end of input.
pub async fn run(role: Role, name: String, net: NetArgs) -> Result<(), String> {
    let (listener, mut events) = ChannelListener::new();
    let engine = Engine::new(config(name, net), listener).map_err(|e| e.to_string())?;
    let room = match role {
        Role::Create => {
            let room = engine.create_room().await.map_err(|e| e.to_string())?;
            println!("* room code: {}", room.code);
            room
        }
        Role::Join(code) => {
            let room = engine.join_room(&code).await.map_err(|e| e.to_string())?;
            println!("* joined room {}", room.code);
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
                        Ok(id) => println!("> [{id}] {line}"),
                        Err(err) => println!("! error: {err}"),
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
        println!("! error: {err}");
    }
    engine.shutdown();
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
        self.names
            .get(peer_id)
            .cloned()
            .unwrap_or_else(|| peer_id.to_string())
    }

    fn print(&mut self, event: EngineEvent) {
        match event {
            EngineEvent::PeerJoined(peer) => {
                println!("* peer joined: {}", peer.name);
                self.names.insert(peer.peer_id, peer.name);
            }
            EngineEvent::PeerState { peer_id, state } => match state {
                PeerState::Connected => println!("* chat ready with {}", self.name_of(&peer_id)),
                PeerState::Failed => {
                    println!("! error: connection to {} failed", self.name_of(&peer_id))
                }
                PeerState::Disconnected => {
                    println!("* connection to {} lost", self.name_of(&peer_id))
                }
                PeerState::Connecting => {}
            },
            EngineEvent::PeerLeft { peer_id, reason } => {
                let why = match reason {
                    LeaveReason::Left => "left",
                    LeaveReason::Disconnected => "disconnected",
                    LeaveReason::Timeout => "timeout",
                };
                println!("* peer left: {} ({why})", self.name_of(&peer_id));
            }
            EngineEvent::PeerInterrupted(peer_id) => {
                println!("* peer interrupted: {}", self.name_of(&peer_id))
            }
            EngineEvent::PeerResumed(peer_id) => {
                println!("* peer resumed: {}", self.name_of(&peer_id))
            }
            EngineEvent::Message(message) => {
                self.names
                    .insert(message.peer_id.clone(), message.sender_name.clone());
                println!("< {}: {}", message.sender_name, message.text);
            }
            EngineEvent::MessageStatus {
                message_id,
                peer_id,
                status,
            } => match status {
                MessageStatus::Sent => {}
                MessageStatus::Delivered => {
                    println!("✓ delivered [{message_id}] to {}", self.name_of(&peer_id))
                }
                MessageStatus::Failed => println!(
                    "! error: message [{message_id}] not delivered to {}",
                    self.name_of(&peer_id)
                ),
            },
            EngineEvent::Error(err) => println!("! error: {err}"),
            EngineEvent::SignalingState(SignalingState::Reconnecting {
                attempt,
                next_retry_ms,
            }) => {
                self.reconnecting = true;
                println!(
                    "* signaling lost, reconnecting (attempt {attempt}, next try in {next_retry_ms} ms)"
                );
            }
            EngineEvent::SignalingState(SignalingState::Connected) if self.reconnecting => {
                self.reconnecting = false;
                println!("* signaling reconnected");
            }
            EngineEvent::SignalingState(_)
            | EngineEvent::RoomCreated(_)
            | EngineEvent::RoomJoined(_) => {}
        }
    }
}
