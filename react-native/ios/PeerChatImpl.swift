// The PeerChat Turbo Module's work, called from PeerChat.mm. One engine per engineId.
// Calls run in Swift tasks off the main thread; promises are settled from there (React Native
// accepts that). Listener callbacks arrive on engine threads and go to `emit`, which the .mm
// routes to the codegen `emitOn…` methods.
import Foundation
import React

@objc(PeerChatImpl)
public final class PeerChatImpl: NSObject {
  public typealias Emit = (String, [String: Any]) -> Void

  private let emit: Emit
  private let lock = NSLock()
  private var engines: [String: EngineHandle] = [:]

  @objc public init(emit: @escaping Emit) {
    self.emit = emit
  }

  private func engine(_ id: String) throws -> EngineHandle {
    lock.lock()
    defer { lock.unlock() }
    guard let handle = engines[id] else {
      throw EngineFailure(code: "shutdown", message: "no engine \(id) (destroyed or never created)")
    }
    return handle
  }

  private func settle(
    _ resolve: @escaping RCTPromiseResolveBlock, _ reject: @escaping RCTPromiseRejectBlock,
    _ body: @escaping () async throws -> Any?
  ) {
    Task.detached {
      do {
        resolve(try await body())
      } catch let failure as EngineFailure {
        var info: [String: Any] = ["code": failure.code]
        if let serverCode = failure.serverCode { info["serverCode"] = serverCode }
        reject(failure.code, failure.message,
               NSError(domain: "PeerChat", code: 1, userInfo: info))
      } catch {
        reject("native", error.localizedDescription,
               NSError(domain: "PeerChat", code: 2, userInfo: ["code": "native"]))
      }
    }
  }

  @objc public func createEngine(
    _ engineId: String, signalingUrl: String, displayName: String, iceServers: [[String: Any]],
    iceUdpAddrs: [String], resolveMdnsCandidates: Bool, signalingTimeoutMs: Double,
    peerConnectTimeoutMs: Double, caCertPem: String?, authToken: String?, iceTransportPolicy: String?,
    resolve: @escaping RCTPromiseResolveBlock, reject: @escaping RCTPromiseRejectBlock
  ) {
    settle(resolve, reject) { [self] in
      for (key, value) in [("signalingTimeoutMs", signalingTimeoutMs), ("peerConnectTimeoutMs", peerConnectTimeoutMs)]
      where !(value >= 0 && value == value.rounded() && value < 1.8e19) {
        throw EngineFailure(code: "invalid_config", message: "config.\(key) must be a whole number of ms, got \(value)")
      }
      let config = EngineConfigData(
        signalingUrl: signalingUrl, displayName: displayName,
        iceServers: iceServers.map {
          IceServerData(urls: $0["urls"] as? [String] ?? [], username: $0["username"] as? String,
                        credential: $0["credential"] as? String)
        },
        iceUdpAddrs: iceUdpAddrs,
        resolveMdnsCandidates: resolveMdnsCandidates,
        signalingTimeoutMs: UInt64(signalingTimeoutMs),
        peerConnectTimeoutMs: UInt64(peerConnectTimeoutMs),
        caCertPem: caCertPem,
        authToken: authToken,
        iceTransportPolicy: iceTransportPolicy)
      let emit = self.emit
      let handle = try EngineHandle(config: config) { event, body in
        var tagged = body
        tagged["engineId"] = engineId
        emit(event, tagged)
      }
      lock.lock()
      let taken = engines[engineId] != nil
      if !taken { engines[engineId] = handle }
      lock.unlock()
      if taken {
        handle.shutdown()
        throw EngineFailure(code: "invalid_config", message: "engine id \(engineId) is already in use")
      }
      return nil
    }
  }

  @objc public func createRoom(
    _ engineId: String, resolve: @escaping RCTPromiseResolveBlock, reject: @escaping RCTPromiseRejectBlock
  ) {
    settle(resolve, reject) { try await self.engine(engineId).createRoom() }
  }

  @objc public func joinRoom(
    _ engineId: String, code: String, resolve: @escaping RCTPromiseResolveBlock,
    reject: @escaping RCTPromiseRejectBlock
  ) {
    settle(resolve, reject) { try await self.engine(engineId).joinRoom(code: code) }
  }

  @objc public func sendMessage(
    _ engineId: String, text: String, resolve: @escaping RCTPromiseResolveBlock,
    reject: @escaping RCTPromiseRejectBlock
  ) {
    settle(resolve, reject) { try self.engine(engineId).sendMessage(text: text) }
  }

  @objc public func leaveRoom(
    _ engineId: String, resolve: @escaping RCTPromiseResolveBlock, reject: @escaping RCTPromiseRejectBlock
  ) {
    settle(resolve, reject) {
      try await self.engine(engineId).leaveRoom()
      return nil
    }
  }

  @objc public func peers(
    _ engineId: String, resolve: @escaping RCTPromiseResolveBlock, reject: @escaping RCTPromiseRejectBlock
  ) {
    settle(resolve, reject) { try self.engine(engineId).peers() }
  }

  @objc public func connectedPeers(
    _ engineId: String, resolve: @escaping RCTPromiseResolveBlock, reject: @escaping RCTPromiseRejectBlock
  ) {
    settle(resolve, reject) { try self.engine(engineId).connectedPeers() }
  }

  @objc public func roomCode(
    _ engineId: String, resolve: @escaping RCTPromiseResolveBlock, reject: @escaping RCTPromiseRejectBlock
  ) {
    settle(resolve, reject) { try self.engine(engineId).roomCode() }
  }

  @objc public func peerId(
    _ engineId: String, resolve: @escaping RCTPromiseResolveBlock, reject: @escaping RCTPromiseRejectBlock
  ) {
    settle(resolve, reject) { try self.engine(engineId).peerId() }
  }

  /// Returns at once: the engine's teardown runs on its own background thread.
  @objc public func destroyEngine(_ engineId: String) {
    lock.lock()
    let handle = engines.removeValue(forKey: engineId)
    lock.unlock()
    handle?.shutdown()
  }

  @objc public func shutdownEngine(
    _ engineId: String, resolve: @escaping RCTPromiseResolveBlock, reject: @escaping RCTPromiseRejectBlock
  ) {
    lock.lock()
    let handle = engines.removeValue(forKey: engineId)
    lock.unlock()
    settle(resolve, reject) {
      await handle?.shutdownAndWait()
      return nil
    }
  }

  private func existing(_ id: String) -> EngineHandle? {
    lock.lock()
    defer { lock.unlock() }
    return engines[id]
  }

  @objc public func pauseEngine(_ engineId: String) { existing(engineId)?.pause() }
  @objc public func resumeEngine(_ engineId: String) { existing(engineId)?.resume() }
  @objc public func networkChanged(_ engineId: String) { existing(engineId)?.networkChanged() }

  /// Called from the module's `invalidate` (on the thread tearing React down): never blocks,
  /// each shutdown returns at once.
  @objc public func destroyAll() {
    lock.lock()
    let all = Array(engines.values)
    engines.removeAll()
    lock.unlock()
    for handle in all { handle.shutdown() }
  }
}
