package dev.peerchat.android

// Android-only wiring of the engine's lifecycle calls. Written for compileSdk 36 /
// androidx.lifecycle 2.9; NOT compiled on the machine that wrote it (no Android SDK there). Its
// logic lives in dev.peerchat.LifecycleDriver (plain Kotlin, JVM-tested); this file only adapts
// the Android callbacks to it.

import android.content.Context
import android.net.ConnectivityManager
import android.net.LinkProperties
import android.net.Network
import android.os.Handler
import android.os.Looper
import androidx.lifecycle.DefaultLifecycleObserver
import androidx.lifecycle.LifecycleOwner
import androidx.lifecycle.ProcessLifecycleOwner
import dev.peerchat.LifecycleAware
import dev.peerchat.LifecycleDriver
import java.util.concurrent.atomic.AtomicBoolean

/**
 * Drives a [LifecycleAware] engine (a `dev.peerchat.PeerChatClient`) from the app's lifecycle:
 * - the **process** lifecycle ([ProcessLifecycleOwner]): `ON_STOP` (no activity visible for
 *   700 ms) calls `pause()`, `ON_START` calls `resume()`;
 * - the **default network** (`ConnectivityManager.registerDefaultNetworkCallback`, API 24+):
 *   a new default network, or a new address on it (`onLinkPropertiesChanged`), calls
 *   `networkChanged()`; the callback fired at registration for the current network does not.
 *
 * Every call returns at once (the engine never blocks the main thread). Needs the
 * `ACCESS_NETWORK_STATE` permission (declared in this library's manifest). Create it once per
 * client, e.g. next to the client in an application-scoped object, and [close] it before
 * closing the client.
 *
 * ```
 * val chat = PeerChatClient(config)
 * val lifecycle = PeerChatLifecycle(applicationContext, chat)   // automatic from here on
 * ...
 * lifecycle.close(); chat.close()
 * ```
 *
 * @param context any context; only its application context is kept.
 * @param target the engine to drive.
 * @param owner the lifecycle to follow; the process lifecycle by default.
 */
class PeerChatLifecycle(
    context: Context,
    target: LifecycleAware,
    private val owner: LifecycleOwner = ProcessLifecycleOwner.get(),
) : AutoCloseable {
    private val driver = LifecycleDriver(target)
    private val connectivity: ConnectivityManager =
        context.applicationContext.getSystemService(ConnectivityManager::class.java)
    private val main = Handler(Looper.getMainLooper())
    private val closed = AtomicBoolean(false)

    private val observer = object : DefaultLifecycleObserver {
        override fun onStart(owner: LifecycleOwner) = driver.onForeground()

        override fun onStop(owner: LifecycleOwner) = driver.onBackground()
    }

    private val networkCallback = object : ConnectivityManager.NetworkCallback() {
        override fun onAvailable(network: Network) {
            driver.onDefaultNetwork(key(network, connectivity.getLinkProperties(network)))
        }

        override fun onLinkPropertiesChanged(network: Network, linkProperties: LinkProperties) {
            driver.onDefaultNetwork(key(network, linkProperties))
        }

        override fun onLost(network: Network) = driver.onDefaultNetwork(null)
    }

    init {
        connectivity.registerDefaultNetworkCallback(networkCallback)
        // Lifecycle observers must be added on the main thread.
        runOnMain { owner.lifecycle.addObserver(observer) }
    }

    /** Stops following the lifecycle and the network. Idempotent. */
    override fun close() {
        if (!closed.compareAndSet(false, true)) return
        try {
            connectivity.unregisterNetworkCallback(networkCallback)
        } catch (_: IllegalArgumentException) {
            // Not registered (registration failed): nothing to undo.
        }
        runOnMain { owner.lifecycle.removeObserver(observer) }
    }

    private fun runOnMain(block: () -> Unit) {
        if (Looper.myLooper() == Looper.getMainLooper()) block() else main.post(block)
    }

    private companion object {
        /** The network and its addresses: a new address on the same network is a change too. */
        fun key(network: Network, properties: LinkProperties?): String =
            network.toString() + "|" +
                (properties?.linkAddresses?.joinToString(",") { it.toString() } ?: "")
    }
}
