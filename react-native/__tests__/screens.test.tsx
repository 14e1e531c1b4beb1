import { act, fireEvent, render, screen, waitFor } from '@testing-library/react-native';
import { Share } from 'react-native';

import App from '../example/App';
import { fakeNative, nativeRejection } from './support/fakeNativePeerChat';
import { ROOM_CODE, emptyRoom, messageFrom, roomWithAlice } from './support/fixtures';

const fake = fakeNative();
const SERVER = 'ws://127.0.0.1:7777/ws';
beforeEach(() => fake.reset());

function renderApp() {
  return render(<App initialServerUrl={SERVER} />);
}

/** Types a name and presses Create; the double answers; returns the engine id. */
async function createRoomAs(name: string): Promise<string> {
  fireEvent.changeText(screen.getByTestId('display-name'), name);
  fireEvent.press(screen.getByTestId('create-room'));
  const start = await fake.nextCall('createEngine');
  expect(start.args[1]).toMatchObject({ signalingUrl: SERVER, displayName: name });
  await act(async () => {
    start.resolve();
    (await fake.nextCall('createRoom')).resolve(emptyRoom());
  });
  return start.args[0];
}

/** Types a name and code and presses Join; returns the pending joinRoom call. */
async function pressJoin(name: string, code: string) {
  fireEvent.changeText(screen.getByTestId('display-name'), name);
  fireEvent.changeText(screen.getByTestId('room-code-input'), code);
  fireEvent.press(screen.getByTestId('join-room'));
  const start = await fake.nextCall('createEngine');
  await act(async () => start.resolve());
  const join = await fake.nextCall('joinRoom');
  expect(join.args[1]).toBe(code);
  return { engineId: start.args[0], join };
}

test('Home: buttons stay disabled until a name (and, to join, a code) is typed', () => {
  renderApp();
  expect(screen.getByTestId('create-room')).toBeDisabled();
  expect(screen.getByTestId('join-room')).toBeDisabled();
  fireEvent.changeText(screen.getByTestId('display-name'), 'Bob');
  expect(screen.getByTestId('create-room')).toBeEnabled();
  expect(screen.getByTestId('join-room')).toBeDisabled();
  fireEvent.changeText(screen.getByTestId('room-code-input'), 'abc');
  expect(screen.getByTestId('join-room')).toBeEnabled();
});

test('Home: the server address typed is the one the engine gets', async () => {
  renderApp();
  fireEvent.changeText(screen.getByTestId('server-url'), ' ws://10.0.2.2:9000/ws ');
  fireEvent.changeText(screen.getByTestId('display-name'), 'Bob');
  fireEvent.press(screen.getByTestId('create-room'));
  const start = await fake.nextCall('createEngine');
  expect(start.args[1].signalingUrl).toBe('ws://10.0.2.2:9000/ws');
  await act(async () => start.reject(nativeRejection('signaling', 'signaling: connection refused')));
  await act(async () => {});
});

test('Create room shows the code to share, waits, and opens Chat when the peer joins', async () => {
  const share = jest.spyOn(Share, 'share').mockResolvedValue({ action: 'sharedAction', activityType: undefined });
  renderApp();
  const engineId = await createRoomAs('Bob');
  expect(screen.getByTestId('room-code')).toHaveTextContent(ROOM_CODE);
  expect(screen.getByText('Waiting for someone to join…')).toBeOnTheScreen();
  fireEvent.press(screen.getByTestId('share-code'));
  expect(share).toHaveBeenCalledWith({ message: `Join my peerchat room: ${ROOM_CODE}` });

  act(() => fake.emit('onPeerJoined', { engineId, peer: { peerId: 'p-alice', name: 'Alice' } }));
  expect(screen.getByTestId('chat')).toBeOnTheScreen();
  expect(screen.getByText('Alice joined')).toBeOnTheScreen();
  expect(screen.getByTestId('peer-line')).toHaveTextContent('Alice · connecting');
  act(() => fake.emit('onPeerState', { engineId, peerId: 'p-alice', state: 'connected' }));
  expect(screen.getByTestId('peer-line')).toHaveTextContent('Alice · connected');
});

test('Cancel while waiting leaves the room and returns to the form', async () => {
  renderApp();
  await createRoomAs('Bob');
  fireEvent.press(screen.getByTestId('cancel-room'));
  await act(async () => (await fake.nextCall('leaveRoom')).resolve());
  expect(screen.getByTestId('home')).toBeOnTheScreen();
});

test('Chat: send, receive in order, delivered marks, peer left notice, leave back to Home', async () => {
  renderApp();
  const engineId = await createRoomAs('Bob');
  act(() => {
    fake.emit('onPeerJoined', { engineId, peer: { peerId: 'p-alice', name: 'Alice' } });
    fake.emit('onMessage', { engineId, message: messageFrom('p-alice', 'Alice', 'hello Bob', 1) });
  });
  // Not chat-ready yet: Send is disabled even with text.
  fireEvent.changeText(screen.getByTestId('message-input'), 'hi Alice');
  expect(screen.getByTestId('send')).toBeDisabled();
  act(() => fake.emit('onPeerState', { engineId, peerId: 'p-alice', state: 'connected' }));
  expect(screen.getByTestId('send')).toBeEnabled();

  fireEvent.press(screen.getByTestId('send'));
  const send = await fake.nextCall('sendMessage');
  expect(send.args).toEqual([engineId, 'hi Alice']);
  await act(async () => send.resolve('own-1'));
  expect(screen.getByTestId('message-input')).toHaveProp('value', '');
  expect(screen.getByTestId('status-own-1')).toHaveTextContent('…');

  act(() => fake.emit('onMessageStatus', { engineId, messageId: 'own-1', peerId: 'p-alice', status: 'sent' }));
  expect(screen.getByTestId('status-own-1')).toHaveTextContent('✓');
  expect(screen.getByLabelText('sent')).toBeOnTheScreen();
  act(() => {
    fake.emit('onMessageStatus', { engineId, messageId: 'own-1', peerId: 'p-alice', status: 'delivered' });
    fake.emit('onMessage', { engineId, message: messageFrom('p-alice', 'Alice', 'got it', 2) });
  });
  expect(screen.getByTestId('status-own-1')).toHaveTextContent('✓✓');
  expect(screen.getByLabelText('delivered')).toBeOnTheScreen();

  const texts = screen.getAllByText(/^(hello Bob|hi Alice|got it|Alice joined)$/).map((n) => n.props.children);
  expect(texts).toEqual(['Alice joined', 'hello Bob', 'hi Alice', 'got it']);

  act(() => fake.emit('onPeerLeft', { engineId, peerId: 'p-alice', reason: 'left' }));
  expect(screen.getByText('Alice left')).toBeOnTheScreen();
  expect(screen.getByTestId('peer-line')).toHaveTextContent('Nobody else is here');
  expect(screen.getByTestId('send')).toBeDisabled();

  fireEvent.press(screen.getByTestId('leave'));
  await act(async () => (await fake.nextCall('leaveRoom')).resolve());
  expect(screen.getByTestId('home')).toBeOnTheScreen();
});

test('Chat: a refused send shows why and keeps the draft', async () => {
  renderApp();
  const engineId = await createRoomAs('Bob');
  act(() => {
    fake.emit('onPeerJoined', { engineId, peer: { peerId: 'p-alice', name: 'Alice' } });
    fake.emit('onPeerState', { engineId, peerId: 'p-alice', state: 'connected' });
  });
  fireEvent.changeText(screen.getByTestId('message-input'), 'x'.repeat(10));
  fireEvent.press(screen.getByTestId('send'));
  await act(async () =>
    (await fake.nextCall('sendMessage')).reject(nativeRejection('message_too_large', 'message is 70000 bytes, the limit is 65536 bytes')),
  );
  expect(screen.getByTestId('error')).toHaveTextContent('That message is too long.');
  expect(screen.getByTestId('message-input')).toHaveProp('value', 'x'.repeat(10));
});

test.each([
  ['room_full', nativeRejection('server', 'server refused: room is full (room_full)', 'room_full'), 'That room is full.'],
  [
    'room_not_found',
    nativeRejection('server', 'server refused: no such room (room_not_found)', 'room_not_found'),
    'No room has that code. Check the code, or create a new room.',
  ],
  [
    'invalid code',
    nativeRejection('invalid_room_code', 'invalid room code: expected 9 symbols, found 3'),
    'That is not a room code. Codes look like ABC-DEF-GHJ.',
  ],
  [
    'server down',
    nativeRejection('signaling', 'signaling: connection refused'),
    'Cannot reach the signaling server. Check the server address and that it is running.',
  ],
])('Join refused (%s) shows clear text and stays on Home', async (_name, rejection, text) => {
  renderApp();
  const { join } = await pressJoin('Bob', 'ZZZ');
  await act(async () => join.reject(rejection));
  expect(screen.getByTestId('error')).toHaveTextContent(text);
  expect(screen.getByTestId('home')).toBeOnTheScreen();
  expect(screen.getByTestId('join-room')).toBeEnabled();
});

test('Join goes straight to Chat, and after Leave the same engine can join again', async () => {
  renderApp();
  const { engineId, join } = await pressJoin('Bob', 'abc-def-ghj');
  await act(async () => join.resolve(roomWithAlice()));
  expect(screen.getByTestId('chat-room-code')).toHaveTextContent(`Room ${ROOM_CODE}`);
  expect(screen.getByTestId('peer-line')).toHaveTextContent('Alice · connecting');
  act(() => fake.emit('onMessage', { engineId, message: messageFrom('p-alice', 'Alice', 'first visit', 1) }));
  expect(screen.getByText('first visit')).toBeOnTheScreen();

  fireEvent.press(screen.getByTestId('leave'));
  await act(async () => (await fake.nextCall('leaveRoom')).resolve());
  expect(screen.getByTestId('home')).toBeOnTheScreen();

  // The form keeps the name and code: join again at once.
  fireEvent.press(screen.getByTestId('join-room'));
  const again = await fake.nextCall('joinRoom');
  expect(again.args).toEqual([engineId, 'abc-def-ghj']);
  await act(async () => again.resolve(roomWithAlice()));
  expect(screen.getByTestId('chat')).toBeOnTheScreen();
  expect(screen.queryByText('first visit')).toBeNull();
  await waitFor(() => expect(fake.log.filter((c) => c.method === 'createEngine')).toHaveLength(1));
});

test('Chat shows "Reconnecting…" while the engine dials again, and peer interrupted / back notices', async () => {
  renderApp();
  const engineId = await createRoomAs('Bob');
  act(() => {
    fake.emit('onPeerJoined', { engineId, peer: { peerId: 'p-alice', name: 'Alice' } });
    fake.emit('onPeerState', { engineId, peerId: 'p-alice', state: 'connected' });
  });
  expect(screen.queryByTestId('reconnecting')).toBeNull();
  act(() => fake.emit('onSignalingState', { engineId, state: 'reconnecting', attempt: 3, nextRetryMs: 1200 }));
  expect(screen.getByTestId('reconnecting')).toHaveTextContent('Reconnecting… (attempt 3, next try in 1.2 s)');
  expect(screen.getByTestId('send')).toBeDisabled(); // nothing typed yet
  fireEvent.changeText(screen.getByTestId('message-input'), 'are you there?');
  expect(screen.getByTestId('send')).toBeEnabled(); // the data channel does not need the server
  act(() => fake.emit('onSignalingState', { engineId, state: 'connected' }));
  expect(screen.queryByTestId('reconnecting')).toBeNull();

  act(() => fake.emit('onPeerInterrupted', { engineId, peerId: 'p-alice' }));
  expect(screen.getByText('Alice is interrupted (lost the server; chat goes on while connected)')).toBeOnTheScreen();
  expect(screen.getByTestId('peer-line')).toHaveTextContent('Alice · connected · interrupted');
  act(() => fake.emit('onPeerResumed', { engineId, peerId: 'p-alice' }));
  expect(screen.getByText('Alice is back')).toBeOnTheScreen();
  expect(screen.getByTestId('peer-line')).toHaveTextContent('Alice · connected');
  expect(screen.getByTestId('peer-line')).not.toHaveTextContent('interrupted');
});
