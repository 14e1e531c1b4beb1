// The WebSocket to the signaling server (`/ws` on the host that served this page), speaking
// protocol version 2 (WebSocket subprotocol `peerchat.v2`): a session that outlives any one
// connection. Moves JSON only: one text frame = one message of core/src/protocol.rs.
//
// States (`state` events), as the Rust engine's signaling driver (core/src/signaling.rs):
//
//   connecting ──welcome (no token held)────────────────────────► open        (fresh session)
//        │      └─welcome, token held ─► resume ─┬─resumed──────► open        (same session)
//        │                                        └─session_not_found► open   (fresh, lostPrevious)
//        └──dial fails / connection lost ──► reconnecting {attempt, nextRetryMs} ──timer──► connecting
//   open ──lost (close, error, no frame for LIVENESS_TIMEOUT_MS)──► reconnecting
//   any ──close() ──► closed          any ──close code 4001 (resumed elsewhere)──► closed
//
// The session token lives in `sessionStorage` (per tab, survives a reload, not shared with
// other tabs), so a reloaded page resumes its session: same peer id, room seat and login.

import { PROTOCOL_VERSION, SUBPROTOCOL_V2 } from './protocol.js';

/** How long (ms) to wait for the server's answer to a request such as `create_room`. */
export const REQUEST_TIMEOUT_MS = 10_000;

/**
 * Cap (ms) of the first reconnection delay: attempt `n` waits a uniformly random time in
 * `0..=min(RECONNECT_MAX_DELAY_MS, RECONNECT_BASE_DELAY_MS × 2^(n-1))` ("full jitter"), as the
 * engine's `RECONNECT_BASE_DELAY_MS`.
 */
export const RECONNECT_BASE_DELAY_MS = 250;

/** Largest reconnection delay (ms), reached from the 6th attempt on (the engine's value). */
export const RECONNECT_MAX_DELAY_MS = 5_000;

/**
 * Interval (ms) of the application-level `ping`s this client sends (browsers cannot send
 * WebSocket pings), so the server's `pong`s keep proving the connection alive.
 */
export const LIVENESS_PING_INTERVAL_MS = 5_000;

/**
 * A connection on which nothing arrived for this long (ms) is taken for dead (a half-open
 * TCP connection after a network change) and dialled again, as the engine's
 * `LIVENESS_TIMEOUT_MS`.
 */
export const LIVENESS_TIMEOUT_MS = 15_000;

/**
 * Relays (`offer`, `answer`, `ice_candidate`, `bye`) kept while no session is ready; they go
 * out after `resumed` and are dropped when the session could not be resumed (they were
 * addressed to the lost session's peers). One more is dropped (and reported as `dropped`).
 */
export const SIGNALING_BACKLOG_LEN = 256;

/** WebSocket close code of a connection whose session another connection resumed. */
export const CLOSE_SESSION_RESUMED_ELSEWHERE = 4001;

/** `sessionStorage` key of the held session: `{"url": ..., "token": ...}`. */
export const SESSION_STORAGE_KEY = 'peerchat.session';

/**
 * The delay (ms) before reconnection `attempt` (1-based), with full jitter.
 * @param {number} attempt
 * @param {() => number} [random] uniform in [0, 1), for tests.
 */
export function backoffMs(attempt, random = Math.random) {
  const exp = Math.min(Math.max(attempt - 1, 0), 16);
  const cap = Math.min(RECONNECT_MAX_DELAY_MS, RECONNECT_BASE_DELAY_MS * 2 ** exp);
  return Math.floor(random() * (cap + 1));
}

/** The `/ws` URL on the same host and scheme family as `location` (http → ws, https → wss). */
export function signalingUrl(location) {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${location.host}/ws`;
}

/** `sessionStorage` when the page has one (and it works), else null. */
function defaultStorage() {
  try {
    return globalThis.sessionStorage ?? null;
  } catch {
    return null; // storage disabled by the browser's settings
  }
}

/**
 * Events (all `CustomEvent`s):
 * - `state`: `detail` is `'connecting' | 'open' | 'reconnecting' | 'closed'`; while
 *   `reconnecting`, `attempt` (dials since the session was last ready, from 1) and
 *   `nextRetryMs` (delay before the next dial) are set on the client.
 * - `session`: a session is ready on a new connection; `detail` is
 *   `{kind: 'fresh', peerId, lostPrevious}` (a new session; `lostPrevious`: an earlier one
 *   existed and could not be resumed, so its peer id, room seat and login are gone) or
 *   `{kind: 'resumed', peerId, room, login}` (the same session; `room` is
 *   `{code, capacity, members: [{peer_id, name}]}` or null). Dispatched before `state` `open`.
 * - `message`: `detail` is one parsed server message (`{type, ...}`) of a ready session.
 * - `dropped`: `detail` `{type}` — a relay did not fit in the backlog.
 */
export class SignalingClient extends EventTarget {
  /**
   * @param {string} url a `ws://` or `wss://` URL.
   * @param {{storage?: Storage | null, random?: () => number, WebSocketImpl?: typeof WebSocket}} [options]
   */
  constructor(url, { storage = defaultStorage(), random = Math.random, WebSocketImpl = globalThis.WebSocket } = {}) {
    super();
    this.url = url;
    this.storage = storage;
    this.random = random;
    this.WebSocketImpl = WebSocketImpl;
    /** @type {WebSocket | null} */
    this.ws = null;
    /** Server-assigned peer id of the current session, from `welcome` or `resumed`. */
    this.peerId = null;
    /** Limits the server announced in `welcome`. */
    this.limits = null;
    /** Protocol version the server speaks on this connection (`welcome.protocol_version`). */
    this.protocolVersion = null;
    this.state = 'closed';
    /** While `reconnecting`: the dial count since the session was last ready, and the delay. */
    this.attempt = 0;
    this.nextRetryMs = 0;
    /** Why the client is `closed`: `'closed'` by close(), `'replaced'` by close code 4001. */
    this.closedReason = null;
    /** Relays waiting for a ready session (see SIGNALING_BACKLOG_LEN). */
    this.backlog = [];
    this.hadSession = false;
    this.token = this.#loadToken();
    this.phase = 'idle'; // 'welcome' | 'resuming' | 'ready' while a socket is open
    this.freshWelcome = null;
    this.retryTimer = null;
    this.pingTimer = null;
    this.lastFrameAt = 0;
  }

  /** Opens the WebSocket (no-op while one is open or opening, or a retry is scheduled). */
  connect() {
    if (this.ws || this.retryTimer) return;
    this.closedReason = null;
    this.#dial();
  }

  /**
   * Ends the session for good: closes the WebSocket with code 1000 (the server removes us
   * from rooms and logins at once: `peer_left` `left`), forgets the token, stops reconnecting.
   */
  close() {
    const ws = this.ws;
    this.#stopTimers();
    this.ws = null;
    this.peerId = null;
    this.phase = 'idle';
    this.backlog = [];
    this.#saveToken(null);
    if (ws) ws.close(1000);
    this.closedReason = 'closed';
    this.#setState('closed');
  }

  /**
   * Sends one client message. Returns false (and sends nothing) when no session is ready,
   * unless `queue`: then a relay waits in the backlog for the session to be ready again (and
   * true is returned unless the backlog is full).
   * @param {{type: string}} msg
   * @param {{queue?: boolean}} [options]
   */
  send(msg, { queue = false } = {}) {
    if (this.ws && this.ws.readyState === 1 && this.state === 'open') {
      this.ws.send(JSON.stringify(msg));
      return true;
    }
    if (!queue || this.state === 'closed') return false;
    if (this.backlog.length >= SIGNALING_BACKLOG_LEN) {
      this.dispatchEvent(new CustomEvent('dropped', { detail: { type: msg.type } }));
      return false;
    }
    this.backlog.push(msg);
    return true;
  }

  /**
   * Sends `msg` and waits for the server's answer: the first message whose type is in
   * `replyTypes`, or an `error` for this request. Resolves with the reply; rejects with a
   * `ServerError` (its `.error` is the server's `error` message), or an `Error` when the
   * connection is lost before the answer or no answer comes within REQUEST_TIMEOUT_MS.
   * @param {{type: string}} msg
   * @param {string[]} replyTypes
   */
  request(msg, replyTypes) {
    return new Promise((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        this.removeEventListener('message', onMessage);
        this.removeEventListener('state', onState);
      };
      const onMessage = (event) => {
        const reply = event.detail;
        if (replyTypes.includes(reply.type)) {
          done();
          resolve(reply);
        } else if (reply.type === 'error' && (reply.request === undefined || reply.request === msg.type)) {
          done();
          reject(new ServerError(reply));
        }
      };
      const onState = (event) => {
        if (event.detail !== 'open') {
          done();
          reject(new Error('The connection to the server was lost. Please try again.'));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error('The server did not answer in time.'));
      }, REQUEST_TIMEOUT_MS);
      this.addEventListener('message', onMessage);
      this.addEventListener('state', onState);
      if (!this.send(msg)) {
        done();
        reject(new Error('Not connected to the server.'));
      }
    });
  }

  #dial() {
    this.retryTimer = null;
    let ws;
    try {
      ws = new this.WebSocketImpl(this.url, [SUBPROTOCOL_V2]);
    } catch (err) {
      console.warn('peerchat: cannot open the WebSocket', err);
      this.#lost(false);
      return;
    }
    this.ws = ws;
    this.phase = 'welcome';
    this.lastFrameAt = Date.now();
    // Only the first dial is `connecting`; later ones happen while `reconnecting`.
    if (this.state === 'closed') this.#setState('connecting');
    ws.addEventListener('message', (event) => {
      if (this.ws !== ws) return;
      this.lastFrameAt = Date.now();
      let msg;
      try {
        msg = JSON.parse(event.data);
      } catch {
        console.warn('peerchat: ignoring a non-JSON frame from the server');
        return;
      }
      if (!msg || typeof msg.type !== 'string') return;
      this.#onMessage(msg);
    });
    ws.addEventListener('close', (event) => {
      if (this.ws !== ws) return;
      this.ws = null;
      const wasReady = this.phase === 'ready';
      this.phase = 'idle';
      if (event.code === CLOSE_SESSION_RESUMED_ELSEWHERE) {
        // Another tab or window took this session over: fighting back would only bounce it.
        this.#stopTimers();
        this.peerId = null;
        this.closedReason = 'replaced';
        this.#setState('closed');
        return;
      }
      this.#lost(wasReady);
    });
    this.#startLiveness(ws);
  }

  #onMessage(msg) {
    switch (this.phase) {
      case 'welcome':
        if (msg.type !== 'welcome') return;
        this.limits = msg.limits ?? null;
        this.protocolVersion = msg.protocol_version ?? 1;
        if (this.token && msg.session_token) {
          this.freshWelcome = msg;
          this.phase = 'resuming';
          this.ws.send(JSON.stringify({ type: 'resume', session_token: this.token }));
        } else {
          this.#fresh(msg, this.hadSession);
        }
        return;
      case 'resuming':
        if (msg.type === 'resumed') {
          this.#ready({ kind: 'resumed', peerId: msg.peer_id, room: msg.room ?? null, login: msg.login ?? null }, msg.peer_id);
          // Relays kept while no session was ready go out after `resumed`.
          const backlog = this.backlog;
          this.backlog = [];
          for (const m of backlog) this.send(m, { queue: true });
        } else if (msg.type === 'error' && msg.code === 'session_not_found') {
          // The server forgot the session (it restarted, or the grace period ran out): this
          // connection carries the fresh session of its `welcome`. A token from an earlier
          // page (a reload) counts as a lost session too.
          this.#fresh(this.freshWelcome, true);
        } else if (msg.type === 'error') {
          console.warn('peerchat: resume refused', msg);
          this.#fresh(this.freshWelcome, true);
        }
        return;
      case 'ready':
        if (msg.type === 'pong') return;
        this.dispatchEvent(new CustomEvent('message', { detail: msg }));
        return;
      default:
        return;
    }
  }

  #fresh(welcome, lostPrevious) {
    this.freshWelcome = null;
    // What waits was addressed to the lost session's peers.
    this.backlog = [];
    this.#saveToken(welcome.session_token ?? null);
    this.#ready({ kind: 'fresh', peerId: welcome.peer_id, lostPrevious }, welcome.peer_id);
  }

  #ready(detail, peerId) {
    this.peerId = peerId;
    this.phase = 'ready';
    this.hadSession = true;
    this.attempt = 0;
    this.nextRetryMs = 0;
    // `state` first, so that requests sent from `session` handlers can go out.
    this.#setState('open');
    this.dispatchEvent(new CustomEvent('session', { detail }));
  }

  /** The connection is gone (or never came up): schedule the next dial. */
  #lost(wasReady) {
    this.#stopTimers();
    this.attempt = wasReady ? 1 : this.attempt + 1;
    this.nextRetryMs = backoffMs(this.attempt, this.random);
    this.retryTimer = setTimeout(() => this.#dial(), this.nextRetryMs);
    // Emitted on every attempt, so a UI can show the count and the delay.
    this.state = 'reconnecting';
    this.dispatchEvent(new CustomEvent('state', { detail: 'reconnecting' }));
  }

  #startLiveness(ws) {
    clearInterval(this.pingTimer);
    this.pingTimer = setInterval(() => {
      if (this.ws !== ws) return;
      if (Date.now() - this.lastFrameAt >= LIVENESS_TIMEOUT_MS) {
        console.warn(`peerchat: nothing from the server for ${LIVENESS_TIMEOUT_MS} ms; reconnecting`);
        // 4000: not a clean close, so the server keeps the session for a resume.
        ws.close(4000, 'liveness timeout');
        this.ws = null;
        const wasReady = this.phase === 'ready';
        this.phase = 'idle';
        this.#lost(wasReady);
        return;
      }
      if (ws.readyState === 1 && this.phase === 'ready') ws.send(JSON.stringify({ type: 'ping' }));
    }, LIVENESS_PING_INTERVAL_MS);
  }

  #stopTimers() {
    clearTimeout(this.retryTimer);
    this.retryTimer = null;
    clearInterval(this.pingTimer);
    this.pingTimer = null;
  }

  #loadToken() {
    try {
      const saved = JSON.parse(this.storage?.getItem(SESSION_STORAGE_KEY) ?? 'null');
      return saved && saved.url === this.url && typeof saved.token === 'string' ? saved.token : null;
    } catch {
      return null;
    }
  }

  #saveToken(token) {
    this.token = token;
    try {
      if (token) this.storage?.setItem(SESSION_STORAGE_KEY, JSON.stringify({ url: this.url, token }));
      else this.storage?.removeItem(SESSION_STORAGE_KEY);
    } catch {
      // Storage full or disabled: the session still resumes within this page.
    }
  }

  #setState(state) {
    if (this.state === state) return;
    this.state = state;
    this.dispatchEvent(new CustomEvent('state', { detail: state }));
  }
}

/** The protocol version this client asks for (re-exported for diagnostics). */
export { PROTOCOL_VERSION };

/** A refusal from the server; `error` is its `{type:"error", code, message, request}`. */
export class ServerError extends Error {
  constructor(error) {
    super(error.message || error.code);
    this.error = error;
  }
}
