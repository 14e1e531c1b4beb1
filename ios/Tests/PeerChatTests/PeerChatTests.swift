// XCTests mirroring bindings/kotlin/src/test: two real engines chatting through a real
// `peerchat serve` on 127.0.0.1, and the typed errors. Run on macOS: `swift test` in ios/
// (after ios/build-xcframework.sh and `cargo build -p peerchat-cli`).

import XCTest
@testable import PeerChat

final class PeerChatTests: XCTestCase {
    private var server: SignalingServer!

    override func setUpWithError() throws {
        server = try SignalingServer()
    }

    override func tearDown() {
        server?.stop()
    }

    func testTwoClientsChatBothWaysInOrderAndSeeTheOtherLeave() async throws {
        let alice = try PeerChatClient(config: loopbackConfig(server.url, "Alice"))
        let bob = try PeerChatClient(config: loopbackConfig(server.url, "Bob"))
        let aliceLog = await EventLog.start(alice)
        let bobLog = await EventLog.start(bob)

        // Alice creates the room.
        let room = try await alice.createRoom()
        XCTAssertNotNil(room.code.range(of: #"^[2-9A-HJKMNP-TV-Z]{3}-[2-9A-HJKMNP-TV-Z]{3}-[2-9A-HJKMNP-TV-Z]{3}$"#,
                                        options: .regularExpression), room.code)
        XCTAssertEqual(room.members, [])
        XCTAssertEqual(alice.roomCode, room.code)
        try await aliceLog.wait("room_created") { $0.contains(.roomCreated(room)) }
        let aliceId = try XCTUnwrap(alice.peerId)

        // Bob joins with the code in lower case; each sees the other.
        let joined = try await bob.joinRoom(code: room.code.lowercased())
        XCTAssertEqual(joined.code, room.code)
        XCTAssertEqual(joined.members, [Peer(peerId: aliceId, name: "Alice")])
        let bobId = try XCTUnwrap(bob.peerId)
        XCTAssertNotEqual(aliceId, bobId)
        try await aliceLog.wait("Alice sees Bob join") {
            $0.contains(.peerJoined(Peer(peerId: bobId, name: "Bob")))
        }

        // Both data channels open.
        try await aliceLog.wait("Alice connected to Bob") { $0.contains { $0.isPeerState(bobId, .connected) } }
        try await bobLog.wait("Bob connected to Alice") { $0.contains { $0.isPeerState(aliceId, .connected) } }
        XCTAssertEqual(alice.connectedPeers, 1)
        XCTAssertEqual(alice.peers, [Peer(peerId: bobId, name: "Bob")])

        // Alice -> Bob: each once, in order, with ids, seq and sender.
        let fromAlice = ["hello Bob", "how are you?", "ünïcødé ✓ 🎉"]
        let aliceIds = try fromAlice.map { try alice.sendMessage($0) }
        XCTAssertEqual(Set(aliceIds).count, fromAlice.count)
        try await bobLog.wait("Bob receives Alice's messages") {
            $0.compactMap(\.receivedMessage).count >= fromAlice.count
        }
        let atBob = await bobLog.events.compactMap(\.receivedMessage)
        XCTAssertEqual(atBob.map(\.text), fromAlice)
        XCTAssertEqual(atBob.map(\.id), aliceIds)
        XCTAssertEqual(atBob.map(\.seq), [1, 2, 3])
        XCTAssertTrue(atBob.allSatisfy { $0.peerId == aliceId && $0.senderName == "Alice" })
        for id in aliceIds {
            try await aliceLog.wait("\(id) delivered") { $0.contains { $0.isStatus(id, .delivered) } }
        }

        // Bob -> Alice.
        let fromBob = ["fine, thanks", "and you?"]
        let bobIds = try fromBob.map { try bob.sendMessage($0) }
        try await aliceLog.wait("Alice receives Bob's messages") {
            $0.compactMap(\.receivedMessage).count >= fromBob.count
        }
        let atAlice = await aliceLog.events.compactMap(\.receivedMessage)
        XCTAssertEqual(atAlice.map(\.text), fromBob)
        XCTAssertEqual(atAlice.map(\.id), bobIds)
        XCTAssertEqual(atAlice.map(\.seq), [1, 2])

        // Bob leaves; Alice is told and is alone again.
        try await bob.leaveRoom()
        XCTAssertNil(bob.roomCode)
        try await aliceLog.wait("Alice sees Bob leave") {
            $0.contains(.peerLeft(peerId: bobId, reason: .left))
        }
        XCTAssertEqual(alice.peers, [])
        await assertThrowsPeerChatError("send after leaving", { _ = try bob.sendMessage("anyone?") }) {
            if case .NotInRoom = $0 { return true }
            return false
        }

        await aliceLog.stop()
        await bobLog.stop()
        await alice.shutdown()
        await bob.shutdown()
    }

    func testMalformedRoomCodeThrowsInvalidRoomCode() async throws {
        let eve = try PeerChatClient(config: loopbackConfig(server.url, "Eve"))
        for code in ["not a code!", "ABC-DEF", "ABC-DEF-GH0", ""] {
            await assertThrowsPeerChatError("join \(code)", { _ = try await eve.joinRoom(code: code) }) {
                if case .InvalidRoomCode(let reason) = $0 { return reason.hasPrefix("invalid room code") }
                return false
            }
        }
        await eve.shutdown()
    }

    func testUnknownRoomThrowsServerRoomNotFound() async throws {
        let eve = try PeerChatClient(config: loopbackConfig(server.url, "Eve"))
        await assertThrowsPeerChatError("join unknown room", { _ = try await eve.joinRoom(code: "ZZZ-ZZZ-ZZZ") }) {
            if case .Server(_, let code) = $0 { return code == "room_not_found" }
            return false
        }
        await eve.shutdown()
    }

    func testSendingWithNoRoomOrNoPeerThrowsNotInRoomThenNoConnectedPeer() async throws {
        let fay = try PeerChatClient(config: loopbackConfig(server.url, "Fay"))
        await assertThrowsPeerChatError("send outside a room", { _ = try fay.sendMessage("hello?") }) {
            if case .NotInRoom = $0 { return true }
            return false
        }
        _ = try await fay.createRoom()
        XCTAssertEqual(fay.connectedPeers, 0)
        await assertThrowsPeerChatError("send alone in a room", { _ = try fay.sendMessage("hello?") }) {
            if case .NoConnectedPeer = $0 { return true }
            return false
        }
        await fay.shutdown()
        await assertThrowsPeerChatError("create after shutdown", { _ = try await fay.createRoom() }) {
            if case .Shutdown = $0 { return true }
            return false
        }
    }

    func testOversizedMessageThrowsMessageTooLargeWithSizes() async throws {
        let gus = try PeerChatClient(config: loopbackConfig(server.url, "Gus"))
        let max = maxMessageBytes()
        XCTAssertEqual(max, 16 * 1024)
        let text = String(repeating: "x", count: Int(max) + 1)
        await assertThrowsPeerChatError("oversized", { _ = try gus.sendMessage(text) }) {
            if case .MessageTooLarge(_, let size, let limit) = $0 {
                return size == UInt64(max) + 1 && limit == UInt64(max)
            }
            return false
        }
        await gus.shutdown()
    }

    func testBadConfigThrowsFromInit() {
        let good = loopbackConfig("ws://127.0.0.1:9/ws", "Jo")
        XCTAssertThrowsError(try PeerChatClient(config: EngineConfig(
            signalingUrl: "http://127.0.0.1:9/ws", displayName: "Jo"))) { error in
            guard case .InvalidConfig = error as? PeerChatError else { return XCTFail("\(error)") }
        }
        XCTAssertThrowsError(try PeerChatClient(config: EngineConfig(
            signalingUrl: good.signalingUrl, displayName: ""))) { error in
            guard case .InvalidName = error as? PeerChatError else { return XCTFail("\(error)") }
        }
        let defaults = EngineConfig(signalingUrl: good.signalingUrl, displayName: "Kim")
        XCTAssertEqual(defaults.signalingTimeoutMs, 10_000)
        XCTAssertEqual(defaults.peerConnectTimeoutMs, 30_000)
        XCTAssertTrue(defaults.resolveMdnsCandidates)
    }

    func testReadmeExampleJoinsGreetsAndReturnsTheReply() async throws {
        let bea = try PeerChatClient(config: loopbackConfig(server.url, "Bea"))
        let log = await EventLog.start(bea)
        let room = try await bea.createRoom()
        let url = server.url
        let ada = Task { try await joinAndGreet(serverUrl: url, code: room.code) }
        try await log.wait("Ada's greeting") { $0.contains { $0.receivedMessage?.text == "hello from Swift" } }
        let received = await log.events.compactMap(\.receivedMessage)
        let hello = try XCTUnwrap(received.first)
        XCTAssertEqual(hello.senderName, "Ada")
        try await log.wait("Bea connected to Ada") { $0.contains { $0.isPeerState(hello.peerId, .connected) } }
        try bea.sendMessage("hello Ada")
        let reply = try await ada.value
        XCTAssertEqual(reply?.text, "hello Ada")
        XCTAssertEqual(reply?.senderName, "Bea")
        await log.stop()
        await bea.shutdown()
    }

    @MainActor
    func testEventsArriveOnTheConsumingActor() async throws {
        let max = try PeerChatClient(config: loopbackConfig(server.url, "Max"))
        // Deadline: shutting down finishes the stream, which ends the loop below.
        let deadline = Task.detached {
            try await Task.sleep(nanoseconds: eventTimeoutNs)
            await max.shutdown()
        }
        var connected = false
        for await event in max.events {
            // The listener ran on an engine thread; the stream hands the event to this
            // main-actor task.
            XCTAssertTrue(Thread.isMainThread)
            if event == .signalingStateChanged(.connected) {
                connected = true
                break
            }
        }
        deadline.cancel()
        XCTAssertTrue(connected, "no .connected before the deadline")
        _ = try await max.createRoom()
        XCTAssertTrue(Thread.isMainThread)
        await max.shutdown()
    }
}
