package dev.peerchat

import dev.peerchat.ffi.EngineConfig
import java.io.File
import java.util.concurrent.CompletableFuture
import java.util.concurrent.TimeUnit
import kotlin.concurrent.thread
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Job
import kotlinx.coroutines.TimeoutCancellationException
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.first
import kotlinx.coroutines.flow.update
import kotlinx.coroutines.launch
import kotlinx.coroutines.withTimeout
import org.junit.jupiter.api.AfterAll
import org.junit.jupiter.api.BeforeAll
import org.junit.jupiter.api.TestInstance
import org.junit.jupiter.api.Timeout

/** Longest wait (ms) for one event: peer connection setup on loopback takes well under this. */
const val EVENT_TIMEOUT_MS = 20_000L

/** Longest wait (ms) for `peerchat serve` to print its address. */
const val SERVER_START_TIMEOUT_MS = 30_000L

/** Where the Rust build put the host library and the CLI, and how they are loaded. */
object NativeBuild {
    /** Cargo target dir: -Dpeerchat.target.dir, else $CARGO_TARGET_DIR, else ../../target. */
    val targetDir: File = run {
        val fromProperty = System.getProperty("peerchat.target.dir")?.takeIf { it.isNotBlank() }
        val fromEnv = System.getenv("CARGO_TARGET_DIR")?.takeIf { it.isNotBlank() }
        File(fromProperty ?: fromEnv ?: "../../target").absoluteFile.normalize()
    }

    /** `peerchat` binary of the cli crate (`cargo build -p peerchat-cli`). */
    val peerchatBin: File = File(targetDir, "debug/peerchat")

    /** Host library of the bindings (`cargo build -p peerchat-ffi`). */
    val library: File = File(targetDir, "debug/" + System.mapLibraryName("peerchat_ffi"))

    /**
     * Points the generated code at [library] through uniffi's per-component override (JNA
     * accepts an absolute path). Must run before the first use of a generated class.
     */
    fun useHostLibrary() {
        check(library.isFile) { "$library is missing: run `cargo build -p peerchat-ffi` first" }
        System.setProperty("uniffi.component.peerchat_ffi.libraryOverride", library.path)
    }
}

/**
 * A real `peerchat serve` process on 127.0.0.1, stopped by [close] (or killed by [kill]).
 * [port] is the port it listens on.
 */
class SignalingServer private constructor(private val process: Process, val url: String) : AutoCloseable {
    /** The TCP port of [url]. */
    val port: Int get() = Regex(""":(\d+)/ws$""").find(url)!!.groupValues[1].toInt()

    companion object {
        private val ADDRESS_LINE = Regex("""listening on (ws://127\.0\.0\.1:\d+/ws)""")

        /**
         * Starts the server on [port] (0: a free one) and waits for its
         * `listening on ws://127.0.0.1:PORT/ws` line. [extraArgs] go after `serve`'s own.
         */
        fun start(port: Int = 0, vararg extraArgs: String): SignalingServer {
            val bin = NativeBuild.peerchatBin
            check(bin.canExecute()) { "$bin is missing: run `cargo build -p peerchat-cli` first" }
            val command = listOf(bin.path, "serve", "--bind", "127.0.0.1", "--port", port.toString()) + extraArgs
            val process = ProcessBuilder(command)
                .redirectErrorStream(true)
                .apply { environment().remove("PORT") }
                .start()
            val address = CompletableFuture<String>()
            val output = StringBuffer()
            // Drain the output for the process's whole life, so it never blocks on a full pipe.
            thread(isDaemon = true, name = "peerchat-serve-output") {
                process.inputStream.bufferedReader().forEachLine { line ->
                    output.appendLine(line)
                    ADDRESS_LINE.find(line)?.let { address.complete(it.groupValues[1]) }
                }
                address.completeExceptionally(
                    IllegalStateException("peerchat serve exited before printing its address:\n$output"),
                )
            }
            try {
                return SignalingServer(process, address.get(SERVER_START_TIMEOUT_MS, TimeUnit.MILLISECONDS))
            } catch (e: Exception) {
                process.destroyForcibly()
                throw IllegalStateException("peerchat serve did not start: $output", e)
            }
        }
    }

    /**
     * SIGKILLs the server (no close frames, no goodbye: as a crash or an OOM kill) and waits
     * until the process is gone, so its port is free again.
     */
    fun kill() {
        process.destroyForcibly()
        check(process.waitFor(10, TimeUnit.SECONDS)) { "peerchat serve survived SIGKILL" }
    }

    override fun close() {
        process.destroy()
        if (!process.waitFor(5, TimeUnit.SECONDS)) process.destroyForcibly()
    }
}

/** A loopback-only config: ICE on 127.0.0.1, no ICE servers, no mDNS. */
fun loopbackConfig(url: String, name: String) = EngineConfig(
    signalingUrl = url,
    displayName = name,
    iceServers = emptyList(),
    iceUdpAddrs = listOf("127.0.0.1:0"),
    resolveMdnsCandidates = false,
)

/**
 * Collects every event of [client] in [scope] and lets a test wait, with a timeout, for events
 * matching a predicate, past or future. Nothing is dropped, so order can be checked afterwards.
 */
class EventLog(client: PeerChatClient, scope: CoroutineScope) {
    private val seen = MutableStateFlow<List<PeerChatEvent>>(emptyList())
    private val job: Job = scope.launch { client.events.collect { e -> seen.update { it + e } } }

    /** Every event so far, in arrival order. */
    val events: List<PeerChatEvent> get() = seen.value

    /** Waits for [count] events of type [T] matching [predicate]; fails after [timeoutMs]. */
    suspend inline fun <reified T : PeerChatEvent> awaitAll(
        count: Int,
        what: String,
        timeoutMs: Long = EVENT_TIMEOUT_MS,
        crossinline predicate: (T) -> Boolean = { true },
    ): List<T> = awaitMatching(what, timeoutMs) { all ->
        all.filterIsInstance<T>().filter(predicate).takeIf { it.size >= count }?.take(count)
    }

    /** Waits for the first event of type [T] matching [predicate]; fails after [timeoutMs]. */
    suspend inline fun <reified T : PeerChatEvent> await(
        what: String,
        timeoutMs: Long = EVENT_TIMEOUT_MS,
        crossinline predicate: (T) -> Boolean = { true },
    ): T = awaitAll<T>(1, what, timeoutMs, predicate).single()

    /** Waits until [select] returns non-null for the events seen so far. */
    suspend fun <R : Any> awaitMatching(what: String, timeoutMs: Long, select: (List<PeerChatEvent>) -> R?): R =
        try {
            withTimeout(timeoutMs) {
                var result: R? = null
                seen.first { all -> select(all)?.also { result = it } != null }
                result!!
            }
        } catch (e: TimeoutCancellationException) {
            throw AssertionError("timed out after $timeoutMs ms waiting for $what; events: $events", e)
        }

    /** Stops collecting. */
    fun stop() = job.cancel()
}

/**
 * Base of the test classes that need a real `peerchat serve`: one server per class, started
 * after the host library is selected and stopped after the class's last test.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(60, unit = TimeUnit.SECONDS)
abstract class WithSignalingServer {
    protected lateinit var server: SignalingServer

    /** Extra `peerchat serve` flags for this class's server. */
    protected open fun serverArgs(): Array<String> = emptyArray()

    @BeforeAll
    fun startServer() {
        NativeBuild.useHostLibrary()
        server = SignalingServer.start(0, *serverArgs())
    }

    @AfterAll
    fun stopServer() = server.close()
}
