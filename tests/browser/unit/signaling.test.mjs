// The signaling client's own logic, without a network: the backoff schedule, and the session
// state machine driven through a stand-in WebSocket that records what the client sends (the
// real server and browsers are exercised by test/browser/reconnect.test.mjs).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeFrame, encodePeerId } from '../../../web/static/chat-frames.js';
import {
  RECONNECT_BASE_DELAY_MS, RECONNECT_MAX_DELAY_MS, SESSION_STORAGE_KEY, SignalingClient, backoffMs,
} from '../../../web/static/signaling.js';

test('backoff: full jitter under 250 ms × 2^(n-1), capped at 5 s', () => {
  assert.equal(RECONNECT_BASE_DELAY_MS, 250);
  assert.equal(RECONNECT_MAX_DELAY_MS, 5_000);
  const top = () => 0.999999;
  assert.deepEqual([1, 2, 3, 4, 5, 6, 7, 30].map((n) => backoffMs(n, top)), [250, 500, 1000, 2000, 4000, 5000, 5000, 5000]);
  assert.deepEqual([1, 6, 30].map((n) => backoffMs(n, () => 0)), [0, 0, 0]);
  for (let n = 1; n <= 20; n++) {
    const d = backoffMs(n);
    assert.ok(Number.isInteger(d) && d >= 0 && d <= Math.min(5000, 250 * 2 ** (n - 1)), `${n}: ${d}`);
  }
});

test('peer_id frames encode and decode as the engine\'s', () => {
  assert.equal(encodePeerId('abc'), '{"type":"peer_id","peer_id":"abc"}');
  assert.deepEqual(decodeFrame('{"type":"peer_id","peer_id":"abc"}'), { kind: 'peer_id', peerId: 'abc' });
  assert.equal(decodeFrame('{"type":"peer_id","peer_id":""}').kind, 'invalid');
  assert.equal(decodeFrame('{"type":"peer_id","peer_id":7}').kind, 'invalid');
  assert.equal(decodeFrame(JSON.stringify({ type: 'peer_id', peer_id: 'x'.repeat(129) })).kind, 'invalid');
});

/** A WebSocket stand-in: records the subprotocols and frames; the test plays the server. */
class FakeSocket extends EventTarget {
  static all = [];
  constructor(url, protocols) {
    super();
    this.url = url;
    this.protocols = protocols;
    this.readyState = 1;
    this.sent = [];
    FakeSocket.all.push(this);
  }
  send(text) { this.sent.push(JSON.parse(text)); }
  close(code = 1000) { this.readyState = 3; this.closedWith = code; }
  serverSays(msg) { this.dispatchEvent(Object.assign(new Event('message'), { data: JSON.stringify(msg) })); }
  drop(code = 1006) { this.readyState = 3; this.dispatchEvent(Object.assign(new Event('close'), { code })); }
}

class MemoryStorage {
  map = new Map();
  getItem(k) { return this.map.get(k) ?? null; }
  setItem(k, v) { this.map.set(k, v); }
  removeItem(k) { this.map.delete(k); }
}

const welcome = (peerId, token) => ({ type: 'welcome', peer_id: peerId, protocol_version: 2, server_version: 't', limits: {}, session_token: token });

test('session: subprotocol, token kept, resume after a drop, fresh after session_not_found', async () => {
  FakeSocket.all = [];
  const storage = new MemoryStorage();
  const c = new SignalingClient('ws://h/ws', { storage, random: () => 0, WebSocketImpl: FakeSocket });
  const states = [];
  const sessions = [];
  c.addEventListener('state', (e) => states.push(e.detail === 'reconnecting' ? `reconnecting#${c.attempt}` : e.detail));
  c.addEventListener('session', (e) => sessions.push(e.detail));
  c.connect();
  const s1 = FakeSocket.all[0];
  assert.deepEqual(s1.protocols, ['peerchat.v2']);
  s1.serverSays(welcome('p1', 't1'));
  assert.deepEqual(sessions.at(-1), { kind: 'fresh', peerId: 'p1', lostPrevious: false });
  assert.equal(JSON.parse(storage.getItem(SESSION_STORAGE_KEY)).token, 't1');

  // A relay sent while the connection is down waits, and goes out after `resumed`.
  s1.drop();
  assert.equal(c.state, 'reconnecting');
  assert.ok(c.send({ type: 'ice_candidate', to: 'p9', candidate: { candidate: 'c' } }, { queue: true }));
  assert.equal(c.send({ type: 'create_room', name: 'x' }), false, 'requests are not queued');
  await new Promise((r) => setTimeout(r, 0)); // the retry timer (0 ms with this random)
  const s2 = FakeSocket.all[1];
  s2.serverSays(welcome('p2', 't2'));
  assert.deepEqual(s2.sent, [{ type: 'resume', session_token: 't1' }], 'resume is the first message');
  s2.serverSays({ type: 'resumed', peer_id: 'p1', room: { code: 'ABC-DEF-GHJ', capacity: 2, members: [] } });
  assert.equal(c.peerId, 'p1');
  assert.deepEqual(sessions.at(-1), { kind: 'resumed', peerId: 'p1', room: { code: 'ABC-DEF-GHJ', capacity: 2, members: [] }, login: null });
  assert.deepEqual(s2.sent.slice(1), [{ type: 'ice_candidate', to: 'p9', candidate: { candidate: 'c' } }]);

  // The server restarted: the old token is unknown; the backlog is dropped, the new token kept.
  s2.drop();
  c.send({ type: 'offer', to: 'p9', sdp: 'x' }, { queue: true });
  await new Promise((r) => setTimeout(r, 0));
  const s3 = FakeSocket.all[2];
  s3.serverSays(welcome('p3', 't3'));
  assert.deepEqual(s3.sent, [{ type: 'resume', session_token: 't1' }]);
  s3.serverSays({ type: 'error', code: 'session_not_found', message: 'gone', request: 'resume' });
  assert.deepEqual(sessions.at(-1), { kind: 'fresh', peerId: 'p3', lostPrevious: true });
  assert.equal(s3.sent.length, 1, 'what waited was addressed to the lost session');
  assert.equal(JSON.parse(storage.getItem(SESSION_STORAGE_KEY)).token, 't3');
  assert.deepEqual(states, ['connecting', 'open', 'reconnecting#1', 'open', 'reconnecting#1', 'open']);

  // A page reload (a new client on the same storage) resumes the same session.
  const reloaded = new SignalingClient('ws://h/ws', { storage, random: () => 0, WebSocketImpl: FakeSocket });
  reloaded.connect();
  FakeSocket.all[3].serverSays(welcome('p4', 't4'));
  assert.deepEqual(FakeSocket.all[3].sent, [{ type: 'resume', session_token: 't3' }]);

  // Another connection resumed this session (close code 4001): stop, do not fight back.
  s3.drop(4001);
  assert.equal(c.state, 'closed');
  assert.equal(c.closedReason, 'replaced');
  await new Promise((r) => setTimeout(r, 0));
  assert.equal(FakeSocket.all.length, 4, 'no new dial');
  c.close();
  reloaded.close();
  assert.equal(storage.getItem(SESSION_STORAGE_KEY), null, 'close() ends the session for good');
});

test('session: failed dials count up with growing delays', async () => {
  FakeSocket.all = [];
  const c = new SignalingClient('ws://h/ws', { storage: null, random: () => 0, WebSocketImpl: FakeSocket });
  const attempts = [];
  c.addEventListener('state', (e) => { if (e.detail === 'reconnecting') attempts.push(c.attempt); });
  c.connect();
  for (let i = 0; i < 3; i++) {
    FakeSocket.all.at(-1).drop();
    await new Promise((r) => setTimeout(r, 0));
  }
  assert.deepEqual(attempts, [1, 2, 3]);
  assert.equal(c.state, 'reconnecting');
  c.close();
});
