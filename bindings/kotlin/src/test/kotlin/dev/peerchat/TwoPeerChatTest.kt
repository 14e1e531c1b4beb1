package dev.peerchat

import dev.peerchat.PeerChatEvent.MessageReceived
import dev.peerchat.PeerChatEvent.MessageStatusChanged
import dev.peerchat.PeerChatEvent.PeerJoined
import dev.peerchat.PeerChatEvent.PeerLeft
import dev.peerchat.PeerChatEvent.PeerStateChanged
import dev.peerchat.PeerChatEvent.RoomCreated
import dev.peerchat.PeerChatEvent.RoomJoined
import dev.peerchat.ffi.LeaveReason
import dev.peerchat.ffi.MessageStatus
import dev.peerchat.ffi.Peer
import dev.peerchat.ffi.PeerChatException
import dev.peerchat.ffi.PeerState
import java.util.concurrent.TimeUnit
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.AfterAll
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertNotEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.BeforeAll
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.TestInstance
import org.junit.jupiter.api.Timeout

/** Two real engines chatting through a real `peerchat serve` over WebRTC on loopback. */
@Timeout(120, unit = TimeUnit.SECONDS)
class TwoPeerChatTest : WithSignalingServer() {

    @Test
    fun `two clients create and join a room, chat both ways in order, and see the other leave`() = runBlocking<Unit> {
        PeerChatClient(loopbackConfig(server.url, "Alice")).use { alice ->
            PeerChatClient(loopbackConfig(server.url, "Bob")).use { bob ->
                val aliceLog = EventLog(alice, this)
                val bobLog = EventLog(bob, this)
                try {
                    // Alice creates the room.
                    val room = alice.createRoom()
                    assertTrue(ROOM_CODE.matches(room.code), "room code ${room.code}")
                    assertEquals(emptyList<Peer>(), room.members)
                    assertTrue(room.capacity >= 2u, "capacity ${room.capacity}")
                    assertEquals(room.code, alice.roomCode)
                    aliceLog.await<RoomCreated>("room_created") { it.room == room }
                    val aliceId = checkNotNull(alice.peerId)

                    // Bob joins with the code typed in lower case; he sees Alice, she sees him.
                    val joined = bob.joinRoom(room.code.lowercase())
                    assertEquals(room.code, joined.code)
                    assertEquals(listOf(Peer(aliceId, "Alice")), joined.members)
                    bobLog.await<RoomJoined>("room_joined") { it.room == joined }
                    val bobId = checkNotNull(bob.peerId)
                    assertNotEquals(aliceId, bobId)
                    aliceLog.await<PeerJoined>("Alice sees Bob join") { it.peer == Peer(bobId, "Bob") }

                    // Both data channels open.
                    aliceLog.await<PeerStateChanged>("Alice connected to Bob") {
                        it.peerId == bobId && it.state == PeerState.CONNECTED
                    }
                    bobLog.await<PeerStateChanged>("Bob connected to Alice") {
                        it.peerId == aliceId && it.state == PeerState.CONNECTED
                    }
                    assertEquals(1, alice.connectedPeers)
                    assertEquals(listOf(Peer(bobId, "Bob")), alice.peers)
                    assertEquals(listOf(Peer(aliceId, "Alice")), bob.peers)

                    // Alice -> Bob: delivered once each, in order, with ids, seq and sender.
                    val fromAlice = listOf("hello Bob", "how are you?", "ünïcødé ✓ 🎉")
                    val aliceIds = fromAlice.map { alice.sendMessage(it) }
                    assertEquals(fromAlice.size, aliceIds.toSet().size, "ids are unique")
                    val atBob = bobLog.awaitAll<MessageReceived>(fromAlice.size, "Bob receives Alice's messages")
                    assertEquals(fromAlice, atBob.map { it.message.text })
                    assertEquals(aliceIds, atBob.map { it.message.id })
                    assertEquals(listOf(1uL, 2uL, 3uL), atBob.map { it.message.seq })
                    assertTrue(atBob.all { it.message.peerId == aliceId && it.message.senderName == "Alice" })
                    for (id in aliceIds) {
                        aliceLog.await<MessageStatusChanged>("$id delivered to Bob") {
                            it.messageId == id && it.peerId == bobId && it.status == MessageStatus.DELIVERED
                        }
                    }
                    // Per message: SENT is reported before DELIVERED.
                    for (id in aliceIds) {
                        val statuses = aliceLog.events.filterIsInstance<MessageStatusChanged>()
                            .filter { it.messageId == id }.map { it.status }
                        assertEquals(listOf(MessageStatus.SENT, MessageStatus.DELIVERED), statuses, "statuses of $id")
                    }

                    // Bob -> Alice.
                    val fromBob = listOf("fine, thanks", "and you?")
                    val bobIds = fromBob.map { bob.sendMessage(it) }
                    val atAlice = aliceLog.awaitAll<MessageReceived>(fromBob.size, "Alice receives Bob's messages")
                    assertEquals(fromBob, atAlice.map { it.message.text })
                    assertEquals(bobIds, atAlice.map { it.message.id })
                    assertEquals(listOf(1uL, 2uL), atAlice.map { it.message.seq })
                    assertTrue(atAlice.all { it.message.peerId == bobId && it.message.senderName == "Bob" })
                    // Nothing arrived twice.
                    assertEquals(fromAlice.size, bobLog.events.count { it is MessageReceived })

                    // Bob leaves: Alice is told, and is alone again.
                    bob.leaveRoom()
                    assertEquals(null, bob.roomCode)
                    aliceLog.await<PeerLeft>("Alice sees Bob leave") {
                        it.peerId == bobId && it.reason == LeaveReason.LEFT
                    }
                    assertEquals(emptyList<Peer>(), alice.peers)
                    assertThrowsSuspend<PeerChatException.NotInRoom> { bob.sendMessage("anyone?") }
                } finally {
                    aliceLog.stop()
                    bobLog.stop()
                }
            }
        }
    }

    @Test
    fun `a client that shuts down is reported as gone and refuses further calls`() = runBlocking<Unit> {
        PeerChatClient(loopbackConfig(server.url, "Carol")).use { carol ->
            PeerChatClient(loopbackConfig(server.url, "Dan")).use { dan ->
                val carolLog = EventLog(carol, this)
                try {
                    val room = carol.createRoom()
                    dan.joinRoom(room.code)
                    val danId = checkNotNull(dan.peerId)
                    carolLog.await<PeerStateChanged>("Carol connected to Dan") {
                        it.peerId == danId && it.state == PeerState.CONNECTED
                    }
                    dan.shutdown()
                    carolLog.await<PeerLeft>("Carol sees Dan go") { it.peerId == danId }
                    assertThrowsSuspend<PeerChatException.Shutdown> { dan.createRoom() }
                    assertThrowsSuspend<PeerChatException.Shutdown> { dan.sendMessage("hi") }
                } finally {
                    carolLog.stop()
                }
            }
        }
    }
}

/** Canonical room code: three groups of three symbols of the code alphabet. */
val ROOM_CODE = Regex("^[23456789ABCDEFGHJKMNPQRSTVWXYZ]{3}-[23456789ABCDEFGHJKMNPQRSTVWXYZ]{3}-[23456789ABCDEFGHJKMNPQRSTVWXYZ]{3}$")

/** Runs [block] and returns the exception of type [T] it throws; fails if it throws nothing or another. */
suspend inline fun <reified T : Throwable> assertThrowsSuspend(crossinline block: suspend () -> Unit): T {
    try {
        block()
    } catch (e: Throwable) {
        if (e is T) return e
        throw AssertionError("expected ${T::class.qualifiedName}, got $e", e)
    }
    throw AssertionError("expected ${T::class.qualifiedName}, nothing was thrown")
}
