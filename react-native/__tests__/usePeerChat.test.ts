import { act, renderHook, waitFor } from '@testing-library/react-native';

import { usePeerChat } from '../src';
import { fakeNative, nativeRejection } from './support/fakeNativePeerChat';
import { ROOM_CODE, emptyRoom, messageFrom, roomWithAlice } from './support/fixtures';

const fake = fakeNative();
beforeEach(() => fake.reset());

const OPTIONS = { signalingUrl: 'ws://127.0.0.1:7777/ws', iceUdpAddrs: ['127.0.0.1:0'] };

function render() {
  return renderHook(() => usePeerChat(OPTIONS));
}

/** Drives the hook into a room it created; returns the engine id. */
async function createdRoom(result: ReturnType<typeof render>['result']): Promise<string> {
  let done!: Promise<unknown>;
  act(() => {
    done = result.current.createRoom('Bob');
  });
  const start = await fake.nextCall('createEngine');
  expect(start.args[1]).toMatchObject({ displayName: 'Bob', signalingUrl: OPTIONS.signalingUrl, iceUdpAddrs: ['127.0.0.1:0'] });
  const engineId = start.args[0];
  await act(async () => {
    start.resolve();
    fake.emit('onSignalingState', { engineId, state: 'connected' });
    (await fake.nextCall('createRoom')).resolve(emptyRoom());
    await done;
  });
  return engineId;
}

test('create room: state follows the calls and events, peers become chat-ready', async () => {
  const { result } = render();
  expect(result.current.phase).toBe('idle');
  expect(result.current.signalingState).toBeNull();

  const engineId = await createdRoom(result);
  expect(result.current.phase).toBe('in_room');
  expect(result.current.createdRoom).toBe(true);
  expect(result.current.room?.code).toBe(ROOM_CODE);
  expect(result.current.signalingState).toBe('connected');
  expect(result.current.chatReady).toBe(false);

  act(() => fake.emit('onPeerJoined', { engineId, peer: { peerId: 'p-alice', name: 'Alice' } }));
  expect(result.current.peers).toEqual([{ peerId: 'p-alice', name: 'Alice', state: 'connecting', interrupted: false }]);
  expect(result.current.timeline).toEqual([expect.objectContaining({ kind: 'notice', event: 'peer_joined', name: 'Alice' })]);

  act(() => fake.emit('onPeerState', { engineId, peerId: 'p-alice', state: 'connected' }));
  expect(result.current.chatReady).toBe(true);
});

test('messages, own and received, stay chronological with per-peer delivery status', async () => {
  const { result } = render();
  const engineId = await createdRoom(result);
  act(() => {
    fake.emit('onPeerJoined', { engineId, peer: { peerId: 'p-alice', name: 'Alice' } });
    fake.emit('onPeerState', { engineId, peerId: 'p-alice', state: 'connected' });
    fake.emit('onMessage', { engineId, message: messageFrom('p-alice', 'Alice', 'hello', 1) });
  });

  let sent!: Promise<boolean>;
  act(() => {
    sent = result.current.sendMessage('hi Alice');
  });
  const send = await fake.nextCall('sendMessage');
  expect(send.args).toEqual([engineId, 'hi Alice']);
  await act(async () => {
    // The status can overtake the promise: both come from native threads.
    fake.emit('onMessageStatus', { engineId, messageId: 'own-1', peerId: 'p-alice', status: 'sent' });
    send.resolve('own-1');
    expect(await sent).toBe(true);
  });
  let own = result.current.messages.find((m) => m.id === 'own-1');
  expect(own).toMatchObject({ own: true, senderName: 'Bob', text: 'hi Alice', status: 'sent', deliveries: { 'p-alice': 'sent' } });

  act(() => {
    fake.emit('onMessage', { engineId, message: messageFrom('p-alice', 'Alice', 'how are you?', 2) });
    fake.emit('onMessageStatus', { engineId, messageId: 'own-1', peerId: 'p-alice', status: 'delivered' });
    // A late `sent` never takes back `delivered`.
    fake.emit('onMessageStatus', { engineId, messageId: 'own-1', peerId: 'p-alice', status: 'sent' });
    // The engine delivers each message once; a repeat is not shown twice.
    fake.emit('onMessage', { engineId, message: messageFrom('p-alice', 'Alice', 'how are you?', 2) });
  });
  own = result.current.messages.find((m) => m.id === 'own-1');
  expect(own?.status).toBe('delivered');
  expect(result.current.messages.map((m) => `${m.own ? 'me' : m.senderName}: ${m.text}`)).toEqual([
    'Alice: hello',
    'me: hi Alice',
    'Alice: how are you?',
  ]);
});

test('a refused send keeps the timeline and reports the error code', async () => {
  const { result } = render();
  await createdRoom(result);
  let sent!: Promise<boolean>;
  act(() => {
    sent = result.current.sendMessage('anyone?');
  });
  await act(async () => {
    (await fake.nextCall('sendMessage')).reject(nativeRejection('no_connected_peer', 'no peer is connected'));
    expect(await sent).toBe(false);
  });
  expect(result.current.messages).toEqual([]);
  expect(result.current.error?.code).toBe('no_connected_peer');
});

test.each([
  ['room_full', nativeRejection('server', 'server refused: room is full (room_full)', 'room_full'), 'server', 'room_full'],
  ['room_not_found', nativeRejection('server', 'server refused: no such room (room_not_found)', 'room_not_found'), 'server', 'room_not_found'],
  ['invalid code', nativeRejection('invalid_room_code', 'invalid room code: expected 9 symbols, found 3'), 'invalid_room_code', undefined],
])('join refused (%s): back to idle with the typed error', async (_name, rejection, code, serverCode) => {
  const { result } = render();
  let joined!: Promise<unknown>;
  act(() => {
    joined = result.current.joinRoom('Bob', 'zzz');
  });
  await act(async () => {
    (await fake.nextCall('createEngine')).resolve();
    const join = await fake.nextCall('joinRoom');
    expect(join.args[1]).toBe('zzz');
    join.reject(rejection);
    expect(await joined).toBeNull();
  });
  expect(result.current.phase).toBe('idle');
  expect(result.current.room).toBeNull();
  expect(result.current.error).toMatchObject({ code, serverCode });
});

test('join lists the members already present; a peer leaving adds a notice', async () => {
  const { result } = render();
  let joined!: Promise<unknown>;
  act(() => {
    joined = result.current.joinRoom('Bob', 'abcdefghj');
  });
  const start = await fake.nextCall('createEngine');
  const engineId = start.args[0];
  await act(async () => {
    start.resolve();
    (await fake.nextCall('joinRoom')).resolve(roomWithAlice());
    await joined;
  });
  expect(result.current.createdRoom).toBe(false);
  expect(result.current.peers).toEqual([{ peerId: 'p-alice', name: 'Alice', state: 'connecting', interrupted: false }]);
  act(() => fake.emit('onPeerLeft', { engineId, peerId: 'p-alice', reason: 'disconnected' }));
  expect(result.current.peers).toEqual([]);
  expect(result.current.timeline).toEqual([
    expect.objectContaining({ kind: 'notice', event: 'peer_disconnected', name: 'Alice' }),
  ]);
});

test('leave then rejoin reuses the engine and starts with an empty timeline', async () => {
  const { result } = render();
  const engineId = await createdRoom(result);
  act(() => fake.emit('onMessage', { engineId, message: messageFrom('p-alice', 'Alice', 'old', 1) }));
  expect(result.current.messages).toHaveLength(1);

  let left!: Promise<void>;
  act(() => {
    left = result.current.leaveRoom();
  });
  expect(result.current.phase).toBe('leaving');
  await act(async () => {
    (await fake.nextCall('leaveRoom')).resolve();
    await left;
  });
  expect(result.current).toMatchObject({ phase: 'idle', room: null, peers: [], timeline: [] });
  // A late event of the old room is not shown.
  act(() => fake.emit('onMessage', { engineId, message: messageFrom('p-alice', 'Alice', 'late', 2) }));
  expect(result.current.messages).toEqual([]);

  let rejoined!: Promise<unknown>;
  act(() => {
    rejoined = result.current.joinRoom('Bob', ROOM_CODE);
  });
  await act(async () => {
    const join = await fake.nextCall('joinRoom');
    expect(join.args[0]).toBe(engineId);
    join.resolve(roomWithAlice());
    await rejoined;
  });
  expect(result.current.phase).toBe('in_room');
  expect(result.current.peers.map((p) => p.name)).toEqual(['Alice']);
  expect(fake.log.filter((c) => c.method === 'createEngine')).toHaveLength(1);
});

test('a failed leave drops the engine; the next join starts a new one', async () => {
  const { result } = render();
  const first = await createdRoom(result);
  let left!: Promise<void>;
  act(() => {
    left = result.current.leaveRoom();
  });
  await act(async () => {
    (await fake.nextCall('leaveRoom')).reject(nativeRejection('timeout', 'leave_room timed out after 10000 ms'));
    await left;
  });
  expect(result.current.room).toBeNull();
  expect(result.current.error?.code).toBe('timeout');
  expect(fake.destroyed).toEqual([first]);
  act(() => {
    void result.current.joinRoom('Bob', ROOM_CODE);
  });
  const again = await fake.nextCall('createEngine');
  expect(again.args[0]).not.toBe(first);
  await act(async () => again.resolve());
});

test('a new display name starts a new engine; unmount destroys it', async () => {
  const { result, unmount } = render();
  const first = await createdRoom(result);
  let left!: Promise<void>;
  act(() => {
    left = result.current.leaveRoom();
  });
  await act(async () => {
    (await fake.nextCall('leaveRoom')).resolve();
    await left;
  });
  act(() => {
    void result.current.createRoom('Robert');
  });
  const second = await fake.nextCall('createEngine');
  expect(second.args[1].displayName).toBe('Robert');
  expect(fake.destroyed).toEqual([first]);
  await act(async () => second.resolve());
  await waitFor(() => expect(fake.pending).toBe(1));
  unmount();
  expect(fake.destroyed).toEqual([first, second.args[0]]);
});

test('engine errors outside a call are surfaced and can be cleared', async () => {
  const { result } = render();
  const engineId = await createdRoom(result);
  act(() => fake.emit('onError', { engineId, code: 'web_rtc', message: 'WebRTC with peer p-alice: dtls failed' }));
  expect(result.current.error).toMatchObject({ code: 'web_rtc', message: expect.stringContaining('dtls') });
  act(() => result.current.clearError());
  expect(result.current.error).toBeNull();
});

test('signaling lost: reconnecting with attempt and next retry, then connected; the room and chat stay', async () => {
  const { result } = render();
  const engineId = await createdRoom(result);
  act(() => {
    fake.emit('onPeerJoined', { engineId, peer: { peerId: 'p-alice', name: 'Alice' } });
    fake.emit('onPeerState', { engineId, peerId: 'p-alice', state: 'connected' });
  });
  expect(result.current.reconnect).toBeNull();

  act(() => fake.emit('onSignalingState', { engineId, state: 'reconnecting', attempt: 1, nextRetryMs: 180 }));
  expect(result.current.signalingState).toBe('reconnecting');
  expect(result.current.reconnect).toEqual({ attempt: 1, nextRetryMs: 180 });
  act(() => fake.emit('onSignalingState', { engineId, state: 'reconnecting', attempt: 2, nextRetryMs: 430 }));
  expect(result.current.reconnect).toEqual({ attempt: 2, nextRetryMs: 430 });
  // Nothing of the room is lost meanwhile, and the data channel still carries messages.
  expect(result.current.phase).toBe('in_room');
  expect(result.current.room?.code).toBe(ROOM_CODE);
  expect(result.current.chatReady).toBe(true);
  act(() => fake.emit('onMessage', { engineId, message: messageFrom('p-alice', 'Alice', 'still here', 1) }));
  expect(result.current.messages.map((m) => m.text)).toEqual(['still here']);

  act(() => fake.emit('onSignalingState', { engineId, state: 'connected' }));
  expect(result.current.signalingState).toBe('connected');
  expect(result.current.reconnect).toBeNull();
  expect(result.current.peers).toEqual([{ peerId: 'p-alice', name: 'Alice', state: 'connected', interrupted: false }]);
});

test('a reconnecting event without its attempt is reported as a native error, not half-applied', async () => {
  const { result } = render();
  const engineId = await createdRoom(result);
  act(() => fake.emit('onSignalingState', { engineId, state: 'reconnecting' }));
  expect(result.current.signalingState).toBe('connected');
  expect(result.current.error).toMatchObject({ code: 'native' });
});

test('a peer interrupted, then back: flagged meanwhile, one notice each, chat goes on', async () => {
  const { result } = render();
  const engineId = await createdRoom(result);
  act(() => {
    fake.emit('onPeerJoined', { engineId, peer: { peerId: 'p-alice', name: 'Alice' } });
    fake.emit('onPeerState', { engineId, peerId: 'p-alice', state: 'connected' });
  });
  act(() => fake.emit('onPeerInterrupted', { engineId, peerId: 'p-alice' }));
  expect(result.current.peers).toEqual([{ peerId: 'p-alice', name: 'Alice', state: 'connected', interrupted: true }]);
  expect(result.current.chatReady).toBe(true);
  // A repeated event adds nothing.
  act(() => fake.emit('onPeerInterrupted', { engineId, peerId: 'p-alice' }));
  act(() => fake.emit('onPeerResumed', { engineId, peerId: 'p-alice' }));
  expect(result.current.peers[0]?.interrupted).toBe(false);
  expect(result.current.timeline.map((i) => (i.kind === 'notice' ? i.event : i.kind))).toEqual([
    'peer_joined',
    'peer_interrupted',
    'peer_resumed',
  ]);
  // An event for a peer not in the room is ignored.
  act(() => fake.emit('onPeerResumed', { engineId, peerId: 'p-nobody' }));
  expect(result.current.timeline).toHaveLength(3);
});

test('an interrupted peer that never comes back leaves with reason timeout', async () => {
  const { result } = render();
  const engineId = await createdRoom(result);
  act(() => {
    fake.emit('onPeerJoined', { engineId, peer: { peerId: 'p-alice', name: 'Alice' } });
    fake.emit('onPeerInterrupted', { engineId, peerId: 'p-alice' });
    fake.emit('onPeerLeft', { engineId, peerId: 'p-alice', reason: 'timeout' });
  });
  expect(result.current.peers).toEqual([]);
  expect(result.current.timeline.at(-1)).toEqual(
    expect.objectContaining({ kind: 'notice', event: 'peer_timed_out', name: 'Alice' }),
  );
});

/** The `change` listeners the hook attached to (the jest preset's mock of) `AppState`. */
function appStateListeners(): Array<(state: string) => void> {
  const { AppState } = jest.requireActual<typeof import('react-native')>('react-native');
  const add = AppState.addEventListener as unknown as jest.Mock;
  return add.mock.calls.filter((c) => c[0] === 'change').map((c) => c[1] as (state: string) => void);
}

function lifecycleCalls(): Array<{ method: string; args: unknown[] }> {
  return fake.log.filter((c) => ['pauseEngine', 'resumeEngine', 'networkChanged'].includes(c.method));
}

test('AppState drives the engine: background pauses, active resumes, inactive is ignored', async () => {
  const before = appStateListeners().length;
  const { result } = render();
  const engineId = await createdRoom(result);
  const listeners = appStateListeners().slice(before);
  expect(listeners).toHaveLength(1);
  const change = listeners[0]!;
  act(() => {
    change('inactive');
    change('background');
    change('active');
  });
  expect(lifecycleCalls()).toEqual([
    { method: 'pauseEngine', args: [engineId] },
    { method: 'resumeEngine', args: [engineId] },
  ]);
});

test('followAppState: false leaves the lifecycle to the app and is not sent as engine config', async () => {
  const before = appStateListeners().length;
  const { result } = renderHook(() => usePeerChat({ ...OPTIONS, followAppState: false }));
  let done!: Promise<unknown>;
  act(() => {
    done = result.current.createRoom('Bob');
  });
  const start = await fake.nextCall('createEngine');
  expect(start.args[1]).not.toHaveProperty('followAppState');
  await act(async () => {
    start.resolve();
    (await fake.nextCall('createRoom')).resolve(emptyRoom());
    await done;
  });
  expect(appStateListeners().slice(before)).toHaveLength(0);
  expect(lifecycleCalls()).toEqual([]);
});
