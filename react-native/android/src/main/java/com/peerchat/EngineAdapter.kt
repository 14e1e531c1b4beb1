package com.peerchat

// The ONLY file that names the generated uniffi bindings (package uniffi.peerchat_ffi).
// Their exact Kotlin names are provisional until bindings/ lands: align them here and nowhere
// else. Everything outside this file uses the plain types below.

import uniffi.peerchat_ffi.ChatMessage as FfiChatMessage
import uniffi.peerchat_ffi.Engine as FfiEngine
import uniffi.peerchat_ffi.EngineConfig as FfiEngineConfig
import uniffi.peerchat_ffi.EngineListener as FfiEngineListener
import uniffi.peerchat_ffi.IceServer as FfiIceServer
import uniffi.peerchat_ffi.LeaveReason as FfiLeaveReason
import uniffi.peerchat_ffi.MessageStatus as FfiMessageStatus
import uniffi.peerchat_ffi.Peer as FfiPeer
import uniffi.peerchat_ffi.PeerChatException
import uniffi.peerchat_ffi.PeerState as FfiPeerState
import uniffi.peerchat_ffi.RoomInfo as FfiRoomInfo
import uniffi.peerchat_ffi.SignalingState as FfiSignalingState

/** A STUN/TURN server (W3C RTCIceServer). */
data class IceServerData(val urls: List<String>, val username: String?, val credential: String?)

/** Mirror of the engine's `EngineConfig`; times in ms. */
data class EngineConfigData(
  val signalingUrl: String,
  val displayName: String,
  val iceServers: List<IceServerData>,
  val iceUdpAddrs: List<String>,
  val signalingTimeoutMs: Long,
  val peerConnectTimeoutMs: Long,
)

data class PeerData(val peerId: String, val name: String)

data class RoomData(val code: String, val capacity: Int, val members: List<PeerData>)

data class MessageData(
  val id: String,
  val peerId: String,
  val senderName: String,
  val text: String,
  val sentAtMs: Long,
  val seq: Long,
)

/**
 * An engine error as the JS side sees it: `code` is the engine's snake_case error code,
 * `serverCode` the server's refusal code when `code` is `server`.
 */
class EngineFailure(val code: String, message: String, val serverCode: String? = null) :
  Exception(message)

/** The engine's listener callbacks in plain types; called on engine threads. */
interface EngineEvents {
  fun signalingState(state: String)
  fun roomCreated(room: RoomData)
  fun roomJoined(room: RoomData)
  fun peerJoined(peer: PeerData)
  fun peerState(peerId: String, state: String)
  fun peerLeft(peerId: String, reason: String)
  fun message(message: MessageData)
  fun messageStatus(messageId: String, peerId: String, status: String)
  fun error(failure: EngineFailure)
}

/** One running engine. Suspending calls run on the caller's dispatcher; all throw [EngineFailure]. */
class EngineHandle private constructor(private val engine: FfiEngine) {
  suspend fun createRoom(): RoomData = translate { engine.createRoom().toData() }

  suspend fun joinRoom(code: String): RoomData = translate { engine.joinRoom(code).toData() }

  fun sendMessage(text: String): String = translateBlocking { engine.sendMessage(text) }

  suspend fun leaveRoom() = translate { engine.leaveRoom() }

  /** `Engine::shutdown` then frees the native object. Idempotent. */
  fun shutdown() {
    engine.shutdown()
    engine.destroy()
  }

  companion object {
    /** `Engine::new`. Throws [EngineFailure] (`invalid_config`, `invalid_name`). */
    fun start(config: EngineConfigData, events: EngineEvents): EngineHandle =
      translateBlocking { EngineHandle(FfiEngine(config.toFfi(), ListenerBridge(events))) }
  }
}

private class ListenerBridge(private val events: EngineEvents) : FfiEngineListener {
  override fun onSignalingState(state: FfiSignalingState) = events.signalingState(state.wire())
  override fun onRoomCreated(room: FfiRoomInfo) = events.roomCreated(room.toData())
  override fun onRoomJoined(room: FfiRoomInfo) = events.roomJoined(room.toData())
  override fun onPeerJoined(peer: FfiPeer) = events.peerJoined(peer.toData())
  override fun onPeerState(peerId: String, state: FfiPeerState) = events.peerState(peerId, state.wire())
  override fun onPeerLeft(peerId: String, reason: FfiLeaveReason) = events.peerLeft(peerId, reason.wire())
  override fun onMessage(message: FfiChatMessage) = events.message(message.toData())
  override fun onMessageStatus(messageId: String, peerId: String, status: FfiMessageStatus) =
    events.messageStatus(messageId, peerId, status.wire())
  override fun onError(error: PeerChatException) = events.error(error.toFailure())
}

/** Kotlin enum constant (`ROOM_FULL`) to the wire's snake_case (`room_full`). */
private fun Enum<*>.wire(): String = name.lowercase()

private fun FfiPeer.toData() = PeerData(peerId, name)

private fun FfiRoomInfo.toData() = RoomData(code, capacity.toInt(), members.map { it.toData() })

private fun FfiChatMessage.toData() =
  MessageData(id, peerId, senderName, text, sentAtMs.toLong(), seq.toLong())

private fun EngineConfigData.toFfi() =
  FfiEngineConfig(
    signalingUrl = signalingUrl,
    displayName = displayName,
    iceServers = iceServers.map { FfiIceServer(it.urls, it.username, it.credential) },
    iceUdpAddrs = iceUdpAddrs,
    signalingTimeoutMs = signalingTimeoutMs.toULong(),
    peerConnectTimeoutMs = peerConnectTimeoutMs.toULong(),
  )

/** Maps each `EngineError` variant to its snake_case code. */
internal fun PeerChatException.toFailure(): EngineFailure {
  val text = message ?: this::class.simpleName ?: "engine error"
  return when (this) {
    is PeerChatException.InvalidConfig -> EngineFailure("invalid_config", text)
    is PeerChatException.InvalidName -> EngineFailure("invalid_name", text)
    is PeerChatException.InvalidRoomCode -> EngineFailure("invalid_room_code", text)
    is PeerChatException.Signaling -> EngineFailure("signaling", text)
    is PeerChatException.Server -> EngineFailure("server", text, code.wire())
    is PeerChatException.AlreadyInRoom -> EngineFailure("already_in_room", text)
    is PeerChatException.NotInRoom -> EngineFailure("not_in_room", text)
    is PeerChatException.NoConnectedPeer -> EngineFailure("no_connected_peer", text)
    is PeerChatException.EmptyMessage -> EngineFailure("empty_message", text)
    is PeerChatException.MessageTooLarge -> EngineFailure("message_too_large", text)
    is PeerChatException.WebRtc -> EngineFailure("web_rtc", text)
    is PeerChatException.PeerProtocol -> EngineFailure("peer_protocol", text)
    is PeerChatException.Timeout -> EngineFailure("timeout", text)
    is PeerChatException.Shutdown -> EngineFailure("shutdown", text)
  }
}

private inline fun <T> translateBlocking(block: () -> T): T =
  try {
    block()
  } catch (e: PeerChatException) {
    throw e.toFailure()
  }

private suspend inline fun <T> translate(crossinline block: suspend () -> T): T =
  try {
    block()
  } catch (e: PeerChatException) {
    throw e.toFailure()
  }
