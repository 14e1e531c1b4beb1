package com.peerchat

import com.facebook.react.bridge.Arguments
import com.facebook.react.bridge.Promise
import com.facebook.react.bridge.ReactApplicationContext
import com.facebook.react.bridge.ReadableArray
import com.facebook.react.bridge.ReadableMap
import com.facebook.react.bridge.WritableMap
import com.facebook.react.module.annotations.ReactModule
import java.util.concurrent.ConcurrentHashMap
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.cancel
import kotlinx.coroutines.launch

/**
 * The `PeerChat` Turbo Module (spec: src/NativePeerChat.ts). Wraps one engine per `engineId`.
 *
 * Every call runs on [Dispatchers.IO], never on the main or JS thread, and settles its promise
 * from there (React Native's Promise may be settled from any thread). Listener callbacks arrive
 * on the engine's threads and are forwarded with the codegen `emitOn…` methods, which hand them
 * to the JS thread.
 */
@ReactModule(name = PeerChatModule.NAME)
class PeerChatModule(reactContext: ReactApplicationContext) : NativePeerChatSpec(reactContext) {
  private val engines = ConcurrentHashMap<String, EngineHandle>()
  private val scope = CoroutineScope(SupervisorJob() + Dispatchers.IO)

  override fun getName(): String = NAME

  override fun createEngine(engineId: String, config: ReadableMap, promise: Promise) {
    scope.launch {
      settle(promise) {
        val parsed = parseConfig(config)
        if (engines.containsKey(engineId)) {
          throw EngineFailure("invalid_config", "engine id $engineId is already in use")
        }
        val handle = EngineHandle.start(parsed, Forwarder(engineId))
        if (engines.putIfAbsent(engineId, handle) != null) {
          handle.shutdown()
          throw EngineFailure("invalid_config", "engine id $engineId is already in use")
        }
        null
      }
    }
  }

  override fun createRoom(engineId: String, promise: Promise) {
    scope.launch { settle(promise) { roomMap(engine(engineId).createRoom()) } }
  }

  override fun joinRoom(engineId: String, code: String, promise: Promise) {
    scope.launch { settle(promise) { roomMap(engine(engineId).joinRoom(code)) } }
  }

  override fun sendMessage(engineId: String, text: String, promise: Promise) {
    scope.launch { settle(promise) { engine(engineId).sendMessage(text) } }
  }

  override fun leaveRoom(engineId: String, promise: Promise) {
    scope.launch { settle(promise) { engine(engineId).leaveRoom(); null } }
  }

  override fun peers(engineId: String, promise: Promise) {
    scope.launch {
      settle(promise) {
        Arguments.createArray().apply { engine(engineId).peers().forEach { pushMap(peerMap(it)) } }
      }
    }
  }

  override fun connectedPeers(engineId: String, promise: Promise) {
    scope.launch { settle(promise) { engine(engineId).connectedPeers() } }
  }

  override fun roomCode(engineId: String, promise: Promise) {
    scope.launch { settle(promise) { engine(engineId).roomCode() } }
  }

  override fun peerId(engineId: String, promise: Promise) {
    scope.launch { settle(promise) { engine(engineId).peerId() } }
  }

  override fun destroyEngine(engineId: String) {
    // Returns at once: the engine's teardown runs on its own background thread.
    engines.remove(engineId)?.shutdown()
  }

  override fun shutdownEngine(engineId: String, promise: Promise) {
    val handle = engines.remove(engineId)
    if (handle == null) {
      promise.resolve(null)
      return
    }
    scope.launch { settle(promise) { handle.shutdownAndWait(); null } }
  }

  override fun pauseEngine(engineId: String) {
    engines[engineId]?.pause()
  }

  override fun resumeEngine(engineId: String) {
    engines[engineId]?.resume()
  }

  override fun networkChanged(engineId: String) {
    engines[engineId]?.networkChanged()
  }

  override fun invalidate() {
    val handles = engines.keys.toList().mapNotNull { engines.remove(it) }
    scope.cancel()
    // Never blocks the thread tearing React down: each shutdown returns at once.
    handles.forEach { it.shutdown() }
    super.invalidate()
  }

  private fun engine(engineId: String): EngineHandle =
    engines[engineId] ?: throw EngineFailure("shutdown", "no engine $engineId (destroyed or never created)")

  /** Runs [block] and resolves with its value, or rejects with the engine's error code. */
  private suspend fun settle(promise: Promise, block: suspend () -> Any?) {
    try {
      promise.resolve(block())
    } catch (failure: EngineFailure) {
      promise.reject(failure.code, failure.message, failure, errorInfo(failure))
    } catch (e: Exception) {
      promise.reject("native", e.message ?: e.toString(), e, Arguments.createMap().apply { putString("code", "native") })
    }
  }

  /** Forwards one engine's listener callbacks as the spec's events, tagged with its id. */
  private inner class Forwarder(private val engineId: String) : EngineEvents {
    private fun event(fill: WritableMap.() -> Unit): WritableMap =
      Arguments.createMap().apply {
        putString("engineId", engineId)
        fill()
      }

    override fun signalingState(state: String, reconnect: ReconnectData?) =
      emitOnSignalingState(
        event {
          putString("state", state)
          reconnect?.let {
            putInt("attempt", it.attempt)
            putDouble("nextRetryMs", it.nextRetryMs.toDouble())
          }
        })
    override fun roomCreated(room: RoomData) = emitOnRoomCreated(event { putMap("room", roomMap(room)) })
    override fun roomJoined(room: RoomData) = emitOnRoomJoined(event { putMap("room", roomMap(room)) })
    override fun peerJoined(peer: PeerData) = emitOnPeerJoined(event { putMap("peer", peerMap(peer)) })
    override fun peerState(peerId: String, state: String) =
      emitOnPeerState(event { putString("peerId", peerId); putString("state", state) })
    override fun peerLeft(peerId: String, reason: String) =
      emitOnPeerLeft(event { putString("peerId", peerId); putString("reason", reason) })
    override fun peerInterrupted(peerId: String) = emitOnPeerInterrupted(event { putString("peerId", peerId) })
    override fun peerResumed(peerId: String) = emitOnPeerResumed(event { putString("peerId", peerId) })
    override fun message(message: MessageData) = emitOnMessage(event { putMap("message", messageMap(message)) })
    override fun messageStatus(messageId: String, peerId: String, status: String) =
      emitOnMessageStatus(
        event {
          putString("messageId", messageId)
          putString("peerId", peerId)
          putString("status", status)
        })
    override fun error(failure: EngineFailure) =
      emitOnError(
        event {
          putString("code", failure.code)
          putString("message", failure.message ?: failure.code)
          failure.serverCode?.let { putString("serverCode", it) }
        })
  }

  companion object {
    const val NAME = NativePeerChatSpec.NAME

    /** Reads the spec's `NativeEngineConfig`; a missing or mistyped field is `invalid_config`. */
    internal fun parseConfig(map: ReadableMap): EngineConfigData {
      fun string(key: String): String =
        if (map.hasKey(key) && !map.isNull(key)) map.getString(key) ?: ""
        else throw EngineFailure("invalid_config", "config.$key is missing")
      fun millis(key: String): Long {
        if (!map.hasKey(key) || map.isNull(key)) throw EngineFailure("invalid_config", "config.$key is missing")
        val value = map.getDouble(key)
        if (value.isNaN() || value < 0 || value > Long.MAX_VALUE.toDouble() || value != Math.floor(value)) {
          throw EngineFailure("invalid_config", "config.$key must be a whole number of ms, got $value")
        }
        return value.toLong()
      }
      val servers = map.getArray("iceServers")
      return EngineConfigData(
        signalingUrl = string("signalingUrl"),
        displayName = string("displayName"),
        iceServers = (0 until (servers?.size() ?: 0)).map { i ->
          val s = servers!!.getMap(i) ?: throw EngineFailure("invalid_config", "config.iceServers[$i] is null")
          IceServerData(
            urls = strings(s.getArray("urls")),
            username = if (s.hasKey("username") && !s.isNull("username")) s.getString("username") else null,
            credential = if (s.hasKey("credential") && !s.isNull("credential")) s.getString("credential") else null,
          )
        },
        iceUdpAddrs = strings(map.getArray("iceUdpAddrs")),
        resolveMdnsCandidates =
          if (map.hasKey("resolveMdnsCandidates") && !map.isNull("resolveMdnsCandidates")) {
            map.getBoolean("resolveMdnsCandidates")
          } else {
            true
          },
        signalingTimeoutMs = millis("signalingTimeoutMs"),
        peerConnectTimeoutMs = millis("peerConnectTimeoutMs"),
        caCertPem = if (map.hasKey("caCertPem") && !map.isNull("caCertPem")) map.getString("caCertPem") else null,
        authToken = if (map.hasKey("authToken") && !map.isNull("authToken")) map.getString("authToken") else null,
        iceTransportPolicy =
          if (map.hasKey("iceTransportPolicy") && !map.isNull("iceTransportPolicy")) map.getString("iceTransportPolicy") else null,
      )
    }

    private fun strings(array: ReadableArray?): List<String> =
      (0 until (array?.size() ?: 0)).map { array!!.getString(it) ?: "" }

    internal fun errorInfo(failure: EngineFailure): WritableMap =
      Arguments.createMap().apply {
        putString("code", failure.code)
        failure.serverCode?.let { putString("serverCode", it) }
      }

    internal fun peerMap(peer: PeerData): WritableMap =
      Arguments.createMap().apply {
        putString("peerId", peer.peerId)
        putString("name", peer.name)
      }

    internal fun roomMap(room: RoomData): WritableMap =
      Arguments.createMap().apply {
        putString("code", room.code)
        putInt("capacity", room.capacity)
        putArray("members", Arguments.createArray().apply { room.members.forEach { pushMap(peerMap(it)) } })
      }

    internal fun messageMap(message: MessageData): WritableMap =
      Arguments.createMap().apply {
        putString("id", message.id)
        putString("peerId", message.peerId)
        putString("senderName", message.senderName)
        putString("text", message.text)
        putDouble("sentAtMs", message.sentAtMs.toDouble())
        putDouble("seq", message.seq.toDouble())
      }
  }
}
