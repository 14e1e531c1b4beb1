// The WebSocket to the signaling server (`/ws` on the host that served this page).
// Moves JSON only: one text frame = one message of core/src/protocol.rs.

/** How long (ms) to wait for the server's answer to a request such as `create_room`. */
export const REQUEST_TIMEOUT_MS = 10_000;

/** The `/ws` URL on the same host and scheme family as `location` (http → ws, https → wss). */
export function signalingUrl(location) {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${location.host}/ws`;
}

/**
 * Events (all `CustomEvent`s):
 * - `state`: `detail` is `'connecting' | 'open' | 'closed'`.
 * - `message`: `detail` is one parsed server message (`{type, ...}`).
 */
export class SignalingClient extends EventTarget {
  /** @param {string} url a `ws://` or `wss://` URL. */
  constructor(url) {
    super();
    this.url = url;
    /** @type {WebSocket | null} */
    this.ws = null;
    /** Server-assigned id of this connection, from `welcome`. */
    this.peerId = null;
    /** Limits the server announced in `welcome`. */
    this.limits = null;
    this.state = 'closed';
  }

  /** Opens the WebSocket (no-op while one is open or opening). */
  connect() {
    if (this.ws) return;
    const ws = new WebSocket(this.url);
    this.ws = ws;
    this.#setState('connecting');
    ws.addEventListener('message', (event) => {
      let msg;
      try {
        msg = JSON.parse(event.data);
      } catch {
        console.warn('peerchat: ignoring a non-JSON frame from the server');
        return;
      }
      if (!msg || typeof msg.type !== 'string') return;
      if (msg.type === 'welcome') {
        this.peerId = msg.peer_id;
        this.limits = msg.limits ?? null;
        this.#setState('open');
      }
      this.dispatchEvent(new CustomEvent('message', { detail: msg }));
    });
    ws.addEventListener('close', () => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.peerId = null;
      this.#setState('closed');
    });
  }

  /** Closes the WebSocket. */
  close() {
    const ws = this.ws;
    this.ws = null;
    this.peerId = null;
    if (ws) ws.close(1000);
    this.#setState('closed');
  }

  /**
   * Sends one client message. Returns false (and sends nothing) when the socket is not open.
   * @param {{type: string}} msg
   */
  send(msg) {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN || this.state !== 'open') return false;
    this.ws.send(JSON.stringify(msg));
    return true;
  }

  /**
   * Sends `msg` and waits for the server's answer: the first message whose type is in
   * `replyTypes`, or an `error` for this request. Resolves with the reply; rejects with a
   * `ServerError` (its `.error` is the server's `error` message), or an `Error` when the socket
   * is closed or no answer comes within REQUEST_TIMEOUT_MS.
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
        if (event.detail === 'closed') {
          done();
          reject(new Error('The connection to the server closed.'));
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

  #setState(state) {
    if (this.state === state) return;
    this.state = state;
    this.dispatchEvent(new CustomEvent('state', { detail: state }));
  }
}

/** A refusal from the server; `error` is its `{type:"error", code, message, request}`. */
export class ServerError extends Error {
  constructor(error) {
    super(error.message || error.code);
    this.error = error;
  }
}
