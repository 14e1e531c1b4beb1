package com.peerchat

import dev.peerchat.ffi.PeerChatException
import dev.peerchat.testing.TcpProxy
import java.util.concurrent.TimeUnit
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.AfterAll
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNotEquals
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertThrows
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.BeforeAll
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.TestInstance
import org.junit.jupiter.api.Timeout

/**
 * The React Native module's engine adapter (android/src/main/java/com/peerchat/EngineAdapter.kt)
 * driven against the real engine (libpeerchat_ffi via the generated Kotlin bindings) and a real
 * `peerchat serve` on 127.0.0.1; the only stand-in is [RecordingEvents], the React Native bridge.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(120, unit = TimeUnit.SECONDS)
class EngineAdapterTest {
  private lateinit var server: SignalingServer

  @BeforeAll
  fun startServer() {
    NativeBuild.useHostLibrary()
    server = SignalingServer.start()
  }

  @AfterAll fun stopServer() = server.close()

  /** Starts an engine through the adapter and waits until its signaling is connected. */
  private fun start(name: String, url: String = server.url): Pair<EngineHandle, RecordingEvents> {
    val events = RecordingEvents()
    val handle = EngineHandle.start(loopbackConfig(url, name), events)
    events.await("onSignalingState", "$name's signaling connected") { it["state"] == "connected" }
    return handle to events
  }

  @Test
  fun `two adapters create and join a room, chat, see delivered and peer_left, on engine threads`() = runBlocking<Unit> {
    val testThread = Thread.currentThread().name
    val (alice, aliceEvents) = start("Alice")
    val (bob, bobEvents) = start("Bob")
    try {
      val room = alice.createRoom()
      assertTrue(Regex("^[A-Z0-9]{3}-[A-Z0-9]{3}-[A-Z0-9]{3}$").matches(room.code), room.code)
      assertTrue(room.capacity >= 2, "capacity ${room.capacity}")
      assertEquals(emptyList<PeerData>(), room.members)
      aliceEvents.await("onRoomCreated", "room_created") { it["room"] == room }

      val joined = bob.joinRoom(room.code.lowercase())
      assertEquals(room.code, joined.code)
      assertEquals(listOf("Alice"), joined.members.map { it.name })
      val aliceId = joined.members.single().peerId
      bobEvents.await("onRoomJoined", "room_joined") { it["room"] == joined }
      val bobId =
        (aliceEvents.await("onPeerJoined", "Alice sees Bob join") { (it["peer"] as PeerData).name == "Bob" }
            .body["peer"] as PeerData)
          .peerId
      assertNotEquals(aliceId, bobId)

      aliceEvents.await("onPeerState", "Alice connected to Bob") { it["peerId"] == bobId && it["state"] == "connected" }
      bobEvents.await("onPeerState", "Bob connected to Alice") { it["peerId"] == aliceId && it["state"] == "connected" }

      // The engine's state getters, as JS reads them (peers, connectedPeers, roomCode, peerId).
      assertEquals(room.code, alice.roomCode())
      assertEquals(room.code, bob.roomCode())
      assertEquals(listOf(PeerData(bobId, "Bob")), alice.peers())
      assertEquals(listOf(PeerData(aliceId, "Alice")), bob.peers())
      assertEquals(1, alice.connectedPeers())
      assertEquals(aliceId, alice.peerId())
      assertEquals(bobId, bob.peerId())

      // Limits are checked and mapped before anything is sent.
      assertFailure("empty_message") { alice.sendMessage("") }
      assertFailure("message_too_large") { alice.sendMessage("x".repeat(16_385)) }

      val id = alice.sendMessage("hello from React Native ✓")
      val received =
        bobEvents.await("onMessage", "Bob receives the message") { (it["message"] as MessageData).id == id }
          .body["message"] as MessageData
      assertEquals("hello from React Native ✓", received.text)
      assertEquals(aliceId, received.peerId)
      assertEquals("Alice", received.senderName)
      assertEquals(1L, received.seq)
      assertTrue(received.sentAtMs > 1_600_000_000_000L, "sentAtMs ${received.sentAtMs}")
      aliceEvents.await("onMessageStatus", "delivered to Bob") {
        it["messageId"] == id && it["peerId"] == bobId && it["status"] == "delivered"
      }

      bob.leaveRoom()
      aliceEvents.await("onPeerLeft", "Alice sees Bob leave") { it["peerId"] == bobId && it["reason"] == "left" }
      assertNull(bob.roomCode())
      assertEquals(emptyList<PeerData>(), bob.peers())
      assertEquals(0, bob.connectedPeers())
      assertFailure("not_in_room") { bob.sendMessage("anyone?") }

      // Every callback came on an engine thread, never on the caller's thread.
      val threads = (aliceEvents.events + bobEvents.events).map { it.thread }.toSet()
      assertFalse(testThread in threads, "callbacks ran on the test thread: $threads")
      assertTrue(aliceEvents.events.none { it.name == "onError" }, "errors: ${aliceEvents.events}")
    } finally {
      alice.shutdown()
      bob.shutdown()
    }
    // Idempotent.
    alice.shutdown()
    assertFailure("shutdown") { alice.roomCode() }
  }

  @Test
  fun `a cut signaling connection reports reconnecting with attempt and delay, then connected, and the room mate sees interrupted then resumed`() = runBlocking<Unit> {
    val port = Regex(""":(\d+)/ws$""").find(server.url)!!.groupValues[1].toInt()
    TcpProxy(port).use { proxy ->
      val (alice, aliceEvents) = start("Alice")
      val (bob, bobEvents) = start("Bob", "ws://127.0.0.1:${proxy.port}/ws")
      try {
        val room = alice.createRoom()
        bob.joinRoom(room.code)
        val bobId = aliceEvents.await("onPeerJoined", "Alice sees Bob") { true }.body["peer"].let { (it as PeerData).peerId }
        aliceEvents.await("onPeerState", "Alice connected to Bob") { it["peerId"] == bobId && it["state"] == "connected" }
        bobEvents.await("onPeerState", "Bob connected to Alice") { it["state"] == "connected" }

        // The network drops Bob's WebSocket (no close frame): his engine dials again through
        // the proxy and resumes his session; Alice is told meanwhile.
        proxy.cutAll()
        val retry = bobEvents.await("onSignalingState", "Bob reconnecting") { it["state"] == "reconnecting" }
        assertEquals(1, retry.body["attempt"])
        val delay = retry.body["nextRetryMs"] as Long
        assertTrue(delay in 0..250, "first retry within 250 ms, got $delay")
        aliceEvents.await("onPeerInterrupted", "Alice sees Bob interrupted") { it["peerId"] == bobId }
        aliceEvents.await("onPeerResumed", "Alice sees Bob resume") { it["peerId"] == bobId }
        val firstRetry = bobEvents.events.indexOfFirst { it.name == "onSignalingState" && it.body["state"] == "reconnecting" }
        bobEvents.await("onSignalingState", "Bob connected again, after reconnecting", from = firstRetry) {
          it["state"] == "connected"
        }
        val states = bobEvents.events.filter { it.name == "onSignalingState" }.map { it.body }
        assertEquals("connected", states.last()["state"], "states: $states")
        assertTrue(
          states.filter { it["state"] != "reconnecting" }.all { it["attempt"] == null && it["nextRetryMs"] == null },
          "attempt/nextRetryMs only with reconnecting: $states",
        )

        // Same session: the chat goes on and nobody left.
        alice.sendMessage("still with me?")
        bobEvents.await("onMessage", "Bob receives after the cut") { (it["message"] as MessageData).text == "still with me?" }
        assertTrue(aliceEvents.events.none { it.name == "onPeerLeft" }, "Alice saw no peer_left: ${aliceEvents.events}")
      } finally {
        alice.shutdown()
        bob.shutdown()
      }
    }
  }

  @Test
  fun `engine errors reach JS as the snake_case codes, with serverCode for server refusals`() = runBlocking<Unit> {
    assertFailure("invalid_name") { EngineHandle.start(loopbackConfig(server.url, ""), RecordingEvents()) }
    assertFailure("invalid_config") {
      EngineHandle.start(loopbackConfig("http://127.0.0.1:1/ws", "Carol"), RecordingEvents())
    }
    // iceTransportPolicy: an unknown value, and `relay` without a TURN server, are refused;
    // `relay` with one and `all` start.
    assertFailure("invalid_config") {
      EngineHandle.start(loopbackConfig(server.url, "Dan").copy(iceTransportPolicy = "nohost"), RecordingEvents())
    }
    assertFailure("invalid_config") {
      EngineHandle.start(loopbackConfig(server.url, "Dan").copy(iceTransportPolicy = "relay"), RecordingEvents())
    }
    val turn = listOf(IceServerData(listOf("turn:127.0.0.1:3478"), "u", "p"))
    EngineHandle.start(loopbackConfig(server.url, "Dan").copy(iceTransportPolicy = "relay", iceServers = turn), RecordingEvents()).shutdown()
    EngineHandle.start(loopbackConfig(server.url, "Dan").copy(iceTransportPolicy = "all"), RecordingEvents()).shutdown()

    val (carol, _) = start("Carol")
    try {
      assertFailure("invalid_room_code") { carol.joinRoom("not a code") }
      val refused = assertFailure("server") { carol.joinRoom("ABC-DEF-GHJ") }
      assertEquals("room_not_found", refused.serverCode)
      assertFalse(refused.message!!.startsWith("reason="), "message is the engine's text: ${refused.message}")
      assertFailure("not_in_room") { carol.leaveRoom() }
      assertFailure("not_in_room") { carol.sendMessage("hi") }
      carol.createRoom()
      assertFailure("already_in_room") { carol.createRoom() }
      assertFailure("no_connected_peer") { carol.sendMessage("alone") }
    } finally {
      carol.shutdown()
    }
  }

  @Test
  fun `every PeerChatException variant maps to a code of src errors ts and back`() {
    val failures =
      listOf(
        PeerChatException.InvalidConfig("r"),
        PeerChatException.InvalidName("r"),
        PeerChatException.InvalidRoomCode("r"),
        PeerChatException.Signaling("r"),
        PeerChatException.Server("server said no", "room_full"),
        PeerChatException.AlreadyInRoom("r"),
        PeerChatException.NotInRoom("r"),
        PeerChatException.NoConnectedPeer("r"),
        PeerChatException.OutboxFull("r", 10_000uL),
        PeerChatException.EmptyMessage("r"),
        PeerChatException.MessageTooLarge("r", 20_000uL, 16_384uL),
        PeerChatException.WebRtc("r", "p1"),
        PeerChatException.PeerProtocol("r", "p1"),
        PeerChatException.Timeout("r", "join_room", 10_000uL),
        PeerChatException.Shutdown("r"),
        PeerChatException.QueueFull("r", "commands", 1_024uL),
        PeerChatException.Cancelled("r"),
        PeerChatException.Store("r"),
        PeerChatException.UnknownMessage("r", "m1"),
        PeerChatException.UnknownPeer("r", "p1"),
      ).map { it.toFailure() }

    val server = failures.single { it.code == "server" }
    assertEquals("room_full", server.serverCode)
    assertEquals("server said no", server.message)
    failures.filter { it.code != "server" }.forEach { assertNull(it.serverCode, it.code) }

    // The JS list (PEERCHAT_ERROR_CODES) is the engine's codes plus `native`.
    val ts = NativeBuild.errorsTs.readText()
    val list = Regex("""PEERCHAT_ERROR_CODES = \[(.*?)] as const""", RegexOption.DOT_MATCHES_ALL).find(ts)
    checkNotNull(list) { "PEERCHAT_ERROR_CODES not found in ${NativeBuild.errorsTs}" }
    val jsCodes = Regex("'([a-z_]+)'").findAll(list.groupValues[1]).map { it.groupValues[1] }.toList()
    assertEquals(jsCodes.toSet(), failures.map { it.code }.toSet() + "native")
    assertEquals(failures.size, failures.map { it.code }.toSet().size, "codes are distinct")
  }
}

/** Runs [block], which must throw an [EngineFailure] with [code]; returns it. */
private inline fun assertFailure(code: String, crossinline block: suspend () -> Any?): EngineFailure {
  val failure = assertThrows(EngineFailure::class.java) { runBlocking { block() } }
  assertEquals(code, failure.code, "code of \"${failure.message}\"")
  return failure
}
