// The signaling server is SIGKILLed mid-chat and a new `peerchat serve` started on the same
// port (mirrors bindings/kotlin/src/test/.../ServerRestartTest.kt). Run on macOS: `swift test`.

import XCTest
@testable import PeerChat

final class ServerRestartTests: XCTestCase {
    func testClientsReconnectAfterTheServerIsKilledAndRestartedAndTheChatGoesOn() async throws {
        var server = try SignalingServer(extraArguments: ["--room-capacity", "3"])
        defer { server.stop() }
        let alice = try PeerChatClient(config: loopbackConfig(server.url, "Alice"))
        let bob = try PeerChatClient(config: loopbackConfig(server.url, "Bob"))
        let aliceLog = await EventLog.start(alice)
        let bobLog = await EventLog.start(bob)

        let room = try await alice.createRoom()
        _ = try await bob.joinRoom(code: room.code)
        let aliceId = try XCTUnwrap(alice.peerId)
        let bobId = try XCTUnwrap(bob.peerId)
        try await aliceLog.wait("Alice connected to Bob") { $0.contains { $0.isPeerState(bobId, .connected) } }
        try await bobLog.wait("Bob connected to Alice") { $0.contains { $0.isPeerState(aliceId, .connected) } }

        // The server dies without a word; both report Reconnecting with a bounded delay.
        let port = server.port
        server.kill()
        for log in [aliceLog, bobLog] {
            try await log.wait("reconnecting") { $0.contains { $0.isReconnecting } }
            for case .signalingStateChanged(.reconnecting(let attempt, let nextRetryMs)) in await log.events {
                XCTAssertGreaterThanOrEqual(attempt, 1)
                XCTAssertLessThanOrEqual(nextRetryMs, 5_000)
            }
        }
        if case .reconnecting = alice.signalingState {} else {
            XCTFail("Alice's signalingState is \(alice.signalingState)")
        }

        // The data channel does not need the server.
        try alice.sendMessage("while the server is down")
        try await bobLog.wait("Bob gets a message while the server is down") {
            $0.compactMap(\.receivedMessage).contains { $0.text == "while the server is down" }
        }

        // A new server on the same port: fresh sessions, the room re-entered by its code.
        server = try SignalingServer(port: port, extraArguments: ["--room-capacity", "3"])
        for log in [aliceLog, bobLog] {
            try await log.wait("Reconnecting, then Connected") { events in
                guard let first = events.firstIndex(where: { $0.isReconnecting }) else { return false }
                return events[first...].contains(.signalingStateChanged(.connected))
            }
        }
        XCTAssertEqual(alice.signalingState, .connected)
        XCTAssertEqual(alice.roomCode, room.code)
        XCTAssertEqual(bob.roomCode, room.code)
        XCTAssertEqual(alice.peers.map(\.peerId), [bobId], "the same peer, under the id the app knew")
        XCTAssertNotEqual(alice.peerId, aliceId, "a restarted server cannot resume: a new session")

        try bob.sendMessage("after the restart")
        try await aliceLog.wait("Alice gets Bob's message after the restart") {
            $0.compactMap(\.receivedMessage).contains { $0.text == "after the restart" && $0.peerId == bobId }
        }

        // The new server seats both in the room under its old code.
        let carol = try PeerChatClient(config: loopbackConfig(server.url, "Carol"))
        let joined = try await carol.joinRoom(code: room.code)
        XCTAssertEqual(joined.members.map(\.name).sorted(), ["Alice", "Bob"])
        await carol.shutdown()

        let leaves = await (aliceLog.events + bobLog.events).filter { $0.isPeerLeft(aliceId) || $0.isPeerLeft(bobId) }
        XCTAssertEqual(leaves, [])
        await alice.shutdown()
        await bob.shutdown()
        await aliceLog.stop()
        await bobLog.stop()
    }
}
