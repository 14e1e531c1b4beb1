/**
 * `createEngine`: the typed, per-engine face of the `PeerChat` Turbo Module.
 */
import type { EventSubscription } from 'react-native';

import NativePeerChat from './NativePeerChat';
import type { NativeRoomInfo, Spec } from './NativePeerChat';
import { PeerChatError, fromCodes, toPeerChatError } from './errors';
import {
  DEFAULT_PEER_CONNECT_TIMEOUT_MS,
  DEFAULT_SIGNALING_TIMEOUT_MS,
  ICE_TRANSPORT_POLICIES,
  LEAVE_REASONS,
  MESSAGE_STATUSES,
  PEER_STATES,
  SIGNALING_STATES,
} from './types';
import type {
  ChatMessage,
  LeaveReason,
  MessageStatus,
  Peer,
  PeerChatConfig,
  PeerState,
  ReconnectInfo,
  RoomInfo,
  SignalingState,
} from './types';

/** Every event an engine emits, by name, with its payload. */
export interface PeerChatEvents {
  /**
   * The session with the signaling server changed state (see {@link SignalingState}); emitted
   * once per failed dial while `reconnecting`, after {@link PeerChatEngine.reconnect} was
   * updated.
   */
  signalingState: SignalingState;
  /** `createRoom` succeeded. */
  roomCreated: RoomInfo;
  /** `joinRoom` succeeded. */
  roomJoined: RoomInfo;
  /** Another peer joined the room. */
  peerJoined: Peer;
  /** A peer's connection changed state (`connected` = chat ready). */
  peerState: { peerId: string; state: PeerState };
  /** A peer left the room; final. */
  peerLeft: { peerId: string; reason: LeaveReason };
  /**
   * A peer's signaling connection dropped; the server keeps its session for the grace period.
   * Chat goes on while its data channel is open; `peerResumed` or `peerLeft` (`timeout`)
   * follows.
   */
  peerInterrupted: { peerId: string };
  /** An interrupted peer resumed its session, same peer id. */
  peerResumed: { peerId: string };
  /** A chat message arrived. */
  message: ChatMessage;
  /** A message this engine sent changed status for one peer. */
  messageStatus: { messageId: string; peerId: string; status: MessageStatus };
  /** Something failed outside a call that could return it. */
  error: PeerChatError;
}

/** Name of a {@link PeerChatEvents} event. */
export type PeerChatEventName = keyof PeerChatEvents;

/** Handle of an event listener; `remove()` stops it. */
export interface Subscription {
  remove(): void;
}

/** One running engine. Every method rejects with a {@link PeerChatError}. */
export interface PeerChatEngine {
  /** The id the native module knows this engine by. */
  readonly id: string;
  /** The last signaling state reported (starts at `connecting`). */
  readonly signalingState: SignalingState;
  /** While `signalingState` is `reconnecting`: the attempt and the delay before the next dial; else `null`. */
  readonly reconnect: ReconnectInfo | null;
  /** Whether {@link destroy} was called. */
  readonly destroyed: boolean;
  /** Creates a room and enters it. Errors: `already_in_room`, `signaling`, `timeout`, `server`, `shutdown`. */
  createRoom(): Promise<RoomInfo>;
  /** Joins a room by code (any case, separators optional). Errors: `invalid_room_code`, `already_in_room`, `server` (`room_not_found`, `room_full`), `signaling`, `timeout`, `shutdown`. */
  joinRoom(code: string): Promise<RoomInfo>;
  /** Sends text to every connected peer; resolves with the message id. Errors: `empty_message`, `message_too_large`, `not_in_room`, `no_connected_peer`, `shutdown`. */
  sendMessage(text: string): Promise<string>;
  /** Leaves the room. Errors: `not_in_room`, `signaling`, `timeout`, `shutdown`. */
  leaveRoom(): Promise<void>;
  /** The room's other peers now (empty outside a room). Errors: `shutdown`. */
  peers(): Promise<Peer[]>;
  /** How many peers of the room have an open data channel (0 outside a room). Errors: `shutdown`. */
  connectedPeers(): Promise<number>;
  /** The canonical code (`ABC-DEF-GHJ`) of the room the engine is in, or `null`. Errors: `shutdown`. */
  roomCode(): Promise<string | null>;
  /** This engine's server-assigned peer id, or `null` before the server welcomed it. Errors: `shutdown`. */
  peerId(): Promise<string | null>;
  /**
   * Shuts the engine down and removes every listener; returns at once (the native teardown
   * runs in the background and never blocks a thread). Idempotent.
   */
  destroy(): void;
  /**
   * As {@link destroy}, and resolves once the native teardown finished (the leave and close
   * frames went out; at most about 2 s). Idempotent.
   */
  shutdown(): Promise<void>;
  /**
   * The app went to the background: the engine keeps its room and connections but does not
   * dial the signaling server again while paused; while the OS suspends the app nothing runs
   * and the server keeps the session for its grace period. {@link usePeerChat} calls it from
   * `AppState` by itself. Returns at once; ignored after {@link destroy}.
   */
  pause(): void;
  /**
   * The app is in the foreground again: reconnects at once if needed (skipping the backoff),
   * probes the connection and checks the peers. Returns at once; ignored after destroy.
   */
  resume(): void;
  /**
   * The device's network changed (e.g. from `@react-native-community/netinfo`): the engine
   * probes its connections and recovers those that died; harmless when nothing changed.
   * Returns at once; ignored after destroy.
   */
  networkChanged(): void;
  /** Listens to one event of this engine. */
  on<K extends PeerChatEventName>(
    event: K,
    listener: (payload: PeerChatEvents[K]) => void,
  ): Subscription;
}

let nextEngine = 0;

function newEngineId(): string {
  nextEngine += 1;
  return `engine-${nextEngine}-${Math.random().toString(36).slice(2, 10)}`;
}

function oneOf<T extends string>(
  allowed: readonly T[],
  value: string,
  what: string,
): T {
  if ((allowed as readonly string[]).includes(value)) {
    return value as T;
  }
  throw new PeerChatError('native', `unknown ${what} ${JSON.stringify(value)} from the native module`);
}

function oneOfConfig<T extends string>(allowed: readonly T[], value: string, field: string): T {
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new PeerChatError('invalid_config', `config.${field} must be one of ${allowed.join(', ')}, got ${JSON.stringify(value)}`);
}

function toRoom(room: NativeRoomInfo): RoomInfo {
  return {
    code: room.code,
    capacity: room.capacity,
    members: room.members.map((m) => ({ peerId: m.peerId, name: m.name })),
  };
}

class Engine implements PeerChatEngine {
  readonly id: string;
  signalingState: SignalingState = 'connecting';
  reconnect: ReconnectInfo | null = null;
  destroyed = false;
  private readonly native: Spec;
  private readonly listeners: {
    [K in PeerChatEventName]: Set<(payload: PeerChatEvents[K]) => void>;
  } = {
    signalingState: new Set(),
    roomCreated: new Set(),
    roomJoined: new Set(),
    peerJoined: new Set(),
    peerState: new Set(),
    peerLeft: new Set(),
    peerInterrupted: new Set(),
    peerResumed: new Set(),
    message: new Set(),
    messageStatus: new Set(),
    error: new Set(),
  };
  private readonly nativeSubscriptions: EventSubscription[] = [];

  constructor(native: Spec, id: string) {
    this.native = native;
    this.id = id;
    this.subscribeNative();
  }

  /** Subscribes to the module's events before the engine starts, so none is missed. */
  private subscribeNative(): void {
    const n = this.native;
    const mine = (engineId: string) => engineId === this.id && !this.destroyed;
    // Payload values outside the spec's enumerations are reported as `native` errors.
    const guarded = (fn: () => void) => {
      try {
        fn();
      } catch (e) {
        this.emit('error', toPeerChatError(e));
      }
    };
    this.nativeSubscriptions.push(
      n.onSignalingState((e) => {
        if (!mine(e.engineId)) return;
        guarded(() => {
          const state = oneOf(SIGNALING_STATES, e.state, 'signaling state');
          if (state === 'reconnecting' && (e.attempt === undefined || e.nextRetryMs === undefined)) {
            throw new PeerChatError('native', 'reconnecting without attempt/nextRetryMs from the native module');
          }
          this.signalingState = state;
          this.reconnect =
            state === 'reconnecting' ? { attempt: e.attempt as number, nextRetryMs: e.nextRetryMs as number } : null;
          this.emit('signalingState', this.signalingState);
        });
      }),
      n.onRoomCreated((e) => {
        if (mine(e.engineId)) this.emit('roomCreated', toRoom(e.room));
      }),
      n.onRoomJoined((e) => {
        if (mine(e.engineId)) this.emit('roomJoined', toRoom(e.room));
      }),
      n.onPeerJoined((e) => {
        if (mine(e.engineId)) this.emit('peerJoined', { peerId: e.peer.peerId, name: e.peer.name });
      }),
      n.onPeerState((e) => {
        if (!mine(e.engineId)) return;
        guarded(() =>
          this.emit('peerState', {
            peerId: e.peerId,
            state: oneOf(PEER_STATES, e.state, 'peer state'),
          }),
        );
      }),
      n.onPeerLeft((e) => {
        if (!mine(e.engineId)) return;
        guarded(() =>
          this.emit('peerLeft', {
            peerId: e.peerId,
            reason: oneOf(LEAVE_REASONS, e.reason, 'leave reason'),
          }),
        );
      }),
      n.onPeerInterrupted((e) => {
        if (mine(e.engineId)) this.emit('peerInterrupted', { peerId: e.peerId });
      }),
      n.onPeerResumed((e) => {
        if (mine(e.engineId)) this.emit('peerResumed', { peerId: e.peerId });
      }),
      n.onMessage((e) => {
        if (!mine(e.engineId)) return;
        const m = e.message;
        this.emit('message', {
          id: m.id,
          peerId: m.peerId,
          senderName: m.senderName,
          text: m.text,
          sentAtMs: m.sentAtMs,
          seq: m.seq,
        });
      }),
      n.onMessageStatus((e) => {
        if (!mine(e.engineId)) return;
        guarded(() =>
          this.emit('messageStatus', {
            messageId: e.messageId,
            peerId: e.peerId,
            status: oneOf(MESSAGE_STATUSES, e.status, 'message status'),
          }),
        );
      }),
      n.onError((e) => {
        if (mine(e.engineId)) this.emit('error', fromCodes(e.code, e.message, e.serverCode));
      }),
    );
  }

  private emit<K extends PeerChatEventName>(event: K, payload: PeerChatEvents[K]): void {
    for (const listener of [...this.listeners[event]]) {
      listener(payload);
    }
  }

  private async call<T>(run: () => Promise<T>): Promise<T> {
    if (this.destroyed) {
      throw new PeerChatError('shutdown', 'the engine is shut down');
    }
    try {
      return await run();
    } catch (e) {
      throw toPeerChatError(e);
    }
  }

  createRoom(): Promise<RoomInfo> {
    return this.call(async () => toRoom(await this.native.createRoom(this.id)));
  }

  joinRoom(code: string): Promise<RoomInfo> {
    return this.call(async () => toRoom(await this.native.joinRoom(this.id, code)));
  }

  sendMessage(text: string): Promise<string> {
    return this.call(() => this.native.sendMessage(this.id, text));
  }

  leaveRoom(): Promise<void> {
    return this.call(() => this.native.leaveRoom(this.id));
  }

  peers(): Promise<Peer[]> {
    return this.call(async () => (await this.native.peers(this.id)).map((p) => ({ peerId: p.peerId, name: p.name })));
  }

  connectedPeers(): Promise<number> {
    return this.call(() => this.native.connectedPeers(this.id));
  }

  roomCode(): Promise<string | null> {
    return this.call(async () => (await this.native.roomCode(this.id)) ?? null);
  }

  peerId(): Promise<string | null> {
    return this.call(async () => (await this.native.peerId(this.id)) ?? null);
  }

  /** Forgets the listeners of an engine the native side never started. */
  markDead(): void {
    this.destroyed = true;
    for (const s of this.nativeSubscriptions.splice(0)) s.remove();
    for (const set of Object.values(this.listeners)) set.clear();
  }

  destroy(): void {
    if (this.destroyed) return;
    this.forget();
    this.native.destroyEngine(this.id);
  }

  async shutdown(): Promise<void> {
    if (this.destroyed) return;
    this.forget();
    try {
      await this.native.shutdownEngine(this.id);
    } catch (e) {
      throw toPeerChatError(e);
    }
  }

  pause(): void {
    if (!this.destroyed) this.native.pauseEngine(this.id);
  }

  resume(): void {
    if (!this.destroyed) this.native.resumeEngine(this.id);
  }

  networkChanged(): void {
    if (!this.destroyed) this.native.networkChanged(this.id);
  }

  private forget(): void {
    this.destroyed = true;
    for (const s of this.nativeSubscriptions.splice(0)) s.remove();
    for (const set of Object.values(this.listeners)) set.clear();
  }

  on<K extends PeerChatEventName>(
    event: K,
    listener: (payload: PeerChatEvents[K]) => void,
  ): Subscription {
    const set = this.listeners[event];
    set.add(listener);
    return { remove: () => set.delete(listener) };
  }
}

/**
 * Starts an engine: validates `config`, then begins connecting to the signaling server
 * (watch `signalingState`). Rejects with a {@link PeerChatError}: `invalid_config` (bad URL,
 * ICE address or server, zero timeout) or `invalid_name`.
 */
export async function createEngine(config: PeerChatConfig): Promise<PeerChatEngine> {
  const native: Spec = NativePeerChat;
  const engine = new Engine(native, newEngineId());
  try {
    await native.createEngine(engine.id, {
      signalingUrl: config.signalingUrl,
      displayName: config.displayName,
      iceServers: (config.iceServers ?? []).map((s) => ({
        urls: [...s.urls],
        ...(s.username !== undefined ? { username: s.username } : {}),
        ...(s.credential !== undefined ? { credential: s.credential } : {}),
      })),
      ...(config.iceTransportPolicy !== undefined
        ? { iceTransportPolicy: oneOfConfig(ICE_TRANSPORT_POLICIES, config.iceTransportPolicy, 'iceTransportPolicy') }
        : {}),
      iceUdpAddrs: [...(config.iceUdpAddrs ?? [])],
      resolveMdnsCandidates: config.resolveMdnsCandidates ?? true,
      signalingTimeoutMs: config.signalingTimeoutMs ?? DEFAULT_SIGNALING_TIMEOUT_MS,
      peerConnectTimeoutMs: config.peerConnectTimeoutMs ?? DEFAULT_PEER_CONNECT_TIMEOUT_MS,
      ...(config.caCertPem !== undefined ? { caCertPem: config.caCertPem } : {}),
      ...(config.authToken !== undefined ? { authToken: config.authToken } : {}),
    });
  } catch (e) {
    engine.markDead();
    throw toPeerChatError(e);
  }
  return engine;
}
