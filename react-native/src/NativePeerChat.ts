/**
 * Codegen spec of the `PeerChat` Turbo Module (new architecture).
 *
 * React Native's codegen reads this file and generates the native base classes
 * (`NativePeerChatSpec` in Kotlin/Java, `NativePeerChatSpecJSI`/`NativePeerChatSpecBase` in
 * Objective-C++). Android and iOS implement it in `android/` and `ios/`.
 *
 * The native side wraps the uniffi bindings of the Rust engine (`peerchat-core`'s `Engine`).
 * One module serves any number of engines; each engine is addressed by the `engineId` the
 * caller chose in `createEngine` (chosen by JS so that JS can listen before the engine starts
 * and miss no event), and every event carries the `engineId` it comes from.
 *
 * Enumerations travel as their snake_case strings (`connected`, `room_full`, …); the typed
 * wrapper in `engine.ts` checks them. Times are ms since the Unix epoch (doubles, exact up to
 * 2^53).
 *
 * Promise rejections carry `code` = the engine's error code (see `PeerChatErrorCode`) and a
 * `userInfo` object `{ code, serverCode? }`.
 */
import type { CodegenTypes, TurboModule } from 'react-native';
import { TurboModuleRegistry } from 'react-native';

/** A STUN or TURN server (W3C `RTCIceServer`). */
export type NativeIceServer = {
  urls: string[];
  username?: string;
  credential?: string;
};

/** The engine's configuration (`EngineConfig`), field for field. */
export type NativeEngineConfig = {
  /** `ws://` or `wss://` URL of the signaling server's `/ws` endpoint. */
  signalingUrl: string;
  /** 1..=32 chars. */
  displayName: string;
  iceServers: NativeIceServer[];
  /** `all` or `relay` (W3C `RTCIceTransportPolicy`); absent = `all`. */
  iceTransportPolicy?: string;
  /** `ip:port` addresses for the ICE agent's UDP sockets; empty = every IPv4 interface. */
  iceUdpAddrs: string[];
  /** Resolve remote `*.local` (mDNS) ICE candidates; the engine's default is `true`. */
  resolveMdnsCandidates: boolean;
  /** ms, > 0. */
  signalingTimeoutMs: number;
  /** ms, > 0. */
  peerConnectTimeoutMs: number;
  /** Extra CA certificate(s), PEM text, trusted for a `wss://` URL; absent = web roots only. */
  caCertPem?: string;
  /** Bearer token for servers run with `--auth-secret`; absent = none. */
  authToken?: string;
};

/** A peer in a room. */
export type NativePeer = {
  peerId: string;
  name: string;
};

/** A room the engine created or joined. */
export type NativeRoomInfo = {
  /** Canonical code, `ABC-DEF-GHJ`. */
  code: string;
  capacity: CodegenTypes.Int32;
  /** The other members present when the engine entered. */
  members: NativePeer[];
};

/** A chat message received from a peer. */
export type NativeChatMessage = {
  id: string;
  peerId: string;
  senderName: string;
  text: string;
  /** Sender's clock, ms since the Unix epoch. */
  sentAtMs: CodegenTypes.Double;
  /** 1 for the sender's first message to this engine, then +1 each. */
  seq: CodegenTypes.Double;
};

/**
 * `on_signaling_state`; `state` is `connecting`, `connected`, `reconnecting` or
 * `disconnected`. With `reconnecting` (only then) `attempt` (dials since the session was last
 * ready, from 1) and `nextRetryMs` (delay before the next dial, ms) are set.
 */
export type NativeSignalingStateEvent = {
  engineId: string;
  state: string;
  attempt?: CodegenTypes.Int32;
  nextRetryMs?: CodegenTypes.Double;
};

/** `on_room_created` and `on_room_joined`. */
export type NativeRoomEvent = {
  engineId: string;
  room: NativeRoomInfo;
};

/** `on_peer_joined`. */
export type NativePeerJoinedEvent = {
  engineId: string;
  peer: NativePeer;
};

/** `on_peer_state`; `state` is `connecting`, `connected`, `interrupted`, `closed` or `failed`. */
export type NativePeerStateEvent = {
  engineId: string;
  peerId: string;
  state: string;
};

/** `on_peer_interrupted` and `on_peer_resumed`. */
export type NativePeerEvent = {
  engineId: string;
  peerId: string;
};

/** `on_peer_left`; `reason` is `left`, `disconnected` or `timeout`. */
export type NativePeerLeftEvent = {
  engineId: string;
  peerId: string;
  reason: string;
};

/** `on_message`. */
export type NativeMessageEvent = {
  engineId: string;
  message: NativeChatMessage;
};

/** `on_message_status`; `status` is `sent`, `delivered` or `failed`. */
export type NativeMessageStatusEvent = {
  engineId: string;
  messageId: string;
  peerId: string;
  status: string;
};

/** `on_error`: `code` is an engine error code, `serverCode` is set when `code` is `server`. */
export type NativeErrorEvent = {
  engineId: string;
  code: string;
  message: string;
  serverCode?: string;
};

export interface Spec extends TurboModule {
  /**
   * Starts an engine (`Engine::new`) under `engineId`. Rejects with `invalid_config` (also when
   * `engineId` is already in use) or `invalid_name`.
   */
  createEngine(engineId: string, config: NativeEngineConfig): Promise<void>;
  /** `Engine::create_room`. */
  createRoom(engineId: string): Promise<NativeRoomInfo>;
  /** `Engine::join_room`. */
  joinRoom(engineId: string, code: string): Promise<NativeRoomInfo>;
  /** `Engine::send_message`; resolves with the message id. */
  sendMessage(engineId: string, text: string): Promise<string>;
  /** `Engine::leave_room`. */
  leaveRoom(engineId: string): Promise<void>;
  /** `Engine::peers`: the room's other peers now (empty outside a room). */
  peers(engineId: string): Promise<NativePeer[]>;
  /** `Engine::connected_peers`: how many peers have an open data channel (0 outside a room). */
  connectedPeers(engineId: string): Promise<CodegenTypes.Int32>;
  /** `Engine::room_code`: the canonical code of the room the engine is in, or null. */
  roomCode(engineId: string): Promise<string | null>;
  /** `Engine::peer_id`: this engine's server-assigned peer id (null before `welcome`). */
  peerId(engineId: string): Promise<string | null>;
  /**
   * Starts `Engine::shutdown` (returns at once; the teardown runs in the background), then
   * forgets the engine. Idempotent; unknown ids are ignored.
   */
  destroyEngine(engineId: string): void;
  /**
   * `Engine::shutdown`, awaited: resolves once the engine's teardown finished (at most about
   * 2 s; no thread is blocked meanwhile), then forgets the engine. Unknown ids resolve at once.
   */
  shutdownEngine(engineId: string): Promise<void>;
  /** `Engine::pause` (app to the background). Returns at once; unknown ids are ignored. */
  pauseEngine(engineId: string): void;
  /** `Engine::resume` (app to the foreground). Returns at once; unknown ids are ignored. */
  resumeEngine(engineId: string): void;
  /** `Engine::network_changed`. Returns at once; unknown ids are ignored. */
  networkChanged(engineId: string): void;

  readonly onSignalingState: CodegenTypes.EventEmitter<NativeSignalingStateEvent>;
  readonly onRoomCreated: CodegenTypes.EventEmitter<NativeRoomEvent>;
  readonly onRoomJoined: CodegenTypes.EventEmitter<NativeRoomEvent>;
  readonly onPeerJoined: CodegenTypes.EventEmitter<NativePeerJoinedEvent>;
  readonly onPeerState: CodegenTypes.EventEmitter<NativePeerStateEvent>;
  readonly onPeerLeft: CodegenTypes.EventEmitter<NativePeerLeftEvent>;
  /** A room mate's signaling connection dropped; the server keeps its session (grace period). */
  readonly onPeerInterrupted: CodegenTypes.EventEmitter<NativePeerEvent>;
  /** An interrupted room mate resumed its session (same peer id). */
  readonly onPeerResumed: CodegenTypes.EventEmitter<NativePeerEvent>;
  readonly onMessage: CodegenTypes.EventEmitter<NativeMessageEvent>;
  readonly onMessageStatus: CodegenTypes.EventEmitter<NativeMessageStatusEvent>;
  readonly onError: CodegenTypes.EventEmitter<NativeErrorEvent>;
}

export default TurboModuleRegistry.getEnforcing<Spec>('PeerChat');
