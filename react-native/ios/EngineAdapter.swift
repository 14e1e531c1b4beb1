// The ONLY file of the module that names the Swift bindings of the Rust engine: the Swift that
// `uniffi-bindgen` generates from crate peerchat-ffi (ios/Sources/PeerChat/PeerChat.swift of the
// peerchat repository: Engine, EngineConfig, EngineListener, PeerChatError, …), compiled into
// this pod from ios/bindings/PeerChatBindings.swift over PeerChatFFI.xcframework (see README.md,
// "Native bindings"). PeerChatImpl.swift uses only the plain types below.
//
// Not compiled here (no Swift toolchain on the machine that wrote it); the Kotlin twin,
// android/src/main/java/com/peerchat/EngineAdapter.kt, is compiled and tested on the JVM.
import Foundation

/// An engine error as JS sees it: `code` is the engine's snake_case error code, `serverCode`
/// the server's refusal code when `code` is `server`.
struct EngineFailure: Error {
  let code: String
  let message: String
  var serverCode: String? = nil
}

struct IceServerData {
  let urls: [String]
  let username: String?
  let credential: String?
}

struct EngineConfigData {
  let signalingUrl: String
  let displayName: String
  let iceServers: [IceServerData]
  let iceUdpAddrs: [String]
  /// Resolve remote `*.local` ICE candidates with mDNS (the engine's default: true).
  let resolveMdnsCandidates: Bool
  let signalingTimeoutMs: UInt64
  let peerConnectTimeoutMs: UInt64
  /// Extra CA certificate(s), PEM text, trusted for a `wss://` URL; nil = web roots only.
  let caCertPem: String?
  /// Bearer token for servers run with `--auth-secret`; nil = none.
  let authToken: String?
  /// `all` or `relay` (W3C RTCIceTransportPolicy); nil = `all`. Anything else is `invalid_config`.
  let iceTransportPolicy: String?
}

/// The listener callbacks as JS-ready dictionaries: (event name of the spec, body without
/// `engineId`). Called on an engine thread (one thread, in order), never on the main thread.
typealias EngineEventSink = (_ event: String, _ body: [String: Any]) -> Void

/// One running engine (the generated `Engine`); every call may be made from any thread and
/// throws `EngineFailure`.
final class EngineHandle: @unchecked Sendable {
  private let engine: Engine

  /// `Engine(config:listener:)`: throws `invalid_config` or `invalid_name`.
  init(config: EngineConfigData, sink: @escaping EngineEventSink) throws {
    let policy = try config.iceTransportPolicy.map(icePolicy)
    do {
      engine = try Engine(
        config: EngineConfig(
          signalingUrl: config.signalingUrl,
          displayName: config.displayName,
          iceServers: config.iceServers.map {
            IceServer(urls: $0.urls, username: $0.username, credential: $0.credential)
          },
          iceTransportPolicy: policy,
          iceUdpAddrs: config.iceUdpAddrs,
          resolveMdnsCandidates: config.resolveMdnsCandidates,
          signalingTimeoutMs: config.signalingTimeoutMs,
          peerConnectTimeoutMs: config.peerConnectTimeoutMs,
          caCertPem: config.caCertPem,
          authToken: config.authToken),
        listener: ListenerBridge(sink: sink))
    } catch let error as PeerChatError {
      throw error.failure
    }
  }

  func createRoom() async throws -> [String: Any] {
    do { return try await engine.createRoom().dictionary } catch let e as PeerChatError { throw e.failure }
  }

  func joinRoom(code: String) async throws -> [String: Any] {
    do { return try await engine.joinRoom(code: code).dictionary } catch let e as PeerChatError { throw e.failure }
  }

  /// Returns the message id.
  func sendMessage(text: String) throws -> String {
    do { return try engine.sendMessage(text: text) } catch let e as PeerChatError { throw e.failure }
  }

  func leaveRoom() async throws {
    do { try await engine.leaveRoom() } catch let e as PeerChatError { throw e.failure }
  }

  /// `Engine.peers()`: the room's other peers now (empty outside a room).
  func peers() -> [[String: Any]] { engine.peers().map { $0.dictionary } }

  /// `Engine.connectedPeers()`: peers with an open data channel (0 outside a room).
  func connectedPeers() -> Int { Int(engine.connectedPeers()) }

  /// `Engine.roomCode()`: the canonical room code, or nil outside a room.
  func roomCode() -> String? { engine.roomCode() }

  /// `Engine.peerId()`: the server-assigned peer id, or nil before `welcome`.
  func peerId() -> String? { engine.peerId() }


  /// Starts `Engine.shutdown` and returns at once (the teardown runs in the background);
  /// safe on any thread, including the main thread.
  func shutdown() {
    engine.shutdownNow()
  }

  /// `Engine.shutdown()`, awaited: suspends (no thread blocked) until the teardown finished.
  func shutdownAndWait() async {
    await engine.shutdown()
  }

  func pause() { engine.pause() }
  func resume() { engine.resume() }
  func networkChanged() { engine.networkChanged() }
}

private final class ListenerBridge: EngineListener, @unchecked Sendable {
  private let sink: EngineEventSink
  init(sink: @escaping EngineEventSink) { self.sink = sink }

  func onSignalingState(state: SignalingState) {
    var body: [String: Any] = ["state": wire(state)]
    if case .reconnecting(let attempt, let nextRetryMs) = state {
      body["attempt"] = Int(attempt)
      body["nextRetryMs"] = Double(nextRetryMs)
    }
    sink("onSignalingState", body)
  }
  func onRoomCreated(room: RoomInfo) { sink("onRoomCreated", ["room": room.dictionary]) }
  func onRoomJoined(room: RoomInfo) { sink("onRoomJoined", ["room": room.dictionary]) }
  func onPeerJoined(peer: Peer) { sink("onPeerJoined", ["peer": peer.dictionary]) }
  func onPeerState(peerId: String, state: PeerState) {
    sink("onPeerState", ["peerId": peerId, "state": wire(state)])
  }
  func onPeerLeft(peerId: String, reason: LeaveReason) {
    sink("onPeerLeft", ["peerId": peerId, "reason": wire(reason)])
  }
  func onPeerInterrupted(peerId: String) { sink("onPeerInterrupted", ["peerId": peerId]) }
  func onPeerResumed(peerId: String) { sink("onPeerResumed", ["peerId": peerId]) }
  func onMessage(message: ChatMessage) {
    sink("onMessage", ["message": [
      "id": message.id, "peerId": message.peerId, "senderName": message.senderName,
      "text": message.text, "sentAtMs": Double(message.sentAtMs), "seq": Double(message.seq),
    ]])
  }
  func onMessageStatus(messageId: String, peerId: String, status: MessageStatus) {
    sink("onMessageStatus", ["messageId": messageId, "peerId": peerId, "status": wire(status)])
  }
  func onError(error: PeerChatError) {
    let f = error.failure
    var body: [String: Any] = ["code": f.code, "message": f.message]
    if let serverCode = f.serverCode { body["serverCode"] = serverCode }
    sink("onError", body)
  }
  // Saved chats are not carried to React Native yet (no `dataDir` there: history lives in
  // memory only), so there is no JS event for a message received through history sync.
  func onHistoryMessage(message: ChatMessage) {}
}

/// The spec's `iceTransportPolicy` string to the generated enum.
private func icePolicy(_ wire: String) throws -> IceTransportPolicy {
  switch wire {
  case "all": return .all
  case "relay": return .relay
  default: throw EngineFailure(code: "invalid_config", message: "iceTransportPolicy must be all or relay, got \(wire)")
  }
}

// The generated enums as the spec's strings (exhaustive: a new case fails to compile).
private func wire(_ state: SignalingState) -> String {
  switch state {
  case .connecting: return "connecting"
  case .connected: return "connected"
  case .reconnecting: return "reconnecting"
  case .disconnected: return "disconnected"
  }
}

private func wire(_ state: PeerState) -> String {
  switch state {
  case .connecting: return "connecting"
  case .connected: return "connected"
  case .interrupted: return "interrupted"
  case .closed: return "closed"
  case .failed: return "failed"
  }
}

private func wire(_ reason: LeaveReason) -> String {
  switch reason {
  case .left: return "left"
  case .disconnected: return "disconnected"
  case .timeout: return "timeout"
  }
}

private func wire(_ status: MessageStatus) -> String {
  switch status {
  case .pending: return "pending"
  case .sent: return "sent"
  case .delivered: return "delivered"
  case .failed: return "failed"
  }
}

private extension Peer {
  var dictionary: [String: Any] { ["peerId": peerId, "name": name] }
}

private extension RoomInfo {
  var dictionary: [String: Any] {
    ["code": code, "capacity": Int(capacity), "members": members.map { $0.dictionary }]
  }
}

private extension PeerChatError {
  /// The JS error code (the case in snake_case), the engine's text (`reason`) and, for
  /// `.Server`, the server's wire code (`room_not_found`, `room_full`, …).
  var failure: EngineFailure {
    switch self {
    case let .InvalidConfig(reason): return EngineFailure(code: "invalid_config", message: reason)
    case let .InvalidName(reason): return EngineFailure(code: "invalid_name", message: reason)
    case let .InvalidRoomCode(reason): return EngineFailure(code: "invalid_room_code", message: reason)
    case let .Signaling(reason): return EngineFailure(code: "signaling", message: reason)
    case let .Server(reason, code): return EngineFailure(code: "server", message: reason, serverCode: code)
    case let .AlreadyInRoom(reason): return EngineFailure(code: "already_in_room", message: reason)
    case let .NotInRoom(reason): return EngineFailure(code: "not_in_room", message: reason)
    case let .NoConnectedPeer(reason): return EngineFailure(code: "no_connected_peer", message: reason)
    case let .OutboxFull(reason, _): return EngineFailure(code: "outbox_full", message: reason)
    case let .EmptyMessage(reason): return EngineFailure(code: "empty_message", message: reason)
    case let .MessageTooLarge(reason, _, _): return EngineFailure(code: "message_too_large", message: reason)
    case let .WebRtc(reason, _): return EngineFailure(code: "web_rtc", message: reason)
    case let .PeerProtocol(reason, _): return EngineFailure(code: "peer_protocol", message: reason)
    case let .Timeout(reason, _, _): return EngineFailure(code: "timeout", message: reason)
    case let .Shutdown(reason): return EngineFailure(code: "shutdown", message: reason)
    case let .QueueFull(reason, _, _): return EngineFailure(code: "queue_full", message: reason)
    case let .Cancelled(reason): return EngineFailure(code: "cancelled", message: reason)
    case let .Store(reason): return EngineFailure(code: "store", message: reason)
    case let .UnknownMessage(reason, _): return EngineFailure(code: "unknown_message", message: reason)
    case let .UnknownPeer(reason, _): return EngineFailure(code: "unknown_peer", message: reason)
    }
  }
}
