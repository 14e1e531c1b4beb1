package com.peerchat

// The ONLY file of the module that names the uniffi bindings of the Rust engine: the Kotlin that
// `uniffi-bindgen` generates from crate peerchat-ffi (package dev.peerchat.ffi, file
// bindings/kotlin/generated/dev/peerchat/ffi/peerchat_ffi.kt of the peerchat repository, shipped
// in the peerchat-android AAR). It uses no React Native class either: PeerChatModule.kt turns the
// plain types below into React Native maps, promises and events, and the JVM tests in
// scripts/kotlin-check/src/test drive this file against the real engine.

import dev.peerchat.ffi.ChatMessage as FfiChatMessage
import dev.peerchat.ffi.Engine as FfiEngine
import dev.peerchat.ffi.EngineConfig as FfiEngineConfig
import dev.peerchat.ffi.EngineListener as FfiEngineListener
import dev.peerchat.ffi.IceServer as FfiIceServer
import dev.peerchat.ffi.IceTransportPolicy as FfiIceTransportPolicy
import dev.peerchat.ffi.LeaveReason as FfiLeaveReason
import dev.peerchat.ffi.MessageStatus as FfiMessageStatus
import dev.peerchat.ffi.Peer as FfiPeer
import dev.peerchat.ffi.PeerChatException
import dev.peerchat.ffi.PeerState as FfiPeerState
import dev.peerchat.ffi.RoomInfo as FfiRoomInfo
import dev.peerchat.ffi.SignalingState as FfiSignalingState
import java.util.concurrent.atomic.AtomicBoolean

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
  /** Resolve remote `*.local` ICE candidates with mDNS (the engine's default: true). */
  val resolveMdnsCandidates: Boolean = true,
  /** Extra CA certificate(s), PEM text, trusted for a `wss://` URL; null = web roots only. */
  val caCertPem: String? = null,
  /** Bearer token for servers run with `--auth-secret`; null = none. */
  val authToken: String? = null,
  /** `all` or `relay` (W3C RTCIceTransportPolicy); null = `all`. Anything else is `invalid_config`. */
  val iceTransportPolicy: String? = null,
)

data class PeerData(val peerId: String, val name: String)

data class RoomData(val code: String, val capacity: Int, val members: List<PeerData>)

data class MessageData(
  val id: String,
  val peerId: String,
  val senderName: String,
  val text: String,
  /** Sender's clock, ms since the Unix epoch. */
  val sentAtMs: Long,
  val seq: Long,
)

/**
 * Where a `reconnecting` engine stands: [attempt] counts the dials since the session was last
 * ready (from 1), [nextRetryMs] is the delay before the next dial (ms, full jitter, ≤ 5000).
 */
data class ReconnectData(val attempt: Int, val nextRetryMs: Long)

/**
 * An engine error as the JS side sees it (`PeerChatError` in src/errors.ts): [code] is the
 * engine's error variant in snake_case (`invalid_room_code`, `server`, …), [serverCode] the
 * server's wire code (`room_not_found`, `room_full`, …) when [code] is `server`, and the message
 * the engine's readable text.
 */
class EngineFailure(val code: String, message: String, val serverCode: String? = null) :
  Exception(message)

/**
 * The engine's listener callbacks in plain types: the boundary to React Native's event
 * emitters. Called on an engine thread (one thread, in order), never on the main or JS thread;
 * implementations must return quickly and must not call back into the engine synchronously.
 */
interface EngineEvents {
  /**
   * [state] is `connecting`, `connected`, `reconnecting` or `disconnected`; [reconnect] is set
   * exactly when it is `reconnecting`.
   */
  fun signalingState(state: String, reconnect: ReconnectData?)
  fun roomCreated(room: RoomData)
  fun roomJoined(room: RoomData)
  fun peerJoined(peer: PeerData)
  fun peerState(peerId: String, state: String)
  /** [reason] is `left`, `disconnected` or `timeout`. */
  fun peerLeft(peerId: String, reason: String)
  /** A room mate's signaling connection dropped; the server keeps its session (grace period). */
  fun peerInterrupted(peerId: String)
  /** An interrupted room mate resumed its session (same peer id). */
  fun peerResumed(peerId: String)
  fun message(message: MessageData)
  fun messageStatus(messageId: String, peerId: String, status: String)
  fun error(failure: EngineFailure)
}

/**
 * One running engine (the generated `Engine`). Every call may be made from any thread; all
 * throw [EngineFailure]. The suspending ones suspend without blocking a thread and resume on
 * the caller's dispatcher.
 */
class EngineHandle private constructor(private val engine: FfiEngine) {
  private val stopped = AtomicBoolean(false)

  /** `Engine.createRoom()`: throws `already_in_room`, `signaling`, `server`, `timeout`, `shutdown`. */
  suspend fun createRoom(): RoomData = translate { engine.createRoom().toData() }

  /** `Engine.joinRoom(code)`: throws `invalid_room_code`, `already_in_room`, `server` (`room_not_found`, `room_full`), … */
  suspend fun joinRoom(code: String): RoomData = translate { engine.joinRoom(code).toData() }

  /** `Engine.sendMessage(text)`, returns the message id: throws `not_in_room`, `no_connected_peer`, `outbox_full`, `empty_message`, `message_too_large`. */
  fun sendMessage(text: String): String = translateBlocking { engine.sendMessage(text) }

  /** `Engine.leaveRoom()`: throws `not_in_room`, `signaling`, `timeout`, `shutdown`. */
  suspend fun leaveRoom() = translate { engine.leaveRoom() }

  /** `Engine.peers()`: the room's other peers now (empty outside a room). */
  fun peers(): List<PeerData> = live { engine.peers().map { it.toData() } }

  /** `Engine.connectedPeers()`: peers with an open data channel (0 outside a room). */
  fun connectedPeers(): Int = live { engine.connectedPeers().toInt() }

  /** `Engine.roomCode()`: the canonical room code, or null outside a room. */
  fun roomCode(): String? = live { engine.roomCode() }

  /** `Engine.peerId()`: the server-assigned peer id, or null before `welcome`. */
  fun peerId(): String? = live { engine.peerId() }

  /** Runs a getter unless [shutdown] released the native object (then `shutdown`). */
  private inline fun <T> live(block: () -> T): T {
    if (stopped.get()) throw EngineFailure("shutdown", "the engine is shut down")
    return block()
  }

  /**
   * Starts `Engine.shutdown` and releases the native object; returns at once (the teardown
   * runs in the background; safe on any thread). Idempotent.
   */
  fun shutdown() {
    if (stopped.compareAndSet(false, true)) {
      try {
        engine.shutdownNow()
      } finally {
        engine.close()
      }
    }
  }

  /**
   * `Engine.shutdown()`, awaited: suspends (no thread blocked) until the teardown finished,
   * then releases the native object. Idempotent: a second call returns at once.
   */
  suspend fun shutdownAndWait() {
    if (stopped.compareAndSet(false, true)) {
      try {
        engine.shutdown()
      } finally {
        engine.close()
      }
    }
  }

  /** `Engine.pause()`: returns at once. */
  fun pause() {
    if (!stopped.get()) engine.pause()
  }

  /** `Engine.resume()`: returns at once. */
  fun resume() {
    if (!stopped.get()) engine.resume()
  }

  /** `Engine.networkChanged()`: returns at once. */
  fun networkChanged() {
    if (!stopped.get()) engine.networkChanged()
  }

  companion object {
    /**
     * `Engine(config, listener)`: checks [config], starts the engine and begins connecting to
     * the signaling server. Throws [EngineFailure] `invalid_config` (URL not ws/wss, ICE
     * address not `ip:port`, bad ICE server URL, zero timeout) or `invalid_name`.
     */
    fun start(config: EngineConfigData, events: EngineEvents): EngineHandle {
      val ffiConfig = config.toFfi()
      return translateBlocking { EngineHandle(FfiEngine(ffiConfig, ListenerBridge(events))) }
    }
  }
}

/** The generated listener interface, forwarding each callback in plain types. */
private class ListenerBridge(private val events: EngineEvents) : FfiEngineListener {
  override fun onSignalingState(state: FfiSignalingState) =
    when (state) {
      is FfiSignalingState.Reconnecting ->
        events.signalingState("reconnecting", ReconnectData(state.attempt.toInt(), state.nextRetryMs.toLong()))
      FfiSignalingState.Connecting -> events.signalingState("connecting", null)
      FfiSignalingState.Connected -> events.signalingState("connected", null)
      FfiSignalingState.Disconnected -> events.signalingState("disconnected", null)
    }

  override fun onRoomCreated(room: FfiRoomInfo) = events.roomCreated(room.toData())

  override fun onRoomJoined(room: FfiRoomInfo) = events.roomJoined(room.toData())

  override fun onPeerJoined(peer: FfiPeer) = events.peerJoined(peer.toData())

  override fun onPeerState(peerId: String, state: FfiPeerState) = events.peerState(peerId, state.wire())

  override fun onPeerLeft(peerId: String, reason: FfiLeaveReason) = events.peerLeft(peerId, reason.wire())

  override fun onPeerInterrupted(peerId: String) = events.peerInterrupted(peerId)

  override fun onPeerResumed(peerId: String) = events.peerResumed(peerId)

  override fun onMessage(message: FfiChatMessage) = events.message(message.toData())

  override fun onMessageStatus(messageId: String, peerId: String, status: FfiMessageStatus) =
    events.messageStatus(messageId, peerId, status.wire())

  override fun onError(error: PeerChatException) = events.error(error.toFailure())

  // Saved chats are not carried to React Native yet (no `dataDir` there: history lives in
  // memory only), so there is no JS event for a message received through history sync.
  override fun onHistoryMessage(message: FfiChatMessage) = Unit
}

/** Kotlin enum constant (`CONNECTED`) to the wire's snake_case (`connected`). */
private fun Enum<*>.wire(): String = name.lowercase()

private fun FfiPeer.toData() = PeerData(peerId, name)

private fun FfiRoomInfo.toData() = RoomData(code, capacity.toInt(), members.map { it.toData() })

private fun FfiChatMessage.toData() =
  MessageData(id, peerId, senderName, text, sentAtMs.toLong(), seq.toLong())

/** Negative times cannot come from JS (PeerChatModule checks them); refused here too. */
private fun EngineConfigData.toFfi(): FfiEngineConfig {
  if (signalingTimeoutMs < 0 || peerConnectTimeoutMs < 0) {
    throw EngineFailure("invalid_config", "timeouts must not be negative")
  }
  return FfiEngineConfig(
    signalingUrl = signalingUrl,
    displayName = displayName,
    iceServers = iceServers.map { FfiIceServer(it.urls, it.username, it.credential) },
    iceUdpAddrs = iceUdpAddrs,
    resolveMdnsCandidates = resolveMdnsCandidates,
    signalingTimeoutMs = signalingTimeoutMs.toULong(),
    peerConnectTimeoutMs = peerConnectTimeoutMs.toULong(),
    caCertPem = caCertPem,
    authToken = authToken,
    iceTransportPolicy = iceTransportPolicy?.let(::icePolicy),
  )
}

/** The spec's `iceTransportPolicy` string to the generated enum (exhaustive both ways). */
private fun icePolicy(wire: String): FfiIceTransportPolicy =
  when (wire) {
    "all" -> FfiIceTransportPolicy.ALL
    "relay" -> FfiIceTransportPolicy.RELAY
    else -> throw EngineFailure("invalid_config", "iceTransportPolicy must be all or relay, got $wire")
  }

/**
 * Maps each `PeerChatException` variant to the JS error code (the variant in snake_case), with
 * the engine's readable text (`reason`; the exception's own `message` is uniffi's
 * `"reason=…, code=…"` dump) and, for `Server`, the server's wire code.
 */
internal fun PeerChatException.toFailure(): EngineFailure =
  when (this) {
    is PeerChatException.InvalidConfig -> EngineFailure("invalid_config", reason)
    is PeerChatException.InvalidName -> EngineFailure("invalid_name", reason)
    is PeerChatException.InvalidRoomCode -> EngineFailure("invalid_room_code", reason)
    is PeerChatException.Signaling -> EngineFailure("signaling", reason)
    is PeerChatException.Server -> EngineFailure("server", reason, code)
    is PeerChatException.AlreadyInRoom -> EngineFailure("already_in_room", reason)
    is PeerChatException.NotInRoom -> EngineFailure("not_in_room", reason)
    is PeerChatException.NoConnectedPeer -> EngineFailure("no_connected_peer", reason)
    is PeerChatException.OutboxFull -> EngineFailure("outbox_full", reason)
    is PeerChatException.EmptyMessage -> EngineFailure("empty_message", reason)
    is PeerChatException.MessageTooLarge -> EngineFailure("message_too_large", reason)
    is PeerChatException.WebRtc -> EngineFailure("web_rtc", reason)
    is PeerChatException.PeerProtocol -> EngineFailure("peer_protocol", reason)
    is PeerChatException.Timeout -> EngineFailure("timeout", reason)
    is PeerChatException.Shutdown -> EngineFailure("shutdown", reason)
    is PeerChatException.QueueFull -> EngineFailure("queue_full", reason)
    is PeerChatException.Cancelled -> EngineFailure("cancelled", reason)
    is PeerChatException.Store -> EngineFailure("store", reason)
    is PeerChatException.UnknownMessage -> EngineFailure("unknown_message", reason)
    is PeerChatException.UnknownPeer -> EngineFailure("unknown_peer", reason)
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
