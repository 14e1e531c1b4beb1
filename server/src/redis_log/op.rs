//! One entry of the shared log: an input to the hub, as the instance that received it saw it.

use std::net::IpAddr;

use peerchat_core::protocol::ClientMessage;
use serde::{Deserialize, Serialize};

/// An input to every replica of the hub. `inst` is the id of the instance that appended it
/// (and holds the connection concerned). Serialized as JSON in the entry's field `o`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Op {
    /// The first entry of a log: an instance that starts can rebuild the state only from a log
    /// that still begins with it.
    Genesis,
    /// Instance `inst` is alive (appended every [`super::BEAT_MS`] ms).
    Beat { inst: u64 },
    /// A connection opened (`Hub::register`).
    Register {
        inst: u64,
        peer: String,
        conn: u64,
        version: u32,
        ip: IpAddr,
        login: Option<String>,
        token: Option<String>,
    },
    /// A valid message from `peer` (`Hub::handle`). `seed`: for `create_room`, the room-code
    /// generator's seed.
    Msg {
        inst: u64,
        peer: String,
        msg: ClientMessage,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        seed: Option<[u8; 32]>,
    },
    /// `resume` as the first message of connection `conn` (`Hub::resume`).
    Resume {
        inst: u64,
        provisional: String,
        token: String,
        conn: u64,
    },
    /// Connection `conn` of `peer` ended (`Hub::connection_ended`).
    Ended {
        inst: u64,
        peer: String,
        conn: u64,
        clean: bool,
    },
}

impl Op {
    /// The instance that appended the entry (none for [`Op::Genesis`]).
    pub fn inst(&self) -> Option<u64> {
        match self {
            Op::Genesis => None,
            Op::Beat { inst }
            | Op::Register { inst, .. }
            | Op::Msg { inst, .. }
            | Op::Resume { inst, .. }
            | Op::Ended { inst, .. } => Some(*inst),
        }
    }
}
