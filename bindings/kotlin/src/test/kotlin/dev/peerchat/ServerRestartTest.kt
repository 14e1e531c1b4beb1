package dev.peerchat

import dev.peerchat.PeerChatEvent.MessageReceived
import dev.peerchat.PeerChatEvent.MessageStatusChanged
import dev.peerchat.PeerChatEvent.PeerLeft
import dev.peerchat.PeerChatEvent.PeerStateChanged
import dev.peerchat.PeerChatEvent.SignalingStateChanged
import dev.peerchat.ffi.MessageStatus
import dev.peerchat.ffi.PeerState
import dev.peerchat.ffi.SignalingState
import java.util.concurrent.TimeUnit
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertNotEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.BeforeAll
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.TestInstance
import org.junit.jupiter.api.Timeout

/**
 * The signaling server is SIGKILLed mid-chat and a new `peerchat serve` is started on the same
 * port: both Kotlin clients report `Reconnecting`, keep chatting over their data channel while
 * the server is gone, then report `Connected` again, back in their room (under the same code,
 * on the new server) with the same peer as before, and the chat goes on; nothing is lost,
 * duplicated or reported as left.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(120, unit = TimeUnit.SECONDS)
class ServerRestartTest {

    @BeforeAll
    fun selectLibrary() = NativeBuild.useHostLibrary()

    @Test
    fun `clients reconnect after the server is killed and restarted, and the chat goes on`() = runBlocking<Unit> {
        // Capacity 3, so that a third client can check afterwards who is in the room.
        var server = SignalingServer.start(0, "--room-capacity", "3")
        try {
            PeerChatClient(loopbackConfig(server.url, "Alice")).use { alice ->
                PeerChatClient(loopbackConfig(server.url, "Bob")).use { bob ->
                    val aliceLog = EventLog(alice, this)
                    val bobLog = EventLog(bob, this)
                    try {
                        val room = alice.createRoom()
                        bob.joinRoom(room.code)
                        val aliceId = checkNotNull(alice.peerId)
                        val bobId = checkNotNull(bob.peerId)
                        aliceLog.await<PeerStateChanged>("Alice connected to Bob") {
                            it.peerId == bobId && it.state == PeerState.CONNECTED
                        }
                        bobLog.await<PeerStateChanged>("Bob connected to Alice") {
                            it.peerId == aliceId && it.state == PeerState.CONNECTED
                        }
                        alice.sendMessage("before the crash")
                        bobLog.await<MessageReceived>("Bob gets the first message") { it.message.text == "before the crash" }

                        // The server dies without a word.
                        val port = server.port
                        server.kill()
                        for ((name, log) in listOf("Alice" to aliceLog, "Bob" to bobLog)) {
                            val reconnecting = log.await<SignalingStateChanged>("$name reconnecting") {
                                it.state is SignalingState.Reconnecting
                            }.state as SignalingState.Reconnecting
                            assertTrue(reconnecting.attempt >= 1u, "$name: attempt ${reconnecting.attempt}")
                            assertTrue(reconnecting.nextRetryMs <= 5_000uL, "$name: next retry ${reconnecting.nextRetryMs} ms")
                        }
                        assertTrue(alice.signalingState.value is SignalingState.Reconnecting, "Alice's state ${alice.signalingState.value}")

                        // The data channel does not need the server.
                        alice.sendMessage("while the server is down")
                        bobLog.await<MessageReceived>("Bob gets a message sent while the server is down") {
                            it.message.text == "while the server is down"
                        }

                        // A new server process on the same port: it knows no session, so both
                        // start fresh sessions and re-enter the room by its code.
                        server = SignalingServer.start(port, "--room-capacity", "3")
                        val restartedAt = System.nanoTime()
                        for ((name, log) in listOf("Alice" to aliceLog, "Bob" to bobLog)) {
                            log.awaitMatching("$name: Reconnecting, then Connected", EVENT_TIMEOUT_MS) { events ->
                                val states = events.filterIsInstance<SignalingStateChanged>().map { it.state }
                                val firstReconnecting = states.indexOfFirst { it is SignalingState.Reconnecting }
                                states.drop(firstReconnecting + 1).indexOf(SignalingState.Connected)
                                    .takeIf { firstReconnecting >= 0 && it >= 0 }
                            }
                        }
                        val backMs = (System.nanoTime() - restartedAt) / 1_000_000
                        println("ServerRestartTest: both clients Connected ${backMs} ms after the new server listened")
                        assertEquals(SignalingState.Connected, alice.signalingState.value)
                        assertEquals(room.code, alice.roomCode)
                        assertEquals(room.code, bob.roomCode)
                        // Same peers, under the ids the app already knew.
                        assertEquals(listOf(bobId), alice.peers.map { it.peerId })
                        assertEquals(listOf(aliceId), bob.peers.map { it.peerId })
                        assertNotEquals(aliceId, alice.peerId, "a restarted server cannot resume: new session, new id")

                        // The chat goes on both ways, each message once, delivered.
                        val fromBob = bob.sendMessage("after the restart")
                        aliceLog.await<MessageReceived>("Alice gets Bob's message after the restart") {
                            it.message.text == "after the restart" && it.message.peerId == bobId
                        }
                        bobLog.await<MessageStatusChanged>("Bob's message delivered") {
                            it.messageId == fromBob && it.status == MessageStatus.DELIVERED
                        }
                        alice.sendMessage("still here")
                        bobLog.await<MessageReceived>("Bob gets Alice's message after the restart") {
                            it.message.text == "still here" && it.message.peerId == aliceId
                        }
                        assertEquals(
                            listOf("before the crash", "while the server is down", "still here"),
                            bobLog.events.filterIsInstance<MessageReceived>().map { it.message.text },
                        )
                        assertEquals(
                            listOf("after the restart"),
                            aliceLog.events.filterIsInstance<MessageReceived>().map { it.message.text },
                        )

                        // The new server seats both in the room under its old code. Carol comes
                        // and goes: what Alice and Bob see of her (joined, connecting, left, closed,
                        // depending on how far her setup got) is not about their connection.
                        var carolId: String? = null
                        PeerChatClient(loopbackConfig(server.url, "Carol")).use { carol ->
                            val joined = carol.joinRoom(room.code)
                            carolId = carol.peerId
                            assertEquals(listOf("Alice", "Bob"), joined.members.map { it.name }.sorted())
                            carol.shutdown()
                        }
                        assertEquals(emptyList<PeerLeft>(), aliceLog.events.filterIsInstance<PeerLeft>().filter { it.peerId == bobId })
                        assertEquals(emptyList<PeerLeft>(), bobLog.events.filterIsInstance<PeerLeft>().filter { it.peerId != carolId })
                        assertTrue(
                            (aliceLog.events + bobLog.events).filterIsInstance<PeerStateChanged>()
                                .filter { it.peerId != carolId }
                                .none { it.state == PeerState.FAILED || it.state == PeerState.INTERRUPTED || it.state == PeerState.CLOSED },
                            "no peer connection was lost",
                        )
                    } finally {
                        aliceLog.stop()
                        bobLog.stop()
                    }
                }
            }
        } finally {
            server.close()
        }
    }
}
