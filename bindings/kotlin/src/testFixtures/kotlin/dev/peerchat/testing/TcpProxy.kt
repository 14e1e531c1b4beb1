// Test fixture shared by the JVM tests of the Kotlin layer (bindings/kotlin/src/test) and of the
// React Native module's engine adapter (react-native/scripts/kotlin-check/src/test): both Maven
// builds add this directory to their test sources.
package dev.peerchat.testing

import java.io.IOException
import java.net.InetAddress
import java.net.ServerSocket
import java.net.Socket
import java.util.concurrent.ConcurrentLinkedQueue
import kotlin.concurrent.thread

/**
 * A TCP proxy on 127.0.0.1 in front of [targetPort]: every accepted connection is piped to a
 * new connection to the target. [cutAll] closes every connection so far (as a network change
 * or a NAT timeout would) while it keeps accepting; [close] also stops accepting, so a client
 * behind it can no longer reach the server.
 */
class TcpProxy(private val targetPort: Int) : AutoCloseable {
    private val listener = ServerSocket(0, 50, InetAddress.getLoopbackAddress())
    private val sockets = ConcurrentLinkedQueue<Socket>()

    /** The port the proxy listens on. */
    val port: Int = listener.localPort

    init {
        thread(isDaemon = true, name = "tcp-proxy-accept") {
            while (true) {
                val client = try { listener.accept() } catch (e: IOException) { break }
                val upstream = try {
                    Socket(InetAddress.getLoopbackAddress(), targetPort)
                } catch (e: IOException) {
                    client.close()
                    continue
                }
                sockets += client
                sockets += upstream
                pipe(client, upstream)
                pipe(upstream, client)
            }
        }
    }

    private fun pipe(from: Socket, to: Socket) = thread(isDaemon = true, name = "tcp-proxy-pipe") {
        try {
            from.getInputStream().copyTo(to.getOutputStream())
        } catch (e: IOException) {
            // cut
        } finally {
            runCatching { from.close() }
            runCatching { to.close() }
        }
    }

    /** Closes every connection made so far; new ones are still accepted. */
    fun cutAll() {
        while (true) runCatching { (sockets.poll() ?: return).close() }
    }

    override fun close() {
        listener.close()
        cutAll()
    }
}

