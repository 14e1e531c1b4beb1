// The ONLY file that names the Swift bindings uniffi generates for bindings/ (types Engine,
// EngineConfig, EngineListener, PeerChatError, …). Their exact Swift names are provisional until
// bindings/ lands: align them here and nowhere else. PeerChatImpl.swift uses the plain types below.
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
  let signalingTimeoutMs: UInt64
  let peerConnectTimeoutMs: UInt64
}

/// The listener callbacks as JS-ready dictionaries: (event name of the spec, body without
/// `engineId`). Called on engine threads.
typealias EngineEventSink = (_ event: String, _ body: [String: Any]) -> Void

/// One running engine; every call throws `EngineFailure`.
final class EngineHandle {
  private let engine: Engine

  init(config: EngineConfigData, sink: @escaping EngineEventSink) throws {
    do {
      engine = try Engine(
        config: EngineConfig(
          signalingUrl: config.signalingUrl,
          displayName: config.displayName,
          iceServers: config.iceServers.map {
            IceServer(urls: $0.urls, username: $0.username, credential: $0.credential)
          },
          iceUdpAddrs: config.iceUdpAddrs,
          signalingTimeoutMs: config.signalingTimeoutMs,
          peerConnectTimeoutMs: config.peerConnectTimeoutMs),
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

  func sendMessage(text: String) throws -> String {
    do { return try engine.sendMessage(text: text) } catch let e as PeerChatError { throw e.failure }
  }

  func leaveRoom() async throws {
    do { try await engine.leaveRoom() } catch let e as PeerChatError { throw e.failure }
  }

  func shutdown() {
    engine.shutdown()
  }
}

private final class ListenerBridge: EngineListener {
  private let sink: EngineEventSink
  init(sink: @escaping EngineEventSink) { self.sink = sink }

  func onSignalingState(state: SignalingState) { sink("onSignalingState", ["state": wire(state)]) }
  func onRoomCreated(room: RoomInfo) { sink("onRoomCreated", ["room": room.dictionary]) }
  func onRoomJoined(room: RoomInfo) { sink("onRoomJoined", ["room": room.dictionary]) }
  func onPeerJoined(peer: Peer) { sink("onPeerJoined", ["peer": peer.dictionary]) }
  func onPeerState(peerId: String, state: PeerState) {
    sink("onPeerState", ["peerId": peerId, "state": wire(state)])
  }
  func onPeerLeft(peerId: String, reason: LeaveReason) {
    sink("onPeerLeft", ["peerId": peerId, "reason": wire(reason)])
  }
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
}

/// Swift enum case (`roomFull`) to the wire's snake_case (`room_full`).
private func wire<T>(_ value: T) -> String {
  var out = ""
  for ch in String(describing: value) {
    if ch.isUppercase { out += "_" + ch.lowercased() } else { out.append(ch) }
  }
  return out
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
  var failure: EngineFailure {
    let text = String(describing: self)
    switch self {
    case .InvalidConfig: return EngineFailure(code: "invalid_config", message: text)
    case .InvalidName: return EngineFailure(code: "invalid_name", message: text)
    case .InvalidRoomCode: return EngineFailure(code: "invalid_room_code", message: text)
    case .Signaling: return EngineFailure(code: "signaling", message: text)
    case let .Server(code, message):
      return EngineFailure(code: "server", message: message, serverCode: wire(code))
    case .AlreadyInRoom: return EngineFailure(code: "already_in_room", message: text)
    case .NotInRoom: return EngineFailure(code: "not_in_room", message: text)
    case .NoConnectedPeer: return EngineFailure(code: "no_connected_peer", message: text)
    case .EmptyMessage: return EngineFailure(code: "empty_message", message: text)
    case .MessageTooLarge: return EngineFailure(code: "message_too_large", message: text)
    case .WebRtc: return EngineFailure(code: "web_rtc", message: text)
    case .PeerProtocol: return EngineFailure(code: "peer_protocol", message: text)
    case .Timeout: return EngineFailure(code: "timeout", message: text)
    case .Shutdown: return EngineFailure(code: "shutdown", message: text)
    }
  }
}
