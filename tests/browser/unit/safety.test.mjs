import assert from 'node:assert/strict';
import { test } from 'node:test';
import { safetyCode, sdpFingerprints } from '../../../web/static/safety.js';

// The same SDPs and code as the engine's known vector (core/src/safety.rs, `known_vector`):
// the browser and the engine must show the same code for the same connection.
const A = 'v=0\r\na=fingerprint:sha-256 aa:bb:cc\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n';
const B = 'v=0\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\na=fingerprint:SHA-256 11:22:33\r\n';
const M = 'v=0\r\na=fingerprint:sha-256 99:99:99\r\n';

test('the web client computes the engine\'s code', async () => {
  assert.equal(await safetyCode(A, B), '33956 73017 21310 38754');
  assert.equal(await safetyCode(B, A), '33956 73017 21310 38754');
});

test('an intruder in the middle gives each side another code', async () => {
  const real = await safetyCode(A, B);
  const ada = await safetyCode(A, M);
  const bob = await safetyCode(B, M);
  assert.notEqual(ada, bob);
  assert.notEqual(ada, real);
  assert.notEqual(bob, real);
});

test('fingerprints are normalized and an SDP without one is refused', async () => {
  assert.deepEqual(sdpFingerprints(A), ['sha-256 AA:BB:CC']);
  await assert.rejects(safetyCode('v=0\r\n', B), /local SDP/);
  await assert.rejects(safetyCode(A, 'v=0'), /remote SDP/);
});
