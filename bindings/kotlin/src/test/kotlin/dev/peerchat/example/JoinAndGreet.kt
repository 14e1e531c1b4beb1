// The Kotlin example of bindings/README.md, verbatim between the markers (the test suite checks
// that the README quotes exactly this); ReadmeExampleTest runs it against a real server.
package dev.peerchat.example

// README-EXAMPLE-START
import dev.peerchat.PeerChatClient
import dev.peerchat.PeerChatEvent
import dev.peerchat.ffi.ChatMessage
import dev.peerchat.ffi.EngineConfig
import dev.peerchat.ffi.PeerState
import kotlinx.coroutines.flow.filterIsInstance
import kotlinx.coroutines.flow.first
import kotlinx.coroutines.withTimeout

/** Joins room [code] on [serverUrl], says hello once connected, and returns the first reply. */
suspend fun joinAndGreet(serverUrl: String, code: String): ChatMessage {
    val config = EngineConfig(
        signalingUrl = serverUrl, // e.g. "ws://127.0.0.1:7777/ws"
        displayName = "Ada",
        iceUdpAddrs = listOf("127.0.0.1:0"), // loopback only; leave out to use every interface
        resolveMdnsCandidates = false,
    )
    PeerChatClient(config).use { chat ->
        chat.joinRoom(code) // throws PeerChatException.InvalidRoomCode, .Server(code = "room_not_found"), ...
        // Events are delivered in this coroutine's context, never on the engine's threads.
        val reply = withTimeout(20_000) {
            chat.events.first { it is PeerChatEvent.PeerStateChanged && it.state == PeerState.CONNECTED }
            chat.sendMessage("hello from Kotlin")
            chat.events.filterIsInstance<PeerChatEvent.MessageReceived>().first().message
        }
        chat.shutdown()
        return reply
    }
}
// README-EXAMPLE-END
