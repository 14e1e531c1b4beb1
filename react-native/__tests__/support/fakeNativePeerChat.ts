/**
 * A test double of the `PeerChat` Turbo Module at the native-module boundary.
 *
 * It is typed as the codegen `Spec`, so it has exactly the spec's methods and event emitters
 * (tsc fails if the spec changes and this double does not). Every method call is recorded with
 * a deferred promise that the test settles, in any order relative to events, the way the
 * native side settles promises on its own threads. Events are pushed with `emit`, and
 * rejections are built as React Native builds them (`Error` with `code` and `userInfo`).
 */
import type { CodegenTypes, EventSubscription } from 'react-native';

import type {
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
} from '../../src/NativePeerChat';

/** Payload of each spec event emitter, by emitter name. */
export interface NativeEvents {
  onSignalingState: NativeSignalingStateEvent;
  onRoomCreated: NativeRoomEvent;
  onRoomJoined: NativeRoomEvent;
  onPeerJoined: NativePeerJoinedEvent;
  onPeerState: NativePeerStateEvent;
  onPeerLeft: NativePeerLeftEvent;
  onPeerInterrupted: NativePeerEvent;
  onPeerResumed: NativePeerEvent;
  onMessage: NativeMessageEvent;
  onMessageStatus: NativeMessageStatusEvent;
  onError: NativeErrorEvent;
}

type AsyncMethods = {
  createEngine: { args: [string, NativeEngineConfig]; result: void };
  createRoom: { args: [string]; result: NativeRoomInfo };
  joinRoom: { args: [string, string]; result: NativeRoomInfo };
  sendMessage: { args: [string, string]; result: string };
  leaveRoom: { args: [string]; result: void };
  peers: { args: [string]; result: NativePeer[] };
  connectedPeers: { args: [string]; result: number };
  roomCode: { args: [string]; result: string | null };
  peerId: { args: [string]; result: string | null };
};

/** One recorded call of a promise-returning method, settled by the test. */
export interface PendingCall<M extends keyof AsyncMethods> {
  method: M;
  args: AsyncMethods[M]['args'];
  resolve(value: AsyncMethods[M]['result']): void;
  reject(error: Error): void;
}

/** A rejection as React Native's promise bridge builds it. */
export function nativeRejection(code: string, message: string, serverCode?: string): Error {
  const error = new Error(message) as Error & { code: string; userInfo: Record<string, string> };
  error.code = code;
  error.userInfo = serverCode === undefined ? { code } : { code, serverCode };
  return error;
}

type AnyCall = { [M in keyof AsyncMethods]: PendingCall<M> }[keyof AsyncMethods];

export class FakeNativePeerChat implements Spec {
  /** Calls not yet taken by `nextCall`, in call order. */
  private queue: AnyCall[] = [];
  private waiters: Array<() => void> = [];
  private handlers = new Map<keyof NativeEvents, Set<(e: unknown) => void>>();
  /** Ids passed to `destroyEngine`. */
  destroyed: string[] = [];
  /** Every method call, for assertions on order and arguments. */
  log: Array<{ method: string; args: unknown[] }> = [];

  reset(): void {
    this.queue = [];
    this.waiters = [];
    this.handlers = new Map();
    this.destroyed = [];
    this.log = [];
  }

  private record<M extends keyof AsyncMethods>(method: M, args: AsyncMethods[M]['args']): Promise<AsyncMethods[M]['result']> {
    this.log.push({ method, args: [...args] });
    return new Promise((resolve, reject) => {
      const call = { method, args, resolve, reject } as unknown as AnyCall;
      this.queue.push(call);
      for (const wake of this.waiters.splice(0)) wake();
    });
  }

  /**
   * The oldest unsettled call, which must be of `method` (anything else fails the test).
   * Waits for it up to `timeoutMs`.
   */
  async nextCall<M extends keyof AsyncMethods>(method: M, timeoutMs = 5000): Promise<PendingCall<M>> {
    const deadline = Date.now() + timeoutMs;
    while (this.queue.length === 0) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no native call to ${method} within ${timeoutMs} ms`);
      await new Promise<void>((wake, fail) => {
        const timer = setTimeout(() => fail(new Error(`no native call to ${method} within ${timeoutMs} ms`)), left);
        this.waiters.push(() => {
          clearTimeout(timer);
          wake();
        });
      });
    }
    const call = this.queue.shift()!;
    if (call.method !== method) {
      throw new Error(`expected a native call to ${method}, got ${call.method}(${JSON.stringify(call.args)})`);
    }
    return call as unknown as PendingCall<M>;
  }

  /** Whether calls are waiting to be settled. */
  get pending(): number {
    return this.queue.length;
  }

  /** Pushes an event to every listener of `event`, as the native module's `emitOn…` does. */
  emit<K extends keyof NativeEvents>(event: K, payload: NativeEvents[K]): void {
    for (const h of [...(this.handlers.get(event) ?? [])]) h(payload);
  }

  /** Listeners currently attached to `event`. */
  listenerCount(event: keyof NativeEvents): number {
    return this.handlers.get(event)?.size ?? 0;
  }

  private emitter<K extends keyof NativeEvents>(event: K): CodegenTypes.EventEmitter<NativeEvents[K]> {
    return (handler) => {
      let set = this.handlers.get(event);
      if (set === undefined) {
        set = new Set();
        this.handlers.set(event, set);
      }
      const h = (e: unknown) => void handler(e as NativeEvents[K]);
      set.add(h);
      const owner = set;
      const subscription: EventSubscription = { remove: () => void owner.delete(h) };
      return subscription;
    };
  }

  createEngine(engineId: string, config: NativeEngineConfig): Promise<void> {
    return this.record('createEngine', [engineId, config]);
  }
  createRoom(engineId: string): Promise<NativeRoomInfo> {
    return this.record('createRoom', [engineId]);
  }
  joinRoom(engineId: string, code: string): Promise<NativeRoomInfo> {
    return this.record('joinRoom', [engineId, code]);
  }
  sendMessage(engineId: string, text: string): Promise<string> {
    return this.record('sendMessage', [engineId, text]);
  }
  leaveRoom(engineId: string): Promise<void> {
    return this.record('leaveRoom', [engineId]);
  }
  peers(engineId: string): Promise<NativePeer[]> {
    return this.record('peers', [engineId]);
  }
  connectedPeers(engineId: string): Promise<number> {
    return this.record('connectedPeers', [engineId]);
  }
  roomCode(engineId: string): Promise<string | null> {
    return this.record('roomCode', [engineId]);
  }
  peerId(engineId: string): Promise<string | null> {
    return this.record('peerId', [engineId]);
  }
  destroyEngine(engineId: string): void {
    this.log.push({ method: 'destroyEngine', args: [engineId] });
    this.destroyed.push(engineId);
  }
  shutdownEngine(engineId: string): Promise<void> {
    this.log.push({ method: 'shutdownEngine', args: [engineId] });
    this.destroyed.push(engineId);
    return Promise.resolve();
  }
  pauseEngine(engineId: string): void {
    this.log.push({ method: 'pauseEngine', args: [engineId] });
  }
  resumeEngine(engineId: string): void {
    this.log.push({ method: 'resumeEngine', args: [engineId] });
  }
  networkChanged(engineId: string): void {
    this.log.push({ method: 'networkChanged', args: [engineId] });
  }

  readonly onSignalingState = this.emitter('onSignalingState');
  readonly onRoomCreated = this.emitter('onRoomCreated');
  readonly onRoomJoined = this.emitter('onRoomJoined');
  readonly onPeerJoined = this.emitter('onPeerJoined');
  readonly onPeerState = this.emitter('onPeerState');
  readonly onPeerLeft = this.emitter('onPeerLeft');
  readonly onPeerInterrupted = this.emitter('onPeerInterrupted');
  readonly onPeerResumed = this.emitter('onPeerResumed');
  readonly onMessage = this.emitter('onMessage');
  readonly onMessageStatus = this.emitter('onMessageStatus');
  readonly onError = this.emitter('onError');
}

declare global {
  // eslint-disable-next-line no-var
  var __peerChatFake: FakeNativePeerChat | undefined;
}

/** The double that `TurboModuleRegistry.getEnforcing('PeerChat')` returns in tests. */
export function fakeNative(): FakeNativePeerChat {
  globalThis.__peerChatFake ??= new FakeNativePeerChat();
  return globalThis.__peerChatFake;
}
