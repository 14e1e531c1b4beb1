/**
 * The web implementation's checks before any traffic (src/NativePeerChat.web.ts): the same
 * error codes as the native engine's constructor and calls. Its behaviour over the network is
 * tested in a real browser against the Rust engine (tests/browser/rn-example).
 */
import webPeerChat from '../src/NativePeerChat.web';
import type { NativeEngineConfig } from '../src/NativePeerChat';

const base: NativeEngineConfig = {
  signalingUrl: 'ws://127.0.0.1:1/ws',
  displayName: 'Ada',
  iceServers: [],
  iceUdpAddrs: [],
  resolveMdnsCandidates: true,
  signalingTimeoutMs: 10_000,
  peerConnectTimeoutMs: 30_000,
};

test.each<[string, string, Partial<NativeEngineConfig>]>([
  ['an http URL', 'invalid_config', { signalingUrl: 'http://127.0.0.1:1/ws' }],
  ['a zero timeout', 'invalid_config', { signalingTimeoutMs: 0 }],
  ['a non-STUN/TURN ICE URL', 'invalid_config', { iceServers: [{ urls: ['http://x'] }] }],
  ['an unknown iceTransportPolicy', 'invalid_config', { iceTransportPolicy: 'nohost' }],
  ['relay without a TURN server', 'invalid_config', { iceTransportPolicy: 'relay', iceServers: [{ urls: ['stun:127.0.0.1:3478'] }] }],
  ['an empty name', 'invalid_name', { displayName: '' }],
  ['a 33-character name', 'invalid_name', { displayName: 'x'.repeat(33) }],
  ['a name with a control character', 'invalid_name', { displayName: 'A\u0007' }],
])('createEngine refuses %s with %s', async (_what, code, change) => {
  await expect(webPeerChat.createEngine('e', { ...base, ...change })).rejects.toMatchObject({
    code,
    userInfo: { code },
  });
});

test('calls on an engine that does not exist reject with shutdown; destroy is a no-op', async () => {
  await expect(webPeerChat.createRoom('nobody')).rejects.toMatchObject({ code: 'shutdown' });
  await expect(webPeerChat.roomCode('nobody')).rejects.toMatchObject({ code: 'shutdown' });
  expect(() => webPeerChat.destroyEngine('nobody')).not.toThrow();
});
