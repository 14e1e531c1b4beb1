package dev.peerchat

import dev.peerchat.PeerChatEvent.MessageReceived
import dev.peerchat.PeerChatEvent.PeerStateChanged
import dev.peerchat.example.joinAndGreet
import dev.peerchat.ffi.PeerState
import java.util.concurrent.TimeUnit
import kotlinx.coroutines.async
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeout
import org.junit.jupiter.api.AfterAll
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.BeforeAll
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.TestInstance
import org.junit.jupiter.api.Timeout

/** Runs the README's Kotlin example against a real server and a second client. */
class ReadmeExampleTest : WithSignalingServer() {

    @Test
    fun `the README example joins, greets and returns the reply`() = runBlocking<Unit> {
        PeerChatClient(loopbackConfig(server.url, "Bea")).use { bea ->
            val log = EventLog(bea, this)
            try {
                val room = bea.createRoom()
                val ada = async { joinAndGreet(server.url, room.code) }
                val hello = log.await<MessageReceived>("Ada's greeting").message
                assertEquals("hello from Kotlin", hello.text)
                assertEquals("Ada", hello.senderName)
                log.await<PeerStateChanged>("Bea connected to Ada") {
                    it.peerId == hello.peerId && it.state == PeerState.CONNECTED
                }
                bea.sendMessage("hello Ada")
                val reply = withTimeout(EVENT_TIMEOUT_MS) { ada.await() }
                assertEquals("hello Ada", reply.text)
                assertEquals("Bea", reply.senderName)
            } finally {
                log.stop()
            }
        }
    }
}
