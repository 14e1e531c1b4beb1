//! Handling the public API's commands: room requests (and undoing them), sending, leaving,
//! shutdown.

use std::time::Duration;

use tokio::sync::oneshot;

use super::{Actor, Command, Input, Pending, Reply, close_peer};
use crate::error::EngineError;
use crate::listener::SignalingState;
use crate::protocol::ClientMessage;

impl Actor {
    pub(super) async fn on_command(&mut self, command: Command) {
        match command {
            Command::CreateRoom { reply, request } => {
                self.start_request(Reply::Create(reply), request)
            }
            Command::JoinRoom {
                code,
                reply,
                request,
            } => self.start_request(Reply::Join(code, reply), request),
            Command::LeaveRoom(tx) => self.leave_room(tx).await,
            Command::Send {
                id,
                text,
                sent_at_ms,
            } => {
                // The app uses the room: it saw it, there is nothing to undo any more.
                self.entered_by = None;
                self.queue_message(id, text, sent_at_ms).await
            }
            Command::Cancel(request) => self.cancel_request(request).await,
            Command::History {
                conversation,
                before,
                limit,
                reply,
            } => self.history(conversation, before, limit, reply).await,
            Command::DeleteConversation {
                conversation,
                reply,
            } => self.delete_conversation(conversation, reply).await,
            Command::SafetyCode { peer_id, reply } => {
                let _ = reply.send(self.safety_code(&peer_id).await);
            }
        }
    }

    /// Undoes the create/join numbered `request` (`None`: the latest one): fails its
    /// reply with [`EngineError::Cancelled`]; a request the server may still answer is
    /// remembered in `abandoned` (its answer is undone on arrival); a room it entered is left.
    async fn cancel_request(&mut self, request: Option<u64>) {
        let matches = self.pending.as_ref().is_some_and(|p| {
            matches!(p.reply, Reply::Create(_) | Reply::Join(..))
                && request.is_none_or(|r| r == p.request)
        });
        if matches {
            let pending = self.pending.take().expect("checked");
            if pending.sent {
                self.abandoned = Some(pending.reply.request_type());
            }
            tracing::debug!(
                request = pending.request,
                sent = pending.sent,
                "room request cancelled"
            );
            pending.reply.fail(EngineError::Cancelled);
            return;
        }
        let entered_by_it = match request {
            Some(_) => request == self.entered_by,
            None => self.entered_by.is_some(),
        };
        if entered_by_it {
            tracing::debug!(?request, "room entered by a cancelled request: leaving it");
            let (tx, _) = oneshot::channel();
            self.leave_room(tx).await;
        }
    }

    /// The server answered the abandoned request (`answer`: `room_created`/`room_joined`):
    /// leave the room it entered. Returns `false` if no request was abandoned.
    pub(super) fn undo_abandoned(&mut self) -> bool {
        if self.abandoned.take().is_none() {
            return false;
        }
        tracing::debug!("answer to a cancelled room request: leaving that room");
        self.signal(ClientMessage::LeaveRoom);
        // A request that waited for the undo goes out behind it.
        self.send_pending();
        true
    }

    /// The abandoned request will get no answer any more (refused, or the server lost it).
    pub(super) fn forget_abandoned(&mut self) {
        if self.abandoned.take().is_some() {
            self.send_pending();
        }
    }

    pub(super) fn start_request(&mut self, reply: Reply, request: u64) {
        if self.room.is_some() || self.pending.is_some() {
            reply.fail(EngineError::AlreadyInRoom);
            return;
        }
        if self.signaling.is_none() {
            reply.fail(EngineError::Signaling {
                reason: "not connected to the signaling server".into(),
            });
            return;
        }
        self.set_pending(reply, request);
        if self.welcomed {
            self.send_pending();
        }
    }

    /// Records the one room request in flight and arms its `signaling_timeout_ms` timer.
    pub(super) fn set_pending(&mut self, reply: Reply, request: u64) {
        let token = self.next_counter();
        let timeout = Duration::from_millis(self.config.signaling_timeout_ms);
        let inputs = self.inputs.clone();
        tokio::spawn(async move {
            tokio::time::sleep(timeout).await;
            let _ = inputs.send(Input::RequestTimeout(token));
        });
        self.pending = Some(Pending {
            token,
            reply,
            sent: false,
            request,
        });
    }

    /// Sends the pending request, unless it was sent, or an abandoned request's answer is
    /// still to come (the server must see the undo first).
    pub(super) fn send_pending(&mut self) {
        if self.abandoned.is_some() || !self.welcomed {
            return;
        }
        let name = self.config.display_name.clone();
        let Some(pending) = self.pending.as_mut() else {
            return;
        };
        if pending.sent {
            return;
        }
        let message = match &pending.reply {
            Reply::Create(_) => ClientMessage::CreateRoom { name },
            Reply::Join(code, _) => ClientMessage::JoinRoom {
                code: code.clone(),
                name,
            },
            Reply::Leave(_) => ClientMessage::LeaveRoom,
        };
        pending.sent = true;
        self.signal(message);
    }

    pub(super) async fn leave_room(&mut self, tx: oneshot::Sender<Result<(), EngineError>>) {
        if self.room.is_none() {
            let _ = tx.send(Err(EngineError::NotInRoom));
            return;
        }
        self.entered_by = None;
        self.rejoining = false;
        self.deferred.clear();
        self.unidentified.clear();
        self.restored.clear();
        for (key, entry) in self.peers.drain().collect::<Vec<_>>() {
            let failed = close_peer(&self.events, entry).await;
            self.record_failed(&key, failed).await;
        }
        self.room = None;
        if self.welcomed && self.pending.is_none() {
            self.set_pending(Reply::Leave(tx), 0);
            self.send_pending();
        } else {
            // No session is ready: leaving is local at once, and `leave_room` waits in the
            // signaling backlog for the session's resume (a lost session left by itself).
            self.leave_queued = true;
            self.signal(ClientMessage::LeaveRoom);
            // The caller's getters must show no room once `leave_room` returns.
            self.publish();
            let _ = tx.send(Ok(()));
        }
    }

    pub(super) fn on_request_timeout(&mut self, token: u64) {
        if self.pending.as_ref().is_some_and(|p| p.token == token) {
            let pending = self.pending.take().expect("checked");
            if let Reply::Leave(tx) = pending.reply {
                // Left locally already; `leave_room` stays queued for the session.
                self.leave_queued = true;
                let _ = tx.send(Ok(()));
                return;
            }
            if pending.sent {
                // The server may still carry it out: undo it if its answer comes.
                self.abandoned = Some(pending.reply.request_type());
            }
            let operation = pending.reply.request_type().to_string();
            let after_ms = self.config.signaling_timeout_ms;
            pending.reply.fail(match &self.signaling_error {
                // Still dialling: say why the server cannot be reached.
                Some(reason) if !self.welcomed => EngineError::Signaling {
                    reason: format!(
                        "no signaling session within {after_ms} ms ({reason}); still retrying"
                    ),
                },
                _ => EngineError::Timeout {
                    operation,
                    after_ms,
                },
            });
        }
    }

    pub(super) async fn shutdown(&mut self) {
        if let Some(pending) = self.pending.take() {
            pending.reply.fail(EngineError::Shutdown);
        }
        if self.room.is_some() && self.welcomed {
            // Best effort, ahead of the close frame: the others see `peer_left` `left`.
            self.signal(ClientMessage::LeaveRoom);
        }
        // Their unacknowledged messages are reported `Failed` to the app but stay
        // unacknowledged in the history store: they are sent again after a restart
        // (`history.rs`).
        for (_, entry) in self.peers.drain().collect::<Vec<_>>() {
            close_peer(&self.events, entry).await;
        }
        self.room = None;
        self.entered_by = None;
        self.publish();
        self.drain_store(Duration::from_millis(crate::SHUTDOWN_GRACE_MS / 2))
            .await;
        // Dropping the last sender makes the signaling task send a WebSocket close frame, so the
        // server tells the room at once instead of after its idle timeout.
        self.signaling = None;
        if let Some(task) = self.signaling_task.take() {
            let _ = tokio::time::timeout(Duration::from_secs(1), task).await;
        }
        if self.welcomed {
            self.events
                .emit(|l| l.on_signaling_state(SignalingState::Disconnected));
        }
    }

    /// The safety code of the connection with `peer_id` (`crate::safety`), from the current
    /// local and remote SDP of its peer connection.
    async fn safety_code(&self, peer_id: &str) -> Result<String, EngineError> {
        let unknown = || EngineError::UnknownPeer {
            peer_id: peer_id.to_string(),
        };
        let link = self
            .peers
            .get(peer_id)
            .and_then(|e| e.link.as_ref())
            .ok_or_else(unknown)?;
        let (local, remote) = link.negotiated_sdp().await.ok_or_else(unknown)?;
        crate::safety::safety_code(&local, &remote).map_err(|e| EngineError::WebRtc {
            peer_id: peer_id.to_string(),
            reason: e.to_string(),
        })
    }

    pub(super) fn signal(&self, message: ClientMessage) {
        if let Some(client) = &self.signaling {
            client.send(message);
        }
    }
}
