package dev.peerchat

import dev.peerchat.PeerChatEvent.SignalingStateChanged
import dev.peerchat.ffi.EngineConfig
import dev.peerchat.ffi.IceServer
import dev.peerchat.ffi.IceTransportPolicy
import dev.peerchat.ffi.PeerChatException
import dev.peerchat.ffi.SignalingState
import dev.peerchat.ffi.maxMessageBytes
import dev.peerchat.ffi.maxNameChars
import java.util.concurrent.TimeUnit
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.AfterAll
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.BeforeAll
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.TestInstance
import org.junit.jupiter.api.Timeout
import org.junit.jupiter.api.assertThrows

/** Every misuse surfaces as a typed [PeerChatException] subclass carrying a readable reason. */
class ErrorsTest : WithSignalingServer() {

    @Test
    fun `a malformed room code throws InvalidRoomCode`() = runBlocking<Unit> {
        PeerChatClient(loopbackConfig(server.url, "Eve")).use { eve ->
            for (code in listOf("not a code!", "ABC-DEF", "ABC-DEF-GH0", "")) {
                val e = assertThrowsSuspend<PeerChatException.InvalidRoomCode> { eve.joinRoom(code) }
                assertTrue(e.reason.startsWith("invalid room code"), "reason of $code: ${e.reason}")
                assertTrue(e.message!!.contains(e.reason), "message ${e.message}")
            }
            assertEquals(null, eve.roomCode)
        }
    }

    @Test
    fun `an unknown room throws Server with the code room_not_found`() = runBlocking<Unit> {
        PeerChatClient(loopbackConfig(server.url, "Eve")).use { eve ->
            val e = assertThrowsSuspend<PeerChatException.Server> { eve.joinRoom("ZZZ-ZZZ-ZZZ") }
            assertEquals("room_not_found", e.code)
            assertTrue(e.reason.isNotBlank())
        }
    }

    @Test
    fun `sending with no room or no connected peer throws NotInRoom then NoConnectedPeer`() = runBlocking<Unit> {
        PeerChatClient(loopbackConfig(server.url, "Fay")).use { fay ->
            assertThrowsSuspend<PeerChatException.NotInRoom> { fay.sendMessage("hello?") }
            fay.createRoom()
            assertEquals(0, fay.connectedPeers)
            val e = assertThrowsSuspend<PeerChatException.NoConnectedPeer> { fay.sendMessage("hello?") }
            assertEquals("no peer is connected", e.reason)
            assertThrowsSuspend<PeerChatException.AlreadyInRoom> { fay.createRoom() }
        }
    }

    @Test
    fun `empty and oversized messages throw EmptyMessage and MessageTooLarge with sizes`() = runBlocking<Unit> {
        PeerChatClient(loopbackConfig(server.url, "Gus")).use { gus ->
            assertThrowsSuspend<PeerChatException.EmptyMessage> { gus.sendMessage("") }
            val max = maxMessageBytes()
            assertEquals(16u * 1024u, max)
            val tooLarge = "x".repeat(max.toInt() + 1)
            val e = assertThrowsSuspend<PeerChatException.MessageTooLarge> { gus.sendMessage(tooLarge) }
            assertEquals(max.toULong() + 1uL, e.size)
            assertEquals(max.toULong(), e.max)
        }
    }

    @Test
    fun `leaving with no room throws NotInRoom`() = runBlocking<Unit> {
        PeerChatClient(loopbackConfig(server.url, "Hal")).use { hal ->
            assertThrowsSuspend<PeerChatException.NotInRoom> { hal.leaveRoom() }
        }
    }

    @Test
    fun `a server that is not there gives a typed error and Reconnecting with backoff, not a hang`() = runBlocking<Unit> {
        // A port nothing listens on: take a free one from the OS and close it.
        val port = java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress()).use { it.localPort }
        val config = loopbackConfig("ws://127.0.0.1:$port/ws", "Ivy").copy(signalingTimeoutMs = 2_000uL)
        PeerChatClient(config).use { ivy ->
            val log = EventLog(ivy, this)
            try {
                val e = assertThrowsSuspend<PeerChatException> { ivy.createRoom() }
                assertTrue(
                    e is PeerChatException.Signaling || e is PeerChatException.Timeout,
                    "expected Signaling or Timeout, got $e",
                )
                log.await<SignalingStateChanged>("signaling connecting") { it.state == SignalingState.Connecting }
                // The engine keeps dialling by itself: attempts 1, 2, ... with full-jitter delays
                // under the backoff cap of the attempt (250 ms × 2^(n-1), at most 5000 ms).
                val retries = log.awaitAll<SignalingStateChanged>(3, "three Reconnecting states") {
                    it.state is SignalingState.Reconnecting
                }.map { it.state as SignalingState.Reconnecting }
                assertEquals(listOf(1u, 2u, 3u), retries.map { it.attempt })
                for (r in retries) {
                    val cap = minOf(5_000uL, 250uL shl (r.attempt.toInt() - 1))
                    assertTrue(r.nextRetryMs <= cap, "attempt ${r.attempt}: ${r.nextRetryMs} ms > cap $cap ms")
                }
                assertTrue(ivy.signalingState.value is SignalingState.Reconnecting, "${ivy.signalingState.value}")
                assertEquals(null, ivy.peerId)
            } finally {
                log.stop()
            }
        }
    }

    @Test
    fun `a bad config throws InvalidConfig or InvalidName from the constructor`() {
        NativeBuild.useHostLibrary()
        val good = loopbackConfig("ws://127.0.0.1:9/ws", "Jo")
        assertThrows<PeerChatException.InvalidConfig> {
            PeerChatClient(good.copy(signalingUrl = "http://127.0.0.1:9/ws"))
        }
        assertThrows<PeerChatException.InvalidConfig> {
            PeerChatClient(good.copy(iceUdpAddrs = listOf("localhost")))
        }
        assertThrows<PeerChatException.InvalidConfig> {
            PeerChatClient(good.copy(iceServers = listOf(IceServer(urls = listOf("http://stun.invalid")))))
        }
        // ICE transport policy RELAY needs a TURN server.
        val relay = assertThrows<PeerChatException.InvalidConfig> {
            PeerChatClient(good.copy(iceTransportPolicy = IceTransportPolicy.RELAY))
        }
        assertTrue(relay.reason.contains("relay"), relay.reason)
        assertThrows<PeerChatException.InvalidConfig> { PeerChatClient(good.copy(signalingTimeoutMs = 0uL)) }
        val ca = assertThrows<PeerChatException.InvalidConfig> { PeerChatClient(good.copy(caCertPem = "not a certificate")) }
        assertTrue(ca.reason.contains("ca_cert_pem"), ca.reason)
        val e = assertThrows<PeerChatException.InvalidName> { PeerChatClient(good.copy(displayName = "")) }
        assertTrue(e.reason.startsWith("invalid name"), e.reason)
        assertThrows<PeerChatException.InvalidName> { PeerChatClient(good.copy(displayName = "x".repeat(33))) }
    }

    @Test
    fun `config defaults are the documented ones`() {
        val config = EngineConfig(signalingUrl = "ws://127.0.0.1:9/ws", displayName = "Kim")
        assertEquals(10_000uL, config.signalingTimeoutMs)
        assertEquals(30_000uL, config.peerConnectTimeoutMs)
        assertEquals(emptyList<IceServer>(), config.iceServers)
        assertEquals(emptyList<String>(), config.iceUdpAddrs)
        assertEquals(true, config.resolveMdnsCandidates)
        assertEquals(null, config.iceTransportPolicy) // null means ALL, as in the W3C API
        assertEquals(null, config.caCertPem) // web roots only
    }

    @Test
    fun `exported limits are the core's`() {
        NativeBuild.useHostLibrary()
        assertEquals(16u * 1024u, maxMessageBytes())
        assertEquals(32u, maxNameChars())
        val atLimit = loopbackConfig("ws://127.0.0.1:9/ws", "n".repeat(maxNameChars().toInt()))
        PeerChatClient(atLimit).close()
    }
}
