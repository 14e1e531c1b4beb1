package dev.peerchat

import dev.peerchat.PeerChatEvent.MessageReceived
import dev.peerchat.PeerChatEvent.PeerInterrupted
import dev.peerchat.PeerChatEvent.PeerLeft
import dev.peerchat.PeerChatEvent.PeerResumed
import dev.peerchat.PeerChatEvent.PeerStateChanged
import dev.peerchat.PeerChatEvent.SignalingStateChanged
import dev.peerchat.ffi.LeaveReason
import dev.peerchat.ffi.PeerState
import dev.peerchat.ffi.SignalingState
import dev.peerchat.testing.TcpProxy
import java.util.concurrent.TimeUnit
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.AfterAll
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.BeforeAll
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.TestInstance
import org.junit.jupiter.api.Timeout

/**
 * One client's signaling goes through a TCP proxy the test owns, to a real `peerchat serve`
 * with a short session grace period: cutting the proxy's connections makes that client resume
 * its session (same peer id) while its room mate sees `PeerInterrupted`, then `PeerResumed`;
 * closing the proxy for good makes the room mate see `PeerLeft` with `LeaveReason.TIMEOUT`
 * once the grace period ran out.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(120, unit = TimeUnit.SECONDS)
class SessionResumeTest {
    /** The server's `--session-grace-ms` here: long enough for a resume, short for the test. */
    private val graceMs = 3_000L
    private lateinit var server: SignalingServer

    @BeforeAll
    fun startServer() {
        NativeBuild.useHostLibrary()
        server = SignalingServer.start(0, "--session-grace-ms", graceMs.toString())
    }

    @AfterAll
    fun stopServer() = server.close()

    @Test
    fun `a cut signaling connection resumes the same session, the room mate sees interrupted then resumed`() = runBlocking<Unit> {
        TcpProxy(server.port).use { proxy ->
            PeerChatClient(loopbackConfig(server.url, "Alice")).use { alice ->
                PeerChatClient(loopbackConfig("ws://127.0.0.1:${proxy.port}/ws", "Bob")).use { bob ->
                    val aliceLog = EventLog(alice, this)
                    val bobLog = EventLog(bob, this)
                    try {
                        val room = alice.createRoom()
                        bob.joinRoom(room.code)
                        val bobId = checkNotNull(bob.peerId)
                        aliceLog.await<PeerStateChanged>("Alice connected to Bob") {
                            it.peerId == bobId && it.state == PeerState.CONNECTED
                        }
                        bobLog.await<PeerStateChanged>("Bob connected to Alice") { it.state == PeerState.CONNECTED }

                        proxy.cutAll()
                        val retry = bobLog.await<SignalingStateChanged>("Bob reconnecting") {
                            it.state is SignalingState.Reconnecting
                        }.state as SignalingState.Reconnecting
                        assertEquals(1u, retry.attempt)
                        assertTrue(retry.nextRetryMs <= 250uL, "first retry ${retry.nextRetryMs} ms")
                        aliceLog.await<PeerInterrupted>("Alice sees Bob interrupted") { it.peerId == bobId }
                        aliceLog.await<PeerResumed>("Alice sees Bob resume") { it.peerId == bobId }
                        bobLog.awaitMatching("Bob: Reconnecting, then Connected", EVENT_TIMEOUT_MS) { events ->
                            val states = events.filterIsInstance<SignalingStateChanged>().map { it.state }
                            val first = states.indexOfFirst { it is SignalingState.Reconnecting }
                            states.drop(first + 1).indexOf(SignalingState.Connected).takeIf { first >= 0 && it >= 0 }
                        }
                        assertEquals(bobId, bob.peerId, "same session, same peer id")
                        val order = aliceLog.events.filter { it is PeerInterrupted || it is PeerResumed }
                        assertEquals(listOf(PeerInterrupted(bobId), PeerResumed(bobId)), order)

                        alice.sendMessage("still with me?")
                        bobLog.await<MessageReceived>("Bob gets a message after the cut") { it.message.text == "still with me?" }
                        assertTrue(aliceLog.events.none { it is PeerLeft }, "${aliceLog.events}")
                    } finally {
                        aliceLog.stop()
                        bobLog.stop()
                    }
                }
            }
        }
    }

    @Test
    fun `a peer that never comes back leaves with reason TIMEOUT after the grace period`() = runBlocking<Unit> {
        val proxy = TcpProxy(server.port)
        PeerChatClient(loopbackConfig(server.url, "Cleo")).use { cleo ->
            PeerChatClient(loopbackConfig("ws://127.0.0.1:${proxy.port}/ws", "Dan")).use { dan ->
                val cleoLog = EventLog(cleo, this)
                try {
                    val room = cleo.createRoom()
                    dan.joinRoom(room.code)
                    val danId = checkNotNull(dan.peerId)
                    cleoLog.await<PeerStateChanged>("Cleo connected to Dan") {
                        it.peerId == danId && it.state == PeerState.CONNECTED
                    }
                    // Dan can no longer reach the server at all.
                    proxy.close()
                    cleoLog.await<PeerInterrupted>("Cleo sees Dan interrupted") { it.peerId == danId }
                    val interruptedAt = System.nanoTime()
                    cleoLog.await<PeerLeft>("Cleo sees Dan time out", timeoutMs = graceMs + EVENT_TIMEOUT_MS) {
                        it.peerId == danId
                    }.also { assertEquals(LeaveReason.TIMEOUT, it.reason) }
                    val afterMs = (System.nanoTime() - interruptedAt) / 1_000_000
                    assertTrue(afterMs >= graceMs - 500, "peer_left came ${afterMs} ms after peer_interrupted")
                    assertTrue(cleoLog.events.none { it is PeerResumed }, "${cleoLog.events}")
                } finally {
                    cleoLog.stop()
                }
            }
        }
    }
}
