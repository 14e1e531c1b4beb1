package dev.peerchat

import dev.peerchat.PeerChatEvent.SignalingStateChanged
import dev.peerchat.ffi.ChatMessage
import dev.peerchat.ffi.Engine
import dev.peerchat.ffi.EngineListener
import dev.peerchat.ffi.LeaveReason
import dev.peerchat.ffi.MessageStatus
import dev.peerchat.ffi.Peer
import dev.peerchat.ffi.PeerChatException
import dev.peerchat.ffi.PeerState
import dev.peerchat.ffi.RoomInfo
import dev.peerchat.ffi.SignalingState
import java.util.concurrent.CompletableFuture
import java.util.concurrent.Executors
import java.util.concurrent.TimeUnit
import kotlinx.coroutines.asCoroutineDispatcher
import kotlinx.coroutines.flow.first
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withContext
import kotlinx.coroutines.withTimeout
import org.junit.jupiter.api.AfterAll
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertNotEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.BeforeAll
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.TestInstance
import org.junit.jupiter.api.Timeout

/**
 * The documented threading contract: the raw listener runs on an engine thread; the Kotlin
 * layer's flow and suspend functions resume in the caller's context.
 */
class ThreadingTest : WithSignalingServer() {

    @Test
    fun `the raw listener is called on an engine thread, not the caller's`() {
        val connectedOn = CompletableFuture<Thread>()
        val listener = object : EngineListener {
            override fun onSignalingState(state: SignalingState) {
                if (state == SignalingState.Connected) connectedOn.complete(Thread.currentThread())
            }
            override fun onRoomCreated(room: RoomInfo) {}
            override fun onRoomJoined(room: RoomInfo) {}
            override fun onPeerJoined(peer: Peer) {}
            override fun onPeerState(peerId: String, state: PeerState) {}
            override fun onPeerLeft(peerId: String, reason: LeaveReason) {}
            override fun onPeerInterrupted(peerId: String) {}
            override fun onPeerResumed(peerId: String) {}
            override fun onMessage(message: ChatMessage) {}
            override fun onMessageStatus(messageId: String, peerId: String, status: MessageStatus) {}
            override fun onError(error: PeerChatException) {}

            override fun onHistoryMessage(message: ChatMessage) {}
        }
        Engine(loopbackConfig(server.url, "Lee"), listener).use { engine ->
            val thread = connectedOn.get(EVENT_TIMEOUT_MS, TimeUnit.MILLISECONDS)
            assertNotEquals(Thread.currentThread(), thread, "listener ran on the caller's thread")
            assertTrue(engine.peerId() != null)
            engine.shutdownNow()
        }
    }

    @Test
    fun `events and suspend calls resume on the collector's own thread`() {
        val executor = Executors.newSingleThreadExecutor { r -> Thread(r, "app-main") }
        try {
            runBlocking(executor.asCoroutineDispatcher()) {
                PeerChatClient(loopbackConfig(server.url, "Max")).use { max ->
                    val event = withTimeout(EVENT_TIMEOUT_MS) {
                        max.events.first { it is SignalingStateChanged && it.state == SignalingState.Connected }
                    }
                    assertOnAppMain("collected $event")
                    val room = max.createRoom()
                    assertOnAppMain("resumed after createRoom")
                    assertTrue(ROOM_CODE.matches(room.code))
                    withContext(kotlinx.coroutines.Dispatchers.Default) { max.leaveRoom() }
                    assertOnAppMain("resumed after leaveRoom on another dispatcher")
                    max.shutdown()
                    assertOnAppMain("resumed after shutdown")
                }
            }
        } finally {
            executor.shutdown()
        }
    }

    @Test
    fun `a listener that throws does not stop the engine`() {
        val createdOn = CompletableFuture<RoomInfo>()
        val listener = object : EngineListener {
            override fun onSignalingState(state: SignalingState) = throw IllegalStateException("app bug")
            override fun onRoomCreated(room: RoomInfo) {
                createdOn.complete(room)
            }
            override fun onRoomJoined(room: RoomInfo) {}
            override fun onPeerJoined(peer: Peer) {}
            override fun onPeerState(peerId: String, state: PeerState) {}
            override fun onPeerLeft(peerId: String, reason: LeaveReason) {}
            override fun onPeerInterrupted(peerId: String) {}
            override fun onPeerResumed(peerId: String) {}
            override fun onMessage(message: ChatMessage) {}
            override fun onMessageStatus(messageId: String, peerId: String, status: MessageStatus) {}
            override fun onError(error: PeerChatException) {}

            override fun onHistoryMessage(message: ChatMessage) {}
        }
        Engine(loopbackConfig(server.url, "Ned"), listener).use { engine ->
            val room = runBlocking { engine.createRoom() }
            assertEquals(room, createdOn.get(EVENT_TIMEOUT_MS, TimeUnit.MILLISECONDS))
            engine.shutdownNow()
        }
    }

    // kotlinx-coroutines' debug mode (on under -ea) appends " @coroutine#N" to thread names.
    private fun assertOnAppMain(what: String) {
        val name = Thread.currentThread().name
        assertTrue(name == "app-main" || name.startsWith("app-main @"), "$what: on thread $name")
    }
}
