// Data-channel chat frames: one JSON text object per data channel message, exactly as the
// Rust engine (core/src/chat.rs) encodes them.
//   {"type":"hello","name":"<display name>","version":1}        once per side when the channel opens
//   {"type":"message","id":"<uuid>","seq":1,"sent_at_ms":1700000000000,"text":"..."}
//   {"type":"ack","id":"<same id>"}                               the receiver's "delivered"
//   {"type":"peer_id","peer_id":"<new id>"}                       the sender's signaling session was
//                                                                 replaced: address it by this id now
// Unknown `type`s are ignored.

/** Largest chat message text, in UTF-8 bytes (the engine's `MAX_MESSAGE_BYTES`). */
export const MAX_MESSAGE_BYTES = 16 * 1024;

/**
 * Largest data-channel frame (bytes) a peer accepts (the engine's `chat::MAX_FRAME_BYTES`). A
 * text within MAX_MESSAGE_BYTES can exceed it only when JSON escaping blows it up (control
 * characters become `\u0000`), which validateMessageText refuses too.
 */
export const MAX_FRAME_BYTES = 64 * 1024;

/** Version carried in `hello` frames. */
export const CHAT_VERSION = 1;

/** Label of the one data channel between two peers. */
export const DATA_CHANNEL_LABEL = 'peerchat';

const encoder = new TextEncoder();

/** Size of `text` in UTF-8 bytes. */
export function utf8Bytes(text) {
  return encoder.encode(text).length;
}

/**
 * Checks a message a person typed before it is sent.
 * @param {string} text
 * @returns {{ok: true} | {ok: false, error: string}} the error is a sentence to show.
 */
export function validateMessageText(text) {
  if (text.trim() === '') return { ok: false, error: 'Type a message first.' };
  const bytes = utf8Bytes(text);
  if (bytes > MAX_MESSAGE_BYTES) {
    return {
      ok: false,
      error: `Message too long: ${bytes} bytes; the limit is ${MAX_MESSAGE_BYTES} bytes. It was not sent.`,
    };
  }
  const frameBytes = utf8Bytes(encodeMessage({ id: newMessageId(), seq: Number.MAX_SAFE_INTEGER, sentAtMs: Date.now(), text }));
  if (frameBytes > MAX_FRAME_BYTES) {
    return {
      ok: false,
      error: `Message too long once encoded: ${frameBytes} bytes; the limit is ${MAX_FRAME_BYTES} bytes. It was not sent.`,
    };
  }
  return { ok: true };
}

/**
 * A new message id: a UUID version 7 (RFC 9562 §5.7, time-ordered), as the engine uses.
 * Works outside secure contexts (crypto.getRandomValues only).
 * @param {number} [nowMs] the time part, ms since the epoch.
 */
export function newMessageId(nowMs = Date.now()) {
  const b = new Uint8Array(16);
  crypto.getRandomValues(b);
  let t = BigInt(nowMs);
  for (let i = 5; i >= 0; i--) {
    b[i] = Number(t & 0xffn);
    t >>= 8n;
  }
  b[6] = (b[6] & 0x0f) | 0x70; // version 7
  b[8] = (b[8] & 0x3f) | 0x80; // RFC 9562 variant
  const hex = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** Encodes a `hello` frame. */
export function encodeHello(name) {
  return JSON.stringify({ type: 'hello', name, version: CHAT_VERSION });
}

/**
 * Encodes a `message` frame.
 * @param {{id: string, seq: number, sentAtMs: number, text: string}} m
 */
export function encodeMessage({ id, seq, sentAtMs, text }) {
  return JSON.stringify({ type: 'message', id, seq, sent_at_ms: sentAtMs, text });
}

/** Encodes an `ack` frame for message `id`. */
export function encodeAck(id) {
  return JSON.stringify({ type: 'ack', id });
}

/** Longest peer id accepted in a `peer_id` frame (server ids are 32 hex digits). */
export const MAX_PEER_ID_CHARS = 128;

/**
 * Encodes a `peer_id` frame: sent on every open data channel when this client's signaling
 * session was replaced by a fresh one (the server restarted, or the grace period ran out), so
 * that the far side addresses its SDP and ICE relays to `peerId` from then on. It travels on
 * the DTLS-protected data channel, so neither the server nor another peer can forge it.
 */
export function encodePeerId(peerId) {
  return JSON.stringify({ type: 'peer_id', peer_id: peerId });
}

const isCount = (v) => Number.isSafeInteger(v) && v >= 0;

/**
 * Decodes one data channel message.
 * @param {unknown} data what `RTCDataChannel` `message` events carry.
 * @returns {{kind: 'hello', name: string, version: number}
 *   | {kind: 'message', id: string, seq: number, sentAtMs: number, text: string}
 *   | {kind: 'ack', id: string}
 *   | {kind: 'peer_id', peerId: string}
 *   | {kind: 'ignored', reason: string}
 *   | {kind: 'invalid', reason: string}} `ignored` for unknown types, `invalid` for malformed
 *   frames (not JSON, missing or mistyped fields, text over MAX_MESSAGE_BYTES).
 */
export function decodeFrame(data) {
  if (typeof data !== 'string') return { kind: 'invalid', reason: 'binary frame' };
  let v;
  try {
    v = JSON.parse(data);
  } catch {
    return { kind: 'invalid', reason: 'not JSON' };
  }
  if (v === null || typeof v !== 'object' || typeof v.type !== 'string') {
    return { kind: 'invalid', reason: 'no type' };
  }
  switch (v.type) {
    case 'hello':
      if (typeof v.name !== 'string' || !isCount(v.version)) return { kind: 'invalid', reason: 'bad hello' };
      return { kind: 'hello', name: v.name, version: v.version };
    case 'message':
      if (
        typeof v.id !== 'string' || v.id === '' || !isCount(v.seq) || v.seq < 1 ||
        !isCount(v.sent_at_ms) || typeof v.text !== 'string'
      ) {
        return { kind: 'invalid', reason: 'bad message' };
      }
      if (v.text === '') return { kind: 'invalid', reason: 'empty message' };
      if (utf8Bytes(v.text) > MAX_MESSAGE_BYTES) return { kind: 'invalid', reason: 'message too large' };
      return { kind: 'message', id: v.id, seq: v.seq, sentAtMs: v.sent_at_ms, text: v.text };
    case 'ack':
      if (typeof v.id !== 'string' || v.id === '') return { kind: 'invalid', reason: 'bad ack' };
      return { kind: 'ack', id: v.id };
    case 'peer_id':
      if (typeof v.peer_id !== 'string' || v.peer_id === '' || v.peer_id.length > MAX_PEER_ID_CHARS) {
        return { kind: 'invalid', reason: 'bad peer_id' };
      }
      return { kind: 'peer_id', peerId: v.peer_id };
    default:
      return { kind: 'ignored', reason: `unknown type ${v.type}` };
  }
}
