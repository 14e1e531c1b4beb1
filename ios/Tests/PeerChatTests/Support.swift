// Test support: a real `peerchat serve` process, loopback configs, and an event log to wait on
// with a deadline. macOS only (Foundation.Process).

import Foundation
import XCTest
@testable import PeerChat

/// Longest wait for one event (ns): loopback peer connection setup takes well under this.
let eventTimeoutNs: UInt64 = 20_000_000_000

/// Longest wait for `peerchat serve` to print its address (s).
let serverStartTimeoutS: TimeInterval = 30

/// The `peerchat` binary (cargo build -p peerchat-cli): $PEERCHAT_BIN, else
/// $CARGO_TARGET_DIR/debug/peerchat, else <repo>/target/debug/peerchat.
func peerchatBinary() -> String {
    let env = ProcessInfo.processInfo.environment
    if let bin = env["PEERCHAT_BIN"], !bin.isEmpty { return bin }
    let repo = URL(fileURLWithPath: #filePath)  // ios/Tests/PeerChatTests/Support.swift
        .deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()
    let targetDir = env["CARGO_TARGET_DIR"].flatMap { $0.isEmpty ? nil : $0 }
        ?? repo.appendingPathComponent("target").path
    return targetDir + "/debug/peerchat"
}

/// A real `peerchat serve` on 127.0.0.1, on `port` (0: a free one).
final class SignalingServer {
    let url: String
    private let process: Process

    /// The TCP port of `url`.
    var port: Int {
        Int(url.split(separator: ":").last!.split(separator: "/").first!)!
    }

    init(port: Int = 0, extraArguments: [String] = []) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: peerchatBinary())
        process.arguments = ["serve", "--bind", "127.0.0.1", "--port", String(port)] + extraArguments
        var environment = ProcessInfo.processInfo.environment
        environment.removeValue(forKey: "PORT")
        process.environment = environment
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe

        let found = DispatchSemaphore(value: 0)
        let state = LockedOutput()
        // Drain the output for the process's whole life, so it never blocks on a full pipe.
        pipe.fileHandleForReading.readabilityHandler = { handle in
            let data = handle.availableData
            if data.isEmpty {
                handle.readabilityHandler = nil
                found.signal()
                return
            }
            if state.append(String(decoding: data, as: UTF8.self)) { found.signal() }
        }
        try process.run()
        guard found.wait(timeout: .now() + serverStartTimeoutS) == .success, let url = state.url else {
            process.terminate()
            throw ServerError.noAddress(output: state.text)
        }
        self.process = process
        self.url = url
    }

    func stop() {
        process.terminate()
        process.waitUntilExit()
    }

    /// SIGKILLs the server (no close frames: as a crash) and waits until it is gone.
    func kill() {
        Darwin.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    enum ServerError: Error {
        case noAddress(output: String)
    }
}

/// Output of the server so far and the address parsed from it.
private final class LockedOutput: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var text = ""
    private(set) var url: String?

    /// Appends output; returns true the first time the address line is complete.
    func append(_ chunk: String) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        text += chunk
        guard url == nil else { return false }
        let pattern = #"listening on (ws://127\.0\.0\.1:[0-9]+/ws)\n"#
        guard let regex = try? NSRegularExpression(pattern: pattern),
              let match = regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)),
              let range = Range(match.range(at: 1), in: text) else { return false }
        url = String(text[range])
        return true
    }
}

/// A loopback-only config: ICE on 127.0.0.1, no ICE servers, no mDNS.
func loopbackConfig(_ url: String, _ name: String) -> EngineConfig {
    EngineConfig(signalingUrl: url, displayName: name, iceServers: [],
                 iceUdpAddrs: ["127.0.0.1:0"], resolveMdnsCandidates: false)
}

struct TimedOut: Error, CustomStringConvertible {
    let what: String
    let events: [PeerChatEvent]
    var description: String { "timed out waiting for \(what); events: \(events)" }
}

/// Collects every event of a client and lets a test wait, with a deadline, until the events
/// seen so far satisfy a condition. Nothing is dropped, so order can be checked afterwards.
actor EventLog {
    private(set) var events: [PeerChatEvent] = []
    private var waiters: [UUID: Waiter] = [:]
    private var pump: Task<Void, Never>?

    private struct Waiter {
        let satisfied: @Sendable ([PeerChatEvent]) -> Bool
        let continuation: CheckedContinuation<Void, Error>
    }

    static func start(_ client: PeerChatClient) async -> EventLog {
        let log = EventLog()
        await log.consume(client.events)
        return log
    }

    private func consume(_ stream: BoundedEventStream) {
        pump = Task { [weak self] in
            for await event in stream { await self?.append(event) }
        }
    }

    private func append(_ event: PeerChatEvent) {
        events.append(event)
        for (id, waiter) in waiters where waiter.satisfied(events) {
            waiters.removeValue(forKey: id)
            waiter.continuation.resume()
        }
    }

    /// Returns once `satisfied(events)` holds; throws `TimedOut` after `timeoutNs`.
    func wait(_ what: String, timeoutNs: UInt64 = eventTimeoutNs,
              until satisfied: @escaping @Sendable ([PeerChatEvent]) -> Bool) async throws {
        if satisfied(events) { return }
        let id = UUID()
        let deadline = Task { [weak self] in
            try await Task.sleep(nanoseconds: timeoutNs)  // a deadline, not synchronisation
            await self?.expire(id, what)
        }
        defer { deadline.cancel() }
        try await withCheckedThrowingContinuation { continuation in
            waiters[id] = Waiter(satisfied: satisfied, continuation: continuation)
        }
    }

    private func expire(_ id: UUID, _ what: String) {
        waiters.removeValue(forKey: id)?.continuation.resume(throwing: TimedOut(what: what, events: events))
    }

    func stop() { pump?.cancel() }
}

extension PeerChatEvent {
    var receivedMessage: ChatMessage? {
        if case .messageReceived(let message) = self { return message }
        return nil
    }

    func isPeerState(_ peerId: String, _ state: PeerState) -> Bool {
        if case .peerStateChanged(peerId, state) = self { return true }
        return false
    }

    var isReconnecting: Bool {
        if case .signalingStateChanged(.reconnecting(_, _)) = self { return true }
        return false
    }

    func isPeerLeft(_ peerId: String) -> Bool {
        if case .peerLeft(peerId, _) = self { return true }
        return false
    }

    func isStatus(_ messageId: String, _ status: MessageStatus) -> Bool {
        if case .messageStatusChanged(messageId, _, status) = self { return true }
        return false
    }
}

/// Asserts that `body` throws a `PeerChatError` accepted by `matches`.
func assertThrowsPeerChatError(_ what: String, _ body: () async throws -> Void,
                               file: StaticString = #filePath, line: UInt = #line,
                               matches: (PeerChatError) -> Bool) async {
    do {
        try await body()
        XCTFail("\(what): nothing was thrown", file: file, line: line)
    } catch let error as PeerChatError {
        XCTAssertTrue(matches(error), "\(what): got \(error)", file: file, line: line)
    } catch {
        XCTFail("\(what): expected a PeerChatError, got \(error)", file: file, line: line)
    }
}
