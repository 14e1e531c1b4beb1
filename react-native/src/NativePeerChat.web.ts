/**
 * The `PeerChat` module on the web (react-native-web): the same codegen `Spec` as the native
 * Turbo Module, implemented in the browser over its own `WebSocket` and `RTCPeerConnection`
 * with the peerchat browser client's modules (src/web/: byte-for-byte copies of
 * ../web/static, see src/web/README.md). Bundlers that resolve platform extensions
 * (`.web.ts` first: Metro for web, webpack/esbuild/Vite set up for react-native-web) pick this
 * file instead of `NativePeerChat.ts`; the rest of the package (`createEngine`, the hook) is
 * shared.
 *
 * It speaks the signaling protocol version 2 and the data-channel chat format of
 * docs/protocol.md, so a browser and the Rust engine (native apps, the `peerchat` CLI) chat in
 * the same rooms. Differences from the native engine, all forced by the browser:
 * - `iceUdpAddrs`, `resolveMdnsCandidates` and `caCertPem` are ignored: the browser picks its
 *   own sockets, hides host addresses behind mDNS names itself and trusts its own CA store;
 * - `authToken` travels as the `access_token` query parameter (RFC 6750 §2.3; a browser cannot
 *   set `Authorization` on a WebSocket), which the server accepts;
 * - ICE servers and `iceTransportPolicy` go to each `RTCPeerConnection` (W3C
 *   `RTCConfiguration`).
 * - `signalingTimeoutMs` bounds the wait for the signaling session before `createRoom` /
 *   `joinRoom` (then `timeout`); requests themselves time out after the browser client's
 *   REQUEST_TIMEOUT_MS (10 000 ms). `peerConnectTimeoutMs` is not applied: the browser reports
 *   a connection that cannot form as `failed` itself (ICE timeouts).
 * Error codes are the engine's (`invalid_name`, `invalid_room_code`, `server` with
 * `serverCode`, `timeout`, …), as promise rejections shaped like React Native's
 * (`Error` with `code` and `userInfo.{code, serverCode}`).
 */
import type { TurboModule } from 'react-native';

import type {
  NativeChatMessage,
  NativeEngineConfig,
  NativeErrorEvent,
  NativeMessageEvent,
  NativeMessageStatusEvent,
  NativePeer,
  NativePeerEvent,
  NativePeerJoinedEvent,
  NativePeerLeftEvent,
  NativePeerStateEvent,
  NativeRoomEvent,
  NativeRoomInfo,
  NativeSignalingStateEvent,
  Spec,
} from './NativePeerChat';
import { utf8Bytes, MAX_MESSAGE_BYTES } from './web/chat-frames.js';
import { normalizeRoomCode, validateName } from './web/protocol.js';
import { ChatSession } from './web/session.js';
import type { SessionPeer } from './web/session.js';
import { ServerError, SignalingClient } from './web/signaling.js';
import type { ServerMessage } from './web/signaling.js';

type Listener<T> = (event: T) => void;

/** One event stream of the spec (`CodegenTypes.EventEmitter<T>`): subscribe → `{remove}`. */
class Stream<T> {
  private readonly listeners = new Set<Listener<T>>();
  readonly subscribe = (listener: Listener<T>) => {
    this.listeners.add(listener);
    return { remove: () => void this.listeners.delete(listener) };
  };
  emit(event: T): void {
    for (const l of [...this.listeners]) l(event);
  }
}

/** A rejection as React Native's promise bridge builds it (what `toPeerChatError` reads). */
function failure(code: string, message: string, serverCode?: string): Error {
  const error = new Error(message) as Error & { code: string; userInfo: Record<string, string> };
  error.code = code;
  error.userInfo = serverCode === undefined ? { code } : { code, serverCode };
  return error;
}

/** The engine code for an error the browser client reported (`problem.error`). */
function fromClientError(error: unknown, text: string): Error {
  if (error instanceof ServerError) return failure('server', text, error.error.code);
  const message = error instanceof Error ? error.message : text;
  if (/did not answer in time/.test(message)) return failure('timeout', message);
  return failure('signaling', message);
}

interface Streams {
  onSignalingState: Stream<NativeSignalingStateEvent>;
  onRoomCreated: Stream<NativeRoomEvent>;
  onRoomJoined: Stream<NativeRoomEvent>;
  onPeerJoined: Stream<NativePeerJoinedEvent>;
  onPeerState: Stream<NativePeerStateEvent>;
  onPeerLeft: Stream<NativePeerLeftEvent>;
  onPeerInterrupted: Stream<NativePeerEvent>;
  onPeerResumed: Stream<NativePeerEvent>;
  onMessage: Stream<NativeMessageEvent>;
  onMessageStatus: Stream<NativeMessageStatusEvent>;
  onError: Stream<NativeErrorEvent>;
}

/** How the Spec's string enumerations travel: the link states are the engine's peer states. */
const PEER_STATE: Record<SessionPeer['state'], string> = {
  connecting: 'connecting',
  connected: 'connected',
  disconnected: 'disconnected',
  failed: 'failed',
};

/** One engine: a SignalingClient (the session with the server) and a ChatSession (the room). */
class WebEngine {
  private readonly signaling: SignalingClient;
  private readonly session: ChatSession;
  /** Peers announced to JS, by the session's key: what was last emitted. */
  private known = new Map<string, { peerId: string; state: string; interrupted: boolean }>();
  /** `peer_left` reasons from the server, read before the session drops the peer. */
  private readonly leftReasons = new Map<string, string>();
  /** While a call of ours runs, the session's `problem` events belong to it. */
  private capture: { text: string; error: unknown } | null | undefined = undefined;
  /** While entering or leaving a room, peer list changes are not reported one by one. */
  private quiet = false;

  constructor(
    private readonly id: string,
    private readonly config: NativeEngineConfig,
    private readonly displayName: string,
    private readonly streams: Streams,
  ) {
    const url =
      config.authToken === undefined
        ? config.signalingUrl
        : `${config.signalingUrl}${config.signalingUrl.includes('?') ? '&' : '?'}access_token=${encodeURIComponent(config.authToken)}`;
    // No sessionStorage: like a native engine, each engine is a new session (and several
    // engines in one page must not share a token).
    this.signaling = new SignalingClient(url, { storage: null });
    // Registered before the ChatSession's own listener is: `peer_left` reasons are known
    // when the session removes the peer.
    this.signaling.addEventListener('message', (e) => this.onServerMessage(e.detail));
    this.signaling.addEventListener('state', (e) => this.onSignalingState(e.detail));
    const rtcConfiguration = {
      iceServers: config.iceServers.map((s) => ({
        urls: [...s.urls],
        ...(s.username !== undefined ? { username: s.username } : {}),
        ...(s.credential !== undefined ? { credential: s.credential } : {}),
      })),
      iceTransportPolicy: config.iceTransportPolicy ?? 'all',
    };
    this.session = new ChatSession(this.signaling, { rtcConfiguration });
    this.session.addEventListener('peers', (e) => this.onPeers(e.detail.peers));
    this.session.addEventListener('message', (e) => {
      const m = e.detail;
      if (m.mine) return;
      const message: NativeChatMessage = {
        id: m.id,
        peerId: m.peerId ?? '',
        senderName: m.name,
        text: m.text,
        sentAtMs: m.sentAtMs,
        seq: m.seq ?? 0,
      };
      this.streams.onMessage.emit({ engineId: this.id, message });
    });
    this.session.addEventListener('delivery', (e) => {
      const d = e.detail;
      if (d.peerId === null) return;
      this.streams.onMessageStatus.emit({ engineId: this.id, messageId: d.id, peerId: d.peerId, status: d.status });
    });
    this.session.addEventListener('problem', (e) => {
      if (this.capture !== undefined) {
        this.capture = e.detail;
        return;
      }
      const err = fromClientError(e.detail.error, e.detail.text) as Error & { code: string; userInfo: { serverCode?: string } };
      this.streams.onError.emit({
        engineId: this.id,
        code: err.code,
        message: err.message,
        ...(err.userInfo.serverCode !== undefined ? { serverCode: err.userInfo.serverCode } : {}),
      });
    });
    this.signaling.connect();
  }

  private onSignalingState(state: SignalingClient['state']): void {
    const base = { engineId: this.id };
    if (state === 'reconnecting') {
      this.streams.onSignalingState.emit({
        ...base,
        state: 'reconnecting',
        attempt: this.signaling.attempt,
        nextRetryMs: this.signaling.nextRetryMs,
      });
    } else {
      const name = { connecting: 'connecting', open: 'connected', closed: 'disconnected' }[state];
      this.streams.onSignalingState.emit({ ...base, state: name });
    }
  }

  private onServerMessage(msg: ServerMessage): void {
    if (msg.type === 'peer_left' && typeof msg.peer_id === 'string' && typeof msg.reason === 'string') {
      this.leftReasons.set(msg.peer_id, msg.reason);
    }
  }

  /** Turns the session's peer list into the engine's per-peer events. */
  private onPeers(peers: SessionPeer[]): void {
    if (this.quiet) return;
    const now = new Map<string, SessionPeer>();
    for (const p of peers) if (p.peerId !== null) now.set(p.key, p);
    const engineId = this.id;
    for (const [key, p] of now) {
      const peerId = p.peerId as string;
      const state = PEER_STATE[p.state];
      const was = this.known.get(key);
      if (was === undefined) {
        this.streams.onPeerJoined.emit({ engineId, peer: { peerId, name: p.name } });
      }
      if (was?.state !== state) this.streams.onPeerState.emit({ engineId, peerId, state });
      if ((was?.interrupted ?? false) !== p.interrupted) {
        (p.interrupted ? this.streams.onPeerInterrupted : this.streams.onPeerResumed).emit({ engineId, peerId });
      }
      this.known.set(key, { peerId, state, interrupted: p.interrupted });
    }
    for (const [key, was] of [...this.known]) {
      if (now.has(key)) continue;
      this.known.delete(key);
      const reason = this.leftReasons.get(was.peerId) ?? 'disconnected';
      this.leftReasons.delete(was.peerId);
      this.streams.onPeerLeft.emit({ engineId, peerId: was.peerId, reason });
    }
  }

  /** Waits until the signaling session is ready (the engine's create/join do too). */
  private async ready(): Promise<void> {
    if (this.signaling.state === 'open') return;
    if (this.signaling.state === 'closed') throw failure('shutdown', 'the engine is shut down');
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.signaling.removeEventListener('state', onState);
        reject(failure('timeout', `no signaling session within ${this.config.signalingTimeoutMs} ms`));
      }, this.config.signalingTimeoutMs);
      const onState = (e: { detail: SignalingClient['state'] }) => {
        if (e.detail !== 'open' && e.detail !== 'closed') return;
        clearTimeout(timer);
        this.signaling.removeEventListener('state', onState);
        if (e.detail === 'open') resolve();
        else reject(failure('shutdown', 'the engine is shut down'));
      };
      this.signaling.addEventListener('state', onState);
    });
  }

  /** The problem captured so far (a method: the session's listener sets it meanwhile). */
  private capturedProblem(): { text: string; error: unknown } | null {
    return this.capture ?? null;
  }

  /** Runs one session call that reports failure as a `problem` event; rejects with it. */
  private async captured(run: () => Promise<boolean>, what: string): Promise<void> {
    this.capture = null;
    let ok: boolean;
    let problem: { text: string; error: unknown } | null;
    try {
      ok = await run();
    } finally {
      problem = this.capturedProblem();
      this.capture = undefined;
    }
    if (!ok) {
      throw problem === null ? failure('signaling', `${what} failed`) : fromClientError(problem.error, problem.text);
    }
  }

  private roomInfo(members: NativePeer[]): NativeRoomInfo {
    const chat = this.session.chat;
    if (chat === null || chat.kind !== 'room') throw failure('not_in_room', 'not in a room');
    return { code: chat.code, capacity: chat.capacity, members };
  }

  private entering<T>(run: () => Promise<T>): Promise<T> {
    this.quiet = true;
    return run().finally(() => {
      this.quiet = false;
    });
  }

  async createRoom(): Promise<NativeRoomInfo> {
    if (this.session.chat !== null) throw failure('already_in_room', 'already in a room');
    await this.ready();
    await this.captured(() => this.session.createRoom(this.displayName), 'create_room');
    const room = this.roomInfo([]);
    this.streams.onRoomCreated.emit({ engineId: this.id, room });
    return room;
  }

  async joinRoom(code: string): Promise<NativeRoomInfo> {
    const parsed = normalizeRoomCode(code);
    if (!parsed.ok) throw failure('invalid_room_code', parsed.error);
    if (this.session.chat !== null) throw failure('already_in_room', 'already in a room');
    await this.ready();
    const room = await this.entering(async () => {
      await this.captured(() => this.session.joinRoom(parsed.code, this.displayName), 'join_room');
      return this.roomInfo(this.peersNow());
    });
    this.streams.onRoomJoined.emit({ engineId: this.id, room });
    // The members are known from the room; from here on, their states as they change.
    this.onPeersSilently();
    return room;
  }

  /** Takes the members present now as already announced, then reports their states. */
  private onPeersSilently(): void {
    for (const p of this.session.peers()) {
      if (p.peerId === null) continue;
      this.known.set(p.key, { peerId: p.peerId, state: '', interrupted: false });
    }
    this.onPeers(this.session.peers());
  }

  sendMessage(text: string): string {
    if (this.session.chat === null) throw failure('not_in_room', 'not in a room');
    if (text.length === 0) throw failure('empty_message', 'the message is empty');
    const bytes = utf8Bytes(text);
    if (bytes > MAX_MESSAGE_BYTES) {
      throw failure('message_too_large', `message of ${bytes} bytes; the limit is ${MAX_MESSAGE_BYTES} bytes`);
    }
    const sent = this.session.send(text);
    if (!sent.ok) {
      const open = [...this.session.entries.values()].some((e) => e.link.isOpen);
      throw failure(open ? 'empty_message' : 'no_connected_peer', sent.error);
    }
    return sent.id;
  }

  async leaveRoom(): Promise<void> {
    if (this.session.chat === null) throw failure('not_in_room', 'not in a room');
    await this.entering(() => this.session.leave());
    this.known.clear();
    this.leftReasons.clear();
  }

  peersNow(): NativePeer[] {
    const out: NativePeer[] = [];
    for (const e of this.session.entries.values()) if (e.peerId !== null) out.push({ peerId: e.peerId, name: e.name });
    return out;
  }

  connectedPeers(): number {
    return [...this.session.entries.values()].filter((e) => e.link.isOpen).length;
  }

  roomCode(): string | null {
    const chat = this.session.chat;
    return chat !== null && chat.kind === 'room' ? chat.code : null;
  }

  peerId(): string | null {
    return this.signaling.peerId;
  }

  /** Closes the WebSocket (the server tells the room at once) and every peer connection. */
  shutdown(): void {
    this.quiet = true;
    this.signaling.close();
    void this.session.leave();
  }
}

/** The checks `Engine::new` makes, where they apply in a browser. */
function checkConfig(config: NativeEngineConfig): string {
  if (!/^wss?:\/\/[^/\s?#]+(\/\S*)?$/i.test(config.signalingUrl)) {
    throw failure('invalid_config', `signalingUrl must be a ws:// or wss:// URL, got ${JSON.stringify(config.signalingUrl)}`);
  }
  for (const [key, value] of [
    ['signalingTimeoutMs', config.signalingTimeoutMs],
    ['peerConnectTimeoutMs', config.peerConnectTimeoutMs],
  ] as const) {
    if (!(value > 0) || !Number.isFinite(value)) throw failure('invalid_config', `config.${key} must be > 0 ms`);
  }
  for (const s of config.iceServers) {
    for (const u of s.urls) {
      if (!/^(stun|stuns|turn|turns):/i.test(u)) throw failure('invalid_config', `ICE server URL must be stun: or turn:, got ${u}`);
    }
  }
  const policy = config.iceTransportPolicy;
  if (policy !== undefined && policy !== 'all' && policy !== 'relay') {
    throw failure('invalid_config', `iceTransportPolicy must be all or relay, got ${policy}`);
  }
  if (policy === 'relay' && !config.iceServers.some((s) => s.urls.some((u) => /^turns?:/i.test(u)))) {
    throw failure('invalid_config', 'iceTransportPolicy relay needs a TURN server in iceServers');
  }
  const name = validateName(config.displayName);
  if (!name.ok || name.name !== config.displayName) {
    throw failure('invalid_name', name.ok ? 'a display name has no leading or trailing spaces' : name.error);
  }
  return name.name;
}

/** The spec's methods and emitters (the TurboModule base is React Native's own). */
type SpecSurface = Omit<Spec, keyof TurboModule>;

class WebPeerChat implements SpecSurface {
  private readonly engines = new Map<string, WebEngine>();
  private readonly streams: Streams = {
    onSignalingState: new Stream(),
    onRoomCreated: new Stream(),
    onRoomJoined: new Stream(),
    onPeerJoined: new Stream(),
    onPeerState: new Stream(),
    onPeerLeft: new Stream(),
    onPeerInterrupted: new Stream(),
    onPeerResumed: new Stream(),
    onMessage: new Stream(),
    onMessageStatus: new Stream(),
    onError: new Stream(),
  };

  readonly onSignalingState = this.streams.onSignalingState.subscribe;
  readonly onRoomCreated = this.streams.onRoomCreated.subscribe;
  readonly onRoomJoined = this.streams.onRoomJoined.subscribe;
  readonly onPeerJoined = this.streams.onPeerJoined.subscribe;
  readonly onPeerState = this.streams.onPeerState.subscribe;
  readonly onPeerLeft = this.streams.onPeerLeft.subscribe;
  readonly onPeerInterrupted = this.streams.onPeerInterrupted.subscribe;
  readonly onPeerResumed = this.streams.onPeerResumed.subscribe;
  readonly onMessage = this.streams.onMessage.subscribe;
  readonly onMessageStatus = this.streams.onMessageStatus.subscribe;
  readonly onError = this.streams.onError.subscribe;

  private engine(engineId: string): WebEngine {
    const e = this.engines.get(engineId);
    if (e === undefined) throw failure('shutdown', `no engine ${engineId} (destroyed or never created)`);
    return e;
  }

  async createEngine(engineId: string, config: NativeEngineConfig): Promise<void> {
    const name = checkConfig(config);
    if (this.engines.has(engineId)) throw failure('invalid_config', `engine id ${engineId} is already in use`);
    this.engines.set(engineId, new WebEngine(engineId, config, name, this.streams));
  }

  async createRoom(engineId: string): Promise<NativeRoomInfo> {
    return this.engine(engineId).createRoom();
  }

  async joinRoom(engineId: string, code: string): Promise<NativeRoomInfo> {
    return this.engine(engineId).joinRoom(code);
  }

  async sendMessage(engineId: string, text: string): Promise<string> {
    return this.engine(engineId).sendMessage(text);
  }

  async leaveRoom(engineId: string): Promise<void> {
    return this.engine(engineId).leaveRoom();
  }

  async peers(engineId: string): Promise<NativePeer[]> {
    return this.engine(engineId).peersNow();
  }

  async connectedPeers(engineId: string): Promise<number> {
    return this.engine(engineId).connectedPeers();
  }

  async roomCode(engineId: string): Promise<string | null> {
    return this.engine(engineId).roomCode();
  }

  async peerId(engineId: string): Promise<string | null> {
    return this.engine(engineId).peerId();
  }

  destroyEngine(engineId: string): void {
    const e = this.engines.get(engineId);
    if (e === undefined) return;
    this.engines.delete(engineId);
    e.shutdown();
  }

  /** As `destroyEngine`; the browser closes its connections without waiting, so it resolves at once. */
  async shutdownEngine(engineId: string): Promise<void> {
    this.destroyEngine(engineId);
  }

  /**
   * Lifecycle calls of the native engine (app to background / foreground, network change).
   * In a browser the tab's own lifecycle applies and the browser client (web/static/session.js)
   * reconnects signaling by itself, so these are accepted and do nothing (an unknown id is
   * ignored, as natively).
   */
  pauseEngine(_engineId: string): void {}

  resumeEngine(_engineId: string): void {}

  networkChanged(_engineId: string): void {}
}

/** The module object, as `TurboModuleRegistry.getEnforcing<Spec>('PeerChat')` is natively. */
const webPeerChat: Spec = new WebPeerChat() as SpecSurface as Spec;
export default webPeerChat;
