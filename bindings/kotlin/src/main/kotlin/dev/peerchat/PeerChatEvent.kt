package dev.peerchat

import dev.peerchat.ffi.ChatMessage
import dev.peerchat.ffi.LeaveReason
import dev.peerchat.ffi.MessageStatus
import dev.peerchat.ffi.Peer
import dev.peerchat.ffi.PeerChatException
import dev.peerchat.ffi.PeerState
import dev.peerchat.ffi.RoomInfo
import dev.peerchat.ffi.SignalingState

/**
 * One engine event, as delivered by [PeerChatClient.events]: one subclass per method of the
 * generated [dev.peerchat.ffi.EngineListener].
 */
sealed class PeerChatEvent {
    /**
     * The session with the signaling server changed state: [SignalingState.Connecting], then
     * [SignalingState.Connected]; after a lost connection [SignalingState.Reconnecting]
     * (`attempt` counts the dials since the session was last ready, from 1; `nextRetryMs` is the
     * delay in ms before the next dial, 0..5000 with full jitter), once per failed dial, until
     * [SignalingState.Connected] again; [SignalingState.Disconnected] only after shutdown.
     * Open data channels keep chatting in every state.
     */
    data class SignalingStateChanged(val state: SignalingState) : PeerChatEvent()

    /** `createRoom` succeeded. */
    data class RoomCreated(val room: RoomInfo) : PeerChatEvent()

    /** `joinRoom` succeeded. */
    data class RoomJoined(val room: RoomInfo) : PeerChatEvent()

    /** Another peer joined the room. */
    data class PeerJoined(val peer: Peer) : PeerChatEvent()

    /**
     * The connection to [peerId] changed state, once per transition: [PeerState.CONNECTING]
     * (first setup, retried automatically) → [PeerState.CONNECTED] (chat is ready) ⇄
     * [PeerState.INTERRUPTED] (recovering by ICE restart or a new connection; messages wait and
     * go out in order); [PeerState.CLOSED] (left, final) or [PeerState.FAILED] (given up).
     * Table and time bounds: `docs/architecture.md`, "The peer state machine".
     */
    data class PeerStateChanged(val peerId: String, val state: PeerState) : PeerChatEvent()

    /**
     * [peerId] left the room; final, its connection is closed. [LeaveReason.LEFT]: it left or
     * shut down; [LeaveReason.DISCONNECTED]: its WebSocket closed (a protocol version 1 peer);
     * [LeaveReason.TIMEOUT]: it was [PeerInterrupted] and did not come back within the
     * server's session grace period (30 000 ms by default).
     */
    data class PeerLeft(val peerId: String, val reason: LeaveReason) : PeerChatEvent()

    /**
     * [peerId]'s connection to the signaling server dropped; the server keeps its session
     * (peer id, room seat) for the grace period. Chat goes on while its data channel is open
     * (see [PeerStateChanged]); when the data channel is gone too, the peer has probably
     * crashed or lost its network. [PeerResumed] or [PeerLeft] with [LeaveReason.TIMEOUT]
     * follows.
     */
    data class PeerInterrupted(val peerId: String) : PeerChatEvent()

    /** An interrupted peer ([PeerInterrupted]) resumed its session, with the same [peerId]. */
    data class PeerResumed(val peerId: String) : PeerChatEvent()

    /** A chat message arrived; messages from one peer arrive in send order, each once. */
    data class MessageReceived(val message: ChatMessage) : PeerChatEvent()

    /** A message this client sent changed status for one peer (SENT, then DELIVERED). */
    data class MessageStatusChanged(
        val messageId: String,
        val peerId: String,
        val status: MessageStatus,
    ) : PeerChatEvent()

    /**
     * A message this device missed (it was away) arrived through P2P history sync from its
     * sender and was saved: insert it in the conversation at its `sentAtMs` (not a new
     * message; `seq` is 0). Never also delivered as [MessageReceived].
     */
    data class HistoryMessageReceived(val message: ChatMessage) : PeerChatEvent()

    /** Something failed outside a call that could throw it. */
    data class Error(val error: PeerChatException) : PeerChatEvent()
}
