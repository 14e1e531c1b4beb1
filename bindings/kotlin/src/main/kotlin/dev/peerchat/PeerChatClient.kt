package dev.peerchat

import dev.peerchat.ffi.ChatMessage
import dev.peerchat.ffi.Engine
import dev.peerchat.ffi.EngineConfig
import dev.peerchat.ffi.EngineListener
import dev.peerchat.ffi.LeaveReason
import dev.peerchat.ffi.MessageStatus
import dev.peerchat.ffi.Peer
import dev.peerchat.ffi.PeerChatException
import dev.peerchat.ffi.PeerState
import dev.peerchat.ffi.RoomInfo
import dev.peerchat.ffi.SignalingState
import java.util.concurrent.atomic.AtomicBoolean
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.channels.Channel
import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow
import kotlinx.coroutines.flow.receiveAsFlow
import kotlinx.coroutines.withContext

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
 * event there (non-blocking, unbounded) and [events] delivers it in the collector's coroutine
 * context (e.g. `Dispatchers.Main` on Android). The suspend functions resume in the caller's
 * context too. Every method may be called from any thread.
 *
 * Errors: every call throws [PeerChatException] subclasses, as documented on [Engine].
 *
 * @param config server URL, display name, ICE settings; checked at once.
 * @throws PeerChatException.InvalidConfig or [PeerChatException.InvalidName] for a bad config.
 */
class PeerChatClient(config: EngineConfig) : AutoCloseable {
    private val queue = Channel<PeerChatEvent>(Channel.UNLIMITED)
    private val state = MutableStateFlow<SignalingState>(SignalingState.Connecting)
    private val engine = Engine(config, ChannelListener(queue, state))
    private val closed = AtomicBoolean(false)

    /**
     * Every event of this client, in the order the engine reported them, from construction on
     * (events that arrive before collection starts are buffered, unbounded). The flow completes
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
     * Creates a room and enters it; returns it with its code and no members.
     * @throws PeerChatException.AlreadyInRoom, [PeerChatException.Signaling],
     *   [PeerChatException.Timeout], [PeerChatException.Server], [PeerChatException.Shutdown].
     */
    suspend fun createRoom(): RoomInfo = engine.createRoom()

    /**
     * Joins the room with [code] (any case, separators optional); returns it with the members
     * already present. Wait for [PeerChatEvent.PeerStateChanged] with [PeerState.CONNECTED]
     * before sending.
     * @throws PeerChatException.InvalidRoomCode (before any traffic),
     *   [PeerChatException.Server] with `code` `room_not_found` or `room_full`,
     *   [PeerChatException.AlreadyInRoom], [PeerChatException.Signaling],
     *   [PeerChatException.Timeout], [PeerChatException.Shutdown].
     */
    suspend fun joinRoom(code: String): RoomInfo = engine.joinRoom(code)

    /**
     * Sends [text] to every connected peer and returns the message id at once (no suspension);
     * [PeerChatEvent.MessageStatusChanged] follows per peer.
     * @throws PeerChatException.EmptyMessage, [PeerChatException.MessageTooLarge],
     *   [PeerChatException.NotInRoom], [PeerChatException.NoConnectedPeer],
     *   [PeerChatException.Shutdown].
     */
    fun sendMessage(text: String): String = engine.sendMessage(text)

    /**
     * Leaves the room; the other peers get `peer_left`.
     * @throws PeerChatException.NotInRoom, [PeerChatException.Signaling],
     *   [PeerChatException.Timeout], [PeerChatException.Shutdown].
     */
    suspend fun leaveRoom() = engine.leaveRoom()

    /**
     * Closes every connection (the server tells the room at once) and stops the engine; later
     * calls throw [PeerChatException.Shutdown]. The native call blocks up to 2 s while the
     * connections close, so it runs on [Dispatchers.IO]. Idempotent.
     */
    suspend fun shutdown() = withContext(Dispatchers.IO) { engine.shutdown() }

    /**
     * Shuts down (blocking the calling thread up to 2 s: call [shutdown] first from a
     * coroutine, or close off the main thread), releases the native engine and completes
     * [events]. Idempotent; other methods throw `IllegalStateException` afterwards.
     */
    override fun close() {
        if (closed.compareAndSet(false, true)) {
            engine.shutdown()
            engine.close()
            queue.close()
        }
    }
}

/**
 * The listener handed to the engine: turns each callback into an event on [queue], and keeps
 * [state] current.
 */
private class ChannelListener(
    private val queue: Channel<PeerChatEvent>,
    private val state: MutableStateFlow<SignalingState>,
) : EngineListener {
    // trySend on an unbounded channel never blocks and never throws; after close() it fails
    // quietly, which is what a late event from a closed engine should do.
    private fun emit(event: PeerChatEvent) {
        queue.trySend(event)
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
}
