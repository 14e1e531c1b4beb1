package dev.peerchat

/**
 * Turns raw platform lifecycle signals into the engine's [LifecycleAware] calls, with the
 * platform quirks handled once, in plain Kotlin (tested on the JVM):
 * - foreground/background: only a change calls [LifecycleAware.pause] or
 *   [LifecycleAware.resume] (Android's `ProcessLifecycleOwner` replays `ON_START` when an
 *   observer is added; iOS sends `willEnterForeground` on launch in some setups);
 * - the default network: Android's `registerDefaultNetworkCallback` reports the current
 *   network at once on registration (not a change), reports `onLost` before the next network's
 *   `onAvailable`, and reports link-property changes (a new address on the same network).
 *   [onDefaultNetwork] takes a key that identifies the network and its addresses; a change to
 *   another non-null key after the first one calls [LifecycleAware.networkChanged]; losing the
 *   network (`null`) calls nothing (there is nothing to reconnect to), and the next network
 *   then counts as a change.
 *
 * Thread-safe: the platform may call it from any thread (Android's network callbacks run on a
 * binder thread); every engine call it makes returns at once.
 */
class LifecycleDriver(private val target: LifecycleAware) {
    private val lock = Any()
    private var paused = false
    private var network: String? = null
    private var sawNetwork = false

    /** The app is in the foreground (Android `ON_START`, iOS `.active`/`willEnterForeground`). */
    fun onForeground() {
        val resume = synchronized(lock) { paused.also { paused = false } }
        if (resume) target.resume()
    }

    /** The app went to the background (Android `ON_STOP`, iOS `.background`). */
    fun onBackground() {
        val pause = synchronized(lock) { (!paused).also { paused = true } }
        if (pause) target.pause()
    }

    /**
     * The default network is now [key] (e.g. the network handle plus its addresses), or none
     * (`null`).
     */
    fun onDefaultNetwork(key: String?) {
        val changed = synchronized(lock) {
            val before = network
            val first = !sawNetwork
            if (key != null) sawNetwork = true
            network = key
            key != null && !first && key != before
        }
        if (changed) target.networkChanged()
    }
}
