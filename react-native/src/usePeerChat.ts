/**
 * `usePeerChat`: a React hook holding one engine's connection state, room, peers and chat
 * timeline, with create / join / send / leave actions (leave, then create or join again, reuses
 * the engine).
 */
import { useCallback, useEffect, useReducer, useRef } from 'react';
import { AppState } from 'react-native';

import { createEngine } from './engine';
import type { PeerChatEngine, PeerChatEvents } from './engine';
import { PeerChatError, toPeerChatError } from './errors';
import type {
  ChatMessage,
  MessageStatus,
  PeerChatConfig,
  LeaveReason,
  PeerState,
  ReconnectInfo,
  RoomInfo,
  SignalingState,
} from './types';

/** Everything of {@link PeerChatConfig} except the display name, which each create/join passes. */
export type UsePeerChatOptions = Omit<PeerChatConfig, 'displayName'> & {
  /**
   * Follow React Native's `AppState` (default `true`): `background` pauses the engine,
   * `active` resumes it (reconnecting at once); `inactive` (iOS, transient) is ignored. Set
   * `false` to call {@link PeerChatEngine.pause}/{@link PeerChatEngine.resume} yourself.
   */
  followAppState?: boolean;
};

/** What the hook is doing. */
export type PeerChatPhase = 'idle' | 'creating' | 'joining' | 'in_room' | 'leaving';

/** A member of the current room as the hook tracks it. */
export interface PeerView {
  peerId: string;
  name: string;
  /** `connecting` until its data channel opens. */
  state: PeerState;
  /**
   * Its signaling connection dropped and the server keeps its session (`peerInterrupted`)
   * until it resumes or times out. The chat with it goes on while `state` is `connected`; if
   * its data channel is gone too, it probably crashed or lost its network.
   */
  interrupted: boolean;
}

/**
 * Summary of an own message's delivery over every recipient: `sending` before any status,
 * `delivered` once every recipient acknowledged, `failed` once none is pending and one failed,
 * otherwise `sent`.
 */
export type DeliveryStatus = 'sending' | 'sent' | 'delivered' | 'failed';

/** A chat message in the timeline, own or received. */
export interface TimelineMessage {
  kind: 'message';
  /** Message id (the engine's UUID). */
  id: string;
  /** Sent by this device. */
  own: boolean;
  /** Sender's peer id; `null` for own messages. */
  peerId: string | null;
  senderName: string;
  text: string;
  /** Sender's clock, ms since the Unix epoch (own messages: when `sendMessage` resolved). */
  sentAtMs: number;
  /** Own messages: status per recipient peer id. Empty for received ones. */
  deliveries: Readonly<Record<string, MessageStatus>>;
  /** Own messages: {@link DeliveryStatus}; `null` for received ones. */
  status: DeliveryStatus | null;
}

/**
 * A peer arrived, went, or lost and regained its signaling connection: `peer_joined`,
 * `peer_left` (left or shut down), `peer_disconnected` (its WebSocket closed, protocol v1),
 * `peer_timed_out` (interrupted and not back within the server's grace period),
 * `peer_interrupted`, `peer_resumed`.
 */
export interface TimelineNotice {
  kind: 'notice';
  id: string;
  event: 'peer_joined' | 'peer_left' | 'peer_disconnected' | 'peer_timed_out' | 'peer_interrupted' | 'peer_resumed';
  peerId: string;
  name: string;
  /** Local clock, ms since the Unix epoch. */
  atMs: number;
}

/** One entry of the chat timeline. */
export type TimelineItem = TimelineMessage | TimelineNotice;

/** The hook's state. */
export interface PeerChatState {
  phase: PeerChatPhase;
  /** `null` while no engine runs. */
  signalingState: SignalingState | null;
  /**
   * While `signalingState` is `reconnecting`: the attempt (from 1) and the delay (ms) before
   * the engine dials again; `null` otherwise. The engine reconnects by itself; the room and
   * open chats stay.
   */
  reconnect: ReconnectInfo | null;
  /** The room we are in, or `null`. */
  room: RoomInfo | null;
  /** Whether we created the room (`false` when we joined it). */
  createdRoom: boolean;
  /** Other members of the room, in order of arrival. */
  peers: PeerView[];
  /** Messages and notices in the order this device saw them (chronological). */
  timeline: TimelineItem[];
  /** The last error, until {@link PeerChat.clearError} or the next action. */
  error: PeerChatError | null;
  /** Display name of the running engine. */
  displayName: string | null;
}

/** What {@link usePeerChat} returns. */
export interface PeerChat extends PeerChatState {
  /** Only the messages of the timeline. */
  messages: TimelineMessage[];
  /** Whether some peer's data channel is open (a message can be sent). */
  chatReady: boolean;
  /** Starts (or reuses) the engine under `displayName` and creates a room; `null` on error (see `error`). */
  createRoom(displayName: string): Promise<RoomInfo | null>;
  /** Starts (or reuses) the engine under `displayName` and joins `code`; `null` on error. */
  joinRoom(displayName: string, code: string): Promise<RoomInfo | null>;
  /** Sends text; resolves `true` when the engine took it, `false` on error. */
  sendMessage(text: string): Promise<boolean>;
  /** Leaves the room and clears the room state; the engine stays for the next create/join. */
  leaveRoom(): Promise<void>;
  /** Forgets the last error. */
  clearError(): void;
}

type Action =
  | { type: 'engine'; signalingState: SignalingState | null; displayName: string | null }
  | { type: 'signaling'; state: SignalingState; reconnect: ReconnectInfo | null }
  | { type: 'peer_interrupted'; peerId: string; interrupted: boolean; atMs: number }
  | { type: 'phase'; phase: PeerChatPhase }
  | { type: 'entered'; room: RoomInfo; created: boolean }
  | { type: 'peer_joined'; peerId: string; name: string; atMs: number }
  | { type: 'peer_state'; peerId: string; state: PeerState }
  | { type: 'peer_left'; peerId: string; reason: LeaveReason; atMs: number }
  | { type: 'received'; message: ChatMessage }
  | { type: 'own_sent'; id: string; text: string; atMs: number }
  | { type: 'status'; messageId: string; peerId: string; status: MessageStatus }
  | { type: 'left' }
  | { type: 'error'; error: PeerChatError | null };

interface InternalState extends PeerChatState {
  /** Statuses that arrived before `sendMessage` resolved with their message id. */
  earlyStatuses: Record<string, Record<string, MessageStatus>>;
}

const initialState: InternalState = {
  phase: 'idle',
  signalingState: null,
  reconnect: null,
  room: null,
  createdRoom: false,
  peers: [],
  timeline: [],
  error: null,
  displayName: null,
  earlyStatuses: {},
};

/** A later status never goes back: `delivered` and `failed` are final. */
function mergeStatus(old: MessageStatus | undefined, next: MessageStatus): MessageStatus {
  if (old === 'delivered' || old === 'failed') return old;
  return next;
}

/** See {@link DeliveryStatus}. */
export function summarizeDeliveries(deliveries: Readonly<Record<string, MessageStatus>>): DeliveryStatus {
  const all = Object.values(deliveries);
  if (all.length === 0) return 'sending';
  if (all.every((s) => s === 'delivered')) return 'delivered';
  if (all.some((s) => s === 'sent')) return 'sent';
  return 'failed';
}

function reducer(state: InternalState, action: Action): InternalState {
  switch (action.type) {
    case 'engine':
      return { ...state, signalingState: action.signalingState, reconnect: null, displayName: action.displayName };
    case 'signaling':
      return { ...state, signalingState: action.state, reconnect: action.reconnect };
    case 'peer_interrupted': {
      const peer = state.peers.find((p) => p.peerId === action.peerId);
      if (state.room === null || peer === undefined || peer.interrupted === action.interrupted) return state;
      const event = action.interrupted ? 'peer_interrupted' : 'peer_resumed';
      const notice: TimelineNotice = {
        kind: 'notice',
        id: `${event}-${action.peerId}-${action.atMs}-${state.timeline.length}`,
        event,
        peerId: action.peerId,
        name: peer.name,
        atMs: action.atMs,
      };
      return {
        ...state,
        peers: state.peers.map((p) => (p.peerId === action.peerId ? { ...p, interrupted: action.interrupted } : p)),
        timeline: [...state.timeline, notice],
      };
    }
    case 'phase':
      return { ...state, phase: action.phase };
    case 'entered':
      return {
        ...state,
        phase: 'in_room',
        room: action.room,
        createdRoom: action.created,
        peers: action.room.members.map((m) => ({ peerId: m.peerId, name: m.name, state: 'connecting', interrupted: false })),
        timeline: [],
        earlyStatuses: {},
        error: null,
      };
    case 'peer_joined': {
      if (state.room === null) return state;
      const peers = state.peers.some((p) => p.peerId === action.peerId)
        ? state.peers
        : [...state.peers, { peerId: action.peerId, name: action.name, state: 'connecting' as const, interrupted: false }];
      const notice: TimelineNotice = {
        kind: 'notice',
        id: `joined-${action.peerId}-${action.atMs}-${state.timeline.length}`,
        event: 'peer_joined',
        peerId: action.peerId,
        name: action.name,
        atMs: action.atMs,
      };
      return { ...state, peers, timeline: [...state.timeline, notice] };
    }
    case 'peer_state':
      return {
        ...state,
        peers: state.peers.map((p) => (p.peerId === action.peerId ? { ...p, state: action.state } : p)),
      };
    case 'peer_left': {
      const peer = state.peers.find((p) => p.peerId === action.peerId);
      if (state.room === null || peer === undefined) return state;
      const notice: TimelineNotice = {
        kind: 'notice',
        id: `left-${action.peerId}-${action.atMs}-${state.timeline.length}`,
        event: ({ left: 'peer_left', disconnected: 'peer_disconnected', timeout: 'peer_timed_out' } as const)[action.reason],
        peerId: action.peerId,
        name: peer.name,
        atMs: action.atMs,
      };
      return {
        ...state,
        peers: state.peers.filter((p) => p.peerId !== action.peerId),
        timeline: [...state.timeline, notice],
      };
    }
    case 'received': {
      const m = action.message;
      if (state.room === null || state.timeline.some((i) => i.kind === 'message' && i.id === m.id)) {
        return state;
      }
      const item: TimelineMessage = {
        kind: 'message',
        id: m.id,
        own: false,
        peerId: m.peerId,
        senderName: m.senderName,
        text: m.text,
        sentAtMs: m.sentAtMs,
        deliveries: {},
        status: null,
      };
      return { ...state, timeline: [...state.timeline, item] };
    }
    case 'own_sent': {
      if (state.room === null) return state;
      const deliveries = state.earlyStatuses[action.id] ?? {};
      const { [action.id]: _applied, ...earlyStatuses } = state.earlyStatuses;
      const item: TimelineMessage = {
        kind: 'message',
        id: action.id,
        own: true,
        peerId: null,
        senderName: state.displayName ?? '',
        text: action.text,
        sentAtMs: action.atMs,
        deliveries,
        status: summarizeDeliveries(deliveries),
      };
      return { ...state, timeline: [...state.timeline, item], earlyStatuses };
    }
    case 'status': {
      if (state.room === null) return state;
      const index = state.timeline.findIndex((i) => i.kind === 'message' && i.own && i.id === action.messageId);
      if (index < 0) {
        const early = state.earlyStatuses[action.messageId] ?? {};
        return {
          ...state,
          earlyStatuses: {
            ...state.earlyStatuses,
            [action.messageId]: { ...early, [action.peerId]: mergeStatus(early[action.peerId], action.status) },
          },
        };
      }
      const item = state.timeline[index] as TimelineMessage;
      const deliveries = { ...item.deliveries, [action.peerId]: mergeStatus(item.deliveries[action.peerId], action.status) };
      const timeline = [...state.timeline];
      timeline[index] = { ...item, deliveries, status: summarizeDeliveries(deliveries) };
      return { ...state, timeline };
    }
    case 'left':
      return {
        ...state,
        phase: 'idle',
        room: null,
        createdRoom: false,
        peers: [],
        timeline: [],
        earlyStatuses: {},
      };
    case 'error':
      return { ...state, error: action.error };
  }
}

/**
 * Holds one engine for the component's lifetime (destroyed on unmount, or replaced when a
 * create/join passes a different display name or the options change).
 */
export function usePeerChat(options: UsePeerChatOptions): PeerChat {
  const [state, dispatch] = useReducer(reducer, initialState);
  const engineRef = useRef<PeerChatEngine | null>(null);
  const optionsRef = useRef(options);
  const optionsKey = JSON.stringify(options);
  const busyRef = useRef(false);
  const engineNameRef = useRef<string | null>(null);

  const dropEngine = useCallback(() => {
    const engine = engineRef.current;
    engineRef.current = null;
    engineNameRef.current = null;
    if (engine !== null) {
      engine.destroy();
    }
    dispatch({ type: 'engine', signalingState: null, displayName: null });
  }, []);

  // The app lifecycle: background → pause, active → resume (opt out with followAppState: false).
  const followAppState = options.followAppState !== false;
  useEffect(() => {
    if (!followAppState) return undefined;
    const subscription = AppState.addEventListener('change', (next) => {
      const engine = engineRef.current;
      if (engine === null || engine.destroyed) return;
      if (next === 'background') engine.pause();
      else if (next === 'active') engine.resume();
    });
    return () => subscription.remove();
  }, [followAppState]);

  // New options: the next create/join starts a fresh engine with them.
  useEffect(() => {
    optionsRef.current = JSON.parse(optionsKey) as UsePeerChatOptions;
    return () => {
      dropEngine();
      dispatch({ type: 'left' });
    };
  }, [optionsKey, dropEngine]);

  const ensureEngine = useCallback(
    async (displayName: string): Promise<PeerChatEngine> => {
      const current = engineRef.current;
      if (current !== null && !current.destroyed && engineNameRef.current === displayName) {
        return current;
      }
      dropEngine();
      const { followAppState: _lifecycleOption, ...config } = optionsRef.current;
      const engine = await createEngine({ ...config, displayName });
      engineRef.current = engine;
      engineNameRef.current = displayName;
      const mine = <K extends keyof PeerChatEvents>(k: K, f: (p: PeerChatEvents[K]) => void) =>
        engine.on(k, (p) => {
          if (engineRef.current === engine) f(p);
        });
      mine('signalingState', (s) => dispatch({ type: 'signaling', state: s, reconnect: engine.reconnect }));
      mine('peerInterrupted', (p) =>
        dispatch({ type: 'peer_interrupted', peerId: p.peerId, interrupted: true, atMs: Date.now() }),
      );
      mine('peerResumed', (p) =>
        dispatch({ type: 'peer_interrupted', peerId: p.peerId, interrupted: false, atMs: Date.now() }),
      );
      mine('peerJoined', (p) => dispatch({ type: 'peer_joined', peerId: p.peerId, name: p.name, atMs: Date.now() }));
      mine('peerState', (p) => dispatch({ type: 'peer_state', peerId: p.peerId, state: p.state }));
      mine('peerLeft', (p) => dispatch({ type: 'peer_left', peerId: p.peerId, reason: p.reason, atMs: Date.now() }));
      mine('message', (m) => dispatch({ type: 'received', message: m }));
      mine('messageStatus', (s) =>
        dispatch({ type: 'status', messageId: s.messageId, peerId: s.peerId, status: s.status }),
      );
      mine('error', (e) => dispatch({ type: 'error', error: e }));
      dispatch({ type: 'engine', signalingState: engine.signalingState, displayName });
      return engine;
    },
    [dropEngine],
  );

  const enter = useCallback(
    async (
      displayName: string,
      phase: 'creating' | 'joining',
      run: (engine: PeerChatEngine) => Promise<RoomInfo>,
    ): Promise<RoomInfo | null> => {
      if (busyRef.current) return null;
      busyRef.current = true;
      dispatch({ type: 'error', error: null });
      dispatch({ type: 'phase', phase });
      try {
        const engine = await ensureEngine(displayName);
        const room = await run(engine);
        dispatch({ type: 'entered', room, created: phase === 'creating' });
        return room;
      } catch (e) {
        dispatch({ type: 'phase', phase: 'idle' });
        dispatch({ type: 'error', error: toPeerChatError(e) });
        return null;
      } finally {
        busyRef.current = false;
      }
    },
    [ensureEngine],
  );

  const createRoom = useCallback(
    (displayName: string) => enter(displayName, 'creating', (e) => e.createRoom()),
    [enter],
  );

  const joinRoom = useCallback(
    (displayName: string, code: string) => enter(displayName, 'joining', (e) => e.joinRoom(code)),
    [enter],
  );

  const sendMessage = useCallback(async (text: string): Promise<boolean> => {
    const engine = engineRef.current;
    if (engine === null) {
      dispatch({ type: 'error', error: new PeerChatError('not_in_room', 'not in a room') });
      return false;
    }
    try {
      const id = await engine.sendMessage(text);
      dispatch({ type: 'own_sent', id, text, atMs: Date.now() });
      dispatch({ type: 'error', error: null });
      return true;
    } catch (e) {
      dispatch({ type: 'error', error: toPeerChatError(e) });
      return false;
    }
  }, []);

  const leaveRoom = useCallback(async (): Promise<void> => {
    const engine = engineRef.current;
    if (busyRef.current) return;
    busyRef.current = true;
    dispatch({ type: 'phase', phase: 'leaving' });
    try {
      if (engine !== null) {
        await engine.leaveRoom();
      }
    } catch (e) {
      const error = toPeerChatError(e);
      if (error.code !== 'not_in_room') {
        // The engine may still think it is in the room: start afresh next time.
        dropEngine();
        dispatch({ type: 'error', error });
      }
    } finally {
      dispatch({ type: 'left' });
      busyRef.current = false;
    }
  }, [dropEngine]);

  const clearError = useCallback(() => dispatch({ type: 'error', error: null }), []);

  const { earlyStatuses: _internal, ...publicState } = state;
  return {
    ...publicState,
    messages: state.timeline.filter((i): i is TimelineMessage => i.kind === 'message'),
    chatReady: state.peers.some((p) => p.state === 'connected'),
    createRoom,
    joinRoom,
    sendMessage,
    leaveRoom,
    clearError,
  };
}
