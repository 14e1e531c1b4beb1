// Wires a PeerChatClient to the iOS app lifecycle and the network path. NOT compiled on the
// machine that wrote it (no Swift toolchain there); the same decisions are made by the Kotlin
// twin dev.peerchat.LifecycleDriver, which is tested on the JVM.

import Foundation
import Network

#if canImport(UIKit)
import UIKit
#endif

/// Drives a `LifecycleAware` engine (a `PeerChatClient`) automatically:
/// - **app state**: `UIApplication.didEnterBackgroundNotification` calls `pause()`,
///   `willEnterForegroundNotification` calls `resume()` (UIKit posts both for scene-based and
///   SwiftUI apps too; a SwiftUI app may instead call `scenePhaseChanged(_:)` from
///   `.onChange(of: scenePhase)`);
/// - **network path** (`NWPathMonitor`): a change of the path's interfaces (Wi-Fi to
///   cellular, a new interface) while it is satisfied calls `networkChanged()`; the first
///   path the monitor reports (at start) and an unsatisfied path (no network: nothing to
///   reconnect to) call nothing.
///
/// Every engine call returns at once, so the notifications may run on the main thread. Keep
/// the object alive as long as the client (e.g. a property next to it); `stop()` or releasing
/// it ends the observation.
///
/// ```swift
/// let chat = try PeerChatClient(config: config)
/// let lifecycle = PeerChatLifecycle(client: chat)   // automatic from here on
/// ```
public final class PeerChatLifecycle: @unchecked Sendable {
    private weak var client: (any LifecycleAware)?
    private let monitor = NWPathMonitor()
    private let queue = DispatchQueue(label: "peerchat.lifecycle")
    private var observers: [NSObjectProtocol] = []
    private let lock = NSLock()
    private var paused = false
    private var lastPath: String?
    private var sawPath = false

    /// Starts following the app state and the network path for `client` (held weakly).
    public init(client: any LifecycleAware) {
        self.client = client
        monitor.pathUpdateHandler = { [weak self] path in self?.pathChanged(path) }
        monitor.start(queue: queue)
        #if canImport(UIKit)
        let center = NotificationCenter.default
        observers.append(center.addObserver(
            forName: UIApplication.didEnterBackgroundNotification, object: nil, queue: nil
        ) { [weak self] _ in self?.background() })
        observers.append(center.addObserver(
            forName: UIApplication.willEnterForegroundNotification, object: nil, queue: nil
        ) { [weak self] _ in self?.foreground() })
        #endif
    }

    deinit { stop() }

    /// Stops observing. Idempotent.
    public func stop() {
        monitor.cancel()
        lock.lock()
        let current = observers
        observers.removeAll()
        lock.unlock()
        for observer in current { NotificationCenter.default.removeObserver(observer) }
    }

    /// For SwiftUI apps that follow `scenePhase`: `true` for `.active`, `false` for
    /// `.background` (ignore `.inactive`, a transient state).
    public func scenePhaseChanged(active: Bool) {
        if active { foreground() } else { background() }
    }

    private func foreground() {
        lock.lock()
        let resume = paused
        paused = false
        lock.unlock()
        if resume { client?.resume() }
    }

    private func background() {
        lock.lock()
        let pause = !paused
        paused = true
        lock.unlock()
        if pause { client?.pause() }
    }

    private func pathChanged(_ path: NWPath) {
        // The path's identity: its status and the interfaces it uses, in order of preference.
        let key: String? = path.status == .satisfied
            ? path.availableInterfaces.map { "\($0.type):\($0.name)" }.joined(separator: ",")
            : nil
        lock.lock()
        let first = !sawPath
        if key != nil { sawPath = true }
        let changed = key != nil && !first && key != lastPath
        lastPath = key
        lock.unlock()
        if changed { client?.networkChanged() }
    }
}
