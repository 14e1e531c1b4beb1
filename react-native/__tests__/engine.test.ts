import { createEngine, PeerChatError } from '../src';
import { fakeNative, nativeRejection } from './support/fakeNativePeerChat';
import { emptyRoom, messageFrom } from './support/fixtures';

const fake = fakeNative();
beforeEach(() => fake.reset());

async function started() {
  const pending = createEngine({ signalingUrl: 'ws://127.0.0.1:7777/ws', displayName: 'Bob' });
  const call = await fake.nextCall('createEngine');
  call.resolve();
  return { engine: await pending, engineId: call.args[0] };
}

test('createEngine passes the config with the engine defaults filled in', async () => {
  const pending = createEngine({
    signalingUrl: 'ws://10.0.2.2:7777/ws',
    displayName: 'Bob',
    iceServers: [{ urls: ['turn:10.0.2.2:3478'], username: 'u', credential: 'p' }, { urls: ['stun:10.0.2.2:3478'] }],
  });
  const call = await fake.nextCall('createEngine');
  expect(call.args[1]).toEqual({
    signalingUrl: 'ws://10.0.2.2:7777/ws',
    displayName: 'Bob',
    iceServers: [{ urls: ['turn:10.0.2.2:3478'], username: 'u', credential: 'p' }, { urls: ['stun:10.0.2.2:3478'] }],
    iceUdpAddrs: [],
    resolveMdnsCandidates: true,
    signalingTimeoutMs: 10000,
    peerConnectTimeoutMs: 30000,
  });
  call.resolve();
  const engine = await pending;
  expect(engine.id).toBe(call.args[0]);
  expect(engine.signalingState).toBe('connecting');
});

test('createEngine passes resolveMdnsCandidates: false and iceUdpAddrs through', async () => {
  const pending = createEngine({
    signalingUrl: 'ws://127.0.0.1:7777/ws',
    displayName: 'Bob',
    iceUdpAddrs: ['127.0.0.1:0'],
    resolveMdnsCandidates: false,
  });
  const call = await fake.nextCall('createEngine');
  expect(call.args[1]).toMatchObject({ iceUdpAddrs: ['127.0.0.1:0'], resolveMdnsCandidates: false });
  call.resolve();
  await pending;
});

test('an event emitted before createEngine resolves is not lost', async () => {
  const pending = createEngine({ signalingUrl: 'ws://127.0.0.1:7777/ws', displayName: 'Bob' });
  const call = await fake.nextCall('createEngine');
  fake.emit('onSignalingState', { engineId: call.args[0], state: 'connected' });
  call.resolve();
  expect((await pending).signalingState).toBe('connected');
});

test('createEngine rejects with a typed error and leaves no listener behind', async () => {
  const pending = createEngine({ signalingUrl: 'http://x', displayName: 'Bob' });
  (await fake.nextCall('createEngine')).reject(nativeRejection('invalid_config', 'signaling_url must start with ws://'));
  const error = await pending.catch((e: unknown) => e);
  expect(error).toBeInstanceOf(PeerChatError);
  expect(error).toMatchObject({ code: 'invalid_config', serverCode: undefined });
  expect(fake.listenerCount('onSignalingState')).toBe(0);
});

test('server refusals carry the server code', async () => {
  const { engine } = await started();
  const join = engine.joinRoom('abc-def-ghj');
  const call = await fake.nextCall('joinRoom');
  expect(call.args[1]).toBe('abc-def-ghj');
  call.reject(nativeRejection('server', 'server refused: room is full (room_full)', 'room_full'));
  await expect(join).rejects.toMatchObject({ name: 'PeerChatError', code: 'server', serverCode: 'room_full' });
});

test('an unknown native code becomes `native` and keeps the message', async () => {
  const { engine } = await started();
  const create = engine.createRoom();
  (await fake.nextCall('createRoom')).reject(nativeRejection('E_WEIRD', 'boom'));
  await expect(create).rejects.toMatchObject({ code: 'native', message: expect.stringContaining('boom') });
});

test('events reach only the engine they name, typed', async () => {
  const a = await started();
  const b = await started();
  const seen: string[] = [];
  a.engine.on('message', (m) => seen.push(`a:${m.text}`));
  b.engine.on('message', (m) => seen.push(`b:${m.text}`));
  a.engine.on('peerState', (p) => seen.push(`a:${p.peerId}:${p.state}`));
  a.engine.on('error', (e) => seen.push(`a:error:${e.code}:${e.serverCode ?? ''}`));
  fake.emit('onMessage', { engineId: b.engineId, message: messageFrom('p1', 'Alice', 'to b', 1) });
  fake.emit('onMessage', { engineId: a.engineId, message: messageFrom('p1', 'Alice', 'to a', 1) });
  fake.emit('onPeerState', { engineId: a.engineId, peerId: 'p1', state: 'connected' });
  fake.emit('onPeerState', { engineId: a.engineId, peerId: 'p1', state: 'sideways' });
  fake.emit('onError', { engineId: a.engineId, code: 'web_rtc', message: 'dtls failed' });
  expect(seen).toEqual(['b:to b', 'a:to a', 'a:p1:connected', 'a:error:native:', 'a:error:web_rtc:']);
});

test('a removed listener hears nothing more', async () => {
  const { engine, engineId } = await started();
  const rooms: string[] = [];
  const sub = engine.on('roomCreated', (r) => rooms.push(r.code));
  fake.emit('onRoomCreated', { engineId, room: emptyRoom('AAA-BBB-CCC') });
  sub.remove();
  fake.emit('onRoomCreated', { engineId, room: emptyRoom('DDD-EEE-FFF') });
  expect(rooms).toEqual(['AAA-BBB-CCC']);
});

test('destroy shuts the native engine, detaches, and later calls fail with `shutdown`', async () => {
  const { engine, engineId } = await started();
  const heard: string[] = [];
  engine.on('signalingState', (s) => heard.push(s));
  engine.destroy();
  engine.destroy();
  expect(fake.destroyed).toEqual([engineId]);
  expect(fake.listenerCount('onSignalingState')).toBe(0);
  fake.emit('onSignalingState', { engineId, state: 'disconnected' });
  expect(heard).toEqual([]);
  await expect(engine.sendMessage('hi')).rejects.toMatchObject({ code: 'shutdown' });
  expect(fake.pending).toBe(0);
});

test('shutdown resolves after the native teardown; lifecycle calls go to the native engine and stop after it', async () => {
  const { engine } = await started();
  engine.pause();
  engine.resume();
  engine.networkChanged();
  await engine.shutdown();
  expect(engine.destroyed).toBe(true);
  engine.pause();
  await engine.shutdown();
  expect(fake.log.map((c) => c.method)).toEqual([
    'createEngine',
    'pauseEngine',
    'resumeEngine',
    'networkChanged',
    'shutdownEngine',
  ]);
});

test('iceTransportPolicy reaches the native config; an unknown value is invalid_config before any native call', async () => {
  const pending = createEngine({
    signalingUrl: 'ws://127.0.0.1:7777/ws',
    displayName: 'Bob',
    iceServers: [{ urls: ['turn:127.0.0.1:3478'], username: 'u', credential: 'p' }],
    iceTransportPolicy: 'relay',
  });
  const call = await fake.nextCall('createEngine');
  expect(call.args[1]).toMatchObject({ iceTransportPolicy: 'relay' });
  call.resolve();
  await pending;

  const bad = createEngine({
    signalingUrl: 'ws://127.0.0.1:7777/ws',
    displayName: 'Bob',
    iceTransportPolicy: 'nohost' as unknown as 'all',
  });
  await expect(bad).rejects.toMatchObject({ code: 'invalid_config' });
  expect(fake.pending).toBe(0);
});

test('the state getters ask the native engine and convert its answers', async () => {
  const { engine, engineId } = await started();
  const peers = engine.peers();
  const pc = await fake.nextCall('peers');
  expect(pc.args).toEqual([engineId]);
  pc.resolve([{ peerId: 'p1', name: 'Alice' }]);
  await expect(peers).resolves.toEqual([{ peerId: 'p1', name: 'Alice' }]);

  const connected = engine.connectedPeers();
  (await fake.nextCall('connectedPeers')).resolve(1);
  await expect(connected).resolves.toBe(1);

  const code = engine.roomCode();
  (await fake.nextCall('roomCode')).resolve('ABC-DEF-GHJ');
  await expect(code).resolves.toBe('ABC-DEF-GHJ');

  const id = engine.peerId();
  (await fake.nextCall('peerId')).resolve(null);
  await expect(id).resolves.toBeNull();

  const failing = engine.roomCode();
  (await fake.nextCall('roomCode')).reject(nativeRejection('shutdown', 'gone'));
  await expect(failing).rejects.toBeInstanceOf(PeerChatError);
});
