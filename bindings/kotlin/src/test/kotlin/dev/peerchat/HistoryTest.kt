package dev.peerchat

import dev.peerchat.PeerChatEvent.MessageReceived
import dev.peerchat.PeerChatEvent.MessageStatusChanged
import dev.peerchat.PeerChatEvent.PeerStateChanged
import dev.peerchat.ffi.Conversation
import dev.peerchat.ffi.MessageStatus
import dev.peerchat.ffi.PeerChatException
import dev.peerchat.ffi.PeerState
import dev.peerchat.ffi.StoredStatus
import java.nio.file.Files
import java.util.concurrent.TimeUnit
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertThrows
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.Timeout

/**
 * Saved chats through the Kotlin layer: a real engine with `dataDir`, restarted on the same
 * directory, shows its history; the safety code matches on both sides.
 */
@Timeout(120, unit = TimeUnit.SECONDS)
class HistoryTest : WithSignalingServer() {

    @Test
    fun `history survives a restart on the same dataDir, pages and deletes, and both sides see one safety code`() = runBlocking<Unit> {
        val dir = Files.createTempDirectory("peerchat-kotlin-history").toFile()
        try {
            val config = loopbackConfig(server.url, "Alice").copy(dataDir = dir.path)
            lateinit var conversation: Conversation
            lateinit var sent: String
            PeerChatClient(config).use { alice ->
                PeerChatClient(loopbackConfig(server.url, "Bob")).use { bob ->
                    val aliceLog = EventLog(alice, this)
                    val bobLog = EventLog(bob, this)
                    try {
                        val room = alice.createRoom()
                        bob.joinRoom(room.code)
                        aliceLog.await<PeerStateChanged>("Alice connected") { it.state == PeerState.CONNECTED }
                        bobLog.await<PeerStateChanged>("Bob connected") { it.state == PeerState.CONNECTED }
                        conversation = checkNotNull(alice.conversation)
                        assertEquals(Conversation.Room(room.code), conversation)

                        assertEquals(
                            alice.safetyCode(checkNotNull(bob.peerId)),
                            bob.safetyCode(checkNotNull(alice.peerId)),
                        )
                        assertThrows(PeerChatException.UnknownPeer::class.java) {
                            runBlocking { alice.safetyCode("nobody") }
                        }

                        sent = alice.sendMessage("saved on Alice's phone")
                        aliceLog.await<MessageStatusChanged>("delivered") {
                            it.messageId == sent && it.status == MessageStatus.DELIVERED
                        }
                        bob.sendMessage("and Bob's answer")
                        aliceLog.await<MessageReceived>("Bob's answer")
                        alice.shutdown()
                    } finally {
                        aliceLog.stop()
                        bobLog.stop()
                    }
                }
            }

            // The app restarts: same directory, no room.
            PeerChatClient(config).use { alice ->
                val page = alice.history(conversation, before = null, limit = 10)
                assertEquals(listOf("saved on Alice's phone", "and Bob's answer"), page.messages.map { it.text })
                assertEquals(sent, page.messages[0].id)
                assertEquals(StoredStatus.DELIVERED, page.messages[0].status)
                assertEquals(StoredStatus.RECEIVED, page.messages[1].status)
                assertFalse(page.hasMore)
                val older = alice.history(conversation, before = page.messages[1].id, limit = 10)
                assertEquals(listOf(sent), older.messages.map { it.id })
                assertThrows(PeerChatException.UnknownMessage::class.java) {
                    runBlocking { alice.history(conversation, before = "no-such-id") }
                }
                assertEquals(2L, alice.deleteConversation(conversation))
                assertEquals(0, alice.history(conversation).messages.size)
            }
        } finally {
            dir.deleteRecursively()
        }
    }
}
