// COMPILE-ONLY STUB of the Kotlin bindings uniffi 0.32 is expected to generate for
// bindings/ (package uniffi.peerchat_ffi). It declares just the shapes
// android/src/main/java/com/peerchat/EngineAdapter.kt uses, so that the native module can be
// type-checked before the real bindings exist. Never shipped; every body throws.
// When the real bindings land, compile against them instead and delete this file.
@file:Suppress("unused", "UNUSED_PARAMETER")

package uniffi.peerchat_ffi

data class IceServer(var urls: List<String>, var username: String?, var credential: String?)

data class EngineConfig(
  var signalingUrl: String,
  var displayName: String,
  var iceServers: List<IceServer>,
  var iceUdpAddrs: List<String>,
  var signalingTimeoutMs: ULong,
  var peerConnectTimeoutMs: ULong,
)

data class Peer(var peerId: String, var name: String)

data class RoomInfo(var code: String, var capacity: UInt, var members: List<Peer>)

data class ChatMessage(
  var id: String,
  var peerId: String,
  var senderName: String,
  var text: String,
  var sentAtMs: ULong,
  var seq: ULong,
)

enum class SignalingState { CONNECTING, CONNECTED, DISCONNECTED }

enum class PeerState { CONNECTING, CONNECTED, DISCONNECTED, FAILED }

enum class LeaveReason { LEFT, DISCONNECTED }

enum class MessageStatus { SENT, DELIVERED, FAILED }

enum class ErrorCode {
  INVALID_JSON, UNKNOWN_TYPE, INVALID_MESSAGE, BINARY_NOT_SUPPORTED, RATE_LIMITED, INVALID_NAME,
  INVALID_ROOM_CODE, ROOM_NOT_FOUND, ROOM_FULL, ALREADY_IN_ROOM, NOT_IN_ROOM, LOGIN_TAKEN,
  ALREADY_LOGGED_IN, NOT_LOGGED_IN, PEER_NOT_FOUND, RELAY_NOT_ALLOWED, INVALID_TARGET, INTERNAL,
}

sealed class PeerChatException(message: String) : kotlin.Exception(message) {
  class InvalidConfig(val reason: String) : PeerChatException(reason)
  class InvalidName(val reason: String) : PeerChatException(reason)
  class InvalidRoomCode(val reason: String) : PeerChatException(reason)
  class Signaling(val reason: String) : PeerChatException(reason)
  class Server(val code: ErrorCode, val msg: String) : PeerChatException(msg)
  class AlreadyInRoom : PeerChatException("already in a room")
  class NotInRoom : PeerChatException("not in a room")
  class NoConnectedPeer : PeerChatException("no peer is connected")
  class EmptyMessage : PeerChatException("message is empty")
  class MessageTooLarge(val size: ULong, val max: ULong) : PeerChatException("message too large")
  class WebRtc(val peerId: String, val reason: String) : PeerChatException(reason)
  class PeerProtocol(val peerId: String, val reason: String) : PeerChatException(reason)
  class Timeout(val operation: String, val afterMs: ULong) : PeerChatException(operation)
  class Shutdown : PeerChatException("the engine is shut down")
}

interface EngineListener {
  fun onSignalingState(state: SignalingState)
  fun onRoomCreated(room: RoomInfo)
  fun onRoomJoined(room: RoomInfo)
  fun onPeerJoined(peer: Peer)
  fun onPeerState(peerId: String, state: PeerState)
  fun onPeerLeft(peerId: String, reason: LeaveReason)
  fun onMessage(message: ChatMessage)
  fun onMessageStatus(messageId: String, peerId: String, status: MessageStatus)
  fun onError(error: PeerChatException)
}

class Engine(config: EngineConfig, listener: EngineListener) : AutoCloseable {
  suspend fun createRoom(): RoomInfo = stub()
  suspend fun joinRoom(code: String): RoomInfo = stub()
  fun sendMessage(text: String): String = stub()
  suspend fun leaveRoom(): Unit = stub()
  fun peers(): List<Peer> = stub()
  fun peerId(): String? = stub()
  fun shutdown(): Unit = stub()
  fun destroy(): Unit = stub()
  override fun close() = destroy()
}

private fun stub(): Nothing = throw UnsupportedOperationException("compile-only stub")
