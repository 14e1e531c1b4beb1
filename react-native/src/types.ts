/**
 * The typed records of the public API (camelCase mirrors of the engine's records).
 */

/** A STUN or TURN server (W3C `RTCIceServer`). */
export interface IceServer {
  /** e.g. `stun:192.168.1.2:3478` or `turn:192.168.1.2:3478?transport=udp`. */
  urls: string[];
  /** TURN username (long-term credentials). */
  username?: string;
  /** TURN password. */
  credential?: string;
}

/** Which ICE candidates a peer connection may use (W3C `RTCIceTransportPolicy`). */
export type IceTransportPolicy = 'all' | 'relay';
export const ICE_TRANSPORT_POLICIES: readonly IceTransportPolicy[] = ['all', 'relay'];

/** What {@link createEngine} needs. Omitted fields take the engine's defaults. */
export interface PeerChatConfig {
  /** `ws://` or `wss://` URL of the signaling server's `/ws` endpoint, e.g. `ws://10.0.2.2:7777/ws`. */
  signalingUrl: string;
  /** Name shown to other peers, 1..=32 chars. */
  displayName: string;
  /** STUN/TURN servers. Default: none (host candidates only). */
  iceServers?: IceServer[];
  /**
   * Which ICE candidates to use (W3C `RTCConfiguration.iceTransportPolicy`): `relay` sends
   * every packet through a TURN server of `iceServers` (without one, `createEngine` rejects
   * with `invalid_config`) and discloses no device address. Default `all`.
   */
  iceTransportPolicy?: IceTransportPolicy;
  /** Local `ip:port` addresses for ICE's UDP sockets. Default: every IPv4 interface. */
  iceUdpAddrs?: string[];
  /**
   * Resolve remote `<uuid>.local` ICE candidates (how browsers hide host addresses) with mDNS
   * queries. Default `true`. Loopback tests pass `false` so that nothing is multicast.
   */
  resolveMdnsCandidates?: boolean;
  /** ms to wait for the signaling connection and each server reply. Default {@link DEFAULT_SIGNALING_TIMEOUT_MS}. */
  signalingTimeoutMs?: number;
  /** ms a peer may take to open its data channel. Default {@link DEFAULT_PEER_CONNECT_TIMEOUT_MS}. */
  peerConnectTimeoutMs?: number;
  /**
   * Extra CA certificate(s), PEM text, trusted for a `wss://` signaling URL besides the public
   * web roots: for private deployments and tests. A value with no PEM `CERTIFICATE` block is
   * refused with `invalid_config`. Default: none.
   */
  caCertPem?: string;
  /**
   * Bearer token (a JSON Web Token minted by your backend, whose `sub` is the user's login) for
   * signaling servers run with `--auth-secret`. Default: none.
   */
  authToken?: string;
}

/** The engine's default signaling timeout (ms), as `EngineConfig::new`. */
export const DEFAULT_SIGNALING_TIMEOUT_MS = 10_000;
/** The engine's default peer connection timeout (ms), as `EngineConfig::new`. */
export const DEFAULT_PEER_CONNECT_TIMEOUT_MS = 30_000;

/**
 * State of the engine's session with the signaling server: `connecting` (first dial), then
 * `connected`; after a lost connection (or a failed first dial) `reconnecting` — the engine
 * dials again by itself with exponential backoff and full jitter (250 ms .. 5 s; see
 * {@link ReconnectInfo}) — until `connected` again (session resumed, or the room re-entered).
 * `disconnected` only after the engine shut down. Open data channels keep chatting in every
 * state.
 */
export type SignalingState = 'connecting' | 'connected' | 'reconnecting' | 'disconnected';

/** Where a `reconnecting` engine stands (the engine's `SignalingState::Reconnecting`). */
export interface ReconnectInfo {
  /** Dials since the session was last ready, from 1. */
  attempt: number;
  /** Delay (ms) before the next dial: random in 0..=min(5000, 250 × 2^(attempt-1)). */
  nextRetryMs: number;
}
/**
 * State of the connection to one peer (the engine's `PeerState`; transition table in
 * `docs/architecture.md`, "The peer state machine"): `connecting` (first setup, retried
 * automatically), `connected` (chat is ready), `interrupted` (recovering: ICE restart or a new
 * connection; messages wait and go out in order), `closed` (the peer left; final), `failed`
 * (the engine gave up; a new offer from the peer starts over).
 */
export type PeerState = 'connecting' | 'connected' | 'interrupted' | 'closed' | 'failed';
/**
 * Why a peer left: `left` (it left or shut down), `disconnected` (its WebSocket closed; a
 * protocol version 1 peer), `timeout` (it was interrupted and did not resume within the
 * server's session grace period, 30 000 ms by default).
 */
export type LeaveReason = 'left' | 'disconnected' | 'timeout';
/**
 * Delivery of one sent message to one peer: `pending` (waiting in the engine's outbox; the
 * status when `sendMessage` returns, no event) → `sent` → `delivered`, or `failed` (the peer
 * left or was given up on, or the message's time to live ran out). One event per transition.
 */
export type MessageStatus = 'pending' | 'sent' | 'delivered' | 'failed';

export const SIGNALING_STATES: readonly SignalingState[] = ['connecting', 'connected', 'reconnecting', 'disconnected'];
export const PEER_STATES: readonly PeerState[] = ['connecting', 'connected', 'interrupted', 'closed', 'failed'];
export const LEAVE_REASONS: readonly LeaveReason[] = ['left', 'disconnected', 'timeout'];
export const MESSAGE_STATUSES: readonly MessageStatus[] = ['pending', 'sent', 'delivered', 'failed'];

/** A peer in a room. */
export interface Peer {
  peerId: string;
  name: string;
}

/** A room the engine created or joined. */
export interface RoomInfo {
  /** Canonical code, `ABC-DEF-GHJ`. */
  code: string;
  /** Peers the room holds. */
  capacity: number;
  /** The other members present when the engine entered (empty for a new room). */
  members: Peer[];
}

/** A chat message received from a peer. */
export interface ChatMessage {
  id: string;
  peerId: string;
  senderName: string;
  text: string;
  /** Sender's clock, ms since the Unix epoch. */
  sentAtMs: number;
  /** Position in the sender's stream, from 1. */
  seq: number;
}
