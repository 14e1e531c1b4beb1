// Signaling that comes back (protocol version 2 sessions), Chromium with the Rust engine (the
// `peerchat` CLI): the server process is SIGKILLed mid-chat and a new one started on the same
// port (fresh sessions: `session_not_found`, the `peer_id` frame, `rejoin_room`), and a page's
// WebSocket is cut while the server stays (`resume`: same peer id, `peer_interrupted` /
// `peer_resumed` at the others). Chat goes on over the data channels throughout.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { ChatPage } from '../support/browser.mjs';
import { CliPeer } from '../support/cli.mjs';
import { NET_MODE } from '../support/env.mjs';
import { stopAll } from '../support/processes.mjs';
import { startServer } from '../support/server.mjs';

/** Backoff cap (ms) of reconnection `attempt` (signaling.js, as the engine). */
const capOf = (attempt) => Math.min(5_000, 250 * 2 ** (attempt - 1));

/** Waits for `count` `* chat ready with …` lines of `peer` (ids or names). */
async function waitReadyLines(peer, count) {
  let from = 0;
  for (let i = 0; i < count; i++) {
    const { index } = await peer.proc.waitForLine(/^\* chat ready with /, { from });
    from = index + 1;
  }
}

describe(`signaling that comes back (${NET_MODE})`, () => {
  const pages = [];
  const open = async (baseUrl, label) => {
    const p = await ChatPage.open(baseUrl, label);
    pages.push(p);
    return p;
  };
  after(async () => {
    await Promise.all(pages.map((p) => p.close(`reconnect-${NET_MODE}`)));
    await stopAll();
  });

  test('server killed and restarted on the same port mid-chat: chat goes on, both back in the room', async (t) => {
    const args = ['--room-capacity', '3'];
    let server = await startServer(args);
    const ada = await open(server.baseUrl, 'ada-restart');
    const code = await ada.createRoom('Ada');
    const rust = await CliPeer.join('Rusty', code, server.wsUrl);
    await rust.waitReady('Ada', { nameOrId: true });
    await ada.waitConnected('Rusty');
    await ada.send('before the crash');
    await rust.waitMessage('Ada', 'before the crash');
    const oldId = await ada.peerId();
    await ada.recordStates();

    // The server dies without a word (no close frames).
    const port = server.port;
    await server.proc.kill();
    await ada.waitServerState('reconnecting');
    assert.equal((await ada.byId('server-state').textContent()).trim(), 'Reconnecting…');
    await ada.waitForNotice('Lost the connection to the server; reconnecting…');
    const lost = await rust.proc.waitForLine(/^\* signaling lost, reconnecting \(attempt \d+, next try in \d+ ms\)$/);
    if (NET_MODE === 'loopback') await ada.screenshot('reconnecting');

    // The data channel does not need the server, in either direction.
    await ada.send('while the server is down');
    await rust.waitMessage('Ada', 'while the server is down');
    await ada.waitDelivered('while the server is down');
    const downId = await rust.send('rust while the server is down');
    await ada.waitForMessage('rust while the server is down');
    await rust.waitDelivered(downId, 'Ada');

    // A new server process on the same port knows no session: both start fresh sessions,
    // announce their new ids on the data channel and re-enter the room by its code.
    server = await startServer(args, { port });
    const listeningAt = Date.now();
    await Promise.all([
      ada.waitServerState('open'),
      rust.proc.waitForLine(/^\* signaling reconnected$/, { from: lost.index }),
    ]);
    t.diagnostic(`both back ${Date.now() - listeningAt} ms after the new server listened`);
    await ada.waitForNotice(`Back online in room ${code}.`);
    const states = await ada.recordedStates();
    const retries = states.filter((s) => s.state === 'reconnecting');
    assert.ok(retries.length >= 1, JSON.stringify(states));
    assert.deepEqual(retries.map((s) => s.attempt), retries.map((_, i) => i + 1), JSON.stringify(states));
    assert.ok(retries.every((s) => s.nextRetryMs >= 0 && s.nextRetryMs <= capOf(s.attempt)), JSON.stringify(states));
    assert.equal(states[0].state, 'reconnecting');
    assert.equal(states.at(-1).state, 'open');
    assert.notEqual(await ada.peerId(), oldId, 'a restarted server cannot resume: a new session');

    // The chat goes on both ways, delivered.
    await ada.send('after the restart');
    await rust.waitMessage('Ada', 'after the restart');
    await ada.waitDelivered('after the restart');
    const afterId = await rust.send('rust after the restart');
    await ada.waitForMessage('rust after the restart');
    await rust.waitDelivered(afterId, 'Ada');

    // Both are in the room on the new server: a newcomer finds and reaches both.
    const cleo = await CliPeer.join('Cleo', code, server.wsUrl);
    await waitReadyLines(cleo, 2);
    await ada.waitForNotice('Cleo joined.');
    await ada.waitConnected('Cleo');
    await rust.proc.waitForLine(/^\* peer joined: Cleo$/);
    await cleo.send('hello you two');
    await ada.waitForMessage('hello you two');
    await rust.waitMessage('Cleo', 'hello you two');

    // Nothing lost, nothing twice, nobody left, no duplicate peer.
    assert.deepEqual(rust.received().filter((m) => m.from === 'Ada').map((m) => m.text),
      ['before the crash', 'while the server is down', 'after the restart']);
    assert.deepEqual((await ada.messages()).filter((m) => !m.mine).map((m) => m.text),
      ['rust while the server is down', 'rust after the restart', 'hello you two']);
    assert.equal(rust.proc.lines.filter((l) => l.startsWith('* peer left')).length, 0, rust.proc.describe());
    assert.equal((await ada.notices()).filter((n) => / left| disconnected/.test(n)).length, 0, (await ada.notices()).join('\n'));
    const peerList = await ada.byId('peer-list').textContent();
    assert.equal(peerList, 'With Rusty (connected), Cleo (connected)');
    assert.deepEqual(rust.errors(), []);
    if (NET_MODE === 'loopback') await ada.screenshot('reconnected-after-restart');

    // The engine knows Ada by her new peer id (from her `peer_id` frame), so her leaving on
    // the new server reaches it as the same peer, never seen as a second "Ada".
    await ada.leave();
    await rust.waitPeerLeft('Ada', 'left');
    assert.deepEqual(rust.proc.lines.filter((l) => l.startsWith('* peer joined: Ada')), [], rust.proc.describe());
  });

  test('a page reload resumes the session: same peer id, back in the room, new connection to the engine', async () => {
    const server = await startServer();
    const ada = await open(server.baseUrl, 'ada-reload');
    const code = await ada.createRoom('Ada');
    const rust = await CliPeer.join('Rusty', code, server.wsUrl);
    await rust.waitReady('Ada', { nameOrId: true });
    await ada.waitConnected('Rusty');
    await ada.send('before the reload');
    await rust.waitMessage('Ada', 'before the reload');
    const adaId = await ada.peerId();

    // The old page closes its WebSocket with 1001 (going away), not 1000: the server keeps the
    // session, and the new page resumes it with the token kept in sessionStorage.
    const from = rust.proc.lines.length;
    await ada.page.reload();
    await ada.byId('chat-view').waitFor();
    await ada.waitForNotice(`You are back in room ${code}.`);
    assert.equal(await ada.peerId(), adaId, 'same session, same peer id');
    assert.equal((await ada.byId('room-code').textContent()).trim(), code);
    await rust.proc.waitForLine(/^\* peer interrupted: Ada$/, { from });
    await rust.proc.waitForLine(/^\* peer resumed: Ada$/, { from });
    // The old page's RTCPeerConnection died with it: the new page offers a new one.
    await ada.waitConnected('Rusty');
    await rust.proc.waitForLine(/^\* chat ready with (Ada|[0-9a-f]{32})$/, { from });

    await ada.send('after the reload');
    await rust.waitMessage('Ada', 'after the reload');
    await ada.waitDelivered('after the reload');
    const id = await rust.send('welcome back');
    await ada.waitForMessage('welcome back');
    await rust.waitDelivered(id, 'Ada');
    assert.deepEqual(rust.received().map((m) => m.text), ['before the reload', 'after the reload']);
    assert.equal(rust.proc.lines.filter((l) => l.startsWith('* peer left')).length, 0, rust.proc.describe());
  });

  test('a page\'s WebSocket is cut, the server stays: the session resumes with the same peer id', async () => {
    const server = await startServer(['--room-capacity', '3']);
    const ada = await open(server.baseUrl, 'ada-resume');
    const bea = await open(server.baseUrl, 'bea-resume');
    const code = await ada.createRoom('Ada');
    await bea.joinRoom('Bea', code);
    const rust = await CliPeer.join('Rusty', code, server.wsUrl);
    await waitReadyLines(rust, 2);
    await ada.waitConnected('Bea');
    await ada.waitConnected('Rusty');
    await bea.waitConnected('Rusty');
    const adaId = await ada.peerId();
    await ada.recordStates();

    // Not a clean close (code 4000, not 1000): the server keeps Ada's session for its grace
    // period and tells the others she is interrupted; her client dials again and resumes.
    await ada.page.evaluate(() => window.peerchat.signaling.ws.close(4000, 'test cut'));
    await rust.proc.waitForLine(/^\* peer interrupted: Ada$/);
    await rust.proc.waitForLine(/^\* peer resumed: Ada$/);
    await bea.waitForNotice('Ada lost the connection to the server; your chat goes on meanwhile.');
    await bea.waitForNotice('Ada is back.');
    await ada.waitServerState('open');
    assert.equal(await ada.peerId(), adaId, 'same session, same peer id');
    const states = await ada.recordedStates();
    assert.deepEqual(states.map((s) => s.state), ['reconnecting', 'open'], JSON.stringify(states));
    assert.equal(states[0].attempt, 1);
    assert.ok(states[0].nextRetryMs <= capOf(1), JSON.stringify(states));
    assert.equal(await bea.byId('peer-list').textContent(), 'With Ada (connected), Rusty (connected)');

    // The chat goes on, and the resumed session still relays: Ada's room seat is hers.
    await ada.send('still here');
    await bea.waitForMessage('still here');
    await rust.waitMessage('Ada', 'still here');
    await ada.waitDelivered('still here');
    const id = await rust.send('welcome back');
    await ada.waitForMessage('welcome back');
    await rust.waitDelivered(id, 'Ada');
    await ada.leave();
    await rust.waitPeerLeft('Ada', 'left');
    await bea.waitForNotice('Ada left.');
    assert.equal(rust.proc.lines.filter((l) => l.startsWith('* peer left')).length, 1, rust.proc.describe());
    assert.equal((await bea.notices()).filter((n) => n.includes(' left') || n.includes(' disconnected')).length, 1);
    assert.deepEqual(rust.errors(), []);
  });
});
