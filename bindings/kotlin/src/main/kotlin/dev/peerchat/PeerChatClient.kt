package dev.peerchat

import dev.peerchat.ffi.ChatMessage
import dev.peerchat.ffi.Conversation
import dev.peerchat.ffi.Engine
import dev.peerchat.ffi.EngineConfig
import dev.peerchat.ffi.EngineListener
import dev.peerchat.ffi.HistoryPage
import dev.peerchat.ffi.LeaveReason
import dev.peerchat.ffi.MessageStatus
import dev.peerchat.ffi.Peer
import dev.peerchat.ffi.PeerChatException
import dev.peerchat.ffi.PeerState
import dev.peerchat.ffi.RoomInfo
import dev.peerchat.ffi.SignalingState
import java.util.concurrent.atomic.AtomicBoolean
import kotlinx.coroutines.CancellationException
import kotlinx.coroutines.channels.Channel
import kotlinx.coroutines.channels.trySendBlocking
import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow
import kotlinx.coroutines.flow.receiveAsFlow

/**
 * A peerchat participant for Kotlin code: the generated [Engine] plus its events as a [Flow].
 *
 * ```
 * PeerChatClient(EngineConfig(signalingUrl = "ws://127.0.0.1:7777/ws", displayName = "Ada")).use { chat ->
 *     scope.launch { chat.events.collect { event -> render(event) } }   // runs in `scope`'s context
 *     val room = chat.createRoom()                                       // suspends, never blocks
 *     println("share this code: ${room.code}")
 * }
 * ```
 *
 * Threading: the engine calls its listener on an engine thread. This class only enqueues each
 * event there and [events] delivers it in the collector's coroutine context (e.g.
 * `Dispatchers.Main` on Android). The suspend functions resume in the caller's context too, and
 * no method blocks the calling thread (not even [close]). Every method may be called from any
 * thread.
 *
 * Queue: at most [EVENT_BUFFER] events wait for the collector. When it falls that far behind
 * (or is not collecting, e.g. a `repeatOnLifecycle` block stopped in the background), the
 * engine's event thread waits for room — back-pressure up to the engine, whose own bounded
 * queues then hold further work (see the core's `EVENT_QUEUE_LEN` / `COMMAND_QUEUE_LEN`;
 * `sendMessage` then throws `PeerChatException.QueueFull`). No event is dropped and memory stays
 * bounded; chat resumes where it stopped when collection resumes.
 *
 * Lifecycle: call [pause] / [resume] / [networkChanged] from the app's lifecycle, or let
 * `dev.peerchat.android.PeerChatLifecycle` (Android) do it. Cancelling the coroutine of
 * [createRoom] / [joinRoom] (say `viewModelScope` cleared) undoes the request: the engine ends
 * up in no room because of it.
 *
 * Errors: every call throws [PeerChatException] subclasses, as documented on [Engine].
 *
 * @param config server URL, display name, ICE settings; checked at once.
 * @throws PeerChatException.InvalidConfig or [PeerChatException.InvalidName] for a bad config.
 */
class PeerChatClient(config: EngineConfig) : AutoCloseable, LifecycleAware {
    private val queue = Channel<PeerChatEvent>(EVENT_BUFFER)
    private val state = MutableStateFlow<SignalingState>(SignalingState.Connecting)
    private val engine = Engine(config, ChannelListener(queue, state))
    private val closed = AtomicBoolean(false)

    /**
     * Every event of this client, in the order the engine reported them, from construction on
     * (events that arrive before collection starts are buffered, up to [EVENT_BUFFER]; beyond,
     * the engine waits for the collector). The flow completes
     * after [close]. It is a single-consumer flow: collect it once (use `shareIn` to fan out).
     */
    val events: Flow<PeerChatEvent> = queue.receiveAsFlow()

    /**
     * The latest signaling state, for UIs that render it rather than react to each change
     * (e.g. "Reconnecting… (attempt 3, next try in 1200 ms)" from
     * [SignalingState.Reconnecting]). Starts at [SignalingState.Connecting]; updated on the
     * engine thread before the matching [PeerChatEvent.SignalingStateChanged] is queued, so a
     * collector of [events] never sees this lag behind. Collect it from any context (it
     * conflates: intermediate states may be skipped; [events] has every one).
     */
    val signalingState: StateFlow<SignalingState> = state.asStateFlow()

    /**
     * This client's server-assigned peer id, once connected to the server; `null` before. It
     * changes when the server had forgotten the session (say, it restarted) and the engine
     * started a new one; the ids under which this client reports the other peers never change.
     */
    val peerId: String? get() = engine.peerId()

    /** The peers in the room, without this client; empty outside a room. */
    val peers: List<Peer> get() = engine.peers()

    /** How many peers of the room have an open data channel (0 outside a room). */
    val connectedPeers: Int get() = engine.connectedPeers().toInt()

    /** The canonical code of the room this client is in (`ABC-DEF-GHJ`); `null` outside one. */
    val roomCode: String? get() = engine.roomCode()

    /**
     * Creates a room and enters it; returns it with its code and no members. Cancelling the
     * calling coroutine undoes it (a room already created is left at once).
     * @throws PeerChatException.AlreadyInRoom, [PeerChatException.Signaling],
     *   [PeerChatException.Timeout], [PeerChatException.Server], [PeerChatException.QueueFull],
     *   [PeerChatException.Shutdown].
     */
    suspend fun createRoom(): RoomInfo = undoneOnCancel { engine.createRoom() }

    /**
     * Joins the room with [code] (any case, separators optional); returns it with the members
     * already present. Wait for [PeerChatEvent.PeerStateChanged] with [PeerState.CONNECTED]
     * before sending. Cancelling the calling coroutine undoes it: the engine does not enter
     * the room, or leaves it at once if the server had already seated it.
     * @throws PeerChatException.InvalidRoomCode (before any traffic),
     *   [PeerChatException.Server] with `code` `room_not_found` or `room_full`,
     *   [PeerChatException.AlreadyInRoom], [PeerChatException.Signaling],
     *   [PeerChatException.Timeout], [PeerChatException.Shutdown].
     */
    suspend fun joinRoom(code: String): RoomInfo = undoneOnCancel { engine.joinRoom(code) }

    /**
     * Runs a create/join; when the calling coroutine is cancelled, tells the engine to undo it.
     * The cancelled coroutine drops the Rust future too (which undoes a request still in
     * flight), but a cancellation that lands as the answer arrives surfaces here as a
     * [CancellationException] after the engine entered the room: `cancelRoomRequest` leaves
     * it then.
     */
    private suspend fun undoneOnCancel(request: suspend () -> RoomInfo): RoomInfo =
        try {
            request()
        } catch (e: CancellationException) {
            try {
                engine.cancelRoomRequest()
            } catch (_: PeerChatException) {
                // Shut down meanwhile, or the engine's queue is full: nothing to undo here.
            }
            throw e
        }

    /**
     * Sends [text] to every connected peer and returns the message id at once (no suspension);
     * [PeerChatEvent.MessageStatusChanged] follows per peer.
     * @throws PeerChatException.EmptyMessage, [PeerChatException.MessageTooLarge],
     *   [PeerChatException.NotInRoom], [PeerChatException.NoConnectedPeer],
     *   [PeerChatException.QueueFull] (the engine's command queue is full: retry later),
     *   [PeerChatException.Shutdown].
     */
    fun sendMessage(text: String): String = engine.sendMessage(text)

    /**
     * The conversation of the room this client is in (`Conversation.Room` with its code), to
     * pass to [history]; `null` outside a room.
     */
    val conversation: Conversation? get() = engine.conversation()

    /**
     * One page of saved history, oldest first: the [limit] (1..500) newest messages older than
     * the message with id [before] (the newest when `null`). With `EngineConfig.dataDir`
     * (e.g. `context.filesDir.path`) history survives restarts; without, it lives in memory
     * for the engine's life. Runs on the engine's store thread; never blocks the caller.
     * @throws PeerChatException.UnknownMessage, [PeerChatException.Store],
     *   [PeerChatException.QueueFull], [PeerChatException.Shutdown].
     */
    suspend fun history(conversation: Conversation, before: String? = null, limit: Int = 50): HistoryPage =
        engine.history(conversation, before, limit.coerceAtLeast(1).toUInt())

    /**
     * Deletes a conversation's saved messages from this device; returns how many.
     * @throws PeerChatException.Store, [PeerChatException.QueueFull], [PeerChatException.Shutdown].
     */
    suspend fun deleteConversation(conversation: Conversation): Long = engine.deleteConversation(conversation).toLong()

    /**
     * The safety code of the connection with [peerId] (four groups of five digits from both
     * DTLS fingerprints): compare it with the other user's out of band; a difference means
     * someone rewrote the SDP in between.
     * @throws PeerChatException.UnknownPeer, [PeerChatException.WebRtc],
     *   [PeerChatException.QueueFull], [PeerChatException.Shutdown].
     */
    suspend fun safetyCode(peerId: String): String = engine.safetyCode(peerId)

    /**
     * Leaves the room; the other peers get `peer_left`.
     * @throws PeerChatException.NotInRoom, [PeerChatException.Signaling],
     *   [PeerChatException.Timeout], [PeerChatException.Shutdown].
     */
    suspend fun leaveRoom() = engine.leaveRoom()

    /**
     * The app went to the background: the engine keeps its room and connections but does not
     * dial the signaling server again while paused (see the core's `Engine::pause` for what
     * happens while the OS suspends the app). Returns at once; idempotent.
     */
    override fun pause() = engine.pause()

    /**
     * The app is in the foreground again: reconnects the signaling server at once if needed
     * (skipping the backoff), probes the connection and checks the peers. Returns at once.
     */
    override fun resume() = engine.resume()

    /**
     * The device's network path changed (Wi-Fi to cellular, a new address): the engine probes
     * its connections and recovers those that died. Harmless when nothing changed. Returns at
     * once.
     */
    override fun networkChanged() = engine.networkChanged()

    /**
     * Closes every connection (the server tells the room `peer_left` at once) and stops the
     * engine, suspending until that is done (at most about 2 s) **without blocking any
     * thread**; later calls throw [PeerChatException.Shutdown]. Idempotent.
     */
    suspend fun shutdown() = engine.shutdown()

    /**
     * Starts the shutdown (as [shutdown], in the background), releases the native engine and
     * completes [events]; returns at once, so it may be called on the main thread. Idempotent;
     * other methods throw `IllegalStateException` afterwards.
     */
    override fun close() {
        if (closed.compareAndSet(false, true)) {
            engine.shutdownNow()
            engine.close()
            queue.close()
        }
    }

    companion object {
        /** Events that may wait for the collector of [events] before the engine waits. */
        const val EVENT_BUFFER: Int = 1_024
    }
}

/**
 * The app-lifecycle calls of the engine, which platform observers drive (Android:
 * `dev.peerchat.android.PeerChatLifecycle`; or [LifecycleDriver] from any lifecycle source).
 */
interface LifecycleAware {
    /** The app went to the background. */
    fun pause()

    /** The app came back to the foreground. */
    fun resume()

    /** The network path changed. */
    fun networkChanged()
}

/**
 * The listener handed to the engine: turns each callback into an event on [queue], and keeps
 * [state] current.
 */
private class ChannelListener(
    private val queue: Channel<PeerChatEvent>,
    private val state: MutableStateFlow<SignalingState>,
) : EngineListener {
    // Runs on the engine's event thread (never a UI thread): waits while EVENT_BUFFER events
    // wait for the collector (back-pressure, nothing dropped). After close() it fails at once
    // and quietly, which is what a late event from a closed engine should do.
    private fun emit(event: PeerChatEvent) {
        queue.trySendBlocking(event)
    }

    override fun onSignalingState(state: SignalingState) {
        this.state.value = state
        emit(PeerChatEvent.SignalingStateChanged(state))
    }

    override fun onRoomCreated(room: RoomInfo) = emit(PeerChatEvent.RoomCreated(room))

    override fun onRoomJoined(room: RoomInfo) = emit(PeerChatEvent.RoomJoined(room))

    override fun onPeerJoined(peer: Peer) = emit(PeerChatEvent.PeerJoined(peer))

    override fun onPeerState(peerId: String, state: PeerState) = emit(PeerChatEvent.PeerStateChanged(peerId, state))

    override fun onPeerLeft(peerId: String, reason: LeaveReason) = emit(PeerChatEvent.PeerLeft(peerId, reason))

    override fun onPeerInterrupted(peerId: String) = emit(PeerChatEvent.PeerInterrupted(peerId))

    override fun onPeerResumed(peerId: String) = emit(PeerChatEvent.PeerResumed(peerId))

    override fun onMessage(message: ChatMessage) = emit(PeerChatEvent.MessageReceived(message))

    override fun onMessageStatus(messageId: String, peerId: String, status: MessageStatus) =
        emit(PeerChatEvent.MessageStatusChanged(messageId, peerId, status))

    override fun onError(error: PeerChatException) = emit(PeerChatEvent.Error(error))

    override fun onHistoryMessage(message: ChatMessage) = emit(PeerChatEvent.HistoryMessageReceived(message))
}
