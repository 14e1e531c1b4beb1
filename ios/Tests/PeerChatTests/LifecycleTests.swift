// XCTests of issue 9 items 5–6, mirroring bindings/kotlin/src/test/.../LifecycleTest.kt: releasing
// a client never blocks, `shutdown()` suspends without holding its thread, cancelling the Task of
// `joinRoom` leaves no member in the room. Run on macOS: `swift test` in ios/. NOT compiled or
// run on the machine that wrote them (no Swift toolchain there).

import XCTest
@testable import PeerChat

final class LifecycleTests: XCTestCase {
    private var server: SignalingServer!

    override func setUpWithError() throws {
        // A room of two: a seat left behind by a cancelled join would show.
        server = try SignalingServer(extraArguments: ["--room-capacity", "2"])
    }

    override func tearDown() {
        server?.stop()
    }

    private func connectedPair() async throws -> (PeerChatClient, PeerChatClient, EventLog, EventLog) {
        let alice = try PeerChatClient(config: loopbackConfig(server.url, "Alice"))
        let bob = try PeerChatClient(config: loopbackConfig(server.url, "Bob"))
        let aliceLog = await EventLog.start(alice)
        let bobLog = await EventLog.start(bob)
        let room = try await alice.createRoom()
        _ = try await bob.joinRoom(code: room.code)
        try await aliceLog.wait("Alice connected") { $0.contains { if case .peerStateChanged(_, .connected) = $0 { return true }; return false } }
        try await bobLog.wait("Bob connected") { $0.contains { if case .peerStateChanged(_, .connected) = $0 { return true }; return false } }
        return (alice, bob, aliceLog, bobLog)
    }

    func testReleasingAConnectedClientReturnsAtOnceAndTheServerSeesTheLeave() async throws {
        var (alice, bob, aliceLog, bobLog) = try await connectedPair()
        _ = bob
        let aliceId = try XCTUnwrap(alice.peerId)
        await aliceLog.stop()
        let started = DispatchTime.now().uptimeNanoseconds
        alice = try PeerChatClient(config: loopbackConfig(server.url, "Other"))  // the last reference to the old one goes
        let tookMs = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e6
        XCTAssertLessThan(tookMs, 50, "deinit took \(tookMs) ms")
        try await bobLog.wait("Bob sees Alice leave") {
            $0.contains { if case .peerLeft(aliceId, .left) = $0 { return true }; return false }
        }
    }

    func testShutdownSuspendsWithoutHoldingTheMainActor() async throws {
        let (alice, bob, _, _) = try await connectedPair()
        // While shutdown() is suspended, the main actor keeps running other work.
        let ticker = Task { @MainActor () -> Int in
            var ticks = 0
            while !Task.isCancelled { ticks += 1; await Task.yield() }
            return ticks
        }
        await MainActor.run {}  // the ticker is scheduled
        await alice.shutdown()
        ticker.cancel()
        let ticks = await ticker.value
        XCTAssertGreaterThan(ticks, 0)
        XCTAssertThrowsError(try alice.sendMessage("late")) { error in
            guard case PeerChatError.Shutdown = error else { return XCTFail("\(error)") }
        }
        await bob.shutdown()
    }

    func testCancellingAJoinTaskLeavesNoMemberInTheRoom() async throws {
        let alice = try PeerChatClient(config: loopbackConfig(server.url, "Alice"))
        let bob = try PeerChatClient(config: loopbackConfig(server.url, "Bob"))
        let carol = try PeerChatClient(config: loopbackConfig(server.url, "Carol"))
        let aliceLog = await EventLog.start(alice)
        let bobLog = await EventLog.start(bob)
        let room = try await alice.createRoom()
        try await bobLog.wait("Bob connected") { $0.contains(.signalingStateChanged(.connected)) }
        let join = Task { try await bob.joinRoom(code: room.code) }
        join.cancel()
        let result = await join.result
        if case .success(let joined) = result { XCTFail("the cancelled join returned \(joined)") }
        // Either the join never went out, or the engine left the room the server seated it in.
        let seated = await aliceLog.events.contains { if case .peerJoined = $0 { return true }; return false }
        if seated {
            try await aliceLog.wait("the engine left again") {
                $0.contains { if case .peerLeft(_, .left) = $0 { return true }; return false }
            }
        }
        XCTAssertNil(bob.roomCode)
        // Server side: the room of two has its seat free.
        let joined = try await carol.joinRoom(code: room.code)
        XCTAssertEqual(joined.members.count, 1)
        await alice.shutdown()
        await bob.shutdown()
        await carol.shutdown()
    }
}
