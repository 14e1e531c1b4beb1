package com.peerchat

import java.io.File
import java.util.concurrent.CompletableFuture
import java.util.concurrent.TimeUnit
import kotlin.concurrent.thread

/** Longest wait (ms) for one engine event: loopback peer connection setup takes well under this. */
const val EVENT_TIMEOUT_MS = 20_000L

/** Longest wait (ms) for `peerchat serve` to print its address. */
const val SERVER_START_TIMEOUT_MS = 30_000L

/** Where the Rust build put the host library and the CLI. */
object NativeBuild {
  private val repoDir: File =
    File(System.getProperty("peerchat.repo.dir") ?: "../../..").absoluteFile.normalize()

  /** Cargo target dir: -Dpeerchat.target.dir, else $CARGO_TARGET_DIR, else <repo>/target. */
  private val targetDir: File = run {
    val fromProperty = System.getProperty("peerchat.target.dir")?.takeIf { it.isNotBlank() }
    val fromEnv = System.getenv("CARGO_TARGET_DIR")?.takeIf { it.isNotBlank() }
    (fromProperty ?: fromEnv)?.let { File(it) } ?: File(repoDir, "target")
  }.absoluteFile.normalize()

  /** `peerchat` binary (`cargo build -p peerchat-cli`). */
  val peerchatBin = File(targetDir, "debug/peerchat")

  /** The engine's host library (`cargo build -p peerchat-ffi`). */
  private val library = File(targetDir, "debug/" + System.mapLibraryName("peerchat_ffi"))

  /** The JS side's list of error codes. */
  val errorsTs = File(repoDir, "react-native/src/errors.ts")

  /** Points the generated bindings at [library]; call before the first engine is made. */
  fun useHostLibrary() {
    check(library.isFile) { "$library is missing: run `cargo build -p peerchat-ffi` first" }
    System.setProperty("uniffi.component.peerchat_ffi.libraryOverride", library.path)
  }
}

/** A real `peerchat serve` on 127.0.0.1 and a free port, stopped by [close]. */
class SignalingServer private constructor(private val process: Process, val url: String) : AutoCloseable {
  companion object {
    private val ADDRESS_LINE = Regex("""listening on (ws://127\.0\.0\.1:\d+/ws)""")

    /** Starts the server and waits for its `listening on ws://127.0.0.1:PORT/ws` line. */
    fun start(): SignalingServer {
      val bin = NativeBuild.peerchatBin
      check(bin.canExecute()) { "$bin is missing: run `cargo build -p peerchat-cli` first" }
      val process =
        ProcessBuilder(bin.path, "serve", "--bind", "127.0.0.1", "--port", "0")
          .redirectErrorStream(true)
          .apply { environment().remove("PORT") }
          .start()
      val address = CompletableFuture<String>()
      val output = StringBuffer()
      // Drains the output for the process's whole life so that it never blocks on a full pipe.
      thread(isDaemon = true, name = "peerchat-serve-output") {
        process.inputStream.bufferedReader().forEachLine { line ->
          output.appendLine(line)
          ADDRESS_LINE.find(line)?.let { address.complete(it.groupValues[1]) }
        }
        address.completeExceptionally(IllegalStateException("peerchat serve exited:\n$output"))
      }
      try {
        return SignalingServer(process, address.get(SERVER_START_TIMEOUT_MS, TimeUnit.MILLISECONDS))
      } catch (e: Exception) {
        process.destroyForcibly()
        throw IllegalStateException("peerchat serve did not start: $output", e)
      }
    }
  }

  override fun close() {
    process.destroy()
    if (!process.waitFor(5, TimeUnit.SECONDS)) process.destroyForcibly()
  }
}

/** A loopback-only config, as the module builds it from JS: ICE on 127.0.0.1, no mDNS. */
fun loopbackConfig(url: String, name: String) =
  EngineConfigData(
    signalingUrl = url,
    displayName = name,
    iceServers = emptyList(),
    iceUdpAddrs = listOf("127.0.0.1:0"),
    signalingTimeoutMs = 10_000,
    peerConnectTimeoutMs = 30_000,
    resolveMdnsCandidates = false,
  )

/** One event as the module would emit it to JS: the spec's event name and its body. */
data class Event(val name: String, val body: Map<String, Any?>, val thread: String)

/**
 * A fake of the React Native bridge boundary (not of the engine): records every callback the
 * adapter delivers, with the thread it came on, and lets a test wait for one with a timeout.
 */
class RecordingEvents : EngineEvents {
  private val lock = Object()
  private val seen = mutableListOf<Event>()

  /** Every event so far, in arrival order. */
  val events: List<Event> get() = synchronized(lock) { seen.toList() }

  private fun record(name: String, vararg body: Pair<String, Any?>) =
    synchronized(lock) {
      seen += Event(name, mapOf(*body), Thread.currentThread().name)
      lock.notifyAll()
    }

  /**
   * Waits (on the recording monitor, no polling) for the first event [name] matching
   * [predicate] among the events from index [from] on.
   */
  fun await(name: String, what: String, from: Int = 0, predicate: (Map<String, Any?>) -> Boolean = { true }): Event {
    val deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(EVENT_TIMEOUT_MS)
    synchronized(lock) {
      while (true) {
        seen.drop(from).firstOrNull { it.name == name && predicate(it.body) }?.let { return it }
        val left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())
        if (left <= 0) throw AssertionError("timed out after $EVENT_TIMEOUT_MS ms waiting for $what; events: $seen")
        lock.wait(left)
      }
    }
  }

  override fun signalingState(state: String, reconnect: ReconnectData?) =
    record("onSignalingState", "state" to state, "attempt" to reconnect?.attempt, "nextRetryMs" to reconnect?.nextRetryMs)

  override fun roomCreated(room: RoomData) = record("onRoomCreated", "room" to room)

  override fun roomJoined(room: RoomData) = record("onRoomJoined", "room" to room)

  override fun peerJoined(peer: PeerData) = record("onPeerJoined", "peer" to peer)

  override fun peerState(peerId: String, state: String) =
    record("onPeerState", "peerId" to peerId, "state" to state)

  override fun peerLeft(peerId: String, reason: String) =
    record("onPeerLeft", "peerId" to peerId, "reason" to reason)

  override fun peerInterrupted(peerId: String) = record("onPeerInterrupted", "peerId" to peerId)

  override fun peerResumed(peerId: String) = record("onPeerResumed", "peerId" to peerId)

  override fun message(message: MessageData) = record("onMessage", "message" to message)

  override fun messageStatus(messageId: String, peerId: String, status: String) =
    record("onMessageStatus", "messageId" to messageId, "peerId" to peerId, "status" to status)

  override fun error(failure: EngineFailure) =
    record("onError", "code" to failure.code, "message" to failure.message, "serverCode" to failure.serverCode)
}
