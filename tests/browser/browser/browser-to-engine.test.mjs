// Chromium ↔ the Rust engine (the `peerchat` CLI over stdin/stdout), in both roles, through
// `peerchat serve`. Same chat frames on the data channel, same signaling.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { assertCandidateMode } from '../support/candidates.mjs';
import { CliPeer } from '../support/cli.mjs';
import { NET_MODE } from '../support/env.mjs';
import { serverAndPages } from '../support/fixture.mjs';

/** Messages per direction in the ordering check. */
const BURST = 30;

describe(`browser ↔ Rust engine (${NET_MODE})`, () => {
  const fixture = serverAndPages(`b2e-${NET_MODE}`);
  const open = fixture.open;

  test('browser creates the room, engine joins: messages both ways, delivered, order, peer left', async (t) => {
    const ada = await open('ada');
    const code = await ada.createRoom('Ada');
    const rust = await CliPeer.join('Rusty', code, fixture.server().wsUrl);
    await ada.waitForNotice('Rusty joined.');
    await rust.waitReady('Ada', { nameOrId: true });
    await ada.waitConnected('Rusty');

    // Browser → engine, with the engine's acks shown as delivered marks.
    await ada.send('hello from chromium');
    await rust.waitMessage('Ada', 'hello from chromium');
    await ada.waitDelivered('hello from chromium');

    // Engine → browser, with the browser's acks reaching the engine.
    const id = await rust.send('hello from rust');
    await ada.waitForMessage('hello from rust');
    await rust.waitDelivered(id, 'Ada');
    const shown = await ada.page.locator('[data-testid="message"][data-mine="false"]').first().getAttribute('data-id');
    assert.equal(shown, id, 'the browser shows the id the engine gave the message');

    // Order, both directions.
    const fromAda = Array.from({ length: BURST }, (_, i) => `a${i + 1}`);
    const fromRust = Array.from({ length: BURST }, (_, i) => `r${i + 1}`);
    for (const text of fromAda) await ada.send(text);
    const rustIds = [];
    for (const text of fromRust) rustIds.push(await rust.send(text));
    await rust.waitMessage('Ada', fromAda.at(-1));
    await ada.waitForMessage(fromRust.at(-1));
    for (const text of fromAda) await ada.waitDelivered(text);
    for (const mid of rustIds) await rust.waitDelivered(mid, 'Ada');
    assert.deepEqual(rust.received().map((m) => m.text), ['hello from chromium', ...fromAda]);
    assert.ok(rust.received().every((m) => m.from === 'Ada'));
    const theirs = (await ada.messages()).filter((m) => !m.mine);
    assert.deepEqual(theirs.map((m) => m.text), ['hello from rust', ...fromRust]);
    assert.ok(theirs.every((m) => m.sender === 'Rusty'));
    assert.deepEqual(rust.errors(), []);
    if (NET_MODE === 'loopback') await ada.screenshot('chat-with-engine');
    const link = await assertCandidateMode(ada);
    t.diagnostic(`selected pair: ${JSON.stringify(link.selectedPair)}; engine candidates: ${JSON.stringify(link.remoteCandidates)}`);

    const exit = await rust.leave();
    assert.equal(exit.code, 0, rust.proc.describe());
    await ada.waitForNotice('Rusty left.');
    assert.equal(await ada.byId('peer-list').textContent(), 'Waiting for someone to join…');
  });

  test('engine creates the room, browser joins (and sends the offer): chat, then the browser leaves', async () => {
    const rust = await CliPeer.create('Ferris', fixture.server().wsUrl);
    const bea = await open('bea');
    await bea.joinRoom('Bea', rust.code);
    await rust.proc.waitForLine(/^\* peer joined: Bea$/);
    await rust.waitReady('Bea');
    await bea.waitConnected('Ferris');

    const id1 = await rust.send('welcome, Bea');
    await bea.waitForMessage('welcome, Bea');
    await rust.waitDelivered(id1, 'Bea');
    await bea.send('thanks, Ferris');
    await rust.waitMessage('Bea', 'thanks, Ferris');
    await bea.waitDelivered('thanks, Ferris');
    const id2 = await rust.send('über ✓ 😀 "quoted" \\ back');
    await bea.waitForMessage('über ✓ 😀 "quoted" \\ back');
    await rust.waitDelivered(id2, 'Bea');

    const log = await bea.messages();
    assert.deepEqual(log.map((m) => [m.mine, m.sender, m.text, m.status]), [
      [false, 'Ferris', 'welcome, Bea', null],
      [true, 'Bea (you)', 'thanks, Ferris', '✓ Delivered'],
      [false, 'Ferris', 'über ✓ 😀 "quoted" \\ back', null],
    ]);
    await assertCandidateMode(bea);

    await bea.leave();
    await rust.waitPeerLeft('Bea', 'left');
    assert.deepEqual(rust.errors(), []);
    assert.equal((await rust.leave()).code, 0);
  });

  test('the engine resolves Chromium\'s mDNS candidates (Chromium never sees the engine\'s)', { skip: NET_MODE !== 'mdns' && 'needs the mdns namespace' }, async (t) => {
    const rust = await CliPeer.create('Ferris', fixture.server().wsUrl);
    const cleo = await open('cleo', { hideRemoteCandidates: true });
    await cleo.joinRoom('Cleo', rust.code);
    await rust.waitReady('Cleo');
    await cleo.waitConnected('Ferris');
    const link = await assertCandidateMode(cleo);
    assert.deepEqual(link.remoteCandidates, [], 'the page saw none of the engine\'s candidates');
    assert.ok(cleo.hiddenCandidates > 0, 'the engine did send candidates, which were hidden');
    assert.equal(link.selectedPair.remote.type, 'prflx', 'Chromium learnt the engine\'s address from its checks');
    t.diagnostic(`hidden: ${cleo.hiddenCandidates}; selected pair: ${JSON.stringify(link.selectedPair)}`);

    const id = await rust.send('resolved your .local name');
    await cleo.waitForMessage('resolved your .local name');
    await rust.waitDelivered(id, 'Cleo');
    await cleo.send('and the data channel works');
    await rust.waitMessage('Cleo', 'and the data channel works');
    await cleo.waitDelivered('and the data channel works');
    assert.equal((await rust.leave()).code, 0);
    await cleo.waitForNotice('Ferris left.');
  });
});
