import type { DetailEventTarget } from './events';

/** A server message (`{type, ...}`), as the wire has it (snake_case fields). */
export type ServerMessage = { type: string; [field: string]: unknown };

export interface SignalingEvents {
  state: 'connecting' | 'open' | 'reconnecting' | 'closed';
  message: ServerMessage;
  session: { kind: 'fresh' | 'resumed'; peerId: string };
  dropped: { type: string };
}

export interface SignalingClient extends DetailEventTarget<SignalingEvents> {}
export declare class SignalingClient {
  constructor(url: string, options?: { storage?: unknown; random?: () => number; WebSocketImpl?: unknown });
  readonly url: string;
  peerId: string | null;
  state: 'connecting' | 'open' | 'reconnecting' | 'closed';
  attempt: number;
  nextRetryMs: number;
  connect(): void;
  close(): void;
}

/** A refusal from the server; `error` is its `error` message (`code` in snake_case). */
export declare class ServerError extends Error {
  constructor(error: { code: string; message?: string });
  readonly error: { code: string; message?: string; request?: string };
}

export declare const REQUEST_TIMEOUT_MS: number;
