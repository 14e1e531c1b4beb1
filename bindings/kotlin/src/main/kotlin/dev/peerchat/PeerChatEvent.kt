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
    /** The signaling connection changed state. */
    data class SignalingStateChanged(val state: SignalingState) : PeerChatEvent()

    /** `createRoom` succeeded. */
    data class RoomCreated(val room: RoomInfo) : PeerChatEvent()

    /** `joinRoom` succeeded. */
    data class RoomJoined(val room: RoomInfo) : PeerChatEvent()

    /** Another peer joined the room. */
    data class PeerJoined(val peer: Peer) : PeerChatEvent()

    /** The connection to [peerId] changed state; [PeerState.CONNECTED] means chat is ready. */
    data class PeerStateChanged(val peerId: String, val state: PeerState) : PeerChatEvent()

    /** [peerId] left the room. */
    data class PeerLeft(val peerId: String, val reason: LeaveReason) : PeerChatEvent()

    /** A chat message arrived; messages from one peer arrive in send order, each once. */
    data class MessageReceived(val message: ChatMessage) : PeerChatEvent()

    /** A message this client sent changed status for one peer (SENT, then DELIVERED). */
    data class MessageStatusChanged(
        val messageId: String,
        val peerId: String,
        val status: MessageStatus,
    ) : PeerChatEvent()

    /** Something failed outside a call that could throw it. */
    data class Error(val error: PeerChatException) : PeerChatEvent()
}
