import type { DetailEventTarget } from './events';
import type { SignalingClient } from './signaling';

export type LinkState = 'connecting' | 'connected' | 'disconnected' | 'failed';

export interface SessionPeer {
  key: string;
  peerId: string | null;
  name: string;
  state: LinkState;
  interrupted: boolean;
}

export interface SessionEvents {
  chat: { chat: { kind: 'room'; code: string; capacity: number } | { kind: 'login'; peerName: string } | null };
  peers: { peers: SessionPeer[] };
  notice: { text: string };
  message: { id: string; mine: boolean; name: string; sentAtMs: number; text: string; peerId?: string | null; seq?: number };
  status: { id: string; status: 'sent' | 'delivered' | 'partial' | 'failed'; delivered: number; total: number };
  delivery: { id: string; peerId: string | null; status: 'sent' | 'delivered' | 'failed' };
  login: { login: string | null };
  problem: { text: string; error: unknown };
  ended: Record<string, never>;
}

export interface SessionEntry {
  key: string;
  peerId: string | null;
  name: string;
  interrupted: boolean;
  link: { state: LinkState; readonly isOpen: boolean };
}

export interface ChatSession extends DetailEventTarget<SessionEvents> {}
export declare class ChatSession {
  constructor(signaling: SignalingClient, options?: { rtcConfiguration?: unknown });
  displayName: string;
  chat: { kind: 'room'; code: string; capacity: number } | { kind: 'login'; peerName: string } | null;
  readonly entries: Map<string, SessionEntry>;
  createRoom(name: string): Promise<boolean>;
  joinRoom(code: string, name: string): Promise<boolean>;
  leave(): Promise<void>;
  send(text: string): { ok: true; id: string } | { ok: false; error: string };
  peers(): SessionPeer[];
}
