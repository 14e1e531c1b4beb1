//! The listener the app implements (a uniffi foreign trait), and the bridge that lets the core
//! engine call it.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use peerchat_core as core;

use crate::error::PeerChatError;
use crate::types::{
    ChatMessage, LeaveReason, MessageStatus, Peer, PeerState, RoomInfo, SignalingState,
};

/// Receives the engine's events; implemented in Kotlin or Swift and passed to the
/// [`Engine`](crate::Engine) constructor.
///
/// **Threading:** every method is called on an engine thread, never on the caller's (not the
/// Android main thread, not the Swift main actor). An implementation must return quickly and
/// must not block; it may call back into the engine. The provided Kotlin layer
/// (`PeerChatClient.events`, a `Flow`) and Swift layer (`PeerChatClient.events`, an
/// `AsyncStream`) only enqueue the event here and deliver it in the collector's context.
///
/// An implementation should not throw: an exception is caught at the FFI boundary, logged
/// (tracing, `warn`) and the event is dropped; the engine keeps running.
#[uniffi::export(foreign)]
pub trait EngineListener: Send + Sync {
    /// The signaling connection changed state.
    fn on_signaling_state(&self, state: SignalingState);
    /// `create_room` succeeded (also returned by the call).
    fn on_room_created(&self, room: RoomInfo);
    /// `join_room` succeeded (also returned by the call).
    fn on_room_joined(&self, room: RoomInfo);
    /// Another peer joined the room.
    fn on_peer_joined(&self, peer: Peer);
    /// A peer's connection changed state; `Connected` means chat is ready with it.
    fn on_peer_state(&self, peer_id: String, state: PeerState);
    /// A peer left the room (reported by the signaling server). Final.
    fn on_peer_left(&self, peer_id: String, reason: LeaveReason);
    /// A peer's signaling connection dropped; the server keeps its session for the grace
    /// period. Chat goes on while its data channel is open; `on_peer_resumed` or
    /// `on_peer_left` (reason `Timeout`) follows.
    fn on_peer_interrupted(&self, peer_id: String);
    /// An interrupted peer resumed its session.
    fn on_peer_resumed(&self, peer_id: String);
    /// A chat message arrived. Messages from one peer arrive in the order it sent them, each
    /// once.
    fn on_message(&self, message: ChatMessage);
    /// A message this engine sent changed status for one peer (`Sent`, then `Delivered`, or
    /// `Failed` when the peer went away first).
    fn on_message_status(&self, message_id: String, peer_id: String, status: MessageStatus);
    /// Something failed outside a call that could return it (e.g. a peer's WebRTC failure).
    fn on_error(&self, error: PeerChatError);
    /// A message this device missed (it was away) arrived through P2P history sync from its
    /// sender and was saved; insert it in the conversation at its `sent_at_ms` (`seq` is 0).
    /// Never also reported through `on_message`.
    fn on_history_message(&self, message: ChatMessage);
}

/// Implements the core's listener by converting each event and forwarding it to the foreign
/// listener. A panic raised while calling into foreign code (uniffi turns an exception thrown
/// by the foreign method into a panic) is caught here, so it cannot unwind into the engine.
pub(crate) struct ListenerBridge {
    foreign: Arc<dyn EngineListener>,
}

impl ListenerBridge {
    /// Wraps the app's listener.
    pub(crate) fn new(foreign: Arc<dyn EngineListener>) -> Self {
        Self { foreign }
    }

    fn forward(&self, event: &'static str, call: impl FnOnce(&dyn EngineListener)) {
        if catch_unwind(AssertUnwindSafe(|| call(self.foreign.as_ref()))).is_err() {
            tracing::warn!(event, "the app's EngineListener failed; event dropped");
        }
    }
}

impl core::EngineListener for ListenerBridge {
    fn on_signaling_state(&self, state: core::SignalingState) {
        self.forward("on_signaling_state", |l| l.on_signaling_state(state.into()));
    }

    fn on_room_created(&self, room: core::RoomInfo) {
        self.forward("on_room_created", |l| l.on_room_created(room.into()));
    }

    fn on_room_joined(&self, room: core::RoomInfo) {
        self.forward("on_room_joined", |l| l.on_room_joined(room.into()));
    }

    fn on_peer_joined(&self, peer: core::Peer) {
        self.forward("on_peer_joined", |l| l.on_peer_joined(peer.into()));
    }

    fn on_peer_state(&self, peer_id: String, state: core::PeerState) {
        self.forward("on_peer_state", |l| l.on_peer_state(peer_id, state.into()));
    }

    fn on_peer_left(&self, peer_id: String, reason: core::LeaveReason) {
        self.forward("on_peer_left", |l| l.on_peer_left(peer_id, reason.into()));
    }

    fn on_peer_interrupted(&self, peer_id: String) {
        self.forward("on_peer_interrupted", |l| l.on_peer_interrupted(peer_id));
    }

    fn on_peer_resumed(&self, peer_id: String) {
        self.forward("on_peer_resumed", |l| l.on_peer_resumed(peer_id));
    }

    fn on_message(&self, message: core::ChatMessage) {
        self.forward("on_message", |l| l.on_message(message.into()));
    }

    fn on_message_status(&self, message_id: String, peer_id: String, status: core::MessageStatus) {
        self.forward("on_message_status", |l| {
            l.on_message_status(message_id, peer_id, status.into())
        });
    }

    fn on_error(&self, error: core::EngineError) {
        self.forward("on_error", |l| l.on_error(error.into()));
    }

    fn on_history_message(&self, message: core::ChatMessage) {
        self.forward("on_history_message", |l| {
            l.on_history_message(message.into())
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    /// Records events; panics on `on_message` to exercise the bridge's panic guard.
    #[derive(Default)]
    struct Recorder {
        events: Mutex<Vec<String>>,
    }

    impl Recorder {
        fn push(&self, e: String) {
            self.events.lock().unwrap().push(e);
        }
    }

    impl EngineListener for Recorder {
        fn on_signaling_state(&self, state: SignalingState) {
            self.push(format!("signaling {state:?}"));
        }
        fn on_room_created(&self, room: RoomInfo) {
            self.push(format!("created {}", room.code));
        }
        fn on_room_joined(&self, room: RoomInfo) {
            self.push(format!("joined {} {}", room.code, room.members.len()));
        }
        fn on_peer_joined(&self, peer: Peer) {
            self.push(format!("peer_joined {}", peer.peer_id));
        }
        fn on_peer_state(&self, peer_id: String, state: PeerState) {
            self.push(format!("peer_state {peer_id} {state:?}"));
        }
        fn on_peer_left(&self, peer_id: String, reason: LeaveReason) {
            self.push(format!("peer_left {peer_id} {reason:?}"));
        }
        fn on_peer_interrupted(&self, peer_id: String) {
            self.push(format!("peer_interrupted {peer_id}"));
        }
        fn on_peer_resumed(&self, peer_id: String) {
            self.push(format!("peer_resumed {peer_id}"));
        }
        fn on_message(&self, _message: ChatMessage) {
            panic!("listener failure");
        }
        fn on_message_status(&self, message_id: String, peer_id: String, status: MessageStatus) {
            self.push(format!("status {message_id} {peer_id} {status:?}"));
        }
        fn on_error(&self, error: PeerChatError) {
            self.push(format!("error {error}"));
        }
        fn on_history_message(&self, message: ChatMessage) {
            self.push(format!("history {}", message.id));
        }
    }

    #[test]
    fn bridge_converts_and_forwards_every_event() {
        let recorder = Arc::new(Recorder::default());
        let bridge = ListenerBridge::new(recorder.clone());
        let l: &dyn core::EngineListener = &bridge;
        l.on_signaling_state(core::SignalingState::Connected);
        l.on_room_created(core::RoomInfo {
            code: "ABC-DEF-GHJ".into(),
            capacity: 2,
            members: vec![],
        });
        l.on_room_joined(core::RoomInfo {
            code: "ABC-DEF-GHJ".into(),
            capacity: 2,
            members: vec![core::Peer {
                peer_id: "a".into(),
                name: "A".into(),
            }],
        });
        l.on_peer_joined(core::Peer {
            peer_id: "b".into(),
            name: "B".into(),
        });
        l.on_peer_state("b".into(), core::PeerState::Connected);
        l.on_message_status("m1".into(), "b".into(), core::MessageStatus::Delivered);
        l.on_peer_left("b".into(), core::LeaveReason::Left);
        l.on_error(core::EngineError::NoConnectedPeer);
        assert_eq!(
            *recorder.events.lock().unwrap(),
            vec![
                "signaling Connected",
                "created ABC-DEF-GHJ",
                "joined ABC-DEF-GHJ 1",
                "peer_joined b",
                "peer_state b Connected",
                "status m1 b Delivered",
                "peer_left b Left",
                "error no peer is connected",
            ]
        );
    }

    #[test]
    fn a_failing_listener_does_not_unwind_into_the_engine() {
        let recorder = Arc::new(Recorder::default());
        let bridge = ListenerBridge::new(recorder.clone());
        let l: &dyn core::EngineListener = &bridge;
        l.on_message(core::ChatMessage {
            id: "m".into(),
            peer_id: "b".into(),
            sender_name: "B".into(),
            text: "hi".into(),
            sent_at_ms: 1,
            seq: 1,
        });
        // The bridge survived and keeps forwarding.
        l.on_peer_state("b".into(), core::PeerState::Interrupted);
        assert_eq!(
            *recorder.events.lock().unwrap(),
            vec!["peer_state b Interrupted"]
        );
    }
}
