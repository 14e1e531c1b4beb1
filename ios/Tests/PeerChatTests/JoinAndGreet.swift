// The Swift example of bindings/README.md, verbatim between the markers (the test suite checks
// that the README quotes exactly this); testReadmeExample runs it against a real server.

// README-EXAMPLE-START
import PeerChat

/// Joins room `code` on `serverUrl`, says hello once connected, and returns the first reply.
func joinAndGreet(serverUrl: String, code: String) async throws -> ChatMessage? {
    let chat = try PeerChatClient(config: EngineConfig(
        signalingUrl: serverUrl,  // e.g. "ws://127.0.0.1:7777/ws"
        displayName: "Ada",
        iceUdpAddrs: ["127.0.0.1:0"],  // loopback only; leave out to use every interface
        resolveMdnsCandidates: false))
    // Throws PeerChatError.InvalidRoomCode, .Server(code: "room_not_found"), ...
    _ = try await chat.joinRoom(code: code)
    var reply: ChatMessage?
    // Events are delivered in this task's context, never on the engine's threads.
    for await event in chat.events {
        switch event {
        case .peerStateChanged(_, .connected):
            try chat.sendMessage("hello from Swift")
        case .messageReceived(let message):
            reply = message
        default:
            break
        }
        if reply != nil { break }
    }
    await chat.shutdown()
    return reply
}
// README-EXAMPLE-END
